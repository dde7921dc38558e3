//! What residents ask the node: writes (acknowledged once on disk), reads, status.

use entraide_crdt::wire::Push;
use entraide_crdt::{DeviceId, LocalChange, PostId, SessionStats, Writer};
use libp2p::gossipsub;
use tracing::{debug, warn};

use super::{Actor, now};
use crate::community::Invite;
use crate::node::{Command, HostInfo, NodeError, NodeEvent, PeerInfo, Status, SyncTraffic, WhoAmI};

impl Actor {
    pub(super) fn handle_command(&mut self, command: Command) {
        let now = now();
        match command {
            Command::Post(draft, reply) => {
                let nonce: [u8; 8] = rand::random();
                let result = self
                    .board
                    .post_new(&self.writer, nonce, &draft, now)
                    .map_err(NodeError::from)
                    .and_then(|(id, change)| self.commit_local(change).map(|()| id));
                let _ = reply.send(result);
            }
            Command::Respond(post, message, reply) => {
                let result = self.resolve_post(&post).and_then(|id| {
                    let change = self.board.respond(&self.writer, id, &message, now)?;
                    self.commit_local(change).map(|()| id)
                });
                let _ = reply.send(result);
            }
            Command::Accept(post, helper, reply) => {
                let result = self.resolve_post(&post).and_then(|id| {
                    let helper = self.board.resolve_helper(id, &helper, now)?;
                    let change = self.board.accept(&self.writer, id, helper, now)?;
                    self.commit_local(change).map(|()| id)
                });
                let _ = reply.send(result);
            }
            Command::Done(post, reply) => {
                let result = self.resolve_post(&post).and_then(|id| {
                    let change = self.board.done(&self.writer, id, now)?;
                    self.commit_local(change).map(|()| id)
                });
                let _ = reply.send(result);
            }
            Command::Withdraw(post, reply) => {
                let result = self.resolve_post(&post).and_then(|id| {
                    let change = self.board.withdraw(&self.writer, id, now)?;
                    self.commit_local(change).map(|()| id)
                });
                let _ = reply.send(result);
            }
            Command::Thank(post, helper, message, reply) => {
                let result = self.resolve_post(&post).and_then(|id| {
                    let helper = self.board.resolve_helper(id, &helper, now)?;
                    let change = self.board.thank(&self.writer, id, helper, &message, now)?;
                    self.commit_local(change).map(|()| id)
                });
                let _ = reply.send(result);
            }
            Command::SetName(name, reply) => {
                let result = self
                    .board
                    .set_name(&self.writer, &name, now)
                    .map_err(NodeError::from)
                    .and_then(|change| self.commit_local(change));
                let _ = reply.send(result);
            }
            Command::Block(who, reason, reply) => {
                let _ = reply.send(self.block(&who, reason.as_deref()));
            }
            Command::Unblock(who, reply) => {
                let _ = reply.send(self.unblock(&who));
            }
            Command::Blocked(reply) => {
                let _ = reply.send(self.block_list());
            }
            Command::Message(post, to, text, reply) => {
                let _ = reply.send(self.send_message(&post, to.as_deref(), &text));
            }
            Command::Messages(post, reply) => {
                let _ = reply.send(self.read_messages(&post));
            }
            Command::DeleteMessages(post, reply) => {
                let _ = reply.send(self.delete_messages(&post));
            }
            Command::List(filter, reply) => {
                let mut posts = self.board.view(&self.reader_filter(*filter), now);
                self.hide_blocked_in(&mut posts);
                let _ = reply.send(posts);
            }
            Command::Page(filter, offset, limit, reply) => {
                let mut page = self
                    .board
                    .page(&self.reader_filter(*filter), now, offset, limit);
                self.hide_blocked_in(&mut page.posts);
                let _ = reply.send(page);
            }
            Command::Show(post, reply) => {
                let result = self
                    .resolve_post(&post)
                    .and_then(|id| self.board.post(id, now).ok_or(NodeError::NoSuchPost(post)))
                    .and_then(|view| self.shown_post(view));
                let _ = reply.send(result);
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.peer_infos());
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status(now));
            }
            Command::WhoAmI(reply) => {
                let author = self.writer.author();
                let owner = self.owner();
                let hosted = author != owner;
                let _ = reply.send(WhoAmI {
                    author,
                    fingerprint: author.fmt_short(),
                    name: self.board.name_of(&author),
                    community: self.profile.community.tag(),
                    peer_id: self.peer_id.to_string(),
                    identity_file: if hosted {
                        crate::residents::residents_dir(&self.config.data_dir)
                            .join(format!("{author}.key"))
                    } else {
                        self.config.data_dir.identity_path()
                    },
                    hosted_by: hosted.then(|| HostInfo {
                        author: owner,
                        name: self.board.name_of(&owner),
                        fingerprint: owner.fmt_short(),
                    }),
                    name_lookalikes: self.board.lookalikes(&author),
                    devices: self.devices(),
                });
            }
            Command::Invite(reply) => {
                let listen = self
                    .network
                    .as_ref()
                    .map(|n| n.listen_addrs.as_slice())
                    .unwrap_or_default();
                let invite = Invite::for_node(self.profile.community.clone(), listen)
                    .announcing(&self.config.announce);
                let _ = reply.send(invite.encode());
            }
            Command::Dial(address, reply) => {
                let _ = reply.send(self.dial(address, true));
            }
            Command::Care(command) => self.handle_care(command, now),
            Command::Resident(command) => self.handle_resident_command(command),
            Command::Device(command) => self.handle_device_command(command),
            Command::Steward(command) => self.handle_steward_command(command),
            Command::Export(reply) => {
                let (file, left_out) = self.board.export(now);
                if left_out > 0 {
                    warn!(
                        left_out,
                        "feeds over the record limit were left out of the export"
                    );
                }
                let _ = reply.send(file);
            }
            Command::Import(file, reply) => {
                let _ = reply.send(self.import(&file));
            }
            Command::DeclareAlert(draft, reply) => {
                let result = self
                    .board
                    .declare_alert(&self.writer, rand::random(), &draft, now)
                    .map_err(NodeError::from)
                    .and_then(|(id, change)| self.commit_local(change).map(|()| id));
                let _ = reply.send(result);
            }
            Command::EndAlert(typed, reply) => {
                let result = self
                    .board
                    .resolve_alert(&typed)
                    .map_err(NodeError::from)
                    .and_then(|id| {
                        let change = self.board.end_alert(&self.writer, id, now)?;
                        self.commit_local(change).map(|()| id)
                    });
                let _ = reply.send(result);
            }
            Command::Alerts(reply) => {
                let _ = reply.send(self.board.active_alerts(now));
            }
            Command::AddRound(draft, reply) => {
                let result = self
                    .board
                    .add_round(&self.writer, rand::random(), &draft, now)
                    .map_err(NodeError::from)
                    .and_then(|(id, change)| self.commit_local(change).map(|()| id));
                let _ = reply.send(result);
            }
            Command::SignUp(signup, reply) => {
                let offset = crate::clock::utc_offset(now);
                let date = signup
                    .date
                    .unwrap_or_else(|| entraide_crdt::LocalDate::of(now, offset));
                let result = self
                    .board
                    .resolve_round(&signup.round)
                    .map_err(NodeError::from)
                    .and_then(|id| {
                        let change =
                            self.board
                                .sign_up(&self.writer, id, date, signup.walk, now, offset)?;
                        self.commit_local(change).map(|()| (id, date))
                    });
                let _ = reply.send(result);
            }
            Command::Rounds(reply) => {
                let offset = crate::clock::utc_offset(now);
                let _ = reply.send(self.board.rounds(now, offset));
            }
            Command::AddSighting(draft, reply) => {
                let result = self
                    .board
                    .add_sighting(&self.writer, rand::random(), &draft, now)
                    .map_err(NodeError::from)
                    .and_then(|(id, change)| self.commit_local(change).map(|()| id));
                let _ = reply.send(result);
            }
            Command::SightingDone(typed, what, reply) => {
                let result = self
                    .board
                    .resolve_sighting(&typed)
                    .map_err(NodeError::from)
                    .and_then(|id| {
                        let change = self.board.sighting_done(&self.writer, id, &what, now)?;
                        self.commit_local(change).map(|()| id)
                    });
                let _ = reply.send(result);
            }
            Command::Sightings(reply) => {
                let _ = reply.send(self.board.sightings(now));
            }
        }
    }

    /// Imports a board file: each feed validated as a peer's would be, the valid ones
    /// applied and saved now.
    fn import(&mut self, file: &[u8]) -> crate::node::ImportReport {
        use entraide_crdt::board_file::BoardFileReader;
        let mut report = crate::node::ImportReport::default();
        let mut reader = match BoardFileReader::new(file) {
            Ok(r) => r,
            Err(e) => {
                report.file_error = Some(e.to_string());
                return report;
            }
        };
        report.made_at = Some(reader.made_at());
        while let Some(record) = reader.next_record() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    report.file_error = Some(e.to_string());
                    break;
                }
            };
            report.feeds += 1;
            match self
                .board
                .receive(record.feed, &record.data, &record.signed)
            {
                Ok(applied) => {
                    report.removed_device_changes += applied.refused;
                    if applied.refused > 0 {
                        self.after_removed_device_refused(record.feed);
                    }
                    if applied.heads_changed || applied.pending > 0 {
                        report.updated += 1;
                        self.dirty.insert(record.feed);
                    } else {
                        report.unchanged += 1;
                    }
                    report.kept.push(record.feed.author.fmt_short());
                }
                Err(failure) => report.refused.push(crate::node::RefusedFeed {
                    author: record.feed.author,
                    fingerprint: record.feed.author.fmt_short(),
                    reason: failure.to_string(),
                }),
            }
        }
        if report.updated > 0 {
            self.persist_dirty();
            self.schedule_resync();
            self.emit(NodeEvent::BoardChanged);
        }
        debug!(?report, "a board file was imported");
        report
    }

    fn resolve_post(&self, typed: &str) -> Result<PostId, NodeError> {
        Ok(self.board.resolve_post(typed)?)
    }

    /// Stores a local change durably, then pushes it to neighbours.
    pub(super) fn commit_local(&mut self, change: LocalChange) -> Result<(), NodeError> {
        let feed = self.board.feed(&change.feed).ok_or_else(|| {
            NodeError::Write(entraide_crdt::WriteError::Document(
                "the feed just written is not on the board".into(),
            ))
        })?;
        if let Err(e) = self.store.append_local(feed, &change.change) {
            // Not saved, so not acknowledged: take the change back before anyone sees it,
            // so the board shows only what is on disk. It may have reached the disk after
            // all (a write cut halfway): a new automerge actor from now on makes sure the
            // next change can never share its actor and sequence number.
            if let Err(back) = self.board.forget_local(&self.writer, &change) {
                warn!(error = %back, "could not take back an unsaved change");
            }
            self.writer = Writer::new(
                self.writer.key().clone(),
                DeviceId::new(self.profile.installation, rand::random()),
            );
            return Err(e.into());
        }
        if let Some(network) = &mut self.network {
            let push = Push {
                feed: change.feed,
                change: change.change,
                signed: change.signed,
            };
            match network.publish(push.encode()) {
                Ok(()) | Err(gossipsub::PublishError::Duplicate) => {}
                // Alone, or before the gossip mesh forms: a sync round carries it.
                Err(e) => {
                    debug!(error = %e, "gossip publish failed; a sync round will carry the change");
                    self.schedule_resync();
                }
            }
        }
        self.emit(NodeEvent::BoardChanged);
        Ok(())
    }

    fn status(&self, now: i64) -> Status {
        let author = self.writer.author();
        let network = self.network.as_ref();
        Status {
            author,
            name: self.board.name_of(&author),
            community: self.profile.community.tag(),
            online: network.is_some(),
            listen_addresses: network
                .map(|n| n.listen_addrs.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            peers_connected: self.peers.connected_count(),
            last_sync: self.peers.last_sync(),
            recently_synced_peers: self.peers.recently_synced(now),
            clock_skew: self.peers.clock_skew(),
            reachable_directly: network.and_then(|n| n.reachability()),
            hole_punches: self.relays.punched,
            board: self.board.stats(now),
            board_digest: hex::encode(self.board.digest()),
            network_bytes_sent: network.map(|n| n.traffic.sent()).unwrap_or(0),
            network_bytes_received: network.map(|n| n.traffic.received()).unwrap_or(0),
            alerts: self.board.active_alerts(now),
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let device_peers = self.board.device_peers();
        let mut infos: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(id, p)| {
                let mut t = p.traffic;
                if let Some(s) = &p.session {
                    add_traffic(&mut t, &s.session.stats());
                }
                // A linked device's own network key names no author; its author's feed
                // lists its peer id (`crate::devices`).
                let author = device_peers.get(&id.to_string()).copied().or(p.author);
                PeerInfo {
                    peer_id: id.to_string(),
                    author,
                    name: author.and_then(|a| self.board.name_of(&a)),
                    connected: p.is_connected(),
                    direct: p.is_directly_connected(),
                    addresses: p.addresses.iter().map(ToString::to_string).collect(),
                    last_sync: p.last_sync,
                    rtt_micros: p.rtt.map(|d| d.as_micros() as u64),
                    sync: SyncTraffic {
                        bytes_in: t.bytes_in,
                        bytes_out: t.bytes_out,
                        frames_in: t.frames_in,
                        frames_out: t.frames_out,
                        changes_applied: t.changes_applied,
                    },
                }
            })
            .collect();
        infos.sort_by(|a, b| {
            b.connected
                .cmp(&a.connected)
                .then(a.peer_id.cmp(&b.peer_id))
        });
        infos
    }
}

/// Adds a session's traffic to a total.
pub(super) fn add_traffic(total: &mut SessionStats, more: &SessionStats) {
    total.bytes_in += more.bytes_in;
    total.bytes_out += more.bytes_out;
    total.frames_in += more.frames_in;
    total.frames_out += more.frames_out;
    total.changes_applied += more.changes_applied;
}

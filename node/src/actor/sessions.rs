//! Sync sessions: one per connected pair of nodes, opened by the peer with the smaller id,
//! driven by [`entraide_crdt::Session`] (sans-io): frames in, frames and events out.

use std::time::Instant;

use entraide_crdt::{Session, SessionEvent};
use libp2p::PeerId;
use tracing::{Instrument as _, debug, info, warn};

use super::commands::add_traffic;
use super::{Actor, now};
use crate::node::NodeEvent;
use crate::session_io::{self, MAX_INBOUND_SESSIONS, PeerSession, SessionInput};

impl Actor {
    /// Opens the sync stream to `peer` if it is ours to open (the peer with the smaller id
    /// opens it, so there is one per pair) and none is open or opening.
    pub(super) fn maybe_open_session(&mut self, peer: PeerId) {
        let Some(network) = &self.network else { return };
        if self.peer_id >= peer {
            return;
        }
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        // Never over a relayed connection alone: it lives only for a hole punch, and the
        // meeting point carries the board between us anyway.
        if state.session.is_some() || state.opening || !state.is_directly_connected() {
            return;
        }
        state.opening = true;
        let mut control = network.control.clone();
        let protocol = network.protocol.clone();
        let inputs = self.inputs_tx.clone();
        self.tasks.spawn(
            async move {
                let input = match control.open_stream(peer, protocol).await {
                    Ok(stream) => SessionInput::Opened(peer, stream),
                    Err(e) => SessionInput::OpenFailed(peer, e.to_string()),
                };
                let _ = inputs.send(input).await;
            }
            .instrument(tracing::debug_span!("open_session", %peer)),
        );
    }

    /// Starts a session on a new stream (ours, or `inbound` from the peer), replacing any
    /// older one, and sends its first frames.
    pub(super) fn attach(&mut self, peer: PeerId, stream: libp2p::Stream, inbound: bool) {
        if self.peers.banned.is_banned(&peer, Instant::now()) {
            return;
        }
        if inbound && self.peers.inbound_sessions() >= MAX_INBOUND_SESSIONS {
            warn!(%peer, "too many inbound sync sessions; refusing one");
            return;
        }
        self.end_session(peer);
        self.next_session += 1;
        let id = self.next_session;
        let out = session_io::spawn(&mut self.tasks, peer, id, stream, self.inputs_tx.clone());
        let saved = self.store.sync_states(&peer.to_bytes());
        let mut session = Session::resume(saved);
        let hello = session.start_at(&self.board, now());
        let state = self.peers.entry(peer);
        state.opening = false;
        state.session = Some(PeerSession {
            id,
            session,
            out,
            inbound,
        });
        debug!(%peer, inbound, "sync session open");
        self.send_frames(peer, hello.frames);
    }

    /// Closes `peer`'s session (its tasks end with their queue), keeping its sync states.
    pub(super) fn end_session(&mut self, peer: PeerId) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.opening = false;
        if let Some(s) = state.session.take() {
            if let Err(e) = self
                .store
                .save_sync_states(&peer.to_bytes(), &s.session.saved_states())
            {
                warn!(error = %e, "could not save sync states");
            }
            let stats = s.session.stats();
            add_traffic(&mut state.traffic, &stats);
            debug!(%peer, ?stats, "sync session closed");
        }
    }

    /// Queues frames for `peer`; a peer that does not keep up loses its session.
    pub(super) fn send_frames(&mut self, peer: PeerId, frames: Vec<Vec<u8>>) {
        let mut too_slow = false;
        if let Some(session) = self.peers.get(&peer).and_then(|p| p.session.as_ref()) {
            for frame in frames {
                if session.out.try_send(frame).is_err() {
                    too_slow = true;
                    break;
                }
            }
        }
        if too_slow {
            warn!(%peer, "neighbour does not keep up with its sync session; closing it");
            self.end_session(peer);
        }
    }

    pub(super) fn handle_session_input(&mut self, input: SessionInput) {
        let current = |actor: &Actor, peer: &PeerId, id: u64| {
            actor
                .peers
                .get(peer)
                .and_then(|p| p.session.as_ref())
                .is_some_and(|s| s.id == id)
        };
        match input {
            SessionInput::Opened(peer, stream) => {
                if self.peers.is_connected(&peer) {
                    self.attach(peer, stream, false);
                }
            }
            SessionInput::OpenFailed(peer, reason) => {
                debug!(%peer, reason, "could not open a sync stream");
                if let Some(state) = self.peers.get_mut(&peer) {
                    state.opening = false;
                }
            }
            SessionInput::Frame(peer, id, bytes) => self.handle_frame(peer, id, &bytes),
            SessionInput::RelayedMembers(relay, members) => self.relayed_members(relay, members),
            SessionInput::Rekey(peer, notices) => {
                tracing::info!(%peer, count = notices.len(), "a member handed over a new secret");
                self.consider_rekey(&notices);
            }
            SessionInput::Pairing(peer, request, reply) => {
                let _ = reply.send(self.answer_pairing(peer, request));
            }
            SessionInput::Violation(peer, id, reason) => {
                if current(self, &peer, id) {
                    self.ban(peer, &reason);
                }
            }
            SessionInput::Closed(peer, id, reason) => {
                if current(self, &peer, id) {
                    debug!(%peer, ?reason, "sync stream ended");
                    self.end_session(peer);
                }
            }
        }
    }

    fn handle_frame(&mut self, peer: PeerId, id: u64, bytes: &[u8]) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let Some(session) = state.session.as_mut().filter(|s| s.id == id) else {
            return;
        };
        match session.session.handle_frame(&mut self.board, bytes) {
            Ok(out) => {
                let mut changed = false;
                let mut renew = Vec::new();
                for event in &out.events {
                    match event {
                        SessionEvent::FeedUpdated { feed, .. } => {
                            self.dirty.insert(*feed);
                            changed = true;
                            state.last_sync = Some(now());
                        }
                        SessionEvent::InSync => state.last_sync = Some(now()),
                        SessionEvent::PeerClock { clock } => {
                            state.clock_offset = Some(clock.saturating_sub(now()));
                        }
                        SessionEvent::FeedRefused {
                            feed,
                            failure: entraide_crdt::ValidationFailure::Superseded { .. },
                        } => {
                            // A neighbour back from a while away: it gets the new epoch
                            // in this round, and drops the old one.
                            tracing::debug!(%peer, %feed, "a neighbour still offers an epoch replaced by a newer one");
                        }
                        SessionEvent::FeedRefused { feed, failure } => {
                            warn!(%peer, %feed, %failure, "refused a feed's changes");
                        }
                        SessionEvent::RemovedDeviceRefused { feed, count } => {
                            info!(%peer, %feed, count, "refused changes a removed device made after its removal");
                            renew.push(*feed);
                        }
                        SessionEvent::FeedTooLarge { feed, size } => {
                            warn!(%peer, %feed, size, "a feed's sync message is too large to send to this neighbour");
                        }
                        SessionEvent::DocumentHeldBack { feed, failure } => {
                            warn!(%peer, %feed, %failure, "a feed's document is too large to send whole");
                        }
                        _ => {}
                    }
                }
                for feed in renew {
                    self.after_removed_device_refused(feed);
                }
                self.send_frames(peer, out.frames);
                if changed {
                    self.schedule_resync();
                    self.emit(NodeEvent::BoardChanged);
                }
            }
            Err(e) => self.ban(peer, &e.to_string()),
        }
    }
}

//! One resident, several devices, the actor's side: pairing codes offered, the pairing
//! exchange answered, devices listed and removed (`crate::devices` has the wire side).

use std::sync::Arc;

use entraide_crdt::Installation;
use futures::AsyncWriteExt as _;
use libp2p::PeerId;
use tokio::sync::oneshot;
use tracing::{Instrument as _, debug, info};

use super::{Actor, now};
use crate::devices::{
    MAX_PAIRING_FRAME, MAX_PAIRINGS, Offer, PAIRING_PATIENCE, PAIRING_VALIDITY, PairRequest,
    PairingCode, encode_answer, host_name, same_token,
};
use crate::frame::{read_frame_within, write_frame};
use crate::node::{DeviceCommand, DeviceInfo, DeviceLink, NodeError, NodeEvent};
use crate::session_io::SessionInput;

/// Most pairing exchanges running at once: more streams are closed unread.
pub(crate) const MAX_PAIRING_EXCHANGES: usize = 4;

impl Actor {
    pub(super) fn handle_device_command(&mut self, command: DeviceCommand) {
        let owner = self.writer.author() == self.owner();
        match command {
            DeviceCommand::List(reply) => {
                let _ = reply.send(self.devices());
            }
            DeviceCommand::Link(reply) => {
                let result = if owner {
                    self.offer_pairing()
                } else {
                    Err(NodeError::OwnerOnly)
                };
                let _ = reply.send(result);
            }
            DeviceCommand::Remove(typed, reply) => {
                let result = self.remove_device(&typed);
                let _ = reply.send(result);
            }
        }
    }

    /// The acting resident's devices, as their feed lists them, this one marked; this
    /// device alone when none is listed yet.
    pub(super) fn devices(&self) -> Vec<DeviceInfo> {
        let author = self.writer.author();
        let here = self.profile.installation;
        let mut list: Vec<DeviceInfo> = self
            .board
            .current_feed(&author)
            .map(|f| {
                f.content()
                    .devices
                    .values()
                    .map(|d| DeviceInfo {
                        id: d.installation.to_string(),
                        name: d.name.clone(),
                        added: Some(d.added),
                        removed: d.removed.as_ref().map(|r| r.at),
                        this_device: d.installation == here,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !list.iter().any(|d| d.this_device) {
            list.insert(
                0,
                DeviceInfo {
                    id: here.to_string(),
                    name: this_device_name(),
                    added: None,
                    removed: None,
                    this_device: true,
                },
            );
        }
        list
    }

    /// A new one-time pairing code (the oldest waiting one goes when there are too many).
    fn offer_pairing(&mut self) -> Result<DeviceLink, NodeError> {
        let Some(network) = &self.network else {
            return Err(NodeError::Offline);
        };
        let invite = crate::community::Invite::for_node(
            self.profile.community.clone(),
            &network.listen_addrs,
        )
        .announcing(&self.config.announce);
        let token: [u8; 16] = rand::random();
        let now_instant = tokio::time::Instant::now();
        self.pairings.retain(|o| o.expires > now_instant);
        if self.pairings.len() >= MAX_PAIRINGS {
            self.pairings.remove(0);
        }
        self.pairings.push(Offer {
            token,
            expires: now_instant + PAIRING_VALIDITY,
        });
        let code = PairingCode {
            invite,
            peer: self.peer_id,
            token,
        };
        info!("a device pairing code was made; it works once, for 10 minutes");
        Ok(DeviceLink {
            code: code.encode(),
            expires_at: now() + PAIRING_VALIDITY.as_secs() as i64,
        })
    }

    /// A peer opened a pairing stream: read its request (in a task of its own), have the
    /// actor answer it, write the answer. Closed unread when too many exchanges are
    /// running ([`MAX_PAIRING_EXCHANGES`]).
    pub(super) fn pairing_stream(&mut self, peer: PeerId, mut stream: libp2p::Stream) {
        let Ok(permit) = Arc::clone(&self.pairing_exchanges).try_acquire_owned() else {
            debug!(%peer, "too many pairing exchanges at once: a stream closed unread");
            self.tasks.spawn(async move {
                let _ = stream.close().await;
            });
            return;
        };
        let inputs = self.inputs_tx.clone();
        self.tasks.spawn(
            async move {
                let _permit = permit;
                // The whole request within the patience, its length prefix included: a
                // silent stream must not hold one of the few exchange places.
                let read =
                    read_frame_within(&mut stream, MAX_PAIRING_FRAME, Some(PAIRING_PATIENCE));
                let request = match tokio::time::timeout(PAIRING_PATIENCE, read).await {
                    Ok(Ok(Some(bytes))) => PairRequest::decode(&bytes),
                    _ => None,
                };
                let answer = match request {
                    None => Err("not a pairing request".to_owned()),
                    Some(request) => {
                        let (tx, rx) = oneshot::channel();
                        if inputs
                            .send(SessionInput::Pairing(peer, request, tx))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        rx.await.unwrap_or_else(|_| Err("the node stopped".into()))
                    }
                };
                let _ = write_frame(&mut stream, &encode_answer(&answer)).await;
                let _ = stream.close().await;
            }
            .instrument(tracing::debug_span!("pairing", %peer)),
        );
    }

    /// Answers a pairing request: a waiting code (used up now, right or wrong device id),
    /// then the new device listed in the owner's feed (and this one, if it was not yet),
    /// then the owner's key.
    pub(super) fn answer_pairing(
        &mut self,
        peer: PeerId,
        request: PairRequest,
    ) -> Result<[u8; 32], String> {
        let now_instant = tokio::time::Instant::now();
        self.pairings.retain(|o| o.expires > now_instant);
        let Some(at) = self
            .pairings
            .iter()
            .position(|o| same_token(&o.token, &request.token))
        else {
            info!(%peer, "a pairing request with a wrong or expired code was refused");
            return Err(
                "this code is used, expired, or was not made by this device: run `entraide device link` again"
                    .into(),
            );
        };
        self.pairings.remove(at);
        let owner = self.owner();
        self.acting_as(Some(owner), |actor| {
            let listed = actor
                .board
                .current_feed(&owner)
                .map(|f| f.content().devices.clone())
                .unwrap_or_default();
            if request.installation == actor.profile.installation
                || listed.contains_key(&request.installation)
            {
                return Err("that device id is taken: run `entraide join-device` again".into());
            }
            let now = now();
            let here = actor.profile.installation;
            if !listed.contains_key(&here) {
                let change = actor
                    .board
                    .add_device(
                        &actor.writer,
                        here,
                        &this_device_name(),
                        Some(&actor.peer_id.to_string()),
                        now,
                    )
                    .map_err(|e| e.to_string())?;
                actor.commit_local(change).map_err(|e| e.to_string())?;
            }
            let name = if request.name.trim().is_empty() {
                format!("device {}", request.installation)
            } else {
                request.name.clone()
            };
            let change = actor
                .board
                .add_device(
                    &actor.writer,
                    request.installation,
                    &name,
                    Some(&peer.to_string()),
                    now,
                )
                .or_else(|_| {
                    actor.board.add_device(
                        &actor.writer,
                        request.installation,
                        &format!("device {}", request.installation),
                        Some(&peer.to_string()),
                        now,
                    )
                })
                .map_err(|e| e.to_string())?;
            actor.commit_local(change).map_err(|e| e.to_string())?;
            info!(%peer, device = %request.installation, "a new device of yours is linked");
            actor.emit(NodeEvent::BoardChanged);
            Ok(actor.writer.key().to_seed())
        })
    }

    /// Removes one of the acting resident's devices, named by its id (8 hex digits, as
    /// `whoami` shows).
    fn remove_device(&mut self, typed: &str) -> Result<DeviceInfo, NodeError> {
        let installation: Installation = typed
            .parse()
            .map_err(|_| NodeError::NoSuchDevice(typed.trim().to_owned()))?;
        let change = self
            .board
            .remove_device(&self.writer, installation, now())?;
        self.commit_local(change)?;
        info!(device = %installation, "a device was removed");
        self.devices()
            .into_iter()
            .find(|d| d.id == installation.to_string())
            .ok_or_else(|| NodeError::NoSuchDevice(typed.to_owned()))
    }
}

impl Actor {
    /// Changes of `feed` made by a removed device were refused or dropped. When the feed is
    /// one this node writes, its writer moves to a new session half: a change of ours built
    /// on a dropped one went with it, and its sequence number must not be used again for a
    /// different change (nodes still holding the old one would see equivocation).
    pub(super) fn after_removed_device_refused(&mut self, feed: entraide_crdt::FeedId) {
        let renew = |w: &entraide_crdt::Writer| {
            entraide_crdt::Writer::new(
                w.key().clone(),
                entraide_crdt::DeviceId::new(w.device().installation(), rand::random()),
            )
        };
        if feed.author == self.writer.author() {
            self.writer = renew(&self.writer);
        } else if let Some(w) = self.hosted.get(&feed.author) {
            let renewed = renew(w);
            self.hosted.insert(feed.author, renewed);
        }
    }
}

/// The name the first device gets in the list when it links another: its host name, or
/// "first device".
fn this_device_name() -> String {
    host_name().unwrap_or_else(|| "first device".to_owned())
}

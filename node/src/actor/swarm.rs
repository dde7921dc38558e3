//! The network's side: connections, LAN discovery, pings, identify, dials and bans, and
//! gossip pushes (each within its feed's budget, validated like any change).

use std::time::Instant;

use entraide_crdt::AuthorId;
use entraide_crdt::wire::Push;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, identify, mdns, relay};
use tracing::{debug, info, warn};

use super::{Actor, now};
use crate::net::BehaviourEvent;
use crate::network::with_peer;
use crate::node::{NodeError, NodeEvent};

impl Actor {
    /// Dials an address; `manual` ones (given by hand) are remembered and redialled.
    pub(super) fn dial(&mut self, address: Multiaddr, manual: bool) -> Result<(), NodeError> {
        let Some(network) = &mut self.network else {
            if manual {
                self.store.remember_peer(&address.to_string(), true)?;
            }
            return Ok(());
        };
        if !self.peers.needless_dial(&address, Instant::now()) {
            network
                .dial(address.clone())
                .map_err(|source| NodeError::Dial {
                    address: address.to_string(),
                    source: Box::new(source),
                })?;
        }
        // Remembered only once the swarm accepted to dial it (a usable address).
        if manual {
            self.store.remember_peer(&address.to_string(), true)?;
        }
        Ok(())
    }

    /// Drops a peer that sent invalid data, and refuses it for a while.
    pub(super) fn ban(&mut self, peer: PeerId, reason: &str) {
        warn!(%peer, reason, "peer sent invalid data: disconnecting it");
        self.peers.banned.ban(peer, Instant::now());
        self.end_session(peer);
        if let Some(network) = &mut self.network {
            network.disconnect(peer);
        }
    }

    pub(super) fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                if let Some(network) = &mut self.network {
                    network.listen_addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if let Some(network) = &mut self.network {
                    network.listen_addrs.retain(|a| *a != address);
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                connection_id,
                ..
            } => {
                if self.peers.banned.is_banned(&peer_id, Instant::now()) {
                    if let Some(network) = &mut self.network {
                        network.disconnect(peer_id);
                    }
                    return;
                }
                let address = endpoint.get_remote_address().clone();
                let relayed = endpoint.is_relayed();
                info!(peer = %peer_id, %address, relayed, "neighbour connected");
                let state = self.peers.connected(peer_id, address.clone());
                if relayed {
                    state.relayed.push(connection_id);
                } else {
                    if endpoint.is_dialer() {
                        state.dialled = Some(address);
                    }
                    // A direct connection makes the relayed ones useless.
                    if !state.relayed.is_empty() {
                        self.close_relayed(peer_id);
                    }
                }
                self.maybe_open_session(peer_id);
                self.emit(NodeEvent::PeersChanged);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                connection_id,
                ..
            } => {
                self.peers.disconnected(&peer_id, num_established as usize);
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.relayed.retain(|c| *c != connection_id);
                }
                if num_established == 0 {
                    self.relays.lost(&peer_id);
                    info!(peer = %peer_id, "neighbour disconnected");
                    self.end_session(peer_id);
                    self.emit(NodeEvent::PeersChanged);
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, error = %error, "dial failed");
            }
            SwarmEvent::Behaviour(event) => self.handle_behaviour_event(event),
            _ => {}
        }
    }

    fn handle_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Mdns(mdns::Event::Expired(gone)) => {
                for (peer, _) in gone {
                    self.peers.gone_from_lan(&peer);
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                let now = Instant::now();
                for (peer, address) in found {
                    self.peers.found_on_lan(peer, address.clone());
                    let address = with_peer(address, peer);
                    if self.peers.needless_dial(&address, now) {
                        continue;
                    }
                    debug!(%peer, %address, "found on the LAN");
                    if let Some(network) = &mut self.network {
                        let _ = network.dial(address);
                    }
                }
            }
            BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    state.rtt = Some(rtt);
                }
            }
            // libp2p keeps a connection whose pings go unanswered; TCP would too, for many
            // minutes, holding back what we send. Close it: the neighbour is redialled
            // (mDNS, remembered addresses) and synced once it is back.
            BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                connection,
                result: Err(failure),
            }) if !matches!(failure, libp2p::ping::Failure::Unsupported) => {
                info!(%peer, %failure, "neighbour stopped answering; connection closed");
                if let Some(network) = &mut self.network {
                    network.close_connection(connection);
                }
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Ok(key) = info.public_key.try_into_ed25519()
                    && let Some(state) = self.peers.get_mut(&peer_id)
                {
                    // A first device's network key is its author key; a linked device's is
                    // its own, mapped to its author when the peers are listed.
                    state.author = Some(AuthorId(key.to_bytes()));
                }
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    // Where to hand a new secret over after a re-key (`crate::rekey`).
                    state.listen = info
                        .listen_addrs
                        .iter()
                        .filter(|a| {
                            !a.iter()
                                .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2pCircuit))
                        })
                        .take(crate::peers::MAX_LISTEN_KEPT)
                        .cloned()
                        .collect();
                }
                if info.protocols.contains(&relay::HOP_PROTOCOL_NAME) {
                    self.relay_found(peer_id);
                }
            }
            BehaviourEvent::RelayClient(event) => self.relay_client_event(event),
            BehaviourEvent::Relay(event) => self.relay_server_event(event),
            BehaviourEvent::Dcutr(event) => self.hole_punch_event(event),
            BehaviourEvent::Autonat(event) => self.autonat_event(event),
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.handle_push(propagation_source, message_id, &message.data),
            _ => {}
        }
    }

    /// A gossip push: decoded, self-signed, within its feed's budget, then validated and
    /// applied like any change. An invalid one bans its sender; one past the budget is
    /// ignored and fetched by a sync round instead.
    fn handle_push(&mut self, source: PeerId, id: gossipsub::MessageId, data: &[u8]) {
        let verdict = match Push::decode(data) {
            Err(e) => {
                self.report(&id, &source, MessageAcceptance::Reject);
                self.ban(source, &format!("undecodable gossip: {e}"));
                return;
            }
            Ok(push) if !push.is_self_signed() => {
                self.report(&id, &source, MessageAcceptance::Reject);
                self.ban(source, "a push not signed over its own change");
                return;
            }
            Ok(push) if !self.gossip.take(push.feed, Instant::now()) => {
                // A feed pushing faster than people write: its changes come by sync
                // sessions, in batches.
                self.report(&id, &source, MessageAcceptance::Ignore);
                if self.gossip.round_due(Instant::now()) {
                    self.schedule_resync();
                }
                return;
            }
            Ok(push) => self
                .board
                .receive(push.feed, &push.change, std::slice::from_ref(&push.signed))
                .map(|a| (push.feed, a)),
        };
        match verdict {
            // Only changes a removed device made after its removal: not forwarded.
            Ok((feed, applied)) if applied.refused > 0 && !applied.heads_changed => {
                info!(%feed, count = applied.refused, "refused changes a removed device made after its removal");
                self.after_removed_device_refused(feed);
                self.report(&id, &source, MessageAcceptance::Ignore);
            }
            Ok((feed, applied)) => {
                if applied.refused > 0 {
                    info!(%feed, count = applied.refused, "refused changes a removed device made after its removal");
                    self.after_removed_device_refused(feed);
                }
                self.report(&id, &source, MessageAcceptance::Accept);
                if applied.heads_changed || applied.pending > 0 {
                    self.dirty.insert(feed);
                    if let Some(p) = self.peers.get_mut(&source) {
                        p.last_sync = Some(now());
                    }
                    // No sync round: gossipsub forwards the push to the other peers itself.
                    self.emit(NodeEvent::BoardChanged);
                }
            }
            Err(failure) if !failure.blames_sender() => {
                debug!(%failure, "gossip change refused without blame");
                self.report(&id, &source, MessageAcceptance::Ignore);
            }
            Err(failure) => {
                self.report(&id, &source, MessageAcceptance::Reject);
                self.ban(source, &failure.to_string());
            }
        }
    }

    fn report(&mut self, id: &gossipsub::MessageId, source: &PeerId, verdict: MessageAcceptance) {
        if let Some(network) = &mut self.network {
            network.report(id, source, verdict);
        }
    }
}

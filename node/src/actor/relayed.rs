//! Homes behind routers (`crate::relayed`): reservations on the meeting points we dialled,
//! asking them who is reachable through them, dials through them for a hole punch, and the
//! relayed connections closed once a direct one is up or the punch failed.

use std::time::Instant;

use libp2p::swarm::ConnectionId;
use libp2p::{PeerId, autonat, dcutr, relay};
use tracing::{Instrument as _, debug, info};

use super::Actor;
use crate::frame::{read_frame_within, write_frame};
use crate::relayed::{ASK_PATIENCE, MAX_RELAYED_FRAME, decode_members};
use crate::session_io::SessionInput;

impl Actor {
    /// Identify says `peer` relays (a meeting point): if we dialled it ourselves (so we know
    /// an address of it that works), make a reservation there.
    pub(super) fn relay_found(&mut self, peer: PeerId) {
        let Some(address) = self.peers.get(&peer).and_then(|p| p.dialled.clone()) else {
            return;
        };
        if self.relays.found(peer, address.clone())
            && let Some(network) = &mut self.network
        {
            info!(%peer, %address, "a meeting point that relays: reachable through it from now on");
            network.reserve_on(&address, peer);
        }
    }

    /// Asks the meeting points that are due who is reachable through them.
    pub(super) fn ask_relays(&mut self) {
        let Some(network) = &self.network else { return };
        let protocol = crate::net::relayed_protocol(&self.profile.community.tag());
        for relay in self.relays.due_to_ask(Instant::now()) {
            let mut control = network.control.clone();
            let protocol = protocol.clone();
            let inputs = self.inputs_tx.clone();
            self.tasks.spawn(
                async move {
                    let ask = async {
                        let mut stream = control.open_stream(relay, protocol).await.ok()?;
                        let bytes =
                            read_frame_within(&mut stream, MAX_RELAYED_FRAME, Some(ASK_PATIENCE))
                                .await
                                .ok()??;
                        decode_members(&bytes)
                    };
                    match tokio::time::timeout(ASK_PATIENCE, ask).await {
                        Ok(Some(members)) => {
                            let _ = inputs
                                .send(SessionInput::RelayedMembers(relay, members))
                                .await;
                        }
                        _ => debug!("the meeting point did not say who is reachable through it"),
                    }
                }
                .instrument(tracing::debug_span!("ask_relay", %relay)),
            );
        }
    }

    /// A meeting point told who is reachable through it: dial, through it, those we have
    /// no connection to (and whose last hole punch did not fail lately).
    pub(super) fn relayed_members(&mut self, relay: PeerId, members: Vec<PeerId>) {
        let Some(address) = self.relays.address(&relay).cloned() else {
            return;
        };
        let now = Instant::now();
        for member in members {
            if member == self.peer_id
                || self.peers.is_connected(&member)
                || self.peers.banned.still_banned(&member, now)
                || !self.relays.worth_a_punch(&member, now)
            {
                continue;
            }
            if let Some(network) = &mut self.network {
                debug!(%member, %relay, "dialling a member through the meeting point");
                let _ = network.dial_through(&address, relay, member);
            }
        }
    }

    /// A member asks who is reachable through us: the answer, then the stream is closed.
    pub(super) fn relayed_stream(&mut self, peer: PeerId, mut stream: libp2p::Stream) {
        let answer = self.relays.answer_for(&peer);
        self.tasks.spawn(
            async move {
                let write = async {
                    let _ = write_frame(&mut stream, &answer).await;
                    let _ = futures::AsyncWriteExt::close(&mut stream).await;
                };
                let _ = tokio::time::timeout(ASK_PATIENCE, write).await;
            }
            .instrument(tracing::debug_span!("relayed_answer", %peer)),
        );
    }

    /// What the relay, hole-punch and AutoNAT behaviours report.
    pub(super) fn relay_client_event(&mut self, event: relay::client::Event) {
        if let relay::client::Event::ReservationReqAccepted {
            relay_peer_id,
            renewal,
            ..
        } = event
        {
            self.relays.reserved(&relay_peer_id);
            if !renewal {
                info!(relay = %relay_peer_id, "reachable through the meeting point");
                self.ask_relays();
            }
        }
    }

    pub(super) fn relay_server_event(&mut self, event: relay::Event) {
        match event {
            relay::Event::ReservationReqAccepted { src_peer_id, .. } => {
                self.relays.member_reserved(src_peer_id);
            }
            relay::Event::ReservationClosed { src_peer_id }
            | relay::Event::ReservationTimedOut { src_peer_id } => {
                self.relays.member_left(&src_peer_id);
            }
            _ => {}
        }
    }

    pub(super) fn hole_punch_event(&mut self, event: dcutr::Event) {
        let peer = event.remote_peer_id;
        match event.result {
            Ok(_) => {
                info!(%peer, "connected directly to a member behind a router (hole punch)");
                self.relays.punch_worked(&peer);
            }
            Err(error) => {
                info!(%peer, %error, "no direct connection to a member behind a router: we meet through the meeting point");
                self.relays.punch_failed(peer, Instant::now());
            }
        }
        self.close_relayed(peer);
    }

    pub(super) fn autonat_event(&mut self, event: autonat::v1::Event) {
        if let autonat::v1::Event::StatusChanged { new, .. } = event {
            info!(status = ?new, "whether other members can dial us directly");
        }
    }

    /// Closes the relayed connections to `peer`: they were only for a hole punch.
    pub(super) fn close_relayed(&mut self, peer: PeerId) {
        let relayed: Vec<ConnectionId> = self
            .peers
            .get(&peer)
            .map(|p| p.relayed.clone())
            .unwrap_or_default();
        if let Some(network) = &mut self.network {
            for connection in relayed {
                network.close_connection(connection);
            }
        }
    }
}

//! The re-key, the actor's side (`crate::rekey`): the new secret written after an
//! exclusion, adopted when a notice opens, the network moved to it, and the old door that
//! hands it over to members still on the old secret.

use libp2p::PeerId;
use libp2p::swarm::SwarmEvent;
use tracing::{info, warn};

use super::{Actor, now};
use crate::node::NodeError;
use crate::rekey::{OLD_DOOR_SECS, OldDoor, handover_notices, newer_secret, read_handover};
use crate::session_io::SessionInput;

impl Actor {
    /// After an exclusion: a new community secret, sealed to every remaining member. The
    /// node moves to it at its next care tick, as every member's does.
    pub(super) fn write_rekey(&mut self) -> Result<(), NodeError> {
        let secret: [u8; 32] = rand::random();
        // Above every generation the board has seen, not only our own: a steward who
        // joined after an earlier re-key holds that secret as generation 0 (invite codes
        // carry no generation), and the members who moved then would ignore a notice of 1.
        let seen = self.board.rekey_notices().first().map(|n| n.generation);
        let generation = seen
            .unwrap_or(0)
            .max(self.profile.community.generation())
            .saturating_add(1);
        let changes = self
            .board
            .rekey(&self.writer, &secret, generation, now(), || {
                (rand::random(), rand::random())
            })?;
        for change in changes {
            self.commit_local(change)?;
        }
        info!(
            generation,
            "wrote a new community secret for the remaining members"
        );
        Ok(())
    }

    /// Every local key: the owner's and each hosted resident's.
    fn local_keys(&self) -> Vec<entraide_crdt::AuthorKey> {
        std::iter::once(self.profile.key.clone())
            .chain(self.hosted.values().map(|w| w.key().clone()))
            .collect()
    }

    /// Moves to a newer secret if one of `notices` (checked: current stewards' only)
    /// opens with a local key.
    pub(super) fn consider_rekey(&mut self, notices: &[entraide_crdt::rekey::RekeyNotice]) {
        let authority = self.board.authority();
        let from_stewards = notices.iter().filter(|n| authority.is_steward(&n.writer));
        let keys = self.local_keys();
        let keys: Vec<&entraide_crdt::AuthorKey> = keys.iter().collect();
        if let Some((secret, generation)) =
            newer_secret(from_stewards, &keys, self.profile.community.generation())
        {
            self.adopt_secret(secret, generation);
        }
    }

    /// At each care tick: a notice of the board's stewards newer than our secret.
    pub(super) fn rekey_tick(&mut self) {
        if self.moving || self.network.is_none() {
            return;
        }
        let notices: Vec<_> = self.board.rekey_notices().into_iter().cloned().collect();
        self.consider_rekey(&notices);
    }

    fn adopt_secret(&mut self, secret: [u8; 32], generation: u32) {
        let new = self.profile.community.rekeyed(secret, generation);
        if let Err(e) = self
            .config
            .data_dir
            .move_community(&new, now() + OLD_DOOR_SECS)
        {
            warn!(error = %e, "could not write the new community secret; will try again");
            return;
        }
        info!(generation, "moving to the community's new secret");
        self.moving = true;
    }

    /// Drops the network and starts it again on the new secret, on the same ports; opens
    /// the old door.
    pub(super) async fn move_network(&mut self) {
        self.moving = false;
        let profile = match self.config.data_dir.load() {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "cannot read the community file to move");
                return;
            }
        };
        for peer in self.peers.with_session(true) {
            self.end_session(peer);
        }
        let listened = self
            .network
            .as_ref()
            .map(|n| n.listen_addrs.clone())
            .unwrap_or_default();
        self.network = None;
        self.peers.forget_connections();
        self.profile = profile;
        let mut config = self.config.clone();
        config.listen = crate::rekey::same_ports(&self.config.listen, &listened);
        match crate::network::Network::start(&self.profile, &config).await {
            Ok(network) => self.network = Some(network),
            Err(e) => {
                warn!(error = %e, "cannot start the network on the new secret");
                return;
            }
        }
        info!(community = %self.profile.community.tag(), "moved to the community's new secret");
        self.open_old_door();
        self.dial_known_peers();
    }

    /// Opens the old door, while the previous secret is handed over.
    pub(super) fn open_old_door(&mut self) {
        let Some((old, until)) = self.profile.previous.clone() else {
            return;
        };
        if now() >= until {
            self.old_door = None;
            return;
        }
        let Ok(keypair) =
            libp2p::identity::Keypair::ed25519_from_bytes(self.profile.network_seed())
        else {
            return;
        };
        match OldDoor::start(keypair, &old, until, handover_notices(&self.board)) {
            Ok(door) => self.old_door = Some(door),
            Err(e) => warn!(error = %e, "cannot open the old door"),
        }
    }

    /// Each resync round, while the old door is open: dial the neighbours known and not
    /// connected, through it.
    pub(super) fn old_door_round(&mut self) {
        let Some(until) = self.old_door.as_ref().map(|d| d.until) else {
            return;
        };
        if now() >= until {
            info!("the old secret is no longer handed over");
            self.old_door = None;
            return;
        }
        let excluded = &self.board.authority().excluded;
        let mut targets = Vec::new();
        for (peer, state) in self.peers.iter() {
            if state.is_connected() || state.author.is_some_and(|a| excluded.contains_key(&a)) {
                continue;
            }
            for address in &state.listen {
                targets.push(crate::network::with_peer(address.clone(), *peer));
            }
        }
        targets.extend(self.manual_addresses());
        let instant = std::time::Instant::now();
        if let Some(door) = &mut self.old_door {
            for address in targets {
                door.dial(address, instant);
            }
        }
    }

    pub(super) fn old_door_event(&mut self, event: SwarmEvent<crate::net::BehaviourEvent>) {
        let Some(door) = &mut self.old_door else {
            return;
        };
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                if let Some(task) = door.handover(peer_id) {
                    info!(peer = %peer_id, "handing the new secret over to a member on the old one");
                    self.tasks.spawn(task);
                }
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                ..
            } => door.forget(&peer),
            _ => {}
        }
    }

    /// A member that moved hands us notices over a connection on our (old) secret.
    pub(super) fn rekey_stream(&mut self, peer: PeerId, stream: libp2p::Stream) {
        let inputs = self.inputs_tx.clone();
        self.tasks.spawn(async move {
            let notices = read_handover(stream).await;
            if !notices.is_empty() {
                let _ = inputs.send(SessionInput::Rekey(peer, notices)).await;
            }
        });
    }
}

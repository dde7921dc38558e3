//! The node's running network: the libp2p swarm of [`crate::net`] started for a profile,
//! listening, subscribed to the community's topic and accepting sync streams. The actor
//! owns one (none when offline) and drives it.

use std::time::Duration;

use futures::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm};
use tracing::warn;

use crate::data_dir::Profile;
use crate::net::{self, Behaviour, BehaviourEvent, NetConfig, NetError};
use crate::node::NodeConfig;

/// The TCP port a node listens on for neighbours unless told otherwise.
pub const DEFAULT_PORT: u16 = 4747;
/// How long the listeners may take to report their addresses at start.
const LISTEN_PATIENCE: Duration = Duration::from_secs(5);

/// A started network.
pub(crate) struct Network {
    swarm: Swarm<Behaviour>,
    /// Bytes through every neighbour connection.
    pub(crate) traffic: net::TrafficCounter,
    /// Opens sync streams.
    pub(crate) control: libp2p_stream::Control,
    incoming: libp2p_stream::IncomingStreams,
    /// Pairing requests of a new device of the resident (`crate::devices`).
    pairing: libp2p_stream::IncomingStreams,
    /// Members asking a meeting point who is reachable through it (`crate::relayed`).
    relayed: libp2p_stream::IncomingStreams,
    /// A member that moved to a new secret hands it over (`crate::rekey`).
    rekey: libp2p_stream::IncomingStreams,
    /// The community's sync protocol.
    pub(crate) protocol: StreamProtocol,
    topic: IdentTopic,
    /// Where neighbours can reach us now.
    pub(crate) listen_addrs: Vec<Multiaddr>,
}

/// What the network has for the actor.
// Lives only between the select and its handler: boxing would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
pub(crate) enum NetEvent {
    /// Something the swarm saw.
    Swarm(SwarmEvent<BehaviourEvent>),
    /// A neighbour opened a sync stream.
    Incoming(PeerId, libp2p::Stream),
    /// A peer opened a pairing stream (a new device of the resident, or anyone).
    Pairing(PeerId, libp2p::Stream),
    /// A member asks who is reachable through us (we are a meeting point).
    Relayed(PeerId, libp2p::Stream),
    /// A member that moved to a new community secret hands it over (`crate::rekey`).
    Rekey(PeerId, libp2p::Stream),
}

impl Network {
    /// Builds the swarm for `profile`, listens (on `config.listen`, or on
    /// [`DEFAULT_PORT`] of every interface, or any free port when it is taken), and waits
    /// until the listeners report their addresses, so callers can print them.
    pub(crate) async fn start(profile: &Profile, config: &NodeConfig) -> Result<Self, NetError> {
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(profile.network_seed())?;
        let tag = profile.community.tag();
        let net_config = NetConfig {
            mdns: config.mdns,
            // A node with a public address relays, so homes behind routers can try to
            // connect directly through it.
            relay_server: !config.announce.is_empty(),
            ..NetConfig::new(profile.community.psk(), tag.clone())
        };
        let traffic = net_config.traffic.clone();
        let mut swarm = net::build_swarm(keypair, &net_config)?;
        let protocol = net::sync_protocol(&tag);
        let topic = net::gossip_topic(&tag);
        swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
        let mut control = swarm.behaviour().stream.new_control();
        let incoming = control.accept(protocol.clone())?;
        let pairing = control.accept(crate::devices::pairing_protocol(&tag))?;
        let relayed = control.accept(net::relayed_protocol(&tag))?;
        let rekey = control.accept(crate::rekey::rekey_protocol(&tag))?;
        // A meeting point's public address: identify tells it to peers as ours.
        for address in &config.announce {
            swarm.add_external_address(address.clone());
        }
        let wanted = listen(&mut swarm, &config.listen);
        if wanted == 0 {
            return Err(NetError::NoListener);
        }
        let mut listen_addrs = Vec::new();
        let deadline = tokio::time::sleep(LISTEN_PATIENCE);
        tokio::pin!(deadline);
        let mut settled = 0;
        while settled < wanted {
            tokio::select! {
                event = swarm.select_next_some() => match event {
                    SwarmEvent::NewListenAddr { address, .. } => {
                        listen_addrs.push(address);
                        settled += 1;
                    }
                    SwarmEvent::ListenerClosed { .. } | SwarmEvent::ListenerError { .. } => {
                        settled += 1;
                    }
                    _ => {}
                },
                _ = &mut deadline => break,
            }
        }
        if listen_addrs.is_empty() {
            return Err(NetError::NoListenAddress);
        }
        Ok(Self {
            swarm,
            traffic,
            control,
            incoming,
            pairing,
            relayed,
            rekey,
            protocol,
            topic,
            listen_addrs,
        })
    }

    /// The next thing the network has; never resolves without a network.
    pub(crate) async fn next_event(network: &mut Option<Network>) -> NetEvent {
        let Some(net) = network else {
            return std::future::pending().await;
        };
        tokio::select! {
            event = net.swarm.select_next_some() => NetEvent::Swarm(event),
            Some((peer, stream)) = net.incoming.next() => NetEvent::Incoming(peer, stream),
            Some((peer, stream)) = net.pairing.next() => NetEvent::Pairing(peer, stream),
            Some((peer, stream)) = net.relayed.next() => NetEvent::Relayed(peer, stream),
            Some((peer, stream)) = net.rekey.next() => NetEvent::Rekey(peer, stream),
        }
    }

    /// Dials `address` from a fresh local port ([`dial_opts`]).
    pub(crate) fn dial(&mut self, address: Multiaddr) -> Result<(), DialError> {
        self.swarm.dial(dial_opts(address))
    }

    /// Dials `peer` through the meeting point `relay` reached at `relay_address` (a relayed
    /// connection, for a hole punch).
    pub(crate) fn dial_through(
        &mut self,
        relay_address: &Multiaddr,
        relay: PeerId,
        peer: PeerId,
    ) -> Result<(), DialError> {
        let address = without_peer(relay_address)
            .with(Protocol::P2p(relay))
            .with(Protocol::P2pCircuit)
            .with(Protocol::P2p(peer));
        self.swarm.dial(
            DialOpts::peer_id(peer)
                .addresses(vec![address])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build(),
        )
    }

    /// Becomes reachable through the meeting point `relay` at `relay_address` (a
    /// reservation there), and asks it, now and then, whether we are reachable directly.
    pub(crate) fn reserve_on(&mut self, relay_address: &Multiaddr, relay: PeerId) {
        let bare = without_peer(relay_address);
        let circuit = bare
            .clone()
            .with(Protocol::P2p(relay))
            .with(Protocol::P2pCircuit);
        if let Err(e) = self.swarm.listen_on(circuit.clone()) {
            warn!(address = %circuit, error = %e, "cannot be reached through a meeting point");
        }
        self.swarm
            .behaviour_mut()
            .autonat
            .add_server(relay, Some(bare));
    }

    /// Whether the meeting points asked say other members can dial us directly.
    pub(crate) fn reachability(&self) -> Option<bool> {
        match self.swarm.behaviour().autonat.nat_status() {
            libp2p::autonat::v1::NatStatus::Public(_) => Some(true),
            libp2p::autonat::v1::NatStatus::Private => Some(false),
            libp2p::autonat::v1::NatStatus::Unknown => None,
        }
    }

    /// Closes every connection to `peer`.
    pub(crate) fn disconnect(&mut self, peer: PeerId) {
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    /// Closes one connection.
    pub(crate) fn close_connection(&mut self, connection: ConnectionId) {
        self.swarm.close_connection(connection);
    }

    /// Publishes a gossip push on the community's topic.
    pub(crate) fn publish(&mut self, bytes: Vec<u8>) -> Result<(), gossipsub::PublishError> {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), bytes)
            .map(|_| ())
    }

    /// Tells gossipsub what became of a message (forward it, drop it, or drop it and score
    /// its sender down).
    pub(crate) fn report(
        &mut self,
        id: &gossipsub::MessageId,
        source: &PeerId,
        acceptance: MessageAcceptance,
    ) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, acceptance);
    }
}

/// Starts the listeners; returns how many were accepted.
fn listen(swarm: &mut Swarm<Behaviour>, listen: &[Multiaddr]) -> usize {
    let tcp = |ip: std::net::IpAddr, port: u16| -> Multiaddr {
        Multiaddr::empty().with(ip.into()).with(Protocol::Tcp(port))
    };
    let mut wanted = 0;
    if listen.is_empty() {
        // A fixed port by default, so the addresses neighbours remember (and invite codes
        // carry) stay right across restarts; any free port when it is taken (a second
        // node on this computer).
        // libp2p sets SO_REUSEPORT on listeners, so two nodes could share the port and
        // split its connections: probe with plain sockets first, both families before
        // either listens (an IPv6 socket also covers IPv4 on Linux).
        let v4 = std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED);
        let v6 = std::net::IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED);
        let free = |ip| std::net::TcpListener::bind((ip, DEFAULT_PORT)).is_ok();
        let (free4, free6) = (free(v4), free(v6));
        for (ip, free) in [(v4, free4), (v6, free6)] {
            let any = tcp(ip, if free { DEFAULT_PORT } else { 0 });
            match swarm
                .listen_on(any.clone())
                .or_else(|_| swarm.listen_on(tcp(ip, 0)))
            {
                Ok(_) => wanted += 1,
                // IPv6 may be off on this machine: not fatal while IPv4 works.
                Err(e) => warn!(addr = %any, error = %e, "cannot listen"),
            }
        }
    } else {
        for addr in listen {
            match swarm.listen_on(addr.clone()) {
                Ok(_) => wanted += 1,
                Err(e) => warn!(%addr, error = %e, "cannot listen"),
            }
        }
    }
    wanted
}

/// `address` with `peer` at its end, unless it names a peer already (mDNS addresses may).
pub(crate) fn with_peer(address: Multiaddr, peer: PeerId) -> Multiaddr {
    if address.iter().any(|p| matches!(p, Protocol::P2p(_))) {
        address
    } else {
        address.with(Protocol::P2p(peer))
    }
}

/// The peer an address names, if any.
pub(crate) fn peer_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

/// `address` without its peer id.
pub(crate) fn without_peer(address: &Multiaddr) -> Multiaddr {
    address
        .iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect()
}

/// Dial options for `address`, from a fresh local port. libp2p reuses the listening port for
/// outgoing connections by default; when two nodes that found each other on the LAN dial
/// each other at the same instant from their listening ports, TCP merges the two attempts
/// into one connection where both sides think they dialled, and the Noise handshake fails.
fn dial_opts(address: Multiaddr) -> DialOpts {
    match peer_of(&address) {
        Some(peer) => DialOpts::peer_id(peer)
            .addresses(vec![address])
            .allocate_new_port()
            .build(),
        None => DialOpts::unknown_peer_id()
            .address(address)
            .allocate_new_port()
            .build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_are_added_found_and_removed_in_addresses() {
        let peer = PeerId::random();
        let bare: Multiaddr = "/ip4/192.168.1.20/tcp/4747".parse().unwrap();
        let full = with_peer(bare.clone(), peer);
        assert_eq!(peer_of(&full), Some(peer));
        assert_eq!(with_peer(full.clone(), PeerId::random()), full, "kept");
        assert_eq!(without_peer(&full), bare);
        assert_eq!(peer_of(&bare), None);
    }
}

//! The libp2p side of a node: the community's private transport, the combined behaviour, and
//! the names of the community's sync protocol and gossip topic.
//!
//! Stack (`docs/protocol.md`, section 1): TCP, then the private-network layer (pnet) keyed by
//! the community, then Noise, then Yamux. A node without the community's key cannot finish
//! a handshake: its bytes decrypt to garbage, so the first protocol negotiation fails or
//! stalls until [`NetConfig::handshake_timeout`].
//!
//! This module builds the [`Swarm`]; driving it (dialing mDNS discoveries, validating gossip,
//! running sync sessions over [`libp2p_stream`] streams) is the node actor's job.

use std::{collections::HashSet, fmt, time::Duration};

use libp2p::{
    StreamProtocol, Swarm, SwarmBuilder, Transport as _, autonat,
    connection_limits::{self, ConnectionLimits},
    core::{transport::OrTransport, upgrade::Version},
    dcutr,
    gossipsub::{
        self, DataTransform, IdentTopic, MessageAuthenticity, MessageId, RawMessage, TopicHash,
        ValidationMode, WhitelistSubscriptionFilter,
    },
    identify,
    identity::Keypair,
    mdns, noise, ping,
    pnet::{PnetConfig, PreSharedKey},
    relay,
    swarm::{NetworkBehaviour, behaviour::toggle::Toggle},
    tcp, yamux,
};
use sha2::{Digest as _, Sha256};

/// Largest gossip message payload, in bytes (64 KiB): one CBOR `Push`, the limit declared
/// once in [`entraide_crdt::limits::MAX_GOSSIP_BYTES`]. Enforced by
/// [`PayloadLimit`] both ways: `publish` of a larger payload fails with
/// `PublishError::TransformFailed`, and a larger received payload is rejected as invalid
/// before the application sees it.
pub const MAX_GOSSIP_MESSAGE_BYTES: usize = entraide_crdt::limits::MAX_GOSSIP_BYTES;

/// Room for gossipsub's own envelope around a payload (protobuf framing, topic, sender,
/// sequence number, signature: about 200 bytes with an ed25519 key), in bytes.
///
/// gossipsub's `max_transmit_size` bounds the whole RPC on the wire, not the payload, so a
/// payload of exactly [`MAX_GOSSIP_MESSAGE_BYTES`] needs this margin to get through.
pub const GOSSIP_ENVELOPE_BYTES: usize = 1024;

/// gossipsub's `max_transmit_size`: the largest gossipsub RPC sent or accepted, in bytes.
pub const GOSSIP_MAX_TRANSMIT_BYTES: usize = MAX_GOSSIP_MESSAGE_BYTES + GOSSIP_ENVELOPE_BYTES;

/// How often each connection is pinged: the round trip shown to people, and a last
/// resort for a connection that went dead where TCP keepalive is not available
/// (`watch_for_silence` normally closes it within 11 s). Once a minute keeps an idle
/// neighbourhood quiet (see docs/benchmarks.md, idle cost). libp2p-ping forgives a
/// connection its first failed ping, so on pings alone a dead connection is closed 80 to
/// 140 s after it died: see docs/protocol.md 1.2. Then mDNS and the redial rounds connect
/// again as soon as the network is back (see tests/tests/partition.rs).
pub const PING_INTERVAL: Duration = Duration::from_secs(60);

/// A neighbour connection idle this long gets a TCP keepalive probe (an empty segment the
/// other end's kernel answers; no application byte, nothing encrypted).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(8);
/// Between unanswered keepalive probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// Unanswered keepalive probes after which the kernel closes the connection.
pub const KEEPALIVE_PROBES: u32 = 3;
/// How long sent data may stay unacknowledged before the kernel closes the connection
/// (keepalive only runs while nothing is in flight).
pub const UNACKED_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes the kernel notice a neighbour that went silent (a Wi-Fi dropped, a cable pulled:
/// nothing says so, packets just stop) within [`KEEPALIVE_IDLE`] + [`KEEPALIVE_PROBES`] x
/// [`KEEPALIVE_INTERVAL`] (11 s) when the connection is idle, or [`UNACKED_TIMEOUT`] (10 s)
/// when it was sending. The connection then fails, libp2p closes it, and the neighbour is
/// shown gone (and redialled). Pings alone, once a minute, took 70 to 140 s; pinging every
/// few seconds would cost ten times the idle traffic above TCP, while keepalive probes add
/// no byte above TCP (docs/benchmarks.md, idle cost). Best effort: a system that refuses
/// an option keeps its defaults.
fn watch_for_silence(socket: &tcp::tokio::TcpStream) {
    let socket = socket2::SockRef::from(&socket.0);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "freebsd"
    ))]
    let keepalive = keepalive.with_retries(KEEPALIVE_PROBES);
    let _ = socket.set_tcp_keepalive(&keepalive);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket.set_tcp_user_timeout(Some(UNACKED_TIMEOUT));
}

/// How long a ping may go unanswered before its connection is closed. Round trips on a
/// LAN are milliseconds; ten seconds leaves room for a busy, slow device.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// gossipsub heartbeat. Forwarding is immediate; the heartbeat only repairs the mesh and
/// gossips message ids, so one second is plenty for a neighbourhood.
pub const GOSSIP_HEARTBEAT: Duration = Duration::from_secs(1);

/// Most connections to one peer. Two, because two nodes that find each other at the same
/// moment (mDNS) both dial; a third connection is never needed.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;

/// Most inbound connections still in their handshake at once: bounds what half-open
/// connections (from anyone who can reach the port, key or not) can cost.
pub const MAX_PENDING_INCOMING: u32 = 32;

/// Most outbound connections still in their handshake at once.
pub const MAX_PENDING_OUTGOING: u32 = 64;

/// Most established inbound connections.
pub const MAX_ESTABLISHED_INCOMING: u32 = 128;

/// Most established connections in total (inbound and outbound).
pub const MAX_ESTABLISHED_TOTAL: u32 = 256;

/// Most concurrent yamux streams per connection (identify, ping, gossipsub and the sync
/// session use a handful; the rest is slack for streams being closed).
pub const MAX_STREAMS_PER_CONNECTION: usize = 128;

/// Default for [`NetConfig::handshake_timeout`]. A stranger without the community key does
/// not fail fast: its bytes decrypt to garbage that multistream-select often reads as the
/// start of a long message and waits for, so most such connections end at this timeout.
/// Until then each holds one of the [`MAX_PENDING_INCOMING`] slots.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default for [`NetConfig::idle_timeout`]. Long, because reconnecting costs a full
/// handshake and a neighbour that went quiet is likely to speak again soon.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Default for [`NetConfig::mdns_query_interval`]: short, so a neighbour that just joined
/// the LAN shows up within seconds (libp2p's default is five minutes).
pub const DEFAULT_MDNS_QUERY_INTERVAL: Duration = Duration::from_secs(5);

/// Shortest mDNS query interval used, whatever the configuration says: a zero interval
/// would make the timer panic and a tiny one floods the LAN.
pub const MIN_MDNS_QUERY_INTERVAL: Duration = Duration::from_secs(1);

/// Most members a meeting point relays for at once (each holds a reservation: it may be
/// reached through the meeting point).
pub const RELAY_MAX_RESERVATIONS: usize = 128;
/// Most relayed connections a meeting point carries at once. Each lives only for a hole
/// punch: the board itself never goes through a relayed connection.
pub const RELAY_MAX_CIRCUITS: usize = 32;
/// Most relayed connections at once for one member.
pub const RELAY_MAX_CIRCUITS_PER_PEER: usize = 4;
/// Longest life of one relayed connection: room for the hole punch's three attempts.
pub const RELAY_MAX_CIRCUIT_DURATION: Duration = Duration::from_secs(120);
/// Most bytes one relayed connection may carry (the handshakes, identify and the hole
/// punch's messages take a few kilobytes).
pub const RELAY_MAX_CIRCUIT_BYTES: u64 = 64 * 1024;

/// How often a member behind a router asks the meeting point whether it can still reach
/// it directly (AutoNAT), once it knows; and how long it waits at start.
pub const AUTONAT_REFRESH: Duration = Duration::from_secs(15 * 60);

/// Longest community tag, in characters (the real ones are 16 hex digits).
pub const MAX_COMMUNITY_TAG_CHARS: usize = 64;

/// The identify protocol version we announce. Informational: pnet already fences the
/// community, and protocol names carry the community tag.
pub const IDENTIFY_PROTOCOL_VERSION: &str = "/entraide/1";

/// How a node joins the network.
#[derive(Clone)]
pub struct NetConfig {
    /// The community's pre-shared key: `sha256("entraide/pnet/v1\0" || community secret)`.
    /// Secret: never printed (the `Debug` output shows a fingerprint).
    pub psk: [u8; 32],
    /// Short id of the community (16 hex digits), used to namespace protocol names and the
    /// gossip topic. At most [`MAX_COMMUNITY_TAG_CHARS`] ASCII letters, digits or `-`.
    pub community_tag: String,
    /// Whether to look for neighbours with mDNS. Discoveries come out as
    /// [`BehaviourEvent::Mdns`]; mDNS never dials, the caller does.
    pub mdns: bool,
    /// How long a connection with no open stream and nothing to do stays open.
    ///
    /// Any open stream keeps its connection alive (an open sync stream included), and
    /// gossipsub keeps its streams open for the life of the connection, so between two
    /// entraide nodes this rarely fires; it closes connections to peers that never opened
    /// a gossipsub stream.
    pub idle_timeout: Duration,
    /// How often mDNS asks the LAN for peers (raised to [`MIN_MDNS_QUERY_INTERVAL`]).
    pub mdns_query_interval: Duration,
    /// Longest time a connection may take to get through TCP, pnet, Noise and Yamux.
    pub handshake_timeout: Duration,
    /// Counts the bytes of every connection (shown in the node's status).
    pub traffic: TrafficCounter,
    /// Whether to relay for other members (a meeting point, `entraide up --announce`):
    /// two homes behind their own routers meet through it and try to connect directly
    /// (hole punching). Bounded by [`RELAY_MAX_RESERVATIONS`] and [`RELAY_MAX_CIRCUITS`].
    pub relay_server: bool,
}

impl NetConfig {
    /// A configuration for the community with key `psk` and tag `community_tag`, with mDNS
    /// on and the default timeouts.
    pub fn new(psk: [u8; 32], community_tag: impl Into<String>) -> Self {
        Self {
            psk,
            community_tag: community_tag.into(),
            mdns: true,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            mdns_query_interval: DEFAULT_MDNS_QUERY_INTERVAL,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            traffic: TrafficCounter::default(),
            relay_server: false,
        }
    }
}

impl fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key lets anyone into the community: show only its fingerprint.
        let fingerprint = PreSharedKey::new(self.psk).fingerprint().to_string();
        f.debug_struct("NetConfig")
            .field("psk_fingerprint", &fingerprint)
            .field("community_tag", &self.community_tag)
            .field("mdns", &self.mdns)
            .field("idle_timeout", &self.idle_timeout)
            .field("mdns_query_interval", &self.mdns_query_interval)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("relay_server", &self.relay_server)
            .finish()
    }
}

/// Why the network could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The community tag cannot name protocols and topics (empty, too long, or characters
    /// other than ASCII letters, digits and `-`).
    #[error(
        "invalid community tag {0:?}: expected 1 to {MAX_COMMUNITY_TAG_CHARS} ASCII letters, digits or '-'"
    )]
    InvalidCommunityTag(String),
    /// The identity key cannot be used for the Noise handshake.
    #[error("cannot set up noise: {0}")]
    Noise(#[from] noise::Error),
    /// gossipsub refused its configuration (a limit out of range).
    #[error("invalid gossipsub configuration: {0}")]
    GossipsubConfig(#[from] gossipsub::ConfigBuilderError),
    /// gossipsub refused to start with this key and configuration.
    #[error("cannot start gossipsub: {0}")]
    Gossipsub(&'static str),
    /// mDNS could not start (it watches network interfaces; that needs a tokio runtime and
    /// the right to open netlink sockets).
    #[error("cannot start mDNS: {0}")]
    Mdns(#[source] std::io::Error),
    /// The identity key is not a libp2p ed25519 key.
    #[error("the identity key cannot be used by the network: {0}")]
    Identity(#[from] libp2p::identity::DecodingError),
    /// gossipsub refused the community's topic.
    #[error("cannot subscribe to the community's topic: {0}")]
    Subscribe(#[from] gossipsub::SubscriptionError),
    /// The sync protocol was already taken.
    #[error("cannot accept sync streams: {0}")]
    Streams(#[from] libp2p_stream::AlreadyRegistered),
    /// No listen address was accepted.
    #[error("could not listen on any address")]
    NoListener,
    /// The listeners never reported an address.
    #[error("no listen address came up")]
    NoListenAddress,
}

/// The gossipsub behaviour we run: payloads bounded by [`PayloadLimit`], and only our
/// community's topic is tracked for remote peers, so their subscriptions to other topics
/// cost us nothing.
pub type Gossipsub = gossipsub::Behaviour<PayloadLimit, WhitelistSubscriptionFilter>;

/// A gossipsub "transform" that changes nothing but refuses payloads over
/// [`MAX_GOSSIP_MESSAGE_BYTES`].
///
/// Why: gossipsub's own `max_transmit_size` bounds the whole RPC on the wire, and `publish`
/// compares it with the bare payload. Without this check a payload slightly under
/// [`GOSSIP_MAX_TRANSMIT_BYTES`] would pass `publish`, grow past the limit once wrapped, and
/// be refused by every receiver's decoder (which closes the inbound gossipsub stream it came
/// on, not just drops the message).
#[derive(Debug, Default, Clone, Copy)]
pub struct PayloadLimit;

impl PayloadLimit {
    fn check(len: usize) -> Result<(), std::io::Error> {
        if len > MAX_GOSSIP_MESSAGE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("gossip payload of {len} bytes is over {MAX_GOSSIP_MESSAGE_BYTES}"),
            ));
        }
        Ok(())
    }
}

impl DataTransform for PayloadLimit {
    fn inbound_transform(&self, raw: RawMessage) -> Result<gossipsub::Message, std::io::Error> {
        Self::check(raw.data.len())?;
        Ok(gossipsub::Message {
            source: raw.source,
            data: raw.data,
            sequence_number: raw.sequence_number,
            topic: raw.topic,
        })
    }

    fn outbound_transform(
        &self,
        _topic: &TopicHash,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, std::io::Error> {
        Self::check(data.len())?;
        Ok(data)
    }
}

/// Everything a node speaks on a connection.
///
/// `limits` comes first: the derived code asks each behaviour in field order whether to
/// accept a connection, so a refused connection is refused before anyone else sets up for it.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Connection limits (per peer, pending, established). Emits no events.
    pub limits: connection_limits::Behaviour,
    /// Exchanges public keys, listen addresses and protocols with each peer.
    pub identify: identify::Behaviour,
    /// Measures round-trip time; the traffic also shows the connection is alive.
    pub ping: ping::Behaviour,
    /// LAN discovery, off when [`NetConfig::mdns`] is false.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// Push of new changes on the community topic. Strict validation (signed by its
    /// author), and every message waits for `report_message_validation_result` before it is
    /// forwarded. Report within the message cache's life (5 heartbeats, so 5 s): after that
    /// the report returns `false` and the message is simply forgotten.
    pub gossipsub: Gossipsub,
    /// Raw streams for the sync sessions: use [`libp2p_stream::Behaviour::new_control`].
    pub stream: libp2p_stream::Behaviour,
    /// Reachable through a meeting point that relays: a reservation there, and dials of
    /// other members through it (`/p2p-circuit` addresses).
    pub relay_client: relay::client::Behaviour,
    /// Relays for other members, on a meeting point only ([`NetConfig::relay_server`]).
    pub relay: Toggle<relay::Behaviour>,
    /// Hole punching: turns a relayed connection into a direct one when both routers let
    /// it (Direct Connection Upgrade through Relay).
    pub dcutr: dcutr::Behaviour,
    /// Whether other members can dial us directly, asked of the meeting points we know
    /// (AutoNAT v1); answers such questions for others.
    pub autonat: autonat::v1::Behaviour,
}

impl fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Several inner behaviours have no `Debug`; their state is not interesting here.
        f.debug_struct("Behaviour")
            .field("mdns", &self.mdns.is_enabled())
            .finish_non_exhaustive()
    }
}

impl Behaviour {
    /// The behaviour of a node with identity `keypair` in the community of `config`.
    ///
    /// `relay_client` is the behaviour half of [`relay::client::new`], whose transport half
    /// goes into the swarm's transport ([`build_swarm`] does both). With mDNS on, call this
    /// inside a tokio runtime.
    pub fn new(
        keypair: &Keypair,
        config: &NetConfig,
        relay_client: relay::client::Behaviour,
    ) -> Result<Self, NetError> {
        check_community_tag(&config.community_tag)?;
        let local_peer_id = keypair.public().to_peer_id();

        let limits = connection_limits::Behaviour::new(
            ConnectionLimits::default()
                .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
                .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
                .with_max_pending_outgoing(Some(MAX_PENDING_OUTGOING))
                .with_max_established_incoming(Some(MAX_ESTABLISHED_INCOMING))
                .with_max_established(Some(MAX_ESTABLISHED_TOTAL)),
        );

        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL_VERSION.to_owned(), keypair.public())
                .with_agent_version(format!("entraide/{}", env!("CARGO_PKG_VERSION"))),
        );

        let ping = ping::Behaviour::new(
            ping::Config::new()
                .with_interval(PING_INTERVAL)
                .with_timeout(PING_TIMEOUT),
        );

        let mdns = if config.mdns {
            let mdns_config = mdns::Config {
                query_interval: config.mdns_query_interval.max(MIN_MDNS_QUERY_INTERVAL),
                ..mdns::Config::default()
            };
            Some(mdns::tokio::Behaviour::new(mdns_config, local_peer_id).map_err(NetError::Mdns)?)
        } else {
            None
        };

        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(ValidationMode::Strict)
            .validate_messages()
            .max_transmit_size(GOSSIP_MAX_TRANSMIT_BYTES)
            .heartbeat_interval(GOSSIP_HEARTBEAT)
            .message_id_fn(|message| gossip_message_id(&message.data))
            .build()?;
        let topics = HashSet::from([gossip_topic(&config.community_tag).hash()]);
        let gossipsub = gossipsub::Behaviour::new_with_subscription_filter_and_transform(
            MessageAuthenticity::Signed(keypair.clone()),
            gossip_config,
            WhitelistSubscriptionFilter(topics),
            PayloadLimit,
        )
        .map_err(NetError::Gossipsub)?;

        let relay = config.relay_server.then(|| {
            relay::Behaviour::new(
                local_peer_id,
                relay::Config {
                    max_reservations: RELAY_MAX_RESERVATIONS,
                    max_reservations_per_peer: 2,
                    max_circuits: RELAY_MAX_CIRCUITS,
                    max_circuits_per_peer: RELAY_MAX_CIRCUITS_PER_PEER,
                    max_circuit_duration: RELAY_MAX_CIRCUIT_DURATION,
                    max_circuit_bytes: RELAY_MAX_CIRCUIT_BYTES,
                    ..relay::Config::default()
                },
            )
        });

        let autonat = autonat::v1::Behaviour::new(
            local_peer_id,
            autonat::v1::Config {
                // Only the meeting points we add are asked, never every neighbour: a LAN's
                // idle traffic stays what it was.
                use_connected: false,
                // Members are on home and LAN addresses as often as public ones; pnet
                // already keeps strangers out.
                only_global_ips: false,
                refresh_interval: AUTONAT_REFRESH,
                // As a server: at most 30 dial-backs a minute in all and 3 per member
                // (rust-libp2p allows as many per second).
                throttle_clients_period: Duration::from_secs(60),
                ..autonat::v1::Config::default()
            },
        );

        Ok(Self {
            limits,
            identify,
            ping,
            mdns: Toggle::from(mdns),
            gossipsub,
            stream: libp2p_stream::Behaviour::new(),
            relay_client,
            relay: Toggle::from(relay),
            dcutr: dcutr::Behaviour::new(local_peer_id),
            autonat,
        })
    }
}

/// The sync session protocol of a community: `/entraide/<tag>/sync/1`.
pub fn sync_protocol(community_tag: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/entraide/{community_tag}/sync/1"))
        // Only a name without a leading '/' is refused, and this one has it: never taken.
        .unwrap_or(StreamProtocol::new("/entraide/invalid-tag/sync/1"))
}

/// The protocol on which a meeting point tells who is reachable through it:
/// `/entraide/<tag>/relayed/1` (`docs/protocol.md`, section 1.4).
pub fn relayed_protocol(community_tag: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/entraide/{community_tag}/relayed/1"))
        .unwrap_or(StreamProtocol::new("/entraide/invalid-tag/relayed/1"))
}

/// The gossip topic of a community: `entraide/<tag>/changes/1`.
pub fn gossip_topic(community_tag: &str) -> IdentTopic {
    IdentTopic::new(format!("entraide/{community_tag}/changes/1"))
}

/// The gossipsub id of a message with payload `data`: its SHA-256.
///
/// Content-addressed, so the same change pushed twice (by its author's two devices, or
/// republished after a reconnect) is one message and is dropped as a duplicate.
pub fn gossip_message_id(data: &[u8]) -> MessageId {
    MessageId::new(&Sha256::digest(data))
}

/// Whether `tag` can name the community's protocols and topic.
pub fn is_valid_community_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_COMMUNITY_TAG_CHARS
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn check_community_tag(tag: &str) -> Result<(), NetError> {
    if is_valid_community_tag(tag) {
        Ok(())
    } else {
        Err(NetError::InvalidCommunityTag(tag.to_owned()))
    }
}

/// Bytes carried by every TCP connection of a swarm, above TCP (with every protocol
/// overhead: pnet, Noise, Yamux, multistream-select). Shared by cheap clones.
#[derive(Clone, Debug, Default)]
pub struct TrafficCounter(std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>);

impl TrafficCounter {
    /// Bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.0[0].load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.0[1].load(std::sync::atomic::Ordering::Relaxed)
    }

    fn add(&self, which: usize, n: usize) {
        self.0[which].fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A socket that counts what crosses it.
#[derive(Debug)]
struct Counted<S> {
    inner: S,
    counter: TrafficCounter,
}

impl<S: futures::AsyncRead + Unpin> futures::AsyncRead for Counted<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &poll {
            self.counter.add(1, *n);
        }
        poll
    }
}

impl<S: futures::AsyncWrite + Unpin> futures::AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &poll {
            self.counter.add(0, *n);
        }
        poll
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Builds the swarm of a node with identity `keypair` in the community of `config`.
///
/// Transport: TCP (`TCP_NODELAY`), pnet keyed by [`NetConfig::psk`] before anything else is
/// said, then Noise and Yamux; connections idle for [`NetConfig::idle_timeout`] close (an
/// open sync stream keeps its connection alive). Must be called inside a tokio runtime.
/// Nothing listens yet: call [`Swarm::listen_on`].
pub fn build_swarm(keypair: Keypair, config: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let (relayed, relay_client) = relay::client::new(keypair.public().to_peer_id());
    let behaviour = Behaviour::new(&keypair, config, relay_client)?;
    let psk = PreSharedKey::new(config.psk);
    let noise_config = noise::Config::new(&keypair)?;
    let mut yamux_config = yamux::Config::default();
    yamux_config.set_max_num_streams(MAX_STREAMS_PER_CONNECTION);

    let traffic = config.traffic.clone();
    // Both closures below are infallible (their error type is `Infallible`).
    let Ok(builder) = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(move |_| {
            let tcp = tcp::tokio::Transport::new(tcp::Config::new().nodelay(true))
                .map(move |socket, _| {
                    watch_for_silence(&socket);
                    socket
                })
                .map(move |socket, _| Counted {
                    inner: socket,
                    counter: traffic.clone(),
                });
            // Relayed first: it takes only `/p2p-circuit` addresses and passes the rest on.
            // A relayed connection is a stream inside our connection to the meeting point;
            // it gets the same layers end to end, so the meeting point sees only ciphertext.
            OrTransport::new(relayed, tcp)
                // pnet wraps the raw socket, so even multistream-select runs encrypted.
                .and_then(move |socket, _| PnetConfig::new(psk).handshake(socket))
                .upgrade(Version::V1Lazy)
                .authenticate(noise_config)
                .multiplex(yamux_config)
        });
    let Ok(builder) = builder.with_behaviour(move |_| behaviour);
    let idle_timeout = config.idle_timeout;
    Ok(builder
        .with_swarm_config(|swarm_config| swarm_config.with_idle_connection_timeout(idle_timeout))
        .with_connection_timeout(config.handshake_timeout)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_community_tag() {
        assert_eq!(
            sync_protocol("0123abcd").as_ref(),
            "/entraide/0123abcd/sync/1"
        );
        assert_eq!(
            gossip_topic("0123abcd").hash().as_str(),
            "entraide/0123abcd/changes/1"
        );
    }

    #[test]
    fn community_tags_are_checked() {
        assert!(is_valid_community_tag("0123456789abcdef"));
        assert!(!is_valid_community_tag(""));
        assert!(!is_valid_community_tag("a/b"));
        assert!(!is_valid_community_tag("a b"));
        assert!(!is_valid_community_tag(
            &"a".repeat(MAX_COMMUNITY_TAG_CHARS + 1)
        ));
        let config = NetConfig {
            mdns: false,
            ..NetConfig::new([1; 32], "not/a/tag")
        };
        let keypair = Keypair::generate_ed25519();
        assert!(matches!(
            Behaviour::new(
                &keypair,
                &config,
                relay::client::new(keypair.public().to_peer_id()).1
            ),
            Err(NetError::InvalidCommunityTag(_))
        ));
    }

    #[test]
    fn message_id_is_the_hash_of_the_payload() {
        assert_eq!(gossip_message_id(b"x"), gossip_message_id(b"x"));
        assert_ne!(gossip_message_id(b"x"), gossip_message_id(b"y"));
        assert_eq!(gossip_message_id(b"").0.len(), 32);
    }

    #[test]
    fn payload_limit_applies_both_ways() {
        let topic = gossip_topic("t").hash();
        let at_limit = vec![0u8; MAX_GOSSIP_MESSAGE_BYTES];
        let over = vec![0u8; MAX_GOSSIP_MESSAGE_BYTES + 1];
        assert!(
            PayloadLimit
                .outbound_transform(&topic, at_limit.clone())
                .is_ok()
        );
        assert!(
            PayloadLimit
                .outbound_transform(&topic, over.clone())
                .is_err()
        );
        let raw = |data: Vec<u8>| RawMessage {
            source: None,
            data,
            sequence_number: None,
            topic: topic.clone(),
            signature: None,
            key: None,
            validated: false,
        };
        assert_eq!(
            PayloadLimit
                .inbound_transform(raw(at_limit))
                .unwrap()
                .data
                .len(),
            MAX_GOSSIP_MESSAGE_BYTES
        );
        assert!(PayloadLimit.inbound_transform(raw(over)).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let config = NetConfig::new([0x42; 32], "tag");
        let shown = format!("{config:?}");
        assert!(!shown.contains("42, 42"), "{shown}");
        assert!(!shown.contains(&hex::encode([0x42; 32])), "{shown}");
        assert!(shown.contains("psk_fingerprint"), "{shown}");
    }
}

//! The actor: one task that owns the swarm, the board, the store and every sync session.
//!
//! Handles send commands; session I/O tasks send session inputs; the swarm sends its
//! events. Local work comes first (`biased` select), then the network.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use entraide_crdt::wire::Push;
use entraide_crdt::{
    AuthorId, Board, DeviceId, FeedId, LocalChange, PostId, Session, SessionEvent, SessionStats,
    Writer,
};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identify, mdns};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, info, warn};

use crate::community::Invite;
use crate::data_dir::Profile;
use crate::frame::{FrameError, read_frame_within, write_frame};
use crate::net::{self, Behaviour, BehaviourEvent, NetConfig};
use crate::node::{
    COMMAND_CAPACITY, Command, EVENT_CAPACITY, Node, NodeConfig, NodeError, NodeEvent, PeerInfo,
    Status, SyncTraffic, WhoAmI,
};
use crate::store::{Store, StoreError};

/// Capacity of the channel from all session readers to the actor.
pub const SESSION_INPUT_CAPACITY: usize = 64;
/// Frames queued to one peer before the session is dropped as too slow.
pub const SESSION_OUTPUT_CAPACITY: usize = 64;
/// Most sessions opened by peers at once.
pub const MAX_INBOUND_SESSIONS: usize = 32;
/// How long a peer that sent invalid data stays disconnected.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Most banned peers remembered.
pub const MAX_BANNED: usize = 1024;
/// Most peers tracked (connected or recently seen).
pub const MAX_PEERS: usize = 1024;
/// Time a frame's payload has to arrive once its length prefix has.
pub const FRAME_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Delay before a sync round after the board changed, so bursts share one round.
pub const RESYNC_DEBOUNCE: Duration = Duration::from_millis(300);
/// How often dirty feeds are saved.
pub const PERSIST_INTERVAL: Duration = Duration::from_secs(1);
/// Gossip pushes taken from one feed in a burst. A push is one live change (a post, a
/// response, a name); people make a few a minute. Past the budget, pushes of that feed are
/// ignored (not forwarded, not blamed) and its changes come by the next sync session,
/// many per message: automerge 0.12 pays for each apply in proportion to the whole
/// document, so one change at a time from a flooding author costs quadratic time, while
/// a batch costs little more than one change (see docs/threat-model.md).
pub const GOSSIP_BURST: f64 = 60.0;
/// Gossip pushes per second per feed once the burst is spent.
pub const GOSSIP_PER_SECOND: f64 = 1.0;
/// Sync rounds started to fetch what was pushed past a gossip budget: at most one per this.
pub const THROTTLED_ROUND_EVERY: Duration = Duration::from_secs(2);
/// Most feeds whose gossip budget is tracked (feeds at full budget are forgotten first).
pub const MAX_GOSSIP_BUDGETS: usize = 4096;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What session I/O tasks tell the actor.
#[derive(Debug)]
pub(crate) enum SessionInput {
    /// A stream we asked for is open.
    Opened(PeerId, libp2p::Stream),
    /// Opening failed.
    OpenFailed(PeerId, String),
    /// A frame arrived.
    Frame(PeerId, u64, Vec<u8>),
    /// The stream ended.
    Closed(PeerId, u64, Option<String>),
    /// The peer broke the framing (a frame over the limit, or too slow to arrive).
    Violation(PeerId, u64, String),
}

struct PeerSession {
    id: u64,
    session: Session,
    out: mpsc::Sender<Vec<u8>>,
    inbound: bool,
}

#[derive(Default)]
struct PeerState {
    author: Option<AuthorId>,
    addresses: BTreeSet<Multiaddr>,
    connections: usize,
    session: Option<PeerSession>,
    opening: bool,
    last_sync: Option<i64>,
    /// Last ping round trip.
    rtt: Option<Duration>,
    /// Session traffic of finished sessions (the open one is added when asked).
    traffic: SessionStats,
}

struct Net {
    swarm: Swarm<Behaviour>,
    traffic: crate::net::TrafficCounter,
    control: libp2p_stream::Control,
    incoming: libp2p_stream::IncomingStreams,
    protocol: StreamProtocol,
    topic: IdentTopic,
    listen_addrs: Vec<Multiaddr>,
}

struct Actor {
    config: NodeConfig,
    profile: Profile,
    writer: Writer,
    board: Board,
    store: Store,
    net: Option<Net>,
    peers: HashMap<PeerId, PeerState>,
    banned: HashMap<PeerId, Instant>,
    dirty: HashSet<FeedId>,
    /// Neighbours mDNS found on the LAN (until it says they expired), redialled each round
    /// while not connected: a first dial can fail (a handshake cut short, a peer starting).
    lan_peers: HashMap<PeerId, Multiaddr>,
    events: broadcast::Sender<NodeEvent>,
    inputs_tx: mpsc::Sender<SessionInput>,
    next_session: u64,
    resync_at: Option<tokio::time::Instant>,
    /// Per feed: gossip pushes still allowed, and when that was computed.
    gossip_budget: HashMap<FeedId, (f64, Instant)>,
    /// When a sync round was last started for pushes past their budget.
    throttled_round: Option<Instant>,
}

pub(crate) async fn start(config: NodeConfig) -> Result<Node, NodeError> {
    let profile = config.data_dir.load()?;
    let store = open_store(&config).await?;
    let (board, skipped) = store.load_board(&profile.key.id())?;
    for s in &skipped {
        warn!(feed = %s.feed, error = %s.error, "left out a damaged feed; neighbours will resend it");
    }
    // A new device id (so a new automerge actor) for every start: a change lost in a
    // crash, or a database lost or rolled back, can never be followed by a different
    // change with the same actor and sequence number (which neighbours would refuse as
    // equivocation). The cost is one actor entry per start in the resident's feed.
    let writer = Writer::new(profile.key.clone(), DeviceId(rand::random()));
    let (inputs_tx, inputs_rx) = mpsc::channel(SESSION_INPUT_CAPACITY);
    let net = if config.offline {
        None
    } else {
        Some(start_network(&profile, &config).await?)
    };
    let (commands, commands_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let mut actor = Actor {
        config,
        profile,
        writer,
        board,
        store,
        net,
        peers: HashMap::new(),
        banned: HashMap::new(),
        dirty: HashSet::new(),
        lan_peers: HashMap::new(),
        events: events.clone(),
        inputs_tx,
        next_session: 0,
        resync_at: None,
        gossip_budget: HashMap::new(),
        throttled_round: None,
    };
    actor.dial_known_peers();
    tokio::spawn(actor.run(commands_rx, inputs_rx));
    Ok(Node { commands, events })
}

/// The TCP port a node listens on for neighbours unless told otherwise.
pub const DEFAULT_PORT: u16 = 4747;

/// How long to wait for another process (a short CLI command) to let go of the database.
pub const STORE_LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// Opens the store, waiting a little while another process holds it: a command like
/// `entraide list` run while `entraide up` starts holds it for a fraction of a second.
async fn open_store(config: &NodeConfig) -> Result<Store, NodeError> {
    let deadline = Instant::now() + config.store_lock_patience;
    loop {
        match Store::open(&config.data_dir.db_path()) {
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return Ok(other?),
        }
    }
}

async fn start_network(profile: &Profile, config: &NodeConfig) -> Result<Net, NodeError> {
    let network = |e: &dyn std::fmt::Display| NodeError::Network(e.to_string());
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(profile.key.to_seed())
        .map_err(|e| network(&e))?;
    let tag = profile.community.tag();
    let net_config = NetConfig {
        mdns: config.mdns,
        ..NetConfig::new(profile.community.psk(), tag.clone())
    };
    let traffic = net_config.traffic.clone();
    let mut swarm = net::build_swarm(keypair, &net_config).map_err(|e| network(&e))?;
    let protocol = net::sync_protocol(&tag);
    let topic = net::gossip_topic(&tag);
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .map_err(|e| network(&e))?;
    let mut control = swarm.behaviour().stream.new_control();
    let incoming = control.accept(protocol.clone()).map_err(|e| network(&e))?;
    let mut wanted = 0;
    if config.listen.is_empty() {
        // A fixed port by default, so the addresses neighbours remember (and invite codes
        // carry) stay right across restarts; any free port when it is taken (a second
        // node on this computer).
        // libp2p sets SO_REUSEPORT on listeners, so two nodes could share the port and
        // split its connections: probe with plain sockets first, both families before
        // either listens (an IPv6 socket also covers IPv4 on Linux).
        let free4 =
            std::net::TcpListener::bind((std::net::Ipv4Addr::UNSPECIFIED, DEFAULT_PORT)).is_ok();
        let free6 =
            std::net::TcpListener::bind((std::net::Ipv6Addr::UNSPECIFIED, DEFAULT_PORT)).is_ok();
        for (family, free) in [("/ip4/0.0.0.0", free4), ("/ip6/::", free6)] {
            let port = if free { DEFAULT_PORT } else { 0 };
            let any: Multiaddr = format!("{family}/tcp/{port}")
                .parse()
                .map_err(|e| network(&e))?;
            let fallback: Multiaddr = format!("{family}/tcp/0").parse().map_err(|e| network(&e))?;
            match swarm
                .listen_on(any.clone())
                .or_else(|_| swarm.listen_on(fallback))
            {
                Ok(_) => wanted += 1,
                // IPv6 may be off on this machine: not fatal while IPv4 works.
                Err(e) => warn!(addr = %any, error = %e, "cannot listen"),
            }
        }
    } else {
        for addr in &config.listen {
            match swarm.listen_on(addr.clone()) {
                Ok(_) => wanted += 1,
                Err(e) => warn!(%addr, error = %e, "cannot listen"),
            }
        }
    }
    if wanted == 0 {
        return Err(NodeError::Network("could not listen on any address".into()));
    }
    // Wait until the listeners report their addresses, so callers can print them.
    let mut listen_addrs = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    let mut settled = 0;
    while settled < wanted {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    listen_addrs.push(address);
                    settled += 1;
                }
                SwarmEvent::ListenerClosed { .. } | SwarmEvent::ListenerError { .. } => settled += 1,
                _ => {}
            },
            _ = &mut deadline => break,
        }
    }
    if listen_addrs.is_empty() {
        return Err(NodeError::Network("no listen address came up".into()));
    }
    Ok(Net {
        swarm,
        traffic,
        control,
        incoming,
        protocol,
        topic,
        listen_addrs,
    })
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut inputs: mpsc::Receiver<SessionInput>,
    ) {
        let mut resync = tokio::time::interval(self.config.resync_interval);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut persist = tokio::time::interval(PERSIST_INTERVAL);
        persist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let resync_at = self.resync_at;
            let resync_soon = async move {
                match resync_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Shutdown(reply)) => {
                        self.shutdown();
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.handle_command(command),
                    None => {
                        self.shutdown();
                        return;
                    }
                },
                Some(input) = inputs.recv() => self.handle_session_input(input),
                event = next_net_event(&mut self.net) => match event {
                    NetEvent::Swarm(event) => self.handle_swarm_event(event),
                    NetEvent::Incoming(peer, stream) => self.attach(peer, stream, true),
                },
                _ = resync.tick() => self.resync_round(),
                _ = resync_soon => {
                    self.resync_at = None;
                    self.sync_all_sessions();
                }
                _ = persist.tick() => self.persist_dirty(),
            }
        }
    }

    fn shutdown(&mut self) {
        self.persist_dirty();
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.end_session(peer);
        }
        if let Err(e) = self.store.flush() {
            warn!(error = %e, "could not flush the database on shutdown");
        }
        debug!("node stopped");
    }

    fn emit(&self, event: NodeEvent) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    // --- Commands ---

    fn handle_command(&mut self, command: Command) {
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
                    let helper = self.resolve_helper(id, &helper, now)?;
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
                    let helper = self.resolve_helper(id, &helper, now)?;
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
            Command::List(filter, reply) => {
                let _ = reply.send(self.board.view(&filter, now));
            }
            Command::Page(filter, offset, limit, reply) => {
                let _ = reply.send(self.board.page(&filter, now, offset, limit));
            }
            Command::Show(post, reply) => {
                let result = self
                    .resolve_post(&post)
                    .and_then(|id| self.board.post(id, now).ok_or(NodeError::NoSuchPost(post)));
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
                let _ = reply.send(WhoAmI {
                    author,
                    fingerprint: author.fmt_short(),
                    name: self.board.name_of(&author),
                    community: self.profile.community.tag(),
                    peer_id: self.peer_id().to_string(),
                    identity_file: self.config.data_dir.identity_path(),
                    name_lookalikes: self.board.lookalikes(&author),
                });
            }
            Command::Invite(reply) => {
                let _ = reply.send(self.invite_code());
            }
            Command::Dial(address, reply) => {
                let result = self.dial(address.clone(), true);
                let _ = reply.send(result);
            }
            Command::Shutdown(_) => unreachable!("handled in run"),
        }
    }

    fn peer_id(&self) -> PeerId {
        libp2p::identity::Keypair::ed25519_from_bytes(self.profile.key.to_seed())
            .map(|k| k.public().to_peer_id())
            .unwrap_or(PeerId::random())
    }

    /// Stores a local change durably, then pushes it to neighbours.
    fn commit_local(&mut self, change: LocalChange) -> Result<(), NodeError> {
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
            self.writer = Writer::new(self.profile.key.clone(), DeviceId(rand::random()));
            return Err(e.into());
        }
        if let Some(net) = &mut self.net {
            let push = Push {
                feed: change.feed,
                change: change.change,
                signed: change.signed,
            };
            match net
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(net.topic.clone(), push.encode())
            {
                Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
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

    fn resolve_post(&self, text: &str) -> Result<PostId, NodeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(NodeError::NoSuchPost(text.into()));
        }
        match self.board.find_posts(text).as_slice() {
            [] => Err(NodeError::NoSuchPost(text.into())),
            [one] => Ok(*one),
            _ => Err(NodeError::AmbiguousPost(text.into())),
        }
    }

    /// A helper by author id, id prefix, fingerprint or name, among those who responded.
    fn resolve_helper(&self, post: PostId, text: &str, now: i64) -> Result<AuthorId, NodeError> {
        let wanted = text.trim().to_lowercase();
        let view = self
            .board
            .post(post, now)
            .ok_or_else(|| NodeError::NoSuchPost(post.to_string()))?;
        let matches: Vec<AuthorId> = view
            .responses
            .iter()
            .filter(|r| {
                !wanted.is_empty()
                    && (r.helper.to_string().starts_with(&wanted)
                        // 20 digits as shown, or any prefix of 8 or more (the 8-digit
                        // fingerprints shown before): unique among this post's helpers.
                        || r.helper.matches_fingerprint(&wanted)
                        || r.helper_name
                            .as_deref()
                            .is_some_and(|n| n.to_lowercase() == wanted))
            })
            .map(|r| r.helper)
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => {
                // A full id of someone who has not responded: let the board say why.
                wanted
                    .parse()
                    .map_err(|_| NodeError::NoSuchHelper(text.into()))
            }
            _ => Err(NodeError::NoSuchHelper(format!("{text} (several match)"))),
        }
    }

    fn status(&self, now: i64) -> Status {
        let author = self.writer.author();
        let last_sync = self.peers.values().filter_map(|p| p.last_sync).max();
        Status {
            author,
            name: self.board.name_of(&author),
            community: self.profile.community.tag(),
            online: self.net.is_some(),
            listen_addresses: self
                .net
                .as_ref()
                .map(|n| n.listen_addrs.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            peers_connected: self.peers.values().filter(|p| p.connections > 0).count(),
            last_sync,
            recently_synced_peers: self
                .peers
                .values()
                .filter(|p| p.last_sync.is_some_and(|t| now - t < 600))
                .count(),
            board: self.board.stats(now),
            board_digest: hex::encode(self.board.digest()),
            network_bytes_sent: self.net.as_ref().map(|n| n.traffic.sent()).unwrap_or(0),
            network_bytes_received: self.net.as_ref().map(|n| n.traffic.received()).unwrap_or(0),
        }
    }

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let mut infos: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(id, p)| PeerInfo {
                peer_id: id.to_string(),
                author: p.author,
                name: p.author.and_then(|a| self.board.name_of(&a)),
                connected: p.connections > 0,
                addresses: p.addresses.iter().map(ToString::to_string).collect(),
                last_sync: p.last_sync,
                rtt_micros: p.rtt.map(|d| d.as_micros() as u64),
                sync: {
                    let mut t = p.traffic;
                    if let Some(s) = &p.session {
                        add_traffic(&mut t, &s.session.stats());
                    }
                    SyncTraffic {
                        bytes_in: t.bytes_in,
                        bytes_out: t.bytes_out,
                        frames_in: t.frames_in,
                        frames_out: t.frames_out,
                        changes_applied: t.changes_applied,
                    }
                },
            })
            .collect();
        infos.sort_by(|a, b| {
            b.connected
                .cmp(&a.connected)
                .then(a.peer_id.cmp(&b.peer_id))
        });
        infos
    }

    /// An invite code with the addresses a neighbour is likely to reach: LAN IPv4 first,
    /// then other global addresses; loopback and link-local only when there is nothing
    /// else. At most two, without the peer id (the handshake tells who answers), so the
    /// code stays short enough to type and to scan.
    fn invite_code(&self) -> String {
        let mut addresses: Vec<Multiaddr> = Vec::new();
        if let Some(net) = &self.net {
            let mut listen: Vec<&Multiaddr> = net.listen_addrs.iter().collect();
            listen.sort_by_key(|a| reach_rank(a));
            let best = listen.first().map(|a| reach_rank(a)).unwrap_or(0);
            addresses = listen
                .into_iter()
                .filter(|a| reach_rank(a) <= best.max(1))
                .take(2)
                .cloned()
                .collect();
        }
        Invite {
            community: self.profile.community.clone(),
            addresses,
        }
        .encode()
    }

    // --- Network ---

    fn dial_known_peers(&mut self) {
        let mut addresses: Vec<Multiaddr> = self.config.peers.clone();
        for (addr, manual) in self.store.peers() {
            if manual && let Ok(addr) = addr.parse() {
                addresses.push(addr);
            }
        }
        for addr in addresses {
            if let Err(e) = self.dial(addr.clone(), true) {
                warn!(%addr, error = %e, "cannot dial");
            }
        }
    }

    /// Dials an address; `manual` ones are remembered and redialled.
    fn dial(&mut self, address: Multiaddr, manual: bool) -> Result<(), NodeError> {
        let Some(net) = &mut self.net else {
            if manual {
                self.store.remember_peer(&address.to_string(), true)?;
            }
            return Ok(());
        };
        let target = address.iter().find_map(|p| match p {
            libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
            _ => None,
        });
        let skip = target.is_some_and(|peer| {
            self.peers.get(&peer).is_some_and(|p| p.connections > 0)
                || self
                    .banned
                    .get(&peer)
                    .is_some_and(|until| *until > Instant::now())
        });
        if !skip {
            net.swarm
                .dial(dial_opts(address.clone()))
                .map_err(|e| NodeError::Dial(address.to_string(), e.to_string()))?;
        }
        // Remembered only once the swarm accepted to dial it (a usable address).
        if manual {
            self.store.remember_peer(&address.to_string(), true)?;
        }
        Ok(())
    }

    fn is_banned(&mut self, peer: &PeerId) -> bool {
        match self.banned.get(peer) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                self.banned.remove(peer);
                false
            }
            None => false,
        }
    }

    fn ban(&mut self, peer: PeerId, reason: &str) {
        warn!(%peer, reason, "peer sent invalid data: disconnecting it");
        if self.banned.len() >= MAX_BANNED
            && let Some(oldest) = self.banned.iter().min_by_key(|(_, t)| **t).map(|(p, _)| *p)
        {
            self.banned.remove(&oldest);
        }
        self.banned.insert(peer, Instant::now() + BAN_DURATION);
        self.end_session(peer);
        if let Some(net) = &mut self.net {
            let _ = net.swarm.disconnect_peer_id(peer);
        }
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                if let Some(net) = &mut self.net {
                    net.listen_addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if let Some(net) = &mut self.net {
                    net.listen_addrs.retain(|a| *a != address);
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                if self.is_banned(&peer_id) {
                    if let Some(net) = &mut self.net {
                        let _ = net.swarm.disconnect_peer_id(peer_id);
                    }
                    return;
                }
                if !self.peers.contains_key(&peer_id) && self.peers.len() >= MAX_PEERS {
                    self.forget_idle_peer();
                }
                let state = self.peers.entry(peer_id).or_default();
                state.connections += 1;
                state
                    .addresses
                    .insert(endpoint.get_remote_address().clone());
                info!(peer = %peer_id, address = %endpoint.get_remote_address(), "neighbour connected");
                self.maybe_open_session(peer_id);
                self.emit(NodeEvent::PeersChanged);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.connections = num_established as usize;
                }
                if num_established == 0 {
                    if let Some(state) = self.peers.get_mut(&peer_id) {
                        state.rtt = None;
                    }
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

    fn forget_idle_peer(&mut self) {
        if let Some(idle) = self
            .peers
            .iter()
            .filter(|(_, p)| p.connections == 0)
            .min_by_key(|(_, p)| p.last_sync)
            .map(|(id, _)| *id)
        {
            self.peers.remove(&idle);
        }
    }

    fn handle_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Mdns(mdns::Event::Expired(gone)) => {
                for (peer, _) in gone {
                    self.lan_peers.remove(&peer);
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if self.lan_peers.len() < MAX_PEERS || self.lan_peers.contains_key(&peer) {
                        self.lan_peers.insert(peer, addr.clone());
                    }
                    if self.peers.get(&peer).is_some_and(|p| p.connections > 0)
                        || self.is_banned(&peer)
                    {
                        continue;
                    }
                    debug!(%peer, %addr, "found on the LAN");
                    if let Some(net) = &mut self.net {
                        // mDNS addresses may already end with the peer id.
                        let addr = if addr
                            .iter()
                            .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
                        {
                            addr
                        } else {
                            addr.with(libp2p::multiaddr::Protocol::P2p(peer))
                        };
                        let _ = net.swarm.dial(dial_opts(addr.clone()));
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
                if let Some(net) = &mut self.net {
                    net.swarm.close_connection(connection);
                }
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if let Ok(key) = info.public_key.try_into_ed25519()
                    && let Some(state) = self.peers.get_mut(&peer_id)
                {
                    state.author = Some(AuthorId(key.to_bytes()));
                }
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.handle_push(propagation_source, message_id, &message.data),
            _ => {}
        }
    }

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
            Ok(push) if !self.take_gossip_budget(push.feed) => {
                // A feed pushing faster than people write: its changes come by sync
                // sessions, in batches.
                self.report(&id, &source, MessageAcceptance::Ignore);
                let now = Instant::now();
                if self
                    .throttled_round
                    .is_none_or(|at| now.duration_since(at) >= THROTTLED_ROUND_EVERY)
                {
                    self.throttled_round = Some(now);
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
            Ok((feed, applied)) => {
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

    /// Takes one push from `feed`'s gossip budget (a token bucket); false when spent.
    fn take_gossip_budget(&mut self, feed: FeedId) -> bool {
        let now = Instant::now();
        if self.gossip_budget.len() >= MAX_GOSSIP_BUDGETS && !self.gossip_budget.contains_key(&feed)
        {
            let refilled = |(tokens, at): &(f64, Instant)| {
                tokens + now.duration_since(*at).as_secs_f64() * GOSSIP_PER_SECOND >= GOSSIP_BURST
            };
            self.gossip_budget.retain(|_, b| !refilled(b));
            if self.gossip_budget.len() >= MAX_GOSSIP_BUDGETS {
                // Thousands of feeds all pushing at once: no budget for a new one.
                return false;
            }
        }
        let (tokens, at) = self
            .gossip_budget
            .entry(feed)
            .or_insert((GOSSIP_BURST, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * GOSSIP_PER_SECOND).min(GOSSIP_BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn report(
        &mut self,
        id: &gossipsub::MessageId,
        source: &PeerId,
        acceptance: MessageAcceptance,
    ) {
        if let Some(net) = &mut self.net {
            net.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(id, source, acceptance);
        }
    }

    // --- Sessions ---

    /// The peer with the smaller id opens the sync stream, so there is one per pair.
    fn maybe_open_session(&mut self, peer: PeerId) {
        let Some(net) = &self.net else { return };
        let ours = *net.swarm.local_peer_id();
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        if ours >= peer || state.session.is_some() || state.opening || state.connections == 0 {
            return;
        }
        state.opening = true;
        let mut control = net.control.clone();
        let protocol = net.protocol.clone();
        let inputs = self.inputs_tx.clone();
        tokio::spawn(async move {
            let input = match control.open_stream(peer, protocol).await {
                Ok(stream) => SessionInput::Opened(peer, stream),
                Err(e) => SessionInput::OpenFailed(peer, e.to_string()),
            };
            let _ = inputs.send(input).await;
        });
    }

    fn attach(&mut self, peer: PeerId, stream: libp2p::Stream, inbound: bool) {
        if self.is_banned(&peer) {
            return;
        }
        if inbound {
            let open_inbound = self
                .peers
                .values()
                .filter(|p| p.session.as_ref().is_some_and(|s| s.inbound))
                .count();
            if open_inbound >= MAX_INBOUND_SESSIONS {
                warn!(%peer, "too many inbound sync sessions; refusing one");
                return;
            }
        }
        self.end_session(peer);
        self.next_session += 1;
        let id = self.next_session;
        let out = spawn_session_io(peer, id, stream, self.inputs_tx.clone());
        let saved = self.store.sync_states(&peer.to_bytes());
        let mut session = Session::resume(saved);
        let hello = session.start(&self.board);
        let state = self.peers.entry(peer).or_default();
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

    fn end_session(&mut self, peer: PeerId) {
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

    fn send_frames(&mut self, peer: PeerId, frames: Vec<Vec<u8>>) {
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

    fn handle_session_input(&mut self, input: SessionInput) {
        match input {
            SessionInput::Opened(peer, stream) => {
                if self.peers.get(&peer).is_some_and(|p| p.connections > 0) {
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
            SessionInput::Violation(peer, id, reason) => {
                if self
                    .peers
                    .get(&peer)
                    .and_then(|p| p.session.as_ref())
                    .is_some_and(|s| s.id == id)
                {
                    self.ban(peer, &reason);
                }
            }
            SessionInput::Closed(peer, id, reason) => {
                if self
                    .peers
                    .get(&peer)
                    .and_then(|p| p.session.as_ref())
                    .is_some_and(|s| s.id == id)
                {
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
                for event in &out.events {
                    match event {
                        SessionEvent::FeedUpdated { feed, .. } => {
                            self.dirty.insert(*feed);
                            changed = true;
                            state.last_sync = Some(now());
                        }
                        SessionEvent::InSync => state.last_sync = Some(now()),
                        SessionEvent::FeedRefused { feed, failure } => {
                            warn!(%peer, %feed, %failure, "refused a feed's changes");
                        }
                        SessionEvent::FeedTooLarge { feed, size } => {
                            warn!(%peer, %feed, size, "a feed is too large to sync in one frame");
                        }
                        _ => {}
                    }
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

    fn schedule_resync(&mut self) {
        if self.resync_at.is_none() {
            self.resync_at = Some(tokio::time::Instant::now() + RESYNC_DEBOUNCE);
        }
    }

    /// Starts a round with every peer that has a session.
    fn sync_all_sessions(&mut self) {
        let peers: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.session.is_some())
            .map(|(id, _)| *id)
            .collect();
        for peer in peers {
            let frames = match self.peers.get_mut(&peer).and_then(|p| p.session.as_mut()) {
                Some(s) => s.session.start(&self.board).frames,
                None => continue,
            };
            self.send_frames(peer, frames);
        }
    }

    /// The periodic round: sync with everyone, reopen missing sessions, redial peers
    /// given by hand.
    fn resync_round(&mut self) {
        self.sync_all_sessions();
        let without: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.connections > 0 && p.session.is_none())
            .map(|(id, _)| *id)
            .collect();
        for peer in without {
            self.maybe_open_session(peer);
        }
        if self.net.is_some() {
            self.dial_known_peers_if_idle();
            self.redial_lan_peers();
        }
    }

    /// Redials the neighbours mDNS found that are not connected.
    fn redial_lan_peers(&mut self) {
        let now = Instant::now();
        let todo: Vec<Multiaddr> = self
            .lan_peers
            .iter()
            .filter(|(peer, _)| {
                self.peers.get(peer).is_none_or(|p| p.connections == 0)
                    && self.banned.get(peer).is_none_or(|until| *until <= now)
            })
            .map(|(peer, addr)| {
                if addr
                    .iter()
                    .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
                {
                    addr.clone()
                } else {
                    addr.clone().with(libp2p::multiaddr::Protocol::P2p(*peer))
                }
            })
            .collect();
        if let Some(net) = &mut self.net {
            for addr in todo {
                let _ = net.swarm.dial(dial_opts(addr));
            }
        }
    }

    fn dial_known_peers_if_idle(&mut self) {
        let connected: HashSet<Multiaddr> = self
            .peers
            .values()
            .filter(|p| p.connections > 0)
            .flat_map(|p| p.addresses.iter().cloned())
            .collect();
        let mut addresses: Vec<Multiaddr> = self.config.peers.clone();
        addresses.extend(
            self.store
                .peers()
                .into_iter()
                .filter(|(_, manual)| *manual)
                .filter_map(|(a, _)| a.parse().ok()),
        );
        for addr in addresses {
            let bare: Multiaddr = addr
                .iter()
                .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
                .collect();
            if !connected.contains(&bare) {
                let _ = self.dial(addr, false);
            }
        }
    }

    fn persist_dirty(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            if let Some(feed) = self.board.feed(&id)
                && let Err(e) = self.store.save_feed(feed)
            {
                warn!(feed = %id, error = %e, "could not save a neighbour's feed; will retry");
                self.dirty.insert(id);
            }
        }
    }
}

fn add_traffic(total: &mut SessionStats, more: &SessionStats) {
    total.bytes_in += more.bytes_in;
    total.bytes_out += more.bytes_out;
    total.frames_in += more.frames_in;
    total.frames_out += more.frames_out;
    total.changes_applied += more.changes_applied;
}

/// Dial options for `address`, from a fresh local port. libp2p reuses the listening port for
/// outgoing connections by default; when two nodes that found each other on the LAN dial
/// each other at the same instant from their listening ports, TCP merges the two attempts
/// into one connection where both sides think they dialled, and the Noise handshake fails.
fn dial_opts(address: Multiaddr) -> libp2p::swarm::dial_opts::DialOpts {
    use libp2p::swarm::dial_opts::DialOpts;
    let peer = address.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    });
    match peer {
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

/// How likely a neighbour reaches this address: 0 IPv4 on a LAN or beyond, 1 other IPv6,
/// 2 link-local IPv6, 3 loopback.
fn reach_rank(addr: &Multiaddr) -> u8 {
    for p in addr.iter() {
        match p {
            libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_loopback() => return 3,
            libp2p::multiaddr::Protocol::Ip4(_) => return 0,
            libp2p::multiaddr::Protocol::Ip6(ip) if ip.is_loopback() => return 3,
            libp2p::multiaddr::Protocol::Ip6(ip) if (ip.segments()[0] & 0xffc0) == 0xfe80 => {
                return 2;
            }
            libp2p::multiaddr::Protocol::Ip6(_) => return 1,
            _ => {}
        }
    }
    3
}

// Lives only between the select and its handler: boxing would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
enum NetEvent {
    Swarm(SwarmEvent<BehaviourEvent>),
    Incoming(PeerId, libp2p::Stream),
}

/// The next thing the network has for the actor; never resolves without a network.
async fn next_net_event(net: &mut Option<Net>) -> NetEvent {
    let Some(net) = net else {
        return std::future::pending().await;
    };
    tokio::select! {
        event = net.swarm.select_next_some() => NetEvent::Swarm(event),
        Some((peer, stream)) = net.incoming.next() => NetEvent::Incoming(peer, stream),
    }
}

/// Moves frames between a stream and the actor: one task reads, one writes.
fn spawn_session_io(
    peer: PeerId,
    id: u64,
    stream: libp2p::Stream,
    inputs: mpsc::Sender<SessionInput>,
) -> mpsc::Sender<Vec<u8>> {
    let (mut reader, mut writer) = stream.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(SESSION_OUTPUT_CAPACITY);
    tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if write_frame(&mut writer, &frame).await.is_err() {
                break;
            }
        }
        let _ = writer.close().await;
    });
    tokio::spawn(async move {
        loop {
            let read = read_frame_within(
                &mut reader,
                entraide_crdt::limits::MAX_FRAME_BYTES,
                Some(FRAME_BODY_TIMEOUT),
            )
            .await;
            let input = match read {
                Ok(Some(frame)) => SessionInput::Frame(peer, id, frame),
                Ok(None) => SessionInput::Closed(peer, id, None),
                // Announcing a frame over the limit, or dripping one, is a protocol
                // violation; a stream cut inside a frame may just be a lost connection.
                Err(e @ (FrameError::TooLarge { .. } | FrameError::TooSlow { .. })) => {
                    SessionInput::Violation(peer, id, e.to_string())
                }
                Err(e) => SessionInput::Closed(peer, id, Some(e.to_string())),
            };
            let closed = matches!(
                input,
                SessionInput::Closed(..) | SessionInput::Violation(..)
            );
            if inputs.send(input).await.is_err() || closed {
                break;
            }
        }
    });
    out_tx
}

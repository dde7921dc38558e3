//! The actor: one task that owns the board, the store, the network and every sync session.
//!
//! [`Node`] handles send `Command`s (and a stop request on a channel of its own); session
//! I/O tasks send `SessionInput`s; the swarm sends its events. The loop takes them in
//! that order (`biased`), with the timers before any peer input, so that neither a steady
//! stream of frames nor a busy network can starve a local request, a save or a sync round.
//!
//! The work is split by seam, each an `impl Actor` block of its own file, around plain
//! helper structs the actor drives:
//!
//! | file | what | helper |
//! |---|---|---|
//! | `actor.rs` | start, the loop, stop, saving, sync rounds and redials | |
//! | `actor/commands.rs` | what residents ask: writes, reads, status | `Board` resolves what people type |
//! | `actor/swarm.rs` | connections, discovery, pings, dials and bans, gossip intake | `Peers`, `GossipBudget` |
//! | `actor/sessions.rs` | sync sessions: open, attach, frames in and out, close | `session_io` |
//! | `actor/relayed.rs` | meeting points: reservations, hole punches, who is reachable | `Relays` |
//!
//! Start-up of the network is `Network::start`; of the store, `Store::open_patiently`.

mod blocked;
mod care;
mod commands;
mod devices;
mod messages;
mod rekey;
mod relayed;
mod residents;
mod retention;
mod sessions;
mod stewards;
mod swarm;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use entraide_crdt::{AuthorId, Board, DeviceId, FeedId, Writer};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{Instrument as _, debug, info, warn};

use crate::data_dir::Profile;
use crate::gossip::GossipBudget;
use crate::network::{NetEvent, Network};
use crate::node::{
    COMMAND_CAPACITY, EVENT_CAPACITY, Envelope, Node, NodeConfig, NodeError, NodeEvent,
};
use crate::peers::Peers;
use crate::session_io::{SESSION_INPUT_CAPACITY, SessionInput};
use crate::store::Store;

/// After a change, how long to wait for more before starting a sync round (debounce).
pub const RESYNC_DEBOUNCE: Duration = Duration::from_millis(300);
/// How often neighbours' changed feeds are saved to disk.
pub const PERSIST_INTERVAL: Duration = Duration::from_secs(1);
/// How long to wait for another process (a short CLI command) to let go of the database.
pub const STORE_LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// Seconds since the Unix epoch: the node reads the clock once per event.
pub(crate) fn now() -> i64 {
    crate::clock::now()
}

struct Actor {
    config: NodeConfig,
    profile: Profile,
    /// Our libp2p peer id, derived from the resident's key.
    peer_id: PeerId,
    /// Who the command being handled acts for: the owner, or, for a request from a hosted
    /// resident, theirs (swapped in for that one command, see `actor/residents.rs`).
    writer: Writer,
    /// The writers of the residents this node hosts, each with their own key.
    hosted: HashMap<AuthorId, Writer>,
    /// The hosted residents as their files say (names, login codes).
    residents: Vec<crate::residents::HostedResident>,
    board: Board,
    store: Store,
    network: Option<Network>,
    peers: Peers,
    gossip: GossipBudget,
    /// Neighbours' feeds changed since the last save.
    dirty: HashSet<FeedId>,
    /// When neighbours' documents unchanged since stored or read from their snapshots
    /// were last let go (`actor/retention.rs`).
    let_go_at: tokio::time::Instant,
    /// Epochs the board dropped, to remove from the store once their replacement is saved
    /// (`actor/retention.rs`).
    dropped_epochs: Vec<FeedId>,
    /// When those whose carry-over or removal failed are tried again.
    epoch_retries: retention::EpochRetries,
    /// Whether epochs left the store since its space was last reclaimed, and when that was
    /// checked (`actor/retention.rs`).
    removed_since_reclaim: bool,
    reclaim_checked_at: Option<i64>,
    events: broadcast::Sender<NodeEvent>,
    /// Session I/O tasks and stream openers, each in a tracing span of its peer.
    tasks: JoinSet<()>,
    inputs_tx: mpsc::Sender<SessionInput>,
    next_session: u64,
    /// When a debounced sync round is due.
    resync_at: Option<tokio::time::Instant>,
    /// The sealed records of the care register each local resident can open.
    care: HashMap<AuthorId, crate::care::CareCache>,
    /// During a care tick, each local resident's share of its time budget.
    care_tick_share: Option<Duration>,
    /// Pairing codes waiting for a new device (`actor/devices.rs`).
    pairings: Vec<crate::devices::Offer>,
    /// Bounds the pairing exchanges running at once.
    pairing_exchanges: std::sync::Arc<tokio::sync::Semaphore>,
    /// Meeting points we use, and who is reachable through us (`actor/relayed.rs`).
    relays: crate::relayed::Relays,
    /// Each local resident's block list (`actor/blocked.rs`).
    blocked: crate::blocked::BlockLists,
    /// A newer community secret was adopted: move the network to it (`actor/rekey.rs`).
    moving: bool,
    /// After a re-key, the dial-only network on the old secret that hands the new one over.
    old_door: Option<crate::rekey::OldDoor>,
}

/// Starts a node: loads the data directory and the store, starts the network (unless
/// `config.offline`), and spawns the actor.
pub(crate) async fn start(config: NodeConfig) -> Result<Node, NodeError> {
    let profile = config.data_dir.load()?;
    let peer_id = libp2p::identity::Keypair::ed25519_from_bytes(profile.network_seed())
        .map_err(crate::net::NetError::from)?
        .public()
        .to_peer_id();
    let store =
        Store::open_patiently(&config.data_dir.db_path(), config.store_lock_patience).await?;
    let residents = crate::residents::load_all(&config.data_dir)?;
    let own: Vec<AuthorId> = std::iter::once(profile.key.id())
        .chain(residents.iter().map(|r| r.author()))
        .collect();
    let reading = std::time::Instant::now();
    let (mut board, skipped) = store.load_board(&own)?;
    info!(
        feeds = board.len(),
        ms = reading.elapsed().as_millis() as u64,
        "read the board from disk"
    );
    // The founder is the first steward; the stewards' statements decide who else is one,
    // and who is excluded (`entraide_crdt::authority`).
    board.set_founder(profile.community.founder());
    for s in &skipped {
        warn!(feed = %s.feed, error = %s.error, "left out a damaged feed; neighbours will resend it");
    }
    // Epochs stored next to the newer one that replaced them (a stop between storing the
    // one and removing the other): the newer one was just read from disk. They leave the
    // store at the first retention tick, once what this device wrote into them after the
    // compaction is carried over (`actor/retention.rs`).
    let dropped_epochs = board.take_dropped_epochs();
    // A new session half of the device id (so a new automerge actor) for every start: a
    // change lost in a crash, or a database lost or rolled back, can never be followed by
    // a different change with the same actor and sequence number (which neighbours would
    // refuse as equivocation). The cost is one actor entry per start in the resident's
    // feed. The installation half says which of the resident's devices wrote it.
    let device = |installation| DeviceId::new(installation, rand::random());
    let writer = Writer::new(profile.key.clone(), device(profile.installation));
    let hosted = residents
        .iter()
        .map(|r| {
            (
                r.author(),
                Writer::new(r.key.clone(), device(profile.installation)),
            )
        })
        .collect();
    let (inputs_tx, inputs_rx) = mpsc::channel(SESSION_INPUT_CAPACITY);
    let network = if config.offline {
        None
    } else {
        Some(Network::start(&profile, &config).await?)
    };
    let (commands, commands_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (stop, stop_rx) = mpsc::channel(1);
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let mut actor = Actor {
        config,
        profile,
        peer_id,
        writer,
        hosted,
        residents,
        board,
        store,
        network,
        peers: Peers::default(),
        gossip: GossipBudget::default(),
        dirty: HashSet::new(),
        let_go_at: tokio::time::Instant::now(),
        dropped_epochs,
        epoch_retries: retention::EpochRetries::default(),
        removed_since_reclaim: false,
        reclaim_checked_at: None,
        events: events.clone(),
        tasks: JoinSet::new(),
        inputs_tx,
        next_session: 0,
        resync_at: None,
        care: HashMap::new(),
        care_tick_share: None,
        pairings: Vec::new(),
        pairing_exchanges: std::sync::Arc::new(tokio::sync::Semaphore::new(
            devices::MAX_PAIRING_EXCHANGES,
        )),
        relays: crate::relayed::Relays::default(),
        blocked: crate::blocked::BlockLists::default(),
        moving: false,
        old_door: None,
    };
    actor.blocked = crate::blocked::BlockLists::from_entries(actor.store.blocks());
    actor.dial_known_peers();
    if actor.network.is_some() {
        actor.open_old_door();
    }
    let span = tracing::info_span!("node", peer = %peer_id);
    let task = tokio::spawn(actor.run(commands_rx, stop_rx, inputs_rx).instrument(span));
    Ok(Node::new(commands, stop, events, task))
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Envelope>,
        mut stop: mpsc::Receiver<oneshot::Sender<()>>,
        mut inputs: mpsc::Receiver<SessionInput>,
    ) {
        let mut resync = tokio::time::interval(self.config.resync_interval);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut persist = tokio::time::interval(PERSIST_INTERVAL);
        persist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut care_at = tokio::time::Instant::now();
        let stopped = loop {
            let resync_at = self.resync_at;
            let resync_soon = async move {
                match resync_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                reply = stop.recv() => break reply,
                command = commands.recv() => match command {
                    Some(envelope) => self.handle_envelope(envelope),
                    // Every handle is gone: nobody can ask anything any more.
                    None => break None,
                },
                // Only while something waits to be saved: an idle node's loop sleeps
                // through the second (fewer wake-ups on a laptop on battery).
                _ = persist.tick(), if !self.dirty.is_empty() => self.persist_dirty(),
                _ = resync.tick() => self.resync_round(),
                _ = tokio::time::sleep_until(care_at) => {
                    self.care_tick();
                    self.rekey_tick();
                    self.retention_tick();
                    let next = if self.care.values().any(|c| c.unread() > 0) {
                        crate::care::CARE_BACKLOG_TICK
                    } else {
                        crate::care::CARE_TICK
                    };
                    care_at = tokio::time::Instant::now() + next;
                }
                _ = resync_soon => {
                    self.resync_at = None;
                    self.sync_all_sessions();
                }
                Some(input) = inputs.recv() => self.handle_session_input(input),
                event = Network::next_event(&mut self.network) => match event {
                    NetEvent::Swarm(event) => self.handle_swarm_event(event),
                    NetEvent::Incoming(peer, stream) => self.attach(peer, stream, true),
                    NetEvent::Pairing(peer, stream) => self.pairing_stream(peer, stream),
                    NetEvent::Relayed(peer, stream) => self.relayed_stream(peer, stream),
                    NetEvent::Rekey(peer, stream) => self.rekey_stream(peer, stream),
                },
                event = crate::rekey::OldDoor::next_event(&mut self.old_door) => {
                    self.old_door_event(event);
                }
                // Reaps finished session tasks (a pattern that does not match still reaps).
                Some(Err(e)) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if e.is_panic() {
                        warn!(error = %e, "a session task panicked");
                    }
                }
            }
            if self.moving {
                self.move_network().await;
            }
        };
        self.stop().await;
        if let Some(reply) = stopped {
            let _ = reply.send(());
        }
    }

    /// Saves everything, closes every session and ends every task.
    async fn stop(&mut self) {
        self.persist_dirty();
        self.save_snapshots();
        for peer in self.peers.with_session(true) {
            self.end_session(peer);
        }
        if let Err(e) = self.store.flush() {
            warn!(error = %e, "could not flush the database on shutdown");
        }
        self.tasks.shutdown().await;
        debug!("node stopped");
    }

    fn emit(&self, event: NodeEvent) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    /// Saves the neighbours' feeds that changed; a feed that cannot be saved now (a full
    /// disk) is tried again next time. Each keeps the bytes stored, so that its document
    /// can be let go if it stays unchanged (`actor/retention.rs`).
    fn persist_dirty(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            let Some(feed) = self.board.feed(&id) else {
                continue;
            };
            match self.store.save_feed(feed) {
                Ok(saved) => {
                    let own =
                        id.author == self.writer.author() || self.hosted.contains_key(&id.author);
                    if !own {
                        self.board.feed_mut(id).keep_saved(saved);
                    }
                }
                Err(e) => {
                    warn!(feed = %id, error = %e, "could not save a neighbour's feed; will retry");
                    self.dirty.insert(id);
                }
            }
        }
        // An epoch replaced by a newer one leaves the store only once that one is saved.
        if self.dirty.is_empty() {
            self.remove_dropped_epochs();
        }
    }

    // --- Rounds ---

    /// Starts a round with every peer soon (debounced), unless one is already due.
    fn schedule_resync(&mut self) {
        if self.resync_at.is_none() {
            self.resync_at = Some(tokio::time::Instant::now() + RESYNC_DEBOUNCE);
        }
    }

    /// Starts a round with every peer that has a session.
    fn sync_all_sessions(&mut self) {
        for peer in self.peers.with_session(true) {
            let frames = match self.peers.get_mut(&peer).and_then(|p| p.session.as_mut()) {
                Some(s) => s.session.start_at(&self.board, now()).frames,
                None => continue,
            };
            self.send_frames(peer, frames);
        }
    }

    /// The periodic round: sync with everyone, reopen missing sessions, redial peers
    /// given by hand and neighbours found on the LAN.
    fn resync_round(&mut self) {
        self.sync_all_sessions();
        self.ask_relays();
        self.old_door_round();
        for peer in self.peers.with_session(false) {
            self.maybe_open_session(peer);
        }
        if self.network.is_some() {
            let manual = self.manual_addresses();
            for address in self.peers.manual_to_redial(manual) {
                let _ = self.dial(address, false);
            }
            let now = std::time::Instant::now();
            if let Some(network) = &mut self.network {
                for address in self.peers.lan_to_redial(now) {
                    let _ = network.dial(address);
                }
            }
        }
    }

    /// The addresses given by hand: on the command line, and remembered from before.
    fn manual_addresses(&self) -> Vec<Multiaddr> {
        let mut addresses: Vec<Multiaddr> = self.config.peers.clone();
        addresses.extend(
            self.store
                .peers()
                .into_iter()
                .filter(|(_, manual)| *manual)
                .filter_map(|(a, _)| a.parse().ok()),
        );
        addresses
    }

    /// Dials every address given by hand, at start.
    fn dial_known_peers(&mut self) {
        for address in self.manual_addresses() {
            if let Err(e) = self.dial(address.clone(), true) {
                warn!(%address, error = %e, "cannot dial");
            }
        }
    }
}

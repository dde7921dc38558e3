//! The sync session: a sans-io state machine per (peer, community).
//!
//! Bytes in, bytes out: the caller moves frames over a reliable ordered stream (the node
//! uses a libp2p stream) and hands each received frame to [`Session::handle_frame`]. A
//! round goes:
//!
//! 1. each side sends [`Frame::Hello`] with its board digest; equal digests end the round;
//! 2. otherwise each side sends [`Frame::Inventory`]: its feeds and a digest of each one's
//!    heads;
//! 3. for every feed that differs or that one side lacks, the sides that hold it start
//!    automerge's sync protocol (one `sync::State` per feed, kept across rounds), carrying the author's
//!    signed heads with any changes; each received message is validated
//!    ([`crate::validate`]) before anything is applied, and answered until neither side
//!    has anything to send. A message too large for one frame travels in pieces
//!    (`crate::pieces`) to a peer that said it takes them.
//!
//! The caller starts a new round with [`Session::start`] whenever it likes (after local
//! changes, or periodically to repair what gossip missed).

use std::collections::{BTreeMap, BTreeSet};

use automerge::Automerge;
use automerge::sync::{self, ChunkList, MessageVersion, SyncDoc};

use crate::board::Board;
use crate::contained::contained;
use crate::feed::Feed;
use crate::inflate::check_documents;
use crate::leb128::take_uleb128;
use crate::limits::{
    MAX_CHANGES_PER_BATCH, MAX_DOCUMENT_BYTES, MAX_FEEDS, MAX_FRAME_BYTES, MAX_SYNC_MESSAGE_BYTES,
};
use crate::pieces::{self, Pieces};
use crate::signed_heads::{FeedId, Hash};
use crate::validation::{ValidationFailure, is_document};
use crate::wire::{DecodeError, FeedSync, Frame, InventoryEntry, PROTOCOL_VERSION};

/// Room kept in each frame for the CBOR around the feeds' entries (map and array headers,
/// the variant and field names: about 17 bytes), with room to spare.
const FRAME_OVERHEAD: usize = 64;

/// The largest entry that fits in a frame by itself.
const MAX_ENTRY_BYTES: usize = MAX_FRAME_BYTES - FRAME_OVERHEAD;

/// What a session tells its caller besides frames to send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// New changes of a feed were applied (or are waiting for dependencies).
    FeedUpdated {
        /// The feed.
        feed: FeedId,
        /// Changes applied to the document.
        applied: usize,
    },
    /// The peer's board has the same digest as ours: in sync.
    InSync,
    /// Changes of a feed were refused for a reason that does not blame the peer (see
    /// [`ValidationFailure::blames_sender`]); the feed is no longer synced in this session.
    FeedRefused {
        /// The feed.
        feed: FeedId,
        /// Why.
        failure: ValidationFailure,
    },
    /// Changes of a feed made by a removed device after its removal were refused (or,
    /// held from before the removal arrived, dropped): see `crate::devices`.
    RemovedDeviceRefused {
        /// The feed.
        feed: FeedId,
        /// How many changes.
        count: usize,
    },
    /// The peer told its clock (seconds since the Unix epoch) in its hello: the caller
    /// compares it with its own.
    PeerClock {
        /// The peer's clock when it sent the hello.
        clock: i64,
    },
    /// A feed's sync message was too large to send (over one frame to a peer that takes
    /// no pieces, over the size the peer takes in pieces, or a whole document over
    /// [`MAX_DOCUMENT_BYTES`]) and was skipped: the feed is no longer sent in this session.
    FeedTooLarge {
        /// The feed.
        feed: FeedId,
        /// The size of its entry.
        size: usize,
    },
    /// A feed's whole document expands past a bound peers check before loading it
    /// (`crate::inflate`: inflated size, changes, operations): every peer refuses such a
    /// document, and blames whoever sends it, so it was not sent.
    DocumentHeldBack {
        /// The feed.
        feed: FeedId,
        /// Why a peer would refuse it.
        failure: ValidationFailure,
    },
}

/// What handling a frame produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Frames to send to the peer, in order.
    pub frames: Vec<Vec<u8>>,
    /// Things that happened.
    pub events: Vec<SessionEvent>,
}

/// Why a session must end: the peer sent something invalid. The caller drops the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The frame does not decode.
    #[error("bad frame: {0}")]
    Decode(#[from] DecodeError),
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {0}, we speak {PROTOCOL_VERSION}")]
    Version(u32),
    /// An inventory or sync frame lists more feeds than [`MAX_FEEDS`].
    #[error("the peer listed {0} feeds, at most {MAX_FEEDS}")]
    TooManyFeeds(usize),
    /// An automerge sync message does not decode.
    #[error("bad sync message for {feed:?}: {reason}")]
    BadSyncMessage {
        /// The feed.
        feed: FeedId,
        /// What the decoder said.
        reason: String,
    },
    /// Changes for a feed failed validation.
    #[error("invalid changes for {feed:?}: {failure}")]
    Invalid {
        /// The feed.
        feed: FeedId,
        /// The rule broken.
        failure: ValidationFailure,
    },
    /// While a message of `feed` was half received in pieces, something else came than its
    /// next piece.
    #[error("a message of {feed:?} was cut by another entry or frame before its last piece")]
    PiecesOutOfOrder {
        /// The feed whose message was half received.
        feed: FeedId,
    },
    /// The pieces of a message add up to more than [`MAX_SYNC_MESSAGE_BYTES`].
    #[error("a message of {feed:?} in pieces of {size} bytes, at most {MAX_SYNC_MESSAGE_BYTES}")]
    MessageTooLarge {
        /// The feed.
        feed: FeedId,
        /// The bytes received so far, the last piece included.
        size: usize,
    },
}

/// Traffic counters of a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Frames received.
    pub frames_in: u64,
    /// Frames produced.
    pub frames_out: u64,
    /// Bytes received (frame payloads).
    pub bytes_in: u64,
    /// Bytes produced (frame payloads).
    pub bytes_out: u64,
    /// Changes applied from this peer.
    pub changes_applied: u64,
}

/// The sync session with one peer.
#[derive(Debug, Default)]
pub struct Session {
    states: BTreeMap<FeedId, sync::State>,
    /// Feeds this session stopped syncing (see [`SessionEvent::FeedRefused`]).
    refused: BTreeSet<FeedId>,
    /// Feeds this session stopped sending (see [`SessionEvent::FeedTooLarge`]).
    too_large: BTreeSet<FeedId>,
    /// The largest message the peer takes in pieces, as its `Hello` said (`None`: it
    /// takes none, or has not said yet).
    peer_max_message: Option<usize>,
    /// The message the peer is sending in pieces.
    pieces: Pieces,
    /// Per feed, how many batches of this round brought only changes of a removed device
    /// (refused): the second pauses the feed until the next round, so that a peer that
    /// keeps offering them (a removed device, or a node that will not drop them) cannot
    /// keep both sides exchanging messages. The first is answered, which carries the
    /// removal to a peer that lacks it.
    removed_only: BTreeMap<FeedId, u8>,
    /// When our clock was last told to the peer ([`Session::start_at`]).
    clock_told: Option<i64>,
    stats: SessionStats,
}

/// How often a session tells the peer our clock again (seconds): a wrong clock is rare and
/// slow to change, and each telling costs nine bytes.
pub const CLOCK_RETELL_SECS: i64 = 600;

impl Session {
    /// A session with no history with this peer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session resuming from sync states saved with [`Session::saved_states`]; states
    /// that do not decode are dropped (that only costs a fuller sync).
    pub fn resume(saved: impl IntoIterator<Item = (FeedId, Vec<u8>)>) -> Self {
        let states = saved
            .into_iter()
            .take(MAX_FEEDS)
            .filter_map(|(feed, bytes)| sync::State::decode(&bytes).ok().map(|s| (feed, s)))
            .collect();
        Self {
            states,
            refused: BTreeSet::new(),
            too_large: BTreeSet::new(),
            peer_max_message: None,
            pieces: Pieces::default(),
            removed_only: BTreeMap::new(),
            clock_told: None,
            stats: SessionStats::default(),
        }
    }

    /// The per-feed sync states, encoded, to persist (automerge keeps only the shared heads).
    pub fn saved_states(&self) -> Vec<(FeedId, Vec<u8>)> {
        self.states.iter().map(|(f, s)| (*f, s.encode())).collect()
    }

    /// Traffic so far.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Starts a round: a [`Frame::Hello`] with our digest.
    pub fn start(&mut self, board: &Board) -> Output {
        self.hello(board, None)
    }

    /// Starts a round at `now` (our clock): as [`Session::start`], the hello also telling
    /// the peer our clock in the first round and every [`CLOCK_RETELL_SECS`] after.
    pub fn start_at(&mut self, board: &Board, now: i64) -> Output {
        let tell = self
            .clock_told
            .is_none_or(|told| now.abs_diff(told) >= CLOCK_RETELL_SECS as u64);
        if tell {
            self.clock_told = Some(now);
        }
        self.hello(board, tell.then_some(now))
    }

    fn hello(&mut self, board: &Board, clock: Option<i64>) -> Output {
        let mut out = Output::default();
        self.removed_only.clear();
        let hello = Frame::Hello {
            version: PROTOCOL_VERSION,
            digest: Hash(board.digest()),
            feeds: board.feeds().filter(|f| !f.is_empty()).count() as u32,
            clock,
            max_message: Some(MAX_SYNC_MESSAGE_BYTES as u32),
        };
        self.push(&mut out, hello.encode());
        out
    }

    fn push(&mut self, out: &mut Output, frame: Vec<u8>) {
        self.stats.frames_out += 1;
        self.stats.bytes_out += frame.len() as u64;
        out.frames.push(frame);
    }

    /// Handles one frame from the peer. On error the session is over: drop the peer.
    pub fn handle_frame(
        &mut self,
        board: &mut Board,
        bytes: &[u8],
    ) -> Result<Output, SessionError> {
        self.stats.frames_in += 1;
        self.stats.bytes_in += bytes.len() as u64;
        let mut out = Output::default();
        let frame = Frame::decode(bytes)?;
        if let Some(feed) = self.pieces.waiting()
            && !matches!(frame, Frame::Sync { .. })
        {
            return Err(SessionError::PiecesOutOfOrder { feed });
        }
        match frame {
            Frame::Hello {
                version,
                digest,
                clock,
                max_message,
                ..
            } => {
                if version != PROTOCOL_VERSION {
                    return Err(SessionError::Version(version));
                }
                self.peer_max_message = max_message.map(|max| max as usize);
                if let Some(clock) = clock {
                    out.events.push(SessionEvent::PeerClock { clock });
                }
                if digest.0 == board.digest() {
                    out.events.push(SessionEvent::InSync);
                } else {
                    let feeds = board
                        .feeds()
                        .filter(|f| !f.is_empty())
                        .map(|f| InventoryEntry {
                            feed: f.id(),
                            heads: f.heads_digest(),
                        })
                        .collect();
                    self.push(&mut out, Frame::Inventory { feeds }.encode());
                }
            }
            Frame::Inventory { feeds } => {
                if feeds.len() > MAX_FEEDS {
                    return Err(SessionError::TooManyFeeds(feeds.len()));
                }
                let theirs: BTreeMap<FeedId, [u8; 16]> =
                    feeds.into_iter().map(|e| (e.feed, e.heads)).collect();
                let mut differing: BTreeSet<FeedId> = BTreeSet::new();
                for (feed, heads) in &theirs {
                    if board.feed(feed).is_none_or(|f| f.heads_digest() != *heads) {
                        differing.insert(*feed);
                    }
                }
                for feed in board.feeds().filter(|f| !f.is_empty()) {
                    if !theirs.contains_key(&feed.id()) {
                        differing.insert(feed.id());
                    }
                }
                // Only feeds we hold start here; for a feed we lack, the holder's first
                // message asks for nothing and ours would say "I hold nothing", which makes
                // automerge send the whole document once per such message: we answer the
                // holder's message instead, and the document travels once.
                board.parse_in_parallel(&differing);
                let mut syncs = Vec::new();
                for feed in differing {
                    if board.feed(&feed).is_some_and(|f| !f.is_empty()) {
                        syncs.extend(self.generate(board, feed, &mut out));
                    }
                }
                self.send_syncs(&mut out, syncs);
            }
            Frame::Sync { feeds } => {
                if feeds.len() > MAX_FEEDS {
                    return Err(SessionError::TooManyFeeds(feeds.len()));
                }
                let mut answer = Vec::with_capacity(feeds.len());
                for fs in feeds {
                    // A piece is answered once its message is whole.
                    let Some(fs) = self.pieces.take(fs)? else {
                        continue;
                    };
                    answer.push(fs.feed);
                    self.receive(board, fs, &mut out)?;
                }
                let mut replies = Vec::new();
                for feed in answer {
                    replies.extend(self.generate(board, feed, &mut out));
                }
                self.send_syncs(&mut out, replies);
            }
        }
        Ok(out)
    }

    fn state(&mut self, feed: FeedId) -> Result<&mut sync::State, SessionError> {
        if !self.states.contains_key(&feed) && self.states.len() >= MAX_FEEDS {
            return Err(SessionError::TooManyFeeds(self.states.len() + 1));
        }
        Ok(self.states.entry(feed).or_default())
    }

    /// Validates, applies and records one feed's sync message.
    fn receive(
        &mut self,
        board: &mut Board,
        fs: FeedSync,
        out: &mut Output,
    ) -> Result<(), SessionError> {
        let feed = fs.feed;
        let bad = |reason: String| SessionError::BadSyncMessage { feed, reason };
        let mut message = contained(|| sync::Message::decode(&fs.message))
            .map_err(|e| bad(e.to_string()))?
            .map_err(|e| bad(e.to_string()))?;
        for have in &message.have {
            check_bloom(&have.bloom.to_bytes()).map_err(|e| bad(e.to_owned()))?;
        }
        // The changes never reach automerge unvalidated: take them out of the message,
        // validate and apply them ourselves, then let automerge update the sync state.
        let changes = std::mem::replace(&mut message.changes, ChunkList::empty());
        if self.refused.contains(&feed) || self.paused(&feed) {
            return Ok(());
        }
        if !changes.is_empty() {
            let data: Vec<u8> = changes.iter().flatten().copied().collect();
            let applied = match board.receive(feed, &data, &fs.signed) {
                Ok(applied) => applied,
                Err(failure) if !failure.blames_sender() => {
                    self.refused.insert(feed);
                    out.events.push(SessionEvent::FeedRefused { feed, failure });
                    return Ok(());
                }
                Err(failure) => return Err(SessionError::Invalid { feed, failure }),
            };
            self.stats.changes_applied += applied.applied as u64;
            if applied.refused > 0 {
                out.events.push(SessionEvent::RemovedDeviceRefused {
                    feed,
                    count: applied.refused,
                });
                if !applied.heads_changed && applied.pending == 0 {
                    *self.removed_only.entry(feed).or_default() += 1;
                }
            }
            if applied.heads_changed || applied.pending > 0 {
                out.events.push(SessionEvent::FeedUpdated {
                    feed,
                    applied: applied.applied,
                });
            }
        }
        let state = self.state(feed)?;
        // With the changes taken out, this only updates the sync state.
        match board.existing_feed_mut(&feed) {
            Some(f) => f.receive_sync_state(state, message),
            None => {
                let mut empty = Automerge::new();
                let backup = state.clone();
                match contained(|| empty.receive_sync_message(state, message)) {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(panicked) => {
                        *state = backup;
                        Err(panicked.to_string())
                    }
                }
            }
        }
        .map_err(bad)
    }

    /// Whether `feed` waits for the next round (see `removed_only`).
    fn paused(&self, feed: &FeedId) -> bool {
        self.removed_only.get(feed).is_some_and(|&n| n >= 2)
    }

    /// automerge's next sync message for `feed`, with the signatures covering it.
    fn generate(&mut self, board: &Board, feed: FeedId, out: &mut Output) -> Option<FeedSync> {
        if self.refused.contains(&feed) || self.too_large.contains(&feed) || self.paused(&feed) {
            return None;
        }
        let state = self.state(feed).ok()?;
        let empty = Automerge::new();
        let stored = board.feed(&feed);
        let doc = stored.map(|f| f.doc()).unwrap_or(&empty);
        // A state that makes automerge panic (it holds what a peer said) is started over.
        let mut message = match contained(|| doc.generate_sync_message(state)) {
            Ok(message) => message?,
            Err(_) => {
                *state = sync::State::new();
                return None;
            }
        };
        let signed = if message.changes.is_empty() {
            Vec::new()
        } else {
            stored
                .map(|f| f.signed_heads().to_vec())
                .unwrap_or_default()
        };
        let changes_len: usize = message.changes.iter().map(<[u8]>::len).sum();
        if changes_len > MAX_ENTRY_BYTES
            && let Some(stored) = stored
        {
            whole_document_if_smaller(&mut message, stored, changes_len);
        }
        // The peer measures a whole document before loading it (`crate::inflate`) and
        // blames the sender of one that expands too far: never send one.
        if let Some(failure) = message
            .changes
            .iter()
            .find_map(|chunks| check_documents(chunks).err())
        {
            out.events
                .push(SessionEvent::DocumentHeldBack { feed, failure });
            return None;
        }
        let document = message.changes.iter().find(|c| is_document(c));
        if let Some(size) = document.map(<[u8]>::len)
            && size > MAX_DOCUMENT_BYTES
        {
            // No peer would take it (validation rule 2); it can only be a feed held from
            // before `MAX_FEED_BYTES`, or our own past it.
            self.too_large.insert(feed);
            out.events.push(SessionEvent::FeedTooLarge { feed, size });
            return None;
        }
        Some(FeedSync {
            feed,
            signed,
            message: message.encode(),
            more: false,
        })
    }

    /// Packs sync messages into as few frames as fit under [`MAX_FRAME_BYTES`], using
    /// each entry's exact encoded size. An entry too large for a frame goes in pieces,
    /// each in a frame of its own, if the peer takes a message of its size in pieces (and
    /// it is within [`MAX_SYNC_MESSAGE_BYTES`], whatever the peer says); otherwise it is
    /// skipped ([`SessionEvent::FeedTooLarge`]).
    fn send_syncs(&mut self, out: &mut Output, syncs: Vec<FeedSync>) {
        let mut batch: Vec<FeedSync> = Vec::new();
        let mut size = FRAME_OVERHEAD;
        for fs in syncs {
            let fs_size = fs.encoded_len();
            if fs_size > MAX_ENTRY_BYTES {
                if self
                    .peer_max_message
                    .is_some_and(|max| fs.message.len() <= max.min(MAX_SYNC_MESSAGE_BYTES))
                {
                    if !batch.is_empty() {
                        let feeds = std::mem::take(&mut batch);
                        self.push(out, Frame::Sync { feeds }.encode());
                        size = FRAME_OVERHEAD;
                    }
                    for piece in pieces::split(fs, MAX_ENTRY_BYTES) {
                        let feeds = vec![piece];
                        self.push(out, Frame::Sync { feeds }.encode());
                    }
                } else {
                    self.too_large.insert(fs.feed);
                    out.events.push(SessionEvent::FeedTooLarge {
                        feed: fs.feed,
                        size: fs_size,
                    });
                }
                continue;
            }
            if size + fs_size > MAX_FRAME_BYTES {
                let feeds = std::mem::take(&mut batch);
                self.push(out, Frame::Sync { feeds }.encode());
                size = FRAME_OVERHEAD;
            }
            size += fs_size;
            batch.push(fs);
        }
        if !batch.is_empty() {
            self.push(out, Frame::Sync { feeds: batch }.encode());
        }
    }
}

/// Puts the feed's whole document in `message` in place of its list of changes
/// (`changes_len` bytes) when the document is smaller, and holds few enough changes for a
/// receiver to take (validation rule 2).
///
/// automerge sends the changes themselves when the peer lacks under a third of them; in a
/// long feed those can be far larger than the whole document, which stores them
/// column-wise and compressed (10,000 small posts: about 2.3 MB of changes, 73 KB of
/// document). The receiver drops the changes it already holds (validation, duplicates).
fn whole_document_if_smaller(message: &mut sync::Message, feed: &Feed, changes_len: usize) {
    if is_document_message(message)
        || feed.change_count() - feed.pending_count() > MAX_CHANGES_PER_BATCH
    {
        return;
    }
    let doc = feed.doc();
    let Ok(saved) = contained(|| doc.save()) else {
        return;
    };
    if saved.len() < changes_len {
        message.changes = ChunkList::from(saved);
        message.version = MessageVersion::V2;
    }
}

fn is_document_message(message: &sync::Message) -> bool {
    message.changes.iter().any(is_document)
}

/// Most probes per hash in a peer's Bloom filter (automerge uses 7). automerge computes
/// the probes of every hash it checks against a peer's filter, in a vector of that length:
/// a filter announcing four billion probes would cost 16 GiB per hash.
const MAX_BLOOM_PROBES: u64 = 32;
/// Most bits per entry in a peer's Bloom filter (automerge uses 10).
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;

/// Checks the parameters of a Bloom filter from a peer before automerge uses it: a filter
/// with entries but no bits makes automerge divide by zero, and a huge probe count makes
/// it allocate without bound (fuzzing found the first).
fn check_bloom(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut rest = bytes;
    let (Some(entries), Some(bits_per_entry), Some(probes)) = (
        take_uleb128(&mut rest),
        take_uleb128(&mut rest),
        take_uleb128(&mut rest),
    ) else {
        return Err("a Bloom filter that does not decode");
    };
    if entries == 0 {
        return Ok(());
    }
    if !(1..=MAX_BLOOM_PROBES).contains(&probes) {
        return Err("a Bloom filter with a probe count out of range");
    }
    if !(1..=MAX_BLOOM_BITS_PER_ENTRY).contains(&bits_per_entry) || rest.is_empty() {
        return Err("a Bloom filter with no bits");
    }
    Ok(())
}

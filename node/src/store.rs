//! The sled store: feeds, their signatures, per-peer sync states, known peers.
//!
//! Trees (keys are binary; a feed key is `author (32) || epoch (u32 BE)`):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format` | `entraide-store/1` |
//! | `feeds` | feed key | compacted feed ([`Feed::save`]) |
//! | `changes` | feed key ‖ u64 BE | one change chunk appended since the last compaction |
//! | `signed` | feed key | CBOR list of [`SignedHeads`] |
//! | `sync` | peer id bytes ‖ feed key | automerge `sync::State::encode` |
//! | `peers` | multiaddr text | `manual` or `seen` |
//!
//! A local change is appended to `changes` and flushed before it is acknowledged.
//! Remote changes are saved in compacted form in the background: if they are lost,
//! neighbours resend them.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use entraide_crdt::{AuthorId, Board, Feed, FeedId, LoadError, SignedHeads};

const FORMAT: &[u8] = b"entraide-store/1";
const FEED_KEY_LEN: usize = 36;
/// Name of the ledger file inside the database folder.
const LEDGER: &str = "entraide-acknowledged";

/// sled's cache of the database's pages. Its default (1 GiB) keeps every page a start reads
/// (every feed and snapshot) in memory for good: 26 MB at 100,000 posts. What a node reads
/// again after the start (a feed it saves, the sync states) stays well within this; the
/// rest is in the system's file cache.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Appended changes after which a local feed is compacted.
pub const COMPACT_AFTER: usize = 200;

/// sled never gives back the space of what was removed: its files keep their size and
/// are reused only slowly (after retention dropped nine posts in ten, a store grew from
/// 24.6 to 45.6 MB; docs/benchmarks.md). [`Store::reclaim_space`] rewrites the database
/// when its files pass this many times what it holds...
pub const RECLAIM_RATIO: u64 = 2;
/// ...plus this much, so that a small store is never rewritten for a few megabytes.
pub const RECLAIM_SLACK_BYTES: u64 = 8 * 1024 * 1024;

/// Beside the database `db`, while [`Store::reclaim_space`] writes its new copy.
const REWRITING: &str = "rewriting";
/// Beside the database, the new copy once it is whole, until it takes the old one's
/// place.
const REWRITTEN: &str = "rewritten";
/// Beside the database, the old one while the new one takes its place.
const REPLACED: &str = "replaced";

/// What went wrong with the database. Every message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the database.
    #[error(
        "the database {0} is in use by another entraide process (is `entraide up` already running with this --data-dir?)"
    )]
    Locked(String),
    /// The database does not open or read.
    #[error(
        "the database {path} is damaged ({reason}); your identity is safe in identity.key: move the db folder away and restart, neighbours will resend the board"
    )]
    Damaged {
        /// The database path.
        path: String,
        /// What sled said.
        reason: String,
    },
    /// A database of something else.
    #[error("{0} is not an entraide database")]
    Foreign(String),
    /// The database holds fewer of your own changes than were acknowledged.
    #[error(
        "the database {path} has lost changes you made ({held} of {acknowledged} are left): it was damaged after a crash; your identity is safe: move the db folder away and restart, neighbours will resend what they received"
    )]
    LostChanges {
        /// The database path.
        path: String,
        /// Own changes in the database.
        held: usize,
        /// Own changes acknowledged.
        acknowledged: usize,
    },
    /// Your own feed cannot be read: writing on would fork your history.
    #[error(
        "your own feed in {path} is damaged ({source}); it is not overwritten: move the db folder away and restart to fetch it back from neighbours"
    )]
    OwnFeedDamaged {
        /// The database path.
        path: String,
        /// What is wrong.
        source: LoadError,
    },
    /// A write failed (an I/O error other than a full disk).
    #[error("could not save to disk: {0}")]
    Write(String),
    /// The disk is full. sled refuses every operation after its first failed write, so
    /// the node must be restarted once there is room; nothing saved before is lost.
    #[error(
        "the disk holding {path} is full: free some space, then restart entraide (everything saved before is safe)"
    )]
    DiskFull {
        /// The database path.
        path: String,
    },
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        // ENOSPC and EDQUOT, for errors built from raw codes.
        || matches!(e.raw_os_error(), Some(28 | 122))
}

/// A feed as the store holds it.
struct StoredFeed {
    /// Its saved document, then its appended changes.
    bytes: Vec<u8>,
    /// Its signatures.
    signed: Vec<SignedHeads>,
    /// Whether changes were appended after the document (only to the node's own feeds).
    appended: bool,
}

/// A stored feed as read back: parsed, or why not; and whether from its snapshot.
type LoadedFeed = (FeedId, Result<Feed, LoadError>, bool);

/// The feed key: author || epoch.
pub fn feed_key(feed: &FeedId) -> [u8; FEED_KEY_LEN] {
    let mut key = [0u8; FEED_KEY_LEN];
    key[..32].copy_from_slice(&feed.author.0);
    key[32..].copy_from_slice(&feed.epoch.to_be_bytes());
    key
}

fn parse_feed_key(key: &[u8]) -> Option<FeedId> {
    if key.len() != FEED_KEY_LEN {
        return None;
    }
    let mut author = [0u8; 32];
    author.copy_from_slice(&key[..32]);
    let epoch = u32::from_be_bytes(key[32..].try_into().ok()?);
    Some(FeedId {
        author: AuthorId(author),
        epoch,
    })
}

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    path: String,
    /// The file, beside sled's own, that records how many changes of the resident's own
    /// feed were acknowledged (see [`Store::load_board`]).
    ledger: std::path::PathBuf,
    db: sled::Db,
    feeds: sled::Tree,
    /// Each stored feed's snapshot (`entraide_crdt::Feed::snapshot`): its content, so that
    /// a start need not parse its document. Ignored unless made for the bytes stored.
    snapshots: sled::Tree,
    changes: sled::Tree,
    signed: sled::Tree,
    sync: sled::Tree,
    peers: sled::Tree,
    /// Each local resident's block list: `reader || blocked` (64 bytes) to a JSON
    /// [`crate::blocked::BlockNote`].
    blocked: sled::Tree,
}

/// The sled tree of the feeds' snapshots ([`Store`]'s `snapshots`). A store without it
/// (written by a version before snapshots) is read by parsing every document, once.
pub const SNAPSHOTS_TREE: &str = "snapshots";

fn block_key(reader: &AuthorId, who: &AuthorId) -> [u8; 64] {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&reader.0);
    key[32..].copy_from_slice(&who.0);
    key
}

/// A feed that could not be loaded and was left out (it will be fetched again).
#[derive(Debug)]
pub struct SkippedFeed {
    /// The feed.
    pub feed: FeedId,
    /// Why.
    pub error: LoadError,
}

impl Store {
    /// [`Store::open`], waiting up to `patience` while another process holds the
    /// database: a command like `entraide list` run while `entraide up` starts holds it
    /// for a fraction of a second.
    pub async fn open_patiently(path: &Path, patience: Duration) -> Result<Self, StoreError> {
        let deadline = Instant::now() + patience;
        loop {
            match Self::open(path) {
                Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        finish_rewrite(path).map_err(|e| StoreError::Damaged {
            path: shown.clone(),
            reason: format!("a rewrite of it was interrupted and cannot be finished: {e}"),
        })?;
        // sled opens a damaged or truncated log as whatever prefix it can read, often
        // nothing: an existing database without our format record is damaged, not new.
        let existed = path.join("conf").exists() || path.join("db").exists();
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| {
                if let sled::Error::Io(io) = &e
                    && is_disk_full(io)
                {
                    return StoreError::DiskFull {
                        path: shown.clone(),
                    };
                }
                let reason = match &e {
                    sled::Error::Corruption { .. } => "its files hold corrupted data".to_owned(),
                    other => other.to_string(),
                };
                // sled says a lock is held only in its message (an `io::ErrorKind::Other`);
                // `a_second_process_gets_a_clear_lock_error` pins that text.
                if reason.contains("could not acquire lock") {
                    StoreError::Locked(shown.clone())
                } else {
                    StoreError::Damaged {
                        path: shown.clone(),
                        reason,
                    }
                }
            })?;
        let damaged = |e: sled::Error| match e {
            sled::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull {
                path: shown.clone(),
            },
            e => StoreError::Damaged {
                path: shown.clone(),
                reason: e.to_string(),
            },
        };
        let meta = db.open_tree("meta").map_err(damaged)?;
        match meta.get("format").map_err(damaged)? {
            Some(f) if f.as_ref() == FORMAT => {}
            Some(_) => return Err(StoreError::Foreign(shown)),
            None => {
                let names = db.tree_names();
                // A fresh database has only sled's default tree and our meta tree.
                if names.len() > 2 || !db.is_empty() {
                    return Err(StoreError::Foreign(shown));
                }
                if existed {
                    return Err(StoreError::Damaged {
                        path: shown,
                        reason: "it holds none of entraide's records: it was damaged, truncated or replaced".into(),
                    });
                }
                meta.insert("format", FORMAT).map_err(damaged)?;
                db.flush().map_err(damaged)?;
            }
        }
        Ok(Self {
            ledger: path.join(LEDGER),
            feeds: db.open_tree("feeds").map_err(damaged)?,
            snapshots: db.open_tree(SNAPSHOTS_TREE).map_err(damaged)?,
            changes: db.open_tree("changes").map_err(damaged)?,
            signed: db.open_tree("signed").map_err(damaged)?,
            sync: db.open_tree("sync").map_err(damaged)?,
            peers: db.open_tree("peers").map_err(damaged)?,
            blocked: db.open_tree("blocked").map_err(damaged)?,
            path: shown,
            db,
        })
    }

    /// A read failed. An I/O error is not damage: after a failed write (a full disk)
    /// sled answers every read with the same error.
    fn damaged(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) => self.io_err(&io),
            e => StoreError::Damaged {
                path: self.path.clone(),
                reason: e.to_string(),
            },
        }
    }

    fn io_err(&self, e: &std::io::Error) -> StoreError {
        if is_disk_full(e) {
            StoreError::DiskFull {
                path: self.path.clone(),
            }
        } else {
            StoreError::Write(e.to_string())
        }
    }

    fn write_err(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) => self.io_err(&io),
            e => StoreError::Write(e.to_string()),
        }
    }

    /// Loads every feed. Feeds of others that fail to load are skipped and reported (they
    /// will be fetched again); the resident's own feed failing is an error, because
    /// writing on from an empty feed would fork their history.
    ///
    /// `own` lists the residents whose feeds this node writes: its owner first, then the
    /// residents it hosts.
    pub fn load_board(&self, own: &[AuthorId]) -> Result<(Board, Vec<SkippedFeed>), StoreError> {
        let mut board = Board::new();
        let mut skipped = Vec::new();
        let mut ids: BTreeSet<FeedId> = BTreeSet::new();
        for item in self.feeds.iter().keys() {
            let key = item.map_err(|e| self.damaged(e))?;
            ids.extend(parse_feed_key(&key));
        }
        for item in self.changes.iter().keys() {
            let key = item.map_err(|e| self.damaged(e))?;
            ids.extend(key.get(..FEED_KEY_LEN).and_then(parse_feed_key));
        }
        let (mut from_snapshots, mut parsed) = (0, 0);
        for (id, loaded, snapshot) in self.load_in_parallel(ids.into_iter().collect(), own)? {
            if loaded.is_ok() {
                if snapshot {
                    from_snapshots += 1;
                } else {
                    parsed += 1;
                }
            }
            match loaded {
                Ok(feed) => board.insert(feed),
                Err(error) if own.contains(&id.author) => {
                    return Err(StoreError::OwnFeedDamaged {
                        path: self.path.clone(),
                        source: error,
                    });
                }
                Err(error) => skipped.push(SkippedFeed { feed: id, error }),
            }
        }
        tracing::info!(from_snapshots, parsed, "feeds read from the store");
        let (bare, ledger) = self.ledger();
        for (i, author) in own.iter().enumerate() {
            let held = board
                .feeds()
                .filter(|f| f.id().author == *author)
                .map(|f| f.change_count())
                .max()
                .unwrap_or(0);
            // A ledger written before nodes hosted residents holds the owner's count alone.
            let acknowledged = ledger
                .get(author)
                .copied()
                .or(if i == 0 { bare } else { None })
                .unwrap_or(0);
            if held < acknowledged {
                return Err(StoreError::LostChanges {
                    path: self.path.clone(),
                    held,
                    acknowledged,
                });
            }
        }
        Ok((board, skipped))
    }

    /// Reads the feeds `ids` on every core, each thread reading its own share. A feed of
    /// another resident with a snapshot made for its stored bytes is read from it, its
    /// document left unparsed (`entraide_crdt::Feed::load_with_snapshot`); any other is
    /// parsed (parsing automerge documents is most of a start: docs/benchmarks.md, issue
    /// 16), and, when it belongs to another resident, given a snapshot and its document let
    /// go, so that the next start does not parse it. The feeds of `own`, which this node
    /// writes, are always parsed. The order is kept, so that the board is built from them
    /// exactly as one after the other would build it.
    fn load_in_parallel(
        &self,
        ids: Vec<FeedId>,
        own: &[AuthorId],
    ) -> Result<Vec<LoadedFeed>, StoreError> {
        let load_share = |share: &[FeedId]| -> Result<Vec<_>, StoreError> {
            let mut loaded = Vec::with_capacity(share.len());
            for id in share {
                let StoredFeed {
                    bytes,
                    signed,
                    appended,
                } = self.read_feed(id)?;
                if own.contains(&id.author) {
                    loaded.push((*id, Feed::load(*id, &bytes, signed), false));
                    continue;
                }
                let snapshot = self
                    .snapshots
                    .get(feed_key(id))
                    .map_err(|e| self.damaged(e))?;
                let feed = Feed::load_with_snapshot(*id, &bytes, signed, snapshot.as_deref());
                let from_snapshot = feed.as_ref().is_ok_and(|f| !f.is_parsed());
                let feed = feed.map(|feed| match appended {
                    false => self.snapshot_on_load(feed, bytes),
                    true => feed,
                });
                loaded.push((*id, feed, from_snapshot));
            }
            Ok(loaded)
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(ids.len().max(1));
        if threads <= 1 {
            return load_share(&ids);
        }
        // Contiguous shares, so that joining them in turn keeps the order.
        let share = ids.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let running: Vec<_> = ids
                .chunks(share)
                .map(|part| scope.spawn(move || load_share(part)))
                .collect();
            let mut all = Vec::with_capacity(ids.len());
            for handle in running {
                match handle.join() {
                    Ok(loaded) => all.extend(loaded?),
                    // Feed::load contains automerge's panics; anything else is a bug here.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok(all)
        })
    }

    /// A feed of another resident just read from `bytes`, its document alone (no changes
    /// appended: only a node's own feeds have those): if it was parsed, its snapshot is
    /// stored and its document let go. A snapshot that cannot be written (a full disk) only
    /// means the next start parses this feed again.
    fn snapshot_on_load(&self, mut feed: Feed, bytes: Vec<u8>) -> Feed {
        if feed.is_parsed() && matches!(self.save_snapshot(&feed, &bytes), Ok(true)) {
            feed.unload(bytes);
        }
        feed
    }

    /// One stored feed, read back (`None` if the store does not hold it).
    pub fn load_feed(&self, id: &FeedId) -> Result<Option<Result<Feed, LoadError>>, StoreError> {
        let StoredFeed { bytes, signed, .. } = self.read_feed(id)?;
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(Some(Feed::load(*id, &bytes, signed)))
    }

    /// A feed as stored, for [`Feed::load`].
    fn read_feed(&self, id: &FeedId) -> Result<StoredFeed, StoreError> {
        let key = feed_key(id);
        let mut bytes = self
            .feeds
            .get(key)
            .map_err(|e| self.damaged(e))?
            .map(|v| v.to_vec())
            .unwrap_or_default();
        let mut appended = false;
        for item in self.changes.scan_prefix(key) {
            let (_, v) = item.map_err(|e| self.damaged(e))?;
            bytes.extend_from_slice(&v);
            appended = true;
        }
        let signed = match self.signed.get(key).map_err(|e| self.damaged(e))? {
            Some(v) => ciborium::from_reader::<Vec<SignedHeads>, _>(v.as_ref()).unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(StoredFeed {
            bytes,
            signed,
            appended,
        })
    }

    fn put_signed(&self, feed: &Feed) -> Result<(), StoreError> {
        let mut bytes = Vec::new();
        ciborium::into_writer(feed.signed_heads(), &mut bytes)
            .map_err(|e| StoreError::Write(e.to_string()))?;
        self.signed
            .insert(feed_key(&feed.id()), bytes)
            .map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Appends one local change and the feed's signatures, then flushes: once this
    /// returns, the change survives a crash. Compacts the feed now and then.
    pub fn append_local(&self, feed: &Feed, change: &[u8]) -> Result<(), StoreError> {
        let key = feed_key(&feed.id());
        let next = match self.changes.scan_prefix(key).keys().next_back() {
            Some(last) => {
                let last = last.map_err(|e| self.damaged(e))?;
                u64::from_be_bytes(last[FEED_KEY_LEN..].try_into().map_err(
                    |e: std::array::TryFromSliceError| StoreError::Damaged {
                        path: self.path.clone(),
                        reason: e.to_string(),
                    },
                )?) + 1
            }
            None => 0,
        };
        let mut change_key = key.to_vec();
        change_key.extend_from_slice(&next.to_be_bytes());
        self.changes
            .insert(change_key, change)
            .map_err(|e| self.write_err(e))?;
        self.put_signed(feed)?;
        if next as usize >= COMPACT_AFTER {
            self.save_feed(feed)?;
        }
        self.flush()?;
        // Then the ledger: sled recovers a damaged log by dropping its tail, silently; the
        // ledger lets the next start notice that acknowledged changes are gone.
        // The change itself is on disk by now: a ledger that cannot be written (a full
        // disk) only lags behind, which weakens that check for this change; it does not
        // make the change unsaved, so it is still acknowledged.
        let (bare, mut ledger) = self.ledger();
        ledger.insert(feed.id().author, feed.change_count());
        let mut text = bare.map(|n| format!("{n}\n")).unwrap_or_default();
        for (author, count) in &ledger {
            text.push_str(&format!("{author} {count}\n"));
        }
        if let Err(e) = crate::data_dir::write_atomic(&self.ledger, text.as_bytes()) {
            tracing::warn!(error = %e, "the change is saved, but the acknowledgement ledger could not be updated");
        }
        Ok(())
    }

    /// How many changes of each local feed were acknowledged, as the ledger says: one line
    /// `<author id> <count>` per resident this node writes for; a line holding a bare
    /// count is the owner's, from before nodes hosted residents.
    fn ledger(&self) -> (Option<usize>, std::collections::BTreeMap<AuthorId, usize>) {
        let text = std::fs::read_to_string(&self.ledger).unwrap_or_default();
        let mut bare = None;
        let mut counts = std::collections::BTreeMap::new();
        for line in text.lines() {
            match line.split_once(' ') {
                Some((author, count)) => {
                    if let (Ok(author), Ok(count)) = (author.parse(), count.trim().parse()) {
                        counts.insert(author, count);
                    }
                }
                None => bare = line.trim().parse().ok().or(bare),
            }
        }
        (bare, counts)
    }

    /// Stores a feed in compacted form, replacing its appended changes. Returns the bytes
    /// stored, for [`Store::save_snapshot`] and [`Feed::keep_saved`]. A snapshot stored
    /// for the feed's former bytes stays until replaced, and is ignored meanwhile (it was
    /// made for other bytes).
    pub fn save_feed(&self, feed: &Feed) -> Result<Vec<u8>, StoreError> {
        let key = feed_key(&feed.id());
        let saved = feed.save();
        let batch = self.removal_of_appended(&key)?;
        // Write the compacted feed first: a crash between the two leaves both the feed and
        // its old changes, which load as duplicates (harmless), never a loss.
        self.feeds
            .insert(key, saved.as_slice())
            .map_err(|e| self.write_err(e))?;
        self.put_signed(feed)?;
        self.changes
            .apply_batch(batch)
            .map_err(|e| self.write_err(e))?;
        self.lower_ledger(feed)?;
        Ok(saved)
    }

    /// Stores the snapshot of `feed` as stored as `saved` (what [`Store::save_feed`]
    /// returned), so that the next start reads it without parsing its document. Returns
    /// whether there was one to store (none while changes wait for a dependency).
    ///
    /// Not part of every save: a node saving a neighbour's feed each second it receives
    /// would write its snapshot as often (measured: about 0.15 ms more per post and
    /// receiving node at N = 50). The node stores them when it lets documents go, and when
    /// it stops (`actor/retention.rs`).
    pub fn save_snapshot(&self, feed: &Feed, saved: &[u8]) -> Result<bool, StoreError> {
        let Some(snapshot) = feed.snapshot(saved) else {
            return Ok(false);
        };
        self.snapshots
            .insert(feed_key(&feed.id()), snapshot)
            .map_err(|e| self.write_err(e))?;
        Ok(true)
    }

    /// A local feed can hold fewer changes than were acknowledged: a device's removal
    /// drops what it wrote after it (`entraide_crdt::devices`), even on that device. Once
    /// the smaller feed is on disk, the ledger follows it down, so that the next start does
    /// not take the drop for lost changes. (It never goes up here: only a local write,
    /// flushed first, raises it.)
    fn lower_ledger(&self, feed: &Feed) -> Result<(), StoreError> {
        let (bare, mut ledger) = self.ledger();
        let author = feed.id().author;
        let count = feed.change_count();
        if ledger
            .get(&author)
            .is_none_or(|&acknowledged| acknowledged <= count)
        {
            return Ok(());
        }
        self.flush()?;
        ledger.insert(author, count);
        let mut text = bare.map(|n| format!("{n}\n")).unwrap_or_default();
        for (author, count) in &ledger {
            text.push_str(&format!("{author} {count}\n"));
        }
        if let Err(e) = crate::data_dir::write_atomic(&self.ledger, text.as_bytes()) {
            tracing::warn!(error = %e, "the acknowledgement ledger could not follow a feed that shrank");
        }
        Ok(())
    }

    /// A batch removing every change appended to the feed stored under `key`.
    fn removal_of_appended(&self, key: &[u8; FEED_KEY_LEN]) -> Result<sled::Batch, StoreError> {
        let mut batch = sled::Batch::default();
        for k in self.changes.scan_prefix(key).keys() {
            batch.remove(k.map_err(|e| self.damaged(e))?);
        }
        Ok(batch)
    }

    /// Removes a feed (an epoch replaced by a newer one, `entraide_crdt::epoch`): its
    /// saved document, appended changes and signatures, then flushes.
    pub fn remove_feed(&self, id: &FeedId) -> Result<(), StoreError> {
        let key = feed_key(id);
        let batch = self.removal_of_appended(&key)?;
        self.changes
            .apply_batch(batch)
            .map_err(|e| self.write_err(e))?;
        self.feeds.remove(key).map_err(|e| self.write_err(e))?;
        self.snapshots.remove(key).map_err(|e| self.write_err(e))?;
        self.signed.remove(key).map_err(|e| self.write_err(e))?;
        self.flush()
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Saves the sync states with one peer.
    pub fn save_sync_states(
        &self,
        peer: &[u8],
        states: &[(FeedId, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (feed, state) in states {
            let mut key = Vec::with_capacity(1 + peer.len() + FEED_KEY_LEN);
            key.push(peer.len() as u8);
            key.extend_from_slice(peer);
            key.extend_from_slice(&feed_key(feed));
            batch.insert(key, state.as_slice());
        }
        self.sync.apply_batch(batch).map_err(|e| self.write_err(e))
    }

    /// The sync states saved with one peer.
    pub fn sync_states(&self, peer: &[u8]) -> Vec<(FeedId, Vec<u8>)> {
        let mut prefix = vec![peer.len() as u8];
        prefix.extend_from_slice(peer);
        self.sync
            .scan_prefix(&prefix)
            .filter_map(Result::ok)
            .filter_map(|(k, v)| Some((parse_feed_key(k.get(prefix.len()..)?)?, v.to_vec())))
            .collect()
    }

    /// Remembers a peer address (`manual` ones were given by hand and are always redialled).
    pub fn remember_peer(&self, address: &str, manual: bool) -> Result<(), StoreError> {
        let already_manual = self
            .peers
            .get(address)
            .ok()
            .flatten()
            .is_some_and(|v| v.as_ref() == b"manual");
        let value: &[u8] = if manual || already_manual {
            b"manual"
        } else {
            b"seen"
        };
        self.peers
            .insert(address, value)
            .map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Remembered peer addresses, `(address, manual)`.
    pub fn peers(&self) -> Vec<(String, bool)> {
        self.peers
            .iter()
            .filter_map(Result::ok)
            .filter_map(|(k, v)| {
                Some((String::from_utf8(k.to_vec()).ok()?, v.as_ref() == b"manual"))
            })
            .collect()
    }

    /// Saves that `reader` blocked `who`, and why.
    pub fn block(
        &self,
        reader: &AuthorId,
        who: &AuthorId,
        note: &crate::blocked::BlockNote,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_vec(note).unwrap_or_default();
        self.blocked
            .insert(block_key(reader, who), value)
            .map_err(|e| self.write_err(e))?;
        self.blocked.flush().map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Forgets that `reader` blocked `who`.
    pub fn unblock(&self, reader: &AuthorId, who: &AuthorId) -> Result<(), StoreError> {
        self.blocked
            .remove(block_key(reader, who))
            .map_err(|e| self.write_err(e))?;
        self.blocked.flush().map_err(|e| self.write_err(e))?;
        Ok(())
    }

    /// Forgets every block `reader` made: they are no longer hosted here. Returns how many.
    pub fn forget_blocks_of(&self, reader: &AuthorId) -> Result<usize, StoreError> {
        let keys: Vec<sled::IVec> = self
            .blocked
            .scan_prefix(reader.0)
            .keys()
            .collect::<Result<_, _>>()
            .map_err(|e| self.damaged(e))?;
        for key in &keys {
            self.blocked.remove(key).map_err(|e| self.write_err(e))?;
        }
        self.blocked.flush().map_err(|e| self.write_err(e))?;
        Ok(keys.len())
    }

    /// Every block of every local resident: `(reader, blocked, note)`. An entry that
    /// does not read back (a damaged value) is left out.
    pub fn blocks(&self) -> Vec<(AuthorId, AuthorId, crate::blocked::BlockNote)> {
        self.blocked
            .iter()
            .filter_map(Result::ok)
            .filter_map(|(k, v)| {
                let reader: [u8; 32] = k.get(..32)?.try_into().ok()?;
                let who: [u8; 32] = k.get(32..)?.try_into().ok()?;
                let note = serde_json::from_slice(&v).ok()?;
                Some((AuthorId(reader), AuthorId(who), note))
            })
            .collect()
    }

    /// Bytes used on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// The bytes of every key and value held: what a database written afresh needs,
    /// before sled's own overhead. Reads everything.
    pub fn live_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name).map_err(|e| self.damaged(e))?;
            for item in tree.iter() {
                let (k, v) = item.map_err(|e| self.damaged(e))?;
                total += (k.len() + v.len()) as u64;
            }
        }
        Ok(total)
    }

    /// Gives back to the disk what sled keeps of removed records, when its files hold more
    /// than [`RECLAIM_RATIO`] times what is live plus `slack` (the node gives
    /// [`RECLAIM_SLACK_BYTES`]): copies every
    /// record into a new database beside this one, then puts it in this one's place.
    /// Returns the sizes on disk before and after, or `None` when there was little to
    /// gain.
    ///
    /// Safe against a crash at any step: the copy takes the old database's place only once
    /// it is whole and flushed, by renames that [`Store::open`] finishes (or undoes) if
    /// they were interrupted. A failed copy (a full disk) is removed and leaves this
    /// database as it was. Only this handle moves to the new database: the node holds
    /// one handle and never clones it.
    pub fn reclaim_space(&mut self, slack: u64) -> Result<Option<(u64, u64)>, StoreError> {
        let before = self.size_on_disk();
        let live = self.live_bytes()?;
        if before <= live.saturating_mul(RECLAIM_RATIO).saturating_add(slack) {
            return Ok(None);
        }
        let path = Path::new(&self.path).to_path_buf();
        let rewriting = beside(&path, REWRITING);
        let rewritten = beside(&path, REWRITTEN);
        let replaced = beside(&path, REPLACED);
        let io = |e: std::io::Error| self.io_err(&e);
        if rewriting.exists() {
            std::fs::remove_dir_all(&rewriting).map_err(io)?;
        }
        if let Err(e) = self.copy_into(&rewriting) {
            // Whatever was copied goes: the database in use is untouched.
            let _ = std::fs::remove_dir_all(&rewriting);
            return Err(e);
        }
        std::fs::rename(&rewriting, &rewritten).map_err(io)?;
        // From here the new copy is whole: `finish_rewrite` completes what follows if a
        // crash interrupts it.
        std::fs::rename(&path, &replaced).map_err(io)?;
        if let Err(e) = std::fs::rename(&rewritten, &path) {
            // The old database goes back in place; this handle still reads and writes it.
            let _ = std::fs::rename(&replaced, &path);
            return Err(io(e));
        }
        match Store::open(&path) {
            // Closes the old database (now under `replaced`) as this handle is dropped.
            Ok(new) => *self = new,
            Err(e) => {
                // The old one goes back in place: what it holds is still what is in use.
                let _ = std::fs::rename(&path, &rewriting);
                let _ = std::fs::rename(&replaced, &path);
                return Err(e);
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&replaced) {
            // Nothing is lost: the next start removes it.
            tracing::warn!(error = %e, "the database was rewritten, but its old copy could not be removed yet");
        }
        Ok(Some((before, self.size_on_disk())))
    }

    /// Copies every tree and the ledger into a new database at `to`, flushed.
    fn copy_into(&self, to: &Path) -> Result<(), StoreError> {
        let new = sled::Config::new()
            .path(to)
            .open()
            .map_err(|e| self.write_err(e))?;
        for name in self.db.tree_names() {
            let from = self.db.open_tree(&name).map_err(|e| self.damaged(e))?;
            let into = new.open_tree(&name).map_err(|e| self.write_err(e))?;
            for item in from.iter() {
                let (k, v) = item.map_err(|e| self.damaged(e))?;
                into.insert(k, v).map_err(|e| self.write_err(e))?;
            }
        }
        new.flush().map_err(|e| self.write_err(e))?;
        if self.ledger.exists() {
            let copy = to.join(LEDGER);
            std::fs::copy(&self.ledger, &copy).map_err(|e| self.io_err(&e))?;
            std::fs::File::open(&copy)
                .and_then(|f| f.sync_all())
                .map_err(|e| self.io_err(&e))?;
        }
        Ok(())
    }
}

/// `<path>.<what>`: a directory beside the database, for [`Store::reclaim_space`].
fn beside(path: &Path, what: &str) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(what);
    path.with_file_name(name)
}

/// Finishes (or undoes) a rewrite of the database at `path` that a crash interrupted
/// ([`Store::reclaim_space`]): a copy still being written is removed; a whole copy takes
/// the database's place if the old one was already moved aside, and is removed if not
/// (the old one is whole too); the old one, once replaced, is removed.
fn finish_rewrite(path: &Path) -> std::io::Result<()> {
    let (rewriting, rewritten, replaced) = (
        beside(path, REWRITING),
        beside(path, REWRITTEN),
        beside(path, REPLACED),
    );
    if rewriting.exists() {
        std::fs::remove_dir_all(&rewriting)?;
    }
    if rewritten.exists() {
        if path.exists() {
            std::fs::remove_dir_all(&rewritten)?;
        } else {
            std::fs::rename(&rewritten, path)?;
        }
    }
    if replaced.exists() {
        if path.exists() {
            std::fs::remove_dir_all(&replaced)?;
        } else {
            std::fs::rename(&replaced, path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use entraide_crdt::{AuthorKey, Category, DeviceId, Filter, Kind, PostDraft, Urgency, Writer};

    fn draft(title: &str) -> PostDraft {
        PostDraft {
            kind: Kind::Request,
            category: Category::Food,
            title: title.into(),
            details: String::new(),
            urgency: Urgency::Week,
            area: String::new(),
            expires_at: None,
            on_behalf_of: None,
        }
    }

    const NOW: i64 = 1_764_000_000;

    #[test]
    fn local_changes_survive_reopening_through_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let w = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([1; 8]));
        let mut board = Board::new();
        {
            let store = Store::open(&dir.path().join("db")).unwrap();
            for i in 0..(COMPACT_AFTER + 20) {
                let (_, change) = board
                    .post_new(
                        &w,
                        (i as u64).to_be_bytes(),
                        &draft(&format!("post {i}")),
                        NOW,
                    )
                    .unwrap();
                store
                    .append_local(board.feed(&change.feed).unwrap(), &change.change)
                    .unwrap();
            }
        }
        let store = Store::open(&dir.path().join("db")).unwrap();
        let (loaded, skipped) = store.load_board(&[w.author()]).unwrap();
        assert!(skipped.is_empty());
        assert_eq!(loaded.digest(), board.digest());
        assert_eq!(
            loaded.view(&Filter::default(), NOW).len(),
            COMPACT_AFTER + 20
        );
        // The signatures came back too, so the feed can be relayed.
        let id = FeedId::first(w.author());
        assert_eq!(
            loaded.feed(&id).unwrap().signed_heads(),
            board.feed(&id).unwrap().signed_heads()
        );
    }

    #[test]
    fn many_feeds_load_on_every_core_and_a_damaged_one_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let writers: Vec<Writer> = (1..=40u8)
            .map(|i| Writer::new(AuthorKey::from_seed([i; 32]), DeviceId([i; 8])))
            .collect();
        let mut board = Board::new();
        {
            let store = Store::open(&path).unwrap();
            for (i, w) in writers.iter().enumerate() {
                let (_, change) = board
                    .post_new(w, [i as u8; 8], &draft(&format!("post {i}")), NOW)
                    .unwrap();
                // Half saved whole, half as appended changes: both are read back.
                let feed = board.feed(&change.feed).unwrap();
                if i % 2 == 0 {
                    store.save_feed(feed).unwrap();
                } else {
                    store.append_local(feed, &change.change).unwrap();
                }
            }
            let damaged = feed_key(&FeedId::first(writers[7].author()));
            let batch = store.removal_of_appended(&damaged).unwrap();
            store.changes.apply_batch(batch).unwrap();
            store.feeds.insert(damaged, b"not a feed".to_vec()).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(&path).unwrap();
        let own = [writers[0].author()];
        let (loaded, skipped) = store.load_board(&own).unwrap();
        // Every other feed, in the board it would have been one after the other.
        assert_eq!(loaded.len(), 39);
        assert_eq!(loaded.view(&Filter::default(), NOW).len(), 39);
        let skipped: Vec<FeedId> = skipped.iter().map(|s| s.feed).collect();
        assert_eq!(skipped, vec![FeedId::first(writers[7].author())]);
        // The same damage to a feed the node writes stops the start instead.
        let own = [writers[7].author()];
        assert!(matches!(
            store.load_board(&own),
            Err(StoreError::OwnFeedDamaged { .. })
        ));
    }

    #[test]
    fn neighbours_feeds_are_read_from_their_snapshots_and_damage_is_still_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (mut board, writers) = store_of(&path, 12);
        let own = [writers[0].author()];
        let parsed = |b: &Board| b.feeds().filter(|f| f.is_parsed()).count();
        let store = Store::open(&path).unwrap();
        // Saved by `save_feed` alone: the first start parses every feed and stores the
        // snapshot of each neighbour's, letting its document go.
        assert_eq!(store.snapshots.len(), 0);
        let (loaded, skipped) = store.load_board(&own).unwrap();
        assert!(skipped.is_empty());
        assert_eq!(store.snapshots.len(), 11);
        assert_eq!(parsed(&loaded), 1, "documents given a snapshot are let go");
        assert_eq!(loaded.digest(), board.digest());
        // The next start reads them from their snapshots; the node's own feed is parsed,
        // to be written.
        let (loaded, _) = store.load_board(&own).unwrap();
        assert_eq!(parsed(&loaded), 1);
        assert!(
            loaded
                .feed(&FeedId::first(writers[0].author()))
                .unwrap()
                .is_parsed()
        );
        assert_eq!(loaded.digest(), board.digest());
        assert_eq!(
            loaded.view(&Filter::default(), NOW),
            board.view(&Filter::default(), NOW)
        );

        // A feed saved again after a change: its former snapshot is ignored (the feed is
        // parsed, and reads as it is now) until the new one is stored.
        let second = FeedId::first(writers[1].author());
        board
            .post_new(&writers[1], [99; 8], &draft("une autre"), NOW)
            .unwrap();
        let saved = store.save_feed(board.feed(&second).unwrap()).unwrap();
        let (loaded, _) = store.load_board(&own).unwrap();
        assert_eq!(loaded.digest(), board.digest());
        assert_eq!(parsed(&loaded), 1, "parsed, then given its new snapshot");
        assert!(
            store
                .save_snapshot(board.feed(&second).unwrap(), &saved)
                .unwrap()
        );
        let (loaded, _) = store.load_board(&own).unwrap();
        assert_eq!(parsed(&loaded), 1);
        assert_eq!(loaded.digest(), board.digest());

        // A feed whose stored bytes changed under its snapshot is parsed from the bytes:
        // damaged bytes are caught as before, whatever the snapshot says.
        let third = FeedId::first(writers[2].author());
        store
            .feeds
            .insert(feed_key(&third), b"not a feed".to_vec())
            .unwrap();
        let (loaded, skipped) = store.load_board(&own).unwrap();
        assert_eq!(
            skipped.iter().map(|s| s.feed).collect::<Vec<_>>(),
            vec![third]
        );
        assert!(loaded.feed(&third).is_none());
    }

    /// A store of `n` feeds of one post each (with long details), the first one written
    /// as the node's own (so the ledger is there too).
    fn store_of(path: &Path, n: u8) -> (Board, Vec<Writer>) {
        let writers: Vec<Writer> = (1..=n)
            .map(|i| Writer::new(AuthorKey::from_seed([i; 32]), DeviceId([i; 8])))
            .collect();
        let mut board = Board::new();
        let store = Store::open(path).unwrap();
        for (i, w) in writers.iter().enumerate() {
            let mut d = draft(&format!("post {i}"));
            // Words of letters drawn at random, so that compression does not shrink them.
            let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            d.details = (0..1500)
                .map(|k| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if k % 6 == 5 {
                        ' '
                    } else {
                        (b'a' + (x % 26) as u8) as char
                    }
                })
                .collect();
            let (_, change) = board.post_new(w, [i as u8; 8], &d, NOW).unwrap();
            let feed = board.feed(&change.feed).unwrap();
            if i == 0 {
                store.append_local(feed, &change.change).unwrap();
            } else {
                store.save_feed(feed).unwrap();
            }
        }
        store.flush().unwrap();
        (board, writers)
    }

    #[test]
    fn reclaiming_space_gives_back_what_was_removed_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (board, writers) = store_of(&path, 250);
        let mut store = Store::open(&path).unwrap();
        // Little to gain yet: nothing happens.
        assert_eq!(store.reclaim_space(RECLAIM_SLACK_BYTES).unwrap(), None);
        for w in &writers[10..] {
            let id = FeedId::first(w.author());
            store.remove_feed(&id).unwrap();
        }
        let kept = |loaded: &Board| {
            assert_eq!(loaded.len(), 10);
            for w in &writers[..10] {
                let id = FeedId::first(w.author());
                assert_eq!(
                    loaded.feed(&id).unwrap().heads(),
                    board.feed(&id).unwrap().heads()
                );
            }
        };
        let full = store.size_on_disk();
        let (before, after) = store.reclaim_space(0).unwrap().expect("rewritten");
        assert_eq!(before, full);
        assert!(after * 2 < before, "{after} is not under half of {before}");
        assert!(!beside(&path, REPLACED).exists());
        assert!(!beside(&path, REWRITTEN).exists());
        // The handle goes on working on the new database...
        let (loaded, skipped) = store.load_board(&[writers[0].author()]).unwrap();
        assert!(skipped.is_empty());
        kept(&loaded);
        store.remember_peer("/ip4/10.0.0.9/tcp/4001", true).unwrap();
        drop(store);
        // ...which holds everything, the ledger included (a lost own change would show).
        let store = Store::open(&path).unwrap();
        let (loaded, _) = store.load_board(&[writers[0].author()]).unwrap();
        kept(&loaded);
        assert_eq!(store.ledger().1.get(&writers[0].author()), Some(&1));
        assert_eq!(store.peers().len(), 1);
    }

    #[test]
    fn an_interrupted_rewrite_is_finished_or_undone_at_the_next_open() {
        let copy = |from: &Path, to: &Path| {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_file() {
                    std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
                }
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (board, writers) = store_of(&path, 5);
        let own = [writers[0].author()];
        let opens_whole = || {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.load_board(&own).unwrap().0.digest(), board.digest());
            for what in [REWRITING, REWRITTEN, REPLACED] {
                assert!(!beside(&path, what).exists(), "{what} is left");
            }
        };
        // A copy half written: removed.
        std::fs::create_dir_all(beside(&path, REWRITING)).unwrap();
        std::fs::write(beside(&path, REWRITING).join("db"), b"half").unwrap();
        opens_whole();
        // A whole copy, the old database still in place: the copy goes.
        copy(&path, &beside(&path, REWRITTEN));
        opens_whole();
        // The old one moved aside, the copy not yet in its place: the copy takes it.
        copy(&path, &beside(&path, REWRITTEN));
        std::fs::rename(&path, beside(&path, REPLACED)).unwrap();
        opens_whole();
        // The old one moved aside and nothing else: it comes back.
        std::fs::rename(&path, beside(&path, REPLACED)).unwrap();
        opens_whole();
    }

    #[test]
    fn a_second_process_gets_a_clear_lock_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(&dir.path().join("db")).unwrap();
        // sled locks per process with flock; a second open in the same process of the same
        // path shares the lock, so check the message mapping on a real second process in
        // the CLI tests. Here: a foreign database is refused.
        let other = dir.path().join("other");
        let db = sled::open(&other).unwrap();
        db.insert("x", "y").unwrap();
        drop(db);
        assert!(matches!(Store::open(&other), Err(StoreError::Foreign(_))));
    }

    #[test]
    fn a_resident_no_longer_hosted_leaves_no_block_behind() {
        use crate::blocked::BlockNote;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (zoe, owner) = (AuthorId([1; 32]), AuthorId([2; 32]));
        for n in 3..6 {
            store
                .block(
                    &zoe,
                    &AuthorId([n; 32]),
                    &BlockNote::new(Some("insultes"), 9),
                )
                .unwrap();
        }
        store
            .block(&owner, &AuthorId([3; 32]), &BlockNote::new(None, 9))
            .unwrap();
        assert_eq!(store.forget_blocks_of(&zoe).unwrap(), 3);
        assert_eq!(
            store.blocks(),
            vec![(owner, AuthorId([3; 32]), BlockNote::new(None, 9))],
            "only the owner's block is left"
        );
        assert_eq!(store.forget_blocks_of(&zoe).unwrap(), 0);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.blocks().len(), 1, "and so after a restart");
    }

    #[test]
    fn sync_states_and_peers_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let feed = FeedId::first(AuthorId([5; 32]));
        store
            .save_sync_states(b"peer-a", &[(feed, vec![1, 2, 3])])
            .unwrap();
        assert_eq!(store.sync_states(b"peer-a"), vec![(feed, vec![1, 2, 3])]);
        assert!(store.sync_states(b"peer-b").is_empty());
        store.remember_peer("/ip4/10.0.0.2/tcp/4001", true).unwrap();
        store
            .remember_peer("/ip4/10.0.0.2/tcp/4001", false)
            .unwrap();
        assert_eq!(
            store.peers(),
            vec![("/ip4/10.0.0.2/tcp/4001".to_string(), true)]
        );
    }
}

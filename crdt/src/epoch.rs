//! Epochs: an author's feed compacted, so that a year of history stays small.
//!
//! A feed is named by `(author, epoch)`. Every closed post stays in its author's feed
//! forever unless the author's node **compacts** it: it writes a new epoch holding only
//! what is still live, signed by the author like any feed, and the other nodes adopt it
//! and drop the old epoch.
//!
//! # What stays and what goes
//!
//! At `now`, the author's node leaves out of the new epoch:
//!
//! - every post of theirs whose time is up ([`post_leaves_at`]): done posts
//!   [`RETENTION_SECS`] after they were marked done, expired posts as long after they
//!   expired, withdrawn posts [`WITHDRAWN_RETENTION_SECS`] after they were withdrawn;
//! - every response of theirs to such a post, once the post's own feed says so: the post
//!   is held and its time is up, or its author's current epoch is compacted and no longer
//!   holds it.
//!
//! Everything else is copied as it reads now (the winner of a conflict): the name, the
//! devices, the stewards' statements, the re-key notices, the sealed records, the alerts,
//! rounds and sightings. The copy is written in changes of at most about
//! [`COPY_BATCH_BYTES`] each (a change must stay under `MAX_CHANGE_BYTES`), the last one
//! carrying the `compacted` entry (`from`, `at`, `dropped`).
//!
//! The `compacted` entry also names the heads of the epoch it was copied from (`heads`).
//! Another device of the author may write into the old epoch until it hears of the new
//! one; when it does, it writes those entries again into the new epoch
//! ([`Board::carry_over`]), so that nothing it wrote is lost with the old epoch.
//!
//! # Adoption
//!
//! A node adopts an epoch once it is **complete**: its `compacted` entry is applied
//! (it is in the last change, which depends on every other), nothing of it waits for a
//! dependency, and it names an older epoch (`from < epoch`). Then every older epoch of that
//! author leaves the board and the store, and the board refuses them from then on
//! ([`crate::ValidationFailure::Superseded`], which does not blame the sender: an honest
//! node that was away still holds them). A node that comes back with an old epoch offers it,
//! is refused, and receives the new one in the same round.
//!
//! A new epoch is refused ([`crate::ValidationFailure::EpochRefused`]) when the board holds
//! an older epoch of that author that says it must be: the author is excluded or their key
//! was succeeded (`crate::authority`: nothing of theirs written after is accepted, and a new
//! epoch is written after), or a change of the new epoch comes from a device the older
//! epoch lists as removed (`crate::devices`). Signatures bind the epoch number, so an epoch
//! written by anyone but the author is refused like any forged change.

use std::collections::BTreeSet;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, hydrate};

use crate::author::{AuthorId, Writer};
use crate::board::Board;
use crate::contained::contained;
use crate::content::{POST_PREFIX, PostState, RESPONSE_PREFIX, Source, StoredPost, int};
use crate::feed::{Feed, LocalChange, WriteError, root_keys};
use crate::post::Timestamp;
use crate::signed_heads::FeedId;

/// How long a done or expired post stays (in every node's storage) after it closed: 30
/// days, so that the thanks are read and a mistake can be seen.
pub const RETENTION_SECS: Timestamp = 30 * 24 * 3600;
/// How long a withdrawn post stays after it was withdrawn: a day (its author took it back).
pub const WITHDRAWN_RETENTION_SECS: Timestamp = 24 * 3600;
/// The root entry that marks a compacted epoch.
pub(crate) const COMPACTED_KEY: &str = "compacted";
/// The least time between two compactions of one feed: a day, so that a busy author's
/// feed is written again (and sent again to every neighbour) at most daily, with whatever
/// left by then.
pub const COMPACTION_INTERVAL_SECS: Timestamp = 24 * 3600;
/// About how many bytes of entries one change of a compaction copies.
pub const COPY_BATCH_BYTES: usize = 24 * 1024;
/// In the `compacted` entry: the heads of the epoch it was copied from, 32 bytes each.
const HEADS_KEY: &str = "heads";
/// The most heads a `compacted` entry is read with (more is not a compaction entraide
/// wrote: a feed is written by a few devices).
const MAX_COPIED_HEADS: usize = 64;

/// What a compacted epoch says of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Compacted {
    /// The epoch it was compacted from.
    pub from: u32,
    /// When (the author's clock).
    pub at: Timestamp,
    /// How many entries were left out.
    pub dropped: u64,
}

impl Compacted {
    pub(crate) fn read<S: Source>(source: &S) -> Option<Self> {
        let map = source.map_at(&source.root(), COMPACTED_KEY)?;
        Some(Self {
            from: u32::try_from(int(source, &map, "from")?).ok()?,
            at: int(source, &map, "at")?,
            dropped: int(source, &map, "dropped")
                .and_then(|d| u64::try_from(d).ok())
                .unwrap_or(0),
        })
    }
}

/// When `post` leaves storage: [`RETENTION_SECS`] after it was done (or, for a post closed
/// before entraide recorded when, after the time it would have expired) or after it
/// expired, [`WITHDRAWN_RETENTION_SECS`] after it was withdrawn.
pub fn post_leaves_at(post: &StoredPost) -> Timestamp {
    let closed = post.closed_at.unwrap_or(post.expires_at);
    match post.state {
        PostState::Done => closed.saturating_add(RETENTION_SECS),
        PostState::Withdrawn => closed.saturating_add(WITHDRAWN_RETENTION_SECS),
        PostState::Open => post.expires_at.saturating_add(RETENTION_SECS),
    }
}

/// A compaction written: the epoch made and the one it replaces.
#[derive(Debug)]
pub struct Compaction {
    /// The epoch compacted (now dropped).
    pub from: FeedId,
    /// The new epoch.
    pub to: FeedId,
    /// Its changes, in order: to store and to send like any local change.
    pub changes: Vec<LocalChange>,
    /// How many entries were left out.
    pub dropped: usize,
}

impl Feed {
    /// Whether this is a compacted epoch that holds everything it was written with.
    pub(crate) fn is_complete_epoch(&self) -> bool {
        self.pending_count() == 0
            && self
                .content()
                .compacted
                .is_some_and(|c| c.from < self.id().epoch)
    }
}

impl Board {
    /// The root entries of `author`'s current feed a compaction at `now` leaves out.
    pub fn expired_entries(&self, author: &AuthorId, now: Timestamp) -> BTreeSet<String> {
        let Some(feed) = self.current_feed(author) else {
            return BTreeSet::new();
        };
        let content = feed.content();
        let mut out = BTreeSet::new();
        for post in content.posts.values() {
            if post_leaves_at(post) <= now {
                out.insert(format!("{POST_PREFIX}{}", hex::encode(post.nonce)));
            }
        }
        for (post_id, response) in &content.responses {
            let gone = match self
                .current_feed(&response.to)
                .map(|f| (f, f.content().posts.get(post_id)))
            {
                Some((_, Some(post))) => post_leaves_at(post) <= now,
                Some((f, None)) => f.content().compacted.is_some(),
                None => false,
            };
            if gone {
                out.insert(format!("{RESPONSE_PREFIX}{post_id}"));
            }
        }
        out
    }

    /// Compacts the writer's own feed into a new epoch, leaving out what
    /// [`Board::expired_entries`] lists, if anything and if the current epoch was not
    /// itself compacted less than [`COMPACTION_INTERVAL_SECS`] ago; the old epoch leaves the board
    /// (the caller removes it from storage after storing the new one).
    pub fn compact(
        &mut self,
        writer: &Writer,
        now: Timestamp,
    ) -> Result<Option<Compaction>, WriteError> {
        let author = writer.author();
        let Some(old) = self.current_feed(&author) else {
            return Ok(None);
        };
        if old.cut().is_some() {
            return Err(WriteError::Excluded);
        }
        if old
            .content()
            .compacted
            .is_some_and(|c| now < c.at.saturating_add(COMPACTION_INTERVAL_SECS))
        {
            return Ok(None);
        }
        let drop = self.expired_entries(&author, now);
        if drop.is_empty() {
            return Ok(None);
        }
        let from = old.id();
        let Some(epoch) = from.epoch.checked_add(1) else {
            return Ok(None);
        };
        let to = FeedId { author, epoch };
        let copied: Vec<u8> = old.heads().iter().flat_map(|h| h.0).collect();
        let hydrate::Value::Map(root) = old.doc().hydrate(None) else {
            return Ok(None);
        };
        let mut entries: Vec<(&String, &hydrate::Value)> = root
            .iter()
            .filter(|(k, _)| !drop.contains(*k) && *k != COMPACTED_KEY && *k != "format")
            .map(|(k, v)| (k, &v.value))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut feed = Feed::new(to);
        let mut changes = Vec::new();
        let mut batch: Vec<(&String, &hydrate::Value)> = Vec::new();
        let mut size = 0;
        for (key, value) in entries {
            let n = key.len() + estimate(value);
            if !batch.is_empty() && size + n > COPY_BATCH_BYTES {
                changes.push(feed.write(writer, now, |tx| put_all(tx, &batch))?);
                batch.clear();
                size = 0;
            }
            batch.push((key, value));
            size += n;
        }
        let dropped = drop.len();
        changes.push(feed.write(writer, now, |tx| {
            put_all(tx, &batch)?;
            let map = tx.put_object(ROOT, COMPACTED_KEY, ObjType::Map)?;
            tx.put(&map, "from", i64::from(from.epoch))?;
            tx.put(&map, "at", now)?;
            tx.put(&map, "dropped", dropped as i64)?;
            tx.put(&map, HEADS_KEY, ScalarValue::Bytes(copied))
        })?);
        self.insert(feed);
        Ok(Some(Compaction {
            from,
            to,
            changes,
            dropped,
        }))
    }
}

impl Board {
    /// What the author wrote into epoch `old` after it was compacted, written again into
    /// the epoch that replaced it, so that it is not lost with `old`: another device of
    /// the author (a phone away from home) may write into the old epoch until it hears of
    /// the new one.
    ///
    /// The new epoch's `compacted` entry names the heads of `old` it was copied from
    /// (`heads`); every root entry a later change of `old` touched is put into the current
    /// epoch as it reads now in `old` (or deleted from it, if deleted there), unless the
    /// compaction left it out on purpose (held at those heads, missing from the new
    /// epoch). Nothing is written (`None`) when `old` holds nothing later, when the writer
    /// is not its author, or when the new epoch does not say what it was copied from.
    pub fn carry_over(
        &mut self,
        old: &Feed,
        writer: &Writer,
        now: Timestamp,
    ) -> Result<Option<LocalChange>, WriteError> {
        let author = writer.author();
        let Some(new) = self.current_feed(&author) else {
            return Ok(None);
        };
        if old.id().author != author
            || new.content().compacted.map(|c| c.from) != Some(old.id().epoch)
        {
            return Ok(None);
        }
        let Some(copied) = copied_heads(new) else {
            return Ok(None);
        };
        let doc = old.doc();
        let mut held = old.heads();
        let mut from = copied.clone();
        held.sort();
        from.sort();
        if held == from
            || copied
                .iter()
                .any(|h| doc.get_change_meta_by_hash(h).is_none())
        {
            return Ok(None);
        }
        let touched: BTreeSet<String> = contained(|| root_keys(doc.diff(&copied, &held)).collect())
            .map_err(|e| WriteError::Document(e.to_string()))?;
        let hydrate::Value::Map(root) =
            contained(|| doc.hydrate(None)).map_err(|e| WriteError::Document(e.to_string()))?
        else {
            return Ok(None);
        };
        let new_doc = new.doc();
        let mut carried: Vec<(String, Option<hydrate::Value>)> = Vec::new();
        for key in touched {
            if key == COMPACTED_KEY || key == "format" {
                continue;
            }
            let in_new = new_doc.get(ROOT, key.as_str()).ok().flatten().is_some();
            let when_copied = doc
                .get_at(ROOT, key.as_str(), &copied)
                .ok()
                .flatten()
                .is_some();
            if when_copied && !in_new {
                // Left out by the compaction: it stays out.
                continue;
            }
            let value = root.get(&key).cloned();
            if value.is_none() && !in_new {
                continue;
            }
            carried.push((key, value));
        }
        if carried.is_empty() {
            return Ok(None);
        }
        let change = self.own_feed(writer).write(writer, now, |tx| {
            for (key, value) in &carried {
                match value {
                    Some(value) => put(tx, &ROOT, key, value)?,
                    None => tx.delete(ROOT, key.as_str())?,
                }
            }
            Ok(())
        })?;
        Ok(Some(change))
    }
}

/// The heads of the epoch a compacted epoch was copied from, as its `compacted` entry
/// names them; `None` for an epoch written before entraide recorded them, or unreadable.
fn copied_heads(feed: &Feed) -> Option<Vec<ChangeHash>> {
    let doc = feed.doc();
    let map = (&doc).map_at(&ROOT, COMPACTED_KEY)?;
    let ScalarValue::Bytes(bytes) = (&doc).scalar(&map, HEADS_KEY)? else {
        return None;
    };
    if bytes.is_empty() || bytes.len() % 32 != 0 || bytes.len() > 32 * MAX_COPIED_HEADS {
        return None;
    }
    Some(
        bytes
            .chunks_exact(32)
            .map(|c| ChangeHash(c.try_into().unwrap_or([0; 32])))
            .collect(),
    )
}

/// About how many bytes `value` takes in a change.
fn estimate(value: &hydrate::Value) -> usize {
    match value {
        hydrate::Value::Scalar(s) => match s {
            automerge::ScalarValue::Str(t) => t.len() + 4,
            automerge::ScalarValue::Bytes(b) => b.len() + 4,
            _ => 10,
        },
        hydrate::Value::Map(m) => m
            .iter()
            .map(|(k, v)| k.len() + estimate(&v.value) + 4)
            .sum(),
        hydrate::Value::List(l) => l.iter().map(|v| estimate(&v.value) + 4).sum(),
        hydrate::Value::Text(t) => String::from(t).len() + 4,
    }
}

fn put_all(
    tx: &mut Transaction<'_>,
    entries: &[(&String, &hydrate::Value)],
) -> Result<(), automerge::AutomergeError> {
    for (key, value) in entries {
        put(tx, &ROOT, key.as_str(), value)?;
    }
    Ok(())
}

/// Writes `value` at `key` of map `obj`, objects copied whole.
fn put(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: &hydrate::Value,
) -> Result<(), automerge::AutomergeError> {
    match value {
        hydrate::Value::Scalar(s) => tx.put(obj, key, s.clone()),
        hydrate::Value::Map(m) => {
            let child = tx.put_object(obj, key, ObjType::Map)?;
            fill_map(tx, &child, m)
        }
        hydrate::Value::List(l) => {
            let child = tx.put_object(obj, key, ObjType::List)?;
            fill_list(tx, &child, l)
        }
        hydrate::Value::Text(t) => {
            let child = tx.put_object(obj, key, ObjType::Text)?;
            tx.splice_text(&child, 0, 0, &String::from(t))
        }
    }
}

fn fill_map(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    map: &hydrate::Map,
) -> Result<(), automerge::AutomergeError> {
    let mut keys: Vec<(&String, &hydrate::MapValue)> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in keys {
        put(tx, obj, key, &value.value)?;
    }
    Ok(())
}

fn fill_list(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    list: &hydrate::List,
) -> Result<(), automerge::AutomergeError> {
    for (i, item) in list.iter().enumerate() {
        match &item.value {
            hydrate::Value::Scalar(s) => tx.insert(obj, i, s.clone())?,
            hydrate::Value::Map(m) => {
                let child = tx.insert_object(obj, i, ObjType::Map)?;
                fill_map(tx, &child, m)?;
            }
            hydrate::Value::List(l) => {
                let child = tx.insert_object(obj, i, ObjType::List)?;
                fill_list(tx, &child, l)?;
            }
            hydrate::Value::Text(t) => {
                let child = tx.insert_object(obj, i, ObjType::Text)?;
                tx.splice_text(&child, 0, 0, &String::from(t))?;
            }
        }
    }
    Ok(())
}

/// Whether the new epoch `fresh` of an author may replace what the board holds of them:
/// not if the author's changes are cut (excluded, or a lost key), nor if one of its
/// changes comes from a device an older epoch lists as removed.
pub(crate) fn epoch_refused(
    board: &Board,
    feed: FeedId,
    actors: &[automerge::ActorId],
) -> Option<&'static str> {
    let older: Vec<&Feed> = board
        .feeds
        .range(FeedId::first(feed.author)..feed)
        .map(|(_, f)| f)
        .collect();
    if older.is_empty() {
        return None;
    }
    if board.authority().cut_for(&feed.author).is_some() {
        return Some("its author was excluded, or their key replaced");
    }
    for f in older {
        for actor in actors {
            if let Some((installation, _)) = crate::devices::Installation::of_actor(actor)
                && f.content()
                    .devices
                    .get(&installation)
                    .is_some_and(|d| d.removed.is_some())
            {
                return Some("written by a device its author removed");
            }
        }
    }
    None
}

//! One author's feed: an automerge document only that author's devices write.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, Change, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue};
use sha2::{Digest, Sha256};

use crate::author::{AuthorId, Writer};
use crate::authority::{Cut, EXCLUDE_PREFIX, STEWARD_PREFIX, VOUCH_PREFIX};
use crate::behalf;
use crate::contained::contained;
use crate::content::{FORMAT, FeedContent, POST_PREFIX, PostState, RESPONSE_PREFIX, SEALED_PREFIX};
use crate::devices::{DEVICE_PREFIX, Installation};
use crate::limits::{
    MAX_CHANGE_BYTES, MAX_FEED_BYTES, MAX_LIVE_FEED_BYTES, MAX_SIGNED_HEADS_PER_FEED,
};
use crate::post::{Field, PostDraft, PostId, TextError, Timestamp, clean_text};
use crate::signed_heads::{FeedId, SignedHeads};
use crate::snapshot::{LazyDoc, Parsed};
use crate::validation::{ValidationFailure, VerifiedBatch, split_chunks};

/// How full a feed may be for a local write that ends or takes back something (closing a
/// post, withdrawing a response, deleting sealed records, ending an alert, removing a
/// device, a steward's act): past [`MAX_LIVE_FEED_BYTES`], so that a full feed can still be
/// tidied, up to a change short of [`MAX_FEED_BYTES`], past which no node would take it.
pub(crate) const ENDING_LIMIT: usize = MAX_FEED_BYTES - MAX_CHANGE_BYTES;

/// The operations of one local write, run in its transaction.
pub(crate) trait WriteOps:
    FnOnce(&mut Transaction<'_>) -> Result<(), automerge::AutomergeError>
{
}

impl<F> WriteOps for F where F: FnOnce(&mut Transaction<'_>) -> Result<(), automerge::AutomergeError>
{}

/// A change made locally: what to store and what to push to neighbours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalChange {
    /// The feed written.
    pub feed: FeedId,
    /// The change, as an automerge change chunk.
    pub change: Vec<u8>,
    /// The author's signature over the feed's new heads.
    pub signed: SignedHeads,
}

/// Why a local write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A text breaks a rule.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The writer is not this feed's author.
    #[error("this is not your post: only its author can change it")]
    NotYourFeed,
    /// No post with that id in this feed.
    #[error("no post {0} on the board")]
    UnknownPost(PostId),
    /// The post is done or withdrawn, so its state no longer changes.
    #[error("post {0} is already {1}")]
    Closed(PostId, &'static str),
    /// A helper cannot respond to their own post.
    #[error("you cannot respond to your own post")]
    OwnPost,
    /// No device with that id is listed.
    #[error("no device {0} among yours (`entraide whoami` lists them)")]
    UnknownDevice(Installation),
    /// The device was removed, for good.
    #[error(
        "device {0} is removed, for good (to use that computer again, link it as a new device: a new folder and `entraide join-device`)"
    )]
    DeviceRemoved(Installation),
    /// The device writing was itself removed: nothing it writes would stand.
    #[error(
        "this device was removed from your devices: every honest node refuses what it writes. Link it again as a new device (a new folder and `entraide join-device`)"
    )]
    ThisDeviceRemoved,
    /// A device removing itself.
    #[error("this is the device you are using: remove it from another of your devices")]
    RemoveSelf,
    /// That author has not responded to the post.
    #[error("{} has not offered help on this post", .0.fmt_short())]
    NotAHelper(AuthorId),
    /// A post with that nonce already exists (the caller's randomness repeated).
    #[error("a post with that id already exists")]
    DuplicatePost,
    /// An alert, round or sighting rule was broken (`crate::EntryError`).
    #[error(transparent)]
    Entry(#[from] crate::entries::EntryError),
    /// The author was excluded from the community by its stewards, or their key was
    /// replaced by a new one: nothing written with it stands any more.
    #[error(
        "the stewards excluded this identity from the community (or replaced it with a new key): nothing it writes is accepted any more"
    )]
    Excluded,
    /// A steward's act was refused (`crate::authority`).
    #[error(transparent)]
    Authority(#[from] crate::authority::AuthorityError),
    /// The author's feed holds as much as one member's may ([`MAX_LIVE_FEED_BYTES`] for
    /// new content, [`MAX_FEED_BYTES`] for anything): every node would refuse more.
    #[error(
        "your feed is full ({}, at most {}): every node would refuse more. Close or withdraw the posts you no longer need and delete old conversations; closed posts leave every node after the retention period, which makes room again",
        megabytes(*.size),
        megabytes(*.max)
    )]
    FeedFull {
        /// The feed's size (its saved document), in bytes.
        size: usize,
        /// The limit reached, in bytes.
        max: usize,
    },
    /// The write would change nothing: it already says that.
    #[error("nothing to change: it already says that")]
    NothingChanged,
    /// automerge refused the write (a bug, not bad input).
    #[error("the document refused the write: {0}")]
    Document(String),
}

/// `3.1 MB`: a size for people (in MiB, as the limits are).
fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Why stored feed bytes could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not an automerge document (damaged storage).
    #[error("the stored feed {feed} is damaged: {reason}")]
    Damaged {
        /// The feed.
        feed: FeedId,
        /// What the decoder said.
        reason: String,
    },
    /// The stored document holds changes by another author (foreign or mixed-up storage).
    #[error("the stored feed {feed} holds changes by another author")]
    ForeignActor {
        /// The feed.
        feed: FeedId,
    },
}

/// What applying a verified batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Changes now part of the document.
    pub applied: usize,
    /// Changes waiting for missing dependencies.
    pub pending: usize,
    /// Whether the feed's visible content may have changed.
    pub heads_changed: bool,
    /// Changes refused or dropped because a removed device made them after its removal
    /// (`crate::devices`): left out of the batch, or, already held, dropped from the feed
    /// when the removal arrived.
    pub refused: usize,
}

/// One author's feed in one epoch, with what is needed to validate and relay it.
#[derive(Debug)]
pub struct Feed {
    id: FeedId,
    /// The document and every held change by (actor, seq), to spot equivocation; parsed
    /// when first needed for a feed read back from its snapshot (`crate::snapshot`).
    doc: LazyDoc,
    /// Signatures covering the current heads (and heads of waiting changes).
    signed: Vec<SignedHeads>,
    /// Validated changes waiting for a dependency, by hash.
    pending: HashMap<ChangeHash, Change>,
    content: FeedContent,
    /// The heads `content` was read at.
    content_heads: Vec<ChangeHash>,
    /// Root entries touched by changes applied since `content` was read.
    touched: BTreeSet<String>,
    /// Whether `content` must be read whole (the document was replaced).
    reread_all: bool,
    /// Changes refused or dropped as a removed device's (`crate::devices`), remembered so
    /// that what is built on them is refused too instead of waiting forever (bounded: the
    /// memory starts over past `limits::MAX_REFUSED_REMEMBERED`).
    refused: HashSet<ChangeHash>,
    /// When the author is excluded or their key was succeeded (`crate::authority`): the
    /// changes of theirs that stand. Set by the board from the statements of other feeds.
    cut: Option<Cut>,
    /// At least the size of the feed ([`Feed::saved_size`]): its size when last measured
    /// plus the bytes of every change added since. Measured again only when it passes a
    /// limit, since measuring costs a whole `save`.
    size_bound: usize,
    /// Whether a batch was refused here for taking the feed past [`MAX_FEED_BYTES`]: later
    /// ones adding changes are refused without measuring again (a member pushing past the
    /// limit costs one `save`, not one per change).
    full: bool,
}

impl Feed {
    /// An empty feed.
    pub fn new(id: FeedId) -> Self {
        Self {
            id,
            doc: LazyDoc::default(),
            signed: Vec::new(),
            pending: HashMap::new(),
            content: FeedContent::default(),
            content_heads: Vec::new(),
            touched: BTreeSet::new(),
            reread_all: false,
            refused: HashSet::new(),
            cut: None,
            size_bound: 0,
            full: false,
        }
    }

    /// Whether the change of `actor` with sequence number `seq` stands: not made by a
    /// removed device after its removal (`crate::devices`), nor after the author's
    /// exclusion (`crate::authority`).
    pub(crate) fn allows(&self, actor: &ActorId, seq: u64) -> bool {
        crate::devices::change_allowed(&self.content.devices, actor, seq)
            && self.cut.as_ref().is_none_or(|cut| cut.allows(actor, seq))
    }

    /// Whether some changes of this feed's author are refused (a removed device, or an
    /// exclusion).
    pub(crate) fn refuses_some(&self) -> bool {
        self.cut.is_some() || self.content.devices.values().any(|d| d.removed.is_some())
    }

    /// The changes of this feed's author that stand, when the author is excluded; `None`
    /// otherwise.
    pub fn cut(&self) -> Option<&Cut> {
        self.cut.as_ref()
    }

    /// Sets which changes of the author stand (`crate::authority`), and drops those held
    /// beyond it, with whatever was built on them. Returns how many went.
    pub(crate) fn set_cut(&mut self, cut: Option<Cut>) -> usize {
        if self.cut == cut {
            return 0;
        }
        self.cut = cut;
        let mut dropped = 0;
        for _ in 0..4 {
            let n = self.drop_refused_changes();
            dropped += n;
            if n == 0 {
                break;
            }
        }
        if dropped > 0 {
            self.prune_signed();
        }
        dropped
    }

    /// Every (actor, sequence number) held, applied or waiting.
    pub(crate) fn held_seqs(&self) -> impl Iterator<Item = (&ActorId, u64)> {
        self.seqs().keys().map(|(a, s)| (a, *s))
    }

    /// Whether the change was refused or dropped as a removed device's.
    pub(crate) fn was_refused(&self, hash: &ChangeHash) -> bool {
        self.refused.contains(hash)
    }

    fn remember_refused(&mut self, hashes: impl IntoIterator<Item = ChangeHash>) {
        for hash in hashes {
            if self.refused.len() >= crate::limits::MAX_REFUSED_REMEMBERED {
                self.refused.clear();
            }
            self.refused.insert(hash);
        }
    }

    /// Loads a feed saved with [`Feed::save`] and its stored signed heads.
    ///
    /// Storage is our own, written only with validated changes, so signatures are not
    /// walked again; the actors are checked so that mixed-up storage is caught.
    pub fn load(id: FeedId, data: &[u8], signed: Vec<SignedHeads>) -> Result<Self, LoadError> {
        let damaged = |reason: String| LoadError::Damaged { feed: id, reason };
        let mut feed = Feed::new(id);
        let chunks = split_chunks(data).map_err(|e| damaged(e.to_string()))?;
        let mut rest = Vec::new();
        for (i, (kind, bytes)) in chunks.into_iter().enumerate() {
            if i == 0 && kind == 0 {
                let doc = contained(|| Automerge::load(bytes))
                    .map_err(|e| damaged(e.to_string()))?
                    .map_err(|e| damaged(e.to_string()))?;
                feed.doc = LazyDoc::parsed(Parsed {
                    doc,
                    seqs: HashMap::new(),
                });
            } else {
                let change = contained(|| Change::try_from(bytes))
                    .map_err(|e| damaged(e.to_string()))?
                    .map_err(|e| damaged(e.to_string()))?;
                rest.push(change);
            }
        }
        let parsed = feed.doc.get_mut(&id.author);
        for meta in parsed.doc.get_changes_meta(&[]) {
            if !id.author.owns_actor(&meta.actor) {
                return Err(LoadError::ForeignActor { feed: id });
            }
            parsed
                .seqs
                .insert((meta.actor.into_owned(), meta.seq), meta.hash);
        }
        if rest
            .iter()
            .any(|c| !c.actors().all(|a| id.author.owns_actor(a)))
        {
            return Err(LoadError::ForeignActor { feed: id });
        }
        feed.insert_changes(rest).map_err(damaged)?;
        feed.signed = signed.into_iter().filter(|s| s.feed == id).collect();
        feed.prune_signed();
        feed.refresh().map_err(damaged)?;
        // The stored bytes: a saved document followed by changes, never smaller than the
        // document saved again.
        feed.size_bound = data.len();
        Ok(feed)
    }

    /// Loads a feed stored as `data`, from its snapshot when `snapshot` is the one made
    /// for exactly these bytes ([`Feed::snapshot`]): its document then stays as bytes until
    /// something needs it (`crate::snapshot`). Any other snapshot is ignored and the
    /// document parsed, as [`Feed::load`] does.
    pub fn load_with_snapshot(
        id: FeedId,
        data: &[u8],
        signed: Vec<SignedHeads>,
        snapshot: Option<&[u8]>,
    ) -> Result<Self, LoadError> {
        let Some((doc, content)) = snapshot.and_then(|s| crate::snapshot::decode(data, s)) else {
            return Self::load(id, data, signed);
        };
        let mut feed = Feed::new(id);
        feed.content_heads = doc.heads();
        feed.doc = doc;
        feed.content = content;
        feed.signed = signed.into_iter().filter(|s| s.feed == id).collect();
        feed.prune_signed();
        feed.size_bound = data.len();
        Ok(feed)
    }

    /// The snapshot of this feed as stored as `saved` (what [`Feed::save`] just returned,
    /// or the bytes it was just loaded from), for [`Feed::load_with_snapshot`]: `None`
    /// while changes wait for a dependency, or the content is behind the document.
    pub fn snapshot(&self, saved: &[u8]) -> Option<Vec<u8>> {
        if !self.pending.is_empty() || !self.content_is_current() {
            return None;
        }
        crate::snapshot::encode(
            saved,
            &self.content_heads,
            self.change_count(),
            &self.content,
        )
    }

    fn content_is_current(&self) -> bool {
        !self.reread_all && self.touched.is_empty() && self.content_heads == self.doc.heads()
    }

    /// Whether the document is parsed and held in memory (`crate::snapshot`).
    pub fn is_parsed(&self) -> bool {
        self.doc.is_parsed()
    }

    /// Lets go of the document if it did not change since it was read from its snapshot,
    /// let go ([`Feed::unload`]) or stored ([`Feed::keep_saved`]): parsed for a session
    /// that sent it to a peer, say. Returns whether it did.
    pub fn let_go_if_unchanged(&mut self) -> bool {
        self.doc.let_go_if_unchanged()
    }

    /// The bytes kept by [`Feed::keep_saved`] while the store holds no snapshot of them:
    /// the snapshot to store is `self.snapshot(bytes)`, then [`Feed::snapshot_stored`].
    pub fn stored_without_snapshot(&self) -> Option<&[u8]> {
        self.doc.stored_without_snapshot()
    }

    /// Records that the store now holds the snapshot of the bytes kept.
    pub fn snapshot_stored(&mut self) {
        self.doc.snapshot_stored();
    }

    /// Keeps `saved`, what [`Feed::save`] just returned and the store holds, so that the
    /// document can be let go later if it does not change
    /// ([`Feed::let_go_if_unchanged`]). Does nothing while changes wait for a dependency or
    /// the content is behind the document.
    pub fn keep_saved(&mut self, saved: Vec<u8>) {
        if self.pending.is_empty() && self.content_is_current() {
            self.doc.keep_saved(saved);
        }
    }

    /// Lets go of the parsed document, keeping `saved`, what [`Feed::save`] just returned
    /// and the store holds with its snapshot: it is parsed again when next needed. Does nothing while changes
    /// wait for a dependency or the content is behind the document.
    pub fn unload(&mut self, saved: Vec<u8>) {
        if self.pending.is_empty() && self.content_is_current() {
            self.doc.unload(saved);
        }
    }

    /// The feed as bytes: the compacted document followed by the changes still waiting
    /// for dependencies. [`Feed::load`] reads it back.
    pub fn save(&self) -> Vec<u8> {
        let mut out = self.doc.save();
        for change in self.pending.values() {
            out.extend_from_slice(change.raw_bytes());
        }
        out
    }

    /// Which feed this is.
    pub fn id(&self) -> FeedId {
        self.id
    }

    /// The feed's size as the limits count it ([`MAX_FEED_BYTES`],
    /// [`MAX_LIVE_FEED_BYTES`]): its document as automerge saves it (compressed), plus the
    /// changes waiting for a dependency. Costs a `save`.
    pub fn saved_size(&self) -> usize {
        if let Some(len) = self.doc.saved_len() {
            return len + self.pending_bytes();
        }
        let doc = self.doc();
        let saved = contained(|| doc.save().len()).unwrap_or(usize::MAX / 2);
        saved + self.pending_bytes()
    }

    fn pending_bytes(&self) -> usize {
        self.pending.values().map(|c| c.raw_bytes().len()).sum()
    }

    /// Whether the feed is over `limit`, measuring it only if its bound is; returns the
    /// size measured when it is over.
    fn over(&mut self, limit: usize) -> Option<usize> {
        if self.size_bound <= limit {
            return None;
        }
        let size = self.saved_size();
        self.size_bound = size;
        (size > limit).then_some(size)
    }

    /// Whether the feed holds no change at all.
    pub fn is_empty(&self) -> bool {
        self.doc.heads().is_empty() && self.pending.is_empty()
    }

    /// The heads of the applied document.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.heads()
    }

    /// A 16-byte digest of the heads, for inventories.
    pub fn heads_digest(&self) -> [u8; 16] {
        let mut h = Sha256::new();
        for head in self.doc.heads() {
            h.update(head.0);
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize()[..16]);
        out
    }

    /// The signatures that cover the feed's heads.
    pub fn signed_heads(&self) -> &[SignedHeads] {
        &self.signed
    }

    /// What the feed says.
    pub fn content(&self) -> &FeedContent {
        &self.content
    }

    /// Number of changes held (applied and waiting).
    pub fn change_count(&self) -> usize {
        if let Some(n) = self.doc.change_count() {
            return n + self.pending.len();
        }
        self.seqs().len()
    }

    /// Number of validated changes waiting for a dependency.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Whether the change is held, applied or waiting.
    pub fn holds(&self, hash: &ChangeHash) -> bool {
        self.has_applied(hash) || self.pending.contains_key(hash)
    }

    /// Whether the change is part of the document.
    pub fn has_applied(&self, hash: &ChangeHash) -> bool {
        self.doc().get_change_meta_by_hash(hash).is_some()
    }

    pub(crate) fn pending_deps(&self, hash: &ChangeHash) -> Option<&[ChangeHash]> {
        self.pending.get(hash).map(Change::deps)
    }

    pub(crate) fn hash_at(&self, actor: &ActorId, seq: u64) -> Option<ChangeHash> {
        self.seqs().get(&(actor.clone(), seq)).copied()
    }

    /// The document, parsed now if it was not (`crate::snapshot`).
    pub(crate) fn doc(&self) -> &Automerge {
        &self.doc.get(&self.id.author).doc
    }

    fn doc_mut(&mut self) -> &mut Automerge {
        &mut self.doc.get_mut(&self.id.author).doc
    }

    fn seqs(&self) -> &HashMap<(ActorId, u64), ChangeHash> {
        &self.doc.get(&self.id.author).seqs
    }

    fn seqs_mut(&mut self) -> &mut HashMap<(ActorId, u64), ChangeHash> {
        &mut self.doc.get_mut(&self.id.author).seqs
    }

    /// Records a sync message whose changes were already validated and applied (they must
    /// have been taken out of it): only `state` changes.
    pub(crate) fn receive_sync_state(
        &mut self,
        state: &mut automerge::sync::State,
        message: automerge::sync::Message,
    ) -> Result<(), String> {
        // Without changes automerge leaves the document alone (its saved bytes, kept for
        // `let_go_if_unchanged`, still say the same); only `state` can need restoring.
        if !message.changes.is_empty() {
            return Err("a sync message still holding changes".into());
        }
        let backup = state.clone();
        let doc = &mut self.doc.get_mut_unchanged(&self.id.author).doc;
        match contained(|| automerge::sync::SyncDoc::receive_sync_message(doc, state, message)) {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(panicked) => {
                *state = backup;
                Err(panicked.to_string())
            }
        }
    }

    /// Applies a batch that passed [`crate::validate`] for this feed's current state. On
    /// failure the feed is left as it was.
    pub fn apply(&mut self, batch: VerifiedBatch) -> Result<Applied, ValidationFailure> {
        if batch.feed != self.id {
            return Err(ValidationFailure::WrongFeed {
                expected: self.id,
                found: batch.feed,
            });
        }
        let before = self.doc.heads();
        let applied_before = self.seqs().len() - self.pending.len();
        let refused_in_batch = batch.refused.len();
        self.remember_refused(batch.refused.iter().copied());
        let added: usize = batch.changes.iter().map(|c| c.raw_bytes().len()).sum();
        if batch.document.is_none() && self.full && added > 0 {
            return Err(ValidationFailure::FeedFull {
                size: batch.bytes.max(self.size_bound),
            });
        }
        let bound_before = self.size_bound;
        // automerge may fail (or panic) part-way through, or on reading the result: keep
        // the old state to go back to.
        let backup = if let Some(document) = batch.document {
            // The document holds every applied change of ours (checked by `validate`): it
            // replaces ours, and what was waiting is offered to it again.
            let pending = self.pending.clone();
            let waiting: Vec<Change> = self.pending.drain().map(|(_, c)| c).collect();
            self.size_bound =
                batch.bytes + waiting.iter().map(|c| c.raw_bytes().len()).sum::<usize>();
            self.full = false;
            let old = std::mem::replace(
                self.doc.get_mut(&self.id.author),
                Parsed {
                    doc: document,
                    seqs: HashMap::new(),
                },
            );
            self.rebuild_seqs();
            self.reread_all = true;
            let result = self.insert_changes(waiting);
            Some((old, pending, result))
        } else if !batch.changes.is_empty() {
            let parsed = self.doc.get(&self.id.author).clone();
            let pending = self.pending.clone();
            self.size_bound = self.size_bound.saturating_add(added);
            let result = self.insert_changes(batch.changes);
            Some((parsed, pending, result))
        } else {
            None
        };
        if let Some((parsed, pending, result)) = backup {
            let does_not_apply = |reason| ValidationFailure::DoesNotApply { reason };
            let result = result.map_err(does_not_apply).and_then(|()| {
                // Rule 9: the feed stays within its limit.
                if let Some(size) = self.over(MAX_FEED_BYTES) {
                    return Err(ValidationFailure::FeedFull { size });
                }
                if self.doc.heads() != before {
                    self.refresh().map_err(does_not_apply)
                } else {
                    Ok(())
                }
            });
            if let Err(failure) = result {
                *self.doc.get_mut(&self.id.author) = parsed;
                self.pending = pending;
                self.size_bound = bound_before;
                self.full |= matches!(failure, ValidationFailure::FeedFull { .. });
                self.reread_all = true;
                // The old document was read fine before.
                let _ = self.refresh();
                return Err(failure);
            }
        }
        for s in batch.signed {
            if !self.signed.contains(&s) {
                self.signed.push(s);
            }
        }
        let mut dropped = 0;
        if self.doc.heads() != before {
            // Dropping can drop a removal written by a removed device, and so change the
            // list: go on until it stands (twice at most in practice; bounded anyway).
            for _ in 0..4 {
                let n = self.drop_refused_changes();
                dropped += n;
                if n == 0 {
                    break;
                }
            }
        }
        self.prune_signed();
        let heads_changed = self.doc.heads() != before;
        Ok(Applied {
            applied: (self.seqs().len() - self.pending.len()).saturating_sub(applied_before),
            pending: self.pending.len(),
            heads_changed,
            refused: refused_in_batch + dropped,
        })
    }

    /// Drops from the feed the changes a removed device made after its removal, or the
    /// author made after their exclusion, and every change built on one (`crate::devices`,
    /// `crate::authority`): they were accepted before the removal or the exclusion arrived.
    /// The document is rebuilt from the changes that stand. Returns how many went.
    ///
    /// Runs only for a feed whose author has some changes refused.
    fn drop_refused_changes(&mut self) -> usize {
        if !self.refuses_some() {
            return 0;
        }
        if self
            .seqs()
            .keys()
            .all(|(actor, seq)| self.allows(actor, *seq))
        {
            return 0;
        }
        let allowed = |actor: &ActorId, seq: u64| self.allows(actor, seq);
        // `get_changes` lists dependencies before dependents.
        let mut dropped: HashSet<ChangeHash> = HashSet::new();
        let mut keep = Vec::new();
        for change in self.doc().get_changes(&[]) {
            if !allowed(change.actor_id(), change.seq())
                || change.deps().iter().any(|d| dropped.contains(d))
            {
                dropped.insert(change.hash());
            } else {
                keep.push(change.clone());
            }
        }
        // Waiting changes go too when made by the removed device or built on what went.
        let waiting_before = self.pending.len();
        let gone = crate::devices::refused_among(allowed, self.pending.values(), |d| {
            dropped.contains(d) || self.refused.contains(d)
        });
        for h in gone {
            self.pending.remove(&h);
            dropped.insert(h);
        }
        let waiting_dropped = waiting_before - self.pending.len();
        self.remember_refused(dropped.iter().copied());
        if dropped.len() == waiting_dropped {
            self.rebuild_seqs();
            return waiting_dropped;
        }
        let mut doc = Automerge::new();
        let rebuilt = contained(|| doc.apply_changes(keep)).map_err(|e| e.to_string());
        match rebuilt {
            Ok(Ok(())) => {
                *self.doc_mut() = doc;
                self.rebuild_seqs();
                self.reread_all = true;
                // The changes kept were read fine before, in a larger document.
                let _ = self.refresh();
                dropped.len()
            }
            // The changes kept applied before, in order: this cannot happen; keep the
            // document as it is rather than lose it.
            _ => {
                self.rebuild_seqs();
                waiting_dropped
            }
        }
    }

    /// Applies `changes` (automerge holds back those missing a dependency). On `Err` the
    /// document may be half-updated: the caller restores or discards it.
    fn insert_changes(&mut self, changes: Vec<Change>) -> Result<(), String> {
        if changes.is_empty() {
            return Ok(());
        }
        for c in &changes {
            self.seqs_mut()
                .insert((c.actor_id().clone(), c.seq()), c.hash());
        }
        // automerge queues what misses a dependency and applies it once the dependency
        // arrives; `pending` mirrors that queue so it can be bounded, saved and walked.
        let mut log = automerge::PatchLog::active();
        let doc = self.doc_mut();
        contained(|| doc.apply_changes_log_patches(changes.clone(), &mut log))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        self.note_touched(&mut log)?;
        for c in changes {
            self.pending.insert(c.hash(), c);
        }
        let doc = self.doc.get(&self.id.author);
        self.pending
            .retain(|h, _| doc.doc.get_change_meta_by_hash(h).is_none());
        Ok(())
    }

    fn rebuild_seqs(&mut self) {
        let parsed = self.doc.get_mut(&self.id.author);
        parsed.seqs.clear();
        for meta in parsed.doc.get_changes_meta(&[]) {
            parsed
                .seqs
                .insert((meta.actor.into_owned(), meta.seq), meta.hash);
        }
        for c in self.pending.values() {
            parsed
                .seqs
                .insert((c.actor_id().clone(), c.seq()), c.hash());
        }
    }

    /// Keeps the signatures that still vouch for something: a head of the document, or a
    /// waiting change no other waiting change depends on (those are covered through the
    /// hash chain). At most [`MAX_SIGNED_HEADS_PER_FEED`] are kept, those covering the
    /// document's heads first, since peers refuse more.
    fn prune_signed(&mut self) {
        let heads = self.doc.heads();
        let depended: HashSet<ChangeHash> = self
            .pending
            .values()
            .flat_map(|c| c.deps().iter().copied())
            .collect();
        let pending = &self.pending;
        let useful = |h: &ChangeHash| {
            heads.contains(h) || (pending.contains_key(h) && !depended.contains(h))
        };
        self.signed
            .retain(|s| s.change_hashes().any(|h| useful(&h)));
        if self.signed.len() > MAX_SIGNED_HEADS_PER_FEED {
            // Stable sort: within each group, the order of arrival is kept.
            self.signed
                .sort_by_key(|s| !s.change_hashes().any(|h| heads.contains(&h)));
            self.signed.truncate(MAX_SIGNED_HEADS_PER_FEED);
        }
    }

    /// Brings the content up to the document: only the root entries that the changes
    /// applied since the last read touched (collected from automerge's patch log as they
    /// were applied) are read again, so a feed of 10,000 posts costs one post per new
    /// change. (automerge's `diff` between heads costs the whole document, measured at
    /// 6 ms per change at 6,000 posts.)
    ///
    /// Reading runs under [`contained`]: automerge panics on some documents it accepted
    /// (fuzzing found one). On `Err` the content is stale; the caller restores the
    /// document and reads it whole again.
    fn refresh(&mut self) -> Result<(), String> {
        let heads = self.doc.heads();
        let (author, doc) = (&self.id.author, &self.doc.get(&self.id.author).doc);
        if self.content_heads.is_empty() || self.reread_all {
            self.content =
                contained(|| FeedContent::read(author, doc)).map_err(|e| e.to_string())?;
            self.reread_all = false;
        } else if self.content_heads != heads {
            let keys = std::mem::take(&mut self.touched);
            let content = &mut self.content;
            if let Err(e) = contained(|| content.reread(author, doc, keys)) {
                self.reread_all = true;
                return Err(e.to_string());
            }
        }
        self.touched.clear();
        self.content_heads = heads;
        Ok(())
    }

    /// Records the root entries a patch log says were touched.
    fn note_touched(&mut self, log: &mut automerge::PatchLog) -> Result<(), String> {
        let doc = self.doc();
        let patches = contained(|| doc.make_patches(log)).map_err(|e| e.to_string())?;
        self.touched.extend(root_keys(patches));
        Ok(())
    }

    // --- Local writes: only the feed's author, from one of their devices. ---

    /// A local write that adds to the feed: refused once the feed holds
    /// [`MAX_LIVE_FEED_BYTES`] ([`WriteError::FeedFull`]).
    pub(crate) fn write(
        &mut self,
        writer: &Writer,
        now: Timestamp,
        f: impl WriteOps,
    ) -> Result<LocalChange, WriteError> {
        self.write_within(MAX_LIVE_FEED_BYTES, writer, now, f)
    }

    /// A local write, refused when the feed holds more than `limit` bytes
    /// ([`Feed::saved_size`]): [`MAX_LIVE_FEED_BYTES`] for what adds, [`ENDING_LIMIT`] for
    /// what ends something.
    pub(crate) fn write_within(
        &mut self,
        limit: usize,
        writer: &Writer,
        now: Timestamp,
        f: impl WriteOps,
    ) -> Result<LocalChange, WriteError> {
        if writer.author() != self.id.author {
            return Err(WriteError::NotYourFeed);
        }
        if self.cut.is_some() {
            return Err(WriteError::Excluded);
        }
        if self
            .content
            .devices
            .get(&writer.device().installation())
            .is_some_and(|d| d.removed.is_some())
        {
            return Err(WriteError::ThisDeviceRemoved);
        }
        if let Some(size) = self.over(limit) {
            return Err(WriteError::FeedFull { size, max: limit });
        }
        let document = |e: automerge::AutomergeError| WriteError::Document(e.to_string());
        self.doc_mut().set_actor(writer.actor());
        let fresh = self.doc.heads().is_empty();
        let mut tx = self
            .doc_mut()
            .transaction_log_patches(automerge::PatchLog::active())
            .map_err(|e| WriteError::Document(e.to_string()))?;
        if fresh {
            tx.put(ROOT, "format", FORMAT).map_err(document)?;
        }
        if let Err(e) = f(&mut tx) {
            tx.rollback();
            return Err(document(e));
        }
        let (hash, mut log) = tx.commit_with(CommitOptions::default().with_time(now));
        // Putting what is already there writes nothing (a name given again, say).
        let hash = hash.ok_or(WriteError::NothingChanged)?;
        if self.note_touched(&mut log).is_err() {
            // Only our own changes are in this document; should automerge still panic
            // reading it, the content is read whole again below.
            self.reread_all = true;
        }
        let change = self
            .doc()
            .get_change_by_hash(&hash)
            .ok_or_else(|| WriteError::Document("committed change not found".into()))?;
        self.seqs_mut()
            .insert((change.actor_id().clone(), change.seq()), hash);
        self.size_bound = self.size_bound.saturating_add(change.raw_bytes().len());
        let signed = SignedHeads::sign(writer.key(), self.id.epoch, &self.doc.heads());
        self.signed.push(signed.clone());
        self.prune_signed();
        // The change is made and signed; content that automerge fails to read is read
        // whole again at the next change (`reread_all` stays set).
        let _ = self.refresh();
        Ok(LocalChange {
            feed: self.id,
            change: change.raw_bytes().to_vec(),
            signed,
        })
    }

    /// Takes back the local change just written, which could not be saved (a full disk):
    /// the feed becomes what it was before, its heads signed again by `writer`. Only the
    /// newest local change can be taken back (no other change may depend on it), and only
    /// before it was sent anywhere. The writer must not write again with the same actor
    /// (the change may have reached the disk after all): use a new device id.
    pub fn forget_local(
        &mut self,
        writer: &Writer,
        change: &LocalChange,
    ) -> Result<(), WriteError> {
        if writer.author() != self.id.author || change.feed != self.id {
            return Err(WriteError::NotYourFeed);
        }
        let hash = Change::try_from(change.change.as_slice())
            .map_err(|e| WriteError::Document(e.to_string()))?
            .hash();
        if !self.doc.heads().contains(&hash) {
            return Err(WriteError::Document(
                "only the newest local change can be taken back".into(),
            ));
        }
        let keep: Vec<Change> = self
            .doc()
            .get_changes(&[])
            .into_iter()
            .filter(|c| c.hash() != hash)
            .collect();
        let mut doc = Automerge::new();
        doc.apply_changes(keep)
            .map_err(|e| WriteError::Document(e.to_string()))?;
        *self.doc_mut() = doc;
        // What waited for a dependency waited in the old document's queue: offer it again.
        let waiting: Vec<Change> = self.pending.drain().map(|(_, c)| c).collect();
        self.rebuild_seqs();
        self.insert_changes(waiting).map_err(WriteError::Document)?;
        self.signed.retain(|s| s != &change.signed);
        let heads = self.doc.heads();
        if !heads.is_empty() {
            self.signed
                .push(SignedHeads::sign(writer.key(), self.id.epoch, &heads));
        }
        self.prune_signed();
        self.reread_all = true;
        self.refresh().map_err(WriteError::Document)
    }

    /// Sets the author's display name.
    pub fn set_name(
        &mut self,
        writer: &Writer,
        name: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let name = clean_text(Field::Name, name)?;
        self.write(writer, now, |tx| tx.put(ROOT, "name", name))
    }

    /// Lists `installation` among the author's devices under `name` (a device being
    /// linked), with its network's peer id when known (so that neighbours can tell it is
    /// this author's). Listing a device already listed renames it; a removed device stays
    /// removed.
    pub fn add_device(
        &mut self,
        writer: &Writer,
        installation: Installation,
        name: &str,
        peer: Option<&str>,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let name = clean_text(Field::Name, name)?;
        let peer = peer.filter(|p| crate::devices::is_peer_id_text(p));
        if self
            .content
            .devices
            .get(&installation)
            .is_some_and(|d| d.removed.is_some())
        {
            return Err(WriteError::DeviceRemoved(installation));
        }
        let key = format!("{DEVICE_PREFIX}{installation}");
        let exists = self.content.devices.contains_key(&installation);
        self.write(writer, now, |tx| {
            let map = match tx.get(ROOT, key.as_str())? {
                Some((automerge::Value::Object(ObjType::Map), id)) if exists => id,
                _ => {
                    let id = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
                    tx.put(&id, "added", now)?;
                    id
                }
            };
            if let Some(peer) = peer {
                tx.put(&map, "peer", peer)?;
            }
            tx.put(&map, "name", name)
        })
    }

    /// Removes a listed device: its changes this feed holds stay, and every change of it
    /// not held now is refused from now on (`crate::devices`). A device cannot remove the
    /// device it is.
    pub fn remove_device(
        &mut self,
        writer: &Writer,
        installation: Installation,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        if writer.device().installation() == installation {
            return Err(WriteError::RemoveSelf);
        }
        match self.content.devices.get(&installation) {
            None => return Err(WriteError::UnknownDevice(installation)),
            Some(d) if d.removed.is_some() => {
                return Err(WriteError::DeviceRemoved(installation));
            }
            Some(_) => {}
        }
        let mut known: BTreeMap<[u8; 4], u64> = BTreeMap::new();
        for (actor, seq) in self.seqs_mut().keys() {
            if let Some((i, session)) = Installation::of_actor(actor)
                && i == installation
            {
                let max = known.entry(session).or_default();
                *max = (*max).max(*seq);
            }
        }
        if known.len() > crate::devices::MAX_KNOWN_ACTORS {
            return Err(WriteError::Document(
                "that device has too many runs to list".into(),
            ));
        }
        let key = format!("{DEVICE_PREFIX}{installation}");
        let known = crate::devices::format_known(&known);
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            let Some((automerge::Value::Object(ObjType::Map), map)) = tx.get(ROOT, key.as_str())?
            else {
                return Err(automerge::AutomergeError::InvalidOp(ObjType::Map));
            };
            tx.put(&map, "known", known)?;
            tx.put(&map, "removed", now)
        })
    }

    /// Writes that the author appoints (`appoint`) or retires (`!appoint`) steward `who`
    /// (`crate::authority`). Whether it counts is the board's verdict.
    pub(crate) fn put_steward(
        &mut self,
        writer: &Writer,
        who: &AuthorId,
        appoint: bool,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!("{STEWARD_PREFIX}{who}");
        let field = if appoint { "appoint" } else { "retire" };
        let said = &self.content.authority;
        let n = 1 + said
            .appoint
            .values()
            .chain(said.retire.values())
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0);
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            let map = match tx.get(ROOT, key.as_str())? {
                Some((automerge::Value::Object(ObjType::Map), id)) => id,
                _ => tx.put_object(ROOT, key.as_str(), ObjType::Map)?,
            };
            tx.put(&map, "n", n)?;
            tx.put(&map, field, now)
        })
    }

    /// Writes that the author excludes `who`, for `reason`, holding `known` of their changes.
    pub(crate) fn put_exclusion(
        &mut self,
        writer: &Writer,
        who: &AuthorId,
        reason: &str,
        known: &Cut,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!("{EXCLUDE_PREFIX}{who}");
        let known = known.format();
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            let map = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&map, "at", now)?;
            tx.put(&map, "reason", reason)?;
            tx.put(&map, "known", known)
        })
    }

    /// Writes a re-key notice the author made (`crate::rekey`).
    pub(crate) fn put_rekey(
        &mut self,
        writer: &Writer,
        notice: &crate::rekey::RekeyNotice,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!(
            "{}{}",
            crate::rekey::REKEY_PREFIX,
            hex::encode(notice.nonce)
        );
        let bytes = notice.encode();
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            tx.put(ROOT, key.as_str(), bytes)
        })
    }

    /// Writes that the author vouches that `new` succeeds the lost key `old`, holding
    /// `known` of the old key's changes.
    pub(crate) fn put_vouch(
        &mut self,
        writer: &Writer,
        old: &AuthorId,
        new: &AuthorId,
        known: &Cut,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!("{VOUCH_PREFIX}{old}");
        let (new, known) = (new.to_string(), known.format());
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            let map = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&map, "at", now)?;
            tx.put(&map, "new", new)?;
            tx.put(&map, "known", known)
        })
    }

    /// Adds a post stored under `nonce` (8 random bytes from the caller).
    pub fn create_post(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &PostDraft,
        now: Timestamp,
    ) -> Result<(PostId, LocalChange), WriteError> {
        self.create_post_marked(writer, nonce, draft, None, now)
    }

    /// Adds a post, marked with an escalation key if it is the public request of a missed
    /// care check.
    pub fn create_post_marked(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &PostDraft,
        escalation: Option<[u8; 8]>,
        now: Timestamp,
    ) -> Result<(PostId, LocalChange), WriteError> {
        let (draft, expires_at) = draft.cleaned(now)?;
        let key = format!("{POST_PREFIX}{}", hex::encode(nonce));
        if self.doc().get(ROOT, key.as_str()).ok().flatten().is_some() {
            return Err(WriteError::DuplicatePost);
        }
        let change = self.write(writer, now, |tx| {
            let post = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&post, "kind", draft.kind.as_str())?;
            tx.put(&post, "category", draft.category.as_str())?;
            tx.put(&post, "title", draft.title.as_str())?;
            tx.put(&post, "details", draft.details.as_str())?;
            tx.put(&post, "urgency", draft.urgency.as_str())?;
            tx.put(&post, "area", draft.area.as_str())?;
            tx.put(&post, "created_at", ScalarValue::Int(now))?;
            tx.put(&post, "expires_at", ScalarValue::Int(expires_at))?;
            tx.put(&post, "state", PostState::Open.as_str())?;
            tx.put_object(&post, "thanks", ObjType::Map)?;
            if let Some(key) = escalation {
                tx.put(&post, "escalation", hex::encode(key))?;
            }
            if let Some(behalf) = &draft.on_behalf_of {
                tx.put(&post, behalf::NAME_KEY, behalf.name.as_str())?;
                tx.put(&post, behalf::CONSENT_KEY, behalf.consent.as_str())?;
            }
            Ok(())
        })?;
        Ok((PostId::derive(&self.id.author, &nonce), change))
    }

    fn post_obj(&self, post: PostId) -> Result<(automerge::ObjId, PostState), WriteError> {
        let stored = self
            .content
            .posts
            .get(&post)
            .ok_or(WriteError::UnknownPost(post))?;
        let key = format!("{POST_PREFIX}{}", hex::encode(stored.nonce));
        match self.doc().get(ROOT, key.as_str()) {
            Ok(Some((_, obj))) => Ok((obj, stored.state)),
            _ => Err(WriteError::UnknownPost(post)),
        }
    }

    fn open_post(&self, post: PostId) -> Result<automerge::ObjId, WriteError> {
        match self.post_obj(post)? {
            (obj, PostState::Open) => Ok(obj),
            (_, state) => Err(WriteError::Closed(post, state.as_str())),
        }
    }

    /// Accepts `helper` for the author's open `post`.
    pub fn accept(
        &mut self,
        writer: &Writer,
        post: PostId,
        helper: AuthorId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let obj = self.open_post(post)?;
        self.write(writer, now, |tx| {
            tx.put(&obj, "accepted", helper.to_string())
        })
    }

    /// Marks the author's open `post` done or withdrawn.
    pub fn close(
        &mut self,
        writer: &Writer,
        post: PostId,
        state: PostState,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let obj = self.open_post(post)?;
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            tx.put(&obj, "state", state.as_str())?;
            // When it closed: how long it stays before compaction leaves it out.
            tx.put(&obj, "closed_at", now)
        })
    }

    /// Thanks `helper` for the author's `post` (open or done).
    pub fn thank(
        &mut self,
        writer: &Writer,
        post: PostId,
        helper: AuthorId,
        message: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let message = clean_text(Field::Message, message)?;
        let (obj, _) = self.post_obj(post)?;
        let thanks = match self.doc().get(&obj, "thanks") {
            Ok(Some((_, thanks))) => thanks,
            _ => return Err(WriteError::Document("post has no thanks map".into())),
        };
        self.write(writer, now, |tx| {
            tx.put(&thanks, helper.to_string(), message)
        })
    }

    /// Responds "I can help" to `post` of author `to`, with a message.
    pub fn respond(
        &mut self,
        writer: &Writer,
        post: PostId,
        to: AuthorId,
        message: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let message = clean_text(Field::Message, message)?;
        if to == self.id.author {
            return Err(WriteError::OwnPost);
        }
        let key = format!("{RESPONSE_PREFIX}{post}");
        self.write(writer, now, |tx| {
            let r = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&r, "to", to.to_string())?;
            tx.put(&r, "message", message)?;
            tx.put(&r, "at", ScalarValue::Int(now))?;
            tx.put(&r, "withdrawn", false)?;
            Ok(())
        })
    }

    /// Takes back the author's response to `post`.
    pub fn withdraw_response(
        &mut self,
        writer: &Writer,
        post: PostId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!("{RESPONSE_PREFIX}{post}");
        let obj = match self.doc().get(ROOT, key.as_str()) {
            Ok(Some((_, obj))) => obj,
            _ => return Err(WriteError::UnknownPost(post)),
        };
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            tx.put(&obj, "withdrawn", true)
        })
    }

    /// Writes a sealed record (`crate::sealed::seal`'s bytes) under `nonce`.
    pub fn put_sealed(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        sealed: Vec<u8>,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let key = format!("{SEALED_PREFIX}{}", hex::encode(nonce));
        if self.doc().get(ROOT, key.as_str()).ok().flatten().is_some() {
            return Err(WriteError::DuplicatePost);
        }
        self.write(writer, now, |tx| {
            tx.put(ROOT, key.as_str(), ScalarValue::Bytes(sealed))
        })
    }

    /// Deletes the author's sealed records under `nonces` from the document's current
    /// state (its history still holds the ciphertext until the feed is compacted).
    pub fn delete_sealed(
        &mut self,
        writer: &Writer,
        nonces: &[[u8; 8]],
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let keys: Vec<String> = nonces
            .iter()
            .map(|n| format!("{SEALED_PREFIX}{}", hex::encode(n)))
            .filter(|k| self.doc().get(ROOT, k.as_str()).ok().flatten().is_some())
            .collect();
        if keys.is_empty() {
            return Err(WriteError::Document("nothing to delete".into()));
        }
        self.write_within(ENDING_LIMIT, writer, now, |tx| {
            for key in &keys {
                tx.delete(ROOT, key.as_str())?;
            }
            Ok(())
        })
    }
}

/// The root entries `patches` touch.
pub(crate) fn root_keys(patches: Vec<automerge::Patch>) -> impl Iterator<Item = String> {
    patches
        .into_iter()
        .filter_map(|patch| match patch.path.first() {
            Some((_, automerge::Prop::Map(k))) => Some(k.clone()),
            Some(_) => None,
            None => match patch.action {
                automerge::PatchAction::PutMap { key, .. }
                | automerge::PatchAction::DeleteMap { key } => Some(key),
                automerge::PatchAction::Conflict {
                    prop: automerge::Prop::Map(key),
                } => Some(key),
                _ => None,
            },
        })
}

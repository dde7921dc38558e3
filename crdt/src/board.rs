//! The board: every feed of a community, and the writes a resident makes to it.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::author::{AuthorId, Writer};
use crate::content::{PostState, StoredPost, StoredResponse};
use crate::feed::{Applied, Feed, LocalChange, WriteError};
use crate::limits::MAX_OPEN_POSTS_SHOWN_PER_AUTHOR;
use crate::post::{PostDraft, PostId, Timestamp};
use crate::signed_heads::{FeedId, SignedHeads};
use crate::validation::{ValidationFailure, validate};
use crate::view::{
    BoardPage, CappedAuthor, Filter, PostView, ResponseView, Status, board_order, expiry_of,
    is_held_back,
};

/// Every feed this node holds for its community: its own and everybody else's, which it
/// stores and relays (store and forward).
#[derive(Debug, Default)]
pub struct Board {
    pub(crate) feeds: BTreeMap<FeedId, Feed>,
    /// The community's founder, its first steward (`crate::authority`), when it names one.
    pub(crate) founder: Option<AuthorId>,
    /// The verdict of the feeds' statements, kept up to date as feeds change.
    pub(crate) authority: crate::authority::Authority,
    /// By author, the compacted epoch adopted: older ones are refused (`crate::epoch`).
    superseded: BTreeMap<AuthorId, u32>,
    /// Epochs dropped since the caller last took them, to remove from storage.
    dropped_epochs: Vec<FeedId>,
}

/// Counts for a status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoardStats {
    /// Feeds held.
    pub feeds: usize,
    /// Posts held, in any state.
    pub posts: usize,
    /// Live posts (open or accepted, not expired), not counting those held back.
    pub live_posts: usize,
    /// Posts held back because they are dated too far ahead of now
    /// ([`crate::limits::MAX_CLOCK_AHEAD_SECS`]): held, not shown.
    #[serde(default)]
    pub held_back: usize,
}

/// Why what a person typed does not name exactly one post or helper. Each message says
/// what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No post id starts with the text.
    #[error("no post matches `{0}`")]
    NoSuchPost(String),
    /// Several post ids start with the text.
    #[error("`{0}` matches several posts: type more of the id")]
    AmbiguousPost(String),
    /// No helper of the post matches.
    #[error("no neighbour who offered help matches `{0}`")]
    NoSuchHelper(String),
    /// Several helpers of the post match.
    #[error("no neighbour who offered help matches `{0} (several match)`")]
    SeveralHelpers(String),
    /// No alert, round or sighting id starts with the text.
    #[error("no {what} matches `{typed}`")]
    NoSuchEntry {
        /// Which kind of entry was looked for.
        what: crate::entries::EntryKind,
        /// What was typed (at most 40 characters of it).
        typed: String,
    },
    /// Several alert, round or sighting ids start with the text.
    #[error("`{typed}` matches several {what}s: type more of the id")]
    AmbiguousEntry {
        /// Which kind of entry was looked for.
        what: crate::entries::EntryKind,
        /// What was typed (at most 40 characters of it).
        typed: String,
    },
}

/// The posts that match a filter, before paging.
struct Matching {
    /// In board order.
    posts: Vec<PostView>,
    /// How many more match but are held back.
    held_back: usize,
}

impl Board {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a loaded feed (replacing one with the same id).
    pub fn insert(&mut self, mut feed: Feed) {
        let says = !feed.content().authority.is_empty();
        let id = feed.id();
        if self.is_superseded(&id) {
            self.dropped_epochs.push(id);
            return;
        }
        let complete = feed.is_complete_epoch();
        feed.set_cut(self.authority.cut_for(&id.author));
        let said = self
            .feeds
            .insert(id, feed)
            .is_some_and(|old| !old.content().authority.is_empty());
        if says || said {
            self.settle_authority();
        }
        if complete {
            self.settle_epochs(id.author);
        }
    }

    /// Whether the board replaced `feed` with a newer epoch (`crate::epoch`).
    pub fn is_superseded(&self, feed: &FeedId) -> bool {
        self.superseded
            .get(&feed.author)
            .is_some_and(|&e| feed.epoch < e)
    }

    /// Adopts `author`'s newest complete compacted epoch, if any: the older ones leave.
    fn settle_epochs(&mut self, author: AuthorId) {
        let last = FeedId {
            author,
            epoch: u32::MAX,
        };
        let Some(epoch) = self
            .feeds
            .range(FeedId::first(author)..=last)
            .rev()
            .find(|(_, f)| f.is_complete_epoch())
            .map(|(id, _)| id.epoch)
        else {
            return;
        };
        let older: Vec<FeedId> = self
            .feeds
            .range(FeedId::first(author)..FeedId { author, epoch })
            .map(|(id, _)| *id)
            .collect();
        let mut said = false;
        for id in older {
            if let Some(f) = self.feeds.remove(&id) {
                said |= !f.content().authority.is_empty();
                self.dropped_epochs.push(id);
            }
        }
        let adopted = self.superseded.entry(author).or_insert(0);
        *adopted = (*adopted).max(epoch);
        if said {
            self.settle_authority();
        }
    }

    /// The epochs dropped (replaced by newer ones) since the last call: the caller removes
    /// them from storage.
    pub fn take_dropped_epochs(&mut self) -> Vec<FeedId> {
        std::mem::take(&mut self.dropped_epochs)
    }

    /// A feed by id.
    pub fn feed(&self, id: &FeedId) -> Option<&Feed> {
        self.feeds.get(id)
    }

    /// A feed by id, created empty if absent.
    pub fn feed_mut(&mut self, id: FeedId) -> &mut Feed {
        self.feeds.entry(id).or_insert_with(|| Feed::new(id))
    }

    pub(crate) fn existing_feed_mut(&mut self, id: &FeedId) -> Option<&mut Feed> {
        self.feeds.get_mut(id)
    }

    /// Parses, on every core, the documents of those of `ids` read from their snapshots
    /// and not parsed yet (`crate::snapshot`): a session about to answer a newcomer for
    /// thousands of feeds would otherwise parse them one after the other.
    pub fn parse_in_parallel<'a>(&self, ids: impl IntoIterator<Item = &'a FeedId>) {
        let lazy: Vec<&Feed> = ids
            .into_iter()
            .filter_map(|id| self.feeds.get(id))
            .filter(|f| !f.is_parsed())
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(lazy.len());
        if threads <= 1 {
            return;
        }
        std::thread::scope(|scope| {
            for share in lazy.chunks(lazy.len().div_ceil(threads)) {
                scope.spawn(move || {
                    for feed in share {
                        feed.doc();
                    }
                });
            }
        });
    }

    /// Lets go of every document that did not change since it was read from its snapshot
    /// or stored (`Feed::let_go_if_unchanged`), but those of `writing`, the authors this
    /// node writes for. Returns how many.
    pub fn let_go_unchanged(&mut self, writing: &[AuthorId]) -> usize {
        self.feeds
            .values_mut()
            .filter(|f| !writing.contains(&f.id().author))
            .map(|f| usize::from(f.let_go_if_unchanged()))
            .sum()
    }

    /// Every feed, in id order.
    pub fn feeds(&self) -> impl Iterator<Item = &Feed> {
        self.feeds.values()
    }

    /// Number of feeds held.
    pub fn len(&self) -> usize {
        self.feeds.len()
    }

    /// Whether no feed is held.
    pub fn is_empty(&self) -> bool {
        self.feeds.is_empty()
    }

    /// The epoch of `author`'s feed the board reads: the oldest non-empty one held. Once a
    /// compacted epoch is complete every older one is dropped (`crate::epoch`), so this is
    /// the newest complete epoch, or the one a newer, still partial epoch will replace.
    pub fn current_feed(&self, author: &AuthorId) -> Option<&Feed> {
        self.feeds
            .range(
                FeedId::first(*author)..=FeedId {
                    author: *author,
                    epoch: u32::MAX,
                },
            )
            .map(|(_, f)| f)
            .find(|f| !f.is_empty())
    }

    /// A digest of every (feed, heads) pair: two boards with the same digest hold the same
    /// changes, so a session between them has nothing to do.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for feed in self.feeds.values().filter(|f| !f.is_empty()) {
            let id = feed.id();
            h.update(id.author.0);
            h.update(id.epoch.to_be_bytes());
            h.update(feed.heads_digest());
        }
        h.finalize().into()
    }

    /// Validates and applies change data received for `feed`. Nothing is applied unless
    /// all of it is valid.
    pub fn receive(
        &mut self,
        feed: FeedId,
        data: &[u8],
        signed: &[SignedHeads],
    ) -> Result<Applied, ValidationFailure> {
        if self.is_superseded(&feed) {
            return Err(ValidationFailure::Superseded { feed });
        }
        let full = self.feeds.len() >= crate::limits::MAX_FEEDS;
        let mut fresh = None;
        let batch = match self.feeds.get(&feed) {
            Some(existing) => validate(existing, data, signed)?,
            None if full => return Err(ValidationFailure::TooManyFeeds),
            None => {
                // Not stored until it holds something valid: a peer cannot fill the board
                // with empty feeds.
                let mut new = Feed::new(feed);
                new.set_cut(self.authority.cut_for(&feed.author));
                let batch = validate(&new, data, signed)?;
                fresh = Some(new);
                batch
            }
        };
        if feed.epoch > 0
            && let Some(reason) = crate::epoch::epoch_refused(self, feed, &batch.actors())
        {
            return Err(ValidationFailure::EpochRefused { feed, reason });
        }
        let mut applied = match fresh {
            Some(mut fresh) => {
                let applied = fresh.apply(batch)?;
                if fresh.is_empty() {
                    return Ok(applied);
                }
                let says = !fresh.content().authority.is_empty();
                self.feeds.insert(feed, fresh);
                let mut applied = applied;
                if says {
                    applied.refused += self.settle_authority();
                }
                applied
            }
            None => {
                let existing = self.feeds.get_mut(&feed).expect("held above");
                let before = existing.content().authority.clone();
                let mut applied = existing.apply(batch)?;
                if existing.content().authority != before {
                    applied.refused += self.settle_authority();
                }
                applied
            }
        };
        if self.feeds.get(&feed).is_some_and(Feed::is_complete_epoch) {
            let had = self.feeds.len();
            self.settle_epochs(feed.author);
            if self.feeds.len() < had {
                applied.heads_changed = true;
            }
        }
        Ok(applied)
    }

    /// The whole board as a board file (`crate::board_file`), made at `now`: every
    /// non-empty feed with its signatures. Returns the bytes and how many feeds were left
    /// out for being over the record limit (none below 4 MiB per feed).
    pub fn export(&self, now: Timestamp) -> (Vec<u8>, usize) {
        let mut writer = crate::board_file::BoardFileWriter::new(now);
        let mut left_out = 0;
        for feed in self.feeds.values().filter(|f| !f.is_empty()) {
            let record = crate::board_file::FeedRecord {
                feed: feed.id(),
                data: feed.save(),
                signed: feed.signed_heads().to_vec(),
            };
            if !writer.add(&record) {
                left_out += 1;
            }
        }
        (writer.finish(), left_out)
    }

    /// The linked devices' network peer ids (text form) and whose they are: every device a
    /// current feed lists with a peer id and has not removed. How a linked device's
    /// connection is known to be its author's.
    pub fn device_peers(&self) -> std::collections::HashMap<String, AuthorId> {
        let mut out = std::collections::HashMap::new();
        for author in self.authors() {
            let Some(feed) = self.current_feed(&author) else {
                continue;
            };
            for d in feed.content().devices.values() {
                if let (None, Some(peer)) = (&d.removed, &d.peer) {
                    out.insert(peer.clone(), author);
                }
            }
        }
        out
    }

    /// Counts for a status line.
    pub fn stats(&self, now: Timestamp) -> BoardStats {
        let mut stats = BoardStats {
            feeds: self.feeds.values().filter(|f| !f.is_empty()).count(),
            ..BoardStats::default()
        };
        for feed in self.authors().filter_map(|a| self.current_feed(&a)) {
            for post in feed.content().posts.values() {
                stats.posts += 1;
                if is_held_back(post, now) {
                    stats.held_back += 1;
                } else if Status::of(post, now).is_live() {
                    stats.live_posts += 1;
                }
            }
        }
        stats
    }

    /// The newest feed of every author the stewards have not excluded: what the board,
    /// the alerts, the rounds and the sightings show.
    pub(crate) fn standing_feeds(&self) -> impl Iterator<Item = &Feed> + '_ {
        self.current_feeds()
            .filter(|f| !self.authority.excluded.contains_key(&f.id().author))
    }

    /// The feed the board reads of every author ([`Board::current_feed`]), in author
    /// order: one walk over the feeds, where looking each author up costs a search of the
    /// board per author (the board view does this on every call).
    fn current_feeds(&self) -> impl Iterator<Item = &Feed> + '_ {
        // The feeds are in (author, epoch) order: the first non-empty one of each author.
        let mut found = None;
        self.feeds.values().filter(move |f| {
            let author = f.id().author;
            if found == Some(author) || f.is_empty() {
                return false;
            }
            found = Some(author);
            true
        })
    }

    pub(crate) fn authors(&self) -> impl Iterator<Item = AuthorId> + '_ {
        let mut last = None;
        self.feeds
            .keys()
            .filter(move |id| {
                let new = last != Some(id.author);
                last = Some(id.author);
                new
            })
            .map(|id| id.author)
    }

    /// An author's display name, if their feed is known and sets one.
    pub fn name_of(&self, author: &AuthorId) -> Option<String> {
        self.current_feed(author)?.content().name.clone()
    }

    /// Every author with a name, by look-alike key (`text::name_keys`).
    fn authors_by_name_key(&self) -> BTreeMap<&str, Vec<AuthorId>> {
        let mut by_key: BTreeMap<&str, Vec<AuthorId>> = BTreeMap::new();
        for feed in self.authors().filter_map(|a| self.current_feed(&a)) {
            for key in feed.content().name_keys() {
                by_key.entry(key).or_default().push(feed.id().author);
            }
        }
        by_key
    }

    /// The other authors whose display name looks like `author`'s: the same name, or one
    /// that differs only in case, spacing, invisible characters or characters that look the
    /// same ([`crate::name_skeleton`]). Sorted by id; empty if `author` has no name.
    pub fn lookalikes(&self, author: &AuthorId) -> Vec<AuthorId> {
        let Some(feed) = self.current_feed(author) else {
            return Vec::new();
        };
        let by_key = self.authors_by_name_key();
        let mut alike: Vec<AuthorId> = feed
            .content()
            .name_keys()
            .iter()
            .filter_map(|k| by_key.get(k.as_str()))
            .flatten()
            .filter(|a| *a != author)
            .copied()
            .collect();
        alike.sort();
        alike.dedup();
        alike
    }

    /// The posts that match `filter`, in board order: every one of them (no per-author
    /// cap, see [`Board::page`]), except those held back because they are dated more than
    /// [`crate::limits::MAX_CLOCK_AHEAD_SECS`] after `now`.
    pub fn view(&self, filter: &Filter, now: Timestamp) -> Vec<PostView> {
        self.matching(filter, now).posts
    }

    /// One page of the board: the posts that match `filter`, in board order, from
    /// `offset`, at most `limit` of them ([`crate::limits::BOARD_PAGE_SIZE`] on a page).
    ///
    /// Unless the filter names an author, at most
    /// [`MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`] live posts of each author are shown (their first
    /// ones in board order); the others are counted in [`BoardPage::capped`], so that one
    /// member posting thousands of requests cannot bury everyone else's. Closed posts are
    /// never capped. `total` counts the posts after the cap, so paging walks exactly them.
    pub fn page(&self, filter: &Filter, now: Timestamp, offset: usize, limit: usize) -> BoardPage {
        let Matching { posts, held_back } = self.matching(filter, now);
        let mut shown: BTreeMap<AuthorId, usize> = BTreeMap::new();
        let mut capped: BTreeMap<AuthorId, CappedAuthor> = BTreeMap::new();
        let cap = filter.author.is_none();
        let kept: Vec<PostView> = posts
            .into_iter()
            .filter(|p| {
                if !cap || !p.status.is_live() {
                    return true;
                }
                let n = shown.entry(p.author).or_default();
                *n += 1;
                if *n <= MAX_OPEN_POSTS_SHOWN_PER_AUTHOR {
                    return true;
                }
                capped
                    .entry(p.author)
                    .or_insert_with(|| CappedAuthor {
                        author: p.author,
                        author_name: p.author_name.clone(),
                        author_name_lookalike: p.author_name_lookalike,
                        hidden: 0,
                    })
                    .hidden += 1;
                false
            })
            .collect();
        let total = kept.len();
        let mut capped: Vec<CappedAuthor> = capped.into_values().collect();
        capped.sort_by(|a, b| b.hidden.cmp(&a.hidden).then(a.author.cmp(&b.author)));
        BoardPage {
            posts: kept.into_iter().skip(offset).take(limit).collect(),
            offset,
            total,
            capped,
            held_back,
        }
    }

    fn matching(&self, filter: &Filter, now: Timestamp) -> Matching {
        let mut views = Views::new(self, None, now);
        let filter = filter.prepare();
        let mut matching = Matching {
            posts: Vec::new(),
            held_back: 0,
        };
        for i in 0..views.feeds.len() {
            let feed = views.feeds[i];
            let author = feed.id().author;
            // Worked out at the feed's first post that passes, then shared by the others.
            let mut shown = None;
            for post in feed.content().posts.values() {
                let responded = |helper| views.responded(post, author, helper);
                // Every post is tested as stored; only those that pass get a view.
                if !filter.admits(author, post, now, responded) {
                    continue;
                }
                if is_held_back(post, now) {
                    matching.held_back += 1;
                    continue;
                }
                let shown = shown.get_or_insert_with(|| views.author(feed));
                let view = views.view(feed, post, shown);
                matching.posts.push(view);
            }
        }
        matching.posts.sort_by(board_order);
        matching.posts = one_per_escalation(matching.posts);
        matching
    }

    /// One post, whatever its status: the post [`Board::view`] shows with
    /// `include_closed`, built alone.
    pub fn post(&self, id: PostId, now: Timestamp) -> Option<PostView> {
        let mut views = Views::new(self, Some(id), now);
        let (feed, post) = views
            .feeds
            .iter()
            .find_map(|f| f.content().posts.get(&id).map(|p| (*f, p)))?;
        if is_held_back(post, now) {
            return None;
        }
        // The board shows one post per escalation key, chosen among all it shows: this
        // one only if it is the one chosen (`one_per_escalation`).
        if let Some(key) = post.escalation {
            let chosen = views
                .feeds
                .iter()
                .flat_map(|f| f.content().posts.values())
                .filter(|p| p.escalation == Some(key) && !is_held_back(p, now))
                .map(|p| (!Status::of(p, now).is_live(), p.id))
                .min();
            if chosen.map(|(_, chosen)| chosen) != Some(id) {
                return None;
            }
        }
        let shown = views.author(feed);
        Some(views.view(feed, post, &shown))
    }

    /// Posts whose id starts with `prefix` (hex), for ids typed by hand.
    ///
    /// A whole id (what the page and every `show` after a push send) is looked up in each
    /// feed's posts; a shorter prefix is compared with each id's hex written on the stack.
    /// Formatting every post id into a new string cost a third of a `show` at 50 feeds.
    pub fn find_posts(&self, prefix: &str) -> Vec<PostId> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.len() == 2 * std::mem::size_of::<PostId>()
            && let Ok(id) = prefix.parse::<PostId>()
        {
            let held = self
                .feeds
                .values()
                .any(|f| f.content().posts.contains_key(&id));
            return if held { vec![id] } else { Vec::new() };
        }
        let prefix = prefix.as_bytes();
        let mut found: Vec<PostId> = self
            .feeds
            .values()
            .flat_map(|f| f.content().posts.keys())
            .filter(|id| {
                let mut hex = [0u8; 2 * std::mem::size_of::<PostId>()];
                // Cannot fail: the buffer is exactly twice the id's length.
                hex::encode_to_slice(id.0, &mut hex).is_ok() && hex.starts_with(prefix)
            })
            .copied()
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// The one post whose id starts with what a person typed (`f95b`, a whole id), for
    /// commands that name a post by hand.
    pub fn resolve_post(&self, typed: &str) -> Result<PostId, ResolveError> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(ResolveError::NoSuchPost(typed.into()));
        }
        match self.find_posts(typed).as_slice() {
            [] => Err(ResolveError::NoSuchPost(typed.into())),
            [one] => Ok(*one),
            _ => Err(ResolveError::AmbiguousPost(typed.into())),
        }
    }

    /// The one helper of `post` that what a person typed names: the start of their author
    /// id, their fingerprint (or its first 8 digits or more), or their display name
    /// (case-insensitive), among those who responded. A whole author id of someone who did
    /// not respond is returned as is, so that the write says why it is refused.
    pub fn resolve_helper(
        &self,
        post: PostId,
        typed: &str,
        now: Timestamp,
    ) -> Result<AuthorId, ResolveError> {
        let wanted = typed.trim().to_lowercase();
        let view = self
            .post(post, now)
            .ok_or_else(|| ResolveError::NoSuchPost(post.to_string()))?;
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
            [] => wanted
                .parse()
                .map_err(|_| ResolveError::NoSuchHelper(typed.trim().into())),
            _ => Err(ResolveError::SeveralHelpers(typed.trim().into())),
        }
    }

    fn author_of(&self, post: PostId) -> Option<AuthorId> {
        self.authors()
            .filter_map(|a| self.current_feed(&a))
            .find(|f| f.content().posts.contains_key(&post))
            .map(|f| f.id().author)
    }

    pub(crate) fn own_feed(&mut self, writer: &Writer) -> &mut Feed {
        let author = writer.author();
        let id = self
            .current_feed(&author)
            .map(|f| f.id())
            .unwrap_or_else(|| FeedId::first(author));
        self.feed_mut(id)
    }

    fn own_post(&mut self, writer: &Writer, post: PostId) -> Result<&mut Feed, WriteError> {
        match self.author_of(post) {
            Some(a) if a == writer.author() => Ok(self.own_feed(writer)),
            Some(_) => Err(WriteError::NotYourFeed),
            None => Err(WriteError::UnknownPost(post)),
        }
    }

    fn has_responded(&self, post: PostId, helper: AuthorId, now: Timestamp) -> bool {
        self.post(post, now)
            .is_some_and(|p| p.responses.iter().any(|r| r.helper == helper))
    }

    /// Takes back the local change just written (see [`Feed::forget_local`]).
    pub fn forget_local(
        &mut self,
        writer: &Writer,
        change: &LocalChange,
    ) -> Result<(), WriteError> {
        match self.existing_feed_mut(&change.feed) {
            Some(feed) => feed.forget_local(writer, change),
            None => Err(WriteError::NotYourFeed),
        }
    }

    /// Sets the writer's display name.
    pub fn set_name(
        &mut self,
        writer: &Writer,
        name: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_feed(writer).set_name(writer, name, now)
    }

    /// Lists a device among the writer's devices (`Feed::add_device`).
    pub fn add_device(
        &mut self,
        writer: &Writer,
        installation: crate::Installation,
        name: &str,
        peer: Option<&str>,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_feed(writer)
            .add_device(writer, installation, name, peer, now)
    }

    /// Removes one of the writer's devices (`Feed::remove_device`).
    pub fn remove_device(
        &mut self,
        writer: &Writer,
        installation: crate::Installation,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_feed(writer)
            .remove_device(writer, installation, now)
    }

    /// Posts the urgent visit request of a missed care check marked with its escalation
    /// key (`care::escalation_key`): the board shows one post per key.
    pub fn post_escalation(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &PostDraft,
        key: [u8; 8],
        now: Timestamp,
    ) -> Result<(PostId, LocalChange), WriteError> {
        self.own_feed(writer)
            .create_post_marked(writer, nonce, draft, Some(key), now)
    }

    /// Posts an offer or request; `nonce` is 8 random bytes from the caller.
    pub fn post_new(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &PostDraft,
        now: Timestamp,
    ) -> Result<(PostId, LocalChange), WriteError> {
        self.own_feed(writer).create_post(writer, nonce, draft, now)
    }

    /// Responds "I can help" to someone else's live post.
    pub fn respond(
        &mut self,
        writer: &Writer,
        post: PostId,
        message: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let view = self.post(post, now).ok_or(WriteError::UnknownPost(post))?;
        if view.author == writer.author() {
            return Err(WriteError::OwnPost);
        }
        if !view.status.is_live() {
            return Err(WriteError::Closed(post, view.status.as_str()));
        }
        self.own_feed(writer)
            .respond(writer, post, view.author, message, now)
    }

    /// Accepts a helper who responded to the writer's post.
    pub fn accept(
        &mut self,
        writer: &Writer,
        post: PostId,
        helper: AuthorId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        if !self.has_responded(post, helper, now) && self.author_of(post) == Some(writer.author()) {
            return Err(WriteError::NotAHelper(helper));
        }
        self.own_post(writer, post)?
            .accept(writer, post, helper, now)
    }

    /// Marks the writer's post done.
    pub fn done(
        &mut self,
        writer: &Writer,
        post: PostId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_post(writer, post)?
            .close(writer, post, PostState::Done, now)
    }

    /// Withdraws the writer's post.
    pub fn withdraw(
        &mut self,
        writer: &Writer,
        post: PostId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_post(writer, post)?
            .close(writer, post, PostState::Withdrawn, now)
    }

    /// Thanks a helper who responded to the writer's post.
    pub fn thank(
        &mut self,
        writer: &Writer,
        post: PostId,
        helper: AuthorId,
        message: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        if !self.has_responded(post, helper, now) && self.author_of(post) == Some(writer.author()) {
            return Err(WriteError::NotAHelper(helper));
        }
        self.own_post(writer, post)?
            .thank(writer, post, helper, message, now)
    }

    /// Writes a sealed record into the writer's feed.
    pub fn put_sealed(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        sealed: Vec<u8>,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_feed(writer).put_sealed(writer, nonce, sealed, now)
    }

    /// Deletes some of the writer's sealed records (see [`Feed::delete_sealed`]).
    pub fn delete_sealed(
        &mut self,
        writer: &Writer,
        nonces: &[[u8; 8]],
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.own_feed(writer).delete_sealed(writer, nonces, now)
    }

    /// Every sealed record held, still sealed: (writer, nonce, bytes), in feed order.
    pub fn sealed_records(&self) -> impl Iterator<Item = (AuthorId, [u8; 8], &[u8])> + '_ {
        self.authors()
            .filter_map(|a| self.current_feed(&a))
            .flat_map(|f| {
                let author = f.id().author;
                f.content()
                    .sealed
                    .iter()
                    .map(move |(n, b)| (author, *n, b.as_slice()))
            })
    }

    /// Every author whose feed is held, in id order.
    pub fn members(&self) -> Vec<AuthorId> {
        self.authors().collect()
    }
}

/// What building the views of a board's posts needs once per call, not once per post:
/// the feeds shown, the responses gathered from the helpers' feeds, who has a look-alike
/// name, and each helper's name, looked up the first time it is needed.
struct Views<'b> {
    board: &'b Board,
    now: Timestamp,
    /// The standing feeds ([`Board::standing_feeds`]), in author order.
    feeds: Vec<&'b Feed>,
    /// The responses not withdrawn, by post, with their helper.
    responses: BTreeMap<PostId, Vec<(AuthorId, &'b StoredResponse)>>,
    /// The authors whose name looks like another known author's.
    lookalike: BTreeSet<AuthorId>,
    /// Each helper's name and whether it looks like another's, once looked up: a helper
    /// who responded to many posts is looked up once.
    helpers: BTreeMap<AuthorId, (Option<String>, bool)>,
}

/// What the board shows of a post's author: the same on all their posts, so worked out
/// once per feed.
struct Shown {
    /// The author's new key, when stewards vouched for one.
    author_now: Option<AuthorId>,
    /// The name shown: the new key's, if any, else the author's own.
    name: Option<String>,
    /// Whether that author's name looks like another's.
    lookalike: bool,
}

impl<'b> Views<'b> {
    /// Ready to build views of the board's posts at `now`; with `only`, of that post alone
    /// (only its responses are gathered).
    fn new(board: &'b Board, only: Option<PostId>, now: Timestamp) -> Self {
        // One walk over the feeds for both the look-alike names, among every author, and
        // the feeds shown, those of the authors not excluded.
        let current: Vec<&Feed> = board.current_feeds().collect();
        let lookalike = lookalike_among(current.iter().copied());
        let excluded = &board.authority.excluded;
        let feeds: Vec<&Feed> = current
            .into_iter()
            .filter(|f| !excluded.contains_key(&f.id().author))
            .collect();
        // Responses live in the helpers' feeds: gather them by post once.
        let mut responses: BTreeMap<PostId, Vec<(AuthorId, &StoredResponse)>> = BTreeMap::new();
        for feed in &feeds {
            for r in feed.content().responses.values() {
                if r.withdrawn || only.is_some_and(|id| r.post != id) {
                    continue;
                }
                responses
                    .entry(r.post)
                    .or_default()
                    .push((feed.id().author, r));
            }
        }
        Views {
            board,
            now,
            feeds,
            responses,
            lookalike,
            helpers: BTreeMap::new(),
        }
    }

    /// Whether `helper` responded to `post` of `author` (and did not take it back).
    fn responded(&self, post: &StoredPost, author: AuthorId, helper: AuthorId) -> bool {
        self.responses
            .get(&post.id)
            .is_some_and(|rs| rs.iter().any(|(h, r)| *h == helper && r.to == author))
    }

    /// What the board shows of `feed`'s author.
    fn author(&self, feed: &Feed) -> Shown {
        let author = feed.id().author;
        let authority = &self.board.authority;
        let author_now = authority
            .succeeded
            .contains_key(&author)
            .then(|| authority.current_identity(&author));
        Shown {
            author_now,
            name: author_now
                .and_then(|a| self.board.name_of(&a))
                .or_else(|| feed.content().name.clone()),
            lookalike: self.lookalike.contains(&author),
        }
    }

    /// The view of `post`, from `feed`, whose author is `shown`.
    fn view(&mut self, feed: &Feed, post: &StoredPost, shown: &Shown) -> PostView {
        let author = feed.id().author;
        let now = self.now;
        let mut rs: Vec<ResponseView> = Vec::new();
        let to_post = self.responses.get(&post.id).into_iter().flatten();
        for (helper, r) in to_post.filter(|(_, r)| r.to == author) {
            let (helper_name, helper_name_lookalike) = self
                .helpers
                .entry(*helper)
                .or_insert_with(|| (self.board.name_of(helper), self.lookalike.contains(helper)))
                .clone();
            rs.push(ResponseView {
                helper: *helper,
                helper_name,
                helper_name_lookalike,
                message: r.message.clone(),
                at: r.at.min(now),
            });
        }
        rs.sort_by(|a, b| a.at.cmp(&b.at).then(a.helper.cmp(&b.helper)));
        PostView {
            id: post.id,
            author,
            author_name: shown.name.clone(),
            author_name_lookalike: shown.lookalike,
            author_now: shown.author_now,
            kind: post.kind,
            category: post.category,
            title: post.title.clone(),
            details: post.details.clone(),
            urgency: post.urgency,
            area: post.area.clone(),
            created_at: post.created_at.min(now),
            expires_at: expiry_of(post),
            status: Status::of(post, now),
            accepted: post.accepted,
            responses: rs,
            thanks: post.thanks.iter().map(|(h, m)| (*h, m.clone())).collect(),
            escalation: post.escalation.map(hex::encode),
            on_behalf_of: post.on_behalf_of.clone(),
        }
    }
}

/// The authors of `feeds` (one current feed per author) whose name looks like another's
/// there: a look-alike key of theirs is also another's, or is listed twice. One walk, each
/// key hashed once; the board view asks on every call.
fn lookalike_among<'a>(feeds: impl Iterator<Item = &'a Feed>) -> BTreeSet<AuthorId> {
    use std::collections::hash_map::{Entry, HashMap};
    // Most names have two keys: sized so that it never grows.
    let mut first: HashMap<&str, AuthorId> = HashMap::with_capacity(2 * feeds.size_hint().0);
    let mut alike = BTreeSet::new();
    for feed in feeds {
        let author = feed.id().author;
        for key in feed.content().name_keys() {
            match first.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(author);
                }
                Entry::Occupied(e) => {
                    alike.insert(*e.get());
                    alike.insert(author);
                }
            }
        }
    }
    alike
}

/// Keeps one post per escalation key, in board order: several circle members' nodes may
/// each have raised the request of one missed check while cut off from each other; every
/// board shows the same one of them (a live one first, then the smallest id).
fn one_per_escalation(posts: Vec<PostView>) -> Vec<PostView> {
    let mut chosen: BTreeMap<&str, (bool, PostId)> = BTreeMap::new();
    for p in &posts {
        if let Some(key) = p.escalation.as_deref() {
            let candidate = (!p.status.is_live(), p.id);
            chosen
                .entry(key)
                .and_modify(|c| *c = (*c).min(candidate))
                .or_insert(candidate);
        }
    }
    let keep: BTreeSet<PostId> = chosen.values().map(|(_, id)| *id).collect();
    posts
        .into_iter()
        .filter(|p| p.escalation.is_none() || keep.contains(&p.id))
        .collect()
}

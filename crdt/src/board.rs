//! The board: every feed of a community, and the writes a resident makes to it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::author::{AuthorId, Writer};
use crate::content::PostState;
use crate::feed::{Applied, Feed, LocalChange, WriteError};
use crate::post::{PostDraft, PostId, Timestamp};
use crate::signed_heads::{FeedId, SignedHeads};
use crate::validation::{ValidationFailure, validate};
use crate::view::{Filter, PostView, ResponseView, Status, board_order};

/// Every feed this node holds for its community: its own and everybody else's, which it
/// stores and relays (store and forward).
#[derive(Debug, Default)]
pub struct Board {
    feeds: BTreeMap<FeedId, Feed>,
}

/// Counts for a status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoardStats {
    /// Feeds held.
    pub feeds: usize,
    /// Posts held, in any state.
    pub posts: usize,
    /// Live posts (open or accepted, not expired).
    pub live_posts: usize,
}

impl Board {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a loaded feed (replacing one with the same id).
    pub fn insert(&mut self, feed: Feed) {
        self.feeds.insert(feed.id(), feed);
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

    /// The newest non-empty epoch of `author`'s feed.
    fn current_feed(&self, author: &AuthorId) -> Option<&Feed> {
        self.feeds
            .range(
                FeedId::first(*author)..=FeedId {
                    author: *author,
                    epoch: u32::MAX,
                },
            )
            .rev()
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
        let full = self.feeds.len() >= crate::limits::MAX_FEEDS;
        match self.feeds.get_mut(&feed) {
            Some(existing) => {
                let batch = validate(existing, data, signed)?;
                existing.apply(batch)
            }
            None if full => Err(ValidationFailure::TooManyFeeds),
            None => {
                // Not stored until it holds something valid: a peer cannot fill the board
                // with empty feeds.
                let mut fresh = Feed::new(feed);
                let batch = validate(&fresh, data, signed)?;
                let applied = fresh.apply(batch)?;
                if !fresh.is_empty() {
                    self.feeds.insert(feed, fresh);
                }
                Ok(applied)
            }
        }
    }

    /// Counts for a status line.
    pub fn stats(&self, now: Timestamp) -> BoardStats {
        let mut stats = BoardStats {
            feeds: self.feeds.values().filter(|f| !f.is_empty()).count(),
            ..BoardStats::default()
        };
        for feed in self.authors().filter_map(|a| self.current_feed(&a)) {
            stats.posts += feed.content().posts.len();
            stats.live_posts += feed
                .content()
                .posts
                .values()
                .filter(|p| Status::of(p, now).is_live())
                .count();
        }
        stats
    }

    fn authors(&self) -> impl Iterator<Item = AuthorId> + '_ {
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

    /// The posts that match `filter`, in board order.
    pub fn view(&self, filter: &Filter, now: Timestamp) -> Vec<PostView> {
        // Responses live in the helpers' feeds: gather them by post once.
        let mut responses: BTreeMap<PostId, Vec<(AuthorId, &crate::content::StoredResponse)>> =
            BTreeMap::new();
        let current: Vec<&Feed> = self
            .authors()
            .filter_map(|a| self.current_feed(&a))
            .collect();
        for feed in &current {
            for r in feed.content().responses.values().filter(|r| !r.withdrawn) {
                responses
                    .entry(r.post)
                    .or_default()
                    .push((feed.id().author, r));
            }
        }
        let mut posts = Vec::new();
        for feed in &current {
            let author = feed.id().author;
            for post in feed.content().posts.values() {
                let mut rs: Vec<ResponseView> = responses
                    .get(&post.id)
                    .into_iter()
                    .flatten()
                    .filter(|(_, r)| r.to == author)
                    .map(|(helper, r)| ResponseView {
                        helper: *helper,
                        helper_name: self.name_of(helper),
                        message: r.message.clone(),
                        at: r.at,
                    })
                    .collect();
                rs.sort_by(|a, b| a.at.cmp(&b.at).then(a.helper.cmp(&b.helper)));
                let view = PostView {
                    id: post.id,
                    author,
                    author_name: feed.content().name.clone(),
                    kind: post.kind,
                    category: post.category,
                    title: post.title.clone(),
                    details: post.details.clone(),
                    urgency: post.urgency,
                    area: post.area.clone(),
                    created_at: post.created_at,
                    expires_at: post.expires_at,
                    status: Status::of(post, now),
                    accepted: post.accepted,
                    responses: rs,
                    thanks: post.thanks.iter().map(|(h, m)| (*h, m.clone())).collect(),
                };
                if filter.matches(&view) {
                    posts.push(view);
                }
            }
        }
        posts.sort_by(board_order);
        posts
    }

    /// One post, whatever its status.
    pub fn post(&self, id: PostId, now: Timestamp) -> Option<PostView> {
        let filter = Filter {
            include_closed: true,
            ..Filter::default()
        };
        // The view is built over all posts; fine at board sizes (see docs/benchmarks.md).
        self.view(&filter, now).into_iter().find(|p| p.id == id)
    }

    /// Posts whose id starts with `prefix` (hex), for ids typed by hand.
    pub fn find_posts(&self, prefix: &str) -> Vec<PostId> {
        let prefix = prefix.trim().to_lowercase();
        let mut found: Vec<PostId> = self
            .feeds
            .values()
            .flat_map(|f| f.content().posts.keys())
            .filter(|id| id.to_string().starts_with(&prefix))
            .copied()
            .collect();
        found.sort();
        found.dedup();
        found
    }

    fn author_of(&self, post: PostId) -> Option<AuthorId> {
        self.authors()
            .filter_map(|a| self.current_feed(&a))
            .find(|f| f.content().posts.contains_key(&post))
            .map(|f| f.id().author)
    }

    fn own_feed(&mut self, writer: &Writer) -> &mut Feed {
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
}

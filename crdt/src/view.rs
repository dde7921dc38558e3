//! The board view: a pure, deterministic function from all feeds and "now" to the posts
//! people see, with their derived status and responses.
//!
//! Timestamps come from their authors' clocks, which may be wrong or lie. The view bounds
//! what they can do, the same way on every node given the same "now":
//!
//! - a post dated more than [`MAX_CLOCK_AHEAD_SECS`] after now is held back (not shown,
//!   only counted) until its date is plausible;
//! - a post leaves the board at its stored expiry or at `created_at` plus its urgency's
//!   maximum lifetime ([`Urgency::max_lifetime`]), whichever comes first;
//! - a post's shown `created_at` (its sort key) and a response's `at` are never later
//!   than now.

use serde::{Deserialize, Serialize};

use crate::author::AuthorId;
use crate::behalf::OnBehalfOf;
use crate::content::{PostState, StoredPost};
use crate::limits::MAX_CLOCK_AHEAD_SECS;
use crate::post::{Category, Kind, PostId, Timestamp, Urgency};

/// A post's status, derived from its author's feed and the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for help.
    Open,
    /// The author accepted a helper.
    Accepted,
    /// Done.
    Done,
    /// Withdrawn by its author.
    Withdrawn,
    /// Past its expiry without being closed.
    Expired,
}

impl Status {
    /// Whether the post still wants attention (open or accepted).
    pub fn is_live(self) -> bool {
        matches!(self, Status::Open | Status::Accepted)
    }

    /// The stable text code.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Accepted => "accepted",
            Status::Done => "done",
            Status::Withdrawn => "withdrawn",
            Status::Expired => "expired",
        }
    }

    pub(crate) fn of(post: &StoredPost, now: Timestamp) -> Status {
        match post.state {
            PostState::Withdrawn => Status::Withdrawn,
            PostState::Done => Status::Done,
            PostState::Open if now >= expiry_of(post) => Status::Expired,
            PostState::Open if post.accepted.is_some() => Status::Accepted,
            PostState::Open => Status::Open,
        }
    }
}

/// When `post` leaves the board: its stored expiry, or its creation plus its urgency's
/// maximum lifetime if that comes first.
pub(crate) fn expiry_of(post: &StoredPost) -> Timestamp {
    post.expires_at
        .min(post.created_at.saturating_add(post.urgency.max_lifetime()))
}

/// Whether `post` is dated too far ahead of `now` to be shown yet.
pub(crate) fn is_held_back(post: &StoredPost, now: Timestamp) -> bool {
    post.created_at > now.saturating_add(MAX_CLOCK_AHEAD_SECS)
}

/// A helper's response as shown on a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseView {
    /// The helper.
    pub helper: AuthorId,
    /// The helper's display name, if their feed is known.
    pub helper_name: Option<String>,
    /// Whether the helper's name looks like another known resident's
    /// ([`crate::name_skeleton`]): show the fingerprint beside it, prominently.
    #[serde(default)]
    pub helper_name_lookalike: bool,
    /// Their message.
    pub message: String,
    /// When (helper's clock, never later than now).
    pub at: Timestamp,
}

/// A post as the board shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    /// Its id.
    pub id: PostId,
    /// Its author.
    pub author: AuthorId,
    /// The author's display name, if set.
    pub author_name: Option<String>,
    /// Whether the author's name looks like another known resident's
    /// ([`crate::name_skeleton`]): show the fingerprint beside it, prominently.
    #[serde(default)]
    pub author_name_lookalike: bool,
    /// When the author lost this key and stewards vouched for a new one
    /// (`crate::authority`): the new key, the same person. `author_name` is then the new
    /// key's name.
    #[serde(default)]
    pub author_now: Option<AuthorId>,
    /// Offer or request.
    pub kind: Kind,
    /// Category.
    pub category: Category,
    /// Title.
    pub title: String,
    /// Details.
    pub details: String,
    /// Urgency.
    pub urgency: Urgency,
    /// Coarse area.
    pub area: String,
    /// When it was posted (author's clock, never later than now).
    pub created_at: Timestamp,
    /// When it leaves the board (never later than `created_at` as stored plus the
    /// urgency's maximum lifetime).
    pub expires_at: Timestamp,
    /// Derived status.
    pub status: Status,
    /// The accepted helper, if any.
    pub accepted: Option<AuthorId>,
    /// Responses, oldest first (withdrawn ones left out).
    pub responses: Vec<ResponseView>,
    /// Thanks from the author, by helper.
    pub thanks: Vec<(AuthorId, String)>,
    /// For an urgent visit request raised by a missed care check: its escalation key,
    /// 16 hex (the board shows one post per key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// For a post made for a neighbour who has no device: their name and the consent the
    /// poster wrote (`null` otherwise). The post is still the author's: responses go to
    /// the author, and author filters mean the author.
    #[serde(default)]
    pub on_behalf_of: Option<OnBehalfOf>,
}

/// One page of the board ([`crate::Board::page`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardPage {
    /// The posts of this page, in board order.
    pub posts: Vec<PostView>,
    /// How many posts come before this page.
    pub offset: usize,
    /// How many posts the filter shows in all pages, after the per-author cap.
    pub total: usize,
    /// Authors some of whose live posts were left out by the per-author cap
    /// ([`crate::limits::MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`]), the most hidden first.
    pub capped: Vec<CappedAuthor>,
    /// Posts that match the filter but are dated too far ahead of now to be shown
    /// ([`crate::limits::MAX_CLOCK_AHEAD_SECS`]).
    pub held_back: usize,
}

/// An author whose live posts were cut by the per-author cap, for "Karim has 1,990 more
/// open posts: show them" (a link to the board filtered by this author shows them all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CappedAuthor {
    /// The author.
    pub author: AuthorId,
    /// Their display name, if set.
    pub author_name: Option<String>,
    /// Whether that name looks like another known resident's.
    #[serde(default)]
    pub author_name_lookalike: bool,
    /// How many of their live posts matching the filter were left out.
    pub hidden: usize,
}

impl PostView {
    /// Leaves out what the reader's blocked members said on this post: their responses
    /// and thanks (their posts are left out by [`Filter::blocked`]).
    pub fn hide_from(&mut self, blocked: &std::collections::BTreeSet<AuthorId>) {
        if blocked.is_empty() {
            return;
        }
        self.responses.retain(|r| !blocked.contains(&r.helper));
        self.thanks.retain(|(a, _)| !blocked.contains(a));
    }
}

/// Which posts to show. The default shows every live post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Only offers, or only requests.
    pub kind: Option<Kind>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only this urgency.
    pub urgency: Option<Urgency>,
    /// Only posts whose area contains this text (case-insensitive).
    pub area: Option<String>,
    /// Only posts whose title or details contain this text (case-insensitive).
    pub text: Option<String>,
    /// Only posts by this author.
    pub author: Option<AuthorId>,
    /// Only posts this author responded to.
    pub responder: Option<AuthorId>,
    /// Also show done, withdrawn and expired posts.
    pub include_closed: bool,
    /// Never these authors' posts: the reader blocked them. Never read from a query; the
    /// node fills it from the reader's own block list.
    #[serde(skip)]
    pub blocked: std::collections::BTreeSet<AuthorId>,
}

impl Filter {
    /// The filter made ready to test many posts: the texts it looks for trimmed and
    /// lowercased once here, not once per post.
    pub(crate) fn prepare(&self) -> PreparedFilter<'_> {
        let lower = |t: &String| t.trim().to_lowercase();
        PreparedFilter {
            filter: self,
            area: self.area.as_ref().map(lower),
            text: self.text.as_ref().map(lower),
        }
    }
}

/// A [`Filter`] ready to test the stored posts of a whole board ([`Filter::prepare`]).
#[derive(Debug)]
pub(crate) struct PreparedFilter<'f> {
    filter: &'f Filter,
    /// The area looked for, trimmed and lowercased.
    area: Option<String>,
    /// The text looked for, trimmed and lowercased.
    text: Option<String>,
}

impl PreparedFilter<'_> {
    /// Whether `author`'s stored `post` passes the filter at `now`, judged on the post as
    /// stored, before any view of it is built: the board tests every post it holds, and
    /// builds a view only of those that pass. `responded(helper)` says whether `helper`
    /// has a response (not withdrawn) to the post; the responses live in the helpers'
    /// feeds, so the caller gathers them. The cheap tests come first.
    pub(crate) fn admits(
        &self,
        author: AuthorId,
        post: &StoredPost,
        now: Timestamp,
        responded: impl FnOnce(AuthorId) -> bool,
    ) -> bool {
        let f = self.filter;
        f.kind.is_none_or(|k| post.kind == k)
            && f.category.is_none_or(|c| post.category == c)
            && f.urgency.is_none_or(|u| post.urgency == u)
            && f.author.is_none_or(|a| author == a)
            && (f.include_closed || Status::of(post, now).is_live())
            && !f.blocked.contains(&author)
            && self
                .area
                .as_deref()
                .is_none_or(|a| contains_lowercased(&post.area, a))
            && self.text.as_deref().is_none_or(|t| {
                contains_lowercased(&post.title, t) || contains_lowercased(&post.details, t)
            })
            && f.responder.is_none_or(responded)
    }
}

/// Whether `haystack.to_lowercase()` contains `needle`, which is already lowercased:
/// what a filter's text means (case-insensitive), without a lowercased copy of every
/// post's text. ASCII text is compared in place, a byte lowercased at a time. Any other
/// text is lowercased whole as before: lowercasing it can change its length, give ASCII
/// from non-ASCII (the Kelvin sign `K` gives `k`, `İ` gives `i` and a dot) or depend on
/// the letters around (a final `Σ`), so only the real thing gives the same answer.
fn contains_lowercased(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() {
        // The needle has no ASCII capital (it is lowercased), so ignoring ASCII case on
        // both sides is lowercasing the haystack; its other bytes never equal ASCII ones.
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    }
    haystack.to_lowercase().contains(needle)
}

/// The order of the board: live posts first, then the most urgent, then the newest (shown
/// `created_at`, never later than now); the id breaks ties so every node shows the same
/// order.
pub(crate) fn board_order(a: &PostView, b: &PostView) -> std::cmp::Ordering {
    (!a.status.is_live())
        .cmp(&!b.status.is_live())
        .then(a.urgency.rank().cmp(&b.urgency.rank()))
        .then(b.created_at.cmp(&a.created_at))
        .then(a.id.cmp(&b.id))
}

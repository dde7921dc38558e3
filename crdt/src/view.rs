//! The board view: a pure, deterministic function from all feeds and "now" to the posts
//! people see, with their derived status and responses.

use serde::{Deserialize, Serialize};

use crate::author::AuthorId;
use crate::content::{PostState, StoredPost};
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
            PostState::Open if now >= post.expires_at => Status::Expired,
            PostState::Open if post.accepted.is_some() => Status::Accepted,
            PostState::Open => Status::Open,
        }
    }
}

/// A helper's response as shown on a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseView {
    /// The helper.
    pub helper: AuthorId,
    /// The helper's display name, if their feed is known.
    pub helper_name: Option<String>,
    /// Their message.
    pub message: String,
    /// When (helper's clock).
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
    /// When it was posted.
    pub created_at: Timestamp,
    /// When it leaves the board.
    pub expires_at: Timestamp,
    /// Derived status.
    pub status: Status,
    /// The accepted helper, if any.
    pub accepted: Option<AuthorId>,
    /// Responses, oldest first (withdrawn ones left out).
    pub responses: Vec<ResponseView>,
    /// Thanks from the author, by helper.
    pub thanks: Vec<(AuthorId, String)>,
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
}

impl Filter {
    pub(crate) fn matches(&self, post: &PostView) -> bool {
        let contains = |haystack: &str, needle: &str| {
            haystack
                .to_lowercase()
                .contains(&needle.trim().to_lowercase())
        };
        (self.include_closed || post.status.is_live())
            && self.kind.is_none_or(|k| post.kind == k)
            && self.category.is_none_or(|c| post.category == c)
            && self.urgency.is_none_or(|u| post.urgency == u)
            && self.author.is_none_or(|a| post.author == a)
            && self
                .responder
                .is_none_or(|r| post.responses.iter().any(|resp| resp.helper == r))
            && self.area.as_deref().is_none_or(|a| contains(&post.area, a))
            && self
                .text
                .as_deref()
                .is_none_or(|t| contains(&post.title, t) || contains(&post.details, t))
    }
}

/// The order of the board: live posts first, then the most urgent, then the newest; the
/// id breaks ties so every node shows the same order.
pub(crate) fn board_order(a: &PostView, b: &PostView) -> std::cmp::Ordering {
    (!a.status.is_live())
        .cmp(&!b.status.is_live())
        .then(a.urgency.rank().cmp(&b.urgency.rank()))
        .then(b.created_at.cmp(&a.created_at))
        .then(a.id.cmp(&b.id))
}

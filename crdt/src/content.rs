//! What a feed says, read out of its automerge document.
//!
//! The document layout (format 1) is flat at the root so that no two devices of one author
//! ever create the same container concurrently (which automerge would resolve by keeping
//! only one of them):
//!
//! | key | value |
//! |---|---|
//! | `format` | `"entraide-feed/1"` |
//! | `name` | the author's display name |
//! | `post:<nonce, 16 hex>` | map: `kind`, `category`, `title`, `details`, `urgency`, `area`, `created_at`, `expires_at`, `state`, `accepted`, `thanks` (map: helper id → message) |
//! | `response:<post id, 16 hex>` | map: `to` (post author id), `message`, `at`, `withdrawn` |
//!
//! Reading is lenient and deterministic: an entry that breaks the format is skipped and
//! counted, never an error, so a bad entry from one author cannot hide anything else.

use std::collections::BTreeMap;

use automerge::ScalarValue;
use automerge::hydrate::{Map, Value};
use serde::{Deserialize, Serialize};

use crate::author::AuthorId;
use crate::limits::{
    MAX_AREA_CHARS, MAX_DETAILS_CHARS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS, MAX_TITLE_CHARS,
};
use crate::post::{Category, Kind, PostId, Timestamp, Urgency, clip};

/// The `format` value of a feed document.
pub const FORMAT: &str = "entraide-feed/1";
pub(crate) const POST_PREFIX: &str = "post:";
pub(crate) const RESPONSE_PREFIX: &str = "response:";

/// The state of a post as its author sets it. Expiry is derived, not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    /// Open for help (possibly with a helper accepted).
    Open,
    /// Done.
    Done,
    /// Withdrawn by its author.
    Withdrawn,
}

impl PostState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PostState::Open => "open",
            PostState::Done => "done",
            PostState::Withdrawn => "withdrawn",
        }
    }
}

/// A post as stored in its author's feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPost {
    /// Its id.
    pub id: PostId,
    /// The nonce it is stored under.
    pub nonce: [u8; 8],
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
    /// When it was posted (author's clock).
    pub created_at: Timestamp,
    /// When it leaves the board.
    pub expires_at: Timestamp,
    /// Open, done or withdrawn.
    pub state: PostState,
    /// The helper the author accepted, if any.
    pub accepted: Option<AuthorId>,
    /// Thanks from the author, by helper.
    pub thanks: BTreeMap<AuthorId, String>,
}

/// A response ("I can help") as stored in the helper's feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    /// The post answered.
    pub post: PostId,
    /// The post's author.
    pub to: AuthorId,
    /// The helper's message.
    pub message: String,
    /// When (helper's clock).
    pub at: Timestamp,
    /// Whether the helper took it back.
    pub withdrawn: bool,
}

/// Everything one feed says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedContent {
    /// The author's display name, if set.
    pub name: Option<String>,
    /// The author's posts.
    pub posts: BTreeMap<PostId, StoredPost>,
    /// The author's responses to other people's posts.
    pub responses: BTreeMap<PostId, StoredResponse>,
    /// Entries skipped because they break the format.
    pub skipped: usize,
}

impl FeedContent {
    /// Reads a feed document of `author`.
    pub(crate) fn read(author: &AuthorId, root: &Value) -> Self {
        let mut content = FeedContent::default();
        let Value::Map(root) = root else {
            return content;
        };
        // A document of another format (or none yet) says nothing we can read.
        if text(root, "format") != Some(FORMAT) {
            content.skipped = root.iter().count();
            return content;
        }
        content.name = text(root, "name").map(|n| clip(n, MAX_NAME_CHARS));
        for (key, value) in root.iter() {
            if let Some(nonce) = key.strip_prefix(POST_PREFIX) {
                match read_post(author, nonce, &value.value) {
                    Some(post) => {
                        content.posts.insert(post.id, post);
                    }
                    None => content.skipped += 1,
                }
            } else if let Some(post) = key.strip_prefix(RESPONSE_PREFIX) {
                match read_response(post, &value.value) {
                    Some(r) => {
                        content.responses.insert(r.post, r);
                    }
                    None => content.skipped += 1,
                }
            }
        }
        content
    }
}

fn text<'a>(map: &'a Map, key: &str) -> Option<&'a str> {
    match map.get(key)? {
        Value::Scalar(ScalarValue::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn int(map: &Map, key: &str) -> Option<i64> {
    match map.get(key)? {
        Value::Scalar(ScalarValue::Int(i)) => Some(*i),
        Value::Scalar(ScalarValue::Uint(u)) => i64::try_from(*u).ok(),
        Value::Scalar(ScalarValue::Timestamp(t)) => Some(*t),
        _ => None,
    }
}

fn read_post(author: &AuthorId, nonce_hex: &str, value: &Value) -> Option<StoredPost> {
    let Value::Map(map) = value else {
        return None;
    };
    let mut nonce = [0u8; 8];
    hex::decode_to_slice(nonce_hex, &mut nonce).ok()?;
    // Only the canonical (lowercase) spelling names a post, so two keys never name one.
    if hex::encode(nonce) != nonce_hex {
        return None;
    }
    let state = match text(map, "state")? {
        "open" => PostState::Open,
        "done" => PostState::Done,
        "withdrawn" => PostState::Withdrawn,
        _ => return None,
    };
    let accepted = match text(map, "accepted") {
        None | Some("") => None,
        Some(id) => Some(id.parse().ok()?),
    };
    let mut thanks = BTreeMap::new();
    if let Some(Value::Map(t)) = map.get("thanks") {
        for (helper, message) in t.iter() {
            if let (Ok(id), Value::Scalar(ScalarValue::Str(m))) =
                (helper.parse::<AuthorId>(), &message.value)
                && id.to_string() == *helper
            {
                let helper = id;
                thanks.insert(helper, clip(m, MAX_MESSAGE_CHARS));
            }
        }
    }
    Some(StoredPost {
        id: PostId::derive(author, &nonce),
        nonce,
        kind: text(map, "kind")?.parse().ok()?,
        category: text(map, "category")?.parse().unwrap_or(Category::Other),
        title: clip(text(map, "title")?, MAX_TITLE_CHARS),
        details: clip(text(map, "details").unwrap_or(""), MAX_DETAILS_CHARS),
        urgency: text(map, "urgency")?.parse().ok()?,
        area: clip(text(map, "area").unwrap_or(""), MAX_AREA_CHARS),
        created_at: int(map, "created_at")?,
        expires_at: int(map, "expires_at")?,
        state,
        accepted,
        thanks,
    })
}

fn read_response(post_hex: &str, value: &Value) -> Option<StoredResponse> {
    let Value::Map(map) = value else {
        return None;
    };
    let post: PostId = post_hex.parse().ok()?;
    if post.to_string() != post_hex {
        return None;
    }
    Some(StoredResponse {
        post,
        to: text(map, "to")?.parse().ok()?,
        message: clip(text(map, "message").unwrap_or(""), MAX_MESSAGE_CHARS),
        at: int(map, "at")?,
        withdrawn: matches!(
            map.get("withdrawn"),
            Some(Value::Scalar(ScalarValue::Boolean(true)))
        ),
    })
}

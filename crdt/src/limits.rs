//! Every bound the board enforces, in one place.
//!
//! A remote peer can fill nothing beyond these. The numbers are starting points; the
//! benchmarks in `docs/benchmarks.md` are what move them.

/// Longest post title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest post details, in characters.
pub const MAX_DETAILS_CHARS: usize = 2_000;
/// Longest area ("building B", "rue des Lilas"), in characters.
pub const MAX_AREA_CHARS: usize = 80;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Longest response or thanks message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Furthest in the future an explicit expiry may be set, in seconds (90 days).
pub const MAX_EXPIRY_SECS: i64 = 90 * 24 * 3600;

/// Largest single automerge change accepted from anyone, in bytes (uncompressed).
pub const MAX_CHANGE_BYTES: usize = 64 * 1024;
/// Most changes accepted in one batch (one sync message or one gossip push).
pub const MAX_CHANGES_PER_BATCH: usize = 50_000;
/// Most validated changes that may wait for a missing dependency, per feed.
pub const MAX_PENDING_CHANGES: usize = 10_000;
/// Most signed heads carried for one feed in one message.
pub const MAX_SIGNED_HEADS_PER_FEED: usize = 16;
/// Most heads in one signed-heads statement.
pub const MAX_HEADS_PER_SIGNATURE: usize = 64;
/// Largest whole-document chunk accepted in a sync message, in bytes (compressed).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// Largest session frame, in bytes. Also the transport's frame limit.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Most feeds a peer may list in one inventory, which bounds the feeds of a community.
pub const MAX_FEEDS: usize = 10_000;
/// Largest gossip push (one signed change), in bytes.
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;

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
/// Most combining marks kept in a row in any text (`text::neutralise`). Real text stacks
/// a few (Vietnamese two, Hebrew or Tibetan four or five); hundreds make a tower that
/// covers the lines around it.
pub const MAX_MARKS_IN_A_ROW: usize = 8;
/// Furthest in the future an explicit expiry may be set, in seconds (90 days): the ceiling
/// of every urgency's maximum lifetime (`Urgency::max_lifetime`).
pub const MAX_EXPIRY_SECS: i64 = 90 * 24 * 3600;
/// Furthest ahead of the reader's clock a post's `created_at` may be for the post to be
/// shown, in seconds (2 days). Clocks a few hours off are common; a post dated later is
/// held back until its date is plausible, so a clock ten years ahead gains nothing.
pub const MAX_CLOCK_AHEAD_SECS: i64 = 2 * 24 * 3600;
/// Longest note of an alert or a sighting, and of what was done for a sighting, in
/// characters: one line, read in a banner or on a phone at night.
pub const MAX_NOTE_CHARS: usize = 200;
/// Longest an alert lasts after it is declared, in seconds (14 days). A longer `until`
/// is refused when written and cut to this when read, so an alert from a modified client
/// cannot stay on every page for months.
pub const MAX_ALERT_SECS: i64 = 14 * 24 * 3600;
/// How long a sighting stays on the rounds page after it is made, in seconds (24 hours).
pub const SIGHTING_LIFETIME_SECS: i64 = 24 * 3600;
/// Furthest ahead one signs up for a round, in days (from today, local time).
pub const MAX_SIGNUP_DAYS_AHEAD: i64 = 60;
/// Evenings shown per round after tonight (`Board::rounds`).
pub const ROUND_EVENINGS_SHOWN: i64 = 7;

/// Posts on one page of the board (`Board::page`).
pub const BOARD_PAGE_SIZE: usize = 50;
/// Most live posts of one author shown on the board at once, when the board is not
/// filtered by author (`Board::page`): one member posting 2,000 requests fills 10 places,
/// and the page says how many more there are.
pub const MAX_OPEN_POSTS_SHOWN_PER_AUTHOR: usize = 10;

/// Largest single automerge change accepted from anyone, in bytes (uncompressed).
pub const MAX_CHANGE_BYTES: usize = 64 * 1024;
/// Most changes accepted in one batch (one sync message or one gossip push).
pub const MAX_CHANGES_PER_BATCH: usize = 50_000;
/// Most operations in one change, counted from its columns before automerge reads it
/// (`crate::inflate`): as many as [`MAX_CHANGE_BYTES`]. A run-length column makes any
/// number of operations out of a few bytes, and automerge walks every one when it reads a
/// change (a 68-byte change of 1,048,576 operations took 0.2 s to read; four billion fit
/// in as few bytes); an entraide post writes 11.
pub const MAX_CHANGE_OPS: usize = MAX_CHANGE_BYTES;
/// Most operations in one whole document (and most dependencies among its changes),
/// counted from its columns before automerge loads it (`crate::inflate`): 20 per change
/// at [`MAX_CHANGES_PER_BATCH`] changes. automerge allocates about 80 bytes for each
/// operation while loading (a 104-byte document of 4,194,304 operations made it allocate
/// 327,174,333 bytes); a name and 2,000 posts are 22,002 operations. Figures: `cargo test
/// -p entraide-crdt --test inflation -- --nocapture --test-threads 1`.
pub const MAX_DOCUMENT_OPS: usize = 20 * MAX_CHANGES_PER_BATCH;
/// Most validated changes that may wait for a missing dependency, per feed.
pub const MAX_PENDING_CHANGES: usize = 10_000;
/// Most signed heads carried for one feed in one message.
pub const MAX_SIGNED_HEADS_PER_FEED: usize = 16;
/// Most heads in one signed-heads statement.
pub const MAX_HEADS_PER_SIGNATURE: usize = 64;
/// Largest whole-document chunk accepted in a sync message, in bytes (compressed).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// Largest whole-document chunk accepted once inflated, in bytes: the chunk with each
/// deflated column counted at its inflated length (`crate::inflate`), measured before
/// automerge inflates anything. 16 times [`MAX_DOCUMENT_BYTES`] (64 MiB): automerge's
/// deflate gains about 15 times on a real feed (2,000 posts of varied text: 33,843 bytes
/// saved, 503,571 inflated), so a document at the compressed limit fits; deflate alone
/// reaches about 1000 times, and a 1 MiB frame could otherwise ask for a GiB. One text
/// repeated in every post gains more (78 times for 2,000 posts of one 2,000-character
/// text) and reaches the bound from about 860 KB saved. Figures: `cargo test -p
/// entraide-crdt --test inflation honest -- --nocapture`. A node does not send a document
/// over the bound (`Session`), so refusing one blames the sender.
pub const MAX_INFLATED_DOCUMENT_BYTES: usize = 16 * MAX_DOCUMENT_BYTES;
/// Most any feed may hold on a node, as the size of its saved document (automerge's
/// `save`, compressed): a batch that would take a feed past it is refused
/// (`ValidationFailure::FeedFull`). The same as a whole document, so every feed a node
/// holds can travel whole.
pub const MAX_FEED_BYTES: usize = MAX_DOCUMENT_BYTES;
/// Most an author's own feed may hold for new content, as the size of its saved document
/// (`WriteError::FeedFull`): 3 MiB is about a thousand of the longest private messages, or
/// tens of thousands of posts. Closing, withdrawing and deleting stay possible above it,
/// up to [`MAX_FEED_BYTES`]; the room between the two is theirs.
pub const MAX_LIVE_FEED_BYTES: usize = 3 * 1024 * 1024;
// Tidying a full feed needs room for at least one change.
const _: () = assert!(MAX_LIVE_FEED_BYTES + MAX_CHANGE_BYTES < MAX_FEED_BYTES);

/// Largest session frame, in bytes. Also the transport's frame limit.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Largest automerge sync message accepted in pieces over several frames, in bytes: a
/// whole feed of [`MAX_FEED_BYTES`] with the rest of its message (heads, Bloom filter).
/// Told to the peer in every `Hello` (`docs/protocol.md`, 7.7).
pub const MAX_SYNC_MESSAGE_BYTES: usize = MAX_FEED_BYTES + 1024 * 1024;
/// Most feeds a peer may list in one inventory, which bounds the feeds of a community.
pub const MAX_FEEDS: usize = 10_000;
/// Largest gossip push (one signed change), in bytes.
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// Most change hashes a feed remembers as refused (a removed device's after its removal,
/// `crate::devices`), so that what is built on them is refused too; past it the memory
/// starts over.
pub const MAX_REFUSED_REMEMBERED: usize = 10_000;

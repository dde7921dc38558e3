//! The entraide board: signed per-author automerge feeds, their validation, the board
//! view, and a sans-io sync session.
//!
//! This crate is pure. It knows automerge, ed25519 and the board's rules; it never knows
//! tokio, libp2p, sled, the clock or a random source: time and randomness are passed in.
//!
//! # The model
//!
//! - An **author** is an ed25519 key pair ([`AuthorKey`]); [`AuthorId`] is the public key.
//! - Each author has one **feed** ([`Feed`]): an automerge document written only by that
//!   author's devices (actor id = author key ‖ 8-byte device id). It holds their name,
//!   their posts and the state of those posts, and their responses to other people's posts.
//! - After every change the author signs the feed's heads ([`SignedHeads`]); a hash covers
//!   all dependencies, so one signature vouches for the whole history below it.
//! - Whatever arrives from a peer passes [`validate`] before it touches a feed: signature,
//!   actors, sizes, equivocation, bounded waiting. Rejections carry a [`ValidationFailure`].
//! - The [`Board`] holds every feed of a community; [`Board::view`] is a pure function of
//!   the feeds and "now" giving the posts with derived [`Status`] and responses, and
//!   [`Board::page`] one page of them with at most a few live posts per author. Dates
//!   from other people's clocks are bounded there (a post from a clock ten years ahead is
//!   held back, not shown first for ten years).
//! - Text from people is neutralised ([`neutralise`]) when written and again when read,
//!   so no view carries control, direction or invisible characters; names that look
//!   alike ([`name_skeleton`]) are flagged in the view.
//! - A [`Session`] runs the sync protocol with one peer: bytes in, bytes out.
//!
//! # Two boards syncing in memory
//!
//! ```
//! use entraide_crdt::{
//!     AuthorKey, Board, Category, DeviceId, Filter, Kind, PostDraft, Session, Urgency, Writer,
//! };
//!
//! let now = 1_764_000_000; // seconds since 1970, passed in: the crate has no clock
//! let marie = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([1; 8]));
//! let karim = Writer::new(AuthorKey::from_seed([2; 32]), DeviceId([2; 8]));
//!
//! let mut at_marie = Board::new();
//! let mut at_karim = Board::new();
//! at_marie.set_name(&marie, "Marie", now)?;
//! let draft = PostDraft {
//!     kind: Kind::Request,
//!     category: Category::Food,
//!     title: "Water carried up to the 4th floor".into(),
//!     details: String::new(),
//!     urgency: Urgency::Today,
//!     area: "Building B".into(),
//!     expires_at: None,
//!     on_behalf_of: None,
//! };
//! let (post, _change) = at_marie.post_new(&marie, [7; 8], &draft, now)?;
//!
//! // Wire two sessions together: every frame one produces, the other handles.
//! let (mut s1, mut s2) = (Session::new(), Session::new());
//! let mut to_karim = s1.start(&at_marie).frames;
//! let mut to_marie = s2.start(&at_karim).frames;
//! while !to_karim.is_empty() || !to_marie.is_empty() {
//!     for frame in std::mem::take(&mut to_karim) {
//!         to_marie.extend(s2.handle_frame(&mut at_karim, &frame)?.frames);
//!     }
//!     for frame in std::mem::take(&mut to_marie) {
//!         to_karim.extend(s1.handle_frame(&mut at_marie, &frame)?.frames);
//!     }
//! }
//!
//! let seen_by_karim = at_karim.view(&Filter::default(), now);
//! assert_eq!(seen_by_karim[0].id, post);
//! assert_eq!(seen_by_karim[0].author_name.as_deref(), Some("Marie"));
//! assert_eq!(at_karim.digest(), at_marie.digest());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `docs/protocol.md` describes the feed format, the signatures, the validation rules and
//! the session frames precisely enough to write a compatible node.

#![deny(missing_docs)]

mod alert;
mod author;
pub mod authority;
pub mod behalf;
mod board;
pub mod board_file;
pub mod care;
mod contained;
mod content;
pub mod devices;
mod entries;
pub mod epoch;
mod feed;
mod fixed_bytes;
mod inflate;
mod leb128;
pub mod limits;
pub mod message;
mod pieces;
mod post;
pub mod rekey;
pub mod report;
mod round;
pub mod sealed;
mod session;
mod sighting;
mod signed_heads;
mod snapshot;
mod text;
mod validation;
mod view;
pub mod wire;

pub use alert::{AlertDraft, AlertKind, AlertView, StoredAlert};
pub use author::{
    ACTOR_ID_LEN, AuthorId, AuthorKey, DeviceId, MIN_FINGERPRINT_DIGITS, ParseAuthorIdError, Writer,
};
pub use behalf::OnBehalfOf;
pub use board::{Board, BoardStats, ResolveError};
pub use content::{FORMAT, FeedContent, PostState, StoredPost, StoredResponse};
pub use devices::{Installation, ParseInstallationError, Removal, StoredDevice};
pub use entries::{
    AlertId, Days, EntryError, EntryKind, LocalDate, ParseDateError, ParseTimeError, PublicEntries,
    RoundId, SightingId, TimeOfDay, Weekday,
};
pub use feed::{Applied, Feed, LoadError, LocalChange, WriteError};
pub use post::{
    Category, Field, Kind, ParsePostIdError, PostDraft, PostId, TextError, Timestamp, UnknownValue,
    Urgency, check_message, check_name, looks_like_email, looks_like_phone_number,
};
pub use round::{Evening, RoundDraft, RoundView, StoredRound, StoredSignup, Walker};
pub use session::{CLOCK_RETELL_SECS, Output, Session, SessionError, SessionEvent, SessionStats};
pub use sighting::{
    DoneView, Need, SightingDraft, SightingView, StoredDone, StoredSighting, check_sighting_text,
    parse_needs,
};
pub use signed_heads::{FeedId, Hash, SignedHeads};
pub use text::{is_bidi_control, is_invisible, is_joiner, name_skeleton, neutralise};
pub use validation::{ValidationFailure, VerifiedBatch, validate};
pub use view::{BoardPage, CappedAuthor, Filter, PostView, ResponseView, Status};

/// The automerge version this crate's formats are defined against, re-exported for
/// callers that build raw sync floors (benchmarks) or tests.
pub use automerge;

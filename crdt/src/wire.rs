//! The bytes on the wire: session frames and gossip pushes, encoded as CBOR (RFC 8949).
//!
//! `docs/protocol.md` gives the same structures in CDDL, for other implementations.

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_FRAME_BYTES, MAX_GOSSIP_BYTES};
use crate::signed_heads::{FeedId, Hash, SignedHeads};

/// Version of the session protocol spoken in [`Frame::Hello`].
pub const PROTOCOL_VERSION: u32 = 1;

/// One frame of a sync session. Each is sent as one length-prefixed frame of at most
/// [`MAX_FRAME_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frame {
    /// Opens a round: the sender's board digest. Equal digests mean nothing to do.
    Hello {
        /// [`PROTOCOL_VERSION`].
        version: u32,
        /// [`crate::Board::digest`] of the sender.
        digest: Hash,
        /// How many feeds the sender holds.
        feeds: u32,
        /// The sender's clock (seconds since the Unix epoch), in the first hello of a
        /// session and then every [`crate::CLOCK_RETELL_SECS`]: how neighbours
        /// notice a clock that is wrong. Absent otherwise (and from older senders).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock: Option<i64>,
        /// The largest automerge sync message the sender takes in pieces
        /// ([`FeedSync::more`]), in bytes: [`crate::limits::MAX_SYNC_MESSAGE_BYTES`].
        /// Absent from older senders, which are sent no pieces.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_message: Option<u32>,
    },
    /// The sender's feeds and a digest of each one's heads, sent when digests differ.
    Inventory {
        /// At most [`crate::limits::MAX_FEEDS`] entries.
        feeds: Vec<InventoryEntry>,
    },
    /// automerge sync messages, one per feed, with the signatures covering any changes.
    Sync {
        /// The feeds.
        feeds: Vec<FeedSync>,
    },
}

/// One feed in an inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// The feed.
    pub feed: FeedId,
    /// First 16 bytes of SHA-256 over the feed's sorted heads.
    #[serde(with = "serde_bytes")]
    pub heads: [u8; 16],
}

/// The automerge sync message for one feed, or a piece of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSync {
    /// The feed.
    pub feed: FeedId,
    /// Signatures covering the changes in `message` (empty when it carries none). Only the
    /// last piece of a message carries them.
    pub signed: Vec<SignedHeads>,
    /// An automerge sync message (`automerge::sync::Message::encode`), or a piece of one.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    /// Whether `message` is a piece that the next entry of the stream continues: a message
    /// too large for one frame travels as consecutive entries of the same feed, every
    /// piece but the last with `more` set, and only to a peer whose `Hello` said how large
    /// a message it takes (`docs/protocol.md`, 7.7).
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FeedSync {
    /// The entry's CBOR size: the bytes it takes inside a `Sync` frame.
    pub(crate) fn encoded_len(&self) -> usize {
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut counter = Counter(0);
        match ciborium::into_writer(self, &mut counter) {
            Ok(()) => counter.0,
            // Cannot fail on a counting writer; never send what could not be measured.
            Err(_) => usize::MAX / 2,
        }
    }
}

/// A new change pushed at once on the community's gossip topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// The feed written.
    pub feed: FeedId,
    /// The change chunk.
    #[serde(with = "serde_bytes")]
    pub change: Vec<u8>,
    /// The author's signature over the feed's heads right after the change.
    pub signed: SignedHeads,
}

/// Bytes that are not a valid frame or push.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Larger than the limit for its kind.
    #[error("{size} bytes, at most {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not the expected CBOR structure.
    #[error("malformed: {0}")]
    Malformed(String),
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing CBOR into a Vec cannot fail for these plain structures.
    if let Err(e) = ciborium::into_writer(value, &mut out) {
        unreachable!("CBOR encoding into memory failed: {e}");
    }
    out
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], max: usize) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            max,
        });
    }
    // ciborium bounds recursion; its allocations are bounded by the input length.
    ciborium::from_reader(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}

impl Frame {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Reads a frame, refusing more than [`MAX_FRAME_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes, MAX_FRAME_BYTES)
    }
}

impl Push {
    /// Whether the signature names the pushed change itself: the author signs the heads
    /// right after each commit, and those are the new change. A push that leans on a
    /// signature over other changes would be verifiable by some nodes and not others, so
    /// it is refused everywhere. (The signature itself is checked by [`crate::validate`].)
    pub fn is_self_signed(&self) -> bool {
        let Some(change) = crate::validation::decode_one_change(&self.change) else {
            return false;
        };
        let hash = crate::signed_heads::Hash::from(change.hash());
        self.signed.feed == self.feed && self.signed.heads.contains(&hash)
    }

    /// The push's bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Reads a push, refusing more than [`MAX_GOSSIP_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes, MAX_GOSSIP_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::author::AuthorKey;

    /// The bytes `docs/protocol.md` gives (7.3): a new node's `Hello` of an empty board.
    #[test]
    fn a_hello_tells_the_largest_message_taken_in_pieces() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let hello = Frame::Hello {
            version: PROTOCOL_VERSION,
            digest: Hash(hex::decode(empty).unwrap().try_into().unwrap()),
            feeds: 0,
            clock: None,
            max_message: Some(crate::limits::MAX_SYNC_MESSAGE_BYTES as u32),
        };
        let bytes = hello.encode();
        assert_eq!(
            hex::encode(&bytes),
            format!(
                "a16568656c6c6fa46776657273696f6e016664696765737458 20{empty}\
                 656665656473006b6d61785f6d6573736167651a00500000"
            )
            .replace(' ', "")
        );
        assert_eq!(bytes.len(), 82);
        assert_eq!(Frame::decode(&bytes).unwrap(), hello);
    }

    /// `more` is written only when set, so a whole message encodes as it always did.
    #[test]
    fn only_a_piece_carries_more() {
        let feed = crate::FeedId::first(AuthorKey::from_seed([1; 32]).id());
        let whole = FeedSync {
            feed,
            signed: Vec::new(),
            message: vec![0x42],
            more: false,
        };
        let piece = FeedSync {
            more: true,
            ..whole.clone()
        };
        let (whole_bytes, piece_bytes) = (encode(&whole), encode(&piece));
        assert_eq!(whole_bytes[0], 0xa3, "a map of three entries");
        assert_eq!(piece_bytes[0], 0xa4, "a map of four entries");
        assert!(piece_bytes.ends_with(&[0x64, b'm', b'o', b'r', b'e', 0xf5]));
        assert_eq!(whole.encoded_len(), whole_bytes.len());
        // An older sender's entry, without the key, is a whole message.
        let decoded: FeedSync = decode(&whole_bytes, MAX_FRAME_BYTES).unwrap();
        assert!(!decoded.more);
        assert_eq!(
            decode::<FeedSync>(&piece_bytes, MAX_FRAME_BYTES).unwrap(),
            piece
        );
    }
}

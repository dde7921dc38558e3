//! Sync messages larger than a frame, carried in pieces (`docs/protocol.md`, 7.7).
//!
//! A feed's sync message whose entry does not fit in one frame is cut into pieces of
//! consecutive bytes, each sent as an entry of its own in a frame of its own, one right
//! after the other, [`FeedSync::more`] set on all but the last. The receiver puts them back
//! together before anything else looks at them: validation and automerge see one message,
//! as if it had come in one frame, so automerge's sync state on both sides is exactly what
//! it would be without the frame limit.

use crate::limits::MAX_SYNC_MESSAGE_BYTES;
use crate::session::SessionError;
use crate::signed_heads::FeedId;
use crate::wire::FeedSync;

/// Room for the length of a piece's byte string: the empty one measured takes one byte,
/// a longer one up to nine.
const BYTES_HEADER: usize = 8;

/// The message a peer is sending in pieces, put back together.
#[derive(Debug, Default)]
pub(crate) struct Pieces {
    /// The feed whose message is half received, and its bytes so far.
    partial: Option<(FeedId, Vec<u8>)>,
}

impl Pieces {
    /// The feed whose message is half received: only its next piece may come now.
    pub(crate) fn waiting(&self) -> Option<FeedId> {
        self.partial.as_ref().map(|(feed, _)| *feed)
    }

    /// Takes the next entry of the peer's stream: the whole entry back when it is whole or
    /// completes a message, `None` while more pieces are due. Errors blame the peer: an
    /// entry of another feed while a message is half received, or pieces adding up to more
    /// than [`MAX_SYNC_MESSAGE_BYTES`] (the most we told the peer we take).
    pub(crate) fn take(&mut self, entry: FeedSync) -> Result<Option<FeedSync>, SessionError> {
        let (feed, mut bytes) = match self.partial.take() {
            None if !entry.more => return Ok(Some(entry)),
            None => (entry.feed, Vec::new()),
            Some((feed, _)) if feed != entry.feed => {
                return Err(SessionError::PiecesOutOfOrder { feed });
            }
            Some(partial) => partial,
        };
        let size = bytes.len().saturating_add(entry.message.len());
        if size > MAX_SYNC_MESSAGE_BYTES {
            return Err(SessionError::MessageTooLarge { feed, size });
        }
        bytes.extend_from_slice(&entry.message);
        if entry.more {
            self.partial = Some((feed, bytes));
            return Ok(None);
        }
        Ok(Some(FeedSync {
            feed,
            signed: entry.signed,
            message: bytes,
            more: false,
        }))
    }
}

/// Cuts `entry` into pieces whose entries each take at most `max_entry` bytes, in order;
/// the signatures ride on the last one.
pub(crate) fn split(entry: FeedSync, max_entry: usize) -> Vec<FeedSync> {
    let empty = FeedSync {
        feed: entry.feed,
        signed: entry.signed.clone(),
        message: Vec::new(),
        more: true,
    };
    let room = max_entry
        .saturating_sub(empty.encoded_len() + BYTES_HEADER)
        .max(1);
    let count = entry.message.len().div_ceil(room);
    let mut pieces = Vec::with_capacity(count);
    let mut signed = Some(entry.signed);
    for (i, piece) in entry.message.chunks(room).enumerate() {
        let last = i + 1 == count;
        pieces.push(FeedSync {
            feed: entry.feed,
            signed: if last {
                signed.take().unwrap_or_default()
            } else {
                Vec::new()
            },
            message: piece.to_vec(),
            more: !last,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::author::AuthorKey;
    use crate::signed_heads::SignedHeads;

    fn entry(feed: FeedId, len: usize) -> FeedSync {
        let key = AuthorKey::from_seed([3; 32]);
        FeedSync {
            feed,
            signed: vec![SignedHeads::sign(
                &key,
                0,
                &[automerge::ChangeHash([5; 32])],
            )],
            message: (0..len).map(|i| (i % 251) as u8).collect(),
            more: false,
        }
    }

    fn feed(n: u8) -> FeedId {
        FeedId::first(AuthorKey::from_seed([n; 32]).id())
    }

    #[test]
    fn pieces_fit_their_frames_and_come_back_whole() {
        let whole = entry(feed(3), 2_500_000);
        let pieces = split(whole.clone(), 1_000_000);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.encoded_len() <= 1_000_000));
        assert!(pieces[..2].iter().all(|p| p.more && p.signed.is_empty()));
        assert!(!pieces[2].more && pieces[2].signed == whole.signed);
        let mut receiver = Pieces::default();
        let mut out = Vec::new();
        for p in pieces {
            out.extend(receiver.take(p).unwrap());
        }
        assert_eq!(out, vec![whole]);
        assert_eq!(receiver.waiting(), None);
    }

    #[test]
    fn a_piece_of_another_feed_or_too_many_bytes_blame_the_peer() {
        let mut receiver = Pieces::default();
        let mut first = entry(feed(3), 10);
        first.more = true;
        assert_eq!(receiver.take(first.clone()).unwrap(), None);
        assert_eq!(receiver.waiting(), Some(feed(3)));
        assert_eq!(
            receiver.take(entry(feed(4), 10)),
            Err(SessionError::PiecesOutOfOrder { feed: feed(3) })
        );

        let mut receiver = Pieces::default();
        let mut big = entry(feed(3), 1024 * 1024);
        big.more = true;
        for _ in 0..MAX_SYNC_MESSAGE_BYTES / (1024 * 1024) {
            assert_eq!(receiver.take(big.clone()).unwrap(), None);
        }
        assert!(matches!(
            receiver.take(big),
            Err(SessionError::MessageTooLarge { size, .. }) if size > MAX_SYNC_MESSAGE_BYTES
        ));
    }
}

//! Target `signed_change`: bytes split into change data and a list of signed heads
//! (CBOR), received (`Board::receive`, which runs `validate` then `Feed::apply`) by an
//! empty board and by the prepared board; and the same bytes as a gossip push
//! (`Push::decode`, `Push::is_self_signed`, then `Board::receive` as the node does).
//!
//! Input layout: `n` (u16, big-endian) || `n` bytes of CBOR `[* signed-heads]` || change
//! data. Signed heads that do not decode count as none.

use entraide_crdt::wire::Push;
use entraide_crdt::{Board, FeedId, SignedHeads};

use crate::fixtures;

/// Splits an input into its signed heads and its change data.
pub fn split(data: &[u8]) -> (Vec<SignedHeads>, &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return (Vec::new(), data);
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (signed, changes) = rest.split_at(len);
    let signed = ciborium::from_reader(signed).unwrap_or_default();
    (signed, changes)
}

/// The input that [`split`] reads as `signed` and `changes` (for the seed generator).
pub fn join(signed: &[SignedHeads], changes: &[u8]) -> Vec<u8> {
    let mut cbor = Vec::new();
    ciborium::into_writer(signed, &mut cbor).expect("CBOR into memory");
    let len = u16::try_from(cbor.len()).expect("signed heads under 64 KiB");
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&cbor);
    out.extend_from_slice(changes);
    out
}

/// Runs one input. Panics on any broken property.
pub fn run(data: &[u8]) {
    let (signed, changes) = split(data);
    // The feed the signatures name (validation refuses the others), else the prepared one.
    let feed = signed
        .first()
        .map_or_else(fixtures::prepared_feed_id, |s| s.feed);
    receive(&mut Board::new(), feed, changes, &signed);
    receive(&mut fixtures::prepared_board(), feed, changes, &signed);

    if let Ok(push) = Push::decode(data) {
        assert_eq!(
            Push::decode(&push.encode()).as_ref(),
            Ok(&push),
            "a push does not survive encoding and decoding"
        );
        // The node refuses a push not signed over its own change before validating it.
        if push.is_self_signed() {
            let signed = std::slice::from_ref(&push.signed);
            receive(&mut Board::new(), push.feed, &push.change, signed);
            receive(
                &mut fixtures::prepared_board(),
                push.feed,
                &push.change,
                signed,
            );
        }
    }
}

fn receive(board: &mut Board, feed: FeedId, changes: &[u8], signed: &[SignedHeads]) {
    let Ok(applied) = board.receive(feed, changes, signed) else {
        return;
    };
    if applied.applied > 0 || applied.pending > 0 {
        // What it accepted survives a restart and can be shown.
        let held = board
            .feed(&feed)
            .expect("a feed that received changes is held");
        fixtures::check_reload(held);
        fixtures::look_at(board);
    }
}

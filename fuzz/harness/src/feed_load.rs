//! Target `feed_load`: bytes as a stored feed (`Feed::load`) of the prepared feed's id,
//! with no signatures and with the prepared feed's valid signed heads.

use entraide_crdt::{Board, Feed, SignedHeads};

use crate::fixtures;

/// Runs one input. Panics on any broken property.
pub fn run(data: &[u8]) {
    load(data, Vec::new());
    load(data, fixtures::prepared_feed().signed.clone());
}

fn load(data: &[u8], signed: Vec<SignedHeads>) {
    let Ok(feed) = Feed::load(fixtures::prepared_feed_id(), data, signed) else {
        return;
    };
    // A feed that loaded saves and loads again, and can be shown.
    fixtures::check_reload(&feed);
    let mut board = Board::new();
    board.insert(feed);
    fixtures::look_at(&board);
}

//! Target `sync_frame`: bytes as a session frame from a peer (`Frame::decode`), and when
//! they decode, handled by a new session (`Session::handle_frame`) on an empty board and on
//! the prepared board.

use entraide_crdt::limits::MAX_FRAME_BYTES;
use entraide_crdt::wire::Frame;
use entraide_crdt::{Board, Session, SessionEvent};

use crate::fixtures;

/// Runs one input. Panics on any broken property.
pub fn run(data: &[u8]) {
    let Ok(frame) = Frame::decode(data) else {
        return;
    };
    // What a node encodes, a node reads back as the same frame.
    assert_eq!(
        Frame::decode(&frame.encode()).as_ref(),
        Ok(&frame),
        "a frame does not survive encoding and decoding"
    );
    handle(&mut Board::new(), data);
    handle(&mut fixtures::prepared_board(), data);
}

fn handle(board: &mut Board, data: &[u8]) {
    let mut session = Session::new();
    let Ok(out) = session.handle_frame(board, data) else {
        return;
    };
    // The session never answers with a frame its peer refuses.
    for frame in &out.frames {
        assert!(
            frame.len() <= MAX_FRAME_BYTES,
            "the session produced a frame of {} bytes",
            frame.len()
        );
        if let Err(e) = Frame::decode(frame) {
            panic!("the session produced a frame that does not decode: {e}");
        }
    }
    // What it accepted survives a restart and can be shown.
    let mut updated = false;
    for event in &out.events {
        if let SessionEvent::FeedUpdated { feed, .. } = event {
            updated = true;
            if let Some(feed) = board.feed(feed) {
                fixtures::check_reload(feed);
            }
        }
    }
    if updated {
        fixtures::look_at(board);
    }
}

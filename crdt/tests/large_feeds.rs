//! Feeds larger than a session frame: they travel in pieces, a peer that takes no pieces
//! is sent none, and every feed stays within its bound (the author's, when writing; every
//! node's, when receiving).

mod common;

use common::*;
use entraide_crdt::limits::{MAX_FEED_BYTES, MAX_FRAME_BYTES, MAX_LIVE_FEED_BYTES};
use entraide_crdt::wire::Frame;
use entraide_crdt::{
    Board, Feed, Session, SessionError, SessionEvent, SignedHeads, ValidationFailure, WriteError,
    Writer,
};

/// A small deterministic source of text and bytes that do not compress much.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `chars` characters of made-up lowercase words.
    fn words(&mut self, chars: usize) -> String {
        let mut text = String::with_capacity(chars);
        while text.len() < chars {
            let len = 2 + self.next() % 8;
            for _ in 0..len {
                text.push((b'a' + (self.next() % 26) as u8) as char);
            }
            text.push(' ');
        }
        text.truncate(chars);
        text.trim().to_owned()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Posts `count` posts with `details` texts made by `text`, numbered from `from`.
fn post_many(
    board: &mut Board,
    w: &Writer,
    from: u32,
    count: u32,
    mut text: impl FnMut() -> String,
) {
    for i in from..from + count {
        let mut d = draft(&format!("post {i}"));
        d.details = text();
        let mut nonce = [0u8; 8];
        nonce[..4].copy_from_slice(&i.to_be_bytes());
        board.post_new(w, nonce, &d, NOW).expect("a post");
    }
}

/// What a round between two sessions carried: every frame, each way.
#[derive(Default)]
struct Traffic {
    to_b: Vec<usize>,
    to_a: Vec<usize>,
    events_a: Vec<SessionEvent>,
}

/// Runs one round between `a` and `b` until neither has anything to send, with `tamper`
/// applied to every frame A receives.
fn round(
    a: &mut Board,
    sa: &mut Session,
    b: &mut Board,
    sb: &mut Session,
    tamper: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Result<Traffic, SessionError> {
    let mut traffic = Traffic::default();
    let mut to_b = sa.start(a).frames;
    let mut to_a = sb.start(b).frames;
    let mut steps = 0;
    while !to_a.is_empty() || !to_b.is_empty() {
        steps += 1;
        assert!(steps < 100, "sessions do not settle");
        for f in std::mem::take(&mut to_b) {
            traffic.to_b.push(f.len());
            to_a.extend(sb.handle_frame(b, &f)?.frames);
        }
        for f in std::mem::take(&mut to_a) {
            traffic.to_a.push(f.len());
            let out = sa.handle_frame(a, &tamper(f))?;
            traffic.events_a.extend(out.events);
            to_b.extend(out.frames);
        }
    }
    Ok(traffic)
}

fn too_large(events: &[SessionEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, SessionEvent::FeedTooLarge { .. }))
        .count()
}

#[test]
fn a_feed_over_one_frame_reaches_a_fresh_node_in_pieces_then_its_next_changes_too() {
    let marie = writer(1);
    let mut noise = Noise(7);
    let mut a = Board::new();
    a.set_name(&marie, "Marie", NOW).unwrap();
    post_many(&mut a, &marie, 0, 1200, || noise.words(1_900));
    let size = a.feed(&feed_of(&marie)).unwrap().saved_size();
    assert!(size > MAX_FRAME_BYTES + MAX_FRAME_BYTES / 4, "{size} bytes");

    // A fresh node: the whole document, in pieces.
    let mut b = Board::new();
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, |f| f).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(b.view(&Default::default(), NOW).len(), 1200);
    assert_eq!(too_large(&traffic.events_a), 0);
    assert!(traffic.to_b.iter().all(|&len| len <= MAX_FRAME_BYTES));
    let full = traffic
        .to_b
        .iter()
        .filter(|&&len| len > MAX_FRAME_BYTES - 1024)
        .count();
    assert!(full >= 1, "frames to B: {:?}", traffic.to_b);
    let sent: usize = traffic.to_b.iter().sum();
    assert!(
        sent < size + 64 * 1024,
        "{sent} bytes for a {size}-byte feed"
    );

    // Then 550 more long posts, under a third of the feed, synced in a new session (the
    // nodes restarted, say): automerge sends the changes themselves, over 1 MiB of them,
    // in pieces again.
    post_many(&mut a, &marie, 1200, 550, || noise.words(1_900));
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, |f| f).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(b.view(&Default::default(), NOW).len(), 1750);
    assert!(traffic.to_b.iter().sum::<usize>() > MAX_FRAME_BYTES);
    assert!(traffic.to_b.iter().all(|&len| len <= MAX_FRAME_BYTES));

    // Synced: the next round is two hellos.
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, |f| f).unwrap();
    assert_eq!((traffic.to_a.len(), traffic.to_b.len()), (1, 1));
}

#[test]
fn changes_over_one_frame_travel_as_the_whole_document_when_it_is_smaller() {
    let marie = writer(1);
    let mut a = Board::new();
    let mut b = Board::new();
    let same = "the same words over and over ".repeat(65);
    post_many(&mut a, &marie, 0, 1400, || same.clone());
    sync_pair(&mut a, &mut b).unwrap();
    // Under a third of the feed, but over 1 MiB as changes; the document is far smaller.
    post_many(&mut a, &marie, 1400, 650, || same.clone());
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, |f| f).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(b.view(&Default::default(), NOW).len(), 2050);
    let size = a.feed(&feed_of(&marie)).unwrap().saved_size();
    let sent: usize = traffic.to_b.iter().sum();
    assert!(
        sent < size + 64 * 1024,
        "{sent} bytes sent for a {size}-byte document"
    );
}

/// A `Hello` as an older node sends it: without `max_message`.
fn as_older_node(frame: Vec<u8>) -> Vec<u8> {
    match Frame::decode(&frame).unwrap() {
        Frame::Hello {
            version,
            digest,
            feeds,
            clock,
            ..
        } => Frame::Hello {
            version,
            digest,
            feeds,
            clock,
            max_message: None,
        }
        .encode(),
        _ => frame,
    }
}

#[test]
fn a_peer_that_takes_no_pieces_is_sent_none_and_the_rest_of_the_board_still_syncs() {
    let (marie, karim) = (writer(1), writer(2));
    let mut noise = Noise(11);
    let mut a = Board::new();
    post_many(&mut a, &marie, 0, 1000, || noise.words(1_900));
    a.set_name(&karim, "Karim", NOW).unwrap();
    let mut b = Board::new();
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, as_older_node).unwrap();
    assert!(traffic.to_b.iter().all(|&len| len <= MAX_FRAME_BYTES));
    assert_eq!(too_large(&traffic.events_a), 1);
    assert!(b.feed(&feed_of(&marie)).is_none());
    assert_eq!(b.name_of(&karim.author()).as_deref(), Some("Karim"));
    // Later rounds of the session do not try again.
    let traffic = round(&mut a, &mut sa, &mut b, &mut sb, as_older_node).unwrap();
    assert_eq!(too_large(&traffic.events_a), 0);
    assert!(traffic.to_b.iter().sum::<usize>() < 1024);
}

#[test]
fn a_message_cut_by_another_frame_ends_the_session() {
    let marie = writer(1);
    let mut noise = Noise(13);
    let mut a = Board::new();
    post_many(&mut a, &marie, 0, 1000, || noise.words(1_900));
    let mut b = Board::new();
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let mut to_b = sa.start(&a).frames;
    let to_a = sb.start(&b).frames;
    for f in to_a {
        to_b.extend(sa.handle_frame(&mut a, &f).unwrap().frames);
    }
    // B's inventory to A, A's first message to B, B's answer, and A's document in pieces.
    let mut pieces = Vec::new();
    for _ in 0..4 {
        let mut to_a = Vec::new();
        for f in std::mem::take(&mut to_b) {
            to_a.extend(sb.handle_frame(&mut b, &f).unwrap().frames);
        }
        for f in to_a {
            let out = sa.handle_frame(&mut a, &f).unwrap().frames;
            if out.len() > 1 {
                pieces = out;
            } else {
                to_b.extend(out);
            }
        }
        if !pieces.is_empty() {
            break;
        }
    }
    assert!(pieces.len() >= 2, "{} frames", pieces.len());
    sb.handle_frame(&mut b, &pieces[0]).unwrap();
    let hello = Session::new().start(&a).frames.remove(0);
    assert_eq!(
        sb.handle_frame(&mut b, &hello).unwrap_err(),
        SessionError::PiecesOutOfOrder {
            feed: feed_of(&marie)
        }
    );
    assert!(b.feed(&feed_of(&marie)).is_none());
}

#[test]
fn an_author_is_told_when_their_feed_is_full_and_can_still_close_posts() {
    let marie = writer(1);
    let mut noise = Noise(17);
    let mut board = Board::new();
    let (post, _) = board
        .post_new(&marie, [0xff; 8], &draft("Soup"), NOW)
        .unwrap();
    let mut written = 0;
    let err = loop {
        // Sealed records are ciphertext: nothing to compress.
        match board.put_sealed(
            &marie,
            (written as u64).to_be_bytes(),
            noise.bytes(3_000),
            NOW,
        ) {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 2_000, "the feed never filled");
    };
    let WriteError::FeedFull { size, max } = err else {
        panic!("{err:?}");
    };
    assert_eq!(max, MAX_LIVE_FEED_BYTES);
    assert!(size > MAX_LIVE_FEED_BYTES && size < MAX_LIVE_FEED_BYTES + 8 * 1024);
    assert!(err.to_string().contains("Close or withdraw"), "{err}");
    let feed = board.feed(&feed_of(&marie)).unwrap();
    assert_eq!(feed.saved_size(), size);
    // New content stays refused; closing a post does not.
    assert!(matches!(
        board.set_name(&marie, "Marie", NOW),
        Err(WriteError::FeedFull { .. })
    ));
    board.withdraw(&marie, post, NOW + 1).unwrap();
    // A node receiving the full feed takes it whole.
    let mut other = Board::new();
    sync_pair(&mut board, &mut other).unwrap();
    assert_eq!(board.digest(), other.digest());
}

#[test]
fn a_node_refuses_changes_that_take_a_feed_past_its_bound_and_blames_nobody() {
    // A modified client writing past the author's bound: raw automerge, honestly signed.
    let alice = entraide_crdt::AuthorKey::from_seed([1; 32]);
    let feed = entraide_crdt::FeedId::first(alice.id());
    let mut raw = RawFeed::new(actor(&alice, 1));
    let mut noise = Noise(19);
    let mut board = Board::new();
    let mut batch = Vec::new();
    let mut refused = None;
    for i in 0..2_000 {
        let value = entraide_crdt::automerge::ScalarValue::Bytes(noise.bytes(16_000));
        batch.extend(raw.commit(|tx| {
            use entraide_crdt::automerge::transaction::Transactable;
            tx.put(
                entraide_crdt::automerge::ROOT,
                format!("sealed:{i:016x}"),
                value,
            )
            .unwrap();
        }));
        if batch.len() < 256 * 1024 {
            continue;
        }
        let signed = SignedHeads::sign(&alice, 0, &raw.heads());
        match board.receive(feed, &std::mem::take(&mut batch), &[signed]) {
            Ok(_) => {}
            Err(failure) => {
                refused = Some(failure);
                break;
            }
        }
    }
    let failure = refused.expect("the feed was never refused");
    assert!(
        matches!(failure, ValidationFailure::FeedFull { size } if size > MAX_FEED_BYTES),
        "{failure:?}"
    );
    assert!(!failure.blames_sender());
    let held = board.feed(&feed).unwrap();
    let size = held.saved_size();
    assert!(
        size <= MAX_FEED_BYTES && size > MAX_FEED_BYTES - 300 * 1024,
        "{size}"
    );
    // Nothing more is taken, not even one small change.
    let small = raw.put("name", "Alice");
    let signed = SignedHeads::sign(&alice, 0, &raw.heads());
    assert!(matches!(
        board.receive(feed, &small, &[signed]),
        Err(ValidationFailure::FeedFull { .. })
    ));
    // What the node holds still loads.
    let held = board.feed(&feed).unwrap();
    let reloaded = Feed::load(feed, &held.save(), held.signed_heads().to_vec()).unwrap();
    assert_eq!(reloaded.heads(), held.heads());
}

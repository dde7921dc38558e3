//! Sync sessions wired together in memory: convergence, store and forward, resumption,
//! and what a session does with a hostile peer's frames.

mod common;

use common::*;
use entraide_crdt::automerge::sync::{ChunkList, Message, State, SyncDoc};
use entraide_crdt::wire::{FeedSync, Frame};
use entraide_crdt::{
    AuthorKey, Board, Filter, Session, SessionError, SessionEvent, ValidationFailure,
};

fn all() -> Filter {
    Filter {
        include_closed: true,
        ..Filter::default()
    }
}

#[test]
fn two_boards_with_different_posts_converge() {
    let (marie, karim) = (writer(1), writer(2));
    let (mut a, mut b) = (Board::new(), Board::new());
    a.set_name(&marie, "Marie", NOW).unwrap();
    let (pa, _) = a.post_new(&marie, [1; 8], &draft("Water"), NOW).unwrap();
    b.set_name(&karim, "Karim", NOW).unwrap();
    let (pb, _) = b.post_new(&karim, [2; 8], &draft("Soup"), NOW).unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.view(&all(), NOW), b.view(&all(), NOW));
    assert_eq!(a.view(&all(), NOW).len(), 2);
    // Karim responds on his board; Marie accepts on hers after the next sync.
    b.respond(&karim, pa, "coming", NOW + 1).unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    a.accept(&marie, pa, karim.author(), NOW + 2).unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    let seen = b.post(pa, NOW + 3).unwrap();
    assert_eq!(seen.accepted, Some(karim.author()));
    assert!(b.post(pb, NOW + 3).is_some());
}

#[test]
fn a_post_reaches_a_node_through_a_third_one() {
    let (marie, lea) = (writer(1), writer(3));
    let (mut a, mut b, mut c) = (Board::new(), Board::new(), Board::new());
    let (post, _) = a
        .post_new(&marie, [1; 8], &draft("Visit on Sunday"), NOW)
        .unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    sync_pair(&mut b, &mut c).unwrap();
    assert!(
        c.post(post, NOW).is_some(),
        "B stored and forwarded Marie's feed"
    );
    c.respond(&lea, post, "I can come", NOW + 1).unwrap();
    sync_pair(&mut c, &mut b).unwrap();
    sync_pair(&mut b, &mut a).unwrap();
    assert_eq!(
        a.post(post, NOW + 2).unwrap().responses[0].helper,
        lea.author()
    );
}

#[test]
fn boards_in_sync_exchange_only_hellos() {
    let marie = writer(1);
    let (mut a, mut b) = (Board::new(), Board::new());
    a.post_new(&marie, [1; 8], &draft("Water"), NOW).unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let frames = sync_with(&mut a, &mut sa, &mut b, &mut sb).unwrap();
    assert_eq!(frames, 2);
    assert!(sa.stats().bytes_out < 100, "{:?}", sa.stats());
}

#[test]
fn a_resumed_session_sends_less_than_a_fresh_one() {
    let marie = writer(1);
    let (mut a, mut b) = (Board::new(), Board::new());
    for i in 0..50u8 {
        a.post_new(&marie, [i; 8], &draft(&format!("post {i}")), NOW)
            .unwrap();
    }
    let (mut sa, mut sb) = (Session::new(), Session::new());
    sync_with(&mut a, &mut sa, &mut b, &mut sb).unwrap();
    let saved_a = sa.saved_states();
    let saved_b = sb.saved_states();
    a.post_new(&marie, [99; 8], &draft("one more"), NOW)
        .unwrap();
    // Resumed from saved states versus starting from nothing.
    let (mut ra, mut rb) = (Session::resume(saved_a), Session::resume(saved_b));
    let mut a2 = Board::new();
    let mut b2 = Board::new();
    sync_pair(&mut a2, &mut a).unwrap();
    sync_pair(&mut b2, &mut b).unwrap();
    sync_with(&mut a, &mut ra, &mut b, &mut rb).unwrap();
    let (mut fa, mut fb) = (Session::new(), Session::new());
    sync_with(&mut a2, &mut fa, &mut b2, &mut fb).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a2.digest(), b2.digest());
    let resumed = ra.stats().bytes_out + rb.stats().bytes_out;
    let fresh = fa.stats().bytes_out + fb.stats().bytes_out;
    assert!(resumed < fresh, "resumed {resumed} bytes, fresh {fresh}");
}

#[test]
fn a_fresh_node_receives_whole_feeds() {
    let mut a = Board::new();
    for author in 1..=5u8 {
        let w = writer(author);
        a.set_name(&w, &format!("N{author}"), NOW).unwrap();
        for i in 0..40u8 {
            a.post_new(&w, [i; 8], &draft(&format!("help {author}/{i}")), NOW)
                .unwrap();
        }
    }
    let mut fresh = Board::new();
    sync_pair(&mut a, &mut fresh).unwrap();
    assert_eq!(fresh.digest(), a.digest());
    assert_eq!(fresh.view(&all(), NOW).len(), 200);
}

/// A sync frame carrying `change` for `feed`, signed as given.
fn forged_frame(
    feed: entraide_crdt::FeedId,
    change: Vec<u8>,
    signed: Vec<entraide_crdt::SignedHeads>,
) -> Vec<u8> {
    let doc = entraide_crdt::automerge::Automerge::new();
    let mut message = doc
        .generate_sync_message(&mut State::new())
        .expect("a message");
    message.changes = ChunkList::from(vec![change]);
    Frame::Sync {
        feeds: vec![FeedSync {
            feed,
            signed,
            message: message.encode(),
            more: false,
        }],
    }
    .encode()
}

#[test]
fn a_session_refuses_forged_changes_and_keeps_nothing() {
    let alice = AuthorKey::from_seed([1; 32]);
    let eve = AuthorKey::from_seed([66; 32]);
    let feed = entraide_crdt::FeedId::first(alice.id());
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice?");
    let mut forged = raw.signed_by(&eve);
    forged.feed = feed;
    let mut board = Board::new();
    let mut session = Session::new();
    let err = session
        .handle_frame(
            &mut board,
            &forged_frame(feed, change.clone(), vec![forged]),
        )
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::Invalid {
            feed,
            failure: ValidationFailure::BadSignature { feed }
        }
    );
    assert!(board.is_empty());
    // The same change honestly signed goes through.
    let honest = raw.signed_by(&alice);
    let out = session
        .handle_frame(&mut board, &forged_frame(feed, change, vec![honest]))
        .unwrap();
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, SessionEvent::FeedUpdated { applied: 1, .. }))
    );
    assert_eq!(board.name_of(&alice.id()).as_deref(), Some("Alice?"));
}

#[test]
fn garbage_frames_end_the_session_with_a_reason() {
    let mut board = Board::new();
    let mut session = Session::new();
    for garbage in [&b""[..], b"\xff\xff\xff", b"hello world"] {
        assert!(matches!(
            session.handle_frame(&mut board, garbage),
            Err(SessionError::Decode(_))
        ));
    }
    let bad_version = Frame::Hello {
        version: 99,
        digest: entraide_crdt::Hash([0; 32]),
        feeds: 0,
        clock: None,
        max_message: None,
    };
    assert_eq!(
        session
            .handle_frame(&mut board, &bad_version.encode())
            .unwrap_err(),
        SessionError::Version(99)
    );
    let bad_sync = Frame::Sync {
        feeds: vec![FeedSync {
            feed: entraide_crdt::FeedId::first(writer(1).author()),
            signed: vec![],
            message: b"not automerge".to_vec(),
            more: false,
        }],
    };
    assert!(matches!(
        session.handle_frame(&mut board, &bad_sync.encode()),
        Err(SessionError::BadSyncMessage { .. })
    ));
    let too_big = vec![0u8; entraide_crdt::limits::MAX_FRAME_BYTES + 1];
    assert!(matches!(
        session.handle_frame(&mut board, &too_big),
        Err(SessionError::Decode(_))
    ));
    assert!(board.is_empty());
}

#[test]
fn a_frame_listing_too_many_feeds_is_refused() {
    let feeds = (0..=entraide_crdt::limits::MAX_FEEDS as u32)
        .map(|i| {
            let mut author = [0u8; 32];
            author[..4].copy_from_slice(&i.to_be_bytes());
            entraide_crdt::wire::InventoryEntry {
                feed: entraide_crdt::FeedId::first(entraide_crdt::AuthorId(author)),
                heads: [0; 16],
            }
        })
        .collect();
    let frame = Frame::Inventory { feeds }.encode();
    assert!(frame.len() < entraide_crdt::limits::MAX_FRAME_BYTES);
    assert!(matches!(
        Session::new().handle_frame(&mut Board::new(), &frame),
        Err(SessionError::TooManyFeeds(_))
    ));
    let _ = Message::decode; // the automerge message type is part of the wire format
}

#[test]
fn a_local_change_that_could_not_be_saved_is_taken_back_and_never_sent() {
    let (marie, karim) = (writer(1), writer(2));
    let (mut a, mut b) = (Board::new(), Board::new());
    a.set_name(&marie, "Marie", NOW).unwrap();
    let (kept, _) = a.post_new(&marie, [1; 8], &draft("Water"), NOW).unwrap();
    let before = a.digest();
    // The disk refused this one: the node takes it back before anyone saw it.
    let (lost, change) = a.post_new(&marie, [2; 8], &draft("Soup"), NOW).unwrap();
    a.forget_local(&marie, &change).unwrap();
    assert_eq!(a.digest(), before, "the board is what it was");
    assert!(a.post(lost, NOW).is_none());
    // Only the newest change can be taken back.
    let (_, older) = a.post_new(&marie, [3; 8], &draft("Bread"), NOW).unwrap();
    a.post_new(&marie, [4; 8], &draft("Milk"), NOW).unwrap();
    assert!(a.forget_local(&marie, &older).is_err());
    // Not someone else's.
    b.set_name(&karim, "Karim", NOW).unwrap();
    assert!(b.forget_local(&karim, &older).is_err());

    // The heads were signed again: a neighbour accepts the feed, without the taken-back
    // post; and writing on from a new device (as the node does) is accepted too.
    let marie_again = entraide_crdt::Writer::new(
        AuthorKey::from_seed([1; 32]),
        entraide_crdt::DeviceId([9; 8]),
    );
    let (later, _) = a
        .post_new(&marie_again, [5; 8], &draft("Tea"), NOW)
        .unwrap();
    sync_pair(&mut a, &mut b).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert!(b.post(kept, NOW).is_some());
    assert!(b.post(later, NOW).is_some());
    assert!(b.post(lost, NOW).is_none());
    assert_eq!(b.view(&all(), NOW).len(), 4, "Water, Bread, Milk, Tea");
}

/// A sync message for `feed` whose `have` carries a Bloom filter made of `bloom` bytes.
fn sync_with_bloom(board: &Board, feed: entraide_crdt::FeedId, bloom: &[u8]) -> Vec<u8> {
    use entraide_crdt::automerge::sync::{BloomFilter, Have};
    let saved = board.feed(&feed).expect("the feed").save();
    let doc = entraide_crdt::automerge::Automerge::load(&saved).expect("a document");
    let mut message = doc
        .generate_sync_message(&mut State::new())
        .expect("a first message");
    message.have = vec![Have {
        last_sync: vec![],
        bloom: BloomFilter::try_from(bloom).expect("the filter parses"),
    }];
    Frame::Sync {
        feeds: vec![FeedSync {
            feed,
            signed: vec![],
            message: message.encode(),
            more: false,
        }],
    }
    .encode()
}

#[test]
fn bloom_filters_that_would_crash_automerge_are_refused() {
    let marie = writer(1);
    let mut board = Board::new();
    board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .unwrap();
    let feed = entraide_crdt::FeedId::first(marie.author());
    // Entries but no bits: automerge divides by zero (found by fuzzing).
    let no_bits = [5, 0, 7];
    // Four billion probes per hash: automerge would allocate 16 GiB per hash.
    let mut many_probes = vec![5, 10, 0xff, 0xff, 0xff, 0xff, 0x0f];
    many_probes.extend([0u8; 7]);
    for (what, bloom) in [("no bits", &no_bits[..]), ("many probes", &many_probes)] {
        let frame = sync_with_bloom(&board, feed, bloom);
        let mut session = Session::new();
        let _ = session.start(&board);
        let result = session.handle_frame(&mut board, &frame);
        assert!(
            matches!(result, Err(SessionError::BadSyncMessage { .. })),
            "{what}: {result:?}"
        );
    }
    // A well-formed filter still passes.
    let mut fine = vec![1, 10, 7];
    fine.extend([0u8; 2]);
    let frame = sync_with_bloom(&board, feed, &fine);
    let mut session = Session::new();
    let _ = session.start(&board);
    session.handle_frame(&mut board, &frame).unwrap();
}

#[test]
fn a_session_tells_its_clock_in_its_first_hello_and_every_ten_minutes() {
    use entraide_crdt::{CLOCK_RETELL_SECS, SessionEvent};
    let (a, mut b) = (Board::new(), Board::new());
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let clocks = |sa: &mut Session, sb: &mut Session, a: &Board, b: &mut Board, now: i64| {
        let hello = sa.start_at(a, now).frames;
        let mut told = Vec::new();
        for f in hello {
            for e in sb.handle_frame(b, &f).unwrap().events {
                if let SessionEvent::PeerClock { clock } = e {
                    told.push(clock);
                }
            }
        }
        told
    };
    assert_eq!(clocks(&mut sa, &mut sb, &a, &mut b, NOW), [NOW]);
    assert!(clocks(&mut sa, &mut sb, &a, &mut b, NOW + 30).is_empty());
    let later = NOW + CLOCK_RETELL_SECS;
    assert_eq!(clocks(&mut sa, &mut sb, &a, &mut b, later), [later]);
    // A hello without a clock (an older node) still decodes, and one with it is 9 bytes
    // longer at most.
    let plain = Session::new().start(&a).frames[0].len();
    let told = Session::new().start_at(&a, NOW).frames[0].len();
    assert!(told > plain && told <= plain + 15, "{plain} {told}");
}

//! Inflation bombs: chunks made by hand whose deflated data inflates to hundreds of times
//! their size. automerge inflates deflated data whole before anyone sees its size; these
//! tests show that it does (the bombs are real) and that entraide refuses them first,
//! through every door bytes from elsewhere come in, without allocating what they inflate
//! to. Allocations are counted by a global allocator, so the tests of this file take turns.

mod common;

use std::alloc::System;
use std::io::Write;
use std::sync::{Mutex, MutexGuard};

use common::*;
use entraide_crdt::automerge::sync::{self, SyncDoc};
use entraide_crdt::automerge::transaction::{CommitOptions, Transactable};
use entraide_crdt::automerge::{Automerge, Change, ROOT};
use entraide_crdt::board_file::{BoardFileReader, BoardFileWriter, FeedRecord};
use entraide_crdt::limits::{MAX_GOSSIP_BYTES, MAX_INFLATED_DOCUMENT_BYTES};
use entraide_crdt::wire::{FeedSync, Frame, Push};
use entraide_crdt::{
    AuthorKey, Board, Feed, FeedId, Session, SessionError, SessionEvent, SignedHeads,
    ValidationFailure, validate,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MIB: usize = 1024 * 1024;
/// What the document bomb inflates to.
const BOMB_INFLATED: usize = 256 * MIB;
/// The spec of automerge's op value column (column 5, type 7 "value"), deflate bit set.
const DEFLATED_VALUE_COLUMN: u32 = (5 << 4) | 0b1000 | 7;
/// The same column, not deflated.
const VALUE_COLUMN: u32 = (5 << 4) | 7;

/// One test at a time: the allocator counts every thread.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f`; returns what it returned and the bytes it allocated, counting every
/// allocation and every growth of one, freed or not (so at least its peak).
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(ALLOCATOR);
    let out = f();
    (out, region.change().bytes_allocated)
}

/// A run-length column: `rows` rows of one unsigned value.
fn run(rows: i64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(&mut out, rows);
    leb(&mut out, value);
    out
}

/// A run-length column of one row (a literal run: automerge refuses a run of one).
fn one(value: i64) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(&mut out, -1);
    sleb(&mut out, value);
    out
}

type Columns<'a> = &'a [(u32, &'a [u8])];

/// A document chunk with one 16-byte actor, no heads, and these change and op columns
/// (spec, data), in order.
fn document_of(change_columns: Columns<'_>, op_columns: Columns<'_>) -> Vec<u8> {
    let mut data = vec![1, 16];
    data.extend_from_slice(&[7; 16]);
    data.push(0);
    for columns in [change_columns, op_columns] {
        leb(&mut data, columns.len() as u64);
        for (spec, bytes) in columns {
            leb(&mut data, u64::from(*spec));
            leb(&mut data, bytes.len() as u64);
        }
    }
    for (_, bytes) in change_columns.iter().chain(op_columns) {
        data.extend_from_slice(bytes);
    }
    chunk(0, &data)
}

/// A document chunk with these op columns only.
fn document(op_columns: Columns<'_>) -> Vec<u8> {
    document_of(&[], op_columns)
}

/// `n` zero bytes, raw-deflated, made a MiB at a time.
fn deflated_zeros(n: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB];
    let mut left = n;
    while left > 0 {
        let step = left.min(MIB);
        encoder.write_all(&zeros[..step]).expect("in memory");
        left -= step;
    }
    encoder.finish().expect("in memory")
}

/// A document chunk whose one deflated column inflates to 256 MiB.
fn document_bomb() -> Vec<u8> {
    document(&[(DEFLATED_VALUE_COLUMN, &deflated_zeros(BOMB_INFLATED))])
}

fn feed() -> FeedId {
    FeedId::first(AuthorKey::from_seed([1; 32]).id())
}

fn is_too_far(failure: &ValidationFailure) -> bool {
    *failure
        == ValidationFailure::InflatesTooFar {
            limit: MAX_INFLATED_DOCUMENT_BYTES,
        }
}

/// Without entraide's check, automerge inflates the bomb whole: what the other tests
/// refuse is real.
#[test]
fn automerge_alone_inflates_the_document_bomb_whole() {
    let _turn = one_at_a_time();
    let bomb = document_bomb();
    let (loaded, allocated) = allocated_by(|| Automerge::load(&bomb));
    println!(
        "a {}-byte document chunk: automerge allocated {} bytes loading it",
        bomb.len(),
        allocated
    );
    assert!(bomb.len() < 300 * 1024, "{} bytes", bomb.len());
    assert!(allocated >= BOMB_INFLATED, "{allocated} bytes");
    // It is refused in the end, but only after the inflation: nothing else is wrong
    // with the bytes up to the column data.
    assert!(loaded.is_err());
}

#[test]
fn validate_refuses_the_document_bomb_without_inflating_it() {
    let _turn = one_at_a_time();
    let bomb = document_bomb();
    let empty = Feed::new(feed());
    let (verdict, allocated) = allocated_by(|| validate(&empty, &bomb, &[]).map(|_| ()));
    println!(
        "a {}-byte document chunk inflating to {BOMB_INFLATED} bytes: validate allocated {allocated} bytes",
        bomb.len()
    );
    let failure = verdict.expect_err("the bomb is refused");
    assert!(is_too_far(&failure), "{failure:?}");
    assert!(failure.blames_sender());
    assert!(allocated < MIB, "{allocated} bytes");
}

/// A peer sending the bomb in a sync frame ends its session (it is to blame), and the
/// session never asked automerge to inflate it.
#[test]
fn a_peer_sending_the_document_bomb_in_a_session_is_refused() {
    let _turn = one_at_a_time();
    let bomb = document_bomb();
    let mut message = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .expect("a first message");
    message.changes = vec![bomb].into();
    let frame = Frame::Sync {
        feeds: vec![FeedSync {
            feed: feed(),
            signed: vec![],
            message: message.encode(),
            more: false,
        }],
    }
    .encode();
    let mut board = Board::new();
    let mut session = Session::new();
    let (verdict, allocated) =
        allocated_by(|| session.handle_frame(&mut board, &frame).map(|_| ()));
    println!(
        "a {}-byte sync frame carrying the bomb: the session allocated {allocated} bytes",
        frame.len()
    );
    match verdict {
        Err(SessionError::Invalid { failure, .. }) => assert!(is_too_far(&failure), "{failure:?}"),
        other => panic!("the session went on: {other:?}"),
    }
    assert!(board.feed(&feed()).is_none());
    // The frame is copied a few times on its way in (decoding, joining its chunks).
    assert!(allocated < 4 * MIB, "{allocated} bytes");
}

/// A board file is read record by record, each checked as a peer's sync would be.
#[test]
fn a_board_file_carrying_the_document_bomb_is_refused() {
    let _turn = one_at_a_time();
    let mut writer = BoardFileWriter::new(NOW);
    assert!(writer.add(&FeedRecord {
        feed: feed(),
        data: document_bomb(),
        signed: vec![],
    }));
    let file = writer.finish();
    let mut reader = BoardFileReader::new(&file).expect("a board file");
    let record = reader.next_record().expect("one record").expect("readable");
    let mut board = Board::new();
    let (verdict, allocated) = allocated_by(|| {
        board
            .receive(record.feed, &record.data, &record.signed)
            .map(|_| ())
    });
    let failure = verdict.expect_err("the bomb is refused");
    assert!(is_too_far(&failure), "{failure:?}");
    assert!(allocated < MIB, "{allocated} bytes");
}

/// The bound is exact: a document that inflates to the limit is measured and passed on to
/// automerge (which refuses it for what it is: a column of zeros); one byte more is
/// refused before automerge sees it.
#[test]
fn a_document_inflating_to_the_limit_passes_and_one_byte_more_does_not() {
    let _turn = one_at_a_time();
    let inflated = MAX_INFLATED_DOCUMENT_BYTES - 4096;
    let deflated = deflated_zeros(inflated);
    // An uncompressed column pads the document to exactly the limit.
    let at = |pad: usize| {
        let padding = vec![0u8; pad];
        document(&[(VALUE_COLUMN, &padding), (DEFLATED_VALUE_COLUMN, &deflated)])
    };
    let size_of = |doc: &[u8]| doc.len() - deflated.len() + inflated;
    // The padding's own length field grows with it: settle in a few steps.
    let mut pad = 0;
    while size_of(&at(pad)) != MAX_INFLATED_DOCUMENT_BYTES {
        pad = (pad + MAX_INFLATED_DOCUMENT_BYTES) - size_of(&at(pad));
    }
    let limit = at(pad);
    assert_eq!(size_of(&limit), MAX_INFLATED_DOCUMENT_BYTES);
    let over = at(pad + 1);
    assert_eq!(size_of(&over), MAX_INFLATED_DOCUMENT_BYTES + 1);

    let empty = Feed::new(feed());
    let (at_limit, allocated) = allocated_by(|| validate(&empty, &limit, &[]).map(|_| ()));
    let failure = at_limit.expect_err("automerge refuses a column of zeros");
    assert!(!is_too_far(&failure), "{failure:?}");
    println!(
        "a {}-byte document inflating to the limit ({MAX_INFLATED_DOCUMENT_BYTES} bytes): \
         passed on to automerge, which allocated {allocated} bytes before refusing it",
        limit.len()
    );
    let failure = validate(&empty, &over, &[]).expect_err("one byte over");
    assert!(is_too_far(&failure), "{failure:?}");
}

/// A feed of `posts` posts by one author, the text of each made by `details`.
fn feed_of_posts(posts: u64, details: impl Fn(u64) -> String) -> Board {
    let marie = writer(1);
    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).expect("a name");
    for i in 0..posts {
        let mut post = draft(&format!("post {i}"));
        post.details = details(i);
        board
            .post_new(&marie, i.to_be_bytes(), &post, NOW + i as i64)
            .expect("a post");
    }
    board
}

/// Real feeds, large enough that automerge deflates their columns, still pass; what they
/// gain by deflate is what `MAX_INFLATED_DOCUMENT_BYTES` is set from.
#[test]
fn honest_documents_with_deflated_columns_pass() {
    let _turn = one_at_a_time();
    let text = "Bonjour, je cherche quelqu'un pour porter six bouteilles d'eau au quatrième \
                étage du bâtiment B, l'ascenseur est en panne depuis lundi. ";
    let varied = |i: u64| {
        format!(
            "{i} {}",
            text.chars().take(20 + i as usize % 100).collect::<String>()
        )
    };
    let repeated = |_: u64| text.repeat(15).chars().take(2_000).collect::<String>();
    for (what, board) in [
        ("varied text", feed_of_posts(2_000, varied)),
        (
            "one 2,000-character text repeated",
            feed_of_posts(2_000, repeated),
        ),
    ] {
        let id = feed_of(&writer(1));
        let held = board.feed(&id).expect("Marie's feed");
        let saved = held.save();
        let loaded = Automerge::load(&saved).expect("loads");
        let inflated = loaded.save_nocompress();
        let ops: usize = loaded.get_changes(&[]).iter().map(|c| c.len()).sum();
        println!(
            "2,000 posts of {what}: {} bytes saved, {} inflated ({:.0} times), {ops} operations",
            saved.len(),
            inflated.len(),
            inflated.len() as f64 / saved.len() as f64
        );
        assert!(
            inflated.len() > 4 * saved.len(),
            "automerge deflated columns"
        );
        let mut fresh = Board::new();
        fresh
            .receive(id, &saved, held.signed_heads())
            .expect("an honest document is accepted");
        assert_eq!(fresh.digest(), board.digest());
    }
}

/// A compressed change chunk (type 2) inflating to 60 MiB, small enough for a gossip
/// push.
fn compressed_change_bomb() -> Vec<u8> {
    chunk(2, &deflated_zeros(60 * MIB))
}

/// A gossip push is looked at (`Push::is_self_signed`) before it is validated: that look
/// measures a compressed change before automerge inflates it too.
#[test]
fn a_push_carrying_a_compressed_change_bomb_is_refused_without_inflating_it() {
    let _turn = one_at_a_time();
    let bomb = compressed_change_bomb();
    let (_, automerge_allocated) = allocated_by(|| Change::try_from(&bomb[..]).is_ok());
    assert!(
        automerge_allocated >= 60 * MIB,
        "{automerge_allocated} bytes"
    );

    let marie = AuthorKey::from_seed([1; 32]);
    let push = Push {
        feed: feed(),
        change: bomb,
        signed: SignedHeads::sign(&marie, 0, &[]),
    };
    let bytes = push.encode();
    assert!(bytes.len() <= MAX_GOSSIP_BYTES, "{} bytes", bytes.len());
    let push = Push::decode(&bytes).expect("a push of the allowed size");
    let (self_signed, allocated) = allocated_by(|| push.is_self_signed());
    println!(
        "a {}-byte push whose change inflates to {} bytes: automerge alone allocated \
         {automerge_allocated} bytes, the push check {allocated}",
        bytes.len(),
        60 * MIB
    );
    assert!(!self_signed);
    assert!(allocated < MIB, "{allocated} bytes");

    let mut board = Board::new();
    let (verdict, allocated) =
        allocated_by(|| board.receive(push.feed, &push.change, &[]).map(|_| ()));
    assert_eq!(
        verdict,
        Err(ValidationFailure::ChangeTooLarge {
            size: entraide_crdt::limits::MAX_CHANGE_BYTES + 1
        })
    );
    assert!(allocated < MIB, "{allocated} bytes");
}

/// Refusing a document that inflates too far blames its sender, so a node never sends
/// one: a feed whose document is over the bound (here one value of the limit plus a MiB,
/// as no honest feed holds) is held back from a newcomer, and the session ends well.
#[test]
fn a_node_does_not_send_a_document_that_inflates_too_far() {
    let _turn = one_at_a_time();
    let marie = AuthorKey::from_seed([1; 32]);
    let id = FeedId::first(marie.id());
    let mut raw = RawFeed::new(actor(&marie, 1));
    let mut tx = raw.doc.transaction();
    tx.put(ROOT, "format", entraide_crdt::FORMAT).expect("put");
    tx.put(ROOT, "blob", "a".repeat(MAX_INFLATED_DOCUMENT_BYTES + MIB))
        .expect("put");
    tx.commit_with(CommitOptions::default().with_time(NOW));
    let signed = raw.signed_by(&marie);
    let held = Feed::load(id, &raw.doc.save(), vec![signed]).expect("our own storage");
    let mut relay = Board::new();
    relay.insert(held);
    let mut newcomer = Board::new();
    let (mut at_relay, mut at_newcomer) = (Session::new(), Session::new());
    let mut to_newcomer = at_relay.start(&relay).frames;
    let mut to_relay = at_newcomer.start(&newcomer).frames;
    let mut held_back = 0;
    while !to_newcomer.is_empty() || !to_relay.is_empty() {
        for frame in std::mem::take(&mut to_newcomer) {
            let out = at_newcomer
                .handle_frame(&mut newcomer, &frame)
                .expect("the relay sends nothing to blame");
            to_relay.extend(out.frames);
        }
        for frame in std::mem::take(&mut to_relay) {
            let out = at_relay
                .handle_frame(&mut relay, &frame)
                .expect("a fine peer");
            held_back += out
                .events
                .iter()
                .filter(|e| {
                    matches!(e, SessionEvent::DocumentHeldBack { feed, failure }
                        if *feed == id && is_too_far(failure))
                })
                .count();
            to_newcomer.extend(out.frames);
        }
    }
    assert!(held_back > 0, "the relay said it held the document back");
    assert!(newcomer.feed(&id).is_none());
}

// Run lengths: automerge's columns hold one row per change or per operation, run-length
// encoded, and automerge expands them with no bound.

/// Change columns (spec: id << 4 | type) as automerge 0.12 writes them.
const CHANGE_ACTOR: u32 = 1;
const CHANGE_SEQ: u32 = 3;
const CHANGE_MAX_OP: u32 = (1 << 4) | 3;
const CHANGE_DEPS: u32 = 4 << 4;
const CHANGE_EXTRA_META: u32 = (5 << 4) | 6;
/// Op columns of a document.
const OP_KEY: u32 = (1 << 4) | 5;
const OP_ID_ACTOR: u32 = (2 << 4) | 1;
const OP_ID_COUNTER: u32 = (2 << 4) | 3;
const OP_INSERT: u32 = (3 << 4) | 4;
const OP_ACTION: u32 = (4 << 4) | 2;
const OP_VALUE_META: u32 = (5 << 4) | 6;
const OP_SUCC: u32 = 8 << 4;
const OP_PRED: u32 = 7 << 4;

/// A document listing 2^24 changes of its one actor in three 6-byte runs.
fn change_rows_bomb() -> Vec<u8> {
    let rows = 1 << 24;
    let mut deltas = Vec::new();
    sleb(&mut deltas, rows);
    sleb(&mut deltas, 1);
    document_of(
        &[
            (CHANGE_ACTOR, &run(rows, 0)),
            (CHANGE_SEQ, &deltas),
            (CHANGE_MAX_OP, &deltas),
        ],
        &[],
    )
}

/// One change of 2^22 operations, each putting null at the root key "k": every op column
/// one run.
fn op_rows_bomb() -> Vec<u8> {
    let rows: i64 = 1 << 22;
    let mut key = Vec::new();
    sleb(&mut key, rows);
    key.extend_from_slice(&[1, b'k']);
    let mut counters = Vec::new();
    sleb(&mut counters, rows);
    sleb(&mut counters, 1);
    let mut not_inserted = Vec::new();
    leb(&mut not_inserted, rows as u64);
    document_of(
        &[
            (CHANGE_ACTOR, &one(0)),
            (CHANGE_SEQ, &one(1)),
            (CHANGE_MAX_OP, &one(rows)),
            (CHANGE_DEPS, &one(0)),
            (CHANGE_EXTRA_META, &one(0)),
        ],
        &[
            (OP_KEY, &key),
            (OP_ID_ACTOR, &run(rows, 0)),
            (OP_ID_COUNTER, &counters),
            (OP_INSERT, &not_inserted),
            (OP_ACTION, &run(rows, 1)),
            (OP_VALUE_META, &run(rows, 0)),
            (OP_SUCC, &run(rows, 0)),
        ],
    )
}

#[test]
fn run_length_document_bombs_are_refused_before_automerge_expands_them() {
    let _turn = one_at_a_time();
    let empty = Feed::new(feed());
    for (what, bomb, at_least) in [
        ("2^24 changes", change_rows_bomb(), 150 * MIB),
        ("2^22 operations", op_rows_bomb(), 250 * MIB),
    ] {
        let (loaded, automerge) = allocated_by(|| Automerge::load(&bomb).map(|_| ()));
        assert!(loaded.is_err(), "{what}: nothing adds up in the end");
        assert!(automerge >= at_least, "{what}: {automerge} bytes");
        let (verdict, allocated) = allocated_by(|| validate(&empty, &bomb, &[]).map(|_| ()));
        println!(
            "a {}-byte document of {what}: automerge allocated {automerge} bytes, validate {allocated}",
            bomb.len()
        );
        assert!(allocated < 64 * 1024, "{what}: {allocated} bytes");
        match verdict.expect_err(what) {
            // What the document would get once loaded: not proof against the sender.
            ValidationFailure::TooManyChanges { count } => {
                assert!(count > entraide_crdt::limits::MAX_CHANGES_PER_BATCH)
            }
            failure @ ValidationFailure::TooManyRows { limit, .. } => {
                assert_eq!(limit, entraide_crdt::limits::MAX_DOCUMENT_OPS);
                assert!(failure.blames_sender());
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Rows are counted in deflated columns too, as they inflate.
#[test]
fn run_lengths_inside_a_deflated_column_are_counted() {
    let _turn = one_at_a_time();
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&run(1 << 40, 0)).expect("in memory");
    let deflated = encoder.finish().expect("in memory");
    let bomb = document(&[(OP_ID_ACTOR | 0b1000, &deflated)]);
    let failure = validate(&Feed::new(feed()), &bomb, &[]).expect_err("refused");
    assert!(
        matches!(failure, ValidationFailure::TooManyRows { .. }),
        "{failure:?}"
    );
}

/// A change chunk (type 1) of `ops` operations putting null at the root key "k", in 69
/// bytes whatever their number.
fn change_of_ops(ops: i64) -> Vec<u8> {
    let mut data = vec![0, 16];
    data.extend_from_slice(&[7; 16]);
    data.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, others
    let mut key = Vec::new();
    sleb(&mut key, ops);
    key.extend_from_slice(&[1, b'k']);
    let mut not_inserted = Vec::new();
    leb(&mut not_inserted, ops as u64);
    let columns: [(u32, &[u8]); 5] = [
        (OP_KEY, &key),
        (OP_INSERT, &not_inserted),
        (OP_ACTION, &run(ops, 1)),
        (OP_VALUE_META, &run(ops, 0)),
        (OP_PRED, &run(ops, 0)),
    ];
    leb(&mut data, columns.len() as u64);
    for (spec, bytes) in &columns {
        leb(&mut data, u64::from(*spec));
        leb(&mut data, bytes.len() as u64);
    }
    for (_, bytes) in &columns {
        data.extend_from_slice(bytes);
    }
    chunk(1, &data)
}

/// automerge walks every operation of a change it reads (a CPU cost, a second per
/// eight million): a change, pushed or synced, with more operations than
/// `MAX_CHANGE_OPS` is refused before automerge reads it.
#[test]
fn a_change_of_too_many_operations_is_refused_before_automerge_reads_it() {
    let _turn = one_at_a_time();
    let limit = entraide_crdt::limits::MAX_CHANGE_OPS;
    let bomb = change_of_ops(1 << 20);
    let started = std::time::Instant::now();
    let read = Change::try_from(&bomb[..]).expect("automerge reads it");
    println!(
        "a {}-byte change of {} operations: automerge read it in {:?}",
        bomb.len(),
        read.len(),
        started.elapsed()
    );
    assert_eq!(read.len(), 1 << 20, "automerge walked every operation");
    // At the limit it is read, and refused for what it is: not Marie's actor.
    let at_limit = change_of_ops(limit as i64);
    let failure = validate(&Feed::new(feed()), &at_limit, &[]).expect_err("not Marie's");
    assert!(
        matches!(failure, ValidationFailure::ForeignActor { .. }),
        "{failure:?}"
    );
    for over in [change_of_ops(limit as i64 + 1), bomb] {
        let failure = validate(&Feed::new(feed()), &over, &[]).expect_err("too many");
        assert!(
            matches!(failure, ValidationFailure::TooManyRows { limit: l, .. } if l == limit),
            "{failure:?}"
        );
        // Signed over its own hash, the push would pass if automerge read it.
        let hash = Change::try_from(&over[..])
            .expect("automerge reads it")
            .hash();
        let push = Push {
            feed: feed(),
            change: over,
            signed: SignedHeads::sign(&AuthorKey::from_seed([1; 32]), 0, &[hash]),
        };
        assert!(!push.is_self_signed());
    }
    let failure = validate(&Feed::new(feed()), &change_of_ops(1 << 40), &[]).expect_err("2^40");
    assert!(
        matches!(failure, ValidationFailure::TooManyRows { .. }),
        "{failure:?}"
    );
}

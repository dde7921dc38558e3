//! Snapshots (issue 16): a feed read back from its snapshot serves the same board without
//! parsing its document, parses it only when something needs it, and a snapshot that was
//! not made for the stored bytes is ignored.

mod common;

use common::{NOW, draft, sync_pair, writer};
use entraide_crdt::{Board, Feed, FeedId, Filter};

fn everything() -> Filter {
    Filter {
        include_closed: true,
        ..Filter::default()
    }
}

/// Three authors: posts, a response, a thank-you, a post done, names.
fn community() -> Board {
    let (amel, bruno, chloe) = (writer(1), writer(2), writer(3));
    let mut board = Board::new();
    let (water, _) = board
        .post_new(&amel, [1; 8], &draft("Porter de l'eau"), NOW)
        .unwrap();
    board.set_name(&amel, "Amel", NOW).unwrap();
    board
        .respond(&bruno, water, "Je passe à 18 h", NOW)
        .unwrap();
    board.accept(&amel, water, bruno.author(), NOW).unwrap();
    board.done(&amel, water, NOW + 60).unwrap();
    board
        .thank(&amel, water, bruno.author(), "Merci !", NOW + 60)
        .unwrap();
    board
        .post_new(&bruno, [2; 8], &draft("Visite à Mme Roy"), NOW)
        .unwrap();
    for n in 0..5u8 {
        board
            .post_new(&chloe, [10 + n; 8], &draft(&format!("Course {n}")), NOW)
            .unwrap();
    }
    board
}

/// A feed as a node stores it: its id, saved bytes, signatures and snapshot.
type Stored = (FeedId, Vec<u8>, Vec<entraide_crdt::SignedHeads>, Vec<u8>);

/// Every feed of `board` as a node stores it.
fn stored(board: &Board) -> Vec<Stored> {
    board
        .feeds()
        .map(|f| {
            let saved = f.save();
            let snapshot = f.snapshot(&saved).expect("a settled feed has a snapshot");
            (f.id(), saved, f.signed_heads().to_vec(), snapshot)
        })
        .collect()
}

fn from_snapshots(board: &Board) -> Board {
    let mut read = Board::new();
    for (id, saved, signed, snapshot) in stored(board) {
        read.insert(Feed::load_with_snapshot(id, &saved, signed, Some(&snapshot)).unwrap());
    }
    read
}

fn parsed(board: &Board) -> usize {
    board.feeds().filter(|f| f.is_parsed()).count()
}

#[test]
fn a_board_read_from_snapshots_is_the_same_board_and_parses_nothing() {
    let mut original = community();
    let mut read = from_snapshots(&original);
    assert_eq!(parsed(&read), 0);
    let now = NOW + 120;
    assert_eq!(
        read.view(&everything(), now),
        original.view(&everything(), now)
    );
    assert_eq!(read.digest(), original.digest());
    assert_eq!(read.stats(now), original.stats(now));
    for f in original.feeds() {
        let r = read.feed(&f.id()).unwrap();
        assert_eq!(r.heads(), f.heads());
        assert_eq!(r.change_count(), f.change_count());
        assert_eq!(r.content(), f.content());
        assert_eq!(r.save(), f.save());
    }
    assert_eq!(parsed(&read), 0, "reading the board parsed a document");

    // A session with a peer holding the same heads parses nothing either.
    sync_pair(&mut original, &mut read).unwrap();
    assert_eq!(
        parsed(&read),
        0,
        "a session with nothing to do parsed a document"
    );

    // One new post: only its author's document is parsed, to take it in.
    let chloe = writer(3);
    original
        .post_new(&chloe, [99; 8], &draft("Nouvelle"), NOW + 200)
        .unwrap();
    sync_pair(&mut original, &mut read).unwrap();
    assert_eq!(parsed(&read), 1);
    assert!(
        read.feed(&FeedId::first(chloe.author()))
            .unwrap()
            .is_parsed()
    );
    assert_eq!(read.digest(), original.digest());
    assert_eq!(
        read.view(&everything(), NOW + 300),
        original.view(&everything(), NOW + 300)
    );
}

#[test]
fn a_snapshot_not_made_for_the_stored_bytes_is_ignored() {
    let mut board = community();
    let amel = writer(1);
    let id = FeedId::first(amel.author());
    let old_saved = board.feed(&id).unwrap().save();
    let old_snapshot = board.feed(&id).unwrap().snapshot(&old_saved).unwrap();
    board.set_name(&amel, "Amel B.", NOW + 500).unwrap();
    let feed = board.feed(&id).unwrap();
    let saved = feed.save();
    let signed = feed.signed_heads().to_vec();

    // The older snapshot says "Amel": the document, parsed, says "Amel B.".
    let loaded = Feed::load_with_snapshot(id, &saved, signed.clone(), Some(&old_snapshot)).unwrap();
    assert!(loaded.is_parsed());
    assert_eq!(loaded.content().name.as_deref(), Some("Amel B."));
    assert_eq!(loaded.content(), feed.content());

    // Bytes that are not a snapshot, or a cut one: parsed as well.
    let snapshot = feed.snapshot(&saved).unwrap();
    for bad in [
        b"not a snapshot".to_vec(),
        snapshot[..snapshot.len() / 2].to_vec(),
        Vec::new(),
    ] {
        let loaded = Feed::load_with_snapshot(id, &saved, signed.clone(), Some(&bad)).unwrap();
        assert!(loaded.is_parsed());
        assert_eq!(loaded.content(), feed.content());
    }
    // The right one is taken.
    let loaded = Feed::load_with_snapshot(id, &saved, signed, Some(&snapshot)).unwrap();
    assert!(!loaded.is_parsed());
    assert_eq!(loaded.content(), feed.content());
}

#[test]
fn a_document_let_go_is_parsed_again_to_write_and_nothing_is_lost() {
    let amel = writer(1);
    let mut board = community();
    let id = FeedId::first(amel.author());
    let feed = board.feed_mut(id);
    let saved = feed.save();
    feed.unload(saved.clone());
    assert!(!feed.is_parsed());
    assert_eq!(feed.save(), saved);
    let before = feed.content().clone();

    board
        .post_new(&amel, [7; 8], &draft("Encore une"), NOW + 700)
        .unwrap();
    let feed = board.feed(&id).unwrap();
    assert!(feed.is_parsed());
    assert_eq!(feed.content().posts.len(), before.posts.len() + 1);
    for (post, stored) in &before.posts {
        assert_eq!(feed.content().posts.get(post), Some(stored));
    }
    // And what it stores reads back whole.
    let again = Feed::load(id, &feed.save(), feed.signed_heads().to_vec()).unwrap();
    assert_eq!(again.content(), feed.content());
}

#[test]
fn a_feed_with_changes_waiting_has_no_snapshot() {
    let amel = writer(1);
    let mut source = Board::new();
    let first = source.post_new(&amel, [1; 8], &draft("Un"), NOW).unwrap().1;
    let second = source
        .post_new(&amel, [2; 8], &draft("Deux"), NOW)
        .unwrap()
        .1;
    let mut board = Board::new();
    // The second change alone waits for the first.
    board
        .receive(
            second.feed,
            &second.change,
            std::slice::from_ref(&second.signed),
        )
        .unwrap();
    let feed = board.feed(&second.feed).unwrap();
    assert_eq!(feed.pending_count(), 1);
    assert_eq!(feed.snapshot(&feed.save()), None);
    board
        .receive(
            first.feed,
            &first.change,
            std::slice::from_ref(&first.signed),
        )
        .unwrap();
    let feed = board.feed(&second.feed).unwrap();
    assert_eq!(feed.pending_count(), 0);
    assert!(feed.snapshot(&feed.save()).is_some());
}

#[test]
fn documents_read_for_a_newcomer_or_stored_are_let_go_unless_changed() {
    let original = community();
    let mut read = from_snapshots(&original);
    let mut newcomer = Board::new();
    sync_pair(&mut read, &mut newcomer).unwrap();
    assert_eq!(newcomer.digest(), original.digest());
    // Every document was sent, so parsed (on every core) to be read.
    assert_eq!(parsed(&read), read.len());

    // Chloé writes a post, which reaches `read`.
    let chloe = writer(3);
    let mut chloes = original;
    chloes
        .post_new(&chloe, [77; 8], &draft("Changée"), NOW + 900)
        .unwrap();
    sync_pair(&mut chloes, &mut read).unwrap();
    // Read-only documents go; Chloé's, changed, stays until it is saved and let go.
    let let_go = read.let_go_unchanged(&[]);
    assert_eq!(let_go, read.len() - 1);
    assert_eq!(parsed(&read), 1);
    let chloes_feed = FeedId::first(chloe.author());
    assert!(read.feed(&chloes_feed).unwrap().is_parsed());
    // Once stored, it goes too, unless it changed since.
    let saved = read.feed(&chloes_feed).unwrap().save();
    read.feed_mut(chloes_feed).keep_saved(saved);
    chloes
        .post_new(&chloe, [78; 8], &draft("Encore"), NOW + 950)
        .unwrap();
    sync_pair(&mut chloes, &mut read).unwrap();
    assert_eq!(read.let_go_unchanged(&[]), 0);
    let saved = read.feed(&chloes_feed).unwrap().save();
    read.feed_mut(chloes_feed).keep_saved(saved);
    assert_eq!(read.let_go_unchanged(&[]), 1);
    assert_eq!(parsed(&read), 0);
    // The node's own authors are never let go.
    let mut again = from_snapshots(&chloes);
    sync_pair(&mut again, &mut Board::new()).unwrap();
    assert_eq!(
        again.let_go_unchanged(&[writer(1).author()]),
        again.len() - 1
    );
    assert_eq!(read.digest(), chloes.digest());
    assert_eq!(
        read.view(&everything(), NOW + 1000),
        chloes.view(&everything(), NOW + 1000)
    );
}

/// The snapshot format must change with what a snapshot holds: a snapshot written by an
/// older node is read as the content it was, with no check of how that content was read.
/// When this fails, `FeedContent` (or a type in it) was serialized differently: change
/// `FORMAT` in `crdt/src/snapshot.rs`, then this digest.
#[test]
fn the_snapshot_format_changes_with_the_content_it_holds() {
    use sha2::{Digest, Sha256};
    let board = community();
    let mut bytes = Vec::new();
    for feed in board.feeds() {
        ciborium::into_writer(feed.content(), &mut bytes).unwrap();
    }
    let digest = hex::encode(Sha256::digest(&bytes));
    assert_eq!(
        digest, "74feb197b351f20e24c616b53ce9ff1d30e22cedcf0c475a52e0e3b41549bb98",
        "the content of a feed is written differently: change the snapshot FORMAT"
    );
}

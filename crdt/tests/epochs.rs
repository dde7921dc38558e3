//! Feed epochs (issue 16): an author compacts their feed into a new epoch holding only what
//! is live; other boards adopt it once complete and drop the old one; a board that was away
//! converges; a forged epoch, an excluded author's and a removed device's are refused.

mod common;

use common::{NOW, draft, sync_pair, writer};
use entraide_crdt::epoch::{RETENTION_SECS, WITHDRAWN_RETENTION_SECS};
use entraide_crdt::{
    AuthorKey, Board, DeviceId, FeedId, Filter, LocalChange, SignedHeads, ValidationFailure, Writer,
};

const DAY: i64 = 24 * 3600;

fn deliver(
    board: &mut Board,
    change: &LocalChange,
) -> Result<entraide_crdt::Applied, ValidationFailure> {
    board.receive(
        change.feed,
        &change.change,
        std::slice::from_ref(&change.signed),
    )
}

fn titles(board: &Board, now: i64) -> Vec<String> {
    let filter = Filter {
        include_closed: true,
        ..Filter::default()
    };
    let mut t: Vec<String> = board
        .view(&filter, now)
        .into_iter()
        .map(|p| p.title)
        .collect();
    t.sort();
    t
}

fn epochs(board: &Board, w: &Writer) -> Vec<u32> {
    board
        .feeds()
        .filter(|f| f.id().author == w.author())
        .map(|f| f.id().epoch)
        .collect()
}

/// Amel posts three things: one done long ago, one withdrawn, one still open; Bruno
/// responded to the done one. Returns every change, in order, by whom.
fn history(amel: &Writer, bruno: &Writer, board: &mut Board) -> Vec<LocalChange> {
    let mut out = Vec::new();
    let (done, c) = board.post_new(amel, [1; 8], &draft("Fait"), NOW).unwrap();
    out.push(c);
    out.push(board.respond(bruno, done, "Je viens", NOW).unwrap());
    out.push(board.done(amel, done, NOW + DAY).unwrap());
    let (gone, c) = board
        .post_new(amel, [2; 8], &draft("Retirée"), NOW)
        .unwrap();
    out.push(c);
    out.push(board.withdraw(amel, gone, NOW + DAY).unwrap());
    // Open, expiring in two days: it stays until a month after that.
    let mut open = draft("Encore ouverte");
    open.expires_at = Some(NOW + 2 * DAY);
    let (_, c) = board.post_new(amel, [3; 8], &open, NOW).unwrap();
    out.push(c);
    out.push(board.set_name(amel, "Amel", NOW).unwrap());
    out
}

#[test]
fn what_is_closed_long_enough_leaves_and_every_board_adopts_the_new_epoch() {
    let (amel, bruno) = (writer(1), writer(2));
    let mut a = Board::new();
    let mut b = Board::new();
    let changes = history(&amel, &bruno, &mut a);
    for c in &changes {
        deliver(&mut b, c).unwrap();
    }
    // Two days on, only the withdrawn post's time is up.
    let soon = NOW + DAY + WITHDRAWN_RETENTION_SECS + 1;
    let expired = a.expired_entries(&amel.author(), soon);
    assert_eq!(expired.len(), 1, "{expired:?}");
    // A month after it was done, the done post goes too; the open one stays.
    let later = NOW + DAY + RETENTION_SECS + 1;
    let compaction = a.compact(&amel, later).unwrap().expect("something to drop");
    assert_eq!(compaction.dropped, 2);
    assert_eq!(
        compaction.to,
        FeedId {
            author: amel.author(),
            epoch: 1
        }
    );
    assert_eq!(
        epochs(&a, &amel),
        [1],
        "the author's own board drops epoch 0"
    );
    assert_eq!(titles(&a, later), ["Encore ouverte"]);
    assert_eq!(a.name_of(&amel.author()).as_deref(), Some("Amel"));

    // Bruno's board adopts it once the last change arrives, and drops epoch 0.
    for c in &compaction.changes {
        deliver(&mut b, c).unwrap();
    }
    assert_eq!(epochs(&b, &amel), [1]);
    assert_eq!(b.take_dropped_epochs(), [FeedId::first(amel.author())]);
    assert_eq!(titles(&b, later), ["Encore ouverte"]);
    // Bruno's response to the dropped post now goes at his own compaction.
    assert_eq!(b.expired_entries(&bruno.author(), later).len(), 1);
    let theirs = b
        .compact(&bruno, later)
        .unwrap()
        .expect("the response goes");
    for c in &theirs.changes {
        deliver(&mut a, c).unwrap();
    }
    assert_eq!(a.digest(), b.digest());

    // The old epoch, offered again by a node that kept it, is refused without blame.
    let refused = deliver(&mut b, &changes[0]).unwrap_err();
    assert!(
        matches!(refused, ValidationFailure::Superseded { .. }),
        "{refused}"
    );
    assert!(!refused.blames_sender());
    // Nothing to drop: nothing written.
    assert!(a.compact(&amel, later).unwrap().is_none());
    // The open post's time comes, but within a day of the last compaction nothing is
    // written; a day after, it is.
    let (open, _) = a
        .post_new(&amel, [9; 8], &draft("Vite retirée"), later)
        .unwrap();
    a.withdraw(&amel, open, later).unwrap();
    let next = later + WITHDRAWN_RETENTION_SECS;
    assert!(!a.expired_entries(&amel.author(), next).is_empty());
    assert!(a.compact(&amel, next - 1).unwrap().is_none());
    let again = a.compact(&amel, later + DAY).unwrap().expect("a day later");
    assert_eq!(again.to.epoch, 2);
}

#[test]
fn the_old_epoch_stays_until_the_new_one_is_complete() {
    let amel = writer(1);
    let mut a = Board::new();
    let mut b = Board::new();
    // Enough live posts with long details that the copy takes several changes.
    for n in 0..40u8 {
        let mut d = draft(&format!("Annonce {n}"));
        d.details = "x".repeat(900);
        let (_, c) = a.post_new(&amel, [n; 8], &d, NOW).unwrap();
        deliver(&mut b, &c).unwrap();
    }
    let (old, c) = a.post_new(&amel, [99; 8], &draft("Vieille"), NOW).unwrap();
    deliver(&mut b, &c).unwrap();
    deliver(&mut b, &a.done(&amel, old, NOW).unwrap()).unwrap();
    let later = NOW + RETENTION_SECS + 3600;
    let compaction = a.compact(&amel, later).unwrap().unwrap();
    assert!(compaction.changes.len() > 1, "{}", compaction.changes.len());
    let (last, first) = compaction.changes.split_last().unwrap();
    for c in first {
        deliver(&mut b, c).unwrap();
    }
    assert_eq!(
        epochs(&b, &amel),
        [0, 1],
        "epoch 0 stays while epoch 1 is partial"
    );
    assert_eq!(
        titles(&b, later).len(),
        41,
        "the board still shows epoch 0's posts"
    );
    deliver(&mut b, last).unwrap();
    assert_eq!(epochs(&b, &amel), [1]);
    assert_eq!(titles(&b, later).len(), 40);
}

#[test]
fn a_board_that_was_away_converges_and_never_gets_the_old_epoch_back() {
    let (amel, bruno) = (writer(1), writer(2));
    let mut a = Board::new();
    let mut away = Board::new();
    let mut b = Board::new();
    for c in history(&amel, &bruno, &mut a) {
        deliver(&mut away, &c).unwrap();
        deliver(&mut b, &c).unwrap();
    }
    let later = NOW + 31 * DAY;
    for c in a.compact(&amel, later).unwrap().unwrap().changes {
        deliver(&mut b, &c).unwrap();
    }
    // The board that was away syncs with one that adopted: both end on epoch 1 alone.
    sync_pair(&mut away, &mut b).unwrap();
    assert_eq!(epochs(&away, &amel), [1]);
    assert_eq!(epochs(&b, &amel), [1]);
    assert_eq!(away.digest(), b.digest());
    assert_eq!(titles(&away, later), titles(&a, later));
}

#[test]
fn an_epoch_signed_by_anyone_but_its_author_is_refused() {
    let (amel, bruno) = (writer(1), writer(2));
    let mut a = Board::new();
    let mut b = Board::new();
    for c in history(&amel, &bruno, &mut a) {
        deliver(&mut b, &c).unwrap();
    }
    let compaction = a.compact(&amel, NOW + 40 * DAY).unwrap().unwrap();
    let mallory = AuthorKey::from_seed([66; 32]);
    let change = &compaction.changes[0];
    let heads: Vec<_> = change.signed.change_hashes().collect();
    let forged = SignedHeads::sign(&mallory, 1, &heads);
    let e = b
        .receive(change.feed, &change.change, &[forged])
        .unwrap_err();
    assert!(e.blames_sender(), "{e}");
    // Signed for epoch 0, sent as epoch 1: the signature binds the epoch.
    let wrong_epoch = SignedHeads::sign(amel.key(), 0, &heads);
    assert!(
        b.receive(change.feed, &change.change, &[wrong_epoch])
            .is_err()
    );
    assert_eq!(epochs(&b, &amel), [0]);
}

#[test]
fn an_excluded_authors_or_a_removed_devices_new_epoch_is_refused() {
    let (founder, amel, bruno) = (writer(7), writer(1), writer(2));
    // Excluded: the steward's board holds epoch 0 and the exclusion.
    let mut a = Board::new();
    let mut s = Board::new();
    s.set_founder(Some(founder.author()));
    for c in history(&amel, &bruno, &mut a) {
        deliver(&mut s, &c).unwrap();
    }
    let compaction = a.compact(&amel, NOW + 40 * DAY).unwrap().unwrap();
    s.exclude(&founder, amel.author(), "menaces", NOW + 2 * DAY)
        .unwrap();
    let e = deliver(&mut s, &compaction.changes[0]).unwrap_err();
    assert!(matches!(e, ValidationFailure::EpochRefused { .. }), "{e}");

    // A removed device: Amel's phone is removed; the phone, not knowing, compacts.
    let phone = Writer::new(amel.key().clone(), DeviceId([5; 8]));
    let mut home = Board::new();
    let mut phone_board = Board::new();
    let (post, c) = home.post_new(&amel, [1; 8], &draft("Fait"), NOW).unwrap();
    deliver(&mut phone_board, &c).unwrap();
    let c = home
        .add_device(&amel, phone.device().installation(), "phone", None, NOW)
        .unwrap();
    deliver(&mut phone_board, &c).unwrap();
    let c = home.done(&amel, post, NOW).unwrap();
    deliver(&mut phone_board, &c).unwrap();
    home.remove_device(&amel, phone.device().installation(), NOW + DAY)
        .unwrap();
    let stolen = phone_board
        .compact(&phone, NOW + 40 * DAY)
        .unwrap()
        .unwrap();
    let e = deliver(&mut home, &stolen.changes[0]).unwrap_err();
    assert!(matches!(e, ValidationFailure::EpochRefused { .. }), "{e}");
    assert_eq!(epochs(&home, &amel), [0]);
}

#[test]
fn what_another_device_wrote_into_the_old_epoch_is_carried_into_the_new_one() {
    let (laptop, bruno) = (writer(1), writer(2));
    // Amel's phone: the same author, another installation.
    let phone = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([9; 8]));
    let mut a = Board::new();
    let mut p = Board::new();
    for c in &history(&laptop, &bruno, &mut a) {
        deliver(&mut p, c).unwrap();
    }
    let later = NOW + DAY + RETENTION_SECS + 1;
    // Away from home, the phone writes into epoch 0: a new post, and the open one done.
    let every = Filter {
        include_closed: true,
        ..Filter::default()
    };
    let open = p
        .view(&every, later)
        .into_iter()
        .find(|v| v.title == "Encore ouverte")
        .expect("the open post")
        .id;
    p.post_new(&phone, [7; 8], &draft("Écrit sur le téléphone"), later)
        .unwrap();
    p.done(&phone, open, later).unwrap();
    // And it thanks Bruno on the post done a month ago, which the compaction leaves out.
    let done = p
        .view(&every, later)
        .into_iter()
        .find(|v| v.title == "Fait")
        .expect("the done post")
        .id;
    p.thank(&phone, done, bruno.author(), "Merci encore", later)
        .unwrap();
    // Meanwhile the laptop compacts epoch 0 as it stood before those.
    let compaction = a
        .compact(&laptop, later)
        .unwrap()
        .expect("something to drop");
    // Nothing the laptop wrote itself is left to carry.
    let mut own = Board::new();
    for c in &history(&laptop, &bruno, &mut Board::new()) {
        deliver(&mut own, c).unwrap();
    }
    let own_old = keep(&own, FeedId::first(laptop.author()));
    for c in &compaction.changes {
        deliver(&mut own, c).unwrap();
    }
    assert_eq!(own.carry_over(&own_old, &laptop, later).unwrap(), None);

    // The phone hears of epoch 1 and adopts it: alone, that would lose what it wrote.
    let old = keep(&p, FeedId::first(laptop.author()));
    for c in &compaction.changes {
        deliver(&mut p, c).unwrap();
    }
    assert_eq!(epochs(&p, &laptop), [1]);
    assert_eq!(titles(&p, later), ["Encore ouverte"]);
    // Carried over, it is back, and the open post is done; what the compaction left out
    // ("Fait", "Retirée") stays out.
    let carried = p
        .carry_over(&old, &phone, later)
        .unwrap()
        .expect("something to carry");
    assert_eq!(carried.feed.epoch, 1);
    assert_eq!(
        titles(&p, later),
        ["Encore ouverte", "Écrit sur le téléphone"]
    );
    let status = |b: &Board| {
        b.post(open, later)
            .map(|v| v.status)
            .expect("the open post")
    };
    assert_eq!(status(&p), entraide_crdt::Status::Done);
    // The laptop takes the carried change like any change of epoch 1.
    deliver(&mut a, &carried).unwrap();
    assert_eq!(
        titles(&a, later),
        ["Encore ouverte", "Écrit sur le téléphone"]
    );
    assert_eq!(status(&a), entraide_crdt::Status::Done);
    // Another author's writer carries nothing of Amel's.
    assert_eq!(p.carry_over(&old, &bruno, later).unwrap(), None);
}

/// A copy of a feed of `board`, as a node reads it back from its store before removing it.
fn keep(board: &Board, id: FeedId) -> entraide_crdt::Feed {
    let feed = board.feed(&id).expect("the feed");
    entraide_crdt::Feed::load(id, &feed.save(), feed.signed_heads().to_vec()).unwrap()
}

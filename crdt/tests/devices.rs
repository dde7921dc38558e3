//! One resident, two devices (issue 13): both write into one feed without conflict, and a
//! removed device's changes made after its removal are refused by every honest board,
//! whether they arrive after the removal or were accepted before it.

mod common;

use common::{NOW, draft};
use entraide_crdt::{AuthorKey, Board, DeviceId, FeedId, Installation, LocalChange, Writer};

const LAPTOP: Installation = Installation([1, 1, 1, 1]);
const PHONE: Installation = Installation([2, 2, 2, 2]);

fn device(key: &AuthorKey, installation: Installation, session: u8) -> Writer {
    Writer::new(key.clone(), DeviceId::new(installation, [session; 4]))
}

/// Amel's key (from `seed`), her laptop's writer and her phone's.
fn laptop_and_phone(seed: u8) -> (AuthorKey, Writer, Writer) {
    let amel = AuthorKey::from_seed([seed; 32]);
    let laptop = device(&amel, LAPTOP, 1);
    let phone = device(&amel, PHONE, 1);
    (amel, laptop, phone)
}

fn deliver(board: &mut Board, change: &LocalChange) -> entraide_crdt::Applied {
    board
        .receive(
            change.feed,
            &change.change,
            std::slice::from_ref(&change.signed),
        )
        .expect("valid change")
}

fn titles(board: &Board, key: &AuthorKey) -> Vec<String> {
    let mut out: Vec<String> = board
        .feed(&FeedId::first(key.id()))
        .map(|f| {
            f.content()
                .posts
                .values()
                .map(|p| p.title.clone())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn two_devices_write_one_feed_and_a_removed_device_is_refused_after_its_removal() {
    let (amel, laptop, phone) = laptop_and_phone(5);
    let (mut on_laptop, mut on_phone, mut neighbour) = (Board::new(), Board::new(), Board::new());

    // The laptop lists both devices; the phone gets the list.
    let mut laptop_changes = vec![
        on_laptop
            .add_device(&laptop, LAPTOP, "portable", None, NOW)
            .unwrap(),
        on_laptop
            .add_device(&laptop, PHONE, "téléphone", None, NOW)
            .unwrap(),
    ];
    for c in &laptop_changes {
        deliver(&mut on_phone, c);
    }
    // Both write at once, each without the other's post: no equivocation, no conflict.
    let (_, a) = on_laptop
        .post_new(&laptop, [1; 8], &draft("Eau"), NOW)
        .unwrap();
    let (_, b) = on_phone
        .post_new(&phone, [2; 8], &draft("Pain"), NOW)
        .unwrap();
    laptop_changes.push(a.clone());
    deliver(&mut on_phone, &a);
    deliver(&mut on_laptop, &b);
    for c in laptop_changes.iter().chain([&b]) {
        deliver(&mut neighbour, c);
    }
    assert_eq!(titles(&neighbour, &amel), ["Eau", "Pain"]);
    assert_eq!(titles(&on_phone, &amel), titles(&on_laptop, &amel));
    // A peer id given at pairing names the author; junk is not kept.
    const PEER: &str = "12D3KooWB5N6pukXbgHjKbDLMyQAcgj36fSnTRnvAZtTthqjt5gV";
    let named = on_laptop
        .add_device(&laptop, PHONE, "téléphone", Some(PEER), NOW)
        .unwrap();
    deliver(&mut neighbour, &named);
    assert_eq!(neighbour.device_peers().get(PEER), Some(&amel.id()));
    let junk = on_laptop
        .add_device(&laptop, LAPTOP, "portable du salon", Some("<script>"), NOW)
        .unwrap();
    deliver(&mut neighbour, &junk);
    assert_eq!(neighbour.device_peers().get("<script>"), None);
    let listed = &neighbour
        .feed(&FeedId::first(amel.id()))
        .unwrap()
        .content()
        .devices;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[&PHONE].name, "téléphone");

    // The phone is lost. Offline, it keeps writing; its first later post reaches the
    // neighbour before the removal does.
    let (_, early) = on_phone
        .post_new(&phone, [3; 8], &draft("Avant"), NOW)
        .unwrap();
    let (_, late) = on_phone
        .post_new(&phone, [4; 8], &draft("Après"), NOW)
        .unwrap();
    deliver(&mut neighbour, &early);
    assert_eq!(titles(&neighbour, &amel), ["Avant", "Eau", "Pain"]);

    // The laptop, which held only "Pain" of the phone, removes it.
    assert!(
        on_laptop.remove_device(&laptop, LAPTOP, NOW).is_err(),
        "not itself"
    );
    let removal = on_laptop.remove_device(&laptop, PHONE, NOW).unwrap();
    let removed = on_laptop
        .feed(&FeedId::first(amel.id()))
        .unwrap()
        .content()
        .devices[&PHONE]
        .removed
        .clone()
        .expect("removed");
    assert_eq!(removed.known.len(), 1, "{removed:?}");

    // The neighbour drops what it had accepted from the phone after that point...
    let applied = deliver(&mut neighbour, &removal);
    assert_eq!(applied.refused, 1, "{applied:?}");
    assert_eq!(titles(&neighbour, &amel), ["Eau", "Pain"]);
    // ...and refuses what comes later, without refusing the rest of the batch.
    let applied = deliver(&mut neighbour, &late);
    assert_eq!((applied.applied, applied.refused), (0, 1), "{applied:?}");
    let applied = neighbour
        .receive(
            early.feed,
            &early.change,
            std::slice::from_ref(&early.signed),
        )
        .unwrap();
    assert_eq!(applied.refused, 1);
    // A new run of the phone (a fresh session half) is after the removal too.
    let rerun = device(&amel, PHONE, 2);
    let mut stale = Board::new();
    for c in &laptop_changes {
        deliver(&mut stale, c);
    }
    let (_, again) = stale
        .post_new(&rerun, [5; 8], &draft("Encore"), NOW)
        .unwrap();
    let applied = deliver(&mut neighbour, &again);
    assert_eq!(applied.refused, 1);
    assert_eq!(titles(&neighbour, &amel), ["Eau", "Pain"]);

    // The laptop keeps writing; the neighbour takes it.
    let (_, more) = on_laptop
        .post_new(&laptop, [6; 8], &draft("Lait"), NOW)
        .unwrap();
    deliver(&mut neighbour, &more);
    assert_eq!(titles(&neighbour, &amel), ["Eau", "Lait", "Pain"]);
    // A removed device cannot be listed again, and the board says why.
    let err = on_laptop
        .add_device(&laptop, PHONE, "retrouvé", None, NOW)
        .unwrap_err();
    assert!(err.to_string().contains("removed"), "{err}");
}

#[test]
fn a_board_that_saved_the_removed_devices_change_reloads_without_it() {
    let (amel, laptop, phone) = laptop_and_phone(6);
    let (mut on_laptop, mut on_phone, mut neighbour) = (Board::new(), Board::new(), Board::new());
    let listed = on_laptop
        .add_device(&laptop, PHONE, "téléphone", None, NOW)
        .unwrap();
    deliver(&mut on_phone, &listed);
    deliver(&mut neighbour, &listed);
    let (_, late) = on_phone
        .post_new(&phone, [1; 8], &draft("Après"), NOW)
        .unwrap();
    // The neighbour holds the phone's later change when the removal comes: it goes, and
    // the feed saved after it reloads without it.
    deliver(&mut neighbour, &late);
    let removal = on_laptop.remove_device(&laptop, PHONE, NOW).unwrap();
    let applied = deliver(&mut neighbour, &removal);
    assert_eq!(applied.refused, 1);
    let feed = neighbour.feed(&FeedId::first(amel.id())).unwrap();
    assert!(feed.content().posts.is_empty());
    let reloaded =
        entraide_crdt::Feed::load(feed.id(), &feed.save(), feed.signed_heads().to_vec()).unwrap();
    assert!(reloaded.content().posts.is_empty());
    assert!(reloaded.content().devices[&PHONE].removed.is_some());
}

#[test]
fn sessions_keep_converging_after_a_removal_drops_changes_they_had_carried() {
    use common::sync_with;
    use entraide_crdt::Session;
    let (amel, laptop, phone) = laptop_and_phone(7);
    let (mut on_laptop, mut on_phone, mut neighbour) = (Board::new(), Board::new(), Board::new());
    let listed = on_laptop
        .add_device(&laptop, PHONE, "téléphone", None, NOW)
        .unwrap();
    deliver(&mut on_phone, &listed);
    on_phone
        .post_new(&phone, [1; 8], &draft("Pain"), NOW)
        .unwrap();
    // One session each way, kept across rounds (as a node keeps its sync states).
    let (mut n_p, mut p_n) = (Session::new(), Session::new());
    let (mut n_l, mut l_n) = (Session::new(), Session::new());
    sync_with(&mut neighbour, &mut n_p, &mut on_phone, &mut p_n).unwrap();
    sync_with(&mut neighbour, &mut n_l, &mut on_laptop, &mut l_n).unwrap();
    assert_eq!(titles(&on_laptop, &amel), ["Pain"]);
    // The phone writes again; only the neighbour gets it before the removal.
    on_phone
        .post_new(&phone, [2; 8], &draft("Après"), NOW)
        .unwrap();
    sync_with(&mut neighbour, &mut n_p, &mut on_phone, &mut p_n).unwrap();
    assert_eq!(titles(&neighbour, &amel), ["Après", "Pain"]);
    on_laptop.remove_device(&laptop, PHONE, NOW).unwrap();
    // The laptop's session with the neighbour carries the removal; the neighbour drops
    // "Après"; further rounds with both settle, and "Après" never comes back.
    for _ in 0..3 {
        sync_with(&mut neighbour, &mut n_l, &mut on_laptop, &mut l_n).unwrap();
        sync_with(&mut neighbour, &mut n_p, &mut on_phone, &mut p_n).unwrap();
    }
    assert_eq!(titles(&neighbour, &amel), ["Pain"]);
    assert_eq!(titles(&on_laptop, &amel), ["Pain"]);
    assert_eq!(
        titles(&on_phone, &amel),
        ["Pain"],
        "the phone drops its own later post"
    );
    assert_eq!(neighbour.digest(), on_laptop.digest());
    // A later post of the laptop still travels through the neighbour.
    let (_, more) = on_laptop
        .post_new(&laptop, [3; 8], &draft("Lait"), NOW)
        .unwrap();
    drop(more);
    sync_with(&mut neighbour, &mut n_l, &mut on_laptop, &mut l_n).unwrap();
    sync_with(&mut neighbour, &mut n_p, &mut on_phone, &mut p_n).unwrap();
    assert_eq!(titles(&on_phone, &amel), ["Lait", "Pain"]);
}

#[test]
fn a_removed_device_cannot_write_and_what_is_built_on_its_refused_changes_is_refused_later_too() {
    let (amel, laptop, phone) = laptop_and_phone(8);
    let (mut on_laptop, mut on_phone, mut neighbour) = (Board::new(), Board::new(), Board::new());
    let listed = on_laptop
        .add_device(&laptop, PHONE, "téléphone", None, NOW)
        .unwrap();
    deliver(&mut on_phone, &listed);
    deliver(&mut neighbour, &listed);
    let removal = on_laptop.remove_device(&laptop, PHONE, NOW).unwrap();
    deliver(&mut neighbour, &removal);
    // Offline, the phone writes twice, each change built on the one before.
    let (_, first) = on_phone
        .post_new(&phone, [1; 8], &draft("Un"), NOW)
        .unwrap();
    let (_, second) = on_phone
        .post_new(&phone, [2; 8], &draft("Deux"), NOW)
        .unwrap();
    // They reach the neighbour in two batches: the second is refused as built on the
    // first, not left waiting for it for ever.
    assert_eq!(deliver(&mut neighbour, &first).refused, 1);
    let applied = deliver(&mut neighbour, &second);
    assert_eq!((applied.refused, applied.pending), (1, 0), "{applied:?}");
    // Once the phone hears of its removal, it drops its own later posts and refuses to
    // write again, saying why.
    deliver(&mut on_phone, &removal);
    assert!(titles(&on_phone, &amel).is_empty());
    let err = on_phone
        .post_new(&phone, [3; 8], &draft("Trois"), NOW)
        .unwrap_err();
    assert!(err.to_string().contains("this device was removed"), "{err}");
}

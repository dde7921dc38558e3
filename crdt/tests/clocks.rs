//! Dates from other people's clocks (issue 10, point 8): what the view lets a wrong or
//! lying clock do. Every test drives "now"; nothing sleeps.

mod common;

use common::*;
use entraide_crdt::automerge::ScalarValue;
use entraide_crdt::limits::MAX_CLOCK_AHEAD_SECS;
use entraide_crdt::{
    AuthorKey, Board, FeedId, Filter, PostId, Status, TextError, Urgency, WriteError,
};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

fn everything() -> Filter {
    Filter {
        include_closed: true,
        ..Filter::default()
    }
}

/// Writes an open post with these raw fields into `key`'s feed (a modified client: no
/// write check) and delivers it; returns its id.
fn raw_post(
    board: &mut Board,
    key: &AuthorKey,
    urgency: &str,
    created: i64,
    expires: i64,
) -> PostId {
    let mut raw = RawFeed::new(actor(key, 1));
    let fields = post_fields("Hostile", urgency, created, expires);
    let change = raw.put_map("post:0101010101010101", &fields, &[]);
    board
        .receive(FeedId::first(key.id()), &change, &[raw.signed_by(key)])
        .unwrap();
    PostId::derive(&key.id(), &[1; 8])
}

fn urgent(title: &str) -> entraide_crdt::PostDraft {
    let mut d = draft(title);
    d.urgency = Urgency::Urgent;
    d
}

#[test]
fn a_post_from_a_clock_ten_years_ahead_is_held_back_and_never_sorts_first() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    // Karim's real client, on a machine whose clock is ten years ahead.
    let (ahead, _) = board
        .post_new(&karim, [1; 8], &urgent("From the future"), NOW + 10 * YEAR)
        .unwrap();
    let (honest, _) = board
        .post_new(&marie, [2; 8], &draft("Water"), NOW)
        .unwrap();

    let ids: Vec<PostId> = board
        .view(&everything(), NOW)
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec![honest], "held back, even with closed posts shown");
    assert_eq!(board.post(ahead, NOW), None);
    let stats = board.stats(NOW);
    assert_eq!((stats.posts, stats.live_posts, stats.held_back), (2, 1, 1));
    let page = board.page(&Filter::default(), NOW, 0, 50);
    assert_eq!(page.held_back, 1);
    assert_eq!(page.total, 1);
    // Nobody can answer it while it is held back.
    assert!(matches!(
        board.respond(&marie, ahead, "", NOW),
        Err(WriteError::UnknownPost(_))
    ));
    // Its author can still take it back.
    board.withdraw(&karim, ahead, NOW).unwrap();

    // It shows once its date is at most two days ahead, and not before.
    let (again, _) = board
        .post_new(&karim, [3; 8], &urgent("Again"), NOW + 10 * YEAR)
        .unwrap();
    let threshold = NOW + 10 * YEAR - MAX_CLOCK_AHEAD_SECS;
    assert_eq!(board.post(again, threshold - 1), None);
    let shown = board.post(again, threshold).unwrap();
    assert_eq!(
        shown.created_at, threshold,
        "shown as posted now, not in ten years"
    );
}

#[test]
fn a_post_from_a_clock_a_day_ahead_shows_as_just_now_and_expires_on_its_urgency() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    let (ahead, _) = board
        .post_new(&karim, [1; 8], &urgent("Ahead"), NOW + DAY)
        .unwrap();
    let (honest, _) = board
        .post_new(&marie, [2; 8], &urgent("Honest"), NOW - 60)
        .unwrap();

    let view = board.view(&Filter::default(), NOW);
    assert_eq!(view.len(), 2);
    assert_eq!(view[0].id, ahead);
    assert_eq!(view[0].created_at, NOW, "never later than now");
    assert!(view.iter().all(|p| p.created_at <= NOW));
    // Its lifetime counts from the date it carries: 12 hours for an urgent post.
    assert_eq!(
        view[0].expires_at,
        NOW + DAY + Urgency::Urgent.default_lifetime()
    );
    let gone = NOW + DAY + Urgency::Urgent.default_lifetime();
    assert_eq!(board.post(ahead, gone - 1).unwrap().status, Status::Open);
    assert_eq!(board.post(ahead, gone).unwrap().status, Status::Expired);
    // Once its date has come, it sorts by it like any post.
    let later = NOW + DAY + HOUR;
    let (newer, _) = board
        .post_new(&marie, [3; 8], &urgent("Newer"), later - 60)
        .unwrap();
    let ids: Vec<PostId> = board
        .view(&Filter::default(), later)
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec![newer, ahead], "{honest} expired after 12 hours");
}

#[test]
fn an_explicit_expiry_beyond_the_urgency_is_refused_on_write_and_cut_on_read() {
    let marie = writer(1);
    let mut board = Board::new();
    let mut d = urgent("For three months");
    d.expires_at = Some(NOW + 90 * DAY);
    assert_eq!(
        board.post_new(&marie, [1; 8], &d, NOW),
        Err(WriteError::Text(TextError::Expiry { max_days: 1 }))
    );

    // A modified client writes it anyway: an urgent post expiring in 90 days.
    let mallory = AuthorKey::from_seed([66; 32]);
    let id = raw_post(&mut board, &mallory, "urgent", NOW, NOW + 90 * DAY);
    let shown = board.post(id, NOW).unwrap();
    assert_eq!(shown.expires_at, NOW + Urgency::Urgent.max_lifetime());
    assert_eq!(board.post(id, NOW + DAY - 1).unwrap().status, Status::Open);
    assert_eq!(board.post(id, NOW + DAY).unwrap().status, Status::Expired);
    assert!(board.view(&Filter::default(), NOW + DAY).is_empty());
}

#[test]
fn a_post_dated_long_ago_with_an_expiry_far_ahead_is_expired() {
    let mallory = AuthorKey::from_seed([66; 32]);
    let mut board = Board::new();
    let id = raw_post(
        &mut board,
        &mallory,
        "whenever",
        NOW - 10 * YEAR,
        NOW + 10 * YEAR,
    );
    let shown = board.post(id, NOW).unwrap();
    assert_eq!(shown.status, Status::Expired);
    assert_eq!(
        shown.expires_at,
        NOW - 10 * YEAR + Urgency::Whenever.max_lifetime()
    );
    assert_eq!(board.stats(NOW).live_posts, 0);
}

#[test]
fn a_response_from_a_clock_ahead_is_shown_as_now_and_after_the_others() {
    let (marie, karim, lea) = (writer(1), writer(2), writer(3));
    let mut board = Board::new();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .unwrap();
    board
        .respond(&karim, post, "from ahead", NOW + 20 * HOUR)
        .unwrap();
    board.respond(&lea, post, "on time", NOW + 10).unwrap();
    let view = board.post(post, NOW + 20).unwrap();
    let order: Vec<(&str, i64)> = view
        .responses
        .iter()
        .map(|r| (r.message.as_str(), r.at))
        .collect();
    assert_eq!(order, vec![("on time", NOW + 10), ("from ahead", NOW + 20)]);
}

#[test]
fn the_verdict_on_dates_depends_only_on_the_feeds_and_now() {
    let mallory = AuthorKey::from_seed([66; 32]);
    let (mut a, mut b) = (Board::new(), Board::new());
    for board in [&mut a, &mut b] {
        raw_post(board, &mallory, "today", NOW + 3 * DAY, NOW + 60 * DAY);
    }
    for now in [NOW, NOW + DAY - 1, NOW + DAY, NOW + 3 * DAY, NOW + 5 * DAY] {
        assert_eq!(a.view(&everything(), now), b.view(&everything(), now));
        assert_eq!(a.stats(now), b.stats(now));
    }
    // Held back for a day, shown as posted "now", then leaves two days after its date.
    assert!(a.view(&everything(), NOW + DAY - 1).is_empty());
    let p = &a.view(&everything(), NOW + DAY)[0];
    assert_eq!((p.created_at, p.expires_at), (NOW + DAY, NOW + 5 * DAY));
    assert_eq!(
        a.view(&everything(), NOW + 5 * DAY)[0].status,
        Status::Expired
    );
    // A scalar of another type is not a date: the post is skipped, not shown.
    let mut raw = RawFeed::new(actor(&mallory, 9));
    let mut fields = post_fields("x", "today", NOW, NOW + DAY);
    fields[4].1 = ScalarValue::Str("tomorrow".into());
    let change = raw.put_map("post:0202020202020202", &fields, &[]);
    let mut c = Board::new();
    c.receive(
        FeedId::first(mallory.id()),
        &change,
        &[raw.signed_by(&mallory)],
    )
    .unwrap();
    assert!(c.view(&everything(), NOW).is_empty());
}

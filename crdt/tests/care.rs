//! The care register over real feeds: sealed to the circle, opened only there, and the
//! day of one person under an alert (due, checked, missed, taken, escalated).

mod common;

use common::{NOW, sync_pair, writer};
use entraide_crdt::care::{
    CareContext, CareDraft, CareEntry, CareView, CheckHow, CheckState, ESCALATION_DELAY_SECS,
    Opened, RecordId, care_view, escalation_draft, local_day,
};
use entraide_crdt::{AuthorKey, Board, Filter, Writer};

/// 2025-11-24 00:00 UTC: the day the tests live in (UTC, offset 0).
const MIDNIGHT: i64 = NOW - NOW % 86_400;

fn at(h: i64, m: i64) -> i64 {
    MIDNIGHT + h * 3600 + m * 60
}

fn ctx(now: i64) -> CareContext {
    CareContext {
        now,
        utc_offset: 0,
        alert_active: true,
    }
}

fn opened(board: &Board, key: &AuthorKey) -> Vec<Opened> {
    board
        .sealed_records()
        .filter_map(|(writer, nonce, bytes)| {
            CareEntry::open(key, &writer, &nonce, bytes).map(|entry| Opened {
                writer,
                nonce,
                entry,
            })
        })
        .collect()
}

fn write(board: &mut Board, w: &Writer, entry: &CareEntry, to: &[entraide_crdt::AuthorId], n: u8) {
    let nonce = [n; 8];
    let bytes = entry.seal(&w.author(), &nonce, to, [n; 32]).unwrap();
    board.put_sealed(w, nonce, bytes, NOW).unwrap();
}

struct World {
    b: Writer,
    c: Writer,
    d: Writer,
    board: Board,
    id: RecordId,
}

/// B registers Mme Martin with circle B and C, window 09:00-11:00; D is a member outside.
fn world() -> World {
    let (b, c, d) = (writer(2), writer(3), writer(4));
    let mut board = Board::new();
    for w in [&b, &c, &d] {
        board
            .set_name(w, &format!("member {}", w.author().0[0]), NOW)
            .unwrap();
    }
    let id = RecordId([5; 16]);
    let draft = CareDraft {
        name: "Mme Martin".into(),
        area: "Building B".into(),
        window: "09:00-11:00".parse().unwrap(),
        circle: vec![b.author(), c.author()],
        subject: None,
        consent: "Mme Martin, at her door, 24 Nov, to B".into(),
        notes: "3rd floor, left door; phone 06 12 34 56 78".into(),
        name_public: false,
    };
    let entry = draft.to_entry(id, NOW).unwrap();
    write(&mut board, &b, &entry, &[b.author(), c.author()], 1);
    World { b, c, d, board, id }
}

fn view_of(w: &World, key: &Writer, now: i64) -> Vec<CareView> {
    care_view(&opened(&w.board, key.key()), ctx(now))
}

#[test]
fn the_circle_reads_the_record_and_nobody_else_does() {
    let w = world();
    let for_c = view_of(&w, &w.c, at(8, 0));
    assert_eq!(for_c.len(), 1);
    assert_eq!(for_c[0].name, "Mme Martin");
    assert!(for_c[0].notes.contains("06 12 34 56 78"));
    assert_eq!(view_of(&w, &w.b, at(8, 0)).len(), 1);
    assert!(view_of(&w, &w.d, at(8, 0)).is_empty());
    // Nothing of the name or notes is in the board's public view or its feed bytes.
    for feed in w.board.feeds() {
        let bytes = feed.save();
        assert!(!contains(&bytes, b"Martin"));
        assert!(!contains(&bytes, b"06 12"));
    }
    let public = w.board.view(&Filter::default(), at(8, 0));
    assert!(public.is_empty());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_day_under_an_alert() {
    let mut w = world();
    let day = local_day(at(10, 0), 0);
    let state = |w: &World, now| view_of(w, &w.c, now)[0].state;
    assert_eq!(state(&w, at(8, 0)), CheckState::Upcoming);
    assert_eq!(state(&w, at(9, 30)), CheckState::Due);
    assert_eq!(state(&w, at(11, 5)), CheckState::Missed);
    assert_eq!(
        state(&w, at(11, 0) + ESCALATION_DELAY_SECS),
        CheckState::Escalated
    );
    // Without an alert nothing is due.
    let quiet = CareContext {
        alert_active: false,
        ..ctx(at(12, 0))
    };
    assert_eq!(
        care_view(&opened(&w.board, w.c.key()), quiet)[0].state,
        CheckState::NoAlert
    );
    // C takes it: the others see it is handled, and it does not escalate.
    let take = CareEntry::CareTake {
        record: w.id,
        day: day.clone(),
        at: at(11, 10),
    };
    let (b, c) = (w.b.author(), w.c.author());
    let c_writer = w.c.clone();
    write(&mut w.board, &c_writer, &take, &[b, c], 2);
    let seen_by_b = view_of(&w, &w.b, at(13, 0));
    assert_eq!(seen_by_b[0].state, CheckState::Taken);
    assert_eq!(seen_by_b[0].taken_by.map(|t| t.0), Some(c));
    // C visits: checked, fine.
    let check = CareEntry::CareCheck {
        record: w.id,
        day: day.clone(),
        how: CheckHow::Visit,
        fine: true,
        note: "brought water".into(),
        at: at(11, 40),
    };
    write(&mut w.board, &c_writer, &check, &[b, c], 3);
    let seen_by_b = view_of(&w, &w.b, at(13, 0));
    assert_eq!(seen_by_b[0].state, CheckState::Checked);
    assert_eq!(seen_by_b[0].check.as_ref().unwrap().by, c);
    // The next day starts over.
    assert_eq!(state(&w, at(24 + 8, 0)), CheckState::Upcoming);
}

#[test]
fn not_fine_is_urgent_and_self_checks_come_only_from_the_person() {
    let mut w = world();
    let (b, c) = (w.b.author(), w.c.author());
    let day = local_day(at(10, 0), 0);
    // B claims the person checked in themselves: B is not the person, so it does not count.
    let fake_self = CareEntry::CareCheck {
        record: w.id,
        day: day.clone(),
        how: CheckHow::Myself,
        fine: true,
        note: String::new(),
        at: at(9, 30),
    };
    let b_writer = w.b.clone();
    write(&mut w.board, &b_writer, &fake_self, &[b, c], 2);
    assert_eq!(view_of(&w, &w.c, at(10, 0))[0].state, CheckState::Due);
    let not_fine = CareEntry::CareCheck {
        record: w.id,
        day,
        how: CheckHow::Phone,
        fine: false,
        note: "dizzy, no water left".into(),
        at: at(9, 45),
    };
    write(&mut w.board, &b_writer, &not_fine, &[b, c], 3);
    let v = view_of(&w, &w.c, at(10, 0));
    assert_eq!(v[0].state, CheckState::NotFine);
    assert!(v[0].state.needs_someone());
}

#[test]
fn only_recipients_count_and_a_removal_hides_the_record_for_everyone() {
    let mut w = world();
    let (b, c, d) = (w.b.author(), w.c.author(), w.d.author());
    let day = local_day(at(10, 0), 0);
    // D learnt the record id somehow and writes a check sealed to everyone: ignored.
    let forged = CareEntry::CareCheck {
        record: w.id,
        day,
        how: CheckHow::Visit,
        fine: true,
        note: String::new(),
        at: at(9, 30),
    };
    let d_writer = w.d.clone();
    write(&mut w.board, &d_writer, &forged, &[b, c, d], 2);
    assert_eq!(view_of(&w, &w.c, at(10, 0))[0].state, CheckState::Due);
    let removal = CareEntry::CareRemove {
        record: w.id,
        at: at(10, 0),
    };
    // D's removal is ignored too; C's is not.
    write(&mut w.board, &d_writer, &removal, &[b, c, d], 3);
    assert_eq!(view_of(&w, &w.b, at(10, 0)).len(), 1);
    let c_writer = w.c.clone();
    write(&mut w.board, &c_writer, &removal, &[b, c], 4);
    assert!(view_of(&w, &w.b, at(10, 0)).is_empty());
    assert!(view_of(&w, &w.c, at(10, 0)).is_empty());
}

#[test]
fn one_public_request_per_missed_check_even_when_each_circle_member_raised_one() {
    let w = world();
    let now = at(11, 0) + ESCALATION_DELAY_SECS + 60;
    let for_b = view_of(&w, &w.b, now);
    let for_c = view_of(&w, &w.c, now);
    assert_eq!(for_b[0].escalation_key, for_c[0].escalation_key);
    let draft = escalation_draft(&for_b[0]);
    assert!(!draft.details.contains("Martin"), "the name stays private");
    assert_eq!(draft.area, "Building B");
    // B and C, cut off from each other, each post it on their own board.
    let mut at_b = Board::new();
    let mut at_c = Board::new();
    at_b.post_escalation(&w.b, [1; 8], &draft, for_b[0].escalation_key, now)
        .unwrap();
    at_c.post_escalation(&w.c, [2; 8], &draft, for_c[0].escalation_key, now)
        .unwrap();
    assert_eq!(at_b.view(&Filter::default(), now).len(), 1);
    sync_pair(&mut at_b, &mut at_c).unwrap();
    let mut at_d = Board::new();
    sync_pair(&mut at_b, &mut at_d).unwrap();
    for board in [&at_b, &at_c, &at_d] {
        let shown = board.view(&Filter::default(), now);
        assert_eq!(shown.len(), 1, "exactly one request per missed check");
        assert_eq!(shown[0].area, "Building B");
        assert_eq!(board.page(&Filter::default(), now, 0, 50).total, 1);
    }
    // The same one on every board.
    let ids: Vec<_> = [&at_b, &at_c, &at_d]
        .iter()
        .map(|b| b.view(&Filter::default(), now)[0].id)
        .collect();
    assert!(ids.windows(2).all(|p| p[0] == p[1]));
    // Once the chosen one is closed, the other (still open) is the one shown.
    let chosen = ids[0];
    let closer = if at_b.post(chosen, now).unwrap().author == w.b.author() {
        &w.b
    } else {
        &w.c
    };
    at_b.withdraw(closer, chosen, now).unwrap_or_else(|_| {
        panic!("the chosen post is closed by its author");
    });
    let shown = at_b.view(&Filter::default(), now);
    assert_eq!(shown.len(), 1);
    assert_ne!(shown[0].id, chosen);
}

#[test]
fn drafts_are_checked() {
    let w = world();
    let mut draft = CareDraft {
        name: "Mme Martin".into(),
        area: "Building B".into(),
        window: "09:00-11:00".parse().unwrap(),
        circle: vec![w.b.author()],
        subject: None,
        consent: "Mme Martin, orally, 24 Nov".into(),
        notes: String::new(),
        name_public: false,
    };
    assert!(
        draft.to_entry(RecordId([1; 16]), NOW).is_err(),
        "one member is not a circle"
    );
    draft.circle.push(w.c.author());
    assert!(draft.to_entry(RecordId([1; 16]), NOW).is_ok());
    draft.consent = "  ".into();
    assert!(
        draft.to_entry(RecordId([1; 16]), NOW).is_err(),
        "consent is mandatory"
    );
    draft.consent = "Mme Martin, orally, 24 Nov".into();
    draft.window = "22:00-23:45".parse().unwrap();
    assert!(
        draft.to_entry(RecordId([1; 16]), NOW).is_err(),
        "too late to escalate the same day"
    );
    draft.window = "22:00-23:30".parse().unwrap();
    assert!(draft.to_entry(RecordId([1; 16]), NOW).is_ok());
    draft.area = "call 06 12 34 56 78".into();
    assert!(
        draft.to_entry(RecordId([1; 16]), NOW).is_err(),
        "the area is public-rule text"
    );
}

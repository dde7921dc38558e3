//! Stewards, exclusion and lost keys (issue 15), on boards in memory: the verdict is the
//! same on every board holding the same feeds, whatever order they arrived in, and an
//! exclusion refuses exactly the excluded member's changes its steward had not seen.

mod common;

use common::{NOW, draft, writer};
use std::collections::BTreeSet;

use entraide_crdt::authority::AuthorityError;
use entraide_crdt::{Board, FeedId, Filter, LocalChange, WriteError, Writer};

fn deliver(board: &mut Board, change: &LocalChange) -> entraide_crdt::Applied {
    board
        .receive(
            change.feed,
            &change.change,
            std::slice::from_ref(&change.signed),
        )
        .expect("valid change")
}

fn titles(board: &Board) -> Vec<String> {
    let mut t: Vec<String> = board
        .view(&Filter::default(), NOW)
        .into_iter()
        .map(|p| p.title)
        .collect();
    t.sort();
    t
}

fn held_titles(board: &Board, w: &Writer) -> Vec<String> {
    let mut t: Vec<String> = board
        .feed(&FeedId::first(w.author()))
        .map(|f| {
            f.content()
                .posts
                .values()
                .map(|p| p.title.clone())
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t
}

fn authority_error(e: WriteError) -> AuthorityError {
    match e {
        WriteError::Authority(a) => a,
        other => panic!("expected an authority error, got {other}"),
    }
}

#[test]
fn the_founder_appoints_and_two_stewards_must_agree_on_a_third() {
    let (founder, sam, tom, eve) = (writer(1), writer(2), writer(3), writer(4));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    assert!(board.authority().is_steward(&founder.author()));
    // A member who is not a steward can do nothing.
    let e = board.appoint_steward(&eve, eve.author(), NOW).unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::NotASteward);

    board
        .appoint_steward(&founder, sam.author(), NOW)
        .expect("the founder alone");
    assert_eq!(board.authority().stewards.len(), 2);
    board.appoint_steward(&founder, tom.author(), NOW).unwrap();
    assert!(
        !board.authority().is_steward(&tom.author()),
        "waits for a second"
    );
    assert_eq!(board.authority().proposals.len(), 1);
    let e = board
        .appoint_steward(&founder, tom.author(), NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::AlreadySaid);
    board.appoint_steward(&sam, tom.author(), NOW).unwrap();
    assert!(board.authority().is_steward(&tom.author()));

    // Within one second, a steward's acts count in the order they made them.
    let mut other = Board::new();
    other.set_founder(Some(founder.author()));
    other.appoint_steward(&founder, tom.author(), NOW).unwrap();
    other.appoint_steward(&founder, sam.author(), NOW).unwrap();
    assert!(other.authority().is_steward(&tom.author()));
    assert!(
        !other.authority().is_steward(&sam.author()),
        "the second waits"
    );

    // A board without a founder has no stewards at all.
    let mut old = Board::new();
    let e = old
        .appoint_steward(&founder, sam.author(), NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::NoFounder);
}

/// The partition edge: Chloé (a steward) excludes Xavier on one side while Xavier, on the
/// other side, goes on writing. What Chloé had seen of him stays; what he wrote that she
/// had not seen (even before her exclusion by any clock) is refused, on both sides, and
/// on a board that accepted it before the exclusion arrived.
#[test]
fn an_exclusion_refuses_what_its_steward_had_not_seen_on_both_sides_of_a_partition() {
    let (chloe, xavier, bruno) = (writer(1), writer(9), writer(2));
    let founder = Some(chloe.author());
    // Side A: Chloé's board. Side B: Bruno's, which meets Xavier.
    let (mut side_a, mut side_b, mut late) = (Board::new(), Board::new(), Board::new());
    for b in [&mut side_a, &mut side_b, &mut late] {
        b.set_founder(founder);
    }
    let mut xavier_board = Board::new();
    xavier_board.set_founder(founder);
    let (_, before) = xavier_board
        .post_new(&xavier, [1; 8], &draft("Avant"), NOW)
        .unwrap();
    for b in [&mut side_a, &mut side_b, &mut late] {
        deliver(b, &before);
    }
    // The partition: Xavier writes twice; only side B gets it.
    let (_, concurrent) = xavier_board
        .post_new(&xavier, [2; 8], &draft("Pendant"), NOW)
        .unwrap();
    deliver(&mut side_b, &concurrent);
    deliver(&mut late, &concurrent);
    let (_, response) = {
        let (post, c) = side_b
            .post_new(&bruno, [3; 8], &draft("Bruno"), NOW)
            .unwrap();
        deliver(&mut xavier_board, &c);
        deliver(&mut side_a, &c);
        deliver(&mut late, &c);
        (
            post,
            xavier_board
                .respond(&xavier, post, "je viens", NOW)
                .unwrap(),
        )
    };
    deliver(&mut side_b, &response);

    // Side A: Chloé excludes Xavier. A steward cannot be excluded, a reason is needed.
    let e = side_a
        .exclude(&chloe, chloe.author(), "x", NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::Yourself);
    let e = side_a
        .exclude(&chloe, xavier.author(), "  ", NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::NoReason);
    let exclusion = side_a
        .exclude(&chloe, xavier.author(), "messages insultants", NOW)
        .unwrap();
    assert!(side_a.authority().excluded.contains_key(&xavier.author()));
    // His posts leave side A's board at once; what he wrote stays held.
    assert_eq!(titles(&side_a), ["Bruno"]);
    assert_eq!(held_titles(&side_a, &xavier), ["Avant"]);

    // The partition heals: side B gets the exclusion, and drops what Chloé had not seen.
    let applied = deliver(&mut side_b, &exclusion);
    assert!(
        applied.refused >= 2,
        "the concurrent post and the response went"
    );
    assert_eq!(held_titles(&side_b, &xavier), ["Avant"]);
    assert_eq!(titles(&side_b), ["Bruno"]);
    assert!(
        side_b
            .post(side_b.view(&Filter::default(), NOW)[0].id, NOW)
            .unwrap()
            .responses
            .is_empty()
    );
    // Side A refuses the concurrent change when it finally arrives by a relay.
    let applied = deliver(&mut side_a, &concurrent);
    assert_eq!(applied.refused, 1);
    assert_eq!(held_titles(&side_a, &xavier), ["Avant"]);
    // A board that gets the exclusion last of all agrees too.
    deliver(&mut late, &exclusion);
    assert_eq!(held_titles(&late, &xavier), ["Avant"]);
    assert_eq!(side_a.digest(), side_b.digest());
    assert_eq!(side_a.digest(), late.digest());

    // Xavier's own board, once it has the exclusion, refuses to write for him.
    deliver(&mut xavier_board, &exclusion);
    let e = xavier_board
        .post_new(&xavier, [4; 8], &draft("Encore"), NOW)
        .unwrap_err();
    assert_eq!(e, WriteError::Excluded);
}

#[test]
fn a_retired_stewards_exclusions_stand_when_the_retiring_steward_wrote_them_again() {
    let (founder, sam, xavier) = (writer(1), writer(2), writer(9));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    let (_, x) = board
        .post_new(&xavier, [1; 8], &draft("Xavier"), NOW)
        .unwrap();
    let _ = x;
    board.appoint_steward(&founder, sam.author(), NOW).unwrap();
    board.exclude(&sam, xavier.author(), "spam", NOW).unwrap();
    // Sam steps down; the founder agrees, and keeps Sam's exclusion.
    board.retire_steward(&sam, sam.author(), NOW).unwrap();
    assert!(board.authority().is_steward(&sam.author()), "one of two");
    let written = board.retire_steward(&founder, sam.author(), NOW).unwrap();
    assert_eq!(written.len(), 2, "the exclusion again, then the retirement");
    let a = board.authority();
    assert_eq!(a.stewards, [founder.author()].into());
    assert_eq!(a.excluded[&xavier.author()].by[0].0, founder.author());
    let e = board
        .appoint_steward(&founder, sam.author(), NOW)
        .unwrap_err();
    assert_eq!(
        authority_error(e),
        AuthorityError::RetiredForGood(sam.author())
    );
}

#[test]
fn a_vouched_new_key_takes_over_a_lost_one() {
    let (founder, sam, old, new) = (writer(1), writer(2), writer(7), writer(8));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    board.set_name(&old, "Odette", NOW).unwrap();
    board
        .set_name(&new, "Odette (nouveau téléphone)", NOW)
        .unwrap();
    board
        .post_new(&old, [1; 8], &draft("Courses"), NOW)
        .unwrap();
    board.appoint_steward(&founder, sam.author(), NOW).unwrap();
    board
        .vouch(&founder, old.author(), new.author(), NOW)
        .unwrap();
    assert!(
        board.authority().succeeded.is_empty(),
        "two stewards: two must"
    );
    board.vouch(&sam, old.author(), new.author(), NOW).unwrap();
    let post = &board.view(&Filter::default(), NOW)[0];
    assert_eq!(post.author, old.author());
    assert_eq!(post.author_now, Some(new.author()));
    assert_eq!(
        post.author_name.as_deref(),
        Some("Odette (nouveau téléphone)")
    );
    // The old key writes no more.
    assert_eq!(
        board.post_new(&old, [2; 8], &draft("x"), NOW).unwrap_err(),
        WriteError::Excluded
    );
}

/// Blocking follows a person across their keys: whichever key a resident blocked, what
/// the same person wrote under an older or a newer one is hidden too, and nobody else.
#[test]
fn a_block_follows_a_member_to_the_keys_vouched_for_them() {
    let (founder, old, mid, new, other) = (writer(1), writer(7), writer(8), writer(9), writer(5));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    board.post_new(&old, [1; 8], &draft("Avant"), NOW).unwrap();
    board
        .post_new(&other, [3; 8], &draft("Autre"), NOW)
        .unwrap();
    let authority = board.authority();
    let alone = BTreeSet::from([old.author()]);
    assert_eq!(authority.with_their_other_keys(alone.clone()), alone);

    board
        .vouch(&founder, old.author(), mid.author(), NOW)
        .unwrap();
    board
        .vouch(&founder, mid.author(), new.author(), NOW)
        .unwrap();
    board.post_new(&new, [2; 8], &draft("Après"), NOW).unwrap();
    let person = BTreeSet::from([old.author(), mid.author(), new.author()]);
    for key in [&old, &mid, &new] {
        assert_eq!(
            board
                .authority()
                .with_their_other_keys(BTreeSet::from([key.author()])),
            person,
            "blocked under {}",
            key.author().fmt_short()
        );
    }
    let with_other = board
        .authority()
        .with_their_other_keys(BTreeSet::from([other.author(), old.author()]));
    assert_eq!(with_other.len(), 4, "{with_other:?}");
    assert!(with_other.contains(&other.author()));

    let shown = |blocked: BTreeSet<_>| {
        let filter = Filter {
            blocked: board.authority().with_their_other_keys(blocked),
            ..Filter::default()
        };
        let mut titles: Vec<String> = board
            .view(&filter, NOW)
            .into_iter()
            .map(|p| p.title)
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(shown(BTreeSet::from([old.author()])), ["Autre"]);
    assert_eq!(shown(BTreeSet::from([new.author()])), ["Autre"]);
    assert_eq!(shown(BTreeSet::from([other.author()])), ["Après", "Avant"]);
}

#[test]
fn a_retirement_never_undoes_a_decision_nor_leaves_no_steward() {
    let (founder, sam, tom, old, new) = (writer(1), writer(2), writer(3), writer(7), writer(8));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    board
        .post_new(&old, [1; 8], &draft("Courses"), NOW)
        .unwrap();
    // The last steward cannot step down: the community would have nobody to act for it.
    let e = board
        .retire_steward(&founder, founder.author(), NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::LastSteward);

    board.appoint_steward(&founder, sam.author(), NOW).unwrap();
    board
        .vouch(&founder, old.author(), new.author(), NOW)
        .unwrap();
    board.vouch(&sam, old.author(), new.author(), NOW).unwrap();
    board.appoint_steward(&founder, tom.author(), NOW).unwrap();
    board.appoint_steward(&sam, tom.author(), NOW).unwrap();
    assert_eq!(board.authority().stewards.len(), 3);
    assert!(board.authority().succeeded.contains_key(&old.author()));

    // Retiring Sam would leave the founder's vouch alone, one of the two now needed.
    board.retire_steward(&sam, sam.author(), NOW).unwrap();
    let e = board
        .retire_steward(&founder, sam.author(), NOW)
        .unwrap_err();
    assert_eq!(authority_error(e), AuthorityError::WouldUndo(old.author()));
    assert!(
        board.authority().is_steward(&sam.author()),
        "nothing written"
    );
    // Tom, a current steward, vouches too: now the retirement keeps the succession.
    board.vouch(&tom, old.author(), new.author(), NOW).unwrap();
    board.retire_steward(&founder, sam.author(), NOW).unwrap();
    let a = board.authority();
    assert_eq!(a.stewards, [founder.author(), tom.author()].into());
    assert_eq!(a.succeeded[&old.author()].new, new.author());
}

#[test]
fn the_rules_hold_whatever_the_statements_say() {
    use entraide_crdt::authority::{Statements, evaluate};
    let founder = writer(1).author();
    // A founder's feed that appoints 20 stewards at once: only 16 are ever stewards.
    let mut statements = Statements::default();
    let others: Vec<_> = (10..30).map(|n| writer(n).author()).collect();
    for (n, who) in others.iter().enumerate() {
        statements.appoint.insert(*who, (NOW, n as i64));
    }
    let a = evaluate(Some(founder), [(founder, &statements)]);
    // Past the first appointment two must agree: the founder alone gets one more.
    assert_eq!(a.stewards.len(), 2);
    // Every other steward agreeing with the founder on every appointment.
    let steward = a.stewards.iter().find(|s| **s != founder).copied().unwrap();
    let mut feeds = vec![(founder, statements.clone())];
    for who in &others {
        let mut s = statements.clone();
        s.appoint.remove(who);
        feeds.push((*who, s));
    }
    let a = evaluate(Some(founder), feeds.iter().map(|(w, s)| (*w, s)));
    assert_eq!(a.stewards.len(), 16, "never more than a report reaches");
    assert!(a.stewards.contains(&steward));
    // A lone steward retiring themselves is no retirement.
    let mut alone = Statements::default();
    alone.retire.insert(founder, (NOW, 1));
    let a = evaluate(Some(founder), [(founder, &alone)]);
    assert_eq!(a.stewards, [founder].into());
}

#[test]
fn an_excluded_members_alerts_leave_every_list_too() {
    use entraide_crdt::{AlertDraft, AlertKind};
    let (founder, xavier) = (writer(1), writer(9));
    let mut board = Board::new();
    board.set_founder(Some(founder.author()));
    let alert = AlertDraft {
        kind: AlertKind::Heatwave,
        until: NOW + 3600,
        note: "Faux".into(),
    };
    board.declare_alert(&xavier, [1; 8], &alert, NOW).unwrap();
    assert_eq!(board.active_alerts(NOW).len(), 1);
    board
        .exclude(&founder, xavier.author(), "fausses alertes", NOW)
        .unwrap();
    assert!(board.active_alerts(NOW).is_empty());
    assert!(board.rounds(NOW, 0).is_empty());
    assert!(board.sightings(NOW).is_empty());
}

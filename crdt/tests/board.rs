//! The board's rules through its public API: lifecycle, who may do what, the view.

mod common;

use common::*;
use entraide_crdt::{
    Board, Category, Feed, Filter, Kind, LoadError, PostState, Status, TextError, Urgency,
    WriteError,
};

#[test]
fn a_request_goes_from_open_to_accepted_to_done_with_thanks() {
    let (marie, karim, lea) = (writer(1), writer(2), writer(3));
    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).unwrap();
    board.set_name(&karim, "Karim", NOW).unwrap();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water to 4th floor"), NOW)
        .unwrap();
    assert_eq!(board.post(post, NOW).unwrap().status, Status::Open);

    // Two helpers respond (as two offline neighbours would): both are shown.
    board
        .respond(&karim, post, "I can bring 6 bottles", NOW + 10)
        .unwrap();
    board.respond(&lea, post, "me too", NOW + 20).unwrap();
    let view = board.post(post, NOW + 30).unwrap();
    assert_eq!(view.responses.len(), 2);
    assert_eq!(view.responses[0].helper_name.as_deref(), Some("Karim"));
    assert_eq!(view.responses[1].helper_name, None, "Léa has no name yet");

    // The author accepts one.
    board
        .accept(&marie, post, karim.author(), NOW + 40)
        .unwrap();
    let view = board.post(post, NOW + 50).unwrap();
    assert_eq!(view.status, Status::Accepted);
    assert_eq!(view.accepted, Some(karim.author()));

    board.done(&marie, post, NOW + 60).unwrap();
    board
        .thank(&marie, post, karim.author(), "Merci Karim !", NOW + 70)
        .unwrap();
    let view = board.post(post, NOW + 80).unwrap();
    assert_eq!(view.status, Status::Done);
    assert_eq!(
        view.thanks,
        vec![(karim.author(), "Merci Karim !".to_string())]
    );
    // Done posts leave the default board, stay behind the toggle.
    assert!(board.view(&Filter::default(), NOW + 80).is_empty());
    let all = Filter {
        include_closed: true,
        ..Filter::default()
    };
    assert_eq!(board.view(&all, NOW + 80).len(), 1);
    // A done post changes state no more.
    assert!(matches!(
        board.withdraw(&marie, post, NOW + 90),
        Err(WriteError::Closed(..))
    ));
    assert!(matches!(
        board.respond(&lea, post, "late", NOW + 90),
        Err(WriteError::Closed(..))
    ));
}

#[test]
fn only_the_author_changes_a_posts_state() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Visit"), NOW)
        .unwrap();
    board.respond(&karim, post, "", NOW).unwrap();
    assert_eq!(
        board.accept(&karim, post, karim.author(), NOW),
        Err(WriteError::NotYourFeed)
    );
    assert_eq!(board.done(&karim, post, NOW), Err(WriteError::NotYourFeed));
    assert_eq!(
        board.withdraw(&karim, post, NOW),
        Err(WriteError::NotYourFeed)
    );
    assert_eq!(
        board.respond(&marie, post, "", NOW),
        Err(WriteError::OwnPost)
    );
    // Accepting somebody who never offered help is refused with a clear reason.
    assert_eq!(
        board.accept(&marie, post, writer(9).author(), NOW),
        Err(WriteError::NotAHelper(writer(9).author()))
    );
    board.withdraw(&marie, post, NOW).unwrap();
    assert_eq!(board.post(post, NOW).unwrap().status, Status::Withdrawn);
}

#[test]
fn posts_expire_by_urgency_and_hide_by_default() {
    let marie = writer(1);
    let mut board = Board::new();
    let mut urgent = draft("Now");
    urgent.urgency = Urgency::Urgent;
    let (id, _) = board.post_new(&marie, [1; 8], &urgent, NOW).unwrap();
    let expiry = NOW + Urgency::Urgent.default_lifetime();
    assert_eq!(board.post(id, expiry - 1).unwrap().status, Status::Open);
    assert_eq!(board.post(id, expiry).unwrap().status, Status::Expired);
    assert!(board.view(&Filter::default(), expiry).is_empty());
    // Expired posts take no more responses.
    assert!(matches!(
        board.respond(&writer(2), id, "", expiry),
        Err(WriteError::Closed(..))
    ));
}

#[test]
fn the_board_is_ordered_urgent_first_then_newest_and_filters_work() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    let mut week = draft("Shelf to fix");
    week.urgency = Urgency::Week;
    week.category = Category::Diy;
    week.area = "Rue des Lilas".into();
    let (w, _) = board.post_new(&marie, [1; 8], &week, NOW).unwrap();
    let mut urgent = draft("Insulin from the pharmacy");
    urgent.urgency = Urgency::Urgent;
    urgent.category = Category::Errands;
    let (u, _) = board.post_new(&karim, [2; 8], &urgent, NOW - 100).unwrap();
    let mut offer = draft("Car on Sundays");
    offer.kind = Kind::Offer;
    offer.category = Category::Transport;
    offer.urgency = Urgency::Week;
    let (o, _) = board.post_new(&karim, [3; 8], &offer, NOW + 5).unwrap();

    board.respond(&marie, u, "on my way", NOW).unwrap();
    let ids = |f: &Filter| {
        board
            .view(f, NOW + 10)
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&Filter::default()), vec![u, o, w]);
    assert_eq!(
        ids(&Filter {
            kind: Some(Kind::Offer),
            ..Filter::default()
        }),
        vec![o]
    );
    assert_eq!(
        ids(&Filter {
            category: Some(Category::Diy),
            ..Filter::default()
        }),
        vec![w]
    );
    assert_eq!(
        ids(&Filter {
            urgency: Some(Urgency::Urgent),
            ..Filter::default()
        }),
        vec![u]
    );
    assert_eq!(
        ids(&Filter {
            area: Some("lilas".into()),
            ..Filter::default()
        }),
        vec![w]
    );
    assert_eq!(
        ids(&Filter {
            text: Some("INSULIN".into()),
            ..Filter::default()
        }),
        vec![u]
    );
    assert_eq!(
        ids(&Filter {
            text: Some("six bottles".into()),
            ..Filter::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(&Filter {
            author: Some(marie.author()),
            ..Filter::default()
        }),
        vec![w]
    );
    assert_eq!(
        ids(&Filter {
            responder: Some(marie.author()),
            ..Filter::default()
        }),
        vec![u]
    );
    // Ids typed by hand: a unique prefix finds the post.
    assert_eq!(board.find_posts(&u.to_string()[..6]), vec![u]);
}

#[test]
fn text_rules_are_enforced_on_every_write() {
    let marie = writer(1);
    let mut board = Board::new();
    assert!(matches!(
        board.post_new(&marie, [1; 8], &draft("call me 06 12 34 56 78"), NOW),
        Err(WriteError::Text(TextError::PhoneNumber { .. }))
    ));
    assert!(matches!(
        board.set_name(&marie, "", NOW),
        Err(WriteError::Text(TextError::Empty { .. }))
    ));
    let (id, _) = board.post_new(&marie, [1; 8], &draft("ok"), NOW).unwrap();
    let karim = writer(2);
    assert!(matches!(
        board.respond(&karim, id, "karim@example.org", NOW),
        Err(WriteError::Text(TextError::Email { .. }))
    ));
    assert!(board.view(&Filter::default(), NOW)[0].responses.is_empty());
    // The same nonce twice (a broken random source) is refused, not silently merged.
    assert_eq!(
        board.post_new(&marie, [1; 8], &draft("again"), NOW),
        Err(WriteError::DuplicatePost)
    );
}

#[test]
fn a_feed_saves_and_loads_with_its_waiting_changes_and_signatures() {
    let marie = writer(1);
    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).unwrap();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .unwrap();
    let feed = board.feed(&feed_of(&marie)).unwrap();
    let saved = feed.save();
    let loaded = Feed::load(feed.id(), &saved, feed.signed_heads().to_vec()).unwrap();
    assert_eq!(loaded.heads(), feed.heads());
    assert_eq!(loaded.content(), feed.content());
    assert_eq!(loaded.signed_heads(), feed.signed_heads());
    assert!(loaded.content().posts.contains_key(&post));
    assert_eq!(loaded.content().posts[&post].state, PostState::Open);
}

#[test]
fn damaged_or_foreign_storage_is_a_clear_error() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).unwrap();
    let saved = board.feed(&feed_of(&marie)).unwrap().save();
    // Truncated.
    let err = Feed::load(feed_of(&marie), &saved[..saved.len() / 2], vec![]).unwrap_err();
    assert!(matches!(err, LoadError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("damaged"));
    // Garbage.
    assert!(matches!(
        Feed::load(feed_of(&marie), b"not a feed", vec![]),
        Err(LoadError::Damaged { .. })
    ));
    // Marie's bytes stored as Karim's feed.
    assert_eq!(
        Feed::load(feed_of(&karim), &saved, vec![]).unwrap_err(),
        LoadError::ForeignActor {
            feed: feed_of(&karim)
        }
    );
}

#[test]
fn posts_and_helpers_are_found_from_what_people_type() {
    use entraide_crdt::ResolveError;
    let (marie, karim, lea, nadia) = (writer(1), writer(2), writer(3), writer(4));
    let mut board = Board::new();
    board.set_name(&karim, "Karim", NOW).unwrap();
    board.set_name(&lea, "Léa", NOW).unwrap();
    board.set_name(&nadia, "Karim", NOW).unwrap();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .unwrap();
    let (other, _) = board
        .post_new(&marie, [2; 8], &draft("Bread"), NOW)
        .unwrap();

    // A post by any unique start of its id, spaces and case aside.
    let id = post.to_string();
    assert_eq!(board.resolve_post(&id), Ok(post));
    assert_eq!(
        board.resolve_post(&format!("  {}  ", &id[..6].to_uppercase())),
        Ok(post)
    );
    // Seventeen posts: two of them start with the same hex digit.
    let mut firsts = std::collections::BTreeMap::new();
    let mut shared = None;
    for n in 3..20u8 {
        let (p, _) = board.post_new(&marie, [n; 8], &draft("More"), NOW).unwrap();
        let first = p.to_string()[..1].to_owned();
        if firsts.insert(first.clone(), p).is_some() {
            shared = Some(first);
        }
    }
    let shared = shared.expect("pigeonhole");
    assert_eq!(
        board.resolve_post(&shared),
        Err(ResolveError::AmbiguousPost(shared.clone()))
    );
    assert_eq!(
        board.resolve_post("zz"),
        Err(ResolveError::NoSuchPost("zz".into()))
    );
    // A whole id is looked up directly: in capitals too, and one not held (or with a
    // digit too many) finds nothing, as any prefix would.
    assert_eq!(board.resolve_post(&id.to_uppercase()), Ok(post));
    assert_eq!(board.find_posts(&id), vec![post]);
    let every = board.find_posts("");
    assert_eq!(every.len(), 19);
    for typed in ["0123456789abcdef", &format!("{id}0"), &other.to_string()] {
        let naive: Vec<_> = every
            .iter()
            .filter(|p| p.to_string().starts_with(typed))
            .copied()
            .collect();
        assert_eq!(board.find_posts(typed), naive, "{typed}");
    }
    assert_eq!(
        board.resolve_post("   "),
        Err(ResolveError::NoSuchPost(String::new()))
    );

    // Helpers among those who responded: by name, fingerprint (whole or 8 digits), id.
    board.respond(&karim, post, "", NOW).unwrap();
    board.respond(&lea, post, "", NOW).unwrap();
    let k = karim.author();
    assert_eq!(board.resolve_helper(post, "léa", NOW), Ok(lea.author()));
    assert_eq!(board.resolve_helper(post, "KARIM", NOW), Ok(k));
    assert_eq!(board.resolve_helper(post, &k.fmt_short(), NOW), Ok(k));
    assert_eq!(board.resolve_helper(post, &k.fmt_short()[..9], NOW), Ok(k));
    assert_eq!(board.resolve_helper(post, &k.to_string()[..5], NOW), Ok(k));
    assert_eq!(
        board.resolve_helper(post, "Paul", NOW),
        Err(ResolveError::NoSuchHelper("Paul".into()))
    );
    // Someone who did not respond, named by their whole id: returned, for the write to
    // refuse with its reason.
    let n = nadia.author();
    assert_eq!(board.resolve_helper(post, &n.to_string(), NOW), Ok(n));
    assert!(matches!(
        board.accept(&marie, post, n, NOW),
        Err(WriteError::NotAHelper(..))
    ));
    // Two helpers named alike: neither is picked.
    board.respond(&nadia, post, "", NOW).unwrap();
    assert_eq!(
        board.resolve_helper(post, "karim", NOW),
        Err(ResolveError::SeveralHelpers("karim".into()))
    );
    assert_eq!(
        board.resolve_helper(other, "karim", NOW),
        Err(ResolveError::NoSuchHelper("karim".into()))
    );
}

#[test]
fn writing_what_is_already_there_says_so() {
    let w = writer(1);
    let mut board = Board::new();
    board.set_name(&w, "Amel", NOW).unwrap();
    assert_eq!(
        board.set_name(&w, "Amel", NOW).unwrap_err(),
        WriteError::NothingChanged
    );
    board.set_name(&w, "Amel B.", NOW).unwrap();
}

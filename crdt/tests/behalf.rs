//! Posts made on behalf of a neighbour who has no device (`entraide_crdt::behalf`): what
//! is written, what every node reads, what a modified client cannot break, and whose post
//! it stays.

mod common;

use common::*;
use entraide_crdt::automerge::ScalarValue;
use entraide_crdt::{
    AuthorKey, Board, Feed, FeedId, Field, Filter, OnBehalfOf, PostId, TextError, WriteError,
};

const CONSENT: &str = "Mme Dupont, au téléphone, le 2 décembre à 10 h";

fn for_dupont(title: &str) -> entraide_crdt::PostDraft {
    let mut d = draft(title);
    d.on_behalf_of = Some(OnBehalfOf {
        name: " Mme Dupont ".into(),
        consent: CONSENT.into(),
    });
    d
}

fn dupont() -> Option<OnBehalfOf> {
    Some(OnBehalfOf {
        name: "Mme Dupont".into(),
        consent: CONSENT.into(),
    })
}

fn everything() -> Filter {
    Filter {
        include_closed: true,
        ..Filter::default()
    }
}

#[test]
fn a_post_for_a_neighbour_round_trips_through_sync_and_storage() {
    let marie = writer(1);
    let (mut at_marie, mut at_karim) = (Board::new(), Board::new());
    at_marie.set_name(&marie, "Marie", NOW).unwrap();
    let (id, _) = at_marie
        .post_new(&marie, [1; 8], &for_dupont("Courses pour Mme Dupont"), NOW)
        .unwrap();
    sync_pair(&mut at_marie, &mut at_karim).unwrap();

    let seen = at_karim.post(id, NOW).expect("synced");
    assert_eq!(seen.author, marie.author());
    assert_eq!(seen.author_name.as_deref(), Some("Marie"));
    assert_eq!(
        seen.on_behalf_of,
        dupont(),
        "stored trimmed, read back whole"
    );
    assert_eq!(at_karim.post(id, NOW), at_marie.post(id, NOW));

    // Saved and loaded again (a restart), the feed says the same.
    let feed = at_karim.feed(&feed_of(&marie)).unwrap();
    let loaded = Feed::load(feed.id(), &feed.save(), feed.signed_heads().to_vec()).unwrap();
    assert_eq!(loaded.content(), feed.content());
    assert_eq!(loaded.content().posts[&id].on_behalf_of, dupont());
    assert_eq!(loaded.content().skipped, 0);

    // In JSON, a stable object or null.
    let json = serde_json::to_value(&seen).unwrap();
    assert_eq!(json["on_behalf_of"]["name"], "Mme Dupont");
    assert_eq!(json["on_behalf_of"]["consent"], CONSENT);
    let (plain, _) = at_marie
        .post_new(&marie, [2; 8], &draft("Eau"), NOW)
        .unwrap();
    let json = serde_json::to_value(at_marie.post(plain, NOW).unwrap()).unwrap();
    assert!(json["on_behalf_of"].is_null(), "{json}");
}

#[test]
fn a_name_without_consent_or_a_consent_without_a_name_writes_nothing() {
    let marie = writer(1);
    let mut board = Board::new();
    for (behalf, expected) in [
        (
            OnBehalfOf {
                name: "Mme Dupont".into(),
                consent: "  ".into(),
            },
            TextError::NoConsent { min: 8 },
        ),
        (
            OnBehalfOf {
                name: String::new(),
                consent: CONSENT.into(),
            },
            TextError::NoNeighbour,
        ),
        (
            OnBehalfOf {
                name: "Mme Dupont".into(),
                consent: "appelez-la au 06 12 34 56 78".into(),
            },
            TextError::PhoneNumber {
                field: Field::Consent,
            },
        ),
    ] {
        let mut d = draft("Courses");
        d.on_behalf_of = Some(behalf);
        assert_eq!(d.problems(NOW), vec![expected.clone()]);
        assert_eq!(
            board.post_new(&marie, [1; 8], &d, NOW),
            Err(WriteError::Text(expected))
        );
    }
    assert!(board.feeds().all(Feed::is_empty), "nothing was written");
}

#[test]
fn responses_go_to_the_poster_and_the_post_stays_the_posters() {
    let (marie, karim, dupont_later) = (writer(1), writer(2), writer(3));
    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).unwrap();
    let (id, _) = board
        .post_new(&marie, [1; 8], &for_dupont("Courses"), NOW)
        .unwrap();
    board.respond(&karim, id, "j'y vais à 17 h", NOW).unwrap();
    let karims = board.feed(&feed_of(&karim)).unwrap().content();
    assert_eq!(karims.responses[&id].to, marie.author());
    // Marie accepts: she is the one the post belongs to.
    board.accept(&marie, id, karim.author(), NOW).unwrap();

    // Mme Dupont gets a device later and takes the same name: the post is not hers.
    board.set_name(&dupont_later, "Mme Dupont", NOW).unwrap();
    let hers = Filter {
        author: Some(dupont_later.author()),
        ..everything()
    };
    assert!(board.view(&hers, NOW).is_empty());
    let marie_s = Filter {
        author: Some(marie.author()),
        ..everything()
    };
    let posts = board.view(&marie_s, NOW);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].author, marie.author());
    assert_eq!(posts[0].on_behalf_of, dupont());
    assert_eq!(posts[0].accepted, Some(karim.author()));
    // She cannot close it: it is in Marie's feed.
    assert_eq!(
        board.done(&dupont_later, id, NOW),
        Err(WriteError::NotYourFeed)
    );
}

/// Writes a post with extra raw fields into `key`'s feed, as a modified client would, and
/// delivers it; returns its id.
fn raw_post(board: &mut Board, key: &AuthorKey, extra: &[(&'static str, ScalarValue)]) -> PostId {
    let mut raw = RawFeed::new(actor(key, 1));
    let mut fields = post_fields("Courses", "today", NOW, NOW + 3600);
    fields.extend_from_slice(extra);
    let change = raw.put_map("post:0101010101010101", &fields, &[]);
    board
        .receive(FeedId::first(key.id()), &change, &[raw.signed_by(key)])
        .expect("valid: signed by its author");
    PostId::derive(&key.id(), &[1; 8])
}

fn text(t: &str) -> ScalarValue {
    ScalarValue::Str(t.into())
}

#[test]
fn malformed_values_from_a_peer_are_read_as_no_neighbour_never_as_an_error() {
    let cases: Vec<(&str, Vec<(&'static str, ScalarValue)>)> = vec![
        (
            "a name without consent",
            vec![("behalf_name", text("Mme Dupont"))],
        ),
        (
            "a consent without a name",
            vec![("behalf_consent", text(CONSENT))],
        ),
        (
            "a number for a name",
            vec![
                ("behalf_name", ScalarValue::Int(7)),
                ("behalf_consent", text(CONSENT)),
            ],
        ),
        (
            "bytes for a consent",
            vec![
                ("behalf_name", text("Mme Dupont")),
                ("behalf_consent", ScalarValue::Bytes(vec![1, 2, 3])),
            ],
        ),
        (
            "a blank consent",
            vec![
                ("behalf_name", text("Mme Dupont")),
                ("behalf_consent", text("\u{200B} \u{202E}")),
            ],
        ),
    ];
    for (n, (what, extra)) in cases.into_iter().enumerate() {
        let key = AuthorKey::from_seed([40 + n as u8; 32]);
        let mut board = Board::new();
        let id = raw_post(&mut board, &key, &extra);
        let post = board
            .post(id, NOW)
            .unwrap_or_else(|| panic!("{what}: shown"));
        assert_eq!(post.on_behalf_of, None, "{what}");
        assert_eq!(post.title, "Courses", "{what}");
        let feed = board.feed(&FeedId::first(key.id())).unwrap();
        assert_eq!(feed.content().skipped, 0, "{what}: the post is not skipped");
    }
}

#[test]
fn hostile_text_from_a_peer_is_neutralised_and_cut() {
    let key = AuthorKey::from_seed([50; 32]);
    let mut board = Board::new();
    let long = "y".repeat(5_000);
    let id = raw_post(
        &mut board,
        &key,
        &[
            ("behalf_name", text("Mme\u{1b}[31m \u{202E}Dupont\u{200B}")),
            ("behalf_consent", text(&long)),
        ],
    );
    let behalf = board.post(id, NOW).unwrap().on_behalf_of.unwrap();
    assert_eq!(behalf.name, "Mme[31m Dupont");
    assert_eq!(behalf.consent.chars().count(), Field::Consent.max_chars());
    assert_eq!(
        Field::Consent.max_chars(),
        entraide_crdt::care::MAX_CONSENT_CHARS
    );
}

#[test]
fn a_post_with_the_new_keys_passes_validation_and_reads_like_an_old_post() {
    // The same post written without and with the new keys by two authors: everything
    // the existing readers look at is the same, nothing is skipped.
    let (old, new) = (
        AuthorKey::from_seed([60; 32]),
        AuthorKey::from_seed([61; 32]),
    );
    let mut board = Board::new();
    let old_id = raw_post(&mut board, &old, &[]);
    let new_id = raw_post(
        &mut board,
        &new,
        &[
            ("behalf_name", text("Mme Dupont")),
            ("behalf_consent", text(CONSENT)),
        ],
    );
    let (o, n) = (
        board.post(old_id, NOW).unwrap(),
        board.post(new_id, NOW).unwrap(),
    );
    assert_eq!(o.on_behalf_of, None, "an old post reads as before");
    assert_eq!(n.on_behalf_of, dupont());
    let as_old = |p: &entraide_crdt::PostView| {
        (
            p.kind,
            p.category,
            p.title.clone(),
            p.urgency,
            p.created_at,
            p.expires_at,
            p.status,
        )
    };
    assert_eq!(as_old(&o), as_old(&n));
    for key in [&old, &new] {
        let feed = board.feed(&FeedId::first(key.id())).unwrap();
        assert_eq!(feed.content().skipped, 0);
        assert_eq!(feed.content().posts.len(), 1);
    }
    // A post written by this crate carries exactly the two new keys, as strings.
    let marie = writer(1);
    let mut mine = Board::new();
    let (id, _) = mine
        .post_new(&marie, [9; 8], &for_dupont("Courses"), NOW)
        .unwrap();
    let doc_keys = {
        use entraide_crdt::automerge::ReadDoc;
        let feed = mine.feed(&feed_of(&marie)).unwrap();
        let bytes = feed.save();
        let doc = entraide_crdt::automerge::Automerge::load(&bytes).unwrap();
        let (_, post) = doc
            .get(entraide_crdt::automerge::ROOT, "post:0909090909090909")
            .unwrap()
            .unwrap();
        let name = doc.get(&post, "behalf_name").unwrap().unwrap().0;
        let consent = doc.get(&post, "behalf_consent").unwrap().unwrap().0;
        (
            name.as_str().map(str::to_owned),
            consent.as_str().map(str::to_owned),
        )
    };
    assert_eq!(
        doc_keys,
        (Some("Mme Dupont".into()), Some(CONSENT.to_owned()))
    );
    assert!(mine.post(id, NOW).is_some());
}

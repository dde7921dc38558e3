//! Text from members (issue 10, points 9 and 10): what a modified client can write into
//! its own feed, bypassing every write check, and what the board shows of it.

mod common;

use common::*;
use entraide_crdt::automerge::ScalarValue;
use entraide_crdt::{
    AuthorKey, Board, FeedId, Filter, PostView, TextError, WriteError, is_bidi_control,
    is_invisible, is_joiner,
};

/// A terminal escape that clears the screen, one that sets the window title, a bell, a
/// C1 control sequence introducer, a right-to-left override, isolates, zero-width
/// characters, a joiner between ASCII letters, a carriage return and a NUL.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202E}gro.elpmaxe\u{202C}\
     \u{2066}x\u{2069}\u{200B}a\u{200D}b\u{FEFF}\r\nnext\u{0}\u{2028}end";

fn everything() -> Filter {
    Filter {
        include_closed: true,
        ..Filter::default()
    }
}

/// No control character (but line feeds and tabs where lines are allowed), no direction
/// control, no invisible character, no joiner next to ASCII.
fn assert_clean(text: &str, multiline: bool) {
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let allowed_control = multiline && (c == '\n' || c == '\t');
        assert!(!c.is_control() || allowed_control, "{c:?} in {text:?}");
        assert!(!is_bidi_control(c) && !is_invisible(c), "{c:?} in {text:?}");
        assert!(!matches!(c, '\u{2028}' | '\u{2029}'), "{c:?} in {text:?}");
        if is_joiner(c) {
            let next_to_ascii = chars[..i].last().is_none_or(char::is_ascii)
                || chars.get(i + 1).is_none_or(char::is_ascii);
            assert!(!next_to_ascii, "joiner next to ASCII in {text:?}");
        }
    }
}

fn assert_post_clean(p: &PostView) {
    assert_clean(&p.title, false);
    assert_clean(&p.area, false);
    assert_clean(&p.details, true);
    if let Some(name) = &p.author_name {
        assert_clean(name, false);
    }
    for r in &p.responses {
        assert_clean(&r.message, true);
        if let Some(name) = &r.helper_name {
            assert_clean(name, false);
        }
    }
    for (_, message) in &p.thanks {
        assert_clean(message, true);
    }
}

#[test]
fn escape_sequences_and_overrides_written_by_a_modified_client_never_reach_the_view() {
    let mallory = AuthorKey::from_seed([66; 32]);
    let honest = writer(1);
    let mut board = Board::new();
    let (honest_post, _) = board
        .post_new(&honest, [1; 8], &draft("Water"), NOW)
        .unwrap();

    // Mallory's client writes raw automerge, with no check at all: a name, a post whose
    // every text is hostile and which thanks the honest author, and a response.
    let feed = FeedId::first(mallory.id());
    let mut raw = RawFeed::new(actor(&mallory, 1));
    let mut deliver = |raw: &RawFeed, change: Vec<u8>| {
        board
            .receive(feed, &change, &[raw.signed_by(&mallory)])
            .expect("valid: signed by its author");
    };
    let change = raw.put("name", &format!("Mal{HOSTILE}"));
    deliver(&raw, change);
    let mut fields = post_fields(&format!("Help{HOSTILE}"), "today", NOW, NOW + 3600);
    fields.push(("details", ScalarValue::Str(format!("line{HOSTILE}").into())));
    fields.push(("area", ScalarValue::Str(format!("B{HOSTILE}").into())));
    let thanks = [(honest.author().to_string(), HOSTILE)];
    let change = raw.put_map("post:0909090909090909", &fields, &thanks);
    deliver(&raw, change);
    let change = raw.put_map(
        &format!("response:{honest_post}"),
        &[
            ("to", ScalarValue::Str(honest.author().to_string().into())),
            (
                "message",
                ScalarValue::Str(format!("I can{HOSTILE}").into()),
            ),
            ("at", ScalarValue::Int(NOW)),
        ],
        &[],
    );
    deliver(&raw, change);

    let view = board.view(&everything(), NOW);
    assert_eq!(view.len(), 2);
    for p in &view {
        assert_post_clean(p);
    }
    let theirs = view.iter().find(|p| p.author == mallory.id()).unwrap();
    // What is left is the visible text, in the order it was stored.
    assert_eq!(theirs.title, "Help[2J]0;pwned31mgro.elpmaxexab next end");
    assert_eq!(
        theirs.details,
        "line[2J]0;pwned31mgro.elpmaxexab\nnext\nend"
    );
    assert_eq!(theirs.thanks.len(), 1);
    let mine = view.iter().find(|p| p.id == honest_post).unwrap();
    assert_eq!(mine.responses.len(), 1);
    // Neutralised, then cut to the 40 characters of a name.
    assert_eq!(
        mine.responses[0].helper_name.as_deref(),
        Some("Mal[2J]0;pwned31mgro.elpmaxexab next end")
    );
    assert_eq!(
        mine.responses[0].message,
        "I can[2J]0;pwned31mgro.elpmaxexab\nnext\nend"
    );
    assert_eq!(board.name_of(&mallory.id()), mine.responses[0].helper_name);
}

#[test]
fn a_name_made_only_of_invisible_characters_reads_as_no_name() {
    let mallory = AuthorKey::from_seed([66; 32]);
    let mut raw = RawFeed::new(actor(&mallory, 1));
    let change = raw.put("name", "\u{200B}\u{3164}\u{2060} \u{202E}");
    let mut board = Board::new();
    board
        .receive(
            FeedId::first(mallory.id()),
            &change,
            &[raw.signed_by(&mallory)],
        )
        .unwrap();
    assert_eq!(board.name_of(&mallory.id()), None);
}

#[test]
fn invisible_characters_typed_in_the_real_client_are_taken_out_before_writing() {
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    board
        .set_name(&marie, "Ma\u{200B}rie\u{202E}", NOW)
        .unwrap();
    assert_eq!(board.name_of(&marie.author()).as_deref(), Some("Marie"));
    // What is stored is already clean: the feed document itself holds "Marie".
    let stored = board.feed(&feed_of(&marie)).unwrap().content().name.clone();
    assert_eq!(stored.as_deref(), Some("Marie"));

    let mut d = draft("Wa\u{2066}ter\u{2069} to the \u{200B}4th floor");
    d.details = "six\u{2028}bottles".into();
    let (post, _) = board.post_new(&marie, [1; 8], &d, NOW).unwrap();
    board
        .respond(&karim, post, "I\u{FEFF} can \u{200D}help", NOW)
        .unwrap();
    let view = board.post(post, NOW).unwrap();
    assert_eq!(view.title, "Water to the 4th floor");
    assert_eq!(view.details, "six\nbottles");
    assert_eq!(view.responses[0].message, "I can help");
    // Control characters are still refused, with their reason.
    assert_eq!(
        board.respond(&karim, post, "\u{1b}[2J", NOW),
        Err(WriteError::Text(TextError::ControlCharacters {
            field: entraide_crdt::Field::Message
        }))
    );
    // A phone number split by zero-width spaces is still a phone number.
    assert!(matches!(
        board.respond(
            &karim,
            post,
            "06\u{200B}12\u{200B}34\u{200B}56\u{200B}78",
            NOW
        ),
        Err(WriteError::Text(TextError::PhoneNumber { .. }))
    ));
}

/// Writes `name` raw into the feed of `key` (no write check) and delivers it.
fn raw_name(board: &mut Board, key: &AuthorKey, name: &str) {
    let mut raw = RawFeed::new(actor(key, 1));
    let change = raw.put("name", name);
    board
        .receive(FeedId::first(key.id()), &change, &[raw.signed_by(key)])
        .unwrap();
}

#[test]
fn names_that_look_alike_are_flagged_on_posts_responses_and_for_settings() {
    let marie = writer(1);
    let (karim, lea) = (writer(2), writer(3));
    let cyrillic = AuthorKey::from_seed([20; 32]);
    let invisible = AuthorKey::from_seed([21; 32]);
    let lower = AuthorKey::from_seed([22; 32]);
    let maria = AuthorKey::from_seed([23; 32]);
    let reversed = AuthorKey::from_seed([24; 32]);

    let mut board = Board::new();
    board.set_name(&marie, "Marie", NOW).unwrap();
    board.set_name(&karim, "Karim", NOW).unwrap();
    board.set_name(&lea, "Léa", NOW).unwrap();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .unwrap();
    board.respond(&karim, post, "", NOW).unwrap();

    // Alone, Marie's name is hers.
    assert!(!board.post(post, NOW).unwrap().author_name_lookalike);
    assert!(board.lookalikes(&marie.author()).is_empty());

    raw_name(&mut board, &maria, "Maria");
    raw_name(&mut board, &reversed, "\u{202E}eiraM");
    assert!(
        board.lookalikes(&marie.author()).is_empty(),
        "Maria is another name; an override shows as its letters, eiraM"
    );
    assert_eq!(board.name_of(&reversed.id()).as_deref(), Some("eiraM"));

    raw_name(&mut board, &cyrillic, "M\u{0430}rie");
    raw_name(&mut board, &invisible, "Marie\u{200B}");
    raw_name(&mut board, &lower, "marie");
    let mut expected = vec![cyrillic.id(), invisible.id(), lower.id()];
    expected.sort();
    assert_eq!(board.lookalikes(&marie.author()), expected);
    assert!(board.lookalikes(&cyrillic.id()).contains(&marie.author()));
    assert!(board.lookalikes(&karim.author()).is_empty());
    assert!(board.lookalikes(&maria.id()).is_empty());

    // The impostor with the Cyrillic а answers Marie's post as well.
    let mut raw = RawFeed::new(actor(&cyrillic, 2));
    let change = raw.put_map(
        &format!("response:{post}"),
        &[
            ("to", ScalarValue::Str(marie.author().to_string().into())),
            ("message", ScalarValue::Str("it's me".into())),
            ("at", ScalarValue::Int(NOW)),
        ],
        &[],
    );
    board
        .receive(
            FeedId::first(cyrillic.id()),
            &change,
            &[raw.signed_by(&cyrillic)],
        )
        .unwrap();
    let view = board.post(post, NOW).unwrap();
    assert!(view.author_name_lookalike);
    let flag = |helper| {
        view.responses
            .iter()
            .find(|r| r.helper == helper)
            .map(|r| r.helper_name_lookalike)
    };
    assert_eq!(flag(karim.author()), Some(false));
    assert_eq!(flag(cyrillic.id()), Some(true));

    // Older JSON, without the flags, still reads.
    let mut json = serde_json_value(&view);
    json.as_object_mut()
        .unwrap()
        .remove("author_name_lookalike");
    for r in json["responses"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("helper_name_lookalike");
    }
    let old: PostView = serde_json::from_value(json).unwrap();
    assert!(!old.author_name_lookalike);
}

fn serde_json_value(view: &PostView) -> serde_json::Value {
    serde_json::to_value(view).unwrap()
}

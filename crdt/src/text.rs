//! What text from people may contain.
//!
//! Everything a resident types reaches their neighbours' screens: the web page, the
//! terminal, the JSON API. A modified client can write anything into its own feed, so the
//! rules are applied twice: on write (the text stored is neutralised, control characters
//! are refused, see `post.rs`) and on read (every text read from any feed is neutralised,
//! see `content.rs`), so that nothing in a view can carry a control character, a
//! direction override or an invisible character, whatever was written.
//!
//! [`neutralise`] is a pure function of the text and of the Unicode 18.0 tables of the
//! `unicode-*` crates, so every node shows the same text; `docs/protocol.md` (3.8) gives
//! the rules precisely enough to reimplement them.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::limits::MAX_MARKS_IN_A_ROW;

/// Characters that change the direction of the text around them: the Arabic letter
/// mark, left-to-right and right-to-left marks, embeddings, overrides and isolates. An
/// override (U+202E) makes `evil.exe` read as `exe.live`, or a name end with someone
/// else's.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that show nothing and that no neighbour needs: zero-width spaces, word
/// joiners, invisible operators, the byte-order mark, the soft hyphen, the grapheme
/// joiner, blank fillers (Hangul, Khmer), deprecated and annotation format characters,
/// and unassigned default-ignorable code points. They let two texts that look the same
/// differ (a name, a phone number split by a zero-width space). Not included: the
/// joiners U+200C and U+200D (see [`neutralise`]), variation selectors (emoji need them;
/// they count as combining marks), tag characters (handled by [`neutralise`] since the
/// flags of England, Scotland and Wales need them).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E001F}'
            | '\u{E0080}'..='\u{E00FF}'
            | '\u{E01F0}'..='\u{E0FFF}'
    )
}

/// The zero-width non-joiner (U+200C) and joiner (U+200D). Persian and the Indic scripts
/// need them between letters, emoji sequences between emoji; between ASCII letters they
/// only hide a difference.
pub fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Tag characters (U+E0020..U+E007F): invisible copies of ASCII. Only the subdivision
/// flags use them, after U+1F3F4 (waving black flag); anywhere else they smuggle text
/// that no one sees.
fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

const BLACK_FLAG: char = '\u{1F3F4}';
const NEL: char = '\u{0085}';

/// The text with everything that could control a terminal or the layout, or hide a
/// difference, taken out. `multiline` says whether the text may hold lines (a post's
/// details, a message) or is one line (a title, an area, a name).
///
/// In this order:
///
/// 1. Line breaks: CR LF, CR, LF, NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
///    SEPARATOR (U+2029) become `\n` when `multiline`, else a space; a tab stays when
///    `multiline`, else becomes a space. Every other control character (Unicode general
///    category Cc: C0, DEL, C1) is removed.
/// 2. Direction controls ([`is_bidi_control`]) and invisible characters
///    ([`is_invisible`]) are removed. Tag characters are removed unless they follow
///    U+1F3F4 or a tag character kept.
/// 3. Combining marks (general category M) beyond [`MAX_MARKS_IN_A_ROW`] in a row are
///    removed; joiners in between do not break the row.
/// 4. A joiner ([`is_joiner`]) is kept only between two characters that are neither
///    ASCII, whitespace nor joiners (emoji sequences, Persian): `Mar\u{200D}ie` loses
///    it, `👩\u{200D}💻` keeps it.
///
/// Neutralising twice gives the same text as once. Nothing else changes: letters, marks,
/// emoji and spaces stay as typed (no normalisation form is applied here).
pub fn neutralise(text: &str, multiline: bool) -> Cow<'_, str> {
    // Most text (accented letters included, as keyboards type them precomposed) has
    // nothing to change: tell so in one pass.
    let plain = |c: char| {
        if c.is_ascii() {
            !c.is_ascii_control() || (multiline && (c == '\n' || c == '\t'))
        } else {
            !(c.is_control()
                || is_bidi_control(c)
                || is_invisible(c)
                || is_joiner(c)
                || is_tag(c)
                || matches!(c, '\u{2028}' | '\u{2029}')
                || is_combining_mark(c))
        }
    };
    if text.chars().all(plain) {
        return Cow::Borrowed(text);
    }
    let out = joiners(&capped_marks(&stripped(text, multiline)));
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// Steps 1 and 2 of [`neutralise`].
fn stripped(text: &str, multiline: bool) -> Vec<char> {
    let line_break = if multiline { '\n' } else { ' ' };
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_tag_sequence = false;
    while let Some(c) = chars.next() {
        let tag_continues = in_tag_sequence && is_tag(c);
        in_tag_sequence = c == BLACK_FLAG || tag_continues;
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(line_break);
            }
            '\n' | NEL | '\u{2028}' | '\u{2029}' => out.push(line_break),
            '\t' => out.push(if multiline { '\t' } else { ' ' }),
            c if c.is_control() || is_bidi_control(c) || is_invisible(c) => {}
            c if is_tag(c) && !tag_continues => {}
            c => out.push(c),
        }
    }
    out
}

/// Step 3 of [`neutralise`].
fn capped_marks(text: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut marks = 0;
    for &c in text {
        if is_combining_mark(c) {
            marks += 1;
            if marks > MAX_MARKS_IN_A_ROW {
                continue;
            }
        } else if !is_joiner(c) {
            marks = 0;
        }
        out.push(c);
    }
    out
}

/// Step 4 of [`neutralise`].
fn joiners(text: &[char]) -> String {
    let joinable =
        |c: Option<&char>| c.is_some_and(|&c| !c.is_ascii() && !c.is_whitespace() && !is_joiner(c));
    let mut out = String::with_capacity(text.len());
    let mut last: Option<char> = None;
    for (i, &c) in text.iter().enumerate() {
        if is_joiner(c) && !(joinable(last.as_ref()) && joinable(text.get(i + 1))) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// Whether `c` is a decimal digit of any script (general category Nd): ASCII, Arabic-Indic
/// (U+0660..), Extended Arabic-Indic (U+06F0..), Devanagari (U+0966..), full-width...
pub(crate) fn is_decimal_digit(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    c.is_ascii_digit() || c.general_category() == GeneralCategory::DecimalNumber
}

/// The text as the contact filter reads it (`looks_like_phone_number`,
/// `looks_like_email`): neutralised (multi-line), then NFKC (full-width digits and `＠`
/// become ASCII, non-breaking spaces become spaces), then every decimal digit of any
/// script becomes `0`, every run of whitespace (and of U+2800, the blank Braille
/// pattern) one space, every dash (general category
/// Pd, and U+2212 MINUS SIGN) `-`, middle dots and ideographic full stops `.`, the
/// fraction and division slashes `/`.
pub(crate) fn contact_form(text: &str) -> Vec<char> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    for c in neutralise(text, true).nfkc() {
        let c = match c {
            // U+2800 BRAILLE PATTERN BLANK shows as a space.
            c if c.is_whitespace() || c == '\u{2800}' => ' ',
            c if is_decimal_digit(c) => '0',
            '\u{2212}' => '-',
            c if c.general_category() == GeneralCategory::DashPunctuation => '-',
            '\u{00B7}' | '\u{2027}' | '\u{30FB}' | '\u{3002}' => '.',
            '\u{2044}' | '\u{2215}' => '/',
            c => c,
        };
        if c == ' ' && out.last() == Some(&' ') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The key under which two display names count as looking alike: the name neutralised
/// (one line), in NFKC, lower-cased, its whitespace runs made one space and trimmed, then
/// its confusable skeleton (Unicode UTS #39, `unicode-security`), which maps every
/// character to a prototype it can be mistaken for (Cyrillic `а` to Latin `a`, `m` to
/// `rn`, `1` and `I` to `l`) and drops default-ignorable characters.
///
/// `Marie`, `marie`, `Mаrie` (Cyrillic а) and `Marie\u{200B}` share a skeleton; `Maria`
/// does not.
pub fn name_skeleton(name: &str) -> String {
    skeleton_of(&folded(name).to_lowercase())
}

/// The keys of a name for look-alike detection: [`name_skeleton`], and the skeleton
/// without lower-casing first (lower-casing turns `I` into `i`, which loses that `Iris`
/// and `lris` look the same). Two names look alike when they share either key. Empty
/// for a blank name.
pub(crate) fn name_keys(name: &str) -> Vec<String> {
    let folded = folded(name);
    if folded.is_empty() {
        return Vec::new();
    }
    let mut keys = vec![skeleton_of(&folded.to_lowercase()), skeleton_of(&folded)];
    keys.dedup();
    keys
}

/// Neutralised, NFKC, whitespace runs made one space, trimmed.
fn folded(name: &str) -> String {
    let nfkc: String = neutralise(name, false).nfkc().collect();
    nfkc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn skeleton_of(text: &str) -> String {
    unicode_security::skeleton(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_MARKS_IN_A_ROW;

    #[test]
    fn plain_text_is_left_alone_and_borrowed() {
        for t in [
            "Water to the 4th floor",
            "Café, crème brûlée",
            "",
            "日本語",
            "بناء",
        ] {
            assert!(matches!(neutralise(t, false), Cow::Borrowed(_)), "{t}");
        }
        assert!(matches!(
            neutralise("two\nlines\tand a tab", true),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn control_characters_are_removed_and_line_breaks_kept_only_in_multiline_text() {
        let hostile = "red\u{1b}[31m alert\u{7}\u{9b}2J\u{0}";
        assert_eq!(neutralise(hostile, false), "red[31m alert2J");
        assert_eq!(neutralise(hostile, true), "red[31m alert2J");
        assert_eq!(neutralise("a\r\nb\rc\nd\u{85}e", true), "a\nb\nc\nd\ne");
        assert_eq!(neutralise("a\r\nb\rc\nd\u{85}e", false), "a b c d e");
        assert_eq!(neutralise("a\tb", true), "a\tb");
        assert_eq!(neutralise("a\tb", false), "a b");
        assert_eq!(neutralise("a\u{2028}b\u{2029}c", true), "a\nb\nc");
        assert_eq!(neutralise("a\u{2028}b\u{2029}c", false), "a b c");
        assert_eq!(neutralise("\u{b}\u{c}\u{7f}", true), "");
    }

    #[test]
    fn direction_overrides_and_invisible_characters_are_removed() {
        // "Marie" followed by an override that would show "gro.elpmaxe" backwards.
        assert_eq!(
            neutralise("Marie\u{202E}gro.elpmaxe", false),
            "Mariegro.elpmaxe"
        );
        for c in [
            '\u{061C}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{2060}',
            '\u{2061}',
            '\u{2062}',
            '\u{2063}',
            '\u{2064}',
            '\u{FEFF}',
            '\u{180E}',
            '\u{00AD}',
            '\u{034F}',
            '\u{3164}',
            '\u{115F}',
            '\u{FFA0}',
            '\u{FFF9}',
            '\u{1BCA0}',
            '\u{E0001}',
            '\u{E0041}',
        ] {
            let t = format!("0{c}6{c}1{c}2");
            assert_eq!(neutralise(&t, false), "0612", "U+{:04X}", c as u32);
            assert_eq!(neutralise(&t, true), "0612", "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn joiners_stay_only_between_non_ascii_characters() {
        assert_eq!(neutralise("Mar\u{200D}ie", false), "Marie");
        assert_eq!(neutralise("Mar\u{200C}ie", false), "Marie");
        assert_eq!(neutralise("\u{200D}Marie\u{200D}", false), "Marie");
        // A family and a technologist: emoji sequences keep their joiners.
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(neutralise(family, false), family);
        let technologist = "👩🏽\u{200D}💻";
        assert_eq!(neutralise(technologist, false), technologist);
        // A heart on fire: the joiner follows a variation selector.
        let heart = "❤\u{FE0F}\u{200D}🔥";
        assert_eq!(neutralise(heart, false), heart);
        // Persian: "mi-khāham" is written with a zero-width non-joiner.
        let persian = "می\u{200C}خواهم";
        assert_eq!(neutralise(persian, false), persian);
        // Never two joiners in a row, never next to a space.
        assert_eq!(neutralise("é\u{200D}\u{200D}é", false), "é\u{200D}é");
        assert_eq!(neutralise("é\u{200D} é", false), "é é");
        // A joiner whose neighbour was invisible is judged on what is left.
        assert_eq!(neutralise("é\u{200D}\u{200B}a", false), "éa");
    }

    #[test]
    fn flags_of_subdivisions_keep_their_tags_and_smuggled_tags_go() {
        let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(neutralise(scotland, false), scotland);
        // Tag characters spelling "call me" after an ordinary word.
        let smuggled = "hello\u{E0063}\u{E0061}\u{E006C}\u{E006C}";
        assert_eq!(neutralise(smuggled, false), "hello");
    }

    #[test]
    fn towers_of_combining_marks_are_cut() {
        let tower = format!("a{}b", "\u{0301}".repeat(500));
        let expected = format!("a{}b", "\u{0301}".repeat(MAX_MARKS_IN_A_ROW));
        assert_eq!(neutralise(&tower, false), expected);
        // Joiners or invisible characters between the marks do not start a new row.
        let hidden = format!("a{}", "\u{0301}\u{200B}\u{200D}".repeat(20));
        let kept = neutralise(&hidden, false);
        assert_eq!(
            kept.chars().filter(|&c| c == '\u{0301}').count(),
            MAX_MARKS_IN_A_ROW
        );
        // Vietnamese (decomposed) keeps its two marks.
        let viet = "Nguye\u{0302}\u{0303}n";
        assert_eq!(neutralise(viet, false), viet);
    }

    #[test]
    fn neutralising_twice_changes_nothing_more() {
        let samples = [
            "é\u{200D}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{0301}\u{200D}\u{0301}x",
            "a\u{200D}\u{200B}\u{200D}é",
            "\u{1F3F4}\u{200B}\u{E0067}\u{E007F}",
            "x\r\r\n\u{202E}\u{200C}\u{200C}y",
        ];
        for t in samples {
            for multiline in [false, true] {
                let once = neutralise(t, multiline).into_owned();
                assert_eq!(neutralise(&once, multiline), once, "{t:?}");
            }
        }
    }

    proptest::proptest! {
        /// Over text mixing the characters that matter: neutralising twice changes nothing
        /// more, and nothing that should go is left.
        #[test]
        fn neutralised_text_is_clean_and_stays_as_it_is(
            chars in proptest::collection::vec(proptest::sample::select(vec![
                'a', 'Z', ' ', '1', '\n', '\r', '\t', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}',
                '\u{9b}', '\u{2028}', '\u{2029}', '\u{202E}', '\u{2066}', '\u{200E}',
                '\u{200B}', '\u{FEFF}', '\u{AD}', '\u{200C}', '\u{200D}', '\u{0301}',
                '\u{FE0F}', 'é', 'ب', '👩', '\u{1F3F4}', '\u{E0067}', '\u{E007F}', '\u{3000}',
            ]), 0..40),
            multiline in proptest::bool::ANY,
        ) {
            let text: String = chars.into_iter().collect();
            let once = neutralise(&text, multiline).into_owned();
            proptest::prop_assert_eq!(neutralise(&once, multiline), once.as_str());
            let kept: Vec<char> = once.chars().collect();
            for (i, &c) in kept.iter().enumerate() {
                let line = multiline && (c == '\n' || c == '\t');
                proptest::prop_assert!(!c.is_control() || line, "{:?}", once);
                proptest::prop_assert!(!is_bidi_control(c) && !is_invisible(c));
                proptest::prop_assert!(!matches!(c, '\u{2028}' | '\u{2029}'), "{:?}", once);
                if is_joiner(c) {
                    proptest::prop_assert!(i > 0 && !kept[i - 1].is_ascii());
                    proptest::prop_assert!(kept.get(i + 1).is_some_and(|n| !n.is_ascii()));
                }
            }
        }
    }

    #[test]
    fn the_contact_form_makes_digits_spaces_and_at_signs_plain() {
        let form = |t: &str| contact_form(t).into_iter().collect::<String>();
        assert_eq!(form("06\u{A0}12\u{202F}34\u{2009}56"), "00 00 00 00");
        assert_eq!(form("０６１２"), "0000");
        assert_eq!(form("٠٦١٢ ۰۶۱۲ ०६१२"), "0000 0000 0000");
        assert_eq!(form("marie＠example．org"), "marie@example.org");
        assert_eq!(form("a \t\n b"), "a b");
        assert_eq!(form("06\u{2800}12"), "00 00");
        assert_eq!(form("0\u{2011}6\u{2013}1\u{2212}2"), "0-0-0-0");
    }

    #[test]
    fn look_alike_names_share_a_skeleton() {
        let alike = |a: &str, b: &str| {
            let (ka, kb) = (name_keys(a), name_keys(b));
            ka.iter().any(|k| kb.contains(k))
        };
        assert_eq!(name_skeleton("Marie"), name_skeleton("marie"));
        assert_eq!(name_skeleton("Marie"), name_skeleton("M\u{0430}rie"));
        assert_eq!(name_skeleton("Marie"), name_skeleton("Marie\u{200B}"));
        assert_eq!(name_skeleton("Marie"), name_skeleton("  Marie\u{3000}"));
        assert_eq!(
            name_skeleton("Marie Dupont"),
            name_skeleton("Marie  Dupont")
        );
        assert_ne!(name_skeleton("Marie"), name_skeleton("Maria"));
        assert!(alike("Karim", "Karirn"));
        assert!(alike("Iris", "lris"));
        assert!(alike("Marie", "ＭＡＲＩＥ"));
        // An override around a name is dropped, so what is left is the name itself.
        assert!(alike("Karim", "\u{202E}Karim\u{202C}"));
        // The letters "miraK" under a right-to-left override show as "Karim"; neutralised,
        // they show as what they are, which looks like no one.
        assert_eq!(neutralise("\u{202E}miraK", false), "miraK");
        assert!(!alike("Karim", "\u{202E}miraK"));
        assert!(!alike("Marie", "Maria"));
        assert!(!alike("Léa", "Lena"));
        assert!(name_keys("\u{200B} \u{3164}").is_empty());
    }
}

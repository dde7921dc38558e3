//! What a post is: kinds, categories, urgencies, ids, and the rules for the text people type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::author::AuthorId;
use crate::behalf::OnBehalfOf;
use crate::care::MAX_CONSENT_CHARS;
use crate::limits::{
    MAX_AREA_CHARS, MAX_DETAILS_CHARS, MAX_EXPIRY_SECS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS,
    MAX_NOTE_CHARS, MAX_TITLE_CHARS,
};
use crate::text::{contact_form, neutralise};

/// Seconds since the Unix epoch. The crate has no clock: "now" is always passed in.
pub type Timestamp = i64;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Whether a post offers help or asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// "I need help with ..."
    Request,
    /// "I can help with ..."
    Offer,
}

/// What a post is about: a fixed list, so every node shows and filters them alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Groceries and errands.
    Errands,
    /// A visit, company, a phone call.
    Visit,
    /// DIY and repairs.
    Diy,
    /// A lift, transport.
    Transport,
    /// Lending a thing.
    Lending,
    /// Paperwork, forms, letters.
    Paperwork,
    /// Childcare.
    Childcare,
    /// Pets.
    Pets,
    /// Warmth and shelter.
    Shelter,
    /// Water and food.
    Food,
    /// Anything else.
    Other,
}

/// How soon help is needed. It also sets the default expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Within hours.
    Urgent,
    /// Today.
    Today,
    /// This week.
    Week,
    /// Whenever.
    Whenever,
}

macro_rules! text_enum {
    ($ty:ident, $what:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $ty {
            /// Every value, in display order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stable text code used on the wire, in the API and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // `pad`, so widths in format strings line columns up.
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::post::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err($crate::post::UnknownValue {
                        what: $what,
                        value: s.chars().take(40).collect(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(Kind, "kind", Request => "request", Offer => "offer");
text_enum!(Category, "category",
    Errands => "errands", Visit => "visit", Diy => "diy", Transport => "transport",
    Lending => "lending", Paperwork => "paperwork", Childcare => "childcare", Pets => "pets",
    Shelter => "shelter", Food => "food", Other => "other");
text_enum!(Urgency, "urgency", Urgent => "urgent", Today => "today", Week => "week",
    Whenever => "whenever");

/// A text code that is not one of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`: expected one of {}", expected.join(", "))]
pub struct UnknownValue {
    /// Which list the value was looked up in.
    pub what: &'static str,
    /// The value given (at most 40 characters of it).
    pub value: String,
    /// The accepted values.
    pub expected: &'static [&'static str],
}

impl Urgency {
    /// How long a post of this urgency stays on the board unless its author says otherwise.
    pub fn default_lifetime(self) -> i64 {
        match self {
            Urgency::Urgent => 12 * HOUR,
            Urgency::Today => DAY,
            Urgency::Week => 7 * DAY,
            Urgency::Whenever => 28 * DAY,
        }
    }

    /// The longest a post of this urgency stays on the board, counted from its
    /// `created_at`: an explicit expiry beyond it is refused on write, and every view cuts a
    /// stored expiry to it, so no post stays urgent for weeks whatever its author wrote.
    /// Never more than [`MAX_EXPIRY_SECS`].
    pub fn max_lifetime(self) -> i64 {
        match self {
            Urgency::Urgent => DAY,
            Urgency::Today => 2 * DAY,
            Urgency::Week => 14 * DAY,
            Urgency::Whenever => MAX_EXPIRY_SECS,
        }
    }

    /// Sort rank: the most urgent first.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Urgency::Urgent => 0,
            Urgency::Today => 1,
            Urgency::Week => 2,
            Urgency::Whenever => 3,
        }
    }
}

/// A post's id: unique on the board, shown as 16 hex digits.
///
/// It is derived from the author and a random nonce chosen when posting,
/// `sha256("entraide/post/v1" || author || nonce)[..8]`, so no author can take another
/// author's post id without a 2^64 search.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostId(pub [u8; 8]);

crate::fixed_bytes::hex_or_bytes_serde!(PostId, 8);

impl PostId {
    /// The id of the post `author` stores under `nonce`.
    pub fn derive(author: &AuthorId, nonce: &[u8; 8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"entraide/post/v1");
        h.update(author.0);
        h.update(nonce);
        let digest = h.finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostId({self})")
    }
}

/// The text is not a post id (16 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a post id: expected 16 hexadecimal digits")]
pub struct ParsePostIdError;

impl FromStr for PostId {
    type Err = ParsePostIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 8];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ParsePostIdError)?;
        Ok(Self(out))
    }
}

/// A post as its author types it, before it enters their feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDraft {
    /// Offer or request.
    pub kind: Kind,
    /// What it is about.
    pub category: Category,
    /// One line.
    pub title: String,
    /// A few lines more, may be empty.
    #[serde(default)]
    pub details: String,
    /// How soon.
    pub urgency: Urgency,
    /// A coarse place (building, street), may be empty. Never an exact address.
    #[serde(default)]
    pub area: String,
    /// When the post leaves the board; by default derived from the urgency.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// For a post made for a neighbour who has no device: their name and their consent
    /// (`crate::behalf`). Written once with the post, never changed.
    #[serde(default)]
    pub on_behalf_of: Option<OnBehalfOf>,
}

/// Why a text was refused. Each says what to change, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// A required text is empty.
    #[error("the {field} is empty")]
    Empty {
        /// Which field.
        field: Field,
    },
    /// A text is longer than its limit.
    #[error("the {field} is too long: {len} characters, at most {max}")]
    TooLong {
        /// Which field.
        field: Field,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A public text contains what looks like a phone number.
    #[error(
        "a phone number was found in the {field}: give contact details in person, not on the board"
    )]
    PhoneNumber {
        /// Which field.
        field: Field,
    },
    /// A public text contains what looks like an e-mail address.
    #[error(
        "an e-mail address was found in the {field}: give contact details in person, not on the board"
    )]
    Email {
        /// Which field.
        field: Field,
    },
    /// A text contains control characters.
    #[error("the {field} contains control characters")]
    ControlCharacters {
        /// Which field.
        field: Field,
    },
    /// The expiry is in the past or further ahead than the urgency allows
    /// ([`Urgency::max_lifetime`]).
    #[error("the expiry must be after now and at most {max_days} days ahead for this urgency")]
    Expiry {
        /// How many days ahead the expiry may be at most, for the draft's urgency.
        max_days: u32,
    },
    /// An alert's end is in the past or further ahead than
    /// [`crate::limits::MAX_ALERT_SECS`].
    #[error("the end of the alert must be after now and at most {max_days} days ahead")]
    AlertEnd {
        /// How many days ahead the end may be at most.
        max_days: u32,
    },
    /// A sighting's text looks like it names the person (`crate::looks_like_a_name`).
    #[error(
        "the {field} seems to name a person (`{word}`): a sighting never holds a name; say only the place and what is needed"
    )]
    NamesAPerson {
        /// Which field.
        field: Field,
        /// The word that looks like a name or introduces one.
        word: String,
    },
    /// A sighting's text looks like it describes the person (`crate::looks_like_a_name`).
    #[error(
        "the {field} seems to describe a person (`{word}`): a sighting never holds a description; say only the place and what is needed"
    )]
    DescribesAPerson {
        /// Which field.
        field: Field,
        /// The word that describes.
        word: String,
    },
    /// A post for a neighbour names them but carries no consent, or too short a one.
    #[error(
        "a post for a neighbour needs their consent: say who agreed, how and when (at least {min} characters)"
    )]
    NoConsent {
        /// The fewest characters of a consent statement.
        min: usize,
    },
    /// A post for a neighbour carries a consent but not the neighbour's name.
    #[error("a post for a neighbour needs their name, not only their consent")]
    NoNeighbour,
}

/// A field a person types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// A post's title.
    Title,
    /// A post's details.
    Details,
    /// A post's area.
    Area,
    /// A display name.
    Name,
    /// A response or thanks message.
    Message,
    /// A short one-line note (an alert's, a sighting's, what was done for a sighting).
    Note,
    /// The name of the neighbour a post is made for (`crate::behalf`).
    Neighbour,
    /// Who agreed to a post made for them, how and when (`crate::behalf`).
    Consent,
}

impl Field {
    /// The longest text of this field, in characters (`crate::limits`).
    pub fn max_chars(self) -> usize {
        match self {
            Field::Title => MAX_TITLE_CHARS,
            Field::Details => MAX_DETAILS_CHARS,
            Field::Area => MAX_AREA_CHARS,
            Field::Name => MAX_NAME_CHARS,
            Field::Message => MAX_MESSAGE_CHARS,
            Field::Note => MAX_NOTE_CHARS,
            Field::Neighbour => MAX_NAME_CHARS,
            Field::Consent => MAX_CONSENT_CHARS,
        }
    }

    /// Whether the field may hold several lines (details and messages) or is one line.
    pub fn multiline(self) -> bool {
        matches!(self, Field::Details | Field::Message)
    }

    /// Whether the field may not be empty (title, name, and both parts of a post for a
    /// neighbour).
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::Title | Field::Name | Field::Neighbour | Field::Consent
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Title => "title",
            Field::Details => "details",
            Field::Area => "area",
            Field::Name => "name",
            Field::Message => "message",
            Field::Note => "note",
            Field::Neighbour => "neighbour's name",
            Field::Consent => "consent",
        })
    }
}

impl PostDraft {
    /// Every rule the draft breaks, field by field (for forms that show all problems at
    /// once); empty when [`PostDraft::check`] would accept it.
    pub fn problems(&self, now: Timestamp) -> Vec<TextError> {
        let mut out = Vec::new();
        for (field, text) in [
            (Field::Title, &self.title),
            (Field::Details, &self.details),
            (Field::Area, &self.area),
        ] {
            if let Err(e) = clean_text(field, text) {
                out.push(e);
            }
        }
        if let Some(behalf) = &self.on_behalf_of {
            out.extend(behalf.problems());
        }
        if let Err(e) = self.check_expiry(now) {
            out.push(e);
        }
        out
    }

    fn check_expiry(&self, now: Timestamp) -> Result<Timestamp, TextError> {
        let max = self.urgency.max_lifetime().min(MAX_EXPIRY_SECS);
        match self.expires_at {
            None => Ok(now.saturating_add(self.urgency.default_lifetime())),
            Some(at) if at > now && at <= now.saturating_add(max) => Ok(at),
            Some(_) => Err(TextError::Expiry {
                max_days: u32::try_from(max / DAY).unwrap_or(u32::MAX),
            }),
        }
    }

    /// Checks every rule for a new post at time `now`: lengths, no contact details, a
    /// sensible expiry, and for a post made for a neighbour both their name and their
    /// consent ([`OnBehalfOf`]). Returns the expiry the post will carry.
    pub fn check(&self, now: Timestamp) -> Result<Timestamp, TextError> {
        self.cleaned(now).map(|(_, expires_at)| expires_at)
    }

    /// The draft as it will be stored (each text through [`clean_text`]) and its expiry.
    pub(crate) fn cleaned(&self, now: Timestamp) -> Result<(PostDraft, Timestamp), TextError> {
        let cleaned = PostDraft {
            title: clean_text(Field::Title, &self.title)?,
            details: clean_text(Field::Details, &self.details)?,
            area: clean_text(Field::Area, &self.area)?,
            on_behalf_of: self
                .on_behalf_of
                .as_ref()
                .map(OnBehalfOf::cleaned)
                .transpose()?,
            ..self.clone()
        };
        let expires_at = self.check_expiry(now)?;
        Ok((cleaned, expires_at))
    }
}

/// Checks a display name.
pub fn check_name(name: &str) -> Result<(), TextError> {
    clean_text(Field::Name, name).map(drop)
}

/// Checks a response or thanks message (may be empty).
pub fn check_message(message: &str) -> Result<(), TextError> {
    clean_text(Field::Message, message).map(drop)
}

/// The one gate of every text a person types before it enters their feed (post title,
/// details and area, name, response and thanks messages): returns the text to store, or
/// the first rule it breaks.
///
/// Control characters are refused (a form never sends them, so their presence is worth
/// telling); direction controls and invisible characters are taken out
/// ([`neutralise`]) before anything else is checked, so that they can neither hide a
/// phone number nor count towards a length. Then, on the neutralised text: not blank if
/// required, not over the field's length, no phone number, no e-mail address. What is
/// stored is the neutralised text, trimmed.
pub(crate) fn clean_text(field: Field, text: &str) -> Result<String, TextError> {
    let controls = text
        .chars()
        .any(|c| c.is_control() && !(field.multiline() && (c == '\n' || c == '\t')));
    let text = neutralise(text, field.multiline());
    if field.required() && text.trim().is_empty() {
        return Err(TextError::Empty { field });
    }
    let (len, max) = (text.chars().count(), field.max_chars());
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    if controls {
        return Err(TextError::ControlCharacters { field });
    }
    if looks_like_phone_number(&text) {
        return Err(TextError::PhoneNumber { field });
    }
    if looks_like_email(&text) {
        return Err(TextError::Email { field });
    }
    Ok(text.trim().to_owned())
}

/// Fewest digits in a run that we call a phone number. Dates (`25/11/2026`, 8 digits) and
/// times stay below it; French (10), UK (11) and international numbers reach it.
const PHONE_DIGITS: usize = 9;

/// Whether `text` holds a run of at least 9 digits, possibly split by single spaces, dots,
/// dashes, slashes or parentheses, and possibly starting with `+`: `06 12 34 56 78`,
/// `+33 (0)6.12.34.56.78`, `0612345678`.
///
/// The text is first put in its contact form (`text::contact_form`): invisible characters
/// out, NFKC, a digit of any script counts as a digit, any whitespace as a space, any
/// dash as `-`. `_` and `,` (and the Arabic decimal and thousands separators) count as
/// separators only directly between two digits, so `06_12_34_56_78` is a number and
/// `flats 12, 14 and 16` is not.
pub fn looks_like_phone_number(text: &str) -> bool {
    let chars = contact_form(text);
    let digit_at = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let mut digits = 0;
    // Separator characters seen since the last digit: a phone number has at most two in a
    // row (`) ` in `(0) 6`), prose has words.
    let mut gap = 0;
    for (i, &c) in chars.iter().enumerate() {
        let separator = matches!(c, ' ' | '.' | '-' | '/' | '(' | ')' | '+')
            || (matches!(c, '_' | ',' | '\u{066B}' | '\u{066C}')
                && i > 0
                && digit_at(i - 1)
                && digit_at(i + 1));
        if c.is_ascii_digit() {
            digits += 1;
            gap = 0;
            if digits >= PHONE_DIGITS {
                return true;
            }
        } else if gap < 2 && separator {
            gap += 1;
        } else {
            digits = 0;
            gap = 0;
        }
    }
    false
}

/// Whether `text` holds something shaped like `name@domain.tld`: a non-empty name, `@`, a
/// non-empty host, and a last label of at least two letters. The text is first put in
/// its contact form (as for [`looks_like_phone_number`]; NFKC turns `＠` into `@`), and
/// spaces around `@` are dropped, so `marie @ example.org` is an address; `meet @ the
/// hall`, `meet @ 3.30` and `user@localhost` are not.
pub fn looks_like_email(text: &str) -> bool {
    let mut joined = String::with_capacity(text.len());
    let mut after_at = false;
    for c in contact_form(text) {
        match c {
            '@' => {
                joined.truncate(joined.trim_end_matches(' ').len());
                joined.push('@');
                after_at = true;
            }
            ' ' if after_at => {}
            c => {
                joined.push(c);
                after_at = false;
            }
        }
    }
    joined
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')'))
        .any(|word| {
            let Some((local, domain)) = word.split_once('@') else {
                return false;
            };
            let domain = domain.trim_end_matches(['.', '!', '?']);
            let Some((host, rest)) = domain.split_once('.') else {
                return false;
            };
            let tld = rest.rsplit('.').next().unwrap_or(rest);
            !local.is_empty()
                && !host.is_empty()
                && tld.chars().count() >= 2
                && tld.chars().all(char::is_alphabetic)
        })
}

/// Text read from a remote feed for `field`: neutralised (`text::neutralise`) and cut to
/// the field's length. A text that breaks a rule is shown cleaned and cut, never refused
/// after the fact.
pub(crate) fn clip(field: Field, text: &str) -> String {
    neutralise(text, field.multiline())
        .chars()
        .take(field.max_chars())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str) -> PostDraft {
        PostDraft {
            kind: Kind::Request,
            category: Category::Food,
            title: title.into(),
            details: String::new(),
            urgency: Urgency::Today,
            area: String::new(),
            expires_at: None,
            on_behalf_of: None,
        }
    }

    #[test]
    fn phone_numbers_are_spotted_in_their_usual_shapes() {
        for t in [
            "call 06 12 34 56 78",
            "0612345678",
            "+33 6 12 34 56 78",
            "+33 (0)6.12.34.56.78",
            "tel: 01-23-45-67-89",
            "07700 900123",
        ] {
            assert!(looks_like_phone_number(t), "{t}");
        }
        for t in [
            "water for flat 12, 3rd floor",
            "on 25/11/2026 at 14:30",
            "2 packs of 6 bottles",
            "bus 38 then 27",
            "",
        ] {
            assert!(!looks_like_phone_number(t), "{t}");
        }
    }

    #[test]
    fn email_addresses_are_spotted() {
        assert!(looks_like_email("write to marie@example.org please"));
        assert!(looks_like_email("(karim.b@mail.fr)"));
        assert!(!looks_like_email("meet @ the hall"));
        assert!(!looks_like_email("user@localhost"));
    }

    /// What people type to get round the filter (issue 10, point 11), each named.
    #[test]
    fn phone_numbers_are_spotted_whatever_the_spaces_digits_and_separators() {
        for (what, t) in [
            ("no-break spaces", "06\u{A0}12\u{A0}34\u{A0}56\u{A0}78"),
            (
                "narrow no-break spaces",
                "06\u{202F}12\u{202F}34\u{202F}56\u{202F}78",
            ),
            ("thin spaces", "06\u{2009}12\u{2009}34\u{2009}56\u{2009}78"),
            (
                "ideographic spaces",
                "06\u{3000}12\u{3000}34\u{3000}56\u{3000}78",
            ),
            ("full-width digits", "０６ １２ ３４ ５６ ７８"),
            ("Arabic-Indic digits", "٠٦ ١٢ ٣٤ ٥٦ ٧٨"),
            ("Extended Arabic-Indic digits", "۰۶۱۲۳۴۵۶۷۸"),
            ("Devanagari digits", "०६१२३४५६७८"),
            ("mathematical digits", "𝟎𝟔𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖"),
            ("mixed scripts", "06 ١٢ ３４ 56 ۷۸"),
            ("underscores", "06_12_34_56_78"),
            ("commas", "06,12,34,56,78"),
            (
                "zero-width spaces",
                "06\u{200B}12\u{200B}34\u{200B}56\u{200B}78",
            ),
            (
                "zero-width spaces in every gap",
                "0\u{200B}6\u{200B}1\u{200B}2\u{200B}3\u{200B}4\u{200B}5\u{200B}6\u{200B}7\u{200B}8",
            ),
            (
                "word joiners and soft hyphens",
                "06\u{2060}12\u{AD}34\u{FEFF}56\u{2060}78",
            ),
            ("a right-to-left override", "\u{202E}87 65 43 21 60\u{202C}"),
            (
                "non-breaking hyphens",
                "06\u{2011}12\u{2011}34\u{2011}56\u{2011}78",
            ),
            ("en dashes", "06\u{2013}12\u{2013}34\u{2013}56\u{2013}78"),
            ("full-width plus and dots", "＋33 6．12．34．56．78"),
            ("newlines", "06\n12\n34\n56\n78"),
            ("several spaces", "06   12   34   56   78"),
            ("spaces and a tab", "06 \t 12 \t 34 \t 56 \t 78"),
        ] {
            assert!(looks_like_phone_number(t), "{what}: {t:?}");
        }
    }

    #[test]
    fn numbers_in_ordinary_sentences_are_not_phone_numbers() {
        for t in [
            "water for flat 12, 3rd floor",
            "on 25/11/2026 at 14:30",
            "2 packs of 6 bottles",
            "bus 38 then 27",
            "flats 12, 14 and 16",
            "flats 12,14 and 16",
            "on ٢٥/١١/٢٠٢٦",
            "on ２５/１１/２０２６",
            "1,5 kg of rice, 2 kg of pasta",
            "from 9:00 to 18:00, 3 days",
            "score 3_2 at half time",
            "12\u{A0}000 steps a day",
            "rooms 101-104",
        ] {
            assert!(!looks_like_phone_number(t), "{t:?}");
        }
    }

    #[test]
    fn email_addresses_are_spotted_whatever_the_spaces_and_at_signs() {
        for (what, t) in [
            ("spaces around @", "marie @ example.org"),
            ("no-break spaces around @", "marie\u{A0}@\u{A0}example.org"),
            ("full-width @", "marie＠example.org"),
            ("small @", "marie\u{FE6B}example.org"),
            ("full-width letters", "ｍａｒｉｅ＠ｅｘａｍｐｌｅ．ｏｒｇ"),
            ("zero-width spaces", "ma\u{200B}rie@exa\u{200B}mple.org"),
            ("ideographic full stop", "marie@example。org"),
            ("a trailing dot", "write to marie@example.org."),
        ] {
            assert!(looks_like_email(t), "{what}: {t:?}");
        }
        for t in [
            "meet @ the hall",
            "meet @ 3.30 at the hall",
            "user@localhost",
            "@ the corner of rue des Lilas. Thanks",
            "5 @ 2.50 each",
        ] {
            assert!(!looks_like_email(t), "{t:?}");
        }
    }

    #[test]
    fn typed_text_is_neutralised_before_it_is_checked_and_stored() {
        assert_eq!(
            clean_text(Field::Name, "  Ma\u{200B}rie\u{202E} "),
            Ok("Marie".into())
        );
        assert_eq!(
            clean_text(Field::Name, "\u{200B}\u{2060}"),
            Err(TextError::Empty { field: Field::Name })
        );
        // Invisible characters do not count towards the length.
        let padded = format!("{}{}", "x".repeat(MAX_TITLE_CHARS), "\u{200B}".repeat(10));
        assert_eq!(
            clean_text(Field::Title, &padded),
            Ok("x".repeat(MAX_TITLE_CHARS))
        );
        // Control characters stay refused, in every field; lines only in details and messages.
        assert_eq!(
            clean_text(Field::Title, "red\u{1b}[31m"),
            Err(TextError::ControlCharacters {
                field: Field::Title
            })
        );
        assert_eq!(
            clean_text(Field::Name, "a\nb"),
            Err(TextError::ControlCharacters { field: Field::Name })
        );
        assert_eq!(clean_text(Field::Message, "a\nb\tc"), Ok("a\nb\tc".into()));
        assert_eq!(
            clean_text(Field::Details, "line\u{2028}two"),
            Ok("line\ntwo".into())
        );
        // Emoji sequences survive.
        assert_eq!(
            clean_text(Field::Message, "merci 👩\u{200D}💻"),
            Ok("merci 👩\u{200D}💻".into())
        );
        assert_eq!(
            draft("call 06\u{200B}12\u{200B}34\u{200B}56\u{200B}78").check(1),
            Err(TextError::PhoneNumber {
                field: Field::Title
            })
        );
    }

    #[test]
    fn an_explicit_expiry_is_bounded_by_the_urgency() {
        let now = 1_000_000;
        for (urgency, days) in [
            (Urgency::Urgent, 1),
            (Urgency::Today, 2),
            (Urgency::Week, 14),
            (Urgency::Whenever, 90),
        ] {
            let mut d = draft("ok");
            d.urgency = urgency;
            assert!(urgency.default_lifetime() <= urgency.max_lifetime());
            assert!(urgency.max_lifetime() <= MAX_EXPIRY_SECS);
            d.expires_at = Some(now + days * DAY);
            assert_eq!(d.check(now), Ok(now + days * DAY), "{urgency}");
            d.expires_at = Some(now + days * DAY + 1);
            assert_eq!(
                d.check(now),
                Err(TextError::Expiry {
                    max_days: days as u32
                }),
                "{urgency}"
            );
        }
    }

    #[test]
    fn drafts_are_refused_with_the_reason() {
        let now = 1_000_000;
        assert_eq!(draft("Water, 6 bottles").check(now), Ok(now + DAY));
        assert_eq!(
            draft("  ").check(now),
            Err(TextError::Empty {
                field: Field::Title
            })
        );
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        assert!(matches!(
            draft(&long).check(now),
            Err(TextError::TooLong {
                field: Field::Title,
                ..
            })
        ));
        assert_eq!(
            draft("call 0612345678").check(now),
            Err(TextError::PhoneNumber {
                field: Field::Title
            })
        );
        let mut d = draft("ok");
        d.details = "mail me: a@b.fr".into();
        assert_eq!(
            d.check(now),
            Err(TextError::Email {
                field: Field::Details
            })
        );
        let mut d = draft("ok");
        d.area = "bât.\u{7}".into();
        assert_eq!(
            d.check(now),
            Err(TextError::ControlCharacters { field: Field::Area })
        );
        let mut d = draft("ok");
        d.expires_at = Some(now - 1);
        assert_eq!(d.check(now), Err(TextError::Expiry { max_days: 2 }));
        d.expires_at = Some(now + MAX_EXPIRY_SECS + 1);
        assert_eq!(d.check(now), Err(TextError::Expiry { max_days: 2 }));
        d.expires_at = Some(now + 60);
        assert_eq!(d.check(now), Ok(now + 60));
        let mut d = draft("");
        d.area = "06 12 34 56 78".into();
        assert_eq!(
            d.problems(now),
            vec![
                TextError::Empty {
                    field: Field::Title
                },
                TextError::PhoneNumber { field: Field::Area }
            ]
        );
    }

    #[test]
    fn default_expiry_follows_urgency() {
        assert!(Urgency::Urgent.default_lifetime() < Urgency::Today.default_lifetime());
        assert!(Urgency::Week.default_lifetime() < Urgency::Whenever.default_lifetime());
        assert_eq!(Urgency::Whenever.default_lifetime(), 28 * DAY);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_say_what_is_expected() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(*c));
        }
        let err = "plumbing".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("errands, visit"), "{err}");
    }

    #[test]
    fn post_ids_depend_on_author_and_nonce() {
        let a = AuthorId([1; 32]);
        let b = AuthorId([2; 32]);
        assert_ne!(PostId::derive(&a, &[0; 8]), PostId::derive(&b, &[0; 8]));
        assert_ne!(PostId::derive(&a, &[0; 8]), PostId::derive(&a, &[1; 8]));
        let id = PostId::derive(&a, &[3; 8]);
        assert_eq!(id.to_string().parse::<PostId>(), Ok(id));
    }
}

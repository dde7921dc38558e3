//! What a post is: kinds, categories, urgencies, ids, and the rules for the text people type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::author::AuthorId;
use crate::limits::{
    MAX_AREA_CHARS, MAX_DETAILS_CHARS, MAX_EXPIRY_SECS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
};

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

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so widths in format strings line columns up.
                f.pad(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(UnknownValue {
                        what: $what,
                        value: s.chars().take(40).collect(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

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
    /// The expiry is in the past or too far ahead.
    #[error("the expiry must be after now and at most 90 days ahead")]
    Expiry,
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
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Title => "title",
            Field::Details => "details",
            Field::Area => "area",
            Field::Name => "name",
            Field::Message => "message",
        })
    }
}

impl PostDraft {
    /// Every rule the draft breaks, field by field (for forms that show all problems at
    /// once); empty when [`PostDraft::check`] would accept it.
    pub fn problems(&self, now: Timestamp) -> Vec<TextError> {
        let mut out = Vec::new();
        for (field, text, required, max) in [
            (Field::Title, &self.title, true, MAX_TITLE_CHARS),
            (Field::Details, &self.details, false, MAX_DETAILS_CHARS),
            (Field::Area, &self.area, false, MAX_AREA_CHARS),
        ] {
            if let Err(e) = check_text(field, text, required, max) {
                out.push(e);
            }
        }
        if let Err(TextError::Expiry) = self.check_expiry(now) {
            out.push(TextError::Expiry);
        }
        out
    }

    fn check_expiry(&self, now: Timestamp) -> Result<Timestamp, TextError> {
        match self.expires_at {
            None => Ok(now + self.urgency.default_lifetime()),
            Some(at) if at > now && at <= now + MAX_EXPIRY_SECS => Ok(at),
            Some(_) => Err(TextError::Expiry),
        }
    }

    /// Checks every rule for a new post at time `now`: lengths, no contact details, a
    /// sensible expiry. Returns the expiry the post will carry.
    pub fn check(&self, now: Timestamp) -> Result<Timestamp, TextError> {
        check_text(Field::Title, &self.title, true, MAX_TITLE_CHARS)?;
        check_text(Field::Details, &self.details, false, MAX_DETAILS_CHARS)?;
        check_text(Field::Area, &self.area, false, MAX_AREA_CHARS)?;
        self.check_expiry(now)
    }
}

/// Checks a display name.
pub fn check_name(name: &str) -> Result<(), TextError> {
    check_text(Field::Name, name, true, MAX_NAME_CHARS)
}

/// Checks a response or thanks message (may be empty).
pub fn check_message(message: &str) -> Result<(), TextError> {
    check_text(Field::Message, message, false, MAX_MESSAGE_CHARS)
}

fn check_text(field: Field, text: &str, required: bool, max: usize) -> Result<(), TextError> {
    let len = text.chars().count();
    if required && text.trim().is_empty() {
        return Err(TextError::Empty { field });
    }
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    let allowed_newlines = matches!(field, Field::Details | Field::Message);
    if text
        .chars()
        .any(|c| c.is_control() && !(allowed_newlines && (c == '\n' || c == '\t')))
    {
        return Err(TextError::ControlCharacters { field });
    }
    if looks_like_phone_number(text) {
        return Err(TextError::PhoneNumber { field });
    }
    if looks_like_email(text) {
        return Err(TextError::Email { field });
    }
    Ok(())
}

/// Fewest digits in a run that we call a phone number. Dates (`25/11/2026`, 8 digits) and
/// times stay below it; French (10), UK (11) and international numbers reach it.
const PHONE_DIGITS: usize = 9;

/// Whether `text` holds a run of at least 9 digits, possibly split by single spaces, dots,
/// dashes, slashes or parentheses, and possibly starting with `+`: `06 12 34 56 78`,
/// `+33 (0)6.12.34.56.78`, `0612345678`.
pub fn looks_like_phone_number(text: &str) -> bool {
    let mut digits = 0;
    // Separator characters seen since the last digit: a phone number has at most two in a
    // row (`) ` in `(0) 6`), prose has words.
    let mut gap = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            gap = 0;
            if digits >= PHONE_DIGITS {
                return true;
            }
        } else if gap < 2 && matches!(c, ' ' | '.' | '-' | '/' | '(' | ')' | '+') {
            gap += 1;
        } else {
            digits = 0;
            gap = 0;
        }
    }
    false
}

/// Whether `text` holds something shaped like `name@domain.tld`.
pub fn looks_like_email(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')'))
        .any(|word| {
            let Some((local, domain)) = word.split_once('@') else {
                return false;
            };
            let domain = domain.trim_end_matches(['.', '!', '?']);
            !local.is_empty()
                && domain
                    .split_once('.')
                    .is_some_and(|(host, tld)| !host.is_empty() && tld.len() >= 2)
        })
}

/// `text` cut to at most `max` characters: text from a remote feed that breaks a limit is
/// shown cut, never refused after the fact.
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
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
        assert_eq!(d.check(now), Err(TextError::Expiry));
        d.expires_at = Some(now + MAX_EXPIRY_SECS + 1);
        assert_eq!(d.check(now), Err(TextError::Expiry));
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

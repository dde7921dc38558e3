//! Sightings: a person sleeping outside, at a coarse place, with what they need. Never a
//! name, a photo or a description of the person. A sighting expires
//! [`SIGHTING_LIFETIME_SECS`] after it is made; whoever brings something says so
//! ("done: brought a blanket") in their own feed.
//!
//! Stored under `sighting:<nonce>` in its author's feed and `sighting_done:<sighting id>`
//! in the helper's (see [`crate::entries`]).
//!
//! # What counts as naming or describing a person
//!
//! [`check_sighting_text`] refuses, besides what every public text refuses (phone numbers,
//! e-mail addresses, see [`crate::check_message`]), a text where one of these rules holds.
//! Words are compared in lower case, `’` read as `'`:
//!
//! 1. **A word that introduces a name**: `name`, `names`, `named`, `nickname`,
//!    `nicknamed`, `mr`, `mrs`, `ms`, `mister`, `nom`, `prénom`, `prenom`, `nommé`,
//!    `nommée`, `surnom`, `surnommé`, `surnommée`, `monsieur`, `madame`, `mademoiselle`,
//!    `mme`, `mlle`; or the phrases `is called`, `was called`, `goes by`, `s'appelle`
//!    (any word ending in `'appelle`).
//! 2. **A word that describes a person**: `wearing`, `wears`, `beard`, `bearded`, `hair`,
//!    `tattoo`, `tattooed`, `years old`, `barbe`, `barbu`, `cheveux`, `tatouage`,
//!    `tatoué`, `tatouée`, `habillé`, `habillée`, `vêtu`, `vêtue`, `portant`, and a number
//!    followed by `ans` (an age).
//! 3. **In a note** (not in the place, where street names are capitalised): a word that
//!    starts with a capital letter and holds a small letter (`Marie`, not `SAMU`), and is
//!    not the first word of a sentence (the text's start, or after `.`, `!`, `?`, `:`,
//!    `;` or a new line). English day and month names and `I'm`, `I'll`, `I've`, `I'd`
//!    are allowed.
//!
//! False alarms are possible ("near the Church"): the error names the word, and writing
//! it in small letters, or putting the place in the place field, passes.

use std::cmp::Reverse;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, Writer};
use crate::board::{Board, ResolveError};
use crate::content::{Source, int, text};
use crate::entries::{DONE_PREFIX, EntryError, EntryKind, SIGHTING_PREFIX, SightingId};
use crate::feed::{LocalChange, WriteError};
use crate::limits::{MAX_CLOCK_AHEAD_SECS, SIGHTING_LIFETIME_SECS};
use crate::post::{Field, TextError, Timestamp, clean_text, clip};

/// What a person sleeping outside needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// A blanket or sleeping bag.
    Blanket,
    /// A hot drink.
    Drink,
    /// Food.
    Food,
    /// Company, someone to talk to.
    Company,
    /// A place in a shelter (in France: call 115).
    Shelter,
}

crate::post::text_enum!(Need, "need", Blanket => "blanket", Drink => "drink", Food => "food",
    Company => "company", Shelter => "shelter");

/// Needs as stored and typed: codes joined by `,`, in the order of [`Need::ALL`], each once.
pub fn parse_needs(text: &str) -> Result<Vec<Need>, crate::UnknownValue> {
    let mut needs = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.to_lowercase().parse())
        .collect::<Result<Vec<Need>, _>>()?;
    needs.sort();
    needs.dedup();
    Ok(needs)
}

fn needs_text(needs: &[Need]) -> String {
    needs
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A sighting as its author types it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SightingDraft {
    /// A coarse place ("under the bridge, rue des Lilas").
    pub place: String,
    /// What is needed (at least one).
    pub needs: Vec<Need>,
    /// A short note, may be empty: never a name or a description.
    #[serde(default)]
    pub note: String,
}

/// A sighting as stored in its author's feed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredSighting {
    /// Its id.
    pub id: SightingId,
    /// The nonce it is stored under.
    pub nonce: [u8; 8],
    /// Place.
    pub place: String,
    /// Needs.
    pub needs: Vec<Need>,
    /// Note.
    pub note: String,
    /// When it was made (author's clock).
    pub created_at: Timestamp,
}

impl StoredSighting {
    /// Whether it is still shown at `now`: less than [`SIGHTING_LIFETIME_SECS`] old, and
    /// not dated more than [`MAX_CLOCK_AHEAD_SECS`] after now.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.created_at.saturating_add(SIGHTING_LIFETIME_SECS)
            && self.created_at <= now.saturating_add(MAX_CLOCK_AHEAD_SECS)
    }
}

/// What a helper did for a sighting, in the helper's feed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredDone {
    /// The sighting.
    pub sighting: SightingId,
    /// What was done ("brought a blanket").
    pub what: String,
    /// When (helper's clock).
    pub at: Timestamp,
}

pub(crate) fn read_sighting<S: Source>(
    source: &S,
    key: &str,
    id: SightingId,
    nonce: [u8; 8],
) -> Option<StoredSighting> {
    let map = source.map_at(&source.root(), key)?;
    let needs = parse_needs(&text(source, &map, "needs")?).ok()?;
    if needs.is_empty() {
        return None;
    }
    Some(StoredSighting {
        id,
        nonce,
        place: clip(Field::Area, &text(source, &map, "place")?),
        needs,
        note: clip(Field::Note, &text(source, &map, "note").unwrap_or_default()),
        created_at: int(source, &map, "created_at")?,
    })
}

pub(crate) fn read_done<S: Source>(source: &S, key: &str, id: SightingId) -> Option<StoredDone> {
    let map = source.map_at(&source.root(), key)?;
    Some(StoredDone {
        sighting: id,
        what: clip(Field::Note, &text(source, &map, "what")?),
        at: int(source, &map, "at")?,
    })
}

const NAME_WORDS: &[&str] = &[
    "name",
    "names",
    "named",
    "nickname",
    "nicknamed",
    "mr",
    "mrs",
    "ms",
    "mister",
    "nom",
    "prénom",
    "prenom",
    "nommé",
    "nommée",
    "surnom",
    "surnommé",
    "surnommée",
    "monsieur",
    "madame",
    "mademoiselle",
    "mme",
    "mlle",
];
const NAME_PHRASES: &[[&str; 2]] = &[["is", "called"], ["was", "called"], ["goes", "by"]];
const DESCRIPTION_WORDS: &[&str] = &[
    "wearing",
    "wears",
    "beard",
    "bearded",
    "hair",
    "tattoo",
    "tattooed",
    "barbe",
    "barbu",
    "cheveux",
    "tatouage",
    "tatoué",
    "tatouée",
    "habillé",
    "habillée",
    "vêtu",
    "vêtue",
    "portant",
];
const ALLOWED_CAPITALS: &[&str] = &[
    "i'm",
    "i'll",
    "i've",
    "i'd",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Why a text seems to be about the person rather than the place and the need.
enum Person {
    Named(String),
    Described(String),
}

/// The words of `text` (letters, digits, `'` and `-` inside a word), each with whether it
/// starts a sentence.
fn words(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut sentence_start = true;
    let mut starts = true;
    for c in text.chars().map(|c| if c == '’' { '\'' } else { c }) {
        if c.is_alphanumeric() || (!word.is_empty() && matches!(c, '\'' | '-')) {
            if word.is_empty() {
                starts = sentence_start;
            }
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push((std::mem::take(&mut word), starts));
            sentence_start = false;
        }
        if matches!(c, '.' | '!' | '?' | ':' | ';' | '\n') {
            sentence_start = true;
        }
    }
    if !word.is_empty() {
        out.push((word, starts));
    }
    out
}

fn person_in(text: &str, capitals: bool) -> Option<Person> {
    let words = words(text);
    let lower: Vec<String> = words.iter().map(|(w, _)| w.to_lowercase()).collect();
    for (i, w) in lower.iter().enumerate() {
        let w = w.trim_matches(['\'', '-']);
        if NAME_WORDS.contains(&w) || w == "appelle" || w.ends_with("'appelle") {
            return Some(Person::Named(words[i].0.clone()));
        }
        if let Some(next) = lower.get(i + 1) {
            if NAME_PHRASES.iter().any(|[a, b]| w == *a && next == b) {
                return Some(Person::Named(format!("{} {}", words[i].0, words[i + 1].0)));
            }
            if w == "years" && next == "old" {
                return Some(Person::Described("years old".into()));
            }
            if w.chars().all(|c| c.is_ascii_digit()) && next == "ans" {
                return Some(Person::Described(format!("{w} ans")));
            }
        }
        if DESCRIPTION_WORDS.contains(&w) {
            return Some(Person::Described(words[i].0.clone()));
        }
    }
    if capitals {
        for ((word, starts), low) in words.iter().zip(&lower) {
            let mut chars = word.chars();
            let capital = chars.next().is_some_and(char::is_uppercase);
            let small = chars.any(char::is_lowercase);
            if capital && small && !starts && !ALLOWED_CAPITALS.contains(&low.as_str()) {
                return Some(Person::Named(word.clone()));
            }
        }
    }
    None
}

/// Checks a text of a sighting (its place with [`Field::Area`], its note or what was done
/// with [`Field::Note`]): the rules of every public text, then the rules of this module's
/// documentation (rule 3 only for notes). Returns the text to store.
pub fn check_sighting_text(field: Field, text: &str) -> Result<String, TextError> {
    let text = clean_text(field, text)?;
    match person_in(&text, field != Field::Area) {
        Some(Person::Named(word)) => Err(TextError::NamesAPerson { field, word }),
        Some(Person::Described(word)) => Err(TextError::DescribesAPerson { field, word }),
        None => Ok(text),
    }
}

impl SightingDraft {
    /// The draft as it will be stored, or the first rule it breaks.
    pub fn cleaned(&self) -> Result<SightingDraft, WriteError> {
        let mut needs = self.needs.clone();
        needs.sort();
        needs.dedup();
        let place = check_sighting_text(Field::Area, &self.place)?;
        if place.is_empty() {
            return Err(TextError::Empty { field: Field::Area }.into());
        }
        if needs.is_empty() {
            return Err(EntryError::NoNeeds.into());
        }
        Ok(SightingDraft {
            place,
            needs,
            note: check_sighting_text(Field::Note, &self.note)?,
        })
    }
}

/// What a helper did for a sighting, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneView {
    /// The helper.
    pub helper: AuthorId,
    /// Their display name, if known.
    pub helper_name: Option<String>,
    /// What they did.
    pub what: String,
    /// When (never later than now).
    pub at: Timestamp,
}

/// A live sighting as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SightingView {
    /// Its id.
    pub id: SightingId,
    /// Who saw.
    pub author: AuthorId,
    /// Their display name, if known.
    pub author_name: Option<String>,
    /// Where (coarse).
    pub place: String,
    /// What is needed.
    pub needs: Vec<Need>,
    /// The note.
    pub note: String,
    /// When it was made (never later than now).
    pub created_at: Timestamp,
    /// When it leaves the page.
    pub expires_at: Timestamp,
    /// What helpers did, oldest first.
    pub done: Vec<DoneView>,
}

impl Board {
    /// The live sightings at `now`, newest first.
    pub fn sightings(&self, now: Timestamp) -> Vec<SightingView> {
        let feeds: Vec<_> = self.standing_feeds().collect();
        let mut out = Vec::new();
        for feed in &feeds {
            for s in feed.content().public.sightings.values() {
                if !s.is_live(now) {
                    continue;
                }
                let mut done: Vec<DoneView> = feeds
                    .iter()
                    .filter_map(|f| {
                        let d = f.content().public.sightings_done.get(&s.id)?;
                        let helper = f.id().author;
                        Some(DoneView {
                            helper,
                            helper_name: f.content().name.clone(),
                            what: d.what.clone(),
                            at: d.at.min(now),
                        })
                    })
                    .collect();
                done.sort_by_key(|d| (d.at, d.helper));
                out.push(SightingView {
                    id: s.id,
                    author: feed.id().author,
                    author_name: feed.content().name.clone(),
                    place: s.place.clone(),
                    needs: s.needs.clone(),
                    note: s.note.clone(),
                    created_at: s.created_at.min(now),
                    expires_at: s.created_at.saturating_add(SIGHTING_LIFETIME_SECS),
                    done,
                });
            }
        }
        out.sort_by_key(|s| (Reverse(s.created_at), s.id));
        out
    }

    /// The sighting (live or not) whose id starts with what a person typed.
    pub fn resolve_sighting(&self, typed: &str) -> Result<SightingId, ResolveError> {
        let ids = self
            .feeds()
            .flat_map(|f| f.content().public.sightings.keys().copied());
        crate::round::resolve(EntryKind::Sighting, typed, ids)
    }

    /// Adds a sighting stored under `nonce` (8 random bytes from the caller).
    pub fn add_sighting(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &SightingDraft,
        now: Timestamp,
    ) -> Result<(SightingId, LocalChange), WriteError> {
        let draft = draft.cleaned()?;
        let key = format!("{SIGHTING_PREFIX}{}", hex::encode(nonce));
        let feed = self.own_feed(writer);
        if feed.doc().get(ROOT, key.as_str()).ok().flatten().is_some() {
            return Err(EntryError::Duplicate {
                what: EntryKind::Sighting,
            }
            .into());
        }
        let change = feed.write(writer, now, |tx| {
            let s = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&s, "place", draft.place.as_str())?;
            tx.put(&s, "needs", needs_text(&draft.needs))?;
            tx.put(&s, "note", draft.note.as_str())?;
            tx.put(&s, "created_at", ScalarValue::Int(now))?;
            Ok(())
        })?;
        Ok((SightingId::derive(&writer.author(), &nonce), change))
    }

    /// Says what one did for a live sighting ("brought a blanket"); saying it again
    /// replaces it.
    pub fn sighting_done(
        &mut self,
        writer: &Writer,
        id: SightingId,
        what: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let what = check_sighting_text(Field::Note, what)?;
        if what.is_empty() {
            return Err(TextError::Empty { field: Field::Note }.into());
        }
        let live = match self
            .feeds()
            .find_map(|f| f.content().public.sightings.get(&id))
        {
            None => {
                return Err(EntryError::Unknown {
                    what: EntryKind::Sighting,
                    id: id.to_string(),
                }
                .into());
            }
            Some(s) => s.is_live(now),
        };
        if !live {
            return Err(EntryError::Over {
                what: EntryKind::Sighting,
            }
            .into());
        }
        let key = format!("{DONE_PREFIX}{id}");
        self.own_feed(writer).write(writer, now, |tx| {
            let d = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&d, "what", what.as_str())?;
            tx.put(&d, "at", ScalarValue::Int(now))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthorKey, DeviceId};

    const NOW: Timestamp = 1_796_472_000;

    fn writer(seed: u8) -> Writer {
        Writer::new(AuthorKey::from_seed([seed; 32]), DeviceId([seed; 8]))
    }

    fn draft(place: &str, note: &str) -> SightingDraft {
        SightingDraft {
            place: place.into(),
            needs: vec![Need::Shelter, Need::Blanket, Need::Blanket],
            note: note.into(),
        }
    }

    #[test]
    fn a_sighting_is_seen_done_and_gone_after_a_day() {
        let mut board = Board::new();
        let (marie, karim) = (writer(1), writer(2));
        board.set_name(&karim, "Karim", NOW).unwrap();
        let (id, _) = board
            .add_sighting(
                &marie,
                [1; 8],
                &draft("Under the bridge, rue des Lilas", "Asleep. Cold night."),
                NOW,
            )
            .unwrap();
        board
            .sighting_done(&karim, id, "brought a blanket", NOW + 600)
            .unwrap();
        let seen = board.sightings(NOW + 700);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].needs, vec![Need::Blanket, Need::Shelter]);
        assert_eq!(seen[0].expires_at, NOW + SIGHTING_LIFETIME_SECS);
        assert_eq!(seen[0].done.len(), 1);
        assert_eq!(seen[0].done[0].what, "brought a blanket");
        assert_eq!(seen[0].done[0].helper_name.as_deref(), Some("Karim"));
        assert_eq!(board.resolve_sighting(&id.to_string()[..4]), Ok(id));
        assert_eq!(board.sightings(NOW + SIGHTING_LIFETIME_SECS - 1).len(), 1);
        assert!(board.sightings(NOW + SIGHTING_LIFETIME_SECS).is_empty());
        assert!(matches!(
            board.sighting_done(&karim, id, "came back", NOW + SIGHTING_LIFETIME_SECS),
            Err(WriteError::Entry(EntryError::Over { .. }))
        ));
    }

    #[test]
    fn names_descriptions_and_contact_details_are_refused_naming_the_rule() {
        let named = |text: &str| match check_sighting_text(Field::Note, text) {
            Err(TextError::NamesAPerson { word, .. }) => Some(word),
            _ => None,
        };
        let described = |text: &str| match check_sighting_text(Field::Note, text) {
            Err(TextError::DescribesAPerson { word, .. }) => Some(word),
            _ => None,
        };
        assert_eq!(named("A man named Paul").as_deref(), Some("named"));
        assert_eq!(named("il s’appelle Jo").as_deref(), Some("s'appelle"));
        assert_eq!(named("his name is jo").as_deref(), Some("name"));
        assert_eq!(named("Son prénom est Jo").as_deref(), Some("prénom"));
        assert_eq!(named("he is called jo").as_deref(), Some("is called"));
        assert_eq!(named("asleep, ask for Marie").as_deref(), Some("Marie"));
        assert_eq!(named("Monsieur asleep").as_deref(), Some("Monsieur"));
        assert_eq!(described("grey beard, asleep").as_deref(), Some("beard"));
        assert_eq!(described("environ 60 ans").as_deref(), Some("60 ans"));
        assert_eq!(
            described("about 60 years old").as_deref(),
            Some("years old")
        );
        assert!(matches!(
            check_sighting_text(Field::Note, "call 06 12 34 56 78"),
            Err(TextError::PhoneNumber { .. })
        ));
        assert!(matches!(
            check_sighting_text(Field::Note, "write to jo@example.org"),
            Err(TextError::Email { .. })
        ));
        // Plain words pass: sentence starts, capitals-only words, days, places.
        for fine in [
            "Asleep. Cold night! Needs a hot drink",
            "Called the 115: no place tonight",
            "I'm coming back on Monday with the SAMU",
            "",
        ] {
            assert!(check_sighting_text(Field::Note, fine).is_ok(), "{fine}");
        }
        // Street names are capitalised: the place keeps its capitals.
        assert!(check_sighting_text(Field::Area, "rue Victor Hugo, near Gare du Nord").is_ok());
        assert!(matches!(
            check_sighting_text(Field::Area, "where Paul sleeps, named Paul"),
            Err(TextError::NamesAPerson { .. })
        ));
        let mut board = Board::new();
        assert!(matches!(
            board.add_sighting(&writer(1), [1; 8], &draft("station", "his name is Jo"), NOW),
            Err(WriteError::Text(TextError::NamesAPerson {
                field: Field::Note,
                ..
            }))
        ));
        let mut nothing = draft("station", "");
        nothing.needs.clear();
        assert!(matches!(
            board.add_sighting(&writer(1), [1; 8], &nothing, NOW),
            Err(WriteError::Entry(EntryError::NoNeeds))
        ));
        assert!(matches!(
            board.add_sighting(&writer(1), [1; 8], &draft(" ", ""), NOW),
            Err(WriteError::Text(TextError::Empty { .. }))
        ));
    }

    #[test]
    fn needs_parse_in_a_fixed_order() {
        assert_eq!(
            parse_needs("shelter, Blanket,drink,blanket").unwrap(),
            vec![Need::Blanket, Need::Drink, Need::Shelter]
        );
        assert!(parse_needs("blanket,money").is_err());
        assert!(parse_needs("").unwrap().is_empty());
    }
}

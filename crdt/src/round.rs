//! Winter rounds: a recurring evening walk (every evening at 20:00, from the station to
//! the church) that members sign up for date by date, so that nobody walks alone and no
//! evening is empty.
//!
//! A round is stored in its author's feed under `round:<nonce>`; a sign-up in the
//! walker's own feed under `signup:<round id>:<date>` (see [`crate::entries`]). Dates are
//! local dates: an evening is the date it starts on, in the reader's local time (the
//! caller passes its offset from UTC, as it passes "now").

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, Writer};
use crate::board::{Board, ResolveError};
use crate::content::{Source, int, text};
use crate::entries::{
    Days, EntryError, EntryKind, LocalDate, ROUND_PREFIX, RoundId, SIGNUP_PREFIX, TimeOfDay,
    Weekday,
};
use crate::feed::{LocalChange, WriteError};
use crate::limits::{MAX_CLOCK_AHEAD_SECS, MAX_SIGNUP_DAYS_AHEAD, ROUND_EVENINGS_SHOWN};
use crate::post::{Field, Timestamp, clean_text, clip};

/// A round as its author types it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundDraft {
    /// One line: "Evening round", "Maraude du soir".
    pub title: String,
    /// When it starts, local time.
    pub at: TimeOfDay,
    /// Where it starts (coarse: "the station").
    #[serde(default)]
    pub from: String,
    /// Where it ends (coarse: "the church").
    #[serde(default)]
    pub to: String,
    /// The area it covers.
    #[serde(default)]
    pub area: String,
    /// The days it runs.
    pub days: Days,
}

impl RoundDraft {
    /// The draft as it will be stored, or the first rule it breaks: a title, coarse places
    /// without contact details, at least one day.
    pub fn cleaned(&self) -> Result<RoundDraft, WriteError> {
        if self.days.is_empty() {
            return Err(EntryError::NoDays.into());
        }
        Ok(RoundDraft {
            title: clean_text(Field::Title, &self.title)?,
            from: clean_text(Field::Area, &self.from)?,
            to: clean_text(Field::Area, &self.to)?,
            area: clean_text(Field::Area, &self.area)?,
            ..self.clone()
        })
    }
}

/// A round as stored in its author's feed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredRound {
    /// Its id.
    pub id: RoundId,
    /// The nonce it is stored under.
    pub nonce: [u8; 8],
    /// Title.
    pub title: String,
    /// Start time, local.
    pub at: TimeOfDay,
    /// Start place.
    pub from: String,
    /// End place.
    pub to: String,
    /// Area.
    pub area: String,
    /// Days it runs.
    pub days: Days,
    /// When it was made (author's clock).
    pub created_at: Timestamp,
}

/// A sign-up for one evening of a round, in the walker's feed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredSignup {
    /// The round.
    pub round: RoundId,
    /// The evening.
    pub date: LocalDate,
    /// When (walker's clock).
    pub at: Timestamp,
    /// Whether the walker took it back.
    pub withdrawn: bool,
}

pub(crate) fn read_round<S: Source>(
    source: &S,
    key: &str,
    id: RoundId,
    nonce: [u8; 8],
) -> Option<StoredRound> {
    let map = source.map_at(&source.root(), key)?;
    let days: Days = text(source, &map, "days")?.parse().ok()?;
    if days.is_empty() {
        return None;
    }
    let area = |k: &str| clip(Field::Area, &text(source, &map, k).unwrap_or_default());
    Some(StoredRound {
        id,
        nonce,
        title: clip(Field::Title, &text(source, &map, "title")?),
        at: text(source, &map, "at")?.parse().ok()?,
        from: area("from"),
        to: area("to"),
        area: area("area"),
        days,
        created_at: int(source, &map, "created_at")?,
    })
}

pub(crate) fn read_signup<S: Source>(
    source: &S,
    key: &str,
    round: RoundId,
    date: LocalDate,
) -> Option<StoredSignup> {
    let map = source.map_at(&source.root(), key)?;
    Some(StoredSignup {
        round,
        date,
        at: int(source, &map, "at")?,
        withdrawn: matches!(
            source.scalar(&map, "withdrawn"),
            Some(ScalarValue::Boolean(true))
        ),
    })
}

/// A member walking an evening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walker {
    /// Their id.
    pub author: AuthorId,
    /// Their display name, if known.
    pub name: Option<String>,
}

/// One evening of a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evening {
    /// Its date (local).
    pub date: LocalDate,
    /// Its day of the week.
    pub weekday: Weekday,
    /// Whether it is tonight.
    pub tonight: bool,
    /// Who signed up, by id.
    pub walkers: Vec<Walker>,
    /// Whether nobody signed up: an empty evening, flagged.
    pub empty: bool,
}

/// A round as shown: its evenings from tonight on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundView {
    /// Its id.
    pub id: RoundId,
    /// Who made it.
    pub author: AuthorId,
    /// Their display name, if known.
    pub author_name: Option<String>,
    /// Title.
    pub title: String,
    /// Start time, local.
    pub at: TimeOfDay,
    /// Start place.
    pub from: String,
    /// End place.
    pub to: String,
    /// Area.
    pub area: String,
    /// Days it runs, Monday first.
    pub days: Days,
    /// The evenings it runs from tonight to [`ROUND_EVENINGS_SHOWN`] days after, in date
    /// order.
    pub evenings: Vec<Evening>,
}

impl Board {
    /// Every round, with who walks tonight and the next [`ROUND_EVENINGS_SHOWN`] evenings
    /// (local dates for a local time `utc_offset` seconds east of UTC). Rounds dated more
    /// than [`MAX_CLOCK_AHEAD_SECS`] after now are held back. Sorted by start time, then
    /// title, then id.
    pub fn rounds(&self, now: Timestamp, utc_offset: i32) -> Vec<RoundView> {
        let today = LocalDate::of(now, utc_offset);
        let last = today.add_days(ROUND_EVENINGS_SHOWN);
        let feeds: Vec<_> = self.standing_feeds().collect();
        // Sign-ups live in the walkers' feeds: gather them by round once.
        let mut signups: BTreeMap<(RoundId, LocalDate), Vec<AuthorId>> = BTreeMap::new();
        for feed in &feeds {
            for s in feed.content().public.signups.values() {
                if !s.withdrawn && s.date >= today && s.date <= last {
                    signups
                        .entry((s.round, s.date))
                        .or_default()
                        .push(feed.id().author);
                }
            }
        }
        let mut rounds = Vec::new();
        for feed in &feeds {
            let author = feed.id().author;
            for round in feed.content().public.rounds.values() {
                if round.created_at > now.saturating_add(MAX_CLOCK_AHEAD_SECS) {
                    continue;
                }
                let evenings = (0..=ROUND_EVENINGS_SHOWN)
                    .map(|n| today.add_days(n))
                    .filter(|d| round.days.contains(d.weekday()))
                    .map(|date| {
                        let walkers: Vec<Walker> = signups
                            .get(&(round.id, date))
                            .into_iter()
                            .flatten()
                            .map(|a| Walker {
                                author: *a,
                                name: self.name_of(a),
                            })
                            .collect();
                        Evening {
                            date,
                            weekday: date.weekday(),
                            tonight: date == today,
                            empty: walkers.is_empty(),
                            walkers,
                        }
                    })
                    .collect();
                rounds.push(RoundView {
                    id: round.id,
                    author,
                    author_name: feed.content().name.clone(),
                    title: round.title.clone(),
                    at: round.at,
                    from: round.from.clone(),
                    to: round.to.clone(),
                    area: round.area.clone(),
                    days: round.days,
                    evenings,
                });
            }
        }
        rounds.sort_by(|a, b| (a.at, &a.title, a.id).cmp(&(b.at, &b.title, b.id)));
        rounds
    }

    /// The round whose id starts with what a person typed.
    pub fn resolve_round(&self, typed: &str) -> Result<RoundId, ResolveError> {
        let ids = self
            .feeds()
            .flat_map(|f| f.content().public.rounds.keys().copied());
        resolve(EntryKind::Round, typed, ids)
    }

    /// Adds a round stored under `nonce` (8 random bytes from the caller).
    pub fn add_round(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &RoundDraft,
        now: Timestamp,
    ) -> Result<(RoundId, LocalChange), WriteError> {
        let draft = draft.cleaned()?;
        let key = format!("{ROUND_PREFIX}{}", hex::encode(nonce));
        let feed = self.own_feed(writer);
        if feed.doc().get(ROOT, key.as_str()).ok().flatten().is_some() {
            return Err(EntryError::Duplicate {
                what: EntryKind::Round,
            }
            .into());
        }
        let change = feed.write(writer, now, |tx| {
            let r = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&r, "title", draft.title.as_str())?;
            tx.put(&r, "at", draft.at.to_string())?;
            tx.put(&r, "from", draft.from.as_str())?;
            tx.put(&r, "to", draft.to.as_str())?;
            tx.put(&r, "area", draft.area.as_str())?;
            tx.put(&r, "days", draft.days.to_string())?;
            tx.put(&r, "created_at", ScalarValue::Int(now))?;
            Ok(())
        })?;
        Ok((RoundId::derive(&writer.author(), &nonce), change))
    }

    /// Signs up for (`walk`) or withdraws from one evening of a round. The date must be
    /// one the round runs, from today (local) to [`MAX_SIGNUP_DAYS_AHEAD`] days ahead.
    pub fn sign_up(
        &mut self,
        writer: &Writer,
        round: RoundId,
        date: LocalDate,
        walk: bool,
        now: Timestamp,
        utc_offset: i32,
    ) -> Result<LocalChange, WriteError> {
        let days = self
            .feeds()
            .find_map(|f| f.content().public.rounds.get(&round))
            .map(|r| r.days)
            .ok_or_else(|| EntryError::Unknown {
                what: EntryKind::Round,
                id: round.to_string(),
            })?;
        let ahead = LocalDate::of(now, utc_offset).days_until(date);
        if !(0..=MAX_SIGNUP_DAYS_AHEAD).contains(&ahead) {
            return Err(EntryError::DateOutOfRange {
                date,
                max_days: MAX_SIGNUP_DAYS_AHEAD as u32,
            }
            .into());
        }
        if !days.contains(date.weekday()) {
            return Err(EntryError::NotOnThatDay {
                date,
                weekday: date.weekday(),
            }
            .into());
        }
        let key = format!("{SIGNUP_PREFIX}{round}:{date}");
        let feed = self.own_feed(writer);
        let existing = match feed.doc().get(ROOT, key.as_str()) {
            Ok(Some((automerge::Value::Object(ObjType::Map), obj))) => Some(obj),
            _ => None,
        };
        feed.write(writer, now, |tx| {
            let s = match existing {
                Some(obj) => obj,
                None => tx.put_object(ROOT, key.as_str(), ObjType::Map)?,
            };
            tx.put(&s, "at", ScalarValue::Int(now))?;
            tx.put(&s, "withdrawn", !walk)?;
            Ok(())
        })
    }
}

/// The one id among `ids` that starts with what a person typed (lowercase hex).
pub(crate) fn resolve<T: std::fmt::Display + Ord + Copy>(
    what: EntryKind,
    typed: &str,
    ids: impl Iterator<Item = T>,
) -> Result<T, ResolveError> {
    let typed = typed.trim().to_lowercase();
    let none = || ResolveError::NoSuchEntry {
        what,
        typed: typed.chars().take(40).collect(),
    };
    if typed.is_empty() {
        return Err(none());
    }
    let mut found: Vec<T> = ids
        .filter(|id| id.to_string().starts_with(&typed))
        .collect();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [] => Err(none()),
        [one] => Ok(*one),
        _ => Err(ResolveError::AmbiguousEntry {
            what,
            typed: typed.chars().take(40).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::Feed;
    use crate::{AuthorKey, DeviceId, TextError};

    /// 2026-12-05 12:00 UTC, a Saturday.
    const NOW: Timestamp = 1_796_472_000;
    const PARIS: i32 = 3600;

    fn writer(seed: u8) -> Writer {
        Writer::new(AuthorKey::from_seed([seed; 32]), DeviceId([seed; 8]))
    }

    fn date(text: &str) -> LocalDate {
        text.parse().unwrap()
    }

    fn round(days: &str) -> RoundDraft {
        RoundDraft {
            title: "Evening round".into(),
            at: "20:00".parse().unwrap(),
            from: "the station".into(),
            to: "the church".into(),
            area: "north".into(),
            days: days.parse().unwrap(),
        }
    }

    #[test]
    fn sign_ups_show_by_date_and_empty_evenings_are_flagged() {
        assert_eq!(LocalDate::of(NOW, PARIS).to_string(), "2026-12-05");
        let mut board = Board::new();
        let (marie, karim) = (writer(1), writer(2));
        board.set_name(&karim, "Karim", NOW).unwrap();
        let (id, _) = board
            .add_round(&marie, [1; 8], &round("sat,mon,wed"), NOW)
            .unwrap();
        board
            .sign_up(&karim, id, date("2026-12-05"), true, NOW, PARIS)
            .unwrap();
        board
            .sign_up(&marie, id, date("2026-12-07"), true, NOW, PARIS)
            .unwrap();
        board
            .sign_up(&karim, id, date("2026-12-07"), true, NOW, PARIS)
            .unwrap();
        board
            .sign_up(&karim, id, date("2026-12-07"), false, NOW, PARIS)
            .unwrap();
        let rounds = board.rounds(NOW, PARIS);
        assert_eq!(rounds.len(), 1);
        let evenings = &rounds[0].evenings;
        // Tonight (Sat 5) to Sat 12: Sat, Mon, Wed, Sat.
        let dates: Vec<String> = evenings.iter().map(|e| e.date.to_string()).collect();
        assert_eq!(
            dates,
            ["2026-12-05", "2026-12-07", "2026-12-09", "2026-12-12"]
        );
        assert!(evenings[0].tonight);
        assert_eq!(evenings[0].walkers.len(), 1);
        assert_eq!(evenings[0].walkers[0].name.as_deref(), Some("Karim"));
        assert!(!evenings[0].empty);
        assert_eq!(evenings[1].walkers.len(), 1);
        assert_eq!(evenings[1].walkers[0].author, marie.author());
        assert!(evenings[2].empty && evenings[3].empty);
        // The next day, Saturday 5 is gone from the evenings.
        let sunday = board.rounds(NOW + 24 * 3600, PARIS);
        assert_eq!(sunday[0].evenings[0].date, date("2026-12-07"));
        assert!(!sunday[0].evenings[0].tonight);
    }

    #[test]
    fn sign_ups_outside_the_round_s_days_or_window_are_refused() {
        let mut board = Board::new();
        let (marie, karim) = (writer(1), writer(2));
        let (id, _) = board.add_round(&marie, [1; 8], &round("sat"), NOW).unwrap();
        assert!(matches!(
            board.sign_up(&karim, id, date("2026-12-06"), true, NOW, PARIS),
            Err(WriteError::Entry(EntryError::NotOnThatDay {
                weekday: Weekday::Sun,
                ..
            }))
        ));
        assert!(matches!(
            board.sign_up(&karim, id, date("2026-11-28"), true, NOW, PARIS),
            Err(WriteError::Entry(EntryError::DateOutOfRange { .. }))
        ));
        assert!(matches!(
            board.sign_up(&karim, id, date("2027-12-04"), true, NOW, PARIS),
            Err(WriteError::Entry(EntryError::DateOutOfRange { .. }))
        ));
        assert!(matches!(
            board.sign_up(
                &karim,
                RoundId([7; 8]),
                date("2026-12-05"),
                true,
                NOW,
                PARIS
            ),
            Err(WriteError::Entry(EntryError::Unknown { .. }))
        ));
        assert!(matches!(
            board.add_round(&marie, [2; 8], &round(""), NOW),
            Err(WriteError::Entry(EntryError::NoDays))
        ));
        let mut phone = round("daily");
        phone.from = "call 06 12 34 56 78".into();
        assert!(matches!(
            board.add_round(&marie, [2; 8], &phone, NOW),
            Err(WriteError::Text(TextError::PhoneNumber { .. }))
        ));
        assert_eq!(board.resolve_round(&id.to_string()[..5]), Ok(id));
        assert!(matches!(
            board.resolve_round("zz"),
            Err(ResolveError::NoSuchEntry {
                what: EntryKind::Round,
                ..
            })
        ));
    }

    #[test]
    fn bad_round_entries_are_skipped_and_future_rounds_held_back() {
        let marie = writer(1);
        let mut feed = Feed::new(crate::FeedId::first(marie.author()));
        feed.write(&marie, NOW, |tx| {
            let r = tx.put_object(ROOT, "round:0101010101010101", ObjType::Map)?;
            tx.put(&r, "title", "Later")?;
            tx.put(&r, "at", "20:00")?;
            tx.put(&r, "days", "mon")?;
            tx.put(&r, "created_at", ScalarValue::Int(NOW + 300 * 24 * 3600))?;
            let r = tx.put_object(ROOT, "round:0202020202020202", ObjType::Map)?;
            tx.put(&r, "title", "Bad time")?;
            tx.put(&r, "at", "25:00")?;
            tx.put(&r, "days", "mon")?;
            tx.put(&r, "created_at", ScalarValue::Int(NOW))?;
            let s = tx.put_object(ROOT, "signup:0101010101010101:2026-02-30", ObjType::Map)?;
            tx.put(&s, "at", ScalarValue::Int(NOW))?;
            let s = tx.put_object(ROOT, "signup:0101010101010101:2026-12-07", ObjType::Map)?;
            tx.put(&s, "at", "not a number")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(feed.content().skipped, 3);
        let mut board = Board::new();
        board.insert(feed);
        assert!(board.rounds(NOW, PARIS).is_empty());
    }
}

//! Public seasonal entries of a feed: alerts, winter rounds and their sign-ups, sightings
//! and what was done for them. What they mean lives in [`crate::alert`],
//! [`crate::round`] and [`crate::sighting`]; this module holds what they share: their ids,
//! the local calendar they are planned in, their errors, and the reading of their root keys.
//!
//! | key | value |
//! |---|---|
//! | `alert:<nonce, 16 hex>` | map: `kind`, `until`, `note`, `created_at`, `ended` |
//! | `round:<nonce, 16 hex>` | map: `title`, `at` (`HH:MM`), `from`, `to`, `area`, `days` (`mon,tue,...`), `created_at` |
//! | `signup:<round id, 16 hex>:<YYYY-MM-DD>` | map: `at`, `withdrawn` |
//! | `sighting:<nonce, 16 hex>` | map: `place`, `needs` (`blanket,drink,...`), `note`, `created_at` |
//! | `sighting_done:<sighting id, 16 hex>` | map: `what`, `at` |
//!
//! Reading is lenient, like the rest of the feed (`crate::content`): an entry that breaks
//! the format is skipped and counted, texts are neutralised and clipped as they are read.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::alert::{StoredAlert, read_alert};
use crate::author::AuthorId;
use crate::content::{Source, canonical_nonce};
use crate::round::{StoredRound, StoredSignup, read_round, read_signup};
use crate::sighting::{StoredDone, StoredSighting, read_done, read_sighting};

pub(crate) const ALERT_PREFIX: &str = "alert:";
pub(crate) const ROUND_PREFIX: &str = "round:";
pub(crate) const SIGNUP_PREFIX: &str = "signup:";
pub(crate) const SIGHTING_PREFIX: &str = "sighting:";
pub(crate) const DONE_PREFIX: &str = "sighting_done:";

/// Which kind of public entry an id or an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// An alert (heatwave, cold...).
    Alert,
    /// A winter round.
    Round,
    /// A sighting of a person sleeping outside.
    Sighting,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Alert => "alert",
            EntryKind::Round => "round",
            EntryKind::Sighting => "sighting",
        })
    }
}

/// Why a write of an alert, round, sign-up or sighting was refused (besides its text,
/// [`crate::TextError`]). Each says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// No entry of that kind with that id.
    #[error("no {what} {id} on the board")]
    Unknown {
        /// Which kind.
        what: EntryKind,
        /// The id.
        id: String,
    },
    /// The entry is someone else's: only its author changes it.
    #[error("this {what} is not yours: only its author can change it")]
    NotYours {
        /// Which kind.
        what: EntryKind,
    },
    /// The entry is already over (an alert ended or past, a sighting expired).
    #[error("this {what} is already over")]
    Over {
        /// Which kind.
        what: EntryKind,
    },
    /// The round does not run on that date.
    #[error("the round does not run on {date} (a {weekday})")]
    NotOnThatDay {
        /// The date asked for.
        date: LocalDate,
        /// Its weekday.
        weekday: Weekday,
    },
    /// The date is in the past or too far ahead ([`crate::limits::MAX_SIGNUP_DAYS_AHEAD`]).
    #[error("{date} is not between today and {max_days} days ahead")]
    DateOutOfRange {
        /// The date asked for.
        date: LocalDate,
        /// How many days ahead one may sign up.
        max_days: u32,
    },
    /// A round with no day of the week.
    #[error("a round needs at least one day of the week")]
    NoDays,
    /// A sighting with nothing needed.
    #[error("say at least one thing that is needed (blanket, drink, food, company, shelter)")]
    NoNeeds,
    /// An entry with that nonce already exists (the caller's randomness repeated).
    #[error("a {what} with that id already exists")]
    Duplicate {
        /// Which kind.
        what: EntryKind,
    },
}

/// Defines a public entry id: 8 bytes, shown as 16 hex digits, derived from its author and
/// a random nonce (`sha256(domain || author || nonce)[..8]`, as post ids).
macro_rules! entry_id {
    ($(#[$doc:meta])* $ty:ident, $domain:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub [u8; 8]);

        crate::fixed_bytes::hex_or_bytes_serde!($ty, 8);

        impl $ty {
            /// The id of the entry `author` stores under `nonce`.
            pub fn derive(author: &AuthorId, nonce: &[u8; 8]) -> Self {
                let mut h = Sha256::new();
                h.update($domain);
                h.update(author.0);
                h.update(nonce);
                let mut id = [0u8; 8];
                id.copy_from_slice(&h.finalize()[..8]);
                Self(id)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($ty))
            }
        }

        impl FromStr for $ty {
            type Err = crate::post::ParsePostIdError;

            /// Exactly 16 lowercase hex digits (the canonical spelling).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let mut out = [0u8; 8];
                hex::decode_to_slice(s, &mut out).map_err(|_| crate::post::ParsePostIdError)?;
                if hex::encode(out) != s {
                    return Err(crate::post::ParsePostIdError);
                }
                Ok(Self(out))
            }
        }
    };
}

entry_id!(
    /// An alert's id.
    AlertId,
    b"entraide/alert/v1"
);
entry_id!(
    /// A round's id.
    RoundId,
    b"entraide/round/v1"
);
entry_id!(
    /// A sighting's id.
    SightingId,
    b"entraide/sighting/v1"
);

/// Serde through `Display` and `FromStr`: a string in JSON and CBOR alike.
macro_rules! string_serde {
    ($ty:ident, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(|_| {
                    serde::de::Error::invalid_value(serde::de::Unexpected::Str(&text), &$expecting)
                })
            }
        }
    };
}

/// A day of the local calendar (proleptic Gregorian), shown `YYYY-MM-DD`. Rounds are
/// planned in local dates: an evening is the date it starts on.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LocalDate {
    /// Days since 1970-01-01.
    days: i64,
}

string_serde!(LocalDate, "a date YYYY-MM-DD");

const DAY: i64 = 24 * 3600;

impl LocalDate {
    /// The local date at instant `at` for a local time `utc_offset` seconds east of UTC.
    pub fn of(at: i64, utc_offset: i32) -> Self {
        Self {
            days: at.saturating_add(i64::from(utc_offset)).div_euclid(DAY),
        }
    }

    /// The date `n` days later (earlier if negative).
    pub fn add_days(self, n: i64) -> Self {
        Self {
            days: self.days.saturating_add(n),
        }
    }

    /// Days from `self` to `other` (negative if `other` is earlier).
    pub fn days_until(self, other: LocalDate) -> i64 {
        other.days - self.days
    }

    /// Its day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        Weekday::ALL[(self.days + 3).rem_euclid(7) as usize]
    }

    /// The instant of `time` on this date, for a local time `utc_offset` east of UTC.
    pub fn at(self, time: TimeOfDay, utc_offset: i32) -> i64 {
        self.days
            .saturating_mul(DAY)
            .saturating_add(i64::from(time.minutes()) * 60)
            .saturating_sub(i64::from(utc_offset))
    }

    fn from_civil(y: i64, m: u32, d: u32) -> Self {
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Self {
            days: era * 146_097 + doe - 719_468,
        }
    }

    fn civil(self) -> (i64, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The text is not a date `YYYY-MM-DD` (or not a real one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date: expected YYYY-MM-DD, such as 2026-12-05")]
pub struct ParseDateError;

impl FromStr for LocalDate {
    type Err = ParseDateError;

    /// Exactly `YYYY-MM-DD` with a year from 1970 to 9999, and a day that exists.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(ParseDateError);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, ParseDateError> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| ParseDateError)
            } else {
                Err(ParseDateError)
            }
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if y < 1970 || !(1..=12).contains(&m) || d == 0 {
            return Err(ParseDateError);
        }
        let date = LocalDate::from_civil(i64::from(y), m, d);
        // A day past the month's end (02-30) comes back as another date.
        if date.civil() != (i64::from(y), m, d) {
            return Err(ParseDateError);
        }
        Ok(date)
    }
}

/// A time of the local day, `HH:MM` (24 h).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TimeOfDay(u16);

string_serde!(TimeOfDay, "a time HH:MM");

impl TimeOfDay {
    /// From hours and minutes, if they make a time of day.
    pub fn new(hours: u8, minutes: u8) -> Option<Self> {
        (hours < 24 && minutes < 60).then(|| Self(u16::from(hours) * 60 + u16::from(minutes)))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The text is not a time of day `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a time of day: expected HH:MM, such as 20:00")]
pub struct ParseTimeError;

impl FromStr for TimeOfDay {
    type Err = ParseTimeError;

    /// `H:MM` or `HH:MM`, 24 h.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (h, m) = s.split_once(':').ok_or(ParseTimeError)?;
        let digits = |t: &str, max: usize| {
            !t.is_empty() && t.len() <= max && t.bytes().all(|c| c.is_ascii_digit())
        };
        if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
            return Err(ParseTimeError);
        }
        let (h, m) = (
            h.parse().map_err(|_| ParseTimeError)?,
            m.parse().map_err(|_| ParseTimeError)?,
        );
        TimeOfDay::new(h, m).ok_or(ParseTimeError)
    }
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

crate::post::text_enum!(Weekday, "day", Mon => "mon", Tue => "tue", Wed => "wed",
    Thu => "thu", Fri => "fri", Sat => "sat", Sun => "sun");
string_serde!(Weekday, "a day: mon, tue, wed, thu, fri, sat or sun");

/// The days of the week a round runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Days(u8);

impl Days {
    /// Every day.
    pub const DAILY: Days = Days(0b111_1111);

    /// The days given.
    pub fn of(days: impl IntoIterator<Item = Weekday>) -> Self {
        Self(days.into_iter().fold(0, |acc, d| acc | (1 << d as u8)))
    }

    /// Whether the round runs on `day`.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day as u8) != 0
    }

    /// Whether no day is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days, Monday first.
    pub fn list(self) -> Vec<Weekday> {
        Weekday::ALL
            .iter()
            .copied()
            .filter(|d| self.contains(*d))
            .collect()
    }
}

impl fmt::Display for Days {
    /// The stored form: codes Monday first, joined by `,` (`mon,wed,fri`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<&str> = self.list().iter().map(|d| d.as_str()).collect();
        f.write_str(&codes.join(","))
    }
}

impl FromStr for Days {
    type Err = crate::post::UnknownValue;

    /// `daily`, or day codes joined by `,` (`mon,tue`); spaces and case are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_lowercase();
        if s == "daily" || s == "every day" {
            return Ok(Days::DAILY);
        }
        let mut days = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            days.push(part.parse::<Weekday>()?);
        }
        Ok(Days::of(days))
    }
}

impl serde::Serialize for Days {
    /// A list of day codes, Monday first.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.list(), s)
    }
}

impl<'de> serde::Deserialize<'de> for Days {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Days::of(Vec::<Weekday>::deserialize(d)?))
    }
}

/// The public entries of one feed, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicEntries {
    /// The author's alerts.
    pub alerts: BTreeMap<AlertId, StoredAlert>,
    /// The author's rounds.
    pub rounds: BTreeMap<RoundId, StoredRound>,
    /// The author's sign-ups for rounds (anyone's), by round and date.
    pub signups: BTreeMap<(RoundId, LocalDate), StoredSignup>,
    /// The author's sightings.
    pub sightings: BTreeMap<SightingId, StoredSighting>,
    /// What the author did for sightings (anyone's).
    pub sightings_done: BTreeMap<SightingId, StoredDone>,
}

impl PublicEntries {
    /// Reads the root entry `key` again if it belongs to one of these families: `None`
    /// when it does not, else whether it is well formed (or absent).
    pub(crate) fn read_key<S: Source>(
        &mut self,
        author: &AuthorId,
        source: &S,
        key: &str,
    ) -> Option<bool> {
        let present = || source.has(&source.root(), key);
        let good = if let Some(hex) = key.strip_prefix(ALERT_PREFIX) {
            let Some(nonce) = canonical_nonce(hex) else {
                return Some(false);
            };
            let id = AlertId::derive(author, &nonce);
            reread(
                &mut self.alerts,
                id,
                read_alert(source, key, id, nonce),
                present,
            )
        } else if let Some(hex) = key.strip_prefix(ROUND_PREFIX) {
            let Some(nonce) = canonical_nonce(hex) else {
                return Some(false);
            };
            let id = RoundId::derive(author, &nonce);
            reread(
                &mut self.rounds,
                id,
                read_round(source, key, id, nonce),
                present,
            )
        } else if let Some(rest) = key.strip_prefix(SIGNUP_PREFIX) {
            let Some((round, date)) = rest.split_once(':') else {
                return Some(false);
            };
            let (Ok(round), Ok(date)) = (round.parse::<RoundId>(), date.parse::<LocalDate>())
            else {
                return Some(false);
            };
            let signup = read_signup(source, key, round, date);
            reread(&mut self.signups, (round, date), signup, present)
        } else if let Some(hex) = key.strip_prefix(SIGHTING_PREFIX) {
            let Some(nonce) = canonical_nonce(hex) else {
                return Some(false);
            };
            let id = SightingId::derive(author, &nonce);
            let sighting = read_sighting(source, key, id, nonce);
            reread(&mut self.sightings, id, sighting, present)
        } else if let Some(hex) = key.strip_prefix(DONE_PREFIX) {
            let Ok(id) = hex.parse::<SightingId>() else {
                return Some(false);
            };
            reread(
                &mut self.sightings_done,
                id,
                read_done(source, key, id),
                present,
            )
        } else {
            return None;
        };
        Some(good)
    }
}

/// Replaces the entry under `id` with what was read: whether the key is good (read, or
/// no longer there).
fn reread<K: Ord, V>(
    map: &mut BTreeMap<K, V>,
    id: K,
    read: Option<V>,
    present: impl FnOnce() -> bool,
) -> bool {
    map.remove(&id);
    match read {
        Some(v) => {
            map.insert(id, v);
            true
        }
        None => !present(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_their_text() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "2026-12-05",
            "2000-03-01",
            "9999-12-31",
        ] {
            let date: LocalDate = text.parse().unwrap();
            assert_eq!(date.to_string(), text);
        }
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-12-00",
            "2026-1-05",
            "26-12-05",
            "2026/12/05",
            "1969-12-31",
            "２０２６-12-05",
            "",
        ] {
            assert_eq!(bad.parse::<LocalDate>(), Err(ParseDateError), "{bad}");
        }
    }

    #[test]
    fn the_local_date_follows_the_offset_and_weekdays_are_right() {
        // 2026-12-04 23:30 UTC is already 2026-12-05 in Paris (UTC+1).
        let at = "2026-12-04"
            .parse::<LocalDate>()
            .unwrap()
            .at(TimeOfDay::new(23, 30).unwrap(), 0);
        assert_eq!(LocalDate::of(at, 0).to_string(), "2026-12-04");
        assert_eq!(LocalDate::of(at, 3600).to_string(), "2026-12-05");
        assert_eq!(LocalDate::of(at, -12 * 3600).to_string(), "2026-12-04");
        assert_eq!(
            "2026-12-05".parse::<LocalDate>().unwrap().weekday(),
            Weekday::Sat
        );
        assert_eq!(
            "1970-01-01".parse::<LocalDate>().unwrap().weekday(),
            Weekday::Thu
        );
        let d: LocalDate = "2026-12-31".parse().unwrap();
        assert_eq!(d.add_days(1).to_string(), "2027-01-01");
        assert_eq!(d.days_until(d.add_days(-3)), -3);
    }

    #[test]
    fn times_and_days_parse_strictly() {
        assert_eq!("20:00".parse::<TimeOfDay>().unwrap().to_string(), "20:00");
        assert_eq!("7:05".parse::<TimeOfDay>().unwrap().to_string(), "07:05");
        for bad in [
            "24:00", "20:60", "20", "20:0", "-1:00", "20:00:00", "2000:00",
        ] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
        assert_eq!("daily".parse::<Days>().unwrap(), Days::DAILY);
        let days: Days = " Fri, mon ,wed".parse().unwrap();
        assert_eq!(days.to_string(), "mon,wed,fri");
        assert!("mon,funday".parse::<Days>().is_err());
        assert!("".parse::<Days>().unwrap().is_empty());
    }

    #[test]
    fn ids_read_only_their_canonical_spelling() {
        let id = AlertId([0xab; 8]);
        assert_eq!(id.to_string().parse::<AlertId>().unwrap(), id);
        assert!("ABABABABABABABAB".parse::<AlertId>().is_err());
        assert!(" abababababababab".parse::<AlertId>().is_err());
        let author = crate::AuthorKey::from_seed([1; 32]).id();
        assert_ne!(
            AlertId::derive(&author, &[1; 8]).0,
            RoundId::derive(&author, &[1; 8]).0
        );
    }
}

#[cfg(test)]
mod reading {
    use crate::{
        AlertDraft, AlertKind, AuthorKey, Board, DeviceId, Feed, FeedId, Need, RoundDraft,
        SightingDraft, Writer,
    };

    /// What a feed says read key by key as it is written equals what it says read whole
    /// from its saved bytes (the two readers of `content.rs`).
    #[test]
    fn incremental_and_whole_reads_agree() {
        let now = 1_796_472_000;
        let marie = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([1; 8]));
        let mut board = Board::new();
        let alert = AlertDraft {
            kind: AlertKind::Cold,
            until: now + 3600,
            note: "Grand froid".into(),
        };
        let (a, _) = board.declare_alert(&marie, [1; 8], &alert, now).unwrap();
        board.end_alert(&marie, a, now + 1).unwrap();
        let round = RoundDraft {
            title: "Maraude".into(),
            at: "20:00".parse().unwrap(),
            from: "gare".into(),
            to: "église".into(),
            area: String::new(),
            days: "daily".parse().unwrap(),
        };
        let (r, _) = board.add_round(&marie, [2; 8], &round, now).unwrap();
        let today = super::LocalDate::of(now, 0);
        board.sign_up(&marie, r, today, true, now, 0).unwrap();
        board.sign_up(&marie, r, today, false, now, 0).unwrap();
        let sighting = SightingDraft {
            place: "pont".into(),
            needs: vec![Need::Food],
            note: String::new(),
        };
        let (s, _) = board.add_sighting(&marie, [3; 8], &sighting, now).unwrap();
        board
            .sighting_done(&marie, s, "apporté à manger", now)
            .unwrap();
        let id = FeedId::first(marie.author());
        let feed = board.feed(&id).unwrap();
        let public = &feed.content().public;
        assert_eq!(
            (
                public.alerts.len(),
                public.rounds.len(),
                public.signups.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(
            (public.sightings.len(), public.sightings_done.len()),
            (1, 1)
        );
        assert!(public.alerts[&a].ended);
        assert!(public.signups[&(r, today)].withdrawn);
        let loaded = Feed::load(id, &feed.save(), feed.signed_heads().to_vec()).unwrap();
        assert_eq!(loaded.content(), feed.content());
        assert_eq!(loaded.content().skipped, 0);
    }
}

//! The care register: people the neighbourhood has promised to check on during an alert,
//! their daily check-ins, and when a missed check goes public.
//!
//! Every entry here is a sealed record ([`crate::sealed`]) in its writer's feed, sealed to
//! the record's circle: the members who check, the member who registered the person, and
//! the person if they are a member. Nobody else can read the name, the notes, or even
//! which record a check-in is about. The entries are JSON objects (tag `type`):
//!
//! | type | fields | who may write it |
//! |---|---|---|
//! | `care_record` | `record` (16 bytes, hex), `name`, `area`, `window` (`"HH:MM-HH:MM"`, local time), `circle` (author ids, at least 2), `subject` (author id or null), `consent`, `notes`, `name_public`, `at` | any member |
//! | `care_check` | `record`, `day` (`"YYYY-MM-DD"`, local), `how` (`self`, `visit`, `phone`), `fine`, `note`, `at` | a recipient of the record |
//! | `care_take` | `record`, `day`, `at` ("I am going") | a recipient of the record |
//! | `care_remove` | `record`, `at` | a recipient of the record |
//!
//! [`care_view`] is a pure function of the opened entries and "now": a node that opened
//! the same entries at the same time shows the same thing.
//!
//! # A day of an alert, for one person
//!
//! While an alert is active, each record is checked once per local day, within its window:
//! `upcoming` before the window, `due` during it, `checked` (or `not_fine`, an urgent
//! matter for the circle) once a check-in for that day is seen, `missed` once the window
//! has ended without one, `taken` if a circle member said "I am going". A missed check
//! nobody took for [`ESCALATION_DELAY_SECS`] after the window's end is `escalated`: each
//! circle member's node then puts one urgent visit request on the public board, with the
//! area only (and the name if the person agreed to that), marked with the record's
//! [`escalation_key`] for that day; the board shows one post per key
//! (`Board::page`), so exactly one request per missed check reaches every board, however
//! many circle members raised it while cut off from each other.
//!
//! Clocks: windows are read in each reader's local time, and a few minutes between
//! members' clocks only move when each node sees the state change; a check-in or a "take"
//! counts for the day it names, whatever the clock of whoever reads it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::author::{AuthorId, AuthorKey};
use crate::limits::{MAX_AREA_CHARS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS};
use crate::post::{
    Category, Field, Kind, PostDraft, TextError, Timestamp, Urgency, clean_text, clip,
};
use crate::sealed::{self, SealError};
use crate::text::neutralise;

/// How long after a missed window a check nobody took goes to the public board.
pub const ESCALATION_DELAY_SECS: i64 = 30 * 60;
/// Fewest members in a circle.
pub const MIN_CIRCLE: usize = 2;
/// Most members in a circle (with the registrar and the person: [`sealed::MAX_RECIPIENTS`]).
pub const MAX_CIRCLE: usize = sealed::MAX_RECIPIENTS - 2;
/// Longest consent statement, in characters.
pub const MAX_CONSENT_CHARS: usize = 200;
/// Fewest characters of a consent statement (who, how, when cannot be shorter).
pub const MIN_CONSENT_CHARS: usize = 8;

/// A care record's id: 16 random bytes, known only to its circle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub [u8; 16]);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for RecordId {
    type Err = CareError;
    fn from_str(s: &str) -> Result<Self, CareError> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(s, &mut out).map_err(|_| CareError::NoSuchRecord(s.into()))?;
        Ok(RecordId(out))
    }
}

impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let id: RecordId = s.parse().map_err(serde::de::Error::custom)?;
        if id.to_string() != s {
            return Err(serde::de::Error::custom("record ids are lowercase hex"));
        }
        Ok(id)
    }
}

/// A daily window in local time, from `start` to `end` minutes after midnight, within one
/// day (`end` after `start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Minutes after local midnight when checking starts.
    pub start: u16,
    /// Minutes after local midnight when the window ends.
    pub end: u16,
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

fn minutes(hh_mm: &str) -> Option<u16> {
    let (h, m) = hh_mm.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && (1..=2).contains(&hh_mm.trim().split(':').next()?.len()))
        .then_some(h * 60 + m)
}

impl FromStr for Window {
    type Err = CareError;
    fn from_str(s: &str) -> Result<Self, CareError> {
        let bad = || CareError::Window(s.into());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start, end) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        if end <= start {
            return Err(bad());
        }
        Ok(Window { start, end })
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How a check-in was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckHow {
    /// The person said so themselves (their own page or command).
    #[serde(rename = "self")]
    Myself,
    /// A circle member visited.
    Visit,
    /// A circle member phoned.
    Phone,
}

impl CheckHow {
    /// `self`, `visit` or `phone`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckHow::Myself => "self",
            CheckHow::Visit => "visit",
            CheckHow::Phone => "phone",
        }
    }
}

impl FromStr for CheckHow {
    type Err = CareError;
    fn from_str(s: &str) -> Result<Self, CareError> {
        match s.trim() {
            "self" => Ok(CheckHow::Myself),
            "visit" => Ok(CheckHow::Visit),
            "phone" => Ok(CheckHow::Phone),
            other => Err(CareError::How(other.into())),
        }
    }
}

/// Why a care write was refused. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CareError {
    /// A text breaks a rule (name, area).
    #[error(transparent)]
    Text(#[from] TextError),
    /// The consent statement is missing or too short.
    #[error(
        "the person's consent is mandatory: say who gave it, how and when (at least {MIN_CONSENT_CHARS} characters)"
    )]
    NoConsent,
    /// A private text (notes, consent, check note) is too long.
    #[error("the {0} is too long: at most {1} characters")]
    TooLong(&'static str, usize),
    /// The window does not parse.
    #[error(
        "`{0}` is not a daily window: write it like 09:00-11:00 (local time, within one day, ending by 23:30 so that a missed check is raised the same day)"
    )]
    Window(String),
    /// The circle has too few or too many members.
    #[error("a circle needs {MIN_CIRCLE} to {MAX_CIRCLE} members who check, not {0}")]
    Circle(usize),
    /// Not `self`, `visit` or `phone`.
    #[error("`{0}` is not a way of checking: use self, visit or phone")]
    How(String),
    /// No record this resident can see matches.
    #[error("no record of the care register matches `{0}` among those you can see")]
    NoSuchRecord(String),
    /// Several records match.
    #[error("`{0}` matches several records: type more of the id")]
    AmbiguousRecord(String),
    /// Only the person checks in as "self".
    #[error(
        "only the person themselves checks in with --how self; a visit or a phone call is --how visit or --how phone"
    )]
    NotTheSubject,
    /// The writer is not in the record's circle.
    #[error("you are not in this person's circle")]
    NotInCircle,
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// A new record of the register, as a member fills it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CareDraft {
    /// The person's display name (only the circle sees it).
    pub name: String,
    /// A coarse area, same rules as a post's.
    pub area: String,
    /// The daily window.
    pub window: Window,
    /// Members who check (at least [`MIN_CIRCLE`]).
    pub circle: Vec<AuthorId>,
    /// The person, if they are a member themselves (they get the "I am fine" button).
    pub subject: Option<AuthorId>,
    /// Who gave consent, how, when.
    pub consent: String,
    /// What only the circle needs: how to reach them, which door.
    pub notes: String,
    /// Whether the person agreed that their name appears in a public request.
    pub name_public: bool,
}

/// One entry of the register, as sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CareEntry {
    /// A person registered.
    CareRecord {
        /// Its id.
        record: RecordId,
        /// Display name.
        name: String,
        /// Coarse area.
        area: String,
        /// Daily window.
        window: Window,
        /// Members who check.
        circle: Vec<AuthorId>,
        /// The person, if a member.
        subject: Option<AuthorId>,
        /// Consent: who, how, when.
        consent: String,
        /// Private notes.
        notes: String,
        /// Whether the name may appear in a public request.
        name_public: bool,
        /// When it was registered (writer's clock).
        at: Timestamp,
    },
    /// A check-in for one day.
    CareCheck {
        /// The record.
        record: RecordId,
        /// The local day, `YYYY-MM-DD`.
        day: String,
        /// How.
        how: CheckHow,
        /// Fine or not.
        fine: bool,
        /// A short note.
        note: String,
        /// When (writer's clock).
        at: Timestamp,
    },
    /// "I am going": a circle member takes a missed check.
    CareTake {
        /// The record.
        record: RecordId,
        /// The local day.
        day: String,
        /// When.
        at: Timestamp,
    },
    /// The record is removed at the person's request.
    CareRemove {
        /// The record.
        record: RecordId,
        /// When.
        at: Timestamp,
    },
}

impl CareEntry {
    /// The record the entry is about.
    pub fn record(&self) -> RecordId {
        match self {
            CareEntry::CareRecord { record, .. }
            | CareEntry::CareCheck { record, .. }
            | CareEntry::CareTake { record, .. }
            | CareEntry::CareRemove { record, .. } => *record,
        }
    }

    /// Seals the entry, written by `writer` under `nonce`, to `recipients`.
    pub fn seal(
        &self,
        writer: &AuthorId,
        nonce: &[u8; 8],
        recipients: &[AuthorId],
        seed: [u8; 32],
    ) -> Result<Vec<u8>, SealError> {
        let json = serde_json::to_vec(self).expect("care entries always serialise");
        sealed::seal(writer, nonce, recipients, &json, seed)
    }

    /// Opens a sealed record with `key` and reads it as a care entry, if `key` is a
    /// recipient and the entry is well formed (texts are neutralised and clipped as read).
    pub fn open(key: &AuthorKey, writer: &AuthorId, nonce: &[u8; 8], bytes: &[u8]) -> Option<Self> {
        Self::read(&sealed::open(key, writer, nonce, bytes)?)
    }

    /// Reads an opened record's plaintext as a care entry, if it is one (texts are
    /// neutralised and clipped as read).
    pub fn read(plain: &[u8]) -> Option<Self> {
        let mut entry: CareEntry = serde_json::from_slice(plain).ok()?;
        entry.clip();
        Some(entry)
    }

    fn clip(&mut self) {
        let private =
            |t: &str, max: usize| -> String { neutralise(t, true).chars().take(max).collect() };
        match self {
            CareEntry::CareRecord {
                name,
                area,
                consent,
                notes,
                circle,
                ..
            } => {
                *name = clip(Field::Name, name);
                *area = clip(Field::Area, area);
                *consent = private(consent, MAX_CONSENT_CHARS);
                *notes = private(notes, MAX_MESSAGE_CHARS);
                circle.sort();
                circle.dedup();
                circle.truncate(MAX_CIRCLE);
            }
            CareEntry::CareCheck { note, day, .. } => {
                *note = private(note, MAX_MESSAGE_CHARS);
                day.truncate(10);
            }
            CareEntry::CareTake { day, .. } => day.truncate(10),
            CareEntry::CareRemove { .. } => {}
        }
    }
}

impl CareDraft {
    /// The record to seal, or the first rule the draft breaks. Names and areas follow the
    /// board's text rules; the notes and the consent are private to the circle, so a
    /// phone number may be written there.
    pub fn to_entry(&self, record: RecordId, now: Timestamp) -> Result<CareEntry, CareError> {
        let name = clean_text(Field::Name, &self.name)?;
        let area = clean_text(Field::Area, &self.area)?;
        let consent = neutralise(&self.consent, false).trim().to_owned();
        if consent.chars().count() < MIN_CONSENT_CHARS {
            return Err(CareError::NoConsent);
        }
        if consent.chars().count() > MAX_CONSENT_CHARS {
            return Err(CareError::TooLong("consent", MAX_CONSENT_CHARS));
        }
        let notes = neutralise(&self.notes, true).trim().to_owned();
        if notes.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CareError::TooLong("notes", MAX_MESSAGE_CHARS));
        }
        // A missed check goes public 30 minutes after the window, on the same local day.
        if i64::from(self.window.end) * 60 + ESCALATION_DELAY_SECS > 24 * 3600 {
            return Err(CareError::Window(self.window.to_string()));
        }
        let mut circle = self.circle.clone();
        circle.sort();
        circle.dedup();
        if !(MIN_CIRCLE..=MAX_CIRCLE).contains(&circle.len()) {
            return Err(CareError::Circle(circle.len()));
        }
        debug_assert!(
            name.chars().count() <= MAX_NAME_CHARS && area.chars().count() <= MAX_AREA_CHARS
        );
        Ok(CareEntry::CareRecord {
            record,
            name,
            area,
            window: self.window,
            circle,
            subject: self.subject,
            consent,
            notes,
            name_public: self.name_public,
            at: now,
        })
    }
}

/// A check-in's note, checked: private to the circle, so only its length is bounded.
pub fn check_note(note: &str) -> Result<String, CareError> {
    let note = neutralise(note, true).trim().to_owned();
    if note.chars().count() > MAX_MESSAGE_CHARS {
        return Err(CareError::TooLong("note", MAX_MESSAGE_CHARS));
    }
    Ok(note)
}

/// An entry opened by this node: who wrote it, under which nonce, what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The feed it was written in.
    pub writer: AuthorId,
    /// Its nonce.
    pub nonce: [u8; 8],
    /// What it says.
    pub entry: CareEntry,
}

/// Where one record stands today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Someone checked and the person is not fine: urgent for the circle.
    NotFine,
    /// The window ended long ago and nobody took it: a public request is due.
    Escalated,
    /// The window ended and nobody checked.
    Missed,
    /// Missed, and a circle member is going.
    Taken,
    /// The window is open.
    Due,
    /// Before today's window.
    Upcoming,
    /// Checked today, fine.
    Checked,
    /// No alert is active: nothing is due.
    NoAlert,
}

impl CheckState {
    /// The state's name in the JSON API.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::NotFine => "not_fine",
            CheckState::Escalated => "escalated",
            CheckState::Missed => "missed",
            CheckState::Taken => "taken",
            CheckState::Due => "due",
            CheckState::Upcoming => "upcoming",
            CheckState::Checked => "checked",
            CheckState::NoAlert => "no_alert",
        }
    }

    /// Whether the circle must act now (shown at the top of every page).
    pub fn needs_someone(self) -> bool {
        matches!(
            self,
            CheckState::NotFine | CheckState::Escalated | CheckState::Missed
        )
    }
}

/// A check-in as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    /// Who checked.
    pub by: AuthorId,
    /// How.
    pub how: CheckHow,
    /// Fine or not.
    pub fine: bool,
    /// The note.
    pub note: String,
    /// When (bounded by the reader's now).
    pub at: Timestamp,
}

/// One record of the register as this node's resident sees it today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareView {
    /// The record's id.
    pub id: RecordId,
    /// The person's name.
    pub name: String,
    /// Coarse area.
    pub area: String,
    /// Daily window, local time.
    pub window: Window,
    /// Members who check.
    pub circle: Vec<AuthorId>,
    /// The person, if a member.
    pub subject: Option<AuthorId>,
    /// Who registered the person.
    pub registered_by: AuthorId,
    /// When.
    pub registered_at: Timestamp,
    /// Consent: who, how, when.
    pub consent: String,
    /// Private notes.
    pub notes: String,
    /// Whether the name may appear in a public request.
    pub name_public: bool,
    /// Today, local date (`YYYY-MM-DD`).
    pub day: String,
    /// Where today's check stands.
    pub state: CheckState,
    /// Today's latest check-in, if any.
    pub check: Option<CheckView>,
    /// Who said "I am going" today, and when.
    pub taken_by: Option<(AuthorId, Timestamp)>,
    /// When today's window opens and ends (instants).
    pub window_start: Timestamp,
    /// See `window_start`.
    pub window_end: Timestamp,
    /// When a missed check goes public.
    pub escalates_at: Timestamp,
    /// The key marking today's public request for this record.
    pub escalation_key: [u8; 8],
}

impl CareView {
    /// Everyone who can read the record and what is written about it.
    pub fn recipients(&self) -> Vec<AuthorId> {
        recipients(&self.circle, self.registered_by, self.subject)
    }
}

fn recipients(
    circle: &[AuthorId],
    registrar: AuthorId,
    subject: Option<AuthorId>,
) -> Vec<AuthorId> {
    let mut all: BTreeSet<AuthorId> = circle.iter().copied().collect();
    all.insert(registrar);
    all.extend(subject);
    all.into_iter().collect()
}

/// The key of the public request for `record`'s missed check on `day`: the same on every
/// circle member's node, meaningless to anyone else.
pub fn escalation_key(record: &RecordId, day: &str) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"entraide escalation/1");
    h.update(record.0);
    h.update(day.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.finalize()[..8]);
    out
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The local date at `at` for a clock `utc_offset` seconds east of UTC, `YYYY-MM-DD`.
pub fn local_day(at: Timestamp, utc_offset: i32) -> String {
    let (y, m, d) = civil_from_days((at + i64::from(utc_offset)).div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// What a node needs to know to show the register.
#[derive(Clone, Copy, Debug)]
pub struct CareContext {
    /// Now.
    pub now: Timestamp,
    /// The local time's offset from UTC, seconds east.
    pub utc_offset: i32,
    /// Whether an alert is active now.
    pub alert_active: bool,
}

/// The register as the resident who opened `opened` sees it today: every record they can
/// read and that nobody removed, the ones needing someone first, then by window.
///
/// An entry about a record counts only if its writer is one of the record's recipients;
/// entries about records not (yet) opened wait, and count once the record arrives.
pub fn care_view(opened: &[Opened], ctx: CareContext) -> Vec<CareView> {
    let day = local_day(ctx.now, ctx.utc_offset);
    let midnight = (ctx.now + i64::from(ctx.utc_offset)).div_euclid(86_400) * 86_400
        - i64::from(ctx.utc_offset);
    // The first record entry for an id wins (by time, then writer): ids are random, so two
    // only collide if someone copied one.
    let mut records: BTreeMap<RecordId, (Timestamp, AuthorId, &CareEntry)> = BTreeMap::new();
    for o in opened {
        if let CareEntry::CareRecord { record, at, .. } = &o.entry {
            let candidate = (*at, o.writer, &o.entry);
            records
                .entry(*record)
                .and_modify(|e| {
                    if (candidate.0, candidate.1) < (e.0, e.1) {
                        *e = candidate;
                    }
                })
                .or_insert(candidate);
        }
    }
    let mut views = Vec::new();
    for (id, (registered_at, registrar, entry)) in records {
        let CareEntry::CareRecord {
            name,
            area,
            window,
            circle,
            subject,
            consent,
            notes,
            name_public,
            ..
        } = entry
        else {
            continue;
        };
        let allowed = recipients(circle, registrar, *subject);
        let about = |o: &&Opened| o.entry.record() == id && allowed.contains(&o.writer);
        let related: Vec<&Opened> = opened.iter().filter(about).collect();
        if related
            .iter()
            .any(|o| matches!(o.entry, CareEntry::CareRemove { .. }))
        {
            continue;
        }
        let check = related
            .iter()
            .filter_map(|o| match &o.entry {
                CareEntry::CareCheck {
                    day: d,
                    how,
                    fine,
                    note,
                    at,
                    ..
                } if *d == day && (*how != CheckHow::Myself || Some(o.writer) == *subject) => {
                    Some(CheckView {
                        by: o.writer,
                        how: *how,
                        fine: *fine,
                        note: note.clone(),
                        at: (*at).min(ctx.now),
                    })
                }
                _ => None,
            })
            .max_by(|a, b| a.at.cmp(&b.at).then(a.by.cmp(&b.by)));
        let taken_by = related
            .iter()
            .filter_map(|o| match &o.entry {
                CareEntry::CareTake { day: d, at, .. } if *d == day => {
                    Some((o.writer, (*at).min(ctx.now)))
                }
                _ => None,
            })
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let window_start = midnight + i64::from(window.start) * 60;
        let window_end = midnight + i64::from(window.end) * 60;
        let escalates_at = window_end + ESCALATION_DELAY_SECS;
        let state = match &check {
            Some(c) if !c.fine => CheckState::NotFine,
            Some(_) => CheckState::Checked,
            None if !ctx.alert_active => CheckState::NoAlert,
            None if ctx.now < window_start => CheckState::Upcoming,
            None if ctx.now < window_end => CheckState::Due,
            None if taken_by.is_some() => CheckState::Taken,
            None if ctx.now < escalates_at => CheckState::Missed,
            None => CheckState::Escalated,
        };
        views.push(CareView {
            id,
            name: name.clone(),
            area: area.clone(),
            window: *window,
            circle: circle.clone(),
            subject: *subject,
            registered_by: registrar,
            registered_at: registered_at.min(ctx.now),
            consent: consent.clone(),
            notes: notes.clone(),
            name_public: *name_public,
            day: day.clone(),
            state,
            check,
            taken_by,
            window_start,
            window_end,
            escalates_at,
            escalation_key: escalation_key(&id, &day),
        });
    }
    views.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(a.window.start.cmp(&b.window.start))
            .then(a.name.cmp(&b.name))
            .then(a.id.cmp(&b.id))
    });
    views
}

/// The records removed at their person's request by one of their recipients: nobody shows
/// them any more, and their writers' nodes delete what they wrote about them.
pub fn removed_records(opened: &[Opened]) -> BTreeSet<RecordId> {
    let mut allowed: BTreeMap<RecordId, Vec<AuthorId>> = BTreeMap::new();
    for o in opened {
        if let CareEntry::CareRecord {
            record,
            circle,
            subject,
            ..
        } = &o.entry
        {
            allowed
                .entry(*record)
                .or_default()
                .extend(recipients(circle, o.writer, *subject));
        }
    }
    opened
        .iter()
        .filter(|o| matches!(o.entry, CareEntry::CareRemove { .. }))
        .filter(|o| {
            allowed
                .get(&o.entry.record())
                .is_some_and(|a| a.contains(&o.writer))
        })
        .map(|o| o.entry.record())
        .collect()
}

/// The public request for a record's missed check: an urgent visit, in French and English
/// (the board is shared by both), with the coarse area and the name only if the person
/// agreed to that.
pub fn escalation_draft(view: &CareView) -> PostDraft {
    let mut details = String::from(
        "Personne n'a pu vérifier aujourd'hui qu'un voisin fragile va bien : passez le voir.\n\
         Nobody could check today that a frail neighbour is fine: please visit.",
    );
    if view.name_public {
        details.push_str(&format!("\n\nNom / name: {}", view.name));
    }
    PostDraft {
        kind: Kind::Request,
        category: Category::Visit,
        title: "Visite urgente / Urgent visit: un voisin à voir / a neighbour to check on".into(),
        details,
        urgency: Urgency::Urgent,
        area: view.area.clone(),
        expires_at: None,
        on_behalf_of: None,
    }
}

/// The one record among `views` whose id starts with what a person typed.
pub fn resolve_record(views: &[CareView], typed: &str) -> Result<RecordId, CareError> {
    let typed = typed.trim().to_lowercase();
    if typed.is_empty() {
        return Err(CareError::NoSuchRecord(typed));
    }
    let found: Vec<RecordId> = views
        .iter()
        .map(|v| v.id)
        .filter(|id| id.to_string().starts_with(&typed))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(CareError::NoSuchRecord(typed)),
        _ => Err(CareError::AmbiguousRecord(typed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_and_windows() {
        // 2025-11-24 16:00:00 UTC.
        let t = 1_764_000_000;
        assert_eq!(local_day(t, 0), "2025-11-24");
        assert_eq!(local_day(t, 9 * 3600), "2025-11-25");
        assert_eq!(local_day(0, 0), "1970-01-01");
        assert_eq!(local_day(951_782_400, 0), "2000-02-29");
        assert_eq!(
            "09:00-11:30".parse::<Window>().unwrap().to_string(),
            "09:00-11:30"
        );
        for bad in [
            "11:00-09:00",
            "9-11",
            "25:00-26:00",
            "09:00",
            "09:60-10:00",
            "009:00-10:00",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }
}

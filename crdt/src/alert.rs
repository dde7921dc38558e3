//! Alerts: a member says "heatwave until Friday", and every page shows it until then.
//!
//! An alert is stored in its author's feed under `alert:<nonce>` (see
//! [`crate::entries`]). It ends at its `until`, or when its author sets `ended`. The view
//! ([`Board::active_alerts`]) is a pure function of the feeds and "now":
//!
//! - an alert dated more than [`MAX_CLOCK_AHEAD_SECS`] after now is held back;
//! - its `until` is cut to `created_at` plus [`MAX_ALERT_SECS`];
//! - active alerts of the same kind show as one: the latest `until`, the notes, ids and
//!   authors of all of them, in the fixed order of [`AlertKind::ALL`].

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, Writer};
use crate::board::Board;
use crate::content::{Source, int, text};
use crate::entries::{ALERT_PREFIX, AlertId, EntryError, EntryKind};
use crate::feed::{Feed, LocalChange, WriteError};
use crate::limits::{MAX_ALERT_SECS, MAX_CLOCK_AHEAD_SECS};
use crate::post::{Field, TextError, Timestamp, clean_text, clip};

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A heatwave.
    Heatwave,
    /// A cold snap.
    Cold,
    /// A storm.
    Storm,
    /// A power, water or network outage.
    Outage,
    /// Anything else.
    Other,
}

crate::post::text_enum!(AlertKind, "alert kind", Heatwave => "heatwave", Cold => "cold",
    Storm => "storm", Outage => "outage", Other => "other");

/// An alert as its author types it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDraft {
    /// What it is about.
    pub kind: AlertKind,
    /// When it ends (after now, at most [`MAX_ALERT_SECS`] ahead).
    pub until: Timestamp,
    /// A short note, may be empty.
    #[serde(default)]
    pub note: String,
}

impl AlertDraft {
    /// The draft as it will be stored (its note through the text rules), or the first
    /// rule it breaks.
    pub fn cleaned(&self, now: Timestamp) -> Result<AlertDraft, TextError> {
        if self.until <= now || self.until > now.saturating_add(MAX_ALERT_SECS) {
            return Err(TextError::AlertEnd {
                max_days: (MAX_ALERT_SECS / (24 * 3600)) as u32,
            });
        }
        Ok(AlertDraft {
            note: clean_text(Field::Note, &self.note)?,
            ..self.clone()
        })
    }
}

/// An alert as stored in its author's feed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredAlert {
    /// Its id.
    pub id: AlertId,
    /// The nonce it is stored under.
    pub nonce: [u8; 8],
    /// What it is about.
    pub kind: AlertKind,
    /// When it ends, as written.
    pub until: Timestamp,
    /// The note.
    pub note: String,
    /// When it was declared (author's clock).
    pub created_at: Timestamp,
    /// Whether its author ended it.
    pub ended: bool,
}

impl StoredAlert {
    /// When it ends, as every reader sees it: `until`, at most [`MAX_ALERT_SECS`] after
    /// its creation.
    pub fn effective_until(&self) -> Timestamp {
        self.until
            .min(self.created_at.saturating_add(MAX_ALERT_SECS))
    }

    /// Whether it is active at `now`: not ended, not past, not held back.
    pub fn is_active(&self, now: Timestamp) -> bool {
        !self.ended
            && now < self.effective_until()
            && self.created_at <= now.saturating_add(MAX_CLOCK_AHEAD_SECS)
    }
}

pub(crate) fn read_alert<S: Source>(
    source: &S,
    key: &str,
    id: AlertId,
    nonce: [u8; 8],
) -> Option<StoredAlert> {
    let map = source.map_at(&source.root(), key)?;
    Some(StoredAlert {
        id,
        nonce,
        kind: text(source, &map, "kind")?.parse().ok()?,
        until: int(source, &map, "until")?,
        note: clip(Field::Note, &text(source, &map, "note").unwrap_or_default()),
        created_at: int(source, &map, "created_at")?,
        ended: matches!(
            source.scalar(&map, "ended"),
            Some(ScalarValue::Boolean(true))
        ),
    })
}

/// The active alerts of one kind, merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    /// What they are about.
    pub kind: AlertKind,
    /// When the last of them ends.
    pub until: Timestamp,
    /// When the first of them was declared (never later than now).
    pub since: Timestamp,
    /// Their ids, oldest first.
    pub ids: Vec<AlertId>,
    /// Their notes that are not empty, oldest first, each once.
    pub notes: Vec<String>,
    /// Who declared them, by id, each once.
    pub authors: Vec<AuthorId>,
    /// The author of each of `ids`, in the same order (who may end which).
    pub id_authors: Vec<AuthorId>,
}

impl Board {
    /// The active alerts at `now`, merged by kind, in the order of [`AlertKind::ALL`].
    pub fn active_alerts(&self, now: Timestamp) -> Vec<AlertView> {
        let mut by_kind: BTreeMap<AlertKind, Vec<(AuthorId, &StoredAlert)>> = BTreeMap::new();
        for feed in self.standing_feeds() {
            for alert in feed.content().public.alerts.values() {
                if alert.is_active(now) {
                    by_kind
                        .entry(alert.kind)
                        .or_default()
                        .push((feed.id().author, alert));
                }
            }
        }
        by_kind
            .into_iter()
            .map(|(kind, mut alerts)| {
                alerts.sort_by_key(|(_, a)| (a.created_at, a.id));
                let mut view = AlertView {
                    kind,
                    until: alerts
                        .iter()
                        .map(|(_, a)| a.effective_until())
                        .max()
                        .unwrap_or(now),
                    since: alerts
                        .iter()
                        .map(|(_, a)| a.created_at)
                        .min()
                        .unwrap_or(now)
                        .min(now),
                    ids: alerts.iter().map(|(_, a)| a.id).collect(),
                    id_authors: alerts.iter().map(|(author, _)| *author).collect(),
                    notes: Vec::new(),
                    authors: Vec::new(),
                };
                for (author, alert) in alerts {
                    if !alert.note.trim().is_empty() && !view.notes.contains(&alert.note) {
                        view.notes.push(alert.note.clone());
                    }
                    if !view.authors.contains(&author) {
                        view.authors.push(author);
                    }
                }
                view
            })
            .collect()
    }

    /// The alert (active or not) whose id starts with what a person typed.
    pub fn resolve_alert(&self, typed: &str) -> Result<AlertId, crate::ResolveError> {
        let ids = self
            .feeds()
            .flat_map(|f| f.content().public.alerts.keys().copied());
        crate::round::resolve(EntryKind::Alert, typed, ids)
    }

    /// Declares an alert stored under `nonce` (8 random bytes from the caller).
    pub fn declare_alert(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &AlertDraft,
        now: Timestamp,
    ) -> Result<(AlertId, LocalChange), WriteError> {
        self.own_feed(writer)
            .declare_alert(writer, nonce, draft, now)
    }

    /// Ends one's own alert now.
    pub fn end_alert(
        &mut self,
        writer: &Writer,
        id: AlertId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let mine = self
            .current_feed(&writer.author())
            .is_some_and(|f| f.content().public.alerts.contains_key(&id));
        if !mine {
            let anyones = self
                .feeds()
                .any(|f| f.content().public.alerts.contains_key(&id));
            return Err(if anyones {
                EntryError::NotYours {
                    what: EntryKind::Alert,
                }
            } else {
                EntryError::Unknown {
                    what: EntryKind::Alert,
                    id: id.to_string(),
                }
            }
            .into());
        }
        self.own_feed(writer).end_alert(writer, id, now)
    }
}

impl Feed {
    /// Adds an alert stored under `nonce`.
    pub fn declare_alert(
        &mut self,
        writer: &Writer,
        nonce: [u8; 8],
        draft: &AlertDraft,
        now: Timestamp,
    ) -> Result<(AlertId, LocalChange), WriteError> {
        let draft = draft.cleaned(now)?;
        let key = format!("{ALERT_PREFIX}{}", hex::encode(nonce));
        if self.doc().get(ROOT, key.as_str()).ok().flatten().is_some() {
            return Err(EntryError::Duplicate {
                what: EntryKind::Alert,
            }
            .into());
        }
        let change = self.write(writer, now, |tx| {
            let alert = tx.put_object(ROOT, key.as_str(), ObjType::Map)?;
            tx.put(&alert, "kind", draft.kind.as_str())?;
            tx.put(&alert, "until", ScalarValue::Int(draft.until))?;
            tx.put(&alert, "note", draft.note.as_str())?;
            tx.put(&alert, "created_at", ScalarValue::Int(now))?;
            tx.put(&alert, "ended", false)?;
            Ok(())
        })?;
        Ok((AlertId::derive(&self.id().author, &nonce), change))
    }

    /// Ends the author's alert `id`.
    pub fn end_alert(
        &mut self,
        writer: &Writer,
        id: AlertId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        let unknown = || {
            WriteError::from(EntryError::Unknown {
                what: EntryKind::Alert,
                id: id.to_string(),
            })
        };
        let stored = self.content().public.alerts.get(&id).ok_or_else(unknown)?;
        if !stored.is_active(now) {
            return Err(EntryError::Over {
                what: EntryKind::Alert,
            }
            .into());
        }
        let key = format!("{ALERT_PREFIX}{}", hex::encode(stored.nonce));
        let obj = match self.doc().get(ROOT, key.as_str()) {
            Ok(Some((_, obj))) => obj,
            _ => return Err(unknown()),
        };
        self.write_within(crate::feed::ENDING_LIMIT, writer, now, |tx| {
            tx.put(&obj, "ended", true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthorKey, DeviceId};

    const NOW: Timestamp = 1_764_000_000;
    const HOUR: i64 = 3600;

    fn writer(seed: u8) -> Writer {
        Writer::new(AuthorKey::from_seed([seed; 32]), DeviceId([seed; 8]))
    }

    fn draft(kind: AlertKind, until: Timestamp, note: &str) -> AlertDraft {
        AlertDraft {
            kind,
            until,
            note: note.into(),
        }
    }

    #[test]
    fn two_alerts_of_one_kind_show_as_one_in_a_fixed_order() {
        let mut board = Board::new();
        let (marie, karim) = (writer(1), writer(2));
        let (a, _) = board
            .declare_alert(
                &marie,
                [1; 8],
                &draft(AlertKind::Heatwave, NOW + 48 * HOUR, "Drink water"),
                NOW,
            )
            .unwrap();
        let (b, _) = board
            .declare_alert(
                &karim,
                [2; 8],
                &draft(AlertKind::Heatwave, NOW + 72 * HOUR, "Shutters closed"),
                NOW + 60,
            )
            .unwrap();
        let (c, _) = board
            .declare_alert(
                &karim,
                [3; 8],
                &draft(AlertKind::Storm, NOW + 5 * HOUR, ""),
                NOW + 60,
            )
            .unwrap();
        let alerts = board.active_alerts(NOW + 120);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].kind, AlertKind::Heatwave);
        assert_eq!(alerts[0].until, NOW + 72 * HOUR);
        assert_eq!(alerts[0].ids, vec![a, b]);
        assert_eq!(alerts[0].notes, vec!["Drink water", "Shutters closed"]);
        assert_eq!(alerts[0].authors, vec![marie.author(), karim.author()]);
        assert_eq!(alerts[0].id_authors, vec![marie.author(), karim.author()]);
        assert_eq!(alerts[0].since, NOW);
        assert_eq!(alerts[1].kind, AlertKind::Storm);
        assert_eq!(alerts[1].ids, vec![c]);
        assert!(alerts[1].notes.is_empty());
        // The storm ends at its time; the heatwave stays while one of its alerts runs.
        let later = board.active_alerts(NOW + 50 * HOUR);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].ids, vec![b]);
        assert!(board.active_alerts(NOW + 72 * HOUR).is_empty());
    }

    #[test]
    fn only_its_author_ends_an_alert() {
        let mut board = Board::new();
        let (marie, karim) = (writer(1), writer(2));
        let (a, _) = board
            .declare_alert(
                &marie,
                [1; 8],
                &draft(AlertKind::Cold, NOW + 24 * HOUR, ""),
                NOW,
            )
            .unwrap();
        assert_eq!(
            board.end_alert(&karim, a, NOW + 10),
            Err(WriteError::Entry(EntryError::NotYours {
                what: EntryKind::Alert
            }))
        );
        board.end_alert(&marie, a, NOW + 10).unwrap();
        assert!(board.active_alerts(NOW + 20).is_empty());
        assert!(matches!(
            board.end_alert(&marie, a, NOW + 30),
            Err(WriteError::Entry(EntryError::Over { .. }))
        ));
        assert!(matches!(
            board.end_alert(&marie, AlertId([9; 8]), NOW),
            Err(WriteError::Entry(EntryError::Unknown { .. }))
        ));
        assert_eq!(board.resolve_alert(&a.to_string()[..6]), Ok(a));
    }

    #[test]
    fn an_end_too_far_or_past_and_contact_details_are_refused() {
        let mut board = Board::new();
        let marie = writer(1);
        for until in [NOW, NOW - 1, NOW + MAX_ALERT_SECS + 1] {
            assert_eq!(
                board.declare_alert(&marie, [1; 8], &draft(AlertKind::Cold, until, ""), NOW),
                Err(WriteError::Text(TextError::AlertEnd { max_days: 14 }))
            );
        }
        assert!(matches!(
            board.declare_alert(
                &marie,
                [1; 8],
                &draft(AlertKind::Cold, NOW + 60, "call 06 12 34 56 78"),
                NOW
            ),
            Err(WriteError::Text(TextError::PhoneNumber {
                field: Field::Note
            }))
        ));
        let long = "a".repeat(crate::limits::MAX_NOTE_CHARS + 1);
        assert!(matches!(
            board.declare_alert(
                &marie,
                [1; 8],
                &draft(AlertKind::Cold, NOW + 60, &long),
                NOW
            ),
            Err(WriteError::Text(TextError::TooLong { .. }))
        ));
        board
            .declare_alert(&marie, [1; 8], &draft(AlertKind::Cold, NOW + 60, ""), NOW)
            .unwrap();
        assert!(matches!(
            board.declare_alert(&marie, [1; 8], &draft(AlertKind::Cold, NOW + 60, ""), NOW),
            Err(WriteError::Entry(EntryError::Duplicate { .. }))
        ));
    }

    /// A modified client writes straight into its document: the reader bounds it.
    #[test]
    fn a_far_until_is_cut_and_a_future_alert_is_held_back() {
        let marie = writer(1);
        let mut feed = Feed::new(crate::FeedId::first(marie.author()));
        feed.write(&marie, NOW, |tx| {
            let a = tx.put_object(ROOT, "alert:0101010101010101", ObjType::Map)?;
            tx.put(&a, "kind", "heatwave")?;
            tx.put(&a, "until", ScalarValue::Int(NOW + 400 * 24 * HOUR))?;
            tx.put(&a, "note", "x".repeat(5000))?;
            tx.put(&a, "created_at", ScalarValue::Int(NOW))?;
            let b = tx.put_object(ROOT, "alert:0202020202020202", ObjType::Map)?;
            tx.put(&b, "kind", "storm")?;
            tx.put(&b, "until", ScalarValue::Int(NOW + 400 * 24 * HOUR))?;
            tx.put(&b, "created_at", ScalarValue::Int(NOW + 300 * 24 * HOUR))?;
            let c = tx.put_object(ROOT, "alert:0303030303030303", ObjType::Map)?;
            tx.put(&c, "kind", "earthquake")?;
            tx.put(&c, "until", ScalarValue::Int(NOW + HOUR))?;
            tx.put(&c, "created_at", ScalarValue::Int(NOW))?;
            tx.put(ROOT, "alert:nothex", "x")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(feed.content().skipped, 2);
        let mut board = Board::new();
        board.insert(feed);
        let alerts = board.active_alerts(NOW + 1);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].kind, AlertKind::Heatwave);
        assert_eq!(alerts[0].until, NOW + MAX_ALERT_SECS);
        assert_eq!(
            alerts[0].notes[0].chars().count(),
            crate::limits::MAX_NOTE_CHARS
        );
        assert!(board.active_alerts(NOW + MAX_ALERT_SECS).is_empty());
    }
}

//! The care register as the node serves it: what residents ask (the `Node::care_*` methods), what
//! they see ([`CareList`]), and the cache of sealed records this node's resident can
//! open ([`CareCache`]). The rules are in `entraide_crdt::care`; the actor's side (writes
//! and the escalation tick) is `actor/care.rs`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use entraide_crdt::care::{CareEntry, CareView, CheckHow, Opened, RecordId, Window};
use entraide_crdt::message::MessageEntry;
use entraide_crdt::report::Report;
use entraide_crdt::sealed::recipient_count;
use entraide_crdt::{AuthorId, AuthorKey, Board};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::node::{Command, Node, NodeError};

/// How often the node looks at the register to raise or close public requests.
pub const CARE_TICK: Duration = Duration::from_secs(5);
/// How soon it looks again while sealed records wait to be tried.
pub const CARE_BACKLOG_TICK: Duration = Duration::from_millis(100);
/// The most time the running node spends trying its key on new sealed records at once
/// (each slot costs one X25519 operation): a member who floods the feeds with sealed
/// records delays the register, not the node.
pub const OPEN_BUDGET: Duration = Duration::from_millis(25);

/// A person to register, as typed: members of the circle by name, fingerprint or id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareRequest {
    /// The person's display name.
    pub name: String,
    /// A coarse area.
    pub area: String,
    /// Daily window, `HH:MM-HH:MM`.
    pub window: String,
    /// Members who check, as typed.
    pub circle: Vec<String>,
    /// Who gave consent, how, when.
    pub consent: String,
    /// Notes only the circle reads.
    #[serde(default)]
    pub notes: String,
    /// The person is this node's resident (they get the "I am fine" button).
    #[serde(default)]
    pub me: bool,
    /// The person agreed that their name may appear in a public request.
    #[serde(default)]
    pub name_public: bool,
}

/// The register as this node's resident sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareList {
    /// Whether an alert is active now (checks are due only then).
    pub alert_active: bool,
    /// Who asks.
    pub me: AuthorId,
    /// Every record they can read, the ones needing someone first.
    pub records: Vec<CareRecord>,
    /// Sealed records not tried yet (a flood of them is tried a little at a time): the
    /// list may be missing some until this is 0.
    #[serde(default)]
    pub unread: usize,
}

/// One record with the names of the members it mentions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareRecord {
    /// The record and today's state.
    #[serde(flatten)]
    pub view: CareView,
    /// The circle's display names, in the order of `circle`.
    pub circle_names: Vec<Option<String>>,
    /// The name of whoever checked today.
    pub checked_by_name: Option<String>,
    /// The name of whoever took today's missed check.
    pub taken_by_name: Option<String>,
    /// Whether this node's resident is the person.
    pub is_me: bool,
}

/// A member who may be put in a circle: one whose feed this node holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareMember {
    /// Their author id.
    pub id: AuthorId,
    /// Their display name, if they set one.
    pub name: Option<String>,
    /// Whether this is this node's resident.
    pub is_me: bool,
}

/// What residents ask about the register.
#[derive(Debug)]
pub(crate) enum CareCommand {
    Add(CareRequest, oneshot::Sender<Result<RecordId, NodeError>>),
    List(oneshot::Sender<CareList>),
    Members(oneshot::Sender<Vec<CareMember>>),
    Check {
        record: String,
        how: CheckHow,
        fine: bool,
        note: String,
        reply: oneshot::Sender<Result<RecordId, NodeError>>,
    },
    Take(String, oneshot::Sender<Result<RecordId, NodeError>>),
    Remove(String, oneshot::Sender<Result<RecordId, NodeError>>),
}

impl Node {
    /// Registers a person; returns the record's id once it is on disk.
    pub async fn care_add(&self, request: CareRequest) -> Result<RecordId, NodeError> {
        self.ask(|tx| Command::Care(CareCommand::Add(request, tx)))
            .await?
    }

    /// The register as this node's resident sees it today.
    pub async fn care_list(&self) -> Result<CareList, NodeError> {
        self.ask(|tx| Command::Care(CareCommand::List(tx))).await
    }

    /// The members who may be put in a circle (this node's resident first, then by
    /// name): the register form offers them.
    pub async fn care_members(&self) -> Result<Vec<CareMember>, NodeError> {
        self.ask(|tx| Command::Care(CareCommand::Members(tx))).await
    }

    /// A check-in for today: `fine` or not, how, with a note.
    pub async fn care_check(
        &self,
        record: &str,
        how: CheckHow,
        fine: bool,
        note: &str,
    ) -> Result<RecordId, NodeError> {
        self.ask(|reply| {
            Command::Care(CareCommand::Check {
                record: record.into(),
                how,
                fine,
                note: note.into(),
                reply,
            })
        })
        .await?
    }

    /// "I am going": takes today's missed check of a record.
    pub async fn care_take(&self, record: &str) -> Result<RecordId, NodeError> {
        self.ask(|tx| Command::Care(CareCommand::Take(record.into(), tx)))
            .await?
    }

    /// Removes a record at the person's request.
    pub async fn care_remove(&self, record: &str) -> Result<RecordId, NodeError> {
        self.ask(|tx| Command::Care(CareCommand::Remove(record.into(), tx)))
            .await?
    }
}

/// The sealed records this node's resident can open, opened once each.
///
/// Sealed records never change once written (they are only deleted), so what was opened
/// stays true; a record that is not ours is remembered as such, so each is tried once.
///
/// It keeps the private messages the resident can open too (`entraide_crdt::message`), and
/// the reports to the stewards when the resident is one (`entraide_crdt::report`): one pass
/// over the sealed records serves them all.
#[derive(Debug, Default)]
pub struct CareCache {
    opened: HashMap<(AuthorId, [u8; 8]), Option<SealedEntry>>,
    /// Sealed records held but not tried yet.
    unread: usize,
}

impl CareCache {
    /// Opens what is new on `board` with `key` for at most `budget` (at least one record),
    /// the records with fewest slots first (a circle is a few people; a flood uses the
    /// most slots), forgets what left the board, and returns every entry `key` can read.
    pub fn refresh(&mut self, board: &Board, key: &AuthorKey, budget: Duration) -> Vec<Opened> {
        let deadline = Instant::now() + budget;
        let mut seen = HashMap::with_capacity(self.opened.len());
        let mut new = Vec::new();
        for (writer, nonce, bytes) in board.sealed_records() {
            match self.opened.remove(&(writer, nonce)) {
                Some(known) => {
                    seen.insert((writer, nonce), known);
                }
                None => new.push((writer, nonce, bytes)),
            }
        }
        new.sort_by_key(|(_, _, bytes)| recipient_count(bytes).unwrap_or(usize::MAX));
        self.unread = 0;
        for (i, (writer, nonce, bytes)) in new.into_iter().enumerate() {
            if i > 0 && Instant::now() >= deadline {
                self.unread += 1;
                continue;
            }
            let plain = entraide_crdt::sealed::open(key, &writer, &nonce, bytes);
            seen.insert(
                (writer, nonce),
                plain.as_deref().and_then(SealedEntry::read),
            );
        }
        self.opened = seen;
        let mut out: Vec<Opened> = self
            .opened
            .iter()
            .filter_map(|((writer, nonce), e)| match e {
                Some(SealedEntry::Care(entry)) => Some(Opened {
                    writer: *writer,
                    nonce: *nonce,
                    entry: entry.clone(),
                }),
                _ => None,
            })
            .collect();
        out.sort_by_key(|o| (o.writer, o.nonce));
        out
    }

    /// The private messages opened so far (`entraide_crdt::message`): (writer, nonce,
    /// entry), by writer then nonce. Call after [`CareCache::refresh`].
    pub fn messages(&self) -> Vec<(AuthorId, [u8; 8], MessageEntry)> {
        let mut out: Vec<(AuthorId, [u8; 8], MessageEntry)> = self
            .opened
            .iter()
            .filter_map(|((writer, nonce), e)| match e {
                Some(SealedEntry::Message(m)) => Some((*writer, *nonce, m.clone())),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(w, n, _)| (*w, *n));
        out
    }

    /// The reports to the stewards opened so far (`entraide_crdt::report`): (reporter,
    /// report), by reporter then nonce. Call after [`CareCache::refresh`].
    pub fn reports(&self) -> Vec<(AuthorId, Report)> {
        let mut out: Vec<(AuthorId, [u8; 8], Report)> = self
            .opened
            .iter()
            .filter_map(|((writer, nonce), e)| match e {
                Some(SealedEntry::Report(r)) => Some((*writer, *nonce, r.clone())),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(w, n, _)| (*w, *n));
        out.into_iter().map(|(w, _, r)| (w, r)).collect()
    }

    /// Sealed records held but not tried yet (see [`CareCache::refresh`]).
    pub fn unread(&self) -> usize {
        self.unread
    }

    /// How many sealed records were tried, and how many of them this resident can read.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.opened.len(),
            self.opened.values().filter(|e| e.is_some()).count(),
        )
    }
}

/// What an opened sealed record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SealedEntry {
    Care(CareEntry),
    Message(MessageEntry),
    Report(Report),
}

impl SealedEntry {
    fn read(plain: &[u8]) -> Option<Self> {
        CareEntry::read(plain)
            .map(SealedEntry::Care)
            .or_else(|| MessageEntry::read(plain).map(SealedEntry::Message))
            .or_else(|| Report::read(plain).map(SealedEntry::Report))
    }
}

// --- The JSON API (`docs/api.md`, "The care register"). ---

/// The care register's routes, merged into the API's router (same token check).
pub(crate) fn routes() -> axum::Router<crate::api::ApiState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/care", get(api_list).post(api_add))
        .route("/api/v1/care/{id}/ok", post(api_check))
        .route("/api/v1/care/{id}/take", post(api_take))
        .route("/api/v1/care/{id}/remove", post(api_remove))
}

use axum::extract::Path;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::json;

use crate::api::{ApiError, ApiResult, ApiState};

async fn api_list(Extension(s): Extension<ApiState>) -> ApiResult<CareList> {
    Ok(Json(s.node.care_list().await?))
}

async fn api_add(
    Extension(s): Extension<ApiState>,
    Json(request): Json<CareRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = s.node.care_add(request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// A check-in as the API takes it.
#[derive(Debug, Deserialize)]
struct CheckBody {
    how: CheckHow,
    #[serde(default = "yes")]
    fine: bool,
    #[serde(default)]
    note: String,
}

fn yes() -> bool {
    true
}

async fn api_check(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<CheckBody>,
) -> ApiResult<serde_json::Value> {
    let id = s.node.care_check(&id, b.how, b.fine, &b.note).await?;
    Ok(Json(json!({ "id": id })))
}

async fn api_take(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    let id = s.node.care_take(&id).await?;
    Ok(Json(json!({ "id": id })))
}

async fn api_remove(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    let id = s.node.care_remove(&id).await?;
    Ok(Json(json!({ "id": id })))
}

/// Parses a window typed as `HH:MM-HH:MM`.
pub fn parse_window(typed: &str) -> Result<Window, NodeError> {
    Ok(typed.trim().parse()?)
}

#[cfg(test)]
mod tests {
    use entraide_crdt::care::CareDraft;
    use entraide_crdt::{DeviceId, Writer};

    use super::*;

    #[test]
    fn the_cache_opens_each_record_once_and_forgets_deleted_ones() {
        let b = Writer::new(AuthorKey::from_seed([2; 32]), DeviceId([2; 8]));
        let c = AuthorKey::from_seed([3; 32]);
        let d = AuthorKey::from_seed([4; 32]);
        let mut board = Board::new();
        let draft = CareDraft {
            name: "Mme Martin".into(),
            area: "Building B".into(),
            window: "09:00-11:00".parse().unwrap(),
            circle: vec![b.author(), c.id()],
            subject: None,
            consent: "Mme Martin, orally, 1 Dec".into(),
            notes: String::new(),
            name_public: false,
        };
        let entry = draft.to_entry(RecordId([1; 16]), 0).unwrap();
        let sealed = entry
            .seal(&b.author(), &[1; 8], &[b.author(), c.id()], [9; 32])
            .unwrap();
        board.put_sealed(&b, [1; 8], sealed, 0).unwrap();
        let (mut at_c, mut at_d) = (CareCache::default(), CareCache::default());
        assert_eq!(at_c.refresh(&board, &c, Duration::from_secs(5)).len(), 1);
        assert_eq!(at_d.refresh(&board, &d, Duration::from_secs(5)).len(), 0);
        assert_eq!(at_c.counts(), (1, 1));
        assert_eq!(at_d.counts(), (1, 0));
        board.delete_sealed(&b, &[[1; 8]], 1).unwrap();
        assert!(at_c.refresh(&board, &c, Duration::from_secs(5)).is_empty());
        assert_eq!(at_c.counts(), (0, 0));
    }
}

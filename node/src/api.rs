//! The local JSON API, served on 127.0.0.1 next to the web UI, behind a bearer token.
//!
//! The CLI uses it while a node runs; `docs/api.md` documents every route. The token is
//! random per node start and stored in `api.token` (mode 0600) in the data directory, so
//! only the resident's own account can use it.

use std::str::FromStr;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use entraide_crdt::{
    AlertDraft, AlertView, AuthorId, Category, EntryError, Filter, Kind, LocalDate, PostDraft,
    RoundDraft, RoundView, SightingDraft, SightingView, TextError, UnknownValue, Urgency,
    WriteError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::node::{Node, NodeError};

mod board_file;
mod devices;
mod residents;
pub use residents::ACTING_HEADER;

/// Shared state of the API handlers.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// The node.
    pub node: Node,
    /// The bearer token.
    pub token: String,
}

/// The API's routes under `/api/v1`, token-checked.
pub fn router(node: Node, token: String) -> Router {
    let state = ApiState { node, token };
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/posts", get(list).post(create))
        .route("/api/v1/posts/{id}", get(show))
        .route("/api/v1/posts/{id}/respond", post(respond))
        .route("/api/v1/posts/{id}/accept", post(accept))
        .route("/api/v1/posts/{id}/done", post(done))
        .route("/api/v1/posts/{id}/withdraw", post(withdraw))
        .route("/api/v1/posts/{id}/thank", post(thank))
        .route("/api/v1/posts/{id}/message", post(message))
        .route("/api/v1/posts/{id}/messages", get(messages))
        .route("/api/v1/posts/{id}/messages/delete", post(delete_messages))
        .route("/api/v1/name", post(set_name))
        .route("/api/v1/blocked", get(blocked).post(block))
        .route("/api/v1/unblock", post(unblock))
        .route("/api/v1/peers", get(peers).post(dial))
        .route("/api/v1/invite", get(invite))
        .merge(crate::care::routes())
        .merge(crate::stewards::routes())
        .route("/api/v1/alerts", get(alerts).post(declare_alert))
        .route("/api/v1/alerts/{id}/end", post(end_alert))
        .route("/api/v1/rounds", get(rounds).post(add_round))
        .route("/api/v1/rounds/{id}/join", post(join_round))
        .route("/api/v1/rounds/{id}/leave", post(leave_round))
        .route("/api/v1/sightings", get(sightings).post(add_sighting))
        .route("/api/v1/sightings/{id}/done", post(sighting_done))
        .merge(residents::routes())
        .merge(devices::routes())
        .merge(board_file::routes())
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

/// Checks the token, then hands every route the node as the resident the request acts
/// for ([`ACTING_HEADER`]).
async fn require_token(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    if !bearer_ok(request.headers(), &state.token) {
        return unauthorized();
    }
    match residents::state_for(&state, &request) {
        Ok(acting) => {
            request.extensions_mut().insert(acting);
            next.run(request).await
        }
        Err(refused) => refused.into_response(),
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ
/// (`subtle`): the one comparison of secrets the node and the page use (API token, form
/// tokens, login codes, sign-in tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether a request carries `Authorization: Bearer <token>` with this token (compared in
/// constant time).
pub fn bearer_ok(headers: &axum::http::HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or("");
    constant_time_eq(given.as_bytes(), token.as_bytes())
}

/// The answer to a request without the right token: `401` and a JSON error.
pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(
            json!({ "error": "missing or wrong API token (see api.token in the data directory)" }),
        ),
    )
        .into_response()
}

/// A [`NodeError`] as an HTTP answer: a status and `{"error": "<message>"}`.
#[derive(Debug)]
pub struct ApiError(pub NodeError);

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            NodeError::Write(WriteError::NotYourFeed)
            | NodeError::Write(WriteError::Entry(EntryError::NotYours { .. })) => {
                StatusCode::FORBIDDEN
            }
            NodeError::Write(WriteError::UnknownPost(_))
            | NodeError::Write(WriteError::Entry(EntryError::Unknown { .. }))
            | NodeError::NoSuchPost(_)
            | NodeError::NoSuchEntry { .. } => StatusCode::NOT_FOUND,
            NodeError::NoSuchDevice(_) | NodeError::Write(WriteError::UnknownDevice(_)) => {
                StatusCode::NOT_FOUND
            }
            NodeError::Write(WriteError::DeviceRemoved(_) | WriteError::RemoveSelf)
            | NodeError::Offline => StatusCode::CONFLICT,
            // A post for a neighbour that lacks one of its two parts is an incomplete
            // request, not a text to rephrase.
            NodeError::Write(WriteError::Text(
                TextError::NoConsent { .. } | TextError::NoNeighbour,
            )) => StatusCode::BAD_REQUEST,
            NodeError::Write(WriteError::Authority(
                entraide_crdt::authority::AuthorityError::NotASteward,
            ))
            | NodeError::Write(WriteError::Excluded) => StatusCode::FORBIDDEN,
            NodeError::Report(_) => StatusCode::UNPROCESSABLE_ENTITY,
            NodeError::Write(_) | NodeError::NoSuchHelper(_) | NodeError::Dial { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            NodeError::AmbiguousPost(_) | NodeError::AmbiguousEntry { .. } => StatusCode::CONFLICT,
            NodeError::Care(entraide_crdt::care::CareError::NoSuchRecord(_)) => {
                StatusCode::NOT_FOUND
            }
            NodeError::Care(entraide_crdt::care::CareError::NotInCircle) => StatusCode::FORBIDDEN,
            NodeError::Care(_) | NodeError::NoSuchMember(_) | NodeError::SeveralMembers(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            NodeError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            NodeError::NotHosted
            | NodeError::Resident(crate::residents::ResidentError::NoSuchResident(_)) => {
                StatusCode::NOT_FOUND
            }
            NodeError::OwnerOnly => StatusCode::FORBIDDEN,
            NodeError::BlockSelf | NodeError::TooManyBlocked => StatusCode::UNPROCESSABLE_ENTITY,
            NodeError::Message(entraide_crdt::message::MessageError::NotParties) => {
                StatusCode::FORBIDDEN
            }
            NodeError::Message(entraide_crdt::message::MessageError::PostOpen) => {
                StatusCode::CONFLICT
            }
            NodeError::Message(_) => StatusCode::UNPROCESSABLE_ENTITY,
            NodeError::NotBlocked(_) | NodeError::PostHidden => StatusCode::NOT_FOUND,
            NodeError::Resident(crate::residents::ResidentError::NameTaken(_))
            | NodeError::Resident(crate::residents::ResidentError::NotExported(_)) => {
                StatusCode::CONFLICT
            }
            NodeError::Resident(crate::residents::ResidentError::BadName(_))
            | NodeError::Resident(crate::residents::ResidentError::TooMany) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            NodeError::Store(crate::store::StoreError::DiskFull { .. }) => {
                StatusCode::INSUFFICIENT_STORAGE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

async fn status(Extension(s): Extension<ApiState>) -> ApiResult<crate::node::Status> {
    Ok(Json(s.node.status().await?))
}

async fn whoami(Extension(s): Extension<ApiState>) -> ApiResult<crate::node::WhoAmI> {
    Ok(Json(s.node.whoami().await?))
}

/// The board's filters as a query string: the one type behind `GET /api/v1/posts`, the
/// page's board addresses (`/?kind=offer&page=2`) and `entraide list`. Written with
/// [`BoardQuery::to_query`], read with [`BoardQuery::from_query`] (serde goes through the
/// same rules). Every field is optional; a blank value is no filter, as the page's form
/// sends one for every field it shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BoardQuery {
    /// Only offers, or only requests (`kind=offer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Only this category (a category code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Only this urgency (an urgency code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    /// Only posts whose area contains this text.
    #[serde(skip_serializing_if = "is_blank", serialize_with = "trimmed")]
    pub area: Option<String>,
    /// Only posts whose title or details contain this text.
    #[serde(skip_serializing_if = "is_blank", serialize_with = "trimmed")]
    pub q: Option<String>,
    /// Only posts by this author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<AuthorId>,
    /// Only posts this author responded to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responder: Option<AuthorId>,
    /// Also done, withdrawn and expired posts (`all=true`; the page's form sends `all=1`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    /// Which page of the board, 1 for the first: the web page's; the API answers every
    /// match. A page that is not a number is the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
}

fn is_blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|t| t.trim().is_empty())
}

fn trimmed<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(text.as_deref().unwrap_or("").trim())
}

/// Why a board query was refused: the API answers `400` with its message, the page says it
/// in the resident's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// `author` or `responder` is not a full author id.
    #[error("{field}: `{value}` is not an author id (64 hex digits)")]
    NotAnAuthor {
        /// `author` or `responder`.
        field: &'static str,
        /// What was given (at most 80 characters of it).
        value: String,
    },
    /// `kind`, `category` or `urgency` is not one of its codes.
    #[error(transparent)]
    Unknown(#[from] UnknownValue),
    /// `all` is neither true nor false.
    #[error("all: `{0}` is not `true` or `false`")]
    NotABool(String),
    /// The query string does not decode (a parameter given twice, for example).
    #[error("the query string cannot be read: {0}")]
    Unreadable(String),
}

/// A query string as it arrives, before [`BoardQuery::from_query`] reads its values.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBoardQuery {
    kind: String,
    category: String,
    urgency: String,
    area: String,
    q: String,
    author: String,
    responder: String,
    all: String,
    page: String,
}

impl RawBoardQuery {
    fn read(self) -> Result<BoardQuery, QueryError> {
        fn code<T: FromStr<Err = UnknownValue>>(text: &str) -> Result<Option<T>, QueryError> {
            match text {
                "" => Ok(None),
                code => Ok(Some(code.parse()?)),
            }
        }
        fn author(field: &'static str, text: &str) -> Result<Option<AuthorId>, QueryError> {
            match text.trim() {
                "" => Ok(None),
                hex => hex.parse().map(Some).map_err(|_| QueryError::NotAnAuthor {
                    field,
                    value: hex.chars().take(80).collect(),
                }),
            }
        }
        let text = |t: String| Some(t).filter(|t| !t.trim().is_empty());
        Ok(BoardQuery {
            kind: code(&self.kind)?,
            category: code(&self.category)?,
            urgency: code(&self.urgency)?,
            area: text(self.area),
            q: text(self.q),
            author: author("author", &self.author)?,
            responder: author("responder", &self.responder)?,
            all: match self.all.trim() {
                "" | "false" | "0" => false,
                "true" | "1" | "on" => true,
                other => return Err(QueryError::NotABool(other.chars().take(80).collect())),
            },
            page: self.page.trim().parse::<usize>().ok().map(|p| p.max(1)),
        })
    }
}

impl<'de> Deserialize<'de> for BoardQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawBoardQuery::deserialize(d)?
            .read()
            .map_err(serde::de::Error::custom)
    }
}

impl BoardQuery {
    /// Reads a query string (without the `?`).
    pub fn from_query(query: &str) -> Result<Self, QueryError> {
        serde_urlencoded::from_str::<RawBoardQuery>(query)
            .map_err(|e| QueryError::Unreadable(e.to_string()))?
            .read()
    }

    /// The query string (without the `?`) that [`BoardQuery::from_query`] reads back as
    /// this query; empty for no filter.
    pub fn to_query(&self) -> String {
        // Strings, codes, ids and numbers in a flat struct: nothing here can fail.
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    /// Whether any filter leaves posts out (besides closed posts, which `all` brings back).
    pub fn narrows(&self) -> bool {
        self.kind.is_some()
            || self.category.is_some()
            || self.urgency.is_some()
            || !is_blank(&self.area)
            || !is_blank(&self.q)
            || self.author.is_some()
            || self.responder.is_some()
    }

    /// The board filter this query asks for.
    pub fn filter(&self) -> Filter {
        let text = |t: &Option<String>| t.clone().filter(|t| !t.trim().is_empty());
        Filter {
            kind: self.kind,
            category: self.category,
            urgency: self.urgency,
            area: text(&self.area),
            text: text(&self.q),
            author: self.author,
            responder: self.responder,
            include_closed: self.all,
            // The node leaves out whom the reader blocked.
            blocked: Default::default(),
        }
    }
}

/// A refused query: `400` and a JSON error.
impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

async fn list(
    Extension(s): Extension<ApiState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<entraide_crdt::PostView>>, Response> {
    let query = BoardQuery::from_query(query.as_deref().unwrap_or(""))
        .map_err(IntoResponse::into_response)?;
    let posts = s
        .node
        .list(query.filter())
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(posts))
}

async fn show(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<entraide_crdt::PostView> {
    Ok(Json(s.node.show(&id).await?))
}

async fn create(
    Extension(s): Extension<ApiState>,
    Json(v): Json<serde_json::Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), Response> {
    let draft: PostDraft = body(v).map_err(IntoResponse::into_response)?;
    let id = s
        .node
        .post(draft)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(created(id))
}

#[derive(Debug, Deserialize)]
struct MessageBody {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct HelperBody {
    helper: String,
    #[serde(default)]
    message: String,
}

fn id_json(id: entraide_crdt::PostId) -> Json<serde_json::Value> {
    Json(json!({ "id": id }))
}

async fn respond(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<MessageBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.respond(&id, &b.message).await?))
}

async fn accept(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<HelperBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.accept(&id, &b.helper).await?))
}

async fn done(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.done(&id).await?))
}

async fn withdraw(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.withdraw(&id).await?))
}

async fn thank(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<HelperBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.thank(&id, &b.helper, &b.message).await?))
}

#[derive(Debug, Deserialize)]
struct PrivateMessageBody {
    text: String,
    #[serde(default)]
    to: Option<String>,
}

async fn message(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PrivateMessageBody>,
) -> ApiResult<entraide_crdt::message::MessageView> {
    Ok(Json(s.node.message(&id, b.to.as_deref(), &b.text).await?))
}

async fn messages(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<entraide_crdt::message::MessageView>> {
    Ok(Json(s.node.messages(&id).await?))
}

async fn delete_messages(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    let deleted = s.node.delete_messages(&id).await?;
    Ok(Json(json!({ "deleted": deleted })))
}

#[derive(Debug, Deserialize)]
struct BlockBody {
    who: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn blocked(Extension(s): Extension<ApiState>) -> ApiResult<Vec<crate::blocked::BlockedView>> {
    Ok(Json(s.node.blocked().await?))
}

async fn block(
    Extension(s): Extension<ApiState>,
    Json(b): Json<BlockBody>,
) -> ApiResult<crate::blocked::BlockedView> {
    Ok(Json(s.node.block(&b.who, b.reason.as_deref()).await?))
}

async fn unblock(
    Extension(s): Extension<ApiState>,
    Json(b): Json<BlockBody>,
) -> ApiResult<crate::blocked::BlockedView> {
    Ok(Json(s.node.unblock(&b.who).await?))
}

#[derive(Debug, Deserialize)]
struct NameBody {
    name: String,
}

async fn set_name(
    Extension(s): Extension<ApiState>,
    Json(b): Json<NameBody>,
) -> ApiResult<serde_json::Value> {
    s.node.set_name(&b.name).await?;
    Ok(Json(json!({ "name": b.name.trim() })))
}

async fn peers(Extension(s): Extension<ApiState>) -> ApiResult<Vec<crate::node::PeerInfo>> {
    Ok(Json(s.node.peers().await?))
}

#[derive(Debug, Deserialize)]
struct DialBody {
    address: String,
}

async fn dial(
    Extension(s): Extension<ApiState>,
    Json(b): Json<DialBody>,
) -> Result<Json<serde_json::Value>, Response> {
    let address = b.address.trim().parse().map_err(|e| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": format!("not a multiaddr: {e}") })),
        )
            .into_response()
    })?;
    s.node
        .dial(address)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(json!({ "address": b.address.trim() })))
}

async fn invite(Extension(s): Extension<ApiState>) -> ApiResult<serde_json::Value> {
    Ok(Json(json!({ "code": s.node.invite().await? })))
}

/// A JSON body read into `T`; what does not fit answers `400` with a JSON error that says
/// why (axum's own rejection is plain text).
fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, BadBody> {
    serde_json::from_value(value).map_err(|e| BadBody(e.to_string()))
}

/// A JSON body that does not fit its route: `400`.
#[derive(Debug)]
struct BadBody(String);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        let error = format!("the request body does not fit: {}", self.0);
        (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
    }
}

/// `201` and `{"id": ...}`.
fn created(id: impl Serialize) -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::CREATED, Json(json!({ "id": id })))
}

async fn alerts(Extension(s): Extension<ApiState>) -> ApiResult<Vec<AlertView>> {
    Ok(Json(s.node.alerts().await?))
}

async fn declare_alert(
    Extension(s): Extension<ApiState>,
    Json(v): Json<serde_json::Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), Response> {
    let draft: AlertDraft = body(v).map_err(IntoResponse::into_response)?;
    let id = s
        .node
        .declare_alert(draft)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(created(id))
}

async fn end_alert(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    Ok(Json(json!({ "id": s.node.end_alert(&id).await? })))
}

async fn rounds(Extension(s): Extension<ApiState>) -> ApiResult<Vec<RoundView>> {
    Ok(Json(s.node.rounds().await?))
}

async fn add_round(
    Extension(s): Extension<ApiState>,
    Json(v): Json<serde_json::Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), Response> {
    let draft: RoundDraft = body(v).map_err(IntoResponse::into_response)?;
    let id = s
        .node
        .add_round(draft)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(created(id))
}

/// The body of a sign-up: a date `YYYY-MM-DD`, or `tonight` (also when absent).
#[derive(Debug, Default, Deserialize)]
struct DateBody {
    #[serde(default)]
    date: Option<String>,
}

async fn sign_up(
    s: ApiState,
    id: String,
    v: Option<Json<serde_json::Value>>,
    walk: bool,
) -> Result<Json<serde_json::Value>, Response> {
    let b: DateBody = match v {
        Some(Json(v)) => body(v).map_err(IntoResponse::into_response)?,
        None => DateBody::default(),
    };
    let date = match b.date.as_deref().map(str::trim) {
        None | Some("" | "tonight") => None,
        Some(text) => Some(text.parse::<LocalDate>().map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.to_string() })),
            )
                .into_response()
        })?),
    };
    let (round, date) = s
        .node
        .sign_up(&id, date, walk)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(json!({ "id": round, "date": date, "walk": walk })))
}

async fn join_round(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    v: Option<Json<serde_json::Value>>,
) -> Result<Json<serde_json::Value>, Response> {
    sign_up(s, id, v, true).await
}

async fn leave_round(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    v: Option<Json<serde_json::Value>>,
) -> Result<Json<serde_json::Value>, Response> {
    sign_up(s, id, v, false).await
}

async fn sightings(Extension(s): Extension<ApiState>) -> ApiResult<Vec<SightingView>> {
    Ok(Json(s.node.sightings().await?))
}

async fn add_sighting(
    Extension(s): Extension<ApiState>,
    Json(v): Json<serde_json::Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), Response> {
    let draft: SightingDraft = body(v).map_err(IntoResponse::into_response)?;
    let id = s
        .node
        .add_sighting(draft)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(created(id))
}

#[derive(Debug, Deserialize)]
struct WhatBody {
    #[serde(default)]
    what: String,
}

async fn sighting_done(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
    Json(v): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, Response> {
    let b: WhatBody = body(v).map_err(IntoResponse::into_response)?;
    let id = s
        .node
        .sighting_done(&id, &b.what)
        .await
        .map_err(|e| ApiError(e).into_response())?;
    Ok(Json(json!({ "id": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIE: &str = "b9ca556bb6ebc8ab9437b64b5288bc782e959caba247879643d7441d98d57d67";

    #[test]
    fn a_board_query_reads_back_what_it_writes() {
        let query = BoardQuery {
            kind: Some(Kind::Offer),
            category: Some(Category::Lending),
            urgency: Some(Urgency::Today),
            area: Some(" building B ".into()),
            q: Some("chairs & tables".into()),
            author: Some(MARIE.parse().unwrap()),
            responder: None,
            all: true,
            page: Some(3),
        };
        let text = query.to_query();
        assert_eq!(
            text,
            format!(
                "kind=offer&category=lending&urgency=today&area=building+B&q=chairs+%26+tables\
                 &author={MARIE}&all=true&page=3"
            )
        );
        // Text filters go out trimmed (matching ignores surrounding spaces anyway).
        let back = BoardQuery::from_query(&text).unwrap();
        assert_eq!(
            back,
            BoardQuery {
                area: Some("building B".into()),
                ..query
            }
        );
        assert_eq!(BoardQuery::default().to_query(), "");
    }

    #[test]
    fn blank_values_are_no_filter() {
        // What the page's filter form sends with nothing chosen.
        let query =
            BoardQuery::from_query("author=&kind=&category=&urgency=&area=+&q=&page=").unwrap();
        assert_eq!(query, BoardQuery::default());
        assert!(!query.narrows());
        assert_eq!(query.filter(), Filter::default());
    }

    #[test]
    fn all_is_true_false_or_the_form_s_one() {
        for (text, all) in [("all=true", true), ("all=1", true), ("all=false", false)] {
            assert_eq!(BoardQuery::from_query(text).unwrap().all, all, "{text}");
        }
        assert_eq!(
            BoardQuery::from_query("all=maybe"),
            Err(QueryError::NotABool("maybe".into()))
        );
    }

    #[test]
    fn an_author_that_is_not_an_id_is_refused() {
        let e = BoardQuery::from_query("author=nope").unwrap_err();
        assert_eq!(
            e,
            QueryError::NotAnAuthor {
                field: "author",
                value: "nope".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "author: `nope` is not an author id (64 hex digits)"
        );
        assert_eq!(e.into_response().status(), StatusCode::BAD_REQUEST);
        assert!(matches!(
            BoardQuery::from_query(&format!("responder={}", &MARIE[..20])),
            Err(QueryError::NotAnAuthor {
                field: "responder",
                ..
            })
        ));
        assert!(BoardQuery::from_query(&format!("author={MARIE}")).is_ok());
    }

    #[test]
    fn unknown_codes_are_refused() {
        assert_eq!(
            BoardQuery::from_query("kind=foo").unwrap_err().to_string(),
            "unknown kind `foo`: expected one of request, offer"
        );
        assert!(matches!(
            BoardQuery::from_query("category=cats"),
            Err(QueryError::Unknown(_))
        ));
        assert!(matches!(
            BoardQuery::from_query("kind=offer&kind=request"),
            Err(QueryError::Unreadable(_))
        ));
    }

    #[test]
    fn a_page_that_is_not_a_number_is_the_first() {
        assert_eq!(BoardQuery::from_query("page=abc").unwrap().page, None);
        assert_eq!(BoardQuery::from_query("page=0").unwrap().page, Some(1));
    }

    #[test]
    fn serde_reads_the_same_rules() {
        let query: BoardQuery = serde_urlencoded::from_str("kind=request&all=1").unwrap();
        assert_eq!(query.kind, Some(Kind::Request));
        assert!(query.all);
        assert!(serde_urlencoded::from_str::<BoardQuery>("author=nope").is_err());
    }
}

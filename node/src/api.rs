//! The local JSON API, served on 127.0.0.1 next to the web UI, behind a bearer token.
//!
//! The CLI uses it while a node runs; `docs/api.md` documents every route. The token is
//! random per node start and stored in `api.token` (mode 0600) in the data directory, so
//! only the resident's own account can use it.

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use entraide_crdt::{Category, Filter, Kind, PostDraft, Urgency, WriteError};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::node::{Node, NodeError};

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
        .route("/api/v1/name", post(set_name))
        .route("/api/v1/peers", get(peers).post(dial))
        .route("/api/v1/invite", get(invite))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if !bearer_ok(request.headers(), &state.token) {
        return unauthorized();
    }
    next.run(request).await
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
    given.as_bytes().ct_eq(token.as_bytes()).into()
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
            NodeError::Write(WriteError::NotYourFeed) => StatusCode::FORBIDDEN,
            NodeError::Write(WriteError::UnknownPost(_)) | NodeError::NoSuchPost(_) => {
                StatusCode::NOT_FOUND
            }
            NodeError::Write(_) | NodeError::NoSuchHelper(_) | NodeError::Dial { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            NodeError::AmbiguousPost(_) => StatusCode::CONFLICT,
            NodeError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            NodeError::Store(crate::store::StoreError::DiskFull { .. }) => {
                StatusCode::INSUFFICIENT_STORAGE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(json!({ "error": self.0.to_string() }))).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

async fn status(State(s): State<ApiState>) -> ApiResult<crate::node::Status> {
    Ok(Json(s.node.status().await?))
}

async fn whoami(State(s): State<ApiState>) -> ApiResult<crate::node::WhoAmI> {
    Ok(Json(s.node.whoami().await?))
}

/// Query of `GET /api/v1/posts`: every field optional.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `offer` or `request`.
    pub kind: Option<Kind>,
    /// A category code.
    pub category: Option<Category>,
    /// An urgency code.
    pub urgency: Option<Urgency>,
    /// Text the area contains.
    pub area: Option<String>,
    /// Text the title or details contain.
    pub q: Option<String>,
    /// Only posts by this author (hex id).
    pub author: Option<String>,
    /// Only posts this author responded to (hex id).
    pub responder: Option<String>,
    /// `true` to include done, withdrawn and expired posts.
    #[serde(default)]
    pub all: bool,
}

impl ListQuery {
    /// The board filter this query asks for.
    pub fn filter(&self) -> Filter {
        let nonempty = |s: &Option<String>| s.as_ref().filter(|s| !s.trim().is_empty()).cloned();
        Filter {
            kind: self.kind,
            category: self.category,
            urgency: self.urgency,
            area: nonempty(&self.area),
            text: nonempty(&self.q),
            author: self.author.as_deref().and_then(|a| a.parse().ok()),
            responder: self.responder.as_deref().and_then(|a| a.parse().ok()),
            include_closed: self.all,
        }
    }
}

async fn list(
    State(s): State<ApiState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Vec<entraide_crdt::PostView>> {
    Ok(Json(s.node.list(q.filter()).await?))
}

async fn show(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<entraide_crdt::PostView> {
    Ok(Json(s.node.show(&id).await?))
}

async fn create(
    State(s): State<ApiState>,
    Json(draft): Json<PostDraft>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = s.node.post(draft).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
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
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<MessageBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.respond(&id, &b.message).await?))
}

async fn accept(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<HelperBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.accept(&id, &b.helper).await?))
}

async fn done(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.done(&id).await?))
}

async fn withdraw(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.withdraw(&id).await?))
}

async fn thank(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<HelperBody>,
) -> ApiResult<serde_json::Value> {
    Ok(id_json(s.node.thank(&id, &b.helper, &b.message).await?))
}

#[derive(Debug, Deserialize)]
struct NameBody {
    name: String,
}

async fn set_name(
    State(s): State<ApiState>,
    Json(b): Json<NameBody>,
) -> ApiResult<serde_json::Value> {
    s.node.set_name(&b.name).await?;
    Ok(Json(json!({ "name": b.name.trim() })))
}

async fn peers(State(s): State<ApiState>) -> ApiResult<Vec<crate::node::PeerInfo>> {
    Ok(Json(s.node.peers().await?))
}

#[derive(Debug, Deserialize)]
struct DialBody {
    address: String,
}

async fn dial(
    State(s): State<ApiState>,
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

async fn invite(State(s): State<ApiState>) -> ApiResult<serde_json::Value> {
    Ok(Json(json!({ "code": s.node.invite().await? })))
}

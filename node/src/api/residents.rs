//! The API's routes for the residents this node hosts (owner only), and the header that
//! makes any other route act for one of them.

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use entraide_crdt::AuthorId;
use serde::Deserialize;
use serde_json::json;

use super::{ApiResult, ApiState};
use crate::residents::ResidentInfo;

/// The header naming the hosted resident a request acts for (their author id, 64 hex
/// digits). Without it a request acts for the node's owner.
pub const ACTING_HEADER: &str = "x-entraide-as";

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/residents", get(list).post(add))
        .route("/api/v1/residents/{name}/code", post(new_code))
        .route("/api/v1/residents/{name}/export", post(export))
        .route("/api/v1/residents/{name}/remove", post(remove))
}

/// An [`ACTING_HEADER`] that is not an author id: `400`.
#[derive(Debug)]
pub(super) struct BadActing;

impl IntoResponse for BadActing {
    fn into_response(self) -> Response {
        let error = format!("{ACTING_HEADER} must be an author id (64 hexadecimal digits)");
        (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
    }
}

/// The resident a request acts for, from [`ACTING_HEADER`]: `Ok(None)` without the header.
pub(super) fn acting(headers: &HeaderMap) -> Result<Option<AuthorId>, BadActing> {
    let Some(value) = headers.get(ACTING_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<AuthorId>().ok())
        .map(Some)
        .ok_or(BadActing)
}

/// The state every route sees: the node as the resident the request acts for.
pub(super) fn state_for(state: &ApiState, request: &Request) -> Result<ApiState, BadActing> {
    Ok(match acting(request.headers())? {
        Some(author) => ApiState {
            node: state.node.as_resident(author),
            token: state.token.clone(),
        },
        None => state.clone(),
    })
}

async fn list(Extension(s): Extension<ApiState>) -> ApiResult<Vec<ResidentInfo>> {
    Ok(Json(s.node.residents().await?))
}

#[derive(Debug, Deserialize)]
struct AddBody {
    name: String,
}

async fn add(
    Extension(s): Extension<ApiState>,
    Json(b): Json<AddBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), super::ApiError> {
    let (resident, code) = s.node.add_resident(&b.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "resident": resident, "code": code })),
    ))
}

async fn new_code(
    Extension(s): Extension<ApiState>,
    Path(name): Path<String>,
) -> ApiResult<serde_json::Value> {
    let (resident, code) = s.node.new_resident_code(&name).await?;
    Ok(Json(json!({ "resident": resident, "code": code })))
}

async fn export(
    Extension(s): Extension<ApiState>,
    Path(name): Path<String>,
) -> ApiResult<serde_json::Value> {
    Ok(Json(
        json!({ "identity": s.node.export_resident(&name).await? }),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct RemoveBody {
    #[serde(default)]
    forget: bool,
}

async fn remove(
    Extension(s): Extension<ApiState>,
    Path(name): Path<String>,
    body: Option<Json<RemoveBody>>,
) -> ApiResult<ResidentInfo> {
    let forget = body.map(|Json(b)| b.forget).unwrap_or_default();
    Ok(Json(s.node.remove_resident(&name, forget).await?))
}

//! The API's routes for board files: the whole board as one file, and a file merged in.

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use super::{ApiResult, ApiState};
use crate::node::ImportReport;

/// Largest board file the API takes in one request (the CLI sends large files in parts).
pub(crate) const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/export", get(export)).route(
        "/api/v1/import",
        post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
    )
}

async fn export(Extension(s): Extension<ApiState>) -> Result<impl IntoResponse, super::ApiError> {
    let file = s.node.export().await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], file))
}

async fn import(Extension(s): Extension<ApiState>, body: Bytes) -> ApiResult<ImportReport> {
    Ok(Json(s.node.import(body.to_vec()).await?))
}

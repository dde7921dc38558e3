//! The API's routes for the resident's devices: list, a pairing code for a new one, and
//! removal of a lost one.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use super::{ApiResult, ApiState};
use crate::node::{DeviceInfo, DeviceLink};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/devices", get(list))
        .route("/api/v1/devices/link", post(link))
        .route("/api/v1/devices/{id}/remove", post(remove))
}

async fn list(Extension(s): Extension<ApiState>) -> ApiResult<Vec<DeviceInfo>> {
    Ok(Json(s.node.devices().await?))
}

async fn link(
    Extension(s): Extension<ApiState>,
) -> Result<(StatusCode, Json<DeviceLink>), super::ApiError> {
    Ok((StatusCode::CREATED, Json(s.node.link_device().await?)))
}

async fn remove(
    Extension(s): Extension<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<DeviceInfo> {
    Ok(Json(s.node.remove_device(&id).await?))
}

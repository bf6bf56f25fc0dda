//! `GET /v1/languages` and `GET /healthz`.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Submitter;
use super::error::{ApiError, ErrorBody};
use super::Ctx;
use crate::service::settings;

const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LanguageInfo {
    /// What `language` in a submission names.
    pub id: String,
    pub name: String,
    /// File extensions, lower case, without the dot.
    pub extensions: Vec<String>,
    /// Why it cannot be used on this host (e.g. a toolchain is missing); absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LanguageList {
    pub languages: Vec<LanguageInfo>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The languages submissions may use.
#[utoipa::path(
    get,
    path = "/v1/languages",
    tag = "service",
    responses((status = 200, body = LanguageList), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn languages(State(ctx): State<Arc<Ctx>>, _: Submitter) -> axum::Json<LanguageList> {
    let languages: Vec<LanguageInfo> = ctx
        .app
        .judge
        .languages()
        .languages()
        .iter()
        .map(|l| LanguageInfo { id: l.id.clone(), name: l.name.clone(), extensions: l.extensions.clone(), unavailable: l.unavailable.clone() })
        .collect();
    axum::Json(LanguageList { languages })
}

/// 200 when the database answers, 503 otherwise (no token needed).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses((status = 200, body = Health), (status = 503, description = "The database does not answer", body = ErrorBody))
)]
pub async fn healthz(State(ctx): State<Arc<Ctx>>) -> Result<axum::Json<Health>, ApiError> {
    let answer = tokio::time::timeout(HEALTH_TIMEOUT, ctx.app.store.setting(settings::SERVICE_URL)).await;
    match answer {
        Ok(r) => r.map(drop)?,
        Err(_) => {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "store_error",
                format!("the database did not answer within {} s", HEALTH_TIMEOUT.as_secs()),
            ))
        }
    }
    Ok(axum::Json(Health { status: "ok".to_string() }))
}

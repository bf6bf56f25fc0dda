//! The HTTP API (axum): routes under `/v1`, bearer-token auth, the OpenAPI document at
//! `/openapi.json` (utoipa, generated from the same handlers the router serves), SSE streams,
//! `/healthz`, `/metrics` (Prometheus), and the callback sender.

use std::sync::Arc;

use super::store::Store;
use super::ServiceConfig;
use crate::judge::Judge;

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub judge: Arc<Judge>,
    pub config: Arc<ServiceConfig>,
}

/// The service's router.
pub fn router(state: AppState) -> axum::Router {
    todo!("{}", state.config.listen)
}

//! The HTTP API (axum): routes under `/v1`, bearer-token auth, the OpenAPI document at
//! `/openapi.json` (utoipa, generated from the same handlers the router serves), SSE streams,
//! `/healthz`, `/metrics` (Prometheus), and the callback sender.
//!
//! - `error`: the one error shape and extractors that answer in it; `auth`: tokens and roles;
//! - `problems`, `submissions`, `events` (SSE), `runs` (`POST /v1/run`), `info` (languages,
//!   health), `metrics`: the routes; `openapi`: the document's non-route parts;
//! - `callbacks`: the background sender `serve` starts.

pub mod auth;
pub mod callbacks;
pub mod error;
pub mod events;
pub mod info;
pub mod metrics;
pub mod openapi;
pub mod problems;
pub mod runs;
pub mod submissions;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The router's state: the app state plus what lives as long as the router.
pub struct Ctx {
    pub app: AppState,
    pub tokens: auth::TokenCache,
    pub metrics: metrics::Metrics,
}

/// Body limit of `POST /v1/run`: its input files travel in the JSON (base64: 4/3 of the bytes).
const RUN_BODY_LIMIT: usize = (super::run::MAX_INPUT_BYTES as usize) / 3 * 4 + (1 << 20);

/// Every documented route, registered and documented from the same handler.
fn api_router(config: &ServiceConfig) -> OpenApiRouter<Arc<Ctx>> {
    // JSON escaping may grow a source up to 6 times (`\u0001`).
    let submission_limit = config.max_source_bytes.saturating_mul(6).saturating_add(64 << 10);
    let batch_limit = submission_limit.max(64 << 20);
    let (s, p, upload) = routes!(problems::upload_problem, problems::list_problems);
    let upload = (s, p, upload.layer(DefaultBodyLimit::max(config.max_package_bytes)));
    let (s, p, submit) = routes!(submissions::create_submission, submissions::list_submissions);
    let submit = (s, p, submit.layer(DefaultBodyLimit::max(submission_limit)));
    let (s, p, batch) = routes!(submissions::create_batch);
    let batch = (s, p, batch.layer(DefaultBodyLimit::max(batch_limit)));
    let (s, p, run) = routes!(runs::run);
    let run = (s, p, run.layer(DefaultBodyLimit::max(RUN_BODY_LIMIT)));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(upload)
        .routes(routes!(problems::get_problem, problems::delete_problem))
        .routes(routes!(problems::get_package))
        .routes(submit)
        .routes(batch)
        .routes(routes!(submissions::get_submission))
        .routes(routes!(submissions::rejudge))
        .routes(routes!(events::events))
        .routes(run)
        .routes(routes!(info::languages))
        .routes(routes!(info::healthz))
        .routes(routes!(metrics::metrics))
}

/// The OpenAPI document the router serves at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let config = ServiceConfig::new(([127, 0, 0, 1], 0).into(), std::path::PathBuf::new());
    let mut doc = api_router(&config).into_openapi();
    utoipa::Modify::modify(&openapi::ServerErrors, &mut doc);
    doc
}

/// The service's router.
pub fn router(state: AppState) -> axum::Router {
    let (router, mut doc) = api_router(&state.config).split_for_parts();
    utoipa::Modify::modify(&openapi::ServerErrors, &mut doc);
    let doc = Arc::new(doc);
    let ctx = Arc::new(Ctx { app: state, tokens: auth::TokenCache::default(), metrics: metrics::Metrics::new() });
    router
        .route("/openapi.json", get(move || std::future::ready(axum::Json(doc.as_ref().clone()))))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(ctx.clone(), metrics::track))
        // A bug must not drop the connection: a panic becomes a 500 in the error shape.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panicked))
        .with_state(ctx)
}

#[cfg(test)]
mod tests {
    #[test]
    fn openapi_document_lists_the_routes() {
        let doc = super::openapi();
        let mut paths: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "/healthz",
                "/metrics",
                "/v1/languages",
                "/v1/packages/{version}",
                "/v1/problems",
                "/v1/problems/{name}",
                "/v1/run",
                "/v1/submissions",
                "/v1/submissions/batch",
                "/v1/submissions/{id}",
                "/v1/submissions/{id}/events",
                "/v1/submissions/{id}/rejudge",
            ]
        );
        let json = serde_json::to_value(&doc).unwrap();
        assert!(json["components"]["securitySchemes"]["bearer"].is_object(), "{json}");
        assert!(json["components"]["schemas"]["Submission"].is_object(), "{json}");
        assert!(json["paths"]["/v1/languages"]["get"]["responses"]["503"].is_object(), "{json}");
    }
}

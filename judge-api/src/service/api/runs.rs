//! `POST /v1/run`: one command (or two connected by pipes) in the judge's sandbox, for
//! callers that bring their own checking. The work is `run::run` on the blocking pool.

use std::sync::Arc;

use axum::extract::State;

use super::auth::Submitter;
use super::error::{ApiError, ErrorBody, Json};
use super::Ctx;
use crate::service::run::{self, RunRequest, RunRequestError, RunResponse};

/// Runs a request in the sandbox and returns what happened.
#[utoipa::path(
    post,
    path = "/v1/run",
    tag = "run",
    request_body = RunRequest,
    responses(
        (status = 200, body = RunResponse),
        (status = 400, description = "Malformed JSON or unknown field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "The request asks for something invalid", body = ErrorBody),
        (status = 500, description = "The sandbox failed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn run(State(ctx): State<Arc<Ctx>>, _: Submitter, Json(req): Json<RunRequest>) -> Result<axum::Json<RunResponse>, ApiError> {
    let sandbox = ctx.app.judge.sandbox().clone();
    let scratch_root = ctx.app.config.data_dir.join("scratch");
    let result = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&scratch_root)
            .map_err(|e| ApiError::internal("scratch_dir", format!("create {}: {e}", scratch_root.display())))?;
        let scratch = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(&scratch_root)
            .map_err(|e| ApiError::internal("scratch_dir", format!("create a directory in {}: {e}", scratch_root.display())))?;
        Ok::<_, ApiError>(run::run(&sandbox, &req, scratch.path()))
        // `scratch` is removed here, on the blocking pool.
    })
    .await
    .map_err(|e| ApiError::internal("run_failed", format!("run: {e}")))??;
    match result {
        Ok(resp) => {
            ctx.metrics.run("ok");
            Ok(axum::Json(resp))
        }
        Err(RunRequestError::Invalid(message)) => {
            ctx.metrics.run("invalid");
            Err(ApiError::unprocessable("invalid_run_request", message))
        }
        Err(e @ RunRequestError::Sandbox(_)) => {
            ctx.metrics.run("error");
            Err(ApiError::internal("sandbox_error", e.to_string()))
        }
        Err(e @ RunRequestError::Io { .. }) => {
            ctx.metrics.run("error");
            Err(ApiError::internal("run_io", e.to_string()))
        }
    }
}

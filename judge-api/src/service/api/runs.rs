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
    // Shared by concurrent requests: `run::run` makes its own directory below it, and only for
    // requests with files (most touch no disk).
    let scratch = ctx.app.config.data_dir.join("scratch").join("run");
    let result = tokio::task::spawn_blocking(move || run::run(&sandbox, &req, &scratch))
        .await
        .map_err(|e| ApiError::internal("run_failed", format!("run: {e}")))?;
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

//! Submissions: create (one or a batch, stored before the reply), read (optionally waiting
//! for the result), list, rejudge.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Admin, Submitter};
use super::error::{ApiError, ErrorBody, Json, Path, Query};
use super::Ctx;
use crate::service::model::{NewSubmission, ProblemVersion, Status, Submission, SubmissionFilter};

/// Longest `?wait=`, in seconds.
pub const MAX_WAIT_SECS: f64 = 60.0;
/// Most submissions in one batch.
pub const MAX_BATCH: usize = 1000;

/// A submission to judge.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// A problem name (its current version is used).
    pub problem: String,
    /// A language id, see `GET /v1/languages`.
    pub language: String,
    pub source: String,
    /// Run every test even after one fails (default: stop at the first failure).
    #[serde(default)]
    pub all_tests: bool,
    /// POSTed the finished submission (JSON) when judged; http or https.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// Several submissions, stored all or none.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub submissions: Vec<SubmitRequest>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchCreated {
    /// In the order of the request's submissions.
    pub ids: Vec<i64>,
}

/// Submissions, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionList {
    /// Newest first, without per-test results.
    pub submissions: Vec<Submission>,
}

/// `?wait=` of a read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitParams {
    /// Wait up to this many seconds (at most 60) for the submission to be done.
    pub wait: Option<f64>,
}

/// Checks a request. With `problems` (a batch: it caches lookups within it) its problem's
/// current version is looked up here, so that a bad item is named before anything is stored;
/// without, the store reads it in the insert (one database round trip instead of two).
async fn validate(ctx: &Ctx, req: SubmitRequest, problems: Option<&mut HashMap<String, Option<ProblemVersion>>>) -> Result<NewSubmission, ApiError> {
    let max = ctx.app.config.max_source_bytes;
    if req.source.len() > max {
        return Err(ApiError::too_large("source_too_large", format!("source is {} bytes, more than the limit of {max}", req.source.len())));
    }
    let languages = ctx.app.judge.languages();
    if languages.get(&req.language).is_none() {
        return Err(ApiError::unprocessable(
            "unknown_language",
            format!("unknown language {:?}; known: {}", req.language, languages.ids().join(", ")),
        ));
    }
    if let Some(url) = &req.callback_url {
        check_callback_url(url)?;
    }
    let version = match problems {
        None => None,
        Some(problems) => {
            let current = match problems.get(&req.problem) {
                Some(p) => p.clone(),
                None => {
                    let p = ctx.app.store.current_problem(&req.problem).await?;
                    problems.insert(req.problem.clone(), p.clone());
                    p
                }
            };
            let Some(current) = current else {
                return Err(ApiError::unprocessable("unknown_problem", format!("no problem named {:?}", req.problem)));
            };
            Some(current.version)
        }
    };
    Ok(NewSubmission {
        problem: req.problem,
        version,
        language: req.language,
        source: req.source,
        all_tests: req.all_tests,
        callback_url: req.callback_url,
    })
}

/// Callback URLs must be absolute http or https URLs with a host.
pub fn check_callback_url(url: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::unprocessable("invalid_callback_url", format!("callback_url {url:?}: {why}"));
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(bad("must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

/// Queues a submission; it is stored before the reply.
#[utoipa::path(
    post,
    path = "/v1/submissions",
    tag = "submissions",
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Stored and queued", body = Created),
        (status = 400, description = "Malformed JSON or unknown field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "Source too large", body = ErrorBody),
        (status = 422, description = "Unknown problem or language, bad callback URL", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_submission(
    State(ctx): State<Arc<Ctx>>,
    _: Submitter,
    Json(req): Json<SubmitRequest>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let sub = validate(&ctx, req, None).await?;
    let ids = ctx.app.store.create_submissions(std::slice::from_ref(&sub)).await?;
    let id = *ids.first().ok_or_else(|| ApiError::internal("store_error", "the store returned no id for the new submission"))?;
    ctx.metrics.submission_accepted(1);
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

/// Queues several submissions in one transaction: all are stored, or none (the first bad one
/// is named by its index).
#[utoipa::path(
    post,
    path = "/v1/submissions/batch",
    tag = "submissions",
    request_body = BatchRequest,
    responses(
        (status = 201, description = "All stored and queued", body = BatchCreated),
        (status = 400, description = "Malformed JSON or unknown field", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "A source too large", body = ErrorBody),
        (status = 422, description = "An unknown problem or language, bad callback URL, empty or too many", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_batch(
    State(ctx): State<Arc<Ctx>>,
    _: Submitter,
    Json(req): Json<BatchRequest>,
) -> Result<(StatusCode, axum::Json<BatchCreated>), ApiError> {
    if req.submissions.is_empty() {
        return Err(ApiError::unprocessable("empty_batch", "submissions is empty"));
    }
    if req.submissions.len() > MAX_BATCH {
        return Err(ApiError::unprocessable("batch_too_large", format!("{} submissions, more than {MAX_BATCH}", req.submissions.len())));
    }
    let mut problems = HashMap::new();
    let mut subs = Vec::with_capacity(req.submissions.len());
    for (i, item) in req.submissions.into_iter().enumerate() {
        subs.push(validate(&ctx, item, Some(&mut problems)).await.map_err(|e| e.context(&format!("submissions[{i}]")))?);
    }
    let ids = ctx.app.store.create_submissions(&subs).await?;
    ctx.metrics.submission_accepted(ids.len() as u64);
    Ok((StatusCode::CREATED, axum::Json(BatchCreated { ids })))
}

pub fn unknown_submission(id: i64) -> ApiError {
    ApiError::not_found("unknown_submission", format!("no submission {id}"))
}

/// A submission with its results so far; with `?wait=SECONDS`, waits up to that long
/// (at most 60 s) for it to be done.
#[utoipa::path(
    get,
    path = "/v1/submissions/{id}",
    tag = "submissions",
    params(("id" = i64, Path, description = "Submission id"), WaitParams),
    responses(
        (status = 200, body = Submission),
        (status = 400, description = "Bad id or wait", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such submission", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_submission(
    State(ctx): State<Arc<Ctx>>,
    _: Submitter,
    Path(id): Path<i64>,
    Query(params): Query<WaitParams>,
) -> Result<axum::Json<Submission>, ApiError> {
    let wait = match params.wait {
        None => Duration::ZERO,
        Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s.min(MAX_WAIT_SECS)),
        Some(s) => return Err(ApiError::bad_request("invalid_query", format!("wait={s} is not a number of seconds >= 0"))),
    };
    let deadline = Instant::now() + wait;
    // Subscribed before the first read: a change between the read and the wait still wakes it.
    let mut changes = ctx.app.store.changes(id);
    loop {
        let sub = ctx.app.store.submission(id).await?.ok_or_else(|| unknown_submission(id))?;
        let now = Instant::now();
        if sub.status == Status::Done || now >= deadline {
            return Ok(axum::Json(sub));
        }
        // Woken when this submission is finished only; re-read at least every second anyway.
        changes.wait_done((deadline - now).min(Duration::from_secs(1))).await;
    }
}

/// Submissions, newest first, without their per-test results.
#[utoipa::path(
    get,
    path = "/v1/submissions",
    tag = "submissions",
    params(SubmissionFilter),
    responses(
        (status = 200, body = SubmissionList),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_submissions(
    State(ctx): State<Arc<Ctx>>,
    _: Submitter,
    Query(mut filter): Query<SubmissionFilter>,
) -> Result<axum::Json<SubmissionList>, ApiError> {
    match filter.limit {
        Some(n) if n < 1 => return Err(ApiError::bad_request("invalid_query", format!("limit={n} is less than 1"))),
        Some(n) if n > 1000 => filter.limit = Some(1000),
        _ => {}
    }
    Ok(axum::Json(SubmissionList { submissions: ctx.app.store.list_submissions(&filter).await? }))
}

/// Puts a submission back in the queue (a judging in progress is abandoned: its results are
/// rejected); returns it as it is now.
#[utoipa::path(
    post,
    path = "/v1/submissions/{id}/rejudge",
    tag = "submissions",
    params(("id" = i64, Path, description = "Submission id")),
    responses(
        (status = 202, description = "Queued again", body = Submission),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such submission", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rejudge(State(ctx): State<Arc<Ctx>>, _: Admin, Path(id): Path<i64>) -> Result<(StatusCode, axum::Json<Submission>), ApiError> {
    if !ctx.app.store.rejudge(id).await? {
        return Err(unknown_submission(id));
    }
    let sub = ctx.app.store.submission(id).await?.ok_or_else(|| unknown_submission(id))?;
    tracing::info!(submission = id, "rejudge");
    Ok((StatusCode::ACCEPTED, axum::Json(sub)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls() {
        for ok in ["http://127.0.0.1:9/x", "https://example.com/hook?a=1"] {
            check_callback_url(ok).unwrap();
        }
        for bad in ["ftp://example.com/", "file:///etc/passwd", "example.com/x", "", "http://"] {
            let e = check_callback_url(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(e.message.contains("callback_url"), "{}", e.message);
        }
    }

    #[test]
    fn submit_request_rejects_unknown_fields() {
        let e = serde_json::from_str::<SubmitRequest>(r#"{"problem":"a","language":"c","source":"","colour":1}"#).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let r: SubmitRequest = serde_json::from_str(r#"{"problem":"a","language":"c","source":"x"}"#).unwrap();
        assert!(!r.all_tests && r.callback_url.is_none());
    }
}

//! `GET /v1/submissions/{id}/events`: a submission's progress as Server-Sent Events.
//!
//! - `status`: `{"id","status"}`, first the current status, then on every change;
//! - `test`: one per stored test result, in order, the `judge submit --json` fields plus `index`;
//! - `done`: the whole submission once judged; then the stream ends.
//!
//! The stream reads the store (`test_results_from`) whenever the submission changed (the
//! store's change notifications: LISTEN/NOTIFY on PostgreSQL) and at least every second, so it
//! follows workers on any machine: only the database connects them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::auth::Submitter;
use super::error::{ApiError, ErrorBody, Path};
use super::submissions::unknown_submission;
use super::Ctx;
use crate::service::model::Status;
use crate::service::store::Store;
use crate::verdict::TestResult;

/// Poll interval when no change is signalled.
const POLL: Duration = Duration::from_secs(1);

#[derive(Serialize)]
struct StatusEvent {
    id: i64,
    status: Status,
}

#[derive(Serialize)]
struct TestEvent<'a> {
    index: i64,
    #[serde(flatten)]
    result: &'a TestResult,
}

fn event<T: Serialize>(name: &str, data: &T) -> Event {
    match Event::default().event(name).json_data(data) {
        Ok(e) => e,
        Err(e) => Event::default().event("error").data(format!("encode {name} event: {e}")),
    }
}

/// The submission's progress as Server-Sent Events (`status`, `test`, then `done`).
#[utoipa::path(
    get,
    path = "/v1/submissions/{id}/events",
    tag = "submissions",
    params(("id" = i64, Path, description = "Submission id")),
    responses(
        (status = 200, description = "text/event-stream: `status` events ({\"id\",\"status\"}), `test` events (a test result with its `index`), a final `done` event (the submission)", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such submission", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn events(State(ctx): State<Arc<Ctx>>, _: Submitter, Path(id): Path<i64>) -> Result<Response, ApiError> {
    if ctx.app.store.submission(id).await?.is_none() {
        return Err(unknown_submission(id));
    }
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(follow(ctx.app.store.clone(), id, tx));
    let stream = ReceiverStream::new(rx).map(Ok::<Event, Infallible>);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// Sends the submission's events until it is done, the client leaves, or the store fails
/// (an `error` event).
async fn follow(store: Store, id: i64, tx: mpsc::Sender<Event>) {
    if let Err(e) = follow_inner(&store, id, &tx).await {
        let _ = tx.send(event("error", &ErrorBody::from(e))).await;
    }
}

/// `Err` only for store failures; a closed channel (client gone) ends it quietly.
async fn follow_inner(store: &Store, id: i64, tx: &mpsc::Sender<Event>) -> Result<(), ApiError> {
    let mut last_status: Option<Status> = None;
    let mut next_index = 0i64;
    // Subscribed before the first read: a change between a read and the wait still wakes it.
    let mut changes = store.changes(id);
    loop {
        if tx.is_closed() {
            return Ok(());
        }
        let (status, results) = store.test_results_from(id, next_index).await?;
        if last_status != Some(status) {
            // Back in the queue or compiling again (a rejudge or a lost lease): a new attempt
            // whose results start again from 0.
            if last_status.is_some() && matches!(status, Status::Queued | Status::Compiling) && next_index > 0 {
                next_index = 0;
                last_status = None;
                continue;
            }
            last_status = Some(status);
            if status != Status::Done && tx.send(event("status", &StatusEvent { id, status })).await.is_err() {
                return Ok(());
            }
        }
        for (k, result) in results.iter().enumerate() {
            let index = next_index + k as i64;
            if tx.send(event("test", &TestEvent { index, result })).await.is_err() {
                return Ok(());
            }
        }
        next_index += results.len() as i64;
        if status == Status::Done {
            let sub = store.submission(id).await?.ok_or_else(|| unknown_submission(id))?;
            let _ = tx.send(event("done", &sub)).await;
            return Ok(());
        }
        changes.wait(POLL).await;
    }
}

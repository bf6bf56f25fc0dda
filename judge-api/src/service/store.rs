//! The durable store: problems and their packages, submissions and the judging queue, tokens,
//! callbacks, workers. One SQL layer (sqlx) over SQLite (embedded, one machine) and
//! PostgreSQL (shared by a service and workers on many machines).
//!
//! The queue: a worker claims the oldest queued submission (or one whose lease expired) by
//! setting a fresh lease id and expiry — on PostgreSQL with `SELECT ... FOR UPDATE SKIP
//! LOCKED`, on SQLite inside its single-writer transaction — and keeps the lease alive with
//! heartbeats. Every later write names the lease; once a lease is lost (expired and taken by
//! another worker, or the submission rejudged), writes under it change nothing and return false.
//! New submissions wake idle workers: LISTEN/NOTIFY on PostgreSQL, an in-process notify on SQLite.

use std::time::Duration;

use super::model::*;
use crate::verdict::TestResult;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database {op}: {source}")]
    Query { op: &'static str, source: sqlx::Error },
    #[error("unsupported database URL {0:?} (use sqlite://PATH or postgres://...)")]
    Url(String),
    #[error("stored {what} of submission {id} is not valid: {reason}")]
    Corrupt { what: &'static str, id: i64, reason: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone (a pool inside).
#[derive(Clone)]
pub struct Store {}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    /// `url`: `sqlite://PATH` (created with its directory) or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        todo!("{url}")
    }

    /// `sqlite://DIR/judge.db` for a `--data DIR`.
    pub fn sqlite_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}", data_dir.join("judge.db").display())
    }

    pub fn backend(&self) -> Backend {
        todo!()
    }

    // --- settings: what workers on other machines learn through the database ---

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        todo!("{key}{value}")
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        todo!("{key}")
    }

    // --- tokens (sha256 at rest) ---

    /// Creates a token with this role; returns the token itself (shown once, stored hashed).
    pub async fn add_token(&self, role: Role, note: &str) -> Result<String> {
        todo!("{role:?}{note}")
    }

    /// The role of a presented token, `None` when unknown.
    pub async fn token_role(&self, token: &str) -> Result<Option<Role>> {
        todo!("{token}")
    }

    // --- problems and packages ---

    /// Stores a package version (idempotent on `version`) and makes it `name`'s current version.
    pub async fn put_problem(&self, name: &str, version: &str, title: Option<&str>, test_count: i64, package: &[u8]) -> Result<ProblemVersion> {
        todo!("{name}{version}{title:?}{test_count}{}", package.len())
    }

    /// The current version of every problem that has one (not deleted), by name.
    pub async fn problems(&self) -> Result<Vec<ProblemVersion>> {
        todo!()
    }

    /// Every stored version of `name`, newest first (the current one has `current: true`).
    pub async fn problem_versions(&self, name: &str) -> Result<Vec<ProblemVersion>> {
        todo!("{name}")
    }

    /// The current version of `name`.
    pub async fn current_problem(&self, name: &str) -> Result<Option<ProblemVersion>> {
        todo!("{name}")
    }

    /// Deletes `name` for new submissions (no current version any more); stored versions
    /// and past submissions stay. False when there was no such problem.
    pub async fn delete_problem(&self, name: &str) -> Result<bool> {
        todo!("{name}")
    }

    /// The stored package (gzipped tar) of a version.
    pub async fn package(&self, version: &str) -> Result<Option<Vec<u8>>> {
        todo!("{version}")
    }

    // --- submissions ---

    /// Stores submissions in one transaction (all or none) and wakes idle workers; ids in order.
    pub async fn create_submissions(&self, subs: &[NewSubmission]) -> Result<Vec<i64>> {
        todo!("{}", subs.len())
    }

    /// A submission with its test results (those of its latest attempt).
    pub async fn submission(&self, id: i64) -> Result<Option<Submission>> {
        todo!("{id}")
    }

    /// Submissions matching the filter, newest first, without their per-test results.
    pub async fn list_submissions(&self, filter: &SubmissionFilter) -> Result<Vec<Submission>> {
        todo!("{filter:?}")
    }

    /// Puts a submission back in the queue (any lease on it is lost). False if no such id.
    pub async fn rejudge(&self, id: i64) -> Result<bool> {
        todo!("{id}")
    }

    /// Test results of the submission's current attempt with index >= `from_index`, in order,
    /// and the submission's status (for SSE streams).
    pub async fn test_results_from(&self, id: i64, from_index: i64) -> Result<(Status, Vec<TestResult>)> {
        todo!("{id}{from_index}")
    }

    // --- the queue, worker side ---

    /// Claims the oldest queued submission, or one whose lease expired; status becomes
    /// `compiling`, attempts +1, its earlier partial test results are dropped.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        todo!("{worker}{lease:?}")
    }

    /// Extends the lease. False when the lease was lost.
    pub async fn heartbeat(&self, claim: &Claim, lease: Duration) -> Result<bool> {
        todo!("{claim:?}{lease:?}")
    }

    /// Compiled: status `running` and the compile message. False when the lease was lost.
    pub async fn set_running(&self, claim: &Claim, compile_message: &str) -> Result<bool> {
        todo!("{claim:?}{compile_message}")
    }

    /// One test's result, `index` from 0. False when the lease was lost.
    pub async fn add_test_result(&self, claim: &Claim, index: i64, result: &TestResult) -> Result<bool> {
        todo!("{claim:?}{index}{result:?}")
    }

    /// The final result: status `done`, judged_count +1, lease cleared, a callback queued if
    /// the submission has a `callback_url`; all in one transaction. False (and nothing
    /// written) when the lease was lost: a late result from a lost lease is rejected.
    pub async fn finish(&self, claim: &Claim, outcome: &Outcome) -> Result<bool> {
        todo!("{claim:?}{outcome:?}")
    }

    /// Waits until a submission may be waiting (a NOTIFY or local wake) or `timeout` passes.
    pub async fn wait_for_work(&self, timeout: Duration) {
        todo!("{timeout:?}")
    }

    /// Waits until some submission changed (a test result or a final result was stored,
    /// by any worker on any machine) or `timeout` passes. For `?wait=` and SSE streams.
    pub async fn wait_for_change(&self, timeout: Duration) {
        todo!("{timeout:?}")
    }

    // --- workers (for /metrics) ---

    pub async fn worker_report(&self, info: &WorkerInfo) -> Result<()> {
        todo!("{info:?}")
    }

    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        todo!()
    }

    // --- callbacks ---

    /// Callbacks due at `now_ms`, oldest first.
    pub async fn due_callbacks(&self, now_ms: i64, limit: i64) -> Result<Vec<Callback>> {
        todo!("{now_ms}{limit}")
    }

    /// Delivered: removes it.
    pub async fn callback_delivered(&self, id: i64) -> Result<()> {
        todo!("{id}")
    }

    /// Failed: attempts +1 and the next try at `next_ms`; after `give_up_after` attempts it is
    /// dropped (and logged by the caller).
    pub async fn callback_failed(&self, id: i64, next_ms: i64) -> Result<()> {
        todo!("{id}{next_ms}")
    }

    // --- metrics ---

    pub async fn queue_stats(&self) -> Result<QueueStats> {
        todo!()
    }

    /// Judging latency (finished_ms - created_ms) of submissions finished since `since_ms`,
    /// for the latency summary in `/metrics`.
    pub async fn recent_latencies_ms(&self, since_ms: i64) -> Result<Vec<i64>> {
        todo!("{since_ms}")
    }
}

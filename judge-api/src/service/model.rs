//! The service's data: what the store keeps and the API returns. Shared by `store`, `worker`
//! and `api`; JSON field names here are the API's.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::verdict::{SubmissionResult, TestResult, Verdict};

/// Milliseconds since the Unix epoch (what every `*_ms` timestamp field holds).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What a bearer token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Submit, read submissions, list problems and languages, `POST /v1/run`.
    Submitter,
    /// Everything a submitter may, plus problems (upload, delete), rejudge, tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Submitter => "submitter",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "submitter" => Some(Role::Submitter),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Where a submission is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Stored, waiting for a worker.
    Queued,
    /// A worker holds its lease and compiles it.
    Compiling,
    /// A worker holds its lease and runs the tests.
    Running,
    /// Judged: `verdict` and `score` are set (JE when the judge itself failed).
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Compiling => "compiling",
            Status::Running => "running",
            Status::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "queued" => Some(Status::Queued),
            "compiling" => Some(Status::Compiling),
            "running" => Some(Status::Running),
            "done" => Some(Status::Done),
            _ => None,
        }
    }
}

/// One stored version of a problem package. The version is the package's content hash
/// (sha256 of its file tree, see `package::tree_hash`), so re-uploading the same package is a
/// no-op and a changed one is a new version; submissions stay tied to the version they were
/// judged on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemVersion {
    pub name: String,
    /// Lowercase hex sha256 of the package's file tree.
    pub version: String,
    /// From problem.yaml, when it has one.
    pub title: Option<String>,
    /// Size of the stored (normalized, gzipped tar) package.
    pub size_bytes: i64,
    pub test_count: i64,
    pub created_ms: i64,
    /// True for the version new submissions to `name` are judged on.
    pub current: bool,
}

/// A submission as a client creates it (after the API checked problem, language and size).
#[derive(Clone, Debug, PartialEq)]
pub struct NewSubmission {
    pub problem: String,
    /// The problem version it is judged on; `None`: the problem's current version when the
    /// submission is stored.
    pub version: Option<String>,
    pub language: String,
    pub source: String,
    pub all_tests: bool,
    pub callback_url: Option<String>,
}

/// A submission as stored, with its result so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Submission {
    pub id: i64,
    pub status: Status,
    /// Set when `status` is `done`.
    pub verdict: Option<Verdict>,
    /// Set when `status` is `done`.
    pub score: Option<f64>,
    /// Per-test results (those judged so far while `running`), same fields as `judge submit --json`.
    pub tests: Vec<TestResult>,
    pub problem: String,
    pub version: String,
    pub language: String,
    pub all_tests: bool,
    pub callback_url: Option<String>,
    /// The compiler's output, once compiled.
    pub compile_message: Option<String>,
    /// Why the judge failed, when the verdict is JE.
    pub error: Option<String>,
    pub max_cpu_time_ms: Option<i64>,
    pub max_memory_bytes: Option<i64>,
    pub time_limit_ms: Option<i64>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
    /// How many times a worker started judging it (more than 1 after a lost lease or a rejudge).
    pub attempts: i64,
    /// How many final results were stored (1 once judged, +1 per rejudge).
    pub judged_count: i64,
}

/// Filters for listing submissions (all optional; newest first).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SubmissionFilter {
    pub problem: Option<String>,
    #[param(value_type = Option<String>)]
    pub status: Option<Status>,
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    pub verdict: Option<Verdict>,
    pub language: Option<String>,
    /// Only ids below this one (for paging backwards).
    pub before_id: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A submission a worker holds under a lease. Every write a worker makes names its lease;
/// a write under a lease that was lost (expired and taken by another worker, or a rejudge)
/// is rejected.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub submission_id: i64,
    /// Random, unique per claim.
    pub lease_id: String,
    pub worker: String,
    /// 1 for the first judging, then +1 per claim.
    pub attempt: i64,
    pub problem: String,
    pub version: String,
    pub language: String,
    pub source: String,
    pub all_tests: bool,
    /// The submission has a `callback_url` (its final write also queues the callback).
    pub has_callback: bool,
}

/// A final result POSTed to a submission's `callback_url`, retried with backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Callback {
    pub id: i64,
    pub submission_id: i64,
    pub url: String,
    /// Failed deliveries so far.
    pub attempts: i64,
    pub next_ms: i64,
}

/// A worker as it last reported itself (for `/metrics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerInfo {
    pub id: String,
    pub host: String,
    /// `idle`, `judging` or `stopped`.
    pub state: String,
    pub heartbeat_ms: i64,
    pub judged: i64,
}

/// Counts for `/metrics` and `/healthz`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueStats {
    pub queued: i64,
    pub compiling: i64,
    pub running: i64,
    pub done: i64,
    /// Finished submissions per verdict name.
    pub verdicts: Vec<(String, i64)>,
    pub callbacks_pending: i64,
}

/// What a finished judging stores: the judge's result, or the reason the judge failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Judged(SubmissionResult),
    /// The judge itself failed (package broken, sandbox error): stored as verdict JE with this message.
    JudgeError(String),
}

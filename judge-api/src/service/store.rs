//! The durable store: problems and their packages, submissions and the judging queue, tokens,
//! callbacks, workers. One SQL layer (sqlx) over SQLite (embedded, one machine) and
//! PostgreSQL (shared by a service and workers on many machines).
//!
//! The queue: a worker claims the oldest queued submission (or one whose lease expired) by
//! setting a fresh lease id and expiry in one UPDATE — on PostgreSQL with `SELECT ... FOR
//! UPDATE SKIP LOCKED`, on SQLite under its single write lock — and keeps the lease alive with
//! heartbeats. Every later write names the lease; once a lease is lost (expired and taken by
//! another worker, or the submission rejudged), writes under it change nothing and return false.
//! New submissions wake idle workers: LISTEN/NOTIFY on PostgreSQL, an in-process notify on SQLite.

//!
//! One SQL layer for both databases: `sqlx::AnyPool`, with `$1` placeholders (SQLite accepts
//! them too). Where the dialects differ it is explicit: the schema's types (`BIGSERIAL` vs
//! `INTEGER PRIMARY KEY AUTOINCREMENT`, `BYTEA` vs `BLOB`), write transactions (`BEGIN
//! IMMEDIATE` on SQLite so a transaction never has to upgrade its lock and fail with
//! SQLITE_BUSY; the default `BEGIN` on PostgreSQL), `FOR UPDATE SKIP LOCKED` in the claim, and
//! the wake-ups (LISTEN/NOTIFY vs in-process). Values are limited to what `Any` carries:
//! integers (booleans are stored as 0/1), doubles, text, bytes.
//!
//! A worker's writes (claim, progress, finish) are each one single-row UPDATE on a connection
//! of the worker's own ([`WorkerConn`]): what the service adds per submission on top of the
//! judging is mostly these round trips (BENCHMARKS.md).
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction
//! (a 2xx from `create_submissions`) survives a power loss, not only a crash of the process —
//! the queue is what clients were told is safe. Workers' own connections are
//! `synchronous=NORMAL` (see [`WorkerConn`]: a power loss may make a submission be judged
//! again, never lose it). PostgreSQL commits durably by default.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row};
use tokio::sync::{watch, Notify};

use super::model::*;
use crate::verdict::{SubmissionResult, TestResult, Verdict};
use conns::{Conn, Conns};

mod conns;

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
    /// A stored row other than a submission's is not valid (a token's role, a setting).
    #[error("stored {what} {key:?} is not valid: {reason}")]
    CorruptRow { what: &'static str, key: String, reason: String },
    #[error("create the database directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("database schema version {found} is newer than this program's {known}")]
    SchemaTooNew { found: i64, known: i64 },
    /// A new submission (`index` in its call) names a problem with no current version.
    #[error("no problem named {name:?}")]
    NoSuchProblem { index: usize, name: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn q(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { op, source }
}

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// PostgreSQL channels: new work (create, rejudge) and changed submissions (results).
const CHANNEL_QUEUE: &str = "judge_queue";
const CHANNEL_CHANGE: &str = "judge_change";
const CHANNEL_CALLBACKS: &str = "judge_callbacks";
/// Serializes schema upgrades of several processes opening one PostgreSQL database at once.
const SCHEMA_LOCK_KEY: i64 = 0x6a75_6467_6500;
/// How long an SQLite writer waits for the write lock before failing.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 30_000;
/// SQLite connections the API's frequent statements use at once (`conns`), beside the pool's.
const API_CONNECTIONS: usize = 8;
/// The schema this program writes; `schema_version` holds what the database has.
const SCHEMA_VERSION: i64 = 2;

/// The columns a `Submission` is read from (without its tests).
const SUBMISSION_COLUMNS: &str = "id, status, verdict, score, problem, version, language, all_tests, callback_url, \
     compile_message, error, max_cpu_time_ms, max_memory_bytes, time_limit_ms, created_ms, finished_ms, attempts, judged_count";

const STATUS_COUNTS: &str = "SELECT status, COUNT(*) AS n FROM submissions GROUP BY status";
const VERDICT_COUNTS: &str =
    "SELECT verdict, COUNT(*) AS n FROM submissions WHERE status = 'done' AND verdict IS NOT NULL GROUP BY verdict ORDER BY verdict";
const RECENT_LATENCIES: &str = "SELECT finished_ms - created_ms FROM submissions WHERE finished_ms >= $1 ORDER BY finished_ms";

/// The store. Cheap to clone (a pool inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    /// The API's frequent statements on SQLite (see `conns`).
    conns: Conns,
    backend: Backend,
    wakes: Wakes,
    /// The LISTEN task on PostgreSQL; stopped with the store.
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}

/// A submission changed; `done` when the change made it done (its final result was stored).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Change {
    id: i64,
    done: bool,
}

impl Change {
    /// As a NOTIFY payload: the id, then ` done` if so.
    fn parse(payload: &str) -> Option<Change> {
        let (id, done) = match payload.strip_suffix(" done") {
            Some(id) => (id, true),
            None => (payload, false),
        };
        Some(Change { id: id.parse().ok()?, done })
    }
}

/// How many changes, and how many that finished it, a watched submission has had.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Counts {
    changes: u64,
    dones: u64,
}

/// Who waits for which submission: a change counter per watched submission, so that a change
/// wakes its own waiters only. (A broadcast to every waiter, filtered by each, woke every
/// `?wait` and SSE stream for each test result of every submission: with 32 clients waiting
/// that cost more CPU than the rest of the service together.)
struct Watches {
    by_id: std::sync::Mutex<HashMap<i64, watch::Sender<Counts>>>,
    /// Every change counted, for `Store::wait_for_change`.
    any: watch::Sender<u64>,
}

impl Watches {
    fn new() -> Watches {
        Watches { by_id: std::sync::Mutex::new(HashMap::new()), any: watch::channel(0).0 }
    }

    fn by_id(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<Counts>>> {
        self.by_id.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `change` for its waiters; `None` (notifications were lost): for every waiter.
    fn changed(&self, change: Option<Change>) {
        self.any.send_modify(|n| *n += 1);
        let bump = |tx: &watch::Sender<Counts>, done: bool| {
            tx.send_modify(|c| {
                c.changes += 1;
                c.dones += done as u64;
            })
        };
        let by_id = self.by_id();
        match change {
            Some(c) => {
                if let Some(tx) = by_id.get(&c.id) {
                    bump(tx, c.done);
                }
            }
            None => by_id.values().for_each(|tx| bump(tx, true)),
        }
    }

    fn watch(self: &Arc<Self>, id: i64) -> Changes {
        let rx = self.by_id().entry(id).or_insert_with(|| watch::channel(Counts::default()).0).subscribe();
        let seen = *rx.borrow();
        Changes { id, seen, rx, watches: self.clone() }
    }
}

/// How waiters learn of writes: in process, and from NOTIFY on PostgreSQL.
#[derive(Clone)]
struct Wakes {
    /// Woken when work may be waiting (local writes, or NOTIFY on `judge_queue`).
    work: Arc<Notify>,
    /// Woken when a callback was queued (local writes, or NOTIFY on `judge_callbacks`).
    callbacks: Arc<Notify>,
    /// Which submission changed (local writes, or NOTIFY on `judge_change` with the id, and
    /// ` done` after it when it was finished, as payload), for its waiters.
    changes: Arc<Watches>,
}

fn new_wakes() -> Wakes {
    Wakes {
        work: Arc::new(Notify::new()),
        callbacks: Arc::new(Notify::new()),
        changes: Arc::new(Watches::new()),
    }
}

/// A subscription to one submission's changes (`Store::changes`). Subscribe before reading
/// what you wait on, then wait: nothing that changed after the subscription is missed.
/// Changes of other submissions do not wake it: a `?wait` or an SSE stream costs nothing
/// while other submissions are judged.
pub struct Changes {
    id: i64,
    rx: watch::Receiver<Counts>,
    /// The counts when the caller last looked.
    seen: Counts,
    watches: Arc<Watches>,
}

impl Changes {
    /// Waits until the submission may have changed since the subscription or the last wait
    /// that returned true (true), or `timeout` passed (false).
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        self.wait_until(timeout, |now, seen| now.changes != seen.changes).await
    }

    /// Like `wait`, but only a change that finished the submission wakes the caller (or one
    /// that may have: notifications were lost): a `?wait` re-reads once, not per test.
    pub async fn wait_done(&mut self, timeout: Duration) -> bool {
        self.wait_until(timeout, |now, seen| now.dones != seen.dones).await
    }

    async fn wait_until(&mut self, timeout: Duration, news: impl Fn(Counts, Counts) -> bool) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let now = *self.rx.borrow_and_update();
            if news(now, self.seen) {
                self.seen = now;
                return true;
            }
            match tokio::time::timeout_at(until, self.rx.changed()).await {
                Err(_) => return false,
                // The store is gone: let the caller re-read (and fail there).
                Ok(Err(_)) => return true,
                Ok(Ok(())) => {}
            }
        }
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        let mut by_id = self.watches.by_id();
        // The last subscription (this one's receiver is still alive here) takes the entry along.
        if by_id.get(&self.id).is_some_and(|tx| tx.receiver_count() <= 1) {
            by_id.remove(&self.id);
        }
    }
}

/// The wakes of an SQLite database file, shared by the stores this process opened on it
/// (another process writing the same file is not seen: workers then find work by polling).
fn local_wakes(file: &Path) -> Wakes {
    static WAKES: std::sync::Mutex<Vec<(PathBuf, Wakes)>> = std::sync::Mutex::new(Vec::new());
    let mut all = WAKES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, w)) = all.iter().find(|(f, _)| f == file) {
        return w.clone();
    }
    let w = new_wakes();
    all.push((file.to_owned(), w.clone()));
    w
}

/// Wakes every waiter, and the next one to come when nobody waits yet (so a wake between a
/// worker's empty claim and its wait is not lost).
fn wake(n: &Notify) {
    n.notify_waiters();
    n.notify_one();
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The file path inside an SQLite URL (`sqlite://PATH`, `sqlite:PATH`, with or without a query).
fn sqlite_path(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    Some(match rest.split_once('?') {
        Some((p, query)) => (p, Some(query)),
        None => (rest, None),
    })
}

/// Percent-encodes what sqlx's SQLite URL parser would take for syntax.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~+,=@:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undoes `encode_path` (and any percent-encoding in a URL); a `%` not followed by two hex
/// digits stays as it is.
fn decode_path(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The schema, version by version (index 0 is version 1).
fn migrations(backend: Backend) -> Vec<Vec<String>> {
    let (serial, blob) = match backend {
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
    };
    let v1 = vec![
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)".to_string(),
        "CREATE TABLE tokens (hash TEXT PRIMARY KEY, role TEXT NOT NULL, note TEXT NOT NULL, created_ms BIGINT NOT NULL)".into(),
        format!("CREATE TABLE packages (version TEXT PRIMARY KEY, bytes {blob} NOT NULL)"),
        "CREATE TABLE problem_versions (name TEXT NOT NULL, version TEXT NOT NULL, title TEXT, test_count BIGINT NOT NULL, \
         size_bytes BIGINT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (name, version))"
            .into(),
        "CREATE TABLE problems (name TEXT PRIMARY KEY, version TEXT NOT NULL)".into(),
        format!(
            "CREATE TABLE submissions (id {serial}, problem TEXT NOT NULL, version TEXT NOT NULL, language TEXT NOT NULL, \
             source TEXT NOT NULL, all_tests BIGINT NOT NULL, callback_url TEXT, status TEXT NOT NULL, verdict TEXT, \
             score DOUBLE PRECISION, result TEXT, error TEXT, compile_message TEXT, max_cpu_time_ms BIGINT, \
             max_memory_bytes BIGINT, time_limit_ms BIGINT, created_ms BIGINT NOT NULL, finished_ms BIGINT, \
             attempts BIGINT NOT NULL DEFAULT 0, judged_count BIGINT NOT NULL DEFAULT 0, lease_id TEXT, lease_worker TEXT, \
             lease_expires_ms BIGINT)"
        ),
        // The claim: oldest queued, and expired leases among compiling/running.
        "CREATE INDEX submissions_status_id ON submissions (status, id)".into(),
        "CREATE INDEX submissions_problem_id ON submissions (problem, id)".into(),
        "CREATE INDEX submissions_finished ON submissions (finished_ms)".into(),
        "CREATE TABLE test_results (submission_id BIGINT NOT NULL, attempt BIGINT NOT NULL, idx BIGINT NOT NULL, \
         result TEXT NOT NULL, PRIMARY KEY (submission_id, idx))"
            .into(),
        format!(
            "CREATE TABLE callbacks (id {serial}, submission_id BIGINT NOT NULL, url TEXT NOT NULL, \
             attempts BIGINT NOT NULL DEFAULT 0, next_ms BIGINT NOT NULL)"
        ),
        "CREATE INDEX callbacks_next ON callbacks (next_ms, id)".into(),
        "CREATE TABLE workers (id TEXT PRIMARY KEY, host TEXT NOT NULL, state TEXT NOT NULL, heartbeat_ms BIGINT NOT NULL, \
         judged BIGINT NOT NULL)"
            .into(),
    ];
    // Version 2: a judging's per-test results live in the submission's row (`progress`), so
    // that each worker write is one single-row UPDATE (see `add_progress`).
    // And /metrics' verdict counts read an index instead of every finished row.
    let v2 = vec![
        "ALTER TABLE submissions ADD COLUMN progress TEXT".to_string(),
        "DROP TABLE test_results".into(),
        "CREATE INDEX submissions_status_verdict ON submissions (status, verdict)".into(),
    ];
    vec![v1, v2]
}

fn get<'r, T>(row: &'r AnyRow, col: &'static str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(|source| StoreError::Query { op: col, source })
}

fn problem_version(row: &AnyRow) -> Result<ProblemVersion> {
    Ok(ProblemVersion {
        name: get(row, "name")?,
        version: get(row, "version")?,
        title: get(row, "title")?,
        size_bytes: get(row, "size_bytes")?,
        test_count: get(row, "test_count")?,
        created_ms: get(row, "created_ms")?,
        current: get::<i64>(row, "current")? != 0,
    })
}

fn submission_row(row: &AnyRow) -> Result<Submission> {
    let id: i64 = get(row, "id")?;
    let status: String = get(row, "status")?;
    let status = Status::parse(&status).ok_or_else(|| StoreError::Corrupt { what: "status", id, reason: status.clone() })?;
    let verdict = match get::<Option<String>>(row, "verdict")? {
        Some(v) => Some(Verdict::parse(&v).ok_or(StoreError::Corrupt { what: "verdict", id, reason: v })?),
        None => None,
    };
    Ok(Submission {
        id,
        status,
        verdict,
        score: get(row, "score")?,
        tests: Vec::new(),
        problem: get(row, "problem")?,
        version: get(row, "version")?,
        language: get(row, "language")?,
        all_tests: get::<i64>(row, "all_tests")? != 0,
        callback_url: get(row, "callback_url")?,
        compile_message: get(row, "compile_message")?,
        error: get(row, "error")?,
        max_cpu_time_ms: get(row, "max_cpu_time_ms")?,
        max_memory_bytes: get(row, "max_memory_bytes")?,
        time_limit_ms: get(row, "time_limit_ms")?,
        created_ms: get(row, "created_ms")?,
        finished_ms: get(row, "finished_ms")?,
        attempts: get(row, "attempts")?,
        judged_count: get(row, "judged_count")?,
    })
}

/// Every SQLite connection's own settings: how long it waits for the write lock, and whether
/// each commit is synced to disk (`FULL`) or only with the next synced one (`NORMAL`, a
/// worker's connection: see [`WorkerConn`]).
async fn sqlite_settings(c: &mut AnyConnection, synchronous: &str) -> std::result::Result<(), sqlx::Error> {
    c.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str()).await?;
    c.execute(format!("PRAGMA synchronous = {synchronous}").as_str()).await?;
    Ok(())
}

/// SQLite's SQLITE_BUSY (5) or SQLITE_LOCKED (6): another connection holds the lock.
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("5") | Some("6")))
}

fn test_result(id: i64, json: &str) -> Result<TestResult> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt { what: "test result", id, reason: e.to_string() })
}

/// A judging's test results as `submissions.progress` holds them: one line per result,
/// `INDEX<TAB>JSON<LF>` (JSON never holds a raw newline), appended as they come.
fn progress_lines(id: i64, tests: &[(i64, TestResult)]) -> Result<String> {
    let mut out = String::new();
    for (index, result) in tests {
        let json = serde_json::to_string(result).map_err(|e| StoreError::Corrupt { what: "test result", id, reason: e.to_string() })?;
        out.push_str(&format!("{index}\t{json}\n"));
    }
    Ok(out)
}

/// The results in a `progress` text with index >= `from_index`, by index (a later line for
/// the same index wins).
fn progress_tests(id: i64, progress: Option<&str>, from_index: i64) -> Result<Vec<TestResult>> {
    let mut by_index = std::collections::BTreeMap::new();
    for line in progress.unwrap_or("").lines() {
        let corrupt = || StoreError::Corrupt { what: "test progress", id, reason: format!("line {line:?}") };
        let (index, json) = line.split_once('\t').ok_or_else(corrupt)?;
        let index: i64 = index.parse().map_err(|_| corrupt())?;
        if index >= from_index {
            by_index.insert(index, json);
        }
    }
    by_index.into_values().map(|json| test_result(id, json)).collect()
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    /// `url`: `sqlite://PATH` (created with its directory) or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let connect = |source| StoreError::Connect { url: redact(url), source };
        let mut sqlite_file = None;
        let (backend, pool) = if let Some((path, query)) = sqlite_path(url) {
            if path.is_empty() || path.contains(":memory:") {
                return Err(StoreError::Url(url.into()));
            }
            let path = decode_path(path);
            let path = Path::new(&path);
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
            let dir = std::fs::canonicalize(dir).map_err(|source| StoreError::CreateDir { path: dir.to_owned(), source })?;
            let file = dir.join(path.file_name().ok_or_else(|| StoreError::Url(url.into()))?);
            let mut full = format!("sqlite://{}?mode=rwc", encode_path(&file.to_string_lossy()));
            sqlite_file = Some(file);
            if let Some(query) = query.filter(|q| !q.is_empty()) {
                full.push('&');
                full.push_str(query);
            }
            // WAL once for the file (it persists); the per-connection settings on every connection.
            {
                use sqlx::Connection;
                let mut c = sqlx::AnyConnection::connect(&full).await.map_err(connect)?;
                c.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str()).await.map_err(connect)?;
                // Switching to WAL needs the file to itself for a moment, and SQLite answers
                // "database is locked" at once (no busy wait) while another process opens or
                // writes it (`judge token add` beside a starting `judge serve`): retry then.
                let until = std::time::Instant::now() + Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS);
                loop {
                    match c.execute("PRAGMA journal_mode = WAL").await {
                        Ok(_) => break,
                        Err(e) if is_busy(&e) && std::time::Instant::now() < until => tokio::time::sleep(Duration::from_millis(20)).await,
                        Err(e) => return Err(connect(e)),
                    }
                }
                c.close().await.map_err(connect)?;
            }
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                // A connection to a local file does not go stale; the ping before every use
                // would be one more round trip to the connection's thread per transaction.
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move { sqlite_settings(conn, "FULL").await })
                })
                .connect(&full)
                .await
                .map_err(connect)?;
            (Backend::Sqlite, pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new().max_connections(10).connect(url).await.map_err(connect)?;
            (Backend::Postgres, pool)
        } else {
            return Err(StoreError::Url(url.into()));
        };
        let wakes = match &sqlite_file {
            // Every Store of this process on the same file shares the wakes.
            Some(file) => local_wakes(file),
            None => new_wakes(),
        };
        let listener = match backend {
            Backend::Postgres => {
                // The first LISTEN connects here so a bad URL fails at open; later drops reconnect.
                let l = sqlx::postgres::PgListener::connect(url).await.map_err(connect)?;
                Some(tokio::spawn(listen(l, url.to_owned(), wakes.clone())))
            }
            Backend::Sqlite => None,
        };
        let store = Store { inner: Arc::new(Inner { pool, conns: Conns::new(API_CONNECTIONS), backend, wakes, listener }) };
        store.migrate().await?;
        Ok(store)
    }

    /// `sqlite://DIR/judge.db` for a `--data DIR`.
    /// (The path is percent-encoded where URL syntax would take it: `?`, `#`, `%`, spaces.)
    pub fn sqlite_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}", encode_path(&data_dir.join("judge.db").to_string_lossy()))
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// How a write transaction begins: `BEGIN IMMEDIATE` on SQLite (takes the write lock up
    /// front, waiting up to the busy timeout, rather than failing when a read lock cannot be
    /// upgraded), a plain `BEGIN` on PostgreSQL.
    fn begin_sql(&self) -> &'static str {
        match self.inner.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// A write transaction on a connection from the pool (see `begin_sql`).
    async fn begin(&self, op: &'static str) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.pool().begin_with(self.begin_sql()).await.map_err(q(op))
    }

    /// `begin` on a connection of one's own.
    async fn begin_on<'c>(&self, c: &'c mut AnyConnection, op: &'static str) -> Result<sqlx::Transaction<'c, Any>> {
        c.begin_with(self.begin_sql()).await.map_err(q(op))
    }

    /// A connection from the pool, for several statements in a row.
    async fn acquire(&self, op: &'static str) -> Result<PoolConnection<Any>> {
        self.pool().acquire().await.map_err(q(op))
    }

    /// A connection for one of the API's frequent statements: on SQLite without the pool's
    /// ping when it is given back ([`Conn::keep`]; see `conns`), on PostgreSQL from the pool.
    async fn conn(&self, op: &'static str) -> Result<Conn<'_>> {
        if self.inner.backend == Backend::Postgres {
            return Ok(Conn::Pooled(self.acquire(op).await?));
        }
        let conns = &self.inner.conns;
        let (permit, idle) = conns.take().await;
        let conn = match idle {
            Some(c) => c,
            None => self.acquire(op).await?.detach(),
        };
        Ok(Conn::Kept { conn: Some(conn), conns, _permit: permit })
    }

    /// Inside a transaction: NOTIFY on PostgreSQL (delivered at commit); nothing on SQLite.
    async fn notify_in(&self, tx: &mut AnyConnection, channel: &str, op: &'static str) -> Result<()> {
        if self.inner.backend == Backend::Postgres {
            tx.execute(format!("NOTIFY {channel}").as_str()).await.map_err(q(op))?;
        }
        Ok(())
    }

    /// Inside a transaction: NOTIFY `judge_change` with the submission's id (and ` done` when
    /// `done`) on PostgreSQL (delivered at commit); nothing on SQLite. After the commit, call
    /// `changed(id, done)`.
    async fn notify_change_in(&self, tx: &mut AnyConnection, id: i64, done: bool, op: &'static str) -> Result<()> {
        if self.inner.backend == Backend::Postgres {
            let payload = if done { format!("{id} done") } else { id.to_string() };
            sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL_CHANGE).bind(payload).execute(&mut *tx).await.map_err(q(op))?;
        }
        Ok(())
    }

    /// `sql`, an `UPDATE submissions … RETURNING id, …`, as one statement that on PostgreSQL
    /// also notifies `judge_change` with the id (delivered at commit, as `notify_change_in`
    /// does). A worker's writes are such single statements: no BEGIN/COMMIT round trips, which
    /// on SQLite are each a hop to sqlx's connection thread and back. After it, `changed`.
    fn notifying_change(&self, sql: &str, done: bool) -> String {
        let payload = if done { "CAST(changed.id AS TEXT) || ' done'" } else { "CAST(changed.id AS TEXT)" };
        self.notifying(sql, CHANNEL_CHANGE, payload)
    }

    /// `sql`, a statement `… RETURNING …` (as `changed`), as one statement that on PostgreSQL
    /// also sends NOTIFY on `channel` with the SQL expression `payload` once per row.
    fn notifying(&self, sql: &str, channel: &str, payload: &str) -> String {
        match self.inner.backend {
            Backend::Sqlite => sql.to_owned(),
            // pg_notify returns void, which the Any driver cannot decode: it is counted instead.
            Backend::Postgres => format!(
                "WITH changed AS ({sql}) SELECT changed.* FROM changed, \
                 LATERAL (SELECT COUNT(*) AS n FROM (SELECT pg_notify('{channel}', {payload})) AS x) AS notified"
            ),
        }
    }

    /// Tells this process's subscribers that submission `id` changed (`done`: it was finished).
    fn changed(&self, id: i64, done: bool) {
        // No subscriber is not an error.
        self.inner.wakes.changes.changed(Some(Change { id, done }));
    }

    async fn migrate(&self) -> Result<()> {
        let op = "schema upgrade";
        let mut tx = self.begin(op).await?;
        if self.inner.backend == Backend::Postgres {
            sqlx::query("SELECT COUNT(*) AS n FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(SCHEMA_LOCK_KEY)
                .fetch_one(&mut *tx)
                .await
                .map_err(q(op))?;
        }
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)").await.map_err(q(op))?;
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version").fetch_one(&mut *tx).await.map_err(q(op))?;
        let found = found.unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found, known: SCHEMA_VERSION });
        }
        for (i, statements) in migrations(self.inner.backend).into_iter().enumerate() {
            let version = i as i64 + 1;
            if version <= found {
                continue;
            }
            for s in statements {
                tx.execute(s.as_str()).await.map_err(q(op))?;
            }
        }
        if found < SCHEMA_VERSION {
            tx.execute("DELETE FROM schema_version").await.map_err(q(op))?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)").bind(SCHEMA_VERSION).execute(&mut *tx).await.map_err(q(op))?;
        }
        tx.commit().await.map_err(q(op))
    }

    // --- settings: what workers on other machines learn through the database ---

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await
            .map_err(q("set setting"))?;
        Ok(())
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(q("read setting"))
    }

    // --- tokens (sha256 at rest) ---

    /// Creates a token with this role; returns the token itself (shown once, stored hashed).
    pub async fn add_token(&self, role: Role, note: &str) -> Result<String> {
        let token = format!("jdg_{}", random_hex(32));
        sqlx::query("INSERT INTO tokens (hash, role, note, created_ms) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(role.as_str())
            .bind(note)
            .bind(now_ms())
            .execute(self.pool())
            .await
            .map_err(q("add token"))?;
        Ok(token)
    }

    /// The role of a presented token, `None` when unknown.
    pub async fn token_role(&self, token: &str) -> Result<Option<Role>> {
        let hash = token_hash(token);
        let op = "look up token";
        let mut c = self.conn(op).await?;
        let r = sqlx::query_scalar("SELECT role FROM tokens WHERE hash = $1").bind(&hash).fetch_optional(&mut *c).await;
        let role: Option<String> = c.keep(r).map_err(q(op))?;
        match role {
            None => Ok(None),
            Some(r) => Role::parse(&r)
                .map(Some)
                .ok_or(StoreError::CorruptRow { what: "role of token", key: hash[..12].to_owned(), reason: r }),
        }
    }

    // --- problems and packages ---

    /// Stores a package version (idempotent on `version`) and makes it `name`'s current version.
    pub async fn put_problem(&self, name: &str, version: &str, title: Option<&str>, test_count: i64, package: &[u8]) -> Result<ProblemVersion> {
        let op = "store problem";
        let mut tx = self.begin(op).await?;
        sqlx::query("INSERT INTO packages (version, bytes) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING")
            .bind(version)
            .bind(package)
            .execute(&mut *tx)
            .await
            .map_err(q(op))?;
        sqlx::query(
            "INSERT INTO problem_versions (name, version, title, test_count, size_bytes, created_ms) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(name)
        .bind(version)
        .bind(title)
        .bind(test_count)
        .bind(package.len() as i64)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        sqlx::query("INSERT INTO problems (name, version) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET version = excluded.version")
            .bind(name)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(q(op))?;
        let row = sqlx::query(
            "SELECT name, version, title, test_count, size_bytes, created_ms, 1 AS current FROM problem_versions \
             WHERE name = $1 AND version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_one(&mut *tx)
        .await
        .map_err(q(op))?;
        let pv = problem_version(&row)?;
        tx.commit().await.map_err(q(op))?;
        Ok(pv)
    }

    /// The current version of every problem that has one (not deleted), by name.
    pub async fn problems(&self) -> Result<Vec<ProblemVersion>> {
        let rows = sqlx::query(
            "SELECT v.name, v.version, v.title, v.test_count, v.size_bytes, v.created_ms, 1 AS current \
             FROM problems p JOIN problem_versions v ON v.name = p.name AND v.version = p.version ORDER BY p.name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(q("list problems"))?;
        rows.iter().map(problem_version).collect()
    }

    /// Every stored version of `name`, newest first (the current one has `current: true`).
    pub async fn problem_versions(&self, name: &str) -> Result<Vec<ProblemVersion>> {
        let rows = sqlx::query(
            "SELECT v.name, v.version, v.title, v.test_count, v.size_bytes, v.created_ms, \
             CASE WHEN p.version IS NULL THEN 0 ELSE 1 END AS current \
             FROM problem_versions v LEFT JOIN problems p ON p.name = v.name AND p.version = v.version \
             WHERE v.name = $1 ORDER BY v.created_ms DESC, v.version",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await
        .map_err(q("list problem versions"))?;
        rows.iter().map(problem_version).collect()
    }

    /// The current version of `name`.
    pub async fn current_problem(&self, name: &str) -> Result<Option<ProblemVersion>> {
        let op = "read problem";
        let mut c = self.conn(op).await?;
        let r = sqlx::query(
            "SELECT v.name, v.version, v.title, v.test_count, v.size_bytes, v.created_ms, 1 AS current \
             FROM problems p JOIN problem_versions v ON v.name = p.name AND v.version = p.version WHERE p.name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *c)
        .await;
        let row = c.keep(r).map_err(q(op))?;
        row.as_ref().map(problem_version).transpose()
    }

    /// Deletes `name` for new submissions (no current version any more); stored versions
    /// and past submissions stay. False when there was no such problem.
    pub async fn delete_problem(&self, name: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM problems WHERE name = $1").bind(name).execute(self.pool()).await.map_err(q("delete problem"))?;
        Ok(r.rows_affected() > 0)
    }

    /// The stored package (gzipped tar) of a version.
    pub async fn package(&self, version: &str) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT bytes FROM packages WHERE version = $1")
            .bind(version)
            .fetch_optional(self.pool())
            .await
            .map_err(q("read package"))
    }

    // --- submissions ---

    /// Stores submissions in one transaction (all or none) and wakes idle workers; ids in order.
    /// A submission without a version is judged on its problem's current version, read in its
    /// insert: a problem with no current version fails the whole call with `NoSuchProblem`.
    pub async fn create_submissions(&self, subs: &[NewSubmission]) -> Result<Vec<i64>> {
        let op = "create submissions";
        if subs.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        const COLUMNS: &str = "problem, version, language, source, all_tests, callback_url, status, created_ms, attempts, judged_count";
        let given = format!("INSERT INTO submissions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, 0, 0) RETURNING id");
        // One statement instead of a lookup and an insert: one round trip less, and the
        // version cannot change in between.
        let current = format!(
            "INSERT INTO submissions ({COLUMNS}) \
             SELECT p.name, p.version, $2, $3, $4, $5, 'queued', $6, 0, 0 FROM problems p WHERE p.name = $1 RETURNING id"
        );
        let insert_sql = |s: &NewSubmission| if s.version.is_some() { &given } else { &current };
        fn insert<'q>(sql: &'q str, s: &'q NewSubmission, now: i64) -> sqlx::query::QueryScalar<'q, Any, i64, sqlx::any::AnyArguments<'q>> {
            let q = sqlx::query_scalar(sql).bind(&s.problem);
            let q = match &s.version {
                Some(v) => q.bind(v),
                None => q,
            };
            q.bind(&s.language).bind(&s.source).bind(s.all_tests as i64).bind(s.callback_url.as_deref()).bind(now)
        }
        let no_problem = |index: usize| StoreError::NoSuchProblem { index, name: subs[index].problem.clone() };
        if let [s] = subs {
            // One is one statement (with its NOTIFY on PostgreSQL): no BEGIN/COMMIT round trips.
            let sql = self.notifying(insert_sql(s), CHANNEL_QUEUE, "''");
            let mut c = self.conn(op).await?;
            let r = insert(&sql, s, now).fetch_optional(&mut *c).await;
            let id = c.keep(r).map_err(q(op))?.ok_or_else(|| no_problem(0))?;
            wake(&self.inner.wakes.work);
            return Ok(vec![id]);
        }
        let mut tx = self.begin(op).await?;
        let mut ids = Vec::with_capacity(subs.len());
        for (i, s) in subs.iter().enumerate() {
            let id = insert(insert_sql(s), s, now).fetch_optional(&mut *tx).await.map_err(q(op))?;
            ids.push(id.ok_or_else(|| no_problem(i))?);
        }
        self.notify_in(&mut tx, CHANNEL_QUEUE, op).await?;
        tx.commit().await.map_err(q(op))?;
        wake(&self.inner.wakes.work);
        Ok(ids)
    }

    /// A submission with its test results (those of its latest attempt).
    pub async fn submission(&self, id: i64) -> Result<Option<Submission>> {
        let op = "read submission";
        let mut c = self.conn(op).await?;
        let r = sqlx::query(&format!("SELECT {SUBMISSION_COLUMNS}, result, progress FROM submissions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *c)
            .await;
        let Some(row) = c.keep(r).map_err(q(op))? else { return Ok(None) };
        let mut s = submission_row(&row)?;
        let result: Option<String> = get(&row, "result")?;
        s.tests = match result {
            Some(json) => {
                let r: SubmissionResult =
                    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt { what: "result", id, reason: e.to_string() })?;
                r.tests
            }
            None => progress_tests(id, get::<Option<String>>(&row, "progress")?.as_deref(), 0)?,
        };
        Ok(Some(s))
    }

    /// Submissions matching the filter, newest first, without their per-test results.
    pub async fn list_submissions(&self, filter: &SubmissionFilter) -> Result<Vec<Submission>> {
        let mut conds: Vec<String> = Vec::new();
        let mut text: Vec<String> = Vec::new();
        let mut n = 0;
        let mut param = |conds: &mut Vec<String>, col: &str| {
            n += 1;
            conds.push(format!("{col} = ${n}"));
        };
        if let Some(p) = &filter.problem {
            param(&mut conds, "problem");
            text.push(p.clone());
        }
        if let Some(s) = filter.status {
            param(&mut conds, "status");
            text.push(s.as_str().to_owned());
        }
        if let Some(v) = filter.verdict {
            param(&mut conds, "verdict");
            text.push(v.as_str().to_owned());
        }
        if let Some(l) = &filter.language {
            param(&mut conds, "language");
            text.push(l.clone());
        }
        let n = text.len();
        let mut sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions");
        if filter.before_id.is_some() {
            conds.push(format!("id < ${}", n + 1));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        let limit_param = n + 1 + filter.before_id.is_some() as usize;
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${limit_param}"));
        let mut query = sqlx::query(&sql);
        for t in &text {
            query = query.bind(t.as_str());
        }
        if let Some(b) = filter.before_id {
            query = query.bind(b);
        }
        query = query.bind(filter.limit.unwrap_or(100).clamp(1, 1000));
        let rows = query.fetch_all(self.pool()).await.map_err(q("list submissions"))?;
        rows.iter().map(submission_row).collect()
    }

    /// Puts a submission back in the queue (any lease on it is lost). False if no such id.
    pub async fn rejudge(&self, id: i64) -> Result<bool> {
        let op = "rejudge";
        let mut tx = self.begin(op).await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'queued', verdict = NULL, score = NULL, result = NULL, error = NULL, \
             compile_message = NULL, max_cpu_time_ms = NULL, max_memory_bytes = NULL, time_limit_ms = NULL, finished_ms = NULL, \
             lease_id = NULL, lease_worker = NULL, lease_expires_ms = NULL, progress = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        self.notify_in(&mut tx, CHANNEL_QUEUE, op).await?;
        self.notify_change_in(&mut tx, id, false, op).await?;
        tx.commit().await.map_err(q(op))?;
        wake(&self.inner.wakes.work);
        self.changed(id, false);
        Ok(true)
    }

    /// Test results of the submission's current attempt with index >= `from_index`, in order,
    /// and the submission's status (for SSE streams).
    pub async fn test_results_from(&self, id: i64, from_index: i64) -> Result<(Status, Vec<TestResult>)> {
        let op = "read test results";
        let mut c = self.conn(op).await?;
        let r = sqlx::query("SELECT status, result, progress FROM submissions WHERE id = $1").bind(id).fetch_optional(&mut *c).await;
        let row = c.keep(r).map_err(q(op))?;
        let Some(row) = row else {
            return Err(StoreError::Query { op, source: sqlx::Error::RowNotFound });
        };
        let status: String = get(&row, "status")?;
        let status = Status::parse(&status).ok_or(StoreError::Corrupt { what: "status", id, reason: status })?;
        match get::<Option<String>>(&row, "result")? {
            Some(json) => {
                let r: SubmissionResult =
                    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt { what: "result", id, reason: e.to_string() })?;
                let from = usize::try_from(from_index.max(0)).unwrap_or(usize::MAX);
                Ok((status, r.tests.into_iter().skip(from).collect()))
            }
            None => Ok((status, progress_tests(id, get::<Option<String>>(&row, "progress")?.as_deref(), from_index)?)),
        }
    }

    // --- the queue, worker side ---

    /// Claims the oldest queued submission, or one whose lease expired; status becomes
    /// `compiling`, attempts +1, its earlier partial test results are dropped.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        let mut c = self.acquire("claim").await?;
        self.claim_on(&mut c, worker, lease, true).await
    }

    /// `claim` on connection `c`. With `probe`, a plain read first, so that an idle worker's
    /// poll of an empty queue takes no write lock; without (the worker's last claim found one,
    /// so the queue is likely not empty), the claim is a single statement.
    async fn claim_on(&self, c: &mut AnyConnection, worker: &str, lease: Duration, probe: bool) -> Result<Option<Claim>> {
        let op = "claim";
        let now = now_ms();
        let lease_id = random_hex(16);
        if probe {
            let waiting: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM submissions WHERE status = 'queued' \
                 OR (status IN ('compiling', 'running') AND lease_expires_ms < $1) LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(q(op))?;
            if waiting.is_none() {
                return Ok(None);
            }
        }
        // One statement, so one transaction: on SQLite a write statement takes the database's
        // write lock before it reads; on PostgreSQL the row lock skips rows other workers hold.
        let lock = match self.inner.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = self.notifying_change(&format!(
            "UPDATE submissions SET status = 'compiling', attempts = attempts + 1, lease_id = $1, lease_worker = $2, \
             lease_expires_ms = $3, compile_message = NULL, progress = NULL \
             WHERE id = (SELECT id FROM submissions WHERE status = 'queued' \
                         OR (status IN ('compiling', 'running') AND lease_expires_ms < $4) ORDER BY id LIMIT 1{lock}) \
             RETURNING id, attempts, problem, version, language, source, all_tests, callback_url"
        ), false);
        let row = sqlx::query(&sql)
            .bind(&lease_id)
            .bind(worker)
            .bind(now.saturating_add(lease.as_millis() as i64))
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(q(op))?;
        let Some(row) = row else { return Ok(None) };
        let claim = Claim {
            submission_id: get(&row, "id")?,
            lease_id,
            worker: worker.to_owned(),
            attempt: get(&row, "attempts")?,
            problem: get(&row, "problem")?,
            version: get(&row, "version")?,
            language: get(&row, "language")?,
            source: get(&row, "source")?,
            all_tests: get::<i64>(&row, "all_tests")? != 0,
            has_callback: get::<Option<String>>(&row, "callback_url")?.is_some(),
        };
        self.changed(claim.submission_id, false);
        Ok(Some(claim))
    }

    /// Extends the lease. False when the lease was lost.
    pub async fn heartbeat(&self, claim: &Claim, lease: Duration) -> Result<bool> {
        let r = sqlx::query("UPDATE submissions SET lease_expires_ms = $1 WHERE id = $2 AND lease_id = $3")
            .bind(now_ms().saturating_add(lease.as_millis() as i64))
            .bind(claim.submission_id)
            .bind(&claim.lease_id)
            .execute(self.pool())
            .await
            .map_err(q("heartbeat"))?;
        Ok(r.rows_affected() > 0)
    }

    /// Compiled: status `running` and the compile message. False when the lease was lost.
    pub async fn set_running(&self, claim: &Claim, compile_message: &str) -> Result<bool> {
        self.add_progress(claim, Some(compile_message), &[]).await
    }

    /// One test's result, `index` from 0. False when the lease was lost.
    pub async fn add_test_result(&self, claim: &Claim, index: i64, result: &TestResult) -> Result<bool> {
        self.add_progress(claim, None, &[(index, result.clone())]).await
    }

    /// Progress in one statement: `running` with the compile message (when given), then test
    /// results by index, appended to the row's `progress` under the lease. What a worker has
    /// at once goes in one write, so a problem with many fast tests costs a few writes, not one
    /// per test. False when the lease was lost.
    ///
    /// One UPDATE of the claimed row is atomic with its lease check on both databases (on
    /// PostgreSQL the row lock makes a concurrent claim wait, then the check sees its lease),
    /// so no transaction is needed.
    pub async fn add_progress(&self, claim: &Claim, running: Option<&str>, tests: &[(i64, TestResult)]) -> Result<bool> {
        let mut c = self.acquire("store progress").await?;
        self.add_progress_on(&mut c, claim, running, tests).await
    }

    async fn add_progress_on(
        &self,
        c: &mut AnyConnection,
        claim: &Claim,
        running: Option<&str>,
        tests: &[(i64, TestResult)],
    ) -> Result<bool> {
        let op = "store progress";
        let lines = progress_lines(claim.submission_id, tests)?;
        let mut sets = Vec::new();
        if running.is_some() {
            sets.push("status = 'running', compile_message = $3".to_owned());
        }
        if !tests.is_empty() {
            sets.push(format!("progress = COALESCE(progress, '') || ${}", 3 + running.is_some() as usize));
        }
        if sets.is_empty() {
            return Ok(true);
        }
        let sql = self.notifying_change(&format!("UPDATE submissions SET {} WHERE id = $1 AND lease_id = $2 RETURNING id", sets.join(", ")), false);
        let mut query = sqlx::query(&sql).bind(claim.submission_id).bind(&claim.lease_id);
        if let Some(message) = running {
            query = query.bind(message);
        }
        if !tests.is_empty() {
            query = query.bind(lines);
        }
        let held = query.fetch_optional(&mut *c).await.map_err(q(op))?.is_some();
        if held {
            self.changed(claim.submission_id, false);
        }
        Ok(held)
    }

    /// Stores the final outcome under the lease and queues the callback (if any), atomically:
    /// one UPDATE, or a transaction when there is a callback to queue. False when the lease
    /// was lost (nothing is written then).
    pub async fn finish(&self, claim: &Claim, outcome: &Outcome) -> Result<bool> {
        let mut c = self.acquire("finish").await?;
        self.finish_on(&mut c, claim, outcome).await
    }

    async fn finish_on(&self, c: &mut AnyConnection, claim: &Claim, outcome: &Outcome) -> Result<bool> {
        let op = "finish";
        let id = claim.submission_id;
        let now = now_ms();
        const DONE: &str = "status = 'done', finished_ms = $1, judged_count = judged_count + 1, \
                            lease_id = NULL, lease_worker = NULL, lease_expires_ms = NULL";
        // The stored result holds every test; a JE keeps the partial ones to show.
        let (sql, json) = match outcome {
            Outcome::Judged(r) => (
                format!(
                    "UPDATE submissions SET {DONE}, verdict = $2, score = $3, result = $4, error = NULL, compile_message = $5, \
                     max_cpu_time_ms = $6, max_memory_bytes = $7, time_limit_ms = $8, progress = NULL \
                     WHERE id = $9 AND lease_id = $10 RETURNING id, callback_url"
                ),
                serde_json::to_string(r).map_err(|e| StoreError::Corrupt { what: "result", id, reason: e.to_string() })?,
            ),
            Outcome::JudgeError(_) => (
                format!(
                    "UPDATE submissions SET {DONE}, verdict = $2, score = $3, result = NULL, error = $4 \
                     WHERE id = $5 AND lease_id = $6 RETURNING id, callback_url"
                ),
                String::new(),
            ),
        };
        // Without a callback the UPDATE is all there is: one statement (with its notification).
        let sql = if claim.has_callback { sql } else { self.notifying_change(&sql, true) };
        let query = match outcome {
            Outcome::Judged(r) => sqlx::query(&sql)
                .bind(now)
                .bind(r.verdict.as_str())
                .bind(r.score)
                .bind(json.as_str())
                .bind(&r.compile_message)
                .bind(to_i64(r.max_cpu_time_ms))
                .bind(to_i64(r.max_memory_bytes))
                .bind(to_i64(r.time_limit_ms)),
            Outcome::JudgeError(message) => sqlx::query(&sql).bind(now).bind(Verdict::JE.as_str()).bind(0.0f64).bind(message.as_str()),
        };
        let query = query.bind(id).bind(&claim.lease_id);
        let mut queued_callback = false;
        if claim.has_callback {
            let mut tx = self.begin_on(c, op).await?;
            let Some(row) = query.fetch_optional(&mut *tx).await.map_err(q(op))? else {
                tx.rollback().await.map_err(q(op))?;
                return Ok(false);
            };
            if let Some(url) = get::<Option<String>>(&row, "callback_url")? {
                sqlx::query("INSERT INTO callbacks (submission_id, url, attempts, next_ms) VALUES ($1, $2, 0, $3)")
                    .bind(id)
                    .bind(url)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(op))?;
                self.notify_in(&mut tx, CHANNEL_CALLBACKS, op).await?;
                queued_callback = true;
            }
            self.notify_change_in(&mut tx, id, true, op).await?;
            tx.commit().await.map_err(q(op))?;
        } else if query.fetch_optional(&mut *c).await.map_err(q(op))?.is_none() {
            return Ok(false);
        }
        self.changed(id, true);
        if queued_callback {
            wake(&self.inner.wakes.callbacks);
        }
        Ok(true)
    }

    /// A connection for one worker's writes: see [`WorkerConn`].
    pub fn worker_conn(&self) -> WorkerConn {
        WorkerConn { store: self.clone(), conn: None }
    }

    /// Gives a claim back (its worker is stopping): the submission is queued again at once
    /// instead of when the lease expires; partial results are dropped. False when the lease
    /// was lost already.
    pub async fn release(&self, claim: &Claim) -> Result<bool> {
        let op = "release claim";
        let mut tx = self.begin(op).await?;
        let r = sqlx::query(
            "UPDATE submissions SET status = 'queued', compile_message = NULL, lease_id = NULL, lease_worker = NULL, \
             lease_expires_ms = NULL, progress = NULL WHERE id = $1 AND lease_id = $2",
        )
        .bind(claim.submission_id)
        .bind(&claim.lease_id)
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        self.notify_in(&mut tx, CHANNEL_QUEUE, op).await?;
        self.notify_change_in(&mut tx, claim.submission_id, false, op).await?;
        tx.commit().await.map_err(q(op))?;
        wake(&self.inner.wakes.work);
        self.changed(claim.submission_id, false);
        Ok(true)
    }

    /// Waits until a submission may be waiting (a NOTIFY or local wake) or `timeout` passes.
    pub async fn wait_for_work(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.wakes.work.notified()).await;
    }

    /// Waits until a callback may have been queued (a finished submission with a
    /// `callback_url`, here or through NOTIFY) or `timeout` passes. For the callback sender,
    /// which has nothing to do when other submissions merely progress.
    pub async fn wait_for_callbacks(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.wakes.callbacks.notified()).await;
    }

    /// Waits until some submission changed (a test result or a final result was stored,
    /// by any worker on any machine) or `timeout` passes. For `?wait=` and SSE streams.
    pub async fn wait_for_change(&self, timeout: Duration) {
        let mut rx = self.inner.wakes.changes.any.subscribe();
        let _ = tokio::time::timeout(timeout, rx.changed()).await;
    }

    /// A subscription to the changes of submission `id` (see [`Changes`]).
    pub fn changes(&self, id: i64) -> Changes {
        self.inner.wakes.changes.watch(id)
    }

    // --- workers (for /metrics) ---

    pub async fn worker_report(&self, info: &WorkerInfo) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (id, host, state, heartbeat_ms, judged) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET host = excluded.host, state = excluded.state, \
             heartbeat_ms = excluded.heartbeat_ms, judged = excluded.judged",
        )
        .bind(&info.id)
        .bind(&info.host)
        .bind(&info.state)
        .bind(info.heartbeat_ms)
        .bind(info.judged)
        .execute(self.pool())
        .await
        .map_err(q("report worker"))?;
        Ok(())
    }

    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        let rows = sqlx::query("SELECT id, host, state, heartbeat_ms, judged FROM workers ORDER BY id")
            .fetch_all(self.pool())
            .await
            .map_err(q("list workers"))?;
        rows.iter()
            .map(|r| {
                Ok(WorkerInfo {
                    id: get(r, "id")?,
                    host: get(r, "host")?,
                    state: get(r, "state")?,
                    heartbeat_ms: get(r, "heartbeat_ms")?,
                    judged: get(r, "judged")?,
                })
            })
            .collect()
    }

    // --- callbacks ---

    /// Callbacks due at `now_ms`, oldest first.
    pub async fn due_callbacks(&self, now_ms: i64, limit: i64) -> Result<Vec<Callback>> {
        let rows = sqlx::query(
            "SELECT id, submission_id, url, attempts, next_ms FROM callbacks WHERE next_ms <= $1 ORDER BY next_ms, id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit.max(0))
        .fetch_all(self.pool())
        .await
        .map_err(q("list due callbacks"))?;
        rows.iter()
            .map(|r| {
                Ok(Callback {
                    id: get(r, "id")?,
                    submission_id: get(r, "submission_id")?,
                    url: get(r, "url")?,
                    attempts: get(r, "attempts")?,
                    next_ms: get(r, "next_ms")?,
                })
            })
            .collect()
    }

    /// Delivered: removes it.
    pub async fn callback_delivered(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM callbacks WHERE id = $1").bind(id).execute(self.pool()).await.map_err(q("remove callback"))?;
        Ok(())
    }

    /// Failed: attempts +1 and the next try at `next_ms`; after `give_up_after` attempts it is
    /// dropped (and logged by the caller).
    ///
    /// The store keeps no limit itself: the caller, which knows its `give_up_after`, gives up
    /// by calling `callback_delivered` (removing the row) once `attempts` reached it.
    pub async fn callback_failed(&self, id: i64, next_ms: i64) -> Result<()> {
        sqlx::query("UPDATE callbacks SET attempts = attempts + 1, next_ms = $1 WHERE id = $2")
            .bind(next_ms)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(q("reschedule callback"))?;
        Ok(())
    }

    // --- metrics ---
    // Each query reads an index only, not the submissions' rows: /metrics is scraped
    // periodically and must not cost more as the table grows (a test checks the plans).

    pub async fn queue_stats(&self) -> Result<QueueStats> {
        let op = "queue statistics";
        let mut stats = QueueStats::default();
        let rows = sqlx::query(STATUS_COUNTS)
            .fetch_all(self.pool())
            .await
            .map_err(q(op))?;
        for r in &rows {
            let n: i64 = get(r, "n")?;
            match Status::parse(&get::<String>(r, "status")?) {
                Some(Status::Queued) => stats.queued = n,
                Some(Status::Compiling) => stats.compiling = n,
                Some(Status::Running) => stats.running = n,
                Some(Status::Done) => stats.done = n,
                None => {}
            }
        }
        let rows = sqlx::query(VERDICT_COUNTS)
            .fetch_all(self.pool())
            .await
            .map_err(q(op))?;
        for r in &rows {
            stats.verdicts.push((get(r, "verdict")?, get(r, "n")?));
        }
        stats.callbacks_pending = sqlx::query_scalar("SELECT COUNT(*) FROM callbacks").fetch_one(self.pool()).await.map_err(q(op))?;
        Ok(stats)
    }

    /// Judging latency (finished_ms - created_ms) of submissions finished since `since_ms`,
    /// for the latency summary in `/metrics`. Only a finished submission has `finished_ms`
    /// (a rejudge clears it), and with no other condition the query reads the `finished_ms`
    /// index from `since_ms` on instead of every finished row.
    pub async fn recent_latencies_ms(&self, since_ms: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar(RECENT_LATENCIES)
            .bind(since_ms)
            .fetch_all(self.pool())
            .await
            .map_err(q("recent latencies"))
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The LISTEN task of a PostgreSQL store: turns notifications into local wakes. When the
/// connection drops it wakes everyone (notifications may have been missed) and reconnects.
async fn listen(mut listener: sqlx::postgres::PgListener, url: String, wakes: Wakes) {
    // Notifications may have been missed: wake everyone (they re-read).
    let wake_all = |w: &Wakes| {
        wake(&w.work);
        wake(&w.callbacks);
        w.changes.changed(None);
    };
    loop {
        match listener.listen_all([CHANNEL_QUEUE, CHANNEL_CHANGE, CHANNEL_CALLBACKS]).await {
            Ok(()) => loop {
                match listener.try_recv().await {
                    Ok(Some(n)) if n.channel() == CHANNEL_QUEUE => wake(&wakes.work),
                    Ok(Some(n)) if n.channel() == CHANNEL_CALLBACKS => wake(&wakes.callbacks),
                    Ok(Some(n)) => {
                        wakes.changes.changed(Change::parse(n.payload()));
                    }
                    Ok(None) => {
                        // Lost and reconnected by the next call: anything sent meanwhile is gone.
                        tracing::warn!("database notifications: connection lost, reconnecting");
                        wake_all(&wakes);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "database notifications");
                        wake_all(&wakes);
                        break;
                    }
                }
            },
            Err(e) => tracing::warn!(error = %e, "database notifications: LISTEN"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(l) => listener = l,
            Err(e) => tracing::warn!(error = %e, "database notifications: reconnect"),
        }
    }
}

/// A worker's own connection for its writes (claim, progress, finish), opened with the
/// pool's options but not part of the pool.
///
/// Why not the pool: sqlx tests every connection given back to a pool with a ping before
/// it may be reused (on SQLite a round trip to the connection's thread, on PostgreSQL to the
/// server), which doubles the cost of each of these small writes, and on a busy machine each
/// round trip waits for a CPU that a box is using. One connection per worker also means a
/// PostgreSQL server sees one connection per worker plus each process's pool.
///
/// On SQLite its commits are `synchronous = NORMAL`: not synced to disk one by one, but
/// with the next synced commit (every API write, such as a new submission, stays `FULL`) or
/// checkpoint. A killed process loses none of them (they are in the WAL file); a power loss
/// or OS crash may undo the last ones, which only takes a submission back to an earlier
/// state of its judging: claimed or finished becomes queued or running again, and it is
/// judged again (its callback, undone with it, is queued again then). Syncing each of a
/// worker's half-dozen writes per submission cost ~3 ms per submission on this machine's
/// disk, most of what the service added on top of judging.
///
/// After an error the connection is dropped (it may be broken); the next write takes a new one.
pub struct WorkerConn {
    store: Store,
    conn: Option<AnyConnection>,
}

impl WorkerConn {
    async fn conn(&mut self, op: &'static str) -> Result<&mut AnyConnection> {
        let c = match self.conn.take() {
            Some(c) => c,
            None => {
                // A new connection, not one of the pool's: on SQLite its thread is started
                // by this call, so it inherits the caller's CPU affinity (a worker pinned to
                // its CPU talks to a connection thread on the same CPU).
                use sqlx::ConnectOptions;
                let mut c = self.store.pool().connect_options().connect().await.map_err(q(op))?;
                if self.store.inner.backend == Backend::Sqlite {
                    sqlite_settings(&mut c, "NORMAL").await.map_err(q(op))?;
                }
                c
            }
        };
        Ok(self.conn.insert(c))
    }

    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    /// [`Store::claim`]; with `probe` false (the worker's last claim found a submission)
    /// without the plain read first.
    pub async fn claim(&mut self, worker: &str, lease: Duration, probe: bool) -> Result<Option<Claim>> {
        let store = self.store.clone();
        let r = store.claim_on(self.conn("claim").await?, worker, lease, probe).await;
        self.check(r)
    }

    /// [`Store::add_progress`].
    pub async fn add_progress(&mut self, claim: &Claim, running: Option<&str>, tests: &[(i64, TestResult)]) -> Result<bool> {
        let store = self.store.clone();
        let r = store.add_progress_on(self.conn("store progress").await?, claim, running, tests).await;
        self.check(r)
    }

    /// [`Store::finish`].
    pub async fn finish(&mut self, claim: &Claim, outcome: &Outcome) -> Result<bool> {
        let store = self.store.clone();
        let r = store.finish_on(self.conn("finish").await?, claim, outcome).await;
        self.check(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_are_durable_wal_with_a_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(&dir.path().join("x y%?#"))).await.unwrap();
        for _ in 0..3 {
            let mut c = store.pool().acquire().await.unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *c).await.unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *c).await.unwrap();
            assert_eq!(mode, "wal");
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *c).await.unwrap();
            assert_eq!(busy, SQLITE_BUSY_TIMEOUT_MS as i64);
        }
        assert!(dir.path().join("x y%?#/judge.db").is_file(), "odd characters in the path are kept");

        // A worker's own connection commits without a sync each (see `WorkerConn`); the
        // pool's stay FULL.
        let mut worker = store.worker_conn();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(worker.conn("test").await.unwrap()).await.unwrap();
        assert_eq!(sync, 1, "synchronous = NORMAL");
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(worker.conn("test").await.unwrap()).await.unwrap();
        assert_eq!(busy, SQLITE_BUSY_TIMEOUT_MS as i64);
        for _ in 0..9 {
            let mut c = store.pool().acquire().await.unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *c).await.unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
        }
    }

    #[tokio::test]
    async fn api_connections_are_kept_after_success_only_and_stay_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
        let idle = || store.inner.conns.idle_count();
        // A temporary table lives on its connection only: it tells the connection again.
        let mut c = store.conn("test").await.unwrap();
        let r = c.execute("CREATE TEMP TABLE mark (x INTEGER)").await;
        c.keep(r).unwrap();
        assert_eq!(idle(), 1);
        let mut c = store.conn("test").await.unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *c).await.unwrap();
        assert_eq!(sync, 2, "synchronous = FULL, as the pool's connections");
        let r = sqlx::query("SELECT COUNT(*) FROM mark").fetch_one(&mut *c).await;
        c.keep(r).expect("the same connection again");
        // A failed statement closes its connection; so does one never kept (a dropped future).
        let mut c = store.conn("test").await.unwrap();
        let r = c.execute("SELECT nothing FROM nowhere").await;
        assert!(c.keep(r).is_err());
        assert_eq!(idle(), 0);
        let mut c = store.conn("test").await.unwrap();
        let r = sqlx::query("SELECT COUNT(*) FROM mark").fetch_one(&mut *c).await;
        assert!(r.is_err(), "a new connection: no table mark");
        drop(c);
        assert_eq!(idle(), 0);
        // At most API_CONNECTIONS at once.
        let mut out = Vec::new();
        for _ in 0..API_CONNECTIONS {
            out.push(store.conn("test").await.unwrap());
        }
        assert!(tokio::time::timeout(Duration::from_millis(200), store.conn("test")).await.is_err(), "one more than the limit");
        drop(out);
        assert!(tokio::time::timeout(Duration::from_secs(10), store.conn("test")).await.is_ok());
    }

    /// /metrics' queries read an index, never every row of the submissions table.
    #[tokio::test]
    async fn metrics_queries_read_indexes_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
        for (sql, index) in [
            (STATUS_COUNTS, "COVERING INDEX submissions_status_id"),
            (VERDICT_COUNTS, "COVERING INDEX submissions_status_verdict"),
            (RECENT_LATENCIES, "INDEX submissions_finished"),
        ] {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(0i64)
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE FOR ORDER BY"), "{sql}: {plan}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(sqlite_path("sqlite:///a/b.db?mode=ro"), Some(("/a/b.db", Some("mode=ro"))));
        assert_eq!(sqlite_path("sqlite:rel.db"), Some(("rel.db", None)));
        assert_eq!(sqlite_path("postgres://x"), None);
        assert_eq!(redact("postgres://judge:secret@h:5432/db"), "postgres://judge:***@h:5432/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(token_hash("jdg_x").len(), 64);
        assert_eq!(decode_path(&encode_path("/a b/%?#/é")), "/a b/%?#/é");
        assert_eq!(decode_path("/a%zz%4"), "/a%zz%4");
    }
}

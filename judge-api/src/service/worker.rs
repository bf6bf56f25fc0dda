//! Workers: claim a submission, keep its lease alive, fetch and cache its problem package,
//! compile and judge it (on a thread of its own), store each test's result
//! and the final one under the lease. A worker whose lease was lost stops writing: its late
//! result is rejected by the store.
//!
//! What a worker adds per submission on top of the judging is kept small (BENCHMARKS.md):
//! each worker claims, judges and stores on a thread of its own (no hop through the async
//! runtime between submissions), each write is one statement on the worker's own connection
//! (`WorkerConn`), and the judging never waits for the database: the progress (each test's
//! result) is written in batches, at most every `progress_every`, by a task (`progress`).
//! `RUST_LOG=judge_api::service::worker=debug` logs each submission's claim, compile and
//! test times and its progress writes.
//!
//! A judging that already runs when its lease is lost (expired and taken over, or rejudged)
//! is not interrupted — the judge has no cancellation — but writes nothing more: its worker
//! waits for it (so a process never judges more than `count` submissions at once) and drops
//! the result.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, OnceCell};

use super::model::{now_ms, Claim, Outcome, WorkerInfo};
use super::package;
use super::store::{Store, StoreError, WorkerConn};
use super::settings;
use crate::judge::{Judge, JudgeOptions, PreparedProblem};
use crate::verdict::TestResult;
use progress::Progress;

mod progress;

/// How a group of workers runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Workers in this process; worker `i` pins its boxes to CPU `i % cores` when `pin_cpus`.
    pub count: usize,
    pub pin_cpus: bool,
    /// Lease length; heartbeats every third of it.
    pub lease: Duration,
    /// Where packages are cached unpacked, by version.
    pub cache_dir: PathBuf,
    /// Fetch packages from the service over HTTP (the URL and secret come from the database's
    /// settings) rather than reading them from the database directly.
    pub fetch_over_http: bool,
    /// Progress (each test's result as it is judged) is written at most this often per
    /// submission, in batches; a result waits at most this long (see `progress`).
    pub progress_every: Duration,
}

/// The default of [`WorkerConfig::progress_every`].
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error("fetch package {version} from {url}: {reason}")]
    Fetch { version: String, url: String, reason: String },
}

/// How long an idle worker waits for a wake before looking at the queue again.
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// How long a worker pauses after the store failed.
const STORE_BACKOFF: Duration = Duration::from_secs(2);
/// How often a worker's state is written to its row in `workers` when it changed (its row
/// is refreshed every `REPORT_REFRESH` anyway). Not per submission: those writes would sit on
/// the judging's critical path.
const REPORT_EVERY: Duration = Duration::from_secs(1);
const REPORT_REFRESH: Duration = Duration::from_secs(10);
/// Prepared problems kept per process.
const PREPARED_CACHE: usize = 8;
/// Tries of an HTTP package fetch before the submission is judged JE.
const FETCH_TRIES: u32 = 3;

/// Why judging a claim stopped without a result to store.
enum Failure {
    /// The store failed: nothing is written, the lease expires and another worker retries.
    Store(StoreError),
    /// The judge failed (package, language, sandbox): stored as JE with this message.
    Judge(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// What the workers of one process share.
struct Shared {
    store: Store,
    judge: Arc<Judge>,
    config: WorkerConfig,
    prepared: PreparedCache,
    http: reqwest::Client,
    host: String,
}

type PreparedSlot = Arc<OnceCell<Arc<PreparedProblem>>>;

/// A use counter, and per version: its last use and its (once) prepared problem.
#[derive(Default)]
struct Slots {
    tick: u64,
    by_version: HashMap<String, (u64, PreparedSlot)>,
}

/// Prepared problems by version, least recently used dropped first; the preparers of one
/// version wait for a single preparation.
struct PreparedCache {
    slots: Mutex<Slots>,
    capacity: usize,
}

impl PreparedCache {
    fn new(capacity: usize) -> Self {
        PreparedCache { slots: Mutex::new(Slots::default()), capacity }
    }

    fn slot(&self, version: &str) -> PreparedSlot {
        let mut guard = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let Slots { tick, by_version: map } = &mut *guard;
        *tick += 1;
        if let Some((used, cell)) = map.get_mut(version) {
            *used = *tick;
            return cell.clone();
        }
        if map.len() >= self.capacity {
            if let Some(oldest) = map.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        let cell = Arc::new(OnceCell::new());
        map.insert(version.to_owned(), (*tick, cell.clone()));
        cell
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Runs `config.count` workers until `shutdown` resolves; a submission being judged at that
/// moment is abandoned (its lease expires and another worker judges it again).
///
/// Abandoned submissions are given back with `Store::release`, so another worker takes them at
/// once; only if that fails does the lease have to expire first.
pub async fn run_workers(
    store: Store,
    judge: Arc<Judge>,
    config: WorkerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let shared = Arc::new(Shared {
        store,
        judge,
        prepared: PreparedCache::new(PREPARED_CACHE.max(config.count)),
        http: reqwest::Client::builder().timeout(Duration::from_secs(300)).build().unwrap_or_default(),
        host: host_name(),
        config,
    });
    let pid = std::process::id();
    let mut workers = Vec::new();
    for i in 0..shared.config.count {
        let cpus = shared.config.pin_cpus.then(|| vec![(i % cores) as u32]);
        let id = format!("{}-{pid}-{i}", shared.host);
        workers.push(tokio::spawn(worker_loop(shared.clone(), i, id, cpus, stop_rx.clone())));
    }
    for w in workers {
        if let Err(e) = w.await {
            tracing::error!(error = %e, "worker task ended abnormally");
        }
    }
    watcher.abort();
    Ok(())
}

/// Resolves once the stop signal was given (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn report(shared: &Shared, id: &str, state: &str, judged: i64) {
    let info = WorkerInfo { id: id.to_owned(), host: shared.host.clone(), state: state.to_owned(), heartbeat_ms: now_ms(), judged };
    if let Err(e) = shared.store.worker_report(&info).await {
        tracing::warn!(worker = id, error = %e, "report worker state");
    }
}

/// A worker's state as its reporter task writes it to the database.
struct WorkerState {
    /// 0 idle, 1 judging.
    judging: AtomicU8,
    /// Results stored.
    judged: AtomicI64,
}

impl WorkerState {
    fn name(&self) -> &'static str {
        if self.judging.load(Ordering::Relaxed) == 1 {
            "judging"
        } else {
            "idle"
        }
    }
}

/// Writes the worker's state when it changed (at most every `REPORT_EVERY`) and every
/// `REPORT_REFRESH`; until aborted.
async fn reporter(shared: Arc<Shared>, id: String, state: Arc<WorkerState>) {
    let mut last: Option<(&'static str, i64)> = None;
    let mut written = tokio::time::Instant::now();
    loop {
        let now = (state.name(), state.judged.load(Ordering::Relaxed));
        if last != Some(now) || written.elapsed() >= REPORT_REFRESH {
            report(&shared, &id, now.0, now.1).await;
            last = Some(now);
            written = tokio::time::Instant::now();
        }
        tokio::time::sleep(REPORT_EVERY).await;
    }
}

async fn worker_loop(shared: Arc<Shared>, index: usize, id: String, cpus: Option<Vec<u32>>, mut stop: watch::Receiver<bool>) {
    let state = Arc::new(WorkerState { judging: AtomicU8::new(0), judged: AtomicI64::new(0) });
    let _reporter = AbortOnDrop(tokio::spawn(reporter(shared.clone(), id.clone(), state.clone())));
    let held: Held = Arc::new(Mutex::new(None));
    let _heartbeats = AbortOnDrop(tokio::spawn(heartbeats(shared.store.clone(), held.clone(), shared.config.lease)));
    // The worker's own thread (named, pinned), joined from the blocking pool: as for any
    // blocking task, the runtime waits for it when it shuts down, so that a judging abandoned
    // on stop still ends in order (its boxes cleaned up) before the process exits.
    let thread = {
        let (shared, id, state, held, stop) = (shared.clone(), id.clone(), state.clone(), held.clone(), stop.clone());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let thread = std::thread::Builder::new().name(format!("judge-worker-{index}"));
            let spawned = thread.spawn(move || worker_thread(&shared, &id, cpus, stop, &state, &held, &handle));
            spawned.map_err(|e| format!("start the worker's thread: {e}"))?.join().map_err(|_| "the worker's thread panicked".to_owned())
        })
    };
    tokio::select! {
        ended = thread => {
            let ended = ended.map_err(|e| e.to_string()).and_then(|r| r);
            if let Err(e) = ended {
                tracing::error!(worker = %id, error = %e, "worker thread ended abnormally");
            }
        }
        _ = stopped(&mut stop) => {
            // A judging under way is abandoned: back to the queue now (or when its lease
            // expires if this fails). The thread stores nothing for it and stops.
            let abandoned = held.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(Holding { claim, .. }) = abandoned {
                let released = shared.store.release(&claim).await;
                tracing::info!(worker = %id, submission = claim.submission_id, ?released, "stopping: submission abandoned");
            }
        }
    }
    report(&shared, &id, "stopped", state.judged.load(Ordering::Relaxed)).await;
}

/// The claim a worker's thread is judging; taken by whichever comes first, the thread to
/// store its result or the stop to give it back. Its lease is kept alive meanwhile.
type Held = Arc<Mutex<Option<Holding>>>;

#[derive(Clone)]
struct Holding {
    claim: Arc<Claim>,
    /// Set when a heartbeat or a progress write found the lease lost.
    lost: Arc<AtomicBool>,
}

/// A worker: claims, judges and stores on one thread of its own, from one submission to the
/// next without a hop through the async runtime (whose thread serves HTTP meanwhile, so
/// each hop waited behind requests: ~1 ms per submission between one judging's end and the
/// next one's claim). Database round trips go to the worker connection's own thread and back.
///
/// With `cpus`, the thread runs on the CPUs its boxes are pinned to (`pin_current_thread`),
/// and so does its connection's thread (started from here).
fn worker_thread(
    shared: &Arc<Shared>,
    id: &str,
    cpus: Option<Vec<u32>>,
    mut stop: watch::Receiver<bool>,
    state: &WorkerState,
    held: &Held,
    handle: &tokio::runtime::Handle,
) {
    if let Some(cpus) = &cpus {
        // A failure only costs speed (the boxes are pinned anyway).
        if let Err(e) = crate::judge::pin_current_thread(cpus) {
            tracing::warn!(worker = %id, ?cpus, error = %e, "pin the worker's thread to its CPUs");
        }
    }
    let conn = Arc::new(tokio::sync::Mutex::new(shared.store.worker_conn()));
    // Whether the last claim found a submission: then the next claim skips the probe.
    let mut busy = false;
    while !*stop.borrow() {
        let claim_started = Instant::now();
        let claimed = handle.block_on(async { conn.lock().await.claim(id, shared.config.lease, !busy).await });
        let claimed_at = Instant::now();
        busy = matches!(claimed, Ok(Some(_)));
        match claimed {
            Ok(Some(claim)) => {
                let claim = Arc::new(claim);
                let claim_ms = (claimed_at - claim_started).as_secs_f64() * 1e3;
                tracing::debug!(worker = %id, submission = claim.submission_id, claim_ms, "claimed");
                let holding = Holding { claim: claim.clone(), lost: Arc::new(AtomicBool::new(false)) };
                *held.lock().unwrap_or_else(|e| e.into_inner()) = Some(holding.clone());
                if *stop.borrow() {
                    // Stopped while claiming: give it back here (the stop found nothing held).
                    if let Some(Holding { claim, .. }) = held.lock().unwrap_or_else(|e| e.into_inner()).take() {
                        let released = handle.block_on(shared.store.release(&claim));
                        tracing::info!(worker = %id, submission = claim.submission_id, ?released, "stopping: submission given back");
                    }
                    break;
                }
                state.judging.store(1, Ordering::Relaxed);
                let stored = judge_claim(shared, &conn, &holding, claimed_at, cpus.clone(), held, handle);
                state.judging.store(0, Ordering::Relaxed);
                if stored {
                    state.judged.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(None) => handle.block_on(async {
                tokio::select! {
                    _ = shared.store.wait_for_work(IDLE_WAIT) => {}
                    _ = stopped(&mut stop) => {}
                }
            }),
            Err(e) => {
                tracing::warn!(worker = %id, error = %e, "claim failed; backing off");
                handle.block_on(async {
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_BACKOFF) => {}
                        _ = stopped(&mut stop) => {}
                    }
                });
            }
        }
    }
}

/// Judges one claim and stores its outcome under the lease (unless the lease was lost, the
/// store failed, or the worker was stopped meanwhile: its claim was given back then); true
/// when stored.
fn judge_claim(
    shared: &Arc<Shared>,
    conn: &Arc<tokio::sync::Mutex<WorkerConn>>,
    holding: &Holding,
    claimed: Instant,
    cpus: Option<Vec<u32>>,
    held: &Held,
    handle: &tokio::runtime::Handle,
) -> bool {
    let Holding { claim, lost } = holding;
    let (sid, worker) = (claim.submission_id, &claim.worker);
    // A panic in the judge is this submission's JE, not the end of the worker.
    let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| judge_submission(shared, conn, claim, claimed, cpus, lost, handle)))
        .unwrap_or_else(|panic| {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            Err(Failure::Judge(format!("the judge panicked: {}", what.unwrap_or_default())))
        });
    let outcome = match judged {
        Ok(Some(result)) => Outcome::Judged(result),
        Ok(None) => {
            tracing::info!(submission = sid, %worker, "lease lost while judging; result dropped");
            return false;
        }
        Err(Failure::Judge(message)) => {
            tracing::warn!(submission = sid, error = %message, "judge error");
            Outcome::JudgeError(message)
        }
        Err(Failure::Store(e)) => {
            tracing::warn!(submission = sid, error = %e, "store failed while judging; the lease will expire and it is judged again");
            std::thread::sleep(STORE_BACKOFF);
            return false;
        }
    };
    if held.lock().unwrap_or_else(|e| e.into_inner()).take().is_none() {
        tracing::info!(submission = sid, %worker, "stopped while judging; result dropped (the submission was given back)");
        return false;
    }
    if lost.load(Ordering::SeqCst) {
        tracing::info!(submission = sid, %worker, "lease lost while judging; result dropped");
        return false;
    }
    let finishing = Instant::now();
    let finished = handle.block_on(async { conn.lock().await.finish(claim, &outcome).await });
    tracing::debug!(submission = sid, finish_ms = finishing.elapsed().as_secs_f64() * 1e3, "stored");
    match finished {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(submission = sid, %worker, "lease lost before the result was stored; result dropped");
            false
        }
        Err(e) => {
            tracing::warn!(submission = sid, error = %e, "storing the result failed; the lease will expire and it is judged again");
            std::thread::sleep(STORE_BACKOFF);
            false
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every third of the lease, extends the lease of the claim the worker holds, if any (a lost
/// one is marked lost). One task per worker, not per claim: nothing to start and stop for
/// each submission (each a wake-up of the async runtime's thread).
async fn heartbeats(store: Store, held: Held, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        let holding = held.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(Holding { claim, lost }) = holding else { continue };
        if lost.load(Ordering::SeqCst) {
            continue;
        }
        match store.heartbeat(&claim, lease).await {
            Ok(true) => {}
            Ok(false) => lost.store(true, Ordering::SeqCst),
            Err(e) => tracing::warn!(submission = claim.submission_id, error = %e, "heartbeat failed"),
        }
    }
}

/// Compiles and runs the submission (claimed at `claimed`) on this thread, its progress
/// written under the lease meanwhile. `Ok(None)` when the lease was lost on the way.
fn judge_submission(
    shared: &Arc<Shared>,
    conn: &Arc<tokio::sync::Mutex<WorkerConn>>,
    claim: &Arc<Claim>,
    claimed: Instant,
    cpus: Option<Vec<u32>>,
    lost: &Arc<AtomicBool>,
    handle: &tokio::runtime::Handle,
) -> Result<Option<crate::verdict::SubmissionResult>, Failure> {
    let prepared = handle.block_on(prepared_problem(shared, &claim.version))?;
    if lost.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let lang = shared.judge.languages().get(&claim.language).ok_or_else(|| {
        Failure::Judge(format!("unknown language {:?} (known: {})", claim.language, shared.judge.languages().ids().join(", ")))
    })?;
    let file_name = source_file_name(&claim.source, lang.extensions.first().map(String::as_str).unwrap_or("txt"), &lang.id);
    let opts = JudgeOptions { language: Some(lang.id.clone()), all_tests: claim.all_tests, cpus };

    // The progress is handed over as it comes and written in batches by a task (`progress`),
    // never waited for here. The source file is written and removed on this thread too: no
    // file system work on the async runtime's threads, which serve HTTP meanwhile (removing a
    // file can take a while: this disk is mounted with `discard`).
    let progress = Progress::new(conn.clone(), claim.clone(), lost.clone(), handle.clone(), shared.config.progress_every, claimed);
    let work = tempfile::Builder::new()
        .prefix("judge-submission-")
        .tempdir()
        .map_err(|e| Failure::Judge(format!("create a directory for the submission: {e}")))?;
    let source = work.path().join(file_name);
    std::fs::write(&source, &claim.source).map_err(|e| Failure::Judge(format!("write {}: {e}", source.display())))?;
    let started = Instant::now();
    let compiled = shared.judge.compile(&source, &opts).map_err(|e| Failure::Judge(e.to_string()))?;
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;
    progress.running(&compiled.compile_message);
    let mut index = 0i64;
    let result = shared.judge.run_tests(&prepared, &compiled, &opts, &mut |t: &TestResult| {
        progress.test(index, t);
        index += 1;
    });
    let written = progress.close();
    let tests_ms = started.elapsed().as_secs_f64() * 1e3 - compile_ms;
    let cleanup = Instant::now();
    drop((compiled, work));
    tracing::debug!(
        submission = claim.submission_id,
        compile_ms,
        tests_ms,
        cleanup_ms = cleanup.elapsed().as_secs_f64() * 1e3,
        progress_writes = written.writes,
        progress_writes_ms = written.write_time.as_secs_f64() * 1e3,
        "judged"
    );
    match result {
        Ok(result) if !lost.load(Ordering::SeqCst) => Ok(Some(result)),
        Ok(_) => Ok(None),
        Err(e) => Err(Failure::Judge(e.to_string())),
    }
}

/// The problem of a version, loaded and prepared once per process (while it stays cached).
async fn prepared_problem(shared: &Arc<Shared>, version: &str) -> Result<Arc<PreparedProblem>, Failure> {
    let cell = shared.prepared.slot(version);
    let prepared = cell
        .get_or_try_init(|| async {
            let root = package_root(shared, version).await?;
            let judge = shared.judge.clone();
            tokio::task::spawn_blocking(move || {
                let problem = crate::problem::load(&root).map_err(|e| format!("problem package {}: {e}", root.display()))?;
                judge.prepare(problem).map(Arc::new).map_err(|e| format!("prepare problem {}: {e}", root.display()))
            })
            .await
            .map_err(|e| Failure::Judge(format!("prepare task: {e}")))?
            .map_err(Failure::Judge)
        })
        .await?;
    Ok(prepared.clone())
}

/// The unpacked package of a version in the cache, fetched first when it is not there.
async fn package_root(shared: &Arc<Shared>, version: &str) -> Result<PathBuf, Failure> {
    let cache = shared.config.cache_dir.clone();
    if let Some(root) = package::cached_root(&cache, version) {
        return Ok(root);
    }
    let bytes = if shared.config.fetch_over_http {
        fetch_package(shared, version).await?
    } else {
        shared.store.package(version).await?.ok_or_else(|| Failure::Judge(format!("package {version} is not stored")))?
    };
    let v = version.to_owned();
    tokio::task::spawn_blocking(move || package::cached(&cache, &v, &bytes))
        .await
        .map_err(|e| Failure::Judge(format!("unpack task: {e}")))?
        .map_err(|e| Failure::Judge(format!("package {version}: {e}")))
}

/// `GET {service_url}/v1/packages/{version}` with the worker secret, retried a few times.
async fn fetch_package(shared: &Arc<Shared>, version: &str) -> Result<Vec<u8>, Failure> {
    let base = shared.store.setting(settings::SERVICE_URL).await?;
    let secret = shared.store.setting(settings::WORKER_SECRET).await?;
    let fail = |url: &str, reason: String| Failure::Judge(WorkerError::Fetch { version: version.to_owned(), url: url.to_owned(), reason }.to_string());
    let Some(base) = base else {
        return Err(fail("(none)", format!("the database has no {:?} setting", settings::SERVICE_URL)));
    };
    let url = format!("{}/v1/packages/{version}", base.trim_end_matches('/'));
    let mut last = String::new();
    for attempt in 0..FETCH_TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        }
        let mut req = shared.http.get(&url);
        if let Some(secret) = &secret {
            req = req.bearer_auth(secret);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                Ok(b) => return Ok(b.to_vec()),
                Err(e) => last = format!("read the body: {e}"),
            },
            Ok(resp) => {
                last = format!("HTTP {}", resp.status());
                // A client error will not change on retry.
                if resp.status().is_client_error() {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(fail(&url, last))
}

/// The work file's name: `main.<ext>`, and for Java the public (or first) class's name, as
/// javac and `java {main}` require.
fn source_file_name(source: &str, ext: &str, lang: &str) -> String {
    let stem = if lang == "java" || ext == "java" { java_class(source).unwrap_or_else(|| "Main".into()) } else { "main".into() };
    format!("{stem}.{ext}")
}

/// The name of a Java source's public top-level class (else its first class), comments and
/// string literals skipped.
fn java_class(source: &str) -> Option<String> {
    let words = java_words(source);
    let class_after = |i: usize| {
        words.get(i + 1).filter(|w| w.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')).cloned()
    };
    let modifiers = ["final", "abstract", "strictfp", "sealed", "static"];
    for (i, w) in words.iter().enumerate() {
        if w == "class" && i > 0 {
            let mut j = i - 1;
            while j > 0 && modifiers.contains(&words[j].as_str()) {
                j -= 1;
            }
            if words[j] == "public" {
                if let Some(name) = class_after(i) {
                    return Some(name);
                }
            }
        }
    }
    words.iter().position(|w| w == "class").and_then(class_after)
}

/// Identifier-like words of a Java source outside comments, strings and char literals.
fn java_words(source: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let b: Vec<char> = source.chars().collect();
    let mut i = 0;
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            flush(&mut cur, &mut words);
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            flush(&mut cur, &mut words);
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' {
            flush(&mut cur, &mut words);
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            cur.push(c);
            i += 1;
        } else {
            flush(&mut cur, &mut words);
            i += 1;
        }
    }
    flush(&mut cur, &mut words);
    words
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_file_names() {
        assert_eq!(source_file_name("int main(){}", "c", "c"), "main.c");
        assert_eq!(source_file_name("print(1)", "py", "python"), "main.py");
        let java = "// class Wrong\nimport java.util.*;\n/* public class Nope */\nclass Helper {}\npublic final class HelloAB {\n  String s = \"class X\";\n}\n";
        assert_eq!(source_file_name(java, "java", "java"), "HelloAB.java");
        assert_eq!(source_file_name("class Solution { public static void main(String[] a) {} }", "java", "java"), "Solution.java");
        assert_eq!(source_file_name("nothing here", "java", "java"), "Main.java");
    }

    #[test]
    fn prepared_cache_evicts_the_least_recently_used() {
        let c = PreparedCache::new(2);
        let a = c.slot("a");
        let _b = c.slot("b");
        assert!(Arc::ptr_eq(&a, &c.slot("a")));
        let _c = c.slot("c"); // evicts b, the least recently used
        assert!(Arc::ptr_eq(&a, &c.slot("a")));
        let map = c.slots.lock().unwrap();
        let v = &map.by_version;
        assert!(v.contains_key("a") && v.contains_key("c") && !v.contains_key("b"));
    }
}

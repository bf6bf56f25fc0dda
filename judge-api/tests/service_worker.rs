//! Workers judging from an SQLite store: the float-mean example package is uploaded (packed,
//! unpacked and normalized by `package`), workers fetch it from the store into their cache and
//! judge its C and Python submissions.
//!
//! Privileged (the sandbox): run inside a throwaway namespace as root,
//! `unshare -m -p -f --mount-proc cargo test -p judge-api --test service_worker`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use judge_api::judge::Judge;
use judge_api::language::LanguageTable;
use judge_api::service::model::*;
use judge_api::service::package;
use judge_api::service::store::Store;
use judge_api::service::worker::{self, run_workers, WorkerConfig};
use judge_api::verdict::Verdict;

const PROBLEM: &str = "float-mean";

fn problem_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems").join(PROBLEM)
}

/// One judge (one sandbox) for the tests of this binary.
fn judge() -> Arc<Judge> {
    static JUDGE: OnceLock<Arc<Judge>> = OnceLock::new();
    JUDGE
        .get_or_init(|| {
            let sandbox = runner::Sandbox::new(runner::SandboxConfig::default()).unwrap_or_else(|e| {
                panic!("the sandbox does not start ({e}); these tests need root: run them inside `unshare -m -p -f --mount-proc`")
            });
            let work = tempfile::Builder::new().prefix("judge-worker-test-").tempdir_in("/var/tmp").unwrap().keep();
            Arc::new(Judge::new(Arc::new(sandbox), LanguageTable::builtin(), work))
        })
        .clone()
}

/// The example package as a client would upload it (a .tar.gz), stored in `store`.
async fn upload(store: &Store, scratch: &Path) -> String {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    tar.append_dir_all(PROBLEM, problem_dir()).unwrap();
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    let up = package::unpack_upload(&bytes, scratch, package::PackageLimits::default()).expect("the example package unpacks");
    store.put_problem(PROBLEM, &up.version, up.title.as_deref(), up.test_count, &up.normalized).await.unwrap();
    up.version
}

fn submission(version: &str, rel: &str, language: &str, all_tests: bool) -> NewSubmission {
    let source = std::fs::read_to_string(problem_dir().join("submissions").join(rel)).unwrap();
    NewSubmission { problem: PROBLEM.into(), version: Some(version.into()), language: language.into(), source, all_tests, callback_url: None }
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn start(store: &Store, count: usize, cache: &Path, lease: Duration) -> Running {
    start_with(store, count, cache, lease, worker::PROGRESS_EVERY)
}

fn start_with(store: &Store, count: usize, cache: &Path, lease: Duration, progress_every: Duration) -> Running {
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let config = WorkerConfig { count, pin_cpus: true, lease, cache_dir: cache.to_owned(), fetch_over_http: false, progress_every };
    let store = store.clone();
    let task = tokio::spawn(async move {
        run_workers(store, judge(), config, async move {
            let _ = rx.await;
        })
        .await
        .unwrap()
    });
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(60), self.task).await.expect("workers stop").unwrap();
    }
}

/// Waits until every id is done, recording what each one's test list looked like meanwhile.
async fn wait_done(store: &Store, ids: &[i64], limit: Duration) -> HashMap<i64, Vec<Vec<String>>> {
    let start = Instant::now();
    let mut seen: HashMap<i64, Vec<Vec<String>>> = HashMap::new();
    loop {
        let mut all_done = true;
        for &id in ids {
            let s = store.submission(id).await.unwrap().unwrap();
            if s.status != Status::Done {
                all_done = false;
                seen.entry(id).or_default().push(s.tests.iter().map(|t| t.name.clone()).collect());
            }
        }
        if all_done {
            return seen;
        }
        assert!(start.elapsed() < limit, "not judged within {limit:?}: {:?}", store.queue_stats().await.unwrap());
        store.wait_for_change(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_judge_every_submission_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let version = upload(&store, &dir.path().join("scratch")).await;
    let cache = dir.path().join("cache");
    let cases = [
        ("accepted/mean.c", "c", false, Verdict::AC),
        ("accepted/mean.py", "python", false, Verdict::AC),
        ("wrong_answer/sample_sd.py", "python", false, Verdict::WA),
        ("time_limit_exceeded/spin.c", "c", false, Verdict::TLE),
        ("accepted/mean.c", "c", true, Verdict::AC),
    ];
    let mut subs: Vec<_> = cases.iter().map(|(rel, lang, all, _)| submission(&version, rel, lang, *all)).collect();
    let mut expected: Vec<Verdict> = cases.iter().map(|c| c.3).collect();
    subs.push(NewSubmission { source: "int main( {".into(), ..submission(&version, "accepted/mean.c", "c", false) });
    expected.push(Verdict::CE);
    subs.push(NewSubmission { language: "cobol".into(), ..submission(&version, "accepted/mean.c", "c", false) });
    expected.push(Verdict::JE);
    let ids = store.create_submissions(&subs).await.unwrap();

    let workers = start(&store, 2, &cache, Duration::from_secs(20));
    let seen = wait_done(&store, &ids, Duration::from_secs(300)).await;
    // Nothing is judged twice: give a duplicate a moment to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    workers.stop().await;

    assert!(package::cached_root(&cache, &version).is_some(), "the package was cached");
    let test_count = store.current_problem(PROBLEM).await.unwrap().unwrap().test_count as usize;
    let mut judged_total = 0;
    let labels: Vec<&str> = cases.iter().map(|c| c.0).chain(["compile error", "unknown language"]).collect();
    for ((id, want), rel) in ids.iter().zip(&expected).zip(labels) {
        let s = store.submission(*id).await.unwrap().unwrap();
        assert_eq!(s.verdict, Some(*want), "submission {id} ({rel}): {s:?}");
        assert_eq!((s.status, s.judged_count, s.attempts), (Status::Done, 1, 1), "submission {id} ({rel})");
        judged_total += 1;
        match want {
            Verdict::AC => {
                assert_eq!(s.tests.len(), test_count, "{rel}");
                assert!(s.tests.iter().all(|t| t.verdict == Verdict::AC));
                assert_eq!(s.score, Some(1.0));
                assert!(s.max_cpu_time_ms.is_some() && s.time_limit_ms == Some(1000));
            }
            Verdict::CE => {
                assert!(s.tests.is_empty());
                assert!(!s.compile_message.clone().unwrap_or_default().is_empty(), "the compiler's message is kept");
            }
            Verdict::JE => assert!(s.error.as_deref().unwrap_or("").contains("cobol"), "{:?}", s.error),
            _ => assert_eq!(s.tests.last().map(|t| t.verdict), Some(*want), "{rel}: {:?}", s.tests),
        }
        // Every partial list seen while it ran is a prefix of the final one: results came in order.
        let names: Vec<String> = s.tests.iter().map(|t| t.name.clone()).collect();
        for partial in seen.get(id).into_iter().flatten() {
            assert!(names.starts_with(partial), "submission {id}: partial {partial:?} is not a prefix of {names:?}");
        }
    }
    let partials = seen.values().flatten().filter(|p| !p.is_empty()).count();
    eprintln!("observed {partials} non-empty partial test lists");

    let workers = store.workers().await.unwrap();
    assert_eq!(workers.len(), 2, "{workers:?}");
    let pid = std::process::id().to_string();
    for (i, w) in workers.iter().enumerate() {
        assert!(w.id.ends_with(&format!("-{pid}-{i}")), "{w:?}");
        assert_eq!(w.state, "stopped");
    }
    assert_eq!(workers.iter().map(|w| w.judged).sum::<i64>(), judged_total);
    let stats = store.queue_stats().await.unwrap();
    assert_eq!((stats.queued, stats.compiling, stats.running, stats.done), (0, 0, 0, ids.len() as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_lease_leaves_exactly_one_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let version = upload(&store, &dir.path().join("scratch")).await;
    let cache = dir.path().join("cache");
    let ids = store
        .create_submissions(&[submission(&version, "accepted/mean.py", "python", true), submission(&version, "accepted/mean.c", "c", true)])
        .await
        .unwrap();

    // A worker that claimed the first (Python) submission and died: it never heartbeats.
    let ghost = store.claim("ghost", Duration::from_secs(3)).await.unwrap().unwrap();
    assert_eq!(ghost.submission_id, ids[0]);

    // Each test's result written at once: the window in which the C submission shows tests
    // while still running is then as long as its tests take.
    let workers = start_with(&store, 2, &cache, Duration::from_secs(20), Duration::ZERO);
    // Rejudge the C submission while a worker runs its tests: that worker's lease is lost.
    let start_t = Instant::now();
    loop {
        let s = store.submission(ids[1]).await.unwrap().unwrap();
        if s.status == Status::Running && !s.tests.is_empty() {
            break;
        }
        assert!(s.status != Status::Done, "judged before the test could rejudge it; make it slower");
        assert!(start_t.elapsed() < Duration::from_secs(120), "never saw it running");
        // Poll often so the running window is not missed.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(store.rejudge(ids[1]).await.unwrap());

    wait_done(&store, &ids, Duration::from_secs(300)).await;
    // The ghost comes back late: its result is rejected.
    assert!(!store.finish(&ghost, &Outcome::JudgeError("ghost".into())).await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    workers.stop().await;

    let test_count = store.current_problem(PROBLEM).await.unwrap().unwrap().test_count as usize;
    for (id, attempts) in [(ids[0], 2), (ids[1], 2)] {
        let s = store.submission(id).await.unwrap().unwrap();
        assert_eq!((s.status, s.verdict, s.judged_count, s.attempts), (Status::Done, Some(Verdict::AC), 1, attempts), "{s:?}");
        assert_eq!(s.tests.len(), test_count);
        assert!(s.error.is_none());
    }
}

/// A judging longer than the lease keeps it: the worker's heartbeats extend it, so the other
/// (idle) worker never takes the submission over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_keep_a_long_judging_leased() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let version = upload(&store, &dir.path().join("scratch")).await;
    let lease = Duration::from_millis(1500);
    let id = store.create_submissions(&[submission(&version, "time_limit_exceeded/sleepy.py", "python", false)]).await.unwrap()[0];
    let workers = start(&store, 2, &dir.path().join("cache"), lease);
    wait_done(&store, &[id], Duration::from_secs(120)).await;
    workers.stop().await;
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.verdict, s.attempts, s.judged_count), (Some(Verdict::TLE), 1, 1), "{s:?}");
    let took = Duration::from_millis((s.finished_ms.unwrap() - s.created_ms) as u64);
    assert!(took > lease * 2, "judged in {took:?}: not longer than the lease, the test shows nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_gives_the_submission_being_judged_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let version = upload(&store, &dir.path().join("scratch")).await;
    let id = store.create_submissions(&[submission(&version, "time_limit_exceeded/sleepy.py", "python", true)]).await.unwrap()[0];
    let workers = start(&store, 1, &dir.path().join("cache"), Duration::from_secs(20));
    let t = Instant::now();
    while store.submission(id).await.unwrap().unwrap().status != Status::Running {
        assert!(t.elapsed() < Duration::from_secs(120), "never saw it running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers.stop().await;
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts, s.judged_count, s.verdict), (Status::Queued, 1, 0, None), "{s:?}");
    let w = store.workers().await.unwrap();
    assert_eq!((w.len(), w[0].state.as_str(), w[0].judged), (1, "stopped", 0));
}

/// A stand-in for the service's `GET /v1/packages/{version}`: serves one package to the
/// bearer of `secret`, counting requests.
async fn package_server(version: String, bytes: Vec<u8>, secret: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/v1/packages/{version}",
        axum::routing::get(move |axum::extract::Path(v): axum::extract::Path<String>, headers: HeaderMap| {
            let (h, version, bytes) = (h.clone(), version.clone(), bytes.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let auth = headers.get("authorization").and_then(|a| a.to_str().ok()).unwrap_or("");
                if auth != format!("Bearer {secret}") {
                    return Err(StatusCode::UNAUTHORIZED);
                }
                if v != version {
                    return Err(StatusCode::NOT_FOUND);
                }
                Ok(bytes)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn packages_over_http_and_a_java_submission() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let version = upload(&store, &dir.path().join("scratch")).await;
    let bytes = store.package(&version).await.unwrap().unwrap();
    let (url, hits) = package_server(version.clone(), bytes, "s3cret").await;
    store.set_setting(judge_api::service::settings::SERVICE_URL, &format!("{url}/")).await.unwrap();
    store.set_setting(judge_api::service::settings::WORKER_SECRET, "s3cret").await.unwrap();

    let run = |cache: PathBuf| {
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let config = WorkerConfig { count: 1, pin_cpus: false, lease: Duration::from_secs(30), cache_dir: cache, fetch_over_http: true, progress_every: worker::PROGRESS_EVERY };
        let task = tokio::spawn(run_workers(store.clone(), judge(), config, async move {
            let _ = rx.await;
        }));
        (stop, task)
    };
    let ids = store
        .create_submissions(&[submission(&version, "accepted/FloatMean.java", "java", false), submission(&version, "accepted/mean.c", "c", false)])
        .await
        .unwrap();
    let (stop, task) = run(dir.path().join("cache1"));
    wait_done(&store, &ids, Duration::from_secs(300)).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    for id in &ids {
        let s = store.submission(*id).await.unwrap().unwrap();
        assert_eq!(s.verdict, Some(Verdict::AC), "{s:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once, then cached and prepared once");

    // A wrong secret: the package cannot be fetched, the submission is a judge error naming why.
    store.set_setting(judge_api::service::settings::WORKER_SECRET, "wrong").await.unwrap();
    let id = store.create_submissions(&[submission(&version, "accepted/mean.c", "c", false)]).await.unwrap()[0];
    let (stop, task) = run(dir.path().join("cache2"));
    wait_done(&store, &[id], Duration::from_secs(120)).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!(s.verdict, Some(Verdict::JE));
    let error = s.error.unwrap_or_default();
    assert!(error.contains("401") && error.contains(&url) && error.contains(&version), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "a client error is not retried");
}

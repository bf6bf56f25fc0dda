//! The service's store on SQLite (always) and PostgreSQL (when `JUDGE_TEST_DATABASE_URL` is
//! set: each test gets a database of its own on that server, dropped afterwards).
//! No root needed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use judge_api::service::model::*;
use judge_api::service::store::{Backend, Store, StoreError};
use judge_api::verdict::{SubmissionResult, TestResult, Verdict};
use sqlx::Connection;

/// Where a test's store lives; dropping it removes the database.
enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, db: String, url: String },
}

impl Place {
    fn url(&self) -> String {
        match self {
            Place::Sqlite(d) => Store::sqlite_url(&d.path().join("sub/dir")),
            Place::Postgres { url, .. } => url.clone(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Postgres { admin_url, db, .. } = self {
            let (admin_url, db) = (admin_url.clone(), db.clone());
            // Best effort, on a runtime of its own (the test's may be gone).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::Executor::execute(&mut c, format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str()).await;
                    }
                })
            })
            .join();
        }
    }
}

fn sqlite_place() -> Place {
    Place::Sqlite(tempfile::tempdir().unwrap())
}

/// A fresh database on the test server, or `None` (with a note) when there is none.
async fn postgres_place(test: &str) -> Option<Place> {
    let Ok(admin_url) = std::env::var("JUDGE_TEST_DATABASE_URL") else {
        if std::env::var("JUDGE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("JUDGE_REQUIRE_POSTGRES=1 but JUDGE_TEST_DATABASE_URL is not set");
        }
        eprintln!("{test}: skipped on PostgreSQL: JUDGE_TEST_DATABASE_URL is not set");
        return None;
    };
    let db = format!("judge_t_{}", hex::encode(rand::random::<[u8; 6]>()));
    let mut c = sqlx::PgConnection::connect(&admin_url).await.expect("connect to JUDGE_TEST_DATABASE_URL");
    sqlx::Executor::execute(&mut c, format!("CREATE DATABASE {db}").as_str()).await.expect("create a test database");
    c.close().await.unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url.as_str(), String::new()),
    };
    let slash = base.rfind('/').filter(|&i| i > base.find("://").unwrap() + 2).expect("database URL names a database");
    let url = format!("{}/{db}{query}", &base[..slash]);
    Some(Place::Postgres { admin_url, db, url })
}

/// Runs `body` on SQLite, then on PostgreSQL when available.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let place = sqlite_place();
                $body(&place).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(place) = postgres_place(stringify!($name)).await {
                    $body(&place).await;
                }
            }
        }
    };
}

async fn open(place: &Place) -> Store {
    Store::open(&place.url()).await.expect("open the store")
}

fn new_sub(problem: &str, callback: Option<&str>) -> NewSubmission {
    NewSubmission {
        problem: problem.into(),
        version: Some("v1".into()),
        language: "c".into(),
        source: "int main(){}".into(),
        all_tests: false,
        callback_url: callback.map(str::to_owned),
    }
}

fn test_result(name: &str, verdict: Verdict) -> TestResult {
    TestResult {
        name: name.into(),
        verdict,
        cpu_time_ms: 3,
        wall_time_ms: 4,
        memory_bytes: 1 << 20,
        message: String::new(),
        score: None,
    }
}

fn result(verdict: Verdict, tests: Vec<TestResult>) -> SubmissionResult {
    SubmissionResult {
        verdict,
        score: if verdict == Verdict::AC { 1.0 } else { 0.0 },
        max_cpu_time_ms: 12,
        max_memory_bytes: 3 << 20,
        compile_message: "warning: x".into(),
        language: "c".into(),
        time_limit_ms: 1000,
        tests,
    }
}

const LEASE: Duration = Duration::from_secs(30);

// --- settings, tokens, problems ---

async fn settings_tokens_problems(place: &Place) {
    let store = open(place).await;
    assert_eq!(store.backend(), if matches!(place, Place::Sqlite(_)) { Backend::Sqlite } else { Backend::Postgres });
    assert_eq!(store.setting("service_url").await.unwrap(), None);
    store.set_setting("service_url", "http://a").await.unwrap();
    store.set_setting("service_url", "http://b").await.unwrap();
    assert_eq!(store.setting("service_url").await.unwrap().as_deref(), Some("http://b"));

    let admin = store.add_token(Role::Admin, "ops").await.unwrap();
    let sub = store.add_token(Role::Submitter, "ci").await.unwrap();
    assert!(admin.starts_with("jdg_") && admin.len() == 4 + 64, "{admin}");
    assert_ne!(admin, sub);
    assert_eq!(store.token_role(&admin).await.unwrap(), Some(Role::Admin));
    assert_eq!(store.token_role(&sub).await.unwrap(), Some(Role::Submitter));
    assert_eq!(store.token_role("jdg_nope").await.unwrap(), None);
    assert_eq!(store.token_role("").await.unwrap(), None);

    let pkg = vec![0x1f, 0x8b, 0, 1, 2, 3];
    let v1 = store.put_problem("sum", "aaa", Some("Sum"), 3, &pkg).await.unwrap();
    assert_eq!((v1.name.as_str(), v1.version.as_str(), v1.title.as_deref(), v1.test_count, v1.size_bytes, v1.current), ("sum", "aaa", Some("Sum"), 3, 6, true));
    // Idempotent: the same version again changes nothing (created_ms included).
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = store.put_problem("sum", "aaa", Some("Sum"), 3, &pkg).await.unwrap();
    assert_eq!(again, v1);
    assert_eq!(store.problem_versions("sum").await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let v2 = store.put_problem("sum", "bbb", None, 4, &[9u8; 10]).await.unwrap();
    assert!(v2.current && v2.created_ms > v1.created_ms);
    let versions = store.problem_versions("sum").await.unwrap();
    assert_eq!(versions.iter().map(|v| (v.version.as_str(), v.current)).collect::<Vec<_>>(), [("bbb", true), ("aaa", false)]);
    assert_eq!(store.current_problem("sum").await.unwrap().unwrap().version, "bbb");
    // Back to an older version: it becomes current again.
    store.put_problem("sum", "aaa", Some("Sum"), 3, &pkg).await.unwrap();
    assert_eq!(store.current_problem("sum").await.unwrap().unwrap().version, "aaa");
    store.put_problem("echo", "ccc", None, 1, &[1]).await.unwrap();
    assert_eq!(store.problems().await.unwrap().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["echo", "sum"]);
    assert_eq!(store.package("bbb").await.unwrap().unwrap(), vec![9u8; 10]);
    assert_eq!(store.package("aaa").await.unwrap().unwrap(), pkg);
    assert_eq!(store.package("zzz").await.unwrap(), None);

    assert!(store.delete_problem("sum").await.unwrap());
    assert!(!store.delete_problem("sum").await.unwrap());
    assert_eq!(store.current_problem("sum").await.unwrap(), None);
    assert_eq!(store.problems().await.unwrap().len(), 1);
    // Versions and packages stay for past submissions.
    assert_eq!(store.problem_versions("sum").await.unwrap().len(), 2);
    assert!(store.problem_versions("sum").await.unwrap().iter().all(|v| !v.current));
    assert!(store.package("aaa").await.unwrap().is_some());

    // Reopening keeps everything (schema_version is not re-applied).
    drop(store);
    let store = open(place).await;
    assert_eq!(store.token_role(&admin).await.unwrap(), Some(Role::Admin));
    assert_eq!(store.problems().await.unwrap().len(), 1);
}
both!(settings_tokens_problems_, settings_tokens_problems);

/// A new submission without a version is judged on its problem's current version, read in the
/// same statement as the insert.
async fn submissions_take_the_current_version(place: &Place) {
    let store = open(place).await;
    let current = |problem: &str| NewSubmission { version: None, ..new_sub(problem, None) };
    store.put_problem("sum", "aaa", None, 3, &[1]).await.unwrap();
    let a = store.create_submissions(&[current("sum")]).await.unwrap()[0];
    store.put_problem("sum", "bbb", None, 3, &[2]).await.unwrap();
    let ids = store.create_submissions(&[current("sum"), NewSubmission { version: Some("aaa".into()), ..current("sum") }]).await.unwrap();
    let version = |id| {
        let store = store.clone();
        async move { store.submission(id).await.unwrap().unwrap().version }
    };
    assert_eq!((version(a).await, version(ids[0]).await, version(ids[1]).await), ("aaa".into(), "bbb".into(), "aaa".into()));

    // A problem with no current version fails the call, and nothing of it is stored.
    match store.create_submissions(&[current("sum"), current("nope")]).await {
        Err(StoreError::NoSuchProblem { index: 1, name }) => assert_eq!(name, "nope"),
        other => panic!("{other:?}"),
    }
    assert!(store.delete_problem("sum").await.unwrap());
    match store.create_submissions(&[current("sum")]).await {
        Err(e @ StoreError::NoSuchProblem { index: 0, .. }) => assert_eq!(e.to_string(), "no problem named \"sum\""),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.queue_stats().await.unwrap().queued, 3);
}
both!(submissions_take_the_current_version_, submissions_take_the_current_version);

#[tokio::test]
async fn sqlite_tokens_are_stored_hashed_and_the_file_is_created_with_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b");
    let store = Store::open(&Store::sqlite_url(&data)).await.unwrap();
    let token = store.add_token(Role::Admin, "note").await.unwrap();
    store.set_setting("k", "v").await.unwrap();
    drop(store);
    // Read every file of the database (WAL included) for the token's text.
    let mut found = false;
    let mut files = 0;
    for e in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        files += 1;
        found |= bytes.windows(token.len()).any(|w| w == token.as_bytes());
        found |= bytes.windows(32).any(|w| w == &token.as_bytes()[4..36]);
    }
    assert!(files >= 1 && data.join("judge.db").is_file());
    assert!(!found, "the token's plaintext is in the database files");
    let store = Store::open(&Store::sqlite_url(&data)).await.unwrap();
    assert_eq!(store.token_role(&token).await.unwrap(), Some(Role::Admin));
    let mode: String = {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", data.join("judge.db").display())).await.unwrap();
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut c).await.unwrap()
    };
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn bad_urls_are_refused() {
    assert!(Store::open("mysql://x").await.is_err());
    assert!(Store::open("sqlite://").await.is_err());
}

// --- submissions and the queue ---

async fn submission_lifecycle(place: &Place) {
    let store = open(place).await;
    let ids = store.create_submissions(&[new_sub("sum", Some("http://cb/1")), new_sub("sum", None), new_sub("echo", None)]).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids[0] < ids[1] && ids[1] < ids[2]);
    assert_eq!(store.create_submissions(&[]).await.unwrap(), Vec::<i64>::new());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.score, s.attempts, s.judged_count), (Status::Queued, None, None, 0, 0));
    assert_eq!((s.problem.as_str(), s.version.as_str(), s.language.as_str(), s.all_tests), ("sum", "v1", "c", false));
    assert_eq!(s.callback_url.as_deref(), Some("http://cb/1"));
    assert!(s.tests.is_empty() && s.created_ms > 0 && s.finished_ms.is_none());
    assert_eq!(store.submission(999_999).await.unwrap(), None);

    // Claims come oldest first.
    let c = store.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!((c.submission_id, c.attempt, c.worker.as_str(), c.source.as_str()), (ids[0], 1, "w1", "int main(){}"));
    assert_eq!(store.submission(ids[0]).await.unwrap().unwrap().status, Status::Compiling);
    assert!(store.heartbeat(&c, LEASE).await.unwrap());
    assert!(store.set_running(&c, "compiled fine").await.unwrap());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.status, s.compile_message.as_deref(), s.attempts), (Status::Running, Some("compiled fine"), 1));
    let t0 = test_result("sample/1", Verdict::AC);
    let t1 = test_result("secret/1", Verdict::WA);
    assert!(store.add_test_result(&c, 0, &t0).await.unwrap());
    assert!(store.add_test_result(&c, 1, &t1).await.unwrap());
    assert_eq!(store.submission(ids[0]).await.unwrap().unwrap().tests, vec![t0.clone(), t1.clone()]);
    assert_eq!(store.test_results_from(ids[0], 1).await.unwrap(), (Status::Running, vec![t1.clone()]));
    assert_eq!(store.test_results_from(ids[0], 0).await.unwrap().1.len(), 2);

    assert!(store.finish(&c, &Outcome::Judged(result(Verdict::WA, vec![t0.clone(), t1.clone()]))).await.unwrap());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.score, s.judged_count, s.attempts), (Status::Done, Some(Verdict::WA), Some(0.0), 1, 1));
    assert_eq!((s.max_cpu_time_ms, s.max_memory_bytes, s.time_limit_ms), (Some(12), Some(3 << 20), Some(1000)));
    assert_eq!(s.compile_message.as_deref(), Some("warning: x"));
    assert_eq!(s.tests, vec![t0.clone(), t1.clone()]);
    assert!(s.finished_ms.unwrap() >= s.created_ms && s.error.is_none());
    assert_eq!(store.test_results_from(ids[0], 1).await.unwrap(), (Status::Done, vec![t1.clone()]));
    // A second finish under the same (now cleared) lease is rejected.
    assert!(!store.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
    assert!(!store.heartbeat(&c, LEASE).await.unwrap());
    assert_eq!(store.submission(ids[0]).await.unwrap().unwrap().verdict, Some(Verdict::WA));

    // A callback was queued for the first (it has a URL).
    let due = store.due_callbacks(now_ms() + 1, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].submission_id, due[0].url.as_str(), due[0].attempts), (ids[0], "http://cb/1", 0));

    // Judge error.
    let c2 = store.claim("w2", LEASE).await.unwrap().unwrap();
    assert_eq!(c2.submission_id, ids[1]);
    assert!(store.add_test_result(&c2, 0, &t0).await.unwrap());
    assert!(store.finish(&c2, &Outcome::JudgeError("package broken".into())).await.unwrap());
    let s = store.submission(ids[1]).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.error.as_deref(), s.judged_count), (Status::Done, Some(Verdict::JE), Some("package broken"), 1));
    assert_eq!(s.tests, vec![t0.clone()]);
    assert_eq!(store.due_callbacks(now_ms() + 1, 10).await.unwrap().len(), 1, "no callback without a URL");

    // Rejudge: back in the queue, result cleared, judged again with attempt 2.
    assert!(store.rejudge(ids[0]).await.unwrap());
    assert!(!store.rejudge(999_999).await.unwrap());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.score, s.judged_count, s.tests.len()), (Status::Queued, None, None, 1, 0));
    let c3 = store.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!((c3.submission_id, c3.attempt), (ids[0], 2));
    let c4 = store.claim("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(c4.submission_id, ids[2]);
    assert_eq!(store.claim("w1", LEASE).await.unwrap(), None);
    assert!(store.finish(&c3, &Outcome::Judged(result(Verdict::AC, vec![t0.clone()]))).await.unwrap());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.verdict, s.judged_count, s.attempts), (Some(Verdict::AC), 2, 2));

    // Listing: newest first, filters, paging.
    let all = store.list_submissions(&SubmissionFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[2], ids[1], ids[0]]);
    assert!(all.iter().all(|s| s.tests.is_empty()));
    let f = |f: SubmissionFilter| {
        let store = store.clone();
        async move { store.list_submissions(&f).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>() }
    };
    assert_eq!(f(SubmissionFilter { problem: Some("sum".into()), ..Default::default() }).await, vec![ids[1], ids[0]]);
    assert_eq!(f(SubmissionFilter { status: Some(Status::Compiling), ..Default::default() }).await, vec![ids[2]]);
    assert_eq!(f(SubmissionFilter { verdict: Some(Verdict::JE), ..Default::default() }).await, vec![ids[1]]);
    assert_eq!(f(SubmissionFilter { language: Some("py".into()), ..Default::default() }).await, Vec::<i64>::new());
    assert_eq!(f(SubmissionFilter { before_id: Some(ids[2]), limit: Some(1), ..Default::default() }).await, vec![ids[1]]);
    assert_eq!(
        f(SubmissionFilter { problem: Some("sum".into()), status: Some(Status::Done), verdict: Some(Verdict::AC), language: Some("c".into()), before_id: Some(ids[2]), limit: Some(5) }).await,
        vec![ids[0]]
    );
    assert_eq!(f(SubmissionFilter { limit: Some(0), ..Default::default() }).await.len(), 1, "limit clamps to at least 1");

    // Statistics.
    let stats = store.queue_stats().await.unwrap();
    assert_eq!((stats.queued, stats.compiling, stats.running, stats.done), (0, 1, 0, 2));
    assert_eq!(stats.verdicts, vec![("AC".to_string(), 1), ("JE".to_string(), 1)]);
    assert_eq!(stats.callbacks_pending, 2, "the first submission was finished twice, each with a callback");
    let lat = store.recent_latencies_ms(0).await.unwrap();
    assert_eq!(lat.len(), 2);
    assert!(lat.iter().all(|&l| l >= 0));
    assert!(store.recent_latencies_ms(now_ms() + 60_000).await.unwrap().is_empty());
}
both!(submission_lifecycle_, submission_lifecycle);

async fn lease_expiry_rejects_late_results(place: &Place) {
    let store = open(place).await;
    let id = store.create_submissions(&[new_sub("sum", None)]).await.unwrap()[0];
    let short = Duration::from_millis(1500);
    let a = store.claim("a", short).await.unwrap().unwrap();
    assert!(store.set_running(&a, "").await.unwrap());
    assert!(store.add_test_result(&a, 0, &test_result("1", Verdict::AC)).await.unwrap());
    // Not expired yet: nobody else gets it.
    assert_eq!(store.claim("b", LEASE).await.unwrap(), None);
    // A heartbeat extends it.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(store.heartbeat(&a, short).await.unwrap());
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(store.claim("b", LEASE).await.unwrap(), None);
    // Expired: b takes it over, the partial results of a are dropped.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let b = store.claim("b", LEASE).await.unwrap().unwrap();
    assert_eq!((b.submission_id, b.attempt), (id, 2));
    assert_ne!(a.lease_id, b.lease_id);
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts, s.tests.len()), (Status::Compiling, 2, 0));
    // Everything a writes now is rejected and changes nothing.
    assert!(!store.heartbeat(&a, LEASE).await.unwrap());
    assert!(!store.set_running(&a, "late").await.unwrap());
    assert!(!store.add_test_result(&a, 1, &test_result("2", Verdict::WA)).await.unwrap());
    assert!(!store.finish(&a, &Outcome::Judged(result(Verdict::WA, vec![]))).await.unwrap());
    assert!(!store.finish(&a, &Outcome::JudgeError("late".into())).await.unwrap());
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.judged_count, s.tests.len(), s.compile_message), (Status::Compiling, None, 0, 0, None));
    // b finishes: exactly one result.
    assert!(store.set_running(&b, "ok").await.unwrap());
    let t = test_result("1", Verdict::AC);
    assert!(store.add_test_result(&b, 0, &t).await.unwrap());
    assert!(store.finish(&b, &Outcome::Judged(result(Verdict::AC, vec![t.clone()]))).await.unwrap());
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.judged_count, s.attempts, s.tests), (Status::Done, Some(Verdict::AC), 1, 2, vec![t]));
    // A done submission is not claimed again, even with an old expiry.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(store.claim("c", short).await.unwrap(), None);
}
both!(lease_expiry_rejects_late_results_, lease_expiry_rejects_late_results);

async fn rejudge_loses_the_lease(place: &Place) {
    let store = open(place).await;
    let id = store.create_submissions(&[new_sub("sum", None)]).await.unwrap()[0];
    let a = store.claim("a", LEASE).await.unwrap().unwrap();
    assert!(store.set_running(&a, "").await.unwrap());
    assert!(store.add_test_result(&a, 0, &test_result("1", Verdict::AC)).await.unwrap());
    assert!(store.rejudge(id).await.unwrap());
    assert!(!store.heartbeat(&a, LEASE).await.unwrap());
    assert!(!store.add_test_result(&a, 1, &test_result("2", Verdict::AC)).await.unwrap());
    assert!(!store.finish(&a, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.judged_count, s.tests.len()), (Status::Queued, 0, 0));
    let b = store.claim("b", LEASE).await.unwrap().unwrap();
    assert_eq!((b.submission_id, b.attempt), (id, 2));
    assert!(store.finish(&b, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.judged_count), (Status::Done, Some(Verdict::AC), 1));
}
both!(rejudge_loses_the_lease_, rejudge_loses_the_lease);

async fn concurrent_claimers_claim_each_once(place: &Place) {
    let store = open(place).await;
    let subs: Vec<_> = (0..200).map(|i| new_sub(&format!("p{}", i % 7), None)).collect();
    let mut ids = Vec::new();
    for chunk in subs.chunks(50) {
        ids.extend(store.create_submissions(chunk).await.unwrap());
    }
    assert_eq!(ids.len(), 200);
    let mut tasks = Vec::new();
    for w in 0..8 {
        // Half the claimers on a store (pool) of their own, as separate processes would be.
        let store = if w % 2 == 0 { store.clone() } else { open(place).await };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(c) = store.claim(&format!("w{w}"), LEASE).await.unwrap() {
                assert!(store.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
                got.push(c.submission_id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 200, "each submission claimed exactly once");
    let set: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(set, ids.iter().copied().collect::<HashSet<_>>());
    let done = store.list_submissions(&SubmissionFilter { limit: Some(1000), ..Default::default() }).await.unwrap();
    assert!(done.iter().all(|s| s.status == Status::Done && s.attempts == 1 && s.judged_count == 1));
}
both!(concurrent_claimers_claim_each_once_, concurrent_claimers_claim_each_once);

async fn callbacks_and_workers(place: &Place) {
    let store = open(place).await;
    let ids = store.create_submissions(&[new_sub("a", Some("http://x/1")), new_sub("a", Some("http://x/2"))]).await.unwrap();
    for _ in 0..2 {
        let c = store.claim("w", LEASE).await.unwrap().unwrap();
        assert!(store.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
    }
    let now = now_ms() + 1;
    let due = store.due_callbacks(now, 10).await.unwrap();
    assert_eq!(due.iter().map(|c| c.submission_id).collect::<Vec<_>>(), ids);
    assert_eq!(store.due_callbacks(now, 1).await.unwrap().len(), 1);
    store.callback_failed(due[0].id, now + 10_000).await.unwrap();
    let due2 = store.due_callbacks(now, 10).await.unwrap();
    assert_eq!(due2.iter().map(|c| c.id).collect::<Vec<_>>(), vec![due[1].id]);
    let later = store.due_callbacks(now + 10_000, 10).await.unwrap();
    assert_eq!(later.len(), 2);
    let failed = later.iter().find(|c| c.id == due[0].id).unwrap();
    assert_eq!((failed.attempts, failed.next_ms), (1, now + 10_000));
    store.callback_delivered(due[1].id).await.unwrap();
    store.callback_delivered(due[1].id).await.unwrap();
    assert_eq!(store.due_callbacks(now + 10_000, 10).await.unwrap().len(), 1);
    assert_eq!(store.queue_stats().await.unwrap().callbacks_pending, 1);

    assert!(store.workers().await.unwrap().is_empty());
    let mut w = WorkerInfo { id: "h-1-0".into(), host: "h".into(), state: "idle".into(), heartbeat_ms: 5, judged: 0 };
    store.worker_report(&w).await.unwrap();
    w.state = "judging".into();
    w.judged = 3;
    store.worker_report(&w).await.unwrap();
    let w2 = WorkerInfo { id: "h-1-1".into(), host: "h".into(), state: "stopped".into(), heartbeat_ms: 6, judged: 1 };
    store.worker_report(&w2).await.unwrap();
    assert_eq!(store.workers().await.unwrap(), vec![w, w2]);
}
both!(callbacks_and_workers_, callbacks_and_workers);

async fn wakeups(place: &Place) {
    let store = open(place).await;
    // A second store (on PostgreSQL: another pool, so the wake comes through NOTIFY).
    let other = open(place).await;
    let timeout = Duration::from_secs(10);

    // Without anything happening the wait ends at its timeout.
    let t = std::time::Instant::now();
    store.wait_for_work(Duration::from_millis(200)).await;
    store.wait_for_change(Duration::from_millis(200)).await;
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(350) && waited < Duration::from_secs(5), "{waited:?}");

    for (waiter, writer) in [(&store, &store), (&store, &other)] {
        // Drain a stored wake from earlier writes.
        waiter.wait_for_work(Duration::from_millis(50)).await;
        let w = waiter.clone();
        let task = tokio::spawn(async move {
            let t = std::time::Instant::now();
            w.wait_for_work(timeout).await;
            t.elapsed()
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.create_submissions(&[new_sub("a", None)]).await.unwrap();
        let waited = task.await.unwrap();
        assert!(waited < Duration::from_secs(5), "wait_for_work woke after {waited:?}");

        waiter.wait_for_change(Duration::from_millis(50)).await;
        let w = waiter.clone();
        let task = tokio::spawn(async move {
            let t = std::time::Instant::now();
            w.wait_for_change(timeout).await;
            t.elapsed()
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let c = writer.claim("w", LEASE).await.unwrap().unwrap();
        writer.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap();
        let waited = task.await.unwrap();
        assert!(waited < Duration::from_secs(5), "wait_for_change woke after {waited:?}");
    }

    // Several idle workers all wake for a batch.
    let mut tasks = Vec::new();
    let waiting = Arc::new(tokio::sync::Barrier::new(4));
    for _ in 0..3 {
        let w = store.clone();
        let b = waiting.clone();
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            let t = std::time::Instant::now();
            w.wait_for_work(timeout).await;
            t.elapsed()
        }));
    }
    waiting.wait().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    other.create_submissions(&[new_sub("a", None), new_sub("a", None), new_sub("a", None)]).await.unwrap();
    for t in tasks {
        let waited = t.await.unwrap();
        assert!(waited < Duration::from_secs(5), "an idle worker woke after {waited:?}");
    }
}
both!(wakeups_, wakeups);

/// `changes(id)` wakes for its submission only (from this store and, on PostgreSQL,
/// through NOTIFY's payload from another pool), and a change after subscribing is never missed.
async fn changes_by_id(place: &Place) {
    let store = open(place).await;
    let other = open(place).await;
    let ids = store.create_submissions(&[new_sub("a", None), new_sub("a", None)]).await.unwrap();
    let (first, second) = (ids[0], ids[1]);
    let postgres = matches!(place, Place::Postgres { .. });
    for writer in [&store, &other] {
        if postgres {
            // On PostgreSQL a store's own writes also come back to it through NOTIFY: let the
            // echoes of the last round's writes land before subscribing.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // Subscribed before the change: it is seen even though nobody waited yet.
        let mut early = store.changes(first);
        let mut early_done = store.changes(first);
        let c = writer.claim("w", LEASE).await.unwrap().unwrap();
        assert_eq!(c.submission_id, first, "claims come oldest first");
        assert!(early.wait(Duration::from_secs(5)).await, "a change before the wait was missed");
        if postgres && std::ptr::eq(writer, &store) {
            // This claim's echo: a second change, which the first wait may or may not have
            // taken with the first.
            let _ = early.wait(Duration::from_secs(1)).await;
        }
        assert!(!early.wait(Duration::from_millis(300)).await, "a change seen twice");

        // A waiter on another submission sleeps through this one's changes.
        let mut rx = store.changes(second);
        let t = std::time::Instant::now();
        let waiter = tokio::spawn(async move { rx.wait(Duration::from_millis(700)).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(writer.set_running(&c, "").await.unwrap());
        assert!(writer.add_test_result(&c, 0, &test_result("1", Verdict::AC)).await.unwrap());
        // Progress is no news for a waiter on the result.
        assert!(!early_done.wait_done(Duration::from_millis(500)).await, "woken for a done by mere progress");
        let done_waiter = tokio::spawn(async move { early_done.wait_done(Duration::from_secs(10)).await });
        assert!(writer.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
        assert!(!waiter.await.unwrap(), "woken by another submission's change");
        assert!(t.elapsed() >= Duration::from_millis(650), "{:?}", t.elapsed());
        assert!(done_waiter.await.unwrap(), "the finish did not wake a waiter on the result");

        // And wakes for its own.
        let mut rx = store.changes(second);
        let waiter = tokio::spawn(async move {
            let t = std::time::Instant::now();
            (rx.wait(Duration::from_secs(10)).await, t.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(writer.rejudge(second).await.unwrap());
        let (woke, waited) = waiter.await.unwrap();
        assert!(woke && waited < Duration::from_secs(5), "woke {woke} after {waited:?}");
        // Leave the queue as it was for the next writer.
        assert!(writer.rejudge(first).await.unwrap());
    }
}
both!(changes_by_id_, changes_by_id);

/// `wait_for_callbacks(timeout)` in a task of its own; how long it waited.
fn timed_callback_wait(store: &Store, timeout: Duration) -> tokio::task::JoinHandle<Duration> {
    let store = store.clone();
    tokio::spawn(async move {
        let t = std::time::Instant::now();
        store.wait_for_callbacks(timeout).await;
        t.elapsed()
    })
}

/// The callback sender's wake: a finish that queues a callback wakes it (from this store and,
/// on PostgreSQL, through NOTIFY from another pool); mere progress does not.
async fn callback_wakes(place: &Place) {
    let store = open(place).await;
    let other = open(place).await;
    store.create_submissions(&[new_sub("a", Some("http://127.0.0.1:9/cb")), new_sub("a", Some("http://127.0.0.1:9/cb"))]).await.unwrap();
    for writer in [&store, &other] {
        // Drain the wake stored by an earlier finish (on PostgreSQL its NOTIFY arrives too).
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.wait_for_callbacks(Duration::from_millis(50)).await;
        let c = writer.claim("w", LEASE).await.unwrap().unwrap();
        let progress = timed_callback_wait(&store, Duration::from_millis(700));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(writer.add_test_result(&c, 0, &test_result("1", Verdict::AC)).await.unwrap());
        let waited = progress.await.unwrap();
        assert!(waited >= Duration::from_millis(650), "woken by a test result after {waited:?}");

        let finished = timed_callback_wait(&store, Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(writer.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap());
        let waited = finished.await.unwrap();
        assert!(waited < Duration::from_secs(5), "not woken by a queued callback ({waited:?})");
    }
    assert_eq!(store.due_callbacks(i64::MAX, 10).await.unwrap().len(), 2);
}
both!(callback_wakes_, callback_wakes);

async fn release_requeues(place: &Place) {
    let store = open(place).await;
    let id = store.create_submissions(&[new_sub("a", None)]).await.unwrap()[0];
    let a = store.claim("a", LEASE).await.unwrap().unwrap();
    assert!(store.set_running(&a, "").await.unwrap());
    assert!(store.add_test_result(&a, 0, &test_result("1", Verdict::AC)).await.unwrap());
    assert!(store.release(&a).await.unwrap());
    assert!(!store.release(&a).await.unwrap());
    assert!(!store.add_test_result(&a, 1, &test_result("2", Verdict::AC)).await.unwrap());
    let s = store.submission(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts, s.judged_count, s.tests.len()), (Status::Queued, 1, 0, 0));
    let b = store.claim("b", LEASE).await.unwrap().unwrap();
    assert_eq!((b.submission_id, b.attempt), (id, 2));
}
both!(release_requeues_, release_requeues);

/// PostgreSQL only: the LISTEN connection is killed; the store reconnects and wakes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_listener_reconnects() {
    let Some(place) = postgres_place("postgres_listener_reconnects").await else { return };
    let store = open(&place).await;
    let other = open(&place).await;
    let mut admin = sqlx::PgConnection::connect(&place.url()).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, vec![true, true], "both stores' LISTEN connections were found and ended");
    // Reconnecting wakes everyone once (notifications may have been missed); let that pass.
    tokio::time::sleep(Duration::from_secs(3)).await;
    store.wait_for_work(Duration::from_millis(50)).await;
    let w = store.clone();
    let task = tokio::spawn(async move {
        let t = std::time::Instant::now();
        w.wait_for_work(Duration::from_secs(10)).await;
        t.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    other.create_submissions(&[new_sub("a", None)]).await.unwrap();
    let waited = task.await.unwrap();
    assert!(waited < Duration::from_secs(5), "no wake through NOTIFY after the reconnect: {waited:?}");
    assert!(waited >= Duration::from_millis(150), "woken before the submission was made: {waited:?}");
}

/// Several openers of one fresh SQLite file at once (`judge serve` starting while
/// `judge token add` runs): each opens it, none is told the database is locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_opens_of_a_new_file_all_succeed() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = Store::sqlite_url(&dir.path().join("data"));
        let opens: Vec<_> = (0..8)
            .map(|i| {
                let url = url.clone();
                tokio::spawn(async move {
                    let store = Store::open(&url).await.map_err(|e| format!("round {round}, opener {i}: {e}"))?;
                    store.set_setting(&format!("k{i}"), "v").await.map_err(|e| format!("round {round}, opener {i}: {e}"))
                })
            })
            .collect();
        for o in opens {
            o.await.unwrap().unwrap();
        }
    }
}

/// A worker's own connection (`Store::worker_conn`): a claim without the probe, progress in
/// one statement each (a result written again for an index replaces the earlier one), the
/// finish with and without a callback, writes under a lost lease refused, and (PostgreSQL) a
/// connection the server dropped replaced at the next write.
async fn worker_connection(place: &Place) {
    let store = open(place).await;
    let mut w = store.worker_conn();
    assert_eq!(w.claim("w", LEASE, false).await.unwrap(), None, "an empty queue, without the probe");
    assert_eq!(w.claim("w", LEASE, true).await.unwrap(), None, "an empty queue, with the probe");
    let ids = store.create_submissions(&[new_sub("a", Some("http://cb/x")), new_sub("a", None)]).await.unwrap();
    let (t0, t1, t1b) = (test_result("1", Verdict::AC), test_result("2", Verdict::AC), test_result("2", Verdict::TLE));

    let c = w.claim("w", LEASE, false).await.unwrap().unwrap();
    assert_eq!((c.submission_id, c.has_callback), (ids[0], true));
    assert!(w.add_progress(&c, Some("compiled"), &[(0, t0.clone()), (1, t1.clone())]).await.unwrap());
    assert!(w.add_progress(&c, None, &[(1, t1b.clone())]).await.unwrap());
    let s = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((s.status, s.compile_message.as_deref()), (Status::Running, Some("compiled")));
    assert_eq!(s.tests, vec![t0.clone(), t1b.clone()]);
    assert_eq!(store.test_results_from(ids[0], 1).await.unwrap(), (Status::Running, vec![t1b.clone()]));
    assert!(w.finish(&c, &Outcome::Judged(result(Verdict::TLE, vec![t0.clone(), t1b.clone()]))).await.unwrap());
    assert_eq!(store.due_callbacks(now_ms() + 1, 10).await.unwrap().len(), 1, "the finish queued the callback");
    assert_eq!(store.submission(ids[0]).await.unwrap().unwrap().tests, vec![t0.clone(), t1b.clone()]);

    let c2 = w.claim("w", LEASE, false).await.unwrap().unwrap();
    assert_eq!((c2.submission_id, c2.has_callback), (ids[1], false));
    assert!(w.add_progress(&c2, Some(""), &[(0, t0.clone())]).await.unwrap());
    assert!(store.rejudge(ids[1]).await.unwrap());
    assert!(!w.add_progress(&c2, None, &[(1, t1.clone())]).await.unwrap(), "progress under a lost lease");
    assert!(!w.finish(&c2, &Outcome::Judged(result(Verdict::AC, vec![]))).await.unwrap(), "a finish under a lost lease");
    let s = store.submission(ids[1]).await.unwrap().unwrap();
    assert_eq!((s.status, s.verdict, s.tests.len()), (Status::Queued, None, 0), "the rejudge dropped the partial results");
    let c3 = w.claim("w", LEASE, false).await.unwrap().unwrap();
    assert_eq!((c3.submission_id, c3.attempt), (ids[1], 2));

    if let Place::Postgres { url, .. } = place {
        // The server drops every other connection to this database, the worker's among them,
        // and waits (up to 10 s each) until they are gone: termination is asynchronous.
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::Executor::execute(
            &mut admin,
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
        )
        .await
        .unwrap();
        assert!(w.add_progress(&c3, Some(""), &[]).await.is_err(), "a write on the dropped connection");
        assert!(w.add_progress(&c3, Some(""), &[]).await.unwrap(), "the next write, on a new connection");
    }
    assert!(w.finish(&c3, &Outcome::JudgeError("broken".into())).await.unwrap());
    assert_eq!(store.submission(ids[1]).await.unwrap().unwrap().verdict, Some(Verdict::JE));
}
both!(worker_connection_, worker_connection);

/// A database that schema version 1 left (test results in their own table) is upgraded in
/// place: the table goes, each submission's row holds its progress, nothing else changes.
async fn upgrade_from_version_1(place: &Place) {
    let store = open(place).await;
    let ids = store.create_submissions(&[new_sub("a", None), new_sub("a", None)]).await.unwrap();
    let c = store.claim("w", LEASE).await.unwrap().unwrap();
    assert!(store.finish(&c, &Outcome::Judged(result(Verdict::AC, vec![test_result("1", Verdict::AC)]))).await.unwrap());
    let running = store.claim("w", LEASE).await.unwrap().unwrap();
    assert!(store.set_running(&running, "").await.unwrap());
    drop(store);
    // Back to version 1's schema, with a test result row of the running one.
    let mut c = sqlx::AnyConnection::connect(&place.url()).await.unwrap();
    for sql in [
        "ALTER TABLE submissions DROP COLUMN progress",
        "DROP INDEX submissions_status_verdict",
        "CREATE TABLE test_results (submission_id BIGINT NOT NULL, attempt BIGINT NOT NULL, idx BIGINT NOT NULL, \
         result TEXT NOT NULL, PRIMARY KEY (submission_id, idx))",
        "UPDATE schema_version SET version = 1",
    ] {
        sqlx::Executor::execute(&mut c, sql).await.unwrap();
    }
    sqlx::query("INSERT INTO test_results (submission_id, attempt, idx, result) VALUES ($1, 1, 0, $2)")
        .bind(ids[1])
        .bind(serde_json::to_string(&test_result("1", Verdict::AC)).unwrap())
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();

    let store = open(place).await;
    let done = store.submission(ids[0]).await.unwrap().unwrap();
    assert_eq!((done.status, done.verdict, done.tests.len()), (Status::Done, Some(Verdict::AC), 1));
    let s = store.submission(ids[1]).await.unwrap().unwrap();
    assert_eq!((s.status, s.tests.len()), (Status::Running, 0), "partial results of version 1 are dropped");
    assert!(store.add_test_result(&running, 0, &test_result("1", Verdict::WA)).await.unwrap());
    assert_eq!(store.submission(ids[1]).await.unwrap().unwrap().tests, vec![test_result("1", Verdict::WA)]);
    let mut c = sqlx::AnyConnection::connect(&place.url()).await.unwrap();
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM schema_version").fetch_one(&mut c).await.unwrap();
    assert_eq!(version, 2);
    assert!(sqlx::Executor::execute(&mut c, "SELECT COUNT(*) FROM test_results").await.is_err(), "test_results is gone");
}
both!(upgrade_from_version_1_, upgrade_from_version_1);

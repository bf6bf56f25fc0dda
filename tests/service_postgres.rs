//! Many machines sharing PostgreSQL: one `judge serve --workers 0`, three `judge worker`
//! processes (each fetching packages from the service over HTTP into its own cache), 300
//! submissions, one worker SIGKILLed mid-judging: every submission ends judged exactly once.
//!
//! Needs a PostgreSQL server: `JUDGE_TEST_DATABASE_URL=postgres://USER:PASS@HOST/DB` (CI starts
//! Debian's with `tests/pg/start.sh`). Without it the test says so and passes, unless
//! `JUDGE_REQUIRE_POSTGRES=1` (set by CI), where it fails.
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test service_postgres`.

mod service_common;

use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use service_common::*;
use sqlx::Connection;

/// A fresh database on the test server, dropped at the end.
struct TestDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDb {
    fn create() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("JUDGE_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("JUDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "JUDGE_REQUIRE_POSTGRES=1 but JUDGE_TEST_DATABASE_URL is not set"
            );
            eprintln!("skipped: JUDGE_TEST_DATABASE_URL is not set (see tests/pg/start.sh)");
            return None;
        };
        let name = format!("judge_e2e_{}_{}", std::process::id(), Instant::now().elapsed().as_nanos() % 1_000_000 + rand_suffix());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| panic!("connect to {admin_url}: {e}"));
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap_or_else(|e| panic!("create database {name}: {e}"));
        });
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        Some(TestDb { admin_url, name, url })
    }
}

impl TestDb {
    /// One number from a query on the test database.
    fn scalar(&self, sql: &str) -> i64 {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap_or_else(|e| panic!("connect to {}: {e}", self.url));
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut c).await;
            }
        });
    }
}

#[test]
fn three_workers_300_submissions_one_killed_each_judged_exactly_once() {
    let Some(db) = TestDb::create() else { return };
    let tmp = tempdir("judge-pg-");
    let data = tmp.path().join("data");
    let admin = add_token("admin", &["--database", &db.url]);
    let lease = "3";
    let svc = Service::start("serve", &["--data", data.to_str().unwrap(), "--database", &db.url, "--workers", "0", "--lease-seconds", lease], tmp.path());
    let pkg = ab_package(tmp.path(), 3);
    let version = svc.upload_problem(&admin, "ab", targz(&pkg))["version"].as_str().expect("version").to_owned();

    // 300 submissions first (all stored before any worker starts: one batch call and single ones).
    let n = 300;
    let wrong = |i: usize| i % 10 == 7;
    let batch: Vec<_> = (0..100).map(|i| json!({"problem": "ab", "language": "python", "source": if wrong(i) { AB_PY_WRONG } else { AB_PY }})).collect();
    let created = svc.call(reqwest::Method::POST, "/v1/submissions/batch", &admin, Some(&json!({ "submissions": batch })));
    let mut ids: Vec<i64> = created["ids"].as_array().unwrap_or_else(|| panic!("batch response: {created}")).iter().map(|v| v.as_i64().unwrap()).collect();
    for i in 100..n {
        ids.push(svc.submit(&admin, "ab", "python", if wrong(i) { AB_PY_WRONG } else { AB_PY }));
    }
    assert_eq!(ids.len(), n);

    let caches: Vec<_> = (0..3).map(|i| tmp.path().join(format!("cache-{i}"))).collect();
    let mut workers: Vec<Proc> = (0..3)
        .map(|i| {
            Proc::spawn(
                &format!("worker-{i}"),
                &["worker", "--database", &db.url, "--workers", "1", "--cache", caches[i].to_str().unwrap(), "--lease-seconds", lease],
                tmp.path(),
            )
        })
        .collect();

    // Once a few dozen are done (the workers are all busy: the queue is long), SIGKILL one.
    let until = Instant::now() + Duration::from_secs(300);
    loop {
        let done = svc.call(reqwest::Method::GET, "/v1/submissions?status=done&limit=1000", &admin, None);
        if done["submissions"].as_array().map_or(0, Vec::len) >= 30 {
            break;
        }
        for w in &mut workers {
            assert!(w.is_running(), "{} exited:\n{}", w.name, w.log_text());
        }
        assert!(Instant::now() < until, "fewer than 30 judged in 300 s");
        thread::sleep(Duration::from_millis(100));
    }
    // SIGKILL worker 0 while it holds a claim. Its claim is read from the database right after
    // the kill (nothing changes it until the lease expires): if the worker had just finished
    // one, start it again and retry, so that the test always covers a kill mid-judging.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_owned();
    let held = |pid: i32| db.scalar(&format!(
        "SELECT count(*) FROM submissions WHERE lease_worker = '{host}-{pid}-0' AND status IN ('compiling', 'running')"
    ));
    let mut killed_holding = 0;
    for attempt in 0.. {
        assert!(attempt < 20, "worker 0 never held a claim when killed");
        let pid = workers[0].pid();
        while held(pid) == 0 {
            thread::sleep(Duration::from_millis(5));
        }
        workers[0].kill9();
        killed_holding = held(pid);
        if killed_holding == 1 {
            break;
        }
        workers[0] = Proc::spawn("worker-0", &["worker", "--database", &db.url, "--workers", "1", "--cache", caches[0].to_str().unwrap(), "--lease-seconds", lease], tmp.path());
    }

    let results = svc.wait_all(&admin, &ids, Duration::from_secs(900));
    let mut rejudged = 0;
    for (i, s) in results.iter().enumerate() {
        assert_eq!(s["judged_count"], 1, "submission {} judged more or less than once: {s}", ids[i]);
        assert_eq!(s["verdict"], if wrong(i) { "WA" } else { "AC" }, "{s}");
        assert_eq!(s["version"], version.as_str());
        if s["attempts"].as_i64().unwrap_or(0) > 1 {
            rejudged += 1;
        }
    }
    // The killed worker held one claim: exactly that submission was judged again from the start.
    assert_eq!((killed_holding, rejudged), (1, 1), "expected exactly one submission to be re-claimed after the SIGKILL");
    // The workers fetched the package from the service over HTTP into their own caches.
    for c in &caches[1..] {
        assert!(c.join(&version).join("problem.yaml").is_file(), "package not cached in {}", c.display());
    }
    for w in &mut workers[1..] {
        assert!(w.is_running(), "{} exited:\n{}", w.name, w.log_text());
    }
}

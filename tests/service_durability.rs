//! Durability of `judge serve` on its embedded SQLite database, for real: start the service,
//! submit, `kill -9` it while a submission is being judged, restart it on the same data
//! directory, and check that every acknowledged submission is judged exactly once (the one that
//! was mid-judging again from the start) and nothing finished was lost.
//!
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test service_durability`.

mod service_common;

use std::thread;
use std::time::{Duration, Instant};

use service_common::*;

#[test]
fn kill_9_mid_judging_then_restart_judges_every_submission_exactly_once() {
    let tmp = tempdir("judge-durability-");
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    let admin = add_token("admin", &["--data", data_s]);
    let submitter = add_token("submitter", &["--data", data_s]);
    let pkg = ab_package(tmp.path(), 4);

    // One worker, a short lease so the restarted service reclaims the interrupted one soon.
    let args = ["--data", data_s, "--workers", "1", "--lease-seconds", "2"];
    let svc = Service::start("serve-1", &args, tmp.path());
    svc.upload_problem(&admin, "ab", targz(&pkg));

    // The first submission is quick and finishes before the kill; the slow ones (~0.3 s of CPU
    // per test) keep the worker busy.
    let first = svc.submit(&submitter, "ab", "python", AB_PY);
    let done_before = svc.wait_all(&submitter, &[first], Duration::from_secs(120)).remove(0);
    assert_eq!(done_before["verdict"], "AC", "{done_before}");
    let slow = ab_py_slow(300);
    let mut ids: Vec<i64> = (0..5).map(|_| svc.submit(&submitter, "ab", "python", &slow)).collect();
    ids.push(svc.submit(&submitter, "ab", "python", AB_PY_WRONG));

    // Wait until a submission is being judged (a test result stored, not yet done), then kill -9.
    let until = Instant::now() + Duration::from_secs(120);
    let victim = loop {
        let hit = ids.iter().copied().find(|&id| {
            let s = svc.submission(&submitter, id, 0);
            s["status"] == "running" && s["tests"].as_array().is_some_and(|t| !t.is_empty())
        });
        if let Some(id) = hit {
            break id;
        }
        assert!(Instant::now() < until, "no submission reached `running` with a test result");
        thread::sleep(Duration::from_millis(20));
    };
    let Service { proc: mut serve1, .. } = svc;
    serve1.kill9();

    // Restart on the same data directory (another port): every acknowledged submission is there.
    let svc = Service::start("serve-2", &args, tmp.path());
    let all: Vec<i64> = std::iter::once(first).chain(ids.iter().copied()).collect();
    let results = svc.wait_all(&submitter, &all, Duration::from_secs(180));
    for (id, s) in all.iter().zip(&results) {
        assert_eq!(s["status"], "done", "{s}");
        assert_eq!(s["judged_count"], 1, "submission {id} judged more or less than once: {s}");
        let expected = if *id == *ids.last().unwrap() { "WA" } else { "AC" };
        assert_eq!(s["verdict"], expected, "submission {id}: {s}");
    }
    // The finished one is unchanged; the interrupted one was judged again from the start.
    assert_eq!(results[0], done_before, "a finished result changed across the restart");
    let v = &results[all.iter().position(|&i| i == victim).unwrap()];
    assert_eq!(v["attempts"], 2, "the submission judged at the kill must have been judged again: {v}");
    assert_eq!(v["tests"].as_array().map(Vec::len), Some(4), "{v}");
    // Nothing else was judged twice.
    for (id, s) in all.iter().zip(&results) {
        if *id != victim {
            assert!(s["attempts"].as_i64().unwrap_or(0) <= 2, "{s}");
        }
    }
}

#[test]
fn sigterm_stops_the_service_and_a_restart_keeps_queued_submissions() {
    let tmp = tempdir("judge-durability-");
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    let admin = add_token("admin", &["--data", data_s]);
    let pkg = ab_package(tmp.path(), 2);

    // No workers: submissions stay queued across a clean stop.
    let svc = Service::start("serve-a", &["--data", data_s, "--workers", "0"], tmp.path());
    svc.upload_problem(&admin, "ab", targz(&pkg));
    let ids: Vec<i64> = (0..3).map(|_| svc.submit(&admin, "ab", "c", AB_C)).collect();
    let Service { proc: mut p, .. } = svc;
    // SAFETY: kill(2) on our own unreaped child.
    unsafe { libc::kill(p.pid(), libc::SIGTERM) };
    let until = Instant::now() + Duration::from_secs(30);
    while p.is_running() {
        assert!(Instant::now() < until, "judge serve did not stop on SIGTERM:\n{}", p.log_text());
        thread::sleep(Duration::from_millis(20));
    }
    let status = p.child.wait().unwrap();
    assert!(status.success(), "judge serve exited with {status} on SIGTERM:\n{}", p.log_text());

    let svc = Service::start("serve-b", &["--data", data_s, "--workers", "1"], tmp.path());
    for s in svc.wait_all(&admin, &ids, Duration::from_secs(120)) {
        assert_eq!((s["verdict"].as_str(), s["judged_count"].as_i64()), (Some("AC"), Some(1)), "{s}");
    }
}

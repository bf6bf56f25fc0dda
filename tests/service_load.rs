//! The load generator against a real service (bounded, loopback): every submission judged,
//! none lost, no errors; and `POST /v1/run` of `/bin/true` under concurrency. Throughput and
//! latency figures are in BENCHMARKS.md (a 1000-submission run); this test only checks
//! correctness, never timings.
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test service_load`.

mod service_common;

use std::process::Command;

use serde_json::Value;
use service_common::*;

fn load(args: &[&str], token: &str) -> Value {
    let out = Command::new(JUDGE).arg("load").args(args).arg("--json").env("JUDGE_TOKEN", token).output().expect("run judge load");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "judge load {args:?} failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("judge load output is not JSON ({e}): {text}"))
}

#[test]
fn load_generator_judges_every_submission_and_runs_every_command() {
    let tmp = tempdir("judge-load-");
    let data = tmp.path().join("data");
    let data_s = data.to_str().unwrap();
    let admin = add_token("admin", &["--data", data_s]);
    let submitter = add_token("submitter", &["--data", data_s]);
    // Two I/O threads (one is the default on this machine's 2 cores).
    let svc = Service::start("serve", &["--data", data_s, "--workers", "2", "--io-threads", "2"], tmp.path());
    svc.upload_problem(&admin, "ab", targz(&ab_package(tmp.path(), 3)));
    let src = tmp.path().join("ab.py");
    write_file(&src, AB_PY);

    let r = load(&["--url", &svc.base, "--problem", "ab", "--language", "python", "--source", src.to_str().unwrap(), "--count", "100", "--concurrency", "16"], &submitter);
    assert_eq!((r["ok"].as_u64(), r["errors"].as_u64(), r["lost"].as_u64()), (Some(100), Some(0), Some(0)), "{r}");

    // Each worker's thread runs on the CPU its boxes are pinned to (worker i: CPU i % cores).
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut workers = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{}/task", svc.proc.pid())).unwrap() {
        let task = task.unwrap().path();
        let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if let Some(i) = comm.trim().strip_prefix("judge-worker-") {
            let status = std::fs::read_to_string(task.join("status")).unwrap();
            let allowed = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap().trim().to_owned();
            assert_eq!(allowed, (i.parse::<usize>().unwrap() % cores).to_string(), "worker thread {i}");
            workers.push(i.to_owned());
        }
    }
    workers.sort();
    assert_eq!(workers, ["0", "1"], "one thread per worker");

    // Each submission's source went to a temporary directory of its own, removed after.
    let left: Vec<_> = std::fs::read_dir(Proc::temp_dir(tmp.path())).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "left in the service's TMPDIR: {left:?}");

    let r = load(&["--url", &svc.base, "--run", r#"{"cmd":[{"args":["/bin/true"]}]}"#, "--count", "300", "--concurrency", "8"], &submitter);
    assert_eq!((r["ok"].as_u64(), r["errors"].as_u64()), (Some(300), Some(0)), "{r}");

    // The load generator notices failures: a wrong expectation makes every submission an error.
    let out = Command::new(JUDGE)
        .args(["load", "--url", &svc.base, "--problem", "ab", "--language", "python", "--source", src.to_str().unwrap(), "--count", "3", "--expect", "WA", "--json"])
        .env("JUDGE_TOKEN", &submitter)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["errors"].as_u64(), Some(3), "{r}");
}

/// `--io-threads` at least one, `--progress-ms` at most 10000 (the service and the workers run
/// with any number of I/O threads given, and the default progress interval).
#[test]
fn io_threads_and_progress_ms_are_checked() {
    for cmd in ["serve", "worker"] {
        for (option, value) in [("--io-threads", "0"), ("--progress-ms", "10001"), ("--progress-ms", "soon")] {
            let out = Command::new(JUDGE).args([cmd, option, value, "--database", "postgres://nowhere/x"]).output().expect("run judge");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "judge {cmd} {option} {value}: {err}");
            assert!(err.contains(option), "the error names the option: {err}");
        }
    }
}

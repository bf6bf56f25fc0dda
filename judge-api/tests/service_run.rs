//! `POST /v1/run`'s work (`service::run::run`) through the real sandbox.
//!
//! Needs root (the sandbox creates namespaces, cgroups and mounts). Run it inside a throwaway
//! namespace: `unshare -m -p -f --mount-proc cargo test -p judge-api --test service_run`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use judge_api::service::run::{self, RunOutputFile, RunRequest, RunRequestError, RunResponse};
use runner::{Sandbox, Status};

fn sandbox() -> &'static Sandbox {
    common::sandbox("service_run")
}

fn request(json: serde_json::Value) -> RunRequest {
    serde_json::from_value(json).expect("a valid request")
}

/// Runs `json` with a fresh scratch directory (mode 0700, as a per-request temp dir is) and
/// checks the request left nothing behind in it.
fn run_json(json: serde_json::Value) -> Result<RunResponse, RunRequestError> {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let r = run::run(sandbox(), &request(json), scratch.path());
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the request left files behind");
    r
}

fn ok(json: serde_json::Value) -> RunResponse {
    run_json(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn text(r: &run::RunResult, name: &str) -> String {
    match r.files.get(name) {
        Some(RunOutputFile::Content(s)) => s.clone(),
        other => panic!("{name}: {other:?} (errors {:?})", r.file_errors),
    }
}

#[test]
fn true_exits_zero_and_touches_no_disk() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("not-created");
    let r = run::run(sandbox(), &request(serde_json::json!({"cmd": [{"args": ["/bin/true"]}]})), &missing).unwrap();
    assert_eq!(r.results.len(), 1);
    assert_eq!(r.results[0].report.status, Status::Ok);
    assert_eq!(r.results[0].report.exit_code, Some(0));
    assert!(r.results[0].files.is_empty());
    assert!(!missing.exists(), "a request without files created its scratch directory");
    // The report keeps `judge run`'s serialization, flattened.
    let v = serde_json::to_value(&r).unwrap();
    let first = &v["results"][0];
    assert_eq!(first["status"], "ok");
    assert_eq!(first["limits"]["cpu_time_ms"], 10_000);
    assert_eq!(first["limits"]["wall_time_ms"], 21_000);
    assert_eq!(first["limits"]["memory_bytes"], 512u64 << 20);
    assert!(first["cpu_time_us"].is_u64());
    let back: RunResponse = serde_json::from_value(v).unwrap();
    assert_eq!(back.results[0].report.status, Status::Ok);
}

#[test]
fn echo_stdout_stderr_and_exit_code() {
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"],
        "copy_out": ["stdout", "stderr"]}]}));
    let r = &r.results[0];
    assert_eq!(r.report.status, Status::NonzeroExit);
    assert_eq!(r.report.exit_code, Some(3));
    assert_eq!(text(r, "stdout"), "hi\n");
    assert_eq!(text(r, "stderr"), "oops\n");
    assert_eq!(r.report.stdout_bytes, Some(3));
    // PATH lookup and env.
    let r = ok(serde_json::json!({"cmd": [{"args": ["sh", "-c", "echo $A-$HOME"], "env": ["A=1"], "copy_out": ["stdout"]}]}));
    assert_eq!(text(&r.results[0], "stdout"), "1-/box\n");
}

#[test]
fn stdin_content_base64_and_file() {
    let r = ok(serde_json::json!({"cmd": [{"args": ["/bin/cat"], "stdin": {"content": "abc\ndef\n"}, "copy_out": ["stdout"]}]}));
    assert_eq!(text(&r.results[0], "stdout"), "abc\ndef\n");
    // Bytes that are not UTF-8 come back as base64.
    let r = ok(serde_json::json!({"cmd": [{"args": ["/bin/cat"], "stdin": {"base64": "/wABAg=="}, "copy_out": ["stdout"]}]}));
    assert_eq!(r.results[0].files["stdout"], RunOutputFile::Base64("/wABAg==".into()));
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/bin/cat"], "stdin": {"file": "in.txt"},
        "files": {"in.txt": {"content": "from a file\n"}}, "copy_out": ["stdout"]}]}));
    assert_eq!(text(&r.results[0], "stdout"), "from a file\n");
}

#[test]
fn streams_touch_no_disk_and_large_stdin_never_blocks() {
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("not-created");
    let big: String = (0..200_000).map(|i| format!("{i}\n")).collect();
    let req = request(serde_json::json!({"cmd": [{
        "args": ["/bin/cat"], "stdin": {"content": big}, "copy_out": ["stdout", "stderr"],
        "copy_out_max_bytes": 16u64 << 20}]}));
    let r = run::run(sandbox(), &req, &missing).unwrap();
    assert_eq!(r.results[0].report.status, Status::Ok, "{}", r.results[0].report.message);
    assert_eq!(text(&r.results[0], "stdout"), big);
    assert_eq!(text(&r.results[0], "stderr"), "");
    assert_eq!(r.results[0].report.stdout_bytes, Some(big.len() as u64));
    assert!(!missing.exists(), "streams went through the disk");
    // A program that never reads a large stdin: the feeding thread must not hang the request.
    let req = request(serde_json::json!({"cmd": [{"args": ["/bin/true"], "stdin": {"content": big}}]}));
    assert_eq!(run::run(sandbox(), &req, &missing).unwrap().results[0].report.status, Status::Ok);
    // A program that is not found, with a large stdin: the same.
    let req = request(serde_json::json!({"cmd": [{"args": ["/no/such"], "stdin": {"content": big}}]}));
    assert!(matches!(run::run(sandbox(), &req, &missing), Err(RunRequestError::Invalid(_))));
    // Output beyond copy_out_max_bytes is drained (the program is not blocked) and cut.
    let req = request(serde_json::json!({"cmd": [{
        "args": ["/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' b; echo end >&2"],
        "copy_out": ["stdout", "stderr"], "copy_out_max_bytes": 10}]}));
    let r = run::run(sandbox(), &req, &missing).unwrap();
    let r = &r.results[0];
    assert_eq!(r.report.status, Status::Ok, "{}", r.report.message);
    assert_eq!(text(r, "stdout"), "bbbbbbbbbb");
    assert_eq!(text(r, "stderr"), "end\n");
    assert_eq!(r.files_truncated, vec!["stdout".to_string()]);
    assert_eq!(r.report.stdout_bytes, Some(3_000_000));
}

#[test]
fn program_reads_an_input_file_and_writes_an_output_file() {
    let py = "import sys\nn = [int(x) for x in open('in.txt').read().split()]\nopen('out.txt', 'w').write(str(sum(n)) + '\\n')\nprint('done')\n";
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/usr/bin/python3", "main.py"],
        "files": {"main.py": {"content": py}, "in.txt": {"content": "1 2 3 4\n"}},
        "copy_out": ["stdout", "out.txt", "missing.txt"]}]}));
    let r = &r.results[0];
    assert_eq!(r.report.status, Status::Ok, "{}", r.report.message);
    assert_eq!(text(r, "out.txt"), "10\n");
    assert_eq!(text(r, "stdout"), "done\n");
    assert_eq!(r.file_errors.get("missing.txt").map(String::as_str), Some("no such file"));

    // An executable input file, and a large output cut at copy_out_max_bytes.
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["./gen.sh"],
        "files": {"gen.sh": {"content": "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' a > big.txt\n", "executable": true}},
        "copy_out": ["big.txt"], "copy_out_max_bytes": 1000}]}));
    let r = &r.results[0];
    assert_eq!(r.report.status, Status::Ok, "{}", r.report.message);
    assert_eq!(text(r, "big.txt"), "a".repeat(1000));
    assert_eq!(r.files_truncated, vec!["big.txt".to_string()]);
}

#[test]
fn planted_links_and_fifos_are_not_read_back() {
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/bin/sh", "-c", "ln -s /etc/shadow shadow; mkfifo fifo; mkdir d; echo x > real"],
        "files": {"seed": {"content": ""}},
        "copy_out": ["shadow", "fifo", "d", "real"]}]}));
    let r = &r.results[0];
    assert_eq!(r.report.status, Status::Ok, "{}", r.report.message);
    assert!(r.file_errors["shadow"].contains("symbolic link"), "{:?}", r.file_errors);
    assert_eq!(r.file_errors["fifo"], "not a regular file");
    assert_eq!(r.file_errors["d"], "not a regular file");
    assert_eq!(text(r, "real"), "x\n");
}

#[test]
fn time_and_memory_limits() {
    let r = ok(serde_json::json!({"cmd": [{"args": ["/bin/sh", "-c", "while :; do :; done"], "limits": {"time_ms": 300}}]}));
    assert_eq!(r.results[0].report.status, Status::TimeLimit, "{}", r.results[0].report.message);
    let r = ok(serde_json::json!({"cmd": [{"args": ["/bin/sleep", "10"], "limits": {"time_ms": 1000, "wall_time_ms": 300}}]}));
    assert_eq!(r.results[0].report.status, Status::WallTimeLimit, "{}", r.results[0].report.message);
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/usr/bin/python3", "-c", "x = bytearray(200 << 20); print(len(x))"],
        "limits": {"memory_bytes": 64u64 << 20}}]}));
    assert_eq!(r.results[0].report.status, Status::MemoryLimit, "{}", r.results[0].report.message);
    let r = ok(serde_json::json!({"cmd": [{
        "args": ["/bin/sh", "-c", "head -c 100000 /dev/zero"], "limits": {"output_bytes": 1000}, "copy_out": ["stdout"]}]}));
    assert_eq!(r.results[0].report.status, Status::OutputLimit, "{}", r.results[0].report.message);
    assert!(r.results[0].files["stdout"].bytes().len() <= 1000);
}

#[test]
fn forward_pipe() {
    let r = ok(serde_json::json!({
        "cmd": [{"args": ["seq", "1", "1000"]}, {"args": ["wc", "-l"], "copy_out": ["stdout"]}],
        "pipe": "forward"}));
    assert_eq!(r.results.len(), 2);
    assert_eq!(r.results[0].report.status, Status::Ok);
    assert_eq!(r.results[1].report.status, Status::Ok);
    assert_eq!(text(&r.results[1], "stdout").trim(), "1000");
}

#[test]
fn a_missing_program_in_a_pipe_fails_fast() {
    for (pipe, missing) in [("forward", 0), ("forward", 1), ("interactive", 0), ("interactive", 1)] {
        let mut cmds = vec![serde_json::json!({"args": ["cat"]}), serde_json::json!({"args": ["cat"]})];
        cmds[missing] = serde_json::json!({"args": ["/no/such/program"]});
        let t = std::time::Instant::now();
        let r = run_json(serde_json::json!({"cmd": cmds, "pipe": pipe}));
        match r {
            Err(RunRequestError::Invalid(m)) => assert!(m.starts_with(&format!("cmd[{missing}].args[0]:")), "{m}"),
            other => panic!("{pipe} {missing}: {other:?}"),
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(5), "{pipe} {missing}: took {:?}", t.elapsed());
    }
}

#[test]
fn interactive_pipe() {
    // cmd 0 guesses a number by bisection; cmd 1 answers "lower"/"higher"/"yes".
    let guesser = "import sys\nlo, hi = 1, 1000\nn = 0\nwhile True:\n    m = (lo + hi) // 2\n    n += 1\n    print(m, flush=True)\n    a = sys.stdin.readline().strip()\n    if a == 'yes':\n        break\n    if a == 'higher':\n        lo = m + 1\n    else:\n        hi = m - 1\nopen('guesses', 'w').write(str(n))\n";
    let oracle = "import sys\nsecret = 737\nwhile True:\n    g = int(sys.stdin.readline())\n    if g == secret:\n        print('yes', flush=True)\n        sys.stderr.write('found %d\\n' % g)\n        break\n    print('higher' if g < secret else 'lower', flush=True)\n";
    let r = ok(serde_json::json!({
        "cmd": [
            {"args": ["python3", "g.py"], "files": {"g.py": {"content": guesser}}, "copy_out": ["guesses"]},
            {"args": ["python3", "-c", oracle], "copy_out": ["stderr"], "limits": {"time_ms": 2000}}],
        "pipe": "interactive"}));
    assert_eq!(r.results[0].report.status, Status::Ok, "{}", r.results[0].report.message);
    assert_eq!(r.results[1].report.status, Status::Ok, "{}", r.results[1].report.message);
    assert_eq!(text(&r.results[1], "stderr"), "found 737\n");
    let n: u32 = text(&r.results[0], "guesses").parse().unwrap();
    assert!((1..=10).contains(&n), "{n} guesses");
}

#[test]
fn invalid_requests_name_the_field() {
    let invalid = |json: serde_json::Value| match run_json(json.clone()) {
        Err(RunRequestError::Invalid(m)) => m,
        other => panic!("{json}: expected Invalid, got {other:?}"),
    };
    assert!(invalid(serde_json::json!({"cmd": []})).starts_with("cmd:"));
    assert!(invalid(serde_json::json!({"cmd": [{"args": ["a"]}, {"args": ["b"]}, {"args": ["c"]}], "pipe": "forward"})).starts_with("cmd:"));
    let m = invalid(serde_json::json!({"cmd": [{"args": ["cat"], "files": {"../x": {"content": "x"}}}]}));
    assert!(m.starts_with("cmd[0].files:") && m.contains("../x"), "{m}");
    let m = invalid(serde_json::json!({"cmd": [{"args": ["cat"], "limits": {"memory_bytes": 1u64 << 40}}]}));
    assert!(m.starts_with("cmd[0].limits.memory_bytes:") && m.contains("above the maximum"), "{m}");
    let m = invalid(serde_json::json!({"cmd": [{"args": ["/no/such/program"]}]}));
    assert!(m.starts_with("cmd[0].args[0]:") && m.contains("not found"), "{m}");
    // Unknown fields are refused by deserialization, naming the field.
    let e = run::parse_request(br#"{"cmd":[{"args":["a"],"copyOut":["stdout"]}]}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `copyOut`"), "{e}");
}

/// Not a test of behaviour: how many `/bin/true` requests `run()` does per second, one after
/// another and from two threads. `cargo test ... -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let req = request(serde_json::json!({"cmd": [{"args": ["/bin/true"]}]}));
    let scratch = Path::new("/nonexistent-scratch");
    for _ in 0..20 {
        run::run(sandbox(), &req, scratch).unwrap();
    }
    let n = 300;
    let t = std::time::Instant::now();
    for _ in 0..n {
        run::run(sandbox(), &req, scratch).unwrap();
    }
    let serial = n as f64 / t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..n / 4 {
                    run::run(sandbox(), &req, scratch).unwrap();
                }
            });
        }
    });
    let parallel = n as f64 / t.elapsed().as_secs_f64();
    let req = request(serde_json::json!({"cmd": [{"args": ["/bin/echo", "hi"], "copy_out": ["stdout"]}]}));
    let tmp = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        run::run(sandbox(), &req, tmp.path()).unwrap();
    }
    let echo = n as f64 / t.elapsed().as_secs_f64();
    let req = request(serde_json::json!({"cmd": [{"args": ["/bin/echo", "hi"]}]}));
    let t = std::time::Instant::now();
    for _ in 0..n {
        run::run(sandbox(), &req, tmp.path()).unwrap();
    }
    let echo_plain = n as f64 / t.elapsed().as_secs_f64();
    eprintln!(
        "run(): /bin/true {serial:.0} runs/s serial, {parallel:.0} runs/s from 4 threads; \
         /bin/echo {echo_plain:.0} runs/s serial, with copy_out stdout {echo:.0} runs/s serial"
    );
}

#[test]
fn box_writes_to_a_tmpfs_scratch_count_against_the_memory_limit() {
    let shm = Path::new("/dev/shm");
    let is_tmpfs = std::fs::read_to_string("/proc/self/mounts")
        .unwrap()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/dev/shm") && l.split_whitespace().nth(2) == Some("tmpfs"));
    if !is_tmpfs {
        eprintln!("skipped: /dev/shm is not a tmpfs here");
        return;
    }
    let scratch = tempfile::tempdir_in(shm).unwrap();
    // 200 files of 1 MiB each (under the 2 MiB output limit) against a 64 MiB memory limit.
    let req = request(serde_json::json!({"cmd": [{
        "args": ["/bin/sh", "-c", "i=0; while [ $i -lt 200 ]; do head -c 1048576 /dev/zero > f$i || exit 7; i=$((i+1)); done"],
        "files": {"seed": {"content": ""}},
        "limits": {"memory_bytes": 64u64 << 20, "output_bytes": 2u64 << 20}}]}));
    let r = run::run(sandbox(), &req, scratch.path()).unwrap();
    let rep = &r.results[0].report;
    eprintln!("{:?} {:?} {} memory {}", rep.status, rep.exit_code, rep.message, rep.memory_bytes);
    assert!(
        rep.status == Status::MemoryLimit || rep.exit_code == Some(7),
        "{:?} {:?}: {}",
        rep.status,
        rep.exit_code,
        rep.message
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

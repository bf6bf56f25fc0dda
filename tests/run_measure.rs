//! What the report says: memory peak, CPU time against the kernel's own rusage, wall time,
//! exit codes and signals, limits echoed, stdin, and judge's own errors.
//!
//! All tests here take `serial()`: CPU-time comparisons must not compete for the 2 cores.
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test run_measure`.

mod common;

use std::fs;
use std::process::Command;

use common::*;

/// Box CPU time and rusage of the same busy loop outside must agree within this fraction.
const CPU_TOLERANCE: f64 = 0.05;

#[test]
fn memory_peak_of_48_mib() {
    let _serial = serial();
    let run = run(&[], &["memhog", "48", "1", "300"]);
    run.expect_status("ok");
    let mem = run.num("memory_bytes");
    if !(48 * MIB..=64 * MIB).contains(&mem) {
        run.fail(&format!(
            "memory_bytes {mem} ({} MiB) not in [48, 64] MiB",
            mem / MIB
        ));
    }
}

/// CPU time (user + system, ms) of `spin ITERS` run on the host, from wait4's rusage.
/// A busy loop is not hostile, so it may run outside the box.
fn host_cpu_ms(iters: u64) -> f64 {
    let (cpu_ms, _, exited_ok) = host_run("spin", &[&iters.to_string()], None);
    assert!(exited_ok, "spin {iters} failed on the host");
    cpu_ms
}

#[test]
fn cpu_time_agrees_with_rusage() {
    let _serial = serial();
    // Calibrate the loop to about 0.4 s of CPU on this machine.
    let probe = 100_000_000;
    let per_iter = host_cpu_ms(probe) / probe as f64;
    let iters = (400.0 / per_iter) as u64;
    let (mut host, mut boxed) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        host.push(host_cpu_ms(iters));
        let run = run(&[], &["spin", &iters.to_string()]);
        run.expect_status("ok");
        boxed.push(run.num("cpu_time_ms") as f64);
    }
    let (h, b) = (median(host.clone()), median(boxed.clone()));
    let diff = (b - h).abs() / h;
    eprintln!("cpu time of {iters} iterations: box {boxed:?} ms, host rusage {host:?} ms, differ by {:.2}%", diff * 100.0);
    assert!(
        diff <= CPU_TOLERANCE,
        "box cpu_time_ms median {b} vs host rusage median {h:.1} differ by {:.1}% (> {:.0}%); host {host:?}, box {boxed:?}",
        diff * 100.0,
        CPU_TOLERANCE * 100.0
    );
}

#[test]
fn sleeping_program_reports_wall_time_not_cpu_time() {
    let _serial = serial();
    let run = run(&[], &["sleep_ms", "300"]);
    run.expect_status("ok");
    let (wall, cpu) = (run.num("wall_time_ms"), run.num("cpu_time_ms"));
    if !(300..1000).contains(&wall) {
        run.fail(&format!("wall_time_ms {wall} not in [300, 1000)"));
    }
    if cpu > 50 {
        run.fail(&format!("cpu_time_ms {cpu} for a program that only sleeps"));
    }
}

#[test]
fn exit_zero_is_ok() {
    let _serial = serial();
    let run = run(&[], &["die", "exit", "0"]);
    run.expect_status("ok");
    if run.report()["exit_code"] != 0 || !run.report()["signal"].is_null() {
        run.fail("expected exit_code 0 and signal null");
    }
}

#[test]
fn nonzero_exit_code_is_reported() {
    let _serial = serial();
    let run = run(&[], &["die", "exit", "3"]);
    run.expect_status("nonzero_exit");
    if run.report()["exit_code"] != 3 || !run.report()["signal"].is_null() {
        run.fail("expected exit_code 3 and signal null");
    }
}

fn expect_signal(program: &[&str], signal: i32) {
    let run = run(&[], program);
    run.expect_status("signaled");
    if run.report()["signal"] != signal || !run.report()["exit_code"].is_null() {
        run.fail(&format!("expected signal {signal} and exit_code null"));
    }
}

#[test]
fn signals_are_reported() {
    let _serial = serial();
    expect_signal(&["die", "signal", "11"], libc::SIGSEGV);
    expect_signal(&["die", "segv"], libc::SIGSEGV);
    expect_signal(&["die", "abort"], libc::SIGABRT);
    expect_signal(&["die", "signal", "9"], libc::SIGKILL);
}

#[test]
fn limits_and_defaults_are_echoed() {
    let _serial = serial();
    let run = run(&[], &["die", "exit", "0"]);
    let expected = [
        ("cpu_time_ms", 10_000),
        ("wall_time_ms", 21_000),
        ("memory_bytes", 512 * MIB),
        ("pids", 64),
        ("output_bytes", 64 * MIB),
    ];
    for (key, value) in expected {
        if run.limit(key) != value {
            run.fail(&format!(
                "default limits.{key} is {}, expected {value}",
                run.limit(key)
            ));
        }
    }
    let run = Judge::new(
        &[
            "--time", "0.5", "--mem", "100M", "--pids", "7", "--output", "512K",
        ],
        &["die", "exit", "0"],
    )
    .run();
    let expected = [
        ("cpu_time_ms", 500),
        ("wall_time_ms", 2000),
        ("memory_bytes", 100 * MIB),
        ("pids", 7),
        ("output_bytes", 512 * KIB),
    ];
    for (key, value) in expected {
        if run.limit(key) != value {
            run.fail(&format!(
                "limits.{key} is {}, expected {value}",
                run.limit(key)
            ));
        }
    }
    let box_id = run.report()["box_id"]
        .as_str()
        .unwrap_or_else(|| run.fail("no string box_id"));
    if !box_id.starts_with("box-") {
        run.fail("box_id does not look like box-N");
    }
}

#[test]
fn stdin_defaults_to_dev_null_and_stdin_file_is_read() {
    let _serial = serial();
    // judge's own stdin stays open: a box that inherited it would block until the wall limit.
    let run = Judge::new(&["--wall", "5"], &["cat"])
        .keep_stdin_open()
        .run();
    run.expect_status("ok");
    if !run.stdout.is_empty() {
        run.fail("cat of the default stdin printed something");
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    fs::write(&input, "hello box\n").unwrap();
    let run = common::run(&["--stdin", input.to_str().unwrap()], &["cat"]);
    run.expect_status("ok");
    if run.out() != "hello box\n" {
        run.fail("the --stdin file did not reach the program");
    }
}

#[test]
fn stdout_and_stderr_files() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let run = run(
        &[
            "--stdout",
            out.to_str().unwrap(),
            "--stderr",
            err.to_str().unwrap(),
        ],
        &["fsprobe", "r", "/nonexistent"],
    );
    run.expect_status("ok");
    if fs::read_to_string(&out).ok().as_deref() != Some("r /nonexistent errno=2\n") {
        run.fail(&format!(
            "--stdout file holds {:?}",
            fs::read_to_string(&out)
        ));
    }
    if !run.stdout.is_empty() {
        run.fail("with --stdout, judge's own stdout should carry nothing of the program");
    }
}

#[test]
fn program_not_found_is_a_judge_error() {
    let _serial = serial();
    let run = Judge::new(&[], &["no-such-program-4711"]).spawn().wait();
    if run.exit.success() {
        run.fail("judge exited 0 for a program that does not exist");
    }
    if !run.stderr.contains("no-such-program-4711") {
        run.fail("judge's error message does not name the missing program");
    }
}

#[test]
fn bad_arguments_are_rejected_before_running() {
    let _serial = serial();
    let dir = shared_dir(0o777);
    let d = dir.path().to_str().unwrap();
    for (opt, value) in [
        ("--mem", "lots"),
        ("--mem", "12Q"),
        ("--time", "abc"),
        ("--time", "-1"),
        ("--pids", "x"),
    ] {
        let run = Judge::raw(&[
            opt,
            value,
            "--bind",
            d,
            "/out",
            "--ro-bind",
            programs_dir().to_str().unwrap(),
            PROGS,
            "--",
            "/progs/fsprobe",
            "w",
            "/out/ran",
        ])
        .spawn()
        .wait();
        if run.exit.success() {
            run.fail(&format!("judge accepted {opt} {value}"));
        }
        if run.exit.code() != Some(2) {
            run.fail(&format!(
                "judge should exit 2 on bad arguments, exited {:?}",
                run.exit
            ));
        }
        let name = opt.trim_start_matches('-');
        if !run.stderr.to_lowercase().contains(name) && !run.stderr.contains(value) {
            run.fail(&format!(
                "the error message names neither `{name}` nor `{value}`"
            ));
        }
        if dir.path().join("ran").exists() {
            run.fail(&format!("the program ran despite {opt} {value}"));
        }
    }
}

#[test]
fn without_root_judge_refuses_and_says_why() {
    let _serial = serial();
    // The sandbox never runs a program it cannot confine: as an unprivileged user it refuses.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", JUDGE, "run", "--", "/bin/true"])
        .output()
        .expect("run setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "judge as uid 65534 should exit 2; stderr: {stderr}");
    assert!(stderr.contains("root"), "the message should say the sandbox needs root: {stderr}");
}

#[test]
fn ignored_signals_of_judge_are_not_inherited() {
    let _serial = serial();
    // Rust ignores SIGPIPE in judge itself; a program in the box must get the default action,
    // or `yes | head` would never end the writer.
    let run = Judge::raw(&["--", "/bin/bash", "-c", "yes | head -c 1 >/dev/null; echo status=${PIPESTATUS[0]}"]).spawn().wait();
    run.expect_status("ok");
    if !run.out().contains("status=141") {
        run.fail("the writer of a closed pipe was not killed by SIGPIPE (exit 141)");
    }
}

//! Nothing of a run may outlive it: processes of the box uid, cgroups, mounts. Also when judge
//! is interrupted (SIGINT/SIGTERM) or killed (SIGKILL) mid-run.
//!
//! Every test takes `serial()`: "nothing left" means no process of any box uid in our pid
//! namespace and none of the cgroups our runs used (other judges may run on the same host).
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test run_cleanup`.

mod common;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

fn assert_cgroups_removed(run: &Run) {
    let paths = run.cgroup_paths();
    if paths.is_empty() {
        run.fail("report lists no cgroup_paths");
    }
    let left: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    if !left.is_empty() {
        run.fail(&format!("cgroups of the run still exist: {left:?}"));
    }
}

#[test]
fn normal_run_leaves_nothing() {
    let _serial = serial();
    let mounts_before = mounts();
    let run = run(&[], &["whoami"]);
    run.expect_status("ok");
    assert_cgroups_removed(&run);
    // Nothing had to be killed; the program joined its cgroup by writing cgroup.procs (this
    // host's cgroup is v1: clone3's CLONE_INTO_CGROUP is v2 only, see tests/vm_cgroup_v2.rs).
    if !run.report()["kill_method"].is_null() {
        run.fail("kill_method should be null when nothing was killed");
    }
    if run.report()["cgroup_entry"] != "cgroup.procs" {
        run.fail("on cgroup v1 the program must enter its cgroup through cgroup.procs");
    }
    assert_nothing_left(&mounts_before, "after a normal run");
}

#[test]
fn double_forked_daemon_is_killed() {
    let _serial = serial();
    let mounts_before = mounts();
    let run = Judge::new(&["--wall", "10"], &["daemon"])
        .deadline(Duration::from_secs(30))
        .run();
    if run.status() != "ok" && run.status() != "wall_time_limit" {
        run.fail("expected ok (the main process exits 0) or wall_time_limit");
    }
    assert_cgroups_removed(&run);
    assert_nothing_left(
        &mounts_before,
        "after a run whose program left a setsid daemon",
    );
}

#[test]
fn limit_kill_leaves_nothing() {
    let _serial = serial();
    let mounts_before = mounts();
    let run = run(&["--time", "0.5"], &["childspin"]);
    run.expect_status("time_limit");
    // The supervisor killed the box through its cgroup: on v1, freeze then SIGKILL each task.
    if run.report()["kill_method"] != "freeze+sigkill" {
        run.fail("a limit kill on cgroup v1 must go through the freezer (kill_method freeze+sigkill)");
    }
    assert_cgroups_removed(&run);
    let run = run_oom();
    assert_cgroups_removed(&run);
    assert_nothing_left(
        &mounts_before,
        "after runs stopped by time and memory limits",
    );
}

/// An OOM-killed box that also left a file on its /tmp (tmpfs pages charged to its cgroup).
fn run_oom() -> Run {
    let run = run(
        &["--mem", "32M", "--output", "100M"],
        &["fillfile", "/tmp/f", "100"],
    );
    if run.status() != "memory_limit" && !run.out().contains("error") {
        run.fail("expected memory_limit or a write error for 100 MiB in /tmp under --mem 32M");
    }
    run
}

/// Starts a long run, waits until its program is up, learns its cgroups, and returns judge.
fn start_sleeper() -> (Running, Vec<PathBuf>) {
    let running = Judge::new(&["--time", "60", "--wall", "60"], &["sleep_ms", "60000"])
        .deadline(Duration::from_secs(30))
        .spawn();
    let program = wait_for_box_process("sleep_ms", Duration::from_secs(10));
    let cgroups = learn_cgroups_of(program.pid);
    assert!(
        !cgroups.is_empty(),
        "found no box-* cgroup in /proc/{}/cgroup",
        program.pid
    );
    (running, cgroups)
}

fn interrupt_mid_run(signal: i32, name: &str) {
    let _serial = serial();
    let mounts_before = mounts();
    let (running, _) = start_sleeper();
    running.signal(signal);
    let run = running.wait();
    if run.elapsed > Duration::from_secs(10) {
        run.fail(&format!("judge took {:?} to react to {name}", run.elapsed));
    }
    if run.exit.success() {
        run.fail(&format!(
            "judge exited 0 after {name}; it must exit non-zero"
        ));
    }
    if let Some(report) = &run.report {
        if report["cgroup_paths"].is_array() {
            assert_cgroups_removed(&run);
        }
    }
    assert_nothing_left(&mounts_before, &format!("after {name} to judge mid-run"));
}

#[test]
fn sigint_mid_run_cleans_up() {
    interrupt_mid_run(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_mid_run_cleans_up() {
    interrupt_mid_run(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigkill_of_judge_kills_the_box_and_next_run_sweeps() {
    let _serial = serial();
    let mounts_before = mounts();
    let (running, cgroups) = start_sleeper();
    running.signal(libc::SIGKILL);
    let run = running.wait();
    assert!(!run.exit.success());
    // The box must die with judge.
    let start = Instant::now();
    loop {
        let left = box_processes();
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "box processes still alive {:?} after judge was SIGKILLed: {left:?}",
            start.elapsed()
        );
        thread::sleep(Duration::from_millis(20));
    }
    // Nobody is left to remove the killed run's cgroups; the next run sweeps them.
    let next = common::run(&[], &["whoami"]);
    next.expect_status("ok");
    assert_cgroups_removed(&next);
    let left: Vec<&PathBuf> = cgroups.iter().filter(|p| p.exists()).collect();
    assert!(
        left.is_empty(),
        "the next run did not sweep the killed run's cgroups: {left:?}"
    );
    assert_nothing_left(&mounts_before, "after SIGKILL of judge and one more run");
}

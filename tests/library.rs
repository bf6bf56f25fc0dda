//! Black-box tests of the `runner` library used the way the judge layer and the HTTP service use
//! it: one long-lived process, one `Arc<Sandbox>`, many boxes at once from tokio code.
//!
//! Every test takes `serial()`: "nothing left" means no process of any box uid in our pid
//! namespace and none of the cgroups our runs used (other judges may run on the same host).
//! Every test is bounded in time, and a failing test SIGKILLs whatever box processes remain.
//! Needs root. Run inside a throwaway namespace:
//! `unshare -m -p -f --mount-proc cargo test --test library`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::future::Future;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runner::cgroup::BOX_PREFIX;
use runner::slot::SlotPool;
use runner::{
    BindMount, CancelToken, Error, Input, Output, Report, RunSpec, Sandbox, Status, SLOTS,
    STATE_DIR, UID_BASE,
};

use common::*;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A sandbox with the default configuration; panics (never skips) when not root.
fn sandbox() -> Arc<Sandbox> {
    // SAFETY: geteuid(2) has no failure mode.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "tests/library.rs needs root (the sandbox creates namespaces, cgroups and mounts); \
         run it as root inside a throwaway namespace: \
         `unshare -m -p -f --mount-proc cargo test --test library`"
    );
    programs_dir(); // compile once, before any box needs /progs
    Arc::new(Sandbox::with_defaults().unwrap_or_else(|e| panic!("Sandbox::with_defaults: {e}")))
}

/// `/progs/PROGRAM ARGS` with the compiled test programs mounted read-only on /progs.
fn spec(program: &str, args: &[&str]) -> RunSpec {
    let mut s = RunSpec::new(format!("{PROGS}/{program}"));
    s.args = args.iter().map(|a| a.to_string()).collect();
    s.mounts.push(BindMount {
        src: programs_dir().to_path_buf(),
        dest: PROGS.into(),
        writable: false,
    });
    s
}

/// Awaits `fut`, failing the test if it takes longer than `limit`.
async fn bounded<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!(
            "{what}: did not finish within {limit:?} (load {}); box processes: {:#?}",
            loadavg(),
            box_processes()
        ),
    }
}

/// SIGKILLs every box process of our pid namespace if the test fails, so a failed test does not
/// leave boxes running (the runtime's drop waits for the blocking runs).
struct KillBoxesOnPanic;

impl Drop for KillBoxesOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let killed = kill_box_processes();
            if !killed.is_empty() {
                eprintln!("test failed; SIGKILLed {} box process(es): {killed:#?}", killed.len());
            }
            // SIGKILL is asynchronous: wait for them to die, so the next test starts clean.
            let start = Instant::now();
            while !box_processes().is_empty() && start.elapsed() < Duration::from_secs(5) {
                kill_box_processes();
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// The `key=value` lines of a program's output.
fn kv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The box name and host cgroup directories of the box that runs as `uid`.
fn box_dirs_of_uid(sb: &Sandbox, uid: u32) -> (String, Vec<PathBuf>) {
    let name = format!("{BOX_PREFIX}{}", uid - UID_BASE);
    let dirs = sb.hierarchy().box_dirs(&name);
    (name, dirs)
}

/// Is slot `index` free (no live supervisor holds its lock)? Takes the lock for an instant.
fn slot_is_free(index: u32) -> bool {
    let pool = SlotPool::new(Path::new(STATE_DIR), SLOTS).expect("open the slot pool");
    pool.try_acquire(index).expect("try a slot lock").is_some()
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (polling /proc) until a box process named `name` runs; fails after `limit`.
async fn wait_for_box_program(name: &str, limit: Duration) -> ProcInfo {
    let start = Instant::now();
    loop {
        if let Some(p) = box_processes().into_iter().find(|p| p.name == name) {
            return p;
        }
        assert!(
            start.elapsed() < limit,
            "no box process named {name} appeared within {limit:?} (load {})",
            loadavg()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts that nothing of the box that ran as `uid` is left: no process of its uid, no cgroup
/// directory, and its slot lock is free. Polls up to `grace` (zero: must already hold).
async fn assert_box_gone(sb: &Sandbox, uid: u32, extra_dirs: &[PathBuf], grace: Duration, context: &str) {
    let (name, mut dirs) = box_dirs_of_uid(sb, uid);
    dirs.extend(extra_dirs.iter().cloned());
    let start = Instant::now();
    let gone = eventually(grace, || {
        processes_where(|u| u == uid).is_empty() && dirs.iter().all(|d| !d.exists()) && slot_is_free(uid - UID_BASE)
    })
    .await;
    assert!(
        gone,
        "{context}: box {name} (uid {uid}) not cleaned up within {grace:?} (waited {:?}): \
         processes {:#?}, cgroup dirs left {:#?}, slot free: {}",
        start.elapsed(),
        processes_where(|u| u == uid),
        dirs.iter().filter(|d| d.exists()).collect::<Vec<_>>(),
        slot_is_free(uid - UID_BASE)
    );
}

fn assert_no_box_processes(context: &str) {
    let procs = box_processes();
    assert!(procs.is_empty(), "{context}: box processes left: {procs:#?}");
}

fn assert_cgroups_gone(reports: &[&Report], context: &str) {
    for r in reports {
        assert!(!r.cgroup_paths.is_empty(), "{context}: report lists no cgroup_paths: {r:#?}");
        let left: Vec<&String> = r.cgroup_paths.iter().filter(|p| Path::new(p).exists()).collect();
        assert!(left.is_empty(), "{context}: cgroups of {} still exist: {left:?}", r.box_id);
    }
}

/// A pipe (both ends close-on-exec): (read, write).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) fills the two-element array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and ours.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Reads a pipe to EOF on the blocking pool.
fn read_to_end_in_background(read: OwnedFd) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        fs::File::from(read).read_to_end(&mut buf).expect("read the pump pipe");
        buf
    })
}

/// The descriptors this process has open, with what they point to.
fn open_fds() -> Vec<(i32, String)> {
    fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_string_lossy().parse().ok()?;
            let target = fs::read_link(e.path()).ok()?.display().to_string();
            Some((fd, target))
        })
        .collect()
}

fn expect_report(what: &str, res: Result<Report, Error>) -> Report {
    res.unwrap_or_else(|e| panic!("{what}: run failed: {e} ({e:?})"))
}

// ---------------------------------------------------------------------------------------------
// 1. Many boxes at once

const CONCURRENT: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_runs_are_isolated_and_leave_nothing() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    let out_dir = tempfile::tempdir().unwrap();
    bounded("32 concurrent runs", Duration::from_secs(240), async {
        // Watches /proc while the runs go: the most box programs seen alive at once.
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicUsize::new(0));
        let monitor = {
            let (stop, peak) = (stop.clone(), peak.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let uids: BTreeSet<u32> =
                        box_processes().iter().filter(|p| p.name == "whoami").map(|p| p.uids[0]).collect();
                    peak.fetch_max(uids.len(), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };

        let runs: Vec<_> = (0..CONCURRENT)
            .map(|i| {
                let sb = Arc::clone(&sb);
                let path = out_dir.path().join(format!("out-{i}.txt"));
                // Every program lingers 500 ms before printing, so the boxes overlap.
                let mut s = spec("whoami", &["500"]);
                s.stdout = Output::File(path.clone());
                s.limits.wall_time = Duration::from_secs(60);
                tokio::spawn(async move { (path, sb.run_async(s).await) })
            })
            .collect();
        let mut done = Vec::new();
        for r in runs {
            let (path, res) = r.await.expect("run task panicked");
            done.push((path, expect_report("concurrent whoami", res)));
        }
        stop.store(true, Ordering::Relaxed);
        monitor.await.unwrap();

        let mut uids = BTreeSet::new();
        let mut boxes = BTreeSet::new();
        for (path, report) in &done {
            assert_eq!(report.status, Status::Ok, "{}: {report:#?}", path.display());
            assert_eq!(report.exit_code, Some(0), "{report:#?}");
            assert!(
                (UID_BASE..UID_BASE + SLOTS).contains(&report.uid),
                "uid {} outside the box range: {report:#?}",
                report.uid
            );
            uids.insert(report.uid);
            boxes.insert(report.box_id.clone());
            // The file holds exactly this box's output: its own uid, once.
            let text = fs::read_to_string(path).unwrap();
            let uid_lines = text.lines().filter(|l| l.starts_with("uid=")).count();
            assert_eq!(uid_lines, 1, "{}: expected one uid= line (cross-talk?):\n{text}", path.display());
            let vals = kv(&text);
            let want = report.uid.to_string();
            for key in ["uid", "euid", "gid", "egid"] {
                assert_eq!(
                    vals.get(key),
                    Some(&want),
                    "{}: {key} in the output is not the report's uid {want} (cross-talk?):\n{text}",
                    path.display()
                );
            }
            assert_eq!(vals.get("nodename").map(String::as_str), Some("judge"), "{text}");
            assert_eq!(report.stdout_bytes, Some(text.len() as u64), "{report:#?}");
        }
        assert_eq!(uids.len(), CONCURRENT, "overlapping runs shared uids: {uids:?}");
        assert_eq!(boxes.len(), CONCURRENT, "overlapping runs shared box ids: {boxes:?}");
        let peak = peak.load(Ordering::Relaxed);
        assert!(
            peak >= 4,
            "at most {peak} boxes ran at once out of {CONCURRENT} concurrent 500 ms runs: \
             the library serializes runs (load {})",
            loadavg()
        );
        eprintln!("peak boxes alive at once: {peak}");

        // Every run has returned: nothing of any of them may be left.
        assert_no_box_processes("after 32 concurrent runs");
        let reports: Vec<&Report> = done.iter().map(|(_, r)| r).collect();
        assert_cgroups_gone(&reports, "after 32 concurrent runs");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Hostile and normal boxes side by side

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_hostile_and_normal_runs_each_get_their_own_verdict() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    bounded("mixed concurrent runs", Duration::from_secs(240), async {
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Kind {
            Spin,
            Hog,
            Normal,
            Exit3,
        }
        let mut specs = Vec::new();
        for i in 0..8 {
            // Busy loop with 0.5 s of CPU; a long wall limit so that 8 of them sharing a noisy
            // host still end on CPU, not wall time.
            let mut s = spec("spin", &[]);
            s.limits.cpu_time = Duration::from_millis(500);
            s.limits.wall_time = Duration::from_secs(60);
            specs.push((Kind::Spin, s));

            // Touches 64 MiB under a 32 MiB limit.
            let mut s = spec("memhog", &["64"]);
            s.limits.memory_bytes = 32 * MIB;
            s.limits.wall_time = Duration::from_secs(60);
            specs.push((Kind::Hog, s));

            // Normal runs that would fail under a neighbour's limits: 48 MiB under 128 MiB
            // (the hogs have 32 MiB), or 0.8 s of CPU under 5 s (the busy loops have 0.5 s).
            let mut s = if i % 2 == 0 {
                let mut s = spec("memhog", &["48", "1", "300"]);
                s.limits.memory_bytes = 128 * MIB;
                s
            } else {
                let mut s = spec("cpuburn", &["800"]);
                s.limits.cpu_time = Duration::from_secs(5);
                s
            };
            s.limits.wall_time = Duration::from_secs(60);
            specs.push((Kind::Normal, s));

            let mut s = spec("die", &["exit", "3"]);
            s.limits.wall_time = Duration::from_secs(60);
            specs.push((Kind::Exit3, s));
        }
        let runs: Vec<_> = specs
            .into_iter()
            .map(|(kind, s)| {
                let sb = Arc::clone(&sb);
                let limits = s.limits.clone();
                tokio::spawn(async move { (kind, limits, sb.run_async(s).await) })
            })
            .collect();
        let mut reports = Vec::new();
        for r in runs {
            let (kind, limits, res) = r.await.expect("run task panicked");
            let report = expect_report(&format!("{kind:?}"), res);
            // The report's limits are this run's own, not a neighbour's.
            assert_eq!(report.limits.cpu_time_ms, limits.cpu_time.as_millis() as u64, "{kind:?}: {report:#?}");
            assert_eq!(report.limits.wall_time_ms, limits.wall_time.as_millis() as u64, "{kind:?}: {report:#?}");
            assert_eq!(report.limits.memory_bytes, limits.memory_bytes, "{kind:?}: {report:#?}");
            match kind {
                Kind::Spin => {
                    assert_eq!(report.status, Status::TimeLimit, "busy loop: {report:#?}");
                    assert!(report.cpu_time_ms >= 500, "busy loop stopped early: {report:#?}");
                    assert!(report.cpu_time_ms < 5000, "busy loop far over its 0.5 s: {report:#?}");
                }
                Kind::Hog => {
                    assert_eq!(report.status, Status::MemoryLimit, "memory hog: {report:#?}");
                    assert!(report.memory_bytes <= 32 * MIB, "hog's peak above its 32 MiB limit: {report:#?}");
                }
                Kind::Normal if limits.memory_bytes == 128 * MIB => {
                    assert_eq!(report.status, Status::Ok, "48 MiB under 128 MiB: {report:#?}");
                    assert_eq!(report.exit_code, Some(0), "{report:#?}");
                    assert!(report.memory_bytes >= 48 * MIB, "peak memory below the 48 MiB touched: {report:#?}");
                }
                Kind::Normal => {
                    assert_eq!(report.status, Status::Ok, "0.8 s of CPU under 5 s: {report:#?}");
                    assert_eq!(report.exit_code, Some(0), "{report:#?}");
                    assert!(report.cpu_time_ms >= 800, "CPU time below the 0.8 s burnt: {report:#?}");
                }
                Kind::Exit3 => {
                    assert_eq!(report.status, Status::NonzeroExit, "exit 3: {report:#?}");
                    assert_eq!(report.exit_code, Some(3), "{report:#?}");
                    assert_eq!(report.signal, None, "{report:#?}");
                }
            }
            reports.push(report);
        }
        let uids: BTreeSet<u32> = reports.iter().map(|r| r.uid).collect();
        assert_eq!(uids.len(), reports.len(), "concurrent runs shared uids");
        assert_no_box_processes("after the mixed runs");
        assert_cgroups_gone(&reports.iter().collect::<Vec<_>>(), "after the mixed runs");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Cancellation

/// A sleeper that would outlive the test's patience by far, but not forever.
fn long_sleeper() -> RunSpec {
    let mut s = spec("sleep_ms", &["30000"]);
    s.limits.wall_time = Duration::from_secs(40);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropping_run_async_kills_the_box_and_frees_everything() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    bounded("cancel by drop", Duration::from_secs(120), async {
        assert_no_box_processes("before the test");
        // Boxed, so that `drop(fut)` really drops the future (a `tokio::pin!` would only drop
        // the reference).
        let mut fut = Box::pin(sb.run_async(long_sleeper()));
        // Let it run for 200 ms (the future is polled, not dropped, by this timeout).
        if let Ok(res) = tokio::time::timeout(Duration::from_millis(200), &mut fut).await {
            panic!("a 30 s sleeper ended within 200 ms: {res:?}");
        }
        // Before dropping: find the box (its uid, cgroups) while it runs.
        let proc_ = tokio::select! {
            res = &mut fut => panic!("a 30 s sleeper ended early: {res:?}"),
            p = wait_for_box_program("sleep_ms", Duration::from_secs(30)) => p,
        };
        let uid = proc_.uids[0];
        let (name, dirs) = box_dirs_of_uid(&sb, uid);
        let seen = learn_cgroups_of(proc_.pid);
        assert!(
            dirs.iter().all(|d| d.exists()),
            "box {name} of the running sleeper has no cgroup dirs {dirs:?} (cgroups per /proc: {seen:?})"
        );
        assert!(!slot_is_free(uid - UID_BASE), "slot of running box {name} is not locked");
        drop(fut);
        let dropped = Instant::now();
        assert_box_gone(&sb, uid, &seen, Duration::from_secs(2), "after dropping run_async").await;
        eprintln!("box {name} gone {:?} after the drop", dropped.elapsed());

        // Eight at once, as when many clients of the service go away together.
        let mut futs: Vec<_> = (0..8).map(|_| Box::pin(sb.run_async(long_sleeper()))).collect();
        let start = Instant::now();
        let uids: BTreeSet<u32> = loop {
            for f in futs.iter_mut() {
                if let Ok(res) = tokio::time::timeout(Duration::from_millis(1), f).await {
                    panic!("a 30 s sleeper ended early: {res:?}");
                }
            }
            let uids: BTreeSet<u32> =
                box_processes().iter().filter(|p| p.name == "sleep_ms").map(|p| p.uids[0]).collect();
            if uids.len() == 8 {
                break uids;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "8 sleepers did not all start: {uids:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        drop(futs);
        for uid in uids {
            assert_box_gone(&sb, uid, &[], Duration::from_secs(3), "after dropping 8 run_async futures").await;
        }
        assert_no_box_processes("after dropping 8 run_async futures");

        // The sandbox is still fine afterwards.
        let report = expect_report("run after cancellations", sb.run_async(spec("whoami", &[])).await);
        assert_eq!(report.status, Status::Ok, "{report:#?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_token_from_another_thread_returns_cancelled_and_cleans_up() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    bounded("cancel by token", Duration::from_secs(120), async {
        assert_no_box_processes("before the test");
        let token = CancelToken::new().expect("eventfd");
        // The canceller: another OS thread that waits for the box's program, then cancels.
        let canceller = {
            let token = token.clone();
            std::thread::spawn(move || {
                let p = wait_for_box_process("sleep_ms", Duration::from_secs(30));
                std::thread::sleep(Duration::from_millis(200));
                let cgroups = learn_cgroups_of(p.pid);
                token.cancel();
                (p, cgroups, Instant::now())
            })
        };
        let run = {
            let sb = Arc::clone(&sb);
            let token = token.clone();
            tokio::task::spawn_blocking(move || sb.run_with_cancel(&long_sleeper(), Some(&token)))
        };
        let res = bounded("run_with_cancel after cancel()", Duration::from_secs(60), run)
            .await
            .expect("run thread panicked");
        let returned = Instant::now();
        let (p, cgroups, cancelled_at) = canceller.join().expect("canceller panicked");
        assert!(matches!(res, Err(Error::Cancelled)), "cancelled run returned {res:?}");
        eprintln!("run_with_cancel returned {:?} after cancel()", returned.duration_since(cancelled_at));
        // The run has returned: everything must be gone already.
        assert_box_gone(&sb, p.uids[0], &cgroups, Duration::ZERO, "right after run_with_cancel returned").await;

        // A token cancelled before the run starts: the run never gets going.
        let early = CancelToken::new().expect("eventfd");
        early.cancel();
        let res = {
            let sb = Arc::clone(&sb);
            bounded(
                "pre-cancelled run",
                Duration::from_secs(30),
                tokio::task::spawn_blocking(move || sb.run_with_cancel(&long_sleeper(), Some(&early))),
            )
            .await
            .expect("run thread panicked")
        };
        assert!(matches!(res, Err(Error::Cancelled)), "pre-cancelled run returned {res:?}");
        assert_no_box_processes("after a pre-cancelled run");

        let report = expect_report("run after cancellations", sb.run_async(spec("whoami", &[])).await);
        assert_eq!(report.status, Status::Ok, "{report:#?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. Errors

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn errors_name_their_cause_and_leave_nothing_behind() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    bounded("failing runs", Duration::from_secs(240), async {
        assert_no_box_processes("before the test");
        // Steady state first (the network namespace factory keeps a few ready).
        let warm = expect_report("warm-up run", sb.run_async(spec("whoami", &[])).await);
        assert_eq!(warm.status, Status::Ok, "{warm:#?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fds_before = open_fds();
        let boxes_before: BTreeSet<String> = sb.hierarchy().existing_boxes().into_iter().collect();

        // The single cases, with their messages.
        let err = sb.run_async(spec("no-such-program", &[])).await.expect_err("missing program ran");
        assert!(matches!(err, Error::ProgramNotFound { .. }), "missing /progs program: {err:?}");
        assert!(err.to_string().contains("/progs/no-such-program"), "message does not name the program: {err}");

        let err = sb.run_async(RunSpec::new("no-such-command")).await.expect_err("missing command ran");
        assert!(matches!(err, Error::ProgramNotFound { .. }), "missing PATH command: {err:?}");
        assert!(err.to_string().contains("no-such-command"), "message does not name the program: {err}");

        let mut s = spec("whoami", &[]);
        s.limits.memory_bytes = 0;
        let err = sb.run_async(s).await.expect_err("memory limit 0 ran");
        assert!(matches!(err, Error::Spec(_)), "memory limit 0: {err:?}");

        let err = sb.run_async(RunSpec::new("")).await.expect_err("empty program ran");
        assert!(matches!(err, Error::Spec(_)), "empty program: {err:?}");

        // 50 failing runs at once, of every kind that fails before, during and after the box
        // is set up.
        let missing_dir = tempfile::tempdir().unwrap();
        let nowhere = missing_dir.path().join("no/such/dir");
        let failing: Vec<(&'static str, RunSpec)> = (0..50)
            .map(|i| match i % 7 {
                0 => ("not found", spec("no-such-program", &[])),
                1 => ("not found in PATH", RunSpec::new("no-such-command")),
                2 => ("spec", {
                    let mut s = spec("whoami", &[]);
                    s.limits.memory_bytes = 0;
                    s
                }),
                3 => ("spec", RunSpec::new("")),
                4 => ("stdio", {
                    let mut s = spec("whoami", &[]);
                    s.stdin = Input::File(nowhere.join("in"));
                    s
                }),
                5 => ("stdio", {
                    let mut s = spec("whoami", &[]);
                    s.stdout = Output::File(nowhere.join("out"));
                    s
                }),
                _ => ("setup", {
                    // A working directory that is a file: chdir fails in the box.
                    let mut s = spec("whoami", &[]);
                    s.workdir = format!("{PROGS}/whoami").into();
                    s
                }),
            })
            .collect();
        let runs: Vec<_> = failing
            .into_iter()
            .map(|(kind, s)| {
                let sb = Arc::clone(&sb);
                tokio::spawn(async move { (kind, sb.run_async(s).await) })
            })
            .collect();
        for r in runs {
            let (kind, res) = r.await.expect("run task panicked");
            let ok = match (&res, kind) {
                (Err(Error::ProgramNotFound { .. }), "not found" | "not found in PATH") => true,
                (Err(Error::Spec(_)), "spec") => true,
                (Err(Error::Stdio { .. }), "stdio") => true,
                (Err(Error::Setup { .. }), "setup") => true,
                _ => false,
            };
            assert!(ok, "{kind} run: unexpected result {res:?}");
        }

        // Nothing of the failed runs is left: no process, no open descriptor (slot locks,
        // pipes), no cgroup directory whose slot nobody holds.
        assert_no_box_processes("after 50 failing runs");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fds_after = open_fds();
        let slot_fds: Vec<&(i32, String)> = fds_after.iter().filter(|(_, t)| t.starts_with(STATE_DIR)).collect();
        assert!(slot_fds.is_empty(), "slot locks still open after the runs: {slot_fds:?}");
        // The network namespace factory may hold one or two more or fewer; a leak per run
        // would show as dozens.
        assert!(
            fds_after.len() <= fds_before.len() + 3,
            "descriptors leaked by 50 failing runs: {} before, {} after\nbefore: {fds_before:?}\nafter: {fds_after:?}",
            fds_before.len(),
            fds_after.len()
        );
        let leftovers: Vec<String> = sb
            .hierarchy()
            .existing_boxes()
            .into_iter()
            .filter(|name| !boxes_before.contains(name))
            .filter(|name| {
                let index: u32 = name.strip_prefix(BOX_PREFIX).and_then(|n| n.parse().ok()).unwrap_or(u32::MAX);
                // A box directory is fine while a live supervisor (of any process) holds its slot.
                index < SLOTS && slot_is_free(index) && sb.hierarchy().box_dirs(name).iter().any(|d| d.exists())
            })
            .collect();
        assert!(leftovers.is_empty(), "cgroup dirs left by the failed runs (slot free, dir still there): {leftovers:?}");

        // The slots came back: normal runs still work, several at once.
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let sb = Arc::clone(&sb);
                tokio::spawn(async move { sb.run_async(spec("whoami", &[])).await })
            })
            .collect();
        let mut reports = Vec::new();
        for r in runs {
            let report = expect_report("run after the failures", r.await.unwrap());
            assert_eq!(report.status, Status::Ok, "{report:#?}");
            reports.push(report);
        }
        assert_no_box_processes("after the runs that followed the failures");
        assert_cgroups_gone(&reports.iter().collect::<Vec<_>>(), "after the runs that followed the failures");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. Pumped output

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pumped_output_arrives_and_is_cut_at_the_limit() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    bounded("pumped runs", Duration::from_secs(180), async {
        const LIMIT: u64 = 64 * KIB;
        // Four boxes print their ids and four flood 16 MiB against a 64 KiB limit, all at
        // once, each into its own pipe that the test reads.
        let runs: Vec<_> = (0..8)
            .map(|i| {
                let flood = i % 2 == 1;
                let (out_r, out_w) = pipe();
                let (err_r, err_w) = pipe();
                let mut s = if flood { spec("flood", &["16777216"]) } else { spec("whoami", &["200"]) };
                s.stdout = Output::Pump(out_w.as_raw_fd());
                s.stderr = Output::Pump(err_w.as_raw_fd());
                s.limits.wall_time = Duration::from_secs(60);
                if flood {
                    s.limits.output_bytes = LIMIT;
                }
                let sb = Arc::clone(&sb);
                let out = read_to_end_in_background(out_r);
                let err = read_to_end_in_background(err_r);
                tokio::spawn(async move {
                    let res = sb.run_async(s).await;
                    // Our write ends: closing them lets the readers see EOF.
                    drop((out_w, err_w));
                    (flood, res, out.await.unwrap(), err.await.unwrap())
                })
            })
            .collect();
        let mut reports = Vec::new();
        for r in runs {
            let (flood, res, out, err) = r.await.expect("run task panicked");
            let report = expect_report(if flood { "flood" } else { "whoami" }, res);
            if flood {
                assert_eq!(report.status, Status::OutputLimit, "flood: {report:#?}");
                assert!(
                    out.len() as u64 <= LIMIT,
                    "{} bytes arrived through the pump, above the {LIMIT}-byte limit",
                    out.len()
                );
                assert!(!out.is_empty(), "nothing of the flood arrived: {report:#?}");
                assert!(out.iter().all(|&b| b == b'x'), "the flood's bytes arrived mangled");
            } else {
                let text = String::from_utf8_lossy(&out).into_owned();
                assert_eq!(report.status, Status::Ok, "{report:#?}\noutput:\n{text}");
                assert_eq!(
                    kv(&text).get("uid"),
                    Some(&report.uid.to_string()),
                    "pumped output is not this box's (cross-talk?):\n{text}"
                );
                assert_eq!(text.lines().filter(|l| l.starts_with("uid=")).count(), 1, "{text}");
                assert_eq!(report.stdout_bytes, Some(out.len() as u64), "{report:#?}");
            }
            assert!(err.is_empty(), "unexpected stderr: {}", String::from_utf8_lossy(&err));
            reports.push(report);
        }
        assert_no_box_processes("after the pumped runs");
        assert_cgroups_gone(&reports.iter().collect::<Vec<_>>(), "after the pumped runs");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. Files as stdio

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stdin_file_feeds_the_program_and_shared_stdout_stderr_file_gets_both() {
    let _serial = serial();
    let _kill = KillBoxesOnPanic;
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    bounded("file stdio runs", Duration::from_secs(180), async {
        // Eight cats at once, each with its own input (distinct, 256 KiB and more).
        let runs: Vec<_> = (0..8u32)
            .map(|i| {
                let input: Vec<u8> = (0..(256 * 1024 + i * 4099))
                    .map(|j| (j.wrapping_mul(2654435761).wrapping_add(i * 7919) >> 13) as u8)
                    .collect();
                let in_path = dir.path().join(format!("in-{i}"));
                let out_path = dir.path().join(format!("out-{i}"));
                fs::write(&in_path, &input).unwrap();
                let mut s = spec("cat", &[]);
                s.stdin = Input::File(in_path);
                s.stdout = Output::File(out_path.clone());
                // stderr to the same file as stdout: cat writes nothing there, and the shared
                // file must not be truncated or clobbered by the second stream.
                s.stderr = Output::File(out_path.clone());
                s.limits.wall_time = Duration::from_secs(60);
                let sb = Arc::clone(&sb);
                tokio::spawn(async move { (input, out_path, sb.run_async(s).await) })
            })
            .collect();
        let mut reports = Vec::new();
        for r in runs {
            let (input, out_path, res) = r.await.expect("run task panicked");
            let report = expect_report("cat", res);
            assert_eq!(report.status, Status::Ok, "{report:#?}");
            let out = fs::read(&out_path).unwrap();
            assert!(
                out == input,
                "{}: stdout ({} bytes) differs from the stdin file ({} bytes)",
                out_path.display(),
                out.len(),
                input.len()
            );
            assert_eq!(report.stdout_bytes, Some(input.len() as u64), "{report:#?}");
            reports.push(report);
        }

        // stdout and stderr to one file: every line of both streams, in the order written.
        let both = dir.path().join("both.txt");
        fs::write(&both, "stale content that must be truncated away\n".repeat(100)).unwrap();
        let mut s = spec("twostreams", &["200"]);
        s.stdout = Output::File(both.clone());
        s.stderr = Output::File(both.clone());
        let report = expect_report("twostreams", sb.run_async(s).await);
        assert_eq!(report.status, Status::Ok, "{report:#?}");
        let expected: String =
            (0..200).map(|i| format!("{} {i}\n", if i % 2 == 1 { "err" } else { "out" })).collect();
        let got = fs::read_to_string(&both).unwrap();
        assert!(
            got == expected,
            "stdout and stderr in one file: got {} bytes, expected {}\ngot:\n{got}",
            got.len(),
            expected.len()
        );
        reports.push(report);

        assert_no_box_processes("after the file stdio runs");
        assert_cgroups_gone(&reports.iter().collect::<Vec<_>>(), "after the file stdio runs");
    })
    .await;
}

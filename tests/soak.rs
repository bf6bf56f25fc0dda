//! Soak test of the library: one long-lived process, one `Arc<Sandbox>`, many runs through
//! `run_async`, sequential and concurrent, mixing normal and hostile programs. Every report
//! must have the expected status; afterwards nothing of the boxes is left (processes,
//! cgroups, mounts, files in the state or temporary directories) and the process's
//! descriptors and memory did not grow.
//!
//! Default: 1500 runs (well under 3 minutes). `JUDGE_SOAK_RUNS=10000` for a longer soak.
//! Run inside a throwaway namespace:
//! `unshare -m -p -f --mount-proc cargo test --release --test soak -- --nocapture`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runner::{BindMount, Output, Report, RunSpec, Sandbox, Status};

use common::*;

fn fd_count() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// Host places a run could leave files in: the sandbox's state directory (without its slot
/// lock files, one per slot by design) and the temporary directories, as a sorted set.
fn host_files() -> BTreeSet<PathBuf> {
    fn walk(dir: &std::path::Path, depth: usize, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.starts_with("/run/judge/slots/") {
                continue;
            }
            if depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&p, depth - 1, out);
            }
            out.insert(p);
        }
    }
    let mut out = BTreeSet::new();
    walk(std::path::Path::new(runner::STATE_DIR), 3, &mut out);
    // Of the temporary directories only what could be ours (a tempfile's `.tmp*`, `judge*`):
    // other programs on the machine come and go there.
    for tmp in [std::env::temp_dir(), PathBuf::from("/var/tmp")] {
        let mut all = BTreeSet::new();
        walk(&tmp, 0, &mut all);
        out.extend(all.into_iter().filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(".tmp") || name.starts_with("judge")
        }));
    }
    out
}

fn spec(program: &str, args: &[&str]) -> RunSpec {
    let mut s = RunSpec::new(format!("{PROGS}/{program}"));
    s.args = args.iter().map(|a| a.to_string()).collect();
    s.mounts.push(BindMount { src: programs_dir().to_path_buf(), dest: PROGS.into(), writable: false });
    s.limits.wall_time = Duration::from_secs(30);
    s
}

/// Run number `i`: the spec and the status (and exit code) it must end with.
fn job(i: usize, out_dir: &std::path::Path) -> (&'static str, RunSpec, Status, Option<i32>) {
    match i % 8 {
        0 => ("whoami", spec("whoami", &[]), Status::Ok, Some(0)),
        1 => ("exit3", spec("die", &["exit", "3"]), Status::NonzeroExit, Some(3)),
        2 => {
            let mut s = spec("whoami", &[]);
            s.stdout = Output::File(out_dir.join(format!("whoami-{}.out", i % 64)));
            ("whoami>file", s, Status::Ok, Some(0))
        }
        3 => {
            let mut s = spec("spin", &[]);
            s.limits.cpu_time = Duration::from_millis(200);
            s.limits.wall_time = Duration::from_secs(10);
            ("spin", s, Status::TimeLimit, None)
        }
        4 => {
            let mut s = spec("memhog", &["64"]);
            s.limits.memory_bytes = 32 * MIB;
            ("memhog", s, Status::MemoryLimit, None)
        }
        5 => {
            let mut s = spec("forkbomb", &[]);
            s.limits.pids = 8;
            s.limits.cpu_time = Duration::from_millis(200);
            s.limits.wall_time = Duration::from_secs(10);
            ("forkbomb", s, Status::TimeLimit, None)
        }
        6 => {
            let mut s = spec("flood", &["16777216"]);
            s.limits.output_bytes = 64 * KIB;
            s.stdout = Output::File(out_dir.join(format!("flood-{}.out", i % 64)));
            ("flood", s, Status::OutputLimit, None)
        }
        _ => ("segv", spec("die", &["segv"]), Status::Signaled, None),
    }
}

fn check(i: usize, name: &str, expected: Status, code: Option<i32>, r: &Report, stats: &mut BTreeMap<String, usize>) {
    assert_eq!(r.status, expected, "run {i} ({name}): unexpected status\n{r:#?}");
    if code.is_some() {
        assert_eq!(r.exit_code, code, "run {i} ({name}): exit code\n{r:#?}");
    }
    if name == "segv" {
        assert_eq!(r.signal, Some(libc::SIGSEGV), "run {i}: {r:#?}");
    }
    *stats.entry(name.to_string()).or_default() += 1;
}

#[test]
fn soak_library_runs() {
    let _serial = serial();
    // SAFETY: geteuid(2) has no failure mode.
    assert_eq!(unsafe { libc::geteuid() }, 0, "needs root, inside `unshare -m -p -f --mount-proc`");
    let total: usize = std::env::var("JUDGE_SOAK_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let batch = 8;
    programs_dir();
    let out_dir = shared_dir(0o777);
    let mounts_before = mounts();
    let sandbox = Arc::new(Sandbox::with_defaults().expect("sandbox"));
    // After the sandbox made its state (the /etc snapshot): runs must add nothing to it.
    let files_before = host_files();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();

    let mut stats: BTreeMap<String, usize> = BTreeMap::new();
    let mut cgroups: BTreeSet<PathBuf> = BTreeSet::new();
    let mut fds_base = 0;
    let mut rss_base = 0;
    let mut base_at = 0;
    let warmup = 200.min(total / 2);
    let start = Instant::now();
    let mut rate_start = None;
    let mut i = 0usize;
    let mut seq_done: Option<Instant> = None;
    let mut latency: BTreeMap<(bool, &'static str), (u32, Duration, Duration)> = BTreeMap::new();
    let deadline = Duration::from_secs(60) + Duration::from_millis(150) * total as u32;
    let out_path = out_dir.path().to_path_buf();

    rt.block_on(async {
        while i < total {
            if i >= warmup && rate_start.is_none() {
                // Tokio's blocking threads and the sandbox's lazily made resources exist now.
                fds_base = fd_count();
                rss_base = rss_kib();
                base_at = i;
                rate_start = Some((Instant::now(), i));
                eprintln!("soak: after {i} runs: fds {fds_base}, VmRSS {rss_base} KiB");
            }
            assert!(start.elapsed() < deadline, "soak: over its deadline of {deadline:?} at run {i} (load {})", loadavg());
            // First half sequential, second half in concurrent batches.
            let sequential = i < total / 2;
            let n = if sequential { 1 } else { batch.min(total - i) };
            let mut handles = Vec::new();
            for k in i..i + n {
                let (name, s, expected, code) = job(k, &out_path);
                let sb = Arc::clone(&sandbox);
                handles.push(tokio::spawn(async move {
                    let t0 = Instant::now();
                    let r = tokio::time::timeout(Duration::from_secs(30), sb.run_async(s)).await;
                    (k, name, expected, code, r, t0.elapsed())
                }));
            }
            for h in handles {
                let (k, name, expected, code, r, took) = h.await.expect("join");
                let e = latency.entry((sequential, name)).or_insert((0u32, Duration::ZERO, Duration::ZERO));
                e.0 += 1;
                e.1 += took;
                e.2 = e.2.max(took);
                let r = r
                    .unwrap_or_else(|_| panic!("run {k} ({name}) took over 30 s; box processes {:#?}", box_processes()))
                    .unwrap_or_else(|e| panic!("run {k} ({name}): sandbox error {e}"));
                cgroups.extend(r.cgroup_paths.iter().map(PathBuf::from));
                check(k, name, expected, code, &r, &mut stats);
            }
            i += n;
            if i == total / 2 {
                seq_done = Some(Instant::now());
            }
            if i % 500 < n {
                eprintln!("soak: {i}/{total} runs, {:?}, fds {}, VmRSS {} KiB", start.elapsed(), fd_count(), rss_kib());
            }
        }
    });
    let end = Instant::now();
    let elapsed = start.elapsed();
    let (rs, ri) = rate_start.unwrap();
    let rate = (total - ri) as f64 / rs.elapsed().as_secs_f64();
    drop(rt);
    if let (Some(sd), Some((rs, ri))) = (seq_done, rate_start) {
        let seq_rate = (total / 2 - ri) as f64 / (sd - rs).as_secs_f64();
        let conc_rate = (total - total / 2) as f64 / (end - sd).as_secs_f64().max(1e-9);
        eprintln!("soak: sequential phase {seq_rate:.1} runs/s (runs {ri}..{}), concurrent phase (batches of {batch}) {conc_rate:.1} runs/s", total / 2);
    }
    for ((seq, name), (n, sum, max)) in &latency {
        eprintln!("soak: {:<10} {:<12} n={n:<5} mean {:>8.1?} max {:>8.1?}", if *seq { "sequential" } else { "concurrent" }, name, *sum / *n, max);
    }

    // Nothing left.
    let t = Instant::now();
    while !box_processes().is_empty() && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let procs = box_processes();
    assert!(procs.is_empty(), "box processes left: {procs:#?}");
    let left: Vec<&PathBuf> = cgroups.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "box cgroup dirs left: {left:#?}");
    let after = mounts();
    let added: Vec<_> = after.difference(&mounts_before).collect();
    assert!(added.is_empty(), "mounts added to /proc/self/mountinfo: {added:#?}");
    let files_after = host_files();
    let left: Vec<_> = files_after.difference(&files_before).collect();
    assert!(left.is_empty(), "files or directories left in the state or temporary directories: {left:#?}");
    let fds_end = fd_count();
    let rss_end = rss_kib();
    eprintln!(
        "soak: {total} runs in {elapsed:?} ({:.1} runs/s overall; {rate:.1} runs/s sustained after run {base_at}); \
         by kind {stats:?}; distinct cgroup dirs {}; fds {fds_base} -> {fds_end}; VmRSS {rss_base} -> {rss_end} KiB ({:+} KiB); \
         mounts {} -> {}",
        total as f64 / elapsed.as_secs_f64(),
        cgroups.len(),
        rss_end as i64 - rss_base as i64,
        mounts_before.len(),
        after.len()
    );
    // Growth is a leak; fewer is not (the network-namespace factory holds a varying number of
    // prepared namespaces, and the base is taken mid-run).
    assert!(fds_end <= fds_base + 3, "fd count grew: {fds_base} -> {fds_end}");
    assert!(rss_end <= rss_base + 20 * 1024, "VmRSS grew by more than 20 MiB: {rss_base} -> {rss_end} KiB");

    // For reference: the rate of normal runs alone (no limit programs), sequential and in
    // batches of 8, through the same sandbox.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let n_normal = 400;
    for conc in [1usize, batch] {
        let t = Instant::now();
        rt.block_on(async {
            let mut k = 0;
            while k < n_normal {
                let hs: Vec<_> = (0..conc)
                    .map(|_| {
                        let sb = Arc::clone(&sandbox);
                        tokio::spawn(async move { sb.run_async(spec("die", &["exit", "0"])).await })
                    })
                    .collect();
                for h in hs {
                    let r = h.await.unwrap().expect("normal run");
                    assert_eq!(r.status, Status::Ok, "{r:#?}");
                }
                k += conc;
            }
        });
        eprintln!("soak: normal runs only (exit 0), {} at a time: {:.0} runs/s", conc, n_normal as f64 / t.elapsed().as_secs_f64());
    }
    drop(rt);
    drop(sandbox);
    let procs = box_processes();
    assert!(procs.is_empty(), "box processes left after the normal runs: {procs:#?}");
}

//! The sandbox on a real, pure cgroup v2 kernel: boots a Debian cloud kernel under qemu (TCG,
//! no KVM needed) with `cgroup_no_v1=all`, runs a series of `judge run` cases from the
//! initramfs's /init (tests/vm/init) and checks each case's report from the serial console.
//!
//! Prerequisites: `qemu-system-x86_64` and `/bin/busybox` static (`apt-get install
//! qemu-system-x86 busybox-static`), gcc with static libc, and a kernel: either
//! `$JUDGE_VM_KERNEL`, one cached by an earlier run, or one `apt-get download`s
//! (tests/vm/build.sh). Without them the test prints why it is skipped and passes; with
//! `JUDGE_VM_TEST=1` it first tries to install the packages (as root with apt-get) and fails
//! with the reason if anything is still missing.
//!
//! `JUDGE_VM_TIMEOUT` (seconds, default 240) bounds the boot plus all cases.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
const MIB: u64 = 1 << 20;

fn strict() -> bool {
    std::env::var("JUDGE_VM_TEST").is_ok_and(|v| v == "1")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn busybox_static() -> bool {
    Path::new("/bin/busybox").exists()
        && Command::new("ldd")
            .arg("/bin/busybox")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("not a dynamic") || String::from_utf8_lossy(&o.stderr).contains("not a dynamic"))
}

/// What is missing to run the VM, if anything.
fn missing() -> Vec<String> {
    let mut m = Vec::new();
    if !have("qemu-system-x86_64") {
        m.push("qemu-system-x86_64 (apt-get install qemu-system-x86)".to_string());
    }
    if !busybox_static() {
        m.push("a static /bin/busybox (apt-get install busybox-static)".to_string());
    }
    for t in ["gcc", "dpkg-deb", "gzip"] {
        if !have(t) {
            m.push(t.to_string());
        }
    }
    m
}

fn try_install() {
    if !have("apt-get") || unsafe { libc::geteuid() } != 0 {
        return;
    }
    eprintln!("vm_cgroup_v2: installing qemu-system-x86 busybox-static with apt-get");
    let _ = Command::new("sh")
        .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 busybox-static >/dev/null"])
        .status();
}

/// Skips (returns false) or, with JUDGE_VM_TEST=1, fails.
fn skip_or_fail(why: &str) -> bool {
    if strict() {
        panic!("vm_cgroup_v2: cannot run the cgroup v2 VM test: {why}");
    }
    eprintln!("vm_cgroup_v2: SKIPPED: {why} (set JUDGE_VM_TEST=1 to make this a failure)");
    false
}

fn prerequisites() -> bool {
    let mut m = missing();
    if !m.is_empty() && strict() {
        try_install();
        m = missing();
    }
    if !m.is_empty() {
        return skip_or_fail(&format!("missing {}", m.join(", ")));
    }
    true
}

struct Case {
    rc: i32,
    secs: String,
    report: Value,
    out: Vec<String>,
    err: Vec<String>,
    /// Calls of traced kernel functions during the case (ftrace, see tests/vm/init).
    trace: BTreeMap<String, u64>,
}

struct Boot {
    cases: BTreeMap<String, Case>,
    info: Vec<String>,
    ended: bool,
    log: String,
}

fn parse(log: &str) -> Boot {
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    let mut info = Vec::new();
    let mut ended = false;
    for line in log.lines() {
        let Some(at) = line.find("JUDGE-VM-") else { continue };
        let line = line[at..].trim_end_matches('\r');
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        match tag {
            "JUDGE-VM-REPORT" => {
                let mut it = rest.splitn(4, ' ');
                let name = it.next().unwrap_or("").to_string();
                let rc = it.next().and_then(|s| s.strip_prefix("rc=")).and_then(|s| s.parse().ok()).unwrap_or(-1);
                let secs = it.next().and_then(|s| s.strip_prefix("secs=")).unwrap_or("?").to_string();
                let report = serde_json::from_str(it.next().unwrap_or("null")).unwrap_or(Value::Null);
                cases.insert(name, Case { rc, secs, report, out: vec![], err: vec![], trace: BTreeMap::new() });
            }
            "JUDGE-VM-OUT" | "JUDGE-VM-ERR" => {
                let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
                if let Some(c) = cases.get_mut(name) {
                    if tag == "JUDGE-VM-OUT" { &mut c.out } else { &mut c.err }.push(text.to_string());
                }
            }
            "JUDGE-VM-TRACE" => {
                let mut it = rest.split_whitespace();
                let name = it.next().unwrap_or("");
                if let Some(c) = cases.get_mut(name) {
                    for kv in it {
                        if let Some((k, v)) = kv.split_once('=') {
                            c.trace.insert(k.to_string(), v.parse().unwrap_or(u64::MAX));
                        }
                    }
                }
            }
            "JUDGE-VM-INFO" => info.push(rest.to_string()),
            "JUDGE-VM-END" => ended = true,
            _ => {}
        }
    }
    Boot { cases, info, ended, log: log.to_string() }
}

fn boot(out: &Path, timeout: Duration) -> (Boot, Duration) {
    let serial = out.join("serial.log");
    let log_file = fs::File::create(&serial).unwrap();
    let start = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-machine", "accel=tcg", "-cpu", "max", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot"])
        .arg("-kernel")
        .arg(out.join("vmlinuz"))
        .arg("-initrd")
        .arg(out.join("initrd.gz"))
        .args(["-append", "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=1"])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start qemu-system-x86_64");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = String::from_utf8_lossy(&fs::read(&serial).unwrap()).into_owned();
            assert!(status.success(), "qemu exited with {status}; serial log {}:\n{log}", serial.display());
            break;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let log = String::from_utf8_lossy(&fs::read(&serial).unwrap()).into_owned();
            panic!("the VM did not power off within {timeout:?}; serial log {}:\n{log}", serial.display());
        }
        thread::sleep(Duration::from_millis(100));
    }
    let elapsed = start.elapsed();
    let log = String::from_utf8_lossy(&fs::read(&serial).unwrap()).into_owned();
    (parse(&log), elapsed)
}

#[test]
fn judge_on_pure_cgroup_v2_kernel() {
    if !prerequisites() {
        return;
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vm");
    fs::create_dir_all(&out).unwrap();
    if let Ok(k) = std::env::var("JUDGE_VM_KERNEL") {
        fs::copy(&k, out.join("vmlinuz")).unwrap_or_else(|e| panic!("copy JUDGE_VM_KERNEL={k}: {e}"));
    } else if !out.join("vmlinuz").exists() && !have("apt-get") {
        skip_or_fail("no kernel: set JUDGE_VM_KERNEL or install apt-get to download linux-image-cloud-amd64");
        return;
    }

    let t = Instant::now();
    let build = Command::new("sh")
        .arg(root().join("tests/vm/build.sh"))
        .env("OUT", &out)
        .env("JUDGE", JUDGE)
        .output()
        .expect("run tests/vm/build.sh");
    if !build.status.success() {
        let why = format!(
            "tests/vm/build.sh failed:\n{}{}",
            String::from_utf8_lossy(&build.stdout),
            String::from_utf8_lossy(&build.stderr)
        );
        skip_or_fail(&why);
        return;
    }
    let build_time = t.elapsed();

    let timeout = Duration::from_secs(std::env::var("JUDGE_VM_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(240));
    let (b, elapsed) = boot(&out, timeout);
    eprintln!("vm_cgroup_v2: build {build_time:.1?}, boot + {} cases {elapsed:.1?}", b.cases.len());
    for i in &b.info {
        eprintln!("vm_cgroup_v2: {i}");
    }
    for (name, c) in &b.cases {
        eprintln!(
            "vm_cgroup_v2: {name:<20} rc={} {:>5}s status={} cpu={}ms wall={}ms mem={} pids_peak={}",
            c.rc, c.secs, c.report["status"], c.report["cpu_time_ms"], c.report["wall_time_ms"], c.report["memory_bytes"], c.report["pids_peak"]
        );
    }
    let failures = check(&b);
    assert!(failures.is_empty(), "{} failure(s) on cgroup v2:\n\n{}\n\nserial log:\n{}", failures.len(), failures.join("\n\n"), tail(&b.log));
}

/// Everything wrong with a boot's console output, one message per problem.
fn check(b: &Boot) -> Vec<String> {
    let mut failures: Vec<String> = Vec::new();
    let mut fail = |s: String| failures.push(s);

    if !b.ended {
        fail("no JUDGE-VM-END: /init did not finish".into());
    }
    let mounts = b.info.iter().find(|i| i.starts_with("cgroup_mounts ")).cloned().unwrap_or_default();
    let segs: Vec<&str> = mounts.trim_start_matches("cgroup_mounts ").split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
    if segs.is_empty() || !segs.iter().all(|s| s.starts_with("cgroup2 ")) {
        fail(format!("the VM is not pure cgroup v2: {mounts}"));
    }
    for i in b.info.iter().filter(|i| i.starts_with("leftover_")) {
        fail(format!("something of a box outlived its run: {i}"));
    }

    let expect: &[(&str, &[&str])] = &[
        ("parallel_first_1", &["ok"]),
        ("parallel_first_2", &["ok"]),
        ("parallel_first_3", &["ok"]),
        ("parallel_first_4", &["ok"]),
        ("echo", &["ok"]),
        ("whoami", &["ok"]),
        ("net", &["ok"]),
        ("time_limit", &["time_limit"]),
        ("threads_time_limit", &["time_limit"]),
        ("memory_limit", &["memory_limit"]),
        ("memory_multi", &["memory_limit"]),
        ("memory_ok", &["ok"]),
        ("wall_limit", &["wall_time_limit"]),
        ("fork_bomb", &["time_limit", "wall_time_limit"]),
        ("output_limit", &["output_limit"]),
        ("nonzero", &["nonzero_exit"]),
        ("ps", &["ok"]),
        ("blocked", &["ok"]),
        ("daemon", &["ok", "wall_time_limit"]),
        ("kill_tree", &["wall_time_limit"]),
        ("delegated_memory", &["memory_limit"]),
        ("delegated_time", &["time_limit"]),
        ("delegated_pids", &["time_limit", "wall_time_limit"]),
        ("delegated_option", &["ok"]),
        ("delegated_env", &["wall_time_limit"]),
        ("session_scope", &["ok"]),
        ("cpus_pinned", &["time_limit"]),
        ("after_pinned", &["ok"]),
    ];
    for (name, statuses) in expect {
        let Some(c) = b.cases.get(*name) else {
            fail(format!("{name}: no report on the console"));
            continue;
        };
        let r = &c.report;
        let status = r["status"].as_str().unwrap_or("<none>");
        let num = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
        let ctx = || format!("report {r}\nstdout {:?}\nstderr {:?}", c.out, c.err);
        if c.rc != 0 || !statuses.contains(&status) {
            fail(format!("{name}: judge exit {} status {status}, expected exit 0 and one of {statuses:?}\n{}", c.rc, ctx()));
            continue;
        }
        // Where the box's cgroup was: <root>/judge for a judge in the root cgroup or in a
        // cgroup not delegated to it (session_scope), else the delegated cgroup it was started
        // in or was given.
        let base = match *name {
            "delegated_option" | "delegated_env" => "/sys/fs/cgroup/delegated2",
            n if n.starts_with("delegated_") => "/sys/fs/cgroup/delegated",
            _ => "/sys/fs/cgroup/judge",
        };
        let prefix = format!("{base}/box-");
        let paths = r["cgroup_paths"].as_array();
        if !paths.is_some_and(|a| !a.is_empty() && a.iter().all(|p| p.as_str().is_some_and(|p| p.starts_with(&prefix)))) {
            fail(format!("{name}: cgroup_paths are not v2 box cgroups under {base}\n{}", ctx()));
        }
        let mut bad = |cond: bool, what: &str| {
            if cond {
                fail(format!("{name}: {what}\n{}", ctx()));
            }
        };
        // The kernel's count of calls during the case (u64::MAX: not traced, which fails).
        let calls = |f: &str| c.trace.get(f).copied().unwrap_or(u64::MAX);
        let ctx_trace = || format!("kernel calls {:?}", c.trace);
        // How the program entered its cgroup: clone3 CLONE_INTO_CGROUP on this 6.1 kernel, so
        // no box process wrote to a cgroup.procs during the run; a pinned run joins by the
        // write. The writes the kernel saw otherwise: the shell that started judge in a
        // delegated cgroup or in the session scope (1), and judge moving itself out of the
        // delegated cgroup into its leaf (1, only when started in the delegated cgroup itself;
        // never in root mode).
        if !name.starts_with("parallel_first_") {
            let others = match *name {
                "delegated_memory" => 2,
                "delegated_time" | "delegated_pids" | "session_scope" => 1,
                _ => 0,
            };
            let (entry, writes_ok) = if *name == "cpus_pinned" {
                ("cgroup.procs", (1..u64::MAX).contains(&calls("cgroup_procs_write")))
            } else {
                ("clone_into_cgroup", calls("cgroup_procs_write") == others)
            };
            bad(r["cgroup_entry"] != entry, &format!("cgroup_entry is not {entry:?}"));
            bad(!writes_ok, &format!("the kernel's cgroup.procs writes do not match cgroup_entry {entry:?}: {}", ctx_trace()));
        }
        // How the box was killed: a limit kill goes through cgroup.kill, which the kernel saw;
        // a run that ended by itself kills nothing. (output_limit writes to a file: RLIMIT_FSIZE
        // ends it with SIGXFSZ before the supervisor has to.)
        const LIMIT_KILLED: [&str; 9] = [
            "time_limit", "threads_time_limit", "wall_limit", "fork_bomb", "cpus_pinned", "kill_tree",
            "delegated_time", "delegated_pids", "delegated_env",
        ];
        const NOTHING_KILLED: [&str; 10] =
            ["echo", "whoami", "net", "memory_ok", "nonzero", "ps", "blocked", "after_pinned", "delegated_option", "session_scope"];
        if LIMIT_KILLED.contains(name) {
            bad(r["kill_method"] != "cgroup.kill", "kill_method is not \"cgroup.kill\"");
            bad(!(1..u64::MAX).contains(&calls("cgroup_kill_write")), &format!("the kernel saw no write to cgroup.kill: {}", ctx_trace()));
        }
        if NOTHING_KILLED.contains(name) {
            bad(!r["kill_method"].is_null(), "kill_method is not null for a run that ended by itself");
            bad(calls("cgroup_kill_write") != 0, &format!("cgroup.kill was written for a run that ended by itself: {}", ctx_trace()));
        }
        match *name {
            "echo" => bad(c.out != ["hello"], "stdout is not \"hello\""),
            p if p.starts_with("parallel_first_") => bad(c.out != [format!("p{}", &p[15..])], "stdout is not p<N>"),
            "whoami" => {
                let uid = c.out.iter().find_map(|l| l.strip_prefix("uid=")).and_then(|u| u.parse::<u32>().ok());
                bad(!uid.is_some_and(|u| (60000..61000).contains(&u)), "uid is not a box uid (60000..61000)");
                bad(!c.out.iter().any(|l| l == "CapEff=0000000000000000"), "effective capabilities are not empty");
                bad(!c.out.iter().any(|l| l == "NoNewPrivs=1"), "no_new_privs is not set");
                bad(!c.out.iter().any(|l| l == "Seccomp=2"), "no seccomp filter");
            }
            "net" => {
                let ifaces: Vec<&str> = c.out.iter().filter_map(|l| l.strip_prefix("iface ")).collect();
                bad(ifaces != ["lo"], "interfaces other than lo");
                bad(c.out.iter().any(|l| l == "connect ok"), "connected out of the box");
            }
            "time_limit" | "threads_time_limit" => bad(!(1000..2000).contains(&num("cpu_time_ms")), "cpu_time_ms not in [1000, 2000)"),
            "cpus_pinned" => bad(!(500..1000).contains(&num("cpu_time_ms")), "cpu_time_ms not in [500, 1000)"),
            "memory_limit" => {
                bad(num("memory_bytes") > 64 * MIB, "peak memory above the 64M limit");
                bad(c.out.iter().any(|l| l.contains("touched")), "touched 256 MiB under a 64M limit");
                // memory.events counts a group-killed victim twice in oom_kill (kernel 6.1).
                let msg = r["message"].as_str().unwrap_or("");
                bad(!msg.contains("OOM-killed 1 process"), "the message should count one OOM-killed process");
            }
            "memory_multi" => bad(!(48 * MIB..=64 * MIB).contains(&num("memory_bytes")), "peak not in [48M, 64M]: processes not charged together"),
            "memory_ok" => bad(!(16 * MIB..64 * MIB).contains(&num("memory_bytes")), "peak not in [16M, 64M)"),
            "wall_limit" => bad(num("cpu_time_ms") > 500, "a sleeping program used CPU time"),
            "fork_bomb" => bad(num("pids_peak") > 16, "pids_peak above --pids 16"),
            "output_limit" => bad(num("stdout_bytes") > MIB, "stdout above --output 1M"),
            "nonzero" => bad(num("exit_code") != 3, "exit_code is not 3"),
            "ps" => {
                let procs: Vec<&str> = c.out.iter().filter_map(|l| l.strip_prefix("proc ")).collect();
                bad(procs.is_empty() || procs.len() > 3, "the box's /proc shows other processes (or none)");
                // The box's own init is judge's fork (pid 1, comm "judge"); the VM's /init is a sh.
                bad(procs.iter().any(|p| p.ends_with(" sh") || p.ends_with(" init")), "processes of the VM visible");
                bad(!procs.iter().any(|p| p.ends_with(" ps")), "the program itself is not in the box's /proc");
            }
            "blocked" => {
                bad(!c.out.iter().any(|l| l == "done"), "blocked did not finish");
                let allowed: Vec<&String> = c.out.iter().filter(|l| l.ends_with(" ok")).collect();
                bad(!allowed.is_empty(), &format!("syscalls that must be denied succeeded: {allowed:?}"));
            }
            "after_pinned" => bad(c.out != ["again"], "stdout is not \"again\""),
            "kill_tree" => bad(num("pids_peak") < 4, "pids_peak below 4: the tree of sleepers did not start"),
            "delegated_memory" => {
                bad(num("memory_bytes") > 64 * MIB, "peak memory above the 64M limit");
                bad(!r["message"].as_str().unwrap_or("").contains("OOM-killed 1 process"), "the message should count one OOM-killed process");
            }
            "delegated_time" => bad(!(1000..2000).contains(&num("cpu_time_ms")), "cpu_time_ms not in [1000, 2000)"),
            "delegated_pids" => bad(num("pids_peak") > 8, "pids_peak above --pids 8"),
            "delegated_option" => bad(c.out != ["named"], "stdout is not \"named\""),
            "session_scope" => bad(c.out != ["session"], "stdout is not \"session\""),
            _ => {}
        }
    }
    check_delegation(b, &mut failures);
    failures
}

/// Delegated mode: the tree judge left in the delegated cgroup, the cgroups it must refuse, and
/// the session scope it must leave alone.
fn check_delegation(b: &Boot, failures: &mut Vec<String>) {
    let info = |key: &str| b.info.iter().find_map(|i| i.strip_prefix(&format!("{key} ")).or((i == key).then_some(""))).map(str::trim);
    if info("delegate_mark_set") != Some("0") {
        failures.push(format!("tests/programs/setxattr could not mark the delegated cgroup (trusted.delegate=1): {:?}", info("delegate_mark_set")));
    }
    // Root mode from a cgroup not delegated to it: judge made nothing in the session's cgroup
    // and enabled no controller there (the boxes were under /sys/fs/cgroup/judge, see check).
    match (info("session_scope_children"), info("session_scope_subtree_control")) {
        (Some(""), Some("")) => {}
        other => failures.push(format!("session_scope: judge touched the session's cgroup (children, subtree_control): {other:?}")),
    }
    match info("delegated_children") {
        Some(c) if c == "supervisor" => {}
        other => failures.push(format!("delegated cgroup: expected only the judge's leaf \"supervisor\" left in it, found {other:?}")),
    }
    match info("delegated_subtree_control") {
        Some(c) if c.split_whitespace().any(|x| x == "memory") && c.split_whitespace().any(|x| x == "pids") => {}
        other => failures.push(format!("delegated cgroup: memory and pids not enabled for its children: {other:?}")),
    }
    let refused: [(&str, &[&str]); 2] = [
        (
            "delegated_missing",
            &["/sys/fs/cgroup/nodeleg/inner", "lacks the memory, pids controller(s)", "Delegate=", "/sys/fs/cgroup/nodeleg/cgroup.subtree_control"],
        ),
        ("delegated_occupied", &["/sys/fs/cgroup/occupied", "holds other processes", "systemd-run --scope -p Delegate=yes"]),
    ];
    for (name, needles) in refused {
        let Some(c) = b.cases.get(name) else {
            failures.push(format!("{name}: no report on the console"));
            continue;
        };
        let msg = c.report["message"].as_str().unwrap_or("");
        if c.rc != 2 || c.report["status"] != "sandbox_error" {
            failures.push(format!("{name}: expected exit 2 and a sandbox_error report, got exit {} report {}", c.rc, c.report));
        }
        for n in needles.iter().filter(|n| !msg.contains(**n) || !c.err.iter().any(|l| l.contains(**n))) {
            failures.push(format!("{name}: the message (report and stderr) does not say {n:?}: {msg:?} / {:?}", c.err));
        }
        // It refused before touching anything: no leaf made, and the only cgroup.procs write
        // the kernel saw is the shell's that started judge there (judge did not move).
        match info(&format!("{name}_children")) {
            Some("") => {}
            other => failures.push(format!("{name}: judge made cgroups in a cgroup it refused: {other:?}")),
        }
        if c.trace.get("cgroup_procs_write") != Some(&1) {
            failures.push(format!("{name}: expected only the starting shell's cgroup.procs write, the kernel saw {:?}", c.trace));
        }
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.contains("JUDGE-VM-OUT output_limit")).collect();
    lines[lines.len().saturating_sub(200)..].join("\n")
}

/// The checks themselves, on a canned console log: a wrong status must fail them.
#[test]
fn checks_catch_a_wrong_status() {
    let good = r#"JUDGE-VM-BEGIN
JUDGE-VM-INFO cgroup_mounts cgroup2 cgroup2 rw;
JUDGE-VM-REPORT echo rc=0 secs=0.1 {"status": "ok", "cgroup_paths": ["/sys/fs/cgroup/judge/box-1"], "cgroup_entry": "clone_into_cgroup", "kill_method": null}
JUDGE-VM-TRACE echo cgroup_kill_write=0 cgroup_procs_write=0
JUDGE-VM-OUT echo hello
JUDGE-VM-REPORT wall_limit rc=0 secs=1.1 {"status": "wall_time_limit", "cgroup_paths": ["/sys/fs/cgroup/judge/box-1"], "cgroup_entry": "clone_into_cgroup", "kill_method": "cgroup.kill", "cpu_time_ms": 0}
JUDGE-VM-TRACE wall_limit cgroup_kill_write=1 cgroup_procs_write=0
JUDGE-VM-END
"#;
    let b = parse(good);
    assert_eq!(b.cases["echo"].out, ["hello"]);
    assert_eq!(b.cases["wall_limit"].trace["cgroup_kill_write"], 1);
    assert!(b.ended);
    let failures = check(&b);
    assert!(!failures.iter().any(|f| f.starts_with("echo:") || f.starts_with("wall_limit:")), "{failures:?}");
    let bad = good.replace(r#""status": "ok""#, r#""status": "sandbox_error""#);
    let failures = check(&parse(&bad));
    assert!(failures.iter().any(|f| f.starts_with("echo: judge exit 0 status sandbox_error")), "{failures:?}");
    assert!(failures.iter().any(|f| f == "time_limit: no report on the console"), "{failures:?}");
    let no_end = good.replace("JUDGE-VM-END\n", "");
    assert!(check(&parse(&no_end)).iter().any(|f| f.contains("did not finish")));
    // The kernel's word counts, not only the report's: a kill without a cgroup.kill write, or a
    // cgroup.procs write by a program said to be cloned into its cgroup, fails.
    let no_kill = good.replace("wall_limit cgroup_kill_write=1", "wall_limit cgroup_kill_write=0");
    assert!(check(&parse(&no_kill)).iter().any(|f| f.starts_with("wall_limit: the kernel saw no write to cgroup.kill")));
    let wrote = good.replace("echo cgroup_kill_write=0 cgroup_procs_write=0", "echo cgroup_kill_write=0 cgroup_procs_write=1");
    assert!(check(&parse(&wrote)).iter().any(|f| f.starts_with("echo: the kernel's cgroup.procs writes")));
    let untraced = good.replace("JUDGE-VM-TRACE wall_limit cgroup_kill_write=1 cgroup_procs_write=0\n", "");
    assert!(check(&parse(&untraced)).iter().any(|f| f.starts_with("wall_limit: the kernel saw no write")));
}

//! Shared helpers for the black-box tests of `judge run`.
//!
//! Every test runs real programs (tests/programs/*.c, compiled once per test process) inside the
//! box through the real `judge` binary, and bounds its own time: a judge that overruns its
//! deadline is SIGKILLed, whatever it left of the box is killed by pid, and the test fails.
//!
//! Run the suites inside a throwaway namespace, e.g.
//! `unshare -m -p -f --mount-proc cargo test --test run_limits`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

pub const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
/// Box uids are 60000 + slot.
pub const BOX_UIDS: Range<u32> = 60000..61000;
pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
/// How long any single `judge run` may take before the test gives up on it.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// Where the compiled programs appear inside the box.
pub const PROGS: &str = "/progs";

// ---------------------------------------------------------------------------------------------
// Programs

/// The host directory holding the compiled test programs (compiled once per test process).
pub fn programs_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(compile_programs)
}

/// Host path of a compiled program (only for programs that are not hostile, e.g. `spin`).
pub fn host_program(name: &str) -> PathBuf {
    programs_dir().join(name)
}

fn compile_programs() -> PathBuf {
    sweep_stale_program_dirs();
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    // Not under /tmp: the box gets its own /tmp, and /var/tmp survives for the bind mount.
    let dir = tempfile::Builder::new()
        .prefix("judge-progs-")
        .tempdir_in("/var/tmp")
        .expect("create program dir under /var/tmp")
        .keep();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let mut sources: Vec<PathBuf> = fs::read_dir(&src_dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", src_dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    let compilers: Vec<(PathBuf, Child)> = sources
        .into_iter()
        .map(|src| {
            let out = dir.join(src.file_stem().unwrap());
            let child = Command::new("gcc")
                .args(["-O2", "-static", "-pthread", "-o"])
                .arg(&out)
                .arg(&src)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run gcc");
            (src, child)
        })
        .collect();
    for (src, child) in compilers {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gcc failed on {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// Program dirs of earlier test processes are never removed (statics are not dropped);
/// remove the ones older than an hour so they do not pile up.
fn sweep_stale_program_dirs() {
    let Ok(entries) = fs::read_dir("/var/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry
            .file_name()
            .to_string_lossy()
            .starts_with("judge-progs-");
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if is_ours && age.is_some_and(|a| a > Duration::from_secs(3600)) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh host directory under /var/tmp that the box user may write to (mode 0777).
pub fn shared_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("judge-test-")
        .tempdir_in("/var/tmp")
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// Running judge

/// A `judge run` invocation: `judge run OPTS --ro-bind PROGS /progs --report FILE -- /progs/PROGRAM ARGS`.
pub struct Judge {
    opts: Vec<OsString>,
    program: Vec<OsString>,
    raw: bool,
    envs: Vec<(String, String)>,
    keep_stdin_open: bool,
    deadline: Duration,
}

impl Judge {
    /// `opts` go before `--`; `program[0]` is a program name from tests/programs.
    pub fn new(opts: &[&str], program: &[&str]) -> Judge {
        let mut argv: Vec<OsString> = program.iter().map(OsString::from).collect();
        if let Some(first) = argv.first_mut() {
            *first = format!("{PROGS}/{}", first.to_string_lossy()).into();
        }
        Judge {
            opts: opts.iter().map(OsString::from).collect(),
            program: argv,
            raw: false,
            envs: Vec::new(),
            keep_stdin_open: false,
            deadline: DEFAULT_DEADLINE,
        }
    }

    /// Exactly `judge run ARGS` plus `--report FILE` first; nothing else is added.
    pub fn raw(args: &[&str]) -> Judge {
        Judge {
            raw: true,
            ..Judge::new(args, &[])
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Judge {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Give judge a stdin pipe that stays open until judge exits (instead of /dev/null).
    pub fn keep_stdin_open(mut self) -> Judge {
        self.keep_stdin_open = true;
        self
    }

    pub fn deadline(mut self, deadline: Duration) -> Judge {
        self.deadline = deadline;
        self
    }

    pub fn spawn(self) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let report_path = dir.path().join("report.json");
        let mut args: Vec<OsString> =
            vec!["run".into(), "--report".into(), report_path.clone().into()];
        args.extend(self.opts);
        if !self.raw {
            args.extend([
                "--ro-bind".into(),
                programs_dir().into(),
                PROGS.into(),
                "--".into(),
            ]);
            args.extend(self.program);
        }
        let description = format!(
            "judge {}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut cmd = Command::new(JUDGE);
        cmd.args(&args)
            .envs(self.envs)
            .stdin(if self.keep_stdin_open {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {description}: {e}"));
        let stdin = child.stdin.take();
        let stdout = read_in_background(child.stdout.take().unwrap());
        let stderr = read_in_background(child.stderr.take().unwrap());
        Running {
            child,
            stdin,
            stdout,
            stderr,
            report_path,
            _dir: dir,
            description,
            started: Instant::now(),
            deadline: self.deadline,
        }
    }

    /// Runs to the end and insists that judge exited 0 with a report.
    pub fn run(self) -> Run {
        let run = self.spawn().wait();
        assert!(
            run.exit.success() && run.report.is_some(),
            "{}\njudge did not produce a report (exit {:?}); stderr:\n{}",
            run.description,
            run.exit,
            run.stderr
        );
        run
    }
}

/// `judge run OPTS -- /progs/PROGRAM...`, which must exit 0 with a report.
pub fn run(opts: &[&str], program: &[&str]) -> Run {
    Judge::new(opts, program).run()
}

/// Reads a pipe to its end on a thread of its own (so a full pipe never blocks the child).
pub fn read_in_background(mut pipe: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    report_path: PathBuf,
    _dir: tempfile::TempDir,
    pub description: String,
    started: Instant,
    deadline: Duration,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the pid of our own child, which we have not reaped yet.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(
            rc,
            0,
            "kill({}, {sig}): {}",
            self.pid(),
            std::io::Error::last_os_error()
        );
    }

    /// Has judge exited already?
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits for judge; past the deadline, kills it and everything of the box and fails.
    pub fn wait(mut self) -> Run {
        let exit = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let killed = kill_box_processes();
                let stderr = self
                    .stderr
                    .recv_timeout(Duration::from_secs(2))
                    .unwrap_or_default();
                panic!(
                    "{}\njudge overran the test's deadline of {:?} and was killed \
                     (also killed {} box process(es) it left); stderr so far:\n{}",
                    self.description,
                    self.deadline,
                    killed.len(),
                    String::from_utf8_lossy(&stderr)
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        drop(self.stdin.take());
        let pipe_open = |what: &str| {
            panic!(
                "{}\njudge exited ({exit:?}) but its {what} pipe is still held open by another \
                 process, probably a box process that outlived judge: {:?}",
                self.description,
                box_processes()
            )
        };
        let stdout = self
            .stdout
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| pipe_open("stdout"));
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| pipe_open("stderr"));
        let stderr = String::from_utf8_lossy(&stderr).into_owned();
        let report = fs::read_to_string(&self.report_path).ok().map(|text| {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| {
                panic!("{}\nreport is not JSON ({e}):\n{text}", self.description)
            })
        });
        if let Some(r) = &report {
            remember_cgroups(r);
        }
        Run {
            exit,
            stdout,
            stderr,
            report,
            elapsed,
            description: self.description.clone(),
        }
    }
}

impl Drop for Running {
    /// A test that panics while judge runs must not leave it (or its box) behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            kill_box_processes();
        }
    }
}

pub struct Run {
    pub exit: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub report: Option<Value>,
    pub elapsed: Duration,
    pub description: String,
}

impl Run {
    pub fn report(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("{}\nno report; stderr:\n{}", self.description, self.stderr))
    }

    pub fn status(&self) -> &str {
        self.report()["status"]
            .as_str()
            .unwrap_or_else(|| self.fail("report has no string `status`"))
    }

    /// A non-negative integer field of the report.
    pub fn num(&self, key: &str) -> u64 {
        self.report()[key]
            .as_u64()
            .unwrap_or_else(|| self.fail(&format!("report field `{key}` is not a u64")))
    }

    pub fn limit(&self, key: &str) -> u64 {
        self.report()["limits"][key]
            .as_u64()
            .unwrap_or_else(|| self.fail(&format!("report field `limits.{key}` is not a u64")))
    }

    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The program's `key=value` lines (from judge's stdout, where the box's stdout is pumped).
    pub fn kv(&self) -> BTreeMap<String, String> {
        self.out()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn get(&self, key: &str) -> String {
        self.kv()
            .remove(key)
            .unwrap_or_else(|| self.fail(&format!("program printed no `{key}=` line")))
    }

    pub fn cgroup_paths(&self) -> Vec<PathBuf> {
        self.report()["cgroup_paths"]
            .as_array()
            .unwrap_or_else(|| self.fail("report has no array `cgroup_paths`"))
            .iter()
            .map(|p| PathBuf::from(p.as_str().expect("cgroup path is a string")))
            .collect()
    }

    /// Fails the test showing everything about this run.
    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}\n{}", self.dump())
    }

    pub fn dump(&self) -> String {
        let out = self.out();
        let out = if out.len() > 4000 {
            format!("{}... ({} bytes)", &out[..4000], out.len())
        } else {
            out
        };
        format!(
            "command: {}\njudge exit: {:?} after {:?}\nreport: {}\nstdout:\n{}\nstderr:\n{}",
            self.description,
            self.exit,
            self.elapsed,
            self.report
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "<none>".into()),
            out,
            self.stderr
        )
    }

    pub fn expect_status(&self, expected: &str) -> &Run {
        if self.status() != expected {
            self.fail(&format!(
                "expected status {expected}, got {}",
                self.status()
            ));
        }
        self
    }
}

// ---------------------------------------------------------------------------------------------
// What the box may leave behind

#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub name: String,
    pub state: String,
    pub threads: u64,
    /// Real, effective, saved, filesystem.
    pub uids: [u32; 4],
}

/// Live (not zombie) processes whose uid (any of real/effective/saved/fs) satisfies `pred`.
pub fn processes_where(pred: impl Fn(u32) -> bool) -> Vec<ProcInfo> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let ids: Vec<u32> = field("Uid:")
            .split_whitespace()
            .filter_map(|u| u.parse().ok())
            .collect();
        let state = field("State:");
        if ids.len() != 4 || state.starts_with('Z') || state.starts_with('X') {
            continue;
        }
        if ids.iter().any(|&u| pred(u)) {
            found.push(ProcInfo {
                pid,
                name: field("Name:"),
                state,
                threads: field("Threads:").parse().unwrap_or(1),
                uids: [ids[0], ids[1], ids[2], ids[3]],
            });
        }
    }
    found
}

/// Live processes running as any box uid.
pub fn box_processes() -> Vec<ProcInfo> {
    processes_where(|u| BOX_UIDS.contains(&u))
}

/// Processes + threads running as any box uid (what `--pids` limits).
pub fn box_tasks() -> u64 {
    box_processes().iter().map(|p| p.threads).sum()
}

/// Polls until a box process named `name` shows up.
pub fn wait_for_box_process(name: &str, timeout: Duration) -> ProcInfo {
    let start = Instant::now();
    loop {
        if let Some(p) = box_processes().into_iter().find(|p| p.name == name) {
            return p;
        }
        assert!(
            start.elapsed() < timeout,
            "no box process named {name} appeared within {timeout:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Last resort after a failure: SIGKILL every process with a box uid, by pid.
pub fn kill_box_processes() -> Vec<ProcInfo> {
    let procs = box_processes();
    for p in &procs {
        // SAFETY: kill(2) with a pid we just read; the worst case is a stale pid.
        unsafe { libc::kill(p.pid, libc::SIGKILL) };
    }
    procs
}

/// The mount table of the test's namespace, one line per mount.
pub fn mounts() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Every box cgroup this test process has learned of (from reports, or from a box process).
static SEEN_CGROUPS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn remember_cgroups(report: &Value) {
    let Some(paths) = report["cgroup_paths"].as_array() else {
        return;
    };
    let mut seen = SEEN_CGROUPS.lock().unwrap_or_else(|e| e.into_inner());
    seen.extend(paths.iter().filter_map(Value::as_str).map(PathBuf::from));
}

/// The box cgroups a live box process sits in (from /proc/PID/cgroup, v1 hierarchies mounted at
/// /sys/fs/cgroup/CONTROLLER), remembered for `assert_nothing_left`. Useful when no report will
/// tell them, e.g. before SIGKILLing judge.
pub fn learn_cgroups_of(pid: i32) -> Vec<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let found: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            let is_box = path.rsplit('/').next()?.starts_with("box-");
            (is_box && !controllers.is_empty() && !controllers.starts_with("name=")).then(|| {
                Path::new("/sys/fs/cgroup")
                    .join(controllers)
                    .join(path.trim_start_matches('/'))
            })
        })
        .collect();
    SEEN_CGROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(found.iter().cloned());
    found
}

/// Box cgroups of this test process's runs that still exist. (Other people's judges may run on
/// the same host, so the hierarchy as a whole is not ours to judge.)
pub fn own_box_cgroups_left() -> Vec<PathBuf> {
    let seen = SEEN_CGROUPS.lock().unwrap_or_else(|e| e.into_inner());
    seen.iter().filter(|p| p.exists()).cloned().collect()
}

/// Asserts that no box process (in our pid namespace), no cgroup of our runs and no new mount
/// exists. Use while none of this test process's judges runs.
pub fn assert_nothing_left(mounts_before: &BTreeSet<String>, context: &str) {
    let procs = box_processes();
    assert!(
        procs.is_empty(),
        "{context}: box processes left: {procs:#?}"
    );
    let cgroups = own_box_cgroups_left();
    assert!(
        cgroups.is_empty(),
        "{context}: box cgroups left: {cgroups:#?}"
    );
    let after = mounts();
    let added: Vec<_> = after.difference(mounts_before).collect();
    let removed: Vec<_> = mounts_before.difference(&after).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "{context}: host mount table changed\nadded: {added:#?}\nremoved: {removed:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Misc

/// Serializes tests within one test binary (timing-sensitive and cleanup tests); poison-tolerant.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a compiled test program on the host, outside any box: only for benign busy loops, to
/// compare against the box. With `stop_after`, SIGKILLs it after that long. Returns its CPU time
/// (user + system, ms, from wait4's rusage) and wall time, and whether it exited with 0.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std's Child does not know of
pub fn host_run(
    program: &str,
    args: &[&str],
    stop_after: Option<Duration>,
) -> (f64, Duration, bool) {
    let start = Instant::now();
    let child = Command::new(host_program(program))
        .args(args)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    if let Some(after) = stop_after {
        thread::sleep(after);
        // SAFETY: kill(2) on our own child, not reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut status = 0;
    // SAFETY: rusage is plain old data, all-zero is valid; wait4 on our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let wall = start.elapsed();
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ms(usage.ru_utime) + ms(usage.ru_stime), wall, exited_ok)
}

/// The host's load average line, for failure messages of timing tests.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

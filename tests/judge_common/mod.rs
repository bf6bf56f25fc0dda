//! Shared helpers for the black-box tests of `judge submit`, `judge verify` and `judge batch`.
//!
//! Every invocation of the real `judge` binary is bounded: past its deadline the child is
//! SIGKILLed (its boxes die with it: their init has `PR_SET_PDEATHSIG(SIGKILL)`) and the test
//! fails, showing what judge had printed so far. At most [`SLOTS`] judge processes of this test
//! binary run at once (the machine is small and shared; `judge batch --jobs 2` takes two), so
//! the test harness's own parallelism does not pile boxes onto two cores.
//!
//! Fixture packages are written at test time under /var/tmp (not /tmp: the box has its own
//! /tmp) and removed when the test ends.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;
use common::read_in_background;

pub const JUDGE: &str = env!("CARGO_BIN_EXE_judge");
/// How many judge processes (or batch jobs) may run at once within this test binary.
pub const SLOTS: usize = 2;
/// A generous deadline for one `judge submit` (compiles, a derived time limit, a few runs).
pub const SUBMIT_DEADLINE: Duration = Duration::from_secs(180);

/// The repository's example packages.
pub fn problems_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("problems")
}

pub fn problem(name: &str) -> PathBuf {
    problems_dir().join(name)
}

// ---------------------------------------------------------------------------------------------
// Slots

static FREE: Mutex<usize> = Mutex::new(SLOTS);
static FREED: Condvar = Condvar::new();

/// `n` of the [`SLOTS`], held until dropped.
pub struct Slots(usize);

pub fn slots(n: usize) -> Slots {
    assert!((1..=SLOTS).contains(&n));
    let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
    while *free < n {
        free = FREED.wait(free).unwrap_or_else(|e| e.into_inner());
    }
    *free -= n;
    Slots(n)
}

impl Drop for Slots {
    fn drop(&mut self) {
        *FREE.lock().unwrap_or_else(|e| e.into_inner()) += self.0;
        FREED.notify_all();
    }
}

// ---------------------------------------------------------------------------------------------
// Running judge

pub struct Out {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub description: String,
}

impl Out {
    pub fn dump(&self) -> String {
        let cut = |s: &str| {
            if s.len() > 6000 {
                let mut end = 6000;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}... ({} bytes)", &s[..end], s.len())
            } else {
                s.to_owned()
            }
        };
        format!(
            "command: {}\nexit: {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.description,
            self.status,
            self.elapsed,
            cut(&self.stdout),
            cut(&self.stderr)
        )
    }

    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}\n{}", self.dump())
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Judge must not have panicked, whatever it was asked.
    pub fn assert_no_panic(&self) -> &Out {
        if self.stderr.contains("panicked") || self.stdout.contains("panicked") {
            self.fail("judge panicked");
        }
        self
    }

    pub fn assert_success(&self) -> &Out {
        self.assert_no_panic();
        if !self.status.success() {
            self.fail("judge did not exit 0");
        }
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| self.fail(&format!("stdout is not JSON: {e}")))
    }
}

/// Runs `judge ARGS` (stdin /dev/null, stdout and stderr piped, so never a tty) holding
/// `slots_needed` slots; SIGKILLs it and fails the test when it overruns `deadline` (counted
/// from when it started, after waiting for the slots).
pub fn judge_with<S: AsRef<OsStr>>(args: &[S], deadline: Duration, slots_needed: usize) -> Out {
    let description = format!(
        "judge {}",
        args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    );
    let _slots = slots(slots_needed);
    let started = Instant::now();
    let mut child = Command::new(JUDGE)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {description}: {e}"));
    let stdout = read_in_background(child.stdout.take().unwrap());
    let stderr = read_in_background(child.stderr.take().unwrap());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            let out = stdout.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
            panic!(
                "{description}\njudge overran its deadline of {deadline:?} and was killed\nstdout so far:\n{}\nstderr so far:\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let pipe = |rx: Receiver<Vec<u8>>, what: &str| {
        let bytes = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| {
            panic!("{description}\njudge exited ({status:?}) but its {what} is still held open by another process (a box that outlived it?)")
        });
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let stdout = pipe(stdout, "stdout");
    let stderr = pipe(stderr, "stderr");
    Out { status, stdout, stderr, elapsed, description }
}

pub fn judge<S: AsRef<OsStr>>(args: &[S], deadline: Duration) -> Out {
    judge_with(args, deadline, 1)
}

/// `judge submit PROBLEM FILE EXTRA... --json`, which must exit 0 with a JSON result.
pub fn submit_json(problem: &Path, file: &Path, extra: &[&str]) -> (Value, Out) {
    submit_json_within(problem, file, extra, SUBMIT_DEADLINE)
}

pub fn submit_json_within(problem: &Path, file: &Path, extra: &[&str], deadline: Duration) -> (Value, Out) {
    let mut args: Vec<&OsStr> = vec!["submit".as_ref(), problem.as_os_str(), file.as_os_str()];
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    args.push("--json".as_ref());
    let out = judge(&args, deadline);
    out.assert_success();
    let v = out.json();
    (v, out)
}

// ---------------------------------------------------------------------------------------------
// Reading results

pub fn verdict(v: &Value) -> &str {
    v["verdict"].as_str().unwrap_or_else(|| panic!("no string `verdict` in {v:#}"))
}

pub fn tests(v: &Value) -> &Vec<Value> {
    v["tests"].as_array().unwrap_or_else(|| panic!("no array `tests` in {v:#}"))
}

pub fn test_verdicts(v: &Value) -> Vec<String> {
    tests(v).iter().map(|t| verdict(t).to_owned()).collect()
}

pub fn score(v: &Value) -> f64 {
    v["score"].as_f64().unwrap_or_else(|| panic!("no number `score` in {v:#}"))
}

/// The test case names of a package, as judge names them (`sample/1`, `secret/group1/01-two`),
/// in judging order (sample before secret, by name).
pub fn case_names(problem: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if p.is_dir() {
                walk(&p, &r, out);
            } else if let Some(stem) = r.strip_suffix(".in") {
                out.push(stem.to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(&problem.join("data"), "", &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fresh directory under /var/tmp, readable by the box users.
pub fn scratch() -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("judge-cli-test-").tempdir_in("/var/tmp").expect("tempdir in /var/tmp");
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// Writes `text` to `dir/rel`, creating parent directories.
pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    p
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// An A+B test set: `data/secret/{1,2,3}.in/.ans`.
pub fn write_ab_data(pkg: &Path) {
    for (i, (a, b)) in [(1i64, 2i64), (5, 6), (-4, 10)].iter().enumerate() {
        write(pkg, &format!("data/secret/{}.in", i + 1), &format!("{a} {b}\n"));
        write(pkg, &format!("data/secret/{}.ans", i + 1), &format!("{}\n", a + b));
    }
}

/// A legacy A+B package with `validation: custom` (plus `extra_yaml` at the top level) whose
/// output validator / checker is the C program `validator`. Small explicit limits, so nothing
/// is derived and a hanging validator is stopped after one second of CPU.
pub fn custom_validator_package(root: &Path, name: &str, validator: &str, extra_yaml: &str) -> PathBuf {
    let pkg = root.join(name);
    write(
        &pkg,
        "problem.yaml",
        &format!(
            "problem_format_version: legacy\nname: {name}\nvalidation: custom\n{extra_yaml}limits:\n  time_limit: 1\n  validation_time: 1\n  memory: 256\n"
        ),
    );
    write_ab_data(&pkg);
    write(&pkg, "output_validators/v/validator.c", validator);
    pkg
}

/// A legacy interactive package (`validation: custom interactive`) with one test case and the
/// C program `validator` as its interactor.
pub fn interactive_package(root: &Path, name: &str, validator: &str) -> PathBuf {
    let pkg = root.join(name);
    write(
        &pkg,
        "problem.yaml",
        &format!(
            "problem_format_version: legacy\nname: {name}\nvalidation: custom interactive\nlimits:\n  time_limit: 1\n  validation_time: 1\n  memory: 256\n"
        ),
    );
    write(&pkg, "data/secret/1.in", "7\n");
    write(&pkg, "data/secret/1.ans", "7\n");
    write(&pkg, "output_validators/v/validator.c", validator);
    pkg
}

/// A correct A+B submission in C.
pub const AB_C: &str = "#include <stdio.h>\nint main(void) { long long a, b; if (scanf(\"%lld %lld\", &a, &b) != 2) return 1; printf(\"%lld\\n\", a + b); return 0; }\n";
/// A correct A+B submission in C++.
pub const AB_CPP: &str = "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n";
/// A correct A+B submission in Python.
pub const AB_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";

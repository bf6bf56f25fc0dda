//! Shared helpers for the end-to-end tests of `judge serve` / `judge worker`: start the real
//! binary on a free loopback port, make tokens, build packages, call the API.
//!
//! These run the sandbox: run them inside a throwaway namespace, e.g.
//! `unshare -m -p -f --mount-proc cargo test --test service_durability`.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const JUDGE: &str = env!("CARGO_BIN_EXE_judge");

/// A free loopback port (bound and released; the service binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port").local_addr().expect("local addr").port()
}

/// A `judge serve` or `judge worker` process, killed when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Proc {
    /// Starts `judge ARGS`, logging to `log_dir/NAME.log`, with its temporary files in
    /// `log_dir/tmp` (see `Proc::temp_dir`).
    pub fn spawn(name: &str, args: &[&str], log_dir: &Path) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let out = fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the log");
        let tmp = Proc::temp_dir(log_dir);
        fs::create_dir_all(&tmp).expect("create the temporary directory");
        let child = Command::new(JUDGE)
            .args(args)
            .env("RUST_LOG", "info")
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn judge {args:?}: {e}"));
        Proc { child, name: name.to_owned(), log }
    }

    /// The TMPDIR of the processes started with `log_dir`.
    pub fn temp_dir(log_dir: &Path) -> PathBuf {
        log_dir.join("tmp")
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
        unsafe { libc::kill(self.pid(), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.is_running() {
            self.kill9();
        }
    }
}

/// A running service and a client for it.
pub struct Service {
    pub proc: Proc,
    pub base: String,
    pub client: reqwest::blocking::Client,
}

impl Service {
    /// Starts `judge serve` with `args` on a free port and waits until /healthz answers.
    pub fn start(name: &str, args: &[&str], log_dir: &Path) -> Service {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec!["serve", "--listen", &listen];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn(name, &all, log_dir);
        let base = format!("http://{listen}");
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().expect("HTTP client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send() {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(proc.is_running(), "judge serve exited at start:\n{}", proc.log_text());
            assert!(Instant::now() < deadline, "judge serve did not answer /healthz within 60 s:\n{}", proc.log_text());
            thread::sleep(Duration::from_millis(50));
        }
        Service { proc, base, client }
    }

    pub fn request(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::blocking::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token)
    }

    /// A JSON call that must succeed (2xx); returns the body.
    pub fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<&Value>) -> Value {
        let mut rb = self.request(method.clone(), path, token);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status();
        let text = r.text().unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
    }

    pub fn upload_problem(&self, token: &str, name: &str, targz: Vec<u8>) -> Value {
        let r = self
            .request(reqwest::Method::POST, &format!("/v1/problems?name={name}"), token)
            .header("content-type", "application/gzip")
            .body(targz)
            .send()
            .expect("POST /v1/problems");
        let status = r.status();
        let text = r.text().unwrap_or_default();
        assert!(status.is_success(), "upload {name}: HTTP {status}: {text}");
        serde_json::from_str(&text).expect("upload response is JSON")
    }

    pub fn submit(&self, token: &str, problem: &str, language: &str, source: &str) -> i64 {
        let v = self.call(reqwest::Method::POST, "/v1/submissions", token, Some(&json!({"problem": problem, "language": language, "source": source})));
        v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
    }

    pub fn submission(&self, token: &str, id: i64, wait_s: u64) -> Value {
        self.call(reqwest::Method::GET, &format!("/v1/submissions/{id}?wait={wait_s}"), token, None)
    }

    /// Waits until every id is done (or panics after `deadline`); returns them in order.
    pub fn wait_all(&self, token: &str, ids: &[i64], deadline: Duration) -> Vec<Value> {
        let until = Instant::now() + deadline;
        ids.iter()
            .map(|&id| loop {
                let s = self.submission(token, id, 5);
                if s["status"] == "done" {
                    break s;
                }
                assert!(Instant::now() < until, "submission {id} not judged within {deadline:?}: {s}");
            })
            .collect()
    }
}

/// `judge token add` against a data dir or database; returns the token.
pub fn add_token(role: &str, where_: &[&str]) -> String {
    let mut args = vec!["token", "add", "--role", role];
    args.extend_from_slice(where_);
    let out = Command::new(JUDGE).args(&args).output().expect("run judge token add");
    assert!(out.status.success(), "judge token add: {}", String::from_utf8_lossy(&out.stderr));
    let t = String::from_utf8(out.stdout).expect("token is UTF-8").trim().to_owned();
    assert!(t.len() >= 32, "token too short: {t:?}");
    t
}

/// A gzipped tar of `dir`'s tree (paths relative to it).
pub fn targz(dir: &Path) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    tar.follow_symlinks(false);
    tar.append_dir_all(".", dir).expect("tar the package");
    tar.into_inner().expect("finish tar").finish().expect("finish gzip")
}

/// A 2025-09 A+B package with `tests` secret cases and a generous time limit.
pub fn ab_package(root: &Path, tests: usize) -> PathBuf {
    let dir = root.join("ab");
    fs::create_dir_all(dir.join("data/secret")).unwrap();
    fs::write(
        dir.join("problem.yaml"),
        "problem_format_version: 2025-09\ntype: pass-fail\nname: A plus B\nlimits:\n  time_limit: 4\n  memory: 256\n",
    )
    .unwrap();
    for i in 0..tests {
        let (a, b) = (i as i64 * 7 - 3, 1000 - i as i64);
        fs::write(dir.join(format!("data/secret/{i:02}.in")), format!("{a} {b}\n")).unwrap();
        fs::write(dir.join(format!("data/secret/{i:02}.ans")), format!("{}\n", a + b)).unwrap();
    }
    dir
}

/// Accepted A+B in Python.
pub const AB_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
/// Wrong A+B in Python.
pub const AB_PY_WRONG: &str = "a, b = map(int, input().split())\nprint(a - b)\n";
/// Accepted A+B in C.
pub const AB_C: &str = "#include <stdio.h>\nint main(void){long long a,b;if(scanf(\"%lld %lld\",&a,&b)!=2)return 1;printf(\"%lld\\n\",a+b);return 0;}\n";

/// Accepted A+B in Python that first burns about `ms` of CPU per test (to be caught mid-judging).
pub fn ab_py_slow(ms: u64) -> String {
    format!("import time\nt=time.process_time()\nwhile time.process_time()-t<{}:\n    pass\n{AB_PY}", ms as f64 / 1000.0)
}

/// A fresh temp dir under /var/tmp (the sandbox's boxes must be able to reach packages there).
pub fn tempdir(prefix: &str) -> tempfile::TempDir {
    fs::create_dir_all("/var/tmp").ok();
    tempfile::Builder::new().prefix(prefix).tempdir_in("/var/tmp").expect("temp dir")
}

pub fn write_file(path: &Path, text: &str) {
    let mut f = fs::File::create(path).expect("create file");
    f.write_all(text.as_bytes()).expect("write file");
}

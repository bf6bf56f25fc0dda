//! `POST /v1/run`: one command, or two connected by pipes, with limits, input files and the
//! output files the caller wants back — for CI plugins and callers that bring their own
//! checking (the shape go-judge users know: `cmd` list, `files`, `copyOut`).
//!
//! ```json
//! {"cmd": [{"args": ["/usr/bin/python3", "main.py"],
//!           "files": {"main.py": {"content": "print(open('in.txt').read())"}, "in.txt": {"content": "hi"}},
//!           "stdin": {"content": "..."},
//!           "limits": {"time_ms": 1000, "memory_bytes": 268435456},
//!           "copy_out": ["stdout", "stderr", "out.txt"]}],
//!  "pipe": "none"}
//! ```
//!
//! Each command runs in a fresh box of the judge's sandbox (the tree `judge run` gives: a
//! read-only system, its own `/proc`, `/tmp`, no network) as an unprivileged user. Its working
//! directory is `/box`: a writable tmpfs, or — when the command has input `files` or asks for
//! files back — a writable bind of a per-request host directory (mode 0777, as the compile step
//! does for `/sub`) holding the input files, removed after the run. `stdout` and `stderr` in
//! `copy_out` are the captured streams (files of the request directory outside the box, bounded
//! by the output limit), not files in `/box`. A request without input files, stdin content or
//! `copy_out` touches no disk at all.
//!
//! A `/box` on a host directory is not a tmpfs: what the program writes there is bounded per
//! file by the output limit but not in total (its page cache counts against the box's memory,
//! but written-back pages do not). Give [`run`] a `scratch` on a tmpfs to bound it by the
//! memory limit as the default `/box` is (tmpfs pages are charged to the writer's cgroup); it
//! is also faster than a disk file system.
//!
//! Files read back are opened without following symlinks and must be regular files: a program
//! cannot make the service read a host file through a link it planted in `/box`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use runner::{BindMount, HandedFd, Input, Output, Report, RunSpec, Sandbox};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest CPU time limit a request may ask for.
pub const MAX_TIME_MS: u64 = 60_000;
/// The largest wall-clock limit a request may ask for.
pub const MAX_WALL_TIME_MS: u64 = 180_000;
/// The largest memory limit a request may ask for.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;
/// The smallest memory limit (the sandbox's minimum).
pub const MIN_MEMORY_BYTES: u64 = 1 << 20;
/// The largest pids limit a request may ask for.
pub const MAX_PIDS: u32 = 256;
/// The largest output limit a request may ask for.
pub const MAX_OUTPUT_BYTES: u64 = 256 << 20;
/// `copy_out_max_bytes` when not given.
pub const DEFAULT_COPY_OUT_MAX_BYTES: u64 = 1 << 20;
/// The largest `copy_out_max_bytes`.
pub const MAX_COPY_OUT_BYTES: u64 = 16 << 20;
/// The most input files (and the most `copy_out` names) of one command.
pub const MAX_FILES: usize = 64;
/// The most bytes of input files and stdin content of one request, decoded.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;
/// The most arguments, and the most environment variables, of one command.
pub const MAX_ARGS: usize = 1024;

/// Where `/box` is in the box.
const BOX_DIR: &str = "/box";
const STDOUT: &str = "stdout";
const STDERR: &str = "stderr";

/// The request body of `POST /v1/run`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// One command, or two connected as `pipe` says.
    pub cmd: Vec<RunCommand>,
    /// How two commands are connected: `forward` (cmd 0's stdout is cmd 1's stdin) or
    /// `interactive` (that, and cmd 1's stdout is cmd 0's stdin; both run at the same time).
    /// One command: `none` (the default).
    #[serde(default)]
    pub pipe: RunPipeMode,
}

/// How the commands of a request are connected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunPipeMode {
    /// One command, not connected to anything.
    #[default]
    None,
    /// `cmd[0]` stdout → `cmd[1]` stdin.
    Forward,
    /// `cmd[0]` stdout → `cmd[1]` stdin and `cmd[1]` stdout → `cmd[0]` stdin.
    Interactive,
}

impl RunPipeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunPipeMode::None => "none",
            RunPipeMode::Forward => "forward",
            RunPipeMode::Interactive => "interactive",
        }
    }
}

/// One program to run in a fresh box.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCommand {
    /// The program (a path in the box, or a name looked up in `PATH` =
    /// `/usr/local/bin:/usr/bin:/bin`) and its arguments.
    pub args: Vec<String>,
    /// Environment variables as `KEY=VALUE`, on top of `PATH` and `HOME=/box`.
    #[serde(default)]
    pub env: Vec<String>,
    /// The program's stdin: text, base64 bytes, or one of `files`; `/dev/null` when absent.
    /// Must be absent when a pipe feeds this command's stdin.
    #[serde(default)]
    pub stdin: Option<RunStdin>,
    /// Files put in the working directory `/box` before the run, by name (one path component:
    /// no `/`, not `.` or `..`).
    #[serde(default)]
    pub files: BTreeMap<String, RunInputFile>,
    /// Resource limits; each absent field takes `judge run`'s default.
    #[serde(default)]
    pub limits: RunLimits,
    /// What to return: `stdout` and `stderr` (the captured streams), and names of files the
    /// program left in `/box`.
    #[serde(default)]
    pub copy_out: Vec<String>,
    /// The most bytes returned per `copy_out` entry (default 1 MiB, at most 16 MiB); longer
    /// ones are cut and listed in `files_truncated`.
    #[serde(default)]
    pub copy_out_max_bytes: Option<u64>,
}

/// Where a command's stdin comes from.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RunStdin {
    /// This text.
    Content(String),
    /// These bytes, base64 (standard alphabet, padded).
    Base64(String),
    /// The input file of this name (from `files`).
    File(String),
}

/// An input file: exactly one of `content` (text) and `base64` (bytes).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInputFile {
    /// The file's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The file's bytes, base64 (standard alphabet, padded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Make the file executable (mode 0777 instead of 0666).
    #[serde(default)]
    pub executable: bool,
}

/// Resource limits of one command (all optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunLimits {
    /// CPU time of all the box's processes and threads, in ms (default 10000, at most 60000).
    pub time_ms: Option<u64>,
    /// Wall-clock time in ms (default twice `time_ms` plus 1000, at most 180000).
    pub wall_time_ms: Option<u64>,
    /// Memory of the whole box in bytes, page cache and tmpfs included (default 512 MiB, from
    /// 1 MiB to 4 GiB).
    pub memory_bytes: Option<u64>,
    /// Processes plus threads alive at once (default 64, at most 256).
    pub pids: Option<u32>,
    /// The largest file the program may write, its stdout and stderr included (default 64 MiB,
    /// at most 256 MiB).
    pub output_bytes: Option<u64>,
}

/// The response of `POST /v1/run`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct RunResponse {
    /// One result per command, in the order of `cmd`.
    pub results: Vec<RunResult>,
}

/// What one command did: the sandbox's report (the fields of `judge run --report`) and the
/// files asked for.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct RunResult {
    /// The sandbox's report, as `judge run --report` writes it.
    #[serde(flatten)]
    pub report: Report,
    /// The `copy_out` entries that were found, by name.
    pub files: BTreeMap<String, RunOutputFile>,
    /// Names of returned files cut at `copy_out_max_bytes`.
    pub files_truncated: Vec<String>,
    /// `copy_out` entries that could not be returned (missing, not a regular file, ...), with
    /// the reason.
    pub file_errors: BTreeMap<String, String>,
}

/// A returned file: `content` when it is UTF-8 text, else `base64`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutputFile {
    /// The file as text.
    Content(String),
    /// The file's bytes, base64 (standard alphabet, padded): it was not UTF-8.
    Base64(String),
}

impl RunOutputFile {
    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            RunOutputFile::Content(s) => s.as_bytes().to_vec(),
            RunOutputFile::Base64(b) => base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunRequestError {
    /// The request asks for something invalid (names the field and value): a 400/422.
    #[error("{0}")]
    Invalid(String),
    /// The sandbox failed: a 500 with the sandbox's message.
    #[error("sandbox: {0}")]
    Sandbox(#[from] runner::Error),
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: std::path::PathBuf, source: std::io::Error },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RunRequestError {
    let path = path.to_path_buf();
    move |source| RunRequestError::Io { op, path, source }
}

fn invalid(msg: String) -> RunRequestError {
    RunRequestError::Invalid(msg)
}

/// Parses a request body, naming the offending field on errors (unknown fields included).
pub fn parse_request(body: &[u8]) -> Result<RunRequest, RunRequestError> {
    serde_json::from_slice(body).map_err(|e| invalid(format!("request body: {e}")))
}

/// One command, checked and decoded.
struct Plan {
    spec: RunSpec,
    files: Vec<(String, Vec<u8>, bool)>,
    stdin: Option<PlanStdin>,
    copy_out: Vec<String>,
    copy_out_max_bytes: u64,
    /// Whether `/box` must be a host directory (input files, or files to read back).
    host_box: bool,
}

enum PlanStdin {
    Bytes(Vec<u8>),
    File(String),
}

/// A single path component usable as a file name in `/box`.
fn check_name(field: &str, name: &str) -> Result<(), RunRequestError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') || name.len() > 255 {
        return Err(invalid(format!(
            "{field}: {name:?} is not a file name (one path component: not empty, no '/', not '.' or '..')"
        )));
    }
    Ok(())
}

fn no_nul(field: &str, s: &str) -> Result<(), RunRequestError> {
    if s.contains('\0') {
        return Err(invalid(format!("{field}: {s:?} contains a NUL byte")));
    }
    Ok(())
}

fn decode_base64(field: &str, b: &str) -> Result<Vec<u8>, RunRequestError> {
    base64::engine::general_purpose::STANDARD.decode(b).map_err(|e| invalid(format!("{field}: not valid base64: {e}")))
}

fn capped<T: PartialOrd + std::fmt::Display + Copy>(field: &str, value: Option<T>, default: T, min: T, max: T) -> Result<T, RunRequestError> {
    let v = value.unwrap_or(default);
    if v < min {
        return Err(invalid(format!("{field}: {v} is below the minimum of {min}")));
    }
    if v > max {
        return Err(invalid(format!("{field}: {v} is above the maximum of {max}")));
    }
    Ok(v)
}

/// Checks a request and decodes its files.
fn plan(req: &RunRequest) -> Result<Vec<Plan>, RunRequestError> {
    match (req.cmd.len(), req.pipe) {
        (0, _) => return Err(invalid("cmd: at least one command is needed".into())),
        (1, RunPipeMode::None) | (2, RunPipeMode::Forward | RunPipeMode::Interactive) => {}
        (1, p) => return Err(invalid(format!("pipe: {:?} needs two commands, cmd has one", p.as_str()))),
        (2, RunPipeMode::None) => return Err(invalid("pipe: two commands must be connected (\"forward\" or \"interactive\")".into())),
        (n, _) => return Err(invalid(format!("cmd: {n} commands; at most two (connected by pipe)"))),
    }
    let mut input_bytes = 0u64;
    let mut plans = Vec::new();
    for (i, c) in req.cmd.iter().enumerate() {
        let f = |name: &str| format!("cmd[{i}].{name}");
        let Some(program) = c.args.first() else {
            return Err(invalid(format!("{}: empty; the program is needed", f("args"))));
        };
        if program.is_empty() {
            return Err(invalid(format!("{}: the program is empty", f("args[0]"))));
        }
        if c.args.len() > MAX_ARGS {
            return Err(invalid(format!("{}: {} arguments; at most {MAX_ARGS}", f("args"), c.args.len())));
        }
        for (j, a) in c.args.iter().enumerate() {
            no_nul(&f(&format!("args[{j}]")), a)?;
        }
        let mut spec = RunSpec::new(program.clone());
        spec.args = c.args[1..].to_vec();
        if c.env.len() > MAX_ARGS {
            return Err(invalid(format!("{}: {} variables; at most {MAX_ARGS}", f("env"), c.env.len())));
        }
        for (j, e) in c.env.iter().enumerate() {
            let field = f(&format!("env[{j}]"));
            no_nul(&field, e)?;
            match e.split_once('=') {
                Some((k, v)) if !k.is_empty() => spec.env.push((k.to_owned(), v.to_owned())),
                _ => return Err(invalid(format!("{field}: {e:?}: expected KEY=VALUE"))),
            }
        }
        let l = &c.limits;
        let default_time_ms = runner::spec::DEFAULT_CPU_TIME.as_millis() as u64;
        let time_ms = capped(&f("limits.time_ms"), l.time_ms, default_time_ms, 1, MAX_TIME_MS)?;
        let default_wall = runner::Limits::default_wall_for(Duration::from_millis(time_ms)).as_millis() as u64;
        let wall_ms = capped(&f("limits.wall_time_ms"), l.wall_time_ms, default_wall.min(MAX_WALL_TIME_MS), 1, MAX_WALL_TIME_MS)?;
        spec.limits = runner::Limits {
            cpu_time: Duration::from_millis(time_ms),
            wall_time: Duration::from_millis(wall_ms),
            memory_bytes: capped(&f("limits.memory_bytes"), l.memory_bytes, runner::spec::DEFAULT_MEMORY_BYTES, MIN_MEMORY_BYTES, MAX_MEMORY_BYTES)?,
            pids: capped(&f("limits.pids"), l.pids, runner::spec::DEFAULT_PIDS, 1, MAX_PIDS)?,
            output_bytes: capped(&f("limits.output_bytes"), l.output_bytes, runner::spec::DEFAULT_OUTPUT_BYTES, 1, MAX_OUTPUT_BYTES)?,
        };
        let copy_out_max_bytes =
            capped(&f("copy_out_max_bytes"), c.copy_out_max_bytes, DEFAULT_COPY_OUT_MAX_BYTES, 0, MAX_COPY_OUT_BYTES)?;

        if c.files.len() > MAX_FILES {
            return Err(invalid(format!("{}: {} files; at most {MAX_FILES}", f("files"), c.files.len())));
        }
        let mut files = Vec::new();
        for (name, file) in &c.files {
            let field = f(&format!("files.{name}"));
            check_name(&f("files"), name)?;
            if name == STDOUT || name == STDERR {
                return Err(invalid(format!("{}: {name:?} is reserved for the captured stream", f("files"))));
            }
            let bytes = match (&file.content, &file.base64) {
                (Some(t), None) => t.as_bytes().to_vec(),
                (None, Some(b)) => decode_base64(&format!("{field}.base64"), b)?,
                _ => return Err(invalid(format!("{field}: give exactly one of \"content\" and \"base64\""))),
            };
            input_bytes += bytes.len() as u64;
            files.push((name.clone(), bytes, file.executable));
        }
        let piped_in = match req.pipe {
            RunPipeMode::None => false,
            RunPipeMode::Forward => i == 1,
            RunPipeMode::Interactive => true,
        };
        let stdin = match &c.stdin {
            None => None,
            Some(_) if piped_in => {
                return Err(invalid(format!("{}: must be absent, the pipe ({:?}) feeds it", f("stdin"), req.pipe.as_str())))
            }
            Some(RunStdin::Content(t)) => Some(PlanStdin::Bytes(t.as_bytes().to_vec())),
            Some(RunStdin::Base64(b)) => Some(PlanStdin::Bytes(decode_base64(&f("stdin.base64"), b)?)),
            Some(RunStdin::File(name)) => {
                check_name(&f("stdin.file"), name)?;
                if !c.files.contains_key(name) {
                    return Err(invalid(format!("{}: {name:?} is not one of the command's files", f("stdin.file"))));
                }
                Some(PlanStdin::File(name.clone()))
            }
        };
        if let Some(PlanStdin::Bytes(b)) = &stdin {
            input_bytes += b.len() as u64;
        }
        if input_bytes > MAX_INPUT_BYTES {
            return Err(invalid(format!("{}: the request's input files and stdin exceed {MAX_INPUT_BYTES} bytes", f("files"))));
        }
        let piped_out = match req.pipe {
            RunPipeMode::None => false,
            RunPipeMode::Forward => i == 0,
            RunPipeMode::Interactive => true,
        };
        if c.copy_out.len() > MAX_FILES {
            return Err(invalid(format!("{}: {} names; at most {MAX_FILES}", f("copy_out"), c.copy_out.len())));
        }
        let mut copy_out: Vec<String> = Vec::new();
        for (j, name) in c.copy_out.iter().enumerate() {
            check_name(&f(&format!("copy_out[{j}]")), name)?;
            if name == STDOUT && piped_out {
                return Err(invalid(format!("{}: \"stdout\" goes into the pipe ({:?})", f(&format!("copy_out[{j}]")), req.pipe.as_str())));
            }
            if !copy_out.contains(name) {
                copy_out.push(name.clone());
            }
        }
        let host_box = !files.is_empty() || copy_out.iter().any(|n| n != STDOUT && n != STDERR);
        plans.push(Plan { spec, files, stdin, copy_out, copy_out_max_bytes, host_box });
    }
    Ok(plans)
}

/// The per-request directory, created when first needed and removed on drop.
struct WorkDir<'a> {
    scratch: &'a Path,
    dir: Option<tempfile::TempDir>,
}

impl WorkDir<'_> {
    fn get(&mut self) -> Result<&Path, RunRequestError> {
        if self.dir.is_none() {
            fs::create_dir_all(self.scratch).map_err(io_err("create the scratch directory", self.scratch))?;
            let d = tempfile::Builder::new()
                .prefix("run-")
                .tempdir_in(self.scratch)
                .map_err(io_err("create a directory in", self.scratch))?;
            fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).map_err(io_err("chmod", d.path()))?;
            self.dir = Some(d);
        }
        Ok(self.dir.as_ref().map(|d| d.path()).expect("just set"))
    }
}

/// A captured stream: the supervisor pumps it (counting bytes against the output limit) into a
/// pipe whose other end a thread reads, keeping at most `copy_out_max_bytes + 1` bytes.
struct Capture<'s> {
    name: &'static str,
    /// The pipe's write end, the pump's sink: closed after the run so the reader sees EOF.
    sink: Option<std::os::fd::OwnedFd>,
    reader: std::thread::ScopedJoinHandle<'s, io::Result<Vec<u8>>>,
}

/// Where one command's inputs and outputs are.
#[derive(Default)]
struct Io<'s> {
    box_dir: Option<PathBuf>,
    captures: Vec<Capture<'s>>,
    /// The read end of a stdin pipe fed by a thread: dropped after the run in case the box
    /// never took it, so the feeding thread cannot block forever.
    stdin_pipe: Option<HandedFd>,
}

impl Drop for Io<'_> {
    fn drop(&mut self) {
        // Also on early returns: the thread scope waits for the feeding thread.
        if let Some(h) = self.stdin_pipe.take() {
            drop(h.take());
        }
    }
}

/// Runs a request in the sandbox (blocking; call from `spawn_blocking`). `scratch` is a host
/// directory for the request's files: a request with input `files` or `copy_out` of files makes
/// its own temporary directory below it and removes it before returning, so `scratch` may be
/// shared by concurrent requests. Streams (stdin content, captured stdout and stderr) go
/// through pipes and touch no disk.
///
/// A program that cannot be found or executed in the box is `Invalid` (the caller's mistake);
/// limits hit, crashes and non-zero exits are results, not errors.
pub fn run(sandbox: &runner::Sandbox, req: &RunRequest, scratch: &std::path::Path) -> Result<RunResponse, RunRequestError> {
    let mut plans = plan(req)?;
    let mut work = WorkDir { scratch, dir: None };
    std::thread::scope(|s| {
        let mut ios: Vec<Io<'_>> = Vec::new();
        for (i, p) in plans.iter_mut().enumerate() {
            let mut io = Io::default();
            if p.host_box {
                let dir = work.get()?.join(format!("box{i}"));
                fs::create_dir(&dir).map_err(io_err("create", &dir))?;
                // The box's user (a uid of the slot) writes here, as in the compile step's /sub.
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).map_err(io_err("chmod", &dir))?;
                for (name, bytes, exec) in &p.files {
                    let path = dir.join(name);
                    fs::write(&path, bytes).map_err(io_err("write the input file", &path))?;
                    let mode = if *exec { 0o777 } else { 0o666 };
                    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", &path))?;
                }
                p.spec.mounts.push(BindMount { src: dir.clone(), dest: BOX_DIR.into(), writable: true });
                io.box_dir = Some(dir);
            }
            p.spec.stdin = match p.stdin.take() {
                None => Input::Null,
                Some(PlanStdin::File(name)) => Input::File(io.box_dir.as_ref().expect("files make a box dir").join(name)),
                Some(PlanStdin::Bytes(bytes)) => {
                    let (r, w) = pipe()?;
                    s.spawn(move || {
                        // EPIPE when the program stops reading early: that is its business.
                        let _ = io::Write::write_all(&mut fs::File::from(w), &bytes);
                    });
                    let handed = HandedFd::new(r);
                    io.stdin_pipe = Some(handed.clone());
                    Input::Handed(handed)
                }
            };
            for name in [STDOUT, STDERR] {
                if !p.copy_out.iter().any(|n| n == name) {
                    continue;
                }
                let (r, w) = pipe()?;
                let max = p.copy_out_max_bytes;
                let reader = s.spawn(move || read_capped(fs::File::from(r), max));
                let sink = Output::Pump(std::os::fd::AsRawFd::as_raw_fd(&w));
                if name == STDOUT {
                    p.spec.stdout = sink;
                } else {
                    p.spec.stderr = sink;
                }
                io.captures.push(Capture { name, sink: Some(w), reader });
            }
            ios.push(io);
        }

        let reports = match req.pipe {
            RunPipeMode::None => vec![run_one(sandbox, &plans[0].spec, 0)],
            RunPipeMode::Forward | RunPipeMode::Interactive => {
                let (a_to_b_r, a_to_b_w) = pipe()?;
                plans[0].spec.stdout = Output::Handed(HandedFd::new(a_to_b_w));
                plans[1].spec.stdin = Input::Handed(HandedFd::new(a_to_b_r));
                if req.pipe == RunPipeMode::Interactive {
                    let (b_to_a_r, b_to_a_w) = pipe()?;
                    plans[1].spec.stdout = Output::Handed(HandedFd::new(b_to_a_w));
                    plans[0].spec.stdin = Input::Handed(HandedFd::new(b_to_a_r));
                }
                let (a, b) = (&plans[0].spec, &plans[1].spec);
                let hb = s.spawn(|| run_one(sandbox, b, 1));
                let ra = run_one(sandbox, a, 0);
                vec![ra, hb.join().unwrap_or_else(|_| Err(invalid("cmd[1]: the run panicked".into())))]
            }
        };
        // Whatever happened, no pipe end of ours may keep a thread of this scope waiting.
        for p in &plans {
            if let Input::Handed(h) = &p.spec.stdin {
                drop(h.take());
            }
            for o in [&p.spec.stdout, &p.spec.stderr] {
                if let Output::Handed(h) = o {
                    drop(h.take());
                }
            }
        }
        let mut results = Vec::new();
        for ((report, p), mut io) in reports.into_iter().zip(&plans).zip(ios) {
            if let Some(h) = io.stdin_pipe.take() {
                drop(h.take());
            }
            let mut captured: Vec<(&'static str, io::Result<Vec<u8>>)> = Vec::new();
            for mut c in std::mem::take(&mut io.captures) {
                drop(c.sink.take());
                captured.push((c.name, c.reader.join().unwrap_or_else(|_| Err(io::Error::other("the reader panicked")))));
            }
            let report = report?;
            let mut r = RunResult { report, files: BTreeMap::new(), files_truncated: Vec::new(), file_errors: BTreeMap::new() };
            for name in &p.copy_out {
                let got = match captured.iter_mut().find(|(n, _)| n == name) {
                    Some((_, bytes)) => match std::mem::replace(bytes, Ok(Vec::new())) {
                        Ok(mut b) => {
                            let truncated = b.len() as u64 > p.copy_out_max_bytes;
                            b.truncate(p.copy_out_max_bytes as usize);
                            Ok((encode(b, truncated), truncated))
                        }
                        Err(e) => Err(format!("read the captured stream: {e}")),
                    },
                    None => match &io.box_dir {
                        Some(d) => read_back(&d.join(name), p.copy_out_max_bytes),
                        None => continue,
                    },
                };
                match got {
                    Ok((file, truncated)) => {
                        r.files.insert(name.clone(), file);
                        if truncated {
                            r.files_truncated.push(name.clone());
                        }
                    }
                    Err(reason) => {
                        r.file_errors.insert(name.clone(), reason);
                    }
                }
            }
            results.push(r);
        }
        Ok(RunResponse { results })
    })
}

/// Reads a pipe to its end, keeping the first `max + 1` bytes (one more tells it was cut).
fn read_capped(mut r: fs::File, max: u64) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    (&mut r).take(max.saturating_add(1)).read_to_end(&mut kept)?;
    io::copy(&mut r, &mut io::sink())?;
    Ok(kept)
}

/// Runs one box; the program's absence is the caller's mistake, not the sandbox's.
fn run_one(sandbox: &Sandbox, spec: &RunSpec, i: usize) -> Result<Report, RunRequestError> {
    match sandbox.run(spec) {
        Ok(r) => Ok(r),
        Err(e @ (runner::Error::ProgramNotFound { .. } | runner::Error::Exec { .. } | runner::Error::Spec(_))) => {
            Err(invalid(format!("cmd[{i}].args[0]: {e}")))
        }
        Err(e) => Err(e.into()),
    }
}

fn pipe() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), RunRequestError> {
    let (r, w) = io::pipe().map_err(io_err("create a pipe", Path::new("")))?;
    Ok((r.into(), w.into()))
}

/// Reads a file the box may have written: no symlink is followed, only a regular file is read
/// (a FIFO does not block), at most `max` bytes. Text when UTF-8 (a character cut by the limit
/// is dropped), else base64.
fn read_back(path: &Path, max: u64) -> Result<(RunOutputFile, bool), String> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => "no such file".to_string(),
            _ if e.raw_os_error() == Some(libc::ELOOP) => "a symbolic link; not followed".to_string(),
            _ => format!("open: {e}"),
        })?;
    let meta = file.metadata().map_err(|e| format!("stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("read: {e}"))?;
    let truncated = bytes.len() as u64 > max;
    bytes.truncate(max as usize);
    Ok((encode(bytes, truncated), truncated))
}

fn encode(bytes: Vec<u8>, truncated: bool) -> RunOutputFile {
    match String::from_utf8(bytes) {
        Ok(s) => RunOutputFile::Content(s),
        Err(e) => {
            let u = e.utf8_error();
            // Cut inside a character at the end: the text up to it.
            if truncated && u.error_len().is_none() {
                let mut b = e.into_bytes();
                b.truncate(u.valid_up_to());
                return RunOutputFile::Content(String::from_utf8(b).unwrap_or_default());
            }
            RunOutputFile::Base64(base64::engine::general_purpose::STANDARD.encode(e.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> Result<Vec<Plan>, RunRequestError> {
        plan(&parse_request(json.as_bytes())?)
    }

    fn invalid_msg(json: &str) -> String {
        match req(json) {
            Err(RunRequestError::Invalid(m)) => m,
            Err(e) => panic!("{json}: expected Invalid, got {e}"),
            Ok(_) => panic!("{json}: accepted"),
        }
    }

    #[test]
    fn defaults_are_judge_runs() {
        let p = req(r#"{"cmd":[{"args":["/bin/true"]}]}"#).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].spec.limits, runner::Limits::default());
        assert!(!p[0].host_box);
        assert_eq!(p[0].copy_out_max_bytes, DEFAULT_COPY_OUT_MAX_BYTES);
        let p = req(r#"{"cmd":[{"args":["x"],"limits":{"time_ms":1500}}]}"#).unwrap();
        assert_eq!(p[0].spec.limits.wall_time, Duration::from_millis(4000));
        let p = req(r#"{"cmd":[{"args":["x"],"copy_out":["stdout","stderr"]}]}"#).unwrap();
        assert!(!p[0].host_box, "streams are captured outside /box");
        let p = req(r#"{"cmd":[{"args":["x"],"copy_out":["out.txt"]}]}"#).unwrap();
        assert!(p[0].host_box);
    }

    #[test]
    fn invalid_requests_name_the_field() {
        assert!(invalid_msg(r#"{"cmd":[]}"#).starts_with("cmd:"));
        assert!(invalid_msg(r#"{"cmd":[{"args":["a"]},{"args":["b"]},{"args":["c"]}],"pipe":"forward"}"#).starts_with("cmd: 3"));
        assert!(invalid_msg(r#"{"cmd":[{"args":["a"]},{"args":["b"]}]}"#).starts_with("pipe:"));
        assert!(invalid_msg(r#"{"cmd":[{"args":["a"]}],"pipe":"forward"}"#).starts_with("pipe:"));
        assert!(invalid_msg(r#"{"cmd":[{"args":[]}]}"#).starts_with("cmd[0].args:"));
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"files":{"../x":{"content":""}}}]}"#);
        assert!(m.starts_with("cmd[0].files:") && m.contains("\"../x\""), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"copy_out":["a/b"]}]}"#);
        assert!(m.starts_with("cmd[0].copy_out[0]:") && m.contains("\"a/b\""), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"limits":{"time_ms":60001}}]}"#);
        assert_eq!(m, "cmd[0].limits.time_ms: 60001 is above the maximum of 60000");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"limits":{"memory_bytes":100}}]}"#);
        assert!(m.starts_with("cmd[0].limits.memory_bytes: 100 is below"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"]},{"args":["b"],"limits":{"pids":1000}}],"pipe":"forward"}"#);
        assert!(m.starts_with("cmd[1].limits.pids: 1000"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"]}],"bogus":1}"#);
        assert!(m.contains("unknown field `bogus`"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"limits":{"time":1}}]}"#);
        assert!(m.contains("unknown field `time`"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"env":["NOEQUALS"]}]}"#);
        assert!(m.starts_with("cmd[0].env[0]:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"files":{"f":{"content":"x","base64":"eA=="}}}]}"#);
        assert!(m.starts_with("cmd[0].files.f:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"files":{"f":{"base64":"!!"}}}]}"#);
        assert!(m.starts_with("cmd[0].files.f.base64:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"stdin":{"file":"nope"}}]}"#);
        assert!(m.starts_with("cmd[0].stdin.file:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"]},{"args":["b"],"stdin":{"content":"x"}}],"pipe":"forward"}"#);
        assert!(m.starts_with("cmd[1].stdin:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"copy_out":["stdout"]},{"args":["b"]}],"pipe":"forward"}"#);
        assert!(m.starts_with("cmd[0].copy_out[0]:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"files":{"stdout":{"content":""}}}]}"#);
        assert!(m.starts_with("cmd[0].files:"), "{m}");
        let m = invalid_msg(r#"{"cmd":[{"args":["a"],"copy_out_max_bytes":999999999}]}"#);
        assert!(m.starts_with("cmd[0].copy_out_max_bytes:"), "{m}");
    }

    #[test]
    fn outputs_are_text_or_base64() {
        assert_eq!(encode(b"hi\n".to_vec(), false), RunOutputFile::Content("hi\n".into()));
        assert_eq!(encode(vec![0xff, 0], false), RunOutputFile::Base64("/wA=".into()));
        // "é" cut in the middle by the limit: the text before it.
        assert_eq!(encode(vec![b'a', 0xc3], true), RunOutputFile::Content("a".into()));
        assert_eq!(encode(vec![b'a', 0xc3], false), RunOutputFile::Base64("YcM=".into()));
        assert_eq!(RunOutputFile::Base64("/wA=".into()).bytes(), vec![0xff, 0]);
    }

    #[test]
    fn read_back_refuses_links_and_fifos() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("link")).unwrap();
        assert!(read_back(&d.path().join("link"), 100).unwrap_err().contains("symbolic link"));
        assert_eq!(read_back(&d.path().join("missing"), 100).unwrap_err(), "no such file");
        fs::create_dir(d.path().join("dir")).unwrap();
        assert_eq!(read_back(&d.path().join("dir"), 100).unwrap_err(), "not a regular file");
        let st = std::process::Command::new("mkfifo").arg(d.path().join("fifo")).status().unwrap();
        assert!(st.success());
        assert_eq!(read_back(&d.path().join("fifo"), 100).unwrap_err(), "not a regular file");
        fs::write(d.path().join("big"), "abcdef").unwrap();
        assert_eq!(read_back(&d.path().join("big"), 3).unwrap(), (RunOutputFile::Content("abc".into()), true));
        assert_eq!(read_back(&d.path().join("big"), 6).unwrap(), (RunOutputFile::Content("abcdef".into()), false));
    }
}

#[cfg(test)]
mod schema_tests {
    #[test]
    fn the_result_schema_documents_the_report_fields() {
        use utoipa::PartialSchema;
        let s = serde_json::to_string(&super::RunResult::schema()).unwrap();
        assert!(s.contains("\"#/components/schemas/RunReport\""), "{s}");
        assert!(s.contains("files_truncated"), "{s}");
        // The report's own schema is the runner's type: every field of the JSON report.
        let r = serde_json::to_string(&<runner::Report as PartialSchema>::schema()).unwrap();
        for field in ["status", "cpu_time_ms", "memory_bytes", "cgroup_entry", "kill_method", "limits"] {
            assert!(r.contains(&format!("\"{field}\"")), "{field} missing from {r}");
        }
        assert!(!r.contains("ended_monotonic_ns"), "{r}");
    }
}

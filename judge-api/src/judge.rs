//! Judging a submission on a problem: compile once, run every test case in a fresh box, check
//! the output (default validator, custom validator, testlib checker, or an interactive
//! validator running at the same time), aggregate verdicts and scores.
//!
//! Every untrusted program runs through the sandbox: the submission, its compiler, and the
//! problem's own validators and checkers (compiled and run with the problem's validation
//! limits). The default output validator is this crate's own code and runs in-process.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use runner::{BindMount, HandedFd, Input, Output, Report, Sandbox, Status};

use crate::checker::default::{self as default_checker, DefaultFlags};
use crate::language::{self, Executable, Language, LanguageError, LanguageTable};
use crate::problem::{CaseOutcome, OutputValidation, Problem, TestCase};
use crate::verdict::{SubmissionResult, TestResult, Verdict};

/// The most of a validator's or checker's message kept in a result.
const MESSAGE_BYTES: usize = 4096;
/// Where the test's files appear in a validator's box.
const JUDGE_DIR: &str = "/judge";
/// The time limit accepted submissions run under while a missing time limit is derived.
const PROBE_TIME_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error(transparent)]
    Language(#[from] LanguageError),
    #[error("sandbox: {0}")]
    Sandbox(#[from] runner::Error),
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    #[error("{file}: no language for this file (known: {known}); name it by extension or pass --lang")]
    UnknownLanguage { file: PathBuf, known: String },
    #[error("unknown language {id:?} (known: {known})")]
    NoSuchLanguage { id: String, known: String },
    #[error("{what} {path}: {reason}")]
    Validator { what: &'static str, path: PathBuf, reason: String },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> JudgeError + 'a {
    move |source| JudgeError::Io { op, path: path.to_owned(), source }
}

/// How to judge one submission.
#[derive(Clone, Debug, Default)]
pub struct JudgeOptions {
    /// Language id; by file extension when `None`.
    pub language: Option<String>,
    /// Run every test even after a failure (pass-fail problems stop at the first by default).
    pub all_tests: bool,
    /// CPUs the submission's boxes are pinned to.
    pub cpus: Option<Vec<u32>>,
}

/// Pins the calling thread to `cpus`: what a job that pins its boxes there (`JudgeOptions::cpus`)
/// does first, so that the box's supervisor (this thread) runs where the box does. Between two
/// boxes that CPU is idle, and waking a thread there costs less than on a CPU another job's box
/// keeps busy or, on a VM, an idle virtual CPU that must be woken itself.
pub fn pin_current_thread(cpus: &[u32]) -> nix::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &c in cpus {
        set.set(c as usize)?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
}

/// The problem's output checking, compiled.
#[derive(Debug)]
enum Checking {
    Default,
    /// A Kattis output validator (also the interactive one): `validator input answer feedback_dir [args]`.
    Validator(Executable),
    /// A testlib checker: `checker input output answer`.
    Testlib(Executable),
}

/// A problem ready for judging: its validator compiled and its time limit known.
#[derive(Debug)]
pub struct PreparedProblem {
    pub problem: Problem,
    checking: Checking,
    pub time_limit: Duration,
    /// True when the package gave no time limit and it was derived from the accepted
    /// submissions, the way the format says.
    pub time_limit_derived: bool,
    /// Keeps the compiled validator until the problem is dropped.
    _work: tempfile::TempDir,
}

/// The judge: a sandbox, a language table, a place for work files.
pub struct Judge {
    sandbox: Arc<Sandbox>,
    languages: LanguageTable,
    work_root: PathBuf,
}

impl Judge {
    pub fn new(sandbox: Arc<Sandbox>, languages: LanguageTable, work_root: PathBuf) -> Self {
        Judge { sandbox, languages, work_root }
    }

    pub fn languages(&self) -> &LanguageTable {
        &self.languages
    }

    /// The sandbox the judge runs in (shared with `POST /v1/run`).
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    fn work_dir(&self, prefix: &str) -> Result<tempfile::TempDir, JudgeError> {
        fs::create_dir_all(&self.work_root).map_err(io_err("create the work directory", &self.work_root))?;
        let d = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&self.work_root)
            .map_err(io_err("create a work directory in", &self.work_root))?;
        // Boxes run as unprivileged users and must reach their read-only mounts below it.
        set_mode(d.path(), 0o755)?;
        Ok(d)
    }

    /// The language of a submission: by id, or by its file extension.
    pub fn language_for(&self, source: &Path, id: Option<&str>) -> Result<&Language, JudgeError> {
        let known = || self.languages.ids().join(", ");
        match id {
            Some(id) => self.languages.get(id).ok_or_else(|| JudgeError::NoSuchLanguage { id: id.to_owned(), known: known() }),
            None => self
                .languages
                .detect(source)
                .ok_or_else(|| JudgeError::UnknownLanguage { file: source.to_owned(), known: known() }),
        }
    }

    /// Compiles the problem's validator or checker and settles the time limit. A legacy
    /// package without a time limit gets one derived from its accepted submissions.
    pub fn prepare(&self, problem: Problem) -> Result<PreparedProblem, JudgeError> {
        let work = self.work_dir("problem-")?;
        let checking = match &problem.output_validation {
            OutputValidation::Default { .. } => Checking::Default,
            OutputValidation::Custom { dir, .. } => Checking::Validator(self.build_program(dir, work.path(), "output validator")?),
            OutputValidation::Testlib { dir, .. } => Checking::Testlib(self.build_program(dir, work.path(), "testlib checker")?),
        };
        let mut prepared = PreparedProblem {
            time_limit: problem.limits.time_limit.unwrap_or(Duration::from_secs(10)),
            time_limit_derived: problem.limits.time_limit.is_none(),
            problem,
            checking,
            _work: work,
        };
        if prepared.time_limit_derived {
            prepared.time_limit = self.derive_time_limit(&prepared)?;
        }
        Ok(prepared)
    }

    /// Compiles a validator/checker program (a source file, or a directory of sources).
    fn build_program(&self, path: &Path, work: &Path, what: &'static str) -> Result<Executable, JudgeError> {
        let lang = self.languages.detect(path).ok_or_else(|| JudgeError::Validator {
            what,
            path: path.to_owned(),
            reason: format!("no source file in a known language (known: {})", self.languages.ids().join(", ")),
        })?;
        let dir = work.join(what.replace(' ', "-"));
        fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        let out = language::compile(&self.sandbox, lang, path, &dir)?;
        match out.executable {
            Some(exe) if out.ok => Ok(exe),
            _ => Err(JudgeError::Validator { what, path: path.to_owned(), reason: format!("does not compile:\n{}", out.message) }),
        }
    }

    /// The format's rule: the slowest accepted submission's CPU time times the multiplier,
    /// rounded up (`problem::Limits::derive_time_limit`). Only the submissions expected to be
    /// accepted are run for this, with a generous limit.
    fn derive_time_limit(&self, p: &PreparedProblem) -> Result<Duration, JudgeError> {
        let probe = PreparedProblemView { time_limit: PROBE_TIME_LIMIT, ..p.view() };
        let mut slowest = Duration::ZERO;
        for s in p.problem.submissions.iter().filter(|s| s.expected == [Verdict::AC]) {
            let opts = JudgeOptions { all_tests: true, ..Default::default() };
            let r = self.run_tests_with(&probe, &self.compile(&s.path, &opts)?, &opts, &mut |_| {})?;
            for t in r.tests.iter().filter(|t| t.verdict == Verdict::AC && s.time_limit_role(&t.name).0) {
                slowest = slowest.max(Duration::from_millis(t.cpu_time_ms));
            }
        }
        Ok(p.problem.limits.derive_time_limit(slowest))
    }

    /// Judges one submission (a source file, or a directory holding one).
    pub fn judge(
        &self,
        p: &PreparedProblem,
        source: &Path,
        opts: &JudgeOptions,
        on_test: &mut dyn FnMut(&TestResult),
    ) -> Result<SubmissionResult, JudgeError> {
        let compiled = self.compile(source, opts)?;
        self.run_tests_with(&p.view(), &compiled, opts, on_test)
    }

    /// Compiles a submission once (in the sandbox, with the language's compile limits).
    pub fn compile(&self, source: &Path, opts: &JudgeOptions) -> Result<Compiled, JudgeError> {
        let lang = self.language_for(source, opts.language.as_deref())?;
        let work = self.work_dir("sub-")?;
        // A single file given with an explicit language but another extension (`a.txt` with
        // `--lang cpp`) is compiled under the language's own extension.
        let renamed;
        let source = match (&opts.language, source.extension().and_then(|e| e.to_str())) {
            (Some(_), ext) if source.is_file() && !ext.is_some_and(|e| lang.extensions.iter().any(|x| x.eq_ignore_ascii_case(e))) => {
                let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "main".into());
                let dir = work.path().join("renamed");
                fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
                renamed = dir.join(format!("{stem}.{}", lang.extensions.first().map(String::as_str).unwrap_or("src")));
                fs::copy(source, &renamed).map_err(io_err("copy the submission to", &renamed))?;
                renamed.as_path()
            }
            _ => source,
        };
        let out = language::compile(&self.sandbox, lang, source, work.path())?;
        let exe = if out.ok { out.executable } else { None };
        Ok(Compiled { language: lang.id.clone(), compile_message: out.message, exe, _work: work })
    }

    /// Runs a compiled submission on every test case of the problem (a compile failure is CE).
    pub fn run_tests(
        &self,
        p: &PreparedProblem,
        compiled: &Compiled,
        opts: &JudgeOptions,
        on_test: &mut dyn FnMut(&TestResult),
    ) -> Result<SubmissionResult, JudgeError> {
        self.run_tests_with(&p.view(), compiled, opts, on_test)
    }

    fn run_tests_with(
        &self,
        p: &PreparedProblemView,
        compiled: &Compiled,
        opts: &JudgeOptions,
        on_test: &mut dyn FnMut(&TestResult),
    ) -> Result<SubmissionResult, JudgeError> {
        let mut result = SubmissionResult {
            verdict: Verdict::AC,
            score: 0.0,
            max_cpu_time_ms: 0,
            max_memory_bytes: 0,
            compile_message: compiled.compile_message.clone(),
            language: compiled.language.clone(),
            time_limit_ms: p.time_limit.as_millis() as u64,
            tests: Vec::new(),
        };
        let Some(exe) = &compiled.exe else {
            result.verdict = Verdict::CE;
            return Ok(result);
        };
        let out_dir = self.work_dir("out-")?;
        let stop_early = !opts.all_tests && !p.problem.scoring;
        for (i, case) in p.problem.test_cases().into_iter().enumerate() {
            let t = self.run_case(p, exe, case, &out_dir.path().join(format!("{i}")), opts)?;
            on_test(&t);
            result.max_cpu_time_ms = result.max_cpu_time_ms.max(t.cpu_time_ms);
            result.max_memory_bytes = result.max_memory_bytes.max(t.memory_bytes);
            let failed = t.verdict != Verdict::AC;
            if failed && result.verdict == Verdict::AC {
                result.verdict = t.verdict;
            }
            result.tests.push(t);
            if failed && stop_early {
                break;
            }
        }
        grade(p.problem, &mut result);
        Ok(result)
    }

    /// Runs one test case: the submission, then the checking.
    fn run_case(&self, p: &PreparedProblemView, exe: &Executable, case: &TestCase, stem: &Path, opts: &JudgeOptions) -> Result<TestResult, JudgeError> {
        if p.problem.interactive {
            return self.run_interactive(p, exe, case, stem, opts);
        }
        let team_out = stem.with_extension("out");
        let mut spec = exe.run_spec(self.limits(p));
        spec.stdin = Input::File(case.input.clone());
        spec.stdout = Output::File(team_out.clone());
        spec.stderr = Output::Null;
        spec.cpus = opts.cpus.clone();
        let report = self.sandbox.run(&spec)?;
        let mut t = test_result(case, &report);
        if let Some(v) = run_verdict(&report, p.time_limit) {
            t.verdict = v;
            return Ok(t);
        }
        let checked = self.check(p, case, &team_out, stem);
        // Outputs can be large: keep disk use to one test's worth.
        let _ = fs::remove_file(&team_out);
        let (verdict, message, score) = checked?;
        t.verdict = verdict;
        t.message = message;
        t.score = score;
        Ok(t)
    }

    fn limits(&self, p: &PreparedProblemView) -> runner::Limits {
        let l = &p.problem.limits;
        runner::Limits {
            cpu_time: p.time_limit,
            wall_time: p.time_limit * 2 + Duration::from_secs(1),
            memory_bytes: l.memory_bytes,
            pids: runner::spec::DEFAULT_PIDS,
            output_bytes: l.output_bytes,
        }
    }

    fn validator_limits(&self, p: &PreparedProblemView) -> runner::Limits {
        let l = &p.problem.limits;
        runner::Limits {
            cpu_time: l.validation_time,
            wall_time: l.validation_time * 2 + Duration::from_secs(1),
            memory_bytes: l.validation_memory_bytes,
            pids: runner::spec::DEFAULT_PIDS,
            output_bytes: l.validation_output_bytes,
        }
    }

    /// Checks the team's output of a finished run.
    fn check(&self, p: &PreparedProblemView, case: &TestCase, team_out: &Path, stem: &Path) -> Result<(Verdict, String, Option<f64>), JudgeError> {
        match &p.checking {
            Checking::Default => {
                let flags = match DefaultFlags::parse(&case.args) {
                    Ok(f) => f,
                    Err(e) => return Ok((Verdict::JE, format!("default validator flags {:?}: {e}", case.args), None)),
                };
                let j = default_checker::compare_files(&case.answer, team_out, &flags).map_err(io_err("compare", team_out))?;
                Ok((if j.accepted { Verdict::AC } else { Verdict::WA }, j.message, None))
            }
            Checking::Validator(v) => {
                let feedback = self.feedback_dir(stem)?;
                let mut spec = v.run_spec(self.validator_limits(p));
                mount_case(&mut spec, case, &feedback);
                spec.args.extend(validator_args(case));
                spec.stdin = Input::File(team_out.to_owned());
                let report = self.sandbox.run(&spec)?;
                Ok(kattis_verdict(&report, &feedback))
            }
            Checking::Testlib(c) => {
                let mut spec = c.run_spec(self.validator_limits(p));
                mount_case(&mut spec, case, stem.parent().unwrap_or(stem));
                spec.mounts.push(BindMount { src: team_out.to_owned(), dest: format!("{JUDGE_DIR}/output").into(), writable: false });
                spec.args.extend([format!("{JUDGE_DIR}/input"), format!("{JUDGE_DIR}/output"), format!("{JUDGE_DIR}/answer")]);
                spec.args.extend(case.args.iter().cloned());
                let msg_file = stem.with_extension("checker");
                spec.stdout = Output::File(msg_file.clone());
                spec.stderr = Output::File(msg_file.clone());
                let report = self.sandbox.run(&spec)?;
                Ok(testlib_verdict(&report, &read_bounded(&msg_file), p.problem.scoring))
            }
        }
    }

    fn feedback_dir(&self, stem: &Path) -> Result<PathBuf, JudgeError> {
        let feedback = stem.with_extension("feedback");
        fs::create_dir_all(&feedback).map_err(io_err("create", &feedback))?;
        // The validator runs as a box user and writes its messages here.
        set_mode(&feedback, 0o777)?;
        Ok(feedback)
    }

    /// An interactive test: the submission and the validator run at the same time, each in
    /// its own box, the submission's stdout feeding the validator's stdin and back. Time is
    /// the submission's alone. Verdict (the format's rules): the submission's TLE first; a
    /// validator that said "wrong answer" before the submission failed gives WA; a submission
    /// that crashed, ran out of memory or wrote too much gives that; else the validator's word
    /// (42 accepted, 43 wrong answer, anything else a judge error).
    fn run_interactive(&self, p: &PreparedProblemView, exe: &Executable, case: &TestCase, stem: &Path, opts: &JudgeOptions) -> Result<TestResult, JudgeError> {
        let Checking::Validator(v) = &p.checking else {
            return Err(JudgeError::Validator {
                what: "interactive problem",
                path: p.problem.dir.clone(),
                reason: "needs a custom output validator (the interactor)".into(),
            });
        };
        let (to_validator_r, to_validator_w) = pipe()?;
        let (to_sub_r, to_sub_w) = pipe()?;
        let mut sub = exe.run_spec(self.limits(p));
        sub.stdin = Input::Handed(HandedFd::new(to_sub_r));
        sub.stdout = Output::Handed(HandedFd::new(to_validator_w));
        sub.stderr = Output::Null;
        sub.cpus = opts.cpus.clone();
        let feedback = self.feedback_dir(stem)?;
        let mut val = v.run_spec(self.validator_limits(p));
        // The validator waits on the submission: it may take as long as the submission can.
        val.limits.wall_time = val.limits.wall_time.max(sub.limits.wall_time + Duration::from_secs(1));
        mount_case(&mut val, case, &feedback);
        val.args.extend(validator_args(case));
        val.stdin = Input::Handed(HandedFd::new(to_validator_r));
        val.stdout = Output::Handed(HandedFd::new(to_sub_w));
        let sandbox = &self.sandbox;
        let (sub_res, val_res) = std::thread::scope(|s| {
            let vh = s.spawn(|| sandbox.run(&val));
            let sr = sandbox.run(&sub);
            (sr, vh.join().expect("validator thread"))
        });
        let (sub_report, val_report) = (sub_res?, val_res?);
        let (sub_end, val_end) = (sub_report.ended_monotonic_ns, val_report.ended_monotonic_ns);
        let mut t = test_result(case, &sub_report);
        let (val_verdict, message, score) = kattis_verdict(&val_report, &feedback);
        let sub_verdict = run_verdict(&sub_report, p.time_limit);
        t.message = message;
        t.score = score;
        // A submission killed by SIGPIPE wrote to a validator that had already stopped reading:
        // the validator finished first, whatever the clocks say.
        let validator_first = val_end <= sub_end || sub_report.signal == Some(libc::SIGPIPE);
        t.verdict = match sub_verdict {
            Some(Verdict::TLE) => Verdict::TLE,
            Some(_) if val_verdict == Verdict::WA && validator_first => Verdict::WA,
            Some(v) => v,
            None => val_verdict,
        };
        if t.verdict == Verdict::AC && sub_report.status != Status::Ok {
            t.verdict = Verdict::RTE;
        }
        Ok(t)
    }
}

/// A submission compiled once, run on every test.
#[derive(Debug)]
pub struct Compiled {
    pub language: String,
    /// The compiler's output (bounded).
    pub compile_message: String,
    /// `None`: compilation failed.
    exe: Option<Executable>,
    /// Holds the compiled files until dropped.
    _work: tempfile::TempDir,
}

impl Compiled {
    pub fn ok(&self) -> bool {
        self.exe.is_some()
    }
}

/// The parts of a prepared problem that judging reads (so the time limit can be overridden
/// while deriving it).
struct PreparedProblemView<'a> {
    problem: &'a Problem,
    checking: &'a Checking,
    time_limit: Duration,
}

impl PreparedProblem {
    fn view(&self) -> PreparedProblemView<'_> {
        PreparedProblemView { problem: &self.problem, checking: &self.checking, time_limit: self.time_limit }
    }
}

fn pipe() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), JudgeError> {
    let (r, w) = std::io::pipe().map_err(|source| JudgeError::Io { op: "create a pipe", path: PathBuf::new(), source })?;
    Ok((r.into(), w.into()))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), JudgeError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", path))
}

/// The test's input and answer read-only, and the feedback directory writable, under /judge.
fn mount_case(spec: &mut runner::RunSpec, case: &TestCase, feedback: &Path) {
    spec.mounts.push(BindMount { src: case.input.clone(), dest: format!("{JUDGE_DIR}/input").into(), writable: false });
    spec.mounts.push(BindMount { src: case.answer.clone(), dest: format!("{JUDGE_DIR}/answer").into(), writable: false });
    spec.mounts.push(BindMount { src: feedback.to_owned(), dest: format!("{JUDGE_DIR}/feedback").into(), writable: true });
}

/// `input answer feedback_dir [args]` of a Kattis output validator.
fn validator_args(case: &TestCase) -> Vec<String> {
    let mut a = vec![format!("{JUDGE_DIR}/input"), format!("{JUDGE_DIR}/answer"), format!("{JUDGE_DIR}/feedback/")];
    a.extend(case.args.iter().cloned());
    a
}

fn test_result(case: &TestCase, r: &Report) -> TestResult {
    TestResult {
        name: case.name.clone(),
        verdict: Verdict::AC,
        cpu_time_ms: r.cpu_time_ms,
        wall_time_ms: r.wall_time_ms,
        memory_bytes: r.memory_bytes,
        message: String::new(),
        score: None,
    }
}

/// The verdict a run earns by itself, before its output is looked at (`None`: it ended well).
fn run_verdict(r: &Report, time_limit: Duration) -> Option<Verdict> {
    match r.status {
        Status::Ok if r.cpu_time_us > time_limit.as_micros() as u64 => Some(Verdict::TLE),
        Status::Ok => None,
        Status::TimeLimit | Status::WallTimeLimit => Some(Verdict::TLE),
        Status::MemoryLimit => Some(Verdict::MLE),
        Status::OutputLimit => Some(Verdict::OLE),
        Status::NonzeroExit | Status::Signaled => Some(Verdict::RTE),
        Status::SandboxError => Some(Verdict::JE),
    }
}

fn read_bounded(path: &Path) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    if let Ok(f) = fs::File::open(path) {
        let _ = f.take(MESSAGE_BYTES as u64).read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).trim().to_owned()
}

/// A Kattis validator's run: exit 42 accepted, 43 wrong answer, anything else (a crash, a
/// limit, another code) a judge error. judgemessage.txt and score.txt are read from the
/// feedback directory.
fn kattis_verdict(r: &Report, feedback: &Path) -> (Verdict, String, Option<f64>) {
    let message = read_bounded(&feedback.join("judgemessage.txt"));
    let score = read_bounded(&feedback.join("score.txt")).parse::<f64>().ok();
    match (r.status, r.exit_code) {
        (Status::NonzeroExit, Some(42)) => (Verdict::AC, message, score),
        (Status::NonzeroExit, Some(43)) => (Verdict::WA, message, score),
        _ => (Verdict::JE, format!("output validator: {} ({}){}", r.status.as_str(), r.message, if message.is_empty() { String::new() } else { format!(": {message}") }), None),
    }
}

/// A testlib checker's run: exit 0 OK, 1 WA, 2 PE (reported as WA), 3 FAIL (judge error),
/// 7 points ("points X" printed, X in [0, 1]): on a scoring problem accepted with that score,
/// on a pass-fail problem accepted only with full points.
fn testlib_verdict(r: &Report, message: &str, scoring: bool) -> (Verdict, String, Option<f64>) {
    let code = match r.status {
        Status::Ok => Some(0),
        Status::NonzeroExit => r.exit_code,
        _ => None,
    };
    match code {
        Some(0) => (Verdict::AC, message.to_owned(), None),
        Some(1) => (Verdict::WA, message.to_owned(), None),
        Some(2) => (Verdict::WA, format!("presentation error: {message}"), None),
        Some(7) => {
            let points = message
                .split_whitespace()
                .skip_while(|w| *w != "points")
                .nth(1)
                .and_then(|p| p.parse::<f64>().ok());
            match points {
                Some(p) if scoring => (Verdict::AC, message.to_owned(), Some(p)),
                Some(p) if p >= 1.0 => (Verdict::AC, message.to_owned(), None),
                Some(p) => (Verdict::WA, format!("partial points {p} on a pass-fail problem: {message}"), None),
                None => (Verdict::JE, format!("checker exited 7 (points) without printing \"points X\": {message}"), None),
            }
        }
        Some(3) => (Verdict::JE, format!("checker failed: {message}"), None),
        _ => (Verdict::JE, format!("checker: {} ({}): {message}", r.status.as_str(), r.message), None),
    }
}

/// Verdict and score: pass-fail problems keep the first failing test's verdict and score 1 or
/// 0; scoring problems are graded by the format's rules (`Problem::grade`).
fn grade(problem: &Problem, result: &mut SubmissionResult) {
    if !problem.scoring {
        result.score = if result.verdict == Verdict::AC { 1.0 } else { 0.0 };
        return;
    }
    let by_name: std::collections::HashMap<&str, &TestResult> = result.tests.iter().map(|t| (t.name.as_str(), t)).collect();
    let g = problem.grade(|case| {
        by_name.get(case.name.as_str()).map(|t| match t.score {
            Some(s) => CaseOutcome::with_score(t.verdict, s),
            None => CaseOutcome::new(t.verdict),
        })
    });
    result.score = g.score;
    result.verdict = g.verdict;
}

//! What `submit`, `verify` and `batch` share: building the judge, printing results.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use judge_api::judge::{Judge, PreparedProblem};
use judge_api::language::LanguageTable;
use judge_api::verdict::{SubmissionResult, TestResult};

/// Where submissions are compiled and their outputs kept while judging.
pub const WORK_ROOT: &str = "/var/tmp/judge-work";

/// Options every judging command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct JudgeArgs {
    /// Extra language table (TOML) merged over the built-in one.
    #[arg(long, value_name = "FILE")]
    pub languages: Option<PathBuf>,
    /// cgroup v2: a delegated cgroup to put the boxes under (default: $JUDGE_CGROUP, else the
    /// judge's own cgroup when it is delegated, else <cgroup2 root>/judge).
    #[arg(long, value_name = "PATH")]
    pub cgroup: Option<PathBuf>,
}

pub fn make_judge(args: &JudgeArgs, runs_hint: Option<usize>) -> Result<Judge> {
    let config = runner::SandboxConfig { runs_hint, cgroup: args.cgroup.clone(), ..Default::default() };
    let sandbox = runner::Sandbox::new(config).context("start the sandbox")?;
    let mut languages = LanguageTable::builtin();
    if let Some(f) = &args.languages {
        languages = languages.with_file(f).with_context(|| format!("language table {}", f.display()))?;
    }
    Ok(Judge::new(Arc::new(sandbox), languages, PathBuf::from(WORK_ROOT)))
}

pub fn load_problem(judge: &Judge, dir: &Path) -> Result<PreparedProblem> {
    let problem = judge_api::problem::load(dir).with_context(|| format!("problem package {}", dir.display()))?;
    judge.prepare(problem).with_context(|| format!("prepare {}", dir.display()))
}

pub fn print_test(t: &TestResult) {
    let msg: String = t.message.lines().next().unwrap_or("").chars().take(60).collect();
    println!(
        "  {:<28} {:<4} {:>7} ms {:>9} KiB  {}",
        t.name,
        t.verdict.as_str(),
        t.cpu_time_ms,
        t.memory_bytes / 1024,
        msg
    );
}

pub fn print_summary(r: &SubmissionResult) {
    println!(
        "{} score {} (max time {} ms of {} ms, max memory {} KiB, {})",
        r.verdict,
        r.score,
        r.max_cpu_time_ms,
        r.time_limit_ms,
        r.max_memory_bytes / 1024,
        r.language
    );
    if !r.compile_message.trim().is_empty() {
        println!("compiler said:\n{}", r.compile_message.trim_end());
    }
}

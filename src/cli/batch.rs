//! `judge batch PROBLEM_DIR SUBMISSIONS_DIR`: grade a whole class, one box per core, each job
//! pinned to its own core so timings stay fair; a CSV and a JSON report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use judge_api::judge::JudgeOptions;
use judge_api::verdict::Verdict;
use serde::Serialize;

use super::judging::{load_problem, make_judge, JudgeArgs};

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The problem package.
    problem: PathBuf,
    /// One submission per file, or per student folder.
    submissions: PathBuf,
    /// Parallel jobs (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Report base name: writes FILE.csv and FILE.json (default: SUBMISSIONS_DIR/../report).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    judge: JudgeArgs,
}

#[derive(Serialize, Clone)]
struct Row {
    student: String,
    verdict: Verdict,
    score: f64,
    max_cpu_time_ms: u64,
    max_memory_bytes: u64,
    language: String,
    message: String,
}

fn students(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let student = Path::new(&name).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or(name);
        out.push((student, e.path()));
    }
    out.sort();
    Ok(out)
}

pub fn main(args: BatchArgs) -> Result<ExitCode> {
    let list = students(&args.submissions)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let jobs = args.jobs.unwrap_or(cores).max(1);
    let judge = make_judge(&args.judge, None)?;
    let problem = load_problem(&judge, &args.problem)?;
    let bar = ProgressBar::new(list.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {msg}").expect("static template"));
    let next = Mutex::new(0usize);
    let rows: Mutex<Vec<Row>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for job in 0..jobs {
            let (judge, problem, list, next, rows, bar) = (&judge, &problem, &list, &next, &rows, &bar);
            s.spawn(move || {
                // Each job owns one core: its runs are pinned there, and its thread runs there
                // too, beside its boxes (a failure only costs speed).
                let cpus = vec![(job % cores) as u32];
                let _ = judge_api::judge::pin_current_thread(&cpus);
                let opts = JudgeOptions { cpus: Some(cpus), ..Default::default() };
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some((student, path)) = list.get(i) else { return };
                    let row = match judge.judge(problem, path, &opts, &mut |_| {}) {
                        Ok(r) => Row {
                            student: student.clone(),
                            verdict: r.verdict,
                            score: r.score,
                            max_cpu_time_ms: r.max_cpu_time_ms,
                            max_memory_bytes: r.max_memory_bytes,
                            language: r.language,
                            message: if r.verdict == Verdict::CE {
                                r.compile_message.chars().take(2000).collect()
                            } else {
                                r.tests.iter().find(|t| t.verdict != Verdict::AC).map(|t| format!("{}: {}", t.name, t.message)).unwrap_or_default()
                            },
                        },
                        // A submission that breaks anything never stops the batch.
                        Err(e) => Row {
                            student: student.clone(),
                            verdict: Verdict::JE,
                            score: 0.0,
                            max_cpu_time_ms: 0,
                            max_memory_bytes: 0,
                            language: String::new(),
                            message: format!("{e:#}"),
                        },
                    };
                    bar.set_message(format!("{} {}", row.student, row.verdict));
                    bar.inc(1);
                    rows.lock().unwrap_or_else(|p| p.into_inner()).push(row);
                }
            });
        }
    });
    bar.finish();
    let mut rows = rows.into_inner().unwrap_or_else(|p| p.into_inner());
    rows.sort_by(|a, b| a.student.cmp(&b.student));
    let base = args.out.clone().unwrap_or_else(|| args.submissions.parent().unwrap_or(Path::new(".")).join("report"));
    let csv_path = base.with_extension("csv");
    let json_path = base.with_extension("json");
    let mut w = csv::Writer::from_path(&csv_path).with_context(|| format!("write {}", csv_path.display()))?;
    for r in &rows {
        w.serialize(r)?;
    }
    w.flush()?;
    std::fs::write(&json_path, serde_json::to_string_pretty(&rows)? + "\n").with_context(|| format!("write {}", json_path.display()))?;
    let accepted = rows.iter().filter(|r| r.verdict == Verdict::AC).count();
    println!("{} submissions, {accepted} accepted; wrote {} and {}", rows.len(), csv_path.display(), json_path.display());
    Ok(ExitCode::SUCCESS)
}

//! `judge verify PROBLEM_DIR...`: every example submission must get the verdict its folder
//! (or submissions.yaml) names, and the accepted ones pass the samples.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use judge_api::judge::JudgeOptions;
use judge_api::verdict::Verdict;
use serde::Serialize;

use super::judging::{load_problem, make_judge, JudgeArgs};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Problem packages.
    #[arg(required = true)]
    problems: Vec<PathBuf>,
    /// Print one JSON document instead of lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    judge: JudgeArgs,
}

#[derive(Serialize)]
struct Checked {
    problem: String,
    submission: String,
    expected: Vec<Verdict>,
    got: Verdict,
    score: f64,
    ok: bool,
    detail: String,
}

#[derive(Serialize)]
struct ProblemReport {
    problem: String,
    time_limit_ms: u64,
    time_limit_derived: bool,
    error: Option<String>,
    submissions: Vec<Checked>,
}

pub fn main(args: VerifyArgs) -> Result<ExitCode> {
    let judge = make_judge(&args.judge, None)?;
    let mut all_ok = true;
    let mut reports = Vec::new();
    for dir in &args.problems {
        let name = dir.display().to_string();
        let problem = match load_problem(&judge, dir) {
            Ok(p) => p,
            Err(e) => {
                all_ok = false;
                if !args.json {
                    println!("{name}: FAILED to load: {e:#}");
                }
                reports.push(ProblemReport { problem: name, time_limit_ms: 0, time_limit_derived: false, error: Some(format!("{e:#}")), submissions: vec![] });
                continue;
            }
        };
        if !args.json {
            let how = if problem.time_limit_derived { " (derived from the accepted submissions)" } else { "" };
            println!("{name}: time limit {} ms{how}", problem.time_limit.as_millis());
        }
        let mut checked = Vec::new();
        for s in &problem.problem.submissions {
            let opts = JudgeOptions { all_tests: true, ..Default::default() };
            let sub_name = s.path.strip_prefix(dir).unwrap_or(&s.path).display().to_string();
            let judged = judge.judge(&problem, &s.path, &opts, &mut |_| {});
            let result = judged.as_ref().ok().cloned();
            let (got, score, detail) = match judged {
                Ok(r) => {
                    let first_bad = r.tests.iter().find(|t| t.verdict != Verdict::AC);
                    let detail = match first_bad {
                        Some(t) => format!("{} on {}{}", t.verdict, t.name, if t.message.is_empty() { String::new() } else { format!(": {}", t.message.lines().next().unwrap_or("")) }),
                        None => format!("{} tests", r.tests.len()),
                    };
                    (r.verdict, r.score, detail)
                }
                Err(e) => (Verdict::JE, 0.0, format!("{e:#}")),
            };
            let violations = match &result {
                Some(r) => problem.problem.check_submission(s, r),
                None => vec![detail.clone()],
            };
            let ok = violations.is_empty();
            let detail = if ok { detail } else { format!("{}; {detail}", violations.join("; ")) };
            all_ok &= ok;
            if !args.json {
                let want: Vec<&str> = s.expected.iter().map(|v| v.as_str()).collect();
                println!(
                    "  {} {:<44} expected {:<8} got {:<4} score {:<5} {}",
                    if ok { "ok  " } else { "FAIL" },
                    sub_name,
                    want.join("|"),
                    got.as_str(),
                    score,
                    detail
                );
            }
            checked.push(Checked { problem: name.clone(), submission: sub_name, expected: s.expected.clone(), got, score, ok, detail });
        }
        reports.push(ProblemReport {
            problem: name,
            time_limit_ms: problem.time_limit.as_millis() as u64,
            time_limit_derived: problem.time_limit_derived,
            error: None,
            submissions: checked,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "ok": all_ok, "problems": reports }))?);
    } else {
        println!("{}", if all_ok { "verify: everything matched" } else { "verify: MISMATCHES above" });
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

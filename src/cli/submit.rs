//! `judge submit PROBLEM_DIR FILE`: judge one submission.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use judge_api::judge::JudgeOptions;

use super::judging::{load_problem, make_judge, print_summary, print_test, JudgeArgs};

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The problem package (ICPC/Kattis format, legacy or 2025-09).
    problem: PathBuf,
    /// The submission: a source file, or a directory holding one.
    file: PathBuf,
    /// Language id (c, cpp, python, rust, java, ...); by file extension otherwise.
    #[arg(long)]
    lang: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Run every test even after a failure.
    #[arg(long)]
    all_tests: bool,
    #[command(flatten)]
    judge: JudgeArgs,
}

pub fn main(args: SubmitArgs) -> Result<ExitCode> {
    let judge = make_judge(&args.judge, None)?;
    let problem = load_problem(&judge, &args.problem)?;
    if !args.json && problem.time_limit_derived {
        println!("time limit {} ms (derived from the accepted submissions)", problem.time_limit.as_millis());
    }
    let opts = JudgeOptions { language: args.lang.clone(), all_tests: args.all_tests, cpus: None };
    let json = args.json;
    let result = judge.judge(&problem, &args.file, &opts, &mut |t| {
        if !json {
            print_test(t)
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_summary(&result);
    }
    Ok(ExitCode::SUCCESS)
}

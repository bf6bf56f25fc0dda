//! `judge load`: a load generator for the service. Submits N submissions (or N `POST /v1/run`
//! calls) with bounded concurrency, waits for every verdict, and reports throughput and
//! latency percentiles; counts lost submissions (never judged within the deadline) and errors.
//! `--direct PROBLEM_DIR` judges the same source in-process with the library instead, the
//! baseline that tells what the service adds per submission.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use judge_api::judge::JudgeOptions;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::judging::{load_problem, make_judge, JudgeArgs};

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A submitter (or admin) token.
    #[arg(long, env = "JUDGE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Problem name on the service.
    #[arg(long, required_unless_present_any = ["run", "direct"])]
    problem: Option<String>,
    /// The submission's source file.
    #[arg(long, required_unless_present = "run")]
    source: Option<PathBuf>,
    /// Language id of the source.
    #[arg(long, default_value = "cpp")]
    language: String,
    /// How many submissions (or runs).
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The verdict every submission must get (others count as errors).
    #[arg(long, default_value = "AC")]
    expect: String,
    /// Give up on a submission that is not judged after this many seconds (it counts as lost).
    #[arg(long, default_value_t = 600)]
    deadline_seconds: u64,
    /// Load `POST /v1/run` instead, with this request body (e.g. '{"cmd":[{"args":["/bin/true"]}]}').
    #[arg(long, value_name = "JSON")]
    run: Option<String>,
    /// Judge in-process on this problem package instead (no service): the baseline.
    #[arg(long, value_name = "PROBLEM_DIR", conflicts_with = "run")]
    direct: Option<PathBuf>,
    /// Parallel jobs for --direct (default: one per core, pinned).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    judge: JudgeArgs,
}

#[derive(Serialize, Debug)]
struct LoadReport {
    mode: &'static str,
    count: usize,
    ok: usize,
    errors: usize,
    lost: usize,
    wall_seconds: f64,
    per_second: f64,
    latency_ms_p50: f64,
    latency_ms_p99: f64,
    latency_ms_max: f64,
    /// The first few error messages.
    error_samples: Vec<String>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

enum One {
    Ok(Duration),
    Error(String),
    Lost,
}

fn report(mode: &'static str, results: Vec<One>, wall: Duration) -> LoadReport {
    let mut lat: Vec<f64> = Vec::new();
    let (mut errors, mut lost) = (0, 0);
    let mut samples = Vec::new();
    for r in &results {
        match r {
            One::Ok(d) => lat.push(d.as_secs_f64() * 1e3),
            One::Error(e) => {
                errors += 1;
                if samples.len() < 5 {
                    samples.push(e.clone());
                }
            }
            One::Lost => lost += 1,
        }
    }
    lat.sort_by(f64::total_cmp);
    LoadReport {
        mode,
        count: results.len(),
        ok: lat.len(),
        errors,
        lost,
        wall_seconds: wall.as_secs_f64(),
        per_second: results.len() as f64 / wall.as_secs_f64().max(1e-9),
        latency_ms_p50: percentile(&lat, 0.5),
        latency_ms_p99: percentile(&lat, 0.99),
        latency_ms_max: lat.last().copied().unwrap_or(0.0),
        error_samples: samples,
    }
}

pub fn main(args: LoadArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.count > 0 && args.concurrency > 0, "--count and --concurrency must be at least 1");
    let rep = if let Some(dir) = &args.direct {
        direct(&args, dir)?
    } else {
        // One thread: the client only waits on sockets, and on a loopback benchmark every
        // thread it wakes takes CPU from the boxes it measures.
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().context("start the async runtime")?;
        rt.block_on(service(&args))?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        println!(
            "{}: {} in {:.2} s = {:.1}/s; ok {}, errors {}, lost {}; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            rep.mode, rep.count, rep.wall_seconds, rep.per_second, rep.ok, rep.errors, rep.lost, rep.latency_ms_p50, rep.latency_ms_p99, rep.latency_ms_max
        );
        for e in &rep.error_samples {
            println!("  error: {e}");
        }
    }
    Ok(if rep.errors == 0 && rep.lost == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The baseline: the same submissions judged in-process, `jobs` at a time, each pinned.
fn direct(args: &LoadArgs, dir: &std::path::Path) -> Result<LoadReport> {
    let source = args.source.as_ref().context("--source is needed")?;
    let judge = make_judge(&args.judge, None)?;
    let problem = load_problem(&judge, dir)?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for j in 0..jobs {
            let (judge, problem, next, results) = (&judge, &problem, &next, &results);
            handles.push(s.spawn(move || -> Result<()> {
                let cpus = vec![j as u32 % jobs as u32];
                // As a service worker does: the job's thread runs where its boxes do.
                judge_api::judge::pin_current_thread(&cpus).with_context(|| format!("pin job {j} to CPUs {cpus:?}"))?;
                let opts = JudgeOptions { language: Some(args.language.clone()), all_tests: false, cpus: Some(cpus) };
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < args.count {
                    let t = Instant::now();
                    let one = match judge.judge(problem, source, &opts, &mut |_| {}) {
                        Ok(r) if r.verdict.as_str() == args.expect => One::Ok(t.elapsed()),
                        Ok(r) => One::Error(format!("verdict {}", r.verdict)),
                        Err(e) => One::Error(e.to_string()),
                    };
                    results.lock().unwrap_or_else(|e| e.into_inner()).push(one);
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("a judging job panicked"))??;
        }
        Ok(())
    })?;
    Ok(report("direct", results.into_inner().unwrap_or_else(|e| e.into_inner()), start.elapsed()))
}

async fn service(args: &LoadArgs) -> Result<LoadReport> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().context("HTTP client")?;
    let base = args.url.trim_end_matches('/').to_owned();
    let auth = args.token.as_ref().map(|t| format!("Bearer {t}"));
    let sem = Arc::new(Semaphore::new(args.concurrency));
    let deadline = Duration::from_secs(args.deadline_seconds);
    let (mode, body) = match &args.run {
        Some(run) => ("run", serde_json::from_str::<Value>(run).context("--run is not valid JSON")?),
        None => {
            let path = args.source.as_ref().context("--source is needed")?;
            let source = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
            ("service", json!({"problem": args.problem, "language": args.language, "source": source}))
        }
    };
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(args.count);
    for _ in 0..args.count {
        let permit = sem.clone().acquire_owned().await.context("semaphore")?;
        let (client, base, auth, body, expect) = (client.clone(), base.clone(), auth.clone(), body.clone(), args.expect.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let t = Instant::now();
            let r = if mode == "run" {
                one_run(&client, &base, auth.as_deref(), &body).await
            } else {
                one_submission(&client, &base, auth.as_deref(), &body, &expect, deadline).await
            };
            match r {
                Ok(true) => One::Ok(t.elapsed()),
                Ok(false) => One::Lost,
                Err(e) => One::Error(format!("{e:#}")),
            }
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.unwrap_or_else(|e| One::Error(format!("task: {e}"))));
    }
    Ok(report(mode, results, start.elapsed()))
}

fn authed(rb: reqwest::RequestBuilder, auth: Option<&str>) -> reqwest::RequestBuilder {
    match auth {
        Some(a) => rb.header(reqwest::header::AUTHORIZATION, a),
        None => rb,
    }
}

async fn json_of(resp: reqwest::Response, what: &str) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await.with_context(|| format!("{what}: read the response"))?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: response is not JSON: {text}"))
}

async fn one_run(client: &reqwest::Client, base: &str, auth: Option<&str>, body: &Value) -> Result<bool> {
    let resp = authed(client.post(format!("{base}/v1/run")).json(body), auth).send().await.context("POST /v1/run")?;
    json_of(resp, "POST /v1/run").await?;
    Ok(true)
}

/// Submits and waits; Ok(false) when the deadline passed without a verdict (lost).
async fn one_submission(client: &reqwest::Client, base: &str, auth: Option<&str>, body: &Value, expect: &str, deadline: Duration) -> Result<bool> {
    let resp = authed(client.post(format!("{base}/v1/submissions")).json(body), auth).send().await.context("POST /v1/submissions")?;
    let id = json_of(resp, "POST /v1/submissions").await?["id"].as_i64().context("POST /v1/submissions: no id in the response")?;
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        let wait = (until - Instant::now()).as_secs().clamp(1, 30);
        let resp = authed(client.get(format!("{base}/v1/submissions/{id}?wait={wait}")), auth).send().await.with_context(|| format!("GET submission {id}"))?;
        let s = json_of(resp, "GET /v1/submissions/{id}").await?;
        if s["status"] == "done" {
            let verdict = s["verdict"].as_str().unwrap_or("?");
            if verdict != expect {
                bail!("submission {id}: verdict {verdict}, expected {expect}: {}", s["error"]);
            }
            return Ok(true);
        }
    }
    Ok(false)
}

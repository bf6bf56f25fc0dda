//! `judge serve`, `judge worker`, `judge token add`: the judging service, its workers on other
//! machines, and its bearer tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use judge_api::service::model::Role;
use judge_api::service::store::Store;
use judge_api::service::worker::{self, WorkerConfig};
use judge_api::service::{self, ServiceConfig};

use super::judging::{make_judge, JudgeArgs};

/// Where `--data` defaults to: the SQLite database, scratch space and the package cache.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/judge";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: the embedded SQLite database (unless --database), scratch space, package cache.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// PostgreSQL URL (postgres://...) shared with `judge worker` on other machines; the
    /// embedded SQLite database under --data when absent.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Local workers (default: one per core, each pinned to its core; 0 for none).
    #[arg(long)]
    workers: Option<usize>,
    /// The URL workers on other machines reach this service at (to fetch problem packages);
    /// http://LISTEN by default.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seconds a worker's claim on a submission lives without a heartbeat.
    #[arg(long, default_value_t = 20.0)]
    lease_seconds: f64,
    /// Largest accepted submission source.
    #[arg(long, default_value = "256K", value_parser = super::parse_size)]
    max_source: u64,
    /// Largest accepted problem package upload.
    #[arg(long, default_value = "256M", value_parser = super::parse_size)]
    max_package: u64,
    #[command(flatten)]
    running: RunningArgs,
    #[command(flatten)]
    judge: JudgeArgs,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The service's PostgreSQL database (the same URL `judge serve --database` was given).
    #[arg(long, value_name = "URL")]
    database: String,
    /// Workers in this process (default: one per core, each pinned to its core).
    #[arg(long)]
    workers: Option<usize>,
    /// Where problem packages are cached, by content hash.
    #[arg(long, default_value = "/var/cache/judge")]
    cache: PathBuf,
    /// Seconds a claim lives without a heartbeat (use the service's value).
    #[arg(long, default_value_t = 20.0)]
    lease_seconds: f64,
    #[command(flatten)]
    running: RunningArgs,
    #[command(flatten)]
    judge: JudgeArgs,
}

/// How `judge serve` and `judge worker` run their workers and their I/O.
#[derive(Args, Debug)]
struct RunningArgs {
    /// Milliseconds a test's result may wait before it is written for readers of a
    /// submission's progress (GET, the events stream): progress is written in batches, at
    /// most this often per submission; 0 writes each result at once.
    #[arg(long, value_name = "MS", default_value_t = worker::PROGRESS_EVERY.as_millis() as u64, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    progress_ms: u64,
    /// Threads for HTTP, database and network I/O (default: one per 4 cores, at least one).
    /// Judging runs on threads of its own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    io_threads: Option<u16>,
}

impl RunningArgs {
    fn progress_every(&self) -> Duration {
        Duration::from_millis(self.progress_ms)
    }
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a bearer token and print it (once: only its hash is stored).
    Add {
        /// admin (problems, rejudge, everything) or submitter (submit, read, run).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The service's data directory (its SQLite database).
        #[arg(long, default_value = DEFAULT_DATA_DIR, conflicts_with = "database")]
        data: PathBuf,
        /// The service's PostgreSQL database instead.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// A note stored with the token (who it is for).
        #[arg(long, default_value = "")]
        note: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("invalid role {s:?}: use admin or submitter"))
}

fn lease(seconds: f64) -> Result<Duration> {
    anyhow::ensure!(seconds.is_finite() && (1.0..=3600.0).contains(&seconds), "invalid --lease-seconds {seconds}: must be between 1 and 3600");
    Ok(Duration::from_secs_f64(seconds))
}

/// Logs of the service and workers on stderr; `RUST_LOG` filters them (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}

/// The async runtime: HTTP, database round trips, timers. It does little work, and judging
/// runs on threads of its own (one per worker), so by default it has one thread per 4
/// cores: on a machine whose cores the boxes keep busy, each more thread is one more to wake
/// and preempt a box with (on 2 cores, one thread instead of two cut what the service adds
/// per submission under load from ~6.3 to ~3.7 ms, BENCHMARKS.md).
fn runtime(io_threads: Option<u16>) -> Result<tokio::runtime::Runtime> {
    let threads = io_threads.map(usize::from).unwrap_or_else(|| (cores() / 4).max(1));
    tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().context("start the async runtime")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        // Without signal handlers the service still runs; it is stopped by SIGKILL.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    init_logging();
    let judge = Arc::new(make_judge(&args.judge, None)?);
    let mut config = ServiceConfig::new(args.listen, args.data.clone());
    config.database_url = args.database.clone();
    config.workers = args.workers.unwrap_or_else(cores);
    config.public_url = args.public_url.clone();
    config.lease = lease(args.lease_seconds)?;
    config.progress_every = args.running.progress_every();
    config.max_source_bytes = args.max_source as usize;
    config.max_package_bytes = args.max_package as usize;
    eprintln!(
        "judge serve: listening on http://{} ({} database, {} local workers)",
        config.listen,
        if config.database_url.is_some() { "PostgreSQL" } else { "SQLite" },
        config.workers
    );
    runtime(args.running.io_threads)?.block_on(service::serve(config, judge, shutdown_signal())).context("judge serve")?;
    Ok(ExitCode::SUCCESS)
}

pub fn worker(args: WorkerArgs) -> Result<ExitCode> {
    init_logging();
    let judge = Arc::new(make_judge(&args.judge, None)?);
    let config = WorkerConfig {
        count: args.workers.unwrap_or_else(cores),
        pin_cpus: true,
        lease: lease(args.lease_seconds)?,
        cache_dir: args.cache.clone(),
        fetch_over_http: true,
        progress_every: args.running.progress_every(),
    };
    anyhow::ensure!(config.count > 0, "--workers must be at least 1");
    runtime(args.running.io_threads)?.block_on(async {
        let store = Store::open(&args.database).await.context("open the database")?;
        eprintln!("judge worker: {} workers on {}", config.count, redact(&args.database));
        worker::run_workers(store, judge, config, shutdown_signal()).await.context("judge worker")
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn token(args: TokenArgs) -> Result<ExitCode> {
    let TokenCommand::Add { role, data, database, note } = args.command;
    let url = database.unwrap_or_else(|| Store::sqlite_url(&data));
    let token = runtime(Some(1))?.block_on(async {
        let store = Store::open(&url).await.with_context(|| format!("open the database {}", redact(&url)))?;
        store.add_token(role, &note).await.context("store the token")
    })?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_the_password() {
        assert_eq!(super::redact("postgres://judge:secret@db:5432/j"), "postgres://judge:***@db:5432/j");
        assert_eq!(super::redact("sqlite:///var/lib/judge/judge.db"), "sqlite:///var/lib/judge/judge.db");
    }
}

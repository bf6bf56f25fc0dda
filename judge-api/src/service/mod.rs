//! The judging service: `judge serve` (HTTP API + local workers) and `judge worker` (workers on
//! other machines sharing a PostgreSQL database).
//!
//! - `model`: the data shared by the parts; `store`: the durable store and queue (sqlx over
//!   SQLite or PostgreSQL); `package`: problem package uploads; `worker`: claiming and judging;
//!   `run`: `POST /v1/run`; `api`: the axum routes, auth, OpenAPI, SSE, metrics, callbacks.

pub mod api;
pub mod model;
pub mod package;
pub mod run;
pub mod store;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::judge::Judge;

/// Settings keys the service writes for workers on other machines.
pub mod settings {
    /// Base URL of the service, e.g. `http://10.0.0.5:8080`: workers fetch
    /// `{base}/v1/packages/{version}`.
    pub const SERVICE_URL: &str = "service_url";
    /// The bearer secret workers present to fetch packages (created at the first start).
    pub const WORKER_SECRET: &str = "worker_secret";
}

/// How `judge serve` runs.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    /// `--data`: the SQLite database (when no `database_url`), scratch space, package cache.
    pub data_dir: PathBuf,
    /// `postgres://...`; `None` for the embedded SQLite database under `data_dir`.
    pub database_url: Option<String>,
    /// Local workers (0: only the API; workers elsewhere).
    pub workers: usize,
    /// The URL workers on other machines reach this service at (stored in the database);
    /// `http://{listen}` when `None`.
    pub public_url: Option<String>,
    /// Largest accepted source, in bytes.
    pub max_source_bytes: usize,
    /// Largest accepted package upload, in bytes.
    pub max_package_bytes: usize,
    /// How long a worker's claim lives without a heartbeat.
    pub lease: Duration,
}

impl ServiceConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        ServiceConfig {
            listen,
            data_dir,
            database_url: None,
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            public_url: None,
            max_source_bytes: 256 << 10,
            max_package_bytes: 256 << 20,
            lease: Duration::from_secs(20),
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| store::Store::sqlite_url(&self.data_dir))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    #[error("worker: {0}")]
    Worker(String),
}

/// Runs the service until `shutdown` resolves: opens the store, records the service URL and
/// worker secret, starts `config.workers` local workers, the callback sender and the HTTP
/// server. `judge` is shared by the local workers and `POST /v1/run` (its sandbox).
pub async fn serve(config: ServiceConfig, judge: Arc<Judge>, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ServiceError> {
    todo!("{config:?} {} {}", judge.languages().ids().len(), std::mem::size_of_val(&shutdown))
}

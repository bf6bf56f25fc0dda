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
    /// Local workers write each submission's progress at most this often.
    pub progress_every: Duration,
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
            progress_every: worker::PROGRESS_EVERY,
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
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServiceError::Io { op: "create the data directory", path: config.data_dir.clone(), source })?;
    let store = store::Store::open(&config.database_url()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|source| ServiceError::Listen { addr: config.listen, source })?;
    let local = listener.local_addr().map_err(|source| ServiceError::Listen { addr: config.listen, source })?;
    let service_url = config.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    // The secret first: whoever finds the URL finds the secret too.
    if store.setting(settings::WORKER_SECRET).await?.is_none() {
        store.set_setting(settings::WORKER_SECRET, &random_secret()).await?;
    }
    store.set_setting(settings::SERVICE_URL, service_url.trim_end_matches('/')).await?;

    // One shutdown signal for the server, the workers and the callback sender.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let on_signal = stop_tx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = on_signal.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let mut workers = if config.workers > 0 {
        let worker_config = worker::WorkerConfig {
            count: config.workers,
            pin_cpus: true,
            lease: config.lease,
            cache_dir: config.data_dir.join("cache"),
            fetch_over_http: false,
            progress_every: config.progress_every,
        };
        Some(tokio::spawn(worker::run_workers(store.clone(), judge.clone(), worker_config, stopped())))
    } else {
        None
    };
    let callbacks = tokio::spawn(api::callbacks::run_callbacks(store.clone(), stopped()));

    tracing::info!(listen = %local, %service_url, workers = config.workers, "serving");
    let config = Arc::new(config);
    let app = api::router(api::AppState { store, judge, config });
    let server = std::future::IntoFuture::into_future(axum::serve(listener, app).with_graceful_shutdown(stopped()));
    tokio::pin!(server);
    // Open SSE streams and long polls would hold a graceful shutdown indefinitely.
    let grace = async {
        stopped().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await
    };
    tokio::pin!(grace);
    let mut workers_result: Option<Result<(), ServiceError>> = None;
    let mut result = loop {
        tokio::select! {
            r = &mut server => break r.map_err(|source| ServiceError::Listen { addr: local, source }),
            _ = &mut grace => {
                tracing::warn!("connections still open {} s after shutdown: closed", SHUTDOWN_GRACE.as_secs());
                break Ok(());
            }
            r = wait_workers(workers.as_mut()), if workers_result.is_none() => {
                let before_shutdown = !*stop_tx.borrow();
                let failed = r.is_err();
                workers_result = Some(r);
                // Workers run until shutdown: ending before it is an error.
                if failed || before_shutdown {
                    break Err(ServiceError::Worker("the workers stopped before shutdown".to_string()));
                }
            }
        }
    };
    // Whatever ended first, stop the rest and wait for them.
    let _ = stop_tx.send(true);
    let workers_result = match workers_result {
        Some(r) => r,
        None if workers.is_some() => wait_workers(workers.as_mut()).await,
        None => Ok(()),
    };
    if let Err(e) = workers_result {
        tracing::error!("{e}");
        // The workers' own error says more than "stopped before shutdown".
        result = Err(e);
    }
    let _ = callbacks.await;
    result
}

/// How long open connections may last after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Waits for the workers (forever when there are none).
async fn wait_workers(workers: Option<&mut tokio::task::JoinHandle<Result<(), worker::WorkerError>>>) -> Result<(), ServiceError> {
    let Some(handle) = workers else {
        return std::future::pending().await;
    };
    match handle.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ServiceError::Worker(e.to_string())),
        Err(e) => Err(ServiceError::Worker(format!("workers stopped: {e}"))),
    }
}

/// 32 random bytes, hex.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

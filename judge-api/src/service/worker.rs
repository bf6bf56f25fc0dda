//! Workers: claim a submission, keep its lease alive, fetch and cache its problem package,
//! compile and judge it (blocking judge code on the blocking pool), store each test's result
//! and the final one under the lease. A worker whose lease was lost stops writing: its late
//! result is rejected by the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::store::Store;
use crate::judge::Judge;

/// How a group of workers runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Workers in this process; worker `i` pins its boxes to CPU `i % cores` when `pin_cpus`.
    pub count: usize,
    pub pin_cpus: bool,
    /// Lease length; heartbeats every third of it.
    pub lease: Duration,
    /// Where packages are cached unpacked, by version.
    pub cache_dir: PathBuf,
    /// Fetch packages from the service over HTTP (the URL and secret come from the database's
    /// settings) rather than reading them from the database directly.
    pub fetch_over_http: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error("fetch package {version} from {url}: {reason}")]
    Fetch { version: String, url: String, reason: String },
}

/// Runs `config.count` workers until `shutdown` resolves; a submission being judged at that
/// moment is abandoned (its lease expires and another worker judges it again).
pub async fn run_workers(
    store: Store,
    judge: Arc<Judge>,
    config: WorkerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    todo!("{} {config:?} {}", judge.languages().ids().len(), std::mem::size_of_val(&shutdown) + std::mem::size_of_val(&store))
}

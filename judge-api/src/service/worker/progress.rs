//! A judging's progress on its way to the store: `running` with the compile message, then
//! each test's result, written under the lease in batches, at most one write per `every`.
//!
//! Why batches: each write is a database round trip, and on SQLite it may wait for the write
//! lock behind a new submission's synced insert; written one by one from the judging thread,
//! the four writes of a small submission (compiled, three tests) cost ~1 ms of its worker's
//! time, as much as everything else the service adds (BENCHMARKS.md). Here the judging thread
//! only hands results over and never waits for the database: a task of the async runtime
//! writes what has gathered once `every` has passed since the claim or the last write, so
//! no result waits longer than `every` (plus the write itself), even while the next test
//! runs for seconds. A submission judged within `every` of its claim writes no progress at
//! all: its final write holds every test. `every` zero writes each result as soon as it comes
//! (still off the judging thread).
//!
//! Once closed (the judging ended), nothing more is written; what is still pending is in the
//! final result anyway. A write that finds the lease lost marks it lost for the worker.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::service::model::Claim;
use crate::service::store::WorkerConn;
use crate::verdict::TestResult;

/// The progress of one claim; closed when dropped.
pub(crate) struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<Pending>,
    conn: Arc<tokio::sync::Mutex<WorkerConn>>,
    claim: Arc<Claim>,
    lost: Arc<AtomicBool>,
    handle: Handle,
    every: Duration,
    writes: AtomicU32,
    write_us: AtomicU64,
}

/// What is gathered and not yet written.
struct Pending {
    running: Option<String>,
    tests: Vec<(i64, TestResult)>,
    /// When the next write may start.
    next_write: Instant,
    /// The write task waiting for `next_write`, if one is.
    scheduled: Option<AbortHandle>,
    closed: bool,
}

/// How many progress writes a judging made, and how long they took (off its thread).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ProgressStats {
    pub writes: u32,
    pub write_time: Duration,
}

impl Progress {
    /// For `claim`, claimed at `claimed` (the claim made its status visible: the first write
    /// comes `every` after it); writes run on `handle`'s runtime.
    pub(crate) fn new(
        conn: Arc<tokio::sync::Mutex<WorkerConn>>,
        claim: Arc<Claim>,
        lost: Arc<AtomicBool>,
        handle: Handle,
        every: Duration,
        claimed: Instant,
    ) -> Progress {
        let state = Pending { running: None, tests: Vec::new(), next_write: claimed + every, scheduled: None, closed: false };
        let inner = Inner { state: Mutex::new(state), conn, claim, lost, handle, every, writes: AtomicU32::new(0), write_us: AtomicU64::new(0) };
        Progress { inner: Arc::new(inner) }
    }

    /// Compiled: status `running` with the compiler's message.
    pub(crate) fn running(&self, compile_message: &str) {
        self.add(|p| p.running = Some(compile_message.to_owned()));
    }

    /// Test `index` (from 0) was judged.
    pub(crate) fn test(&self, index: i64, result: &TestResult) {
        self.add(|p| p.tests.push((index, result.clone())));
    }

    fn add(&self, put: impl FnOnce(&mut Pending)) {
        if self.inner.lost.load(Ordering::SeqCst) {
            return;
        }
        let mut p = self.inner.lock();
        if p.closed {
            return;
        }
        put(&mut p);
        if p.scheduled.is_none() {
            let at = p.next_write.max(Instant::now());
            p.scheduled = Some(self.inner.handle.spawn(write_at(self.inner.clone(), at)).abort_handle());
        }
    }

    /// The judging ended: nothing more is written (a write already under way completes before
    /// the worker's next write on its connection, the final one).
    pub(crate) fn close(&self) -> ProgressStats {
        let mut p = self.inner.lock();
        p.closed = true;
        p.running = None;
        p.tests.clear();
        if let Some(task) = p.scheduled.take() {
            task.abort();
        }
        ProgressStats {
            writes: self.inner.writes.load(Ordering::Relaxed),
            write_time: Duration::from_micros(self.inner.write_us.load(Ordering::Relaxed)),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.close();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes what has gathered at `at` (one statement under the lease).
async fn write_at(inner: Arc<Inner>, at: Instant) {
    tokio::time::sleep_until(at.into()).await;
    let (running, tests) = {
        let mut p = inner.lock();
        p.scheduled = None;
        if p.closed {
            return;
        }
        p.next_write = Instant::now() + inner.every;
        (p.running.take(), std::mem::take(&mut p.tests))
    };
    let started = Instant::now();
    // Taking the connection's lock in the same poll as the pending results: a final write
    // queued after this point waits for this one.
    let written = inner.conn.lock().await.add_progress(&inner.claim, running.as_deref(), &tests).await;
    inner.writes.fetch_add(1, Ordering::Relaxed);
    inner.write_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    match written {
        Ok(true) => {}
        Ok(false) => inner.lost.store(true, Ordering::SeqCst),
        // Only the progress stream misses these; the final result holds them.
        Err(e) => tracing::warn!(submission = inner.claim.submission_id, error = %e, "store progress"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::model::{NewSubmission, Status};
    use crate::service::store::Store;
    use crate::verdict::Verdict;

    fn result(name: &str) -> TestResult {
        TestResult { name: name.into(), verdict: Verdict::AC, cpu_time_ms: 1, wall_time_ms: 2, memory_bytes: 3, message: String::new(), score: None }
    }

    /// A store with one claimed submission, and its progress with `every`.
    async fn claimed(dir: &std::path::Path, every: Duration) -> (Store, Progress, Arc<AtomicBool>, Instant) {
        let store = Store::open(&Store::sqlite_url(dir)).await.unwrap();
        let sub = NewSubmission {
            problem: "p".into(),
            version: Some("v1".into()),
            language: "c".into(),
            source: String::new(),
            all_tests: false,
            callback_url: None,
        };
        store.create_submissions(&[sub]).await.unwrap();
        let claim = Arc::new(store.claim("w", Duration::from_secs(60)).await.unwrap().unwrap());
        let at = Instant::now();
        let conn = Arc::new(tokio::sync::Mutex::new(store.worker_conn()));
        let lost = Arc::new(AtomicBool::new(false));
        let progress = Progress::new(conn, claim, lost.clone(), Handle::current(), every, at);
        (store, progress, lost, at)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_gather_for_one_write_that_comes_without_a_next_result() {
        let dir = tempfile::tempdir().unwrap();
        let every = Duration::from_millis(300);
        let (store, progress, _, claimed_at) = claimed(dir.path(), every).await;
        let id = store.submission(1).await.unwrap().unwrap().id;
        let mut changes = store.changes(id);
        progress.running("fine");
        for name in ["1", "2", "3"] {
            progress.test(name.parse().unwrap(), &result(name));
        }
        // Written once `every` has passed since the claim, while no further result comes (as
        // when the next test runs long), and not before.
        assert!(changes.wait(Duration::from_secs(30)).await, "the results were never written");
        assert!(claimed_at.elapsed() >= every, "written {:?} after the claim, before {every:?}", claimed_at.elapsed());
        let s = store.submission(id).await.unwrap().unwrap();
        assert_eq!(s.status, Status::Running);
        assert_eq!(s.tests.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(progress.close().writes, 1, "one write for the four");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_judging_closed_within_every_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, progress, _, _) = claimed(dir.path(), Duration::from_millis(500)).await;
        progress.running("");
        progress.test(0, &result("1"));
        assert_eq!(progress.close(), ProgressStats::default());
        progress.test(1, &result("2"));
        tokio::time::sleep(Duration::from_millis(800)).await;
        let s = store.submission(1).await.unwrap().unwrap();
        assert_eq!((s.status, s.tests.len()), (Status::Compiling, 0), "nothing written: the final write holds it all");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_zero_writes_each_result_and_a_write_under_a_lost_lease_marks_it_lost() {
        let dir = tempfile::tempdir().unwrap();
        let (store, progress, lost, _) = claimed(dir.path(), Duration::ZERO).await;
        let mut changes = store.changes(1);
        progress.running("");
        assert!(changes.wait(Duration::from_secs(30)).await);
        assert_eq!(store.submission(1).await.unwrap().unwrap().status, Status::Running);
        progress.test(0, &result("1"));
        assert!(changes.wait(Duration::from_secs(30)).await);
        assert_eq!(store.submission(1).await.unwrap().unwrap().tests.len(), 1);
        assert!(!lost.load(Ordering::SeqCst));

        assert!(store.rejudge(1).await.unwrap());
        progress.test(1, &result("2"));
        let t = Instant::now();
        while !lost.load(Ordering::SeqCst) {
            assert!(t.elapsed() < Duration::from_secs(30), "the lost lease was never noticed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(store.submission(1).await.unwrap().unwrap().tests.len(), 0, "nothing written under the lost lease");
        assert_eq!(progress.close().writes, 3);
    }
}

//! Connections for the API's frequent single statements (a new submission, reading one), kept
//! without sqlx's ping on release.
//!
//! Why not the pool: sqlx pings every connection given back to a pool before it may be
//! reused; on SQLite that is one more round trip to the connection's own thread for each
//! statement, a thread wake-up each way, and under load each of those wake-ups waits for a
//! CPU that a box is using (BENCHMARKS.md: what the service adds per submission). Here a
//! statement that succeeded gives its connection back as it is; one that failed, or whose
//! future was dropped mid-statement (a client that went away), closes it instead, which is
//! the case the ping is there for. At most `max` are out at once (more callers wait, as the
//! pool's do); idle ones are kept.
//!
//! SQLite only: a PostgreSQL connection can go stale on the server's side, which the pool's
//! checks catch; on PostgreSQL [`Store::conn`](super::Store::conn) hands out pool connections.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

pub(super) struct Conns {
    idle: Mutex<Vec<AnyConnection>>,
    permits: Semaphore,
}

impl Conns {
    pub(super) fn new(max: usize) -> Conns {
        Conns { idle: Mutex::new(Vec::with_capacity(max)), permits: Semaphore::new(max) }
    }

    /// Waits for a permit; then an idle connection, or `None` with the permit to open one.
    pub(super) async fn take(&self) -> (SemaphorePermit<'_>, Option<AnyConnection>) {
        // Never closed: `acquire` cannot fail.
        let permit = self.permits.acquire().await.unwrap_or_else(|_| unreachable!("the semaphore is never closed"));
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        (permit, idle)
    }

    #[cfg(test)]
    pub(super) fn idle_count(&self) -> usize {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A connection for one statement: give it back with [`Conn::keep`].
pub(crate) enum Conn<'s> {
    Pooled(PoolConnection<Any>),
    Kept { conn: Option<AnyConnection>, conns: &'s Conns, _permit: SemaphorePermit<'s> },
}

impl Conn<'_> {
    /// `r`, the result of the statement run on this connection; the connection is kept for
    /// the next one when `r` is a success, else closed.
    pub(crate) fn keep<T>(mut self, r: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let (Ok(_), Conn::Kept { conn, conns, .. }) = (&r, &mut self) {
            if let Some(c) = conn.take() {
                conns.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
            }
        }
        r
    }
}

impl Deref for Conn<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Conn::Pooled(c) => c,
            Conn::Kept { conn, .. } => conn.as_ref().expect("a connection until kept"),
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Pooled(c) => c,
            Conn::Kept { conn, .. } => conn.as_mut().expect("a connection until kept"),
        }
    }
}

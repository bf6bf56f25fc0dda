//! The callback sender: POSTs each finished submission (JSON) to its `callback_url`. A 2xx
//! answer delivers it; anything else (another status, a refused connection, a 10 s timeout)
//! is retried after 1 s, 2 s, 4 s, ... at most 5 min apart, and given up (with a log line)
//! after `GIVE_UP_AFTER` failed attempts. Callbacks live in the store, so they survive restarts.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;

use crate::service::model::{now_ms, Callback};
use crate::service::store::Store;

/// Failed attempts after which a callback is dropped.
pub const GIVE_UP_AFTER: i64 = 20;
/// Timeout of one POST.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Callbacks sent at the same time.
const CONCURRENCY: usize = 16;
/// How often the store is asked for due callbacks when nothing wakes the sender.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Delay before the next try after `failed` failed attempts (1 s, 2 s, 4 s, ..., 5 min).
pub fn backoff(failed: i64) -> Duration {
    let exp = failed.clamp(1, 20) - 1;
    Duration::from_secs((1u64 << exp).min(300))
}

/// Sends due callbacks until `shutdown` resolves.
pub async fn run_callbacks(store: Store, shutdown: impl Future<Output = ()> + Send) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).user_agent("judge-callbacks").build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("callbacks disabled: build the HTTP client: {e}");
            return;
        }
    };
    tokio::pin!(shutdown);
    loop {
        let sent = tokio::select! {
            _ = &mut shutdown => return,
            n = send_due(&store, &client) => n,
        };
        if sent == 0 {
            tokio::select! {
                _ = &mut shutdown => return,
                // Woken when a finished submission queued a callback; a retry comes due by time.
                _ = store.wait_for_callbacks(IDLE_POLL) => {}
            }
        }
    }
}

/// Sends the callbacks due now; returns how many were tried.
pub async fn send_due(store: &Store, client: &reqwest::Client) -> usize {
    let due = match store.due_callbacks(now_ms(), 64).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("callbacks: {e}");
            tokio::time::sleep(IDLE_POLL).await;
            return 0;
        }
    };
    let n = due.len();
    futures::stream::iter(due).for_each_concurrent(CONCURRENCY, |cb| deliver(store, client, cb)).await;
    n
}

async fn deliver(store: &Store, client: &reqwest::Client, cb: Callback) {
    let result = match store.submission(cb.submission_id).await {
        Ok(Some(sub)) => match client.post(&cb.url).json(&sub).send().await {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(format!("answered {}", resp.status())),
            Err(e) => Err(e.to_string()),
        },
        Ok(None) => {
            tracing::warn!(submission = cb.submission_id, "callback for a submission that no longer exists: dropped");
            Ok(())
        }
        Err(e) => {
            tracing::warn!("callbacks: {e}");
            return;
        }
    };
    let stored = match result {
        Ok(()) => {
            tracing::debug!(submission = cb.submission_id, url = %cb.url, "callback delivered");
            store.callback_delivered(cb.id).await
        }
        Err(why) => {
            let failed = cb.attempts + 1;
            if failed >= GIVE_UP_AFTER {
                tracing::warn!(submission = cb.submission_id, url = %cb.url, attempts = failed, "callback given up: {why}");
                store.callback_delivered(cb.id).await
            } else {
                let delay = backoff(failed);
                tracing::info!(submission = cb.submission_id, url = %cb.url, attempts = failed, retry_in_s = delay.as_secs(), "callback failed: {why}");
                store.callback_failed(cb.id, now_ms() + delay.as_millis() as i64).await
            }
        }
    };
    if let Err(e) = stored {
        tracing::warn!(submission = cb.submission_id, "callbacks: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let secs: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(0).as_secs(), 1);
        assert_eq!(backoff(i64::MAX).as_secs(), 300);
    }
}

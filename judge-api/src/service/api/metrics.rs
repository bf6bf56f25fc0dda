//! `GET /metrics`: Prometheus/OpenMetrics text (prometheus-client). No token needed: it holds
//! only counts (no sources, names of tokens or submissions), and scrapers rarely carry tokens;
//! put it behind the network's own rules if even counts are private.
//!
//! Counted in this process: HTTP requests by route and status, submissions accepted, runs of
//! `POST /v1/run` by outcome. Read from the database at each scrape (so they cover every
//! process sharing it): queue depth by status, final verdicts, pending callbacks, workers by
//! state, and the judging latency (created to finished) of the last five minutes as quantiles.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::error::ApiError;
use super::Ctx;
use crate::service::model::now_ms;

/// The window of the latency quantiles.
const LATENCY_WINDOW_MS: i64 = 5 * 60 * 1000;
const QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 1.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuantileLabels {
    quantile: String,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    submissions_accepted: Counter,
    runs: Family<OutcomeLabels, Counter>,
    queue: Family<StatusLabels, Gauge>,
    verdicts: Family<VerdictLabels, Gauge>,
    callbacks_pending: Gauge,
    workers: Family<StateLabels, Gauge>,
    latency_ms: Family<QuantileLabels, Gauge<f64, AtomicU64>>,
    latency_count: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("judge");
        let m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            submissions_accepted: Counter::default(),
            runs: Family::default(),
            queue: Family::default(),
            verdicts: Family::default(),
            callbacks_pending: Gauge::default(),
            workers: Family::default(),
            latency_ms: Family::default(),
            latency_count: Gauge::default(),
        };
        registry.register("http_requests", "HTTP requests by method, route and status (this process)", m.http_requests.clone());
        registry.register("submissions_accepted", "Submissions accepted by this process", m.submissions_accepted.clone());
        registry.register("runs", "POST /v1/run requests by outcome: ok, invalid, error (this process)", m.runs.clone());
        registry.register("queue_submissions", "Submissions by status (database)", m.queue.clone());
        registry.register("verdicts", "Finished submissions by verdict (database)", m.verdicts.clone());
        registry.register("callbacks_pending", "Callbacks not yet delivered (database)", m.callbacks_pending.clone());
        registry.register("workers", "Workers by their last reported state (database)", m.workers.clone());
        registry.register(
            "judging_latency_ms",
            "Judging latency (created to finished) of submissions finished in the last 5 minutes, by quantile",
            m.latency_ms.clone(),
        );
        registry.register("judging_latency_samples", "Submissions finished in the last 5 minutes", m.latency_count.clone());
        Metrics { registry, ..m }
    }

    pub fn submission_accepted(&self, n: u64) {
        self.submissions_accepted.inc_by(n);
    }

    pub fn run(&self, outcome: &'static str) {
        self.runs.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    fn request(&self, method: &str, route: &str, status: u16) {
        self.http_requests.get_or_create(&HttpLabels { method: method.to_string(), route: route.to_string(), status }).inc();
    }

    /// Sets the database-derived gauges.
    async fn refresh(&self, ctx: &Ctx) -> Result<(), ApiError> {
        let store = &ctx.app.store;
        let stats = store.queue_stats().await?;
        for (status, n) in [("queued", stats.queued), ("compiling", stats.compiling), ("running", stats.running), ("done", stats.done)] {
            self.queue.get_or_create(&StatusLabels { status }).set(n);
        }
        self.verdicts.clear();
        for (verdict, n) in &stats.verdicts {
            self.verdicts.get_or_create(&VerdictLabels { verdict: verdict.clone() }).set(*n);
        }
        self.callbacks_pending.set(stats.callbacks_pending);

        self.workers.clear();
        for state in ["idle", "judging", "stopped"] {
            self.workers.get_or_create(&StateLabels { state: state.to_string() }).set(0);
        }
        for w in store.workers().await? {
            self.workers.get_or_create(&StateLabels { state: w.state.clone() }).inc();
        }

        let mut latencies = store.recent_latencies_ms(now_ms() - LATENCY_WINDOW_MS).await?;
        latencies.sort_unstable();
        self.latency_count.set(latencies.len() as i64);
        self.latency_ms.clear();
        for q in QUANTILES {
            if let Some(v) = quantile(&latencies, q) {
                self.latency_ms.get_or_create(&QuantileLabels { quantile: q.to_string() }).set(v as f64);
            }
        }
        Ok(())
    }

    fn encode(&self) -> Result<String, ApiError> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| ApiError::internal("metrics", format!("encode metrics: {e}")))?;
        Ok(text)
    }
}

/// The `q` quantile (nearest rank) of sorted values.
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Metrics in the OpenMetrics text format (no token needed).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses(
        (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
        (status = 503, description = "The database did not answer", body = super::error::ErrorBody),
    )
)]
pub async fn metrics(State(ctx): State<Arc<Ctx>>) -> Result<Response, ApiError> {
    ctx.metrics.refresh(&ctx).await?;
    let text = ctx.metrics.encode()?;
    let mut resp = text.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}

/// Middleware counting requests by method, matched route (`unmatched` for 404s) and status.
pub async fn track(State(ctx): State<Arc<Ctx>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Methods outside the standard set are one label value: clients must not grow the family.
    let method = match *req.method() {
        Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS | Method::PATCH => req.method().to_string(),
        _ => "other".to_string(),
    };
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    ctx.metrics.request(&method, &route, resp.status().as_u16());
    tracing::debug!(%method, %route, status = resp.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.5), Some(7));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Some(50));
        assert_eq!(quantile(&v, 0.9), Some(90));
        assert_eq!(quantile(&v, 0.99), Some(99));
        assert_eq!(quantile(&v, 1.0), Some(100));
    }

    #[test]
    fn encodes_counters() {
        let m = Metrics::new();
        m.submission_accepted(3);
        m.run("ok");
        m.request("GET", "/v1/problems", 200);
        let text = m.encode().unwrap();
        assert!(text.contains("judge_submissions_accepted_total 3"), "{text}");
        assert!(text.contains("judge_runs_total{outcome=\"ok\"} 1"), "{text}");
        assert!(text.contains("judge_http_requests_total{method=\"GET\",route=\"/v1/problems\",status=\"200\"} 1"), "{text}");
    }
}

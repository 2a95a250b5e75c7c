//! Prometheus metrics: requests by route and status, a latency histogram, the DB pool.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::{AppError, PageError};
use crate::state::AppState;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static REQUESTS: AtomicU64 = AtomicU64::new(1);
const UPKEEP_EVERY: u64 = 1024;

/// Installs the process-wide recorder once (tests build many apps in one process).
fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

pub fn init() {
    let _ = handle();
}

/// Counts and times every request under its route pattern (never the raw path, which
/// could carry an id and would make the label set unbounded).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    // Histogram samples pile up until folded into buckets; fold them regularly even when
    // nothing scrapes /metrics, so memory stays flat under load.
    if REQUESTS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(UPKEEP_EVERY)
        && let Some(handle) = handle()
    {
        handle.run_upkeep();
    }
    response
}

/// The metrics, for whoever sends `Authorization: Bearer <token>` with the configured
/// token; 404 for everyone else (and for everyone when no token is configured), so the
/// route's existence is not advertised.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    use subtle::ConstantTimeEq;
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let allowed = state
        .settings
        .metrics_token
        .as_deref()
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(sent.as_bytes())));
    if !allowed {
        return PageError(AppError::NotFound).into_response();
    }
    let pool = state.db.pool();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size()));
    metrics::gauge!("db_pool_idle_connections").set(pool.num_idle() as f64);
    let body = handle().map(|h| h.render()).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

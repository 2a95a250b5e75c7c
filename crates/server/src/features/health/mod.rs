//! Liveness for load balancers and metrics for Prometheus.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::auth::guard::{Access, Routes};
use crate::state::AppState;
use crate::web::metrics;

pub fn routes() -> Routes {
    // Metrics hold counts by route pattern only, nothing about people; they answer only
    // with the configured bearer token (web::metrics::render), no session involved.
    Routes::new().get("/healthz", Access::Public, healthz).get(
        "/metrics",
        Access::Public,
        metrics::render,
    )
}

/// 200 only when the database answers, so a balancer stops sending to a broken instance.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

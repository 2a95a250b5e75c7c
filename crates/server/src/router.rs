//! The application's router: every feature's routes with their access rules, and the
//! middleware every request passes. The top of the house: it knows every feature, and
//! nothing below it knows it.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth;
use crate::auth::guard::{Access, Routes};
use crate::error::{AppError, PageError};
use crate::features;
use crate::openapi;
use crate::state::AppState;
use crate::view::assets;
use crate::web::{metrics, security};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the application with its access rule. The only way to add a route.
pub fn routes() -> Routes {
    Routes::new()
        .merge(features::home::routes())
        .merge(features::municipalities::routes())
        .merge(features::health::routes())
        .get("/api/openapi.json", Access::Public, openapi::serve)
        .merge(auth::pages::routes())
        .merge(auth::api::routes())
        .merge(features::children::routes())
        .merge(features::break_glass::routes())
        .merge(features::notices::routes())
        .merge(features::directory::routes())
        .merge(features::gaps::routes())
        .merge(features::mentoring::routes())
        .merge(features::admin::routes())
        .get("/assets/{file}", Access::Public, assets::serve)
}

pub fn router(state: AppState) -> Router {
    metrics::init();
    let (routes, specs) = routes().into_parts();
    let described = openapi::Rendered::of(&specs);
    let limits = std::sync::Arc::new(security::BodyLimits::new(
        specs
            .iter()
            .map(|s| (s.method.clone(), s.path, s.body_limit)),
    ));
    routes
        .route_layer(middleware::from_fn(metrics::track))
        .fallback(not_found)
        .with_state(state.clone())
        // The guard of each route reads the state from here.
        .layer(axum::Extension(state))
        .layer(axum::Extension(described))
        // Each route's own limit is enforced by `limit_body`; the extractors may read up to
        // the largest of them.
        .layer(DefaultBodyLimit::max(security::UPLOAD_LIMIT_BYTES))
        .layer(middleware::from_fn_with_state(limits, security::limit_body))
        .layer(middleware::from_fn(security::headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Micros)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
}

async fn not_found() -> PageError {
    PageError(AppError::NotFound)
}

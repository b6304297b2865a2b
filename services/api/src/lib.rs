//! ikz-api: the REST API over the store.
//!
//! Conventions (ARCHITECTURE.md): `/api/v1/<resource>`, snake_case JSON, list envelope
//! `{"data": [...], "links": {"next": …}, "meta": {...}}`, errors as RFC 9457 `application/problem+json`.
//! Handlers run store calls in `web::block`, never on the async threads.

pub mod auth;
pub mod metrics;
pub mod problem;
mod routes;

use std::sync::Arc;

use actix_web::web;
use ikz_store::Store;

pub use problem::Problem;
pub use routes::connectors::{BoxFuture, ConnectorControl, ConnectorInfo, TriggerError};

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    /// Tokens and `public_read`.
    pub auth: Arc<auth::Auth>,
    /// This process's counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The hub's connectors and run trigger; `None` serves no connector routes.
    pub connectors: Option<Arc<dyn ConnectorControl>>,
}

impl ApiState {
    /// Public reads, no tokens, no connectors.
    pub fn new(store: Store) -> Self {
        ApiState { store, auth: Arc::default(), metrics: Arc::default(), connectors: None }
    }
}

/// Registers every route of the API on an actix app.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::Data::new(state))
            .app_data(
                web::QueryConfig::default().error_handler(|error, _| Problem::bad_request(error.to_string()).into()),
            )
            .app_data(
                web::PathConfig::default().error_handler(|error, _| Problem::bad_request(error.to_string()).into()),
            )
            .route("/healthz", web::get().to(routes::health::healthz))
            .route("/readyz", web::get().to(routes::health::readyz))
            .route("/metrics", web::get().to(metrics::endpoint))
            .service(
                web::scope("/api/v1")
                    // Reads need a `read` token unless `public_read`; admin routes check more (auth::Admin).
                    .wrap(actix_web::middleware::from_fn(auth::require_read))
                    .route("/connectors", web::get().to(routes::connectors::list))
                    .route("/connectors/{id}/runs", web::get().to(routes::connectors::runs))
                    .route("/connectors/{id}/runs", web::post().to(routes::connectors::trigger))
                    .route("/partners", web::get().to(routes::partners::list))
                    .route("/import-runs", web::get().to(routes::runs::list))
                    .route("/import-runs/{id}", web::get().to(routes::runs::get)),
            )
            .default_service(web::to(|| async { Problem::not_found("no such resource") }));
    }
}

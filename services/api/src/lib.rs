//! ikz-api: the REST API over the store.
//!
//! Conventions (ARCHITECTURE.md): `/api/v1/<resource>`, snake_case JSON, list envelope
//! `{"data": [...], "links": {"next": …}, "meta": {...}}`, errors as RFC 9457 `application/problem+json`.
//! Handlers run store calls in `web::block`, never on the async threads.

pub mod problem;
mod routes;

use actix_web::web;
use ikz_store::Store;

pub use problem::Problem;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
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
            .service(
                web::scope("/api/v1")
                    .route("/partners", web::get().to(routes::partners::list))
                    .route("/import-runs", web::get().to(routes::runs::list))
                    .route("/import-runs/{id}", web::get().to(routes::runs::get)),
            )
            .default_service(web::to(|| async { Problem::not_found("no such resource") }));
    }
}

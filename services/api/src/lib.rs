//! ikz-api: the REST API over the store.
//!
//! Conventions (ARCHITECTURE.md): `/api/v1/<resource>`, snake_case JSON, list envelope
//! `{"data": [...], "links": {"next": …}, "meta": {...}}`, errors as RFC 9457 `application/problem+json`.
//! Handlers run store calls in `web::block`, never on the async threads.

pub mod auth;
pub mod format;
pub mod list;
pub mod metrics;
pub mod openapi;
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

/// A list route under its three names: `/x`, `/x.csv`, `/x.xlsx` (the handler reads the suffix).
fn list_route<F, Args>(scope: actix_web::Scope, path: &str, handler: F) -> actix_web::Scope
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    scope
        .route(path, web::get().to(handler.clone()))
        .route(&format!("{path}.csv"), web::get().to(handler.clone()))
        .route(&format!("{path}.xlsx"), web::get().to(handler))
}

/// Every `/api/v1` route. (Exact paths such as `/schools.csv` are registered before `/schools/{id}`.)
fn api_v1() -> actix_web::Scope {
    use routes::resources as r;
    let mut scope = web::scope("/api/v1")
        .route("/connectors", web::get().to(routes::connectors::list))
        .route("/connectors/{id}/runs", web::get().to(routes::connectors::runs))
        .route("/connectors/{id}/runs", web::post().to(routes::connectors::trigger))
        .route("/partners", web::get().to(routes::partners::list))
        .route("/import-runs", web::get().to(routes::runs::list))
        .route("/import-runs/{id}", web::get().to(routes::runs::get))
        .route("/funding/summary", web::get().to(r::funding_summary));
    scope = list_route(scope, "/organizations", r::organizations);
    scope = list_route(scope, "/meetings", r::meetings);
    scope = list_route(scope, "/agenda-items", r::agenda_items);
    scope = list_route(scope, "/papers", r::papers);
    scope = list_route(scope, "/decisions", r::decisions);
    scope = list_route(scope, "/files", r::files);
    scope = list_route(scope, "/schools", r::schools);
    scope = list_route(scope, "/media-concepts", r::media_concepts);
    scope = list_route(scope, "/equipment", r::equipment);
    scope = list_route(scope, "/funding/programs", r::funding_programs);
    scope = list_route(scope, "/funding/budgets", r::funding_budgets);
    scope = list_route(scope, "/funding/applications", r::funding_applications);
    scope
        .route("/organizations/{id}", web::get().to(r::organization))
        .route("/meetings/{id}", web::get().to(r::meeting))
        .route("/agenda-items/{id}", web::get().to(r::agenda_item))
        .route("/papers/{id}", web::get().to(r::paper))
        .route("/decisions/{id}", web::get().to(r::decision))
        .route("/files/{id}", web::get().to(r::file))
        .route("/schools/{id}", web::get().to(r::school))
        .route("/media-concepts/{id}", web::get().to(r::media_concept))
        .route("/equipment/{id}", web::get().to(r::equipment_record))
        .route("/funding/programs/{id}", web::get().to(r::funding_program))
        .route("/funding/budgets/{id}", web::get().to(r::funding_budget))
        .route("/funding/applications/{id}", web::get().to(r::funding_application))
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
            .service(openapi::swagger_ui())
            .service(web::redirect("/api/docs", "/api/docs/"))
            // Reads need a `read` token unless `public_read`; admin routes check more (auth::Admin).
            .service(api_v1().wrap(actix_web::middleware::from_fn(auth::require_read)))
            .default_service(web::to(|| async { Problem::not_found("no such resource") }));
    }
}

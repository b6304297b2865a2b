//! ikz-api: the REST API over the store.
//!
//! Conventions (ARCHITECTURE.md): `/api/v1/<resource>`, snake_case JSON, list envelope
//! `{"data": [...], "links": {"next": …}, "meta": {...}}`, errors as RFC 9457 `application/problem+json`.
//! Handlers run store calls in `web::block`, never on the async threads.

pub mod auth;
mod export;
pub mod format;
pub mod list;
pub mod metrics;
pub mod openapi;
pub mod problem;
mod routes;
pub mod served;

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

/// Where routes go: an actix scope, or nowhere (when only the list of routes is wanted).
trait RouteTarget: Sized {
    fn add(self, path: &str, route: actix_web::Route) -> Self;
}

impl RouteTarget for actix_web::Scope {
    fn add(self, path: &str, route: actix_web::Route) -> Self {
        self.route(path, route)
    }
}

impl RouteTarget for &mut web::ServiceConfig {
    fn add(self, path: &str, route: actix_web::Route) -> Self {
        self.route(path, route)
    }
}

impl RouteTarget for () {
    fn add(self, _path: &str, _route: actix_web::Route) -> Self {}
}

/// One registered route: method and full path in actix's pattern syntax (`/api/v1/schools/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    pub method: &'static str,
    pub path: String,
}

/// Registers routes on a target and records each one, so that the routes served and the routes listed for the
/// OpenAPI check come from the same calls.
struct Routes<T> {
    target: T,
    prefix: &'static str,
    entries: Vec<RouteEntry>,
}

impl<T: RouteTarget> Routes<T> {
    fn new(target: T, prefix: &'static str) -> Self {
        Routes { target, prefix, entries: Vec::new() }
    }

    fn add<F, Args>(mut self, method: &'static str, path: &str, handler: F) -> Self
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let route = match method {
            "POST" => web::post(),
            _ => web::get(),
        };
        self.target = self.target.add(path, route.to(handler));
        self.entries.push(RouteEntry { method, path: format!("{}{path}", self.prefix) });
        self
    }

    fn get<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.add("GET", path, handler)
    }

    /// A list under its three names: `/x`, `/x.csv`, `/x.xlsx` (the handler reads the suffix).
    fn list<F, Args>(self, path: &str, handler: F) -> Self
    where
        F: actix_web::Handler<Args> + Clone,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        self.get(path, handler.clone())
            .get(&format!("{path}.csv"), handler.clone())
            .get(&format!("{path}.xlsx"), handler)
    }
}

/// Every `/api/v1` route. (Exact paths such as `/schools.csv` are registered before `/schools/{id}`.)
fn api_v1<T: RouteTarget>(target: T) -> Routes<T> {
    use routes::resources as r;
    Routes::new(target, API_PREFIX)
        .get("/connectors", routes::connectors::list)
        .get("/connectors/{id}/runs", routes::connectors::runs)
        .add("POST", "/connectors/{id}/runs", routes::connectors::trigger)
        .get("/partners", routes::partners::list)
        .get("/import-runs", routes::runs::list)
        .get("/import-runs/{id}", routes::runs::get)
        .get("/funding/summary", r::funding_summary)
        .list("/organizations", r::organizations)
        .list("/meetings", r::meetings)
        .list("/agenda-items", r::agenda_items)
        .list("/papers", r::papers)
        .list("/decisions", r::decisions)
        .list("/files", r::files)
        .list("/schools", r::schools)
        .list("/media-concepts", r::media_concepts)
        .list("/equipment", r::equipment)
        .list("/funding/programs", r::funding_programs)
        .list("/funding/budgets", r::funding_budgets)
        .list("/funding/applications", r::funding_applications)
        .get("/organizations/{id}", r::organization)
        .get("/meetings/{id}", r::meeting)
        .get("/agenda-items/{id}", r::agenda_item)
        .get("/papers/{id}", r::paper)
        .get("/decisions/{id}", r::decision)
        .get("/files/{id}", r::file)
        .get("/schools/{id}", r::school)
        .get("/media-concepts/{id}", r::media_concept)
        .get("/equipment/{id}", r::equipment_record)
        .get("/funding/programs/{id}", r::funding_program)
        .get("/funding/budgets/{id}", r::funding_budget)
        .get("/funding/applications/{id}", r::funding_application)
}

/// Routes outside `/api/v1`: probes and metrics (no token needed).
fn operations<T: RouteTarget>(target: T) -> Routes<T> {
    Routes::new(target, "")
        .get("/healthz", routes::health::healthz)
        .get("/readyz", routes::health::readyz)
        .get("/metrics", metrics::endpoint)
}

const API_PREFIX: &str = "/api/v1";
/// The detail of the 404 for paths no route serves.
pub const NO_SUCH_RESOURCE: &str = "no such resource";
/// The OpenAPI document (served by utoipa-swagger-ui, not a handler of ours).
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Swagger UI and its assets.
pub const DOCS_PATH: &str = "/api/docs/";

/// Every route the app serves, as registered: the handlers' routes plus the OpenAPI document and Swagger UI.
pub fn route_table() -> Vec<RouteEntry> {
    let mut entries = operations(()).entries;
    entries.extend(api_v1(()).entries);
    entries.push(RouteEntry { method: "GET", path: OPENAPI_PATH.into() });
    entries.push(RouteEntry { method: "GET", path: DOCS_PATH.into() });
    entries
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
            .service(openapi::swagger_ui())
            .service(web::redirect("/api/docs", DOCS_PATH))
            // Reads need a `read` token unless `public_read`; admin routes check more (auth::Admin).
            .service(api_v1(web::scope(API_PREFIX)).target.wrap(actix_web::middleware::from_fn(auth::require_read)))
            .default_service(web::to(|| async { Problem::not_found(NO_SUCH_RESOURCE) }));
        operations(config);
    }
}

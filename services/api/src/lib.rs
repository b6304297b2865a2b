//! ikz-api: the REST API over the store.
//!
//! Conventions (ARCHITECTURE.md): `/api/v1/<resource>`, snake_case JSON, list envelope
//! `{"data": [...], "links": {"next": …}, "meta": {...}}`, errors as RFC 9457 `application/problem+json`.
//! Handlers run store calls in `web::block`, never on the async threads.

pub mod auth;
pub mod cors;
mod export;
pub mod format;
pub mod limits;
pub mod list;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod response_cache;
mod routes;
pub mod served;

use std::sync::Arc;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::header;
use actix_web::{guard, web, HttpResponse};
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
    /// URL length, body size and time limits (the [`limits`] middlewares and body-taking handlers).
    pub limits: limits::Limits,
    /// Rendered read responses, kept while the store's data revision stands.
    pub responses: response_cache::ResponseCache,
}

impl ApiState {
    /// Public reads, no tokens, no connectors.
    pub fn new(store: Store) -> Self {
        ApiState {
            store,
            auth: Arc::default(),
            metrics: Arc::default(),
            connectors: None,
            limits: limits::Limits::default(),
            responses: response_cache::ResponseCache::new(response_cache::DEFAULT_MEGABYTES),
        }
    }
}

/// Where routes go: an actix scope or app, or nowhere (when only the list of routes is wanted).
trait RouteTarget: Sized {
    fn add<R: HttpServiceFactory + 'static>(self, resource: R) -> Self;
}

impl RouteTarget for actix_web::Scope {
    fn add<R: HttpServiceFactory + 'static>(self, resource: R) -> Self {
        self.service(resource)
    }
}

impl RouteTarget for &mut web::ServiceConfig {
    fn add<R: HttpServiceFactory + 'static>(self, resource: R) -> Self {
        self.service(resource)
    }
}

impl RouteTarget for () {
    fn add<R: HttpServiceFactory + 'static>(self, _resource: R) -> Self {}
}

/// One registered route: method and full path in actix's pattern syntax (`/api/v1/schools/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    pub method: &'static str,
    pub path: String,
}

/// The routes of one path, registered together as one actix resource.
struct PathRoutes {
    path: String,
    methods: Vec<&'static str>,
    routes: Vec<actix_web::Route>,
}

/// Registers routes on a target and records each one, so that the routes served and the routes listed for the
/// OpenAPI check come from the same calls.
///
/// The routes of a path form one resource: a GET route answers HEAD too, OPTIONS answers 204 with `Allow`, and any
/// other method gets a 405 problem with `Allow` (not the catch-all 404: the path exists). Each resource runs under the
/// request time limit ([`limits::time_limit`]).
struct Routes<T> {
    target: T,
    prefix: &'static str,
    entries: Vec<RouteEntry>,
    paths: Vec<PathRoutes>,
}

impl<T: RouteTarget> Routes<T> {
    fn new(target: T, prefix: &'static str) -> Self {
        Routes { target, prefix, entries: Vec::new(), paths: Vec::new() }
    }

    fn add<F, Args>(mut self, method: &'static str, path: &str, handler: F) -> Self
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let route = match method {
            "POST" => web::post(),
            _ => web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
        };
        match self.paths.iter_mut().find(|routes| routes.path == path) {
            Some(routes) => {
                routes.methods.push(method);
                routes.routes.push(route.to(handler));
            }
            None => self.paths.push(PathRoutes {
                path: path.to_owned(),
                methods: vec![method],
                routes: vec![route.to(handler)],
            }),
        }
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

    /// Registers the resources, in the order their paths were first named, and hands back the target.
    fn register(self) -> (T, Vec<RouteEntry>) {
        let mut target = self.target;
        for PathRoutes { path, methods, routes } in self.paths {
            let allow = allow_header(&methods);
            let options = allow.clone();
            let mut resource = web::resource(path)
                .route(web::route().guard(guard::Options()).to(move || {
                    let allow = options.clone();
                    async move { HttpResponse::NoContent().insert_header((header::ALLOW, allow)).finish() }
                }))
                .default_service(web::to(move || {
                    let allow = allow.clone();
                    async move { method_not_allowed(&allow) }
                }));
            for route in routes {
                resource = resource.route(route);
            }
            target = target.add(resource.wrap(actix_web::middleware::from_fn(limits::time_limit)));
        }
        (target, self.entries)
    }
}

/// The `Allow` value of a path served for `methods`: GET brings HEAD, and OPTIONS is always answered.
fn allow_header(methods: &[&str]) -> String {
    let mut allowed: Vec<&str> = Vec::new();
    for method in methods {
        let implied: &[&str] = if *method == "GET" { &["GET", "HEAD"] } else { std::slice::from_ref(method) };
        for method in implied {
            if !allowed.contains(method) {
                allowed.push(method);
            }
        }
    }
    allowed.push("OPTIONS");
    allowed.join(", ")
}

/// 405 for a method the path does not serve, with the methods it does.
fn method_not_allowed(allow: &str) -> HttpResponse {
    let problem = Problem::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        format!("this resource allows {allow}"),
    );
    let mut response = actix_web::ResponseError::error_response(&problem);
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
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

/// Documents served outside the `/api/v1` scope (no token needed): the OpenAPI document.
fn documents<T: RouteTarget>(target: T) -> Routes<T> {
    Routes::new(target, "").get(OPENAPI_PATH, openapi::serve)
}

/// Every route the app serves, as registered: the handlers' routes plus Swagger UI.
pub fn route_table() -> Vec<RouteEntry> {
    let mut entries = operations(()).register().1;
    entries.extend(documents(()).register().1);
    entries.extend(api_v1(()).register().1);
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
            .service(web::redirect("/api/docs", DOCS_PATH));
        // Before the `/api/v1` scope, which would otherwise take the document's path.
        documents(&mut *config).register();
        let (api, _) = api_v1(web::scope(API_PREFIX)).register();
        config
            // Reads need a `read` token unless `public_read`; admin routes check more (auth::Admin).
            .service(api.wrap(actix_web::middleware::from_fn(auth::require_read)))
            .default_service(web::to(|| async { Problem::not_found(NO_SUCH_RESOURCE) }));
        operations(config).register();
    }
}

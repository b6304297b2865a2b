//! Builds the application: store, partners, HTTP server, start-up imports. Tests start it on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer};
use anyhow::Context;
use ikz_api::auth::{Auth, Scope};
use ikz_api::metrics::Metrics;
use ikz_store::Store;

use crate::clock::{Clock, SystemClock};
use crate::configuration::Config;
use crate::scheduler::{Hub, HubControl};

/// A built application, not yet awaited.
pub struct Application {
    server: Server,
    port: u16,
    pub store: Store,
    pub config: Arc<Config>,
    pub hub: Arc<Hub>,
}

/// Opens the store (running migrations) and syncs the configured partners into it.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database.url.clone();
    let pool_size = config.database.pool_size;
    let partners = config.partners.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Store> {
        let store = Store::open(&url, pool_size)?;
        // Replicas starting together on one SQLite file can meet in this write ("database is locked" when a read
        // transaction cannot be upgraded): try again briefly.
        let mut attempt = 1;
        loop {
            match store.sync_partners(&partners) {
                Ok(()) => break,
                Err(error) if attempt < 10 => {
                    tracing::debug!(%error, attempt, "syncing the partners failed; trying again");
                    std::thread::sleep(std::time::Duration::from_millis(100 * attempt));
                    attempt += 1;
                }
                Err(error) => return Err(error).context("syncing the configured partners"),
            }
        }
        Ok(store)
    })
    .await
    .context("the database task stopped")?
}

/// Fails the runs a dead process left `running` (their connector lock is free): `serve` and `import` do this at
/// start, so a run killed with SIGKILL is never shown as running for good.
pub async fn recover_interrupted_runs(store: &Store) {
    let recovering = store.clone();
    match tokio::task::spawn_blocking(move || recovering.recover_interrupted_runs()).await {
        Ok(Ok(recovered)) if !recovered.is_empty() => {
            tracing::warn!(runs = ?recovered, "marked runs interrupted by a stopped process as failed")
        }
        Ok(Ok(_)) => {}
        Ok(Err(error)) => tracing::error!(%error, "cannot check for interrupted runs"),
        Err(error) => tracing::error!(%error, "cannot check for interrupted runs"),
    }
}

/// The API's access rules from `[auth]`.
pub fn auth_from(config: &Config) -> Auth {
    let mut auth = Auth::new(config.auth.public_read);
    for token in &config.auth.tokens {
        let scopes: Vec<Scope> = token.scopes.iter().filter_map(|scope| Scope::parse(scope)).collect();
        auth = auth.with_token(&token.name, &token.token, &scopes);
    }
    auth
}

impl Application {
    /// Binds `bind` (use port 0 for a free port), opens the store and starts serving; schedules the connectors
    /// and imports those that never succeeded in the background when `run_on_start` says so.
    pub async fn build(config: Config, bind: &str) -> anyhow::Result<Application> {
        Application::build_with_clock(config, bind, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the scheduler on `clock` (tests pass a manual clock).
    pub async fn build_with_clock(config: Config, bind: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let store = open_store(&config).await?;
        recover_interrupted_runs(&store).await;
        let listener = TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let hub =
            Hub::new(config.clone(), store.clone(), clock, metrics.clone()).context("building the HTTP client")?;
        let state = ikz_api::ApiState {
            store: store.clone(),
            auth: Arc::new(auth_from(&config)),
            metrics,
            connectors: Some(Arc::new(HubControl(hub.clone()))),
            limits: config.limits,
            responses: ikz_api::response_cache::ResponseCache::new(config.server.response_cache_mb),
        };
        let cors_origins = config.server.cors_origins.clone();
        let server = HttpServer::new(move || {
            // The last `wrap` is the outermost: the access log and metrics see every answer; errors from CORS
            // become problems; CORS headers go onto refusals too, so browser pages can read them. (The time limit
            // wraps each route: see ikz_api::limits::time_limit.)
            App::new()
                .wrap(actix_web::middleware::from_fn(ikz_api::limits::check_url))
                .wrap(ikz_api::cors::middleware(&cors_origins))
                .wrap(actix_web::middleware::from_fn(ikz_api::problem::ensure_problem))
                .wrap(actix_web::middleware::from_fn(ikz_api::metrics::track))
                .wrap(crate::access_log::logger())
                .configure(ikz_api::configure(state.clone()))
        })
        // Slow clients: the request head must arrive within this (actix answers 408 and closes the connection).
        .client_request_timeout(config.client_request_timeout)
        .shutdown_timeout(config.shutdown_grace.as_secs().max(1))
        .listen(listener)?
        .run();
        tracing::info!(port, database = %store.url().redacted(), connectors = config.connectors.len(), "ikz-hub is serving");
        hub.spawn_scheduler();
        hub.spawn_startup_imports();
        Ok(Application { server, port, store, config, hub })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops (SIGINT/SIGTERM stop it gracefully), then stops the scheduler and lets
    /// running imports finish within `shutdown_grace` (or rolls them back and records them as failed).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        tracing::info!("the HTTP server stopped; shutting down the scheduler");
        self.hub.shutdown().await;
        result
    }
}

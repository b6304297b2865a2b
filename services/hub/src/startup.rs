//! Builds the application: store, partners, HTTP server, start-up imports. Tests start it on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer};
use anyhow::Context;
use ikz_connectors::fetch::Fetcher;
use ikz_store::{Store, Trigger};

use crate::configuration::Config;

/// A built application, not yet awaited.
pub struct Application {
    server: Server,
    port: u16,
    pub store: Store,
    pub config: Arc<Config>,
}

/// Opens the store (running migrations) and syncs the configured partners into it.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database.url.clone();
    let pool_size = config.database.pool_size;
    let partners = config.partners.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Store> {
        let store = Store::open(&url, pool_size)?;
        store.sync_partners(&partners).context("syncing the configured partners")?;
        Ok(store)
    })
    .await
    .context("the database task stopped")?
}

impl Application {
    /// Binds `bind` (use port 0 for a free port), opens the store and starts serving; imports connectors that never
    /// succeeded in the background when `run_on_start` says so.
    pub async fn build(config: Config, bind: &str) -> anyhow::Result<Application> {
        let store = open_store(&config).await?;
        let listener = TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let state = ikz_api::ApiState { store: store.clone() };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::Logger::new("%r %s %Dms"))
                .configure(ikz_api::configure(state.clone()))
        })
        .listen(listener)?
        .run();
        let config = Arc::new(config);
        tracing::info!(port, database = %store.url().redacted(), connectors = config.connectors.len(), "ikz-hub is serving");
        spawn_startup_imports(config.clone(), store.clone())?;
        Ok(Application { server, port, store, config })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops (SIGINT/SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Imports, one after the other, the enabled `run_on_start` connectors that have never succeeded. The API serves
/// meanwhile.
fn spawn_startup_imports(config: Arc<Config>, store: Store) -> anyhow::Result<()> {
    let wanted: Vec<String> = config
        .connectors
        .iter()
        .filter(|connector| connector.enabled && connector.run_on_start)
        .map(|connector| connector.id.clone())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let fetcher = Fetcher::new(config.http.clone())?;
    tokio::spawn(async move {
        for id in wanted {
            let Some(connector) = config.connector(&id) else { continue };
            let done = {
                let store = store.clone();
                let id = id.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = store.connection()?;
                    ikz_store::queries::has_succeeded(&mut conn, &id)
                })
                .await
            };
            match done {
                Ok(Ok(true)) => continue,
                Ok(Ok(false)) => {}
                Ok(Err(error)) => {
                    tracing::error!(connector = %id, %error, "cannot check the connector's runs");
                    continue;
                }
                Err(error) => {
                    tracing::error!(connector = %id, %error, "start-up import task failed");
                    continue;
                }
            }
            match crate::runner::import(&config, &store, &fetcher, connector, Trigger::Startup).await {
                Ok(summary) => {
                    tracing::info!(connector = %id, status = summary.status.as_str(), "start-up import done")
                }
                Err(error) => tracing::error!(connector = %id, %error, "start-up import could not start"),
            }
        }
    });
    Ok(())
}

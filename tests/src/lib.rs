//! End-to-end test support: write a config into a temporary folder, start the real application on port 0 against a
//! real database, and talk to it over HTTP (zero2prod's `spawn_app`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ikz_connectors::model::{EntityKind, Record};
use ikz_connectors::oparl::testing::{paper_pages, Response, TestServer};
use ikz_connectors::{RecordSink, RunOutcome};
use ikz_hub::clock::SystemClock;
use ikz_hub::configuration;
use ikz_hub::scheduler::Hub;
use ikz_hub::startup::Application;
use ikz_store::runs::RunRequest;
use ikz_store::testing::TestDatabase;
use ikz_store::{Guards, RunSummary, Store, Trigger};

pub mod seed;

/// The repository's top folder (for the shipped config and demo data).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A config written into a temporary folder: main file plus `connectors.d/`.
pub struct TestConfig {
    pub dir: tempfile::TempDir,
}

pub const PARTNERS: &str = r#"
[[partners]]
slug = "gifhorn"
name = "Landkreis Gifhorn"
kind = "landkreis"
ags = "03151000"

[[partners]]
slug = "hankensbuettel"
name = "Samtgemeinde Hankensbüttel"
kind = "samtgemeinde"
aliases = ["SG Hankensbüttel"]
"#;

impl TestConfig {
    /// A main config using `database_url`, the two test partners, and `extra` appended (more sections).
    pub fn new(database_url: &str, extra: &str) -> TestConfig {
        let dir = tempfile::tempdir().expect("temporary config folder");
        std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
        let main = format!(
            "[database]\nurl = \"{database_url}\"\npool_size = 4\n\n[http]\nretries = 1\nbackoff_ms = 10\n{PARTNERS}\n{extra}\n"
        );
        std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("write config");
        TestConfig { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ikz-hub.toml")
    }

    /// Adds `config/connectors.d/<name>.toml`.
    pub fn connector(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.dir.path().join("connectors.d").join(format!("{name}.toml")), text)
            .expect("write connector");
        self
    }

    /// Writes a data file next to the config (connector sources are relative to it).
    pub fn data_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write data file");
        path
    }

    pub fn load(&self) -> configuration::Config {
        configuration::load(&self.path()).unwrap_or_else(|errors| panic!("{errors}"))
    }
}

/// A running application.
pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub client: reqwest::Client,
    pub config: std::sync::Arc<configuration::Config>,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.expect("JSON body")
    }

    /// Waits until `connector` has a finished run (start-up imports run in the background).
    pub async fn wait_for_run(&self, connector: &str) -> serde_json::Value {
        for _ in 0..300 {
            let runs = self.get_json(&format!("/api/v1/import-runs?connector={connector}&limit=1")).await;
            if let Some(run) = runs["data"].as_array().and_then(|runs| runs.first()) {
                // The run's status commits just before its connector lock is released: wait for the lock too, so
                // that the next trigger is not refused as overlapping this run.
                if run["status"] != "running" && self.connector_lock_is_free(connector).await {
                    return run.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("connector {connector} did not finish a run in 15 s");
    }

    /// Whether no run holds the connector's lock now (taking it and letting it go at once).
    async fn connector_lock_is_free(&self, connector: &str) -> bool {
        let (url, connector) = (self.store.url().clone(), connector.to_owned());
        let taken = tokio::task::spawn_blocking(move || ikz_store::locks::try_lock(&url, &connector)).await;
        matches!(taken, Ok(Ok(Some(_))))
    }
}

/// Starts the application for `config` on a free loopback port.
pub async fn spawn_app(config: configuration::Config) -> TestApp {
    let application = Application::build(config, "127.0.0.1:0").await.expect("the application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let store = application.store.clone();
    let config = application.config.clone();
    tokio::spawn(application.run_until_stopped());
    TestApp { address, store, client: reqwest::Client::new(), config }
}

/// SQLite, and PostgreSQL when `IKZ_TEST_POSTGRES_URL` is set.
pub fn databases() -> Vec<TestDatabase> {
    ikz_store::testing::all()
}

/// The shipped demo config (`config/ikz-hub.toml`: demo partners and connectors) on `database_url`.
pub fn demo_config(database_url: &str) -> configuration::Config {
    let mut config = configuration::load(&repo_root().join("config/ikz-hub.toml")).expect("the demo config is valid");
    config.database.url = database_url.to_owned();
    config
}

/// The hub every trigger goes through (scheduler, CLI, API), over `config` and `store`.
pub fn hub(config: configuration::Config, store: &Store) -> Arc<Hub> {
    let metrics = Arc::new(ikz_api::metrics::Metrics::default());
    Hub::new(Arc::new(config), store.clone(), Arc::new(SystemClock), metrics).expect("hub")
}

/// Runs `connector` through the hub now, as `ikz-hub import` does.
pub async fn import(hub: &Arc<Hub>, connector: &str) -> RunSummary {
    hub.run(connector, Trigger::Manual).await.unwrap_or_else(|error| panic!("{connector} did not start: {error:?}"))
}

/// A manual run of `connector` over `entities`, with guards that let a test tombstone everything.
pub fn run_request(connector: &str, entities: &[EntityKind]) -> RunRequest {
    RunRequest {
        connector: connector.into(),
        trigger: Trigger::Manual,
        entities: entities.to_vec(),
        guards: Guards { max_reject_ratio: 0.1, max_tombstone_share: 1.0 },
    }
}

/// Writes `records` through a real import run of `connector` (which provides `entities`); `complete` tombstones the
/// connector's records of those entities that `records` does not hold. Panics if the run fails or rejects a record.
pub async fn write_records(
    store: &Store,
    connector: &str,
    entities: &[EntityKind],
    records: Vec<Record>,
    complete: bool,
) -> RunSummary {
    let mut run = store.begin_run(run_request(connector, entities)).await.expect("begin run");
    run.records(records).await.expect("records");
    let summary = run.finish(RunOutcome { complete, ..RunOutcome::default() }).await;
    assert!(summary.error.is_none(), "{summary:?}");
    assert_eq!(summary.counts.rejected, 0, "{summary:?}");
    summary
}

/// An OParl body at `/oparl/body/1` on `server` whose paper list holds `count` papers in pages of `per_page`;
/// returns the pages (path and JSON body).
pub fn serve_oparl_papers(server: &TestServer, count: usize, per_page: usize) -> Vec<(String, String)> {
    let base = server.base();
    let body = serde_json::json!({
        "id": format!("{base}/oparl/body/1"), "type": "https://schema.oparl.org/1.1/Body",
        "name": "Samtgemeinde Hankensbüttel", "paper": format!("{base}/oparl/body/1/paper")
    });
    server.route("/oparl/body/1", Response::json(body.to_string()));
    let pages = paper_pages(&base, "/oparl/body/1/paper", count, per_page);
    for (index, (path, page)) in pages.iter().enumerate() {
        if index == 0 {
            server.route("/oparl/body/1/paper", Response::json(page.clone()));
        }
        server.route(path, Response::json(page.clone()));
    }
    pages
}

/// The connector file of `ratsinfo`: Hankensbüttel's papers from the body [`serve_oparl_papers`] serves at `base`.
pub fn oparl_connector(base: &str, incremental: bool) -> String {
    format!(
        "id = \"ratsinfo\"\nkind = \"oparl\"\npartner = \"hankensbuettel\"\nsource = \"{base}/oparl/body/1\"\n\
         lists = [\"paper\"]\nincremental = {incremental}\n"
    )
}

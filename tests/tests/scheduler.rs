//! The scheduler and the run triggers end to end, on SQLite and PostgreSQL: the real app on port 0 with a manual
//! clock (DST walked through without waiting), a slow connector triggered three times at once, retries, the
//! connector routes, staleness in /readyz and /metrics, and the run lock across two stores (two pools, as two
//! processes have).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use ikz_connectors::model::{EntityKind, FundingProgram, Origin, Record};
use ikz_connectors::{Connector, ConnectorError, RunContext, RunOutcome};
use ikz_hub::clock::{Clock, ManualClock};
use ikz_hub::startup::Application;
use ikz_store::runs::RunRequest;
use ikz_store::{Guards, RunStatus, Store, StoreError, Trigger};
use ikz_tests::{databases, TestApp, TestConfig};
use tokio::sync::Semaphore;

const ADMIN: &str = "admin-token-for-tests-0123456789";

fn program(slug: &str) -> Record {
    Record::FundingProgram(FundingProgram {
        id: slug.into(),
        origin: Origin::new(slug),
        name: format!("Programm {slug}"),
        legal_basis: None,
        period_start: None,
        period_end: None,
        deadlines: vec![],
        measures: vec![],
        measure_names: Default::default(),
    })
}

/// Waits for `gate` before emitting one record; fails the first `failures` runs.
struct TestConnector {
    gate: Option<Arc<Semaphore>>,
    failures: AtomicUsize,
}

#[async_trait]
impl Connector for TestConnector {
    fn entities(&self) -> &[EntityKind] {
        &[EntityKind::FundingProgram]
    }

    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        if let Some(gate) = &self.gate {
            let _permit = gate
                .acquire()
                .await
                .map_err(|error| ConnectorError::Fetch { location: "gate".into(), message: error.to_string() })?;
        }
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(ConnectorError::Fetch { location: "test".into(), message: "the source is down".into() });
        }
        ctx.sink.records(vec![program("digitalpakt")]).await?;
        Ok(RunOutcome { complete: true, ..RunOutcome::default() })
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid")
}

/// A config with one connector `programme` (its work replaced by a [`TestConnector`]).
fn config_with(
    database_url: &str,
    main_extra: &str,
    connector_extra: &str,
    connector: TestConnector,
) -> (TestConfig, ikz_hub::configuration::Config) {
    let main = format!(
        "[import]\nrun_on_start = false\n\n[auth]\npublic_read = true\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"${{IKZ_TEST_ADMIN_TOKEN:-{ADMIN}}}\"\nscopes = [\"admin\"]\n{main_extra}"
    );
    let config = TestConfig::new(database_url, &main);
    config.data_file("programme.jsonl", b"");
    config.connector(
        "programme",
        &format!("id = \"programme\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"programme.jsonl\"\n{connector_extra}"),
    );
    let mut loaded = config.load();
    loaded.connectors[0].connector = Box::new(connector);
    (config, loaded)
}

async fn spawn_with_clock(config: ikz_hub::configuration::Config, clock: Arc<dyn Clock>) -> TestApp {
    let application = Application::build_with_clock(config, "127.0.0.1:0", clock).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let store = application.store.clone();
    let config = application.config.clone();
    tokio::spawn(application.run_until_stopped());
    TestApp { address, store, client: reqwest::Client::new(), config }
}

/// Polls the connector's runs until `done` holds (runs finish in the background); returns them, newest first.
async fn runs_until(app: &TestApp, done: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let mut last = Vec::new();
    for _ in 0..400 {
        let page = app.get_json("/api/v1/connectors/programme/runs?limit=100").await;
        last = page["data"].as_array().cloned().unwrap_or_default();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the runs did not reach the expected state: {last:#?}");
}

fn with_status<'a>(runs: &'a [serde_json::Value], status: &str) -> Vec<&'a serde_json::Value> {
    runs.iter().filter(|run| run["status"] == status).collect()
}

/// Done-when: a slow connector triggered three times at once runs once; the other two triggers are recorded as
/// skipped. Over the API (POST …/runs with the admin token): one 202 with the run id, two 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connector_triggered_three_times_at_once_runs_once() {
    for database in databases() {
        let gate = Arc::new(Semaphore::new(0));
        let connector = TestConnector { gate: Some(gate.clone()), failures: AtomicUsize::new(0) };
        let (_dir, config) = config_with(&database.url, "", "", connector);
        let app = ikz_tests::spawn_app(config).await;
        let post =
            || app.client.post(format!("{}/api/v1/connectors/programme/runs", app.address)).bearer_auth(ADMIN).send();
        let (a, b, c) = tokio::join!(post(), post(), post());
        let mut statuses: Vec<u16> = Vec::new();
        let mut run_id = None;
        for response in [a, b, c] {
            let response = response.expect("request");
            statuses.push(response.status().as_u16());
            if response.status() == 202 {
                let location = response.headers()["location"].to_str().expect("location").to_owned();
                let body: serde_json::Value = response.json().await.expect("json");
                assert_eq!(location, format!("/api/v1/import-runs/{}", body["data"]["run_id"]));
                run_id = body["data"]["run_id"].as_i64();
            } else {
                assert_eq!(response.headers()["content-type"], "application/problem+json");
            }
        }
        statuses.sort_unstable();
        assert_eq!(statuses, vec![202, 409, 409], "{}", database.backend);
        let run_id = run_id.expect("one run started");

        // The running run is visible while it waits.
        let run = app.get_json(&format!("/api/v1/import-runs/{run_id}")).await;
        assert_eq!(run["data"]["status"], "running");
        gate.add_permits(1);
        let runs =
            runs_until(&app, |runs| with_status(runs, "skipped").len() == 2 && with_status(runs, "running").is_empty())
                .await;
        let real: Vec<_> = runs.iter().filter(|run| run["status"] != "skipped").collect();
        assert_eq!(real.len(), 1, "{}: {runs:#?}", database.backend);
        assert_eq!(real[0]["status"], "succeeded");
        assert_eq!(real[0]["trigger"], "api");
        for skipped in with_status(&runs, "skipped") {
            assert!(skipped["error"].as_str().is_some_and(|e| e.contains("in progress")), "{skipped}");
        }
        // Skipped triggers are counted in /metrics. A run is counted just after its status commits: wait for it
        // (at most 5 s).
        let succeeded = "ikz_import_runs_total{connector=\"programme\",status=\"succeeded\"} 1";
        let mut metrics = String::new();
        for _ in 0..50 {
            metrics = app.get("/metrics").await.text().await.expect("text");
            if metrics.contains(succeeded) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(metrics.contains("ikz_import_runs_total{connector=\"programme\",status=\"skipped\"} 2"), "{metrics}");
        assert!(metrics.contains(succeeded), "{}: {metrics}", database.backend);
    }
}

/// The scheduler in the running app on a manual clock: the 02:30 job on the spring-forward day 2026 runs at 03:00
/// CEST (01:00 UTC), is recorded with its slot, and the connector list shows the next run at 02:30 CEST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_schedules_in_local_time_on_the_spring_forward_day() {
    for database in databases() {
        let connector = TestConnector { gate: None, failures: AtomicUsize::new(0) };
        let (_dir, config) = config_with(&database.url, "", "schedule = \"0 30 2 * * *\"\n", connector);
        let clock = Arc::new(ManualClock::new(utc(2026, 3, 28, 23, 0)).stop_at(utc(2026, 3, 29, 12, 0)));
        let app = spawn_with_clock(config, clock.clone()).await;
        let runs = runs_until(&app, |runs| runs.iter().any(|run| run["status"] == "succeeded")).await;
        assert_eq!(runs.len(), 1, "{runs:#?}");
        assert_eq!(runs[0]["trigger"], "schedule");
        assert_eq!(runs[0]["scheduled_for"], "2026-03-29T01:00:00.000000Z", "{}", database.backend);

        let connectors = app.get_json("/api/v1/connectors").await;
        let programme = &connectors["data"][0];
        assert_eq!(programme["id"], "programme");
        assert_eq!(programme["schedule"], "0 30 2 * * *");
        assert_eq!(programme["timezone"], "Europe/Berlin");
        assert_eq!(programme["next_run_at"], "2026-03-30T00:30:00Z");
        assert_eq!(programme["last_run"]["status"], "succeeded");
        assert!(programme["last_success_at"].is_string());
        assert_eq!(programme["stale"], false);
    }
}

/// A failed scheduled run is retried after the backoff (on the manual clock) with the same slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_run_is_retried_with_backoff() {
    for database in databases() {
        let connector = TestConnector { gate: None, failures: AtomicUsize::new(2) };
        let (_dir, config) = config_with(
            &database.url,
            "[scheduler]\nretry_backoff = \"5m\"\n",
            "schedule = \"0 0 4 * * *\"\nmax_attempts = 3\n",
            connector,
        );
        let clock = Arc::new(ManualClock::new(utc(2026, 6, 1, 1, 0)).stop_at(utc(2026, 6, 1, 12, 0)));
        let app = spawn_with_clock(config, clock.clone()).await;
        let runs = runs_until(&app, |runs| runs.iter().any(|run| run["status"] == "succeeded")).await;
        let statuses: Vec<&str> = runs.iter().rev().filter_map(|run| run["status"].as_str()).collect();
        assert_eq!(statuses, vec!["failed", "failed", "succeeded"], "{}", database.backend);
        assert!(runs.iter().all(|run| run["scheduled_for"] == "2026-06-01T02:00:00.000000Z"), "{runs:#?}");
        // 04:00 CEST = 02:00 UTC, then 5 and 10 more minutes.
        assert_eq!(clock.now(), utc(2026, 6, 1, 2, 15));
    }
}

/// Staleness: a connector with `stale_after` that never succeeded is stale in /readyz and /metrics; after a run it
/// is not. /metrics parses as Prometheus text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staleness_shows_in_readyz_and_metrics() {
    for database in databases() {
        let connector = TestConnector { gate: None, failures: AtomicUsize::new(0) };
        let (_dir, config) = config_with(&database.url, "", "stale_after = \"36h\"\n", connector);
        let app = ikz_tests::spawn_app(config).await;
        let ready = app.get_json("/readyz").await;
        assert_eq!(ready["stale_connectors"], serde_json::json!(["programme"]));
        let metrics = app.get("/metrics").await.text().await.expect("text");
        let parsed = parse_prometheus(&metrics);
        assert_eq!(parsed.get("ikz_connector_stale{connector=\"programme\"}"), Some(&1.0), "{metrics}");
        assert_eq!(scraped_gauge(&metrics, "ikz_connector_stale", "programme"), Some(1.0));

        let response = app
            .client
            .post(format!("{}/api/v1/connectors/programme/runs", app.address))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 202);
        runs_until(&app, |runs| runs.iter().any(|run| run["status"] == "succeeded")).await;
        let ready = app.get_json("/readyz").await;
        assert_eq!(ready["stale_connectors"], serde_json::json!([]));
        let connectors = app.get_json("/api/v1/connectors").await;
        assert_eq!(connectors["data"][0]["stale"], false);
        assert_eq!(connectors["data"][0]["stale_after"], "36h");

        // The run's counters are observed just after its status is committed: wait for them (at most 5 s).
        let mut metrics = String::new();
        for _ in 0..50 {
            metrics = app.get("/metrics").await.text().await.expect("text");
            if metrics.contains("ikz_import_run_duration_seconds_count{connector=\"programme\"}") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let parsed = parse_prometheus(&metrics);
        assert_eq!(parsed.get("ikz_connector_stale{connector=\"programme\"}"), Some(&0.0));
        assert_eq!(scraped_gauge(&metrics, "ikz_connector_stale", "programme"), Some(0.0));
        assert!(parsed
            .get("ikz_connector_last_success_timestamp_seconds{connector=\"programme\"}")
            .is_some_and(|t| *t > 1.7e9));
        assert_eq!(parsed.get("ikz_import_records_total{connector=\"programme\",outcome=\"created\"}"), Some(&1.0));
        assert_eq!(parsed.get("ikz_import_run_duration_seconds_count{connector=\"programme\"}"), Some(&1.0));
        assert!(
            parsed.keys().any(|key| key.starts_with(
                "ikz_http_requests_total{method=\"POST\",route=\"/api/v1/connectors/{id}/runs\",status=\"202\""
            )),
            "{metrics}"
        );
        assert!(parsed
            .keys()
            .any(|key| key.starts_with("ikz_http_request_duration_seconds_bucket{method=\"GET\",route=\"/readyz\"")));
        assert_eq!(app.get("/api/v1/connectors/nope/runs").await.status(), 404);
    }
}

/// `/metrics` read by the prometheus-parse crate (as a scraper reads it): the value of a connector's gauge.
fn scraped_gauge(text: &str, metric: &str, connector: &str) -> Option<f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
        .unwrap_or_else(|error| panic!("prometheus-parse rejects /metrics: {error}\n{text}"));
    assert!(!scrape.samples.is_empty(), "{text}");
    scrape.samples.iter().find_map(|sample| match sample.value {
        prometheus_parse::Value::Gauge(value)
            if sample.metric == metric && sample.labels.get("connector") == Some(connector) =>
        {
            Some(value)
        }
        _ => None,
    })
}

/// A strict reader of the Prometheus text format 0.0.4: `# HELP`/`# TYPE` lines with known types, declared before
/// their samples; samples `name{label="value",…} number`, names and label names valid, label values escaped,
/// histogram buckets cumulative. Returns sample → value.
fn parse_prometheus(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::collections::BTreeMap;
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    let valid_name = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), Some(_)) => assert!(valid_name(name), "{line}"),
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(matches!(kind, "counter" | "gauge" | "histogram" | "summary" | "untyped"), "{line}");
                    assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "TYPE twice: {line}");
                }
                _ => panic!("bad comment line: {line}"),
            }
            continue;
        }
        assert!(!line.trim().is_empty(), "empty line");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let name = series.split('{').next().unwrap_or_default();
        assert!(valid_name(name), "{line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix).filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                let inner =
                    labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap_or_else(|| panic!("{line}"));
                let mut rest = inner;
                while !rest.is_empty() {
                    let (label, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
                    assert!(valid_name(label) && !label.contains(':'), "{line}");
                    let mut end = None;
                    let mut escaped = false;
                    for (index, c) in after.char_indices() {
                        match (escaped, c) {
                            (true, '\\' | '"' | 'n') => escaped = false,
                            (true, _) => panic!("bad escape: {line}"),
                            (false, '\\') => escaped = true,
                            (false, '"') => {
                                end = Some(index);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let end = end.unwrap_or_else(|| panic!("unterminated label value: {line}"));
                    rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
                }
            }
        }
        assert!(samples.insert(series.to_owned(), value).is_none(), "duplicate series: {line}");
    }
    // Histogram buckets are cumulative and end in +Inf = _count.
    let mut previous: Option<(String, f64)> = None;
    for (series, value) in &samples {
        if let Some((base, _)) = series.split_once("_bucket{") {
            let group = format!("{base}{}", series.split(",le=").next().unwrap_or_default());
            if let Some((last_group, last_value)) = &previous {
                if *last_group == group && series.contains("le=\"+Inf\"") {
                    assert!(*value >= *last_value, "buckets not cumulative at {series}");
                }
            }
            previous = Some((group, *value));
        }
    }
    samples
}

/// The run lock across two stores on the same database (separate pools, as two processes have): the second
/// begin_run is skipped while the first runs, and recorded; after the first ends, the connector runs again.
/// A running run of a live store is not taken for an orphan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_lock_holds_across_two_stores() {
    for database in databases() {
        let first = Store::open(&database.url, 2).expect("first store");
        let second = Store::open(&database.url, 2).expect("second store");
        let request = || RunRequest {
            connector: "programme".into(),
            trigger: Trigger::Manual,
            entities: vec![EntityKind::FundingProgram],
            guards: Guards::default(),
        };
        let mut running = first.begin_run(request()).await.expect("the first run starts");
        match second.begin_run(request()).await {
            Err(StoreError::RunSkipped { connector, .. }) => assert_eq!(connector, "programme"),
            Err(other) => panic!("{}: {other}", database.backend),
            Ok(_) => panic!("{}: the connector ran twice at once", database.backend),
        }
        let recovering = second.clone();
        let recovered = tokio::task::spawn_blocking(move || recovering.recover_interrupted_runs())
            .await
            .expect("task")
            .expect("recover");
        assert!(recovered.is_empty(), "a live run was taken for an orphan");
        use ikz_connectors::RecordSink;
        running.records(vec![program("digitalpakt")]).await.expect("records");
        let summary = running.finish(RunOutcome { complete: true, ..RunOutcome::default() }).await;
        assert_eq!(summary.status, RunStatus::Succeeded);
        let again = second.begin_run(request()).await.expect("free again");
        let summary = again.finish(RunOutcome::default()).await;
        assert_eq!(summary.status, RunStatus::Succeeded);

        // The skipped trigger is in the log.
        let mut skipped = 0;
        for _ in 0..200 {
            let store = first.clone();
            let runs = tokio::task::spawn_blocking(move || {
                let mut conn = store.connection()?;
                ikz_store::queries::list_runs(
                    &mut conn,
                    &ikz_store::queries::RunFilter { status: Some("skipped".into()), limit: 10, ..Default::default() },
                )
            })
            .await
            .expect("task")
            .expect("runs");
            skipped = runs.len();
            if skipped == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(skipped, 1, "{}", database.backend);
    }
}

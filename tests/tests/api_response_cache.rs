//! The API's response cache (services/api/src/response_cache.rs): repeated reads are answered from it, and any
//! committed change of the data is served at once — also one written by another process on the same database (a
//! CLI import, another replica), since the cache compares the data revision stored in the database.

use ikz_connectors::model::{EntityKind, Record};
use ikz_store::Store;
use ikz_tests::seed::{self, seeded_app};
use ikz_tests::{databases, run_request, write_records, TestApp};

/// Body and ETag of a 200.
async fn read(app: &TestApp, path: &str) -> (String, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let etag = response.headers().get("etag").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    (response.text().await.expect("body"), etag)
}

/// `ikz_api_response_cache_total{result="…"}` from /metrics.
async fn cache_count(app: &TestApp, result: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    let prefix = format!("ikz_api_response_cache_total{{result=\"{result}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map_or(0, |value| value.parse().expect("a count"))
}

fn revision(store: &Store) -> i64 {
    let mut conn = store.connection().expect("connection");
    ikz_store::revision::current(&mut conn).expect("revision").expect("the revision row")
}

/// The seeded schools with the Grundschule Wittingen renamed.
fn schools_with_renamed_wittingen() -> Vec<Record> {
    let mut schools = seed::schools();
    for record in &mut schools {
        if let Record::School(school) = record {
            if school.school_number.as_str() == "10001" {
                school.name = "Grundschule Wittingen am Markt".into();
            }
        }
    }
    schools
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_reads_are_kept_and_a_change_by_another_process_is_served_at_once() {
    for database in databases() {
        let seeded = seeded_app(&database.url, "").await;
        let app = &seeded.app;
        let list = "/api/v1/schools?limit=3&sort=name";
        let (hits, misses) = (cache_count(app, "hit").await, cache_count(app, "miss").await);
        let (first, first_tag) = read(app, list).await;
        let (again, again_tag) = read(app, list).await;
        assert_eq!((&again, &again_tag), (&first, &first_tag), "{}", database.backend);
        assert_eq!(cache_count(app, "miss").await, misses + 1, "{}: the first read renders", database.backend);
        assert_eq!(cache_count(app, "hit").await, hits + 1, "{}: the second is kept", database.backend);
        assert!(first.contains("Grundschule Wittingen\""), "{}: {first}", database.backend);

        // Another process: its own store on the same database renames a school in an import run.
        let other = Store::open(&database.url, 2).expect("a second store on the same database");
        write_records(&other, "schools", &[EntityKind::School], schools_with_renamed_wittingen(), true).await;
        let (after, after_tag) = read(app, list).await;
        assert!(after.contains("Grundschule Wittingen am Markt"), "{}: stale page served: {after}", database.backend);
        assert_ne!(after_tag, first_tag, "{}", database.backend);

        // The record route, a CSV page and a conditional GET with the old tag see the change too.
        let wittingen = app.get_json("/api/v1/schools?school_number=10001").await;
        let id = wittingen["data"][0]["id"].as_str().expect("id").to_owned();
        assert_eq!(
            app.get_json(&format!("/api/v1/schools/{id}")).await["data"]["name"],
            "Grundschule Wittingen am Markt"
        );
        let old = app.client.get(format!("{}{list}", app.address)).header("If-None-Match", &first_tag).send().await;
        assert_eq!(old.expect("request").status(), 200, "{}: the old tag no longer matches", database.backend);
        let current = app.client.get(format!("{}{list}", app.address)).header("If-None-Match", &after_tag).send().await;
        assert_eq!(current.expect("request").status(), 304, "{}", database.backend);
        let csv = app.get("/api/v1/schools.csv?limit=10&sort=name").await.text().await.expect("csv");
        assert!(csv.contains("Grundschule Wittingen am Markt"), "{}", database.backend);
    }
}

/// The revision moves with every committed run and the partner sync, and not with a failed run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_revision_moves_with_committed_changes_only() {
    for database in databases() {
        let store = Store::open(&database.url, 2).expect("store");
        let start = revision(&store);
        write_records(&store, "schools", &[EntityKind::School], seed::schools(), true).await;
        assert_eq!(revision(&store), start + 1, "{}: a committed run", database.backend);

        let mut run = store.begin_run(run_request("schools", &[EntityKind::School])).await.expect("begin run");
        ikz_connectors::connector::RecordSink::records(&mut run, schools_with_renamed_wittingen())
            .await
            .expect("records");
        let failed = run.fail("the source broke off".into()).await;
        assert_eq!(failed.status.as_str(), "failed");
        assert_eq!(revision(&store), start + 1, "{}: a failed run changes nothing", database.backend);

        let partners = ikz_tests::TestConfig::new(&database.url, "").load().partners;
        store.sync_partners(&partners).expect("sync");
        assert_eq!(revision(&store), start + 2, "{}: the partner sync changed the partners", database.backend);
        store.sync_partners(&partners).expect("sync again");
        assert_eq!(revision(&store), start + 2, "{}: nothing to change, nothing raised", database.backend);
    }
}

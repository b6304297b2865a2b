//! The foundation end to end: the shipped demo config serves on SQLite and PostgreSQL; API errors are
//! problem+json. (The CLI's own tests live in services/hub/tests/cli.rs, next to the binary.)

use ikz_tests::{databases, demo_config, spawn_app, TestConfig};

/// The shipped config/ikz-hub.toml with only the database swapped: it starts, imports its demo connectors in the
/// background and answers health, readiness, partners and import runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_config_serves_on_every_backend() {
    for database in databases() {
        let app = spawn_app(demo_config(&database.url)).await;

        assert_eq!(app.get("/healthz").await.status(), 200);
        let ready = app.get_json("/readyz").await;
        assert_eq!(ready["database"], database.backend);

        let partners = app.get_json("/api/v1/partners").await;
        let slugs: Vec<&str> =
            partners["data"].as_array().expect("list").iter().filter_map(|p| p["id"].as_str()).collect();
        assert!(slugs.contains(&"gifhorn") && slugs.contains(&"hankensbuettel"), "{slugs:?}");

        for connector in app.config.connectors.iter().filter(|c| c.run_on_start).map(|c| c.id.clone()) {
            let run = app.wait_for_run(&connector).await;
            assert_eq!(run["status"], "succeeded", "{}: {connector}: {run}", database.backend);
            assert!(run["created"].as_i64().unwrap_or(0) > 0, "{connector} imported nothing: {run}");
        }
    }
}

#[tokio::test]
async fn api_errors_are_problem_json() {
    let database = ikz_store::testing::sqlite();
    let config = TestConfig::new(&database.url, "");
    let app = spawn_app(config.load()).await;
    for (path, status) in [
        ("/api/v1/import-runs/abc", 400),
        ("/api/v1/import-runs/999", 404),
        ("/api/v1/import-runs?limit=100000", 400),
        ("/api/v1/import-runs?cursor=%00%ff", 400),
        ("/api/v1/import-runs?status=broken", 400),
        ("/api/v1/partners?unknown=1", 400),
        ("/api/v1/nothing-here", 404),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap_or("").to_owned();
        assert_eq!(content_type, "application/problem+json", "{path}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().is_some_and(|detail| !detail.is_empty()), "{path}: {body}");
    }
}

//! Conditional GET over every read route of the route table, on SQLite and PostgreSQL: an `ETag` and a short
//! `Cache-Control` on every answer, `If-None-Match` with it (strong, weak, in a list, or `*`) → 304 without a body,
//! another tag → the full answer, and a write → a new tag.

use ikz_connectors::model::EntityKind;
use ikz_tests::seed::{self, CONNECTOR};
use ikz_tests::{databases, write_records, TestApp};

async fn get(app: &TestApp, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if let Some(tag) = if_none_match {
        request = request.header("If-None-Match", tag);
    }
    request.send().await.expect("request")
}

async fn etag(app: &TestApp, path: &str) -> String {
    let response = get(app, path, None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.headers().get("etag").and_then(|tag| tag.to_str().ok()).unwrap_or_else(|| panic!("{path}: no ETag")).into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_answers_304_to_its_etag() {
    for database in databases() {
        let backend = database.backend;
        let seeded = seed::seeded_app(&database.url, "").await;
        let app = &seeded.app;
        let mut checked = 0;
        for route in ikz_api::route_table() {
            if route.method != "GET" || !route.path.starts_with("/api/v1/") || route.path == ikz_api::OPENAPI_PATH {
                continue;
            }
            let mut path = seed::example_path(&route, seeded.runs[0]);
            if path.ends_with(".csv") {
                // The whole list is streamed before its last row is read, so it has no ETag (README.md); a page has.
                let streamed = get(app, &path, None).await;
                assert_eq!(streamed.status(), 200, "{backend}: {path}");
                assert!(streamed.headers().get("etag").is_none(), "{backend}: {path}");
                path.push_str("?limit=1000");
            }
            let first = get(app, &path, None).await;
            assert_eq!(first.status(), 200, "{backend}: {path}");
            let headers = first.headers().clone();
            let tag = headers.get("etag").and_then(|tag| tag.to_str().ok()).unwrap_or_default().to_owned();
            // Strong, except for XLSX: a workbook holds its creation time, so its bytes change while its rows do not.
            let xlsx = path.contains(".xlsx");
            let opaque = if xlsx { tag.strip_prefix("W/").unwrap_or_default() } else { tag.as_str() };
            assert!(
                opaque.len() > 2 && opaque.starts_with('"') && opaque.ends_with('"'),
                "{backend}: {path}: ETag {tag:?}"
            );
            let cache = headers.get("cache-control").and_then(|value| value.to_str().ok()).unwrap_or_default();
            assert!(cache.contains("max-age="), "{backend}: {path}: Cache-Control {cache:?}");
            let body = first.bytes().await.expect("body");

            for candidate in [opaque.to_owned(), format!("W/{opaque}"), format!("\"other\", {tag}"), "*".to_owned()] {
                let again = get(app, &path, Some(&candidate)).await;
                assert_eq!(again.status(), 304, "{backend}: {path} with If-None-Match: {candidate}");
                assert_eq!(again.headers().get("etag").and_then(|t| t.to_str().ok()), Some(tag.as_str()));
                assert!(again.bytes().await.expect("body").is_empty(), "{backend}: {path}: a 304 has no body");
            }
            let other = get(app, &path, Some("\"other\"")).await;
            assert_eq!(other.status(), 200, "{backend}: {path}");
            let again = other.bytes().await.expect("body");
            if !xlsx {
                assert_eq!(again, body, "{backend}: {path}: a strong tag names these very bytes");
            }
            checked += 1;
        }
        assert!(checked > 40, "{backend}: {checked} routes");

        // A write changes the tags of what it changes.
        let runs = format!("/api/v1/connectors/{CONNECTOR}/runs");
        let before =
            [etag(app, "/api/v1/import-runs").await, etag(app, &runs).await, etag(app, "/api/v1/connectors").await];
        write_records(&app.store, CONNECTOR, &[EntityKind::FundingProgram], vec![], false).await;
        let after =
            [etag(app, "/api/v1/import-runs").await, etag(app, &runs).await, etag(app, "/api/v1/connectors").await];
        for (before, after) in before.iter().zip(&after) {
            assert_ne!(before, after, "{backend}: a new run, a new tag");
        }
        let school = "/api/v1/schools/NI-66497";
        let tag = etag(app, school).await;
        let list = etag(app, "/api/v1/schools.xlsx").await;
        let mut renamed = seed::schools().remove(0);
        if let ikz_connectors::model::Record::School(school) = &mut renamed {
            school.name = "Gymnasium Hankensbüttel (umbenannt)".into();
        }
        write_records(&app.store, "schools", &[EntityKind::School], vec![renamed], false).await;
        assert_ne!(etag(app, school).await, tag, "{backend}: {school}");
        assert_ne!(etag(app, "/api/v1/schools.xlsx").await, list, "{backend}: schools.xlsx");
    }
}

//! The OpenAPI document and Swagger UI, and every documented GET route answering on the shipped demo data.

use ikz_tests::{databases, demo_config, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers_on_the_demo_data() {
    for database in databases() {
        let backend = database.backend;
        let app = spawn_app(demo_config(&database.url)).await;
        for connector in app.config.connectors.iter().filter(|c| c.run_on_start).map(|c| c.id.clone()) {
            app.wait_for_run(&connector).await;
        }

        let document = app.get_json("/api/v1/openapi.json").await;
        assert!(
            document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
            "{backend}: {}",
            document["openapi"]
        );
        let paths = document["paths"].as_object().expect("paths");
        for required in ["/api/v1/schools", "/api/v1/schools/{id}", "/api/v1/funding/summary", "/api/v1/papers.csv"] {
            assert!(paths.contains_key(required), "{required} is not documented");
        }
        let docs = app.get("/api/docs/").await;
        assert_eq!(docs.status(), 200, "{backend}: Swagger UI");
        assert!(docs.text().await.expect("html").contains("swagger"), "{backend}");

        // Every documented list (and its exports) answers; the first record of each list answers too.
        let mut non_empty = 0;
        for path in paths.keys().filter(|path| !path.contains('{') && path.starts_with("/api/v1/")) {
            if path.ends_with("/funding/summary") {
                continue;
            }
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{backend}: {path}");
            if path.ends_with(".csv") || path.ends_with(".xlsx") {
                continue;
            }
            let body: serde_json::Value = response.json().await.expect("json");
            if let Some(id) = body["data"][0]["id"]
                .as_str()
                .filter(|_| !path.ends_with("/partners") && !path.ends_with("/connectors"))
            {
                non_empty += 1;
                let record = app.get(&format!("{path}/{id}")).await;
                assert_eq!(record.status(), 200, "{backend}: {path}/{id}");
            }
        }
        assert!(non_empty >= 5, "{backend}: the demo data fills at least five lists, got {non_empty}");
        let programs = app.get_json("/api/v1/funding/programs").await;
        if let Some(program) = programs["data"][0]["id"].as_str() {
            let summary = app.get(&format!("/api/v1/funding/summary?program={program}")).await;
            assert_eq!(summary.status(), 200, "{backend}");
        }
    }
}

/// The route table the app registers its handlers from, checked against the running app and its OpenAPI document:
/// every route answers (no fall-through to the catch-all 404) and is documented with its method, and every
/// documented operation is a registered route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registered_route_is_served_and_documented() {
    let database = ikz_store::testing::sqlite();
    let config = ikz_tests::TestConfig::new(&database.url, "");
    let app = spawn_app(config.load()).await;
    let document = app.get_json(ikz_api::OPENAPI_PATH).await;
    let paths = document["paths"].as_object().expect("paths");

    let routes = ikz_api::route_table();
    assert!(routes.len() > 50, "the table lists every route, got {}", routes.len());
    let mut registered = std::collections::BTreeSet::new();
    for route in &routes {
        registered.insert((route.method.to_ascii_lowercase(), route.path.clone()));
        // Walk the running app: the route exists there (a missing record is a 404 problem, but not the catch-all).
        let url = format!("{}{}", app.address, route.path.replace("{id}", "1"));
        let response = match route.method {
            "POST" => app.client.post(&url).send().await.expect("request"),
            _ => app.client.get(&url).send().await.expect("request"),
        };
        let status = response.status();
        let body = response.text().await.expect("body");
        assert!(
            !(status == 404 && body.contains(ikz_api::NO_SUCH_RESOURCE)),
            "{} {} is in the route table but the app does not serve it",
            route.method,
            route.path
        );
        if route.path == ikz_api::DOCS_PATH {
            continue; // Swagger UI's HTML and assets, not an API operation.
        }
        let item = paths.get(&route.path).unwrap_or_else(|| panic!("{} is not in the OpenAPI document", route.path));
        assert!(
            item.get(route.method.to_ascii_lowercase()).is_some(),
            "{} {} is not in the OpenAPI document",
            route.method,
            route.path
        );
    }
    // And the other way round: nothing is documented that the app does not register.
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys().filter(|key| ["get", "post"].contains(&key.as_str()))
        {
            assert!(
                registered.contains(&(method.clone(), path.clone())),
                "{method} {path} is documented but no route serves it"
            );
        }
    }
}

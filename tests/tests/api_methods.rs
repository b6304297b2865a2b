//! HTTP methods over the whole route table: a method a path does not serve gets a 405 problem with `Allow` (not the
//! catch-all 404), OPTIONS lists the methods, HEAD answers like GET without a body.

use ikz_tests::{spawn_app, TestConfig};
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_answers_unsupported_methods_with_405_and_allow() {
    let database = ikz_store::testing::sqlite();
    let config = TestConfig::new(&database.url, "");
    let app = spawn_app(config.load()).await;

    let mut paths: Vec<(String, Vec<&str>)> = Vec::new();
    for route in ikz_api::route_table().into_iter().filter(|route| route.path != ikz_api::DOCS_PATH) {
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => methods.push(route.method),
            None => paths.push((route.path, vec![route.method])),
        }
    }
    assert!(paths.len() > 40, "{}", paths.len());
    for (path, methods) in &paths {
        let url = format!("{}{}", app.address, path.replace("{id}", "1"));
        let mut expected_allow = vec!["GET", "HEAD"];
        if methods.contains(&"POST") {
            expected_allow.push("POST");
        }
        expected_allow.push("OPTIONS");
        let expected_allow = expected_allow.join(", ");

        for method in [Method::TRACE, Method::PUT, Method::DELETE, Method::PATCH] {
            let response = app.client.request(method.clone(), &url).send().await.expect("request");
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], expected_allow.as_str(), "{method} {path}");
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{method} {path}");
            let problem: serde_json::Value = response.json().await.expect("problem");
            assert_eq!(problem["status"], 405, "{method} {path}: {problem}");
        }
        if !methods.contains(&"POST") {
            let response = app.client.post(&url).send().await.expect("request");
            assert_eq!(response.status(), 405, "POST {path}");
        }

        let options = app.client.request(Method::OPTIONS, &url).send().await.expect("request");
        assert_eq!(options.status(), 204, "OPTIONS {path}");
        assert_eq!(options.headers()["allow"], expected_allow.as_str(), "OPTIONS {path}");

        let get = app.client.get(&url).send().await.expect("request");
        let head = app.client.head(&url).send().await.expect("request");
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "HEAD {path}");
        assert!(head.bytes().await.expect("body").is_empty(), "HEAD {path} sends no body");
    }

    // A path no route serves stays a 404, whatever the method.
    let response = app.client.request(Method::TRACE, format!("{}/api/v1/nothing", app.address)).send().await;
    assert_eq!(response.expect("request").status(), 404);
}

/// The run log's id is a number; anything else is a 400 naming `id`, like every other bad parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_id_that_is_no_number_is_a_400_naming_id() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "").load()).await;
    for id in ["abc", "1.5", "99999999999999999999"] {
        let response = app.get(&format!("/api/v1/import-runs/{id}")).await;
        assert_eq!(response.status(), 400, "{id}");
        let problem: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem["parameter"], "id", "{id}: {problem}");
    }
    assert_eq!(app.get("/api/v1/import-runs/4711").await.status(), 404);
}

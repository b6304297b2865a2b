//! The access matrix over real HTTP: no token / wrong token / read token / admin token, on a read route and on the
//! admin route, with `public_read` off and on. Tokens come from the config through `${VAR:-default}`.

use ikz_tests::{spawn_app, TestApp, TestConfig};

const READ: &str = "read-token-for-tests-0123456789";
const ADMIN: &str = "admin-token-for-tests-0123456789";

async fn app(public_read: bool) -> (TestConfig, TestApp, ikz_store::testing::TestDatabase) {
    let database = ikz_store::testing::sqlite();
    let main = format!(
        "[import]\nrun_on_start = false\n\n[auth]\npublic_read = {public_read}\n\n[[auth.tokens]]\nname = \"dashboard\"\ntoken = \"${{IKZ_TEST_READ_TOKEN:-{READ}}}\"\nscopes = [\"read\"]\n\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"${{IKZ_TEST_ADMIN_TOKEN:-{ADMIN}}}\"\nscopes = [\"admin\"]\n"
    );
    let config = TestConfig::new(&database.url, &main);
    let record = r#"{"entity":"funding_program","id":"digitalpakt-schule-ni","source_key":"dp","source_url":null,"name":"DigitalPakt Schule Niedersachsen","legal_basis":null,"period_start":null,"period_end":null,"deadlines":[],"measures":["2.1"]}"#;
    config.data_file("programme.jsonl", format!("{record}\n").as_bytes());
    config.connector(
        "programme",
        "id = \"programme\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"programme.jsonl\"\n",
    );
    let app = spawn_app(config.load()).await;
    (config, app, database)
}

async fn status(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> (u16, Option<String>) {
    let url = format!("{}{path}", app.address);
    let mut request = match method {
        "POST" => app.client.post(url),
        _ => app.client.get(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let code = response.status().as_u16();
    if code >= 400 {
        let content_type = response.headers()["content-type"].to_str().unwrap_or("").to_owned();
        assert_eq!(content_type, "application/problem+json", "{method} {path}");
        let body: serde_json::Value = response.json().await.expect("problem json");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(!detail.contains(READ) && !detail.contains(ADMIN), "a token leaked into a response");
    }
    (code, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_reads_need_a_token_and_admin_routes_the_admin_scope() {
    let (_config, app, _database) = app(false).await;
    let read = "/api/v1/partners";
    let trigger = "/api/v1/connectors/programme/runs";

    let (code, challenge) = status(&app, "GET", read, None).await;
    assert_eq!(code, 401);
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));
    let (code, challenge) = status(&app, "GET", read, Some("not-a-token")).await;
    assert_eq!(code, 401);
    assert!(challenge.is_some_and(|c| c.contains("invalid_token")));
    assert_eq!(status(&app, "GET", read, Some(READ)).await.0, 200);
    assert_eq!(status(&app, "GET", read, Some(ADMIN)).await.0, 200);
    assert_eq!(status(&app, "GET", "/api/v1/connectors", None).await.0, 401);
    assert_eq!(status(&app, "GET", "/api/v1/connectors", Some(READ)).await.0, 200);
    assert_eq!(status(&app, "GET", "/metrics", None).await.0, 401);
    assert_eq!(status(&app, "GET", "/metrics", Some(READ)).await.0, 200);
    // Liveness and readiness stay open for service managers.
    assert_eq!(status(&app, "GET", "/healthz", None).await.0, 200);
    assert_eq!(status(&app, "GET", "/readyz", None).await.0, 200);

    assert_eq!(status(&app, "POST", trigger, None).await.0, 401);
    assert_eq!(status(&app, "POST", trigger, Some("not-a-token")).await.0, 401);
    let (code, challenge) = status(&app, "POST", trigger, Some(READ)).await;
    assert_eq!(code, 403);
    assert!(challenge.is_some_and(|c| c.contains("insufficient_scope")));
    assert_eq!(status(&app, "POST", trigger, Some(ADMIN)).await.0, 202);
    assert_eq!(status(&app, "POST", "/api/v1/connectors/unknown/runs", Some(ADMIN)).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_read_opens_reads_but_not_admin_routes() {
    let (_config, app, _database) = app(true).await;
    assert_eq!(status(&app, "GET", "/api/v1/partners", None).await.0, 200);
    assert_eq!(status(&app, "GET", "/api/v1/connectors", None).await.0, 200);
    // A token that is sent must be valid, even where none is needed.
    assert_eq!(status(&app, "GET", "/api/v1/partners", Some("not-a-token")).await.0, 401);
    assert_eq!(status(&app, "POST", "/api/v1/connectors/programme/runs", None).await.0, 401);
    assert_eq!(status(&app, "POST", "/api/v1/connectors/programme/runs", Some(READ)).await.0, 403);
    assert_eq!(status(&app, "POST", "/api/v1/connectors/programme/runs", Some(ADMIN)).await.0, 202);
}

/// Rejected records carry raw source values: `/import-runs/{id}` lists them for admin tokens only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_records_are_for_admins() {
    let (config, app, _database) = app(true).await;
    config.data_file("programme.jsonl", b"{kaputt\n");
    let triggered = app
        .client
        .post(format!("{}/api/v1/connectors/programme/runs", app.address))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("trigger");
    assert_eq!(triggered.status(), 202);
    let run = app.wait_for_run("programme").await;
    let path = format!("{}/api/v1/import-runs/{}", app.address, run["id"]);
    let public: serde_json::Value = app.client.get(&path).send().await.expect("get").json().await.expect("json");
    assert_eq!(public["data"]["rejected"], 1, "{public}");
    assert!(public["data"].get("rejected_records").is_none(), "{public}");
    let reader: serde_json::Value =
        app.client.get(&path).bearer_auth(READ).send().await.expect("get").json().await.expect("json");
    assert!(reader["data"].get("rejected_records").is_none());
    let admin: serde_json::Value =
        app.client.get(&path).bearer_auth(ADMIN).send().await.expect("get").json().await.expect("json");
    let rejects = admin["data"]["rejected_records"].as_array().expect("rejects for admins");
    assert_eq!(rejects.len(), 1);
    assert!(rejects[0]["location"].as_str().is_some_and(|location| location.ends_with("programme.jsonl:1")));
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Probes for service managers, and the API description (the OpenAPI document and Swagger UI).
    Open,
    /// A `read` (or `admin`) token, or none where `public_read` is on.
    Read,
    /// An `admin` token.
    Admin,
}

fn access(route: &ikz_api::RouteEntry) -> Access {
    match (route.method, route.path.as_str()) {
        ("GET", "/healthz" | "/readyz" | ikz_api::OPENAPI_PATH | ikz_api::DOCS_PATH) => Access::Open,
        ("GET", _) => Access::Read,
        _ => Access::Admin,
    }
}

/// The access matrix over the whole route table, on the seeded data (every `{id}` names a record): `public_read`
/// off and on × no token / an unknown token / a read token / an admin token. Refusals are problem+json with a
/// `WWW-Authenticate` challenge; allowed requests are served (200, a trigger 202 or 409 when the connector runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_follows_the_access_matrix() {
    let routes = ikz_api::route_table();
    assert!(routes.len() > 50, "{}", routes.len());
    for database in ikz_tests::databases() {
        let backend = database.backend;
        for public_read in [false, true] {
            let tokens = format!(
                "[auth]\npublic_read = {public_read}\n\n[[auth.tokens]]\nname = \"dashboard\"\ntoken = \"{READ}\"\nscopes = [\"read\"]\n\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"{ADMIN}\"\nscopes = [\"admin\"]\n"
            );
            let seeded = ikz_tests::seed::seeded_app(&database.url, &tokens).await;
            let app = &seeded.app;
            for route in &routes {
                let path = ikz_tests::seed::example_path(route, seeded.runs[0]);
                for token in [None, Some("not-a-token"), Some(READ), Some(ADMIN)] {
                    let context =
                        format!("{backend}, public_read = {public_read}: {} {path} with {token:?}", route.method);
                    let (code, challenge) = status(app, route.method, &path, token).await;
                    let expected: &[u16] = match (access(route), token) {
                        (Access::Open, _) => &[200],
                        (_, Some("not-a-token")) => &[401],
                        (Access::Read, None) if !public_read => &[401],
                        (Access::Read, _) => &[200],
                        (Access::Admin, None) => &[401],
                        (Access::Admin, Some(READ)) => &[403],
                        (Access::Admin, _) => &[202, 409],
                    };
                    assert!(expected.contains(&code), "{context}: {code}, expected {expected:?}");
                    match code {
                        401 => assert!(challenge.is_some_and(|c| c.starts_with("Bearer")), "{context}"),
                        403 => assert!(challenge.is_some_and(|c| c.contains("insufficient_scope")), "{context}"),
                        _ => {}
                    }
                }
            }
        }
    }
}

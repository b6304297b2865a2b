//! CORS for configured origins and the request limits, over real HTTP: preflights and reads from allowed and other
//! origins; 414 for a long URL, 413 for a large body (declared or streamed), 415 for a body of another type, 400 for
//! a body that is not the empty object, 503 for a request past the time limit, 408 for a client that does not finish
//! its request head. Every refusal is `application/problem+json`.

use std::time::Duration;

use ikz_tests::{databases, spawn_app, TestApp, TestConfig};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ALLOWED: &str = "https://schulen.example.de";
const ADMIN: &str = "admin-token-for-limit-tests-0123456789";

async fn problem(response: reqwest::Response, status: u16, what: &str) -> serde_json::Value {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(response.headers()["content-type"], "application/problem+json", "{what}");
    let body: serde_json::Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status, "{what}: {body}");
    body
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|value| value.to_str().ok())
}

fn with_cors(database_url: &str) -> TestConfig {
    let extra = format!(
        "[server]\ncors_origins = [\"{ALLOWED}\", \"http://localhost:3000\"]\n\n[auth]\npublic_read = false\n\n\
         [[auth.tokens]]\nname = \"ops\"\ntoken = \"{ADMIN}\"\nscopes = [\"read\", \"admin\"]\n"
    );
    TestConfig::new(database_url, &extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_configured_origins_only() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(with_cors(&database.url).load()).await;
    let url = format!("{}/api/v1/schools", app.address);

    // A preflight from an allowed origin needs no token and allows GET with the Authorization header.
    let preflight = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", ALLOWED)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization, if-none-match")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some(ALLOWED));
    let methods = header(&preflight, "access-control-allow-methods").expect("allow-methods").to_ascii_uppercase();
    assert!(methods.contains("GET") && methods.contains("POST"), "{methods}");
    let headers = header(&preflight, "access-control-allow-headers").expect("allow-headers").to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("if-none-match"), "{headers}");
    assert!(header(&preflight, "access-control-max-age").is_some());

    // The read itself: the origin is echoed and the headers clients need are exposed.
    let read = app.client.get(&url).header("Origin", ALLOWED).bearer_auth(ADMIN).send().await.expect("get");
    assert_eq!(read.status(), 200);
    assert_eq!(header(&read, "access-control-allow-origin"), Some(ALLOWED));
    let exposed = header(&read, "access-control-expose-headers").expect("expose").to_ascii_lowercase();
    for name in ["etag", "link", "location", "content-disposition"] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed}");
    }
    assert!(header(&read, "vary").is_some_and(|vary| vary.to_ascii_lowercase().contains("origin")));

    // Errors carry the CORS headers too, so a page can read the problem.
    let unauthorised = app.client.get(&url).header("Origin", "http://localhost:3000").send().await.expect("get");
    assert_eq!(header(&unauthorised, "access-control-allow-origin"), Some("http://localhost:3000"));
    problem(unauthorised, 401, "no token").await;

    // Another origin: served (curl and servers send no Origin either), but without Access-Control-Allow-Origin.
    for origin in ["https://evil.example.com", "https://schulen.example.de.evil.example.com", "null"] {
        let read = app.client.get(&url).header("Origin", origin).bearer_auth(ADMIN).send().await.expect("get");
        assert_eq!(read.status(), 200, "{origin}");
        assert_eq!(header(&read, "access-control-allow-origin"), None, "{origin}");
        let preflight = app
            .client
            .request(Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .expect("preflight");
        assert_eq!(header(&preflight, "access-control-allow-origin"), None, "{origin}");
        problem(preflight, 400, origin).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cors_origins_no_cors_headers_are_sent() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "").load()).await;
    let url = format!("{}/api/v1/schools", app.address);
    let read = app.client.get(&url).header("Origin", ALLOWED).send().await.expect("get");
    assert_eq!(read.status(), 200);
    assert!(read.headers().keys().all(|name| !name.as_str().starts_with("access-control-")), "{:?}", read.headers());
    let preflight = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", ALLOWED)
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), 204, "a plain OPTIONS answer");
    assert!(preflight.headers().keys().all(|name| !name.as_str().starts_with("access-control-")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_url_is_a_414() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "").load()).await;
    // The default limit is 8 KiB.
    let long = format!("/api/v1/schools?q={}", "a".repeat(9000));
    let body = problem(app.get(&long).await, 414, "9000 bytes").await;
    assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("8192")), "{body}");
    // Under the limit the request reaches its handler (which refuses a `q` this long itself).
    let shorter = format!("/api/v1/schools?q={}", "a".repeat(8000));
    problem(app.get(&shorter).await, 400, "8000 bytes").await;

    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "[server]\nmax_url_bytes = 1024\n").load()).await;
    let path = |length: usize| format!("/api/v1/schools?partner={}", "p".repeat(length - 24));
    assert_eq!(path(1024).len(), 1024);
    assert_eq!(app.get(&path(1024)).await.status(), 200);
    problem(app.get(&path(1025)).await, 414, "1025 bytes").await;
    problem(app.get(&format!("/healthz?{}", "x".repeat(1100))).await, 414, "outside /api/v1 too").await;
}

async fn app_with_connector(database_url: &str, server: &str) -> TestApp {
    let extra = format!(
        "{server}\n[import]\nrun_on_start = false\n\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"{ADMIN}\"\nscopes = [\"admin\"]\n"
    );
    let config = TestConfig::new(database_url, &extra);
    config.data_file("empty.jsonl", b"");
    config.connector("leer", "id = \"leer\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"empty.jsonl\"\n");
    spawn_app(config.load()).await
}

/// Sends a request with a chunked body over a raw connection; returns the status line and the rest.
async fn chunked_post(app: &TestApp, path: &str, content_type: &str, chunks: &[&[u8]]) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in chunks {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.expect("size");
        stream.write_all(chunk).await.expect("chunk");
        stream.write_all(b"\r\n").await.expect("end of chunk");
    }
    stream.write_all(b"0\r\n\r\n").await.expect("last chunk");
    let mut answer = Vec::new();
    // The server may close before reading everything; what it answered is what counts.
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_trigger_takes_at_most_an_empty_json_object() {
    for database in databases() {
        let backend = database.backend;
        let app = app_with_connector(&database.url, "[server]\nmax_body_bytes = 64\n").await;
        let url = format!("{}/api/v1/connectors/leer/runs", app.address);
        let post = |body: Vec<u8>, content_type: &'static str| {
            app.client.post(&url).bearer_auth(ADMIN).header("Content-Type", content_type).body(body).send()
        };

        // Too large, declared by Content-Length.
        let large = format!("{{\"note\": \"{}\"}}", "x".repeat(100)).into_bytes();
        let body = problem(post(large, "application/json").await.expect("post"), 413, backend).await;
        assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("64 bytes")), "{body}");
        // Too large, streamed in chunks without a declared length.
        let answer =
            chunked_post(&app, "/api/v1/connectors/leer/runs", "application/json", &[&[b' '; 40], &[b' '; 40]]).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{backend}: {answer}");
        assert!(answer.contains("application/problem+json"), "{backend}: {answer}");

        // Another type.
        for content_type in ["text/plain", "application/xml", "application/x-www-form-urlencoded"] {
            let response = post(b"run=1".to_vec(), content_type).await.expect("post");
            let body = problem(response, 415, content_type).await;
            assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("application/json")), "{body}");
        }
        let answer = chunked_post(&app, "/api/v1/connectors/leer/runs", "text/csv", &[b"a;b"]).await;
        assert!(answer.starts_with("HTTP/1.1 415"), "{backend}: {answer}");

        // JSON that is not the empty object.
        for body in [&b"[1]"[..], b"{\"full\": true}", b"{\"", b"null"] {
            let response = post(body.to_vec(), "application/json").await.expect("post");
            let problem = problem(response, 400, backend).await;
            assert_eq!(problem["parameter"], "body", "{problem}");
        }

        // No body, an empty body with any type, and `{}` start a run.
        let none = app.client.post(&url).bearer_auth(ADMIN).send().await.expect("post");
        assert_eq!(none.status(), 202, "{backend}: no body");
        app.wait_for_run("leer").await;
        let empty = post(Vec::new(), "text/plain").await.expect("post");
        assert_eq!(empty.status(), 202, "{backend}: empty body");
        app.wait_for_run("leer").await;
        let object = post(b" { } ".to_vec(), "application/json; charset=utf-8").await.expect("post");
        assert_eq!(object.status(), 202, "{backend}: {{}}");
        app.wait_for_run("leer").await;
        let runs = app.get_json("/api/v1/connectors/leer/runs").await;
        assert_eq!(runs["data"].as_array().map(Vec::len), Some(3), "{backend}: {runs}");

        // The body limit is checked after the token: without one, a 401 whatever the body.
        let anonymous = app.client.post(&url).header("Content-Type", "text/plain").body("x").send().await;
        problem(anonymous.expect("post"), 401, backend).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_time_limit_is_a_503() {
    for database in databases() {
        let backend = database.backend;
        let app = app_with_connector(&database.url, "[server]\nrequest_timeout = \"1s\"\n").await;
        assert_eq!(app.get("/api/v1/schools").await.status(), 200, "{backend}");
        // Hold every pooled connection (the test config's pool has 4): a read now waits for the database longer than
        // the time limit (the pool itself would give up only after 10 s).
        let store = app.store.clone();
        let held = tokio::task::spawn_blocking(move || {
            (0..4).map(|_| store.connection().expect("a pooled connection")).collect::<Vec<_>>()
        })
        .await
        .expect("hold the pool");
        let body = problem(app.get("/api/v1/schools").await, 503, backend).await;
        assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("time limit of 1 s")), "{body}");
        // Requests that need no database are not held up.
        assert_eq!(app.get("/healthz").await.status(), 200, "{backend}");
        drop(held);
        assert_eq!(app.get("/api/v1/schools").await.status(), 200, "{backend}: served again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_finish_its_request_is_cut_off() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "[server]\nclient_request_timeout = \"1s\"\n").load()).await;
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    // Half a request head, then nothing: the server answers 408 and closes the connection.
    stream.write_all(b"GET /api/v1/schools HTTP/1.1\r\nHost: ikz\r\n").await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// Every operation declares the 414 (the URL check runs before routing), and the one route with a body its 413
/// and 415 and the body it takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_are_declared_in_the_openapi_document() {
    let database = ikz_store::testing::sqlite();
    let app = spawn_app(TestConfig::new(&database.url, "").load()).await;
    let document = app.get_json(ikz_api::OPENAPI_PATH).await;
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("414"), "{method} {path} does not declare 414");
            let takes_body = operation.get("requestBody").is_some();
            assert_eq!(takes_body, method == "post", "{method} {path}");
            for status in ["413", "415"] {
                assert_eq!(responses.contains_key(status), takes_body, "{method} {path}: {status}");
            }
            operations += 1;
        }
    }
    assert!(operations > 50, "{operations}");
    let trigger = &document["paths"]["/api/v1/connectors/{id}/runs"]["post"];
    let body = &trigger["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["type"], "object", "{trigger}");
    assert_eq!(body["additionalProperties"], false, "{trigger}");
}

//! The OpenAPI document cannot drift from the server: every JSON operation is called on the shipped demo data (on
//! SQLite and PostgreSQL) and its answer is checked against the operation's response schema — each object has
//! exactly the properties its schema lists, each value the declared type — and every component schema must have
//! met at least one real object.

use std::collections::BTreeSet;

use ikz_connectors::{RecordSink, Rejection, RunOutcome};
use ikz_hub::configuration::TokenSettings;
use ikz_store::runs::RunRequest;
use ikz_store::{Guards, Trigger};
use ikz_tests::{databases, repo_root, spawn_app, TestApp};
use serde_json::Value;

const ADMIN: &str = "admin-token-for-schema-tests-0123456789";

/// Checks `value` against `schema`, resolving references in `document`; records the components it met objects of.
struct Checker<'a> {
    document: &'a Value,
    met: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    fn resolve(&self, schema: &'a Value) -> (&'a Value, Option<String>) {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(target) => {
                let name = target.trim_start_matches("#/components/schemas/").to_owned();
                let resolved = &self.document["components"]["schemas"][&name];
                assert!(resolved.is_object(), "{target} is not in the document");
                (resolved, Some(name))
            }
            None => (schema, None),
        }
    }

    /// Why `value` does not fit `schema`, if it does not.
    fn check(&mut self, value: &Value, schema: &'a Value, at: &str) -> Result<(), String> {
        let (schema, component) = self.resolve(schema);
        if let Some(branches) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            let mut reasons = Vec::new();
            for branch in branches {
                match self.check(value, branch, at) {
                    Ok(()) => return Ok(()),
                    Err(reason) => reasons.push(reason),
                }
            }
            return Err(format!("{at}: no branch fits: {}", reasons.join(" / ")));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = types.is_empty() || types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !fits {
            return Err(format!("{at}: {actual} where the schema says {types:?}"));
        }
        match value {
            Value::Object(object) => {
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    let declared: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
                    let served: BTreeSet<&str> = object.keys().map(String::as_str).collect();
                    if declared != served {
                        let missing: Vec<_> = declared.difference(&served).collect();
                        let undeclared: Vec<_> = served.difference(&declared).collect();
                        return Err(format!("{at}: keys differ; not served {missing:?}, not declared {undeclared:?}"));
                    }
                    for (key, property) in properties {
                        self.check(&object[key], property, &format!("{at}.{key}"))?;
                    }
                }
                if let Some(name) = component {
                    self.met.insert(name);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.check(item, &schema["items"], &format!("{at}[{index}]"))?;
                }
            }
            Value::String(text) => {
                let ok = match schema["format"].as_str() {
                    Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                    Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                    _ => true,
                };
                if !ok {
                    return Err(format!("{at}: `{text}` is not a {}", schema["format"]));
                }
                if let Some(values) = schema["enum"].as_array() {
                    if !values.contains(value) {
                        return Err(format!("{at}: `{text}` is not one of {values:?}"));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The demo config on `database_url`, with an admin token (run details then carry their rejected records).
async fn demo_app(database_url: &str) -> TestApp {
    let mut config =
        ikz_hub::configuration::load(&repo_root().join("config/ikz-hub.toml")).expect("the demo config is valid");
    config.database.url = database_url.to_owned();
    config.auth.tokens.push(TokenSettings {
        name: "schema-test".into(),
        token: ADMIN.into(),
        scopes: vec!["admin".into()],
    });
    let app = spawn_app(config).await;
    for connector in app.config.connectors.iter().filter(|c| c.run_on_start).map(|c| c.id.clone()) {
        app.wait_for_run(&connector).await;
    }
    app
}

/// A run with a rejected record, so that the run detail's `rejected_records` hold one.
async fn run_with_a_reject(app: &TestApp) -> i64 {
    let request = RunRequest {
        connector: "schema-test".into(),
        trigger: Trigger::Manual,
        entities: Vec::new(),
        guards: Guards { max_reject_ratio: 1.0, max_tombstone_share: 1.0 },
    };
    let mut run = app.store.begin_run(request).await.expect("begin run");
    let id = run.id();
    let rejection = Rejection {
        location: "schulen.xlsx:Tabelle1:7".into(),
        field: Some("school_number".into()),
        value: Some("66 497".into()),
        message: "not a school number".into(),
    };
    run.reject(rejection).await.expect("reject");
    let summary = run.finish(RunOutcome::default()).await;
    assert!(summary.error.is_none(), "{summary:?}");
    id
}

async fn fetch(app: &TestApp, path: &str) -> Value {
    let response = app.client.get(format!("{}{path}", app.address)).bearer_auth(ADMIN).send().await.expect("get");
    assert_eq!(response.status(), 200, "GET {path}");
    let content_type = response.headers()["content-type"].to_str().expect("content type").to_owned();
    assert!(content_type.starts_with("application/json"), "GET {path}: {content_type}");
    response.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_exactly_the_fields_of_its_schema() {
    for database in databases() {
        let backend = database.backend;
        let app = demo_app(&database.url).await;
        let run_id = run_with_a_reject(&app).await;
        let document = fetch(&app, ikz_api::OPENAPI_PATH).await;
        let mut checker = Checker { document: &document, met: BTreeSet::new() };
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().expect("paths") {
            let Some(operation) = item.get("get") else { continue };
            let Some(schema) = operation["responses"]["200"]["content"]["application/json"].get("schema") else {
                continue; // CSV, XLSX, Prometheus text
            };
            if path == ikz_api::OPENAPI_PATH {
                continue;
            }
            // Real ids: the first record of the list, the first connector, the run with a reject.
            let url = if path == "/api/v1/import-runs/{id}" {
                format!("/api/v1/import-runs/{run_id}")
            } else if path == "/api/v1/connectors/{id}/runs" {
                let connectors = fetch(&app, "/api/v1/connectors").await;
                let id = connectors["data"][0]["id"].as_str().expect("a connector").to_owned();
                format!("/api/v1/connectors/{id}/runs")
            } else if let Some(list) = path.strip_suffix("/{id}") {
                let rows = fetch(&app, list).await;
                let id = rows["data"][0]["id"].as_str().unwrap_or_else(|| panic!("{backend}: {list} is empty"));
                format!("{list}/{id}")
            } else if path == "/api/v1/funding/summary" {
                let programs = fetch(&app, "/api/v1/funding/programs").await;
                let id = programs["data"][0]["id"].as_str().expect("a program").to_owned();
                format!("{path}?program={id}")
            } else if path.starts_with("/api/v1/")
                && !["/api/v1/partners", "/api/v1/connectors"].contains(&path.as_str())
            {
                format!("{path}?limit=1000")
            } else {
                path.clone()
            };
            let body = fetch(&app, &url).await;
            if let Err(reason) = checker.check(&body, schema, "") {
                panic!("{backend}: GET {url} does not fit its schema: {reason}");
            }
            if let Some(rows) = body["data"].as_array() {
                assert!(!rows.is_empty(), "{backend}: GET {url} has no rows to check");
            }
            checked += 1;
        }
        assert!(checked >= 30, "{backend}: {checked} operations checked");
        // The one POST: a run trigger's answer.
        let connector = app.config.connectors[0].id.clone();
        let url = format!("{}/api/v1/connectors/{connector}/runs", app.address);
        let response = app.client.post(url).bearer_auth(ADMIN).send().await.expect("post");
        assert_eq!(response.status(), 202, "{backend}");
        let body: Value = response.json().await.expect("json");
        let schema = &document["paths"]["/api/v1/connectors/{id}/runs"]["post"]["responses"]["202"]["content"]
            ["application/json"]["schema"];
        if let Err(reason) = checker.check(&body, schema, "") {
            panic!("{backend}: the trigger's answer does not fit its schema: {reason}");
        }
        app.wait_for_run(&connector).await;
        // Every component met a real object (a schema nothing serves would be unchecked).
        let components: BTreeSet<String> =
            document["components"]["schemas"].as_object().expect("components").keys().cloned().collect();
        let unmet: Vec<_> = components.difference(&checker.met).collect();
        assert!(unmet.is_empty(), "{backend}: no response had an object of {unmet:?}");
    }
}

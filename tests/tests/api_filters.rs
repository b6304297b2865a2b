//! Every documented query parameter of every list, on SQLite and PostgreSQL, over real HTTP:
//! - each filter selects exactly the seeded rows it should (JSON, and the CSV export of the same query);
//! - each parameter with a bad value answers a 400 problem naming it (`parameter`), and so does a bad path id.
//!
//! The parameters come from the served OpenAPI document and the lists from [`ikz_api::route_table`]: a new list or
//! filter fails here until it has a case.

use std::collections::{BTreeMap, BTreeSet};

use ikz_store::runs::RunRequest;
use ikz_store::{Guards, Trigger};
use ikz_tests::seed::{self, SeededApp, CONNECTOR, OTHER_PROGRAM};
use ikz_tests::{databases, TestApp};
use serde_json::Value;

/// The paging parameters every list shares; tested in api_lists.rs, api_paging.rs and below (bad values).
const PAGING: &[&str] = &["limit", "cursor", "sort", "modified_since"];

/// A filter query and the rows it must select: ids, or for the run lists `connector:status`, or for the funding
/// summary the partners.
struct Case {
    path: &'static str,
    query: &'static str,
    expected: &'static [&'static str],
}

const fn case(path: &'static str, query: &'static str, expected: &'static [&'static str]) -> Case {
    Case { path, query, expected }
}

const CASES: &[Case] = &[
    case("/api/v1/partners", "include_deleted=false", &["gifhorn", "hankensbuettel"]),
    case("/api/v1/partners", "include_deleted=true", &["gifhorn", "hankensbuettel", "wittingen"]),
    case("/api/v1/import-runs", "connector=schools", &["schools:succeeded"]),
    case("/api/v1/import-runs", "status=failed", &["leer:failed"]),
    case("/api/v1/import-runs", "connector=leer&status=succeeded", &["leer:succeeded"]),
    case("/api/v1/connectors/{id}/runs", "status=failed", &["leer:failed"]),
    case("/api/v1/connectors/{id}/runs", "status=succeeded", &["leer:succeeded"]),
    case("/api/v1/funding/summary", "program=startchancen", &["gifhorn"]),
    case("/api/v1/funding/summary", "program=digitalpakt-schule-ni", &["gifhorn", "hankensbuettel"]),
    case("/api/v1/organizations", "partner=gifhorn", &["org-kreistag"]),
    case("/api/v1/organizations", "kind=committee", &["org-schule"]),
    case("/api/v1/organizations", "kind=council&partner=hankensbuettel", &["org-rat"]),
    case("/api/v1/organizations", "q=schulausschuss", &["org-schule"]),
    case("/api/v1/organizations", "q=Hankensbuettel", &["org-rat"]),
    case("/api/v1/meetings", "partner=gifhorn", &["sitzung-3"]),
    case("/api/v1/meetings", "organization=org-schule", &["sitzung-2"]),
    case("/api/v1/meetings", "organization=org-rat", &["sitzung-1", "sitzung-2"]),
    case("/api/v1/meetings", "from=2020-01-01", &["sitzung-2"]),
    case("/api/v1/meetings", "to=2019-12-12", &["sitzung-1"]),
    case("/api/v1/meetings", "from=2019-12-12&to=2020-02-03", &["sitzung-1", "sitzung-2"]),
    case("/api/v1/meetings", "cancelled=true", &["sitzung-2"]),
    case("/api/v1/meetings", "cancelled=false", &["sitzung-1", "sitzung-3"]),
    case("/api/v1/meetings", "q=grosser%20saal", &["sitzung-1"]),
    case("/api/v1/agenda-items", "partner=gifhorn", &["top-4"]),
    case("/api/v1/agenda-items", "meeting=sitzung-1", &["top-1", "top-2"]),
    case("/api/v1/agenda-items", "paper=vorlage-1", &["top-2"]),
    case("/api/v1/agenda-items", "public=false", &["top-3"]),
    case("/api/v1/agenda-items", "public=true&partner=hankensbuettel", &["top-1", "top-2"]),
    case("/api/v1/agenda-items", "q=EROEFFNUNG", &["top-1"]),
    case("/api/v1/papers", "partner=gifhorn", &["vorlage-3"]),
    case("/api/v1/papers", "paper_type=Mitteilungsvorlage", &["vorlage-2"]),
    case("/api/v1/papers", "reference=SG/256/19", &["vorlage-1"]),
    case("/api/v1/papers", "from=2020-01-01", &["vorlage-2"]),
    case("/api/v1/papers", "to=2019-11-27", &["vorlage-1"]),
    case("/api/v1/papers", "q=schultr%C3%A4ger", &["vorlage-1"]),
    case("/api/v1/decisions", "partner=gifhorn", &["beratung-3"]),
    case("/api/v1/decisions", "paper=vorlage-2", &["beratung-2"]),
    case("/api/v1/decisions", "organization=org-rat", &["beratung-1"]),
    case("/api/v1/decisions", "meeting=sitzung-2", &["beratung-2"]),
    case("/api/v1/decisions", "result=rejected", &["beratung-2"]),
    case("/api/v1/decisions", "result=pending", &["beratung-3"]),
    case("/api/v1/decisions", "authoritative=true", &["beratung-1"]),
    case("/api/v1/decisions", "authoritative=false", &["beratung-2"]),
    case("/api/v1/decisions", "from=2020-01-01", &["beratung-2"]),
    case("/api/v1/decisions", "to=2019-12-31", &["beratung-1"]),
    case("/api/v1/decisions", "q=vorberatung", &["beratung-2"]),
    case("/api/v1/files", "partner=gifhorn", &["datei-3"]),
    case("/api/v1/files", "owner_kind=meeting", &["datei-2"]),
    case("/api/v1/files", "owner=vorlage-1", &["datei-1"]),
    case("/api/v1/files", "owner_kind=agenda_item&owner=top-4", &["datei-3"]),
    case("/api/v1/files", "q=einladung", &["datei-2"]),
    case("/api/v1/schools", "partner=hankensbuettel", &["NI-10003", "NI-66497"]),
    case("/api/v1/schools", "school_type=grundschule", &["NI-10001", "NI-10003", "NI-10006"]),
    case("/api/v1/schools", "school_type=hauptschule", &["NI-10002"]),
    case("/api/v1/schools", "school_number=10005", &["NI-10005"]),
    case("/api/v1/schools", "postcode=38518", &["NI-10004", "NI-10005"]),
    case("/api/v1/schools", "q=schlosspark", &["NI-10004"]),
    case("/api/v1/schools", "q=gifhorn&school_type=realschule", &["NI-10005"]),
    case("/api/v1/media-concepts", "school=NI-10001", &["mbk-10001"]),
    case("/api/v1/media-concepts", "partner=hankensbuettel", &["mbk-10003", "mbk-66497"]),
    case("/api/v1/media-concepts", "status=submitted", &["mbk-10003"]),
    case("/api/v1/equipment", "school=NI-10002", &["equip-10002-display"]),
    case("/api/v1/equipment", "partner=hankensbuettel", &["equip-66497-tablet", "equip-66497-wlan"]),
    case("/api/v1/equipment", "category=tablet", &["equip-66497-tablet"]),
    case("/api/v1/funding/programs", "q=digitalpakt", &["digitalpakt-schule-ni"]),
    case("/api/v1/funding/programs", "q=richtlinie%2008", &["digitalpakt-schule-ni"]),
    case("/api/v1/funding/programs", "q=startchancen", &["startchancen"]),
    case("/api/v1/funding/budgets", "program=startchancen", &["budget-sc"]),
    case("/api/v1/funding/budgets", "partner=hankensbuettel", &["budget-hk"]),
    case("/api/v1/funding/budgets", "school=NI-10001", &["budget-sc"]),
    case("/api/v1/funding/applications", "program=startchancen", &["appl-4"]),
    case("/api/v1/funding/applications", "partner=gifhorn", &["appl-4"]),
    case("/api/v1/funding/applications", "school=NI-66497", &["appl-1", "appl-3"]),
    case("/api/v1/funding/applications", "school=NI-10002", &["appl-4"]),
    case("/api/v1/funding/applications", "status=withdrawn", &["appl-3"]),
    case("/api/v1/funding/applications", "measure=2.2", &["appl-2", "appl-3"]),
    case("/api/v1/funding/applications", "from=2020-06-15", &["appl-2", "appl-3"]),
    case("/api/v1/funding/applications", "to=2020-06-15", &["appl-1", "appl-2"]),
    case("/api/v1/funding/applications", "q=tablets", &["appl-3"]),
];

/// The GET routes that list something (no `/{id}` record, no export suffix, not the documents).
fn list_routes() -> Vec<String> {
    ikz_api::route_table()
        .into_iter()
        .filter(|route| route.method == "GET" && route.path.starts_with("/api/v1/"))
        .filter(|route| route.path != ikz_api::OPENAPI_PATH)
        .filter(|route| {
            !route.path.ends_with("/{id}") && !route.path.ends_with(".csv") && !route.path.ends_with(".xlsx")
        })
        .map(|route| route.path)
        .collect()
}

/// The query parameters the OpenAPI document gives the GET operation of `path`.
fn documented(document: &Value, path: &str) -> Vec<(String, Value)> {
    let operation = &document["paths"][path]["get"];
    assert!(operation.is_object(), "{path} is not documented");
    operation["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .filter(|parameter| parameter["in"] == "query")
                .filter_map(|parameter| Some((parameter["name"].as_str()?.to_owned(), parameter["schema"].clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn names(query: &str) -> BTreeSet<String> {
    query.split('&').filter_map(|pair| pair.split('=').next()).map(str::to_owned).collect()
}

/// What a response selected: see [`Case`].
fn selected(path: &str, body: &Value) -> BTreeSet<String> {
    if path.ends_with("/funding/summary") {
        let partners = body["data"]["partners"].as_array().expect("partners");
        return partners.iter().filter_map(|partner| partner["partner"].as_str().map(str::to_owned)).collect();
    }
    let rows = body["data"].as_array().unwrap_or_else(|| panic!("{path}: {body}"));
    rows.iter()
        .map(|row| match row["id"].as_str() {
            Some(id) if !path.contains("runs") => id.to_owned(),
            _ => format!("{}:{}", row["connector"].as_str().unwrap_or("?"), row["status"].as_str().unwrap_or("?")),
        })
        .collect()
}

/// The ids of a CSV export (column `id`), read with a real CSV parser.
fn csv_ids(bytes: &[u8]) -> BTreeSet<String> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(text);
    let headers = reader.headers().expect("header").clone();
    let column = headers.iter().position(|name| name == "id");
    reader
        .records()
        .map(|record| {
            let record = record.expect("CSV row");
            column.and_then(|at| record.get(at)).expect("id cell").to_owned()
        })
        .collect()
}

/// The seed plus: a partner removed from the config, and a succeeded and a failed run of the configured connector.
async fn app(database_url: &str) -> SeededApp {
    let extra = "[[partners]]\nslug = \"wittingen\"\nname = \"Stadt Wittingen\"\nkind = \"stadt\"\n";
    let seeded = seed::seeded_app(database_url, extra).await;
    let store = &seeded.app.store;
    let kept: Vec<_> = seeded.app.config.partners.iter().filter(|p| p.slug != "wittingen").cloned().collect();
    store.sync_partners(&kept).expect("remove a partner");
    ikz_tests::write_records(store, CONNECTOR, &[ikz_connectors::model::EntityKind::FundingProgram], vec![], false)
        .await;
    let request = RunRequest {
        connector: CONNECTOR.into(),
        trigger: Trigger::Manual,
        entities: vec![ikz_connectors::model::EntityKind::FundingProgram],
        guards: Guards::default(),
    };
    let run = store.begin_run(request).await.expect("begin run");
    let failed = run.fail("the source was unreachable".into()).await;
    assert_eq!(failed.status, ikz_store::RunStatus::Failed);
    seeded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_filter_selects_its_rows() {
    for database in databases() {
        let backend = database.backend;
        let SeededApp { app, .. } = app(&database.url).await;
        // Every documented filter of every list has a case, and every case uses documented parameters only.
        let document = app.get_json(ikz_api::OPENAPI_PATH).await;
        let mut missing = Vec::new();
        for path in list_routes() {
            let parameters: BTreeSet<String> = documented(&document, &path).into_iter().map(|(name, _)| name).collect();
            let cases: Vec<&Case> = CASES.iter().filter(|case| case.path == path).collect();
            for case in &cases {
                let unknown: Vec<String> = names(case.query).difference(&parameters).cloned().collect();
                assert!(unknown.is_empty(), "{path}?{}: {unknown:?} are not documented", case.query);
            }
            for parameter in parameters.iter().filter(|name| !PAGING.contains(&name.as_str())) {
                if !cases.iter().any(|case| names(case.query).contains(parameter)) {
                    missing.push(format!("{path}?{parameter}="));
                }
            }
        }
        assert!(missing.is_empty(), "filters without a case in CASES: {missing:?}");

        for case in CASES {
            let path = case.path.replace("{id}", CONNECTOR);
            let query = format!("{path}?{}", case.query);
            let body = app.get_json(&query).await;
            let expected: BTreeSet<String> = case.expected.iter().map(|id| id.to_string()).collect();
            assert_eq!(selected(&path, &body), expected, "{backend}: {query}");
            // The exports apply the same filters (streamed CSV of the whole list).
            if ikz_api::route_table().iter().any(|route| route.path == format!("{path}.csv")) {
                let response = app.get(&format!("{path}.csv?{}", case.query)).await;
                assert_eq!(response.status(), 200, "{backend}: {path}.csv?{}", case.query);
                let ids = csv_ids(&response.bytes().await.expect("csv"));
                assert_eq!(ids, expected, "{backend}: {path}.csv?{}", case.query);
            }
        }
        // Filters combine with `q` and `modified_since`; a filter that matches nothing is an empty list, not a 404.
        let none = app.get_json("/api/v1/schools?partner=gifhorn&q=hankensbuettel").await;
        assert_eq!(none["data"], Value::Array(vec![]), "{backend}");
        let since =
            app.get_json(&format!("/api/v1/funding/budgets?program={OTHER_PROGRAM}&modified_since=2000-01-01")).await;
        assert_eq!(selected("/api/v1/funding/budgets", &since), BTreeSet::from(["budget-sc".to_owned()]), "{backend}");
    }
}

/// Bad values for a parameter, by its name or its documented type. A parameter in none of the classes fails the test:
/// decide what a bad value of it is.
fn bad_values(name: &str, schema: &Value) -> Vec<String> {
    // Any parameter: empty, a control character, bytes that are not UTF-8, given twice.
    let mut values: Vec<String> = vec!["".into(), "%00".into(), "%ff%fe".into()];
    let typed: &[&str] = match name {
        "limit" => &["0", "1001", "-1", "x", "1e3"],
        "cursor" => &["zz", "%21", "7b7d"],
        "sort" => &["nope", "-", "name;drop"],
        "modified_since" => &["gestern", "2020-13-01"],
        "from" | "to" => &["2020-13-01", "01.02.2020"],
        "kind" | "result" | "status" | "school_type" | "owner_kind" => &["castle"],
        // A `q` without a letter or digit (`%%%`, `-`) is valid and finds nothing (README); only its length is bad.
        "q" => &[],
        "partner" | "organization" | "meeting" | "paper" | "reference" | "paper_type" | "owner" | "school"
        | "school_number" | "postcode" | "category" | "program" | "measure" | "connector" => &[],
        _ if schema["type"] == "boolean" => &["perhaps", "2"],
        other => panic!("parameter `{other}` has no bad values in this test yet"),
    };
    if schema["type"] == "boolean" {
        values.push("yes please".into());
    }
    values.extend(typed.iter().map(|value| value.to_string()));
    if name == "q" {
        values.push("a".repeat(201));
    }
    values
}

async fn expect_problem(app: &TestApp, url: &str, parameter: &str, backend: &str) {
    let response = app.get(url).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: Value = response.json().await.unwrap_or_default();
    assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{backend}: {url}: {body}");
    assert_eq!(body["parameter"], parameter, "{backend}: {url}: {body}");
    assert_eq!(body["status"], 400, "{backend}: {url}: {body}");
    assert!(body["detail"].as_str().is_some_and(|detail| !detail.is_empty()), "{backend}: {url}: {body}");
}

/// Every GET route of the route table (lists, their exports, records, runs, the summary), every documented query
/// parameter with bad values, and bad path ids: 400 problem+json naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_parameter_is_a_400_naming_it() {
    for database in databases() {
        let backend = database.backend;
        let seeded = seed::seeded_app(&database.url, "").await;
        let app = &seeded.app;
        let document = app.get_json(ikz_api::OPENAPI_PATH).await;
        let mut checked: BTreeMap<String, usize> = BTreeMap::new();
        for route in ikz_api::route_table() {
            if route.method != "GET" || !route.path.starts_with("/api/v1/") || route.path == ikz_api::OPENAPI_PATH {
                continue;
            }
            let path = seed::example_path(&route, seeded.runs[0]);
            let (path, required) = path.split_once('?').map_or((path.clone(), None), |(p, q)| (p.to_owned(), Some(q)));
            for (name, schema) in documented(&document, &route.path) {
                // The summary's `program` is required: the other parameters are tested beside it.
                let base = match required {
                    Some(required) if !required.starts_with(&format!("{name}=")) => format!("{path}?{required}&"),
                    _ => format!("{path}?"),
                };
                for value in bad_values(&name, &schema) {
                    expect_problem(app, &format!("{base}{name}={value}"), &name, backend).await;
                }
                expect_problem(app, &format!("{base}{name}=1&{name}=1"), &name, backend).await;
                *checked.entry(route.path.clone()).or_default() += 1;
            }
            // A path id the databases cannot hold (NUL) or, for runs, not a number.
            if route.path.contains("{id}") {
                expect_problem(app, &route.path.replace("{id}", "%00"), "id", backend).await;
                if route.path.starts_with("/api/v1/import-runs/") {
                    expect_problem(app, &route.path.replace("{id}", "eins"), "id", backend).await;
                }
            }
        }
        // Every list and export was checked with its parameters (the connector list takes none).
        assert!(checked.len() >= 40, "{backend}: {checked:?}");
    }
}

//! Whole-list exports past one store batch (CSV streamed, XLSX built from batches), paged exports with `Link`
//! headers, and 400s naming the parameter on every list of the route table. SQLite and PostgreSQL.

use std::collections::BTreeSet;

use ikz_connectors::model::{Address, Contact, EntityKind, Origin, Record, School, SchoolType};
use ikz_connectors::{RecordSink, RunOutcome};
use ikz_store::runs::RunRequest;
use ikz_store::{Guards, Trigger};
use ikz_tests::{databases, spawn_app, TestApp, TestConfig};

const SCHOOLS: usize = 2_345;

fn school(number: usize) -> Record {
    let partner = if number.is_multiple_of(3) { "hankensbuettel" } else { "gifhorn" };
    Record::School(School {
        id: format!("NI-{number:05}"),
        origin: Origin::new(number.to_string()),
        state: "NI".into(),
        school_number: format!("{number:05}"),
        name: format!("Schule Nr. {number} Müllerstraße"),
        school_types_raw: vec!["Grundschule".into()],
        school_types: vec![SchoolType::Grundschule],
        legal_status: None,
        traeger_name: None,
        traeger_partner: Some(partner.into()),
        address: Address { street: None, postcode: Some("38518".into()), city: Some("Gifhorn".into()) },
        contact: Contact::default(),
        pupils: Some(number as i32),
        pupils_as_of: None,
        latitude: None,
        longitude: None,
    })
}

async fn seeded(database_url: &str) -> TestApp {
    let config = TestConfig::new(database_url, "[import]\nrun_on_start = false\n");
    let app = spawn_app(config.load()).await;
    let request = RunRequest {
        connector: "schools".into(),
        trigger: Trigger::Manual,
        entities: vec![EntityKind::School],
        guards: Guards::default(),
    };
    let mut run = app.store.begin_run(request).await.expect("begin run");
    run.records((1..=SCHOOLS).map(school).collect()).await.expect("records");
    let summary = run.finish(RunOutcome { complete: true, ..RunOutcome::default() }).await;
    assert!(summary.error.is_none(), "{summary:?}");
    app
}

/// The data lines of a CSV body (BOM checked and removed), split at `;` (the test data holds no `;` or quotes).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
    text.lines().map(|line| line.split(';').map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_list_exports_go_past_one_batch() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded(&database.url).await;

        let response = app.get("/api/v1/schools.csv").await;
        assert_eq!(response.status(), 200, "{backend}");
        assert!(response.headers().get("link").is_none(), "{backend}: the whole list, no next page");
        let rows = csv_rows(&response.bytes().await.expect("body"));
        let header = &rows[0];
        let id = header.iter().position(|h| h == "id").expect("id column");
        let name = header.iter().position(|h| h == "name").expect("name column");
        let ids: Vec<&str> = rows[1..].iter().map(|row| row[id].as_str()).collect();
        assert_eq!(ids.len(), SCHOOLS, "{backend}: every school once");
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{backend}: in id order, no repeats");
        assert_eq!(rows[1][name], "Schule Nr. 1 Müllerstraße");

        // Filters and sort apply to the streamed list.
        let response = app.get("/api/v1/schools.csv?partner=hankensbuettel&sort=-pupils").await;
        assert_eq!(response.status(), 400, "{backend}: pupils is not a sort field");
        let response = app
            .client
            .get(format!("{}/api/v1/schools?partner=hankensbuettel&sort=-school_number", app.address))
            .header("Accept", "text/csv")
            .send()
            .await
            .expect("get");
        let rows = csv_rows(&response.bytes().await.expect("body"));
        assert_eq!(rows.len() - 1, SCHOOLS / 3, "{backend}: every third school is Hankensbüttel's");
        assert_eq!(rows[1][id], format!("NI-{:05}", SCHOOLS / 3 * 3), "{backend}: descending");

        // With `limit`, one page and a Link to the next; the pages join up without gaps.
        let first = app.get("/api/v1/schools.csv?limit=1000").await;
        let link = first.headers()["link"].to_str().expect("link").to_owned();
        let first_rows = csv_rows(&first.bytes().await.expect("body"));
        assert_eq!(first_rows.len() - 1, 1000);
        let next = link.trim_start_matches('<').split('>').next().expect("target").to_owned();
        let second_rows = csv_rows(&app.get(&next).await.bytes().await.expect("body"));
        assert_eq!(second_rows[1][id], "NI-01001", "{backend}: {link}");

        // XLSX of the whole list, read back.
        let response = app.get("/api/v1/schools.xlsx").await;
        assert_eq!(response.status(), 200, "{backend}");
        assert!(response.headers().get("etag").is_some());
        let bytes = response.bytes().await.expect("body").to_vec();
        use calamine::Reader;
        let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
        let sheet = workbook.worksheet_range("schools").expect("sheet");
        let ids: BTreeSet<String> = sheet.rows().skip(1).map(|row| row[id].to_string()).collect();
        assert_eq!(ids.len(), SCHOOLS, "{backend}: every school in the workbook");
    }
}

/// Every list in the route table refuses a bad `limit` and an unknown parameter with a 400 naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_names_the_bad_parameter() {
    let database = ikz_store::testing::sqlite();
    let config = TestConfig::new(&database.url, "[import]\nrun_on_start = false\n");
    config.data_file("empty.jsonl", b"");
    config.connector("leer", "id = \"leer\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"empty.jsonl\"\n");
    let app = spawn_app(config.load()).await;
    let lists: Vec<String> = ikz_api::route_table()
        .into_iter()
        .filter(|route| route.method == "GET" && route.path.starts_with("/api/v1/"))
        .filter(|route| !route.path.ends_with("}") && route.path != ikz_api::OPENAPI_PATH)
        .map(|route| route.path.replace("{id}", "leer"))
        .collect();
    let mut checked = 0;
    for path in lists {
        let takes_limit =
            !["/api/v1/partners", "/api/v1/connectors", "/api/v1/funding/summary"].contains(&path.as_str());
        let mut cases = vec![("bogus=1", "bogus")];
        if takes_limit {
            cases.extend([("limit=0", "limit"), ("limit=x", "limit"), ("cursor=%21", "cursor")]);
        }
        for (query, parameter) in cases {
            let response = app.get(&format!("{path}?{query}")).await;
            let status = response.status().as_u16();
            let content_type = response.headers()["content-type"].to_str().expect("ct").to_owned();
            let body: serde_json::Value = response.json().await.expect("problem json");
            assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{path}?{query}: {body}");
            assert_eq!(body["parameter"], parameter, "{path}?{query}: {body}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    for (path, parameter) in [
        ("/api/v1/partners?include_deleted=maybe", "include_deleted"),
        ("/api/v1/import-runs?status=great", "status"),
        ("/api/v1/connectors/leer/runs?status=great", "status"),
        ("/api/v1/funding/summary", "program"),
    ] {
        let body: serde_json::Value = app.get(path).await.json().await.expect("json");
        assert_eq!(body["parameter"], parameter, "{path}: {body}");
    }
}

//! Whole-list exports past one store batch (CSV streamed, XLSX built from batches), paged exports with `Link`
//! headers, 400s naming the parameter on every list of the route table, and every list's CSV and XLSX read back
//! cell by cell. SQLite and PostgreSQL.

use std::collections::BTreeSet;

use ikz_api::format::Item;
use ikz_connectors::model::{Address, Contact, EntityKind, Origin, Record, School, SchoolType};
use ikz_connectors::{RecordSink, RunOutcome};
use ikz_store::runs::RunRequest;
use ikz_store::{Guards, Trigger};
use ikz_tests::{databases, seed, spawn_app, TestApp, TestConfig};
use serde_json::Value;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_list_exports_go_past_one_batch() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded(&database.url).await;

        let response = app.get("/api/v1/schools.csv").await;
        assert_eq!(response.status(), 200, "{backend}");
        assert!(response.headers().get("link").is_none(), "{backend}: the whole list, no next page");
        let rows = parsed_csv(&response.bytes().await.expect("body"));
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
        let rows = parsed_csv(&response.bytes().await.expect("body"));
        assert_eq!(rows.len() - 1, SCHOOLS / 3, "{backend}: every third school is Hankensbüttel's");
        assert_eq!(rows[1][id], format!("NI-{:05}", SCHOOLS / 3 * 3), "{backend}: descending");

        // With `limit`, one page and a Link to the next; the pages join up without gaps.
        let first = app.get("/api/v1/schools.csv?limit=1000").await;
        let link = first.headers()["link"].to_str().expect("link").to_owned();
        let first_rows = parsed_csv(&first.bytes().await.expect("body"));
        assert_eq!(first_rows.len() - 1, 1000);
        let next = link.trim_start_matches('<').split('>').next().expect("target").to_owned();
        let second_rows = parsed_csv(&app.get(&next).await.bytes().await.expect("body"));
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

/// The rows of a JSON list page, each in its field order.
fn json_rows(bytes: &[u8]) -> Vec<Item> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Vec<Item>,
    }
    serde_json::from_slice::<Envelope>(bytes).expect("a JSON list page").data
}

/// A JSON value as its CSV cell, as README.md documents the export: null empty, EUR amounts with a decimal comma,
/// lists joined with ", ", everything else as its text.
fn csv_cell(column: &str, value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) if column.ends_with("_eur") => text.replace('.', ","),
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A JSON value as its XLSX cell: numbers and EUR amounts as numbers, booleans as booleans, null (and an empty
/// list) an empty cell, the rest as the CSV text.
fn xlsx_cell(column: &str, value: &Value) -> calamine::Data {
    use calamine::Data;
    match value {
        Value::Null => Data::Empty,
        Value::Number(number) => Data::Float(number.as_f64().expect("a number")),
        Value::Bool(flag) => Data::Bool(*flag),
        Value::String(text) if column.ends_with("_eur") => Data::Float(text.parse().expect("an EUR amount")),
        other => match csv_cell(column, other) {
            text if text.is_empty() => Data::Empty,
            text => Data::String(text),
        },
    }
}

/// CSV rows (header first) read with a real CSV parser after the BOM.
fn parsed_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("UTF-8 BOM");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(text);
    reader.records().map(|record| record.expect("a CSV row").iter().map(str::to_owned).collect()).collect()
}

/// Every list's exports read back and compared with its JSON rows cell by cell: the streamed CSV of the whole list,
/// a CSV page, and the XLSX workbook; the seed's text holds `;`, quotes, line breaks, umlauts and a leading `=`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_export_holds_the_json_rows_cell_by_cell() {
    for database in databases() {
        let backend = database.backend;
        let seeded = seed::seeded_app(&database.url, "").await;
        let app = &seeded.app;
        let mut lists = 0;
        for route in ikz_api::route_table().into_iter().filter(|route| route.path.ends_with(".csv")) {
            let list = route.path.trim_end_matches(".csv");
            let json = app.get(&format!("{list}?limit=1000")).await.bytes().await.expect("json");
            let rows = json_rows(&json);
            assert!(rows.len() >= 2, "{backend}: {list} has seeded rows");
            let columns: Vec<&str> = rows[0].0.iter().map(|(name, _)| name.as_str()).collect();

            // By suffix (whole list streamed, a page, a page of two) and by `Accept` on the plain list.
            let csv_exports = [
                (format!("{list}.csv"), None),
                (format!("{list}.csv?limit=1000"), None),
                (format!("{list}.csv?limit=2"), None),
                (format!("{list}?limit=1000"), Some("text/csv")),
            ];
            let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            let xlsx_exports = [
                (format!("{list}.xlsx"), None),
                (format!("{list}.xlsx?limit=2"), None),
                (format!("{list}?limit=1000"), Some(xlsx_type)),
            ];
            for (export, accept) in csv_exports.iter().chain(&xlsx_exports) {
                let mut request = app.client.get(format!("{}{export}", app.address));
                if let Some(accept) = accept {
                    request = request.header("Accept", *accept);
                }
                let response = request.send().await.expect("export");
                let context = format!("{backend}: {export} (Accept: {accept:?})");
                assert_eq!(response.status(), 200, "{context}");
                let content_type = response.headers()["content-type"].to_str().expect("ct").to_owned();
                let link = response.headers().get("link").and_then(|link| link.to_str().ok()).map(str::to_owned);
                let bytes = response.bytes().await.expect("body");
                let is_csv = content_type.starts_with("text/csv");
                assert_eq!(content_type, if is_csv { "text/csv; charset=utf-8" } else { xlsx_type }, "{context}");
                let page_of_two = export.ends_with("limit=2");
                let expected_rows = if page_of_two { 2 } else { rows.len() };
                if is_csv {
                    let table = parsed_csv(&bytes);
                    assert_eq!(table[0], columns, "{context}: the header is the JSON fields in order");
                    assert_eq!(table.len() - 1, expected_rows, "{context}");
                    for (row, cells) in rows.iter().zip(&table[1..]) {
                        for ((column, value), cell) in row.0.iter().zip(cells) {
                            assert_eq!(cell, &csv_cell(column, value), "{context}: {column} of {row:?}");
                        }
                    }
                } else {
                    use calamine::Reader;
                    let mut workbook =
                        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
                    let sheet = workbook.worksheet_range_at(0).expect("a sheet").expect("a readable sheet");
                    let table: Vec<&[calamine::Data]> = sheet.rows().collect();
                    let header: Vec<String> = table[0].iter().map(ToString::to_string).collect();
                    assert_eq!(header, columns, "{context}");
                    assert_eq!(table.len() - 1, expected_rows, "{context}");
                    for (row, cells) in rows.iter().zip(&table[1..]) {
                        for ((column, value), cell) in row.0.iter().zip(cells.iter()) {
                            assert_eq!(cell, &xlsx_cell(column, value), "{context}: {column} of {row:?}");
                        }
                    }
                }
                // A page of an export names the next one in a Link header; the whole list has none.
                let more = page_of_two && rows.len() > 2;
                match (more, link) {
                    (true, Some(link)) => {
                        assert!(link.ends_with("; rel=\"next\""), "{context}: {link}");
                        let next = link.trim_start_matches('<').split('>').next().expect("target").to_owned();
                        assert!(next.contains("cursor="), "{context}: {next}");
                        let next_page = app.get(&next).await;
                        assert_eq!(next_page.status(), 200, "{context}: {next}");
                    }
                    (true, None) => panic!("{context}: a page of two of {} rows has no Link", rows.len()),
                    // The last page (programs: two rows) or a whole list.
                    (false, link) => assert_eq!(link, None, "{context}"),
                }
            }
            lists += 1;
        }
        assert_eq!(lists, ikz_api::openapi::lists().len(), "{backend}: every list has a CSV export");

        // The awkward values survived as themselves (not only consistently with JSON).
        let schools = parsed_csv(&app.get("/api/v1/schools.csv?school_number=10004").await.bytes().await.expect("csv"));
        let name = schools[0].iter().position(|column| column == "name").expect("name");
        assert_eq!(schools[1][name], "Schule am Schloßpark; Außenstelle \"Nord\"", "{backend}");
        let types = schools[0].iter().position(|column| column == "school_types").expect("school_types");
        let two = parsed_csv(&app.get("/api/v1/schools.csv?school_number=10002").await.bytes().await.expect("csv"));
        assert_eq!(two[1][types], "oberschule, hauptschule", "{backend}");
        let papers = parsed_csv(&app.get("/api/v1/papers.csv?reference=SG/256/19").await.bytes().await.expect("csv"));
        let text = papers[0].iter().position(|column| column == "sachverhalt").expect("sachverhalt");
        assert_eq!(papers[1][text], "Der Schulträger stellt fest; \"Zitat\"\nzweite Zeile", "{backend}");
        let money = papers[0].iter().position(|column| column == "financial_impact_once_eur").expect("eur");
        assert_eq!(papers[1][money], "245341,00", "{backend}");
        let organizations =
            parsed_csv(&app.get("/api/v1/organizations.csv?kind=committee").await.bytes().await.expect("csv"));
        let short = organizations[0].iter().position(|column| column == "short_name").expect("short_name");
        assert_eq!(organizations[1][short], "=SUMME(A1;A2)", "{backend}");
    }
}

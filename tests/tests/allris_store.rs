//! Issue 5 end to end into the store, on SQLite and PostgreSQL: a small ALLRIS classic site (the demo site:
//! calendar → meetings → agenda items → papers) served over loopback HTTP is crawled by the `allris` connector
//! through the hub, in HTML mode and in XML export mode. A paper answering 500 for good is retried, then stored as
//! a rejected record while the rest imports; an unchanged re-crawl reads every page again and writes nothing; the
//! seed paper SG/256/19 is stored with the values of the published paper and no staff name reaches any table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Datelike, Months, NaiveDate};
use diesel::prelude::*;
use ikz_connectors::oparl::testing::{Response, TestServer};
use ikz_hub::startup::open_store;
use ikz_store::rows::{
    AgendaItemRow, ConsultationRow, FileRow, MeetingRow, OrganizationRow, PaperRow, RejectedRecordRow,
};
use ikz_store::schema::{agenda_item, consultation, file, meeting, organization, paper, rejected_record};
use ikz_store::{RunStatus, Store};
use ikz_tests::{databases, hub, import, repo_root, TestConfig};

/// The paper that answers 500 on every request.
const FAILING: &str = "/bi/vo020.asp?VOLFDNR=1249";

fn demo(path: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("config/demo/allris").join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn demo_files(dir: &str, extension: &str) -> Vec<(String, PathBuf)> {
    let folder = repo_root().join("config/demo/allris").join(dir);
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(folder)
        .expect("demo folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().and_then(|ext| ext.to_str()) == Some(extension))
        .map(|path| (path.file_stem().and_then(|stem| stem.to_str()).expect("name").to_owned(), path))
        .collect();
    files.sort();
    files
}

/// The calendar months a first run and a re-crawl ask for: from before the start date to past the window's end.
fn months() -> Vec<NaiveDate> {
    let until = chrono::Utc::now().date_naive().checked_add_months(Months::new(8)).expect("date");
    let mut month = NaiveDate::from_ymd_opt(2019, 1, 1).expect("date");
    let mut out = Vec::new();
    while month <= until {
        out.push(month);
        month = month.checked_add_months(Months::new(1)).expect("date");
    }
    out
}

/// Serves the demo site under /bi/ as ALLRIS classic does: HTML pages and their XML exports, the login page
/// (a redirect to noauth.asp) for the non-public meeting and agenda item, an empty calendar for other months.
fn serve_site(server: &TestServer) {
    for (dir, page, key) in
        [("to010", "to010.asp", "SILFDNR"), ("to020", "to020.asp", "TOLFDNR"), ("vo020", "vo020.asp", "VOLFDNR")]
    {
        for (extension, export) in [("html", ""), ("xml", "selfaction=ws&template=xyz&")] {
            for (id, path) in demo_files(dir, extension) {
                let url = format!("/bi/{page}?{export}{key}={id}");
                let response = if matches!(id.as_str(), "312" | "3113") {
                    Response::redirect("/bi/noauth.asp")
                } else {
                    let bytes = std::fs::read(&path).expect("demo page");
                    if extension == "xml" {
                        Response::xml(bytes)
                    } else {
                        Response::html(bytes)
                    }
                };
                server.route(&url, response);
            }
        }
    }
    server.route("/bi/noauth.asp", Response::html(demo("to010/312.html")));
    server.fail(FAILING, 500, u32::MAX);
    let empty_page = "<html><body><div id=\"allriscontainer\" class=\"si010_e\"><div id=\"rismain\"><p>Keine \
                      Sitzungen</p></div></div></body></html>";
    let empty_export = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><si010><special/><list></list></si010>";
    for month in months() {
        let (mm, yyyy) = (month.month(), month.year());
        let saved = format!("si010/{yyyy}-{mm:02}");
        let has = |ext: &str| repo_root().join("config/demo/allris").join(format!("{saved}.{ext}")).exists();
        let page = if has("html") { demo(&format!("{saved}.html")) } else { empty_page.as_bytes().to_vec() };
        server.route(&format!("/bi/si010_e.asp?MM={mm:02}&YY={yyyy}"), Response::html(page));
        let last = month.checked_add_months(Months::new(1)).and_then(|next| next.pred_opt()).expect("date");
        let export = if has("xml") { demo(&format!("{saved}.xml")) } else { empty_export.as_bytes().to_vec() };
        server.route(
            &format!(
                "/bi/si010.asp?selfaction=ws&template=xyz&kaldatvon={}&kaldatbis={}",
                month.format("%d.%m.%Y"),
                last.format("%d.%m.%Y")
            ),
            Response::xml(export),
        );
    }
}

/// Loaded rows as JSON values.
macro_rules! as_json {
    ($rows:expr $(,)?) => {
        serde_json::to_value($rows.expect("rows")).expect("rows as JSON").as_array().cloned().unwrap_or_default()
    };
}

/// Every stored council record as JSON, without the columns named in `without`.
fn council_tables(store: &Store, without: &[&str]) -> BTreeMap<&'static str, Vec<serde_json::Value>> {
    let mut conn = store.connection().expect("connection");
    let mut tables = BTreeMap::new();
    let json = |rows: Vec<serde_json::Value>| {
        rows.into_iter()
            .map(|mut row| {
                if let Some(object) = row.as_object_mut() {
                    for key in without {
                        object.remove(*key);
                    }
                }
                row
            })
            .collect::<Vec<_>>()
    };
    tables.insert(
        "organization",
        json(as_json!(organization::table
            .order(organization::id)
            .select(OrganizationRow::as_select())
            .load(&mut *conn),)),
    );
    tables.insert(
        "meeting",
        json(as_json!(meeting::table.order(meeting::id).select(MeetingRow::as_select()).load(&mut *conn))),
    );
    tables.insert(
        "agenda_item",
        json(as_json!(agenda_item::table.order(agenda_item::id).select(AgendaItemRow::as_select()).load(&mut *conn),)),
    );
    tables
        .insert("paper", json(as_json!(paper::table.order(paper::id).select(PaperRow::as_select()).load(&mut *conn))));
    tables.insert(
        "consultation",
        json(as_json!(consultation::table
            .order(consultation::id)
            .select(ConsultationRow::as_select())
            .load(&mut *conn),)),
    );
    tables.insert("file", json(as_json!(file::table.order(file::id).select(FileRow::as_select()).load(&mut *conn))));
    tables
}

/// Crawls the served site into a fresh store twice; returns the stored council tables as JSON, the fixture
/// server's address replaced by `http://ris.example`.
async fn crawl_into_store(database_url: &str, backend: &str, mode: &str) -> String {
    let server = TestServer::start().await.expect("fixture server");
    serve_site(&server);
    // A re-crawl walks window_months_back from today: wide enough to reach the demo's 2019 meetings again.
    let today = chrono::Utc::now().date_naive();
    let back = (today.year() - 2019) * 12 + today.month() as i32 - 11 + 1;
    let test = TestConfig::new(database_url, "");
    let connector = format!("allris-{mode}");
    test.connector(
        &connector,
        &format!(
            "id = \"{connector}\"\nkind = \"allris\"\npartner = \"hankensbuettel\"\nsource = \"{}/bi/\"\n\
             start_date = 2019-11-01\nwindow_months_back = {back}\nmode = \"{mode}\"\n",
            server.base()
        ),
    );
    let config = test.load();
    let store = open_store(&config).await.expect("store");
    let hub = hub(config, &store);
    let context = format!("{backend}, mode {mode}");

    let first = import(&hub, &connector).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{context}: {:?}", first.error);
    assert_eq!(first.counts.rejected, 1, "{context}: {:?}", first.counts);
    assert!(first.counts.created >= 20, "{context}: {:?}", first.counts);
    // [http] retries = 1 in the test config: the failing paper was asked for twice.
    let failing_requests = |server: &TestServer| server.requests().iter().filter(|r| r.as_str() == FAILING).count();
    assert_eq!(failing_requests(&server), 2, "{context}: retried once");

    let mut conn = store.connection().expect("connection");
    let rejects: Vec<RejectedRecordRow> = rejected_record::table
        .filter(rejected_record::run_id.eq(first.run_id))
        .select(RejectedRecordRow::as_select())
        .load(&mut *conn)
        .expect("rejected records");
    assert_eq!(rejects.len(), 1, "{context}: {rejects:?}");
    assert_eq!(rejects[0].location, format!("{}{FAILING}", server.base()), "{context}");
    assert!(rejects[0].message.contains("500"), "{context}: {}", rejects[0].message);

    // The rest imported: the seed paper with the values of the published paper, the other public paper.
    let papers: Vec<PaperRow> = paper::table.select(PaperRow::as_select()).load(&mut *conn).expect("papers");
    let mut references: Vec<_> = papers.iter().filter_map(|p| p.reference.as_deref()).collect();
    references.sort_unstable();
    assert_eq!(references, ["SG/256/19", "SG/262/19"], "{context}: SG/249/19 was rejected");
    let seed = papers.iter().find(|p| p.reference.as_deref() == Some("SG/256/19")).expect("SG/256/19");
    assert_eq!(seed.subject, "Interkommunale Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung");
    assert_eq!(seed.lead_department.as_deref(), Some("Bürgerservice"));
    assert!(seed.sachverhalt.as_deref().unwrap_or("").contains("245.341 €"), "{context}");
    assert_eq!((seed.financial_impact_once_cents, seed.financial_impact_annual_cents), (Some(0), Some(1_000_000)));
    assert_eq!(seed.source_url.as_deref(), Some(format!("{}/bi/vo020.asp?VOLFDNR=1256", server.base()).as_str()));
    let mut stations: Vec<ConsultationRow> = consultation::table
        .filter(consultation::paper_id.eq(&seed.id))
        .select(ConsultationRow::as_select())
        .load(&mut *conn)
        .expect("consultations");
    stations.sort_by_key(|row| row.position);
    let stations: Vec<_> = stations
        .iter()
        .map(|s| (s.organization_name.as_deref(), s.role.as_deref(), s.date, s.result.as_str(), s.meeting_id.is_some()))
        .collect();
    assert_eq!(
        stations,
        [
            (
                Some("Schul- und Kindertagesstättenausschuss"),
                Some("Vorberatung"),
                NaiveDate::from_ymd_opt(2019, 11, 27),
                "adopted",
                true
            ),
            (Some("Samtgemeindeausschuss"), Some("Vorberatung"), None, "pending", false),
            (
                Some("Rat der Samtgemeinde Hankensbüttel"),
                Some("Entscheidung"),
                NaiveDate::from_ymd_opt(2019, 12, 11),
                "adopted",
                true
            ),
        ],
        "{context}"
    );

    // Meetings (the private one redirects to the login page and is left out) and agenda items with their results.
    let meetings: Vec<MeetingRow> =
        meeting::table.order(meeting::id).select(MeetingRow::as_select()).load(&mut *conn).expect("meetings");
    let starts: Vec<_> = meetings.iter().map(|m| (m.source_key.as_str(), m.start_at, m.end_at)).collect();
    let at = |d, h, m| NaiveDate::from_ymd_opt(2019, 12, d).and_then(|date| date.and_hms_opt(h, m, 0));
    let nov = |h, m| NaiveDate::from_ymd_opt(2019, 11, 27).and_then(|date| date.and_hms_opt(h, m, 0));
    assert_eq!(
        starts,
        if meetings[0].source_key == "SILFDNR=311" {
            vec![("SILFDNR=311", nov(17, 0), nov(18, 30)), ("SILFDNR=313", at(11, 18, 0), at(11, 20, 15))]
        } else {
            vec![("SILFDNR=313", at(11, 18, 0), at(11, 20, 15)), ("SILFDNR=311", nov(17, 0), nov(18, 30))]
        },
        "{context}: start and end in UTC"
    );
    let items: Vec<AgendaItemRow> =
        agenda_item::table.select(AgendaItemRow::as_select()).load(&mut *conn).expect("agenda items");
    assert_eq!(items.len(), 7, "{context}");
    let decision = items.iter().find(|item| item.source_key == "TOLFDNR=3131").expect("TOP 3131");
    assert_eq!(decision.result.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(decision.paper_id.as_deref(), Some(seed.id.as_str()));
    assert!(!items.iter().find(|item| item.source_key == "TOLFDNR=3113").expect("TOP 3113").public);
    drop(conn);

    // No staff name anywhere in what was stored, though the pages carry them.
    assert!(String::from_utf8_lossy(&demo("vo020/1256.html")).contains("Dammann"), "the seed page names its clerk");
    let everything = serde_json::to_string(&council_tables(&store, &[])).expect("json");
    for name in ["Dammann", "Mustermann"] {
        assert!(!everything.contains(name), "{context}: {name} was stored");
    }

    // An unchanged site crawled again: every page read again, nothing written (only `last_seen_at` moves on).
    let before = council_tables(&store, &["last_seen_at"]);
    let requests_before = server.requests().len();
    let second = import(&hub, &connector).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{context}: {:?}", second.error);
    assert_eq!((second.counts.created, second.counts.updated), (0, 0), "{context}: {:?}", second.counts);
    assert_eq!(second.counts.unchanged, first.counts.created, "{context}: every record read again");
    let mut conn = store.connection().expect("connection");
    let rejects: Vec<RejectedRecordRow> = rejected_record::table
        .filter(rejected_record::run_id.eq(second.run_id))
        .select(RejectedRecordRow::as_select())
        .load(&mut *conn)
        .expect("rejected records");
    drop(conn);
    assert_eq!(rejects.len(), 1, "{context}: {rejects:?}");
    assert_eq!(second.counts.rejected, 1, "{context}");
    assert!(server.requests().len() - requests_before > 20, "{context}: the re-crawl read the site");
    assert_eq!(failing_requests(&server), 4, "{context}");
    assert_eq!(council_tables(&store, &["last_seen_at"]), before, "{context}: the re-crawl wrote nothing");
    // For comparing modes: without the bookkeeping that differs between connectors and runs, and the content hash
    // (it covers the links, which hold this server's port).
    let records = council_tables(&store, &["source", "first_seen_at", "last_seen_at", "modified_at", "content_hash"]);
    serde_json::to_string(&records).expect("json").replace(&server.base(), "http://ris.example")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allris_site_over_http_into_the_store_in_html_and_xml_mode() {
    let mut stored: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for mode in ["html", "xml"] {
        for database in databases() {
            let tables = crawl_into_store(&database.url, database.backend, mode).await;
            stored.entry(database.backend).or_default().push(tables);
        }
    }
    for (backend, modes) in stored {
        assert_eq!(modes.len(), 2);
        assert_eq!(modes[0], modes[1], "{backend}: HTML and XML mode store the same council records");
    }
}

//! Fault injection (issue 9): every connector kind that reads over HTTP is pointed at a loopback server that breaks
//! in one way at a time — 500, 429 with Retry-After, a hang past the timeout, a reset or truncated body, the wrong
//! Content-Type or charset, malformed JSON/XML/HTML, a corrupt XLSX, an empty file, a body over the size limit
//! (declared or streamed without end), a redirect loop. Each run must fail (or reject the page, for ALLRIS, whose
//! reject guard then fails the run) and leave every table as it was; a wrong charset must not change the data.
//! Afterwards the healthy source imports again. Runs on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

mod fault_server;

use diesel::prelude::*;
use fault_server::{FaultServer, Reply};
use ikz_connectors::oparl::testing::paper_pages;
use ikz_hub::configuration::Config;
use ikz_hub::startup::open_store;
use ikz_store::schema::rejected_record;
use ikz_store::{RunStatus, Store};
use ikz_tests::{databases, hub, import, repo_root, spawn_app};

/// The largest body the fetcher accepts in these tests.
const LIMIT: u64 = 1 << 20;
const ADMIN: &str = "admin-token-for-fault-tests-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    ServerError,
    TooManyRequests,
    Timeout,
    ResetMidBody,
    Truncated,
    WrongContentType,
    WrongCharset,
    Malformed,
    CorruptXlsx,
    Empty,
    DeclaredOverLimit,
    StreamedOverLimit,
    RedirectLoop,
}

const FAULTS: [Fault; 13] = [
    Fault::ServerError,
    Fault::TooManyRequests,
    Fault::Timeout,
    Fault::ResetMidBody,
    Fault::Truncated,
    Fault::WrongContentType,
    Fault::WrongCharset,
    Fault::Malformed,
    Fault::CorruptXlsx,
    Fault::Empty,
    Fault::DeclaredOverLimit,
    Fault::StreamedOverLimit,
    Fault::RedirectLoop,
];

/// One connector under test: its config, what the server serves when healthy, and the URL the faults hit.
struct Subject {
    id: &'static str,
    connector_toml: String,
    served: Vec<(String, Reply)>,
    /// Path and query of the faulted URL, with its healthy body and content type.
    target: String,
    body: Vec<u8>,
    content_type: &'static str,
    /// The charset a wrong `Content-Type` declares for this body.
    wrong_charset: &'static str,
    /// A body of the right type that does not parse (None: the kind has no such format, e.g. XLSX).
    malformed: Option<&'static [u8]>,
    /// A body of another type the server might answer with (a maintenance page, an error JSON).
    other_type: (&'static str, &'static [u8]),
    xlsx: bool,
    /// ALLRIS rejects a page that cannot be read and goes on; the reject guard then fails the run.
    rejects_pages: bool,
}

fn demo(path: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("config/demo").join(path)).expect("demo file")
}

/// The shipped connector file with `source` pointed at `source`.
fn shipped_connector(name: &str, source: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("config/connectors.d").join(format!("{name}.toml")))
        .expect("shipped connector");
    text.lines()
        .map(|line| if line.starts_with("source =") { format!("source = \"{source}\"") } else { line.to_owned() })
        .collect::<Vec<_>>()
        .join("\n")
}

const MAINTENANCE: &[u8] = b"<!DOCTYPE html><html><head><title>Wartungsarbeiten</title></head><body><h1>Wartungsarbeiten</h1><p>Bitte versuchen Sie es sp\xc3\xa4ter.</p></body></html>";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn school_list(base: &str) -> Subject {
    let target = "/data/schulen-gifhorn.xlsx".to_owned();
    let body = demo("schulen-gifhorn.xlsx");
    Subject {
        id: "schulen-gifhorn",
        connector_toml: shipped_connector("schulen-gifhorn", &format!("{base}{target}")),
        served: vec![(target.clone(), Reply::ok(XLSX, body.clone()))],
        target,
        body,
        content_type: XLSX,
        wrong_charset: "utf-8",
        malformed: None,
        other_type: ("text/html; charset=utf-8", MAINTENANCE),
        xlsx: true,
        rejects_pages: false,
    }
}

fn equipment_csv(base: &str) -> Subject {
    let target = "/data/ausstattung-gifhorn.csv".to_owned();
    let body = demo("ausstattung-gifhorn.csv");
    let content_type = "text/csv; charset=windows-1252";
    Subject {
        id: "ausstattung-gifhorn",
        connector_toml: shipped_connector("ausstattung-gifhorn", &format!("{base}{target}")),
        served: vec![(target.clone(), Reply::ok(content_type, body.clone()))],
        target,
        body,
        content_type,
        wrong_charset: "utf-8",
        malformed: Some(b"Schulnummer;Schule;Kategorie;Anzahl;Stand\n\"66497;\"Gymnasium;\n\x00\x01\x02;;;;;;;;;\n"),
        other_type: ("text/html; charset=utf-8", MAINTENANCE),
        xlsx: false,
        rejects_pages: false,
    }
}

fn funding_xml(base: &str) -> Subject {
    let target = "/data/ndips-antraege-gifhorn.xml".to_owned();
    let body = demo("ndips-antraege-gifhorn.xml");
    let content_type = "application/xml; charset=ISO-8859-15";
    Subject {
        id: "funding-antraege-gifhorn",
        connector_toml: shipped_connector("funding-antraege-gifhorn", &format!("{base}{target}")),
        served: vec![(target.clone(), Reply::ok(content_type, body.clone()))],
        target,
        body,
        content_type,
        wrong_charset: "utf-8",
        malformed: Some(b"<?xml version=\"1.0\"?><Antraege><Antrag nr=\"NDIPS-2020-0412\"><Massnahme>2.2</Massnahme></Antraeg></Antraege"),
        other_type: ("text/html; charset=utf-8", MAINTENANCE),
        xlsx: false,
        rejects_pages: false,
    }
}

fn foerderkatalog(base: &str) -> Subject {
    let target = "/data/foerderkatalog-gifhorn.csv".to_owned();
    let body = demo("foerderkatalog-gifhorn.csv");
    let content_type = "text/plain; charset=ISO-8859-15";
    Subject {
        id: "foerderkatalog-gifhorn",
        connector_toml: shipped_connector("foerderkatalog-gifhorn", &format!("{base}{target}")),
        served: vec![(target.clone(), Reply::ok(content_type, body.clone()))],
        target,
        body,
        content_type,
        wrong_charset: "utf-8",
        malformed: Some(b"DEMO\n=\"FKZ\";=\"Ressort\n=\"X\";\"\"\"\n\x00\xff\xfe"),
        other_type: ("text/html; charset=utf-8", MAINTENANCE),
        xlsx: false,
        rejects_pages: false,
    }
}

fn oparl(base: &str) -> Subject {
    let body = serde_json::json!({
        "id": format!("{base}/oparl/body/1"), "type": "https://schema.oparl.org/1.1/Body",
        "name": "Samtgemeinde Hankensbüttel", "paper": format!("{base}/oparl/body/1/paper")
    });
    let mut served = vec![("/oparl/body/1".to_owned(), Reply::ok("application/json", body.to_string()))];
    // Non-ASCII text, so a wrongly declared charset would show.
    let pages: Vec<(String, String)> = paper_pages(base, "/oparl/body/1/paper", 100, 25)
        .into_iter()
        .map(|(path, page)| (path, page.replace("Grundschule", "Grundschule Hankensbüttel")))
        .collect();
    served.push(("/oparl/body/1/paper".to_owned(), Reply::ok("application/json", pages[0].1.clone())));
    for (path, page) in &pages {
        served.push((path.clone(), Reply::ok("application/json", page.clone())));
    }
    let (target, page) = pages[2].clone();
    Subject {
        id: "ratsinfo",
        connector_toml: format!(
            "id = \"ratsinfo\"\nkind = \"oparl\"\npartner = \"hankensbuettel\"\nsource = \"{base}/oparl/body/1\"\n\
             lists = [\"paper\"]\nincremental = false\n"
        ),
        served,
        target,
        body: page.into_bytes(),
        content_type: "application/json",
        wrong_charset: "ISO-8859-1",
        malformed: Some(b"{\"data\": [{\"id\": \"x\", \"type\": "),
        other_type: ("text/html; charset=utf-8", MAINTENANCE),
        xlsx: false,
        rejects_pages: false,
    }
}

/// A saved ALLRIS classic site served as the live one; calendar months without meetings get an empty calendar.
fn allris(base: &str) -> Subject {
    let html = "text/html; charset=iso-8859-1";
    let folder = repo_root().join("config/demo/allris");
    let mut served = Vec::new();
    for (dir, page, parameter) in [
        ("si010", "si010_e.asp", None),
        ("to010", "to010.asp", Some("SILFDNR")),
        ("to020", "to020.asp", Some("TOLFDNR")),
        ("vo020", "vo020.asp", Some("VOLFDNR")),
    ] {
        for entry in std::fs::read_dir(folder.join(dir)).expect("saved site") {
            let path = entry.expect("entry").path();
            let stem = path.file_stem().and_then(|stem| stem.to_str()).expect("file name").to_owned();
            let query = match parameter {
                Some(parameter) => format!("{parameter}={stem}"),
                None => {
                    let (year, month) = stem.split_once('-').expect("YYYY-MM");
                    format!("MM={month}&YY={year}")
                }
            };
            served.push((format!("/bi/{page}?{query}"), Reply::ok(html, std::fs::read(&path).expect("page"))));
        }
    }
    let november = std::fs::read(folder.join("si010/2019-11.html")).expect("calendar");
    let empty: Vec<u8> = november
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.windows(12).any(|w| w == b"class=\"zl12\""))
        .collect::<Vec<_>>()
        .join(&b'\n');
    served.push(("/bi/si010_e.asp".to_owned(), Reply::ok(html, empty.clone())));
    // Later runs walk the window around today: the fault hits this month's calendar page.
    let today = chrono::Utc::now().date_naive();
    let target =
        format!("/bi/si010_e.asp?MM={:02}&YY={}", chrono::Datelike::month(&today), chrono::Datelike::year(&today));
    Subject {
        id: "allris-hankensbuettel",
        connector_toml: shipped_connector("allris-hankensbuettel", &format!("{base}/bi/")),
        served,
        target,
        body: empty,
        content_type: html,
        wrong_charset: "utf-8",
        // HTML parsers take any text; a page cut off inside intact ALLRIS markup reads as what it holds.
        malformed: Some(b"\x00\x00<html><body><div><table><tr><td>Mi, 99.99.9999</td><td><a href=\"to010.asp?SILFDNR="),
        other_type: ("application/json", b"{\"error\":\"maintenance\"}"),
        xlsx: false,
        rejects_pages: true,
    }
}

impl Subject {
    /// What the server answers at `target` for `fault`; None when the fault does not apply to this kind.
    fn reply(&self, fault: Fault) -> Option<Reply> {
        let half = Arc::new(self.body[..self.body.len() / 2].to_vec());
        let declared = self.body.len() + 100;
        Some(match fault {
            Fault::ServerError => Reply::status(500),
            Fault::TooManyRequests => Reply::status(429).with_header("Retry-After", "1"),
            Fault::Timeout => Reply::Hang,
            Fault::ResetMidBody => Reply::ResetMidBody { declared, body: half },
            Fault::Truncated => Reply::Truncated { declared, body: half },
            Fault::WrongContentType => Reply::ok(self.other_type.0, self.other_type.1),
            Fault::WrongCharset => {
                let base = self.content_type.split(';').next().unwrap_or(self.content_type);
                Reply::ok(&format!("{base}; charset={}", self.wrong_charset), self.body.clone())
            }
            Fault::Malformed => Reply::ok(self.content_type, self.malformed?),
            Fault::CorruptXlsx if self.xlsx => {
                // The central directory stays intact; the compressed sheets do not.
                let mut bytes = self.body.clone();
                let (start, length) = (bytes.len() / 4, bytes.len() / 3);
                bytes[start..start + length].iter_mut().for_each(|byte| *byte = byte.wrapping_mul(7) ^ 0x5a);
                Reply::ok(self.content_type, bytes)
            }
            Fault::CorruptXlsx => return None,
            Fault::Empty => Reply::ok(self.content_type, Vec::new()),
            Fault::DeclaredOverLimit => Reply::ok(self.content_type, vec![b' '; LIMIT as usize + 1]),
            Fault::StreamedOverLimit => Reply::Endless,
            Fault::RedirectLoop => Reply::Full {
                status: 302,
                headers: vec![("Location".into(), self.target.clone())],
                body: Arc::new(Vec::new()),
            },
        })
    }

    fn serve_healthy(&self, server: &FaultServer) {
        for (path, reply) in &self.served {
            server.reply(path, reply.clone());
        }
        server.reply(&self.target, Reply::ok(self.content_type, self.body.clone()));
    }
}

/// The demo main config (all partners) with `connector` as its only connector, quick retries and timeouts.
fn config(database_url: &str, connector: &str, extra: &str) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("config folder");
    let main = std::fs::read_to_string(repo_root().join("config/ikz-hub.toml")).expect("demo config");
    let main = main
        .replace("run_on_start = true", "run_on_start = false")
        .replace("retries = 3", "retries = 1\nbackoff_ms = 10")
        .replace("request_timeout_secs = 60", "request_timeout_secs = 1")
        .replace("connect_timeout_secs = 10", &format!("connect_timeout_secs = 1\nmax_body_bytes = {LIMIT}"))
        + extra;
    std::fs::write(dir.path().join("ikz-hub.toml"), main).expect("write config");
    std::fs::create_dir_all(dir.path().join("connectors.d")).expect("connectors.d");
    std::fs::create_dir_all(dir.path().join("demo")).expect("demo folder");
    std::fs::write(dir.path().join("demo/funding-programs.jsonl"), demo("funding-programs.jsonl")).expect("programs");
    std::fs::write(dir.path().join("connectors.d/subject.toml"), connector).expect("connector");
    let mut config = ikz_hub::configuration::load(&dir.path().join("ikz-hub.toml")).unwrap_or_else(|e| panic!("{e}"));
    config.database.url = database_url.to_owned();
    (dir, config)
}

fn reject_locations(store: &Store, run_id: i64) -> Vec<String> {
    let mut conn = store.connection().expect("connection");
    rejected_record::table
        .filter(rejected_record::run_id.eq(run_id))
        .select(rejected_record::location)
        .load(&mut *conn)
        .expect("rejects")
}

async fn every_fault_leaves_the_store_as_it_was(subject: fn(&str) -> Subject) {
    for database in databases() {
        let server = FaultServer::start().await;
        let subject = subject(&server.base());
        subject.serve_healthy(&server);
        let (_dir, config) = config(&database.url, &subject.connector_toml, "");
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let label = format!("{} on {}", subject.id, database.backend);

        let healthy = import(&hub, subject.id).await;
        assert_eq!(healthy.status, RunStatus::Succeeded, "{label}: {:?}", healthy.error);
        assert!(healthy.counts.created > 0, "{label}: {:?}", healthy.counts);
        let mut before = store.data_digest().expect("digest");

        let mut tried = 0;
        for fault in FAULTS {
            let Some(reply) = subject.reply(fault) else { continue };
            tried += 1;
            server.reply(&subject.target, reply);
            let run = import(&hub, subject.id).await;
            let case = format!("{label}, {fault:?}");
            if fault == Fault::WrongCharset {
                // The body is the healthy one: the run may read it, but must read it right — every record's
                // content hash as before (the digest would see the run's bookkeeping of when records were seen).
                assert_ne!(run.status, RunStatus::Failed, "{case}: {:?}", run.error);
                let counts = run.counts;
                assert_eq!((counts.created, counts.updated, counts.deleted), (0, 0, 0), "{case}: {counts:?}");
                before = store.data_digest().expect("digest");
                continue;
            }
            assert_eq!(store.data_digest().expect("digest"), before, "{case}: the store changed ({run:?})");
            assert_eq!(run.status, RunStatus::Failed, "{case}: {run:?}");
            let error = run.error.clone().unwrap_or_default();
            if subject.rejects_pages {
                let locations = reject_locations(&store, run.run_id);
                assert!(
                    locations.iter().any(|location| location.ends_with(&subject.target)),
                    "{case}: the page is not among the rejects {locations:?}"
                );
            } else {
                let file = subject.target.rsplit('/').next().unwrap_or_default();
                let file = file.split('?').next().unwrap_or(file);
                let rejects = reject_locations(&store, run.run_id);
                assert!(
                    error.contains(file) || rejects.iter().any(|location| location.contains(file)),
                    "{case}: neither the error nor a reject names the source: {error} {rejects:?}"
                );
            }
            match fault {
                Fault::TooManyRequests => {
                    let arrivals = server.arrivals(&subject.target);
                    let last_two = &arrivals[arrivals.len() - 2..];
                    let waited = last_two[1].duration_since(last_two[0]);
                    assert!(waited >= Duration::from_millis(950), "{case}: Retry-After not honoured ({waited:?})");
                }
                Fault::DeclaredOverLimit | Fault::StreamedOverLimit if !subject.rejects_pages => {
                    assert!(error.contains("exceeds the limit"), "{case}: {error}");
                }
                _ => {}
            }
        }
        assert!(tried >= 11, "{label}: only {tried} faults apply");

        subject.serve_healthy(&server);
        let recovered = import(&hub, subject.id).await;
        assert_ne!(recovered.status, RunStatus::Failed, "{label}: the healthy source fails: {:?}", recovered.error);
        let counts = recovered.counts;
        assert_eq!(
            (counts.created, counts.updated, counts.deleted),
            (0, 0, 0),
            "{label}: the same source, the same data"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_a_school_list_xlsx_change_nothing() {
    every_fault_leaves_the_store_as_it_was(school_list).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_an_equipment_csv_change_nothing() {
    every_fault_leaves_the_store_as_it_was(equipment_csv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_a_funding_xml_export_change_nothing() {
    every_fault_leaves_the_store_as_it_was(funding_xml).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_a_foerderkatalog_export_change_nothing() {
    every_fault_leaves_the_store_as_it_was(foerderkatalog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_an_oparl_page_change_nothing() {
    every_fault_leaves_the_store_as_it_was(oparl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_an_allris_page_change_nothing() {
    every_fault_leaves_the_store_as_it_was(allris).await;
}

/// 50 clients read the paper list while an OParl import commits 500 papers, then while a second import fails on
/// its last page: no 5xx, and every answer shows either none or all of the first run's papers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_during_imports_and_never_shows_half_a_run() {
    for database in databases() {
        let server = FaultServer::start().await;
        let base = server.base();
        let subject = oparl(&base);
        subject.serve_healthy(&server);
        let pages = paper_pages(&base, "/oparl/body/1/paper", 500, 50);
        server.reply("/oparl/body/1/paper", Reply::ok("application/json", pages[0].1.clone()));
        for (path, page) in &pages {
            server.reply(path, Reply::ok("application/json", page.clone()));
        }
        server.set_latency(Duration::from_millis(30));
        let tokens = format!("[[auth.tokens]]\nname = \"ops\"\ntoken = \"{ADMIN}\"\nscopes = [\"admin\"]\n");
        let (_dir, config) = config(&database.url, &subject.connector_toml, &tokens);
        let app = spawn_app(config).await;
        let label = database.backend.to_string();

        for (round, expected_after) in [(0, 500usize), (1, 500)] {
            if round == 1 {
                server.reply(&pages[9].0, Reply::status(500));
            }
            let before = app.get_json("/api/v1/papers?limit=1000").await["data"].as_array().map_or(0, Vec::len);
            let trigger = app
                .client
                .post(format!("{}/api/v1/connectors/ratsinfo/runs", app.address))
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("trigger");
            assert_eq!(trigger.status(), 202, "{label}");
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let mut clients = Vec::new();
            for client in 0..50 {
                let (address, http, done) = (app.address.clone(), app.client.clone(), done.clone());
                clients.push(tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let path = if client % 5 == 0 { "/api/v1/import-runs" } else { "/api/v1/papers?limit=1000" };
                        let response = match http.get(format!("{address}{path}")).send().await {
                            Ok(response) => response,
                            Err(error) => {
                                // Counted below: a connection the starved machine dropped is no server error.
                                seen.push((0, path, 0, error.to_string()));
                                continue;
                            }
                        };
                        let status = response.status().as_u16();
                        let text = response.text().await.unwrap_or_else(|error| format!("unreadable: {error}"));
                        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                        let count = body["data"].as_array().map_or(0, Vec::len);
                        seen.push((status, path, count, text.chars().take(300).collect::<String>()));
                    }
                    seen
                }));
            }
            let run = app.wait_for_run("ratsinfo").await;
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let (mut answers, mut dropped) = (0, Vec::new());
            for client in clients {
                for (status, path, count, text) in client.await.expect("client") {
                    // 408: actix gives up on a request head it could not read in time (CPU-starved test machine).
                    if status == 0 || status == 408 {
                        dropped.push(format!("{path}: {status} {text}"));
                        continue;
                    }
                    answers += 1;
                    assert!(status < 500, "{label}: {path} answered {status}: {text}");
                    assert!(text.starts_with('{'), "{label}: {path} answered {status} without JSON: {text:?}");
                    if path.contains("papers") {
                        assert!(count == before || count == expected_after, "{label}: saw {count} papers mid-run");
                    }
                }
            }
            assert!(answers >= 50, "{label}: only {answers} answers");
            assert!(
                dropped.len() * 100 <= answers,
                "{label}: {} of {answers} requests dropped: {dropped:?}",
                dropped.len()
            );
            let expected_status = if round == 0 { "succeeded" } else { "failed" };
            assert_eq!(run["status"], expected_status, "{label}: {run}");
        }
    }
}

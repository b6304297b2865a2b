//! The OParl connector against a loopback server serving the real and spec fixtures (hosts rewritten to the
//! server) and generated endpoints.

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use ikz_connectors::connector::{Connector, ConnectorError, RecordSink, Rejection, RunContext, RunOutcome, SinkError};
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{
    Ags, ConsultationResult, EntityKind, FileOwner, OrganizationKind, Partner, PartnerKind, Record,
};
use ikz_connectors::oparl::config::{List, Settings, UnmappedBodies};
use ikz_connectors::oparl::testing::{paper_pages, Response, TestServer};
use ikz_connectors::oparl::OparlConnector;
use serde_json::{json, Value};

#[derive(Default)]
struct CollectSink {
    records: Vec<Record>,
    rejects: Vec<Rejection>,
    warnings: Vec<String>,
}

#[async_trait]
impl RecordSink for CollectSink {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.records.extend(batch);
        Ok(())
    }
    async fn reject(&mut self, rejection: Rejection) -> Result<(), SinkError> {
        self.rejects.push(rejection);
        Ok(())
    }
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }
}

impl CollectSink {
    fn of(&self, kind: EntityKind) -> Vec<&Record> {
        self.records.iter().filter(|r| r.kind() == kind && !matches!(r, Record::Tombstone(_))).collect()
    }

    fn find(&self, kind: EntityKind, source_key: &str) -> &Record {
        let found = self.of(kind).into_iter().find(|r| r.origin().source_key == source_key);
        found.unwrap_or_else(|| {
            let keys: Vec<&String> = self.of(kind).iter().map(|r| &r.origin().source_key).collect();
            panic!("no {kind} {source_key}; have {keys:?}")
        })
    }
}

fn partner(slug: &str, ags: Option<&str>) -> Partner {
    Partner {
        slug: slug.into(),
        name: slug.into(),
        kind: PartnerKind::Gemeinde,
        ags: ags.map(|a| Ags::parse(a).expect("ags")),
        aliases: vec![],
    }
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchSettings { retries: 3, backoff_ms: 1, request_timeout_secs: 10, ..FetchSettings::default() })
        .expect("client")
}

async fn run(
    connector: &OparlConnector,
    partner: &Partner,
    watermark: Option<String>,
) -> (Result<RunOutcome, ConnectorError>, CollectSink) {
    let fetcher = fetcher();
    let mut sink = CollectSink::default();
    let partners = vec![partner.clone()];
    let ctx = RunContext { partner, partners: &partners, watermark, sink: &mut sink, fetcher: &fetcher };
    let outcome = connector.run(ctx).await;
    (outcome, sink)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/oparl").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rewrites the fixture hosts to the server.
fn rewrite(bytes: &[u8], base: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let text = text
        .replace("https://sdnetrim.kdvz-frechen.de", &format!("{base}/sdnet"))
        .replace("https://www.bonn.sitzung-online.de", &format!("{base}/bonn"))
        .replace("https://oparl.example.org", &format!("{base}/spec"))
        .replace("http://ratsinfo.stadt-peine.de", &format!("{base}/peine"))
        .replace("https://ratsinfo.braunschweig.de", &format!("{base}/bs"));
    text.into_bytes()
}

fn serve_fixture(server: &TestServer, path: &str, name: &str) {
    server.route(path, Response::json(rewrite(&fixture(name), &server.base())));
}

fn serve(server: &TestServer, path: &str, value: Value) {
    server.route(path, Response::json(value.to_string().replace("{base}", &server.base())));
}

fn settings(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::default();
    f(&mut settings);
    settings
}

fn only(lists: &[List]) -> Settings {
    settings(|s| s.lists = lists.to_vec())
}

fn id(kind: EntityKind, partner: &str, url: &str) -> String {
    kind.public_id(partner, url)
}

fn date(y: i32, m: u32, d: u32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

// ---------------------------------------------------------------------------------------------------------------
// Real fixtures

#[tokio::test]
async fn sdnet_rim_fixtures_import_with_real_values() {
    let server = TestServer::start().await.expect("server");
    let base = server.base();
    let v = "/sdnet/rim4220/webservice/oparl/v1.0";
    serve_fixture(&server, &format!("{v}/system"), "sdnetrim-huertgenwald_system.json");
    serve_fixture(&server, &format!("{v}/body"), "sdnetrim-huertgenwald_body-list.json");
    serve_fixture(&server, &format!("{v}/body/1/organization"), "sdnetrim-huertgenwald_organization-list.json");
    serve_fixture(&server, &format!("{v}/body/1/meeting"), "sdnetrim-huertgenwald_meeting-list-page1.json");
    serve_fixture(&server, &format!("{v}/body/1/paper"), "sdnetrim-huertgenwald_paper-list-page1.json");
    // Only page 1 is a fixture: page 2 answers with an error object or `[]`, as some servers do past the end.
    serve(&server, &format!("{v}/body/1/paper?page=2"), json!({"error": "Seite nicht gefunden"}));
    serve(&server, &format!("{v}/body/1/meeting?page=2"), json!([]));
    serve(&server, &format!("{v}/body/1/person"), json!({"data": [], "links": {}}));

    let huertgenwald = partner("huertgenwald", Some("05358016"));
    let connector = OparlConnector::new(
        "ris-huertgenwald",
        &format!("{base}{v}/system"),
        // The body's AGS "5358016" lost its leading zero; the mapping by AGS still finds it.
        settings(|s| {
            s.bodies.insert("05358016".into(), "huertgenwald".into());
            s.unmapped_bodies = UnmappedBodies::Skip;
        }),
    );
    let (outcome, sink) = run(&connector, &huertgenwald, None).await;
    let outcome = outcome.expect("run succeeds");
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    assert!(!sink.warnings.iter().any(|w| w.contains("AGS")), "{:?}", sink.warnings);
    // The lists ended before their announced 85 and 15 pages: no tombstones from this walk.
    assert!(!outcome.complete);
    assert!(sink.warnings.iter().any(|w| w.contains("ended after 2 of the 85 pages")), "{:?}", sink.warnings);
    assert!(sink.warnings.iter().any(|w| w.contains("Seite nicht gefunden")), "{:?}", sink.warnings);

    assert_eq!(sink.of(EntityKind::Organization).len(), 22);
    assert_eq!(sink.of(EntityKind::Paper).len(), 25);
    assert_eq!(sink.of(EntityKind::Meeting).len(), 25);
    assert_eq!(sink.of(EntityKind::AgendaItem).len(), 361);

    let url = |path: &str| format!("{base}{v}/body/1/{path}");
    let Record::Organization(cdu) = sink.find(EntityKind::Organization, &url("organization/2-1")) else { panic!() };
    assert_eq!(cdu.name, "Christlich Demokratische Union");
    assert_eq!(cdu.kind, OrganizationKind::Faction);
    assert_eq!(cdu.start_date, date(2002, 1, 1));
    assert_eq!(cdu.partner, "huertgenwald");

    let Record::Paper(paper) = sink.find(EntityKind::Paper, &url("paper/60")) else { panic!() };
    assert_eq!(paper.subject, "Umbesetzungen im Bauausschuss");
    assert_eq!(paper.reference.as_deref(), Some("102/2002"));
    assert_eq!(paper.paper_type.as_deref(), Some("Tischvorlage"));
    assert_eq!(paper.id, id(EntityKind::Paper, "huertgenwald", &url("paper/60")));
    assert!(paper.origin.source_url.as_deref().is_some_and(|u| u.contains("/rim4220/vorgang/")));
    let Record::File(file) = sink.find(EntityKind::File, &url("file/1-145")) else { panic!() };
    assert_eq!((file.owner_kind, file.owner_id.as_str()), (FileOwner::Paper, paper.id.as_str()));
    assert_eq!(file.mime_type.as_deref(), Some("application/pdf"));

    let Record::Meeting(meeting) = sink.find(EntityKind::Meeting, &url("meeting/333")) else { panic!() };
    assert_eq!(meeting.name, "Ausschuss für Jugend, Kultur und Vereine (2. 1. Sitzung)");
    assert_eq!(meeting.start, Utc.with_ymd_and_hms(2007, 1, 23, 17, 0, 0).single());
    assert_eq!(meeting.organization_ids, vec![id(EntityKind::Organization, "huertgenwald", &url("organization/1-9"))]);
    assert!(meeting.location.as_deref().is_some_and(|l| l.starts_with("Rathaus Gemeinde Hürtgenwald")));

    // Join: the consultation of agenda item 3540 (meeting 333) gets the meeting's date, the agenda item its paper.
    let Record::Consultation(consultation) = sink.find(EntityKind::Consultation, &url("consultation/1509")) else {
        panic!()
    };
    assert_eq!(consultation.meeting_id, Some(meeting.id.clone()));
    assert_eq!(consultation.date, date(2007, 1, 23));
    let committee = id(EntityKind::Organization, "huertgenwald", &url("organization/1-9"));
    assert_eq!(consultation.organization_id, Some(committee));
    assert_eq!(consultation.position, Some(1));
    let Record::AgendaItem(item) = sink.find(EntityKind::AgendaItem, &url("agendaitem/3540")) else { panic!() };
    assert_eq!(item.meeting_id, meeting.id);
    assert_eq!(item.number.as_deref(), Some("3."));
    assert_eq!(item.paper_id, Some(consultation.paper_id.clone()));
    assert_eq!(item.order, Some(4));

    // The one agenda item with a result: its text is kept.
    let results: Vec<String> = sink
        .of(EntityKind::AgendaItem)
        .into_iter()
        .filter_map(|r| match r {
            Record::AgendaItem(a) => a.result.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].starts_with("2 Ja-Stimme(n)"));

    // modified_since is not sent on a full walk; the watermark is returned.
    assert!(!server.requests().iter().any(|r| r.contains("modified_since")));
    assert!(outcome.watermark.is_some());
}

#[tokio::test]
async fn braunschweig_paper_with_raw_control_characters_imports() {
    let server = TestServer::start().await.expect("server");
    let (body_url, _) = generated_body(&server, &[List::Paper]);
    // The paper as served (invalid JSON), inside a bare array as its list.
    let mut page = b"[".to_vec();
    page.extend(rewrite(&fixture("mst_cc-egov_broken_json.broken_json"), &server.base()));
    page.extend(b"]");
    assert!(serde_json::from_slice::<Value>(&page).is_err(), "the fixture must stay invalid JSON");
    server.route("/oparl/body/1/paper", Response::json(page));
    let connector = OparlConnector::new("bs", &body_url, only(&[List::Paper]));
    let (outcome, sink) = run(&connector, &partner("braunschweig", None), None).await;
    outcome.expect("run succeeds");
    let key = format!("{}/bs/bi/oparl/1.0/papers.asp?id=1664", server.base());
    let Record::Paper(paper) = sink.find(EntityKind::Paper, &key) else { panic!() };
    assert!(
        paper.subject.starts_with("Volkshochschule Braunschweig e. V.\r\nUmwandlung in eine Gesellschaft"),
        "{}",
        paper.subject
    );
    assert!(!paper.subject.chars().any(|c| c.is_control() && !matches!(c, '\r' | '\n')), "{:?}", paper.subject);
    assert_eq!(paper.reference.as_deref(), Some("1664/99"));
}

#[tokio::test]
async fn peine_papers_as_a_bare_array() {
    let server = TestServer::start().await.expect("server");
    let (body_url, _) = generated_body(&server, &[List::Paper]);
    serve_fixture(&server, "/oparl/body/1/paper", "ratslotse_allris4-peine_papers-trimmed.json");
    let connector = OparlConnector::new("peine", &body_url, only(&[List::Paper]));
    let (outcome, sink) = run(&connector, &partner("peine", None), None).await;
    assert!(outcome.expect("run succeeds").complete);
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    let base = server.base();
    let Record::Paper(paper) = sink.find(EntityKind::Paper, &format!("{base}/peine/public/oparl/papers?id=4415"))
    else {
        panic!()
    };
    assert_eq!(paper.reference.as_deref(), Some("1. Ergänzung zu 431/2021"));
    assert_eq!(paper.date, date(2024, 6, 20));
    let consultations: Vec<_> = sink
        .of(EntityKind::Consultation)
        .into_iter()
        .filter_map(|r| match r {
            Record::Consultation(c) if c.paper_id == paper.id => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(consultations.len(), 2);
    assert_eq!(consultations[0].role.as_deref(), Some("Vorberatung"));
    assert_eq!(consultations[0].authoritative, Some(false));
    assert_eq!(consultations[1].position, Some(2));
    // No agenda item result known: pending, not a guess.
    assert!(consultations.iter().all(|c| c.result == ConsultationResult::Pending));
    let file_key = format!("{base}/peine/public/oparl/files?id=1010054&dtyp=130");
    let Record::File(file) = sink.find(EntityKind::File, &file_key) else { panic!() };
    assert_eq!(file.mime_type.as_deref(), Some("application/pdf"), "ALLRIS 4 writes `pdf`");
}

#[tokio::test]
async fn bonn_body_with_broken_offsets_imports() {
    let server = TestServer::start().await.expect("server");
    serve_fixture(&server, "/bonn/public/oparl/bodies?id=1", "mst_allris4-bonn_body_cc-egov-colon-before.json");
    // Its organization and meeting lists, with the same `+01::00` offsets and date-times where dates are due.
    serve(
        &server,
        "/bonn/public/oparl/organizations?body=1",
        json!({"data": [{
            "id": "{base}/bonn/public/oparl/organizations?id=1",
            "type": "https://schema.oparl.org/1.1/Organization",
            "name": "Rat der Bundesstadt Bonn",
            "organizationType": "Gremium",
            "startDate": "1969-08-01T00:00:00+01::00",
            "created": "2019-12-16T11:21:11+01::00",
            "modified": "2019-12-16T11:21:11+01::00"
        }], "links": {}}),
    );
    serve(
        &server,
        "/bonn/public/oparl/meetings?body=1",
        json!({"data": [{
            "id": "{base}/bonn/public/oparl/meetings?id=7",
            "type": "https://schema.oparl.org/1.1/Meeting",
            "name": "Sitzung des Rates",
            "start": "2019-12-12T18:00:00+01::00",
            "end": "2019-12-12",
            "organization": "{base}/bonn/public/oparl/organizations?id=1"
        }], "links": {}}),
    );
    let url = format!("{}/bonn/public/oparl/bodies?id=1", server.base());
    let connector = OparlConnector::new("bonn", &url, only(&[List::Organization, List::Meeting]));
    let (outcome, sink) = run(&connector, &partner("bonn", None), None).await;
    assert!(outcome.expect("run succeeds").complete);
    let Record::Organization(rat) = &sink.of(EntityKind::Organization)[0] else { panic!() };
    assert_eq!(rat.start_date, date(1969, 8, 1));
    assert_eq!(rat.kind, OrganizationKind::Council);
    let Record::Meeting(meeting) = &sink.of(EntityKind::Meeting)[0] else { panic!() };
    assert_eq!(meeting.start, Utc.with_ymd_and_hms(2019, 12, 12, 17, 0, 0).single());
    // A date where a date-time is due: midnight German time.
    assert_eq!(meeting.end, Utc.with_ymd_and_hms(2019, 12, 11, 23, 0, 0).single());
    // An object where the array is due.
    assert_eq!(meeting.organization_ids, vec![rat.id.clone()]);
}

#[tokio::test]
async fn spec_examples_of_1_0_and_1_1_import() {
    let server = TestServer::start().await.expect("server");
    serve_fixture(&server, "/spec/", "spec-1.1_System-01.json");
    let load =
        |name: &str| -> Value { serde_json::from_slice(&rewrite(&fixture(name), &server.base())).expect("json") };
    server.route("/spec/bodies", Response::json(json!({"data": [load("spec-1.1_Body-01.json")]}).to_string()));
    let list = |items: Vec<Value>| Response::json(json!({"data": items, "links": {}}).to_string());
    server.route("/spec/body/0/organizations/", list(vec![load("spec-1.1_Organization-01.json")]));
    server.route("/spec/body/0/persons/", list(vec![load("spec-1.1_Person-01.json")]));
    server.route("/spec/body/0/meetings/", list(vec![load("spec-1.1_Meeting-01.json")]));
    // The 1.0 example has the same id as the 1.1 one; give it its own.
    let mut paper_10 = load("spec-1.0_Paper-01.json");
    paper_10["id"] = Value::String(format!("{}/spec/paper/749-v10", server.base()));
    server.route("/spec/body/0/papers/", list(vec![load("spec-1.1_Paper-01.json"), paper_10]));
    server.route("/spec/body/0/files/", list(vec![load("spec-1.1_File-01.json")]));
    for empty in ["memberships", "agendaItems", "consultations"] {
        server.route(&format!("/spec/body/0/{empty}/"), Response::json("[]"));
    }
    let connector = OparlConnector::new("spec", &format!("{}/spec/", server.base()), Settings::default());
    let cologne = partner("koeln", Some("05315000"));
    let (outcome, sink) = run(&connector, &cologne, None).await;
    let outcome = outcome.expect("run succeeds");
    assert!(outcome.complete, "{:?}", sink.warnings);
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    let spec = |path: &str| format!("{}/spec/{path}", server.base());

    let Record::Person(person) = sink.find(EntityKind::Person, &spec("person/29")) else { panic!() };
    assert_eq!(person.name, "Prof. Dr. Max Mustermann");
    assert_eq!(person.title.as_deref(), Some("Prof. Dr."));
    let Record::Membership(membership) = sink.find(EntityKind::Membership, &spec("memberships/385")) else { panic!() };
    assert_eq!(membership.person_id, person.id);
    assert_eq!(membership.role.as_deref(), Some("Vorsitzende"));
    assert_eq!(membership.voting_right, Some(true));
    assert_eq!(sink.of(EntityKind::Membership).len(), 2);

    let Record::Organization(org) = sink.find(EntityKind::Organization, &spec("organization/34")) else { panic!() };
    assert_eq!(org.name, "Ausschuss für Haushalt und Finanzen");
    assert_eq!(org.short_name.as_deref(), Some("Finanzausschuss"));
    assert_eq!(org.kind, OrganizationKind::Committee);

    let Record::AgendaItem(item) = sink.find(EntityKind::AgendaItem, &spec("agendaitem/3271")) else { panic!() };
    assert_eq!(item.result.as_deref(), Some("Geändert beschlossen"));
    assert_eq!(item.number.as_deref(), Some("10.1"));
    // Its consultation 1034 belongs to no paper of this endpoint.
    assert_eq!(item.paper_id, None);

    // Papers of both versions.
    assert_eq!(sink.of(EntityKind::Paper).len(), 2);
    let Record::Paper(paper) = sink.find(EntityKind::Paper, &spec("paper/749-v10")) else { panic!() };
    assert_eq!(
        (paper.subject.as_str(), paper.reference.as_deref()),
        ("Antwort auf Anfrage 1200/2014", Some("1234/2014"))
    );
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &spec("consultation/47594")) else { panic!() };
    assert_eq!((c.role.as_deref(), c.authoritative), (Some("Beschlussfassung"), Some(false)));
    assert_eq!(c.organization_id, Some(id(EntityKind::Organization, "koeln", &spec("organization/96"))));

    // The meeting's protocols share one URL: one file record. The file list's copy of the paper's main file adds
    // nothing.
    let count = |key: &str| sink.of(EntityKind::File).iter().filter(|r| r.origin().source_key == key).count();
    assert_eq!(count(&spec("files/57739")), 1);
    assert_eq!(count(&spec("files/57737")), 1);
    let Record::File(main) = sink.find(EntityKind::File, &spec("files/57737")) else { panic!() };
    assert_eq!((main.owner_kind, main.size), (FileOwner::Paper, Some(82930)));
}

// ---------------------------------------------------------------------------------------------------------------
// Generated endpoints

/// A system with one body offering `lists` under `/oparl/body/1/<list>`; returns the body's and system's URLs.
fn generated_body(server: &TestServer, lists: &[List]) -> (String, String) {
    let base = server.base();
    let mut body = json!({
        "id": "{base}/oparl/body/1",
        "type": "https://schema.oparl.org/1.1/Body",
        "name": "Samtgemeinde Hankensbüttel",
        "ags": "3151009",
    });
    for list in lists {
        body[list.body_key()] = Value::String(format!("{{base}}/oparl/body/1/{}", list.body_key()));
    }
    serve(server, "/oparl/body/1", body.clone());
    let system = json!({"id": "{base}/oparl/system", "type": "https://schema.oparl.org/1.0/System", "body": "{base}/oparl/body"});
    serve(server, "/oparl/system", system);
    serve(server, "/oparl/body", json!({"data": [body], "links": {}}));
    (format!("{base}/oparl/body/1"), format!("{base}/oparl/system"))
}

fn serve_paper_pages(server: &TestServer, total: usize, per_page: usize) -> Vec<String> {
    let pages = paper_pages(&server.base(), "/oparl/body/1/paper", total, per_page);
    let mut paths = Vec::new();
    for (index, (path, body)) in pages.into_iter().enumerate() {
        if index == 0 {
            server.route("/oparl/body/1/paper", Response::json(body.clone()));
        }
        server.route(&path, Response::json(body));
        paths.push(path);
    }
    paths
}

/// Meetings whose agenda items carry the results of the generated papers' consultations.
fn serve_meetings(server: &TestServer, papers: usize) {
    let meetings: Vec<Value> = (0..papers.div_ceil(10))
        .map(|m| {
            let items: Vec<Value> = (m * 10..papers.min(m * 10 + 10))
                .map(|n| {
                    json!({
                        "id": format!("{{base}}/oparl/agendaitem/{n}"),
                        "number": format!("{}", n % 10 + 1),
                        "name": format!("Vorlage {n}"),
                        "public": true,
                        "consultation": format!("{{base}}/oparl/consultation/{n}"),
                        "result": if n % 2 == 0 { "ungeändert beschlossen" } else { "zur Kenntnis genommen" }
                    })
                })
                .collect();
            json!({
                "id": format!("{{base}}/oparl/meeting/{m}"),
                "type": "https://schema.oparl.org/1.1/Meeting",
                "name": format!("{}. Sitzung des Schulausschusses", m + 1),
                "start": "2019-05-07T18:00:00+02:00",
                "organization": ["{base}/oparl/organization/1"],
                "agendaItem": items
            })
        })
        .collect();
    serve(server, "/oparl/body/1/meeting", json!({"data": meetings, "links": {}}));
    serve(
        server,
        "/oparl/body/1/organization",
        json!({"data": [{"id": "{base}/oparl/organization/1", "type": "https://schema.oparl.org/1.1/Organization",
            "name": "Schulausschuss", "organizationType": "Gremium", "classification": "Ausschuss"}]}),
    );
}

const MAIN_LISTS: [List; 3] = [List::Organization, List::Meeting, List::Paper];

#[tokio::test]
async fn full_import_of_a_paginated_endpoint_joins_results() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &MAIN_LISTS);
    serve_paper_pages(&server, 125, 25);
    serve_meetings(&server, 125);
    let connector = OparlConnector::new("gen", &system, only(&MAIN_LISTS));
    let hankensbuettel = partner("hankensbuettel", Some("03151009"));
    let (outcome, sink) = run(&connector, &hankensbuettel, None).await;
    let outcome = outcome.expect("run succeeds");
    assert!(outcome.complete);
    assert!(sink.warnings.is_empty(), "{:?}", sink.warnings);
    assert_eq!(sink.of(EntityKind::Paper).len(), 125);
    assert_eq!(sink.of(EntityKind::Consultation).len(), 125);
    assert_eq!(sink.of(EntityKind::AgendaItem).len(), 125);
    assert_eq!(sink.of(EntityKind::Meeting).len(), 13);
    assert!(outcome.notes[0].starts_with("full walk, "), "{:?}", outcome.notes);
    let base = server.base();
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &format!("{base}/oparl/consultation/42")) else {
        panic!()
    };
    assert_eq!(c.result, ConsultationResult::Adopted);
    assert_eq!(c.result_text.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(c.organization_name.as_deref(), Some("Schulausschuss"));
    assert_eq!(c.date, date(2019, 5, 7));
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &format!("{base}/oparl/consultation/43")) else {
        panic!()
    };
    assert_eq!(c.result, ConsultationResult::Noted);
    let Record::AgendaItem(item) = sink.find(EntityKind::AgendaItem, &format!("{base}/oparl/agendaitem/43")) else {
        panic!()
    };
    assert_eq!(item.paper_id, Some(id(EntityKind::Paper, "hankensbuettel", &format!("{base}/oparl/paper/43"))));
    let requests = server.requests();
    for page in 2..=5 {
        assert!(requests.contains(&format!("/oparl/body/1/paper?page={page}")), "{requests:?}");
    }
}

#[tokio::test]
async fn incremental_run_sends_modified_since_with_literal_colons_and_tombstones_deletions() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &MAIN_LISTS);
    serve_paper_pages(&server, 50, 25);
    serve_meetings(&server, 50);
    let connector = OparlConnector::new("gen", &system, only(&MAIN_LISTS));
    let p = partner("hankensbuettel", None);
    let (first, _) = run(&connector, &p, None).await;
    let watermark = first.expect("first run").watermark.expect("watermark");
    let mark: Value = serde_json::from_str(&watermark).expect("json watermark");
    let started = mark["modified_since"].as_str().expect("instant");
    let started = chrono::DateTime::parse_from_rfc3339(started).expect("rfc3339").with_timezone(&Utc);

    // What changed since: paper 7 was deleted, paper 8 changed; meetings and organizations did not change. The
    // server routes filtered requests to these unfiltered routes.
    server.clear_requests();
    let changed = json!({"data": [
        {"id": "{base}/oparl/paper/7", "type": "https://schema.oparl.org/1.1/Paper", "deleted": true},
        {"id": "{base}/oparl/paper/8", "type": "https://schema.oparl.org/1.1/Paper", "name": "Vorlage 8 (geändert)",
         "consultation": {"id": "{base}/oparl/consultation/8", "agendaItem": "{base}/oparl/agendaitem/8",
                          "meeting": "{base}/oparl/meeting/0", "role": "Entscheidung"}}
    ], "links": {}});
    serve(&server, "/oparl/body/1/paper", changed);
    serve(&server, "/oparl/body/1/meeting", json!({"data": [], "links": {}}));
    serve(&server, "/oparl/body/1/organization", json!({"data": [], "links": {}}));
    serve(
        &server,
        "/oparl/agendaitem/8",
        json!({"id": "{base}/oparl/agendaitem/8", "type": "https://schema.oparl.org/1.1/AgendaItem",
               "meeting": "{base}/oparl/meeting/0", "result": "abgelehnt"}),
    );
    let (outcome, sink) = run(&connector, &p, Some(watermark)).await;
    let outcome = outcome.expect("incremental run");
    assert!(!outcome.complete, "an incremental run must not tombstone what it did not see");

    let requests = server.requests();
    let paper_request = requests.iter().find(|r| r.starts_with("/oparl/body/1/paper?")).expect("paper list requested");
    let since = (started - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(paper_request, &format!("/oparl/body/1/paper?modified_since={since}"));
    assert!(!paper_request.contains("%3A"));

    let base = server.base();
    let tombstones: Vec<_> = sink
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Tombstone(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tombstones.len(), 1);
    assert_eq!(tombstones[0].kind, EntityKind::Paper);
    assert_eq!(tombstones[0].id, id(EntityKind::Paper, "hankensbuettel", &format!("{base}/oparl/paper/7")));
    assert_eq!(sink.of(EntityKind::Paper).len(), 1);
    // The agenda item was not among the (unchanged) meetings: fetched on its own for the result.
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &format!("{base}/oparl/consultation/8")) else {
        panic!()
    };
    assert_eq!(c.result, ConsultationResult::Rejected);
    assert_eq!(c.result_text.as_deref(), Some("abgelehnt"));
    assert!(requests.iter().any(|r| r == "/oparl/agendaitem/8"));
    // The new watermark is this run's start; the last full walk is kept.
    let next: Value = serde_json::from_str(&outcome.watermark.expect("watermark")).expect("json");
    assert_eq!(next["last_full_walk"], mark["last_full_walk"]);
    assert!(outcome.notes[0].starts_with("incremental walk"), "{:?}", outcome.notes);
}

#[tokio::test]
async fn full_walk_comes_back_after_the_configured_days() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    serve_paper_pages(&server, 10, 25);
    let connector = OparlConnector::new(
        "gen",
        &system,
        settings(|s| {
            s.lists = vec![List::Paper];
            s.full_walk_every_days = 3;
        }),
    );
    let old = r#"{"modified_since":"2024-03-01T10:00:00Z","last_full_walk":"2024-02-01T10:00:00Z"}"#;
    let (outcome, _) = run(&connector, &partner("x", None), Some(old.into())).await;
    assert!(outcome.expect("run").complete, "the last full walk is too long ago: a full walk");
    assert!(!server.requests().iter().any(|r| r.contains("modified_since")));
}

#[tokio::test]
async fn a_next_link_loop_fails_with_a_clear_error() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    let pages = paper_pages(&server.base(), "/oparl/body/1/paper", 125, 25);
    for (index, (path, body)) in pages.into_iter().enumerate() {
        // Page 3 links back to page 2.
        let body = if index == 2 { body.replace("paper?page=4\"", "paper?page=2\"") } else { body };
        if index == 0 {
            server.route("/oparl/body/1/paper", Response::json(body.clone()));
        }
        server.route(&path, Response::json(body));
    }
    let connector = OparlConnector::new("gen", &system, only(&[List::Paper]));
    let (outcome, _) = run(&connector, &partner("x", None), None).await;
    let error = outcome.expect_err("loop").to_string();
    assert!(error.contains("loops") && error.contains("paper?page=3") && error.contains("paper?page=2"), "{error}");
    // Page 2 was read once: the loop was caught before fetching it again.
    assert_eq!(server.requests().iter().filter(|r| r.ends_with("paper?page=2")).count(), 1);
}

#[tokio::test]
async fn a_500_on_page_3_of_5_is_retried_and_the_run_succeeds() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    let paths = serve_paper_pages(&server, 125, 25);
    server.fail(&paths[2], 500, 2);
    let connector = OparlConnector::new("gen", &system, only(&[List::Paper]));
    let (outcome, sink) = run(&connector, &partner("x", None), None).await;
    assert!(outcome.expect("run succeeds").complete);
    assert_eq!(sink.of(EntityKind::Paper).len(), 125);
    assert_eq!(server.requests().iter().filter(|r| r.ends_with("paper?page=3")).count(), 3);
}

#[tokio::test]
async fn a_permanent_500_on_page_3_fails_the_run() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    let paths = serve_paper_pages(&server, 125, 25);
    server.fail(&paths[2], 500, u32::MAX);
    let connector = OparlConnector::new("gen", &system, only(&[List::Paper]));
    let (outcome, _) = run(&connector, &partner("x", None), None).await;
    let error = outcome.expect_err("fails");
    assert!(matches!(error, ConnectorError::Fetch { .. }), "{error}");
    assert!(error.to_string().contains("paper?page=3") && error.to_string().contains("500"), "{error}");
    // The first request and 3 retries.
    assert_eq!(server.requests().iter().filter(|r| r.ends_with("paper?page=3")).count(), 4);
}

#[tokio::test]
async fn a_failing_page_fails_the_run_after_the_pages_before_it_reached_the_sink() {
    // Pages are normalised on a thread of their own: what the pages before a failing one held still reaches the
    // sink, in order, before the run fails with the failing page's URL.
    for fault in ["500", "json"] {
        let server = TestServer::start().await.expect("server");
        let (_, system) = generated_body(&server, &[List::Paper]);
        let paths = serve_paper_pages(&server, 125, 25);
        match fault {
            "500" => server.fail(&paths[2], 500, u32::MAX),
            _ => server.route(&paths[2], Response::json(r#"{"data": [{"id": "x"#.to_owned())),
        }
        let connector = OparlConnector::new(
            "gen",
            &system,
            settings(|s| {
                s.lists = vec![List::Paper];
                s.batch_size = 25;
            }),
        );
        let (outcome, sink) = run(&connector, &partner("x", None), None).await;
        let error = outcome.expect_err("fails");
        assert!(error.to_string().contains("paper?page=3"), "{fault}: {error}");
        match fault {
            "500" => assert!(matches!(error, ConnectorError::Fetch { .. }), "{error}"),
            _ => assert!(matches!(error, ConnectorError::Parse { .. }), "{error}"),
        }
        let papers: Vec<&str> =
            sink.of(EntityKind::Paper).iter().map(|paper| paper.origin().source_key.as_str()).collect();
        let expected: Vec<String> = (0..50).map(|n| format!("{}/oparl/paper/{n}", server.base())).collect();
        assert_eq!(papers, expected, "{fault}");
    }
}

#[tokio::test]
async fn a_server_that_ignores_limit_is_walked_to_the_end() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    // Asked for 100 per page, the server sends 10.
    serve_paper_pages(&server, 35, 10);
    let connector = OparlConnector::new(
        "gen",
        &system,
        settings(|s| {
            s.lists = vec![List::Paper];
            s.page_size = Some(100);
        }),
    );
    let (outcome, sink) = run(&connector, &partner("x", None), None).await;
    assert!(outcome.expect("run").complete);
    assert_eq!(sink.of(EntityKind::Paper).len(), 35);
    assert!(server.requests().contains(&"/oparl/body/1/paper?limit=100".to_owned()));
}

#[tokio::test]
async fn tolerates_placeholders_and_objects_for_arrays_and_rejects_objects_without_id() {
    let server = TestServer::start().await.expect("server");
    let (body, _) = generated_body(&server, &[List::Meeting, List::Paper]);
    serve(
        &server,
        "/oparl/body/1/meeting",
        json!({"data": [{
            "id": "{base}/oparl/meeting/1",
            "name": "N/A",
            "start": "2020-02-03T17:00:00+01::00",
            "location": {"description": " ", "streetAddress": "Bahnhofstraße 12", "locality": "Hankensbüttel"},
            "agendaItem": {"id": "{base}/oparl/agendaitem/1", "number": "", "name": "Digitalpakt Schule", "result": "N/A"}
        }]}),
    );
    serve(
        &server,
        "/oparl/body/1/paper",
        json!({"data": [
            {"id": "{base}/oparl/paper/1", "name": "Medienentwicklungsplan", "reference": "N/A", "paperType": "",
             "date": "2020-01-15T00:00:00+01::00", "consultation": {"id": "{base}/oparl/consultation/1"}},
            {"type": "https://schema.oparl.org/1.1/Paper", "name": "ohne id"},
            {"id": "{base}/oparl/meeting/9", "type": "https://schema.oparl.org/1.1/Meeting", "name": "falsche Liste"},
            {"id": "{base}/oparl/paper/2", "name": "Datum kaputt", "date": "31.02.2020x"}
        ]}),
    );
    let connector = OparlConnector::new("gen", &body, only(&[List::Meeting, List::Paper]));
    let (outcome, sink) = run(&connector, &partner("x", None), None).await;
    outcome.expect("run succeeds");
    let base = server.base();
    let Record::Meeting(meeting) = sink.find(EntityKind::Meeting, &format!("{base}/oparl/meeting/1")) else { panic!() };
    assert_eq!(meeting.name, "Sitzung am 03.02.2020", "an N/A name: a name from the date");
    assert_eq!(meeting.location.as_deref(), Some("Bahnhofstraße 12, Hankensbüttel"));
    let Record::AgendaItem(item) = sink.find(EntityKind::AgendaItem, &format!("{base}/oparl/agendaitem/1")) else {
        panic!()
    };
    assert_eq!((item.number.as_deref(), item.result.as_deref(), item.order), (None, None, Some(1)));
    let Record::Paper(paper) = sink.find(EntityKind::Paper, &format!("{base}/oparl/paper/1")) else { panic!() };
    assert_eq!((paper.reference.as_deref(), paper.paper_type.as_deref()), (None, None));
    assert_eq!(paper.date, date(2020, 1, 15));
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &format!("{base}/oparl/consultation/1")) else {
        panic!()
    };
    assert_eq!(c.paper_id, paper.id);
    // A bad date keeps the paper, without the date, and says so.
    let Record::Paper(bad) = sink.find(EntityKind::Paper, &format!("{base}/oparl/paper/2")) else { panic!() };
    assert_eq!(bad.date, None);
    assert!(sink.warnings.iter().any(|w| w.contains("#/data/3") && w.contains("`date`")), "{:?}", sink.warnings);
    // An object without id and one of the wrong type are rejected with their location.
    assert_eq!(sink.rejects.len(), 2, "{:?}", sink.rejects);
    assert_eq!(sink.rejects[0].location, format!("{base}/oparl/body/1/paper #/data/1"));
    assert_eq!(sink.rejects[0].field.as_deref(), Some("id"));
    assert!(sink.rejects[1].message.contains("expected a Paper, got Meeting"), "{:?}", sink.rejects[1]);
}

#[tokio::test]
async fn a_referenced_object_that_answers_404_keeps_the_reference_and_warns() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    serve(
        &server,
        "/oparl/body/1/paper",
        json!({"data": [{"id": "{base}/oparl/paper/1", "name": "Breitbandausbau",
            "consultation": [{"id": "{base}/oparl/consultation/1", "agendaItem": "{base}/oparl/agendaitem/404",
                              "meeting": "{base}/oparl/meeting/3"}]}]}),
    );
    let connector = OparlConnector::new("gen", &system, only(&[List::Paper]));
    // An incremental run (a recent full walk): the join fetches the agenda item, which is gone.
    let recent = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let mark = format!(r#"{{"modified_since":"{recent}","last_full_walk":"{recent}"}}"#);
    let (outcome, sink) = run(&connector, &partner("x", None), Some(mark)).await;
    outcome.expect("run succeeds");
    let base = server.base();
    let Record::Consultation(c) = sink.find(EntityKind::Consultation, &format!("{base}/oparl/consultation/1")) else {
        panic!()
    };
    assert_eq!(c.meeting_id, Some(id(EntityKind::Meeting, "x", &format!("{base}/oparl/meeting/3"))));
    assert_eq!(c.result, ConsultationResult::Pending);
    assert!(sink.warnings.iter().any(|w| w.contains("agendaitem/404") && w.contains("404")), "{:?}", sink.warnings);
}

#[tokio::test]
async fn bodies_map_to_partners_and_unknown_partners_fail_clearly() {
    let server = TestServer::start().await.expect("server");
    let (_, system) = generated_body(&server, &[List::Paper]);
    serve_paper_pages(&server, 3, 25);
    let connector = OparlConnector::new(
        "gen",
        &system,
        settings(|s| {
            s.lists = vec![List::Paper];
            s.bodies.insert("Samtgemeinde HANKENSBÜTTEL".into(), "hankensbuettel".into());
        }),
    );
    let landkreis = partner("gifhorn", Some("03151000"));
    let fetcher = fetcher();
    let mut sink = CollectSink::default();
    let partners = vec![landkreis.clone(), partner("hankensbuettel", Some("03151009"))];
    let ctx =
        RunContext { partner: &landkreis, partners: &partners, watermark: None, sink: &mut sink, fetcher: &fetcher };
    connector.run(ctx).await.expect("run");
    assert_eq!(sink.of(EntityKind::Paper).len(), 3);
    assert!(sink.of(EntityKind::Paper).iter().all(|r| matches!(r, Record::Paper(p) if p.partner == "hankensbuettel")));
    assert!(sink.warnings.is_empty(), "AGS 3151009 is 03151009: {:?}", sink.warnings);

    let connector = OparlConnector::new(
        "gen",
        &system,
        settings(|s| {
            s.lists = vec![List::Paper];
            s.bodies.insert("03151009".into(), "wittingen".into());
        }),
    );
    let (outcome, _) = run(&connector, &landkreis, None).await;
    let error = outcome.expect_err("unknown partner").to_string();
    assert!(error.contains("`wittingen`") && error.contains("not configured"), "{error}");
}

#[test]
fn the_kind_is_registered_and_reports_config_errors() {
    let kind = ikz_connectors::registry::find("oparl").expect("registered");
    let table: toml::Table = toml::from_str("lists = ['paper']\nfull_walk_every_day = 3\n").expect("toml");
    let p = partner("x", None);
    let spec = ikz_connectors::ConnectorSpec {
        id: "ris",
        partner: &p,
        source: ikz_connectors::Source::Http("https://ris.example/oparl/system".into()),
        settings: &table,
        base_dir: std::path::Path::new("/"),
    };
    let errors = (kind.build)(&spec).err().expect("unknown key");
    assert_eq!(errors[0].field, "full_walk_every_day");
    let table: toml::Table = toml::from_str("lists = ['paper', 'meeting']\n").expect("toml");
    let spec = ikz_connectors::ConnectorSpec { settings: &table, ..spec };
    let connector = (kind.build)(&spec).expect("valid");
    assert_eq!(
        connector.entities(),
        &[EntityKind::Meeting, EntityKind::AgendaItem, EntityKind::Paper, EntityKind::Consultation, EntityKind::File]
    );
}

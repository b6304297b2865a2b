//! The `allris` connector end to end: the demo site served by a fixture HTTP server on loopback (and read from its
//! folder), crawled through a collecting sink.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{NaiveDate, TimeZone, Utc};
use ikz_connectors::connector::{RecordSink, Rejection, RunContext, RunOutcome, SinkError, Source};
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{Cents, ConsultationResult, Partner, PartnerKind, Record};
use ikz_connectors::registry::{self, ConnectorSpec};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Default)]
struct Collect {
    records: Vec<Record>,
    rejects: Vec<Rejection>,
    warnings: Vec<String>,
}

#[async_trait]
impl RecordSink for Collect {
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

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/allris")
}

fn partner() -> Partner {
    Partner {
        slug: "hankensbuettel".into(),
        name: "Samtgemeinde Hankensbüttel".into(),
        kind: PartnerKind::Samtgemeinde,
        ags: None,
        aliases: vec![],
    }
}

async fn crawl(source: Source, watermark: Option<String>) -> (Collect, RunOutcome) {
    crawl_with(source, watermark, "start_date = 2019-11-01").await
}

async fn crawl_with(source: Source, watermark: Option<String>, settings: &str) -> (Collect, RunOutcome) {
    let settings: toml::Table = toml::from_str(settings).expect("toml");
    let partner = partner();
    let kind = registry::find("allris").expect("allris is registered");
    let spec =
        ConnectorSpec { id: "allris-test", partner: &partner, source, settings: &settings, base_dir: Path::new(".") };
    let connector = (kind.build)(&spec).map_err(|errors| format!("{errors:?}")).expect("connector builds");
    let fetcher =
        Fetcher::new(FetchSettings { retries: 2, backoff_ms: 1, request_timeout_secs: 10, ..FetchSettings::default() })
            .expect("fetcher");
    let mut sink = Collect::default();
    let partners = [partner.clone()];
    let ctx = RunContext { partner: &partner, partners: &partners, watermark, sink: &mut sink, fetcher: &fetcher };
    let outcome = connector.run(ctx).await.expect("the crawl runs");
    (sink, outcome)
}

fn demo_page(dir: &str, id: &str) -> Vec<u8> {
    std::fs::read(demo_dir().join(dir).join(format!("{id}.html"))).expect("demo page")
}

fn html(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "text/html; charset=iso-8859-1").set_body_bytes(bytes)
}

/// Serves the demo site as ALLRIS classic under /bi/: every file of the folder at its .asp address, an empty
/// calendar for other months, the login page for non-public items, and a paper that fails with 500.
async fn serve_demo(failing_requests: u64) -> MockServer {
    let server = MockServer::start().await;
    for (dir, page, key) in
        [("to010", "to010.asp", "SILFDNR"), ("to020", "to020.asp", "TOLFDNR"), ("vo020", "vo020.asp", "VOLFDNR")]
    {
        for entry in std::fs::read_dir(demo_dir().join(dir)).expect("demo folder") {
            let file = entry.expect("entry").path();
            if file.extension().and_then(|ext| ext.to_str()) != Some("html") {
                continue;
            }
            let id = file.file_stem().and_then(|stem| stem.to_str()).expect("file name").to_owned();
            if id == "1249" {
                continue;
            }
            let response = if matches!(id.as_str(), "312" | "3113") {
                ResponseTemplate::new(302).insert_header("location", "/bi/noauth.asp")
            } else {
                html(std::fs::read(&file).expect("read"))
            };
            Mock::given(method("GET"))
                .and(path(format!("/bi/{page}")))
                .and(query_param(key, id.as_str()))
                .respond_with(response)
                .mount(&server)
                .await;
        }
    }
    // The XML export of the same pages (mode = "xml"): matched before the HTML pages by its template parameter.
    for (dir, page, key) in [("to010", "to010.asp", "SILFDNR"), ("to020", "to020.asp", "TOLFDNR")] {
        for entry in std::fs::read_dir(demo_dir().join(dir)).expect("demo folder") {
            let file = entry.expect("entry").path();
            if file.extension().and_then(|ext| ext.to_str()) != Some("xml") {
                continue;
            }
            let id = file.file_stem().and_then(|stem| stem.to_str()).expect("file name").to_owned();
            let response = if matches!(id.as_str(), "312" | "3113") {
                ResponseTemplate::new(302).insert_header("location", "/bi/noauth.asp")
            } else {
                xml(std::fs::read(&file).expect("read"))
            };
            Mock::given(method("GET"))
                .and(path(format!("/bi/{page}")))
                .and(query_param("selfaction", "ws"))
                .and(query_param("template", "xyz"))
                .and(query_param(key, id.as_str()))
                .respond_with(response)
                .with_priority(1)
                .mount(&server)
                .await;
        }
    }
    for (month, last) in [("11", "30"), ("12", "31")] {
        Mock::given(method("GET"))
            .and(path("/bi/si010.asp"))
            .and(query_param("kaldatvon", format!("01.{month}.2019")))
            .and(query_param("kaldatbis", format!("{last}.{month}.2019")))
            .respond_with(xml(std::fs::read(demo_dir().join(format!("si010/2019-{month}.xml"))).expect("read")))
            .mount(&server)
            .await;
    }
    let empty_export = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><si010><special/><list></list></si010>";
    Mock::given(method("GET"))
        .and(path("/bi/si010.asp"))
        .respond_with(xml(empty_export.as_bytes().to_vec()))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bi/noauth.asp"))
        .respond_with(html(demo_page("to010", "312")))
        .mount(&server)
        .await;
    // The paper SG/249/19 answers 500 on every attempt: retried (1 + 2 retries), then rejected.
    Mock::given(method("GET"))
        .and(path("/bi/vo020.asp"))
        .and(query_param("VOLFDNR", "1249"))
        .respond_with(ResponseTemplate::new(500))
        .expect(failing_requests)
        .mount(&server)
        .await;
    for (year, month) in [("2019", "11"), ("2019", "12")] {
        Mock::given(method("GET"))
            .and(path("/bi/si010_e.asp"))
            .and(query_param("MM", month))
            .and(query_param("YY", year))
            .respond_with(html(demo_page("si010", &format!("{year}-{month}"))))
            .mount(&server)
            .await;
    }
    let empty = "<html><body><div id=\"allriscontainer\" class=\"si010_e\"><div id=\"rismain\"><p>Keine Sitzungen</p></div></div></body></html>";
    Mock::given(method("GET"))
        .and(path("/bi/si010_e.asp"))
        .respond_with(html(empty.as_bytes().to_vec()))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn xml(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "text/xml; charset=iso-8859-1").set_body_bytes(bytes)
}

fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by(|a, b| a.id().cmp(b.id()));
    records
}

fn papers(records: &[Record]) -> Vec<&ikz_connectors::model::Paper> {
    records.iter().filter_map(|record| if let Record::Paper(paper) = record { Some(paper) } else { None }).collect()
}

#[tokio::test]
async fn crawls_the_demo_site_over_http_rejecting_a_failing_page() {
    let server = serve_demo(3).await;
    let (sink, outcome) = crawl(Source::Http(format!("{}/bi/", server.uri())), None).await;

    // The failing paper is one rejection with its URL; nothing else is rejected.
    assert_eq!(sink.rejects.len(), 1, "{:?}", sink.rejects);
    assert!(sink.rejects[0].location.ends_with("/bi/vo020.asp?VOLFDNR=1249"), "{:?}", sink.rejects[0]);
    assert!(sink.rejects[0].message.contains("500"), "{:?}", sink.rejects[0]);

    // The seed paper and the other public paper were imported.
    let papers = papers(&sink.records);
    let seed = papers.iter().find(|paper| paper.reference.as_deref() == Some("SG/256/19")).expect("SG/256/19");
    assert_eq!(seed.subject, "Interkommunale Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung");
    assert_eq!(seed.lead_department.as_deref(), Some("Bürgerservice"));
    assert_eq!(seed.financial_impact_annual, Some(Cents::from_euros(10_000)));
    assert_eq!(seed.origin.source_url.as_deref(), Some(format!("{}/bi/vo020.asp?VOLFDNR=1256", server.uri()).as_str()));
    let other = papers.iter().find(|paper| paper.reference.as_deref() == Some("SG/262/19")).expect("SG/262/19");
    assert_eq!(other.financial_impact_once, Some(Cents::from_euros(2_500)));
    assert!(papers.iter().all(|paper| paper.reference.as_deref() != Some("SG/249/19")));

    // Meetings: the two public ones; the Samtgemeindeausschuss redirects to noauth.asp and is skipped, not rejected.
    let meetings: Vec<_> =
        sink.records.iter().filter_map(|r| if let Record::Meeting(m) = r { Some(m) } else { None }).collect();
    assert_eq!(meetings.len(), 2);
    let council = meetings.iter().find(|m| m.origin.source_key == "SILFDNR=313").expect("council meeting");
    assert_eq!(council.name, "Sitzung des Rates der Samtgemeinde Hankensbüttel");
    // 19:00 in Hankensbüttel in December is 18:00 UTC.
    assert_eq!(council.start, Utc.with_ymd_and_hms(2019, 12, 11, 18, 0, 0).single());
    assert_eq!(council.end, Utc.with_ymd_and_hms(2019, 12, 11, 20, 15, 0).single());
    assert_eq!(
        council.location.as_deref(),
        Some("Sitzungssaal des Rathauses, Meinersener Straße 2, 29386 Hankensbüttel")
    );

    // Agenda items carry results, resolutions and their papers; the private TOP is marked non-public.
    let items: Vec<_> =
        sink.records.iter().filter_map(|r| if let Record::AgendaItem(a) = r { Some(a) } else { None }).collect();
    assert_eq!(items.len(), 7);
    let top = items.iter().find(|item| item.origin.source_key == "TOLFDNR=3111").expect("TOP 3111");
    assert_eq!(top.number.as_deref(), Some("Ö 2"));
    assert_eq!(top.order, Some(2));
    assert_eq!(top.result.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(
        top.resolution_text.as_deref(),
        Some("Der interkommunalen Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung wird zugestimmt.")
    );
    assert_eq!(top.paper_id.as_deref(), Some(seed.id.as_str()));
    let private = items.iter().find(|item| item.origin.source_key == "TOLFDNR=3113").expect("TOP 3113");
    assert!(!private.public);
    assert_eq!(private.result, None);

    // Consultations reference the meetings by the same ids the meeting records have.
    let consultations: Vec<_> =
        sink.records.iter().filter_map(|r| if let Record::Consultation(c) = r { Some(c) } else { None }).collect();
    let decision = consultations
        .iter()
        .find(|c| c.paper_id == seed.id && c.role.as_deref() == Some("Entscheidung"))
        .expect("the council's decision");
    assert_eq!(decision.meeting_id.as_deref(), Some(council.id.as_str()));
    assert_eq!(decision.result, ConsultationResult::Adopted);

    // Every id once; no staff name anywhere.
    let mut ids: Vec<&str> = sink.records.iter().map(Record::id).collect();
    ids.sort_unstable();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "ids are emitted once");
    let json = serde_json::to_string(&sink.records).expect("json");
    for name in ["Dammann", "Mustermann"] {
        assert!(!json.contains(name), "{name} reached a record");
    }

    assert!(!outcome.complete, "a windowed crawl never tombstones");
    let watermark: serde_json::Value =
        serde_json::from_str(outcome.watermark.as_deref().expect("watermark")).expect("json");
    assert_eq!(watermark["crawled_from"], "2019-11-01");
    assert!(outcome.notes[0].contains("2 not public"), "{:?}", outcome.notes);
    server.verify().await;
}

#[tokio::test]
async fn a_second_crawl_gives_the_same_records_and_a_later_run_walks_only_the_window() {
    // Two full crawls read the failing paper three times each; the later run does not reach it.
    let server = serve_demo(6).await;
    let source = Source::Http(format!("{}/bi/", server.uri()));
    let (first, outcome) = crawl(source.clone(), None).await;
    let (second, _) = crawl(source.clone(), None).await;
    assert_eq!(first.records, second.records, "an unchanged site yields identical records (the store writes nothing)");
    // With a watermark the run walks the window around today only: the 2019 meetings are outside it.
    let (later, later_outcome) = crawl(source, outcome.watermark.clone()).await;
    assert!(later.records.is_empty(), "{:?}", later.records.len());
    assert!(later.rejects.is_empty());
    let watermark: serde_json::Value =
        serde_json::from_str(later_outcome.watermark.as_deref().expect("watermark")).expect("json");
    assert_eq!(watermark["crawled_from"], "2019-11-01", "the first run's start is kept");
}

#[tokio::test]
async fn crawls_the_saved_demo_site_from_its_folder() {
    let (sink, outcome) = crawl(Source::File(demo_dir()), None).await;
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    assert!(sink.warnings.is_empty(), "{:?}", sink.warnings);
    let papers = papers(&sink.records);
    let mut references: Vec<_> = papers.iter().filter_map(|paper| paper.reference.as_deref()).collect();
    references.sort_unstable();
    assert_eq!(references, ["SG/249/19", "SG/256/19", "SG/262/19"]);
    assert!(papers.iter().all(|paper| paper.public && paper.origin.source_url.is_none()));
    let seed = papers.iter().find(|paper| paper.reference.as_deref() == Some("SG/256/19")).expect("seed");
    assert_eq!(seed.date, None::<NaiveDate>);
    assert!(!outcome.complete);
    let json = serde_json::to_string(&sink.records).expect("json");
    assert!(!json.contains("Dammann") && !json.contains("Mustermann"));
}

/// `mode = "xml"` reads calendar months, meetings and agenda items from the XML export and gives the very records
/// the HTML pages give, links included (they point at the HTML pages in both modes).
#[tokio::test]
async fn xml_mode_over_http_gives_the_records_of_html_mode() {
    // Both crawls read the failing paper: 1 + 2 retries each.
    let server = serve_demo(6).await;
    let source = Source::Http(format!("{}/bi/", server.uri()));
    let (html, _) = crawl(source.clone(), None).await;
    let (xml, outcome) = crawl_with(source, None, "start_date = 2019-11-01\nmode = 'xml'").await;
    assert_eq!(xml.rejects.len(), 1, "{:?}", xml.rejects);
    assert!(xml.rejects[0].location.ends_with("/bi/vo020.asp?VOLFDNR=1249"), "{:?}", xml.rejects[0]);
    assert!(outcome.notes[0].contains("2 not public"), "{:?}", outcome.notes);
    assert!(xml.records.len() >= 20, "{}", xml.records.len());
    assert_eq!(sorted(xml.records), sorted(html.records));
    let requests = server.received_requests().await.expect("recorded");
    let exports = requests.iter().filter(|request| request.url.query().is_some_and(|q| q.contains("template=xyz")));
    // 80-odd calendar months, 3 meetings, 7 agenda items.
    assert!(exports.count() > 10);
    server.verify().await;
}

#[tokio::test]
async fn xml_mode_reads_a_saved_site_into_the_records_of_html_mode() {
    let (html, _) = crawl(Source::File(demo_dir()), None).await;
    let (xml, _) = crawl_with(Source::File(demo_dir()), None, "start_date = 2019-11-01\nmode = 'xml'").await;
    assert!(xml.rejects.is_empty(), "{:?}", xml.rejects);
    let meeting = xml
        .records
        .iter()
        .find_map(|record| match record {
            Record::Meeting(meeting) if meeting.origin.source_key == "SILFDNR=311" => Some(meeting.clone()),
            _ => None,
        })
        .expect("meeting 311");
    // The to010 export of 311 has no date: it comes from the calendar's 20191127T170000Z.
    assert_eq!(meeting.start, Utc.with_ymd_and_hms(2019, 11, 27, 17, 0, 0).single());
    assert_eq!(sorted(xml.records), sorted(html.records));
}

//! The funding kinds end to end on real files: the demo exports in config/demo (XML in ISO-8859-15, XLSX, the
//! Förderkatalog CSV), test files in connectors/testdata/funding (windows-1252 XML with bad records, malformed XML,
//! a CSV, the old Förderkatalog header) and JSON pages served over loopback HTTP.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{
    Ags, ApplicationStatus, Cents, FundingApplication, FundingBudget, Partner, PartnerKind, Record,
};
use ikz_connectors::spreadsheet::write::{xlsx_bytes, WriteCell};
use ikz_connectors::{registry, ConnectorSpec, RecordSink, Rejection, RunContext, RunOutcome, SinkError, Source};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Default)]
struct CollectingSink {
    records: Vec<Record>,
    rejects: Vec<Rejection>,
    warnings: Vec<String>,
}

#[async_trait]
impl RecordSink for CollectingSink {
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

impl CollectingSink {
    fn application(&self, reference: &str) -> &FundingApplication {
        self.records
            .iter()
            .find_map(|record| match record {
                Record::FundingApplication(application) if application.reference == reference => Some(application),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no application {reference}"))
    }

    fn reject_of(&self, needle: &str) -> &Rejection {
        self.rejects
            .iter()
            .find(|reject| reject.location.contains(needle))
            .unwrap_or_else(|| panic!("no reject at {needle}: {:#?}", self.rejects))
    }

    fn budgets(&self) -> Vec<&FundingBudget> {
        self.records
            .iter()
            .filter_map(|record| match record {
                Record::FundingBudget(budget) => Some(budget),
                _ => None,
            })
            .collect()
    }
}

fn partner(slug: &str, name: &str, kind: PartnerKind, ags: Option<&str>, aliases: &[&str]) -> Partner {
    Partner {
        slug: slug.into(),
        name: name.into(),
        kind,
        ags: ags.and_then(|ags| Ags::parse(ags).ok()),
        aliases: aliases.iter().map(|alias| (*alias).to_owned()).collect(),
    }
}

/// The demo partners of config/ikz-hub.toml that the funding files name.
fn partners() -> Vec<Partner> {
    vec![
        partner("gifhorn", "Landkreis Gifhorn", PartnerKind::Landkreis, Some("03151000"), &["LK Gifhorn"]),
        partner(
            "hankensbuettel",
            "Samtgemeinde Hankensbüttel",
            PartnerKind::Samtgemeinde,
            None,
            &["SG Hankensbüttel", "Samtgemeinde Hankensbuettel"],
        ),
        partner("wittingen", "Stadt Wittingen", PartnerKind::Stadt, Some("03151025"), &["Wittingen"]),
        partner("stadt-gifhorn", "Stadt Gifhorn", PartnerKind::Stadt, Some("03151009"), &[]),
        partner("sassenburg", "Gemeinde Sassenburg", PartnerKind::Gemeinde, None, &[]),
        partner("wesendorf", "Samtgemeinde Wesendorf", PartnerKind::Samtgemeinde, None, &[]),
    ]
}

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/funding").join(name).display().to_string()
}

/// A connector file's table without the common keys, as the hub hands it to the kind.
fn connector_file(name: &str) -> (String, String, toml::Table) {
    let text = std::fs::read_to_string(config_dir().join("connectors.d").join(name)).expect("connector file");
    let mut table: toml::Table = toml::from_str(&text).expect("valid toml");
    let kind = table.remove("kind").and_then(|value| value.as_str().map(str::to_owned)).expect("kind");
    for common in ["id", "partner", "schedule", "enabled", "description"] {
        table.remove(common);
    }
    let source = table.remove("source").and_then(|value| value.as_str().map(str::to_owned)).expect("source");
    (kind, source, table)
}

fn build(kind: &str, source: &str, settings: &toml::Table) -> Result<Box<dyn ikz_connectors::Connector>, String> {
    let partners = partners();
    let base = config_dir();
    let spec = ConnectorSpec {
        id: "test",
        partner: &partners[0],
        source: Source::parse(source, &base).expect("source"),
        settings,
        base_dir: &base,
    };
    let kind = registry::find(kind).expect("registered");
    (kind.build)(&spec).map_err(|errors| format!("{errors:?}"))
}

async fn run(
    kind: &str,
    source: &str,
    settings: &toml::Table,
) -> (Result<RunOutcome, ikz_connectors::ConnectorError>, CollectingSink) {
    let connector = build(kind, source, settings).expect("valid settings");
    let partners = partners();
    let fetcher = Fetcher::new(FetchSettings { retries: 0, ..FetchSettings::default() }).expect("fetcher");
    let mut sink = CollectingSink::default();
    let ctx =
        RunContext { partner: &partners[0], partners: &partners, watermark: None, sink: &mut sink, fetcher: &fetcher };
    let outcome = connector.run(ctx).await;
    (outcome, sink)
}

fn settings(text: &str) -> toml::Table {
    toml::from_str(text).expect("valid toml")
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The demo budgets XLSX: regenerate with `cargo test -p ikz-connectors --test funding -- --ignored`.
fn demo_budgets() -> Vec<u8> {
    let text = |value: &str| WriteCell::Text(value.to_owned());
    let number = WriteCell::Number;
    // (Schulträger, AGS, schools, pupils (DEMO), budget basis)
    let rows: [(&str, &str, f64, f64); 6] = [
        ("Samtgemeinde Hankensbüttel", "", 5.0, 0.0),
        ("Stadt Wittingen", "03151025", 5.0, 1840.0),
        ("Samtgemeinde Wesendorf", "", 4.0, 1210.0),
        ("Gemeinde Sassenburg", "", 5.0, 1650.0),
        ("Stadt Gifhorn", "03151009", 13.0, 6900.0),
        ("Landkreis Gifhorn", "03151000", 2.0, 4300.0),
    ];
    let mut sheet = vec![
        vec![text("DEMO-DATEN – DigitalPakt Schule Niedersachsen: Budgets der Schulträger im Landkreis Gifhorn (nur Samtgemeinde Hankensbüttel real, Vorlage SG/256/19)")],
        vec![],
        vec![
            text("Schulträger"),
            text("AGS"),
            text("Schulen"),
            text("Schüler (DEMO)"),
            text("Sockelbetrag (EUR)"),
            text("Kopfbetrag (EUR)"),
            text("Budget (EUR)"),
            text("Grundlage"),
        ],
    ];
    for (name, ags, schools, pupils) in rows {
        let sockel = schools * 30_000.0;
        let (kopf, basis) = if name == "Samtgemeinde Hankensbüttel" {
            (
                245_341.0 - sockel,
                "real: Vorlage SG/256/19, der Samtgemeinde stehen insgesamt 245.341 € zur Verfügung".to_owned(),
            )
        } else {
            (
                (pupils * 56.5_f64).round(),
                format!("DEMO: {schools} Schulen × 30.000 € Sockelbetrag + {pupils} Schüler × 56,50 € Kopfbetrag"),
            )
        };
        sheet.push(vec![
            text(name),
            if ags.is_empty() { WriteCell::Empty } else { text(ags) },
            number(schools),
            if pupils > 0.0 { number(pupils) } else { WriteCell::Empty },
            number(sockel),
            number(kopf),
            number(sockel + kopf),
            text(&basis),
        ]);
    }
    let notes = vec![
        vec![text("Hinweis")],
        vec![text("Demo-Daten für ikz-hub. Nur das Budget der Samtgemeinde Hankensbüttel (245.341 €) ist real (Anlage 2 der Richtlinie vom 08.08.2019, Vorlage SG/256/19).")],
        vec![text("Die übrigen Budgets folgen der veröffentlichten Regel (30.000 € je Schule + Kopfbetrag) mit erfundenen Schülerzahlen.")],
    ];
    xlsx_bytes(&[("Budgets", sheet), ("Hinweise", notes)], false).expect("xlsx")
}

/// The committed demo budgets match their generator. `IKZ_BLESS_DEMO=1 cargo test -p ikz-connectors --test funding
/// demo_budgets` rewrites the file after a deliberate change.
#[test]
fn demo_budgets_file_is_current() {
    let path = config_dir().join("demo/ndips-budgets-gifhorn.xlsx");
    let fresh = demo_budgets();
    if std::env::var_os("IKZ_BLESS_DEMO").is_some() {
        std::fs::write(&path, &fresh).expect("write");
    }
    let stored = std::fs::read(&path).expect("demo file");
    // Zip timestamps may differ; the sizes tell whether the content changed.
    assert_eq!(stored.len(), fresh.len(), "regenerate with IKZ_BLESS_DEMO=1");
}

#[tokio::test]
async fn demo_xml_applications_in_iso_8859_15() {
    let (kind, source, table) = connector_file("funding-antraege-gifhorn.toml");
    let (outcome, sink) = run(&kind, &source, &table).await;
    let outcome = outcome.expect("run");
    assert!(outcome.complete);
    assert!(sink.rejects.is_empty(), "{:#?}", sink.rejects);
    assert_eq!(sink.records.len(), 11);

    let wlan = sink.application("NDIPS-2020-0412");
    assert_eq!(wlan.program_id, "digitalpakt-schule-ni");
    assert_eq!(wlan.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(wlan.recipient_name.as_deref(), Some("Samtgemeinde Hankensbüttel"));
    assert_eq!(wlan.school_ids, vec!["NI-66497"]);
    assert_eq!(wlan.measure.as_deref(), Some("2.2"));
    assert_eq!(wlan.title.as_deref(), Some("WLAN-Ausleuchtung Hauptgebäude & Neubau"));
    assert_eq!(wlan.requested, Some(Cents(9_850_000)));
    assert_eq!(wlan.approved, Some(Cents(9_620_000)));
    assert_eq!(wlan.disbursed, Some(Cents(4_810_000)));
    assert_eq!(wlan.status, ApplicationStatus::PartiallyDisbursed);
    assert_eq!(wlan.submitted_on, date(2020, 2, 14));
    assert_eq!(wlan.approved_on, date(2020, 6, 2));
    assert_eq!(wlan.period_end, date(2021, 12, 31));
    assert_eq!(wlan.disbursements.len(), 1);
    assert_eq!(wlan.disbursements[0].date, date(2020, 12, 15));

    // An alias links the partner; two disbursements add up.
    assert_eq!(sink.application("NDIPS-2020-0588").partner.as_deref(), Some("hankensbuettel"));
    let displays = sink.application("NDIPS-2020-0413");
    assert_eq!(displays.disbursed, Some(Cents(5_400_000)));
    assert_eq!(displays.status, ApplicationStatus::Disbursed);
    // Two schools, one application.
    assert_eq!(sink.application("NDIPS-2021-0107").school_ids, vec!["NI-33911", "NI-14436"]);
    // The additional measures of the program.
    assert_eq!(sink.application("NDIPS-2020-0901").measure.as_deref(), Some("sofortausstattung"));
    assert_eq!(sink.application("NDIPS-2021-0502").measure.as_deref(), Some("administration"));
    // AGS links the partner.
    assert_eq!(sink.application("NDIPS-2022-0045").partner.as_deref(), Some("stadt-gifhorn"));
    let pending = sink.application("NDIPS-2021-0233");
    assert_eq!((pending.approved, pending.status), (None, ApplicationStatus::Submitted));

    // Hankensbüttel's approvals stay within its real budget of 245,341 EUR.
    let approved: i64 = sink
        .records
        .iter()
        .filter_map(|record| match record {
            Record::FundingApplication(a) if a.partner.as_deref() == Some("hankensbuettel") => a.approved,
            _ => None,
        })
        .map(|cents| cents.0)
        .sum();
    assert_eq!(approved, 24_315_000);
    assert!(approved <= 24_534_100);
}

#[tokio::test]
async fn demo_budgets_from_xlsx() {
    let (kind, source, table) = connector_file("funding-budgets-gifhorn.toml");
    let (outcome, sink) = run(&kind, &source, &table).await;
    outcome.expect("run");
    assert!(sink.rejects.is_empty(), "{:#?}", sink.rejects);
    let budgets = sink.budgets();
    assert_eq!(budgets.len(), 6);
    let hankensbuettel = budgets.iter().find(|b| b.partner.as_deref() == Some("hankensbuettel")).expect("budget");
    assert_eq!(hankensbuettel.amount, Cents(24_534_100));
    assert_eq!(hankensbuettel.program_id, "digitalpakt-schule-ni");
    assert!(hankensbuettel.basis.as_deref().is_some_and(|basis| basis.contains("SG/256/19")));
    let wittingen = budgets.iter().find(|b| b.partner.as_deref() == Some("wittingen")).expect("budget");
    assert_eq!(wittingen.amount, Cents((150_000 + 103_960) * 100));
    assert_eq!(budgets.iter().filter(|b| b.partner.is_none()).count(), 0);
}

#[tokio::test]
async fn demo_programs_file_holds_measures_and_deadlines() {
    let (kind, source, table) = connector_file("funding-programs.toml");
    let (outcome, sink) = run(&kind, &source, &table).await;
    outcome.expect("run");
    let Some(Record::FundingProgram(program)) = sink.records.first() else { panic!("no program") };
    assert_eq!(program.measures.len(), 11);
    assert_eq!(program.measures[..8], ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8"]);
    assert_eq!(program.measure_names.get("2.2").map(String::as_str), Some("Schulisches WLAN"));
    assert_eq!(program.deadlines[0].date, NaiveDate::from_ymd_opt(2023, 6, 30).expect("date"));
    assert_eq!(program.deadlines[1].date, NaiveDate::from_ymd_opt(2024, 5, 15).expect("date"));
}

fn xml_settings() -> toml::Table {
    settings(
        r#"
        target = "funding_application"
        program = "digitalpakt-schule-ni"
        programs = "demo/funding-programs.jsonl"
        record_path = "/Export/Antraege/Antrag"
        [fields]
        reference = "@nr"
        partner_name = "Traeger"
        school_numbers = "Schule"
        measure = "Massnahme"
        title = "Titel"
        requested = "Beantragt"
        approved = "Bewilligt"
        [[disbursements]]
        path = "Auszahlung"
        date = "@datum"
        amount = "Betrag"
        "#,
    )
}

#[tokio::test]
async fn windows_1252_xml_with_bad_records() {
    let (outcome, sink) = run("funding", &testdata("antraege-cp1252.xml"), &xml_settings()).await;
    outcome.expect("bad records do not fail the run");
    let first = sink.application("T-1");
    // 0x96 is an en dash in windows-1252; &amp; is resolved.
    assert_eq!(first.title.as_deref(), Some("WLAN – Bauabschnitt 1 & 2"));
    assert_eq!(first.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(first.school_ids, vec!["NI-66497", "NI-41233"]);
    assert_eq!(first.measure.as_deref(), Some("2.2"));
    assert_eq!(first.requested, Some(Cents(1_000_000)));
    assert_eq!(first.approved, Some(Cents(950_000)));
    assert_eq!(first.disbursed, Some(Cents(950_000)));
    assert_eq!(first.status, ApplicationStatus::Disbursed);

    let unknown = sink.reject_of("/Export/Antraege/Antrag[2]");
    assert_eq!(unknown.field.as_deref(), Some("measure"));
    assert_eq!(unknown.value.as_deref(), Some("2.9"));
    assert!(
        unknown.location.starts_with("antraege-cp1252.xml, /Export/Antraege/Antrag[2], Massnahme"),
        "{}",
        unknown.location
    );
    assert!(unknown.message.contains("not a measure of the program `digitalpakt-schule-ni`"), "{}", unknown.message);

    let amount = sink.reject_of("Antrag[3]");
    assert_eq!((amount.field.as_deref(), amount.value.as_deref()), (Some("requested"), Some("zwölf Euro")));
    let over = sink.reject_of("Antrag[4]");
    assert_eq!(over.field.as_deref(), Some("approved"));
    assert!(over.message.contains("more than requested"), "{}", over.message);

    // Unknown Schulträger: kept without partner, warned once; the measure is found by its name.
    let orphan = sink.application("T-5");
    assert_eq!(orphan.partner, None);
    assert_eq!(orphan.recipient_name.as_deref(), Some("Gemeinde Nirgendwo"));
    assert_eq!(orphan.measure.as_deref(), Some("sofortausstattung"));
    assert!(sink.warnings.iter().any(|w| w == "recipient without partner: Gemeinde Nirgendwo"), "{:?}", sink.warnings);

    let duplicate = sink.reject_of("Antrag[6]");
    assert_eq!(duplicate.field.as_deref(), Some("reference"));
    // The earlier record by its number in the source: Antrag[1].
    assert!(duplicate.message.ends_with("as record 1"), "{}", duplicate.message);
    let bad_date = sink.reject_of("Antrag[7]");
    assert_eq!(bad_date.field.as_deref(), Some("disbursements[0].date"));
    assert!(bad_date.location.ends_with("Auszahlung[1]"), "{}", bad_date.location);

    assert_eq!(sink.records.len(), 2);
    assert_eq!(sink.rejects.len(), 5);
}

/// The reader reuses one record's buffers for the next: a field, school or disbursement of a record must not show
/// up in the record after it, and a shorter value must not keep the end of a longer one.
#[tokio::test]
async fn xml_records_do_not_inherit_the_previous_records_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("antraege.xml");
    std::fs::write(
        &path,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Export><Antraege>
  <Antrag nr="R-1"><Traeger>Samtgemeinde Hankensbüttel</Traeger><Schule>66497</Schule><Schule>41233</Schule>
    <Massnahme>2.2</Massnahme><Titel>Interaktive Displays, Bauabschnitt 1</Titel><Beantragt>10.000,00</Beantragt>
    <Bewilligt>9.500,00</Bewilligt><Auszahlung datum="01.03.2021"><Betrag>4.000,00</Betrag></Auszahlung>
    <Auszahlung datum="01.09.2021"><Betrag>5.500,00</Betrag></Auszahlung></Antrag>
  <Antrag nr="R-2"><Traeger>Samtgemeinde Hankensbüttel</Traeger><Schule>123</Schule><Titel>WLAN</Titel>
    <Beantragt>500,00</Beantragt></Antrag>
  <Antrag nr="R-3"><Traeger>Samtgemeinde Hankensbüttel</Traeger><Titel>Server</Titel>
    <Auszahlung datum="02.03.2022"><Betrag>1,00</Betrag></Auszahlung></Antrag>
</Antraege></Export>
"#,
    )
    .expect("write the export");
    let (outcome, sink) = run("funding", &path.display().to_string(), &xml_settings()).await;
    outcome.expect("the run succeeds");
    assert!(sink.rejects.is_empty(), "{:#?}", sink.rejects);
    let first = sink.application("R-1");
    assert_eq!(first.school_ids, vec!["NI-66497", "NI-41233"]);
    assert_eq!(first.measure.as_deref(), Some("2.2"));
    assert_eq!(first.disbursements.len(), 2);
    assert_eq!(first.disbursed, Some(Cents(950_000)));
    let second = sink.application("R-2");
    assert_eq!(second.school_ids, vec!["NI-123"]);
    assert_eq!(second.measure, None);
    assert_eq!(second.title.as_deref(), Some("WLAN"));
    assert_eq!((second.requested, second.approved, second.disbursed), (Some(Cents(50_000)), None, None));
    assert!(second.disbursements.is_empty());
    let third = sink.application("R-3");
    assert!(third.school_ids.is_empty());
    assert_eq!(third.title.as_deref(), Some("Server"));
    assert_eq!(third.requested, None);
    assert_eq!(third.disbursements.len(), 1);
    assert_eq!(third.disbursed, Some(Cents(100)));
}

#[tokio::test]
async fn malformed_xml_fails_the_run_with_its_position() {
    let mut table = xml_settings();
    table.insert("record_path".into(), "/Antraege/Antrag".into());
    let (outcome, _sink) = run("funding", &testdata("kaputt.xml"), &table).await;
    let error = outcome.expect_err("not well formed").to_string();
    assert!(error.contains("kaputt.xml"), "{error}");
    assert!(error.contains("line 4"), "{error}");
    assert!(error.contains("Massname") || error.contains("Massnahme"), "{error}");
}

/// The reader streams the file: a document cut off inside a record fails naming the element left open.
#[tokio::test]
async fn xml_cut_off_inside_a_record_fails_naming_the_open_element() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("abgeschnitten.xml");
    let text = "<?xml version=\"1.0\"?>\n<Antraege>\n  <Antrag nr=\"C-1\"><Massnahme>2.1</Massnahme></Antrag>\n  \
                <Antrag nr=\"C-2\"><Betraege beantragt=\"1,00\">";
    std::fs::write(&path, text).expect("write");
    let mut table = xml_settings();
    table.insert("record_path".into(), "/Antraege/Antrag".into());
    let (outcome, _sink) = run("funding", &path.display().to_string(), &table).await;
    let error = outcome.expect_err("cut off").to_string();
    assert!(error.contains("abgeschnitten.xml") && error.contains("ends inside <Betraege>"), "{error}");
}

#[tokio::test]
async fn csv_applications_with_disbursement_columns() {
    let table = settings(
        r#"
        target = "funding_application"
        program = "digitalpakt-schule-ni"
        programs = "demo/funding-programs.jsonl"
        delimiter = ";"
        encoding = "windows-1252"
        [fields]
        reference = "Antragsnummer"
        partner_name = "Schulträger"
        school_numbers = ["Schulnummer", "Schul-Nr."]
        measure = "Maßnahme"
        requested = "beantragt"
        approved = "bewilligt"
        status = "Status"
        [[disbursements]]
        date = "Auszahlung 1 am"
        amount = "Auszahlung 1"
        [[disbursements]]
        date = "Auszahlung 2 am"
        amount = "Auszahlung 2"
        "#,
    );
    let (outcome, sink) = run("funding", &testdata("antraege.csv"), &table).await;
    outcome.expect("run");
    let first = sink.application("C-1");
    assert_eq!(first.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(first.measure.as_deref(), Some("2.3"));
    assert_eq!(first.disbursements.len(), 1);
    assert_eq!(first.disbursed, Some(Cents(500_000)));
    assert_eq!(first.status, ApplicationStatus::PartiallyDisbursed);

    let over = sink.reject_of("row 3");
    assert_eq!(over.field.as_deref(), Some("disbursed"));
    assert!(over.message.contains("more than approved"), "{}", over.message);
    let school = sink.reject_of("row 4");
    assert_eq!(school.field.as_deref(), Some("school_numbers"));
    assert_eq!(school.location, "antraege.csv, row 4, column C (Schulnummer)");
    assert_eq!(school.value.as_deref(), Some("66x97"));
}

#[tokio::test]
async fn xlsx_with_a_missing_header_fails_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("budgets.xlsx");
    let text = |value: &str| WriteCell::Text(value.to_owned());
    let rows = vec![vec![text("Schulträger"), text("Betrag")], vec![text("Stadt Wittingen"), WriteCell::Number(1.0)]];
    std::fs::write(&file, xlsx_bytes(&[("Tabelle1", rows)], false).expect("xlsx")).expect("write");
    let table = settings(
        "target = 'funding_budget'\nprogram = 'digitalpakt-schule-ni'\n[fields]\npartner_name = 'Schulträger'\namount = 'Budget'\n",
    );
    let (outcome, sink) = run("funding", &file.display().to_string(), &table).await;
    let error = outcome.expect_err("missing header").to_string();
    assert!(error.contains("fields.amount (Budget)"), "{error}");
    assert!(sink.records.is_empty());
}

#[tokio::test]
async fn json_pages_by_next_link_and_by_page_parameter() {
    let server = MockServer::start().await;
    let record = |nr: &str, schools: serde_json::Value, requested: serde_json::Value| {
        serde_json::json!({
            "antrag": {"nummer": nr, "massnahme": "2.4"},
            "traeger": {"name": "Samtgemeinde Hankensbüttel"},
            "schulen": schools,
            "betraege": {"beantragt": requested, "bewilligt": null},
            "auszahlungen": [],
        })
    };
    Mock::given(method("GET"))
        .and(path("/api/antraege"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [record("J-3", serde_json::json!([41233]), serde_json::json!("1.234,56"))],
            "links": {"next": null}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/antraege"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                record("J-1", serde_json::json!([66497, "14436"]), serde_json::json!(245341)),
                record("J-2", serde_json::json!("33911"), serde_json::json!(99.99)),
                {"antrag": {"nummer": "J-X", "massnahme": "9.9"}},
                "kein Objekt"
            ],
            "links": {"next": "/api/antraege?page=2"}
        })))
        .mount(&server)
        .await;
    let table = settings(
        r#"
        target = "funding_application"
        program = "digitalpakt-schule-ni"
        programs = "demo/funding-programs.jsonl"
        records = "/data"
        [paging]
        next = "/links/next"
        [fields]
        reference = "/antrag/nummer"
        measure = "/antrag/massnahme"
        partner_name = "/traeger/name"
        school_numbers = "/schulen"
        requested = "/betraege/beantragt"
        approved = "/betraege/bewilligt"
        [[disbursements]]
        path = "/auszahlungen"
        date = "/datum"
        amount = "/betrag"
        "#,
    );
    let url = format!("{}/api/antraege", server.uri());
    let (outcome, sink) = run("funding", &url, &table).await;
    let outcome = outcome.expect("run");
    assert!(outcome.complete);
    assert_eq!(sink.records.len(), 3);
    let first = sink.application("J-1");
    assert_eq!(first.requested, Some(Cents(24_534_100)));
    assert_eq!(first.school_ids, vec!["NI-66497", "NI-14436"]);
    assert_eq!(first.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(first.origin.source_url.as_deref(), Some(url.as_str()));
    assert_eq!(sink.application("J-2").requested, Some(Cents(9_999)));
    assert_eq!(sink.application("J-3").requested, Some(Cents(123_456)));
    let unknown = sink.reject_of("#/data/2");
    assert_eq!(unknown.field.as_deref(), Some("measure"));
    assert!(unknown.location.ends_with("/api/antraege#/data/2, field /antrag/massnahme"), "{}", unknown.location);
    assert!(sink.reject_of("#/data/3").message.contains("must be an object"));

    // The same source counted by a page parameter: the walk ends at the first empty page.
    let counted = MockServer::start().await;
    for (page, body) in [
        ("1", serde_json::json!({"data": [record("P-1", serde_json::json!([]), serde_json::json!(1))]})),
        ("2", serde_json::json!({"data": [record("P-2", serde_json::json!([]), serde_json::json!(2))]})),
        ("3", serde_json::json!({"data": []})),
    ] {
        Mock::given(method("GET"))
            .and(path("/antraege"))
            .and(query_param("seite", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&counted)
            .await;
    }
    let mut table = table;
    table.insert("paging".into(), toml::Value::Table(settings("page_param = 'seite'")));
    let (outcome, sink) = run("funding", &format!("{}/antraege", counted.uri()), &table).await;
    outcome.expect("run");
    let references: Vec<&str> = sink
        .records
        .iter()
        .filter_map(|record| match record {
            Record::FundingApplication(a) => Some(a.reference.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(references, vec!["P-1", "P-2"]);
}

#[tokio::test]
async fn demo_foerderkatalog_export() {
    let (kind, source, table) = connector_file("foerderkatalog-gifhorn.toml");
    let (outcome, sink) = run(&kind, &source, &table).await;
    let outcome = outcome.expect("run");
    assert!(sink.rejects.is_empty(), "{:#?}", sink.rejects);
    assert!(matches!(&sink.records[0], Record::FundingProgram(p) if p.id == "foerderkatalog"));
    // The program, four grants to partners; the bookkeeping row and the university are skipped.
    assert_eq!(sink.records.len(), 5);
    assert!(outcome.notes.iter().any(|note| note.starts_with("1 bookkeeping row")), "{:?}", outcome.notes);
    assert!(outcome.notes.iter().any(|note| note.starts_with("1 grant(s) to recipients that are no partner")));

    let wittingen = sink.application("DEMO21DBI001");
    assert_eq!(wittingen.program_id, "foerderkatalog");
    assert_eq!(wittingen.partner.as_deref(), Some("wittingen"));
    assert_eq!(wittingen.approved, Some(Cents(123_456_789)));
    assert_eq!(wittingen.measure.as_deref(), Some("I51060"));
    assert_eq!(wittingen.period_start, date(2021, 9, 1));
    assert_eq!(wittingen.period_end, date(2023, 8, 31));
    assert_eq!(wittingen.title.as_deref(), Some("DEMO - Digitale Bildung im ländlichen Raum: Medienzentrum Wittingen"));

    // No AGS: linked by name; amount 0 = not disclosed; a `;` inside ="…".
    let hankensbuettel = sink.application("DEMO21DBI002");
    assert_eq!(hankensbuettel.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(hankensbuettel.approved, None);
    assert_eq!(hankensbuettel.title.as_deref(), Some("DEMO - Bildungsregion Isenhagener Land; Begleitforschung"));

    // The executing body's address block (Wolfsburg) is not taken for the recipient's; € is 0xA4 in ISO-8859-15.
    let landkreis = sink.application("DEMO21DBI003");
    assert_eq!(landkreis.partner.as_deref(), Some("gifhorn"));
    assert_eq!(landkreis.recipient_name.as_deref(), Some("Landkreis Gifhorn"));
    assert!(landkreis.title.as_deref().is_some_and(|t| t.ends_with("Eigenanteil 25.000 € getragen vom Kreis")));

    // A 7-digit Gemeindekennziffer gets its leading zero back; doubled quotes inside ="…".
    let stadt = sink.application("DEMO22DBI005");
    assert_eq!(stadt.partner.as_deref(), Some("stadt-gifhorn"));
    assert_eq!(stadt.approved, Some(Cents(7_630_050)));
    assert_eq!(stadt.title.as_deref(), Some("DEMO - Schulcampus Gifhorn: \"Lernen digital\""));
}

#[tokio::test]
async fn old_foerderkatalog_header_and_bad_rows() {
    let (outcome, sink) = run("foerderkatalog", &testdata("foerderkatalog-alt.csv"), &toml::Table::new()).await;
    outcome.expect("run");
    let old = sink.application("OLD17001");
    assert_eq!(old.partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(old.approved, Some(Cents(1_250_000)));
    assert_eq!(old.title.as_deref(), Some("Schul-WLAN Pilot"));
    let amount = sink.reject_of("line 3");
    assert_eq!(amount.field.as_deref(), Some("Fördersumme in EUR"));
    assert_eq!(amount.value.as_deref(), Some("zwölftausend"));
    let date = sink.reject_of("line 4");
    assert_eq!(date.field.as_deref(), Some("Laufzeit von"));
    // The header of an appended export is skipped; the repeated FKZ after it is a duplicate.
    assert_eq!(sink.application("OLD17004").title.as_deref(), Some("Lernplattform"));
    let duplicate = sink.reject_of("line 7");
    assert_eq!(duplicate.field.as_deref(), Some("FKZ"));
    assert_eq!(sink.rejects.len(), 3);
}

#[test]
fn every_config_mistake_names_its_field() {
    let errors = build(
        "funding",
        "demo/ndips-antraege-gifhorn.xml",
        &settings(
            r#"
            target = "funding_application"
            program = "digitalpakt-schule-nrw"
            programs = "demo/funding-programs.jsonl"
            sheet = "Anträge"
            [fields]
            reference = "@nr"
            colour = "Farbe"
            [[disbursements]]
            amount = "Betrag"
            "#,
        ),
    )
    .err()
    .expect("invalid");
    for field in ["record_path", "sheet", "fields.colour", "disbursements[0].path", "program"] {
        assert!(errors.contains(&format!("field: \"{field}\"")), "{field} missing in {errors}");
    }
    let errors = build(
        "funding",
        "https://x.example/a.json",
        &settings("target = 'funding_budget'\n[paging]\nnext = 'links.next'\n[fields]\namount = 'betrag'\n"),
    )
    .err()
    .expect("invalid");
    for field in ["paging", "fields.amount", "program"] {
        assert!(errors.contains(&format!("field: \"{field}\"")), "{field} missing in {errors}");
    }
    let errors = build(
        "funding",
        "demo/a.dat",
        &settings("target = 'funding_program'\ntypo = 1\n[fields]\nid = 'x'\nname = 'y'\n"),
    )
    .err()
    .expect("invalid");
    assert!(errors.contains("field: \"typo\""), "{errors}");
    let errors = build("foerderkatalog", "demo/f.csv", &settings("encoding = 'klingon'\nprogram = 'a b'\n"))
        .err()
        .expect("invalid");
    assert!(errors.contains("field: \"encoding\"") && errors.contains("field: \"program\""), "{errors}");
}

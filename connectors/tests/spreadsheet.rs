//! The spreadsheet kind end to end on real files: the demo files in config/demo (made from the real 2017 Gifhorn
//! rows), the original CSV, and XLSX/ODS/CSV files the tests write.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{Ags, MediaConceptStatus, Partner, PartnerKind, Record, School, SchoolType};
use ikz_connectors::spreadsheet::write::{ods_bytes, xlsx_bytes, WriteCell};
use ikz_connectors::{registry, ConnectorSpec, RecordSink, Rejection, RunContext, RunOutcome, SinkError, Source};

#[derive(Default)]
struct CollectingSink {
    records: Vec<Record>,
    batches: usize,
    rejects: Vec<Rejection>,
    warnings: Vec<String>,
}

#[async_trait]
impl RecordSink for CollectingSink {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.batches += 1;
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

fn partners() -> Vec<Partner> {
    vec![
        Partner {
            slug: "gifhorn".into(),
            name: "Landkreis Gifhorn".into(),
            kind: PartnerKind::Landkreis,
            ags: Ags::parse("03151000").ok(),
            aliases: vec!["LK Gifhorn".into()],
        },
        Partner {
            slug: "hankensbuettel".into(),
            name: "Samtgemeinde Hankensbüttel".into(),
            kind: PartnerKind::Samtgemeinde,
            ags: None,
            aliases: vec!["SG Hankensbüttel".into()],
        },
    ]
}

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// A connector file's table without the common keys, as the hub hands it to the kind.
fn settings_of(file: &Path) -> (String, toml::Table) {
    let text = std::fs::read_to_string(file).expect("connector file");
    let mut table: toml::Table = toml::from_str(&text).expect("valid toml");
    for common in ["id", "kind", "partner", "schedule", "enabled"] {
        table.remove(common);
    }
    let source = table.remove("source").and_then(|value| value.as_str().map(str::to_owned)).expect("source");
    (source, table)
}

fn build(source: &str, settings: &toml::Table, base: &Path) -> Box<dyn ikz_connectors::Connector> {
    let partners = partners();
    let kind = registry::find("spreadsheet").expect("registered");
    let spec = ConnectorSpec {
        id: "test",
        partner: &partners[0],
        source: Source::parse(source, base).expect("source"),
        settings,
        base_dir: base,
    };
    match (kind.build)(&spec) {
        Ok(connector) => connector,
        Err(errors) => panic!("config errors: {errors:?}"),
    }
}

async fn run(
    connector: &dyn ikz_connectors::Connector,
    watermark: Option<String>,
) -> (Result<RunOutcome, ikz_connectors::ConnectorError>, CollectingSink) {
    let partners = partners();
    let fetcher = Fetcher::new(FetchSettings::default()).expect("fetcher");
    let mut sink = CollectingSink::default();
    let ctx = RunContext { partner: &partners[0], partners: &partners, watermark, sink: &mut sink, fetcher: &fetcher };
    let outcome = connector.run(ctx).await;
    (outcome, sink)
}

fn schools(sink: &CollectingSink) -> Vec<&School> {
    sink.records
        .iter()
        .filter_map(|record| match record {
            Record::School(school) => Some(school),
            _ => None,
        })
        .collect()
}

fn table(text: &str) -> toml::Table {
    toml::from_str(text).expect("valid toml")
}

#[tokio::test]
async fn gifhorn_xlsx_demo_imports_one_school_per_schulnummer() {
    let (source, settings) = settings_of(&config_dir().join("connectors.d/schulen-gifhorn.toml"));
    let connector = build(&source, &settings, &config_dir());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    let outcome = outcome.expect("run succeeds");
    assert!(outcome.complete);
    assert!(!outcome.source_unchanged);
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    let schools = schools(&sink);
    // 95 rows, one per Schulgliederung, of 63 schools.
    assert_eq!(schools.len(), 63);
    assert_eq!(outcome.notes[0], "95 rows, 63 schools");

    let gym = schools.iter().find(|school| school.id == "NI-66497").expect("Gymnasium Hankensbüttel");
    assert_eq!(gym.name, "Gymnasium Hankensbüttel");
    assert_eq!(gym.school_number, "66497");
    assert_eq!(gym.origin.source_key, "66497");
    assert_eq!(gym.state, "NI");
    assert_eq!(gym.school_types, vec![SchoolType::Gymnasium]);
    assert_eq!(gym.school_types_raw, vec!["Gymnasium - SEK I -", "Gymnasium - SEK II -"]);
    assert_eq!(gym.traeger_name.as_deref(), Some("Samtgemeinde Hankensbüttel"));
    assert_eq!(gym.traeger_partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(gym.address.street.as_deref(), Some("Amtsweg 11"));
    // PLZ is a number cell (29386.0) in the sheet.
    assert_eq!(gym.address.postcode.as_deref(), Some("29386"));
    assert_eq!(gym.address.city.as_deref(), Some("Hankensbüttel"));
    assert_eq!(gym.contact.phone.as_deref(), Some("05832 984010"));
    assert_eq!(gym.latitude, Some(52.729646));
    assert_eq!(gym.longitude, Some(10.609241));

    // "Grund- u. Oberschule Wittingen" has rows for Grundschule, Hauptschule, Realschule and Oberschule.
    let wittingen = schools.iter().find(|school| school.id == "NI-33960").expect("33960");
    assert_eq!(wittingen.name, "Grund- u. Oberschule Wittingen");
    assert!(wittingen.school_types.contains(&SchoolType::Grundschule));
    assert!(wittingen.school_types.contains(&SchoolType::Oberschule));
    // A name with an embedded newline becomes one line.
    let soehle = schools.iter().find(|school| school.id == "NI-33819").expect("33819");
    assert_eq!(soehle.name, "Karl-Soehle-Schule Grundschule");
    assert_eq!(soehle.traeger_partner.as_deref(), Some("hankensbuettel"));
    assert_eq!(soehle.school_types, vec![SchoolType::Grundschule]);
    let igs = schools.iter().find(|school| school.id == "NI-81772").expect("IGS Gifhorn");
    assert_eq!(igs.school_types, vec![SchoolType::Gesamtschule]);
    let bbs = schools.iter().find(|school| school.id == "NI-71870").expect("BBS II");
    assert_eq!(bbs.school_types, vec![SchoolType::BerufsbildendeSchule]);
    assert_eq!(bbs.traeger_partner.as_deref(), Some("gifhorn"));

    // Schulträger names without a configured partner are kept and listed.
    let stadt_gifhorn = schools.iter().find(|school| school.id == "NI-14291").expect("14291");
    assert_eq!(stadt_gifhorn.traeger_name.as_deref(), Some("Stadt Gifhorn"));
    assert_eq!(stadt_gifhorn.traeger_partner, None);
    let unlinked = outcome.notes.iter().find(|note| note.starts_with("Schulträger without partner")).expect("note");
    assert!(unlinked.contains("Stadt Gifhorn ("), "{unlinked}");
    assert!(!unlinked.contains("Hankensbüttel"), "{unlinked}");
    assert!(sink.warnings.is_empty(), "every type in the 2017 data is known: {:?}", sink.warnings);
}

#[tokio::test]
async fn original_2017_csv_imports_with_its_combined_address_column() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/spreadsheet");
    let settings = table(
        r#"
        target = "school"
        [columns]
        school_number = "official_id"
        state = "state"
        name = "name"
        school_type = "school_type"
        address = "address"
        phone = "phone"
        latitude = "lat"
        longitude = "lon"
        "#,
    );
    let connector = build("schulscraper-data_niedersachsen_2017_LK-Gifhorn-subset.csv", &settings, &dir);
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    let schools = schools(&sink);
    assert_eq!(schools.len(), 63);
    let sassenburg = schools.iter().find(|school| school.id == "NI-34009").expect("34009");
    // "Steingartenstraße 18, 38524\u{a0}Sassenburg": the no-break space is no obstacle.
    assert_eq!(sassenburg.address.postcode.as_deref(), Some("38524"));
    assert_eq!(sassenburg.address.city.as_deref(), Some("Sassenburg"));
    assert_eq!(sassenburg.name, "Hermann-Löns-Schule GS Grußendorf");
    assert_eq!(sassenburg.school_types_raw, vec!["Schulkindergarten", "Grundschule"]);
    assert_eq!(sassenburg.school_types, vec![SchoolType::Grundschule]);
    assert_eq!(sassenburg.traeger_name, None);
}

#[tokio::test]
async fn media_concept_ods_and_equipment_csv_demo_files() {
    let (source, settings) = settings_of(&config_dir().join("connectors.d/medienkonzepte-gifhorn.toml"));
    let connector = build(&source, &settings, &config_dir());
    assert_eq!(connector.entities(), &[ikz_connectors::model::EntityKind::MediaConcept]);
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    assert_eq!(sink.records.len(), 63);
    let Some(Record::MediaConcept(gym)) = sink
        .records
        .iter()
        .find(|record| matches!(record, Record::MediaConcept(concept) if concept.school_id == "NI-66497"))
    else {
        panic!("no media concept for NI-66497")
    };
    assert_eq!(gym.status, MediaConceptStatus::Approved);
    assert_eq!(gym.origin.source_key, "NI-66497");
    assert!(gym.id.starts_with("mbk-"));
    assert_eq!(gym.version.as_deref(), Some("1.1"));
    // ODS date cells: Schulnummer 66497 → month 66497 % 12 + 1 = 6.
    assert_eq!(gym.started_on, NaiveDate::from_ymd_opt(2019, 6, 1));
    assert_eq!(gym.submitted_on, NaiveDate::from_ymd_opt(2020, 6, 15));
    assert_eq!(gym.approved_on, NaiveDate::from_ymd_opt(2020, 7, 20));
    // A date typed as text ("dd.mm.2020") is read too.
    let typed = sink.records.iter().find_map(|record| match record {
        Record::MediaConcept(concept) if concept.status == MediaConceptStatus::Submitted => Some(concept),
        _ => None,
    });
    assert!(typed.and_then(|concept| concept.submitted_on).is_some());

    let (source, settings) = settings_of(&config_dir().join("connectors.d/ausstattung-gifhorn.toml"));
    let connector = build(&source, &settings, &config_dir());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    assert_eq!(sink.records.len(), 63 * 4);
    let equipment: Vec<_> = sink
        .records
        .iter()
        .filter_map(|record| match record {
            Record::Equipment(item) if item.school_id == "NI-33819" => Some(item),
            _ => None,
        })
        .collect();
    let categories: Vec<&str> = equipment.iter().map(|item| item.category.as_str()).collect();
    assert_eq!(categories, vec!["wlan", "display", "laptop", "tablet"]);
    assert_eq!(equipment[0].origin.source_key, "NI-33819/wlan");
    assert_eq!(equipment[0].as_of, NaiveDate::from_ymd_opt(2024, 8, 1));
    // 33819 / 3 % 40 + 0: the generator's demo count.
    assert_eq!(equipment[0].count, i64::from(33819u32 / 3 % 40));
    // A Schulnummer written as ="14345" (every fifth school) is unwrapped.
    assert!(sink
        .records
        .iter()
        .any(|record| matches!(record, Record::Equipment(item) if item.school_id == "NI-14345")));
}

fn school_sheet(rows: Vec<Vec<WriteCell>>) -> Vec<Vec<WriteCell>> {
    let mut sheet = vec![["Schulnummer", "Schulname", "Schulform", "Schulträger", "Stand"]
        .iter()
        .map(|text| WriteCell::from(*text))
        .collect::<Vec<_>>()];
    sheet.extend(rows);
    sheet
}

const SCHOOL_MAPPING: &str = r#"
    target = "school"
    [columns]
    school_number = "Schulnummer"
    name = "Schulname"
    school_type = "Schulform"
    traeger = "Schulträger"
    pupils_as_of = "Stand"
    [constants]
    state = "NI"
"#;

#[tokio::test]
async fn bad_cells_reject_exactly_their_rows_with_sheet_row_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(WriteCell::Date).expect("date");
    let rows = school_sheet(vec![
        vec![
            66497.0.into(),
            "Gymnasium Hankensbüttel".into(),
            "Gymnasium - SEK I -".into(),
            "SG Hankensbüttel".into(),
            date(2024, 8, 1),
        ],
        vec!["12a45".into(), "Schule mit Tippfehler".into(), "GS".into(), "".into(), "01.08.2024".into()],
        vec![33819.0.into(), "Karl-Soehle-Schule".into(), "GS".into(), "Samtgemeinde Hankensbüttel".into(), "".into()],
        vec![
            33960.0.into(),
            "Grund- u. Oberschule Wittingen".into(),
            "Grund- u. Oberschule".into(),
            "Stadt Wittingen".into(),
            "31.02.2020".into(),
        ],
        vec![
            14588.0.into(),
            "Grundschule Radenbeck".into(),
            "GS".into(),
            "Stadt Wittingen".into(),
            "2024-08-01".into(),
        ],
    ]);
    std::fs::write(dir.path().join("bad.xlsx"), xlsx_bytes(&[("Schulen", rows)], false).expect("xlsx")).expect("write");
    let connector = build("bad.xlsx", &table(SCHOOL_MAPPING), dir.path());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    let outcome = outcome.expect("the run succeeds with rejects");
    assert!(outcome.complete);
    let ids: Vec<&str> = schools(&sink).iter().map(|school| school.id.as_str()).collect();
    assert_eq!(ids, vec!["NI-66497", "NI-33819", "NI-14588"]);
    assert_eq!(sink.rejects.len(), 2, "{:?}", sink.rejects);
    assert_eq!(sink.rejects[0].location, "bad.xlsx, sheet Schulen, row 3, column A");
    assert_eq!(sink.rejects[0].field.as_deref(), Some("Schulnummer"));
    assert_eq!(sink.rejects[0].value.as_deref(), Some("12a45"));
    assert!(sink.rejects[0].message.contains("12a45"), "{}", sink.rejects[0].message);
    assert_eq!(sink.rejects[1].location, "bad.xlsx, sheet Schulen, row 5, column E");
    assert_eq!(sink.rejects[1].field.as_deref(), Some("Stand"));
    assert_eq!(sink.rejects[1].value.as_deref(), Some("31.02.2020"));
    assert!(sink.rejects[1].message.contains("not a date"), "{}", sink.rejects[1].message);
    // Date cell, "01.08.2024"-less empty, and ISO text all coerce.
    let all = schools(&sink);
    assert_eq!(all[0].pupils_as_of, NaiveDate::from_ymd_opt(2024, 8, 1));
    assert_eq!(all[0].traeger_partner.as_deref(), Some("hankensbuettel"), "linked through the alias");
    assert_eq!(all[1].pupils_as_of, None);
    assert_eq!(all[2].pupils_as_of, NaiveDate::from_ymd_opt(2024, 8, 1));
    assert!(
        outcome.notes.iter().any(|note| note == "Schulträger without partner: Stadt Wittingen (1 school)"),
        "{:?}",
        outcome.notes
    );
}

#[tokio::test]
async fn unchanged_file_ends_the_run_unchanged_without_parsing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("schulen.xlsx");
    let rows = school_sheet(vec![vec![
        66497.0.into(),
        "Gymnasium Hankensbüttel".into(),
        "Gymnasium".into(),
        "".into(),
        "".into(),
    ]]);
    std::fs::write(&path, xlsx_bytes(&[("Schulen", rows.clone())], false).expect("xlsx")).expect("write");
    let connector = build("schulen.xlsx", &table(SCHOOL_MAPPING), dir.path());
    let (first, sink) = run(connector.as_ref(), None).await;
    let first = first.expect("first run");
    assert_eq!(sink.records.len(), 1);
    assert!(first.watermark.is_some());

    let (second, sink) = run(connector.as_ref(), first.watermark.clone()).await;
    let second = second.expect("second run");
    assert!(second.source_unchanged);
    assert!(!second.complete, "an unread source must not tombstone anything");
    assert_eq!(second.watermark, first.watermark);
    assert!(sink.records.is_empty() && sink.rejects.is_empty() && sink.batches == 0);

    // A changed mapping reads the unchanged file again.
    let mut changed = table(SCHOOL_MAPPING);
    changed.insert("batch_size".into(), toml::Value::Integer(10));
    let remapped = build("schulen.xlsx", &changed, dir.path());
    let (third, sink) = run(remapped.as_ref(), first.watermark.clone()).await;
    assert!(!third.expect("third run").source_unchanged);
    assert_eq!(sink.records.len(), 1);

    // A changed file is read again; the removed school is simply not emitted (the store tombstones it).
    let mut more = rows;
    more.push(vec![33819.0.into(), "Karl-Soehle-Schule".into(), "GS".into(), "".into(), "".into()]);
    std::fs::write(&path, xlsx_bytes(&[("Schulen", more)], false).expect("xlsx")).expect("write");
    let (fourth, sink) = run(connector.as_ref(), first.watermark).await;
    let fourth = fourth.expect("fourth run");
    assert!(!fourth.source_unchanged && fourth.complete);
    assert_eq!(sink.records.len(), 2);
}

#[tokio::test]
async fn a_missing_header_fails_the_run_naming_it_and_listing_the_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = vec![
        vec!["Schul-Nr".into(), "Schulname".into(), "Ort".into()],
        vec![66497.0.into(), "Gymnasium Hankensbüttel".into(), "Hankensbüttel".into()],
    ];
    std::fs::write(dir.path().join("s.xlsx"), xlsx_bytes(&[("Tabelle1", rows)], false).expect("xlsx")).expect("write");
    let settings = table(
        "target = 'school'\n[columns]\nschool_number = ['Schulnummer', 'SNR']\nname = 'Schulname'\n[constants]\nstate = 'NI'\n",
    );
    let connector = build("s.xlsx", &settings, dir.path());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    let error = outcome.expect_err("the run fails").to_string();
    assert!(error.contains("columns.school_number (\"Schulnummer\" or \"SNR\")"), "{error}");
    assert!(error.contains("the headers in row 1 are: Schul-Nr, Schulname, Ort"), "{error}");
    assert!(error.contains("sheet `Tabelle1`"), "{error}");
    assert!(sink.records.is_empty() && sink.rejects.is_empty());

    // An explicit header row that lacks it fails the same way.
    let mut explicit = settings.clone();
    explicit.insert("header_row".into(), toml::Value::Integer(1));
    let connector = build("s.xlsx", &explicit, dir.path());
    let error = run(connector.as_ref(), None).await.0.expect_err("fails").to_string();
    assert!(error.contains("no column found for columns.school_number"), "{error}");

    // A missing sheet names the sheets there are.
    let mut wrong_sheet = settings;
    wrong_sheet.insert("sheet".into(), toml::Value::String("Schulen".into()));
    let connector = build("s.xlsx", &wrong_sheet, dir.path());
    let error = run(connector.as_ref(), None).await.0.expect_err("fails").to_string();
    assert!(error.contains("sheet `Schulen` not found; the file has the sheets: Tabelle1"), "{error}");
}

#[tokio::test]
async fn header_alternatives_title_rows_and_1904_dates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let date = NaiveDate::from_ymd_opt(2019, 11, 27).map(WriteCell::Date).expect("date");
    let rows = vec![
        vec!["Ausstattung – Stand Herbst".into()],
        vec![],
        vec!["  SCHUL-NR. ".into(), "Anzahl".into(), "Kategorie".into(), "Stand".into(), "Bemerkung".into()],
        vec![66497.0.into(), 24.0.into(), "Notebooks".into(), date.clone(), "neu".into()],
        // A plain number in a date column is no date: only date-formatted cells are serials.
        vec![33819.0.into(), 3.0.into(), "Tablets".into(), 43796.0.into(), "".into()],
        vec![33819.0.into(), "1.024".into(), "WLAN".into(), "".into(), "".into()],
    ];
    std::fs::write(dir.path().join("mac.xlsx"), xlsx_bytes(&[("Daten", rows)], true).expect("xlsx")).expect("write");
    let settings = table(
        "target = 'equipment'\nsheet = 1\n[columns]\nschool_number = ['Schulnummer', 'Schul-Nr.']\ncount = 'anzahl'\ncategory = 'Kategorie'\nas_of = 'Stand'\n[constants]\nstate = 'NI'\n",
    );
    let connector = build("mac.xlsx", &settings, dir.path());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    let Some(Record::Equipment(first)) = sink.records.first() else { panic!("no record: {:?}", sink.rejects) };
    assert_eq!((first.school_id.as_str(), first.category.as_str(), first.count), ("NI-66497", "laptop", 24));
    assert_eq!(first.as_of, NaiveDate::from_ymd_opt(2019, 11, 27), "1904 date system");
    assert_eq!(sink.rejects.len(), 1);
    assert_eq!(sink.rejects[0].location, "mac.xlsx, sheet Daten, row 5, column D");
    assert_eq!(sink.rejects[0].value.as_deref(), Some("43796"));
    let Some(Record::Equipment(wlan)) = sink.records.get(1) else { panic!("second record") };
    assert_eq!((wlan.category.as_str(), wlan.count), ("wlan", 1024));
}

#[tokio::test]
async fn same_key_with_conflicting_values_is_rejected_and_unknown_types_warn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = school_sheet(vec![
        vec![66497.0.into(), "Gymnasium Hankensbüttel".into(), "Gymnasium - SEK I -".into(), "".into(), "".into()],
        vec![33819.0.into(), "Karl-Soehle-Schule".into(), "Kolleg".into(), "".into(), "".into()],
        // Not adjacent, same values: one school with both types.
        vec![66497.0.into(), "Gymnasium Hankensbüttel".into(), "Gymnasium - SEK II -".into(), "".into(), "".into()],
        // Same Schulnummer, another name: rejected.
        vec![66497.0.into(), "Gymnasium Wittingen".into(), "Gymnasium".into(), "".into(), "".into()],
    ]);
    let ods = ods_bytes(&[("Schulen", rows)]).expect("ods");
    std::fs::write(dir.path().join("schulen.ods"), ods).expect("write");
    let connector = build("schulen.ods", &table(SCHOOL_MAPPING), dir.path());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    let all = schools(&sink);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].school_types_raw, vec!["Gymnasium - SEK I -", "Gymnasium - SEK II -"]);
    assert_eq!(all[1].school_types, vec![SchoolType::Other]);
    assert_eq!(all[1].school_types_raw, vec!["Kolleg"]);
    assert_eq!(sink.warnings, vec!["unknown school type `Kolleg` (1 school) mapped to `other`"]);
    assert_eq!(sink.rejects.len(), 1);
    assert_eq!(sink.rejects[0].location, "schulen.ods, sheet Schulen, row 5, column B");
    assert_eq!(sink.rejects[0].value.as_deref(), Some("Gymnasium Wittingen"));
    assert!(sink.rejects[0].message.contains("already in row 2"), "{}", sink.rejects[0].message);
}

#[tokio::test]
async fn csv_in_windows_1252_with_protected_cells_and_german_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "Schulnummer;Kategorie;Anzahl;Stand\r\n=\"03151\";Interaktive Displays;1.024;27.11.2019\r\n66497;Tablets;;27.11.2019\r\n66497;Notebooks;12;27.11.2019\r\n66497;Notebooks;13;27.11.2019\r\n;Tablets;4;\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    std::fs::write(dir.path().join("a.csv"), bytes).expect("write");
    let settings = table(
        "target = 'equipment'\n[columns]\nschool_number = 'Schulnummer'\ncount = 'Anzahl'\ncategory = 'Kategorie'\nas_of = 'Stand'\n[constants]\nstate = 'NI'\n",
    );
    let connector = build("a.csv", &settings, dir.path());
    let (outcome, sink) = run(connector.as_ref(), None).await;
    outcome.expect("run succeeds");
    let Some(Record::Equipment(first)) = sink.records.first() else { panic!("no record") };
    assert_eq!((first.school_id.as_str(), first.category.as_str(), first.count), ("NI-03151", "display", 1024));
    assert_eq!(sink.records.len(), 2);
    let places: Vec<(&str, Option<&str>)> =
        sink.rejects.iter().map(|reject| (reject.location.as_str(), reject.field.as_deref())).collect();
    assert_eq!(
        places,
        vec![
            ("a.csv, row 3, column C", Some("Anzahl")),
            ("a.csv, row 5, column C", Some("Anzahl")),
            ("a.csv, row 6, column A", Some("Schulnummer")),
        ]
    );
    assert!(sink.rejects[1].message.contains("already in row 4"), "{}", sink.rejects[1].message);
}

#[test]
fn config_mistakes_name_their_fields() {
    let kind = registry::find("spreadsheet").expect("registered");
    let partners = partners();
    let base = Path::new("/tmp");
    let settings = table(
        "target = 'media_concept'\nheader = 2\n[columns]\nschool_number = 'Nr'\nstatus = 'Status'\ncount = 'Anzahl'\n",
    );
    let spec = ConnectorSpec {
        id: "x",
        partner: &partners[0],
        source: Source::parse("x.xlsx", base).expect("source"),
        settings: &settings,
        base_dir: base,
    };
    let errors = match (kind.build)(&spec) {
        Ok(_) => panic!("must fail"),
        Err(errors) => errors,
    };
    let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(fields, vec!["header"]);
    let settings =
        table("target = 'media_concept'\n[columns]\nschool_number = 'Nr'\nstatus = 'Status'\ncount = 'Anzahl'\n");
    let spec = ConnectorSpec { settings: &settings, ..spec };
    let errors = match (kind.build)(&spec) {
        Ok(_) => panic!("must fail"),
        Err(errors) => errors,
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "columns.count");
    assert!(errors[0].message.contains("unknown field `count` for target `media_concept`"), "{}", errors[0].message);
}

//! Connectors end to end into a real store, on SQLite and PostgreSQL: what the connector issues promise about the
//! stored data (counts, unchanged re-imports, tombstones, failed runs changing nothing).

use diesel::prelude::*;
use ikz_connectors::oparl::testing::TestServer;
use ikz_hub::startup::open_store;
use ikz_store::rows::{ConsultationRow, PaperRow, SchoolRow};
use ikz_store::schema::{consultation, paper, school};
use ikz_store::{RunStatus, Store};
use ikz_tests::{databases, demo_config, hub, import, oparl_connector, repo_root, serve_oparl_papers, TestConfig};

fn schools(store: &Store) -> Vec<SchoolRow> {
    let mut conn = store.connection().expect("connection");
    school::table.order(school::id).select(SchoolRow::as_select()).load(&mut *conn).expect("schools")
}

/// Issue 3: the Gifhorn school list imports to its distinct schools; Gymnasium Hankensbüttel is typed and linked;
/// an untouched file is not read again; the same content re-read creates and updates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gifhorn_school_list_imports_and_reimports_unchanged() {
    for database in databases() {
        let config = demo_config(&database.url);
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let first = import(&hub, "schulen-gifhorn").await;
        assert_eq!(first.status, RunStatus::Succeeded, "{}: {:?}", database.backend, first.error);
        assert_eq!(first.counts.created, 63, "{}", database.backend);
        let rows = schools(&store);
        let hankensbuettel = rows.iter().find(|row| row.id == "NI-66497").expect("NI-66497 stored");
        assert_eq!(hankensbuettel.name, "Gymnasium Hankensbüttel");
        assert_eq!(hankensbuettel.school_types, r#"["gymnasium"]"#);
        assert_eq!(hankensbuettel.traeger_partner.as_deref(), Some("hankensbuettel"));

        let untouched = import(&hub, "schulen-gifhorn").await;
        assert_eq!(untouched.status, RunStatus::Unchanged);
        assert_eq!((untouched.counts.created, untouched.counts.updated), (0, 0));
        assert_eq!(schools(&store), rows, "nothing rewritten");
    }
}

/// Issue 3: a school removed from a snapshot sheet is tombstoned (kept, marked deleted, modified), and the same
/// content read again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_removed_from_the_sheet_is_tombstoned() {
    let sheet = "Schulnummer;Schulname;Schulform;Ort\n66497;Gymnasium Hankensbüttel;Gymnasium;Hankensbüttel\n\
                 81772;Grundschule Hankensbüttel;GS;Hankensbüttel\n33819;Oberschule Hankensbüttel;Oberschule;Hankensbüttel\n";
    for database in databases() {
        let test = TestConfig::new(&database.url, "");
        test.data_file("schulen.csv", sheet.as_bytes());
        test.connector(
            "schulen",
            "id = \"schulen\"\nkind = \"spreadsheet\"\npartner = \"hankensbuettel\"\nsource = \"schulen.csv\"\n\
             target = \"school\"\n[columns]\nschool_number = \"Schulnummer\"\nname = \"Schulname\"\n\
             school_type = \"Schulform\"\ncity = \"Ort\"\n[constants]\nstate = \"NI\"\n",
        );
        let config = test.load();
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        assert_eq!(import(&hub, "schulen").await.counts.created, 3, "{}", database.backend);

        // Same bytes, new modification time: recognised by the content digest, not read again.
        test.data_file("schulen.csv", sheet.as_bytes());
        let copied = import(&hub, "schulen").await;
        assert_eq!((copied.status, copied.counts.fetched), (RunStatus::Unchanged, 0), "{}", database.backend);
        // The same rows with Windows line ends (other bytes): read again, every record unchanged.
        test.data_file("schulen.csv", sheet.replace('\n', "\r\n").as_bytes());
        let again = import(&hub, "schulen").await;
        assert_eq!((again.status, again.counts.unchanged, again.counts.updated), (RunStatus::Succeeded, 3, 0));

        let without_oberschule: String =
            sheet.lines().filter(|line| !line.starts_with("33819")).map(|l| format!("{l}\n")).collect();
        test.data_file("schulen.csv", without_oberschule.as_bytes());
        let removed = import(&hub, "schulen").await;
        assert_eq!((removed.status, removed.counts.deleted), (RunStatus::Succeeded, 1), "{:?}", removed.error);
        let rows = schools(&store);
        let gone = rows.iter().find(|row| row.id == "NI-33819").expect("the row is kept");
        assert!(gone.deleted_at.is_some());
        assert_eq!(Some(gone.modified_at), gone.deleted_at, "modified_since consumers see the deletion");
        assert!(rows.iter().filter(|row| row.id != "NI-33819").all(|row| row.deleted_at.is_none()));
    }
}

/// A school's second row far below its first (more rows apart than the connector waits before sending a school): the
/// school is sent early and again with the later row's type; the store keeps the last version and counts it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_completed_by_a_distant_row_is_stored_whole_and_counted_once() {
    let mut sheet = String::from("Schulnummer;Schulname;Schulform\n66497;Gymnasium Hankensbüttel;Gymnasium\n");
    for number in 20_000..22_500 {
        sheet.push_str(&format!("{number};Schule {number};GS\n"));
    }
    sheet.push_str("66497;Gymnasium Hankensbüttel;IGS\n");
    for database in databases() {
        let test = TestConfig::new(&database.url, "");
        test.data_file("schulen.csv", sheet.as_bytes());
        test.connector(
            "schulen",
            "id = \"schulen\"\nkind = \"spreadsheet\"\npartner = \"hankensbuettel\"\nsource = \"schulen.csv\"\n\
             target = \"school\"\n[columns]\nschool_number = \"Schulnummer\"\nname = \"Schulname\"\n\
             school_type = \"Schulform\"\n[constants]\nstate = \"NI\"\n",
        );
        let config = test.load();
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let first = import(&hub, "schulen").await;
        assert_eq!(first.status, RunStatus::Succeeded, "{}: {:?}", database.backend, first.error);
        assert_eq!((first.counts.created, first.counts.updated, first.counts.unchanged), (2_501, 0, 0));
        let rows = schools(&store);
        assert_eq!(rows.len(), 2_501);
        let gymnasium = rows.iter().find(|row| row.id == "NI-66497").expect("stored");
        assert_eq!(gymnasium.school_types_raw, r#"["Gymnasium","IGS"]"#, "{}", database.backend);

        // Read again (the same rows with Windows line ends, so the content digest differs): the early and the final
        // version arrive again; the school ends as it was, so nothing counts as updated and its modified_at stays.
        test.data_file("schulen.csv", sheet.replace('\n', "\r\n").as_bytes());
        let again = import(&hub, "schulen").await;
        assert_eq!(again.status, RunStatus::Succeeded, "{}: {:?}", database.backend, again.error);
        assert_eq!(
            (again.counts.created, again.counts.updated, again.counts.unchanged, again.counts.deleted),
            (0, 0, 2_501, 0),
            "{}",
            database.backend
        );
        let after = schools(&store);
        let gymnasium_after = after.iter().find(|row| row.id == "NI-66497").expect("stored");
        assert_eq!(gymnasium_after.school_types_raw, r#"["Gymnasium","IGS"]"#);
        assert_eq!(gymnasium_after.modified_at, gymnasium.modified_at, "{}", database.backend);
    }
}

/// Issue 5: the demo ALLRIS site is crawled into the store: the seed paper SG/256/19 with its Beratungsfolge, no
/// staff name anywhere; a second crawl writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allris_demo_site_crawls_into_the_store_and_recrawls_unchanged() {
    for database in databases() {
        let config = demo_config(&database.url);
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let first = import(&hub, "allris-hankensbuettel").await;
        assert_eq!(first.status, RunStatus::Succeeded, "{}: {:?}", database.backend, first.error);
        assert!(first.counts.created > 10, "{:?}", first.counts);

        let mut conn = store.connection().expect("connection");
        let papers: Vec<PaperRow> = paper::table.select(PaperRow::as_select()).load(&mut *conn).expect("papers");
        let seed = papers.iter().find(|p| p.reference.as_deref() == Some("SG/256/19")).expect("SG/256/19 stored");
        assert_eq!(
            seed.subject,
            "Interkommunale Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung"
        );
        assert_eq!(seed.lead_department.as_deref(), Some("Bürgerservice"));
        assert_eq!(seed.financial_impact_annual_cents, Some(1_000_000));
        assert!(seed.sachverhalt.as_deref().unwrap_or("").contains("245.341 €"));
        let mut stations: Vec<ConsultationRow> = consultation::table
            .filter(consultation::paper_id.eq(&seed.id))
            .select(ConsultationRow::as_select())
            .load(&mut *conn)
            .expect("consultations");
        stations.sort_by_key(|row| row.position);
        let summary: Vec<(Option<&str>, Option<chrono::NaiveDate>, &str)> =
            stations.iter().map(|s| (s.role.as_deref(), s.date, s.result.as_str())).collect();
        let date = |d| chrono::NaiveDate::from_ymd_opt(2019, 12, d);
        assert_eq!(
            summary,
            [
                (Some("Vorberatung"), chrono::NaiveDate::from_ymd_opt(2019, 11, 27), "adopted"),
                (Some("Vorberatung"), None, "pending"),
                (Some("Entscheidung"), date(11), "adopted"),
            ]
        );
        let everything = serde_json::to_string(&(&papers, &stations)).expect("json");
        assert!(!everything.contains("Dammann"), "a staff name was stored");
        drop(conn);

        let digest = store.data_digest().expect("digest");
        let second = import(&hub, "allris-hankensbuettel").await;
        assert_eq!((second.counts.created, second.counts.updated), (0, 0), "{:?}", second.counts);
        let mut conn = store.connection().expect("connection");
        let after: Vec<PaperRow> = paper::table.select(PaperRow::as_select()).load(&mut *conn).expect("papers");
        let unchanged = |rows: &[PaperRow]| {
            rows.iter().map(|p| (p.id.clone(), p.modified_at, p.content_hash.clone())).collect::<Vec<_>>()
        };
        assert_eq!(unchanged(&after), unchanged(&papers), "a re-crawl rewrites nothing");
        assert_ne!(digest, "", "digest computed");
    }
}

/// Issue 4: an OParl endpoint whose page 3 answers 500 for good fails the run after the retries, and every table
/// stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oparl_run_with_a_permanently_failing_page_changes_nothing() {
    for database in databases() {
        let server = TestServer::start().await.expect("fixture server");
        let pages = serve_oparl_papers(&server, 125, 25);
        let test = TestConfig::new(&database.url, "");
        test.connector("ratsinfo", &oparl_connector(&server.base(), false));
        let config = test.load();
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let first = import(&hub, "ratsinfo").await;
        assert_eq!(first.status, RunStatus::Succeeded, "{}: {:?}", database.backend, first.error);
        let mut conn = store.connection().expect("connection");
        let stored: i64 = paper::table.count().get_result(&mut *conn).expect("count");
        assert_eq!(stored, 125);
        drop(conn);

        let digest = store.data_digest().expect("digest");
        server.fail(&pages[2].0, 500, u32::MAX);
        let failed = import(&hub, "ratsinfo").await;
        assert_eq!(failed.status, RunStatus::Failed);
        assert!(failed.error.as_deref().unwrap_or("").contains("500"), "{:?}", failed.error);
        assert_eq!(store.data_digest().expect("digest"), digest, "{}: a failed run changes nothing", database.backend);
    }
}

/// Line and column (from 1) of the `nth` (from 1) occurrence of `needle` in `text`, and `text` with it replaced.
fn break_nth(text: &str, needle: &str, nth: usize, replacement: &str) -> (String, String) {
    let (at, _) = text.match_indices(needle).nth(nth - 1).expect("the occurrence to break");
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].rsplit('\n').next().unwrap_or_default().chars().count() + 1;
    (format!("line {line}, column {column}"), format!("{}{replacement}{}", &text[..at], &text[at + needle.len()..]))
}

/// Issue 6: a funding XML export that is not well formed fails the run with line and column, although batches
/// before the error had reached the store; every table (other than the run log) is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_funding_xml_fails_with_its_position_and_changes_no_table() {
    let demo = repo_root().join("config/demo");
    let xml = std::fs::read(demo.join("ndips-antraege-gifhorn.xml")).expect("demo XML");
    // The demo file is ISO-8859-15; every byte maps to one character, so Latin-1 decoding keeps lines and columns.
    let text: String = xml.iter().map(|byte| char::from(*byte)).collect();
    // The 8th record's measure closes with a misspelt end tag: seven records are read (in batches of 2) first.
    let (position, broken) = break_nth(&text, "</ndips:Massnahme>", 8, "</ndips:Massname>");
    let broken: Vec<u8> = broken.chars().map(|character| character as u8).collect();
    let connector = std::fs::read_to_string(repo_root().join("config/connectors.d/funding-antraege-gifhorn.toml"))
        .expect("demo connector")
        .replace("source = \"demo/ndips-antraege-gifhorn.xml\"", "source = \"antraege.xml\"")
        .replace("target = \"funding_application\"", "target = \"funding_application\"\nbatch_size = 2");
    assert!(connector.contains("antraege.xml") && connector.contains("batch_size = 2"), "{connector}");
    for database in databases() {
        let backend = database.backend;
        let test = TestConfig::new(&database.url, "");
        std::fs::create_dir_all(test.dir.path().join("demo")).expect("demo folder");
        let programs = std::fs::read(demo.join("funding-programs.jsonl")).expect("programs");
        test.data_file("demo/funding-programs.jsonl", &programs);
        test.data_file("antraege.xml", &xml);
        test.connector("funding-antraege", &connector);
        let config = test.load();
        let store = open_store(&config).await.expect("store");
        let hub = hub(config, &store);
        let run_log = ["import_run", "rejected_record"];
        let empty = ikz_store::testing::table_digests(&store, &run_log);
        let first = import(&hub, "funding-antraege-gifhorn").await;
        assert_eq!(first.status, RunStatus::Succeeded, "{backend}: {:?}", first.error);
        assert_eq!(first.counts.created, 11, "{backend}");

        let before = ikz_store::testing::table_digests(&store, &run_log);
        assert_ne!(
            before["funding_application"], empty["funding_application"],
            "{backend}: the digest sees the import"
        );
        assert!(before.contains_key("funding_application") && before.contains_key("partner"), "{before:?}");
        test.data_file("antraege.xml", &broken);
        let failed = import(&hub, "funding-antraege-gifhorn").await;
        assert_eq!(failed.status, RunStatus::Failed, "{backend}");
        // Seven records precede the error: three full batches of 2 had reached the store, the 7th was pending.
        assert_eq!(failed.counts.fetched, 6, "{backend}: the batches before the error had reached the store");
        let error = failed.error.unwrap_or_default();
        assert!(error.contains("antraege.xml"), "{backend}: {error}");
        assert!(error.contains(&position), "{backend}: expected {position}: {error}");
        assert!(error.contains("Massname"), "{backend}: {error}");
        assert_eq!(
            ikz_store::testing::table_digests(&store, &run_log),
            before,
            "{backend}: a failed run changes nothing"
        );
    }
}

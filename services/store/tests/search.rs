//! Full-text search (migration `search_and_sort_indexes`) on a real SQLite file (FTS5) and a real PostgreSQL
//! database (tsvector, German configuration): case, umlaut spelling, prefixes and compound words, and the index
//! following updates and tombstones.

use ikz_connectors::model::{Address, Contact, EntityKind, Origin, Record, School, SchoolType, Tombstone};
use ikz_connectors::{RecordSink, RunOutcome};
use ikz_store::queries::{self, search_terms, Page, SchoolFilter};
use ikz_store::runs::RunRequest;
use ikz_store::testing;
use ikz_store::{Guards, Store, Trigger};

fn school(number: &str, name: &str, city: &str) -> Record {
    Record::School(School {
        id: format!("NI-{number}"),
        origin: Origin::new(number),
        state: "NI".into(),
        school_number: number.into(),
        name: name.into(),
        school_types_raw: vec!["Grundschule".into()],
        school_types: vec![SchoolType::Grundschule],
        legal_status: None,
        traeger_name: None,
        traeger_partner: None,
        address: Address { street: None, postcode: None, city: Some(city.into()) },
        contact: Contact::default(),
        pupils: None,
        pupils_as_of: None,
        latitude: None,
        longitude: None,
    })
}

async fn import(store: &Store, records: Vec<Record>) {
    let request = RunRequest {
        connector: "schools".into(),
        trigger: Trigger::Manual,
        entities: vec![EntityKind::School],
        guards: Guards { max_reject_ratio: 0.1, max_tombstone_share: 1.0 },
    };
    let mut run = store.begin_run(request).await.expect("begin run");
    run.records(records).await.expect("records");
    let summary = run.finish(RunOutcome::default()).await;
    assert!(summary.error.is_none(), "{summary:?}");
}

fn search(store: &Store, q: &str) -> Vec<String> {
    let mut conn = store.connection().expect("connection");
    let filter = SchoolFilter { q: search_terms(q), ..SchoolFilter::default() };
    let page = Page { sort: "id", descending: false, after: None, limit: 100, modified_since: None };
    queries::list_schools(&mut conn, &filter, &page).expect("search").into_iter().map(|row| row.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_folds_case_and_umlauts_and_matches_prefixes() {
    for database in testing::all() {
        let backend = database.backend;
        let store = Store::open(&database.url, 2).expect("open");
        import(
            &store,
            vec![
                school("1", "Förderschule des Schulträgers", "Groß Oesingen"),
                school("2", "Medienentwicklungsplanung-Modellschule", "Gifhorn"),
                school("3", "GYMNASIUM ÜBERLINGEN", "Straßburg"),
                school("4", "Schule am Schloßpark", "Gifhorn"),
            ],
        )
        .await;
        for (q, expected) in [
            ("schultraegers", vec!["NI-1"]),
            ("SCHULTRÄGERS", vec!["NI-1"]),
            ("Schulträger", vec!["NI-1"]),
            ("schultr", vec!["NI-1"]),
            ("foerderschule gross", vec!["NI-1"]),
            ("Medienentwicklungsplanung", vec!["NI-2"]),
            ("medienentwicklung", vec!["NI-2"]),
            ("ueberlingen", vec!["NI-3"]),
            ("gymnasium strassburg", vec!["NI-3"]),
            ("schlosspark", vec!["NI-4"]),
            ("am", vec!["NI-4"]),
            ("gifhorn", vec!["NI-2", "NI-4"]),
            ("gifhorn schloss", vec!["NI-4"]),
            ("entwicklungsplanung", vec![]),
            ("nirgendwo", vec![]),
        ] {
            assert_eq!(search(&store, q), expected, "{backend}: q={q}");
        }

        // The index follows renames and keeps tombstoned rows findable only through modified_since.
        import(&store, vec![school("4", "Schule am Wasserturm", "Gifhorn")]).await;
        assert_eq!(search(&store, "schlosspark"), Vec::<String>::new(), "{backend}: old name gone");
        assert_eq!(search(&store, "wasserturm"), ["NI-4"], "{backend}: new name found");
        import(
            &store,
            vec![Record::Tombstone(Tombstone {
                id: "NI-2".into(),
                kind: EntityKind::School,
                origin: Origin::new("2"),
            })],
        )
        .await;
        assert_eq!(search(&store, "gifhorn"), ["NI-4"], "{backend}: tombstones are hidden");
        let mut conn = store.connection().expect("connection");
        let filter = SchoolFilter { q: search_terms("gifhorn"), ..SchoolFilter::default() };
        let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        let page = Page { sort: "id", descending: false, after: None, limit: 100, modified_since: since };
        let changed: Vec<String> =
            queries::list_schools(&mut conn, &filter, &page).expect("search").into_iter().map(|row| row.id).collect();
        assert_eq!(changed, ["NI-2", "NI-4"], "{backend}: modified_since with q lists the tombstone");
    }
}

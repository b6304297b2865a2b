//! Keyset pagination of every list under writes, on SQLite and PostgreSQL, over real HTTP.
//!
//! Every entity list, in every sort order it offers, ascending and descending, is walked in pages of two while new
//! records arrive between the pages: far before and far after the cursor, tied with the cursor's sort value on
//! either side of its id, and with NULL sort values. The walk must serve every record that existed at the start
//! exactly once, in order, and exactly the new records that sort after the cursor they arrived at (keyset
//! semantics: nothing repeats, nothing is skipped). The run logs are walked while runs are added.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use ikz_connectors::model::{
    Address, AgendaItem, ApplicationStatus, Cents, Consultation, ConsultationResult, Contact, EntityKind, Equipment,
    File, FileOwner, FundingApplication, FundingBudget, FundingProgram, MediaConcept, MediaConceptStatus, Meeting,
    Organization, OrganizationKind, Origin, Paper, PaperSections, Record, School,
};
use ikz_tests::seed::{app_with_connector, CONNECTOR};
use ikz_tests::{databases, write_records, TestApp};
use serde_json::Value;

/// Records per list at the start; every third-ish one has NULL in its nullable sort fields.
const INITIAL: u32 = 8;
/// Rows per page.
const PAGE: usize = 2;
/// Pages after which new records arrive (later pages see no more writes, so every walk ends).
const ROUNDS_WITH_WRITES: usize = 4;

/// The entity a list serves.
fn kind_of(list: &str) -> EntityKind {
    match list {
        "/organizations" => EntityKind::Organization,
        "/meetings" => EntityKind::Meeting,
        "/agenda-items" => EntityKind::AgendaItem,
        "/papers" => EntityKind::Paper,
        "/decisions" => EntityKind::Consultation,
        "/files" => EntityKind::File,
        "/schools" => EntityKind::School,
        "/media-concepts" => EntityKind::MediaConcept,
        "/equipment" => EntityKind::Equipment,
        "/funding/programs" => EntityKind::FundingProgram,
        "/funding/budgets" => EntityKind::FundingBudget,
        "/funding/applications" => EntityKind::FundingApplication,
        other => panic!("{other}: which entity does this list serve? Add it to kind_of"),
    }
}

/// A record whose every sortable field follows `rank` (text `V0042`, day and hour `rank` after 2000-01-01, number
/// `rank`); its id is `x-{rank}-{tag}`, so records of one rank are ordered by tag. With `null`, the nullable sort
/// fields are NULL.
fn record(kind: EntityKind, rank: u32, tag: &str, null: bool) -> Record {
    let id = format!("x-{rank:04}-{tag}");
    let origin = Origin::new(id.clone());
    let text = format!("V{rank:04}");
    let day = NaiveDate::from_ymd_opt(2000, 1, 1).map(|start| start + Duration::days(rank.into()));
    let day = if null { None } else { day };
    let hour = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().map(|start| start + Duration::hours(rank.into()));
    let number = i32::try_from(rank).expect("small rank");
    match kind {
        EntityKind::Organization => Record::Organization(Organization {
            id,
            origin,
            partner: "gifhorn".into(),
            name: text,
            short_name: None,
            kind: OrganizationKind::Committee,
            start_date: None,
            end_date: None,
            web_url: None,
        }),
        EntityKind::Meeting => Record::Meeting(Meeting {
            id,
            origin,
            partner: "gifhorn".into(),
            organization_ids: vec![],
            name: text,
            start: if null { None } else { hour },
            end: None,
            location: None,
            state: None,
            cancelled: false,
            web_url: None,
        }),
        EntityKind::AgendaItem => Record::AgendaItem(AgendaItem {
            id,
            origin,
            partner: "gifhorn".into(),
            meeting_id: "meeting".into(),
            number: None,
            order: (!null).then_some(number),
            name: text,
            public: true,
            result: None,
            resolution_text: None,
            paper_id: None,
        }),
        EntityKind::Paper => Record::Paper(Paper {
            id,
            origin,
            partner: "gifhorn".into(),
            reference: (!null).then(|| text.clone()),
            subject: text,
            paper_type: None,
            date: day,
            public: true,
            lead_department: None,
            sections: PaperSections::default(),
            financial_impact_once: None,
            financial_impact_annual: None,
            web_url: None,
        }),
        EntityKind::Consultation => Record::Consultation(Consultation {
            id,
            origin,
            partner: "gifhorn".into(),
            paper_id: "paper".into(),
            position: None,
            organization_id: None,
            organization_name: Some(text),
            meeting_id: None,
            date: day,
            role: None,
            authoritative: None,
            result_text: None,
            result: ConsultationResult::Pending,
        }),
        EntityKind::File => Record::File(File {
            id,
            origin,
            partner: "gifhorn".into(),
            owner_kind: FileOwner::Paper,
            owner_id: "paper".into(),
            name: text,
            mime_type: None,
            size: None,
            date: None,
            access_url: None,
        }),
        EntityKind::School => Record::School(School {
            id,
            origin,
            state: "NI".into(),
            school_number: text.clone(),
            name: text,
            school_types_raw: vec![],
            school_types: vec![],
            legal_status: None,
            traeger_name: None,
            traeger_partner: Some("gifhorn".into()),
            address: Address::default(),
            contact: Contact::default(),
            pupils: None,
            pupils_as_of: None,
            latitude: None,
            longitude: None,
        }),
        EntityKind::MediaConcept => Record::MediaConcept(MediaConcept {
            id,
            origin,
            school_id: "school".into(),
            status: MediaConceptStatus::None,
            started_on: day,
            submitted_on: None,
            approved_on: None,
            version: Some(text),
        }),
        EntityKind::Equipment => Record::Equipment(Equipment {
            id,
            origin,
            school_id: "school".into(),
            category: text,
            count: rank.into(),
            as_of: day,
        }),
        EntityKind::FundingProgram => Record::FundingProgram(FundingProgram {
            id,
            origin,
            name: text,
            legal_basis: None,
            period_start: day,
            period_end: None,
            deadlines: vec![],
            measures: vec![],
            measure_names: Default::default(),
        }),
        EntityKind::FundingBudget => Record::FundingBudget(FundingBudget {
            id,
            origin,
            program_id: "program".into(),
            partner: Some("gifhorn".into()),
            school_id: None,
            amount: Cents::from_euros(rank.into()),
            basis: Some(text),
        }),
        EntityKind::FundingApplication => Record::FundingApplication(FundingApplication {
            id,
            origin,
            program_id: "program".into(),
            reference: text,
            partner: Some("gifhorn".into()),
            recipient_name: None,
            school_ids: vec![],
            measure: None,
            title: None,
            requested: None,
            approved: None,
            disbursed: None,
            status: ApplicationStatus::Submitted,
            submitted_on: day,
            approved_on: None,
            period_start: None,
            period_end: None,
            disbursements: vec![],
        }),
        other => panic!("{other:?} is not served as a list"),
    }
}

/// Rank and tag of an id made by [`record`].
fn parse_id(id: &str) -> (u32, String) {
    let mut parts = id.splitn(3, '-');
    let (Some("x"), Some(rank), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{id} is not a test record");
    };
    (rank.parse().expect("rank"), tag.to_owned())
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().expect("data").iter().map(|row| row["id"].as_str().expect("id").to_owned()).collect()
}

/// Writes the new records of one round, numbered from `serial` (unique across the whole test).
async fn arrive(app: &TestApp, kind: EntityKind, records: Vec<Record>) {
    write_records(&app.store, "arrivals", &[kind], records, false).await;
}

/// The records that arrive after a page ending on `cursor`: far at either end, NULL-valued, and tied with the
/// cursor's sort value just below and just above its id (tags are letters then digits: `l17` < `m` < `mz17`).
fn arrivals(kind: EntityKind, cursor: &Value, sort: &str, nullable: bool, serial: u32) -> Vec<Record> {
    let (rank, tag) = parse_id(cursor["id"].as_str().expect("id"));
    let null = nullable && cursor[sort].is_null();
    let mut new = vec![
        record(kind, 1000 + serial, &format!("b{serial}"), false),
        record(kind, 8000 + serial, &format!("e{serial}"), false),
        record(kind, 9000 + serial, &format!("n{serial}"), true),
        record(kind, rank, &format!("{tag}z{serial}"), null),
    ];
    let first = tag.chars().next().expect("tag");
    if first > 'a' {
        let below = char::from(u8::try_from(u32::from(first) - 1).expect("ascii"));
        new.push(record(kind, rank, &format!("{below}{serial}"), null));
    }
    new
}

/// One walk of `list` sorted by `sort`; see the module documentation for what it asserts.
async fn walk(app: &TestApp, backend: &str, list: &str, sort: &str, nullable: bool, serial: &mut u32) {
    let kind = kind_of(list);
    let path = format!("/api/v1{list}");
    let whole = format!("{path}?limit=1000&sort={sort}");
    let initial = ids(&app.get_json(&whole).await);
    let field = sort.trim_start_matches('-');
    let mut walked: Vec<String> = Vec::new();
    // New ids with the cursor they arrived at.
    let mut arrived: Vec<(Vec<String>, String)> = Vec::new();
    let mut next = Some(format!("{path}?limit={PAGE}&sort={sort}"));
    let mut pages = 0;
    while let Some(link) = next {
        let page = app.get_json(&link).await;
        let rows = page["data"].as_array().expect("data").clone();
        assert!(rows.len() <= PAGE, "{backend}: {link}");
        walked.extend(ids(&page));
        next = page["links"]["next"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 100, "{backend}: {path}?sort={sort} does not end: {walked:?}");
        let Some(cursor) = rows.last().filter(|_| pages <= ROUNDS_WITH_WRITES && next.is_some()) else { continue };
        *serial += 1;
        let new = arrivals(kind, cursor, field, nullable, *serial);
        let new_ids = new.iter().map(|record| record.id().to_owned()).collect();
        arrive(app, kind, new).await;
        arrived.push((new_ids, cursor["id"].as_str().expect("id").to_owned()));
    }
    let context = format!("{backend}: {path}?sort={sort}");
    let unique: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{context}: a record was served twice: {walked:?}");
    let missing: Vec<&String> = initial.iter().filter(|id| !unique.contains(id)).collect();
    assert!(missing.is_empty(), "{context}: skipped {missing:?} of {initial:?}; walked {walked:?}");
    assert!(!arrived.is_empty(), "{context}: no records arrived during the walk");

    // Exactly keyset semantics: the final order, restricted to the records that existed at the start and the new
    // ones sorting after the cursor they arrived at.
    let order = ids(&app.get_json(&whole).await);
    let position = |id: &String| order.iter().position(|other| other == id).expect("in the final list");
    let mut expected: BTreeSet<&String> = initial.iter().collect();
    for (new, cursor) in &arrived {
        expected.extend(new.iter().filter(|id| position(id) > position(cursor)));
    }
    let expected: Vec<&String> = order.iter().filter(|id| expected.contains(id)).collect();
    let walked: Vec<&String> = walked.iter().collect();
    assert_eq!(walked, expected, "{context}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_in_every_order_never_repeats_or_skips_while_records_arrive() {
    for database in databases() {
        let backend = database.backend;
        let (_config, app) = app_with_connector(&database.url, "").await;
        let mut serial = 0;
        let mut walks = 0;
        for ikz_api::openapi::ListDoc { path: list, spec, .. } in ikz_api::openapi::lists() {
            let kind = kind_of(list);
            let nullable = spec.sorts.iter().any(|sort| sort.kind.nullable());
            let initial: Vec<Record> =
                (0..INITIAL).map(|index| record(kind, 5000 + 10 * index, "m", nullable && index % 3 == 2)).collect();
            write_records(&app.store, "initial", &[kind], initial, true).await;
            for sort in spec.sorts {
                for direction in ["", "-"] {
                    let sort_param = format!("{direction}{}", sort.name);
                    walk(&app, backend, list, &sort_param, sort.kind.nullable(), &mut serial).await;
                    walks += 1;
                }
            }
        }
        assert!(walks >= 60, "{backend}: {walks} walks");
    }
}

/// The run logs (newest first, by run id) while runs are added between pages: the new runs sort before the cursor,
/// so the walk serves exactly the runs of the start, once each, newest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_logs_never_repeat_or_skip_while_runs_arrive() {
    for database in databases() {
        let backend = database.backend;
        let (_config, app) = app_with_connector(&database.url, "").await;
        for _ in 0..7 {
            write_records(&app.store, CONNECTOR, &[EntityKind::FundingProgram], vec![], false).await;
        }
        for path in ["/api/v1/import-runs", &format!("/api/v1/connectors/{CONNECTOR}/runs")] {
            let run_ids = |page: &Value| -> Vec<i64> {
                page["data"].as_array().expect("data").iter().map(|run| run["id"].as_i64().expect("id")).collect()
            };
            let initial = run_ids(&app.get_json(&format!("{path}?limit=1000")).await);
            assert!(initial.len() >= 7 && initial.windows(2).all(|pair| pair[0] > pair[1]), "{backend}: {initial:?}");
            let mut walked = Vec::new();
            let mut next = Some(format!("{path}?limit=2"));
            while let Some(link) = next {
                let page = app.get_json(&link).await;
                walked.extend(run_ids(&page));
                next = page["links"]["next"].as_str().map(str::to_owned);
                write_records(&app.store, CONNECTOR, &[EntityKind::FundingProgram], vec![], false).await;
                assert!(walked.len() <= initial.len(), "{backend}: {path} repeats: {walked:?}");
            }
            assert_eq!(walked, initial, "{backend}: {path}");
        }
    }
}

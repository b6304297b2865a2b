//! The read API end to end, on SQLite and PostgreSQL: filters, keyset pagination with writes between pages,
//! `modified_since` with tombstones, ETag/304, CSV and XLSX exports, umlaut-insensitive search, hostile
//! parameters, the composite records and the funding summary. Data is seeded through real import runs.

use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};
use ikz_connectors::model::{
    Address, AgendaItem, ApplicationStatus, Cents, Consultation, ConsultationResult, Contact, EntityKind, Equipment,
    File, FileOwner, FundingApplication, FundingBudget, FundingProgram, MediaConcept, MediaConceptStatus, Meeting,
    Organization, OrganizationKind, Origin, Paper, PaperSections, Record, School, SchoolType, Tombstone,
};
use ikz_tests::{databases, spawn_app, write_records, TestApp, TestConfig};
use serde_json::Value;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn school(number: &str, name: &str, city: &str, partner: &str, kind: SchoolType) -> Record {
    Record::School(School {
        id: format!("NI-{number}"),
        origin: Origin::new(number),
        state: "NI".into(),
        school_number: number.into(),
        name: name.into(),
        school_types_raw: vec![format!("{kind:?}")],
        school_types: vec![kind],
        legal_status: Some("öffentlich".into()),
        traeger_name: None,
        traeger_partner: Some(partner.into()),
        address: Address { street: None, postcode: Some("29386".into()), city: Some(city.into()) },
        contact: Contact::default(),
        pupils: Some(300),
        pupils_as_of: None,
        latitude: None,
        longitude: None,
    })
}

/// Seven schools of two Schulträger; names with umlauts and ß for the search.
fn schools() -> Vec<Record> {
    vec![
        school("66497", "Gymnasium Hankensbüttel", "Hankensbüttel", "hankensbuettel", SchoolType::Gymnasium),
        school("10001", "Grundschule Wittingen", "Wittingen", "gifhorn", SchoolType::Grundschule),
        school("10002", "Oberschule Meinersen", "Meinersen", "gifhorn", SchoolType::Oberschule),
        school("10003", "Grundschule Groß Oesingen", "Groß Oesingen", "hankensbuettel", SchoolType::Grundschule),
        school("10004", "Schule am Schloßpark", "Gifhorn", "gifhorn", SchoolType::Foerderschule),
        school("10005", "Realschule Gifhorn", "Gifhorn", "gifhorn", SchoolType::Realschule),
        school("10006", "Grundschule Überall", "Sassenburg", "gifhorn", SchoolType::Grundschule),
    ]
}

fn council() -> Vec<Record> {
    let partner = "hankensbuettel";
    let organization = EntityKind::Organization.public_id(partner, "gr-1");
    let meeting = EntityKind::Meeting.public_id(partner, "si-1");
    let paper = |key: &str, reference: &str, subject: &str, day: NaiveDate, text: &str| Paper {
        id: EntityKind::Paper.public_id(partner, key),
        origin: Origin::new(key),
        partner: partner.into(),
        reference: Some(reference.into()),
        subject: subject.into(),
        paper_type: Some("Beschlussvorlage".into()),
        date: Some(day),
        public: true,
        lead_department: None,
        sections: PaperSections { sachverhalt: Some(text.into()), ..PaperSections::default() },
        financial_impact_once: Some(Cents(24534100)),
        financial_impact_annual: None,
        web_url: None,
    };
    let papers = [
        paper("vo-1", "SG/256/19", "Medienentwicklungsplanung der Schulen", date(2019, 11, 27), "Der Schulträger …"),
        paper("vo-2", "SG/300/20", "Haushalt 2020", date(2020, 2, 3), "Straßenausbau"),
        paper("vo-3", "SG/301/20", "Feuerwehrhaus", date(2020, 6, 1), "Ein Neubau"),
    ];
    let consultation = |key: &str, paper: &Paper, day: NaiveDate, result: ConsultationResult| Consultation {
        id: EntityKind::Consultation.public_id(partner, key),
        origin: Origin::new(key),
        partner: partner.into(),
        paper_id: paper.id.clone(),
        position: Some(1),
        organization_id: Some(organization.clone()),
        organization_name: Some("Samtgemeinderat".into()),
        meeting_id: Some(meeting.clone()),
        date: Some(day),
        role: Some("Entscheidung".into()),
        authoritative: Some(true),
        result_text: Some("ungeändert beschlossen".into()),
        result,
    };
    let mut records = vec![
        Record::Organization(Organization {
            id: organization.clone(),
            origin: Origin::new("gr-1"),
            partner: partner.into(),
            name: "Samtgemeinderat Hankensbüttel".into(),
            short_name: Some("SGR".into()),
            kind: OrganizationKind::Council,
            start_date: None,
            end_date: None,
            web_url: None,
        }),
        Record::Meeting(Meeting {
            id: meeting.clone(),
            origin: Origin::new("si-1"),
            partner: partner.into(),
            organization_ids: vec![organization.clone()],
            name: "Sitzung des Samtgemeinderates".into(),
            start: Utc.with_ymd_and_hms(2019, 12, 12, 18, 0, 0).single(),
            end: None,
            location: Some("Rathaus".into()),
            state: None,
            cancelled: false,
            web_url: None,
        }),
        Record::AgendaItem(AgendaItem {
            id: EntityKind::AgendaItem.public_id(partner, "to-2"),
            origin: Origin::new("to-2"),
            partner: partner.into(),
            meeting_id: meeting.clone(),
            number: Some("2".into()),
            order: Some(2),
            name: "Medienentwicklungsplanung".into(),
            public: true,
            result: None,
            resolution_text: None,
            paper_id: Some(papers[0].id.clone()),
        }),
        Record::AgendaItem(AgendaItem {
            id: EntityKind::AgendaItem.public_id(partner, "to-1"),
            origin: Origin::new("to-1"),
            partner: partner.into(),
            meeting_id: meeting.clone(),
            number: Some("1".into()),
            order: Some(1),
            name: "Eröffnung".into(),
            public: true,
            result: None,
            resolution_text: None,
            paper_id: None,
        }),
        Record::File(File {
            id: EntityKind::File.public_id(partner, "f-1"),
            origin: Origin::new("f-1"),
            partner: partner.into(),
            owner_kind: FileOwner::Paper,
            owner_id: papers[0].id.clone(),
            name: "Anlage Medienentwicklungsplan.pdf".into(),
            mime_type: Some("application/pdf".into()),
            size: Some(1000),
            date: None,
            access_url: None,
        }),
    ];
    records.push(Record::Consultation(consultation(
        "b-1",
        &papers[0],
        date(2019, 12, 12),
        ConsultationResult::Adopted,
    )));
    records.push(Record::Consultation(consultation("b-2", &papers[1], date(2020, 3, 1), ConsultationResult::Rejected)));
    records.push(Record::Consultation(consultation("b-3", &papers[2], date(2020, 7, 1), ConsultationResult::Adopted)));
    records.extend(papers.into_iter().map(Record::Paper));
    records
}

fn funding() -> Vec<Record> {
    let program = "digitalpakt-schule-ni";
    let budget = |key: &str, partner: &str, school: Option<&str>, euros: i64| {
        Record::FundingBudget(FundingBudget {
            id: EntityKind::FundingBudget.public_id(program, key),
            origin: Origin::new(key),
            program_id: program.into(),
            partner: Some(partner.into()),
            school_id: school.map(str::to_owned),
            amount: Cents::from_euros(euros),
            basis: None,
        })
    };
    let application = |key: &str, partner: &str, schools: &[&str], measure: &str, amounts: [i64; 3], status| {
        Record::FundingApplication(FundingApplication {
            id: EntityKind::FundingApplication.public_id(program, key),
            origin: Origin::new(key),
            program_id: program.into(),
            reference: key.into(),
            partner: Some(partner.into()),
            recipient_name: None,
            school_ids: schools.iter().map(|s| s.to_string()).collect(),
            measure: Some(measure.into()),
            title: Some("WLAN-Ausbau".into()),
            requested: Some(Cents::from_euros(amounts[0])),
            approved: Some(Cents::from_euros(amounts[1])),
            disbursed: Some(Cents::from_euros(amounts[2])),
            status,
            submitted_on: Some(date(2020, 5, 1)),
            approved_on: None,
            period_start: None,
            period_end: None,
            disbursements: vec![],
        })
    };
    vec![
        Record::FundingProgram(FundingProgram {
            id: program.into(),
            origin: Origin::new(program),
            name: "DigitalPakt Schule Niedersachsen".into(),
            legal_basis: Some("Richtlinie vom 08.08.2019".into()),
            period_start: Some(date(2019, 8, 8)),
            period_end: None,
            deadlines: vec![],
            measures: vec!["2.1".into(), "2.2".into()],
            measure_names: Default::default(),
        }),
        budget("b-hk", "hankensbuettel", None, 245_341),
        budget("b-gf", "gifhorn", None, 100_000),
        application(
            "A-1",
            "hankensbuettel",
            &["NI-66497"],
            "2.1",
            [100_000, 90_000, 30_000],
            ApplicationStatus::Approved,
        ),
        application("A-2", "hankensbuettel", &["NI-10003"], "2.2", [20_000, 20_000, 0], ApplicationStatus::Approved),
        application("A-3", "hankensbuettel", &["NI-66497"], "2.2", [5_000, 0, 0], ApplicationStatus::Withdrawn),
        application("A-4", "gifhorn", &["NI-10001", "NI-10002"], "2.1", [50_000, 0, 0], ApplicationStatus::Submitted),
        Record::MediaConcept(MediaConcept {
            id: "mbk-66497".into(),
            origin: Origin::new("mbk-66497"),
            school_id: "NI-66497".into(),
            status: MediaConceptStatus::Approved,
            started_on: None,
            submitted_on: Some(date(2020, 1, 10)),
            approved_on: Some(date(2020, 3, 1)),
            version: Some("1".into()),
        }),
        Record::Equipment(Equipment {
            id: "equip-66497-wlan".into(),
            origin: Origin::new("equip-66497-wlan"),
            school_id: "NI-66497".into(),
            category: "wlan".into(),
            count: 40,
            as_of: None,
        }),
    ]
}

async fn seeded_app(database_url: &str) -> TestApp {
    let config = TestConfig::new(database_url, "");
    let app = spawn_app(config.load()).await;
    write_records(&app.store, "schools", &[EntityKind::School], schools(), true).await;
    write_records(&app.store, "council", ikz_tests::seed::COUNCIL_KINDS, council(), true).await;
    let funding_kinds = [
        EntityKind::FundingProgram,
        EntityKind::FundingBudget,
        EntityKind::FundingApplication,
        EntityKind::MediaConcept,
        EntityKind::Equipment,
    ];
    write_records(&app.store, "funding", &funding_kinds, funding(), true).await;
    app
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().expect("data").iter().filter_map(|row| row["id"].as_str().map(str::to_owned)).collect()
}

async fn problem(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json", "{path}: {status}");
    (status, response.json().await.expect("problem json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_lists_filter_sort_and_search() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;

        let all = app.get_json("/api/v1/schools").await;
        assert_eq!(ids(&all).len(), 7, "{backend}");
        assert_eq!(all["data"][0]["deleted"], false);

        let gifhorn = app.get_json("/api/v1/schools?partner=gifhorn").await;
        assert_eq!(ids(&gifhorn).len(), 5, "{backend}");
        let grundschulen = app.get_json("/api/v1/schools?school_type=grundschule&partner=gifhorn").await;
        assert_eq!(ids(&grundschulen), ["NI-10001", "NI-10006"], "{backend}");

        let by_name = app.get_json("/api/v1/schools?sort=-name&limit=2").await;
        assert_eq!(by_name["data"][0]["name"], "Schule am Schloßpark", "{backend}");
        assert_eq!(by_name["meta"]["sort"], "-name");

        // Case and umlaut spelling do not matter; prefixes match.
        for q in ["hankensbüttel", "HANKENSBUETTEL", "Hankensbuettel", "hankensb"] {
            let found = app.get_json(&format!("/api/v1/schools?q={q}")).await;
            assert_eq!(ids(&found), ["NI-66497"], "{backend}: q={q}");
        }
        for q in ["Schlosspark", "schloßpark", "SCHLOSS"] {
            let found = app.get_json(&format!("/api/v1/schools?q={q}")).await;
            assert_eq!(ids(&found), ["NI-10004"], "{backend}: q={q}");
        }
        let two_words = app.get_json("/api/v1/schools?q=grundschule%20ueberall").await;
        assert_eq!(ids(&two_words), ["NI-10006"], "{backend}");
        let by_city = app.get_json("/api/v1/schools?q=gross%20oesingen").await;
        assert_eq!(ids(&by_city), ["NI-10003"], "{backend}");

        let detail = app.get_json("/api/v1/schools/NI-66497").await;
        assert_eq!(detail["data"]["name"], "Gymnasium Hankensbüttel");
        assert_eq!(detail["data"]["media_concept"]["status"], "approved", "{backend}");
        assert_eq!(detail["data"]["equipment"][0]["count"], 40);
        let applications = detail["data"]["funding"]["applications"].as_array().expect("applications");
        assert_eq!(applications.len(), 2, "{backend}: A-1 and A-3 name the school");
        assert_eq!(app.get("/api/v1/schools/NI-0").await.status(), 404);

        let concepts = app.get_json("/api/v1/media-concepts?partner=hankensbuettel&status=approved").await;
        assert_eq!(ids(&concepts), ["mbk-66497"], "{backend}");
        let none = app.get_json("/api/v1/equipment?partner=gifhorn").await;
        assert!(ids(&none).is_empty(), "{backend}");
        let wlan = app.get_json("/api/v1/equipment?school=NI-66497&category=wlan").await;
        assert_eq!(ids(&wlan).len(), 1, "{backend}");
    }
}

/// Pages of 3 while new schools arrive between the requests, some sorting before the cursor and some after:
/// every school that existed at the start is served exactly once, and so is every later one sorting after the
/// cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_never_repeats_or_skips_while_records_arrive() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        for (index, sort) in ["id", "-id", "name", "-modified_at", "school_number"].into_iter().enumerate() {
            let before: BTreeSet<String> =
                ids(&app.get_json(&format!("/api/v1/schools?limit=1000&sort={sort}")).await).into_iter().collect();
            let mut seen = Vec::new();
            let mut next = Some(format!("/api/v1/schools?limit=3&sort={sort}"));
            let mut round = 0;
            while let Some(path) = next {
                let page = app.get_json(&path).await;
                assert!(ids(&page).len() <= 3);
                seen.extend(ids(&page));
                next = page["links"]["next"].as_str().map(str::to_owned);
                round += 1;
                // Two new schools after each of the first pages: one at the very start of the order, one at the end.
                let early = format!("0{index}{round:02}");
                let late = format!("99{index}{round:02}");
                let new = vec![
                    school(&early, &format!("AAA {round}"), "Gifhorn", "gifhorn", SchoolType::Other),
                    school(&late, &format!("ZZZ {round}"), "Gifhorn", "gifhorn", SchoolType::Other),
                ];
                if round <= 5 {
                    write_records(&app.store, &format!("late-{index}-{round}"), &[EntityKind::School], new, false)
                        .await;
                }
                assert!(round < 50, "{backend} sort={sort}: pagination does not end: {seen:?}");
            }
            let unique: BTreeSet<String> = seen.iter().cloned().collect();
            assert_eq!(unique.len(), seen.len(), "{backend} sort={sort}: a school was served twice: {seen:?}");
            assert!(before.is_subset(&unique), "{backend} sort={sort}: skipped {:?}", before.difference(&unique));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modified_since_lists_tombstones() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        let since = ikz_store::now().and_utc().to_rfc3339();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let gone = Record::Tombstone(Tombstone {
            id: "NI-10005".into(),
            kind: EntityKind::School,
            origin: Origin::new("10005"),
        });
        write_records(&app.store, "schools", &[EntityKind::School], vec![gone], false).await;

        let live = app.get_json("/api/v1/schools?limit=1000").await;
        assert!(!ids(&live).contains(&"NI-10005".to_owned()), "{backend}: tombstones are hidden by default");

        let path = format!("/api/v1/schools?modified_since={}", since.replace('+', "%2B"));
        let changes = app.get_json(&path).await;
        assert_eq!(ids(&changes), ["NI-10005"], "{backend}: {changes}");
        assert_eq!(changes["data"][0]["deleted"], true);
        assert!(changes["data"][0]["deleted_at"].is_string());
        let everything = app.get_json("/api/v1/schools?modified_since=2000-01-01&limit=1000").await;
        assert_eq!(ids(&everything).len(), 7, "{backend}: all rows, the tombstone included");
        let record = app.get_json("/api/v1/schools/NI-10005").await;
        assert_eq!(record["data"]["deleted"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn council_records_filters_and_composites() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;

        let papers = app.get_json("/api/v1/papers?partner=hankensbuettel&sort=-date").await;
        let references: Vec<&str> =
            papers["data"].as_array().expect("data").iter().filter_map(|p| p["reference"].as_str()).collect();
        assert_eq!(references, ["SG/301/20", "SG/300/20", "SG/256/19"], "{backend}");
        assert_eq!(papers["data"][2]["financial_impact_once_eur"], "245341.00");
        let in_2020 = app.get_json("/api/v1/papers?from=2020-01-01&to=2020-03-31").await;
        assert_eq!(in_2020["data"].as_array().map(Vec::len), Some(1), "{backend}");
        for q in ["medienentwicklungsplanung", "Medienentwicklung", "schultraeger", "SCHULTRÄGER", "strassenausbau"] {
            let found = app.get_json(&format!("/api/v1/papers?q={q}")).await;
            assert_eq!(found["data"].as_array().map(Vec::len), Some(1), "{backend}: q={q}");
        }
        let by_reference = app.get_json("/api/v1/papers?q=SG/256/19").await;
        assert_eq!(by_reference["data"][0]["reference"], "SG/256/19", "{backend}");

        let paper_id = papers["data"][2]["id"].as_str().expect("id").to_owned();
        let paper = app.get_json(&format!("/api/v1/papers/{paper_id}")).await;
        assert_eq!(paper["data"]["consultations"][0]["result"], "adopted", "{backend}");
        assert_eq!(paper["data"]["files"][0]["name"], "Anlage Medienentwicklungsplan.pdf");
        assert_eq!(paper["data"]["agenda_items"][0]["number"], "2");

        let adopted = app.get_json("/api/v1/decisions?result=adopted").await;
        assert_eq!(adopted["data"].as_array().map(Vec::len), Some(2), "{backend}");
        let organization = adopted["data"][0]["organization_id"].as_str().expect("org").to_owned();
        let ranged = app
            .get_json(&format!("/api/v1/decisions?result=adopted&organization={organization}&from=2020-01-01"))
            .await;
        assert_eq!(ranged["data"].as_array().map(Vec::len), Some(1), "{backend}");
        assert_eq!(ranged["data"][0]["date"], "2020-07-01");

        let meetings =
            app.get_json(&format!("/api/v1/meetings?organization={organization}&from=2019-12-12&to=2019-12-12")).await;
        assert_eq!(meetings["data"].as_array().map(Vec::len), Some(1), "{backend}");
        let meeting_id = meetings["data"][0]["id"].as_str().expect("id").to_owned();
        let meeting = app.get_json(&format!("/api/v1/meetings/{meeting_id}")).await;
        let agenda: Vec<&str> = meeting["data"]["agenda"]
            .as_array()
            .expect("agenda")
            .iter()
            .filter_map(|item| item["number"].as_str())
            .collect();
        assert_eq!(agenda, ["1", "2"], "{backend}: agenda in order");
        let none = app.get_json("/api/v1/meetings?from=2020-01-01").await;
        assert_eq!(none["data"].as_array().map(Vec::len), Some(0), "{backend}");

        let organizations = app.get_json("/api/v1/organizations?kind=council&q=samtgemeinderat").await;
        assert_eq!(organizations["data"].as_array().map(Vec::len), Some(1), "{backend}");
        let items = app.get_json(&format!("/api/v1/agenda-items?meeting={meeting_id}&sort=position")).await;
        assert_eq!(items["data"][0]["name"], "Eröffnung", "{backend}");
        let files = app.get_json(&format!("/api/v1/files?owner={paper_id}&owner_kind=paper")).await;
        assert_eq!(files["data"].as_array().map(Vec::len), Some(1), "{backend}");
        for path in ["organizations", "agenda-items", "decisions", "files"] {
            let list = app.get_json(&format!("/api/v1/{path}")).await;
            let id = list["data"][0]["id"].as_str().expect("id").to_owned();
            let record = app.get_json(&format!("/api/v1/{path}/{id}")).await;
            assert_eq!(record["data"]["id"], id.as_str(), "{backend}: {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_lists_and_summary() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        let program = "digitalpakt-schule-ni";
        let programs = app.get_json("/api/v1/funding/programs?q=digitalpakt").await;
        assert_eq!(ids(&programs), [program], "{backend}");
        let budgets = app.get_json(&format!("/api/v1/funding/budgets?program={program}&partner=hankensbuettel")).await;
        assert_eq!(budgets["data"][0]["amount_cents"], 24_534_100, "{backend}");
        assert_eq!(budgets["data"][0]["amount_eur"], "245341.00");

        let approved = app.get_json("/api/v1/funding/applications?partner=hankensbuettel&status=approved").await;
        assert_eq!(approved["data"].as_array().map(Vec::len), Some(2), "{backend}");
        let by_school = app.get_json("/api/v1/funding/applications?school=NI-10002").await;
        assert_eq!(by_school["data"][0]["reference"], "A-4", "{backend}");
        let measure = app.get_json("/api/v1/funding/applications?measure=2.2&sort=-reference").await;
        let references: Vec<&str> =
            measure["data"].as_array().expect("data").iter().filter_map(|a| a["reference"].as_str()).collect();
        assert_eq!(references, ["A-3", "A-2"], "{backend}");

        let summary = app.get_json(&format!("/api/v1/funding/summary?program={program}")).await;
        let partners = summary["data"]["partners"].as_array().expect("partners");
        let hk = partners.iter().find(|p| p["partner"] == "hankensbuettel").expect("hankensbuettel");
        assert_eq!(hk["budget_cents"], 24_534_100, "{backend}");
        assert_eq!(hk["requested_cents"], 12_000_000, "withdrawn A-3 does not count");
        assert_eq!(hk["approved_cents"], 11_000_000);
        assert_eq!(hk["disbursed_cents"], 3_000_000);
        assert_eq!(hk["remaining_cents"], 24_534_100 - 11_000_000);
        assert_eq!(hk["remaining_eur"], "135341.00");
        assert_eq!(hk["utilisation_percent"], 44.8);
        let measures: Vec<&str> =
            hk["measures"].as_array().expect("m").iter().filter_map(|m| m["measure"].as_str()).collect();
        assert_eq!(measures, ["2.1", "2.2"]);
        let gymnasium =
            hk["schools"].as_array().expect("s").iter().find(|s| s["school_id"] == "NI-66497").expect("school");
        assert_eq!(gymnasium["approved_cents"], 9_000_000);
        let gf = partners.iter().find(|p| p["partner"] == "gifhorn").expect("gifhorn");
        assert_eq!(gf["schools"][0]["school_id"], Value::Null, "a two-school application is not split");
        assert_eq!(summary["data"]["total"]["budget_cents"], 34_534_100);

        let (status, body) = problem(&app, "/api/v1/funding/summary").await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some("program")));
        assert_eq!(app.get("/api/v1/funding/summary?program=nope").await.status(), 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_and_exports() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        for path in [
            "/api/v1/schools?partner=gifhorn",
            "/api/v1/schools/NI-66497",
            "/api/v1/funding/summary?program=digitalpakt-schule-ni",
        ] {
            let first = app.get(path).await;
            assert_eq!(first.status(), 200);
            let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
            assert!(first.headers()["cache-control"].to_str().expect("cc").contains("max-age"));
            let again = app
                .client
                .get(format!("{}{path}", app.address))
                .header("If-None-Match", &etag)
                .send()
                .await
                .expect("get");
            assert_eq!(again.status(), 304, "{backend}: {path}");
            let other = app
                .client
                .get(format!("{}{path}", app.address))
                .header("If-None-Match", "\"stale\"")
                .send()
                .await
                .expect("get");
            assert_eq!(other.status(), 200);
        }
        // A change makes a new ETag.
        let before = app.get("/api/v1/schools").await.headers()["etag"].clone();
        write_records(
            &app.store,
            "more",
            &[EntityKind::School],
            vec![school("20001", "Neue Schule", "Gifhorn", "gifhorn", SchoolType::Other)],
            false,
        )
        .await;
        assert_ne!(app.get("/api/v1/schools").await.headers()["etag"], before, "{backend}");

        // CSV by suffix and by Accept: BOM, `;`, a header row, German decimal comma for EUR.
        for response in [
            app.get("/api/v1/schools.csv?partner=hankensbuettel").await,
            app.client
                .get(format!("{}/api/v1/schools?partner=hankensbuettel", app.address))
                .header("Accept", "text/csv")
                .send()
                .await
                .expect("get"),
        ] {
            assert_eq!(response.status(), 200);
            assert!(response.headers()["content-type"].to_str().expect("ct").starts_with("text/csv"));
            let bytes = response.bytes().await.expect("body");
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{backend}: BOM");
            let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines[0].starts_with("id;source;source_key;"), "{}", lines[0]);
            assert_eq!(lines.len(), 3, "{backend}: header + 2 schools");
            assert!(text.contains("NI-66497;") && text.contains("Gymnasium Hankensbüttel"));
        }
        let budgets = app.get("/api/v1/funding/budgets.csv?partner=hankensbuettel").await.text().await.expect("text");
        assert!(budgets.contains(";24534100;245341,00;"), "{budgets}");

        // XLSX, read back with calamine.
        let response = app.get("/api/v1/schools.xlsx?sort=name").await;
        assert_eq!(response.status(), 200);
        let bytes = response.bytes().await.expect("body").to_vec();
        use calamine::{Data, Reader};
        let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
        let sheet = workbook.worksheet_range("schools").expect("sheet schools");
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), 9, "{backend}: header + 8 schools");
        let header: Vec<String> = rows[0].iter().map(|cell| cell.to_string()).collect();
        let name = header.iter().position(|h| h == "name").expect("name column");
        let pupils = header.iter().position(|h| h == "pupils").expect("pupils column");
        assert_eq!(rows[1][name].to_string(), "Grundschule Groß Oesingen");
        assert_eq!(rows[1][pupils], Data::Float(300.0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_parameters_are_problem_json() {
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        for (path, status, parameter) in [
            ("/api/v1/schools?limit=0", 400, Some("limit")),
            ("/api/v1/schools?limit=1001", 400, Some("limit")),
            ("/api/v1/schools?limit=-1", 400, Some("limit")),
            ("/api/v1/schools?limit=1e3", 400, Some("limit")),
            ("/api/v1/schools?sort=deleted_at", 400, Some("sort")),
            ("/api/v1/schools?sort=name;DROP%20TABLE%20school", 400, Some("sort")),
            ("/api/v1/schools?cursor=abc", 400, Some("cursor")),
            ("/api/v1/schools?cursor=7b7d", 400, Some("cursor")),
            ("/api/v1/schools?partner=%00", 400, Some("partner")),
            ("/api/v1/schools?partner=%ff%fe", 400, Some("partner")),
            ("/api/v1/schools?school_type=castle", 400, Some("school_type")),
            ("/api/v1/schools?q=", 400, Some("q")),
            ("/api/v1/schools?modified_since=gestern", 400, Some("modified_since")),
            ("/api/v1/schools?partner=a&partner=b", 400, Some("partner")),
            ("/api/v1/schools?parnter=gifhorn", 400, Some("parnter")),
            ("/api/v1/papers?from=2020-13-01", 400, Some("from")),
            ("/api/v1/decisions?result=maybe", 400, Some("result")),
            ("/api/v1/decisions?authoritative=perhaps", 400, Some("authoritative")),
            ("/api/v1/funding/applications?status=rich", 400, Some("status")),
            ("/api/v1/meetings?cancelled=2", 400, Some("cancelled")),
            ("/api/v1/schools/%00", 400, Some("id")),
            ("/api/v1/schools/x'%20OR%20'1'='1", 404, None),
            ("/api/v1/papers/nope", 404, None),
        ] {
            let (got, body) = problem(&app, path).await;
            assert_eq!(got, status, "{backend}: {path}: {body}");
            assert_eq!(body["parameter"].as_str(), parameter, "{backend}: {path}: {body}");
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        // A cursor of another sort order is refused, not misread.
        let page = app.get_json("/api/v1/schools?limit=2&sort=name").await;
        let next = page["links"]["next"].as_str().expect("next").replace("sort=name", "sort=id");
        let (status, body) = problem(&app, &next).await;
        assert_eq!((status, body["parameter"].as_str()), (400, Some("cursor")), "{backend}");
        // Long and odd but harmless input is not an error.
        let long = "a".repeat(190);
        assert_eq!(app.get(&format!("/api/v1/schools?q={long}")).await.status(), 200);
        // A search without a letter or digit finds nothing (not everything, and no 400 for what a user typed).
        for q in ["%27%22%5C%25_", "%25%25%25", "%3F", "-"] {
            for path in ["/api/v1/schools", "/api/v1/schools.csv", "/api/v1/papers"] {
                let response = app.get(&format!("{path}?q={q}")).await;
                assert_eq!(response.status(), 200, "{backend}: {path}?q={q}");
                let body = response.bytes().await.expect("body");
                if path.ends_with(".csv") {
                    assert_eq!(body.iter().filter(|byte| **byte == b'\n').count(), 1, "{backend}: header only");
                } else {
                    let page: Value = serde_json::from_slice(&body).expect("json");
                    assert_eq!(page["data"], serde_json::json!([]), "{backend}: {path}?q={q}");
                }
            }
        }
        assert_eq!(app.get("/api/v1/schools?partner=%27%3B--").await.status(), 200);
    }
}

/// Every entity list of the route table, on the seeded data: keyset pages of one row join up to the whole list;
/// ETag → 304; CSV and XLSX hold the same rows as JSON; a tombstone shows up under `modified_since` with
/// `"deleted": true` and leaves the live list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_pages_caches_exports_and_syncs_deletions() {
    let kinds = [
        ("/api/v1/organizations", EntityKind::Organization),
        ("/api/v1/meetings", EntityKind::Meeting),
        ("/api/v1/agenda-items", EntityKind::AgendaItem),
        ("/api/v1/papers", EntityKind::Paper),
        ("/api/v1/decisions", EntityKind::Consultation),
        ("/api/v1/files", EntityKind::File),
        ("/api/v1/schools", EntityKind::School),
        ("/api/v1/media-concepts", EntityKind::MediaConcept),
        ("/api/v1/equipment", EntityKind::Equipment),
        ("/api/v1/funding/programs", EntityKind::FundingProgram),
        ("/api/v1/funding/budgets", EntityKind::FundingBudget),
        ("/api/v1/funding/applications", EntityKind::FundingApplication),
    ];
    // Every list with a record route is in this table (a new list must be added here).
    let routes = ikz_api::route_table();
    for route in routes.iter().filter(|route| route.path.ends_with("/{id}") && route.path.starts_with("/api/v1/")) {
        let list = route.path.trim_end_matches("/{id}");
        if list.ends_with("/import-runs") || list.ends_with("/connectors") {
            continue;
        }
        assert!(kinds.iter().any(|(path, _)| *path == list), "{list} is not covered");
    }
    for database in databases() {
        let backend = database.backend;
        let app = seeded_app(&database.url).await;
        for (path, kind) in kinds {
            let all = app.get_json(&format!("{path}?limit=1000")).await;
            let every = ids(&all);
            assert!(!every.is_empty(), "{backend}: {path} has seeded rows");

            let mut paged = Vec::new();
            let mut next = Some(format!("{path}?limit=1"));
            while let Some(link) = next {
                let page = app.get_json(&link).await;
                paged.extend(ids(&page));
                next = page["links"]["next"].as_str().map(str::to_owned);
                assert!(paged.len() <= every.len(), "{backend}: {path} pages repeat: {paged:?}");
            }
            assert_eq!(paged, every, "{backend}: {path} pages of one");

            let first = app.get(path).await;
            let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
            let again = app
                .client
                .get(format!("{}{path}", app.address))
                .header("If-None-Match", &etag)
                .send()
                .await
                .expect("get");
            assert_eq!(again.status(), 304, "{backend}: {path}");

            let csv = app.get(&format!("{path}.csv")).await.bytes().await.expect("csv");
            assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{backend}: {path}.csv BOM");
            let text = std::str::from_utf8(&csv[3..]).expect("utf-8");
            assert!(text.starts_with("id;"), "{backend}: {path}.csv header: {text}");
            for id in &every {
                assert!(text.contains(&format!("\n{id};")), "{backend}: {path}.csv lacks {id}");
            }
            let xlsx = app.get(&format!("{path}.xlsx")).await.bytes().await.expect("xlsx").to_vec();
            use calamine::Reader;
            let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).expect("xlsx");
            let sheet = workbook.worksheet_range_at(0).expect("a sheet").expect("readable sheet");
            let cells: Vec<String> = sheet.rows().skip(1).map(|row| row[0].to_string()).collect();
            assert_eq!(cells, every, "{backend}: {path}.xlsx ids");

            // Delete the first record through its source.
            let record = &all["data"][0];
            let id = record["id"].as_str().expect("id").to_owned();
            let source = record["source"].as_str().expect("source").to_owned();
            let key = record["source_key"].as_str().expect("source_key").to_owned();
            let since = ikz_store::now().and_utc().to_rfc3339().replace('+', "%2B");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let gone = Record::Tombstone(Tombstone { id: id.clone(), kind, origin: Origin::new(key) });
            write_records(&app.store, &source, &[kind], vec![gone], false).await;
            let changes = app.get_json(&format!("{path}?modified_since={since}")).await;
            let deleted = changes["data"].as_array().expect("data").iter().find(|row| row["id"] == id.as_str());
            assert_eq!(deleted.map(|row| row["deleted"].clone()), Some(Value::Bool(true)), "{backend}: {path}");
            let live = app.get_json(&format!("{path}?limit=1000")).await;
            assert!(!ids(&live).contains(&id), "{backend}: {path} still lists {id}");
        }
    }
}

//! One small data set over every entity with known values, for the tests that go over every route: filters (each
//! list has rows a filter keeps and rows it drops), exports (text with `;`, quotes, line breaks, umlauts and a
//! leading `=`), caching and the access matrix. Written through real import runs.

use chrono::{NaiveDate, TimeZone, Utc};
use ikz_connectors::model::{
    Address, AgendaItem, ApplicationStatus, Cents, Consultation, ConsultationResult, Contact, Deadline, EntityKind,
    Equipment, File, FileOwner, FundingApplication, FundingBudget, FundingProgram, MediaConcept, MediaConceptStatus,
    Meeting, Organization, OrganizationKind, Origin, Paper, PaperSections, Record, School, SchoolType,
};
use ikz_store::Store;

use crate::{spawn_app, write_records, TestApp, TestConfig};

pub const PROGRAM: &str = "digitalpakt-schule-ni";
pub const OTHER_PROGRAM: &str = "startchancen";
/// A configured connector (kind `records`, an empty file, never run on start): the connector routes need one.
pub const CONNECTOR: &str = "leer";

const HK: &str = "hankensbuettel";
const GF: &str = "gifhorn";

/// A record of every list of the seed, for the `/{id}` routes.
pub const RECORDS: &[(&str, &str)] = &[
    ("/api/v1/organizations", "org-rat"),
    ("/api/v1/meetings", "sitzung-1"),
    ("/api/v1/agenda-items", "top-2"),
    ("/api/v1/papers", "vorlage-1"),
    ("/api/v1/decisions", "beratung-1"),
    ("/api/v1/files", "datei-1"),
    ("/api/v1/schools", "NI-66497"),
    ("/api/v1/media-concepts", "mbk-66497"),
    ("/api/v1/equipment", "equip-66497-wlan"),
    ("/api/v1/funding/programs", PROGRAM),
    ("/api/v1/funding/budgets", "budget-hk"),
    ("/api/v1/funding/applications", "appl-1"),
];

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The entities a council connector (OParl, ALLRIS) provides.
pub const COUNCIL_KINDS: &[EntityKind] = &[
    EntityKind::Organization,
    EntityKind::Meeting,
    EntityKind::AgendaItem,
    EntityKind::Paper,
    EntityKind::Consultation,
    EntityKind::File,
];

fn organization(id: &str, partner: &str, name: &str, short: Option<&str>, kind: OrganizationKind) -> Record {
    Record::Organization(Organization {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        name: name.into(),
        short_name: short.map(str::to_owned),
        kind,
        start_date: date(2016, 11, 1),
        end_date: None,
        web_url: None,
    })
}

fn meeting(id: &str, partner: &str, organizations: &[&str], name: &str, start: Option<(u32, u32, u32)>) -> Meeting {
    let start = start.and_then(|(y, m, d)| Utc.with_ymd_and_hms(y as i32, m, d, 18, 0, 0).single());
    Meeting {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        organization_ids: organizations.iter().map(|id| id.to_string()).collect(),
        name: name.into(),
        start,
        end: None,
        location: None,
        state: None,
        cancelled: false,
        web_url: None,
    }
}

fn agenda_item(id: &str, partner: &str, meeting: &str, order: Option<i32>, name: &str) -> AgendaItem {
    AgendaItem {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        meeting_id: meeting.into(),
        number: order.map(|order| order.to_string()),
        order,
        name: name.into(),
        public: true,
        result: None,
        resolution_text: None,
        paper_id: None,
    }
}

fn paper(id: &str, partner: &str, reference: Option<&str>, subject: &str, kind: &str, day: Option<NaiveDate>) -> Paper {
    Paper {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        reference: reference.map(str::to_owned),
        subject: subject.into(),
        paper_type: Some(kind.into()),
        date: day,
        public: true,
        lead_department: None,
        sections: PaperSections::default(),
        financial_impact_once: None,
        financial_impact_annual: None,
        web_url: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn consultation(
    id: &str,
    partner: &str,
    paper: &str,
    organization: (&str, &str),
    meeting: &str,
    day: Option<NaiveDate>,
    role: Option<&str>,
    authoritative: Option<bool>,
    result: ConsultationResult,
) -> Record {
    Record::Consultation(Consultation {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        paper_id: paper.into(),
        position: Some(1),
        organization_id: Some(organization.0.into()),
        organization_name: Some(organization.1.into()),
        meeting_id: Some(meeting.into()),
        date: day,
        role: role.map(str::to_owned),
        authoritative,
        result_text: Some(result.as_str().replace('_', " ")),
        result,
    })
}

fn file(id: &str, partner: &str, owner: (FileOwner, &str), name: &str) -> Record {
    Record::File(File {
        id: id.into(),
        origin: Origin::new(id),
        partner: partner.into(),
        owner_kind: owner.0,
        owner_id: owner.1.into(),
        name: name.into(),
        mime_type: Some("application/pdf".into()),
        size: Some(1000),
        date: date(2019, 11, 20),
        access_url: Some(format!("https://ratsinfo.example/{id}")),
    })
}

/// Three Gremien, three meetings, four agenda items, three papers with a consultation each, three files; two of
/// Hankensbüttel and one of Gifhorn throughout.
pub fn council() -> Vec<Record> {
    let mut first = meeting("sitzung-1", HK, &["org-rat"], "Sitzung des Samtgemeinderates", Some((2019, 12, 12)));
    first.location = Some("Rathaus; Großer Saal".into());
    first.end = Utc.with_ymd_and_hms(2019, 12, 12, 21, 0, 0).single();
    let mut second =
        meeting("sitzung-2", HK, &["org-schule", "org-rat"], "Sitzung des Schulausschusses", Some((2020, 2, 3)));
    second.cancelled = true;
    let mut third = meeting("sitzung-3", GF, &["org-kreistag"], "Kreistagssitzung", None);
    third.location = Some("Kreishaus".into());

    let mut decided = agenda_item("top-2", HK, "sitzung-1", Some(2), "Medienentwicklungsplanung");
    decided.result = Some("ungeändert beschlossen".into());
    decided.resolution_text = Some("Der Rat beschließt:\r\n1. \"Zustimmung\"; 2. Umsetzung".into());
    decided.paper_id = Some("vorlage-1".into());
    let mut closed = agenda_item("top-3", HK, "sitzung-2", Some(1), "Personalangelegenheiten");
    closed.public = false;
    let mut budget = agenda_item("top-4", GF, "sitzung-3", None, "Haushalt des Landkreises");
    budget.paper_id = Some("vorlage-3".into());

    let mut plan = paper(
        "vorlage-1",
        HK,
        Some("SG/256/19"),
        "Medienentwicklungsplanung der Schulen",
        "Beschlussvorlage",
        date(2019, 11, 27),
    );
    plan.lead_department = Some("Bürgerservice".into());
    plan.sections.sachverhalt = Some("Der Schulträger stellt fest; \"Zitat\"\nzweite Zeile".into());
    plan.financial_impact_once = Some(Cents(24_534_100));
    plan.financial_impact_annual = Some(Cents(1_000_000));

    vec![
        organization("org-rat", HK, "Samtgemeinderat Hankensbüttel", Some("SGR"), OrganizationKind::Council),
        organization("org-schule", HK, "Schulausschuss", Some("=SUMME(A1;A2)"), OrganizationKind::Committee),
        organization("org-kreistag", GF, "Kreistag Gifhorn", None, OrganizationKind::Council),
        Record::Meeting(first),
        Record::Meeting(second),
        Record::Meeting(third),
        Record::AgendaItem(agenda_item("top-1", HK, "sitzung-1", Some(1), "Eröffnung")),
        Record::AgendaItem(decided),
        Record::AgendaItem(closed),
        Record::AgendaItem(budget),
        Record::Paper(plan),
        Record::Paper(paper(
            "vorlage-2",
            HK,
            Some("SG/300/20"),
            "Haushalt 2020",
            "Mitteilungsvorlage",
            date(2020, 2, 3),
        )),
        Record::Paper(paper("vorlage-3", GF, None, "Kreishaushalt", "Beschlussvorlage", None)),
        consultation(
            "beratung-1",
            HK,
            "vorlage-1",
            ("org-rat", "Samtgemeinderat"),
            "sitzung-1",
            date(2019, 12, 12),
            Some("Entscheidung"),
            Some(true),
            ConsultationResult::Adopted,
        ),
        consultation(
            "beratung-2",
            HK,
            "vorlage-2",
            ("org-schule", "Schulausschuss"),
            "sitzung-2",
            date(2020, 2, 3),
            Some("Vorberatung"),
            Some(false),
            ConsultationResult::Rejected,
        ),
        consultation(
            "beratung-3",
            GF,
            "vorlage-3",
            ("org-kreistag", "Kreistag"),
            "sitzung-3",
            None,
            None,
            None,
            ConsultationResult::Pending,
        ),
        file("datei-1", HK, (FileOwner::Paper, "vorlage-1"), "Anlage Medienentwicklungsplan.pdf"),
        file("datei-2", HK, (FileOwner::Meeting, "sitzung-1"), "Einladung.pdf"),
        file("datei-3", GF, (FileOwner::AgendaItem, "top-4"), "Haushaltsplan 2020.xlsx"),
    ]
}

fn school(number: &str, name: &str, city: &str, postcode: &str, partner: &str, kinds: &[SchoolType]) -> School {
    School {
        id: format!("NI-{number}"),
        origin: Origin::new(number),
        state: "NI".into(),
        school_number: number.into(),
        name: name.into(),
        school_types_raw: kinds.iter().map(|kind| format!("{kind:?}")).collect(),
        school_types: kinds.to_vec(),
        legal_status: Some("öffentlich".into()),
        traeger_name: None,
        traeger_partner: Some(partner.into()),
        address: Address { street: None, postcode: Some(postcode.into()), city: Some(city.into()) },
        contact: Contact::default(),
        pupils: Some(300),
        pupils_as_of: None,
        latitude: None,
        longitude: None,
    }
}

/// Seven schools of the two Schulträger.
pub fn schools() -> Vec<Record> {
    use SchoolType::*;
    let mut gymnasium = school("66497", "Gymnasium Hankensbüttel", "Hankensbüttel", "29386", HK, &[Gymnasium]);
    gymnasium.address.street = Some("Lindenstraße 1".into());
    gymnasium.contact.email = Some("sekretariat@gymnasium-hankensbuettel.de".into());
    gymnasium.pupils = Some(812);
    gymnasium.pupils_as_of = date(2020, 8, 1);
    gymnasium.latitude = Some(52.7312);
    gymnasium.longitude = Some(10.6054);
    let special = "Schule am Schloßpark; Außenstelle \"Nord\"";
    vec![
        gymnasium,
        school("10001", "Grundschule Wittingen", "Wittingen", "29378", GF, &[Grundschule]),
        school("10002", "Oberschule Meinersen", "Meinersen", "38536", GF, &[Oberschule, Hauptschule]),
        school("10003", "Grundschule Groß Oesingen", "Groß Oesingen", "29393", HK, &[Grundschule]),
        school("10004", special, "Gifhorn", "38518", GF, &[Foerderschule]),
        school("10005", "Realschule Gifhorn", "Gifhorn", "38518", GF, &[Realschule]),
        school("10006", "Grundschule Überall", "Sassenburg", "38524", GF, &[Grundschule]),
    ]
    .into_iter()
    .map(Record::School)
    .collect()
}

const FUNDING_KINDS: &[EntityKind] = &[
    EntityKind::FundingProgram,
    EntityKind::FundingBudget,
    EntityKind::FundingApplication,
    EntityKind::MediaConcept,
    EntityKind::Equipment,
];

fn program(id: &str, name: &str, legal_basis: Option<&str>) -> FundingProgram {
    FundingProgram {
        id: id.into(),
        origin: Origin::new(id),
        name: name.into(),
        legal_basis: legal_basis.map(str::to_owned),
        period_start: None,
        period_end: None,
        deadlines: vec![],
        measures: vec![],
        measure_names: Default::default(),
    }
}

fn budget(id: &str, program: &str, partner: &str, school: Option<&str>, euros: i64) -> Record {
    Record::FundingBudget(FundingBudget {
        id: id.into(),
        origin: Origin::new(id),
        program_id: program.into(),
        partner: Some(partner.into()),
        school_id: school.map(str::to_owned),
        amount: Cents::from_euros(euros),
        basis: None,
    })
}

struct Application<'a> {
    id: &'a str,
    program: &'a str,
    reference: &'a str,
    partner: &'a str,
    schools: &'a [&'a str],
    measure: &'a str,
    title: &'a str,
    euros: [Option<i64>; 3],
    status: ApplicationStatus,
    submitted_on: Option<NaiveDate>,
}

fn application(a: Application) -> Record {
    Record::FundingApplication(FundingApplication {
        id: a.id.into(),
        origin: Origin::new(a.id),
        program_id: a.program.into(),
        reference: a.reference.into(),
        partner: Some(a.partner.into()),
        recipient_name: None,
        school_ids: a.schools.iter().map(|s| s.to_string()).collect(),
        measure: Some(a.measure.into()),
        title: Some(a.title.into()),
        requested: a.euros[0].map(Cents::from_euros),
        approved: a.euros[1].map(Cents::from_euros),
        disbursed: a.euros[2].map(Cents::from_euros),
        status: a.status,
        submitted_on: a.submitted_on,
        approved_on: None,
        period_start: None,
        period_end: None,
        disbursements: vec![],
    })
}

fn media_concept(school: &str, status: MediaConceptStatus, submitted_on: Option<NaiveDate>) -> Record {
    Record::MediaConcept(MediaConcept {
        id: format!("mbk-{school}"),
        origin: Origin::new(school),
        school_id: format!("NI-{school}"),
        status,
        started_on: date(2019, 9, 1),
        submitted_on,
        approved_on: None,
        version: Some("1".into()),
    })
}

fn equipment(school: &str, category: &str, count: i64) -> Record {
    Record::Equipment(Equipment {
        id: format!("equip-{school}-{category}"),
        origin: Origin::new(format!("{school}-{category}")),
        school_id: format!("NI-{school}"),
        category: category.into(),
        count,
        as_of: date(2021, 1, 1),
    })
}

/// Two programs, three budgets, four applications, three media concepts and three equipment counts.
pub fn funding() -> Vec<Record> {
    let mut digitalpakt = program(PROGRAM, "DigitalPakt Schule Niedersachsen", Some("Richtlinie vom 08.08.2019"));
    digitalpakt.period_start = date(2019, 8, 8);
    digitalpakt.measures = vec!["2.1".into(), "2.2".into()];
    digitalpakt.deadlines = vec![Deadline { name: "Antragsschluss".into(), date: date(2024, 5, 16).expect("date") }];
    let approved = ApplicationStatus::Approved;
    vec![
        Record::FundingProgram(digitalpakt),
        Record::FundingProgram(program(OTHER_PROGRAM, "Startchancen-Programm", None)),
        budget("budget-hk", PROGRAM, HK, None, 245_341),
        budget("budget-gf", PROGRAM, GF, None, 100_000),
        budget("budget-sc", OTHER_PROGRAM, GF, Some("NI-10001"), 30_000),
        application(Application {
            id: "appl-1",
            program: PROGRAM,
            reference: "A-1",
            partner: HK,
            schools: &["NI-66497"],
            measure: "2.1",
            title: "WLAN-Ausbau Gymnasium",
            euros: [Some(100_000), Some(90_000), Some(30_000)],
            status: approved,
            submitted_on: date(2020, 5, 1),
        }),
        application(Application {
            id: "appl-2",
            program: PROGRAM,
            reference: "A-2",
            partner: HK,
            schools: &["NI-10003"],
            measure: "2.2",
            title: "Displays",
            euros: [Some(20_000), Some(20_000), Some(0)],
            status: approved,
            submitted_on: date(2020, 6, 15),
        }),
        application(Application {
            id: "appl-3",
            program: PROGRAM,
            reference: "A-3",
            partner: HK,
            schools: &["NI-66497"],
            measure: "2.2",
            title: "Tablets",
            euros: [Some(5_000), Some(0), Some(0)],
            status: ApplicationStatus::Withdrawn,
            submitted_on: date(2020, 7, 1),
        }),
        application(Application {
            id: "appl-4",
            program: OTHER_PROGRAM,
            reference: "B-1",
            partner: GF,
            schools: &["NI-10001", "NI-10002"],
            measure: "2.1",
            title: "Serverraum",
            euros: [Some(50_000), None, None],
            status: ApplicationStatus::Submitted,
            submitted_on: None,
        }),
        media_concept("66497", MediaConceptStatus::Approved, date(2020, 1, 10)),
        media_concept("10001", MediaConceptStatus::InProgress, None),
        media_concept("10003", MediaConceptStatus::Submitted, date(2021, 5, 5)),
        equipment("66497", "wlan", 40),
        equipment("66497", "tablet", 25),
        equipment("10002", "display", 12),
    ]
}

/// Writes the data set through three import runs (connectors `council`, `schools`, `funding`); returns their ids.
pub async fn seed(store: &Store) -> Vec<i64> {
    let mut runs = Vec::new();
    for (connector, kinds, records) in [
        ("council", COUNCIL_KINDS, council()),
        ("schools", &[EntityKind::School][..], schools()),
        ("funding", FUNDING_KINDS, funding()),
    ] {
        runs.push(write_records(store, connector, kinds, records, true).await.run_id);
    }
    runs
}

/// The seeded app: the test partners, the connector [`CONNECTOR`], `extra` config (e.g. `[auth]`), the data set.
pub struct SeededApp {
    pub app: TestApp,
    pub config: TestConfig,
    /// The import runs that wrote the data set.
    pub runs: Vec<i64>,
}

pub async fn seeded_app(database_url: &str, extra: &str) -> SeededApp {
    let (config, app) = app_with_connector(database_url, extra).await;
    let runs = seed(&app.store).await;
    SeededApp { app, config, runs }
}

/// An app without data: the test partners, the connector [`CONNECTOR`] (no start-up imports) and `extra` config.
pub async fn app_with_connector(database_url: &str, extra: &str) -> (TestConfig, TestApp) {
    let config = TestConfig::new(database_url, &format!("[import]\nrun_on_start = false\n\n{extra}"));
    config.data_file("leer.jsonl", b"");
    config.connector(
        CONNECTOR,
        &format!("id = \"{CONNECTOR}\"\nkind = \"records\"\npartner = \"gifhorn\"\nsource = \"leer.jsonl\"\n"),
    );
    let app = spawn_app(config.load()).await;
    (config, app)
}

/// A path of `route` (method and pattern of [`ikz_api::route_table`]) that names seeded records: `{id}` is a
/// record of the seed, an import run, or the connector; the funding summary gets its program.
pub fn example_path(route: &ikz_api::RouteEntry, run_id: i64) -> String {
    let path = &route.path;
    if path == "/api/v1/funding/summary" {
        return format!("{path}?program={PROGRAM}");
    }
    let Some(list) = path.strip_suffix("/{id}") else {
        return path.replace("{id}", CONNECTOR);
    };
    if list == "/api/v1/import-runs" {
        return format!("{list}/{run_id}");
    }
    let (_, id) = RECORDS
        .iter()
        .find(|(records, _)| *records == list)
        .unwrap_or_else(|| panic!("{path}: add a record of this list to seed::RECORDS"));
    format!("{list}/{id}")
}

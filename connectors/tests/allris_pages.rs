//! `allris::parse_page` on every saved page: the real ALLRIS classic pages of three Hamburg districts, the ALLRIS 4
//! excerpt from Wolfsburg and the seed paper SG/256/19 rendered in classic markup. Each test asserts what a reader
//! sees on the page.

use chrono::{NaiveDate, NaiveTime};
use ikz_connectors::allris::{parse_page, Flavour, PageContent, ParsedPage};
use ikz_connectors::model::{Cents, ConsultationResult, OrganizationKind};

fn page(file: &str) -> ParsedPage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/allris").join(file);
    let bytes = std::fs::read(&path).expect("test page");
    parse_page(&bytes, Some(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

macro_rules! content {
    ($page:expr, $variant:ident) => {
        match $page.content {
            PageContent::$variant(inner) => inner,
            other => panic!("expected {}, got {other:?}", stringify!($variant)),
        }
    };
}

#[test]
fn seed_paper_sg_256_19() {
    let parsed = page("seed_vo020_SG-256-19.html");
    assert_eq!(parsed.flavour, Flavour::Classic);
    let paper = content!(parsed, Paper);
    assert_eq!(paper.volfdnr.as_deref(), Some("1256"));
    assert_eq!(paper.reference.as_deref(), Some("SG/256/19"));
    assert_eq!(
        paper.subject.as_deref(),
        Some("Interkommunale Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung")
    );
    assert_eq!(paper.status.as_deref(), Some("öffentlich"));
    assert!(paper.public);
    assert_eq!(paper.paper_type.as_deref(), Some("Beschlussvorlage"));
    assert_eq!(paper.lead_department.as_deref(), Some("Bürgerservice"));

    let stations: Vec<_> = paper
        .consultations
        .iter()
        .map(|c| (c.committee.as_str(), c.role.as_deref(), c.date, c.meeting_silfdnr.as_deref(), c.result))
        .collect();
    assert_eq!(
        stations,
        [
            (
                "Schul- und Kindertagesstättenausschuss",
                Some("Vorberatung"),
                date(2019, 11, 27),
                Some("311"),
                ConsultationResult::Adopted
            ),
            ("Samtgemeindeausschuss", Some("Vorberatung"), None, None, ConsultationResult::Pending),
            (
                "Rat der Samtgemeinde Hankensbüttel",
                Some("Entscheidung"),
                date(2019, 12, 11),
                Some("313"),
                ConsultationResult::Adopted
            ),
        ]
    );
    assert_eq!(paper.consultations[0].result_text.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(paper.consultations[2].agenda_item_tolfdnr.as_deref(), Some("3131"));

    let sachverhalt = paper.sections.sachverhalt.as_deref().expect("Sachverhalt");
    assert!(sachverhalt.starts_with("Am 08. August 2019 ist die Richtlinie"), "{sachverhalt}");
    assert!(sachverhalt.contains("insgesamt 245.341 € zur Verfügung"), "{sachverhalt}");
    assert!(sachverhalt
        .contains("• Koordination der Lehrerfortbildung unter Beteiligung des Kreismedienzentrums und des NLQ"));
    assert!(!sachverhalt.contains("ALLRIS®") && !sachverhalt.contains("Sachverhalt:"));
    assert_eq!(
        paper.sections.beschlussvorschlag.as_deref(),
        Some("Der interkommunalen Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung wird zugestimmt.")
    );
    assert_eq!(
        paper.sections.finanzielle_auswirkung.as_deref(),
        Some("einmalig ca. 0 € jährlich folgend ca. 10.000 €")
    );
    assert_eq!(paper.financial_impact_once, Some(Cents(0)));
    assert_eq!(paper.financial_impact_annual, Some(Cents::from_euros(10_000)));
    assert_eq!(paper.attachments.len(), 1);
    assert_eq!(paper.attachments[0].key, "DOLFDNR=12561");

    // "zuständig: Patrick Dammann" is on the page and nowhere in what is read.
    let json = serde_json::to_string(&paper).expect("json");
    assert!(!json.contains("Dammann"));
}

#[test]
fn classic_papers_of_three_districts() {
    let nord = content!(page("classic/hamburg_nord/vo020.html"), Paper);
    assert_eq!(nord.volfdnr.as_deref(), Some("1016851"));
    assert_eq!(nord.reference.as_deref(), Some("22-2402"));
    assert_eq!(nord.subject.as_deref(), Some("Bezirkliche Sondermittel Antrag der GRÜNE-Fraktion"));
    assert_eq!(nord.paper_type.as_deref(), Some("Antrag"));
    assert_eq!(nord.lead_department.as_deref(), Some("Interner Service"));
    assert_eq!(nord.consultations.len(), 1);
    let station = &nord.consultations[0];
    assert_eq!(station.committee, "Hauptausschuss");
    assert_eq!(station.date, date(2026, 7, 7));
    assert_eq!(station.meeting_silfdnr.as_deref(), Some("1003441"));
    assert_eq!(station.meeting_name.as_deref(), Some("Sitzung des Hauptausschusses"));
    assert_eq!(station.agenda_item_tolfdnr.as_deref(), Some("1040721"));
    assert_eq!(station.result, ConsultationResult::Pending);
    // The Sachverhalt holds only its heading; the Petitum/Beschluss document is the Beschlussvorschlag.
    assert_eq!(nord.sections.sachverhalt, None);
    let petitum = nord.sections.beschlussvorschlag.as_deref().expect("Petitum");
    assert!(petitum.starts_with(
        "Die GRÜNE Fraktion beantragt, der Hauptausschuss möge folgende Sondermittelanträge beschließen:"
    ));
    assert!(petitum.contains("Olmo e.V."));
    assert_eq!(nord.attachments[0].name, "Drucksache");
    // "Verfasser: Thorsten Schmidt …" is a label that is never read.
    assert!(!serde_json::to_string(&nord.consultations).expect("json").contains("Schmidt"));

    let bergedorf = content!(page("classic/bergedorf/vo020.html"), Paper);
    assert_eq!(bergedorf.reference.as_deref(), Some("22-0916"));
    assert!(bergedorf
        .subject
        .as_deref()
        .is_some_and(|s| s.starts_with("Unterstützungs-, Schutz- und Distanzierungsangebote")));
    assert_eq!(bergedorf.paper_type.as_deref(), Some("Auskunftsersuchen nach § 27 BezVG"));
    assert_eq!(bergedorf.lead_department.as_deref(), Some("Dezernat Steuerung und Service"));
    assert_eq!(bergedorf.consultations.len(), 1);
    assert_eq!(bergedorf.consultations[0].committee, "Bezirksversammlung Bergedorf");
    assert_eq!(
        (bergedorf.consultations[0].date, bergedorf.consultations[0].result),
        (None, ConsultationResult::Pending)
    );
    assert!(bergedorf.sections.sachverhalt.as_deref().is_some_and(|s| s.starts_with("Auskunftsersuchen\nder BAbg.")));

    let altona = content!(page("classic/altona/vo020.html"), Paper);
    assert_eq!(altona.reference.as_deref(), Some("22-2362"));
    assert_eq!(
        altona.subject.as_deref(),
        Some("Umleitung der Metrobuslinie 1 Beschlussempfehlung des Mobilitätsausschusses")
    );
    assert_eq!(altona.paper_type.as_deref(), Some("Beschlussempfehlung öffentlich"));
    assert_eq!(altona.lead_department.as_deref(), Some("Geschäftsstelle der Bezirksversammlung"));
    assert_eq!(altona.consultations[0].date, date(2026, 7, 9));
    assert_eq!(altona.consultations[0].meeting_silfdnr.as_deref(), Some("1004364"));
    assert_eq!(altona.sections.beschlussvorschlag.as_deref(), Some("Der Hauptauschuss wird um Zustimmung gebeten."));
    assert!(altona.sections.sachverhalt.as_deref().is_some_and(|s| s.starts_with("Der Mobilitätsausschuss empfiehlt")));
    let names: Vec<_> = altona.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["Drucksache", "22-M2076.1 Metrobuslinie 1 - Anbindung des Marion Dönhoff Gymnasiums mit regulären Bussen wiederherstellen"]
    );
}

#[test]
fn classic_meetings_with_agendas() {
    let nord = content!(page("classic/hamburg_nord/to010.html"), Meeting);
    assert_eq!(nord.silfdnr.as_deref(), Some("1003201"));
    assert_eq!(
        nord.name.as_deref(),
        Some("Sitzung des Regionalausschusses Langenhorn-Fuhlsbüttel-Ohlsdorf-Alsterdorf-Groß Borstel")
    );
    assert_eq!(
        nord.committee.as_deref(),
        Some("Regionalausschuss Langenhorn-Fuhlsbüttel-Ohlsdorf-Alsterdorf-Groß Borstel")
    );
    assert_eq!(nord.date, date(2025, 11, 3));
    assert_eq!(
        (nord.start_time, nord.end_time),
        (NaiveTime::from_hms_opt(18, 0, 0), NaiveTime::from_hms_opt(19, 16, 0))
    );
    assert_eq!(nord.room.as_deref(), Some("Sitzungssaal Langenhorn"));
    assert_eq!(nord.place.as_deref(), Some("Tangstedter Landstr. 6, 22415 Hamburg"));
    assert_eq!(nord.agenda.len(), 25);
    let first = &nord.agenda[0];
    assert_eq!(
        (first.number.as_deref(), first.name.as_str(), first.tolfdnr.as_str()),
        (Some("Ö 1"), "Bestätigung der Tagesordnung", "1038113")
    );
    // A TOP whose "Drucksache" column links a meeting, not a paper, has no paper.
    let minutes = nord.agenda.iter().find(|item| item.tolfdnr == "1038115").expect("TOP 3");
    assert_eq!(minutes.paper_volfdnr, None);
    let deferred = nord.agenda.iter().find(|item| item.tolfdnr == "1038121").expect("TOP 6.1.1");
    assert_eq!(deferred.number.as_deref(), Some("Ö 6.1.1"));
    assert_eq!(deferred.result.as_deref(), Some("vertagt"));
    assert_eq!(
        (deferred.paper_volfdnr.as_deref(), deferred.paper_reference.as_deref()),
        (Some("1015646"), Some("22-1362"))
    );
    let supplement = nord.agenda.iter().find(|item| item.tolfdnr == "1038412").expect("Nachtrags-TOP 5.1");
    assert_eq!(supplement.number.as_deref(), Some("Ö 5.1"));
    assert_eq!(supplement.result.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(supplement.paper_reference.as_deref(), Some("22-1441.1"));
    assert!(nord.agenda.iter().all(|item| item.public));
    assert!(nord.agenda.iter().enumerate().all(|(index, item)| item.order == index as i32 + 1));
    assert!(nord.attachments.iter().any(|a| a.name == "Niederschrift öffent. Teil" && a.key == "DOLFDNR=1384253"));

    let bergedorf = content!(page("classic/bergedorf/to010.html"), Meeting);
    assert_eq!(bergedorf.name.as_deref(), Some("Sitzung des Fachausschusses für Sport und Bildung"));
    assert_eq!((bergedorf.date, bergedorf.end_time), (date(2025, 11, 3), NaiveTime::from_hms_opt(19, 42, 0)));
    assert_eq!(bergedorf.room.as_deref(), Some("Großer Sitzungssaal, 1.Stock"));
    assert_eq!(bergedorf.agenda.len(), 7);
    let top4 = &bergedorf.agenda[3];
    assert_eq!(
        (top4.paper_reference.as_deref(), top4.result.as_deref()),
        (Some("22-0285.03"), Some("zur Kenntnis genommen"))
    );

    let altona = content!(page("classic/altona/to010.html"), Meeting);
    assert_eq!(altona.committee.as_deref(), Some("Mobilitätsausschuss"));
    assert_eq!(altona.room.as_deref(), Some("Sitzungsraum des Technischen Rathauses (EG)"));
    assert_eq!(altona.agenda.len(), 20);
    assert_eq!(altona.agenda[2].name, "Unerlaubter Verkehr Klövensteen Eingabe vom 05.10.2025");
    assert_eq!(altona.agenda[2].number.as_deref(), Some("Ö 2.1"));
}

#[test]
fn classic_agenda_items() {
    let nord = content!(page("classic/hamburg_nord/to020.html"), AgendaItem);
    assert_eq!(nord.tolfdnr.as_deref(), Some("1036324"));
    assert_eq!(
        (nord.meeting_silfdnr.as_deref(), nord.meeting_name.as_deref()),
        (Some("1003234"), Some("Sitzung des Haushaltsausschusses"))
    );
    assert_eq!(nord.number.as_deref(), Some("Ö 2"));
    assert_eq!(nord.committee.as_deref(), Some("Haushaltsausschuss"));
    assert_eq!(nord.result, None, "Beschlussart (offen)");
    assert_eq!(nord.date, date(2025, 3, 5));
    assert!(
        nord.minutes.as_deref().is_some_and(|m| m.starts_with("Die Niederschrift vom 05.02.2025")),
        "{:?}",
        nord.minutes
    );

    let bergedorf = content!(page("classic/bergedorf/to020.html"), AgendaItem);
    assert_eq!(bergedorf.number.as_deref(), Some("Ö 3"));
    assert_eq!(bergedorf.committee.as_deref(), Some("Fachausschuss für Sport und Bildung"));
    assert_eq!(bergedorf.date, date(2025, 3, 3));

    let altona = content!(page("classic/altona/to020.html"), AgendaItem);
    assert_eq!(altona.tolfdnr.as_deref(), Some("1049839"));
    assert_eq!(altona.number.as_deref(), Some("Ö 2.1"));
    assert_eq!(altona.result.as_deref(), Some("zur Kenntnis genommen"));
    assert_eq!(altona.paper_volfdnr.as_deref(), Some("1016196"));
    assert_eq!(
        altona.paper_title.as_deref(),
        Some("22-0621 Geparkte Kfz auf dem Marktplatz Blankenese Eingabe vom 19.01.2025")
    );
    assert_eq!(altona.vote.as_deref(), Some("Der Ausschuss nimmt die Drucksache zur Kenntnis."));
}

#[test]
fn classic_committees_and_factions() {
    let cases = [
        (
            "classic/hamburg_nord/au020.html",
            "Regionalausschuss Langenhorn-Fuhlsbüttel-Ohlsdorf-Alsterdorf-Groß Borstel",
            OrganizationKind::Committee,
            "1000005",
        ),
        ("classic/bergedorf/au020.html", "Fachausschuss für Sport und Bildung", OrganizationKind::Committee, "1000013"),
        ("classic/altona/au020.html", "Mobilitätsausschuss", OrganizationKind::Committee, "235"),
        ("classic/hamburg_nord/fr020.html", "Fraktion Bündnis 90/DIE GRÜNEN", OrganizationKind::Faction, "1120"),
        ("classic/bergedorf/fr020.html", "CDU-Fraktion - Bergedorf", OrganizationKind::Faction, "1110"),
        ("classic/altona/fr020.html", "Fraktion GRÜNE", OrganizationKind::Faction, "1121"),
    ];
    for (file, name, kind, number) in cases {
        let organization = content!(page(file), Organization);
        assert_eq!(
            (organization.name.as_str(), organization.kind, organization.number.as_deref()),
            (name, kind, Some(number)),
            "{file}"
        );
        // The contact person ("Ansprechperson: Frau Bröker") is not read.
        assert!(!serde_json::to_string(&organization).expect("json").contains("Bröker"));
    }
}

#[test]
fn allris4_paper_excerpt() {
    let parsed = page("allris4/wolfsburg_vo020_excerpt.html");
    assert_eq!(parsed.flavour, Flavour::Allris4);
    let paper = content!(parsed, Paper);
    // The excerpt starts after the Betreff: what is not on the page is not invented.
    assert_eq!((paper.subject, paper.status, paper.lead_department), (None, None, None));
    assert_eq!(paper.consultations.len(), 1);
    let station = &paper.consultations[0];
    assert_eq!(station.committee, "Planungs- und Bauausschuss");
    assert_eq!(station.role.as_deref(), Some("Kenntnisnahme"));
    assert_eq!(station.date, date(2026, 1, 29));
    assert_eq!(station.meeting_silfdnr.as_deref(), Some("1002876"));
    assert_eq!(station.meeting_name.as_deref(), Some("31. Sitzung des Planungs- und Bauausschusses"));
    assert_eq!(station.agenda_item_tolfdnr.as_deref(), Some("1089482"));
    assert_eq!(
        (station.result_text.as_deref(), station.result),
        (Some("zur Kenntnis genommen"), ConsultationResult::Noted)
    );
    assert!(paper.sections.begruendung.as_deref().is_some_and(|text| text
        .starts_with("Trinkwasserbrunnen im Stadtgebiet werden hinsichtlich der Wasserqualität regelmäßig überprüft")));
    let documents: Vec<_> = paper.attachments.iter().map(|a| (a.name.as_str(), a.key.as_str())).collect();
    assert_eq!(documents, [("Vorlage", "DOC=doc3513223.pdf"), ("Sammeldokument", "DOC=doc3513220.pdf")]);
}

#[test]
fn allris4_paper_front_half_fields_by_label() {
    // The front half of an ALLRIS 4 paper page (Grunddaten), in the markup of the Wolfsburg page.
    let html = r#"<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><main id="pageContent">
        <div class="header"><h1 class="title">Schriftliche Kenntnisgabe - K 2026/0725</h1></div>
        <div id="headLeft"><div class="row"><dl><dt class="colTitle"><span class="label"><a aria-describedby="vobetreff">Betreff:</a></span></dt>
        <dd class="colEntry3"><span class="text1" id="vobetreff"><p>Einrichtung von Trinkwasserbrunnen im Innenstadtbereich</p></span></dd></dl></div>
        <div class="row"><dl><dt class="colTitle"><span class="label"><a aria-describedby="vostatus">Status:</a></span></dt>
        <dd class="colEntry3"><span class="text4" id="vostatus">öffentlich</span></dd></dl></div>
        <div class="row"><dl><dt class="colTitle"><span class="label"><a aria-describedby="voart">Vorlageart:</a></span></dt>
        <dd class="colEntry3"><span class="text4" id="voart">Schriftliche Kenntnisgabe</span></dd></dl></div>
        <div class="row"><dl><dt class="colTitle"><span class="label"><a aria-describedby="vofamt">Federführende Organisationseinheit:</a></span></dt>
        <dd class="colEntry3"><span class="text4" id="vofamt">Geschäftsbereich Straßenbau und Projektkoordination</span></dd></dl></div>
        <div class="row"><dl><dt class="colTitle"><span class="label"><a aria-describedby="voverfasser1">Verfasser:</a></span></dt>
        <dd class="colEntry3"><span class="text4" id="voverfasser1">Frau Beispiel</span></dd></dl></div></div>
        <div id="bfTable"><table class="bfTable"><thead><tr><th>Status</th><th>Datum</th><th>Gremium</th><th>Beschluss</th></tr></thead><tbody></tbody></table></div>
        </main></body></html>"#;
    let page = parse_page(html.as_bytes(), Some("https://ratsinfo.example/vo020?VOLFDNR=1010527")).expect("parses");
    let paper = content!(page, Paper);
    assert_eq!(paper.volfdnr.as_deref(), Some("1010527"));
    assert_eq!(paper.reference.as_deref(), Some("K 2026/0725"));
    assert_eq!(paper.subject.as_deref(), Some("Einrichtung von Trinkwasserbrunnen im Innenstadtbereich"));
    assert_eq!(paper.status.as_deref(), Some("öffentlich"));
    assert_eq!(paper.paper_type.as_deref(), Some("Schriftliche Kenntnisgabe"));
    assert_eq!(paper.lead_department.as_deref(), Some("Geschäftsbereich Straßenbau und Projektkoordination"));
    assert!(!serde_json::to_string(&paper).expect("json").contains("Beispiel"));
}

#[test]
fn login_page_means_not_public_and_unknown_pages_are_errors() {
    let noauth =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/allris/to010/312.html"))
            .expect("noauth page");
    assert_eq!(parse_page(&noauth, Some("https://x/bi/noauth.asp")).expect("parses").content, PageContent::NotPublic);
    assert_eq!(parse_page(&noauth, None).expect("parses").content, PageContent::NotPublic);
    let error = parse_page(b"<html><body><p>Hallo</p></body></html>", None).expect_err("not ALLRIS");
    assert!(error.message.contains("not an ALLRIS page"), "{error}");
    // A paper page without its Betreff does not fit: the error names the label.
    let broken = b"<html><body><div id=\"allriscontainer\" class=\"vo020\"><div id=\"rismain\"><table><tr><td class=\"kb1\">Status:</td><td>\xf6ffentlich</td></tr></table></div></div></body></html>";
    let error = parse_page(broken, None).expect_err("no Betreff");
    assert_eq!(error.field.as_deref(), Some("Betreff"));
}

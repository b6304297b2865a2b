//! `allris::parse_page` on ALLRIS classic's XML export (`selfaction=ws&template=xyz`): the demo site's exports in
//! config/demo/allris (hand-made in the export's shape, windows-1252 under an ISO-8859-1 declaration, with HTML
//! entities and pasted HTML) and sloppy documents written here. Each test asserts what the export says.

use chrono::{NaiveDate, NaiveTime};
use ikz_connectors::allris::{parse_page, Flavour, PageContent, ParsedPage};

fn export(file: &str) -> ParsedPage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/allris").join(file);
    let bytes = std::fs::read(&path).expect("demo export");
    parse_page(&bytes, Some(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn time(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
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
fn calendar_export_lists_meetings_with_their_dates_and_times() {
    let parsed = export("si010/2019-12.xml");
    assert_eq!(parsed.flavour, Flavour::Classic);
    let calendar = content!(parsed, Calendar);
    assert_eq!(calendar.meetings, ["312", "313"]);
    let council = &calendar.listed[1];
    assert_eq!(council.name.as_deref(), Some("Sitzung des Rates der Samtgemeinde Hankensbüttel"));
    assert_eq!(council.committee.as_deref(), Some("Rat der Samtgemeinde Hankensbüttel"));
    // 20191211T180000Z is 19:00 in Hankensbüttel (UTC+1 in winter).
    assert_eq!((council.date, council.start_time, council.end_time), (date(2019, 12, 11), time(19, 0), time(21, 15)));
    assert_eq!(calendar.listed[0].committee.as_deref(), Some("Samtgemeindeausschuss"));

    let november = content!(export("si010/2019-11.xml"), Calendar);
    assert_eq!(november.meetings, ["311"]);
    assert_eq!(
        november.listed[0].name.as_deref(),
        Some("Sitzung des Schul- und Kindertagesstättenausschusses der Samtgemeinde Hankensbüttel")
    );
    assert_eq!(november.listed[0].start_time, time(18, 0));
}

#[test]
fn meeting_export_without_a_date_and_with_entities() {
    let meeting = content!(export("to010/311.xml"), Meeting);
    assert_eq!(meeting.silfdnr.as_deref(), Some("311"));
    assert_eq!(meeting.committee.as_deref(), Some("Schul- und Kindertagesstättenausschuss"));
    // This export has no date: the crawl takes it from the calendar.
    assert_eq!(meeting.date, None);
    assert_eq!(meeting.room.as_deref(), Some("Sitzungssaal des Rathauses"));
    assert_eq!(meeting.place.as_deref(), Some("Meinersener Straße 2, 29386 Hankensbüttel"));
    let rows: Vec<_> = meeting
        .agenda
        .iter()
        .map(|row| {
            (
                row.tolfdnr.as_str(),
                row.number.as_deref(),
                row.order,
                row.public,
                row.paper_volfdnr.as_deref(),
                row.paper_reference.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("3110", Some("Ö 1"), 1, true, None, None),
            ("3111", Some("Ö 2"), 2, true, Some("1256"), Some("SG/256/19")),
            ("3112", Some("Ö 3"), 3, true, Some("1249"), Some("SG/249/19")),
            ("3113", Some("N 4"), 4, false, None, None),
        ]
    );
    assert_eq!(
        meeting.agenda[0].name,
        "Eröffnung der Sitzung, Feststellung der ordnungsgemäßen Ladung und der Beschlussfähigkeit"
    );
    assert_eq!(meeting.agenda[3].name, "Personalangelegenheiten");
}

#[test]
fn meeting_export_in_capitals_with_its_date() {
    let meeting = content!(export("to010/313.xml"), Meeting);
    assert_eq!(meeting.name.as_deref(), Some("Sitzung des Rates der Samtgemeinde Hankensbüttel"));
    assert_eq!((meeting.date, meeting.start_time, meeting.end_time), (date(2019, 12, 11), time(19, 0), time(21, 15)));
    let numbers: Vec<_> = meeting.agenda.iter().map(|row| row.number.as_deref()).collect();
    assert_eq!(numbers, [Some("Ö 1"), Some("Ö 5"), Some("Ö 6")]);
    assert_eq!(
        meeting.agenda[2].name,
        "Beteiligung an der Koordinierungsstelle Digitalisierung des Landkreises Gifhorn"
    );
    assert_eq!(meeting.agenda[2].paper_volfdnr.as_deref(), Some("1262"));
}

#[test]
fn agenda_item_export_with_pasted_html_documents() {
    let item = content!(export("to020/3131.xml"), AgendaItem);
    assert_eq!(item.tolfdnr.as_deref(), Some("3131"));
    assert_eq!(item.meeting_silfdnr.as_deref(), Some("313"));
    assert_eq!(item.number.as_deref(), Some("Ö 5"));
    assert_eq!(item.committee.as_deref(), Some("Rat der Samtgemeinde Hankensbüttel"));
    assert_eq!(item.result.as_deref(), Some("ungeändert beschlossen"));
    assert_eq!(item.date, date(2019, 12, 11));
    assert_eq!(item.paper_volfdnr.as_deref(), Some("1256"));
    // The banner line and the heading are not part of the text; &nbsp; is a space.
    assert_eq!(
        item.resolution.as_deref(),
        Some("Der interkommunalen Zusammenarbeit im Bereich Digitalisierung und Medienentwicklungsplanung wird zugestimmt.")
    );
    assert_eq!(item.vote.as_deref(), Some("einstimmig"));
    assert_eq!(item.minutes, None, "the Wortprotokoll holds only its heading");

    let opening = content!(export("to020/3110.xml"), AgendaItem);
    assert_eq!((opening.result, opening.paper_volfdnr, opening.resolution), (None, None, None));
    let amended = content!(export("to020/3132.xml"), AgendaItem);
    assert_eq!(amended.result.as_deref(), Some("geändert beschlossen"));
    assert!(amended.resolution.as_deref().is_some_and(|text| text.contains("mit der Maßgabe zugestimmt")));
}

#[test]
fn the_login_page_answering_an_export_request_means_not_public() {
    assert_eq!(export("to020/3113.xml").content, PageContent::NotPublic);
    assert_eq!(export("to010/312.xml").content, PageContent::NotPublic);
}

#[test]
fn sloppy_exports_are_read_and_broken_ones_rejected_with_their_line() {
    // Declared UTF-8 but windows-1252 bytes (0x96 en dash, 0xFC ü), undeclared entities, a bare ampersand, an
    // unclosed <br> and a mismatched end tag; no location, so the kind comes from the fields.
    let sloppy = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<to010><head><sitext>Bau- & Umweltausschuss \x96 \
        Sitzung</sitext><sidat>04.03.2020</sidat><raname>Saal&nbsp;1<br>Rathaus</raname></head>\n<list>\
        <item><tolfdnr>77</tolfdnr><topnr>N 2.1</topnr><totext1>Gr\xfcnfl&auml;chen</i></totext1><volfdnr>0</volfdnr>\
        </item></list></to010>";
    let meeting = content!(parse_page(sloppy, None).expect("a sloppy export is read"), Meeting);
    assert_eq!(meeting.name.as_deref(), Some("Bau- & Umweltausschuss \u{2013} Sitzung"));
    assert_eq!(meeting.date, date(2020, 3, 4));
    assert_eq!(meeting.room.as_deref(), Some("Saal 1 Rathaus"));
    let row = &meeting.agenda[0];
    assert_eq!((row.tolfdnr.as_str(), row.number.as_deref(), row.public), ("77", Some("N 2.1"), false));
    assert_eq!(row.name, "Grünflächen");
    assert_eq!(row.paper_volfdnr, None);

    let broken = b"<?xml version=\"1.0\"?>\n<to010>\n<head><sitext a=\"1>Rat</sitext></head></to010>";
    let error = parse_page(broken, Some("to010.asp?selfaction=ws&template=xyz&SILFDNR=5")).expect_err("broken");
    assert!(error.message.contains("line 3"), "{error:?}");
}

//! ALLRIS net 4 pages (Wicket, UTF-8): fields in `dl` rows (`dt` label, `dd` value with ids such as `#vobetreff`,
//! `#vofamt`), the Beratungsfolge in `#bfTable` (two rows per station, as in classic), text sections in `.docPart`
//! documents under `h2` headings, documents in `#dokumenteHeaderPanel`.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};

use super::classic::{cells_under, header_columns, positioned_cells, station_rows};
use super::html::{absolute, field_text, inline_text, link_to, linked_id, non_empty, sel};
use super::page::{
    id_hint, kind_hint, parse_page_date, parse_times, AgendaItemPage, AgendaRow, Attachment, MeetingPage, PageContent,
    PageError, PaperPage,
};
use super::text::{allris4_sections, financial_impact, paper_sections, Section};

pub(crate) fn parse(document: &Html, location: Option<&str>, url: Option<&str>) -> Result<PageContent, PageError> {
    static PAPER: LazyLock<Selector> = LazyLock::new(|| sel("#vobetreff, #bfTable, #vofamt, #voart"));
    let root = document.root_element();
    let kind = match kind_hint(location) {
        Some(kind) => kind,
        None if document.select(&PAPER).next().is_some() => "vo020",
        None if agenda_table(root).is_some() => "to010",
        None => "",
    };
    match kind {
        "vo020" => Ok(PageContent::Paper(paper(document, location, url))),
        "to010" => meeting(document, location).map(PageContent::Meeting),
        "to020" => Ok(PageContent::AgendaItem(agenda_item(document, location))),
        _ => Err(PageError::unknown("not an ALLRIS 4 page this connector reads (vo020, to010, to020)")),
    }
}

/// The `h1.title`: "Schriftliche Kenntnisgabe - K 2026/0725" → ("Schriftliche Kenntnisgabe", "K 2026/0725").
fn title(document: &Html) -> Option<(String, Option<String>)> {
    static TITLE: LazyLock<Selector> = LazyLock::new(|| sel("h1.title, h1"));
    let text = document.select(&TITLE).next().map(inline_text).and_then(non_empty)?;
    Some(match text.split_once(" - ") {
        Some((kind, rest)) => (kind.trim().to_owned(), non_empty(rest.trim().to_owned())),
        None => (text, None),
    })
}

/// A field by its `dt` label, else by the id ALLRIS 4 gives its value.
fn labelled(document: &Html, labels: &[&str], id: &str) -> Option<String> {
    field_text(document.root_element(), labels).or_else(|| {
        let selector = Selector::parse(&format!("#{id}")).ok()?;
        document.select(&selector).next().map(inline_text).and_then(non_empty)
    })
}

fn paper(document: &Html, location: Option<&str>, url: Option<&str>) -> PaperPage {
    static BF: LazyLock<Selector> = LazyLock::new(|| sel("#bfTable table, table.bfTable"));
    static ANCHORS: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
    let root = document.root_element();
    let (heading_type, reference) =
        title(document).map(|(kind, reference)| (Some(kind), reference)).unwrap_or((None, None));
    let status = labelled(document, &["Status"], "vostatus");
    let sections = allris4_sections(document);
    let sections = paper_sections(&sections);
    let (financial_impact_once, financial_impact_annual) =
        sections.finanzielle_auswirkung.as_deref().map(financial_impact).unwrap_or((None, None));
    // The page's own links ("Neu laden", print) carry its VOLFDNR.
    let volfdnr = id_hint(location, "VOLFDNR").or_else(|| {
        document.select(&ANCHORS).find_map(|link| {
            let href = link.attr("href")?;
            href.contains("vo020").then(|| super::html::query_param(href, "VOLFDNR")).flatten()
        })
    });
    PaperPage {
        volfdnr,
        reference,
        subject: labelled(document, &["Betreff"], "vobetreff"),
        public: status.as_deref().is_none_or(super::classic::is_public),
        status,
        paper_type: labelled(document, &["Vorlageart", "Vorlage-Art", "Drucksache-Art"], "voart").or(heading_type),
        date: labelled(document, &["Datum", "Erstellt am"], "vodatum").as_deref().and_then(parse_page_date),
        lead_department: labelled(
            document,
            &["Federführende Organisationseinheit", "Federführend", "Federführendes Amt"],
            "vofamt",
        ),
        related_volfdnr: super::html::field(root, &["Bezüglich"]).and_then(|cell| linked_id(cell, "vo020", "VOLFDNR")),
        consultations: document.select(&BF).next().map(station_rows_4).unwrap_or_default(),
        sections,
        financial_impact_once,
        financial_impact_annual,
        attachments: documents(document, url),
    }
}

/// `#bfTable`: a station row (status, Gremium, role under "Beschluss") then a row with date, meeting link and
/// result link. Classic's rule applies: a row with a date or a meeting link belongs to the station above it.
fn station_rows_4(table: ElementRef<'_>) -> Vec<super::page::ConsultationRow> {
    static ROWS: LazyLock<Selector> = LazyLock::new(|| sel("tbody tr"));
    let columns = header_columns(table);
    let mut stations: Vec<super::page::ConsultationRow> = Vec::new();
    for row in table.select(&ROWS) {
        let cells = positioned_cells(row);
        let text_under = |labels: &[&str]| {
            cells_under(&cells, &columns, labels).into_iter().map(inline_text).find(|t| !t.is_empty())
        };
        let date = text_under(&["Datum"]).as_deref().and_then(parse_page_date);
        let meeting = link_to(row, "to010", "SILFDNR");
        if date.is_some() || meeting.is_some() {
            let Some(station) = stations.last_mut() else { continue };
            station.date = date;
            station.meeting_name = meeting.as_ref().map(|(_, link)| inline_text(*link)).and_then(non_empty);
            station.meeting_silfdnr = meeting.map(|(id, _)| id);
            station.agenda_item_tolfdnr = linked_id(row, "to020", "TOLFDNR");
            station.result_text = text_under(&["Beschluss", "Ergebnis"]);
            station.result = crate::model::ConsultationResult::from_text(station.result_text.as_deref());
            continue;
        }
        let Some(committee) = text_under(&["Gremium"]) else { continue };
        stations.push(super::page::ConsultationRow {
            committee,
            role: text_under(&["Beschluss", "Rolle"]),
            date: None,
            meeting_silfdnr: None,
            meeting_name: None,
            agenda_item_tolfdnr: None,
            result_text: None,
            result: crate::model::ConsultationResult::Pending,
        });
    }
    if stations.is_empty() {
        // A table without the expected headers: fall back to classic's cell classes.
        return station_rows(table);
    }
    stations
}

/// Documents of the header panel; anchors to sections on the page are not files.
fn documents(document: &Html, url: Option<&str>) -> Vec<Attachment> {
    static LINKS: LazyLock<Selector> = LazyLock::new(|| sel("#dokumenteHeaderPanel a[href], .documents a[href]"));
    document
        .select(&LINKS)
        .filter_map(|link| {
            let href = link.attr("href")?;
            if href.starts_with('#') {
                return None;
            }
            let name = non_empty(inline_text(link))?;
            // The resource file name (doc3513223.pdf) is stable; the name is what a reader sees.
            let file = href.rsplit('/').next().unwrap_or(href).split('?').next().unwrap_or(href).to_owned();
            Some(Attachment { key: format!("DOC={file}"), name, url: absolute(url, href) })
        })
        .collect()
}

/// The agenda table: a table with a "TOP" header.
fn agenda_table(scope: ElementRef<'_>) -> Option<ElementRef<'_>> {
    static TABLES: LazyLock<Selector> = LazyLock::new(|| sel("table"));
    scope
        .select(&TABLES)
        .find(|table| header_columns(*table).iter().any(|(label, _)| label.eq_ignore_ascii_case("TOP")))
}

fn meeting(document: &Html, location: Option<&str>) -> Result<MeetingPage, PageError> {
    static ROWS: LazyLock<Selector> = LazyLock::new(|| sel("tbody tr, tr"));
    let root = document.root_element();
    let date_text =
        labelled(document, &["Datum", "Sitzungsdatum"], "sidatum").ok_or_else(|| PageError::missing("Datum"))?;
    let (start_time, end_time) =
        labelled(document, &["Zeit", "Uhrzeit"], "sizeit").map(|text| parse_times(&text)).unwrap_or((None, None));
    let mut agenda = Vec::new();
    if let Some(table) = agenda_table(root) {
        let columns = header_columns(table);
        for row in table.select(&ROWS) {
            let cells = positioned_cells(row);
            let Some(tolfdnr) = linked_id(row, "to020", "TOLFDNR") else { continue };
            let number = cells_under(&cells, &columns, &["TOP"]).into_iter().map(inline_text).find(|t| !t.is_empty());
            let name = cells_under(&cells, &columns, &["Betreff"]).into_iter().map(inline_text).find(|t| !t.is_empty());
            let paper = link_to(row, "vo020", "VOLFDNR");
            agenda.push(AgendaRow {
                tolfdnr,
                public: !number.as_deref().is_some_and(|number| number.starts_with('N')),
                number,
                order: agenda.len() as i32 + 1,
                name: name.unwrap_or_default(),
                result: None,
                paper_reference: paper.as_ref().map(|(_, link)| inline_text(*link)).and_then(non_empty),
                paper_volfdnr: paper.map(|(id, _)| id),
            });
        }
    }
    Ok(MeetingPage {
        silfdnr: id_hint(location, "SILFDNR"),
        name: title(document).map(|(kind, rest)| rest.unwrap_or(kind)),
        committee: labelled(document, &["Gremium"], "sigrname"),
        date: parse_page_date(&date_text),
        start_time,
        end_time,
        status: labelled(document, &["Status"], "sistatus"),
        room: labelled(document, &["Raum"], "siraum"),
        place: labelled(document, &["Ort"], "siort"),
        agenda,
        attachments: documents(document, None),
    })
}

fn agenda_item(document: &Html, location: Option<&str>) -> AgendaItemPage {
    let root = document.root_element();
    let sections = allris4_sections(document);
    let section = |wanted: Section| {
        non_empty(
            sections
                .iter()
                .filter(|(section, _)| *section == wanted)
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let meeting = link_to(root, "to010", "SILFDNR");
    let paper = link_to(root, "vo020", "VOLFDNR");
    AgendaItemPage {
        tolfdnr: id_hint(location, "TOLFDNR"),
        meeting_name: meeting.as_ref().map(|(_, link)| inline_text(*link)).and_then(non_empty),
        meeting_silfdnr: meeting.map(|(id, _)| id),
        number: labelled(document, &["TOP"], "tonr"),
        committee: labelled(document, &["Gremium"], "sigrname"),
        result: labelled(document, &["Beschlussart", "Ergebnis"], "tobeschlussart"),
        date: labelled(document, &["Datum"], "sidatum").as_deref().and_then(parse_page_date),
        paper_title: paper.as_ref().map(|(_, link)| inline_text(*link)).and_then(non_empty),
        paper_volfdnr: paper.map(|(id, _)| id),
        resolution: section(Section::Beschluss),
        minutes: section(Section::Protokoll),
        vote: section(Section::Abstimmung),
    }
}

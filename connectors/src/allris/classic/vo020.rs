//! vo020.asp: a paper (Vorlage / Drucksache) with its Beratungsfolge and text sections.

use std::sync::LazyLock;

use scraper::{ElementRef, Selector};

use super::Page;
use crate::allris::html::{field, field_text, inline_text, linked_id, non_empty, query_param, sel};
use crate::allris::page::{parse_page_date, ConsultationRow, PageError, PaperPage};
use crate::allris::text::{classic_sections, financial_impact, paper_sections};
use crate::model::ConsultationResult;

pub(crate) fn parse(page: &Page<'_>) -> Result<PaperPage, PageError> {
    let main = page.main();
    let subject = field_text(main, &["Betreff"]).ok_or_else(|| PageError::missing("Betreff"))?;
    let status = field_text(main, &["Status"]);
    let public = status.as_deref().is_none_or(is_public);
    let reference = page.heading().and_then(|heading| {
        heading.split_once(" - ").map(|(_, reference)| reference.trim().to_owned()).and_then(non_empty)
    });
    let related_volfdnr = field(main, &["Bezüglich"]).and_then(|cell| linked_id(cell, "vo020", "VOLFDNR"));
    let sections = classic_sections(page.document);
    let sections = paper_sections(&sections);
    let (financial_impact_once, financial_impact_annual) =
        sections.finanzielle_auswirkung.as_deref().map(financial_impact).unwrap_or((None, None));
    Ok(PaperPage {
        volfdnr: page.object_id("VOLFDNR"),
        reference,
        subject: Some(subject),
        status,
        public,
        paper_type: field_text(main, &["Drucksache-Art", "Vorlage-Art", "Vorlageart", "Drucksachenart"]),
        date: field_text(main, &["Datum", "Erstellt am"]).as_deref().and_then(parse_page_date),
        lead_department: field_text(main, &["Federführend", "Federführendes Amt", "Federführung"]),
        related_volfdnr,
        consultations: consultations(main)?,
        sections,
        financial_impact_once,
        financial_impact_annual,
        attachments: page.attachments(),
    })
}

pub(crate) fn is_public(status: &str) -> bool {
    let status = status.to_lowercase();
    !(status.starts_with("nicht") || status.contains("nichtöffentlich") || status.contains("nicht öffentlich"))
}

/// The Beratungsfolge: the row after the "Beratungsfolge:" label holds a table with two rows per station
/// (Gremium and role, then date, meeting link and result); a station without a date row was not consulted in
/// public yet.
fn consultations(main: ElementRef<'_>) -> Result<Vec<ConsultationRow>, PageError> {
    static LABELS: LazyLock<Selector> = LazyLock::new(|| sel("td"));
    static TABLE: LazyLock<Selector> = LazyLock::new(|| sel("table"));
    let Some(label) = main
        .select(&LABELS)
        .find(|cell| inline_text(*cell).trim_end_matches(':').eq_ignore_ascii_case("Beratungsfolge"))
    else {
        return Ok(Vec::new());
    };
    let table = label
        .parent()
        .and_then(ElementRef::wrap)
        .and_then(|row| row.next_siblings().find_map(ElementRef::wrap))
        .and_then(|row| row.select(&TABLE).next())
        .ok_or_else(|| PageError {
            field: Some("Beratungsfolge".into()),
            message: "the Beratungsfolge has no table".into(),
        })?;
    Ok(station_rows(table))
}

pub(crate) fn station_rows(table: ElementRef<'_>) -> Vec<ConsultationRow> {
    static ROWS: LazyLock<Selector> = LazyLock::new(|| sel("tr"));
    static CELLS: LazyLock<Selector> = LazyLock::new(|| sel("td"));
    let mut stations: Vec<ConsultationRow> = Vec::new();
    for row in table.select(&ROWS) {
        let cells: Vec<ElementRef<'_>> = row.select(&CELLS).collect();
        let date = cells.iter().find_map(|cell| parse_page_date(&inline_text(*cell)));
        let meeting = linked_id(row, "to010", "SILFDNR");
        if date.is_some() || meeting.is_some() {
            let Some(station) = stations.last_mut() else { continue };
            station.date = date;
            station.meeting_silfdnr = meeting;
            station.meeting_name = meeting_link_text(row);
            station.agenda_item_tolfdnr = agenda_item(row);
            station.result_text = result_text(&cells);
            station.result = ConsultationResult::from_text(station.result_text.as_deref());
            continue;
        }
        let texts: Vec<String> = cells
            .iter()
            .filter(|cell| cell.value().classes().any(|class| class == "text1"))
            .map(|cell| inline_text(*cell))
            .filter(|text| !text.is_empty())
            .collect();
        let Some(committee) = texts.first() else { continue };
        stations.push(ConsultationRow {
            committee: committee.clone(),
            role: texts.get(1).cloned(),
            date: None,
            meeting_silfdnr: None,
            meeting_name: None,
            agenda_item_tolfdnr: None,
            result_text: None,
            result: ConsultationResult::Pending,
        });
    }
    stations
}

fn meeting_link_text(row: ElementRef<'_>) -> Option<String> {
    crate::allris::html::link_to(row, "to010", "SILFDNR").map(|(_, link)| inline_text(link)).and_then(non_empty)
}

/// The TOP of this paper in that meeting: `to010.asp?topSelected=…` or a to020 link.
fn agenda_item(row: ElementRef<'_>) -> Option<String> {
    static FORMS: LazyLock<Selector> = LazyLock::new(|| sel("form[action]"));
    row.select(&FORMS)
        .find_map(|form| query_param(form.attr("action").unwrap_or_default(), "topSelected"))
        .or_else(|| linked_id(row, "to020", "TOLFDNR"))
}

/// The result cell (`td.text3`): what became of the paper there, e.g. "ungeändert beschlossen".
fn result_text(cells: &[ElementRef<'_>]) -> Option<String> {
    cells
        .iter()
        .filter(|cell| cell.value().classes().any(|class| class == "text3"))
        .map(|cell| inline_text(*cell))
        .find(|text| !text.is_empty())
}

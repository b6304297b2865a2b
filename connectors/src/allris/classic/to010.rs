//! to010.asp: a meeting (Sitzung) and its agenda (Tagesordnung).

use std::sync::LazyLock;

use scraper::{ElementRef, Selector};

use super::Page;
use crate::allris::html::{field, field_text, inline_text, link_to, linked_id, non_empty, sel};
use crate::allris::page::{parse_page_date, parse_times, AgendaRow, MeetingPage, PageError};

pub(crate) fn parse(page: &Page<'_>) -> Result<MeetingPage, PageError> {
    let main = page.main();
    let date_text = field_text(main, &["Datum"]).ok_or_else(|| PageError::missing("Datum"))?;
    let date = parse_page_date(&date_text)
        .ok_or_else(|| PageError { field: Some("Datum".into()), message: format!("`{date_text}` is not a date") })?;
    let (start_time, end_time) = field_text(main, &["Zeit"]).map(|text| parse_times(&text)).unwrap_or((None, None));
    let name = field_text(main, &["Bezeichnung"]).or_else(|| {
        page.heading().map(|heading| heading.trim_start_matches("Tagesordnung - ").to_owned()).and_then(non_empty)
    });
    Ok(MeetingPage {
        silfdnr: page.object_id("SILFDNR"),
        name,
        committee: field(main, &["Gremium"]).map(inline_text).and_then(non_empty),
        date: Some(date),
        start_time,
        end_time,
        status: field_text(main, &["Status"]),
        room: field_text(main, &["Raum"]),
        place: field_text(main, &["Ort"]),
        agenda: agenda(main),
        attachments: page.attachments(),
    })
}

/// A table's header cells with the columns they span: ("TOP", 0..1), ("Betreff", 3..5).
pub(crate) fn header_columns(table: ElementRef<'_>) -> Vec<(String, std::ops::Range<usize>)> {
    static HEADERS: LazyLock<Selector> = LazyLock::new(|| sel("th"));
    let mut columns = Vec::new();
    let mut at = 0;
    for header in table.select(&HEADERS) {
        let span = span(header);
        columns.push((inline_text(header), at..at + span));
        at += span;
    }
    columns
}

fn span(cell: ElementRef<'_>) -> usize {
    cell.attr("colspan").and_then(|span| span.trim().parse().ok()).unwrap_or(1usize).clamp(1, 50)
}

/// The cells of `row` under the header labelled one of `labels`.
pub(crate) fn cells_under<'a>(
    row: &[(usize, ElementRef<'a>)],
    columns: &[(String, std::ops::Range<usize>)],
    labels: &[&str],
) -> Vec<ElementRef<'a>> {
    let Some((_, range)) =
        columns.iter().find(|(label, _)| labels.iter().any(|wanted| label.eq_ignore_ascii_case(wanted)))
    else {
        return Vec::new();
    };
    row.iter().filter(|(column, _)| range.contains(column)).map(|(_, cell)| *cell).collect()
}

/// The row's cells with the column each starts in.
pub(crate) fn positioned_cells(row: ElementRef<'_>) -> Vec<(usize, ElementRef<'_>)> {
    let mut at = 0;
    row.children()
        .filter_map(ElementRef::wrap)
        .filter(|cell| matches!(cell.value().name(), "td" | "th"))
        .map(|cell| {
            let start = at;
            at += span(cell);
            (start, cell)
        })
        .collect()
}

/// The agenda: the table whose header has a "TOP" column; one TOP per row.
fn agenda(main: ElementRef<'_>) -> Vec<AgendaRow> {
    static TABLES: LazyLock<Selector> = LazyLock::new(|| sel("table"));
    static ROWS: LazyLock<Selector> = LazyLock::new(|| sel("tr"));
    let Some(table) = main.select(&TABLES).find(|table| {
        header_columns(*table).iter().any(|(label, _)| label.eq_ignore_ascii_case("TOP"))
            && !header_columns(*table).is_empty()
    }) else {
        return Vec::new();
    };
    let columns = header_columns(table);
    let mut items = Vec::new();
    for row in table.select(&ROWS) {
        let cells = positioned_cells(row);
        if cells.iter().all(|(_, cell)| cell.value().name() == "th") {
            continue;
        }
        let number = cells_under(&cells, &columns, &["TOP"]).into_iter().map(inline_text).find(|text| !text.is_empty());
        let Some(number) = number else { continue };
        let tolfdnr = linked_id(row, "to020", "TOLFDNR").or_else(|| link_to(row, "to010", "TOLFDNR").map(|(id, _)| id));
        let Some(tolfdnr) = tolfdnr else { continue };
        let subject_cells = cells_under(&cells, &columns, &["Betreff"]);
        let name =
            subject_cells.iter().map(|cell| inline_text(*cell)).find(|text| !text.is_empty()).unwrap_or_default();
        let paper = cells_under(&cells, &columns, &["Drucksache", "Vorlage"])
            .into_iter()
            .find_map(|cell| link_to(cell, "vo020", "VOLFDNR").map(|(id, link)| (id, inline_text(link))));
        items.push(AgendaRow {
            tolfdnr,
            public: !number.starts_with('N'),
            number: Some(number),
            order: items.len() as i32 + 1,
            name,
            result: agenda_result(row),
            paper_volfdnr: paper.as_ref().map(|(id, _)| id.clone()),
            paper_reference: paper.and_then(|(_, text)| non_empty(text)),
        });
    }
    items
}

/// The to020 button's title is the TOP's result; "(offen)" means open.
fn agenda_result(row: ElementRef<'_>) -> Option<String> {
    static FORMS: LazyLock<Selector> = LazyLock::new(|| sel("form[action]"));
    static SUBMIT: LazyLock<Selector> = LazyLock::new(|| sel("input[type=submit][title]"));
    row.select(&FORMS)
        .filter(|form| form.attr("action").unwrap_or_default().to_ascii_lowercase().contains("to020"))
        .find_map(|form| form.select(&SUBMIT).next().and_then(|submit| submit.attr("title")))
        .map(crate::allris::html::clean)
        .filter(|title| !title.is_empty() && title != "(offen)")
}

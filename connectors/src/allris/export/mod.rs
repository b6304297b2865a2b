//! ALLRIS classic's XML export: the calendar (si010), a meeting's agenda (to010) and an agenda item (to020) as
//! XML when `selfaction=ws&template=xyz` is added to the page's address. The connector reads it with
//! `mode = "xml"`; papers have no export with their texts, so they are read from their HTML pages in both modes.
//!
//! The export's shape, as ALLRIS net 3.x writes it: a root holding a head block and a `list` of items, one element
//! per field with ALLRIS's column names — si010 items `silfdnr`, `sitext` (name), `siname` (short name), `grname`
//! (Gremium), `sisbvcs`/`sisevcs` (start and end as `20191211T180000Z`) or `sidat` + `sibeginn`/`siende`; the
//! to010 head `sitext`, `grname`, `raname` (room), `raort` (place) and items `tolfdnr`, `tofnum`/`tofunum`/
//! `tofuunum` (number parts) or `topnr`, `toostlang` ("öffentlich"), `totext1` (subject), `volfdnr`, `voname`
//! (paper reference); the to020 block `tolfdnr`, `topnr`, `grname`, `totyp` (result), `volfdnr`, `vobetr`, and the
//! documents `rtfWP`/`rtfBS`/`rtfAE` (Wortprotokoll, Beschluss, Abstimmung) as pasted HTML. Fields are found by
//! name, never by position, and a name may come in capitals.

mod tree;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

use super::page::{
    id_hint, kind_hint, parse_page_date, parse_times, AgendaItemPage, AgendaRow, CalendarPage, MeetingPage,
    PageContent, PageError,
};
use super::text::{section_text, Section};
use tree::Element;

/// Whether `bytes` are an export document rather than an HTML page (a login page answers export requests too).
pub(crate) fn is_export(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let mut rest = head.trim_start_matches('\u{feff}');
    // Skip the declaration, comments and a doctype to the first element.
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").map(|(_, after)| after).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map(|(_, after)| after).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("<!") {
            rest = after.split_once('>').map(|(_, after)| after).unwrap_or("");
        } else {
            break;
        }
    }
    let Some(tag) = rest.strip_prefix('<') else { return false };
    let name: String = tag.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':')).collect();
    // A page or a saved fragment of one starts with an HTML element.
    const HTML: [&str; 14] =
        ["html", "head", "body", "div", "table", "form", "p", "span", "section", "main", "header", "a", "h1", "ul"];
    !name.is_empty() && !HTML.contains(&name.as_str())
}

/// Parses an export document; the kind comes from `location` (its address or saved file name) or its fields.
pub(crate) fn parse(bytes: &[u8], location: Option<&str>) -> Result<PageContent, PageError> {
    let root = tree::read(bytes).map_err(|error| PageError {
        field: None,
        message: format!(
            "the XML export cannot be read at line {}, column {}: {}",
            error.line, error.column, error.message
        ),
    })?;
    let kind = kind_hint(location).or_else(|| kind_from_fields(&root));
    match kind {
        Some("si010") => Ok(PageContent::Calendar(calendar(&root))),
        Some("to010") => meeting(&root, location).map(PageContent::Meeting),
        Some("to020") => agenda_item(&root, location).map(PageContent::AgendaItem),
        _ => Err(PageError::unknown("not an ALLRIS XML export this connector reads (si010, to010, to020)")),
    }
}

fn kind_from_fields(root: &Element) -> Option<&'static str> {
    let all = root.descendants();
    if all.iter().any(|element| element.name.starts_with("rtf") || element.name == "toptext") {
        Some("to020")
    } else if all.iter().any(|element| element.child(&["tolfdnr"]).is_some()) {
        Some("to010")
    } else if all.iter().any(|element| element.child(&["silfdnr"]).is_some()) {
        Some("si010")
    } else {
        None
    }
}

/// ALLRIS's running numbers; "0" or empty means none (an agenda item without a paper has `volfdnr` 0).
fn number(element: &Element, names: &[&str]) -> Option<String> {
    element.field(names).filter(|value| value.chars().any(|c| c.is_ascii_digit() && c != '0'))
}

/// A meeting's date and times: `sisbvcs`/`sisevcs` (`20191211T180000Z` is UTC, without `Z` local time), else
/// `sidat` with `sibeginn`/`siende` or `sizeit` ("19:00 - 21:15").
fn meeting_times(element: &Element) -> (Option<NaiveDate>, Option<NaiveTime>, Option<NaiveTime>) {
    let start = element.field(&["sisbvcs"]).as_deref().and_then(local_instant);
    let end = element.field(&["sisevcs"]).as_deref().and_then(local_instant);
    if let Some(start) = start {
        let end = end.filter(|end| end.date() == start.date()).map(|end| end.time());
        return (Some(start.date()), Some(start.time()), end);
    }
    let date = element.field(&["sidat", "sidatum", "datum"]).as_deref().and_then(parse_page_date);
    let (mut from, mut to) = element.field(&["sizeit", "zeit"]).map(|text| parse_times(&text)).unwrap_or((None, None));
    if let Some(begin) = element.field(&["sibeginn", "siuhrzeit", "beginn"]) {
        from = parse_times(&begin).0.or(from);
    }
    if let Some(finish) = element.field(&["siende", "ende"]) {
        to = parse_times(&finish).0.or(to);
    }
    (date, from.filter(|_| date.is_some()), to.filter(|_| date.is_some()))
}

/// "20191211T180000Z" → 19:00 in Hankensbüttel; "20191211T190000" is local already.
fn local_instant(text: &str) -> Option<NaiveDateTime> {
    let (text, utc) = match text.trim().strip_suffix(['Z', 'z']) {
        Some(text) => (text, true),
        None => (text.trim(), false),
    };
    let naive = NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M"))
        .ok()?;
    if utc {
        Some(Utc.from_utc_datetime(&naive).with_timezone(&Berlin).naive_local())
    } else {
        Some(naive)
    }
}

/// The elements that are items of the export's list: those with a `key` field.
fn items<'a>(root: &'a Element, key: &str) -> Vec<&'a Element> {
    root.descendants().into_iter().filter(|element| element.child(&[key]).is_some()).collect()
}

/// si010: the meetings of the range, each with what the calendar says about it.
fn calendar(root: &Element) -> CalendarPage {
    let mut page = CalendarPage { meetings: Vec::new(), listed: Vec::new() };
    for item in items(root, "silfdnr") {
        let Some(silfdnr) = number(item, &["silfdnr"]) else { continue };
        if page.meetings.contains(&silfdnr) {
            continue;
        }
        let (date, start_time, end_time) = meeting_times(item);
        page.meetings.push(silfdnr.clone());
        page.listed.push(MeetingPage {
            silfdnr: Some(silfdnr),
            name: item.field(&["sitext", "siname", "bezeichnung"]),
            committee: item.field(&["grname", "gremium"]),
            date,
            start_time,
            end_time,
            status: item.field(&["sistatus", "status"]),
            room: item.field(&["raname", "raum"]),
            place: item.field(&["raort", "ort"]),
            agenda: Vec::new(),
            attachments: Vec::new(),
        });
    }
    page
}

/// The meeting's own fields: the first element of that name outside the agenda's items.
fn head_field(root: &Element, names: &[&str]) -> Option<String> {
    fn walk(element: &Element, names: &[&str]) -> Option<String> {
        for child in element.children() {
            if child.child(&["tolfdnr"]).is_some() {
                continue;
            }
            if names.contains(&child.name.as_str()) {
                let text = child.inline_text();
                if !text.is_empty() {
                    return Some(text);
                }
            }
            if let Some(found) = walk(child, names) {
                return Some(found);
            }
        }
        None
    }
    names.iter().find_map(|name| walk(root, &[name]))
}

/// to010: the meeting head and its agenda. The export often leaves out the date; the crawl completes it from
/// the calendar, so a missing date is not an error here.
fn meeting(root: &Element, location: Option<&str>) -> Result<MeetingPage, PageError> {
    let date_head = root.descendants().into_iter().find(|element| {
        element.child(&["sisbvcs", "sidat", "sidatum"]).is_some() && element.child(&["tolfdnr"]).is_none()
    });
    let (date, start_time, end_time) = date_head.map(meeting_times).unwrap_or((None, None, None));
    let mut agenda = Vec::new();
    for item in items(root, "tolfdnr") {
        let Some(tolfdnr) = number(item, &["tolfdnr"]) else { continue };
        agenda.push(agenda_row(item, tolfdnr, agenda.len() as i32 + 1));
    }
    Ok(MeetingPage {
        silfdnr: head_field(root, &["silfdnr"]).or_else(|| id_hint(location, "SILFDNR")),
        name: head_field(root, &["sitext", "siname", "bezeichnung"]),
        committee: head_field(root, &["grname", "gremium"]),
        date,
        start_time,
        end_time,
        status: head_field(root, &["sistatus", "status"]),
        room: head_field(root, &["raname", "raum"]),
        place: head_field(root, &["raort", "ort"]),
        agenda,
        attachments: Vec::new(),
    })
}

/// Ö (öffentlich, public) or N (nichtöffentlich) from `toostlang` ("öffentlich") or `toost` ("Ö").
fn is_public(item: &Element) -> Option<bool> {
    let text = item.field(&["toostlang", "toost", "status"])?.to_lowercase();
    Some(!(text.starts_with('n') || text.contains("nichtöffentlich") || text.contains("nicht öffentlich")))
}

/// The TOP's number as the HTML agenda prints it: "Ö 4.1".
fn printed_number(item: &Element, public: bool) -> Option<String> {
    let number = item.field(&["topnr", "tonr"]).or_else(|| {
        let parts: Vec<String> = ["tofnum", "tofunum", "tofuunum"]
            .iter()
            .filter_map(|name| item.field(&[name]))
            .filter(|part| part != "0")
            .collect();
        (!parts.is_empty()).then(|| parts.join("."))
    })?;
    if number.starts_with(['Ö', 'N', 'ö', 'n']) {
        return Some(number);
    }
    Some(format!("{} {number}", if public { "Ö" } else { "N" }))
}

fn agenda_row(item: &Element, tolfdnr: String, order: i32) -> AgendaRow {
    let number_public = item.field(&["topnr", "tonr"]).map(|number| !number.starts_with(['N', 'n']));
    let public = is_public(item).or(number_public).unwrap_or(true);
    // As on the HTML agenda, a TOP without a subject keeps an empty name.
    let name = item.field(&["totext1", "tobetr", "betreff", "toptext"]).unwrap_or_default();
    AgendaRow {
        tolfdnr,
        number: printed_number(item, public),
        order,
        name,
        public,
        result: result(item),
        paper_volfdnr: number(item, &["volfdnr"]),
        paper_reference: item.field(&["voname", "vonr"]),
    }
}

/// What became of a TOP ("ungeändert beschlossen"); "(offen)" means open.
fn result(element: &Element) -> Option<String> {
    element.field(&["totyp", "beschlussart", "bsart"]).filter(|text| text != "(offen)" && text != "offen")
}

/// to020: one TOP with its documents.
fn agenda_item(root: &Element, location: Option<&str>) -> Result<AgendaItemPage, PageError> {
    let all = root.descendants();
    // The block holding the TOP's fields: the element with `tolfdnr` or `toptext`, else the root.
    let block = all
        .iter()
        .copied()
        .find(|element| element.child(&["tolfdnr", "toptext", "topnr"]).is_some())
        .ok_or_else(|| PageError::missing("tolfdnr"))?;
    let mut documents: Vec<(Section, String)> = Vec::new();
    for element in &all {
        let Some(code) = element.name.strip_prefix("rtf") else { continue };
        let (heading, text) = section_text(&element.block_text());
        if let Some(section) = heading.or_else(|| Section::from_anchor(code)) {
            if !text.is_empty() {
                documents.push((section, text));
            }
        }
    }
    let section = |wanted: Section| {
        let text = documents
            .iter()
            .filter(|(section, _)| *section == wanted)
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>();
        (!text.is_empty()).then(|| text.join("\n"))
    };
    let public = is_public(block).unwrap_or(true);
    Ok(AgendaItemPage {
        tolfdnr: number(block, &["tolfdnr"]).or_else(|| id_hint(location, "TOLFDNR")),
        meeting_silfdnr: number(block, &["silfdnr"]),
        meeting_name: block.field(&["sitext", "siname"]),
        number: printed_number(block, public),
        committee: block.field(&["grname", "gremium"]),
        result: result(block),
        date: meeting_times(block).0,
        paper_volfdnr: number(block, &["volfdnr"]),
        paper_title: block.field(&["vobetr"]),
        resolution: section(Section::Beschluss),
        minutes: section(Section::Protokoll),
        vote: section(Section::Abstimmung),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_documents_are_told_from_html_pages() {
        assert!(is_export(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!-- x --><ris><list/></ris>"));
        assert!(!is_export(b"<?xml version=\"1.0\"?><!DOCTYPE html PUBLIC \"x\"><html><body/></html>"));
        assert!(!is_export(b"<html><body>Keine Berechtigung</body></html>"));
        assert!(!is_export(b"\n<div class=\"docPart\"><p>Auszug</p></div>"));
        assert!(!is_export(b""));
    }

    #[test]
    fn vcs_instants_are_utc_with_z_and_local_without() {
        let expected = NaiveDate::from_ymd_opt(2019, 12, 11).and_then(|date| date.and_hms_opt(19, 0, 0));
        assert_eq!(local_instant("20191211T180000Z"), expected);
        assert_eq!(local_instant("20191211T190000"), expected);
        // Summer time: UTC+2.
        assert_eq!(
            local_instant("20190612T160000Z"),
            NaiveDate::from_ymd_opt(2019, 6, 12).and_then(|date| date.and_hms_opt(18, 0, 0))
        );
        assert_eq!(local_instant("bald"), None);
    }
}

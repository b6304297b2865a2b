//! si010_e.asp?MM=&YY=: a month of the meeting calendar; it is only read for its links to meetings.

use super::Page;
use crate::allris::html::{linked_id, query_param, sel};
use crate::allris::page::CalendarPage;

pub(crate) fn parse(page: &Page<'_>) -> CalendarPage {
    let links = sel("a[href], form[action]");
    let mut meetings: Vec<String> = Vec::new();
    for element in page.main().select(&links) {
        let target = element.attr("href").or_else(|| element.attr("action")).unwrap_or_default();
        if !target.to_ascii_lowercase().contains("to010") {
            continue;
        }
        let id = query_param(target, "SILFDNR").or_else(|| linked_id(element, "to010", "SILFDNR"));
        if let Some(id) = id {
            if !meetings.contains(&id) {
                meetings.push(id);
            }
        }
    }
    CalendarPage { meetings, listed: Vec::new() }
}

//! to020.asp: one agenda item (TOP) with its Beschluss (resolution) and Abstimmungsergebnis (vote).

use super::Page;
use crate::allris::html::{field_text, inline_text, link_to, non_empty};
use crate::allris::page::{parse_page_date, AgendaItemPage, PageError};
use crate::allris::text::{classic_sections, Section};

pub(crate) fn parse(page: &Page<'_>) -> Result<AgendaItemPage, PageError> {
    let main = page.main();
    let number = field_text(main, &["TOP"]).ok_or_else(|| PageError::missing("TOP"))?;
    let meeting = link_to(main, "to010", "SILFDNR");
    let paper = link_to(main, "vo020", "VOLFDNR");
    let sections = classic_sections(page.document);
    let section = |wanted: Section| {
        sections
            .iter()
            .filter(|(section, _)| *section == wanted)
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(AgendaItemPage {
        tolfdnr: page.object_id("TOLFDNR"),
        meeting_silfdnr: meeting.as_ref().map(|(id, _)| id.clone()),
        meeting_name: meeting.and_then(|(_, link)| non_empty(inline_text(link))),
        number: Some(number),
        committee: field_text(main, &["Gremium"]),
        result: field_text(main, &["Beschlussart", "Ergebnis"]).filter(|text| text != "(offen)"),
        date: field_text(main, &["Datum"]).as_deref().and_then(parse_page_date),
        paper_volfdnr: paper.as_ref().map(|(id, _)| id.clone()),
        paper_title: paper.and_then(|(_, link)| non_empty(inline_text(link))),
        resolution: non_empty(section(Section::Beschluss)),
        minutes: non_empty(section(Section::Protokoll)),
        vote: non_empty(section(Section::Abstimmung)),
    })
}

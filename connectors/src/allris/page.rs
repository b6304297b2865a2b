//! What the parser reads from one ALLRIS page, before it becomes records; `ikz-hub parse-page` prints it as JSON.

use chrono::{NaiveDate, NaiveTime};
use scraper::Html;
use serde::Serialize;
use thiserror::Error;

use super::html::{decode, sel};
use super::{allris4, classic};
use crate::model::{Cents, ConsultationResult, OrganizationKind, PaperSections};

/// The two generations of ALLRIS web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// ALLRIS net 3.x: `vo020.asp?VOLFDNR=…`, windows-1252 pages.
    #[default]
    Classic,
    /// ALLRIS net 4 (Wicket): `vo020?VOLFDNR=…`, UTF-8 pages.
    Allris4,
}

/// One parsed page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedPage {
    pub flavour: Flavour,
    #[serde(flatten)]
    pub content: PageContent,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "page", rename_all = "snake_case")]
pub enum PageContent {
    /// vo020: a Vorlage / Drucksache.
    Paper(PaperPage),
    /// to010: a Sitzung with its agenda.
    Meeting(MeetingPage),
    /// to020: one TOP with its Beschluss.
    AgendaItem(AgendaItemPage),
    /// au020 / fr020: a Gremium or a Fraktion.
    Organization(OrganizationPage),
    /// si010: a month of the meeting calendar.
    Calendar(CalendarPage),
    /// The site answered with its login page (noauth.asp): the item is not public.
    NotPublic,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperPage {
    /// ALLRIS's number of the paper (VOLFDNR), the source key.
    pub volfdnr: Option<String>,
    /// Drucksachennummer: "SG/256/19".
    pub reference: Option<String>,
    /// Betreff.
    pub subject: Option<String>,
    /// Status as written: "öffentlich".
    pub status: Option<String>,
    pub public: bool,
    /// Vorlage-Art / Drucksache-Art.
    pub paper_type: Option<String>,
    pub date: Option<NaiveDate>,
    /// Federführend.
    pub lead_department: Option<String>,
    /// Bezüglich: the paper this one refers to.
    pub related_volfdnr: Option<String>,
    /// Beratungsfolge.
    pub consultations: Vec<ConsultationRow>,
    pub sections: PaperSections,
    pub financial_impact_once: Option<Cents>,
    pub financial_impact_annual: Option<Cents>,
    pub attachments: Vec<Attachment>,
}

/// One station of a Beratungsfolge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationRow {
    /// The Gremium.
    pub committee: String,
    /// "Vorberatung", "Entscheidung", "Kenntnisnahme".
    pub role: Option<String>,
    pub date: Option<NaiveDate>,
    pub meeting_silfdnr: Option<String>,
    pub meeting_name: Option<String>,
    pub agenda_item_tolfdnr: Option<String>,
    pub result_text: Option<String>,
    pub result: ConsultationResult,
}

/// A document linked from a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// A stable key: "DOLFDNR=1401263", or the link.
    pub key: String,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeetingPage {
    pub silfdnr: Option<String>,
    /// Bezeichnung: "Sitzung des Rates der Samtgemeinde Hankensbüttel".
    pub name: Option<String>,
    /// Gremium.
    pub committee: Option<String>,
    pub date: Option<NaiveDate>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub status: Option<String>,
    /// Raum.
    pub room: Option<String>,
    /// Ort.
    pub place: Option<String>,
    pub agenda: Vec<AgendaRow>,
    pub attachments: Vec<Attachment>,
}

/// One TOP as the agenda lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgendaRow {
    pub tolfdnr: String,
    /// As printed: "Ö 4.1".
    pub number: Option<String>,
    pub order: i32,
    pub name: String,
    /// Ö = öffentlich, N = nichtöffentlich.
    pub public: bool,
    /// The result the agenda shows ("zur Kenntnis genommen"); None while open.
    pub result: Option<String>,
    pub paper_volfdnr: Option<String>,
    pub paper_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgendaItemPage {
    pub tolfdnr: Option<String>,
    pub meeting_silfdnr: Option<String>,
    pub meeting_name: Option<String>,
    /// TOP: "Ö 2.1".
    pub number: Option<String>,
    pub committee: Option<String>,
    /// Beschlussart: "zur Kenntnis genommen"; None while "(offen)".
    pub result: Option<String>,
    pub date: Option<NaiveDate>,
    pub paper_volfdnr: Option<String>,
    /// The paper's subject as the page repeats it.
    pub paper_title: Option<String>,
    /// Beschluss.
    pub resolution: Option<String>,
    /// Wortprotokoll (minutes); shown by parse-page, not stored: minutes name the people who spoke.
    pub minutes: Option<String>,
    /// Abstimmungsergebnis.
    pub vote: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationPage {
    /// AULFDNR (committee) or FRLFDNR (faction).
    pub number: Option<String>,
    pub name: String,
    pub kind: OrganizationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalendarPage {
    /// The SILFDNR of every meeting the month lists, in page order.
    pub meetings: Vec<String>,
    /// What the XML export's calendar says about each meeting (name, Gremium, date, times): its to010 export
    /// often lacks them. Empty for HTML calendars.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<MeetingPage>,
}

/// A page whose markup does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct PageError {
    /// The label that was looked for ("Betreff").
    pub field: Option<String>,
    pub message: String,
}

impl PageError {
    pub(crate) fn missing(label: &str) -> Self {
        PageError { field: Some(label.to_owned()), message: format!("the page has no `{label}` field") }
    }

    pub(crate) fn unknown(message: impl Into<String>) -> Self {
        PageError { field: None, message: message.into() }
    }
}

/// Parses one ALLRIS page or XML export document (classic's `selfaction=ws&template=xyz`); its flavour and kind
/// (paper, meeting, agenda item, committee, calendar) are detected from the page, helped by `location` (the URL or
/// file name) where the page does not say. Relative links are resolved
/// against `location` when it is a URL.
pub fn parse_page(bytes: &[u8], location: Option<&str>) -> Result<ParsedPage, PageError> {
    if super::export::is_export(bytes) {
        let content = super::export::parse(bytes, location)?;
        return Ok(ParsedPage { flavour: Flavour::Classic, content });
    }
    let text = decode(bytes);
    let document = Html::parse_document(&text);
    let url = location.filter(|location| location.starts_with("http://") || location.starts_with("https://"));
    if is_noauth(&document, location) {
        let flavour = if is_allris4(&document) { Flavour::Allris4 } else { Flavour::Classic };
        return Ok(ParsedPage { flavour, content: PageContent::NotPublic });
    }
    if is_allris4(&document) {
        let content = allris4::parse(&document, location, url)?;
        return Ok(ParsedPage { flavour: Flavour::Allris4, content });
    }
    let content = classic::parse(&document, location, url)?;
    Ok(ParsedPage { flavour: Flavour::Classic, content })
}

/// ALLRIS 4 pages are Wicket pages with their own ids; classic pages have `#allriscontainer` and `.asp` links.
fn is_allris4(document: &Html) -> bool {
    let markers = sel("#bfTable, #vobetreff, #vofamt, [data-wicket-placeholder], h1.title");
    let classic = sel("#allriscontainer, #risname, #risname_raw");
    document.select(&classic).next().is_none() && document.select(&markers).next().is_some()
}

/// ALLRIS sends non-public items to its login page `noauth.asp`.
fn is_noauth(document: &Html, location: Option<&str>) -> bool {
    if location.is_some_and(|location| location.to_ascii_lowercase().contains("noauth")) {
        return true;
    }
    let container = sel("#allriscontainer");
    if document
        .select(&container)
        .any(|element| element.value().classes().any(|class| class.eq_ignore_ascii_case("noauth")))
    {
        return true;
    }
    let body = sel("body");
    document.select(&body).next().is_some_and(|body| {
        let text = body.text().collect::<String>().to_lowercase();
        text.contains("keine berechtigung") || text.contains("nicht berechtigt")
    })
}

/// Where a page kind is not in the page, the URL or file name tells: "…/vo020.asp?VOLFDNR=1", "vo020/1.html".
pub(crate) fn kind_hint(location: Option<&str>) -> Option<&'static str> {
    let location = location?.to_ascii_lowercase();
    ["vo020", "to010", "to020", "au020", "fr020", "si010"].into_iter().find(|kind| location.contains(kind))
}

/// The number in a URL or saved file name: "…?VOLFDNR=12" or "vo020/12.html".
pub(crate) fn id_hint(location: Option<&str>, key: &str) -> Option<String> {
    let location = location?;
    if let Some(value) = super::html::query_param(location, key) {
        return Some(value);
    }
    let file = location.rsplit(['/', '\\']).next()?;
    let stem = file.strip_suffix(".html").or_else(|| file.strip_suffix(".htm"))?;
    stem.bytes().all(|byte| byte.is_ascii_digit()).then(|| stem.to_owned()).filter(|stem| !stem.is_empty())
}

/// "Mo, 03.11.2025", "27.11.2019", "Jan 29, 2026" (ALLRIS 4 with an English locale).
pub(crate) fn parse_page_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let text = match text.split_once(", ") {
        Some((weekday, rest)) if weekday.len() <= 3 && weekday.chars().all(char::is_alphabetic) => rest,
        _ => text,
    };
    crate::de::parse_date(text).ok().or_else(|| NaiveDate::parse_from_str(text, "%b %d, %Y").ok())
}

/// "18:00 - 19:16" → (18:00, 19:16); "18:00 Uhr" → (18:00, None).
pub(crate) fn parse_times(text: &str) -> (Option<NaiveTime>, Option<NaiveTime>) {
    let text = text.replace("bis", "-");
    let mut times = text
        .split(['-', '–'])
        .map(|part| part.trim().trim_end_matches("Uhr").trim())
        .filter_map(|part| NaiveTime::parse_from_str(part, "%H:%M").ok());
    (times.next(), times.next())
}

/// Gremium kinds from their names.
pub(crate) fn organization_kind(name: &str) -> OrganizationKind {
    let lower = name.to_lowercase();
    if lower.contains("fraktion") || lower.starts_with("gruppe") {
        OrganizationKind::Faction
    } else if lower.contains("ausschuss") || lower.contains("beirat") || lower.contains("kommission") {
        OrganizationKind::Committee
    } else if lower.starts_with("rat ")
        || lower == "rat"
        || lower.contains("samtgemeinderat")
        || lower.contains("kreistag")
        || lower.contains("bezirksversammlung")
        || lower.contains("stadtrat")
        || lower.contains("gemeinderat")
    {
        OrganizationKind::Council
    } else {
        OrganizationKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_as_pages_print_them() {
        assert_eq!(parse_page_date("Mo, 03.11.2025"), NaiveDate::from_ymd_opt(2025, 11, 3));
        assert_eq!(parse_page_date("Jan 29, 2026"), NaiveDate::from_ymd_opt(2026, 1, 29));
        assert_eq!(
            parse_page_date("27.11.2019\u{a0}".trim_end_matches('\u{a0}')),
            NaiveDate::from_ymd_opt(2019, 11, 27)
        );
        assert_eq!(
            parse_times("18:00 - 19:16"),
            (NaiveTime::from_hms_opt(18, 0, 0), NaiveTime::from_hms_opt(19, 16, 0))
        );
        assert_eq!(parse_times("19:00 Uhr"), (NaiveTime::from_hms_opt(19, 0, 0), None));
    }

    #[test]
    fn ids_from_urls_and_saved_file_names() {
        assert_eq!(id_hint(Some("https://x/bi/vo020.asp?VOLFDNR=12"), "VOLFDNR").as_deref(), Some("12"));
        assert_eq!(id_hint(Some("demo/allris/vo020/12.html"), "VOLFDNR").as_deref(), Some("12"));
        assert_eq!(kind_hint(Some("demo/allris/to020/5.html")), Some("to020"));
    }
}

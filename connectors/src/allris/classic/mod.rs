//! ALLRIS classic (ALLRIS net 3.x) pages: `#allriscontainer` carries the page kind as its class ("vo020").

mod au020;
mod si010;
mod to010;
mod to020;
mod vo020;

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};

use super::html::{absolute, clean, inline_text, meta, sel};
use super::page::{kind_hint, Attachment, PageContent, PageError};

pub(crate) fn parse(document: &Html, location: Option<&str>, url: Option<&str>) -> Result<PageContent, PageError> {
    static CONTAINER: LazyLock<Selector> = LazyLock::new(|| sel("#allriscontainer"));
    let from_page = document.select(&CONTAINER).next().and_then(|container| {
        container.value().classes().find_map(|class| {
            let class = class.to_ascii_lowercase();
            ["vo020", "to010", "to020", "au020", "fr020", "si010"].into_iter().find(|kind| class.starts_with(kind))
        })
    });
    let page = Page { document, location, url };
    match from_page.or_else(|| kind_hint(location)) {
        Some("vo020") => vo020::parse(&page).map(PageContent::Paper),
        Some("to010") => to010::parse(&page).map(PageContent::Meeting),
        Some("to020") => to020::parse(&page).map(PageContent::AgendaItem),
        Some("au020") | Some("fr020") => au020::parse(&page).map(PageContent::Organization),
        Some("si010") => {
            let calendar = si010::parse(&page);
            // The calendar is read for its links only; an error or maintenance page answered at its URL would
            // otherwise pass for a month without meetings.
            static MARKUP: LazyLock<Selector> =
                LazyLock::new(|| sel("#allriscontainer, #risname, #risname_raw, #rismain, #rismain_raw, table.tl1"));
            if calendar.meetings.is_empty() && document.select(&MARKUP).next().is_none() {
                return Err(PageError::unknown("not an ALLRIS calendar page (no ALLRIS markup and no meetings)"));
            }
            Ok(PageContent::Calendar(calendar))
        }
        _ => Err(PageError::unknown(
            "not an ALLRIS page this connector reads (vo020, to010, to020, au020, fr020, si010)",
        )),
    }
}

/// A classic page being parsed.
pub(crate) struct Page<'a> {
    pub document: &'a Html,
    /// URL or file path the page came from.
    pub location: Option<&'a str>,
    /// The page's URL, for resolving links; None for saved files.
    pub url: Option<&'a str>,
}

impl<'a> Page<'a> {
    /// The page's main part (`#rismain`), or the whole document.
    pub fn main(&self) -> ElementRef<'a> {
        static MAIN: LazyLock<Selector> = LazyLock::new(|| sel("#rismain, #rismain_raw"));
        self.document.select(&MAIN).next().unwrap_or_else(|| self.document.root_element())
    }

    /// The heading: "Drucksache - 22-2402".
    pub fn heading(&self) -> Option<String> {
        static HEADING: LazyLock<Selector> = LazyLock::new(|| sel("#risname h1, #risname_raw h1, h1"));
        self.document.select(&HEADING).next().map(inline_text).filter(|text| !text.is_empty())
    }

    /// The record number ALLRIS puts into `<meta name="objectID">`, else the URL's or file name's.
    pub fn object_id(&self, key: &str) -> Option<String> {
        meta(self.document, "objectID").or_else(|| super::page::id_hint(self.location, key))
    }

    /// Documents: `do027.asp` forms (DOLFDNR) and links in an "Anlagen" box.
    pub fn attachments(&self) -> Vec<Attachment> {
        static FORMS: LazyLock<Selector> = LazyLock::new(|| sel("form[action]"));
        static DOLFDNR: LazyLock<Selector> = LazyLock::new(|| sel("input[name=DOLFDNR]"));
        static SUBMIT: LazyLock<Selector> = LazyLock::new(|| sel("input[type=submit]"));
        static ANLAGEN_LINKS: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
        let mut out: Vec<Attachment> = Vec::new();
        let main = self.main();
        for form in main.select(&FORMS) {
            if !form.attr("action").unwrap_or_default().to_ascii_lowercase().contains("do027") {
                continue;
            }
            let Some(number) = form.select(&DOLFDNR).next().and_then(|input| input.attr("value")) else { continue };
            let name = form
                .select(&SUBMIT)
                .next()
                .and_then(|submit| submit.attr("value"))
                .map(clean)
                .unwrap_or_else(|| "Dokument".to_owned());
            let key = format!("DOLFDNR={number}");
            if out.iter().any(|known| known.key == key) {
                continue;
            }
            let url = absolute(self.url, &format!("do027.asp?DOLFDNR={number}"));
            out.push(Attachment { key, name, url });
        }
        // The "Anlagen:" box: a table whose label cell says so, with one link per file.
        if let Some(table) = main
            .select(&sel_kb1())
            .find(|cell| inline_text(*cell).trim_end_matches(':').eq_ignore_ascii_case("Anlagen"))
            .and_then(|cell| cell.ancestors().filter_map(ElementRef::wrap).find(|el| el.value().name() == "table"))
        {
            for link in table.select(&ANLAGEN_LINKS) {
                let href = link.attr("href").unwrap_or_default();
                if href.starts_with('#') || href.to_ascii_lowercase().starts_with("javascript") {
                    continue;
                }
                let name = inline_text(link);
                if name.is_empty() {
                    continue;
                }
                // The link is a temporary path that changes per visit; the name is what stays.
                out.push(Attachment { key: format!("ANLAGE={name}"), url: absolute(self.url, href), name });
            }
        }
        out
    }
}

fn sel_kb1() -> Selector {
    sel("td.kb1")
}

pub(crate) use to010::{cells_under, header_columns, positioned_cells};
pub(crate) use vo020::{is_public, station_rows};

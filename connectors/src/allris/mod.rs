//! `kind = "allris"`: council records from the public web pages of ALLRIS, the council information system many
//! municipalities of the IKZ run, in both generations: ALLRIS classic (ALLRIS net 3.x, `.asp` pages) and ALLRIS 4.
//!
//! Glossary (see also [`crate::model::council`]): Sitzungskalender = meeting calendar (si010); Tagesordnung = agenda
//! (to010); TOP = agenda item (to020); Vorlage/Drucksache = paper (vo020); Gremium = committee (au020); Beschluss =
//! resolution; VOLFDNR/SILFDNR/TOLFDNR = ALLRIS's running numbers of papers, meetings and agenda items, the source
//! keys of the records.
//!
//! - [`parse_page`] reads one page of any kind into a [`ParsedPage`] (what `ikz-hub parse-page` prints).
//! - The connector crawls a window of the calendar, see [`crawl`]; its `source` is the site's base URL or a folder
//!   holding a saved site.

mod allris4;
mod classic;
mod config;
mod crawl;
mod export;
mod html;
mod page;
mod records;
mod text;

use async_trait::async_trait;

use crate::connector::{Connector, ConnectorError, RunContext, RunOutcome, Source};
use crate::fetch::{Fetched, Fetcher};
use crate::model::EntityKind;
use crate::registry::{BuildResult, ConnectorSpec};
use crate::settings::{parse_settings, FieldError};

pub use page::{
    parse_page, AgendaItemPage, AgendaRow, Attachment, CalendarPage, ConsultationRow, Flavour, MeetingPage,
    OrganizationPage, PageContent, PageError, PaperPage, ParsedPage,
};

const ENTITIES: [EntityKind; 6] = [
    EntityKind::Organization,
    EntityKind::Meeting,
    EntityKind::AgendaItem,
    EntityKind::Paper,
    EntityKind::Consultation,
    EntityKind::File,
];

pub struct AllrisConnector {
    site: crawl::Site,
    settings: config::Settings,
}

/// Builds an `allris` connector from its config table.
pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let settings: config::Settings = parse_settings(spec.settings)?;
    settings.validate()?;
    if let Source::Http(url) = &spec.source {
        if reqwest::Url::parse(url).is_err() {
            return Err(vec![FieldError::new("source", format!("`{url}` is not a valid URL"))]);
        }
    }
    let calendar_page = settings.calendar_page.clone().unwrap_or_else(|| match (settings.flavour, settings.mode) {
        (Flavour::Classic, config::Mode::Html) => "si010_e.asp".to_owned(),
        (Flavour::Classic, config::Mode::Xml) => "si010.asp".to_owned(),
        (Flavour::Allris4, _) => "si010".to_owned(),
    });
    let site = crawl::Site {
        source: spec.source.clone(),
        flavour: settings.flavour,
        mode: settings.mode,
        calendar_page,
        public_base_url: settings.public_base_url.clone(),
    };
    Ok(Box::new(AllrisConnector { site, settings }))
}

#[async_trait]
impl Connector for AllrisConnector {
    fn entities(&self) -> &[EntityKind] {
        &ENTITIES
    }

    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        crawl::run(&self.site, &self.settings, ctx).await
    }
}

/// Reads one page from a file path or an http(s) URL and parses it: the body of `ikz-hub parse-page FILE|URL`.
pub async fn parse_location(fetcher: &Fetcher, location: &str) -> Result<ParsedPage, ConnectorError> {
    let source = Source::parse(location, std::path::Path::new("."))
        .map_err(|message| ConnectorError::Fetch { location: location.to_owned(), message })?;
    let body = match fetcher.read(&source, None).await {
        Ok(Fetched::Body(body)) => body,
        Ok(Fetched::NotModified) => {
            return Err(ConnectorError::Fetch { location: location.to_owned(), message: "no body".into() })
        }
        Err(error) => return Err(ConnectorError::Fetch { location: location.to_owned(), message: error.to_string() }),
    };
    parse_page(&body.bytes, Some(location)).map_err(|error| ConnectorError::Parse {
        location: location.to_owned(),
        message: match error.field {
            Some(field) => format!("{field}: {}", error.message),
            None => error.message,
        },
    })
}

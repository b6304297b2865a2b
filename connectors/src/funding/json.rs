//! JSON sources: records are the array at the `records` pointer; fields are JSON pointers relative to a record
//! (`/antrag/nummer`); an array value gives several values (school numbers). Over HTTP the walk follows a next link
//! (`paging.next = "/links/next"`) or counts a page parameter up (`paging.page_param = "page"`) until a page has no
//! records.

use serde_json::Value as Json;

use super::config::{Config, Format, Paging};
use super::map::{Mapping, Raw, RawDisbursement};
use super::programs::ProgramInfo;
use super::{Batcher, BatcherState, FundingError, Summary};
use crate::connector::{ConnectorError, RunContext, Source};
use crate::fetch::{with_query, Fetched};
use crate::spreadsheet::mapping::Event;
use crate::spreadsheet::reader::Cell;

/// What one page held.
#[derive(Debug, Default)]
pub struct Page {
    /// Records at the records pointer; `None` when the pointer is not in the page.
    pub records: Option<usize>,
    /// The next page's URL, when the page links one.
    pub next: Option<String>,
}

fn cell(value: &Json) -> Option<Cell> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(Cell::Text(text.clone())),
        Json::Bool(value) => Some(Cell::Bool(*value)),
        Json::Number(number) => Some(match number.as_i64() {
            Some(integer) => Cell::Integer(integer),
            None => Cell::Number(number.as_f64().unwrap_or(f64::NAN)),
        }),
        // An object where a value is due: kept as its JSON text, so the reject shows what came.
        Json::Object(_) => Some(Cell::Text(value.to_string())),
        Json::Array(items) => items.first().and_then(cell),
    }
}

fn cells(value: &Json) -> Vec<Cell> {
    match value {
        Json::Array(items) => items.iter().filter_map(cell).collect(),
        other => cell(other).into_iter().collect(),
    }
}

fn first(item: &Json, pointers: &[String]) -> Option<(Vec<Cell>, String)> {
    pointers.iter().find_map(|pointer| {
        let found = cells(item.pointer(pointer)?);
        (!found.is_empty()).then(|| (found, pointer.clone()))
    })
}

/// Maps the records of one page. `location` is the page's URL or file.
pub fn read_page(
    mapping: &Mapping<'_>,
    bytes: &[u8],
    location: &str,
    batcher: &mut Batcher<'_>,
) -> Result<Page, FundingError> {
    let Format::Json { records, paging } = &mapping.config.format else { return Ok(Page::default()) };
    let document: Json = serde_json::from_slice(bytes).map_err(|error| FundingError::Parse {
        location: location.to_owned(),
        message: format!("not JSON: {error} (line {}, column {})", error.line(), error.column()),
    })?;
    let next = match paging {
        Some(Paging::Next { pointer, .. }) => document
            .pointer(pointer)
            .and_then(Json::as_str)
            .map(str::trim)
            .filter(|next| !next.is_empty())
            .map(str::to_owned),
        _ => None,
    };
    let items: Vec<&Json> = match document.pointer(records) {
        None => return Ok(Page { records: None, next }),
        Some(Json::Array(items)) => items.iter().collect(),
        Some(Json::Null) => Vec::new(),
        // A single object where a list is due.
        Some(object @ Json::Object(_)) => vec![object],
        Some(other) => {
            return Err(FundingError::Parse {
                location: format!("{location}#{records}"),
                message: format!("expected an array of records, found {}", kind_of(other)),
            })
        }
    };
    for (index, item) in items.iter().enumerate() {
        let at = format!("{location}#{records}/{index}");
        if !item.is_object() {
            batcher.reject(crate::connector::Rejection {
                location: at,
                field: None,
                value: Some(item.to_string().chars().take(200).collect()),
                message: format!("a record must be an object, found {}", kind_of(item)),
            })?;
            continue;
        }
        batcher.map(mapping, &raw_of(mapping.config, item, at))?;
    }
    Ok(Page { records: Some(items.len()), next })
}

fn raw_of(config: &Config, item: &Json, location: String) -> Raw {
    let mut raw = Raw::new(location);
    for spec in &config.fields {
        if let Some((values, pointer)) = first(item, &spec.paths) {
            raw.values[spec.field.index()] = values;
            raw.places[spec.field.index()] = Some(format!("field {pointer}").into());
        }
    }
    for spec in &config.disbursements {
        let path = spec.path.as_deref().unwrap_or_default();
        let Some(Json::Array(entries)) = item.pointer(path) else { continue };
        for (index, entry) in entries.iter().enumerate() {
            raw.disbursements.push(RawDisbursement {
                date: spec
                    .date
                    .as_deref()
                    .and_then(|pointers| first(entry, pointers))
                    .and_then(|(c, _)| c.into_iter().next()),
                amount: first(entry, &spec.amount).and_then(|(cells, _)| cells.into_iter().next()),
                place: format!("field {path}/{index}").into(),
            });
        }
    }
    raw
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Walks the pages of a JSON source and hands records to the sink page by page.
pub async fn run(
    config: &Config,
    source: &Source,
    programs: Option<&[ProgramInfo]>,
    ctx: &mut RunContext<'_>,
) -> Result<Summary, ConnectorError> {
    let Format::Json { paging, .. } = &config.format else { return Ok(Summary::default()) };
    let source_url = match source {
        Source::Http(url) => Some(url.clone()),
        Source::File(_) => None,
    };
    let (max_pages, mut url) = match paging {
        Some(Paging::Page { param, first, max_pages }) => {
            (*max_pages, source_url.as_deref().map(|base| with_query(base, &[(param, &first.to_string())])))
        }
        Some(Paging::Next { max_pages, .. }) => (*max_pages, source_url.clone()),
        None => (1, source_url.clone()),
    };
    let mut page_number = match paging {
        Some(Paging::Page { first, .. }) => *first,
        _ => 1,
    };
    let mut state = BatcherState::default();
    let mut visited = std::collections::HashSet::new();
    let mut pages = 0u32;
    loop {
        let location = url.clone().unwrap_or_else(|| source.describe());
        let fetched = match &url {
            Some(url) => ctx.fetcher.get(url, None).await,
            None => ctx.fetcher.read(source, None).await,
        }
        .map_err(|error| ConnectorError::Fetch { location: location.clone(), message: error.to_string() })?;
        let Fetched::Body(body) = fetched else { break };
        pages += 1;
        let mut events = Vec::new();
        let page = {
            let mut out = |event: Event| {
                events.push(event);
                Ok(())
            };
            let mapping = Mapping {
                config,
                programs,
                partner: ctx.partner,
                partners: ctx.partners,
                source_url: source_url.as_deref(),
            };
            let mut batcher = Batcher::resume(config.batch_size, &mut out, std::mem::take(&mut state));
            let page = read_page(&mapping, &body.bytes, &location, &mut batcher);
            state = batcher
                .suspend()
                .map_err(|error| ConnectorError::Parse { location: location.clone(), message: error.to_string() })?;
            page
        };
        for event in events {
            match event {
                Event::Records(batch) => ctx.sink.records(batch).await?,
                Event::Reject(rejection) => ctx.sink.reject(rejection).await?,
                Event::Warn(message) => ctx.sink.warn(message),
            }
        }
        let page = page.map_err(|error| match error {
            FundingError::Parse { location, message } => ConnectorError::Parse { location, message },
            FundingError::Stopped => ConnectorError::Parse { location: location.clone(), message: error.to_string() },
        })?;
        if page.records.is_none() && pages == 1 {
            let Format::Json { records, .. } = &config.format else { break };
            return Err(ConnectorError::Parse {
                location: location.clone(),
                message: format!("no records at `{records}` (check `records`)"),
            });
        }
        visited.insert(location.clone());
        let next = match paging {
            None => None,
            Some(Paging::Next { .. }) => match (page.next, url.as_deref()) {
                (Some(next), Some(current)) => reqwest::Url::parse(current)
                    .and_then(|base| base.join(&next))
                    .map(|joined| joined.to_string())
                    .ok()
                    .filter(|next| !visited.contains(next)),
                _ => None,
            },
            Some(Paging::Page { param, .. }) => {
                if page.records.unwrap_or(0) == 0 {
                    None
                } else {
                    page_number += 1;
                    source_url.as_deref().map(|base| with_query(base, &[(param, &page_number.to_string())]))
                }
            }
        };
        match next {
            Some(_) if pages >= max_pages => {
                state.summary.incomplete = true;
                state.summary.notes.push(format!("stopped after {max_pages} pages (paging.max_pages)"));
                break;
            }
            Some(next) => url = Some(next),
            None => break,
        }
    }
    state.summary.notes.push(format!("{pages} page(s) read"));
    // The last partial batch is flushed with a final empty page of events.
    let mut events = Vec::new();
    let summary = {
        let mut out = |event: Event| {
            events.push(event);
            Ok(())
        };
        Batcher::resume(config.batch_size, &mut out, state)
            .finish()
            .map_err(|error| ConnectorError::Parse { location: source.describe(), message: error.to_string() })?
    };
    for event in events {
        if let Event::Records(batch) = event {
            ctx.sink.records(batch).await?;
        }
    }
    Ok(summary)
}

//! Walking OParl lists: fetching pages, following `links.next`, detecting loops, checking pagination totals.
//!
//! A list page is read tolerantly: the spec's envelope (`data`, `pagination`, `links`), a bare array (ALLRIS 4 as
//! trimmed by some proxies), `[]` or an error object where an empty page is due (both read as an empty last page).

use std::collections::HashSet;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use thiserror::Error;

use super::json;
use super::objects::{self, ListPage};
use crate::fetch::{FetchError, Fetched, Fetcher};

#[derive(Debug, Error)]
pub enum ClientError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: invalid JSON: {message}")]
    Json { url: String, message: String },
    #[error(
        "the {list} list loops: page {from} links to {next} as its next page, which was already read; the server's \
         pagination is broken, so the run stops instead of reading the list forever"
    )]
    Loop { list: String, from: String, next: String },
    #[error(
        "the {list} list has more than {limit} pages; stopped at {url} (raise max_pages_per_list if this is real)"
    )]
    TooManyPages { list: String, url: String, limit: u64 },
    #[error("{url}: the server answered 304 Not Modified to an unconditional request")]
    NotModified { url: String },
}

impl ClientError {
    /// Did the server say the URL does not exist (a list the body names but does not serve, a dangling reference)?
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClientError::Fetch(FetchError::Status { status: 404 | 410, .. }))
    }
}

/// One page of a list: its items as `E` (typed OParl objects, or `Value` for the body list).
#[derive(Debug)]
pub struct Page<E = Value> {
    pub url: String,
    pub items: Vec<E>,
    pub next: Option<String>,
    pub total_elements: Option<u64>,
    pub total_pages: Option<u64>,
    /// Why the page was read as empty although it was not a list page (an error object).
    pub problem: Option<String>,
}

impl<E> Page<E> {
    fn new(url: &str, page: ListPage<E>) -> Self {
        Page {
            url: url.to_owned(),
            items: page.items,
            next: page.next,
            total_elements: page.total_elements,
            total_pages: page.total_pages,
            problem: page.problem,
        }
    }
}

fn json_error(url: &str, error: impl std::fmt::Display) -> ClientError {
    ClientError::Json { url: url.to_owned(), message: error.to_string() }
}

/// Fetches `url` and parses it as JSON, tolerating what [`json::parse`] tolerates.
pub async fn get_json(fetcher: &Fetcher, url: &str) -> Result<Value, ClientError> {
    match fetcher.get(url, None).await? {
        Fetched::Body(body) => {
            json::parse(&body.bytes, body.content_type.as_deref()).map_err(|error| json_error(url, error))
        }
        Fetched::NotModified => Err(ClientError::NotModified { url: url.to_owned() }),
    }
}

/// Fetches a list page and reads it into `E`s, tolerating what [`objects`] tolerates.
///
/// Parsed on the calling task, not in `spawn_blocking`: the hub runs imports on a current-thread runtime, where
/// handing each page to a blocking thread and waking the runtime thread again cost more than the parse (tens of
/// µs per page) and left both threads waiting on the scheduler under load (bench_oparl: 110-160 ms CPU and
/// 240-290 ms wall per import with it, 92-100 ms CPU and 92-134 ms wall without). List walks read pages with
/// [`get_unread`] instead and hand them to one thread for the whole walk.
pub async fn get_page<E: DeserializeOwned + Send + 'static>(
    fetcher: &Fetcher,
    url: &str,
) -> Result<Page<E>, ClientError> {
    match fetcher.get(url, None).await? {
        Fetched::Body(body) => read_whole(url, &body.bytes, body.content_type.as_deref()),
        Fetched::NotModified => Err(ClientError::NotModified { url: url.to_owned() }),
    }
}

/// A list page's body read in full, envelope and items.
fn read_whole<E: DeserializeOwned>(
    url: &str,
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<Page<E>, ClientError> {
    let page = objects::parse_page::<E>(bytes, content_type).map_err(|error| json_error(url, error))?;
    Ok(Page::new(url, page))
}

/// A list page of which only the envelope was read (next link, pagination, how many items): enough to walk on. Its
/// items are read by [`Unread::read`], on the thread that normalises them, so fetching the next page does not wait
/// for them.
#[derive(Debug)]
pub struct Unread<E> {
    pub url: String,
    pub next: Option<String>,
    pub total_elements: Option<u64>,
    pub total_pages: Option<u64>,
    /// Items on the page, as [`Page::items`] will hold them.
    pub items: usize,
    content: Content<E>,
}

#[derive(Debug)]
enum Content<E> {
    Body {
        bytes: Vec<u8>,
        content_type: Option<String>,
    },
    /// Read in full already (the envelope reading failed, see [`get_unread`]).
    Read(Page<E>),
}

impl<E: DeserializeOwned> Unread<E> {
    /// Reads the items as [`get_page`] does.
    pub fn read(self) -> Result<Page<E>, ClientError> {
        match self.content {
            Content::Read(page) => Ok(page),
            Content::Body { bytes, content_type } => read_whole(&self.url, &bytes, content_type.as_deref()),
        }
    }
}

/// Fetches a list page and reads its envelope only. The envelope is read by the same code as a whole page (items
/// skipped as [`IgnoredAny`]), so links, totals and the item count are the ones [`get_page`] gives. When that
/// reading fails, the page is read in full here, so the error is the one [`get_page`] reports.
pub async fn get_unread<E: DeserializeOwned>(fetcher: &Fetcher, url: &str) -> Result<Unread<E>, ClientError> {
    let body = match fetcher.get(url, None).await? {
        Fetched::Body(body) => body,
        Fetched::NotModified => return Err(ClientError::NotModified { url: url.to_owned() }),
    };
    match objects::parse_page::<IgnoredAny>(&body.bytes, body.content_type.as_deref()) {
        Ok(envelope) => Ok(Unread {
            url: url.to_owned(),
            next: envelope.next,
            total_elements: envelope.total_elements,
            total_pages: envelope.total_pages,
            items: envelope.items.len(),
            content: Content::Body { bytes: body.bytes, content_type: body.content_type },
        }),
        Err(_) => {
            let page = read_whole::<E>(url, &body.bytes, body.content_type.as_deref())?;
            Ok(Unread {
                url: url.to_owned(),
                next: page.next.clone(),
                total_elements: page.total_elements,
                total_pages: page.total_pages,
                items: page.items.len(),
                content: Content::Read(page),
            })
        }
    }
}

/// Reads a list page out of an already parsed value (a source URL that answers with the body list itself).
pub fn read_page(url: &str, value: Value) -> Page {
    match objects::page_of_value::<Value>(value) {
        Ok(page) => Page::new(url, page),
        // Reading into `Value`s cannot fail; kept total all the same.
        Err(error) => Page::new(url, ListPage { problem: Some(error.to_string()), ..ListPage::default() }),
    }
}

/// Walks one list page by page. Keeps the pages it has read to detect loops, counts items and pages for the
/// progress log and the totals check.
pub struct Pager<'f> {
    fetcher: &'f Fetcher,
    pub list: String,
    visited: HashSet<String>,
    max_pages: u64,
    pub pages_done: u64,
    pub items_seen: u64,
    pub pages_known: Option<u64>,
    pub elements_known: Option<u64>,
}

impl<'f> Pager<'f> {
    pub fn new(fetcher: &'f Fetcher, list: impl Into<String>, max_pages: u64) -> Self {
        Pager {
            fetcher,
            list: list.into(),
            visited: HashSet::new(),
            max_pages,
            pages_done: 0,
            items_seen: 0,
            pages_known: None,
            elements_known: None,
        }
    }

    /// Fetches the page at `url` (the first page, or the `next` of the page before, given as `from`); `None` when
    /// `url` is `None` (the list ended).
    pub async fn fetch<E: DeserializeOwned + Send + 'static>(
        &mut self,
        url: Option<String>,
        from: Option<&str>,
    ) -> Result<Option<Page<E>>, ClientError> {
        let Some(url) = url else { return Ok(None) };
        self.check(&url, from)?;
        let page = get_page::<E>(self.fetcher, &url).await?;
        self.count(page.items.len(), page.total_pages, page.total_elements);
        Ok(Some(page))
    }

    /// [`Pager::fetch`] with only the envelope read (see [`get_unread`]).
    pub async fn fetch_unread<E: DeserializeOwned>(
        &mut self,
        url: Option<String>,
        from: Option<&str>,
    ) -> Result<Option<Unread<E>>, ClientError> {
        let Some(url) = url else { return Ok(None) };
        self.check(&url, from)?;
        let page = get_unread::<E>(self.fetcher, &url).await?;
        self.count(page.items, page.total_pages, page.total_elements);
        Ok(Some(page))
    }

    /// Refuses a page that was read before (a loop) or one past the page limit.
    fn check(&mut self, url: &str, from: Option<&str>) -> Result<(), ClientError> {
        if !self.visited.insert(normalise_url(url)) {
            return Err(ClientError::Loop {
                list: self.list.clone(),
                from: from.unwrap_or(url).to_owned(),
                next: url.to_owned(),
            });
        }
        if self.pages_done >= self.max_pages {
            return Err(ClientError::TooManyPages {
                list: self.list.clone(),
                url: url.to_owned(),
                limit: self.max_pages,
            });
        }
        Ok(())
    }

    fn count(&mut self, items: usize, total_pages: Option<u64>, total_elements: Option<u64>) {
        self.pages_done += 1;
        self.items_seen += items as u64;
        if self.pages_done == 1 {
            self.pages_known = total_pages;
            self.elements_known = total_elements;
        }
    }

    /// Did the list end before the page count the server announced?
    pub fn ended_early(&self) -> bool {
        self.pages_known.is_some_and(|known| self.pages_done < known)
    }
}

/// URLs compared for loop detection: the fragment does not matter, nor does the order of query parameters.
fn normalise_url(url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let mut params: Vec<&str> = query.split('&').filter(|param| !param.is_empty()).collect();
            params.sort_unstable();
            format!("{base}?{}", params.join("&"))
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_envelopes_arrays_and_error_objects() {
        let page = read_page(
            "u",
            json!({"data": [{"id": "a"}, null], "links": {"next": "u2"}, "pagination": {"totalElements": 3, "totalPages": 2}}),
        );
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next.as_deref(), Some("u2"));
        assert_eq!((page.total_elements, page.total_pages), (Some(3), Some(2)));

        let page = read_page("u", json!([]));
        assert!(page.items.is_empty() && page.next.is_none() && page.problem.is_none());

        let page = read_page("u", json!({"error": "Keine Daten gefunden"}));
        assert!(page.items.is_empty());
        assert_eq!(page.problem.as_deref(), Some("Keine Daten gefunden"));

        let page = read_page("u", json!({"data": {"id": "only"}}));
        assert_eq!(page.items.len(), 1);
    }

    #[test]
    fn loop_detection_ignores_parameter_order() {
        assert_eq!(normalise_url("https://x/p?page=2&body=1#top"), normalise_url("https://x/p?body=1&page=2"));
        assert_ne!(normalise_url("https://x/p?page=2"), normalise_url("https://x/p?page=3"));
    }
}

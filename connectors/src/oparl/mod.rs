//! `kind = "oparl"`: council records from any OParl 1.0/1.1 endpoint (ALLRIS 4, SessionNet, SD.NET RIM, …).
//!
//! From a System (or Body, or body list) URL the connector walks each body's lists — organizations, persons,
//! memberships, meetings (with agenda items), agenda items, papers (with consultations), consultations, files —
//! and normalises them into the unified model. Runs are full walks (the store tombstones what was not seen) or
//! incremental (`modified_since` = last run's start minus an overlap; `deleted: true` objects become tombstones).
//!
//! - [`config`]: the settings.
//! - [`client`]: list walking, pagination, loop detection.
//! - [`json`]: tolerant reading of what real servers send.
//! - [`objects`]: OParl objects as typed structs, read with the same tolerances.
//! - [`normalise`]: OParl objects → records.
//! - [`testing`]: a loopback HTTP server for tests and the benchmark.

pub mod client;
pub mod config;
pub mod json;
pub mod normalise;
pub mod objects;
pub mod testing;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::client::{ClientError, Pager, Unread};
use self::config::{List, Settings, UnmappedBodies};
use self::normalise::{At, Normalise, Normaliser};
use self::objects::{
    AgendaItemObject, ConsultationObject, FileObject, Item, MeetingObject, MembershipObject, OrganizationObject,
    PaperObject, PersonObject,
};
use crate::connector::{Connector, ConnectorError, RecordSink, Rejection, RunContext, RunOutcome, Source};
use crate::fetch::Fetcher;
use crate::model::{Ags, EntityKind, Partner, Record};
use crate::registry::{BuildResult, ConnectorSpec};
use crate::settings::FieldError;

/// The log target of progress events (`pages_done`, `pages_known` per list), for a progress bar in a terminal.
pub const PROGRESS_TARGET: &str = "ikz::progress";

pub struct OparlConnector {
    id: String,
    url: String,
    settings: Settings,
    entities: Vec<EntityKind>,
}

pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let settings = Settings::parse(spec.settings)?;
    let Source::Http(url) = &spec.source else {
        return Err(vec![FieldError::new("source", "the oparl kind reads an http(s) URL of an OParl System or Body")]);
    };
    let mut entities: Vec<EntityKind> =
        settings.lists.iter().flat_map(|list| list.entities().iter().copied()).collect();
    entities.sort_unstable();
    entities.dedup();
    Ok(Box::new(OparlConnector { id: spec.id.to_owned(), url: url.clone(), settings, entities }))
}

impl OparlConnector {
    /// A connector for `url` with `settings`, without a config file (tests, the benchmark).
    pub fn new(id: &str, url: &str, settings: Settings) -> Self {
        let mut entities: Vec<EntityKind> =
            settings.lists.iter().flat_map(|list| list.entities().iter().copied()).collect();
        entities.sort_unstable();
        entities.dedup();
        OparlConnector { id: id.to_owned(), url: url.to_owned(), settings, entities }
    }
}

#[async_trait]
impl Connector for OparlConnector {
    fn entities(&self) -> &[EntityKind] {
        &self.entities
    }

    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        let started = Utc::now();
        let mut warnings = Vec::new();
        let previous = Watermark::parse(ctx.watermark.as_deref(), &mut warnings);
        let full = match &previous {
            _ if !self.settings.incremental => true,
            None => true,
            Some(mark) => mark
                .last_full_walk
                .is_none_or(|last| started - last >= Duration::days(i64::from(self.settings.full_walk_every_days))),
        };
        let modified_since = match (&previous, full) {
            (Some(mark), false) => Some(mark.modified_since - Duration::minutes(self.settings.overlap_minutes as i64)),
            _ => None,
        };
        tracing::info!(connector = %self.id, full, modified_since = ?modified_since, "OParl run starts");
        let mut import = Import {
            connector: self,
            fetcher: ctx.fetcher,
            sink: ctx.sink,
            partner: ctx.partner,
            partners: ctx.partners,
            norm: Normaliser::new(!full),
            modified_since: modified_since.map(|since| since.to_rfc3339_opts(SecondsFormat::Secs, true)),
            complete: true,
            notes: Vec::new(),
            warnings_sent: 0,
            warnings_dropped: 0,
            reference_fetches: 0,
            pages: 0,
        };
        for warning in warnings {
            import.warn(warning);
        }
        import.run().await?;
        let watermark = Watermark {
            modified_since: started,
            last_full_walk: if full { Some(started) } else { previous.and_then(|mark| mark.last_full_walk) },
        };
        let mut notes = std::mem::take(&mut import.notes);
        let mut counts: Vec<(EntityKind, u64)> = import.norm.counts.iter().map(|(kind, n)| (*kind, *n)).collect();
        counts.sort_unstable();
        let summary: Vec<String> = counts.iter().map(|(kind, n)| format!("{kind}: {n}")).collect();
        notes.insert(
            0,
            format!(
                "{} walk, {} pages; {}; deleted in the source: {}",
                if full { "full" } else { "incremental" },
                import.pages,
                if summary.is_empty() { "no records".to_owned() } else { summary.join(", ") },
                import.norm.tombstones
            ),
        );
        if import.warnings_dropped > 0 {
            notes.push(format!("{} more warnings not listed", import.warnings_dropped));
        }
        Ok(RunOutcome {
            source_unchanged: false,
            complete: full && import.complete,
            watermark: Some(watermark.to_string()),
            notes,
        })
    }
}

/// What an OParl connector remembers between runs, stored as JSON by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    /// When the last run started: the next incremental run asks for what changed since then (minus the overlap).
    /// The server's `modified` values are not used: some servers fake them.
    pub modified_since: DateTime<Utc>,
    pub last_full_walk: Option<DateTime<Utc>>,
}

impl Watermark {
    fn parse(text: Option<&str>, warnings: &mut Vec<String>) -> Option<Watermark> {
        let text = text?.trim();
        if let Ok(mark) = serde_json::from_str::<Watermark>(text) {
            return Some(mark);
        }
        // A bare instant (set by hand): incremental from there.
        if let Some(instant) = json::parse_date_time(text) {
            return Some(Watermark { modified_since: instant, last_full_walk: Some(instant) });
        }
        warnings.push(format!("the stored watermark {text:?} is not understood; doing a full walk"));
        None
    }
}

impl std::fmt::Display for Watermark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

/// One run's state.
struct Import<'c, 'r> {
    connector: &'c OparlConnector,
    fetcher: &'r Fetcher,
    sink: &'r mut dyn RecordSink,
    partner: &'r Partner,
    partners: &'r [Partner],
    norm: Normaliser,
    modified_since: Option<String>,
    /// False once something was not read (a list that answers 404, a list that ended early): no tombstones then.
    complete: bool,
    notes: Vec<String>,
    warnings_sent: usize,
    warnings_dropped: usize,
    reference_fetches: usize,
    pages: u64,
}

fn client_error(error: ClientError) -> ConnectorError {
    match error {
        ClientError::Fetch(error) => {
            let (location, message) = match &error {
                crate::fetch::FetchError::Failed { location, message } => (location.clone(), message.clone()),
                other => (String::new(), other.to_string()),
            };
            if location.is_empty() {
                ConnectorError::Fetch { location: "OParl".to_owned(), message }
            } else {
                ConnectorError::Fetch { location, message }
            }
        }
        ClientError::Json { url, message } => ConnectorError::Parse { location: url, message },
        ClientError::Loop { ref list, .. } | ClientError::TooManyPages { ref list, .. } => {
            ConnectorError::Parse { location: format!("OParl {list} list"), message: error.to_string() }
        }
        ClientError::NotModified { url } => {
            ConnectorError::Fetch { location: url, message: "unexpected 304 Not Modified".to_owned() }
        }
    }
}

impl Import<'_, '_> {
    fn settings(&self) -> &Settings {
        &self.connector.settings
    }

    fn warn(&mut self, message: String) {
        tracing::warn!(connector = %self.connector.id, "{message}");
        if self.warnings_sent < self.settings().max_warnings {
            self.warnings_sent += 1;
            self.sink.warn(message);
        } else {
            self.warnings_dropped += 1;
        }
    }

    async fn run(&mut self) -> Result<(), ConnectorError> {
        let bodies = self.bodies().await?;
        if bodies.is_empty() {
            self.notes.push("the system lists no body".to_owned());
        }
        for (body, partner) in bodies {
            let body_name = json::text(&body, "name").unwrap_or_else(|| "?".to_owned());
            let lists = self.settings().lists.clone();
            for list in lists {
                let Some(url) = json::text(&body, list.body_key()) else {
                    tracing::debug!(body = %body_name, list = list.body_key(), "the body offers no such list");
                    continue;
                };
                match list {
                    List::Organization => self.walk::<OrganizationObject>(list, &url, &body_name, &partner).await?,
                    List::Person => self.walk::<PersonObject>(list, &url, &body_name, &partner).await?,
                    List::Membership => self.walk::<MembershipObject>(list, &url, &body_name, &partner).await?,
                    List::Meeting => self.walk::<MeetingObject>(list, &url, &body_name, &partner).await?,
                    List::AgendaItem => self.walk::<AgendaItemObject>(list, &url, &body_name, &partner).await?,
                    List::Paper => self.walk::<PaperObject>(list, &url, &body_name, &partner).await?,
                    List::Consultation => self.walk::<ConsultationObject>(list, &url, &body_name, &partner).await?,
                    List::File => self.walk::<FileObject>(list, &url, &body_name, &partner).await?,
                }
            }
        }
        self.finish_joins().await?;
        self.flush(true).await
    }

    /// The bodies to import with the partner slug each one belongs to.
    async fn bodies(&mut self) -> Result<Vec<(Value, String)>, ConnectorError> {
        let source = self.connector.url.clone();
        let root = client::get_json(self.fetcher, &source).await.map_err(client_error)?;
        let candidates = match json::type_name(&root).as_deref() {
            Some("System") => {
                let Some(list) = json::text(&root, "body") else {
                    return Err(ConnectorError::Parse {
                        location: source,
                        message: "the OParl System names no body list".to_owned(),
                    });
                };
                self.read_whole_list("body", &list).await?
            }
            Some("Body") => vec![root],
            _ if root.is_array() || root.get("data").is_some() => {
                let page = client::read_page(&source, root);
                let mut items = page.items;
                if let Some(next) = page.next {
                    items.extend(self.read_whole_list("body", &next).await?);
                }
                items
            }
            other => {
                return Err(ConnectorError::Parse {
                    location: source,
                    message: format!(
                        "expected an OParl System or Body, got {}",
                        other.map_or("an object without type".to_owned(), |t| format!("a {t}"))
                    ),
                })
            }
        };
        let mut bodies = Vec::new();
        for candidate in candidates {
            // A body list may hold references instead of objects.
            let body = match &candidate {
                Value::String(url) => client::get_json(self.fetcher, url).await.map_err(client_error)?,
                _ => candidate,
            };
            if let Some(partner) = self.partner_for(&body)? {
                bodies.push((body, partner));
            }
        }
        Ok(bodies)
    }

    async fn read_whole_list(&mut self, name: &str, url: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut pager = Pager::new(self.fetcher, name, self.settings().max_pages_per_list);
        let mut items = Vec::new();
        let mut next = Some(url.to_owned());
        let mut from: Option<String> = None;
        while let Some(page) = pager.fetch::<Value>(next.take(), from.as_deref()).await.map_err(client_error)? {
            self.pages += 1;
            items.extend(page.items);
            from = Some(page.url);
            next = page.next;
        }
        Ok(items)
    }

    /// Maps a body to a partner slug by `bodies`; checks its AGS against the partner's.
    fn partner_for(&mut self, body: &Value) -> Result<Option<String>, ConnectorError> {
        let url = json::text(body, "id").unwrap_or_default();
        let ags = json::text(body, "ags").and_then(|ags| Ags::parse(&ags).ok());
        let names: Vec<String> = ["name", "shortName"]
            .into_iter()
            .filter_map(|key| json::text(body, key))
            .map(|n| n.to_lowercase())
            .collect();
        let mapped = self.settings().bodies.iter().find_map(|(key, slug)| {
            let key_ags = Ags::parse(key).ok();
            let matches = *key == url
                || (key_ags.is_some() && key_ags == ags)
                || names.iter().any(|name| *name == key.trim().to_lowercase());
            matches.then(|| slug.clone())
        });
        let slug = match mapped {
            Some(slug) => slug,
            None if self.settings().bodies.is_empty() || self.settings().unmapped_bodies == UnmappedBodies::Partner => {
                self.partner.slug.clone()
            }
            None => {
                tracing::info!(body = %url, "body not mapped to a partner; skipped");
                return Ok(None);
            }
        };
        let partner = std::iter::once(self.partner).chain(self.partners.iter()).find(|partner| partner.slug == slug);
        let Some(partner) = partner else {
            return Err(ConnectorError::Parse {
                location: format!("connector {} setting bodies", self.connector.id),
                message: format!("body {url} is mapped to partner `{slug}`, which is not configured"),
            });
        };
        if let (Some(expected), Some(actual)) = (&partner.ags, &ags) {
            if expected != actual {
                let message = format!(
                    "body {url} has AGS {} but its partner `{slug}` has AGS {}; check the bodies mapping",
                    actual.as_str(),
                    expected.as_str()
                );
                self.warn(message);
            }
        }
        Ok(Some(slug))
    }

    /// The first page's URL with the run's filters.
    fn list_url(&self, url: &str) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(since) = &self.modified_since {
            params.push(("modified_since", since.clone()));
        }
        if let Some(limit) = self.settings().page_size {
            params.push(("limit", limit.to_string()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
        crate::fetch::with_query(url, &params)
    }

    /// Walks one list of one body, its objects read as `T`. Pages are fetched on this task, which reads only their
    /// envelopes (the next link); their items are read and normalised on a thread of their own ([`Normalising`]).
    /// So the next page is fetched while the ones before it are read and normalised, and the walk goes about as
    /// fast as the pages download. What the thread made of each page reaches the sink in page order, in the same
    /// calls as when normalising here.
    async fn walk<T: Normalise>(
        &mut self,
        list: List,
        url: &str,
        body: &str,
        partner: &str,
    ) -> Result<(), ConnectorError> {
        let fetcher = self.fetcher;
        let label = format!("{} ({body})", list.body_key());
        let mut pager = Pager::new(fetcher, label.clone(), self.settings().max_pages_per_list);
        let first_url = self.list_url(url);
        let page = match pager.fetch_unread::<Item<T>>(Some(first_url.clone()), None).await {
            Ok(page) => page,
            Err(error) if error.is_not_found() => {
                self.complete = false;
                self.warn(format!("the {label} list at {first_url} answers 404; skipped, so nothing is tombstoned"));
                return Ok(());
            }
            Err(error) => return Err(client_error(error)),
        };
        let norm = std::mem::take(&mut self.norm);
        let mut normalising = Normalising::<T>::start(norm, partner, self.settings().batch_size);
        let walked = self.walk_pages(&mut pager, page, &mut normalising, &label).await;
        // Every page handed over reaches the sink before a failed fetch is reported, as before the thread.
        let delivered = match &walked {
            Err(WalkError::Delivery(_)) => Ok(()),
            _ => self.deliver(&mut normalising, 0, &label).await,
        };
        self.norm = normalising.finish(&label).await?;
        delivered?;
        match walked {
            Ok(()) => {}
            Err(WalkError::Fetch(error) | WalkError::Delivery(error)) => return Err(error),
        }
        tracing::info!(target: PROGRESS_TARGET, connector = %self.connector.id, list = %label,
            pages_done = pager.pages_done, pages_known = pager.pages_done, items = pager.items_seen, "list done");
        if pager.ended_early() {
            self.complete = false;
            self.warn(format!(
                "the {label} list ended after {} of the {} pages its server announced; nothing is tombstoned",
                pager.pages_done,
                pager.pages_known.unwrap_or_default()
            ));
        } else if let Some(known) = pager.elements_known.filter(|known| *known != pager.items_seen) {
            // Servers miscount (deleted or hidden objects); worth telling, not worth failing.
            self.warn(format!("the {label} list announced {known} objects but held {}", pager.items_seen));
        }
        Ok(())
    }

    /// The page loop of [`Import::walk`]: hands each page to the normaliser thread, then fetches the next one
    /// while handing finished pages to the sink.
    async fn walk_pages<T: Normalise>(
        &mut self,
        pager: &mut Pager<'_>,
        mut page: Option<Unread<Item<T>>>,
        normalising: &mut Normalising<T>,
        label: &str,
    ) -> Result<(), WalkError> {
        while let Some(current) = page {
            self.pages += 1;
            let next = current.next.clone();
            let from = current.url.clone();
            normalising.send(current, label).map_err(WalkError::Delivery)?;
            let (fetched, delivered) = tokio::join!(
                pager.fetch_unread::<Item<T>>(next, Some(&from)),
                self.deliver(normalising, PAGES_AHEAD, label)
            );
            delivered.map_err(WalkError::Delivery)?;
            page = fetched.map_err(|error| WalkError::Fetch(client_error(error)))?;
            let pages_known = pager.pages_known.map(|known| known.max(pager.pages_done));
            if pager.pages_done.checked_rem(25) == Some(0) {
                tracing::info!(target: PROGRESS_TARGET, connector = %self.connector.id, list = %label,
                    pages_done = pager.pages_done, pages_known, "reading");
            } else {
                tracing::debug!(target: PROGRESS_TARGET, connector = %self.connector.id, list = %label,
                    pages_done = pager.pages_done, pages_known, "reading");
            }
        }
        Ok(())
    }

    /// Hands what the normaliser thread finished to the sink (warnings, rejections, full batches, page by page);
    /// waits for it while more than `keep` pages are still with it.
    async fn deliver<T>(
        &mut self,
        normalising: &mut Normalising<T>,
        keep: usize,
        label: &str,
    ) -> Result<(), ConnectorError> {
        if keep > 0 {
            // Beside a fetch (`walk_pages`): let the connection task send the request first, so the server works
            // on it while the sink takes the records. Polled in turn on one thread, the sink went first.
            tokio::task::yield_now().await;
        }
        loop {
            let done = if normalising.in_flight > keep {
                normalising.done.recv().await
            } else {
                match normalising.done.try_recv() {
                    Ok(done) => Some(done),
                    Err(_) => return Ok(()),
                }
            };
            // The thread stopped early (a panic): `finish` reports why.
            let Some(done) = done else { return Err(normaliser_stopped(label, "it stopped")) };
            normalising.in_flight -= 1;
            if let Some(error) = done.failed {
                return Err(client_error(error));
            }
            for message in done.warnings {
                self.warn(message);
            }
            for rejection in done.rejects {
                self.sink.reject(rejection).await?;
            }
            for batch in done.batches {
                self.sink.records(batch).await?;
            }
        }
    }

    /// Hands finished records, rejections and warnings to the sink; records in full batches unless `all`.
    async fn flush(&mut self, all: bool) -> Result<(), ConnectorError> {
        for message in std::mem::take(&mut self.norm.warnings) {
            self.warn(message);
        }
        for rejection in std::mem::take(&mut self.norm.rejects) {
            self.sink.reject(rejection).await?;
        }
        let batch_size = self.settings().batch_size;
        while let Some(batch) = self.norm.take_batch(batch_size, all) {
            self.sink.records(batch).await?;
        }
        Ok(())
    }

    /// Fetches a referenced object on its own (incremental joins); `None` if it answers 404 or the budget is spent.
    async fn fetch_reference(&mut self, url: &str, referrer: &str) -> Result<Option<Value>, ConnectorError> {
        if self.reference_fetches >= self.settings().max_reference_fetches {
            return Ok(None);
        }
        self.reference_fetches += 1;
        match client::get_json(self.fetcher, url).await {
            Ok(value) if value.is_object() => Ok(Some(value)),
            Ok(_) => {
                self.warn(format!("{url} (referenced by {referrer}) is not an object; kept the reference"));
                Ok(None)
            }
            Err(error) if error.is_not_found() => {
                self.warn(format!("{url} (referenced by {referrer}) answers 404; kept the reference"));
                Ok(None)
            }
            Err(error) => Err(client_error(error)),
        }
    }

    /// Completes what the lists alone did not: consultations whose agenda item was not read (incremental runs),
    /// agenda items waiting for their paper.
    async fn finish_joins(&mut self) -> Result<(), ConnectorError> {
        let deferred = std::mem::take(&mut self.norm.deferred);
        for item in deferred {
            if !self.norm.knows_agenda_item(&item.agenda_item) {
                let referrer = item.consultation.origin.source_key.clone();
                if let Some(object) = self.fetch_reference(&item.agenda_item, &referrer).await? {
                    self.norm.learn_agenda_item(&item.agenda_item, &object);
                }
            }
            self.norm.finish_deferred(item);
            self.flush(false).await?;
        }
        let pending = std::mem::take(&mut self.norm.pending_items);
        let incremental = self.modified_since.is_some();
        for item in pending {
            let mut paper = self.norm.paper_of(&item.consultation).cloned();
            if paper.is_none() && incremental {
                // The meeting changed but the paper did not: read the consultation to learn the paper, and
                // re-emit the consultation with the agenda item's (maybe new) result.
                let referrer = item.item.origin.source_key.clone();
                if let Some(object) = self.fetch_reference(&item.consultation, &referrer).await? {
                    paper = json::first_reference(&object, "paper");
                    let at_url = item.consultation.clone();
                    let partner = item.item.partner.clone();
                    match objects::object_of_value::<ConsultationObject>(&object) {
                        Ok(consultation) => {
                            self.norm.consultation(consultation, None, None, &partner, &At::root(&at_url));
                        }
                        Err(error) => self.warn(format!("{at_url} (referenced by {referrer}): {error}")),
                    }
                }
            }
            self.norm.finish_item(item, paper.as_deref());
            self.flush(false).await?;
        }
        if self.reference_fetches >= self.settings().max_reference_fetches && self.settings().max_reference_fetches > 0
        {
            self.notes.push(format!(
                "reached max_reference_fetches ({}); some results and agenda item papers wait for the next full walk",
                self.settings().max_reference_fetches
            ));
        }
        Ok(())
    }
}

/// Pages handed to the normaliser thread beyond the one just fetched: enough to ride out jitter of either side,
/// few enough to keep a run's memory to a few pages.
const PAGES_AHEAD: usize = 2;

/// Why a walk stopped: a fetch failed (the pages before it are still delivered), or delivering failed (the sink
/// failed, or a page's items could not be read): nothing more is delivered then.
enum WalkError {
    Fetch(ConnectorError),
    Delivery(ConnectorError),
}

fn normaliser_stopped(label: &str, why: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Parse { location: format!("OParl {label} list"), message: format!("normalising failed: {why}") }
}

/// What the normaliser thread made of one page, in the order [`Import::flush`] hands it to the sink.
struct Normalised {
    /// The page's items could not be read: the run fails with this error, after the pages before it.
    failed: Option<ClientError>,
    warnings: Vec<String>,
    rejects: Vec<Rejection>,
    batches: Vec<Vec<Record>>,
}

/// The normaliser of a run, moved to a blocking thread for one list walk (one thread a walk, not a task a page:
/// handing each page to `spawn_blocking` cost more than it saved, see [`client::get_page`]). Reading a page's
/// items and normalising them costs more than fetching it (bench_oparl), so on a core of its own it keeps the
/// import close to the download.
struct Normalising<T> {
    pages: std::sync::mpsc::Sender<Unread<Item<T>>>,
    done: tokio::sync::mpsc::UnboundedReceiver<Normalised>,
    worker: tokio::task::JoinHandle<Normaliser>,
    /// Pages sent whose results were not handed to the sink yet.
    in_flight: usize,
}

impl<T: Normalise> Normalising<T> {
    fn start(norm: Normaliser, partner: &str, batch_size: usize) -> Self {
        let (pages, incoming) = std::sync::mpsc::channel::<Unread<Item<T>>>();
        let (finished, done) = tokio::sync::mpsc::unbounded_channel();
        let partner = partner.to_owned();
        let worker = tokio::task::spawn_blocking(move || {
            let mut norm = norm;
            // Ends when the walk drops its sender (the list ended, or the run failed).
            for page in incoming {
                let page = match page.read() {
                    Ok(page) => page,
                    Err(error) => {
                        let failed = Some(error);
                        // Nothing after a failed page is read, as when the walk read pages itself.
                        let _ =
                            finished.send(Normalised { failed, warnings: vec![], rejects: vec![], batches: vec![] });
                        break;
                    }
                };
                let mut warnings = Vec::new();
                if let Some(problem) = &page.problem {
                    warnings.push(format!("{}: read as an empty page: {problem}", page.url));
                }
                for (index, item) in page.items.into_iter().enumerate() {
                    norm.list_item(item, &partner, &At::item(&page.url, index));
                }
                warnings.append(&mut norm.warnings);
                let rejects = std::mem::take(&mut norm.rejects);
                let batches = std::iter::from_fn(|| norm.take_batch(batch_size, false)).collect();
                if finished.send(Normalised { failed: None, warnings, rejects, batches }).is_err() {
                    break;
                }
            }
            norm
        });
        Normalising { pages, done, worker, in_flight: 0 }
    }
}

impl<T> Normalising<T> {
    fn send(&mut self, page: Unread<Item<T>>, label: &str) -> Result<(), ConnectorError> {
        self.pages.send(page).map_err(|_| normaliser_stopped(label, "it stopped"))?;
        self.in_flight += 1;
        Ok(())
    }

    /// Ends the thread and takes the normaliser back.
    async fn finish(self, label: &str) -> Result<Normaliser, ConnectorError> {
        drop(self.pages);
        self.worker.await.map_err(|error| normaliser_stopped(label, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_round_trip_and_accept_bare_instants() {
        let mut warnings = Vec::new();
        let mark = Watermark { modified_since: Utc::now(), last_full_walk: None };
        let parsed = Watermark::parse(Some(&mark.to_string()), &mut warnings);
        assert_eq!(parsed.map(|m| m.modified_since.timestamp()), Some(mark.modified_since.timestamp()));
        let bare = Watermark::parse(Some("2024-03-01T10:00:00+01:00"), &mut warnings).expect("bare instant");
        assert_eq!(bare.modified_since.to_rfc3339(), "2024-03-01T09:00:00+00:00");
        assert!(Watermark::parse(Some("gestern"), &mut warnings).is_none());
        assert_eq!(warnings.len(), 1);
    }
}

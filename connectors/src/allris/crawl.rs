//! The crawl: calendar months of the window → meetings (to010) → agenda items (to020) → papers (vo020), and the
//! meetings those papers were consulted in while they fall into the window. Pages are read one after the other;
//! the shared fetcher adds the per-host limit, delay and retries. A page that cannot be read or does not fit is
//! rejected with its location and the crawl goes on. In XML mode (`mode = "xml"`, classic only) calendar months,
//! meetings and agenda items are fetched as ALLRIS's XML export; what the calendar export says about a meeting
//! (date, times, name) completes a meeting export that leaves it out. Records link to the HTML pages in both modes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::config::{Mode, Settings};
use super::page::{parse_page, Flavour, MeetingPage, PageContent, PageError, ParsedPage};
use super::records::{self, Links};
use crate::connector::{ConnectorError, Rejection, RunContext, RunOutcome, Source};
use crate::fetch::Fetched;
use crate::model::Record;

/// A page of the site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Calendar { year: i32, month: u32 },
    Meeting(String),
    AgendaItem(String),
    Paper(String),
}

/// Where the site's pages are: a base URL or a saved site's folder.
pub(crate) struct Site {
    pub source: Source,
    pub flavour: Flavour,
    pub mode: Mode,
    pub calendar_page: String,
    pub public_base_url: Option<String>,
}

/// The query that turns a classic page into its XML export.
const EXPORT: &str = "selfaction=ws&template=xyz";

impl Site {
    /// The page a reader opens, relative to the site: "vo020.asp?VOLFDNR=12" (classic) or "vo020?VOLFDNR=12"
    /// (ALLRIS 4). Records link here in both modes.
    fn relative(&self, target: &Target) -> String {
        let suffix = if self.flavour == Flavour::Classic { ".asp" } else { "" };
        match target {
            Target::Calendar { year, month } => format!("{}?MM={month:02}&YY={year}", self.calendar_page),
            Target::Meeting(id) => format!("to010{suffix}?SILFDNR={id}"),
            Target::AgendaItem(id) => format!("to020{suffix}?TOLFDNR={id}"),
            Target::Paper(id) => format!("vo020{suffix}?VOLFDNR={id}"),
        }
    }

    /// What is fetched: the page, or in XML mode the export of calendar months, meetings and agenda items.
    fn fetched(&self, target: &Target) -> String {
        if self.mode == Mode::Html {
            return self.relative(target);
        }
        match target {
            Target::Calendar { year, month } => {
                let first = NaiveDate::from_ymd_opt(*year, *month, 1);
                let last =
                    first.and_then(|first| first.checked_add_months(Months::new(1))).and_then(|next| next.pred_opt());
                match (first, last) {
                    (Some(first), Some(last)) => format!(
                        "{}?{EXPORT}&kaldatvon={}&kaldatbis={}",
                        self.calendar_page,
                        first.format("%d.%m.%Y"),
                        last.format("%d.%m.%Y")
                    ),
                    _ => self.relative(target),
                }
            }
            Target::Meeting(id) => format!("to010.asp?{EXPORT}&SILFDNR={id}"),
            Target::AgendaItem(id) => format!("to020.asp?{EXPORT}&TOLFDNR={id}"),
            Target::Paper(_) => self.relative(target),
        }
    }

    /// A saved site holds `si010/2019-11.html`, `to010/<SILFDNR>.html`, `to020/<TOLFDNR>.html`, `vo020/<VOLFDNR>.html`;
    /// in XML mode the calendar months, meetings and agenda items as `.xml`.
    fn saved_file(&self, folder: &std::path::Path, target: &Target) -> PathBuf {
        let export = if self.mode == Mode::Xml { "xml" } else { "html" };
        match target {
            Target::Calendar { year, month } => folder.join("si010").join(format!("{year}-{month:02}.{export}")),
            Target::Meeting(id) => folder.join("to010").join(format!("{id}.{export}")),
            Target::AgendaItem(id) => folder.join("to020").join(format!("{id}.{export}")),
            Target::Paper(id) => folder.join("vo020").join(format!("{id}.html")),
        }
    }

    fn join(base: &str, relative: &str) -> Option<String> {
        let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        reqwest::Url::parse(&base).and_then(|base| base.join(relative)).ok().map(|url| url.to_string())
    }

    /// Where the page is read from: its URL or file path.
    fn location(&self, target: &Target) -> String {
        match &self.source {
            Source::Http(base) => {
                Self::join(base, &self.fetched(target)).unwrap_or_else(|| format!("{base}{}", self.fetched(target)))
            }
            Source::File(folder) => self.saved_file(folder, target).display().to_string(),
        }
    }

    /// The page's public address for `source_url`.
    fn public_url(&self, target: &Target) -> Option<String> {
        match (&self.source, &self.public_base_url) {
            (Source::Http(base), _) => Self::join(base, &self.relative(target)),
            (Source::File(_), Some(base)) => Self::join(base, &self.relative(target)),
            (Source::File(_), None) => None,
        }
    }

    /// Reads one page; `Ok(None)` is a calendar month the saved site does not hold (no meetings that month).
    async fn read(&self, fetcher: &crate::fetch::Fetcher, target: &Target) -> Result<Option<Vec<u8>>, String> {
        let fetched = match &self.source {
            Source::File(folder) => {
                let path = self.saved_file(folder, target);
                if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                    return match target {
                        Target::Calendar { .. } => Ok(None),
                        _ => Err("the page is not in the saved site".to_owned()),
                    };
                }
                fetcher.read(&Source::File(path), None).await
            }
            Source::Http(_) => fetcher.get(&self.location(target), None).await,
        };
        match fetched {
            Ok(Fetched::Body(body)) => Ok(Some(body.bytes)),
            Ok(Fetched::NotModified) => Ok(None),
            Err(error) => Err(error.to_string()),
        }
    }
}

impl Links for Site {
    fn paper(&self, volfdnr: &str) -> Option<String> {
        self.public_url(&Target::Paper(volfdnr.to_owned()))
    }
    fn meeting(&self, silfdnr: &str) -> Option<String> {
        self.public_url(&Target::Meeting(silfdnr.to_owned()))
    }
    fn agenda_item(&self, tolfdnr: &str) -> Option<String> {
        self.public_url(&Target::AgendaItem(tolfdnr.to_owned()))
    }
}

/// What the connector keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Watermark {
    /// The first run's start: the history before the window has been read once.
    pub crawled_from: NaiveDate,
    /// The day of the last successful run.
    pub last_run: NaiveDate,
}

/// The months a run walks: from the start date (first run) or the window's start, to the window's end.
pub(crate) fn months(settings: &Settings, watermark: Option<&Watermark>, today: NaiveDate) -> (NaiveDate, Vec<Target>) {
    let back = today.checked_sub_months(Months::new(settings.window_months_back)).unwrap_or(today);
    let from = match watermark {
        Some(_) => back,
        None => settings.start_date.unwrap_or(back),
    };
    let until = today.checked_add_months(Months::new(settings.window_months_ahead)).unwrap_or(today);
    let mut targets = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap_or(from);
    while month <= until {
        targets.push(Target::Calendar { year: month.year(), month: month.month() });
        let Some(next) = month.checked_add_months(Months::new(1)) else { break };
        month = next;
    }
    (from, targets)
}

struct Crawl<'s, 'c> {
    site: &'s Site,
    settings: &'s Settings,
    partner: String,
    window: (NaiveDate, NaiveDate),
    queue: VecDeque<Target>,
    queued: HashSet<Target>,
    emitted: HashSet<String>,
    /// What agendas said about papers, for papers that turn out not to be public.
    paper_hints: HashMap<String, (Option<String>, String)>,
    /// What XML calendars said about meetings, for meeting exports without date or name.
    listed: HashMap<String, MeetingPage>,
    pages: usize,
    rejected: usize,
    not_public: usize,
    truncated: bool,
    ctx: RunContext<'c>,
}

pub(crate) async fn run(site: &Site, settings: &Settings, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let previous: Option<Watermark> = ctx.watermark.as_deref().and_then(|text| serde_json::from_str(text).ok());
    if ctx.watermark.is_some() && previous.is_none() {
        ctx.sink.warn("the stored ALLRIS watermark is unreadable; walking from the start date again".to_owned());
    }
    let (from, months) = months(settings, previous.as_ref(), today);
    let until = today.checked_add_months(Months::new(settings.window_months_ahead)).unwrap_or(today);
    let mut crawl = Crawl {
        site,
        settings,
        partner: ctx.partner.slug.clone(),
        window: (from, until),
        queued: months.iter().cloned().collect(),
        queue: months.into(),
        emitted: HashSet::new(),
        paper_hints: HashMap::new(),
        listed: HashMap::new(),
        pages: 0,
        rejected: 0,
        not_public: 0,
        truncated: false,
        ctx,
    };
    tracing::info!(from = %from, until = %until, source = %site.source.describe(), "ALLRIS crawl starts");
    while let Some(target) = crawl.queue.pop_front() {
        if crawl.pages >= settings.max_pages {
            crawl.truncated = true;
            break;
        }
        crawl.visit(target).await?;
    }
    let mut notes = vec![format!(
        "ALLRIS {from} – {until}: {} pages read, {} rejected, {} not public",
        crawl.pages, crawl.rejected, crawl.not_public
    )];
    if crawl.truncated {
        let message =
            format!("stopped after max_pages = {} pages; {} pages left", settings.max_pages, crawl.queue.len() + 1);
        crawl.ctx.sink.warn(message.clone());
        notes.push(message);
    }
    let watermark =
        Watermark { crawled_from: previous.map(|previous| previous.crawled_from).unwrap_or(from), last_run: today };
    Ok(RunOutcome {
        source_unchanged: false,
        // A window never sees the whole site, so nothing may be tombstoned.
        complete: false,
        watermark: serde_json::to_string(&watermark).ok(),
        notes,
    })
}

impl Crawl<'_, '_> {
    fn enqueue(&mut self, target: Target) {
        if self.queued.insert(target.clone()) {
            self.queue.push_back(target);
        }
    }

    async fn reject(&mut self, location: String, field: Option<String>, message: String) -> Result<(), ConnectorError> {
        self.rejected += 1;
        tracing::warn!(%location, %message, "ALLRIS page rejected");
        self.ctx.sink.reject(Rejection { location, field, value: None, message }).await?;
        Ok(())
    }

    /// Reads and parses one page; a failure is rejected and yields None.
    async fn page(&mut self, target: &Target) -> Result<Option<ParsedPage>, ConnectorError> {
        let location = self.site.location(target);
        self.pages += 1;
        let bytes = match self.site.read(self.ctx.fetcher, target).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            Err(message) => {
                self.reject(location, None, message).await?;
                return Ok(None);
            }
        };
        match parse_page(&bytes, Some(&location)) {
            Ok(page) => Ok(Some(page)),
            Err(PageError { field, message }) => {
                self.reject(location, field, message).await?;
                Ok(None)
            }
        }
    }

    async fn emit(&mut self, records: Vec<Record>) -> Result<(), ConnectorError> {
        let fresh: Vec<Record> =
            records.into_iter().filter(|record| self.emitted.insert(record.id().to_owned())).collect();
        if !fresh.is_empty() {
            self.ctx.sink.records(fresh).await?;
        }
        Ok(())
    }

    fn in_window(&self, date: Option<NaiveDate>) -> bool {
        date.is_some_and(|date| date >= self.window.0 && date <= self.window.1)
    }

    async fn visit(&mut self, target: Target) -> Result<(), ConnectorError> {
        let location = self.site.location(&target);
        let Some(page) = self.page(&target).await? else { return Ok(()) };
        let wrong_kind = |expected: &str| format!("expected {expected}, the page is another kind");
        match (&target, page.content) {
            (_, PageContent::NotPublic) => {
                self.not_public += 1;
                if let Target::Paper(volfdnr) = &target {
                    if let Some((reference, subject)) = self.paper_hints.get(volfdnr).cloned() {
                        let record = records::hidden_paper(&self.partner, volfdnr, reference, subject);
                        self.emit(vec![record]).await?;
                    }
                }
            }
            (Target::Calendar { .. }, PageContent::Calendar(calendar)) => {
                for listed in calendar.listed {
                    if let Some(silfdnr) = listed.silfdnr.clone() {
                        self.listed.insert(silfdnr, listed);
                    }
                }
                for silfdnr in calendar.meetings {
                    self.enqueue(Target::Meeting(silfdnr));
                }
            }
            (Target::Meeting(silfdnr), PageContent::Meeting(mut meeting)) => {
                meeting.silfdnr.get_or_insert_with(|| silfdnr.clone());
                if let Some(listed) = self.listed.get(silfdnr) {
                    complete_from_calendar(&mut meeting, listed);
                }
                if meeting.date.is_none() {
                    let message = "the meeting has no date, and no calendar month lists it".to_owned();
                    return self.reject(location, Some("Datum".into()), message).await;
                }
                self.meeting(&location, meeting).await?;
            }
            (Target::Paper(volfdnr), PageContent::Paper(mut paper)) => {
                paper.volfdnr = Some(volfdnr.clone());
                match records::paper(&self.partner, &paper, self.site) {
                    Ok(records) => self.emit(records).await?,
                    Err(PageError { field, message }) => self.reject(location, field, message).await?,
                }
                for station in &paper.consultations {
                    if let Some(silfdnr) = &station.meeting_silfdnr {
                        if self.in_window(station.date) {
                            self.enqueue(Target::Meeting(silfdnr.clone()));
                        }
                    }
                }
            }
            (Target::Calendar { .. }, _) => self.reject(location, None, wrong_kind("a calendar page (si010)")).await?,
            (Target::Meeting(_), _) => self.reject(location, None, wrong_kind("a meeting page (to010)")).await?,
            (Target::Paper(_), _) => self.reject(location, None, wrong_kind("a paper page (vo020)")).await?,
            (Target::AgendaItem(_), _) => {}
        }
        Ok(())
    }

    async fn meeting(&mut self, location: &str, meeting: super::page::MeetingPage) -> Result<(), ConnectorError> {
        let silfdnr = meeting.silfdnr.clone().unwrap_or_default();
        let mut records = match records::meeting(&self.partner, &meeting, self.site) {
            Ok(records) => records,
            Err(PageError { field, message }) => return self.reject(location.to_owned(), field, message).await,
        };
        for row in &meeting.agenda {
            let mut detail = None;
            if self.settings.agenda_item_pages {
                let target = Target::AgendaItem(row.tolfdnr.clone());
                if self.queued.insert(target.clone()) {
                    match self.page(&target).await? {
                        Some(ParsedPage { content: PageContent::AgendaItem(item), .. }) => detail = Some(item),
                        Some(ParsedPage { content: PageContent::NotPublic, .. }) => self.not_public += 1,
                        Some(_) => {
                            let location = self.site.location(&target);
                            self.reject(location, None, "expected an agenda item page (to020)".into()).await?;
                        }
                        None => {}
                    }
                }
            }
            records.push(records::agenda_item(&self.partner, &silfdnr, row, detail.as_ref(), self.site));
            let paper =
                row.paper_volfdnr.clone().or_else(|| detail.as_ref().and_then(|detail| detail.paper_volfdnr.clone()));
            if let (Some(volfdnr), true) = (paper, self.settings.papers) {
                self.paper_hints
                    .entry(volfdnr.clone())
                    .or_insert_with(|| (row.paper_reference.clone(), row.name.clone()));
                self.enqueue(Target::Paper(volfdnr));
            }
        }
        self.emit(records).await
    }
}

/// Fills what a meeting's export leaves out from its calendar entry.
fn complete_from_calendar(meeting: &mut MeetingPage, listed: &MeetingPage) {
    if meeting.date.is_none() {
        (meeting.date, meeting.start_time, meeting.end_time) = (listed.date, listed.start_time, listed.end_time);
    }
    let fill = |own: &mut Option<String>, other: &Option<String>| {
        if own.is_none() {
            own.clone_from(other);
        }
    };
    fill(&mut meeting.name, &listed.name);
    fill(&mut meeting.committee, &listed.committee);
    fill(&mut meeting.status, &listed.status);
    fill(&mut meeting.room, &listed.room);
    fill(&mut meeting.place, &listed.place);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(start: Option<NaiveDate>) -> Settings {
        let mut table = toml::Table::new();
        if let Some(start) = start {
            table.insert("start_date".into(), toml::Value::String(start.to_string()));
        }
        crate::settings::parse_settings(&table).expect("settings")
    }

    #[test]
    fn first_run_starts_at_the_start_date_later_runs_walk_the_window() {
        let today = NaiveDate::from_ymd_opt(2020, 1, 15).expect("date");
        let (from, first) = months(&settings(NaiveDate::from_ymd_opt(2019, 10, 1)), None, today);
        assert_eq!(from, NaiveDate::from_ymd_opt(2019, 10, 1).expect("date"));
        assert_eq!(first.first(), Some(&Target::Calendar { year: 2019, month: 10 }));
        assert_eq!(first.last(), Some(&Target::Calendar { year: 2020, month: 7 }));
        let watermark = Watermark { crawled_from: from, last_run: today };
        let (_, later) = months(&settings(NaiveDate::from_ymd_opt(2019, 10, 1)), Some(&watermark), today);
        assert_eq!(later.first(), Some(&Target::Calendar { year: 2019, month: 10 }));
        assert_eq!(later.len(), 10);
    }

    #[test]
    fn classic_and_allris4_page_addresses() {
        let mut site = Site {
            source: Source::Http("https://ris.example/bi".into()),
            flavour: Flavour::Classic,
            mode: Mode::Html,
            calendar_page: "si010_e.asp".into(),
            public_base_url: None,
        };
        assert_eq!(site.location(&Target::Paper("12".into())), "https://ris.example/bi/vo020.asp?VOLFDNR=12");
        assert_eq!(
            site.location(&Target::Calendar { year: 2019, month: 11 }),
            "https://ris.example/bi/si010_e.asp?MM=11&YY=2019"
        );
        site.flavour = Flavour::Allris4;
        assert_eq!(site.location(&Target::Meeting("7".into())), "https://ris.example/bi/to010?SILFDNR=7");
        let saved = Site { source: Source::File("/srv/site".into()), ..site };
        assert_eq!(saved.location(&Target::AgendaItem("5".into())), "/srv/site/to020/5.html");
        assert_eq!(saved.public_url(&Target::AgendaItem("5".into())), None);
    }

    #[test]
    fn xml_mode_fetches_the_export_and_links_the_pages() {
        let site = Site {
            source: Source::Http("https://ris.example/bi/".into()),
            flavour: Flavour::Classic,
            mode: Mode::Xml,
            calendar_page: "si010.asp".into(),
            public_base_url: None,
        };
        assert_eq!(
            site.location(&Target::Calendar { year: 2020, month: 2 }),
            "https://ris.example/bi/si010.asp?selfaction=ws&template=xyz&kaldatvon=01.02.2020&kaldatbis=29.02.2020"
        );
        assert_eq!(
            site.location(&Target::Meeting("7".into())),
            "https://ris.example/bi/to010.asp?selfaction=ws&template=xyz&SILFDNR=7"
        );
        assert_eq!(
            site.public_url(&Target::Meeting("7".into())).as_deref(),
            Some("https://ris.example/bi/to010.asp?SILFDNR=7")
        );
        assert_eq!(site.location(&Target::Paper("12".into())), "https://ris.example/bi/vo020.asp?VOLFDNR=12");
        let saved = Site { source: Source::File("/srv/site".into()), ..site };
        assert_eq!(saved.location(&Target::AgendaItem("5".into())), "/srv/site/to020/5.xml");
        assert_eq!(saved.location(&Target::Paper("12".into())), "/srv/site/vo020/12.html");
    }
}

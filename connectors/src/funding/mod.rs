//! Funding exports: `kind = "funding"` (generic record mapping for XML, JSON, CSV and XLSX onto funding programs,
//! budgets and applications) and `kind = "foerderkatalog"` (the federal Förderkatalog CSV export, a built-in format).
//!
//! Glossary: Förderprogramm = funding program; Maßnahme = measure (DigitalPakt NI: 2.1 … 2.8); Budget = the money
//! reserved for a Schulträger (school authority); Antrag = application; Bewilligung = approval; Auszahlung =
//! disbursement; FKZ (Förderkennzeichen) = a federal grant's reference.
//!
//! Programs are data: the store holds them as `funding_program` records, kept by hand in a JSON-lines file imported by
//! the `records` kind. A funding connector names its program (`program = "digitalpakt-schule-ni"`) and that file
//! (`programs = "demo/funding-programs.jsonl"`); it reads the program's measure codes from there at every run, so an
//! application with a measure the program does not have is rejected with its location and field.
//!
//! - [`config`]: the `funding` kind's settings.
//! - [`programs`]: programs and their measures from the records file.
//! - [`map`]: a source record (any format) → a unified record, with the checks.
//! - [`xml`], [`json`], [`table`]: the formats.
//! - [`foerderkatalog`]: the Förderkatalog CSV.

pub mod config;
pub mod foerderkatalog;
pub mod json;
pub mod map;
pub mod programs;
pub mod table;
pub mod xml;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use self::config::{Config, Format};
use self::map::{Mapping, Warnings};
use self::programs::ProgramInfo;
use crate::connector::{Connector, ConnectorError, Rejection, RunContext, RunOutcome, Source};
use crate::fetch::{Fetched, Validators};
use crate::model::{EntityKind, Record};
use crate::registry::{BuildResult, ConnectorSpec};
use crate::spreadsheet::mapping::Event;
use crate::spreadsheet::SpreadsheetError;

/// Why reading a funding source stopped.
#[derive(Debug, Error)]
pub enum FundingError {
    /// The source is not readable as a whole (XML not well formed, not JSON, a missing header): the run fails.
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    /// The receiving side went away (the import run failed).
    #[error("the import run stopped receiving records")]
    Stopped,
}

impl From<SpreadsheetError> for FundingError {
    fn from(error: SpreadsheetError) -> Self {
        match error {
            SpreadsheetError::Stopped => FundingError::Stopped,
            other => FundingError::Parse { location: String::new(), message: other.to_string() },
        }
    }
}

/// Where events go: a channel to the async side, or a collector.
pub type Output<'o> = dyn FnMut(Event) -> Result<(), FundingError> + 'o;

/// Counts for the run summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub records: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub notes: Vec<String>,
    /// The walk stopped early (a page limit): nothing may be tombstoned.
    pub incomplete: bool,
}

/// What a [`Batcher`] carries from one page of a paged source to the next.
#[derive(Default)]
pub struct BatcherState {
    /// Per record id emitted so far: the first 16 bytes of its SHA-256 → its number in the source (records and
    /// rejects counted from 1). 24 bytes a record instead of id and location strings (~150 bytes): a 200,000-record
    /// export keeps ~7 MB here, and nothing else grows with the file.
    seen: HashMap<u128, u64>,
    warnings: Warnings,
    pub summary: Summary,
}

/// Collects records into batches, rejects a second record with an id already emitted, deduplicates warnings.
pub struct Batcher<'o> {
    batch_size: usize,
    batch: Vec<Record>,
    state: BatcherState,
    out: &'o mut Output<'o>,
}

impl<'o> Batcher<'o> {
    pub fn new(batch_size: usize, out: &'o mut Output<'o>) -> Self {
        Batcher::resume(batch_size, out, BatcherState::default())
    }

    /// Continues with the state of an earlier page.
    pub fn resume(batch_size: usize, out: &'o mut Output<'o>, state: BatcherState) -> Self {
        Batcher { batch_size: batch_size.max(1), batch: Vec::with_capacity(batch_size.min(4096)), state, out }
    }

    /// Hands on the pending batch and returns the state for the next page.
    pub fn suspend(mut self) -> Result<BatcherState, FundingError> {
        if !self.batch.is_empty() {
            (self.out)(Event::Records(std::mem::take(&mut self.batch)))?;
        }
        Ok(self.state)
    }

    pub fn summary(&mut self) -> &mut Summary {
        &mut self.state.summary
    }

    /// A record found at `location`; `key_field` names the field its id comes from, for the duplicate reject.
    pub fn record(
        &mut self,
        record: Record,
        location: impl std::fmt::Display,
        key_field: &str,
    ) -> Result<(), FundingError> {
        let number = self.state.summary.records + self.state.summary.rejected + 1;
        let digest = Sha256::digest(record.id().as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        if let Some(previous) = self.state.seen.get(&u128::from_le_bytes(key)).copied() {
            let key = record.origin().source_key.clone();
            return self.reject(Rejection {
                location: location.to_string(),
                field: Some(key_field.to_owned()),
                value: Some(key),
                message: format!("the same {} appears earlier in this source, as record {previous}", record.kind()),
            });
        }
        self.state.seen.insert(u128::from_le_bytes(key), number);
        self.state.summary.records += 1;
        self.batch.push(record);
        if self.batch.len() >= self.batch_size {
            (self.out)(Event::Records(std::mem::take(&mut self.batch)))?;
        }
        Ok(())
    }

    pub fn reject(&mut self, rejection: Rejection) -> Result<(), FundingError> {
        self.state.summary.rejected += 1;
        (self.out)(Event::Reject(rejection))
    }

    pub fn warn(&mut self, message: String) -> Result<(), FundingError> {
        if self.state.warnings.first_time(&message) {
            (self.out)(Event::Warn(message))?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Summary, FundingError> {
        Ok(self.suspend()?.summary)
    }

    /// Maps one raw record and hands on the record, the reject and the warnings.
    pub fn map(&mut self, mapping: &Mapping<'_>, raw: &map::Raw) -> Result<(), FundingError> {
        let mut warnings = Vec::new();
        let result = mapping.map(raw, &mut |message| warnings.push(message));
        for message in warnings {
            self.warn(message)?;
        }
        match result {
            Ok(record) => {
                let key_field = match mapping.config.target {
                    config::Target::FundingProgram => "id",
                    config::Target::FundingBudget => "key",
                    config::Target::FundingApplication => "reference",
                };
                self.record(record, &raw.location, key_field)
            }
            Err(problem) => self.reject(Rejection {
                location: match &problem.place {
                    Some(place) => format!("{}, {place}", raw.location),
                    None => raw.location.to_string(),
                },
                field: Some(problem.field),
                value: problem.value,
                message: problem.message,
            }),
        }
    }
}

/// What a file-reading connector stores between runs: the source's validators and a hash of its settings.
#[derive(Debug, Serialize, Deserialize)]
struct Watermark {
    validators: Validators,
    settings: String,
}

fn settings_hash(settings: &toml::Table) -> String {
    let mut hasher = Sha256::new();
    hasher.update(settings.to_string().as_bytes());
    hasher.finalize()[..8].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What a source is parsed from.
pub enum Input {
    Bytes(Vec<u8>),
    /// A local XML file, streamed by the reader instead of read whole.
    File(std::path::PathBuf),
}

impl Input {
    /// The whole source, for the formats that need it at once (tables, JSON, the Förderkatalog CSV).
    pub fn into_bytes(self, file: &str) -> Result<Vec<u8>, FundingError> {
        match self {
            Input::Bytes(bytes) => Ok(bytes),
            Input::File(path) => std::fs::read(&path)
                .map_err(|error| FundingError::Parse { location: file.to_owned(), message: error.to_string() }),
        }
    }
}

/// Reads the source, conditionally on the last run's watermark: `Ok(None)` when it has not changed. A local file is
/// only checked, not read, when `stream_files` (the XML reader streams it itself).
async fn read_source(
    fetcher: &crate::fetch::Fetcher,
    watermark: Option<&str>,
    source: &Source,
    settings_hash: &str,
    stream_files: bool,
) -> Result<Option<(Input, Option<String>)>, ConnectorError> {
    let location = source.describe();
    let previous = watermark
        .and_then(|text| serde_json::from_str::<Watermark>(text).ok())
        .filter(|watermark| watermark.settings == settings_hash);
    let previous = previous.as_ref().map(|watermark| &watermark.validators);
    let fetch_error = |error: crate::fetch::FetchError| ConnectorError::Fetch {
        location: location.clone(),
        message: error.to_string(),
    };
    let (input, validators) = match source {
        Source::File(path) if stream_files => {
            match fetcher.file_validators(path, previous).await.map_err(fetch_error)? {
                None => return Ok(None),
                Some(validators) => (Input::File(path.clone()), validators),
            }
        }
        _ => match fetcher.read(source, previous).await.map_err(fetch_error)? {
            Fetched::NotModified => return Ok(None),
            Fetched::Body(body) => (Input::Bytes(body.bytes), body.validators),
        },
    };
    let watermark = serde_json::to_string(&Watermark { validators, settings: settings_hash.to_owned() }).ok();
    Ok(Some((input, watermark)))
}

fn unchanged(watermark: Option<String>, location: &str) -> RunOutcome {
    tracing::info!(source = %location, "funding source unchanged since the last run");
    // Nothing was read, so nothing may be tombstoned: `complete` stays false.
    RunOutcome {
        source_unchanged: true,
        complete: false,
        watermark,
        notes: vec!["source unchanged since the last run".to_owned()],
    }
}

/// Runs `parse` on a blocking thread and forwards its events to the sink as they come, so reading overlaps with the
/// store writing and memory stays bounded.
async fn parse_in_background<F>(ctx: &mut RunContext<'_>, location: &str, parse: F) -> Result<Summary, ConnectorError>
where
    F: FnOnce(&mut Output<'_>) -> Result<Summary, FundingError> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Event>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let mut out = |event: Event| sender.blocking_send(event).map_err(|_| FundingError::Stopped);
        parse(&mut out)
    });
    let mut sink_error = None;
    while let Some(event) = receiver.recv().await {
        let delivered = match event {
            Event::Records(batch) => ctx.sink.records(batch).await,
            Event::Reject(rejection) => ctx.sink.reject(rejection).await,
            Event::Warn(message) => {
                ctx.sink.warn(message);
                Ok(())
            }
        };
        if let Err(error) = delivered {
            sink_error = Some(error);
            break;
        }
    }
    // Closing the channel stops the reader thread at its next send.
    drop(receiver);
    let parsed = reader.await.map_err(|error| ConnectorError::Parse {
        location: location.to_owned(),
        message: format!("the reader thread failed: {error}"),
    })?;
    if let Some(error) = sink_error {
        return Err(error.into());
    }
    parsed.map_err(|error| match error {
        FundingError::Parse { location: at, message } if !at.is_empty() => {
            ConnectorError::Parse { location: at, message }
        }
        other => ConnectorError::Parse { location: location.to_owned(), message: other.to_string() },
    })
}

/// `kind = "funding"`.
pub struct FundingConnector {
    source: Source,
    config: Arc<Config>,
    entities: [EntityKind; 1],
    settings_hash: String,
}

pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let config = config::parse(spec.settings, &spec.source, spec.base_dir)?;
    Ok(Box::new(FundingConnector {
        source: spec.source.clone(),
        entities: [config.target.entity()],
        config: Arc::new(config),
        settings_hash: settings_hash(spec.settings),
    }))
}

impl FundingConnector {
    /// The programs of the programs file, read now so an edit takes effect without a restart.
    fn programs(&self) -> Result<Option<Vec<ProgramInfo>>, ConnectorError> {
        match &self.config.programs_file {
            None => Ok(None),
            Some(file) => programs::load(file)
                .map(Some)
                .map_err(|message| ConnectorError::Fetch { location: file.display().to_string(), message }),
        }
    }
}

#[async_trait]
impl Connector for FundingConnector {
    fn entities(&self) -> &[EntityKind] {
        &self.entities
    }

    async fn run(&self, mut ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        let location = self.source.describe();
        let programs = self.programs()?;
        if let Format::Json { .. } = self.config.format {
            let summary = json::run(&self.config, &self.source, programs.as_deref(), &mut ctx).await?;
            return Ok(outcome(&location, summary, None));
        }
        let stream_files = matches!(self.config.format, Format::Xml { .. });
        let Some((input, watermark)) =
            read_source(ctx.fetcher, ctx.watermark.as_deref(), &self.source, &self.settings_hash, stream_files).await?
        else {
            return Ok(unchanged(ctx.watermark.clone(), &location));
        };
        let config = Arc::clone(&self.config);
        let file = crate::spreadsheet::file_label(&self.source);
        let partner = ctx.partner.clone();
        let partners = ctx.partners.to_vec();
        let source_url = match &self.source {
            Source::Http(url) => Some(url.clone()),
            Source::File(_) => None,
        };
        let summary = parse_in_background(&mut ctx, &location, move |out| {
            let mapping = Mapping {
                config: &config,
                programs: programs.as_deref(),
                partner: &partner,
                partners: &partners,
                source_url: source_url.as_deref(),
            };
            parse(&mapping, input, &file, out)
        })
        .await?;
        Ok(outcome(&location, summary, watermark))
    }
}

/// Parses a whole XML or table source with `mapping` (the connector's core, also for tests and benchmarks).
pub fn parse(mapping: &Mapping<'_>, input: Input, file: &str, out: &mut Output<'_>) -> Result<Summary, FundingError> {
    let mut batcher = Batcher::new(mapping.config.batch_size, out);
    if let Format::Xml { record_path, encoding } = &mapping.config.format {
        let input = match &input {
            Input::Bytes(bytes) => xml::XmlInput::Bytes(bytes),
            Input::File(path) => xml::XmlInput::File(path),
        };
        xml::read(input, file, mapping.config, record_path, *encoding, &mut |raw| batcher.map(mapping, raw))?;
        return batcher.finish();
    }
    let bytes = input.into_bytes(file)?;
    match &mapping.config.format {
        Format::Xml { .. } => {}
        Format::Table { .. } => table::read(mapping, bytes, file, &mut batcher)?,
        Format::Json { .. } => {
            let location = file.to_owned();
            json::read_page(mapping, &bytes, &location, &mut batcher)?;
        }
    }
    batcher.finish()
}

fn outcome(location: &str, summary: Summary, watermark: Option<String>) -> RunOutcome {
    tracing::info!(
        source = %location,
        records = summary.records,
        rejected = summary.rejected,
        skipped = summary.skipped,
        "funding source read"
    );
    RunOutcome { source_unchanged: false, complete: !summary.incomplete, watermark, notes: summary.notes }
}

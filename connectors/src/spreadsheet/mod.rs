//! `kind = "spreadsheet"`: school master data and the IKZ's coordination sheets from XLSX, XLS, ODS or CSV files.
//!
//! An administrator points a connector at a file (path or http(s) URL), names the target entity (`school`,
//! `media_concept`, `equipment`) and maps header texts to fields. The run reads the file (conditionally: an
//! unchanged file ends the run without parsing), finds the header row, coerces each mapped cell, rejects bad rows
//! with file, sheet, row and column, and sends records in batches. The sheet is the whole truth for its entity
//! (`complete: true`): the store tombstones what is no longer in it.
//!
//! Parsing runs on a blocking thread and hands batches through a small channel, so reading the next rows overlaps
//! with the store writing the last batch, and memory stays bounded.
//!
//! - [`config`]: the settings and their checks.
//! - [`reader`]: files → rows of cells.
//! - [`coerce`]: cell → typed value.
//! - [`school_type`]: raw type words → code list.
//! - [`mapping`]: rows → records.
//! - [`write`]: a small XLSX/ODS writer for tests, demo data and the benchmark.

pub mod coerce;
pub mod config;
pub mod mapping;
pub mod reader;
pub mod school_type;
pub mod write;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::connector::{Connector, ConnectorError, RunContext, RunOutcome, Source};
use crate::fetch::{Fetched, Validators};
use crate::model::{EntityKind, Partner};
use crate::registry::{BuildResult, ConnectorSpec};

pub use config::{Config, Field, Target};
pub use mapping::{Event, Summary};
pub use reader::Format;

/// Why reading a sheet stopped.
#[derive(Debug, Error)]
pub enum SpreadsheetError {
    #[error("{0}")]
    Read(String),
    #[error("{wanted} not found; the file has the sheets: {available}")]
    SheetNotFound { wanted: String, available: String },
    /// A header the mapping needs is not in the sheet: the run fails, nothing is imported.
    #[error("{0}")]
    MissingHeaders(String),
    /// The receiving side went away (the import run failed).
    #[error("the import run stopped receiving records")]
    Stopped,
}

/// What the connector stores between runs: the source's validators, a hash of the settings so a changed mapping
/// re-reads an unchanged file, and a digest of the file's bytes so a file copied again with the same content (a new
/// modification time, a server without ETag) is not read again either.
#[derive(Debug, Serialize, Deserialize)]
struct Watermark {
    validators: Validators,
    settings: String,
    /// SHA-256 of the file, hex; absent in watermarks of earlier versions.
    #[serde(default)]
    content: Option<String>,
}

/// SHA-256 of a source file's bytes, hex (a few ms for a 100,000-row sheet: a small part of reading it).
fn content_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

pub struct SpreadsheetConnector {
    source: Source,
    config: Arc<Config>,
    entities: [EntityKind; 1],
    settings_hash: String,
}

pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let config = config::parse(spec.settings)?;
    let entity = match config.target {
        Target::School => EntityKind::School,
        Target::MediaConcept => EntityKind::MediaConcept,
        Target::Equipment => EntityKind::Equipment,
    };
    let mut hasher = Sha256::new();
    hasher.update(spec.settings.to_string().as_bytes());
    let settings_hash: String = hasher.finalize()[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(Box::new(SpreadsheetConnector {
        source: spec.source.clone(),
        config: Arc::new(config),
        entities: [entity],
        settings_hash,
    }))
}

/// The file name for reject locations: `schulen-gifhorn.xlsx`, or the URL's last path segment.
pub(crate) fn file_label(source: &Source) -> String {
    match source {
        Source::File(path) => {
            path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| source.describe())
        }
        Source::Http(url) => {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            match path.trim_end_matches('/').rsplit_once('/') {
                Some((_, last)) if !last.is_empty() && !last.contains(':') => last.to_owned(),
                _ => url.clone(),
            }
        }
    }
}

/// Reads one spreadsheet file synchronously and hands its events to `out`: the connector's core, also used by
/// `preview`-like tools and the benchmark.
#[allow(clippy::too_many_arguments)]
pub fn parse(
    config: &Config,
    bytes: Vec<u8>,
    file: String,
    partner_slug: &str,
    partners: &[Partner],
    source_url: Option<String>,
    out: &mut mapping::Output<'_>,
) -> Result<Summary, SpreadsheetError> {
    // The bytes decide between the binary formats (a `.xls` link often serves XLSX); text is CSV.
    let format = config.format.unwrap_or_else(|| Format::sniff(&bytes));
    let mut mapper = mapping::Mapper::new(config, file, partner_slug, partners, source_url, out);
    reader::read(bytes, format, &config.sheet, config.csv, &mut mapper)?;
    mapper.finish()
}

#[async_trait]
impl Connector for SpreadsheetConnector {
    fn entities(&self) -> &[EntityKind] {
        &self.entities
    }

    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        let location = self.source.describe();
        let previous = ctx
            .watermark
            .as_deref()
            .and_then(|text| serde_json::from_str::<Watermark>(text).ok())
            .filter(|watermark| watermark.settings == self.settings_hash);
        let fetched = ctx
            .fetcher
            .read(&self.source, previous.as_ref().map(|watermark| &watermark.validators))
            .await
            .map_err(|error| ConnectorError::Fetch { location: location.clone(), message: error.to_string() })?;
        let body = match fetched {
            Fetched::Body(body) => body,
            Fetched::NotModified => {
                tracing::info!(source = %location, "spreadsheet unchanged since the last run");
                // Nothing was read, so nothing may be tombstoned: `complete` stays false.
                return Ok(RunOutcome {
                    source_unchanged: true,
                    complete: false,
                    watermark: ctx.watermark.clone(),
                    notes: vec!["source unchanged since the last run".to_owned()],
                });
            }
        };
        let content = content_digest(&body.bytes);
        let same_content = previous.as_ref().is_some_and(|watermark| watermark.content.as_ref() == Some(&content));
        let watermark = serde_json::to_string(&Watermark {
            validators: body.validators.clone(),
            settings: self.settings_hash.clone(),
            content: Some(content),
        })
        .ok();
        if same_content {
            tracing::info!(source = %location, "spreadsheet has the same content as at the last run");
            // Nothing is read, so nothing may be tombstoned; the new validators make the next check cheap again.
            return Ok(RunOutcome {
                source_unchanged: true,
                complete: false,
                watermark,
                notes: vec!["source unchanged since the last run (same content, new file date or ETag)".to_owned()],
            });
        }

        let config = Arc::clone(&self.config);
        let file = file_label(&self.source);
        let partner_slug = ctx.partner.slug.clone();
        let partners = ctx.partners.to_vec();
        let source_url = match &self.source {
            Source::Http(url) => Some(url.clone()),
            Source::File(_) => None,
        };
        let bytes = body.bytes;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Event>(4);
        let reader = tokio::task::spawn_blocking(move || {
            let mut out = |event: Event| sender.blocking_send(event).map_err(|_| SpreadsheetError::Stopped);
            parse(&config, bytes, file, &partner_slug, &partners, source_url, &mut out)
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
            location: location.clone(),
            message: format!("the reader thread failed: {error}"),
        })?;
        if let Some(error) = sink_error {
            return Err(error.into());
        }
        let summary =
            parsed.map_err(|error| ConnectorError::Parse { location: location.clone(), message: error.to_string() })?;
        tracing::info!(
            source = %location,
            sheet = summary.sheet.as_deref().unwrap_or("-"),
            rows = summary.rows,
            records = summary.records,
            rejected = summary.rejected,
            "spreadsheet read"
        );
        Ok(RunOutcome { source_unchanged: false, complete: true, watermark, notes: summary.notes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_labels_for_locations() {
        let base = std::path::Path::new("/etc/ikz");
        let file = Source::parse("demo/schulen-gifhorn.xlsx", base).expect("source");
        assert_eq!(file_label(&file), "schulen-gifhorn.xlsx");
        let url = Source::parse("https://lk.example/daten/schulen.xlsx?v=2", base).expect("source");
        assert_eq!(file_label(&url), "schulen.xlsx");
    }
}

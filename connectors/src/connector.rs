//! The contract between a connector and the rest of ikz-hub.
//!
//! A connector fetches its source, parses and normalises it, and hands records in batches to a [`RecordSink`]:
//! the store's import run (which writes them in one transaction) or the `preview` command (which prints them).
//! It never talks to the database itself.

use std::path::PathBuf;

use async_trait::async_trait;
use thiserror::Error;

use crate::model::{EntityKind, Partner, Record};

/// What a connector is told about the run it performs.
pub struct RunContext<'a> {
    /// The partner this connector's data belongs to.
    pub partner: &'a Partner,
    /// All configured partners, for linking names found in the data (a Schulträger) to partners.
    pub partners: &'a [Partner],
    /// The watermark the last successful run returned (incremental sources only).
    pub watermark: Option<String>,
    /// Where records, rejects and warnings go.
    pub sink: &'a mut dyn RecordSink,
    /// The process-wide HTTP client and file reader.
    pub fetcher: &'a crate::fetch::Fetcher,
}

/// What a finished connector run reports besides its records.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunOutcome {
    /// The source reported it has not changed since the last run (HTTP 304, same file): nothing was read, and
    /// nothing must be tombstoned.
    pub source_unchanged: bool,
    /// The run saw the whole source: records of this connector's entities that it did not emit are gone from the
    /// source and get tombstoned. True for snapshot sources (a spreadsheet), and for full walks of incremental ones.
    pub complete: bool,
    /// The watermark to store with the data for the next incremental run.
    pub watermark: Option<String>,
    /// Facts worth showing in the run summary ("Schulträger without partner: Stadt Gifhorn").
    pub notes: Vec<String>,
}

/// A record that could not be used, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// File + sheet + row, or URL + JSON pointer.
    pub location: String,
    pub field: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

#[derive(Debug, Error)]
pub enum SinkError {
    /// The import run behind the sink failed (database error, guard tripped); the connector stops.
    #[error("the import run stopped: {0}")]
    Closed(String),
    #[error("writing the preview failed: {0}")]
    Output(#[from] std::io::Error),
}

/// Receives what a connector produces.
#[async_trait]
pub trait RecordSink: Send {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError>;
    async fn reject(&mut self, rejection: Rejection) -> Result<(), SinkError>;
    /// Something an administrator should see that did not cost a record (an unknown school type).
    fn warn(&mut self, message: String);
}

#[derive(Debug, Error)]
pub enum ConnectorError {
    #[error("fetching {location} failed: {message}")]
    Fetch { location: String, message: String },
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// A configured connector, ready to run.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The entities this connector emits: the scope of its tombstones.
    fn entities(&self) -> &[EntityKind];
    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError>;
}

/// Where a connector reads from: `source = "file:demo/schulen.xlsx"`, a plain path, or an http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Http(String),
}

impl Source {
    /// Parses a `source` value; relative paths are taken relative to `base_dir` (the main config file's folder).
    pub fn parse(text: &str, base_dir: &std::path::Path) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the source is empty".into());
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Source::Http(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://").filter(|(scheme, _)| !scheme.eq_ignore_ascii_case("file")) {
            return Err(format!("unsupported source scheme `{scheme}` (use a file path, file:, http:// or https://)"));
        }
        let path = text.strip_prefix("file://").or_else(|| text.strip_prefix("file:")).unwrap_or(text);
        let path = PathBuf::from(path);
        Ok(Source::File(if path.is_absolute() { path } else { base_dir.join(path) }))
    }

    /// A short description for messages: the path or the URL.
    pub fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Http(url) => url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn sources_parse_paths_and_urls() {
        let base = Path::new("/etc/ikz");
        assert_eq!(Source::parse("demo/a.xlsx", base), Ok(Source::File("/etc/ikz/demo/a.xlsx".into())));
        assert_eq!(Source::parse("file:demo/a.xlsx", base), Ok(Source::File("/etc/ikz/demo/a.xlsx".into())));
        assert_eq!(Source::parse("file:///srv/a.csv", base), Ok(Source::File("/srv/a.csv".into())));
        assert_eq!(
            Source::parse("https://ratsinfo.example/oparl", base),
            Ok(Source::Http("https://ratsinfo.example/oparl".into()))
        );
        assert!(Source::parse("ftp://x/y", base).is_err());
        assert!(Source::parse(" ", base).is_err());
    }
}

//! `kind = "records"`: unified records as JSON lines (one record per line, as `ikz-hub preview` prints them).
//!
//! For data that has no other source (a hand-kept list of funding programs) and for replaying a preview. The file is
//! the whole truth: records of this connector that are no longer in it get tombstoned.

use async_trait::async_trait;
use serde::Deserialize;

use crate::connector::{Connector, ConnectorError, Rejection, RunContext, RunOutcome, Source};
use crate::fetch::Fetched;
use crate::model::{EntityKind, Record};
use crate::registry::{BuildResult, ConnectorSpec};
use crate::settings::{parse_settings, FieldError};

const BATCH: usize = 500;

#[derive(Debug, Deserialize)]
struct Settings {
    /// Records per batch handed to the store.
    #[serde(default = "default_batch")]
    batch_size: usize,
}

fn default_batch() -> usize {
    BATCH
}

pub struct RecordsConnector {
    source: Source,
    batch_size: usize,
}

pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let settings: Settings = parse_settings(spec.settings)?;
    if settings.batch_size == 0 {
        return Err(vec![FieldError::new("batch_size", "must be at least 1")]);
    }
    match &spec.source {
        Source::File(_) => {
            Ok(Box::new(RecordsConnector { source: spec.source.clone(), batch_size: settings.batch_size }))
        }
        Source::Http(_) => Err(vec![FieldError::new("source", "the records kind reads local files only")]),
    }
}

#[async_trait]
impl Connector for RecordsConnector {
    fn entities(&self) -> &[EntityKind] {
        &EntityKind::ALL
    }

    async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        let location = self.source.describe();
        let fetch_error = |message: String| ConnectorError::Fetch { location: location.clone(), message };
        let body = match ctx.fetcher.read(&self.source, None).await.map_err(|error| fetch_error(error.to_string()))? {
            Fetched::Body(body) => body,
            Fetched::NotModified => return Ok(RunOutcome { source_unchanged: true, ..RunOutcome::default() }),
        };
        let text = String::from_utf8(body.bytes).map_err(|error| fetch_error(format!("not UTF-8: {error}")))?;
        let mut batch = Vec::with_capacity(self.batch_size);
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(record) => batch.push(record),
                Err(error) => {
                    ctx.sink
                        .reject(Rejection {
                            location: format!("{location}:{}", index + 1),
                            field: None,
                            value: Some(line.chars().take(200).collect()),
                            message: error.to_string(),
                        })
                        .await?
                }
            }
            if batch.len() == self.batch_size {
                ctx.sink.records(std::mem::take(&mut batch)).await?;
            }
        }
        if !batch.is_empty() {
            ctx.sink.records(batch).await?;
        }
        Ok(RunOutcome { complete: true, ..RunOutcome::default() })
    }
}

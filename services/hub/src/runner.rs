//! Running a connector: into the store as an import run, or into a preview that writes nothing.

use std::io::Write;

use async_trait::async_trait;
use ikz_connectors::fetch::Fetcher;
use ikz_connectors::model::Record;
use ikz_connectors::{RecordSink, Rejection, RunContext, SinkError};
use ikz_store::runs::RunRequest;
use ikz_store::{RunStatus, RunSummary, Store, Trigger};

use crate::configuration::{Config, ConnectorConfig};

/// Runs one connector as an import run and returns its summary (failed runs included; `Err` only when the run could
/// not even be started).
pub async fn import(
    config: &Config,
    store: &Store,
    fetcher: &Fetcher,
    connector: &ConnectorConfig,
    trigger: Trigger,
) -> Result<RunSummary, ikz_store::StoreError> {
    let watermark = {
        let store = store.clone();
        let id = connector.id.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = store.connection()?;
            ikz_store::queries::last_watermark(&mut conn, &id)
        })
        .await
        .map_err(|error| ikz_store::StoreError::Task(error.to_string()))??
    };
    let request = RunRequest {
        connector: connector.id.clone(),
        trigger,
        entities: connector.connector.entities().to_vec(),
        guards: connector.guards,
    };
    let mut run = store.begin_run(request).await?;
    let Some(partner) = config.partner(&connector.partner) else {
        return Ok(run.fail(format!("partner `{}` is not configured", connector.partner)).await);
    };
    let context = RunContext { partner, partners: &config.partners, watermark, sink: &mut run, fetcher };
    let summary = match connector.connector.run(context).await {
        Ok(outcome) => run.finish(outcome).await,
        Err(error) => run.fail(error.to_string()).await,
    };
    if summary.status == RunStatus::Failed {
        tracing::error!(connector = %connector.id, run_id = summary.run_id, error = summary.error.as_deref().unwrap_or(""), "import failed");
    }
    Ok(summary)
}

/// Prints records as JSON lines and rejects to stderr; writes nothing to the store.
pub struct PreviewSink<W: Write + Send> {
    out: W,
    limit: Option<usize>,
    pub printed: usize,
    pub seen: usize,
    pub rejected: usize,
    pub warnings: Vec<String>,
}

impl<W: Write + Send> PreviewSink<W> {
    pub fn new(out: W, limit: Option<usize>) -> Self {
        PreviewSink { out, limit, printed: 0, seen: 0, rejected: 0, warnings: Vec::new() }
    }
}

#[async_trait]
impl<W: Write + Send> RecordSink for PreviewSink<W> {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        for record in batch {
            self.seen += 1;
            if self.limit.is_some_and(|limit| self.printed >= limit) {
                continue;
            }
            let line = serde_json::to_string(&record).map_err(|error| SinkError::Output(error.into()))?;
            writeln!(self.out, "{line}")?;
            self.printed += 1;
        }
        Ok(())
    }

    async fn reject(&mut self, rejection: Rejection) -> Result<(), SinkError> {
        self.rejected += 1;
        let field = rejection.field.as_deref().map(|field| format!(" field `{field}`")).unwrap_or_default();
        let value = rejection.value.as_deref().map(|value| format!(" value `{value}`")).unwrap_or_default();
        eprintln!("rejected: {}{field}{value}: {}", rejection.location, rejection.message);
        Ok(())
    }

    fn warn(&mut self, message: String) {
        eprintln!("warning: {message}");
        self.warnings.push(message);
    }
}

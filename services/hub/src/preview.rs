//! Previewing a connector: its records printed, nothing written. (Import runs go through
//! [`crate::scheduler::Hub`].)

use std::io::Write;

use async_trait::async_trait;
use ikz_connectors::model::Record;
use ikz_connectors::{RecordSink, Rejection, SinkError};

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

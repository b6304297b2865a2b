//! ikz-connectors: everything that turns a source into unified records.
//!
//! - [`model`]: the unified records every connector emits.
//! - [`connector`]: the [`Connector`](connector::Connector) trait, the run context and the record sink.
//! - [`registry`]: connector kinds by their `kind` string in config.
//! - [`settings`]: kind-specific config parsing that reports every error at once.
//! - [`de`]: German value parsing.
//! - one module per source kind.
//!
//! This crate knows nothing of the database or the web server.

pub mod allris;
pub mod connector;
pub mod de;
pub mod fetch;
pub mod funding;
pub mod model;
pub mod oparl;
pub mod records;
pub mod registry;
pub mod settings;
pub mod spreadsheet;

pub use connector::{Connector, ConnectorError, RecordSink, Rejection, RunContext, RunOutcome, SinkError, Source};
pub use registry::{ConnectorSpec, Kind};
pub use settings::FieldError;

//! ikz-hub: configuration, command line, start-up and wiring of connectors, store and API.
//!
//! The binary (`main.rs`) is a thin shell over this library so end-to-end tests can build the same application.

pub mod access_log;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod preview;
pub mod progress;
pub mod schedule;
pub mod scheduler;
pub mod startup;
pub mod telemetry;

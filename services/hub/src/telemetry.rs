//! Logs through tracing: human-readable by default, JSON lines with `--log-format json`. `RUST_LOG` filters.

use std::io::IsTerminal;

use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::progress::{ProgressLayer, TARGET as PROGRESS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the log output; with `progress_bar` (and stderr a terminal) connector progress shows as a bar instead of
/// log lines.
pub fn init(format: LogFormat, progress_bar: bool) {
    let progress_bar = progress_bar && format == LogFormat::Text && std::io::stderr().is_terminal();
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    if progress_bar {
        if let Ok(directive) = format!("{PROGRESS}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).boxed(),
    };
    let bar = progress_bar
        .then(|| ProgressLayer::default().with_filter(Targets::new().with_target(PROGRESS, LevelFilter::DEBUG)));
    // A second init (tests building several apps) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs.with_filter(filter)).with(bar).try_init();
}

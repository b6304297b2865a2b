//! The command line: `ikz-hub serve | check-config | migrate | import | runs | preview`.
//!
//! Exit codes: 0 success, 1 runtime failure (a failed import, an unreachable database), 2 invalid configuration or
//! usage.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ikz_api::metrics::Metrics;
use ikz_api::TriggerError;
use ikz_connectors::fetch::Fetcher;
use ikz_connectors::RunContext;
use ikz_store::{RunStatus, Trigger};
use std::sync::Arc;

use crate::clock::SystemClock;
use crate::configuration::{self, Config};
use crate::preview::PreviewSink;
use crate::scheduler::Hub;
use crate::startup::{self, Application};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "ikz-hub", version, about = "Data hub of the IKZ school digitalisation partners")]
pub struct Cli {
    /// The main config file.
    #[arg(long, global = true, env = "IKZ_CONFIG", default_value = "config/ikz-hub.toml")]
    pub config: PathBuf,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (and import connectors that never succeeded).
    Serve {
        /// Listen address, overriding `[server] bind`.
        #[arg(long, env = "IKZ_BIND")]
        bind: Option<String>,
    },
    /// Check the configuration and print every error.
    CheckConfig,
    /// Apply pending database migrations.
    Migrate,
    /// Run imports now.
    Import {
        /// Connector ids to run.
        #[arg(long = "connector", required_unless_present = "all", conflicts_with = "all")]
        connectors: Vec<String>,
        /// Run every enabled connector.
        #[arg(long)]
        all: bool,
    },
    /// List recent import runs.
    Runs {
        #[arg(long)]
        connector: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Print as JSON what the ALLRIS parser reads from one page (paper, meeting or agenda item; classic or ALLRIS 4):
    /// for checking a new ALLRIS site. Needs no config.
    ParsePage {
        /// A saved page or a URL.
        location: String,
    },
    /// Fetch, parse and normalise one connector's source and print the records as JSON lines; writes nothing.
    Preview {
        #[arg(long)]
        connector: String,
        /// Print at most this many records.
        #[arg(long)]
        limit: Option<usize>,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    telemetry::init(cli.log_format, matches!(cli.command, Command::Import { .. }));
    if let Command::ParsePage { location } = &cli.command {
        return parse_page(location).await;
    }
    let config = match load_config(&cli.config) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::CheckConfig => {
            println!(
                "{}: valid ({} partners, {} connectors)",
                cli.config.display(),
                config.partners.len(),
                config.connectors.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind } => serve(config, bind).await,
        Command::Migrate => startup::open_store(&config).await.map(|_| {
            println!("migrations are up to date");
            ExitCode::SUCCESS
        }),
        Command::Import { connectors, all } => import(config, connectors, all).await,
        Command::Runs { connector, limit } => runs(config, connector, limit).await,
        Command::Preview { connector, limit } => preview(config, &connector, limit).await,
        Command::ParsePage { .. } => Ok(ExitCode::from(2)),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Loads the config with the environment overrides; prints every error and returns exit code 2 on failure.
fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    match configuration::load(path) {
        Ok(mut config) => {
            if let Ok(url) = std::env::var("IKZ_DATABASE_URL") {
                config.database.url = url;
            }
            Ok(config)
        }
        Err(errors) => {
            eprint!("{errors}");
            Err(ExitCode::from(2))
        }
    }
}

async fn serve(config: Config, bind: Option<String>) -> anyhow::Result<ExitCode> {
    let bind = bind.unwrap_or_else(|| config.server.bind.clone());
    let application = Application::build(config, &bind).await?;
    application.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

fn unknown_connector(config: &Config, id: &str) -> ExitCode {
    let known: Vec<&str> = config.connectors.iter().map(|connector| connector.id.as_str()).collect();
    eprintln!("error: no connector `{id}` (configured: {})", known.join(", "));
    ExitCode::from(2)
}

async fn import(config: Config, ids: Vec<String>, all: bool) -> anyhow::Result<ExitCode> {
    let ids: Vec<String> = if all {
        config.connectors.iter().filter(|connector| connector.enabled).map(|connector| connector.id.clone()).collect()
    } else {
        ids
    };
    for id in &ids {
        if config.connector(id).is_none() {
            return Ok(unknown_connector(&config, id));
        }
    }
    let store = startup::open_store(&config).await?;
    startup::recover_interrupted_runs(&store).await;
    let hub = Hub::new(Arc::new(config), store, Arc::new(SystemClock), Arc::new(Metrics::default()))
        .context("building the HTTP client")?;
    // Ctrl-C / SIGTERM: the running import gets `shutdown_grace`, then is rolled back and recorded as failed.
    let stopper = hub.clone();
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("stopping: the running import is given time to finish, then rolled back");
        stopper.shutdown().await;
    });
    let mut failed = 0;
    for id in &ids {
        let summary = match hub.run(id, Trigger::Manual).await {
            Ok(summary) => summary,
            Err(TriggerError::Skipped { reason, .. }) => {
                println!("{id}: skipped — {reason}");
                failed += 1;
                continue;
            }
            Err(TriggerError::ShuttingDown) => {
                println!("{id}: not started — shutting down");
                failed += 1;
                break;
            }
            Err(error) => return Err(anyhow::anyhow!("{id}: the run could not start: {error:?}")),
        };
        let counts = summary.counts;
        println!(
            "{id}: run {} {} — fetched {}, created {}, updated {}, unchanged {}, deleted {}, rejected {}",
            summary.run_id,
            summary.status.as_str(),
            counts.fetched,
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.deleted,
            counts.rejected
        );
        for note in &summary.notes {
            println!("  note: {note}");
        }
        if let Some(error) = &summary.error {
            println!("  error: {error}");
        }
        if summary.status == RunStatus::Failed {
            failed += 1;
        }
    }
    signal.abort();
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn runs(config: Config, connector: Option<String>, limit: i64) -> anyhow::Result<ExitCode> {
    let store = startup::open_store(&config).await?;
    let filter = ikz_store::queries::RunFilter { connector, limit: limit.clamp(1, 1000), ..Default::default() };
    let runs = tokio::task::spawn_blocking(move || -> Result<_, ikz_store::StoreError> {
        let mut conn = store.connection()?;
        ikz_store::queries::list_runs(&mut conn, &filter)
    })
    .await??;
    println!(
        "{:>6}  {:<24} {:<10} {:<9} {:<20} {:>8} {:>8} {:>8} {:>8}",
        "run", "connector", "trigger", "status", "started (UTC)", "created", "updated", "deleted", "rejected"
    );
    for run in runs {
        println!(
            "{:>6}  {:<24} {:<10} {:<9} {:<20} {:>8} {:>8} {:>8} {:>8}",
            run.id,
            run.connector,
            run.trigger,
            run.status,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.created,
            run.updated,
            run.deleted,
            run.rejected
        );
        if let Some(error) = run.error {
            println!("        error: {error}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn preview(config: Config, id: &str, limit: Option<usize>) -> anyhow::Result<ExitCode> {
    let Some(connector) = config.connector(id) else { return Ok(unknown_connector(&config, id)) };
    let Some(partner) = config.partner(&connector.partner) else { return Ok(unknown_connector(&config, id)) };
    let fetcher = Fetcher::new(config.http.clone()).context("building the HTTP client")?;
    let mut sink = PreviewSink::new(std::io::BufWriter::new(std::io::stdout()), limit);
    let context =
        RunContext { partner, partners: &config.partners, watermark: None, sink: &mut sink, fetcher: &fetcher };
    let outcome = connector.connector.run(context).await;
    eprintln!(
        "preview of `{id}`: {} records ({} printed), {} rejected, {} warnings; nothing was written",
        sink.seen,
        sink.printed,
        sink.rejected,
        sink.warnings.len()
    );
    match outcome {
        Ok(outcome) => {
            for note in outcome.notes {
                eprintln!("note: {note}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn parse_page(location: &str) -> ExitCode {
    let fetcher = match Fetcher::new(ikz_connectors::fetch::FetchSettings::default()) {
        Ok(fetcher) => fetcher,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    match ikz_connectors::allris::parse_location(&fetcher, location).await {
        Ok(page) => match serde_json::to_string_pretty(&page) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        },
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

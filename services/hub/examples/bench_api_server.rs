//! The server side of the API load benchmark (issue 8): 20,000 generated schools imported through the real
//! spreadsheet connector into a fresh SQLite file, then the real application serving them on a loopback port.
//!
//! Run through `scripts/bench_api.sh`, which builds this in release mode, waits for the `READY <url>` line, drives
//! it with wrk and stops it. By hand: `cargo run --release -p ikz-hub --example bench_api_server [schools] [port]`.

use std::io::Write;

use ikz_connectors::spreadsheet::write::write_bench_schools;
use ikz_hub::configuration;
use ikz_hub::startup::Application;
use ikz_store::Trigger;

/// The benchmark school list's connector, shared by the import and the API benchmark.
const CONNECTOR: &str = include_str!("bench-schulen.toml");

const PARTNERS: &str = r#"
[[partners]]
slug = "hankensbuettel"
name = "Samtgemeinde Hankensbüttel"
kind = "samtgemeinde"

[[partners]]
slug = "gifhorn"
name = "Stadt Gifhorn"
kind = "stadt"
"#;

/// The allocator the ikz-hub binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let schools: usize = std::env::args().nth(1).and_then(|text| text.parse().ok()).unwrap_or(20_000);
    let port: u16 = std::env::args().nth(2).and_then(|text| text.parse().ok()).unwrap_or(0);
    let pool_size: u32 = std::env::var("IKZ_BENCH_POOL_SIZE").ok().and_then(|text| text.parse().ok()).unwrap_or(8);
    // `server.response_cache_mb`: the default unless set; 0 measures every request querying and rendering.
    let cache_mb: u64 = std::env::var("IKZ_BENCH_RESPONSE_CACHE_MB")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(ikz_api::response_cache::DEFAULT_MEGABYTES);
    let dir = tempfile::tempdir()?;
    // Every third school number has two branch rows, which the connector merges into one school: 4 rows per 3.
    let rows = schools.div_ceil(3) * 4;
    write_bench_schools(std::fs::File::create(dir.path().join("schulen-bench.xlsx"))?, rows)?;
    std::fs::create_dir_all(dir.path().join("connectors.d"))?;
    std::fs::write(dir.path().join("connectors.d/bench.toml"), CONNECTOR)?;
    let database = format!("sqlite://{}", dir.path().join("bench.db").display());
    std::fs::write(
        dir.path().join("ikz-hub.toml"),
        format!(
            "[server]\nresponse_cache_mb = {cache_mb}\n[database]\nurl = \"{database}\"\npool_size = {pool_size}\n\
             [import]\nrun_on_start = false\n[scheduler]\nenabled = false\n{PARTNERS}"
        ),
    )?;
    let config = configuration::load(&dir.path().join("ikz-hub.toml")).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let application = Application::build(config, &format!("127.0.0.1:{port}")).await?;
        let summary = application
            .hub
            .run("bench-schulen", Trigger::Manual)
            .await
            .map_err(|error| anyhow::anyhow!("the import did not start: {error:?}"))?;
        eprintln!("imported: {} {:?}", summary.status.as_str(), summary.counts);
        println!("READY http://127.0.0.1:{}", application.port());
        std::io::stdout().flush()?;
        application.run_until_stopped().await?;
        anyhow::Ok(())
    })
}

//! Benchmark of the spreadsheet kind: generates a 100,000-row, 11-column school XLSX with German headers, imports it
//! through a counting sink, then imports it again unchanged, and prints rows/s and peak memory (VmHWM).
//!
//! Run: `cargo run --release -p ikz-connectors --example bench_spreadsheet [rows]`
//!
//! The store's share (writing to SQLite) is not in these figures; the generator is
//! `ikz_connectors::spreadsheet::write::write_bench_schools`, for a store-level benchmark to reuse.

use std::path::Path;
use std::time::Instant;

use async_trait::async_trait;
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{Partner, PartnerKind, Record};
use ikz_connectors::spreadsheet::write::write_bench_schools;
use ikz_connectors::{registry, ConnectorSpec, RecordSink, Rejection, RunContext, SinkError, Source};

#[derive(Default)]
struct CountingSink {
    records: u64,
    rejects: u64,
    warnings: u64,
}

#[async_trait]
impl RecordSink for CountingSink {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.records += batch.len() as u64;
        Ok(())
    }
    async fn reject(&mut self, _rejection: Rejection) -> Result<(), SinkError> {
        self.rejects += 1;
        Ok(())
    }
    fn warn(&mut self, _message: String) {
        self.warnings += 1;
    }
}

/// Peak resident memory of this process in MB (VmHWM).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Resets VmHWM to the current RSS, so the generator's memory is not counted (Linux ≥ 4.0).
fn reset_peak() {
    if let Err(error) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("could not reset the peak memory counter: {error}");
    }
}

const SETTINGS: &str = r#"
target = "school"
sheet = "Schulen"
[columns]
school_number = "Schulnummer"
name = "Schulname"
school_type = "Schulform"
traeger = "Schulträger"
street = "Straße"
postcode = "PLZ"
city = "Ort"
phone = "Telefon"
email = "E-Mail"
pupils = "Schülerzahl"
pupils_as_of = "Stand"
[constants]
state = "NI"
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args().nth(1).and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("schulen-bench.xlsx");
    let started = Instant::now();
    write_bench_schools(std::fs::File::create(&path)?, rows)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "generated {rows} rows x 11 columns in {:.2} s ({:.1} MB XLSX)",
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );

    // For scale: calamine alone streaming the cells, without coercion or records.
    let started = Instant::now();
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&path)?;
    let mut reader = workbook.worksheet_cells_reader("Schulen")?;
    let mut cells = 0u64;
    while let Some(_cell) = reader.next_cell()? {
        cells += 1;
    }
    drop(reader);
    drop(workbook);
    println!("calamine alone:   {cells} cells streamed in {:.3} s", started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let partners = vec![Partner {
        slug: "hankensbuettel".into(),
        name: "Samtgemeinde Hankensbüttel".into(),
        kind: PartnerKind::Samtgemeinde,
        ags: None,
        aliases: vec![],
    }];
    let settings: toml::Table = toml::from_str(SETTINGS)?;
    let kind = registry::find("spreadsheet").ok_or("spreadsheet kind not registered")?;
    let spec = ConnectorSpec {
        id: "bench",
        partner: &partners[0],
        source: Source::File(path.clone()),
        settings: &settings,
        base_dir: Path::new("."),
    };
    let connector = (kind.build)(&spec).map_err(|errors| format!("{errors:?}"))?;
    let fetcher = Fetcher::new(FetchSettings::default())?;

    reset_peak();
    let baseline = peak_mb();
    let mut sink = CountingSink::default();
    let started = Instant::now();
    let outcome = runtime.block_on(connector.run(RunContext {
        partner: &partners[0],
        partners: &partners,
        watermark: None,
        sink: &mut sink,
        fetcher: &fetcher,
    }))?;
    let first = started.elapsed().as_secs_f64();
    println!(
        "first import:     {rows} rows -> {} schools, {} rejects in {first:.3} s = {:.0} rows/s; peak memory {:.1} MB (process before the run: {baseline:.1} MB)",
        sink.records,
        sink.rejects,
        rows as f64 / first,
        peak_mb()
    );

    let mut again = CountingSink::default();
    let started = Instant::now();
    let unchanged = runtime.block_on(connector.run(RunContext {
        partner: &partners[0],
        partners: &partners,
        watermark: outcome.watermark.clone(),
        sink: &mut again,
        fetcher: &fetcher,
    }))?;
    let second = started.elapsed().as_secs_f64();
    println!(
        "unchanged import: source_unchanged = {}, {} records in {:.4} s ({:.2} % of the first); peak memory {:.1} MB",
        unchanged.source_unchanged,
        again.records,
        second,
        second / first * 100.0,
        peak_mb()
    );
    // Parsing and normalising alone (no fetch, no channel), split into reading the rows and building the schools.
    let config = ikz_connectors::spreadsheet::config::parse(&toml::from_str(SETTINGS)?)
        .map_err(|errors| format!("{errors:?}"))?;
    let bytes = std::fs::read(&path)?; // after the runs, so it does not count in their peak memory
    let started = Instant::now();
    let mut batches_at = None;
    let mut out = |_event: ikz_connectors::spreadsheet::Event| {
        batches_at.get_or_insert_with(|| started.elapsed().as_secs_f64());
        Ok(())
    };
    ikz_connectors::spreadsheet::parse(&config, bytes, "bench.xlsx".into(), "bench", &[], None, &mut out)?;
    println!(
        "parse alone:      {:.3} s, of which reading and coercing the rows {:.3} s",
        started.elapsed().as_secs_f64(),
        batches_at.unwrap_or_default()
    );

    Ok(())
}

//! Benchmark of the funding XML reader: generates an N-DiPS-like export (`/Antraege/Antrag`, ISO-8859-15, namespace
//! prefixes, attributes, repeated schools and disbursements, like config/demo/ndips-antraege-gifhorn.xml) with 20,000
//! and 200,000 records, runs the `funding` connector over it into a counting sink, and prints records/s and peak
//! memory (VmHWM, reset before each phase) per size.
//!
//! Run: `cargo build --release -p ikz-connectors --example bench_funding_xml` and then
//! `target/release/examples/bench_funding_xml [records …]` (default: 20000 200000).
//!
//! Phases per size: quick-xml alone pulling the events (for scale), then the connector: reading the file, parsing,
//! mapping every record (amounts, dates, measure codes, partner by AGS, school numbers, disbursements) and handing
//! batches to the sink. The sink only counts, so the figures are the connector's own.
//!
//! What grows with the record count: the duplicate check's table of 16-byte id digests (24 bytes an entry, in a
//! hash table sized to powers of two: about 8.7 MB at 200,000 records, plus the previous table while it last grows).
//! The file itself is streamed through a 64 KB buffer; the machine is shared, so records per CPU second is printed
//! next to records per wall-clock second.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{Ags, Partner, PartnerKind, Record};
use ikz_connectors::{registry, ConnectorSpec, RecordSink, Rejection, RunContext, SinkError, Source};

#[derive(Default)]
struct CountingSink {
    records: u64,
    batches: u64,
    rejects: u64,
    warnings: u64,
}

#[async_trait]
impl RecordSink for CountingSink {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.records += batch.len() as u64;
        self.batches += 1;
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

fn status_kb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .unwrap_or(f64::NAN)
}

/// Peak resident memory of this process in MB since the last [`reset_peak`] (VmHWM).
fn peak_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

/// Resident memory now, in MB (VmRSS).
fn rss_mb() -> f64 {
    status_kb("VmRSS:") / 1024.0
}

/// CPU seconds this process has used, all threads, user and system (/proc/self/stat, in clock ticks of 10 ms). The
/// machine is shared, so records per CPU second is the steadier figure next to records per wall-clock second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<f64> = after.split_whitespace().map(|field| field.parse().unwrap_or(f64::NAN)).collect();
    (fields.get(11).copied().unwrap_or(f64::NAN) + fields.get(12).copied().unwrap_or(f64::NAN)) / 100.0
}

/// Resets VmHWM to the current RSS, so earlier phases are not counted (Linux ≥ 4.0).
fn reset_peak() {
    if let Err(error) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("could not reset the peak memory counter: {error}");
    }
}

/// Schulträger of the generated records: (name as written, AGS). Names carry umlauts, so the ISO-8859-15 decoding
/// is part of the work.
const TRAEGER: [(&str, &str); 4] = [
    ("Samtgemeinde Hankensbüttel", "03151401"),
    ("Stadt Wittingen", "03151025"),
    ("Stadt Gifhorn", "03151009"),
    ("Landkreis Gifhorn", "03151000"),
];
const MEASURES: [&str; 8] = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8"];

fn latin9(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::ISO_8859_15.encode(text);
    assert!(!unmappable, "the generator writes ISO-8859-15 only");
    bytes.into_owned()
}

/// Writes `records` applications in the shape of the demo export.
fn generate(path: &Path, records: usize) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
    out.write_all(
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n\
          <ndips:Antraege xmlns:ndips=\"urn:ikz-hub:demo:ndips\" erstellt=\"2024-06-30\">\n",
    )?;
    for index in 0..records {
        let (traeger, ags) = TRAEGER[index % TRAEGER.len()];
        let measure = MEASURES[index % MEASURES.len()];
        let requested = 10_000 + (index * 7919) % 90_000;
        let approved = requested - (index % 3) * 100;
        let year = 2020 + index % 4;
        let school = 10_000 + index % 50_000;
        let mut record = format!(
            "  <ndips:Antrag nr=\"BENCH-{index:07}\">\n    <ndips:Programm>digitalpakt-schule-ni</ndips:Programm>\n    \
             <ndips:Schultraeger ags=\"{ags}\">{traeger}</ndips:Schultraeger>\n    <ndips:Schulen><ndips:Schule \
             nr=\"{school}\">Grundschule Müden &amp; Dieckhorst</ndips:Schule>"
        );
        if index % 5 == 0 {
            record.push_str(&format!("<ndips:Schule nr=\"{}\">Oberschule Wesendorf</ndips:Schule>", school + 1));
        }
        record.push_str(&format!(
            "</ndips:Schulen>\n    <ndips:Massnahme>{measure}</ndips:Massnahme>\n    <ndips:Bezeichnung>Interaktive \
             Displays für Unterrichtsräume, Bauabschnitt {}</ndips:Bezeichnung>\n    <ndips:Betraege \
             beantragt=\"{requested}.000,00\" bewilligt=\"{approved}.000,00\"/>\n    \
             <ndips:Status>teilweise ausgezahlt</ndips:Status>\n    <ndips:Eingang>14.02.{year}</ndips:Eingang>\n    \
             <ndips:Bewilligung>02.06.{year}</ndips:Bewilligung>\n    <ndips:Zeitraum von=\"01.07.{year}\" \
             bis=\"31.12.{}\"/>\n    <ndips:Auszahlungen>\n",
            index % 9 + 1,
            year + 1
        ));
        for part in 0..(1 + index % 2) {
            record.push_str(&format!(
                "      <ndips:Auszahlung datum=\"1{part}.12.{year}\"><ndips:Betrag>{}.000,00</ndips:Betrag>\
                 </ndips:Auszahlung>\n",
                approved / 4
            ));
        }
        record.push_str("    </ndips:Auszahlungen>\n  </ndips:Antrag>\n");
        out.write_all(&latin9(&record))?;
    }
    out.write_all(b"</ndips:Antraege>\n")?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The demo connector's mapping (config/connectors.d/funding-antraege-gifhorn.toml) plus `partner_ags`.
fn settings(programs: &Path) -> Result<toml::Table, toml::de::Error> {
    toml::from_str(&format!(
        r#"
        target = "funding_application"
        program = "digitalpakt-schule-ni"
        programs = "{}"
        record_path = "/Antraege/Antrag"
        [fields]
        reference = "@nr"
        partner_ags = "Schultraeger/@ags"
        partner_name = "Schultraeger"
        school_numbers = "Schulen/Schule/@nr"
        measure = "Massnahme"
        title = "Bezeichnung"
        requested = "Betraege/@beantragt"
        approved = "Betraege/@bewilligt"
        status = "Status"
        submitted_on = "Eingang"
        approved_on = "Bewilligung"
        period_start = "Zeitraum/@von"
        period_end = "Zeitraum/@bis"
        [[disbursements]]
        path = "Auszahlungen/Auszahlung"
        date = "@datum"
        amount = "Betrag"
        "#,
        programs.display()
    ))
}

fn partners() -> Vec<Partner> {
    let partner = |slug: &str, name: &str, kind, ags: &str| Partner {
        slug: slug.into(),
        name: name.into(),
        kind,
        ags: Ags::parse(ags).ok(),
        aliases: vec![],
    };
    vec![
        partner("gifhorn", "Landkreis Gifhorn", PartnerKind::Landkreis, "03151000"),
        partner("hankensbuettel", "Samtgemeinde Hankensbüttel", PartnerKind::Samtgemeinde, "03151401"),
        partner("wittingen", "Stadt Wittingen", PartnerKind::Stadt, "03151025"),
        partner("stadt-gifhorn", "Stadt Gifhorn", PartnerKind::Stadt, "03151009"),
    ]
}

/// quick-xml alone: every event of the file pulled through a buffered, decoding reader, nothing kept.
fn quick_xml_alone(path: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut decoder = quick_xml::encoding::DecodingReader::new(file);
    decoder.set_encoding(encoding_rs::ISO_8859_15);
    let mut reader = quick_xml::Reader::from_reader(decoder);
    let mut buffer = Vec::new();
    let mut events = 0u64;
    loop {
        buffer.clear();
        match reader.read_event_into(&mut buffer)? {
            quick_xml::events::Event::Eof => break,
            _ => events += 1,
        }
    }
    Ok(events)
}

fn run_size(
    records: usize,
    dir: &Path,
    programs: &Path,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = dir.join(format!("antraege-{records}.xml"));
    let started = Instant::now();
    let size = generate(&path, records)?;
    println!(
        "\n{records} records: generated {:.1} MB of XML in {:.2} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    reset_peak();
    let before = rss_mb();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let events = quick_xml_alone(&path)?;
    let (seconds, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "  quick-xml alone:   {events} events in {seconds:.3} s = {:.0} records/s ({cpu:.2} CPU s = {:.0} records per \
         CPU s), {:.0} MB/s; peak {:.1} MB (before {before:.1} MB)",
        records as f64 / seconds,
        records as f64 / cpu,
        size as f64 / 1e6 / seconds,
        peak_mb()
    );

    let partners = partners();
    let settings = settings(programs)?;
    let kind = registry::find("funding").ok_or("funding kind not registered")?;
    let spec = ConnectorSpec {
        id: "bench",
        partner: &partners[0],
        source: Source::File(path.clone()),
        settings: &settings,
        base_dir: Path::new("."),
    };
    let connector = (kind.build)(&spec).map_err(|errors| format!("{errors:?}"))?;
    let fetcher = Fetcher::new(FetchSettings { max_body_bytes: u64::MAX, ..FetchSettings::default() })?;
    let mut sink = CountingSink::default();
    reset_peak();
    let before = rss_mb();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    runtime.block_on(connector.run(RunContext {
        partner: &partners[0],
        partners: &partners,
        watermark: None,
        sink: &mut sink,
        fetcher: &fetcher,
    }))?;
    let (seconds, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let peak = peak_mb();
    println!(
        "  connector (read, parse, map, batches to a counting sink): {} records in {} batches, {} rejects, {} warnings \
         in {seconds:.3} s = {:.0} records/s ({cpu:.2} CPU s = {:.0} records per CPU s); peak {peak:.1} MB (before \
         {before:.1} MB, growth {:.1} MB)",
        sink.records,
        sink.batches,
        sink.rejects,
        sink.warnings,
        records as f64 / seconds,
        records as f64 / cpu,
        peak - before
    );
    if sink.records != records as u64 {
        return Err(format!("expected {records} records, the sink got {}", sink.records).into());
    }
    std::fs::remove_file(&path)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args().skip(1).filter_map(|text| text.parse().ok()).collect();
        if given.is_empty() {
            vec![20_000, 200_000]
        } else {
            given
        }
    };
    let programs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/funding-programs.jsonl");
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    println!("funding XML benchmark on {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));
    for records in sizes {
        run_size(records, dir.path(), &programs, &runtime)?;
    }
    Ok(())
}

//! Benchmark of the OParl connector: a generated endpoint of 20,000 papers in pages of 25 on loopback, imported
//! through a counting sink, beside a plain sequential download of the same pages measured in the same run.
//!
//! `cargo run --release -p ikz-connectors --example bench_oparl`

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ikz_connectors::connector::{Connector, RecordSink, Rejection, RunContext, SinkError};
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{EntityKind, Partner, PartnerKind, Record};
use ikz_connectors::oparl::config::{List, Settings};
use ikz_connectors::oparl::testing::{paper_pages, Response, TestServer};
use ikz_connectors::oparl::OparlConnector;

const PAPERS: usize = 20_000;
const PER_PAGE: usize = 25;
const ROUNDS: usize = 3;

#[derive(Default)]
struct CountingSink {
    papers: usize,
    records: usize,
    rejects: usize,
}

#[async_trait]
impl RecordSink for CountingSink {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.papers += batch.iter().filter(|record| record.kind() == EntityKind::Paper).count();
        self.records += batch.len();
        Ok(())
    }
    async fn reject(&mut self, _: Rejection) -> Result<(), SinkError> {
        self.rejects += 1;
        Ok(())
    }
    fn warn(&mut self, message: String) {
        eprintln!("warning: {message}");
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = TestServer::start().await?;
    let base = server.base();
    let pages = paper_pages(&base, "/oparl/body/1/paper", PAPERS, PER_PAGE);
    let mut bytes = 0;
    for (index, (path, body)) in pages.iter().enumerate() {
        bytes += body.len();
        if index == 0 {
            server.route("/oparl/body/1/paper", Response::json(body.clone()));
        }
        server.route(path, Response::json(body.clone()));
    }
    let body = format!(
        r#"{{"id":"{base}/oparl/body/1","type":"https://schema.oparl.org/1.1/Body","name":"Bench","paper":"{base}/oparl/body/1/paper"}}"#
    );
    server.route("/oparl/body/1", Response::json(body));
    let urls: Vec<String> = std::iter::once(format!("{base}/oparl/body/1"))
        .chain(std::iter::once(format!("{base}/oparl/body/1/paper")))
        .chain(pages.iter().skip(1).map(|(path, _)| format!("{base}{path}")))
        .collect();
    println!(
        "endpoint: {PAPERS} papers in {} pages of {PER_PAGE} ({:.1} MB of JSON) on {base}",
        pages.len(),
        bytes as f64 / 1e6
    );

    let partner =
        Partner { slug: "bench".into(), name: "Bench".into(), kind: PartnerKind::Gemeinde, ags: None, aliases: vec![] };
    let fetcher = Fetcher::new(FetchSettings::default())?;
    let settings = Settings { lists: vec![List::Paper], ..Settings::default() };
    let connector = OparlConnector::new("bench", &format!("{base}/oparl/body/1"), settings);
    let plain = reqwest::Client::builder().build()?;

    // Raw loopback (the server answers in microseconds: this measures the importer's own CPU cost), then with
    // 5 ms per response, still far quicker than real council information systems (100 ms to seconds per page).
    for latency in [Duration::ZERO, Duration::from_millis(5)] {
        server.set_latency(latency);
        println!("-- server latency {} ms per response", latency.as_millis());
        let mut downloads = Vec::new();
        let mut imports = Vec::new();
        for round in 1..=ROUNDS {
            // The same requests the import makes (body, then every page in order), without reading them.
            let start = Instant::now();
            let mut received = 0;
            for url in &urls {
                received += plain.get(url).send().await?.error_for_status()?.bytes().await?.len();
            }
            let download = start.elapsed();

            let mut sink = CountingSink::default();
            let start = Instant::now();
            let ctx =
                RunContext { partner: &partner, partners: &[], watermark: None, sink: &mut sink, fetcher: &fetcher };
            let outcome = connector.run(ctx).await?;
            let import = start.elapsed();
            assert_eq!(sink.papers, PAPERS, "every paper imported");
            assert!(outcome.complete && sink.rejects == 0);
            println!(
                "round {round}: plain download {:>8.1} ms ({:.1} MB) | import {:>8.1} ms, {} records, {:.0} papers/s | ratio {:.2}",
                ms(download),
                received as f64 / 1e6,
                ms(import),
                sink.records,
                PAPERS as f64 / import.as_secs_f64(),
                import.as_secs_f64() / download.as_secs_f64()
            );
            downloads.push(download);
            imports.push(import);
        }
        downloads.sort();
        imports.sort();
        let (download, import) = (downloads[ROUNDS / 2], imports[ROUNDS / 2]);
        println!(
            "median: plain download {:.1} ms, import {:.1} ms ({:.0} papers/s), import / download = {:.2} (target ≤ 1.5)",
            ms(download),
            ms(import),
            PAPERS as f64 / import.as_secs_f64(),
            import.as_secs_f64() / download.as_secs_f64()
        );
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

//! Benchmark of the OParl connector: a generated endpoint of 20,000 papers in pages of 25 on loopback, imported
//! through a counting sink, beside a plain sequential download of the same pages measured in the same run.
//!
//! What the import figure holds: fetching (through `Fetcher`), parsing and normalising every page into records,
//! handed to a sink that counts and drops them. Store writes are not in it (the connector crate has no store; the
//! store's own cost is its own matter). The plain download makes the same requests in the same order with a bare
//! reqwest client and only reads the bodies. Both figures include the loopback server's work, which runs in this
//! process on a runtime of its own; the client runs on one thread as in the hub (see `main`), and the import
//! reads each list page's items and normalises them on a blocking thread of that runtime, as it does in the hub
//! (one thread per list walk; the walk's task fetches the pages and reads only their envelopes). Wall-clock time
//! depends on what else the machine runs, so each round also prints the process's CPU time (all threads), and
//! the CPU time of parsing and normalising alone is printed first. With both cores busy elsewhere the import's
//! thread finds no free core, and the figure measures mostly the import's CPU time.
//!
//! `cargo build --release -p ikz-connectors --example bench_oparl`, then run the binary (`IKZ_BENCH_LATENCIES_MS`:
//! the server latencies to measure, default `0,5`; `IKZ_BENCH_ROUNDS`: rounds per latency, default 3).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ikz_connectors::connector::{Connector, RecordSink, Rejection, RunContext, SinkError};
use ikz_connectors::fetch::{FetchSettings, Fetcher};
use ikz_connectors::model::{EntityKind, Partner, PartnerKind, Record};
use ikz_connectors::oparl::config::{List, Settings};
use ikz_connectors::oparl::normalise::{At, Normaliser};
use ikz_connectors::oparl::objects::{self, Item, ListPage, PaperObject};
use ikz_connectors::oparl::testing::{paper_pages, Response, TestServer};
use ikz_connectors::oparl::OparlConnector;

/// The allocator of the hub binary (services/hub/src/main.rs): the import is measured as it runs in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PAPERS: usize = 20_000;
const PER_PAGE: usize = 25;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The loopback server on a runtime of its own, as a remote server would be: it does not take turns with the
    // client on the client's thread.
    let server_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let server = server_runtime.block_on(TestServer::start())?;
    // The client (plain download and import alike) on one thread, as the hub runs imports: `actix_web::main` is a
    // current-thread runtime; blocking work goes to tokio's blocking pool.
    let client_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    client_runtime.block_on(measure(&server))
}

async fn measure(server: &TestServer) -> Result<(), Box<dyn std::error::Error>> {
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

    stage_costs(&pages)?;

    let partner =
        Partner { slug: "bench".into(), name: "Bench".into(), kind: PartnerKind::Gemeinde, ags: None, aliases: vec![] };
    let fetcher = Fetcher::new(FetchSettings::default())?;
    let settings = Settings { lists: vec![List::Paper], ..Settings::default() };
    let connector = OparlConnector::new("bench", &format!("{base}/oparl/body/1"), settings);
    let plain = reqwest::Client::builder().build()?;
    let rounds: usize = std::env::var("IKZ_BENCH_ROUNDS").map_or(Ok(3), |n| n.parse())?.max(1);

    // Raw loopback (the server answers in microseconds: this measures the importer's own CPU cost), then with
    // 5 ms per response, still far quicker than real council information systems (100 ms to seconds per page).
    // `IKZ_BENCH_LATENCIES_MS=0` runs the raw loopback rounds only (for profiling).
    let latencies: Vec<Duration> = match std::env::var("IKZ_BENCH_LATENCIES_MS") {
        Ok(list) => list.split(',').map(|ms| ms.trim().parse().map(Duration::from_millis)).collect::<Result<_, _>>()?,
        Err(_) => vec![Duration::ZERO, Duration::from_millis(5)],
    };
    for latency in latencies {
        server.set_latency(latency);
        println!("-- server latency {} ms per response", latency.as_millis());
        let mut downloads = Vec::new();
        let mut imports = Vec::new();
        for round in 1..=rounds {
            // The same requests the import makes (body, then every page in order), without reading them.
            let start = Instant::now();
            let cpu_start = cpu_time();
            let mut received = 0;
            for url in &urls {
                received += plain.get(url).send().await?.error_for_status()?.bytes().await?.len();
            }
            let download = start.elapsed();
            let download_cpu = cpu_time() - cpu_start;

            let mut sink = CountingSink::default();
            let start = Instant::now();
            let cpu_start = cpu_time();
            let ctx =
                RunContext { partner: &partner, partners: &[], watermark: None, sink: &mut sink, fetcher: &fetcher };
            let outcome = connector.run(ctx).await?;
            let import = start.elapsed();
            let import_cpu = cpu_time() - cpu_start;
            assert_eq!(sink.papers, PAPERS, "every paper imported");
            assert!(outcome.complete && sink.rejects == 0);
            println!(
                "round {round}: plain download {:>8.1} ms ({:.1} MB, CPU {:.0} ms) | import {:>8.1} ms (CPU {:.0} ms), {} records, {:.0} papers/s | ratio {:.2}",
                ms(download),
                received as f64 / 1e6,
                ms(download_cpu),
                ms(import),
                ms(import_cpu),
                sink.records,
                PAPERS as f64 / import.as_secs_f64(),
                import.as_secs_f64() / download.as_secs_f64()
            );
            downloads.push(download);
            imports.push(import);
        }
        downloads.sort();
        imports.sort();
        let (download, import) = (downloads[rounds / 2], imports[rounds / 2]);
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

/// Where the import's CPU time goes: each page parsed, then normalised (records dropped as a sink would), on one
/// thread, each stage timed on its own. The import runs both on its normalising thread, overlapped with the
/// fetching of the next pages (and the reading of their envelopes) on the runtime thread.
///
/// Twice: the first pass takes its memory fresh from the kernel (page faults, huge pages zeroed: on this VM the
/// first pass normalised in 50-78 ms where the second took 24-25 ms), the second reuses it as an import after
/// the first does.
fn stage_costs(pages: &[(String, String)]) -> Result<(), Box<dyn std::error::Error>> {
    for pass in ["first pass", "second pass"] {
        stage_pass(pages, pass)?;
    }
    Ok(())
}

fn stage_pass(pages: &[(String, String)], pass: &str) -> Result<(), Box<dyn std::error::Error>> {
    // Thread CPU time, not wall-clock time: other work on the machine does not count.
    let mut parse = Duration::ZERO;
    let mut normalise = Duration::ZERO;
    let mut norm = Normaliser::new(false);
    let mut records = 0;
    for (url, body) in pages {
        let start = thread_cpu_time();
        let page = objects::parse_page::<Item<PaperObject>>(body.as_bytes(), Some("application/json"))?;
        parse += thread_cpu_time() - start;
        let start = thread_cpu_time();
        let ListPage { items, .. } = page;
        for (index, item) in items.into_iter().enumerate() {
            norm.list_item(item, "bench", &At::item(url, index));
        }
        records += norm.out.len();
        norm.out.clear();
        normalise += thread_cpu_time() - start;
    }
    let per_page = |stage: Duration| stage.as_secs_f64() * 1e6 / pages.len() as f64;
    println!(
        "CPU time by stage, one thread, {pass}: parse {:.1} ms ({:.0} µs/page), normalise {:.1} ms ({:.0} µs/page, {records} records)",
        ms(parse),
        per_page(parse),
        ms(normalise),
        per_page(normalise),
    );
    Ok(())
}

/// CPU time of the whole process so far (all threads, the loopback server's included), user plus system.
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut time = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given; the clock id is a constant the kernel knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

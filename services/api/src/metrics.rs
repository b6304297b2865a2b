//! `/metrics` in the Prometheus text exposition format (version 0.0.4).
//!
//! Counters and histograms of this process (HTTP requests by route, method and status with latency; import runs by
//! connector and status; records by outcome; run duration) plus gauges read from the database at scrape time (last
//! success per connector, stale flag), so every replica reports the same connector health.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::auth::Reader;
use crate::{ApiState, Problem};

const HTTP_BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
const RUN_BUCKETS: [f64; 10] = [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

/// This process's counters and histograms, kept by the prometheus crate.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    runs: IntCounterVec,
    records: IntCounterVec,
    durations: HistogramVec,
    /// Reads answered from the response cache, and reads that queried the store (labels of one counter).
    cache_hits: IntCounter,
    cache_misses: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// A finished run, as the metrics count it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunRecord<'a> {
    pub connector: &'a str,
    pub status: &'a str,
    pub seconds: f64,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    pub rejected: i64,
}

/// A connector's health at scrape time.
#[derive(Debug, Clone)]
pub struct ConnectorGauge {
    pub connector: String,
    /// Seconds since the epoch of the last success, if any.
    pub last_success: Option<f64>,
    pub stale: bool,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec =
        IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    register(registry, name, Box::new(vec.clone()));
    vec
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    let vec = HistogramVec::new(opts, labels).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    register(registry, name, Box::new(vec.clone()));
    vec
}

fn register(registry: &Registry, name: &str, collector: Box<dyn prometheus::core::Collector>) {
    if let Err(error) = registry.register(collector) {
        tracing::error!(metric = name, %error, "metric not registered");
    }
}

impl Default for Metrics {
    /// The metric definitions are constants: a failure here is a programming error, caught by the tests.
    fn default() -> Self {
        let registry = Registry::new();
        let cache = counter(
            &registry,
            "ikz_api_response_cache_total",
            "Cacheable API reads by result: `hit` served a kept rendering, `miss` queried the store and rendered.",
            &["result"],
        );
        Metrics {
            cache_hits: cache.with_label_values(&["hit"]),
            cache_misses: cache.with_label_values(&["miss"]),
            requests: counter(
                &registry,
                "ikz_http_requests_total",
                "HTTP requests by route pattern, method and status.",
                &["route", "method", "status"],
            ),
            latency: histogram(
                &registry,
                "ikz_http_request_duration_seconds",
                "HTTP request latency.",
                &["route", "method"],
                &HTTP_BUCKETS,
            ),
            runs: counter(
                &registry,
                "ikz_import_runs_total",
                "Import runs by connector and status (skipped included).",
                &["connector", "status"],
            ),
            records: counter(
                &registry,
                "ikz_import_records_total",
                "Records of import runs by outcome.",
                &["connector", "outcome"],
            ),
            durations: histogram(
                &registry,
                "ikz_import_run_duration_seconds",
                "Duration of import runs.",
                &["connector"],
                &RUN_BUCKETS,
            ),
            registry,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    /// Counts a cacheable read as a hit or a miss of the response cache.
    pub fn observe_cache(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    /// Counts a run (or a skipped trigger, with zero counts and no duration).
    pub fn observe_run(&self, run: RunRecord<'_>) {
        self.runs.with_label_values(&[run.connector, run.status]).inc();
        if run.status == "skipped" {
            return;
        }
        for (outcome, count) in [
            ("fetched", run.fetched),
            ("created", run.created),
            ("updated", run.updated),
            ("unchanged", run.unchanged),
            ("deleted", run.deleted),
            ("rejected", run.rejected),
        ] {
            self.records.with_label_values(&[run.connector, outcome]).inc_by(count.max(0) as u64);
        }
        self.durations.with_label_values(&[run.connector]).observe(run.seconds);
    }

    /// The exposition text: this process's metrics plus the connector gauges read at scrape time.
    pub fn render(&self, connectors: &[ConnectorGauge]) -> String {
        let mut families = self.registry.gather();
        let scrape = Registry::new();
        let last_success = GaugeVec::new(
            Opts::new(
                "ikz_connector_last_success_timestamp_seconds",
                "When the connector's last successful run finished (Unix time); absent if it never succeeded.",
            ),
            &["connector"],
        );
        let stale = IntGaugeVec::new(
            Opts::new("ikz_connector_stale", "1 if the connector's last success is older than its stale_after."),
            &["connector"],
        );
        if let (Ok(last_success), Ok(stale)) = (last_success, stale) {
            for gauge in connectors {
                if let Some(at) = gauge.last_success {
                    last_success.with_label_values(&[gauge.connector.as_str()]).set(at);
                }
                stale.with_label_values(&[gauge.connector.as_str()]).set(i64::from(gauge.stale));
            }
            register(&scrape, "ikz_connector_last_success_timestamp_seconds", Box::new(last_success));
            register(&scrape, "ikz_connector_stale", Box::new(stale));
        }
        families.extend(scrape.gather());
        let mut out = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(%error, "encoding /metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Middleware: counts every request by its route pattern (`/api/v1/import-runs/{id}`; `unmatched` for 404s, so
/// scanners cannot blow up the label set).
pub async fn track(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = request.app_data::<web::Data<ApiState>>().map(|state| state.metrics.clone());
    let method = request.method().as_str().to_owned();
    let response = next.call(request).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &response {
            Ok(response) => {
                (response.request().match_pattern().unwrap_or_else(|| "unmatched".into()), response.status().as_u16())
            }
            Err(error) => ("unmatched".to_owned(), error.as_response_error().status_code().as_u16()),
        };
        metrics.observe_request(&route, &method, status, started.elapsed().as_secs_f64());
    }
    response
}

/// `GET /metrics`.
pub async fn endpoint(_reader: Reader, state: web::Data<ApiState>) -> Result<HttpResponse, Problem> {
    let gauges = match &state.connectors {
        Some(control) => {
            let control = control.clone();
            let store = state.store.clone();
            let views = web::block(move || crate::routes::connectors::views(&store, control.as_ref())).await??;
            views
                .into_iter()
                .map(|view| ConnectorGauge {
                    connector: view.info.id.clone(),
                    last_success: view.last_success_at.map(|at| at.and_utc().timestamp_micros() as f64 / 1e6),
                    stale: view.stale,
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&gauges)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_escapes_labels() {
        let metrics = Metrics::default();
        metrics.observe_request("/api/v1/x/{id}", "GET", 200, 0.003);
        metrics.observe_run(RunRecord {
            connector: "a\"b",
            status: "succeeded",
            seconds: 2.0,
            created: 3,
            ..Default::default()
        });
        let text = metrics.render(&[ConnectorGauge { connector: "a\"b".into(), last_success: Some(1.5), stale: true }]);
        assert!(
            text.contains("ikz_http_requests_total{method=\"GET\",route=\"/api/v1/x/{id}\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(text.contains(
            "ikz_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/x/{id}\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "ikz_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/x/{id}\",le=\"0.001\"} 0"
        ));
        assert!(text.contains("ikz_import_records_total{connector=\"a\\\"b\",outcome=\"created\"} 3"), "{text}");
        assert!(text.contains("ikz_connector_stale{connector=\"a\\\"b\"} 1"));
        assert!(text.contains("ikz_connector_last_success_timestamp_seconds{connector=\"a\\\"b\"} 1.5"));
    }
}

//! `/metrics` in the Prometheus text exposition format (version 0.0.4).
//!
//! Counters and histograms of this process (HTTP requests by route, method and status with latency; import runs by
//! connector and status; records by outcome; run duration) plus gauges read from the database at scrape time (last
//! success per connector, stale flag), so every replica reports the same connector health.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::auth::Reader;
use crate::{ApiState, Problem};

const HTTP_BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
const RUN_BUCKETS: [f64; 10] = [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.buckets.len() != bounds.len() {
            self.buckets = vec![0; bounds.len()];
        }
        for (bucket, bound) in self.buckets.iter_mut().zip(bounds) {
            if value <= *bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → count
    requests: BTreeMap<(String, String, u16), u64>,
    /// (route, method) → latency
    latency: BTreeMap<(String, String), Histogram>,
    /// (connector, status) → count
    runs: BTreeMap<(String, String), u64>,
    /// (connector, outcome) → count
    records: BTreeMap<(String, String), u64>,
    /// connector → duration
    durations: BTreeMap<String, Histogram>,
}

/// This process's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
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

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut inner = self.lock();
        *inner.requests.entry((route.to_owned(), method.to_owned(), status)).or_default() += 1;
        inner.latency.entry((route.to_owned(), method.to_owned())).or_default().observe(&HTTP_BUCKETS, seconds);
    }

    /// Counts a run (or a skipped trigger, with zero counts and no duration).
    pub fn observe_run(&self, run: RunRecord<'_>) {
        let mut inner = self.lock();
        *inner.runs.entry((run.connector.to_owned(), run.status.to_owned())).or_default() += 1;
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
            *inner.records.entry((run.connector.to_owned(), outcome.to_owned())).or_default() += count.max(0) as u64;
        }
        inner.durations.entry(run.connector.to_owned()).or_default().observe(&RUN_BUCKETS, run.seconds);
    }

    /// The exposition text.
    pub fn render(&self, connectors: &[ConnectorGauge]) -> String {
        let inner = self.lock();
        let mut out = String::new();
        header(&mut out, "ikz_http_requests_total", "counter", "HTTP requests by route pattern, method and status.");
        for ((route, method, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "ikz_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        header(&mut out, "ikz_http_request_duration_seconds", "histogram", "HTTP request latency.");
        for ((route, method), histogram) in &inner.latency {
            let labels = format!("route=\"{}\",method=\"{}\"", escape(route), escape(method));
            histogram_lines(&mut out, "ikz_http_request_duration_seconds", &labels, &HTTP_BUCKETS, histogram);
        }
        header(&mut out, "ikz_import_runs_total", "counter", "Import runs by connector and status (skipped included).");
        for ((connector, status), count) in &inner.runs {
            let _ = writeln!(
                out,
                "ikz_import_runs_total{{connector=\"{}\",status=\"{}\"}} {count}",
                escape(connector),
                escape(status)
            );
        }
        header(&mut out, "ikz_import_records_total", "counter", "Records of import runs by outcome.");
        for ((connector, outcome), count) in &inner.records {
            let _ = writeln!(
                out,
                "ikz_import_records_total{{connector=\"{}\",outcome=\"{}\"}} {count}",
                escape(connector),
                escape(outcome)
            );
        }
        header(&mut out, "ikz_import_run_duration_seconds", "histogram", "Duration of import runs.");
        for (connector, histogram) in &inner.durations {
            let labels = format!("connector=\"{}\"", escape(connector));
            histogram_lines(&mut out, "ikz_import_run_duration_seconds", &labels, &RUN_BUCKETS, histogram);
        }
        drop(inner);
        header(
            &mut out,
            "ikz_connector_last_success_timestamp_seconds",
            "gauge",
            "When the connector's last successful run finished (Unix time); absent if it never succeeded.",
        );
        for gauge in connectors {
            if let Some(at) = gauge.last_success {
                let _ = writeln!(
                    out,
                    "ikz_connector_last_success_timestamp_seconds{{connector=\"{}\"}} {}",
                    escape(&gauge.connector),
                    number(at)
                );
            }
        }
        header(
            &mut out,
            "ikz_connector_stale",
            "gauge",
            "1 if the connector's last success is older than its stale_after.",
        );
        for gauge in connectors {
            let _ = writeln!(
                out,
                "ikz_connector_stale{{connector=\"{}\"}} {}",
                escape(&gauge.connector),
                u8::from(gauge.stale)
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram_lines(out: &mut String, name: &str, labels: &str, bounds: &[f64], histogram: &Histogram) {
    for (index, bound) in bounds.iter().enumerate() {
        let count = histogram.buckets.get(index).copied().unwrap_or(0);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{}\"}} {count}", number(*bound));
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", histogram.count);
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", number(histogram.sum));
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", histogram.count);
}

fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else if value.is_nan() {
        "NaN".into()
    } else if value > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
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
            text.contains("ikz_http_requests_total{route=\"/api/v1/x/{id}\",method=\"GET\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(text.contains(
            "ikz_http_request_duration_seconds_bucket{route=\"/api/v1/x/{id}\",method=\"GET\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "ikz_http_request_duration_seconds_bucket{route=\"/api/v1/x/{id}\",method=\"GET\",le=\"0.001\"} 0"
        ));
        assert!(text.contains("ikz_import_records_total{connector=\"a\\\"b\",outcome=\"created\"} 3"), "{text}");
        assert!(text.contains("ikz_connector_stale{connector=\"a\\\"b\"} 1"));
        assert!(text.contains("ikz_connector_last_success_timestamp_seconds{connector=\"a\\\"b\"} 1.5"));
    }
}

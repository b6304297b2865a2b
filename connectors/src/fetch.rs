//! Reading sources: local files and http(s) URLs, with timeouts, retries, a size limit and conditional GET.
//!
//! One [`Fetcher`] serves the whole process, so the per-host limit on concurrent requests holds across connectors.
//! Retries: connection errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter; a 429's or
//! 503's `Retry-After` (seconds) is honoured. Bodies larger than `max_body_bytes` are refused while they stream in,
//! so a runaway source cannot exhaust memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::Semaphore;

use crate::connector::Source;

/// The `[http]` section of the main config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// Seconds to establish a connection.
    pub connect_timeout_secs: u64,
    /// Seconds for a whole request, body included.
    pub request_timeout_secs: u64,
    /// Attempts after the first one.
    pub retries: u32,
    /// First backoff in milliseconds; doubled per attempt, with up to 50 % jitter.
    pub backoff_ms: u64,
    /// Concurrent requests per host.
    pub max_per_host: usize,
    /// Pause before each request to the same host, in milliseconds (politeness towards small servers).
    pub delay_ms: u64,
    /// A contact address for the User-Agent, so source operators can reach the IKZ.
    pub contact: Option<String>,
    /// Largest body accepted, in bytes.
    pub max_body_bytes: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            connect_timeout_secs: 10,
            request_timeout_secs: 60,
            retries: 3,
            backoff_ms: 500,
            max_per_host: 2,
            delay_ms: 0,
            contact: None,
            max_body_bytes: 200 * 1024 * 1024,
        }
    }
}

/// What makes a later request conditional: the validators of the last response (HTTP), or size and modification
/// time (files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A fetched body.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// The URL or path that was read, for error messages.
    pub location: String,
}

#[derive(Debug)]
pub enum Fetched {
    Body(Body),
    /// The source has not changed since `validators` were taken.
    NotModified,
}

#[derive(Debug, Error)]
pub enum FetchError {
    #[error("{location}: {message}")]
    Failed { location: String, message: String },
    #[error("{location}: HTTP {status}")]
    Status { location: String, status: u16 },
    #[error("{location}: the body exceeds the limit of {limit} bytes")]
    TooLarge { location: String, limit: u64 },
}

impl FetchError {
    fn failed(location: &str, message: impl std::fmt::Display) -> Self {
        FetchError::Failed { location: location.to_owned(), message: message.to_string() }
    }
}

pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let user_agent = match &settings.contact {
            Some(contact) => format!("ikz-hub/{} (+{contact})", env!("CARGO_PKG_VERSION")),
            None => format!("ikz-hub/{}", env!("CARGO_PKG_VERSION")),
        };
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(Duration::from_secs(settings.connect_timeout_secs))
            .timeout(Duration::from_secs(settings.request_timeout_secs))
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|error| FetchError::failed("http client", error))?;
        Ok(Fetcher { client, settings, hosts: Mutex::new(HashMap::new()) })
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Reads a source; `previous` makes the read conditional.
    pub async fn read(&self, source: &Source, previous: Option<&Validators>) -> Result<Fetched, FetchError> {
        match source {
            Source::File(path) => self.read_file(path, previous).await,
            Source::Http(url) => self.get(url, previous).await,
        }
    }

    async fn read_file(&self, path: &std::path::Path, previous: Option<&Validators>) -> Result<Fetched, FetchError> {
        let location = path.display().to_string();
        let metadata = tokio::fs::metadata(path).await.map_err(|error| FetchError::failed(&location, error))?;
        if metadata.len() > self.settings.max_body_bytes {
            return Err(FetchError::TooLarge { location, limit: self.settings.max_body_bytes });
        }
        let Some(validators) = file_validators(&metadata, previous) else { return Ok(Fetched::NotModified) };
        let bytes = tokio::fs::read(path).await.map_err(|error| FetchError::failed(&location, error))?;
        Ok(Fetched::Body(Body { bytes, content_type: None, validators, location }))
    }

    /// A file's validators without reading it, `None` when it has not changed since `previous`: for readers that
    /// stream the file themselves. No size limit applies, since the file is never held in memory.
    pub async fn file_validators(
        &self,
        path: &std::path::Path,
        previous: Option<&Validators>,
    ) -> Result<Option<Validators>, FetchError> {
        let metadata =
            tokio::fs::metadata(path).await.map_err(|error| FetchError::failed(&path.display().to_string(), error))?;
        if !metadata.is_file() {
            return Err(FetchError::failed(&path.display().to_string(), "not a file"));
        }
        Ok(file_validators(&metadata, previous))
    }

    /// GET `url`, conditional on `previous`, with retries.
    pub async fn get(&self, url: &str, previous: Option<&Validators>) -> Result<Fetched, FetchError> {
        // Parsed once here and handed to reqwest as it is: parsing it again per attempt showed in list walks.
        let parsed =
            reqwest::Url::parse(url).map_err(|error| FetchError::failed(url, format!("invalid URL: {error}")))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let permit = self.host_slot(&host).acquire_owned().await.map_err(|error| FetchError::failed(url, error))?;
        let mut attempt = 0;
        let result = loop {
            if self.settings.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(self.settings.delay_ms)).await;
            }
            match self.get_once(&parsed, url, previous).await {
                Err(Attempt::Retry { error, wait }) if attempt < self.settings.retries => {
                    let wait = wait.unwrap_or_else(|| self.backoff(attempt));
                    tracing::warn!(%url, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, %error, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(Attempt::Retry { error, .. }) | Err(Attempt::Final(error)) => break Err(error),
                Ok(fetched) => break Ok(fetched),
            }
        };
        drop(permit);
        result
    }

    fn host_slot(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.max_per_host.max(1))))
            .clone()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.backoff_ms.saturating_mul(1 << attempt.min(16));
        let jitter = fastrand::u64(0..=base / 2);
        Duration::from_millis(base + jitter)
    }

    async fn get_once(
        &self,
        parsed: &reqwest::Url,
        url: &str,
        previous: Option<&Validators>,
    ) -> Result<Fetched, Attempt> {
        let mut headers = HeaderMap::new();
        if let Some(previous) = previous {
            if let Some(value) = previous.etag.as_deref().and_then(|etag| HeaderValue::from_str(etag).ok()) {
                headers.insert(IF_NONE_MATCH, value);
            }
            if let Some(value) = previous.last_modified.as_deref().and_then(|date| HeaderValue::from_str(date).ok()) {
                headers.insert(IF_MODIFIED_SINCE, value);
            }
        }
        let mut response = match self.client.get(parsed.clone()).headers(headers).send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() || error.is_connect() || error.is_request() => {
                return Err(Attempt::Retry { error: FetchError::failed(url, error), wait: None })
            }
            Err(error) => return Err(Attempt::Final(FetchError::failed(url, error))),
        };
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(|seconds| Duration::from_secs(seconds.min(300)));
            let error = FetchError::Status { location: url.to_owned(), status: status.as_u16() };
            return Err(Attempt::Retry { error, wait });
        }
        if !status.is_success() {
            return Err(Attempt::Final(FetchError::Status { location: url.to_owned(), status: status.as_u16() }));
        }
        let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        let validators = Validators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) };
        let content_type = header(CONTENT_TYPE);
        let limit = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|length| length > limit) {
            return Err(Attempt::Final(FetchError::TooLarge { location: url.to_owned(), limit }));
        }
        // Sized by Content-Length when the server sends one (within the limit): growing the buffer chunk by chunk
        // copied every page body several times.
        let expected = response.content_length().unwrap_or(0).min(limit);
        let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() as u64 + chunk.len() as u64 > limit {
                        return Err(Attempt::Final(FetchError::TooLarge { location: url.to_owned(), limit }));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => {
                    let error = FetchError::failed(url, format!("reading the body failed: {error}"));
                    return Err(Attempt::Retry { error, wait: None });
                }
            }
        }
        Ok(Fetched::Body(Body { bytes, content_type, validators, location: url.to_owned() }))
    }
}

/// Size and modification time as validators, `None` when they equal `previous`.
fn file_validators(metadata: &std::fs::Metadata, previous: Option<&Validators>) -> Option<Validators> {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|since| format!("{}.{:09}", since.as_secs(), since.subsec_nanos()));
    let validators = Validators { etag: Some(format!("len={}", metadata.len())), last_modified: modified };
    let unchanged = previous == Some(&validators) && validators.last_modified.is_some();
    (!unchanged).then_some(validators)
}

/// Decodes a text body: by a byte-order mark, else as UTF-8 when it is valid UTF-8, else by the charset its
/// `Content-Type` declares; invalid UTF-8 without a declared charset is taken as windows-1252 (what "ISO-8859-1" means
/// on German servers). Valid UTF-8 wins over a declared single-byte charset: servers often send a default
/// `charset=ISO-8859-1` for UTF-8 files, while German text in a single-byte charset is practically never valid UTF-8.
pub fn decode_text<'a>(bytes: &'a [u8], content_type: Option<&str>) -> std::borrow::Cow<'a, str> {
    let declared = content_type.and_then(|value| {
        value.split(';').skip(1).find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"').to_owned())
        })
    });
    let declared = declared.and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    if let Some((encoding, bom_length)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom_length..]).0;
    }
    let single_byte = |encoding: &'static encoding_rs::Encoding| {
        encoding != encoding_rs::UTF_16LE && encoding != encoding_rs::UTF_16BE
    };
    match declared {
        Some(encoding) if single_byte(encoding) && std::str::from_utf8(bytes).is_ok() => String::from_utf8_lossy(bytes),
        Some(encoding) if encoding != encoding_rs::UTF_8 => encoding.decode_without_bom_handling(bytes).0,
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) if declared.is_none() => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
            Err(_) => String::from_utf8_lossy(bytes),
        },
    }
}

/// Appends query parameters to `url`, percent-encoding only what a query cannot hold literally. Unlike
/// `application/x-www-form-urlencoded` it keeps `:` as it is: SessionNet answers `modified_since=…T10%3A00%3A00`
/// with an error. `+` is encoded (`%2B`), since servers read a literal `+` as a space.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    const KEEP: &[u8] = b"-._~:@!$'()*,;/?";
    let encode = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || KEEP.contains(&byte) {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut out = base.to_owned();
    for (name, value) in params {
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with('?') && !out.ends_with('&') {
            out.push('&');
        }
        out.push_str(&encode(name));
        out.push('=');
        out.push_str(&encode(value));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

enum Attempt {
    Retry { error: FetchError, wait: Option<Duration> },
    Final(FetchError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unchanged_file_is_not_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("schulen.csv");
        std::fs::write(&path, "Schulnummer;Name\n66497;Gymnasium Hankensbüttel\n").expect("write");
        let fetcher = Fetcher::new(FetchSettings::default()).expect("client");
        let source = Source::File(path.clone());
        let Fetched::Body(body) = fetcher.read(&source, None).await.expect("read") else { panic!("expected a body") };
        assert!(body.bytes.starts_with(b"Schulnummer"));
        let again = fetcher.read(&source, Some(&body.validators)).await.expect("read");
        assert!(matches!(again, Fetched::NotModified));
        std::fs::write(&path, "Schulnummer;Name\n").expect("rewrite");
        assert!(matches!(fetcher.read(&source, Some(&body.validators)).await, Ok(Fetched::Body(_))));
    }

    #[test]
    fn query_parameters_keep_colons_literal() {
        let url =
            with_query("https://ris.example/oparl/papers?body=1", &[("modified_since", "2024-03-01T08:00:00+01:00")]);
        assert_eq!(url, "https://ris.example/oparl/papers?body=1&modified_since=2024-03-01T08:00:00%2B01:00");
        assert_eq!(with_query("https://x/p", &[("a", "b c")]), "https://x/p?a=b%20c");
        assert_eq!(with_query("https://x/p?", &[("a", "1")]), "https://x/p?a=1");
        // reqwest must send it as it is.
        let parsed = reqwest::Url::parse(&with_query("https://x/p", &[("t", "10:00:00Z")])).expect("url");
        assert_eq!(parsed.query(), Some("t=10:00:00Z"));
    }

    #[test]
    fn text_is_decoded_by_its_charset() {
        assert_eq!(
            decode_text("Gemeinderat Hürtgenwald".as_bytes(), Some("application/json")),
            "Gemeinderat Hürtgenwald"
        );
        assert_eq!(decode_text(b"H\xfcrtgenwald", Some("application/json; charset=ISO-8859-1")), "Hürtgenwald");
        assert_eq!(decode_text(b"H\xfcrtgenwald \x96 x", None), "Hürtgenwald – x");
        assert_eq!(decode_text(b"\xef\xbb\xbf{}", None), "{}");
        // A server's default charset on a UTF-8 file.
        assert_eq!(
            decode_text("Hankensbüttel".as_bytes(), Some("application/json; charset=ISO-8859-1")),
            "Hankensbüttel"
        );
    }

    #[tokio::test]
    async fn oversized_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.csv");
        std::fs::write(&path, vec![b'x'; 2048]).expect("write");
        let fetcher = Fetcher::new(FetchSettings { max_body_bytes: 1024, ..FetchSettings::default() }).expect("client");
        let error = fetcher.read(&Source::File(path), None).await.expect_err("too large");
        assert!(matches!(error, FetchError::TooLarge { .. }), "{error}");
    }
}

//! Limits on what one request may take: the length of its URL, the size of its body, and the time its handler
//! runs. (How long a client may take to send its request head is actix's `client_request_timeout`, set by the
//! hub.) Every refusal is a problem: 414, 413, 415, 503.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, ResponseError};

use crate::{ApiState, Problem};

/// The limits, from `[server]` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request target (path and query, as sent) in bytes; longer is a 414.
    pub max_url_bytes: usize,
    /// Largest request body in bytes; larger is a 413.
    pub max_body_bytes: usize,
    /// A handler that has not answered after this long is abandoned with a 503. Streamed exports count until their
    /// first bytes are sent.
    pub request_timeout: Duration,
}

pub const DEFAULT_MAX_URL_BYTES: usize = 8 * 1024;
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// actix reads request heads up to 128 KiB; a longer URL never reaches the limit check (actix answers 431).
pub const MAX_URL_BYTES_LIMIT: usize = 64 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_url_bytes: DEFAULT_MAX_URL_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Middleware over the whole app (before routing, so for any path): 414 for a URL over the limit.
pub async fn check_url(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = limits_of(&request).max_url_bytes;
    let url_bytes = request.uri().path_and_query().map_or(0, |target| target.as_str().len());
    if url_bytes > limit {
        let problem = Problem::new(
            StatusCode::URI_TOO_LONG,
            "URI Too Long",
            format!("the URL has {url_bytes} bytes; this server takes at most {limit}"),
        );
        return Ok(request.into_response(problem.error_response()));
    }
    next.call(request).await.map(ServiceResponse::map_into_boxed_body)
}

/// Middleware on every resource (after routing: the request is only cloned once its route is matched): a handler
/// that has not answered within the time limit is dropped and the client gets a 503.
pub async fn time_limit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limit = limits_of(&request).request_timeout;
    let http_request = request.request().clone();
    match tokio::time::timeout(limit, next.call(request)).await {
        Ok(response) => response.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(
                method = %http_request.method(),
                path = http_request.path(),
                limit_seconds = limit.as_secs_f64(),
                "request abandoned at the time limit"
            );
            let problem = Problem::unavailable(format!(
                "the request did not complete within the time limit of {} s; try again later or ask for less",
                limit.as_secs_f64()
            ));
            Ok(ServiceResponse::new(http_request, problem.error_response()))
        }
    }
}

fn limits_of(request: &ServiceRequest) -> Limits {
    request.app_data::<web::Data<ApiState>>().map(|state| state.limits).unwrap_or_default()
}

/// Reads an optional JSON object body of at most `limit` bytes: none (or an empty one) is an empty object. A
/// declared or actual size over the limit is a 413, a body that is not `application/json` a 415, and anything but a
/// JSON object a 400 naming `body`.
pub async fn json_object_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<serde_json::Map<String, serde_json::Value>, Problem> {
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Content Too Large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    // Refuse a body of another type before reading it (a chunked body has no declared length).
    let body_coming = declared.map_or(request.headers().contains_key(header::TRANSFER_ENCODING), |length| length > 0);
    if body_coming && !is_json(request) {
        return Err(unsupported_type(request));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = next_chunk(&mut payload).await {
        let chunk = chunk.map_err(|error| Problem::bad_parameter("body", format!("cannot be read: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(members)) => Ok(members),
        Ok(_) => Err(Problem::bad_parameter("body", "must be a JSON object")),
        Err(error) => Err(Problem::bad_parameter("body", format!("is not JSON: {error}"))),
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn unsupported_type(request: &HttpRequest) -> Problem {
    let given = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.chars().take(80).collect::<String>());
    let detail = match given {
        Some(given) => format!("the body is `{given}`; this route takes `application/json`"),
        None => "the body has no Content-Type; this route takes `application/json`".to_owned(),
    };
    Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type", detail)
}

/// The next chunk of a payload (`futures::StreamExt::next` without the crate).
async fn next_chunk(payload: &mut web::Payload) -> Option<Result<web::Bytes, actix_web::error::PayloadError>> {
    use futures_core::Stream;
    std::future::poll_fn(|context| std::pin::Pin::new(&mut *payload).poll_next(context)).await
}

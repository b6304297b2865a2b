//! RFC 9457 problem details: every error the API returns.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// The query parameter or path segment that was wrong (extension member), for 400s on input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Problem { kind: "about:blank", title, status: status.as_u16(), detail: detail.into(), parameter: None }
    }

    /// A 400 about one parameter: the detail names it, and so does the `parameter` member.
    pub fn bad_parameter(parameter: &str, detail: impl std::fmt::Display) -> Self {
        Problem {
            parameter: Some(parameter.to_owned()),
            ..Problem::bad_request(format!("parameter `{parameter}`: {detail}"))
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", detail)
    }

    /// A failure on our side; the detail stays in the log, the client gets a generic text.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", "the request could not be completed")
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).content_type(PROBLEM_TYPE).json(self)
    }
}

impl actix_web::Responder for Problem {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _request: &actix_web::HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

impl From<actix_web::error::BlockingError> for Problem {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Problem::internal(error)
    }
}

impl From<ikz_store::StoreError> for Problem {
    fn from(error: ikz_store::StoreError) -> Self {
        match error {
            ikz_store::StoreError::Pool(_) | ikz_store::StoreError::Connect { .. } => {
                tracing::warn!(%error, "database unavailable");
                Problem::unavailable("the database is not reachable right now")
            }
            ikz_store::StoreError::Cursor => Problem::bad_parameter("cursor", "does not fit the sort order"),
            ikz_store::StoreError::Sort(field) => Problem::bad_parameter("sort", format!("`{field}` is not sortable")),
            other => Problem::internal(other),
        }
    }
}

const PROBLEM_TYPE: &str = "application/problem+json";

/// Middleware over the whole app: an error answered by something other than our handlers (actix-cors refusing a
/// preflight, an actix extractor) becomes a problem too, with its status and headers; its
/// text, if short, is the detail.
pub async fn ensure_problem(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // (An `Err` passes through: actix answers it with its `error_response`, and ours are problems already.)
    let response = next.call(request).await?.map_into_boxed_body();
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_TYPE.as_bytes()));
    if status.as_u16() < 400 || is_problem {
        return Ok(response);
    }
    let (http_request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = body
        .try_into_bytes()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty() && text.len() <= 300 && !text.contains('<'))
        .unwrap_or_else(|| title.to_owned());
    let mut problem = Problem::new(status, title, detail).error_response();
    for (name, value) in head.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(http_request, problem))
}

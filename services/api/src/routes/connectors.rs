//! Connectors: `GET /api/v1/connectors`, `GET /api/v1/connectors/{id}/runs`, `POST /api/v1/connectors/{id}/runs`
//! (admin).
//!
//! The API does not know the hub: what it needs (the configured connectors, their next run time, a way to start a
//! run) comes through [`ConnectorControl`] in [`ApiState`](crate::ApiState); run history comes from the store.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use ikz_store::queries::{self, RunFilter};
use ikz_store::rows::ImportRunRow;
use ikz_store::{Store, StoreError};
use serde::Serialize;
use serde_json::json;

use super::{Links, ListPage};
use crate::auth::{Admin, Reader};
use crate::{ApiState, Problem};

/// A configured connector as the hub describes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectorInfo {
    pub id: String,
    pub kind: String,
    pub partner: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// The cron expression (six fields, seconds first), read in `timezone`.
    pub schedule: Option<String>,
    pub timezone: String,
    /// The next scheduled run (UTC); none when the connector is disabled, unscheduled or the scheduler is off.
    pub next_run_at: Option<DateTime<Utc>>,
    /// As configured ("36h").
    pub stale_after: Option<String>,
    #[serde(skip)]
    pub stale_after_seconds: Option<i64>,
}

/// Why a trigger did not start a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerError {
    UnknownConnector(String),
    Disabled(String),
    /// Running already (here or in another replica); recorded as a skipped run.
    Skipped {
        connector: String,
        reason: String,
    },
    ShuttingDown,
    Internal(String),
}

impl From<TriggerError> for Problem {
    fn from(error: TriggerError) -> Self {
        use actix_web::http::StatusCode;
        match error {
            TriggerError::UnknownConnector(id) => Problem::not_found(format!("connector `{id}` is not configured")),
            TriggerError::Disabled(id) => {
                Problem::new(StatusCode::CONFLICT, "Conflict", format!("connector `{id}` is disabled in the config"))
            }
            TriggerError::Skipped { connector, reason } => Problem::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!("connector `{connector}` was not started: {reason}; the trigger is recorded as a skipped run"),
            ),
            TriggerError::ShuttingDown => Problem::unavailable("ikz-hub is shutting down"),
            TriggerError::Internal(message) => Problem::internal(message),
        }
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the hub gives the API.
pub trait ConnectorControl: Send + Sync {
    fn connectors(&self) -> Vec<ConnectorInfo>;
    /// Starts a run in the background; resolves to its id once it is recorded as `running`.
    fn trigger(&self, connector: &str) -> BoxFuture<Result<i64, TriggerError>>;
}

/// A connector with its run history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Connector)]
pub struct ConnectorView {
    #[serde(flatten)]
    pub info: ConnectorInfo,
    pub last_run: Option<ImportRunRow>,
    #[serde(serialize_with = "utc_opt")]
    pub last_success_at: Option<NaiveDateTime>,
    /// Enabled, has `stale_after`, and its last success is older than that (or it never succeeded).
    pub stale: bool,
}

fn utc_opt<S: serde::Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    at.map(|at| at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)).serialize(serializer)
}

/// The configured connectors with their last run, last success and stale flag. Blocks (database).
pub fn views(store: &Store, control: &dyn ConnectorControl) -> Result<Vec<ConnectorView>, StoreError> {
    let infos = control.connectors();
    let ids: Vec<String> = infos.iter().map(|info| info.id.clone()).collect();
    let mut conn = store.connection()?;
    let statuses = ikz_store::runs::connector_status(&mut conn, &ids)?;
    let now = Utc::now().naive_utc();
    Ok(infos
        .into_iter()
        .zip(statuses)
        .map(|(info, status)| {
            let stale = info.enabled
                && info.stale_after_seconds.is_some_and(|seconds| match status.last_success_at {
                    Some(at) => (now - at).num_seconds() > seconds,
                    None => true,
                });
            ConnectorView { info, last_run: status.last_run, last_success_at: status.last_success_at, stale }
        })
        .collect())
}

/// The ids of stale connectors (for /readyz); empty without a hub.
pub fn stale_connectors(state: &ApiState) -> Result<Vec<String>, StoreError> {
    let Some(control) = &state.connectors else { return Ok(Vec::new()) };
    Ok(views(&state.store, control.as_ref())?.into_iter().filter(|view| view.stale).map(|view| view.info.id).collect())
}

fn control(state: &ApiState) -> Result<Arc<dyn ConnectorControl>, Problem> {
    state.connectors.clone().ok_or_else(|| Problem::unavailable("this server has no connectors"))
}

/// `GET /api/v1/connectors`
pub async fn list(_reader: Reader, state: web::Data<ApiState>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    // No parameters: a typo must not look like a filter that matched everything.
    crate::list::Params::parse(request.query_string(), &[])?;
    let control = control(&state)?;
    let store = state.store.clone();
    let data = web::block(move || views(&store, control.as_ref())).await??;
    let meta = json!({ "count": data.len() });
    crate::format::json(&request, &ListPage { data, links: Links::default(), meta })
}

/// `GET /api/v1/connectors/{id}/runs`: the connector's runs, newest first, skipped triggers included.
pub async fn runs(
    _reader: Reader,
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    crate::list::check_id(&id)?;
    let control = control(&state)?;
    if !control.connectors().iter().any(|info| info.id == id) {
        return Err(Problem::not_found(format!("connector `{id}` is not configured")));
    }
    let query = super::runs::RunQuery::parse(request.query_string(), false)?;
    let limit = query.limit;
    let before_id = query.before_id()?;
    let filter = RunFilter { connector: Some(id.clone()), status: query.status.clone(), before_id, limit: limit + 1 };
    let store = state.store.clone();
    let mut runs = web::block(move || -> Result<_, StoreError> {
        let mut conn = store.connection()?;
        queries::list_runs(&mut conn, &filter)
    })
    .await??;
    let next = if runs.len() as i64 > limit {
        runs.truncate(limit as usize);
        runs.last().map(|last| {
            let cursor = format!("r{:x}", last.id);
            let limit = limit.to_string();
            let mut params = vec![("limit", limit.as_str()), ("cursor", cursor.as_str())];
            params.extend(query.status.as_deref().map(|status| ("status", status)));
            format!("{}?{}", request.path(), serde_urlencoded::to_string(&params).unwrap_or_default())
        })
    } else {
        None
    };
    crate::format::json(&request, &ListPage { data: runs, links: Links { next }, meta: json!({ "limit": limit }) })
}

/// `POST /api/v1/connectors/{id}/runs` (admin): starts a run; 202 with its id, 409 if the connector is running.
///
/// The body is optional: none, or an empty JSON object (`{}`, which HTTP clients often send with a POST). It has no
/// members yet; any member is refused, so that a client expecting an option to take effect learns it does not.
pub async fn trigger(
    admin: Admin,
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    crate::list::check_id(&id)?;
    let options = crate::limits::json_object_body(&request, body, state.limits.max_body_bytes).await?;
    if let Some(member) = options.keys().next() {
        let shown: String = member.chars().take(40).filter(|c| !c.is_control()).collect();
        return Err(Problem::bad_parameter("body", format!("unknown member `{shown}`; the body takes no members")));
    }
    let control = control(&state)?;
    tracing::info!(connector = %id, token = %admin.token, "run requested over the API");
    let run_id = control.trigger(&id).await?;
    let location = format!("/api/v1/import-runs/{run_id}");
    let started = TriggeredRun { run_id, connector: id, status: "running", href: location.clone() };
    Ok(HttpResponse::Accepted().insert_header((header::LOCATION, location)).json(json!({ "data": started })))
}

/// A run the trigger started.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TriggeredRun {
    pub run_id: i64,
    pub connector: String,
    /// `running`: the run is recorded and goes on in the background.
    pub status: &'static str,
    /// The run in the run log (also the `Location` header).
    pub href: String,
}

//! `GET /api/v1/import-runs` (newest first) and `GET /api/v1/import-runs/{id}` with its rejected records.

use actix_web::{web, HttpRequest, HttpResponse};
use ikz_store::queries::{self, RunFilter};
use serde_json::json;

use super::{Links, ListPage};
use crate::list::Params;
use crate::{ApiState, Problem};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 1000;
const MAX_REJECTS: i64 = 1000;

/// The run log's query: checked by name like the entity lists, so a bad value gets a 400 naming it.
pub(crate) struct RunQuery {
    pub(crate) status: Option<String>,
    pub(crate) limit: i64,
    connector: Option<String>,
    cursor: Option<String>,
}

impl RunQuery {
    pub(crate) fn parse(query: &str, with_connector: bool) -> Result<RunQuery, Problem> {
        let known: &[&str] =
            if with_connector { &["connector", "status", "limit", "cursor"] } else { &["status", "limit", "cursor"] };
        let params = Params::parse(query, known)?;
        let statuses: Vec<&str> = ikz_store::RunStatus::ALL.iter().map(|status| status.as_str()).collect();
        let limit = match params.text("limit")? {
            None => DEFAULT_LIMIT,
            Some(text) => {
                text.parse::<i64>().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)).ok_or_else(|| {
                    Problem::bad_parameter("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))
                })?
            }
        };
        Ok(RunQuery {
            connector: params.text("connector")?,
            status: params.one_of("status", &statuses)?,
            limit,
            cursor: params.text("cursor")?,
        })
    }

    /// The run id a cursor continues below.
    pub fn before_id(&self) -> Result<Option<i64>, Problem> {
        self.cursor
            .as_deref()
            .map(|cursor| {
                decode_cursor(cursor).ok_or_else(|| {
                    Problem::bad_parameter("cursor", "is not a cursor of this list (take it from `links.next`)")
                })
            })
            .transpose()
    }
}

pub async fn list(state: web::Data<ApiState>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let query = RunQuery::parse(request.query_string(), true)?;
    let limit = query.limit;
    let before_id = query.before_id()?;
    let filter =
        RunFilter { connector: query.connector.clone(), status: query.status.clone(), before_id, limit: limit + 1 };
    let store = state.store.clone();
    let mut runs = web::block(move || -> Result<_, ikz_store::StoreError> {
        let mut conn = store.connection()?;
        queries::list_runs(&mut conn, &filter)
    })
    .await??;
    let next = if runs.len() as i64 > limit {
        runs.truncate(limit as usize);
        runs.last().map(|last| {
            let cursor = encode_cursor(last.id);
            let limit = limit.to_string();
            let mut params = vec![("limit", limit.as_str()), ("cursor", cursor.as_str())];
            params.extend(query.connector.as_deref().map(|connector| ("connector", connector)));
            params.extend(query.status.as_deref().map(|status| ("status", status)));
            let encoded = serde_urlencoded::to_string(&params).unwrap_or_default();
            format!("{}?{encoded}", request.path())
        })
    } else {
        None
    };
    let meta = json!({ "limit": limit });
    crate::format::json(&request, &ListPage { data: runs, links: Links { next }, meta })
}

/// One run; its rejected records (values from the sources) only for admin tokens, as ARCHITECTURE.md says.
pub async fn get(
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
    admin: Option<crate::auth::Admin>,
) -> Result<HttpResponse, Problem> {
    let with_rejects = admin.is_some();
    let id: i64 = path.parse().map_err(|_| Problem::bad_parameter("id", "must be a run number (a whole number)"))?;
    let store = state.store.clone();
    let found = web::block(move || -> Result<_, ikz_store::StoreError> {
        let mut conn = store.connection()?;
        let run = queries::get_run(&mut conn, id)?;
        let rejects = match &run {
            Some(_) if with_rejects => queries::rejected_records(&mut conn, id, MAX_REJECTS)?,
            _ => Vec::new(),
        };
        Ok(run.map(|run| (run, rejects)))
    })
    .await??;
    let (run, rejects) = found.ok_or_else(|| Problem::not_found(format!("import run {id} does not exist")))?;
    let mut body = serde_json::to_value(&run).map_err(Problem::internal)?;
    if with_rejects {
        body["rejected_records"] = serde_json::to_value(&rejects).map_err(Problem::internal)?;
    }
    crate::format::json(&request, &json!({ "data": body }))
}

/// Cursors are opaque to clients; today they carry the last run id seen.
fn encode_cursor(id: i64) -> String {
    format!("r{id:x}")
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    // Lower-case hex digits only (`from_str_radix` would take a sign and upper case too).
    cursor
        .strip_prefix('r')
        .filter(|hex| !hex.is_empty() && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(4711)), Some(4711));
        assert_eq!(decode_cursor("4711"), None);
        assert_eq!(decode_cursor("rzz"), None);
        assert_eq!(decode_cursor("r-5"), None);
        assert_eq!(decode_cursor("r+5"), None);
        assert_eq!(decode_cursor("rA"), None);
        assert_eq!(decode_cursor("r0"), None);
    }
}

//! Liveness and readiness for service managers and load balancers.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::{ApiState, Problem};

/// The process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and its schema is current. Stale connectors (last success older than their
/// `stale_after`) are listed in the body; they do not make the process unready.
pub async fn readyz(state: web::Data<ApiState>) -> Result<HttpResponse, Problem> {
    let shared = state.clone();
    let checked = web::block(move || {
        shared.store.check_ready()?;
        super::connectors::stale_connectors(&shared)
    });
    match checked.await? {
        Ok(stale) => Ok(HttpResponse::Ok().json(
            json!({ "status": "ready", "database": state.store.url().backend_name(), "stale_connectors": stale }),
        )),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            Err(Problem::unavailable(format!("not ready: {}", readiness_reason(&error))))
        }
    }
}

/// What a monitoring system may be told; never the URL or credentials.
fn readiness_reason(error: &ikz_store::StoreError) -> &'static str {
    match error {
        ikz_store::StoreError::Migration(_) => "database migrations are pending",
        _ => "the database is not reachable",
    }
}

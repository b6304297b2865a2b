//! Liveness and readiness for service managers and load balancers.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::{ApiState, Problem};

/// The process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and its schema is current.
pub async fn readyz(state: web::Data<ApiState>) -> Result<HttpResponse, Problem> {
    let store = state.store.clone();
    match web::block(move || store.check_ready()).await? {
        Ok(()) => {
            Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": state.store.url().backend_name() })))
        }
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

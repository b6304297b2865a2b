//! `GET /api/v1/partners`: the IKZ partners from config.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{Links, ListPage};
use crate::{ApiState, Problem};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerQuery {
    /// Include partners removed from config.
    #[serde(default)]
    include_deleted: bool,
}

pub async fn list(state: web::Data<ApiState>, query: web::Query<PartnerQuery>) -> Result<HttpResponse, Problem> {
    let store = state.store.clone();
    let include_deleted = query.include_deleted;
    let partners = web::block(move || -> Result<_, ikz_store::StoreError> {
        let mut conn = store.connection()?;
        ikz_store::queries::list_partners(&mut conn, include_deleted)
    })
    .await??;
    let meta = json!({ "count": partners.len() });
    Ok(HttpResponse::Ok().json(ListPage { data: partners, links: Links::default(), meta }))
}

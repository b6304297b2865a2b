//! `GET /api/v1/partners`: the IKZ partners from config.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{Links, ListPage};
use crate::list::Params;
use crate::{ApiState, Problem};

pub async fn list(state: web::Data<ApiState>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let params = Params::parse(request.query_string(), &["include_deleted"])?;
    // Include partners removed from config.
    let include_deleted = params.boolean("include_deleted")?.unwrap_or(false);
    let store = state.store.clone();
    let partners = web::block(move || -> Result<_, ikz_store::StoreError> {
        let mut conn = store.connection()?;
        ikz_store::queries::list_partners(&mut conn, include_deleted)
    })
    .await??;
    let meta = json!({ "count": partners.len() });
    // As every record is served: `deleted` beside `deleted_at`.
    let data = partners.iter().map(crate::format::Item::from_row).collect::<Result<Vec<_>, _>>()?;
    crate::format::json(&request, &ListPage { data, links: Links::default(), meta })
}

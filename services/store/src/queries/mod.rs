//! What the API and the CLI read, and the partner sync.

use diesel::prelude::*;
use ikz_connectors::model::Partner;

use crate::connection::DbConnection;
use crate::rows::{ImportRunRow, PartnerRow, RejectedRecordRow};
use crate::schema::{import_run, partner, rejected_record};
use crate::StoreError;

pub(crate) fn sync_partners(conn: &mut DbConnection, partners: &[Partner]) -> Result<(), StoreError> {
    let now = crate::now();
    conn.transaction(|conn| {
        let mut changed = false;
        let stored: Vec<PartnerRow> = partner::table.select(PartnerRow::as_select()).load(conn)?;
        for configured in partners {
            let row = PartnerRow {
                id: configured.slug.clone(),
                name: configured.name.clone(),
                kind: configured.kind.as_str().to_owned(),
                ags: configured.ags.as_ref().map(|ags| ags.as_str().to_owned()),
                aliases: serde_json::to_string(&configured.aliases).unwrap_or_else(|_| "[]".into()),
                modified_at: now,
                deleted_at: None,
            };
            match stored.iter().find(|stored| stored.id == row.id) {
                None => {
                    diesel::insert_into(partner::table).values(&row).execute(conn)?;
                    changed = true;
                }
                Some(old) if PartnerRow { modified_at: old.modified_at, ..row.clone() } != *old => {
                    diesel::update(partner::table.find(&row.id)).set(&row).execute(conn)?;
                    changed = true;
                }
                Some(_) => {}
            }
        }
        for gone in stored.iter().filter(|s| s.deleted_at.is_none() && !partners.iter().any(|p| p.slug == s.id)) {
            diesel::update(partner::table.find(&gone.id))
                .set((partner::deleted_at.eq(now), partner::modified_at.eq(now)))
                .execute(conn)?;
            changed = true;
        }
        if changed {
            crate::revision::raise(conn)?;
        }
        Ok(())
    })
}

/// Partners ordered by slug; tombstoned ones only when asked for.
pub fn list_partners(conn: &mut DbConnection, include_deleted: bool) -> Result<Vec<PartnerRow>, StoreError> {
    let mut query = partner::table.select(PartnerRow::as_select()).order(partner::id).into_boxed();
    if !include_deleted {
        query = query.filter(partner::deleted_at.is_null());
    }
    Ok(query.load(conn)?)
}

/// Filters for the run log.
#[derive(Debug, Default, Clone)]
pub struct RunFilter {
    pub connector: Option<String>,
    pub status: Option<String>,
    /// Only runs with an id below this one (keyset pagination, newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Runs, newest first.
pub fn list_runs(conn: &mut DbConnection, filter: &RunFilter) -> Result<Vec<ImportRunRow>, StoreError> {
    let mut query = import_run::table.select(ImportRunRow::as_select()).order(import_run::id.desc()).into_boxed();
    if let Some(connector) = &filter.connector {
        query = query.filter(import_run::connector.eq(connector.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(import_run::status.eq(status.clone()));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(import_run::id.lt(before));
    }
    Ok(query.limit(filter.limit.max(1)).load(conn)?)
}

pub fn get_run(conn: &mut DbConnection, id: i64) -> Result<Option<ImportRunRow>, StoreError> {
    Ok(import_run::table.find(id).select(ImportRunRow::as_select()).first(conn).optional()?)
}

pub fn rejected_records(
    conn: &mut DbConnection,
    run_id: i64,
    limit: i64,
) -> Result<Vec<RejectedRecordRow>, StoreError> {
    Ok(rejected_record::table
        .filter(rejected_record::run_id.eq(run_id))
        .order(rejected_record::id)
        .limit(limit)
        .select(RejectedRecordRow::as_select())
        .load(conn)?)
}

/// The watermark of the connector's last successful run that left one.
pub fn last_watermark(conn: &mut DbConnection, connector: &str) -> Result<Option<String>, StoreError> {
    Ok(import_run::table
        .filter(import_run::connector.eq(connector))
        .filter(import_run::status.eq_any(["succeeded", "unchanged"]))
        .filter(import_run::watermark.is_not_null())
        .order(import_run::id.desc())
        .select(import_run::watermark)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Has the connector ever completed a run (succeeded or unchanged)?
pub fn has_succeeded(conn: &mut DbConnection, connector: &str) -> Result<bool, StoreError> {
    use diesel::dsl::exists;
    Ok(diesel::select(exists(
        import_run::table
            .filter(import_run::connector.eq(connector))
            .filter(import_run::status.eq_any(["succeeded", "unchanged"])),
    ))
    .get_result(conn)?)
}

mod keyset;
mod resources;
mod summary;

pub use keyset::{search_terms, FieldKind, Page, SortField, SortValue};
pub use resources::*;
pub use summary::*;

//! The operations an import needs on every entity table, written once and stamped out per table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ikz_connectors::model::EntityKind;
use sha2::{Digest, Sha256};

use crate::connection::DbConnection;
use crate::convert::AnyRow;
use crate::rows::*;
use crate::schema::*;

/// What the store knows about a stored record when a new version arrives.
pub(crate) struct Existing {
    pub id: String,
    pub source_key: String,
    pub content_hash: String,
    pub first_seen_at: NaiveDateTime,
    pub modified_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// SQLite's default limit of bind parameters per statement (32766), with room to spare; tables have ≤ 32 columns.
const MAX_BIND_PARAMETERS: usize = 32_000;

/// Rows per multi-row INSERT on SQLite: large enough to save round trips through the statement, small enough that
/// the remainder of a batch (inserted row by row) stays short.
const SQLITE_ROWS_PER_INSERT: usize = 50;

type ExistingTuple = (String, String, String, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);

fn existing_from((id, source_key, content_hash, first_seen_at, modified_at, deleted_at): ExistingTuple) -> Existing {
    Existing { id, source_key, content_hash, first_seen_at, modified_at, deleted_at }
}

macro_rules! table_ops {
    ($($kind:ident => $table:ident, $row:ident;)*) => {
        /// The stored versions of `keys` from `source`.
        pub(crate) fn existing(
            conn: &mut DbConnection,
            kind: EntityKind,
            source: &str,
            keys: &[&str],
        ) -> QueryResult<Vec<Existing>> {
            let tuples: Vec<ExistingTuple> = match kind {
                $(EntityKind::$kind => $table::table
                    .filter($table::source.eq(source))
                    .filter($table::source_key.eq_any(keys))
                    .select(($table::id, $table::source_key, $table::content_hash, $table::first_seen_at,
                        $table::modified_at, $table::deleted_at))
                    .load(conn)?,)*
            };
            Ok(tuples.into_iter().map(existing_from).collect())
        }

        /// Whether `source` has stored any record of this entity (live or tombstoned).
        pub(crate) fn source_has_rows(conn: &mut DbConnection, kind: EntityKind, source: &str) -> QueryResult<bool> {
            match kind {
                $(EntityKind::$kind => diesel::select(diesel::dsl::exists(
                    $table::table.filter($table::source.eq(source)),
                ))
                .get_result(conn),)*
            }
        }

        /// Which source holds each of these ids (ids are unique across sources): (id, source) pairs.
        pub(crate) fn holders(conn: &mut DbConnection, kind: EntityKind, ids: &[&str]) -> QueryResult<Vec<(String, String)>> {
            match kind {
                $(EntityKind::$kind => $table::table
                    .filter($table::id.eq_any(ids))
                    .select(($table::id, $table::source))
                    .load(conn),)*
            }
        }

        /// Inserts rows of one entity in multi-row statements, sized to stay under SQLite's bind-parameter limit.
        pub(crate) fn insert_many(conn: &mut DbConnection, kind: EntityKind, rows: Vec<AnyRow>) -> QueryResult<usize> {
            let mut inserted = 0;
            match kind {
                $(EntityKind::$kind => {
                    let rows: Vec<$row> = rows.into_iter().filter_map(|row| match row {
                        AnyRow::$kind(row) => Some(row),
                        _ => None,
                    }).collect();
                    // MultiConnection cannot build multi-row inserts, so each backend's connection runs its own.
                    match conn {
                        DbConnection::Sqlite(conn) => {
                            // Fixed-size statements are prepared once and reused (diesel caches them by type);
                            // a statement sized by the slice would be built and compiled anew every time. The rows
                            // insert None as NULL (`treat_none_as_default_value = false`): with DEFAULT, diesel
                            // runs a SQLite batch row by row, building each row's SQL again.
                            let mut chunks = rows.chunks_exact(SQLITE_ROWS_PER_INSERT);
                            for chunk in &mut chunks {
                                let chunk: &[$row; SQLITE_ROWS_PER_INSERT] = chunk.try_into().map_err(|_| {
                                    diesel::result::Error::QueryBuilderError("insert chunk of the wrong size".into())
                                })?;
                                inserted += diesel::insert_into($table::table).values(chunk).execute(conn)?;
                            }
                            for row in chunks.remainder() {
                                inserted += diesel::insert_into($table::table).values(row).execute(conn)?;
                            }
                        }
                        DbConnection::Postgresql(conn) => {
                            for chunk in rows.chunks(MAX_BIND_PARAMETERS / 32) {
                                inserted += diesel::insert_into($table::table).values(chunk).execute(conn)?;
                            }
                        }
                    }
                })*
            }
            Ok(inserted)
        }

        /// Rewrites a changed record; `first_seen_at` stays as it was, and so does `modified_at` when given (a record
        /// a run changed and then changed back).
        pub(crate) fn update(
            conn: &mut DbConnection,
            row: &mut AnyRow,
            first_seen_at: NaiveDateTime,
            modified_at: Option<NaiveDateTime>,
        ) -> QueryResult<usize> {
            match row {
                $(AnyRow::$kind(row) => {
                    row.first_seen_at = first_seen_at;
                    if let Some(modified_at) = modified_at {
                        row.modified_at = modified_at;
                    }
                    diesel::update($table::table.find(row.id.clone())).set(&*row).execute(conn)
                })*
            }
        }

        /// Marks unchanged records as seen in this run without rewriting their content.
        pub(crate) fn touch(conn: &mut DbConnection, kind: EntityKind, ids: &[&str], seen_at: NaiveDateTime) -> QueryResult<usize> {
            match kind {
                $(EntityKind::$kind => diesel::update($table::table.filter($table::id.eq_any(ids)))
                    .set($table::last_seen_at.eq(seen_at))
                    .execute(conn),)*
            }
        }

        /// Live (not tombstoned) records of `source`.
        pub(crate) fn count_live(conn: &mut DbConnection, kind: EntityKind, source: &str) -> QueryResult<i64> {
            match kind {
                $(EntityKind::$kind => $table::table
                    .filter($table::source.eq(source))
                    .filter($table::deleted_at.is_null())
                    .count()
                    .get_result(conn),)*
            }
        }

        /// Live records of `source` not seen since `since`.
        pub(crate) fn count_unseen(conn: &mut DbConnection, kind: EntityKind, source: &str, since: NaiveDateTime) -> QueryResult<i64> {
            match kind {
                $(EntityKind::$kind => $table::table
                    .filter($table::source.eq(source))
                    .filter($table::deleted_at.is_null())
                    .filter($table::last_seen_at.lt(since))
                    .count()
                    .get_result(conn),)*
            }
        }

        /// Tombstones live records of `source` not seen since `since`.
        pub(crate) fn tombstone_unseen(conn: &mut DbConnection, kind: EntityKind, source: &str, since: NaiveDateTime, now: NaiveDateTime) -> QueryResult<usize> {
            match kind {
                $(EntityKind::$kind => diesel::update($table::table
                        .filter($table::source.eq(source))
                        .filter($table::deleted_at.is_null())
                        .filter($table::last_seen_at.lt(since)))
                    .set(($table::deleted_at.eq(now), $table::modified_at.eq(now)))
                    .execute(conn),)*
            }
        }

        /// Tombstones the live records of `source` with these keys (a source said they were deleted).
        pub(crate) fn tombstone_keys(conn: &mut DbConnection, kind: EntityKind, source: &str, keys: &[&str], now: NaiveDateTime) -> QueryResult<usize> {
            match kind {
                $(EntityKind::$kind => diesel::update($table::table
                        .filter($table::source.eq(source))
                        .filter($table::deleted_at.is_null())
                        .filter($table::source_key.eq_any(keys)))
                    .set(($table::deleted_at.eq(now), $table::modified_at.eq(now)))
                    .execute(conn),)*
            }
        }

        /// A digest of every row of one table, in id order: equal digests mean equal contents.
        pub(crate) fn digest_table(conn: &mut DbConnection, kind: EntityKind, hasher: &mut Sha256) -> QueryResult<usize> {
            match kind {
                $(EntityKind::$kind => {
                    let rows: Vec<$row> = $table::table.order($table::id).select($row::as_select()).load(conn)?;
                    for row in &rows {
                        hasher.update(serde_json::to_vec(row).unwrap_or_default());
                    }
                    Ok(rows.len())
                })*
            }
        }
    };
}

table_ops! {
    Organization => organization, OrganizationRow;
    Person => person, PersonRow;
    Membership => membership, MembershipRow;
    Meeting => meeting, MeetingRow;
    AgendaItem => agenda_item, AgendaItemRow;
    Paper => paper, PaperRow;
    Consultation => consultation, ConsultationRow;
    File => file, FileRow;
    School => school, SchoolRow;
    MediaConcept => media_concept, MediaConceptRow;
    Equipment => equipment, EquipmentRow;
    FundingProgram => funding_program, FundingProgramRow;
    FundingBudget => funding_budget, FundingBudgetRow;
    FundingApplication => funding_application, FundingApplicationRow;
}

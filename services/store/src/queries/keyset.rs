//! The list machinery every entity list shares: keyset pagination on (sort field, id), `modified_since` with
//! tombstones, and full-text search.
//!
//! Keyset, not offsets: a page starts strictly after the last (sort value, id) of the previous page, so rows written
//! between two requests never shift the pages — nothing repeats and nothing is skipped. Nullable sort fields sort
//! their NULLs last (ascending) / first (descending) on both backends, spelled out with `col IS NULL` because SQLite
//! and PostgreSQL disagree on where NULLs go by default.

use chrono::{NaiveDate, NaiveDateTime};

/// The SQL type of a sortable column, as far as the cursor needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    NullText,
    Int,
    NullInt,
    BigInt,
    NullBigInt,
    Date,
    NullDate,
    Timestamp,
    NullTimestamp,
}

impl FieldKind {
    pub fn nullable(self) -> bool {
        matches!(
            self,
            FieldKind::NullText
                | FieldKind::NullInt
                | FieldKind::NullBigInt
                | FieldKind::NullDate
                | FieldKind::NullTimestamp
        )
    }
}

/// A column a list may be sorted by (an indexed one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortField {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The last sort value a page ended on.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Null,
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl SortValue {
    pub(crate) fn text(self) -> Option<String> {
        match self {
            SortValue::Text(value) => Some(value),
            _ => None,
        }
    }
    pub(crate) fn int(self) -> Option<i32> {
        match self {
            SortValue::Int(value) => i32::try_from(value).ok(),
            _ => None,
        }
    }
    pub(crate) fn bigint(self) -> Option<i64> {
        match self {
            SortValue::Int(value) => Some(value),
            _ => None,
        }
    }
    pub(crate) fn date(self) -> Option<NaiveDate> {
        match self {
            SortValue::Date(value) => Some(value),
            _ => None,
        }
    }
    pub(crate) fn timestamp(self) -> Option<NaiveDateTime> {
        match self {
            SortValue::Timestamp(value) => Some(value),
            _ => None,
        }
    }
}

/// Which page of a list: sort, where the previous page ended, how many rows, and the sync filter.
#[derive(Debug, Clone)]
pub struct Page {
    /// A name from the list's sort fields.
    pub sort: &'static str,
    pub descending: bool,
    /// The (sort value, id) of the last row of the previous page.
    pub after: Option<(SortValue, String)>,
    /// Rows to load (the API asks for one more than it serves, to know whether a next page exists).
    pub limit: i64,
    /// Rows modified at or after this instant, tombstoned ones included. Without it tombstones are hidden.
    pub modified_since: Option<NaiveDateTime>,
}

/// Splits a search text into normalised terms: lower case, umlauts spelled out (ä → ae, ö → oe, ü → ue, ß → ss),
/// split at anything that is not a letter or digit. The search indexes fold the stored text the same way, so
/// "Schultraeger", "SCHULTRÄGER" and "schulträger" all match "Schulträger". At most 8 terms.
pub fn search_terms(q: &str) -> Vec<String> {
    fold(q).split(|c: char| !c.is_alphanumeric()).filter(|term| !term.is_empty()).take(8).map(str::to_owned).collect()
}

/// Lower case with German umlauts and ß spelled out.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            other => out.push(other),
        }
    }
    out
}

/// Which SQL a full-text condition is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchBackend {
    Sqlite,
    Postgres,
}

impl SearchBackend {
    pub(crate) fn of(conn: &crate::connection::DbConnection) -> SearchBackend {
        match conn {
            crate::connection::DbConnection::Sqlite(_) => SearchBackend::Sqlite,
            crate::connection::DbConnection::Postgresql(_) => SearchBackend::Postgres,
        }
    }
}

/// Every term of `terms` (from [`search_terms`]) occurs as a word or word prefix in the search index of `table`
/// (migration `search_and_sort_indexes`, which folds the stored text like [`fold`]).
///
/// SQLite: the FTS5 table `<table>_search`, keyed by the row's rowid, queried with `"term"*` prefixes (implicit
/// AND). PostgreSQL: the generated tsvector column `search` (German and simple configuration), each term as a
/// `term:*` prefix query under both configurations. Terms hold only letters and digits, so they cannot break out of
/// the quotes; they are bound as parameters anyway. `table` is one of the store's table names, never input.
pub(crate) fn full_text<QS>(
    backend: SearchBackend,
    table: &'static str,
    terms: &[String],
) -> Box<dyn diesel::BoxableExpression<QS, crate::connection::MultiBackend, SqlType = diesel::sql_types::Bool>>
where
    QS: 'static,
{
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    match backend {
        SearchBackend::Sqlite => {
            let query =
                terms.iter().map(|term| format!("\"{}\"*", term.replace('"', ""))).collect::<Vec<_>>().join(" ");
            Box::new(
                sql::<Bool>(&format!("{table}.rowid IN (SELECT rowid FROM {table}_search WHERE {table}_search MATCH "))
                    .bind::<Text, _>(query)
                    .sql(")"),
            )
        }
        SearchBackend::Postgres => {
            use diesel::BoolExpressionMethods;
            let mut condition: Box<dyn diesel::BoxableExpression<QS, crate::connection::MultiBackend, SqlType = Bool>> =
                Box::new(sql::<Bool>("TRUE"));
            for term in terms {
                let prefix = format!("{}:*", term.replace(['\'', ':', '&', '|', '!', '(', ')', '*', '\\'], ""));
                let matches = sql::<Bool>(&format!("{table}.search @@ (to_tsquery('german', "))
                    .bind::<Text, _>(prefix.clone())
                    .sql(") || to_tsquery('simple', ")
                    .bind::<Text, _>(prefix)
                    .sql("))");
                condition = Box::new(condition.and(matches));
            }
            condition
        }
    }
}

/// Applies the sort and the keyset condition of `$page` on column `$col` of `$table`.
macro_rules! keyset {
    ($query:ident, $table:ident, $col:ident, Text, $page:ident) => { keyset!(@plain $query, $table, $col, text, $page) };
    ($query:ident, $table:ident, $col:ident, Int, $page:ident) => { keyset!(@plain $query, $table, $col, int, $page) };
    ($query:ident, $table:ident, $col:ident, BigInt, $page:ident) => { keyset!(@plain $query, $table, $col, bigint, $page) };
    ($query:ident, $table:ident, $col:ident, Date, $page:ident) => { keyset!(@plain $query, $table, $col, date, $page) };
    ($query:ident, $table:ident, $col:ident, Timestamp, $page:ident) => { keyset!(@plain $query, $table, $col, timestamp, $page) };
    ($query:ident, $table:ident, $col:ident, NullText, $page:ident) => { keyset!(@null $query, $table, $col, text, $page) };
    ($query:ident, $table:ident, $col:ident, NullInt, $page:ident) => { keyset!(@null $query, $table, $col, int, $page) };
    ($query:ident, $table:ident, $col:ident, NullBigInt, $page:ident) => { keyset!(@null $query, $table, $col, bigint, $page) };
    ($query:ident, $table:ident, $col:ident, NullDate, $page:ident) => { keyset!(@null $query, $table, $col, date, $page) };
    ($query:ident, $table:ident, $col:ident, NullTimestamp, $page:ident) => { keyset!(@null $query, $table, $col, timestamp, $page) };
    (@plain $query:ident, $table:ident, $col:ident, $get:ident, $page:ident) => {{
        let descending = $page.descending;
        $query = if descending {
            $query.order(($table::$col.desc(), $table::id.desc()))
        } else {
            $query.order(($table::$col.asc(), $table::id.asc()))
        };
        if let Some((value, id)) = $page.after.clone() {
            let value = value.$get().ok_or(crate::StoreError::Cursor)?;
            $query = if descending {
                $query.filter($table::$col.lt(value.clone()).or($table::$col.eq(value).and($table::id.lt(id))))
            } else {
                $query.filter($table::$col.gt(value.clone()).or($table::$col.eq(value).and($table::id.gt(id))))
            };
        }
    }};
    (@null $query:ident, $table:ident, $col:ident, $get:ident, $page:ident) => {{
        let descending = $page.descending;
        $query = if descending {
            $query.order(($table::$col.is_null().desc(), $table::$col.desc(), $table::id.desc()))
        } else {
            $query.order(($table::$col.is_null().asc(), $table::$col.asc(), $table::id.asc()))
        };
        if let Some((value, id)) = $page.after.clone() {
            let is_null = value == crate::queries::SortValue::Null;
            $query = match (is_null, descending) {
                (true, false) => $query.filter($table::$col.is_null().and($table::id.gt(id))),
                (true, true) => $query.filter($table::$col.is_null().and($table::id.lt(id)).or($table::$col.is_not_null())),
                (false, false) => {
                    let value = value.$get().ok_or(crate::StoreError::Cursor)?;
                    $query.filter(
                        $table::$col.gt(value.clone())
                            .or($table::$col.eq(value).and($table::id.gt(id)))
                            .or($table::$col.is_null()),
                    )
                }
                (false, true) => {
                    let value = value.$get().ok_or(crate::StoreError::Cursor)?;
                    $query.filter($table::$col.lt(value.clone()).or($table::$col.eq(value).and($table::id.lt(id))))
                }
            };
        }
    }};
}

/// Defines a list query: the sort fields (as a `pub const` the API validates against and the `match` that maps
/// them to columns, from one list), the shared filters and the entity's own filters.
macro_rules! list_query {
    (
        $(#[$doc:meta])*
        pub fn $name:ident($filter:ident: &$filter_ty:ty) -> $row:ident from $table:ident;
        sorts $sorts:ident { $($field:literal => $col:ident: $kind:ident),* $(,)? }
        filters($query:ident, $backend:ident) $body:block
    ) => {
        pub const $sorts: &[crate::queries::SortField] =
            &[$(crate::queries::SortField { name: $field, kind: crate::queries::FieldKind::$kind }),*];

        $(#[$doc])*
        pub fn $name(
            conn: &mut DbConnection,
            $filter: &$filter_ty,
            page: &crate::queries::Page,
        ) -> Result<Vec<$row>, StoreError> {
            #[allow(unused_variables)]
            let $backend = crate::queries::keyset::SearchBackend::of(conn);
            #[allow(unused_mut)]
            let mut $query = $table::table.select($row::as_select()).into_boxed();
            $query = $body;
            $query = match page.modified_since {
                Some(since) => $query.filter($table::modified_at.ge(since)),
                None => $query.filter($table::deleted_at.is_null()),
            };
            match page.sort {
                $($field => keyset!($query, $table, $col, $kind, page),)*
                other => return Err(StoreError::Sort(other.to_owned())),
            }
            Ok($query.limit(page.limit.max(1)).load(conn)?)
        }
    };
}

pub(crate) use {keyset, list_query};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_folded_and_split() {
        assert_eq!(search_terms("Schulträger  MEDIEN-Entwicklung"), ["schultraeger", "medien", "entwicklung"]);
        assert_eq!(search_terms("Straße%_'"), ["strasse"]);
        assert_eq!(fold("ÖFFENTLICH Übung"), "oeffentlich uebung");
        assert!(search_terms("  %%% ").is_empty());
    }
}

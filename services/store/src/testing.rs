//! Test support: fresh databases on every backend the tests can reach.
//!
//! SQLite always (a file in a temporary folder). PostgreSQL when `IKZ_TEST_POSTGRES_URL` is set (CI sets it): each
//! call creates a new database on that server, so tests run in parallel without seeing each other. If the variable
//! is set but the server does not answer, this panics — a CI run must not pass by skipping PostgreSQL.

use diesel::prelude::*;

use crate::connection::{establish, DatabaseUrl, DbConnection};

/// A database for one test; a SQLite file lives as long as this value.
pub struct TestDatabase {
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server URL to drop the database from, and its name.
    dropper: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.dropper.take() else { return };
        let Ok(url) = DatabaseUrl::parse(&admin_url) else { return };
        if let Ok(mut admin) = establish(&url) {
            // FORCE: the store's pool may still hold connections.
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

pub const POSTGRES_URL_VARIABLE: &str = "IKZ_TEST_POSTGRES_URL";

/// A fresh SQLite database file.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("temporary folder for the SQLite test database");
    let url = format!("sqlite://{}", dir.path().join("ikz-hub-test.db").display());
    TestDatabase { backend: "sqlite", url, _dir: Some(dir), dropper: None }
}

/// A fresh PostgreSQL database, or `None` (with a notice) when no test server is configured.
pub fn postgres() -> Option<TestDatabase> {
    let Ok(base) = std::env::var(POSTGRES_URL_VARIABLE) else {
        eprintln!("notice: {POSTGRES_URL_VARIABLE} is not set; skipping the PostgreSQL half of this test");
        return None;
    };
    let base = without_tls_unless_asked(&base);
    let parsed = DatabaseUrl::parse(&base).expect("IKZ_TEST_POSTGRES_URL must be a postgres:// URL");
    let mut admin = establish(&parsed).unwrap_or_else(|error| panic!("{POSTGRES_URL_VARIABLE} is set but {error}"));
    let name = format!("ikz_test_{}_{}", std::process::id(), fastrand_suffix());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create the test database");
    let (prefix, _) = base.rsplit_once('/').expect("a postgres URL has a path");
    let query = base.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    let url = format!("{prefix}/{name}{query}");
    Some(TestDatabase { backend: "postgres", url, _dir: None, dropper: Some((base, name)) })
}

/// The test server is reached without TLS unless its URL names an `sslmode`. TLS is pointless on loopback, and it
/// brought OpenSSL into the test processes' exit: a test binary once aborted with glibc's "double free" after all its
/// tests had passed — presumably OpenSSL's exit-time cleanup racing actix worker threads of the tests' servers that
/// were still closing their pooled (TLS) connections.
fn without_tls_unless_asked(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// SQLite, and PostgreSQL when configured.
pub fn all() -> Vec<TestDatabase> {
    let mut databases = vec![sqlite()];
    databases.extend(postgres());
    databases
}

fn fastrand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{nanos:x}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A digest of every table in the database, found in the catalog (so a table added by a later migration is covered
/// without touching this): table name → "N rows, sha256 …" over its rows in a stable order. Equal maps mean equal
/// contents. `except` names tables whose change is expected (the run log: `import_run`, `rejected_record`).
pub fn table_digests(store: &crate::Store, except: &[&str]) -> std::collections::BTreeMap<String, String> {
    use sha2::{Digest, Sha256};

    let mut conn = store.connection().expect("a connection for the table digest");
    let mut digests = std::collections::BTreeMap::new();
    for table in table_names(&mut conn) {
        if except.contains(&table.as_str()) {
            continue;
        }
        let mut lines = table_lines(&mut conn, &table);
        // Sorted here, not by the database, so both backends order the same way without knowing the keys.
        lines.sort_unstable();
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
        digests.insert(table, format!("{} rows, sha256 {:x}", lines.len(), hasher.finalize()));
    }
    assert!(!digests.is_empty(), "the database has no tables to digest");
    digests
}

#[derive(QueryableByName)]
struct TextLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

fn load_lines(conn: &mut DbConnection, query: &str) -> Vec<String> {
    let lines: Vec<TextLine> = match conn {
        DbConnection::Sqlite(conn) => diesel::sql_query(query).load(conn),
        DbConnection::Postgresql(conn) => diesel::sql_query(query).load(conn),
    }
    .unwrap_or_else(|error| panic!("{query}: {error}"));
    lines.into_iter().map(|line| line.line).collect()
}

fn table_names(conn: &mut DbConnection) -> Vec<String> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        DbConnection::Postgresql(_) => {
            "SELECT table_name::text AS line FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    load_lines(conn, query)
}

/// Every row of `table` as one text line holding every column (NULL distinct from the text 'NULL').
fn table_lines(conn: &mut DbConnection, table: &str) -> Vec<String> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    let query = match conn {
        DbConnection::Postgresql(_) => format!("SELECT row_to_json(t)::text AS line FROM {quoted} t"),
        DbConnection::Sqlite(_) => {
            let columns = load_lines(
                conn,
                &format!("SELECT name AS line FROM pragma_table_info('{}') ORDER BY cid", table.replace('\'', "''")),
            );
            assert!(!columns.is_empty(), "table {table} has no columns");
            // quote() writes each value as an SQL literal: strings quoted, NULL as NULL, blobs as X'…'.
            let values: Vec<String> =
                columns.iter().map(|column| format!("quote(\"{}\")", column.replace('"', "\"\""))).collect();
            format!("SELECT {} AS line FROM {quoted}", values.join(" || ',' || "))
        }
    };
    load_lines(conn, &query)
}

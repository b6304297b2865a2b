//! Test support: fresh databases on every backend the tests can reach.
//!
//! SQLite always (a file in a temporary folder). PostgreSQL when `IKZ_TEST_POSTGRES_URL` is set (CI sets it): each
//! call creates a new database on that server, so tests run in parallel without seeing each other. If the variable
//! is set but the server does not answer, this panics — a CI run must not pass by skipping PostgreSQL.

use diesel::prelude::*;

use crate::connection::{establish, DatabaseUrl};

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
    let parsed = DatabaseUrl::parse(&base).expect("IKZ_TEST_POSTGRES_URL must be a postgres:// URL");
    let mut admin = establish(&parsed).unwrap_or_else(|error| panic!("{POSTGRES_URL_VARIABLE} is set but {error}"));
    let name = format!("ikz_test_{}_{}", std::process::id(), fastrand_suffix());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create the test database");
    let (prefix, _) = base.rsplit_once('/').expect("a postgres URL has a path");
    let query = base.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    let url = format!("{prefix}/{name}{query}");
    Some(TestDatabase { backend: "postgres", url, _dir: None, dropper: Some((base, name)) })
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

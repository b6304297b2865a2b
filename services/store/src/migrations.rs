//! Embedded migrations, one folder per backend, run at start-up (and by `ikz-hub migrate`).

use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connection::DbConnection;
use crate::StoreError;

pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises migrations of several ikz-hub processes starting against one PostgreSQL database.
const MIGRATION_LOCK: i64 = 0x696b_7a00;

/// Applies pending migrations; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let error = |error: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(error.to_string());
    match conn {
        DbConnection::Sqlite(conn) => {
            Ok(conn.run_pending_migrations(SQLITE).map_err(error)?.iter().map(ToString::to_string).collect())
        }
        DbConnection::Postgresql(conn) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(conn)?;
            let result = conn
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(error);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(conn)?;
            result
        }
    }
}

pub fn has_pending(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let error = |error: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(error.to_string());
    match conn {
        DbConnection::Sqlite(conn) => conn.has_pending_migration(SQLITE).map_err(error),
        DbConnection::Postgresql(conn) => conn.has_pending_migration(POSTGRES).map_err(error),
    }
}

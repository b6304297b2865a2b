//! ikz-store: the database behind ikz-hub.
//!
//! - [`connection`]: one connection type over SQLite and PostgreSQL, chosen by URL, and its pool.
//! - [`schema`] and [`rows`]: the tables, in one place.
//! - [`runs`]: import runs — a connector's records written in one transaction, with counts, rejects and guards.
//! - [`queries`]: what the API reads.
//!
//! Everything here blocks; async callers use `spawn_blocking` / `web::block`.

pub mod connection;
mod convert;
pub mod locks;
pub mod migrations;
pub mod queries;
pub mod revision;
pub mod rows;
pub mod runs;
pub mod schema;
mod tables;
pub mod testing;
pub mod time_columns;

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ikz_connectors::model::{EntityKind, Partner};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use connection::{DatabaseUrl, DbConnection, Pool};
pub use runs::{Guards, ImportRun, RunCounts, RunOptions, RunStatus, RunSummary, Trigger};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("database migrations failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database task stopped unexpectedly: {0}")]
    Task(String),
    /// A list cursor whose value does not fit the sort field (the API validates cursors; this is the backstop).
    #[error("the cursor does not fit the sort field")]
    Cursor,
    #[error("`{0}` is not a sort field of this list")]
    Sort(String),
    #[error("cannot take the connector's run lock: {0}")]
    Lock(String),
    /// The trigger was skipped (and recorded as a `skipped` run): the connector is running already, or its
    /// schedule slot has been run by another process.
    #[error("connector `{connector}` skipped: {reason}")]
    RunSkipped { connector: String, reason: String },
}

/// The store: a connection pool plus what it takes to run imports safely on the chosen backend.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    url: DatabaseUrl,
    /// SQLite allows one writer at a time: import runs queue here instead of failing with "database is locked".
    write_gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Store {
    /// Connects (reporting the real error if the database does not answer), runs pending migrations and builds
    /// the pool.
    pub fn open(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        let mut conn = connection::establish(&url)?;
        let applied = migrations::run_pending(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(database = %url.redacted(), migrations = ?applied, "applied migrations");
        }
        drop(conn);
        let write_gate = matches!(url, DatabaseUrl::Sqlite(_)).then(|| Arc::new(tokio::sync::Semaphore::new(1)));
        Ok(Store { pool: connection::build_pool(url.clone(), pool_size), url, write_gate })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn connection(&self) -> Result<connection::PooledConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Ready means: the database answers and no migration is pending.
    pub fn check_ready(&self) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        conn.batch_execute("SELECT 1")?;
        if migrations::has_pending(&mut conn)? {
            return Err(StoreError::Migration("migrations are pending".into()));
        }
        Ok(())
    }

    /// Makes the partner table match the configured partners; partners no longer configured are tombstoned.
    pub fn sync_partners(&self, partners: &[Partner]) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        queries::sync_partners(&mut conn, partners)
    }

    /// A digest of every entity table and the partner table (not the run log): equal digests mean no record
    /// changed. Used to prove that failed runs change nothing.
    pub fn data_digest(&self) -> Result<String, StoreError> {
        let mut conn = self.connection()?;
        let mut hasher = Sha256::new();
        let partners: Vec<rows::PartnerRow> =
            schema::partner::table.order(schema::partner::id).select(rows::PartnerRow::as_select()).load(&mut conn)?;
        for partner in &partners {
            hasher.update(serde_json::to_vec(partner).unwrap_or_default());
        }
        for kind in EntityKind::ALL {
            hasher.update(kind.as_str());
            tables::digest_table(&mut conn, kind, &mut hasher)?;
        }
        Ok(format!("{:x}", hasher.finalize()))
    }
}

/// The current time as the store writes it: UTC, to the microsecond (PostgreSQL's precision), so both backends
/// compare the same values.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

//! The data revision: a number that every committed change of served data raises, in the same transaction as the
//! change (an import run's commit, the partner sync).
//!
//! Readers that keep something derived from the data (the API's response cache) read the revision before they read
//! the data and keep what they derived under it; once the revision has moved on, the derived copy is stale. The
//! number lives in the database, not in memory, so a CLI import in another process or another replica on the same
//! PostgreSQL database is seen as well.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::schema::data_revision;
use crate::StoreError;

/// The current data revision (one single-row read by primary key); `None` if its row is gone (someone edited the
/// database by hand): then nothing derived can be trusted to be current.
pub fn current(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    Ok(data_revision::table.find(1).select(data_revision::revision).first(conn).optional()?)
}

/// Raises the revision; call inside the transaction that changes data, so both commit together. On PostgreSQL the
/// row lock this takes orders concurrent committers; call it late in the transaction to hold it briefly.
pub(crate) fn raise(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::update(data_revision::table.find(1))
        .set(data_revision::revision.eq(data_revision::revision + 1))
        .execute(conn)
}

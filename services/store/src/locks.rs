//! One run per connector at a time, across processes.
//!
//! - PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated connection that is held for
//!   the whole run. Several replicas against one database exclude each other; if a process dies, the server closes
//!   its connection and the lock is gone at once.
//! - SQLite: an exclusive `flock` on a file per connector next to the database file (`<db>-locks/<id>.lock`).
//!   Every process on the machine that opens the same database sees it; the kernel drops it when the process dies.
//!
//! Neither needs an expiry: a lock lives exactly as long as the process (and, on PostgreSQL, the connection) that
//! holds it. That also tells a starting process which `running` runs are orphans: those whose connector lock it can
//! take.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::connection::{establish, DatabaseUrl, DbConnection};
use crate::StoreError;

/// A held connector lock; dropping it releases the lock.
pub struct ConnectorLock {
    connector: String,
    held: Held,
}

/// Held for what dropping them does (the PostgreSQL session also unlocks first, see `Drop`).
#[allow(dead_code)]
enum Held {
    /// Closing the session releases the advisory lock.
    Postgres(Box<DbConnection>),
    /// Closing the file releases the flock.
    File(std::fs::File),
}

impl std::fmt::Debug for ConnectorLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorLock").field("connector", &self.connector).finish_non_exhaustive()
    }
}

impl ConnectorLock {
    pub fn connector(&self) -> &str {
        &self.connector
    }
}

impl Drop for ConnectorLock {
    fn drop(&mut self) {
        // Closing the session frees the advisory lock only once the server has ended that session, which can be
        // after a new session of the next run of this connector asked for it (measured: a back-to-back run was
        // skipped as "in progress"). Unlocking first frees it before the drop returns.
        if let Held::Postgres(conn) = &mut self.held {
            if let DbConnection::Postgresql(pg) = conn.as_mut() {
                let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1) AS locked")
                    .bind::<diesel::sql_types::BigInt, _>(advisory_key(&self.connector))
                    .get_result::<Locked>(pg);
                if let Err(error) = unlocked {
                    tracing::warn!(connector = %self.connector, %error, "could not unlock the connector; closing the session frees it");
                }
            }
        }
        tracing::debug!(connector = %self.connector, "connector lock released");
    }
}

/// The advisory lock key of a connector: the first 8 bytes of a namespaced SHA-256 of its id.
pub fn advisory_key(connector: &str) -> i64 {
    let digest = Sha256::digest(format!("ikz-hub connector run lock\0{connector}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The folder of the SQLite lock files of a database file.
pub fn lock_dir(database: &Path) -> PathBuf {
    let name = database.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "ikz-hub".into());
    database.with_file_name(format!("{name}-locks"))
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Tries to take the connector's lock without waiting. `Ok(None)`: another run (in this process or another) holds
/// it. Blocks briefly (opens a connection or a file); call it off the async threads.
pub fn try_lock(url: &DatabaseUrl, connector: &str) -> Result<Option<ConnectorLock>, StoreError> {
    match url {
        DatabaseUrl::Postgres(_) => {
            let mut conn = establish(url)?;
            let DbConnection::Postgresql(pg) = &mut conn else {
                return Err(StoreError::Url("a postgres URL opened a non-PostgreSQL connection".into()));
            };
            let locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                .bind::<diesel::sql_types::BigInt, _>(advisory_key(connector))
                .get_result::<Locked>(pg)?
                .locked;
            Ok(locked.then(|| ConnectorLock { connector: connector.to_owned(), held: Held::Postgres(Box::new(conn)) }))
        }
        DatabaseUrl::Sqlite(path) => {
            let dir = lock_dir(path);
            std::fs::create_dir_all(&dir).map_err(|error| lock_error(&dir, error))?;
            // Connector ids are URL-safe (no `/`); the prefix keeps `..` from naming a folder.
            let file_path = dir.join(format!("connector-{connector}.lock"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&file_path)
                .map_err(|error| lock_error(&file_path, error))?;
            if try_flock(&file).map_err(|error| lock_error(&file_path, error))? {
                Ok(Some(ConnectorLock { connector: connector.to_owned(), held: Held::File(file) }))
            } else {
                Ok(None)
            }
        }
    }
}

fn lock_error(path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Lock(format!("{}: {error}", path.display()))
}

/// An exclusive, non-blocking `flock`. Each open file description is its own lock owner, so two opens in one
/// process exclude each other just like two processes do.
#[cfg(unix)]
fn try_flock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this function borrows for the duration of the call.
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if result == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(error)
    }
}

#[cfg(not(unix))]
fn try_flock(_file: &std::fs::File) -> std::io::Result<bool> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "SQLite run locks need a Unix system (flock)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_per_connector_and_are_stable() {
        assert_eq!(advisory_key("schulen"), advisory_key("schulen"));
        assert_ne!(advisory_key("schulen"), advisory_key("schulen2"));
    }

    #[test]
    fn sqlite_locks_exclude_each_other_until_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("x.db"));
        let first = try_lock(&url, "a").expect("lock").expect("free");
        assert!(try_lock(&url, "a").expect("lock").is_none(), "a second open must not get the lock");
        assert!(try_lock(&url, "b").expect("lock").is_some(), "other connectors are independent");
        drop(first);
        assert!(try_lock(&url, "a").expect("lock").is_some());
    }
}

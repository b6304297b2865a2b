//! One connection type over SQLite and PostgreSQL, chosen by the database URL, and its r2d2 pool.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::StoreError;

/// A connection to either backend. diesel generates the shared backend `MultiBackend` from this enum.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite://path`, `sqlite:path` or a plain path → SQLite.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path.contains("://") || path == ":memory:" {
            return Err(StoreError::Url(format!(
                "`{}` is neither a postgres:// URL nor a SQLite file path (sqlite://path or a plain path)",
                redact_password(url)
            )));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password replaced, for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let (address, query) = match url.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (url, None),
    };
    let address = match address.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => address.to_owned(),
            },
            None => address.to_owned(),
        },
        None => address.to_owned(),
    };
    // libpq also takes the password as a query parameter: `?password=…`.
    match query {
        Some(query) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                    _ => parameter.to_owned(),
                })
                .collect();
            format!("{address}?{}", parameters.join("&"))
        }
        None => address,
    }
}

/// The password of a PostgreSQL URL, from its user part or its `password=` parameter.
fn password_of(url: &str) -> Option<&str> {
    let (address, query) = url.split_once('?').unwrap_or((url, ""));
    let from_query = query.split('&').find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.eq_ignore_ascii_case("password").then_some(value)
    });
    let from_user = address
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password);
    from_query.or(from_user).filter(|password| !password.is_empty())
}

/// SQLite settings applied to every new connection: WAL lets the API read while an import writes; foreign keys are
/// off by default in SQLite; the busy timeout makes a second writer wait instead of failing at once. Reads go through
/// a memory map (256 MB of address space, not memory) and a page cache of up to 32 MB per connection: without them
/// every API page re-reads its pages with `pread` (measured with scripts/bench_api.sh). Temporary storage in memory
/// keeps the statement journal of each multi-row INSERT (SQLite keeps one inside a transaction, a few pages) out of a
/// temporary file.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;";
/// The read caches of [`SQLITE_PRAGMAS`]'s description; an import's writer turns them down for its run.
pub(crate) const SQLITE_READ_CACHES: &str = "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32000;";

/// Opens one connection and reports the backend's own error (the derived `establish` hides it).
pub fn establish(url: &DatabaseUrl) -> Result<DbConnection, StoreError> {
    match url {
        DatabaseUrl::Postgres(text) => diesel::PgConnection::establish(text)
            .map(DbConnection::Postgresql)
            .map_err(|error| StoreError::Connect { url: url.redacted(), message: redact_in(&error.to_string(), text) }),
        DatabaseUrl::Sqlite(path) => {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|error| StoreError::Connect {
                    url: url.redacted(),
                    message: format!("cannot create folder {}: {error}", parent.display()),
                })?;
            }
            let text = path.to_str().ok_or_else(|| StoreError::Url(format!("{} is not UTF-8", path.display())))?;
            sqlite_setup::register();
            let mut conn = diesel::SqliteConnection::establish(text)
                .map_err(|error| StoreError::Connect { url: url.redacted(), message: error.to_string() })?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .and_then(|()| conn.batch_execute(SQLITE_READ_CACHES))
                .map_err(|error| StoreError::Connect { url: url.redacted(), message: error.to_string() })?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// What SQLite is told before diesel opens a connection, which diesel's `establish` has no options for.
mod sqlite_setup {
    use std::ffi::{c_char, c_int};
    use std::sync::Once;

    use libsqlite3_sys as ffi;

    /// Once per process, before the first connection: multi-thread mode, and [`on_open`] for every connection.
    ///
    /// Multi-thread mode (instead of the bundled library's default, serialized) drops the mutex SQLite takes on
    /// every call on a connection — for each column of each row read (about 5% of the CPU of an API list page).
    /// It is safe because a connection is only ever used by one thread at a time: diesel's `SqliteConnection`
    /// is not `Sync`, and the pool hands each one to a single thread. If SQLite was already initialised in this
    /// process, `sqlite3_config` refuses and SQLite stays serialized, which is only slower.
    ///
    /// The memory statistics are turned off too: nothing reads them, and keeping them takes a global mutex around
    /// every allocation SQLite makes (with the connection mutex, 3.6% of a spreadsheet import's CPU, 0.8% after).
    pub(super) fn register() {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // SAFETY: both are plain calls into the bundled SQLite with valid arguments; sqlite3_config runs
            // before any connection of this process is opened (it is refused with SQLITE_MISUSE otherwise).
            let (mode, statistics, hook) = unsafe {
                (
                    ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD),
                    ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
                    ffi::sqlite3_auto_extension(Some(on_open)),
                )
            };
            if mode != ffi::SQLITE_OK || statistics != ffi::SQLITE_OK {
                tracing::debug!(code = mode, "SQLite stays in serialized mode (it was initialised already)");
            }
            if hook != ffi::SQLITE_OK {
                tracing::warn!(code = hook, "cannot register the SQLite connection setup; reads will be slower");
            }
        });
    }

    /// Runs as SQLite opens each connection. The query planner stability guarantee (QPSG) keeps SQLite from
    /// looking at bound values when it plans: otherwise a bound `LIMIT ?` (every list page) or `LIKE ?` makes
    /// each cached statement expire when it is bound again, and SQLite parses and plans it anew on every request
    /// (about 6% of the instructions of an API list page). The store's queries never depend on value-specific
    /// plans (no `ANALYZE` statistics are kept).
    unsafe extern "C" fn on_open(
        db: *mut ffi::sqlite3,
        _error: *mut *mut c_char,
        _api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        // SAFETY: SQLite hands over the connection it is opening; the option takes an int and an optional int
        // pointer for the previous setting (null: not wanted).
        let enable: c_int = 1;
        unsafe { ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_QPSG, enable, std::ptr::null_mut::<c_int>()) };
        ffi::SQLITE_OK
    }
}

/// libpq may echo parts of the connection string; never let a password through.
fn redact_in(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(password) => message.replace(password, "***"),
        None => message.to_owned(),
    }
}

/// r2d2 manager that opens connections through [`establish`], so pool errors carry the real cause.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Manager { url }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds the pool without opening connections up front (the caller has already proven the database answers).
pub fn build_pool(url: DatabaseUrl, max_size: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(true)
        .build_unchecked(Manager::new(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(DatabaseUrl::parse("data/ikz.db").ok(), Some(DatabaseUrl::Sqlite("data/ikz.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite://data/ikz.db").ok(), Some(DatabaseUrl::Sqlite("data/ikz.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite:///var/ikz.db").ok(), Some(DatabaseUrl::Sqlite("/var/ikz.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u:p@localhost/ikz"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://localhost/ikz"), Ok(DatabaseUrl::Postgres(_))));
        assert!(DatabaseUrl::parse("mysql://localhost/ikz").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://ikz:geheim@db.example:5432/ikz").expect("valid");
        assert_eq!(url.redacted(), "postgres://ikz:***@db.example:5432/ikz");
        assert_eq!(
            redact_in("password authentication failed: geheim", "postgres://ikz:geheim@db/ikz"),
            "password authentication failed: ***"
        );
        let url = DatabaseUrl::parse("postgres://ikz@db.example/ikz?sslmode=disable&password=geheim").expect("url");
        assert_eq!(url.redacted(), "postgres://ikz@db.example/ikz?sslmode=disable&password=***");
        assert_eq!(redact_in("bad password geheim", "postgres://ikz@db/ikz?password=geheim"), "bad password ***");
    }

    #[test]
    fn a_wrong_postgres_url_reports_the_real_error() {
        let url = DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").expect("valid");
        let Err(error) = establish(&url) else { panic!("port 1 must refuse") };
        let text = error.to_string();
        assert!(text.contains("127.0.0.1") && (text.contains("refused") || text.contains("connect")), "{text}");
    }
}

//! Import runs: a connector's records written as one unit.
//!
//! [`Store::begin_run`] records the run as `running` and hands back an [`ImportRun`], which is the connector's
//! [`RecordSink`]. Batches travel over a bounded channel to a writer on a blocking thread that holds one database
//! transaction for the whole run: upserts by (source, source key), unchanged content hashes counted and only marked
//! as seen. [`ImportRun::finish`] checks the guards, tombstones what a complete run did not see, records the run and
//! commits; [`ImportRun::fail`] (or any error) rolls everything back and records the run as failed. Rejected records
//! are kept either way, so an administrator can see why a run failed.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use ikz_connectors::model::{EntityKind, Record};
use ikz_connectors::{RecordSink, Rejection, RunOutcome, SinkError};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use crate::connection::{DbConnection, PooledConnection};
use crate::convert::{content_hash, to_row, AnyRow, Stamp};
use crate::locks::{self, ConnectorLock};
use crate::schema::{import_run, rejected_record};
use crate::{tables, Store, StoreError};

/// Rejected records kept per run; beyond this only the count grows (a wrong mapping can reject every row).
const MAX_STORED_REJECTS: usize = 10_000;
/// Notes and warnings kept per run.
const MAX_NOTES: usize = 1_000;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Schedule,
    Manual,
    Startup,
    Api,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::Startup => "startup",
            Trigger::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    /// The source reported no change; nothing was read or written.
    Unchanged,
    Failed,
    /// A trigger that did not run: the connector was running already (here or in another process), or its schedule
    /// slot had been run by another replica. Recorded so an administrator sees every trigger.
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Unchanged => "unchanged",
            RunStatus::Failed => "failed",
            RunStatus::Skipped => "skipped",
        }
    }

    pub const ALL: [RunStatus; 5] =
        [RunStatus::Running, RunStatus::Succeeded, RunStatus::Unchanged, RunStatus::Failed, RunStatus::Skipped];
}

/// Limits that stop a run from damaging the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guards {
    /// Above this share of rejected records (0.0–1.0) the run fails: a wrong column mapping must not import half a
    /// sheet.
    pub max_reject_ratio: f64,
    /// Above this share of the connector's live records to tombstone (0.0–1.0) the run fails: a truncated file must
    /// not wipe the data.
    pub max_tombstone_share: f64,
}

impl Default for Guards {
    fn default() -> Self {
        Guards { max_reject_ratio: 0.1, max_tombstone_share: 0.5 }
    }
}

/// What a run asks of the store.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub connector: String,
    pub trigger: Trigger,
    /// The connector's entities: the scope of its tombstones.
    pub entities: Vec<EntityKind>,
    pub guards: Guards,
}

/// How a run was triggered beyond its request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The schedule slot (UTC) a scheduled run is for. A slot that already has a run, in this process or another
    /// one on the same database, is skipped: replicas with the same schedule run each slot once.
    pub scheduled_for: Option<NaiveDateTime>,
    /// A retry of this slot after a failed attempt: only a running or successful run of the slot stops it.
    pub retry: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub connector: String,
    pub status: RunStatus,
    pub counts: RunCounts,
    pub error: Option<String>,
    pub notes: Vec<String>,
}

enum Message {
    Records(Vec<Record>),
    Reject(Rejection),
    Finish(RunOutcome, Vec<String>),
    Fail(String, Vec<String>),
}

/// A run in progress; the connector's record sink.
pub struct ImportRun {
    run_id: i64,
    sender: mpsc::Sender<Message>,
    writer: tokio::task::JoinHandle<RunSummary>,
    warnings: Vec<String>,
    writer_error: Option<oneshot::Receiver<String>>,
}

impl Store {
    /// Starts a run: takes the connector's run lock, records the run as `running` and opens its transaction. On
    /// SQLite, waits for any other connector's run to end first (one writer at a time).
    ///
    /// If the connector is running already (in this process or another one on the same database) the trigger is
    /// skipped: it is recorded as a `skipped` run (in the background: on SQLite that write waits for the running
    /// import) and `StoreError::RunSkipped` is returned.
    pub async fn begin_run(&self, request: RunRequest) -> Result<ImportRun, StoreError> {
        self.begin_run_with(request, RunOptions::default()).await
    }

    /// [`Store::begin_run`] for a schedule slot or a retry.
    pub async fn begin_run_with(&self, request: RunRequest, options: RunOptions) -> Result<ImportRun, StoreError> {
        let url = self.url.clone();
        let pool = self.pool.clone();
        let connector = request.connector.clone();
        let (lock, skip_reason) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let Some(lock) = locks::try_lock(&url, &connector)? else {
                return Ok((None, "another run of this connector is in progress".to_owned()));
            };
            if let Some(slot) = options.scheduled_for {
                let mut conn = pool.get()?;
                if let Some(run_id) = slot_taken(&mut conn, &connector, slot, options.retry)? {
                    let slot = slot.and_utc().to_rfc3339();
                    return Ok((None, format!("the scheduled run of {slot} was already started (run {run_id})")));
                }
            }
            Ok((Some(lock), String::new()))
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))??;
        let Some(lock) = lock else {
            tracing::warn!(connector = %request.connector, trigger = request.trigger.as_str(), reason = %skip_reason, "import trigger skipped");
            self.record_skipped(request.connector.clone(), request.trigger, options.scheduled_for, skip_reason.clone());
            return Err(StoreError::RunSkipped { connector: request.connector, reason: skip_reason });
        };
        let permit = match &self.write_gate {
            Some(gate) => {
                Some(gate.clone().acquire_owned().await.map_err(|error| StoreError::Task(error.to_string()))?)
            }
            None => None,
        };
        let pool = self.pool.clone();
        let connector = request.connector.clone();
        let trigger = request.trigger;
        let (conn, run_id, started_at) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let mut conn = pool.get()?;
            let started_at = crate::now();
            let run_id: i64 = diesel::insert_into(import_run::table)
                .values((
                    import_run::connector.eq(&connector),
                    import_run::trigger.eq(trigger.as_str()),
                    import_run::started_at.eq(started_at),
                    import_run::status.eq(RunStatus::Running.as_str()),
                    import_run::scheduled_for.eq(options.scheduled_for),
                ))
                .returning(import_run::id)
                .get_result(&mut *conn)?;
            Ok((conn, run_id, started_at))
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))??;
        tracing::info!(run_id, connector = %request.connector, trigger = trigger.as_str(), "import run started");
        let (sender, receiver) = mpsc::channel(4);
        let (error_sender, error_receiver) = oneshot::channel();
        let writer = Writer {
            run_id,
            started_at,
            request,
            receiver,
            counts: RunCounts::default(),
            rejects: Vec::new(),
            written: HashMap::new(),
            stored_before: HashMap::new(),
        };
        let writer = tokio::task::spawn_blocking(move || writer.run(conn, permit, lock, error_sender));
        Ok(ImportRun { run_id, sender, writer, warnings: Vec::new(), writer_error: Some(error_receiver) })
    }

    /// Records a skipped trigger as a run with status `skipped`, in the background. On SQLite the write waits for
    /// the write gate (the running import holds the only write transaction); the returned handle resolves to the
    /// run id once it is written.
    pub fn record_skipped(
        &self,
        connector: String,
        trigger: Trigger,
        scheduled_for: Option<NaiveDateTime>,
        reason: String,
    ) -> tokio::task::JoinHandle<Option<i64>> {
        let store = self.clone();
        let at = crate::now();
        tokio::spawn(async move {
            let _permit = match &store.write_gate {
                Some(gate) => gate.clone().acquire_owned().await.ok(),
                None => None,
            };
            // Across processes on SQLite another import may hold the write lock for longer than the busy timeout:
            // keep trying for a while rather than lose the record.
            for attempt in 1..=30u32 {
                let pool = store.pool.clone();
                let (connector, reason) = (connector.clone(), reason.clone());
                let written = tokio::task::spawn_blocking(move || -> Result<i64, StoreError> {
                    let mut conn = pool.get()?;
                    Ok(diesel::insert_into(import_run::table)
                        .values((
                            import_run::connector.eq(&connector),
                            import_run::trigger.eq(trigger.as_str()),
                            import_run::started_at.eq(at),
                            import_run::finished_at.eq(at),
                            import_run::status.eq(RunStatus::Skipped.as_str()),
                            import_run::error.eq(&reason),
                            import_run::scheduled_for.eq(scheduled_for),
                        ))
                        .returning(import_run::id)
                        .get_result(&mut *conn)?)
                })
                .await;
                match written {
                    Ok(Ok(id)) => return Some(id),
                    Ok(Err(error)) if attempt < 30 => {
                        tracing::debug!(%error, attempt, "recording a skipped trigger failed; trying again");
                        tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                    Ok(Err(error)) => tracing::error!(%error, "could not record a skipped trigger"),
                    Err(error) => {
                        tracing::error!(%error, "could not record a skipped trigger");
                        return None;
                    }
                }
            }
            None
        })
    }

    /// Marks runs left `running` by a process that died as failed (their transaction was never committed, so none
    /// of their data is there). A run counts as orphaned when nobody holds its connector's lock: a live run in
    /// another replica keeps its lock, and is left alone. Returns the ids marked.
    pub fn recover_interrupted_runs(&self) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.connection()?;
        let connectors: Vec<String> = import_run::table
            .filter(import_run::status.eq(RunStatus::Running.as_str()))
            .select(import_run::connector)
            .distinct()
            .load(&mut conn)?;
        let mut recovered = Vec::new();
        for connector in connectors {
            let Some(_lock) = locks::try_lock(&self.url, &connector)? else { continue };
            let ids: Vec<i64> = import_run::table
                .filter(import_run::connector.eq(&connector))
                .filter(import_run::status.eq(RunStatus::Running.as_str()))
                .select(import_run::id)
                .load(&mut conn)?;
            diesel::update(import_run::table.filter(import_run::id.eq_any(&ids)))
                .set((
                    import_run::status.eq(RunStatus::Failed.as_str()),
                    import_run::finished_at.eq(crate::now()),
                    import_run::error.eq(
                        "interrupted: the process running this import stopped before it finished; nothing of it was kept",
                    ),
                ))
                .execute(&mut conn)?;
            for id in &ids {
                tracing::warn!(run_id = id, %connector, "marked a run left running by a stopped process as failed");
            }
            recovered.extend(ids);
        }
        Ok(recovered)
    }
}

/// A run of this slot that stops another one: any but skipped ones, or for a retry only running and successful ones.
fn slot_taken(
    conn: &mut DbConnection,
    connector: &str,
    slot: NaiveDateTime,
    retry: bool,
) -> Result<Option<i64>, StoreError> {
    let blocking: &[&str] =
        if retry { &["running", "succeeded", "unchanged"] } else { &["running", "succeeded", "unchanged", "failed"] };
    Ok(import_run::table
        .filter(import_run::connector.eq(connector))
        .filter(import_run::scheduled_for.eq(slot))
        .filter(import_run::status.eq_any(blocking))
        .select(import_run::id)
        .order(import_run::id)
        .first(conn)
        .optional()?)
}

/// What the API shows of a connector's runs.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorRunStatus {
    pub connector: String,
    /// The newest run that was not skipped.
    pub last_run: Option<crate::rows::ImportRunRow>,
    /// When the newest successful (or unchanged) run finished.
    pub last_success_at: Option<NaiveDateTime>,
}

/// The last run and last success of each connector.
pub fn connector_status(conn: &mut DbConnection, connectors: &[String]) -> Result<Vec<ConnectorRunStatus>, StoreError> {
    use crate::rows::ImportRunRow;
    let mut statuses = Vec::with_capacity(connectors.len());
    for connector in connectors {
        let last_run = import_run::table
            .filter(import_run::connector.eq(connector))
            .filter(import_run::status.ne(RunStatus::Skipped.as_str()))
            .order(import_run::id.desc())
            .select(ImportRunRow::as_select())
            .first(conn)
            .optional()?;
        let last_success_at = import_run::table
            .filter(import_run::connector.eq(connector))
            .filter(import_run::status.eq_any(["succeeded", "unchanged"]))
            .order(import_run::id.desc())
            .select(import_run::finished_at)
            .first::<Option<NaiveDateTime>>(conn)
            .optional()?
            .flatten();
        statuses.push(ConnectorRunStatus { connector: connector.clone(), last_run, last_success_at });
    }
    Ok(statuses)
}

/// The id of the connector's newest run that was not skipped.
pub fn latest_run_id(conn: &mut DbConnection, connector: &str) -> Result<Option<i64>, StoreError> {
    Ok(import_run::table
        .filter(import_run::connector.eq(connector))
        .filter(import_run::status.ne(RunStatus::Skipped.as_str()))
        .order(import_run::id.desc())
        .select(import_run::id)
        .first(conn)
        .optional()?)
}

impl ImportRun {
    pub fn id(&self) -> i64 {
        self.run_id
    }

    /// Ends the run: guards, tombstones, commit. The summary says whether it succeeded.
    pub async fn finish(mut self, outcome: RunOutcome) -> RunSummary {
        let warnings = std::mem::take(&mut self.warnings);
        let _ = self.sender.send(Message::Finish(outcome, warnings)).await;
        self.wait().await
    }

    /// Ends the run as failed: nothing it wrote stays.
    pub async fn fail(mut self, error: String) -> RunSummary {
        let warnings = std::mem::take(&mut self.warnings);
        let _ = self.sender.send(Message::Fail(error, warnings)).await;
        self.wait().await
    }

    async fn wait(self) -> RunSummary {
        let run_id = self.run_id;
        drop(self.sender);
        match self.writer.await {
            Ok(summary) => summary,
            Err(error) => RunSummary {
                run_id,
                connector: String::new(),
                status: RunStatus::Failed,
                counts: RunCounts::default(),
                error: Some(format!("the database writer stopped: {error}")),
                notes: Vec::new(),
            },
        }
    }

    async fn send(&mut self, message: Message) -> Result<(), SinkError> {
        if self.sender.send(message).await.is_ok() {
            return Ok(());
        }
        // The writer has given up; tell the connector why.
        let reason = match self.writer_error.take() {
            Some(receiver) => receiver.await.unwrap_or_else(|_| "the database writer stopped".into()),
            None => "the database writer stopped".into(),
        };
        Err(SinkError::Closed(reason))
    }
}

#[async_trait]
impl RecordSink for ImportRun {
    async fn records(&mut self, batch: Vec<Record>) -> Result<(), SinkError> {
        self.send(Message::Records(batch)).await
    }

    async fn reject(&mut self, rejection: Rejection) -> Result<(), SinkError> {
        self.send(Message::Reject(rejection)).await
    }

    fn warn(&mut self, message: String) {
        tracing::warn!(run_id = self.run_id, "{message}");
        if self.warnings.len() < MAX_NOTES {
            self.warnings.push(message);
        }
    }
}

/// Hands the memory a run freed back to the system. The connector's reader and this writer allocate on different
/// threads, so glibc keeps their freed memory in separate arenas; the next run, on other threads, would otherwise
/// grow the process by a whole run's worth again.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; it touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Why a run's transaction was rolled back.
enum Abort {
    Database(diesel::result::Error),
    Failed(String),
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Database(error)
    }
}

impl Abort {
    fn message(&self) -> String {
        match self {
            Abort::Database(error) => format!("database error: {error}"),
            Abort::Failed(message) => message.clone(),
        }
    }
}

/// What a run did with a source key it has written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Created,
    /// Changed; with the version from before the run when there was a live one.
    Updated(Option<Original>),
    Unchanged,
}

/// A stored record's version from before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Original {
    content_hash: String,
    modified_at: NaiveDateTime,
}

struct Writer {
    run_id: i64,
    started_at: NaiveDateTime,
    request: RunRequest,
    receiver: mpsc::Receiver<Message>,
    counts: RunCounts,
    rejects: Vec<Rejection>,
    /// The keys this run has written, per entity, so a newer version of a record is counted once.
    written: HashMap<EntityKind, HashMap<String, Outcome>>,
    /// Per entity, whether the source had stored records when the run first wrote it. When it had none (a first
    /// import), only keys this run has written can exist, so the lookup of stored versions is skipped for the rest.
    stored_before: HashMap<EntityKind, bool>,
}

/// The memory map and large page cache every SQLite connection gets speed up API reads, but an import writing
/// through them keeps the pages it touched resident (measured: +37 MB peak on a 100,000-row sheet), so the writer
/// turns them down for its run and back up before the connection returns to the pool. Failing to set them only
/// costs memory, so errors are logged, not raised.
fn set_sqlite_reader_caches(conn: &mut PooledConnection, on: bool) {
    use diesel::connection::SimpleConnection;
    if let crate::connection::DbConnection::Sqlite(sqlite) = &mut **conn {
        let pragmas =
            if on { crate::connection::SQLITE_READ_CACHES } else { "PRAGMA mmap_size = 0; PRAGMA cache_size = -2000;" };
        if let Err(error) = sqlite.batch_execute(pragmas) {
            tracing::warn!(%error, "could not set the SQLite cache pragmas for an import run");
        }
    }
}

impl Writer {
    fn run(
        mut self,
        mut conn: PooledConnection,
        _permit: Option<OwnedSemaphorePermit>,
        // Held until the run is recorded; dropped last.
        _lock: ConnectorLock,
        error_sender: oneshot::Sender<String>,
    ) -> RunSummary {
        let mut notes = Vec::new();
        set_sqlite_reader_caches(&mut conn, false);
        let result = conn.transaction::<RunStatus, Abort, _>(|conn| self.apply_all(conn, &mut notes));
        set_sqlite_reader_caches(&mut conn, true);
        let (status, error) = match result {
            Ok(status) => (status, None),
            Err(abort) => {
                let message = abort.message();
                let _ = error_sender.send(message.clone());
                (RunStatus::Failed, Some(message))
            }
        };
        if status == RunStatus::Failed {
            // Nothing of the run stayed; record it as failed, with the rejects that explain it.
            self.counts =
                RunCounts { fetched: self.counts.fetched, rejected: self.counts.rejected, ..RunCounts::default() };
            if let Err(db_error) = self.record_end(&mut conn, status, error.as_deref(), &notes, None) {
                tracing::error!(run_id = self.run_id, %db_error, "could not record the failed run");
            }
            if let Err(db_error) = self.store_rejects(&mut conn) {
                tracing::error!(run_id = self.run_id, %db_error, "could not store the run's rejected records");
            }
            tracing::warn!(run_id = self.run_id, connector = %self.request.connector, error = error.as_deref().unwrap_or(""), "import run failed");
        } else {
            tracing::info!(run_id = self.run_id, connector = %self.request.connector, status = status.as_str(), counts = ?self.counts, "import run finished");
        }
        release_freed_memory();
        RunSummary {
            run_id: self.run_id,
            connector: self.request.connector.clone(),
            status,
            counts: self.counts,
            error,
            notes,
        }
    }

    /// Everything inside the run's transaction. Returning an error rolls it all back.
    fn apply_all(&mut self, conn: &mut DbConnection, notes: &mut Vec<String>) -> Result<RunStatus, Abort> {
        // Write first: on SQLite this takes the write lock now (waiting on busy_timeout) instead of failing later
        // when a read transaction cannot be upgraded.
        diesel::update(import_run::table.find(self.run_id))
            .set(import_run::status.eq(RunStatus::Running.as_str()))
            .execute(conn)?;
        loop {
            let Some(message) = self.receiver.blocking_recv() else {
                return Err(Abort::Failed("the run was interrupted before it finished".into()));
            };
            match message {
                Message::Records(batch) => self.apply_batch(conn, batch)?,
                Message::Reject(rejection) => {
                    self.counts.fetched += 1;
                    self.counts.rejected += 1;
                    if self.rejects.len() < MAX_STORED_REJECTS {
                        self.rejects.push(rejection);
                    }
                }
                Message::Fail(error, warnings) => {
                    notes.extend(warnings);
                    return Err(Abort::Failed(error));
                }
                Message::Finish(outcome, warnings) => {
                    notes.extend(outcome.notes.iter().cloned());
                    notes.extend(warnings);
                    notes.truncate(MAX_NOTES);
                    return self.finish(conn, outcome, notes);
                }
            }
        }
    }

    fn apply_batch(&mut self, conn: &mut DbConnection, batch: Vec<Record>) -> Result<(), Abort> {
        let mut by_kind: BTreeMap<EntityKind, Vec<Record>> = BTreeMap::new();
        let mut tombstones: BTreeMap<EntityKind, Vec<String>> = BTreeMap::new();
        for record in batch {
            match record {
                // The source said this record is gone (OParl `deleted: true`).
                Record::Tombstone(tombstone) => {
                    self.counts.fetched += 1;
                    tombstones.entry(tombstone.kind).or_default().push(tombstone.origin.source_key);
                }
                record => by_kind.entry(record.kind()).or_default().push(record),
            }
        }
        let source = self.request.connector.clone();
        for (kind, keys) in tombstones {
            for chunk in keys.chunks(500) {
                let keys: Vec<&str> = chunk.iter().map(String::as_str).collect();
                self.counts.deleted += tables::tombstone_keys(conn, kind, &source, &keys, crate::now())? as i64;
            }
        }
        for (kind, records) in by_kind {
            if !self.request.entities.contains(&kind) {
                for record in &records {
                    self.counts.fetched += 1;
                    self.reject_record(record, format!("this connector does not provide {kind} records"));
                }
                continue;
            }
            self.apply_kind(conn, kind, records)?;
        }
        Ok(())
    }

    /// Upserts one batch of one entity: unchanged records are only marked as seen, changed ones updated in place,
    /// new ones inserted in multi-row statements (the bulk of a first import).
    ///
    /// A record whose key this run has written already (a connector may send a newer version of it, e.g. a school a
    /// later spreadsheet row added to) replaces that version and is counted once: created if the run created it,
    /// updated if the run changed it.
    fn apply_kind(&mut self, conn: &mut DbConnection, kind: EntityKind, records: Vec<Record>) -> Result<(), Abort> {
        let source = self.request.connector.clone();
        let stored_before = match self.stored_before.get(&kind) {
            Some(&stored) => stored,
            None => {
                let stored = tables::source_has_rows(conn, kind, &source)?;
                self.stored_before.insert(kind, stored);
                stored
            }
        };
        let mut written = std::mem::take(self.written.entry(kind).or_default());
        let keys: Vec<&str> = records
            .iter()
            .map(|record| record.origin().source_key.as_str())
            .filter(|key| stored_before || written.contains_key(*key))
            .collect();
        let mut existing: HashMap<String, tables::Existing> = HashMap::new();
        if !keys.is_empty() {
            existing.extend(
                tables::existing(conn, kind, &source, &keys)?
                    .into_iter()
                    .map(|existing| (existing.source_key.clone(), existing)),
            );
        }
        let mut unchanged: Vec<String> = Vec::new();
        // New records of this batch, by source key (a key may repeat within a batch; the last version wins).
        let mut inserts: Vec<AnyRow> = Vec::new();
        let mut pending: HashMap<String, usize> = HashMap::new();
        for record in records {
            self.counts.fetched += 1;
            let hash = content_hash(&record);
            let key = record.origin().source_key.clone();
            if let Some(&index) = pending.get(&key) {
                let stamp = Stamp { source: &source, content_hash: hash, seen_at: self.started_at };
                if let Some(row) = to_row(record, stamp) {
                    inserts[index] = row;
                }
                continue;
            }
            match existing.get_mut(&key) {
                Some(stored) if stored.id != record.id() => {
                    let message =
                        format!("source key {key} was stored under id {} and now yields {}", stored.id, record.id());
                    self.reject_record(&record, message);
                }
                Some(stored) if stored.content_hash == hash && stored.deleted_at.is_none() => {
                    if let std::collections::hash_map::Entry::Vacant(entry) = written.entry(key) {
                        self.counts.unchanged += 1;
                        unchanged.push(stored.id.clone());
                        entry.insert(Outcome::Unchanged);
                    }
                }
                Some(stored) => {
                    let previous = written.get(&key).cloned();
                    // The live version from before this run: a later version equal to it leaves the record as it
                    // was (unchanged, its modified_at restored).
                    let original = match &previous {
                        None | Some(Outcome::Unchanged) => stored.deleted_at.is_none().then(|| Original {
                            content_hash: stored.content_hash.clone(),
                            modified_at: stored.modified_at,
                        }),
                        Some(Outcome::Updated(original)) => original.clone(),
                        Some(Outcome::Created) => None,
                    };
                    let restored =
                        original.as_ref().filter(|original| original.content_hash == hash).map(|o| o.modified_at);
                    let stamp = Stamp { source: &source, content_hash: hash.clone(), seen_at: self.started_at };
                    let Some(mut row) = to_row(record, stamp) else { continue };
                    tables::update(conn, &mut row, stored.first_seen_at, restored)?;
                    stored.content_hash = hash;
                    stored.deleted_at = None;
                    let outcome = match (previous, restored) {
                        (Some(Outcome::Created), _) => Outcome::Created,
                        (previous, Some(_)) => {
                            if matches!(previous, Some(Outcome::Updated(_))) {
                                self.counts.updated -= 1;
                                self.counts.unchanged += 1;
                            }
                            Outcome::Unchanged
                        }
                        (previous, None) => {
                            match previous {
                                None => self.counts.updated += 1,
                                Some(Outcome::Unchanged) => {
                                    self.counts.unchanged -= 1;
                                    self.counts.updated += 1;
                                }
                                Some(_) => {}
                            }
                            Outcome::Updated(original)
                        }
                    };
                    written.insert(key, outcome);
                }
                None => {
                    let stamp = Stamp { source: &source, content_hash: hash, seen_at: self.started_at };
                    let Some(row) = to_row(record, stamp) else { continue };
                    pending.insert(key, inserts.len());
                    inserts.push(row);
                }
            }
        }
        for chunk in unchanged.chunks(500) {
            let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
            tables::touch(conn, kind, &ids, self.started_at)?;
        }
        // Ids are unique across sources: a new record whose id another record holds is rejected, not overwritten.
        let mut holders: HashMap<String, String> = HashMap::new();
        for chunk in inserts.chunks(500) {
            let ids: Vec<&str> = chunk.iter().map(AnyRow::id).collect();
            holders.extend(tables::holders(conn, kind, &ids)?);
        }
        let mut rows = Vec::with_capacity(inserts.len());
        for row in inserts {
            match holders.get(row.id()) {
                Some(holder) => {
                    let message = format!("id {} is already provided by connector `{holder}`", row.id());
                    self.reject_key(kind, row.source_key(), row.id(), message);
                }
                None => {
                    written.insert(row.source_key().to_owned(), Outcome::Created);
                    rows.push(row);
                }
            }
        }
        self.written.insert(kind, written);
        self.counts.created += rows.len() as i64;
        tables::insert_many(conn, kind, rows)?;
        Ok(())
    }

    /// Rejects a record the store cannot take (it was already counted as fetched).
    fn reject_record(&mut self, record: &Record, message: String) {
        self.reject_key(record.kind(), &record.origin().source_key, record.id(), message);
    }

    fn reject_key(&mut self, kind: EntityKind, source_key: &str, id: &str, message: String) {
        self.counts.rejected += 1;
        if self.rejects.len() < MAX_STORED_REJECTS {
            self.rejects.push(Rejection {
                location: format!("{kind} {source_key}"),
                field: Some("id".into()),
                value: Some(id.to_owned()),
                message,
            });
        }
    }

    fn finish(&mut self, conn: &mut DbConnection, outcome: RunOutcome, notes: &[String]) -> Result<RunStatus, Abort> {
        let guards = self.request.guards;
        if self.counts.fetched > 0 {
            let ratio = self.counts.rejected as f64 / self.counts.fetched as f64;
            if ratio > guards.max_reject_ratio {
                return Err(Abort::Failed(format!(
                    "{} of {} records were rejected ({:.1} %), more than the allowed {:.1} % (max_reject_ratio); \
                     nothing was changed",
                    self.counts.rejected,
                    self.counts.fetched,
                    ratio * 100.0,
                    guards.max_reject_ratio * 100.0
                )));
            }
        }
        let status = if outcome.source_unchanged { RunStatus::Unchanged } else { RunStatus::Succeeded };
        if outcome.complete && !outcome.source_unchanged {
            self.tombstone_unseen(conn, guards)?;
        }
        self.record_end(conn, status, None, notes, outcome.watermark.as_deref())?;
        self.store_rejects(conn)?;
        // Every committed run changes served data, if only the records' `last_seen_at`.
        crate::revision::raise(conn)?;
        Ok(status)
    }

    /// Tombstones the records of a complete run's scope that it did not see, unless that would remove more than the
    /// allowed share of what was there before.
    fn tombstone_unseen(&mut self, conn: &mut DbConnection, guards: Guards) -> Result<(), Abort> {
        let source = self.request.connector.clone();
        let mut unseen_total = 0;
        let mut live_before = 0;
        for &kind in &self.request.entities {
            unseen_total += tables::count_unseen(conn, kind, &source, self.started_at)?;
            live_before += tables::count_live(conn, kind, &source)?;
        }
        // Records created in this run were not there before it.
        live_before -= self.counts.created;
        if unseen_total == 0 {
            return Ok(());
        }
        let share = unseen_total as f64 / live_before.max(1) as f64;
        if share > guards.max_tombstone_share {
            return Err(Abort::Failed(format!(
                "the run would tombstone {unseen_total} of {live_before} records ({:.1} %), more than the allowed \
                 {:.1} % (max_tombstone_share); nothing was changed",
                share * 100.0,
                guards.max_tombstone_share * 100.0
            )));
        }
        let now = crate::now();
        for &kind in &self.request.entities {
            self.counts.deleted += tables::tombstone_unseen(conn, kind, &source, self.started_at, now)? as i64;
        }
        Ok(())
    }

    fn record_end(
        &self,
        conn: &mut DbConnection,
        status: RunStatus,
        error: Option<&str>,
        notes: &[String],
        watermark: Option<&str>,
    ) -> QueryResult<usize> {
        let counts = self.counts;
        diesel::update(import_run::table.find(self.run_id))
            .set((
                import_run::status.eq(status.as_str()),
                import_run::finished_at.eq(crate::now()),
                import_run::fetched.eq(counts.fetched),
                import_run::created.eq(counts.created),
                import_run::updated.eq(counts.updated),
                import_run::unchanged.eq(counts.unchanged),
                import_run::deleted.eq(counts.deleted),
                import_run::rejected.eq(counts.rejected),
                import_run::error.eq(error),
                import_run::notes.eq(serde_json::to_string(notes).unwrap_or_else(|_| "[]".into())),
                import_run::watermark.eq(watermark),
            ))
            .execute(conn)
    }

    fn store_rejects(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        for rejection in self.rejects.drain(..) {
            diesel::insert_into(rejected_record::table)
                .values((
                    rejected_record::run_id.eq(self.run_id),
                    rejected_record::location.eq(rejection.location),
                    rejected_record::field.eq(rejection.field),
                    rejected_record::value.eq(rejection.value),
                    rejected_record::message.eq(rejection.message),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

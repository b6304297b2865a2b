//! Running connectors: one trigger path for the schedule, start-up imports, `ikz-hub import` and the API.
//!
//! Every trigger goes through [`Hub::start`], which goes through the store's `begin_run`: that takes the
//! connector's run lock (PostgreSQL advisory lock / SQLite file lock), so a connector never runs twice at once, in
//! this process or another one on the same database. A trigger that finds the connector running is recorded as a
//! `skipped` run.
//!
//! The schedule is computed with croner + chrono-tz ([`crate::schedule`]) against an injectable [`Clock`], not with
//! tokio-cron-scheduler: that crate fixes the UTC offset when a job is created (its issue #107: a 02:30 Berlin job
//! created in winter runs at 03:30 in summer) and does not prevent overlapping runs (#50, #83). Each slot is
//! recorded with the run (`scheduled_for`), so replicas with the same schedule run each slot once.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ikz_api::metrics::{Metrics, RunRecord};
use ikz_api::{BoxFuture, ConnectorControl, ConnectorInfo, TriggerError};
use ikz_connectors::fetch::Fetcher;
use ikz_connectors::RunContext;
use ikz_store::runs::RunRequest;
use ikz_store::{ImportRun, RunOptions, RunStatus, RunSummary, Store, StoreError, Trigger};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::configuration::Config;
use crate::schedule::Schedule;

/// The connectors of one process, their triggers and their runs.
pub struct Hub {
    config: Arc<Config>,
    store: Store,
    fetcher: Fetcher,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// `true` once shutting down: no new runs, running ones get `shutdown_grace` to finish.
    stop: watch::Sender<bool>,
    /// Runs in progress in this process.
    active: watch::Sender<usize>,
}

/// Decrements the active-run count when a run task ends, however it ends.
struct ActiveRun(watch::Sender<usize>);

impl Drop for ActiveRun {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Hub {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<Hub>> {
        let fetcher = Fetcher::new(config.http.clone())?;
        Ok(Arc::new(Hub {
            config,
            store,
            fetcher,
            clock,
            metrics,
            stop: watch::Sender::new(false),
            active: watch::Sender::new(0),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Starts a run of `connector` in the background and returns its id once it is recorded as `running`, with a
    /// handle that resolves to its summary. A connector that is running already gives `TriggerError::Skipped` (and
    /// a `skipped` run in the log).
    pub async fn start(
        self: &Arc<Self>,
        connector: &str,
        trigger: Trigger,
        options: RunOptions,
    ) -> Result<(i64, JoinHandle<RunSummary>), TriggerError> {
        let Some(config) = self.config.connector(connector) else {
            return Err(TriggerError::UnknownConnector(connector.to_owned()));
        };
        if self.stopping() {
            return Err(TriggerError::ShuttingDown);
        }
        let id = config.id.clone();
        let watermark = {
            let store = self.store.clone();
            let id = id.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = store.connection()?;
                ikz_store::queries::last_watermark(&mut conn, &id)
            })
            .await
            .map_err(|error| TriggerError::Internal(error.to_string()))?
            .map_err(|error| TriggerError::Internal(error.to_string()))?
        };
        let request = RunRequest {
            connector: id.clone(),
            trigger,
            entities: config.connector.entities().to_vec(),
            guards: config.guards,
        };
        let run = match self.store.begin_run_with(request, options).await {
            Ok(run) => run,
            Err(StoreError::RunSkipped { connector, reason }) => {
                self.metrics.observe_run(RunRecord {
                    connector: &connector,
                    status: "skipped",
                    ..RunRecord::default()
                });
                return Err(TriggerError::Skipped { connector, reason });
            }
            Err(error) => {
                tracing::error!(connector = %id, %error, "the run could not start");
                return Err(TriggerError::Internal(error.to_string()));
            }
        };
        let run_id = run.id();
        self.active.send_modify(|count| *count += 1);
        let active = ActiveRun(self.active.clone());
        let hub = self.clone();
        let handle = tokio::spawn(async move {
            let _active = active;
            hub.execute(&id, run, watermark).await
        });
        Ok((run_id, handle))
    }

    /// Starts a run and waits for it.
    pub async fn run(self: &Arc<Self>, connector: &str, trigger: Trigger) -> Result<RunSummary, TriggerError> {
        let (run_id, handle) = self.start(connector, trigger, RunOptions::default()).await?;
        handle.await.map_err(|error| TriggerError::Internal(format!("run {run_id} stopped: {error}")))
    }

    /// The connector's work, raced against shutdown: after `shutdown_grace` a run still going is dropped, rolled
    /// back and recorded as failed.
    async fn execute(&self, id: &str, mut run: ImportRun, watermark: Option<String>) -> RunSummary {
        let started = Instant::now();
        let summary = match self.config.connector(id) {
            None => run.fail(format!("connector `{id}` is not configured")).await,
            Some(connector) => match self.config.partner(&connector.partner) {
                None => run.fail(format!("partner `{}` is not configured", connector.partner)).await,
                Some(partner) => {
                    let result = {
                        let context = RunContext {
                            partner,
                            partners: &self.config.partners,
                            watermark,
                            sink: &mut run,
                            fetcher: &self.fetcher,
                        };
                        let work = connector.connector.run(context);
                        tokio::select! {
                            result = work => Some(result),
                            () = self.grace_expired() => None,
                        }
                    };
                    match result {
                        Some(Ok(outcome)) => run.finish(outcome).await,
                        Some(Err(error)) => run.fail(error.to_string()).await,
                        None => {
                            run.fail(
                                "interrupted: ikz-hub shut down before the run finished; nothing of it was kept".into(),
                            )
                            .await
                        }
                    }
                }
            },
        };
        let counts = summary.counts;
        self.metrics.observe_run(RunRecord {
            connector: id,
            status: summary.status.as_str(),
            seconds: started.elapsed().as_secs_f64(),
            fetched: counts.fetched,
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            deleted: counts.deleted,
            rejected: counts.rejected,
        });
        if summary.status == RunStatus::Failed {
            tracing::error!(connector = %id, run_id = summary.run_id, error = summary.error.as_deref().unwrap_or(""), "import failed");
        }
        summary
    }

    /// Resolves `shutdown_grace` after shutdown began.
    async fn grace_expired(&self) {
        let mut stop = self.stop.subscribe();
        if stop.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.config.shutdown_grace).await;
    }

    /// Sleeps on the hub's clock; `false` if shutdown began first.
    async fn sleep_until(&self, at: DateTime<Utc>) -> bool {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = self.clock.sleep_until(at) => !self.stopping(),
            _ = stop.wait_for(|stopping| *stopping) => false,
        }
    }

    /// A scheduled slot: the run, and retries with doubling backoff while it fails (up to `max_attempts`). A retry
    /// is dropped when another run of the connector has started since.
    pub async fn run_slot(self: Arc<Self>, connector: String, slot: DateTime<Utc>) {
        let Some(config) = self.config.connector(&connector) else { return };
        let max_attempts = config.max_attempts.max(1);
        let mut backoff = self.config.retry_backoff;
        for attempt in 1..=max_attempts {
            let options = RunOptions { scheduled_for: Some(slot.naive_utc()), retry: attempt > 1 };
            let (run_id, handle) = match self.start(&connector, Trigger::Schedule, options).await {
                Ok(started) => started,
                // Skipped (recorded by the store), shutting down, or a database error (logged).
                Err(_) => return,
            };
            let failed = match handle.await {
                Ok(summary) => summary.status == RunStatus::Failed,
                Err(error) => {
                    tracing::error!(%connector, run_id, %error, "scheduled run task stopped");
                    true
                }
            };
            if !failed || attempt == max_attempts {
                return;
            }
            let retry_at =
                self.clock.now() + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::minutes(5));
            tracing::warn!(%connector, run_id, attempt, max_attempts, %retry_at, "scheduled run failed; retrying");
            if !self.sleep_until(retry_at).await {
                return;
            }
            let store = self.store.clone();
            let id = connector.clone();
            let latest = tokio::task::spawn_blocking(move || -> Result<Option<i64>, StoreError> {
                let mut conn = store.connection()?;
                ikz_store::runs::latest_run_id(&mut conn, &id)
            })
            .await;
            if !matches!(latest, Ok(Ok(Some(latest))) if latest == run_id) {
                tracing::info!(%connector, run_id, "not retrying: the connector has run since");
                return;
            }
            backoff = backoff.saturating_mul(2);
        }
    }

    /// One scheduling task per enabled connector with a schedule (when `[scheduler] enabled`).
    pub fn spawn_scheduler(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        if !self.config.scheduler.enabled {
            tracing::info!("the scheduler is disabled");
            return Vec::new();
        }
        let mut tasks = Vec::new();
        for connector in self.config.connectors.iter().filter(|connector| connector.enabled) {
            let Some(schedule) = connector.schedule.clone() else { continue };
            let hub = self.clone();
            let id = connector.id.clone();
            tasks.push(tokio::spawn(async move {
                let timezone = hub.config.timezone;
                let stop = hub.stop.subscribe();
                let clock = hub.clock.clone();
                tracing::info!(connector = %id, schedule = schedule.pattern(), %timezone, "scheduled");
                schedule_loop(clock.as_ref(), &schedule, timezone, stop, |slot| {
                    tracing::info!(connector = %id, %slot, "scheduled run due");
                    tokio::spawn(hub.clone().run_slot(id.clone(), slot));
                })
                .await;
            }));
        }
        tasks
    }

    /// Imports, one after the other in the background, the enabled `run_on_start` connectors that have never
    /// succeeded. Through the same trigger path (and lock) as everything else.
    pub fn spawn_startup_imports(self: &Arc<Self>) {
        let wanted: Vec<String> = self
            .config
            .connectors
            .iter()
            .filter(|connector| connector.enabled && connector.run_on_start)
            .map(|connector| connector.id.clone())
            .collect();
        if wanted.is_empty() {
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            for id in wanted {
                let store = hub.store.clone();
                let check = id.clone();
                let done = tokio::task::spawn_blocking(move || {
                    let mut conn = store.connection()?;
                    ikz_store::queries::has_succeeded(&mut conn, &check)
                })
                .await;
                match done {
                    Ok(Ok(true)) => continue,
                    Ok(Ok(false)) => {}
                    Ok(Err(error)) => {
                        tracing::error!(connector = %id, %error, "cannot check the connector's runs");
                        continue;
                    }
                    Err(error) => {
                        tracing::error!(connector = %id, %error, "start-up import task failed");
                        continue;
                    }
                }
                match hub.run(&id, Trigger::Startup).await {
                    Ok(summary) => {
                        tracing::info!(connector = %id, status = summary.status.as_str(), "start-up import done")
                    }
                    Err(TriggerError::ShuttingDown) => return,
                    Err(error) => tracing::warn!(connector = %id, ?error, "start-up import did not run"),
                }
            }
        });
    }

    /// Stops scheduling and new runs; waits for running imports (each gets `shutdown_grace`, then is rolled back
    /// and recorded as failed).
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let mut active = self.active.subscribe();
        let running = *active.borrow();
        if running > 0 {
            tracing::info!(running, grace = ?self.config.shutdown_grace, "waiting for running imports");
        }
        let _ = active.wait_for(|count| *count == 0).await;
    }

    /// The configured connectors with their next run time.
    pub fn connector_infos(&self) -> Vec<ConnectorInfo> {
        let now = self.clock.now();
        self.config
            .connectors
            .iter()
            .map(|connector| ConnectorInfo {
                id: connector.id.clone(),
                kind: connector.kind.clone(),
                partner: connector.partner.clone(),
                description: connector.description.clone(),
                enabled: connector.enabled,
                schedule: connector.schedule.as_ref().map(|schedule| schedule.pattern().to_owned()),
                timezone: self.config.timezone.to_string(),
                next_run_at: connector
                    .schedule
                    .as_ref()
                    .filter(|_| connector.enabled && self.config.scheduler.enabled)
                    .and_then(|schedule| schedule.next_after(now, self.config.timezone)),
                stale_after: connector.stale_after.as_ref().map(|(text, _)| text.clone()),
                stale_after_seconds: connector.stale_after.as_ref().map(|(_, duration)| duration.as_secs() as i64),
            })
            .collect()
    }
}

/// Fires `fire(slot)` at each slot of `schedule` on `clock`, until `stop` turns true. The run itself is the
/// callback's business (it spawns it, so a slow run never delays the next slot's trigger; the run lock decides).
pub async fn schedule_loop(
    clock: &dyn Clock,
    schedule: &Schedule,
    timezone: chrono_tz::Tz,
    mut stop: watch::Receiver<bool>,
    mut fire: impl FnMut(DateTime<Utc>),
) {
    let mut after = clock.now();
    loop {
        let Some(slot) = schedule.next_after(after, timezone) else {
            tracing::warn!(schedule = schedule.pattern(), "the schedule has no further run time");
            return;
        };
        tokio::select! {
            () = clock.sleep_until(slot) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        if *stop.borrow() {
            return;
        }
        fire(slot);
        // A process that was suspended past several slots runs the next one only, not all it missed.
        after = clock.now().max(slot);
    }
}

/// The hub as the API sees it.
pub struct HubControl(pub Arc<Hub>);

impl ConnectorControl for HubControl {
    fn connectors(&self) -> Vec<ConnectorInfo> {
        self.0.connector_infos()
    }

    fn trigger(&self, connector: &str) -> BoxFuture<Result<i64, TriggerError>> {
        let hub = self.0.clone();
        let connector = connector.to_owned();
        Box::pin(async move {
            match hub.config.connector(&connector) {
                None => return Err(TriggerError::UnknownConnector(connector)),
                Some(config) if !config.enabled => return Err(TriggerError::Disabled(connector)),
                Some(_) => {}
            }
            let (run_id, _handle) = hub.start(&connector, Trigger::Api, RunOptions::default()).await?;
            Ok(run_id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid")
    }

    /// The scheduling loop itself, on a manual clock, through both 2026 DST switches: nothing waits in real time.
    #[tokio::test]
    async fn the_loop_fires_at_local_time_across_both_2026_switches() {
        for (start, stop, expected) in [
            (
                utc(2026, 3, 27, 12, 0),
                utc(2026, 3, 30, 12, 0),
                vec![utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)],
            ),
            (
                utc(2026, 10, 23, 12, 0),
                utc(2026, 10, 26, 12, 0),
                vec![utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
            ),
        ] {
            let clock = Arc::new(ManualClock::new(start).stop_at(stop));
            let schedule = Schedule::parse("0 30 2 * * *").expect("valid");
            let (stop_sender, stop_receiver) = watch::channel(false);
            let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
            let task = {
                let clock = clock.clone();
                tokio::spawn(async move {
                    schedule_loop(clock.as_ref(), &schedule, chrono_tz::Europe::Berlin, stop_receiver, |slot| {
                        let _ = sender.send((slot, clock.now()));
                    })
                    .await;
                })
            };
            let mut fired = Vec::new();
            for _ in 0..expected.len() {
                let (slot, now) = receiver.recv().await.expect("a slot");
                assert_eq!(slot, now, "fired at its slot time");
                fired.push(slot);
            }
            assert_eq!(fired, expected);
            // The next slot is past the clock's stop: nothing more fires; stopping ends the loop.
            tokio::task::yield_now().await;
            assert!(receiver.try_recv().is_err());
            stop_sender.send_replace(true);
            task.await.expect("the loop ends on stop");
        }
    }
}

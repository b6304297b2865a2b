//! The scheduler's clock, injectable so tests can walk through DST switches without waiting for them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// The system clock. Sleeps in steps of at most a minute and looks at the wall clock again after each, so a clock
/// adjusted by NTP (or a suspended machine) does not make a run late by the size of the jump.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            loop {
                let remaining = at - Utc::now();
                let Ok(remaining) = remaining.to_std() else { return };
                if remaining.is_zero() {
                    return;
                }
                tokio::time::sleep(remaining.min(std::time::Duration::from_secs(60))).await;
            }
        })
    }
}

/// A clock for tests: sleeping jumps the time forward at once. Sleeps past `stop_at` never end, so a test scheduler
/// runs exactly the slots up to that time and then waits.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    stop_at: Mutex<Option<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { now: Mutex::new(start), stop_at: Mutex::new(None) }
    }

    /// Sleeps to a time after `stop_at` wait forever.
    pub fn stop_at(self, stop_at: DateTime<Utc>) -> Self {
        *self.stop_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(stop_at);
        self
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let stop_at = *self.stop_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if stop_at.is_some_and(|stop_at| at > stop_at) {
                std::future::pending::<()>().await;
            }
            {
                let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if *now < at {
                    *now = at;
                }
            }
            tokio::task::yield_now().await;
        })
    }
}

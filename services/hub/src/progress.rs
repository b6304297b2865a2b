//! A terminal progress bar for `ikz-hub import`, fed by the connectors' progress events.
//!
//! Connectors report progress as tracing events on the target [`TARGET`] with the fields `connector`, `list`,
//! `pages_done` and `pages_known`; this layer turns them into an indicatif bar. It is installed only when stderr is a
//! terminal, so logs of scheduled runs and CI stay plain.

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// The tracing target of progress events (the OParl connector's `PROGRESS_TARGET`).
pub const TARGET: &str = ikz_connectors::oparl::PROGRESS_TARGET;

#[derive(Default, Clone)]
pub struct ProgressLayer {
    bar: Arc<Mutex<Option<(String, ProgressBar)>>>,
}

impl ProgressLayer {
    /// The bar's label, position and length, if one is shown.
    pub fn current(&self) -> Option<(String, u64, u64)> {
        let slot = self.bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.as_ref().map(|(label, bar)| (label.clone(), bar.position(), bar.length().unwrap_or(0)))
    }
}

#[derive(Default)]
struct Progress {
    connector: String,
    list: String,
    pages_done: u64,
    pages_known: u64,
}

impl Visit for Progress {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "pages_done" => self.pages_done = value,
            "pages_known" => self.pages_known = value,
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, value.max(0) as u64);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}").trim_matches('"').to_owned();
        match field.name() {
            "connector" => self.connector = text,
            "list" => self.list = text,
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for ProgressLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut progress = Progress::default();
        event.record(&mut progress);
        let key = format!("{} {}", progress.connector, progress.list);
        let mut slot = self.bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.as_ref().is_none_or(|(current, _)| *current != key) {
            if let Some((_, old)) = slot.take() {
                old.finish();
            }
            let bar = ProgressBar::new(progress.pages_known.max(1));
            let style = ProgressStyle::with_template("{msg:32} {bar:30} {pos}/{len} pages {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(key.clone());
            *slot = Some((key, bar));
        }
        if let Some((_, bar)) = slot.as_ref() {
            bar.set_length(progress.pages_known.max(progress.pages_done).max(1));
            bar.set_position(progress.pages_done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn progress_events_drive_the_bar() {
        let layer = ProgressLayer::default();
        let subscriber = tracing_subscriber::registry().with(layer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "unrelated", pages_done = 9u64, "ignored");
            tracing::debug!(target: TARGET, connector = "ratsinfo", list = "paper", pages_done = 3u64, pages_known = 5u64, "reading");
        });
        let bar = layer.bar.lock().map(|slot| slot.as_ref().map(|(_, bar)| bar.clone())).ok().flatten();
        let bar = bar.expect("a bar for the progress event");
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        assert_eq!(layer.current(), Some(("ratsinfo paper".to_owned(), 3, 5)));
    }
}

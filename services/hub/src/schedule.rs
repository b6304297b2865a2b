//! Connector schedules: cron expressions with seconds ("0 30 2 * * *" = 02:30:00 every day), read in the configured
//! time zone.

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

#[derive(Debug, Clone)]
pub struct Schedule {
    pattern: String,
    cron: Cron,
}

impl Schedule {
    /// Parses a six-field cron expression (seconds first), as tokio-cron-scheduler reads it.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(pattern)
            .map_err(|error| format!("invalid cron expression `{pattern}`: {error} (expected six fields, seconds first, e.g. \"0 30 2 * * *\")"))?;
        Ok(Schedule { pattern: pattern.to_owned(), cron })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The first time after `after` that matches, read as wall-clock time in `timezone`:
    ///
    /// - 02:30 stays 02:30 local time in winter and summer;
    /// - a wall-clock time that does not exist (02:30 on the spring-forward day) runs at the first valid time after
    ///   the gap (03:00);
    /// - a wall-clock time that happens twice (02:30 on the fall-back day) runs once, at its first occurrence.
    ///
    /// The cron fields are matched against the local wall clock (croner evaluates them in a zone without DST, which
    /// makes it a calculator of wall-clock times); chrono-tz then places each wall-clock time on the UTC time line.
    pub fn next_after(&self, after: DateTime<Utc>, timezone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        let mut wall = after.with_timezone(&timezone).naive_local();
        // A bound against pathological patterns (a 31st of February never matches; croner gives up on its own).
        for _ in 0..10_000 {
            let candidate = self.cron.find_next_occurrence(&Utc.from_utc_datetime(&wall), false).ok()?.naive_utc();
            let instant = match timezone.from_local_datetime(&candidate) {
                LocalResult::Single(instant) => instant.with_timezone(&Utc),
                // Repeated hour: only the first occurrence is a slot, so the job runs once.
                LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
                LocalResult::None => first_instant_not_before(candidate, timezone),
            };
            if instant > after {
                return Some(instant);
            }
            wall = candidate;
        }
        None
    }
}

/// The first instant whose local wall-clock time is at or after `wall`, for a `wall` in a DST gap: the end of the
/// gap (03:00 for 02:30 on the spring-forward day in Europe/Berlin).
fn first_instant_not_before(wall: NaiveDateTime, timezone: chrono_tz::Tz) -> DateTime<Utc> {
    // Read `wall` with an offset well before and well after the gap; the transition lies between the two.
    let mut low = Utc.from_utc_datetime(&wall) - Duration::hours(26);
    let mut high = Utc.from_utc_datetime(&wall) + Duration::hours(26);
    while high - low > Duration::seconds(1) {
        let middle = low + (high - low) / 2;
        if middle.with_timezone(&timezone).naive_local() >= wall {
            high = middle;
        } else {
            low = middle;
        }
    }
    // Whole seconds, as cron slots are.
    let seconds = high.timestamp();
    let floor = Utc.timestamp_opt(seconds, 0).single().unwrap_or(high);
    if floor.with_timezone(&timezone).naive_local() >= wall {
        floor
    } else {
        floor + Duration::seconds(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("valid UTC time")
    }

    /// Every run time from `from` (exclusive) up to `until` (inclusive).
    fn runs(pattern: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let schedule = Schedule::parse(pattern).expect("valid");
        let mut times = Vec::new();
        let mut at = from;
        while let Some(next) = schedule.next_after(at, chrono_tz::Europe::Berlin).filter(|next| *next <= until) {
            times.push(next);
            at = next;
        }
        times
    }

    #[test]
    fn spring_forward_2026_runs_at_the_next_valid_time() {
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
        let times = runs("0 30 2 * * *", utc(2026, 3, 27, 12, 0, 0), utc(2026, 3, 31, 12, 0, 0));
        assert_eq!(
            times,
            vec![
                utc(2026, 3, 28, 1, 30, 0), // 02:30 CET
                utc(2026, 3, 29, 1, 0, 0),  // 03:00 CEST, the first valid time after the gap
                utc(2026, 3, 30, 0, 30, 0), // 02:30 CEST
                utc(2026, 3, 31, 0, 30, 0),
            ]
        );
        // Jobs outside the gap are not disturbed: 03:30 runs once at 03:30 CEST.
        let times = runs("0 30 3 * * *", utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 29, 12, 0, 0));
        assert_eq!(times, vec![utc(2026, 3, 29, 1, 30, 0)]);
        // Several slots inside the gap collapse into one run at 03:00, then the quarter-hours go on.
        let times = runs("0 */15 2-3 * * *", utc(2026, 3, 28, 23, 0, 0), utc(2026, 3, 29, 1, 50, 0));
        assert_eq!(
            times,
            vec![
                utc(2026, 3, 29, 1, 0, 0),
                utc(2026, 3, 29, 1, 15, 0),
                utc(2026, 3, 29, 1, 30, 0),
                utc(2026, 3, 29, 1, 45, 0)
            ]
        );
    }

    #[test]
    fn fall_back_2026_runs_once() {
        // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice that night.
        let times = runs("0 30 2 * * *", utc(2026, 10, 23, 12, 0, 0), utc(2026, 10, 27, 12, 0, 0));
        assert_eq!(
            times,
            vec![
                utc(2026, 10, 24, 0, 30, 0), // 02:30 CEST
                utc(2026, 10, 25, 0, 30, 0), // 02:30 CEST, the first of the two; not again at 02:30 CET
                utc(2026, 10, 26, 1, 30, 0), // 02:30 CET
                utc(2026, 10, 27, 1, 30, 0),
            ]
        );
        // A process (re)started inside the repeated hour, after the first 02:30, does not run it a second time.
        let schedule = Schedule::parse("0 30 2 * * *").expect("valid");
        let restarted = utc(2026, 10, 25, 1, 10, 0); // 02:10 CET, the second pass
        assert_eq!(schedule.next_after(restarted, chrono_tz::Europe::Berlin), Some(utc(2026, 10, 26, 1, 30, 0)));
    }

    #[test]
    fn a_year_of_nightly_runs_is_one_per_day_at_local_time() {
        let times = runs("0 30 2 * * *", utc(2025, 12, 31, 12, 0, 0), utc(2026, 12, 31, 12, 0, 0));
        assert_eq!(times.len(), 365);
        let berlin = chrono_tz::Europe::Berlin;
        for time in &times {
            let local = time.with_timezone(&berlin).time();
            let spring_forward = time.date_naive() == chrono::NaiveDate::from_ymd_opt(2026, 3, 29).expect("date");
            let expected = if spring_forward { "03:00:00" } else { "02:30:00" };
            assert_eq!(local.to_string(), expected, "{time}");
        }
    }

    #[test]
    fn six_fields_are_required() {
        assert!(Schedule::parse("0 30 2 * * *").is_ok());
        let error = Schedule::parse("30 2 * * *").expect_err("five fields");
        assert!(error.contains("six fields"), "{error}");
        assert!(Schedule::parse("0 61 2 * * *").is_err());
    }

    #[test]
    fn local_time_holds_across_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        let schedule = Schedule::parse("0 30 2 * * *").expect("valid");
        // Winter: 02:30 CET = 01:30 UTC.
        let winter = schedule.next_after(Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap(), berlin).expect("next");
        assert_eq!(winter, Utc.with_ymd_and_hms(2026, 1, 10, 1, 30, 0).unwrap());
        // Summer: 02:30 CEST = 00:30 UTC.
        let summer = schedule.next_after(Utc.with_ymd_and_hms(2026, 7, 10, 0, 0, 0).unwrap(), berlin).expect("next");
        assert_eq!(summer, Utc.with_ymd_and_hms(2026, 7, 10, 0, 30, 0).unwrap());
    }
}

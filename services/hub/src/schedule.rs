//! Connector schedules: cron expressions with seconds ("0 30 2 * * *" = 02:30:00 every day), read in the configured
//! time zone.

use chrono::{DateTime, Utc};
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

    /// The first time after `after` that matches, read in `timezone` (so 02:30 stays 02:30 local time across DST).
    pub fn next_after(&self, after: DateTime<Utc>, timezone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&timezone);
        self.cron.find_next_occurrence(&local, false).ok().map(|next| next.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

//! Timestamp and date columns on fast paths for the forms the store itself writes and serves.
//!
//! diesel reads a SQLite timestamp by trying chrono format strings one after the other (chrono parses the format
//! string again on every call), and rows printed their timestamps through chrono's RFC 3339 formatter: together a
//! fifth of the instructions of an API list page. The fast paths take exactly the text diesel writes to SQLite
//! (`2026-11-30 10:00:00.123456`) and print exactly what chrono prints; every other value goes to diesel and chrono
//! as before, so nothing reads or prints differently.
//!
//! Rows use the readers through `#[diesel(deserialize_as = …)]` on their time fields.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::sql_types::{Date, Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use crate::connection::{MultiBackend, MultiRawValue};

/// A `Timestamp` column.
#[derive(Debug, Clone, Copy, PartialEq, FromSqlRow)]
pub struct TimestampColumn(NaiveDateTime);

impl From<TimestampColumn> for NaiveDateTime {
    fn from(column: TimestampColumn) -> Self {
        column.0
    }
}

impl FromSql<Timestamp, MultiBackend> for TimestampColumn {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        read_timestamp(value).map(TimestampColumn)
    }
}

/// A `Nullable<Timestamp>` column.
#[derive(Debug, Clone, Copy, PartialEq, FromSqlRow)]
pub struct OptionalTimestampColumn(Option<NaiveDateTime>);

impl From<OptionalTimestampColumn> for Option<NaiveDateTime> {
    fn from(column: OptionalTimestampColumn) -> Self {
        column.0
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for OptionalTimestampColumn {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        read_timestamp(value).map(|at| OptionalTimestampColumn(Some(at)))
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(OptionalTimestampColumn(None)), Self::from_sql)
    }
}

/// A `Nullable<Date>` column.
#[derive(Debug, Clone, Copy, PartialEq, FromSqlRow)]
pub struct OptionalDateColumn(Option<NaiveDate>);

impl From<OptionalDateColumn> for Option<NaiveDate> {
    fn from(column: OptionalDateColumn) -> Self {
        column.0
    }
}

impl FromSql<Nullable<Date>, MultiBackend> for OptionalDateColumn {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        let day = match value {
            MultiRawValue::Sqlite(mut raw) => {
                let parsed = parse_sqlite_date(raw.read_text());
                match parsed {
                    Some(day) => day,
                    None => <NaiveDate as FromSql<Date, Sqlite>>::from_sql(raw)?,
                }
            }
            other => <NaiveDate as FromSql<Date, MultiBackend>>::from_sql(other)?,
        };
        Ok(OptionalDateColumn(Some(day)))
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(OptionalDateColumn(None)), Self::from_sql)
    }
}

fn read_timestamp(value: MultiRawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    match value {
        MultiRawValue::Sqlite(mut raw) => {
            let parsed = parse_sqlite_timestamp(raw.read_text());
            match parsed {
                Some(at) => Ok(at),
                None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(raw),
            }
        }
        other => <NaiveDateTime as FromSql<Timestamp, MultiBackend>>::from_sql(other),
    }
}

/// `YYYY-MM-DD HH:MM:SS`, optionally with `.` and 1–9 fraction digits: the form diesel writes timestamps to SQLite
/// in (chrono's `%F %T%.f`, the first form diesel tries when reading). `None` for anything else, leap seconds
/// and impossible dates included, which diesel then reads (or refuses) as before.
pub(crate) fn parse_sqlite_timestamp(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let (date, rest) = bytes.split_at_checked(10)?;
    let day = parse_date_bytes(date)?;
    let [b' ', h1, h2, b':', m1, m2, b':', s1, s2, fraction @ ..] = rest else { return None };
    let hour = number(&[*h1, *h2])?;
    let minute = number(&[*m1, *m2])?;
    let second = number(&[*s1, *s2])?;
    if second > 59 {
        return None;
    }
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let scale = 10u32.pow(9 - u32::try_from(digits.len()).ok()?);
            number(digits)? * scale
        }
        _ => return None,
    };
    day.and_hms_nano_opt(hour, minute, second, nanos)
}

/// `YYYY-MM-DD` (chrono's `%F`, what diesel writes dates to SQLite as); `None` for anything else.
pub(crate) fn parse_sqlite_date(text: &str) -> Option<NaiveDate> {
    parse_date_bytes(text.as_bytes())
}

fn parse_date_bytes(bytes: &[u8]) -> Option<NaiveDate> {
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = bytes else { return None };
    let year = i32::try_from(number(&[*y1, *y2, *y3, *y4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&[*m1, *m2])?, number(&[*d1, *d2])?)
}

/// ASCII digits as a number; `None` if any byte is not a digit.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, byte| byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0')))
}

/// Length of [`format_utc_micros`]'s text.
pub(crate) const UTC_MICROS_LEN: usize = 27;

/// `2026-11-30T10:00:00.123456Z`: what chrono's `and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)` writes,
/// for years 0–9999 outside leap seconds; `None` for the rest (the caller asks chrono).
pub(crate) fn format_utc_micros<'a>(at: &NaiveDateTime, out: &'a mut [u8; UTC_MICROS_LEN]) -> Option<&'a str> {
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    write_digits(&mut out[0..4], year);
    out[4] = b'-';
    write_digits(&mut out[5..7], at.month());
    out[7] = b'-';
    write_digits(&mut out[8..10], at.day());
    out[10] = b'T';
    write_digits(&mut out[11..13], at.hour());
    out[13] = b':';
    write_digits(&mut out[14..16], at.minute());
    out[16] = b':';
    write_digits(&mut out[17..19], at.second());
    out[19] = b'.';
    write_digits(&mut out[20..26], nanos / 1000);
    out[26] = b'Z';
    std::str::from_utf8(out).ok()
}

/// `value` as zero-padded decimal digits filling `out` (the value fits: callers pass field-sized slices).
fn write_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    /// diesel's reading of a SQLite timestamp: its format list, in its order (diesel 2.3).
    fn chrono_timestamp(text: &str) -> Option<NaiveDateTime> {
        ["%F %T%.f", "%F %T"].iter().find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    }

    /// Instants across the years 0–9999 and every sub-second precision, from a fixed-seed generator.
    fn instants() -> Vec<NaiveDateTime> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut instants = Vec::new();
        for _ in 0..20_000 {
            let seconds = (next() % 315_537_897_600) as i64 - 62_135_596_800; // 0000-01-01 to 9999-12-31
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1000,
                _ => (next() % 1_000_000_000) as u32,
            };
            if let Some(at) = chrono::DateTime::from_timestamp(seconds, nanos) {
                instants.push(at.naive_utc());
            }
        }
        instants
    }

    #[test]
    fn timestamps_diesel_writes_read_as_chrono_reads_them() {
        for at in instants() {
            // What diesel's ToSql<Timestamp, Sqlite> writes.
            let text = at.format("%F %T%.f").to_string();
            assert_eq!(parse_sqlite_timestamp(&text), Some(at), "{text}");
            assert_eq!(parse_sqlite_timestamp(&text), chrono_timestamp(&text), "{text}");
        }
    }

    #[test]
    fn other_text_is_left_to_diesel() {
        for text in [
            "2026-11-30T10:00:00",
            "2026-11-30 10:00",
            "2026-11-30 10:00:00Z",
            "2026-11-30 10:00:00+01:00",
            "2026-11-30 10:00:00.",
            "2026-11-30 10:00:00.1234567890",
            "2026-11-30 10:00:60",
            "2026-11-30 24:00:00",
            "2026-02-30 10:00:00",
            "2026-1-30 10:00:00",
            "+2026-11-30 10:00:00",
            "2026-11-30 10:00:00 ",
            "2461009.5",
            "",
        ] {
            assert_eq!(parse_sqlite_timestamp(text), None, "{text}");
        }
        assert_eq!(parse_sqlite_date("2026-11-30"), NaiveDate::from_ymd_opt(2026, 11, 30));
        for text in ["2026-11-30 ", "2026-02-30", "26-11-30", "2026/11/30", ""] {
            assert_eq!(parse_sqlite_date(text), None, "{text}");
        }
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        for at in instants() {
            let text = at.date().format("%F").to_string();
            assert_eq!(parse_sqlite_date(&text), NaiveDate::parse_from_str(&text, "%F").ok(), "{text}");
        }
    }

    #[test]
    fn instants_print_as_chrono_prints_them() {
        let mut buffer = [0; UTC_MICROS_LEN];
        for at in instants() {
            let expected = at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true);
            assert_eq!(format_utc_micros(&at, &mut buffer), Some(expected.as_str()));
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).and_then(|day| day.and_hms_micro_opt(23, 59, 59, 1_500_000));
        assert_eq!(leap.and_then(|at| format_utc_micros(&at, &mut buffer).map(str::to_owned)), None);
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0));
        assert_eq!(far.and_then(|at| format_utc_micros(&at, &mut buffer).map(str::to_owned)), None);
    }
}

//! Tolerant reading of OParl JSON as real servers send it.
//!
//! Real endpoints break the spec in known ways (see ARCHITECTURE.md, "Known pitfalls"); everything here accepts the
//! broken form and yields what the spec meant:
//! - raw control characters inside strings (invalid JSON): escaped, then parsed again;
//! - `"N/A"`, `""` and `" "` where a value is absent;
//! - one object where an array is due;
//! - the `+01::00` offset of ALLRIS 4, date-times where dates are due and the reverse;
//! - type URIs of OParl 1.0 and 1.1 (and `http://`), embedded objects without `type`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::Value;

/// Parses a response body as JSON. The body is decoded by its declared charset first (JSON should be UTF-8, but
/// some servers say otherwise); invalid JSON caused by raw control characters inside strings is repaired.
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Value, serde_json::Error> {
    let text = crate::fetch::decode_text(bytes, content_type);
    match serde_json::from_str(&text) {
        Ok(value) => Ok(value),
        Err(first) => {
            let Some(repaired) = repair(&text) else { return Err(first) };
            tracing::debug!(error = %first, "repaired raw control characters in JSON");
            serde_json::from_str(&repaired)
        }
    }
}

/// Escapes raw control characters (U+0000..U+001F) inside JSON strings, which the JSON grammar forbids but
/// ALLRIS servers emit (Braunschweig: line breaks and binary garbage from a Word paste). Outside strings they are
/// whitespace or garbage and are dropped unless they are JSON whitespace. `None` when there was nothing to repair.
pub fn repair(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for ch in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
                out.push(ch);
                continue;
            }
            match ch {
                '\\' => {
                    escaped = true;
                    out.push(ch);
                }
                '"' => {
                    in_string = false;
                    out.push(ch);
                }
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        } else {
            match ch {
                '"' => {
                    in_string = true;
                    out.push(ch);
                }
                ' ' | '\n' | '\r' | '\t' => out.push(ch),
                c if (c as u32) < 0x20 => {}
                c => out.push(c),
            }
        }
    }
    (out != text).then_some(out)
}

/// A string field, trimmed; absent for `null`, `""`, whitespace and `"N/A"`. Numbers are turned into text (an
/// `"order": 3` read as text). Control characters other than line breaks and tabs are removed.
pub fn text(object: &Value, key: &str) -> Option<String> {
    as_text(object.get(key)?)
}

/// [`text`] for a value itself.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => clean_text(text),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A string as [`text`] reads it: control characters other than line breaks and tabs removed, trimmed, absent
/// when it is a placeholder.
pub fn clean_text(raw: &str) -> Option<String> {
    if may_hold_controls(raw) && raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        let cleaned: String = raw.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).collect();
        return clean_text(&cleaned);
    }
    let trimmed = raw.trim();
    (!is_absent(trimmed)).then(|| trimmed.to_owned())
}

/// Could `text` hold a control character? Control characters are C0, DEL and C1 (0xC2 0x80..=0x9F in UTF-8): a
/// byte scan rules most strings out. It reads every byte without stopping early, so the compiler turns it into
/// vector instructions: an early-exit `any` was most of the time spent on text fields.
fn may_hold_controls(text: &str) -> bool {
    text.bytes().fold(false, |found, byte| found | (byte < 0x20) | (byte == 0x7f) | (byte == 0xc2))
}

/// [`clean_text`] for an owned string, kept without copying when it is clean already (the common case).
pub fn clean_string(raw: String) -> Option<String> {
    let clean = raw.len() == raw.trim().len() && !may_hold_controls(&raw);
    if clean {
        (!is_absent(&raw)).then_some(raw)
    } else {
        clean_text(&raw)
    }
}

/// Is a trimmed text a placeholder for an absent value?
pub fn is_absent(trimmed: &str) -> bool {
    trimmed.is_empty() || trimmed.eq_ignore_ascii_case("n/a") || trimmed.eq_ignore_ascii_case("null")
}

/// The values of an array field; one object or string where an array is due counts as an array of one, and
/// `null` or absent as none.
pub fn many<'a>(object: &'a Value, key: &str) -> Vec<&'a Value> {
    match object.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|item| !item.is_null()).collect(),
        Some(Value::String(text)) if is_absent(text.trim()) => Vec::new(),
        Some(other) => vec![other],
    }
}

/// The URL a reference field points to: the string itself, or the `id` of an embedded object.
pub fn reference(value: &Value) -> Option<String> {
    match value {
        Value::String(_) => as_text(value),
        Value::Object(_) => text(value, "id"),
        _ => None,
    }
}

/// The first reference of a field that may hold one reference or an array of them.
pub fn first_reference(object: &Value, key: &str) -> Option<String> {
    many(object, key).into_iter().find_map(reference)
}

/// Every reference of a field that may hold one reference or an array of them.
pub fn references(object: &Value, key: &str) -> Vec<String> {
    many(object, key).into_iter().filter_map(reference).collect()
}

/// A boolean field; `"true"`/`"false"`/`1`/`0` as servers write them, absent otherwise.
pub fn boolean(object: &Value, key: &str) -> Option<bool> {
    match object.get(key)? {
        Value::Bool(value) => Some(*value),
        Value::Number(number) => number.as_i64().map(|n| n != 0),
        Value::String(text) => parse_boolean(text),
        _ => None,
    }
}

/// A boolean written as text: `true`/`false`, `1`/`0`, `ja`/`nein`, `yes`/`no`.
pub fn parse_boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "ja" | "yes" => Some(true),
        "false" | "0" | "nein" | "no" => Some(false),
        _ => None,
    }
}

/// An integer field, also when written as text.
pub fn integer(object: &Value, key: &str) -> Option<i64> {
    match object.get(key)? {
        Value::Number(number) => number.as_i64().or_else(|| number.as_f64().map(|f| f as i64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The OParl type of an object without its namespace: `Paper` for `https://schema.oparl.org/1.1/Paper`,
/// `https://schema.oparl.org/1.0/Paper` and `http://…`; absent when the object has no `type` (embedded objects
/// often lack it).
pub fn type_name(object: &Value) -> Option<String> {
    let uri = text(object, "type")?;
    let name = uri.trim_end_matches('/').rsplit('/').next().unwrap_or(&uri);
    Some(name.to_owned())
}

/// Is `object` marked `deleted: true`?
pub fn is_deleted(object: &Value) -> bool {
    boolean(object, "deleted") == Some(true)
}

/// What went wrong reading one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub value: String,
    pub message: String,
}

/// A date field: `2013-01-04`, or the date part of a date-time as written (`1971-05-04T00:00:00+01::00` is
/// 1971-05-04: the server meant that day in its own time zone). Absent values are `Ok(None)`.
pub fn date(object: &Value, key: &str) -> Result<Option<NaiveDate>, FieldProblem> {
    let Some(raw) = text(object, key) else { return Ok(None) };
    parse_date(&raw).map(Some).ok_or_else(|| FieldProblem {
        field: key.to_owned(),
        value: raw,
        message: "not a date (expected YYYY-MM-DD)".to_owned(),
    })
}

pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let head = raw.get(..10)?;
    // `YYYY-MM-DD` read by hand: a format string is parsed anew on every call, and papers carry a date each.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *head.as_bytes() {
        let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
        if digits.iter().all(u8::is_ascii_digit) {
            let n =
                |range: std::ops::Range<usize>| digits[range].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            if let Some(day) = NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8)) {
                return Some(day);
            }
        }
    }
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok().or_else(|| crate::de::parse_date(raw).ok())
}

/// A date-time field as a UTC instant. Accepts RFC 3339, the `+01::00` offset, `+0100`, a missing offset (taken
/// as German local time, which is what the servers mean) and a bare date (midnight German time).
pub fn date_time(object: &Value, key: &str) -> Result<Option<DateTime<Utc>>, FieldProblem> {
    let Some(raw) = text(object, key) else { return Ok(None) };
    parse_date_time(&raw).map(Some).ok_or_else(|| FieldProblem {
        field: key.to_owned(),
        value: raw,
        message: "not a date-time (expected YYYY-MM-DDTHH:MM:SS+01:00)".to_owned(),
    })
}

pub fn parse_date_time(raw: &str) -> Option<DateTime<Utc>> {
    let fixed = raw.trim().replace("::", ":").replace(' ', "T");
    if let Ok(instant) = DateTime::parse_from_rfc3339(&fixed) {
        return Some(instant.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(instant) = DateTime::parse_from_str(&fixed, format) {
            return Some(instant.with_timezone(&Utc));
        }
    }
    let local = NaiveDateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| parse_date(&fixed).map(|day| day.and_time(NaiveTime::MIN)))?;
    berlin(local)
}

/// Takes a wall-clock time in Germany to UTC (the earlier instant when the clock is turned back).
fn berlin(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    chrono_tz::Europe::Berlin
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| chrono_tz::Europe::Berlin.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map(|instant| instant.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repairs_raw_control_characters_inside_strings() {
        let broken = "{\"name\": \"a\r\nb\u{4}c\",\n\t\"x\": 1}";
        assert!(serde_json::from_str::<Value>(broken).is_err());
        let value = parse(broken.as_bytes(), None).expect("repaired");
        assert_eq!(text(&value, "name").as_deref(), Some("a\r\nbc"));
        assert_eq!(integer(&value, "x"), Some(1));
    }

    #[test]
    fn escaped_quotes_do_not_confuse_the_repair() {
        let broken = "{\"name\": \"say \\\"hi\\\"\u{1}\"}";
        let value = parse(broken.as_bytes(), None).expect("repaired");
        assert_eq!(text(&value, "name").as_deref(), Some("say \"hi\""));
    }

    #[test]
    fn placeholders_are_absent() {
        let value = json!({"a": "N/A", "b": "", "c": " ", "d": null, "e": " Rat ", "f": 7});
        for key in ["a", "b", "c", "d", "missing"] {
            assert_eq!(text(&value, key), None, "{key}");
        }
        assert_eq!(text(&value, "e").as_deref(), Some("Rat"));
        assert_eq!(text(&value, "f").as_deref(), Some("7"));
    }

    #[test]
    fn an_object_where_an_array_is_due_is_an_array_of_one() {
        let value = json!({"one": {"id": "u1"}, "many": ["u1", "u2"], "none": null, "na": "N/A"});
        assert_eq!(references(&value, "one"), vec!["u1"]);
        assert_eq!(references(&value, "many"), vec!["u1", "u2"]);
        assert!(many(&value, "none").is_empty());
        assert!(many(&value, "na").is_empty());
    }

    #[test]
    fn broken_offsets_and_mixed_dates() {
        let expected = Utc.with_ymd_and_hms(2019, 12, 16, 10, 21, 11).single();
        assert_eq!(parse_date_time("2019-12-16T11:21:11+01::00"), expected);
        assert_eq!(parse_date_time("2019-12-16T11:21:11+01:00"), expected);
        assert_eq!(parse_date_time("2019-12-16T11:21:11+0100"), expected);
        assert_eq!(parse_date_time("2019-12-16T11:21:11"), expected);
        assert_eq!(parse_date_time("2019-07-01"), Utc.with_ymd_and_hms(2019, 6, 30, 22, 0, 0).single());
        assert_eq!(parse_date("1971-05-04T00:00:00+01::00"), NaiveDate::from_ymd_opt(1971, 5, 4));
        assert_eq!(parse_date("2013-12-03"), NaiveDate::from_ymd_opt(2013, 12, 3));
        let problem = date(&json!({"d": "morgen"}), "d").expect_err("invalid");
        assert_eq!(problem.field, "d");
    }

    #[test]
    fn type_names_of_both_versions() {
        assert_eq!(type_name(&json!({"type": "https://schema.oparl.org/1.0/Paper"})).as_deref(), Some("Paper"));
        assert_eq!(type_name(&json!({"type": "https://schema.oparl.org/1.1/Paper"})).as_deref(), Some("Paper"));
        assert_eq!(type_name(&json!({"type": "http://schema.oparl.org/1.1/Body/"})).as_deref(), Some("Body"));
        assert_eq!(type_name(&json!({"id": "x"})), None);
    }

    #[test]
    fn booleans_as_servers_write_them() {
        let value = json!({"a": true, "b": "false", "c": 1, "d": "N/A"});
        assert_eq!(boolean(&value, "a"), Some(true));
        assert_eq!(boolean(&value, "b"), Some(false));
        assert_eq!(boolean(&value, "c"), Some(true));
        assert_eq!(boolean(&value, "d"), None);
    }
}

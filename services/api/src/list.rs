//! Query parameters, pages and cursors of the list endpoints.
//!
//! Parameters are read as text and checked here, one by one, so that a bad value gets a 400 naming the parameter
//! (serde's own messages do not). Unknown and repeated parameters are refused: a typo must not silently return the
//! unfiltered list.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use ikz_store::queries::{search_terms, FieldKind, Page, SortField, SortValue};
use serde::{Deserialize, Serialize};

use crate::Problem;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 1000;
/// Longest full-text query, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest accepted parameter value (a cursor is the longest legitimate one).
const MAX_VALUE_LEN: usize = 1024;

/// Parameters every list takes.
pub const COMMON: &[&str] = &["limit", "cursor", "sort", "modified_since"];

/// A list's parameters, checked against the names it knows.
#[derive(Debug, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a query string; refuses unknown and repeated names and values with control characters.
    pub fn parse(query: &str, known: &[&str]) -> Result<Params, Problem> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|error| Problem::bad_request(format!("the query string cannot be read: {error}")))?;
        for (index, (name, value)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                let shown: String = name.chars().take(40).filter(|c| !c.is_control()).collect();
                return Err(Problem::bad_parameter(
                    &shown,
                    format!("unknown parameter; this list takes {}", known.join(", ")),
                ));
            }
            if pairs[..index].iter().any(|(other, _)| other == name) {
                return Err(Problem::bad_parameter(name, "given more than once"));
            }
            check_text(name, value)?;
        }
        Ok(Params { pairs })
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// A non-empty text value.
    pub fn text(&self, name: &str) -> Result<Option<String>, Problem> {
        match self.raw(name) {
            None => Ok(None),
            Some("") => Err(Problem::bad_parameter(name, "must not be empty")),
            Some(value) => Ok(Some(value.to_owned())),
        }
    }

    /// One of a fixed set of values.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, Problem> {
        match self.text(name)? {
            Some(value) if !allowed.contains(&value.as_str()) => {
                Err(Problem::bad_parameter(name, format!("`{}` is not one of {}", shorten(&value), allowed.join(", "))))
            }
            other => Ok(other),
        }
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, Problem> {
        self.text(name)?
            .map(|value| {
                NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| {
                    Problem::bad_parameter(name, format!("`{}` is not a date (YYYY-MM-DD)", shorten(&value)))
                })
            })
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Problem> {
        match self.text(name)?.as_deref() {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(other) => Err(Problem::bad_parameter(name, format!("`{}` is not true or false", shorten(other)))),
        }
    }

    /// An instant: RFC 3339 (`2026-11-30T10:00:00Z`, an unencoded `+01:00` arrives as a space and is accepted) or a
    /// date (midnight UTC).
    pub fn instant(&self, name: &str) -> Result<Option<NaiveDateTime>, Problem> {
        let Some(value) = self.text(name)? else { return Ok(None) };
        let repaired = value.replace(' ', "+");
        if let Ok(at) = DateTime::parse_from_rfc3339(&repaired) {
            return Ok(Some(at.naive_utc()));
        }
        if let Ok(day) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") {
            return Ok(day.and_hms_opt(0, 0, 0));
        }
        Err(Problem::bad_parameter(
            name,
            format!("`{}` is not an RFC 3339 date-time (2026-11-30T10:00:00Z) or a date", shorten(&value)),
        ))
    }

    /// Full-text terms of `q` (normalised: case and umlaut spelling do not matter); none without `q`, and none
    /// for a `q` without a letter or digit (see [`Params::finds_nothing`]).
    pub fn search(&self, name: &str) -> Result<Vec<String>, Problem> {
        let Some(value) = self.text(name)? else { return Ok(Vec::new()) };
        if value.chars().count() > MAX_SEARCH_CHARS {
            return Err(Problem::bad_parameter(name, format!("longer than {MAX_SEARCH_CHARS} characters")));
        }
        Ok(search_terms(&value))
    }

    /// A search for no word (`q=%3F`, punctuation only) finds nothing: what a search box shows for it, where a
    /// 400 would punish a user's typing and "no filter" would list everything.
    pub fn finds_nothing(&self, name: &str) -> Result<bool, Problem> {
        Ok(self.text(name)?.is_some() && self.search(name)?.is_empty())
    }

    /// Every pair except `name`, for building links.
    pub fn without(&self, name: &str) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(key, _)| key != name).cloned().collect()
    }
}

/// Text the databases can store and compare: no control characters (PostgreSQL refuses NUL), no replacement
/// characters from undecodable bytes, a bounded length.
pub fn check_text(name: &str, value: &str) -> Result<(), Problem> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Problem::bad_parameter(name, format!("longer than {MAX_VALUE_LEN} bytes")));
    }
    if value.chars().any(|c| c.is_control() || c == '\u{FFFD}') {
        return Err(Problem::bad_parameter(name, "contains control characters or bytes that are not UTF-8"));
    }
    Ok(())
}

/// A path id: checked like a parameter value.
pub fn check_id(id: &str) -> Result<(), Problem> {
    check_text("id", id)?;
    if id.is_empty() {
        return Err(Problem::bad_parameter("id", "must not be empty"));
    }
    Ok(())
}

fn shorten(value: &str) -> String {
    value.chars().take(60).collect()
}

/// The page a request asks for, and what the next link needs.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub page: Page,
    pub limit: i64,
    pub sort: SortField,
}

/// `limit`, `sort`, `cursor` and `modified_since` of `params`, checked against the list's sort fields.
pub fn page(params: &Params, sorts: &[SortField], default_limit: i64) -> Result<PageRequest, Problem> {
    let limit = match params.text("limit")? {
        None => default_limit,
        Some(text) => match text.parse::<i64>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => return Err(Problem::bad_parameter("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    };
    let modified_since = params.instant("modified_since")?;
    let (name, descending) = match params.text("sort")? {
        Some(text) => match text.strip_prefix('-') {
            Some(name) => (name.to_owned(), true),
            None => (text, false),
        },
        None if modified_since.is_some() && sorts.iter().any(|s| s.name == "modified_at") => {
            ("modified_at".into(), false)
        }
        None => ("id".into(), false),
    };
    let sort = *sorts.iter().find(|sort| sort.name == name).ok_or_else(|| {
        let names: Vec<&str> = sorts.iter().map(|sort| sort.name).collect();
        Problem::bad_parameter(
            "sort",
            format!("cannot sort by `{}`; sortable: {} (prefix `-` for descending)", shorten(&name), names.join(", ")),
        )
    })?;
    let after = params.text("cursor")?.map(|cursor| decode_cursor(&cursor, sort, descending)).transpose()?;
    Ok(PageRequest { page: Page { sort: sort.name, descending, after, limit: limit + 1, modified_since }, limit, sort })
}

/// What a cursor carries: sort field and direction (checked on use), the last sort value and id.
#[derive(Debug, Serialize, Deserialize)]
struct CursorData {
    s: String,
    d: bool,
    v: serde_json::Value,
    i: String,
}

/// Opaque to clients: hex of a small JSON document.
pub fn encode_cursor(sort: SortField, descending: bool, value: serde_json::Value, id: &str) -> String {
    let data = CursorData { s: sort.name.to_owned(), d: descending, v: value, i: id.to_owned() };
    let bytes = serde_json::to_vec(&data).unwrap_or_default();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_cursor(cursor: &str, sort: SortField, descending: bool) -> Result<(SortValue, String), Problem> {
    let invalid = || Problem::bad_parameter("cursor", "is not a cursor of this list (take it from `links.next`)");
    if cursor.len() & 1 == 1 || !cursor.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let bytes: Vec<u8> = (0..cursor.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&cursor[at..at + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if data.s != sort.name || data.d != descending {
        return Err(Problem::bad_parameter(
            "cursor",
            "belongs to another `sort`; keep the parameters of the first page",
        ));
    }
    check_text("cursor", &data.i)?;
    let value = sort_value(&data.v, sort.kind).ok_or_else(invalid)?;
    Ok((value, data.i))
}

/// The typed sort value of a row's JSON value (timestamps as the API writes them, RFC 3339).
pub(crate) fn sort_value(value: &serde_json::Value, kind: FieldKind) -> Option<SortValue> {
    use serde_json::Value;
    match (value, kind) {
        (Value::Null, kind) if kind.nullable() => Some(SortValue::Null),
        (Value::String(text), FieldKind::Text | FieldKind::NullText) => {
            check_text("cursor", text).ok()?;
            Some(SortValue::Text(text.clone()))
        }
        (Value::Number(number), FieldKind::Int | FieldKind::NullInt | FieldKind::BigInt | FieldKind::NullBigInt) => {
            number.as_i64().map(SortValue::Int)
        }
        (Value::String(text), FieldKind::Date | FieldKind::NullDate) => {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(SortValue::Date)
        }
        (Value::String(text), FieldKind::Timestamp | FieldKind::NullTimestamp) => {
            DateTime::parse_from_rfc3339(text).ok().map(|at| SortValue::Timestamp(at.naive_utc()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SORTS: &[SortField] = &[
        SortField { name: "id", kind: FieldKind::Text },
        SortField { name: "date", kind: FieldKind::NullDate },
        SortField { name: "modified_at", kind: FieldKind::Timestamp },
    ];

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let sort = SORTS[1];
        let cursor = encode_cursor(sort, true, serde_json::json!("2024-05-01"), "abc");
        let (value, id) = decode_cursor(&cursor, sort, true).expect("valid");
        assert_eq!(value, SortValue::Date(NaiveDate::from_ymd_opt(2024, 5, 1).expect("date")));
        assert_eq!(id, "abc");
        assert!(decode_cursor(&cursor, sort, false).is_err());
        assert!(decode_cursor(&cursor, SORTS[0], true).is_err());
        assert!(decode_cursor("zz", sort, true).is_err());
        assert!(decode_cursor(&encode_cursor(sort, false, serde_json::json!(5), "x"), sort, false).is_err());
        let null = encode_cursor(sort, false, serde_json::Value::Null, "x");
        assert_eq!(decode_cursor(&null, sort, false).expect("null").0, SortValue::Null);
    }

    #[test]
    fn parameters_are_named_in_errors() {
        let known = [COMMON, &["partner"]].concat();
        for (query, parameter) in [
            ("limit=0", "limit"),
            ("limit=abc", "limit"),
            ("sort=secret", "sort"),
            ("partner=a&partner=b", "partner"),
            ("modified_since=yesterday", "modified_since"),
            ("bogus=1", "bogus"),
            ("partner=%00", "partner"),
            ("partner=", "partner"),
        ] {
            let result = Params::parse(query, &known).and_then(|params| {
                params.text("partner")?;
                page(&params, SORTS, DEFAULT_LIMIT).map(|_| ())
            });
            let problem = result.expect_err(query);
            assert_eq!(problem.parameter.as_deref(), Some(parameter), "{query}: {problem}");
            assert_eq!(problem.status, 400);
        }
        let params = Params::parse("modified_since=2026-11-30T10:00:00+01:00", &known).expect("parse");
        let at = params.instant("modified_since").expect("instant").expect("some");
        assert_eq!(at.to_string(), "2026-11-30 09:00:00");
    }
}

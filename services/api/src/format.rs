//! Rendering: rows as ordered JSON objects (field order of the row, plus `deleted` and `…_eur`), lists as JSON, CSV
//! or XLSX, and conditional GET (ETag / If-None-Match → 304, short Cache-Control).

use std::fmt;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::response_cache::Rendered;
use crate::Problem;

/// Responses may be reused for a short while; clients revalidate with the ETag after that.
const CACHE_CONTROL: &str = "private, max-age=30";
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A JSON object that keeps its field order (the row's declaration order), for JSON, CSV and XLSX alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item(pub Vec<(String, Value)>);

impl Item {
    /// A row as served: its fields in order; `deleted` after `deleted_at`; money columns `x_cents` followed by
    /// `x_eur`, the same amount as a decimal EUR string ("245341.00").
    pub fn from_row<T: Serialize>(row: &T) -> Result<Item, Problem> {
        let text = serde_json::to_string(row).map_err(Problem::internal)?;
        let Item(fields) = serde_json::from_str(&text).map_err(Problem::internal)?;
        Ok(Item::decorate(fields))
    }

    fn decorate(fields: Vec<(String, Value)>) -> Item {
        let mut out = Vec::with_capacity(fields.len() + 4);
        for (key, value) in fields {
            let extra = if key == "deleted_at" {
                Some(("deleted".to_owned(), Value::Bool(!value.is_null())))
            } else {
                key.strip_suffix("_cents").map(|stem| {
                    (
                        format!("{stem}_eur"),
                        value.as_i64().map(|cents| Value::String(eur(cents))).unwrap_or(Value::Null),
                    )
                })
            };
            out.push((key, value));
            out.extend(extra);
        }
        Item(out)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(name, _)| name == key).map(|(_, value)| value)
    }

    pub fn insert(&mut self, key: &str, value: Value) {
        self.0.push((key.to_owned(), value));
    }
}

/// Integer cents as a decimal EUR string: 24534100 → "245341.00".
pub fn eur(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    fields.push((key, value));
                }
                Ok(Item(fields))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

/// How a list is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    /// `.csv` / `.xlsx` at the end of the path win; otherwise the Accept header; JSON by default.
    pub fn of(request: &HttpRequest) -> Format {
        let path = request.path();
        if path.ends_with(".csv") {
            return Format::Csv;
        }
        if path.ends_with(".xlsx") {
            return Format::Xlsx;
        }
        let accept = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
        let accept = accept.to_ascii_lowercase();
        if accept.contains("application/json") || accept.is_empty() {
            Format::Json
        } else if accept.contains("text/csv") {
            Format::Csv
        } else if accept.contains(XLSX_TYPE) {
            Format::Xlsx
        } else {
            Format::Json
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A strong ETag over the served content (the JSON form of it plus the format): XXH3-128 of the bytes, 32 hex
/// digits.
///
/// The tag only has to change when the content changes; nothing relies on it being hard to forge (a client that
/// sends a made-up If-None-Match only fools itself). A 128-bit non-cryptographic hash makes an accidental
/// collision between two versions of a list as unlikely as SHA-256's first 128 bits did, at a small fraction of
/// the cost: SHA-256 over a 78 KB page of 100 schools was about a tenth of the API's CPU per request.
fn etag(format: Format, json: &[u8]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(format.tag().as_bytes());
    hasher.update(json);
    format!("\"{:032x}\"", hasher.digest128())
}

/// Does If-None-Match name `tag` (or `*`)? Weak comparison, as RFC 9110 asks for If-None-Match.
fn not_modified(request: &HttpRequest, tag: &str) -> bool {
    let Some(header) = request.headers().get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let tag = tag.trim_start_matches("W/");
    header.split(',').map(str::trim).any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

/// The answer to `request` with `rendered`: a 304 when the client has this version (If-None-Match names its ETag),
/// else a 200 with the body; both with ETag and Cache-Control.
pub fn respond(request: &HttpRequest, rendered: &Rendered) -> HttpResponse {
    let mut response = if not_modified(request, &rendered.etag) {
        HttpResponse::NotModified().finish()
    } else {
        let mut response = HttpResponse::Ok().content_type(rendered.content_type).body(rendered.body.clone());
        for (name, value) in &rendered.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = header::HeaderValue::from_str(&rendered.etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static(CACHE_CONTROL));
    headers.insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

fn rendered_json(body: Vec<u8>) -> Rendered {
    let etag = etag(Format::Json, &body);
    Rendered { body: body.into(), etag, content_type: JSON_TYPE, headers: Vec::new() }
}

const JSON_TYPE: &str = "application/json";

/// One record (or any JSON document) as `{"data": …}`.
pub fn render_document(data: impl Serialize) -> Result<Rendered, Problem> {
    let body = serde_json::to_vec(&serde_json::json!({ "data": data })).map_err(Problem::internal)?;
    Ok(rendered_json(body))
}

/// Any JSON body (a list envelope the handler built, a run with its rejects), with ETag.
pub fn json(request: &HttpRequest, body: &impl Serialize) -> Result<HttpResponse, Problem> {
    let body = serde_json::to_vec(body).map_err(Problem::internal)?;
    Ok(respond(request, &rendered_json(body)))
}

#[derive(Serialize)]
struct Envelope<'a> {
    data: &'a [Item],
    links: Links<'a>,
    meta: &'a Value,
}

#[derive(Serialize)]
struct Links<'a> {
    next: Option<&'a str>,
}

/// A list page in the requested format. CSV and XLSX carry the next page in a `Link: <…>; rel="next"` header.
pub fn render_list(
    format: Format,
    name: &str,
    items: &[Item],
    next: Option<String>,
    meta: Value,
) -> Result<Rendered, Problem> {
    let json = serde_json::to_vec(&Envelope { data: items, links: Links { next: next.as_deref() }, meta: &meta })
        .map_err(Problem::internal)?;
    if format == Format::Json {
        return Ok(rendered_json(json));
    }
    // An XLSX file holds its creation time, so the same rows give other bytes each second: its tag is weak.
    let etag = match format {
        Format::Xlsx => format!("W/{}", etag(format, &json)),
        Format::Json | Format::Csv => etag(format, &json),
    };
    let (body, content_type) = match format {
        Format::Xlsx => (xlsx(name, items)?, XLSX_TYPE),
        Format::Json | Format::Csv => (csv(items)?, CSV_TYPE),
    };
    let mut headers = Vec::new();
    let extension = format.tag();
    if let Ok(value) = header::HeaderValue::from_str(&format!("attachment; filename=\"{name}.{extension}\"")) {
        headers.push((header::CONTENT_DISPOSITION, value));
    }
    if let Some(next) = &next {
        if let Ok(value) = header::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            headers.push((header::LINK, value));
        }
    }
    Ok(Rendered { body: body.into(), etag, content_type, headers })
}

/// A JSON list page: rows serialised straight into the envelope (see [`crate::served`]).
pub fn render_json_list<R: Serialize>(rows: &[R], next: Option<String>, meta: Value) -> Result<Rendered, Problem> {
    #[derive(Serialize)]
    struct RowEnvelope<'a, R: Serialize> {
        data: crate::served::ServedRows<'a, R>,
        links: Links<'a>,
        meta: &'a Value,
    }
    let envelope =
        RowEnvelope { data: crate::served::ServedRows(rows), links: Links { next: next.as_deref() }, meta: &meta };
    let json = serde_json::to_vec(&envelope).map_err(Problem::internal)?;
    Ok(rendered_json(json))
}

/// CSV lines of `items` for a streamed export; the first chunk (no `columns` yet) starts with the BOM and the
/// header row, and fixes the columns for the rest.
pub(crate) fn csv_chunk(items: &[Item], columns: &mut Option<Vec<String>>) -> Result<Vec<u8>, Problem> {
    let mut buffer = Vec::new();
    if columns.is_none() {
        buffer.extend_from_slice(b"\xEF\xBB\xBF");
    }
    {
        let mut writer = ::csv::WriterBuilder::new().delimiter(b';').from_writer(&mut buffer);
        if columns.is_none() {
            let names = self::columns(items);
            writer.write_record(&names).map_err(Problem::internal)?;
            *columns = Some(names);
        }
        let names = columns.as_deref().unwrap_or_default();
        for item in items {
            let row: Vec<String> = names
                .iter()
                .map(|column| item.get(column).map(|value| cell_text(column, value)).unwrap_or_default())
                .collect();
            writer.write_record(&row).map_err(Problem::internal)?;
        }
        writer.flush().map_err(Problem::internal)?;
    }
    Ok(buffer)
}

pub(crate) const CSV_TYPE: &str = "text/csv; charset=utf-8";

/// The column names of a list: the first row's fields (every row of a list has the same ones).
pub(crate) fn columns(items: &[Item]) -> Vec<String> {
    items.first().map(|item| item.0.iter().map(|(key, _)| key.clone()).collect()).unwrap_or_default()
}

/// A cell as text: arrays joined with ", ", objects as JSON, null empty; EUR amounts with a decimal comma for
/// German Excel.
pub(crate) fn cell_text(key: &str, value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) if key.ends_with("_eur") => text.replace('.', ","),
        Value::String(text) => text.clone(),
        Value::Array(values) => values
            .iter()
            .map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `;`-separated, UTF-8 with BOM (German Excel opens it as UTF-8), header row first.
fn csv(items: &[Item]) -> Result<Vec<u8>, Problem> {
    let mut buffer = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = ::csv::WriterBuilder::new().delimiter(b';').from_writer(&mut buffer);
        let columns = columns(items);
        writer.write_record(&columns).map_err(Problem::internal)?;
        for item in items {
            let row: Vec<String> = columns
                .iter()
                .map(|column| item.get(column).map(|value| cell_text(column, value)).unwrap_or_default())
                .collect();
            writer.write_record(&row).map_err(Problem::internal)?;
        }
        writer.flush().map_err(Problem::internal)?;
    }
    Ok(buffer)
}

/// One worksheet: a bold header row, numbers as numbers, EUR amounts as numbers with two decimals.
fn xlsx(name: &str, items: &[Item]) -> Result<Vec<u8>, Problem> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let money = CellFormat::new().set_num_format("#,##0.00");
    let sheet = workbook.add_worksheet();
    let sheet_name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(31).collect();
    sheet.set_name(if sheet_name.is_empty() { "data" } else { &sheet_name }).map_err(Problem::internal)?;
    let columns = columns(items);
    for (col, column) in columns.iter().enumerate() {
        let col = u16::try_from(col).map_err(Problem::internal)?;
        sheet.write_string_with_format(0, col, column, &bold).map_err(Problem::internal)?;
    }
    for (index, item) in items.iter().enumerate() {
        let row = u32::try_from(index + 1).map_err(Problem::internal)?;
        for (col, column) in columns.iter().enumerate() {
            let col = u16::try_from(col).map_err(Problem::internal)?;
            match item.get(column) {
                None | Some(Value::Null) => {}
                Some(Value::Number(number)) => {
                    sheet.write_number(row, col, number.as_f64().unwrap_or(0.0)).map_err(Problem::internal)?;
                }
                Some(Value::String(text)) if column.ends_with("_eur") => match text.parse::<f64>() {
                    Ok(amount) => {
                        sheet.write_number_with_format(row, col, amount, &money).map_err(Problem::internal)?;
                    }
                    Err(_) => {
                        sheet.write_string(row, col, text).map_err(Problem::internal)?;
                    }
                },
                Some(Value::Bool(flag)) => {
                    sheet.write_boolean(row, col, *flag).map_err(Problem::internal)?;
                }
                Some(value) => {
                    // Excel cells hold at most 32,767 characters.
                    let text: String = cell_text(column, value).chars().take(32_767).collect();
                    sheet.write_string(row, col, &text).map_err(Problem::internal)?;
                }
            }
        }
    }
    workbook.save_to_buffer().map_err(Problem::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_have_two_decimals() {
        assert_eq!(eur(24534100), "245341.00");
        assert_eq!(eur(5), "0.05");
        assert_eq!(eur(-150), "-1.50");
    }

    #[test]
    fn rows_keep_their_order_and_gain_deleted_and_eur() {
        #[derive(Serialize)]
        struct Row {
            id: &'static str,
            deleted_at: Option<&'static str>,
            amount_cents: i64,
        }
        let item = Item::from_row(&Row { id: "x", deleted_at: None, amount_cents: 1234 }).expect("item");
        let keys: Vec<&str> = item.0.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["id", "deleted_at", "deleted", "amount_cents", "amount_eur"]);
        assert_eq!(item.get("amount_eur"), Some(&Value::String("12.34".into())));
        let bytes = csv(&[item]).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text, "\u{feff}id;deleted_at;deleted;amount_cents;amount_eur\nx;;false;1234;12,34\n");
    }
}

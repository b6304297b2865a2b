//! One cell → one typed field value.
//!
//! Cells arrive as the reader saw them ([`Cell`]): text, a number (XLSX stores 66497 as `66497.0`), a date from a
//! date-formatted cell, … Each field says what it wants ([`FieldKind`]) and gets it or a message why not.

use chrono::NaiveDate;
use thiserror::Error;

use super::reader::Cell;
use crate::de;

/// What a field wants from its cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text; whitespace runs (newlines inside names, no-break spaces) become one space.
    Text,
    /// An identifier made of digits (Schulnummer): a number cell becomes its digits, never "66497.0".
    Digits,
    /// A German postcode: 5 digits; a 4-digit value lost its leading zero in a spreadsheet and gets it back.
    Postcode,
    Integer,
    Decimal,
    Date,
}

/// A coerced value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
}

impl Value {
    /// The value as text, for text-like use and messages.
    pub fn to_text(&self) -> String {
        match self {
            Value::Text(text) => text.clone(),
            Value::Integer(number) => number.to_string(),
            Value::Decimal(number) => number.to_string(),
            Value::Date(date) => date.format("%Y-%m-%d").to_string(),
        }
    }

    /// Appends the value as text, without an intermediate string for text values.
    pub fn push_text(&self, out: &mut String) {
        match self {
            Value::Text(text) => out.push_str(text),
            other => out.push_str(&other.to_text()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct CoerceError(pub String);

/// Cleans a text cell: unwraps `="…"` (how CSV exports protect leading zeros), collapses whitespace, drops control
/// characters, trims.
pub fn clean_text(text: &str) -> String {
    clean_text_borrowed(text).into_owned()
}

/// [`clean_text`], borrowing the text when it needs no cleaning (most cells).
pub fn clean_text_borrowed(text: &str) -> std::borrow::Cow<'_, str> {
    if is_clean(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let text = text.trim();
    let text = match text.strip_prefix("=\"").and_then(|rest| rest.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => text.to_owned(),
    };
    let mut cleaned = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace()).filter(|word| !word.is_empty()) {
        if !cleaned.is_empty() {
            cleaned.push(' ');
        }
        cleaned.extend(word.chars().filter(|c| !c.is_control()));
    }
    std::borrow::Cow::Owned(cleaned)
}

/// Whether [`cell_text`] finds text in `cell`, without building it.
pub fn has_text(cell: &Cell) -> bool {
    match cell {
        Cell::Empty => false,
        Cell::Text(text) => !clean_text_borrowed(text).is_empty(),
        other => cell_text(other).is_some(),
    }
}

/// Most cells need no cleaning: printable ASCII and single inner spaces, or multi-byte letters that cannot be
/// whitespace (umlauts are 0xC3 sequences; no-break and other Unicode spaces start with 0xC2, 0xE1, 0xE2 or 0xE3).
fn is_clean(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') || bytes.starts_with(b"=\"") {
        return false;
    }
    let mut previous_space = false;
    for byte in bytes {
        match byte {
            b' ' if previous_space => return false,
            b' ' => previous_space = true,
            0x21..=0x7E | 0x80..=0xC1 | 0xC3..=0xE0 | 0xE4..=0xFF => previous_space = false,
            _ => return false,
        }
    }
    true
}

/// A number as people write it: whole numbers without ".0".
pub fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// The cell as text, the way a person reads it in the spreadsheet; `None` for an empty cell.
pub fn cell_text(cell: &Cell) -> Option<String> {
    let text = match cell {
        Cell::Empty => return None,
        Cell::Text(text) => clean_text(text),
        Cell::Number(number) => number_text(*number),
        Cell::Integer(number) => number.to_string(),
        Cell::Bool(true) => "ja".to_owned(),
        Cell::Bool(false) => "nein".to_owned(),
        Cell::Date(date) => date.format("%d.%m.%Y").to_string(),
        Cell::Error(error) => error.clone(),
    };
    (!text.is_empty()).then_some(text)
}

/// Coerces `cell` for a field of `kind`; `Ok(None)` for an empty cell.
pub fn coerce(cell: &Cell, kind: FieldKind) -> Result<Option<Value>, CoerceError> {
    if let Cell::Error(error) = cell {
        return Err(CoerceError(format!("the cell shows the error {error}")));
    }
    match kind {
        FieldKind::Text => Ok(match cell {
            Cell::Date(date) => Some(Value::Text(date.format("%Y-%m-%d").to_string())),
            other => cell_text(other).map(Value::Text),
        }),
        FieldKind::Digits => digits(cell).map(|found| found.map(Value::Text)),
        FieldKind::Postcode => match digits(cell)? {
            None => Ok(None),
            Some(code) if code.len() == 5 => Ok(Some(Value::Text(code))),
            Some(code) if code.len() == 4 => Ok(Some(Value::Text(format!("0{code}")))),
            Some(code) => Err(CoerceError(format!("`{code}` is not a postcode (5 digits)"))),
        },
        FieldKind::Integer => match cell {
            Cell::Number(number) if number.fract() == 0.0 && number.abs() < 9e15 => {
                Ok(Some(Value::Integer(*number as i64)))
            }
            Cell::Number(number) => Err(CoerceError(format!("`{number}` is not a whole number"))),
            Cell::Integer(number) => Ok(Some(Value::Integer(*number))),
            Cell::Date(_) | Cell::Bool(_) => Err(not_a("whole number", cell)),
            other => match cell_text(other) {
                None => Ok(None),
                Some(text) => de::parse_integer(&text)
                    .map(|number| Some(Value::Integer(number)))
                    .map_err(|error| CoerceError(error.to_string())),
            },
        },
        FieldKind::Decimal => match cell {
            Cell::Number(number) => Ok(Some(Value::Decimal(*number))),
            Cell::Integer(number) => Ok(Some(Value::Decimal(*number as f64))),
            Cell::Date(_) | Cell::Bool(_) => Err(not_a("number", cell)),
            other => match cell_text(other) {
                None => Ok(None),
                Some(text) => de::parse_decimal(&text)
                    .map(|number| Some(Value::Decimal(number)))
                    .map_err(|error| CoerceError(error.to_string())),
            },
        },
        FieldKind::Date => match cell {
            Cell::Date(date) => Ok(Some(Value::Date(*date))),
            // A serial number is a date only when the cell is formatted as one (calamine then gives `Cell::Date`);
            // otherwise 43796 is just a number, and guessing would turn counts into dates.
            Cell::Number(_) | Cell::Integer(_) => Err(CoerceError(format!(
                "`{}` is a number, not a date (write 27.11.2019 or format the cell as a date)",
                cell_text(cell).unwrap_or_default()
            ))),
            Cell::Bool(_) => Err(not_a("date", cell)),
            // Borrowed: a date column is read once per record.
            Cell::Text(text) => match clean_text_borrowed(text) {
                text if text.is_empty() => Ok(None),
                text => de::parse_date(&text)
                    .map(|date| Some(Value::Date(date)))
                    .map_err(|error| CoerceError(error.to_string())),
            },
            other => match cell_text(other) {
                None => Ok(None),
                Some(text) => de::parse_date(&text)
                    .map(|date| Some(Value::Date(date)))
                    .map_err(|error| CoerceError(error.to_string())),
            },
        },
    }
}

fn not_a(what: &str, cell: &Cell) -> CoerceError {
    CoerceError(format!("`{}` is not a {what}", cell_text(cell).unwrap_or_default()))
}

/// An identifier of digits: number cells lose their ".0", text cells keep their leading zeros.
fn digits(cell: &Cell) -> Result<Option<String>, CoerceError> {
    let text = match cell {
        Cell::Number(number) if number.fract() != 0.0 || *number < 0.0 => {
            return Err(CoerceError(format!("`{number}` is not an identifier of digits")))
        }
        Cell::Date(_) | Cell::Bool(_) => return Err(not_a("identifier of digits", cell)),
        other => match cell_text(other) {
            None => return Ok(None),
            Some(text) => text,
        },
    };
    // A CSV written from a float column: "66497.0" / "66497,0".
    let trimmed = text.strip_suffix(".0").or_else(|| text.strip_suffix(",0")).unwrap_or(&text);
    if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(Some(trimmed.to_owned()))
    } else {
        Err(CoerceError(format!("`{text}` is not an identifier of digits")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_owned())
    }

    #[test]
    fn numbers_stored_as_floats_become_digits() {
        assert_eq!(coerce(&Cell::Number(66497.0), FieldKind::Digits), Ok(Some(Value::Text("66497".into()))));
        assert_eq!(coerce(&text(" 66497.0 "), FieldKind::Digits), Ok(Some(Value::Text("66497".into()))));
        assert_eq!(coerce(&text("=\"03151009\""), FieldKind::Digits), Ok(Some(Value::Text("03151009".into()))));
        assert!(coerce(&text("12a45"), FieldKind::Digits).is_err());
        assert!(coerce(&Cell::Number(664.5), FieldKind::Digits).is_err());
        assert_eq!(coerce(&Cell::Number(1067.0), FieldKind::Postcode), Ok(Some(Value::Text("01067".into()))));
        assert_eq!(coerce(&text("29386"), FieldKind::Postcode), Ok(Some(Value::Text("29386".into()))));
        assert!(coerce(&text("293"), FieldKind::Postcode).is_err());
    }

    #[test]
    fn text_is_cleaned() {
        assert_eq!(
            coerce(&text(" Karl-Soehle-Schule\nGrundschule "), FieldKind::Text),
            Ok(Some(Value::Text("Karl-Soehle-Schule Grundschule".into())))
        );
        assert_eq!(
            coerce(&text("38524\u{a0}Sassenburg"), FieldKind::Text),
            Ok(Some(Value::Text("38524 Sassenburg".into())))
        );
        assert_eq!(coerce(&text("   "), FieldKind::Text), Ok(None));
        assert_eq!(clean_text("Gymnasium Hankensbüttel"), "Gymnasium Hankensbüttel");
        assert_eq!(clean_text("Schul-\tNr. "), "Schul- Nr.");
        assert_eq!(clean_text("a  –\u{2009}b"), "a – b");
        assert_eq!(coerce(&Cell::Number(12.0), FieldKind::Text), Ok(Some(Value::Text("12".into()))));
    }

    #[test]
    fn german_numbers_and_dates() {
        assert_eq!(coerce(&text("1.234"), FieldKind::Integer), Ok(Some(Value::Integer(1234))));
        assert_eq!(coerce(&Cell::Number(87.0), FieldKind::Integer), Ok(Some(Value::Integer(87))));
        assert_eq!(coerce(&text("1.234,56"), FieldKind::Decimal), Ok(Some(Value::Decimal(1234.56))));
        assert_eq!(coerce(&text("52,729646"), FieldKind::Decimal), Ok(Some(Value::Decimal(52.729646))));
        let date = NaiveDate::from_ymd_opt(2019, 11, 27);
        assert_eq!(coerce(&text("27.11.2019"), FieldKind::Date), Ok(date.map(Value::Date)));
        assert_eq!(coerce(&text("2019-11-27"), FieldKind::Date), Ok(date.map(Value::Date)));
        assert!(coerce(&text("31.02.2020"), FieldKind::Date).is_err());
        // An unformatted serial is not taken for a date.
        assert!(coerce(&Cell::Number(43796.0), FieldKind::Date).is_err());
        assert!(coerce(&Cell::Error("#DIV/0!".into()), FieldKind::Integer).is_err());
    }
}

//! German value parsing, shared by every connector: amounts ("245.341 €", "ca. 10.000 €", "1.234,56"), dates
//! ("27.11.2019", "08. August 2019", "2019-11-27") and whole numbers written with thousands dots.

use chrono::NaiveDate;
use thiserror::Error;

use crate::model::Cents;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("`{0}` is not an amount of money")]
    Amount(String),
    #[error("`{0}` is not a date (expected e.g. 27.11.2019, 8. August 2019 or 2019-11-27)")]
    Date(String),
    #[error("`{0}` is not a number")]
    Number(String),
}

const MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
];

/// Parses a German amount of euros into cents.
///
/// Accepts a thousands dot and a decimal comma ("1.234,56"), a currency sign or word ("€", "EUR", "Euro"), a
/// leading "ca." and a trailing ",-" or ",--". A lone dot followed by exactly three digits is a thousands
/// separator ("245.341 €" = 245 341 €); otherwise a lone dot is a decimal point ("12.5").
pub fn parse_amount(text: &str) -> Result<Cents, ValueError> {
    let error = || ValueError::Amount(text.trim().to_owned());
    let trimmed = text.trim();
    // Most amounts are digits and separators only: nothing to lower-case or strip, so nothing to allocate.
    let body: std::borrow::Cow<'_, str> =
        if trimmed.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-')) {
            std::borrow::Cow::Borrowed(trimmed)
        } else {
            let mut body = trimmed.to_lowercase();
            for noise in ["ca.", "circa", "rund", "euro", "eur", "€"] {
                body = body.replace(noise, "");
            }
            std::borrow::Cow::Owned(body.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect())
        };
    let body = body.trim_end_matches(['-', '–']).trim_end_matches(',');
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') {
        return Err(error());
    }
    let (whole, fraction) = match (body.rfind(','), body.matches('.').count()) {
        (Some(comma), _) => (body[..comma].replace('.', ""), &body[comma + 1..]),
        (None, 1) => {
            let dot = body.find('.').unwrap_or(body.len());
            if body.len() - dot - 1 == 3 {
                (body.replace('.', ""), "")
            } else {
                (body[..dot].to_owned(), &body[dot + 1..])
            }
        }
        (None, _) => (body.replace('.', ""), ""),
    };
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 2 || whole.contains(',') {
        return Err(error());
    }
    let euros: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| error())? };
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().map_err(|_| error())? * 10,
        _ => fraction.parse().map_err(|_| error())?,
    };
    let total = euros.checked_mul(100).and_then(|c| c.checked_add(cents)).ok_or_else(error)?;
    Ok(Cents(if negative { -total } else { total }))
}

/// Parses a date written as "27.11.2019", "27.11.19", "8. August 2019", "08. August 2019" or "2019-11-27"
/// (an ISO date-time is cut to its date).
/// "d.m.yyyy" / "dd.mm.yyyy" with ASCII digits only, if it is a real date.
fn plain_german_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('.');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |part: &str, widths: std::ops::RangeInclusive<usize>| {
        (widths.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())?
    };
    if parts.next().is_some() {
        return None;
    }
    let year = i32::try_from(digits(year, 4..=4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(month, 1..=2)?, digits(day, 1..=2)?)
}

pub fn parse_date(text: &str) -> Result<NaiveDate, ValueError> {
    let trimmed = text.trim();
    let error = || ValueError::Date(trimmed.to_owned());
    if trimmed.len() >= 10 && trimmed.as_bytes()[4] == b'-' {
        // `get`: byte 10 may fall inside a character ("2019-11-2ä", found by fuzzing), which slicing panics on.
        let date = trimmed.get(..10).ok_or_else(error)?;
        return NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| error());
    }
    // The common "14.02.2020" without chrono's format parser (a tenth of the XML mapping time); anything else, and
    // an impossible date, takes the general path below.
    if let Some(date) = plain_german_date(trimmed) {
        return Ok(date);
    }
    // chrono's %Y also takes "19", so the year's width picks the format.
    if let [_, _, year] = trimmed.split('.').collect::<Vec<_>>().as_slice() {
        let format = if year.len() == 2 { "%d.%m.%y" } else { "%d.%m.%Y" };
        return NaiveDate::parse_from_str(trimmed, format).map_err(|_| error());
    }
    // "8. August 2019"
    let parts: Vec<&str> = trimmed.split_whitespace().collect();
    if let [day, month, year] = parts.as_slice() {
        let day: u32 = day.trim_end_matches('.').parse().map_err(|_| error())?;
        let month_name = month.to_lowercase();
        let month = MONTHS
            .iter()
            .position(|name| *name == month_name || (month_name == "maerz" && *name == "märz"))
            .ok_or_else(error)?;
        let year: i32 = year.parse().map_err(|_| error())?;
        return NaiveDate::from_ymd_opt(year, month as u32 + 1, day).ok_or_else(error);
    }
    Err(error())
}

/// Parses a whole number written the German way ("1.234", "245 341", "12").
pub fn parse_integer(text: &str) -> Result<i64, ValueError> {
    let digits: String = text.trim().chars().filter(|c| !matches!(c, '.' | ' ' | '\u{a0}')).collect();
    digits.parse().map_err(|_| ValueError::Number(text.trim().to_owned()))
}

/// Parses a decimal number written the German way ("1.234,56") or plainly ("1234.56").
pub fn parse_decimal(text: &str) -> Result<f64, ValueError> {
    let trimmed = text.trim();
    let normalised =
        if trimmed.contains(',') { trimmed.replace('.', "").replace(',', ".") } else { trimmed.to_owned() };
    normalised.parse().map_err(|_| ValueError::Number(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_cut_inside_a_character_is_an_error() {
        assert!(parse_date("2019-11-2ä").is_err());
        assert!(parse_date("1.10-12.1\u{fffd}1\u{fffd}\u{fffd}5").is_err());
    }

    #[test]
    fn amounts_from_council_papers() {
        assert_eq!(parse_amount("245.341 €"), Ok(Cents(24_534_100)));
        assert_eq!(parse_amount("ca. 10.000 €"), Ok(Cents(1_000_000)));
        assert_eq!(parse_amount("ca. 0 €"), Ok(Cents(0)));
        assert_eq!(parse_amount("1.234,56"), Ok(Cents(123_456)));
        assert_eq!(parse_amount("30.000,- EUR"), Ok(Cents(3_000_000)));
        assert_eq!(parse_amount("1.234.567 Euro"), Ok(Cents(123_456_700)));
        assert_eq!(parse_amount("12.5"), Ok(Cents(1250)));
        assert_eq!(parse_amount("-50,00"), Ok(Cents(-5000)));
        assert!(parse_amount("zehn Euro").is_err());
        assert!(parse_amount("").is_err());
        assert!(parse_amount("1,2,3").is_err());
    }

    #[test]
    fn dates_in_german_and_iso_forms() {
        let date = NaiveDate::from_ymd_opt(2019, 11, 27);
        assert_eq!(parse_date("27.11.2019").ok(), date);
        assert_eq!(parse_date(" 27.11.19 ").ok(), date);
        assert_eq!(parse_date("2019-11-27").ok(), date);
        assert_eq!(parse_date("2019-11-27T18:00:00+01:00").ok(), date);
        assert_eq!(parse_date("08. August 2019").ok(), NaiveDate::from_ymd_opt(2019, 8, 8));
        assert_eq!(parse_date("1. März 2020").ok(), NaiveDate::from_ymd_opt(2020, 3, 1));
        assert_eq!(parse_date("1.2.2020").ok(), NaiveDate::from_ymd_opt(2020, 2, 1));
        assert!(parse_date("31.02.2019").is_err());
        assert!(parse_date("demnächst").is_err());
    }

    #[test]
    fn numbers_with_thousands_dots() {
        assert_eq!(parse_integer("1.234"), Ok(1234));
        assert_eq!(parse_integer("245 341"), Ok(245_341));
        assert!(parse_integer("12a").is_err());
        assert_eq!(parse_decimal("1.234,5"), Ok(1234.5));
        assert_eq!(parse_decimal("52.61"), Ok(52.61));
    }
}

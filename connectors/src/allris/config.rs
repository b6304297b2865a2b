//! The settings of an `allris` connector (besides the common keys id, kind, partner, source, schedule, …).

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use super::page::Flavour;
use crate::settings::FieldError;

/// How a classic site's calendar, meetings and agenda items are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// The HTML pages (si010_e.asp, to010.asp, to020.asp).
    #[default]
    Html,
    /// The XML export of the same pages (`selfaction=ws&template=xyz`); papers still come from vo020.asp.
    Xml,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Settings {
    /// "classic" (ALLRIS net 3.x, default) or "allris4".
    #[serde(default)]
    pub flavour: Flavour,
    /// "html" (default) or "xml": classic sites only.
    #[serde(default)]
    pub mode: Mode,
    /// The first run walks the calendar from this date on; later runs walk the window only.
    #[serde(default, deserialize_with = "date")]
    pub start_date: Option<NaiveDate>,
    /// Months before today a later run walks again (results and minutes arrive after the meeting).
    #[serde(default = "default_back")]
    pub window_months_back: u32,
    /// Months after today every run walks (meetings already scheduled).
    #[serde(default = "default_ahead")]
    pub window_months_ahead: u32,
    /// Read each agenda item's page (to020) for its Beschluss; one request per TOP.
    #[serde(default = "yes")]
    pub agenda_item_pages: bool,
    /// Read the papers (vo020) the agendas link.
    #[serde(default = "yes")]
    pub papers: bool,
    /// At most this many pages per run, a guard against a site that links without end.
    #[serde(default = "default_max_pages")]
    pub max_pages: usize,
    /// The calendar page's name: "si010_e.asp" (classic default), "si010.asp" (classic XML export default) or
    /// "si010" (ALLRIS 4 default).
    pub calendar_page: Option<String>,
    /// For a saved site (`file:` source): the live site's base URL, used for the records' links.
    pub public_base_url: Option<String>,
}

fn default_back() -> u32 {
    3
}

fn default_ahead() -> u32 {
    6
}

fn yes() -> bool {
    true
}

fn default_max_pages() -> usize {
    5000
}

/// A date as a TOML date (`2019-10-01`) or a string ("2019-10-01", "01.10.2019").
fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    let value = toml::Value::deserialize(deserializer)?;
    let text = match value {
        toml::Value::String(text) => text,
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => return Err(serde::de::Error::custom(format!("expected a date, found {}", other.type_str()))),
    };
    crate::de::parse_date(&text).map(Some).map_err(serde::de::Error::custom)
}

impl Settings {
    pub(crate) fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.mode == Mode::Xml && self.flavour != Flavour::Classic {
            errors.push(FieldError::new(
                "mode",
                "the XML export exists only on ALLRIS classic sites (flavour = \"classic\")",
            ));
        }
        if self.max_pages == 0 {
            errors.push(FieldError::new("max_pages", "must be at least 1"));
        }
        if self.window_months_back > 120 {
            errors.push(FieldError::new("window_months_back", "at most 120 months"));
        }
        if self.window_months_ahead > 60 {
            errors.push(FieldError::new("window_months_ahead", "at most 60 months"));
        }
        if let Some(url) = &self.public_base_url {
            if reqwest::Url::parse(url).map(|url| !matches!(url.scheme(), "http" | "https")).unwrap_or(true) {
                errors.push(FieldError::new("public_base_url", "must be an http(s) URL"));
            }
        }
        if self.calendar_page.as_deref().is_some_and(|page| page.trim().is_empty() || page.contains(['?', '/'])) {
            errors.push(FieldError::new("calendar_page", "a page name such as si010_e.asp, without path or query"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_settings;

    #[test]
    fn defaults_and_dates() {
        let table: toml::Table = toml::from_str("start_date = 2019-10-01\nflavour = 'allris4'").expect("toml");
        let settings: Settings = parse_settings(&table).expect("settings");
        assert_eq!(settings.start_date, NaiveDate::from_ymd_opt(2019, 10, 1));
        assert_eq!(settings.flavour, Flavour::Allris4);
        assert_eq!((settings.window_months_back, settings.window_months_ahead, settings.max_pages), (3, 6, 5000));
        assert_eq!(settings.mode, Mode::Html);
        let table: toml::Table = toml::from_str("start_date = '01.10.2019'").expect("toml");
        assert_eq!(
            parse_settings::<Settings>(&table).expect("settings").start_date,
            NaiveDate::from_ymd_opt(2019, 10, 1)
        );
    }

    #[test]
    fn errors_name_their_field() {
        let table: toml::Table = toml::from_str("flavor = 'classic'").expect("toml");
        let errors = parse_settings::<Settings>(&table).expect_err("unknown key");
        assert_eq!(errors, vec![FieldError::new("flavor", "unknown key")]);
        let table: toml::Table = toml::from_str("start_date = 'bald'").expect("toml");
        let errors = parse_settings::<Settings>(&table).expect_err("bad date");
        assert_eq!(errors[0].field, "start_date");
        let table: toml::Table = toml::from_str("mode = 'json'").expect("toml");
        let errors = parse_settings::<Settings>(&table).expect_err("unknown mode");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "mode");
        assert!(errors[0].message.starts_with("unknown variant `json`, expected `html` or `xml`"), "{errors:?}");
        let table: toml::Table = toml::from_str("mode = 'xml'\nflavour = 'allris4'").expect("toml");
        let settings: Settings = parse_settings(&table).expect("parses");
        assert_eq!(settings.validate().map_err(|errors| errors[0].field.clone()), Err("mode".to_owned()));
        let table: toml::Table = toml::from_str("max_pages = 0").expect("toml");
        let settings: Settings = parse_settings(&table).expect("parses");
        assert_eq!(settings.validate(), Err(vec![FieldError::new("max_pages", "must be at least 1")]));
    }
}

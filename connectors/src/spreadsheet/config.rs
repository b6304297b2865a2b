//! The spreadsheet kind's settings: parsed with [`parse_settings`], then checked for meaning, every problem named by
//! its field.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::coerce::{coerce, FieldKind, Value};
use super::reader::{Cell, CsvOptions, Format, SheetChoice};
use crate::settings::{parse_settings, FieldError};

/// The entity a sheet fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    School,
    MediaConcept,
    Equipment,
}

/// A field a column can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    SchoolNumber,
    State,
    Name,
    SchoolType,
    LegalStatus,
    Traeger,
    /// "Amtsweg 11, 29386 Hankensbüttel": split into street, postcode and city.
    Address,
    Street,
    Postcode,
    City,
    Phone,
    Fax,
    Email,
    Website,
    Pupils,
    PupilsAsOf,
    Latitude,
    Longitude,
    Status,
    StartedOn,
    SubmittedOn,
    ApprovedOn,
    Version,
    Category,
    Count,
    AsOf,
}

impl Field {
    pub const COUNT: usize = 26;

    pub const ALL: [Field; Field::COUNT] = [
        Field::SchoolNumber,
        Field::State,
        Field::Name,
        Field::SchoolType,
        Field::LegalStatus,
        Field::Traeger,
        Field::Address,
        Field::Street,
        Field::Postcode,
        Field::City,
        Field::Phone,
        Field::Fax,
        Field::Email,
        Field::Website,
        Field::Pupils,
        Field::PupilsAsOf,
        Field::Latitude,
        Field::Longitude,
        Field::Status,
        Field::StartedOn,
        Field::SubmittedOn,
        Field::ApprovedOn,
        Field::Version,
        Field::Category,
        Field::Count,
        Field::AsOf,
    ];

    /// The name used in config (`columns.school_number`).
    pub fn name(self) -> &'static str {
        match self {
            Field::SchoolNumber => "school_number",
            Field::State => "state",
            Field::Name => "name",
            Field::SchoolType => "school_type",
            Field::LegalStatus => "legal_status",
            Field::Traeger => "traeger",
            Field::Address => "address",
            Field::Street => "street",
            Field::Postcode => "postcode",
            Field::City => "city",
            Field::Phone => "phone",
            Field::Fax => "fax",
            Field::Email => "email",
            Field::Website => "website",
            Field::Pupils => "pupils",
            Field::PupilsAsOf => "pupils_as_of",
            Field::Latitude => "latitude",
            Field::Longitude => "longitude",
            Field::Status => "status",
            Field::StartedOn => "started_on",
            Field::SubmittedOn => "submitted_on",
            Field::ApprovedOn => "approved_on",
            Field::Version => "version",
            Field::Category => "category",
            Field::Count => "count",
            Field::AsOf => "as_of",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::SchoolNumber => FieldKind::Digits,
            Field::Postcode => FieldKind::Postcode,
            Field::Pupils | Field::Count => FieldKind::Integer,
            Field::Latitude | Field::Longitude => FieldKind::Decimal,
            Field::PupilsAsOf | Field::StartedOn | Field::SubmittedOn | Field::ApprovedOn | Field::AsOf => {
                FieldKind::Date
            }
            _ => FieldKind::Text,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::School => "school",
            Target::MediaConcept => "media_concept",
            Target::Equipment => "equipment",
        }
    }

    /// The fields a sheet of this target can fill.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Target::School => &[
                SchoolNumber,
                State,
                Name,
                SchoolType,
                LegalStatus,
                Traeger,
                Address,
                Street,
                Postcode,
                City,
                Phone,
                Fax,
                Email,
                Website,
                Pupils,
                PupilsAsOf,
                Latitude,
                Longitude,
            ],
            Target::MediaConcept => &[SchoolNumber, State, Name, Status, StartedOn, SubmittedOn, ApprovedOn, Version],
            Target::Equipment => &[SchoolNumber, State, Name, Category, Count, AsOf],
        }
    }

    /// The fields that must be mapped (a column or a constant); a row without a value for one is rejected.
    pub fn required(self) -> &'static [Field] {
        match self {
            Target::School => &[Field::SchoolNumber, Field::State, Field::Name],
            Target::MediaConcept => &[Field::SchoolNumber, Field::State, Field::Status],
            Target::Equipment => &[Field::SchoolNumber, Field::State, Field::Category, Field::Count],
        }
    }

    /// The key: what identifies one record of the sheet.
    pub fn key(self) -> &'static [Field] {
        match self {
            Target::School | Target::MediaConcept => &[Field::SchoolNumber],
            Target::Equipment => &[Field::SchoolNumber, Field::Category],
        }
    }
}

/// The settings as written.
#[derive(Debug, Deserialize)]
struct Settings {
    target: Target,
    format: Option<Format>,
    sheet: Option<toml::Value>,
    header_row: Option<toml::Value>,
    columns: BTreeMap<String, toml::Value>,
    #[serde(default)]
    constants: BTreeMap<String, toml::Value>,
    key: Option<toml::Value>,
    delimiter: Option<String>,
    encoding: Option<String>,
    #[serde(default = "default_batch")]
    batch_size: usize,
}

fn default_batch() -> usize {
    500
}

/// A mapped column: the field and the header texts that may name it, normalised for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub field: Field,
    /// As written in config, for messages.
    pub names: Vec<String>,
    /// Lower case, whitespace collapsed.
    pub matchers: Vec<String>,
}

/// The checked configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub target: Target,
    pub format: Option<Format>,
    pub sheet: SheetChoice,
    /// 1-based, as the spreadsheet shows it; `None` finds it.
    pub header_row: Option<u32>,
    pub columns: Vec<ColumnSpec>,
    pub constants: Vec<(Field, Value)>,
    pub key: Vec<Field>,
    pub csv: CsvOptions,
    pub batch_size: usize,
}

impl Config {
    pub fn is_mapped(&self, field: Field) -> bool {
        self.columns.iter().any(|column| column.field == field) || self.constants.iter().any(|(f, _)| *f == field)
    }
}

/// Normalises a header text for matching: case and surrounding/repeated whitespace do not count.
pub fn header_key(text: &str) -> String {
    super::coerce::clean_text(text).to_lowercase()
}

fn field_named(target: Target, name: &str) -> Result<Field, String> {
    target.fields().iter().copied().find(|field| field.name() == name).ok_or_else(|| {
        let known: Vec<&str> = target.fields().iter().map(|field| field.name()).collect();
        format!("unknown field `{name}` for target `{}` (known: {})", target.name(), known.join(", "))
    })
}

/// Parses and checks the settings table.
pub fn parse(table: &toml::Table) -> Result<Config, Vec<FieldError>> {
    let settings: Settings = parse_settings(table)?;
    let mut errors = Vec::new();
    let target = settings.target;

    let sheet = match &settings.sheet {
        None => SheetChoice::First,
        Some(toml::Value::String(name)) if !name.trim().is_empty() => SheetChoice::Name(name.clone()),
        Some(toml::Value::Integer(number)) if *number >= 1 => SheetChoice::Index(*number as usize - 1),
        Some(_) => {
            errors.push(FieldError::new("sheet", "must be a sheet name or a sheet number counted from 1"));
            SheetChoice::First
        }
    };
    let header_row = match &settings.header_row {
        None => None,
        Some(toml::Value::String(word)) if word == "auto" => None,
        Some(toml::Value::Integer(number)) if (1..=i64::from(u32::MAX)).contains(number) => Some(*number as u32),
        Some(_) => {
            errors.push(FieldError::new(
                "header_row",
                "must be a row number counted from 1 as the spreadsheet shows it, or \"auto\"",
            ));
            None
        }
    };

    let mut columns = Vec::new();
    for (name, value) in &settings.columns {
        let path = format!("columns.{name}");
        let field = match field_named(target, name) {
            Ok(field) => field,
            Err(message) => {
                errors.push(FieldError::new(path, message));
                continue;
            }
        };
        let names: Vec<String> = match value {
            toml::Value::String(header) => vec![header.clone()],
            toml::Value::Array(items) if !items.is_empty() => {
                let texts: Vec<String> = items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect();
                if texts.len() != items.len() {
                    errors.push(FieldError::new(path, "every alternative must be a header text"));
                    continue;
                }
                texts
            }
            _ => {
                errors.push(FieldError::new(path, "must be a header text or a list of alternative header texts"));
                continue;
            }
        };
        let matchers: Vec<String> = names.iter().map(|name| header_key(name)).collect();
        if matchers.iter().any(String::is_empty) {
            errors.push(FieldError::new(path, "a header text must not be empty"));
            continue;
        }
        columns.push(ColumnSpec { field, names, matchers });
    }
    if columns.is_empty() && !settings.columns.is_empty() {
        // Errors were reported per column.
    } else if columns.is_empty() {
        errors.push(FieldError::new("columns", "map at least one column"));
    }
    if columns.iter().any(|column| column.field == Field::Address)
        && columns.iter().any(|column| matches!(column.field, Field::Street | Field::Postcode | Field::City))
    {
        errors.push(FieldError::new(
            "columns.address",
            "map either `address` (\"street, postcode city\" in one cell) or street, postcode and city",
        ));
    }

    let mut constants = Vec::new();
    for (name, value) in &settings.constants {
        let path = format!("constants.{name}");
        let field = match field_named(target, name) {
            Ok(field) => field,
            Err(message) => {
                errors.push(FieldError::new(path, message));
                continue;
            }
        };
        if columns.iter().any(|column| column.field == field) {
            errors.push(FieldError::new(path, format!("`{name}` is mapped to a column too; keep one")));
            continue;
        }
        let cell = match value {
            toml::Value::String(text) => Cell::Text(text.clone()),
            toml::Value::Integer(number) => Cell::Integer(*number),
            toml::Value::Float(number) => Cell::Number(*number),
            _ => {
                errors.push(FieldError::new(path, "must be a text or a number"));
                continue;
            }
        };
        match coerce(&cell, field.kind()) {
            Ok(Some(value)) => {
                if field == Field::State && !is_state_code(&value.to_text()) {
                    errors.push(FieldError::new(path, "must be a two-letter state code such as \"NI\""));
                    continue;
                }
                constants.push((field, value));
            }
            Ok(None) => errors.push(FieldError::new(path, "must not be empty")),
            Err(error) => errors.push(FieldError::new(path, error.0)),
        }
    }

    let key = match &settings.key {
        None => target.key().to_vec(),
        Some(value) => {
            let names: Vec<&str> = match value {
                toml::Value::String(name) => vec![name.as_str()],
                toml::Value::Array(items) => items.iter().filter_map(toml::Value::as_str).collect(),
                _ => Vec::new(),
            };
            let fields: Result<Vec<Field>, String> = names.iter().map(|name| field_named(target, name)).collect();
            match fields {
                Ok(fields) if !fields.is_empty() => {
                    if target == Target::School && fields != [Field::SchoolNumber] {
                        errors.push(FieldError::new("key", "a school is identified by `school_number` alone"));
                    } else if !fields.contains(&Field::SchoolNumber) {
                        errors.push(FieldError::new("key", "the key must include `school_number`"));
                    } else if target == Target::Equipment && !fields.contains(&Field::Category) {
                        errors.push(FieldError::new("key", "equipment is counted per school and `category`"));
                    }
                    fields
                }
                Ok(_) => {
                    errors.push(FieldError::new("key", "must be a field name or a list of field names"));
                    target.key().to_vec()
                }
                Err(message) => {
                    errors.push(FieldError::new("key", message));
                    target.key().to_vec()
                }
            }
        }
    };

    let delimiter = match settings.delimiter.as_deref() {
        None | Some("auto") => None,
        Some(";") => Some(b';'),
        Some(",") => Some(b','),
        Some("\t") | Some("tab") => Some(b'\t'),
        Some("|") => Some(b'|'),
        Some(_) => {
            errors.push(FieldError::new("delimiter", "must be \";\", \",\", \"tab\", \"|\" or \"auto\""));
            None
        }
    };
    let encoding = match settings.encoding.as_deref() {
        None | Some("auto") => None,
        Some(label) => match encoding_rs::Encoding::for_label(label.trim().as_bytes()) {
            Some(encoding) => Some(encoding),
            None => {
                errors.push(FieldError::new(
                    "encoding",
                    format!("unknown encoding `{label}` (use e.g. \"utf-8\", \"windows-1252\", \"iso-8859-15\")"),
                ));
                None
            }
        },
    };
    if settings.batch_size == 0 {
        errors.push(FieldError::new("batch_size", "must be at least 1"));
    }

    let config = Config {
        target,
        format: settings.format,
        sheet,
        header_row,
        columns,
        constants,
        key,
        csv: CsvOptions { delimiter, encoding },
        batch_size: settings.batch_size,
    };
    if errors.is_empty() {
        // Only meaningful once the columns parsed: every required and key field needs a column or a constant.
        for field in target.required().iter().chain(&config.key) {
            if !config.is_mapped(*field) {
                let message = if *field == Field::State {
                    "map a column to `state` or set `constants.state` (e.g. \"NI\")".to_owned()
                } else {
                    format!("the target `{}` needs the field `{}`", target.name(), field.name())
                };
                let error = FieldError::new(format!("columns.{}", field.name()), message);
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// Two ASCII letters: "NI", "NW".
pub fn is_state_code(text: &str) -> bool {
    text.len() == 2 && text.bytes().all(|byte| byte.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_toml(text: &str) -> Result<Config, Vec<FieldError>> {
        parse(&toml::from_str(text).expect("valid toml"))
    }

    #[test]
    fn a_full_school_mapping() {
        let config = parse_toml(
            r#"
            target = "school"
            sheet = "Schulen"
            header_row = 3
            [columns]
            school_number = ["Schulnummer", "Schul-Nr.", "SNR"]
            name = "Schulname"
            [constants]
            state = "NI"
            "#,
        )
        .expect("valid");
        assert_eq!(config.sheet, SheetChoice::Name("Schulen".into()));
        assert_eq!(config.header_row, Some(3));
        assert_eq!(config.columns[0].field, Field::Name);
        assert_eq!(config.columns[1].matchers, vec!["schulnummer", "schul-nr.", "snr"]);
        assert_eq!(config.constants, vec![(Field::State, Value::Text("NI".into()))]);
        assert_eq!(config.key, vec![Field::SchoolNumber]);
    }

    #[test]
    fn every_mistake_names_its_field() {
        let errors = parse_toml(
            r##"
            target = "school"
            sheet = 0
            header_row = "zwei"
            delimiter = "#"
            encoding = "klingon"
            [columns]
            school_number = 7
            colour = "Farbe"
            [constants]
            state = "Niedersachsen"
            "##,
        )
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "sheet",
                "header_row",
                "columns.colour",
                "columns.school_number",
                "constants.state",
                "delimiter",
                "encoding"
            ]
        );
        assert!(errors[2].message.contains("unknown field `colour`"), "{}", errors[2].message);
    }

    #[test]
    fn mapping_must_hold_the_key_and_required_fields() {
        let errors = parse_toml("target = 'equipment'\n[columns]\nschool_number = 'Schulnummer'\ncount = 'Anzahl'\n")
            .expect_err("no category, no state");
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, vec!["columns.state", "columns.category"]);
        let errors = parse_toml("target = 'schools'\n[columns]\nname = 'Name'\n").expect_err("bad target");
        assert_eq!(errors[0].field, "target");
        let errors = parse_toml("target = 'school'\nkey = 'name'\n[columns]\nname = 'Name'\nschool_number = 'Nr'\n[constants]\nstate = 'NI'\n")
            .expect_err("bad key");
        assert_eq!(errors[0].field, "key");
        let errors = parse_toml("target = 'school'\nshet = 1\n[columns]\nname = 'Name'\n").expect_err("typo");
        assert_eq!(errors[0], FieldError::new("shet", "unknown key"));
    }
}

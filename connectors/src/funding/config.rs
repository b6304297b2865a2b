//! `kind = "funding"` settings: parsed with [`parse_settings`], then checked for meaning, every problem named by its
//! field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::programs::{self, ProgramInfo};
use crate::connector::Source;
use crate::model::EntityKind;
use crate::settings::{parse_settings, FieldError};
use crate::spreadsheet::reader::{CsvOptions, Format as TableFormat, SheetChoice};

/// The entity one connector fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    FundingProgram,
    FundingBudget,
    FundingApplication,
}

impl Target {
    pub fn entity(self) -> EntityKind {
        match self {
            Target::FundingProgram => EntityKind::FundingProgram,
            Target::FundingBudget => EntityKind::FundingBudget,
            Target::FundingApplication => EntityKind::FundingApplication,
        }
    }

    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Target::FundingProgram => &[Id, Name, LegalBasis, PeriodStart, PeriodEnd, Measures],
            Target::FundingBudget => &[Program, Key, Partner, PartnerAgs, PartnerName, SchoolNumber, Amount, Basis],
            Target::FundingApplication => &[
                Program,
                Reference,
                Partner,
                PartnerAgs,
                PartnerName,
                RecipientName,
                SchoolNumbers,
                Measure,
                Title,
                Requested,
                Approved,
                Disbursed,
                Status,
                SubmittedOn,
                ApprovedOn,
                PeriodStart,
                PeriodEnd,
            ],
        }
    }

    fn required(self) -> &'static [Field] {
        match self {
            Target::FundingProgram => &[Field::Id, Field::Name],
            Target::FundingBudget => &[Field::Amount],
            Target::FundingApplication => &[Field::Reference],
        }
    }

    fn name(self) -> &'static str {
        self.entity().as_str()
    }
}

/// A field a source value can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Program,
    Id,
    Name,
    LegalBasis,
    PeriodStart,
    PeriodEnd,
    Measures,
    Key,
    Partner,
    PartnerAgs,
    PartnerName,
    SchoolNumber,
    SchoolNumbers,
    Amount,
    Basis,
    Reference,
    RecipientName,
    Measure,
    Title,
    Requested,
    Approved,
    Disbursed,
    Status,
    SubmittedOn,
    ApprovedOn,
}

impl Field {
    pub const COUNT: usize = 25;

    pub fn name(self) -> &'static str {
        match self {
            Field::Program => "program",
            Field::Id => "id",
            Field::Name => "name",
            Field::LegalBasis => "legal_basis",
            Field::PeriodStart => "period_start",
            Field::PeriodEnd => "period_end",
            Field::Measures => "measures",
            Field::Key => "key",
            Field::Partner => "partner",
            Field::PartnerAgs => "partner_ags",
            Field::PartnerName => "partner_name",
            Field::SchoolNumber => "school_number",
            Field::SchoolNumbers => "school_numbers",
            Field::Amount => "amount",
            Field::Basis => "basis",
            Field::Reference => "reference",
            Field::RecipientName => "recipient_name",
            Field::Measure => "measure",
            Field::Title => "title",
            Field::Requested => "requested",
            Field::Approved => "approved",
            Field::Disbursed => "disbursed",
            Field::Status => "status",
            Field::SubmittedOn => "submitted_on",
            Field::ApprovedOn => "approved_on",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where the records are read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// Streamed XML: records are the elements at `record_path`; field paths are relative to it.
    Xml { record_path: Vec<String>, encoding: Option<&'static encoding_rs::Encoding> },
    /// JSON: records are the array at the `records` pointer, fields are pointers relative to a record.
    Json { records: String, paging: Option<Paging> },
    /// CSV/XLSX/XLS/ODS through the spreadsheet reader; fields are header texts.
    Table { format: Option<TableFormat>, sheet: SheetChoice, header_row: Option<u32>, csv: CsvOptions },
}

/// How to get the next page of a JSON source over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum Paging {
    /// A pointer to the next page's URL in each page (`/links/next`); the walk ends where it is missing or null.
    Next { pointer: String, max_pages: u32 },
    /// A query parameter counted up from `first`; the walk ends at the first page without records.
    Page { param: String, first: u64, max_pages: u32 },
}

/// One mapped field: alternatives tried in order (XML/JSON paths or header texts); the first with a value wins.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub field: Field,
    pub paths: Vec<String>,
}

/// Disbursements (Auszahlungen) of an application: repeated elements/objects under `path` (XML/JSON), or column pairs
/// (tables).
#[derive(Debug, Clone, PartialEq)]
pub struct DisbursementSpec {
    pub path: Option<String>,
    pub date: Option<Vec<String>>,
    pub amount: Vec<String>,
}

/// The checked configuration of one `funding` connector.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub format: Format,
    /// The program records belong to unless `fields.program` maps it.
    pub program: Option<String>,
    /// The JSON-lines file holding the program records (the same file the `records` connector imports), read at the
    /// start of every run to validate measure codes.
    pub programs_file: Option<PathBuf>,
    /// Two-letter state code for school ids ("NI").
    pub state: String,
    pub fields: Vec<FieldSpec>,
    pub disbursements: Vec<DisbursementSpec>,
    pub batch_size: usize,
}

impl Config {
    pub fn spec(&self, field: Field) -> Option<&FieldSpec> {
        self.fields.iter().find(|spec| spec.field == field)
    }
}

#[derive(Debug, Deserialize)]
struct Settings {
    target: Target,
    format: Option<String>,
    program: Option<String>,
    programs: Option<String>,
    #[serde(default = "default_state")]
    state: String,
    record_path: Option<String>,
    records: Option<String>,
    paging: Option<PagingSettings>,
    sheet: Option<toml::Value>,
    header_row: Option<u32>,
    delimiter: Option<String>,
    encoding: Option<String>,
    fields: BTreeMap<String, toml::Value>,
    #[serde(default)]
    disbursements: Vec<DisbursementSettings>,
    #[serde(default = "default_batch")]
    batch_size: usize,
}

#[derive(Debug, Deserialize)]
struct PagingSettings {
    next: Option<String>,
    page_param: Option<String>,
    #[serde(default = "default_first_page")]
    first_page: u64,
    #[serde(default = "default_max_pages")]
    max_pages: u32,
}

#[derive(Debug, Deserialize)]
struct DisbursementSettings {
    path: Option<String>,
    date: Option<toml::Value>,
    amount: toml::Value,
}

fn default_state() -> String {
    "NI".to_owned()
}
fn default_batch() -> usize {
    500
}
fn default_first_page() -> u64 {
    1
}
fn default_max_pages() -> u32 {
    10_000
}

/// A header text / path, or a list of alternatives.
fn alternatives(value: &toml::Value) -> Option<Vec<String>> {
    let texts: Vec<String> = match value {
        toml::Value::String(text) => vec![text.clone()],
        toml::Value::Array(items) => {
            items.iter().map(|item| item.as_str().map(str::to_owned)).collect::<Option<_>>()?
        }
        _ => return None,
    };
    (!texts.is_empty() && texts.iter().all(|text| !text.trim().is_empty())).then_some(texts)
}

/// Parses and checks a `funding` connector's settings.
pub fn parse(table: &toml::Table, source: &Source, base_dir: &Path) -> Result<Config, Vec<FieldError>> {
    let settings: Settings = parse_settings(table)?;
    let mut errors = Vec::new();
    let target = settings.target;

    let format_name = match settings.format.as_deref() {
        Some(name) => name.trim().to_ascii_lowercase(),
        // The format-specific keys tell it, then the source's name.
        None if settings.record_path.is_some() => "xml".to_owned(),
        None if settings.records.is_some() || settings.paging.is_some() => "json".to_owned(),
        None => {
            let name = source.describe().to_ascii_lowercase();
            let name = name.split(['?', '#']).next().unwrap_or_default().to_owned();
            if name.ends_with(".xml") {
                "xml".to_owned()
            } else if name.ends_with(".json") {
                "json".to_owned()
            } else if let Some(format) = TableFormat::from_name(&name) {
                format!("{format:?}").to_ascii_lowercase()
            } else {
                errors.push(FieldError::new(
                    "format",
                    "the source's name does not tell the format: set `format` to xml, json, csv, xlsx, xls or ods",
                ));
                String::new()
            }
        }
    };
    let tree = matches!(format_name.as_str(), "xml" | "json");

    // XML: overrides the declaration (for files that lie about it); CSV: as the spreadsheet kind.
    let encoding = encoding_setting(settings.encoding.as_deref(), &mut errors);
    let format = match format_name.as_str() {
        "xml" => {
            let path = settings.record_path.as_deref().unwrap_or_default();
            let record_path: Vec<String> = path.split('/').filter(|part| !part.is_empty()).map(str::to_owned).collect();
            if record_path.is_empty() || record_path.iter().any(|part| part.starts_with('@') || part == "*") {
                errors.push(FieldError::new(
                    "record_path",
                    "XML needs the path of the record elements from the root, e.g. \"/Antraege/Antrag\"",
                ));
            }
            Some(Format::Xml { record_path, encoding })
        }
        "json" => {
            let records = settings.records.clone().unwrap_or_default();
            if !records.is_empty() && !records.starts_with('/') {
                errors.push(FieldError::new("records", "must be a JSON pointer such as \"/data\" (empty: the root)"));
            }
            let paging = match &settings.paging {
                None => None,
                Some(paging) => {
                    if !matches!(source, Source::Http(_)) {
                        errors.push(FieldError::new("paging", "paging needs an http(s) source"));
                    }
                    match (&paging.next, &paging.page_param) {
                        (Some(next), None) if next.starts_with('/') => {
                            Some(Paging::Next { pointer: next.clone(), max_pages: paging.max_pages })
                        }
                        (None, Some(param)) if !param.trim().is_empty() => Some(Paging::Page {
                            param: param.trim().to_owned(),
                            first: paging.first_page,
                            max_pages: paging.max_pages,
                        }),
                        _ => {
                            errors.push(FieldError::new(
                                "paging",
                                "set either `next` (a JSON pointer to the next page's URL, e.g. \"/links/next\") or \
                                 `page_param` (a query parameter counted up)",
                            ));
                            None
                        }
                    }
                }
            };
            Some(Format::Json { records, paging })
        }
        "csv" | "xlsx" | "xls" | "ods" => {
            let format = match format_name.as_str() {
                "csv" => TableFormat::Csv,
                "xlsx" => TableFormat::Xlsx,
                "xls" => TableFormat::Xls,
                _ => TableFormat::Ods,
            };
            let sheet = match &settings.sheet {
                None => SheetChoice::First,
                Some(toml::Value::String(name)) if !name.trim().is_empty() => SheetChoice::Name(name.clone()),
                Some(toml::Value::Integer(number)) if *number >= 1 => SheetChoice::Index(*number as usize - 1),
                Some(_) => {
                    errors.push(FieldError::new("sheet", "must be a sheet name or a sheet number counted from 1"));
                    SheetChoice::First
                }
            };
            if settings.header_row == Some(0) {
                errors.push(FieldError::new("header_row", "rows are counted from 1"));
            }
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
            // A configured binary format is still checked against the bytes: a `.xls` link often serves XLSX.
            let format = if format == TableFormat::Csv { Some(format) } else { None };
            Some(Format::Table {
                format,
                sheet,
                header_row: settings.header_row,
                csv: CsvOptions { delimiter, encoding },
            })
        }
        "" => None,
        other => {
            errors
                .push(FieldError::new("format", format!("unknown format `{other}` (xml, json, csv, xlsx, xls, ods)")));
            None
        }
    };
    if tree {
        for (key, set) in [
            ("sheet", settings.sheet.is_some()),
            ("header_row", settings.header_row.is_some()),
            ("delimiter", settings.delimiter.is_some()),
        ] {
            if set {
                errors.push(FieldError::new(key, "only for csv, xlsx, xls and ods sources"));
            }
        }
    }
    if format_name != "xml" && settings.record_path.is_some() {
        errors.push(FieldError::new("record_path", "only for xml sources"));
    }
    if format_name != "json" && (settings.records.is_some() || settings.paging.is_some()) {
        let key = if settings.records.is_some() { "records" } else { "paging" };
        errors.push(FieldError::new(key, "only for json sources"));
    }
    if format_name == "json" && settings.encoding.is_some() {
        errors.push(FieldError::new("encoding", "JSON is UTF-8; `encoding` is for csv (XML declares its own)"));
    }

    let mut fields = Vec::new();
    for (name, value) in &settings.fields {
        let path = format!("fields.{name}");
        let Some(field) = target.fields().iter().copied().find(|field| field.name() == name) else {
            let known: Vec<&str> = target.fields().iter().map(|field| field.name()).collect();
            errors.push(FieldError::new(
                path,
                format!("unknown field `{name}` for target `{}` (known: {})", target.name(), known.join(", ")),
            ));
            continue;
        };
        match alternatives(value) {
            Some(paths) => {
                if format_name == "json" && paths.iter().any(|path| !path.is_empty() && !path.starts_with('/')) {
                    errors.push(FieldError::new(path, "must be a JSON pointer relative to the record, e.g. \"/id\""));
                    continue;
                }
                fields.push(FieldSpec { field, paths });
            }
            None => errors.push(FieldError::new(path, "must be a path or header text, or a list of alternatives")),
        }
    }
    for field in target.required() {
        if !fields.iter().any(|spec| spec.field == *field) {
            errors.push(FieldError::new(
                format!("fields.{}", field.name()),
                format!("the target `{}` needs the field `{}`", target.name(), field.name()),
            ));
        }
    }

    let mut disbursements = Vec::new();
    for (index, item) in settings.disbursements.iter().enumerate() {
        let at = |key: &str| format!("disbursements[{index}].{key}");
        if target != Target::FundingApplication {
            errors.push(FieldError::new(format!("disbursements[{index}]"), "only applications have disbursements"));
            continue;
        }
        match (&item.path, tree) {
            (None, true) => errors.push(FieldError::new(at("path"), "name the repeated element or array")),
            (Some(_), false) => errors.push(FieldError::new(at("path"), "only for xml and json; tables map columns")),
            _ => {}
        }
        let amount = alternatives(&item.amount);
        if amount.is_none() {
            errors.push(FieldError::new(at("amount"), "must be a path or header text, or a list of alternatives"));
        }
        let date = item.date.as_ref().map(alternatives);
        if let Some(None) = date {
            errors.push(FieldError::new(at("date"), "must be a path or header text, or a list of alternatives"));
        }
        if let Some(amount) = amount {
            disbursements.push(DisbursementSpec { path: item.path.clone(), date: date.flatten(), amount });
        }
    }

    if !crate::spreadsheet::config::is_state_code(&settings.state) {
        errors.push(FieldError::new("state", "must be a two-letter state code such as \"NI\""));
    }
    if settings.batch_size == 0 {
        errors.push(FieldError::new("batch_size", "must be at least 1"));
    }

    let program = settings.program.as_deref().map(str::trim).filter(|slug| !slug.is_empty()).map(str::to_owned);
    match target {
        Target::FundingProgram if program.is_some() => {
            errors.push(FieldError::new("program", "a program source names its programs in `fields.id`"))
        }
        Target::FundingBudget | Target::FundingApplication
            if program.is_none() && !fields.iter().any(|spec| spec.field == Field::Program) =>
        {
            errors.push(FieldError::new("program", "name the program the records belong to, or map `fields.program`"))
        }
        _ => {}
    }
    let programs_file = settings.programs.as_deref().map(|path| {
        let path = PathBuf::from(path.strip_prefix("file:").unwrap_or(path));
        if path.is_absolute() {
            path
        } else {
            base_dir.join(path)
        }
    });
    if let Some(file) = &programs_file {
        // Checked now so `check-config` names a missing file or program; read again at every run.
        match programs::load(file) {
            Err(message) => errors.push(FieldError::new("programs", message)),
            Ok(found) => {
                if let Some(slug) = &program {
                    if !found.iter().any(|info: &ProgramInfo| &info.id == slug) {
                        let known: Vec<&str> = found.iter().map(|info| info.id.as_str()).collect();
                        errors.push(FieldError::new(
                            "program",
                            format!("program `{slug}` is not in {} (it has: {})", file.display(), known.join(", ")),
                        ));
                    }
                }
            }
        }
    }

    match (errors.is_empty(), format) {
        (true, Some(format)) => Ok(Config {
            target,
            format,
            program,
            programs_file,
            state: settings.state.to_ascii_uppercase(),
            fields,
            disbursements,
            batch_size: settings.batch_size,
        }),
        _ => Err(errors),
    }
}

pub(crate) fn encoding_setting(
    label: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<&'static encoding_rs::Encoding> {
    match label {
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
    }
}

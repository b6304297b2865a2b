//! `kind = "foerderkatalog"`: the federal Förderkatalog CSV export ("Ausgabe als Textdatei", foerderportal.bund.de)
//! as a built-in format → funding applications of one program ("foerderkatalog"), the recipient linked to a partner by
//! Gemeindekennziffer (AGS) or name.
//!
//! The export's quirks: ISO-8859-15 (the € sign is 0xA4, not windows-1252's 0x80); `;` between cells; cells written
//! as `="…"` so Excel keeps leading zeros (and such a cell may hold a `;`); German numbers (1.234.567,89) and dates
//! (31.12.2021); the address block (Gemeindekennziffer, Stadt/Gemeinde, Ort, Bundesland, Staat) appears twice, for the
//! recipient and for the executing body (Ausführende Stelle), under the same headers, so it is read by position;
//! an amount of 0 means "not disclosed"; bookkeeping rows ("nur zum Zweck der Auszahlung") are no grants of their
//! own and are skipped; older exports name columns differently (Zuwendungsempfänger, Thema, Fördersumme in EUR).

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::{parse_in_background, read_source, settings_hash, unchanged, Batcher, FundingError, Output, Summary};
use crate::connector::{Connector, ConnectorError, Rejection, RunContext, RunOutcome, Source};
use crate::de;
use crate::model::{Ags, ApplicationStatus, EntityKind, FundingApplication, FundingProgram, Origin, Partner, Record};
use crate::registry::{BuildResult, ConnectorSpec};
use crate::settings::{parse_settings, FieldError};
use crate::spreadsheet::coerce::clean_text;

const PORTAL: &str = "https://foerderportal.bund.de/foekat/";

#[derive(Debug, Deserialize)]
struct Settings {
    #[serde(default = "default_program")]
    program: String,
    #[serde(default = "default_program_name")]
    program_name: String,
    /// Import only grants whose recipient is a partner (data minimisation: a regional export lists universities and
    /// companies too).
    #[serde(default = "default_true")]
    only_partners: bool,
    encoding: Option<String>,
    #[serde(default = "default_batch")]
    batch_size: usize,
}

fn default_program() -> String {
    "foerderkatalog".to_owned()
}
fn default_program_name() -> String {
    "Förderkatalog des Bundes".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_batch() -> usize {
    500
}

/// The checked settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub program: String,
    pub program_name: String,
    pub only_partners: bool,
    pub encoding: &'static encoding_rs::Encoding,
    pub batch_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            program: default_program(),
            program_name: default_program_name(),
            only_partners: true,
            encoding: encoding_rs::ISO_8859_15,
            batch_size: default_batch(),
        }
    }
}

pub fn parse_config(table: &toml::Table) -> Result<Config, Vec<FieldError>> {
    let settings: Settings = parse_settings(table)?;
    let mut errors = Vec::new();
    let program = settings.program.trim().to_owned();
    if !crate::model::ids::is_url_safe(&program) {
        errors.push(FieldError::new("program", "a program id is a slug: letters, digits, - _ ."));
    }
    if settings.program_name.trim().is_empty() {
        errors.push(FieldError::new("program_name", "must not be empty"));
    }
    let encoding =
        super::config::encoding_setting(settings.encoding.as_deref(), &mut errors).unwrap_or(encoding_rs::ISO_8859_15);
    if settings.batch_size == 0 {
        errors.push(FieldError::new("batch_size", "must be at least 1"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Config {
        program,
        program_name: settings.program_name.trim().to_owned(),
        only_partners: settings.only_partners,
        encoding,
        batch_size: settings.batch_size,
    })
}

pub struct FoerderkatalogConnector {
    source: Source,
    config: Config,
    settings_hash: String,
}

pub fn build(spec: &ConnectorSpec<'_>) -> BuildResult {
    let config = parse_config(spec.settings)?;
    Ok(Box::new(FoerderkatalogConnector {
        source: spec.source.clone(),
        config,
        settings_hash: settings_hash(spec.settings),
    }))
}

#[async_trait]
impl Connector for FoerderkatalogConnector {
    fn entities(&self) -> &[EntityKind] {
        &[EntityKind::FundingProgram, EntityKind::FundingApplication]
    }

    async fn run(&self, mut ctx: RunContext<'_>) -> Result<RunOutcome, ConnectorError> {
        let location = self.source.describe();
        let Some((input, watermark)) =
            read_source(ctx.fetcher, ctx.watermark.as_deref(), &self.source, &self.settings_hash, false).await?
        else {
            return Ok(unchanged(ctx.watermark.clone(), &location));
        };
        let config = self.config.clone();
        let file = crate::spreadsheet::file_label(&self.source);
        let partners = ctx.partners.to_vec();
        let summary = parse_in_background(&mut ctx, &location, move |out| {
            let bytes = input.into_bytes(&file)?;
            parse(&config, &bytes, &file, &partners, out)
        })
        .await?;
        Ok(super::outcome(&location, summary, watermark))
    }
}

/// A column's meaning. The address block's columns are told apart by position, see [`Header::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Fkz,
    Ressort,
    Recipient,
    Executing,
    Ags,
    City,
    Place,
    State,
    Postcode,
    Topic,
    LpCode,
    LpText,
    From,
    To,
    Amount,
    Project,
    FundingKind,
}

/// Header texts, new and old, compared without case and whitespace.
const HEADERS: &[(&str, Column)] = &[
    ("fkz", Column::Fkz),
    ("ressort", Column::Ressort),
    ("förderempfänger/auftragnehmer", Column::Recipient),
    ("zuwendungsempfänger", Column::Recipient),
    ("ausführendestelle", Column::Executing),
    ("gemeindekennziffer", Column::Ags),
    ("stadt/gemeinde", Column::City),
    ("ort", Column::Place),
    ("bundesland", Column::State),
    ("postleitzahl", Column::Postcode),
    ("themadesgefördertenvorhabens", Column::Topic),
    ("thema", Column::Topic),
    ("leistungsplansystematik", Column::LpCode),
    ("klartextleistungsplansystematik", Column::LpText),
    ("laufzeitvon", Column::From),
    ("laufzeitbis", Column::To),
    ("förder-/auftragssumme(anteildesbundes)ineur", Column::Amount),
    ("fördersummeineur", Column::Amount),
    ("projekt", Column::Project),
    ("verbundprojekt", Column::Project),
    ("förderart", Column::FundingKind),
];

fn squeeze(text: &str) -> String {
    clean_text(text).chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
}

/// The columns of the header row: the recipient's address block is the one after the recipient's name (before the
/// executing body), the executing body's the one after "Ausführende Stelle".
#[derive(Debug, Default)]
struct Header {
    columns: HashMap<Column, usize>,
    names: HashMap<Column, String>,
}

impl Header {
    fn resolve(cells: &[String]) -> Header {
        let mut header = Header::default();
        let mut executing_seen = false;
        for (index, cell) in cells.iter().enumerate() {
            let key = squeeze(cell);
            let Some((_, column)) = HEADERS.iter().find(|(name, _)| *name == key) else { continue };
            if *column == Column::Executing {
                executing_seen = true;
            }
            let address =
                matches!(column, Column::Ags | Column::City | Column::Place | Column::State | Column::Postcode);
            // Read by position: the second address block (after "Ausführende Stelle") is the executing body's.
            if address && executing_seen {
                continue;
            }
            header.columns.entry(*column).or_insert(index);
            header.names.entry(*column).or_insert_with(|| clean_text(cell));
        }
        header
    }

    fn get<'r>(&self, row: &'r [String], column: Column) -> Option<&'r str> {
        let text = row.get(*self.columns.get(&column)?)?.as_str();
        (!text.is_empty()).then_some(text)
    }

    fn name(&self, column: Column) -> String {
        self.names.get(&column).cloned().unwrap_or_else(|| format!("{column:?}"))
    }
}

/// Splits the export into rows of cleaned cells with their line numbers: `;` between cells, `"…"` and `="…"` quoting
/// (doubled quotes inside), line breaks inside quotes.
fn rows(text: &str) -> Vec<(u32, Vec<String>)> {
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut line = 1u32;
    let mut row_line = 1u32;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    cell.push(' ');
                }
                other => cell.push(other),
            }
            continue;
        }
        match c {
            '=' if at_start && chars.peek() == Some(&'"') => {
                chars.next();
                quoted = true;
                at_start = false;
            }
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ';' => {
                cells.push(clean_text(&std::mem::take(&mut cell)));
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                cells.push(clean_text(&std::mem::take(&mut cell)));
                if cells.iter().any(|cell| !cell.is_empty()) {
                    rows.push((row_line, std::mem::take(&mut cells)));
                }
                cells.clear();
                line += 1;
                row_line = line;
                at_start = true;
            }
            other => {
                cell.push(other);
                at_start = false;
            }
        }
    }
    cells.push(clean_text(&cell));
    if cells.iter().any(|cell| !cell.is_empty()) {
        rows.push((row_line, cells));
    }
    rows
}

/// The recipient's partner: by Gemeindekennziffer (AGS), else by name.
fn partner_of<'p>(partners: &'p [Partner], ags: Option<&str>, name: Option<&str>) -> Option<&'p Partner> {
    let ags = ags.and_then(|text| Ags::parse(text).ok());
    ags.and_then(|ags| partners.iter().find(|partner| partner.ags.as_ref() == Some(&ags)))
        .or_else(|| name.and_then(|name| partners.iter().find(|partner| partner.is_named(name))))
}

/// Parses a whole export (the connector's core, also for tests).
pub fn parse(
    config: &Config,
    bytes: &[u8],
    file: &str,
    partners: &[Partner],
    out: &mut Output<'_>,
) -> Result<Summary, FundingError> {
    let text = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, length)) => encoding.decode_without_bom_handling(&bytes[length..]).0,
        None => config.encoding.decode_without_bom_handling(bytes).0,
    };
    let mut batcher = Batcher::new(config.batch_size, out);
    let program = FundingProgram {
        id: config.program.clone(),
        origin: Origin::new(config.program.clone()).with_url(PORTAL),
        name: config.program_name.clone(),
        legal_basis: None,
        period_start: None,
        period_end: None,
        deadlines: Vec::new(),
        measures: Vec::new(),
        measure_names: Default::default(),
    };
    batcher.record(Record::FundingProgram(program), file, "program")?;

    let mut header: Option<Header> = None;
    let (mut bookkeeping, mut undisclosed, mut not_partners) = (0u64, 0u64, 0u64);
    for (line, cells) in rows(&text) {
        let is_header = cells.first().is_some_and(|first| squeeze(first) == "fkz");
        if is_header {
            // A second header (exports appended to each other) is skipped like the first.
            if header.is_none() {
                let resolved = Header::resolve(&cells);
                let missing: Vec<&str> = [
                    (Column::Recipient, "Förderempfänger /Auftragnehmer"),
                    (Column::Amount, "Förder- / Auftragssumme (Anteil des Bundes) in EUR"),
                ]
                .iter()
                .filter(|(column, _)| !resolved.columns.contains_key(column))
                .map(|(_, name)| *name)
                .collect();
                if !missing.is_empty() {
                    return Err(FundingError::Parse {
                        location: format!("{file}, line {line}"),
                        message: format!("not a Förderkatalog export: the header lacks {}", missing.join(", ")),
                    });
                }
                header = Some(resolved);
            }
            continue;
        }
        // Lines before the header (a title, a search summary) are not data.
        let Some(header) = &header else { continue };
        let location = format!("{file}, line {line}");
        let reject = |field: Column, value: Option<&str>, message: String| Rejection {
            location: location.clone(),
            field: Some(header.name(field)),
            value: value.map(str::to_owned),
            message,
        };
        let topic = header.get(&cells, Column::Topic);
        if topic.is_some_and(|topic| topic.to_lowercase().contains("nur zum zweck der auszahlung")) {
            bookkeeping += 1;
            continue;
        }
        let Some(fkz) = header.get(&cells, Column::Fkz) else {
            batcher.reject(reject(Column::Fkz, None, "the row has no FKZ".into()))?;
            continue;
        };
        let recipient = header.get(&cells, Column::Recipient);
        let partner = partner_of(partners, header.get(&cells, Column::Ags), recipient);
        if partner.is_none() && config.only_partners {
            not_partners += 1;
            continue;
        }
        let approved = match header.get(&cells, Column::Amount).map(|text| (text, de::parse_amount(text))) {
            None => None,
            Some((_, Ok(amount))) if amount.0 == 0 => {
                undisclosed += 1;
                None
            }
            Some((_, Ok(amount))) => Some(amount),
            Some((text, Err(error))) => {
                batcher.reject(reject(Column::Amount, Some(text), error.to_string()))?;
                continue;
            }
        };
        let mut dates = [None, None];
        let mut bad_date = None;
        for (slot, column) in dates.iter_mut().zip([Column::From, Column::To]) {
            if let Some(text) = header.get(&cells, column) {
                match de::parse_date(text) {
                    Ok(date) => *slot = Some(date),
                    Err(error) => bad_date = Some(reject(column, Some(text), error.to_string())),
                }
            }
        }
        if let Some(rejection) = bad_date {
            batcher.reject(rejection)?;
            continue;
        }
        let application = FundingApplication {
            id: EntityKind::FundingApplication.public_id(&config.program, fkz),
            origin: Origin::new(fkz).with_url(PORTAL),
            program_id: config.program.clone(),
            reference: fkz.to_owned(),
            partner: partner.map(|partner| partner.slug.clone()),
            recipient_name: recipient.map(str::to_owned),
            school_ids: Vec::new(),
            // The Leistungsplansystematik code classifies a federal grant as a measure does a DigitalPakt one.
            measure: header.get(&cells, Column::LpCode).map(str::to_owned),
            title: topic.map(str::to_owned),
            requested: None,
            approved,
            disbursed: None,
            status: ApplicationStatus::Approved,
            submitted_on: None,
            approved_on: None,
            period_start: dates[0],
            period_end: dates[1],
            disbursements: Vec::new(),
        };
        batcher.record(Record::FundingApplication(application), &location, "FKZ")?;
    }
    if header.is_none() {
        return Err(FundingError::Parse {
            location: file.to_owned(),
            message: "no header row starting with FKZ: not a Förderkatalog CSV export".to_owned(),
        });
    }
    let summary = batcher.summary();
    summary.skipped = bookkeeping + not_partners;
    summary.notes.push(format!("{bookkeeping} bookkeeping row(s) (nur zum Zweck der Auszahlung) skipped"));
    if config.only_partners {
        summary.notes.push(format!("{not_partners} grant(s) to recipients that are no partner skipped"));
    }
    summary.notes.push(format!("{undisclosed} grant(s) without a disclosed amount"));
    batcher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_wrapped_cells_with_semicolons_and_quotes() {
        let parsed = rows("=\"FKZ\";=\"Thema\"\r\n=\"01AB\";=\"Teil 1; \"\"WLAN\"\"\"\n\n\"x\";y\n");
        assert_eq!(parsed[0], (1, vec!["FKZ".to_owned(), "Thema".to_owned()]));
        assert_eq!(parsed[1], (2, vec!["01AB".to_owned(), "Teil 1; \"WLAN\"".to_owned()]));
        assert_eq!(parsed[2], (4, vec!["x".to_owned(), "y".to_owned()]));
    }
}

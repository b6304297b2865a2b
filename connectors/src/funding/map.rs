//! A source record, whatever its format, → a unified funding record.
//!
//! XML, JSON and tables each fill a [`Raw`]: the values found for every mapped field (as spreadsheet [`Cell`]s, so
//! the spreadsheet's coercion serves all formats) and the disbursements. [`Mapping::map`] turns it into a program,
//! budget or application, or a [`Problem`] naming the field.

use std::collections::HashSet;
use std::sync::Arc;

use super::config::{Config, Field, Target};
use super::programs::ProgramInfo;
use crate::de;
use crate::model::{
    ids, ApplicationStatus, Cents, Disbursement, EntityKind, FundingApplication, FundingBudget, FundingProgram, Origin,
    Partner, Record,
};
use crate::spreadsheet::coerce::{cell_text, coerce, has_text, FieldKind, Value};
use crate::spreadsheet::reader::Cell;

/// One disbursement (Auszahlung) as found.
#[derive(Debug, Clone, Default)]
pub struct RawDisbursement {
    pub date: Option<Cell>,
    pub amount: Option<Cell>,
    /// Where it is inside the record ("Auszahlungen/Auszahlung[2]", "column M").
    pub place: Arc<str>,
}

/// Where a record is in its source. An XML record's is written out only for a reject or a warning: formatting it
/// for every record cost more than mapping some of its fields.
#[derive(Debug, Clone)]
pub enum Location {
    /// File + sheet + row, or URL + JSON pointer.
    Text(String),
    /// The `index`th record element (from 1) at `record_path` in `file`: "file.xml, /Antraege/Antrag[3]".
    Element { file: Arc<str>, record_path: Arc<str>, index: u64 },
}

impl From<String> for Location {
    fn from(text: String) -> Self {
        Location::Text(text)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Text(text) => f.write_str(text),
            Location::Element { file, record_path, index } => write!(f, "{file}, /{record_path}[{index}]"),
        }
    }
}

/// One source record before mapping.
#[derive(Debug, Clone)]
pub struct Raw {
    /// File + sheet + row, file + element path, or URL + JSON pointer.
    pub location: Location,
    /// Per [`Field::index`]: every value found (repeated elements, array items); empty when absent.
    pub values: Vec<Vec<Cell>>,
    /// Per field: where its value sits inside the record, appended to the location of a reject ("column C"). Shared,
    /// so a reader builds it once per document instead of once per record.
    pub places: Vec<Option<Arc<str>>>,
    pub disbursements: Vec<RawDisbursement>,
}

impl Raw {
    pub fn new(location: impl Into<Location>) -> Self {
        Raw {
            location: location.into(),
            values: vec![Vec::new(); Field::COUNT],
            places: vec![None; Field::COUNT],
            disbursements: vec![],
        }
    }

    fn first(&self, field: Field) -> Option<&Cell> {
        self.values[field.index()].iter().find(|cell| has_text(cell))
    }
}

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The config name of the field ("measure", "disbursements[1].amount").
    pub field: String,
    pub value: Option<String>,
    pub message: String,
    /// Where inside the record, if known.
    pub place: Option<String>,
}

/// What a record is mapped with.
pub struct Mapping<'a> {
    pub config: &'a Config,
    /// The programs of the programs file; `None` when no file is configured (measures are then not checked).
    pub programs: Option<&'a [ProgramInfo]>,
    /// The connector's partner: the owner of records whose source names none.
    pub partner: &'a Partner,
    pub partners: &'a [Partner],
    pub source_url: Option<&'a str>,
}

impl Mapping<'_> {
    fn problem(&self, raw: &Raw, field: Field, value: Option<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.name().to_owned(),
            value,
            message: message.into(),
            place: raw.places[field.index()].as_deref().map(str::to_owned),
        }
    }

    fn text(&self, raw: &Raw, field: Field) -> Option<String> {
        raw.first(field).and_then(|cell| match cell {
            Cell::Date(date) => Some(date.format("%Y-%m-%d").to_string()),
            other => cell_text(other),
        })
    }

    fn date(&self, raw: &Raw, field: Field) -> Result<Option<chrono::NaiveDate>, Problem> {
        let Some(cell) = raw.first(field) else { return Ok(None) };
        match coerce(cell, FieldKind::Date) {
            Ok(Some(Value::Date(date))) => Ok(Some(date)),
            Ok(_) => Ok(None),
            Err(error) => Err(self.problem(raw, field, cell_text(cell), error.0)),
        }
    }

    fn amount(&self, raw: &Raw, field: Field) -> Result<Option<Cents>, Problem> {
        let Some(cell) = raw.first(field) else { return Ok(None) };
        amount(cell).map_err(|message| self.problem(raw, field, cell_text(cell), message))
    }

    /// The record's program; borrowed from the programs file (cloning its measures per record cost a third of the
    /// mapping time in bench_funding_xml).
    fn program(&self, raw: &Raw) -> Result<(String, std::borrow::Cow<'_, ProgramInfo>), Problem> {
        let slug = match self.text(raw, Field::Program).or_else(|| self.config.program.clone()) {
            Some(slug) => slug,
            None => return Err(self.problem(raw, Field::Program, None, "the record names no program")),
        };
        match self.programs {
            None => Ok((slug.clone(), std::borrow::Cow::Owned(ProgramInfo { id: slug, ..ProgramInfo::default() }))),
            Some(programs) => match programs.iter().find(|program| program.id == slug) {
                Some(program) => Ok((slug, std::borrow::Cow::Borrowed(program))),
                None => Err(self.problem(
                    raw,
                    Field::Program,
                    Some(slug.clone()),
                    format!("`{slug}` is not a program of the programs file"),
                )),
            },
        }
    }

    /// The partner the record names (slug, AGS or name), the connector's partner when no partner field is mapped.
    fn partner(&self, raw: &Raw, warn: &mut dyn FnMut(String)) -> Result<(Option<String>, Option<String>), Problem> {
        let name = self.text(raw, Field::PartnerName);
        if let Some(slug) = self.text(raw, Field::Partner) {
            return match self.partners.iter().find(|partner| partner.slug == slug) {
                Some(partner) => Ok((Some(partner.slug.clone()), name)),
                None => Err(self.problem(raw, Field::Partner, Some(slug.clone()), format!("no partner `{slug}`"))),
            };
        }
        if let Some(ags) = self.text(raw, Field::PartnerAgs) {
            let parsed = crate::model::Ags::parse(&ags)
                .map_err(|message| self.problem(raw, Field::PartnerAgs, Some(ags.clone()), message))?;
            if let Some(partner) = self.partners.iter().find(|partner| partner.ags.as_ref() == Some(&parsed)) {
                return Ok((Some(partner.slug.clone()), name));
            }
        }
        if let Some(name) = &name {
            if let Some(partner) = self.partners.iter().find(|partner| partner.is_named(name)) {
                return Ok((Some(partner.slug.clone()), Some(name.clone())));
            }
        }
        let mapped = [Field::Partner, Field::PartnerAgs, Field::PartnerName]
            .iter()
            .any(|field| self.config.spec(*field).is_some());
        if !mapped {
            return Ok((Some(self.partner.slug.clone()), name));
        }
        if let Some(name) = &name {
            warn(format!("recipient without partner: {name}"));
        }
        Ok((None, name))
    }

    fn school_numbers(&self, raw: &Raw, field: Field) -> Result<Vec<String>, Problem> {
        let mut ids = Vec::new();
        for cell in &raw.values[field.index()] {
            let parts: Vec<Cell> = match cell {
                Cell::Text(text) => text
                    .split([',', ';', '/', '\n'])
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| Cell::Text(part.to_owned()))
                    .collect(),
                other => vec![other.clone()],
            };
            for part in parts {
                match coerce(&part, FieldKind::Digits) {
                    Ok(Some(value)) => {
                        let id = ids::school_id(&self.config.state, &value.to_text());
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    Ok(None) => {}
                    Err(error) => return Err(self.problem(raw, field, cell_text(&part), error.0)),
                }
            }
        }
        Ok(ids)
    }

    fn origin(&self, key: String) -> Origin {
        match self.source_url {
            Some(url) => Origin::new(key).with_url(url),
            None => Origin::new(key),
        }
    }

    /// Maps one record. `warn` receives facts worth a warning that do not cost the record.
    pub fn map(&self, raw: &Raw, warn: &mut dyn FnMut(String)) -> Result<Record, Problem> {
        match self.config.target {
            Target::FundingProgram => self.program_record(raw),
            Target::FundingBudget => self.budget(raw, warn),
            Target::FundingApplication => self.application(raw, warn),
        }
    }

    fn program_record(&self, raw: &Raw) -> Result<Record, Problem> {
        let id = self.text(raw, Field::Id).ok_or_else(|| self.problem(raw, Field::Id, None, "empty"))?;
        if !ids::is_url_safe(&id) {
            return Err(self.problem(raw, Field::Id, Some(id), "a program id is a slug: letters, digits, - _ ."));
        }
        let name = self.text(raw, Field::Name).ok_or_else(|| self.problem(raw, Field::Name, None, "empty"))?;
        let mut measures: Vec<String> = Vec::new();
        for cell in &raw.values[Field::Measures.index()] {
            for code in cell_text(cell).unwrap_or_default().split([',', ';']).map(str::trim) {
                if !code.is_empty() && !measures.iter().any(|known| known == code) {
                    measures.push(code.to_owned());
                }
            }
        }
        Ok(Record::FundingProgram(FundingProgram {
            origin: self.origin(id.clone()),
            id,
            name,
            legal_basis: self.text(raw, Field::LegalBasis),
            period_start: self.date(raw, Field::PeriodStart)?,
            period_end: self.date(raw, Field::PeriodEnd)?,
            deadlines: Vec::new(),
            measures,
            measure_names: Default::default(),
        }))
    }

    fn budget(&self, raw: &Raw, warn: &mut dyn FnMut(String)) -> Result<Record, Problem> {
        let (program, _) = self.program(raw)?;
        let amount = self.amount(raw, Field::Amount)?.ok_or_else(|| self.problem(raw, Field::Amount, None, "empty"))?;
        let (partner, name) = self.partner(raw, warn)?;
        let school_id = self.school_numbers(raw, Field::SchoolNumber)?.into_iter().next();
        let key = match self.text(raw, Field::Key) {
            Some(key) => key,
            None => {
                let owner = partner.clone().or(name).ok_or_else(|| {
                    self.problem(raw, Field::PartnerName, None, "a budget needs a Schulträger (or map `fields.key`)")
                })?;
                match &school_id {
                    Some(school) => format!("{program}/{owner}/{school}"),
                    None => format!("{program}/{owner}"),
                }
            }
        };
        Ok(Record::FundingBudget(FundingBudget {
            id: EntityKind::FundingBudget.public_id(&program, &key),
            origin: self.origin(key),
            program_id: program,
            partner,
            school_id,
            amount,
            basis: self.text(raw, Field::Basis),
        }))
    }

    fn application(&self, raw: &Raw, warn: &mut dyn FnMut(String)) -> Result<Record, Problem> {
        let (program, info) = self.program(raw)?;
        let reference =
            self.text(raw, Field::Reference).ok_or_else(|| self.problem(raw, Field::Reference, None, "empty"))?;
        let (partner, partner_name) = self.partner(raw, warn)?;
        let measure = match self.text(raw, Field::Measure) {
            None => None,
            Some(text) => info
                .resolve_measure(&text)
                .map_err(|message| self.problem(raw, Field::Measure, Some(text.clone()), message))?,
        };
        let requested = self.amount(raw, Field::Requested)?;
        let approved = self.amount(raw, Field::Approved)?;
        let mut disbursements = Vec::new();
        for (index, item) in raw.disbursements.iter().enumerate() {
            let at = |key: &str| format!("disbursements[{index}].{key}");
            let problem = |key: &str, cell: Option<&Cell>, message: String| Problem {
                field: at(key),
                value: cell.and_then(cell_text),
                message,
                place: Some(item.place.to_string()),
            };
            let date = match &item.date {
                None => None,
                Some(cell) => match coerce(cell, FieldKind::Date) {
                    Ok(Some(Value::Date(date))) => Some(date),
                    Ok(_) => None,
                    Err(error) => return Err(problem("date", Some(cell), error.0)),
                },
            };
            let amount = match &item.amount {
                None => None,
                Some(cell) => amount(cell).map_err(|message| problem("amount", Some(cell), message))?,
            };
            match (date, amount) {
                (_, Some(amount)) => disbursements.push(Disbursement { date, amount }),
                (Some(_), None) => {
                    return Err(problem("amount", None, "a disbursement with a date needs an amount".into()))
                }
                (None, None) => {}
            }
        }
        let sum = Cents(disbursements.iter().map(|item| item.amount.0).sum());
        let disbursed = match self.amount(raw, Field::Disbursed)? {
            Some(total) => {
                if !disbursements.is_empty() && total != sum {
                    warn(format!("{}: disbursed {total} but the disbursements add up to {sum}", raw.location));
                }
                Some(total)
            }
            None if !disbursements.is_empty() => Some(sum),
            None => None,
        };
        if let (Some(requested), Some(approved)) = (requested, approved) {
            if approved > requested {
                return Err(self.problem(
                    raw,
                    Field::Approved,
                    Some(approved.to_string()),
                    format!("approved {approved} is more than requested {requested}"),
                ));
            }
        }
        if let (Some(approved), Some(disbursed)) = (approved, disbursed) {
            if disbursed > approved {
                return Err(self.problem(
                    raw,
                    Field::Disbursed,
                    Some(disbursed.to_string()),
                    format!("disbursed {disbursed} is more than approved {approved}"),
                ));
            }
        }
        let status = match self.text(raw, Field::Status) {
            Some(text) => status_from_text(&text).unwrap_or_else(|| {
                warn(format!("unknown application status `{text}` (taken as unknown)"));
                ApplicationStatus::Unknown
            }),
            None => derived_status(requested, approved, disbursed),
        };
        let recipient_name = self.text(raw, Field::RecipientName).or(partner_name);
        Ok(Record::FundingApplication(FundingApplication {
            id: EntityKind::FundingApplication.public_id(&program, &reference),
            origin: self.origin(reference.clone()),
            program_id: program,
            reference,
            partner,
            recipient_name,
            school_ids: self.school_numbers(raw, Field::SchoolNumbers)?,
            measure,
            title: self.text(raw, Field::Title),
            requested,
            approved,
            disbursed,
            status,
            submitted_on: self.date(raw, Field::SubmittedOn)?,
            approved_on: self.date(raw, Field::ApprovedOn)?,
            period_start: self.date(raw, Field::PeriodStart)?,
            period_end: self.date(raw, Field::PeriodEnd)?,
            disbursements,
        }))
    }
}

/// An amount of euros in a cell: a number cell (XLSX, JSON) or German text ("245.341,00 €").
pub fn amount(cell: &Cell) -> Result<Option<Cents>, String> {
    match cell {
        Cell::Empty => Ok(None),
        // Rounded to the cent: 0.1 + 0.2 style float noise must not cost a cent.
        Cell::Number(euros) if euros.is_finite() && euros.abs() < 1e13 => {
            Ok(Some(Cents((euros * 100.0).round() as i64)))
        }
        Cell::Number(euros) => Err(format!("`{euros}` is not an amount of money")),
        Cell::Integer(euros) => {
            euros.checked_mul(100).map(|cents| Some(Cents(cents))).ok_or_else(|| format!("`{euros}` is too large"))
        }
        Cell::Text(text) => {
            let text = crate::spreadsheet::coerce::clean_text_borrowed(text);
            if text.is_empty() {
                return Ok(None);
            }
            de::parse_amount(&text).map(Some).map_err(|error| error.to_string())
        }
        Cell::Date(_) | Cell::Bool(_) => {
            Err(format!("`{}` is not an amount of money", cell_text(cell).unwrap_or_default()))
        }
        Cell::Error(error) => Err(format!("the cell shows the error {error}")),
    }
}

/// A status as German exports write it ("bewilligt", "teilweise ausgezahlt") or as the API names it.
pub fn status_from_text(text: &str) -> Option<ApplicationStatus> {
    let lower = text.trim().to_lowercase().replace(['_', '-'], " ");
    let has = |word: &str| lower.contains(word);
    Some(if has("teil") && has("ausgezahlt") || has("teilauszahlung") || lower == "partially disbursed" {
        ApplicationStatus::PartiallyDisbursed
    } else if has("ausgezahlt") || has("schlusszahlung") || has("abgeschlossen") || lower == "disbursed" {
        ApplicationStatus::Disbursed
    } else if has("abgelehnt") || lower == "rejected" {
        ApplicationStatus::Rejected
    } else if has("zurückgezogen") || has("zurueckgezogen") || has("zurückgenommen") || lower == "withdrawn" {
        ApplicationStatus::Withdrawn
    } else if has("bewillig") || lower == "approved" {
        ApplicationStatus::Approved
    } else if has("entwurf") || lower == "draft" {
        ApplicationStatus::Draft
    } else if has("eingereicht")
        || has("eingegangen")
        || has("beantragt")
        || has("in prüfung")
        || has("in bearbeitung")
        || lower == "submitted"
    {
        ApplicationStatus::Submitted
    } else if lower == "unknown" || lower == "unbekannt" {
        ApplicationStatus::Unknown
    } else {
        return None;
    })
}

/// The status the amounts imply when the source has no status column.
fn derived_status(requested: Option<Cents>, approved: Option<Cents>, disbursed: Option<Cents>) -> ApplicationStatus {
    match (requested, approved, disbursed) {
        (_, Some(approved), Some(disbursed)) if disbursed.0 > 0 && disbursed >= approved => {
            ApplicationStatus::Disbursed
        }
        (_, _, Some(disbursed)) if disbursed.0 > 0 => ApplicationStatus::PartiallyDisbursed,
        (_, Some(_), _) => ApplicationStatus::Approved,
        (Some(_), None, _) => ApplicationStatus::Submitted,
        _ => ApplicationStatus::Unknown,
    }
}

/// Deduplicates warnings: one unmatched Schulträger in 500 rows is one warning.
#[derive(Default)]
pub struct Warnings {
    seen: HashSet<String>,
}

impl Warnings {
    pub fn first_time(&mut self, message: &str) -> bool {
        self.seen.insert(message.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_from_cells() {
        assert_eq!(amount(&Cell::Number(245341.0)), Ok(Some(Cents(24_534_100))));
        assert_eq!(amount(&Cell::Number(0.1 + 0.2)), Ok(Some(Cents(30))));
        assert_eq!(amount(&Cell::Integer(30000)), Ok(Some(Cents(3_000_000))));
        assert_eq!(amount(&Cell::Text("=\"1.234,56\"".into())), Ok(Some(Cents(123_456))));
        assert_eq!(amount(&Cell::Text("  ".into())), Ok(None));
        assert!(amount(&Cell::Text("zehn".into())).is_err());
    }

    #[test]
    fn statuses_in_german() {
        assert_eq!(status_from_text("Bewilligt"), Some(ApplicationStatus::Approved));
        assert_eq!(status_from_text("teilweise ausgezahlt"), Some(ApplicationStatus::PartiallyDisbursed));
        assert_eq!(status_from_text("ausgezahlt"), Some(ApplicationStatus::Disbursed));
        assert_eq!(status_from_text("In Prüfung"), Some(ApplicationStatus::Submitted));
        assert_eq!(status_from_text("partially_disbursed"), Some(ApplicationStatus::PartiallyDisbursed));
        assert_eq!(status_from_text("vertagt"), None);
        assert_eq!(derived_status(Some(Cents(10)), Some(Cents(10)), Some(Cents(10))), ApplicationStatus::Disbursed);
        assert_eq!(derived_status(Some(Cents(10)), None, None), ApplicationStatus::Submitted);
    }
}

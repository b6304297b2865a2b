//! Rows → records: finds the header row, coerces the mapped cells, rejects bad rows with their place, and builds
//! `school`, `media_concept` or `equipment` records.
//!
//! One school may fill several rows (one per Schulgliederung). Those rows usually sit together, so a school goes out
//! once [`SCHOOL_WINDOW`] rows have passed since its last row: the store writes while the rest of the sheet is read.
//! Rows need not be adjacent, though: every school stays gathered (packed, one string per school, so 100,000 rows
//! stay small) until the sheet ends, a later row is still checked against it and merged, and a school that a later
//! row changed goes out again (the store keeps the last version a run sends and counts the school once). Media
//! concepts and equipment are one record per row and go out in batches as they come.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use super::coerce::{cell_text, coerce, Value};
use super::config::{header_key, is_state_code, ColumnSpec, Config, Field, Target};
use super::reader::{Cell, Row, RowHandler};
use super::school_type::{classify, Classification};
use super::write::column_letters;
use super::SpreadsheetError;
use crate::connector::Rejection;
use crate::model::{
    ids, Address, Contact, EntityKind, Equipment, MediaConcept, MediaConceptStatus, Origin, Partner, Record, School,
    SchoolType,
};

/// What the mapper hands on.
#[derive(Debug)]
pub enum Event {
    Records(Vec<Record>),
    Reject(Rejection),
    Warn(String),
}

/// Where events go: a channel to the async side, or a collector in tests.
pub type Output<'o> = dyn FnMut(Event) -> Result<(), SpreadsheetError> + 'o;

/// Rows to look at for the header before giving up.
const HEADER_SEARCH_ROWS: u32 = 30;

/// A school is sent once this many rows have passed since its last row (see the module comment).
const SCHOOL_WINDOW: u32 = 1_000;

/// A mapped column found in the header row.
#[derive(Debug, Clone)]
struct Resolved {
    field: Field,
    column: usize,
    /// The header as the sheet writes it.
    header: String,
}

/// One problem with one cell of a row.
struct Problem {
    field: Field,
    value: Option<String>,
    message: String,
}

/// Facts for the run summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub sheet: Option<String>,
    pub header_row: Option<u32>,
    pub rows: u64,
    pub records: u64,
    pub rejected: u64,
    pub notes: Vec<String>,
}

pub struct Mapper<'a> {
    config: &'a Config,
    file: String,
    sheet: Option<String>,
    partner_slug: String,
    partners: &'a [Partner],
    source_url: Option<String>,
    header: Option<Vec<Resolved>>,
    header_row: Option<u32>,
    width: Option<usize>,
    /// The row that held the most mapped headers while searching, for the error message.
    best_candidate: Option<(usize, Row)>,
    rows_searched: u32,
    schools: SchoolGatherer,
    /// School rows in sheet order, (school index, row): a school is due when its last row leaves the window.
    school_queue: VecDeque<(usize, u32)>,
    /// Schulträger name → partner slug, looked up once per name.
    links: HashMap<String, Option<String>>,
    seen: HashMap<String, (u64, u32)>,
    batch: Vec<Record>,
    out: &'a mut Output<'a>,
    summary: Summary,
}

impl<'a> Mapper<'a> {
    pub fn new(
        config: &'a Config,
        file: String,
        partner_slug: &str,
        partners: &'a [Partner],
        source_url: Option<String>,
        out: &'a mut Output<'a>,
    ) -> Self {
        Mapper {
            config,
            file,
            sheet: None,
            partner_slug: partner_slug.to_owned(),
            partners,
            source_url,
            header: None,
            header_row: None,
            width: None,
            best_candidate: None,
            rows_searched: 0,
            schools: SchoolGatherer::default(),
            school_queue: VecDeque::new(),
            links: HashMap::new(),
            seen: HashMap::new(),
            batch: Vec::with_capacity(config.batch_size),
            out,
            summary: Summary::default(),
        }
    }

    fn place(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("sheet `{sheet}`"),
            None => format!("`{}`", self.file),
        }
    }

    fn location(&self, row: u32, column: Option<usize>) -> String {
        let mut location = self.file.clone();
        if let Some(sheet) = &self.sheet {
            location.push_str(&format!(", sheet {sheet}"));
        }
        location.push_str(&format!(", row {row}"));
        if let Some(column) = column {
            location.push_str(&format!(", column {}", column_letters(column)));
        }
        location
    }

    fn resolved(&self, field: Field) -> Option<&Resolved> {
        let header = self.header.as_ref()?;
        header.iter().find(|resolved| resolved.field == field).or_else(|| {
            // Street, postcode and city may come from one address column.
            matches!(field, Field::Street | Field::Postcode | Field::City)
                .then(|| header.iter().find(|resolved| resolved.field == Field::Address))
                .flatten()
        })
    }

    /// Matches the config's columns against a row; returns the found columns and the specs not found.
    fn match_header<'c>(config: &'c Config, row: &Row) -> (Vec<Resolved>, Vec<&'c ColumnSpec>) {
        let keys: Vec<Option<String>> =
            row.cells.iter().map(|cell| cell_text(cell).map(|text| header_key(&text))).collect();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for spec in &config.columns {
            let column = spec
                .matchers
                .iter()
                .find_map(|matcher| keys.iter().position(|key| key.as_deref() == Some(matcher.as_str())));
            match column {
                Some(column) => found.push(Resolved {
                    field: spec.field,
                    column,
                    header: cell_text(&row.cells[column]).unwrap_or_default(),
                }),
                None => missing.push(spec),
            }
        }
        (found, missing)
    }

    fn missing_headers(&self, row: Option<&Row>, missing: &[&ColumnSpec]) -> SpreadsheetError {
        let wanted: Vec<String> = missing
            .iter()
            .map(|spec| {
                let names: Vec<String> = spec.names.iter().map(|name| format!("\"{name}\"")).collect();
                format!("columns.{} ({})", spec.field.name(), names.join(" or "))
            })
            .collect();
        let found = match row {
            Some(row) => {
                let headers: Vec<String> = row.cells.iter().filter_map(cell_text).collect();
                format!("the headers in row {} are: {}", row.number, headers.join(", "))
            }
            None => "the sheet has no rows".to_owned(),
        };
        SpreadsheetError::MissingHeaders(format!(
            "{}: no column found for {}; {found}",
            self.place(),
            wanted.join(", ")
        ))
    }

    fn take_header(&mut self, row: &Row) -> Result<bool, SpreadsheetError> {
        let config = self.config;
        let (found, missing) = Self::match_header(config, row);
        if missing.is_empty() {
            self.width = found.iter().map(|resolved| resolved.column + 1).max();
            self.header = Some(found);
            self.header_row = Some(row.number);
            tracing::debug!(file = %self.file, row = row.number, "header row found");
            return Ok(true);
        }
        match config.header_row {
            Some(_) => Err(self.missing_headers(Some(row), &missing)),
            None => {
                if self.best_candidate.as_ref().is_none_or(|(count, _)| found.len() > *count) {
                    self.best_candidate = Some((found.len(), row.clone()));
                }
                self.rows_searched += 1;
                if self.rows_searched >= HEADER_SEARCH_ROWS {
                    return Err(self.header_not_found());
                }
                Ok(false)
            }
        }
    }

    fn header_not_found(&self) -> SpreadsheetError {
        let candidate = self.best_candidate.as_ref().map(|(_, row)| row);
        let missing: Vec<&ColumnSpec> = match candidate {
            Some(row) => Self::match_header(self.config, row).1,
            None => self.config.columns.iter().collect(),
        };
        self.missing_headers(candidate, &missing)
    }

    fn emit(&mut self, event: Event) -> Result<(), SpreadsheetError> {
        (self.out)(event)
    }

    fn push(&mut self, record: Record) -> Result<(), SpreadsheetError> {
        self.summary.records += 1;
        self.batch.push(record);
        if self.batch.len() >= self.config.batch_size {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.config.batch_size));
            self.emit(Event::Records(batch))?;
        }
        Ok(())
    }

    fn reject(&mut self, row: u32, problems: Vec<Problem>) -> Result<(), SpreadsheetError> {
        self.summary.rejected += 1;
        let Some(first) = problems.first() else { return Ok(()) };
        let resolved = self.resolved(first.field).cloned();
        let mut message = first.message.clone();
        for other in &problems[1..] {
            let place = match self.resolved(other.field) {
                Some(resolved) => format!("column {} ({})", column_letters(resolved.column), resolved.header),
                None => other.field.name().to_owned(),
            };
            message.push_str(&format!("; also {place}: {}", other.message));
        }
        let rejection = Rejection {
            location: self.location(row, resolved.as_ref().map(|resolved| resolved.column)),
            field: Some(resolved.map(|resolved| resolved.header).unwrap_or_else(|| first.field.name().to_owned())),
            value: first.value.clone(),
            message,
        };
        tracing::debug!(location = %rejection.location, message = %rejection.message, "row rejected");
        self.emit(Event::Reject(rejection))
    }

    fn data_row(&mut self, row: Row) -> Result<(), SpreadsheetError> {
        let Some(header) = self.header.as_ref() else { return Ok(()) };
        let mut values: [Option<Value>; Field::COUNT] = std::array::from_fn(|_| None);
        let mut problems = Vec::new();
        let mut any = false;
        for resolved in header {
            let cell = row.cells.get(resolved.column).unwrap_or(&Cell::Empty);
            match coerce(cell, resolved.field.kind()) {
                Ok(Some(value)) => {
                    any = true;
                    values[resolved.field.index()] = Some(value);
                }
                Ok(None) => {}
                Err(error) => {
                    any = true;
                    problems.push(Problem { field: resolved.field, value: cell_text(cell), message: error.0 });
                }
            }
        }
        if !any {
            return Ok(());
        }
        self.summary.rows += 1;
        for (field, value) in &self.config.constants {
            values[field.index()] = Some(value.clone());
        }
        if let Some(Value::Text(state)) = &values[Field::State.index()] {
            if is_state_code(state) {
                values[Field::State.index()] = Some(Value::Text(state.to_ascii_uppercase()));
            } else {
                problems.push(Problem {
                    field: Field::State,
                    value: Some(state.clone()),
                    message: "not a two-letter state code such as NI".to_owned(),
                });
            }
        }
        for field in self.config.target.required() {
            if values[field.index()].is_none() && !problems.iter().any(|problem| problem.field == *field) {
                problems.push(Problem {
                    field: *field,
                    value: None,
                    message: format!("no value for {}", field.name()),
                });
            }
        }
        if !problems.is_empty() {
            // Keep the sheet's column order in the message.
            problems.sort_by_key(|problem| self.resolved(problem.field).map(|resolved| resolved.column));
            return self.reject(row.number, problems);
        }
        match self.config.target {
            Target::School => self.school_row(row.number, values),
            Target::MediaConcept => match media_concept(&values) {
                Ok(build) => self.single(row.number, values, build),
                Err(problem) => self.reject(row.number, vec![problem]),
            },
            Target::Equipment => match equipment(&values) {
                Ok(build) => self.single(row.number, values, build),
                Err(problem) => self.reject(row.number, vec![problem]),
            },
        }
    }

    fn school_row(&mut self, row: u32, mut values: [Option<Value>; Field::COUNT]) -> Result<(), SpreadsheetError> {
        if let Some(Value::Text(address)) = values[Field::Address.index()].take() {
            let (street, postcode, city) = split_address(&address);
            values[Field::Street.index()] = street.map(Value::Text);
            values[Field::Postcode.index()] = postcode.map(Value::Text);
            values[Field::City.index()] = city.map(Value::Text);
        }
        let number = text_of(&values, Field::SchoolNumber);
        let id = ids::school_id(&text_of(&values, Field::State), &number);
        let school_type = values[Field::SchoolType.index()].as_ref().map(Value::to_text);
        match self.schools.add(id, row, &values, school_type) {
            Ok(index) => {
                self.school_queue.push_back((index, row));
                self.send_due_schools(row)
            }
            Err(conflict) => {
                let first_row = conflict.first_row;
                let header = self
                    .resolved(conflict.field)
                    .map(|resolved| resolved.header.clone())
                    .unwrap_or_else(|| conflict.field.name().to_owned());
                let message = format!(
                    "Schulnummer {number} is already in row {first_row} with {header} `{}`; this row says `{}`",
                    conflict.old, conflict.new
                );
                self.reject(row, vec![Problem { field: conflict.field, value: Some(conflict.new), message }])
            }
        }
    }

    /// Sends the schools whose last row is [`SCHOOL_WINDOW`] rows behind `row` and that have changed since they were
    /// last sent.
    fn send_due_schools(&mut self, row: u32) -> Result<(), SpreadsheetError> {
        while let Some(&(index, last_row)) = self.school_queue.front() {
            if last_row.saturating_add(SCHOOL_WINDOW) > row {
                break;
            }
            self.school_queue.pop_front();
            let pending = &self.schools.pending[index];
            // A later entry of the same school is still in the queue: that one decides.
            if pending.last_row == last_row && pending.unsent {
                self.send_school(index)?;
            }
        }
        Ok(())
    }

    fn send_school(&mut self, index: usize) -> Result<(), SpreadsheetError> {
        let school = build_school(&self.schools, index, &mut self.links, self.partners, &self.source_url);
        self.schools.pending[index].unsent = false;
        self.push(school.into())
    }

    /// One record per row: checks the key for repeats and sends the record.
    fn single(
        &mut self,
        row: u32,
        values: [Option<Value>; Field::COUNT],
        build: Single,
    ) -> Result<(), SpreadsheetError> {
        let school_id = ids::school_id(&text_of(&values, Field::State), &text_of(&values, Field::SchoolNumber));
        let mut source_key = school_id.clone();
        for field in &self.config.key {
            if !matches!(field, Field::SchoolNumber | Field::State) {
                let part = match (field, &build) {
                    (Field::Category, Single::Equipment { category, .. }) => category.clone(),
                    _ => text_of(&values, *field),
                };
                source_key.push('/');
                source_key.push_str(&part);
            }
        }
        let origin = Origin { source_key: source_key.clone(), source_url: self.source_url.clone() };
        let record: Record = match build {
            Single::MediaConcept { status } => MediaConcept {
                id: EntityKind::MediaConcept.public_id(&self.partner_slug, &source_key),
                origin,
                school_id,
                status,
                started_on: date_of(&values, Field::StartedOn),
                submitted_on: date_of(&values, Field::SubmittedOn),
                approved_on: date_of(&values, Field::ApprovedOn),
                version: values[Field::Version.index()].as_ref().map(Value::to_text),
            }
            .into(),
            Single::Equipment { category, count } => Equipment {
                id: EntityKind::Equipment.public_id(&self.partner_slug, &source_key),
                origin,
                school_id,
                category,
                count,
                as_of: date_of(&values, Field::AsOf),
            }
            .into(),
        };
        let fingerprint = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            serde_json::to_string(&record).unwrap_or_default().hash(&mut hasher);
            hasher.finish()
        };
        match self.seen.get(&source_key) {
            Some((seen, _)) if *seen == fingerprint => Ok(()),
            Some((_, first_row)) => {
                let key_field = if self.config.target == Target::Equipment { Field::Count } else { Field::Status };
                let first_row = *first_row;
                let value = values[key_field.index()].as_ref().map(Value::to_text);
                let message = format!("{source_key} is already in row {first_row} with other values");
                self.reject(row, vec![Problem { field: key_field, value, message }])
            }
            None => {
                self.seen.insert(source_key, (fingerprint, row));
                self.push(record)
            }
        }
    }

    /// Called once the sheet has ended.
    pub fn finish(mut self) -> Result<Summary, SpreadsheetError> {
        if self.header.is_none() {
            return Err(match self.config.header_row {
                Some(number) if self.best_candidate.is_none() => SpreadsheetError::MissingHeaders(format!(
                    "{}: header row {number} is empty or beyond the end of the sheet",
                    self.place()
                )),
                _ => self.header_not_found(),
            });
        }
        if self.config.target == Target::School {
            // The schools not sent yet (or changed since), in the order the sheet first names them.
            self.school_queue.clear();
            for index in 0..self.schools.pending.len() {
                if self.schools.pending[index].unsent {
                    self.send_school(index)?;
                }
            }
            let count = self.schools.pending.len() as u64;
            // A school sent twice is one record.
            self.summary.records = count;
            let mut unlinked: BTreeMap<String, u32> = BTreeMap::new();
            let mut unknown_types: BTreeMap<String, u32> = BTreeMap::new();
            for pending in &self.schools.pending {
                for type_id in &pending.types {
                    if !self.schools.classes[*type_id as usize].known {
                        *unknown_types.entry(self.schools.type_names[*type_id as usize].clone()).or_default() += 1;
                    }
                }
                if let Some(name) = packed_field(&pending.packed, Field::Traeger) {
                    if self.links.get(name).is_some_and(Option::is_none) {
                        *unlinked.entry(name.to_owned()).or_default() += 1;
                    }
                }
            }
            for (raw, schools) in &unknown_types {
                self.emit(Event::Warn(format!(
                    "unknown school type `{raw}` ({schools} school{}) mapped to `other`",
                    if *schools == 1 { "" } else { "s" }
                )))?;
            }
            self.summary.notes.push(format!("{} rows, {count} schools", self.summary.rows));
            if !unlinked.is_empty() {
                let names: Vec<String> = unlinked
                    .iter()
                    .map(|(name, schools)| format!("{name} ({schools} school{})", if *schools == 1 { "" } else { "s" }))
                    .collect();
                self.summary.notes.push(format!("Schulträger without partner: {}", names.join(", ")));
            }
        } else {
            let records = self.summary.records;
            self.summary.notes.push(format!(
                "{} rows, {records} {} records",
                self.summary.rows,
                self.config.target.name()
            ));
        }
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.emit(Event::Records(batch))?;
        }
        if self.summary.rejected > 0 {
            self.summary.notes.push(format!("{} rows rejected", self.summary.rejected));
        }
        self.summary.sheet = self.sheet.clone();
        self.summary.header_row = self.header_row;
        Ok(self.summary)
    }
}

impl RowHandler for Mapper<'_> {
    fn sheet(&mut self, name: &str) {
        self.sheet = Some(name.to_owned());
    }

    fn row(&mut self, row: Row) -> Result<(), SpreadsheetError> {
        if row.is_blank() {
            return Ok(());
        }
        if self.header.is_some() {
            return self.data_row(row);
        }
        match self.config.header_row {
            Some(number) if row.number < number => Ok(()),
            Some(number) if row.number > number => {
                Err(SpreadsheetError::MissingHeaders(format!("{}: header row {number} is empty", self.place())))
            }
            _ => self.take_header(&row).map(|_| ()),
        }
    }

    fn width(&self) -> Option<usize> {
        self.width
    }
}

fn text_of(values: &[Option<Value>; Field::COUNT], field: Field) -> String {
    values[field.index()].as_ref().map(Value::to_text).unwrap_or_default()
}

fn date_of(values: &[Option<Value>; Field::COUNT], field: Field) -> Option<chrono::NaiveDate> {
    match &values[field.index()] {
        Some(Value::Date(date)) => Some(*date),
        _ => None,
    }
}

enum Single {
    MediaConcept { status: MediaConceptStatus },
    Equipment { category: String, count: i64 },
}

fn media_concept(values: &[Option<Value>; Field::COUNT]) -> Result<Single, Problem> {
    let text = text_of(values, Field::Status);
    match media_status(&text) {
        Some(status) => Ok(Single::MediaConcept { status }),
        None => Err(Problem {
            field: Field::Status,
            value: Some(text.clone()),
            message: format!("`{text}` is no media concept status (use e.g. keins, in Arbeit, eingereicht, genehmigt)"),
        }),
    }
}

/// German (and the code list's own) words for a Medienbildungskonzept's status.
pub fn media_status(text: &str) -> Option<MediaConceptStatus> {
    let key = header_key(text).replace('_', " ");
    let has = |words: &[&str]| words.iter().any(|word| key.contains(word));
    if key == "-" || key == "none" || key == "nein" || has(&["nicht", "kein", "fehlt", "offen"]) {
        Some(MediaConceptStatus::None)
    } else if has(&["genehmigt", "freigegeben", "abgenommen", "bestätigt", "approved", "anerkannt"]) {
        Some(MediaConceptStatus::Approved)
    } else if has(&["eingereicht", "vorgelegt", "submitted", "abgegeben"]) {
        Some(MediaConceptStatus::Submitted)
    } else if has(&["arbeit", "bearbeitung", "begonnen", "erstellung", "entwurf", "progress", "überarbeitung"]) {
        Some(MediaConceptStatus::InProgress)
    } else {
        None
    }
}

fn equipment(values: &[Option<Value>; Field::COUNT]) -> Result<Single, Problem> {
    let category = equipment_category(&text_of(values, Field::Category));
    match &values[Field::Count.index()] {
        Some(Value::Integer(count)) if *count >= 0 => Ok(Single::Equipment { category, count: *count }),
        other => Err(Problem {
            field: Field::Count,
            value: other.as_ref().map(Value::to_text),
            message: "a count must be 0 or more".to_owned(),
        }),
    }
}

/// An equipment category in the model's lower-case words: "WLAN-Accesspoints" → "wlan", "Notebooks" → "laptop".
pub fn equipment_category(text: &str) -> String {
    let key = header_key(text);
    let has = |words: &[&str]| words.iter().any(|word| key.contains(word));
    let known = if has(&["wlan", "wifi", "access point", "accesspoint"]) {
        Some("wlan")
    } else if has(&["display", "tafel", "whiteboard", "board"]) {
        Some("display")
    } else if has(&["laptop", "notebook"]) {
        Some("laptop")
    } else if has(&["tablet", "ipad"]) {
        Some("tablet")
    } else if has(&["beamer", "projektor", "projector"]) {
        Some("projector")
    } else if has(&["dokumentenkamera", "document camera"]) {
        Some("document_camera")
    } else if key == "pc" || key == "pcs" || has(&["desktop", "computer", "arbeitsplatzrechner"]) {
        Some("desktop")
    } else {
        None
    };
    if let Some(known) = known {
        return known.to_owned();
    }
    let mut slug = String::new();
    for c in key.chars() {
        match c {
            'ä' => slug.push_str("ae"),
            'ö' => slug.push_str("oe"),
            'ü' => slug.push_str("ue"),
            'ß' => slug.push_str("ss"),
            c if c.is_ascii_alphanumeric() => slug.push(c),
            _ if !slug.ends_with('_') => slug.push('_'),
            _ => {}
        }
    }
    slug.trim_matches('_').to_owned()
}

/// "Amtsweg 11, 29386 Hankensbüttel" → street, postcode, city. Without a postcode the whole text is the street.
pub fn split_address(address: &str) -> (Option<String>, Option<String>, Option<String>) {
    if let Some((street, place)) = address.rsplit_once(',') {
        let place = place.trim();
        if let Some((code, city)) = place.split_once(' ') {
            if code.len() == 5 && code.bytes().all(|byte| byte.is_ascii_digit()) {
                let street = street.trim();
                return (
                    (!street.is_empty()).then(|| street.to_owned()),
                    Some(code.to_owned()),
                    Some(city.trim().to_owned()),
                );
            }
        }
    }
    (Some(address.to_owned()), None, None)
}

/// The school fields kept per school, in packing order.
const SCHOOL_FIELDS: [Field; 15] = [
    Field::State,
    Field::Name,
    Field::LegalStatus,
    Field::Traeger,
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
];

/// Separates packed fields; cleaned cell text never holds control characters.
const SEPARATOR: char = '\u{1f}';

fn pack(values: &[Option<Value>; Field::COUNT]) -> String {
    let mut packed = String::new();
    for (index, field) in SCHOOL_FIELDS.iter().enumerate() {
        if index > 0 {
            packed.push(SEPARATOR);
        }
        if let Some(value) = &values[field.index()] {
            value.push_text(&mut packed);
        }
    }
    packed
}

fn unpack(packed: &str) -> Vec<&str> {
    packed.split(SEPARATOR).collect()
}

/// One field of a packed school; `None` when empty.
fn packed_field(packed: &str, field: Field) -> Option<&str> {
    let position = SCHOOL_FIELDS.iter().position(|f| *f == field)?;
    packed.split(SEPARATOR).nth(position).filter(|text| !text.is_empty())
}

/// The school record of a gathered school, as its rows so far describe it.
fn build_school(
    schools: &SchoolGatherer,
    index: usize,
    links: &mut HashMap<String, Option<String>>,
    partners: &[Partner],
    source_url: &Option<String>,
) -> School {
    let pending = &schools.pending[index];
    let fields = unpack(&pending.packed);
    let field = |field: Field| -> Option<String> {
        SCHOOL_FIELDS
            .iter()
            .position(|f| *f == field)
            .and_then(|index| fields.get(index))
            .filter(|text| !text.is_empty())
            .map(|text| (*text).to_owned())
    };
    let mut types: Vec<SchoolType> = Vec::new();
    let mut raw = Vec::new();
    for type_id in &pending.types {
        for kind in &schools.classes[*type_id as usize].types {
            if !types.contains(kind) {
                types.push(*kind);
            }
        }
        raw.push(schools.type_names[*type_id as usize].clone());
    }
    if types.is_empty() {
        types.push(SchoolType::Other);
    }
    let traeger_name = field(Field::Traeger);
    let traeger_partner = match &traeger_name {
        None => None,
        Some(name) => match links.get(name) {
            Some(link) => link.clone(),
            None => {
                let link = partners.iter().find(|partner| partner.is_named(name)).map(|p| p.slug.clone());
                links.insert(name.clone(), link.clone());
                link
            }
        },
    };
    let state = field(Field::State).unwrap_or_default();
    let school_number = pending.id.split_once('-').map(|(_, n)| n.to_owned()).unwrap_or_default();
    School {
        id: pending.id.clone(),
        origin: Origin { source_key: school_number.clone(), source_url: source_url.clone() },
        state,
        school_number,
        name: field(Field::Name).unwrap_or_default(),
        school_types_raw: raw,
        school_types: types,
        legal_status: field(Field::LegalStatus),
        traeger_name,
        traeger_partner,
        address: Address { street: field(Field::Street), postcode: field(Field::Postcode), city: field(Field::City) },
        contact: Contact {
            phone: field(Field::Phone),
            fax: field(Field::Fax),
            email: field(Field::Email),
            website: field(Field::Website),
        },
        pupils: field(Field::Pupils).and_then(|text| text.parse().ok()),
        pupils_as_of: field(Field::PupilsAsOf).and_then(|text| text.parse().ok()),
        latitude: field(Field::Latitude).and_then(|text| text.parse().ok()),
        longitude: field(Field::Longitude).and_then(|text| text.parse().ok()),
    }
}

struct PendingSchool {
    id: String,
    first_row: u32,
    last_row: u32,
    /// Changed since it was last sent (or never sent).
    unsent: bool,
    packed: String,
    /// Indexes into [`SchoolGatherer::type_names`].
    types: Vec<u32>,
}

struct Conflict {
    field: Field,
    first_row: u32,
    old: String,
    new: String,
}

/// Gathers the rows of each school (one row per Schulgliederung) into one school.
#[derive(Default)]
struct SchoolGatherer {
    pending: Vec<PendingSchool>,
    by_id: HashMap<String, usize>,
    type_names: Vec<String>,
    /// The code-list reading of each of `type_names`.
    classes: Vec<Classification>,
    type_ids: HashMap<String, u32>,
}

impl SchoolGatherer {
    /// Adds a row of school `id`; returns the school's index. A row that only repeats what the school has leaves it
    /// as it was sent.
    fn add(
        &mut self,
        id: String,
        row: u32,
        values: &[Option<Value>; Field::COUNT],
        school_type: Option<String>,
    ) -> Result<usize, Conflict> {
        let packed = pack(values);
        let type_id = school_type.map(|raw| match self.type_ids.get(&raw) {
            Some(id) => *id,
            None => {
                self.classes.push(classify(&raw));
                self.type_names.push(raw.clone());
                let id = (self.type_names.len() - 1) as u32;
                self.type_ids.insert(raw, id);
                id
            }
        });
        let Some(&index) = self.by_id.get(&id) else {
            let index = self.pending.len();
            self.by_id.insert(id.clone(), index);
            self.pending.push(PendingSchool {
                id,
                first_row: row,
                last_row: row,
                unsent: true,
                packed,
                types: type_id.into_iter().collect(),
            });
            return Ok(index);
        };
        let pending = &mut self.pending[index];
        let old = unpack(&pending.packed);
        let new = unpack(&packed);
        let mut merged = Vec::with_capacity(SCHOOL_FIELDS.len());
        let mut filled = false;
        for (position, (old, new)) in old.iter().zip(&new).enumerate() {
            if !old.is_empty() && !new.is_empty() && old != new {
                return Err(Conflict {
                    field: SCHOOL_FIELDS[position],
                    first_row: pending.first_row,
                    old: (*old).to_owned(),
                    new: (*new).to_owned(),
                });
            }
            // An empty cell in one row and a value in another is no conflict: the value counts.
            filled |= old.is_empty() && !new.is_empty();
            merged.push(if old.is_empty() { *new } else { *old });
        }
        if filled {
            pending.packed = merged.join(&SEPARATOR.to_string());
            pending.unsent = true;
        }
        if let Some(type_id) = type_id {
            if !pending.types.contains(&type_id) {
                pending.types.push(type_id);
                pending.unsent = true;
            }
        }
        pending.last_row = row;
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a school sheet: the header, then one row per (Schulnummer, Schulform).
    fn sheet_rows(schools: &[(u32, &str)]) -> Vec<Row> {
        let text = |text: &str| Cell::Text(text.to_owned());
        let mut rows = vec![Row { number: 1, cells: vec![text("Schulnummer"), text("Schulname"), text("Schulform")] }];
        for (offset, (number, kind)) in schools.iter().enumerate() {
            rows.push(Row {
                number: offset as u32 + 2,
                cells: vec![Cell::Number(f64::from(*number)), text(&format!("Schule {number}")), text(kind)],
            });
        }
        rows
    }

    /// Feeds `rows` to a mapper; returns the events sent before the sheet ended, and all events.
    fn map_rows(rows: Vec<Row>) -> (usize, Vec<Event>) {
        let config = super::super::config::parse(
            &toml::from_str(
                "target = \"school\"\n[columns]\nschool_number = \"Schulnummer\"\nname = \"Schulname\"\n\
                 school_type = \"Schulform\"\n[constants]\nstate = \"NI\"\n",
            )
            .expect("toml"),
        )
        .expect("config");
        let mut events = Vec::new();
        let mut out = |event: Event| {
            events.push(event);
            Ok(())
        };
        let mut mapper = Mapper::new(&config, "schulen.xlsx".into(), "gifhorn", &[], None, &mut out);
        mapper.sheet("Schulen");
        for row in rows {
            mapper.row(row).expect("row");
        }
        let before_end = mapper.summary.records as usize;
        let summary = mapper.finish().expect("finish");
        assert_eq!(summary.rejected, 0);
        (before_end, events)
    }

    fn sent_schools(events: &[Event]) -> Vec<&School> {
        events
            .iter()
            .flat_map(|event| match event {
                Event::Records(batch) => batch.iter().collect(),
                _ => Vec::new(),
            })
            .filter_map(|record| match record {
                Record::School(school) => Some(school),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn schools_are_sent_while_the_sheet_is_read() {
        let schools: Vec<(u32, &str)> = (0..3_000).flat_map(|n| [(10_000 + n, "GS"), (10_000 + n, "HS")]).collect();
        let (before_end, events) = map_rows(sheet_rows(&schools));
        assert!(before_end >= 2_000, "only {before_end} schools went out before the sheet ended");
        let sent = sent_schools(&events);
        assert_eq!(sent.len(), 3_000, "each school once");
        assert!(sent
            .iter()
            .all(|school| school.school_types == vec![SchoolType::Grundschule, SchoolType::Hauptschule]));
    }

    #[test]
    fn a_school_completed_by_a_distant_row_is_sent_again_whole() {
        let mut schools: Vec<(u32, &str)> = vec![(66497, "Gymnasium")];
        schools.extend((0..2_500).map(|n| (20_000 + n, "GS")));
        schools.push((66497, "IGS"));
        let (_, events) = map_rows(sheet_rows(&schools));
        let versions: Vec<&School> =
            sent_schools(&events).into_iter().filter(|school| school.id == "NI-66497").collect();
        assert_eq!(versions.len(), 2, "sent early, then again with the later row");
        assert_eq!(versions[0].school_types_raw, vec!["Gymnasium"]);
        assert_eq!(versions[1].school_types_raw, vec!["Gymnasium", "IGS"]);
        assert_eq!(versions[1].school_types, vec![SchoolType::Gymnasium, SchoolType::Gesamtschule]);
    }

    #[test]
    fn addresses_split_into_street_postcode_city() {
        assert_eq!(
            split_address("Amtsweg 11, 29386 Hankensbüttel"),
            (Some("Amtsweg 11".into()), Some("29386".into()), Some("Hankensbüttel".into()))
        );
        assert_eq!(split_address("Amtsweg 11"), (Some("Amtsweg 11".into()), None, None));
    }

    #[test]
    fn media_concept_words() {
        assert_eq!(media_status("genehmigt"), Some(MediaConceptStatus::Approved));
        assert_eq!(media_status("In Arbeit"), Some(MediaConceptStatus::InProgress));
        assert_eq!(media_status("nicht begonnen"), Some(MediaConceptStatus::None));
        assert_eq!(media_status("eingereicht"), Some(MediaConceptStatus::Submitted));
        assert_eq!(media_status("in_progress"), Some(MediaConceptStatus::InProgress));
        assert_eq!(media_status("vielleicht"), None);
    }

    #[test]
    fn equipment_categories() {
        assert_eq!(equipment_category("WLAN-Accesspoints"), "wlan");
        assert_eq!(equipment_category("Interaktive Displays"), "display");
        assert_eq!(equipment_category("Notebooks"), "laptop");
        assert_eq!(equipment_category("iPads"), "tablet");
        assert_eq!(equipment_category("3D-Drucker"), "3d_drucker");
        assert_eq!(equipment_category("Lötstationen für Töpfer"), "loetstationen_fuer_toepfer");
    }
}

//! CSV, XLSX, XLS and ODS funding lists through the spreadsheet kind's reader and cell coercion: fields are header
//! texts, the header row is found (or configured), every mapped header must be there.

use super::config::{Field, Format};
use super::map::{Mapping, Raw, RawDisbursement};
use super::{Batcher, FundingError};
use crate::spreadsheet::config::header_key;
use crate::spreadsheet::reader::{self, Cell, Format as TableFormat, Row, RowHandler};
use crate::spreadsheet::write::column_letters;
use crate::spreadsheet::SpreadsheetError;

/// Rows to look at for the header before giving up.
const HEADER_SEARCH_ROWS: u32 = 30;

struct Columns {
    fields: Vec<(Field, usize, String)>,
    /// (date column, amount column) per disbursement column pair.
    disbursements: Vec<(Option<usize>, usize)>,
    width: usize,
}

struct Handler<'m, 'b, 'o> {
    mapping: &'m Mapping<'m>,
    batcher: &'b mut Batcher<'o>,
    file: &'m str,
    sheet: Option<String>,
    header_row: Option<u32>,
    columns: Option<Columns>,
    searched: u32,
    /// The row with most of the mapped headers so far and what it lacks, reported when the search ends.
    missing: Option<(usize, String)>,
}

fn find_column(headers: &[String], alternatives: &[String]) -> Option<usize> {
    alternatives
        .iter()
        .map(|name| header_key(name))
        .find_map(|wanted| headers.iter().position(|found| *found == wanted))
}

impl Handler<'_, '_, '_> {
    /// The columns of `row` as a header row, or the headers it lacks.
    fn resolve(&self, row: &Row) -> Result<Columns, (usize, Vec<String>)> {
        let headers: Vec<String> = row
            .cells
            .iter()
            .map(|cell| crate::spreadsheet::coerce::cell_text(cell).map(|text| header_key(&text)).unwrap_or_default())
            .collect();
        let mut missing = Vec::new();
        let mut found = 0;
        let mut fields = Vec::new();
        for spec in &self.mapping.config.fields {
            match find_column(&headers, &spec.paths) {
                Some(column) => {
                    found += 1;
                    fields.push((spec.field, column, spec.paths[0].clone()));
                }
                None => missing.push(format!("fields.{} ({})", spec.field.name(), spec.paths.join(" | "))),
            }
        }
        let mut disbursements = Vec::new();
        for (index, spec) in self.mapping.config.disbursements.iter().enumerate() {
            let date = spec.date.as_ref().map(|names| (find_column(&headers, names), names));
            let amount = find_column(&headers, &spec.amount);
            if let Some((None, names)) = &date {
                missing.push(format!("disbursements[{index}].date ({})", names.join(" | ")));
            }
            match amount {
                Some(amount) => {
                    found += 1;
                    disbursements.push((date.and_then(|(column, _)| column), amount));
                }
                None => missing.push(format!("disbursements[{index}].amount ({})", spec.amount.join(" | "))),
            }
        }
        if missing.is_empty() {
            let width = fields
                .iter()
                .map(|(_, column, _)| column + 1)
                .chain(disbursements.iter().flat_map(|(date, amount)| [date.map_or(0, |d| d + 1), amount + 1]))
                .max()
                .unwrap_or(0);
            Ok(Columns { fields, disbursements, width })
        } else {
            Err((found, missing))
        }
    }

    fn location(&self, row: u32) -> String {
        match &self.sheet {
            Some(sheet) => format!("{}, sheet {sheet}, row {row}", self.file),
            None => format!("{}, row {row}", self.file),
        }
    }
}

impl RowHandler for Handler<'_, '_, '_> {
    fn sheet(&mut self, name: &str) {
        self.sheet = Some(name.to_owned());
    }

    fn width(&self) -> Option<usize> {
        self.columns.as_ref().map(|columns| columns.width)
    }

    fn row(&mut self, row: Row) -> Result<(), SpreadsheetError> {
        let Some(columns) = &self.columns else {
            if self.header_row.is_some_and(|wanted| wanted != row.number) {
                return Ok(());
            }
            self.searched += 1;
            match self.resolve(&row) {
                Ok(columns) => {
                    self.columns = Some(columns);
                    self.missing = None;
                }
                Err((found, missing)) => {
                    // The row with most of the headers explains best what is wrong.
                    if self.missing.as_ref().is_none_or(|(best, _)| found > *best) {
                        let text = format!("row {} lacks the headers {}", row.number, missing.join(", "));
                        self.missing = Some((found, text));
                    }
                    if self.header_row.is_some() || self.searched >= HEADER_SEARCH_ROWS {
                        let text = self.missing.as_ref().map(|(_, text)| text.clone()).unwrap_or_default();
                        return Err(SpreadsheetError::MissingHeaders(format!("no header row: {text}")));
                    }
                }
            }
            return Ok(());
        };
        let location = self.location(row.number);
        let mut raw = Raw::new(location);
        let cell_at = |column: usize| row.cells.get(column).filter(|cell| !matches!(cell, Cell::Empty)).cloned();
        for (field, column, header) in &columns.fields {
            if let Some(cell) = cell_at(*column) {
                raw.values[field.index()] = vec![cell];
            }
            raw.places[field.index()] = Some(format!("column {} ({header})", column_letters(*column)).into());
        }
        for (date, amount) in &columns.disbursements {
            raw.disbursements.push(RawDisbursement {
                date: date.and_then(cell_at),
                amount: cell_at(*amount),
                place: format!("column {}", column_letters(*amount)).into(),
            });
        }
        self.batcher.map(self.mapping, &raw).map_err(|_| SpreadsheetError::Stopped)
    }
}

/// Reads a table source and hands every row below the header to `batcher`.
pub fn read(mapping: &Mapping<'_>, bytes: Vec<u8>, file: &str, batcher: &mut Batcher<'_>) -> Result<(), FundingError> {
    let Format::Table { format, sheet, header_row, csv } = &mapping.config.format else { return Ok(()) };
    let format = format.unwrap_or_else(|| TableFormat::sniff(&bytes));
    let mut handler = Handler {
        mapping,
        batcher,
        file,
        sheet: None,
        header_row: *header_row,
        columns: None,
        searched: 0,
        missing: None,
    };
    let parse = |error: SpreadsheetError| match error {
        SpreadsheetError::Stopped => FundingError::Stopped,
        other => FundingError::Parse { location: file.to_owned(), message: other.to_string() },
    };
    reader::read(bytes, format, sheet, *csv, &mut handler).map_err(parse)?;
    if handler.columns.is_none() {
        let message = match (handler.missing, header_row) {
            (Some((_, missing)), _) => missing,
            (None, Some(row)) => format!("the file has no row {row} (header_row)"),
            (None, None) => "the file is empty".to_owned(),
        };
        return Err(FundingError::Parse { location: file.to_owned(), message: format!("no header row: {message}") });
    }
    Ok(())
}

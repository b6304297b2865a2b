//! XLSX, XLS, ODS and CSV → rows of cells, handed one at a time to a [`RowHandler`].
//!
//! XLSX is streamed cell by cell (`worksheet_cells_reader`), so a large sheet never sits in memory as a whole;
//! calamine loads XLS and ODS sheets whole, which is fine for the sizes those formats come in. CSV is decoded
//! (UTF-8 with or without BOM, windows-1252, or a configured encoding) and split with the `csv` crate.

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};
use chrono::NaiveDate;
use encoding_rs::Encoding;
use serde::Deserialize;

use super::SpreadsheetError;

/// A cell as the file holds it, before any field asks for a type.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    /// XLSX and ODS store every number as a float: a Schulnummer arrives as `66497.0`.
    Number(f64),
    Integer(i64),
    Bool(bool),
    /// A date-formatted cell (Excel serial in the 1900 or 1904 system, or an ODS date value).
    Date(NaiveDate),
    /// A formula error such as `#N/A`.
    Error(String),
}

/// One row: its number as the spreadsheet shows it (1-based) and its cells from column A on.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|cell| match cell {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        })
    }
}

/// Receives the rows of a sheet.
pub trait RowHandler {
    /// The sheet being read (not called for CSV).
    fn sheet(&mut self, _name: &str) {}
    fn row(&mut self, row: Row) -> Result<(), SpreadsheetError>;
    /// Columns beyond this many are not needed (known once the header is found); `None` keeps all.
    fn width(&self) -> Option<usize>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

impl Format {
    /// The format a file name's extension names.
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.split(['?', '#']).next().unwrap_or(name).to_ascii_lowercase();
        let extension = name.rsplit_once('.').map(|(_, extension)| extension)?;
        match extension {
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "xls" => Some(Format::Xls),
            "ods" => Some(Format::Ods),
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format the bytes look like: a zip is XLSX unless it declares itself an ODS, an OLE file is XLS.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            let head = &bytes[..bytes.len().min(200)];
            let ods = b"application/vnd.oasis.opendocument.spreadsheet";
            if head.windows(ods.len()).any(|window| window == ods) {
                Format::Ods
            } else {
                Format::Xlsx
            }
        } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            Format::Xls
        } else {
            Format::Csv
        }
    }
}

/// Which sheet to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetChoice {
    First,
    Name(String),
    /// 0-based position.
    Index(usize),
}

/// How to read a CSV file.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CsvOptions {
    /// `None` detects `;`, `,` or tab from the first line.
    pub delimiter: Option<u8>,
    /// `None` takes UTF-8 (with or without BOM) when the bytes are valid UTF-8, windows-1252 otherwise.
    pub encoding: Option<&'static Encoding>,
}

/// Reads `bytes` as `format` and hands every row of the chosen sheet to `handler`. Returns the sheet's name (CSV:
/// `None`).
pub fn read(
    bytes: Vec<u8>,
    format: Format,
    sheet: &SheetChoice,
    csv: CsvOptions,
    handler: &mut dyn RowHandler,
) -> Result<Option<String>, SpreadsheetError> {
    match format {
        Format::Xlsx => read_xlsx(bytes, sheet, handler).map(Some),
        Format::Xls => {
            let mut workbook: Xls<_> =
                calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|error| open_error(format, error))?;
            let name = pick_sheet(&workbook.sheet_names(), sheet)?;
            handler.sheet(&name);
            let range = workbook.worksheet_range(&name).map_err(|error| open_error(format, error))?;
            read_range(&range, handler)?;
            Ok(Some(name))
        }
        Format::Ods => {
            let mut workbook: Ods<_> =
                calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|error| open_error(format, error))?;
            let name = pick_sheet(&workbook.sheet_names(), sheet)?;
            handler.sheet(&name);
            let range = workbook.worksheet_range(&name).map_err(|error| open_error(format, error))?;
            read_range(&range, handler)?;
            Ok(Some(name))
        }
        Format::Csv => read_csv(&bytes, csv, handler).map(|()| None),
    }
}

fn open_error(format: Format, error: impl std::fmt::Display) -> SpreadsheetError {
    SpreadsheetError::Read(format!("not a readable {format:?} file: {error}").replace("Xlsx", "XLSX"))
}

fn pick_sheet(names: &[String], choice: &SheetChoice) -> Result<String, SpreadsheetError> {
    let found = match choice {
        SheetChoice::First => names.first(),
        SheetChoice::Index(index) => names.get(*index),
        SheetChoice::Name(wanted) => names
            .iter()
            .find(|name| *name == wanted)
            .or_else(|| names.iter().find(|name| name.trim().eq_ignore_ascii_case(wanted.trim()))),
    };
    found.cloned().ok_or_else(|| SpreadsheetError::SheetNotFound {
        wanted: match choice {
            SheetChoice::First => "the first sheet".to_owned(),
            SheetChoice::Index(index) => format!("sheet number {}", index + 1),
            SheetChoice::Name(name) => format!("sheet `{name}`"),
        },
        available: names.join(", "),
    })
}

fn read_xlsx(bytes: Vec<u8>, sheet: &SheetChoice, handler: &mut dyn RowHandler) -> Result<String, SpreadsheetError> {
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|error| open_error(Format::Xlsx, error))?;
    let name = pick_sheet(&workbook.sheet_names(), sheet)?;
    handler.sheet(&name);
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(|error| open_error(Format::Xlsx, error))?;
    let mut current: Option<Row> = None;
    loop {
        let next = cells
            .next_cell()
            .map_err(|error| SpreadsheetError::Read(format!("sheet `{name}`: reading the cells failed: {error}")))?;
        let Some(cell) = next else { break };
        let (row, column) = cell.get_position();
        if current.as_ref().is_some_and(|current| current.number != row + 1) {
            if let Some(done) = current.take() {
                handler.row(done)?;
            }
        }
        let width = handler.width();
        if width.is_some_and(|width| column as usize >= width) {
            // Not a mapped column: skip it before its text is copied.
            if current.is_none() {
                current = Some(Row { number: row + 1, cells: Vec::new() });
            }
            continue;
        }
        let value = match cell.get_value() {
            DataRef::Empty => Cell::Empty,
            DataRef::String(text) => Cell::Text(text.clone()),
            DataRef::SharedString(text) => Cell::Text((*text).to_owned()),
            DataRef::Float(number) => Cell::Number(*number),
            DataRef::Int(number) => Cell::Integer(*number),
            DataRef::Bool(value) => Cell::Bool(*value),
            DataRef::DateTime(date) if date.is_datetime() => {
                date.as_datetime().map(|at| Cell::Date(at.date())).unwrap_or(Cell::Number(date.as_f64()))
            }
            DataRef::DateTime(duration) => Cell::Number(duration.as_f64()),
            DataRef::DateTimeIso(text) => iso_date(text),
            DataRef::DurationIso(text) => Cell::Text(text.clone()),
            DataRef::Error(error) => Cell::Error(error.to_string()),
        };
        let current = current.get_or_insert_with(|| Row { number: row + 1, cells: Vec::new() });
        let column = column as usize;
        if current.cells.len() <= column {
            current.cells.resize(column + 1, Cell::Empty);
        }
        current.cells[column] = value;
    }
    if let Some(done) = current {
        handler.row(done)?;
    }
    Ok(name)
}

fn iso_date(text: &str) -> Cell {
    text.get(..10)
        .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
        .map(Cell::Date)
        .unwrap_or_else(|| Cell::Text(text.to_owned()))
}

fn read_range(range: &calamine::Range<Data>, handler: &mut dyn RowHandler) -> Result<(), SpreadsheetError> {
    let Some((first_row, first_column)) = range.start() else { return Ok(()) };
    for (offset, cells) in range.rows().enumerate() {
        let width = handler.width().unwrap_or(usize::MAX);
        let mut row = Row { number: first_row + offset as u32 + 1, cells: vec![Cell::Empty; first_column as usize] };
        for value in cells.iter().take(width.saturating_sub(first_column as usize)) {
            row.cells.push(match value {
                Data::Empty => Cell::Empty,
                Data::String(text) => Cell::Text(text.clone()),
                Data::Float(number) => Cell::Number(*number),
                Data::Int(number) => Cell::Integer(*number),
                Data::Bool(value) => Cell::Bool(*value),
                Data::DateTime(date) if date.is_datetime() => {
                    date.as_datetime().map(|at| Cell::Date(at.date())).unwrap_or(Cell::Number(date.as_f64()))
                }
                Data::DateTime(duration) => Cell::Number(duration.as_f64()),
                Data::DateTimeIso(text) => iso_date(text),
                Data::DurationIso(text) => Cell::Text(text.clone()),
                Data::Error(error) => Cell::Error(error.to_string()),
            });
        }
        if !row.is_blank() {
            handler.row(row)?;
        }
    }
    Ok(())
}

/// Decodes CSV bytes: a BOM wins, then the configured encoding, then UTF-8 if valid, else windows-1252.
pub fn decode(bytes: &[u8], configured: Option<&'static Encoding>) -> String {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom_length..]).0.into_owned();
    }
    let encoding = match configured {
        Some(encoding) => encoding,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::WINDOWS_1252,
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The delimiter the first non-blank line uses most: `;` (German Excel), `,` or tab.
pub fn detect_delimiter(text: &str) -> u8 {
    let line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let mut best = (b';', 0);
    for candidate in [b';', b',', b'\t'] {
        let mut count = 0;
        let mut quoted = false;
        for byte in line.bytes() {
            if byte == b'"' {
                quoted = !quoted;
            } else if byte == candidate && !quoted {
                count += 1;
            }
        }
        if count > best.1 {
            best = (candidate, count);
        }
    }
    best.0
}

fn read_csv(bytes: &[u8], options: CsvOptions, handler: &mut dyn RowHandler) -> Result<(), SpreadsheetError> {
    let text = decode(bytes, options.encoding);
    let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(&text));
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    // Row numbers are counted from the record's byte offset, so a cell spanning lines shifts later rows as it does
    // in a spreadsheet program.
    let (mut counted_to, mut line) = (0usize, 1u32);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => return Err(SpreadsheetError::Read(format!("not a readable CSV file: {error}"))),
        }
        let mut start = record.position().map(|position| position.byte() as usize).unwrap_or(counted_to);
        // The position may point at the previous record's line break (and blank lines): the record starts after.
        while let Some(b'\r' | b'\n') = text.as_bytes().get(start) {
            start += 1;
        }
        if let Some(skipped) = text.as_bytes().get(counted_to..start) {
            line += skipped.iter().filter(|byte| **byte == b'\n').count() as u32;
            counted_to = start;
        }
        let number = line;
        let width = handler.width().unwrap_or(usize::MAX);
        let cells = record
            .iter()
            .take(width)
            .map(|text| if text.is_empty() { Cell::Empty } else { Cell::Text(text.to_owned()) })
            .collect();
        let row = Row { number, cells };
        if !row.is_blank() {
            handler.row(row)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_content() {
        assert_eq!(Format::from_name("demo/Schulen.XLSX"), Some(Format::Xlsx));
        assert_eq!(Format::from_name("https://x.example/a.csv?download=1"), Some(Format::Csv));
        assert_eq!(Format::from_name("a.pdf"), None);
        assert_eq!(Format::sniff(b"Schulnummer;Name\n"), Format::Csv);
        assert_eq!(Format::sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0]), Format::Xls);
    }

    #[test]
    fn csv_encodings_and_delimiters() {
        assert_eq!(decode(b"\xEF\xBB\xBFSchulstra\xC3\x9Fe", None), "Schulstraße");
        assert_eq!(decode(b"Schulstra\xC3\x9Fe", None), "Schulstraße");
        assert_eq!(decode(b"Schulstra\xDFe \x96 F\xF6S", None), "Schulstraße – FöS");
        assert_eq!(detect_delimiter("Schulnummer;Name;Ort\n1;2;3"), b';');
        assert_eq!(detect_delimiter("\"a;b\",c,d\n"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
    }
}

//! The spreadsheet CSV reader (encoding and delimiter detection, quoting) on arbitrary bytes.
#![no_main]

use ikz_connectors::spreadsheet::reader::{self, CsvOptions, Format, Row, RowHandler, SheetChoice};
use ikz_connectors::spreadsheet::SpreadsheetError;
use libfuzzer_sys::fuzz_target;

struct Count(usize);

impl RowHandler for Count {
    fn row(&mut self, row: Row) -> Result<(), SpreadsheetError> {
        self.0 += row.cells.len();
        Ok(())
    }

    fn width(&self) -> Option<usize> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let options = CsvOptions { delimiter: None, encoding: None };
    let _ = reader::read(data.to_vec(), Format::Csv, &SheetChoice::First, options, &mut Count(0));
    // What the sniffing picks for these bytes (XLSX, ODS, XLS or CSV) must not panic either.
    let _ = reader::read(data.to_vec(), Format::sniff(data), &SheetChoice::First, options, &mut Count(0));
});

//! A small XLSX and ODS writer for test data, the demo files and the benchmark.
//!
//! It writes what office programs write for plain tables: shared strings, numbers, date-formatted serials (1900 or
//! 1904 system) and ODS value types, so the reader is tested against the same structures as in real files. Rows are
//! streamed into the archive, so a 100,000-row benchmark sheet is never held as cells in memory.

use std::collections::HashMap;
use std::io::{Seek, Write};

use chrono::NaiveDate;
use thiserror::Error;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("writing the archive failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(&'static str),
}

/// A cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteCell {
    Empty,
    Text(String),
    Number(f64),
    /// Written as a date-formatted serial (XLSX) or a date value (ODS).
    Date(NaiveDate),
}

impl From<&str> for WriteCell {
    fn from(text: &str) -> Self {
        if text.is_empty() {
            WriteCell::Empty
        } else {
            WriteCell::Text(text.to_owned())
        }
    }
}

impl From<String> for WriteCell {
    fn from(text: String) -> Self {
        if text.is_empty() {
            WriteCell::Empty
        } else {
            WriteCell::Text(text)
        }
    }
}

impl From<f64> for WriteCell {
    fn from(number: f64) -> Self {
        WriteCell::Number(number)
    }
}

impl From<NaiveDate> for WriteCell {
    fn from(date: NaiveDate) -> Self {
        WriteCell::Date(date)
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// "A", "B", …, "Z", "AA", … for a 0-based column.
pub fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Streams sheets into an XLSX workbook.
pub struct XlsxWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    date_1904: bool,
    strings: Vec<String>,
    string_index: HashMap<String, usize>,
    sheets: Vec<String>,
    open_sheet: bool,
    next_row: u32,
}

impl<W: Write + Seek> XlsxWriter<W> {
    /// `date_1904`: dates count from 1904-01-01 (old Mac Excel) instead of 1899-12-30.
    pub fn new(output: W, date_1904: bool) -> Self {
        XlsxWriter {
            zip: ZipWriter::new(output),
            date_1904,
            strings: Vec::new(),
            string_index: HashMap::new(),
            sheets: Vec::new(),
            open_sheet: false,
            next_row: 1,
        }
    }

    fn options() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
    }

    pub fn start_sheet(&mut self, name: &str) -> Result<(), WriteError> {
        self.end_sheet()?;
        self.sheets.push(name.to_owned());
        let path = format!("xl/worksheets/sheet{}.xml", self.sheets.len());
        self.zip.start_file(path, Self::options())?;
        write!(self.zip, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheetData>")?;
        self.open_sheet = true;
        self.next_row = 1;
        Ok(())
    }

    /// Writes the next row; an empty slice leaves the row blank.
    pub fn row(&mut self, cells: &[WriteCell]) -> Result<(), WriteError> {
        if !self.open_sheet {
            return Err(WriteError::Usage("start a sheet before writing rows"));
        }
        let number = self.next_row;
        self.next_row += 1;
        if cells.iter().all(|cell| *cell == WriteCell::Empty) {
            return Ok(());
        }
        let mut xml = format!("<row r=\"{number}\">");
        for (column, cell) in cells.iter().enumerate() {
            let reference = format!("{}{number}", column_letters(column));
            match cell {
                WriteCell::Empty => {}
                WriteCell::Text(text) => {
                    let index = match self.string_index.get(text) {
                        Some(index) => *index,
                        None => {
                            self.strings.push(text.clone());
                            self.string_index.insert(text.clone(), self.strings.len() - 1);
                            self.strings.len() - 1
                        }
                    };
                    xml.push_str(&format!("<c r=\"{reference}\" t=\"s\"><v>{index}</v></c>"));
                }
                WriteCell::Number(number) => xml.push_str(&format!("<c r=\"{reference}\"><v>{number}</v></c>")),
                WriteCell::Date(date) => {
                    let epoch = if self.date_1904 {
                        NaiveDate::from_ymd_opt(1904, 1, 1)
                    } else {
                        NaiveDate::from_ymd_opt(1899, 12, 30)
                    };
                    let serial = epoch.map(|epoch| (*date - epoch).num_days()).unwrap_or_default();
                    // Style 1 is the built-in date format 14, which marks the serial as a date.
                    xml.push_str(&format!("<c r=\"{reference}\" s=\"1\"><v>{serial}</v></c>"));
                }
            }
        }
        xml.push_str("</row>");
        self.zip.write_all(xml.as_bytes())?;
        Ok(())
    }

    fn end_sheet(&mut self) -> Result<(), WriteError> {
        if self.open_sheet {
            self.zip.write_all(b"</sheetData></worksheet>")?;
            self.open_sheet = false;
        }
        Ok(())
    }

    /// Writes the workbook parts and closes the archive.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.end_sheet()?;
        let options = Self::options();
        let mut strings = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst xmlns=\"{MAIN_NS}\" count=\"{0}\" uniqueCount=\"{0}\">",
            self.strings.len()
        );
        for text in &self.strings {
            strings.push_str(&format!("<si><t xml:space=\"preserve\">{}</t></si>", escape(text)));
        }
        strings.push_str("</sst>");
        self.zip.start_file("xl/sharedStrings.xml", options)?;
        self.zip.write_all(strings.as_bytes())?;

        let mut types = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/><Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>",
        );
        let mut sheets = String::new();
        let mut relations = String::new();
        for (index, name) in self.sheets.iter().enumerate() {
            let number = index + 1;
            types.push_str(&format!("<Override PartName=\"/xl/worksheets/sheet{number}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"));
            sheets.push_str(&format!("<sheet name=\"{}\" sheetId=\"{number}\" r:id=\"rId{number}\"/>", escape(name)));
            relations.push_str(&format!("<Relationship Id=\"rId{number}\" Type=\"{REL_NS}/worksheet\" Target=\"worksheets/sheet{number}.xml\"/>"));
        }
        types.push_str("</Types>");
        let count = self.sheets.len();
        relations.push_str(&format!(
            "<Relationship Id=\"rId{}\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/><Relationship Id=\"rId{}\" Type=\"{REL_NS}/sharedStrings\" Target=\"sharedStrings.xml\"/>",
            count + 1,
            count + 2
        ));
        let date_1904 = if self.date_1904 { "<workbookPr date1904=\"1\"/>" } else { "<workbookPr/>" };
        let parts = [
            ("[Content_Types].xml", types),
            ("_rels/.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{REL_NS}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>")),
            ("xl/workbook.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">{date_1904}<sheets>{sheets}</sheets></workbook>")),
            ("xl/_rels/workbook.xml.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{relations}</Relationships>")),
            ("xl/styles.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<styleSheet xmlns=\"{MAIN_NS}\"><fonts count=\"1\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts><fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills><borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs><cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"14\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs></styleSheet>")),
        ];
        for (path, content) in parts {
            self.zip.start_file(path, options)?;
            self.zip.write_all(content.as_bytes())?;
        }
        Ok(self.zip.finish()?)
    }
}

/// Writes whole sheets (name, rows) as an XLSX file.
pub fn xlsx_bytes(sheets: &[(&str, Vec<Vec<WriteCell>>)], date_1904: bool) -> Result<Vec<u8>, WriteError> {
    let mut writer = XlsxWriter::new(std::io::Cursor::new(Vec::new()), date_1904);
    for (name, rows) in sheets {
        writer.start_sheet(name)?;
        for row in rows {
            writer.row(row)?;
        }
    }
    Ok(writer.finish()?.into_inner())
}

/// Writes whole sheets (name, rows) as an ODS file.
pub fn ods_bytes(sheets: &[(&str, Vec<Vec<WriteCell>>)]) -> Result<Vec<u8>, WriteError> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // The mimetype must be the first entry, stored uncompressed: that is how programs recognise an ODS.
    zip.start_file("mimetype", SimpleFileOptions::default().compression_method(CompressionMethod::Stored))?;
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("META-INF/manifest.xml", options)?;
    zip.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.2\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>")?;
    let mut content = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\"><office:body><office:spreadsheet>");
    for (name, rows) in sheets {
        content.push_str(&format!("<table:table table:name=\"{}\">", escape(name)));
        for row in rows {
            content.push_str("<table:table-row>");
            if row.is_empty() {
                content.push_str("<table:table-cell/>");
            }
            for cell in row {
                match cell {
                    WriteCell::Empty => content.push_str("<table:table-cell/>"),
                    WriteCell::Text(text) => {
                        content.push_str("<table:table-cell office:value-type=\"string\">");
                        for line in text.split('\n') {
                            content.push_str(&format!("<text:p>{}</text:p>", escape(line)));
                        }
                        content.push_str("</table:table-cell>");
                    }
                    WriteCell::Number(number) => content.push_str(&format!(
                        "<table:table-cell office:value-type=\"float\" office:value=\"{number}\"><text:p>{number}</text:p></table:table-cell>"
                    )),
                    WriteCell::Date(date) => content.push_str(&format!(
                        "<table:table-cell office:value-type=\"date\" office:date-value=\"{}\"><text:p>{}</text:p></table:table-cell>",
                        date.format("%Y-%m-%d"),
                        date.format("%d.%m.%Y")
                    )),
                }
            }
            content.push_str("</table:table-row>");
        }
        content.push_str("</table:table>");
    }
    content.push_str("</office:spreadsheet></office:body></office:document-content>");
    zip.start_file("content.xml", options)?;
    zip.write_all(content.as_bytes())?;
    Ok(zip.finish()?.into_inner())
}

/// The 11 German headers of the benchmark's school sheet.
pub const BENCH_HEADERS: [&str; 11] = [
    "Schulnummer",
    "Schulname",
    "Schulform",
    "Schulträger",
    "Straße",
    "PLZ",
    "Ort",
    "Telefon",
    "E-Mail",
    "Schülerzahl",
    "Stand",
];

/// Writes a school master data sheet of `rows` rows (plus the header) with [`BENCH_HEADERS`]: about one school in
/// three has a second row for a second Schulgliederung, as in the official Lower Saxony data. Deterministic.
pub fn write_bench_schools<W: Write + Seek>(output: W, rows: usize) -> Result<W, WriteError> {
    const TYPES: [&str; 8] = [
        "Grundschule",
        "Hauptschule",
        "Realschule",
        "Oberschule",
        "Gymnasium - SEK I -",
        "IGS/FWS - SEK I -",
        "FöS Lernen",
        "Berufsbildende Schule(n)",
    ];
    const PLACES: [(&str, &str); 6] = [
        ("29386", "Hankensbüttel"),
        ("38518", "Gifhorn"),
        ("29378", "Wittingen"),
        ("38524", "Sassenburg"),
        ("38536", "Meinersen"),
        ("29392", "Wesendorf"),
    ];
    const TRAEGER: [&str; 6] = [
        "Samtgemeinde Hankensbüttel",
        "Stadt Gifhorn",
        "Stadt Wittingen",
        "Gemeinde Sassenburg",
        "Samtgemeinde Meinersen",
        "Samtgemeinde Wesendorf",
    ];
    let mut writer = XlsxWriter::new(output, false);
    writer.start_sheet("Schulen")?;
    writer.row(&BENCH_HEADERS.map(WriteCell::from))?;
    let as_of = NaiveDate::from_ymd_opt(2024, 8, 1).map(WriteCell::Date).unwrap_or(WriteCell::Empty);
    let mut school = 10_000u64;
    let mut written = 0;
    while written < rows {
        school += 1;
        let branches = if matches!(school % 3, 0) { 2 } else { 1 };
        let place = (school % 6) as usize;
        for branch in 0..branches {
            if written == rows {
                break;
            }
            let kind = TYPES[((school + branch) % 8) as usize];
            writer.row(&[
                WriteCell::Number(school as f64),
                WriteCell::Text(format!("Schule {school} {}", PLACES[place].1)),
                WriteCell::from(kind),
                WriteCell::from(TRAEGER[place]),
                WriteCell::Text(format!("Schulstraße {}", school % 97 + 1)),
                WriteCell::Number(PLACES[place].0.parse::<f64>().unwrap_or_default()),
                WriteCell::from(PLACES[place].1),
                WriteCell::Text(format!("05832 {}", school % 100_000)),
                WriteCell::Text(format!("schule{school}@schulen.example")),
                WriteCell::Number((school % 900 + 50) as f64),
                as_of.clone(),
            ])?;
            written += 1;
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_count_like_spreadsheets() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(2), "C");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}

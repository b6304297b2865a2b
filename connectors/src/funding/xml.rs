//! XML exports, streamed: only the record being read is held in memory, as a small tree the field paths are
//! evaluated on. A file is read through a buffer, never whole; only a document that is not well formed is opened a
//! second time, to turn the error's offset into line and column.
//!
//! quick-xml reads UTF-8 only, so the encoding is taken from a byte-order mark or the declaration in the first KB
//! (`<?xml version="1.0" encoding="windows-1252"?>`) and the bytes go through quick-xml's `DecodingReader`.
//! Paths: `Antragsnummer`, `Traeger/Name`, `@nr` (an attribute of the record), `Schulen/Schule/@nr` (every match),
//! `.` (the record's own text). Names are compared without namespace prefixes.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use encoding_rs::Encoding;
use quick_xml::encoding::DecodingReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::config::{Config, FieldSpec};
use super::map::{Location, Raw, RawDisbursement};
use super::FundingError;
use crate::spreadsheet::reader::Cell;

/// The encoding a document declares: its byte-order mark, else `encoding="…"` in the first KB, else UTF-8.
pub fn declared_encoding(bytes: &[u8]) -> Result<&'static Encoding, String> {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return Ok(encoding);
    }
    let head = &bytes[..bytes.len().min(1024)];
    let Some(start) = find(head, b"<?xml") else { return Ok(encoding_rs::UTF_8) };
    let Some(end) = find(&head[start..], b"?>").map(|end| start + end) else { return Ok(encoding_rs::UTF_8) };
    let decl = &head[start..end];
    let Some(at) = find(decl, b"encoding") else { return Ok(encoding_rs::UTF_8) };
    let rest = decl[at + b"encoding".len()..].trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b"=") else { return Ok(encoding_rs::UTF_8) };
    let rest = rest.trim_ascii_start();
    let Some((&quote, rest)) = rest.split_first().filter(|(quote, _)| matches!(quote, b'"' | b'\'')) else {
        return Ok(encoding_rs::UTF_8);
    };
    let label = rest.split(|byte| *byte == quote).next().unwrap_or_default();
    Encoding::for_label(label).ok_or_else(|| format!("unknown encoding `{}`", String::from_utf8_lossy(label)))
}

/// Where a document is read from.
#[derive(Debug, Clone, Copy)]
pub enum XmlInput<'a> {
    /// Bytes already in memory (an HTTP body).
    Bytes(&'a [u8]),
    /// A file, streamed.
    File(&'a Path),
}

impl XmlInput<'_> {
    fn open(&self) -> std::io::Result<Box<dyn BufRead + '_>> {
        match self {
            XmlInput::Bytes(bytes) => Ok(Box::new(*bytes)),
            XmlInput::File(path) => {
                Ok(Box::new(std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?)))
            }
        }
    }

    /// The first KB, for the encoding declaration.
    fn head(&self) -> std::io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(1024);
        self.open()?.take(1024).read_to_end(&mut head)?;
        Ok(head)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// One element of the record being read. Nodes are kept from record to record and overwritten, so a record costs
/// no allocation once the buffers have grown to the largest record (per-record `String`s were most of the reader's
/// time in bench_funding_xml).
#[derive(Debug, Default)]
struct Node {
    name: String,
    /// Its attributes: a range of [`Tree::attributes`].
    attributes: std::ops::Range<usize>,
    text: String,
    children: Vec<usize>,
}

/// The record's elements; node 0 is the record element. Only the first `len` nodes and `attributes_len` attributes
/// belong to the current record; the rest are buffers kept for the next one.
#[derive(Debug, Default)]
struct Tree {
    nodes: Vec<Node>,
    len: usize,
    attributes: Vec<(String, String)>,
    attributes_len: usize,
}

/// A field path split once per document instead of once per record: element names, then an optional attribute.
struct Steps {
    segments: Vec<String>,
    attribute: Option<String>,
}

impl Steps {
    fn new(path: &str) -> Steps {
        let mut segments: Vec<String> =
            path.split('/').filter(|s| !s.is_empty() && *s != ".").map(str::to_owned).collect();
        let attribute = segments.last().and_then(|last| last.strip_prefix('@')).map(str::to_owned);
        if attribute.is_some() {
            segments.pop();
        }
        Steps { segments, attribute }
    }
}

/// The configured paths, split.
struct Paths {
    /// Per mapped field: its index and its alternatives (split, and as written for the reject's place).
    fields: Vec<(usize, Vec<Alternative>)>,
    disbursements: Vec<DisbursementSteps>,
}

/// One path of a field: split, and as written (shared by every record's reject place).
type Alternative = (Steps, Arc<str>);

struct DisbursementSteps {
    group: String,
    group_segments: Vec<String>,
    date: Option<Vec<Steps>>,
    amount: Vec<Steps>,
    /// "Auszahlungen/Auszahlung[1]", "…[2]", …: built once, shared by every record.
    places: Vec<Arc<str>>,
}

impl Paths {
    fn new(config: &Config) -> Paths {
        let split = |paths: &[String]| paths.iter().map(|path| Steps::new(path)).collect::<Vec<_>>();
        Paths {
            fields: config
                .fields
                .iter()
                .map(|FieldSpec { field, paths }| {
                    (field.index(), paths.iter().map(|path| (Steps::new(path), Arc::from(path.as_str()))).collect())
                })
                .collect(),
            disbursements: config
                .disbursements
                .iter()
                .map(|spec| {
                    let group = spec.path.clone().unwrap_or_default();
                    DisbursementSteps {
                        group_segments: group.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                        group,
                        date: spec.date.as_deref().map(split),
                        amount: split(&spec.amount),
                        places: Vec::new(),
                    }
                })
                .collect(),
        }
    }
}

impl Tree {
    /// Forgets the record, keeping the buffers.
    fn clear(&mut self) {
        self.len = 0;
        self.attributes_len = 0;
    }

    /// Adds `element` as a node (its parent links it) and returns its index.
    fn push(&mut self, element: &BytesStart<'_>) -> Result<usize, String> {
        let first_attribute = self.attributes_len;
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|error| error.to_string())?;
            let value =
                attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|error| error.to_string())?;
            if self.attributes_len == self.attributes.len() {
                self.attributes.push(Default::default());
            }
            let (key, slot) = &mut self.attributes[self.attributes_len];
            key.clear();
            key.push_str(local(attribute.key.0));
            slot.clear();
            slot.push_str(&value);
            self.attributes_len += 1;
        }
        if self.len == self.nodes.len() {
            self.nodes.push(Node::default());
        }
        let index = self.len;
        let node = &mut self.nodes[index];
        node.name.clear();
        node.name.push_str(local(element.name().0));
        node.attributes = first_attribute..self.attributes_len;
        node.text.clear();
        node.children.clear();
        self.len += 1;
        Ok(index)
    }

    /// Calls `found` with every non-blank value at `steps` below `start`, in document order; stops when it returns
    /// false.
    fn values<'t>(&'t self, start: usize, steps: &Steps, found: &mut dyn FnMut(&'t str) -> bool) {
        self.walk(start, &steps.segments, &mut |node| {
            let node = &self.nodes[node];
            let value = match &steps.attribute {
                Some(name) => self.attributes[node.attributes.clone()]
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.as_str()),
                None => Some(node.text.as_str()),
            };
            match value.filter(|value| !value.trim().is_empty()) {
                Some(value) => found(value),
                None => true,
            }
        });
    }

    /// Calls `found` with the nodes at `segments` below `node`, in document order, until it returns false; returns
    /// false when it stopped.
    fn walk(&self, node: usize, segments: &[String], found: &mut dyn FnMut(usize) -> bool) -> bool {
        match segments.split_first() {
            None => found(node),
            Some((first, rest)) => {
                for &child in &self.nodes[node].children {
                    if self.nodes[child].name == *first && !self.walk(child, rest, found) {
                        return false;
                    }
                }
                true
            }
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map(|(_, local)| local).unwrap_or(name)
}

/// Reads the records of an XML document and hands each to `record`. A document that is not well formed stops the
/// read with its line and column.
pub fn read(
    input: XmlInput<'_>,
    file: &str,
    config: &Config,
    record_path: &[String],
    encoding: Option<&'static Encoding>,
    record: &mut dyn FnMut(&Raw) -> Result<(), FundingError>,
) -> Result<u64, FundingError> {
    let parse_error = |message: String| FundingError::Parse { location: file.to_owned(), message };
    let io_error =
        |error: std::io::Error| FundingError::Parse { location: file.to_owned(), message: error.to_string() };
    let encoding = match encoding {
        Some(encoding) => encoding,
        None => declared_encoding(&input.head().map_err(io_error)?).map_err(parse_error)?,
    };
    let mut decoder = DecodingReader::new(input.open().map_err(io_error)?);
    decoder.set_encoding(encoding);
    let mut reader = Reader::from_reader(decoder);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut state = State { record_path, stack: Vec::new(), tree: Tree::default(), open: Vec::new(), root: None };
    let mut count = 0u64;
    let record_name: Arc<str> = record_path.join("/").into();
    let file_name: Arc<str> = file.into();
    let mut paths = Paths::new(config);
    // One record's values, overwritten by the next: its text buffers are reused.
    let mut raw = Raw::new(String::new());
    loop {
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(error) => {
                let at = reader.error_position();
                return Err(parse_error(format!("{} ({error})", position(input, encoding, at))));
            }
        };
        let at = reader.buffer_position();
        let position_error = |message: String| parse_error(format!("{} ({message})", position(input, encoding, at)));
        let finished = match event {
            Event::Start(element) => state.open(&element, false).map_err(position_error)?,
            Event::Empty(element) => state.open(&element, true).map_err(position_error)?,
            Event::End(_) => state.close(),
            Event::Text(text) => {
                state.append_text(&text.xml10_content());
                false
            }
            Event::CData(text) => {
                state.append_text(&text.into_inner());
                false
            }
            Event::GeneralRef(reference) => {
                let mut utf8 = [0u8; 4];
                let resolved: &str = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.encode_utf8(&mut utf8),
                    Ok(None) => {
                        let name = reference.into_inner();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(text) => text,
                            None => return Err(position_error(format!("unknown entity `&{name};`"))),
                        }
                    }
                    Err(error) => return Err(position_error(error.to_string())),
                };
                state.append_text(resolved);
                false
            }
            Event::Eof => break,
            _ => false,
        };
        if finished {
            count += 1;
            fill(&mut raw, &state.tree, &mut paths, &file_name, &record_name, count);
            record(&raw)?;
        }
    }
    let open = match state.open.last() {
        Some(node) => Some(state.tree.nodes[*node].name.clone()),
        None => state.stack.last().cloned(),
    };
    if let Some(open) = open {
        return Err(parse_error(format!("the document ends inside <{open}>: it is cut off")));
    }
    // An empty export of the right kind may be legitimate; an error page or another document is not.
    let wanted = record_path.first().map(String::as_str).unwrap_or_default();
    match state.root.as_deref() {
        None => return Err(parse_error("the document is empty: it has no root element".to_owned())),
        Some(root) if count == 0 && root != wanted => {
            return Err(parse_error(format!("the root element is <{root}>, not <{wanted}> (record_path)")))
        }
        _ => {}
    }
    Ok(count)
}

/// Where the reader is: the open elements and, inside a record, its tree and open nodes.
struct State<'p> {
    record_path: &'p [String],
    stack: Vec<String>,
    /// The record being read (when `open` is not empty) or the buffers of the last one.
    tree: Tree,
    /// The open nodes of the record, innermost last; empty outside a record.
    open: Vec<usize>,
    /// The document's root element (local name).
    root: Option<String>,
}

impl State<'_> {
    /// An element opens; returns true when an empty element `<Antrag …/>` is a whole record (then in `tree`).
    fn open(&mut self, element: &BytesStart<'_>, empty: bool) -> Result<bool, String> {
        if let Some(parent) = self.open.last().copied() {
            let index = self.tree.push(element)?;
            self.tree.nodes[parent].children.push(index);
            if !empty {
                self.open.push(index);
                // Only the depth matters inside a record (quick-xml checks end names); the tree holds the name.
                self.stack.push(String::new());
            }
            return Ok(false);
        }
        let name = local(element.name().0);
        let depth = self.stack.len();
        if depth == 0 && self.root.is_none() {
            self.root = Some(name.to_owned());
        }
        let opens_record = depth + 1 == self.record_path.len()
            && self.record_path[depth] == name
            && self.stack.iter().zip(self.record_path).all(|(open, wanted)| open == wanted);
        if opens_record {
            self.tree.clear();
            self.tree.push(element)?;
            if empty {
                return Ok(true);
            }
            self.open.push(0);
        }
        if !empty {
            self.stack.push(name.to_owned());
        }
        Ok(false)
    }

    /// An element closes; returns true when it was the record element (the record is then in `tree`).
    fn close(&mut self) -> bool {
        self.stack.pop();
        self.open.pop().is_some() && self.open.is_empty()
    }

    fn append_text(&mut self, text: &str) {
        if let Some(node) = self.open.last().copied() {
            self.tree.nodes[node].text.push_str(text);
        }
    }
}

/// Overwrites `raw` with the record in `tree`.
fn fill(raw: &mut Raw, tree: &Tree, paths: &mut Paths, file: &Arc<str>, record_path: &Arc<str>, index: u64) {
    raw.location = Location::Element { file: Arc::clone(file), record_path: Arc::clone(record_path), index };
    raw.disbursements.clear();
    for (field, alternatives) in &paths.fields {
        raw.places[*field] = None;
        let values = &mut raw.values[*field];
        if alternatives.is_empty() {
            values.clear();
        }
        for (steps, path) in alternatives {
            let mut found = 0;
            tree.values(0, steps, &mut |value| {
                // The previous record's strings take the text, so a record allocates nothing here.
                match values.get_mut(found) {
                    Some(Cell::Text(text)) => {
                        text.clear();
                        text.push_str(value);
                    }
                    Some(other) => *other = Cell::Text(value.to_owned()),
                    None => values.push(Cell::Text(value.to_owned())),
                }
                found += 1;
                true
            });
            values.truncate(found);
            if found > 0 {
                raw.places[*field] = Some(Arc::clone(path));
                break;
            }
        }
    }
    for DisbursementSteps { group, group_segments, date, amount, places } in &mut paths.disbursements {
        let mut number = 0;
        tree.walk(0, group_segments, &mut |node| {
            let first = |alternatives: &[Steps]| {
                let mut first = None;
                for steps in alternatives {
                    tree.values(node, steps, &mut |value| {
                        first = Some(Cell::Text(value.to_owned()));
                        false
                    });
                    if first.is_some() {
                        break;
                    }
                }
                first
            };
            number += 1;
            if places.len() < number {
                places.push(format!("{group}[{number}]").into());
            }
            raw.disbursements.push(RawDisbursement {
                date: date.as_deref().and_then(first),
                amount: first(amount),
                place: Arc::clone(&places[number - 1]),
            });
            true
        });
    }
}

/// "line 12, column 7" for a byte offset into the decoded document (as quick-xml counts it: UTF-8, without a
/// byte-order mark), found by decoding the document again up to there.
fn position(input: XmlInput<'_>, encoding: &'static Encoding, offset: u64) -> String {
    let counted = input.open().and_then(|opened| {
        let mut decoder = DecodingReader::new(opened);
        decoder.set_encoding(encoding);
        let (mut line, mut column, mut remaining) = (1u64, 1u64, offset);
        while remaining > 0 {
            let chunk = decoder.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let take = chunk.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
            for byte in &chunk[..take] {
                if *byte == b'\n' {
                    line += 1;
                    column = 1;
                } else if byte & 0xC0 != 0x80 {
                    // A character starts here (not a UTF-8 continuation byte).
                    column += 1;
                }
            }
            decoder.consume(take);
            remaining -= take as u64;
        }
        Ok((line, column))
    });
    match counted {
        Ok((line, column)) => format!("line {line}, column {column}"),
        Err(_) => format!("byte {offset} of the decoded document"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_from_the_declaration() {
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a/>"),
            Ok(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(declared_encoding(b"<?xml version='1.0' encoding = 'ISO-8859-15' ?>"), Ok(encoding_rs::ISO_8859_15));
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?><a/>"), Ok(encoding_rs::UTF_8));
        assert_eq!(
            declared_encoding(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"latin1\"?>"),
            Ok(encoding_rs::UTF_8)
        );
        assert!(declared_encoding(b"<?xml version=\"1.0\" encoding=\"klingon\"?>").is_err());
    }
}

//! XML exports, streamed: only the record being read is held in memory, as a small tree the field paths are
//! evaluated on.
//!
//! quick-xml reads UTF-8 only, so the encoding is taken from a byte-order mark or the declaration in the first KB
//! (`<?xml version="1.0" encoding="windows-1252"?>`) and the bytes go through quick-xml's `DecodingReader`.
//! Paths: `Antragsnummer`, `Traeger/Name`, `@nr` (an attribute of the record), `Schulen/Schule/@nr` (every match),
//! `.` (the record's own text). Names are compared without namespace prefixes.

use encoding_rs::Encoding;
use quick_xml::encoding::DecodingReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::config::{Config, FieldSpec};
use super::map::{Raw, RawDisbursement};
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// One element of the record being read.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<usize>,
}

/// The record's elements; node 0 is the record element.
#[derive(Debug, Default)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The values at `path` below `start`.
    fn values(&self, start: usize, path: &str) -> Vec<String> {
        let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
        let attribute = segments.last().and_then(|last| last.strip_prefix('@')).map(str::to_owned);
        if attribute.is_some() {
            segments.pop();
        }
        let nodes = self.walk(start, &segments);
        let mut values = Vec::new();
        for node in nodes {
            let node = &self.nodes[node];
            let value = match &attribute {
                Some(name) => node.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()),
                None => Some(node.text.clone()),
            };
            if let Some(value) = value.filter(|value| !value.trim().is_empty()) {
                values.push(value);
            }
        }
        values
    }

    fn walk(&self, start: usize, segments: &[&str]) -> Vec<usize> {
        let mut current = vec![start];
        for segment in segments {
            current = current
                .iter()
                .flat_map(|node| self.nodes[*node].children.iter().copied())
                .filter(|child| self.nodes[*child].name == *segment)
                .collect();
        }
        current
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map(|(_, local)| local).unwrap_or(name)
}

fn node_of(element: &BytesStart<'_>) -> Result<Node, String> {
    let mut node = Node { name: local(element.name().0).to_owned(), ..Node::default() };
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|error| error.to_string())?
            .into_owned();
        node.attributes.push((local(attribute.key.0).to_owned(), value));
    }
    Ok(node)
}

/// Reads the records of an XML document and hands each to `record`. A document that is not well formed stops the
/// read with its line and column.
pub fn read(
    bytes: &[u8],
    file: &str,
    config: &Config,
    record_path: &[String],
    encoding: Option<&'static Encoding>,
    record: &mut dyn FnMut(Raw) -> Result<(), FundingError>,
) -> Result<u64, FundingError> {
    let parse_error = |message: String| FundingError::Parse { location: file.to_owned(), message };
    let encoding = match encoding {
        Some(encoding) => encoding,
        None => declared_encoding(bytes).map_err(parse_error)?,
    };
    let mut decoder = DecodingReader::new(bytes);
    decoder.set_encoding(encoding);
    let mut reader = Reader::from_reader(decoder);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut state = State { record_path, stack: Vec::new(), tree: None, root: None };
    let mut count = 0u64;
    let record_name = record_path.join("/");
    loop {
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(error) => {
                let at = reader.error_position();
                return Err(parse_error(format!("{} ({error})", position(bytes, encoding, at))));
            }
        };
        let at = reader.buffer_position();
        let position_error = |message: String| parse_error(format!("{} ({message})", position(bytes, encoding, at)));
        let finished = match event {
            Event::Start(element) => state.open(&element, false).map_err(position_error)?,
            Event::Empty(element) => state.open(&element, true).map_err(position_error)?,
            Event::End(_) => state.close(),
            Event::Text(text) => {
                state.append_text(&text.xml10_content());
                None
            }
            Event::CData(text) => {
                state.append_text(&text.into_inner());
                None
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    Ok(None) => {
                        let name = reference.into_inner();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(text) => text.to_owned(),
                            None => return Err(position_error(format!("unknown entity `&{name};`"))),
                        }
                    }
                    Err(error) => return Err(position_error(error.to_string())),
                };
                state.append_text(&resolved);
                None
            }
            Event::Eof => break,
            _ => None,
        };
        if let Some(done) = finished {
            count += 1;
            record(raw_of(&done, config, file, &record_name, count))?;
        }
    }
    if let Some(open) = state.stack.last() {
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
    tree: Option<(Tree, Vec<usize>)>,
    /// The document's root element (local name).
    root: Option<String>,
}

impl State<'_> {
    /// An element opens; returns the record when an empty element `<Antrag …/>` is a whole record.
    fn open(&mut self, element: &BytesStart<'_>, empty: bool) -> Result<Option<Tree>, String> {
        let name = local(element.name().0);
        if let Some((current, open)) = self.tree.as_mut() {
            let node = node_of(element)?;
            let index = current.nodes.len();
            current.nodes.push(node);
            if let Some(parent) = open.last().copied() {
                current.nodes[parent].children.push(index);
            }
            if !empty {
                open.push(index);
                self.stack.push(name.to_owned());
            }
            return Ok(None);
        }
        let depth = self.stack.len();
        if depth == 0 && self.root.is_none() {
            self.root = Some(name.to_owned());
        }
        let opens_record = depth + 1 == self.record_path.len()
            && self.record_path[depth] == name
            && self.stack.iter().zip(self.record_path).all(|(open, wanted)| open == wanted);
        if opens_record {
            let mut tree = Tree::default();
            tree.nodes.push(node_of(element)?);
            if empty {
                return Ok(Some(tree));
            }
            self.tree = Some((tree, vec![0]));
        }
        if !empty {
            self.stack.push(name.to_owned());
        }
        Ok(None)
    }

    /// An element closes; returns the record when it was the record element.
    fn close(&mut self) -> Option<Tree> {
        self.stack.pop();
        let (_, open) = self.tree.as_mut()?;
        open.pop();
        if open.is_empty() {
            self.tree.take().map(|(tree, _)| tree)
        } else {
            None
        }
    }

    fn append_text(&mut self, text: &str) {
        if let Some((current, open)) = self.tree.as_mut() {
            if let Some(node) = open.last().copied() {
                current.nodes[node].text.push_str(text);
            }
        }
    }
}

fn raw_of(tree: &Tree, config: &Config, file: &str, record_name: &str, index: u64) -> Raw {
    let mut raw = Raw::new(format!("{file}, /{record_name}[{index}]"));
    for FieldSpec { field, paths } in &config.fields {
        for path in paths {
            let values = tree.values(0, path);
            if !values.is_empty() {
                raw.values[field.index()] = values.into_iter().map(Cell::Text).collect();
                raw.places[field.index()] = Some(path.clone());
                break;
            }
        }
    }
    for spec in &config.disbursements {
        let group = spec.path.as_deref().unwrap_or_default();
        let segments: Vec<&str> = group.split('/').filter(|s| !s.is_empty()).collect();
        for (number, node) in tree.walk(0, &segments).into_iter().enumerate() {
            let first = |paths: &[String]| {
                paths.iter().find_map(|path| tree.values(node, path).into_iter().next()).map(Cell::Text)
            };
            raw.disbursements.push(RawDisbursement {
                date: spec.date.as_deref().and_then(first),
                amount: first(&spec.amount),
                place: format!("{group}[{}]", number + 1),
            });
        }
    }
    raw
}

/// "line 12, column 7" for a byte offset into the decoded document.
fn position(bytes: &[u8], encoding: &'static Encoding, offset: u64) -> String {
    let body = match Encoding::for_bom(bytes) {
        Some((_, length)) => &bytes[length..],
        None => bytes,
    };
    let text = encoding.decode_without_bom_handling(body).0;
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or_default();
    let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
    let line_start = before.iter().rposition(|byte| *byte == b'\n').map(|at| at + 1).unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    format!("line {line}, column {column}")
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

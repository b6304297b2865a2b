//! A forgiving XML reader for ALLRIS's export: quick-xml's events folded into a small element tree.
//!
//! The export is sloppy in known ways, each met here rather than by hand-cleaning the text:
//! - a Latin-1 declaration over windows-1252 bytes (0x96 en dash): the bytes are decoded as the HTML pages are
//!   ([`crate::allris::html::decode`]) and quick-xml reads the decoded text;
//! - HTML entities XML does not declare (`&nbsp;`, `&auml;`): resolved through quick-xml's HTML5 entity table, an
//!   unknown one kept as written; a bare `&` stays an `&` (`allow_dangling_amp`);
//! - HTML pasted into text fields with unclosed (`<br>`, `<p>`) and mismatched tags: end names are not checked
//!   (`check_end_names = false`, `allow_unmatched_ends`) and the tree closes open elements up to the matching one,
//!   ignoring an end tag nothing opened; void HTML elements never take children.
//!
//! Element names are compared without case and namespace prefix (`SILFDNR`, `silfdnr`).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::allris::html::clean;

/// One element: its lower-case local name and its content in document order.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub name: String,
    pub content: Vec<Content>,
}

#[derive(Debug)]
pub(crate) enum Content {
    Text(String),
    Element(Element),
}

/// A document that cannot be read even leniently, with its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// HTML elements without content: `<br>` in pasted HTML is never closed.
const VOID: [&str; 8] = ["br", "hr", "img", "meta", "link", "input", "col", "wbr"];

fn name_of(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_lowercase()
}

/// Reads a whole export document into a tree whose root is a synthetic element holding the top-level content.
pub(crate) fn read(bytes: &[u8]) -> Result<Element, ReadError> {
    let text = crate::allris::html::decode(bytes);
    let mut reader = Reader::from_str(&text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    // The stack of open elements; index 0 is the document.
    let mut open: Vec<Element> = vec![Element { name: String::new(), content: Vec::new() }];
    loop {
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX).min(text.len());
            position_error(&text, at, error.to_string())
        })?;
        match event {
            Event::Start(start) => {
                let name = name_of(&start);
                if VOID.contains(&name.as_str()) {
                    push(&mut open, Content::Element(Element { name, content: Vec::new() }));
                } else {
                    open.push(Element { name, content: Vec::new() });
                }
            }
            Event::Empty(start) => {
                push(&mut open, Content::Element(Element { name: name_of(&start), content: vec![] }))
            }
            Event::End(end) => {
                let name = end.local_name().as_ref().to_lowercase();
                // Close up to the matching open element; an end tag nothing opened is ignored.
                if let Some(depth) = open.iter().skip(1).rposition(|element| element.name == name) {
                    while open.len() > depth + 1 {
                        close(&mut open);
                    }
                }
            }
            Event::Text(text) => push_text(&mut open, &text.xml10_content()),
            Event::CData(data) => push_text(&mut open, &data.into_inner()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    _ => {
                        let name = reference.into_inner();
                        quick_xml::escape::resolve_xml_entity(&name)
                            .or_else(|| quick_xml::escape::resolve_html5_entity(&name))
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("&{name};"))
                    }
                };
                push_text(&mut open, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // A document cut off inside an element keeps what it has; missing fields are reported by the caller.
    while open.len() > 1 {
        close(&mut open);
    }
    Ok(open.pop().unwrap_or_default())
}

fn push(open: &mut [Element], content: Content) {
    if let Some(parent) = open.last_mut() {
        parent.content.push(content);
    }
}

fn push_text(open: &mut [Element], text: &str) {
    let Some(parent) = open.last_mut() else { return };
    match parent.content.last_mut() {
        Some(Content::Text(existing)) => existing.push_str(text),
        _ => parent.content.push(Content::Text(text.to_owned())),
    }
}

fn close(open: &mut Vec<Element>) {
    if let Some(element) = open.pop() {
        push(open, Content::Element(element));
    }
}

fn position_error(text: &str, at: usize, message: String) -> ReadError {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|line| line.chars().count()).unwrap_or(0) + 1;
    ReadError { line, column, message }
}

impl Element {
    pub fn children(&self) -> impl Iterator<Item = &Element> {
        self.content.iter().filter_map(|content| match content {
            Content::Element(element) => Some(element),
            Content::Text(_) => None,
        })
    }

    /// This element and every element below it, depth first.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![self];
        let mut index = 0;
        while index < out.len() {
            let element = out[index];
            out.extend(element.children());
            index += 1;
        }
        out
    }

    /// The first child named one of `names` (lower case).
    pub fn child(&self, names: &[&str]) -> Option<&Element> {
        self.children().find(|child| names.contains(&child.name.as_str()))
    }

    /// The clean one-line text of the first child named one of `names`, if it has any.
    pub fn field(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|name| self.child(&[name]).map(Element::inline_text).filter(|text| !text.is_empty()))
    }

    /// All text below this element on one line, whitespace collapsed.
    pub fn inline_text(&self) -> String {
        let mut out = String::new();
        self.collect(&mut out, false);
        clean(&out)
    }

    /// Text with line breaks at block elements (pasted HTML: `p`, `div`, `br`, `li` …), each line cleaned, empty
    /// lines dropped. Escaped HTML (`&lt;p&gt;…`) in a text field is parsed as HTML.
    pub fn block_text(&self) -> String {
        let mut raw = String::new();
        self.collect(&mut raw, true);
        if self.children().next().is_none() && raw.contains('<') && raw.contains('>') {
            let fragment = scraper::Html::parse_fragment(&raw);
            let mut text = crate::allris::html::BlockText::new();
            text.push_node(*fragment.root_element());
            return text.finish();
        }
        raw.lines().map(clean).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("\n")
    }

    fn collect(&self, out: &mut String, blocks: bool) {
        if matches!(self.name.as_str(), "head" | "script" | "style" | "title") {
            return;
        }
        let block = crate::allris::html::is_block(&self.name) || self.name == "br";
        if block {
            out.push(if blocks { '\n' } else { ' ' });
        }
        if blocks && self.name == "li" {
            out.push_str("• ");
        }
        for content in &self.content {
            match content {
                Content::Text(text) => out.push_str(text),
                Content::Element(element) => element.collect(out, blocks),
            }
        }
        if block || matches!(self.name.as_str(), "td" | "th") {
            out.push(if blocks && block { '\n' } else { ' ' });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_entities_windows_1252_and_a_bare_ampersand_are_read() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><list><item><grname>Bau-&amp;&nbsp;Umwelt \x96 \
            Gr\xfcn & Blau&auml;&#8364;&unbekannt;</grname></item></list>";
        let root = read(bytes).expect("read");
        let item = &root.descendants()[2];
        assert_eq!(item.field(&["grname"]).as_deref(), Some("Bau-& Umwelt \u{2013} Grün & Blauä€&unbekannt;"));
    }

    #[test]
    fn unclosed_and_mismatched_tags_close_at_their_parent() {
        let bytes = b"<root><rtfBS><html><body><p>Erste<br>Zeile<p>Zweite</b></body></html></rtfBS>\
            <TOPTEXT>Text</toptext></root>";
        let root = read(bytes).expect("read");
        let top = root.child(&["root"]).expect("root");
        assert_eq!(top.child(&["rtfbs"]).map(Element::block_text).as_deref(), Some("Erste\nZeile\nZweite"));
        assert_eq!(top.field(&["toptext"]).as_deref(), Some("Text"));
    }

    #[test]
    fn a_pasted_document_with_its_own_declaration_and_doctype_is_read() {
        let bytes = b"<to020><rtfBS><?xml version=\"1.0\" encoding=\"iso-8859-1\" standalone=\"no\"?><!DOCTYPE html \
            PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"x.dtd\"><html><head><title>T</title></head><body>\
            <p>Beschluss:</p><p>Angenommen.</p></body></html></rtfBS></to020>";
        let root = read(bytes).expect("read");
        let field = root.descendants().into_iter().find(|element| element.name == "rtfbs").expect("field");
        assert_eq!(field.block_text(), "Beschluss:\nAngenommen.");
    }

    #[test]
    fn escaped_html_in_a_field_is_read_as_html() {
        let root =
            read(b"<x><rtfBS>&lt;p&gt;Eins&lt;/p&gt;&lt;p&gt;Zwei&amp;nbsp;drei&lt;/p&gt;</rtfBS></x>").expect("read");
        let field = root.descendants().into_iter().find(|element| element.name == "rtfbs").expect("field");
        assert_eq!(field.block_text(), "Eins\nZwei drei");
    }

    #[test]
    fn a_cut_off_document_keeps_what_it_has_and_broken_markup_names_its_line() {
        let root = read(b"<list>\n<item><silfdnr>7</silfdnr>\n<item><silfdnr>8").expect("read");
        let ids: Vec<String> = root.descendants().iter().filter_map(|element| element.field(&["silfdnr"])).collect();
        assert_eq!(ids, ["7", "8"]);
        let error = read(b"<list>\n<item a=\"1></list>").expect_err("an unclosed attribute cannot be read");
        assert_eq!(error.line, 2, "{error:?}");
    }
}

//! Small helpers over the parsed HTML tree: decoding, clean text, fields found by their label, link parameters.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Node, Selector};

/// Parses a static CSS selector; a typo is a programming error caught by every test.
pub(crate) fn sel(css: &'static str) -> Selector {
    Selector::parse(css).unwrap_or_else(|error| panic!("invalid static selector `{css}`: {error}"))
}

/// Decodes a page. ALLRIS classic declares iso-8859-1 but sends windows-1252 bytes (0x96 en dash), so every
/// Latin-1 declaration is read as windows-1252; a UTF-8 declaration or valid UTF-8 (ALLRIS 4) is read as UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(2048)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let declares_latin = ["iso-8859-1", "iso-8859-15", "latin1", "windows-1252"].iter().any(|name| head.contains(name));
    let declares_utf8 = head.contains("utf-8");
    if !declares_latin || declares_utf8 {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return text.trim_start_matches('\u{feff}').to_owned();
        }
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    text.into_owned()
}

/// Collapses runs of whitespace (non-breaking spaces included) to one space and trims.
pub(crate) fn clean(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn non_empty(text: String) -> Option<String> {
    if text.is_empty() {
        None
    } else {
        Some(text)
    }
}

/// The element's visible text on one line, without scripts and styles.
pub(crate) fn inline_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_inline(*element, &mut out);
    clean(&out)
}

fn collect_inline(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(text) => out.push_str(text),
        Node::Element(element) => {
            let name = element.name();
            if matches!(name, "script" | "style" | "title" | "head") {
                return;
            }
            if name == "br" {
                out.push(' ');
            }
            for child in node.children() {
                collect_inline(child, out);
            }
            if matches!(name, "td" | "th" | "p" | "div" | "li") {
                out.push(' ');
            }
        }
        _ => {}
    }
}

/// Text with line breaks at block boundaries, each line's whitespace collapsed, empty lines dropped.
pub(crate) struct BlockText {
    raw: String,
}

impl BlockText {
    pub(crate) fn new() -> Self {
        BlockText { raw: String::new() }
    }

    /// Appends `node` and everything below it.
    pub(crate) fn push_node(&mut self, node: ego_tree::NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(text) => self.raw.push_str(text),
            Node::Element(element) => {
                let name = element.name();
                if matches!(name, "script" | "style" | "title" | "head" | "meta" | "link") {
                    return;
                }
                let block = is_block(name);
                if block || name == "br" {
                    self.raw.push('\n');
                }
                if name == "li" {
                    self.raw.push_str("• ");
                }
                for child in node.children() {
                    self.push_node(child);
                }
                if block {
                    self.raw.push('\n');
                }
                if matches!(name, "td" | "th") {
                    self.raw.push(' ');
                }
            }
            _ => {}
        }
    }

    pub(crate) fn finish(self) -> String {
        self.raw.lines().map(clean).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("\n")
    }
}

pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "dl"
            | "dt"
            | "dd"
            | "section"
            | "blockquote"
            | "pre"
    )
}

/// Normalises a label for comparison: "Federführend:" → "federführend".
fn label_key(text: &str) -> String {
    clean(text).trim_end_matches(':').trim().to_lowercase()
}

// Table headers (`th`) are column titles, not field labels.
static LABEL_CELLS: LazyLock<Selector> = LazyLock::new(|| sel("td, dt"));

/// The value cell of the first field labelled with one of `labels` ("Betreff", "Drucksache-Art" …): the element
/// after a `td` label cell (ALLRIS classic) or the `dd` after a `dt` (ALLRIS 4). Labels are compared without
/// case and trailing colon; fields are never found by position.
pub(crate) fn field<'a>(scope: ElementRef<'a>, labels: &[&str]) -> Option<ElementRef<'a>> {
    let wanted: Vec<String> = labels.iter().map(|label| label_key(label)).collect();
    scope.select(&LABEL_CELLS).find_map(|cell| {
        // A label cell holds only the label; a cell that merely contains the word is a value.
        let key = label_key(&inline_text(cell));
        if !wanted.contains(&key) {
            return None;
        }
        next_element(cell)
    })
}

/// The text of a labelled field, if it has any.
pub(crate) fn field_text(scope: ElementRef<'_>, labels: &[&str]) -> Option<String> {
    field(scope, labels).map(inline_text).and_then(non_empty)
}

pub(crate) fn next_element(element: ElementRef<'_>) -> Option<ElementRef<'_>> {
    element.next_siblings().find_map(ElementRef::wrap)
}

/// The value of `key` in a link's query ("vo020.asp?VOLFDNR=1234&x=1" → "1234"), compared without case.
pub(crate) fn query_param(href: &str, key: &str) -> Option<String> {
    let query = href.split_once('?').map(|(_, query)| query).unwrap_or(href);
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').filter_map(|pair| pair.split_once('=')).find_map(|(name, value)| {
        let name = name.trim_start_matches("amp;");
        (name.eq_ignore_ascii_case(key) && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The first `key` parameter in a link (`a[href]`) or hidden form field (`input[name=key]`) below `scope` whose
/// link target or form action contains `page` (e.g. "to010").
pub(crate) fn linked_id(scope: ElementRef<'_>, page: &str, key: &str) -> Option<String> {
    static LINKS: LazyLock<Selector> = LazyLock::new(|| sel("a[href], form"));
    static HIDDEN: LazyLock<Selector> = LazyLock::new(|| sel("input[name]"));
    for element in scope.select(&LINKS) {
        if element.value().name() == "a" {
            let href = element.attr("href").unwrap_or_default();
            if href.to_ascii_lowercase().contains(page) {
                if let Some(value) = query_param(href, key) {
                    return Some(value);
                }
            }
        } else {
            let action = element.attr("action").unwrap_or_default();
            if !action.to_ascii_lowercase().contains(page) {
                continue;
            }
            let hidden = element
                .select(&HIDDEN)
                .find(|input| input.attr("name").is_some_and(|name| name.eq_ignore_ascii_case(key)))
                .and_then(|input| input.attr("value"))
                .map(str::to_owned);
            if let Some(value) = hidden.or_else(|| query_param(action, key)) {
                return Some(value);
            }
        }
    }
    None
}

/// The first link below `scope` to `page` carrying `key`, with its id and text.
pub(crate) fn link_to<'a>(scope: ElementRef<'a>, page: &str, key: &str) -> Option<(String, ElementRef<'a>)> {
    static ANCHORS: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
    scope.select(&ANCHORS).find_map(|link| {
        let href = link.attr("href")?;
        if !href.to_ascii_lowercase().contains(page) {
            return None;
        }
        query_param(href, key).map(|id| (id, link))
    })
}

/// The content of `<meta name=…>`.
pub(crate) fn meta(document: &Html, name: &str) -> Option<String> {
    static METAS: LazyLock<Selector> = LazyLock::new(|| sel("meta[name]"));
    document
        .select(&METAS)
        .find(|meta| meta.attr("name").is_some_and(|value| value.eq_ignore_ascii_case(name)))
        .and_then(|meta| meta.attr("content"))
        .map(clean)
        .and_then(non_empty)
}

/// Joins a possibly relative link onto the page's URL; without a base the link stays as written.
pub(crate) fn absolute(base: Option<&str>, href: &str) -> String {
    match base.and_then(|base| reqwest::Url::parse(base).ok()).and_then(|base| base.join(href).ok()) {
        Some(url) => url.to_string(),
        None => href.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_declared_pages_are_read_as_windows_1252() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><p>a \x96 b \xfc</p>";
        assert_eq!(decode(bytes), "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><p>a \u{2013} b \u{fc}</p>");
        assert_eq!(
            decode("<meta charset=\"utf-8\"><p>Gr\u{fc}n</p>".as_bytes()),
            "<meta charset=\"utf-8\"><p>Gr\u{fc}n</p>"
        );
    }

    #[test]
    fn query_parameters_ignore_case_and_escaped_ampersands() {
        assert_eq!(query_param("to010.asp?SILFDNR=12&amp;TOLFDNR=34#x", "tolfdnr").as_deref(), Some("34"));
        assert_eq!(query_param("vo020.asp?VOLFDNR=", "VOLFDNR"), None);
    }
}

//! Clean text from the text sections of a page.
//!
//! ALLRIS classic pastes each section (Sachverhalt = facts of the case, Beschlussvorschlag = proposed resolution,
//! Finanzielle Auswirkung = financial impact, Begründung = reasons, Anlagen = attachments; on agenda items
//! Wortprotokoll, Beschluss, Abstimmungsergebnis) as a whole RTF→HTML document after an anchor `<a name="allrisSV">`.
//! The HTML parser folds those nested `<html><body>` documents into the page, so a section is everything after its
//! anchor up to the next `allris…` anchor inside the same cell. ALLRIS 4 puts each section in a `div.docPart` under
//! an `h2` heading.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Node, Selector};

use super::html::{clean, sel, BlockText};
use crate::de;
use crate::model::{Cents, PaperSections};

/// Which field a section fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Sachverhalt,
    Beschlussvorschlag,
    FinanzielleAuswirkung,
    Begruendung,
    Anlagen,
    /// Wortprotokoll (minutes of an agenda item).
    Protokoll,
    /// Beschluss (resolution of an agenda item).
    Beschluss,
    /// Abstimmungsergebnis (vote).
    Abstimmung,
}

impl Section {
    pub(crate) fn from_anchor(name: &str) -> Option<Self> {
        match name.trim_start_matches("allris").to_ascii_uppercase().as_str() {
            "SV" => Some(Section::Sachverhalt),
            "BV" => Some(Section::Beschlussvorschlag),
            "FA" | "FI" => Some(Section::FinanzielleAuswirkung),
            "BG" | "BE" => Some(Section::Begruendung),
            "AN" => Some(Section::Anlagen),
            "WP" => Some(Section::Protokoll),
            "BS" => Some(Section::Beschluss),
            "AE" => Some(Section::Abstimmung),
            _ => None,
        }
    }

    /// A heading as the section's document or an ALLRIS 4 `h2` writes it.
    pub(crate) fn from_heading(heading: &str) -> Option<Self> {
        let key = clean(heading).trim_end_matches(':').trim().to_lowercase();
        let section = match key.as_str() {
            "sachverhalt" | "sachdarstellung" => Section::Sachverhalt,
            "beschlussvorschlag" | "beschlussempfehlung" | "petitum/beschluss" | "petitum" => {
                Section::Beschlussvorschlag
            }
            "finanzielle auswirkung" | "finanzielle auswirkungen" | "finanzielle auswirkungen/haushaltsmittel" => {
                Section::FinanzielleAuswirkung
            }
            "begründung" => Section::Begruendung,
            "anlagen" | "anlage/n" | "anlage" => Section::Anlagen,
            "protokoll" | "wortprotokoll" => Section::Protokoll,
            "beschluss" => Section::Beschluss,
            "abstimmungsergebnis" | "abstimmung" => Section::Abstimmung,
            _ => return None,
        };
        Some(section)
    }
}

/// The sections of a classic page in page order, each as clean text (blank sections left out).
pub(crate) fn classic_sections(document: &Html) -> Vec<(Section, String)> {
    static ANCHORS: LazyLock<Selector> = LazyLock::new(|| sel("a[name]"));
    let mut sections = Vec::new();
    for anchor in document.select(&ANCHORS) {
        let Some(name) = anchor.attr("name").filter(|name| name.starts_with("allris")) else { continue };
        let Some(parent) = anchor.parent() else { continue };
        let mut walker = Walker { start: anchor.id(), state: State::Before, text: BlockText::new() };
        walker.visit(parent);
        let text = strip_noise(&walker.text.finish());
        let (heading_section, text) = split_heading(&text);
        let Some(section) = heading_section.or_else(|| Section::from_anchor(name)) else { continue };
        if !text.is_empty() {
            sections.push((section, text));
        }
    }
    sections
}

#[derive(PartialEq)]
enum State {
    Before,
    Collecting,
    Done,
}

struct Walker {
    start: ego_tree::NodeId,
    state: State,
    text: BlockText,
}

impl Walker {
    fn visit(&mut self, node: ego_tree::NodeRef<'_, Node>) {
        if self.state == State::Done {
            return;
        }
        if node.id() == self.start {
            self.state = State::Collecting;
            return;
        }
        if let Node::Element(element) = node.value() {
            let is_anchor =
                element.name() == "a" && element.attr("name").is_some_and(|name| name.starts_with("allris"));
            if is_anchor && self.state == State::Collecting {
                self.state = State::Done;
                return;
            }
        }
        match self.state {
            State::Collecting => {
                // An element that contains the next anchor must be walked, not taken whole.
                if contains_anchor(node) {
                    for child in node.children() {
                        self.visit(child);
                    }
                } else {
                    self.text.push_node(node);
                }
            }
            State::Before => {
                for child in node.children() {
                    self.visit(child);
                }
            }
            State::Done => {}
        }
    }
}

fn contains_anchor(node: ego_tree::NodeRef<'_, Node>) -> bool {
    node.descendants().skip(1).any(|descendant| {
        matches!(descendant.value(), Node::Element(element)
            if element.name() == "a" && element.attr("name").is_some_and(|name| name.starts_with("allris")))
    })
}

/// A section document's block text as a page shows it: without the generator's banner, its heading line split off.
pub(crate) fn section_text(block_text: &str) -> (Option<Section>, String) {
    split_heading(&strip_noise(block_text))
}

/// Drops the generator's banner lines ("ALLRIS® Office Integration 3.9.2").
fn strip_noise(text: &str) -> String {
    text.lines().filter(|line| !line.starts_with("ALLRIS® Office Integration")).collect::<Vec<_>>().join("\n")
}

/// Splits a leading heading line ("Sachverhalt:") off a section's text.
fn split_heading(text: &str) -> (Option<Section>, String) {
    let mut lines = text.lines();
    if let Some(first) = lines.next() {
        if let Some(section) = Section::from_heading(first) {
            return (Some(section), lines.collect::<Vec<_>>().join("\n"));
        }
    }
    (None, text.to_owned())
}

/// The sections of an ALLRIS 4 page: each `h2` heading's following `.docPart` documents.
pub(crate) fn allris4_sections(document: &Html) -> Vec<(Section, String)> {
    static HEADINGS: LazyLock<Selector> = LazyLock::new(|| sel("h2"));
    static PARTS: LazyLock<Selector> = LazyLock::new(|| sel(".docPart"));
    let mut sections = Vec::new();
    for heading in document.select(&HEADINGS) {
        let Some(section) = Section::from_heading(&heading.text().collect::<String>()) else { continue };
        let mut text = BlockText::new();
        for sibling in heading.next_siblings() {
            let Some(element) = ElementRef::wrap(sibling) else { continue };
            if element.value().name() == "h2" {
                break;
            }
            let parts: Vec<_> = element.select(&PARTS).collect();
            if element.value().classes().any(|class| class == "docPart") || parts.is_empty() {
                text.push_node(sibling);
            } else {
                for part in parts {
                    text.push_node(*part);
                }
            }
        }
        let text = text.finish();
        if !text.is_empty() {
            sections.push((section, text));
        }
    }
    sections
}

/// Puts sections into the paper's fields; a second document for the same field is appended.
pub(crate) fn paper_sections(sections: &[(Section, String)]) -> PaperSections {
    let mut out = PaperSections::default();
    for (section, text) in sections {
        let slot = match section {
            Section::Sachverhalt => &mut out.sachverhalt,
            Section::Beschlussvorschlag => &mut out.beschlussvorschlag,
            Section::FinanzielleAuswirkung => &mut out.finanzielle_auswirkung,
            Section::Begruendung => &mut out.begruendung,
            _ => continue,
        };
        match slot {
            Some(existing) => {
                existing.push('\n');
                existing.push_str(text);
            }
            None => *slot = Some(text.clone()),
        }
    }
    out
}

/// The one-off ("einmalig") and annual ("jährlich", "laufend") amounts of a financial impact text:
/// "einmalig ca. 0 €  jährlich folgend ca. 10.000 €" → (0 EUR, 10,000 EUR).
pub(crate) fn financial_impact(text: &str) -> (Option<Cents>, Option<Cents>) {
    let lower = text.to_lowercase();
    let once = find_after(&lower, &["einmalig"]);
    let annual = find_after(&lower, &["jährlich folgend", "jährlich", "laufend", "jaehrlich"]);
    (once, annual)
}

fn find_after(text: &str, words: &[&str]) -> Option<Cents> {
    let (word, start) = words.iter().find_map(|word| text.find(word).map(|at| (*word, at)))?;
    let rest = &text[start + word.len()..];
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace() || c == '\u{a0}');
    let rest = rest.strip_prefix("folgend").unwrap_or(rest);
    // The amount runs up to the currency sign (or word) after the first digit.
    let digit = rest.find(|c: char| c.is_ascii_digit())?;
    if rest[..digit].chars().filter(|c| c.is_alphabetic()).count() > 6 {
        return None;
    }
    let end = ["€", "eur"]
        .iter()
        .filter_map(|sign| rest[digit..].find(sign).map(|at| digit + at + sign.len()))
        .min()
        .unwrap_or(rest.len());
    de::parse_amount(&rest[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_impact_reads_one_off_and_annual_amounts() {
        assert_eq!(
            financial_impact("einmalig ca. 0 €  jährlich folgend ca. 10.000 €"),
            (Some(Cents(0)), Some(Cents(1_000_000)))
        );
        assert_eq!(financial_impact("Keine."), (None, None));
        assert_eq!(financial_impact("einmalig: 1.234,50 EUR"), (Some(Cents(123_450)), None));
    }

    #[test]
    fn sections_end_at_the_next_anchor() {
        let html = "<table><tr><td><hr/><a name=\"allrisSV\"></a><?xml version=\"1.0\"?><html><head><title></title>\
            </head><body><div><p>Sachverhalt:</p><p>Erste&nbsp;Zeile</p><ul><li>Punkt</li></ul></div></body></html>\
            <a name=\"allrisBV\"></a><html><body><p>Beschlussvorschlag:</p><p>Es wird  zugestimmt.</p></body></html>\
            </td><td>Rand</td></tr></table>";
        let sections = classic_sections(&Html::parse_document(html));
        assert_eq!(
            sections,
            vec![
                (Section::Sachverhalt, "Erste Zeile\n• Punkt".to_owned()),
                (Section::Beschlussvorschlag, "Es wird zugestimmt.".to_owned())
            ]
        );
    }
}

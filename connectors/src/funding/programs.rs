//! The programs records refer to, with their measure codes (Maßnahmen), read from the JSON-lines file the `records`
//! connector imports: one source of truth for programs, so a measure added there is valid everywhere.

use std::path::Path;

use crate::model::{FundingProgram, Record};

/// What the funding connectors need to know about a program.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProgramInfo {
    pub id: String,
    /// Valid codes; empty: any code is taken as it is.
    pub measures: Vec<String>,
    /// (code, name) pairs, for matching a measure given by name ("Sofortausstattung").
    pub names: Vec<(String, String)>,
}

impl From<&FundingProgram> for ProgramInfo {
    fn from(program: &FundingProgram) -> Self {
        ProgramInfo {
            id: program.id.clone(),
            measures: program.measures.clone(),
            names: program.measure_names.iter().map(|(code, name)| (code.clone(), name.clone())).collect(),
        }
    }
}

impl ProgramInfo {
    /// The measure code `text` means: the code itself (any case, "Maßnahme 2.1", "2.1 Vernetzung") or a measure's
    /// name. `Ok(None)` for an empty text; `Err` when the program has codes and none matches.
    pub fn resolve_measure(&self, text: &str) -> Result<Option<String>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if self.measures.is_empty() {
            return Ok(Some(text.to_owned()));
        }
        let lower = text.to_lowercase();
        let stripped = ["maßnahme", "massnahme", "nr.", "ziffer"]
            .iter()
            .fold(lower.as_str(), |rest, word| rest.strip_prefix(word).map(str::trim_start).unwrap_or(rest));
        let first_word = stripped.split(|c: char| c.is_whitespace() || c == ':' || c == '–').next().unwrap_or("");
        let by_code = self.measures.iter().find(|code| {
            let code = code.to_lowercase();
            code == stripped || code == first_word
        });
        // A name as written, or its start ("Sofortausstattungsprogramm" for "Sofortausstattungsprogramm: mobile …").
        let by_name = || {
            self.names
                .iter()
                .find(|(_, name)| {
                    let name = name.to_lowercase();
                    name == lower || (lower.chars().count() >= 6 && name.starts_with(&lower))
                })
                .map(|(code, _)| code)
        };
        match by_code.or_else(by_name) {
            Some(code) => Ok(Some(code.clone())),
            None => Err(format!(
                "`{text}` is not a measure of the program `{}` (valid: {})",
                self.id,
                self.measures.join(", ")
            )),
        }
    }
}

/// Reads the funding programs of a JSON-lines records file. Other records in the file are skipped.
pub fn load(path: &Path) -> Result<Vec<ProgramInfo>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    parse(&text).map_err(|message| format!("{}: {message}", path.display()))
}

pub fn parse(text: &str) -> Result<Vec<ProgramInfo>, String> {
    let mut programs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        // Only program lines are parsed; a bad line elsewhere is the records connector's business.
        if !line.contains("\"funding_program\"") {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(Record::FundingProgram(program)) => programs.push(ProgramInfo::from(&program)),
            Ok(_) => {}
            Err(error) => return Err(format!("line {}: {error}", index + 1)),
        }
    }
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digitalpakt() -> ProgramInfo {
        ProgramInfo {
            id: "digitalpakt-schule-ni".into(),
            measures: vec!["2.1".into(), "2.2".into(), "sofortausstattung".into()],
            names: vec![("sofortausstattung".into(), "Sofortausstattungsprogramm".into())],
        }
    }

    #[test]
    fn measures_by_code_and_name() {
        let program = digitalpakt();
        assert_eq!(program.resolve_measure(" 2.1 "), Ok(Some("2.1".into())));
        assert_eq!(program.resolve_measure("Maßnahme 2.2"), Ok(Some("2.2".into())));
        assert_eq!(program.resolve_measure("2.1 Vernetzung"), Ok(Some("2.1".into())));
        assert_eq!(program.resolve_measure("Sofortausstattungsprogramm"), Ok(Some("sofortausstattung".into())));
        assert_eq!(program.resolve_measure(""), Ok(None));
        assert!(program.resolve_measure("2.9").is_err());
        assert!(program.resolve_measure("2.11").is_err());
        let any = ProgramInfo { id: "foerderkatalog".into(), ..ProgramInfo::default() };
        assert_eq!(any.resolve_measure("B11020"), Ok(Some("B11020".into())));
    }
}

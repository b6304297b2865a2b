//! Reading a connector's kind-specific settings from its config table, reporting every problem at once.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default), collected with `serde_ignored`;
//! type errors and missing fields name their path through `serde_path_to_error`. Paths are relative to the
//! connector's table ("columns.school_number"), so the config loader can point at file, line and column.

use serde::de::DeserializeOwned;

/// One problem with one field of a connector's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path inside the connector's table: "columns.school_number"; empty for the table itself.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Deserialises `table` (the connector's table without the common keys) into `T`.
pub fn parse_settings<T: DeserializeOwned>(table: &toml::Table) -> Result<T, Vec<FieldError>> {
    let mut errors = Vec::new();
    let value = toml::Value::Table(table.clone());
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let ignored = serde_ignored::Deserializer::new(value, &mut on_unknown);
    let result: Result<T, _> = serde_path_to_error::deserialize(ignored);
    for path in unknown {
        errors.push(FieldError::new(path, "unknown key"));
    }
    match result {
        Ok(settings) if errors.is_empty() => Ok(settings),
        Ok(_) => Err(errors),
        Err(error) => {
            let path = error.path().to_string();
            let field = if path == "." { String::new() } else { path };
            errors.push(FieldError::new(field, error.into_inner().to_string()));
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Settings {
        sheet: Option<String>,
        header_row: Option<u32>,
        columns: std::collections::BTreeMap<String, String>,
    }

    #[test]
    fn reports_unknown_keys_with_their_path() {
        let table: toml::Table =
            toml::from_str("sheet = 'Schulen'\nshet = 'x'\n[columns]\nname = 'Name'\n").expect("valid toml");
        let errors = parse_settings::<Settings>(&table).expect_err("unknown key");
        assert_eq!(errors, vec![FieldError::new("shet", "unknown key")]);
    }

    #[test]
    fn reports_type_errors_with_their_path() {
        let table: toml::Table = toml::from_str("header_row = 'two'\n[columns]\nname = 'Name'\n").expect("valid toml");
        let errors = parse_settings::<Settings>(&table).expect_err("type error");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "header_row");
        assert!(errors[0].message.contains("invalid type"), "{}", errors[0].message);
    }

    #[test]
    fn reports_missing_fields() {
        let errors = parse_settings::<Settings>(&toml::Table::new()).expect_err("missing");
        assert!(errors[0].message.contains("missing field `columns`"), "{:?}", errors);
    }
}

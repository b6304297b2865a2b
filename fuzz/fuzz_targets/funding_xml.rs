//! The funding XML reader (any encoding the document declares) with the demo N-DiPS mapping's record path and
//! fields: arbitrary bytes must give records or a located error, never a panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use ikz_connectors::connector::Source;
use ikz_connectors::funding::config::{self, Config};
use libfuzzer_sys::fuzz_target;

const SETTINGS: &str = r#"
target = "funding_application"
program = "digitalpakt-schule-ni"
record_path = "/Antraege/Antrag"
[fields]
reference = "@nr"
partner_ags = "Schultraeger/@ags"
partner_name = "Schultraeger"
school_numbers = "Schulen/Schule/@nr"
measure = "Massnahme"
title = "Bezeichnung"
requested = "Betraege/@beantragt"
approved = "Betraege/@bewilligt"
status = "Status"
submitted_on = "Eingang"
[[disbursements]]
path = "Auszahlungen/Auszahlung"
date = "@datum"
amount = "Betrag"
"#;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let table: toml::Table = toml::from_str(SETTINGS).expect("settings");
    let source = Source::File("antraege.xml".into());
    config::parse(&table, &source, Path::new(".")).expect("a valid funding config")
});

fuzz_target!(|data: &[u8]| {
    let config = &*CONFIG;
    let path = vec!["Antraege".to_owned(), "Antrag".to_owned()];
    let mut records = 0u32;
    let _ = ikz_connectors::funding::xml::read(data, "antraege.xml", config, &path, None, &mut |_raw| {
        records += 1;
        Ok(())
    });
});

//! Connector kinds, registered by the `kind` string an administrator writes in a connector's config file.

use std::path::Path;

use crate::connector::{Connector, Source};
use crate::model::Partner;
use crate::settings::FieldError;

/// Everything a kind needs to build a connector from one config file.
pub struct ConnectorSpec<'a> {
    pub id: &'a str,
    pub partner: &'a Partner,
    pub source: Source,
    /// The connector's table without the common keys (id, kind, partner, source, schedule, …).
    pub settings: &'a toml::Table,
    /// The main config file's folder; relative paths in settings are taken from here.
    pub base_dir: &'a Path,
}

pub type BuildResult = Result<Box<dyn Connector>, Vec<FieldError>>;

/// A connector kind.
pub struct Kind {
    pub name: &'static str,
    pub description: &'static str,
    pub build: fn(&ConnectorSpec<'_>) -> BuildResult,
}

static KINDS: &[Kind] = &[
    Kind {
        name: "records",
        description: "JSON lines of unified records, as `ikz-hub preview` prints them",
        build: crate::records::build,
    },
    Kind {
        name: "spreadsheet",
        description: "XLSX, XLS, ODS or CSV with a column mapping onto schools, media concepts or equipment",
        build: crate::spreadsheet::build,
    },
    Kind { name: "allris", description: "ALLRIS classic and ALLRIS 4 council web pages", build: crate::allris::build },
    Kind { name: "oparl", description: "an OParl 1.0/1.1 endpoint (System or Body URL)", build: crate::oparl::build },
    Kind {
        name: "funding",
        description: "funding programs, budgets or applications from XML, JSON, CSV or XLSX with a field mapping",
        build: crate::funding::build,
    },
    Kind {
        name: "foerderkatalog",
        description: "the federal Förderkatalog CSV export: grants to partners as funding applications",
        build: crate::funding::foerderkatalog::build,
    },
];

/// Every registered kind.
pub fn kinds() -> &'static [Kind] {
    KINDS
}

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| kind.name == name)
}

/// The registered kind names, for error messages.
pub fn kind_names() -> String {
    KINDS.iter().map(|kind| kind.name).collect::<Vec<_>>().join(", ")
}

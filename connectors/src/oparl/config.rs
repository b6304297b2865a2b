//! The settings of `kind = "oparl"`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::EntityKind;
use crate::settings::{parse_settings, FieldError};

/// An OParl list a body can offer, in the order they are walked: organizations first (their names label
/// consultations and lead departments), meetings before papers (a consultation's result is on its agenda item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum List {
    Organization,
    Person,
    Membership,
    Meeting,
    AgendaItem,
    Paper,
    Consultation,
    File,
}

impl List {
    pub const ALL: [List; 8] = [
        List::Organization,
        List::Person,
        List::Membership,
        List::Meeting,
        List::AgendaItem,
        List::Paper,
        List::Consultation,
        List::File,
    ];

    /// The key of the list's URL in an OParl Body.
    pub fn body_key(self) -> &'static str {
        match self {
            List::Organization => "organization",
            List::Person => "person",
            List::Membership => "membership",
            List::Meeting => "meeting",
            List::AgendaItem => "agendaItem",
            List::Paper => "paper",
            List::Consultation => "consultation",
            List::File => "file",
        }
    }

    /// The OParl type of the list's objects.
    pub fn oparl_type(self) -> &'static str {
        match self {
            List::Organization => "Organization",
            List::Person => "Person",
            List::Membership => "Membership",
            List::Meeting => "Meeting",
            List::AgendaItem => "AgendaItem",
            List::Paper => "Paper",
            List::Consultation => "Consultation",
            List::File => "File",
        }
    }

    /// The entities the list's objects (and the objects embedded in them) become.
    pub fn entities(self) -> &'static [EntityKind] {
        match self {
            List::Organization => &[EntityKind::Organization],
            List::Person => &[EntityKind::Person, EntityKind::Membership],
            List::Membership => &[EntityKind::Membership],
            List::Meeting => &[EntityKind::Meeting, EntityKind::AgendaItem, EntityKind::File],
            List::AgendaItem => &[EntityKind::AgendaItem, EntityKind::File],
            List::Paper => &[EntityKind::Paper, EntityKind::Consultation, EntityKind::File],
            List::Consultation => &[EntityKind::Consultation],
            List::File => &[EntityKind::File],
        }
    }
}

/// What to do with a body that `bodies` does not map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedBodies {
    /// Import it for the connector's partner.
    Partner,
    /// Leave it out.
    Skip,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Body → partner slug. A key matches a body by its URL, its AGS (7 or 8 digits: the leading zero is restored),
    /// or its name or short name (ignoring case).
    pub bodies: BTreeMap<String, String>,
    pub unmapped_bodies: UnmappedBodies,
    /// The lists to walk where a body offers them.
    pub lists: Vec<List>,
    /// Incremental runs with `modified_since` between full walks.
    pub incremental: bool,
    /// How far `modified_since` reaches back before the last run's start, in minutes.
    pub overlap_minutes: u64,
    /// A full walk (which tombstones what disappeared) at least every this many days.
    pub full_walk_every_days: u32,
    /// Sent as `limit`; servers that ignore it are fine.
    pub page_size: Option<u32>,
    /// Records per batch handed to the store.
    pub batch_size: usize,
    /// Objects fetched one by one per run to complete joins in incremental runs (agenda item results, the paper
    /// of an agenda item).
    pub max_reference_fetches: usize,
    /// A list longer than this is taken for a pagination bug.
    pub max_pages_per_list: u64,
    /// Warnings handed to the run log per run; the rest are counted in a note.
    pub max_warnings: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bodies: BTreeMap::new(),
            unmapped_bodies: UnmappedBodies::Partner,
            lists: List::ALL.to_vec(),
            incremental: true,
            overlap_minutes: 120,
            full_walk_every_days: 7,
            page_size: None,
            batch_size: 500,
            max_reference_fetches: 500,
            max_pages_per_list: 100_000,
            max_warnings: 200,
        }
    }
}

impl Settings {
    pub fn parse(table: &toml::Table) -> Result<Self, Vec<FieldError>> {
        let mut settings: Settings = parse_settings(table)?;
        let mut errors = Vec::new();
        if settings.batch_size == 0 {
            errors.push(FieldError::new("batch_size", "must be at least 1"));
        }
        if settings.lists.is_empty() {
            errors.push(FieldError::new("lists", "name at least one list"));
        }
        if settings.max_pages_per_list == 0 {
            errors.push(FieldError::new("max_pages_per_list", "must be at least 1"));
        }
        if settings.page_size == Some(0) {
            errors.push(FieldError::new("page_size", "must be at least 1"));
        }
        for (key, slug) in &settings.bodies {
            if slug.trim().is_empty() {
                errors.push(FieldError::new(format!("bodies.{key}"), "the partner slug is empty"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        settings.lists.sort_unstable();
        settings.lists.dedup();
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_full_settings() {
        let settings = Settings::parse(&toml::Table::new()).expect("defaults");
        assert_eq!(settings.lists, List::ALL.to_vec());
        assert_eq!(settings.overlap_minutes, 120);
        let table: toml::Table = toml::from_str(
            "lists = ['paper', 'meeting']\noverlap_minutes = 30\nfull_walk_every_days = 1\npage_size = 50\n\
             unmapped_bodies = 'skip'\n[bodies]\n'03151009' = 'hankensbuettel'\n",
        )
        .expect("toml");
        let settings = Settings::parse(&table).expect("valid");
        assert_eq!(settings.lists, vec![List::Meeting, List::Paper]);
        assert_eq!(settings.unmapped_bodies, UnmappedBodies::Skip);
        assert_eq!(settings.bodies.get("03151009").map(String::as_str), Some("hankensbuettel"));
    }

    #[test]
    fn errors_name_their_field() {
        let table: toml::Table = toml::from_str("overlap = 3\n").expect("toml");
        assert_eq!(Settings::parse(&table).expect_err("unknown")[0].field, "overlap");
        let table: toml::Table = toml::from_str("lists = ['papers']\n").expect("toml");
        let errors = Settings::parse(&table).expect_err("invalid");
        assert!(errors[0].field.starts_with("lists") && errors[0].message.contains("papers"), "{errors:?}");
        let table: toml::Table = toml::from_str("batch_size = 0\n").expect("toml");
        assert_eq!(Settings::parse(&table).expect_err("zero")[0].field, "batch_size");
    }
}

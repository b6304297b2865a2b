//! The unified records every connector emits and the API serves.
//!
//! One file per entity family. Every record carries its public `id` (see [`ids`]), its `source_key` (the id in the
//! source: OParl URL, ALLRIS VOLFDNR, Schulnummer, Antragsnummer) and its `source_url`. The rest of the provenance
//! (`source` = connector id, `content_hash`, `first_seen_at`, `last_seen_at`, `deleted_at`) is stamped by the store.
//!
//! Money is integer cents ([`Cents`]); dates are [`chrono::NaiveDate`]; instants are UTC.

pub mod council;
pub mod funding;
pub mod ids;
pub mod partner;
pub mod school;

pub use council::*;
pub use funding::*;
pub use ids::EntityKind;
pub use partner::*;
pub use school::*;

use serde::{Deserialize, Serialize};

/// An amount of money in euro cents. Never a float: 245.341 € is `Cents(24_534_100)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    pub fn from_euros(euros: i64) -> Self {
        Cents(euros * 100)
    }
}

impl std::fmt::Display for Cents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02} EUR", abs / 100, abs % 100)
    }
}

/// Where a record came from inside its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The record's id in its source (OParl URL, ALLRIS VOLFDNR, Schulnummer, Antragsnummer).
    pub source_key: String,
    /// A URL a person can open to see the record in its source, where there is one.
    pub source_url: Option<String>,
}

impl Origin {
    pub fn new(source_key: impl Into<String>) -> Self {
        Origin { source_key: source_key.into(), source_url: None }
    }

    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.source_url = Some(url.into());
        self
    }
}

/// The source reports a record as deleted (OParl `deleted: true`). Not a record itself: the store sets
/// `deleted_at` on the record of `kind` with this `id` (if it has one) and does not tombstone anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The public id of the deleted record, computed like the record's own id.
    pub id: String,
    /// The entity of the deleted record.
    pub kind: EntityKind,
    #[serde(flatten)]
    pub origin: Origin,
}

/// One normalised record, as a connector emits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum Record {
    Organization(Organization),
    Person(Person),
    Membership(Membership),
    Meeting(Meeting),
    AgendaItem(AgendaItem),
    Paper(Paper),
    Consultation(Consultation),
    File(File),
    School(School),
    MediaConcept(MediaConcept),
    Equipment(Equipment),
    FundingProgram(FundingProgram),
    FundingBudget(FundingBudget),
    FundingApplication(FundingApplication),
    /// A deletion reported by the source; [`Record::kind`] is the deleted record's entity.
    Tombstone(Tombstone),
}

impl Record {
    pub fn kind(&self) -> EntityKind {
        match self {
            Record::Organization(_) => EntityKind::Organization,
            Record::Person(_) => EntityKind::Person,
            Record::Membership(_) => EntityKind::Membership,
            Record::Meeting(_) => EntityKind::Meeting,
            Record::AgendaItem(_) => EntityKind::AgendaItem,
            Record::Paper(_) => EntityKind::Paper,
            Record::Consultation(_) => EntityKind::Consultation,
            Record::File(_) => EntityKind::File,
            Record::School(_) => EntityKind::School,
            Record::MediaConcept(_) => EntityKind::MediaConcept,
            Record::Equipment(_) => EntityKind::Equipment,
            Record::FundingProgram(_) => EntityKind::FundingProgram,
            Record::FundingBudget(_) => EntityKind::FundingBudget,
            Record::FundingApplication(_) => EntityKind::FundingApplication,
            Record::Tombstone(r) => r.kind,
        }
    }

    /// The record's public id.
    pub fn id(&self) -> &str {
        match self {
            Record::Organization(r) => &r.id,
            Record::Person(r) => &r.id,
            Record::Membership(r) => &r.id,
            Record::Meeting(r) => &r.id,
            Record::AgendaItem(r) => &r.id,
            Record::Paper(r) => &r.id,
            Record::Consultation(r) => &r.id,
            Record::File(r) => &r.id,
            Record::School(r) => &r.id,
            Record::MediaConcept(r) => &r.id,
            Record::Equipment(r) => &r.id,
            Record::FundingProgram(r) => &r.id,
            Record::FundingBudget(r) => &r.id,
            Record::FundingApplication(r) => &r.id,
            Record::Tombstone(r) => &r.id,
        }
    }

    pub fn origin(&self) -> &Origin {
        match self {
            Record::Organization(r) => &r.origin,
            Record::Person(r) => &r.origin,
            Record::Membership(r) => &r.origin,
            Record::Meeting(r) => &r.origin,
            Record::AgendaItem(r) => &r.origin,
            Record::Paper(r) => &r.origin,
            Record::Consultation(r) => &r.origin,
            Record::File(r) => &r.origin,
            Record::School(r) => &r.origin,
            Record::MediaConcept(r) => &r.origin,
            Record::Equipment(r) => &r.origin,
            Record::FundingProgram(r) => &r.origin,
            Record::FundingBudget(r) => &r.origin,
            Record::FundingApplication(r) => &r.origin,
            Record::Tombstone(r) => &r.origin,
        }
    }
}

macro_rules! record_from {
    ($($variant:ident),*) => {
        $(impl From<$variant> for Record {
            fn from(record: $variant) -> Self {
                Record::$variant(record)
            }
        })*
    };
}
record_from!(
    Organization,
    Person,
    Membership,
    Meeting,
    AgendaItem,
    Paper,
    Consultation,
    File,
    School,
    MediaConcept,
    Equipment,
    FundingProgram,
    FundingBudget,
    FundingApplication,
    Tombstone
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_display_is_exact() {
        assert_eq!(Cents(24_534_100).to_string(), "245341.00 EUR");
        assert_eq!(Cents(-5).to_string(), "-0.05 EUR");
    }
}

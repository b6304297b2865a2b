//! Public ids: stable across re-imports and database rebuilds, unique across partners, URL-safe.
//!
//! An id is derived from what identifies the record in the world, never from a database sequence:
//! schools use their state and Schulnummer (`NI-66497`), programs their slug, everything else a prefix for its
//! entity plus a short hash of partner slug and source key (`paper-3f2a9c0d41b7e865`). Connectors compute the ids of
//! records they reference (a consultation's paper) with the same functions, so references need no database lookup.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every entity of the unified model that connectors emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
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
}

impl EntityKind {
    pub const ALL: [EntityKind; 14] = [
        EntityKind::Organization,
        EntityKind::Person,
        EntityKind::Membership,
        EntityKind::Meeting,
        EntityKind::AgendaItem,
        EntityKind::Paper,
        EntityKind::Consultation,
        EntityKind::File,
        EntityKind::School,
        EntityKind::MediaConcept,
        EntityKind::Equipment,
        EntityKind::FundingProgram,
        EntityKind::FundingBudget,
        EntityKind::FundingApplication,
    ];

    /// The snake_case name used in tables, config and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Organization => "organization",
            EntityKind::Person => "person",
            EntityKind::Membership => "membership",
            EntityKind::Meeting => "meeting",
            EntityKind::AgendaItem => "agenda_item",
            EntityKind::Paper => "paper",
            EntityKind::Consultation => "consultation",
            EntityKind::File => "file",
            EntityKind::School => "school",
            EntityKind::MediaConcept => "media_concept",
            EntityKind::Equipment => "equipment",
            EntityKind::FundingProgram => "funding_program",
            EntityKind::FundingBudget => "funding_budget",
            EntityKind::FundingApplication => "funding_application",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            EntityKind::Organization => "org",
            EntityKind::Person => "person",
            EntityKind::Membership => "member",
            EntityKind::Meeting => "meeting",
            EntityKind::AgendaItem => "top",
            EntityKind::Paper => "paper",
            EntityKind::Consultation => "consult",
            EntityKind::File => "file",
            EntityKind::School => "school",
            EntityKind::MediaConcept => "mbk",
            EntityKind::Equipment => "equip",
            EntityKind::FundingProgram => "program",
            EntityKind::FundingBudget => "budget",
            EntityKind::FundingApplication => "appl",
        }
    }

    /// The public id of a record of this kind with `source_key`, owned by `partner` (a partner slug, or a program
    /// slug for records that belong to no partner).
    pub fn public_id(self, partner: &str, source_key: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(partner.as_bytes());
        hasher.update([0]);
        hasher.update(source_key.as_bytes());
        let digest = hasher.finalize();
        // Written into one string: ids are computed several times per record, a format! per byte showed in profiles.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let prefix = self.id_prefix();
        let mut id = String::with_capacity(prefix.len() + 17);
        id.push_str(prefix);
        id.push('-');
        for byte in &digest[..8] {
            id.push(HEX[usize::from(byte >> 4)] as char);
            id.push(HEX[usize::from(byte & 0x0f)] as char);
        }
        id
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EntityKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| format!("unknown entity `{text}`"))
    }
}

/// The public id of a school: state and Schulnummer, e.g. `NI-66497`.
pub fn school_id(state: &str, school_number: &str) -> String {
    // Pushed, not formatted: funding applications compute one per school per record.
    let (state, number) = (state.trim(), school_number.trim());
    let mut id = String::with_capacity(state.len() + 1 + number.len());
    id.push_str(state);
    id.make_ascii_uppercase();
    id.push('-');
    id.push_str(number);
    id
}

/// Is `id` safe to put into a URL path segment as it is?
pub fn is_url_safe(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_url_safe_and_partner_specific() {
        let a = EntityKind::Paper.public_id("hankensbuettel", "VOLFDNR=1234");
        assert_eq!(a, EntityKind::Paper.public_id("hankensbuettel", "VOLFDNR=1234"));
        assert_ne!(a, EntityKind::Paper.public_id("wittingen", "VOLFDNR=1234"));
        assert_ne!(a, EntityKind::Meeting.public_id("hankensbuettel", "VOLFDNR=1234"));
        assert!(a.starts_with("paper-"));
        // The hex encoding must never change: ids are public and stored.
        assert_eq!(a, "paper-483bb7315f594000");
        assert!(is_url_safe(&a));
        assert_eq!(school_id("ni", " 66497"), "NI-66497");
    }

    #[test]
    fn entity_names_round_trip() {
        for kind in EntityKind::ALL {
            assert_eq!(kind.as_str().parse::<EntityKind>(), Ok(kind));
        }
    }
}

//! Council records (Ratsinformation): Gremien, persons, Sitzungen, TOPs, Vorlagen, Beratungsfolgen, files.
//!
//! Glossary: Gremium = council body or committee; Sitzung = meeting; TOP (Tagesordnungspunkt) = agenda item;
//! Vorlage/Drucksache = paper put before a Gremium; Beratungsfolge = the sequence of Gremien that consult a paper
//! (each station a [`Consultation`]); Federführend = the department in charge; Betreff = subject.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Cents, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// Rat, Kreistag, Samtgemeinderat.
    Council,
    /// Ausschuss, Beirat, Samtgemeindeausschuss.
    Committee,
    /// Fraktion, Gruppe.
    Faction,
    /// Verwaltung, Fachbereich.
    Administration,
    Other,
}

impl OrganizationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Council => "council",
            OrganizationKind::Committee => "committee",
            OrganizationKind::Faction => "faction",
            OrganizationKind::Administration => "administration",
            OrganizationKind::Other => "other",
        }
    }
}

/// A Gremium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganizationKind,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub web_url: Option<String>,
}

/// An elected person (from OParl). Administration staff named on council pages are never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub name: String,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub title: Option<String>,
}

/// A person's membership in a Gremium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub person_id: String,
    pub organization_id: Option<String>,
    pub role: Option<String>,
    pub voting_right: Option<bool>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A Sitzung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub organization_ids: Vec<String>,
    pub name: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub location: Option<String>,
    /// The source's state word ("terminiert", "eingeladen", "durchgeführt").
    pub state: Option<String>,
    pub cancelled: bool,
    pub web_url: Option<String>,
}

/// A TOP (Tagesordnungspunkt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgendaItem {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub meeting_id: String,
    /// As printed: "10.1", "Ö 3".
    pub number: Option<String>,
    /// Position in the agenda, 1-based.
    pub order: Option<i32>,
    pub name: String,
    pub public: bool,
    pub result: Option<String>,
    pub resolution_text: Option<String>,
    pub paper_id: Option<String>,
}

/// The text sections of a Vorlage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaperSections {
    pub sachverhalt: Option<String>,
    pub beschlussvorschlag: Option<String>,
    pub finanzielle_auswirkung: Option<String>,
    pub begruendung: Option<String>,
}

/// A Vorlage / Drucksache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    /// Aktenzeichen / Drucksachennummer: "SG/256/19".
    pub reference: Option<String>,
    /// Betreff.
    pub subject: String,
    /// Vorlage-Art: "Beschlussvorlage", "Mitteilungsvorlage".
    pub paper_type: Option<String>,
    pub date: Option<NaiveDate>,
    pub public: bool,
    /// Federführend: the department in charge.
    pub lead_department: Option<String>,
    pub sections: PaperSections,
    /// Finanzielle Auswirkung, one-off ("einmalig").
    pub financial_impact_once: Option<Cents>,
    /// Finanzielle Auswirkung, annual ("jährlich folgend").
    pub financial_impact_annual: Option<Cents>,
    pub web_url: Option<String>,
}

/// What became of a paper at one station of its Beratungsfolge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationResult {
    /// "ungeändert beschlossen", "einstimmig beschlossen".
    Adopted,
    /// "geändert beschlossen", "mit Änderungen beschlossen".
    AdoptedAmended,
    Rejected,
    /// "zur Kenntnis genommen".
    Noted,
    /// "vertagt", "zurückgestellt".
    Deferred,
    Withdrawn,
    /// "verwiesen" (to another Gremium).
    Referred,
    /// Not yet consulted.
    Pending,
    Unknown,
}

impl ConsultationResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationResult::Adopted => "adopted",
            ConsultationResult::AdoptedAmended => "adopted_amended",
            ConsultationResult::Rejected => "rejected",
            ConsultationResult::Noted => "noted",
            ConsultationResult::Deferred => "deferred",
            ConsultationResult::Withdrawn => "withdrawn",
            ConsultationResult::Referred => "referred",
            ConsultationResult::Pending => "pending",
            ConsultationResult::Unknown => "unknown",
        }
    }

    /// Maps a source's result text to a code; `None` or blank text means not consulted yet.
    pub fn from_text(text: Option<&str>) -> Self {
        let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
            return ConsultationResult::Pending;
        };
        let text = text.to_lowercase();
        let has = |word: &str| text.contains(word);
        if has("zurückgezogen") || has("zurueckgezogen") {
            ConsultationResult::Withdrawn
        } else if has("vertagt") || has("zurückgestellt") || has("zurueckgestellt") || has("abgesetzt") {
            ConsultationResult::Deferred
        } else if has("verwiesen") || has("überwiesen") {
            ConsultationResult::Referred
        } else if has("abgelehnt") {
            ConsultationResult::Rejected
        } else if has("kenntnis") {
            ConsultationResult::Noted
        } else if has("ungeändert") || has("ungeaendert") {
            ConsultationResult::Adopted
        } else if has("geändert") || has("geaendert") || has("änderung") || has("ergänz") {
            ConsultationResult::AdoptedAmended
        } else if has("beschlossen") || has("zugestimmt") || has("empfohlen") || has("angenommen") {
            ConsultationResult::Adopted
        } else {
            ConsultationResult::Unknown
        }
    }
}

/// One station of a Beratungsfolge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consultation {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub paper_id: String,
    /// 1-based position in the Beratungsfolge.
    pub position: Option<i32>,
    pub organization_id: Option<String>,
    /// The Gremium's name as the source wrote it (kept where no organization record exists).
    pub organization_name: Option<String>,
    pub meeting_id: Option<String>,
    pub date: Option<NaiveDate>,
    /// "Vorberatung", "Entscheidung", "Kenntnisnahme".
    pub role: Option<String>,
    pub authoritative: Option<bool>,
    /// The source's words: "ungeändert beschlossen".
    pub result_text: Option<String>,
    pub result: ConsultationResult,
}

/// Which record a file is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOwner {
    Paper,
    Meeting,
    AgendaItem,
}

impl FileOwner {
    pub fn as_str(self) -> &'static str {
        match self {
            FileOwner::Paper => "paper",
            FileOwner::Meeting => "meeting",
            FileOwner::AgendaItem => "agenda_item",
        }
    }
}

/// An attachment (Anlage) or document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub partner: String,
    pub owner_kind: FileOwner,
    pub owner_id: String,
    pub name: String,
    pub mime_type: Option<String>,
    pub size: Option<i64>,
    pub date: Option<NaiveDate>,
    pub access_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::ConsultationResult as R;

    #[test]
    fn result_texts_map_to_codes() {
        let cases = [
            (Some("ungeändert beschlossen"), R::Adopted),
            (Some("einstimmig beschlossen"), R::Adopted),
            (Some("geändert beschlossen"), R::AdoptedAmended),
            (Some("mit Änderungen beschlossen"), R::AdoptedAmended),
            (Some("abgelehnt"), R::Rejected),
            (Some("zur Kenntnis genommen"), R::Noted),
            (Some("vertagt"), R::Deferred),
            (Some("zurückgestellt"), R::Deferred),
            (Some("zurückgezogen"), R::Withdrawn),
            (Some("in den Fachausschuss verwiesen"), R::Referred),
            (Some("  "), R::Pending),
            (None, R::Pending),
            (Some("siehe Protokoll"), R::Unknown),
        ];
        for (text, expected) in cases {
            assert_eq!(R::from_text(text), expected, "{text:?}");
        }
    }
}

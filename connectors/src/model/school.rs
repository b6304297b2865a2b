//! Schools and the IKZ's coordination data per school: Medienbildungskonzept (media concept) and equipment.
//!
//! Glossary: Schulnummer = the state's school number (Lower Saxony: 4–5 digits); Schulträger = the public body that
//! runs the school's buildings and equipment (here: an IKZ partner); Schulgliederung = a branch of a school
//! (Grundschule, Oberschule …) — one school can have several.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Origin;

/// The normalised school types of the IKZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolType {
    Grundschule,
    Hauptschule,
    Realschule,
    Oberschule,
    Gymnasium,
    Gesamtschule,
    Foerderschule,
    BerufsbildendeSchule,
    Other,
}

impl SchoolType {
    pub fn as_str(self) -> &'static str {
        match self {
            SchoolType::Grundschule => "grundschule",
            SchoolType::Hauptschule => "hauptschule",
            SchoolType::Realschule => "realschule",
            SchoolType::Oberschule => "oberschule",
            SchoolType::Gymnasium => "gymnasium",
            SchoolType::Gesamtschule => "gesamtschule",
            SchoolType::Foerderschule => "foerderschule",
            SchoolType::BerufsbildendeSchule => "berufsbildende_schule",
            SchoolType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// A school. Its id is state and Schulnummer: `NI-66497`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    /// Two-letter state code: "NI".
    pub state: String,
    /// Schulnummer, as text: digits are an id, not a number.
    pub school_number: String,
    pub name: String,
    /// The type words as the source wrote them ("Gymnasium - SEK I -", "GS").
    pub school_types_raw: Vec<String>,
    pub school_types: Vec<SchoolType>,
    /// Rechtsstatus: "öffentlich", "privat".
    pub legal_status: Option<String>,
    /// The Schulträger's name as the source wrote it.
    pub traeger_name: Option<String>,
    /// The partner slug the Schulträger name resolved to.
    pub traeger_partner: Option<String>,
    pub address: Address,
    pub contact: Contact,
    pub pupils: Option<i32>,
    pub pupils_as_of: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaConceptStatus {
    None,
    InProgress,
    Submitted,
    Approved,
}

impl MediaConceptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaConceptStatus::None => "none",
            MediaConceptStatus::InProgress => "in_progress",
            MediaConceptStatus::Submitted => "submitted",
            MediaConceptStatus::Approved => "approved",
        }
    }
}

/// A school's Medienbildungskonzept (a precondition for DigitalPakt money).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaConcept {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub school_id: String,
    pub status: MediaConceptStatus,
    pub started_on: Option<NaiveDate>,
    pub submitted_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    pub version: Option<String>,
}

/// A count of one equipment category at one school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equipment {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub school_id: String,
    /// "wlan", "display", "laptop", "tablet", … (lower case).
    pub category: String,
    pub count: i64,
    pub as_of: Option<NaiveDate>,
}

//! Funding: programs (DigitalPakt Schule Niedersachsen, Förderkatalog), budgets per Schulträger, applications.
//!
//! Glossary: Antrag = application; Antragsnummer / FKZ (Förderkennzeichen) = its reference; Sockelbetrag = the fixed
//! share of a budget per school; Maßnahme = measure (DigitalPakt NI: 2.1 … 2.8); Bewilligung = approval; Auszahlung
//! = disbursement.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Cents, Origin};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    pub name: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundingProgram {
    /// The program's slug: "digitalpakt-schule-ni".
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub name: String,
    pub legal_basis: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub deadlines: Vec<Deadline>,
    /// Valid measure codes ("2.1" …); empty means any.
    pub measures: Vec<String>,
    /// A readable name per measure code ("2.1" → "Aufbau oder Verbesserung der digitalen Vernetzung"); codes without
    /// a name are allowed.
    #[serde(default)]
    pub measure_names: BTreeMap<String, String>,
}

/// Money reserved for a Schulträger (optionally for one school: Sockelbetrag) in a program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundingBudget {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub program_id: String,
    pub partner: Option<String>,
    pub school_id: Option<String>,
    pub amount: Cents,
    /// How the amount came about: "Sockelbetrag", "Kopfbetrag", a legal reference.
    pub basis: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Draft,
    Submitted,
    Approved,
    PartiallyDisbursed,
    Disbursed,
    Rejected,
    Withdrawn,
    Unknown,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::PartiallyDisbursed => "partially_disbursed",
            ApplicationStatus::Disbursed => "disbursed",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
            ApplicationStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disbursement {
    pub date: Option<NaiveDate>,
    pub amount: Cents,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundingApplication {
    pub id: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub program_id: String,
    /// Antragsnummer or FKZ.
    pub reference: String,
    pub partner: Option<String>,
    /// The recipient's name as the source wrote it.
    pub recipient_name: Option<String>,
    pub school_ids: Vec<String>,
    /// Maßnahme: "2.1" … "2.8".
    pub measure: Option<String>,
    pub title: Option<String>,
    pub requested: Option<Cents>,
    pub approved: Option<Cents>,
    pub disbursed: Option<Cents>,
    pub status: ApplicationStatus,
    pub submitted_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub disbursements: Vec<Disbursement>,
}

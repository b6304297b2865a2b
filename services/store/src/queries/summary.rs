//! The funding summary of one program: per Schulträger budget, requested, approved, disbursed, remaining and
//! utilisation, broken down per measure and per school. Amounts are integer cents.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::connection::DbConnection;
use crate::rows::{FundingApplicationRow, FundingBudgetRow, FundingProgramRow};
use crate::schema::{funding_application, funding_budget};
use crate::StoreError;

/// Sums of a group of applications (and the budget where one applies).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amounts {
    pub applications: i64,
    pub requested_cents: i64,
    pub approved_cents: i64,
    pub disbursed_cents: i64,
}

impl Amounts {
    fn add(&mut self, application: &FundingApplicationRow) {
        self.applications += 1;
        self.requested_cents += application.requested_cents.unwrap_or(0);
        self.approved_cents += application.approved_cents.unwrap_or(0);
        self.disbursed_cents += application.disbursed_cents.unwrap_or(0);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureLine {
    /// The measure code ("2.1" …) or `null` when the application names none.
    pub measure: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchoolLine {
    /// The school, or `null` for applications naming several or no schools (their amounts are not split).
    pub school_id: Option<String>,
    /// Budget earmarked for this school (Sockelbetrag), where the source gives one.
    pub budget_cents: i64,
    #[serde(flatten)]
    pub amounts: Amounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerSummary {
    /// The Schulträger partner, or `null` for budgets/applications not linked to a partner.
    pub partner: Option<String>,
    pub budget_cents: i64,
    #[serde(flatten)]
    pub amounts: Amounts,
    /// budget − approved.
    pub remaining_cents: i64,
    /// approved / budget × 100, one decimal; `null` without a budget.
    pub utilisation_percent: Option<f64>,
    /// disbursed / budget × 100, one decimal; `null` without a budget.
    pub disbursed_percent: Option<f64>,
    pub measures: Vec<MeasureLine>,
    pub schools: Vec<SchoolLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingSummary {
    pub program: FundingProgramRow,
    pub partners: Vec<PartnerSummary>,
    pub total: PartnerSummary,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Applications that were withdrawn or rejected count in no sum (they are listed in `/funding/applications`).
fn counts(application: &FundingApplicationRow) -> bool {
    !matches!(application.status.as_str(), "withdrawn" | "rejected")
}

pub fn funding_summary(conn: &mut DbConnection, program_id: &str) -> Result<Option<FundingSummary>, StoreError> {
    let Some(program) = super::get_funding_program(conn, program_id)? else { return Ok(None) };
    let budgets: Vec<FundingBudgetRow> = funding_budget::table
        .filter(funding_budget::program_id.eq(program_id.to_owned()))
        .filter(funding_budget::deleted_at.is_null())
        .select(FundingBudgetRow::as_select())
        .load(conn)?;
    let applications: Vec<FundingApplicationRow> = funding_application::table
        .filter(funding_application::program_id.eq(program_id.to_owned()))
        .filter(funding_application::deleted_at.is_null())
        .order(funding_application::id)
        .select(FundingApplicationRow::as_select())
        .load(conn)?;

    #[derive(Default)]
    struct Acc {
        budget: i64,
        amounts: Amounts,
        measures: BTreeMap<Option<String>, Amounts>,
        schools: BTreeMap<Option<String>, (i64, Amounts)>,
    }
    let mut per_partner: BTreeMap<Option<String>, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for budget in &budgets {
        for acc in [per_partner.entry(budget.partner.clone()).or_default(), &mut total] {
            acc.budget += budget.amount_cents;
            if let Some(school) = &budget.school_id {
                acc.schools.entry(Some(school.clone())).or_default().0 += budget.amount_cents;
            }
        }
    }
    for application in applications.iter().filter(|application| counts(application)) {
        let schools: Vec<String> = serde_json::from_str(&application.school_ids).unwrap_or_default();
        let school = match schools.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        for acc in [per_partner.entry(application.partner.clone()).or_default(), &mut total] {
            acc.amounts.add(application);
            acc.measures.entry(application.measure.clone()).or_default().add(application);
            acc.schools.entry(school.clone()).or_default().1.add(application);
        }
    }
    let finish = |partner: Option<String>, acc: Acc| PartnerSummary {
        partner,
        budget_cents: acc.budget,
        remaining_cents: acc.budget - acc.amounts.approved_cents,
        utilisation_percent: percent(acc.amounts.approved_cents, acc.budget),
        disbursed_percent: percent(acc.amounts.disbursed_cents, acc.budget),
        amounts: acc.amounts,
        measures: acc.measures.into_iter().map(|(measure, amounts)| MeasureLine { measure, amounts }).collect(),
        schools: acc
            .schools
            .into_iter()
            .map(|(school_id, (budget_cents, amounts))| SchoolLine { school_id, budget_cents, amounts })
            .collect(),
    };
    let partners = per_partner.into_iter().map(|(partner, acc)| finish(partner, acc)).collect();
    Ok(Some(FundingSummary { program, partners, total: finish(None, total) }))
}

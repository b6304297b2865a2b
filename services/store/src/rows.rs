//! Table rows: what the store writes and reads, one struct per entity table (columns as in `schema.rs`).
//!
//! Rows serialise straight into API JSON. List-valued fields (a meeting's organizations, a school's types) are JSON
//! text columns — the shared SQL types of both backends have no arrays — and are served as JSON arrays again.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::schema::*;
use crate::time_columns::{
    format_utc_micros, OptionalDateColumn, OptionalTimestampColumn, TimestampColumn, UTC_MICROS_LEN,
};

/// Serialises a JSON text column as the JSON it holds. Lists of plain strings (what the store writes) are read
/// borrowing from the text; anything else (escapes, other JSON) goes through a `Value`, with the same output.
fn json_text<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if let Ok(strings) = serde_json::from_str::<Vec<&str>>(text) {
        return strings.serialize(serializer);
    }
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    value.serialize(serializer)
}

/// Provenance timestamps are UTC; serialise them with a `Z` so clients cannot mistake them for local time
/// (RFC 3339 to the microsecond, `2026-11-30T10:00:00.123456Z`).
fn utc<S: serde::Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0; UTC_MICROS_LEN];
    match format_utc_micros(at, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).serialize(serializer),
    }
}

/// Types that exist only to describe JSON text columns in the OpenAPI document (the rows keep them as text).
#[cfg(feature = "openapi")]
pub mod openapi {
    use chrono::NaiveDate;

    /// A deadline of a funding program.
    #[derive(utoipa::ToSchema)]
    pub struct Deadline {
        pub name: String,
        pub date: NaiveDate,
    }

    /// A disbursement (Auszahlung) of a funding application; `amount` in cents.
    #[derive(utoipa::ToSchema)]
    pub struct Disbursement {
        pub date: Option<NaiveDate>,
        pub amount: i64,
    }
}

fn utc_opt<S: serde::Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    /// One instant, serialised by [`utc`].
    struct Utc<'a>(&'a NaiveDateTime);
    impl Serialize for Utc<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            utc(self.0, serializer)
        }
    }
    match at {
        Some(at) => serializer.serialize_some(&Utc(at)),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = organization, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Organization))]
pub struct OrganizationRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: String,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub start_date: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub end_date: Option<NaiveDate>,
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = person, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Person))]
pub struct PersonRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub name: String,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = membership, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Membership))]
pub struct MembershipRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub person_id: String,
    pub organization_id: Option<String>,
    pub role: Option<String>,
    pub voting_right: Option<bool>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub start_date: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = meeting, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Meeting))]
pub struct MeetingRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub organization_ids: String,
    pub name: String,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub start_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub end_at: Option<NaiveDateTime>,
    pub location: Option<String>,
    pub state: Option<String>,
    pub cancelled: bool,
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = agenda_item, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AgendaItem))]
pub struct AgendaItemRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub meeting_id: String,
    pub number: Option<String>,
    pub position: Option<i32>,
    pub name: String,
    pub public: bool,
    pub result: Option<String>,
    pub resolution_text: Option<String>,
    pub paper_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = paper, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Paper))]
pub struct PaperRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub reference: Option<String>,
    pub subject: String,
    pub paper_type: Option<String>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub date: Option<NaiveDate>,
    pub public: bool,
    pub lead_department: Option<String>,
    pub sachverhalt: Option<String>,
    pub beschlussvorschlag: Option<String>,
    pub finanzielle_auswirkung: Option<String>,
    pub begruendung: Option<String>,
    pub financial_impact_once_cents: Option<i64>,
    pub financial_impact_annual_cents: Option<i64>,
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = consultation, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Decision))]
pub struct ConsultationRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub paper_id: String,
    pub position: Option<i32>,
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub meeting_id: Option<String>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub date: Option<NaiveDate>,
    pub role: Option<String>,
    pub authoritative: Option<bool>,
    pub result_text: Option<String>,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = file, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = File))]
pub struct FileRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub partner: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub name: String,
    pub mime_type: Option<String>,
    pub size: Option<i64>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub date: Option<NaiveDate>,
    pub access_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = school, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = School))]
pub struct SchoolRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub state: String,
    pub school_number: String,
    pub name: String,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub school_types_raw: String,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub school_types: String,
    pub legal_status: Option<String>,
    pub traeger_name: Option<String>,
    pub traeger_partner: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub pupils: Option<i32>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub pupils_as_of: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = media_concept, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = MediaConcept))]
pub struct MediaConceptRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub school_id: String,
    pub status: String,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub started_on: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub submitted_on: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub approved_on: Option<NaiveDate>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = equipment, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Equipment))]
pub struct EquipmentRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub school_id: String,
    pub category: String,
    pub count: i64,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = funding_program, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = FundingProgram))]
pub struct FundingProgramRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub name: String,
    pub legal_basis: Option<String>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub period_start: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub period_end: Option<NaiveDate>,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Deadline>))]
    pub deadlines: String,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub measures: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = funding_budget, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = FundingBudget))]
pub struct FundingBudgetRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub program_id: String,
    pub partner: Option<String>,
    pub school_id: Option<String>,
    pub amount_cents: i64,
    pub basis: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = funding_application, treat_none_as_null = true, treat_none_as_default_value = false)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = FundingApplication))]
pub struct FundingApplicationRow {
    pub id: String,
    pub source: String,
    pub source_key: String,
    pub source_url: Option<String>,
    pub content_hash: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub first_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub last_seen_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
    pub program_id: String,
    pub reference: String,
    pub partner: Option<String>,
    pub recipient_name: Option<String>,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub school_ids: String,
    pub measure: Option<String>,
    pub title: Option<String>,
    pub requested_cents: Option<i64>,
    pub approved_cents: Option<i64>,
    pub disbursed_cents: Option<i64>,
    pub status: String,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub submitted_on: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub approved_on: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub period_start: Option<NaiveDate>,
    #[diesel(deserialize_as = OptionalDateColumn)]
    pub period_end: Option<NaiveDate>,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<openapi::Disbursement>))]
    pub disbursements: String,
}
/// A configured partner (from config, synced at start-up).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize)]
#[diesel(table_name = partner, treat_none_as_null = true)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Partner))]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub ags: Option<String>,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub aliases: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub modified_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub deleted_at: Option<NaiveDateTime>,
}

/// One connector run.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = import_run)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ImportRun))]
pub struct ImportRunRow {
    pub id: i64,
    pub connector: String,
    pub trigger: String,
    #[serde(serialize_with = "utc")]
    #[diesel(deserialize_as = TimestampColumn)]
    pub started_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub finished_at: Option<NaiveDateTime>,
    pub status: String,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    pub rejected: i64,
    pub error: Option<String>,
    #[serde(serialize_with = "json_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub notes: String,
    #[serde(skip)]
    pub watermark: Option<String>,
    /// The schedule slot (UTC) of a scheduled run.
    #[serde(serialize_with = "utc_opt")]
    #[diesel(deserialize_as = OptionalTimestampColumn)]
    pub scheduled_for: Option<NaiveDateTime>,
}

/// A record a run could not use, with where it was and why.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = rejected_record)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RejectedRecord))]
pub struct RejectedRecordRow {
    pub id: i64,
    pub run_id: i64,
    pub location: String,
    pub field: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

//! The entity lists and single records the API serves.
//!
//! Every list: the entity's filters, `modified_since` (tombstones included) and keyset pagination on one of its
//! indexed sort fields (see [`super::keyset`]). Filter values arrive validated by the API.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::keyset::{full_text, keyset, list_query};
use crate::connection::DbConnection;
use crate::rows::*;
use crate::schema::*;
use crate::StoreError;

/// Start of `day` (UTC) for date-range filters on timestamp columns.
fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// `"…"` inside a JSON array text column: a LIKE pattern for one element (ids and codes are URL-safe; the LIKE
/// wildcards `%` and `_` are escaped anyway).
fn json_element_pattern(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%\"{escaped}\"%")
}

/// `column LIKE pattern ESCAPE '\'` for a JSON array text column.
fn json_contains<QS: 'static>(
    column: &str,
    value: &str,
) -> Box<dyn diesel::BoxableExpression<QS, crate::connection::MultiBackend, SqlType = diesel::sql_types::Bool>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    Box::new(sql::<Bool>(&format!("{column} LIKE ")).bind::<Text, _>(json_element_pattern(value)).sql(" ESCAPE '\\'"))
}

#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    pub partner: Option<String>,
    pub kind: Option<String>,
    pub q: Vec<String>,
}

list_query! {
    /// Organizations (Gremien).
    pub fn list_organizations(filter: &OrganizationFilter) -> OrganizationRow from organization;
    sorts ORGANIZATION_SORTS { "id" => id: Text, "name" => name: Text, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(organization::partner.eq(partner.clone()));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(organization::kind.eq(kind.clone()));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "organization", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct MeetingFilter {
    pub partner: Option<String>,
    pub organization: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub cancelled: Option<bool>,
    pub q: Vec<String>,
}

list_query! {
    /// Meetings (Sitzungen); `from`/`to` on the start (UTC days, inclusive).
    pub fn list_meetings(filter: &MeetingFilter) -> MeetingRow from meeting;
    sorts MEETING_SORTS {
        "id" => id: Text, "start_at" => start_at: NullTimestamp, "name" => name: Text,
        "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(meeting::partner.eq(partner.clone()));
        }
        if let Some(organization) = &filter.organization {
            query = query.filter(json_contains("organization_ids", organization));
        }
        if let Some(from) = filter.from {
            query = query.filter(meeting::start_at.ge(day_start(from)));
        }
        if let Some(to) = filter.to.and_then(|to| to.succ_opt()) {
            query = query.filter(meeting::start_at.lt(day_start(to)));
        }
        if let Some(cancelled) = filter.cancelled {
            query = query.filter(meeting::cancelled.eq(cancelled));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "meeting", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct AgendaItemFilter {
    pub partner: Option<String>,
    pub meeting: Option<String>,
    pub paper: Option<String>,
    pub public: Option<bool>,
    pub q: Vec<String>,
}

list_query! {
    /// Agenda items (TOPs).
    pub fn list_agenda_items(filter: &AgendaItemFilter) -> AgendaItemRow from agenda_item;
    sorts AGENDA_ITEM_SORTS {
        "id" => id: Text, "position" => position: NullInt, "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(agenda_item::partner.eq(partner.clone()));
        }
        if let Some(meeting) = &filter.meeting {
            query = query.filter(agenda_item::meeting_id.eq(meeting.clone()));
        }
        if let Some(paper) = &filter.paper {
            query = query.filter(agenda_item::paper_id.eq(paper.clone()));
        }
        if let Some(public) = filter.public {
            query = query.filter(agenda_item::public.eq(public));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "agenda_item", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct PaperFilter {
    pub partner: Option<String>,
    pub paper_type: Option<String>,
    pub reference: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Vec<String>,
}

list_query! {
    /// Papers (Vorlagen/Drucksachen); `q` searches reference, subject and the text sections.
    pub fn list_papers(filter: &PaperFilter) -> PaperRow from paper;
    sorts PAPER_SORTS {
        "id" => id: Text, "date" => date: NullDate, "reference" => reference: NullText,
        "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(paper::partner.eq(partner.clone()));
        }
        if let Some(paper_type) = &filter.paper_type {
            query = query.filter(paper::paper_type.eq(paper_type.clone()));
        }
        if let Some(reference) = &filter.reference {
            query = query.filter(paper::reference.eq(reference.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(paper::date.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(paper::date.le(to));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "paper", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct DecisionFilter {
    pub partner: Option<String>,
    pub paper: Option<String>,
    pub organization: Option<String>,
    pub meeting: Option<String>,
    pub result: Option<String>,
    pub authoritative: Option<bool>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Vec<String>,
}

list_query! {
    /// Consultations (Beratungsfolge) served as decisions.
    pub fn list_decisions(filter: &DecisionFilter) -> ConsultationRow from consultation;
    sorts DECISION_SORTS { "id" => id: Text, "date" => date: NullDate, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(consultation::partner.eq(partner.clone()));
        }
        if let Some(paper) = &filter.paper {
            query = query.filter(consultation::paper_id.eq(paper.clone()));
        }
        if let Some(organization) = &filter.organization {
            query = query.filter(consultation::organization_id.eq(organization.clone()));
        }
        if let Some(meeting) = &filter.meeting {
            query = query.filter(consultation::meeting_id.eq(meeting.clone()));
        }
        if let Some(result) = &filter.result {
            query = query.filter(consultation::result.eq(result.clone()));
        }
        if let Some(authoritative) = filter.authoritative {
            query = query.filter(consultation::authoritative.eq(authoritative));
        }
        if let Some(from) = filter.from {
            query = query.filter(consultation::date.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(consultation::date.le(to));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "consultation", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct FileFilter {
    pub partner: Option<String>,
    pub owner_kind: Option<String>,
    pub owner: Option<String>,
    pub q: Vec<String>,
}

list_query! {
    /// Files of papers, meetings and agenda items.
    pub fn list_files(filter: &FileFilter) -> FileRow from file;
    sorts FILE_SORTS { "id" => id: Text, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(file::partner.eq(partner.clone()));
        }
        if let Some(owner_kind) = &filter.owner_kind {
            query = query.filter(file::owner_kind.eq(owner_kind.clone()));
        }
        if let Some(owner) = &filter.owner {
            query = query.filter(file::owner_id.eq(owner.clone()));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "file", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct SchoolFilter {
    /// The Schulträger partner.
    pub partner: Option<String>,
    /// A normalised school type code (`gymnasium`, …).
    pub school_type: Option<String>,
    pub school_number: Option<String>,
    pub postcode: Option<String>,
    pub q: Vec<String>,
}

list_query! {
    /// Schools; `q` searches name and city.
    pub fn list_schools(filter: &SchoolFilter) -> SchoolRow from school;
    sorts SCHOOL_SORTS {
        "id" => id: Text, "name" => name: Text, "school_number" => school_number: Text,
        "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(partner) = &filter.partner {
            query = query.filter(school::traeger_partner.eq(partner.clone()));
        }
        if let Some(school_type) = &filter.school_type {
            query = query.filter(json_contains("school_types", school_type));
        }
        if let Some(number) = &filter.school_number {
            query = query.filter(school::school_number.eq(number.clone()));
        }
        if let Some(postcode) = &filter.postcode {
            query = query.filter(school::postcode.eq(postcode.clone()));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "school", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct SchoolPartFilter {
    pub school: Option<String>,
    /// The school's Schulträger partner.
    pub partner: Option<String>,
    /// Media concept status or equipment category.
    pub kind: Option<String>,
}

list_query! {
    /// Media concepts (Medienbildungskonzepte); `kind` is the status.
    pub fn list_media_concepts(filter: &SchoolPartFilter) -> MediaConceptRow from media_concept;
    sorts MEDIA_CONCEPT_SORTS { "id" => id: Text, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if let Some(school_id) = &filter.school {
            query = query.filter(media_concept::school_id.eq(school_id.clone()));
        }
        if let Some(partner) = &filter.partner {
            query = query.filter(
                media_concept::school_id
                    .eq_any(school::table.filter(school::traeger_partner.eq(partner.clone())).select(school::id)),
            );
        }
        if let Some(status) = &filter.kind {
            query = query.filter(media_concept::status.eq(status.clone()));
        }
        query
    }
}

list_query! {
    /// Equipment counts per school; `kind` is the category.
    pub fn list_equipment(filter: &SchoolPartFilter) -> EquipmentRow from equipment;
    sorts EQUIPMENT_SORTS { "id" => id: Text, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if let Some(school_id) = &filter.school {
            query = query.filter(equipment::school_id.eq(school_id.clone()));
        }
        if let Some(partner) = &filter.partner {
            query = query.filter(
                equipment::school_id
                    .eq_any(school::table.filter(school::traeger_partner.eq(partner.clone())).select(school::id)),
            );
        }
        if let Some(category) = &filter.kind {
            query = query.filter(equipment::category.eq(category.clone()));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct ProgramFilter {
    pub q: Vec<String>,
}

list_query! {
    /// Funding programs.
    pub fn list_funding_programs(filter: &ProgramFilter) -> FundingProgramRow from funding_program;
    sorts FUNDING_PROGRAM_SORTS { "id" => id: Text, "modified_at" => modified_at: Timestamp }
    filters(query, backend) {
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "funding_program", &filter.q));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct BudgetFilter {
    pub program: Option<String>,
    pub partner: Option<String>,
    pub school: Option<String>,
}

list_query! {
    /// Funding budgets per Schulträger (and per school where the source splits them).
    pub fn list_funding_budgets(filter: &BudgetFilter) -> FundingBudgetRow from funding_budget;
    sorts FUNDING_BUDGET_SORTS {
        "id" => id: Text, "amount_cents" => amount_cents: BigInt, "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(program) = &filter.program {
            query = query.filter(funding_budget::program_id.eq(program.clone()));
        }
        if let Some(partner) = &filter.partner {
            query = query.filter(funding_budget::partner.eq(partner.clone()));
        }
        if let Some(school_id) = &filter.school {
            query = query.filter(funding_budget::school_id.eq(school_id.clone()));
        }
        query
    }
}

#[derive(Debug, Default, Clone)]
pub struct ApplicationFilter {
    pub program: Option<String>,
    pub partner: Option<String>,
    pub school: Option<String>,
    pub status: Option<String>,
    pub measure: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Vec<String>,
}

list_query! {
    /// Funding applications; `from`/`to` on the submission date.
    pub fn list_funding_applications(filter: &ApplicationFilter) -> FundingApplicationRow from funding_application;
    sorts FUNDING_APPLICATION_SORTS {
        "id" => id: Text, "reference" => reference: Text, "submitted_on" => submitted_on: NullDate,
        "modified_at" => modified_at: Timestamp,
    }
    filters(query, backend) {
        if let Some(program) = &filter.program {
            query = query.filter(funding_application::program_id.eq(program.clone()));
        }
        if let Some(partner) = &filter.partner {
            query = query.filter(funding_application::partner.eq(partner.clone()));
        }
        if let Some(school_id) = &filter.school {
            query = query.filter(json_contains("school_ids", school_id));
        }
        if let Some(status) = &filter.status {
            query = query.filter(funding_application::status.eq(status.clone()));
        }
        if let Some(measure) = &filter.measure {
            query = query.filter(funding_application::measure.eq(measure.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(funding_application::submitted_on.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(funding_application::submitted_on.le(to));
        }
        if !filter.q.is_empty() {
            query = query.filter(full_text(backend, "funding_application", &filter.q));
        }
        query
    }
}

/// `get_<entity>(conn, id)`: one record by public id, tombstoned or not.
macro_rules! getters {
    ($($name:ident => $table:ident, $row:ident;)*) => {$(
        pub fn $name(conn: &mut DbConnection, id: &str) -> Result<Option<$row>, StoreError> {
            Ok($table::table.find(id.to_owned()).select($row::as_select()).first(conn).optional()?)
        }
    )*};
}

getters! {
    get_organization => organization, OrganizationRow;
    get_meeting => meeting, MeetingRow;
    get_agenda_item => agenda_item, AgendaItemRow;
    get_paper => paper, PaperRow;
    get_decision => consultation, ConsultationRow;
    get_file => file, FileRow;
    get_school => school, SchoolRow;
    get_media_concept => media_concept, MediaConceptRow;
    get_equipment => equipment, EquipmentRow;
    get_funding_program => funding_program, FundingProgramRow;
    get_funding_budget => funding_budget, FundingBudgetRow;
    get_funding_application => funding_application, FundingApplicationRow;
}

/// A meeting's live agenda, in order.
pub fn meeting_agenda(conn: &mut DbConnection, meeting_id: &str) -> Result<Vec<AgendaItemRow>, StoreError> {
    Ok(agenda_item::table
        .filter(agenda_item::meeting_id.eq(meeting_id.to_owned()))
        .filter(agenda_item::deleted_at.is_null())
        .order((agenda_item::position.is_null(), agenda_item::position, agenda_item::id))
        .select(AgendaItemRow::as_select())
        .load(conn)?)
}

/// The live files of one owner (paper, meeting, agenda item).
pub fn files_of(conn: &mut DbConnection, owner_id: &str) -> Result<Vec<FileRow>, StoreError> {
    Ok(file::table
        .filter(file::owner_id.eq(owner_id.to_owned()))
        .filter(file::deleted_at.is_null())
        .order(file::id)
        .select(FileRow::as_select())
        .load(conn)?)
}

/// A paper's live consultations (Beratungsfolge), in order.
pub fn paper_consultations(conn: &mut DbConnection, paper_id: &str) -> Result<Vec<ConsultationRow>, StoreError> {
    Ok(consultation::table
        .filter(consultation::paper_id.eq(paper_id.to_owned()))
        .filter(consultation::deleted_at.is_null())
        .order((consultation::position.is_null(), consultation::position, consultation::id))
        .select(ConsultationRow::as_select())
        .load(conn)?)
}

/// Where a paper was on an agenda.
pub fn paper_agenda_items(conn: &mut DbConnection, paper_id: &str) -> Result<Vec<AgendaItemRow>, StoreError> {
    Ok(agenda_item::table
        .filter(agenda_item::paper_id.eq(paper_id.to_owned()))
        .filter(agenda_item::deleted_at.is_null())
        .order(agenda_item::id)
        .select(AgendaItemRow::as_select())
        .load(conn)?)
}

/// Everything the school page shows besides the school: media concepts, equipment, budgets, applications.
pub struct SchoolParts {
    pub media_concepts: Vec<MediaConceptRow>,
    pub equipment: Vec<EquipmentRow>,
    pub budgets: Vec<FundingBudgetRow>,
    pub applications: Vec<FundingApplicationRow>,
}

pub fn school_parts(conn: &mut DbConnection, school_id: &str) -> Result<SchoolParts, StoreError> {
    let media_concepts = media_concept::table
        .filter(media_concept::school_id.eq(school_id.to_owned()))
        .filter(media_concept::deleted_at.is_null())
        .order(media_concept::id)
        .select(MediaConceptRow::as_select())
        .load(conn)?;
    let equipment = equipment::table
        .filter(equipment::school_id.eq(school_id.to_owned()))
        .filter(equipment::deleted_at.is_null())
        .order((equipment::category, equipment::id))
        .select(EquipmentRow::as_select())
        .load(conn)?;
    let budgets = funding_budget::table
        .filter(funding_budget::school_id.eq(school_id.to_owned()))
        .filter(funding_budget::deleted_at.is_null())
        .order(funding_budget::id)
        .select(FundingBudgetRow::as_select())
        .load(conn)?;
    let applications = funding_application::table
        .filter(json_contains("school_ids", school_id))
        .filter(funding_application::deleted_at.is_null())
        .order(funding_application::id)
        .select(FundingApplicationRow::as_select())
        .load(conn)?;
    Ok(SchoolParts { media_concepts, equipment, budgets, applications })
}

//! Unified records → table rows.

use chrono::NaiveDateTime;
use ikz_connectors::model::{self, Origin, Record};
use sha2::{Digest, Sha256};

use crate::rows::*;

/// The provenance the store stamps on a record it writes.
pub(crate) struct Stamp<'a> {
    pub source: &'a str,
    pub content_hash: String,
    /// The run's start: first_seen_at (new records), last_seen_at and modified_at.
    pub seen_at: NaiveDateTime,
}

/// A row of any entity table.
pub(crate) enum AnyRow {
    Organization(OrganizationRow),
    Person(PersonRow),
    Membership(MembershipRow),
    Meeting(MeetingRow),
    AgendaItem(AgendaItemRow),
    Paper(PaperRow),
    Consultation(ConsultationRow),
    File(FileRow),
    School(SchoolRow),
    MediaConcept(MediaConceptRow),
    Equipment(EquipmentRow),
    FundingProgram(FundingProgramRow),
    FundingBudget(FundingBudgetRow),
    FundingApplication(FundingApplicationRow),
}

/// The content hash of a record: SHA-256 of its JSON. Field order is fixed by the struct definitions, so equal
/// records hash equally; an unchanged record is recognised without comparing columns.
pub(crate) fn content_hash(record: &Record) -> String {
    let json = serde_json::to_vec(record).unwrap_or_default();
    format!("{:x}", Sha256::digest(&json))
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn cents(amount: Option<model::Cents>) -> Option<i64> {
    amount.map(|cents| cents.0)
}

macro_rules! provenance {
    ($record:expr, $stamp:expr, { $($field:ident : $value:expr),* $(,)? }) => {{
        let origin: &Origin = &$record.origin;
        Self_ {
            id: $record.id.clone(),
            source: $stamp.source.to_owned(),
            source_key: origin.source_key.clone(),
            source_url: origin.source_url.clone(),
            content_hash: $stamp.content_hash.clone(),
            first_seen_at: $stamp.seen_at,
            last_seen_at: $stamp.seen_at,
            modified_at: $stamp.seen_at,
            deleted_at: None,
            $($field: $value),*
        }
    }};
}

/// The row for a data record; `None` for a tombstone, which carries no data.
pub(crate) fn to_row(record: &Record, stamp: &Stamp<'_>) -> Option<AnyRow> {
    let row = match record {
        Record::Tombstone(_) => return None,
        Record::Organization(r) => AnyRow::Organization({
            type Self_ = OrganizationRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                name: r.name.clone(),
                short_name: r.short_name.clone(),
                kind: r.kind.as_str().to_owned(),
                start_date: r.start_date,
                end_date: r.end_date,
                web_url: r.web_url.clone(),
            })
        }),
        Record::Person(r) => AnyRow::Person({
            type Self_ = PersonRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                name: r.name.clone(),
                family_name: r.family_name.clone(),
                given_name: r.given_name.clone(),
                title: r.title.clone(),
            })
        }),
        Record::Membership(r) => AnyRow::Membership({
            type Self_ = MembershipRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                person_id: r.person_id.clone(),
                organization_id: r.organization_id.clone(),
                role: r.role.clone(),
                voting_right: r.voting_right,
                start_date: r.start_date,
                end_date: r.end_date,
            })
        }),
        Record::Meeting(r) => AnyRow::Meeting({
            type Self_ = MeetingRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                organization_ids: json(&r.organization_ids),
                name: r.name.clone(),
                start_at: r.start.map(|at| at.naive_utc()),
                end_at: r.end.map(|at| at.naive_utc()),
                location: r.location.clone(),
                state: r.state.clone(),
                cancelled: r.cancelled,
                web_url: r.web_url.clone(),
            })
        }),
        Record::AgendaItem(r) => AnyRow::AgendaItem({
            type Self_ = AgendaItemRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                meeting_id: r.meeting_id.clone(),
                number: r.number.clone(),
                position: r.order,
                name: r.name.clone(),
                public: r.public,
                result: r.result.clone(),
                resolution_text: r.resolution_text.clone(),
                paper_id: r.paper_id.clone(),
            })
        }),
        Record::Paper(r) => AnyRow::Paper({
            type Self_ = PaperRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                reference: r.reference.clone(),
                subject: r.subject.clone(),
                paper_type: r.paper_type.clone(),
                date: r.date,
                public: r.public,
                lead_department: r.lead_department.clone(),
                sachverhalt: r.sections.sachverhalt.clone(),
                beschlussvorschlag: r.sections.beschlussvorschlag.clone(),
                finanzielle_auswirkung: r.sections.finanzielle_auswirkung.clone(),
                begruendung: r.sections.begruendung.clone(),
                financial_impact_once_cents: cents(r.financial_impact_once),
                financial_impact_annual_cents: cents(r.financial_impact_annual),
                web_url: r.web_url.clone(),
            })
        }),
        Record::Consultation(r) => AnyRow::Consultation({
            type Self_ = ConsultationRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                paper_id: r.paper_id.clone(),
                position: r.position,
                organization_id: r.organization_id.clone(),
                organization_name: r.organization_name.clone(),
                meeting_id: r.meeting_id.clone(),
                date: r.date,
                role: r.role.clone(),
                authoritative: r.authoritative,
                result_text: r.result_text.clone(),
                result: r.result.as_str().to_owned(),
            })
        }),
        Record::File(r) => AnyRow::File({
            type Self_ = FileRow;
            provenance!(r, stamp, {
                partner: r.partner.clone(),
                owner_kind: r.owner_kind.as_str().to_owned(),
                owner_id: r.owner_id.clone(),
                name: r.name.clone(),
                mime_type: r.mime_type.clone(),
                size: r.size,
                date: r.date,
                access_url: r.access_url.clone(),
            })
        }),
        Record::School(r) => AnyRow::School({
            type Self_ = SchoolRow;
            let types: Vec<&str> = r.school_types.iter().map(|t| t.as_str()).collect();
            provenance!(r, stamp, {
                state: r.state.clone(),
                school_number: r.school_number.clone(),
                name: r.name.clone(),
                school_types_raw: json(&r.school_types_raw),
                school_types: json(&types),
                legal_status: r.legal_status.clone(),
                traeger_name: r.traeger_name.clone(),
                traeger_partner: r.traeger_partner.clone(),
                street: r.address.street.clone(),
                postcode: r.address.postcode.clone(),
                city: r.address.city.clone(),
                phone: r.contact.phone.clone(),
                fax: r.contact.fax.clone(),
                email: r.contact.email.clone(),
                website: r.contact.website.clone(),
                pupils: r.pupils,
                pupils_as_of: r.pupils_as_of,
                latitude: r.latitude,
                longitude: r.longitude,
            })
        }),
        Record::MediaConcept(r) => AnyRow::MediaConcept({
            type Self_ = MediaConceptRow;
            provenance!(r, stamp, {
                school_id: r.school_id.clone(),
                status: r.status.as_str().to_owned(),
                started_on: r.started_on,
                submitted_on: r.submitted_on,
                approved_on: r.approved_on,
                version: r.version.clone(),
            })
        }),
        Record::Equipment(r) => AnyRow::Equipment({
            type Self_ = EquipmentRow;
            provenance!(r, stamp, {
                school_id: r.school_id.clone(),
                category: r.category.clone(),
                count: r.count,
                as_of: r.as_of,
            })
        }),
        Record::FundingProgram(r) => AnyRow::FundingProgram({
            type Self_ = FundingProgramRow;
            provenance!(r, stamp, {
                name: r.name.clone(),
                legal_basis: r.legal_basis.clone(),
                period_start: r.period_start,
                period_end: r.period_end,
                deadlines: json(&r.deadlines),
                measures: json(&r.measures),
            })
        }),
        Record::FundingBudget(r) => AnyRow::FundingBudget({
            type Self_ = FundingBudgetRow;
            provenance!(r, stamp, {
                program_id: r.program_id.clone(),
                partner: r.partner.clone(),
                school_id: r.school_id.clone(),
                amount_cents: r.amount.0,
                basis: r.basis.clone(),
            })
        }),
        Record::FundingApplication(r) => AnyRow::FundingApplication({
            type Self_ = FundingApplicationRow;
            provenance!(r, stamp, {
                program_id: r.program_id.clone(),
                reference: r.reference.clone(),
                partner: r.partner.clone(),
                recipient_name: r.recipient_name.clone(),
                school_ids: json(&r.school_ids),
                measure: r.measure.clone(),
                title: r.title.clone(),
                requested_cents: cents(r.requested),
                approved_cents: cents(r.approved),
                disbursed_cents: cents(r.disbursed),
                status: r.status.as_str().to_owned(),
                submitted_on: r.submitted_on,
                approved_on: r.approved_on,
                period_start: r.period_start,
                period_end: r.period_end,
                disbursements: json(&r.disbursements),
            })
        }),
    };
    Some(row)
}

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

macro_rules! any_row_keys {
    ($($kind:ident),*) => {
        impl AnyRow {
            pub(crate) fn id(&self) -> &str {
                match self {
                    $(AnyRow::$kind(row) => &row.id,)*
                }
            }

            pub(crate) fn source_key(&self) -> &str {
                match self {
                    $(AnyRow::$kind(row) => &row.source_key,)*
                }
            }
        }
    };
}

any_row_keys!(
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
    FundingApplication
);

/// The content hash of a record: SHA-256 of its JSON. Field order is fixed by the struct definitions, so equal
/// records hash equally; an unchanged record is recognised without comparing columns.
pub(crate) fn content_hash(record: &Record) -> String {
    // Serialised straight into the hasher: the same digest as hashing the JSON bytes, without building them.
    let mut hasher = Sha256::new();
    if serde_json::to_writer(&mut hasher, record).is_err() {
        hasher = Sha256::new();
    }
    format!("{:x}", hasher.finalize())
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn cents(amount: Option<model::Cents>) -> Option<i64> {
    amount.map(|cents| cents.0)
}

macro_rules! provenance {
    ($record:expr, $stamp:expr, { $($field:ident : $value:expr),* $(,)? }) => {{
        let origin: Origin = $record.origin;
        Self_ {
            id: $record.id,
            source: $stamp.source.to_owned(),
            source_key: origin.source_key,
            source_url: origin.source_url,
            content_hash: $stamp.content_hash,
            first_seen_at: $stamp.seen_at,
            last_seen_at: $stamp.seen_at,
            modified_at: $stamp.seen_at,
            deleted_at: None,
            $($field: $value),*
        }
    }};
}

/// The row for a data record, moving its values; `None` for a tombstone, which carries no data.
pub(crate) fn to_row(record: Record, stamp: Stamp<'_>) -> Option<AnyRow> {
    let row = match record {
        Record::Tombstone(_) => return None,
        Record::Organization(r) => AnyRow::Organization({
            type Self_ = OrganizationRow;
            provenance!(r, stamp, {
                partner: r.partner,
                name: r.name,
                short_name: r.short_name,
                kind: r.kind.as_str().to_owned(),
                start_date: r.start_date,
                end_date: r.end_date,
                web_url: r.web_url,
            })
        }),
        Record::Person(r) => AnyRow::Person({
            type Self_ = PersonRow;
            provenance!(r, stamp, {
                partner: r.partner,
                name: r.name,
                family_name: r.family_name,
                given_name: r.given_name,
                title: r.title,
            })
        }),
        Record::Membership(r) => AnyRow::Membership({
            type Self_ = MembershipRow;
            provenance!(r, stamp, {
                partner: r.partner,
                person_id: r.person_id,
                organization_id: r.organization_id,
                role: r.role,
                voting_right: r.voting_right,
                start_date: r.start_date,
                end_date: r.end_date,
            })
        }),
        Record::Meeting(r) => AnyRow::Meeting({
            type Self_ = MeetingRow;
            provenance!(r, stamp, {
                partner: r.partner,
                organization_ids: json(&r.organization_ids),
                name: r.name,
                start_at: r.start.map(|at| at.naive_utc()),
                end_at: r.end.map(|at| at.naive_utc()),
                location: r.location,
                state: r.state,
                cancelled: r.cancelled,
                web_url: r.web_url,
            })
        }),
        Record::AgendaItem(r) => AnyRow::AgendaItem({
            type Self_ = AgendaItemRow;
            provenance!(r, stamp, {
                partner: r.partner,
                meeting_id: r.meeting_id,
                number: r.number,
                position: r.order,
                name: r.name,
                public: r.public,
                result: r.result,
                resolution_text: r.resolution_text,
                paper_id: r.paper_id,
            })
        }),
        Record::Paper(r) => AnyRow::Paper({
            type Self_ = PaperRow;
            provenance!(r, stamp, {
                partner: r.partner,
                reference: r.reference,
                subject: r.subject,
                paper_type: r.paper_type,
                date: r.date,
                public: r.public,
                lead_department: r.lead_department,
                sachverhalt: r.sections.sachverhalt,
                beschlussvorschlag: r.sections.beschlussvorschlag,
                finanzielle_auswirkung: r.sections.finanzielle_auswirkung,
                begruendung: r.sections.begruendung,
                financial_impact_once_cents: cents(r.financial_impact_once),
                financial_impact_annual_cents: cents(r.financial_impact_annual),
                web_url: r.web_url,
            })
        }),
        Record::Consultation(r) => AnyRow::Consultation({
            type Self_ = ConsultationRow;
            provenance!(r, stamp, {
                partner: r.partner,
                paper_id: r.paper_id,
                position: r.position,
                organization_id: r.organization_id,
                organization_name: r.organization_name,
                meeting_id: r.meeting_id,
                date: r.date,
                role: r.role,
                authoritative: r.authoritative,
                result_text: r.result_text,
                result: r.result.as_str().to_owned(),
            })
        }),
        Record::File(r) => AnyRow::File({
            type Self_ = FileRow;
            provenance!(r, stamp, {
                partner: r.partner,
                owner_kind: r.owner_kind.as_str().to_owned(),
                owner_id: r.owner_id,
                name: r.name,
                mime_type: r.mime_type,
                size: r.size,
                date: r.date,
                access_url: r.access_url,
            })
        }),
        Record::School(r) => AnyRow::School({
            type Self_ = SchoolRow;
            let types: Vec<&str> = r.school_types.iter().map(|t| t.as_str()).collect();
            provenance!(r, stamp, {
                state: r.state,
                school_number: r.school_number,
                name: r.name,
                school_types_raw: json(&r.school_types_raw),
                school_types: json(&types),
                legal_status: r.legal_status,
                traeger_name: r.traeger_name,
                traeger_partner: r.traeger_partner,
                street: r.address.street,
                postcode: r.address.postcode,
                city: r.address.city,
                phone: r.contact.phone,
                fax: r.contact.fax,
                email: r.contact.email,
                website: r.contact.website,
                pupils: r.pupils,
                pupils_as_of: r.pupils_as_of,
                latitude: r.latitude,
                longitude: r.longitude,
            })
        }),
        Record::MediaConcept(r) => AnyRow::MediaConcept({
            type Self_ = MediaConceptRow;
            provenance!(r, stamp, {
                school_id: r.school_id,
                status: r.status.as_str().to_owned(),
                started_on: r.started_on,
                submitted_on: r.submitted_on,
                approved_on: r.approved_on,
                version: r.version,
            })
        }),
        Record::Equipment(r) => AnyRow::Equipment({
            type Self_ = EquipmentRow;
            provenance!(r, stamp, {
                school_id: r.school_id,
                category: r.category,
                count: r.count,
                as_of: r.as_of,
            })
        }),
        Record::FundingProgram(r) => AnyRow::FundingProgram({
            type Self_ = FundingProgramRow;
            provenance!(r, stamp, {
                name: r.name,
                legal_basis: r.legal_basis,
                period_start: r.period_start,
                period_end: r.period_end,
                deadlines: json(&r.deadlines),
                measures: json(&r.measures),
            })
        }),
        Record::FundingBudget(r) => AnyRow::FundingBudget({
            type Self_ = FundingBudgetRow;
            provenance!(r, stamp, {
                program_id: r.program_id,
                partner: r.partner,
                school_id: r.school_id,
                amount_cents: r.amount.0,
                basis: r.basis,
            })
        }),
        Record::FundingApplication(r) => AnyRow::FundingApplication({
            type Self_ = FundingApplicationRow;
            provenance!(r, stamp, {
                program_id: r.program_id,
                reference: r.reference,
                partner: r.partner,
                recipient_name: r.recipient_name,
                school_ids: json(&r.school_ids),
                measure: r.measure,
                title: r.title,
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

//! Parsed pages → unified records. Ids come from ALLRIS's own numbers (VOLFDNR, SILFDNR, TOLFDNR) and Gremium
//! names, so references between records need no lookup. Staff names (zuständig, Bearbeiter/-in, Verfasser/-in) are
//! never read from the pages, so they cannot reach a record.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

use super::page::{AgendaItemPage, AgendaRow, Attachment, MeetingPage, PageError, PaperPage};
use crate::model::{
    AgendaItem, Consultation, EntityKind, File, FileOwner, Meeting, Organization, OrganizationKind, Origin, Paper,
    Record,
};

pub(crate) fn paper_key(volfdnr: &str) -> String {
    format!("VOLFDNR={volfdnr}")
}

pub(crate) fn meeting_key(silfdnr: &str) -> String {
    format!("SILFDNR={silfdnr}")
}

pub(crate) fn agenda_item_key(tolfdnr: &str) -> String {
    format!("TOLFDNR={tolfdnr}")
}

/// Gremien are keyed by name: the Beratungsfolge names them without their number.
pub(crate) fn organization_key(name: &str) -> String {
    format!("GREMIUM={name}")
}

pub(crate) fn organization(partner: &str, name: &str, kind: OrganizationKind) -> Record {
    let key = organization_key(name);
    Record::Organization(Organization {
        id: EntityKind::Organization.public_id(partner, &key),
        origin: Origin::new(key),
        partner: partner.to_owned(),
        name: name.to_owned(),
        short_name: None,
        kind,
        start_date: None,
        end_date: None,
        web_url: None,
    })
}

fn organization_id(partner: &str, name: &str) -> String {
    EntityKind::Organization.public_id(partner, &organization_key(name))
}

/// Links back to the source, for `source_url`.
pub(crate) trait Links {
    fn paper(&self, volfdnr: &str) -> Option<String>;
    fn meeting(&self, silfdnr: &str) -> Option<String>;
    fn agenda_item(&self, tolfdnr: &str) -> Option<String>;
}

fn with_url(origin: Origin, url: Option<String>) -> Origin {
    match url {
        Some(url) => origin.with_url(url),
        None => origin,
    }
}

/// A paper, its consultations and files, and the Gremien of its Beratungsfolge.
pub(crate) fn paper(partner: &str, page: &PaperPage, links: &dyn Links) -> Result<Vec<Record>, PageError> {
    let volfdnr = page.volfdnr.as_deref().ok_or_else(|| PageError::missing("VOLFDNR"))?;
    let subject = page.subject.clone().ok_or_else(|| PageError::missing("Betreff"))?;
    let key = paper_key(volfdnr);
    let paper_id = EntityKind::Paper.public_id(partner, &key);
    let mut records = vec![Record::Paper(Paper {
        id: paper_id.clone(),
        origin: with_url(Origin::new(&key), links.paper(volfdnr)),
        partner: partner.to_owned(),
        reference: page.reference.clone(),
        subject,
        paper_type: page.paper_type.clone(),
        date: page.date,
        public: page.public,
        lead_department: page.lead_department.clone(),
        sections: page.sections.clone(),
        financial_impact_once: page.financial_impact_once,
        financial_impact_annual: page.financial_impact_annual,
        web_url: links.paper(volfdnr),
    })];
    let mut seen: Vec<&str> = Vec::new();
    for (index, station) in page.consultations.iter().enumerate() {
        // A Gremium can consult a paper twice; its n-th appearance keeps the key stable.
        let occurrence = seen.iter().filter(|name| **name == station.committee).count() + 1;
        seen.push(&station.committee);
        let consultation_key = format!("{key}/{}#{occurrence}", station.committee);
        records.push(organization(partner, &station.committee, super::page::organization_kind(&station.committee)));
        records.push(Record::Consultation(Consultation {
            id: EntityKind::Consultation.public_id(partner, &consultation_key),
            origin: with_url(Origin::new(consultation_key), links.paper(volfdnr)),
            partner: partner.to_owned(),
            paper_id: paper_id.clone(),
            position: Some(index as i32 + 1),
            organization_id: Some(organization_id(partner, &station.committee)),
            organization_name: Some(station.committee.clone()),
            meeting_id: station
                .meeting_silfdnr
                .as_deref()
                .map(|id| EntityKind::Meeting.public_id(partner, &meeting_key(id))),
            date: station.date,
            role: station.role.clone(),
            authoritative: station.role.as_deref().map(|role| role.eq_ignore_ascii_case("Entscheidung")),
            result_text: station.result_text.clone(),
            result: station.result,
        }));
    }
    records.extend(files(partner, FileOwner::Paper, &paper_id, &key, &page.attachments, page.date));
    Ok(records)
}

/// A paper ALLRIS does not show (noauth.asp): what the referring agenda said about it, marked non-public.
pub(crate) fn hidden_paper(partner: &str, volfdnr: &str, reference: Option<String>, subject: String) -> Record {
    let key = paper_key(volfdnr);
    Record::Paper(Paper {
        id: EntityKind::Paper.public_id(partner, &key),
        origin: Origin::new(key),
        partner: partner.to_owned(),
        reference,
        subject,
        paper_type: None,
        date: None,
        public: false,
        lead_department: None,
        sections: Default::default(),
        financial_impact_once: None,
        financial_impact_annual: None,
        web_url: None,
    })
}

fn files(
    partner: &str,
    owner_kind: FileOwner,
    owner_id: &str,
    owner_key: &str,
    attachments: &[Attachment],
    date: Option<NaiveDate>,
) -> Vec<Record> {
    attachments
        .iter()
        .map(|attachment| {
            let key = format!("{owner_key}/{}", attachment.key);
            let mime_type = attachment.url.to_ascii_lowercase().ends_with(".pdf").then(|| "application/pdf".to_owned());
            Record::File(File {
                id: EntityKind::File.public_id(partner, &key),
                origin: Origin::new(key).with_url(attachment.url.clone()),
                partner: partner.to_owned(),
                owner_kind,
                owner_id: owner_id.to_owned(),
                name: attachment.name.clone(),
                mime_type,
                size: None,
                date,
                access_url: Some(attachment.url.clone()),
            })
        })
        .collect()
}

fn instant(date: NaiveDate, time: Option<NaiveTime>) -> Option<DateTime<Utc>> {
    // A meeting without a time keeps its date as local midnight.
    let local = date.and_time(time.unwrap_or(NaiveTime::MIN));
    Berlin.from_local_datetime(&local).earliest().map(|instant| instant.with_timezone(&Utc))
}

/// A meeting and its Gremium (its agenda items come from [`agenda_item`]).
pub(crate) fn meeting(partner: &str, page: &MeetingPage, links: &dyn Links) -> Result<Vec<Record>, PageError> {
    let silfdnr = page.silfdnr.as_deref().ok_or_else(|| PageError::missing("SILFDNR"))?;
    let key = meeting_key(silfdnr);
    let meeting_id = EntityKind::Meeting.public_id(partner, &key);
    let name = page.name.clone().or_else(|| page.committee.clone()).ok_or_else(|| PageError::missing("Bezeichnung"))?;
    let location = [page.room.as_deref(), page.place.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let lower = format!("{name} {}", page.status.as_deref().unwrap_or_default()).to_lowercase();
    let mut records = Vec::new();
    if let Some(committee) = &page.committee {
        records.push(organization(partner, committee, super::page::organization_kind(committee)));
    }
    records.push(Record::Meeting(Meeting {
        id: meeting_id.clone(),
        origin: with_url(Origin::new(&key), links.meeting(silfdnr)),
        partner: partner.to_owned(),
        organization_ids: page.committee.iter().map(|name| organization_id(partner, name)).collect(),
        name,
        start: page.date.and_then(|date| instant(date, page.start_time)),
        end: page.date.zip(page.end_time).and_then(|(date, time)| instant(date, Some(time))),
        location: (!location.is_empty()).then_some(location),
        state: None,
        cancelled: lower.contains("abgesagt") || lower.contains("entfällt") || lower.contains("ausgefallen"),
        web_url: links.meeting(silfdnr),
    }));
    records.extend(files(partner, FileOwner::Meeting, &meeting_id, &key, &page.attachments, page.date));
    Ok(records)
}

/// One TOP from the agenda row, completed by its own page where that was read.
pub(crate) fn agenda_item(
    partner: &str,
    silfdnr: &str,
    row: &AgendaRow,
    detail: Option<&AgendaItemPage>,
    links: &dyn Links,
) -> Record {
    let key = agenda_item_key(&row.tolfdnr);
    let paper = row.paper_volfdnr.as_deref().or(detail.and_then(|detail| detail.paper_volfdnr.as_deref()));
    Record::AgendaItem(AgendaItem {
        id: EntityKind::AgendaItem.public_id(partner, &key),
        origin: with_url(Origin::new(&key), links.agenda_item(&row.tolfdnr)),
        partner: partner.to_owned(),
        meeting_id: EntityKind::Meeting.public_id(partner, &meeting_key(silfdnr)),
        number: row.number.clone(),
        order: Some(row.order),
        name: row.name.clone(),
        public: row.public,
        result: detail.and_then(|detail| detail.result.clone()).or_else(|| row.result.clone()),
        resolution_text: detail.and_then(|detail| detail.resolution.clone()),
        paper_id: paper.map(|volfdnr| EntityKind::Paper.public_id(partner, &paper_key(volfdnr))),
    })
}

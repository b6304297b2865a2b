//! OParl objects → unified records.
//!
//! Public ids come from the object URLs (`EntityKind::X.public_id(partner, url)`), so references (a meeting's
//! organizations, a consultation's paper) are computed the same way without lookups. Two joins need state across
//! lists, kept in [`Normaliser`]:
//! - a consultation's result is the result text of its agenda item (OParl keeps it there), so meetings (with their
//!   agenda items) are walked before papers (with their consultations);
//! - an agenda item's paper is only known through the consultation that names the agenda item, so agenda items
//!   with a consultation wait until the papers are read ([`Normaliser::finish_agenda_items`]).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use serde_json::Value;

use super::json::{self, FieldProblem};
use crate::connector::Rejection;
use crate::model::{
    AgendaItem, Consultation, ConsultationResult, EntityKind, File, FileOwner, Meeting, Membership, Organization,
    OrganizationKind, Origin, Paper, PaperSections, Person, Record, Tombstone,
};

/// What is known about an agenda item for the consultation join.
#[derive(Debug, Clone)]
pub struct AgendaInfo {
    pub result: Option<String>,
    pub meeting: Option<String>,
}

/// What is known about a meeting for its consultations.
#[derive(Debug, Clone)]
struct MeetingInfo {
    date: Option<NaiveDate>,
    organization: Option<String>,
}

/// A consultation whose agenda item was not read in this run (an incremental run): its result is looked up later.
#[derive(Debug)]
pub struct Deferred {
    pub consultation: Consultation,
    pub agenda_item: String,
}

/// An agenda item waiting for the paper its consultation names.
#[derive(Debug)]
pub struct PendingItem {
    pub item: AgendaItem,
    pub consultation: String,
}

/// Normalises objects into `out`, collecting rejections and warnings; the caller drains them to the sink.
#[derive(Default)]
pub struct Normaliser {
    pub out: Vec<Record>,
    pub rejects: Vec<Rejection>,
    pub warnings: Vec<String>,
    /// Consultations read in an incremental run whose agenda item is unknown yet (only filled when `defer` is set).
    pub deferred: Vec<Deferred>,
    pub pending_items: Vec<PendingItem>,
    /// Defer consultations with unknown agenda items instead of emitting them as pending.
    pub defer: bool,
    emitted: HashSet<String>,
    agenda: HashMap<String, AgendaInfo>,
    meetings: HashMap<String, MeetingInfo>,
    organization_names: HashMap<String, String>,
    /// consultation URL → paper URL.
    consultation_papers: HashMap<String, String>,
    /// Records by entity, for the run summary.
    pub counts: HashMap<EntityKind, u64>,
    pub tombstones: u64,
}

/// Where an object is: the page URL and a JSON pointer.
pub struct At<'a> {
    pub url: &'a str,
    pub pointer: String,
}

impl At<'_> {
    fn child(&self, key: &str, index: Option<usize>) -> At<'_> {
        let pointer = match index {
            Some(index) => format!("{}/{key}/{index}", self.pointer),
            None => format!("{}/{key}", self.pointer),
        };
        At { url: self.url, pointer }
    }

    fn location(&self) -> String {
        format!("{} #{}", self.url, self.pointer)
    }
}

impl Normaliser {
    pub fn new(defer: bool) -> Self {
        Normaliser { defer, ..Normaliser::default() }
    }

    /// Reads one object of a list by its OParl type (`Paper`, …); returns false if it was rejected.
    pub fn object(&mut self, expected: &str, object: &Value, partner: &str, at: &At<'_>) -> bool {
        if !object.is_object() {
            self.reject(at, None, Some(object.to_string()), format!("expected a {expected} object"));
            return false;
        }
        if let Some(actual) = json::type_name(object) {
            if actual != expected {
                self.reject(
                    at,
                    Some("type"),
                    json::text(object, "type"),
                    format!("expected a {expected}, got {actual}"),
                );
                return false;
            }
        }
        match expected {
            "Organization" => self.organization(object, partner, at),
            "Person" => self.person(object, partner, at),
            "Membership" => self.membership(object, None, partner, at),
            "Meeting" => self.meeting(object, partner, at),
            "AgendaItem" => self.agenda_item(object, None, None, partner, at),
            "Paper" => self.paper(object, partner, at),
            "Consultation" => self.consultation(object, None, None, partner, at),
            "File" => self.file(object, None, partner, at),
            _ => {
                self.reject(at, Some("type"), Some(expected.to_owned()), "not an imported OParl type".to_owned());
                false
            }
        }
    }

    fn reject(&mut self, at: &At<'_>, field: Option<&str>, value: Option<String>, message: String) {
        self.rejects.push(Rejection {
            location: at.location(),
            field: field.map(str::to_owned),
            value: value.map(|value| value.chars().take(200).collect()),
            message,
        });
    }

    /// A field that could not be read: the record keeps going without it, an administrator is told.
    fn field_problem(&mut self, at: &At<'_>, problem: FieldProblem) {
        self.warnings.push(format!(
            "{}: field `{}` = {:?} ignored: {}",
            at.location(),
            problem.field,
            problem.value,
            problem.message
        ));
    }

    fn date(&mut self, object: &Value, key: &str, at: &At<'_>) -> Option<NaiveDate> {
        json::date(object, key).unwrap_or_else(|problem| {
            self.field_problem(at, problem);
            None
        })
    }

    fn date_time(&mut self, object: &Value, key: &str, at: &At<'_>) -> Option<chrono::DateTime<Utc>> {
        json::date_time(object, key).unwrap_or_else(|problem| {
            self.field_problem(at, problem);
            None
        })
    }

    /// The object's URL, or a rejection.
    fn id(&mut self, object: &Value, at: &At<'_>) -> Option<String> {
        let id = json::text(object, "id");
        if id.is_none() {
            self.reject(at, Some("id"), None, "the object has no `id`".to_owned());
        }
        id
    }

    /// Emits `record` unless a record with its id was emitted in this run already (embedded objects repeat).
    fn emit(&mut self, record: Record) {
        if self.emitted.insert(record.id().to_owned()) {
            *self.counts.entry(record.kind()).or_default() += 1;
            self.out.push(record);
        }
    }

    /// `deleted: true`: a tombstone instead of the record. Returns whether the object was deleted.
    fn deleted(&mut self, kind: EntityKind, object: &Value, url: &str, partner: &str) -> bool {
        if !json::is_deleted(object) {
            return false;
        }
        let tombstone = Tombstone { id: kind.public_id(partner, url), kind, origin: Origin::new(url) };
        if self.emitted.insert(format!("deleted:{}", tombstone.id)) {
            self.tombstones += 1;
            self.out.push(Record::Tombstone(tombstone));
        }
        true
    }

    fn origin(url: &str, object: &Value) -> Origin {
        let origin = Origin::new(url);
        match json::text(object, "web") {
            Some(web) => origin.with_url(web),
            None => origin,
        }
    }

    pub fn organization(&mut self, object: &Value, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Organization, object, &url, partner) {
            return true;
        }
        let Some(name) = json::text(object, "name").or_else(|| json::text(object, "shortName")) else {
            self.reject(at, Some("name"), None, "the organization has no name".to_owned());
            return false;
        };
        self.organization_names.insert(url.clone(), name.clone());
        let kind = classify_organization(
            json::text(object, "organizationType").as_deref(),
            json::text(object, "classification").as_deref(),
            &name,
        );
        let record = Organization {
            id: EntityKind::Organization.public_id(partner, &url),
            origin: Self::origin(&url, object),
            partner: partner.to_owned(),
            short_name: json::text(object, "shortName").filter(|short| *short != name),
            name,
            kind,
            start_date: self.date(object, "startDate", at),
            end_date: self.date(object, "endDate", at),
            web_url: json::text(object, "web"),
        };
        self.emit(record.into());
        true
    }

    pub fn person(&mut self, object: &Value, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Person, object, &url, partner) {
            return true;
        }
        let family_name = json::text(object, "familyName");
        let given_name = json::text(object, "givenName");
        let titles: Vec<String> = json::many(object, "title").into_iter().filter_map(json::as_text).collect();
        let title = (!titles.is_empty()).then(|| titles.join(" "));
        let name = json::text(object, "name").or_else(|| {
            let parts: Vec<&str> =
                [title.as_deref(), given_name.as_deref(), family_name.as_deref()].into_iter().flatten().collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        let Some(name) = name else {
            self.reject(at, Some("name"), None, "the person has no name".to_owned());
            return false;
        };
        let record = Person {
            id: EntityKind::Person.public_id(partner, &url),
            origin: Origin::new(&url),
            partner: partner.to_owned(),
            name,
            family_name,
            given_name,
            title,
        };
        self.emit(record.into());
        for (index, membership) in json::many(object, "membership").into_iter().enumerate() {
            // Memberships given only by URL come from the membership list.
            if membership.is_object() {
                self.membership(membership, Some(&url), partner, &at.child("membership", Some(index)));
            }
        }
        true
    }

    pub fn membership(&mut self, object: &Value, person: Option<&str>, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Membership, object, &url, partner) {
            return true;
        }
        let Some(person) =
            person.map(str::to_owned).or_else(|| json::reference(object.get("person").unwrap_or(&Value::Null)))
        else {
            self.reject(at, Some("person"), None, "the membership names no person".to_owned());
            return false;
        };
        let record = Membership {
            id: EntityKind::Membership.public_id(partner, &url),
            origin: Origin::new(&url),
            partner: partner.to_owned(),
            person_id: EntityKind::Person.public_id(partner, &person),
            organization_id: json::first_reference(object, "organization")
                .map(|org| EntityKind::Organization.public_id(partner, &org)),
            role: json::text(object, "role"),
            voting_right: json::boolean(object, "votingRight"),
            start_date: self.date(object, "startDate", at),
            end_date: self.date(object, "endDate", at),
        };
        self.emit(record.into());
        true
    }

    pub fn meeting(&mut self, object: &Value, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Meeting, object, &url, partner) {
            return true;
        }
        let start = self.date_time(object, "start", at);
        let end = self.date_time(object, "end", at);
        let organizations = json::references(object, "organization");
        let name = json::text(object, "name").unwrap_or_else(|| match start {
            Some(start) => format!("Sitzung am {}", berlin_date(start).format("%d.%m.%Y")),
            None => "Sitzung".to_owned(),
        });
        self.meetings.insert(
            url.clone(),
            MeetingInfo { date: start.map(berlin_date), organization: organizations.first().cloned() },
        );
        let record = Meeting {
            id: EntityKind::Meeting.public_id(partner, &url),
            origin: Self::origin(&url, object),
            partner: partner.to_owned(),
            organization_ids: organizations
                .iter()
                .map(|org| EntityKind::Organization.public_id(partner, org))
                .collect(),
            name,
            start,
            end,
            location: object.get("location").and_then(location_text),
            state: json::text(object, "meetingState"),
            cancelled: json::boolean(object, "cancelled").unwrap_or(false),
            web_url: json::text(object, "web"),
        };
        let meeting_id = record.id.clone();
        self.emit(record.into());
        for key in ["invitation", "resultsProtocol", "verbatimProtocol", "auxiliaryFile"] {
            for (index, file) in json::many(object, key).into_iter().enumerate() {
                if file.is_object() {
                    self.file(file, Some((FileOwner::Meeting, &meeting_id)), partner, &at.child(key, Some(index)));
                }
            }
        }
        for (index, item) in json::many(object, "agendaItem").into_iter().enumerate() {
            if item.is_object() {
                self.agenda_item(item, Some(&url), Some(index + 1), partner, &at.child("agendaItem", Some(index)));
            }
        }
        true
    }

    pub fn agenda_item(
        &mut self,
        object: &Value,
        meeting: Option<&str>,
        position: Option<usize>,
        partner: &str,
        at: &At<'_>,
    ) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::AgendaItem, object, &url, partner) {
            return true;
        }
        let Some(meeting) = meeting.map(str::to_owned).or_else(|| json::first_reference(object, "meeting")) else {
            self.reject(at, Some("meeting"), None, "the agenda item names no meeting".to_owned());
            return false;
        };
        let number = json::text(object, "number");
        let result = json::text(object, "result");
        self.agenda.insert(url.clone(), AgendaInfo { result: result.clone(), meeting: Some(meeting.clone()) });
        let order = json::integer(object, "order")
            .and_then(|order| i32::try_from(order).ok())
            .or_else(|| position.and_then(|position| i32::try_from(position).ok()));
        let record = AgendaItem {
            id: EntityKind::AgendaItem.public_id(partner, &url),
            origin: Self::origin(&url, object),
            partner: partner.to_owned(),
            meeting_id: EntityKind::Meeting.public_id(partner, &meeting),
            name: json::text(object, "name").or_else(|| number.clone()).unwrap_or_else(|| "TOP".to_owned()),
            number,
            order,
            public: json::boolean(object, "public").unwrap_or(true),
            result,
            resolution_text: json::text(object, "resolutionText"),
            paper_id: None,
        };
        let item_id = record.id.clone();
        for key in ["resolutionFile", "auxiliaryFile"] {
            for (index, file) in json::many(object, key).into_iter().enumerate() {
                if file.is_object() {
                    self.file(file, Some((FileOwner::AgendaItem, &item_id)), partner, &at.child(key, Some(index)));
                }
            }
        }
        match json::first_reference(object, "consultation") {
            // Its paper is known once the papers are read.
            Some(consultation) if !self.emitted.contains(&record.id) => {
                self.emitted.insert(record.id.clone());
                self.pending_items.push(PendingItem { item: record, consultation });
            }
            Some(_) => {}
            None => self.emit(record.into()),
        }
        true
    }

    pub fn paper(&mut self, object: &Value, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Paper, object, &url, partner) {
            return true;
        }
        let reference = json::text(object, "reference");
        let Some(subject) = json::text(object, "name").or_else(|| reference.clone()) else {
            self.reject(at, Some("name"), None, "the paper has neither a name nor a reference".to_owned());
            return false;
        };
        let lead_department = json::first_reference(object, "underDirectionOf")
            .and_then(|org| self.organization_names.get(&org).cloned());
        let record = Paper {
            id: EntityKind::Paper.public_id(partner, &url),
            origin: Self::origin(&url, object),
            partner: partner.to_owned(),
            reference,
            subject,
            paper_type: json::text(object, "paperType"),
            date: self.date(object, "date", at),
            // OParl publishes public papers only.
            public: true,
            lead_department,
            sections: PaperSections::default(),
            financial_impact_once: None,
            financial_impact_annual: None,
            web_url: json::text(object, "web"),
        };
        let paper_id = record.id.clone();
        self.emit(record.into());
        for key in ["mainFile", "auxiliaryFile"] {
            for (index, file) in json::many(object, key).into_iter().enumerate() {
                if file.is_object() {
                    self.file(file, Some((FileOwner::Paper, &paper_id)), partner, &at.child(key, Some(index)));
                }
            }
        }
        for (index, consultation) in json::many(object, "consultation").into_iter().enumerate() {
            if consultation.is_object() {
                let at = at.child("consultation", Some(index));
                self.consultation(consultation, Some(&url), Some(index + 1), partner, &at);
            }
        }
        true
    }

    pub fn consultation(
        &mut self,
        object: &Value,
        paper: Option<&str>,
        position: Option<usize>,
        partner: &str,
        at: &At<'_>,
    ) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::Consultation, object, &url, partner) {
            return true;
        }
        let Some(paper) = paper.map(str::to_owned).or_else(|| json::first_reference(object, "paper")) else {
            self.reject(at, Some("paper"), None, "the consultation names no paper".to_owned());
            return false;
        };
        self.consultation_papers.insert(url.clone(), paper.clone());
        let agenda_item = json::first_reference(object, "agendaItem");
        let known = agenda_item.as_ref().and_then(|item| self.agenda.get(item)).cloned();
        let meeting =
            json::first_reference(object, "meeting").or_else(|| known.as_ref().and_then(|k| k.meeting.clone()));
        let meeting_info = meeting.as_ref().and_then(|meeting| self.meetings.get(meeting)).cloned();
        let organization = json::first_reference(object, "organization")
            .or_else(|| meeting_info.as_ref().and_then(|info| info.organization.clone()));
        let result_text = known.as_ref().and_then(|known| known.result.clone());
        let consultation = Consultation {
            id: EntityKind::Consultation.public_id(partner, &url),
            origin: Origin::new(&url),
            partner: partner.to_owned(),
            paper_id: EntityKind::Paper.public_id(partner, &paper),
            position: position.and_then(|position| i32::try_from(position).ok()),
            organization_name: organization.as_ref().and_then(|org| self.organization_names.get(org).cloned()),
            organization_id: organization.map(|org| EntityKind::Organization.public_id(partner, &org)),
            meeting_id: meeting.map(|meeting| EntityKind::Meeting.public_id(partner, &meeting)),
            date: meeting_info.and_then(|info| info.date),
            role: json::text(object, "role"),
            authoritative: json::boolean(object, "authoritative"),
            result: ConsultationResult::from_text(result_text.as_deref()),
            result_text,
        };
        match agenda_item {
            Some(agenda_item) if known.is_none() && self.defer && !self.emitted.contains(&consultation.id) => {
                self.emitted.insert(consultation.id.clone());
                self.deferred.push(Deferred { consultation, agenda_item });
            }
            _ => self.emit(consultation.into()),
        }
        true
    }

    pub fn file(&mut self, object: &Value, owner: Option<(FileOwner, &str)>, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object, at) else { return false };
        if self.deleted(EntityKind::File, object, &url, partner) {
            return true;
        }
        let owner = match owner {
            Some((kind, id)) => (kind, id.to_owned()),
            None => {
                // A file from the file list names what it belongs to.
                let found = [
                    ("paper", FileOwner::Paper, EntityKind::Paper),
                    ("meeting", FileOwner::Meeting, EntityKind::Meeting),
                    ("agendaItem", FileOwner::AgendaItem, EntityKind::AgendaItem),
                ]
                .into_iter()
                .find_map(|(key, owner, kind)| {
                    json::first_reference(object, key).map(|url| (owner, kind.public_id(partner, &url)))
                });
                match found {
                    Some(found) => found,
                    None => {
                        // Nothing to attach it to: a file of a non-public object. Not an error of the data.
                        tracing::debug!(%url, "file without paper, meeting or agenda item skipped");
                        return true;
                    }
                }
            }
        };
        let access_url = json::text(object, "accessUrl").or_else(|| json::text(object, "downloadUrl"));
        let name = json::text(object, "name")
            .or_else(|| json::text(object, "fileName"))
            .or_else(|| access_url.as_deref().and_then(|u| u.rsplit('/').next()).map(str::to_owned))
            .unwrap_or_else(|| "Datei".to_owned());
        let record = File {
            id: EntityKind::File.public_id(partner, &url),
            origin: Origin::new(&url),
            partner: partner.to_owned(),
            owner_kind: owner.0,
            owner_id: owner.1,
            name,
            mime_type: json::text(object, "mimeType").map(|mime| normalise_mime(&mime)),
            size: json::integer(object, "size"),
            date: self.date(object, "date", at),
            access_url,
        };
        self.emit(record.into());
        true
    }

    pub fn knows_agenda_item(&self, url: &str) -> bool {
        self.agenda.contains_key(url)
    }

    /// Records what a separately fetched agenda item says (the incremental join), see [`Deferred`].
    pub fn learn_agenda_item(&mut self, url: &str, object: &Value) {
        let info =
            AgendaInfo { result: json::text(object, "result"), meeting: json::first_reference(object, "meeting") };
        self.agenda.insert(url.to_owned(), info);
    }

    /// Emits a deferred consultation with what is now known of its agenda item.
    pub fn finish_deferred(&mut self, deferred: Deferred) {
        let mut consultation = deferred.consultation;
        if let Some(info) = self.agenda.get(&deferred.agenda_item) {
            consultation.result = ConsultationResult::from_text(info.result.as_deref());
            consultation.result_text = info.result.clone();
        }
        *self.counts.entry(EntityKind::Consultation).or_default() += 1;
        self.out.push(consultation.into());
    }

    /// The paper URL of a consultation read in this run.
    pub fn paper_of(&self, consultation: &str) -> Option<&String> {
        self.consultation_papers.get(consultation)
    }

    /// Emits a waiting agenda item with its paper (if known).
    pub fn finish_item(&mut self, mut pending: PendingItem, paper: Option<&str>) {
        pending.item.paper_id = paper.map(|paper| EntityKind::Paper.public_id(&pending.item.partner, paper));
        *self.counts.entry(EntityKind::AgendaItem).or_default() += 1;
        self.out.push(pending.item.into());
    }
}

/// The calendar day of an instant in Germany.
fn berlin_date(instant: chrono::DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&chrono_tz::Europe::Berlin).date_naive()
}

/// A location as one line: its description, else its address.
fn location_text(value: &Value) -> Option<String> {
    if !value.is_object() {
        return None;
    }
    json::text(value, "description").or_else(|| {
        let parts: Vec<String> = ["room", "streetAddress", "postalCode", "locality"]
            .into_iter()
            .filter_map(|key| json::text(value, key))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    })
}

/// ALLRIS 4 writes `"mimeType": "pdf"`.
fn normalise_mime(mime: &str) -> String {
    if mime.contains('/') {
        return mime.to_ascii_lowercase();
    }
    match mime.to_ascii_lowercase().as_str() {
        "pdf" => "application/pdf".to_owned(),
        "doc" => "application/msword".to_owned(),
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_owned(),
        "html" | "htm" => "text/html".to_owned(),
        "txt" => "text/plain".to_owned(),
        "jpg" | "jpeg" => "image/jpeg".to_owned(),
        "png" => "image/png".to_owned(),
        other => other.to_owned(),
    }
}

/// Maps OParl's free-text organization type and classification (and the name as a last resort) to a kind.
pub fn classify_organization(
    organization_type: Option<&str>,
    classification: Option<&str>,
    name: &str,
) -> OrganizationKind {
    let words = [classification, organization_type, Some(name)];
    for word in words.into_iter().flatten() {
        let word = word.to_lowercase();
        let has = |needle: &str| word.contains(needle);
        if has("fraktion") || has("gruppe") || word == "partei" {
            return OrganizationKind::Faction;
        }
        if has("verwaltung") || has("dienststelle") || has("fachbereich") || has("referat") || word.starts_with("amt") {
            return OrganizationKind::Administration;
        }
        if has("ausschuss") || has("beirat") || has("kommission") || has("arbeitskreis") {
            return OrganizationKind::Committee;
        }
        if has("kreistag")
            || word == "rat"
            || word.ends_with("rat")
            || word.starts_with("rat ")
            || has("bezirksvertretung")
            || has("ortsrat")
            || has("vertretung")
        {
            return OrganizationKind::Council;
        }
    }
    OrganizationKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_kinds() {
        assert_eq!(classify_organization(Some("Fraktion"), None, "CDU"), OrganizationKind::Faction);
        assert_eq!(classify_organization(Some("Gremium"), Some("Ausschuss"), "Finanzen"), OrganizationKind::Committee);
        assert_eq!(classify_organization(Some("Gremium"), None, "Gemeinderat"), OrganizationKind::Council);
        assert_eq!(classify_organization(Some("Gremium"), None, "Rat der Stadt Peine"), OrganizationKind::Council);
        assert_eq!(classify_organization(Some("Dienststellen"), None, "Bauamt"), OrganizationKind::Administration);
        assert_eq!(classify_organization(None, None, "Seniorenbeirat"), OrganizationKind::Committee);
        assert_eq!(classify_organization(Some("Gremium"), None, "Ältestenversammlung"), OrganizationKind::Other);
    }

    #[test]
    fn mime_words_become_types() {
        assert_eq!(normalise_mime("pdf"), "application/pdf");
        assert_eq!(normalise_mime("Application/PDF"), "application/pdf");
    }
}

//! OParl objects → unified records.
//!
//! Public ids come from the object URLs (`EntityKind::X.public_id(partner, url)`), so references (a meeting's
//! organizations, a consultation's paper) are computed the same way without lookups. Two joins need state across
//! lists, kept in [`Normaliser`]:
//! - a consultation's result is the result text of its agenda item (OParl keeps it there), so meetings (with their
//!   agenda items) are walked before papers (with their consultations);
//! - an agenda item's paper is only known through the consultation that names the agenda item, so agenda items
//!   with a consultation wait until the papers are read ([`Normaliser::finish_item`]).

use chrono::{NaiveDate, Utc};
// A quicker hasher than SipHash for the run's id and URL maps (tens of thousands of inserts per run); the keys come
// from the source being imported, which cannot slow down more than its own import.
use foldhash::{HashMap, HashSet};
use serde_json::Value;

use super::json::{self, FieldProblem};
use super::objects::{
    self, AgendaItemObject, ConsultationObject, FileObject, Flag, Item, ListObject, Location, Many, MeetingObject,
    MembershipObject, OrganizationObject, PaperObject, PersonObject, Text,
};
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
    emitted: Emitted,
    agenda: HashMap<String, AgendaInfo>,
    meetings: HashMap<String, MeetingInfo>,
    organization_names: HashMap<String, String>,
    /// consultation URL → paper URL.
    consultation_papers: HashMap<String, String>,
    /// Public ids of the objects many others refer to (meetings, organizations, persons) by URL, with the entity
    /// and partner they were computed for: each id is a SHA-256, and a meeting is named by every consultation and
    /// agenda item of it.
    reference_ids: HashMap<String, (EntityKind, String, String)>,
    /// Records by entity, for the run summary.
    pub counts: HashMap<EntityKind, u64>,
    pub tombstones: u64,
}

/// What [`Normaliser::emit`] remembers of the records it emitted: the 64 bits of each id (ids are a prefix and 16
/// hex digits of a SHA-256, see `EntityKind::public_id`) in one set per entity and tombstone flag, so the sets hold
/// no strings and stay small (they are probed once per record: with 8 bytes an entry and one entity's ids apart, a
/// run's papers, files and consultations each fit in the CPU cache, where one set of 16-byte keys for all of them
/// did not). Ids of another shape are kept as they are.
struct Emitted {
    /// Indexed by `kind as usize * 2 + tombstone as usize`.
    ids: Vec<HashSet<u64>>,
    others: HashSet<(EntityKind, bool, String)>,
}

impl Default for Emitted {
    fn default() -> Self {
        Emitted {
            ids: (0..EntityKind::ALL.len() * 2).map(|_| HashSet::default()).collect(),
            others: HashSet::default(),
        }
    }
}

impl Emitted {
    /// Remembers an id; false if it was emitted (with the same entity and flag) before.
    fn insert(&mut self, kind: EntityKind, tombstone: bool, id: &str) -> bool {
        let bits = id
            .rsplit_once('-')
            .filter(|(_, hex)| hex.len() == 16)
            .and_then(|(_, hex)| u64::from_str_radix(hex, 16).ok());
        match (bits, self.ids.get_mut(kind as usize * 2 + usize::from(tombstone))) {
            (Some(bits), Some(ids)) => ids.insert(bits),
            _ => self.others.insert((kind, tombstone, id.to_owned())),
        }
    }
}

/// Where an object is: the page URL and a JSON pointer, built only when a rejection or warning needs it.
pub struct At<'a> {
    pub url: &'a str,
    parent: Option<&'a At<'a>>,
    key: &'static str,
    index: Option<usize>,
}

impl<'a> At<'a> {
    /// A whole response (an object fetched on its own).
    pub fn root(url: &'a str) -> Self {
        At { url, parent: None, key: "", index: None }
    }

    /// The `index`th object of a list page.
    pub fn item(url: &'a str, index: usize) -> Self {
        At { url, parent: None, key: "data", index: Some(index) }
    }

    fn child(&self, key: &'static str, index: Option<usize>) -> At<'_> {
        At { url: self.url, parent: Some(self), key, index }
    }

    fn pointer(&self) -> String {
        let mut pointer = self.parent.map(At::pointer).unwrap_or_default();
        if !self.key.is_empty() {
            pointer.push('/');
            pointer.push_str(self.key);
        }
        if let Some(index) = self.index {
            pointer.push('/');
            pointer.push_str(&index.to_string());
        }
        pointer
    }

    fn location(&self) -> String {
        format!("{} #{}", self.url, self.pointer())
    }
}

/// An OParl type the normaliser reads from a list.
pub trait Normalise: ListObject {
    /// Normalises the object into `norm`; false if it was rejected.
    fn normalise(self, norm: &mut Normaliser, partner: &str, at: &At<'_>) -> bool;
}

macro_rules! normalise_with {
    ($($object:ident => $method:ident $(($($arg:expr),*))?;)*) => {
        $(impl Normalise for $object {
            fn normalise(self, norm: &mut Normaliser, partner: &str, at: &At<'_>) -> bool {
                norm.$method(self, $($($arg,)*)? partner, at)
            }
        })*
    };
}

normalise_with! {
    OrganizationObject => organization;
    PersonObject => person;
    MembershipObject => membership(None);
    MeetingObject => meeting;
    AgendaItemObject => agenda_item(None, None);
    PaperObject => paper;
    ConsultationObject => consultation(None, None);
    FileObject => file(None);
}

/// The paper a consultation is embedded in: its URL and public id.
#[derive(Clone, Copy)]
pub struct PaperOf<'a> {
    pub url: &'a str,
    pub id: &'a str,
}

impl Normaliser {
    pub fn new(defer: bool) -> Self {
        Normaliser { defer, ..Normaliser::default() }
    }

    /// Reads one item of a list of `T`s; returns false if it was rejected.
    pub fn list_item<T: Normalise>(&mut self, item: Item<T>, partner: &str, at: &At<'_>) -> bool {
        let object = match item {
            Item::Object(object) => object,
            other => {
                self.reject(at, None, Some(other.describe()), format!("expected a {} object", T::TYPE));
                return false;
            }
        };
        if let Some(uri) = object.type_uri().get() {
            let actual = objects::type_name(uri);
            if actual != T::TYPE {
                let message = format!("expected a {}, got {actual}", T::TYPE);
                self.reject(at, Some("type"), Some(uri.to_owned()), message);
                return false;
            }
        }
        object.normalise(self, partner, at)
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

    fn date(&mut self, field: &str, value: Text, at: &At<'_>) -> Option<NaiveDate> {
        let raw = value.0?;
        let parsed = json::parse_date(&raw);
        if parsed.is_none() {
            let message = "not a date (expected YYYY-MM-DD)".to_owned();
            self.field_problem(at, FieldProblem { field: field.to_owned(), value: raw, message });
        }
        parsed
    }

    fn date_time(&mut self, field: &str, value: Text, at: &At<'_>) -> Option<chrono::DateTime<Utc>> {
        let raw = value.0?;
        let parsed = json::parse_date_time(&raw);
        if parsed.is_none() {
            let message = "not a date-time (expected YYYY-MM-DDTHH:MM:SS+01:00)".to_owned();
            self.field_problem(at, FieldProblem { field: field.to_owned(), value: raw, message });
        }
        parsed
    }

    /// The object's URL, or a rejection.
    fn id(&mut self, id: Text, at: &At<'_>) -> Option<String> {
        if id.0.is_none() {
            self.reject(at, Some("id"), None, "the object has no `id`".to_owned());
        }
        id.0
    }

    /// The public id of an object other records refer to, computed once per run.
    fn reference_id(&mut self, kind: EntityKind, partner: &str, url: &str) -> String {
        match self.reference_ids.get(url) {
            Some((cached_kind, cached_partner, id)) if *cached_kind == kind && cached_partner == partner => id.clone(),
            // The same URL as another entity or for another partner: rare, not worth a second entry.
            Some(_) => kind.public_id(partner, url),
            None => {
                let id = kind.public_id(partner, url);
                self.reference_ids.insert(url.to_owned(), (kind, partner.to_owned(), id.clone()));
                id
            }
        }
    }

    /// Emits `record` unless a record with its id was emitted in this run already (embedded objects repeat).
    fn emit(&mut self, record: Record) {
        if self.emitted.insert(record.kind(), false, record.id()) {
            *self.counts.entry(record.kind()).or_default() += 1;
            self.out.push(record);
        }
    }

    /// `deleted: true`: a tombstone instead of the record. Returns whether the object was deleted.
    fn deleted(&mut self, kind: EntityKind, deleted: Flag, url: &str, partner: &str) -> bool {
        if deleted.0 != Some(true) {
            return false;
        }
        let tombstone = Tombstone { id: kind.public_id(partner, url), kind, origin: Origin::new(url) };
        if self.emitted.insert(kind, true, &tombstone.id) {
            self.tombstones += 1;
            self.out.push(Record::Tombstone(tombstone));
        }
        true
    }

    fn origin(url: String, web: Option<String>) -> Origin {
        let origin = Origin::new(url);
        match web {
            Some(web) => origin.with_url(web),
            None => origin,
        }
    }

    /// The embedded files of one field of an object.
    fn files(
        &mut self,
        key: &'static str,
        files: Many<Item<FileObject>>,
        owner: (FileOwner, &str),
        partner: &str,
        at: &At<'_>,
    ) {
        for (index, file) in files.0.into_iter().enumerate() {
            if let Item::Object(file) = file {
                self.file(file, Some(owner), partner, &at.child(key, Some(index)));
            }
        }
    }

    pub fn organization(&mut self, object: OrganizationObject, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Organization, object.deleted, &url, partner) {
            return true;
        }
        let Some(name) = object.name.0.or_else(|| object.short_name.0.clone()) else {
            self.reject(at, Some("name"), None, "the organization has no name".to_owned());
            return false;
        };
        self.organization_names.insert(url.clone(), name.clone());
        let kind = classify_organization(object.organization_type.get(), object.classification.get(), &name);
        let record = Organization {
            id: EntityKind::Organization.public_id(partner, &url),
            partner: partner.to_owned(),
            short_name: object.short_name.0.filter(|short| *short != name),
            kind,
            start_date: self.date("startDate", object.start_date, at),
            end_date: self.date("endDate", object.end_date, at),
            web_url: object.web.0.clone(),
            origin: Self::origin(url, object.web.0),
            name,
        };
        self.emit(record.into());
        true
    }

    pub fn person(&mut self, object: PersonObject, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Person, object.deleted, &url, partner) {
            return true;
        }
        let family_name = object.family_name.0;
        let given_name = object.given_name.0;
        let titles: Vec<String> = object.title.0.into_iter().filter_map(|title| title.0).collect();
        let title = (!titles.is_empty()).then(|| titles.join(" "));
        let name = object.name.0.or_else(|| {
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
            origin: Origin::new(url.clone()),
            partner: partner.to_owned(),
            name,
            family_name,
            given_name,
            title,
        };
        self.emit(record.into());
        for (index, membership) in object.membership.0.into_iter().enumerate() {
            // Memberships given only by URL come from the membership list.
            if let Item::Object(membership) = membership {
                self.membership(membership, Some(&url), partner, &at.child("membership", Some(index)));
            }
        }
        true
    }

    pub fn membership(&mut self, object: MembershipObject, person: Option<&str>, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Membership, object.deleted, &url, partner) {
            return true;
        }
        let Some(person) = person.map(str::to_owned).or(object.person.0) else {
            self.reject(at, Some("person"), None, "the membership names no person".to_owned());
            return false;
        };
        let record = Membership {
            id: EntityKind::Membership.public_id(partner, &url),
            origin: Origin::new(url),
            partner: partner.to_owned(),
            person_id: self.reference_id(EntityKind::Person, partner, &person),
            organization_id: object
                .organization
                .first()
                .map(|org| self.reference_id(EntityKind::Organization, partner, &org)),
            role: object.role.0,
            voting_right: object.voting_right.0,
            start_date: self.date("startDate", object.start_date, at),
            end_date: self.date("endDate", object.end_date, at),
        };
        self.emit(record.into());
        true
    }

    pub fn meeting(&mut self, object: MeetingObject, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Meeting, object.deleted, &url, partner) {
            return true;
        }
        let start = self.date_time("start", object.start, at);
        let end = self.date_time("end", object.end, at);
        let organizations = object.organization.urls();
        let name = object.name.0.unwrap_or_else(|| match start {
            Some(start) => format!("Sitzung am {}", berlin_date(start).format("%d.%m.%Y")),
            None => "Sitzung".to_owned(),
        });
        self.meetings.insert(
            url.clone(),
            MeetingInfo { date: start.map(berlin_date), organization: organizations.first().cloned() },
        );
        let record = Meeting {
            id: EntityKind::Meeting.public_id(partner, &url),
            origin: Self::origin(url.clone(), object.web.0.clone()),
            partner: partner.to_owned(),
            organization_ids: organizations
                .iter()
                .map(|org| self.reference_id(EntityKind::Organization, partner, org))
                .collect(),
            name,
            start,
            end,
            location: object.location.0.and_then(location_text),
            state: object.meeting_state.0,
            cancelled: object.cancelled.0.unwrap_or(false),
            web_url: object.web.0,
        };
        let meeting_id = record.id.clone();
        self.emit(record.into());
        let owner = (FileOwner::Meeting, meeting_id.as_str());
        self.files("invitation", object.invitation, owner, partner, at);
        self.files("resultsProtocol", object.results_protocol, owner, partner, at);
        self.files("verbatimProtocol", object.verbatim_protocol, owner, partner, at);
        self.files("auxiliaryFile", object.auxiliary_file, owner, partner, at);
        for (index, item) in object.agenda_item.0.into_iter().enumerate() {
            if let Item::Object(item) = item {
                self.agenda_item(item, Some(&url), Some(index + 1), partner, &at.child("agendaItem", Some(index)));
            }
        }
        true
    }

    pub fn agenda_item(
        &mut self,
        object: AgendaItemObject,
        meeting: Option<&str>,
        position: Option<usize>,
        partner: &str,
        at: &At<'_>,
    ) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::AgendaItem, object.deleted, &url, partner) {
            return true;
        }
        let Some(meeting) = meeting.map(str::to_owned).or_else(|| object.meeting.first()) else {
            self.reject(at, Some("meeting"), None, "the agenda item names no meeting".to_owned());
            return false;
        };
        let number = object.number.0;
        let result = object.result.0;
        self.agenda.insert(url.clone(), AgendaInfo { result: result.clone(), meeting: Some(meeting.clone()) });
        let order = object
            .order
            .0
            .and_then(|order| i32::try_from(order).ok())
            .or_else(|| position.and_then(|position| i32::try_from(position).ok()));
        let record = AgendaItem {
            id: EntityKind::AgendaItem.public_id(partner, &url),
            origin: Self::origin(url, object.web.0),
            partner: partner.to_owned(),
            meeting_id: self.reference_id(EntityKind::Meeting, partner, &meeting),
            name: object.name.0.or_else(|| number.clone()).unwrap_or_else(|| "TOP".to_owned()),
            number,
            order,
            public: object.public.0.unwrap_or(true),
            result,
            resolution_text: object.resolution_text.0,
            paper_id: None,
        };
        let item_id = record.id.clone();
        let owner = (FileOwner::AgendaItem, item_id.as_str());
        self.files("resolutionFile", object.resolution_file, owner, partner, at);
        self.files("auxiliaryFile", object.auxiliary_file, owner, partner, at);
        match object.consultation.first() {
            // Its paper is known once the papers are read.
            Some(consultation) if self.emitted.insert(EntityKind::AgendaItem, false, &record.id) => {
                self.pending_items.push(PendingItem { item: record, consultation });
            }
            Some(_) => {}
            None => self.emit(record.into()),
        }
        true
    }

    pub fn paper(&mut self, object: PaperObject, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Paper, object.deleted, &url, partner) {
            return true;
        }
        let reference = object.reference.0;
        let Some(subject) = object.name.0.or_else(|| reference.clone()) else {
            self.reject(at, Some("name"), None, "the paper has neither a name nor a reference".to_owned());
            return false;
        };
        let lead_department =
            object.under_direction_of.first().and_then(|org| self.organization_names.get(&org).cloned());
        let paper_id = EntityKind::Paper.public_id(partner, &url);
        let record = Paper {
            id: paper_id.clone(),
            origin: Self::origin(url.clone(), object.web.0.clone()),
            partner: partner.to_owned(),
            reference,
            subject,
            paper_type: object.paper_type.0,
            date: self.date("date", object.date, at),
            // OParl publishes public papers only.
            public: true,
            lead_department,
            sections: PaperSections::default(),
            financial_impact_once: None,
            financial_impact_annual: None,
            web_url: object.web.0,
        };
        self.emit(record.into());
        let owner = (FileOwner::Paper, paper_id.as_str());
        self.files("mainFile", object.main_file, owner, partner, at);
        self.files("auxiliaryFile", object.auxiliary_file, owner, partner, at);
        let paper = PaperOf { url: &url, id: &paper_id };
        for (index, consultation) in object.consultation.0.into_iter().enumerate() {
            if let Item::Object(consultation) = consultation {
                let at = at.child("consultation", Some(index));
                self.consultation(consultation, Some(paper), Some(index + 1), partner, &at);
            }
        }
        true
    }

    pub fn consultation(
        &mut self,
        object: ConsultationObject,
        paper: Option<PaperOf<'_>>,
        position: Option<usize>,
        partner: &str,
        at: &At<'_>,
    ) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::Consultation, object.deleted, &url, partner) {
            return true;
        }
        let (paper, paper_id) = match paper {
            Some(paper) => (paper.url.to_owned(), paper.id.to_owned()),
            None => match object.paper.first() {
                Some(paper) => {
                    let id = EntityKind::Paper.public_id(partner, &paper);
                    (paper, id)
                }
                None => {
                    self.reject(at, Some("paper"), None, "the consultation names no paper".to_owned());
                    return false;
                }
            },
        };
        self.consultation_papers.insert(url.clone(), paper);
        let agenda_item = object.agenda_item.first();
        let known = agenda_item.as_ref().and_then(|item| self.agenda.get(item)).cloned();
        let meeting = object.meeting.first().or_else(|| known.as_ref().and_then(|k| k.meeting.clone()));
        let meeting_info = meeting.as_ref().and_then(|meeting| self.meetings.get(meeting)).cloned();
        let organization =
            object.organization.first().or_else(|| meeting_info.as_ref().and_then(|info| info.organization.clone()));
        let result_text = known.as_ref().and_then(|known| known.result.clone());
        let consultation = Consultation {
            id: EntityKind::Consultation.public_id(partner, &url),
            origin: Origin::new(url),
            partner: partner.to_owned(),
            paper_id,
            position: position.and_then(|position| i32::try_from(position).ok()),
            organization_name: organization.as_ref().and_then(|org| self.organization_names.get(org).cloned()),
            organization_id: organization.map(|org| self.reference_id(EntityKind::Organization, partner, &org)),
            meeting_id: meeting.map(|meeting| self.reference_id(EntityKind::Meeting, partner, &meeting)),
            date: meeting_info.and_then(|info| info.date),
            role: object.role.0,
            authoritative: object.authoritative.0,
            result: ConsultationResult::from_text(result_text.as_deref()),
            result_text,
        };
        match agenda_item {
            Some(agenda_item)
                if known.is_none()
                    && self.defer
                    && self.emitted.insert(EntityKind::Consultation, false, &consultation.id) =>
            {
                self.deferred.push(Deferred { consultation, agenda_item });
            }
            _ => self.emit(consultation.into()),
        }
        true
    }

    pub fn file(&mut self, object: FileObject, owner: Option<(FileOwner, &str)>, partner: &str, at: &At<'_>) -> bool {
        let Some(url) = self.id(object.id, at) else { return false };
        if self.deleted(EntityKind::File, object.deleted, &url, partner) {
            return true;
        }
        let owner = match owner {
            Some((kind, id)) => (kind, id.to_owned()),
            None => {
                // A file from the file list names what it belongs to.
                let found = if let Some(paper) = object.paper.first() {
                    Some((FileOwner::Paper, EntityKind::Paper.public_id(partner, &paper)))
                } else if let Some(meeting) = object.meeting.first() {
                    Some((FileOwner::Meeting, self.reference_id(EntityKind::Meeting, partner, &meeting)))
                } else {
                    object
                        .agenda_item
                        .first()
                        .map(|item| (FileOwner::AgendaItem, EntityKind::AgendaItem.public_id(partner, &item)))
                };
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
        let access_url = object.access_url.0.or(object.download_url.0);
        let name = object
            .name
            .0
            .or(object.file_name.0)
            .or_else(|| access_url.as_deref().and_then(|u| u.rsplit('/').next()).map(str::to_owned))
            .unwrap_or_else(|| "Datei".to_owned());
        let record = File {
            id: EntityKind::File.public_id(partner, &url),
            origin: Origin::new(url),
            partner: partner.to_owned(),
            owner_kind: owner.0,
            owner_id: owner.1,
            name,
            mime_type: object.mime_type.0.map(|mime| normalise_mime(&mime)),
            size: object.size.0,
            date: self.date("date", object.date, at),
            access_url,
        };
        self.emit(record.into());
        true
    }

    /// The next batch of finished records: `batch_size` of them, or (with `all`) what is left; `None` when fewer
    /// are ready.
    pub fn take_batch(&mut self, batch_size: usize, all: bool) -> Option<Vec<Record>> {
        if self.out.len() < batch_size && (!all || self.out.is_empty()) {
            return None;
        }
        Some(if self.out.len() <= batch_size {
            std::mem::replace(&mut self.out, Vec::with_capacity(batch_size))
        } else {
            // The batch keeps the buffer; the few records past it (part of one page) move to a new buffer of the same
            // capacity, so `out` does not grow anew for every batch. Collecting the batch into a buffer of its own
            // copied every record once more (a record is 480 bytes).
            let mut rest = Vec::with_capacity(self.out.capacity());
            rest.extend(self.out.drain(batch_size..));
            std::mem::replace(&mut self.out, rest)
        })
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
fn location_text(location: Location) -> Option<String> {
    location.description.0.or_else(|| {
        let parts: Vec<String> = [location.room, location.street_address, location.postal_code, location.locality]
            .into_iter()
            .filter_map(|part| part.0)
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
    fn emitted_ids_are_told_apart_by_entity_and_tombstone() {
        let mut emitted = Emitted::default();
        let id = EntityKind::Paper.public_id("p", "https://x/paper/1");
        assert!(emitted.insert(EntityKind::Paper, false, &id));
        assert!(!emitted.insert(EntityKind::Paper, false, &id));
        assert!(emitted.insert(EntityKind::Paper, true, &id));
        assert!(emitted.insert(EntityKind::File, false, &id));
        assert!(emitted.insert(EntityKind::Paper, false, &EntityKind::Paper.public_id("p", "https://x/paper/2")));
        // Ids of another shape are kept whole.
        assert!(emitted.insert(EntityKind::School, false, "NI-66497"));
        assert!(!emitted.insert(EntityKind::School, false, "NI-66497"));
        assert!(emitted.insert(EntityKind::School, false, "NI-66498"));
    }

    #[test]
    fn reference_ids_are_the_public_ids() {
        let mut norm = Normaliser::default();
        let url = "https://x/meeting/1";
        for _ in 0..2 {
            assert_eq!(norm.reference_id(EntityKind::Meeting, "a", url), EntityKind::Meeting.public_id("a", url));
            assert_eq!(norm.reference_id(EntityKind::Meeting, "b", url), EntityKind::Meeting.public_id("b", url));
            assert_eq!(norm.reference_id(EntityKind::Paper, "a", url), EntityKind::Paper.public_id("a", url));
        }
    }

    #[test]
    fn mime_words_become_types() {
        assert_eq!(normalise_mime("pdf"), "application/pdf");
        assert_eq!(normalise_mime("Application/PDF"), "application/pdf");
    }
}

//! The entity endpoints: one list and one record per entity, and the composite records (a meeting with its agenda,
//! a paper with its consultations and files, a school with media concepts, equipment and funding).

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use ikz_store::queries::SchoolParts;
use ikz_store::queries::{self, Page, SortField};
use ikz_store::rows::SchoolRow;
use ikz_store::{revision, DbConnection, StoreError};
use serde::Serialize;
use serde_json::json;

use crate::export;
use crate::format::{self, Format, Item};
use crate::list::{self, check_id, Params, COMMON, DEFAULT_LIMIT, MAX_LIMIT};
use crate::response_cache::{Key, Rendered};
use crate::{ApiState, Problem};

pub const SCHOOL_TYPES: &[&str] = &[
    "grundschule",
    "hauptschule",
    "realschule",
    "oberschule",
    "gymnasium",
    "gesamtschule",
    "foerderschule",
    "berufsbildende_schule",
    "other",
];
pub const MEDIA_CONCEPT_STATUSES: &[&str] = &["none", "in_progress", "submitted", "approved"];
pub const ORGANIZATION_KINDS: &[&str] = &["council", "committee", "faction", "administration", "other"];
pub const RESULTS: &[&str] =
    &["adopted", "adopted_amended", "rejected", "noted", "deferred", "withdrawn", "referred", "pending", "unknown"];
pub const FILE_OWNERS: &[&str] = &["paper", "meeting", "agenda_item"];
pub const APPLICATION_STATUSES: &[&str] =
    &["draft", "submitted", "approved", "partially_disbursed", "disbursed", "rejected", "withdrawn", "unknown"];

/// The fixed values a list's parameter takes, for the OpenAPI document: the same lists its filter checks with
/// `Params::one_of` below.
pub fn allowed_values(spec: &ListSpec, parameter: &str) -> Option<&'static [&'static str]> {
    match (spec.name, parameter) {
        ("organizations", "kind") => Some(ORGANIZATION_KINDS),
        ("decisions", "result") => Some(RESULTS),
        ("files", "owner_kind") => Some(FILE_OWNERS),
        ("schools", "school_type") => Some(SCHOOL_TYPES),
        ("media-concepts", "status") => Some(MEDIA_CONCEPT_STATUSES),
        ("funding-applications", "status") => Some(APPLICATION_STATUSES),
        _ => None,
    }
}

/// What a list endpoint is: its name (file names of exports), its own parameters and its sort fields.
pub struct ListSpec {
    pub name: &'static str,
    pub params: &'static [&'static str],
    pub sorts: &'static [SortField],
}

type ListQuery<F, R> = fn(&mut DbConnection, &F, &Page) -> Result<Vec<R>, StoreError>;

/// Rows per store query when an XLSX export walks the whole list.
const EXPORT_BATCH: i64 = 1000;
/// Most rows of one XLSX file: the workbook is built in memory (rust_xlsxwriter writes the zip at the end); longer
/// lists continue on the page the `Link: rel="next"` header names.
pub const XLSX_MAX_ROWS: i64 = 100_000;

/// Serves a list: one page as JSON (or CSV/XLSX when `limit` or `cursor` is given), or the whole list as a
/// streamed CSV / an XLSX of up to [`XLSX_MAX_ROWS`] rows. Parameters are checked first, the store is queried off
/// the async threads, the next link is built from the last row's sort value and id.
async fn serve_list<F, R>(
    state: web::Data<ApiState>,
    request: HttpRequest,
    spec: &'static ListSpec,
    filter: impl FnOnce(&Params) -> Result<F, Problem>,
    query: ListQuery<F, R>,
) -> Result<HttpResponse, Problem>
where
    F: Send + 'static,
    R: Serialize + Send + 'static,
{
    let known = [COMMON, spec.params].concat();
    let params = Params::parse(request.query_string(), &known)?;
    let format = Format::of(&request);
    let whole_list = format != Format::Json && params.text("limit")?.is_none() && params.text("cursor")?.is_none();
    let default_limit = match format {
        Format::Json => DEFAULT_LIMIT,
        Format::Csv | Format::Xlsx => MAX_LIMIT,
    };
    let page_request = list::page(&params, spec.sorts, default_limit)?;
    let filter = filter(&params)?;
    let finds_nothing = spec.params.contains(&"q") && params.finds_nothing("q")?;
    let sort = if page_request.page.descending {
        format!("-{}", page_request.sort.name)
    } else {
        page_request.sort.name.to_owned()
    };
    // Owned, since the page is rendered on the blocking thread that loaded it.
    let (path, other_pairs) = (request.path().to_owned(), params.without("cursor"));
    let (sort_field, descending) = (page_request.sort, page_request.page.descending);
    let next_link = move |last: &Item| {
        let value = last.get(sort_field.name).cloned().unwrap_or_default();
        let id = last.get("id").and_then(|id| id.as_str()).unwrap_or_default();
        let cursor = list::encode_cursor(sort_field, descending, value, id);
        let mut pairs = other_pairs;
        pairs.push(("cursor".into(), cursor));
        format!("{path}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    };
    if whole_list && format == Format::Csv && !finds_nothing {
        return Ok(export::stream_csv(&state, spec.name, filter, query, page_request));
    }
    let mut page = page_request.page.clone();
    if whole_list {
        page.limit = XLSX_MAX_ROWS + 1;
    }
    let limit = page.limit - 1;
    let load = move |conn: &mut DbConnection| -> Result<Vec<R>, Problem> {
        if finds_nothing {
            return Ok(Vec::new());
        }
        if !whole_list {
            return Ok(query(conn, &filter, &page)?);
        }
        // The XLSX of the whole list: the store in batches, so no single query holds 100,000 rows' statement.
        let mut rows = Vec::new();
        let mut batch_page = page.clone();
        batch_page.limit = EXPORT_BATCH;
        loop {
            let batch = query(conn, &filter, &batch_page)?;
            let done = (batch.len() as i64) < EXPORT_BATCH || rows.len() as i64 + batch.len() as i64 > limit;
            if let Some(last) = batch.last() {
                batch_page.after = Some(export::after(last, sort_field)?);
            }
            rows.extend(batch);
            if done {
                return Ok(rows);
            }
        }
    };
    let name = spec.name;
    let render = move |mut rows: Vec<R>| {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(Item::from_row).transpose()?.map(|last| next_link(&last)) } else { None };
        let meta = json!({ "count": rows.len(), "limit": limit, "sort": sort });
        match format {
            Format::Json => format::render_json_list(&rows, next, meta),
            Format::Csv | Format::Xlsx => {
                let items = rows.iter().map(Item::from_row).collect::<Result<Vec<_>, _>>()?;
                format::render_list(format, name, &items, next, meta)
            }
        }
    };
    cached(&state, &request, format, load, render).await
}

/// Answers a read from the response cache when it holds a rendering of this URL and format made at the store's
/// current data revision; otherwise `load`s (on the connection that read the revision, after reading it), `render`s
/// and keeps the rendering. All of it runs on one blocking thread: the rows are allocated and freed on the same
/// thread (freeing another thread's allocations cost the allocator a fifth of an uncached page), and the async
/// threads only write the answer. See [`crate::response_cache`].
async fn cached<T, L, Re>(
    state: &ApiState,
    request: &HttpRequest,
    format: Format,
    load: L,
    render: Re,
) -> Result<HttpResponse, Problem>
where
    L: FnOnce(&mut DbConnection) -> Result<T, Problem> + Send + 'static,
    Re: FnOnce(T) -> Result<Rendered, Problem> + Send + 'static,
{
    let store = state.store.clone();
    let cache = state.responses.clone();
    let uri = request.uri().path_and_query().map_or_else(|| request.path(), |uri| uri.as_str()).to_owned();
    let (rendered, hit) = web::block(move || -> Result<(Arc<Rendered>, bool), Problem> {
        let mut conn = store.connection()?;
        let revision = if cache.enabled() { revision::current(&mut conn)? } else { None };
        let key = revision.map(|revision| Key::new(revision, format, uri));
        if let Some(kept) = key.as_ref().and_then(|key| cache.get(key)) {
            return Ok((kept, true));
        }
        let data = load(&mut conn)?;
        drop(conn);
        let rendered = Arc::new(render(data)?);
        if let Some(key) = key {
            cache.insert(key, rendered.clone());
        }
        Ok((rendered, false))
    })
    .await??;
    if state.responses.enabled() {
        state.metrics.observe_cache(hit);
    }
    Ok(format::respond(request, &rendered))
}

type GetQuery<R> = fn(&mut DbConnection, &str) -> Result<Option<R>, StoreError>;

/// Serves one record by id (tombstoned ones too, with `"deleted": true`).
async fn serve_one<R>(
    state: web::Data<ApiState>,
    request: HttpRequest,
    id: String,
    what: &'static str,
    get: GetQuery<R>,
) -> Result<HttpResponse, Problem>
where
    R: Serialize + Send + 'static,
{
    check_id(&id)?;
    let lookup = id.clone();
    let load = move |conn: &mut DbConnection| Ok(get(conn, &lookup)?);
    let render =
        move |row: Option<R>| format::render_document(Item::from_row(&row.ok_or_else(|| missing(what, &id))?)?);
    cached(&state, &request, Format::Json, load, render).await
}

/// A list handler and a record handler per entity.
macro_rules! resource {
    (
        $list:ident [$spec:ident], $get:tt: $name:literal, $what:literal,
        params [$($param:literal),*], $sorts:path, $query:path, $getter:path,
        |$params:ident| $filter:expr
    ) => {
        pub static $spec: ListSpec = ListSpec { name: $name, params: &[$($param),*], sorts: $sorts };

        pub async fn $list(state: web::Data<ApiState>, request: HttpRequest) -> Result<HttpResponse, Problem> {
            serve_list(state, request, &$spec, |$params: &Params| -> Result<_, Problem> { Ok($filter) }, $query).await
        }

        resource!(@get $get, $what, $getter);
    };
    (@get _, $what:literal, $getter:path) => {};
    (@get $get:ident, $what:literal, $getter:path) => {
        pub async fn $get(
            state: web::Data<ApiState>,
            request: HttpRequest,
            path: web::Path<String>,
        ) -> Result<HttpResponse, Problem> {
            serve_one(state, request, path.into_inner(), $what, $getter).await
        }
    };
}

resource! {
    organizations [ORGANIZATIONS], organization: "organizations", "organization",
    params ["partner", "kind", "q"], queries::ORGANIZATION_SORTS, queries::list_organizations, queries::get_organization,
    |p| queries::OrganizationFilter {
        partner: p.text("partner")?,
        kind: p.one_of("kind", ORGANIZATION_KINDS)?,
        q: p.search("q")?,
    }
}

resource! {
    meetings [MEETINGS], _: "meetings", "meeting",
    params ["partner", "organization", "from", "to", "cancelled", "q"],
    queries::MEETING_SORTS, queries::list_meetings, queries::get_meeting,
    |p| queries::MeetingFilter {
        partner: p.text("partner")?,
        organization: p.text("organization")?,
        from: p.date("from")?,
        to: p.date("to")?,
        cancelled: p.boolean("cancelled")?,
        q: p.search("q")?,
    }
}

resource! {
    agenda_items [AGENDA_ITEMS], agenda_item: "agenda-items", "agenda item",
    params ["partner", "meeting", "paper", "public", "q"],
    queries::AGENDA_ITEM_SORTS, queries::list_agenda_items, queries::get_agenda_item,
    |p| queries::AgendaItemFilter {
        partner: p.text("partner")?,
        meeting: p.text("meeting")?,
        paper: p.text("paper")?,
        public: p.boolean("public")?,
        q: p.search("q")?,
    }
}

resource! {
    papers [PAPERS], _: "papers", "paper",
    params ["partner", "paper_type", "reference", "from", "to", "q"],
    queries::PAPER_SORTS, queries::list_papers, queries::get_paper,
    |p| queries::PaperFilter {
        partner: p.text("partner")?,
        paper_type: p.text("paper_type")?,
        reference: p.text("reference")?,
        from: p.date("from")?,
        to: p.date("to")?,
        q: p.search("q")?,
    }
}

resource! {
    decisions [DECISIONS], decision: "decisions", "decision",
    params ["partner", "paper", "organization", "meeting", "result", "authoritative", "from", "to", "q"],
    queries::DECISION_SORTS, queries::list_decisions, queries::get_decision,
    |p| queries::DecisionFilter {
        partner: p.text("partner")?,
        paper: p.text("paper")?,
        organization: p.text("organization")?,
        meeting: p.text("meeting")?,
        result: p.one_of("result", RESULTS)?,
        authoritative: p.boolean("authoritative")?,
        from: p.date("from")?,
        to: p.date("to")?,
        q: p.search("q")?,
    }
}

resource! {
    files [FILES], file: "files", "file",
    params ["partner", "owner_kind", "owner", "q"], queries::FILE_SORTS, queries::list_files, queries::get_file,
    |p| queries::FileFilter {
        partner: p.text("partner")?,
        owner_kind: p.one_of("owner_kind", FILE_OWNERS)?,
        owner: p.text("owner")?,
        q: p.search("q")?,
    }
}

resource! {
    schools [SCHOOLS], _: "schools", "school",
    params ["partner", "school_type", "school_number", "postcode", "q"],
    queries::SCHOOL_SORTS, queries::list_schools, queries::get_school,
    |p| queries::SchoolFilter {
        partner: p.text("partner")?,
        school_type: p.one_of("school_type", SCHOOL_TYPES)?,
        school_number: p.text("school_number")?,
        postcode: p.text("postcode")?,
        q: p.search("q")?,
    }
}

resource! {
    media_concepts [MEDIA_CONCEPTS], media_concept: "media-concepts", "media concept",
    params ["school", "partner", "status"],
    queries::MEDIA_CONCEPT_SORTS, queries::list_media_concepts, queries::get_media_concept,
    |p| queries::SchoolPartFilter {
        school: p.text("school")?,
        partner: p.text("partner")?,
        kind: p.one_of("status", MEDIA_CONCEPT_STATUSES)?,
    }
}

resource! {
    equipment [EQUIPMENT], equipment_record: "equipment", "equipment record",
    params ["school", "partner", "category"],
    queries::EQUIPMENT_SORTS, queries::list_equipment, queries::get_equipment,
    |p| queries::SchoolPartFilter {
        school: p.text("school")?,
        partner: p.text("partner")?,
        kind: p.text("category")?,
    }
}

resource! {
    funding_programs [FUNDING_PROGRAMS], funding_program: "funding-programs", "funding program",
    params ["q"], queries::FUNDING_PROGRAM_SORTS, queries::list_funding_programs, queries::get_funding_program,
    |p| queries::ProgramFilter { q: p.search("q")? }
}

resource! {
    funding_budgets [FUNDING_BUDGETS], funding_budget: "funding-budgets", "funding budget",
    params ["program", "partner", "school"],
    queries::FUNDING_BUDGET_SORTS, queries::list_funding_budgets, queries::get_funding_budget,
    |p| queries::BudgetFilter {
        program: p.text("program")?,
        partner: p.text("partner")?,
        school: p.text("school")?,
    }
}

resource! {
    funding_applications [FUNDING_APPLICATIONS], funding_application: "funding-applications", "funding application",
    params ["program", "partner", "school", "status", "measure", "from", "to", "q"],
    queries::FUNDING_APPLICATION_SORTS, queries::list_funding_applications, queries::get_funding_application,
    |p| queries::ApplicationFilter {
        program: p.text("program")?,
        partner: p.text("partner")?,
        school: p.text("school")?,
        status: p.one_of("status", APPLICATION_STATUSES)?,
        measure: p.text("measure")?,
        from: p.date("from")?,
        to: p.date("to")?,
        q: p.search("q")?,
    }
}

fn items<R: Serialize>(rows: &[R]) -> Result<Vec<Item>, Problem> {
    rows.iter().map(Item::from_row).collect()
}

fn missing(what: &str, id: &str) -> Problem {
    Problem::not_found(format!("{what} `{}` does not exist", id.chars().take(80).collect::<String>()))
}

/// `GET /meetings/{id}`: the meeting with its agenda (each item with its files) and its own files.
pub async fn meeting(
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    check_id(&id)?;
    let lookup = id.clone();
    let load = move |conn: &mut DbConnection| -> Result<_, Problem> {
        let Some(meeting) = queries::get_meeting(conn, &lookup)? else { return Ok(None) };
        let agenda = queries::meeting_agenda(conn, &lookup)?;
        let files = queries::files_of(conn, &lookup)?;
        Ok(Some((meeting, agenda, files)))
    };
    cached(&state, &request, Format::Json, load, move |found| {
        let (meeting, agenda, files) = found.ok_or_else(|| missing("meeting", &id))?;
        let mut item = Item::from_row(&meeting)?;
        item.insert("agenda", serde_json::to_value(items(&agenda)?).map_err(Problem::internal)?);
        item.insert("files", serde_json::to_value(items(&files)?).map_err(Problem::internal)?);
        format::render_document(item)
    })
    .await
}

/// `GET /papers/{id}`: the paper with its consultations (Beratungsfolge), files and agenda items.
pub async fn paper(
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    check_id(&id)?;
    let lookup = id.clone();
    let load = move |conn: &mut DbConnection| -> Result<_, Problem> {
        let Some(paper) = queries::get_paper(conn, &lookup)? else { return Ok(None) };
        let consultations = queries::paper_consultations(conn, &lookup)?;
        let files = queries::files_of(conn, &lookup)?;
        let agenda_items = queries::paper_agenda_items(conn, &lookup)?;
        Ok(Some((paper, consultations, files, agenda_items)))
    };
    cached(&state, &request, Format::Json, load, move |found| {
        let (paper, consultations, files, agenda_items) = found.ok_or_else(|| missing("paper", &id))?;
        let mut item = Item::from_row(&paper)?;
        item.insert("consultations", serde_json::to_value(items(&consultations)?).map_err(Problem::internal)?);
        item.insert("files", serde_json::to_value(items(&files)?).map_err(Problem::internal)?);
        item.insert("agenda_items", serde_json::to_value(items(&agenda_items)?).map_err(Problem::internal)?);
        format::render_document(item)
    })
    .await
}

/// `GET /schools/{id}`: the school with its media concept(s), equipment and funding (budgets and applications).
pub async fn school(
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = path.into_inner();
    check_id(&id)?;
    let lookup = id.clone();
    let load = move |conn: &mut DbConnection| -> Result<_, Problem> {
        let Some(school) = queries::get_school(conn, &lookup)? else { return Ok(None) };
        Ok(Some((school, queries::school_parts(conn, &lookup)?)))
    };
    cached(&state, &request, Format::Json, load, move |found| {
        render_school(found.ok_or_else(|| missing("school", &id))?)
    })
    .await
}

/// A school with its parts, as `GET /schools/{id}` serves it.
fn render_school((school, parts): (SchoolRow, SchoolParts)) -> Result<Rendered, Problem> {
    let mut item = Item::from_row(&school)?;
    let media_concepts = items(&parts.media_concepts)?;
    // The current concept: the newest by approval/submission/start (most schools have one).
    let current = parts
        .media_concepts
        .iter()
        .max_by_key(|concept| (concept.approved_on, concept.submitted_on, concept.started_on, concept.id.clone()))
        .map(Item::from_row)
        .transpose()?;
    item.insert("media_concept", serde_json::to_value(current).map_err(Problem::internal)?);
    item.insert("media_concepts", serde_json::to_value(media_concepts).map_err(Problem::internal)?);
    item.insert("equipment", serde_json::to_value(items(&parts.equipment)?).map_err(Problem::internal)?);
    item.insert(
        "funding",
        json!({
            "budgets": items(&parts.budgets)?,
            "applications": items(&parts.applications)?,
        }),
    );
    format::render_document(item)
}

/// `GET /funding/summary?program=…`.
pub async fn funding_summary(state: web::Data<ApiState>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let params = Params::parse(request.query_string(), &["program"])?;
    let program = params.text("program")?.ok_or_else(|| {
        Problem::bad_parameter("program", "is required (the id of a funding program, see /api/v1/funding/programs)")
    })?;
    let lookup = program.clone();
    let load = move |conn: &mut DbConnection| Ok(queries::funding_summary(conn, &lookup)?);
    cached(&state, &request, Format::Json, load, move |summary| {
        let summary = summary.ok_or_else(|| missing("funding program", &program))?;
        let mut value = serde_json::to_value(&summary).map_err(Problem::internal)?;
        add_eur(&mut value);
        // The program as every record is served (with `deleted`).
        value["program"] = serde_json::to_value(Item::from_row(&summary.program)?).map_err(Problem::internal)?;
        format::render_document(value)
    })
    .await
}

/// Adds `x_eur` next to every `x_cents` number, at any depth.
fn add_eur(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let extra: Vec<(String, serde_json::Value)> = map
                .iter()
                .filter_map(|(key, value)| {
                    let stem = key.strip_suffix("_cents")?;
                    Some((format!("{stem}_eur"), json!(value.as_i64().map(format::eur))))
                })
                .collect();
            for child in map.values_mut() {
                add_eur(child);
            }
            map.extend(extra);
        }
        serde_json::Value::Array(values) => values.iter_mut().for_each(add_eur),
        _ => {}
    }
}

//! The OpenAPI 3.1 document, built with utoipa's builders from the same list specifications the handlers use
//! (parameters and sort fields cannot drift from the code), and the vendored Swagger UI.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, RefOr, Required,
    ResponseBuilder,
};

use crate::list::{COMMON, MAX_LIMIT};

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
use crate::routes::resources::{self as r, ListSpec};

mod schemas;

pub use schemas::components;

/// A documented list: its path, its specification, the component of its rows and of its record route.
pub struct ListDoc {
    pub path: &'static str,
    pub spec: &'static ListSpec,
    pub row: &'static str,
    pub detail: &'static str,
}

/// Every entity list (each with `/{id}`).
pub fn lists() -> Vec<ListDoc> {
    let list = |path, spec, row, detail| ListDoc { path, spec, row, detail };
    vec![
        list("/organizations", &r::ORGANIZATIONS, "Organization", "Organization"),
        list("/meetings", &r::MEETINGS, "Meeting", "MeetingDetail"),
        list("/agenda-items", &r::AGENDA_ITEMS, "AgendaItem", "AgendaItem"),
        list("/papers", &r::PAPERS, "Paper", "PaperDetail"),
        list("/decisions", &r::DECISIONS, "Decision", "Decision"),
        list("/files", &r::FILES, "File", "File"),
        list("/schools", &r::SCHOOLS, "School", "SchoolDetail"),
        list("/media-concepts", &r::MEDIA_CONCEPTS, "MediaConcept", "MediaConcept"),
        list("/equipment", &r::EQUIPMENT, "Equipment", "Equipment"),
        list("/funding/programs", &r::FUNDING_PROGRAMS, "FundingProgram", "FundingProgram"),
        list("/funding/budgets", &r::FUNDING_BUDGETS, "FundingBudget", "FundingBudget"),
        list("/funding/applications", &r::FUNDING_APPLICATIONS, "FundingApplication", "FundingApplication"),
    ]
}

fn describe(name: &str) -> String {
    match name {
        "limit" => format!("Rows per page, 1 to {MAX_LIMIT}; 50 for JSON, {MAX_LIMIT} for CSV/XLSX by default."),
        "cursor" => "Opaque; take it from `links.next` (or the `Link` header of exports).".into(),
        "sort" => "A sort field of this list, `-` prefix for descending; default `id` (`modified_at` with \
                   `modified_since`). Pages are keyset pages: writes between requests neither repeat nor skip rows."
            .into(),
        "modified_since" => "RFC 3339 instant or date: rows modified at or after it, tombstones included \
                             (`\"deleted\": true`). Without it, deleted rows are hidden."
            .into(),
        "q" => "Full-text search (SQLite FTS5, PostgreSQL tsvector with the German configuration): every word must \
                occur as a word or word prefix (`medienentw` finds `Medienentwicklungsplanung`); case and umlaut \
                spelling do not matter (ä = ae, ö = oe, ü = ue, ß = ss). At most 200 characters, 8 words; a text \
                without a letter or digit finds nothing."
            .into(),
        "partner" => "Partner slug (for schools and their parts: the Schulträger).".into(),
        "from" | "to" => "Date (YYYY-MM-DD), inclusive.".into(),
        "school_type" => format!("One of {}.", r::SCHOOL_TYPES.join(", ")),
        "result" => format!("One of {}.", r::RESULTS.join(", ")),
        "status" => "Status code (see the entity).".into(),
        "program" => "Funding program id.".into(),
        "school" => "School id (`NI-66497`).".into(),
        other => format!("Filter on `{other}` (exact value)."),
    }
}

/// What the handlers take as text (`list::check_text`): not empty, no control characters (C0, DEL, C1) and no
/// U+FFFD (what undecodable bytes turn into). An empty value is a 400, not "no filter": a client whose variable
/// was empty must not get the unfiltered list.
const TEXT_PATTERN: &str = "^[^\\x00-\\x1F\\x7F-\\x9F\\uFFFD]+$";

fn text_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).pattern(Some(TEXT_PATTERN))
}

fn enum_schema(values: impl IntoIterator<Item = String>) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values))
}

fn date_schema(format: KnownFormat) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)))
}

/// The schema of a query parameter: the bounds, formats and values the handlers check, so clients (and
/// Schemathesis) know what a 400 will answer. `sorts` are the list's sort fields.
fn query_schema(name: &str, sorts: &[&str], allowed: Option<&[&str]>) -> RefOr<Schema> {
    let schema = match name {
        "limit" => ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(MAX_LIMIT)),
        "cancelled" | "public" | "authoritative" | "include_deleted" => ObjectBuilder::new().schema_type(Type::Boolean),
        "from" | "to" => date_schema(KnownFormat::Date),
        "modified_since" => {
            return OneOfBuilder::new()
                .item(date_schema(KnownFormat::DateTime))
                .item(date_schema(KnownFormat::Date))
                .into()
        }
        "sort" => enum_schema(sorts.iter().flat_map(|sort| [sort.to_string(), format!("-{sort}")])),
        "q" => text_schema().max_length(Some(crate::list::MAX_SEARCH_CHARS)),
        _ => match allowed {
            Some(values) => enum_schema(values.iter().map(|value| value.to_string())),
            None => text_schema(),
        },
    };
    schema.into()
}

fn query_parameter(name: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(describe(name)))
        .schema(Some(schema))
        .build()
}

/// The run log's parameters (`/import-runs`, `/connectors/{id}/runs`).
fn run_parameters(mut operation: OperationBuilder, names: &[&str]) -> OperationBuilder {
    let statuses: Vec<&str> = ikz_store::RunStatus::ALL.iter().map(|status| status.as_str()).collect();
    for name in names {
        let schema = match *name {
            "status" => query_schema(name, &[], Some(&statuses)),
            // `r` and the last run id seen, in hex (see routes::runs).
            "cursor" => {
                ObjectBuilder::new().schema_type(Type::String).pattern(Some("^r0*[1-9a-f][0-9a-f]{0,14}$")).into()
            }
            _ => query_schema(name, &[], None),
        };
        operation = operation.parameter(query_parameter(name, schema));
    }
    operation
}

/// A record id: printable text (the handlers answer 400 for control characters).
fn id_schema(kind: Type) -> ObjectBuilder {
    match kind {
        Type::String => text_schema(),
        // Run ids: positive, and within what the database stores.
        _ => ObjectBuilder::new()
            .schema_type(kind)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .maximum(Some(i64::MAX)),
    }
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", ContentBuilder::new().schema(Some(problem_schema())).build())
        .build()
}

fn problem_schema() -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("RFC 9457 problem details; `parameter` names the offending parameter of a 400."))
        .property("type", ObjectBuilder::new().schema_type(Type::String))
        .property("title", ObjectBuilder::new().schema_type(Type::String))
        .property("status", ObjectBuilder::new().schema_type(Type::Integer))
        .property("detail", ObjectBuilder::new().schema_type(Type::String))
        .property("parameter", ObjectBuilder::new().schema_type(Type::String))
        .build()
}

fn json(description: &str, schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
        .build()
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// `{"data": <component>}`.
fn document_of(component: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object).property("data", schemas::reference(component)).required("data")
}

/// The list envelope `{"data": [<component>…], "links": {"next": …}, "meta": {…}}`; `meta` holds `members`.
fn envelope(component: &str, members: &[&str]) -> ObjectBuilder {
    let links = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("next", nullable_string().description(Some("The next page, or `null` on the last.")))
        .required("next");
    let mut meta = ObjectBuilder::new().schema_type(Type::Object);
    for member in members {
        let kind = if *member == "sort" { Type::String } else { Type::Integer };
        meta = meta.property(*member, ObjectBuilder::new().schema_type(kind)).required(*member);
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("data", ArrayBuilder::new().items(schemas::reference(component)))
        .property("links", links)
        .property("meta", meta)
        .required("data")
        .required("links")
        .required("meta")
}

fn operation(id: String, tag: &str, summary: String) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
        .response("304", ResponseBuilder::new().description("Not modified (If-None-Match matched the ETag)."))
        .response("400", problem_response("A parameter is wrong; `parameter` names it."))
        .response("401", problem_response("A Bearer token is required (`public_read` is off) or the token is unknown."))
        .response("403", problem_response("The token lacks the scope this route needs."))
        .response("414", url_too_long())
        .response("503", unavailable())
}

/// Every path: the URL length limit is checked before routing.
fn url_too_long() -> utoipa::openapi::Response {
    problem_response("The URL is longer than the server's limit (`server.max_url_bytes`, 8 KiB by default).")
}

fn unavailable() -> utoipa::openapi::Response {
    problem_response(
        "The database is not reachable, or the request did not complete within the server's time limit \
         (`server.request_timeout`).",
    )
}

fn get(operation: OperationBuilder) -> PathItem {
    PathItem::new(HttpMethod::Get, operation.build())
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for doc in lists() {
        let (path, spec) = (doc.path, doc.spec);
        let tag = path.trim_start_matches('/').split('/').next().unwrap_or("api");
        let operation_name = path.trim_start_matches('/').replace(['/', '-'], "_");
        let sort_names: Vec<&str> = spec.sorts.iter().map(|sort| sort.name).collect();
        for suffix in ["", ".csv", ".xlsx"] {
            let mut list = operation(
                format!("list_{operation_name}{}", suffix.replace('.', "_")),
                tag,
                format!(
                    "List {}{}",
                    spec.name,
                    if suffix.is_empty() { String::new() } else { format!(" as {suffix}") }
                ),
            )
            .description(Some(format!(
                "Envelope `{{data, links: {{next}}, meta}}`. Sortable by: {}. CSV (`;`, UTF-8 with BOM) and XLSX via \
                 `Accept` or the `.csv`/`.xlsx` suffix; without `limit` and `cursor` an export holds the whole list \
                 (CSV streamed, no ETag; XLSX at most 100,000 rows, then a `Link: rel=\"next\"` header). Money: `x_cents` (integer) and `x_eur` (decimal string).",
                sort_names.join(", ")
            )))
            .response("200", {
                // The suffix decides the format; the plain path serves what `Accept` asks for.
                let mut page = ResponseBuilder::new().description("One page (an export: the whole list).");
                if suffix.is_empty() {
                    let json = envelope(doc.row, &["count", "limit", "sort"]);
                    page = page.content("application/json", ContentBuilder::new().schema(Some(json)).build());
                }
                if suffix != ".xlsx" {
                    page = page.content("text/csv", ContentBuilder::new().build());
                }
                if suffix != ".csv" {
                    page = page.content(XLSX_TYPE, ContentBuilder::new().build());
                }
                page
            });
            for name in COMMON.iter().chain(spec.params) {
                list = list
                    .parameter(query_parameter(name, query_schema(name, &sort_names, r::allowed_values(spec, name))));
            }
            paths = paths.path(format!("/api/v1{path}{suffix}"), get(list));
        }
        let one = operation(format!("get_{operation_name}"), tag, format!("One record of {}", spec.name))
            .description(Some(format!(
                "The record (schema `{}`). Deleted records are served with `\"deleted\": true`.",
                doc.detail
            )))
            .parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(id_schema(Type::String))),
            )
            .response("200", json("`{data: record}`", document_of(doc.detail)))
            .response("404", problem_response("No record with this id."));
        paths = paths.path(format!("/api/v1{path}/{{id}}"), get(one));
    }
    let summary = operation("funding_summary".into(), "funding", "Funding summary of a program".into())
        .description(Some(
            "Per Schulträger: budget, requested, approved, disbursed, remaining (= budget − approved), utilisation \
             % (= approved / budget) and disbursed %, with breakdowns per measure and per school (applications \
             naming several schools are listed under `school_id: null`, not split). Withdrawn and rejected \
             applications count in no sum. Amounts in cents plus `_eur` decimal strings.",
        ))
        .parameter(
            ParameterBuilder::new()
                .name("program")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some(describe("program")))
                .schema(Some(text_schema())),
        )
        .response("200", json("`{data: {program, partners, total}}`", document_of("FundingSummary")))
        .response("404", problem_response("No such program."));
    paths = paths.path("/api/v1/funding/summary", get(summary));
    let partners = operation("list_partners".into(), "partners", "The IKZ partners".into())
        .parameter(query_parameter("include_deleted", query_schema("include_deleted", &[], None)))
        .response("200", json("All partners.", envelope("Partner", &["count"])));
    paths = paths.path("/api/v1/partners", get(partners));
    let runs = operation("list_import_runs".into(), "import-runs", "Import runs, newest first".into())
        .response("200", json("One page.", envelope("ImportRun", &["limit"])));
    let runs = run_parameters(runs, &["connector", "status", "limit", "cursor"]);
    paths = paths.path("/api/v1/import-runs", get(runs));
    let run = operation("get_import_run".into(), "import-runs", "One import run with its rejected records".into())
        .parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(id_schema(Type::Integer))),
        )
        .response("200", json("`{data: run}`", document_of("ImportRunDetail")))
        .response("404", problem_response("No such run."));
    paths = paths.path("/api/v1/import-runs/{id}", get(run));
    paths = connector_paths(paths);
    for (path, summary) in [("/healthz", "Liveness"), ("/readyz", "Readiness: database answers, schema current")] {
        let item = OperationBuilder::new()
            .operation_id(Some(path.trim_start_matches('/')))
            .tag("operations")
            .summary(Some(summary))
            .response("200", json("OK", probe_schema(path)))
            .response("414", url_too_long())
            .response("503", problem_response("Not ready."));
        paths = paths.path(path, get(item));
    }
    let metrics = OperationBuilder::new()
        .operation_id(Some("metrics"))
        .tag("operations")
        .summary(Some("Prometheus metrics of this process"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Prometheus text exposition format.")
                .content("text/plain", ContentBuilder::new().build()),
        )
        .response("414", url_too_long());
    paths = paths.path("/metrics", get(metrics));
    let document = OperationBuilder::new()
        .operation_id(Some("openapi"))
        .tag("operations")
        .summary(Some("This OpenAPI 3.1 document (Swagger UI at /api/docs/)"))
        .response("200", json("The document.", ObjectBuilder::new().schema_type(Type::Object)))
        .response("414", url_too_long());
    paths = paths.path(crate::OPENAPI_PATH, get(document));
    let mut document = OpenApiBuilder::new()
        .info(InfoBuilder::new().title("ikz-hub API").version(env!("CARGO_PKG_VERSION")).description(Some(
            "Council records, schools and DigitalPakt funding of the IKZ partners. JSON by default; lists \
                     also as CSV and XLSX. ETag/If-None-Match on every read.",
        )))
        .paths(paths)
        .components(Some(
            components()
                .into_iter()
                .fold(ComponentsBuilder::new(), |builder, (name, schema)| builder.schema(name, schema))
                .build(),
        ))
        .build();
    prune_unreferenced(&mut document);
    document
}

/// Drops the component schemas no operation reaches (the parts of flattened types, merged into their users).
fn prune_unreferenced(document: &mut OpenApi) {
    fn references(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.extend(target.strip_prefix("#/components/schemas/").map(str::to_owned));
                }
                map.values().for_each(|value| references(value, found));
            }
            serde_json::Value::Array(values) => values.iter().for_each(|value| references(value, found)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    references(&serde_json::to_value(&document.paths).unwrap_or_default(), &mut pending);
    let Some(components) = document.components.as_mut() else { return };
    let mut reachable = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if reachable.insert(name.clone()) {
            if let Some(schema) = components.schemas.get(&name) {
                references(&serde_json::to_value(schema).unwrap_or_default(), &mut pending);
            }
        }
    }
    components.schemas.retain(|name, _| reachable.contains(name));
}

/// What `/healthz` and `/readyz` answer.
fn probe_schema(path: &str) -> ObjectBuilder {
    let status = ObjectBuilder::new().schema_type(Type::String);
    let schema = ObjectBuilder::new().schema_type(Type::Object).property("status", status).required("status");
    if path != "/readyz" {
        return schema;
    }
    schema
        .property("database", ObjectBuilder::new().schema_type(Type::String).description(Some("sqlite or postgresql")))
        .property("stale_connectors", ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .required("database")
        .required("stale_connectors")
}

fn path_id(kind: Type) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(id_schema(kind)))
        .build()
}

/// The connector routes: the configured connectors, their runs, and the admin trigger.
fn connector_paths(paths: PathsBuilder) -> PathsBuilder {
    let list = operation("list_connectors".into(), "connectors", "The configured connectors".into())
        .description(Some(
            "Each connector with its schedule, next run, last run, last success and `stale` flag. 503 when this \
             server runs without the hub's connectors.",
        ))
        .response("200", json("`{data: [connector], links, meta}`", envelope("Connector", &["count"])))
        .response("401", problem_response("A token is required (`public_read` is off)."))
        .response("403", problem_response("The token lacks the `read` scope."));
    let runs = operation("list_connector_runs".into(), "connectors", "Runs of one connector, newest first".into())
        .parameter(path_id(Type::String))
        .response("200", json("One page of runs, skipped triggers included.", envelope("ImportRun", &["limit"])))
        .response("404", problem_response("No such connector."));
    let runs = run_parameters(runs, &["status", "limit", "cursor"]);
    let trigger = OperationBuilder::new()
        .operation_id(Some("trigger_connector_run"))
        .tag("connectors")
        .summary(Some("Start a run now (admin)"))
        .parameter(path_id(Type::String))
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some("Optional: no body, or an empty JSON object (the trigger takes no options yet)."))
                .required(Some(Required::False))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Object)
                                .additional_properties(Some(AdditionalProperties::FreeForm(false))),
                        ))
                        .build(),
                )
                .build(),
        ))
        .response("202", json("The run started; `Location` names it.", document_of("TriggeredRun")))
        .response("400", problem_response("The body is not an empty JSON object (`parameter`: `body`)."))
        .response("401", problem_response("No or unknown Bearer token."))
        .response("403", problem_response("The token lacks the `admin` scope."))
        .response("404", problem_response("No such connector."))
        .response("409", problem_response("Disabled, or running already (recorded as a skipped run)."))
        .response("413", problem_response("The body is larger than the server's limit (`server.max_body_bytes`)."))
        .response("414", url_too_long())
        .response("415", problem_response("The body is not `application/json`."))
        .response("503", problem_response("Shutting down, no connectors on this server, or past the time limit."));
    let mut item = PathItem::new(HttpMethod::Get, runs.build());
    item.post = Some(trigger.build());
    paths.path("/api/v1/connectors", get(list)).path("/api/v1/connectors/{id}/runs", item)
}

/// `GET /api/v1/openapi.json`: the document, built once.
pub async fn serve() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::OnceLock<actix_web::web::Bytes> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default().into());
    actix_web::HttpResponse::Ok().content_type("application/json").body(body.clone())
}

/// Swagger UI at `/api/docs/` (assets compiled into the binary) reading the document at `/api/v1/openapi.json`.
pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/api/docs/{_:.*}").config(utoipa_swagger_ui::Config::new([crate::OPENAPI_PATH]))
}

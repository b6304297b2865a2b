//! The component schemas: every record as the API serves it, from the types that serialise it.
//!
//! The rows (ikz-store, `ToSchema` behind its `openapi` feature), the funding summary and the connector view
//! describe their own fields. What serving adds is added here by the same rules [`Item`](crate::format::Item) and
//! [`served`](crate::served) follow: `deleted` after `deleted_at`, `x_eur` (decimal EUR string) after every
//! `x_cents`. Flattened parts (`#[serde(flatten)]`, an `allOf` in utoipa) are merged into one object, and every
//! property is required: the API writes `null`, it never leaves a key out. The composite records (a meeting with
//! its agenda, a paper with its Beratungsfolge, a school with its parts) are the record's schema plus their parts.

use std::collections::BTreeMap;

use ikz_store::queries::FundingSummary;
use ikz_store::rows::{
    AgendaItemRow, ConsultationRow, EquipmentRow, FileRow, FundingApplicationRow, FundingBudgetRow, FundingProgramRow,
    ImportRunRow, MediaConceptRow, MeetingRow, OrganizationRow, PaperRow, PartnerRow, RejectedRecordRow, SchoolRow,
};
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::ToSchema;

use crate::routes::connectors::{ConnectorView, TriggeredRun};

/// Every component schema by name.
pub type Schemas = BTreeMap<String, RefOr<Schema>>;

/// A reference to a component.
pub fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn collect<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// The component schemas of the document.
pub fn components() -> Schemas {
    let mut found = Vec::new();
    collect::<OrganizationRow>(&mut found);
    collect::<MeetingRow>(&mut found);
    collect::<AgendaItemRow>(&mut found);
    collect::<PaperRow>(&mut found);
    collect::<ConsultationRow>(&mut found);
    collect::<FileRow>(&mut found);
    collect::<SchoolRow>(&mut found);
    collect::<MediaConceptRow>(&mut found);
    collect::<EquipmentRow>(&mut found);
    collect::<FundingProgramRow>(&mut found);
    collect::<FundingBudgetRow>(&mut found);
    collect::<FundingApplicationRow>(&mut found);
    collect::<FundingSummary>(&mut found);
    collect::<PartnerRow>(&mut found);
    collect::<ImportRunRow>(&mut found);
    collect::<RejectedRecordRow>(&mut found);
    collect::<ConnectorView>(&mut found);
    collect::<TriggeredRun>(&mut found);
    let raw: Schemas = found.into_iter().collect();
    let mut schemas: Schemas =
        raw.iter().map(|(name, schema)| (name.clone(), RefOr::T(Schema::Object(served(schema, &raw))))).collect();

    let array = |name: &str| RefOr::T(Schema::Array(ArrayBuilder::new().items(reference(name)).build()));
    let nullable = |name: &str| {
        RefOr::T(Schema::OneOf(
            utoipa::openapi::schema::OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(reference(name))
                .build(),
        ))
    };
    let mut composite = |name: &str, base: &str, description: &str, parts: Vec<(&str, RefOr<Schema>)>| {
        let Some(RefOr::T(Schema::Object(mut object))) = schemas.get(base).cloned() else { return };
        object.description = Some(description.to_owned());
        for (part, schema) in parts {
            object.properties.insert(part.to_owned(), schema);
            object.required.push(part.to_owned());
        }
        schemas.insert(name.to_owned(), RefOr::T(Schema::Object(object)));
    };
    composite(
        "MeetingDetail",
        "Meeting",
        "A meeting with its agenda items in order and its files.",
        vec![("agenda", array("AgendaItem")), ("files", array("File"))],
    );
    composite(
        "PaperDetail",
        "Paper",
        "A paper with its consultations (Beratungsfolge), files and the agenda items that dealt with it.",
        vec![("consultations", array("Decision")), ("files", array("File")), ("agenda_items", array("AgendaItem"))],
    );
    let funding = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("budgets", array("FundingBudget"))
        .property("applications", array("FundingApplication"))
        .required("budgets")
        .required("applications");
    composite(
        "SchoolDetail",
        "School",
        "A school with its current media concept (the newest), all its media concepts, its equipment and funding.",
        vec![
            ("media_concept", nullable("MediaConcept")),
            ("media_concepts", array("MediaConcept")),
            ("equipment", array("Equipment")),
            ("funding", RefOr::T(Schema::Object(funding.build()))),
        ],
    );
    if let Some(RefOr::T(Schema::Object(mut run))) = schemas.get("ImportRun").cloned() {
        run.description = Some("An import run; admin tokens also get its rejected records.".into());
        // Only for admin tokens: the one property a response may lack.
        run.properties.insert("rejected_records".into(), array("RejectedRecord"));
        schemas.insert("ImportRunDetail".into(), RefOr::T(Schema::Object(run)));
    }
    schemas
}

/// A schema as served: flattened parts merged, `deleted` and `x_eur` added, every property required.
fn served(schema: &RefOr<Schema>, all: &Schemas) -> Object {
    let object = merged(schema, all);
    let mut out = object.clone();
    out.properties.clear();
    out.required.clear();
    for (name, property) in object.properties {
        out.properties.insert(name.clone(), property.clone());
        out.required.push(name.clone());
        let extra = if name == "deleted_at" {
            let deleted = ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("`true` for a tombstone (the record was deleted at `deleted_at`)."));
            Some(("deleted".to_owned(), deleted))
        } else {
            name.strip_suffix("_cents").map(|stem| {
                let kind = if is_nullable(&property) {
                    SchemaType::from_iter([Type::String, Type::Null])
                } else {
                    SchemaType::new(Type::String)
                };
                let eur = ObjectBuilder::new()
                    .schema_type(kind)
                    .pattern(Some("^-?[0-9]+\\.[0-9]{2}$"))
                    .description(Some(format!("`{name}` as a decimal EUR amount (\"245341.00\").")));
                (format!("{stem}_eur"), eur)
            })
        };
        if let Some((extra, schema)) = extra {
            out.properties.insert(extra.clone(), RefOr::T(Schema::Object(schema.build())));
            out.required.push(extra);
        }
    }
    out
}

/// One object from a schema: `allOf` parts (flattened fields) merged, references to components resolved.
fn merged(schema: &RefOr<Schema>, all: &Schemas) -> Object {
    match schema {
        RefOr::T(Schema::Object(object)) => object.clone(),
        RefOr::T(Schema::AllOf(all_of)) => {
            let mut out = ObjectBuilder::new().schema_type(Type::Object).build();
            out.description = all_of.description.clone();
            for part in &all_of.items {
                let part = merged(part, all);
                out.properties.extend(part.properties);
                out.required.extend(part.required);
            }
            out
        }
        RefOr::Ref(reference) => {
            let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
            all.get(name).map(|schema| merged(schema, all)).unwrap_or_default()
        }
        RefOr::T(_) => Object::default(),
    }
}

fn is_nullable(schema: &RefOr<Schema>) -> bool {
    match schema {
        RefOr::T(Schema::Object(object)) => match &object.schema_type {
            SchemaType::Array(types) => types.contains(&Type::Null),
            SchemaType::Type(kind) => *kind == Type::Null,
            SchemaType::AnyValue => true,
        },
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter().any(is_nullable),
        _ => false,
    }
}

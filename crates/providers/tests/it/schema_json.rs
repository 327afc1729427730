//! Provider schemas in `terraform providers schema -json` format: the
//! conformance schemas load, and write back to equivalent documents.

use meshform_lang::schema::{AttributeType, Nesting, Schemas};
use meshform_lang::Type;
use serde_json::Value as Json;

fn load(relative: &str) -> Option<(Json, Schemas)> {
    let path = meshform_testkit::shared_path(relative)?;
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let schemas = Schemas::from_json(&text).unwrap();
    Some((doc, schemas))
}

fn assert_round_trip(doc: &Json, schemas: &Schemas) {
    let written = schemas.to_json();
    let reread = Schemas::from_json_value(&written).unwrap();
    assert_eq!(&reread, schemas);
    assert_eq!(
        written["provider_schemas"].as_object().unwrap().len(),
        doc["provider_schemas"].as_object().unwrap().len()
    );
}

#[test]
fn fake_provider_schema_loads_and_writes_back_identically() {
    let Some((doc, schemas)) = load("conformance/plans/schema.json") else {
        return;
    };
    assert_round_trip(&doc, &schemas);
    let fake = schemas.provider("hashicorp/fake").unwrap();
    let thing = &fake.resources["fake_thing"];
    let name = &thing.block.attributes["name"];
    assert!(name.required && !name.optional);
    assert!(thing.block.attributes["password"].sensitive);
    assert_eq!(thing.block.block_types["rule"].nesting, Nesting::Set);
    assert_eq!(
        thing.block.implied_type().to_string(),
        "object({body=string, enabled=bool, id=string, items=list(string), \
         labels=set(string), name=string, password=string, revision=number, \
         rule=set(object({port=number, proto=string})), size=number, \
         tags=map(string), zone=string})"
    );
    assert!(fake.data_sources.contains_key("fake_echo"));
    assert_eq!(schemas.to_json(), doc);
}

#[test]
fn guide_object_schema_loads() {
    let Some((doc, schemas)) = load("conformance/guide-plans/schema.json") else {
        return;
    };
    assert_round_trip(&doc, &schemas);
    assert_eq!(schemas.providers.len(), 5);
    let beta = schemas.provider("kong/konnect-beta").unwrap();
    assert_eq!(beta.resources.len(), 25);
    assert!(beta.provider.block.attributes["personal_access_token"].sensitive);
    let helm = schemas.provider("hashicorp/helm").unwrap();
    assert_eq!(helm.resources["helm_release"].version, 1);
    let k8s = schemas.provider("hashicorp/kubernetes").unwrap();
    assert!(k8s.resources["kubernetes_secret_v1"]
        .block
        .block_types
        .contains_key("metadata"));
}

#[test]
fn guide_nested_attribute_schema_loads() {
    let Some((doc, schemas)) = load("conformance/guide-plans/schema.nested-attributes.json") else {
        return;
    };
    assert_round_trip(&doc, &schemas);
    let beta = schemas.provider("kong/konnect-beta").unwrap();
    let mtp = &beta.resources["konnect_mesh_traffic_permission"].block;
    let from = mtp.attribute_at(&["spec", "from"]).unwrap();
    let AttributeType::Nested(n) = &from.ty else {
        panic!("spec.from is a nested attribute");
    };
    assert_eq!(n.nesting, Nesting::List);
    assert!(from.optional && from.computed);
    let action = mtp
        .attribute_at(&["spec", "from", "default", "action"])
        .unwrap();
    assert_eq!(action.implied_type(), Type::String);
    let Type::Object { attrs, optional } = mtp.attribute_at(&["spec"]).unwrap().implied_type()
    else {
        panic!("spec is an object");
    };
    assert!(optional.is_empty());
    assert!(matches!(attrs["from"], Type::List(_)));
    let Type::Object { attrs, .. } = mtp.constraint_type() else {
        panic!("a block is an object");
    };
    let Type::Object { optional, .. } = &attrs["spec"] else {
        panic!("spec is an object");
    };
    assert!(optional.contains("from") && optional.contains("target_ref"));
}

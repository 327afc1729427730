//! The generated Konnect tables agree with the provider schemas Terraform
//! reported for the real providers' nested-attribute shape.

use std::collections::BTreeMap;

use meshform_lang::schema::{Attribute, AttributeType, Schemas};
use meshform_providers::konnect::{KonnectTables, KONNECT, KONNECT_BETA};

/// Differences between two attribute trees, ignoring descriptions and
/// meshform's plan behaviour (which Terraform's JSON does not carry).
fn diff(
    path: &str,
    ours: &BTreeMap<String, Attribute>,
    theirs: &BTreeMap<String, Attribute>,
    out: &mut Vec<String>,
) {
    for name in ours.keys().chain(theirs.keys()) {
        let p = format!("{path}{name}");
        let (Some(a), Some(b)) = (ours.get(name), theirs.get(name)) else {
            out.push(format!("{p}: present on one side only"));
            continue;
        };
        let flags = |x: &Attribute| (x.required, x.optional, x.computed, x.sensitive);
        if flags(a) != flags(b) {
            out.push(format!("{p}: flags {:?} != {:?}", flags(a), flags(b)));
        }
        match (&a.ty, &b.ty) {
            (AttributeType::Type(x), AttributeType::Type(y)) if x == y => {}
            (AttributeType::Nested(x), AttributeType::Nested(y)) if x.nesting == y.nesting => {
                diff(&format!("{p}."), &x.attributes, &y.attributes, out);
            }
            _ => out.push(format!("{p}: type differs")),
        }
    }
}

#[test]
fn tables_match_terraform_nested_attribute_schemas() {
    let Some(path) =
        meshform_testkit::shared_path("conformance/guide-plans/schema.nested-attributes.json")
    else {
        return;
    };
    let theirs = Schemas::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tables = KonnectTables::load().unwrap();
    let mut problems = Vec::new();
    let mut compared = 0;
    for provider in [KONNECT_BETA, KONNECT] {
        let ours = tables.provider_schema(provider);
        let reference = theirs.provider(provider).unwrap();
        diff(
            &format!("{provider} provider."),
            &ours.provider.block.attributes,
            &reference.provider.block.attributes,
            &mut problems,
        );
        assert_eq!(
            ours.resources.keys().collect::<Vec<_>>(),
            reference.resources.keys().collect::<Vec<_>>()
        );
        for (rtype, schema) in &ours.resources {
            let mut theirs = reference.resources[rtype].block.attributes.clone();
            // Sanctioned difference: meshform keeps the token sensitive.
            if rtype == "konnect_system_account_access_token" {
                if let Some(t) = theirs.get_mut("token") {
                    t.sensitive = true;
                }
            }
            diff(
                &format!("{rtype}."),
                &schema.block.attributes,
                &theirs,
                &mut problems,
            );
            assert!(reference.resources[rtype].block.block_types.is_empty());
            compared += 1;
        }
    }
    assert_eq!(compared, 29);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

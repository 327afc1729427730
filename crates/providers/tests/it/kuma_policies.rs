//! The Kuma policy tables and the Konnect tables describe the same specs:
//! every Kuma field has the Terraform attribute the tables name.

use meshform_providers::konnect::KonnectTables;
use meshform_providers::kuma::{Naming, PolicyTables};
use serde_json::json;

#[test]
fn every_kuma_field_has_its_terraform_attribute() {
    let kuma = PolicyTables::load().unwrap();
    let konnect = KonnectTables::load().unwrap();
    let mut checked = 0;
    for kind in kuma.kinds() {
        let resource = kuma.resource_of_kind(kind).unwrap();
        let table = konnect.resource(resource).unwrap();
        for path in kuma.terraform_paths(kind) {
            assert!(
                table.attr(&path).is_some(),
                "{kind}: {path} is not an attribute of {resource}"
            );
            checked += 1;
        }
    }
    assert!(checked > 800, "only {checked} paths checked");
}

#[test]
fn terraform_shaped_guide_policy_validates() {
    let kuma = PolicyTables::load().unwrap();
    // The guide's policy as Terraform holds it: every unset attribute null.
    let spec = json!({
        "from": [{
            "default": {"action": "Allow"},
            "target_ref": {"kind": "Mesh", "labels": null, "mesh": null, "name": null,
                           "namespace": null, "proxy_types": null, "section_name": null, "tags": null}
        }],
        "target_ref": null
    });
    assert!(kuma
        .validate_policy_spec("MeshTrafficPermission", &spec, Naming::Terraform)
        .is_empty());
}

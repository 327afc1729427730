//! Schema-driven planning against Terraform's own plans of the fake
//! provider (`conformance/plans/`): for every managed `fake_thing` change,
//! the configuration is taken from Terraform's planned values (computed
//! attributes left null), planned from the prior state, and compared with
//! Terraform's `after`, `after_unknown` and `replace_paths`.

use std::path::Path;

use meshform_lang::schema::{Block, Schemas};
use meshform_lang::{PathStep, Value};
use meshform_providers::konnect::KonnectTables;
use meshform_providers::planning::{
    plan_from_schema, plan_resource, proposed_new_state, PlanOptions, PlanStyle,
};
use serde_json::Value as Json;

fn fake_schema(dir: &Path) -> Block {
    let text = std::fs::read_to_string(dir.join("schema.json")).unwrap();
    let mut schemas = Schemas::from_json(&text).unwrap();
    let overlay_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/providers/fake-plan-overlay.json");
    let overlay: Json =
        serde_json::from_str(&std::fs::read_to_string(overlay_path).unwrap()).unwrap();
    schemas.apply_plan_overlay(&overlay).unwrap();
    schemas.provider("hashicorp/fake").unwrap().resources["fake_thing"]
        .block
        .clone()
}

fn contains_true(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::Array(a) => a.iter().any(contains_true),
        Json::Object(m) => m.values().any(contains_true),
        _ => false,
    }
}

/// The object `json` describes, with `after_unknown` leaves unknown;
/// `None` when an unknown sits below the top level (not reproduced here).
fn object_from(block: &Block, json: &Json, unknown: &Json, null_computed: bool) -> Option<Value> {
    let meshform_lang::Type::Object { attrs: types, .. } = block.implied_type() else {
        return None;
    };
    let mut out = std::collections::BTreeMap::new();
    for (name, ty) in types.iter() {
        let computed = block.attributes.get(name).is_some_and(|a| a.computed);
        let u = &unknown[name.as_str()];
        let v = if null_computed && computed {
            Value::null(ty.clone())
        } else if *u == Json::Bool(true) {
            Value::unknown(ty.clone())
        } else if contains_true(u) {
            return None;
        } else {
            Value::from_json(json.get(name).unwrap_or(&Json::Null), ty).ok()?
        };
        out.insert(name.clone(), v);
    }
    Some(Value::object(out))
}

fn check_planned(id: &str, block: &Block, planned: &Value, after: &Json, after_unknown: &Json) {
    for name in block.attributes.keys().chain(block.block_types.keys()) {
        let got = planned.get_attr(name).unwrap();
        if after_unknown[name.as_str()] == Json::Bool(true) {
            assert!(
                !got.is_known(),
                "{id}: {name} should be unknown, got {got:?}"
            );
        } else {
            let want = after.get(name).cloned().unwrap_or(Json::Null);
            assert!(
                got.is_wholly_known(),
                "{id}: {name} should be known, got {got:?}"
            );
            assert_eq!(got.to_json().unwrap(), want, "{id}: {name}");
        }
    }
}

#[test]
fn fake_provider_plans_match_terraform() {
    let Some(dir) = meshform_testkit::shared_path("conformance/plans") else {
        return;
    };
    let block = fake_schema(&dir);
    let mut checked = 0;
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    scenarios.sort();
    for scenario in scenarios.iter().filter(|p| p.is_dir()) {
        for step in 1..10 {
            let plan_path = scenario.join(format!("step{step}.plan.json"));
            let Ok(text) = std::fs::read_to_string(&plan_path) else {
                continue;
            };
            let plan: Json = serde_json::from_str(&text).unwrap();
            for rc in plan["resource_changes"].as_array().into_iter().flatten() {
                if rc["type"] != "fake_thing" || rc["mode"] != "managed" {
                    continue;
                }
                let id = format!("{}/step{step} {}", scenario.display(), rc["address"]);
                let change = &rc["change"];
                let actions: Vec<&str> = change["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Json::as_str)
                    .collect();
                if actions == ["delete"] {
                    continue;
                }
                let (after, after_unknown) = (&change["after"], &change["after_unknown"]);
                let Some(config) = object_from(&block, after, after_unknown, true) else {
                    continue;
                };
                let null = Value::null(block.implied_type());
                let prior = if change["before"].is_null() {
                    null.clone()
                } else {
                    Value::from_json(&change["before"], &block.implied_type()).unwrap()
                };
                let replace = actions.len() == 2;
                let first = plan_resource(
                    &block,
                    &prior,
                    &proposed_new_state(&block, &prior, &config),
                    &config,
                );
                let want_replace: Vec<Vec<PathStep>> = change["replace_paths"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        p.as_array()
                            .unwrap()
                            .iter()
                            .map(|s| match s {
                                Json::String(a) => PathStep::Attr(a.clone()),
                                Json::Number(n) => PathStep::Index(n.as_u64().unwrap() as usize),
                                other => panic!("{other}"),
                            })
                            .collect()
                    })
                    .collect();
                assert_eq!(first.requires_replace, want_replace, "{id}");
                let planned = if replace {
                    plan_resource(
                        &block,
                        &null,
                        &proposed_new_state(&block, &null, &config),
                        &config,
                    )
                    .planned
                } else {
                    first.planned
                };
                check_planned(&id, &block, &planned, after, after_unknown);
                if actions == ["no-op"] {
                    assert_eq!(planned, prior, "{id}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} changes checked");
}

/// The guide's Konnect steps, planned from the generated tables with the
/// providers' explicit plan behaviour, agree with Terraform's plans of the
/// fake Konnect providers.
#[test]
fn konnect_guide_plans_match_terraform() {
    let Some(dir) = meshform_testkit::shared_path("conformance/guide-plans") else {
        return;
    };
    let tables = KonnectTables::load().unwrap();
    let options = PlanOptions {
        style: PlanStyle::Framework,
        id_uses_state: false,
        block_changes_mark_computed: true,
    };
    let mut checked = 0;
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    scenarios.sort();
    for scenario in scenarios.iter().filter(|p| p.is_dir()) {
        for step in 1..10 {
            let Ok(text) = std::fs::read_to_string(scenario.join(format!("step{step}.plan.json")))
            else {
                continue;
            };
            let plan: Json = serde_json::from_str(&text).unwrap();
            for rc in plan["resource_changes"].as_array().into_iter().flatten() {
                let Some(table) = rc["type"].as_str().and_then(|t| tables.resource(t)) else {
                    continue;
                };
                let block = &table.schema.block;
                let id = format!("{}/step{step} {}", scenario.display(), rc["address"]);
                let change = &rc["change"];
                let actions: Vec<&str> = change["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Json::as_str)
                    .collect();
                if actions == ["delete"] {
                    continue;
                }
                let (after, after_unknown) = (&change["after"], &change["after_unknown"]);
                let Some(config) = config_from(block, after, after_unknown) else {
                    continue;
                };
                let null = Value::null(block.implied_type());
                let prior = if change["before"].is_null() {
                    null.clone()
                } else {
                    Value::from_json(&change["before"], &block.implied_type()).unwrap()
                };
                let plan_with = |prior: &Value| {
                    plan_from_schema(
                        block,
                        prior,
                        &proposed_new_state(block, prior, &config),
                        &config,
                        options,
                    )
                };
                let first = plan_with(&prior);
                let replace = actions.len() == 2;
                assert_eq!(
                    first.requires_replace.is_empty(),
                    !replace,
                    "{id}: {:?}",
                    first.requires_replace
                );
                let planned = if replace {
                    plan_with(&null).planned
                } else {
                    first.planned
                };
                check_planned(&id, block, &planned, after, after_unknown);
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} changes checked");
}

/// Configuration from Terraform's planned object: computed-only
/// attributes null, optional+computed ones as planned.
fn config_from(block: &Block, json: &Json, unknown: &Json) -> Option<Value> {
    let meshform_lang::Type::Object { attrs: types, .. } = block.implied_type() else {
        return None;
    };
    let mut out = std::collections::BTreeMap::new();
    for (name, ty) in types.iter() {
        let attr = &block.attributes[name];
        let u = &unknown[name.as_str()];
        let v = if attr.computed && (!attr.optional || *u == Json::Bool(true)) {
            Value::null(ty.clone())
        } else if *u == Json::Bool(true) {
            Value::unknown(ty.clone())
        } else if contains_true(u) {
            return None;
        } else {
            Value::from_json(json.get(name).unwrap_or(&Json::Null), ty).ok()?
        };
        out.insert(name.clone(), v);
    }
    Some(Value::object(out))
}

//! ProposedNew, plan validity and replacement paths against the plans real
//! Terraform made in the conformance scenarios: the configuration is
//! decoded with references resolved to the planned values of other
//! resources, the prior value is the plan's refreshed `prior_state`.

use std::collections::BTreeMap;

use meshform_config::Module;
use meshform_engine::decode::value_type;
use meshform_engine::objchange::{
    assert_object_compatible, assert_plan_valid, format_path, mark_computed_nulls_unknown,
    paths_that_differ, proposed_new, requires_replace_paths, values_equal_ignoring_marks, Path,
};
use meshform_lang::addr::ResourceMode;
use meshform_lang::schema::{Block, RequiresReplace};
use meshform_lang::{Data, Number, PathStep, Type, Value};
use serde_json::Value as J;

use crate::decode::{
    all_steps, guide_steps_with_nested_attributes, instances, resource_schema, Instance,
    ResourceValues, Step,
};

/// A value from plan JSON: `after` with `after_unknown` marking the parts
/// that are not known yet.
fn value_from_plan(after: Option<&J>, unknown: Option<&J>, ty: &Type) -> Value {
    if unknown == Some(&J::Bool(true)) {
        return Value::unknown(ty.clone());
    }
    let after = match after {
        None | Some(J::Null) => return Value::null(ty.clone()),
        Some(a) => a,
    };
    match ty {
        Type::Object { attrs, .. } => Value::object(
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = value_from_plan(after.get(k), unknown.and_then(|u| u.get(k)), t);
                    (k.clone(), v)
                })
                .collect(),
        ),
        Type::List(e) | Type::Set(e) => {
            let items: Vec<Value> = after
                .as_array()
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, x)| value_from_plan(Some(x), unknown.and_then(|u| u.get(i)), e))
                        .collect()
                })
                .unwrap_or_default();
            if matches!(ty, Type::List(_)) {
                Value::list((**e).clone(), items)
            } else {
                Value::set((**e).clone(), items)
            }
        }
        Type::Map(e) => {
            // Unknown elements are absent from `after`.
            let mut keys: Vec<&String> = after
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            keys.extend(
                unknown
                    .and_then(J::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k),
            );
            keys.sort();
            keys.dedup();
            Value::map(
                (**e).clone(),
                keys.into_iter()
                    .map(|k| {
                        let v = value_from_plan(after.get(k), unknown.and_then(|u| u.get(k)), e);
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        _ => Value::from_json(after, ty).unwrap_or_else(|_| Value::unknown(ty.clone())),
    }
}

/// Resource values as the plan has them: planned `after` values (with
/// unknowns), else the refreshed prior state.
struct PlannedResources;

impl PlannedResources {
    fn instance(step: &Step, address: &str, ty: &Type) -> Option<Value> {
        let changes = step.plan.get("resource_changes").and_then(J::as_array);
        for rc in changes.into_iter().flatten() {
            if rc.get("address").and_then(J::as_str) == Some(address) {
                let change = rc.get("change")?;
                if change.get("after").is_some_and(J::is_null) {
                    return None;
                }
                return Some(value_from_plan(
                    change.get("after"),
                    change.get("after_unknown"),
                    ty,
                ));
            }
        }
        prior_values(step)
            .get(address)
            .map(|v| value_from_plan(Some(v), None, ty))
    }
}

impl ResourceValues for PlannedResources {
    fn resources_of(
        &self,
        step: &Step,
        module: &Module,
        module_path: &str,
    ) -> Vec<(String, Value)> {
        let mut managed: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut data: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for r in module.resources.values() {
            let ty = resource_schema(&step.schemas, r.mode, &r.ty)
                .map(|(_, s)| value_type(&s.block.implied_type()))
                .unwrap_or(Type::Dynamic);
            let prefix = match r.mode {
                ResourceMode::Managed => String::new(),
                ResourceMode::Data => "data.".to_owned(),
            };
            let base = format!("{module_path}{prefix}{}.{}", r.ty, r.name);
            let value = if r.count.is_some() {
                let items: Vec<Value> = (0..)
                    .map_while(|i| PlannedResources::instance(step, &format!("{base}[{i}]"), &ty))
                    .collect();
                Value::tuple(items)
            } else if r.for_each.is_some() {
                let prefix = format!("{base}[\"");
                let mut keys: Vec<String> = step
                    .plan
                    .get("resource_changes")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|rc| rc.get("address").and_then(J::as_str))
                    .filter_map(|a| a.strip_prefix(&prefix)?.strip_suffix("\"]"))
                    .map(str::to_owned)
                    .collect();
                keys.sort();
                keys.dedup();
                Value::object(
                    keys.into_iter()
                        .filter_map(|k| {
                            let v =
                                PlannedResources::instance(step, &format!("{prefix}{k}\"]"), &ty)?;
                            Some((k, v))
                        })
                        .collect(),
                )
            } else {
                PlannedResources::instance(step, &base, &ty).unwrap_or_else(|| Value::unknown(ty))
            };
            let table = match r.mode {
                ResourceMode::Managed => &mut managed,
                ResourceMode::Data => &mut data,
            };
            table
                .entry(r.ty.clone())
                .or_default()
                .insert(r.name.clone(), value);
        }
        let mut out: Vec<(String, Value)> = managed
            .into_iter()
            .map(|(k, v)| (k, Value::object(v)))
            .collect();
        let data = data
            .into_iter()
            .map(|(k, v)| (k, Value::object(v)))
            .collect();
        out.push(("data".to_owned(), Value::object(data)));
        out
    }
}

/// The refreshed prior state of every resource, by address.
fn prior_values(step: &Step) -> BTreeMap<String, J> {
    let mut out = BTreeMap::new();
    if let Some(root) = step.plan.pointer("/prior_state/values/root_module") {
        collect(root, &mut out);
    }
    out
}

fn collect(module: &J, out: &mut BTreeMap<String, J>) {
    for r in module
        .get("resources")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(a), Some(v)) = (r.get("address").and_then(J::as_str), r.get("values")) {
            out.insert(a.to_owned(), v.clone());
        }
    }
    for m in module
        .get("child_modules")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        collect(m, out);
    }
}

/// Providers whose SDKv2 (legacy type system) plans Terraform tolerates
/// even when they do not follow the configuration strictly.
fn is_legacy(provider: &str) -> bool {
    provider.ends_with("hashicorp/kubernetes") || provider.ends_with("hashicorp/helm")
}

/// `v` with every number rounded to 15 significant digits, below the
/// precision of numbers in plan and state JSON.
fn round_numbers(v: &Value) -> Value {
    let sensitive = v.is_sensitive();
    let out = match v.data() {
        Data::Number(n) => {
            // 15 significant digits: the goldens print the same number
            // with float64 digits that differ in the last place.
            let rounded: f64 = format!("{:.14e}", n.to_f64()).parse().unwrap_or(f64::NAN);
            Number::from_f64(rounded).map_or_else(|| v.clone(), Value::number)
        }
        Data::List(t, xs) => Value::list(t.clone(), xs.iter().map(round_numbers).collect()),
        Data::Set(t, xs) => Value::set(t.clone(), xs.iter().map(round_numbers).collect()),
        Data::Tuple(xs) => Value::tuple(xs.iter().map(round_numbers).collect()),
        Data::Map(t, xs) => Value::map(
            t.clone(),
            xs.iter()
                .map(|(k, x)| (k.clone(), round_numbers(x)))
                .collect(),
        ),
        Data::Object(xs) => Value::object(
            xs.iter()
                .map(|(k, x)| (k.clone(), round_numbers(x)))
                .collect(),
        ),
        _ => v.clone(),
    };
    out.mark_sensitive_if(sensitive)
}

/// The configuration as Terraform plans it: attributes under
/// `ignore_changes` take their prior values.
fn with_ignored(inst: &Instance, prior: &Value) -> Value {
    let Some(entries) = inst.config.as_entries() else {
        return inst.config.clone();
    };
    let names: Vec<String> = match &inst.ignored {
        Some(n) => n.clone(),
        None => entries.keys().cloned().collect(),
    };
    let mut out = entries.clone();
    for n in names {
        if let Some(p) = prior.get_attr(&n) {
            out.insert(n, p.clone());
        }
    }
    Value::object(out)
}

struct Change {
    actions: Vec<String>,
    prior: Value,
    planned: Value,
    replace_paths: Vec<Path>,
}

fn change_of(step: &Step, inst: &Instance) -> Option<Change> {
    let ty = value_type(&inst.schema.block.implied_type());
    let rc = step
        .plan
        .get("resource_changes")
        .and_then(J::as_array)?
        .iter()
        .find(|rc| rc.get("address").and_then(J::as_str) == Some(&inst.address))?;
    let change = rc.get("change")?;
    let actions: Vec<String> = change
        .get("actions")
        .and_then(J::as_array)?
        .iter()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    let prior = prior_values(step).get(&inst.address).map_or_else(
        || Value::null(ty.clone()),
        |v| round_numbers(&value_from_plan(Some(v), None, &ty)),
    );
    let planned = round_numbers(&value_from_plan(
        change.get("after"),
        change.get("after_unknown"),
        &ty,
    ));
    let replace_paths = change
        .get("replace_paths")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_array)
        .map(|steps| {
            steps
                .iter()
                .map(|s| match s {
                    J::Number(n) => PathStep::Index(n.as_u64().unwrap_or(0) as usize),
                    other => PathStep::Attr(other.as_str().unwrap_or_default().to_owned()),
                })
                .collect()
        })
        .collect();
    Some(Change {
        actions,
        prior,
        planned,
        replace_paths,
    })
}

/// Whether every attribute along `path` that the schema knows is computed:
/// only those may be planned differently from the proposed value.
fn is_computed_path(block: &Block, path: &Path) -> bool {
    let names: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            PathStep::Attr(a) => Some(a.as_str()),
            _ => None,
        })
        .collect();
    (1..=names.len()).any(|n| block.attribute_at(&names[..n]).is_some_and(|a| a.computed))
}

#[test]
fn terraform_plans_agree_with_proposed_new_and_are_valid() {
    let Some(steps) = all_steps() else { return };
    let counts = check_changes(&steps);
    assert!(
        counts.checked > 40,
        "only {} changes checked",
        counts.checked
    );
    assert!(
        counts.created > 5,
        "only {} creates checked",
        counts.created
    );
    assert!(
        counts.replaced >= 2,
        "only {} replacements checked",
        counts.replaced
    );
}

#[test]
fn guide_plans_agree_with_proposed_new_for_nested_attribute_schemas() {
    let Some(steps) = guide_steps_with_nested_attributes() else {
        return;
    };
    let counts = check_changes(&steps);
    assert!(
        counts.checked > 10,
        "only {} changes checked",
        counts.checked
    );
}

struct Counts {
    checked: usize,
    created: usize,
    replaced: usize,
}

/// Checks every planned change of `steps` (see the module comment);
/// panics listing every disagreement.
fn check_changes(steps: &[Step]) -> Counts {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut created = 0;
    let mut replaced = 0;
    for step in steps {
        for inst in instances(step, &PlannedResources) {
            if is_legacy(&inst.provider) || !inst.diags.is_empty() {
                continue;
            }
            let Some(change) = change_of(step, &inst) else {
                continue;
            };
            let actions: Vec<&str> = change.actions.iter().map(String::as_str).collect();
            let replacing = actions.contains(&"delete") && actions.contains(&"create");
            if actions == ["delete"] || actions == ["read"] {
                continue;
            }
            let block = &inst.schema.block;
            // A replacement is planned from nothing, as a create.
            let prior = if replacing || actions == ["create"] {
                Value::null(change.prior.ty())
            } else {
                change.prior.clone()
            };
            let config = round_numbers(&with_ignored(&inst, &change.prior));
            let name = format!("{} {}", step.name, inst.address);
            checked += 1;

            for p in assert_plan_valid(block, &prior, &config, &change.planned) {
                failures.push(format!("{name}: invalid plan: {p}"));
            }
            let proposed = proposed_new(block, &prior, &config);
            for path in paths_that_differ(&proposed, &change.planned) {
                if !is_computed_path(block, &path) {
                    failures.push(format!(
                        "{name}: proposed and planned differ at {}",
                        format_path(&path)
                    ));
                }
            }
            if inst.address.starts_with("fake_thing") && actions == ["create"] {
                created += 1;
                let marked = mark_computed_nulls_unknown(block, &proposed, &config);
                if !values_equal_ignoring_marks(&marked, &change.planned) {
                    failures.push(format!(
                        "{name}: create plan {:?} is not the proposed value with computed nulls unknown {marked:?}",
                        change.planned
                    ));
                }
            }
            if inst.provider.ends_with("hashicorp/fake") && inst.address.contains("fake_thing") {
                // The fake provider's `zone` forces replacement (its
                // schema JSON cannot say so).
                let mut schema = block.clone();
                if let Some(zone) = schema.attributes.get_mut("zone") {
                    zone.plan.requires_replace = Some(RequiresReplace::Always);
                }
                let paths =
                    requires_replace_paths(&schema, &change.prior, &change.planned, &config);
                if replacing {
                    replaced += 1;
                }
                if paths != change.replace_paths {
                    failures.push(format!(
                        "{name}: replace paths {paths:?}, Terraform {:?}",
                        change.replace_paths
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Counts {
        checked,
        created,
        replaced,
    }
}

/// Every resource instance of a state file (v4), by address.
fn state_instances(state: &J) -> BTreeMap<String, J> {
    let mut out = BTreeMap::new();
    for r in state
        .get("resources")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let text = |k: &str| r.get(k).and_then(J::as_str).unwrap_or_default().to_owned();
        let module = r
            .get("module")
            .and_then(J::as_str)
            .map(|m| format!("{m}."))
            .unwrap_or_default();
        let mode = if text("mode") == "data" { "data." } else { "" };
        let base = format!("{module}{mode}{}.{}", text("type"), text("name"));
        for inst in r
            .get("instances")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let key = match inst.get("index_key") {
                Some(J::Number(n)) => format!("[{n}]"),
                Some(J::String(k)) => format!("[{k:?}]"),
                _ => String::new(),
            };
            if let Some(attrs) = inst.get("attributes") {
                out.insert(format!("{base}{key}"), attrs.clone());
            }
        }
    }
    out
}

#[test]
fn applied_objects_are_compatible_with_their_plans() {
    let Some(steps) = all_steps() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for step in &steps {
        let Some(state) = &step.applied_state else {
            continue;
        };
        let applied = state_instances(state);
        let changes = step.plan.get("resource_changes").and_then(J::as_array);
        for rc in changes.into_iter().flatten() {
            let text = |k: &str| rc.get(k).and_then(J::as_str).unwrap_or_default();
            let address = text("address");
            let mode = if text("mode") == "data" {
                ResourceMode::Data
            } else {
                ResourceMode::Managed
            };
            let Some((provider, schema)) = resource_schema(&step.schemas, mode, text("type"))
            else {
                continue;
            };
            let Some(change) = rc.get("change") else {
                continue;
            };
            if is_legacy(&provider) || change.get("after").is_none_or(J::is_null) {
                continue;
            }
            let ty = value_type(&schema.block.implied_type());
            let planned = round_numbers(&value_from_plan(
                change.get("after"),
                change.get("after_unknown"),
                &ty,
            ));
            let actual = applied.get(address).map_or_else(
                || Value::null(ty.clone()),
                |a| round_numbers(&value_from_plan(Some(a), None, &ty)),
            );
            checked += 1;
            for p in assert_object_compatible(&schema.block, &planned, &actual) {
                failures.push(format!("{} {address}: {p}", step.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 30, "only {checked} applied objects checked");
}

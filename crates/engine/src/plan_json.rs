//! Terraform's plan JSON (`terraform show -json PLANFILE`, format 0.2 as
//! Terraform 1.0 writes it): [`plan_to_json`] writes a [`Plan`],
//! [`plan_from_json`] reads one back.
//!
//! The JSON carries no types, so reading needs the provider schemas: each
//! resource object is decoded as the type its schema implies, unknown parts
//! come from `after_unknown` and sensitive marks from `before_sensitive` /
//! `after_sensitive` (attributes the schema already declares sensitive get
//! no mark). Output values take the type their JSON implies. Terraform's
//! JSON is lossy in three ways a reader cannot undo: a partly unknown
//! output is only "unknown", an output's value marks are only the output's
//! `sensitive` flag, and numbers are JSON numbers (float64 beyond 64-bit
//! integers).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use meshform_lang::addr::{InstanceKey, ResourceInstance, ResourceMode};
use meshform_lang::schema::{Block, Nesting, Schemas};
use meshform_lang::{Data, PathStep, Type, Value};

use crate::plan::{Action, ActionReason, AttrPath, OutputChange, Plan, ResourceInstanceChange};
use crate::render::lookup_schema;

/// The format version Terraform 1.0 writes.
pub const FORMAT_VERSION: &str = "0.2";

/// A plan JSON document that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanJsonError {
    #[error("the plan JSON is not valid JSON: {0}")]
    Syntax(String),
    #[error("the plan JSON is invalid at {at}: {reason}")]
    Invalid { at: String, reason: String },
    #[error("no schema for {resource_type} of provider {provider} (needed for {address})")]
    MissingSchema {
        address: String,
        provider: String,
        resource_type: String,
    },
    #[error("the value of {address} does not fit its schema: {reason}")]
    Value { address: String, reason: String },
}

fn invalid(at: &str, reason: &str) -> PlanJsonError {
    PlanJsonError::Invalid {
        at: at.to_owned(),
        reason: reason.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Reading

/// Reads `terraform show -json` plan text into a [`Plan`]; `schemas` gives
/// the types of resource objects.
pub fn plan_from_json(text: &str, schemas: &Schemas) -> Result<Plan, PlanJsonError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| PlanJsonError::Syntax(e.to_string()))?;
    plan_from_json_value(&doc, schemas)
}

/// Like [`plan_from_json`], from parsed JSON.
pub fn plan_from_json_value(doc: &Json, schemas: &Schemas) -> Result<Plan, PlanJsonError> {
    let root = doc
        .as_object()
        .ok_or_else(|| invalid("$", "expected an object"))?;
    let mut plan = Plan {
        errored: root.get("errored").and_then(Json::as_bool).unwrap_or(false),
        timestamp: root
            .get("timestamp")
            .and_then(Json::as_str)
            .map(str::to_owned),
        ..Plan::default()
    };
    if let Some(vars) = root.get("variables").and_then(Json::as_object) {
        for (name, v) in vars {
            let value = v.get("value").unwrap_or(&Json::Null);
            let value = Value::from_json(value, &Type::Dynamic)
                .map_err(|e| invalid(&format!("$.variables.{name}"), &e.to_string()))?;
            plan.variables.insert(name.clone(), value);
        }
    }
    for (key, list) in [
        ("resource_changes", &mut plan.changes),
        ("resource_drift", &mut plan.drift),
    ] {
        if let Some(items) = root.get(key) {
            let items = items
                .as_array()
                .ok_or_else(|| invalid(&format!("$.{key}"), "expected an array"))?;
            for (i, item) in items.iter().enumerate() {
                list.push(read_resource_change(
                    item,
                    schemas,
                    &format!("$.{key}[{i}]"),
                )?);
            }
        }
    }
    if let Some(outputs) = root.get("output_changes") {
        let outputs = outputs
            .as_object()
            .ok_or_else(|| invalid("$.output_changes", "expected an object"))?;
        for (name, change) in outputs {
            let at = format!("$.output_changes.{name}");
            plan.output_changes
                .insert(name.clone(), read_output_change(name, change, &at)?);
        }
    }
    plan.sort();
    Ok(plan)
}

fn read_action(change: &Json, at: &str) -> Result<Action, PlanJsonError> {
    let actions: Vec<&str> = change
        .get("actions")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid(at, "actions are missing"))?
        .iter()
        .map(|a| a.as_str().unwrap_or_default())
        .collect();
    Action::from_json_actions(&actions).ok_or_else(|| invalid(at, "unknown actions"))
}

fn read_resource_change(
    item: &Json,
    schemas: &Schemas,
    at: &str,
) -> Result<ResourceInstanceChange, PlanJsonError> {
    let address = item
        .get("address")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid(at, "address is missing"))?;
    let addr = ResourceInstance::parse(address).map_err(|e| invalid(at, &e.to_string()))?;
    let provider = item
        .get("provider_name")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let change = item
        .get("change")
        .ok_or_else(|| invalid(at, "change is missing"))?;
    let action = read_action(change, &format!("{at}.change"))?;
    let mut rc = ResourceInstanceChange {
        addr,
        prev_run_addr: None,
        deposed: item
            .get("deposed")
            .and_then(Json::as_str)
            .map(str::to_owned),
        provider,
        action,
        reason: item
            .get("action_reason")
            .and_then(Json::as_str)
            .map(ActionReason::from_json)
            .unwrap_or_default(),
        before: Value::null_dynamic(),
        after: Value::null_dynamic(),
        required_replace: read_paths(change.get("replace_paths")),
        importing: read_importing(change),
    };
    if let Some(prev) = item.get("previous_address").and_then(Json::as_str) {
        rc.prev_run_addr =
            Some(ResourceInstance::parse(prev).map_err(|e| invalid(at, &e.to_string()))?);
    }
    let block = lookup_schema(schemas, &rc).ok_or_else(|| PlanJsonError::MissingSchema {
        address: address.to_owned(),
        provider: rc.provider.clone(),
        resource_type: rc.resource_type().to_owned(),
    })?;
    let ty = block.implied_type();
    let value_error = |reason: String| PlanJsonError::Value {
        address: address.to_owned(),
        reason,
    };
    let before = decode(change.get("before"), None, &ty).map_err(value_error)?;
    let after =
        decode(change.get("after"), change.get("after_unknown"), &ty).map_err(value_error)?;
    rc.before = mark(before, change.get("before_sensitive"), Some(block));
    rc.after = mark(after, change.get("after_sensitive"), Some(block));
    Ok(rc)
}

fn read_output_change(name: &str, change: &Json, at: &str) -> Result<OutputChange, PlanJsonError> {
    let action = read_action(change, at)?;
    let err = |e: String| invalid(at, &e);
    let before = decode(change.get("before"), None, &Type::Dynamic).map_err(err)?;
    let after = decode(
        change.get("after"),
        change.get("after_unknown"),
        &Type::Dynamic,
    )
    .map_err(|e| invalid(at, &e))?;
    let flag = |key: &str| change.get(key).and_then(Json::as_bool).unwrap_or(false);
    Ok(OutputChange {
        name: name.to_owned(),
        action,
        before,
        after,
        sensitive: flag("before_sensitive") || flag("after_sensitive"),
    })
}

fn read_paths(paths: Option<&Json>) -> Vec<AttrPath> {
    let Some(Json::Array(paths)) = paths else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(Json::as_array)
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| match s {
                    Json::String(name) => Some(PathStep::Attr(name.clone())),
                    Json::Number(n) => n.as_u64().map(|i| PathStep::Index(i as usize)),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// A value of type `ty` from its JSON and the `after_unknown` mirror
/// (`true` where a value is unknown; unknown list elements are `null` in
/// the value, unknown set and tuple elements are left out of it).
fn decode(json: Option<&Json>, unknown: Option<&Json>, ty: &Type) -> Result<Value, String> {
    if unknown == Some(&Json::Bool(true)) {
        return Ok(Value::unknown(ty.clone()));
    }
    let json = json.unwrap_or(&Json::Null);
    if json.is_null() {
        return Ok(Value::null(ty.clone()));
    }
    let unknown_items = unknown.and_then(Json::as_array);
    let unknown_attrs = unknown.and_then(Json::as_object);
    match ty {
        Type::List(e) => {
            let items = json.as_array().ok_or("an array is required")?;
            let n = items.len().max(unknown_items.map_or(0, Vec::len));
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(decode(
                    items.get(i),
                    unknown_items.and_then(|u| u.get(i)),
                    e,
                )?);
            }
            Ok(Value::list((**e).clone(), out))
        }
        Type::Set(e) => {
            let items = json.as_array().ok_or("an array is required")?;
            let types = vec![(**e).clone(); items.len().max(unknown_items.map_or(0, Vec::len))];
            let out = decode_sparse(items, unknown_items, &types)?;
            Ok(Value::set((**e).clone(), out))
        }
        Type::Tuple(es) => {
            let items = json.as_array().ok_or("an array is required")?;
            Ok(Value::tuple(decode_sparse(items, unknown_items, es)?))
        }
        Type::Map(e) => {
            let m = json.as_object().ok_or("an object is required")?;
            let mut out = BTreeMap::new();
            for k in m
                .keys()
                .chain(unknown_attrs.into_iter().flat_map(Map::keys))
            {
                let u = unknown_attrs.and_then(|u| u.get(k));
                out.insert(k.clone(), decode(m.get(k), u, e)?);
            }
            Ok(Value::map((**e).clone(), out))
        }
        Type::Object { attrs, .. } => {
            let m = json.as_object().ok_or("an object is required")?;
            let mut out = BTreeMap::new();
            for (name, t) in attrs.iter() {
                let u = unknown_attrs.and_then(|u| u.get(name));
                out.insert(name.clone(), decode(m.get(name), u, t)?);
            }
            Ok(Value::object(out))
        }
        Type::Dynamic => Value::from_json(json, &Type::Dynamic).map_err(|e| e.to_string()),
        _ => Value::from_json(json, ty).map_err(|e| e.to_string()),
    }
}

/// Elements of a set or tuple whose wholly unknown elements were left out
/// of the JSON array; `types` has one type per element.
fn decode_sparse(
    items: &[Json],
    unknown: Option<&Vec<Json>>,
    types: &[Type],
) -> Result<Vec<Value>, String> {
    let mut out = Vec::with_capacity(types.len());
    let mut known = items.iter();
    for (i, t) in types.iter().enumerate() {
        let u = unknown.and_then(|u| u.get(i));
        if u == Some(&Json::Bool(true)) {
            out.push(Value::unknown(t.clone()));
        } else if let Some(j) = known.next() {
            out.push(decode(Some(j), u, t)?);
        }
    }
    Ok(out)
}

/// Puts sensitive marks where the `*_sensitive` mirror says `true`, except
/// on attributes `block` declares sensitive (those need no mark).
fn mark(value: Value, sensitive: Option<&Json>, block: Option<&Block>) -> Value {
    let Some(sensitive) = sensitive else {
        return value;
    };
    if sensitive == &Json::Bool(true) {
        return value.mark_sensitive();
    }
    let own = value.is_sensitive();
    let rebuilt = match value.into_data() {
        Data::List(t, items) => {
            let s = sensitive.as_array();
            Value::list(
                t,
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| mark(v, s.and_then(|s| s.get(i)), block))
                    .collect(),
            )
        }
        Data::Set(t, items) => {
            let s = sensitive.as_array();
            Value::set(
                t,
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| mark(v, s.and_then(|s| s.get(i)), block))
                    .collect(),
            )
        }
        Data::Tuple(items) => {
            let s = sensitive.as_array();
            Value::tuple(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| mark(v, s.and_then(|s| s.get(i)), None))
                    .collect(),
            )
        }
        Data::Map(t, items) => {
            let s = sensitive.as_object();
            Value::map(
                t,
                items
                    .into_iter()
                    .map(|(k, v)| {
                        let m = mark(v, s.and_then(|s| s.get(&k)), block);
                        (k, m)
                    })
                    .collect(),
            )
        }
        Data::Object(items) => {
            let s = sensitive.as_object();
            Value::object(
                items
                    .into_iter()
                    .map(|(k, v)| {
                        let sub = s.and_then(|s| s.get(&k));
                        let m = match block {
                            Some(b) => {
                                if b.attributes.get(&k).is_some_and(|a| a.sensitive) {
                                    v
                                } else if let Some(nb) = b.block_types.get(&k) {
                                    mark(v, sub, Some(&nb.block))
                                } else {
                                    mark(v, sub, None)
                                }
                            }
                            None => mark(v, sub, None),
                        };
                        (k, m)
                    })
                    .collect(),
            )
        }
        other => Value::from_data(other),
    };
    rebuilt.mark_sensitive_if(own)
}

// ---------------------------------------------------------------------------
// Writing

/// The parts of `show -json` that are not in a [`Plan`]: the prior state
/// (as `show -json` of a state prints its `values`-bearing document) and
/// the configuration. Each is written as given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonExtras {
    pub prior_state: Option<Json>,
    pub configuration: Option<Json>,
}

/// The plan as `terraform show -json` prints it. `terraform_version` names
/// the writer. Without [`JsonExtras`], `prior_state` and `configuration`
/// are left out (see [`plan_to_json_with`]).
pub fn plan_to_json(plan: &Plan, schemas: &Schemas, terraform_version: &str) -> Json {
    plan_to_json_with(plan, schemas, terraform_version, &JsonExtras::default())
}

/// [`plan_to_json`] with the prior state and configuration documents.
pub fn plan_to_json_with(
    plan: &Plan,
    schemas: &Schemas,
    terraform_version: &str,
    extras: &JsonExtras,
) -> Json {
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(FORMAT_VERSION));
    doc.insert("terraform_version".into(), json!(terraform_version));
    if !plan.variables.is_empty() {
        let vars: Map<String, Json> = plan
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "value": known_json(v) })))
            .collect();
        doc.insert("variables".into(), Json::Object(vars));
    }
    doc.insert("planned_values".into(), planned_values(plan, schemas));
    let drift: Vec<Json> = sorted_by_address(&plan.drift)
        .into_iter()
        .map(|rc| resource_change_json(rc, schemas, true))
        .collect();
    if !drift.is_empty() {
        doc.insert("resource_drift".into(), Json::Array(drift));
    }
    let changes: Vec<Json> = sorted_by_address(&plan.changes)
        .into_iter()
        .filter(|rc| !(rc.mode() == ResourceMode::Data && rc.action == Action::Delete))
        .map(|rc| resource_change_json(rc, schemas, false))
        .collect();
    if !changes.is_empty() {
        doc.insert("resource_changes".into(), Json::Array(changes));
    }
    if !plan.output_changes.is_empty() {
        let outputs: Map<String, Json> = plan
            .output_changes
            .iter()
            .map(|(name, oc)| (name.clone(), output_change_json(oc)))
            .collect();
        doc.insert("output_changes".into(), Json::Object(outputs));
    }
    if let Some(state) = &extras.prior_state {
        doc.insert("prior_state".into(), state.clone());
    }
    if let Some(config) = &extras.configuration {
        doc.insert("configuration".into(), config.clone());
    }
    if plan.errored {
        doc.insert("errored".into(), json!(true));
    }
    Json::Object(doc)
}

fn sorted_by_address(changes: &[ResourceInstanceChange]) -> Vec<&ResourceInstanceChange> {
    let mut out: Vec<&ResourceInstanceChange> = changes.iter().collect();
    out.sort_by_key(|rc| rc.addr.to_string());
    out
}

/// A wholly known value as JSON (unknown parts left out, as Terraform's
/// `omitUnknowns` does).
fn known_json(v: &Value) -> Json {
    omit_unknowns(v).unwrap_or(Json::Null)
}

fn omit_unknowns(v: &Value) -> Option<Json> {
    match v.data() {
        Data::Null(_) => Some(Json::Null),
        Data::Unknown(_) => None,
        Data::List(_, items) => Some(Json::Array(
            items
                .iter()
                .map(|i| omit_unknowns(i).unwrap_or(Json::Null))
                .collect(),
        )),
        Data::Set(_, items) | Data::Tuple(items) => Some(Json::Array(
            items.iter().filter_map(omit_unknowns).collect(),
        )),
        Data::Map(_, items) | Data::Object(items) => Some(Json::Object(
            items
                .iter()
                .filter_map(|(k, i)| omit_unknowns(i).map(|j| (k.clone(), j)))
                .collect(),
        )),
        _ => Some(v.clone().unmark_deep().to_json().unwrap_or(Json::Null)),
    }
}

/// `unknownAsBool`: `true` for unknown leaves, known leaves `false` in
/// sequences and left out of objects.
fn unknown_as_bool(v: &Value) -> Json {
    match v.data() {
        Data::Null(_) => json!(false),
        Data::Unknown(_) => json!(true),
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            Json::Array(items.iter().map(unknown_as_bool).collect())
        }
        Data::Map(_, items) | Data::Object(items) => Json::Object(
            items
                .iter()
                .map(|(k, i)| (k.clone(), unknown_as_bool(i)))
                .filter(|(_, j)| *j != json!(false))
                .collect(),
        ),
        _ => json!(false),
    }
}

/// `SensitiveAsBool` over the value's marks plus the attributes `block`
/// declares sensitive.
fn sensitive_as_bool(v: &Value, block: Option<&Block>) -> Json {
    if v.is_sensitive() {
        return json!(true);
    }
    match v.data() {
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            Json::Array(items.iter().map(|i| sensitive_as_bool(i, block)).collect())
        }
        Data::Map(_, items) => Json::Object(
            items
                .iter()
                .map(|(k, i)| (k.clone(), sensitive_as_bool(i, block)))
                .filter(|(_, j)| *j != json!(false))
                .collect(),
        ),
        Data::Object(items) => Json::Object(
            items
                .iter()
                .map(|(k, i)| {
                    let j = match block {
                        Some(b) if b.attributes.get(k).is_some_and(|a| a.sensitive) => {
                            json!(true)
                        }
                        Some(b) => match b.block_types.get(k) {
                            Some(nb) if nb.nesting != Nesting::Set => {
                                sensitive_as_bool(i, Some(&nb.block))
                            }
                            _ => sensitive_as_bool(i, None),
                        },
                        None => sensitive_as_bool(i, None),
                    };
                    (k.clone(), j)
                })
                .filter(|(_, j)| *j != json!(false))
                .collect(),
        ),
        Data::Unknown(Type::List(_) | Type::Set(_) | Type::Tuple(_)) => json!([]),
        Data::Unknown(Type::Map(_) | Type::Object { .. }) => json!({}),
        _ => json!(false),
    }
}

/// The mirror of a resource object's sensitivity: schema-sensitive
/// attributes are `true` even when null, as Terraform marks them by path.
fn object_sensitivity(v: &Value, block: Option<&Block>) -> Json {
    if v.is_null() {
        return json!(false);
    }
    sensitive_as_bool(v, block)
}

fn address_fields(out: &mut Map<String, Json>, rc: &ResourceInstanceChange, with_module: bool) {
    out.insert("address".into(), json!(rc.addr.to_string()));
    if with_module && !rc.addr.module.is_root() {
        out.insert("module_address".into(), json!(rc.addr.module.to_string()));
    }
    out.insert(
        "mode".into(),
        json!(match rc.mode() {
            ResourceMode::Managed => "managed",
            ResourceMode::Data => "data",
        }),
    );
    out.insert("type".into(), json!(rc.resource_type()));
    out.insert("name".into(), json!(rc.addr.resource.name));
    match &rc.addr.key {
        InstanceKey::None => {}
        InstanceKey::Int(i) => {
            out.insert("index".into(), json!(i));
        }
        InstanceKey::Str(s) => {
            out.insert("index".into(), json!(s));
        }
    }
    out.insert("provider_name".into(), json!(rc.provider));
}

/// The import ID of a change's `importing` object. An `importing` object
/// without an ID (a later Terraform may drop it) still marks an import.
fn read_importing(change: &Json) -> Option<String> {
    let importing = change.get("importing")?;
    Some(
        importing
            .get("id")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
    )
}

fn resource_change_json(rc: &ResourceInstanceChange, schemas: &Schemas, drift: bool) -> Json {
    // Terraform adds schema sensitivity to planned changes only; drift
    // carries the marks of the state values alone.
    let block = if drift {
        None
    } else {
        lookup_schema(schemas, rc)
    };
    let mut out = Map::new();
    address_fields(&mut out, rc, true);
    if let Some(d) = &rc.deposed {
        out.insert("deposed".into(), json!(d));
    }
    let mut change = Map::new();
    change.insert("actions".into(), json!(rc.action.json_actions()));
    change.insert("before".into(), known_json(&rc.before));
    if rc.after.is_wholly_known() {
        change.insert("after".into(), known_json(&rc.after));
        if !drift {
            change.insert("after_unknown".into(), json!({}));
        }
    } else {
        if let Some(j) = omit_unknowns(&rc.after).filter(|j| !j.is_null()) {
            change.insert("after".into(), j);
        }
        change.insert("after_unknown".into(), unknown_as_bool(&rc.after));
    }
    change.insert(
        "before_sensitive".into(),
        object_sensitivity(&rc.before, block),
    );
    change.insert(
        "after_sensitive".into(),
        object_sensitivity(&rc.after, block),
    );
    if !rc.required_replace.is_empty() {
        let paths: Vec<Json> = rc
            .required_replace
            .iter()
            .map(|p| {
                Json::Array(
                    p.iter()
                        .map(|s| match s {
                            PathStep::Attr(a) | PathStep::Key(a) => json!(a),
                            PathStep::Index(i) => json!(i),
                        })
                        .collect(),
                )
            })
            .collect();
        change.insert("replace_paths".into(), Json::Array(paths));
    }
    if let Some(id) = &rc.importing {
        change.insert("importing".into(), json!({ "id": id }));
    }
    out.insert("change".into(), Json::Object(change));
    if let Some(reason) = rc.reason.as_json() {
        out.insert("action_reason".into(), json!(reason));
    }
    Json::Object(out)
}

fn output_change_json(oc: &OutputChange) -> Json {
    let mut change = Map::new();
    change.insert("actions".into(), json!(oc.action.json_actions()));
    change.insert("before".into(), known_json(&oc.before));
    let unknown = !oc.after.is_wholly_known();
    if !unknown {
        change.insert("after".into(), known_json(&oc.after));
    }
    change.insert("after_unknown".into(), json!(unknown));
    change.insert("before_sensitive".into(), json!(oc.sensitive));
    change.insert("after_sensitive".into(), json!(oc.sensitive));
    Json::Object(change)
}

/// `planned_values`: the objects as they will be after apply (deleted and
/// deposed ones left out) and the outputs.
fn planned_values(plan: &Plan, schemas: &Schemas) -> Json {
    let mut outputs = Map::new();
    for (name, oc) in &plan.output_changes {
        if oc.action == Action::Delete {
            continue;
        }
        let mut o = Map::new();
        o.insert("sensitive".into(), json!(oc.sensitive));
        if oc.after.is_wholly_known() {
            o.insert("value".into(), known_json(&oc.after));
        }
        outputs.insert(name.clone(), Json::Object(o));
    }
    // Resources grouped by module instance, modules in address order.
    let mut modules: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for rc in sorted_by_address(&plan.changes) {
        if rc.action == Action::Delete || rc.deposed.is_some() {
            continue;
        }
        let mut r = Map::new();
        address_fields(&mut r, rc, false);
        let version = schemas
            .provider(&rc.provider)
            .and_then(|p| match rc.mode() {
                ResourceMode::Managed => p.resources.get(rc.resource_type()),
                ResourceMode::Data => p.data_sources.get(rc.resource_type()),
            })
            .map_or(0, |s| s.version);
        r.insert("schema_version".into(), json!(version));
        // An empty attribute map is left out, as Terraform's omitempty does.
        let values = omit_unknowns(&rc.after)
            .filter(|j| !j.is_null() && j.as_object().is_none_or(|m| !m.is_empty()));
        if let Some(values) = values {
            r.insert("values".into(), values);
        }
        // Only value marks: Terraform leaves schema sensitivity out here.
        r.insert(
            "sensitive_values".into(),
            sensitive_as_bool(&rc.after, None),
        );
        modules
            .entry(rc.addr.module.to_string())
            .or_default()
            .push(Json::Object(r));
    }
    let mut root = Map::new();
    if let Some(resources) = modules.remove("") {
        root.insert("resources".into(), Json::Array(resources));
    }
    let children: Vec<Json> = modules
        .into_iter()
        .map(|(address, resources)| {
            let mut m = Map::new();
            m.insert("resources".into(), Json::Array(resources));
            m.insert("address".into(), json!(address));
            Json::Object(m)
        })
        .collect();
    if !children.is_empty() {
        root.insert("child_modules".into(), Json::Array(children));
    }
    let mut pv = Map::new();
    if !outputs.is_empty() {
        pv.insert("outputs".into(), Json::Object(outputs));
    }
    pv.insert("root_module".into(), Json::Object(root));
    Json::Object(pv)
}

// ---------------------------------------------------------------------------
// The lossless encoding of a saved plan

/// The version of meshform's own plan encoding ([`plan_to_saved_json`]).
pub const SAVED_FORMAT_VERSION: u64 = 1;

/// The plan in meshform's own JSON encoding: every value keeps its type,
/// unknown parts, sensitive marks and every digit, so a saved plan reads
/// back equal and renders exactly as it did when it was made. Unlike
/// [`plan_to_json`] it needs no schemas.
pub fn plan_to_saved_json(plan: &Plan) -> Json {
    let change = |rc: &ResourceInstanceChange| {
        let mut m = Map::new();
        m.insert("address".into(), json!(rc.addr.to_string()));
        if let Some(prev) = &rc.prev_run_addr {
            m.insert("previous_address".into(), json!(prev.to_string()));
        }
        if let Some(d) = &rc.deposed {
            m.insert("deposed".into(), json!(d));
        }
        m.insert("provider".into(), json!(rc.provider));
        m.insert("actions".into(), json!(rc.action.json_actions()));
        if let Some(reason) = rc.reason.as_json() {
            m.insert("action_reason".into(), json!(reason));
        }
        m.insert("before".into(), value_to_saved_json(&rc.before));
        m.insert("after".into(), value_to_saved_json(&rc.after));
        let paths: Vec<Json> = rc
            .required_replace
            .iter()
            .map(|p| Json::Array(p.iter().map(path_step_json).collect()))
            .collect();
        m.insert("replace_paths".into(), Json::Array(paths));
        if let Some(id) = &rc.importing {
            m.insert("importing".into(), json!({ "id": id }));
        }
        Json::Object(m)
    };
    let outputs: Map<String, Json> = plan
        .output_changes
        .iter()
        .map(|(name, oc)| {
            (
                name.clone(),
                json!({
                    "actions": oc.action.json_actions(),
                    "before": value_to_saved_json(&oc.before),
                    "after": value_to_saved_json(&oc.after),
                    "sensitive": oc.sensitive,
                }),
            )
        })
        .collect();
    let variables: Map<String, Json> = plan
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), value_to_saved_json(v)))
        .collect();
    json!({
        "meshform_plan_version": SAVED_FORMAT_VERSION,
        "mode": match plan.mode {
            crate::plan::PlanMode::Normal => "normal",
            crate::plan::PlanMode::Destroy => "destroy",
            crate::plan::PlanMode::RefreshOnly => "refresh-only",
        },
        "errored": plan.errored,
        "timestamp": plan.timestamp,
        "variables": variables,
        "resource_changes": plan.changes.iter().map(change).collect::<Vec<_>>(),
        "resource_drift": plan.drift.iter().map(change).collect::<Vec<_>>(),
        "output_changes": outputs,
    })
}

/// Reads [`plan_to_saved_json`]'s encoding.
pub fn plan_from_saved_json(doc: &Json) -> Result<Plan, PlanJsonError> {
    let version = doc.get("meshform_plan_version").and_then(Json::as_u64);
    if version != Some(SAVED_FORMAT_VERSION) {
        return Err(invalid(
            "$.meshform_plan_version",
            "not a plan in meshform's encoding version 1",
        ));
    }
    let mode = match doc.get("mode").and_then(Json::as_str) {
        Some("normal") => crate::plan::PlanMode::Normal,
        Some("destroy") => crate::plan::PlanMode::Destroy,
        Some("refresh-only") => crate::plan::PlanMode::RefreshOnly,
        _ => return Err(invalid("$.mode", "unknown plan mode")),
    };
    let read_change = |j: &Json, at: &str| -> Result<ResourceInstanceChange, PlanJsonError> {
        let addr_of = |key: &str| -> Result<Option<ResourceInstance>, PlanJsonError> {
            j.get(key)
                .and_then(Json::as_str)
                .map(|a| ResourceInstance::parse(a).map_err(|e| invalid(at, &e.to_string())))
                .transpose()
        };
        Ok(ResourceInstanceChange {
            addr: addr_of("address")?.ok_or_else(|| invalid(at, "address is missing"))?,
            prev_run_addr: addr_of("previous_address")?,
            deposed: j.get("deposed").and_then(Json::as_str).map(str::to_owned),
            provider: j
                .get("provider")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            action: read_action(j, at)?,
            reason: j
                .get("action_reason")
                .and_then(Json::as_str)
                .map(ActionReason::from_json)
                .unwrap_or_default(),
            before: value_from_saved_json(j.get("before").unwrap_or(&Json::Null))
                .map_err(|e| invalid(&format!("{at}.before"), &e))?,
            after: value_from_saved_json(j.get("after").unwrap_or(&Json::Null))
                .map_err(|e| invalid(&format!("{at}.after"), &e))?,
            required_replace: j
                .get("replace_paths")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_array()
                        .into_iter()
                        .flatten()
                        .map(path_step_from_json)
                        .collect::<Option<AttrPath>>()
                        .ok_or_else(|| invalid(at, "a replace path step is malformed"))
                })
                .collect::<Result<_, _>>()?,
            importing: read_importing(j),
        })
    };
    let mut plan = Plan {
        mode,
        errored: doc.get("errored").and_then(Json::as_bool).unwrap_or(false),
        timestamp: doc
            .get("timestamp")
            .and_then(Json::as_str)
            .map(str::to_owned),
        ..Plan::default()
    };
    for (key, list) in [
        ("resource_changes", &mut plan.changes),
        ("resource_drift", &mut plan.drift),
    ] {
        for (i, j) in doc
            .get(key)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            list.push(read_change(j, &format!("$.{key}[{i}]"))?);
        }
    }
    for (name, j) in doc
        .get("output_changes")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        let at = format!("$.output_changes.{name}");
        let value = |key: &str| {
            value_from_saved_json(j.get(key).unwrap_or(&Json::Null))
                .map_err(|e| invalid(&format!("{at}.{key}"), &e))
        };
        plan.output_changes.insert(
            name.clone(),
            OutputChange {
                name: name.clone(),
                action: read_action(j, &at)?,
                before: value("before")?,
                after: value("after")?,
                sensitive: j.get("sensitive").and_then(Json::as_bool).unwrap_or(false),
            },
        );
    }
    for (name, j) in doc
        .get("variables")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        let v =
            value_from_saved_json(j).map_err(|e| invalid(&format!("$.variables.{name}"), &e))?;
        plan.variables.insert(name.clone(), v);
    }
    Ok(plan)
}

fn path_step_json(s: &PathStep) -> Json {
    match s {
        PathStep::Attr(a) => json!({ "attr": a }),
        PathStep::Key(k) => json!({ "key": k }),
        PathStep::Index(i) => json!({ "index": i }),
    }
}

fn path_step_from_json(j: &Json) -> Option<PathStep> {
    if let Some(a) = j.get("attr").and_then(Json::as_str) {
        return Some(PathStep::Attr(a.to_owned()));
    }
    if let Some(k) = j.get("key").and_then(Json::as_str) {
        return Some(PathStep::Key(k.to_owned()));
    }
    j.get("index")
        .and_then(Json::as_u64)
        .map(|i| PathStep::Index(i as usize))
}

/// A value as self-describing JSON: one object per value naming its kind,
/// with types in cty's JSON encoding, numbers as decimal text and the
/// sensitive mark as `"sensitive": true`.
pub fn value_to_saved_json(v: &Value) -> Json {
    let mut m = Map::new();
    match v.data() {
        Data::Null(t) => {
            m.insert("null".into(), t.to_cty_json());
        }
        Data::Unknown(t) => {
            m.insert("unknown".into(), t.to_cty_json());
        }
        Data::String(s) => {
            m.insert("string".into(), json!(s));
        }
        Data::Number(n) => {
            m.insert("number".into(), json!(n.to_text()));
        }
        Data::Bool(b) => {
            m.insert("bool".into(), json!(b));
        }
        Data::List(t, items) | Data::Set(t, items) => {
            let kind = if matches!(v.data(), Data::List(..)) {
                "list"
            } else {
                "set"
            };
            m.insert(
                kind.into(),
                Json::Array(items.iter().map(value_to_saved_json).collect()),
            );
            m.insert("element_type".into(), t.to_cty_json());
        }
        Data::Map(t, items) => {
            let entries: Map<String, Json> = items
                .iter()
                .map(|(k, i)| (k.clone(), value_to_saved_json(i)))
                .collect();
            m.insert("map".into(), Json::Object(entries));
            m.insert("element_type".into(), t.to_cty_json());
        }
        Data::Tuple(items) => {
            m.insert(
                "tuple".into(),
                Json::Array(items.iter().map(value_to_saved_json).collect()),
            );
        }
        Data::Object(attrs) => {
            let entries: Map<String, Json> = attrs
                .iter()
                .map(|(k, i)| (k.clone(), value_to_saved_json(i)))
                .collect();
            m.insert("object".into(), Json::Object(entries));
        }
    }
    if v.is_sensitive() {
        m.insert("sensitive".into(), json!(true));
    }
    Json::Object(m)
}

/// Reads [`value_to_saved_json`]'s encoding.
pub fn value_from_saved_json(j: &Json) -> Result<Value, String> {
    let obj = j.as_object().ok_or("a value must be an object")?;
    let ty = |key: &str| -> Result<Type, String> {
        Type::from_cty_json(obj.get(key).unwrap_or(&Json::Null)).map_err(|e| e.to_string())
    };
    let items = |key: &str| -> Result<Vec<Value>, String> {
        obj.get(key)
            .and_then(Json::as_array)
            .ok_or_else(|| format!("{key} must be an array"))?
            .iter()
            .map(value_from_saved_json)
            .collect()
    };
    let entries = |key: &str| -> Result<BTreeMap<String, Value>, String> {
        obj.get(key)
            .and_then(Json::as_object)
            .ok_or_else(|| format!("{key} must be an object"))?
            .iter()
            .map(|(k, v)| Ok((k.clone(), value_from_saved_json(v)?)))
            .collect()
    };
    let value = if obj.contains_key("null") {
        Value::null(ty("null")?)
    } else if obj.contains_key("unknown") {
        Value::unknown(ty("unknown")?)
    } else if let Some(s) = obj.get("string") {
        Value::string(s.as_str().ok_or("string must be text")?)
    } else if let Some(n) = obj.get("number") {
        let text = n.as_str().ok_or("number must be decimal text")?;
        Value::number(meshform_lang::Number::parse(text).map_err(|_| "number is malformed")?)
    } else if let Some(b) = obj.get("bool") {
        Value::bool(b.as_bool().ok_or("bool must be true or false")?)
    } else if obj.contains_key("list") {
        Value::list(ty("element_type")?, items("list")?)
    } else if obj.contains_key("set") {
        // Elements were written in set order, each unknown one kept: the
        // set is taken as it was.
        Value::from_data(Data::Set(ty("element_type")?, items("set")?))
    } else if obj.contains_key("map") {
        Value::map(ty("element_type")?, entries("map")?)
    } else if obj.contains_key("tuple") {
        Value::tuple(items("tuple")?)
    } else if obj.contains_key("object") {
        Value::object(entries("object")?)
    } else {
        return Err("the value names no kind".to_owned());
    };
    let sensitive = obj.get("sensitive").and_then(Json::as_bool) == Some(true);
    Ok(value.mark_sensitive_if(sensitive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_decode(json: Json, unknown: Json, ty: Type, expected: Value) {
        let got = decode(Some(&json), Some(&unknown), &ty).unwrap();
        assert_eq!(got, expected);
    }

    #[test]
    fn unknown_parts_come_back_where_after_unknown_says() {
        // A list keeps a null in the unknown element's place.
        check_decode(
            json!([null, "static"]),
            json!([true, false]),
            Type::list(Type::String),
            Value::list(
                Type::String,
                vec![Value::unknown(Type::String), Value::string("static")],
            ),
        );
        // A set leaves unknown elements out of the value; they sort last.
        check_decode(
            json!(["a"]),
            json!([false, true]),
            Type::set(Type::String),
            Value::from_data(Data::Set(
                Type::String,
                vec![Value::string("a"), Value::unknown(Type::String)],
            )),
        );
        // A map key that only after_unknown names is an unknown element.
        check_decode(
            json!({}),
            json!({"parent": true}),
            Type::map(Type::String),
            Value::map(
                Type::String,
                [("parent".to_owned(), Value::unknown(Type::String))].into(),
            ),
        );
    }

    #[test]
    fn schema_sensitive_attributes_get_no_mark() {
        let block: Block = Block::from_json_value(
            &json!({"attributes": {
                "password": {"type": "string", "sensitive": true, "optional": true},
                "name": {"type": "string", "optional": true},
            }}),
            "$",
        )
        .unwrap();
        let v = Value::object(
            [
                ("password".to_owned(), Value::string("p")),
                ("name".to_owned(), Value::string("n")),
            ]
            .into(),
        );
        let marked = mark(
            v,
            Some(&json!({"password": true, "name": true})),
            Some(&block),
        );
        assert!(!marked.get_attr("password").unwrap().is_sensitive());
        assert!(marked.get_attr("name").unwrap().is_sensitive());
        // Written back, both read as sensitive again.
        assert_eq!(
            object_sensitivity(&marked, Some(&block)),
            json!({"name": true, "password": true})
        );
    }

    #[test]
    fn saved_values_keep_every_digit_and_mark() {
        let third = meshform_lang::Number::parse("1")
            .unwrap()
            .div(&meshform_lang::Number::parse("3").unwrap())
            .unwrap();
        let v = Value::object(
            [
                ("n".to_owned(), Value::number(third)),
                ("s".to_owned(), Value::string("x").mark_sensitive()),
                ("u".to_owned(), Value::unknown(Type::list(Type::Bool))),
            ]
            .into(),
        );
        let back = value_from_saved_json(&value_to_saved_json(&v)).unwrap();
        assert_eq!(back, v);
        assert!(value_from_saved_json(&json!({"nothing": 1})).is_err());
    }
}

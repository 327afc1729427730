//! Konnect resources on the wire: Terraform values to request bodies and
//! responses back to Terraform values, driven by the generated tables
//! (JSON member names, path parameters, oneOf unions), and the create /
//! read / update / delete / import operations.

use std::collections::BTreeMap;

use meshform_lang::schema::{Attribute, AttributeType, Nesting};
use meshform_lang::{Diagnostic, Diagnostics, Type, Value};
use serde_json::{json, Map, Value as Json};

use super::client::{KonnectClient, KonnectError, Response};
use super::tables::{ImportFormat, Operation, ResourceTable, WireName};

fn fail(e: KonnectError) -> Diagnostics {
    e.to_diagnostic().into()
}

fn invalid(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail).into()
}

/// The URL path of an operation for the object `state`.
pub fn operation_path(
    table: &ResourceTable,
    op: &Operation,
    state: &Value,
) -> Result<String, Diagnostics> {
    let mut path = op.path.clone();
    for (param, attribute) in &table.api.path_params {
        let placeholder = format!("{{{param}}}");
        if !path.contains(&placeholder) {
            continue;
        }
        let value = state
            .get_attr(attribute)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    "Missing resource identity",
                    format!(
                        "{} needs a known {attribute} to call {} {}.",
                        table.resource_type, op.method, op.path
                    ),
                )
            })?;
        path = path.replace(&placeholder, &encode_segment(value));
    }
    Ok(path)
}

/// Percent-encodes one URL path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- Terraform value → request body -------------------------------------

/// The request body for an object, with the providers' hidden defaults:
/// a control plane is created with both features disabled, a mesh with
/// `skipCreatingInitialPolicies: ["*"]`.
pub fn request_body(table: &ResourceTable, value: &Value, creating: bool) -> Json {
    let mut body = encode_attrs(table, &table.schema.block.attributes, value, "");
    match table.resource_type.as_str() {
        "konnect_mesh_control_plane" => {
            if creating {
                body.entry("features").or_insert_with(|| {
                    json!([
                        {"type": "MeshCreation", "meshCreation": {"enabled": false}},
                        {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": false}}
                    ])
                });
            } else {
                // Features are fixed at creation.
                body.remove("features");
            }
        }
        "konnect_mesh" => {
            body.entry("skipCreatingInitialPolicies")
                .or_insert_with(|| json!(["*"]));
        }
        "konnect_system_account" if !creating => {
            body.remove("konnect_managed");
        }
        "konnect_system_account_access_token" if !creating => {
            body.remove("expires_at");
        }
        _ => {}
    }
    Json::Object(body)
}

fn encode_attrs(
    table: &ResourceTable,
    attrs: &BTreeMap<String, Attribute>,
    value: &Value,
    prefix: &str,
) -> Map<String, Json> {
    let mut out = Map::new();
    for (name, attr) in attrs {
        // What only the server decides is never sent.
        if attr.computed && !attr.optional {
            continue;
        }
        let dotted = join(prefix, name);
        let Some(info) = table.attr(&dotted) else {
            continue;
        };
        let WireName::Member(member) = &info.wire else {
            continue;
        };
        let Some(v) = value.get_attr(name) else {
            continue;
        };
        if let Some(json) = encode_value(table, attr, v, &dotted) {
            out.insert(member.clone(), json);
        }
    }
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn encode_value(table: &ResourceTable, attr: &Attribute, v: &Value, dotted: &str) -> Option<Json> {
    if v.is_null() || !v.is_wholly_known() {
        return None;
    }
    let union = table.attr(dotted).is_some_and(|i| i.union);
    match &attr.ty {
        AttributeType::Nested(n) if union => {
            // The set alternative's value goes where the union is.
            n.attributes.iter().find_map(|(name, member)| {
                let mv = v.get_attr(name)?;
                encode_value(table, member, mv, &join(dotted, name))
            })
        }
        AttributeType::Nested(n) => match n.nesting {
            Nesting::Single | Nesting::Group => {
                Some(Json::Object(encode_attrs(table, &n.attributes, v, dotted)))
            }
            _ => Some(Json::Array(
                v.as_elements()?
                    .iter()
                    .map(|e| Json::Object(encode_attrs(table, &n.attributes, e, dotted)))
                    .collect(),
            )),
        },
        AttributeType::Type(_) => v.clone().unmark_deep().to_json().ok(),
    }
}

// ---- response → Terraform value -----------------------------------------

/// Which `kuma.io/*` labels that Kuma adds by itself a decoded object keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerLabels {
    /// Only those the reference value has: after a create, update or
    /// refresh the reference holds what the configuration asked for.
    Referenced,
    /// All of them: an import has no configuration yet, and what the server
    /// reports is all it can know. The next refresh narrows them again.
    All,
}

/// The Terraform object for a response body. `base` is the object the
/// response answers for (planned or prior state): it supplies what the
/// body does not carry (path parameters, the token only a create
/// returns) and decides which server-added labels are kept.
pub fn state_from_body(table: &ResourceTable, body: &Json, base: &Value) -> Value {
    decode_body(table, body, base, ServerLabels::Referenced)
}

fn decode_body(
    table: &ResourceTable,
    body: &Json,
    base: &Value,
    server_labels: ServerLabels,
) -> Value {
    let decoded = decode_attrs(
        table,
        &table.schema.block.attributes,
        body.as_object(),
        base,
        "",
    );
    reconcile(table, decoded, base, server_labels)
}

fn decode_attrs(
    table: &ResourceTable,
    attrs: &BTreeMap<String, Attribute>,
    body: Option<&Map<String, Json>>,
    base: &Value,
    prefix: &str,
) -> Value {
    let mut out = BTreeMap::new();
    for (name, attr) in attrs {
        let dotted = join(prefix, name);
        let base_v = base
            .get_attr(name)
            .cloned()
            .unwrap_or_else(|| Value::null(attr.implied_type()));
        let wire = table
            .attr(&dotted)
            .map(|i| i.wire.clone())
            .unwrap_or_default();
        let v = match wire {
            WireName::Member(member) => match body.and_then(|b| b.get(&member)) {
                Some(j) if !j.is_null() => decode_value(table, attr, j, &base_v, &dotted),
                // A computed value the response does not carry (the token
                // after its creation) stays as it was.
                _ if attr.computed && !attr.optional && base_v.is_known() => base_v,
                _ => Value::null(attr.implied_type()),
            },
            WireName::PathParam(_) | WireName::None => {
                if base_v.is_known() {
                    base_v
                } else {
                    Value::null(attr.implied_type())
                }
            }
        };
        out.insert(name.clone(), v);
    }
    Value::object(out)
}

fn decode_value(
    table: &ResourceTable,
    attr: &Attribute,
    j: &Json,
    base: &Value,
    dotted: &str,
) -> Value {
    let union = table.attr(dotted).is_some_and(|i| i.union);
    match &attr.ty {
        AttributeType::Nested(n) if union => {
            let chosen = choose_member(table, &n.attributes, j, dotted);
            let mut out = BTreeMap::new();
            for (name, member) in &n.attributes {
                let v = if Some(name.as_str()) == chosen.as_deref() {
                    let base_m = base
                        .get_attr(name)
                        .cloned()
                        .unwrap_or_else(|| Value::null(member.implied_type()));
                    decode_value(table, member, j, &base_m, &join(dotted, name))
                } else {
                    Value::null(member.implied_type())
                };
                out.insert(name.clone(), v);
            }
            Value::object(out)
        }
        AttributeType::Nested(n) => match n.nesting {
            Nesting::Single | Nesting::Group => {
                decode_attrs(table, &n.attributes, j.as_object(), base, dotted)
            }
            _ => {
                let Some(items) = j.as_array() else {
                    return Value::null(attr.implied_type());
                };
                let bases = base.as_elements().unwrap_or(&[]);
                let elem_ty = match attr.implied_type() {
                    Type::List(t) | Type::Set(t) | Type::Map(t) => (*t).clone(),
                    other => other,
                };
                let values: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let b = bases
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| Value::null(elem_ty.clone()));
                        decode_attrs(table, &n.attributes, item.as_object(), &b, dotted)
                    })
                    .collect();
                match n.nesting {
                    Nesting::Set => Value::set(elem_ty, values),
                    _ => Value::list(elem_ty, values),
                }
            }
        },
        AttributeType::Type(ty) => {
            let j = match (ty, j) {
                // Kuma sends some numbers as strings and the reverse.
                (Type::String, Json::Number(n)) => Json::String(n.to_string()),
                (Type::String, Json::Bool(b)) => Json::String(b.to_string()),
                _ => j.clone(),
            };
            Value::from_json(&j, ty).unwrap_or_else(|_| Value::null(ty.clone()))
        }
    }
}

/// Which alternative of a union a JSON value is: `str`/`integer` by the
/// JSON kind, object alternatives by the most member names in common.
fn choose_member(
    table: &ResourceTable,
    members: &BTreeMap<String, Attribute>,
    j: &Json,
    dotted: &str,
) -> Option<String> {
    match j {
        Json::String(_) if members.contains_key("str") => return Some("str".into()),
        Json::Number(_) if members.contains_key("integer") => return Some("integer".into()),
        _ => {}
    }
    let keys: Vec<&String> = j.as_object()?.keys().collect();
    members
        .iter()
        .filter_map(|(name, member)| {
            let AttributeType::Nested(n) = &member.ty else {
                return None;
            };
            let prefix = join(dotted, name);
            let score = n
                .attributes
                .keys()
                .filter(|a| match table.attr(&join(&prefix, a)).map(|i| &i.wire) {
                    Some(WireName::Member(m)) => keys.contains(&m),
                    _ => false,
                })
                .count();
            Some((score, name.clone()))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, name)| name)
}

/// JSON with every null member and empty object dropped, so that a value
/// the user wrote with explicit nulls compares equal to the server's.
fn normalised(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalised(v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(normalised).collect()),
        other => other.clone(),
    }
}

/// Keeps the reference value of every attribute whose server value means
/// the same, so that an apply or refresh shows no spurious change; drops
/// `kuma.io/*` labels the server added that the reference did not have
/// (unless `server_labels` says to keep them all).
fn reconcile(
    table: &ResourceTable,
    decoded: Value,
    reference: &Value,
    server_labels: ServerLabels,
) -> Value {
    let Some(entries) = decoded.as_entries() else {
        return decoded;
    };
    let mut out = entries.clone();
    for (name, v) in out.iter_mut() {
        let Some(r) = reference.get_attr(name) else {
            continue;
        };
        if name == "labels"
            && table.api.kuma_type.is_some()
            && server_labels == ServerLabels::Referenced
        {
            *v = without_server_labels(v, r);
        }
        if !r.is_wholly_known() || r.is_null() {
            continue;
        }
        let same = match (
            v.clone().unmark_deep().to_json(),
            r.clone().unmark_deep().to_json(),
        ) {
            (Ok(a), Ok(b)) => normalised(&a) == normalised(&b),
            _ => false,
        };
        // Timestamps compare as instants: a server that writes `+00:00`
        // for `Z`, or adds a fraction of zero, changed nothing.
        let same_instant = || match (v.as_str(), r.as_str()) {
            (Some(a), Some(b)) => matches!(
                (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)),
                (Ok(x), Ok(y)) if x == y
            ),
            _ => false,
        };
        if same || same_instant() {
            *v = r.clone();
        }
    }
    Value::object(out)
}

fn without_server_labels(server: &Value, reference: &Value) -> Value {
    let Some(labels) = server.as_entries() else {
        return server.clone();
    };
    let kept: BTreeMap<String, Value> = labels
        .iter()
        .filter(|(k, _)| !k.starts_with("kuma.io/") || reference.get_attr(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kept.is_empty() && reference.is_null() {
        return Value::null(Type::map(Type::String));
    }
    Value::map(Type::String, kept)
}

// ---- operations --------------------------------------------------------------

fn no_retry(_: &KonnectError) -> bool {
    false
}

fn retry_not_found(e: &KonnectError) -> bool {
    e.status() == Some(404)
}

fn retry_zone_online(e: &KonnectError) -> bool {
    matches!(e, KonnectError::Api { status: 400, problem, .. }
        if problem.detail.contains("still online") || problem.title.contains("still online"))
}

async fn call(
    client: &KonnectClient,
    table: &ResourceTable,
    op: &Operation,
    state: &Value,
    body: Option<&Json>,
    retry: &(dyn Fn(&KonnectError) -> bool + Sync),
) -> Result<Response, KonnectError> {
    let path = operation_path(table, op, state).map_err(|d| KonnectError::MissingIdentity {
        detail: d
            .iter()
            .map(|x| x.detail.clone())
            .collect::<Vec<_>>()
            .join(" "),
    })?;
    let response = client
        .send(table.api.host, &op.method, &path, body, retry)
        .await?;
    // A create by name (PUT) that finds the object already there updates it
    // to the planned spec: it is our own object, created by a run whose
    // answer was lost or that was killed before it could save it. Adopting
    // it is what lets the next apply finish without a duplicate.
    let adopted = op.method == "PUT" && response.status == 200;
    if !op.ok.is_empty() && !op.ok.contains(&response.status) && !adopted {
        return Err(KonnectError::Api {
            method: op.method.clone(),
            path,
            status: response.status,
            problem: super::client::Problem {
                title: "Unexpected status".into(),
                detail: format!("expected one of {:?}", op.ok),
                invalid_parameters: Vec::new(),
            },
        });
    }
    Ok(response)
}

/// Creates, updates or deletes an object; returns the new state (null
/// after a delete).
pub async fn apply(
    client: &KonnectClient,
    table: &ResourceTable,
    prior: &Value,
    planned: &Value,
    _config: &Value,
) -> Result<Value, Diagnostics> {
    if planned.is_null() {
        let retry: &(dyn Fn(&KonnectError) -> bool + Sync) =
            if table.resource_type == "konnect_mesh_control_plane" {
                &retry_zone_online
            } else {
                &no_retry
            };
        return match call(client, table, &table.api.delete, prior, None, retry).await {
            // Already gone is what a delete wants.
            Ok(_) | Err(KonnectError::Api { status: 404, .. }) => Ok(Value::null(prior.ty())),
            Err(e) => Err(fail(e)),
        };
    }
    let creating = prior.is_null();
    let op = if creating {
        &table.api.create
    } else {
        table.api.update.as_ref().ok_or_else(|| {
            invalid(
                "Update not supported",
                format!(
                    "{} cannot be updated in place; it must be replaced.",
                    table.resource_type
                ),
            )
        })?
    };
    // What the plan leaves unknown but the object already has (its id,
    // the token only its creation returned) keeps its prior value.
    let known_base = if creating {
        planned.clone()
    } else {
        fill_unknown(planned, prior)
    };
    let body = request_body(table, planned, creating);
    let response = call(client, table, op, &known_base, Some(&body), &no_retry)
        .await
        .map_err(fail)?;
    // The object as created: the response, then a read where the API has
    // one (a fresh object may take a moment to be readable).
    let mut state = match (&response.body, table.api.kuma_type.is_some()) {
        (Json::Object(_), false) => {
            let mut base = known_base.clone();
            if let Some(id) = response.body.get("id").and_then(Json::as_str) {
                base = with_attr(&base, "id", Value::string(id));
            }
            state_from_body(table, &response.body, &base)
        }
        _ => known_base.clone(),
    };
    if let Some(read_op) = &table.api.read {
        let fetched = call(client, table, read_op, &state, None, &retry_not_found)
            .await
            .map_err(fail)?;
        state = state_from_body(table, &fetched.body, &state);
    }
    // The Kuma API answers a PUT with warnings only.
    if let Some(warnings) = response.body.get("warnings") {
        if let Ok(v) = Value::from_json(warnings, &Type::list(Type::String)) {
            if state.get_attr("warnings").is_some() {
                state = with_attr(&state, "warnings", v);
            }
        }
    }
    Ok(complete(state, planned))
}

/// Unknown planned values the API did not fill become null: a state holds
/// no unknowns.
fn complete(state: Value, planned: &Value) -> Value {
    let Some(entries) = state.as_entries() else {
        return state;
    };
    let out: BTreeMap<String, Value> = entries
        .iter()
        .map(|(k, v)| {
            let v = if v.is_wholly_known() {
                v.clone()
            } else {
                planned
                    .get_attr(k)
                    .filter(|p| p.is_wholly_known())
                    .cloned()
                    .unwrap_or_else(|| Value::null(v.ty()))
            };
            (k.clone(), v)
        })
        .collect();
    Value::object(out)
}

/// `planned` with each unknown top-level attribute taken from `prior`.
fn fill_unknown(planned: &Value, prior: &Value) -> Value {
    let Some(entries) = planned.as_entries() else {
        return planned.clone();
    };
    Value::object(
        entries
            .iter()
            .map(|(k, v)| {
                let v = match prior.get_attr(k) {
                    Some(p) if !v.is_known() && p.is_wholly_known() => p.clone(),
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

fn with_attr(v: &Value, name: &str, new: Value) -> Value {
    let mut entries = v.as_entries().cloned().unwrap_or_default();
    entries.insert(name.to_owned(), new);
    Value::object(entries)
}

/// Reads an object: `None` when it is gone.
pub async fn read(
    client: &KonnectClient,
    table: &ResourceTable,
    current: &Value,
) -> Result<Option<Value>, Diagnostics> {
    read_keeping(client, table, current, ServerLabels::Referenced).await
}

/// Reads the object an import identity names (see [`import_identity`]):
/// `None` when there is none. Every label the server reports is kept, so
/// that a configuration setting a server label (the guide's
/// `kuma.io/mesh`) plans no change right after the import; one that does
/// not set it plans the label's removal, and the apply converges.
pub async fn import(
    client: &KonnectClient,
    table: &ResourceTable,
    identity: &Value,
) -> Result<Option<Value>, Diagnostics> {
    read_keeping(client, table, identity, ServerLabels::All).await
}

async fn read_keeping(
    client: &KonnectClient,
    table: &ResourceTable,
    current: &Value,
    server_labels: ServerLabels,
) -> Result<Option<Value>, Diagnostics> {
    let Some(op) = &table.api.read else {
        // No read in the API: the state is all there is.
        return Ok(Some(current.clone()));
    };
    match call(client, table, op, current, None, &no_retry).await {
        Ok(response) => Ok(Some(complete(
            decode_body(table, &response.body, current, server_labels),
            current,
        ))),
        Err(KonnectError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(fail(e)),
    }
}

/// The identity an import ID names, as an object with only the identity
/// attributes set.
pub fn import_identity(table: &ResourceTable, id: &str) -> Result<Value, Diagnostics> {
    let block = &table.schema.block;
    let mut attrs: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::null(a.implied_type())))
        .collect();
    match &table.import {
        ImportFormat::Unsupported => {
            return Err(invalid(
                "Resource Import Not Implemented",
                format!("{} cannot be imported.", table.resource_type),
            ))
        }
        ImportFormat::Id { attribute } => {
            attrs.insert(attribute.clone(), Value::string(id));
        }
        ImportFormat::JsonObject { fields } => {
            let example = fields
                .iter()
                .map(|f| format!("\"{f}\": \"...\""))
                .collect::<Vec<_>>()
                .join(", ");
            let bad = || {
                invalid(
                    "Invalid import ID",
                    format!(
                        "The import ID of {} must be a JSON object {{{example}}}.",
                        table.resource_type
                    ),
                )
            };
            let parsed: Json = serde_json::from_str(id).map_err(|_| bad())?;
            let object = parsed.as_object().ok_or_else(bad)?;
            if object.keys().any(|k| !fields.contains(k)) {
                return Err(bad());
            }
            for field in fields {
                let value = object.get(field).and_then(Json::as_str).ok_or_else(bad)?;
                attrs.insert(field.clone(), Value::string(value));
            }
        }
    }
    Ok(Value::object(attrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::konnect::KonnectTables;

    fn object_of(table: &ResourceTable, json: Json) -> Value {
        let ty = table.schema.block.implied_type();
        let Type::Object { attrs, .. } = &ty else {
            unreachable!()
        };
        let mut out = BTreeMap::new();
        for (name, t) in attrs.iter() {
            let v = match json.get(name) {
                Some(j) => Value::from_json(j, t).unwrap(),
                None => Value::null(t.clone()),
            };
            out.insert(name.clone(), v);
        }
        Value::object(out)
    }

    #[test]
    fn bodies_use_json_names_unions_and_hooks() {
        let tables = KonnectTables::load().unwrap();
        let mesh = tables.resource("konnect_mesh").unwrap();
        let attrs = &mesh.schema.block.attributes;
        let mtls_json = serde_json::json!({"backends": [{"name": "ca-1", "type": "builtin",
            "dp_cert": {"rotation": {"expiration": "1d"}}}]});
        let mtls = meshform_lang::convert(
            &Value::from_json(&mtls_json, &meshform_lang::implied_type(&mtls_json)).unwrap(),
            &attrs["mtls"].constraint_type(),
        )
        .unwrap();
        assert!(mtls.ty().to_string().starts_with("object({backends="));
        let ms_json = serde_json::json!({"mode": {"str": "Exclusive"}});
        let mesh_services = meshform_lang::convert(
            &Value::from_json(&ms_json, &meshform_lang::implied_type(&ms_json)).unwrap(),
            &attrs["mesh_services"].constraint_type(),
        )
        .unwrap();
        let mut value = object_of(
            mesh,
            serde_json::json!({"cp_id": "cp-1", "name": "m", "type": "Mesh", "warnings": ["w"]}),
        );
        let mut entries = value.as_entries().unwrap().clone();
        entries.insert("mtls".into(), mtls);
        entries.insert("mesh_services".into(), mesh_services);
        value = Value::object(entries);
        let body = request_body(mesh, &value, true);
        assert_eq!(
            body,
            serde_json::json!({
                "meshServices": {"mode": "Exclusive"},
                "mtls": {"backends": [{"dpCert": {"rotation": {"expiration": "1d"}}, "name": "ca-1", "type": "builtin"}]},
                "name": "m",
                "skipCreatingInitialPolicies": ["*"],
                "type": "Mesh"
            })
        );
        // The path parameter is in the URL, not the body.
        let put = &mesh.api.create;
        assert_eq!(
            operation_path(mesh, put, &value).unwrap(),
            "/v1/mesh/control-planes/cp-1/api/meshes/m"
        );
        // Decoding the body gives the object back, unions included.
        let decoded = state_from_body(mesh, &body, &value);
        assert_eq!(
            decoded.get_attr("mesh_services"),
            value.get_attr("mesh_services")
        );
        assert_eq!(decoded.get_attr("mtls"), value.get_attr("mtls"));
        assert_eq!(decoded.get_attr("warnings"), value.get_attr("warnings"));
    }

    #[test]
    fn control_plane_features_only_on_create() {
        let tables = KonnectTables::load().unwrap();
        let cp = tables.resource("konnect_mesh_control_plane").unwrap();
        let value = object_of(
            cp,
            serde_json::json!({"name": "tf-cp", "id": "x", "created_at": "2025-01-01T00:00:00Z"}),
        );
        let create = request_body(cp, &value, true);
        assert_eq!(create["features"][0]["type"], "MeshCreation");
        assert!(create.get("id").is_none() && create.get("created_at").is_none());
        let update = request_body(cp, &value, false);
        assert_eq!(update, serde_json::json!({"name": "tf-cp"}));
    }

    #[test]
    fn server_labels_tokens_and_timestamps_reconcile() {
        let tables = KonnectTables::load().unwrap();
        let mtp = tables.resource("konnect_mesh_traffic_permission").unwrap();
        let planned = object_of(
            mtp,
            serde_json::json!({"cp_id": "c", "mesh": "m", "name": "n",
            "type": "MeshTrafficPermission", "labels": {"team": "a"}}),
        );
        let server = serde_json::json!({"type": "MeshTrafficPermission", "mesh": "m", "name": "n",
            "labels": {"team": "a", "kuma.io/mesh": "m"}, "creationTime": "2025-01-01T00:00:00.000Z"});
        let state = state_from_body(mtp, &server, &planned);
        assert_eq!(state.get_attr("labels"), planned.get_attr("labels"));
        assert_eq!(state.get_attr("cp_id").unwrap().as_str(), Some("c"));
        assert_eq!(
            state.get_attr("creation_time").unwrap().as_str(),
            Some("2025-01-01T00:00:00.000Z")
        );

        let token = tables
            .resource("konnect_system_account_access_token")
            .unwrap();
        let prior = object_of(
            token,
            serde_json::json!({"account_id": "a", "id": "t", "token": "spat_x",
            "expires_at": "2099-01-01T00:00:00Z"}),
        );
        let read =
            serde_json::json!({"id": "t", "name": "n", "expires_at": "2099-01-01T00:00:00+00:00"});
        let state = state_from_body(token, &read, &prior);
        assert_eq!(state.get_attr("token").unwrap().as_str(), Some("spat_x"));
        assert_eq!(
            state.get_attr("expires_at").unwrap().as_str(),
            Some("2099-01-01T00:00:00Z")
        );
        assert_eq!(state.get_attr("account_id").unwrap().as_str(), Some("a"));
    }

    #[test]
    fn an_import_keeps_the_labels_the_server_added() {
        let tables = KonnectTables::load().unwrap();
        let timeout = tables.resource("konnect_mesh_timeout").unwrap();
        let identity = import_identity(timeout, r#"{"cp_id":"c","mesh":"m","name":"t"}"#).unwrap();
        let server = serde_json::json!({"type": "MeshTimeout", "mesh": "m", "name": "t",
            "labels": {"kuma.io/mesh": "m", "team": "a"}});
        let labels = |pairs: &[(&str, &str)]| {
            Value::map(
                Type::String,
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::string(*v)))
                    .collect(),
            )
        };
        let imported = decode_body(timeout, &server, &identity, ServerLabels::All);
        let all = labels(&[("kuma.io/mesh", "m"), ("team", "a")]);
        assert_eq!(imported.get_attr("labels"), Some(&all));
        assert_eq!(imported.get_attr("cp_id").unwrap().as_str(), Some("c"));
        // A refresh of the imported object keeps them: they are in its state.
        let refreshed = state_from_body(timeout, &server, &imported);
        assert_eq!(refreshed.get_attr("labels"), Some(&all));
        // Once an apply has planned them away, the server's label goes too.
        let planned = with_attr(&imported, "labels", labels(&[("team", "a")]));
        let applied = state_from_body(timeout, &server, &planned);
        assert_eq!(applied.get_attr("labels"), planned.get_attr("labels"));
        // Without an import, the plain decoding keeps only referenced ones.
        let plain = state_from_body(timeout, &server, &identity);
        assert_eq!(plain.get_attr("labels"), Some(&labels(&[("team", "a")])));
    }

    #[test]
    fn import_ids() {
        let tables = KonnectTables::load().unwrap();
        let mtp = tables.resource("konnect_mesh_traffic_permission").unwrap();
        let v = import_identity(mtp, r#"{"cp_id":"c","mesh":"m","name":"n"}"#).unwrap();
        assert_eq!(v.get_attr("mesh").unwrap().as_str(), Some("m"));
        for bad in [
            "c/m/n",
            r#"{"cp_id":"c","mesh":"m"}"#,
            r#"{"cp_id":"c","mesh":"m","name":"n","x":"y"}"#,
        ] {
            assert!(import_identity(mtp, bad).is_err(), "{bad}");
        }
        let account = tables.resource("konnect_system_account").unwrap();
        let v = import_identity(account, "uuid-1").unwrap();
        assert_eq!(v.get_attr("id").unwrap().as_str(), Some("uuid-1"));
        let role = tables.resource("konnect_system_account_role").unwrap();
        assert!(import_identity(role, "x").is_err());
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}

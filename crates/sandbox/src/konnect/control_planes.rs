//! `/v1/mesh/control-planes`: create (201), read, PATCH/PUT (200), delete
//! (204, refused with 400 while a zone is online), paginated list.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::{
    json_response, konnect_list, konnect_page, new_id, now, parse_object, rfc3339_nano, Problem,
    API, ZONES,
};
use crate::store::Tx;
use crate::World;

pub const KIND: &str = "control-planes";

pub fn routes() -> Router<Arc<World>> {
    Router::new()
        .route("/v1/mesh/control-planes", get(list).post(create))
        .route(
            "/v1/mesh/control-planes/{cp_id}",
            get(read).patch(patch).put(put).delete(delete),
        )
}

/// The control plane, or a 404 problem.
pub fn require(t: &Tx<'_>, cp_id: &str) -> Result<Value, Problem> {
    t.get(API, KIND, "", cp_id)?.ok_or_else(|| {
        Problem::not_found(format!(
            "The requested control plane [{cp_id}] was not found"
        ))
    })
}

const LABEL_VALUE_CHARS: fn(char) -> bool =
    |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');

fn check_name(body: &Map<String, Value>, required: bool) -> Result<Option<String>, Problem> {
    match body.get("name") {
        None if required => Err(Problem::invalid("name", "required", "is a required field")),
        None => Ok(None),
        Some(Value::String(name)) => {
            let ok_start = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if name.chars().count() > 100 {
                Err(Problem::invalid(
                    "name",
                    "invalid",
                    "must have at most 100 characters",
                ))
            } else if !ok_start {
                Err(Problem::invalid(
                    "name",
                    "matches_regex",
                    "must match ^[a-z0-9A-Z]{1}.*$",
                ))
            } else {
                Ok(Some(name.clone()))
            }
        }
        Some(_) => Err(Problem::invalid("name", "is_string", "must be a string")),
    }
}

fn check_description(body: &Map<String, Value>) -> Result<Option<String>, Problem> {
    match body.get("description") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(d)) if d.chars().count() <= 250 => Ok(Some(d.clone())),
        Some(Value::String(_)) => Err(Problem::invalid(
            "description",
            "invalid",
            "must have at most 250 characters",
        )),
        Some(_) => Err(Problem::invalid(
            "description",
            "is_string",
            "must be a string",
        )),
    }
}

/// Validated labels; a `null` value means "remove this key".
fn check_labels(
    body: &Map<String, Value>,
) -> Result<Option<BTreeMap<String, Option<String>>>, Problem> {
    let labels = match body.get("labels") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(Problem::invalid("labels", "is_object", "must be an object")),
    };
    if labels.len() > 10 {
        return Err(Problem::invalid(
            "labels",
            "is_label",
            "must have at most 10 keys",
        ));
    }
    let mut out = BTreeMap::new();
    for (key, value) in labels {
        let field = format!("labels.{key}");
        if key.is_empty() || key.chars().count() > 63 {
            return Err(Problem::invalid(
                &field,
                "is_label",
                "keys must have 1 to 63 characters",
            ));
        }
        match value {
            Value::Null => {
                out.insert(key.clone(), None);
            }
            Value::String(v) => {
                let valid = !v.is_empty()
                    && v.chars().count() <= 63
                    && v.chars().all(LABEL_VALUE_CHARS)
                    && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && v.ends_with(|c: char| c.is_ascii_alphanumeric());
                if !valid {
                    return Err(Problem::invalid(
                        &field,
                        "is_label",
                        "values must have 1 to 63 characters and match ^[a-z0-9A-Z]{1}([a-z0-9A-Z\\-\\.\\_]*[a-z0-9A-Z]+)?$",
                    ));
                }
                out.insert(key.clone(), Some(v.clone()));
            }
            _ => return Err(Problem::invalid(&field, "is_string", "must be a string")),
        }
    }
    Ok(Some(out))
}

fn check_unknown(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), Problem> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(Problem::invalid(
            key,
            "unknown_property",
            "is not a known property",
        )),
        None => Ok(()),
    }
}

/// Whether each feature is enabled, defaulting to enabled when not sent.
fn check_features(body: &Map<String, Value>) -> Result<(bool, bool), Problem> {
    let mut mesh_creation = true;
    let mut hostname_generators = true;
    let features = match body.get("features") {
        None | Some(Value::Null) => return Ok((true, true)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Problem::invalid("features", "is_array", "must be an array")),
    };
    for (i, feature) in features.iter().enumerate() {
        let field = format!("features[{i}]");
        let kind = feature.get("type").and_then(Value::as_str);
        let enabled = |key: &str| -> Result<bool, Problem> {
            match feature.get(key) {
                None => Ok(true),
                Some(v) => v.get("enabled").and_then(Value::as_bool).ok_or_else(|| {
                    Problem::invalid(
                        &format!("{field}.{key}.enabled"),
                        "required",
                        "is a required boolean",
                    )
                }),
            }
        };
        match kind {
            Some("MeshCreation") => mesh_creation = enabled("meshCreation")?,
            Some("HostnameGeneratorCreation") => {
                hostname_generators = enabled("hostnameGeneratorCreation")?
            }
            _ => {
                return Err(Problem::choice(
                    &format!("{field}.type"),
                    &["MeshCreation", "HostnameGeneratorCreation"],
                ))
            }
        }
    }
    Ok((mesh_creation, hostname_generators))
}

fn labels_value(labels: &BTreeMap<String, Option<String>>) -> Value {
    Value::Object(
        labels
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), Value::String(v.clone()))))
            .collect(),
    )
}

async fn create(State(world): State<Arc<World>>, body: Bytes) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    check_unknown(&body, &["name", "description", "labels", "features"])?;
    let name = check_name(&body, true)?.unwrap_or_default();
    let description = check_description(&body)?.unwrap_or_default();
    let labels = check_labels(&body)?.unwrap_or_default();
    let (mesh_creation, hostname_generators) = check_features(&body)?;
    let id = new_id();
    let at = now(&world);
    let cp = json!({
        "id": id,
        "name": name,
        "description": description,
        "labels": labels_value(&labels),
        "features": [
            {"type": "MeshCreation", "meshCreation": {"enabled": mesh_creation}},
            {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": hostname_generators}},
        ],
        "created_at": at,
        "updated_at": at,
    });
    world.store.tx(|t| {
        t.put(API, KIND, "", &id, &cp)?;
        if mesh_creation {
            super::kuma::create_default_mesh(t, &id)?;
        }
        if hostname_generators {
            super::kuma::create_default_hostname_generators(t, &id)?;
        }
        Ok::<_, Problem>(())
    })?;
    Ok(json_response(StatusCode::CREATED, cp))
}

async fn read(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
) -> Result<Response, Problem> {
    let cp = world.store.tx(|t| require(t, &cp_id))?;
    Ok(json_response(StatusCode::OK, cp))
}

async fn list(
    State(world): State<Arc<World>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let name_filter = query
        .get("filter[name][eq]")
        .or_else(|| query.get("filter[name]"))
        .cloned();
    let rows = world.store.tx(|t| t.list(API, KIND, Some("")))?;
    let items = rows
        .into_iter()
        .map(|r| r.body)
        .filter(|cp| name_filter.as_deref().is_none_or(|n| cp["name"] == n))
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn patch(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    check_unknown(&body, &["name", "description", "labels"])?;
    let name = check_name(&body, false)?;
    let description = check_description(&body)?;
    let labels = check_labels(&body)?;
    let cp = world.store.tx(|t| {
        let mut cp = require(t, &cp_id)?;
        if let Some(name) = name {
            cp["name"] = json!(name);
        }
        if let Some(description) = description {
            cp["description"] = json!(description);
        }
        if let Some(changes) = labels {
            let mut current: BTreeMap<String, Option<String>> = cp["labels"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
                        .collect()
                })
                .unwrap_or_default();
            for (key, value) in changes {
                match value {
                    Some(v) => current.insert(key, Some(v)),
                    None => current.remove(&key),
                };
            }
            if current.len() > 10 {
                return Err(Problem::invalid(
                    "labels",
                    "is_label",
                    "must have at most 10 keys",
                ));
            }
            cp["labels"] = labels_value(&current);
        }
        cp["updated_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, KIND, "", &cp_id, &cp)?;
        Ok(cp)
    })?;
    Ok(json_response(StatusCode::OK, cp))
}

async fn put(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    check_unknown(&body, &["name", "description", "labels"])?;
    let name = check_name(&body, true)?.unwrap_or_default();
    let description = check_description(&body)?.unwrap_or_default();
    let labels = check_labels(&body)?.unwrap_or_default();
    let cp = world.store.tx(|t| {
        let mut cp = require(t, &cp_id)?;
        cp["name"] = json!(name);
        cp["description"] = json!(description);
        cp["labels"] = labels_value(&labels);
        cp["updated_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, KIND, "", &cp_id, &cp)?;
        Ok::<_, Problem>(cp)
    })?;
    Ok(json_response(StatusCode::OK, cp))
}

async fn delete(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require(t, &cp_id)?;
        let online = t
            .list(API, ZONES, Some(&cp_id))?
            .into_iter()
            .find(|z| z.body["online"].as_bool() == Some(true));
        if let Some(zone) = online {
            let reason = format!(
                "zone \"{}\" is still online. Disconnect the zone first",
                zone.name
            );
            return Err(Problem::bad_request(
                format!("Bad Request: cpID [invalid]: {reason}"),
                vec![json!({"field": "cpID", "rule": "invalid", "reason": reason})],
            ));
        }
        t.delete(API, KIND, "", &cp_id)?;
        t.delete_under(API, &cp_id)?;
        Ok(())
    })?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}

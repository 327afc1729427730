//! The Kuma resource API of a mesh control plane
//! (`/v1/mesh/control-planes/{cpId}/api/…`): meshes, hostname generators and
//! every mesh-scoped policy kind through one generic implementation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::control_planes;
use super::{json_response, parse_object, rfc3339_nano, Problem, API};
use crate::store::{StoreError, Tx};
use crate::World;

/// How a kind's body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The Mesh itself: its fields sit at the top level.
    Mesh,
    /// New-style policy or resource: `spec` (and sometimes `status`).
    Spec,
    /// Legacy shape (MeshGateway): `conf`, `selectors`, `tags` at the top.
    Legacy,
}

/// One Kuma resource kind served by the API.
#[derive(Debug, Clone, Copy)]
struct Kind {
    type_name: &'static str,
    plural: &'static str,
    mesh_scoped: bool,
    shape: Shape,
    has_status: bool,
    /// Keys `spec` must have (from the Kuma schemas).
    required_spec: &'static [&'static str],
}

const fn spec(type_name: &'static str, plural: &'static str) -> Kind {
    Kind {
        type_name,
        plural,
        mesh_scoped: true,
        shape: Shape::Spec,
        has_status: false,
        required_spec: &[],
    }
}

const fn requiring(kind: Kind, required_spec: &'static [&'static str]) -> Kind {
    Kind {
        required_spec,
        ..kind
    }
}

const fn with_status(kind: Kind) -> Kind {
    Kind {
        has_status: true,
        ..kind
    }
}

/// Every kind of the konnect-beta 0.1.0 mesh resources.
const KINDS: &[Kind] = &[
    Kind {
        type_name: "Mesh",
        plural: "meshes",
        mesh_scoped: false,
        shape: Shape::Mesh,
        has_status: false,
        required_spec: &[],
    },
    Kind {
        type_name: "HostnameGenerator",
        plural: "hostnamegenerators",
        mesh_scoped: false,
        shape: Shape::Spec,
        has_status: false,
        required_spec: &["template"],
    },
    Kind {
        type_name: "MeshGateway",
        plural: "meshgateways",
        mesh_scoped: true,
        shape: Shape::Legacy,
        has_status: false,
        required_spec: &[],
    },
    spec("MeshAccessLog", "meshaccesslogs"),
    spec("MeshCircuitBreaker", "meshcircuitbreakers"),
    with_status(requiring(
        spec("MeshExternalService", "meshexternalservices"),
        &["match"],
    )),
    spec("MeshFaultInjection", "meshfaultinjections"),
    spec("MeshGlobalRateLimit", "meshglobalratelimits"),
    spec("MeshHealthCheck", "meshhealthchecks"),
    spec("MeshHTTPRoute", "meshhttproutes"),
    spec("MeshLoadBalancingStrategy", "meshloadbalancingstrategies"),
    spec("MeshMetric", "meshmetrics"),
    with_status(requiring(
        spec("MeshMultiZoneService", "meshmultizoneservices"),
        &["ports", "selector"],
    )),
    spec("MeshOPA", "meshopas"),
    spec("MeshPassthrough", "meshpassthroughs"),
    requiring(spec("MeshProxyPatch", "meshproxypatches"), &["default"]),
    spec("MeshRateLimit", "meshratelimits"),
    spec("MeshRetry", "meshretries"),
    with_status(spec("MeshService", "meshservices")),
    spec("MeshTCPRoute", "meshtcproutes"),
    spec("MeshTimeout", "meshtimeouts"),
    spec("MeshTLS", "meshtlses"),
    spec("MeshTrace", "meshtraces"),
    spec("MeshTrafficPermission", "meshtrafficpermissions"),
];

const TARGET_REF_KINDS: &[&str] = &[
    "Mesh",
    "MeshSubset",
    "MeshGateway",
    "MeshService",
    "MeshExternalService",
    "MeshMultiZoneService",
    "MeshServiceSubset",
    "MeshHTTPRoute",
    "Dataplane",
];

const BASE: &str = "/v1/mesh/control-planes/{cp_id}/api";

pub fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(&format!("{BASE}/meshes"), get(list_meshes))
        .route(
            &format!("{BASE}/meshes/{{name}}"),
            get(get_mesh).put(put_mesh).delete(delete_mesh),
        )
        .route(&format!("{BASE}/hostnamegenerators"), get(list_generators))
        .route(
            &format!("{BASE}/hostnamegenerators/{{name}}"),
            get(get_generator)
                .put(put_generator)
                .delete(delete_generator),
        )
        .route(
            &format!("{BASE}/meshes/{{mesh}}/{{plural}}"),
            get(list_in_mesh),
        )
        .route(
            &format!("{BASE}/meshes/{{mesh}}/{{plural}}/{{name}}"),
            get(get_in_mesh).put(put_in_mesh).delete(delete_in_mesh),
        )
}

fn kind_by_plural(plural: &str) -> Result<Kind, Problem> {
    KINDS
        .iter()
        .find(|k| k.plural == plural && k.mesh_scoped)
        .copied()
        .ok_or_else(|| Problem::not_found(format!("Unknown resource type [{plural}]")))
}

/// Whether `plural` names a mesh-scoped kind of the Kuma resource API.
pub fn is_mesh_scoped_kind(plural: &str) -> bool {
    KINDS.iter().any(|k| k.plural == plural && k.mesh_scoped)
}

fn kind_named(plural: &str) -> Kind {
    KINDS
        .iter()
        .find(|k| k.plural == plural)
        .copied()
        .unwrap_or(KINDS[0])
}

fn mesh_scope(cp_id: &str, mesh: &str) -> String {
    format!("{cp_id}/{mesh}")
}

fn resource_not_found(kind: &Kind, mesh: Option<&str>, name: &str) -> Problem {
    let detail = match mesh {
        Some(mesh) => format!(
            "Resource not found: type=\"{}\" name=\"{name}\" mesh=\"{mesh}\"",
            kind.type_name
        ),
        None => format!(
            "Resource not found: type=\"{}\" name=\"{name}\"",
            kind.type_name
        ),
    };
    Problem::not_found(detail)
}

fn check_string_map(value: Option<&Value>, field: &str) -> Result<(), Problem> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) => match map.iter().find(|(_, v)| !v.is_string()) {
            Some((k, _)) => Err(Problem::invalid(
                &format!("{field}.{k}"),
                "is_string",
                "must be a string",
            )),
            None => Ok(()),
        },
        Some(_) => Err(Problem::invalid(
            field,
            "is_object",
            "must be an object of strings",
        )),
    }
}

/// Walks a spec checking every `targetRef.kind` and MeshTrafficPermission
/// actions, the two mistakes Kuma rejects most often.
fn check_spec(kind: &Kind, path: &str, value: &Value) -> Result<(), Problem> {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}.{key}");
                if key == "targetRef" {
                    match child.get("kind").and_then(Value::as_str) {
                        Some(k) if TARGET_REF_KINDS.contains(&k) => {}
                        Some(_) => {
                            return Err(Problem::choice(&format!("{here}.kind"), TARGET_REF_KINDS))
                        }
                        None => {
                            return Err(Problem::invalid(
                                &format!("{here}.kind"),
                                "required",
                                "is a required field",
                            ))
                        }
                    }
                }
                if key == "action" && kind.type_name == "MeshTrafficPermission" {
                    let allowed = ["Allow", "Deny", "AllowWithShadowDeny"];
                    if !child.as_str().is_some_and(|a| allowed.contains(&a)) {
                        return Err(Problem::choice(&here, &allowed));
                    }
                }
                check_spec(kind, &here, child)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_spec(kind, &format!("{path}[{i}]"), item)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<(), Problem> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if valid {
        Ok(())
    } else {
        Err(Problem::invalid(
            "name",
            "invalid",
            "must be 1 to 253 characters of letters, digits, '-', '.' or '_'",
        ))
    }
}

/// Validates a PUT body and builds the object to store.
fn build(
    kind: &Kind,
    mesh: Option<&str>,
    name: &str,
    mut body: Map<String, Value>,
    previous: Option<&Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, Problem> {
    let now = rfc3339_nano(now);
    check_name(name)?;
    match body.get("type") {
        Some(Value::String(t)) if t == kind.type_name => {}
        Some(_) => return Err(Problem::choice("type", &[kind.type_name])),
        None => return Err(Problem::invalid("type", "required", "is a required field")),
    }
    match body.get("name") {
        None => {}
        Some(Value::String(n)) if n == name => {}
        Some(_) => {
            return Err(Problem::invalid(
                "name",
                "invalid",
                "name from the URL has to be the same as in the body",
            ))
        }
    }
    if let Some(mesh) = mesh {
        match body.get("mesh") {
            None if kind.shape == Shape::Legacy => {
                return Err(Problem::invalid("mesh", "required", "is a required field"))
            }
            None => {}
            Some(Value::String(m)) if m == mesh => {}
            Some(_) => {
                return Err(Problem::invalid(
                    "mesh",
                    "invalid",
                    "mesh from the URL has to be the same as in the body",
                ))
            }
        }
    }
    check_string_map(body.get("labels"), "labels")?;
    let created = previous
        .and_then(|p| p.get("creationTime").cloned())
        .unwrap_or_else(|| json!(now));
    let mut labels = match body.remove("labels") {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if let Some(mesh) = mesh {
        labels.entry("kuma.io/mesh").or_insert_with(|| json!(mesh));
    }
    for key in [
        "type",
        "name",
        "mesh",
        "creationTime",
        "modificationTime",
        "kri",
    ] {
        body.remove(key);
    }
    let mut out = Map::new();
    out.insert("type".into(), json!(kind.type_name));
    if let Some(mesh) = mesh {
        out.insert("mesh".into(), json!(mesh));
    }
    out.insert("name".into(), json!(name));
    out.insert("creationTime".into(), created);
    out.insert("modificationTime".into(), json!(now));
    if !labels.is_empty() {
        out.insert("labels".into(), Value::Object(labels));
    }
    match kind.shape {
        Shape::Mesh => {
            if let Some(list) = body.get("skipCreatingInitialPolicies") {
                if !list
                    .as_array()
                    .is_some_and(|l| l.iter().all(Value::is_string))
                {
                    return Err(Problem::invalid(
                        "skipCreatingInitialPolicies",
                        "is_array",
                        "must be a list of strings",
                    ));
                }
            }
            out.extend(body);
        }
        Shape::Spec => {
            let spec = match body.remove("spec") {
                Some(Value::Object(spec)) => Value::Object(spec),
                Some(_) => return Err(Problem::invalid("spec", "is_object", "must be an object")),
                None => return Err(Problem::invalid("spec", "required", "is a required field")),
            };
            if let Some(missing) = kind.required_spec.iter().find(|k| spec.get(**k).is_none()) {
                return Err(Problem::invalid(
                    &format!("spec.{missing}"),
                    "required",
                    "is a required field",
                ));
            }
            check_spec(kind, "spec", &spec)?;
            out.insert("spec".into(), spec);
            if kind.has_status {
                let status = previous
                    .and_then(|p| p.get("status").cloned())
                    .or_else(|| body.remove("status"))
                    .unwrap_or_else(|| json!({}));
                out.insert("status".into(), status);
            }
            if let Some(key) = body.keys().find(|k| k.as_str() != "status") {
                return Err(Problem::invalid(
                    key,
                    "unknown_property",
                    "is not a known property",
                ));
            }
        }
        Shape::Legacy => {
            let selectors_ok = body
                .get("selectors")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            if !selectors_ok {
                return Err(Problem::invalid(
                    "selectors",
                    "required",
                    "must have at least one selector",
                ));
            }
            let listeners_ok = body
                .get("conf")
                .and_then(|c| c.get("listeners"))
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !listeners_ok {
                return Err(Problem::invalid(
                    "conf.listeners",
                    "required",
                    "must have at least one listener",
                ));
            }
            check_string_map(body.get("tags"), "tags")?;
            out.extend(body);
        }
    }
    Ok(Value::Object(out))
}

/// Kuma list pagination: `offset`, `size` (≤ 1000), label filters; `next`
/// links to the following page when there is one.
fn paginate(
    items: Vec<Value>,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    path: &str,
) -> Result<Value, Problem> {
    let number = |key: &str, default: usize, min: usize, max: usize| -> Result<usize, Problem> {
        match query.get(key) {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(Problem::bad_request(
                    format!("{key} must be an integer between {min} and {max}"),
                    vec![
                        json!({"field": key, "rule": "is_integer", "reason": format!("must be an integer between {min} and {max}"), "source": "query"}),
                    ],
                )),
            },
        }
    };
    let offset = number("offset", 0, 0, usize::MAX)?;
    let size = number("size", 100, 1, 1000)?;
    let filters: Vec<(&str, &str)> = query
        .iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix("filter[")
                .and_then(|k| k.strip_suffix(']'))
                .unwrap_or(k);
            key.strip_prefix("label.").map(|label| (label, v.as_str()))
        })
        .collect();
    let name_filter = query.get("name").or_else(|| query.get("filter[name]"));
    let matching: Vec<Value> = items
        .into_iter()
        .filter(|item| {
            filters
                .iter()
                .all(|(k, v)| item["labels"].get(*k).and_then(Value::as_str) == Some(*v))
                && name_filter.is_none_or(|n| {
                    item["name"]
                        .as_str()
                        .is_some_and(|name| name.contains(n.as_str()))
                })
        })
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching.into_iter().skip(offset).take(size).collect();
    let mut out = json!({"total": total, "items": page});
    if offset.saturating_add(size) < total {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        out["next"] = json!(format!(
            "http://{host}{path}?offset={}&size={size}",
            offset + size
        ));
    }
    Ok(out)
}

fn put_response(created: bool) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_response(status, json!({"warnings": []}))
}

// --- meshes -----------------------------------------------------------------

async fn list_meshes(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let items = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        Ok::<_, Problem>(sorted(t.list(API, "meshes", Some(&cp_id))?))
    })?;
    Ok(json_response(
        StatusCode::OK,
        paginate(items, &query, &headers, uri.path())?,
    ))
}

fn sorted(rows: Vec<crate::store::Row>) -> Vec<Value> {
    let mut rows = rows;
    rows.sort_by(|a, b| (&a.scope, &a.name).cmp(&(&b.scope, &b.name)));
    rows.into_iter().map(|r| r.body).collect()
}

async fn get_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_named("meshes");
    let mesh = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        t.get(API, "meshes", &cp_id, &name)?
            .ok_or_else(|| resource_not_found(&kind, None, &name))
    })?;
    Ok(json_response(StatusCode::OK, mesh))
}

async fn put_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let kind = kind_named("meshes");
    if name.len() > 63 {
        return Err(Problem::invalid(
            "name",
            "invalid",
            "must have at most 63 characters",
        ));
    }
    let created = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        let previous = t.get(API, "meshes", &cp_id, &name)?;
        let mesh = build(&kind, None, &name, body, previous.as_ref(), t.now())?;
        t.put(API, "meshes", &cp_id, &name, &mesh)?;
        if previous.is_none() {
            let skip: Vec<String> = mesh["skipCreatingInitialPolicies"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            create_default_policies(t, &cp_id, &name, &skip)?;
        }
        Ok::<_, Problem>(previous.is_none())
    })?;
    Ok(put_response(created))
}

async fn delete_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_named("meshes");
    world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        if !t.delete(API, "meshes", &cp_id, &name)? {
            return Err(resource_not_found(&kind, None, &name));
        }
        t.delete_under(API, &mesh_scope(&cp_id, &name))?;
        Ok(())
    })?;
    Ok(json_response(StatusCode::OK, json!({})))
}

// --- hostname generators ------------------------------------------------------

async fn list_generators(
    State(world): State<Arc<World>>,
    Path(cp_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let items = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        Ok::<_, Problem>(sorted(t.list(API, "hostnamegenerators", Some(&cp_id))?))
    })?;
    Ok(json_response(
        StatusCode::OK,
        paginate(items, &query, &headers, uri.path())?,
    ))
}

async fn get_generator(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_named("hostnamegenerators");
    let item = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        t.get(API, kind.plural, &cp_id, &name)?
            .ok_or_else(|| resource_not_found(&kind, None, &name))
    })?;
    Ok(json_response(StatusCode::OK, item))
}

async fn put_generator(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let kind = kind_named("hostnamegenerators");
    let created = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        let previous = t.get(API, kind.plural, &cp_id, &name)?;
        let item = build(&kind, None, &name, body, previous.as_ref(), t.now())?;
        t.put(API, kind.plural, &cp_id, &name, &item)?;
        Ok::<_, Problem>(previous.is_none())
    })?;
    Ok(put_response(created))
}

async fn delete_generator(
    State(world): State<Arc<World>>,
    Path((cp_id, name)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_named("hostnamegenerators");
    world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        if !t.delete(API, kind.plural, &cp_id, &name)? {
            return Err(resource_not_found(&kind, None, &name));
        }
        Ok(())
    })?;
    Ok(json_response(StatusCode::OK, json!({})))
}

// --- mesh-scoped kinds --------------------------------------------------------

fn require_mesh(t: &Tx<'_>, cp_id: &str, mesh: &str) -> Result<(), Problem> {
    control_planes::require(t, cp_id)?;
    if t.get(API, "meshes", cp_id, mesh)?.is_none() {
        return Err(Problem::not_found(format!(
            "Resource not found: type=\"Mesh\" name=\"{mesh}\""
        )));
    }
    Ok(())
}

async fn list_in_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, mesh, plural)): Path<(String, String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let kind = kind_by_plural(&plural)?;
    let items = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        Ok::<_, Problem>(sorted(t.list(
            API,
            kind.plural,
            Some(&mesh_scope(&cp_id, &mesh)),
        )?))
    })?;
    Ok(json_response(
        StatusCode::OK,
        paginate(items, &query, &headers, uri.path())?,
    ))
}

async fn get_in_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, mesh, plural, name)): Path<(String, String, String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_by_plural(&plural)?;
    let item = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        t.get(API, kind.plural, &mesh_scope(&cp_id, &mesh), &name)?
            .ok_or_else(|| resource_not_found(&kind, Some(&mesh), &name))
    })?;
    Ok(json_response(StatusCode::OK, item))
}

async fn put_in_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, mesh, plural, name)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let kind = kind_by_plural(&plural)?;
    let body = parse_object(&body)?;
    let created = world.store.tx(|t| {
        control_planes::require(t, &cp_id)?;
        if t.get(API, "meshes", &cp_id, &mesh)?.is_none() {
            return Err(Problem::invalid(
                "mesh",
                "missing_reference",
                format!("mesh \"{mesh}\" does not exist"),
            ));
        }
        let scope = mesh_scope(&cp_id, &mesh);
        let previous = t.get(API, kind.plural, &scope, &name)?;
        let item = build(&kind, Some(&mesh), &name, body, previous.as_ref(), t.now())?;
        t.put(API, kind.plural, &scope, &name, &item)?;
        Ok(previous.is_none())
    })?;
    Ok(put_response(created))
}

async fn delete_in_mesh(
    State(world): State<Arc<World>>,
    Path((cp_id, mesh, plural, name)): Path<(String, String, String, String)>,
) -> Result<Response, Problem> {
    let kind = kind_by_plural(&plural)?;
    world.store.tx(|t| {
        require_mesh(t, &cp_id, &mesh)?;
        if !t.delete(API, kind.plural, &mesh_scope(&cp_id, &mesh), &name)? {
            return Err(resource_not_found(&kind, Some(&mesh), &name));
        }
        Ok(())
    })?;
    Ok(json_response(StatusCode::OK, json!({})))
}

// --- defaults -----------------------------------------------------------------

fn store_default(
    t: &Tx<'_>,
    kind: &Kind,
    cp_id: &str,
    mesh: Option<&str>,
    name: &str,
    body: Value,
) -> Result<(), StoreError> {
    let Value::Object(map) = body else {
        return Ok(());
    };
    if let Ok(item) = build(kind, mesh, name, map, None, t.now()) {
        let scope = match mesh {
            Some(mesh) => mesh_scope(cp_id, mesh),
            None => cp_id.to_string(),
        };
        t.put(API, kind.plural, &scope, name, &item)?;
    }
    Ok(())
}

/// The `default` mesh Konnect creates when the MeshCreation feature is on.
pub fn create_default_mesh(t: &Tx<'_>, cp_id: &str) -> Result<(), StoreError> {
    store_default(
        t,
        &kind_named("meshes"),
        cp_id,
        None,
        "default",
        json!({"type": "Mesh", "name": "default"}),
    )?;
    create_default_policies(t, cp_id, "default", &[])
}

/// The hostname generators Konnect creates when that feature is on.
pub fn create_default_hostname_generators(t: &Tx<'_>, cp_id: &str) -> Result<(), StoreError> {
    let kind = kind_named("hostnamegenerators");
    let generators = [
        (
            "local-mesh-external-service",
            "meshExternalService",
            json!({"kuma.io/origin": "zone"}),
            "{{ .DisplayName }}.extsvc.mesh.local",
        ),
        (
            "synced-mesh-external-service",
            "meshExternalService",
            json!({"kuma.io/origin": "global"}),
            "{{ .DisplayName }}.extsvc.mesh.local",
        ),
        (
            "synced-mesh-multi-zone-service",
            "meshMultiZoneService",
            json!({"kuma.io/origin": "global"}),
            "{{ .DisplayName }}.mzsvc.mesh.local",
        ),
        (
            "synced-mesh-service",
            "meshService",
            json!({"kuma.io/origin": "global"}),
            "{{ .DisplayName }}.{{ .Namespace }}.svc.{{ .Zone }}.mesh.local",
        ),
    ];
    for (name, selector, labels, template) in generators {
        store_default(
            t,
            &kind,
            cp_id,
            None,
            name,
            json!({"type": "HostnameGenerator", "name": name, "spec": {"selector": {selector: {"matchLabels": labels}}, "template": template}}),
        )?;
    }
    Ok(())
}

/// Kuma's default policies for a new mesh, minus the skipped types (`*` skips all).
fn create_default_policies(
    t: &Tx<'_>,
    cp_id: &str,
    mesh: &str,
    skip: &[String],
) -> Result<(), StoreError> {
    if skip.iter().any(|s| s == "*") {
        return Ok(());
    }
    let defaults = [
        (
            "MeshCircuitBreaker",
            "meshcircuitbreakers",
            format!("mesh-circuit-breaker-all-{mesh}"),
            json!({"targetRef": {"kind": "Mesh"}, "to": [{"targetRef": {"kind": "Mesh"}, "default": {"connectionLimits": {"maxConnections": 1024, "maxPendingRequests": 1024, "maxRequests": 1024, "maxRetries": 3}, "outlierDetection": {"disabled": false, "detectors": {"totalFailures": {"consecutive": 5}}}}}]}),
        ),
        (
            "MeshRetry",
            "meshretries",
            format!("mesh-retry-all-{mesh}"),
            json!({"targetRef": {"kind": "Mesh"}, "to": [{"targetRef": {"kind": "Mesh"}, "default": {"tcp": {"maxConnectAttempt": 5}, "http": {"numRetries": 5, "perTryTimeout": "16s", "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"}}, "grpc": {"numRetries": 5, "perTryTimeout": "16s", "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"}}}}]}),
        ),
        (
            "MeshTimeout",
            "meshtimeouts",
            format!("mesh-timeout-all-{mesh}"),
            json!({"targetRef": {"kind": "Mesh", "proxyTypes": ["Sidecar"]}, "from": [{"targetRef": {"kind": "Mesh"}, "default": {"connectionTimeout": "5s", "idleTimeout": "1h", "http": {"requestTimeout": "15s", "streamIdleTimeout": "30m"}}}], "to": [{"targetRef": {"kind": "Mesh"}, "default": {"connectionTimeout": "5s", "idleTimeout": "1h", "http": {"requestTimeout": "15s", "streamIdleTimeout": "30m"}}}]}),
        ),
        (
            "MeshTimeout",
            "meshtimeouts",
            format!("mesh-gateways-timeout-all-{mesh}"),
            json!({"targetRef": {"kind": "Mesh", "proxyTypes": ["Gateway"]}, "from": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "5m", "http": {"streamIdleTimeout": "5s", "requestHeadersTimeout": "500ms"}}}], "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "1h", "http": {"streamIdleTimeout": "5s"}}}]}),
        ),
    ];
    for (type_name, plural, name, spec) in defaults {
        if skip.iter().any(|s| s == type_name) {
            continue;
        }
        store_default(
            t,
            &kind_named(plural),
            cp_id,
            Some(mesh),
            &name,
            json!({"type": type_name, "name": name, "mesh": mesh, "spec": spec}),
        )?;
    }
    Ok(())
}

//! The Kubernetes API server: discovery, OpenAPI v3 stubs for kubectl, and
//! generic create/get/list/watch/update/patch/delete of any known resource,
//! stored as JSON.

mod admission;
mod apply;
mod call;
mod controllers;
mod defaults;
mod kuma_names;
mod objects;
mod patch;
mod registry;
mod scale;
mod watch;
mod zone;

pub use defaults::ensure_defaults;
use defaults::{ensure_default_namespaces, namespace_type};
pub use watch::Events;
use watch::{watch, WatchRequest};

pub use zone::reconcile as reconcile_zones;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use crate::store::{StoreError, Tx};
use crate::World;
use objects::{FieldSelector, LabelSelector};
use registry::ResourceType;

pub(crate) const API: &str = "kube";
pub(crate) const KUBERNETES_VERSION: &str = "v1.32.0";
const RV_COUNTER: &str = "kube-resource-version";
const DEFAULT_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// A change to one object, fanned out to watchers.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    collection: String,
    namespace: String,
    kind: &'static str,
    object: Value,
    /// The resourceVersion of the change.
    rv: u64,
}

/// Largest request body accepted (Helm release Secrets and CRDs are big).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(world: Arc<World>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(world)
}

/// A kubeconfig whose current context points at `url`.
pub fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: meshform-sandbox
  cluster:
    server: {url}
contexts:
- name: meshform-sandbox
  context:
    cluster: meshform-sandbox
    user: meshform-sandbox
    namespace: default
current-context: meshform-sandbox
users:
- name: meshform-sandbox
  user: {{}}
preferences: {{}}
"
    )
}

/// A Kubernetes `Status` failure.
#[derive(Debug)]
pub struct Failure {
    code: StatusCode,
    reason: &'static str,
    message: String,
    details: Value,
}

impl Failure {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
        }
    }

    fn not_found(ty: &ResourceType, name: &str) -> Failure {
        Failure {
            details: json!({"name": name, "group": ty.group, "kind": ty.plural}),
            ..Failure::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{} \"{name}\" not found", qualified(ty)),
            )
        }
    }

    fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    fn invalid(ty: &ResourceType, name: &str, field: &str, message: &str) -> Failure {
        Failure {
            details: json!({"name": name, "group": ty.group, "kind": ty.kind,
                "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]}),
            ..Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!("{} \"{name}\" is invalid: {field}: {message}", ty.kind),
            )
        }
    }
}

fn qualified(ty: &ResourceType) -> String {
    if ty.group.is_empty() {
        ty.plural.clone()
    } else {
        format!("{}.{}", ty.plural, ty.group)
    }
}

impl Failure {
    /// The message, for errors surfaced outside HTTP.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        tracing::error!("sandbox store: {e}");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "the sandbox database failed",
        )
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut body = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code.as_u16(),
        });
        if !self.details.is_null() {
            body["details"] = self.details;
        }
        (self.code, axum::Json(body)).into_response()
    }
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// What a request path addresses.
enum Target {
    Version,
    ApiRoot,
    ApisRoot,
    Group(String),
    GroupVersion(String, String),
    OpenApiV2,
    OpenApiV3Root,
    OpenApiV3(String, String),
    Resource {
        group: String,
        version: String,
        namespace: Option<String>,
        plural: String,
        name: Option<String>,
        sub: Option<String>,
    },
}

fn parse_target(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resource = |group: &str, version: &str, rest: &[&str]| -> Option<Target> {
        let (namespace, rest) = match rest {
            ["namespaces", ns, plural, tail @ ..]
                if *plural != "status" && *plural != "finalize" =>
            {
                (Some(ns.to_string()), [&[*plural][..], tail].concat())
            }
            _ => (None, rest.to_vec()),
        };
        let (plural, name, sub) = match rest.as_slice() {
            [plural] => (plural.to_string(), None, None),
            [plural, name] => (plural.to_string(), Some(name.to_string()), None),
            [plural, name, sub] => (
                plural.to_string(),
                Some(name.to_string()),
                Some(sub.to_string()),
            ),
            _ => return None,
        };
        Some(Target::Resource {
            group: group.to_string(),
            version: version.to_string(),
            namespace,
            plural,
            name,
            sub,
        })
    };
    match segments.as_slice() {
        ["version"] => Some(Target::Version),
        ["api"] => Some(Target::ApiRoot),
        ["api", version] => Some(Target::GroupVersion(String::new(), version.to_string())),
        ["api", version, rest @ ..] => resource("", version, rest),
        ["apis"] => Some(Target::ApisRoot),
        ["apis", group] => Some(Target::Group(group.to_string())),
        ["apis", group, version] => {
            Some(Target::GroupVersion(group.to_string(), version.to_string()))
        }
        ["apis", group, version, rest @ ..] => resource(group, version, rest),
        ["openapi", "v2"] => Some(Target::OpenApiV2),
        ["openapi", "v3"] => Some(Target::OpenApiV3Root),
        ["openapi", "v3", "api", version] => {
            Some(Target::OpenApiV3(String::new(), version.to_string()))
        }
        ["openapi", "v3", "apis", group, version] => {
            Some(Target::OpenApiV3(group.to_string(), version.to_string()))
        }
        _ => None,
    }
}

async fn handle(
    State(world): State<Arc<World>>,
    method: Method,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut response = match dispatch(&world, &method, &uri, &query, &headers, &body) {
        Ok(Reply::Done(response)) => {
            // A zone control plane reacts to its Deployment at once: scaled
            // to 0 it goes offline before the next periodic pass.
            if method != Method::GET && uri.path().contains("/deployments/") {
                if let Err(e) = zone::reconcile(&world) {
                    tracing::warn!("zone simulation: {}", e.message());
                }
            }
            response
        }
        Ok(Reply::Watch(request)) => watch(world, *request),
        Err(failure) => failure.into_response(),
    };
    // As the real API server: no client may answer from an HTTP cache (a
    // cached discovery document would hide a CRD created a moment ago).
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache, private"),
    );
    response
}

enum Reply {
    Done(Response),
    Watch(Box<WatchRequest>),
}

fn not_found_path() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn dispatch(
    world: &World,
    method: &Method,
    uri: &Uri,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Reply, Failure> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml ({content_type})"),
        ));
    }
    let target = parse_target(uri.path()).ok_or_else(not_found_path)?;
    let types = world.store.tx(|t| {
        ensure_default_namespaces(world, t)?;
        registry::all_types(t)
    })?;
    let done = |v: Value| Ok(Reply::Done(ok(v)));
    match target {
        Target::Version => done(json!({
            "major": "1", "minor": "32", "gitVersion": KUBERNETES_VERSION,
            "gitCommit": "meshform-sandbox", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
            "platform": "linux/amd64",
        })),
        Target::ApiRoot => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            done(json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}))
        }
        Target::ApisRoot => {
            let groups: Vec<Value> = registry::groups(&types)
                .iter()
                .map(|(g, vs)| registry::group_json(g, vs))
                .collect();
            done(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        Target::Group(group) => {
            let groups = registry::groups(&types);
            let (_, versions) = groups
                .iter()
                .find(|(g, _)| *g == group)
                .ok_or_else(not_found_path)?;
            let mut out = registry::group_json(&group, versions);
            out["kind"] = json!("APIGroup");
            out["apiVersion"] = json!("v1");
            done(out)
        }
        Target::GroupVersion(group, version) => {
            let mut resources = Vec::new();
            for ty in types
                .iter()
                .filter(|t| t.group == group && t.version == version)
            {
                resources.push(ty.discovery_entry());
                if ty.has_status {
                    resources.push(json!({"name": format!("{}/status", ty.plural), "singularName": "",
                        "namespaced": ty.namespaced, "kind": ty.kind, "verbs": ["get", "patch", "update"]}));
                }
                if scale::scalable(ty) {
                    resources.push(
                        json!({"name": format!("{}/scale", ty.plural), "singularName": "",
                        "namespaced": ty.namespaced, "group": "autoscaling", "version": "v1",
                        "kind": "Scale", "verbs": ["get", "patch", "update"]}),
                    );
                }
            }
            if resources.is_empty() {
                return Err(not_found_path());
            }
            let group_version = if group.is_empty() {
                version
            } else {
                format!("{group}/{version}")
            };
            done(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
            )
        }
        Target::OpenApiV2 => Err(not_found_path()),
        Target::OpenApiV3Root => {
            let mut paths = serde_json::Map::new();
            paths.insert(
                "api/v1".into(),
                json!({"serverRelativeURL": "/openapi/v3/api/v1?hash=sandbox"}),
            );
            for (group, versions) in registry::groups(&types) {
                for version in versions {
                    let key = format!("apis/{group}/{version}");
                    paths.insert(
                        key.clone(),
                        json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash=sandbox")}),
                    );
                }
            }
            done(json!({"paths": paths}))
        }
        Target::OpenApiV3(group, version) => {
            if !types
                .iter()
                .any(|t| t.group == group && t.version == version)
            {
                return Err(not_found_path());
            }
            done(registry::openapi_v3_group_version(&types, &group, &version))
        }
        Target::Resource {
            group,
            version,
            namespace,
            plural,
            name,
            sub,
        } => {
            let ty = types
                .iter()
                .find(|t| t.group == group && t.version == version && t.plural == plural)
                .cloned()
                .ok_or_else(not_found_path)?;
            if sub
                .as_deref()
                .is_some_and(|s| s != "status" && s != "scale" && s != "finalize")
            {
                return Err(not_found_path());
            }
            let namespace = if ty.namespaced { namespace } else { None };
            let call = Call {
                world,
                ty: &ty,
                namespace,
                query,
                headers,
            };
            match (method.as_str(), name) {
                ("GET" | "PUT" | "PATCH", Some(name)) if sub.as_deref() == Some("scale") => {
                    call.scale(method.as_str(), &name, body).map(Reply::Done)
                }
                ("GET", None) if is_watch(query) => call.watch_request().map(|w| Reply::Watch(Box::new(w))),
                ("GET", None) => call.list().map(Reply::Done),
                ("GET", Some(name)) => call.get(&name).map(Reply::Done),
                ("POST", None) => call.create(body).map(Reply::Done),
                ("PUT", Some(name)) => call.update(&name, sub.as_deref(), body).map(Reply::Done),
                ("PATCH", Some(name)) => call.patch(&name, sub.as_deref(), body).map(Reply::Done),
                ("DELETE", Some(name)) => call.delete(&name).map(Reply::Done),
                ("DELETE", None) => call.delete_collection().map(Reply::Done),
                _ => Err(Failure::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    format!("the server does not allow this method on the requested resource ({method})"),
                )),
            }
        }
    }
}

fn is_watch(query: &BTreeMap<String, String>) -> bool {
    matches!(query.get("watch").map(String::as_str), Some("true" | "1"))
}

fn next_rv(t: &Tx<'_>) -> Result<String, StoreError> {
    Ok(t.next_counter(RV_COUNTER)?.to_string())
}

/// Core-group objects carry no `metadata.generation`, as on a real server.
fn tracks_generation(ty: &ResourceType) -> bool {
    !ty.group.is_empty()
}

/// uid, resourceVersion, generation, creationTimestamp, defaults and status
/// of a new object.
fn stamp_new(t: &Tx<'_>, ty: &ResourceType, object: &mut Value) -> Result<(), StoreError> {
    object["apiVersion"] = json!(ty.api_version());
    object["kind"] = json!(ty.kind);
    let meta = &mut object["metadata"];
    meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
    meta["creationTimestamp"] = json!(objects::timestamp(t.now()));
    if tracks_generation(ty) {
        meta["generation"] = json!(1);
    }
    if let Some(m) = meta.as_object_mut() {
        m.remove("deletionTimestamp");
        m.remove("selfLink");
    }
    objects::apply_defaults(ty, object);
    objects::simulate_status(ty, object, t.now());
    object["metadata"]["resourceVersion"] = json!(next_rv(t)?);
    Ok(())
}

fn notify(world: &World, ty: &ResourceType, namespace: &str, kind: &'static str, object: &Value) {
    world.kube_events.publish(WatchEvent {
        collection: ty.collection(),
        namespace: namespace.to_string(),
        kind,
        rv: object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse().ok())
            .unwrap_or(0),
        object: object.clone(),
    });
}

/// Tells watchers an object is gone; the deletion is a change of its own,
/// with a resourceVersion of its own, as on a real server.
fn notify_deleted(
    world: &World,
    t: &Tx<'_>,
    ty: &ResourceType,
    namespace: &str,
    object: &Value,
) -> Result<(), StoreError> {
    let mut gone = object.clone();
    gone["metadata"]["resourceVersion"] = json!(next_rv(t)?);
    notify(world, ty, namespace, "DELETED", &gone);
    Ok(())
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|accept| accept.split(',').next())
        .is_some_and(|first| first.contains("as=Table"))
}

/// Parses a JSON (or YAML, for apply patches) body into an object.
fn parse_body(body: &Bytes, yaml_ok: bool) -> Result<Value, Failure> {
    let parsed = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(e) if yaml_ok => serde_yaml_ng::from_slice::<Value>(body).map_err(|y| {
            Failure::bad_request(format!("the body is neither JSON ({e}) nor YAML ({y})"))
        })?,
        Err(e) => {
            return Err(Failure::bad_request(format!(
                "the body is not valid JSON: {e}"
            )))
        }
    };
    Ok(parsed)
}

fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(m) = copy.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    copy
}

struct Call<'a> {
    world: &'a World,
    ty: &'a ResourceType,
    namespace: Option<String>,
    query: &'a BTreeMap<String, String>,
    headers: &'a HeaderMap,
}

fn patch_lacks_rv(next: &Value, current: &Value) -> bool {
    next["metadata"]["resourceVersion"].is_null()
        || next["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

//! The Kubernetes API server: discovery, OpenAPI v3 stubs for kubectl, and
//! generic create/get/list/watch/update/patch/delete of any known resource,
//! stored as JSON.

mod objects;
mod patch;
mod registry;
mod zone;

pub use zone::reconcile as reconcile_zones;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
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
        Ok(Reply::Done(response)) => response,
        Ok(Reply::Watch(request)) => watch(world, request),
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
    Watch(WatchRequest),
}

struct WatchRequest {
    ty: ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    initial: Vec<Value>,
    bookmark_rv: Option<String>,
    timeout: Duration,
    table: bool,
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
                ("GET", None) if is_watch(query) => call.watch_request().map(Reply::Watch),
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

/// Creates the namespaces every cluster has, unless `default` exists.
pub fn ensure_defaults(world: &World) -> Result<(), StoreError> {
    world.store.tx(|t| ensure_default_namespaces(world, t))
}

fn ensure_default_namespaces(world: &World, t: &Tx<'_>) -> Result<(), StoreError> {
    if t.get(API, "namespaces", "", "default")?.is_some() {
        return Ok(());
    }
    let ty = namespace_type();
    for name in DEFAULT_NAMESPACES {
        if t.get(API, "namespaces", "", name)?.is_none() {
            let mut ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}});
            stamp_new(t, &ty, &mut ns)?;
            t.put(API, "namespaces", "", name, &ns)?;
            notify(world, &ty, "", "ADDED", &ns);
        }
    }
    Ok(())
}

fn namespace_type() -> ResourceType {
    ResourceType {
        group: String::new(),
        version: "v1".into(),
        kind: "Namespace".into(),
        plural: "namespaces".into(),
        singular: "namespace".into(),
        namespaced: false,
        short_names: vec!["ns".into()],
        columns: vec![],
        has_status: true,
    }
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
    let _ = world.kube_events.send(WatchEvent {
        collection: ty.collection(),
        namespace: namespace.to_string(),
        kind,
        object: object.clone(),
    });
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

impl Call<'_> {
    fn scope(&self) -> String {
        self.namespace.clone().unwrap_or_default()
    }

    fn collection(&self) -> String {
        self.ty.collection()
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn selectors(&self) -> Result<(LabelSelector, FieldSelector), Failure> {
        let labels =
            LabelSelector::parse(self.query.get("labelSelector").map_or("", String::as_str))
                .map_err(Failure::bad_request)?;
        let fields =
            FieldSelector::parse(self.query.get("fieldSelector").map_or("", String::as_str))
                .map_err(Failure::bad_request)?;
        Ok((labels, fields))
    }

    fn present(&self, mut object: Value) -> Value {
        object["apiVersion"] = json!(self.ty.api_version());
        object
    }

    fn matching(&self, t: &Tx<'_>) -> Result<Vec<Value>, Failure> {
        let (labels, fields) = self.selectors()?;
        let rows = match &self.namespace {
            Some(ns) => t.list(API, &self.collection(), Some(ns))?,
            None => t.list(API, &self.collection(), None)?,
        };
        let mut items: Vec<Value> = rows
            .into_iter()
            .map(|r| self.present(r.body))
            .filter(|o| labels.matches(&o["metadata"]["labels"]) && fields.matches(o))
            .collect();
        items.sort_by(|a, b| {
            let key = |o: &Value| {
                (
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(items)
    }

    fn list(&self) -> Result<Response, Failure> {
        let (items, rv) = self.world.store.tx(|t| {
            let items = self.matching(t)?;
            Ok::<_, Failure>((items, t.next_counter(RV_COUNTER)?.to_string()))
        })?;
        let offset: usize = self
            .query
            .get("continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let limit: usize = self
            .query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let mut metadata = json!({"resourceVersion": rv});
        if offset.saturating_add(limit) < total {
            metadata["continue"] = json!((offset + limit).to_string());
            metadata["remainingItemCount"] = json!(total - offset - limit);
        }
        if wants_table(self.headers) {
            let mut table = objects::table(self.ty, &page, &rv, self.world.store.clock().now());
            table["metadata"] = metadata;
            return Ok(ok(table));
        }
        Ok(ok(json!({
            "kind": format!("{}List", self.ty.kind),
            "apiVersion": self.ty.api_version(),
            "metadata": metadata,
            "items": page,
        })))
    }

    fn load(&self, t: &Tx<'_>, name: &str) -> Result<Value, Failure> {
        t.get(API, &self.collection(), &self.scope(), name)?
            .map(|o| self.present(o))
            .ok_or_else(|| Failure::not_found(self.ty, name))
    }

    fn get(&self, name: &str) -> Result<Response, Failure> {
        let object = self.world.store.tx(|t| self.load(t, name))?;
        if wants_table(self.headers) {
            let rv = object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            return Ok(ok(objects::table(
                self.ty,
                &[object],
                &rv,
                self.world.store.clock().now(),
            )));
        }
        Ok(ok(object))
    }

    fn check_kind(&self, object: &Value) -> Result<(), Failure> {
        if !object.is_object() {
            return Err(Failure::bad_request("the body must be a JSON object"));
        }
        let kind = object["kind"].as_str();
        let api_version = object["apiVersion"].as_str();
        if kind.is_some_and(|k| k != self.ty.kind)
            || api_version.is_some_and(|v| v != self.ty.api_version())
        {
            return Err(Failure::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                api_version.unwrap_or_default(),
                self.ty.api_version()
            )));
        }
        Ok(())
    }

    fn check_namespace(&self, t: &Tx<'_>, object: &mut Value) -> Result<(), Failure> {
        if !self.ty.namespaced {
            if let Some(m) = object["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            return Ok(());
        }
        let body_ns = object["metadata"]["namespace"].as_str().map(str::to_string);
        let ns = match (&self.namespace, body_ns) {
            (Some(path), Some(body)) if *path != body => {
                return Err(Failure::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            (Some(path), _) => path.clone(),
            (None, Some(body)) => body,
            (None, None) => "default".to_string(),
        };
        if t.get(API, "namespaces", "", &ns)?.is_none() {
            return Err(Failure::not_found(&namespace_type(), &ns));
        }
        object["metadata"]["namespace"] = json!(ns);
        Ok(())
    }

    fn validate(&self, object: &Value, name: &str) -> Result<(), Failure> {
        if self.ty.kind == "Secret" {
            for (key, value) in object["data"].as_object().into_iter().flatten() {
                let valid = value.as_str().is_some_and(|v| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v).is_ok()
                });
                if !valid {
                    return Err(Failure::invalid(
                        self.ty,
                        name,
                        &format!("data[{key}]"),
                        "must be base64-encoded",
                    ));
                }
            }
        }
        let valid_name = !name.is_empty()
            && name.len() <= 253
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == ':'
            })
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(Failure::invalid(
                self.ty,
                name,
                "metadata.name",
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            ));
        }
        Ok(())
    }

    fn create(&self, body: &Bytes) -> Result<Response, Failure> {
        let mut object = parse_body(body, false)?;
        self.check_kind(&object)?;
        let created = self.world.store.tx(|t| {
            self.check_namespace(t, &mut object)?;
            let name = match object["metadata"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
            {
                Some(name) => name.to_string(),
                None => match object["metadata"]["generateName"].as_str() {
                    Some(prefix) => {
                        let suffix: String = (0..5).map(|_| fastrand::lowercase()).collect();
                        format!("{prefix}{suffix}")
                    }
                    None => {
                        return Err(Failure::invalid(
                            self.ty,
                            "",
                            "metadata.name",
                            "Required value: name or generateName is required",
                        ))
                    }
                },
            };
            object["metadata"]["name"] = json!(name);
            self.validate(&object, &name)?;
            if t.get(API, &self.collection(), &self.scope_of(&object), &name)?
                .is_some()
            {
                return Err(Failure {
                    details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                    ..Failure::new(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        format!("{} \"{name}\" already exists", qualified(self.ty)),
                    )
                });
            }
            stamp_new(t, self.ty, &mut object)?;
            if !self.dry_run() {
                self.store(t, &object, "ADDED")?;
            }
            Ok(object)
        })?;
        Ok((StatusCode::CREATED, axum::Json(self.present(created))).into_response())
    }

    fn scope_of(&self, object: &Value) -> String {
        if self.ty.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        }
    }

    /// Writes an object, notifies watchers, and runs the simulated
    /// controllers that react to it.
    fn store(&self, t: &Tx<'_>, object: &Value, event: &'static str) -> Result<(), Failure> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let scope = self.scope_of(object);
        t.put(API, &self.collection(), &scope, name, object)?;
        notify(self.world, self.ty, &scope, event, object);
        if self.ty.group == "apps" && self.ty.kind == "Deployment" {
            self.sync_replica_sets(t, object)?;
        }
        Ok(())
    }

    fn sync_replica_sets(&self, t: &Tx<'_>, deployment: &Value) -> Result<(), Failure> {
        let Some(mut wanted) = objects::replica_set_for(deployment) else {
            return Ok(());
        };
        let rs_type = ResourceType {
            group: "apps".into(),
            version: "v1".into(),
            kind: "ReplicaSet".into(),
            plural: "replicasets".into(),
            singular: "replicaset".into(),
            namespaced: true,
            short_names: vec![],
            columns: vec![],
            has_status: true,
        };
        let scope = self.scope_of(deployment);
        let uid = deployment["metadata"]["uid"].clone();
        let wanted_name = wanted["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for row in t.list(API, &rs_type.collection(), Some(&scope))? {
            let owned = row.body["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
            if owned && row.name != wanted_name && row.body["spec"]["replicas"] != 0 {
                let mut old = row.body;
                old["spec"]["replicas"] = json!(0);
                objects::simulate_status(&rs_type, &mut old, t.now());
                old["metadata"]["resourceVersion"] = json!(next_rv(t)?);
                t.put(API, &rs_type.collection(), &scope, &row.name, &old)?;
                notify(self.world, &rs_type, &scope, "MODIFIED", &old);
            }
        }
        match t.get(API, &rs_type.collection(), &scope, &wanted_name)? {
            Some(mut existing) => {
                existing["spec"]["replicas"] = wanted["spec"]["replicas"].clone();
                existing["metadata"]["generation"] =
                    json!(int(&existing["metadata"]["generation"]) + 1);
                objects::simulate_status(&rs_type, &mut existing, t.now());
                existing["metadata"]["resourceVersion"] = json!(next_rv(t)?);
                t.put(API, &rs_type.collection(), &scope, &wanted_name, &existing)?;
                notify(self.world, &rs_type, &scope, "MODIFIED", &existing);
            }
            None => {
                stamp_new(t, &rs_type, &mut wanted)?;
                t.put(API, &rs_type.collection(), &scope, &wanted_name, &wanted)?;
                notify(self.world, &rs_type, &scope, "ADDED", &wanted);
            }
        }
        for row in t.list(API, &rs_type.collection(), Some(&scope))? {
            let owned = row.body["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
            if owned {
                self.sync_pods(t, &scope, &row.body)?;
            }
        }
        Ok(())
    }

    /// Running, ready Pods for a ReplicaSet, as many as it wants.
    fn sync_pods(&self, t: &Tx<'_>, scope: &str, replica_set: &Value) -> Result<(), Failure> {
        let pod_type = ResourceType {
            group: String::new(),
            version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            singular: "pod".into(),
            namespaced: true,
            short_names: vec![],
            columns: vec![],
            has_status: true,
        };
        let uid = replica_set["metadata"]["uid"].clone();
        let wanted = usize::try_from(int(&replica_set["spec"]["replicas"]).max(0)).unwrap_or(0);
        let owned: Vec<crate::store::Row> = t
            .list(API, "pods", Some(scope))?
            .into_iter()
            .filter(|p| {
                p.body["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| r["uid"] == uid))
            })
            .collect();
        for extra in owned.iter().skip(wanted) {
            t.delete(API, "pods", scope, &extra.name)?;
            notify(self.world, &pod_type, scope, "DELETED", &extra.body);
        }
        for _ in owned.len()..wanted {
            if let Some(mut pod) = objects::pod_for(replica_set, t.now()) {
                stamp_new(t, &pod_type, &mut pod)?;
                let name = pod["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                t.put(API, "pods", scope, &name, &pod)?;
                notify(self.world, &pod_type, scope, "ADDED", &pod);
            }
        }
        Ok(())
    }

    /// Stores `next` as the new version of `current`.
    fn replace(
        &self,
        t: &Tx<'_>,
        current: &Value,
        mut next: Value,
        status_only: bool,
    ) -> Result<Value, Failure> {
        let name = current["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(rv) = next["metadata"]["resourceVersion"].as_str() {
            if rv
                != current["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
            {
                return Err(Failure {
                    details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                    ..Failure::new(StatusCode::CONFLICT, "Conflict", format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                        qualified(self.ty)))
                });
            }
        }
        if status_only {
            let mut updated = current.clone();
            updated["status"] = next["status"].clone();
            next = updated;
        } else if self.ty.has_status && current.get("status").is_some() {
            next["status"] = current["status"].clone();
        }
        if current["immutable"] == true
            && (next["data"] != current["data"] || next["binaryData"] != current["binaryData"])
        {
            return Err(Failure::invalid(
                self.ty,
                &name,
                "data",
                "field is immutable when `immutable` is set",
            ));
        }
        for key in ["uid", "creationTimestamp", "name", "namespace"] {
            next["metadata"][key] = current["metadata"][key].clone();
        }
        if let Some(m) = next["metadata"].as_object_mut() {
            m.retain(|_, v| !v.is_null());
        }
        next["apiVersion"] = json!(self.ty.api_version());
        next["kind"] = json!(self.ty.kind);
        objects::apply_defaults(self.ty, &mut next);
        if tracks_generation(self.ty) {
            let generation = int(&current["metadata"]["generation"]).max(1);
            let changed = spec_part(&next) != spec_part(current);
            next["metadata"]["generation"] =
                json!(if changed { generation + 1 } else { generation });
        }
        if !status_only {
            objects::simulate_status(self.ty, &mut next, t.now());
        }
        self.validate(&next, &name)?;
        next["metadata"]["resourceVersion"] = json!(next_rv(t)?);
        if !self.dry_run() {
            self.store(t, &next, "MODIFIED")?;
            if self.ty.kind == "CustomResourceDefinition" {
                self.drop_orphaned_custom_resources(t, current, &next)?;
            }
        }
        Ok(next)
    }

    fn update(&self, name: &str, sub: Option<&str>, body: &Bytes) -> Result<Response, Failure> {
        let object = parse_body(body, false)?;
        self.check_kind(&object)?;
        if object["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n != name)
        {
            return Err(Failure::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        let updated = self.world.store.tx(|t| {
            let current = self.load(t, name)?;
            self.replace(t, &current, object, sub == Some("status"))
        })?;
        Ok(ok(self.present(updated)))
    }

    fn patch(&self, name: &str, sub: Option<&str>, body: &Bytes) -> Result<Response, Failure> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let apply = content_type == "application/apply-patch+yaml";
        let patch = parse_body(body, apply)?;
        let updated = self.world.store.tx(|t| {
            let current = match t.get(API, &self.collection(), &self.scope(), name)? {
                Some(c) => self.present(c),
                None if apply => return self.apply_create(t, name, patch),
                None => return Err(Failure::not_found(self.ty, name)),
            };
            let next = match content_type.as_str() {
                "application/json-patch+json" => {
                    let ops: json_patch::Patch = serde_json::from_value(patch)
                        .map_err(|e| Failure::bad_request(format!("invalid JSON patch: {e}")))?;
                    let mut next = current.clone();
                    json_patch::patch(&mut next, &ops)
                        .map_err(|e| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", format!("the JSON patch could not be applied: {e}")))?;
                    next
                }
                "application/merge-patch+json" => {
                    let mut next = current.clone();
                    json_patch::merge(&mut next, &patch);
                    next
                }
                "application/strategic-merge-patch+json" => {
                    if self.ty.group.contains('.') && !self.ty.group.ends_with("k8s.io") {
                        return Err(Failure::new(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                        ));
                    }
                    patch::strategic_merge(&current, &patch)
                }
                "application/apply-patch+yaml" => self.apply_merge(&current, patch)?,
                other => {
                    return Err(Failure::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UnsupportedMediaType",
                        format!("the body of the request was in an unknown format ({other})"),
                    ))
                }
            };
            let mut next = next;
            if !apply && patch_lacks_rv(&next, &current) {
                next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            }
            if apply {
                next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            }
            self.replace(t, &current, next, sub == Some("status"))
        })?;
        Ok(ok(self.present(updated)))
    }

    fn field_manager(&self) -> String {
        self.query
            .get("fieldManager")
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    }

    fn managed_entry(&self, applied: &Value) -> Value {
        let mut paths = patch::field_paths(applied);
        paths.retain(|p| !matches!(p.first(), Some(patch::Step::Field(f)) if f == "apiVersion" || f == "kind"));
        json!({
            "manager": self.field_manager(),
            "operation": "Apply",
            "apiVersion": self.ty.api_version(),
            "time": objects::timestamp(self.world.store.clock().now()),
            "fieldsType": "FieldsV1",
            "fieldsV1": patch::fields_v1(&paths),
        })
    }

    fn apply_create(&self, t: &Tx<'_>, name: &str, applied: Value) -> Result<Value, Failure> {
        self.check_kind(&applied)?;
        let mut object = applied.clone();
        object["metadata"]["name"] = json!(name);
        self.check_namespace(t, &mut object)?;
        self.validate(&object, name)?;
        object["metadata"]["managedFields"] = json!([self.managed_entry(&applied)]);
        stamp_new(t, self.ty, &mut object)?;
        if !self.dry_run() {
            self.store(t, &object, "ADDED")?;
        }
        Ok(object)
    }

    /// Server-side apply on an existing object. A field another applier
    /// owns with a different value is a conflict (409) unless `force=true`,
    /// which takes it over. Fields this manager applied before and no longer
    /// applies are removed unless another applier still owns them. Fields
    /// written by plain updates are not tracked.
    fn apply_merge(&self, current: &Value, applied: Value) -> Result<Value, Failure> {
        self.check_kind(&applied)?;
        let manager = self.field_manager();
        let force = self.query.get("force").is_some_and(|f| f == "true");
        let mut managed: Vec<Value> = current["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let entry = self.managed_entry(&applied);
        let now = patch::paths_of_fields_v1(&entry["fieldsV1"]);
        let mut conflicts = Vec::new();
        for other in managed.iter_mut() {
            if other["manager"] == manager.as_str() || other["operation"] != "Apply" {
                continue;
            }
            let mut owned = patch::paths_of_fields_v1(&other["fieldsV1"]);
            let contested: Vec<_> = owned
                .intersection(&now)
                .filter(|p| patch::value_at(current, p) != patch::value_at(&applied, p))
                .cloned()
                .collect();
            if contested.is_empty() {
                continue;
            }
            if force {
                for p in &contested {
                    owned.remove(p);
                }
                other["fieldsV1"] = patch::fields_v1(&owned);
            } else {
                let who = other["manager"].as_str().unwrap_or("unknown").to_string();
                conflicts.extend(
                    contested
                        .iter()
                        .map(|p| format!("conflict with \"{who}\": {}", patch::display(p))),
                );
            }
        }
        if !conflicts.is_empty() {
            let name = current["metadata"]["name"].as_str().unwrap_or_default();
            return Err(Failure {
                details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                ..Failure::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "Apply failed with {} conflict(s): {}",
                        conflicts.len(),
                        conflicts.join(", ")
                    ),
                )
            });
        }
        let others: std::collections::BTreeSet<Vec<patch::Step>> = managed
            .iter()
            .filter(|m| m["manager"] != manager.as_str() && m["operation"] == "Apply")
            .flat_map(|m| patch::paths_of_fields_v1(&m["fieldsV1"]))
            .collect();
        let previous = managed
            .iter()
            .position(|m| m["manager"] == manager.as_str() && m["operation"] == "Apply");
        let mut next = current.clone();
        if let Some(i) = previous {
            let before = patch::paths_of_fields_v1(&managed[i]["fieldsV1"]);
            for gone in before.difference(&now).filter(|p| !others.contains(*p)) {
                patch::remove_path(&mut next, gone);
            }
            managed[i] = entry;
        } else {
            managed.push(entry);
        }
        let mut next = patch::strategic_merge(&next, &applied);
        next["metadata"]["managedFields"] = Value::Array(managed);
        Ok(next)
    }

    fn delete(&self, name: &str) -> Result<Response, Failure> {
        let deleted = self.world.store.tx(|t| {
            let mut object = self.load(t, name)?;
            if self.dry_run() {
                return Ok(object);
            }
            self.remove(t, &object)?;
            if self.ty.kind == "Namespace" && self.ty.group.is_empty() {
                object["status"]["phase"] = json!("Terminating");
                object["metadata"]["deletionTimestamp"] = json!(objects::timestamp(t.now()));
            }
            Ok::<_, Failure>(object)
        })?;
        Ok(ok(deleted))
    }

    /// Deletes an object and what depends on it: a namespace's objects, a
    /// CRD's custom resources, objects owned through ownerReferences.
    fn remove(&self, t: &Tx<'_>, object: &Value) -> Result<(), Failure> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let scope = self.scope_of(object);
        t.delete(API, &self.collection(), &scope, name)?;
        notify(self.world, self.ty, &scope, "DELETED", object);
        if self.ty.kind == "Namespace" && self.ty.group.is_empty() {
            let types = registry::all_types(t)?;
            for (collection, row) in t.list_scope(API, name)? {
                t.delete(API, &collection, name, &row.name)?;
                if let Some(ty) = types.iter().find(|ty| ty.collection() == collection) {
                    notify(self.world, ty, name, "DELETED", &row.body);
                }
            }
        }
        if self.ty.kind == "CustomResourceDefinition" {
            self.drop_orphaned_custom_resources(t, object, &json!({}))?;
        }
        let uid = object["metadata"]["uid"].clone();
        if self.ty.namespaced && !uid.is_null() {
            let types = registry::all_types(t)?;
            for (collection, row) in t.list_scope(API, &scope)? {
                let owned = row.body["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
                if owned {
                    if let Some(ty) = types.iter().find(|ty| ty.collection() == collection) {
                        let call = Call {
                            world: self.world,
                            ty,
                            namespace: Some(scope.clone()),
                            query: self.query,
                            headers: self.headers,
                        };
                        call.remove(t, &row.body)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes stored custom resources whose CRD no longer serves them.
    fn drop_orphaned_custom_resources(
        &self,
        t: &Tx<'_>,
        before: &Value,
        after: &Value,
    ) -> Result<(), Failure> {
        let old: Vec<String> = registry::types_of_crd(before)
            .iter()
            .map(ResourceType::collection)
            .collect();
        let new: Vec<String> = registry::types_of_crd(after)
            .iter()
            .map(ResourceType::collection)
            .collect();
        for collection in old.iter().filter(|c| !new.contains(c)) {
            for row in t.list(API, collection, None)? {
                t.delete(API, collection, &row.scope, &row.name)?;
            }
        }
        Ok(())
    }

    fn delete_collection(&self) -> Result<Response, Failure> {
        let deleted = self.world.store.tx(|t| {
            let items = self.matching(t)?;
            if !self.dry_run() {
                for item in &items {
                    self.remove(t, item)?;
                }
            }
            Ok::<_, Failure>(items)
        })?;
        Ok(ok(json!({
            "kind": format!("{}List", self.ty.kind),
            "apiVersion": self.ty.api_version(),
            "metadata": {},
            "items": deleted,
        })))
    }

    fn watch_request(&self) -> Result<WatchRequest, Failure> {
        let (labels, fields) = self.selectors()?;
        let rv = self
            .query
            .get("resourceVersion")
            .cloned()
            .unwrap_or_default();
        let send_initial = self
            .query
            .get("sendInitialEvents")
            .is_some_and(|v| v == "true");
        let initial = if send_initial || rv.is_empty() || rv == "0" {
            self.world.store.tx(|t| self.matching(t))?
        } else {
            Vec::new()
        };
        let bookmark_rv = if send_initial {
            Some(
                self.world
                    .store
                    .tx(|t| Ok::<_, Failure>(t.next_counter(RV_COUNTER)?.to_string()))?,
            )
        } else {
            None
        };
        let timeout = self
            .query
            .get("timeoutSeconds")
            .and_then(|s| s.parse().ok())
            .map_or(Duration::from_secs(1800), Duration::from_secs);
        Ok(WatchRequest {
            ty: self.ty.clone(),
            namespace: self.namespace.clone(),
            labels,
            fields,
            initial,
            bookmark_rv,
            timeout,
            table: wants_table(self.headers),
        })
    }
}

fn patch_lacks_rv(next: &Value, current: &Value) -> bool {
    next["metadata"]["resourceVersion"].is_null()
        || next["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// Streams watch events as newline-delimited JSON until the timeout or the
/// client goes away.
fn watch(world: Arc<World>, request: WatchRequest) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(64);
    let mut events = world.kube_events.subscribe();
    let clock = world.store.clock();
    tokio::spawn(async move {
        let line = |kind: &str, object: &Value| {
            let object = if request.table && kind != "BOOKMARK" {
                let rv = object["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default();
                objects::table(&request.ty, std::slice::from_ref(object), rv, clock.now())
            } else {
                object.clone()
            };
            let mut text = json!({"type": kind, "object": object}).to_string();
            text.push('\n');
            Ok(Bytes::from(text))
        };
        for object in &request.initial {
            if tx.send(line("ADDED", object)).await.is_err() {
                return;
            }
        }
        if let Some(rv) = &request.bookmark_rv {
            let bookmark = json!({
                "kind": request.ty.kind, "apiVersion": request.ty.api_version(),
                "metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}},
            });
            if tx.send(line("BOOKMARK", &bookmark)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + request.timeout;
        let collection = request.ty.collection();
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            };
            let event = match event {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            let relevant = event.collection == collection
                && request
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == event.namespace)
                && request.labels.matches(&event.object["metadata"]["labels"])
                && request.fields.matches(&event.object);
            if relevant {
                let mut object = event.object.clone();
                object["apiVersion"] = json!(request.ty.api_version());
                if tx.send(line(event.kind, &object)).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

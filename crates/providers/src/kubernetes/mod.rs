//! hashicorp/kubernetes 2.35.1: `kubernetes_namespace`, `kubernetes_secret`,
//! `kubernetes_config_map` (each also as `_v1`) through typed k8s-openapi
//! objects, and `kubernetes_manifest` through server-side apply of a
//! `DynamicObject`. Planning is terraform-plugin-sdk/v2's ([`values`]); the
//! connection comes from the provider block or the environment
//! ([`connection`]). Offline, reads return the prior state and nothing
//! contacts a cluster.

pub mod config_map;
pub mod connection;
pub mod manifest;
pub mod namespace;
pub mod readiness;
pub mod schema;
pub mod secret;
pub(crate) mod values;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use meshform_lang::schema::{ProviderSchema, Schema};
use meshform_lang::{Diagnostic, Diagnostics, Value};

pub use connection::{Connection, ConnectionError, ConnectionSettings, ConnectionSource};
pub use schema::kubernetes_schema;

use crate::provider::*;

/// Source address of the kubernetes provider.
pub const SOURCE: &str = "hashicorp/kubernetes";
/// The provider version whose behaviour this implements.
pub const VERSION: &str = "2.35.1";

/// The kubernetes provider's factory.
#[derive(Debug, Clone)]
pub struct KubernetesFactory {
    schema: Arc<ProviderSchema>,
}

impl Default for KubernetesFactory {
    fn default() -> Self {
        KubernetesFactory::new()
    }
}

impl KubernetesFactory {
    pub fn new() -> KubernetesFactory {
        KubernetesFactory {
            schema: Arc::new(kubernetes_schema()),
        }
    }
}

impl ProviderFactory for KubernetesFactory {
    fn source(&self) -> &str {
        SOURCE
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match kind_of(type_name) {
            Some(Kind::Manifest) | None => Diagnostics::default(),
            Some(kind) => validate_metadata(kind, config),
        }
    }

    fn configure(&self, req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics> {
        let settings = ConnectionSettings::from_value(&req.config);
        let ignored = IgnoredKeys::from_config(&req.config)?;
        let mut provider = KubernetesProvider::new(
            self.schema.clone(),
            connection::resolve(&settings, &req.env),
            req.offline,
        );
        provider.ignored = ignored;
        Ok(Arc::new(provider))
    }
}

/// A lazily connected cluster: the connection is resolved when the
/// provider is configured, the client built on first use, so that plans
/// that never need the cluster never fail for lack of one.
pub(crate) struct Cluster {
    connection: Result<Connection, ConnectionError>,
    client: tokio::sync::OnceCell<kube::Client>,
}

impl Cluster {
    pub(crate) fn new(connection: Result<Connection, ConnectionError>) -> Cluster {
        Cluster {
            connection,
            client: tokio::sync::OnceCell::new(),
        }
    }

    pub(crate) async fn client(&self) -> Result<kube::Client, Diagnostics> {
        let connection = self.connection.as_ref().map_err(connection_diagnostic)?;
        let client = self
            .client
            .get_or_try_init(|| connection::connect(connection))
            .await
            .map_err(|e| connection_diagnostic(&e))?;
        Ok(client.clone())
    }
}

fn connection_diagnostic(e: &ConnectionError) -> Diagnostics {
    Diagnostic::error(
        "Kubernetes cluster unreachable",
        format!("{}.", capitalise(&e.to_string())),
    )
    .into()
}

pub(crate) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A failed Kubernetes API call as a diagnostic; the API server's status
/// message is kept.
pub(crate) fn api_error(action: &str, what: &str, e: &kube::Error) -> Diagnostics {
    let detail = match e {
        kube::Error::Api(status) => format!(
            "{action} {what} failed: {} ({} {}).",
            status.message, status.code, status.reason
        ),
        other => format!("{action} {what} failed: {other}."),
    };
    Diagnostic::error(format!("Error while {}", action.to_lowercase()), detail).into()
}

/// Whether an API error is "not found".
pub(crate) fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// The resource kinds of this provider (the `_v1` names are aliases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Namespace,
    Secret,
    ConfigMap,
    Manifest,
}

fn kind_of(type_name: &str) -> Option<Kind> {
    Some(match type_name.strip_suffix("_v1").unwrap_or(type_name) {
        "kubernetes_namespace" => Kind::Namespace,
        "kubernetes_secret" => Kind::Secret,
        "kubernetes_config_map" => Kind::ConfigMap,
        "kubernetes_manifest" => Kind::Manifest,
        _ => return None,
    })
}

fn unsupported(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid resource type",
        format!("The provider hashicorp/kubernetes does not support resource type {type_name:?}."),
    )
    .into()
}

/// Labels and annotations the provider block says to leave out of state
/// (`ignore_labels`, `ignore_annotations`: regular expressions), unless a
/// resource's configuration sets them.
#[derive(Debug, Clone, Default)]
pub struct IgnoredKeys {
    labels: Vec<regex::Regex>,
    annotations: Vec<regex::Regex>,
}

impl IgnoredKeys {
    fn from_config(config: &Value) -> Result<IgnoredKeys, Diagnostics> {
        let config = config.clone().unmark_deep();
        let patterns = |name: &str| -> Result<Vec<regex::Regex>, Diagnostics> {
            config
                .get_attr(name)
                .and_then(Value::as_elements)
                .unwrap_or(&[])
                .iter()
                .filter_map(Value::as_str)
                .map(|p| {
                    regex::Regex::new(p).map_err(|e| -> Diagnostics {
                        Diagnostic::error(
                            "Invalid regular expression",
                            format!("{name} entry {p:?} is not a valid regular expression: {e}."),
                        )
                        .into()
                    })
                })
                .collect()
        };
        Ok(IgnoredKeys {
            labels: patterns("ignore_labels")?,
            annotations: patterns("ignore_annotations")?,
        })
    }

    /// Removes ignored keys from the `metadata` block of a state document.
    fn apply(&self, state: &mut serde_json::Value, settings: &Value) {
        let configured = values::metadata(settings);
        for (field, patterns) in [("labels", &self.labels), ("annotations", &self.annotations)] {
            if patterns.is_empty() {
                continue;
            }
            let keep = values::string_map(&configured, field).unwrap_or_default();
            let Some(map) = state
                .pointer_mut(&format!("/metadata/0/{field}"))
                .and_then(serde_json::Value::as_object_mut)
            else {
                continue;
            };
            map.retain(|k, _| keep.contains_key(k) || !patterns.iter().any(|p| p.is_match(k)));
            if map.is_empty() {
                if let Some(slot) = state.pointer_mut(&format!("/metadata/0/{field}")) {
                    *slot = serde_json::Value::Null;
                }
            }
        }
    }
}

/// The configured kubernetes provider.
pub struct KubernetesProvider {
    schema: Arc<ProviderSchema>,
    cluster: Cluster,
    offline: bool,
    ignored: IgnoredKeys,
}

impl KubernetesProvider {
    pub fn new(
        schema: Arc<ProviderSchema>,
        connection: Result<Connection, ConnectionError>,
        offline: bool,
    ) -> KubernetesProvider {
        KubernetesProvider {
            schema,
            cluster: Cluster::new(connection),
            offline,
            ignored: IgnoredKeys::default(),
        }
    }

    fn resource_schema(&self, type_name: &str) -> Result<(&Schema, Kind), Diagnostics> {
        match (self.schema.resources.get(type_name), kind_of(type_name)) {
            (Some(s), Some(k)) => Ok((s, k)),
            _ => Err(unsupported(type_name)),
        }
    }

    /// Converts a state document into a value of the resource's type,
    /// without the labels and annotations the provider ignores.
    fn to_state(
        &self,
        schema: &Schema,
        kind: Kind,
        mut json: serde_json::Value,
        settings: &Value,
    ) -> Result<Value, Diagnostics> {
        if kind != Kind::Manifest {
            self.ignored.apply(&mut json, settings);
        }
        Self::state_value(schema, &json)
    }

    /// Converts a state document into a value of the resource's type.
    fn state_value(schema: &Schema, json: &serde_json::Value) -> Result<Value, Diagnostics> {
        Value::from_json(json, &schema.block.implied_type()).map_err(|e| {
            Diagnostic::error(
                "Invalid object returned by the cluster",
                format!("The object could not be stored in state: {e}."),
            )
            .into()
        })
    }

    async fn read_json(
        &self,
        kind: Kind,
        client: kube::Client,
        state: &Value,
    ) -> Result<Option<serde_json::Value>, Diagnostics> {
        match kind {
            Kind::Namespace => namespace::read(client, state).await,
            Kind::Secret => secret::read(client, state).await,
            Kind::ConfigMap => config_map::read(client, state).await,
            Kind::Manifest => manifest::read(client, state).await,
        }
    }
}

fn private_of(kind: Kind) -> Vec<u8> {
    match kind {
        Kind::Namespace => values::timeouts_private(&[("delete", 300)]),
        Kind::Secret => values::timeouts_private(&[("create", 60)]),
        Kind::ConfigMap => Vec::new(),
        Kind::Manifest => Vec::new(),
    }
}

#[async_trait]
impl Provider for KubernetesProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        let (schema, kind) = match self.resource_schema(&req.type_name) {
            Ok(s) => s,
            Err(diagnostics) => {
                return PlanResourceChangeResponse {
                    diagnostics,
                    ..Default::default()
                }
            }
        };
        let mut plan = match kind {
            Kind::Manifest => manifest::plan(
                &schema.block,
                &req.prior_state,
                &req.proposed_new_state,
                &req.config,
            ),
            _ => values::sdk_plan(
                &schema.block,
                &req.prior_state,
                &req.proposed_new_state,
                &req.config,
            ),
        };
        if matches!(kind, Kind::Secret | Kind::ConfigMap) {
            plan.requires_replace
                .extend(immutable_changes(&req.prior_state, &plan.planned));
        }
        PlanResourceChangeResponse {
            planned_state: Some(plan.planned),
            requires_replace: plan.requires_replace,
            planned_private: req.prior_private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        let fail = |diagnostics| ApplyResourceChangeResponse {
            diagnostics,
            ..Default::default()
        };
        let (schema, kind) = match self.resource_schema(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        let client = match self.cluster.client().await {
            Ok(c) => c,
            Err(d) => return fail(d),
        };
        let result = if req.planned_state.is_null() {
            match kind {
                Kind::Namespace => namespace::delete(client, &req.prior_state).await,
                Kind::Secret => secret::delete(client, &req.prior_state).await,
                Kind::ConfigMap => config_map::delete(client, &req.prior_state).await,
                Kind::Manifest => manifest::delete(client, &req.prior_state).await,
            }
            .map(|()| None)
        } else {
            let create = req.prior_state.is_null();
            match kind {
                Kind::Namespace => namespace::apply(client, &req.planned_state, create).await,
                Kind::Secret => secret::apply(client, &req.planned_state, create).await,
                Kind::ConfigMap => config_map::apply(client, &req.planned_state, create).await,
                Kind::Manifest => manifest::apply(client, &req.planned_state).await,
            }
            .map(Some)
        };
        match result {
            Ok(None) => ApplyResourceChangeResponse {
                new_state: Some(Value::null(schema.block.implied_type())),
                ..Default::default()
            },
            Ok(Some(json)) => match self.to_state(schema, kind, json, &req.planned_state) {
                Ok(state) => ApplyResourceChangeResponse {
                    new_state: Some(state),
                    private: private_of(kind),
                    diagnostics: Diagnostics::default(),
                },
                Err(d) => fail(d),
            },
            Err(d) => fail(d),
        }
    }

    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        let unchanged = |req: ReadResourceRequest| ReadResourceResponse {
            new_state: Some(req.current_state),
            private: req.private,
            diagnostics: Diagnostics::default(),
        };
        if self.offline || req.current_state.is_null() {
            return unchanged(req);
        }
        let fail = |diagnostics| ReadResourceResponse {
            diagnostics,
            ..Default::default()
        };
        let (schema, kind) = match self.resource_schema(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        let client = match self.cluster.client().await {
            Ok(c) => c,
            Err(d) => return fail(d),
        };
        match self.read_json(kind, client, &req.current_state).await {
            Ok(None) => ReadResourceResponse {
                new_state: None,
                private: Vec::new(),
                diagnostics: Diagnostics::default(),
            },
            Ok(Some(json)) => match self.to_state(schema, kind, json, &req.current_state) {
                Ok(state) => ReadResourceResponse {
                    new_state: Some(state),
                    private: req.private,
                    diagnostics: Diagnostics::default(),
                },
                Err(d) => fail(d),
            },
            Err(d) => fail(d),
        }
    }

    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let fail = |diagnostics| ImportResourceStateResponse {
            diagnostics,
            ..Default::default()
        };
        let (schema, kind) = match self.resource_schema(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        let seed = match kind {
            Kind::Namespace => namespace::import_seed(&req.id),
            Kind::Secret | Kind::ConfigMap => secret::import_seed(&req.id),
            Kind::Manifest => manifest::import_seed(&req.id),
        };
        let seed = match seed.and_then(|s| Self::state_value(schema, &s)) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        let client = match self.cluster.client().await {
            Ok(c) => c,
            Err(d) => return fail(d),
        };
        match self.read_json(kind, client, &seed).await {
            Ok(Some(json)) => match self.to_state(schema, kind, json, &seed) {
                Ok(state) => ImportResourceStateResponse {
                    imported: vec![ImportedResource {
                        type_name: req.type_name.clone(),
                        state,
                        private: private_of(kind),
                    }],
                    diagnostics: Diagnostics::default(),
                },
                Err(d) => fail(d),
            },
            Ok(None) => fail(
                Diagnostic::error(
                    "Cannot import non-existent remote object",
                    format!(
                        "The object {:?} does not exist in the cluster, so it cannot be imported as {}.",
                        req.id, req.type_name
                    ),
                )
                .into(),
            ),
            Err(d) => fail(d),
        }
    }

    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        ReadDataSourceResponse {
            diagnostics: Diagnostic::error(
                "Invalid data source",
                format!(
                    "The provider hashicorp/kubernetes does not support data source {:?}.",
                    req.type_name
                ),
            )
            .into(),
            ..Default::default()
        }
    }
}

/// The API server refuses to change the data of an immutable secret or
/// config map, so the provider replaces it instead.
fn immutable_changes(prior: &Value, planned: &Value) -> Vec<AttrPath> {
    if prior.is_null() || planned.is_null() || values::boolean(prior, "immutable") != Some(true) {
        return Vec::new();
    }
    ["data", "binary_data"]
        .into_iter()
        .filter(|name| {
            let before = prior.get_attr(name).map(|v| v.clone().unmark_deep());
            let after = planned.get_attr(name).map(|v| v.clone().unmark_deep());
            before != after
        })
        .map(|name| vec![meshform_lang::PathStep::Attr(name.to_string())])
        .collect()
}

/// Checks the names in a `metadata` block as the API server would: a
/// namespace name is an RFC 1123 label, other names RFC 1123 subdomains;
/// label values are at most 63 characters.
fn validate_metadata(kind: Kind, config: &Value) -> Diagnostics {
    let label = regex::Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    let subdomain =
        regex::Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    let (Ok(label), Ok(subdomain)) = (label, subdomain) else {
        return Diagnostics::default();
    };
    let m = values::metadata(config);
    let mut out = Vec::new();
    let mut invalid = |what: String| {
        out.push(Diagnostic::error("Invalid value", format!("{what}.")));
    };
    for field in ["name", "namespace"] {
        let Some(name) = values::string(&m, field).filter(|n| !n.is_empty()) else {
            continue;
        };
        let (ok, max, rule) = if kind == Kind::Namespace || field == "namespace" {
            (label.is_match(&name), 63, "a lowercase RFC 1123 label (lower case alphanumeric characters or '-', starting and ending with an alphanumeric character)")
        } else {
            (subdomain.is_match(&name), 253, "a lowercase RFC 1123 subdomain (lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character)")
        };
        if !ok || name.len() > max {
            invalid(format!(
                "metadata.0.{field} {name:?} must be {rule} of at most {max} characters"
            ));
        }
    }
    if let Some(labels) = values::string_map(&m, "labels") {
        for (key, value) in labels {
            if value.len() > 63 {
                invalid(format!(
                    "metadata.0.labels value of {key:?} must be at most 63 characters"
                ));
            }
        }
    }
    Diagnostics(out)
}

/// Splits an import id `namespace/name` (a bare `name` means `default`).
pub(crate) fn split_namespaced_id(id: &str) -> Result<(String, String), Diagnostics> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.as_slice() {
        [name] if !name.is_empty() => Ok(("default".into(), (*name).into())),
        [ns, name] if !ns.is_empty() && !name.is_empty() => Ok(((*ns).into(), (*name).into())),
        _ => Err(Diagnostic::error(
            "Unexpected format of ID",
            format!("The import ID {id:?} must have the form namespace/name."),
        )
        .into()),
    }
}

/// Data keys sorted, for deterministic state.
pub(crate) type StringMap = BTreeMap<String, String>;

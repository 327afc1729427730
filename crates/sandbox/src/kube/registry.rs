//! Which resources the Kubernetes server knows: the built-in kinds Helm
//! charts use, plus every served version of the stored CustomResourceDefinitions.

use serde_json::{json, Value};

use crate::store::{StoreError, Tx};

/// One resource type at one group version.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Columns for table output (`kubectl get`) beyond Name and Age:
    /// (header, JSON path into the object, type).
    pub columns: Vec<(String, String, String)>,
    pub has_status: bool,
}

impl ResourceType {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The storage collection: `plural` for the core group, else `plural.group`.
    pub fn collection(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn discovery_entry(&self) -> Value {
        let mut verbs = vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        if self.kind == "Namespace" {
            verbs.retain(|v| *v != "deletecollection");
        }
        let mut entry = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
        });
        if !self.short_names.is_empty() {
            entry["shortNames"] = json!(self.short_names);
        }
        let in_all = matches!(
            (self.group.as_str(), self.kind.as_str()),
            ("", "Pod" | "Service")
                | (
                    "apps",
                    "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet"
                )
                | ("batch", "Job" | "CronJob")
                | ("autoscaling", "HorizontalPodAutoscaler")
        );
        if in_all {
            entry["categories"] = json!(["all"]);
        }
        if self.group.is_empty() && self.version == "v1" || !self.group.contains('.') {
            entry["storageVersionHash"] = json!(hash_of(&self.collection()));
        }
        entry
    }
}

fn hash_of(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &digest[..8])
}

struct Builtin {
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    columns: &'static [(&'static str, &'static str, &'static str)],
    has_status: bool,
}

const fn b(
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        versions,
        kind,
        plural,
        namespaced,
        short,
        columns: &[],
        has_status: false,
    }
}

const fn cols(
    builtin: Builtin,
    columns: &'static [(&'static str, &'static str, &'static str)],
    has_status: bool,
) -> Builtin {
    Builtin {
        columns,
        has_status,
        ..builtin
    }
}

const BUILTINS: &[Builtin] = &[
    cols(
        b("", &["v1"], "Namespace", "namespaces", false, &["ns"]),
        &[("Status", ".status.phase", "string")],
        true,
    ),
    cols(
        b("", &["v1"], "Secret", "secrets", true, &[]),
        &[("Type", ".type", "string"), ("Data", "#data", "string")],
        false,
    ),
    cols(
        b("", &["v1"], "ConfigMap", "configmaps", true, &["cm"]),
        &[("Data", "#data", "string")],
        false,
    ),
    b(
        "",
        &["v1"],
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
    ),
    cols(
        b("", &["v1"], "Service", "services", true, &["svc"]),
        &[
            ("Type", ".spec.type", "string"),
            ("Cluster-IP", ".spec.clusterIP", "string"),
        ],
        true,
    ),
    cols(
        b("", &["v1"], "Pod", "pods", true, &["po"]),
        &[
            ("Ready", "#podready", "string"),
            ("Status", ".status.phase", "string"),
            ("Restarts", "#restarts", "integer"),
        ],
        true,
    ),
    cols(
        b("", &["v1"], "Node", "nodes", false, &["no"]),
        &[
            ("Status", "#nodeready", "string"),
            ("Version", ".status.nodeInfo.kubeletVersion", "string"),
        ],
        true,
    ),
    b("", &["v1"], "Endpoints", "endpoints", true, &["ep"]),
    b("", &["v1"], "Event", "events", true, &["ev"]),
    cols(
        b(
            "",
            &["v1"],
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
            &["pvc"],
        ),
        &[],
        true,
    ),
    b("", &["v1"], "LimitRange", "limitranges", true, &["limits"]),
    cols(
        b(
            "",
            &["v1"],
            "ResourceQuota",
            "resourcequotas",
            true,
            &["quota"],
        ),
        &[],
        true,
    ),
    cols(
        b(
            "apps",
            &["v1"],
            "Deployment",
            "deployments",
            true,
            &["deploy"],
        ),
        &[
            ("Ready", "#ready", "string"),
            ("Up-to-date", ".status.updatedReplicas", "integer"),
            ("Available", ".status.availableReplicas", "integer"),
        ],
        true,
    ),
    cols(
        b("apps", &["v1"], "DaemonSet", "daemonsets", true, &["ds"]),
        &[
            ("Desired", ".status.desiredNumberScheduled", "integer"),
            ("Ready", ".status.numberReady", "integer"),
        ],
        true,
    ),
    cols(
        b(
            "apps",
            &["v1"],
            "StatefulSet",
            "statefulsets",
            true,
            &["sts"],
        ),
        &[("Ready", "#ready", "string")],
        true,
    ),
    cols(
        b("apps", &["v1"], "ReplicaSet", "replicasets", true, &["rs"]),
        &[
            ("Desired", ".spec.replicas", "integer"),
            ("Ready", ".status.readyReplicas", "integer"),
        ],
        true,
    ),
    b(
        "apps",
        &["v1"],
        "ControllerRevision",
        "controllerrevisions",
        true,
        &[],
    ),
    cols(
        b("batch", &["v1"], "Job", "jobs", true, &[]),
        &[("Completions", "#completions", "string")],
        true,
    ),
    cols(
        b("batch", &["v1"], "CronJob", "cronjobs", true, &["cj"]),
        &[],
        true,
    ),
    b(
        "rbac.authorization.k8s.io",
        &["v1"],
        "Role",
        "roles",
        true,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        &["v1"],
        "RoleBinding",
        "rolebindings",
        true,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        &["v1"],
        "ClusterRole",
        "clusterroles",
        false,
        &[],
    ),
    b(
        "rbac.authorization.k8s.io",
        &["v1"],
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        &[],
    ),
    b(
        "admissionregistration.k8s.io",
        &["v1"],
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        &[],
    ),
    b(
        "admissionregistration.k8s.io",
        &["v1"],
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        &[],
    ),
    cols(
        b(
            "apiextensions.k8s.io",
            &["v1"],
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
        ),
        &[],
        true,
    ),
    cols(
        b(
            "policy",
            &["v1"],
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["pdb"],
        ),
        &[],
        true,
    ),
    cols(
        b(
            "autoscaling",
            &["v2", "v1"],
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            &["hpa"],
        ),
        &[],
        true,
    ),
    cols(
        b(
            "networking.k8s.io",
            &["v1"],
            "Ingress",
            "ingresses",
            true,
            &["ing"],
        ),
        &[],
        true,
    ),
    b(
        "networking.k8s.io",
        &["v1"],
        "NetworkPolicy",
        "networkpolicies",
        true,
        &["netpol"],
    ),
    b(
        "networking.k8s.io",
        &["v1"],
        "IngressClass",
        "ingressclasses",
        false,
        &[],
    ),
    b("coordination.k8s.io", &["v1"], "Lease", "leases", true, &[]),
    b(
        "scheduling.k8s.io",
        &["v1"],
        "PriorityClass",
        "priorityclasses",
        false,
        &["pc"],
    ),
    b(
        "storage.k8s.io",
        &["v1"],
        "StorageClass",
        "storageclasses",
        false,
        &["sc"],
    ),
];

fn builtin_types() -> Vec<ResourceType> {
    let mut out = Vec::new();
    for builtin in BUILTINS {
        for version in builtin.versions {
            out.push(ResourceType {
                group: builtin.group.to_string(),
                version: version.to_string(),
                kind: builtin.kind.to_string(),
                plural: builtin.plural.to_string(),
                singular: builtin.kind.to_lowercase(),
                namespaced: builtin.namespaced,
                short_names: builtin.short.iter().map(|s| s.to_string()).collect(),
                columns: builtin
                    .columns
                    .iter()
                    .map(|(h, p, t)| (h.to_string(), p.to_string(), t.to_string()))
                    .collect(),
                has_status: builtin.has_status,
            });
        }
    }
    out
}

/// The resource types a CRD object declares (its served versions).
pub fn types_of_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let (Some(group), Some(plural), Some(kind)) = (
        spec["group"].as_str(),
        spec["names"]["plural"].as_str(),
        spec["names"]["kind"].as_str(),
    ) else {
        return Vec::new();
    };
    let singular = spec["names"]["singular"]
        .as_str()
        .map_or_else(|| kind.to_lowercase(), str::to_string);
    let short_names: Vec<String> = spec["names"]["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            let version = v["name"].as_str()?;
            let columns = v["additionalPrinterColumns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["priority"].as_i64().unwrap_or(0) == 0)
                .filter_map(|c| {
                    Some((
                        c["name"].as_str()?.to_string(),
                        c["jsonPath"].as_str()?.to_string(),
                        c["type"].as_str().unwrap_or("string").to_string(),
                    ))
                })
                .filter(|(_, path, _)| path != ".metadata.creationTimestamp")
                .collect();
            Some(ResourceType {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: singular.clone(),
                namespaced,
                short_names: short_names.clone(),
                columns,
                has_status: v["subresources"]["status"].is_object(),
            })
        })
        .collect()
}

/// Every known resource type: built-ins first, then CRDs in creation order.
pub fn all_types(t: &Tx<'_>) -> Result<Vec<ResourceType>, StoreError> {
    let mut out = builtin_types();
    for row in t.list(
        super::API,
        "customresourcedefinitions.apiextensions.k8s.io",
        Some(""),
    )? {
        out.extend(types_of_crd(&row.body));
    }
    Ok(out)
}

/// Group versions in discovery order, each with its preferred version first.
pub fn groups(types: &[ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for ty in types.iter().filter(|t| !t.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == ty.group) {
            Some((_, versions)) => {
                if !versions.contains(&ty.version) {
                    versions.push(ty.version.clone());
                }
            }
            None => out.push((ty.group.clone(), vec![ty.version.clone()])),
        }
    }
    out
}

pub fn group_json(group: &str, versions: &[String]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": entries,
        "preferredVersion": entries.first().cloned().unwrap_or(Value::Null),
    })
}

/// The OpenAPI v3 document of one group version: enough for kubectl to see
/// that the server validates fields itself (the `fieldValidation` parameter).
/// It carries no schemas on purpose, so kubectl computes strategic merge
/// patches from its compiled-in types and uses JSON merge patches for
/// custom resources.
pub fn openapi_v3_group_version(types: &[ResourceType], group: &str, version: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for ty in types
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let collection = if ty.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", ty.plural)
        } else {
            format!("{prefix}/{}", ty.plural)
        };
        let gvk = json!([{"group": group, "version": version, "kind": ty.kind}]);
        let schema_ref = json!({"type": "object"});
        let params = json!([
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        ]);
        let operation = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", ty.kind),
                "parameters": params,
                "requestBody": {"content": {"application/json": {"schema": schema_ref}}},
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema_ref}}}},
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk[0],
            })
        };
        paths.insert(collection.clone(), json!({"post": operation("post")}));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"put": operation("put"), "patch": operation("patch")}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    })
}

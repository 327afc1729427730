//! What the API server and its controllers would add to an object: defaults,
//! completed workload status, and the selectors and tables of list calls.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::registry::ResourceType;

/// A Kubernetes timestamp (RFC 3339, whole seconds, UTC).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn int(value: &Value, default: i64) -> i64 {
    value.as_i64().unwrap_or(default)
}

/// Defaults the API server fills in on create and update.
pub fn apply_defaults(ty: &ResourceType, object: &mut Value) {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match (ty.group.as_str(), ty.kind.as_str()) {
        ("", "Namespace") => {
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if object["spec"]["finalizers"].is_null() {
                object["spec"]["finalizers"] = json!(["kubernetes"]);
            }
        }
        ("", "Secret") => {
            if let Some(Value::Object(string_data)) =
                object.as_object_mut().and_then(|o| o.remove("stringData"))
            {
                for (k, v) in string_data {
                    let text = v.as_str().unwrap_or_default();
                    let encoded =
                        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
                    object["data"][k] = json!(encoded);
                }
            }
            if object["type"].is_null() {
                object["type"] = json!("Opaque");
            }
        }
        ("", "Service") => {
            let spec = &mut object["spec"];
            if spec["type"].is_null() {
                spec["type"] = json!("ClusterIP");
            }
            if spec["clusterIP"].as_str().is_none_or(str::is_empty)
                && spec["type"] != "ExternalName"
            {
                let n = fastrand::u16(1..65_000);
                spec["clusterIP"] = json!(format!("10.96.{}.{}", n / 256, n % 256));
            }
            if spec["clusterIPs"].is_null() {
                spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
            }
            if spec["sessionAffinity"].is_null() {
                spec["sessionAffinity"] = json!("None");
            }
            if let Some(ports) = spec["ports"].as_array_mut() {
                for port in ports {
                    if port["protocol"].is_null() {
                        port["protocol"] = json!("TCP");
                    }
                    if port["targetPort"].is_null() {
                        port["targetPort"] = port["port"].clone();
                    }
                }
            }
        }
        ("", "Pod") => default_pod_spec(&mut object["spec"]),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet") | ("batch", "Job") => {
            let spec = &mut object["spec"];
            if spec["replicas"].is_null() && ty.kind != "DaemonSet" && ty.kind != "Job" {
                spec["replicas"] = json!(1);
            }
            if ty.kind == "Deployment" {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
            }
            if spec["template"].is_object() {
                default_pod_spec(&mut spec["template"]["spec"]);
            }
        }
        ("batch", "CronJob") if object["spec"]["jobTemplate"]["spec"]["template"].is_object() => {
            default_pod_spec(&mut object["spec"]["jobTemplate"]["spec"]["template"]["spec"]);
        }
        _ => {}
    }
}

fn set_default(object: &mut Value, key: &str, value: Value) {
    if object[key].is_null() {
        object[key] = value;
    }
}

/// The defaults the API server gives a pod spec and its containers.
fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        for container in spec[list].as_array_mut().into_iter().flatten() {
            let image = container["image"].as_str().unwrap_or_default();
            let tag = image
                .rsplit_once(':')
                .map(|(_, t)| t)
                .filter(|t| !t.contains('/'));
            let pull = if image.contains('@') || tag.is_some_and(|t| t != "latest") {
                "IfNotPresent"
            } else {
                "Always"
            };
            set_default(container, "imagePullPolicy", json!(pull));
            set_default(
                container,
                "terminationMessagePath",
                json!("/dev/termination-log"),
            );
            set_default(container, "terminationMessagePolicy", json!("File"));
            set_default(container, "resources", json!({}));
            for port in container["ports"].as_array_mut().into_iter().flatten() {
                set_default(port, "protocol", json!("TCP"));
            }
        }
    }
}

/// Status as if the controllers had finished: workloads ready, jobs
/// complete, namespaces active, CRDs established.
pub fn simulate_status(ty: &ResourceType, object: &mut Value, at: DateTime<Utc>) {
    let generation = object["metadata"]["generation"].clone();
    let now = timestamp(at);
    let status = match (ty.group.as_str(), ty.kind.as_str()) {
        ("", "Namespace") => json!({"phase": "Active"}),
        ("", "Pod") => json!({"phase": "Running", "podIP": "10.244.0.10", "startTime": now,
            "containerStatuses": object["status"]["containerStatuses"].clone(),
            "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now}]}),
        ("", "Service") => json!({"loadBalancer": {}}),
        ("", "PersistentVolumeClaim") => json!({"phase": "Bound"}),
        ("apps", "Deployment") => {
            let replicas = int(&object["spec"]["replicas"], 1);
            json!({
                "observedGeneration": generation,
                "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "message": "Deployment has minimum availability.", "lastUpdateTime": now, "lastTransitionTime": now},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                     "message": "ReplicaSet has successfully progressed.", "lastUpdateTime": now, "lastTransitionTime": now},
                ],
            })
        }
        ("apps", "ReplicaSet") => {
            let replicas = int(&object["spec"]["replicas"], 1);
            json!({"observedGeneration": generation, "replicas": replicas, "fullyLabeledReplicas": replicas,
                   "readyReplicas": replicas, "availableReplicas": replicas})
        }
        ("apps", "StatefulSet") => {
            let replicas = int(&object["spec"]["replicas"], 1);
            let revision = format!(
                "{}-{}",
                object["metadata"]["name"].as_str().unwrap_or_default(),
                int(&generation, 1)
            );
            json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                   "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas,
                   "currentRevision": revision, "updateRevision": revision})
        }
        ("apps", "DaemonSet") => json!({
            "observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
            "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1, "numberMisscheduled": 0,
        }),
        ("batch", "Job") => {
            let completions = int(&object["spec"]["completions"], 1);
            let started = object["status"]["startTime"]
                .as_str()
                .map_or_else(|| now.clone(), str::to_string);
            json!({
                "startTime": started, "completionTime": now, "succeeded": completions,
                "active": 0, "ready": 0, "terminating": 0,
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
                    {"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
                ],
            })
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let stored: Vec<Value> = object["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["storage"].as_bool() == Some(true))
                .map(|v| v["name"].clone())
                .collect();
            json!({
                "acceptedNames": object["spec"]["names"].clone(),
                "storedVersions": stored,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
                ],
            })
        }
        _ => return,
    };
    object["status"] = status;
}

/// The ReplicaSet a Deployment's controller would own, named after the pod
/// template hash (Helm's readiness check looks for it).
pub fn replica_set_for(deployment: &Value) -> Option<Value> {
    let template = deployment["spec"]["template"].clone();
    let name = deployment["metadata"]["name"].as_str()?;
    let namespace = deployment["metadata"]["namespace"].as_str()?;
    let hash = {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(template.to_string().as_bytes());
        digest[..5]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut template = template;
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = deployment["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    Some(json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": namespace,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": deployment["metadata"]["generation"].to_string()},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": deployment["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {"replicas": deployment["spec"]["replicas"].clone(), "selector": selector, "template": template},
    }))
}

/// A running, ready Pod of a ReplicaSet's template.
pub fn pod_for(replica_set: &Value, at: DateTime<Utc>) -> Option<Value> {
    let rs_name = replica_set["metadata"]["name"].as_str()?;
    let template = &replica_set["spec"]["template"];
    let suffix: String = (0..5)
        .map(|_| {
            const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
            char::from(ALPHABET[fastrand::usize(..ALPHABET.len())])
        })
        .collect();
    let now = timestamp(at);
    let mut spec = template["spec"].clone();
    spec["nodeName"] = json!("meshform-sandbox");
    let statuses: Vec<Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or_default();
            json!({"name": c["name"], "image": image, "imageID": image_id(image),
                   "containerID": format!("containerd://{}", hex_digest(&format!("{rs_name}/{suffix}/{}", c["name"]))),
                   "ready": true, "started": true,
                   "restartCount": 0, "state": {"running": {"startedAt": now}}})
        })
        .collect();
    Some(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("{rs_name}-{suffix}"),
            "namespace": replica_set["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                "uid": replica_set["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
        "status": {"containerStatuses": statuses},
    }))
}

fn hex_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The image ID a container runtime reports: the repository as pulled
/// (Docker Hub names completed) and a digest, stable for one image name.
fn image_id(image: &str) -> String {
    let without_tag = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    };
    let repo = without_tag.split('@').next().unwrap_or(without_tag);
    let first = repo.split('/').next().unwrap_or_default();
    let qualified = if repo.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{qualified}@sha256:{}", hex_digest(image))
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (`a=b,c!=d,e in (x,y),f,!g`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

/// Splits on commas outside parentheses.
fn split_top(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn set_values(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut out = Vec::new();
        for part in split_top(text) {
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once(" notin ") {
                Requirement::NotIn(
                    k.trim().into(),
                    set_values(v).ok_or(format!("invalid selector {part:?}"))?,
                )
            } else if let Some((k, v)) = part.split_once(" in ") {
                Requirement::In(
                    k.trim().into(),
                    set_values(v).ok_or(format!("invalid selector {part:?}"))?,
                )
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Requirement::Exists(part.clone())
            } else {
                return Err(format!("unable to parse requirement {part:?}"));
            };
            out.push(requirement);
        }
        Ok(LabelSelector(out))
    }

    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(Vec<String>, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!("invalid field selector {part:?}"));
            };
            out.push((
                field.trim().split('.').map(str::to_string).collect(),
                equal,
                value.trim().to_string(),
            ));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let mut node = object;
            for step in path {
                node = &node[step.as_str()];
            }
            let actual = match node {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

fn human_age(created: &str, now: DateTime<Utc>) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(created) else {
        return "<unknown>".into();
    };
    let secs = (now - at.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn cell(object: &Value, path: &str) -> Value {
    match path {
        "#data" => {
            let count = object["data"].as_object().map_or(0, Map::len)
                + object["binaryData"].as_object().map_or(0, Map::len);
            json!(count)
        }
        "#ready" => json!(format!(
            "{}/{}",
            int(&object["status"]["readyReplicas"], 0),
            int(&object["spec"]["replicas"], 1)
        )),
        "#podready" => {
            let statuses = object["status"]["containerStatuses"]
                .as_array()
                .map_or(&[][..], |v| v);
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let total = object["spec"]["containers"].as_array().map_or(0, Vec::len);
            json!(format!("{ready}/{total}"))
        }
        "#nodeready" => {
            let ready = object["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            json!(if ready { "Ready" } else { "NotReady" })
        }
        "#restarts" => json!(object["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["restartCount"].as_i64().unwrap_or(0))
            .sum::<i64>()),
        "#completions" => json!(format!(
            "{}/{}",
            int(&object["status"]["succeeded"], 0),
            int(&object["spec"]["completions"], 1)
        )),
        _ => {
            let mut node = object;
            for step in path.trim_start_matches('.').split('.') {
                node = &node[step];
            }
            match node {
                Value::Null => json!("<none>"),
                Value::Array(items) => json!(items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(",")),
                other => other.clone(),
            }
        }
    }
}

/// A `meta.k8s.io/v1` Table of objects, as `kubectl get` asks for.
pub fn table(
    ty: &ResourceType,
    objects: &[Value],
    resource_version: &str,
    now: DateTime<Utc>,
) -> Value {
    let mut columns = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}),
    ];
    for (header, _, kind) in &ty.columns {
        columns.push(json!({"name": header, "type": kind, "format": "", "description": header, "priority": 0}));
    }
    columns.push(json!({"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}));
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o["metadata"]["name"].clone()];
            for (_, path, _) in &ty.columns {
                cells.push(cell(o, path));
            }
            let created = o["metadata"]["creationTimestamp"].as_str().unwrap_or_default();
            cells.push(json!(human_age(created, now)));
            json!({
                "cells": cells,
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]},
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(selector: &str, labels: Value, expected: bool) {
        let parsed = LabelSelector::parse(selector).unwrap();
        assert_eq!(parsed.matches(&labels), expected, "{selector}");
    }

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        check("app=web", labels.clone(), true);
        check("app==web,tier!=back", labels.clone(), true);
        check("app in (db, web),!missing", labels.clone(), true);
        check("tier notin (front)", labels.clone(), false);
        check("missing", labels, false);
    }

    #[test]
    fn field_selectors() {
        let object = json!({"metadata": {"name": "a", "namespace": "n"}, "type": "Opaque"});
        assert!(FieldSelector::parse("metadata.name=a,type=Opaque")
            .unwrap()
            .matches(&object));
        assert!(!FieldSelector::parse("metadata.namespace!=n")
            .unwrap()
            .matches(&object));
    }
}

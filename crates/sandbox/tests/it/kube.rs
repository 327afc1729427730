//! The Kubernetes API server over HTTP: discovery, CRUD, Status errors,
//! patches, selectors, watch, CRDs, namespace deletion, workload status.

use std::io::{BufRead, BufReader};

use meshform_sandbox::{Sandbox, SandboxConfig};
use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::common::read;

pub struct Kube {
    pub sandbox: Sandbox,
    pub client: Client,
}

pub fn start() -> Kube {
    Kube {
        sandbox: Sandbox::start(SandboxConfig::default()).expect("sandbox starts"),
        client: Client::new(),
    }
}

impl Kube {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sandbox.kubernetes_url(), path)
    }
    pub fn get(&self, path: &str) -> (u16, Value) {
        read(self.client.get(self.url(path)).send().unwrap())
    }
    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        read(self.client.post(self.url(path)).json(&body).send().unwrap())
    }
    pub fn put(&self, path: &str, body: Value) -> (u16, Value) {
        read(self.client.put(self.url(path)).json(&body).send().unwrap())
    }
    pub fn patch(&self, path: &str, content_type: &str, body: Value) -> (u16, Value) {
        read(
            self.client
                .patch(self.url(path))
                .header("content-type", content_type)
                .body(body.to_string())
                .send()
                .unwrap(),
        )
    }
    pub fn delete(&self, path: &str) -> (u16, Value) {
        read(self.client.delete(self.url(path)).send().unwrap())
    }
    pub fn namespace(&self, name: &str) {
        let (status, body) = self.post(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        );
        assert_eq!(status, 201, "{body}");
    }
}

fn secret(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": {"app": "zone"}},
           "type": "Opaque", "stringData": {"token": value}})
}

#[test]
fn discovery_lists_core_and_group_resources() {
    let k = start();
    let (_, version) = k.get("/version");
    assert_eq!(version["major"], "1");
    let (_, api) = k.get("/api");
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, core) = k.get("/api/v1");
    let names: Vec<&str> = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for expected in [
        "namespaces",
        "secrets",
        "configmaps",
        "serviceaccounts",
        "services",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let (_, groups) = k.get("/apis");
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    for expected in [
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "policy",
        "autoscaling",
    ] {
        assert!(group_names.contains(&expected), "{expected}");
    }
    assert_eq!(k.get("/apis/apps/v1").0, 200);
    assert_eq!(k.get("/apis/nope.io/v1").0, 404);
    let (_, openapi) = k.get("/openapi/v3");
    assert!(openapi["paths"]["apis/apps/v1"]["serverRelativeURL"].is_string());
}

#[test]
fn objects_get_identity_and_status_errors() {
    let k = start();
    k.namespace("zone");
    let (status, created) = k.post("/api/v1/namespaces/zone/secrets", secret("cp-token", "abc"));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["token"], "YWJj");
    assert!(created.get("stringData").is_none());
    for field in ["uid", "resourceVersion", "creationTimestamp"] {
        assert!(created["metadata"][field].is_string(), "{field}");
    }
    let (status, conflict) = k.post("/api/v1/namespaces/zone/secrets", secret("cp-token", "abc"));
    assert_eq!(
        (status, conflict["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let (status, missing) = k.get("/api/v1/namespaces/zone/secrets/nope");
    assert_eq!(
        (status, missing["kind"].as_str(), missing["reason"].as_str()),
        (404, Some("Status"), Some("NotFound"))
    );
    let (status, invalid) = k.post("/api/v1/namespaces/zone/secrets", secret("Bad_Name", "x"));
    assert_eq!((status, invalid["reason"].as_str()), (422, Some("Invalid")));
    let (status, _) = k.post("/api/v1/namespaces/absent/secrets", secret("s", "x"));
    assert_eq!(status, 404);

    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["data"] = json!({"token": "eHl6"});
    let (status, body) = k.put("/api/v1/namespaces/zone/secrets/cp-token", stale);
    assert_eq!((status, body["reason"].as_str()), (409, Some("Conflict")));
    let mut fresh = created.clone();
    fresh["data"] = json!({"token": "eHl6"});
    let (status, updated) = k.put("/api/v1/namespaces/zone/secrets/cp-token", fresh);
    assert_eq!(status, 200, "{updated}");
    assert_ne!(
        updated["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    let (status, _) = k.delete("/api/v1/namespaces/zone/secrets/cp-token");
    assert_eq!(status, 200);
    assert_eq!(k.get("/api/v1/namespaces/zone/secrets/cp-token").0, 404);
}

#[test]
fn generation_counts_spec_changes_only() {
    let k = start();
    k.namespace("apps");
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cp"},
        "spec": {"selector": {"matchLabels": {"app": "cp"}}, "template": {"metadata": {"labels": {"app": "cp"}},
        "spec": {"containers": [{"name": "cp", "image": "kong/kuma-cp:2.9.3"}]}}}});
    let (_, created) = k.post("/apis/apps/v1/namespaces/apps/deployments", deployment);
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["status"]["readyReplicas"], 1);
    let path = "/apis/apps/v1/namespaces/apps/deployments/cp";
    let (_, labelled) = k.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    );
    assert_eq!(labelled["metadata"]["generation"], 1);
    let (_, restarted) = k.patch(path, "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}));
    assert_eq!(restarted["metadata"]["generation"], 2);
    assert_eq!(restarted["status"]["observedGeneration"], 2);
    let (_, sets) = k.get("/apis/apps/v1/namespaces/apps/replicasets");
    assert_eq!(sets["items"].as_array().unwrap().len(), 2);
    assert_eq!(k.delete(path).0, 200);
    let (_, sets) = k.get("/apis/apps/v1/namespaces/apps/replicasets");
    assert_eq!(sets["items"], json!([]));
}

#[test]
fn patches_merge_by_type() {
    let k = start();
    k.namespace("p");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
    k.post("/api/v1/namespaces/p/configmaps", cm);
    let path = "/api/v1/namespaces/p/configmaps/c";
    let (_, merged) = k.patch(
        path,
        "application/merge-patch+json",
        json!({"data": {"a": null, "c": "3"}}),
    );
    assert_eq!(merged["data"], json!({"b": "2", "c": "3"}));
    let (_, patched) = k.patch(
        path,
        "application/json-patch+json",
        json!([{"op": "replace", "path": "/data/b", "value": "9"}]),
    );
    assert_eq!(patched["data"]["b"], "9");
    let (status, _) = k.patch(
        "/api/v1/namespaces/p/configmaps/absent",
        "application/merge-patch+json",
        json!({}),
    );
    assert_eq!(status, 404);
    let (status, _) = k.patch(path, "text/plain", json!({}));
    assert_eq!(status, 415);
}

#[test]
fn server_side_apply_creates_and_removes_fields_it_no_longer_applies() {
    let k = start();
    k.namespace("ssa");
    let path = "/api/v1/namespaces/ssa/configmaps/c?fieldManager=meshform";
    let first = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"x": "1"}}, "data": {"a": "1", "b": "2"}});
    let (status, created) = k.patch(path, "application/apply-patch+yaml", first);
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        created["metadata"]["managedFields"][0]["manager"],
        "meshform"
    );
    let second = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "3"}});
    let (_, applied) = k.patch(path, "application/apply-patch+yaml", second);
    assert_eq!(applied["data"], json!({"a": "3"}));
    assert!(applied["metadata"].get("labels").is_none(), "{applied}");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"4\"\n";
    let response = k
        .client
        .patch(k.url(path))
        .header("content-type", "application/apply-patch+yaml")
        .body(yaml)
        .send()
        .unwrap();
    let (status, applied) = read(response);
    assert_eq!((status, &applied["data"]["a"]), (200, &json!("4")));
}

#[test]
fn lists_filter_by_label_and_field_selectors() {
    let k = start();
    k.namespace("a");
    k.namespace("b");
    k.post("/api/v1/namespaces/a/secrets", secret("one", "1"));
    let mut other = secret("two", "2");
    other["metadata"]["labels"] = json!({"app": "other"});
    k.post("/api/v1/namespaces/b/secrets", other);
    let names = |path: &str| -> Vec<String> {
        let (_, list) = k.get(path);
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("/api/v1/secrets"), ["one", "two"]);
    assert_eq!(names("/api/v1/secrets?labelSelector=app%3Dzone"), ["one"]);
    assert_eq!(
        names("/api/v1/secrets?labelSelector=app%20in%20(zone,other)"),
        ["one", "two"]
    );
    assert_eq!(
        names("/api/v1/secrets?fieldSelector=metadata.namespace%3Db"),
        ["two"]
    );
    assert_eq!(
        names("/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%21%3Done"),
        Vec::<String>::new()
    );
    let (_, page) = k.get("/api/v1/secrets?limit=1");
    assert_eq!(page["metadata"]["continue"], "1");
}

#[test]
fn namespace_deletion_removes_its_objects() {
    let k = start();
    k.namespace("gone");
    k.namespace("kept");
    k.post("/api/v1/namespaces/gone/secrets", secret("s", "1"));
    k.post("/api/v1/namespaces/kept/secrets", secret("s", "1"));
    let (status, deleted) = k.delete("/api/v1/namespaces/gone");
    assert_eq!(status, 200);
    assert_eq!(deleted["status"]["phase"], "Terminating");
    assert_eq!(k.get("/api/v1/namespaces/gone").0, 404);
    assert_eq!(k.get("/api/v1/namespaces/gone/secrets/s").0, 404);
    assert_eq!(k.get("/api/v1/namespaces/kept/secrets/s").0, 200);
}

fn crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "meshtrafficpermissions.kuma.io"},
        "spec": {"group": "kuma.io", "scope": "Namespaced",
            "names": {"kind": "MeshTrafficPermission", "plural": "meshtrafficpermissions", "singular": "meshtrafficpermission", "listKind": "MeshTrafficPermissionList"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

#[test]
fn crds_register_their_resources_at_once() {
    let k = start();
    k.namespace("kong-mesh-system");
    let path = "/apis/kuma.io/v1alpha1/namespaces/kong-mesh-system/meshtrafficpermissions";
    assert_eq!(k.get(path).0, 404);
    let (status, created) = k.post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        crd(),
    );
    assert_eq!(status, 201);
    assert_eq!(created["status"]["conditions"][1]["type"], "Established");
    let (_, discovery) = k.get("/apis/kuma.io/v1alpha1");
    assert_eq!(discovery["resources"][0]["name"], "meshtrafficpermissions");
    let policy = json!({"apiVersion": "kuma.io/v1alpha1", "kind": "MeshTrafficPermission",
        "metadata": {"name": "allow-all"}, "spec": {"targetRef": {"kind": "Mesh"}}});
    let (status, body) = k.post(path, policy);
    assert_eq!(status, 201, "{body}");
    let (status, body) = k.patch(
        &format!("{path}/allow-all"),
        "application/strategic-merge-patch+json",
        json!({"spec": {}}),
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    assert_eq!(k.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/meshtrafficpermissions.kuma.io").0, 200);
    assert_eq!(k.get(path).0, 404);
    assert_eq!(
        k.sandbox
            .status()
            .unwrap()
            .kubernetes
            .get("meshtrafficpermissions.kuma.io"),
        None
    );
}

#[test]
fn jobs_and_workloads_report_completion() {
    let k = start();
    k.namespace("w");
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pre-install"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    let (_, created) = k.post("/apis/batch/v1/namespaces/w/jobs", job);
    assert_eq!(created["status"]["succeeded"], 1);
    assert!(created["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Complete" && c["status"] == "True"));
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let (_, created) = k.post("/apis/apps/v1/namespaces/w/daemonsets", ds);
    assert_eq!(
        created["status"]["numberReady"],
        created["status"]["desiredNumberScheduled"]
    );
}

#[test]
fn watch_streams_initial_and_later_events() {
    let k = start();
    k.namespace("watched");
    k.post(
        "/api/v1/namespaces/watched/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "labels": {"test": "watch"}}}),
    );
    let response = k
        .client
        .get(k.url("/api/v1/namespaces/watched/configmaps?watch=true&timeoutSeconds=30&labelSelector=test%3Dwatch"))
        .send()
        .unwrap();
    let mut lines = BufReader::new(response).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("first"))
    );
    k.post(
        "/api/v1/namespaces/watched/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "labels": {"test": "watch"}}}),
    );
    k.delete("/api/v1/namespaces/watched/configmaps/first");
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            second["type"].as_str(),
            second["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("second"))
    );
    let third: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            third["type"].as_str(),
            third["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("first"))
    );
}

#[test]
fn kubeconfig_points_at_the_server() {
    let k = start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox/kubeconfig");
    k.sandbox.write_kubeconfig(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("server: {}", k.sandbox.kubernetes_url())));
    assert!(text.contains("current-context: meshform-sandbox"));
}

#[test]
fn large_objects_are_accepted() {
    let k = start();
    k.namespace("big");
    let payload = "a".repeat(4 * 1024 * 1024);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"blob": payload}});
    let (status, _) = k.post("/api/v1/namespaces/big/configmaps", cm);
    assert_eq!(status, 201);
    let (_, read) = k.get("/api/v1/namespaces/big/configmaps/big");
    assert_eq!(
        read["data"]["blob"].as_str().map(str::len),
        Some(4 * 1024 * 1024)
    );
}

#[test]
fn server_side_apply_reports_conflicts_between_appliers_unless_forced() {
    let k = start();
    k.namespace("ssa");
    let apply = |manager: &str, force: bool, value: &str| {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": value}});
        let path =
            format!("/api/v1/namespaces/ssa/configmaps/c?fieldManager={manager}&force={force}");
        k.patch(&path, "application/apply-patch+yaml", body)
    };
    assert_eq!(apply("one", false, "1").0, 200);
    assert_eq!(
        apply("two", false, "1").0,
        200,
        "the same value is shared ownership"
    );
    let (status, conflict) = apply("two", false, "2");
    assert_eq!(status, 409, "{conflict}");
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"one\": .data.a"),
        "{conflict}"
    );
    let (status, forced) = apply("two", true, "2");
    assert_eq!((status, &forced["data"]["a"]), (200, &json!("2")));
    assert_eq!(apply("one", false, "3").0, 409);
}

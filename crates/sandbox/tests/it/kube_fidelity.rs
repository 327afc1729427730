//! What real clients expect of an API server beyond storage (issue 23):
//! a cluster's standing objects, API defaults, Status answers to deletes,
//! pod image IDs, `/scale`, and watches that resume from a resourceVersion.

use std::io::{BufRead, BufReader};

use serde_json::{json, Value};

use crate::kube::start;

#[test]
fn issue_23_a_fresh_cluster_has_a_node_the_kubernetes_service_and_the_root_ca() {
    let k = start();
    let (status, nodes) = k.get("/api/v1/nodes");
    assert_eq!(status, 200);
    let node = &nodes["items"][0];
    assert!(node["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True"));
    let (status, service) = k.get("/api/v1/namespaces/default/services/kubernetes");
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["spec"]["ports"][0]["port"], 443);
    for ns in ["default", "kube-system"] {
        let (status, ca) = k.get(&format!(
            "/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt"
        ));
        assert_eq!(status, 200, "{ns}");
        assert!(ca["data"]["ca.crt"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
    }
    k.namespace("team");
    let (status, _) = k.get("/api/v1/namespaces/team/configmaps/kube-root-ca.crt");
    assert_eq!(status, 200, "a new namespace gets the root CA too");
}

#[test]
fn issue_23_objects_get_the_api_servers_defaults() {
    let k = start();
    let (_, svc) = k.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    );
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    let (status, deploy) = k.post(
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}}),
    );
    assert_eq!(status, 201, "{deploy}");
    assert_eq!(deploy["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(deploy["spec"]["revisionHistoryLimit"], 10);
    let pod_spec = &deploy["spec"]["template"]["spec"];
    assert_eq!(pod_spec["restartPolicy"], "Always");
    assert_eq!(pod_spec["containers"][0]["ports"][0]["protocol"], "TCP");
    assert_eq!(pod_spec["containers"][0]["imagePullPolicy"], "IfNotPresent");

    let (_, pods) = k.get("/api/v1/namespaces/default/pods");
    let status = &pods["items"][0]["status"]["containerStatuses"][0];
    assert_eq!(status["image"], "nginx:1.27");
    let image_id = status["imageID"].as_str().unwrap();
    assert!(
        image_id.starts_with("docker.io/library/nginx@sha256:") && image_id.len() == 31 + 64,
        "{image_id}"
    );
}

#[test]
fn issue_23_delete_answers_a_status_unless_the_object_lingers() {
    let k = start();
    k.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone"}}),
    );
    let (status, body) = k.delete("/api/v1/namespaces/default/configmaps/gone");
    assert_eq!(status, 200);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["name"], "gone");
    assert_eq!(body["details"]["kind"], "configmaps");
    k.namespace("leaving");
    let (_, body) = k.delete("/api/v1/namespaces/leaving");
    assert_eq!(body["kind"], "Namespace");
    assert_eq!(body["status"]["phase"], "Terminating");
}

#[test]
fn issue_23_scale_is_an_autoscaling_v1_scale() {
    let k = start();
    k.post(
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web/scale";
    let (status, scale) = k.get(path);
    assert_eq!(status, 200);
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let mut update = scale.clone();
    update["spec"]["replicas"] = json!(3);
    let (status, scaled) = k.put(path, update);
    assert_eq!(status, 200, "{scaled}");
    assert_eq!(scaled["spec"]["replicas"], 3);
    let (_, pods) = k.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    assert_eq!(pods["items"].as_array().unwrap().len(), 3);
    let (_, discovery) = k.get("/apis/apps/v1");
    assert!(discovery["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "deployments/scale"
            && r["kind"] == "Scale"
            && r["group"] == "autoscaling"));
}

fn read_event(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> Value {
    serde_json::from_str(&lines.next().expect("an event").expect("a line")).expect("JSON")
}

#[test]
fn issue_23_a_watch_from_a_lists_version_sees_every_later_change() {
    let k = start();
    let cm = |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"t": "w"}}});
    k.post("/api/v1/namespaces/default/configmaps", cm("before"));
    let (_, list) = k.get("/api/v1/namespaces/default/configmaps?labelSelector=t%3Dw");
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // Changes between the list and the watch are not lost.
    k.post("/api/v1/namespaces/default/configmaps", cm("during"));
    k.delete("/api/v1/namespaces/default/configmaps/before");
    let response = k
        .client
        .get(k.url(&format!(
            "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=t%3Dw&resourceVersion={rv}&timeoutSeconds=30"
        )))
        .send()
        .unwrap();
    let mut lines = BufReader::new(response).lines();
    let seen: Vec<(String, String)> = (0..2)
        .map(|_| {
            let e = read_event(&mut lines);
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ADDED".to_string(), "during".to_string()),
            ("DELETED".to_string(), "before".to_string())
        ]
    );
    k.post("/api/v1/namespaces/default/configmaps", cm("after"));
    let e = read_event(&mut lines);
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("after"))
    );
}

/// A server started on a stored world knows none of that world's past
/// changes, as a real one after etcd compaction: a watch from an older
/// version is answered 410 Gone and the client must list again.
#[test]
fn issue_23_a_watch_from_a_version_too_old_is_gone() {
    use meshform_sandbox::{Database, Sandbox, SandboxConfig};
    let dir = tempfile::tempdir().unwrap();
    let config = || SandboxConfig {
        database: Database::File(dir.path().join("world.db")),
        ..SandboxConfig::default()
    };
    let client = reqwest::blocking::Client::new();
    let first = Sandbox::start(config()).unwrap();
    let (_, cm) = crate::common::read(
        client
            .post(format!(
                "{}/api/v1/namespaces/default/configmaps",
                first.kubernetes_url()
            ))
            .json(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old"}}))
            .send()
            .unwrap(),
    );
    let old_rv = cm["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    first.shutdown();
    let second = Sandbox::start(config()).unwrap();
    let response = client
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={old_rv}",
            second.kubernetes_url()
        ))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut lines = BufReader::new(response).lines();
    let e = read_event(&mut lines);
    assert_eq!(e["type"], "ERROR");
    assert_eq!(e["object"]["code"], 410);
    assert_eq!(e["object"]["reason"], "Expired");
    assert!(lines.next().is_none(), "the stream ends after the error");
}

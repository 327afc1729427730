//! Zone simulation: a kong-mesh zone Deployment connects with the token it
//! rolled out with, mirrors policies, and keeps the control plane busy.

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::common::{read, start, Konnect};

fn kube(k: &Konnect, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = Client::new();
    let mut req = client.request(method, format!("{}{path}", k.sandbox.kubernetes_url()));
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().unwrap())
}

fn token_secret(token: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cp-token", "namespace": "kong-mesh-system"},
           "type": "Opaque", "stringData": {"token": token}})
}

fn zone_deployment(cp: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "kong-mesh-control-plane", "namespace": "kong-mesh-system"},
    "spec": {"selector": {"matchLabels": {"app": "cp"}}, "template": {"metadata": {"labels": {"app": "cp"}},
        "spec": {"containers": [{"name": "control-plane", "image": "docker.io/kong/kuma-cp:2.9.3", "env": [
            {"name": "KMESH_MULTIZONE_ZONE_KONNECT_CP_ID", "value": cp},
            {"name": "KUMA_MODE", "value": "zone"},
            {"name": "KUMA_MULTIZONE_ZONE_NAME", "value": "zone-1"},
            {"name": "KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE", "value": "kong-mesh-system"},
            {"name": "KMESH_MULTIZONE_ZONE_KDS_AUTH_CP_TOKEN_INLINE", "valueFrom": {"secretKeyRef": {"name": "cp-token", "key": "token"}}},
        ]}]}}}})
}

fn crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "meshtrafficpermissions.kuma.io"},
        "spec": {"group": "kuma.io", "scope": "Namespaced",
            "names": {"kind": "MeshTrafficPermission", "plural": "meshtrafficpermissions", "singular": "meshtrafficpermission"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

fn issue_token(k: &Konnect, account: &str) -> (String, String) {
    let (status, created) = k.post(
        &format!("/v3/system-accounts/{account}/access-tokens"),
        json!({"name": "zone"}),
    );
    assert_eq!(status, 201);
    (
        created["id"].as_str().unwrap().to_string(),
        created["token"].as_str().unwrap().to_string(),
    )
}

fn zone(k: &Konnect) -> meshform_sandbox::ZoneStatus {
    k.sandbox.sync_zones().unwrap();
    k.sandbox
        .status()
        .unwrap()
        .zones
        .into_iter()
        .next()
        .expect("a zone")
}

#[test]
fn a_zone_connects_mirrors_policies_and_needs_a_restart_after_rotation() {
    use reqwest::Method;
    let k = start();
    let cp = k.control_plane("guide");
    k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/mesh1"),
        json!({"type": "Mesh", "name": "mesh1", "skipCreatingInitialPolicies": ["*"]}),
    );
    k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/mesh1/meshtrafficpermissions/allow-all"),
        json!({"type": "MeshTrafficPermission", "mesh": "mesh1", "name": "allow-all", "labels": {"kuma.io/mesh": "mesh1"},
               "spec": {"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]}}),
    );
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "zone", "description": "zone"}),
    );
    let account = account["id"].as_str().unwrap().to_string();
    k.post(&format!("/v3/system-accounts/{account}/assigned-roles"),
        json!({"role_name": "Connector", "entity_id": cp, "entity_type_name": "Mesh Control Planes", "entity_region": "us"}));
    let (old_id, old_token) = issue_token(&k, &account);

    kube(
        &k,
        Method::POST,
        "/api/v1/namespaces",
        Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kong-mesh-system"}}),
        ),
    );
    kube(
        &k,
        Method::POST,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some(crd()),
    );
    kube(
        &k,
        Method::POST,
        "/api/v1/namespaces/kong-mesh-system/secrets",
        Some(token_secret(&old_token)),
    );
    let (status, _) = kube(
        &k,
        Method::POST,
        "/apis/apps/v1/namespaces/kong-mesh-system/deployments",
        Some(zone_deployment(&cp)),
    );
    assert_eq!(status, 201);

    let z = zone(&k);
    assert!(z.online, "{z:?}");
    let (_, mirrored) = kube(
        &k,
        Method::GET,
        "/apis/kuma.io/v1alpha1/meshtrafficpermissions",
        None,
    );
    let name = mirrored["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("allow-all-"), "{mirrored}");
    assert_eq!(
        mirrored["items"][0]["metadata"]["namespace"],
        "kong-mesh-system"
    );
    assert_eq!(
        mirrored["items"][0]["spec"]["from"][0]["default"]["action"],
        "Allow"
    );
    assert_eq!(k.delete(&format!("/v1/mesh/control-planes/{cp}")).0, 400);

    // Rotation: a new token in the secret, the old one revoked. The running
    // zone still holds the old token until its Deployment is restarted.
    let (_, new_token) = issue_token(&k, &account);
    let mut secret = token_secret(&new_token);
    secret["metadata"]["resourceVersion"] = Value::Null;
    kube(
        &k,
        Method::PUT,
        "/api/v1/namespaces/kong-mesh-system/secrets/cp-token",
        Some(secret),
    );
    k.delete(&format!(
        "/v3/system-accounts/{account}/access-tokens/{old_id}"
    ));
    let z = zone(&k);
    assert!(!z.online);
    assert!(
        z.reason.as_deref().unwrap_or_default().contains("revoked"),
        "{z:?}"
    );
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}});
    let response = Client::new()
        .patch(format!(
            "{}/apis/apps/v1/namespaces/kong-mesh-system/deployments/kong-mesh-control-plane",
            k.sandbox.kubernetes_url()
        ))
        .header("content-type", "application/strategic-merge-patch+json")
        .body(restart.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(zone(&k).online);

    // Policies removed in Konnect disappear from the cluster.
    k.delete(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/mesh1/meshtrafficpermissions/allow-all"
    ));
    k.sandbox.sync_zones().unwrap();
    let (_, mirrored) = kube(
        &k,
        Method::GET,
        "/apis/kuma.io/v1alpha1/meshtrafficpermissions",
        None,
    );
    assert_eq!(mirrored["items"], json!([]));

    // Uninstalling the zone disconnects it, so the control plane can go.
    kube(
        &k,
        Method::DELETE,
        "/apis/apps/v1/namespaces/kong-mesh-system/deployments/kong-mesh-control-plane",
        None,
    );
    let z = zone(&k);
    assert!(!z.online);
    assert_eq!(k.delete(&format!("/v1/mesh/control-planes/{cp}")).0, 204);
    crate::contract::check_exchanges(&k.sandbox.exchanges());
}

#[test]
fn a_token_without_a_role_on_the_control_plane_keeps_the_zone_offline() {
    use reqwest::Method;
    let k = start();
    let cp = k.control_plane("guide");
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "zone", "description": "zone"}),
    );
    let (_, token) = issue_token(&k, account["id"].as_str().unwrap());
    kube(
        &k,
        Method::POST,
        "/api/v1/namespaces",
        Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kong-mesh-system"}}),
        ),
    );
    kube(
        &k,
        Method::POST,
        "/api/v1/namespaces/kong-mesh-system/secrets",
        Some(token_secret(&token)),
    );
    kube(
        &k,
        Method::POST,
        "/apis/apps/v1/namespaces/kong-mesh-system/deployments",
        Some(zone_deployment(&cp)),
    );
    let z = zone(&k);
    assert!(!z.online);
    assert!(
        z.reason.as_deref().unwrap_or_default().contains("no role"),
        "{z:?}"
    );
}

//! Zone simulation as Kuma behaves (issue 23): Kuma's names for synced
//! objects, the Mesh mirrored, the admission webhook guarding synced
//! objects, zone-made policies reaching Konnect, a stopped zone offline.

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{read, start, Konnect};

fn kube_with(
    k: &Konnect,
    method: Method,
    path: &str,
    content_type: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = Client::new().request(method, format!("{}{path}", k.sandbox.kubernetes_url()));
    if let Some(body) = body {
        req = req
            .header("content-type", content_type)
            .body(body.to_string());
    }
    read(req.send().unwrap())
}

fn kube(k: &Konnect, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    kube_with(k, method, path, "application/json", body)
}

fn crd(kind: &str, plural: &str, scope: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.kuma.io")},
        "spec": {"group": "kuma.io", "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase()},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

/// The kong-mesh chart's validating webhook registration (its rule for
/// policies, as in the chart the guide installs).
fn webhook() -> Value {
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "kong-mesh-validating-webhook-configuration"},
        "webhooks": [{"name": "validator.kuma-admission.kuma.io", "admissionReviewVersions": ["v1"],
            "failurePolicy": "Fail", "sideEffects": "None",
            "clientConfig": {"service": {"namespace": "kong-mesh-system", "name": "kong-mesh-control-plane", "path": "/validate-kuma-io-v1alpha1"}},
            "rules": [{"apiGroups": ["kuma.io"], "apiVersions": ["v1alpha1"], "operations": ["CREATE", "UPDATE", "DELETE"],
                "resources": ["meshes", "meshtrafficpermissions"]}]}]})
}

fn zone_deployment(cp: &str, token: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "kong-mesh-control-plane", "namespace": "kong-mesh-system"},
    "spec": {"selector": {"matchLabels": {"app": "cp"}}, "template": {"metadata": {"labels": {"app": "cp"}},
        "spec": {"containers": [{"name": "control-plane", "image": "docker.io/kong/kuma-cp:2.9.3", "env": [
            {"name": "KMESH_MULTIZONE_ZONE_KONNECT_CP_ID", "value": cp},
            {"name": "KUMA_MODE", "value": "zone"},
            {"name": "KUMA_MULTIZONE_ZONE_NAME", "value": "zone-1"},
            {"name": "KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE", "value": "kong-mesh-system"},
            {"name": "KMESH_MULTIZONE_ZONE_KDS_AUTH_CP_TOKEN_INLINE", "value": token},
        ]}]}}}})
}

const DEPLOYMENT: &str =
    "/apis/apps/v1/namespaces/kong-mesh-system/deployments/kong-mesh-control-plane";
const POLICIES: &str = "/apis/kuma.io/v1alpha1/namespaces/kong-mesh-system/meshtrafficpermissions";

/// A control plane with a connected zone: (cp id, the zone's status).
fn connected_zone(k: &Konnect, meshes: &[&str]) -> String {
    let cp = k.control_plane("guide");
    for mesh in meshes {
        let (status, body) = k.put(
            &format!("/v1/mesh/control-planes/{cp}/api/meshes/{mesh}"),
            json!({"type": "Mesh", "name": mesh, "skipCreatingInitialPolicies": ["*"]}),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "zone", "description": "zone"}),
    );
    let account = account["id"].as_str().unwrap().to_string();
    k.post(&format!("/v3/system-accounts/{account}/assigned-roles"),
        json!({"role_name": "Connector", "entity_id": cp, "entity_type_name": "Mesh Control Planes", "entity_region": "us"}));
    let (_, token) = k.post(
        &format!("/v3/system-accounts/{account}/access-tokens"),
        json!({"name": "zone"}),
    );
    let token = token["token"].as_str().unwrap().to_string();
    kube(
        k,
        Method::POST,
        "/api/v1/namespaces",
        Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kong-mesh-system"}}),
        ),
    );
    for (kind, plural, scope) in [
        (
            "MeshTrafficPermission",
            "meshtrafficpermissions",
            "Namespaced",
        ),
        ("Mesh", "meshes", "Cluster"),
    ] {
        let (status, body) = kube(
            k,
            Method::POST,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some(crd(kind, plural, scope)),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = kube(
        k,
        Method::POST,
        "/apis/apps/v1/namespaces/kong-mesh-system/deployments",
        Some(zone_deployment(&cp, &token)),
    );
    assert_eq!(status, 201, "{body}");
    cp
}

fn zone(k: &Konnect) -> meshform_sandbox::ZoneStatus {
    k.sandbox
        .status()
        .unwrap()
        .zones
        .into_iter()
        .next()
        .expect("a zone")
}

fn put_policy(k: &Konnect, cp: &str, mesh: &str, name: &str, labels: Value) -> u16 {
    let (status, body) = k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/{mesh}/meshtrafficpermissions/{name}"),
        json!({"type": "MeshTrafficPermission", "mesh": mesh, "name": name, "labels": labels,
               "spec": {"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]}}),
    );
    assert!(status == 201 || status == 200, "{body}");
    status
}

fn synced_names(k: &Konnect) -> Vec<String> {
    let (_, list) = kube(k, Method::GET, POLICIES, None);
    let mut names: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// issue 23: the cluster names of synced policies are Kuma's. The expected
/// names come from Kuma itself: the issue's guide policy, and the cases of
/// Kuma 2.14's `pkg/api-server/kri_endpoint_test.go` (globally originated,
/// with and without zone and namespace labels).
#[test]
fn issue_23_synced_names_are_kumas() {
    let cases = [
        (
            "my-mesh",
            "allow-all",
            json!({}),
            "allow-all-48xx85dv9d6z4b22",
        ),
        (
            "default",
            "without-namespace",
            json!({}),
            "without-namespace-c5v4498z5w4x9bcx",
        ),
        (
            "producer-policy-flow",
            "to-test-server",
            json!({"k8s.kuma.io/namespace": "producer-policy-flow-ns"}),
            "to-test-server-5wxzc95dxv8zb244",
        ),
        (
            "producer-policy-flow",
            "to-test-server-2",
            json!({"kuma.io/display-name": "to-test-server", "kuma.io/zone": "kuma-2",
                   "k8s.kuma.io/namespace": "producer-policy-flow-ns"}),
            "to-test-server-4cx47v8b5wcd4764",
        ),
    ];
    let k = start();
    let cp = connected_zone(&k, &["my-mesh", "default", "producer-policy-flow"]);
    for (mesh, name, labels, _) in &cases {
        put_policy(&k, &cp, mesh, name, labels.clone());
    }
    k.sandbox.sync_zones().unwrap();
    assert!(zone(&k).online, "{:?}", zone(&k));
    let mut expected: Vec<String> = cases.iter().map(|c| c.3.to_string()).collect();
    expected.sort();
    assert_eq!(synced_names(&k), expected);
}

/// issue 23: the zone holds the control plane's meshes as cluster-scoped
/// `meshes.kuma.io` under their own names.
#[test]
fn issue_23_the_mesh_is_mirrored() {
    let k = start();
    let _cp = connected_zone(&k, &["my-mesh"]);
    k.sandbox.sync_zones().unwrap();
    let (status, mesh) = kube(
        &k,
        Method::GET,
        "/apis/kuma.io/v1alpha1/meshes/my-mesh",
        None,
    );
    assert_eq!(status, 200, "{mesh}");
    assert_eq!(mesh["metadata"]["labels"]["kuma.io/origin"], "global");
    assert_eq!(mesh["spec"]["skipCreatingInitialPolicies"], json!(["*"]));
}

/// issue 23: a Konnect policy whose synced name is no Kubernetes name
/// breaks the zone's sync of that type, as Kuma's store refuses it; the
/// zone comes back once the policy is gone.
#[test]
fn issue_23_a_policy_name_kubernetes_refuses_breaks_the_sync() {
    let k = start();
    let cp = connected_zone(&k, &["my-mesh"]);
    put_policy(&k, &cp, "my-mesh", "allow-all", json!({}));
    put_policy(&k, &cp, "my-mesh", "Allow_All", json!({}));
    k.sandbox.sync_zones().unwrap();
    let z = zone(&k);
    assert!(!z.online, "{z:?}");
    let reason = z.reason.unwrap_or_default();
    assert!(
        reason.contains("failed to store MeshTrafficPermission resources")
            && reason.contains("Allow_All-")
            && reason.contains("metadata.name: Invalid value"),
        "{reason}"
    );
    assert_eq!(synced_names(&k), Vec::<String>::new());
    k.delete(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/my-mesh/meshtrafficpermissions/Allow_All"
    ));
    k.sandbox.sync_zones().unwrap();
    assert!(zone(&k).online);
    assert_eq!(
        synced_names(&k),
        vec!["allow-all-48xx85dv9d6z4b22".to_string()]
    );
}

/// issue 23: with the chart's webhook registered, users cannot edit or
/// delete what global synced; policies they make in the zone carry
/// `kuma.io/origin: zone` and reach Konnect under Kuma's zone-to-global name.
#[test]
fn issue_23_synced_objects_are_guarded_and_zone_policies_reach_konnect() {
    let k = start();
    let cp = connected_zone(&k, &["my-mesh"]);
    put_policy(&k, &cp, "my-mesh", "allow-all", json!({}));
    let (status, body) = kube(
        &k,
        Method::POST,
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        Some(webhook()),
    );
    assert_eq!(status, 201, "{body}");
    k.sandbox.sync_zones().unwrap();
    let synced = format!("{POLICIES}/allow-all-48xx85dv9d6z4b22");
    let (status, denied) = kube_with(
        &k,
        Method::PATCH,
        &synced,
        "application/merge-patch+json",
        Some(
            json!({"spec": {"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}]}}),
        ),
    );
    assert_eq!(status, 403, "{denied}");
    assert_eq!(denied["reason"], "Forbidden");
    assert_eq!(
        denied["message"],
        "admission webhook \"validator.kuma-admission.kuma.io\" denied the request: Operation not allowed. Applying policies on Zone CP on a system namespace requires 'kuma.io/origin' label to be set to 'zone'."
    );
    assert_eq!(kube(&k, Method::DELETE, &synced, None).0, 403);
    let (status, denied) = kube_with(
        &k,
        Method::PATCH,
        "/apis/kuma.io/v1alpha1/meshes/my-mesh",
        "application/merge-patch+json",
        Some(json!({"spec": {"mtls": null}})),
    );
    assert_eq!(status, 403, "{denied}");
    assert!(
        denied["message"].as_str().unwrap().ends_with("Kong Mesh resources like Mesh can be updated or deleted only from the GLOBAL control plane and not from a ZONE control plane."),
        "{denied}"
    );

    let zone_policy = |labels: Value| {
        json!({"apiVersion": "kuma.io/v1alpha1", "kind": "MeshTrafficPermission",
            "metadata": {"name": "local-deny", "namespace": "kong-mesh-system", "labels": labels},
            "spec": {"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}]}})
    };
    let (status, _) = kube(
        &k,
        Method::POST,
        POLICIES,
        Some(zone_policy(json!({"kuma.io/mesh": "my-mesh"}))),
    );
    assert_eq!(status, 403);
    let (status, body) = kube(
        &k,
        Method::POST,
        POLICIES,
        Some(zone_policy(
            json!({"kuma.io/mesh": "my-mesh", "kuma.io/origin": "zone"}),
        )),
    );
    assert_eq!(status, 201, "{body}");
    k.sandbox.sync_zones().unwrap();
    let (status, list) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/my-mesh/meshtrafficpermissions"
    ));
    assert_eq!(status, 200);
    let from_zone: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["labels"]["kuma.io/origin"] == "zone")
        .collect();
    assert_eq!(from_zone.len(), 1, "{list}");
    let name = from_zone[0]["name"].as_str().unwrap();
    assert!(
        name.starts_with("local-deny-") && name.len() == "local-deny-".len() + 16,
        "{name}"
    );
    assert_eq!(from_zone[0]["labels"]["kuma.io/zone"], "zone-1");
    assert_eq!(
        from_zone[0]["labels"]["k8s.kuma.io/namespace"],
        "kong-mesh-system"
    );
    assert_eq!(from_zone[0]["labels"]["kuma.io/display-name"], "local-deny");
    // The zone's own policy is not synced back into the zone.
    assert_eq!(
        synced_names(&k),
        vec![
            "allow-all-48xx85dv9d6z4b22".to_string(),
            "local-deny".to_string()
        ]
    );
    // Gone from the zone, gone from Konnect.
    let (status, _) = kube(&k, Method::DELETE, &format!("{POLICIES}/local-deny"), None);
    assert_eq!(status, 200);
    k.sandbox.sync_zones().unwrap();
    let (_, list) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/my-mesh/meshtrafficpermissions"
    ));
    assert_eq!(list["total"], 1, "{list}");
    crate::contract::check_exchanges(&k.sandbox.exchanges());
}

/// issue 23: scaling the zone control plane to 0 takes the zone offline by
/// the time the scale request is answered; policies then stay unsynced
/// until it runs again.
#[test]
fn issue_23_a_zone_scaled_to_zero_is_offline_until_it_runs_again() {
    let k = start();
    let cp = connected_zone(&k, &["my-mesh"]);
    k.sandbox.sync_zones().unwrap();
    assert!(zone(&k).online);
    let scale = |replicas: i64| {
        let (status, body) = kube_with(
            &k,
            Method::PATCH,
            &format!("{DEPLOYMENT}/scale"),
            "application/merge-patch+json",
            Some(json!({"spec": {"replicas": replicas}})),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["kind"], "Scale");
    };
    scale(0);
    let z = zone(&k);
    assert!(!z.online, "{z:?}");
    assert!(z.reason.unwrap_or_default().contains("scaled to 0"));
    put_policy(&k, &cp, "my-mesh", "allow-all", json!({}));
    k.sandbox.sync_zones().unwrap();
    assert_eq!(synced_names(&k), Vec::<String>::new());
    scale(1);
    assert!(zone(&k).online);
    assert_eq!(
        synced_names(&k),
        vec!["allow-all-48xx85dv9d6z4b22".to_string()]
    );
}

/// issue 23: a policy made in another namespace of the zone reaches Konnect
/// under the name Kuma gives it from zone to global (the case "synced from
/// zone to global" of Kuma 2.14's `pkg/api-server/kri_endpoint_test.go`).
#[test]
fn issue_23_zone_policies_reach_konnect_under_kumas_name() {
    let k = start();
    let cp = connected_zone(&k, &["producer-policy-flow"]);
    kube(
        &k,
        Method::POST,
        "/api/v1/namespaces",
        Some(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "producer-policy-flow-ns"}}),
        ),
    );
    let (status, body) = kube(
        &k,
        Method::POST,
        "/apis/kuma.io/v1alpha1/namespaces/producer-policy-flow-ns/meshtrafficpermissions",
        Some(
            json!({"apiVersion": "kuma.io/v1alpha1", "kind": "MeshTrafficPermission",
            "metadata": {"name": "to-test-server", "labels": {"kuma.io/mesh": "producer-policy-flow"}},
            "spec": {"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]}}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    k.sandbox.sync_zones().unwrap();
    let (status, policy) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/producer-policy-flow/meshtrafficpermissions/to-test-server-xw65cwcxxw4f7fvw"
    ));
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["labels"]["kuma.io/origin"], "zone");
    assert_eq!(policy["spec"]["from"][0]["default"]["action"], "Allow");
    crate::contract::check_exchanges(&k.sandbox.exchanges());
}

//! What every cluster has from the start: its namespaces, a node, the
//! `kubernetes` Service, and the `kube-root-ca.crt` ConfigMap that the
//! root CA publisher puts in every namespace.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::*;

/// The cluster's CA certificate, as `kube-root-ca.crt` publishes it. The
/// sandbox serves plain HTTP; this self-signed certificate (made once with
/// openssl for the sandbox) only gives clients the object they expect.
const ROOT_CA: &str = include_str!("data/sandbox-ca.crt");
pub(super) const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
/// The one node every pod runs on.
pub(super) const NODE_NAME: &str = "meshform-sandbox";

/// Creates what every cluster has, unless `default` exists.
/// Also starts the change history afresh: this server knows no version
/// of the stored world from before it started.
pub fn ensure_defaults(world: &World) -> Result<(), StoreError> {
    world.store.tx(|t| {
        world
            .kube_events
            .forget_before(u64::try_from(t.next_counter(RV_COUNTER)?).unwrap_or(0));
        ensure_default_namespaces(world, t)
    })
}

fn builtin(t: &Tx<'_>, group: &str, plural: &str) -> Result<ResourceType, StoreError> {
    Ok(registry::all_types(t)?
        .into_iter()
        .find(|ty| ty.group == group && ty.plural == plural)
        .unwrap_or_else(namespace_type))
}

fn put_new(
    world: &World,
    t: &Tx<'_>,
    ty: &ResourceType,
    scope: &str,
    mut object: Value,
) -> Result<(), StoreError> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if t.get(API, &ty.collection(), scope, &name)?.is_some() {
        return Ok(());
    }
    stamp_new(t, ty, &mut object)?;
    t.put(API, &ty.collection(), scope, &name, &object)?;
    notify(world, ty, scope, "ADDED", &object);
    Ok(())
}

pub(super) fn ensure_default_namespaces(world: &World, t: &Tx<'_>) -> Result<(), StoreError> {
    if t.get(API, "namespaces", "", "default")?.is_some() {
        return Ok(());
    }
    let ty = namespace_type();
    for name in DEFAULT_NAMESPACES {
        put_new(
            world,
            t,
            &ty,
            "",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}}),
        )?;
        publish_root_ca(world, t, name)?;
    }
    put_new(world, t, &builtin(t, "", "nodes")?, "", node(t.now()))?;
    put_new(
        world,
        t,
        &builtin(t, "", "services")?,
        "default",
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster",
                "sessionAffinity": "None",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}),
    )?;
    Ok(())
}

/// The `kube-root-ca.crt` ConfigMap of a namespace.
pub(super) fn publish_root_ca(
    world: &World,
    t: &Tx<'_>,
    namespace: &str,
) -> Result<(), StoreError> {
    put_new(
        world,
        t,
        &builtin(t, "", "configmaps")?,
        namespace,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIG_MAP, "namespace": namespace,
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ROOT_CA}}),
    )
}

/// The sandbox's single, ready node.
fn node(at: DateTime<Utc>) -> Value {
    let now = objects::timestamp(at);
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({"apiVersion": "v1", "kind": "Node",
    "metadata": {"name": NODE_NAME, "labels": {
        "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/control-plane": ""}},
    "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
    "status": {
        "capacity": {"cpu": "2", "memory": "24Gi", "pods": "110", "ephemeral-storage": "100Gi"},
        "allocatable": {"cpu": "2", "memory": "24Gi", "pods": "110", "ephemeral-storage": "100Gi"},
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": "10.89.0.2"}, {"type": "Hostname", "address": NODE_NAME}],
        "nodeInfo": {"kubeletVersion": KUBERNETES_VERSION, "kubeProxyVersion": KUBERNETES_VERSION,
            "operatingSystem": "linux", "architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.23",
            "osImage": "meshform sandbox", "kernelVersion": "6.1.0", "machineID": "", "systemUUID": "", "bootID": ""},
    }})
}

pub(super) fn namespace_type() -> ResourceType {
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

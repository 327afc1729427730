//! The kubernetes provider against the sandbox Kubernetes API server:
//! namespaces, secrets, config maps and manifests created, updated,
//! imported and deleted; drift of a secret changed in the cluster; every
//! kubeconfig source and its precedence.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use meshform_lang::schema::Block;
use meshform_lang::{SystemClock, Value};
use meshform_providers::kubernetes::connection::{resolve, ConnectionSettings, ConnectionSource};
use meshform_providers::kubernetes::{ConnectionError, KubernetesFactory};
use meshform_providers::planning::proposed_new_state;
use meshform_providers::provider::{
    ApplyResourceChangeRequest, ConfigureRequest, ImportResourceStateRequest,
    PlanResourceChangeRequest, Provider, ProviderFactory, ReadResourceRequest,
};
use meshform_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

/// A fresh directory under the system temp dir for one test.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "meshform-providers-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) struct Cluster {
    pub sandbox: Sandbox,
    pub kubeconfig: PathBuf,
}

pub(crate) fn cluster(name: &str) -> Cluster {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let kubeconfig = scratch_dir(name).join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    Cluster {
        sandbox,
        kubeconfig,
    }
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A configure request with the system clock.
fn request(config: Value, offline: bool, env: BTreeMap<String, String>) -> ConfigureRequest {
    ConfigureRequest {
        config,
        offline,
        clock: Arc::new(SystemClock),
        env,
        parallelism: 10,
    }
}

/// The provider configured with `config`; configuring must succeed.
fn configured(
    factory: &KubernetesFactory,
    config: Value,
    offline: bool,
    env: BTreeMap<String, String>,
) -> Arc<dyn Provider> {
    factory
        .configure(request(config, offline, env))
        .unwrap_or_else(|_| panic!("configure"))
}

fn provider(cluster: &Cluster) -> (KubernetesFactory, Arc<dyn Provider>) {
    let factory = KubernetesFactory::new();
    let config = Value::null(factory.schema().provider.block.implied_type());
    let provider = configured(
        &factory,
        config,
        false,
        env(&[("KUBECONFIG", cluster.kubeconfig.to_str().unwrap())]),
    );
    (factory, provider)
}

fn block(factory: &KubernetesFactory, type_name: &str) -> Block {
    factory.schema().resources[type_name].block.clone()
}

fn config(block: &Block, json: serde_json::Value) -> Value {
    Value::from_json(&json, &block.implied_type()).unwrap()
}

fn assert_no_errors(d: &meshform_lang::Diagnostics) {
    assert!(!d.has_errors(), "unexpected diagnostics: {d:?}");
}

/// Plans and applies `config` over `prior` as Terraform would; returns the
/// plan's replace paths and the new state.
async fn plan_apply(
    provider: &dyn Provider,
    block: &Block,
    type_name: &str,
    prior: &Value,
    config: &Value,
) -> (Value, Value) {
    let proposed = proposed_new_state(block, prior, config);
    let plan = provider
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: prior.clone(),
            proposed_new_state: proposed,
            config: config.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_no_errors(&plan.diagnostics);
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    let planned = plan.planned_state.unwrap();
    let applied = provider
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: prior.clone(),
            planned_state: planned.clone(),
            config: config.clone(),
            planned_private: Vec::new(),
        })
        .await;
    assert_no_errors(&applied.diagnostics);
    (planned, applied.new_state.unwrap())
}

async fn destroy(provider: &dyn Provider, block: &Block, type_name: &str, prior: &Value) {
    let applied = provider
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: prior.clone(),
            planned_state: Value::null(block.implied_type()),
            config: Value::null(block.implied_type()),
            planned_private: Vec::new(),
        })
        .await;
    assert_no_errors(&applied.diagnostics);
}

async fn read(provider: &dyn Provider, type_name: &str, state: &Value) -> Option<Value> {
    let r = provider
        .read_resource(ReadResourceRequest {
            type_name: type_name.into(),
            current_state: state.clone(),
            private: Vec::new(),
        })
        .await;
    assert_no_errors(&r.diagnostics);
    r.new_state.filter(|s| !s.is_null())
}

fn json_of(v: &Value) -> serde_json::Value {
    v.clone().unmark_deep().to_json().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_lifecycle_and_import() {
    let c = cluster("ns");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_namespace";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "kong-mesh-system", "labels": {"kuma.io/system-namespace": "true"}}]}),
    );
    let null = Value::null(b.implied_type());
    let (planned, state) = plan_apply(p.as_ref(), &b, ty, &null, &cfg).await;
    // As the SDK plans a create: id and computed metadata unknown.
    assert!(!planned.get_attr("id").unwrap().is_known());
    assert_eq!(
        planned.get_attr("wait_for_default_service_account"),
        Some(&Value::bool(false))
    );
    let s = json_of(&state);
    assert_eq!(s["id"], "kong-mesh-system");
    assert_eq!(s["metadata"][0]["generate_name"], "");
    assert_eq!(
        s["metadata"][0]["labels"]["kuma.io/system-namespace"],
        "true"
    );
    assert!(!s["metadata"][0]["uid"].as_str().unwrap().is_empty());

    // Re-planning the same configuration changes nothing.
    let proposed = proposed_new_state(&b, &state, &cfg);
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: state.clone(),
            proposed_new_state: proposed,
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(plan.planned_state.as_ref(), Some(&state));

    // A label change is an in-place update.
    let cfg2 = config(
        &b,
        json!({"metadata": [{"name": "kong-mesh-system", "labels": {"team": "mesh"}}]}),
    );
    let (_, state2) = plan_apply(p.as_ref(), &b, ty, &state, &cfg2).await;
    let s2 = json_of(&state2);
    assert_eq!(s2["metadata"][0]["labels"], json!({"team": "mesh"}));
    assert_eq!(s2["metadata"][0]["uid"], s["metadata"][0]["uid"]);

    // Import by name reads the same object.
    let imported = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: "kubernetes_namespace_v1".into(),
            id: "kong-mesh-system".into(),
        })
        .await;
    assert_no_errors(&imported.diagnostics);
    assert_eq!(
        json_of(&imported.imported[0].state)["metadata"],
        s2["metadata"]
    );

    destroy(p.as_ref(), &b, ty, &state2).await;
    assert_eq!(read(p.as_ref(), ty, &state2).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_drift_plans_an_in_place_update() {
    let c = cluster("secret");
    let (factory, p) = provider(&c);
    let ns_block = block(&factory, "kubernetes_namespace");
    let ns_cfg = config(
        &ns_block,
        json!({"metadata": [{"name": "kong-mesh-system"}]}),
    );
    plan_apply(
        p.as_ref(),
        &ns_block,
        "kubernetes_namespace",
        &Value::null(ns_block.implied_type()),
        &ns_cfg,
    )
    .await;

    let ty = "kubernetes_secret";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({
            "metadata": [{"name": "cp-token", "namespace": "kong-mesh-system"}],
            "data": {"token": "spat_one"},
            "type": "opaque",
        }),
    );
    let (planned, state) =
        plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(
        planned.get_attr("wait_for_service_account_token"),
        Some(&Value::bool(true))
    );
    let s = json_of(&state);
    assert_eq!(s["id"], "kong-mesh-system/cp-token");
    assert_eq!(s["data"], json!({"token": "spat_one"}));
    assert_eq!(s["type"], "opaque");
    assert_eq!(s["immutable"], false);

    // Someone changes the secret behind our back.
    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/namespaces/kong-mesh-system/secrets/cp-token",
        c.sandbox.kubernetes_url()
    );
    let resp = client
        .patch(&url)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"data": {"token": "c3BhdF90d28="}}).to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    let refreshed = read(p.as_ref(), ty, &state).await.unwrap();
    assert_eq!(json_of(&refreshed)["data"], json!({"token": "spat_two"}));
    let proposed = proposed_new_state(&b, &refreshed, &cfg);
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: refreshed.clone(),
            proposed_new_state: proposed,
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert!(plan.requires_replace.is_empty());
    let planned = plan.planned_state.unwrap();
    assert_eq!(json_of(&planned)["data"], json!({"token": "spat_one"}));
    assert_ne!(planned, refreshed);
    let (_, fixed) = plan_apply(p.as_ref(), &b, ty, &refreshed, &cfg).await;
    assert_eq!(json_of(&fixed)["data"], json!({"token": "spat_one"}));

    // Import by namespace/name.
    let imported = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: ty.into(),
            id: "kong-mesh-system/cp-token".into(),
        })
        .await;
    assert_no_errors(&imported.diagnostics);
    assert_eq!(
        json_of(&imported.imported[0].state)["data"],
        json!({"token": "spat_one"})
    );
    let bad = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: ty.into(),
            id: "a/b/c".into(),
        })
        .await;
    assert!(bad.diagnostics.has_errors());

    destroy(p.as_ref(), &b, ty, &fixed).await;
    assert_eq!(read(p.as_ref(), ty, &fixed).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_map_lifecycle() {
    let c = cluster("cm");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_config_map_v1";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "settings"}], "data": {"a": "1"}, "binary_data": {"bin": "AAEC"}}),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    let s = json_of(&state);
    assert_eq!(s["id"], "default/settings");
    assert_eq!(s["data"], json!({"a": "1"}));
    assert_eq!(s["binary_data"], json!({"bin": "AAEC"}));
    let cfg2 = config(
        &b,
        json!({"metadata": [{"name": "settings"}], "data": {"a": "2", "b": "3"}}),
    );
    let (_, state2) = plan_apply(p.as_ref(), &b, ty, &state, &cfg2).await;
    assert_eq!(json_of(&state2)["data"], json!({"a": "2", "b": "3"}));
    assert_eq!(json_of(&state2)["binary_data"], serde_json::Value::Null);
    let imported = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: ty.into(),
            id: "default/settings".into(),
        })
        .await;
    assert_no_errors(&imported.diagnostics);
    assert_eq!(
        json_of(&imported.imported[0].state)["data"],
        json!({"a": "2", "b": "3"})
    );
    destroy(p.as_ref(), &b, ty, &state2).await;
    assert_eq!(read(p.as_ref(), ty, &state2).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_server_side_apply_and_drift() {
    let c = cluster("manifest");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_manifest";
    let b = block(&factory, ty);
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "from-manifest", "namespace": "default"},
        "data": {"k": "v"},
    });
    let cfg = config(&b, json!({"manifest": manifest}));
    let (planned, state) =
        plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert!(!planned.get_attr("object").unwrap().is_known());
    assert_eq!(json_of(&state)["object"], manifest);

    // Unchanged: the plan keeps the state.
    let proposed = proposed_new_state(&b, &state, &cfg);
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: state.clone(),
            proposed_new_state: proposed,
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(plan.planned_state.as_ref(), Some(&state));

    // Changed in the cluster: the refreshed object differs and the plan
    // applies again.
    let url = format!(
        "{}/api/v1/namespaces/default/configmaps/from-manifest",
        c.sandbox.kubernetes_url()
    );
    let resp = reqwest::Client::new()
        .patch(&url)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"data": {"k": "changed"}}).to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let refreshed = read(p.as_ref(), ty, &state).await.unwrap();
    assert_eq!(json_of(&refreshed)["object"]["data"]["k"], "changed");
    let (planned, fixed) = plan_apply(p.as_ref(), &b, ty, &refreshed, &cfg).await;
    assert!(!planned.get_attr("object").unwrap().is_known());
    assert_eq!(json_of(&fixed)["object"], manifest);

    // Import by apiVersion/kind/namespace/name.
    let imported = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: ty.into(),
            id: "apiVersion=v1,kind=ConfigMap,namespace=default,name=from-manifest".into(),
        })
        .await;
    assert_no_errors(&imported.diagnostics);
    let m = json_of(&imported.imported[0].state)["manifest"].clone();
    assert_eq!(m["data"], json!({"k": "v"}));
    assert!(m["metadata"].get("uid").is_none());

    // Custom resources: a CRD, then an object of its kind.
    let crd = config(
        &b,
        json!({"manifest": {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "gadgets.example.meshform.dev"},
            "spec": {
                "group": "example.meshform.dev",
                "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget", "listKind": "GadgetList"},
                "scope": "Namespaced",
                "versions": [{"name": "v1", "served": true, "storage": true,
                              "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
            },
        }}),
    );
    plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &crd).await;
    let gadget = config(
        &b,
        json!({"manifest": {
            "apiVersion": "example.meshform.dev/v1",
            "kind": "Gadget",
            "metadata": {"name": "g1", "namespace": "default"},
            "spec": {"size": 3, "tags": ["a", "b"]},
        }}),
    );
    let (_, g) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &gadget).await;
    assert_eq!(
        json_of(&g)["object"]["spec"],
        json!({"size": 3, "tags": ["a", "b"]})
    );
    let fetched = reqwest::get(format!(
        "{}/apis/example.meshform.dev/v1/namespaces/default/gadgets/g1",
        c.sandbox.kubernetes_url()
    ))
    .await
    .unwrap();
    assert!(fetched.status().is_success());
    destroy(p.as_ref(), &b, ty, &g).await;
    assert_eq!(read(p.as_ref(), ty, &g).await, None);

    // A new name replaces the object.
    let renamed = config(
        &b,
        json!({"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default"}}}),
    );
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: fixed.clone(),
            proposed_new_state: proposed_new_state(&b, &fixed, &renamed),
            config: renamed,
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(plan.requires_replace.len(), 1);

    destroy(p.as_ref(), &b, ty, &fixed).await;
    assert_eq!(read(p.as_ref(), ty, &fixed).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_reads_keep_the_state() {
    let factory = KubernetesFactory::new();
    let p = configured(
        &factory,
        Value::null(factory.schema().provider.block.implied_type()),
        true,
        BTreeMap::new(),
    );
    let b = block(&factory, "kubernetes_namespace");
    let state = config(&b, json!({"id": "x", "metadata": [{"name": "x"}]}));
    assert_eq!(
        read(p.as_ref(), "kubernetes_namespace", &state).await,
        Some(state)
    );
}

fn write(dir: &std::path::Path, name: &str, server: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: {name}\n  context:\n    cluster: c\n    user: u\ncurrent-context: {name}\nusers:\n- name: u\n  user: {{}}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn kubeconfig_sources_in_precedence_order() {
    let dir = scratch_dir("sources");
    let explicit = write(&dir, "explicit", "http://127.0.0.1:1001");
    let env_path = write(&dir, "envpath", "http://127.0.0.1:1002");
    let kubeconfig = write(&dir, "kubeconfig", "http://127.0.0.1:1003");
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    write(&home.join(".kube"), "config", "http://127.0.0.1:1004");
    let all = env(&[
        ("KUBE_CONFIG_PATH", env_path.to_str().unwrap()),
        ("KUBECONFIG", kubeconfig.to_str().unwrap()),
        ("HOME", home.to_str().unwrap()),
    ]);
    let with_path = ConnectionSettings {
        config_path: Some(explicit.display().to_string()),
        ..ConnectionSettings::default()
    };
    let check = |settings: &ConnectionSettings, env: &BTreeMap<String, String>, server: &str| {
        let c = resolve(settings, env).unwrap();
        assert_eq!(c.server(), Some(server));
        c.source
    };
    assert_eq!(
        check(&with_path, &all, "http://127.0.0.1:1001"),
        ConnectionSource::ProviderPaths(vec![explicit.clone()])
    );
    let none = ConnectionSettings::default();
    assert_eq!(
        check(&none, &all, "http://127.0.0.1:1002"),
        ConnectionSource::KubeConfigPathEnv(vec![env_path.clone()])
    );
    let mut no_path = all.clone();
    no_path.remove("KUBE_CONFIG_PATH");
    assert_eq!(
        check(&none, &no_path, "http://127.0.0.1:1003"),
        ConnectionSource::KubeconfigEnv(vec![kubeconfig.clone()])
    );
    let mut home_only = no_path.clone();
    home_only.remove("KUBECONFIG");
    assert_eq!(
        check(&none, &home_only, "http://127.0.0.1:1004"),
        ConnectionSource::HomeConfig(home.join(".kube").join("config"))
    );
    // An explicit host overrides the file's server; alone it needs no file.
    let host = ConnectionSettings {
        host: Some("http://127.0.0.1:1005".into()),
        token: Some("t".into()),
        ..ConnectionSettings::default()
    };
    check(&host, &all, "http://127.0.0.1:1005");
    assert_eq!(
        check(&host, &env(&[]), "http://127.0.0.1:1005"),
        ConnectionSource::Host("http://127.0.0.1:1005".into())
    );
    // KUBE_HOST / KUBE_TOKEN stand in for host / token.
    let from_env = resolve(
        &none,
        &env(&[("KUBE_HOST", "http://127.0.0.1:1006"), ("KUBE_TOKEN", "t")]),
    )
    .unwrap();
    assert_eq!(
        from_env.source,
        ConnectionSource::Host("http://127.0.0.1:1006".into())
    );
    assert_eq!(from_env.kubeconfig["users"][0]["user"]["token"], "t");
    // config_paths merge: the first file's entries win.
    let merged = ConnectionSettings {
        config_paths: vec![
            env_path.display().to_string(),
            kubeconfig.display().to_string(),
        ],
        config_context: Some("kubeconfig".into()),
        ..ConnectionSettings::default()
    };
    check(&merged, &env(&[]), "http://127.0.0.1:1002");
    // KUBE_CONFIG_PATHS lists several files; KUBE_CTX picks the context.
    let paths = std::env::join_paths([&kubeconfig, &env_path]).unwrap();
    let listed = env(&[
        ("KUBE_CONFIG_PATHS", paths.to_str().unwrap()),
        ("KUBE_CTX", "envpath"),
    ]);
    let c = resolve(&none, &listed).unwrap();
    assert_eq!(c.context, "envpath");
    assert_eq!(
        c.source,
        ConnectionSource::KubeConfigPathEnv(vec![kubeconfig.clone(), env_path.clone()])
    );
    // The first file defines cluster "c", so both contexts reach it.
    assert_eq!(c.server(), Some("http://127.0.0.1:1003"));
    // config_context_cluster points the context at another cluster entry.
    let two_clusters = dir.join("two");
    std::fs::write(
        &two_clusters,
        "clusters:\n- name: a\n  cluster:\n    server: http://127.0.0.1:2001\n- name: b\n  cluster:\n    server: http://127.0.0.1:2002\ncontexts:\n- name: x\n  context:\n    cluster: a\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user: {}\n",
    )
    .unwrap();
    let switched = ConnectionSettings {
        config_path: Some(two_clusters.display().to_string()),
        config_context_cluster: Some("b".into()),
        ..ConnectionSettings::default()
    };
    check(&switched, &env(&[]), "http://127.0.0.1:2002");
}

#[test]
fn missing_kubeconfig_names_what_was_tried() {
    let dir = scratch_dir("missing");
    let err = resolve(
        &ConnectionSettings::default(),
        &env(&[("HOME", dir.to_str().unwrap())]),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectionError::NotConfigured { .. }));
    for part in [
        "KUBE_CONFIG_PATH",
        "KUBECONFIG (not set)",
        ".kube/config (no such file)",
        "KUBE_HOST",
    ] {
        assert!(text.contains(part), "{text}");
    }
    let err = resolve(
        &ConnectionSettings::default(),
        &env(&[("KUBECONFIG", "/nonexistent/meshform/kubeconfig")]),
    )
    .unwrap_err();
    assert!(err
        .to_string()
        .contains("/nonexistent/meshform/kubeconfig: no such file"));
    let err = resolve(
        &ConnectionSettings {
            config_path: Some(dir.join("absent").display().to_string()),
            ..ConnectionSettings::default()
        },
        &env(&[]),
    )
    .unwrap_err();
    assert!(matches!(err, ConnectionError::Read { .. }));
    let err = resolve(
        &ConnectionSettings {
            config_path: Some(
                write(&dir, "ctx", "http://127.0.0.1:1")
                    .display()
                    .to_string(),
            ),
            config_context: Some("nope".into()),
            ..ConnectionSettings::default()
        },
        &env(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ConnectionError::UnknownContext {
            context: "nope".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_configuration_is_a_diagnostic() {
    let factory = KubernetesFactory::new();
    let p = configured(
        &factory,
        Value::null(factory.schema().provider.block.implied_type()),
        false,
        BTreeMap::new(),
    );
    let r = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: "kubernetes_namespace".into(),
            id: "x".into(),
        })
        .await;
    let text = format!("{:?}", r.diagnostics);
    assert!(
        text.contains("No Kubernetes configuration was found"),
        "{text}"
    );
}

#[test]
fn schemas_match_what_terraform_saw() {
    let Some(path) = meshform_testkit::shared_path("conformance/guide-plans/schema.json") else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let want = &doc["provider_schemas"]["registry.terraform.io/hashicorp/kubernetes"];
    let ours = KubernetesFactory::new().schema();
    assert_eq!(without_plan(ours.provider.to_json()), want["provider"]);
    for name in [
        "kubernetes_namespace",
        "kubernetes_namespace_v1",
        "kubernetes_secret",
        "kubernetes_secret_v1",
    ] {
        assert_eq!(
            without_plan(ours.resources[name].to_json()),
            want["resource_schemas"][name],
            "{name}"
        );
    }
}

/// A schema document without meshform's plan behaviour (defaults and
/// replacement flags), which Terraform's schema JSON does not show.
pub(crate) fn without_plan(mut doc: serde_json::Value) -> serde_json::Value {
    match &mut doc {
        serde_json::Value::Object(m) => {
            m.remove("meshform_plan");
            for v in m.values_mut() {
                *v = without_plan(v.take());
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                *v = without_plan(v.take());
            }
        }
        _ => {}
    }
    doc
}

/// A provider block with only `host` and an `exec` credential plugin
/// reaches the cluster without any kubeconfig file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_exec_plugin_without_kubeconfig() {
    let c = cluster("exec");
    let factory = KubernetesFactory::new();
    let provider_block = factory.schema().provider.block.clone();
    let credential = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"from-exec"}}"#;
    let provider_config = Value::from_json(
        &json!({
            "host": c.sandbox.kubernetes_url(),
            "exec": [{
                "api_version": "client.authentication.k8s.io/v1beta1",
                "command": "sh",
                "args": ["-c", format!("test \"$GREETING\" = hi && printf '%s' '{credential}'")],
                "env": {"GREETING": "hi"},
            }],
        }),
        &provider_block.implied_type(),
    )
    .unwrap();
    let settings = ConnectionSettings::from_value(&provider_config);
    let resolved = resolve(&settings, &BTreeMap::new()).unwrap();
    assert_eq!(
        resolved.source,
        ConnectionSource::Host(c.sandbox.kubernetes_url().to_string())
    );
    let p = configured(&factory, provider_config, false, BTreeMap::new());
    let ty = "kubernetes_namespace_v1";
    let b = block(&factory, ty);
    let cfg = config(&b, json!({"metadata": [{"name": "via-exec"}]}));
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(json_of(&state)["id"], "via-exec");

    // A failing plugin is reported, not a panic.
    let broken = Value::from_json(
        &json!({
            "host": c.sandbox.kubernetes_url(),
            "exec": [{"api_version": "client.authentication.k8s.io/v1beta1", "command": "false"}],
        }),
        &provider_block.implied_type(),
    )
    .unwrap();
    let p = configured(&factory, broken, false, BTreeMap::new());
    let r = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: ty.into(),
            id: "via-exec".into(),
        })
        .await;
    assert!(r.diagnostics.has_errors());
}

/// `wait_for_default_service_account` holds the create until the
/// namespace's `default` ServiceAccount exists (made here, as the service
/// account controller would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_waits_for_its_default_service_account() {
    let c = cluster("ns-wait");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_namespace";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "waiting"}], "wait_for_default_service_account": true}),
    );
    let base = c.sandbox.kubernetes_url().to_string();
    let controller = tokio::spawn(async move {
        let http = reqwest::Client::new();
        loop {
            let ns = http
                .get(format!("{base}/api/v1/namespaces/waiting"))
                .send()
                .await
                .unwrap();
            if ns.status().is_success() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let created = http
            .post(format!("{base}/api/v1/namespaces/waiting/serviceaccounts"))
            .header("Content-Type", "application/json")
            .body(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}).to_string())
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
    });
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    controller.await.unwrap();
    assert_eq!(json_of(&state)["wait_for_default_service_account"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_secret_data_changes_replace_it() {
    let c = cluster("immutable");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_secret_v1";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "frozen"}], "data": {"k": "1"}, "immutable": true}),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(json_of(&state)["immutable"], true);
    let changed = config(
        &b,
        json!({"metadata": [{"name": "frozen"}], "data": {"k": "2"}, "immutable": true}),
    );
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: state.clone(),
            proposed_new_state: proposed_new_state(&b, &state, &changed),
            config: changed,
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(
        plan.requires_replace,
        vec![vec![meshform_lang::PathStep::Attr("data".into())]]
    );
}

/// `ignore_labels` / `ignore_annotations` keep keys added by others out of
/// state, unless the configuration sets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_labels_and_annotations_stay_out_of_state() {
    let c = cluster("ignore");
    let factory = KubernetesFactory::new();
    let provider_block = factory.schema().provider.block.clone();
    let provider_config = Value::from_json(
        &json!({
            "config_path": c.kubeconfig.display().to_string(),
            "ignore_labels": ["^team$"],
            "ignore_annotations": ["^example\\.com/"],
        }),
        &provider_block.implied_type(),
    )
    .unwrap();
    let p = configured(&factory, provider_config, false, BTreeMap::new());
    let ty = "kubernetes_config_map";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "tagged", "labels": {"app": "x"}}]}),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    let resp = reqwest::Client::new()
        .patch(format!(
            "{}/api/v1/namespaces/default/configmaps/tagged",
            c.sandbox.kubernetes_url()
        ))
        .header("Content-Type", "application/merge-patch+json")
        .body(
            json!({"metadata": {
                "labels": {"team": "other", "tier": "web"},
                "annotations": {"example.com/owner": "ops"},
            }})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let refreshed = read(p.as_ref(), ty, &state).await.unwrap();
    let m = json_of(&refreshed)["metadata"][0].clone();
    assert_eq!(m["labels"], json!({"app": "x", "tier": "web"}));
    assert_eq!(m["annotations"], serde_json::Value::Null);

    let bad = Value::from_json(
        &json!({"ignore_labels": ["("]}),
        &provider_block.implied_type(),
    )
    .unwrap();
    assert!(factory
        .configure(request(bad, true, BTreeMap::new()))
        .is_err());
}

/// Explicit credentials land in the kubeconfig kube-rs loads: PEM text
/// base64-encoded, token, TLS server name, insecure.
#[test]
fn explicit_credentials_override_the_file() {
    let dir = scratch_dir("credentials");
    let path = write(&dir, "creds", "https://127.0.0.1:3000");
    let settings = ConnectionSettings {
        config_path: Some(path.display().to_string()),
        token: Some("tok".into()),
        cluster_ca_certificate: Some(
            "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n".into(),
        ),
        client_certificate: Some("CERT".into()),
        client_key: Some("KEY".into()),
        insecure: Some(true),
        tls_server_name: Some("api.example".into()),
        ..ConnectionSettings::default()
    };
    let c = resolve(&settings, &env(&[])).unwrap();
    let cluster = &c.kubeconfig["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], "https://127.0.0.1:3000");
    assert_eq!(
        cluster["certificate-authority-data"],
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClEwRT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
    );
    assert_eq!(cluster["insecure-skip-tls-verify"], true);
    assert_eq!(cluster["tls-server-name"], "api.example");
    let user = &c.kubeconfig["users"][0]["user"];
    assert_eq!(user["token"], "tok");
    assert_eq!(user["client-certificate-data"], "Q0VSVA==");
    assert_eq!(user["client-key-data"], "S0VZ");
}

/// A `timeouts` block bounds the wait for a terminating namespace; the
/// sandbox removes namespaces at once, so a short limit still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_delete_honours_its_timeout_block() {
    let c = cluster("ns-timeout");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_namespace";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"metadata": [{"name": "brief"}], "timeouts": {"delete": "1s"}}),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(json_of(&state)["timeouts"], json!({"delete": "1s"}));
    destroy(p.as_ref(), &b, ty, &state).await;
    assert_eq!(read(p.as_ref(), ty, &state).await, None);
}

/// `wait` on a manifest: rollout, field patterns and conditions are met
/// by a Deployment the sandbox reports ready; an unmet field times out
/// with a diagnostic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_waits_for_rollout_fields_and_conditions() {
    let c = cluster("manifest-wait");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_manifest";
    let b = block(&factory, ty);
    let deployment = |name: &str| {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "demo:1"}]},
                },
            },
        })
    };
    let cfg = config(
        &b,
        json!({
            "manifest": deployment("waited"),
            "wait": [{
                "rollout": true,
                "fields": {"status.readyReplicas": "^2$"},
                "condition": [{"type": "Available", "status": "True"}],
            }],
        }),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(json_of(&state)["object"]["spec"]["replicas"], 2);
    // The wait settings stay in state: re-planning changes nothing.
    let replan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: state.clone(),
            proposed_new_state: proposed_new_state(&b, &state, &cfg),
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(replan.planned_state.as_ref(), Some(&state));

    let never = config(
        &b,
        json!({
            "manifest": deployment("never"),
            "wait": [{"fields": {"status.phase": "^Never$"}}],
            "timeouts": [{"create": "1s"}],
        }),
    );
    let null = Value::null(b.implied_type());
    let planned = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: null.clone(),
            proposed_new_state: proposed_new_state(&b, &null, &never),
            config: never.clone(),
            prior_private: Vec::new(),
        })
        .await
        .planned_state
        .unwrap();
    let applied = p
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: ty.into(),
            prior_state: null,
            planned_state: planned,
            config: never,
            planned_private: Vec::new(),
        })
        .await;
    let text = format!("{:?}", applied.diagnostics);
    assert!(text.contains("did not meet its wait conditions"), "{text}");
}

/// Labels and annotations the server changes are `computed_fields` by
/// default: no drift; other fields changed in the cluster are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_computed_fields_are_not_drift() {
    let c = cluster("manifest-computed");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_manifest";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({"manifest": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "labelled", "namespace": "default", "labels": {"a": "1"}},
            "data": {"k": "v"},
        }}),
    );
    let (_, state) = plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    let resp = reqwest::Client::new()
        .patch(format!(
            "{}/api/v1/namespaces/default/configmaps/labelled",
            c.sandbox.kubernetes_url()
        ))
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"metadata": {"labels": {"a": "2"}}}).to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let refreshed = read(p.as_ref(), ty, &state).await.unwrap();
    assert_eq!(
        json_of(&refreshed)["object"]["metadata"]["labels"]["a"],
        "2"
    );
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: refreshed.clone(),
            proposed_new_state: proposed_new_state(&b, &refreshed, &cfg),
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(plan.planned_state.as_ref(), Some(&refreshed));
}

/// `binary_data` keeps the configured keys as base64 and out of `data`;
/// `generate_name` lets the server pick the name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_binary_data_and_generated_names() {
    let c = cluster("binary");
    let (factory, p) = provider(&c);
    let ty = "kubernetes_secret";
    let b = block(&factory, ty);
    let cfg = config(
        &b,
        json!({
            "metadata": [{"generate_name": "blob-"}],
            "data": {"text": "plain"},
            "binary_data": {"bin": "AAEC/w=="},
        }),
    );
    let (planned, state) =
        plan_apply(p.as_ref(), &b, ty, &Value::null(b.implied_type()), &cfg).await;
    assert_eq!(planned.get_attr("type"), Some(&Value::string("Opaque")));
    let s = json_of(&state);
    let name = s["metadata"][0]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("blob-") && name.len() > 5, "{name}");
    assert_eq!(s["metadata"][0]["generate_name"], "blob-");
    assert_eq!(s["id"], format!("default/{name}"));
    assert_eq!(s["data"], json!({"text": "plain"}));
    assert_eq!(s["binary_data"], json!({"bin": "AAEC/w=="}));
    let live = reqwest::get(format!(
        "{}/api/v1/namespaces/default/secrets/{name}",
        c.sandbox.kubernetes_url()
    ))
    .await
    .unwrap();
    let live: serde_json::Value = serde_json::from_slice(&live.bytes().await.unwrap()).unwrap();
    assert_eq!(live["data"]["bin"], "AAEC/w==");
    assert_eq!(live["data"]["text"], "cGxhaW4=");
    // The state plans no change against the same configuration.
    let plan = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: state.clone(),
            proposed_new_state: proposed_new_state(&b, &state, &cfg),
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert!(plan.requires_replace.is_empty());
    assert_eq!(plan.planned_state.as_ref(), Some(&state));
}

#[test]
fn metadata_names_are_validated_offline() {
    let factory = KubernetesFactory::new();
    let check = |ty: &str, metadata: serde_json::Value, ok: bool| {
        let b = block(&factory, ty);
        let d = factory.validate_resource_config(ty, &config(&b, json!({"metadata": [metadata]})));
        assert_eq!(!d.has_errors(), ok, "{ty} {d:?}");
    };
    check(
        "kubernetes_namespace",
        json!({"name": "kong-mesh-system"}),
        true,
    );
    check("kubernetes_namespace", json!({"name": "Kong_Mesh"}), false);
    check("kubernetes_namespace", json!({"name": "a.b"}), false);
    check(
        "kubernetes_secret",
        json!({"name": "tls.cert-1", "namespace": "ns"}),
        true,
    );
    check(
        "kubernetes_secret",
        json!({"name": "x", "namespace": "Bad"}),
        false,
    );
    check("kubernetes_config_map_v1", json!({"name": "-x"}), false);
    check(
        "kubernetes_config_map",
        json!({"name": "x", "labels": {"k": "v".repeat(64)}}),
        false,
    );
}

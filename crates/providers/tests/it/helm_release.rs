//! `helm_release` against the sandbox cluster: install, re-plan, upgrade,
//! import and uninstall of a chart of our own (hooks, CRDs, values, set
//! blocks), installs through a repository mirror, the unreachable
//! repository error, the guide's kong-mesh release with its release
//! record, and the guide's planned values.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use meshform_helm::release::{release_from_secret, Release};
use meshform_lang::schema::Block;
use meshform_lang::{SystemClock, Value};
use meshform_providers::helm_release::HelmFactory;
use meshform_providers::kubernetes::KubernetesFactory;
use meshform_providers::planning::proposed_new_state;
use meshform_providers::provider::{
    ApplyResourceChangeRequest, ConfigureRequest, ImportResourceStateRequest,
    PlanResourceChangeRequest, Provider, ProviderFactory, ReadResourceRequest,
};
use serde_json::json;

use crate::kubernetes::{cluster, scratch_dir, without_plan, Cluster};

const TYPE: &str = "helm_release";

fn demo_chart() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/providers/helm/demo")
        .display()
        .to_string()
}

fn configure(c: &Cluster, extra_env: &[(&str, &str)]) -> (Block, Arc<dyn Provider>) {
    let factory = HelmFactory::new();
    let schema = factory.schema();
    let mut env: BTreeMap<String, String> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("KUBECONFIG".into(), c.kubeconfig.display().to_string());
    env.insert(
        "HELM_CACHE_HOME".into(),
        scratch_dir("helm-cache").display().to_string(),
    );
    let p = factory
        .configure(ConfigureRequest {
            config: Value::null(schema.provider.block.implied_type()),
            offline: false,
            clock: Arc::new(SystemClock),
            env,
            parallelism: 10,
        })
        .unwrap_or_else(|_| panic!("configure"));
    (schema.resources[TYPE].block.clone(), p)
}

fn config(block: &Block, mut json: serde_json::Value) -> Value {
    for b in ["postrender", "set", "set_list", "set_sensitive"] {
        if json.get(b).is_none() {
            json[b] = json!([]);
        }
    }
    Value::from_json(&json, &block.implied_type()).unwrap()
}

fn json_of(v: &Value) -> serde_json::Value {
    v.clone().unmark_deep().to_json().unwrap()
}

async fn plan(p: &dyn Provider, block: &Block, prior: &Value, cfg: &Value) -> Value {
    let r = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: TYPE.into(),
            prior_state: prior.clone(),
            proposed_new_state: proposed_new_state(block, prior, cfg),
            config: cfg.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert!(r.requires_replace.is_empty());
    r.planned_state.unwrap()
}

async fn apply(
    p: &dyn Provider,
    prior: &Value,
    planned: &Value,
    cfg: &Value,
) -> Result<Value, String> {
    let r = p
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: TYPE.into(),
            prior_state: prior.clone(),
            planned_state: planned.clone(),
            config: cfg.clone(),
            planned_private: Vec::new(),
        })
        .await;
    if r.diagnostics.has_errors() {
        return Err(format!("{:?}", r.diagnostics));
    }
    Ok(r.new_state.unwrap())
}

async fn get(c: &Cluster, path: &str) -> Option<serde_json::Value> {
    let resp = reqwest::get(format!("{}{path}", c.sandbox.kubernetes_url()))
        .await
        .unwrap();
    if resp.status() == 404 {
        return None;
    }
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    Some(serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap())
}

async fn record(
    c: &Cluster,
    ns: &str,
    name: &str,
    revision: i64,
) -> Option<(Release, serde_json::Value)> {
    let secret = get(
        c,
        &format!("/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{name}.v{revision}"),
    )
    .await?;
    Some((release_from_secret(&secret).unwrap(), secret))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_upgrade_import_uninstall() {
    let c = cluster("helm-demo");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let cfg = config(
        &b,
        json!({
            "name": "rel",
            "chart": demo_chart(),
            "namespace": "apps",
            "create_namespace": true,
            "values": ["greeting: hi\n"],
            "set": [{"name": "extra", "value": "{a,b}"}],
            "set_sensitive": [{"name": "password", "value": "s3cr3t"}],
        }),
    );
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let pj = planned.clone().unmark_deep();
    assert_eq!(pj.get_attr("status"), Some(&Value::string("deployed")));
    assert!(!pj.get_attr("metadata").unwrap().is_known());
    assert!(!pj.get_attr("version").unwrap().is_known());
    let state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
    let s = json_of(&state);
    assert_eq!(s["id"], "rel");
    assert_eq!(s["status"], "deployed");
    assert_eq!(s["version"], "0.3.1");
    let meta = &s["metadata"][0];
    assert_eq!(meta["revision"], 1);
    assert_eq!(meta["app_version"], "1.4.0");
    assert_eq!(meta["chart"], "demo");
    assert_eq!(meta["notes"], "rel-demo says hi.\n");
    assert_eq!(
        meta["values"],
        r#"{"extra":["a","b"],"greeting":"hi","password":"(sensitive value)"}"#
    );

    // Objects, the CRD's custom resource, and no leftover hook.
    let cm = get(&c, "/api/v1/namespaces/apps/configmaps/rel-demo")
        .await
        .unwrap();
    assert_eq!(cm["data"]["greeting"], "hi");
    assert_eq!(cm["data"]["extra"], "a,b");
    assert_eq!(cm["data"]["previous"], "none");
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    assert_eq!(
        cm["metadata"]["annotations"]["meta.helm.sh/release-name"],
        "rel"
    );
    assert!(
        get(&c, "/apis/apps/v1/namespaces/apps/deployments/rel-demo")
            .await
            .is_some()
    );
    assert!(get(
        &c,
        "/apis/demo.meshform.dev/v1/namespaces/apps/widgets/rel-demo"
    )
    .await
    .is_some());
    assert!(
        get(&c, "/apis/batch/v1/namespaces/apps/jobs/rel-demo-setup")
            .await
            .is_none()
    );
    let (r1, secret) = record(&c, "apps", "rel", 1).await.unwrap();
    assert_eq!(secret["type"], "helm.sh/release.v1");
    assert_eq!(secret["metadata"]["labels"]["status"], "deployed");
    assert_eq!(secret["metadata"]["labels"]["owner"], "helm");
    assert_eq!(r1.info.status.as_str(), "deployed");
    assert_eq!(r1.config.get("password"), Some(&json!("s3cr3t")));

    // Nothing changed: the plan is the state, and a refresh keeps it.
    assert_eq!(plan(p.as_ref(), &b, &state, &cfg).await, state);
    let refreshed = p
        .read_resource(ReadResourceRequest {
            type_name: TYPE.into(),
            current_state: state.clone(),
            private: Vec::new(),
        })
        .await;
    assert_eq!(refreshed.new_state.as_ref(), Some(&state));

    // New values: a new revision, the old one superseded.
    let cfg2 = config(
        &b,
        json!({
            "name": "rel",
            "chart": demo_chart(),
            "namespace": "apps",
            "create_namespace": true,
            "values": ["greeting: bye\nserviceAccount:\n  create: false\n"],
        }),
    );
    let planned2 = plan(p.as_ref(), &b, &state, &cfg2).await;
    assert!(!planned2.get_attr("metadata").unwrap().is_known());
    assert_eq!(planned2.get_attr("id"), state.get_attr("id"));
    let state2 = apply(p.as_ref(), &state, &planned2, &cfg2).await.unwrap();
    let s2 = json_of(&state2);
    assert_eq!(s2["metadata"][0]["revision"], 2);
    assert_eq!(s2["metadata"][0]["first_deployed"], meta["first_deployed"]);
    let cm = get(&c, "/api/v1/namespaces/apps/configmaps/rel-demo")
        .await
        .unwrap();
    assert_eq!(cm["data"]["greeting"], "bye");
    assert_eq!(cm["data"]["revision"], "2");
    // `lookup` saw the object of the first revision.
    assert_eq!(cm["data"]["previous"], "hi");
    assert!(get(&c, "/api/v1/namespaces/apps/serviceaccounts/rel-demo")
        .await
        .is_none());
    let (old, old_secret) = record(&c, "apps", "rel", 1).await.unwrap();
    assert_eq!(old.info.status.as_str(), "superseded");
    assert_eq!(old_secret["metadata"]["labels"]["status"], "superseded");
    let (new, _) = record(&c, "apps", "rel", 2).await.unwrap();
    assert_eq!(new.info.status.as_str(), "deployed");
    assert_eq!(new.info.description, "Upgrade complete");

    // A second install of the same name is refused.
    let other = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap_err();
    assert!(other.contains("still in use"), "{other}");

    // Import by namespace/name.
    let imported = p
        .import_resource_state(ImportResourceStateRequest {
            type_name: TYPE.into(),
            id: "apps/rel".into(),
        })
        .await;
    assert!(
        !imported.diagnostics.has_errors(),
        "{:?}",
        imported.diagnostics
    );
    let i = json_of(&imported.imported[0].state);
    assert_eq!(i["chart"], "demo");
    assert_eq!(i["metadata"][0]["revision"], 2);
    assert_eq!(i["namespace"], "apps");

    // Uninstall removes objects and records.
    let r = p
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: TYPE.into(),
            prior_state: state2.clone(),
            planned_state: null.clone(),
            config: null.clone(),
            planned_private: Vec::new(),
        })
        .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert!(get(&c, "/api/v1/namespaces/apps/configmaps/rel-demo")
        .await
        .is_none());
    assert!(
        get(&c, "/apis/apps/v1/namespaces/apps/deployments/rel-demo")
            .await
            .is_none()
    );
    assert!(record(&c, "apps", "rel", 1).await.is_none());
    assert!(record(&c, "apps", "rel", 2).await.is_none());
    // The pre-delete hook ran (and, without a delete policy, stays).
    let farewell = get(&c, "/api/v1/namespaces/apps/configmaps/rel-demo-farewell")
        .await
        .unwrap();
    assert_eq!(farewell["data"]["said"], "bye");
    let gone = p
        .read_resource(ReadResourceRequest {
            type_name: TYPE.into(),
            current_state: state2,
            private: Vec::new(),
        })
        .await;
    assert!(gone.new_state.is_none_or(|s| s.is_null()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_install_adopts_and_history_is_pruned() {
    let c = cluster("helm-history");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let mut state = null.clone();
    for (i, greeting) in ["one", "two", "three"].iter().enumerate() {
        let cfg = config(
            &b,
            json!({
                "name": "hist",
                "chart": demo_chart(),
                "max_history": 2,
                "upgrade_install": true,
                "values": [format!("greeting: {greeting}\n")],
            }),
        );
        // Every round plans a create over no state: upgrade_install turns
        // the existing release into an upgrade.
        let planned = plan(p.as_ref(), &b, &null, &cfg).await;
        state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
        assert_eq!(json_of(&state)["metadata"][0]["revision"], i as i64 + 1);
    }
    assert!(record(&c, "default", "hist", 1).await.is_none());
    assert_eq!(
        record(&c, "default", "hist", 2)
            .await
            .unwrap()
            .0
            .info
            .status
            .as_str(),
        "superseded"
    );
    assert_eq!(
        record(&c, "default", "hist", 3)
            .await
            .unwrap()
            .0
            .info
            .status
            .as_str(),
        "deployed"
    );
    assert_eq!(json_of(&state)["namespace"], "default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_use_mirrors_and_say_how_when_unreachable() {
    let c = cluster("helm-mirror");
    let mirror = scratch_dir("helm-mirror-dir");
    let copy = mirror.join("demo");
    copy_dir(&PathBuf::from(demo_chart()), &copy);
    let mapping = format!("https://charts.example.invalid/stable={}", mirror.display());
    let (b, p) = configure(&c, &[("MESHFORM_HELM_MIRROR", &mapping)]);
    let null = Value::null(b.implied_type());
    let cfg = config(
        &b,
        json!({"name": "m", "chart": "demo", "repository": "https://charts.example.invalid/stable/", "version": "0.3.1"}),
    );
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
    assert_eq!(json_of(&state)["version"], "0.3.1");

    // A closed loopback port and no mirror.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (b, p) = configure(&c, &[]);
    let cfg = config(
        &b,
        json!({"name": "u", "chart": "demo", "repository": closed}),
    );
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let err = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap_err();
    assert!(err.contains("cannot be reached"), "{err}");
    assert!(err.contains("MESHFORM_HELM_MIRROR="), "{err}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_kong_mesh_release_is_recorded_like_helm() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let Some(values) = meshform_testkit::shared_path("fixtures/helm/kong-mesh-zone.values.yaml")
    else {
        return;
    };
    let Some(golden) = meshform_testkit::shared_path("fixtures/helm/kong-mesh-zone.release.json")
    else {
        return;
    };
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden).unwrap()).unwrap();
    let c = cluster("helm-kong-mesh");
    let mapping = format!("https://kong.github.io/kong-mesh-charts={}", repo.display());
    let (b, p) = configure(&c, &[("MESHFORM_HELM_MIRROR", &mapping)]);
    let null = Value::null(b.implied_type());
    let cfg = config(
        &b,
        json!({
            "name": "kong-mesh",
            "repository": "https://kong.github.io/kong-mesh-charts",
            "chart": "kong-mesh",
            "version": "2.9.3",
            "namespace": "kong-mesh-system",
            "create_namespace": true,
            "upgrade_install": true,
            "values": [std::fs::read_to_string(values).unwrap()],
        }),
    );
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
    assert_eq!(json_of(&state)["metadata"][0]["app_version"], "2.9.3");
    let (release, secret) = record(&c, "kong-mesh-system", "kong-mesh", 1)
        .await
        .unwrap();
    let ours = serde_json::to_value(&release).unwrap();
    for key in ["name", "namespace", "version", "config"] {
        assert_eq!(ours[key], golden[key], "{key}");
    }
    assert_eq!(ours["info"]["status"], golden["info"]["status"]);
    assert_eq!(ours["chart"]["metadata"], golden["chart"]["metadata"]);
    assert_eq!(secret["metadata"]["labels"]["name"], "kong-mesh");
    // Created pending, then updated: the labels Helm leaves.
    let labels: Vec<&String> = secret["metadata"]["labels"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(labels, ["modifiedAt", "name", "owner", "status", "version"]);
    assert_eq!(ours["info"]["description"], golden["info"]["description"]);
    // Every hook Helm ran has a successful last run; the others none.
    let phases = |r: &serde_json::Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = r["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["name"].as_str().unwrap().to_string(),
                    h["last_run"]["phase"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(phases(&ours), phases(&golden));
    // The release's objects were created in Helm's kind order (the
    // sandbox's resourceVersion counts writes), as the real Helm's API
    // writes show; the order within one kind does not matter.
    if let Some(log) = meshform_testkit::shared_path("fixtures/helm/kong-mesh-zone.helm-ops.log") {
        let log = std::fs::read_to_string(log).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        let last_hook_delete = lines
            .iter()
            .rposition(|l| l.starts_with("DELETE "))
            .unwrap();
        let want: Vec<String> = dedup_kinds(
            lines
                .iter()
                .skip(last_hook_delete + 1)
                .filter_map(|l| l.strip_prefix("CREATE "))
                .map(|l| l.split(' ').next().unwrap().to_string()),
        );
        assert!(want.len() > 5, "{want:?}");
        let mut created = Vec::new();
        for doc in meshform_helm::manifest::split_documents(&release.manifest) {
            let o = meshform_helm::yaml::parse(&doc).unwrap();
            let (kind, name) = (
                o["kind"].as_str().unwrap().to_string(),
                o["metadata"]["name"].as_str().unwrap().to_string(),
            );
            let (group_version, plural) = api_path(&kind);
            let ns = if kind.ends_with("WebhookConfiguration") || kind.starts_with("Cluster") {
                String::new()
            } else {
                "/namespaces/kong-mesh-system".to_string()
            };
            let live = get(&c, &format!("{group_version}{ns}/{plural}/{name}"))
                .await
                .unwrap_or_else(|| panic!("{kind} {name} missing"));
            let rv: u64 = live["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            created.push((rv, kind));
        }
        created.sort();
        assert_eq!(dedup_kinds(created.into_iter().map(|(_, k)| k)), want);
    }
    // Hooks with hook-succeeded are gone after the install.
    assert!(get(
        &c,
        "/apis/batch/v1/namespaces/kong-mesh-system/jobs/kong-mesh-install-crds"
    )
    .await
    .is_none());
    // The manifest holds the same objects (certificates differ per render).
    let kinds = |m: &str| {
        let mut v: Vec<String> = m
            .lines()
            .filter(|l| l.starts_with("# Source: "))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        kinds(&release.manifest),
        kinds(golden["manifest"].as_str().unwrap())
    );
    assert!(get(
        &c,
        "/apis/apps/v1/namespaces/kong-mesh-system/deployments/kong-mesh-control-plane"
    )
    .await
    .is_some());
}

/// The guide's step 7 plans, as Terraform 1.0.3 recorded them with the
/// providers' planning: the planned values of `kubernetes_namespace`,
/// `kubernetes_secret` and `helm_release` on create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_zone_plans_match_terraform() {
    let Some(path) =
        meshform_testkit::shared_path("conformance/guide-plans/07-zone/step1.plan.json")
    else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let k = KubernetesFactory::new();
    let h = HelmFactory::new();
    let offline = |f: &dyn ProviderFactory| {
        f.configure(ConfigureRequest {
            config: Value::null(f.schema().provider.block.implied_type()),
            offline: true,
            clock: Arc::new(SystemClock),
            env: BTreeMap::new(),
            parallelism: 10,
        })
        .unwrap_or_else(|_| panic!("configure"))
    };
    for rc in doc["resource_changes"].as_array().unwrap() {
        let ty = rc["type"].as_str().unwrap();
        let factory: &dyn ProviderFactory = if ty.starts_with("kubernetes_") {
            &k
        } else if ty == "helm_release" {
            &h
        } else {
            continue;
        };
        let block = factory.schema().resources[ty].block.clone();
        // The configuration is the plan's known values without computed
        // and defaulted attributes; unknown configuration values (the
        // secret's token) are unknown here too.
        let after = &rc["change"]["after"];
        let unknown = &rc["change"]["after_unknown"];
        let cfg_json = config_from_plan(&block, after);
        let mut cfg = Value::from_json(&cfg_json, &block.implied_type()).unwrap();
        if ty == "kubernetes_secret" {
            cfg = with_unknown_token(cfg);
        }
        let p = offline(factory);
        let planned = p
            .plan_resource_change(PlanResourceChangeRequest {
                type_name: ty.into(),
                prior_state: Value::null(block.implied_type()),
                proposed_new_state: proposed_new_state(
                    &block,
                    &Value::null(block.implied_type()),
                    &cfg,
                ),
                config: cfg.clone(),
                prior_private: Vec::new(),
            })
            .await
            .planned_state
            .unwrap();
        let (known, unknown_paths) = split_unknown(&planned);
        assert_eq!(&known, after, "{ty}: planned values");
        assert_eq!(&unknown_paths, unknown, "{ty}: unknown values");
    }
}

/// The configuration a plan's `after` came from: the attributes that are
/// neither computed-only nor filled by a default.
fn config_from_plan(block: &Block, after: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (name, a) in &block.attributes {
        if a.computed && !a.optional {
            continue;
        }
        let v = after.get(name).cloned().unwrap_or(serde_json::Value::Null);
        if a.plan.default.as_ref() == Some(&v) {
            continue;
        }
        out.insert(name.clone(), v);
    }
    for (name, nb) in &block.block_types {
        let v = match after.get(name) {
            Some(serde_json::Value::Array(items)) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| config_from_plan(&nb.block, i))
                    .collect(),
            ),
            Some(other) => other.clone(),
            None => serde_json::Value::Null,
        };
        out.insert(name.clone(), v);
    }
    serde_json::Value::Object(out)
}

fn with_unknown_token(cfg: Value) -> Value {
    let mut entries = cfg.as_entries().unwrap().clone();
    let data = Value::map(
        meshform_lang::Type::String,
        BTreeMap::from([(
            "token".to_string(),
            Value::unknown(meshform_lang::Type::String),
        )]),
    );
    entries.insert("data".into(), data);
    Value::object(entries)
}

/// A planned value as plan JSON shows it: `after` (unknowns left out of
/// objects, null in lists) and `after_unknown` (true for unknown, false
/// for known or null, objects keeping only entries that are not false).
fn split_unknown(v: &Value) -> (serde_json::Value, serde_json::Value) {
    use meshform_lang::Data;
    let v = v.clone().unmark_deep();
    match v.data() {
        Data::Unknown(_) => (serde_json::Value::Null, json!(true)),
        Data::Object(m) | Data::Map(_, m) => {
            let mut known = serde_json::Map::new();
            let mut unknown = serde_json::Map::new();
            for (k, item) in m {
                let (kv, uv) = split_unknown(item);
                if uv != json!(true) {
                    known.insert(k.clone(), kv);
                }
                if uv != json!(false) {
                    unknown.insert(k.clone(), uv);
                }
            }
            (
                serde_json::Value::Object(known),
                serde_json::Value::Object(unknown),
            )
        }
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            let (known, unknown): (Vec<_>, Vec<_>) = items.iter().map(split_unknown).unzip();
            (
                serde_json::Value::Array(known),
                serde_json::Value::Array(unknown),
            )
        }
        _ => (v.to_json().unwrap_or(serde_json::Value::Null), json!(false)),
    }
}

/// The guide's step 7 re-plan: with the state Terraform kept, the same
/// configuration plans no change (the SDK's zero values such as
/// `generate_name = ""` equal an unset attribute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_zone_replan_has_no_changes() {
    let dir = "conformance/guide-plans/07-zone";
    let (Some(plan_path), Some(state_path)) = (
        meshform_testkit::shared_path(&format!("{dir}/step1.plan.json")),
        meshform_testkit::shared_path(&format!("{dir}/step1.tfstate.json")),
    ) else {
        return;
    };
    let read = |p: PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (plan_doc, state_doc) = (read(plan_path), read(state_path));
    let k = KubernetesFactory::new();
    let h = HelmFactory::new();
    let mut checked = 0;
    for r in state_doc["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let factory: &dyn ProviderFactory = if ty.starts_with("kubernetes_") {
            &k
        } else if ty == "helm_release" {
            &h
        } else {
            continue;
        };
        let block = factory.schema().resources[ty].block.clone();
        let attributes = &r["instances"][0]["attributes"];
        let prior = Value::from_json(attributes, &block.implied_type()).unwrap();
        let after = plan_doc["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|rc| rc["type"] == ty)
            .map(|rc| rc["change"]["after"].clone())
            .unwrap();
        let mut cfg_json = config_from_plan(&block, &after);
        if ty == "kubernetes_secret" {
            cfg_json["data"] = attributes["data"].clone();
        }
        let cfg = Value::from_json(&cfg_json, &block.implied_type()).unwrap();
        let p = factory
            .configure(ConfigureRequest {
                config: Value::null(factory.schema().provider.block.implied_type()),
                offline: true,
                clock: Arc::new(SystemClock),
                env: BTreeMap::new(),
                parallelism: 10,
            })
            .unwrap_or_else(|_| panic!("configure"));
        let r = p
            .plan_resource_change(PlanResourceChangeRequest {
                type_name: ty.into(),
                prior_state: prior.clone(),
                proposed_new_state: proposed_new_state(&block, &prior, &cfg),
                config: cfg,
                prior_private: Vec::new(),
            })
            .await;
        assert!(r.requires_replace.is_empty(), "{ty}");
        assert_eq!(r.planned_state.as_ref(), Some(&prior), "{ty}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn helm_schema_matches_what_terraform_saw() {
    let Some(path) = meshform_testkit::shared_path("conformance/guide-plans/schema.json") else {
        return;
    };
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let want = &doc["provider_schemas"]["registry.terraform.io/hashicorp/helm"];
    let ours = HelmFactory::new().schema();
    assert_eq!(without_plan(ours.provider.to_json()), want["provider"]);
    assert_eq!(
        without_plan(ours.resources[TYPE].to_json()),
        want["resource_schemas"][TYPE]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_releases_roll_back() {
    let c = cluster("helm-atomic");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let good = config(
        &b,
        json!({"name": "at", "chart": demo_chart(), "values": ["greeting: hi\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &null, &good).await;
    let state = apply(p.as_ref(), &null, &planned, &good).await.unwrap();

    // The upgrade fails after the ConfigMap was changed: atomic puts the
    // first revision back as revision 3.
    let broken = config(
        &b,
        json!({"name": "at", "chart": demo_chart(), "atomic": true,
               "values": ["greeting: bye\nbroken: true\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &state, &broken).await;
    let err = apply(p.as_ref(), &state, &planned, &broken)
        .await
        .unwrap_err();
    assert!(err.contains("Nothing"), "{err}");
    let cm = get(&c, "/api/v1/namespaces/default/configmaps/at-demo")
        .await
        .unwrap();
    assert_eq!(cm["data"]["greeting"], "hi");
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    let status = |r: Option<(Release, serde_json::Value)>| r.unwrap().0.info;
    assert_eq!(
        status(record(&c, "default", "at", 1).await).status.as_str(),
        "superseded"
    );
    assert_eq!(
        status(record(&c, "default", "at", 2).await).status.as_str(),
        "failed"
    );
    let restored = status(record(&c, "default", "at", 3).await);
    assert_eq!(restored.status.as_str(), "deployed");
    assert_eq!(restored.description, "Rollback to 1");
    let refreshed = p
        .read_resource(ReadResourceRequest {
            type_name: TYPE.into(),
            current_state: state.clone(),
            private: Vec::new(),
        })
        .await
        .new_state
        .unwrap();
    assert_eq!(json_of(&refreshed)["metadata"][0]["revision"], 3);

    // An atomic install that fails leaves nothing behind.
    let bad = config(
        &b,
        json!({"name": "bad", "chart": demo_chart(), "atomic": true, "values": ["broken: true\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &null, &bad).await;
    assert!(apply(p.as_ref(), &null, &planned, &bad).await.is_err());
    assert!(get(&c, "/api/v1/namespaces/default/configmaps/bad-demo")
        .await
        .is_none());
    assert!(record(&c, "default", "bad", 1).await.is_none());

    // Without atomic, the failed install is recorded as failed.
    let failing = config(
        &b,
        json!({"name": "fails", "chart": demo_chart(), "values": ["broken: true\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &null, &failing).await;
    assert!(apply(p.as_ref(), &null, &planned, &failing).await.is_err());
    assert_eq!(
        status(record(&c, "default", "fails", 1).await)
            .status
            .as_str(),
        "failed"
    );
}

/// The provider's `kubernetes` block is where the connection comes from
/// when it is set (no environment at all here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_block_configures_the_connection() {
    let c = cluster("helm-block");
    let factory = HelmFactory::new();
    let schema = factory.schema();
    let provider_config = Value::from_json(
        &json!({"kubernetes": [{"config_path": c.kubeconfig.display().to_string()}]}),
        &schema.provider.block.implied_type(),
    )
    .unwrap();
    let p = factory
        .configure(ConfigureRequest {
            config: provider_config,
            offline: false,
            clock: Arc::new(SystemClock),
            env: BTreeMap::from([(
                "HELM_CACHE_HOME".to_string(),
                scratch_dir("helm-block-cache").display().to_string(),
            )]),
            parallelism: 10,
        })
        .unwrap_or_else(|_| panic!("configure"));
    let b = schema.resources[TYPE].block.clone();
    let null = Value::null(b.implied_type());
    let cfg = config(&b, json!({"name": "blk", "chart": demo_chart()}));
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
    assert_eq!(json_of(&state)["status"], "deployed");
    assert!(record(&c, "default", "blk", 1).await.is_some());
}

/// Upgrade values as Helm picks them (`reuse_values`, `reset_values`, no
/// values at all), `replace` over a failed release, and options meshform
/// refuses rather than skips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_values_replace_and_refused_options() {
    let c = cluster("helm-values");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let greeting = || async {
        get(&c, "/api/v1/namespaces/default/configmaps/vals-demo")
            .await
            .unwrap()["data"]["greeting"]
            .clone()
    };
    let first = config(
        &b,
        json!({"name": "vals", "chart": demo_chart(), "values": ["greeting: hi\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &null, &first).await;
    let mut state = apply(p.as_ref(), &null, &planned, &first).await.unwrap();

    // reuse_values: the new document is laid over the old values.
    state = upgrade(
        p.as_ref(),
        &b,
        &state,
        json!({"name": "vals", "chart": demo_chart(), "reuse_values": true,
                           "values": ["extra: [x]\n"]}),
    )
    .await;
    assert_eq!(greeting().await, "hi");
    // No values and no reset: the previous values stay.
    state = upgrade(
        p.as_ref(),
        &b,
        &state,
        json!({"name": "vals", "chart": demo_chart(), "description": "again"}),
    )
    .await;
    assert_eq!(greeting().await, "hi");
    // reset_values: chart defaults only.
    state = upgrade(
        p.as_ref(),
        &b,
        &state,
        json!({"name": "vals", "chart": demo_chart(), "reset_values": true,
                           "description": "reset"}),
    )
    .await;
    assert_eq!(greeting().await, "hello");
    assert_eq!(json_of(&state)["metadata"][0]["revision"], 4);

    // A failed install can be replaced.
    let failing = config(
        &b,
        json!({"name": "again", "chart": demo_chart(), "values": ["broken: true\n"]}),
    );
    let planned = plan(p.as_ref(), &b, &null, &failing).await;
    assert!(apply(p.as_ref(), &null, &planned, &failing).await.is_err());
    let fixed = config(
        &b,
        json!({"name": "again", "chart": demo_chart(), "replace": true}),
    );
    let planned = plan(p.as_ref(), &b, &null, &fixed).await;
    let replaced = apply(p.as_ref(), &null, &planned, &fixed).await.unwrap();
    assert_eq!(json_of(&replaced)["metadata"][0]["revision"], 2);

    // verify needs provenance files meshform cannot check: refused.
    let verify = config(
        &b,
        json!({"name": "ver", "chart": demo_chart(), "verify": true}),
    );
    let planned = plan(p.as_ref(), &b, &null, &verify).await;
    let err = apply(p.as_ref(), &null, &planned, &verify)
        .await
        .unwrap_err();
    assert!(err.contains("verify"), "{err}");
}

async fn upgrade(p: &dyn Provider, b: &Block, prior: &Value, cfg: serde_json::Value) -> Value {
    let cfg = config(b, cfg);
    let planned = plan(p, b, prior, &cfg).await;
    apply(p, prior, &planned, &cfg).await.unwrap()
}

fn dedup_kinds(kinds: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        if out.last() != Some(&k) {
            out.push(k);
        }
    }
    out
}

/// The API path prefix and plural of the kinds the kong-mesh chart makes.
fn api_path(kind: &str) -> (&'static str, String) {
    let group = match kind {
        "Deployment" | "DaemonSet" | "StatefulSet" => "/apis/apps/v1",
        "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => {
            "/apis/rbac.authorization.k8s.io/v1"
        }
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            "/apis/admissionregistration.k8s.io/v1"
        }
        "Job" => "/apis/batch/v1",
        _ => "/api/v1",
    };
    (group, format!("{}s", kind.to_lowercase()))
}

/// `dependency_update` fetches a dependency the chart's `charts/` lacks
/// (through a mirror here); without it the install is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_update_fetches_missing_subcharts() {
    let c = cluster("helm-deps");
    let mirror = scratch_dir("helm-deps-mirror");
    copy_dir(&PathBuf::from(demo_chart()), &mirror.join("demo"));
    let mapping = format!("https://charts.example.invalid/stable={}", mirror.display());
    let (b, p) = configure(&c, &[("MESHFORM_HELM_MIRROR", &mapping)]);
    let null = Value::null(b.implied_type());
    let umbrella = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/providers/helm/umbrella")
        .display()
        .to_string();
    let without = config(&b, json!({"name": "umb", "chart": umbrella}));
    let planned = plan(p.as_ref(), &b, &null, &without).await;
    let err = apply(p.as_ref(), &null, &planned, &without)
        .await
        .unwrap_err();
    assert!(err.contains("missing"), "{err}");
    let with = config(
        &b,
        json!({"name": "umb", "chart": umbrella, "dependency_update": true}),
    );
    let planned = plan(p.as_ref(), &b, &null, &with).await;
    let state = apply(p.as_ref(), &null, &planned, &with).await.unwrap();
    assert_eq!(json_of(&state)["version"], "1.0.0");
    let cm = get(&c, "/api/v1/namespaces/default/configmaps/umb-demo")
        .await
        .unwrap();
    assert_eq!(cm["data"]["greeting"], "nested");
}

/// `disable_webhooks` (Helm's `--no-hooks`) installs without running hooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_hooks_do_not_run() {
    let c = cluster("helm-nohooks");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let cfg = config(
        &b,
        json!({"name": "quiet", "chart": demo_chart(), "disable_webhooks": true}),
    );
    let planned = plan(p.as_ref(), &b, &null, &cfg).await;
    let state = apply(p.as_ref(), &null, &planned, &cfg).await.unwrap();
    let (r, _) = record(&c, "default", "quiet", 1).await.unwrap();
    assert!(r.hooks.iter().all(|h| h.last_run.phase.is_empty()));
    let r = p
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: TYPE.into(),
            prior_state: state,
            planned_state: null.clone(),
            config: null,
            planned_private: Vec::new(),
        })
        .await;
    assert!(!r.diagnostics.has_errors());
    // The pre-delete hook did not run either.
    assert!(get(
        &c,
        "/api/v1/namespaces/default/configmaps/quiet-demo-farewell"
    )
    .await
    .is_none());
}

/// An upgrade that changes an immutable object fails (422) unless
/// `force_update` lets the object be recreated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_update_recreates_immutable_objects() {
    let c = cluster("helm-force");
    let (b, p) = configure(&c, &[]);
    let null = Value::null(b.implied_type());
    let cfg = |value: &str, force: bool| {
        config(
            &b,
            json!({"name": "frz", "chart": demo_chart(), "force_update": force,
                   "values": [format!("frozen: {value}\n")]}),
        )
    };
    let first = cfg("a", false);
    let planned = plan(p.as_ref(), &b, &null, &first).await;
    let state = apply(p.as_ref(), &null, &planned, &first).await.unwrap();
    let refused = cfg("b", false);
    let planned = plan(p.as_ref(), &b, &state, &refused).await;
    let err = apply(p.as_ref(), &state, &planned, &refused)
        .await
        .unwrap_err();
    assert!(err.contains("immutable"), "{err}");
    let forced = cfg("c", true);
    let planned = plan(p.as_ref(), &b, &state, &forced).await;
    apply(p.as_ref(), &state, &planned, &forced).await.unwrap();
    let cm = get(&c, "/api/v1/namespaces/default/configmaps/frz-demo-frozen")
        .await
        .unwrap();
    assert_eq!(cm["data"]["value"], "c");
}

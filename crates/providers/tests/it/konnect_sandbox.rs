//! The Konnect providers against the sandbox Konnect server: the guide's
//! resources created, read, updated, imported and deleted, and offline
//! validation of policy specs.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshform_lang::{FixedClock, Type, Value};
use meshform_providers::konnect::client::{KonnectClient, RetryPolicy, Settings};
use meshform_providers::konnect::tables::Host;
use meshform_providers::konnect::{KonnectFactory, KonnectTables};
use meshform_providers::kuma::PolicyTables;
use meshform_providers::planning::proposed_new_state;
use meshform_providers::provider::{
    ApplyResourceChangeRequest, ConfigureRequest, ImportResourceStateRequest,
    PlanResourceChangeRequest, Provider, ProviderFactory, ReadResourceRequest,
};
use meshform_sandbox::{FaultConfig, Sandbox, SandboxConfig, ThrottleConfig};

const TOKEN: &str = "kpat_meshformtest0000000000000000000000000000000000000";

fn factories() -> (KonnectFactory, KonnectFactory) {
    let tables = Arc::new(KonnectTables::load().unwrap());
    let policies = Arc::new(PolicyTables::load().unwrap());
    // Both providers share one pool, as the binary sets them up.
    let pool = Arc::new(meshform_providers::konnect::client::HttpPool::new(4).unwrap());
    (
        KonnectFactory::beta(tables.clone(), policies.clone()).with_pool(pool.clone()),
        KonnectFactory::ga(tables, policies).with_pool(pool),
    )
}

fn object(factory: &KonnectFactory, type_name: &str, set: Vec<(&str, Value)>) -> Value {
    let schema = factory.schema();
    let block = &schema.resources[type_name].block;
    let mut attrs: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::null(a.implied_type())))
        .collect();
    for (k, v) in set {
        attrs.insert(k.to_owned(), v);
    }
    Value::object(attrs)
}

fn configure(factory: &KonnectFactory, url: &str, token: &str) -> Arc<dyn Provider> {
    let config = object_provider(factory, url, token);
    let env = BTreeMap::from([("MESHFORM_KONNECT_IDENTITY_URL".to_owned(), url.to_owned())]);
    factory
        .configure(ConfigureRequest {
            config,
            offline: false,
            clock: Arc::new(FixedClock(chrono::Utc::now())),
            env,
            parallelism: 10,
        })
        .unwrap_or_else(|_| panic!("configure"))
}

fn object_provider(factory: &KonnectFactory, url: &str, token: &str) -> Value {
    let block = &factory.schema().provider.block;
    let mut attrs: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::null(a.implied_type())))
        .collect();
    attrs.insert("server_url".into(), Value::string(url));
    attrs.insert("personal_access_token".into(), Value::string(token));
    Value::object(attrs)
}

/// Plans and applies `config` over `prior`; returns the new state and
/// whether the plan asked for replacement.
async fn converge(
    factory: &KonnectFactory,
    provider: &Arc<dyn Provider>,
    type_name: &str,
    prior: &Value,
    config: &Value,
) -> (Value, bool) {
    let block = &factory.schema().resources[type_name].block;
    let diags = factory.validate_resource_config(type_name, config);
    assert!(!diags.has_errors(), "{type_name}: {diags:?}");
    let plan = provider
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: prior.clone(),
            proposed_new_state: proposed_new_state(block, prior, config),
            config: config.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert!(!plan.diagnostics.has_errors(), "{:?}", plan.diagnostics);
    let replace = !plan.requires_replace.is_empty();
    let applied = provider
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: prior.clone(),
            planned_state: plan.planned_state.unwrap(),
            config: config.clone(),
            planned_private: Vec::new(),
        })
        .await;
    assert!(
        !applied.diagnostics.has_errors(),
        "{type_name}: {:?}",
        applied.diagnostics
    );
    (applied.new_state.unwrap(), replace)
}

/// Creates a control plane named `name` holding a mesh `m`; returns the
/// control plane's id.
async fn control_plane_with_mesh(
    factory: &KonnectFactory,
    provider: &Arc<dyn Provider>,
    name: &str,
) -> String {
    let null = |t: &str| Value::null(factory.schema().resources[t].block.implied_type());
    let cp_config = object(
        factory,
        "konnect_mesh_control_plane",
        vec![("name", Value::string(name))],
    );
    let (cp, _) = converge(
        factory,
        provider,
        "konnect_mesh_control_plane",
        &null("konnect_mesh_control_plane"),
        &cp_config,
    )
    .await;
    let cp_id = cp.get_attr("id").unwrap().as_str().unwrap().to_owned();
    let mesh_config = object(
        factory,
        "konnect_mesh",
        vec![
            ("cp_id", Value::string(&cp_id)),
            ("name", Value::string("m")),
            ("type", Value::string("Mesh")),
        ],
    );
    converge(
        factory,
        provider,
        "konnect_mesh",
        &null("konnect_mesh"),
        &mesh_config,
    )
    .await;
    cp_id
}

/// After an apply, planning the same configuration again changes nothing.
async fn assert_no_changes(
    factory: &KonnectFactory,
    provider: &Arc<dyn Provider>,
    type_name: &str,
    state: &Value,
    config: &Value,
) {
    let block = &factory.schema().resources[type_name].block;
    let read = provider
        .read_resource(ReadResourceRequest {
            type_name: type_name.into(),
            current_state: state.clone(),
            private: Vec::new(),
        })
        .await;
    assert!(!read.diagnostics.has_errors(), "{:?}", read.diagnostics);
    let refreshed = read.new_state.unwrap();
    let plan = provider
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: type_name.into(),
            prior_state: refreshed.clone(),
            proposed_new_state: proposed_new_state(block, &refreshed, config),
            config: config.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert_eq!(plan.planned_state.unwrap(), refreshed, "{type_name} drifts");
    assert!(plan.requires_replace.is_empty());
}

fn labels(pairs: &[(&str, &str)]) -> Value {
    Value::map(
        Type::String,
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::string(*v)))
            .collect(),
    )
}

/// Every request the providers sent and every answer must match the
/// official OpenAPI documents (skipped without `../shared`).
fn check_contract(sandbox: &Sandbox) {
    let Some(dir) = meshform_testkit::shared_path("reference/konnect/official") else {
        return;
    };
    let contract = meshform_sandbox::contract::Contract::load(&dir).unwrap();
    let exchanges = sandbox.exchanges();
    assert!(!exchanges.is_empty());
    let violations = contract.violations(&exchanges);
    assert!(
        violations.is_empty(),
        "contract violations:\n{}",
        violations.join("\n")
    );
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f);
}

#[test]
fn guide_konnect_resources_against_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (beta, ga) = factories();
    run(async {
        let p = configure(&beta, &url, TOKEN);
        let null = |t: &str| Value::null(beta.schema().resources[t].block.implied_type());

        // The control plane.
        let cp_config = object(
            &beta,
            "konnect_mesh_control_plane",
            vec![
                ("name", Value::string("tf-cp")),
                (
                    "description",
                    Value::string("A control plane created using terraform"),
                ),
                ("labels", labels(&[("terraform", "true")])),
            ],
        );
        let (cp, _) = converge(
            &beta,
            &p,
            "konnect_mesh_control_plane",
            &null("konnect_mesh_control_plane"),
            &cp_config,
        )
        .await;
        let cp_id = cp.get_attr("id").unwrap().as_str().unwrap().to_owned();
        assert_no_changes(&beta, &p, "konnect_mesh_control_plane", &cp, &cp_config).await;
        // Removing a label really removes it.
        let mut attrs = cp_config.as_entries().unwrap().clone();
        attrs.insert("labels".into(), labels(&[("env", "dev")]));
        let relabelled = Value::object(attrs);
        let (cp, replace) =
            converge(&beta, &p, "konnect_mesh_control_plane", &cp, &relabelled).await;
        assert!(!replace);
        assert_eq!(cp.get_attr("labels").unwrap(), &labels(&[("env", "dev")]));
        assert_no_changes(&beta, &p, "konnect_mesh_control_plane", &cp, &relabelled).await;

        // The mesh, then mTLS added in place.
        let mesh_config = |mtls: Value| {
            object(
                &beta,
                "konnect_mesh",
                vec![
                    ("cp_id", Value::string(&cp_id)),
                    ("name", Value::string("my-mesh")),
                    ("type", Value::string("Mesh")),
                    (
                        "skip_creating_initial_policies",
                        Value::list(Type::String, vec![Value::string("*")]),
                    ),
                    ("mtls", mtls),
                ],
            )
        };
        let block = &beta.schema().resources["konnect_mesh"].block;
        let mtls_ty = block.attributes["mtls"].implied_type();
        let (mesh, _) = converge(
            &beta,
            &p,
            "konnect_mesh",
            &null("konnect_mesh"),
            &mesh_config(Value::null(mtls_ty.clone())),
        )
        .await;
        assert_no_changes(
            &beta,
            &p,
            "konnect_mesh",
            &mesh,
            &mesh_config(Value::null(mtls_ty.clone())),
        )
        .await;
        let mtls_json = serde_json::json!({"backends": [{"name": "ca-1", "type": "builtin"}]});
        let mtls = meshform_lang::convert(
            &Value::from_json(&mtls_json, &meshform_lang::implied_type(&mtls_json)).unwrap(),
            &block.attributes["mtls"].constraint_type(),
        )
        .unwrap();
        let (mesh, replace) =
            converge(&beta, &p, "konnect_mesh", &mesh, &mesh_config(mtls.clone())).await;
        assert!(!replace);
        assert_no_changes(&beta, &p, "konnect_mesh", &mesh, &mesh_config(mtls)).await;

        // The guide's traffic permission, labelled as the guide does.
        let mtp_block = &beta.schema().resources["konnect_mesh_traffic_permission"].block;
        let spec_json = serde_json::json!({"from": [{"target_ref": {"kind": "Mesh"}, "default": {"action": "Allow"}}]});
        // Filled in by the constraint's optional attributes, then typed as
        // a configuration value is (no optional marks in the type of a null).
        let spec = meshform_lang::convert(
            &meshform_lang::convert(
                &Value::from_json(&spec_json, &meshform_lang::implied_type(&spec_json)).unwrap(),
                &mtp_block.attributes["spec"].constraint_type(),
            )
            .unwrap(),
            &mtp_block.attributes["spec"].implied_type(),
        )
        .unwrap();
        let mtp_config = object(
            &beta,
            "konnect_mesh_traffic_permission",
            vec![
                ("cp_id", Value::string(&cp_id)),
                ("mesh", Value::string("my-mesh")),
                ("name", Value::string("allow-all")),
                ("type", Value::string("MeshTrafficPermission")),
                ("labels", labels(&[("kuma.io/mesh", "my-mesh")])),
                ("spec", spec.clone()),
            ],
        );
        let (mtp, _) = converge(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &null("konnect_mesh_traffic_permission"),
            &mtp_config,
        )
        .await;
        assert_no_changes(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &mtp,
            &mtp_config,
        )
        .await;
        // Without the label in configuration, the server's label is no drift.
        let unlabelled = object(
            &beta,
            "konnect_mesh_traffic_permission",
            vec![
                ("cp_id", Value::string(&cp_id)),
                ("mesh", Value::string("my-mesh")),
                ("name", Value::string("no-label")),
                ("type", Value::string("MeshTrafficPermission")),
                ("spec", spec),
            ],
        );
        let (plain, _) = converge(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &null("konnect_mesh_traffic_permission"),
            &unlabelled,
        )
        .await;
        assert!(plain.get_attr("labels").unwrap().is_null());
        assert_no_changes(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &plain,
            &unlabelled,
        )
        .await;

        // Import by the documented JSON identity.
        let imported = p
            .import_resource_state(ImportResourceStateRequest {
                type_name: "konnect_mesh_traffic_permission".into(),
                id: format!(r#"{{"cp_id":"{cp_id}","mesh":"my-mesh","name":"allow-all"}}"#),
            })
            .await;
        assert!(
            !imported.diagnostics.has_errors(),
            "{:?}",
            imported.diagnostics
        );
        assert_eq!(
            imported.imported[0]
                .state
                .get_attr("spec")
                .unwrap()
                .to_json()
                .unwrap(),
            mtp.get_attr("spec").unwrap().to_json().unwrap()
        );
        // It keeps the label Kuma added, which the configuration also sets:
        // nothing to change right after the import.
        let imported_mtp = imported.imported[0].state.clone();
        assert_eq!(
            imported_mtp.get_attr("labels"),
            Some(&labels(&[("kuma.io/mesh", "my-mesh")]))
        );
        assert_no_changes(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &imported_mtp,
            &mtp_config,
        )
        .await;
        // A configuration without the label plans its removal, and after
        // that apply the server's label is no drift.
        let imported = p
            .import_resource_state(ImportResourceStateRequest {
                type_name: "konnect_mesh_traffic_permission".into(),
                id: format!(r#"{{"cp_id":"{cp_id}","mesh":"my-mesh","name":"no-label"}}"#),
            })
            .await;
        assert!(
            !imported.diagnostics.has_errors(),
            "{:?}",
            imported.diagnostics
        );
        let imported_plain = imported.imported[0].state.clone();
        assert_eq!(
            imported_plain.get_attr("labels"),
            Some(&labels(&[("kuma.io/mesh", "my-mesh")]))
        );
        let (plain, replace) = converge(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &imported_plain,
            &unlabelled,
        )
        .await;
        assert!(!replace);
        assert!(plain.get_attr("labels").unwrap().is_null());
        assert_no_changes(
            &beta,
            &p,
            "konnect_mesh_traffic_permission",
            &plain,
            &unlabelled,
        )
        .await;

        // The system account, its role, and a token whose value is kept.
        let g = configure(&ga, &url, TOKEN);
        let gnull = |t: &str| Value::null(ga.schema().resources[t].block.implied_type());
        let account_config = object(
            &ga,
            "konnect_system_account",
            vec![
                ("name", Value::string("mesh-sa")),
                ("description", Value::string("zone token owner")),
            ],
        );
        let (account, _) = converge(
            &ga,
            &g,
            "konnect_system_account",
            &gnull("konnect_system_account"),
            &account_config,
        )
        .await;
        let account_id = account.get_attr("id").unwrap().as_str().unwrap().to_owned();
        let role_config = object(
            &ga,
            "konnect_system_account_role",
            vec![
                ("account_id", Value::string(&account_id)),
                ("entity_id", Value::string(&cp_id)),
                ("entity_region", Value::string("eu")),
                ("entity_type_name", Value::string("Mesh Control Planes")),
                ("role_name", Value::string("Connector")),
            ],
        );
        let (role, _) = converge(
            &ga,
            &g,
            "konnect_system_account_role",
            &gnull("konnect_system_account_role"),
            &role_config,
        )
        .await;
        assert!(role.get_attr("id").unwrap().as_str().is_some());
        let token_config = object(
            &ga,
            "konnect_system_account_access_token",
            vec![
                ("account_id", Value::string(&account_id)),
                ("name", Value::string("zone-token")),
                ("expires_at", Value::string("2099-01-01T00:00:00Z")),
            ],
        );
        let (token, _) = converge(
            &ga,
            &g,
            "konnect_system_account_access_token",
            &gnull("konnect_system_account_access_token"),
            &token_config,
        )
        .await;
        let secret = token
            .get_attr("token")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("spat_"), "{secret}");
        assert_no_changes(
            &ga,
            &g,
            "konnect_system_account_access_token",
            &token,
            &token_config,
        )
        .await;
        // A rename updates in place and keeps the token value.
        let renamed_config = object(
            &ga,
            "konnect_system_account_access_token",
            vec![
                ("account_id", Value::string(&account_id)),
                ("name", Value::string("zone-token-2")),
                ("expires_at", Value::string("2099-01-01T00:00:00Z")),
            ],
        );
        let (token, replace) = converge(
            &ga,
            &g,
            "konnect_system_account_access_token",
            &token,
            &renamed_config,
        )
        .await;
        assert!(!replace);
        assert_eq!(
            token.get_attr("token").unwrap().as_str(),
            Some(secret.as_str())
        );
        assert_eq!(
            token.get_attr("name").unwrap().as_str(),
            Some("zone-token-2")
        );

        // Destroy in reverse order; deleting twice is fine.
        for (f, prov, t, state) in [
            (&ga, &g, "konnect_system_account_access_token", &token),
            (&ga, &g, "konnect_system_account_role", &role),
            (&ga, &g, "konnect_system_account", &account),
            (&beta, &p, "konnect_mesh_traffic_permission", &mtp),
            (&beta, &p, "konnect_mesh_traffic_permission", &mtp),
            (&beta, &p, "konnect_mesh_traffic_permission", &plain),
            (&beta, &p, "konnect_mesh", &mesh),
            (&beta, &p, "konnect_mesh_control_plane", &cp),
        ] {
            let resp = prov
                .apply_resource_change(ApplyResourceChangeRequest {
                    type_name: t.into(),
                    prior_state: state.clone(),
                    planned_state: Value::null(state.ty()),
                    config: Value::null(state.ty()),
                    planned_private: Vec::new(),
                })
                .await;
            assert!(
                !resp.diagnostics.has_errors(),
                "{t}: {:?}",
                resp.diagnostics
            );
            let _ = f;
        }
        let gone = p
            .read_resource(ReadResourceRequest {
                type_name: "konnect_mesh_control_plane".into(),
                current_state: cp.clone(),
                private: Vec::new(),
            })
            .await;
        assert!(gone.new_state.is_none());
    });
    check_contract(&sandbox);
    sandbox.shutdown();
}

#[test]
fn a_bad_token_is_one_clear_error() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (beta, _) = factories();
    run(async {
        let p = configure(&beta, &url, "kpat_wrong");
        let config = object(
            &beta,
            "konnect_mesh_control_plane",
            vec![("name", Value::string("x"))],
        );
        let resp = p
            .apply_resource_change(ApplyResourceChangeRequest {
                type_name: "konnect_mesh_control_plane".into(),
                prior_state: Value::null(config.ty()),
                planned_state: config.clone(),
                config,
                planned_private: Vec::new(),
            })
            .await;
        assert_eq!(resp.diagnostics.iter().count(), 1);
        let d = resp.diagnostics.iter().next().unwrap();
        assert_eq!(d.summary, "Konnect rejected the credentials");
        assert!(resp.new_state.is_none());
    });
    check_contract(&sandbox);
    sandbox.shutdown();
}

#[test]
fn policy_specs_are_checked_offline() {
    let (beta, _) = factories();
    let block = &beta.schema().resources["konnect_mesh_traffic_permission"].block;
    let spec_json = serde_json::json!({"from": [{"target_ref": {"kind": "MeshZone"}, "default": {"action": "Alow"}}]});
    let spec = meshform_lang::convert(
        &Value::from_json(&spec_json, &meshform_lang::implied_type(&spec_json)).unwrap(),
        &block.attributes["spec"].constraint_type(),
    )
    .unwrap();
    let config = object(
        &beta,
        "konnect_mesh_traffic_permission",
        vec![
            ("cp_id", Value::string("cp")),
            ("mesh", Value::string("m")),
            ("name", Value::string("n")),
            ("type", Value::string("MeshTrafficPermission")),
            ("spec", spec),
        ],
    );
    let diags = beta.validate_resource_config("konnect_mesh_traffic_permission", &config);
    let details: Vec<&str> = diags.iter().map(|d| d.detail.as_str()).collect();
    assert_eq!(details.len(), 2, "{details:#?}");
    assert!(details
        .iter()
        .any(|d| d.contains("spec.from[0].default.action") && d.contains("\"Allow\"")));
    assert!(details
        .iter()
        .any(|d| d.contains("spec.from[0].target_ref.kind") && d.contains("\"MeshService\"")));
    let located = beta.validate_resource_config_at("konnect_mesh_traffic_permission", &config);
    let paths: Vec<String> = located
        .iter()
        .map(|(p, _)| meshform_providers::kuma::ValuePath(p.clone().unwrap()).to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "spec.from[0].default.action",
            "spec.from[0].target_ref.kind"
        ]
    );
}

/// With a third of requests failing (5xx, 429 bursts, dropped
/// connections) an apply of 100
/// policies converges and nothing is lost.
#[test]
fn a_hundred_policies_converge_through_faults() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (beta, _) = factories();
    let beta = beta.with_retry_policy(RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(20),
        timeout: std::time::Duration::from_secs(60),
    });
    run(async {
        let p = configure(&beta, &url, TOKEN);
        let null = |t: &str| Value::null(beta.schema().resources[t].block.implied_type());
        let cp_id = control_plane_with_mesh(&beta, &p, "faulty").await;

        sandbox.set_faults(FaultConfig {
            error_rate: 0.2,
            throttle: Some(ThrottleConfig {
                rate: 0.1,
                burst: 2,
                retry_after_seconds: 0,
            }),
            drop_rate: 0.05,
            seed: 7,
            ..FaultConfig::default()
        });
        // The faults are there: without retries, many requests fail.
        let mut settings =
            Settings::from_config(&object_provider(&beta, &url, TOKEN), &BTreeMap::new()).unwrap();
        settings.retry.timeout = std::time::Duration::ZERO;
        let bare = KonnectClient::new(settings).unwrap();
        let mut failed = 0;
        for _ in 0..50 {
            let path = format!("/v1/mesh/control-planes/{cp_id}");
            if bare
                .send(Host::Mesh, "GET", &path, None, &|_| false)
                .await
                .is_err()
            {
                failed += 1;
            }
        }
        assert!(failed >= 8, "only {failed} of 50 requests failed");
        let block = &beta.schema().resources["konnect_mesh_traffic_permission"].block;
        let spec_json = serde_json::json!({"from": [{"target_ref": {"kind": "Mesh"}, "default": {"action": "Deny"}}]});
        let spec = meshform_lang::convert(
            &Value::from_json(&spec_json, &meshform_lang::implied_type(&spec_json)).unwrap(),
            &block.attributes["spec"].constraint_type(),
        )
        .unwrap();
        let mut states = Vec::new();
        for i in 0..100 {
            let config = object(
                &beta,
                "konnect_mesh_traffic_permission",
                vec![
                    ("cp_id", Value::string(&cp_id)),
                    ("mesh", Value::string("m")),
                    ("name", Value::string(format!("p-{i:03}"))),
                    ("type", Value::string("MeshTrafficPermission")),
                    ("spec", spec.clone()),
                ],
            );
            let (state, _) = converge(
                &beta,
                &p,
                "konnect_mesh_traffic_permission",
                &null("konnect_mesh_traffic_permission"),
                &config,
            )
            .await;
            states.push(state);
        }
        sandbox.set_faults(FaultConfig::default());
        for state in &states {
            let read = p
                .read_resource(ReadResourceRequest {
                    type_name: "konnect_mesh_traffic_permission".into(),
                    current_state: state.clone(),
                    private: Vec::new(),
                })
                .await;
            assert_eq!(read.new_state.as_ref(), Some(state));
        }
        assert_eq!(states.len(), 100);
    });
    check_contract(&sandbox);
    sandbox.shutdown();
}

/// A minimal configuration value of an attribute: required members filled
/// with placeholders, a `target_ref` pointing at the whole mesh.
fn minimal(
    table: &meshform_providers::konnect::ResourceTable,
    attr: &meshform_lang::schema::Attribute,
    dotted: &str,
) -> Value {
    use meshform_lang::schema::{AttributeType, Nesting};
    let name = dotted.rsplit('.').next().unwrap_or(dotted);
    let one_of = table.attr(dotted).and_then(|i| i.one_of.first().cloned());
    match &attr.ty {
        AttributeType::Type(Type::String) if name == "kind" => Value::string("Mesh"),
        AttributeType::Type(Type::String) => {
            Value::string(one_of.unwrap_or_else(|| "placeholder".into()))
        }
        AttributeType::Type(Type::Number) => Value::int(8080),
        AttributeType::Type(Type::Bool) => Value::bool(false),
        AttributeType::Type(t) => Value::null(t.clone()),
        AttributeType::Nested(n) => {
            let obj = Value::object(
                n.attributes
                    .iter()
                    .map(|(k, a)| {
                        let child = format!("{dotted}.{k}");
                        let needed = a.required
                            || k == "target_ref"
                            || table.attr(&child).is_some_and(|i| i.not_null);
                        let v = if needed {
                            minimal(table, a, &child)
                        } else {
                            Value::null(a.implied_type())
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            );
            match n.nesting {
                Nesting::Single | Nesting::Group => obj,
                _ => Value::list(obj.ty(), vec![obj]),
            }
        }
    }
}

#[test]
fn every_mesh_resource_type_round_trips() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (beta, _) = factories();
    run(async {
        let p = configure(&beta, &url, TOKEN);
        let schema = beta.schema();
        let null = |t: &str| Value::null(schema.resources[t].block.implied_type());
        let cp_id = control_plane_with_mesh(&beta, &p, "all").await;
        let tables = KonnectTables::load().unwrap();
        let mut done = Vec::new();
        for (type_name, rschema) in &schema.resources {
            if type_name == "konnect_mesh" || type_name == "konnect_mesh_control_plane" {
                continue;
            }
            let kuma_type = tables
                .resource(type_name)
                .unwrap()
                .api
                .kuma_type
                .clone()
                .unwrap();
            let block = &rschema.block;
            let mut set = vec![
                ("cp_id", Value::string(&cp_id)),
                ("name", Value::string(format!("x-{}", type_name.len()))),
                ("type", Value::string(&kuma_type)),
            ];
            if block.attributes.contains_key("mesh") {
                set.push(("mesh", Value::string("m")));
            }
            let mut config = object(&beta, type_name, set);
            let mut attrs = config.as_entries().unwrap().clone();
            for (name, attr) in &block.attributes {
                if attr.required && attrs[name].is_null() {
                    let table = tables.resource(type_name).unwrap();
                    attrs.insert(name.clone(), minimal(table, attr, name));
                }
            }
            // What the API needs beyond the schema's required attributes.
            let extra = match type_name.as_str() {
                "konnect_mesh_gateway" => serde_json::json!({
                    "selectors": [{"match": {"kuma.io/service": "edge"}}],
                    "conf": {"listeners": [{"port": 8080, "protocol": {"str": "HTTP"}}]}
                }),
                "konnect_mesh_proxy_patch" => serde_json::json!({
                    "spec": {"target_ref": {"kind": "Mesh"}, "default": {"append_modifications": [
                        {"cluster": {"operation": "Add", "value": "name: extra"}}
                    ]}}
                }),
                "konnect_mesh_hostname_generator" => serde_json::json!({
                    "spec": {"template": "{{ .DisplayName }}.mesh"}
                }),
                _ => serde_json::json!({}),
            };
            if let Some(extra) = extra.as_object() {
                for name in extra.keys().map(String::as_str) {
                    let ty = block.attributes[name].constraint_type();
                    let v =
                        Value::from_json(&extra[name], &meshform_lang::implied_type(&extra[name]))
                            .unwrap();
                    attrs.insert(name.into(), meshform_lang::convert(&v, &ty).unwrap());
                }
            }
            config = Value::object(attrs);
            let (state, _) = converge(&beta, &p, type_name, &null(type_name), &config).await;
            assert_no_changes(&beta, &p, type_name, &state, &config).await;
            // An in-place update: a label.
            let mut attrs = config.as_entries().unwrap().clone();
            attrs.insert("labels".into(), labels(&[("team", "mesh")]));
            let updated_config = Value::object(attrs);
            let (updated, replace) = converge(&beta, &p, type_name, &state, &updated_config).await;
            assert!(!replace, "{type_name}");
            assert_no_changes(&beta, &p, type_name, &updated, &updated_config).await;
            // Import by the resource's JSON identity reads the same object.
            let mut identity = serde_json::Map::new();
            for field in ["cp_id", "mesh", "name"] {
                if let Some(v) = updated.get_attr(field).and_then(Value::as_str) {
                    identity.insert(field.into(), serde_json::json!(v));
                }
            }
            let imported = p
                .import_resource_state(ImportResourceStateRequest {
                    type_name: type_name.clone(),
                    id: serde_json::Value::Object(identity).to_string(),
                })
                .await;
            assert!(
                !imported.diagnostics.has_errors(),
                "{type_name}: {:?}",
                imported.diagnostics
            );
            let got = &imported.imported[0].state;
            // The import keeps the labels Kuma added by itself.
            let mut expected_labels = labels(&[("team", "mesh")]);
            if block.attributes.contains_key("mesh") {
                expected_labels = labels(&[("kuma.io/mesh", "m"), ("team", "mesh")]);
            }
            assert_eq!(
                got.get_attr("labels"),
                Some(&expected_labels),
                "{type_name}.labels"
            );
            for field in ["spec", "conf", "selectors", "type"] {
                if let (Some(a), Some(b)) = (got.get_attr(field), updated.get_attr(field)) {
                    assert_eq!(
                        a.to_json().unwrap(),
                        b.to_json().unwrap(),
                        "{type_name}.{field}"
                    );
                }
            }
            let resp = p
                .apply_resource_change(ApplyResourceChangeRequest {
                    type_name: type_name.clone(),
                    prior_state: updated.clone(),
                    planned_state: Value::null(updated.ty()),
                    config: Value::null(updated.ty()),
                    planned_private: Vec::new(),
                })
                .await;
            assert!(
                !resp.diagnostics.has_errors(),
                "{type_name}: {:?}",
                resp.diagnostics
            );
            done.push(type_name.clone());
        }
        assert_eq!(done.len(), 23);
    });
    check_contract(&sandbox);
    sandbox.shutdown();
}

/// Team membership of a system account: added, kept, removed.
#[test]
fn system_account_team_membership() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (_, ga) = factories();
    run(async {
        let g = configure(&ga, &url, TOKEN);
        let null = |t: &str| Value::null(ga.schema().resources[t].block.implied_type());
        // A team to join, made directly through the API.
        let mut settings =
            Settings::from_config(&object_provider(&ga, &url, TOKEN), &BTreeMap::new()).unwrap();
        settings.identity_url = url.clone();
        let client = KonnectClient::new(settings).unwrap();
        let team = client
            .send(
                Host::Identity,
                "POST",
                "/v3/teams",
                Some(&serde_json::json!({"name": "mesh-admins"})),
                &|_| false,
            )
            .await
            .unwrap();
        let team_id = team.body["id"].as_str().unwrap().to_owned();

        let account_config = object(
            &ga,
            "konnect_system_account",
            vec![
                ("name", Value::string("member")),
                ("description", Value::string("joins a team")),
            ],
        );
        let (account, _) = converge(
            &ga,
            &g,
            "konnect_system_account",
            &null("konnect_system_account"),
            &account_config,
        )
        .await;
        let account_id = account.get_attr("id").unwrap().as_str().unwrap().to_owned();
        let membership_config = object(
            &ga,
            "konnect_system_account_team",
            vec![
                ("account_id", Value::string(&account_id)),
                ("team_id", Value::string(&team_id)),
            ],
        );
        let (membership, _) = converge(
            &ga,
            &g,
            "konnect_system_account_team",
            &null("konnect_system_account_team"),
            &membership_config,
        )
        .await;
        assert_eq!(
            membership.get_attr("team_id").unwrap().as_str(),
            Some(team_id.as_str())
        );
        assert_no_changes(
            &ga,
            &g,
            "konnect_system_account_team",
            &membership,
            &membership_config,
        )
        .await;
        let members = client
            .send(
                Host::Identity,
                "GET",
                &format!("/v3/system-accounts/{account_id}/teams"),
                None,
                &|_| false,
            )
            .await
            .unwrap();
        assert_eq!(members.body["data"][0]["id"], serde_json::json!(team_id));
        let resp = g
            .apply_resource_change(ApplyResourceChangeRequest {
                type_name: "konnect_system_account_team".into(),
                prior_state: membership.clone(),
                planned_state: Value::null(membership.ty()),
                config: Value::null(membership.ty()),
                planned_private: Vec::new(),
            })
            .await;
        assert!(!resp.diagnostics.has_errors(), "{:?}", resp.diagnostics);
        let members = client
            .send(
                Host::Identity,
                "GET",
                &format!("/v3/system-accounts/{account_id}/teams"),
                None,
                &|_| false,
            )
            .await
            .unwrap();
        assert_eq!(members.body["data"], serde_json::json!([]));
    });
    check_contract(&sandbox);
    sandbox.shutdown();
}

/// A control plane whose zone is still online is deleted once the zone
/// disconnects: the provider retries Konnect's 400 "still online".
#[test]
fn control_plane_delete_waits_for_its_zone() {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sandbox.konnect_url().to_owned();
    let (beta, _) = factories();
    let beta = beta.with_retry_policy(RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(20),
        max_backoff: std::time::Duration::from_millis(50),
        timeout: std::time::Duration::from_secs(30),
    });
    let p = configure(&beta, &url, TOKEN);
    let null = Value::null(
        beta.schema().resources["konnect_mesh_control_plane"]
            .block
            .implied_type(),
    );
    let config = object(
        &beta,
        "konnect_mesh_control_plane",
        vec![("name", Value::string("zoned"))],
    );
    let mut cp = Value::null(null.ty());
    run(async {
        cp = converge(&beta, &p, "konnect_mesh_control_plane", &null, &config)
            .await
            .0;
    });
    let cp_id = cp.get_attr("id").unwrap().as_str().unwrap().to_owned();
    sandbox.set_zone(&cp_id, "zone-1", true, None).unwrap();
    let deleting = {
        let p = p.clone();
        let cp = cp.clone();
        std::thread::spawn(move || {
            let mut diagnostics = None;
            run(async {
                let resp = p
                    .apply_resource_change(ApplyResourceChangeRequest {
                        type_name: "konnect_mesh_control_plane".into(),
                        prior_state: cp.clone(),
                        planned_state: Value::null(cp.ty()),
                        config: Value::null(cp.ty()),
                        planned_private: Vec::new(),
                    })
                    .await;
                diagnostics = Some(resp.diagnostics);
            });
            diagnostics
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    sandbox
        .set_zone(&cp_id, "zone-1", false, Some("disconnected".into()))
        .unwrap();
    let diagnostics = deleting.join().unwrap().unwrap();
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    check_contract(&sandbox);
    sandbox.shutdown();
}

//! The time provider through the provider interface: the guide's
//! `time_offset` against Terraform's plan and state, and `time_rotating`
//! rotation driven by the clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshform_lang::{Clock, FixedClock, Type, Value};
use meshform_providers::provider::{
    ApplyResourceChangeRequest, ConfigureRequest, PlanResourceChangeRequest, Provider,
    ProviderFactory, ReadResourceRequest,
};
use meshform_providers::time::TimeFactory;
use serde_json::Value as Json;

fn at(time: &str) -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        chrono::DateTime::parse_from_rfc3339(time)
            .unwrap()
            .with_timezone(&chrono::Utc),
    ))
}

fn provider(time: &str) -> Arc<dyn Provider> {
    let factory = TimeFactory::new();
    let config = Value::null(factory.schema().provider.block.implied_type());
    factory
        .configure(ConfigureRequest {
            config,
            offline: true,
            clock: at(time),
            env: BTreeMap::new(),
            parallelism: 10,
        })
        .unwrap_or_else(|_| panic!("configure"))
}

/// A configuration object of `type_name` with `set` attributes, every
/// other attribute null.
fn config(type_name: &str, set: &[(&str, Value)]) -> Value {
    let schema = TimeFactory::new().schema();
    let block = &schema.resources[type_name].block;
    let mut attrs: BTreeMap<String, Value> = block
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), Value::null(a.implied_type())))
        .collect();
    for (k, v) in set {
        attrs.insert((*k).to_owned(), v.clone());
    }
    Value::object(attrs)
}

async fn plan(p: &Arc<dyn Provider>, ty: &str, prior: &Value, config: &Value) -> (Value, usize) {
    let resp = p
        .plan_resource_change(PlanResourceChangeRequest {
            type_name: ty.into(),
            prior_state: prior.clone(),
            proposed_new_state: config.clone(),
            config: config.clone(),
            prior_private: Vec::new(),
        })
        .await;
    assert!(!resp.diagnostics.has_errors(), "{:?}", resp.diagnostics);
    (resp.planned_state.unwrap(), resp.requires_replace.len())
}

async fn apply(
    p: &Arc<dyn Provider>,
    ty: &str,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> Value {
    let resp = p
        .apply_resource_change(ApplyResourceChangeRequest {
            type_name: ty.into(),
            prior_state: prior.clone(),
            planned_state: planned.clone(),
            config: config.clone(),
            planned_private: Vec::new(),
        })
        .await;
    assert!(!resp.diagnostics.has_errors(), "{:?}", resp.diagnostics);
    resp.new_state.unwrap()
}

#[tokio::test]
async fn guide_time_offset_matches_terraform() {
    let Some(dir) = meshform_testkit::shared_path("conformance/guide-plans/07-zone") else {
        return;
    };
    let plan_json: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("step1.plan.json")).unwrap())
            .unwrap();
    let state_json: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("step1.tfstate.json")).unwrap())
            .unwrap();
    let change = plan_json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rc| rc["type"] == "time_offset")
        .unwrap();
    let stored = state_json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "time_offset")
        .unwrap();
    let stored = &stored["instances"][0]["attributes"];

    let cfg = config("time_offset", &[("offset_years", Value::int(1))]);
    let null = Value::null(cfg.ty());
    // The apply ran at the moment its base timestamp records.
    let p = provider(stored["base_rfc3339"].as_str().unwrap());
    let (planned, replace) = plan(&p, "time_offset", &null, &cfg).await;
    assert_eq!(replace, 0);
    for (name, unknown) in change["change"]["after_unknown"].as_object().unwrap() {
        if *unknown == Json::Bool(true) {
            assert!(!planned.get_attr(name).unwrap().is_known(), "{name}");
        }
    }
    let state = apply(&p, "time_offset", &null, &planned, &cfg).await;
    assert_eq!(&state.to_json().unwrap(), stored);

    // Re-planned with the same configuration: no change.
    let (again, replace) = plan(&p, "time_offset", &state, &cfg).await;
    assert_eq!((again, replace), (state.clone(), 0));
    // The same from the state Terraform wrote, a year later.
    let from_terraform = Value::from_json(stored, &state.ty()).unwrap();
    let (again, replace) = plan(
        &provider("2026-03-13T11:49:41Z"),
        "time_offset",
        &from_terraform,
        &cfg,
    )
    .await;
    assert_eq!((again, replace), (from_terraform, 0));
}

#[tokio::test]
async fn rotation_passes_and_the_resource_is_planned_again() {
    let cfg = config("time_rotating", &[("rotation_minutes", Value::int(1))]);
    let null = Value::null(cfg.ty());
    let start = "2026-11-26T10:15:00Z";
    let p = provider(start);
    let (planned, _) = plan(&p, "time_rotating", &null, &cfg).await;
    assert!(!planned.get_attr("rotation_rfc3339").unwrap().is_known());
    let state = apply(&p, "time_rotating", &null, &planned, &cfg).await;
    assert_eq!(
        state.get_attr("rotation_rfc3339").unwrap().as_str(),
        Some("2026-11-26T10:16:00Z")
    );
    assert_eq!(state.get_attr("rfc3339").unwrap().as_str(), Some(start));

    let read = |time: &'static str, state: Value| async move {
        provider(time)
            .read_resource(ReadResourceRequest {
                type_name: "time_rotating".into(),
                current_state: state,
                private: Vec::new(),
            })
            .await
            .new_state
    };
    // 30 s later: still there, and nothing to change.
    let kept = read("2026-11-26T10:15:30Z", state.clone()).await.unwrap();
    let (again, replace) = plan(
        &provider("2026-11-26T10:15:30Z"),
        "time_rotating",
        &kept,
        &cfg,
    )
    .await;
    assert_eq!((&again, replace), (&state, 0));
    // 61 s later: gone, so it is created again.
    assert!(read("2026-11-26T10:16:01Z", state.clone()).await.is_none());
    let later = provider("2026-11-26T10:16:01Z");
    let (planned, _) = plan(&later, "time_rotating", &null, &cfg).await;
    let renewed = apply(&later, "time_rotating", &null, &planned, &cfg).await;
    assert_eq!(
        renewed.get_attr("rotation_rfc3339").unwrap().as_str(),
        Some("2026-11-26T10:17:01Z")
    );
}

#[tokio::test]
async fn validation_and_import_through_the_factory() {
    let factory = TimeFactory::new();
    let diags = factory.validate_resource_config("time_offset", &config("time_offset", &[]));
    assert!(diags.has_errors());
    let ok = config("time_sleep", &[("create_duration", Value::string("1ms"))]);
    assert!(!factory
        .validate_resource_config("time_sleep", &ok)
        .has_errors());
    let p = provider("2026-11-26T10:15:00Z");
    let imported = p
        .import_resource_state(meshform_providers::provider::ImportResourceStateRequest {
            type_name: "time_static".into(),
            id: "2020-02-12T06:36:13Z".into(),
        })
        .await;
    let state = &imported.imported[0].state;
    assert_eq!(
        state.get_attr("unix").unwrap().to_json().unwrap(),
        Json::from(1_581_489_373)
    );
    assert_eq!(
        state.get_attr("triggers").unwrap().ty(),
        Type::map(Type::String)
    );
    // A sleep waits (1 ms here) and records the clock after waiting.
    let null = Value::null(ok.ty());
    let (planned, _) = plan(&p, "time_sleep", &null, &ok).await;
    let slept = apply(&p, "time_sleep", &null, &planned, &ok).await;
    assert_eq!(
        slept.get_attr("id").unwrap().as_str(),
        Some("2026-11-26T10:15:00Z")
    );
}

/// The guide's `time_rotating` as Terraform stored it (start of the
/// destroy scenario): the same object as meshform creates at that moment,
/// and gone on refresh once its rotation time has passed.
#[tokio::test]
async fn guide_time_rotating_matches_terraform() {
    let Some(path) =
        meshform_testkit::shared_path("conformance/guide-plans/09-destroy/start.tfstate.json")
    else {
        return;
    };
    let state_json: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let stored = &state_json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "time_rotating")
        .unwrap()["instances"][0]["attributes"];
    let cfg = config("time_rotating", &[("rotation_minutes", Value::int(1))]);
    let null = Value::null(cfg.ty());
    let p = provider(stored["rfc3339"].as_str().unwrap());
    let (planned, _) = plan(&p, "time_rotating", &null, &cfg).await;
    let created = apply(&p, "time_rotating", &null, &planned, &cfg).await;
    assert_eq!(&created.to_json().unwrap(), stored);

    let from_terraform = Value::from_json(stored, &cfg.ty()).unwrap();
    let read = |time: &'static str| {
        let state = from_terraform.clone();
        async move {
            provider(time)
                .read_resource(ReadResourceRequest {
                    type_name: "time_rotating".into(),
                    current_state: state,
                    private: Vec::new(),
                })
                .await
                .new_state
        }
    };
    assert!(read("2025-03-13T11:58:00Z").await.is_some());
    // The destroy scenario ran at 12:30: Terraform reported it deleted.
    assert!(read("2025-03-13T12:30:00Z").await.is_none());
}

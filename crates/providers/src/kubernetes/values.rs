//! Reading configuration values and writing state values the way
//! terraform-plugin-sdk/v2 does for this provider: the `metadata` block,
//! string maps, and the zero values the SDK stores for unset attributes.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use meshform_lang::schema::Block;
use meshform_lang::{Data, Value};
use serde_json::{json, Value as Json};

use crate::planning::ResourcePlan;
use crate::planning::{filter_requires_replace, plan_from_schema, PlanOptions, PlanStyle};

pub(crate) fn string(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub(crate) fn boolean(v: &Value, name: &str) -> Option<bool> {
    v.get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_bool)
}

pub(crate) fn string_map(v: &Value, name: &str) -> Option<BTreeMap<String, String>> {
    let m = v.get_attr(name)?;
    if m.is_null() || !m.is_known() {
        return None;
    }
    Some(
        m.as_entries()?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
    )
}

/// The single object of the `metadata` block.
pub(crate) fn metadata(v: &Value) -> Value {
    v.get_attr("metadata")
        .and_then(Value::as_elements)
        .and_then(|items| items.first())
        .cloned()
        .unwrap_or_else(Value::null_dynamic)
}

/// The object metadata a configuration asks for.
pub(crate) fn object_meta(config: &Value, namespaced: bool) -> ObjectMeta {
    let m = metadata(config);
    ObjectMeta {
        name: string(&m, "name").filter(|s| !s.is_empty()),
        generate_name: string(&m, "generate_name").filter(|s| !s.is_empty()),
        namespace: if namespaced {
            Some(string(&m, "namespace").unwrap_or_else(|| "default".into()))
        } else {
            None
        },
        labels: string_map(&m, "labels").filter(|m| !m.is_empty()),
        annotations: string_map(&m, "annotations").filter(|m| !m.is_empty()),
        ..ObjectMeta::default()
    }
}

/// Whether a label or annotation key belongs to Kubernetes itself
/// (`kubernetes.io/…`, `*.k8s.io/…`), which the provider hides unless the
/// configuration sets it.
fn is_internal_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((domain, _)) => {
            domain == "kubernetes.io"
                || domain.ends_with(".kubernetes.io")
                || domain == "k8s.io"
                || domain.ends_with(".k8s.io")
        }
        None => false,
    }
}

fn visible_map(
    m: &Option<BTreeMap<String, String>>,
    configured: Option<BTreeMap<String, String>>,
) -> Json {
    let configured = configured.unwrap_or_default();
    let kept: BTreeMap<&String, &String> = m
        .iter()
        .flatten()
        .filter(|(k, _)| !is_internal_key(k) || configured.contains_key(*k))
        .collect();
    if kept.is_empty() {
        Json::Null
    } else {
        json!(kept)
    }
}

/// The `metadata` block as the provider's Read stores it; `settings` is
/// the configuration or prior state whose labels and annotations decide
/// which internal keys to show.
pub(crate) fn metadata_state(meta: &ObjectMeta, namespaced: bool, settings: &Value) -> Json {
    let configured = metadata(settings);
    let mut m = json!({
        "annotations": visible_map(&meta.annotations, string_map(&configured, "annotations")),
        "generate_name": meta.generate_name.clone().unwrap_or_default(),
        "generation": meta.generation.unwrap_or(0),
        "labels": visible_map(&meta.labels, string_map(&configured, "labels")),
        "name": meta.name.clone().unwrap_or_default(),
        "resource_version": meta.resource_version.clone().unwrap_or_default(),
        "uid": meta.uid.clone().unwrap_or_default(),
    });
    if namespaced {
        m["namespace"] = json!(meta.namespace.clone().unwrap_or_else(|| "default".into()));
    }
    json!([m])
}

/// A configuration or prior value of a plain attribute as JSON (null when
/// unset or unknown).
pub(crate) fn attr_json(v: &Value, name: &str) -> Json {
    v.get_attr(name)
        .map(|a| a.clone().unmark_deep())
        .and_then(|a| a.to_json().ok())
        .unwrap_or(Json::Null)
}

/// Whether a value is what the SDK stores for an unset attribute.
fn is_zero(v: &Value) -> bool {
    match v.data() {
        Data::String(s) => s.is_empty(),
        Data::Bool(b) => !b,
        Data::Number(n) => n.is_zero(),
        Data::Map(_, m) => m.is_empty(),
        Data::List(_, l) | Data::Set(_, l) => l.is_empty(),
        _ => false,
    }
}

/// Keeps prior zero values where the plan has null: the SDK's diff sees no
/// change between an unset attribute and its zero value.
fn keep_zero_values(block: &Block, planned: &Value, prior: &Value) -> Value {
    let (Some(p), Some(s)) = (planned.as_entries(), prior.as_entries()) else {
        return planned.clone();
    };
    let mut out = p.clone();
    for name in block.attributes.keys() {
        if let (Some(pv), Some(sv)) = (p.get(name), s.get(name)) {
            if pv.is_null() && !sv.is_null() && sv.is_known() && is_zero(sv) {
                out.insert(name.clone(), sv.clone());
            }
        }
    }
    for (name, nb) in &block.block_types {
        let (Some(pl), Some(sl)) = (
            p.get(name).and_then(Value::as_elements),
            s.get(name).and_then(Value::as_elements),
        ) else {
            continue;
        };
        let items: Vec<Value> = pl
            .iter()
            .enumerate()
            .map(|(i, item)| match sl.get(i) {
                Some(prior_item) => keep_zero_values(&nb.block, item, prior_item),
                None => item.clone(),
            })
            .collect();
        if let Some(Data::List(t, _)) = p.get(name).map(Value::data) {
            out.insert(name.clone(), Value::list(t.clone(), items));
        }
    }
    Value::object(out).with_marks_of([planned])
}

/// terraform-plugin-sdk/v2 planning: defaults, computed values unknown on
/// create and kept on update, zero values equal to unset.
pub(crate) fn sdk_plan(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> ResourcePlan {
    let plan = plan_from_schema(
        block,
        prior,
        proposed,
        config,
        PlanOptions {
            style: PlanStyle::Sdk,
            id_uses_state: true,
            block_changes_mark_computed: false,
        },
    );
    if prior.is_null() || proposed.is_null() {
        return plan;
    }
    let planned = keep_zero_values(block, &plan.planned, prior);
    let requires_replace = filter_requires_replace(prior, &planned, plan.requires_replace);
    ResourcePlan {
        planned,
        requires_replace,
    }
}

/// The timeout the `timeouts` block sets for `operation` (Go duration
/// text such as `"10m"` or `"1h30m"`), else `default`.
pub(crate) fn timeout(
    settings: &Value,
    operation: &str,
    default: std::time::Duration,
) -> std::time::Duration {
    // A single block (SDK resources) or a list of at most one
    // (`kubernetes_manifest`).
    let block = settings
        .get_attr("timeouts")
        .filter(|t| !t.is_null() && t.is_known())
        .map(|t| match t.as_elements() {
            Some(items) => items.first().cloned().unwrap_or_else(Value::null_dynamic),
            None => t.clone(),
        });
    block
        .and_then(|t| string(&t, operation))
        .and_then(|text| humantime::parse_duration(&text).ok())
        .unwrap_or(default)
}

/// The private data the SDK stores for configured timeouts: the resource's
/// default timeouts in nanoseconds under the SDK's timeouts key.
pub(crate) fn timeouts_private(defaults: &[(&str, u64)]) -> Vec<u8> {
    let mut inner = serde_json::Map::new();
    for (name, secs) in defaults {
        inner.insert((*name).to_string(), json!(secs * 1_000_000_000));
    }
    json!({ "e2bfb730-ecaa-11e6-8f88-34363bc7c4c0": inner })
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use meshform_lang::{Type, Value};

    use super::timeout;

    fn check(timeouts: Option<&str>, expected: Duration) {
        let t = Type::object([("delete".to_string(), Type::String)]);
        let block = match timeouts {
            Some(text) => Value::object([("delete".to_string(), Value::string(text))].into()),
            None => Value::null(t),
        };
        let settings = Value::object([("timeouts".to_string(), block)].into());
        assert_eq!(
            timeout(&settings, "delete", Duration::from_secs(300)),
            expected,
            "{timeouts:?}"
        );
    }

    #[test]
    fn timeouts_read_go_durations_with_defaults() {
        check(Some("10m"), Duration::from_secs(600));
        check(Some("1h30m"), Duration::from_secs(5400));
        check(Some("45s"), Duration::from_secs(45));
        check(None, Duration::from_secs(300));
        check(Some("soon"), Duration::from_secs(300));
    }
}

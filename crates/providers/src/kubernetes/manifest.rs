//! `kubernetes_manifest`: any object, custom resources included, applied
//! with server-side apply as a `DynamicObject`. The API resource (plural,
//! scope) is found by discovery from `apiVersion` and `kind`.
//!
//! `object` holds the live object restricted to the fields the manifest
//! sets, so a field changed in the cluster shows as a difference between
//! `manifest` and `object` and plans an update. Changing `apiVersion`,
//! `kind`, name or namespace replaces the object.

use std::time::Duration;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{pinned_kind, Scope};
use meshform_lang::schema::Block;
use meshform_lang::{Diagnostic, Diagnostics, PathStep, Type, Value};
use serde_json::{json, Value as Json};

use super::values::attr_json;
use super::{api_error, is_not_found};
use crate::planning::ResourcePlan;

/// Identity of a manifest: what cannot change without replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

fn identity(manifest: &Json) -> Result<Identity, Diagnostics> {
    let text = |pointer: &str| {
        manifest
            .pointer(pointer)
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let missing = |what: &str| -> Diagnostics {
        Diagnostic::error("Invalid manifest", format!("The manifest must set {what}.")).into()
    };
    Ok(Identity {
        api_version: text("/apiVersion").ok_or_else(|| missing("apiVersion"))?,
        kind: text("/kind").ok_or_else(|| missing("kind"))?,
        name: text("/metadata/name").ok_or_else(|| missing("metadata.name"))?,
        namespace: text("/metadata/namespace"),
    })
}

fn manifest_json(v: &Value) -> Option<Json> {
    v.get_attr("manifest")
        .map(|m| m.clone().unmark_deep())
        .filter(|m| m.is_wholly_known() && !m.is_null())
        .and_then(|m| m.to_json().ok())
}

/// The live object restricted to the shape of the manifest.
pub fn project(live: &Json, shape: &Json) -> Json {
    match (live, shape) {
        (Json::Object(l), Json::Object(s)) => Json::Object(
            s.iter()
                .map(|(k, sv)| {
                    (
                        k.clone(),
                        l.get(k).map(|lv| project(lv, sv)).unwrap_or(Json::Null),
                    )
                })
                .collect(),
        ),
        (Json::Array(l), Json::Array(s)) => Json::Array(
            s.iter()
                .enumerate()
                .map(|(i, sv)| l.get(i).map(|lv| project(lv, sv)).unwrap_or(Json::Null))
                .collect(),
        ),
        _ => live.clone(),
    }
}

/// Plans a manifest: `object` is unknown when the object will be applied
/// (create, a changed manifest, or drift in the cluster) and kept
/// otherwise.
pub fn plan(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> ResourcePlan {
    let mut plan = super::values::sdk_plan(block, prior, proposed, config);
    if proposed.is_null() {
        return plan;
    }
    let new_manifest = manifest_json(&plan.planned);
    let old_manifest = manifest_json(prior);
    let prior_object = prior
        .get_attr("object")
        .and_then(|o| o.clone().unmark_deep().to_json().ok());
    let computed = computed_fields(config);
    let drifted = match (&new_manifest, &prior_object) {
        (Some(m), Some(o)) => {
            without_fields(&project(o, m), &computed) != without_fields(m, &computed)
        }
        _ => true,
    };
    let changed =
        prior.is_null() || new_manifest.is_none() || new_manifest != old_manifest || drifted;
    if changed {
        if let Some(entries) = plan.planned.as_entries() {
            let mut entries = entries.clone();
            entries.insert("object".into(), Value::unknown(Type::Dynamic));
            plan.planned = Value::object(entries).with_marks_of([&plan.planned]);
        }
    }
    if let (Some(new), Some(old)) = (&new_manifest, &old_manifest) {
        if let (Ok(a), Ok(b)) = (identity(new), identity(old)) {
            if a != b {
                plan.requires_replace = vec![vec![PathStep::Attr("manifest".into())]];
            }
        }
    }
    plan
}

/// Manifest fields the API server may change without it counting as
/// drift (`computed_fields`, by default labels and annotations).
fn computed_fields(config: &Value) -> Vec<String> {
    match config
        .get_attr("computed_fields")
        .and_then(Value::as_elements)
    {
        Some(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        None => vec!["metadata.annotations".into(), "metadata.labels".into()],
    }
}

/// A copy of `object` without the fields at the dotted `paths`.
fn without_fields(object: &Json, paths: &[String]) -> Json {
    let mut out = object.clone();
    for path in paths {
        let mut steps: Vec<&str> = path.split('.').collect();
        let Some(last) = steps.pop() else {
            continue;
        };
        let mut current = Some(&mut out);
        for step in steps {
            current = current.and_then(|c| c.get_mut(step));
        }
        if let Some(Json::Object(m)) = current {
            m.remove(last);
        }
    }
    out
}

fn field_manager(planned: &Value) -> (String, bool) {
    let fm = planned
        .get_attr("field_manager")
        .and_then(Value::as_elements)
        .and_then(|items| items.first());
    let name = fm
        .and_then(|f| f.get_attr("name"))
        .and_then(Value::as_str)
        .unwrap_or("Terraform")
        .to_string();
    let force = fm
        .and_then(|f| f.get_attr("force_conflicts"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (name, force)
}

async fn api_for(client: kube::Client, id: &Identity) -> Result<Api<DynamicObject>, Diagnostics> {
    let (group, version) = match id.api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), id.api_version.clone()),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, &id.kind);
    let (resource, caps): (ApiResource, _) = pinned_kind(&client, &gvk).await.map_err(|e| {
        api_error(
            "Discovering",
            &format!("{} {}", id.api_version, id.kind),
            &e,
        )
    })?;
    Ok(match caps.scope {
        Scope::Namespaced => Api::namespaced_with(
            client,
            id.namespace.as_deref().unwrap_or("default"),
            &resource,
        ),
        Scope::Cluster => Api::all_with(client, &resource),
    })
}

fn describe(id: &Identity) -> String {
    match &id.namespace {
        Some(ns) => format!("{} {ns}/{}", id.kind, id.name),
        None => format!("{} {}", id.kind, id.name),
    }
}

fn state_json(settings: &Value, manifest: &Json, live: &Json) -> Json {
    json!({
        "computed_fields": attr_json(settings, "computed_fields"),
        "field_manager": attr_json(settings, "field_manager"),
        "manifest": manifest,
        "object": project(live, manifest),
        "timeouts": attr_json(settings, "timeouts"),
        "wait": attr_json(settings, "wait"),
        "wait_for": attr_json(settings, "wait_for"),
    })
}

/// Applies the manifest with server-side apply.
pub async fn apply(client: kube::Client, planned: &Value) -> Result<Json, Diagnostics> {
    let manifest = manifest_json(planned).ok_or_else(|| -> Diagnostics {
        Diagnostic::error(
            "Invalid manifest",
            "The manifest is not known at apply time.",
        )
        .into()
    })?;
    let id = identity(&manifest)?;
    let api = api_for(client, &id).await?;
    let (manager, force) = field_manager(planned);
    let mut params = PatchParams::apply(&manager);
    if force {
        params = params.force();
    }
    let applied = api
        .patch(&id.name, &params, &Patch::Apply(&manifest))
        .await
        .map_err(|e| api_error("Applying", &describe(&id), &e))?;
    let mut live = serde_json::to_value(&applied).map_err(|e| -> Diagnostics {
        Diagnostic::error("Invalid object returned by the cluster", e.to_string()).into()
    })?;
    let waits = Waits::from_value(planned)?;
    if !waits.is_empty() {
        live = waits.wait(&api, &id, planned).await?;
    }
    Ok(state_json(planned, &manifest, &live))
}

/// What a `wait` block (or the deprecated `wait_for`) asks for after
/// applying.
struct Waits {
    rollout: bool,
    fields: Vec<(String, regex::Regex)>,
    conditions: Vec<(String, Option<String>)>,
}

impl Waits {
    fn from_value(planned: &Value) -> Result<Waits, Diagnostics> {
        let planned = planned.clone().unmark_deep();
        let wait = planned
            .get_attr("wait")
            .and_then(Value::as_elements)
            .and_then(|items| items.first())
            .cloned();
        let mut field_patterns = std::collections::BTreeMap::new();
        for source in [wait.as_ref(), planned.get_attr("wait_for")]
            .into_iter()
            .flatten()
        {
            if let Some(m) = super::values::string_map(source, "fields") {
                field_patterns.extend(m);
            }
        }
        let fields = field_patterns
            .into_iter()
            .map(|(path, pattern)| {
                regex::Regex::new(&pattern)
                    .map(|r| (path.clone(), r))
                    .map_err(|e| -> Diagnostics {
                        Diagnostic::error(
                            "Invalid wait condition",
                            format!("The pattern for field {path:?} is not a valid regular expression: {e}."),
                        )
                        .into()
                    })
            })
            .collect::<Result<_, _>>()?;
        let conditions = wait
            .as_ref()
            .and_then(|w| w.get_attr("condition"))
            .and_then(Value::as_elements)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| {
                Some((
                    super::values::string(c, "type")?,
                    super::values::string(c, "status"),
                ))
            })
            .collect();
        Ok(Waits {
            rollout: wait
                .as_ref()
                .and_then(|w| super::values::boolean(w, "rollout"))
                .unwrap_or(false),
            fields,
            conditions,
        })
    }

    fn is_empty(&self) -> bool {
        !self.rollout && self.fields.is_empty() && self.conditions.is_empty()
    }

    fn satisfied(&self, kind: &str, live: &Json) -> bool {
        (!self.rollout || super::readiness::is_ready(kind, live))
            && self.fields.iter().all(|(path, pattern)| {
                super::readiness::field(live, path)
                    .is_some_and(|v| pattern.is_match(&super::readiness::field_text(v)))
            })
            && self
                .conditions
                .iter()
                .all(|(t, s)| super::readiness::has_condition(live, t, s.as_deref()))
    }

    /// Polls the object until the conditions hold or the create timeout
    /// (ten minutes unless configured) passes; returns the last object.
    async fn wait(
        &self,
        api: &Api<DynamicObject>,
        id: &Identity,
        planned: &Value,
    ) -> Result<Json, Diagnostics> {
        let limit = super::values::timeout(planned, "create", Duration::from_secs(600));
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let live = api
                .get(&id.name)
                .await
                .map_err(|e| api_error("Waiting for", &describe(id), &e))
                .and_then(|o| {
                    serde_json::to_value(&o).map_err(|e| -> Diagnostics {
                        Diagnostic::error("Invalid object returned by the cluster", e.to_string())
                            .into()
                    })
                })?;
            if self.satisfied(&id.kind, &live) {
                return Ok(live);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Diagnostic::error(
                    "Operation timed out",
                    format!(
                        "{} did not meet its wait conditions within {}.",
                        describe(id),
                        humantime::format_duration(limit)
                    ),
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Fields the API server manages, left out of an imported manifest.
fn strip_server_fields(live: &Json) -> Json {
    let mut m = live.clone();
    if let Some(obj) = m.as_object_mut() {
        obj.remove("status");
        if let Some(md) = obj.get_mut("metadata").and_then(Json::as_object_mut) {
            for k in [
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "managedFields",
                "selfLink",
            ] {
                md.remove(k);
            }
        }
    }
    m
}

/// Reads the object; `None` when it is gone. A state without `object` (an
/// import) takes its manifest from the live object.
pub async fn read(client: kube::Client, state: &Value) -> Result<Option<Json>, Diagnostics> {
    let Some(manifest) = manifest_json(state) else {
        return Ok(None);
    };
    let id = identity(&manifest)?;
    let api = api_for(client, &id).await?;
    let live = match api.get(&id.name).await {
        Ok(o) => serde_json::to_value(&o).map_err(|e| -> Diagnostics {
            Diagnostic::error("Invalid object returned by the cluster", e.to_string()).into()
        })?,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(api_error("Reading", &describe(&id), &e)),
    };
    let importing = state.get_attr("object").is_none_or(Value::is_null);
    let manifest = if importing {
        strip_server_fields(&live)
    } else {
        manifest
    };
    Ok(Some(state_json(state, &manifest, &live)))
}

/// Deletes the object.
pub async fn delete(client: kube::Client, state: &Value) -> Result<(), Diagnostics> {
    let Some(manifest) = manifest_json(state) else {
        return Ok(());
    };
    let id = identity(&manifest)?;
    let api = api_for(client, &id).await?;
    match api.delete(&id.name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(api_error("Deleting", &describe(&id), &e)),
    }
}

/// The state an import starts from: `apiVersion=v1,kind=ConfigMap,namespace=ns,name=x`.
pub fn import_seed(id: &str) -> Result<Json, Diagnostics> {
    let mut parts = std::collections::BTreeMap::new();
    for pair in id.split(',') {
        if let Some((k, v)) = pair.split_once('=') {
            parts.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let (Some(api_version), Some(kind), Some(name)) = (
        parts.get("apiVersion"),
        parts.get("kind"),
        parts.get("name"),
    ) else {
        return Err(Diagnostic::error(
            "Unexpected format of ID",
            format!(
                "The import ID {id:?} must have the form apiVersion=<v>,kind=<k>[,namespace=<ns>],name=<n>."
            ),
        )
        .into());
    };
    let mut metadata = json!({ "name": name });
    if let Some(ns) = parts.get("namespace") {
        metadata["namespace"] = json!(ns);
    }
    Ok(json!({
        "manifest": { "apiVersion": api_version, "kind": kind, "metadata": metadata },
    }))
}

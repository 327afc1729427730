//! The `/scale` subresource of Deployments, ReplicaSets and StatefulSets:
//! an `autoscaling/v1` Scale read from and written into the object.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::*;

/// Whether objects of `ty` have a `/scale` subresource.
pub fn scalable(ty: &ResourceType) -> bool {
    ty.group == "apps"
        && matches!(
            ty.kind.as_str(),
            "Deployment" | "ReplicaSet" | "StatefulSet"
        )
}

/// The label selector of a workload as the text Scale carries.
fn selector_text(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match expression["operator"].as_str() {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("DoesNotExist") => format!("!{key}"),
            _ => key.to_string(),
        });
    }
    parts.join(",")
}

/// The Scale of a workload object.
pub fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_text(&object["spec"]["selector"]),
        },
    })
}

impl Call<'_> {
    /// GET, PUT or PATCH of `<object>/scale`.
    pub(super) fn scale(
        &self,
        method: &str,
        name: &str,
        body: &Bytes,
    ) -> Result<Response, Failure> {
        if !scalable(self.ty) {
            return Err(not_found_path());
        }
        if method == "GET" {
            let object = self.world.store.tx(|t| self.load(t, name))?;
            return Ok(ok(scale_of(&object)));
        }
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let patch = parse_body(body, content_type == "application/apply-patch+yaml")?;
        let updated = self.world.store.tx(|t| {
            let current = self.load(t, name)?;
            let mut scale = scale_of(&current);
            match (method, content_type.as_str()) {
                ("PUT", _) => {
                    if patch["kind"].as_str().is_some_and(|k| k != "Scale") {
                        return Err(Failure::bad_request(
                            "the body of a /scale request must be an autoscaling/v1 Scale",
                        ));
                    }
                    if let Some(rv) = patch["metadata"]["resourceVersion"].as_str() {
                        scale["metadata"]["resourceVersion"] = json!(rv);
                    }
                    scale["spec"] = patch["spec"].clone();
                }
                (_, "application/json-patch+json") => {
                    let ops: json_patch::Patch = serde_json::from_value(patch)
                        .map_err(|e| Failure::bad_request(format!("invalid JSON patch: {e}")))?;
                    json_patch::patch(&mut scale, &ops).map_err(|e| {
                        Failure::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "Invalid",
                            format!("the JSON patch could not be applied: {e}"),
                        )
                    })?;
                }
                _ => json_patch::merge(&mut scale, &patch),
            }
            let replicas = match &scale["spec"]["replicas"] {
                Value::Null => 0,
                v => v.as_i64().filter(|r| *r >= 0).ok_or_else(|| {
                    Failure::invalid(
                        self.ty,
                        name,
                        "spec.replicas",
                        "must be greater than or equal to 0",
                    )
                })?,
            };
            let mut next = current.clone();
            next["spec"]["replicas"] = json!(replicas);
            next["metadata"]["resourceVersion"] = scale["metadata"]["resourceVersion"].clone();
            self.replace(t, &current, next, false)
        })?;
        Ok(ok(scale_of(&updated)))
    }
}

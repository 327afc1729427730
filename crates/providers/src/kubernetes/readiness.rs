//! When a workload counts as ready, as Helm's `--wait` and the
//! kubernetes provider's `wait { rollout = true }` judge it from the
//! object's status, and the `wait { fields, condition }` checks of
//! `kubernetes_manifest`.

use serde_json::Value as Json;

/// Whether `kind` is one whose readiness is waited for (Jobs only when
/// `jobs` is set).
pub fn is_waited_for(kind: &str, jobs: bool) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet") || (kind == "Job" && jobs)
}

/// Whether a live object of `kind` reports itself ready.
pub fn is_ready(kind: &str, live: &Json) -> bool {
    let int = |p: &str| live.pointer(p).and_then(Json::as_i64).unwrap_or(0);
    match kind {
        "Deployment" | "StatefulSet" => {
            let want = live
                .pointer("/spec/replicas")
                .and_then(Json::as_i64)
                .unwrap_or(1);
            int("/status/readyReplicas") >= want
        }
        "DaemonSet" => int("/status/numberReady") >= int("/status/desiredNumberScheduled"),
        "Job" => int("/status/succeeded") >= 1,
        _ => true,
    }
}

/// The value at a field path such as `status.containerStatuses[0].ready`
/// or `metadata.annotations["example.com/x"]`.
pub fn field<'a>(object: &'a Json, path: &str) -> Option<&'a Json> {
    let mut current = object;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(after) = rest.strip_prefix("[\"") {
            let end = after.find("\"]")?;
            current = current.get(&after[..end])?;
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            current = current.get(after[..end].parse::<usize>().ok()?)?;
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            current = current.get(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    Some(current)
}

/// A field's value as text for matching (strings bare, others as JSON).
pub fn field_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `status.conditions` holds a condition of `type_` whose status
/// is `status` (any status when `None`).
pub fn has_condition(live: &Json, type_: &str, status: Option<&str>) -> bool {
    live.pointer("/status/conditions")
        .and_then(Json::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                c.get("type").and_then(Json::as_str) == Some(type_)
                    && status.is_none_or(|s| c.get("status").and_then(Json::as_str) == Some(s))
            })
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn field_paths_reach_nested_values() {
        let o = json!({"status": {"containerStatuses": [{"ready": true}], "phase": "Running"},
                       "metadata": {"annotations": {"example.com/x": "1"}}});
        let check =
            |path: &str, want: Option<Json>| assert_eq!(field(&o, path).cloned(), want, "{path}");
        check("status.phase", Some(json!("Running")));
        check("status.containerStatuses[0].ready", Some(json!(true)));
        check("metadata.annotations[\"example.com/x\"]", Some(json!("1")));
        check("status.containerStatuses[1].ready", None);
        check("spec", None);
    }

    #[test]
    fn readiness_follows_status() {
        assert!(!is_ready(
            "Deployment",
            &json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 1}})
        ));
        assert!(is_ready(
            "Deployment",
            &json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 2}})
        ));
        assert!(is_ready("Job", &json!({"status": {"succeeded": 1}})));
        assert!(is_ready("ConfigMap", &json!({})));
        assert!(has_condition(
            &json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            "Ready",
            Some("True")
        ));
        assert!(!has_condition(
            &json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
            "Ready",
            Some("True")
        ));
    }
}

//! Strategic merge patch (with the merge keys of the built-in kinds) and a
//! field-ownership approximation of server-side apply.
//!
//! Hand-written: no maintained Rust crate implements Kubernetes' strategic
//! merge; JSON merge patch and JSON patch come from `json-patch`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

/// The merge key of a list field, judged by its name and its items.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let has = |key: &str| items.iter().all(|i| i.get(key).is_some()) && !items.is_empty();
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        _ => None,
    }
}

/// Lists of scalars merged as sets.
fn is_set_list(field: &str) -> bool {
    matches!(field, "finalizers")
}

/// Applies a strategic merge patch to `target`.
pub fn strategic_merge(target: &Value, patch: &Value) -> Value {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut out = p.clone();
                out.remove("$patch");
                return Value::Object(out);
            }
            let mut out = t.clone();
            if let Some(Value::Array(retain)) = p.get("$retainKeys") {
                let keep: BTreeSet<&str> = retain.iter().filter_map(Value::as_str).collect();
                out.retain(|k, _| keep.contains(k.as_str()));
            }
            for (key, value) in p {
                if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(list)), Value::Array(remove)) =
                        (out.get_mut(field), value)
                    {
                        list.retain(|v| !remove.contains(v));
                    }
                    continue;
                }
                if key.starts_with('$') {
                    continue;
                }
                if value.is_null() {
                    out.remove(key);
                    continue;
                }
                let merged = match (out.get(key), value) {
                    (Some(current @ Value::Object(_)), Value::Object(_)) => {
                        strategic_merge(current, value)
                    }
                    (Some(Value::Array(current)), Value::Array(items)) => {
                        merge_list(key, current, items)
                    }
                    (_, Value::Object(_)) => strategic_merge(&json!({}), value),
                    (_, Value::Array(items)) => merge_list(key, &[], items),
                    _ => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (_, Value::Object(_)) => strategic_merge(&json!({}), patch),
        _ => patch.clone(),
    }
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn merge_list(field: &str, current: &[Value], patch: &[Value]) -> Value {
    if patch
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Value::Array(
            patch
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .map(strip_directives)
                .collect(),
        );
    }
    if is_set_list(field) {
        let mut out = current.to_vec();
        for item in patch {
            if !out.contains(item) {
                out.push(item.clone());
            }
        }
        return Value::Array(out);
    }
    let Some(key) = merge_key(field, patch).or_else(|| merge_key(field, current)) else {
        return Value::Array(patch.iter().map(strip_directives).collect());
    };
    let mut out = current.to_vec();
    for item in patch {
        let id = item.get(key);
        let position = out.iter().position(|c| c.get(key) == id && id.is_some());
        if item.get("$patch").and_then(Value::as_str) == Some("delete") {
            out.retain(|c| c.get(key) != id);
            continue;
        }
        match position {
            Some(i) => out[i] = strategic_merge(&out[i], item),
            None => out.push(strip_directives(item)),
        }
    }
    Value::Array(out)
}

/// One step of a field path: an object key, or a keyed list item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Field(String),
    Item(String),
}

/// Every leaf path an applied configuration sets (lists without a merge key
/// count as one leaf).
pub fn field_paths(value: &Value) -> BTreeSet<Vec<Step>> {
    let mut out = BTreeSet::new();
    collect(value, &mut Vec::new(), &mut out);
    out
}

fn collect(value: &Value, path: &mut Vec<Step>, out: &mut BTreeSet<Vec<Step>>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(Step::Field(k.clone()));
                if let (Value::Array(items), Some(key)) =
                    (v, merge_key(k, v.as_array().map_or(&[][..], |a| a)))
                {
                    out.insert(path.clone());
                    for item in items {
                        let id = item.get(key).map(|v| v.to_string()).unwrap_or_default();
                        path.push(Step::Item(format!("{{\"{key}\":{id}}}")));
                        collect(item, path, out);
                        path.pop();
                    }
                } else {
                    collect(v, path, out);
                }
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The `fieldsV1` tree of a set of paths (`f:` for keys, `k:` for items).
pub fn fields_v1(paths: &BTreeSet<Vec<Step>>) -> Value {
    fn insert(node: &mut Map<String, Value>, path: &[Step]) {
        let Some((first, rest)) = path.split_first() else {
            node.insert(".".into(), json!({}));
            return;
        };
        let key = match first {
            Step::Field(f) => format!("f:{f}"),
            Step::Item(k) => format!("k:{k}"),
        };
        if let Value::Object(child) = node.entry(key).or_insert_with(|| json!({})) {
            insert(child, rest);
        }
    }
    /// A node that is only "." is written as `{}`, as Kubernetes does.
    fn tidy(node: &mut Map<String, Value>) {
        if node.len() == 1 && node.contains_key(".") {
            node.clear();
        }
        for child in node.values_mut() {
            if let Value::Object(map) = child {
                tidy(map);
            }
        }
    }
    let mut root = Map::new();
    for path in paths {
        insert(&mut root, path);
    }
    tidy(&mut root);
    Value::Object(root)
}

/// Reads a `fieldsV1` tree back into paths.
pub fn paths_of_fields_v1(fields: &Value) -> BTreeSet<Vec<Step>> {
    let mut out = BTreeSet::new();
    fn walk(node: &Value, path: &mut Vec<Step>, out: &mut BTreeSet<Vec<Step>>) {
        let Some(map) = node.as_object() else { return };
        let leaf = map.keys().all(|k| k == ".");
        if (leaf || map.contains_key(".")) && !path.is_empty() {
            out.insert(path.clone());
        }
        for (k, v) in map {
            let step = if let Some(f) = k.strip_prefix("f:") {
                Step::Field(f.to_string())
            } else if let Some(i) = k.strip_prefix("k:") {
                Step::Item(i.to_string())
            } else {
                continue;
            };
            path.push(step);
            walk(v, path, out);
            path.pop();
        }
    }
    walk(fields, &mut Vec::new(), &mut out);
    out
}

/// The value at a path, if the object has one.
pub fn value_at<'a>(target: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(target);
    };
    let child = match first {
        Step::Field(f) => target.get(f)?,
        Step::Item(k) => {
            let Ok(Value::Object(key)) = serde_json::from_str::<Value>(k) else {
                return None;
            };
            target
                .as_array()?
                .iter()
                .find(|item| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))?
        }
    };
    value_at(child, rest)
}

/// A path as Kubernetes prints it in conflict messages (`.data.a`).
pub fn display(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Field(f) => format!(".{f}"),
            Step::Item(k) => format!("[{k}]"),
        })
        .collect()
}

/// Removes one path from an object (a keyed item by its key value).
pub fn remove_path(target: &mut Value, path: &[Step]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match first {
        Step::Field(f) => {
            let Some(map) = target.as_object_mut() else {
                return;
            };
            if rest.is_empty() {
                map.remove(f);
            } else if let Some(child) = map.get_mut(f) {
                remove_path(child, rest);
                if child.as_object().is_some_and(Map::is_empty) {
                    map.remove(f);
                }
            }
        }
        Step::Item(k) => {
            let Some(items) = target.as_array_mut() else {
                return;
            };
            let Ok(Value::Object(key)) = serde_json::from_str::<Value>(k) else {
                return;
            };
            let matches = |item: &Value| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv));
            if rest.is_empty() {
                items.retain(|i| !matches(i));
            } else if let Some(item) = items.iter_mut().find(|i| matches(i)) {
                remove_path(item, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: Value, patch: Value, expected: Value) {
        assert_eq!(strategic_merge(&target, &patch), expected);
    }

    #[test]
    fn containers_merge_by_name() {
        check(
            json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}),
            json!({"containers": [{"name": "b", "image": "2"}, {"name": "c", "image": "3"}]}),
            json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c", "image": "3"}]}),
        );
    }

    #[test]
    fn delete_and_replace_directives() {
        check(
            json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
            json!({"env": [{"name": "A", "$patch": "delete"}]}),
            json!({"env": [{"name": "B", "value": "2"}]}),
        );
        check(
            json!({"spec": {"a": 1, "b": 2}}),
            json!({"spec": {"$patch": "replace", "c": 3}}),
            json!({"spec": {"c": 3}}),
        );
    }

    #[test]
    fn nulls_remove_and_unkeyed_lists_replace() {
        check(
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "args": ["x"]}),
            json!({"metadata": {"labels": {"a": null}}, "args": ["y"]}),
            json!({"metadata": {"labels": {"b": "2"}}, "args": ["y"]}),
        );
    }

    #[test]
    fn fields_v1_round_trips_and_removes_keyed_items() {
        let applied = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        let paths = field_paths(&applied);
        assert_eq!(paths_of_fields_v1(&fields_v1(&paths)), paths);
        let mut object = applied.clone();
        remove_path(
            &mut object,
            &[
                Step::Field("spec".into()),
                Step::Field("containers".into()),
                Step::Item("{\"name\":\"c\"}".into()),
            ],
        );
        assert_eq!(object["spec"]["containers"], json!([]));
    }
}

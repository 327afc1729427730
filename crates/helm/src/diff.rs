//! Object-by-object differences between two release manifests (what an
//! upgrade would change), with Secret contents masked. Pure data: rendering
//! it is the caller's business.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::HelmError;
use crate::manifest::split_documents;

/// What identifies an object in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// How one object changes.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectChange {
    Added {
        key: ObjectKey,
        object: Value,
    },
    Removed {
        key: ObjectKey,
        object: Value,
    },
    Changed {
        key: ObjectKey,
        fields: Vec<FieldChange>,
    },
}

impl ObjectChange {
    pub fn key(&self) -> &ObjectKey {
        match self {
            ObjectChange::Added { key, .. }
            | ObjectChange::Removed { key, .. }
            | ObjectChange::Changed { key, .. } => key,
        }
    }
}

/// One changed leaf (or subtree that changed type), by dotted path
/// (`spec.template.spec.containers[0].image`). `None` is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The marker that replaces Secret values.
pub const SENSITIVE: &str = "(sensitive value)";

/// Parses a manifest (`---`-separated documents) into objects by key, with
/// Secret `data`/`stringData` values masked. `default_namespace` fills
/// objects that name none.
pub fn manifest_objects(
    manifest: &str,
    default_namespace: &str,
) -> Result<BTreeMap<ObjectKey, Value>, HelmError> {
    let mut out = BTreeMap::new();
    for doc in split_documents(manifest) {
        let source = doc
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# Source: "))
            .unwrap_or("manifest")
            .to_string();
        let mut object = crate::yaml::parse(&doc).map_err(|message| HelmError::Manifest {
            template: source,
            message,
        })?;
        if !object.is_object() {
            continue;
        }
        let text = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let mut namespace = text("/metadata/namespace");
        if namespace.is_empty() {
            namespace = default_namespace.to_string();
        }
        let key = ObjectKey {
            api_version: text("/apiVersion"),
            kind: text("/kind"),
            namespace,
            name: text("/metadata/name"),
        };
        if key.kind == "Secret" {
            mask_secret(&mut object);
        }
        out.insert(key, object);
    }
    Ok(out)
}

fn mask_secret(object: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(m)) = object.get_mut(field) {
            for v in m.values_mut() {
                *v = Value::String(SENSITIVE.into());
            }
        }
    }
}

/// The changes from `before` to `after` (two release manifests), sorted by
/// object key.
pub fn diff_manifests(
    before: &str,
    after: &str,
    namespace: &str,
) -> Result<Vec<ObjectChange>, HelmError> {
    let old = manifest_objects(before, namespace)?;
    let new = manifest_objects(after, namespace)?;
    let mut keys: Vec<&ObjectKey> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (None, Some(o)) => out.push(ObjectChange::Added {
                key: key.clone(),
                object: o.clone(),
            }),
            (Some(o), None) => out.push(ObjectChange::Removed {
                key: key.clone(),
                object: o.clone(),
            }),
            (Some(a), Some(b)) => {
                let mut fields = Vec::new();
                diff_values("", Some(a), Some(b), &mut fields);
                if !fields.is_empty() {
                    out.push(ObjectChange::Changed {
                        key: key.clone(),
                        fields,
                    });
                }
            }
            (None, None) => {}
        }
    }
    Ok(out)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn diff_values(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff_values(&join(path, k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                diff_values(&format!("{path}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        (x, y) if x == y => {}
        (x, y) => out.push(FieldChange {
            path: path.to_string(),
            before: x.cloned(),
            after: y.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_are_listed_per_object_and_field() {
        let before = "---\n# Source: c/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"1\"\n  w: \"2\"\n---\n# Source: c/b.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: gone\n";
        let after = "---\n# Source: c/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"3\"\n  z: [1]\n---\n# Source: c/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: other\ndata:\n  password: c2VjcmV0\n";
        let changes = diff_manifests(before, after, "ns").unwrap();
        assert_eq!(changes.len(), 3);
        let ObjectChange::Changed { key, fields } = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(
            (key.kind.as_str(), key.namespace.as_str(), key.name.as_str()),
            ("ConfigMap", "ns", "a")
        );
        assert_eq!(
            fields,
            &vec![
                FieldChange {
                    path: "data.w".into(),
                    before: Some(json!("2")),
                    after: None
                },
                FieldChange {
                    path: "data.x".into(),
                    before: Some(json!("1")),
                    after: Some(json!("3"))
                },
                FieldChange {
                    path: "data.z".into(),
                    before: None,
                    after: Some(json!([1]))
                },
            ]
        );
        let ObjectChange::Added { object, key } = &changes[1] else {
            panic!("{changes:?}")
        };
        assert_eq!(key.namespace, "other");
        assert_eq!(object["data"]["password"], SENSITIVE);
        assert!(matches!(&changes[2], ObjectChange::Removed { key, .. } if key.name == "gone"));
    }

    #[test]
    fn identical_manifests_have_no_changes() {
        let m = "---\n# Source: c/a.yaml\nkind: ConfigMap\nmetadata:\n  name: a\n";
        assert!(diff_manifests(m, m, "ns").unwrap().is_empty());
    }
}

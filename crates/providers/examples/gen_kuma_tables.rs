//! Generates `crates/providers/src/kuma/policies.json`, compact validation
//! tables of every Kuma 2.9.3 policy `spec`, from the policy schemas in
//! `shared/reference/kuma/2.9.3/policy-schemas/` and the Terraform names
//! in `shared/reference/konnect/tf-schemas/konnect-beta-v0.1.0.tf-to-json-mapping.json`.
//!
//! Run by hand after the reference data changes:
//! `cargo run -p meshform-providers --example gen_kuma_tables [SHARED_DIR]`
//!
//! Table format: `{"policies": [{"kind", "resource", "spec": node}]}`, one
//! policy per line, where a node is an object with
//! - `t`: `object`, `array`, `string`, `integer`, `number`, `boolean`,
//!   `int-or-string` or `any`;
//! - objects: `fields` (`{jsonName: [tfName, node]}`), `required`
//!   (JSON names), `values` (the node of every value of a map-like object);
//! - arrays: `items`, `min_items`, `max_items`;
//! - scalars: `enum`, `min`, `max`, `min_len`, `max_len`, `pattern`.
//!
//! Descriptions, defaults and Kubernetes list annotations are left out:
//! they do not decide whether a spec is valid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

fn main() {
    if let Err(e) = run() {
        eprintln!("gen_kuma_tables: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("MESHFORM_SHARED").map(PathBuf::from))
        .unwrap_or_else(|| root.join("../../../shared"));
    let mapping_path =
        shared.join("reference/konnect/tf-schemas/konnect-beta-v0.1.0.tf-to-json-mapping.json");
    let mapping: Value = serde_json::from_str(
        &std::fs::read_to_string(&mapping_path)
            .map_err(|e| format!("{}: {e}", mapping_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", mapping_path.display()))?;
    let dir = shared.join("reference/kuma/2.9.3/policy-schemas");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".schema.yaml"))
        .collect();
    files.sort();

    let mut lines = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let doc: Value =
            serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let kind = doc["properties"]["type"]["enum"][0]
            .as_str()
            .ok_or_else(|| format!("{}: no policy type", file.display()))?
            .to_owned();
        let (resource, names) = terraform_names(&mapping, &kind)
            .ok_or_else(|| format!("{kind}: no Terraform resource in the mapping"))?;
        let spec = node(&doc["properties"]["spec"], "spec", &names);
        lines.push(json!({"kind": kind, "resource": resource, "spec": spec}).to_string());
    }
    let body = format!(
        "{{\"generated_by\":\"crates/providers/examples/gen_kuma_tables.rs\",\"kuma_version\":\"2.9.3\",\n\"policies\":[\n{}\n]}}\n",
        lines.join(",\n")
    );
    let target = root.join("src/kuma/policies.json");
    std::fs::write(&target, body).map_err(|e| format!("{}: {e}", target.display()))?;
    println!("wrote {} ({} policies)", target.display(), lines.len());
    Ok(())
}

/// The Terraform resource type of a Kuma kind and its JSON path → Terraform
/// attribute name table (`spec.from[].targetRef` → `target_ref`).
fn terraform_names(mapping: &Value, kind: &str) -> Option<(String, BTreeMap<String, String>)> {
    let item = format!("{kind}Item");
    let (resource, m) = mapping["mappings"]
        .as_object()?
        .iter()
        .find(|(_, m)| m["body_schema"].as_str() == Some(item.as_str()))?;
    let mut names = BTreeMap::new();
    for e in m["body"].as_array()? {
        if e.get("union_member").is_some() {
            continue;
        }
        let (Some(tf), Some(json)) = (e["tf"].as_str(), e["json"].as_str()) else {
            continue;
        };
        let tf_last = tf.rsplit('.').next().unwrap_or(tf);
        names.insert(json.to_owned(), tf_last.to_owned());
    }
    Some((resource.clone(), names))
}

/// snake_case of a camelCase JSON name, for members the Terraform schema
/// does not have.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

fn node(schema: &Value, path: &str, names: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    let any_of_int_string = schema["anyOf"].as_array().is_some_and(|alts| {
        alts.iter()
            .filter_map(|a| a["type"].as_str())
            .collect::<Vec<_>>()
            .len()
            == 2
    }) || schema["x-kubernetes-int-or-string"] == Value::Bool(true);
    let t = if any_of_int_string {
        "int-or-string"
    } else {
        match schema["type"].as_str() {
            Some("object") => "object",
            Some("array") => "array",
            Some("string") => "string",
            Some("integer") => "integer",
            Some("number") => "number",
            Some("boolean") => "boolean",
            _ if schema["properties"].is_object() => "object",
            _ => "any",
        }
    };
    out.insert("t".into(), json!(t));
    if let Some(props) = schema["properties"].as_object() {
        let mut fields = Map::new();
        for (name, child) in props {
            let child_path = format!("{path}.{name}");
            let tf = names
                .get(&child_path)
                .cloned()
                .unwrap_or_else(|| snake_case(name));
            fields.insert(name.clone(), json!([tf, node(child, &child_path, names)]));
        }
        out.insert("fields".into(), Value::Object(fields));
    }
    if let Some(req) = schema["required"].as_array() {
        out.insert("required".into(), Value::Array(req.clone()));
    }
    if schema["additionalProperties"].is_object() {
        out.insert(
            "values".into(),
            node(
                &schema["additionalProperties"],
                &format!("{path}{{}}"),
                names,
            ),
        );
    }
    if schema["items"].is_object() {
        out.insert(
            "items".into(),
            node(&schema["items"], &format!("{path}[]"), names),
        );
    }
    for (from, to) in [
        ("enum", "enum"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min_len"),
        ("maxLength", "max_len"),
        ("minItems", "min_items"),
        ("maxItems", "max_items"),
        ("pattern", "pattern"),
    ] {
        if let Some(v) = schema.get(from) {
            if !v.is_null() {
                out.insert(to.into(), v.clone());
            }
        }
    }
    Value::Object(out)
}

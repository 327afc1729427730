//! Generates `crates/providers/src/konnect/tables.json`, the compact
//! description of every Konnect resource meshform implements, from the
//! derived provider schema data in `shared/reference/konnect/tf-schemas/`.
//!
//! Run by hand after the reference data changes:
//! `cargo run -p meshform-providers --example gen_konnect_tables [SHARED_DIR]`
//!
//! Table format (one resource per entry, one attribute per line):
//! - `attrs`: `[path, type, flags, extras?]` in tree order, `path` dotted
//!   Terraform names; `type` is `string|number|bool|list(string)|
//!   list(number)|map(string)|object|list(object)` (the last two are nested
//!   attributes); `flags` has `R` required, `O` optional, `C` computed,
//!   `S` sensitive.
//! - `extras`: `replace` (`always`|`if_configured`), `usfu`
//!   (use-state-for-unknown), `nee` (null equals empty), `default`, `one_of`,
//!   `not_null` (must be set when its parent is), `json` (the JSON member
//!   name; `@name` for a URL path parameter; null for none), `union`
//!   (this object is a oneOf whose members sit at the parent's JSON path),
//!   `json_string` (a JSON-encoded string compared semantically), `checks`
//!   (length/size/range/regex/rfc3339/json validators), `elem` (plan
//!   behaviour of each element of a list of objects).
//! - `api`: the HTTP operations with their success statuses, from the
//!   Konnect contract; `import`: the import ID format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

const BETA: &str = "registry.terraform.io/kong/konnect-beta";
const GA: &str = "registry.terraform.io/kong/konnect";

fn main() {
    if let Err(e) = run() {
        eprintln!("gen_konnect_tables: {e}");
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
    let dir = shared.join("reference/konnect/tf-schemas");
    let beta = read(&dir.join("konnect-beta-v0.1.0.mesh-resources.json"))?;
    let ga = read(&dir.join("konnect-v2.4.1.system-account-resources.json"))?;
    let mapping = read(&dir.join("konnect-beta-v0.1.0.tf-to-json-mapping.json"))?;

    let mut out: Vec<String> = Vec::new();
    for (provider, version, doc) in [(BETA, "0.1.0", &beta), (GA, "2.4.1", &ga)] {
        let schemas = doc["resource_schemas"]
            .as_object()
            .ok_or("resource_schemas missing")?;
        for (rtype, schema) in schemas {
            if provider == BETA && !rtype.starts_with("konnect_mesh") {
                continue;
            }
            let json_names = json_names(&mapping["mappings"][rtype.as_str()]);
            let mut attrs = Vec::new();
            flatten(
                rtype,
                schema["attributes"]
                    .as_object()
                    .ok_or("attributes missing")?,
                "",
                &json_names,
                &mut attrs,
            );
            let head = json!({
                "type": rtype,
                "provider": provider,
                "version": version,
                "import": import_format(&schema["import"]),
                "api": api(rtype, &mapping["mappings"][rtype.as_str()])?,
            });
            let mut text = head.to_string();
            text.pop(); // reopen the object to append the attribute lines
            text.push_str(",\"attrs\":[\n");
            let lines: Vec<String> = attrs.iter().map(|a| format!("  {a}")).collect();
            text.push_str(&lines.join(",\n"));
            text.push_str("\n]}");
            out.push(text);
        }
    }
    let provider_config = json!([
        ["server_url", "string", "O", {}],
        ["personal_access_token", "string", "OS", {}],
        ["system_account_access_token", "string", "OS", {}],
        ["konnect_access_token", "string", "OS", {}],
    ]);
    let body = format!(
        "{{\"generated_by\":\"crates/providers/examples/gen_konnect_tables.rs\",\n\"provider_config\":{provider_config},\n\"resources\":[\n{}\n]}}\n",
        out.join(",\n")
    );
    let target = root.join("src/konnect/tables.json");
    serde_json::from_str::<Value>(&body).map_err(|e| format!("generated invalid JSON: {e}"))?;
    std::fs::write(&target, body).map_err(|e| format!("{}: {e}", target.display()))?;
    println!("wrote {} ({} resources)", target.display(), out.len());
    Ok(())
}

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Terraform path → (JSON member name or `@param` or null, union flag),
/// from the mapping's `body` (or `create_body` and `response` for the
/// control plane).
fn json_names(mapping: &Value) -> BTreeMap<String, (Value, bool)> {
    let mut out = BTreeMap::new();
    for key in ["body", "create_body", "response"] {
        let Some(entries) = mapping[key].as_array() else {
            continue;
        };
        for e in entries {
            let Some(tf) = e["tf"].as_str() else { continue };
            if out.contains_key(tf) && !e["json"].is_string() {
                continue;
            }
            let union = e["union"].as_bool().unwrap_or(false);
            let name = match &e["json"] {
                Value::String(j) if j.starts_with("PATH:{") => {
                    json!(format!(
                        "@{}",
                        j.trim_start_matches("PATH:{").trim_end_matches('}')
                    ))
                }
                // Union members carry their value at the parent's path.
                Value::String(_) if e.get("union_member").is_some() => Value::Null,
                Value::String(j) => json!(j
                    .rsplit('.')
                    .next()
                    .unwrap_or(j)
                    .trim_end_matches("[]")
                    .trim_end_matches("{}")),
                _ => Value::Null,
            };
            out.insert(tf.to_owned(), (name, union));
        }
    }
    out
}

/// JSON names of the Konnect (GA) identity resources, which the mapping
/// file does not cover: members are snake_case as in Terraform, except
/// path parameters and the team membership body.
fn ga_json_name(rtype: &str, path: &str) -> Value {
    match (rtype, path) {
        ("konnect_system_account_role" | "konnect_system_account_access_token", "account_id") => {
            json!("@accountId")
        }
        ("konnect_system_account_team", "team_id") => json!("@teamId"),
        ("konnect_system_account_team", "account_id") => json!("id"),
        ("konnect_system_account_role" | "konnect_system_account_access_token", "id")
        | ("konnect_system_account", "id") => json!("id"),
        _ => json!(path),
    }
}

fn flatten(
    rtype: &str,
    attrs: &Map<String, Value>,
    prefix: &str,
    json_names: &BTreeMap<String, (Value, bool)>,
    out: &mut Vec<Value>,
) {
    for (name, a) in attrs {
        let path = format!("{prefix}{name}");
        let ty = match (a["kind"].as_str().unwrap_or(""), a["element_type"].as_str()) {
            ("String", _) => "string",
            ("Int32" | "Int64" | "Number" | "Float64", _) => "number",
            ("Bool", _) => "bool",
            ("List", Some("Int64Type" | "Int32Type" | "NumberType")) => "list(number)",
            ("List", _) => "list(string)",
            ("Map", _) => "map(string)",
            ("SingleNested", _) => "object",
            ("ListNested", _) => "list(object)",
            (other, _) => panic!("{rtype}.{path}: unknown attribute kind {other}"),
        };
        let mut flags = String::new();
        for (key, letter) in [("required", 'R'), ("optional", 'O'), ("computed", 'C')] {
            if a[key].as_bool() == Some(true) {
                flags.push(letter);
            }
        }
        // The token is sensitive in meshform (as in the konnect provider
        // from 3.0.0 on): it must never reach plan output or logs.
        let sensitive = a["sensitive"].as_bool() == Some(true)
            || (rtype == "konnect_system_account_access_token" && path == "token");
        if sensitive {
            flags.push('S');
        }
        let mut extras = Map::new();
        if let Some(r) = a["requires_replace"].as_str() {
            extras.insert("replace".into(), json!(r));
        }
        if a["use_state_for_unknown"].as_bool() == Some(true) {
            extras.insert("usfu".into(), json!(true));
        }
        if a["null_equals_empty"].as_bool() == Some(true) {
            extras.insert("nee".into(), json!(true));
        }
        if let Some(d) = a.get("default") {
            extras.insert("default".into(), d.clone());
        }
        if let Some(one_of) = a.get("one_of") {
            extras.insert("one_of".into(), one_of.clone());
        }
        if a["not_null_when_parent_set"].as_bool() == Some(true) {
            extras.insert("not_null".into(), json!(true));
        }
        let modifiers = strings(&a["plan_modifiers"]);
        if modifiers.iter().any(|m| m == "ArbitraryJSONModifier") {
            extras.insert("json_string".into(), json!(true));
        }
        let checks: Vec<Value> = strings(&a["validators"])
            .iter()
            .filter_map(|v| check(v))
            .collect();
        if !checks.is_empty() {
            extras.insert("checks".into(), Value::Array(checks));
        }
        let element = &a["nested_object"];
        if element.is_object() {
            let mut elem = Map::new();
            let em = strings(&element["plan_modifiers"]);
            if em.iter().any(|m| m == "SuppressDiff") {
                elem.insert("usfu".into(), json!(true));
            }
            if em.iter().any(|m| m == "RequiresReplaceIfConfigured") {
                elem.insert("replace".into(), json!("if_configured"));
            }
            if strings(&element["validators"])
                .iter()
                .any(|v| v == "NotNull")
            {
                elem.insert("not_null".into(), json!(true));
            }
            if !elem.is_empty() {
                extras.insert("elem".into(), Value::Object(elem));
            }
        }
        if rtype.starts_with("konnect_mesh") {
            match json_names.get(&path) {
                Some((name, union)) => {
                    extras.insert("json".into(), name.clone());
                    if *union {
                        extras.insert("union".into(), json!(true));
                    }
                }
                None => {
                    extras.insert("json".into(), Value::Null);
                }
            }
        } else {
            extras.insert("json".into(), ga_json_name(rtype, &path));
        }
        out.push(json!([path, ty, flags, extras]));
        if let Some(children) = a["attributes"].as_object() {
            flatten(rtype, children, &format!("{path}."), json_names, out);
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A framework validator name, normalised in the reference data, as a
/// check of our own; `NotNull`, `OneOf` and `ConflictsWith` are carried by
/// other fields (`not_null`, `one_of`, `union`).
fn check(v: &str) -> Option<Value> {
    let args = |prefix: &str| -> Option<Vec<i64>> {
        let inner = v
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    if v == "IsRFC3339" {
        return Some(json!({"rfc3339": true}));
    }
    if v == "IsValidJSON" {
        return Some(json!({"json": true}));
    }
    if let Some(re) = v
        .strip_prefix("RegexMatches(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return Some(json!({ "regex": re }));
    }
    if let Some(a) = args("UTF8LengthBetween") {
        return Some(json!({"length": [a[0], a[1]]}));
    }
    if let Some(a) = args("UTF8LengthAtLeast") {
        return Some(json!({"length": [a[0], null]}));
    }
    if let Some(a) = args("UTF8LengthAtMost") {
        return Some(json!({"length": [0, a[0]]}));
    }
    if let Some(a) = args("SizeAtMost") {
        return Some(json!({"size": [0, a[0]]}));
    }
    if let Some(a) = args("SizeAtLeast") {
        return Some(json!({"size": [a[0], null]}));
    }
    if let Some(a) = args("Between") {
        return Some(json!({"range": [a[0], a[1]]}));
    }
    if let Some(a) = args("AtLeast") {
        return Some(json!({"range": [a[0], null]}));
    }
    match v {
        "NotNull" | "OneOf" | "ConflictsWith" => None,
        other => panic!("unknown validator {other}"),
    }
}

fn import_format(import: &Value) -> Value {
    if import["supported"].as_bool() != Some(true) {
        return json!({"supported": false});
    }
    match import["format"].as_str() {
        Some("json-object") => {
            json!({"supported": true, "format": "json", "fields": import["fields"]})
        }
        _ => json!({"supported": true, "format": "id", "sets": import["sets"]}),
    }
}

/// The HTTP operations of a resource, as the Konnect contract describes
/// them: method, path template and the statuses that mean success. `host`
/// is `mesh` (the regional `server_url`) or `identity` (the global host).
fn api(rtype: &str, mapping: &Value) -> Result<Value, String> {
    let op =
        |method: &str, path: &str, ok: &[u16]| json!({"method": method, "path": path, "ok": ok});
    let cp = "/v1/mesh/control-planes";
    let accounts = "/v3/system-accounts";
    Ok(match rtype {
        "konnect_mesh_control_plane" => json!({
            "host": "mesh",
            "create": op("POST", cp, &[201]),
            "read": op("GET", &format!("{cp}/{{cpId}}"), &[200]),
            // PUT replaces the label set, so removed labels really go away
            // (a PATCH would keep them).
            "update": op("PUT", &format!("{cp}/{{cpId}}"), &[200]),
            "delete": op("DELETE", &format!("{cp}/{{cpId}}"), &[204]),
            "id": {"cpId": "id"},
        }),
        "konnect_system_account" => json!({
            "host": "identity",
            "create": op("POST", accounts, &[201]),
            "read": op("GET", &format!("{accounts}/{{accountId}}"), &[200]),
            "update": op("PATCH", &format!("{accounts}/{{accountId}}"), &[200]),
            "delete": op("DELETE", &format!("{accounts}/{{accountId}}"), &[204]),
            "id": {"accountId": "id"},
        }),
        "konnect_system_account_role" => json!({
            "host": "identity",
            "create": op("POST", &format!("{accounts}/{{accountId}}/assigned-roles"), &[201]),
            "delete": op("DELETE", &format!("{accounts}/{{accountId}}/assigned-roles/{{roleId}}"), &[204]),
            "id": {"accountId": "account_id", "roleId": "id"},
        }),
        "konnect_system_account_access_token" => json!({
            "host": "identity",
            "create": op("POST", &format!("{accounts}/{{accountId}}/access-tokens"), &[201]),
            "read": op("GET", &format!("{accounts}/{{accountId}}/access-tokens/{{tokenId}}"), &[200]),
            "update": op("PATCH", &format!("{accounts}/{{accountId}}/access-tokens/{{tokenId}}"), &[200]),
            "delete": op("DELETE", &format!("{accounts}/{{accountId}}/access-tokens/{{tokenId}}"), &[204]),
            "id": {"accountId": "account_id", "tokenId": "id"},
        }),
        "konnect_system_account_team" => json!({
            "host": "identity",
            "create": op("POST", "/v3/teams/{teamId}/system-accounts", &[201]),
            "delete": op("DELETE", "/v3/teams/{teamId}/system-accounts/{accountId}", &[204]),
            "id": {"teamId": "team_id", "accountId": "account_id"},
        }),
        "konnect_mesh" => {
            let path = mapping["path"].as_str().ok_or("konnect_mesh has no path")?;
            json!({
                "host": "mesh",
                "kuma_type": "Mesh",
                "create": op("PUT", path, &[200, 201]),
                "read": op("GET", path, &[200]),
                "update": op("PUT", path, &[200, 201]),
                "delete": op("DELETE", path, &[200]),
                "id": {"cpId": "cp_id", "name": "name"},
            })
        }
        _ => {
            let path = mapping["path"]
                .as_str()
                .ok_or_else(|| format!("{rtype} has no path in the mapping"))?;
            let kuma_type = mapping["body_schema"]
                .as_str()
                .and_then(|s| s.strip_suffix("Item"))
                .ok_or_else(|| format!("{rtype} has no body schema"))?;
            let mut id = json!({"cpId": "cp_id", "name": "name"});
            if path.contains("{mesh}") {
                id["mesh"] = json!("mesh");
            }
            json!({
                "host": "mesh",
                "kuma_type": kuma_type,
                "create": op("PUT", path, &[201]),
                "read": op("GET", path, &[200]),
                "update": op("PUT", path, &[200]),
                "delete": op("DELETE", path, &[200]),
                "id": id,
            })
        }
    })
}

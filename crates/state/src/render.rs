//! Text renderings of state contents as Terraform prints them: `state show`
//! (a resource block with sensitive values hidden) and `output` (values in
//! Terraform's console syntax, `tolist([...])`, `tomap({...})`).
//!
//! These are plain strings; where they go is the caller's business.

use std::collections::BTreeMap;

use crate::json::{AttrPath, ExactJson, IndexStep, PathStep};
use crate::model::{InstanceStatus, OutputState, ResourceInstance};

/// The `state show` text of one object, ending with a newline.
///
/// Without the provider schema every top-level value is shown as an
/// attribute; null attributes are left out, as Terraform does.
pub fn render_instance(instance: &ResourceInstance) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}:", instance.addr));
    if let Some(deposed) = &instance.deposed {
        out.push_str(&format!(" (deposed object {deposed})"));
    }
    if instance.status == InstanceStatus::Tainted {
        out.push_str(" (tainted)");
    }
    out.push('\n');
    let keyword = match instance.addr.mode {
        crate::address::Mode::Managed => "resource",
        crate::address::Mode::Data => "data",
    };
    out.push_str(&format!(
        "{keyword} \"{}\" \"{}\" {{\n",
        instance.addr.type_name, instance.addr.name
    ));
    let sensitive = instance.all_sensitive_paths();
    let members = instance.attributes.object().unwrap_or_default();
    // Terraform lists attributes in name order (the schema's order).
    let mut shown: Vec<(&String, &ExactJson)> =
        members.iter().filter(|(_, v)| !v.is_null()).collect();
    shown.sort_by(|a, b| a.0.cmp(b.0));
    let width = shown
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (name, value) in shown {
        let path = AttrPath::attr(name);
        out.push_str(&format!(
            "    {name:<width$} = {}\n",
            show_value(value, &path, &sensitive, 4)
        ));
    }
    out.push_str("}\n");
    out
}

fn is_sensitive(path: &AttrPath, sensitive: &[AttrPath]) -> bool {
    sensitive.iter().any(|s| path.starts_with(s))
}

fn show_value(value: &ExactJson, path: &AttrPath, sensitive: &[AttrPath], indent: usize) -> String {
    if is_sensitive(path, sensitive) {
        return "(sensitive value)".to_owned();
    }
    let pad = " ".repeat(indent + 4);
    let close = " ".repeat(indent);
    if let Some(items) = value.array() {
        if items.is_empty() {
            return "[]".to_owned();
        }
        let mut out = String::from("[\n");
        for (i, item) in items.iter().enumerate() {
            let child = child_path(path, PathStep::Index(number_step(i)));
            out.push_str(&format!(
                "{pad}{},\n",
                show_value(item, &child, sensitive, indent + 4)
            ));
        }
        out.push_str(&close);
        out.push(']');
        return out;
    }
    if let Some(members) = value.object() {
        if members.is_empty() {
            return "{}".to_owned();
        }
        let keys: Vec<String> = members.keys().map(|k| quote(k)).collect();
        let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        let mut out = String::from("{\n");
        for ((key, item), quoted) in members.iter().zip(&keys) {
            let child = child_path(path, PathStep::Index(string_step(key)));
            out.push_str(&format!(
                "{pad}{quoted:<width$} = {}\n",
                show_value(item, &child, sensitive, indent + 4)
            ));
        }
        out.push_str(&close);
        out.push('}');
        return out;
    }
    if let Some(s) = value.as_string() {
        if s.contains('\n') {
            let mut out = String::from("<<-EOT\n");
            for line in s.strip_suffix('\n').unwrap_or(&s).split('\n') {
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
                out.push('\n');
            }
            out.push_str(&close);
            out.push_str("EOT");
            return out;
        }
        return quote(&s);
    }
    value.as_str().to_owned()
}

fn child_path(path: &AttrPath, step: PathStep) -> AttrPath {
    let mut steps = path.0.clone();
    steps.push(step);
    AttrPath(steps)
}

fn number_step(i: usize) -> IndexStep {
    IndexStep {
        value: serde_json::Value::from(i),
        key_type: serde_json::Value::from("number"),
    }
}

fn string_step(key: &str) -> IndexStep {
    IndexStep {
        value: serde_json::Value::from(key),
        key_type: serde_json::Value::from("string"),
    }
}

/// A string in HCL quotes, escaping what HCL needs escaped.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `output` without a name: one `name = value` line per output, sensitive
/// ones as `<sensitive>`.
pub fn render_outputs(outputs: &BTreeMap<String, OutputState>) -> String {
    let mut out = String::new();
    for (name, output) in outputs {
        if output.sensitive {
            out.push_str(&format!("{name} = <sensitive>\n"));
        } else {
            out.push_str(&format!(
                "{name} = {}\n",
                format_value(&output.value, &output.type_json, 0)
            ));
        }
    }
    out
}

/// A value in Terraform's console syntax, guided by its cty JSON type.
pub fn format_value(value: &ExactJson, type_json: &serde_json::Value, indent: usize) -> String {
    if value.is_null() {
        return "null".to_owned();
    }
    let kind = match type_json {
        serde_json::Value::Array(parts) => parts.first().and_then(|k| k.as_str()).unwrap_or(""),
        serde_json::Value::String(s) => s.as_str(),
        _ => "",
    };
    let element = |i: usize| -> serde_json::Value {
        match type_json {
            serde_json::Value::Array(parts) => match (kind, parts.get(1)) {
                ("tuple", Some(serde_json::Value::Array(items))) => {
                    items.get(i).cloned().unwrap_or(serde_json::Value::Null)
                }
                (_, Some(t)) => t.clone(),
                _ => serde_json::Value::Null,
            },
            _ => serde_json::Value::Null,
        }
    };
    match kind {
        "list" | "set" | "tuple" => {
            let items = value.array().unwrap_or_default();
            let mut body = String::from("[");
            for (i, item) in items.iter().enumerate() {
                body.push('\n');
                body.push_str(&" ".repeat(indent + 2));
                body.push_str(&format_value(item, &element(i), indent + 2));
                body.push(',');
            }
            if !items.is_empty() {
                body.push('\n');
                body.push_str(&" ".repeat(indent));
            }
            body.push(']');
            match kind {
                "list" => format!("tolist({body})"),
                "set" => format!("toset({body})"),
                _ => body,
            }
        }
        "map" | "object" => {
            let members = value.object().unwrap_or_default();
            let mut body = String::from("{");
            for (key, item) in &members {
                let item_type = match (kind, type_json) {
                    ("object", serde_json::Value::Array(parts)) => parts
                        .get(1)
                        .and_then(|attrs| attrs.get(key))
                        .cloned()
                        .unwrap_or(serde_json::Value::Null),
                    _ => element(0),
                };
                body.push('\n');
                body.push_str(&" ".repeat(indent + 2));
                body.push_str(&quote(key));
                body.push_str(" = ");
                body.push_str(&format_value(item, &item_type, indent + 2));
            }
            if !members.is_empty() {
                body.push('\n');
                body.push_str(&" ".repeat(indent));
            }
            body.push('}');
            if kind == "map" {
                format!("tomap({body})")
            } else {
                body
            }
        }
        _ => match value.as_string() {
            Some(s) if s.contains('\n') => {
                let mut out = String::from("<<EOT\n");
                out.push_str(&s);
                if !s.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("EOT");
                out
            }
            Some(s) => quote(&s),
            None => value.as_str().to_owned(),
        },
    }
}

/// The `output -raw` text: strings without quotes, numbers and bools as
/// written; `None` for other types (Terraform refuses them too).
pub fn raw_value(value: &ExactJson) -> Option<String> {
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    let text = value.as_str();
    let scalar = !text.is_empty() && !matches!(text.as_bytes()[0], b'{' | b'[' | b'n');
    scalar.then(|| text.to_owned())
}

/// The `output -json` document for all outputs (Go-indented, keys sorted).
pub fn outputs_json(outputs: &BTreeMap<String, OutputState>) -> String {
    let mut members = indexmap::IndexMap::new();
    for (name, output) in outputs {
        let mut fields = indexmap::IndexMap::new();
        fields.insert(
            "sensitive".to_owned(),
            ExactJson::from_value(&serde_json::Value::Bool(output.sensitive)),
        );
        fields.insert("type".to_owned(), ExactJson::from_value(&output.type_json));
        fields.insert("value".to_owned(), output.value.clone());
        members.insert(name.clone(), ExactJson::from_object(&fields));
    }
    crate::json::to_go_pretty_json(&ExactJson::from_object(&members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::InstanceAddr;

    fn check_value(value: &str, ty: &str, expected: &str) {
        let v = ExactJson::parse(value).unwrap();
        let t: serde_json::Value = serde_json::from_str(ty).unwrap();
        assert_eq!(format_value(&v, &t, 0), expected);
    }

    #[test]
    fn output_values_use_console_syntax() {
        check_value(r#""a""#, r#""string""#, r#""a""#);
        check_value("1.50", r#""number""#, "1.50");
        check_value(
            r#"["a","b"]"#,
            r#"["list","string"]"#,
            "tolist([\n  \"a\",\n  \"b\",\n])",
        );
        check_value("[]", r#"["set","string"]"#, "toset([])");
        check_value(
            r#"["a",1]"#,
            r#"["tuple",["string","number"]]"#,
            "[\n  \"a\",\n  1,\n]",
        );
        check_value(
            r#"{"k":"v"}"#,
            r#"["map","string"]"#,
            "tomap({\n  \"k\" = \"v\"\n})",
        );
        check_value(
            r#"{"a":[1]}"#,
            r#"["object",{"a":["list","number"]}]"#,
            "{\n  \"a\" = tolist([\n    1,\n  ])\n}",
        );
        check_value(r#""x\ny""#, r#""string""#, "<<EOT\nx\ny\nEOT");
    }

    #[test]
    fn raw_output_only_for_primitives() {
        let raw = |s: &str| raw_value(&ExactJson::parse(s).unwrap());
        assert_eq!(raw(r#""a b""#).as_deref(), Some("a b"));
        assert_eq!(raw("12").as_deref(), Some("12"));
        assert_eq!(raw("true").as_deref(), Some("true"));
        assert_eq!(raw("[1]"), None);
        assert_eq!(raw("null"), None);
    }

    #[test]
    fn state_show_hides_sensitive_values_and_skips_nulls() {
        let mut inst = ResourceInstance::new(
            InstanceAddr::parse("fake_thing.a[0]").unwrap(),
            "provider[\"registry.terraform.io/hashicorp/fake\"]",
            ExactJson::parse(
                r#"{"id":"x","items":["a"],"long_name":null,"password":"p","tags":{"plain":"v","token":"t"},"body":"l1\nl2\n","rule":[]}"#,
            )
            .unwrap(),
        );
        inst.schema_sensitive_paths = vec![AttrPath::attr("password")];
        inst.sensitive_paths = vec![serde_json::from_str(
            r#"[{"type":"get_attr","value":"tags"},{"type":"index","value":{"value":"token","type":"string"}}]"#,
        )
        .unwrap()];
        inst.status = InstanceStatus::Tainted;
        let expected = r#"# fake_thing.a[0]: (tainted)
resource "fake_thing" "a" {
    body     = <<-EOT
        l1
        l2
    EOT
    id       = "x"
    items    = [
        "a",
    ]
    password = (sensitive value)
    rule     = []
    tags     = {
        "plain" = "v"
        "token" = (sensitive value)
    }
}
"#;
        assert_eq!(render_instance(&inst), expected);
    }
}

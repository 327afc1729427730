//! Terraform's JSON configuration syntax (`*.tf.json`).
//!
//! The JSON document is translated into equivalent native syntax, which is
//! then parsed as usual: strings become templates (so `"${var.x}"` works),
//! and the nesting of labels follows each block type. Diagnostics quote the
//! translated text, since JSON keeps no expression positions of its own.

use std::sync::Arc;

use meshform_lang::hcl_edit::parser::parse_body;
use meshform_lang::hcl_edit::structure::Body;
use meshform_lang::{Diagnostic, Diagnostics, SourceFile, SourceRange};
use serde_json::Value as J;

/// Keys that are nested blocks (not attributes) inside the bodies of these
/// block types.
fn nested_block_keys(block_type: &str) -> &'static [&'static str] {
    match block_type {
        "terraform" => &["required_providers", "backend", "cloud", "provider_meta"],
        "variable" => &["validation"],
        "output" => &["precondition"],
        "resource" | "data" => &["lifecycle", "dynamic", "connection", "provisioner"],
        "lifecycle" => &["precondition", "postcondition"],
        _ => &[],
    }
}

/// Keys whose JSON strings are references, not templates, in these block
/// types (Terraform reads them as static traversals).
fn reference_keys(block_type: &str) -> &'static [&'static str] {
    match block_type {
        "resource" | "data" => &["depends_on", "provider"],
        "output" | "module" => &["depends_on"],
        "lifecycle" => &["ignore_changes", "replace_triggered_by"],
        "moved" => &["from", "to"],
        "import" => &["to", "provider"],
        _ => &[],
    }
}

/// A reference given as a JSON string (or a list of them), as native syntax.
fn reference_expr(v: &J) -> String {
    match v {
        J::String(s) => s.trim().to_owned(),
        J::Array(a) => format!(
            "[{}]",
            a.iter().map(reference_expr).collect::<Vec<_>>().join(", ")
        ),
        other => expr(other),
    }
}

/// How many labels a top-level block type has.
fn label_count(block_type: &str) -> usize {
    match block_type {
        "resource" | "data" => 2,
        "provider" | "variable" | "output" | "module" => 1,
        _ => 0,
    }
}

pub fn parse_json_file(
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<(Arc<SourceFile>, Body)> {
    let top = json_object(file, diags)?;
    let mut out = String::new();
    for (block_type, v) in &top {
        if block_type == "//" {
            continue;
        }
        emit_labelled(
            &mut out,
            block_type,
            &mut Vec::new(),
            label_count(block_type),
            v,
        );
    }
    parse_translation(file, &out, diags)
}

/// A `.tfvars.json` file: every top-level key assigns a variable.
pub fn parse_tfvars_json(
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<(Arc<SourceFile>, Body)> {
    let top = json_object(file, diags)?;
    let mut out = String::new();
    for (name, v) in &top {
        out.push_str(&ident_or_quoted(name));
        out.push_str(" = ");
        out.push_str(&expr(v));
        out.push('\n');
    }
    parse_translation(file, &out, diags)
}

fn parse_translation(
    file: &SourceFile,
    text: &str,
    diags: &mut Diagnostics,
) -> Option<(Arc<SourceFile>, Body)> {
    match parse_body(text) {
        Ok(body) => Some((Arc::new(SourceFile::new(file.name.clone(), text)), body)),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid JSON configuration",
                format!(
                    "{}: a value could not be read as an expression: {}.",
                    file.name,
                    e.message()
                ),
            ));
            None
        }
    }
}

fn json_object(file: &SourceFile, diags: &mut Diagnostics) -> Option<serde_json::Map<String, J>> {
    let doc: J = match serde_json::from_str(&file.text) {
        Ok(d) => d,
        Err(e) => {
            let range = SourceRange::from_bytes(
                file.name.clone(),
                &file.text,
                line_col_to_byte(&file.text, e.line(), e.column()).map_or(0..0, |b| b..b),
            );
            diags.push(
                Diagnostic::error(
                    "Invalid JSON syntax",
                    format!("The file is not valid JSON: {e}."),
                )
                .with_subject(range),
            );
            return None;
        }
    };
    match doc {
        J::Object(top) => Some(top),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid JSON configuration",
                format!("{}: the root of a JSON file must be an object.", file.name),
            ));
            None
        }
    }
}

fn emit_labelled(out: &mut String, ty: &str, labels: &mut Vec<String>, remaining: usize, v: &J) {
    if remaining == 0 {
        // A block type may be given as an array of bodies (several blocks).
        match v {
            J::Array(items) => {
                for item in items {
                    emit_block(out, ty, labels, item, 0);
                }
            }
            _ => emit_block(out, ty, labels, v, 0),
        }
        return;
    }
    if let J::Object(m) = v {
        for (label, inner) in m {
            labels.push(label.clone());
            emit_labelled(out, ty, labels, remaining - 1, inner);
            labels.pop();
        }
    }
}

fn emit_block(out: &mut String, ty: &str, labels: &[String], body: &J, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&pad);
    out.push_str(ty);
    for l in labels {
        out.push(' ');
        out.push_str(&quote(l));
    }
    out.push_str(" {\n");
    if let J::Object(m) = body {
        let blocks = nested_block_keys(ty);
        for (k, v) in m {
            if k == "//" {
                continue;
            }
            if reference_keys(ty).contains(&k.as_str()) {
                out.push_str(&"  ".repeat(depth + 1));
                out.push_str(k);
                out.push_str(" = ");
                out.push_str(&reference_expr(v));
                out.push('\n');
            } else if blocks.contains(&k.as_str()) {
                let nested_labels = if k == "dynamic" || k == "provisioner" || k == "backend" {
                    1
                } else {
                    0
                };
                emit_nested(out, k, nested_labels, v, depth + 1);
            } else {
                // An object value in a resource body may be a nested block or
                // an object attribute: the engine decodes both forms by schema.
                out.push_str(&"  ".repeat(depth + 1));
                out.push_str(&ident_or_quoted(k));
                out.push_str(" = ");
                out.push_str(&expr(v));
                out.push('\n');
            }
        }
    }
    out.push_str(&pad);
    out.push_str("}\n");
}

fn emit_nested(out: &mut String, ty: &str, labels: usize, v: &J, depth: usize) {
    let items: Vec<&J> = match v {
        J::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        if labels == 1 {
            if let J::Object(m) = item {
                for (label, body) in m {
                    emit_block(out, ty, std::slice::from_ref(label), body, depth);
                }
            }
        } else {
            emit_block(out, ty, &[], item, depth);
        }
    }
}

fn ident_or_quoted(k: &str) -> String {
    let ok = k
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        k.to_owned()
    } else {
        quote(k)
    }
}

/// A JSON value as a native expression; strings stay templates.
fn expr(v: &J) -> String {
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => template(s),
        J::Array(a) => format!("[{}]", a.iter().map(expr).collect::<Vec<_>>().join(", ")),
        J::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{} = {}", quote(k), expr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A JSON string as a quoted template: interpolations are kept, quotes,
/// backslashes and line breaks are escaped.
fn template(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal string (labels, keys): `${` and `%{` are escaped too.
fn quote(s: &str) -> String {
    template(s).replace("${", "$${").replace("%{", "%%{")
}

fn line_col_to_byte(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = text
        .split('\n')
        .take(line.checked_sub(1)?)
        .map(|l| l.len() + 1)
        .sum();
    Some((start + col.saturating_sub(1)).min(text.len()))
}

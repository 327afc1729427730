//! Runs conformance vectors (the format of
//! `shared/conformance/tf1.11/expressions.jsonl`) against the evaluator.
//! Shared by the `conformance` example and the integration tests.
//!
//! A vector with `"unknown": true` passes when the value is unknown and,
//! with each unknown part replaced by a null of its type (as Terraform
//! stores an unknown output after apply), matches `result` and `type`.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshform_lang::hcl_edit;
use meshform_lang::{
    eval, parse_type_constraint, Data, EvalContext, FixedClock, MemoryFiles, SourceFile, Type,
    Value,
};

/// The outcome of one vector.
pub struct Outcome {
    pub id: String,
    pub expr: String,
    pub passed: bool,
    pub expected: String,
    pub got: String,
}

/// Runs every vector of a JSON-lines text.
pub fn run_all(text: &str) -> Vec<Outcome> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(
            |line| match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v) => run_one(&v),
                Err(e) => Outcome {
                    id: "?".to_owned(),
                    expr: line.to_owned(),
                    passed: false,
                    expected: "a JSON object".to_owned(),
                    got: format!("unreadable line: {e}"),
                },
            },
        )
        .collect()
}

fn run_one(vector: &serde_json::Value) -> Outcome {
    let id = vector["id"].as_str().unwrap_or("?").to_owned();
    let expr = vector["expr"].as_str().unwrap_or_default().to_owned();
    let want_error = vector["error"].as_bool() == Some(true);
    let want_unknown = vector["unknown"].as_bool() == Some(true);
    let expected = if want_error {
        format!(
            "error ({})",
            vector["error_summary"].as_str().unwrap_or("any")
        )
    } else {
        format!(
            "{}{} : {}{}",
            if want_unknown { "(unknown) " } else { "" },
            vector["result"],
            vector["type"],
            if vector["sensitive"].as_bool() == Some(true) {
                " (sensitive)"
            } else {
                ""
            }
        )
    };
    let result = evaluate(vector, &expr);
    let (passed, got) = match result {
        Err(msg) => (want_error, format!("error: {msg}")),
        Ok(v) => {
            let shown = describe(&v);
            if want_error || want_unknown == v.is_wholly_known() {
                (false, shown)
            } else {
                (matches(vector, &unknown_as_null(&v)), shown)
            }
        }
    };
    Outcome {
        id,
        expr,
        passed,
        expected,
        got,
    }
}

fn describe(v: &Value) -> String {
    let unknown = if v.is_wholly_known() {
        ""
    } else {
        "(unknown) "
    };
    let json = match unknown_as_null(v).unmark_deep().to_json_string() {
        Ok(j) => j,
        Err(e) => format!("<{e}>"),
    };
    format!(
        "{unknown}{json} : {}{}",
        v.ty().to_cty_json(),
        if v.contains_sensitive() {
            " (sensitive)"
        } else {
            ""
        }
    )
}

fn evaluate(vector: &serde_json::Value, expr: &str) -> Result<Value, String> {
    let mut vars = BTreeMap::new();
    if let Some(given) = vector["vars"].as_object() {
        for (name, json) in given {
            let value =
                Value::from_json(json, &Type::Dynamic).map_err(|e| format!("var.{name}: {e}"))?;
            let value = match vector["var_types"].get(name).and_then(|t| t.as_str()) {
                Some(type_src) => {
                    let type_expr = hcl_edit::parser::parse_expr(type_src)
                        .map_err(|e| format!("type of var.{name}: {e}"))?;
                    let constraint = parse_type_constraint(&type_expr, None)
                        .map_err(|d| format!("type of var.{name}: {d:?}"))?;
                    constraint
                        .convert(&value)
                        .map_err(|e| format!("Invalid value for input variable {name}: {e}"))?
                }
                None => value,
            };
            vars.insert(name.clone(), value);
        }
    }
    let mut files = MemoryFiles::new();
    if let Some(given) = vector["files"].as_object() {
        for (path, content) in given {
            files.insert(
                path,
                content.as_str().unwrap_or_default().as_bytes().to_vec(),
            );
        }
    }
    let source = format!("output \"o1\" {{\n  value = {expr}\n}}\n");
    let body = hcl_edit::parser::parse_body(&source).map_err(|e| format!("parse: {e}"))?;
    let value_expr = body
        .get_blocks("output")
        .next()
        .and_then(|b| b.body.get_attribute("value"))
        .map(|a| a.value.clone())
        .ok_or_else(|| "parse: no value attribute".to_owned())?;
    let path = Value::object(BTreeMap::from([
        ("module".to_owned(), Value::string(".")),
        ("root".to_owned(), Value::string(".")),
        ("cwd".to_owned(), Value::string(".")),
    ]));
    let terraform = Value::object(BTreeMap::from([(
        "workspace".to_owned(),
        Value::string("default"),
    )]));
    let ctx = EvalContext::new()
        .with_name("var", Value::object(vars))
        .with_name("path", path)
        .with_name("terraform", terraform)
        .with_files(Arc::new(files))
        // `plantimestamp()` vectors hold at any moment after 2020; a fixed
        // one keeps the run independent of today's date.
        .with_clock(Arc::new(FixedClock(
            chrono::DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
                .expect("a valid timestamp")
                .to_utc(),
        )))
        .with_source(SourceFile::new("main.tf", source.clone()));
    eval(&value_expr, &ctx).map_err(|d| {
        d.iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The value with each unknown part replaced by a null of its type.
fn unknown_as_null(v: &Value) -> Value {
    let out = match v.data() {
        Data::Unknown(t) => Value::null(t.clone()),
        Data::List(t, items) => Value::list(t.clone(), items.iter().map(unknown_as_null).collect()),
        Data::Set(t, items) => Value::set(t.clone(), items.iter().map(unknown_as_null).collect()),
        Data::Tuple(items) => Value::tuple(items.iter().map(unknown_as_null).collect()),
        Data::Map(t, items) => Value::map(
            t.clone(),
            items
                .iter()
                .map(|(k, x)| (k.clone(), unknown_as_null(x)))
                .collect(),
        ),
        Data::Object(items) => Value::object(
            items
                .iter()
                .map(|(k, x)| (k.clone(), unknown_as_null(x)))
                .collect(),
        ),
        _ => return v.clone(),
    };
    out.mark_sensitive_if(v.is_sensitive())
}

fn matches(vector: &serde_json::Value, got: &Value) -> bool {
    let want_sensitive = vector["sensitive"].as_bool() == Some(true);
    if got.contains_sensitive() != want_sensitive {
        return false;
    }
    if !same_json(&vector["result"], got) {
        return false;
    }
    match &vector["type"] {
        serde_json::Value::Null => true,
        t => got.ty().to_cty_json() == *t,
    }
}

/// Whether `got` is the JSON `want`: numbers written as integers compare
/// exactly, others as float64 (the vectors keep what Terraform printed).
fn same_json(want: &serde_json::Value, got: &Value) -> bool {
    use serde_json::Value as J;
    match (want, got.data()) {
        (J::Null, Data::Null(_)) => true,
        (J::Bool(a), Data::Bool(b)) => a == b,
        (J::String(a), Data::String(b)) => a == b,
        (J::Number(a), Data::Number(b)) => {
            if let Some(i) = a.as_i64() {
                b.to_i64() == Some(i)
            } else if let Some(u) = a.as_u64() {
                b.to_bigint().map(|x| x.to_string()) == Some(u.to_string())
            } else {
                a.as_f64() == Some(b.to_f64())
            }
        }
        (J::Array(a), Data::List(_, b) | Data::Set(_, b) | Data::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (J::Object(a), Data::Map(_, b) | Data::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| same_json(x, y)))
        }
        _ => false,
    }
}

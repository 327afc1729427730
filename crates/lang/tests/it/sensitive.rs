//! The sensitive mark sticks to values through functions, templates,
//! collections and expressions.

use std::collections::BTreeMap;

use meshform_lang::{format_for_console, EvalContext, Type, Value};

use crate::support::eval_src;

fn ctx() -> EvalContext {
    let vars = BTreeMap::from([
        ("token".to_owned(), Value::string("s3cr3t").mark_sensitive()),
        ("plain".to_owned(), Value::string("open")),
        (
            "tags".to_owned(),
            Value::map(
                Type::String,
                BTreeMap::from([("a".to_owned(), Value::string("x"))]),
            )
            .mark_sensitive(),
        ),
    ]);
    EvalContext::new().with_name("var", Value::object(vars))
}

fn sensitive(src: &str) -> bool {
    eval_src(src, ctx())
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .contains_sensitive()
}

#[test]
fn functions_keep_the_mark() {
    for src in [
        "upper(var.token)",
        "length(var.token)",
        "base64encode(var.token)",
        "sha256(var.token)",
        "jsonencode({ t = var.token })",
        "keys(var.tags)",
        "lookup(var.tags, \"a\", \"\")",
        "replace(var.token, \"3\", \"e\")",
        "format(\"%s!\", var.token)",
        "tolist([var.token])",
    ] {
        assert!(sensitive(src), "{src} lost the mark");
    }
    assert!(!sensitive("upper(var.plain)"));
}

#[test]
fn templates_keep_the_mark() {
    assert!(sensitive(r#""Bearer ${var.token}""#));
    assert!(sensitive("<<EOT\nkey: ${var.token}\nEOT"));
    assert!(sensitive(
        r#""%{ for k, v in var.tags }${k}=${v}%{ endfor }""#
    ));
}

#[test]
fn collections_and_expressions_keep_the_mark() {
    assert!(sensitive("[var.token, \"x\"]"));
    assert!(sensitive("{ a = var.token }"));
    assert!(sensitive("var.tags.a"));
    assert!(sensitive("var.tags[\"a\"]"));
    assert!(sensitive("[for k, v in var.tags : v]"));
    assert!(sensitive("var.token == \"x\""));
    assert!(sensitive("sensitive(1) + 1"));
    // A conditional carries the marks of its condition and of both
    // results, whichever is chosen (Terraform 1.11).
    assert!(sensitive("var.token == \"x\" ? 1 : 2"));
    assert!(sensitive("false ? var.token : \"x\""));
    // Only the results' own marks, not marks inside them.
    assert!(!sensitive("true ? [\"x\"] : [var.token]"));
    let v = eval_src("[var.token, \"x\"]", ctx()).unwrap();
    // Only the element is marked, not the tuple itself.
    assert!(!v.is_sensitive());
    assert!(v.as_elements().unwrap()[0].is_sensitive());
}

#[test]
fn nonsensitive_removes_the_mark_and_console_hides_it() {
    assert!(!sensitive("nonsensitive(var.token)"));
    // Terraform 1.8 on: a value that is not sensitive passes through.
    assert_eq!(
        eval_src("nonsensitive(var.plain)", ctx()).unwrap(),
        eval_src("var.plain", ctx()).unwrap()
    );
    let v = eval_src("var.token", ctx()).unwrap();
    assert_eq!(format_for_console(&v), "(sensitive)");
    assert_eq!(format!("{v:?}"), "(sensitive value)");
}

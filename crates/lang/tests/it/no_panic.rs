//! No input makes the evaluator panic: random expression text, parsed by
//! hcl-edit when it can be, is evaluated and must give a value or
//! diagnostics.

use std::collections::BTreeMap;

use meshform_lang::{eval, hcl_edit, EvalContext, SourceFile, Value};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "1",
    "-2.5",
    "1e400",
    "0",
    "\"a\"",
    "\"${",
    "}\"",
    "true",
    "null",
    "var.x",
    "var.m",
    "local.y",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    " ",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "?",
    ":",
    "=",
    "=>",
    "...",
    ".",
    "[*]",
    ".*",
    "[0]",
    "[\"k\"]",
    ".0",
    "for",
    "in",
    "if",
    "x",
    "k",
    "v",
    "upper(",
    "length(",
    "tolist(",
    "toset(",
    "tomap(",
    "jsondecode(",
    "yamldecode(",
    "format(",
    "\"%d\"",
    "\"%s\"",
    "range(",
    "try(",
    "can(",
    "element(",
    "substr(",
    "cidrsubnet(",
    "\"10.0.0.0/8\"",
    "timeadd(",
    "formatdate(",
    "regex(",
    "\"[\"",
    "split(",
    "lookup(",
    "merge(",
    "flatten(",
    "sensitive(",
    "templatefile(",
    "file(",
    "parseint(",
    "\"ff\"",
    "16",
    "pow(",
    "log(",
    "abs(",
    "ceil(",
    "max(",
    "sum(",
    "chunklist(",
    "setproduct(",
    "\"%{ if x }a%{ endif }\"",
    "<<EOT\nx\nEOT\n",
    "-1",
    "9999999999999999999999",
];

fn ctx() -> EvalContext {
    let vars = BTreeMap::from([
        ("x".to_owned(), Value::int(3)),
        (
            "m".to_owned(),
            Value::object(BTreeMap::from([("k".to_owned(), Value::string("v"))])),
        ),
    ]);
    EvalContext::new().with_name("var", Value::object(vars))
}

fn evaluate(src: &str) {
    let file = format!("x = {src}\n");
    if let Ok(body) = hcl_edit::parser::parse_body(&file) {
        if let Some(attr) = body.get_attribute("x") {
            let ctx = ctx().with_source(SourceFile::new("t.tf", file.clone()));
            let _ = eval(&attr.value, &ctx);
        }
    }
    if let Ok(expr) = hcl_edit::parser::parse_expr(src) {
        let _ = eval(&expr, &ctx());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fragment_soup_never_panics(parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..12)) {
        evaluate(&parts.concat());
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,40}") {
        evaluate(&src);
    }
}

#[test]
fn known_tricky_inputs_do_not_panic() {
    for src in [
        "range(0, 1e9, 1e-9)",
        "substr(\"abc\", -10, 5)",
        "format(\"%[0]s\", 1)",
        "format(\"%[99]s\", 1)",
        "cidrsubnet(\"::/0\", 128, 1)",
        "cidrhost(\"0.0.0.0/0\", -1)",
        "parseint(\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzz\", 36)",
        "pow(10, 400)",
        "1e400 * 1e400",
        "tostring(1/0)",
        "jsondecode(\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\")",
        "yamldecode(\"a: &a [*a]\")",
        "element([1], 9999999999999999999)",
        "chunklist([1,2], 9999999999999999999)",
        "\"${\"",
        "timeadd(\"2017-11-22T00:00:00Z\", \"9999999999999h\")",
        "indent(-5, \"a\\nb\")",
    ] {
        evaluate(src);
    }
}

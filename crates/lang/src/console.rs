//! Values printed as `terraform console` prints them: `tolist([...])`,
//! `toset([...])`, `tomap({...})`, objects as `{ "a" = 1 }` over several
//! lines, multi-line strings as heredocs, `(sensitive)` and `(known after
//! apply)`.

use crate::types::Type;
use crate::value::{Data, Value};

/// The value as `terraform console` prints it.
pub fn format_for_console(v: &Value) -> String {
    format_value(v, 0)
}

fn format_value(v: &Value, indent: usize) -> String {
    if !v.is_known() {
        return "(known after apply)".to_owned();
    }
    if v.is_sensitive() {
        return "(sensitive)".to_owned();
    }
    match v.data() {
        Data::Null(t) => match t {
            Type::Dynamic => "null".to_owned(),
            Type::String => "tostring(null)".to_owned(),
            Type::Number => "tonumber(null)".to_owned(),
            Type::Bool => "tobool(null)".to_owned(),
            Type::List(e) => format!("tolist(null) /* of {e} */"),
            Type::Set(e) => format!("toset(null) /* of {e} */"),
            Type::Map(e) => format!("tomap(null) /* of {e} */"),
            other => format!("null /* {other} */"),
        },
        Data::Unknown(_) => "(known after apply)".to_owned(),
        Data::String(s) => match multiline(s, indent) {
            Some(h) => h,
            None => crate::functions::go_quote(s),
        },
        Data::Number(n) => n.to_text(),
        Data::Bool(b) => b.to_string(),
        Data::Tuple(items) => sequence(items, indent),
        Data::List(_, items) => format!("tolist({})", sequence(items, indent)),
        Data::Set(_, items) => format!("toset({})", sequence(items, indent)),
        Data::Object(items) => mapping(items, indent),
        Data::Map(_, items) => format!("tomap({})", mapping(items, indent)),
    }
}

fn multiline(s: &str, indent: usize) -> Option<String> {
    let lines: Vec<&str> = s.split('\n').collect();
    if lines.len() < 2 {
        return None;
    }
    let op = if indent > 0 { "<<-" } else { "<<" };
    let mut delim = "EOT".to_owned();
    while lines.iter().any(|l| l.trim() == delim) {
        delim.push('_');
    }
    let pad = " ".repeat(indent);
    let mut out = format!("{op}{delim}");
    for l in &lines {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(l);
    }
    out.push('\n');
    out.push_str(&pad);
    out.push_str(&delim);
    Some(out)
}

fn sequence(items: &[Value], indent: usize) -> String {
    let inner = indent + 2;
    let mut out = String::from("[");
    for item in items {
        out.push('\n');
        out.push_str(&" ".repeat(inner));
        out.push_str(&format_value(item, inner));
        out.push(',');
    }
    if !items.is_empty() {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push(']');
    out
}

fn mapping(items: &std::collections::BTreeMap<String, Value>, indent: usize) -> String {
    let inner = indent + 2;
    let mut out = String::from("{");
    for (k, item) in items {
        out.push('\n');
        out.push_str(&" ".repeat(inner));
        out.push_str(&crate::functions::go_quote(k));
        out.push_str(" = ");
        out.push_str(&format_value(item, inner));
    }
    if !items.is_empty() {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn check(v: Value, want: &str) {
        assert_eq!(format_for_console(&v), want);
    }

    #[test]
    fn prints_like_terraform_console() {
        check(Value::string("a\"b"), r#""a\"b""#);
        check(
            Value::list(Type::Number, vec![Value::int(1), Value::int(2)]),
            "tolist([\n  1,\n  2,\n])",
        );
        check(
            Value::object(BTreeMap::from([(
                "a".to_owned(),
                Value::tuple(vec![Value::bool(true)]),
            )])),
            "{\n  \"a\" = [\n    true,\n  ]\n}",
        );
        check(Value::string("x\ny"), "<<EOT\nx\ny\nEOT");
        check(Value::null(Type::String), "tostring(null)");
        check(Value::string("s").mark_sensitive(), "(sensitive)");
        check(Value::unknown(Type::String), "(known after apply)");
        check(Value::map(Type::String, BTreeMap::new()), "tomap({})");
        check(Value::string("é\u{a0}\u{200b}"), "\"é\\u00a0\\u200b\"");
    }
}

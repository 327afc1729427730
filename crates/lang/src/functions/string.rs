//! String functions. Lengths and offsets count grapheme clusters, as cty
//! does; case mapping maps single characters only, as Go does
//! (`upper("ß")` stays `ß`).

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::types::Type;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "chomp",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: chomp,
    },
    Func {
        name: "indent",
        params: &[p("spaces", T::Number), p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: indent,
    },
    Func {
        name: "join",
        params: &[p("separator", T::String)],
        variadic: Some(p("lists", T::ListString)),
        ret: T::String,
        imp: join,
    },
    Func {
        name: "lower",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(map_chars(a.str(0), false))),
    },
    Func {
        name: "upper",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(map_chars(a.str(0), true))),
    },
    Func {
        name: "regex",
        params: &[p("pattern", T::String), p("string", T::String)],
        variadic: None,
        ret: T::Any,
        imp: regex_fn,
    },
    Func {
        name: "regexall",
        params: &[p("pattern", T::String), p("string", T::String)],
        variadic: None,
        ret: T::ListAny,
        imp: regexall,
    },
    Func {
        name: "replace",
        params: &[
            p("str", T::String),
            p("substr", T::String),
            p("replace", T::String),
        ],
        variadic: None,
        ret: T::String,
        imp: replace,
    },
    Func {
        name: "split",
        params: &[p("separator", T::String), p("str", T::String)],
        variadic: None,
        ret: T::ListString,
        imp: split,
    },
    Func {
        name: "startswith",
        params: &[p("str", T::String).unknown(), p("prefix", T::String)],
        variadic: None,
        ret: T::Bool,
        imp: startswith,
    },
    Func {
        name: "endswith",
        params: &[p("str", T::String), p("suffix", T::String)],
        variadic: None,
        ret: T::Bool,
        imp: |a| Ok(Value::bool(nfc(a.str(0)).ends_with(&nfc(a.str(1))))),
    },
    Func {
        name: "strcontains",
        params: &[p("str", T::String), p("substr", T::String)],
        variadic: None,
        ret: T::Bool,
        imp: |a| Ok(Value::bool(nfc(a.str(0)).contains(&nfc(a.str(1))))),
    },
    Func {
        name: "strrev",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| {
            Ok(Value::string(
                a.str(0).graphemes(true).rev().collect::<String>(),
            ))
        },
    },
    Func {
        name: "substr",
        params: &[
            p("str", T::String),
            p("offset", T::Number),
            p("length", T::Number),
        ],
        variadic: None,
        ret: T::String,
        imp: substr,
    },
    Func {
        name: "title",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(title(a.str(0)))),
    },
    Func {
        name: "trim",
        params: &[p("str", T::String), p("cutset", T::String)],
        variadic: None,
        ret: T::String,
        imp: trim,
    },
    Func {
        name: "trimprefix",
        params: &[p("str", T::String), p("prefix", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| {
            Ok(Value::string(
                a.str(0).strip_prefix(a.str(1)).unwrap_or(a.str(0)),
            ))
        },
    },
    Func {
        name: "trimsuffix",
        params: &[p("str", T::String), p("suffix", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| {
            Ok(Value::string(
                a.str(0).strip_suffix(a.str(1)).unwrap_or(a.str(0)),
            ))
        },
    },
    Func {
        name: "trimspace",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(a.str(0).trim_matches(char::is_whitespace))),
    },
];

/// The string in Unicode normal form C, as every cty string is: `"e\u0301"`
/// and `"é"` are one string, so neither starts with `"e"`.
fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}

/// `startswith`: an unknown string still starts with the empty prefix.
fn startswith(a: &Args<'_, '_>) -> FnResult {
    if !a.get(0).is_known() {
        return Ok(if a.str(1).is_empty() {
            Value::bool(true)
        } else {
            Value::unknown(Type::Bool)
        });
    }
    Ok(Value::bool(nfc(a.str(0)).starts_with(&nfc(a.str(1)))))
}

fn chomp(a: &Args<'_, '_>) -> FnResult {
    Ok(Value::string(a.str(0).trim_end_matches(['\n', '\r'])))
}

fn indent(a: &Args<'_, '_>) -> FnResult {
    let n = a.int(0)?.max(0) as usize;
    let pad = format!("\n{}", " ".repeat(n));
    Ok(Value::string(a.str(1).replace('\n', &pad)))
}

fn join(a: &Args<'_, '_>) -> FnResult {
    if a.len() < 2 {
        return Err(FnError::call("at least one list is required"));
    }
    let mut parts = Vec::new();
    for i in 1..a.len() {
        for (j, item) in a
            .get(i)
            .as_elements()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            match item.as_str() {
                Some(s) => parts.push(s.to_owned()),
                None => return Err(FnError::arg(i, format!("element {j} is null"))),
            }
        }
    }
    Ok(Value::string(parts.join(a.str(0))))
}

/// Maps each character to upper or lower case when that gives a single
/// character (Go's `unicode.ToUpper`), keeping it otherwise.
pub(crate) fn map_chars(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut m: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if m.len() == 1 {
                m.pop().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Unicode title case: upper case except for the four digraph letters.
fn to_title(c: char) -> String {
    match c {
        '\u{1c4}'..='\u{1c6}' => "\u{1c5}".to_owned(),
        '\u{1c7}'..='\u{1c9}' => "\u{1c8}".to_owned(),
        '\u{1ca}'..='\u{1cc}' => "\u{1cb}".to_owned(),
        '\u{1f1}'..='\u{1f3}' => "\u{1f2}".to_owned(),
        c => map_chars(&c.to_string(), true),
    }
}

fn title(s: &str) -> String {
    let mut prev_sep = true;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if prev_sep {
            out.push_str(&to_title(c));
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        };
    }
    out
}

fn trim(a: &Args<'_, '_>) -> FnResult {
    let cut: Vec<char> = a.str(1).chars().collect();
    Ok(Value::string(a.str(0).trim_matches(|c| cut.contains(&c))))
}

fn split(a: &Args<'_, '_>) -> FnResult {
    let sep = a.str(0);
    let s = a.str(1);
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::string).collect()
    };
    Ok(Value::list(Type::String, parts))
}

fn replace(a: &Args<'_, '_>) -> FnResult {
    let s = a.str(0);
    let sub = a.str(1);
    let rep = a.str(2);
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = compile(&sub[1..sub.len() - 1], 1)?;
        return Ok(Value::string(re.replace_all(s, rep).into_owned()));
    }
    Ok(Value::string(s.replace(sub, rep)))
}

fn compile(pattern: &str, arg: usize) -> Result<regex::Regex, FnError> {
    regex::Regex::new(&go_classes(pattern))
        .map_err(|e| FnError::arg(arg, format!("invalid regular expression pattern: {e}")))
}

/// Rewrites Perl classes to Go's ASCII meaning (`\d` is `[0-9]` in Go's
/// RE2 but any Unicode digit in Rust's regex).
fn go_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let rewritten = match (n, in_class) {
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('W', false) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('S', false) => "[^\\t\\n\\f\\r ]",
                    ('b', false) => "(?-u:\\b)",
                    ('B', false) => "(?-u:\\B)",
                    ('d', true) => "0-9",
                    ('w', true) => "0-9A-Za-z_",
                    ('s', true) => "\\t\\n\\f\\r ",
                    _ => "",
                };
                if rewritten.is_empty() {
                    out.push(c);
                    out.push(n);
                } else {
                    out.push_str(rewritten);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` (after an optional `^`) right at the start is literal.
                let rest = chars.as_str();
                let skip = if rest.starts_with("^]") {
                    2
                } else if rest.starts_with(']') {
                    1
                } else {
                    0
                };
                for _ in 0..skip {
                    if let Some(x) = chars.next() {
                        out.push(x);
                    }
                }
            }
            '[' if in_class && chars.as_str().starts_with(':') => {
                // A POSIX class like [:alpha:] inside a bracket expression.
                out.push(c);
                for x in chars.by_ref() {
                    out.push(x);
                    if x == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The value of one match: the whole match without groups, a tuple of the
/// groups, or an object of the named groups.
fn match_value(re: &regex::Regex, caps: &regex::Captures<'_>) -> Value {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let group = |i: usize| match caps.get(i) {
        Some(m) => Value::string(m.as_str()),
        None => Value::null(Type::String),
    };
    if names.is_empty() {
        return group(0);
    }
    if names.iter().any(Option::is_some) {
        let mut obj = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            if let Some(n) = n {
                obj.insert((*n).to_owned(), group(i + 1));
            }
        }
        return Value::object(obj);
    }
    Value::tuple((1..=names.len()).map(group).collect())
}

fn regex_fn(a: &Args<'_, '_>) -> FnResult {
    let re = compile(a.str(0), 0)?;
    match re.captures(a.str(1)) {
        Some(caps) => Ok(match_value(&re, &caps)),
        None => Err(FnError::call(
            "pattern did not match any part of the given string",
        )),
    }
}

fn regexall(a: &Args<'_, '_>) -> FnResult {
    let re = compile(a.str(0), 0)?;
    let items: Vec<Value> = re
        .captures_iter(a.str(1))
        .map(|c| match_value(&re, &c))
        .collect();
    let elem = items.first().map(Value::ty).unwrap_or_else(|| {
        let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
        if names.is_empty() {
            Type::String
        } else if names.iter().any(Option::is_some) {
            Type::object(
                names
                    .iter()
                    .flatten()
                    .map(|n| ((*n).to_owned(), Type::String)),
            )
        } else {
            Type::Tuple(vec![Type::String; names.len()])
        }
    });
    Ok(Value::list(elem, items))
}

fn substr(a: &Args<'_, '_>) -> FnResult {
    let s = a.str(0);
    let g: Vec<&str> = s.graphemes(true).collect();
    let total = g.len() as i64;
    let mut offset = a.int(1)?;
    let mut length = a.int(2)?;
    if offset < 0 {
        offset += total;
        if offset < 0 {
            offset = 0;
        }
    }
    if offset > total {
        return Ok(Value::string(""));
    }
    if length < 0 || offset + length > total {
        length = total - offset;
    }
    Ok(Value::string(
        g[offset as usize..(offset + length) as usize].concat(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_take_go_ascii_meaning() {
        assert_eq!(go_classes(r"\d+\s\w"), r"[0-9]+[\t\n\f\r ][0-9A-Za-z_]");
        assert_eq!(go_classes(r"[\d.]"), r"[0-9.]");
        assert_eq!(go_classes(r"[]\d]"), r"[]0-9]");
        assert_eq!(go_classes(r"\\d"), r"\\d");
        let re = compile(r"^\d+$", 0).unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"));
    }

    #[test]
    fn title_case_uses_title_forms() {
        assert_eq!(title("hello world-foo bar_baz"), "Hello World-Foo Bar_baz");
        assert_eq!(title("ǆungla"), "ǅungla");
    }
}

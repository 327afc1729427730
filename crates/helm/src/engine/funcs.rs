//! Sprig's functions and Helm's own (`toYaml`, `required`, `lookup`, ...),
//! written against the template value type. Semantics follow Sprig v3 and
//! Helm v3 (`pkg/engine/funcs.go`); deviations are noted where they exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use gotmpl::{FuncMap, Value};
use sha2::Digest;

use super::adapter::fail;
use super::convert::{go_json, go_quote, go_string, to_json, to_template};
use super::{Lookup, LookupRequest};

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

/// A string argument: text as is, nil as "", anything else as Go prints it.
fn arg_str(args: &[Value], i: usize) -> String {
    match args.get(i) {
        Some(Value::String(x)) => x.to_string(),
        Some(Value::Nil) | None => String::new(),
        Some(other) => go_string(other),
    }
}

fn need(args: &[Value], n: usize, name: &str) -> gotmpl::Result<()> {
    if args.len() < n {
        return Err(fail(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Sprig's `toInt64` (spf13/cast): numbers, numeric strings, bools; else 0.
pub(crate) fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => *u as i64,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(x) => {
            let t = x.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(0)
        }
        _ => 0,
    }
}

pub(crate) fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(x) => x.trim().parse::<f64>().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(x) => x.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Function(_) => false,
    }
}

fn list_of(v: &Value, fname: &str) -> gotmpl::Result<Vec<Value>> {
    match v {
        Value::List(l) => Ok(l.to_vec()),
        Value::Nil => Ok(Vec::new()),
        other => Err(fail(format!("cannot {fname} on type {}", go_type(other)))),
    }
}

fn map_of(v: &Value) -> BTreeMap<Arc<str>, Value> {
    match v {
        Value::Map(m) => (**m).clone(),
        _ => BTreeMap::new(),
    }
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items.into())
}

fn map(m: BTreeMap<Arc<str>, Value>) -> Value {
    Value::Map(Arc::new(m))
}

/// Go's type name of a value as Helm charts see it.
pub(crate) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        Value::Function(_) => "func",
    }
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Function(_) => "func",
    }
}

/// Deep equality with Go's `reflect.DeepEqual` flavour.
fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Uint(x), Value::Uint(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}

/// `mergo.Merge` of `src` into `dst`: dst's non-empty values win, maps merge
/// recursively; with `overwrite`, src's non-empty values win.
fn merge_into(
    dst: &mut BTreeMap<Arc<str>, Value>,
    src: &BTreeMap<Arc<str>, Value>,
    overwrite: bool,
) {
    for (k, sv) in src {
        if matches!(sv, Value::Nil) {
            // mergo skips nil sources unless overwriting.
            if overwrite {
                dst.insert(k.clone(), Value::Nil);
            }
            continue;
        }
        match dst.get_mut(k) {
            Some(Value::Map(dm)) => {
                if let Value::Map(sm) = sv {
                    let mut merged = (**dm).clone();
                    merge_into(&mut merged, sm, overwrite);
                    *dm = Arc::new(merged);
                } else if overwrite && !is_empty(sv) {
                    dst.insert(k.clone(), sv.clone());
                }
            }
            Some(dv) => {
                if (overwrite && !is_empty(sv)) || is_empty(dv) {
                    *dv = sv.clone();
                }
            }
            None => {
                dst.insert(k.clone(), sv.clone());
            }
        }
    }
}

macro_rules! reg {
    ($m:expr, $name:expr, $f:expr) => {
        $m.insert($name.to_string(), Arc::new($f) as gotmpl::ValueFunc);
    };
}

/// Every chart function except `include` and `tpl` (the adapter adds those).
pub(crate) fn chart_funcs(lookup: Option<Arc<dyn Lookup>>) -> FuncMap {
    let mut m = FuncMap::new();
    strings(&mut m);
    numbers(&mut m);
    lists(&mut m);
    dicts(&mut m);
    encoding(&mut m);
    defaults(&mut m);
    reflection(&mut m);
    paths(&mut m);
    network(&mut m);
    super::time::register(&mut m);
    super::crypto::register(&mut m);
    semver_funcs(&mut m);
    helm(&mut m, lookup);
    extras(&mut m);
    aliases(&mut m);
    m
}

/// Sprig's other names for the same functions.
fn aliases(m: &mut FuncMap) {
    for (alias, name) in [
        ("tuple", "list"),
        ("biggest", "max"),
        ("osBase", "base"),
        ("osDir", "dir"),
        ("osExt", "ext"),
        ("osClean", "clean"),
        ("osIsAbs", "isAbs"),
        ("mustToDate", "toDate"),
        ("mustDateModify", "dateModify"),
        ("date_in_zone", "dateInZone"),
        ("date_modify", "dateModify"),
        ("toJSON", "toJson"),
    ] {
        if let Some(f) = m.get(name).cloned() {
            m.insert(alias.to_string(), f);
        }
    }
}

fn extras(m: &mut FuncMap) {
    // Sprig hashes with Go's bcrypt: version 2a, default cost 10.
    reg!(m, "bcrypt", |a: &[Value]| {
        bcrypt::hash_with_result(arg_str(a, 0), 10)
            .map(|h| s(&h.format_for_version(bcrypt::Version::TwoA)))
            .map_err(|e| fail(format!("bcrypt failed: {e}")))
    });
    reg!(m, "htpasswd", |a: &[Value]| {
        let user = arg_str(a, 0);
        if user.contains(':') {
            return Ok(s(&format!("invalid username: {user}")));
        }
        bcrypt::hash_with_result(arg_str(a, 1), 10)
            .map(|h| {
                s(&format!(
                    "{user}:{}",
                    h.format_for_version(bcrypt::Version::TwoA)
                ))
            })
            .map_err(|e| fail(format!("bcrypt failed: {e}")))
    });
    reg!(m, "randInt", |a: &[Value]| {
        use rand::Rng;
        need(a, 2, "randInt")?;
        let (lo, hi) = (to_i64(&a[0]), to_i64(&a[1]));
        if hi <= lo {
            return Err(fail(
                "invalid argument to randInt: max must be greater than min",
            ));
        }
        Ok(Value::Int(rand::thread_rng().gen_range(lo..hi)))
    });
    reg!(m, "abbrevboth", |a: &[Value]| {
        need(a, 3, "abbrevboth")?;
        let (left, width) = (to_i64(&a[0]).max(0) as usize, to_i64(&a[1]).max(0) as usize);
        let text: Vec<char> = arg_str(a, 2).chars().collect();
        Ok(s(&abbreviate_full(&text, left, width)))
    });
}

/// goutils.AbbreviateFull.
fn abbreviate_full(text: &[char], offset: usize, width: usize) -> String {
    let all: String = text.iter().collect();
    if width < 4 || text.len() <= width {
        return all;
    }
    let mut offset = offset.min(text.len());
    if text.len() - offset < width - 3 {
        offset = text.len() - (width - 3);
    }
    if offset <= 4 {
        return text[..width - 3].iter().collect::<String>() + "...";
    }
    if width < 7 {
        return all;
    }
    if offset + width - 3 < text.len() {
        let rest: Vec<char> = text[offset..].to_vec();
        return "...".to_string() + &abbreviate_full(&rest, 0, width - 3);
    }
    "...".to_string() + &text[text.len() - (width - 3)..].iter().collect::<String>()
}

fn strings(m: &mut FuncMap) {
    reg!(m, "trim", |a: &[Value]| Ok(s(arg_str(a, 0).trim())));
    reg!(m, "trimAll", |a: &[Value]| {
        let cut: Vec<char> = arg_str(a, 0).chars().collect();
        Ok(s(arg_str(a, 1).trim_matches(|c| cut.contains(&c))))
    });
    reg!(m, "trimall", |a: &[Value]| {
        let cut: Vec<char> = arg_str(a, 0).chars().collect();
        Ok(s(arg_str(a, 1).trim_matches(|c| cut.contains(&c))))
    });
    reg!(m, "trimPrefix", |a: &[Value]| {
        let (p, x) = (arg_str(a, 0), arg_str(a, 1));
        Ok(s(x.strip_prefix(p.as_str()).unwrap_or(&x)))
    });
    reg!(m, "trimSuffix", |a: &[Value]| {
        let (p, x) = (arg_str(a, 0), arg_str(a, 1));
        Ok(s(x.strip_suffix(p.as_str()).unwrap_or(&x)))
    });
    reg!(m, "upper", |a: &[Value]| Ok(s(
        &arg_str(a, 0).to_uppercase()
    )));
    reg!(m, "lower", |a: &[Value]| Ok(s(
        &arg_str(a, 0).to_lowercase()
    )));
    reg!(m, "title", |a: &[Value]| Ok(s(&title(&arg_str(a, 0)))));
    reg!(m, "untitle", |a: &[Value]| {
        let x = arg_str(a, 0);
        let out: Vec<String> = x
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect();
        Ok(s(&out.join(" ")))
    });
    reg!(m, "repeat", |a: &[Value]| Ok(s(&arg_str(a, 1).repeat(
        to_i64(a.first().unwrap_or(&Value::Nil)).max(0) as usize
    ))));
    reg!(m, "substr", |a: &[Value]| {
        need(a, 3, "substr")?;
        let x = arg_str(a, 2);
        let (mut st, mut en) = (to_i64(&a[0]), to_i64(&a[1]));
        let len = x.len() as i64;
        if st < 0 {
            st = 0;
        }
        if en < 0 || en > len {
            en = len;
        }
        if st > en {
            return Ok(s(""));
        }
        Ok(s(x.get(st as usize..en as usize).unwrap_or("")))
    });
    reg!(m, "nospace", |a: &[Value]| Ok(s(&arg_str(a, 0)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>())));
    reg!(m, "trunc", |a: &[Value]| {
        need(a, 2, "trunc")?;
        let c = to_i64(&a[0]);
        let x = arg_str(a, 1);
        let len = x.len() as i64;
        let out = if c < 0 && len + c > 0 {
            x.get((len + c) as usize..).unwrap_or(&x).to_string()
        } else if c >= 0 && len > c {
            x.get(..c as usize).unwrap_or(&x).to_string()
        } else {
            x
        };
        Ok(s(&out))
    });
    reg!(m, "abbrev", |a: &[Value]| {
        let w = to_i64(a.first().unwrap_or(&Value::Nil));
        let x = arg_str(a, 1);
        if w < 4 || x.chars().count() as i64 <= w {
            return Ok(s(&x));
        }
        let keep: String = x.chars().take(w as usize - 3).collect();
        Ok(s(&(keep + "...")))
    });
    reg!(m, "initials", |a: &[Value]| {
        Ok(s(&arg_str(a, 0)
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>()))
    });
    reg!(m, "wrap", |a: &[Value]| Ok(s(&wrap(
        &arg_str(a, 1),
        to_i64(a.first().unwrap_or(&Value::Nil)) as usize,
        "\n"
    ))));
    reg!(m, "wrapWith", |a: &[Value]| Ok(s(&wrap(
        &arg_str(a, 2),
        to_i64(a.first().unwrap_or(&Value::Nil)) as usize,
        &arg_str(a, 1)
    ))));
    reg!(m, "contains", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 1).contains(&arg_str(a, 0))
    )));
    reg!(m, "hasPrefix", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 1).starts_with(&arg_str(a, 0))
    )));
    reg!(m, "hasSuffix", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 1).ends_with(&arg_str(a, 0))
    )));
    reg!(m, "quote", |a: &[Value]| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| go_quote(&go_string(v)))
            .collect();
        Ok(s(&parts.join(" ")))
    });
    reg!(m, "squote", |a: &[Value]| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| format!("'{}'", go_string(v)))
            .collect();
        Ok(s(&parts.join(" ")))
    });
    reg!(m, "cat", |a: &[Value]| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(go_string)
            .collect();
        Ok(s(&parts.join(" ")))
    });
    reg!(m, "indent", |a: &[Value]| {
        let pad = " ".repeat(to_i64(a.first().unwrap_or(&Value::Nil)).max(0) as usize);
        Ok(s(
            &(pad.clone() + &arg_str(a, 1).replace('\n', &format!("\n{pad}")))
        ))
    });
    reg!(m, "nindent", |a: &[Value]| {
        let pad = " ".repeat(to_i64(a.first().unwrap_or(&Value::Nil)).max(0) as usize);
        Ok(s(&format!(
            "\n{pad}{}",
            arg_str(a, 1).replace('\n', &format!("\n{pad}"))
        )))
    });
    reg!(m, "replace", |a: &[Value]| Ok(s(
        &arg_str(a, 2).replace(&arg_str(a, 0), &arg_str(a, 1))
    )));
    reg!(m, "plural", |a: &[Value]| {
        let n = to_i64(a.get(2).unwrap_or(&Value::Nil));
        Ok(s(&if n == 1 { arg_str(a, 0) } else { arg_str(a, 1) }))
    });
    reg!(m, "snakecase", |a: &[Value]| Ok(s(&case_words(&arg_str(
        a, 0
    ))
    .join("_"))));
    reg!(m, "kebabcase", |a: &[Value]| Ok(s(&case_words(&arg_str(
        a, 0
    ))
    .join("-"))));
    reg!(m, "camelcase", |a: &[Value]| {
        let x = arg_str(a, 0);
        Ok(s(&x.split('_').map(title).collect::<String>()))
    });
    reg!(m, "swapcase", |a: &[Value]| {
        Ok(s(&arg_str(a, 0)
            .chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_lowercase().collect::<String>()
                } else {
                    c.to_uppercase().collect()
                }
            })
            .collect::<String>()))
    });
    reg!(m, "toString", |a: &[Value]| Ok(s(&a
        .first()
        .map(go_string)
        .unwrap_or_else(|| "<nil>".into()))));
    reg!(m, "toStrings", |a: &[Value]| {
        let l = list_of(a.first().unwrap_or(&Value::Nil), "toStrings")?;
        Ok(list(l.iter().map(|v| s(&go_string(v))).collect()))
    });
    reg!(m, "join", |a: &[Value]| {
        let sep = arg_str(a, 0);
        let parts: Vec<String> = match a.get(1) {
            Some(Value::List(l)) => l
                .iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(go_string)
                .collect(),
            Some(Value::Nil) | None => Vec::new(),
            Some(other) => vec![go_string(other)],
        };
        Ok(s(&parts.join(&sep)))
    });
    reg!(m, "split", |a: &[Value]| {
        let mut out = BTreeMap::new();
        for (i, p) in arg_str(a, 1).split(arg_str(a, 0).as_str()).enumerate() {
            out.insert(Arc::from(format!("_{i}").as_str()), s(p));
        }
        Ok(map(out))
    });
    reg!(m, "splitList", |a: &[Value]| Ok(list(
        arg_str(a, 1).split(arg_str(a, 0).as_str()).map(s).collect()
    )));
    reg!(m, "splitn", |a: &[Value]| {
        let n = to_i64(a.get(1).unwrap_or(&Value::Nil)).max(0) as usize;
        let mut out = BTreeMap::new();
        for (i, p) in arg_str(a, 2).splitn(n, arg_str(a, 0).as_str()).enumerate() {
            out.insert(Arc::from(format!("_{i}").as_str()), s(p));
        }
        Ok(map(out))
    });
    reg!(m, "sortAlpha", |a: &[Value]| {
        let mut l: Vec<String> = match a.first() {
            Some(Value::List(l)) => l.iter().map(go_string).collect(),
            Some(Value::Nil) | None => Vec::new(),
            Some(other) => vec![go_string(other)],
        };
        l.sort();
        Ok(list(l.iter().map(|x| s(x)).collect()))
    });
    for name in ["regexMatch", "mustRegexMatch"] {
        let must = name.starts_with("must");
        reg!(
            m,
            name,
            move |a: &[Value]| match regex::Regex::new(&arg_str(a, 0)) {
                Ok(re) => Ok(Value::Bool(re.is_match(&arg_str(a, 1)))),
                Err(e) if must => Err(fail(e.to_string())),
                Err(_) => Ok(Value::Bool(false)),
            }
        );
    }
    for name in ["regexFindAll", "mustRegexFindAll"] {
        reg!(m, name, |a: &[Value]| {
            let re = regex::Regex::new(&arg_str(a, 0)).map_err(|e| fail(e.to_string()))?;
            let x = arg_str(a, 1);
            let n = to_i64(a.get(2).unwrap_or(&Value::Int(-1)));
            let found = re.find_iter(&x).map(|m| s(m.as_str()));
            let items: Vec<Value> = if n < 0 {
                found.collect()
            } else {
                found.take(n as usize).collect()
            };
            Ok(list(items))
        });
    }
    for name in ["regexFind", "mustRegexFind"] {
        reg!(m, name, |a: &[Value]| {
            let re = regex::Regex::new(&arg_str(a, 0)).map_err(|e| fail(e.to_string()))?;
            Ok(s(re.find(&arg_str(a, 1)).map_or("", |m| m.as_str())))
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        reg!(m, name, |a: &[Value]| {
            let re = regex::Regex::new(&arg_str(a, 0)).map_err(|e| fail(e.to_string()))?;
            let repl = go_expand_template(&arg_str(a, 2));
            Ok(s(&re.replace_all(&arg_str(a, 1), repl.as_str())))
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        reg!(m, name, |a: &[Value]| {
            let re = regex::Regex::new(&arg_str(a, 0)).map_err(|e| fail(e.to_string()))?;
            Ok(s(&re.replace_all(
                &arg_str(a, 1),
                regex::NoExpand(&arg_str(a, 2)),
            )))
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        reg!(m, name, |a: &[Value]| {
            let re = regex::Regex::new(&arg_str(a, 0)).map_err(|e| fail(e.to_string()))?;
            let x = arg_str(a, 1);
            let n = to_i64(a.get(2).unwrap_or(&Value::Int(-1)));
            let parts: Vec<Value> = if n < 0 {
                re.split(&x).map(s).collect()
            } else {
                re.splitn(&x, n as usize).map(s).collect()
            };
            Ok(list(parts))
        });
    }
    reg!(m, "regexQuoteMeta", |a: &[Value]| Ok(s(&regex::escape(
        &arg_str(a, 0)
    ))));
    reg!(m, "randAlphaNum", |a: &[Value]| Ok(s(&random_string(
        a,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    ))));
    reg!(m, "randAlpha", |a: &[Value]| Ok(s(&random_string(
        a,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    ))));
    reg!(m, "randNumeric", |a: &[Value]| Ok(s(&random_string(
        a,
        b"0123456789"
    ))));
    reg!(m, "randAscii", |a: &[Value]| {
        let chars: Vec<u8> = (32u8..127).collect();
        Ok(s(&random_string(a, &chars)))
    });
    reg!(m, "shuffle", |a: &[Value]| {
        use rand::seq::SliceRandom;
        let mut c: Vec<char> = arg_str(a, 0).chars().collect();
        c.shuffle(&mut rand::thread_rng());
        Ok(s(&c.into_iter().collect::<String>()))
    });
}

/// Go's `regexp.Expand` template syntax (`$1`, `${name}`) in Rust's.
fn go_expand_template(t: &str) -> String {
    // Rust's regex uses the same `$name`/`${name}` syntax; Go treats `$1x`
    // as the group named `1x` which Rust reads the same way.
    t.to_string()
}

fn random_string(a: &[Value], alphabet: &[u8]) -> String {
    use rand::Rng;
    let n = to_i64(a.first().unwrap_or(&Value::Nil)).max(0) as usize;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

fn title(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut prev_letter = false;
    for c in w.chars() {
        if !prev_letter {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn case_words(x: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = x.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == ' ' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev_lower = chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || next_lower {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn wrap(x: &str, width: usize, nl: &str) -> String {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in x.split('\n') {
        let mut cur = String::new();
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if !cur.is_empty() && cur.len() + 1 + word.len() > width {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push(cur);
    }
    out.join(nl)
}

fn numbers(m: &mut FuncMap) {
    reg!(m, "add", |a: &[Value]| Ok(Value::Int(
        a.iter().map(to_i64).fold(0i64, i64::wrapping_add)
    )));
    reg!(m, "add1", |a: &[Value]| Ok(Value::Int(
        to_i64(a.first().unwrap_or(&Value::Nil)).wrapping_add(1)
    )));
    reg!(m, "sub", |a: &[Value]| {
        need(a, 2, "sub")?;
        Ok(Value::Int(to_i64(&a[0]).wrapping_sub(to_i64(&a[1]))))
    });
    reg!(m, "mul", |a: &[Value]| Ok(Value::Int(
        a.iter().map(to_i64).fold(1i64, i64::wrapping_mul)
    )));
    reg!(m, "div", |a: &[Value]| {
        need(a, 2, "div")?;
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(fail("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&a[0]) / d))
    });
    reg!(m, "mod", |a: &[Value]| {
        need(a, 2, "mod")?;
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(fail("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(to_i64(&a[0]) % d))
    });
    reg!(m, "max", |a: &[Value]| Ok(Value::Int(
        a.iter().map(to_i64).max().unwrap_or(0)
    )));
    reg!(m, "min", |a: &[Value]| Ok(Value::Int(
        a.iter().map(to_i64).min().unwrap_or(0)
    )));
    reg!(m, "addf", |a: &[Value]| Ok(Value::Float(
        a.iter().map(to_f64).sum()
    )));
    reg!(m, "add1f", |a: &[Value]| Ok(Value::Float(
        to_f64(a.first().unwrap_or(&Value::Nil)) + 1.0
    )));
    reg!(m, "subf", |a: &[Value]| {
        let mut it = a.iter().map(to_f64);
        let first = it.next().unwrap_or(0.0);
        Ok(Value::Float(it.fold(first, |x, y| x - y)))
    });
    reg!(m, "mulf", |a: &[Value]| Ok(Value::Float(
        a.iter().map(to_f64).product()
    )));
    reg!(m, "divf", |a: &[Value]| {
        let mut it = a.iter().map(to_f64);
        let first = it.next().unwrap_or(0.0);
        Ok(Value::Float(it.fold(first, |x, y| x / y)))
    });
    reg!(m, "maxf", |a: &[Value]| Ok(Value::Float(
        a.iter().map(to_f64).fold(f64::NEG_INFINITY, f64::max)
    )));
    reg!(m, "minf", |a: &[Value]| Ok(Value::Float(
        a.iter().map(to_f64).fold(f64::INFINITY, f64::min)
    )));
    reg!(m, "floor", |a: &[Value]| Ok(Value::Float(
        to_f64(a.first().unwrap_or(&Value::Nil)).floor()
    )));
    reg!(m, "ceil", |a: &[Value]| Ok(Value::Float(
        to_f64(a.first().unwrap_or(&Value::Nil)).ceil()
    )));
    reg!(m, "round", |a: &[Value]| {
        let x = to_f64(a.first().unwrap_or(&Value::Nil));
        let p = to_i64(a.get(1).unwrap_or(&Value::Nil)) as i32;
        let f = 10f64.powi(p);
        Ok(Value::Float((x * f).round() / f))
    });
    for name in ["int", "int64"] {
        reg!(m, name, |a: &[Value]| Ok(Value::Int(to_i64(
            a.first().unwrap_or(&Value::Nil)
        ))));
    }
    reg!(m, "float64", |a: &[Value]| Ok(Value::Float(to_f64(
        a.first().unwrap_or(&Value::Nil)
    ))));
    reg!(m, "atoi", |a: &[Value]| Ok(Value::Int(
        arg_str(a, 0).trim().parse::<i64>().unwrap_or(0)
    )));
    reg!(m, "toDecimal", |a: &[Value]| Ok(Value::Int(
        i64::from_str_radix(&arg_str(a, 0), 8).unwrap_or(0)
    )));
    reg!(m, "until", |a: &[Value]| {
        let n = to_i64(a.first().unwrap_or(&Value::Nil));
        Ok(list(step_range(0, n, if n < 0 { -1 } else { 1 })))
    });
    reg!(m, "untilStep", |a: &[Value]| {
        need(a, 3, "untilStep")?;
        Ok(list(step_range(
            to_i64(&a[0]),
            to_i64(&a[1]),
            to_i64(&a[2]),
        )))
    });
    reg!(m, "seq", |a: &[Value]| {
        let n: Vec<i64> = a.iter().map(to_i64).collect();
        let items = match n.as_slice() {
            [] => Vec::new(),
            [end] => step_range_inclusive(1, *end, if *end < 1 { -1 } else { 1 }),
            [start, end] => step_range_inclusive(*start, *end, if end < start { -1 } else { 1 }),
            [start, step, end, ..] => step_range_inclusive(*start, *end, *step),
        };
        Ok(s(&items
            .iter()
            .map(go_string)
            .collect::<Vec<_>>()
            .join(" ")))
    });
}

fn step_range(start: i64, stop: i64, step: i64) -> Vec<Value> {
    let mut out = Vec::new();
    if step == 0 {
        return out;
    }
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::Int(i));
        i += step;
        if out.len() > 1_000_000 {
            break;
        }
    }
    out
}

fn step_range_inclusive(start: i64, end: i64, step: i64) -> Vec<Value> {
    let mut out = Vec::new();
    if step == 0 {
        return out;
    }
    let mut i = start;
    while (step > 0 && i <= end) || (step < 0 && i >= end) {
        out.push(Value::Int(i));
        i += step;
        if out.len() > 1_000_000 {
            break;
        }
    }
    out
}

fn lists(m: &mut FuncMap) {
    reg!(m, "list", |a: &[Value]| Ok(list(a.to_vec())));
    for (name, f) in [("first", 0usize), ("mustFirst", 0)] {
        let _ = f;
        reg!(m, name, |a: &[Value]| Ok(list_of(
            a.first().unwrap_or(&Value::Nil),
            "first"
        )?
        .into_iter()
        .next()
        .unwrap_or(Value::Nil)));
    }
    for name in ["last", "mustLast"] {
        reg!(m, name, |a: &[Value]| Ok(list_of(
            a.first().unwrap_or(&Value::Nil),
            "last"
        )?
        .pop()
        .unwrap_or(Value::Nil)));
    }
    for name in ["rest", "mustRest"] {
        reg!(m, name, |a: &[Value]| {
            let l = list_of(a.first().unwrap_or(&Value::Nil), "rest")?;
            Ok(list(l.into_iter().skip(1).collect()))
        });
    }
    for name in ["initial", "mustInitial"] {
        reg!(m, name, |a: &[Value]| {
            let mut l = list_of(a.first().unwrap_or(&Value::Nil), "initial")?;
            l.pop();
            Ok(list(l))
        });
    }
    for name in ["append", "push", "mustAppend", "mustPush"] {
        reg!(m, name, |a: &[Value]| {
            need(a, 2, "append")?;
            let mut l = list_of(&a[0], "append")?;
            l.push(a[1].clone());
            Ok(list(l))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        reg!(m, name, |a: &[Value]| {
            need(a, 2, "prepend")?;
            let mut l = vec![a[1].clone()];
            l.extend(list_of(&a[0], "prepend")?);
            Ok(list(l))
        });
    }
    reg!(m, "concat", |a: &[Value]| {
        let mut out = Vec::new();
        for v in a {
            out.extend(list_of(v, "concat")?);
        }
        Ok(list(out))
    });
    for name in ["reverse", "mustReverse"] {
        reg!(m, name, |a: &[Value]| {
            let mut l = list_of(a.first().unwrap_or(&Value::Nil), "reverse")?;
            l.reverse();
            Ok(list(l))
        });
    }
    for name in ["uniq", "mustUniq"] {
        reg!(m, name, |a: &[Value]| {
            let mut out: Vec<Value> = Vec::new();
            for v in list_of(a.first().unwrap_or(&Value::Nil), "uniq")? {
                if !out.iter().any(|o| deep_equal(o, &v)) {
                    out.push(v);
                }
            }
            Ok(list(out))
        });
    }
    for name in ["without", "mustWithout"] {
        reg!(m, name, |a: &[Value]| {
            let l = list_of(a.first().unwrap_or(&Value::Nil), "without")?;
            let drop = &a[1.min(a.len())..];
            Ok(list(
                l.into_iter()
                    .filter(|v| !drop.iter().any(|d| deep_equal(d, v)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        reg!(m, name, |a: &[Value]| {
            need(a, 2, "has")?;
            let l = list_of(&a[1], "has")?;
            Ok(Value::Bool(l.iter().any(|v| deep_equal(v, &a[0]))))
        });
    }
    for name in ["compact", "mustCompact"] {
        reg!(m, name, |a: &[Value]| {
            let l = list_of(a.first().unwrap_or(&Value::Nil), "compact")?;
            Ok(list(l.into_iter().filter(|v| !is_empty(v)).collect()))
        });
    }
    for name in ["chunk", "mustChunk"] {
        reg!(m, name, |a: &[Value]| {
            need(a, 2, "chunk")?;
            let size = to_i64(&a[0]).max(1) as usize;
            let l = list_of(&a[1], "chunk")?;
            Ok(list(l.chunks(size).map(|c| list(c.to_vec())).collect()))
        });
    }
    reg!(m, "sortAlpha", |a: &[Value]| {
        let mut l: Vec<String> = list_of(a.first().unwrap_or(&Value::Nil), "sortAlpha")?
            .iter()
            .map(go_string)
            .collect();
        l.sort();
        Ok(list(l.iter().map(|x| s(x)).collect()))
    });
}

fn dicts(m: &mut FuncMap) {
    reg!(m, "dict", |a: &[Value]| {
        let mut out = BTreeMap::new();
        for pair in a.chunks(2) {
            let k = go_string(&pair[0]);
            out.insert(
                Arc::from(k.as_str()),
                pair.get(1).cloned().unwrap_or(Value::Nil),
            );
        }
        Ok(map(out))
    });
    reg!(m, "get", |a: &[Value]| {
        need(a, 2, "get")?;
        Ok(map_of(&a[0])
            .get(arg_str(a, 1).as_str())
            .cloned()
            .unwrap_or_else(|| s("")))
    });
    reg!(m, "set", |a: &[Value]| {
        need(a, 3, "set")?;
        let mut d = map_of(&a[0]);
        d.insert(Arc::from(arg_str(a, 1).as_str()), a[2].clone());
        Ok(map(d))
    });
    reg!(m, "unset", |a: &[Value]| {
        need(a, 2, "unset")?;
        let mut d = map_of(&a[0]);
        d.remove(arg_str(a, 1).as_str());
        Ok(map(d))
    });
    reg!(m, "hasKey", |a: &[Value]| {
        need(a, 2, "hasKey")?;
        Ok(Value::Bool(
            map_of(&a[0]).contains_key(arg_str(a, 1).as_str()),
        ))
    });
    reg!(m, "pluck", |a: &[Value]| {
        let key = arg_str(a, 0);
        let out: Vec<Value> = a
            .iter()
            .skip(1)
            .filter_map(|d| map_of(d).get(key.as_str()).cloned())
            .collect();
        Ok(list(out))
    });
    reg!(m, "keys", |a: &[Value]| {
        let mut out: Vec<Value> = Vec::new();
        for d in a {
            out.extend(map_of(d).keys().map(|k| Value::String(k.clone())));
        }
        Ok(list(out))
    });
    reg!(m, "values", |a: &[Value]| Ok(list(
        map_of(a.first().unwrap_or(&Value::Nil))
            .into_values()
            .collect()
    )));
    reg!(m, "pick", |a: &[Value]| {
        let d = map_of(a.first().unwrap_or(&Value::Nil));
        let keys: Vec<String> = a.iter().skip(1).map(go_string).collect();
        Ok(map(d
            .into_iter()
            .filter(|(k, _)| keys.iter().any(|x| x.as_str() == &**k))
            .collect()))
    });
    reg!(m, "omit", |a: &[Value]| {
        let d = map_of(a.first().unwrap_or(&Value::Nil));
        let keys: Vec<String> = a.iter().skip(1).map(go_string).collect();
        Ok(map(d
            .into_iter()
            .filter(|(k, _)| !keys.iter().any(|x| x.as_str() == &**k))
            .collect()))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        reg!(m, name, move |a: &[Value]| {
            let mut dst = map_of(a.first().unwrap_or(&Value::Nil));
            for src in a.iter().skip(1) {
                merge_into(&mut dst, &map_of(src), overwrite);
            }
            Ok(map(dst))
        });
    }
    for name in ["deepCopy", "mustDeepCopy"] {
        reg!(m, name, |a: &[Value]| Ok(a
            .first()
            .cloned()
            .unwrap_or(Value::Nil)));
    }
    reg!(m, "dig", |a: &[Value]| {
        if a.len() < 3 {
            return Err(fail("dig needs at least three arguments"));
        }
        let d = &a[a.len() - 1];
        let default = &a[a.len() - 2];
        let mut cur = d.clone();
        for k in &a[..a.len() - 2] {
            match map_of(&cur).get(arg_str(std::slice::from_ref(k), 0).as_str()) {
                Some(v) => cur = v.clone(),
                None => return Ok(default.clone()),
            }
        }
        Ok(cur)
    });
}

fn encoding(m: &mut FuncMap) {
    reg!(m, "b64enc", |a: &[Value]| Ok(s(
        &base64::engine::general_purpose::STANDARD.encode(arg_str(a, 0))
    )));
    reg!(m, "b64dec", |a: &[Value]| {
        Ok(s(
            &match base64::engine::general_purpose::STANDARD.decode(arg_str(a, 0)) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e.to_string(),
            },
        ))
    });
    reg!(m, "b32enc", |a: &[Value]| Ok(s(&base32_encode(
        arg_str(a, 0).as_bytes()
    ))));
    reg!(m, "b32dec", |a: &[Value]| {
        Ok(s(&match base32_decode(&arg_str(a, 0)) {
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => "illegal base32 data".into(),
        }))
    });
    reg!(m, "sha1sum", |a: &[Value]| Ok(s(&hex(
        &sha1::Sha1::digest(arg_str(a, 0).as_bytes())
    ))));
    reg!(m, "sha256sum", |a: &[Value]| Ok(s(&hex(
        &sha2::Sha256::digest(arg_str(a, 0).as_bytes())
    ))));
    reg!(m, "sha512sum", |a: &[Value]| Ok(s(&hex(
        &sha2::Sha512::digest(arg_str(a, 0).as_bytes())
    ))));
    reg!(m, "adler32sum", |a: &[Value]| {
        let (mut x, mut y) = (1u32, 0u32);
        for b in arg_str(a, 0).bytes() {
            x = (x + u32::from(b)) % 65521;
            y = (y + x) % 65521;
        }
        Ok(s(&((y << 16) | x).to_string()))
    });
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base32_encode(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let n = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < n {
                out.push(A[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').chars() {
        let v = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((bits >> nbits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn defaults(m: &mut FuncMap) {
    reg!(m, "default", |a: &[Value]| {
        let d = a.first().cloned().unwrap_or(Value::Nil);
        match a.get(1) {
            Some(v) if !is_empty(v) => Ok(v.clone()),
            _ => Ok(d),
        }
    });
    reg!(m, "empty", |a: &[Value]| Ok(Value::Bool(is_empty(
        a.first().unwrap_or(&Value::Nil)
    ))));
    reg!(m, "coalesce", |a: &[Value]| Ok(a
        .iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::Nil)));
    reg!(m, "all", |a: &[Value]| Ok(Value::Bool(
        a.iter().all(|v| !is_empty(v))
    )));
    reg!(m, "any", |a: &[Value]| Ok(Value::Bool(
        a.iter().any(|v| !is_empty(v))
    )));
    reg!(m, "ternary", |a: &[Value]| {
        need(a, 3, "ternary")?;
        Ok(if a[2].is_truthy() {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    reg!(m, "fail", |a: &[Value]| Err(fail(arg_str(a, 0))));
    reg!(m, "toJson", |a: &[Value]| Ok(s(&go_json(
        &to_json(a.first().unwrap_or(&Value::Nil)),
        None
    ))));
    reg!(m, "mustToJson", |a: &[Value]| Ok(s(&go_json(
        &to_json(a.first().unwrap_or(&Value::Nil)),
        None
    ))));
    reg!(m, "toPrettyJson", |a: &[Value]| Ok(s(&go_json(
        &to_json(a.first().unwrap_or(&Value::Nil)),
        Some("  ")
    ))));
    reg!(m, "mustToPrettyJson", |a: &[Value]| Ok(s(&go_json(
        &to_json(a.first().unwrap_or(&Value::Nil)),
        Some("  ")
    ))));
    reg!(m, "toRawJson", |a: &[Value]| {
        let j = go_json(&to_json(a.first().unwrap_or(&Value::Nil)), None);
        Ok(s(&j
            .replace("\\u003c", "<")
            .replace("\\u003e", ">")
            .replace("\\u0026", "&")))
    });
    reg!(m, "mustToRawJson", |a: &[Value]| {
        let j = go_json(&to_json(a.first().unwrap_or(&Value::Nil)), None);
        Ok(s(&j
            .replace("\\u003c", "<")
            .replace("\\u003e", ">")
            .replace("\\u0026", "&")))
    });
    reg!(m, "deepEqual", |a: &[Value]| {
        need(a, 2, "deepEqual")?;
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
}

fn reflection(m: &mut FuncMap) {
    reg!(m, "typeOf", |a: &[Value]| Ok(s(go_type(
        a.first().unwrap_or(&Value::Nil)
    ))));
    reg!(m, "typeIs", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 0) == go_type(a.get(1).unwrap_or(&Value::Nil))
    )));
    reg!(m, "typeIsLike", |a: &[Value]| {
        let t = go_type(a.get(1).unwrap_or(&Value::Nil));
        let want = arg_str(a, 0);
        Ok(Value::Bool(want == t || want == format!("*{t}")))
    });
    reg!(m, "kindOf", |a: &[Value]| Ok(s(go_kind(
        a.first().unwrap_or(&Value::Nil)
    ))));
    reg!(m, "kindIs", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 0) == go_kind(a.get(1).unwrap_or(&Value::Nil))
    )));
}

fn paths(m: &mut FuncMap) {
    reg!(m, "base", |a: &[Value]| Ok(s(&path_base(&arg_str(a, 0)))));
    reg!(m, "dir", |a: &[Value]| Ok(s(&path_dir(&arg_str(a, 0)))));
    reg!(m, "ext", |a: &[Value]| {
        let p = arg_str(a, 0);
        let base_start = p.rfind('/').map_or(0, |i| i + 1);
        Ok(s(p[base_start..]
            .rfind('.')
            .map_or("", |i| &p[base_start + i..])))
    });
    reg!(m, "clean", |a: &[Value]| Ok(s(&path_clean(&arg_str(a, 0)))));
    reg!(m, "isAbs", |a: &[Value]| Ok(Value::Bool(
        arg_str(a, 0).starts_with('/')
    )));
}

pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

fn network(m: &mut FuncMap) {
    reg!(m, "urlParse", |a: &[Value]| {
        let u =
            parse_go_url(&arg_str(a, 0)).map_err(|e| fail(format!("unable to parse url: {e}")))?;
        let mut out = BTreeMap::new();
        for (k, v) in u {
            out.insert(Arc::from(k), s(&v));
        }
        Ok(map(out))
    });
    reg!(m, "urlJoin", |a: &[Value]| {
        let d = map_of(a.first().unwrap_or(&Value::Nil));
        let get = |k: &str| d.get(k).map(go_string).unwrap_or_default();
        let mut out = String::new();
        let scheme = get("scheme");
        if !scheme.is_empty() {
            out.push_str(&scheme);
            out.push(':');
        }
        let opaque = get("opaque");
        if !opaque.is_empty() {
            out.push_str(&opaque);
        } else {
            let host = get("host");
            let userinfo = get("userinfo");
            if !host.is_empty() || !scheme.is_empty() {
                out.push_str("//");
                if !userinfo.is_empty() {
                    out.push_str(&userinfo);
                    out.push('@');
                }
                out.push_str(&host);
            }
            let path = get("path");
            if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
                out.push('/');
            }
            out.push_str(&path);
        }
        let q = get("query");
        if !q.is_empty() {
            out.push('?');
            out.push_str(&q);
        }
        let f = get("fragment");
        if !f.is_empty() {
            out.push('#');
            out.push_str(&f);
        }
        Ok(s(&out))
    });
}

/// Go's `net/url.Parse`, reduced to the fields Sprig's `urlParse` returns.
fn parse_go_url(raw: &str) -> Result<Vec<(&'static str, String)>, String> {
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, f.to_string()),
        None => (raw, String::new()),
    };
    let mut scheme = String::new();
    let mut rest = rest.to_string();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = cand.to_lowercase();
            rest = rest[i + 1..].to_string();
        } else if i == 0 {
            return Err("missing protocol scheme".into());
        }
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r.to_string(), q.to_string()),
        None => (rest.clone(), String::new()),
    };
    let mut opaque = String::new();
    let mut userinfo = String::new();
    let mut host = String::new();
    let path;
    if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest;
        path = String::new();
    } else if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        path = after[end..].to_string();
        match authority.rsplit_once('@') {
            Some((u, h)) => {
                userinfo = u.to_string();
                host = h.to_string();
            }
            None => host = authority.to_string(),
        }
    } else {
        path = rest;
    }
    let hostname = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
            .to_string()
    } else {
        host.rsplit_once(':')
            .map_or(host.clone(), |(h, _)| h.to_string())
    };
    Ok(vec![
        ("scheme", scheme),
        ("host", host),
        ("hostname", hostname),
        ("path", path),
        ("query", query),
        ("opaque", opaque),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ])
}

fn semver_funcs(m: &mut FuncMap) {
    reg!(m, "semver", |a: &[Value]| {
        let v = crate::semver_util::parse_version(&arg_str(a, 0)).map_err(fail)?;
        let mut out = BTreeMap::new();
        out.insert(Arc::from("Major"), Value::Int(v.major as i64));
        out.insert(Arc::from("Minor"), Value::Int(v.minor as i64));
        out.insert(Arc::from("Patch"), Value::Int(v.patch as i64));
        out.insert(Arc::from("Prerelease"), s(v.pre.as_str()));
        out.insert(Arc::from("Metadata"), s(v.build.as_str()));
        out.insert(Arc::from("Original"), s(&arg_str(a, 0)));
        Ok(map(out))
    });
    reg!(m, "semverCompare", |a: &[Value]| {
        let c = crate::semver_util::Constraint::parse(&arg_str(a, 0)).map_err(fail)?;
        let v = crate::semver_util::parse_version(&arg_str(a, 1)).map_err(fail)?;
        Ok(Value::Bool(c.matches(&v)))
    });
}

fn helm(m: &mut FuncMap, lookup: Option<Arc<dyn Lookup>>) {
    reg!(m, "toYaml", |a: &[Value]| Ok(s(&crate::yaml::to_yaml(
        &to_json(a.first().unwrap_or(&Value::Nil))
    ))));
    reg!(m, "mustToYaml", |a: &[Value]| Ok(s(&crate::yaml::to_yaml(
        &to_json(a.first().unwrap_or(&Value::Nil))
    ))));
    reg!(m, "toYamlPretty", |a: &[Value]| Ok(s(
        &crate::yaml::to_yaml(&to_json(a.first().unwrap_or(&Value::Nil)))
    )));
    reg!(m, "fromYaml", |a: &[Value]| {
        Ok(match crate::yaml::parse(&arg_str(a, 0)) {
            Ok(serde_json::Value::Object(o)) => to_template(&serde_json::Value::Object(o)),
            Ok(serde_json::Value::Null) => map(BTreeMap::new()),
            Ok(_) => error_map("error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}"),
            Err(e) => error_map(&e),
        })
    });
    reg!(m, "fromYamlArray", |a: &[Value]| {
        Ok(match crate::yaml::parse(&arg_str(a, 0)) {
            Ok(serde_json::Value::Array(l)) => to_template(&serde_json::Value::Array(l)),
            Ok(serde_json::Value::Null) => list(Vec::new()),
            Ok(_) => list(vec![s("error unmarshaling JSON: json: cannot unmarshal into Go value of type []interface {}")]),
            Err(e) => list(vec![s(&e)]),
        })
    });
    reg!(m, "fromJson", |a: &[Value]| {
        Ok(
            match serde_json::from_str::<serde_json::Value>(&arg_str(a, 0)) {
                Ok(serde_json::Value::Object(o)) => to_template(&serde_json::Value::Object(o)),
                Ok(_) => error_map(
                    "json: cannot unmarshal into Go value of type map[string]interface {}",
                ),
                Err(e) => error_map(&e.to_string()),
            },
        )
    });
    reg!(m, "fromJsonArray", |a: &[Value]| {
        Ok(
            match serde_json::from_str::<serde_json::Value>(&arg_str(a, 0)) {
                Ok(serde_json::Value::Array(l)) => to_template(&serde_json::Value::Array(l)),
                Ok(_) => list(vec![s(
                    "json: cannot unmarshal into Go value of type []interface {}",
                )]),
                Err(e) => list(vec![s(&e.to_string())]),
            },
        )
    });
    reg!(m, "required", |a: &[Value]| {
        let v = a.get(1).cloned().unwrap_or(Value::Nil);
        match &v {
            Value::Nil => Err(fail(arg_str(a, 0))),
            Value::String(x) if x.is_empty() => Err(fail(arg_str(a, 0))),
            _ => Ok(v),
        }
    });
    reg!(m, "lookup", move |a: &[Value]| {
        need(a, 4, "lookup")?;
        let req = LookupRequest {
            api_version: arg_str(a, 0),
            kind: arg_str(a, 1),
            namespace: arg_str(a, 2),
            name: arg_str(a, 3),
        };
        match &lookup {
            None => Ok(map(BTreeMap::new())),
            Some(l) => match l.lookup(&req) {
                Ok(Some(obj)) => Ok(to_template(&obj)),
                Ok(None) => Ok(map(BTreeMap::new())),
                Err(e) => Err(fail(e)),
            },
        }
    });
    reg!(m, "__method", |a: &[Value]| super::objects::call_method(a));
    reg!(m, "toToml", |a: &[Value]| Ok(s(&to_toml(&to_json(
        a.first().unwrap_or(&Value::Nil)
    )))));
}

fn error_map(message: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Error"), s(message));
    map(m)
}

/// A small TOML writer for `toToml` (tables of scalars, arrays and subtables).
fn to_toml(v: &serde_json::Value) -> String {
    fn scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(x) => go_quote(x),
            serde_json::Value::Array(items) => format!(
                "[{}]",
                items.iter().map(scalar).collect::<Vec<_>>().join(", ")
            ),
            other => other.to_string(),
        }
    }
    // BurntSushi/toml indents the keys of each nested table by two spaces
    // per level.
    fn table(
        out: &mut String,
        prefix: &str,
        m: &serde_json::Map<String, serde_json::Value>,
        depth: usize,
    ) {
        let pad = "  ".repeat(depth);
        for (k, v) in m {
            if !v.is_object() {
                out.push_str(&format!("{pad}{k} = {}\n", scalar(v)));
            }
        }
        for (k, v) in m {
            if let serde_json::Value::Object(sub) = v {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push_str(&format!("\n{pad}[{name}]\n"));
                table(out, &name, sub, depth + 1);
            }
        }
    }
    let mut out = String::new();
    if let serde_json::Value::Object(m) = v {
        table(&mut out, "", m, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Value {
        let funcs = chart_funcs(None);
        funcs[name](args).unwrap()
    }

    #[test]
    fn url_parse_like_go() {
        let u = parse_go_url("grpcs://us.mesh.sync.konghq.com:443").unwrap();
        let get = |k: &str| {
            u.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("host"), "us.mesh.sync.konghq.com:443");
        assert_eq!(get("hostname"), "us.mesh.sync.konghq.com");
        assert_eq!(get("path"), "");
        assert_eq!(get("scheme"), "grpcs");
    }

    #[test]
    fn strings_behave_like_sprig() {
        assert_eq!(
            go_string(&call("trunc", &[Value::Int(3), s("abcdef")])),
            "abc"
        );
        assert_eq!(
            go_string(&call("trunc", &[Value::Int(-2), s("abcdef")])),
            "ef"
        );
        assert_eq!(
            go_string(&call("nindent", &[Value::Int(2), s("a\nb")])),
            "\n  a\n  b"
        );
        assert_eq!(
            go_string(&call("quote", &[s("x"), Value::Nil, Value::Float(2.0)])),
            "\"x\" \"2\""
        );
        assert_eq!(
            go_string(&call("snakecase", &[s("FirstName")])),
            "first_name"
        );
        assert_eq!(go_string(&call("b32enc", &[s("hi")])), "NBUQ====");
        assert_eq!(go_string(&call("b32dec", &[s("NBUQ====")])), "hi");
    }

    #[test]
    fn htpasswd_is_bcrypt_2a() {
        let line = go_string(&call("htpasswd", &[s("admin"), s("pw")]));
        let (user, hash) = line.split_once(':').unwrap();
        assert_eq!(user, "admin");
        assert!(hash.starts_with("$2a$10$"), "{hash}");
        assert!(bcrypt::verify("pw", hash).unwrap());
    }

    #[test]
    fn aliases_and_extras() {
        assert_eq!(go_string(&call("tuple", &[Value::Int(1), s("a")])), "[1 a]");
        assert_eq!(
            go_string(&call("biggest", &[Value::Int(1), Value::Int(5)])),
            "5"
        );
        let r = call("randInt", &[Value::Int(3), Value::Int(4)]);
        assert_eq!(r, Value::Int(3));
        assert_eq!(
            go_string(&call(
                "abbrevboth",
                &[Value::Int(5), Value::Int(10), s("1234 5678 9123")]
            )),
            "...5678..."
        );
    }

    #[test]
    fn merge_keeps_destination_values() {
        let d = |k: &str, v: i64| {
            let mut m = BTreeMap::new();
            m.insert(Arc::from(k), Value::Int(v));
            map(m)
        };
        let merged = call("merge", &[d("a", 1), d("a", 2)]);
        assert_eq!(go_string(&merged), "map[a:1]");
        let over = call("mergeOverwrite", &[d("a", 1), d("a", 2)]);
        assert_eq!(go_string(&over), "map[a:2]");
    }

    #[test]
    fn paths_like_go() {
        assert_eq!(path_clean("a/../b/./c/"), "b/c");
        assert_eq!(path_base("/a/b.txt"), "b.txt");
        assert_eq!(path_dir("a/b/c"), "a/b");
    }
}

//! Helm's built-in objects with methods (`.Capabilities.APIVersions`,
//! `.Files`), as template maps carrying a hidden kind marker, and the
//! dispatcher the adapter routes method calls to.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use gotmpl::Value;

use super::adapter::fail;
use super::convert::go_string;

const KIND: &str = "__object";

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

/// `.Capabilities.APIVersions`: a list of `group/version` and
/// `group/version/Kind` entries answering `Has`.
pub fn api_versions(list: &[String]) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from(KIND), s("APIVersions"));
    m.insert(
        Arc::from("list"),
        Value::List(list.iter().map(|v| s(v)).collect::<Vec<_>>().into()),
    );
    Value::Map(Arc::new(m))
}

/// `.Files`: the chart's non-template files by path (a plain map, so
/// ranging over it yields paths, as over Helm's `Files`).
pub fn files(files: &BTreeMap<String, Vec<u8>>) -> Value {
    let mut content = BTreeMap::new();
    for (k, v) in files {
        content.insert(Arc::from(k.as_str()), s(&String::from_utf8_lossy(v)));
    }
    Value::Map(Arc::new(content))
}

fn files_of(v: &Value) -> BTreeMap<Arc<str>, Value> {
    match v {
        Value::Map(m) => (**m).clone(),
        _ => BTreeMap::new(),
    }
}

/// `__method NAME RECEIVER ARGS...`.
pub fn call_method(a: &[Value]) -> gotmpl::Result<Value> {
    let method = a.first().map(go_string).unwrap_or_default();
    let receiver = a.get(1).cloned().unwrap_or(Value::Nil);
    let args = &a[2.min(a.len())..];
    let kind = receiver.field(KIND).map(go_string).unwrap_or_default();
    let kind = if kind.is_empty()
        && matches!(
            method.as_str(),
            "Get" | "GetBytes" | "Lines" | "Glob" | "AsConfig" | "AsSecrets"
        ) {
        "Files".to_string()
    } else {
        kind
    };
    match (kind.as_str(), method.as_str()) {
        ("APIVersions", "Has") => {
            let want = args.first().map(go_string).unwrap_or_default();
            let has = match receiver.field("list") {
                Some(Value::List(l)) => l.iter().any(|v| go_string(v) == want),
                _ => false,
            };
            Ok(Value::Bool(has))
        }
        ("Files", "Get") => {
            let name = args.first().map(go_string).unwrap_or_default();
            Ok(files_of(&receiver)
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| s("")))
        }
        ("Files", "GetBytes") => {
            let name = args.first().map(go_string).unwrap_or_default();
            Ok(files_of(&receiver)
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| s("")))
        }
        ("Files", "Lines") => {
            let name = args.first().map(go_string).unwrap_or_default();
            let text = files_of(&receiver)
                .get(name.as_str())
                .map(go_string)
                .unwrap_or_default();
            if text.is_empty() {
                return Ok(Value::List(Vec::new().into()));
            }
            // Helm drops one trailing newline before splitting.
            let text = text.strip_suffix('\n').unwrap_or(&text);
            Ok(Value::List(
                text.split('\n').map(s).collect::<Vec<_>>().into(),
            ))
        }
        ("Files", "Glob") => {
            let pattern = args.first().map(go_string).unwrap_or_default();
            let matched: BTreeMap<String, Vec<u8>> = files_of(&receiver)
                .into_iter()
                .filter(|(k, _)| glob_match(&pattern, k))
                .map(|(k, v)| (k.to_string(), go_string(&v).into_bytes()))
                .collect();
            Ok(files(&matched))
        }
        ("Files", "AsConfig") => {
            let mut m = serde_json::Map::new();
            for (k, v) in files_of(&receiver) {
                let base = k.rsplit('/').next().unwrap_or(&k).to_string();
                m.insert(base, serde_json::Value::String(go_string(&v)));
            }
            if m.is_empty() {
                return Ok(s(""));
            }
            Ok(s(&crate::yaml::to_yaml(&serde_json::Value::Object(m))))
        }
        ("Files", "AsSecrets") => {
            let mut m = serde_json::Map::new();
            for (k, v) in files_of(&receiver) {
                let base = k.rsplit('/').next().unwrap_or(&k).to_string();
                m.insert(
                    base,
                    serde_json::Value::String(
                        base64::engine::general_purpose::STANDARD.encode(go_string(&v)),
                    ),
                );
            }
            if m.is_empty() {
                return Ok(s(""));
            }
            Ok(s(&crate::yaml::to_yaml(&serde_json::Value::Object(m))))
        }
        _ => {
            if args.is_empty() {
                // A plain field that happens to have a method's name.
                return Ok(match &receiver {
                    Value::Map(m) => m.get(method.as_str()).cloned().unwrap_or(Value::Nil),
                    _ => Value::Nil,
                });
            }
            Err(fail(format!(
                "can't give argument to non-function {method}"
            )))
        }
    }
}

/// Glob with `*` (not crossing `/`), `**`, `?` and `[...]` classes, as
/// gobwas/glob with `/` as separator.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn rec(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') if p.get(1) == Some(&'*') => (0..=s.len()).any(|i| rec(&p[2..], &s[i..])),
            Some('*') => {
                for i in 0..=s.len() {
                    if rec(&p[1..], &s[i..]) {
                        return true;
                    }
                    if i < s.len() && s[i] == '/' {
                        break;
                    }
                }
                false
            }
            Some('?') => !s.is_empty() && s[0] != '/' && rec(&p[1..], &s[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return s.first() == Some(&'[') && rec(&p[1..], &s[1..]);
                };
                let class = &p[1..end];
                let (neg, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let Some(&c) = s.first() else { return false };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        if class[i] <= c && c <= class[i + 2] {
                            hit = true;
                        }
                        i += 3;
                    } else {
                        if class[i] == c {
                            hit = true;
                        }
                        i += 1;
                    }
                }
                hit != neg && rec(&p[end + 1..], &s[1..])
            }
            Some(c) => s.first() == Some(c) && rec(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    rec(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("files/*.conf", "files/a.conf"));
        assert!(!glob_match("files/*.conf", "files/x/a.conf"));
        assert!(glob_match("files/**.conf", "files/x/a.conf"));
        assert!(glob_match("f[a-c]?.txt", "fb1.txt"));
    }

    #[test]
    fn api_versions_has() {
        let v = api_versions(&["policy/v1".to_string()]);
        let r = call_method(&[s("Has"), v.clone(), s("policy/v1")]).unwrap();
        assert_eq!(r, Value::Bool(true));
        let r = call_method(&[s("Has"), v, s("policy/v1beta1")]).unwrap();
        assert_eq!(r, Value::Bool(false));
    }
}

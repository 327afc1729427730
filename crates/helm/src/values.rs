//! Values: merging what the user supplies, `--set` parsing, and coalescing
//! user values over chart defaults the way Helm does (subchart scoping and
//! `global` propagation included).

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::error::HelmError;

/// Values are JSON-shaped maps, as Helm keeps them after its YAML→JSON read.
pub type Values = Map<String, Value>;

/// Deep-merges `overlay` into `base`: maps merge key by key, anything else
/// (lists included) is replaced. This is how several `values` documents
/// combine.
pub fn merge_values(base: &mut Values, overlay: &Values) {
    for (k, v) in overlay {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge_values(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Parses a YAML values document. An empty document is an empty map.
pub fn parse_values(text: &str, origin: &str) -> Result<Values, HelmError> {
    match crate::yaml::parse(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Values::new()),
        Ok(_) => Err(HelmError::Values {
            origin: origin.to_string(),
            message: "the document is not a map".into(),
        }),
        Err(message) => Err(HelmError::Values {
            origin: origin.to_string(),
            message,
        }),
    }
}

/// How a `--set` value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: `true`, `false`, `null` and integers become typed values.
    Auto,
    /// `--set-string`: everything stays text.
    String,
}

/// Applies one `--set` expression (`a.b[0].c=v,d=e`, `l={x,y}`) to `values`,
/// following Helm's strvals syntax.
pub fn apply_set(values: &mut Values, expr: &str, kind: SetKind) -> Result<(), HelmError> {
    let mut p = SetParser {
        chars: expr.chars().collect(),
        pos: 0,
        kind,
        expr,
    };
    p.parse_into(values)
}

/// Sets `path` (dotted, with `[i]` indexes) to a list of strings, as the
/// helm provider's `set_list` does.
pub fn apply_set_list(values: &mut Values, path: &str, items: &[String]) -> Result<(), HelmError> {
    let escaped: Vec<String> = items
        .iter()
        .map(|s| s.replace('\\', "\\\\").replace(',', "\\,"))
        .collect();
    apply_set(
        values,
        &format!("{path}={{{}}}", escaped.join(",")),
        SetKind::Auto,
    )
}

struct SetParser<'a> {
    chars: Vec<char>,
    pos: usize,
    kind: SetKind,
    expr: &'a str,
}

impl SetParser<'_> {
    fn err(&self, message: &str) -> HelmError {
        HelmError::Set {
            expr: self.expr.to_string(),
            message: message.to_string(),
        }
    }

    fn parse_into(&mut self, values: &mut Values) -> Result<(), HelmError> {
        while self.pos < self.chars.len() {
            self.key(values)?;
        }
        Ok(())
    }

    /// Reads up to one of `stops`, honouring backslash escapes.
    fn run_until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            self.pos += 1;
            if c == '\\' && self.pos < self.chars.len() {
                out.push(self.chars[self.pos]);
                self.pos += 1;
                continue;
            }
            if stops.contains(&c) {
                return (out, Some(c));
            }
            out.push(c);
        }
        (out, None)
    }

    fn key(&mut self, data: &mut Values) -> Result<(), HelmError> {
        let (key, stop) = self.run_until(&['=', '[', ',', '.']);
        match stop {
            None => {
                if key.is_empty() {
                    return Ok(());
                }
                Err(self.err(&format!("key {key:?} has no value")))
            }
            Some(',') => {
                if key.is_empty() {
                    return Ok(());
                }
                Err(self.err(&format!("key {key:?} has no value (cannot end with ,)")))
            }
            Some('=') => {
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let list = self.value_list()?;
                    data.insert(key, Value::Array(list));
                    self.skip_comma();
                    return Ok(());
                }
                let v = self.value();
                match v {
                    Some(v) => data.insert(key, v),
                    None => data.insert(key, Value::Null),
                };
                Ok(())
            }
            Some('.') => {
                if key.is_empty() {
                    return Err(self.err("key segment is empty"));
                }
                let mut inner = match data.remove(&key) {
                    Some(Value::Object(m)) => m,
                    _ => Values::new(),
                };
                let r = self.key(&mut inner);
                data.insert(key, Value::Object(inner));
                r
            }
            Some('[') => {
                let index = self.index()?;
                let mut list = match data.remove(&key) {
                    Some(Value::Array(l)) => l,
                    _ => Vec::new(),
                };
                let r = self.list_item(&mut list, index);
                data.insert(key, Value::Array(list));
                r
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_comma(&mut self) {
        if self.peek() == Some(',') {
            self.pos += 1;
        }
    }

    fn index(&mut self) -> Result<usize, HelmError> {
        let (digits, stop) = self.run_until(&[']']);
        if stop != Some(']') {
            return Err(self.err("missing ] in index"));
        }
        digits
            .trim()
            .parse::<usize>()
            .map_err(|_| self.err(&format!("invalid index {digits:?}")))
            .and_then(|i| {
                if i > 65536 {
                    Err(self.err("index too large"))
                } else {
                    Ok(i)
                }
            })
    }

    fn list_item(&mut self, list: &mut Vec<Value>, index: usize) -> Result<(), HelmError> {
        while list.len() <= index {
            list.push(Value::Null);
        }
        match self.peek() {
            Some('=') => {
                self.pos += 1;
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let l = self.value_list()?;
                    list[index] = Value::Array(l);
                    self.skip_comma();
                    return Ok(());
                }
                list[index] = self.value().unwrap_or(Value::Null);
                Ok(())
            }
            Some('.') => {
                self.pos += 1;
                let mut inner = match std::mem::take(&mut list[index]) {
                    Value::Object(m) => m,
                    _ => Values::new(),
                };
                let r = self.key(&mut inner);
                list[index] = Value::Object(inner);
                r
            }
            Some('[') => {
                self.pos += 1;
                let i = self.index()?;
                let mut inner = match std::mem::take(&mut list[index]) {
                    Value::Array(l) => l,
                    _ => Vec::new(),
                };
                let r = self.list_item(&mut inner, i);
                list[index] = Value::Array(inner);
                r
            }
            _ => Err(self.err("expected = or . or [ after index")),
        }
    }

    fn value(&mut self) -> Option<Value> {
        let (text, _) = self.run_until(&[',']);
        Some(self.typed(&text))
    }

    fn value_list(&mut self) -> Result<Vec<Value>, HelmError> {
        let mut out = Vec::new();
        loop {
            let (text, stop) = self.run_until(&[',', '}']);
            match stop {
                Some(',') => out.push(self.typed(&text)),
                Some('}') => {
                    if !text.is_empty() || !out.is_empty() {
                        out.push(self.typed(&text));
                    }
                    return Ok(out);
                }
                _ => return Err(self.err("list is missing its closing }")),
            }
        }
    }

    fn typed(&self, text: &str) -> Value {
        if self.kind == SetKind::String {
            return Value::String(text.to_string());
        }
        match text {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            "null" => return Value::Null,
            "0" => return Value::Number(0.into()),
            _ => {}
        }
        if !text.starts_with('0') {
            if let Ok(i) = text.parse::<i64>() {
                return Value::Number(i.into());
            }
        }
        Value::String(text.to_string())
    }
}

/// Coalesces user values over `chart`'s defaults (and, recursively, each
/// enabled subchart's defaults under its name), as Helm's `CoalesceValues`.
pub fn coalesce(chart: &Chart, user: &Values) -> Values {
    let mut dest = user.clone();
    coalesce_chart(chart, &mut dest, false);
    dest
}

/// Like [`coalesce`] but keeping `null` defaults, as Helm's `MergeValues`
/// (what a release record stores as the chart's values).
pub fn merge_defaults(chart: &Chart, user: &Values) -> Values {
    let mut dest = user.clone();
    coalesce_chart(chart, &mut dest, true);
    dest
}

fn coalesce_chart(chart: &Chart, dest: &mut Values, keep_nulls: bool) {
    coalesce_tables(dest, &chart.values, keep_nulls);
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut sub_dest = match dest.remove(&name) {
            Some(Value::Object(m)) => m,
            Some(Value::Null) | None => Values::new(),
            Some(other) => {
                tracing::warn!(subchart = %name, "values for a subchart are not a map; ignoring them");
                let _ = other;
                Values::new()
            }
        };
        coalesce_globals(&mut sub_dest, dest);
        coalesce_chart(sub, &mut sub_dest, keep_nulls);
        dest.insert(name, Value::Object(sub_dest));
    }
}

/// Helm's `processImportValues`, bottom-up: each chart with dependencies
/// gets its values replaced by its defaults coalesced with its subcharts'
/// (nulls kept), with values imported from enabled subcharts
/// (`import-values`: `name` for `exports.name`, or `{child, parent}`)
/// filling keys the chart does not set itself.
pub fn apply_import_values(chart: &mut Chart) {
    for sub in &mut chart.dependencies {
        apply_import_values(sub);
    }
    if chart.metadata.dependencies.is_empty() {
        return;
    }
    // Helm stores the short form `name` as `{child: exports.name, parent: .}`.
    for dep in &mut chart.metadata.dependencies {
        for iv in &mut dep.import_values {
            if let Value::String(s) = iv {
                let mut m = Map::new();
                m.insert("child".into(), Value::String(format!("exports.{s}")));
                m.insert("parent".into(), Value::String(".".into()));
                *iv = Value::Object(m);
            }
        }
    }
    let cvals = merge_defaults(chart, &Values::new());
    let mut imported = Values::new();
    for dep in chart.metadata.dependencies.iter().filter(|d| d.enabled) {
        let name = if dep.alias.is_empty() {
            &dep.name
        } else {
            &dep.alias
        };
        for iv in &dep.import_values {
            let (child, parent) = match iv {
                Value::Object(m) => (
                    m.get("child")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    m.get("parent")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ),
                _ => continue,
            };
            let Some(Value::Object(table)) = table_at(&cvals, &format!("{name}.{child}")) else {
                tracing::warn!(chart = %chart.metadata.name, dependency = %name, child = %child, "import-values path is not a table; skipped");
                continue;
            };
            let mut piece = table.clone();
            for key in parent.split('.').filter(|k| !k.is_empty()).rev() {
                let mut wrapper = Values::new();
                wrapper.insert(key.to_string(), Value::Object(piece));
                piece = wrapper;
            }
            merge_keep(&mut imported, &piece);
        }
    }
    let mut values = cvals;
    merge_keep(&mut values, &imported);
    chart.values = values;
}

fn table_at<'a>(values: &'a Values, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.').filter(|p| !p.is_empty());
    let mut cur = values.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Copies the parent's `global` into a subchart's values; the parent wins.
fn coalesce_globals(dest: &mut Values, parent: &Values) {
    let src = match parent.get("global") {
        Some(Value::Object(m)) => m.clone(),
        _ => Values::new(),
    };
    let mut dg = match dest.get("global") {
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
        None => Values::new(),
    };
    for (k, v) in src {
        match (&v, dg.get(&k)) {
            (Value::Object(pv), Some(Value::Object(dv))) => {
                let mut merged = pv.clone();
                merge_keep(&mut merged, dv);
                dg.insert(k, Value::Object(merged));
            }
            (Value::Object(_), Some(_)) => {}
            (_, Some(Value::Object(_))) => {}
            _ => {
                dg.insert(k, v);
            }
        }
    }
    dest.insert("global".into(), Value::Object(dg));
}

/// Adds keys of `src` missing from `dst`, recursively (dst wins).
fn merge_keep(dst: &mut Values, src: &Values) {
    for (k, v) in src {
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => merge_keep(d, s),
            (Some(_), _) => {}
            (None, _) => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey` with merge off: defaults from `src` fill
/// `dst`; a user `null` deletes the default.
fn coalesce_tables(dst: &mut Values, src: &Values, keep_nulls: bool) {
    for (k, sv) in src {
        match dst.get_mut(k) {
            Some(Value::Null) if !keep_nulls => {
                dst.remove(k);
            }
            Some(Value::Object(dm)) => {
                if let Value::Object(sm) = sv {
                    coalesce_tables(dm, sm, keep_nulls);
                }
            }
            Some(_) => {}
            None if keep_nulls => {
                dst.insert(k.clone(), sv.clone());
            }
            // A null default means "no value": Helm does not copy it.
            None if sv.is_null() => {}
            None => {
                dst.insert(k.clone(), strip_nulls(sv));
            }
        }
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Values {
        match v {
            Value::Object(m) => m,
            _ => Values::new(),
        }
    }

    fn check_set(exprs: &[&str], expected: Value) {
        let mut v = Values::new();
        for e in exprs {
            apply_set(&mut v, e, SetKind::Auto).unwrap();
        }
        assert_eq!(Value::Object(v), expected);
    }

    #[test]
    fn set_expressions() {
        check_set(&["a.b=1,c=true"], json!({"a": {"b": 1}, "c": true}));
        check_set(&["l={x,y}"], json!({"l": ["x", "y"]}));
        check_set(&["l[1].n=v"], json!({"l": [null, {"n": "v"}]}));
        check_set(
            &["a=01,b=null,c=x\\,y"],
            json!({"a": "01", "b": null, "c": "x,y"}),
        );
        check_set(&["a\\.b=c"], json!({"a.b": "c"}));
    }

    #[test]
    fn set_errors_are_reported() {
        let mut v = Values::new();
        assert!(apply_set(&mut v, "a", SetKind::Auto).is_err());
        assert!(apply_set(&mut v, "a[x]=1", SetKind::Auto).is_err());
    }

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut a = obj(json!({"m": {"x": 1, "y": 2}, "l": [1, 2]}));
        merge_values(&mut a, &obj(json!({"m": {"y": 3}, "l": [9]})));
        assert_eq!(Value::Object(a), json!({"m": {"x": 1, "y": 3}, "l": [9]}));
    }

    #[test]
    fn coalesce_tables_user_wins_and_null_deletes() {
        let mut dst = obj(json!({"a": {"b": null, "c": 5}, "d": null}));
        let defaults =
            obj(json!({"a": {"b": 1, "e": 2}, "d": 3, "f": 4, "g": null, "h": {"i": null}}));
        let mut kept = dst.clone();
        coalesce_tables(&mut dst, &defaults, false);
        assert_eq!(
            Value::Object(dst),
            json!({"a": {"c": 5, "e": 2}, "f": 4, "h": {}})
        );
        coalesce_tables(&mut kept, &defaults, true);
        assert_eq!(
            Value::Object(kept),
            json!({"a": {"b": null, "c": 5, "e": 2}, "d": null, "f": 4, "g": null, "h": {"i": null}})
        );
    }

    #[test]
    fn globals_flow_down_with_parent_winning() {
        let mut sub = obj(json!({"global": {"image": {"registry": "sub", "tag": "t"}, "x": 1}}));
        let parent = obj(json!({"global": {"image": {"registry": "parent"}, "x": 2}}));
        coalesce_globals(&mut sub, &parent);
        assert_eq!(
            Value::Object(sub),
            json!({"global": {"image": {"registry": "parent", "tag": "t"}, "x": 2}})
        );
    }
}

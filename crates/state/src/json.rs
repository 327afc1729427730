//! JSON text kept exactly, and Terraform's attribute paths.
//!
//! Terraform numbers are arbitrary precision (a state can hold `1/3` with 160
//! digits); `serde_json::Value` would round them to `f64`. [`ExactJson`]
//! keeps the text of every number as written, so import followed by export
//! loses nothing. Objects keep their key order.

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON value held as compact text, numbers exactly as written.
///
/// Two values are equal when their compact texts are equal: object key order
/// and number spelling (`1` vs `1.0`) count, as they do in a state file.
#[derive(Clone)]
pub struct ExactJson(Box<RawValue>);

impl PartialEq for ExactJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ExactJson {}

/// JSON text that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON: {0}")]
pub struct JsonError(#[from] serde_json::Error);

impl ExactJson {
    /// `null`.
    pub fn null() -> ExactJson {
        ExactJson::from_compact("null".to_owned())
    }

    /// Parses JSON text, keeping numbers exactly and compacting whitespace.
    pub fn parse(text: &str) -> Result<ExactJson, JsonError> {
        let raw: &RawValue = serde_json::from_str(text)?;
        Ok(ExactJson::from_compact(compact(raw)?))
    }

    /// Converts a `serde_json::Value` (numbers as serde_json holds them).
    pub fn from_value(value: &serde_json::Value) -> ExactJson {
        // Serializing a Value cannot fail: keys are strings, numbers finite.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        ExactJson::from_compact(text)
    }

    fn from_compact(text: String) -> ExactJson {
        // `text` is valid compact JSON by construction in every caller.
        match RawValue::from_string(text) {
            Ok(raw) => ExactJson(raw),
            Err(_) => {
                ExactJson(RawValue::from_string("null".to_owned()).expect("null is valid JSON"))
            }
        }
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value as `serde_json::Value`; numbers beyond `f64` are rounded.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.as_str()).unwrap_or(serde_json::Value::Null)
    }

    pub fn is_null(&self) -> bool {
        self.as_str() == "null"
    }

    /// The object members in order, or `None` when this is not an object.
    pub fn object(&self) -> Option<IndexMap<String, ExactJson>> {
        if !self.as_str().starts_with('{') {
            return None;
        }
        let members: IndexMap<String, Box<RawValue>> = serde_json::from_str(self.as_str()).ok()?;
        Some(
            members
                .into_iter()
                .map(|(k, v)| (k, ExactJson(v)))
                .collect(),
        )
    }

    /// The array elements, or `None` when this is not an array.
    pub fn array(&self) -> Option<Vec<ExactJson>> {
        if !self.as_str().starts_with('[') {
            return None;
        }
        let items: Vec<Box<RawValue>> = serde_json::from_str(self.as_str()).ok()?;
        Some(items.into_iter().map(ExactJson).collect())
    }

    /// The string, or `None` when this is not a string.
    pub fn as_string(&self) -> Option<String> {
        if !self.as_str().starts_with('"') {
            return None;
        }
        serde_json::from_str(self.as_str()).ok()
    }

    /// The value at `path`, if every step exists.
    pub fn get(&self, path: &AttrPath) -> Option<ExactJson> {
        let mut current = self.clone();
        for step in &path.0 {
            current = child(&current, step)?;
        }
        Some(current)
    }

    /// A copy with the value at `path` replaced, and the value that was
    /// there; `None` when the path does not exist in this value.
    pub fn replace(&self, path: &AttrPath, new: ExactJson) -> Option<(ExactJson, ExactJson)> {
        replace_at(self, &path.0, new)
    }

    /// Builds an object from members in the given order.
    pub fn from_object(members: &IndexMap<String, ExactJson>) -> ExactJson {
        let mut text = String::from("{");
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&quote(k));
            text.push(':');
            text.push_str(v.as_str());
        }
        text.push('}');
        ExactJson::from_compact(text)
    }

    /// Builds an array.
    pub fn from_array(items: &[ExactJson]) -> ExactJson {
        let inner: Vec<&str> = items.iter().map(ExactJson::as_str).collect();
        ExactJson::from_compact(format!("[{}]", inner.join(",")))
    }

    /// A JSON string.
    pub fn string(s: &str) -> ExactJson {
        ExactJson::from_compact(quote(s))
    }

    /// The raw value, for serializing inside a larger document.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }
}

/// Writes JSON as Go's `json.MarshalIndent(v, "", "  ")` does, which is how
/// Terraform writes state files: two-space indent, `"key": value`, empty
/// containers as `{}`/`[]`, and `<`, `>`, `&`, U+2028, U+2029 escaped.
pub fn to_go_pretty_json(value: &ExactJson) -> String {
    let text = value.as_str();
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek().map(|&(_, n)| n) == Some(close) {
                    chars.next();
                    out.push(c);
                    out.push(close);
                } else {
                    out.push(c);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '"' => {
                let end = string_end(text, i);
                let s: String = serde_json::from_str(&text[i..end]).unwrap_or_default();
                push_go_string(&mut out, &s);
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The byte offset just past the JSON string starting at `start`.
fn string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn push_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn compact(raw: &RawValue) -> Result<String, serde_json::Error> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            let members: IndexMap<String, Box<RawValue>> = serde_json::from_str(text)?;
            let mut out = String::from("{");
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&quote(k));
                out.push(':');
                out.push_str(&compact(v)?);
            }
            out.push('}');
            Ok(out)
        }
        Some(b'[') => {
            let items: Vec<Box<RawValue>> = serde_json::from_str(text)?;
            let parts = items
                .iter()
                .map(|v| compact(v))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("[{}]", parts.join(",")))
        }
        Some(b'"') => {
            // Normalise escapes so equal strings have equal text.
            let s: String = serde_json::from_str(text)?;
            Ok(quote(&s))
        }
        _ => Ok(text.to_owned()),
    }
}

fn child(value: &ExactJson, step: &PathStep) -> Option<ExactJson> {
    match step {
        PathStep::GetAttr(name) => value.object()?.shift_remove(name),
        PathStep::Index(key) => match &key.value {
            serde_json::Value::String(k) => value.object()?.shift_remove(k),
            serde_json::Value::Number(n) => {
                let i = usize::try_from(n.as_u64()?).ok()?;
                value.array()?.into_iter().nth(i)
            }
            _ => None,
        },
    }
}

fn replace_at(
    value: &ExactJson,
    steps: &[PathStep],
    new: ExactJson,
) -> Option<(ExactJson, ExactJson)> {
    let Some((step, rest)) = steps.split_first() else {
        return Some((new, value.clone()));
    };
    let object_key = match step {
        PathStep::GetAttr(name) => Some(name.as_str()),
        PathStep::Index(IndexStep {
            value: serde_json::Value::String(k),
            ..
        }) => Some(k.as_str()),
        PathStep::Index(_) => None,
    };
    if let Some(key) = object_key {
        let mut members = value.object()?;
        let (replaced, old) = replace_at(members.get(key)?, rest, new)?;
        members.insert(key.to_owned(), replaced);
        return Some((ExactJson::from_object(&members), old));
    }
    let PathStep::Index(IndexStep {
        value: serde_json::Value::Number(n),
        ..
    }) = step
    else {
        return None;
    };
    let i = usize::try_from(n.as_u64()?).ok()?;
    let mut items = value.array()?;
    let (replaced, old) = replace_at(items.get(i)?, rest, new)?;
    items[i] = replaced;
    Some((ExactJson::from_array(&items), old))
}

impl fmt::Debug for ExactJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Attribute values can hold secrets; never print them in Debug.
        write!(f, "ExactJson({} bytes)", self.as_str().len())
    }
}

impl Serialize for ExactJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExactJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = compact(&raw).map_err(serde::de::Error::custom)?;
        Ok(ExactJson::from_compact(text))
    }
}

/// A path into an attribute value, in the `sensitive_attributes` format of
/// Terraform state v4: `[{"type":"get_attr","value":"tags"},
/// {"type":"index","value":{"value":"token","type":"string"}}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttrPath(pub Vec<PathStep>);

/// One step of an [`AttrPath`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum PathStep {
    /// An object attribute.
    GetAttr(String),
    /// A map key (`"type": "string"`) or list/tuple index (`"type": "number"`).
    Index(IndexStep),
}

/// The key of an index step, as a value with its cty type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStep {
    pub value: serde_json::Value,
    #[serde(rename = "type")]
    pub key_type: serde_json::Value,
}

impl AttrPath {
    /// The path of a top-level attribute.
    pub fn attr(name: &str) -> AttrPath {
        AttrPath(vec![PathStep::GetAttr(name.to_owned())])
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &AttrPath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::GetAttr(name) if i == 0 => write!(f, "{name}")?,
                PathStep::GetAttr(name) => write!(f, ".{name}")?,
                PathStep::Index(key) => write!(f, "[{}]", key.value)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_compact(input: &str, expected: &str) {
        assert_eq!(ExactJson::parse(input).unwrap().as_str(), expected);
    }

    #[test]
    fn numbers_keep_every_digit_and_whitespace_goes() {
        check_compact(
            "{ \"b\": 0.333333333333333333333333333335, \"a\": [ 12345678901234567891 , 1.50 ] }",
            r#"{"b":0.333333333333333333333333333335,"a":[12345678901234567891,1.50]}"#,
        );
        check_compact(r#""caf\u00e9 \t""#, r#""café \t""#);
    }

    #[test]
    fn replace_reaches_map_keys_and_list_indexes() {
        let v =
            ExactJson::parse(r#"{"tags":{"token":"s","plain":"p"},"items":["a","b"]}"#).unwrap();
        let path: AttrPath = serde_json::from_str(
            r#"[{"type":"get_attr","value":"tags"},{"type":"index","value":{"value":"token","type":"string"}}]"#,
        )
        .unwrap();
        let (out, old) = v.replace(&path, ExactJson::null()).unwrap();
        assert_eq!(old.as_str(), r#""s""#);
        assert_eq!(
            out.as_str(),
            r#"{"tags":{"token":null,"plain":"p"},"items":["a","b"]}"#
        );
        let second: AttrPath = serde_json::from_str(
            r#"[{"type":"get_attr","value":"items"},{"type":"index","value":{"value":1,"type":"number"}}]"#,
        )
        .unwrap();
        assert_eq!(v.get(&second).unwrap().as_str(), r#""b""#);
        assert_eq!(second.to_string(), "items[1]");
        assert!(v.get(&AttrPath::attr("missing")).is_none());
    }
}

//! Values to and from JSON, as Terraform writes them in `terraform output
//! -json`, state and plan JSON, and as `jsonencode` prints them.

use std::collections::BTreeMap;

use crate::convert::PathStep;
use crate::number::Number;
use crate::types::Type;
use crate::value::{Data, Value};

/// A value that JSON cannot represent, or JSON that does not fit a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    #[error("value at {} is unknown and cannot be written as JSON", show_path(.path))]
    Unknown { path: Vec<PathStep> },
    #[error("number at {} is infinite and cannot be written as JSON", show_path(.path))]
    Infinite { path: Vec<PathStep> },
    #[error("JSON at {} does not fit type {want}: {reason}", show_path(.path))]
    Mismatch {
        path: Vec<PathStep>,
        want: Type,
        reason: String,
    },
}

fn show_path(path: &[PathStep]) -> String {
    if path.is_empty() {
        return "the top level".to_owned();
    }
    path.iter().map(ToString::to_string).collect()
}

impl Value {
    /// The value as JSON, as `terraform output -json` prints it. Numbers
    /// that are whole and fit 64 bits stay exact, others become float64
    /// (use [`Value::to_json_string`] for every digit). Unknown values and
    /// infinities are errors. Marks are ignored: callers decide about
    /// sensitive values.
    pub fn to_json(&self) -> Result<serde_json::Value, JsonError> {
        to_json_at(self, &mut Vec::new())
    }

    /// The value as compact JSON text with every digit of its numbers, keys
    /// in order and `<`, `>`, `&`, U+2028 and U+2029 escaped (as Go's
    /// encoder, used by `jsonencode` and the state file).
    pub fn to_json_string(&self) -> Result<String, JsonError> {
        let mut out = String::new();
        write_json(self, &mut out, &mut Vec::new())?;
        Ok(out)
    }

    /// Reads JSON as a value of type `ty`. With `Type::Dynamic` the type is
    /// implied from the JSON (see [`implied_type`]).
    pub fn from_json(json: &serde_json::Value, ty: &Type) -> Result<Value, JsonError> {
        from_json_at(json, ty, &mut Vec::new())
    }
}

/// The type Terraform implies for JSON of unknown type (state of dynamic
/// attributes, `jsondecode`): objects become objects, arrays tuples, `null`
/// the dynamic type.
pub fn implied_type(json: &serde_json::Value) -> Type {
    use serde_json::Value as J;
    match json {
        J::Null => Type::Dynamic,
        J::Bool(_) => Type::Bool,
        J::Number(_) => Type::Number,
        J::String(_) => Type::String,
        J::Array(items) => Type::Tuple(items.iter().map(implied_type).collect()),
        J::Object(m) => Type::object(m.iter().map(|(k, v)| (k.clone(), implied_type(v)))),
    }
}

fn to_json_at(v: &Value, path: &mut Vec<PathStep>) -> Result<serde_json::Value, JsonError> {
    use serde_json::Value as J;
    Ok(match v.data() {
        Data::Null(_) => J::Null,
        Data::Unknown(_) => return Err(JsonError::Unknown { path: path.clone() }),
        Data::String(s) => J::String(s.clone()),
        Data::Bool(b) => J::Bool(*b),
        Data::Number(n) => {
            number_to_json(n).ok_or_else(|| JsonError::Infinite { path: path.clone() })?
        }
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                out.push(to_json_at(item, path)?);
                path.pop();
            }
            J::Array(out)
        }
        Data::Map(_, items) | Data::Object(items) => {
            let mut out = serde_json::Map::new();
            for (k, item) in items {
                path.push(PathStep::Key(k.clone()));
                out.insert(k.clone(), to_json_at(item, path)?);
                path.pop();
            }
            J::Object(out)
        }
    })
}

/// A number as a JSON number: exact when whole and within 64 bits, else
/// the nearest float64. `None` for infinities.
pub fn number_to_json(n: &Number) -> Option<serde_json::Value> {
    if n.is_infinite() {
        return None;
    }
    if n.is_integer() {
        if let Some(b) = n.to_bigint() {
            if let Ok(i) = i64::try_from(&b) {
                return Some(serde_json::Value::from(i));
            }
            if let Ok(u) = u64::try_from(&b) {
                return Some(serde_json::Value::from(u));
            }
        }
    }
    serde_json::Number::from_f64(n.to_f64()).map(serde_json::Value::Number)
}

fn write_json(v: &Value, out: &mut String, path: &mut Vec<PathStep>) -> Result<(), JsonError> {
    match v.data() {
        Data::Null(_) => out.push_str("null"),
        Data::Unknown(_) => return Err(JsonError::Unknown { path: path.clone() }),
        Data::String(s) => write_json_string(s, out),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::Number(n) => {
            if n.is_infinite() {
                return Err(JsonError::Infinite { path: path.clone() });
            }
            out.push_str(&n.to_text());
        }
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(PathStep::Index(i));
                write_json(item, out, path)?;
                path.pop();
            }
            out.push(']');
        }
        Data::Map(_, items) | Data::Object(items) => {
            out.push('{');
            for (i, (k, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                path.push(PathStep::Key(k.clone()));
                write_json(item, out, path)?;
                path.pop();
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string literal with Go's escaping.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
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

fn mismatch(path: &[PathStep], want: &Type, reason: &str) -> JsonError {
    JsonError::Mismatch {
        path: path.to_vec(),
        want: want.clone(),
        reason: reason.to_owned(),
    }
}

fn from_json_at(
    json: &serde_json::Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Value, JsonError> {
    use serde_json::Value as J;
    if json.is_null() {
        return Ok(Value::null(ty.clone()));
    }
    match ty {
        Type::Dynamic => from_json_at(json, &implied_type(json), path),
        Type::String => match json {
            J::String(s) => Ok(Value::string(s.clone())),
            J::Number(n) => Ok(Value::string(n.to_string())),
            J::Bool(b) => Ok(Value::string(b.to_string())),
            _ => Err(mismatch(path, ty, "a string is required")),
        },
        Type::Number => {
            let text = match json {
                J::Number(n) => n.to_string(),
                J::String(s) => s.clone(),
                _ => return Err(mismatch(path, ty, "a number is required")),
            };
            crate::convert::parse_number_string(&text)
                .map(Value::number)
                .ok_or_else(|| mismatch(path, ty, "a number is required"))
        }
        Type::Bool => match json {
            J::Bool(b) => Ok(Value::bool(*b)),
            J::String(s) if s == "true" || s == "false" => Ok(Value::bool(s == "true")),
            _ => Err(mismatch(path, ty, "a bool is required")),
        },
        Type::List(e) | Type::Set(e) => {
            let J::Array(items) = json else {
                return Err(mismatch(path, ty, "an array is required"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                out.push(from_json_at(item, e, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::list((**e).clone(), out)
            } else {
                Value::set((**e).clone(), out)
            })
        }
        Type::Tuple(es) => {
            let J::Array(items) = json else {
                return Err(mismatch(path, ty, "an array is required"));
            };
            if items.len() != es.len() {
                return Err(mismatch(path, ty, "wrong number of elements"));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, e)) in items.iter().zip(es).enumerate() {
                path.push(PathStep::Index(i));
                out.push(from_json_at(item, e, path)?);
                path.pop();
            }
            Ok(Value::tuple(out))
        }
        Type::Map(e) => {
            let J::Object(m) = json else {
                return Err(mismatch(path, ty, "an object is required"));
            };
            let mut out = BTreeMap::new();
            for (k, item) in m {
                path.push(PathStep::Key(k.clone()));
                out.insert(k.clone(), from_json_at(item, e, path)?);
                path.pop();
            }
            Ok(Value::map((**e).clone(), out))
        }
        Type::Object { attrs, .. } => {
            let J::Object(m) = json else {
                return Err(mismatch(path, ty, "an object is required"));
            };
            let mut out = BTreeMap::new();
            for (name, t) in attrs.iter() {
                path.push(PathStep::Attr(name.clone()));
                let v = match m.get(name) {
                    Some(item) => from_json_at(item, t, path)?,
                    None => Value::null(t.clone()),
                };
                path.pop();
                out.insert(name.clone(), v);
            }
            Ok(Value::object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_implied_types() {
        let json = serde_json::json!({"b": [1, "x", true], "a": {"c": null}});
        let v = Value::from_json(&json, &Type::Dynamic).unwrap();
        assert!(matches!(v.data(), Data::Object(_)));
        assert_eq!(v.to_json().unwrap(), json);
        assert_eq!(
            v.to_json_string().unwrap(),
            r#"{"a":{"c":null},"b":[1,"x",true]}"#
        );
    }

    #[test]
    fn unknowns_and_infinities_are_not_json() {
        assert!(Value::unknown(Type::String).to_json().is_err());
        let inf = Value::number(Number::infinity(false));
        assert!(inf.to_json_string().is_err());
    }

    #[test]
    fn strings_escape_like_go() {
        let v = Value::string("<a&b>\u{2028}");
        assert_eq!(
            v.to_json_string().unwrap(),
            r#""\u003ca\u0026b\u003e\u2028""#
        );
    }
}

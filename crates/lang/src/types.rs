//! Terraform's type system (cty types): primitive, collection, structural and
//! the dynamic pseudo-type.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A Terraform type. The parts of a structural or collection type are
/// shared, so a copy costs a reference count, not a walk of the type: every
/// null and unknown value carries its type, and provider schemas nest deep.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Arc<Type>),
    Set(Arc<Type>),
    Map(Arc<Type>),
    Tuple(Vec<Type>),
    /// Attributes in name order. `optional` names the attributes a type
    /// constraint marked `optional(...)`; in a value's type it is empty.
    Object {
        attrs: Arc<BTreeMap<String, Type>>,
        optional: Arc<BTreeSet<String>>,
    },
    /// The pseudo-type `any`: a placeholder for a type not known yet.
    Dynamic,
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Arc::new(element))
    }
    pub fn set(element: Type) -> Type {
        Type::Set(Arc::new(element))
    }
    pub fn map(element: Type) -> Type {
        Type::Map(Arc::new(element))
    }
    pub fn object(attrs: impl IntoIterator<Item = (String, Type)>) -> Type {
        Type::Object {
            attrs: Arc::new(attrs.into_iter().collect()),
            optional: Arc::default(),
        }
    }
    /// An object type whose `optional` attributes a type constraint marked.
    pub fn object_with_optional(attrs: BTreeMap<String, Type>, optional: BTreeSet<String>) -> Type {
        Type::Object {
            attrs: Arc::new(attrs),
            optional: Arc::new(optional),
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The type with no `optional(...)` markers anywhere inside it: the type
    /// of a value converted to a type constraint.
    pub fn without_optional(&self) -> Type {
        if !self.has_optional() {
            // The common case: share the type rather than rebuild it.
            return self.clone();
        }
        match self {
            Type::List(e) => Type::list(e.without_optional()),
            Type::Set(e) => Type::set(e.without_optional()),
            Type::Map(e) => Type::map(e.without_optional()),
            Type::Tuple(es) => Type::Tuple(es.iter().map(Type::without_optional).collect()),
            Type::Object { attrs, .. } => {
                Type::object(attrs.iter().map(|(k, t)| (k.clone(), t.without_optional())))
            }
            other => other.clone(),
        }
    }

    /// Whether an `optional(...)` marker sits anywhere inside the type.
    pub fn has_optional(&self) -> bool {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_optional(),
            Type::Tuple(es) => es.iter().any(Type::has_optional),
            Type::Object { attrs, optional } => {
                !optional.is_empty() || attrs.values().any(Type::has_optional)
            }
            _ => false,
        }
    }

    /// Whether the type contains `Dynamic` anywhere.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_dynamic(),
            Type::Tuple(es) => es.iter().any(Type::has_dynamic),
            Type::Object { attrs, .. } => attrs.values().any(Type::has_dynamic),
            _ => false,
        }
    }

    /// The cty JSON encoding, as in `terraform providers schema -json` and
    /// plan JSON: `"string"`, `["list","number"]`, `["object",{...}]`,
    /// `"dynamic"`. Optional attribute markers are appended as the third
    /// element of an object type, as cty does.
    pub fn to_cty_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(e) => json!(["list", e.to_cty_json()]),
            Type::Set(e) => json!(["set", e.to_cty_json()]),
            Type::Map(e) => json!(["map", e.to_cty_json()]),
            Type::Tuple(es) => json!([
                "tuple",
                es.iter().map(Type::to_cty_json).collect::<Vec<_>>()
            ]),
            Type::Object { attrs, optional } => {
                let m: serde_json::Map<String, J> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_cty_json()))
                    .collect();
                if optional.is_empty() {
                    json!(["object", m])
                } else {
                    json!(["object", m, optional.iter().collect::<Vec<_>>()])
                }
            }
        }
    }

    /// Parses the cty JSON encoding (see [`Type::to_cty_json`]).
    pub fn from_cty_json(v: &serde_json::Value) -> Result<Type, TypeJsonError> {
        use serde_json::Value as J;
        let bad = || TypeJsonError(v.to_string());
        match v {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            J::Array(a) => {
                let kind = a.first().and_then(J::as_str).ok_or_else(bad)?;
                let arg = a.get(1).ok_or_else(bad)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_cty_json(arg)?)),
                    "set" => Ok(Type::set(Type::from_cty_json(arg)?)),
                    "map" => Ok(Type::map(Type::from_cty_json(arg)?)),
                    "tuple" => Ok(Type::Tuple(
                        arg.as_array()
                            .ok_or_else(bad)?
                            .iter()
                            .map(Type::from_cty_json)
                            .collect::<Result<_, _>>()?,
                    )),
                    "object" => {
                        let attrs = arg
                            .as_object()
                            .ok_or_else(bad)?
                            .iter()
                            .map(|(k, t)| Ok((k.clone(), Type::from_cty_json(t)?)))
                            .collect::<Result<BTreeMap<_, _>, TypeJsonError>>()?;
                        let optional = match a.get(2) {
                            Some(J::Array(names)) => names
                                .iter()
                                .map(|n| n.as_str().map(str::to_owned).ok_or_else(bad))
                                .collect::<Result<_, _>>()?,
                            _ => BTreeSet::new(),
                        };
                        Ok(Type::object_with_optional(attrs, optional))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

/// A cty JSON type encoding that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeJsonError(pub String);

impl fmt::Display for TypeJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a cty type: {}", self.0)
    }
}

impl std::error::Error for TypeJsonError {}

/// Terraform's "friendly name" of a type, as used in error messages and in
/// type constraints: `string`, `list(number)`, `object({a=string})`, `any`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("any"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Tuple(es) => {
                f.write_str("tuple([")?;
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("])")
            }
            Type::Object { attrs, optional } => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if optional.contains(k) {
                        write!(f, "{k}=optional({t})")?;
                    } else {
                        write!(f, "{k}={t}")?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_markers_leave_nested_types() {
        let inner = Type::object_with_optional(
            BTreeMap::from([("a".to_owned(), Type::String)]),
            BTreeSet::from(["a".to_owned()]),
        );
        let t = Type::map(Type::list(inner));
        assert!(t.has_optional());
        let plain = t.without_optional();
        assert!(!plain.has_optional());
        assert_eq!(
            plain,
            Type::map(Type::list(Type::object([("a".to_owned(), Type::String)])))
        );
    }

    fn check(json: &str, display: &str) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let t = Type::from_cty_json(&v).unwrap();
        assert_eq!(t.to_string(), display);
        assert_eq!(t.to_cty_json(), v);
    }

    #[test]
    fn cty_json_round_trips() {
        check(r#""string""#, "string");
        check(r#"["list","number"]"#, "list(number)");
        check(r#"["map",["set","bool"]]"#, "map(set(bool))");
        check(r#"["tuple",["string","dynamic"]]"#, "tuple([string, any])");
        check(
            r#"["object",{"a":"string","b":"number"},["b"]]"#,
            "object({a=string, b=optional(number)})",
        );
    }

    #[test]
    fn malformed_type_json_is_an_error() {
        for bad in [r#""strin""#, r#"["list"]"#, r#"["object",[]]"#, "3"] {
            let v: serde_json::Value = serde_json::from_str(bad).unwrap();
            assert!(Type::from_cty_json(&v).is_err(), "{bad}");
        }
    }
}

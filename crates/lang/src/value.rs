//! Terraform values (cty values): typed nulls, typed unknowns, known
//! primitives and collections, each carrying a sensitive mark.
//!
//! Marks are per value and nest: `[sensitive(1), 2]` is a tuple whose first
//! element is marked. Operations that read a marked value put the mark on
//! their result ([`Value::with_marks_of`]). Set elements never carry marks:
//! building a set moves the marks of its elements to the set itself, as cty
//! does.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::number::Number;
use crate::types::Type;

/// A Terraform value.
#[derive(Clone, PartialEq)]
pub struct Value {
    data: Data,
    sensitive: bool,
}

/// What a [`Value`] holds. Lists, sets and maps remember their element type
/// so that empty collections stay typed; sets are kept in cty's order
/// without duplicates.
#[derive(Clone, PartialEq)]
pub enum Data {
    /// A null of the given type (`Type::Dynamic` for an untyped `null`).
    Null(Type),
    /// A value that will only be known after apply, of the given type.
    Unknown(Type),
    String(String),
    Number(Number),
    Bool(bool),
    List(Type, Vec<Value>),
    Set(Type, Vec<Value>),
    Map(Type, BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// Builds a value from its data, unmarked.
    pub fn from_data(data: Data) -> Value {
        Value {
            data,
            sensitive: false,
        }
    }

    /// A null of type `ty`.
    pub fn null(ty: Type) -> Value {
        Value::from_data(Data::Null(ty))
    }

    /// An untyped null (`null` in HCL).
    pub fn null_dynamic() -> Value {
        Value::null(Type::Dynamic)
    }

    /// An unknown value of type `ty` ("known after apply").
    pub fn unknown(ty: Type) -> Value {
        Value::from_data(Data::Unknown(ty))
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::from_data(Data::String(s.into()))
    }

    pub fn number(n: Number) -> Value {
        Value::from_data(Data::Number(n))
    }

    /// An integer number.
    pub fn int(i: i64) -> Value {
        Value::number(Number::from_i64(i))
    }

    pub fn bool(b: bool) -> Value {
        Value::from_data(Data::Bool(b))
    }

    /// A list whose elements all have type `element` (callers convert them
    /// first, see [`crate::convert`]).
    pub fn list(element: Type, items: Vec<Value>) -> Value {
        Value::from_data(Data::List(element, items))
    }

    /// A set of `element`: sorts the items in cty's order, drops duplicates
    /// and moves element marks to the set.
    pub fn set(element: Type, items: Vec<Value>) -> Value {
        let mut sensitive = false;
        let mut items: Vec<Value> = items
            .into_iter()
            .map(|v| {
                sensitive |= v.contains_sensitive();
                v.unmark_deep()
            })
            .collect();
        items.sort_by(set_order);
        items.dedup_by(|a, b| a.raw_equal(b));
        Value {
            data: Data::Set(element, items),
            sensitive,
        }
    }

    /// A map whose values all have type `element`.
    pub fn map(element: Type, items: BTreeMap<String, Value>) -> Value {
        Value::from_data(Data::Map(element, items))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::from_data(Data::Tuple(items))
    }

    pub fn object(attrs: BTreeMap<String, Value>) -> Value {
        Value::from_data(Data::Object(attrs))
    }

    /// An empty object (`{}`).
    pub fn empty_object() -> Value {
        Value::object(BTreeMap::new())
    }

    /// The data of this value (marks aside).
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// Takes the data out, dropping this value's own mark.
    pub fn into_data(self) -> Data {
        self.data
    }

    /// The value's type.
    pub fn ty(&self) -> Type {
        match &self.data {
            Data::Null(t) | Data::Unknown(t) => t.clone(),
            Data::String(_) => Type::String,
            Data::Number(_) => Type::Number,
            Data::Bool(_) => Type::Bool,
            Data::List(t, _) => Type::list(t.clone()),
            Data::Set(t, _) => Type::set(t.clone()),
            Data::Map(t, _) => Type::map(t.clone()),
            Data::Tuple(items) => Type::Tuple(items.iter().map(Value::ty).collect()),
            Data::Object(attrs) => Type::object(attrs.iter().map(|(k, v)| (k.clone(), v.ty()))),
        }
    }

    /// Whether `self.ty() == *t`, found without building the type.
    pub fn has_type(&self, t: &Type) -> bool {
        match (&self.data, t) {
            (Data::Null(a) | Data::Unknown(a), t) => a == t,
            (Data::String(_), Type::String)
            | (Data::Number(_), Type::Number)
            | (Data::Bool(_), Type::Bool) => true,
            (Data::List(e, _), Type::List(w))
            | (Data::Set(e, _), Type::Set(w))
            | (Data::Map(e, _), Type::Map(w)) => e == &**w,
            (Data::Tuple(items), Type::Tuple(ws)) => {
                items.len() == ws.len() && items.iter().zip(ws).all(|(v, w)| v.has_type(w))
            }
            (Data::Object(items), Type::Object { attrs, optional }) => {
                optional.is_empty()
                    && items.len() == attrs.len()
                    && items
                        .iter()
                        .zip(attrs.iter())
                        .all(|((k, v), (kw, w))| k == kw && v.has_type(w))
            }
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.data, Data::Null(_))
    }

    /// Whether this value itself is known (its elements may still be unknown).
    pub fn is_known(&self) -> bool {
        !matches!(self.data, Data::Unknown(_))
    }

    /// Whether this value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match &self.data {
            Data::Unknown(_) => false,
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Data::Map(_, items) | Data::Object(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The value with the sensitive mark.
    pub fn mark_sensitive(mut self) -> Value {
        self.sensitive = true;
        self
    }

    /// The value marked sensitive when `sensitive` is true.
    pub fn mark_sensitive_if(self, sensitive: bool) -> Value {
        if sensitive {
            self.mark_sensitive()
        } else {
            self
        }
    }

    /// Whether this value itself carries the sensitive mark.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// Whether this value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        self.sensitive
            || match &self.data {
                Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                    items.iter().any(Value::contains_sensitive)
                }
                Data::Map(_, items) | Data::Object(items) => {
                    items.values().any(Value::contains_sensitive)
                }
                _ => false,
            }
    }

    /// The value without its own mark (nested marks stay).
    pub fn unmark(mut self) -> Value {
        self.sensitive = false;
        self
    }

    /// The value with no mark anywhere inside it.
    pub fn unmark_deep(self) -> Value {
        let data = match self.data {
            Data::List(t, items) => {
                Data::List(t, items.into_iter().map(Value::unmark_deep).collect())
            }
            Data::Set(t, items) => {
                Data::Set(t, items.into_iter().map(Value::unmark_deep).collect())
            }
            Data::Tuple(items) => Data::Tuple(items.into_iter().map(Value::unmark_deep).collect()),
            Data::Map(t, items) => Data::Map(
                t,
                items
                    .into_iter()
                    .map(|(k, v)| (k, v.unmark_deep()))
                    .collect(),
            ),
            Data::Object(items) => Data::Object(
                items
                    .into_iter()
                    .map(|(k, v)| (k, v.unmark_deep()))
                    .collect(),
            ),
            other => other,
        };
        Value::from_data(data)
    }

    /// This value, marked sensitive if any of `others` is (shallowly).
    pub fn with_marks_of<'a>(self, others: impl IntoIterator<Item = &'a Value>) -> Value {
        let s = others.into_iter().any(Value::is_sensitive);
        self.mark_sensitive_if(s)
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.data {
            Data::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match &self.data {
            Data::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The bool, when this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.data {
            Data::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements of a known list, set or tuple, in order.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match &self.data {
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a known map or object, in key order.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match &self.data {
            Data::Map(_, items) | Data::Object(items) => Some(items),
            _ => None,
        }
    }

    /// An attribute of a known object (or an element of a known map).
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_entries()?.get(name)
    }

    /// The value at `path` inside this one (attributes of objects, keys of
    /// maps, indexes of lists and tuples), when every step exists and is
    /// known.
    pub fn get_path(&self, path: &[crate::convert::PathStep]) -> Option<&Value> {
        use crate::convert::PathStep;
        let mut cur = self;
        for step in path {
            cur = match (step, cur.data()) {
                (PathStep::Attr(name) | PathStep::Key(name), Data::Object(m) | Data::Map(_, m)) => {
                    m.get(name)?
                }
                (PathStep::Index(i), Data::List(_, items) | Data::Tuple(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The number of elements of a known collection or structure.
    pub fn length(&self) -> Option<usize> {
        match &self.data {
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => Some(items.len()),
            Data::Map(_, items) | Data::Object(items) => Some(items.len()),
            _ => None,
        }
    }

    /// Structural identity: same type, same data, same marks. This is not
    /// Terraform's `==` (see [`Value::equals`]).
    pub fn raw_equal(&self, other: &Value) -> bool {
        self == other
    }

    /// Terraform's `==`: type-strict (`1 == "1"` is false), null-aware and
    /// unknown-aware (an unknown operand gives an unknown bool). The result
    /// is sensitive when an operand contains a sensitive value.
    pub fn equals(&self, other: &Value) -> Value {
        let sensitive = self.contains_sensitive() || other.contains_sensitive();
        let result = match equals_inner(self, other) {
            Some(b) => Value::bool(b),
            None => Value::unknown(Type::Bool),
        };
        result.mark_sensitive_if(sensitive)
    }
}

/// `Some(equal)` when it can be decided, `None` when unknowns decide it.
fn equals_inner(a: &Value, b: &Value) -> Option<bool> {
    match (&a.data, &b.data) {
        (Data::Null(_), Data::Null(_)) => return Some(true),
        (Data::Null(_), Data::Unknown(_)) | (Data::Unknown(_), Data::Null(_)) => return None,
        (Data::Null(_), _) | (_, Data::Null(_)) => return Some(false),
        (Data::Unknown(_), _) | (_, Data::Unknown(_)) => return None,
        _ => {}
    }
    if a.ty() != b.ty() {
        return Some(false);
    }
    match (&a.data, &b.data) {
        (Data::String(x), Data::String(y)) => {
            use unicode_normalization::UnicodeNormalization;
            Some(x == y || x.nfc().eq(y.nfc()))
        }
        (Data::Number(x), Data::Number(y)) => Some(x == y),
        (Data::Bool(x), Data::Bool(y)) => Some(x == y),
        (Data::List(_, x), Data::List(_, y))
        | (Data::Tuple(x), Data::Tuple(y))
        | (Data::Set(_, x), Data::Set(_, y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y) {
                match equals_inner(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        (Data::Map(_, x), Data::Map(_, y)) | (Data::Object(x), Data::Object(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.values().zip(y.values()) {
                match equals_inner(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        _ => Some(false),
    }
}

/// cty's set element order: unknown and null last, strings by bytes,
/// numbers numerically, `false` before `true`, anything else by a canonical
/// text form.
pub(crate) fn set_order(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| match v.data {
        Data::Unknown(_) => 2,
        Data::Null(_) => 1,
        _ => 0,
    };
    match rank(a).cmp(&rank(b)) {
        Ordering::Equal => {}
        o => return o,
    }
    match (&a.data, &b.data) {
        (Data::String(x), Data::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Data::Number(x), Data::Number(y)) => x.cmp(y),
        (Data::Bool(x), Data::Bool(y)) => x.cmp(y),
        _ => canonical_key(a).cmp(&canonical_key(b)),
    }
}

fn canonical_key(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match &v.data {
        Data::Null(_) => out.push('~'),
        Data::Unknown(_) => out.push('?'),
        Data::String(s) => out.push_str(&format!("{s:?}")),
        // cty writes numbers with big.Float's String, `%.10g`.
        Data::Number(n) => out.push_str(&n.go_text('g', 10)),
        Data::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Data::List(_, items) | Data::Set(_, items) => {
            out.push('[');
            for i in items {
                write_canonical(i, out);
                out.push(';');
            }
            out.push(']');
        }
        Data::Tuple(items) => {
            out.push('<');
            for i in items {
                write_canonical(i, out);
                out.push(';');
            }
            out.push('>');
        }
        Data::Map(_, items) => {
            out.push('{');
            for (k, i) in items {
                out.push_str(&format!("{k:?}:"));
                write_canonical(i, out);
                out.push(';');
            }
            out.push('}');
        }
        Data::Object(items) => {
            out.push('<');
            for i in items.values() {
                write_canonical(i, out);
                out.push(';');
            }
            out.push('>');
        }
    }
}

/// Debug output never shows a sensitive value.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sensitive {
            return f.write_str("(sensitive value)");
        }
        match &self.data {
            Data::Null(t) => write!(f, "null({t})"),
            Data::Unknown(t) => write!(f, "unknown({t})"),
            Data::String(s) => write!(f, "{s:?}"),
            Data::Number(n) => write!(f, "{n}"),
            Data::Bool(b) => write!(f, "{b}"),
            Data::List(_, items) => write!(f, "list{items:?}"),
            Data::Set(_, items) => write!(f, "set{items:?}"),
            Data::Tuple(items) => write!(f, "tuple{items:?}"),
            Data::Map(_, items) => write!(f, "map{items:?}"),
            Data::Object(items) => write!(f, "object{items:?}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_type_strict() {
        let t = |a: Value, b: Value| a.equals(&b).as_bool();
        assert_eq!(t(Value::int(1), Value::string("1")), Some(false));
        assert_eq!(
            t(
                Value::list(Type::Number, vec![Value::int(1)]),
                Value::tuple(vec![Value::int(1)])
            ),
            Some(false)
        );
        assert_eq!(
            t(Value::null_dynamic(), Value::null(Type::String)),
            Some(true)
        );
        assert_eq!(t(Value::unknown(Type::String), Value::string("a")), None);
    }

    #[test]
    fn sets_sort_and_hoist_marks() {
        let s = Value::set(
            Type::String,
            vec![
                Value::string("b"),
                Value::string("a").mark_sensitive(),
                Value::string("b"),
            ],
        );
        assert!(s.is_sensitive());
        let items: Vec<_> = s
            .as_elements()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(items, ["a", "b"]);
    }

    #[test]
    fn paths_reach_nested_values() {
        use crate::convert::PathStep;
        let v = Value::object(BTreeMap::from([(
            "a".to_owned(),
            Value::tuple(vec![Value::int(1), Value::string("x")]),
        )]));
        let path = [PathStep::Attr("a".to_owned()), PathStep::Index(1)];
        assert_eq!(v.get_path(&path), Some(&Value::string("x")));
        assert_eq!(v.get_path(&[PathStep::Attr("b".to_owned())]), None);
    }

    #[test]
    fn debug_hides_sensitive_values() {
        let v = Value::string("secret").mark_sensitive();
        assert_eq!(format!("{v:?}"), "(sensitive value)");
    }
}

//! Type conversion and unification with cty's rules.
//!
//! [`convert`] turns a value into a wanted type: primitives convert through
//! strings (`"5"` → `5`, `true` → `"true"`), tuples become lists and sets,
//! objects become maps, objects lose the attributes the wanted object type
//! lacks and get null for missing `optional` ones. [`unify`] finds the one
//! type a set of types can all convert to (for conditionals, `tolist`,
//! `concat`, ...).

use std::collections::BTreeMap;
use std::fmt;

use crate::number::Number;
use crate::types::Type;
use crate::value::{Data, Value};

/// One step of the path to a value inside another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    /// An attribute of an object.
    Attr(String),
    /// A key of a map.
    Key(String),
    /// An index of a list or tuple.
    Index(usize),
}

/// A conversion that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The value cannot become the wanted type; `reason` is cty's phrase
    /// (`a number is required`).
    #[error("{}{reason}", path_prefix(.path))]
    Mismatch { path: Vec<PathStep>, reason: String },
    /// The wanted object type has an attribute the value lacks.
    #[error("{}attribute {name:?} is required", path_prefix(.path))]
    MissingAttribute { path: Vec<PathStep>, name: String },
}

impl ConvertError {
    fn mismatch(path: &[PathStep], reason: impl Into<String>) -> ConvertError {
        ConvertError::Mismatch {
            path: path.to_vec(),
            reason: reason.into(),
        }
    }

    /// Where inside the value the conversion failed.
    pub fn path(&self) -> &[PathStep] {
        match self {
            ConvertError::Mismatch { path, .. } | ConvertError::MissingAttribute { path, .. } => {
                path
            }
        }
    }
}

fn path_prefix(path: &[PathStep]) -> String {
    if path.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    for step in path {
        match step {
            PathStep::Attr(a) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(a);
            }
            PathStep::Key(k) => s.push_str(&format!("[{k:?}]")),
            PathStep::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    format!("{s}: ")
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Attr(a) => write!(f, ".{a}"),
            PathStep::Key(k) => write!(f, "[{k:?}]"),
            PathStep::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Converts `value` to type `want` with Terraform's rules. Marks stay on
/// the converted values.
pub fn convert(value: &Value, want: &Type) -> Result<Value, ConvertError> {
    convert_at(value, want, &mut Vec::new())
}

fn convert_at(value: &Value, want: &Type, path: &mut Vec<PathStep>) -> Result<Value, ConvertError> {
    let sensitive = value.is_sensitive();
    let out = convert_data(value, want, path)?;
    Ok(out.mark_sensitive_if(sensitive))
}

fn type_phrase(t: &Type) -> String {
    match t {
        Type::String => "string required".to_owned(),
        Type::Number => "number required".to_owned(),
        Type::Bool => "bool required".to_owned(),
        Type::List(_) => "list of any single type required".to_owned(),
        Type::Set(_) => "set of any single type required".to_owned(),
        Type::Map(_) => "map of any single type required".to_owned(),
        Type::Tuple(_) => "tuple required".to_owned(),
        Type::Object { .. } => "object required".to_owned(),
        Type::Dynamic => "any value required".to_owned(),
    }
}

fn convert_data(
    value: &Value,
    want: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Value, ConvertError> {
    if *want == Type::Dynamic {
        return Ok(value.clone().unmark());
    }
    match value.data() {
        Data::Unknown(t) => {
            let ty = conversion_type(t, want)
                .ok_or_else(|| ConvertError::mismatch(path, type_phrase(want)))?;
            return Ok(Value::unknown(ty.without_optional()));
        }
        Data::Null(t) => {
            let ty = conversion_type(t, want)
                .ok_or_else(|| ConvertError::mismatch(path, type_phrase(want)))?;
            return Ok(Value::null(ty.without_optional()));
        }
        _ => {}
    }
    if value.has_type(want) {
        return Ok(value.clone().unmark());
    }
    match want {
        Type::String => match value.data() {
            Data::Number(n) => Ok(Value::string(n.to_text())),
            Data::Bool(b) => Ok(Value::string(if *b { "true" } else { "false" })),
            _ => Err(ConvertError::mismatch(path, "string required")),
        },
        Type::Number => match value.data() {
            Data::String(s) => match parse_number_string(s) {
                Some(n) => Ok(Value::number(n)),
                None => Err(ConvertError::mismatch(path, "a number is required")),
            },
            _ => Err(ConvertError::mismatch(path, "number required")),
        },
        Type::Bool => match value.data() {
            Data::String(s) => match s.as_str() {
                "true" => Ok(Value::bool(true)),
                "false" => Ok(Value::bool(false)),
                _ => Err(ConvertError::mismatch(path, "a bool is required")),
            },
            _ => Err(ConvertError::mismatch(path, "bool required")),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = match value.data() {
                Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => items,
                _ => return Err(ConvertError::mismatch(path, type_phrase(want))),
            };
            let elem_ty = element_target(items.iter(), elem, path)?;
            let result_elem_ty = elem_ty.without_optional();
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                out.push(convert_at(item, &elem_ty, path)?);
                path.pop();
            }
            let elem_ty = if elem_ty.has_dynamic() && !out.is_empty() {
                // A list(any) holding typed elements has their common type.
                unify(&out.iter().map(Value::ty).collect::<Vec<_>>()).unwrap_or(result_elem_ty)
            } else {
                result_elem_ty
            };
            if matches!(want, Type::List(_)) {
                Ok(Value::list(elem_ty, out))
            } else {
                Ok(Value::set(elem_ty, out))
            }
        }
        Type::Map(elem) => {
            let items = match value.data() {
                Data::Map(_, items) | Data::Object(items) => items,
                _ => return Err(ConvertError::mismatch(path, type_phrase(want))),
            };
            let elem_ty = element_target(items.values(), elem, path)?;
            let mut out = BTreeMap::new();
            for (k, item) in items {
                path.push(PathStep::Key(k.clone()));
                out.insert(k.clone(), convert_at(item, &elem_ty, path)?);
                path.pop();
            }
            Ok(Value::map(elem_ty.without_optional(), out))
        }
        Type::Tuple(wants) => {
            let items = match value.data() {
                Data::Tuple(items) | Data::List(_, items) | Data::Set(_, items) => items,
                _ => return Err(ConvertError::mismatch(path, "tuple required")),
            };
            if items.len() != wants.len() {
                return Err(ConvertError::mismatch(
                    path,
                    format!("tuple required with {} elements", wants.len()),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, w)) in items.iter().zip(wants).enumerate() {
                path.push(PathStep::Index(i));
                out.push(convert_at(item, w, path)?);
                path.pop();
            }
            Ok(Value::tuple(out))
        }
        Type::Object { attrs, optional } => {
            let items = match value.data() {
                Data::Object(items) | Data::Map(_, items) => items,
                _ => return Err(ConvertError::mismatch(path, "object required")),
            };
            let mut out = BTreeMap::new();
            for (name, w) in attrs.iter() {
                match items.get(name) {
                    Some(item) => {
                        path.push(PathStep::Attr(name.clone()));
                        out.insert(name.clone(), convert_at(item, w, path)?);
                        path.pop();
                    }
                    None if optional.contains(name) => {
                        out.insert(name.clone(), Value::null(w.without_optional()));
                    }
                    None => {
                        return Err(ConvertError::MissingAttribute {
                            path: path.clone(),
                            name: name.clone(),
                        })
                    }
                }
            }
            Ok(Value::object(out))
        }
        Type::Dynamic => Ok(value.clone().unmark()),
    }
}

/// The element type to convert each item to: the wanted element type, or
/// when it is `any`, the common type of the items.
fn element_target<'a>(
    items: impl Iterator<Item = &'a Value>,
    want: &Type,
    path: &[PathStep],
) -> Result<Type, ConvertError> {
    if *want != Type::Dynamic {
        return Ok(want.clone());
    }
    let types: Vec<Type> = items.map(Value::ty).collect();
    if types.is_empty() {
        return Ok(Type::Dynamic);
    }
    unify(&types)
        .ok_or_else(|| ConvertError::mismatch(path, "all elements must have the same type"))
}

/// Parses a string as a number the way cty does (`"1e3"`, `".5"`, `"5."`,
/// `"+Inf"`); surrounding spaces, hex and underscores are rejected.
pub fn parse_number_string(s: &str) -> Option<Number> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => return Some(Number::infinity(false)),
        "-Inf" | "-inf" => return Some(Number::infinity(true)),
        _ => {}
    }
    Number::parse(s).ok()
}

/// The type a value of type `from` has after conversion to `want`, or
/// `None` when no value of `from` could convert.
pub fn conversion_type(from: &Type, want: &Type) -> Option<Type> {
    if *want == Type::Dynamic {
        return Some(from.clone());
    }
    if *from == Type::Dynamic || from == want {
        return Some(want.clone());
    }
    match (from, want) {
        (Type::Number | Type::Bool, Type::String) | (Type::String, Type::Number | Type::Bool) => {
            Some(want.clone())
        }
        (Type::List(f) | Type::Set(f), Type::List(w) | Type::Set(w)) => {
            let e = conversion_type(f, w)?;
            Some(rebuild(want, e))
        }
        (Type::Tuple(fs), Type::List(w) | Type::Set(w)) => {
            let e = if **w == Type::Dynamic {
                if fs.is_empty() {
                    Type::Dynamic
                } else {
                    unify(fs)?
                }
            } else {
                for f in fs {
                    conversion_type(f, w)?;
                }
                (**w).clone()
            };
            Some(rebuild(want, e))
        }
        (Type::Map(f), Type::Map(w)) => Some(Type::map(conversion_type(f, w)?)),
        (Type::Object { attrs, .. }, Type::Map(w)) => {
            let fs: Vec<Type> = attrs.values().cloned().collect();
            let e = if **w == Type::Dynamic {
                if fs.is_empty() {
                    Type::Dynamic
                } else {
                    unify(&fs)?
                }
            } else {
                for f in &fs {
                    conversion_type(f, w)?;
                }
                (**w).clone()
            };
            Some(Type::map(e))
        }
        (Type::Tuple(fs), Type::Tuple(ws)) if fs.len() == ws.len() => Some(Type::Tuple(
            fs.iter()
                .zip(ws)
                .map(|(f, w)| conversion_type(f, w))
                .collect::<Option<Vec<_>>>()?,
        )),
        (Type::List(_) | Type::Set(_), Type::Tuple(_)) => Some(want.clone()),
        (
            Type::Object { attrs: fa, .. },
            Type::Object {
                attrs: wa,
                optional,
            },
        ) => {
            let mut out = BTreeMap::new();
            for (name, w) in wa.iter() {
                match fa.get(name) {
                    Some(f) => {
                        out.insert(name.clone(), conversion_type(f, w)?);
                    }
                    None if optional.contains(name) => {
                        out.insert(name.clone(), w.clone());
                    }
                    None => return None,
                }
            }
            Some(Type::object(out))
        }
        (Type::Map(_), Type::Object { .. }) => Some(want.clone()),
        _ => None,
    }
}

fn rebuild(collection: &Type, element: Type) -> Type {
    match collection {
        Type::Set(_) => Type::set(element),
        Type::Map(_) => Type::map(element),
        _ => Type::list(element),
    }
}

/// The single type that all `types` convert to, as cty's unification:
/// collections of one kind unify their elements; objects with the same
/// attributes unify per attribute, otherwise become a map; tuples of one
/// length unify per element, otherwise become a list; maps with objects
/// become maps, lists with tuples lists; a dynamic type among collections
/// or structures makes the result dynamic; otherwise the most preferred
/// type that all others convert to wins (`string` over `number` and
/// `bool`, sets over lists over tuples, maps over objects). `None` when
/// there is no such type.
pub fn unify(types: &[Type]) -> Option<Type> {
    let first = types.first()?;
    if types.iter().all(|t| t == first) {
        return Some(first.clone());
    }
    let count = |f: fn(&Type) -> bool| types.iter().filter(|t| f(t)).count();
    let n = types.len();
    let maps = count(|t| matches!(t, Type::Map(_)));
    let lists = count(|t| matches!(t, Type::List(_)));
    let sets = count(|t| matches!(t, Type::Set(_)));
    let objects = count(|t| matches!(t, Type::Object { .. }));
    let tuples = count(|t| matches!(t, Type::Tuple(_)));
    let dynamics = count(|t| *t == Type::Dynamic);
    if maps > 0 && maps + dynamics == n {
        return unify_collections(types, dynamics > 0, Type::map);
    }
    if maps > 0 && maps + objects + dynamics == n {
        if let Some(t @ Type::Map(_)) = unify_objects_as_maps(types) {
            return Some(t);
        }
    } else if lists > 0 && lists + dynamics == n {
        return unify_collections(types, dynamics > 0, Type::list);
    } else if lists > 0 && lists + tuples + dynamics == n {
        if let Some(t @ Type::List(_)) = unify_tuples_as_list(types) {
            return Some(t);
        }
    } else if sets > 0 && sets + dynamics == n {
        return unify_collections(types, dynamics > 0, Type::set);
    } else if objects > 0 && objects + dynamics == n {
        return unify_objects(types, dynamics > 0);
    } else if tuples > 0 && tuples + dynamics == n {
        return unify_tuples(types, dynamics > 0);
    } else if objects > 0 && tuples > 0 {
        return None;
    }
    let mut order: Vec<&Type> = types.iter().collect();
    order.sort_by_key(|t| preference(t));
    'candidates: for want in order {
        for t in types {
            if t != want && !converts(t, want) {
                continue 'candidates;
            }
        }
        return Some(want.clone());
    }
    None
}

/// Lower is preferred when several types could be the unified one.
fn preference(t: &Type) -> u8 {
    match t {
        Type::String => 0,
        Type::Number | Type::Bool => 1,
        Type::Set(_) => 2,
        Type::Map(_) => 3,
        Type::List(_) => 4,
        Type::Object { .. } => 5,
        Type::Tuple(_) => 6,
        Type::Dynamic => 9,
    }
}

/// Whether some value of type `from` can convert to `want` (allowing the
/// conversions that may fail for some values, like string to number).
fn converts(from: &Type, want: &Type) -> bool {
    conversion_type(from, want).is_some()
}

fn unify_collections(types: &[Type], has_dynamic: bool, make: fn(Type) -> Type) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let elems: Vec<Type> = types.iter().filter_map(|t| t.element().cloned()).collect();
    Some(make(unify(&elems)?))
}

fn unify_objects_as_maps(types: &[Type]) -> Option<Type> {
    let objects: Vec<Type> = types
        .iter()
        .filter(|t| matches!(t, Type::Object { .. }))
        .cloned()
        .collect();
    let as_map = unify_objects_to_map(&objects)?;
    let replaced: Vec<Type> = types
        .iter()
        .map(|t| {
            if matches!(t, Type::Object { .. }) {
                as_map.clone()
            } else {
                t.clone()
            }
        })
        .collect();
    unify(&replaced)
}

fn unify_tuples_as_list(types: &[Type]) -> Option<Type> {
    let tuples: Vec<Type> = types
        .iter()
        .filter(|t| matches!(t, Type::Tuple(_)))
        .cloned()
        .collect();
    let as_list = unify_tuples_to_list(&tuples)?;
    let replaced: Vec<Type> = types
        .iter()
        .map(|t| {
            if matches!(t, Type::Tuple(_)) {
                as_list.clone()
            } else {
                t.clone()
            }
        })
        .collect();
    unify(&replaced)
}

fn object_attrs(t: &Type) -> Option<&BTreeMap<String, Type>> {
    match t {
        Type::Object { attrs, .. } => Some(attrs),
        _ => None,
    }
}

fn unify_objects(types: &[Type], has_dynamic: bool) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let attr_sets: Vec<&BTreeMap<String, Type>> = types.iter().filter_map(object_attrs).collect();
    let first = attr_sets.first()?;
    if !attr_sets.iter().all(|a| a.keys().eq(first.keys())) {
        return unify_objects_to_map(types);
    }
    let mut out = BTreeMap::new();
    for name in first.keys() {
        let ts: Vec<Type> = attr_sets
            .iter()
            .filter_map(|a| a.get(name).cloned())
            .collect();
        match unify(&ts) {
            Some(t) => {
                out.insert(name.clone(), t);
            }
            None => return unify_objects_to_map(types),
        }
    }
    Some(Type::object(out))
}

fn unify_objects_to_map(types: &[Type]) -> Option<Type> {
    let all: Vec<Type> = types
        .iter()
        .filter_map(object_attrs)
        .flat_map(|a| a.values().cloned())
        .collect();
    if all.is_empty() {
        return Some(Type::map(Type::Dynamic));
    }
    Some(Type::map(unify(&all)?))
}

fn tuple_elems(t: &Type) -> Option<&Vec<Type>> {
    match t {
        Type::Tuple(es) => Some(es),
        _ => None,
    }
}

fn unify_tuples(types: &[Type], has_dynamic: bool) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let tuples: Vec<&Vec<Type>> = types.iter().filter_map(tuple_elems).collect();
    let len = tuples.first()?.len();
    if !tuples.iter().all(|t| t.len() == len) {
        return unify_tuples_to_list(types);
    }
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let ts: Vec<Type> = tuples.iter().map(|t| t[i].clone()).collect();
        match unify(&ts) {
            Some(t) => out.push(t),
            None => return unify_tuples_to_list(types),
        }
    }
    Some(Type::Tuple(out))
}

fn unify_tuples_to_list(types: &[Type]) -> Option<Type> {
    let all: Vec<Type> = types
        .iter()
        .filter_map(tuple_elems)
        .flat_map(|t| t.iter().cloned())
        .collect();
    if all.is_empty() {
        return Some(Type::list(Type::Dynamic));
    }
    Some(Type::list(unify(&all)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: Value, want: Type, expect: Result<Value, ()>) {
        let got = convert(&value, &want).map_err(|_| ());
        assert_eq!(got, expect, "{value:?} to {want}");
    }

    #[test]
    fn primitives_convert_through_strings() {
        check(Value::string("5"), Type::Number, Ok(Value::int(5)));
        check(Value::int(5), Type::String, Ok(Value::string("5")));
        check(Value::bool(true), Type::String, Ok(Value::string("true")));
        check(Value::string("x"), Type::Number, Err(()));
        check(Value::string("True"), Type::Bool, Err(()));
        check(Value::bool(true), Type::Number, Err(()));
    }

    #[test]
    fn structures_become_collections() {
        let tuple = Value::tuple(vec![Value::string("a"), Value::int(1)]);
        check(
            tuple,
            Type::list(Type::Dynamic),
            Ok(Value::list(
                Type::String,
                vec![Value::string("a"), Value::string("1")],
            )),
        );
        check(
            Value::tuple(vec![Value::int(1), Value::bool(true)]),
            Type::list(Type::Dynamic),
            Err(()),
        );
    }

    #[test]
    fn objects_drop_extra_and_require_missing_attributes() {
        let v = Value::object(BTreeMap::from([
            ("a".to_owned(), Value::int(1)),
            ("b".to_owned(), Value::int(2)),
        ]));
        let want = Type::object([("a".to_owned(), Type::String)]);
        check(
            v.clone(),
            want,
            Ok(Value::object(BTreeMap::from([(
                "a".to_owned(),
                Value::string("1"),
            )]))),
        );
        check(v, Type::object([("c".to_owned(), Type::String)]), Err(()));
    }

    #[test]
    fn unification_follows_cty() {
        let obj = |k: &str, t: Type| Type::object([(k.to_owned(), t)]);
        assert_eq!(unify(&[Type::Number, Type::String]), Some(Type::String));
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(
            unify(&[obj("a", Type::Number), obj("b", Type::String)]),
            Some(Type::map(Type::String))
        );
        assert_eq!(
            unify(&[Type::Tuple(vec![Type::Number]), Type::Tuple(vec![])]),
            Some(Type::list(Type::Number))
        );
    }
}

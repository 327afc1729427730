//! Value questions the plan renderer asks, answered as cty answers them.

use std::collections::BTreeMap;

use meshform_lang::schema::{Attribute, Block, NestedBlock, Nesting};
use meshform_lang::{Data, Type, Value};

/// One step of the path of the value being printed. Set elements are
/// addressed by value in Terraform; no replace path can name one here.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Attr(String),
    Index(usize),
    Key(String),
    Element,
}

/// The type of a nested block's value in its parent object.
pub(crate) fn block_type(b: &NestedBlock) -> Type {
    let inner = b.block.implied_type();
    match b.nesting {
        Nesting::Single | Nesting::Group => inner,
        Nesting::List => Type::list(inner),
        Nesting::Set => Type::set(inner),
        Nesting::Map => Type::map(inner),
    }
}

/// The type of an attribute's value.
pub(crate) fn attribute_type(a: &Attribute) -> Type {
    a.implied_type()
}

/// `ctyGetAttrMaybeNull`: an attribute of an object, null when the object
/// is null and also when it is the empty string (a legacy SDK workaround)
/// unless the object holds a sensitive value.
pub(crate) fn attr_maybe_null(obj: &Value, name: &str, ty: &Type) -> Value {
    match obj.data() {
        Data::Null(_) => Value::null(ty.clone()),
        Data::Unknown(_) => Value::unknown(ty.clone()),
        _ => match obj.get_attr(name) {
            Some(v) => {
                if v.as_str() == Some("") && !v.is_sensitive() && !obj.contains_sensitive() {
                    Value::null(ty.clone())
                } else {
                    v.clone()
                }
            }
            None => Value::null(ty.clone()),
        },
    }
}

/// `ctyCollectionValues`: the elements of a known, non-null collection (map
/// values in key order); nothing otherwise.
pub(crate) fn collection_values(v: &Value) -> Vec<Value> {
    match v.data() {
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => items.clone(),
        Data::Map(_, items) | Data::Object(items) => items.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The entries of a known, non-null map or object; nothing otherwise.
pub(crate) fn entries(v: &Value) -> BTreeMap<String, Value> {
    v.as_entries().cloned().unwrap_or_default()
}

/// The paths of every sensitive mark inside `v`.
fn mark_paths(v: &Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    if v.is_sensitive() {
        out.push(path.join("\u{0}"));
    }
    match v.data() {
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                mark_paths(item, path, out);
                path.pop();
            }
        }
        Data::Map(_, items) | Data::Object(items) => {
            for (k, item) in items {
                path.push(k.clone());
                mark_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn marks_of(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    mark_paths(v, &mut Vec::new(), &mut out);
    out.sort();
    out
}

/// `ctyEqualValueAndMarks`: equal values (Terraform's `==`, known true)
/// with the same marks.
pub(crate) fn equal_value_and_marks(a: &Value, b: &Value) -> bool {
    let same = a.clone().unmark_deep().equals(&b.clone().unmark_deep());
    same.as_bool() == Some(true) && marks_of(a) == marks_of(b)
}

/// `ctyEqualWithUnknown`: like [`equal_value_and_marks`], but anything
/// partly unknown is unequal.
pub(crate) fn equal_with_unknown(a: &Value, b: &Value) -> bool {
    a.is_wholly_known() && b.is_wholly_known() && equal_value_and_marks(a, b)
}

/// The number of sensitive marks, as cty's LCS compares them.
pub(crate) fn mark_count(v: &Value) -> usize {
    marks_of(v).len()
}

/// Whether a known set holds `v`.
pub(crate) fn set_has(set: &Value, v: &Value) -> bool {
    match set.data() {
        Data::Set(_, items) => items.iter().any(|e| e.raw_equal(v)),
        _ => false,
    }
}

/// A set of the union of `items` in cty's order. Unknown elements are never
/// equal to each other, so each one stays.
pub(crate) fn set_union(element: &Type, items: Vec<Value>) -> Vec<Value> {
    let unknowns = items.iter().filter(|v| !v.is_known()).count();
    let known: Vec<Value> = items.into_iter().filter(Value::is_known).collect();
    let set = Value::set(element.clone(), known);
    let mut out = collection_values(&set);
    out.extend((0..unknowns).map(|_| Value::unknown(element.clone())));
    out
}

/// The element type of a set value's type.
pub(crate) fn element_type(v: &Value) -> Type {
    match v.ty() {
        Type::List(e) | Type::Set(e) | Type::Map(e) => (*e).clone(),
        _ => Type::Dynamic,
    }
}

/// `ctyTypesEqual`: object types and tuple types count as equal among
/// themselves, since the printer diffs them element by element.
pub(crate) fn types_equal(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Object { .. }, Type::Object { .. }) | (Type::Tuple(_), Type::Tuple(_)) => true,
        _ => a == b,
    }
}

/// A string that is a JSON object or array, decoded with the type JSON
/// implies (`ctyjson.ImpliedType` + `Unmarshal`).
pub(crate) fn json_structure(s: &str) -> Option<Value> {
    let trimmed = s.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let j: serde_json::Value = serde_json::from_str(s).ok()?;
    Value::from_json(&j, &Type::Dynamic).ok()
}

/// A string that is JSON of any kind (for the "both JSON" check of diffs).
pub(crate) fn json_any(s: &str) -> Option<Value> {
    let j: serde_json::Value = serde_json::from_str(s).ok()?;
    if j.is_null() {
        return None;
    }
    Value::from_json(&j, &Type::Dynamic).ok()
}

/// `bufio.Scanner` lines: split at `\n`, a final newline ends the last
/// line instead of starting an empty one, `\r` before `\n` is dropped.
pub(crate) fn scan_lines(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.split('\n').collect();
    if s.ends_with('\n') {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// `NormalizeObjectFromLegacySDK`, which Terraform applies before printing:
/// a nested block's value is never unknown or null itself. An unknown
/// single block becomes a block of unknown attributes, an unknown list or
/// set of blocks one such block, a null list or set an empty one and a null
/// group block an empty block. Marks stay where they were.
pub(crate) fn normalize_blocks(val: &Value, schema: &Block) -> Value {
    if !val.is_known() {
        // Terraform reads each attribute of an unknown object as unknown.
        let mut attrs = BTreeMap::new();
        for (name, a) in &schema.attributes {
            attrs.insert(name.clone(), Value::unknown(a.implied_type()));
        }
        for (name, b) in &schema.block_types {
            attrs.insert(name.clone(), Value::unknown(block_type(b)));
        }
        let object = Value::object(attrs).mark_sensitive_if(val.is_sensitive());
        return normalize_blocks(&object, schema);
    }
    let Some(attrs) = val.as_entries() else {
        return if val.is_null() {
            Value::null(schema.implied_type()).mark_sensitive_if(val.is_sensitive())
        } else {
            val.clone()
        };
    };
    let mut out = attrs.clone();
    for (name, nested) in &schema.block_types {
        let Some(lv) = attrs.get(name) else {
            continue;
        };
        let inner = &nested.block;
        if inner.implied_type().has_dynamic() {
            continue;
        }
        let element = inner.implied_type();
        let normalized = match nested.nesting {
            Nesting::Single | Nesting::Group => {
                if !lv.is_known() {
                    unknown_block_stub(inner)
                } else if lv.is_null() && nested.nesting == Nesting::Group {
                    empty_block(inner)
                } else {
                    normalize_blocks(lv, inner)
                }
            }
            Nesting::List => match lv.data() {
                Data::Unknown(_) => Value::list(element, vec![unknown_block_stub(inner)]),
                Data::List(_, items) => Value::list(
                    element,
                    items.iter().map(|i| normalize_blocks(i, inner)).collect(),
                ),
                _ => Value::list(element, Vec::new()),
            },
            Nesting::Set => match lv.data() {
                Data::Unknown(_) => Value::set(element, vec![unknown_block_stub(inner)]),
                Data::Set(_, items) => Value::set(
                    element,
                    items.iter().map(|i| normalize_blocks(i, inner)).collect(),
                ),
                _ => Value::set(element, Vec::new()),
            },
            Nesting::Map => lv.clone(),
        };
        out.insert(
            name.clone(),
            normalized.mark_sensitive_if(lv.is_sensitive()),
        );
    }
    Value::object(out).mark_sensitive_if(val.is_sensitive())
}

/// A block whose every leaf attribute is unknown.
fn unknown_block_stub(schema: &Block) -> Value {
    let mut out = std::collections::BTreeMap::new();
    for (name, a) in &schema.attributes {
        out.insert(name.clone(), Value::unknown(a.implied_type()));
    }
    for (name, nested) in &schema.block_types {
        let inner = &nested.block;
        let v = match nested.nesting {
            Nesting::Single | Nesting::Group => unknown_block_stub(inner),
            Nesting::List => Value::list(inner.implied_type(), vec![unknown_block_stub(inner)]),
            Nesting::Set => Value::set(inner.implied_type(), vec![unknown_block_stub(inner)]),
            Nesting::Map => Value::map(inner.implied_type(), Default::default()),
        };
        out.insert(name.clone(), v);
    }
    Value::object(out)
}

/// The value of a group block left out of the configuration: null
/// attributes and empty nested block collections.
fn empty_block(schema: &Block) -> Value {
    let mut out = std::collections::BTreeMap::new();
    for (name, a) in &schema.attributes {
        out.insert(name.clone(), Value::null(a.implied_type()));
    }
    for (name, nested) in &schema.block_types {
        let inner = &nested.block;
        let v = match nested.nesting {
            Nesting::Single => Value::null(inner.implied_type()),
            Nesting::Group => empty_block(inner),
            Nesting::List => Value::list(inner.implied_type(), Vec::new()),
            Nesting::Set => Value::set(inner.implied_type(), Vec::new()),
            Nesting::Map => Value::map(inner.implied_type(), Default::default()),
        };
        out.insert(name.clone(), v);
    }
    Value::object(out)
}

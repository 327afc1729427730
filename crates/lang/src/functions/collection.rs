//! Collection functions.

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::convert::{convert, unify};
use crate::number::Number;
use crate::types::Type;
use crate::value::{Data, Value};

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "alltrue",
        params: &[p("list", T::ListBool)],
        variadic: None,
        ret: T::Bool,
        imp: |a| truth(a, true),
    },
    Func {
        name: "anytrue",
        params: &[p("list", T::ListBool)],
        variadic: None,
        ret: T::Bool,
        imp: |a| truth(a, false),
    },
    Func {
        name: "chunklist",
        params: &[p("list", T::ListAny).marked(), p("size", T::Number)],
        variadic: None,
        ret: T::ListAny,
        imp: chunklist,
    },
    Func {
        name: "coalesce",
        params: &[],
        variadic: Some(p("vals", T::Any).null().unknown()),
        ret: T::Any,
        imp: coalesce,
    },
    Func {
        name: "coalescelist",
        params: &[],
        variadic: Some(p("vals", T::Any).null()),
        ret: T::Any,
        imp: coalescelist,
    },
    Func {
        name: "compact",
        params: &[p("list", T::ListString)],
        variadic: None,
        ret: T::ListString,
        imp: compact,
    },
    Func {
        name: "concat",
        params: &[],
        variadic: Some(p("seqs", T::Any).marked().typed()),
        ret: T::Any,
        imp: concat,
    },
    Func {
        name: "contains",
        params: &[p("list", T::Any).typed(), p("value", T::Any).typed()],
        variadic: None,
        ret: T::Bool,
        imp: contains,
    },
    Func {
        name: "distinct",
        params: &[p("list", T::ListAny)],
        variadic: None,
        ret: T::ListAny,
        imp: distinct,
    },
    Func {
        name: "element",
        params: &[p("list", T::Any).marked().typed(), p("index", T::Number)],
        variadic: None,
        ret: T::Any,
        imp: element,
    },
    Func {
        name: "flatten",
        params: &[p("list", T::Any).marked().typed()],
        variadic: None,
        ret: T::Any,
        imp: flatten,
    },
    Func {
        name: "index",
        params: &[p("list", T::Any).typed(), p("value", T::Any).typed()],
        variadic: None,
        ret: T::Number,
        imp: index,
    },
    Func {
        name: "keys",
        params: &[p("inputMap", T::Any).marked().typed()],
        variadic: None,
        ret: T::Any,
        imp: keys,
    },
    Func {
        name: "length",
        params: &[p("value", T::Any).unknown().marked()],
        variadic: None,
        ret: T::Number,
        imp: length,
    },
    Func {
        name: "lookup",
        params: &[
            p("inputMap", T::Any).marked().typed(),
            p("key", T::String).marked(),
        ],
        variadic: Some(p("default", T::Any).null().marked()),
        ret: T::Any,
        imp: lookup,
    },
    Func {
        name: "matchkeys",
        params: &[
            p("values", T::ListAny),
            p("keys", T::ListAny),
            p("searchset", T::ListAny),
        ],
        variadic: None,
        ret: T::ListAny,
        imp: matchkeys,
    },
    Func {
        name: "merge",
        params: &[],
        variadic: Some(p("maps", T::Any).null().marked()),
        ret: T::Any,
        imp: merge,
    },
    Func {
        name: "one",
        params: &[p("list", T::Any).typed()],
        variadic: None,
        ret: T::Any,
        imp: one,
    },
    Func {
        name: "range",
        params: &[],
        variadic: Some(p("params", T::Number)),
        ret: T::ListNumber,
        imp: range,
    },
    Func {
        name: "reverse",
        params: &[p("list", T::Any).marked().typed()],
        variadic: None,
        ret: T::Any,
        imp: reverse,
    },
    Func {
        name: "setintersection",
        params: &[p("first_set", T::SetAny)],
        variadic: Some(p("other_sets", T::SetAny)),
        ret: T::SetAny,
        imp: |a| set_op(a, SetOp::Intersection),
    },
    Func {
        name: "setproduct",
        params: &[],
        variadic: Some(p("sets", T::Any).marked().typed()),
        ret: T::Any,
        imp: setproduct,
    },
    Func {
        name: "setsubtract",
        params: &[p("a", T::SetAny), p("b", T::SetAny)],
        variadic: None,
        ret: T::SetAny,
        imp: |a| set_op(a, SetOp::Subtract),
    },
    Func {
        name: "setunion",
        params: &[p("first_set", T::SetAny)],
        variadic: Some(p("other_sets", T::SetAny)),
        ret: T::SetAny,
        imp: |a| set_op(a, SetOp::Union),
    },
    Func {
        name: "slice",
        params: &[
            p("list", T::Any).marked(),
            p("start_index", T::Number),
            p("end_index", T::Number),
        ],
        variadic: None,
        ret: T::Any,
        imp: slice,
    },
    Func {
        name: "sort",
        params: &[p("list", T::ListString)],
        variadic: None,
        ret: T::ListString,
        imp: sort,
    },
    Func {
        name: "sum",
        params: &[p("list", T::Any).typed()],
        variadic: None,
        ret: T::Number,
        imp: sum,
    },
    Func {
        name: "transpose",
        params: &[p("values", T::Any)],
        variadic: None,
        ret: T::Any,
        imp: transpose,
    },
    Func {
        name: "values",
        params: &[p("mapping", T::Any).marked().typed()],
        variadic: None,
        ret: T::Any,
        imp: values,
    },
    Func {
        name: "zipmap",
        params: &[
            p("keys", T::ListString).marked(),
            p("values", T::Any).marked(),
        ],
        variadic: None,
        ret: T::Any,
        imp: zipmap,
    },
    Func {
        name: "list",
        params: &[],
        variadic: Some(p("vals", T::Any)),
        ret: T::Any,
        imp: |_| {
            Err(FnError::call("the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list"))
        },
    },
    Func {
        name: "map",
        params: &[],
        variadic: Some(p("vals", T::Any)),
        ret: T::Any,
        imp: |_| {
            Err(FnError::call("the \"map\" function was deprecated in Terraform v0.12 and is no longer available; use tomap({ ... }) syntax to write a literal map"))
        },
    },
];

fn seq(v: &Value) -> Option<&[Value]> {
    match v.data() {
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => Some(items),
        _ => None,
    }
}

fn elem_type(v: &Value) -> Type {
    v.ty().element().cloned().unwrap_or(Type::Dynamic)
}

fn truth(a: &Args<'_, '_>, all: bool) -> FnResult {
    let items = seq(a.get(0)).unwrap_or_default();
    let result = if all {
        items.iter().all(|v| v.as_bool() == Some(true))
    } else {
        items.iter().any(|v| v.as_bool() == Some(true))
    };
    Ok(Value::bool(result))
}

fn chunklist(a: &Args<'_, '_>) -> FnResult {
    let list = a.get(0);
    let size = a.int(1)?;
    if size < 0 {
        return Err(FnError::arg(1, "the size argument must be positive"));
    }
    let marked = list.is_sensitive();
    let whole = list.clone().unmark();
    let et = elem_type(&whole);
    let items = seq(&whole).unwrap_or_default();
    if size == 0 {
        if items.is_empty() {
            return Ok(Value::list(whole.ty(), Vec::new()).mark_sensitive_if(marked));
        }
        return Ok(Value::list(whole.ty(), vec![whole.clone()]).mark_sensitive_if(marked));
    }
    let chunks = items
        .chunks(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|c| Value::list(et.clone(), c.to_vec()))
        .collect();
    Ok(Value::list(Type::list(et), chunks).mark_sensitive_if(marked))
}

fn coalesce(a: &Args<'_, '_>) -> FnResult {
    let types: Vec<Type> = a.values.iter().map(Value::ty).collect();
    let ty = unify(&types).ok_or_else(|| FnError::call("all arguments must have the same type"))?;
    for v in &a.values {
        // An unknown argument before the first usable one leaves the
        // result unknown, but of the arguments' common type.
        if !v.is_known() {
            return Ok(Value::unknown(ty));
        }
        if v.is_null() || v.as_str() == Some("") {
            continue;
        }
        return convert(v, &ty).map_err(|e| FnError::call(e.to_string()));
    }
    Err(FnError::call("no non-null, non-empty-string arguments"))
}

fn coalescelist(a: &Args<'_, '_>) -> FnResult {
    for (i, v) in a.values.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        match v.data() {
            Data::List(..) | Data::Tuple(_) => {
                if v.length().unwrap_or(0) > 0 {
                    return Ok(v.clone());
                }
            }
            _ => {
                return Err(FnError::arg(
                    i,
                    "coalescelist arguments must be lists or tuples",
                ))
            }
        }
    }
    Err(FnError::call("no non-null arguments"))
}

fn compact(a: &Args<'_, '_>) -> FnResult {
    let items = seq(a.get(0)).unwrap_or_default();
    let out = items
        .iter()
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .collect();
    Ok(Value::list(Type::String, out))
}

fn concat(a: &Args<'_, '_>) -> FnResult {
    if a.len() == 0 {
        return Err(FnError::call("at least one argument is required"));
    }
    let mut all_lists = true;
    for (i, v) in a.values.iter().enumerate() {
        match v.data() {
            Data::List(..) => {}
            Data::Tuple(_) => all_lists = false,
            _ => {
                return Err(FnError::arg(
                    i,
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        kind_name(&v.ty())
                    ),
                ))
            }
        }
    }
    let marked = a.values.iter().any(Value::is_sensitive);
    let items: Vec<Value> = a
        .values
        .iter()
        .flat_map(|v| seq(v).unwrap_or_default().to_vec())
        .collect();
    if all_lists {
        let types: Vec<Type> = a.values.iter().map(Value::ty).collect();
        if let Some(Type::List(et)) = unify(&types) {
            let out = items
                .iter()
                .map(|v| convert(v, &et))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| FnError::call(e.to_string()))?;
            return Ok(Value::list((*et).clone(), out).mark_sensitive_if(marked));
        }
    }
    Ok(Value::tuple(items).mark_sensitive_if(marked))
}

fn kind_name(t: &Type) -> String {
    match t {
        Type::Set(_) => "set".to_owned(),
        Type::Map(_) => "map".to_owned(),
        Type::Object { .. } => "object".to_owned(),
        other => other.to_string(),
    }
}

fn contains(a: &Args<'_, '_>) -> FnResult {
    let Some(items) = seq(a.get(0)) else {
        return Err(FnError::arg(0, "argument must be list, tuple, or set"));
    };
    let needle = a.get(1);
    let mut unknown = false;
    for v in items {
        match v.equals(needle).as_bool() {
            Some(true) => return Ok(Value::bool(true)),
            None => unknown = true,
            Some(false) => {}
        }
    }
    Ok(if unknown {
        Value::unknown(Type::Bool)
    } else {
        Value::bool(false)
    })
}

fn distinct(a: &Args<'_, '_>) -> FnResult {
    let list = a.get(0);
    let mut out: Vec<Value> = Vec::new();
    for v in seq(list).unwrap_or_default() {
        if !out.iter().any(|o| o.raw_equal(v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(elem_type(list), out))
}

fn element(a: &Args<'_, '_>) -> FnResult {
    let list = a.get(0);
    let Some(items) = (match list.data() {
        Data::List(_, items) | Data::Tuple(items) => Some(items),
        _ => None,
    }) else {
        return Err(FnError::arg(
            0,
            format!("cannot read elements from {}", kind_name(&list.ty())),
        ));
    };
    let n = a.num(1)?;
    if !n.is_integer() {
        return Err(FnError::call(
            "invalid index: value must be a whole number, not a fraction",
        ));
    }
    let i = n.to_i64().ok_or_else(|| FnError::call("invalid index"))?;
    if items.is_empty() {
        return Err(FnError::call(
            "cannot use element function with an empty list",
        ));
    }
    let len = items.len() as i64;
    // A negative index counts from the end of a list. A tuple's element
    // type is looked up with the index as given, which fails unless the
    // remainder is zero (Terraform 1.11 panics there).
    let mut i = i % len;
    if i < 0 {
        if matches!(list.data(), Data::Tuple(_)) {
            return Err(FnError::call(
                "cannot use element function with a negative index on a tuple",
            ));
        }
        i += len;
    }
    Ok(items[i as usize]
        .clone()
        .mark_sensitive_if(list.is_sensitive()))
}

fn flatten_into(v: &Value, out: &mut Vec<Value>, marked: &mut bool) -> bool {
    *marked |= v.is_sensitive();
    match seq(v) {
        Some(items) => {
            for item in items {
                if seq(item).is_some() {
                    if !flatten_into(item, out, marked) {
                        return false;
                    }
                } else {
                    out.push(item.clone());
                }
            }
            true
        }
        None => false,
    }
}

fn flatten(a: &Args<'_, '_>) -> FnResult {
    let mut out = Vec::new();
    let mut marked = false;
    if !flatten_into(a.get(0), &mut out, &mut marked) {
        return Err(FnError::call("can only flatten lists, sets and tuples"));
    }
    Ok(Value::tuple(out).mark_sensitive_if(marked))
}

fn index(a: &Args<'_, '_>) -> FnResult {
    let list = a.get(0);
    let items = match list.data() {
        Data::List(_, items) | Data::Tuple(items) => items,
        _ => return Err(FnError::arg(0, "argument must be a list or tuple")),
    };
    for (i, v) in items.iter().enumerate() {
        if v.equals(a.get(1)).as_bool() == Some(true) {
            return Ok(Value::int(i as i64));
        }
    }
    Err(FnError::call("item not found"))
}

fn keys(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let out = match v.data() {
        Data::Map(_, items) => Value::list(
            Type::String,
            items.keys().map(|k| Value::string(k.clone())).collect(),
        ),
        Data::Object(items) => {
            Value::tuple(items.keys().map(|k| Value::string(k.clone())).collect())
        }
        _ => return Err(FnError::arg(0, "must have map or object type")),
    };
    Ok(out.mark_sensitive_if(v.is_sensitive()))
}

fn values(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let out = match v.data() {
        Data::Map(et, items) => Value::list(et.clone(), items.values().cloned().collect()),
        Data::Object(items) => Value::tuple(items.values().cloned().collect()),
        _ => {
            return Err(FnError::call(
                "values() requires a map as the first argument",
            ))
        }
    };
    Ok(out.mark_sensitive_if(v.is_sensitive()))
}

fn length(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let out = match v.data() {
        Data::Unknown(_) => Value::unknown(Type::Number),
        Data::String(s) => Value::int(s.graphemes(true).count() as i64),
        _ => match v.length() {
            Some(n) => Value::int(n as i64),
            None => {
                return Err(FnError::arg(
                    0,
                    "argument must be a string, a collection type, or a structural type",
                ))
            }
        },
    };
    Ok(out.mark_sensitive_if(v.is_sensitive()))
}

fn lookup(a: &Args<'_, '_>) -> FnResult {
    let m = a.get(0);
    let key_v = a.get(1);
    let key = key_v.as_str().unwrap_or_default();
    if a.len() > 3 {
        return Err(FnError::call(format!(
            "lookup() takes two or three arguments, got {}",
            a.len()
        )));
    }
    let marked = m.is_sensitive() || key_v.is_sensitive();
    let default = a.values.get(2);
    let out = match m.data() {
        Data::Object(items) => match (items.get(key), default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => {
                return Err(FnError::arg(
                    0,
                    format!("the given object has no attribute {key:?}"),
                ))
            }
        },
        Data::Map(et, items) => {
            let converted_default = match default {
                Some(d) => Some(convert(d, et).map_err(|_| {
                    FnError::arg(
                        2,
                        "the default value must have the same type as the map elements",
                    )
                })?),
                None => None,
            };
            match (items.get(key), converted_default) {
                (Some(v), _) => v.clone(),
                (None, Some(d)) => d,
                (None, None) => {
                    return Err(FnError::call(format!("lookup failed to find '{key}'")))
                }
            }
        }
        _ => {
            return Err(FnError::arg(
                0,
                "lookup() requires a map as the first argument",
            ))
        }
    };
    Ok(out.mark_sensitive_if(marked))
}

fn matchkeys(a: &Args<'_, '_>) -> FnResult {
    let vals = seq(a.get(0)).unwrap_or_default();
    let key_ty = unify(&[a.get(1).ty(), a.get(2).ty()])
        .ok_or_else(|| FnError::call("keys and searchset must be of the same type"))?;
    let keys = convert(a.get(1), &key_ty).map_err(|e| FnError::arg(1, e.to_string()))?;
    let search = convert(a.get(2), &key_ty).map_err(|e| FnError::arg(2, e.to_string()))?;
    let keys = seq(&keys).unwrap_or_default();
    let search = seq(&search).unwrap_or_default();
    if vals.len() != keys.len() {
        return Err(FnError::call("length of keys and values should be equal"));
    }
    let mut out = Vec::new();
    for (v, k) in vals.iter().zip(keys) {
        if search.iter().any(|s| s.equals(k).as_bool() == Some(true)) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(elem_type(a.get(0)), out))
}

fn merge(a: &Args<'_, '_>) -> FnResult {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut marked = false;
    for (i, v) in a.values.iter().enumerate() {
        match v.data() {
            Data::Null(Type::Dynamic | Type::Map(_) | Type::Object { .. }) => {}
            Data::Map(_, items) | Data::Object(items) => {
                marked |= v.is_sensitive();
                out.extend(items.iter().map(|(k, x)| (k.clone(), x.clone())));
            }
            _ => {
                return Err(FnError::arg(
                    i,
                    format!(
                        "arguments must be maps or objects, got {:?}",
                        kind_name(&v.ty())
                    ),
                ))
            }
        }
    }
    // When every argument has the same type the result has it too (a map
    // stays a map); otherwise the result is an object.
    let first = a.values.first().map(Value::ty);
    let same = a.values.iter().all(|v| Some(v.ty()) == first);
    if let (true, Some(Type::Map(et))) = (same, first) {
        return Ok(Value::map((*et).clone(), out).mark_sensitive_if(marked));
    }
    Ok(Value::object(out).mark_sensitive_if(marked))
}

fn one(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let bad = || {
        FnError::arg(
            0,
            "must be a list, set, or tuple value with either zero or one elements",
        )
    };
    let items = seq(v).ok_or_else(bad)?;
    match items {
        [] => Ok(Value::null(match v.data() {
            Data::List(t, _) | Data::Set(t, _) => t.clone(),
            _ => Type::Dynamic,
        })),
        [x] => Ok(x.clone()),
        _ => Err(bad()),
    }
}

fn range(a: &Args<'_, '_>) -> FnResult {
    let zero = Number::zero();
    let one = Number::from_i64(1);
    let (start, end, step) = match a.len() {
        1 => {
            let end = a.num(0)?.clone();
            let step = if end.is_negative() && !end.is_zero() {
                one.neg()
            } else {
                one
            };
            (zero, end, step)
        }
        2 => {
            let start = a.num(0)?.clone();
            let end = a.num(1)?.clone();
            let step = if end.cmp(&start).is_lt() {
                one.neg()
            } else {
                one
            };
            (start, end, step)
        }
        3 => (a.num(0)?.clone(), a.num(1)?.clone(), a.num(2)?.clone()),
        _ => return Err(FnError::call("must have one, two, or three arguments")),
    };
    let mut out = Vec::new();
    let up = !step.is_negative() || step.is_zero();
    if up && end.cmp(&start).is_lt() {
        return Err(FnError::arg(
            2,
            "step must be negative when start is greater than end",
        ));
    }
    if !up && start.cmp(&end).is_lt() {
        return Err(FnError::arg(
            2,
            "step must be positive when start is less than end",
        ));
    }
    let mut v = start;
    loop {
        let more = if up {
            v.cmp(&end).is_lt()
        } else {
            v.cmp(&end).is_gt()
        };
        if !more {
            break;
        }
        if out.len() >= 1024 {
            return Err(FnError::call(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        out.push(Value::number(v.clone()));
        v = v.add(&step).ok_or_else(|| FnError::call("invalid step"))?;
    }
    Ok(Value::list(Type::Number, out))
}

fn reverse(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let out = match v.data() {
        Data::List(t, items) | Data::Set(t, items) => {
            Value::list(t.clone(), items.iter().rev().cloned().collect())
        }
        Data::Tuple(items) => Value::tuple(items.iter().rev().cloned().collect()),
        _ => {
            return Err(FnError::arg(
                0,
                format!(
                    "can only reverse list or tuple values, not {}",
                    kind_name(&v.ty())
                ),
            ))
        }
    };
    Ok(out.mark_sensitive_if(v.is_sensitive()))
}

enum SetOp {
    Union,
    Intersection,
    Subtract,
}

fn set_op(a: &Args<'_, '_>, op: SetOp) -> FnResult {
    let types: Vec<Type> = a.values.iter().map(elem_type).collect();
    let et = unify(&types)
        .ok_or_else(|| FnError::call("given sets must all have compatible element types"))?;
    let sets: Vec<Vec<Value>> = a
        .values
        .iter()
        .map(|s| {
            seq(s)
                .unwrap_or_default()
                .iter()
                .map(|v| convert(v, &et))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| FnError::call(e.to_string()))?;
    let has = |set: &[Value], v: &Value| set.iter().any(|x| x.raw_equal(v));
    let first = sets.first().cloned().unwrap_or_default();
    let out: Vec<Value> = match op {
        SetOp::Union => sets.into_iter().flatten().collect(),
        SetOp::Intersection => first
            .into_iter()
            .filter(|v| sets[1..].iter().all(|s| has(s, v)))
            .collect(),
        SetOp::Subtract => first
            .into_iter()
            .filter(|v| !sets.get(1).is_some_and(|s| has(s, v)))
            .collect(),
    };
    Ok(Value::set(et, out))
}

fn setproduct(a: &Args<'_, '_>) -> FnResult {
    if a.len() < 2 {
        return Err(FnError::call("at least two arguments are required"));
    }
    let mut all_lists = true;
    let mut marked = false;
    let mut lists = Vec::new();
    for (i, v) in a.values.iter().enumerate() {
        marked |= v.is_sensitive();
        let items = seq(v).unwrap_or_default();
        let et = match v.data() {
            Data::Set(et, _) => {
                all_lists = false;
                et.clone()
            }
            Data::List(et, _) => et.clone(),
            Data::Tuple(_) if items.is_empty() => Type::Dynamic,
            Data::Tuple(_) => unify(&items.iter().map(Value::ty).collect::<Vec<_>>())
                .ok_or_else(|| FnError::arg(i, "all elements must be of the same type"))?,
            _ => return Err(FnError::arg(i, "a set or a list is required")),
        };
        let items = items
            .iter()
            .map(|x| convert(x, &et))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| FnError::arg(i, e.to_string()))?;
        lists.push((et, items));
    }
    let tuple_ty = Type::Tuple(lists.iter().map(|(t, _)| t.clone()).collect());
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for (_, items) in &lists {
        let mut next = Vec::with_capacity(rows.len() * items.len());
        for row in &rows {
            for item in items {
                let mut r = row.clone();
                r.push(item.clone());
                next.push(r);
            }
        }
        rows = next;
    }
    let out: Vec<Value> = rows.into_iter().map(Value::tuple).collect();
    let result = if all_lists {
        Value::list(tuple_ty, out)
    } else {
        Value::set(tuple_ty, out)
    };
    Ok(result.mark_sensitive_if(marked))
}

fn slice(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let items = match v.data() {
        Data::List(_, items) | Data::Tuple(items) => items,
        Data::Set(..) => return Err(FnError::arg(0, "cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important")),
        _ => return Err(FnError::arg(0, "must be a list or tuple value")),
    };
    let start = a.int(1)?;
    let end = a.int(2)?;
    if start < 0 {
        return Err(FnError::arg(1, "start index must not be less than zero"));
    }
    if start > items.len() as i64 {
        return Err(FnError::arg(
            1,
            "start index must not be greater than the length of the list",
        ));
    }
    if end < 0 {
        return Err(FnError::arg(2, "end index must not be less than zero"));
    }
    if end > items.len() as i64 {
        return Err(FnError::arg(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(FnError::arg(
            1,
            "start index must not be greater than end index",
        ));
    }
    let part = items[start as usize..end as usize].to_vec();
    let out = match v.data() {
        Data::List(t, _) => Value::list(t.clone(), part),
        _ => Value::tuple(part),
    };
    Ok(out.mark_sensitive_if(v.is_sensitive()))
}

fn sort(a: &Args<'_, '_>) -> FnResult {
    let items = seq(a.get(0)).unwrap_or_default();
    let mut strs = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        match v.as_str() {
            Some(s) => strs.push(s.to_owned()),
            None => {
                return Err(FnError::arg(
                    0,
                    format!("given list element {i} is null; a null string cannot be sorted"),
                ))
            }
        }
    }
    strs.sort();
    Ok(Value::list(
        Type::String,
        strs.into_iter().map(Value::string).collect(),
    ))
}

fn sum(a: &Args<'_, '_>) -> FnResult {
    let items = seq(a.get(0)).ok_or_else(|| FnError::arg(0, "cannot sum noniterable"))?;
    let not_numbers = || FnError::arg(0, "argument must be list, set, or tuple of number values");
    let Some((first, rest)) = items.split_first() else {
        return Err(FnError::arg(0, "cannot sum an empty list"));
    };
    // Every element converts to a number (`"1"` counts as 1).
    if first.is_null() {
        return Err(not_numbers());
    }
    let first = convert(first, &Type::Number).map_err(|_| not_numbers())?;
    let mut total = first.as_number().ok_or_else(not_numbers)?.clone();
    for v in rest {
        if v.is_null() {
            return Err(not_numbers());
        }
        let n = convert(v, &Type::Number).map_err(|_| not_numbers())?;
        let n = n.as_number().ok_or_else(not_numbers)?;
        total = total
            .add(n)
            .ok_or_else(|| FnError::call("can't compute sum of opposing infinities"))?;
    }
    Ok(Value::number(total))
}

fn transpose(a: &Args<'_, '_>) -> FnResult {
    let m = convert(a.get(0), &Type::map(Type::list(Type::String)))
        .map_err(|e| FnError::arg(0, e.to_string()))?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, list) in m.as_entries().cloned().unwrap_or_default() {
        for v in seq(&list).unwrap_or_default() {
            let Some(s) = v.as_str() else {
                return Err(FnError::arg(0, "lists must not contain null values"));
            };
            out.entry(s.to_owned())
                .or_default()
                .push(Value::string(k.clone()));
        }
    }
    Ok(Value::map(
        Type::list(Type::String),
        out.into_iter()
            .map(|(k, vs)| (k, Value::list(Type::String, vs)))
            .collect(),
    ))
}

fn zipmap(a: &Args<'_, '_>) -> FnResult {
    let keys_v = a.get(0);
    let vals_v = a.get(1);
    let mut marked = keys_v.is_sensitive() || vals_v.is_sensitive();
    let keys = seq(keys_v).unwrap_or_default();
    let vals = match vals_v.data() {
        Data::List(_, items) | Data::Tuple(items) => items,
        _ => {
            return Err(FnError::call(
                "values argument must be a list or tuple value",
            ))
        }
    };
    if keys.len() != vals.len() {
        return Err(FnError::call(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (i, (k, v)) in keys.iter().zip(vals).enumerate() {
        marked |= k.is_sensitive();
        let Some(k) = k.as_str() else {
            return Err(FnError::call(format!(
                "keys list has null value at index {i}"
            )));
        };
        out.insert(k.to_owned(), v.clone());
    }
    let result = match vals_v.data() {
        Data::List(t, _) => Value::map(t.clone(), out),
        _ => Value::object(out),
    };
    Ok(result.mark_sensitive_if(marked))
}

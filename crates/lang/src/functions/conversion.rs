//! Type conversion functions (`tostring`, `tolist`, ...) and the functions
//! about marks (`sensitive`, `nonsensitive`, `issensitive`,
//! `ephemeralasnull`).

use super::{p, Args, FnError, FnResult, Func, T};
use crate::convert::convert;
use crate::types::Type;
use crate::value::Value;

const V: super::P = p("v", T::Any).null().unknown().marked();

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "tostring",
        params: &[V],
        variadic: None,
        ret: T::String,
        imp: |a| to(a, Type::String),
    },
    Func {
        name: "tonumber",
        params: &[V],
        variadic: None,
        ret: T::Number,
        imp: |a| to(a, Type::Number),
    },
    Func {
        name: "tobool",
        params: &[V],
        variadic: None,
        ret: T::Bool,
        imp: |a| to(a, Type::Bool),
    },
    Func {
        name: "tolist",
        params: &[V],
        variadic: None,
        ret: T::ListAny,
        imp: |a| to(a, Type::list(Type::Dynamic)),
    },
    Func {
        name: "toset",
        params: &[V],
        variadic: None,
        ret: T::SetAny,
        imp: |a| to(a, Type::set(Type::Dynamic)),
    },
    Func {
        name: "tomap",
        params: &[V],
        variadic: None,
        ret: T::MapAny,
        imp: |a| to(a, Type::map(Type::Dynamic)),
    },
    Func {
        name: "sensitive",
        params: &[p("value", T::Any).null().unknown().marked()],
        variadic: None,
        ret: T::Any,
        imp: sensitive,
    },
    Func {
        name: "nonsensitive",
        params: &[p("value", T::Any).null().unknown().marked()],
        variadic: None,
        ret: T::Any,
        imp: nonsensitive,
    },
    Func {
        name: "issensitive",
        params: &[p("value", T::Any).null().unknown().marked()],
        variadic: None,
        ret: T::Bool,
        imp: issensitive,
    },
    Func {
        name: "ephemeralasnull",
        params: &[p("value", T::Any).null().unknown().marked()],
        variadic: None,
        ret: T::Any,
        // No value here is ephemeral (meshform has no ephemeral resources
        // or variables), so every value passes through as it is.
        imp: |a| Ok(a.get(0).clone()),
    },
];

fn to(a: &Args<'_, '_>, want: Type) -> FnResult {
    let v = a.get(0);
    convert(v, &want).map_err(|e| {
        let what = match want {
            Type::String => "string",
            Type::Number => "number",
            Type::Bool => "bool",
            Type::List(_) => "list",
            Type::Set(_) => "set",
            _ => "map",
        };
        let have = v.ty();
        if have.is_primitive() || want.is_primitive() && !have.is_primitive() {
            FnError::arg(
                0,
                format!("cannot convert {} to {what}", friendly_kind(&have)),
            )
        } else {
            FnError::arg(
                0,
                format!("cannot convert {} to {what}: {e}", friendly_kind(&have)),
            )
        }
    })
}

fn friendly_kind(t: &Type) -> String {
    match t {
        Type::Tuple(_) => "tuple".to_owned(),
        Type::Object { .. } => "object".to_owned(),
        other => other.to_string(),
    }
}

fn sensitive(a: &Args<'_, '_>) -> FnResult {
    Ok(a.get(0).clone().mark_sensitive())
}

/// `nonsensitive`: removes the value's own mark (not the marks of values
/// inside it). Since Terraform 1.8 a value that is not sensitive passes
/// through unchanged instead of failing.
fn nonsensitive(a: &Args<'_, '_>) -> FnResult {
    Ok(a.get(0).clone().unmark())
}

/// `issensitive`: whether the value itself is marked; an unmarked unknown
/// value may still turn out sensitive.
fn issensitive(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    Ok(if v.is_sensitive() {
        Value::bool(true)
    } else if !v.is_known() {
        Value::unknown(Type::Bool)
    } else {
        Value::bool(false)
    })
}

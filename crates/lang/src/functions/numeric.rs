//! Numeric functions.

use num_bigint::BigInt;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::number::Number;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "abs",
        params: &[p("num", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: |a| Ok(Value::number(a.num(0)?.abs())),
    },
    Func {
        name: "ceil",
        params: &[p("num", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: |a| Ok(Value::number(a.num(0)?.ceil())),
    },
    Func {
        name: "floor",
        params: &[p("num", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: |a| Ok(Value::number(a.num(0)?.floor())),
    },
    Func {
        name: "log",
        params: &[p("num", T::Number), p("base", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: log,
    },
    Func {
        name: "pow",
        params: &[p("num", T::Number), p("power", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: pow,
    },
    Func {
        name: "signum",
        params: &[p("num", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: signum,
    },
    Func {
        name: "max",
        params: &[],
        variadic: Some(p("numbers", T::Number)),
        ret: T::Number,
        imp: |a| extreme(a, true),
    },
    Func {
        name: "min",
        params: &[],
        variadic: Some(p("numbers", T::Number)),
        ret: T::Number,
        imp: |a| extreme(a, false),
    },
    Func {
        name: "parseint",
        params: &[p("number", T::Any).typed(), p("base", T::Number)],
        variadic: None,
        ret: T::Number,
        imp: parseint,
    },
];

fn float(f: f64) -> FnResult {
    Number::from_f64(f)
        .map(Value::number)
        .ok_or_else(|| FnError::call("the result is not a number"))
}

fn log(a: &Args<'_, '_>) -> FnResult {
    let n = a.num(0)?.to_f64();
    let b = a.num(1)?.to_f64();
    float(n.ln() / b.ln())
}

fn pow(a: &Args<'_, '_>) -> FnResult {
    let n = a.num(0)?.to_f64();
    let e = a.num(1)?.to_f64();
    float(n.powf(e))
}

fn signum(a: &Args<'_, '_>) -> FnResult {
    let n = a.num(0)?;
    if n.to_i64().is_none() {
        return Err(FnError::call(
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807",
        ));
    }
    let s = if n.is_zero() {
        0
    } else if n.is_negative() {
        -1
    } else {
        1
    };
    Ok(Value::int(s))
}

fn extreme(a: &Args<'_, '_>, max: bool) -> FnResult {
    if a.len() == 0 {
        return Err(FnError::call("must provide at least one argument"));
    }
    let mut best = a.num(0)?.clone();
    for i in 1..a.len() {
        let n = a.num(i)?;
        let better = if max {
            n.cmp(&best).is_gt()
        } else {
            n.cmp(&best).is_lt()
        };
        if better {
            best = n.clone();
        }
    }
    Ok(Value::number(best))
}

fn parseint(a: &Args<'_, '_>) -> FnResult {
    let s = match a.get(0).as_str() {
        Some(s) => s,
        None => return Err(FnError::arg(0, "a string is required")),
    };
    let base = a.int(1)?;
    if !(2..=62).contains(&base) {
        return Err(FnError::arg(
            1,
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let fail = || FnError::arg(0, format!("cannot parse {s:?} as a base {base} integer"));
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(fail());
    }
    let mut acc = BigInt::from(0);
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => return Err(fail()),
        };
        if d >= base {
            return Err(fail());
        }
        acc = acc * base + d;
    }
    if neg {
        acc = -acc;
    }
    Ok(Value::number(Number::from_bigint(&acc)))
}

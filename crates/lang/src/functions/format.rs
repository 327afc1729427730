//! `format` and `formatlist`: Go's `fmt` verbs as cty implements them.

use num_bigint::BigInt;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::convert::convert;
use crate::types::Type;
use crate::value::{Data, Value};

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "format",
        params: &[p("format", T::String)],
        variadic: Some(p("args", T::Any).null().typed()),
        ret: T::String,
        imp: format,
    },
    Func {
        name: "formatlist",
        params: &[p("format", T::String)],
        variadic: Some(p("args", T::Any).null().typed()),
        ret: T::ListString,
        imp: formatlist,
    },
];

fn format(a: &Args<'_, '_>) -> FnResult {
    let out = format_values(a.str(0), &a.values[1..]).map_err(FnError::call)?;
    Ok(Value::string(out))
}

fn formatlist(a: &Args<'_, '_>) -> FnResult {
    let args = &a.values[1..];
    let mut len: Option<(usize, usize)> = None;
    for (i, v) in args.iter().enumerate() {
        if let Some(items) = v.as_elements() {
            if matches!(v.data(), Data::List(..) | Data::Tuple(_) | Data::Set(..)) {
                match len {
                    None => len = Some((items.len(), i)),
                    Some((l, first)) if l != items.len() => {
                        return Err(FnError::arg(
                            i + 1,
                            format!(
                                "argument {} has length {}, which is inconsistent with argument {} of length {}",
                                i + 1,
                                items.len(),
                                first + 1,
                                l
                            ),
                        ))
                    }
                    _ => {}
                }
            }
        }
    }
    let n = len.map_or(1, |(l, _)| l);
    let mut out = Vec::with_capacity(n);
    for row in 0..n {
        let row_args: Vec<Value> = args
            .iter()
            .map(|v| match v.as_elements() {
                Some(items) if !matches!(v.data(), Data::Map(..) | Data::Object(_)) => {
                    items[row].clone()
                }
                _ => v.clone(),
            })
            .collect();
        let s = format_values(a.str(0), &row_args)
            .map_err(|e| FnError::call(format!("error on format iteration {row}: {e}")))?;
        out.push(Value::string(s));
    }
    Ok(Value::list(Type::String, out))
}

#[derive(Default, Clone)]
struct Spec {
    plus: bool,
    minus: bool,
    space: bool,
    sharp: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` with a Go-style format string.
pub(crate) fn format_values(fmt: &str, args: &[Value]) -> Result<String, String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut next_arg = 0usize;
    let mut used_max = 0usize;
    let mut verbs = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if i < chars.len() && chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut spec = Spec::default();
        while i < chars.len() {
            match chars[i] {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                ' ' => spec.space = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        let ws = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i > ws {
            spec.width = chars[ws..i].iter().collect::<String>().parse().ok();
        }
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let ps = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            spec.prec = Some(chars[ps..i].iter().collect::<String>().parse().unwrap_or(0));
        }
        // As cty's scanner: an explicit argument index comes after width
        // and precision, right before the verb.
        if i < chars.len() && chars[i] == '[' {
            let s = i + 1;
            let mut j = s;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j >= chars.len() || chars[j] != ']' || j == s || chars[s] == '0' {
                let at = if j == s || chars.get(s) == Some(&'0') {
                    s
                } else {
                    j
                };
                let bad = chars.get(at).copied().unwrap_or('[');
                return Err(format!(
                    "unrecognized format character {bad:?} at offset {at}"
                ));
            }
            let n: usize = chars[s..j]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| "invalid argument index".to_owned())?;
            next_arg = n.saturating_sub(1);
            i = j + 1;
        }
        if spec.width.is_some_and(|w| w > 1_000_000) || spec.prec.is_some_and(|p| p > 1_000_000) {
            return Err(format!(
                "width or precision too large in format at offset {start}"
            ));
        }
        let Some(&verb) = chars.get(i) else {
            return Err(format!("invalid format string starting at offset {start}"));
        };
        i += 1;
        let raw: String = chars[start..i].iter().collect();
        if !"vtbdoxXeEfgGsq".contains(verb) {
            if !verb.is_ascii_alphabetic() {
                return Err(format!(
                    "unrecognized format character '{verb}' at offset {}",
                    i - 1
                ));
            }
            return Err(format!(
                "unsupported format verb '{verb}' in {raw:?} at offset {start}"
            ));
        }
        verbs += 1;
        let Some(arg) = args.get(next_arg) else {
            return Err(format!(
                "not enough arguments for {raw:?} at {start}: need index {} but have {} total",
                next_arg + 1,
                args.len()
            ));
        };
        next_arg += 1;
        used_max = used_max.max(next_arg);
        out.push_str(
            &format_one(verb, &spec, arg)
                .map_err(|e| format!("unsupported value for {raw:?} at {start}: {e}"))?,
        );
    }
    if verbs == 0 && !args.is_empty() {
        return Err("too many arguments; no verbs in format string".to_owned());
    }
    if used_max < args.len() {
        return Err(format!(
            "too many arguments; only {used_max} used by format string"
        ));
    }
    Ok(out)
}

fn pad(spec: &Spec, sign: &str, body: &str, zero_ok: bool) -> String {
    let len = sign.chars().count() + body.chars().count();
    let padding = spec.width.map_or(0, |w| w.saturating_sub(len));
    if spec.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else if spec.zero && zero_ok {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

fn format_one(verb: char, spec: &Spec, arg: &Value) -> Result<String, String> {
    if arg.is_null() && verb != 'v' {
        return Err("null value cannot be formatted".to_owned());
    }
    match verb {
        'v' => {
            if !spec.sharp {
                match arg.data() {
                    Data::String(s) => return Ok(pad_width(spec, s)),
                    Data::Number(n) if !n.is_infinite() => {
                        return Ok(pad_width(spec, &n.go_text('g', -1)))
                    }
                    _ => {}
                }
            }
            let json = arg.to_json_string().map_err(|e| e.to_string())?;
            Ok(pad_width(spec, &json))
        }
        's' | 'q' => {
            let s = convert(arg, &Type::String).map_err(|e| e.to_string())?;
            let mut s = s.as_str().unwrap_or_default().to_owned();
            if let Some(p) = spec.prec.filter(|p| *p > 0) {
                use unicode_segmentation::UnicodeSegmentation;
                s = s.graphemes(true).take(p).collect();
            }
            if verb == 'q' {
                let mut quoted = String::new();
                crate::json::write_json_string(&s, &mut quoted);
                s = quoted;
            }
            Ok(pad_width(spec, &s))
        }
        't' => {
            let b = convert(arg, &Type::Bool).map_err(|e| e.to_string())?;
            Ok(if b.as_bool() == Some(true) {
                "true"
            } else {
                "false"
            }
            .to_owned())
        }
        'd' | 'b' | 'o' | 'x' | 'X' => {
            let n = convert(arg, &Type::Number).map_err(|e| e.to_string())?;
            let n = n.as_number().ok_or("a number is required")?;
            let i = n.to_bigint().ok_or("an integer is required")?;
            Ok(format_int(verb, spec, &i))
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = convert(arg, &Type::Number).map_err(|e| e.to_string())?;
            let n = n.as_number().ok_or("a number is required")?;
            let prec = match (verb, spec.prec) {
                (_, Some(p)) => p as i64,
                ('g' | 'G', None) => -1,
                _ => 6,
            };
            let text = if n.is_infinite() {
                if n.is_negative() { "-Inf" } else { "+Inf" }.to_owned()
            } else {
                n.go_text(verb.to_ascii_lowercase(), prec)
            };
            let text = if verb.is_ascii_uppercase() {
                text.to_uppercase()
            } else {
                text
            };
            let (sign, body) = if let Some(b) = text.strip_prefix('-') {
                ("-", b.to_owned())
            } else if let Some(b) = text.strip_prefix('+') {
                (if spec.space { " " } else { "+" }, b.to_owned())
            } else if spec.plus {
                ("+", text)
            } else if spec.space {
                (" ", text)
            } else {
                ("", text)
            };
            Ok(pad(spec, sign, &body, !n.is_infinite()))
        }
        _ => Err(format!("unsupported format verb '{verb}'")),
    }
}

/// cty's `formatPadWidth`: pads to the width in grapheme clusters, with
/// zeros when the `0` flag is set, on the right with `-`.
fn pad_width(spec: &Spec, text: &str) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    let Some(width) = spec.width else {
        return text.to_owned();
    };
    let len = text.graphemes(true).count();
    if len >= width {
        return text.to_owned();
    }
    let fill = if spec.zero { "0" } else { " " }.repeat(width - len);
    if spec.minus {
        format!("{text}{fill}")
    } else {
        format!("{fill}{text}")
    }
}

fn format_int(verb: char, spec: &Spec, i: &BigInt) -> String {
    let neg = i.sign() == num_bigint::Sign::Minus;
    let mag = i.magnitude();
    let mut digits = match verb {
        'b' => mag.to_str_radix(2),
        'o' => mag.to_str_radix(8),
        'x' => mag.to_str_radix(16),
        'X' => mag.to_str_radix(16).to_uppercase(),
        _ => mag.to_str_radix(10),
    };
    if let Some(p) = spec.prec {
        if digits.len() < p {
            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
        }
        if p == 0 && mag.bits() == 0 {
            digits.clear();
        }
    }
    if spec.sharp {
        let prefix = match verb {
            'b' => "0b",
            'o' => "0",
            'x' => "0x",
            'X' => "0X",
            _ => "",
        };
        digits = format!("{prefix}{digits}");
    }
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    pad(spec, sign, &digits, spec.prec.is_none())
}

/// Go's `strconv.Quote`.
/// An approximation of Go's `unicode.IsPrint`: no control or format
/// characters, and no space but U+0020.
fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{e000}'..='\u{f8ff}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{fffe}'..='\u{ffff}'
        ))
}

pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if !go_printable(c) => {
                let n = c as u32;
                if n < 0x10000 {
                    if n < 0x80 {
                        out.push_str(&format!("\\x{n:02x}"));
                    } else {
                        out.push_str(&format!("\\u{n:04x}"));
                    }
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

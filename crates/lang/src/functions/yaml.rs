//! `yamlencode` (go-yaml v2 style, as cty-yaml writes it) and `yamldecode`
//! (YAML 1.1 scalar resolution: `yes`/`on` are true, `0x10` is 16, dates
//! become RFC 3339 strings).

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::{p, Args, FnError, FnResult, Func, T};
use crate::convert::convert;
use crate::number::Number;
use crate::types::Type;
use crate::value::{Data, Value};

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "yamlencode",
        params: &[p("value", T::Any).null()],
        variadic: None,
        ret: T::String,
        imp: yamlencode,
    },
    Func {
        name: "yamldecode",
        params: &[p("src", T::String)],
        variadic: None,
        ret: T::Any,
        imp: |a| decode(a.str(0)).map_err(FnError::call),
    },
];

fn yamlencode(a: &Args<'_, '_>) -> FnResult {
    let v = a.get(0);
    let mut out = String::new();
    write_node(v, 0, &mut out).map_err(|e| FnError::arg(0, e))?;
    let open_ended = match v.as_str() {
        Some(text) => {
            text.contains('\n') && block_allowed(text) && text.ends_with("\n\n") || text == "\n"
        }
        None => is_plain_scalar(v),
    };
    if open_ended {
        out.push_str("...\n");
    }
    Ok(Value::string(out))
}

fn is_plain_scalar(v: &Value) -> bool {
    matches!(v.data(), Data::Null(_) | Data::Bool(_) | Data::Number(_))
}

fn is_block(v: &Value) -> bool {
    match v.data() {
        Data::List(_, i) | Data::Set(_, i) | Data::Tuple(i) => !i.is_empty(),
        Data::Map(_, m) | Data::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn is_sequence(v: &Value) -> bool {
    matches!(v.data(), Data::List(..) | Data::Set(..) | Data::Tuple(_))
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Writes a node whose first line continues the current line; `indent` is
/// the column of its further lines.
fn write_node(v: &Value, indent: usize, out: &mut String) -> Result<(), String> {
    match v.data() {
        Data::Unknown(_) => return Err("value is unknown".to_owned()),
        Data::Null(_) => out.push_str("null\n"),
        Data::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push('\n');
        }
        Data::Number(n) => {
            if n.is_infinite() {
                out.push_str(if n.is_negative() { "-.inf" } else { "+.inf" });
            } else {
                out.push_str(&n.to_text());
            }
            out.push('\n');
        }
        Data::String(s) => {
            if s.contains('\n') && block_allowed(s) {
                write_literal(s, indent.max(2), out);
            } else {
                let column = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
                let column = out[out.len() - column..].chars().count();
                out.push_str(&double_quoted(s, Some((column, indent.max(2)))));
                out.push('\n');
            }
        }
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
            if items.is_empty() {
                out.push_str("[]\n");
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str("- ");
                write_node(item, indent + 2, out)?;
            }
        }
        Data::Map(_, items) | Data::Object(items) => {
            if items.is_empty() {
                out.push_str("{}\n");
            }
            for (i, (k, item)) in items.iter().enumerate() {
                if i > 0 {
                    pad(out, indent);
                }
                out.push_str(&double_quoted(k, None));
                out.push(':');
                if is_block(item) {
                    out.push('\n');
                    if is_sequence(item) {
                        pad(out, indent);
                        write_node(item, indent, out)?;
                    } else {
                        pad(out, indent + 2);
                        write_node(item, indent + 2, out)?;
                    }
                } else {
                    out.push(' ');
                    write_node(item, indent + 2, out)?;
                }
            }
        }
    }
    Ok(())
}

/// go-yaml's printable set: ASCII text, the BMP outside surrogates and
/// specials, but nothing beyond U+FFFF.
fn printable(c: char) -> bool {
    c == '\n'
        || ('\u{20}'..='\u{7e}').contains(&c)
        || ('\u{a0}'..='\u{d7ff}').contains(&c)
        || (('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml writes a literal block only when no space comes right before a
/// line break or ends the text, and every character is printable.
fn block_allowed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let trailing_space = chars.last() == Some(&' ');
    let space_break = chars.windows(2).any(|w| w[0] == ' ' && is_break(w[1]));
    let special = chars.iter().any(|c| !printable(*c));
    !(trailing_space || space_break || special)
}

fn write_literal(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push('|');
    if s.starts_with(' ') || s.starts_with('\n') {
        out.push('2');
    }
    match trailing {
        0 => out.push('-'),
        1 if !body.is_empty() => {}
        _ => out.push('+'),
    }
    out.push('\n');
    let mut lines: Vec<&str> = body.split('\n').collect();
    lines.extend(std::iter::repeat_n("", trailing.saturating_sub(1)));
    for line in lines {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// A double-quoted scalar with go-yaml's escapes. With `fold` (the
/// current column and the scalar's indentation), a space past column 80 is
/// written as a line break, as go-yaml's emitter does for values.
fn double_quoted(s: &str, fold: Option<(usize, usize)>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::from("\"");
    let mut column = fold.map_or(0, |(c, _)| c) + 1;
    let mut spaces = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
            let esc = match c {
                '\0' => "\\0".to_owned(),
                '\u{7}' => "\\a".to_owned(),
                '\u{8}' => "\\b".to_owned(),
                '\t' => "\\t".to_owned(),
                '\n' => "\\n".to_owned(),
                '\u{b}' => "\\v".to_owned(),
                '\u{c}' => "\\f".to_owned(),
                '\r' => "\\r".to_owned(),
                '\u{1b}' => "\\e".to_owned(),
                '"' => "\\\"".to_owned(),
                '\\' => "\\\\".to_owned(),
                '\u{85}' => "\\N".to_owned(),
                '\u{2028}' => "\\L".to_owned(),
                '\u{2029}' => "\\P".to_owned(),
                c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                c => format!("\\U{:08X}", c as u32),
            };
            column += esc.chars().count();
            out.push_str(&esc);
            spaces = false;
        } else if c == ' ' {
            match fold {
                Some((_, indent)) if !spaces && column > 80 && i > 0 && i + 1 < chars.len() => {
                    out.push('\n');
                    out.extend(std::iter::repeat_n(' ', indent));
                    column = indent;
                    if chars[i + 1] == ' ' {
                        out.push('\\');
                        column += 1;
                    }
                }
                _ => {
                    out.push(' ');
                    column += 1;
                }
            }
            spaces = true;
        } else {
            out.push(c);
            column += 1;
            spaces = false;
        }
        i += 1;
    }
    out.push('"');
    out
}

/// Parses one YAML document into a value.
pub(crate) fn decode(src: &str) -> Result<Value, String> {
    let mut events = Vec::new();
    for ev in Parser::new_from_str(src) {
        let (ev, span) = ev.map_err(|e| {
            format!(
                "on line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            )
        })?;
        events.push((ev, span.start.line()));
    }
    let docs = events
        .iter()
        .filter(|(e, _)| matches!(e, Event::DocumentStart(_)))
        .count();
    if docs == 0 {
        return Err("on line 1, column 1: missing start of document".to_owned());
    }
    if docs > 1 {
        let line = events
            .iter()
            .filter(|(e, _)| matches!(e, Event::DocumentStart(_)))
            .nth(1)
            .map_or(1, |(_, l)| *l);
        return Err(format!(
            "on line {line}, column 1: unexpected extra content after value"
        ));
    }
    let mut b = Builder {
        events: events.into_iter().map(|(e, _)| e).collect(),
        pos: 0,
        anchors: BTreeMap::new(),
    };
    while b.pos < b.events.len() && !matches!(b.events[b.pos], Event::DocumentStart(_)) {
        b.pos += 1;
    }
    b.pos += 1;
    if matches!(b.events.get(b.pos), Some(Event::DocumentEnd) | None) {
        return Ok(Value::null_dynamic());
    }
    b.node(0)
}

struct Builder<'a> {
    events: Vec<Event<'a>>,
    pos: usize,
    anchors: BTreeMap<usize, Value>,
}

impl Builder<'_> {
    fn node(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 200 {
            return Err("document is nested too deeply".to_owned());
        }
        let Some(ev) = self.events.get(self.pos).cloned() else {
            return Err("unexpected end of document".to_owned());
        };
        self.pos += 1;
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| match t.handle.as_str() {
                    "!!" | "tag:yaml.org,2002:" => format!("!!{}", t.suffix),
                    other => format!("{other}{}", t.suffix),
                });
                let quoted = style != ScalarStyle::Plain;
                let v = resolve_scalar(&text, tag.as_deref().unwrap_or(""), quoted)?;
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::Alias(id) => self
                .anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| "unknown anchor referenced".to_owned()),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                while !matches!(self.events.get(self.pos), Some(Event::SequenceEnd) | None) {
                    items.push(self.node(depth + 1)?);
                }
                self.pos += 1;
                let v = Value::tuple(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                let mut attrs = BTreeMap::new();
                while !matches!(self.events.get(self.pos), Some(Event::MappingEnd) | None) {
                    let k = self.node(depth + 1)?;
                    let v = self.node(depth + 1)?;
                    if matches!(k.data(), Data::Null(_)) {
                        attrs.insert("null".to_owned(), v);
                        continue;
                    }
                    let key = convert(&k, &Type::String)
                        .ok()
                        .and_then(|s| s.as_str().map(str::to_owned))
                        .ok_or_else(|| "a map key must be a string".to_owned())?;
                    if key == "<<" {
                        if let Some(m) = v.as_entries() {
                            for (mk, mv) in m {
                                attrs.entry(mk.clone()).or_insert_with(|| mv.clone());
                            }
                            continue;
                        }
                    }
                    attrs.insert(key, v);
                }
                self.pos += 1;
                let v = Value::object(attrs);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            _ => Err("unexpected document structure".to_owned()),
        }
    }
}

/// Scalar resolution as cty-yaml 1.0 does it: quoted scalars are strings,
/// then the YAML 1.1 words (`yes`, `on`, `~`, `.inf`), timestamps (as RFC
/// 3339 strings), decimal, `0x` and `0o` integers and floats; tags `!!str`,
/// `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` and `!!binary`.
fn resolve_scalar(src: &str, tag: &str, quoted: bool) -> Result<Value, String> {
    const KNOWN: [&str; 8] = [
        "",
        "!!str",
        "!!bool",
        "!!int",
        "!!float",
        "!!null",
        "!!timestamp",
        "!!binary",
    ];
    if !KNOWN.contains(&tag) {
        return Err(format!("unsupported tag {tag:?}"));
    }
    let hint = match src.bytes().next() {
        None => 'N',
        Some(b'+' | b'-') => 'S',
        Some(b'0'..=b'9') => 'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => 'M',
        Some(b'.') => '.',
        _ => '\0',
    };
    let mut tag = tag.to_owned();
    if hint != '\0' && tag != "!!str" && tag != "!!binary" {
        if quoted {
            return Ok(Value::string(src));
        }
        if let Some(v) = yaml11_word(src) {
            return Ok(v);
        }
        if tag.is_empty() && matches!(src, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".to_owned());
        }
        match hint {
            '.' => {
                if let Ok(n) = Number::parse(src) {
                    return Ok(Value::number(n));
                }
            }
            'D' | 'S' => {
                if tag.is_empty() || tag == "!!timestamp" {
                    if let Some(t) = timestamp(src) {
                        return Ok(Value::string(t));
                    }
                }
                if is_integer_literal(src) {
                    tag = "!!int".to_owned();
                } else if is_float_literal(src) {
                    tag = "!!float".to_owned();
                }
            }
            _ => {}
        }
    }
    match tag.as_str() {
        "!!str" => Ok(Value::string(src)),
        "!!binary" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(src)
                .map_err(|_| format!("cannot parse {src:?} as !!binary: not valid base64"))?;
            Ok(Value::string(src))
        }
        "!!bool" => match yaml11_word(src) {
            Some(v) if v.as_bool().is_some() => Ok(v),
            _ => Err(format!("cannot parse {src:?} as !!bool")),
        },
        "!!int" | "!!float" => {
            let plain = src.replace('_', "");
            Number::parse(&plain)
                .ok()
                .or_else(|| parse_prefixed_int(&plain))
                .map(Value::number)
                .ok_or_else(|| format!("cannot parse {src:?} as {tag}"))
        }
        "!!timestamp" => timestamp(src)
            .map(Value::string)
            .ok_or_else(|| format!("cannot parse {src:?} as !!timestamp")),
        "!!null" => Ok(Value::null_dynamic()),
        _ => Ok(Value::string(src)),
    }
}

fn yaml11_word(s: &str) -> Option<Value> {
    Some(match s {
        "" | "~" | "null" | "Null" | "NULL" => Value::null_dynamic(),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            Value::number(Number::infinity(false))
        }
        "-.inf" | "-.Inf" | "-.INF" => Value::number(Number::infinity(true)),
        _ => return None,
    })
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
fn is_integer_literal(s: &str) -> bool {
    let digits = |t: &str, f: fn(char) -> bool| !t.is_empty() && t.chars().all(f);
    if let Some(h) = s.strip_prefix("0x") {
        return digits(h, |c| c.is_ascii_hexdigit());
    }
    if let Some(o) = s.strip_prefix("0o") {
        return digits(o, |c| ('0'..='7').contains(&c));
    }
    digits(s.strip_prefix(['-', '+']).unwrap_or(s), |c| {
        c.is_ascii_digit()
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_float_literal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Go's `strconv.ParseInt(s, 0, 64)` prefixes (`0x`, `0o`, `0b`, and a
/// leading `0` for octal), for what a decimal parse rejected.
fn parse_prefixed_int(s: &str) -> Option<Number> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() {
        return None;
    }
    let mut v = num_bigint::BigInt::parse_bytes(digits.as_bytes(), radix)?;
    if neg {
        v = -v;
    }
    if v.bits() > 64 {
        return None;
    }
    Some(Number::from_bigint(&v))
}

/// A YAML timestamp in one of the layouts cty-yaml accepts, printed as Go's
/// `time.RFC3339` (offset kept, fractional seconds dropped).
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let num = |t: &str, min: usize, max: usize| -> Option<u32> {
        (t.len() >= min && t.len() <= max && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((&s[i..i + 1], &s[i + 1..]))),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i32 = num(parts.next()?, 4, 4)? as i32;
    let month = num(parts.next()?, 1, 2)?;
    let day = num(parts.next()?, 1, 2)?;
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let Some((sep, rest)) = rest else {
        return Some(format!("{}T00:00:00Z", date.format("%Y-%m-%d")));
    };
    // The zone: required after `T`/`t`, absent after a space.
    let (clock, zone) = if sep == " " {
        (rest, None)
    } else if let Some(c) = rest.strip_suffix('Z') {
        (c, Some(0))
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (c, z) = rest.split_at(i);
        let (zh, zm) = z[1..].split_once(':')?;
        let secs = (num(zh, 2, 2)? * 3600 + num(zm, 2, 2)? * 60) as i32;
        (c, Some(if z.starts_with('-') { -secs } else { secs }))
    };
    let clock = clock.split('.').next()?;
    let mut hms = clock.splitn(3, ':');
    let h = num(hms.next()?, 1, 2)?;
    let m = num(hms.next()?, 1, 2)?;
    let sec = num(hms.next()?, 1, 2)?;
    let time = chrono::NaiveTime::from_hms_opt(h, m, sec)?;
    let naive = chrono::NaiveDateTime::new(date, time);
    let offset = chrono::FixedOffset::east_opt(zone.unwrap_or(0))?;
    let t = chrono::TimeZone::from_local_datetime(&offset, &naive).single()?;
    Some(super::time::format_rfc3339(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: Value) -> String {
        let mut out = String::new();
        write_node(&v, 0, &mut out).unwrap();
        out
    }

    #[test]
    fn encodes_nested_structures_like_go_yaml() {
        let item = Value::object(BTreeMap::from([
            ("name".to_owned(), Value::string("a")),
            (
                "ports".to_owned(),
                Value::tuple(vec![Value::int(80), Value::int(443)]),
            ),
        ]));
        assert_eq!(
            enc(Value::tuple(vec![item])),
            "- \"name\": \"a\"\n  \"ports\":\n  - 80\n  - 443\n"
        );
        assert_eq!(enc(Value::string("multi\nline")), "|-\n  multi\n  line\n");
        assert_eq!(enc(Value::string("tab\there\n")), "\"tab\\there\\n\"\n");
        assert_eq!(
            enc(Value::string("\u{a0}\u{1F600}")),
            "\"\u{a0}\\U0001F600\"\n"
        );
        let long = "word ".repeat(20);
        let folded = enc(Value::object(BTreeMap::from([(
            "k".to_owned(),
            Value::string(long.trim_end()),
        )])));
        assert_eq!(folded.lines().count(), 2, "{folded}");
    }

    #[test]
    fn decodes_yaml_one_one_scalars() {
        assert_eq!(decode("yes").unwrap(), Value::bool(true));
        assert_eq!(decode("0x10").unwrap(), Value::int(16));
        assert_eq!(decode("0o17").unwrap(), Value::int(15));
        assert_eq!(decode("0777").unwrap(), Value::int(777));
        assert_eq!(decode("1_000").unwrap(), Value::string("1_000"));
        assert_eq!(decode("!!int 1_000").unwrap(), Value::int(1000));
        assert_eq!(decode("'yes'").unwrap(), Value::string("yes"));
        assert_eq!(
            decode("2001-12-14t21:59:43.10-05:00").unwrap(),
            Value::string("2001-12-14T21:59:43-05:00")
        );
        assert_eq!(
            decode("2001-1-2 3:04:05").unwrap(),
            Value::string("2001-01-02T03:04:05Z")
        );
        assert_eq!(
            decode("2001-12-14").unwrap(),
            Value::string("2001-12-14T00:00:00Z")
        );
        assert!(decode("").is_err());
        assert!(decode("---\na: 1\n---\nb: 2").is_err());
    }
}

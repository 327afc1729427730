//! YAML as Helm reads and writes it.
//!
//! Reading follows sigs.k8s.io/yaml (go-yaml v2 plus a JSON round trip):
//! plain scalars resolve with YAML 1.1 rules (`yes`/`no`/`on`/`off` are
//! booleans, `0755` is octal, timestamps stay text), non-string keys become
//! text, anchors, aliases and `<<` merges are honoured. The event stream
//! comes from `saphyr-parser`; the resolution is ours because no crate
//! implements go-yaml v2's. Writing (`toYaml`) is done by hand too: go-yaml
//! v2's exact layout (sorted keys with numbers compared by value, sequences
//! not indented under their key, quoting rules, folding of long scalars at
//! 80 columns, literal blocks for multi-line text) has no Rust equivalent.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Parses one YAML document into JSON-shaped data. An empty document is `null`.
pub fn parse(text: &str) -> Result<Value, String> {
    Ok(parse_all(text)?.into_iter().next().unwrap_or(Value::Null))
}

/// Parses every document of a YAML stream.
pub fn parse_all(text: &str) -> Result<Vec<Value>, String> {
    let mut builder = Builder::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| e.to_string())?;
        builder
            .event(event)
            .map_err(|m| format!("line {}: {m}", span.start.line()))?;
    }
    Ok(builder.docs)
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map(
        Map<String, Value>,
        Option<String>,
        usize,
        Vec<Map<String, Value>>,
    ),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: BTreeMap<usize, Value>,
    docs: Vec<Value>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) -> Result<(), String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| t.suffix.clone());
                let is_merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
                let in_key_position = matches!(self.stack.last(), Some(Frame::Map(_, None, _, _)));
                if is_merge && in_key_position {
                    if let Some(Frame::Map(_, key, _, _)) = self.stack.last_mut() {
                        *key = Some("<<".into());
                    }
                    return Ok(());
                }
                let value = resolve_scalar(&text, style, tag.as_deref());
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                self.add(value)
            }
            Event::Alias(id) => {
                let value = self.anchors.get(&id).cloned().ok_or("unknown anchor")?;
                self.add(value)
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(Vec::new(), anchor));
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq(items, anchor)) => {
                    let v = Value::Array(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.add(v)
                }
                _ => Err("unbalanced sequence".into()),
            },
            Event::MappingStart(anchor, _) => {
                self.stack
                    .push(Frame::Map(Map::new(), None, anchor, Vec::new()));
                Ok(())
            }
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map(mut m, _, anchor, merges)) => {
                    for merged in merges {
                        for (k, v) in merged {
                            m.entry(k).or_insert(v);
                        }
                    }
                    let v = Value::Object(m);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    self.add(v)
                }
                _ => Err("unbalanced mapping".into()),
            },
            Event::DocumentStart(_) => {
                self.stack.clear();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn add(&mut self, value: Value) -> Result<(), String> {
        match self.stack.last_mut() {
            None => {
                self.docs.push(value);
                Ok(())
            }
            Some(Frame::Seq(items, _)) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Map(m, key, _, merges)) => match key.take() {
                None => {
                    *key = Some(key_text(&value)?);
                    Ok(())
                }
                Some(k) if k == "<<" && !m.contains_key("<<") => {
                    match value {
                        Value::Object(o) => merges.push(o),
                        Value::Array(items) => {
                            for item in items {
                                match item {
                                    Value::Object(o) => merges.push(o),
                                    _ => {
                                        return Err(
                                            "map merge requires map or sequence of maps".into()
                                        )
                                    }
                                }
                            }
                        }
                        _ => return Err("map merge requires map or sequence of maps".into()),
                    }
                    Ok(())
                }
                Some(k) => {
                    m.insert(k, value);
                    Ok(())
                }
            },
        }
    }
}

/// The text a key becomes after the JSON round trip.
fn key_text(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_format_float_g(n.as_f64().unwrap_or(0.0)),
        },
        _ => return Err("a mapping key must be a scalar".into()),
    })
}

/// go-yaml v2's resolution of a scalar.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    if let Some(t) = tag {
        match t {
            "str" | "binary" | "timestamp" => return Value::String(text.to_string()),
            "null" => return Value::Null,
            "bool" => {
                return Value::Bool(matches!(
                    text,
                    "true"
                        | "True"
                        | "TRUE"
                        | "yes"
                        | "Yes"
                        | "YES"
                        | "on"
                        | "On"
                        | "ON"
                        | "y"
                        | "Y"
                ))
            }
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // Infinity and NaN have no JSON form; Helm fails on them.
            return Value::String(text.to_string());
        }
        _ => {}
    }
    let first = text.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || first == '-' || first == '+' || first == '.' {
        let plain = text.replace('_', "");
        if let Some(i) = go_parse_int(&plain) {
            return Value::Number(i.into());
        }
        if looks_like_float(text) {
            if let Ok(f) = plain.parse::<f64>() {
                if let Some(n) = Number::from_f64(f) {
                    return Value::Number(n);
                }
            }
        }
    }
    Value::String(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (sign, `0x`, `0o`, `0b`, leading-0 octal).
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, b)
        } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, o)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// Formats a float the way Go's `strconv.FormatFloat(f, 'g', -1, 64)` does.
pub fn go_format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits and decimal exponent.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let mut out = mantissa.to_string();
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
        return out;
    }
    format!("{f}")
}

/// Formats a float the way Go's `%v` does (shortest `%g` with exponent
/// threshold 21 for large and -4 for small numbers).
pub fn go_format_float_v(f: f64) -> String {
    go_format_float_g(f)
}

/// How Go's encoding/json writes a float64.
pub fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        let abs_e = e.unsigned_abs();
        if abs_e < 10 {
            return format!("{m}e{sign}0{abs_e}");
        }
        return format!("{m}e{sign}{abs_e}");
    }
    if f.fract() == 0.0 && abs < 1e21 {
        return format!("{}", f as i128);
    }
    format!("{f}")
}

/// `toYaml`: go-yaml v2 output of the JSON form of `value`, without the final
/// newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = marshal(value);
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// go-yaml v2 `Marshal` of the JSON form of `value` (ends with a newline).
pub fn marshal(value: &Value) -> String {
    let mut e = Emitter {
        whitespace: true,
        indention: true,
        ..Emitter::default()
    };
    e.node(&normalize(value), Ctx::Root);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

/// The JSON round trip: a float with no fraction becomes an integer, as Go's
/// encoding/json writes it and go-yaml reads it back.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                Value::Number((f as i64).into())
            } else {
                value.clone()
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// go-yaml v2's key order: runs of digits compare by value, letters before
/// other characters.
pub fn yaml_key_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // Both non-letters: compare digit runs by value.
        let mut ai = i;
        let mut bi = i;
        while ai > 0 && ar[ai - 1].is_ascii_digit() {
            ai -= 1;
        }
        while bi > 0 && br[bi - 1].is_ascii_digit() {
            bi -= 1;
        }
        let an = digits_value(&ar, ai);
        let bn = digits_value(&br, bi);
        match (an, bn) {
            (Some((av, _)), Some((bv, _))) if av != bv => return av.cmp(&bv),
            _ => {}
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

fn digits_value(s: &[char], start: usize) -> Option<(u128, usize)> {
    let mut j = start;
    let mut n: u128 = 0;
    while j < s.len() && s[j].is_ascii_digit() {
        n = n
            .saturating_mul(10)
            .saturating_add(u128::from(s[j] as u8 - b'0'));
        j += 1;
    }
    (j > start).then_some((n, j))
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    MapValue,
    SeqItem,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

const BEST_WIDTH: usize = 80;

#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
    /// Whether the last written character was whitespace (or nothing yet).
    whitespace: bool,
    /// Whether only indentation has been written on this line.
    indention: bool,
}

impl Emitter {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            self.out.push(c);
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.out.push(' ');
            self.column += 1;
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        ind: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(" ");
        }
        self.put(ind);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn is_root_start(&self) -> bool {
        self.out.is_empty()
    }

    /// Emits `value` whose parent context is `ctx`; `indent` is the parent's indent (-1 at root).
    fn node(&mut self, value: &Value, ctx: Ctx) {
        self.node_at(value, ctx, -1);
    }

    fn node_at(&mut self, value: &Value, ctx: Ctx, indent: i64) {
        match value {
            Value::Object(map) if !map.is_empty() => self.mapping(map, ctx, indent),
            Value::Array(items) if !items.is_empty() => self.sequence(items, ctx, indent),
            Value::Object(_) => self.flow_empty("{}", indent),
            Value::Array(_) => self.flow_empty("[]", indent),
            scalar => {
                let scalar_indent = increase(indent, true, false);
                let (text, style) = scalar_text(scalar);
                self.scalar(&text, style, false, scalar_indent);
            }
        }
        let _ = self.is_root_start();
    }

    fn flow_empty(&mut self, text: &str, _indent: i64) {
        self.indicator(text, true, false, false);
    }

    fn mapping(&mut self, map: &Map<String, Value>, _ctx: Ctx, indent: i64) {
        let my_indent = increase(indent, false, false);
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| yaml_key_less(a, b));
        for key in keys {
            self.write_indent(my_indent.max(0) as usize);
            let (text, style) = string_style(key);
            let key_indent = increase(my_indent, true, false);
            self.scalar(&text, style, true, key_indent);
            self.indicator(":", false, false, false);
            let value = &map[key];
            match value {
                Value::Object(m) if !m.is_empty() => self.mapping(m, Ctx::MapValue, my_indent),
                Value::Array(a) if !a.is_empty() => self.sequence_in_mapping(a, my_indent),
                other => self.node_at(other, Ctx::MapValue, my_indent),
            }
        }
    }

    fn sequence_in_mapping(&mut self, items: &[Value], indent: i64) {
        // Sequences directly under a mapping key are not indented.
        let my_indent = increase(indent, false, !self.indention);
        self.sequence_items(items, my_indent);
    }

    fn sequence(&mut self, items: &[Value], _ctx: Ctx, indent: i64) {
        let my_indent = increase(indent, false, false);
        self.sequence_items(items, my_indent);
    }

    fn sequence_items(&mut self, items: &[Value], my_indent: i64) {
        for item in items {
            self.write_indent(my_indent.max(0) as usize);
            self.indicator("-", true, false, true);
            self.node_at(item, Ctx::SeqItem, my_indent);
        }
    }

    fn scalar(&mut self, text: &str, requested: Style, simple_key: bool, indent: i64) {
        let a = analyze(text);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (text.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        let indent = indent.max(0) as usize;
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks, indent),
            Style::Single => self.write_single(text, allow_breaks, indent),
            Style::Double => self.write_double(text, allow_breaks, indent),
            Style::Literal => self.write_literal(text, indent),
        }
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool, indent: usize) {
        if !self.whitespace && !text.is_empty() {
            self.put(" ");
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                let mut buf = [0u8; 4];
                self.put(c.encode_utf8(&mut buf));
                self.indention = false;
                spaces = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, text: &str, allow_breaks: bool, indent: usize) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put("'");
                }
                let mut buf = [0u8; 4];
                self.put(c.encode_utf8(&mut buf));
                self.indention = false;
                spaces = false;
            }
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, text: &str, allow_breaks: bool, indent: usize) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".to_string(),
                    '\u{8}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{b}' => "\\v".to_string(),
                    '\u{c}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1b}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    other => {
                        let v = other as u32;
                        if v <= 0xFF {
                            format!("\\x{v:02X}")
                        } else if v <= 0xFFFF {
                            format!("\\u{v:04X}")
                        } else {
                            format!("\\U{v:08X}")
                        }
                    }
                };
                self.put(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put("\\");
                    }
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                let mut buf = [0u8; 4];
                self.put(c.encode_utf8(&mut buf));
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, text: &str, indent: usize) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.put("2");
        }
        let chomp = match chars.last() {
            None => Some('-'),
            Some(&c) if !is_break(c) => Some('-'),
            Some(_) if chars.len() == 1 => Some('+'),
            Some(_) => {
                if is_break(chars[chars.len() - 2]) {
                    Some('+')
                } else {
                    None
                }
            }
        };
        if let Some(ch) = chomp {
            self.put(&ch.to_string());
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                let mut buf = [0u8; 4];
                self.put(c.encode_utf8(&mut buf));
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// go-yaml's `increase_indent`.
fn increase(indent: i64, flow: bool, indentless: bool) -> i64 {
    if indent < 0 {
        if flow {
            2
        } else {
            0
        }
    } else if !indentless {
        indent + 2
    } else {
        indent
    }
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || v == 0x85
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
        || (0x10000..=0x10FFFF).contains(&v)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// go-yaml's `yaml_emitter_analyze_scalar` (block context only).
fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    if (text.starts_with("---") || text.starts_with("...")) && is_blankz(chars.get(3).copied()) {
        block_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace = is_blankz(chars.get(1).copied());
    for (i, &c) in chars.iter().enumerate() {
        let indicator = if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => true,
                '?' | ':' | '-' => followed_by_whitespace,
                _ => false,
            }
        } else {
            match c {
                ':' => followed_by_whitespace,
                '#' => preceded_by_whitespace,
                _ => false,
            }
        };
        if indicator {
            block_indicators = true;
        }
        if !is_printable(c) || c == '\u{FEFF}' {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        let last = i == chars.len() - 1;
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
        followed_by_whitespace = is_blankz(chars.get(i + 2).copied());
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn scalar_text(value: &Value) -> (String, Style) {
    match value {
        Value::Null => ("null".into(), Style::Plain),
        Value::Bool(b) => (b.to_string(), Style::Plain),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                (i.to_string(), Style::Plain)
            } else if let Some(u) = n.as_u64() {
                (u.to_string(), Style::Plain)
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let text = if f.is_nan() {
                    ".nan".to_string()
                } else if f.is_infinite() {
                    if f > 0.0 { ".inf" } else { "-.inf" }.to_string()
                } else {
                    go_format_float_g(f)
                };
                (text, Style::Plain)
            }
        }
        Value::String(s) => string_style(s),
        _ => (String::new(), Style::Plain),
    }
}

/// go-yaml v2's choice for a string: literal when multi-line, plain when it
/// would read back as the same string, double-quoted otherwise.
fn string_style(s: &str) -> (String, Style) {
    let style = if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    (s.to_string(), style)
}

/// go-yaml v2 `resolve("", s)` returns the `!!str` tag.
fn resolves_to_string(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    match s {
        "~" | "null" | "Null" | "NULL" | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no"
        | "No" | "NO" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "on" | "On"
        | "ON" | "off" | "Off" | "OFF" | ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
        | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | "<<" => return false,
        _ => {}
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || first == '-' || first == '+' || first == '.') {
        return true;
    }
    if looks_like_int(s) || looks_like_float(s) || looks_like_timestamp(s) {
        return false;
    }
    true
}

fn looks_like_int(s: &str) -> bool {
    let plain = s.replace('_', "");
    let body = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    if body.is_empty() {
        return false;
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return !bin.is_empty() && bin.chars().all(|c| c == '0' || c == '1');
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = body.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    if body.len() > 1 && body.starts_with('0') {
        // Go's ParseInt with base 0 reads a leading 0 as octal.
        return body.chars().all(|c| ('0'..='7').contains(&c));
    }
    body.chars().all(|c| c.is_ascii_digit())
}

fn looks_like_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ after removing '_'
    let plain = s.replace('_', "");
    let b = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let (mantissa, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mantissa_ok = if let Some(frac) = mantissa.strip_prefix('.') {
        !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit())
    } else {
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        !int.is_empty()
            && int.chars().all(|c| c.is_ascii_digit())
            && frac.chars().all(|c| c.is_ascii_digit())
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    };
    mantissa_ok && exp_ok
}

fn looks_like_timestamp(s: &str) -> bool {
    // go-yaml v2 accepts "2006-1-2" style dates, optionally followed by a time.
    let date_part: String = s
        .chars()
        .take_while(|c| *c != 'T' && *c != 't' && *c != ' ')
        .collect();
    let parts: Vec<&str> = date_part.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return false;
    }
    if !parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 2 || p.len() == 4)
    {
        return false;
    }
    if !parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    date_part.len() == s.len() || s.len() > date_part.len() + 1
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = b.split_once('.').unwrap_or((b, ""));
    if !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut groups = main.split(':');
    let head = groups.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut count = 0;
    for g in groups {
        count += 1;
        let ok = match g.len() {
            1 => g.chars().all(|c| c.is_ascii_digit()),
            2 => {
                let mut it = g.chars();
                matches!(it.next(), Some('0'..='5'))
                    && it.next().is_some_and(|c| c.is_ascii_digit())
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    count > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value, expected: &str) {
        assert_eq!(to_yaml(&value), expected);
    }

    #[test]
    fn maps_sorted_and_sequences_not_indented() {
        check(
            json!({"b": [1, "x"], "a": {"c": true, "b": null}, "e": {}, "f": []}),
            "a:\n  b: null\n  c: true\nb:\n- 1\n- x\ne: {}\nf: []",
        );
    }

    #[test]
    fn sequences_of_maps_and_sequences() {
        check(
            json!([{"a": 1, "b": [2]}, [3, 4]]),
            "- a: 1\n  b:\n  - 2\n- - 3\n  - 4",
        );
    }

    #[test]
    fn strings_are_quoted_when_they_would_read_back_as_something_else() {
        check(
            json!({"a": "true", "b": "1", "c": "", "d": "1.5", "e": "plain text", "f": "- x", "g": "a: b", "h": "yes", "i": "1:20", "j": "2024-01-02"}),
            "a: \"true\"\nb: \"1\"\nc: \"\"\nd: \"1.5\"\ne: plain text\nf: '- x'\ng: 'a: b'\nh: \"yes\"\ni: \"1:20\"\nj: \"2024-01-02\"",
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        check(json!({"s": "a\nb\n"}), "s: |\n  a\n  b");
        check(json!({"s": "a\nb"}), "s: |-\n  a\n  b");
        check(json!({"s": " a\nb"}), "s: |2-\n   a\n  b");
        check(json!({"s": "a \nb"}), "s: \"a \\nb\"");
    }

    #[test]
    fn long_plain_strings_fold_at_eighty_columns() {
        let long = "word ".repeat(20).trim_end().to_string();
        let got = to_yaml(&json!({ "k": long }));
        assert!(got.starts_with("k: word"));
        assert!(got.contains("\n  word"), "{got}");
    }

    #[test]
    fn numbers_follow_the_json_round_trip() {
        check(
            json!({"a": 1.0, "b": 0.5, "c": 1234567.5}),
            "a: 1\nb: 0.5\nc: 1.2345675e+06",
        );
    }

    #[test]
    fn keys_with_numbers_sort_by_value() {
        check(json!({"a10": 1, "a9": 2, "B": 3}), "B: 3\na9: 2\na10: 1");
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(go_format_float_g(1e6), "1e+06");
        assert_eq!(go_format_float_g(100000.0), "100000");
        assert_eq!(go_format_float_g(0.0001), "0.0001");
        assert_eq!(go_format_float_g(0.00001), "1e-05");
        assert_eq!(go_json_float(1e6), "1000000");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(0.5), "0.5");
    }
}

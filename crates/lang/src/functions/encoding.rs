//! Encoding functions: base64, JSON, CSV, URL and text encodings.

use std::collections::BTreeMap;

use base64::Engine;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::number::Number;
use crate::types::Type;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "base64encode",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(b64(a.str(0).as_bytes()))),
    },
    Func {
        name: "base64decode",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: base64decode,
    },
    Func {
        name: "base64gzip",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: base64gzip,
    },
    Func {
        name: "jsonencode",
        params: &[p("val", T::Any).null()],
        variadic: None,
        ret: T::String,
        imp: jsonencode,
    },
    Func {
        name: "jsondecode",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::Any,
        imp: |a| parse_json(a.str(0)).map_err(FnError::call),
    },
    Func {
        name: "csvdecode",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::Any,
        imp: csvdecode,
    },
    Func {
        name: "urlencode",
        params: &[p("str", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(query_escape(a.str(0)))),
    },
    Func {
        name: "textencodebase64",
        params: &[p("string", T::String), p("encoding", T::String)],
        variadic: None,
        ret: T::String,
        imp: textencodebase64,
    },
    Func {
        name: "textdecodebase64",
        params: &[p("source", T::String), p("encoding", T::String)],
        variadic: None,
        ret: T::String,
        imp: textdecodebase64,
    },
];

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64decode(a: &Args<'_, '_>) -> FnResult {
    let s = a.str(0);
    // Go's decoder skips line breaks.
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|_| FnError::call(format!("failed to decode base64 data '{s}'")))?;
    String::from_utf8(bytes)
        .map(Value::string)
        .map_err(|_| FnError::call("the result of decoding the provided string is not valid UTF-8"))
}

/// Gzip as Go's `gzip.Writer` writes it after `Write`, `Flush` and
/// `Close` (what Terraform does): a header without name or time, the
/// deflate data ending with a sync flush, an empty final stored block, then
/// the CRC-32 and size.
fn base64gzip(a: &Args<'_, '_>) -> FnResult {
    let data = a.str(0).as_bytes();
    let mut out: Vec<u8> = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut deflater = flate2::Compress::new(flate2::Compression::default(), false);
    let mut buf = Vec::with_capacity(data.len() + 64);
    for round in 0.. {
        if round > 64 {
            return Err(FnError::call("failed to compress the data"));
        }
        let consumed = deflater.total_in() as usize;
        let status = deflater
            .compress_vec(
                &data[consumed.min(data.len())..],
                &mut buf,
                flate2::FlushCompress::Sync,
            )
            .map_err(|e| FnError::call(format!("failed to write gzip raw data: {e}")))?;
        if deflater.total_in() as usize >= data.len() && buf.len() < buf.capacity() {
            break;
        }
        if status == flate2::Status::BufError || buf.len() == buf.capacity() {
            buf.reserve(buf.capacity().max(64));
        }
    }
    out.extend_from_slice(&buf);
    out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(Value::string(b64(&out)))
}

fn jsonencode(a: &Args<'_, '_>) -> FnResult {
    a.get(0)
        .to_json_string()
        .map(Value::string)
        .map_err(|e| FnError::arg(0, e.to_string()))
}

/// Parses JSON into a value with implied types (objects stay objects,
/// arrays become tuples) and numbers with every digit kept.
pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.i >= p.s.len() {
        return Err("EOF".to_owned());
    }
    let v = p.value(0)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(format!(
            "invalid character '{}' after top-level value",
            p.s[p.i] as char
        ));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn unexpected(&self, what: &str) -> String {
        match self.s.get(self.i) {
            Some(c) => format!("invalid character '{}' {what}", *c as char),
            None => "unexpected end of JSON input".to_owned(),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 500 {
            return Err("exceeded max depth".to_owned());
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut out = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::object(out));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.unexpected("looking for beginning of object key string"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.unexpected("after object key"));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    out.insert(k, v);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::object(out));
                        }
                        _ => return Err(self.unexpected("after object key:value pair")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::tuple(out));
                }
                loop {
                    out.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::tuple(out));
                        }
                        _ => return Err(self.unexpected("after array element")),
                    }
                }
            }
            Some(b'"') => Ok(Value::string(self.string()?)),
            Some(b't') => self.literal("true", Value::bool(true)),
            Some(b'f') => self.literal("false", Value::bool(false)),
            Some(b'n') => self.literal("null", Value::null_dynamic()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.unexpected(&format!("in literal {word}")))
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i > s
        };
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(self.unexpected("in numeric literal"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.unexpected("after decimal point in numeric literal"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.unexpected("in exponent of numeric literal"));
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        Number::parse(text)
            .map(Value::number)
            .map_err(|e| e.to_string())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.unexpected("in \\u hexadecimal character escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unexpected end of JSON input".to_owned());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err("unexpected end of JSON input".to_owned());
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                        .unwrap_or('\u{fffd}')
                                } else {
                                    self.i = save;
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => {
                            return Err(format!(
                                "invalid character '{}' in string escape code",
                                e as char
                            ))
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => {
                    return Err(format!("invalid character '\\x{c:02x}' in string literal"))
                }
                c => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

fn csvdecode(a: &Args<'_, '_>) -> FnResult {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(a.str(0).as_bytes());
    let mut rows = reader.records();
    let header = match rows.next() {
        Some(Ok(h)) => h.iter().map(str::to_owned).collect::<Vec<_>>(),
        Some(Err(e)) => return Err(FnError::call(e.to_string())),
        None => return Err(FnError::call("missing header line")),
    };
    let obj_ty = Type::object(header.iter().map(|h| (h.clone(), Type::String)));
    let mut out = Vec::new();
    for (n, row) in rows.enumerate() {
        let row = row.map_err(|e| FnError::call(e.to_string()))?;
        if row.len() != header.len() {
            return Err(FnError::call(format!(
                "record on line {}: wrong number of fields",
                n + 2
            )));
        }
        let obj: BTreeMap<String, Value> = header
            .iter()
            .zip(row.iter())
            .map(|(h, v)| (h.clone(), Value::string(v)))
            .collect();
        out.push(Value::object(obj));
    }
    Ok(Value::list(obj_ty, out))
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn encoding_for(name: &str, arg: usize) -> Result<&'static encoding_rs::Encoding, FnError> {
    encoding_rs::Encoding::for_label(name.as_bytes()).ok_or_else(|| {
        FnError::arg(
            arg,
            format!(
                "{name:?} is not a supported IANA encoding name or alias in this Terraform version"
            ),
        )
    })
}

fn textencodebase64(a: &Args<'_, '_>) -> FnResult {
    let enc = encoding_for(a.str(1), 1)?;
    let s = a.str(0);
    let bytes: Vec<u8> = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        let le = enc == encoding_rs::UTF_16LE;
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    } else {
        let (bytes, _, bad) = enc.encode(s);
        if bad {
            return Err(FnError::arg(
                0,
                format!(
                    "the given string contains characters that cannot be represented in {}",
                    a.str(1)
                ),
            ));
        }
        bytes.into_owned()
    };
    Ok(Value::string(b64(&bytes)))
}

fn textdecodebase64(a: &Args<'_, '_>) -> FnResult {
    let enc = encoding_for(a.str(1), 1)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(a.str(0))
        .map_err(|e| {
            FnError::arg(
                0,
                format!("the given value is has an invalid base64 symbol: {e}"),
            )
        })?;
    let (s, bad) = enc.decode_without_bom_handling(&bytes);
    if bad {
        return Err(FnError::arg(
            0,
            format!(
                "the given string contains symbols that are not defined for {}",
                a.str(1)
            ),
        ));
    }
    Ok(Value::string(s.into_owned()))
}

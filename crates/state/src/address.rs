//! Resource instance addresses as Terraform prints them:
//! `module.child["a"].data.fake_echo.e[0]`.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether an instance is a managed resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "managed" => Some(Mode::Managed),
            "data" => Some(Mode::Data),
            _ => None,
        }
    }
}

/// The key of one instance of a resource with `count` (int) or `for_each`
/// (string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndexKey {
    Int(i64),
    Str(String),
}

impl Ord for IndexKey {
    fn cmp(&self, other: &Self) -> Ordering {
        // Terraform sorts numeric keys before string keys.
        match (self, other) {
            (IndexKey::Int(a), IndexKey::Int(b)) => a.cmp(b),
            (IndexKey::Str(a), IndexKey::Str(b)) => a.cmp(b),
            (IndexKey::Int(_), IndexKey::Str(_)) => Ordering::Less,
            (IndexKey::Str(_), IndexKey::Int(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexKey::Int(i) => write!(f, "[{i}]"),
            IndexKey::Str(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                write!(f, "[{quoted}]")
            }
        }
    }
}

/// One step of a module path: `module.NAME` with an optional key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<IndexKey>,
}

/// The absolute address of one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceAddr {
    /// Empty for the root module.
    pub module: Vec<ModuleStep>,
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
    pub key: Option<IndexKey>,
}

/// An address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource instance address {address:?}: {reason}")]
pub struct AddressError {
    pub address: String,
    pub reason: &'static str,
}

impl InstanceAddr {
    /// A root-module managed resource instance.
    pub fn managed(type_name: &str, name: &str, key: Option<IndexKey>) -> InstanceAddr {
        InstanceAddr {
            module: Vec::new(),
            mode: Mode::Managed,
            type_name: type_name.to_owned(),
            name: name.to_owned(),
            key,
        }
    }

    /// The module path as state v4 writes it (`module.a[0].module.b`), empty
    /// for the root module.
    pub fn module_path(&self) -> String {
        module_path_string(&self.module)
    }

    /// The resource address, without the instance key.
    pub fn resource(&self) -> String {
        let mut out = self.module_path();
        if !out.is_empty() {
            out.push('.');
        }
        if self.mode == Mode::Data {
            out.push_str("data.");
        }
        out.push_str(&self.type_name);
        out.push('.');
        out.push_str(&self.name);
        out
    }

    /// Parses `[module.NAME[KEY].]…[data.]TYPE.NAME[KEY]`.
    pub fn parse(address: &str) -> Result<InstanceAddr, AddressError> {
        let fail = |reason| AddressError {
            address: address.to_owned(),
            reason,
        };
        let (module, rest) = parse_module_prefix(address).map_err(fail)?;
        let mut p = Parser { s: rest, pos: 0 };
        let mut mode = Mode::Managed;
        let mut type_name = p.ident().ok_or_else(|| fail("expected a resource type"))?;
        if type_name == "data" {
            mode = Mode::Data;
            p.expect('.').map_err(fail)?;
            type_name = p
                .ident()
                .ok_or_else(|| fail("expected a data source type"))?;
        }
        p.expect('.').map_err(fail)?;
        let name = p.ident().ok_or_else(|| fail("expected a resource name"))?;
        let key = p.key().map_err(fail)?;
        if !p.at_end() {
            return Err(fail("unexpected characters after the address"));
        }
        Ok(InstanceAddr {
            module,
            mode,
            type_name,
            name,
            key,
        })
    }

    /// Whether this instance is selected by a `state list`/`state rm`
    /// pattern: a module, resource or instance address.
    pub fn matches(&self, pattern: &str) -> bool {
        let me = self.to_string();
        if me == pattern {
            return true;
        }
        if self.key.is_some() && self.resource() == pattern {
            return true;
        }
        me.strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            && pattern.starts_with("module.")
    }
}

/// `module.a[0].module.b` for a module path.
pub fn module_path_string(module: &[ModuleStep]) -> String {
    let mut out = String::new();
    for (i, step) in module.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str("module.");
        out.push_str(&step.name);
        if let Some(key) = &step.key {
            out.push_str(&key.to_string());
        }
    }
    out
}

/// Parses a state v4 `module` field (`module.a[0].module.b`).
pub fn parse_module_path(path: &str) -> Result<Vec<ModuleStep>, AddressError> {
    let fail = |reason| AddressError {
        address: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let with_dot = format!("{path}.");
    let (module, rest) = parse_module_prefix(&with_dot).map_err(fail)?;
    if !rest.is_empty() {
        return Err(fail("unexpected characters after the module path"));
    }
    Ok(module)
}

fn parse_module_prefix(address: &str) -> Result<(Vec<ModuleStep>, &str), &'static str> {
    let mut module = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let mut p = Parser { s: after, pos: 0 };
        let name = p.ident().ok_or("expected a module name")?;
        let key = p.key()?;
        p.expect('.')?;
        module.push(ModuleStep { name, key });
        rest = &after[p.pos..];
    }
    Ok((module, rest))
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn expect(&mut self, c: char) -> Result<(), &'static str> {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else if c == '.' {
            Err("expected '.'")
        } else {
            Err("unexpected character")
        }
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        for (i, c) in self.s[start..].char_indices() {
            let ok = if i == 0 {
                c.is_alphabetic() || c == '_'
            } else {
                c.is_alphanumeric() || c == '_' || c == '-'
            };
            if !ok {
                break;
            }
            self.pos = start + i + c.len_utf8();
        }
        (self.pos > start).then(|| self.s[start..self.pos].to_owned())
    }

    fn key(&mut self) -> Result<Option<IndexKey>, &'static str> {
        if self.peek() != Some('[') {
            return Ok(None);
        }
        self.pos += 1;
        let rest = &self.s[self.pos..];
        let key = if rest.starts_with('"') {
            // A JSON string literal: find its end, honouring escapes.
            let mut escaped = false;
            let mut end = None;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated string key")?;
            let s: String =
                serde_json::from_str(&rest[..=end]).map_err(|_| "invalid string key")?;
            self.pos += end + 1;
            IndexKey::Str(s)
        } else {
            let end = rest.find(']').ok_or("unterminated index")?;
            let n: i64 = rest[..end].parse().map_err(|_| "invalid index key")?;
            self.pos += end;
            IndexKey::Int(n)
        };
        self.expect(']').map_err(|_| "expected ']'")?;
        Ok(Some(key))
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource())?;
        if let Some(key) = &self.key {
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for InstanceAddr {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InstanceAddr::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str) {
        let addr = InstanceAddr::parse(input).unwrap();
        assert_eq!(addr.to_string(), input);
    }

    #[test]
    fn addresses_round_trip() {
        check("fake_thing.a");
        check("fake_thing.a[0]");
        check("data.fake_echo.e[\"x.y\"]");
        check("module.child.fake_thing.t[0]");
        check("module.c[\"a\"].module.d[2].data.fake_echo.e");
        let a = InstanceAddr::parse("module.c[\"a\"].fake_thing.t").unwrap();
        assert_eq!(a.module_path(), "module.c[\"a\"]");
        assert_eq!(parse_module_path("module.c[\"a\"]").unwrap(), a.module);
    }

    #[test]
    fn bad_addresses_are_errors() {
        for bad in [
            "",
            "fake_thing",
            "fake_thing.a[",
            "fake_thing.a[x]",
            "a.b.c",
            "module.x",
        ] {
            assert!(InstanceAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_select_resources_and_modules() {
        let a = InstanceAddr::parse("module.child.fake_thing.t[0]").unwrap();
        assert!(a.matches("module.child"));
        assert!(a.matches("module.child.fake_thing.t"));
        assert!(a.matches("module.child.fake_thing.t[0]"));
        assert!(!a.matches("module.child.fake_thing.t[1]"));
        assert!(!a.matches("module.chi"));
        let b = InstanceAddr::parse("fake_thing.ab").unwrap();
        assert!(!b.matches("fake_thing.a"));
    }
}

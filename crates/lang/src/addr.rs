//! Addresses of resources, their instances and module instances, printed
//! and parsed in Terraform's syntax: `module.child["a"].konnect_mesh.m[0]`,
//! `data.time_static.now`.

use std::fmt;

/// `resource` (managed) or `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceMode {
    Managed,
    Data,
}

/// The key of one instance of a resource or module: none (no `count` or
/// `for_each`), an index from `count`, or a key from `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum InstanceKey {
    #[default]
    None,
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => {
                f.write_str("[")?;
                write_quoted(f, s)?;
                f.write_str("]")
            }
        }
    }
}

/// Go's `%q` quoting, which Terraform uses for string keys.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// One step of a module path: `module.NAME[KEY]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A module instance: empty for the root module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> Self {
        ModuleInstance(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The names of the module calls along the path, without instance keys:
    /// where the module's configuration is, as opposed to which instance.
    pub fn call_names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.name.clone()).collect()
    }

    /// The child module instance `module.name[key]` of this one.
    pub fn child(&self, name: &str, key: InstanceKey) -> Self {
        let mut steps = self.0.clone();
        steps.push(ModuleStep {
            name: name.to_owned(),
            key,
        });
        ModuleInstance(steps)
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", step.name, step.key)?;
        }
        Ok(())
    }
}

/// A resource within a module, without instance key: `konnect_mesh.m`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    pub mode: ResourceMode,
    pub ty: String,
    pub name: String,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == ResourceMode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.ty, self.name)
    }
}

/// A resource in a module instance: `module.x.konnect_mesh.m`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbsResource {
    pub module: ModuleInstance,
    pub resource: Resource,
}

impl AbsResource {
    pub fn instance(&self, key: InstanceKey) -> ResourceInstance {
        ResourceInstance {
            module: self.module.clone(),
            resource: self.resource.clone(),
            key,
        }
    }
}

impl fmt::Display for AbsResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}", self.resource)
    }
}

/// One instance of a resource: `module.x.konnect_mesh.m[0]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceInstance {
    pub module: ModuleInstance,
    pub resource: Resource,
    pub key: InstanceKey,
}

impl ResourceInstance {
    pub fn abs_resource(&self) -> AbsResource {
        AbsResource {
            module: self.module.clone(),
            resource: self.resource.clone(),
        }
    }

    /// Parses an instance address as the CLI accepts it (`-target`,
    /// `-replace`, `state show`).
    pub fn parse(text: &str) -> Result<ResourceInstance, AddrError> {
        let mut p = Parser { s: text, pos: 0 };
        let addr = p.resource_instance()?;
        if p.pos != text.len() {
            return Err(p.error("unexpected characters after the address"));
        }
        Ok(addr)
    }
}

impl fmt::Display for ResourceInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.abs_resource(), self.key)
    }
}

/// An address that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    pub text: String,
    pub reason: String,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid address {:?}: {}", self.text, self.reason)
    }
}

impl std::error::Error for AddrError {}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> AddrError {
        AddrError {
            text: self.s.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn name(&mut self) -> Result<String, AddrError> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .take_while(|(i, c)| c.is_alphanumeric() || *c == '_' || (*i > 0 && *c == '-'))
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(0);
        if len == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.error("a name is expected"));
        }
        let name = rest[..len].to_owned();
        self.pos += len;
        Ok(name)
    }

    fn dot(&mut self) -> Result<(), AddrError> {
        if self.rest().starts_with('.') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error("a dot is expected"))
        }
    }

    fn key(&mut self) -> Result<InstanceKey, AddrError> {
        if !self.rest().starts_with('[') {
            return Ok(InstanceKey::None);
        }
        self.pos += 1;
        let key = if self.rest().starts_with('"') {
            self.pos += 1;
            let mut out = String::new();
            let mut chars = self.rest().char_indices();
            let mut consumed = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        consumed = Some(i + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, 't')) => out.push('\t'),
                        Some((_, c)) => out.push(c),
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            let Some(n) = consumed else {
                return Err(self.error("unterminated string key"));
            };
            self.pos += n;
            InstanceKey::Str(out)
        } else {
            let digits: String = self
                .rest()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            let i: i64 = digits
                .parse()
                .map_err(|_| self.error("an index must be a whole number or a quoted string"))?;
            self.pos += digits.len();
            InstanceKey::Int(i)
        };
        if !self.rest().starts_with(']') {
            return Err(self.error("a closing ] is expected"));
        }
        self.pos += 1;
        Ok(key)
    }

    fn resource_instance(&mut self) -> Result<ResourceInstance, AddrError> {
        let mut module = ModuleInstance::root();
        loop {
            let save = self.pos;
            let first = self.name()?;
            if first == "module" {
                self.dot()?;
                let name = self.name()?;
                let key = self.key()?;
                module.0.push(ModuleStep { name, key });
                self.dot()?;
                continue;
            }
            self.pos = save;
            break;
        }
        let mut mode = ResourceMode::Managed;
        let mut ty = self.name()?;
        if ty == "data" {
            mode = ResourceMode::Data;
            self.dot()?;
            ty = self.name()?;
        }
        self.dot()?;
        let name = self.name()?;
        let key = self.key()?;
        Ok(ResourceInstance {
            module,
            resource: Resource { mode, ty, name },
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) {
        let addr = ResourceInstance::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(addr.to_string(), text);
    }

    #[test]
    fn addresses_round_trip() {
        check("konnect_mesh.mesh1");
        check("data.fake_echo.x");
        check("fake_thing.c[1]");
        check("fake_thing.f[\"b\"]");
        check("module.child.fake_thing.t[1]");
        check("module.a[\"x\"].module.b[0].konnect-beta_thing.y");
    }

    #[test]
    fn malformed_addresses_are_errors() {
        for bad in [
            "", "x", "x.", "1a.b", "a.b[", "a.b[x]", "a.b[\"x]", "module.m", "a.b c",
        ] {
            assert!(ResourceInstance::parse(bad).is_err(), "{bad:?}");
        }
    }
}

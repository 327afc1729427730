//! Terraform's version constraint syntax: `">= 1.0, < 2.0"`, `"~> 2.4"`,
//! `"= 0.1.0"`, `"!= 1.3.0"`, or a bare version.
//!
//! Written by hand: the `semver` crate parses versions but speaks Cargo's
//! requirement syntax, whose `~` and bare-version meanings differ from
//! Terraform's `~>` and `=`.

use std::fmt;

pub use semver::Version;

/// One comparison of a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// `~>`: the rightmost written component may increase.
    Pessimistic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    op: Op,
    version: Version,
    /// How many numeric components were written (`~> 2.4` has 2).
    written: usize,
}

/// A parsed version constraint: every clause must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConstraint {
    text: String,
    clauses: Vec<Clause>,
}

/// A constraint that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version constraint {text:?}: {reason}")]
pub struct ConstraintError {
    pub text: String,
    pub reason: String,
}

impl VersionConstraint {
    pub fn parse(text: &str) -> Result<Self, ConstraintError> {
        let err = |reason: String| ConstraintError {
            text: text.to_owned(),
            reason,
        };
        let mut clauses = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(err("empty clause".into()));
            }
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .into_iter()
            .find_map(|(s, op)| part.strip_prefix(s).map(|r| (op, r)))
            .unwrap_or((Op::Eq, part));
            let (version, written) = parse_version(rest.trim()).map_err(err)?;
            clauses.push(Clause {
                op,
                version,
                written,
            });
        }
        Ok(VersionConstraint {
            text: text.to_owned(),
            clauses,
        })
    }

    /// Whether `v` satisfies every clause. A pre-release version matches
    /// only a clause that names that exact pre-release, as in Terraform.
    pub fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty()
            && !self
                .clauses
                .iter()
                .any(|c| c.op == Op::Eq && c.version == *v)
        {
            return false;
        }
        self.clauses.iter().all(|c| c.matches(v))
    }
}

impl Clause {
    fn matches(&self, v: &Version) -> bool {
        let c = &self.version;
        match self.op {
            Op::Eq => v == c,
            Op::Ne => v != c,
            Op::Gt => v > c,
            Op::Ge => v >= c,
            Op::Lt => v < c,
            Op::Le => v <= c,
            Op::Pessimistic => {
                if v < c {
                    return false;
                }
                if self.written <= 2 {
                    // `~> 1` and `~> 1.2` allow any later minor release.
                    v.major == c.major
                } else {
                    // `~> 1.2.3` allows later patch releases of 1.2.
                    v.major == c.major && v.minor == c.minor
                }
            }
        }
    }
}

/// Parses `1`, `1.2`, `1.2.3`, `1.2.3-beta1` (with an optional leading `v`),
/// padding missing components with zeros. Returns how many were written.
fn parse_version(s: &str) -> Result<(Version, usize), String> {
    let s = s.strip_prefix('v').unwrap_or(s);
    if s.is_empty() {
        return Err("a version number is missing".into());
    }
    let (core, suffix) = match s.find(['-', '+']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{s:?} is not a version number"));
    }
    let mut full = parts.clone();
    while full.len() < 3 {
        full.push("0");
    }
    let text = format!("{}{}", full.join("."), suffix);
    Version::parse(&text)
        .map(|v| (v, parts.len()))
        .map_err(|e| format!("{s:?} is not a version number: {e}"))
}

impl fmt::Display for VersionConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str, expected: bool) {
        let c = VersionConstraint::parse(constraint).unwrap();
        let v = Version::parse(version).unwrap();
        assert_eq!(c.matches(&v), expected, "{constraint} vs {version}");
    }

    #[test]
    fn operators_follow_terraform() {
        check("2.4.1", "2.4.1", true);
        check("= 2.4.1", "2.4.2", false);
        check("!= 2.4.1", "2.4.2", true);
        check("> 0.1.0", "0.1.0", false);
        check(">= 0.1.0", "0.1.0", true);
        check("< 3", "2.99.0", true);
        check("<= 2.4", "2.4.1", false);
        check(">= 1.0, < 2.0", "1.5.0", true);
        check(">= 1.0, < 2.0", "2.0.0", false);
    }

    #[test]
    fn pessimistic_constraint_moves_only_the_rightmost_component() {
        check("~> 2.4", "2.9.0", true);
        check("~> 2.4", "3.0.0", false);
        check("~> 2.4", "2.3.9", false);
        check("~> 2.4.1", "2.4.9", true);
        check("~> 2.4.1", "2.5.0", false);
        check("~> 1", "1.9.0", true);
        check("~> 1", "2.0.0", false);
    }

    #[test]
    fn prereleases_match_only_when_named() {
        check(">= 1.0.0", "1.1.0-beta1", false);
        check("= 1.1.0-beta1", "1.1.0-beta1", true);
    }

    #[test]
    fn malformed_constraints_are_errors() {
        for bad in ["", ">=", "1.x", "~> a", "1.2.3.4", ">= 1,"] {
            assert!(VersionConstraint::parse(bad).is_err(), "{bad:?}");
        }
    }
}

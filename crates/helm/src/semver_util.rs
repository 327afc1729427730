//! Semantic versions and constraints with the syntax charts use
//! (Masterminds/semver): a `v` prefix, partial versions (`1.20`), `||`
//! alternatives, space- or comma-separated comparators, `x`/`*` wildcards,
//! `^`/`~` and hyphen ranges. Comparison itself is the `semver` crate's.

use semver::{Version, VersionReq};

/// Parses a version leniently: `v1.2.3`, `1.2`, `1`.
pub fn parse_version(text: &str) -> Result<Version, String> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    if let Ok(v) = Version::parse(t) {
        return Ok(v);
    }
    let (core, rest) = match t.find(['-', '+']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("invalid semantic version {text:?}"));
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let normalized: Vec<String> = parts
        .iter()
        .map(|p| p.trim_start_matches('0').to_string())
        .map(|p| if p.is_empty() { "0".into() } else { p })
        .collect();
    Version::parse(&format!("{}{rest}", normalized.join(".")))
        .map_err(|e| format!("invalid semantic version {text:?}: {e}"))
}

/// A version constraint: alternatives of comparator sets.
#[derive(Debug, Clone)]
pub struct Constraint {
    alternatives: Vec<VersionReq>,
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut alternatives = Vec::new();
        for alt in text.split("||") {
            let req = translate(alt.trim())?;
            alternatives.push(
                VersionReq::parse(&req).map_err(|e| format!("invalid constraint {text:?}: {e}"))?,
            );
        }
        Ok(Constraint { alternatives })
    }

    pub fn matches(&self, v: &Version) -> bool {
        self.alternatives.iter().any(|r| r.matches(v))
    }
}

fn translate(alt: &str) -> Result<String, String> {
    if alt.is_empty() {
        return Ok("*".into());
    }
    // Hyphen range: "1.2 - 1.4.5".
    if let Some((lo, hi)) = alt.split_once(" - ") {
        return Ok(format!(">={}, <={}", clean(lo.trim()), clean(hi.trim())));
    }
    let mut comparators = Vec::new();
    let mut pending_op = String::new();
    for tok in alt.split([' ', ',']).filter(|t| !t.is_empty()) {
        if tok.chars().all(|c| "<>=!~^".contains(c)) {
            pending_op = tok.to_string();
            continue;
        }
        let tok = format!("{pending_op}{tok}");
        pending_op.clear();
        let op_end = tok
            .find(|c: char| !"<>=!~^".contains(c))
            .unwrap_or(tok.len());
        let (op, ver) = tok.split_at(op_end);
        let ver = clean(ver);
        let op = match op {
            "" => "=",
            "=" | "==" => "=",
            "!=" => return Err("!= constraints are not supported".into()),
            "~>" => "~",
            other => other,
        };
        if ver == "*" {
            comparators.push("*".to_string());
        } else if op == "=" && ver.contains('*') {
            comparators.push(ver);
        } else {
            comparators.push(format!("{op}{ver}"));
        }
    }
    Ok(comparators.join(", "))
}

fn clean(v: &str) -> String {
    v.trim_start_matches(['v', 'V']).replace(['x', 'X'], "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str, expected: bool) {
        let c = Constraint::parse(constraint).unwrap();
        assert_eq!(
            c.matches(&parse_version(version).unwrap()),
            expected,
            "{constraint} vs {version}"
        );
    }

    #[test]
    fn constraints_like_masterminds() {
        check(">=1.20.0-0", "v1.20.0", true);
        check(">=1.21", "1.20.0", false);
        check("^2.9", "2.9.3", true);
        check("~2.9.0", "2.10.0", false);
        check("1.x", "1.5.0", true);
        check(">1.0 <2.0 || 3.0.0", "3.0.0", true);
        check(">= 1.0, < 2", "1.5.0", true);
        check("2.9.3", "2.9.3", true);
        check("*", "0.1.0", true);
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_version("v1.20").unwrap(), Version::new(1, 20, 0));
        assert!(parse_version("one").is_err());
    }
}

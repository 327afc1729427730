//! Offline validation of Kuma policy specs against Kuma 2.9.3's own policy
//! schemas, reduced to compact tables (`policies.json`, written by
//! `examples/gen_kuma_tables.rs`).
//!
//! A spec is checked either in its Terraform shape (snake_case attribute
//! names, int-or-string fields as `{str, integer}` objects, unset
//! attributes null) or in its Kuma JSON shape (camelCase). Problems come
//! back with the path of the offending value (`spec.from[0].default.action`)
//! so the caller can point at the configuration that wrote it. Unknown
//! values are skipped: they are checked once known.

use std::collections::BTreeMap;
use std::fmt;

pub use meshform_lang::PathStep;
use meshform_lang::{Data, Diagnostic, Value};
use regex::Regex;
use serde_json::Value as Json;

const POLICIES: &str = include_str!("policies.json");

/// The tables could not be read (a generator bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyTableError {
    #[error("the Kuma policy tables are not valid JSON: {0}")]
    Syntax(String),
    #[error("the Kuma policy table of {kind} is malformed at {path}: {reason}")]
    Malformed {
        kind: String,
        path: String,
        reason: String,
    },
}

/// Validation tables of every Kuma policy kind.
#[derive(Debug, Clone)]
pub struct PolicyTables {
    policies: BTreeMap<String, Policy>,
}

#[derive(Debug, Clone)]
struct Policy {
    resource: String,
    spec: Node,
}

/// What a value at one place of a spec must look like.
#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    /// Object members: JSON name → (Terraform name, node).
    fields: BTreeMap<String, (String, Node)>,
    required: Vec<String>,
    /// The node of every value of a map-like object.
    values: Option<Box<Node>>,
    items: Option<Box<Node>>,
    one_of: Vec<String>,
    min: Option<f64>,
    max: Option<f64>,
    min_len: Option<u64>,
    max_len: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    pattern: Option<Regex>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    IntOrString,
    Any,
}

/// Which names a spec value uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// Terraform attribute names (`target_ref`), as in configuration.
    Terraform,
    /// Kuma JSON names (`targetRef`), as in an API body.
    Kuma,
}

/// A path into a policy value, starting at `spec`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ValuePath(pub Vec<PathStep>);

impl ValuePath {
    fn child(&self, step: PathStep) -> ValuePath {
        let mut steps = self.0.clone();
        steps.push(step);
        ValuePath(steps)
    }
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => f.write_str(a)?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// A problem in a policy spec: where it is and what to tell the user. The
/// diagnostic has no subject yet; the caller maps `path` to the source
/// range that wrote the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub path: ValuePath,
    pub diagnostic: Diagnostic,
}

/// The shape of a value, as the validator needs to see it.
pub enum View<'a, V> {
    Null,
    /// Not known before apply: not checked.
    Unknown,
    String(&'a str),
    Number(f64),
    Bool(bool),
    Array(Vec<&'a V>),
    /// Members in a stable order.
    Object(Vec<(&'a str, &'a V)>),
}

/// A value the validator can walk: JSON here, meshform's `Value` in the
/// engine.
pub trait PolicyValue: Sized {
    fn view(&self) -> View<'_, Self>;
}

impl PolicyValue for Json {
    fn view(&self) -> View<'_, Json> {
        match self {
            Json::Null => View::Null,
            Json::Bool(b) => View::Bool(*b),
            Json::Number(n) => View::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => View::String(s),
            Json::Array(a) => View::Array(a.iter().collect()),
            Json::Object(m) => View::Object(m.iter().map(|(k, v)| (k.as_str(), v)).collect()),
        }
    }
}

impl PolicyValue for Value {
    fn view(&self) -> View<'_, Value> {
        match self.data() {
            Data::Null(_) => View::Null,
            Data::Unknown(_) => View::Unknown,
            Data::String(s) => View::String(s),
            Data::Number(n) => View::Number(n.to_f64()),
            Data::Bool(b) => View::Bool(*b),
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                View::Array(items.iter().collect())
            }
            Data::Map(_, items) | Data::Object(items) => {
                View::Object(items.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
        }
    }
}

impl PolicyTables {
    /// Parses the tables compiled into this crate.
    pub fn load() -> Result<PolicyTables, PolicyTableError> {
        let doc: Json =
            serde_json::from_str(POLICIES).map_err(|e| PolicyTableError::Syntax(e.to_string()))?;
        let mut policies = BTreeMap::new();
        for p in doc["policies"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let kind = p["kind"].as_str().unwrap_or_default().to_owned();
            let spec = parse_node(&kind, "spec", &p["spec"])?;
            let resource = p["resource"].as_str().unwrap_or_default().to_owned();
            policies.insert(kind, Policy { resource, spec });
        }
        Ok(PolicyTables { policies })
    }

    /// The policy kinds with tables (`MeshTrafficPermission`, ...).
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }

    /// The Kuma kind a Terraform resource type manages, when it is a policy.
    pub fn kind_of_resource(&self, resource_type: &str) -> Option<&str> {
        self.policies
            .iter()
            .find(|(_, p)| p.resource == resource_type)
            .map(|(k, _)| k.as_str())
    }

    /// The Terraform resource type that manages `kind`.
    pub fn resource_of_kind(&self, kind: &str) -> Option<&str> {
        self.policies.get(kind).map(|p| p.resource.as_str())
    }

    /// Every attribute path of a `kind` spec in Terraform names
    /// (`spec.from.default.action`; list and map steps left out), in
    /// table order.
    pub fn terraform_paths(&self, kind: &str) -> Vec<String> {
        fn walk(node: &Node, prefix: &str, out: &mut Vec<String>) {
            for (tf, child) in node.fields.values() {
                let path = format!("{prefix}.{tf}");
                out.push(path.clone());
                walk(child, &path, out);
            }
            if let Some(items) = &node.items {
                walk(items, prefix, out);
            }
        }
        let mut out = Vec::new();
        if let Some(p) = self.policies.get(kind) {
            walk(&p.spec, "spec", &mut out);
        }
        out
    }

    /// Checks a policy `spec` of `kind`. Returns no problems for a kind
    /// without a table (nothing to check offline).
    pub fn validate_policy_spec<V: PolicyValue>(
        &self,
        kind: &str,
        spec: &V,
        naming: Naming,
    ) -> Vec<PolicyProblem> {
        let Some(policy) = self.policies.get(kind) else {
            return Vec::new();
        };
        let mut checker = Checker {
            kind,
            naming,
            problems: Vec::new(),
        };
        let path = ValuePath(vec![PathStep::Attr("spec".into())]);
        checker.check(&policy.spec, spec, &path);
        checker.problems
    }
}

fn parse_node(kind: &str, path: &str, v: &Json) -> Result<Node, PolicyTableError> {
    let bad = |reason: &str| PolicyTableError::Malformed {
        kind: kind.to_owned(),
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let node_kind = match v["t"].as_str() {
        Some("object") => NodeKind::Object,
        Some("array") => NodeKind::Array,
        Some("string") => NodeKind::String,
        Some("integer") => NodeKind::Integer,
        Some("number") => NodeKind::Number,
        Some("boolean") => NodeKind::Boolean,
        Some("int-or-string") => NodeKind::IntOrString,
        Some("any") => NodeKind::Any,
        _ => return Err(bad("unknown node type")),
    };
    let mut fields = BTreeMap::new();
    if let Some(fs) = v["fields"].as_object() {
        for (name, entry) in fs {
            let tf = entry[0]
                .as_str()
                .ok_or_else(|| bad("field without a Terraform name"))?;
            let child = parse_node(kind, &format!("{path}.{name}"), &entry[1])?;
            fields.insert(name.clone(), (tf.to_owned(), child));
        }
    }
    let boxed = |key: &str, suffix: &str| -> Result<Option<Box<Node>>, PolicyTableError> {
        if v[key].is_object() {
            Ok(Some(Box::new(parse_node(
                kind,
                &format!("{path}{suffix}"),
                &v[key],
            )?)))
        } else {
            Ok(None)
        }
    };
    let strings = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let pattern = match v["pattern"].as_str() {
        Some(p) => Some(Regex::new(p).map_err(|e| bad(&format!("bad pattern: {e}")))?),
        None => None,
    };
    Ok(Node {
        kind: node_kind,
        fields,
        required: strings("required"),
        values: boxed("values", "{}")?,
        items: boxed("items", "[]")?,
        one_of: strings("enum"),
        min: v["min"].as_f64(),
        max: v["max"].as_f64(),
        min_len: v["min_len"].as_u64(),
        max_len: v["max_len"].as_u64(),
        min_items: v["min_items"].as_u64(),
        max_items: v["max_items"].as_u64(),
        pattern,
    })
}

struct Checker<'k> {
    kind: &'k str,
    naming: Naming,
    problems: Vec<PolicyProblem>,
}

impl Checker<'_> {
    fn report(
        &mut self,
        path: &ValuePath,
        summary: &str,
        detail: String,
        suggestion: Option<String>,
    ) {
        let mut diagnostic = Diagnostic::error(summary, detail);
        diagnostic.suggestion = suggestion;
        self.problems.push(PolicyProblem {
            path: path.clone(),
            diagnostic,
        });
    }

    fn type_error(&mut self, path: &ValuePath, wanted: &str) {
        self.report(
            path,
            "Incorrect policy attribute type",
            format!("{path} must be {wanted} in a {} spec.", self.kind),
            None,
        );
    }

    fn check<V: PolicyValue>(&mut self, node: &Node, value: &V, path: &ValuePath) {
        let view = value.view();
        if matches!(view, View::Null | View::Unknown) || node.kind == NodeKind::Any {
            return;
        }
        match node.kind {
            NodeKind::Object => self.check_object(node, view, path),
            NodeKind::Array => {
                let View::Array(items) = view else {
                    return self.type_error(path, "a list");
                };
                self.check_count(node, items.len(), path);
                if let Some(item_node) = &node.items {
                    for (i, item) in items.into_iter().enumerate() {
                        self.check(item_node, item, &path.child(PathStep::Index(i)));
                    }
                }
            }
            NodeKind::String => match view {
                View::String(s) => self.check_string(node, s, path),
                _ => self.type_error(path, "a string"),
            },
            NodeKind::Integer | NodeKind::Number => match view {
                View::Number(n) => self.check_number(node, n, path),
                // Terraform converts numeric strings to numbers.
                View::String(s) if self.naming == Naming::Terraform => match s.parse::<f64>() {
                    Ok(n) => self.check_number(node, n, path),
                    Err(_) => self.type_error(path, "a number"),
                },
                _ => self.type_error(path, "a number"),
            },
            NodeKind::Boolean => match view {
                View::Bool(_) => {}
                View::String("true" | "false") if self.naming == Naming::Terraform => {}
                _ => self.type_error(path, "a bool"),
            },
            NodeKind::IntOrString => self.check_int_or_string(view, path),
            NodeKind::Any => {}
        }
    }

    fn check_object<V: PolicyValue>(&mut self, node: &Node, view: View<'_, V>, path: &ValuePath) {
        let View::Object(members) = view else {
            return self.type_error(path, "an object");
        };
        if node.fields.is_empty() {
            if let Some(values) = &node.values {
                for (key, v) in members {
                    self.check(values, v, &path.child(PathStep::Key(key.to_owned())));
                }
            }
            return;
        }
        let naming = self.naming;
        let name_of = |json: &str, tf: &str| match naming {
            Naming::Terraform => tf.to_owned(),
            Naming::Kuma => json.to_owned(),
        };
        let by_name: BTreeMap<&str, &V> = members.iter().map(|(k, v)| (*k, *v)).collect();
        for required in &node.required {
            let Some((tf, _)) = node.fields.get(required) else {
                continue;
            };
            let name = name_of(required, tf);
            let present = by_name
                .get(name.as_str())
                .is_some_and(|v| !matches!(v.view(), View::Null));
            if !present {
                let field_path = path.child(PathStep::Attr(name));
                self.report(
                    path,
                    "Missing required policy attribute",
                    format!("{field_path} is required in a {} spec.", self.kind),
                    None,
                );
            }
        }
        for (json_name, (tf, child)) in &node.fields {
            let name = name_of(json_name, tf);
            if let Some(v) = by_name.get(name.as_str()) {
                self.check(child, *v, &path.child(PathStep::Attr(name)));
            }
        }
        // Terraform drops members a schema does not have, so only a Kuma
        // body can carry them; Kuma ignores them, which hides typos.
        if self.naming == Naming::Kuma {
            for (key, _) in &members {
                if !node.fields.contains_key(*key) {
                    let known: Vec<&str> = node.fields.keys().map(String::as_str).collect();
                    let mut diagnostic = Diagnostic::error(
                        "Unknown policy attribute",
                        format!(
                            "{} is not an attribute of a {} spec; Kuma would ignore it.",
                            path.child(PathStep::Attr((*key).to_owned())),
                            self.kind
                        ),
                    );
                    diagnostic.severity = meshform_lang::Severity::Warning;
                    diagnostic.suggestion =
                        closest(key, &known).map(|c| format!("Did you mean {c:?}?"));
                    self.problems.push(PolicyProblem {
                        path: path.child(PathStep::Attr((*key).to_owned())),
                        diagnostic,
                    });
                }
            }
        }
    }

    fn check_int_or_string<V: PolicyValue>(&mut self, view: View<'_, V>, path: &ValuePath) {
        match view {
            View::String(_) => {}
            View::Number(n) if n.fract() == 0.0 => {}
            // The Terraform shape: an object with exactly one of `str` and
            // `integer` set.
            View::Object(members) if self.naming == Naming::Terraform => {
                let set: Vec<&str> = members
                    .iter()
                    .filter(|(_, v)| !matches!(v.view(), View::Null))
                    .map(|(k, _)| *k)
                    .collect();
                if set.len() > 1 {
                    self.report(
                        path,
                        "Conflicting policy attributes",
                        format!("{path} sets both {}; set only one.", set.join(" and ")),
                        None,
                    );
                }
                for (k, v) in members {
                    let child = path.child(PathStep::Attr(k.to_owned()));
                    match (k, v.view()) {
                        ("integer", View::Number(n)) if n.fract() != 0.0 => {
                            self.type_error(&child, "a whole number")
                        }
                        ("str" | "integer", _) => {}
                        _ => self.type_error(&child, "absent (only str or integer)"),
                    }
                }
            }
            _ => self.type_error(path, "a whole number or a string"),
        }
    }

    fn check_count(&mut self, node: &Node, n: usize, path: &ValuePath) {
        let n = n as u64;
        if node.min_items.is_some_and(|m| n < m) || node.max_items.is_some_and(|m| n > m) {
            self.report(
                path,
                "Invalid policy attribute value",
                format!(
                    "{path} has {n} elements; a {} spec needs {}.",
                    self.kind,
                    bounds_text(node.min_items, node.max_items, "elements")
                ),
                None,
            );
        }
    }

    fn check_string(&mut self, node: &Node, s: &str, path: &ValuePath) {
        if !node.one_of.is_empty() && !node.one_of.iter().any(|v| v == s) {
            let allowed: Vec<String> = node.one_of.iter().map(|v| format!("{v:?}")).collect();
            let candidates: Vec<&str> = node.one_of.iter().map(String::as_str).collect();
            self.report(
                path,
                "Invalid Attribute Value Match",
                format!(
                    "{path} value must be one of: [{}], got: {s:?} ({} spec).",
                    allowed.join(" "),
                    self.kind
                ),
                closest(s, &candidates).map(|c| format!("Did you mean {c:?}?")),
            );
            return;
        }
        let len = s.chars().count() as u64;
        if node.min_len.is_some_and(|m| len < m) || node.max_len.is_some_and(|m| len > m) {
            self.report(
                path,
                "Invalid policy attribute value",
                format!(
                    "{path} is {len} characters long; it must have {}.",
                    bounds_text(node.min_len, node.max_len, "characters")
                ),
                None,
            );
        }
        if let Some(re) = &node.pattern {
            if !re.is_match(s) {
                self.report(
                    path,
                    "Invalid policy attribute value",
                    format!(
                        "{path} value {s:?} does not match the pattern {}.",
                        re.as_str()
                    ),
                    None,
                );
            }
        }
    }

    fn check_number(&mut self, node: &Node, n: f64, path: &ValuePath) {
        if node.kind == NodeKind::Integer && n.fract() != 0.0 {
            return self.type_error(path, "a whole number");
        }
        if node.min.is_some_and(|m| n < m) || node.max.is_some_and(|m| n > m) {
            let range = match (node.min, node.max) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
                (Some(lo), None) => format!("at least {lo}"),
                (None, Some(hi)) => format!("at most {hi}"),
                (None, None) => String::new(),
            };
            self.report(
                path,
                "Invalid policy attribute value",
                format!("{path} is {n}; it must be {range}."),
                None,
            );
        }
    }
}

fn bounds_text(min: Option<u64>, max: Option<u64>, unit: &str) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("between {lo} and {hi} {unit}"),
        (Some(lo), None) => format!("at least {lo} {unit}"),
        (None, Some(hi)) => format!("at most {hi} {unit}"),
        (None, None) => format!("any number of {unit}"),
    }
}

/// The candidate closest to a misspelt value, when it is close enough to
/// be a likely typo.
fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&given.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(kind: &str, naming: Naming, spec: Json, expected: &[(&str, &str)]) {
        let tables = PolicyTables::load().unwrap();
        let problems = tables.validate_policy_spec(kind, &spec, naming);
        let got: Vec<(String, String)> = problems
            .iter()
            .map(|p| (p.path.to_string(), p.diagnostic.detail.clone()))
            .collect();
        assert_eq!(got.len(), expected.len(), "{got:#?}");
        for ((path, detail), (want_path, want_detail)) in got.iter().zip(expected) {
            assert_eq!(path, want_path);
            assert!(detail.contains(want_detail), "{detail} lacks {want_detail}");
        }
    }

    #[test]
    fn every_kuma_policy_has_a_table() {
        let tables = PolicyTables::load().unwrap();
        assert_eq!(tables.kinds().count(), 16);
        assert_eq!(
            tables.kind_of_resource("konnect_mesh_traffic_permission"),
            Some("MeshTrafficPermission")
        );
        assert_eq!(tables.kind_of_resource("konnect_mesh"), None);
    }

    #[test]
    fn the_guides_policy_is_valid() {
        check(
            "MeshTrafficPermission",
            Naming::Terraform,
            json!({"from": [{"target_ref": {"kind": "Mesh", "labels": null}, "default": {"action": "Allow"}}],
                   "target_ref": null}),
            &[],
        );
        check(
            "MeshTrafficPermission",
            Naming::Kuma,
            json!({"from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]}),
            &[],
        );
    }

    #[test]
    fn misspelt_action_lists_the_allowed_values() {
        let tables = PolicyTables::load().unwrap();
        let spec =
            json!({"from": [{"target_ref": {"kind": "Mesh"}, "default": {"action": "Alow"}}]});
        let problems =
            tables.validate_policy_spec("MeshTrafficPermission", &spec, Naming::Terraform);
        assert_eq!(problems.len(), 1);
        let p = &problems[0];
        assert_eq!(p.path.to_string(), "spec.from[0].default.action");
        assert_eq!(
            p.path.0,
            [
                PathStep::Attr("spec".into()),
                PathStep::Attr("from".into()),
                PathStep::Index(0),
                PathStep::Attr("default".into()),
                PathStep::Attr("action".into())
            ]
        );
        assert_eq!(
            p.diagnostic.detail,
            "spec.from[0].default.action value must be one of: [\"Allow\" \"Deny\" \
             \"AllowWithShadowDeny\"], got: \"Alow\" (MeshTrafficPermission spec)."
        );
        assert_eq!(
            p.diagnostic.suggestion.as_deref(),
            Some("Did you mean \"Allow\"?")
        );
    }

    #[test]
    fn unknown_target_ref_kind() {
        check(
            "MeshTrafficPermission",
            Naming::Terraform,
            json!({"target_ref": {"kind": "MeshZone"}}),
            &[(
                "spec.target_ref.kind",
                "must be one of: [\"Mesh\" \"MeshSubset\"",
            )],
        );
    }

    #[test]
    fn required_members_and_types() {
        check(
            "MeshTrafficPermission",
            Naming::Terraform,
            json!({"from": [{"default": {"action": "Deny"}}, {"target_ref": {"kind": "Mesh", "proxy_types": []}}]}),
            &[
                ("spec.from[0]", "spec.from[0].target_ref is required"),
                ("spec.from[1].target_ref.proxy_types", "has 0 elements"),
            ],
        );
        check(
            "MeshTrafficPermission",
            Naming::Kuma,
            json!({"from": {"targetRef": {"kind": "Mesh"}}}),
            &[("spec.from", "must be a list")],
        );
    }

    #[test]
    fn unknown_kuma_members_warn_with_a_suggestion() {
        let tables = PolicyTables::load().unwrap();
        let spec = json!({"form": []});
        let problems = tables.validate_policy_spec("MeshTrafficPermission", &spec, Naming::Kuma);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].diagnostic.severity,
            meshform_lang::Severity::Warning
        );
        assert_eq!(
            problems[0].diagnostic.suggestion.as_deref(),
            Some("Did you mean \"from\"?")
        );
    }

    #[test]
    fn numbers_ranges_and_unions() {
        // MeshCircuitBreaker: int-or-string as a {str, integer} object in
        // Terraform, a bare value in Kuma.
        let tf = json!({"to": [{"target_ref": {"kind": "Mesh"}, "default": {"outlier_detection": {
            "detectors": {"success_rate": {"standard_deviation_factor": {"str": "1.9", "integer": 2}}}}}}]});
        check(
            "MeshCircuitBreaker",
            Naming::Terraform,
            tf,
            &[(
                "spec.to[0].default.outlier_detection.detectors.success_rate.standard_deviation_factor",
                "sets both",
            )],
        );
        let kuma = json!({"to": [{"targetRef": {"kind": "Mesh"}, "default": {"outlierDetection": {
            "detectors": {"successRate": {"standardDeviationFactor": "1.9"}}}}}]});
        check("MeshCircuitBreaker", Naming::Kuma, kuma, &[]);
    }

    #[test]
    fn patterns_are_checked() {
        // MeshHealthCheck: HTTP header names follow the RFC token pattern.
        let spec = json!({"to": [{"targetRef": {"kind": "Mesh"}, "default": {"http": {
            "requestHeadersToAdd": {"add": [{"name": "Bad Header", "value": "x"}]}}}}]});
        check(
            "MeshHealthCheck",
            Naming::Kuma,
            spec,
            &[(
                "spec.to[0].default.http.requestHeadersToAdd.add[0].name",
                "does not match the pattern",
            )],
        );
    }

    #[test]
    fn lang_values_are_checked_and_unknowns_skipped() {
        use meshform_lang::Type;
        use std::collections::BTreeMap;
        let obj = |pairs: Vec<(&str, Value)>| {
            Value::object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        let spec = |action: Value| {
            obj(vec![(
                "from",
                Value::list(
                    Type::Dynamic,
                    vec![obj(vec![
                        ("target_ref", obj(vec![("kind", Value::string("Mesh"))])),
                        ("default", obj(vec![("action", action)])),
                    ])],
                ),
            )])
        };
        let tables = PolicyTables::load().unwrap();
        let unknown = spec(Value::unknown(Type::String));
        assert!(tables
            .validate_policy_spec("MeshTrafficPermission", &unknown, Naming::Terraform)
            .is_empty());
        let wrong = spec(Value::string("Alow"));
        let problems =
            tables.validate_policy_spec("MeshTrafficPermission", &wrong, Naming::Terraform);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path.to_string(), "spec.from[0].default.action");
    }

    #[test]
    fn unknown_kinds_and_unknown_values_pass() {
        let tables = PolicyTables::load().unwrap();
        assert!(tables
            .validate_policy_spec("NoSuchPolicy", &json!({"x": 1}), Naming::Kuma)
            .is_empty());
    }
}

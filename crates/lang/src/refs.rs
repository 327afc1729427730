//! References: every traversal an expression reads from the root scope
//! (`var.x`, `local.y`, `module.m.out`, `data.t.n`, `t.n`, `each.key`,
//! `count.index`, `self`, `path.module`, `terraform.workspace`), with its
//! source span, so that the engine can build its dependency graph and
//! configuration validation can report undeclared names.

use std::ops::Range;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::ForTemplateExpr;
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span;

use crate::diag::SourceRange;
use crate::eval::SourceFile;

/// One step after the root name of a reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefStep {
    /// `.name`
    Attr(String),
    /// `["key"]`
    Key(String),
    /// `[0]` or the legacy `.0`
    Index(u64),
}

/// A traversal read from the root scope. Steps stop at the first splat or
/// computed index: the prefix is what the expression depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The root name (`var`, `local`, `module`, `data`, a resource type, ...).
    pub root: String,
    pub steps: Vec<RefStep>,
    /// The byte span of the traversal in its source.
    pub span: Option<Range<usize>>,
}

impl Reference {
    /// The reference as Terraform prints it: `var.x`, `data.t.n`, `t.n[0]`.
    pub fn display(&self) -> String {
        let mut s = self.root.clone();
        for step in &self.steps {
            match step {
                RefStep::Attr(a) => {
                    s.push('.');
                    s.push_str(a);
                }
                RefStep::Key(k) => s.push_str(&format!("[{k:?}]")),
                RefStep::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// The first attribute name after the root (`x` of `var.x`).
    pub fn first_attr(&self) -> Option<&str> {
        match self.steps.first() {
            Some(RefStep::Attr(a)) => Some(a),
            _ => None,
        }
    }

    /// The source range of this reference in `source`.
    pub fn source_range(&self, source: &SourceFile) -> Option<SourceRange> {
        self.span.clone().map(|s| source.range(s))
    }
}

/// Every root-scope traversal `expr` reads, in source order. Names bound by
/// `for` expressions and template `for` directives are not references.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let mut c = Collector::default();
    c.visit_expr(expr);
    c.out
}

/// Every root-scope traversal a template reads (`templatefile` checks them
/// against its vars before rendering).
pub(crate) fn template_references(t: &hcl_edit::template::Template) -> Vec<Reference> {
    let mut c = Collector::default();
    c.visit_template(t);
    c.out
}

#[derive(Default)]
struct Collector {
    out: Vec<Reference>,
    scopes: Vec<Vec<String>>,
}

impl Collector {
    fn is_local(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.iter().any(|n| n == name))
    }
}

impl Visit for Collector {
    fn visit_expr(&mut self, e: &Expression) {
        match e {
            Expression::Variable(v) => {
                if !self.is_local(v.as_str()) {
                    self.out.push(Reference {
                        root: v.as_str().to_owned(),
                        steps: Vec::new(),
                        span: e.span(),
                    });
                }
            }
            Expression::Traversal(t) => {
                if let Expression::Variable(root) = &t.expr {
                    if !self.is_local(root.as_str()) {
                        let mut steps = Vec::new();
                        let mut end = root.span().map(|s| s.end);
                        for op in &t.operators {
                            let step = match op.value() {
                                TraversalOperator::GetAttr(id) => {
                                    Some(RefStep::Attr(id.as_str().to_owned()))
                                }
                                TraversalOperator::LegacyIndex(i) => {
                                    Some(RefStep::Index(*i.value()))
                                }
                                TraversalOperator::Index(Expression::String(s)) => {
                                    Some(RefStep::Key(s.value().clone()))
                                }
                                TraversalOperator::Index(Expression::Number(n)) => {
                                    n.value().as_u64().map(RefStep::Index)
                                }
                                _ => None,
                            };
                            match step {
                                Some(s) => {
                                    steps.push(s);
                                    if let Some(sp) = op.span() {
                                        end = Some(sp.end);
                                    }
                                }
                                None => break,
                            }
                        }
                        let span = match (root.span(), end) {
                            (Some(s), Some(end)) => Some(s.start..end),
                            _ => e.span(),
                        };
                        self.out.push(Reference {
                            root: root.as_str().to_owned(),
                            steps,
                            span,
                        });
                    }
                    for op in &t.operators {
                        visit::visit_traversal_operator(self, op.value());
                    }
                } else {
                    visit::visit_traversal(self, t);
                }
            }
            Expression::ForExpr(f) => {
                self.visit_expr(&f.intro.collection_expr);
                let mut names = vec![f.intro.value_var.as_str().to_owned()];
                if let Some(k) = &f.intro.key_var {
                    names.push(k.as_str().to_owned());
                }
                self.scopes.push(names);
                if let Some(k) = &f.key_expr {
                    self.visit_expr(k);
                }
                self.visit_expr(&f.value_expr);
                if let Some(c) = &f.cond {
                    self.visit_expr(&c.expr);
                }
                self.scopes.pop();
            }
            _ => visit::visit_expr(self, e),
        }
    }

    fn visit_for_template_expr(&mut self, node: &ForTemplateExpr) {
        self.visit_expr(&node.collection_expr);
        let mut names = vec![node.value_var.as_str().to_owned()];
        if let Some(k) = &node.key_var {
            names.push(k.as_str().to_owned());
        }
        self.scopes.push(names);
        self.visit_template(&node.template);
        self.scopes.pop();
    }
}

/// The candidate closest to `name` by edit distance, when it is close
/// enough to be a likely typo (distance below 3, as Terraform suggests).
pub fn suggest<'a, S: AsRef<str> + ?Sized + 'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a S>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let c = c.as_ref();
        let d = strsim::levenshtein(name, c);
        if d < 3 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        references(&e).iter().map(Reference::display).collect()
    }

    #[test]
    fn collects_root_traversals_and_skips_locals() {
        assert_eq!(
            refs(r#"[for k, v in var.m : "${k}-${local.p}-${konnect_mesh.default.id}"]"#),
            ["var.m", "local.p", "konnect_mesh.default.id"]
        );
        assert_eq!(refs("data.t.n[count.index].x"), ["data.t.n", "count.index"]);
        assert_eq!(refs("module.m.out[\"k\"]"), ["module.m.out[\"k\"]"]);
        assert_eq!(refs("a.b.*.c"), ["a.b"]);
        assert_eq!(
            refs("\"%{ for s in var.subnets }${s}%{ endfor }\""),
            ["var.subnets"]
        );
    }

    #[test]
    fn reference_spans_cover_the_traversal() {
        let src = "upper(var.name)";
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        let r = &references(&e)[0];
        assert_eq!(&src[r.span.clone().unwrap()], "var.name");
    }

    #[test]
    fn suggestions_need_a_close_name() {
        let names = ["mesh1", "mesh2", "zone"];
        assert_eq!(suggest("mesh", &names), Some("mesh1".to_owned()));
        assert_eq!(suggest("cluster", &names), None);
    }
}

//! The dependency graph of a configuration: one node per variable, local,
//! output, resource, module call and provider configuration, in every
//! module; an edge from each object to everything it reads.
//!
//! Building the graph also checks every reference statically ("Reference to
//! undeclared resource"), and a cycle is reported naming all its members.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use petgraph::graph::{DiGraph, NodeIndex};

use meshform_config::{Content, Expr, Module, ProviderRef};
use meshform_lang::addr::{Resource, ResourceMode};
use meshform_lang::{Diagnostic, Diagnostics};

use meshform_lang::{references, suggest, RefStep, Reference as Ref};

/// A configuration object in a (static) module path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// Module call names from the root (`[]` for the root module).
    pub module: Vec<String>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Variable(String),
    Local(String),
    Output(String),
    Resource(Resource),
    ModuleCall(String),
    /// A provider configuration: local name and alias.
    Provider(String, Option<String>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.module {
            write!(f, "module.{m}.")?;
        }
        match &self.kind {
            NodeKind::Variable(n) => write!(f, "var.{n}"),
            NodeKind::Local(n) => write!(f, "local.{n}"),
            NodeKind::Output(n) => write!(f, "output.{n}"),
            NodeKind::Resource(r) => write!(f, "{r}"),
            NodeKind::ModuleCall(n) => write!(f, "module.{n}"),
            NodeKind::Provider(n, None) => write!(f, "provider.{n}"),
            NodeKind::Provider(n, Some(a)) => write!(f, "provider.{n}.{a}"),
        }
    }
}

/// The graph: edges point from a dependency to its dependent, so a
/// topological order visits dependencies first.
#[derive(Debug, Default)]
pub struct Graph {
    pub graph: DiGraph<Node, ()>,
    index: HashMap<Node, NodeIndex>,
    /// The edges already present: petgraph's `find_edge` walks all of a
    /// node's edges, and a mesh can have ten thousand policies.
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl Graph {
    pub fn node(&self, n: &Node) -> Option<NodeIndex> {
        self.index.get(n).copied()
    }

    fn add(&mut self, n: Node) -> NodeIndex {
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    fn add_ref(&mut self, n: &Node) -> NodeIndex {
        match self.index.get(n) {
            Some(i) => *i,
            None => self.add(n.clone()),
        }
    }

    /// Adds `from → to` once. A self-reference is kept: it is a cycle of
    /// one, to be reported.
    fn edge(&mut self, from: &Node, to: &Node) {
        let (a, b) = (self.add_ref(from), self.add_ref(to));
        if self.edges.insert((a, b)) {
            self.graph.add_edge(a, b, ());
        }
    }

    /// Nodes in an order where every node comes after what it depends on;
    /// `Err` names the members of each cycle.
    pub fn order(&self) -> Result<Vec<NodeIndex>, Diagnostics> {
        let mut diags = Diagnostics::default();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            let cyclic = scc.len() > 1
                || scc
                    .first()
                    .is_some_and(|n| self.graph.find_edge(*n, *n).is_some());
            if cyclic {
                let mut names: Vec<String> =
                    scc.iter().map(|i| self.graph[*i].to_string()).collect();
                names.sort();
                diags.push(Diagnostic::error(
                    format!("Cycle: {}", names.join(", ")),
                    "The configuration refers to itself in a loop: each object listed depends, directly or through the others, on itself. Remove one of the references to break the cycle.",
                ));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        // tarjan_scc returns components in reverse topological order of the
        // edges' direction; with no cycles each component is one node.
        let mut order = petgraph::algo::toposort(&self.graph, None)
            .map_err(|_| Diagnostics::from(Diagnostic::error("Cycle in the configuration", "")))?;
        order.shrink_to_fit();
        Ok(order)
    }

    /// The direct dependencies of `n`.
    pub fn dependencies(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
    }

    /// The nodes that depend directly on `n`.
    pub fn dependents(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph
            .neighbors_directed(n, petgraph::Direction::Outgoing)
    }
}

/// Builds the graph of `root` and all loaded child modules, reporting
/// undeclared references.
pub fn build(root: &Module) -> (Graph, Diagnostics) {
    let mut b = Builder {
        root,
        graph: Graph::default(),
        diags: Diagnostics::default(),
    };
    b.module(root, &[], None);
    (b.graph, b.diags)
}

struct Builder<'r> {
    root: &'r Module,
    graph: Graph,
    diags: Diagnostics,
}

/// Where a module sits: its parent and the call that made it.
struct Caller<'a> {
    parent: &'a Module,
    call: &'a meshform_config::ModuleCall,
}

impl Builder<'_> {
    fn module(&mut self, m: &Module, path: &[String], caller: Option<Caller<'_>>) {
        let node = |kind: NodeKind| Node {
            module: path.to_vec(),
            kind,
        };
        let parent_path = path.split_last().map(|(_, p)| p.to_vec());
        for v in m.variables.values() {
            let n = node(NodeKind::Variable(v.name.clone()));
            self.graph.add(n.clone());
            if let (Some(c), Some(pp)) = (&caller, &parent_path) {
                if let Some(arg) = c.call.config.attr(&v.name) {
                    self.expr_deps(
                        &n,
                        &arg.expr,
                        c.parent,
                        pp,
                        &format!("module {:?}", c.call.name),
                    );
                }
                // Inputs also wait for the call's own expansion.
                self.graph.edge(
                    &Node {
                        module: pp.clone(),
                        kind: NodeKind::ModuleCall(c.call.name.clone()),
                    },
                    &n,
                );
            }
            for rule in &v.validations {
                self.expr_deps(
                    &n,
                    &rule.condition,
                    m,
                    path,
                    &format!("variable {:?}", v.name),
                );
            }
        }
        if let Some(c) = &caller {
            for arg in c.call.config.attrs.values() {
                if !m.variables.contains_key(&arg.name) {
                    let mut d = Diagnostic::error(
                        "Unsupported argument",
                        format!("An argument named {:?} is not expected here.", arg.name),
                    )
                    .with_subject(arg.name_range.clone())
                    .with_context(format!("module {:?}", c.call.name));
                    if let Some(s) = suggest(&arg.name, m.variables.keys()) {
                        d = d.with_suggestion(format!("Did you mean {s:?}?"));
                    }
                    self.diags.push(d);
                }
            }
            for v in m.variables.values() {
                if v.default.is_none() && c.call.config.attr(&v.name).is_none() {
                    self.diags.push(
                        Diagnostic::error(
                            "Missing required argument",
                            format!(
                                "The argument {:?} is required, but no definition was found.",
                                v.name
                            ),
                        )
                        .with_subject(c.call.decl_range.clone()),
                    );
                }
            }
        }
        for l in m.locals.values() {
            let n = node(NodeKind::Local(l.name.clone()));
            self.graph.add(n.clone());
            self.expr_deps(&n, &l.expr, m, path, "locals");
        }
        for o in m.outputs.values() {
            let n = node(NodeKind::Output(o.name.clone()));
            self.graph.add(n.clone());
            let ctx = format!("output {:?}", o.name);
            if let Some(v) = &o.value {
                self.expr_deps(&n, v, m, path, &ctx);
            }
            for d in &o.depends_on {
                self.expr_deps(&n, d, m, path, &ctx);
            }
            for rule in &o.preconditions {
                self.expr_deps(&n, &rule.condition, m, path, &ctx);
            }
        }
        for p in &m.providers {
            let n = node(NodeKind::Provider(p.name.clone(), p.alias.clone()));
            self.graph.add(n.clone());
            self.content_deps(&n, &p.config, m, path, &format!("provider {:?}", p.name));
        }
        for r in m.resources.values() {
            let addr = Resource {
                mode: r.mode,
                ty: r.ty.clone(),
                name: r.name.clone(),
            };
            let n = node(NodeKind::Resource(addr));
            self.graph.add(n.clone());
            let ctx = r.block_label();
            for e in [&r.count, &r.for_each].into_iter().flatten() {
                self.expr_deps(&n, e, m, path, &ctx);
            }
            self.content_deps(&n, &r.config, m, path, &ctx);
            for d in &r.depends_on {
                self.expr_deps(&n, d, m, path, &ctx);
            }
            let lc = &r.lifecycle;
            if let Some(e) = &lc.replace_triggered_by {
                self.expr_deps(&n, e, m, path, &ctx);
            }
            for rule in lc.preconditions.iter().chain(&lc.postconditions) {
                self.expr_deps_allowing_self(&n, &rule.condition, m, path, &ctx);
            }
            // The provider configuration this resource uses, when declared.
            // (its own, passed by the module call, or inherited).
            let pref = r.provider_ref();
            match crate::provider_configs::resolve(self.root, path, &pref) {
                Some(config) => {
                    let pnode = Node {
                        module: config.module,
                        kind: NodeKind::Provider(config.name, config.alias),
                    };
                    if self.graph.node(&pnode).is_some() {
                        self.graph.edge(&pnode, &n);
                    }
                }
                None => self.diags.push(undeclared_provider(&pref, r)),
            }
        }
        if path.is_empty() {
            // An import block's ID is evaluated while its target is
            // planned, so the target waits for what the ID references.
            let (targets, _) = crate::imports::import_targets(m);
            for t in targets.values() {
                let n = Node {
                    module: t.to.module.call_names(),
                    kind: NodeKind::Resource(t.to.resource.clone()),
                };
                self.expr_deps(&n, &t.id, m, path, "import");
            }
        }
        for call in m.module_calls.values() {
            let n = node(NodeKind::ModuleCall(call.name.clone()));
            self.graph.add(n.clone());
            let ctx = format!("module {:?}", call.name);
            for e in [&call.count, &call.for_each].into_iter().flatten() {
                self.expr_deps(&n, e, m, path, &ctx);
            }
            for d in &call.depends_on {
                self.expr_deps(&n, d, m, path, &ctx);
            }
            if let Some(child) = &call.module {
                let mut child_path = path.to_vec();
                child_path.push(call.name.clone());
                self.module(child, &child_path, Some(Caller { parent: m, call }));
            }
        }
    }

    fn content_deps(&mut self, n: &Node, c: &Content, m: &Module, path: &[String], ctx: &str) {
        self.content_deps_in(n, c, m, path, ctx, &mut Vec::new());
    }

    /// `iterators` holds the names `dynamic` blocks bind around `c`
    /// (`rule` in `rule.value`), which are not references to resources.
    fn content_deps_in(
        &mut self,
        n: &Node,
        c: &Content,
        m: &Module,
        path: &[String],
        ctx: &str,
        iterators: &mut Vec<String>,
    ) {
        for a in c.attrs.values() {
            self.expr_deps_scoped(n, &a.expr, m, path, ctx, iterators);
        }
        for b in &c.blocks {
            if b.ty != "dynamic" {
                self.content_deps_in(n, &b.body, m, path, ctx, iterators);
                continue;
            }
            let name = b
                .body
                .attr("iterator")
                .and_then(|a| match &a.expr.expr {
                    meshform_lang::hcl_edit::expr::Expression::Variable(v) => {
                        Some(v.as_str().to_owned())
                    }
                    _ => None,
                })
                .or_else(|| b.labels.first().cloned())
                .unwrap_or_default();
            // for_each is outside the iterator's scope.
            if let Some(fe) = b.body.attr("for_each") {
                self.expr_deps_scoped(n, &fe.expr, m, path, ctx, iterators);
            }
            iterators.push(name);
            for (attr_name, a) in &b.body.attrs {
                if attr_name != "for_each" && attr_name != "iterator" {
                    self.expr_deps_scoped(n, &a.expr, m, path, ctx, iterators);
                }
            }
            for inner in &b.body.blocks {
                self.content_deps_in(n, &inner.body, m, path, ctx, iterators);
            }
            iterators.pop();
        }
    }

    fn expr_deps_scoped(
        &mut self,
        n: &Node,
        e: &Expr,
        m: &Module,
        path: &[String],
        ctx: &str,
        iterators: &[String],
    ) {
        for r in references(&e.expr) {
            if !iterators.contains(&r.root) {
                self.resolve_into(n, &r, e, m, path, ctx, false);
            }
        }
    }

    fn expr_deps(&mut self, n: &Node, e: &Expr, m: &Module, path: &[String], ctx: &str) {
        self.expr_deps_inner(n, e, m, path, ctx, false);
    }

    fn expr_deps_allowing_self(
        &mut self,
        n: &Node,
        e: &Expr,
        m: &Module,
        path: &[String],
        ctx: &str,
    ) {
        self.expr_deps_inner(n, e, m, path, ctx, true);
    }

    fn expr_deps_inner(
        &mut self,
        n: &Node,
        e: &Expr,
        m: &Module,
        path: &[String],
        ctx: &str,
        self_ok: bool,
    ) {
        for r in references(&e.expr) {
            self.resolve_into(n, &r, e, m, path, ctx, self_ok);
        }
    }

    /// Adds the edges of one reference, or its diagnostic.
    #[allow(clippy::too_many_arguments)]
    fn resolve_into(
        &mut self,
        n: &Node,
        r: &Ref,
        e: &Expr,
        m: &Module,
        path: &[String],
        ctx: &str,
        self_ok: bool,
    ) {
        match resolve(r, m, path) {
            Ok(targets) => {
                for t in targets {
                    self.graph.edge(&t, n);
                }
            }
            Err(Unresolved::Ignore) => {}
            Err(Unresolved::SelfRef) if self_ok => {}
            Err(Unresolved::SelfRef) => {}
            Err(Unresolved::Error(d)) => {
                let mut d = *d;
                d.subject = Some(e.file.range(r.span.clone().unwrap_or(0..0)));
                d.context = Some(ctx.to_owned());
                self.diags.push(d);
            }
        }
    }
}

enum Unresolved {
    /// A reference to something that is not a graph node (`path`, `each`…).
    Ignore,
    SelfRef,
    Error(Box<Diagnostic>),
}

fn module_phrase(path: &[String]) -> String {
    if path.is_empty() {
        "the root module".to_owned()
    } else {
        let p: Vec<String> = path.iter().map(|m| format!("module.{m}")).collect();
        p.join(".")
    }
}

/// The graph nodes a reference reads.
fn resolve(r: &Ref, m: &Module, path: &[String]) -> Result<Vec<Node>, Unresolved> {
    let node = |kind: NodeKind| Node {
        module: path.to_vec(),
        kind,
    };
    match r.root.as_str() {
        "count" | "each" | "path" | "terraform" => Err(Unresolved::Ignore),
        "self" => Err(Unresolved::SelfRef),
        "var" => {
            let Some(name) = step_name(r, 0) else {
                return Err(invalid_reference("var", "input variable"));
            };
            if m.variables.contains_key(name) {
                Ok(vec![node(NodeKind::Variable(name.to_owned()))])
            } else {
                let mut d = Diagnostic::error(
                    "Reference to undeclared input variable",
                    format!(
                        "An input variable with the name {name:?} has not been declared. This variable can be declared with a variable {name:?} {{}} block."
                    ),
                );
                if let Some(s) = suggest(name, m.variables.keys()) {
                    d = d.with_suggestion(format!("Did you mean var.{s}?"));
                }
                Err(Unresolved::Error(Box::new(d)))
            }
        }
        "local" => {
            let Some(name) = step_name(r, 0) else {
                return Err(invalid_reference("local", "local value"));
            };
            if m.locals.contains_key(name) {
                Ok(vec![node(NodeKind::Local(name.to_owned()))])
            } else {
                let mut d = Diagnostic::error(
                    "Reference to undeclared local value",
                    format!("A local value with the name {name:?} has not been declared."),
                );
                if let Some(s) = suggest(name, m.locals.keys()) {
                    d = d.with_suggestion(format!("Did you mean local.{s}?"));
                }
                Err(Unresolved::Error(Box::new(d)))
            }
        }
        "module" => {
            let Some(name) = step_name(r, 0) else {
                return Err(invalid_reference("module", "module call"));
            };
            let Some(call) = m.module_calls.get(name) else {
                let mut d = Diagnostic::error(
                    "Reference to undeclared module",
                    format!(
                        "No module call named {name:?} is declared in {}.",
                        module_phrase(path)
                    ),
                );
                if let Some(s) = suggest(name, m.module_calls.keys()) {
                    d = d.with_suggestion(format!("Did you mean module.{s}?"));
                }
                return Err(Unresolved::Error(Box::new(d)));
            };
            let mut child_path = path.to_vec();
            child_path.push(name.to_owned());
            let mut out = vec![node(NodeKind::ModuleCall(name.to_owned()))];
            let Some(child) = &call.module else {
                return Ok(out);
            };
            // With count/for_each the next step is an instance key.
            let attr_step = if call.count.is_some() || call.for_each.is_some() {
                2
            } else {
                1
            };
            match step_name(r, attr_step) {
                Some(out_name)
                    if r.steps
                        .get(attr_step)
                        .is_some_and(|s| matches!(s, RefStep::Attr(_))) =>
                {
                    if child.outputs.contains_key(out_name) {
                        out.push(Node {
                            module: child_path,
                            kind: NodeKind::Output(out_name.to_owned()),
                        });
                    } else {
                        return Err(Unresolved::Error(Box::new(Diagnostic::error(
                            "Unsupported attribute",
                            format!(
                                "This object does not have an attribute named {out_name:?}: module {name:?} declares no such output."
                            ),
                        ))));
                    }
                }
                _ => {
                    for o in child.outputs.keys() {
                        out.push(Node {
                            module: child_path.clone(),
                            kind: NodeKind::Output(o.clone()),
                        });
                    }
                }
            }
            Ok(out)
        }
        "data" => {
            let (Some(ty), Some(name)) = (step_name(r, 0), step_name(r, 1)) else {
                return Err(invalid_reference("data", "data resource"));
            };
            resolve_resource(m, path, ResourceMode::Data, ty, name)
        }
        ty => {
            let Some(name) = step_name(r, 0) else {
                return Err(Unresolved::Error(Box::new(Diagnostic::error(
                    "Invalid reference",
                    "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.",
                ))));
            };
            resolve_resource(m, path, ResourceMode::Managed, ty, name)
        }
    }
}

fn resolve_resource(
    m: &Module,
    path: &[String],
    mode: ResourceMode,
    ty: &str,
    name: &str,
) -> Result<Vec<Node>, Unresolved> {
    let addr = Resource {
        mode,
        ty: ty.to_owned(),
        name: name.to_owned(),
    };
    if m.resources.contains_key(&addr.to_string()) {
        return Ok(vec![Node {
            module: path.to_vec(),
            kind: NodeKind::Resource(addr),
        }]);
    }
    let what = match mode {
        ResourceMode::Managed => "A managed resource",
        ResourceMode::Data => "A data resource",
    };
    let mut d = Diagnostic::error(
        "Reference to undeclared resource",
        format!(
            "{what} {ty:?} {name:?} has not been declared in {}.",
            module_phrase(path)
        ),
    );
    let same_mode: BTreeSet<String> = m
        .resources
        .values()
        .filter(|r| r.mode == mode)
        .map(|r| r.address())
        .collect();
    if let Some(s) = suggest(&addr.to_string(), same_mode.iter()) {
        d = d.with_suggestion(format!("Did you mean {s}?"));
    }
    Err(Unresolved::Error(Box::new(d)))
}

fn invalid_reference(root: &str, what: &str) -> Unresolved {
    Unresolved::Error(Box::new(Diagnostic::error(
        "Invalid reference",
        format!("The {root:?} object cannot be accessed directly. Instead, access one of its attributes, naming the {what}."),
    )))
}

fn undeclared_provider(pref: &ProviderRef, r: &meshform_config::Resource) -> Diagnostic {
    let mut d = Diagnostic::error(
        "Provider configuration not present",
        format!(
            "The resource {} uses the provider configuration {pref}, but no provider {:?} block with alias = {:?} is declared.",
            r.address(),
            pref.name,
            pref.alias.as_deref().unwrap_or("")
        ),
    );
    d.subject = r.provider_range.clone();
    d.context = Some(r.block_label());
    d
}

/// A map from nodes to things, in node order; handy for walks.
pub type NodeMap<T> = BTreeMap<Node, T>;

/// The name at step `i` of a reference (`x` of `var.x`, `k` of `a["k"]`).
fn step_name(r: &Ref, i: usize) -> Option<&str> {
    match r.steps.get(i)? {
        RefStep::Attr(a) | RefStep::Key(a) => Some(a),
        RefStep::Index(_) => None,
    }
}

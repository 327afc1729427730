//! The only module that knows the template engine (`gotmpl`). It turns a set
//! of named sources into one executable template set and adds what Helm
//! needs on top of Go's text/template:
//!
//! * every call of a registered function is tied to its call site, so a
//!   failing function is reported with template, line and column (gotmpl's
//!   run-time errors carry no position);
//! * calls of unknown functions are refused when parsing, as Go does;
//! * method calls on built-in objects (`.Capabilities.APIVersions.Has "x"`,
//!   `.Files.Get "f"`) become calls of an internal `__method` function,
//!   because gotmpl only calls functions;
//! * `set`/`unset`/`merge`/`mergeOverwrite` on a `$variable` write the result
//!   back to the variable, because Go mutates the map in place and gotmpl's
//!   values are immutable;
//! * `include` and `tpl` reach the set through a weak handle.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use gotmpl::parse::{
    ActionNode, BranchNode, CommandNode, Expr, ListNode, Node, Parser, PipeNode, Pos, SmolStr,
};
use gotmpl::{FuncMap, Template, TemplateError, Value, ValueFunc};

use crate::error::{HelmError, TemplateLocation};

/// Go's built-in template functions (gotmpl provides them).
const BUILTINS: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js",
    "urlquery", "call", "eq", "ne", "lt", "le", "gt", "ge",
];

/// Names that end a field chain and are really method calls on Helm's objects.
const METHODS: &[&str] = &[
    "Has",
    "Get",
    "GetBytes",
    "Glob",
    "Lines",
    "AsConfig",
    "AsSecrets",
];

/// Methods without arguments that are never plain field names.
const NO_ARG_METHODS: &[&str] = &["AsConfig", "AsSecrets"];

/// Functions that mutate their first argument in Go.
const MUTATORS: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
];

/// The function every printing action ends with.
const PRINT: &str = "__print";

/// Nested `include` of one name deeper than this fails, as in Helm.
const MAX_INCLUDE_DEPTH: usize = 1000;

struct Site {
    template: Arc<str>,
    line: usize,
    column: usize,
}

struct Failure {
    site: usize,
    message: String,
}

pub(crate) struct Shared {
    base: FuncMap,
    set: OnceLock<Template>,
    sources: BTreeMap<String, Arc<str>>,
    sites: Mutex<Vec<Site>>,
    failure: Mutex<Option<Failure>>,
    include_depth: Mutex<BTreeMap<String, usize>>,
    tmp_counter: Mutex<usize>,
    /// A handle on this value itself, for the per-call-site wrappers.
    self_weak: Weak<Shared>,
}

/// An executable set of templates.
pub(crate) struct TemplateSet {
    shared: Arc<Shared>,
}

impl TemplateSet {
    /// Parses `files` (name, source) in order; a later `define` of a name
    /// replaces an earlier one unless its body is empty. `funcs` are the
    /// chart functions (Sprig, Helm's); `include` and `tpl` are added here.
    pub(crate) fn build(
        files: &[(String, String)],
        funcs: FuncMap,
    ) -> Result<TemplateSet, HelmError> {
        let shared = Arc::new_cyclic(|weak: &Weak<Shared>| {
            let mut base = funcs;
            base.extend(engine_funcs(weak.clone()));
            base.insert(
                PRINT.to_string(),
                Arc::new(|args: &[Value]| {
                    Ok(match args.last() {
                        Some(Value::Nil) | None => Value::String("<no value>".into()),
                        Some(Value::String(s)) => Value::String(s.clone()),
                        Some(other) => Value::String(super::convert::go_string(other).into()),
                    })
                }),
            );
            Shared {
                base,
                set: OnceLock::new(),
                sources: files
                    .iter()
                    .map(|(n, s)| (n.clone(), Arc::from(s.as_str())))
                    .collect(),
                sites: Mutex::new(Vec::new()),
                failure: Mutex::new(None),
                include_depth: Mutex::new(BTreeMap::new()),
                tmp_counter: Mutex::new(0),
                self_weak: weak.clone(),
            }
        });
        let mut trees: Vec<(String, ListNode)> = Vec::new();
        let mut site_funcs = FuncMap::new();
        for (name, src) in files {
            let parser =
                Parser::with_name(Some(name), src, "{{", "}}").map_err(|e| parse_error(name, e))?;
            let (tree, defines) = parser.parse().map_err(|e| parse_error(name, e))?;
            let tree = shared.instrument(name, tree, &mut site_funcs)?;
            trees.push((name.clone(), tree));
            for def in defines {
                let body = shared.instrument(name, def.body, &mut site_funcs)?;
                trees.push((def.name.to_string(), body));
            }
        }
        let mut template = Template::new("")
            .funcs(shared.base.clone())
            .funcs(site_funcs);
        let mut non_empty: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for (name, tree) in trees {
            let empty = tree.is_empty_tree();
            if empty && non_empty.contains(&name) {
                continue;
            }
            if !empty {
                non_empty.insert(name.clone());
            }
            template = template.add_parse_tree(&name, tree);
        }
        let _ = shared.set.set(template);
        Ok(TemplateSet { shared })
    }

    /// Executes the template `name` with `data` as dot.
    pub(crate) fn execute(&self, name: &str, data: &Value) -> Result<String, HelmError> {
        let Some(set) = self.shared.set.get() else {
            return Err(render_error(
                name,
                0,
                0,
                "the template set is not built".into(),
            ));
        };
        if let Ok(mut f) = self.shared.failure.lock() {
            *f = None;
        }
        if let Ok(mut d) = self.shared.include_depth.lock() {
            d.clear();
        }
        set.execute_template_to_string(name, data)
            .map_err(|e| self.shared.locate(name, &e))
    }

    /// Whether a template of that name exists.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.shared
            .set
            .get()
            .is_some_and(|s| s.lookup(name).is_some())
    }
}

fn parse_error(name: &str, e: TemplateError) -> HelmError {
    match e {
        TemplateError::Parse {
            line, col, message, ..
        }
        | TemplateError::Lex {
            line, col, message, ..
        } => HelmError::Parse {
            location: TemplateLocation {
                template: name.to_string(),
                line,
                column: col,
            },
            message,
        },
        other => HelmError::Parse {
            location: TemplateLocation {
                template: name.to_string(),
                line: 0,
                column: 0,
            },
            message: other.to_string(),
        },
    }
}

fn render_error(template: &str, line: usize, column: usize, message: String) -> HelmError {
    HelmError::Render {
        location: TemplateLocation {
            template: template.to_string(),
            line,
            column,
        },
        message,
    }
}

/// The message of an error raised by a template function.
pub(crate) fn error_message(e: &TemplateError) -> String {
    match e {
        TemplateError::Exec(m) => m.clone(),
        other => other.to_string(),
    }
}

/// A function error with a plain message.
pub(crate) fn fail(message: impl Into<String>) -> TemplateError {
    TemplateError::Exec(message.into())
}

impl Shared {
    fn locate(&self, template: &str, e: &TemplateError) -> HelmError {
        let failure = self.failure.lock().ok().and_then(|mut f| f.take());
        if let Some(f) = failure {
            if let Ok(sites) = self.sites.lock() {
                if let Some(site) = sites.get(f.site) {
                    return render_error(&site.template, site.line, site.column, f.message);
                }
            }
        }
        render_error(template, 0, 0, error_message(e))
    }

    fn source(&self, template: &str) -> Option<Arc<str>> {
        self.sources.get(template).cloned()
    }

    fn next_tmp(&self) -> usize {
        match self.tmp_counter.lock() {
            Ok(mut c) => {
                *c += 1;
                *c
            }
            Err(_) => 0,
        }
    }

    /// Validates function names and rewrites the tree (see the module docs).
    fn instrument(
        &self,
        template: &str,
        tree: ListNode,
        funcs: &mut FuncMap,
    ) -> Result<ListNode, HelmError> {
        let src = self.source(template);
        let mut ctx = Instrument {
            shared: self,
            template: Arc::from(template),
            src,
            funcs,
        };
        ctx.list(tree)
    }

    fn record_failure(&self, site: usize, e: &TemplateError) {
        if let Ok(mut f) = self.failure.lock() {
            if f.is_none() {
                *f = Some(Failure {
                    site,
                    message: error_message(e),
                });
            }
        }
    }
}

struct Instrument<'a> {
    shared: &'a Shared,
    template: Arc<str>,
    src: Option<Arc<str>>,
    funcs: &'a mut FuncMap,
}

impl Instrument<'_> {
    fn column(&self, pos: Pos) -> usize {
        match &self.src {
            Some(s) => {
                let end = pos.offset.min(s.len());
                let Some(before) = s.get(..end) else {
                    return 0;
                };
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                s.get(start..end).map_or(0, |t| t.chars().count()) + 1
            }
            None => 0,
        }
    }

    fn site_for(&mut self, name: &str, pos: Pos) -> Result<String, HelmError> {
        let Some(base) = self.shared.base.get(name).cloned() else {
            return Err(HelmError::UndefinedFunction {
                location: TemplateLocation {
                    template: self.template.to_string(),
                    line: pos.line,
                    column: self.column(pos),
                },
                function: name.to_string(),
            });
        };
        let column = self.column(pos);
        let index = match self.shared.sites.lock() {
            Ok(mut sites) => {
                sites.push(Site {
                    template: self.template.clone(),
                    line: pos.line,
                    column,
                });
                sites.len() - 1
            }
            Err(_) => return Ok(name.to_string()),
        };
        let site_name = format!("{name}#{index}");
        let shared_failure = SiteRecorder {
            shared: self.shared.self_weak.clone(),
        };
        let f: ValueFunc = Arc::new(move |args: &[Value]| match base(args) {
            Ok(v) => Ok(v),
            Err(e) => {
                shared_failure.record(index, &e);
                Err(e)
            }
        });
        self.funcs.insert(site_name.clone(), f);
        Ok(site_name)
    }

    fn list(&mut self, list: ListNode) -> Result<ListNode, HelmError> {
        let mut nodes = Vec::with_capacity(list.nodes.len());
        for node in list.nodes {
            match node {
                Node::Action(action) => {
                    let mut pipe = self.pipe(action.pipe)?;
                    if pipe.decl.is_empty() {
                        // Print as Go does (gotmpl prints floats Rust's way).
                        pipe.commands.push(CommandNode {
                            pos: action.pos,
                            args: vec![Expr::Identifier(action.pos, SmolStr::new(PRINT))],
                        });
                    }
                    let action = ActionNode {
                        pos: action.pos,
                        pipe,
                    };
                    match self.mutation_rewrite(&action) {
                        Some(replacement) => nodes.extend(replacement),
                        None => nodes.push(Node::Action(action)),
                    }
                }
                other => nodes.push(self.node(other)?),
            }
        }
        Ok(ListNode {
            pos: list.pos,
            nodes,
        })
    }

    fn node(&mut self, node: Node) -> Result<Node, HelmError> {
        Ok(match node {
            Node::List(l) => Node::List(self.list(l)?),
            Node::Action(a) => Node::Action(ActionNode {
                pos: a.pos,
                pipe: self.pipe(a.pipe)?,
            }),
            Node::If(b) => Node::If(self.branch(b)?),
            Node::Range(b) => Node::Range(self.branch(b)?),
            Node::With(b) => Node::With(self.branch(b)?),
            Node::Template(mut t) => {
                if let Some(p) = t.pipe.take() {
                    t.pipe = Some(self.pipe(p)?);
                }
                Node::Template(t)
            }
            Node::Define(mut d) => {
                d.body = self.list(d.body)?;
                Node::Define(d)
            }
            other => other,
        })
    }

    fn branch(&mut self, b: BranchNode) -> Result<BranchNode, HelmError> {
        Ok(BranchNode {
            pos: b.pos,
            pipe: self.pipe(b.pipe)?,
            body: self.list(b.body)?,
            else_body: match b.else_body {
                Some(e) => Some(self.list(e)?),
                None => None,
            },
        })
    }

    fn pipe(&mut self, p: PipeNode) -> Result<PipeNode, HelmError> {
        let mut commands = Vec::with_capacity(p.commands.len());
        for (i, c) in p.commands.into_iter().enumerate() {
            commands.push(self.command(c, i > 0)?);
        }
        Ok(PipeNode {
            pos: p.pos,
            decl: p.decl,
            commands,
            is_assign: p.is_assign,
        })
    }

    fn command(&mut self, c: CommandNode, piped: bool) -> Result<CommandNode, HelmError> {
        let mut args = c.args.into_iter();
        let Some(first) = args.next() else {
            return Ok(CommandNode {
                pos: c.pos,
                args: Vec::new(),
            });
        };
        let rest: Vec<Expr> = args.map(|a| self.expr(a)).collect::<Result<_, _>>()?;
        let first = match first {
            Expr::Identifier(pos, name) => {
                if BUILTINS.contains(&name.as_str())
                    && !self.shared.base.contains_key(name.as_str())
                {
                    Expr::Identifier(pos, name)
                } else {
                    Expr::Identifier(pos, SmolStr::new(self.site_for(&name, pos)?))
                }
            }
            other => {
                if let Some((receiver, method)) = method_call(&other) {
                    if !rest.is_empty()
                        || piped
                        || matches!(other, Expr::Chain(..))
                        || NO_ARG_METHODS.contains(&method.as_str())
                    {
                        let pos = other.pos();
                        let site = self.site_for("__method", pos)?;
                        let mut new_args = vec![
                            Expr::Identifier(pos, SmolStr::new(site)),
                            Expr::String(pos, Arc::from(method.as_str())),
                            self.expr(receiver)?,
                        ];
                        new_args.extend(rest);
                        return Ok(CommandNode {
                            pos: c.pos,
                            args: new_args,
                        });
                    }
                }
                self.expr(other)?
            }
        };
        let mut all = vec![first];
        all.extend(rest);
        Ok(CommandNode {
            pos: c.pos,
            args: all,
        })
    }

    fn expr(&mut self, e: Expr) -> Result<Expr, HelmError> {
        Ok(match e {
            Expr::Identifier(pos, name) => {
                if BUILTINS.contains(&name.as_str())
                    && !self.shared.base.contains_key(name.as_str())
                {
                    Expr::Identifier(pos, name)
                } else {
                    Expr::Identifier(pos, SmolStr::new(self.site_for(&name, pos)?))
                }
            }
            Expr::Pipe(pos, p) => Expr::Pipe(pos, self.pipe(p)?),
            Expr::Chain(pos, inner, fields) => {
                Expr::Chain(pos, Box::new(self.expr(*inner)?), fields)
            }
            other => other,
        })
    }

    /// Go mutates the map in place; with immutable values only a `$variable`
    /// target can be written back, so later reads of a field target see the
    /// old map.
    fn warn_unsupported_mutation(&self, function: &str, pos: Pos) {
        tracing::warn!(
            template = %self.template,
            line = pos.line,
            function,
            "the map changed by this call is not a $variable; later reads of it will not see the change"
        );
    }

    /// `{{ $r := set $d "k" v }}` becomes
    /// `{{ $tmp := set $d "k" v }}{{ $d = $tmp }}{{ $r := $tmp }}`.
    fn mutation_rewrite(&mut self, action: &ActionNode) -> Option<Vec<Node>> {
        let pipe = &action.pipe;
        if pipe.commands.len() != 1 {
            return None;
        }
        let cmd = &pipe.commands[0];
        let Some(Expr::Identifier(_, fname)) = cmd.args.first() else {
            return None;
        };
        let base_name = fname.split('#').next().unwrap_or("");
        if !MUTATORS.contains(&base_name) {
            return None;
        }
        let pos = action.pos;
        let Some(Expr::Variable(_, var, fields)) = cmd.args.get(1) else {
            self.warn_unsupported_mutation(base_name, pos);
            return None;
        };
        if !fields.is_empty() || var.as_str() == "$" {
            self.warn_unsupported_mutation(base_name, pos);
            return None;
        }
        let tmp = SmolStr::new(format!("$__mutated{}", self.shared.next_tmp()));
        let tmp_ref = || CommandNode {
            pos,
            args: vec![Expr::Variable(pos, tmp.clone(), Vec::new())],
        };
        let mut out = vec![
            Node::Action(ActionNode {
                pos,
                pipe: PipeNode {
                    pos,
                    decl: vec![tmp.clone()],
                    commands: pipe.commands.clone(),
                    is_assign: false,
                },
            }),
            Node::Action(ActionNode {
                pos,
                pipe: PipeNode {
                    pos,
                    decl: vec![var.clone()],
                    commands: vec![tmp_ref()],
                    is_assign: true,
                },
            }),
        ];
        out.push(Node::Action(ActionNode {
            pos,
            pipe: PipeNode {
                pos,
                decl: pipe.decl.clone(),
                commands: vec![tmp_ref()],
                is_assign: pipe.is_assign,
            },
        }));
        Some(out)
    }
}

/// `.A.B.Has` / `$x.Files.Get` / `(expr).AsConfig`: the receiver expression
/// and the method name.
fn method_call(e: &Expr) -> Option<(Expr, String)> {
    match e {
        Expr::Field(pos, fields) if fields.len() >= 2 => {
            let last = fields.last()?;
            METHODS.contains(&last.as_str()).then(|| {
                (
                    Expr::Field(*pos, fields[..fields.len() - 1].to_vec()),
                    last.to_string(),
                )
            })
        }
        Expr::Variable(pos, name, fields) if !fields.is_empty() => {
            let last = fields.last()?;
            METHODS.contains(&last.as_str()).then(|| {
                (
                    Expr::Variable(*pos, name.clone(), fields[..fields.len() - 1].to_vec()),
                    last.to_string(),
                )
            })
        }
        Expr::Chain(pos, inner, fields) if !fields.is_empty() => {
            let last = fields.last()?;
            METHODS.contains(&last.as_str()).then(|| {
                let receiver = if fields.len() == 1 {
                    (**inner).clone()
                } else {
                    Expr::Chain(*pos, inner.clone(), fields[..fields.len() - 1].to_vec())
                };
                (receiver, last.to_string())
            })
        }
        _ => None,
    }
}

struct SiteRecorder {
    shared: Weak<Shared>,
}

impl SiteRecorder {
    fn record(&self, site: usize, e: &TemplateError) {
        if let Some(s) = self.shared.upgrade() {
            s.record_failure(site, e);
        }
    }
}

/// `include` and `tpl`.
fn engine_funcs(weak: Weak<Shared>) -> FuncMap {
    let mut m = FuncMap::new();
    let w = weak.clone();
    m.insert(
        "include".into(),
        Arc::new(move |args: &[Value]| {
            let shared = w
                .upgrade()
                .ok_or_else(|| fail("the template set is gone"))?;
            let name = match args.first() {
                Some(Value::String(s)) => s.to_string(),
                Some(other) => other.to_string(),
                None => return Err(fail("include needs a template name")),
            };
            let data = args.get(1).cloned().unwrap_or(Value::Nil);
            shared.include(&name, &data)
        }),
    );
    let w = weak;
    m.insert(
        "tpl".into(),
        Arc::new(move |args: &[Value]| {
            let shared = w
                .upgrade()
                .ok_or_else(|| fail("the template set is gone"))?;
            let src = match args.first() {
                Some(Value::String(s)) => s.to_string(),
                Some(Value::Nil) | None => String::new(),
                Some(other) => other.to_string(),
            };
            let data = args.get(1).cloned().unwrap_or(Value::Nil);
            shared.tpl(&src, &data)
        }),
    );
    m
}

impl Shared {
    fn include(&self, name: &str, data: &Value) -> gotmpl::Result<Value> {
        let set = self
            .set
            .get()
            .ok_or_else(|| fail("the template set is not built"))?;
        if set.lookup(name).is_none() {
            return Err(fail(format!(
                "no template {name:?} associated with template \"gotpl\""
            )));
        }
        {
            let mut depth = self
                .include_depth
                .lock()
                .map_err(|_| fail("include state is poisoned"))?;
            let d = depth.entry(name.to_string()).or_insert(0);
            if *d > MAX_INCLUDE_DEPTH {
                return Err(fail(format!(
                    "unable to execute template: rendering template has a nested reference name: {name}"
                )));
            }
            *d += 1;
        }
        let result = set.execute_template_to_string(name, data);
        if let Ok(mut depth) = self.include_depth.lock() {
            if let Some(d) = depth.get_mut(name) {
                *d = d.saturating_sub(1);
            }
        }
        result.map(|s| Value::String(s.into()))
    }

    fn tpl(&self, src: &str, data: &Value) -> gotmpl::Result<Value> {
        let set = self
            .set
            .get()
            .ok_or_else(|| fail("the template set is not built"))?;
        let caller = data
            .field("Template")
            .and_then(|t| t.field("Name"))
            .map(|n| n.to_string())
            .unwrap_or_else(|| "tpl".into());
        let name = format!("{caller} (tpl)");
        let parser =
            Parser::with_name(Some(&name), src, "{{", "}}").map_err(|e| fail(e.to_string()))?;
        let (tree, defines) = parser.parse().map_err(|e| fail(e.to_string()))?;
        let mut funcs = FuncMap::new();
        let tree = self
            .instrument(&name, tree, &mut funcs)
            .map_err(|e| fail(e.to_string()))?;
        let mut clone = set.clone().funcs(funcs.clone());
        for def in defines {
            let body = self
                .instrument(&name, def.body, &mut funcs)
                .map_err(|e| fail(e.to_string()))?;
            clone = clone.funcs(funcs.clone()).add_parse_tree(&def.name, body);
        }
        let clone = clone.add_parse_tree("\u{0}tpl", tree);
        let out = clone.execute_template_to_string("\u{0}tpl", data)?;
        Ok(Value::String(out.replace("<no value>", "").into()))
    }
}

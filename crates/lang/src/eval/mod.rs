//! The expression evaluator: hcl-edit expressions to [`Value`]s with
//! Terraform's semantics (unknown and sensitive propagation, conversions,
//! lazy `try`/`can`, only the chosen conditional branch reporting errors).

mod context;
mod template;

use std::collections::BTreeMap;
use std::ops::Range;

use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, FuncCall, Object, ObjectKey, TraversalOperator,
    UnaryOperator,
};
use hcl_edit::Span;

pub use context::{
    normalize_path, Clock, EvalContext, FileError, FileLoader, FixedClock, MemoryFiles, NoFiles,
    Phase, SourceFile, SystemClock,
};
pub(crate) use template::{render_template_text, TemplateError};

use crate::convert::{convert, unify};
use crate::diag::{Diagnostic, Diagnostics};
use crate::functions;
use crate::number::Number;
use crate::types::Type;
use crate::value::{Data, Value};

/// Evaluates an expression.
///
/// References are checked first, as Terraform validates them before
/// evaluating: a reference to a root name the context lacks, or to an
/// undeclared `var.x` or `local.x`, is an error even inside `try`.
pub fn eval(expr: &Expression, ctx: &EvalContext) -> Result<Value, Diagnostics> {
    let mut ev = Evaluator::new(ctx);
    check_references(expr, ctx).map_err(|e| ev.diagnostics(e))?;
    ev.eval(expr).map_err(|e| ev.diagnostics(e))
}

fn check_references(expr: &Expression, ctx: &EvalContext) -> EvalResult<()> {
    for r in crate::refs::references(expr) {
        let span = r.span.clone();
        let Some(root) = ctx.name(&r.root) else {
            let ev = Evaluator::new(ctx);
            return match ev.eval_variable(&r.root, span.clone()) {
                Err(e) if matches!(r.root.as_str(), "var" | "local" | "count" | "each") => Err(e),
                Err(_) if r.root == "data" || r.root == "module" || r.root == "path" || r.root == "terraform" || r.root == "self" => {
                    Err(EvalError::new(
                        "Invalid reference",
                        format!("The name \"{}\" is not available here.", r.root),
                        span,
                    ))
                }
                Err(_) if r.steps.is_empty() => Err(EvalError::new(
                    "Invalid reference",
                    format!("A reference to a resource type must be followed by at least one attribute access, specifying the resource name. There is no variable named \"{}\".", r.root),
                    span,
                )),
                Err(_) => Err(EvalError::new(
                    "Reference to undeclared resource",
                    format!(
                        "A managed resource \"{}\" \"{}\" has not been declared in the root module.",
                        r.root,
                        r.first_attr().unwrap_or_default()
                    ),
                    span,
                )),
                Ok(_) => Ok(()),
            };
        };
        if matches!(r.root.as_str(), "var" | "local") {
            if let (Some(name), Data::Object(attrs)) = (r.first_attr(), root.data()) {
                if !attrs.contains_key(name) {
                    return Err(unsupported_attribute(name, span, Some(&r.root)));
                }
            }
        }
    }
    Ok(())
}

/// An evaluation failure before it becomes a [`Diagnostic`].
#[derive(Debug, Clone)]
pub(crate) struct EvalError {
    pub summary: String,
    pub detail: String,
    pub span: Option<Range<usize>>,
}

impl EvalError {
    pub fn new(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Range<usize>>,
    ) -> EvalError {
        EvalError {
            summary: summary.into(),
            detail: detail.into(),
            span,
        }
    }
}

pub(crate) type EvalResult<T = Value> = Result<T, EvalError>;

/// The evaluator: a context plus the stack of local scopes that `for`
/// expressions and template `for` directives open.
pub(crate) struct Evaluator<'a> {
    pub ctx: &'a EvalContext,
    scopes: Vec<BTreeMap<String, Value>>,
    /// Names visible only to `templatefile`/`templatestring` templates
    /// (their vars map): when set, root context names are hidden.
    isolated: bool,
    /// The template function whose template is being rendered, which
    /// decides the functions the template may not call.
    pub rendering: Option<TemplateFn>,
    /// The text the expressions' spans point into: the context's source,
    /// or a template's own text inside `templatefile`/`templatestring`.
    source: Option<SourceFile>,
}

/// The two functions that render a template of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemplateFn {
    /// `templatefile`: its template may read files.
    File,
    /// `templatestring`: its template may not touch the file system.
    String,
}

impl<'a> Evaluator<'a> {
    pub fn new(ctx: &'a EvalContext) -> Evaluator<'a> {
        Evaluator {
            ctx,
            scopes: Vec::new(),
            isolated: false,
            rendering: None,
            source: ctx.source().cloned(),
        }
    }

    /// An evaluator that sees only `vars`, for the template of `rendering`.
    pub fn isolated(
        ctx: &'a EvalContext,
        vars: BTreeMap<String, Value>,
        template: SourceFile,
        rendering: TemplateFn,
    ) -> Evaluator<'a> {
        Evaluator {
            ctx,
            scopes: vec![vars],
            isolated: true,
            rendering: Some(rendering),
            source: Some(template),
        }
    }

    pub fn diagnostics(&self, e: EvalError) -> Diagnostics {
        let mut d = Diagnostic::error(e.summary, e.detail);
        if let (Some(span), Some(src)) = (e.span, self.source.as_ref()) {
            d = d.with_subject(src.range(span));
        }
        d.into()
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        for scope in self.scopes.iter().rev() {
            if let Some(v) = scope.get(name) {
                return Some(v);
            }
        }
        if self.isolated {
            return None;
        }
        self.ctx.name(name)
    }

    pub fn push_scope(&mut self, scope: BTreeMap<String, Value>) {
        self.scopes.push(scope);
    }

    pub fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    pub fn eval(&mut self, expr: &Expression) -> EvalResult {
        let span = expr.span();
        match expr {
            Expression::Null(_) => Ok(Value::null_dynamic()),
            Expression::Bool(b) => Ok(Value::bool(*b.value())),
            Expression::Number(n) => {
                let text = span
                    .clone()
                    .and_then(|s| {
                        self.source
                            .as_ref()
                            .and_then(|src| src.text.get(s).map(str::to_owned))
                    })
                    .filter(|t| Number::parse(t).is_ok())
                    .unwrap_or_else(|| n.value().to_string());
                Number::parse(&text)
                    .map(Value::number)
                    .map_err(|e| EvalError::new("Invalid number literal", e.to_string(), span))
            }
            Expression::String(s) => Ok(Value::string(s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.eval(item)?);
                }
                Ok(Value::tuple(out))
            }
            Expression::Object(obj) => self.eval_object(obj),
            Expression::StringTemplate(t) => {
                template::eval_template(self, t, template::Mode::Quoted, span)
            }
            Expression::HeredocTemplate(h) => self.eval_heredoc(h, span),
            Expression::Parenthesis(p) => self.eval(p.inner()),
            Expression::Variable(v) => self.eval_variable(v.as_str(), span),
            Expression::Conditional(c) => {
                self.eval_conditional(&c.cond_expr, &c.true_expr, &c.false_expr, span)
            }
            Expression::FuncCall(call) => self.eval_call(call, span),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                let spans: Vec<Option<Range<usize>>> =
                    t.operators.iter().map(|o| o.span()).collect();
                // `konnect_mesh.mesh.name` only needs the one attribute:
                // follow plain steps by reference and copy what they reach,
                // not the whole object behind the name.
                if let Expression::Variable(v) = &t.expr {
                    if let Some(root) = self.lookup(v.as_str()) {
                        let (reached, taken) = follow_plain_steps(root, &ops);
                        if taken > 0 {
                            let base = reached.clone();
                            return self.apply_operators(
                                base,
                                &ops[taken..],
                                &spans[taken..],
                                span,
                                None,
                            );
                        }
                    }
                }
                let base = self.eval(&t.expr)?;
                self.apply_operators(base, &ops, &spans, span, root_name(&t.expr))
            }
            Expression::UnaryOp(op) => {
                let v = self.eval(&op.expr)?;
                self.eval_unary(*op.operator.value(), v, span)
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(&op.lhs_expr)?;
                let rhs = self.eval(&op.rhs_expr)?;
                binary(*op.operator.value(), lhs, rhs, span)
            }
            Expression::ForExpr(f) => self.eval_for(f, span),
        }
    }

    fn eval_variable(&self, name: &str, span: Option<Range<usize>>) -> EvalResult {
        match self.lookup(name) {
            Some(v) => Ok(v.clone()),
            None => {
                let (summary, detail) = match name {
                    "local" => ("Reference to undeclared local value", "No local values are declared in this module.".to_owned()),
                    "var" => ("Reference to undeclared input variable", "No input variables are declared in this module.".to_owned()),
                    "count" => (
                        "Reference to \"count\" in non-counted context",
                        "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.".to_owned(),
                    ),
                    "each" => (
                        "Reference to \"each\" in context without for_each",
                        "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.".to_owned(),
                    ),
                    _ => ("Unknown variable", format!("There is no variable named \"{name}\".")),
                };
                Err(EvalError::new(summary, detail, span))
            }
        }
    }

    fn eval_object(&mut self, obj: &Object) -> EvalResult {
        let mut out = BTreeMap::new();
        let mut unknown_key = false;
        let mut key_sensitive = false;
        for (key, value) in obj.iter() {
            let k = match key {
                ObjectKey::Ident(id) => Value::string(id.as_str()),
                ObjectKey::Expression(e) => match e {
                    // A bare name is a literal key, as in HCL.
                    Expression::Variable(v) => Value::string(v.as_str()),
                    other => self.eval(other)?,
                },
            };
            let key_span = match key {
                ObjectKey::Ident(id) => id.span(),
                ObjectKey::Expression(e) => e.span(),
            };
            let v = self.eval(value.expr())?;
            if k.is_null() {
                return Err(EvalError::new(
                    "Null value as key",
                    "Can't use a null value as a key.",
                    key_span,
                ));
            }
            if !k.is_known() {
                unknown_key = true;
                continue;
            }
            key_sensitive |= k.is_sensitive();
            let k = convert(&k, &Type::String).map_err(|e| {
                EvalError::new(
                    "Incorrect key type",
                    format!("Can't use this value as a key: {e}."),
                    key_span.clone(),
                )
            })?;
            let Some(k) = k.as_str() else {
                unknown_key = true;
                continue;
            };
            out.insert(k.to_owned(), v);
        }
        if unknown_key {
            return Ok(Value::unknown(Type::Dynamic).mark_sensitive_if(key_sensitive));
        }
        Ok(Value::object(out).mark_sensitive_if(key_sensitive))
    }

    fn eval_conditional(
        &mut self,
        cond: &Expression,
        t: &Expression,
        f: &Expression,
        span: Option<Range<usize>>,
    ) -> EvalResult {
        let c = self.eval(cond)?;
        let tr = self.eval(t);
        let fr = self.eval(f);
        let ty_of = |r: &EvalResult| r.as_ref().map(Value::ty).unwrap_or(Type::Dynamic);
        let null_dyn =
            |r: &EvalResult| matches!(r, Ok(v) if v.is_null() && v.ty() == Type::Dynamic);
        let result_ty = if null_dyn(&tr) {
            ty_of(&fr)
        } else if null_dyn(&fr) {
            ty_of(&tr)
        } else {
            match unify(&[ty_of(&tr), ty_of(&fr)]) {
                Some(t) => t,
                None => {
                    return Err(EvalError::new(
                        "Inconsistent conditional result types",
                        format!(
                            "The true and false result expressions must have consistent types. The given expressions are {} and {}, respectively.",
                            ty_of(&tr),
                            ty_of(&fr)
                        ),
                        span,
                    ))
                }
            }
        };
        if c.is_null() {
            return Err(EvalError::new(
                "Null condition",
                "The condition value is null. Conditions must either be true or false.",
                cond.span(),
            ));
        }
        let c = convert(&c, &Type::Bool).map_err(|e| {
            EvalError::new(
                "Incorrect condition type",
                format!("The condition expression must be of type bool: {e}."),
                cond.span(),
            )
        })?;
        // As HCL 2.23: the result carries the marks of the condition and
        // of both results, whichever is chosen, so that an unknown
        // condition and a known one give the same marks.
        let marked = |r: &EvalResult| matches!(r, Ok(v) if v.is_sensitive());
        let sensitive = c.is_sensitive() || marked(&tr) || marked(&fr);
        let chosen = match c.as_bool() {
            None => {
                let both_null = matches!((&tr, &fr), (Ok(t), Ok(f)) if t.is_null() && f.is_null());
                return Ok(if both_null {
                    Value::null(result_ty)
                } else {
                    Value::unknown(result_ty)
                }
                .mark_sensitive_if(sensitive));
            }
            Some(true) => tr?,
            Some(false) => fr?,
        };
        convert(&chosen, &result_ty)
            .map(|v| v.mark_sensitive_if(sensitive))
            .map_err(|e| {
                EvalError::new(
                    "Inconsistent conditional result types",
                    format!("The result value cannot be converted to {result_ty}: {e}."),
                    span,
                )
            })
    }

    fn eval_unary(&self, op: UnaryOperator, v: Value, span: Option<Range<usize>>) -> EvalResult {
        let sensitive = v.contains_sensitive();
        let (want, name) = match op {
            UnaryOperator::Neg => (Type::Number, "a number"),
            UnaryOperator::Not => (Type::Bool, "a bool"),
        };
        if v.is_null() {
            return Err(EvalError::new(
                "Invalid operand",
                format!("Unsuitable value for unary operand: {name} is required, but got null."),
                span,
            ));
        }
        let c = convert(&v, &want).map_err(|e| {
            EvalError::new(
                "Invalid operand",
                format!("Unsuitable value for unary operand: {e}."),
                span.clone(),
            )
        })?;
        let out = match (op, c.data()) {
            (UnaryOperator::Neg, Data::Number(n)) => Value::number(n.neg()),
            (UnaryOperator::Not, Data::Bool(b)) => Value::bool(!b),
            _ => Value::unknown(want),
        };
        Ok(out.mark_sensitive_if(sensitive))
    }

    fn eval_call(&mut self, call: &FuncCall, span: Option<Range<usize>>) -> EvalResult {
        let name = call.name.name.as_str();
        // Every built-in function is also `core::NAME` (Terraform 1.8).
        let namespace: Vec<&str> = call.name.namespace.iter().map(|n| n.as_str()).collect();
        if !namespace.is_empty() && namespace != ["core"] {
            let full: Vec<&str> = namespace.into_iter().chain(std::iter::once(name)).collect();
            return Err(EvalError::new(
                "Call to unknown function",
                format!("There is no function named \"{}\".", full.join("::")),
                span,
            ));
        }
        let args: Vec<&Expression> = call.args.iter().collect();
        match name {
            "try" => return self.eval_try(&args, span),
            "can" => return self.eval_can(&args, span),
            _ => {}
        }
        let Some(func) = functions::lookup(name) else {
            let suggestion = crate::refs::suggest(name, functions::names());
            let mut detail = format!("There is no function named \"{name}\".");
            if let Some(s) = suggestion {
                detail.push_str(&format!(" Did you mean \"{s}\"?"));
            }
            return Err(EvalError::new("Call to unknown function", detail, span));
        };
        let mut values = Vec::with_capacity(args.len());
        let mut arg_spans = Vec::with_capacity(args.len());
        for a in &args {
            values.push(self.eval(a)?);
            arg_spans.push(a.span());
        }
        if call.args.expand_final() {
            let Some(last) = values.pop() else {
                return Err(EvalError::new(
                    "Invalid expanding argument value",
                    "No argument to expand.",
                    span,
                ));
            };
            let last_span = arg_spans.pop().flatten();
            if last.is_null() {
                return Err(EvalError::new(
                    "Invalid expanding argument value",
                    "The expanding argument (indicated by ...) must not be null.",
                    last_span,
                ));
            }
            if !last.is_known() {
                return Ok(Value::unknown(Type::Dynamic));
            }
            let sensitive = last.is_sensitive();
            match last.as_elements() {
                Some(items) if !matches!(last.data(), Data::Map(..) | Data::Object(_)) => {
                    for item in items {
                        values.push(item.clone().mark_sensitive_if(sensitive));
                        arg_spans.push(last_span.clone());
                    }
                }
                _ => {
                    return Err(EvalError::new(
                        "Invalid expanding argument value",
                        "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                        last_span,
                    ))
                }
            }
        }
        if func.name == "templatestring" && !args.is_empty() {
            check_template_argument(args[0]).map_err(|why| {
                EvalError::new(
                    "Invalid function argument",
                    format!("Invalid value for \"template\" parameter: {why}."),
                    args[0].span().or_else(|| span.clone()),
                )
            })?;
        }
        functions::call(func, self, values, &arg_spans, span)
    }

    fn eval_try(&mut self, args: &[&Expression], span: Option<Range<usize>>) -> EvalResult {
        if args.is_empty() {
            return Err(EvalError::new(
                "Invalid function arguments",
                "At least one argument is required.",
                span,
            ));
        }
        let mut last_err = None;
        for a in args {
            match self.eval(a) {
                Ok(v) if !v.is_wholly_known() => return Ok(Value::unknown(Type::Dynamic)),
                Ok(v) => return Ok(v),
                Err(e) => last_err = Some(e),
            }
        }
        let detail = last_err
            .map(|e| format!("{}: {}", e.summary, e.detail))
            .unwrap_or_default();
        Err(EvalError::new(
            "Error in function call",
            format!("Call to function \"try\" failed: no expression succeeded:\n- {detail}\n\nAt least one expression must produce a successful result."),
            span,
        ))
    }

    fn eval_can(&mut self, args: &[&Expression], span: Option<Range<usize>>) -> EvalResult {
        if args.len() != 1 {
            return Err(EvalError::new(
                "Invalid function arguments",
                "Function \"can\" takes exactly one argument.",
                span,
            ));
        }
        match self.eval(args[0]) {
            Ok(v) if !v.is_wholly_known() => Ok(Value::unknown(Type::Bool)),
            Ok(_) => Ok(Value::bool(true)),
            Err(_) => Ok(Value::bool(false)),
        }
    }

    fn eval_for(&mut self, f: &ForExpr, span: Option<Range<usize>>) -> EvalResult {
        let coll = self.eval(&f.intro.collection_expr)?;
        let coll_span = f.intro.collection_expr.span();
        let is_object = f.key_expr.is_some();
        if coll.is_null() {
            return Err(EvalError::new(
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
                coll_span,
            ));
        }
        if !coll.is_known() {
            return Ok(Value::unknown(Type::Dynamic));
        }
        let sensitive = coll.is_sensitive();
        let pairs = iteration_pairs(&coll).ok_or_else(|| {
            EvalError::new(
                "Iteration over non-iterable value",
                format!(
                    "A value of type {} cannot be used as the collection in a 'for' expression.",
                    coll.ty()
                ),
                coll_span.clone(),
            )
        })?;
        let key_name = f.intro.key_var.as_ref().map(|k| k.as_str().to_owned());
        let value_name = f.intro.value_var.as_str().to_owned();
        let mut tuple_items = Vec::new();
        let mut object_items: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        let mut result_sensitive = sensitive;
        for (k, v) in pairs {
            let mut scope = BTreeMap::new();
            // As HCL: the variables see the unmarked collection's elements;
            // the collection's mark goes on the result.
            if let Some(kn) = &key_name {
                scope.insert(kn.clone(), k);
            }
            scope.insert(value_name.clone(), v);
            self.push_scope(scope);
            let step = self.for_step(f, is_object);
            self.pop_scope();
            match step? {
                ForStep::Skip => {}
                ForStep::Unknown => unknown = true,
                ForStep::Item(key, value, s) => {
                    result_sensitive |= s;
                    match key {
                        None => tuple_items.push(value),
                        Some(key) => {
                            if f.grouping {
                                groups.entry(key).or_default().push(value);
                            } else {
                                match object_items.entry(key) {
                                    std::collections::btree_map::Entry::Occupied(o) => {
                                        return Err(EvalError::new(
                                            "Duplicate object key",
                                            format!(
                                                "Two different items produced the key \"{}\" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.",
                                                o.key()
                                            ),
                                            f.key_expr.as_ref().and_then(|k| k.span()),
                                        ));
                                    }
                                    std::collections::btree_map::Entry::Vacant(v) => {
                                        v.insert(value);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let _ = span;
        if unknown {
            return Ok(Value::unknown(Type::Dynamic).mark_sensitive_if(result_sensitive));
        }
        let out = if is_object {
            if f.grouping {
                Value::object(
                    groups
                        .into_iter()
                        .map(|(k, vs)| (k, Value::tuple(vs)))
                        .collect(),
                )
            } else {
                Value::object(object_items)
            }
        } else {
            Value::tuple(tuple_items)
        };
        Ok(out.mark_sensitive_if(result_sensitive))
    }

    fn for_step(&mut self, f: &ForExpr, is_object: bool) -> EvalResult<ForStep> {
        let mut sensitive = false;
        if let Some(cond) = &f.cond {
            let c = self.eval(&cond.expr)?;
            if c.is_null() {
                return Err(EvalError::new(
                    "Condition is null",
                    "The value of the 'if' clause must not be null.",
                    cond.expr.span(),
                ));
            }
            sensitive |= c.is_sensitive();
            let c = convert(&c, &Type::Bool).map_err(|e| {
                EvalError::new(
                    "Invalid 'for' condition",
                    format!("The 'if' clause value is invalid: {e}."),
                    cond.expr.span(),
                )
            })?;
            match c.as_bool() {
                None => return Ok(ForStep::Unknown),
                Some(false) => return Ok(ForStep::Skip),
                Some(true) => {}
            }
        }
        let key = if is_object {
            let Some(key_expr) = &f.key_expr else {
                return Ok(ForStep::Skip);
            };
            let k = self.eval(key_expr)?;
            if k.is_null() {
                return Err(EvalError::new(
                    "Invalid object key",
                    "Key expression in 'for' expression must not produce a null value.",
                    key_expr.span(),
                ));
            }
            if !k.is_known() {
                return Ok(ForStep::Unknown);
            }
            sensitive |= k.is_sensitive();
            let k = convert(&k, &Type::String).map_err(|e| {
                EvalError::new(
                    "Invalid object key",
                    format!("The key expression produced an invalid result: {e}."),
                    key_expr.span(),
                )
            })?;
            match k.as_str() {
                Some(s) => Some(s.to_owned()),
                None => return Ok(ForStep::Unknown),
            }
        } else {
            None
        };
        let v = self.eval(&f.value_expr)?;
        Ok(ForStep::Item(key, v, sensitive))
    }

    /// Applies traversal operators (attribute, index, splats) to `base`.
    fn apply_operators(
        &mut self,
        base: Value,
        ops: &[&TraversalOperator],
        spans: &[Option<Range<usize>>],
        whole: Option<Range<usize>>,
        root: Option<&str>,
    ) -> EvalResult {
        let mut cur = base;
        let mut i = 0;
        while i < ops.len() {
            let span = spans.get(i).cloned().flatten().or_else(|| whole.clone());
            match ops[i] {
                TraversalOperator::GetAttr(name) => {
                    cur = get_attr(&cur, name.as_str(), span, if i == 0 { root } else { None })?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    cur = index(&cur, &Value::number(Number::from_u64(*n.value())), span)?;
                }
                TraversalOperator::Index(e) => {
                    let key = self.eval(e)?;
                    cur = index(&cur, &key, span)?;
                }
                TraversalOperator::FullSplat(_) => {
                    let rest = &ops[i + 1..];
                    let rest_spans = &spans[i + 1..];
                    return self.splat(cur, rest, rest_spans, whole);
                }
                TraversalOperator::AttrSplat(_) => {
                    let mut j = i + 1;
                    while j < ops.len()
                        && matches!(
                            ops[j],
                            TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                        )
                    {
                        j += 1;
                    }
                    cur = self.splat(cur, &ops[i + 1..j], &spans[i + 1..j], whole.clone())?;
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
        Ok(cur)
    }

    fn splat(
        &mut self,
        v: Value,
        ops: &[&TraversalOperator],
        spans: &[Option<Range<usize>>],
        whole: Option<Range<usize>>,
    ) -> EvalResult {
        let sensitive = v.is_sensitive();
        match v.data() {
            Data::Null(Type::List(_) | Type::Set(_) | Type::Tuple(_)) => Err(EvalError::new(
                "Splat of null value",
                "Splat expressions (with the * symbol) cannot be applied to null sequences.",
                whole,
            )),
            Data::Null(_) => Ok(Value::tuple(Vec::new()).mark_sensitive_if(sensitive)),
            Data::Unknown(_) => Ok(Value::unknown(Type::Dynamic).mark_sensitive_if(sensitive)),
            Data::List(elem, items) | Data::Set(elem, items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.apply_operators(
                        item.clone(),
                        ops,
                        spans,
                        whole.clone(),
                        None,
                    )?);
                }
                let elem_ty = if out.is_empty() {
                    if ops.is_empty() {
                        elem.clone()
                    } else {
                        Type::Dynamic
                    }
                } else {
                    match unify(&out.iter().map(Value::ty).collect::<Vec<_>>()) {
                        Some(t) => t,
                        None => return Ok(Value::tuple(out).mark_sensitive_if(sensitive)),
                    }
                };
                let out = out
                    .iter()
                    .map(|o| convert(o, &elem_ty).unwrap_or_else(|_| o.clone()))
                    .collect();
                Ok(Value::list(elem_ty, out).mark_sensitive_if(sensitive))
            }
            Data::Tuple(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.apply_operators(
                        item.clone(),
                        ops,
                        spans,
                        whole.clone(),
                        None,
                    )?);
                }
                Ok(Value::tuple(out).mark_sensitive_if(sensitive))
            }
            _ => {
                let one = self.apply_operators(v.clone().unmark(), ops, spans, whole, None)?;
                Ok(Value::tuple(vec![one]).mark_sensitive_if(sensitive))
            }
        }
    }

    /// Heredocs: hcl-edit removes `<<-` indentation its own way, so when
    /// the source is at hand the raw body is parsed again and HCL's rule
    /// applied (strip markers first, then the common indentation).
    fn eval_heredoc(
        &mut self,
        h: &hcl_edit::template::HeredocTemplate,
        span: Option<Range<usize>>,
    ) -> EvalResult {
        let raw = match (self.source.as_ref(), span.clone(), h.template.span()) {
            (Some(src), Some(whole), Some(body))
                if src
                    .text
                    .get(whole.clone())
                    .is_some_and(|t| t.starts_with("<<-")) =>
            {
                src.text
                    .get(body.clone())
                    .map(|text| (body.start, text.to_owned()))
            }
            _ => None,
        };
        let Some((start, text)) = raw else {
            return template::eval_template(self, &h.template, template::Mode::Lines, span);
        };
        // Pad so that spans inside the body stay offsets into the file.
        let padded = format!("{}{text}", " ".repeat(start));
        let Ok(mut t) = hcl_edit::parser::parse_template(&padded) else {
            return template::eval_template(self, &h.template, template::Mode::Lines, span);
        };
        strip_padding(&mut t, start);
        template::eval_template(self, &t, template::Mode::Flush, span)
    }
}

/// Removes the first `n` padding bytes that [`Evaluator::eval_heredoc`]
/// put before a re-parsed heredoc body.
fn strip_padding(t: &mut hcl_edit::template::Template, n: usize) {
    use hcl_edit::template::Element;
    if n == 0 {
        return;
    }
    if let Some(Element::Literal(lit)) = t.get_mut(0) {
        let value = lit.value_mut();
        let cut = n.min(value.len());
        value.drain(..cut);
        if value.is_empty() {
            t.remove(0);
        }
    }
}

/// `templatestring` renders only a template fetched from elsewhere: its
/// first argument must be a reference (`var.x`, `local.t[each.key]`,
/// `data.x.y[*].z`), not a template written in place. Says why not.
fn check_template_argument(expr: &Expression) -> Result<(), &'static str> {
    use hcl_edit::template::Element;
    match expr {
        Expression::Variable(_) => Ok(()),
        Expression::Traversal(t) if matches!(t.expr, Expression::Variable(_)) => Ok(()),
        Expression::StringTemplate(t)
            if t.len() == 1 && matches!(t.iter().next(), Some(Element::Interpolation(_))) =>
        {
            Err("invalid template expression: templatestring is only for rendering templates retrieved dynamically from elsewhere; to treat the inner expression as template syntax, write the reference expression directly without any template interpolation syntax")
        }
        Expression::String(_) => Err("invalid template expression: templatestring is only for rendering templates retrieved dynamically from elsewhere, and so does not support providing a literal template; consider using a template string expression instead"),
        Expression::HeredocTemplate(h)
            if h.template.iter().all(|e| matches!(e, Element::Literal(_))) =>
        {
            Err("invalid template expression: templatestring is only for rendering templates retrieved dynamically from elsewhere, and so does not support providing a literal template; consider using a template string expression instead")
        }
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => Err("invalid template expression: templatestring is only for rendering templates retrieved dynamically from elsewhere; to render an inline template, consider using a plain template string expression"),
        _ => Err("invalid template expression: must be a direct reference to a single string from elsewhere, containing valid Terraform template syntax"),
    }
}

enum ForStep {
    Skip,
    Unknown,
    Item(Option<String>, Value, bool),
}

fn root_name(e: &Expression) -> Option<&str> {
    match e {
        Expression::Variable(v) => Some(v.as_str()),
        _ => None,
    }
}

/// The (key, value) pairs a `for` expression iterates: index and element
/// for lists and tuples, element twice for sets, key and value for maps and
/// objects (in key order).
pub(crate) fn iteration_pairs(v: &Value) -> Option<Vec<(Value, Value)>> {
    match v.data() {
        Data::List(_, items) | Data::Tuple(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::int(i as i64), x.clone()))
                .collect(),
        ),
        Data::Set(_, items) => Some(items.iter().map(|x| (x.clone(), x.clone())).collect()),
        Data::Map(_, items) | Data::Object(items) => Some(
            items
                .iter()
                .map(|(k, x)| (Value::string(k.clone()), x.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// `v.name`.
/// Follows the leading attribute and literal index steps of a traversal
/// that cannot fail or change marks (present keys of known, unmarked
/// objects, maps, lists and tuples). Returns where they lead and how many
/// steps were taken; the rest goes through the full rules.
fn follow_plain_steps<'v>(mut cur: &'v Value, ops: &[&TraversalOperator]) -> (&'v Value, usize) {
    let mut taken = 0;
    for op in ops {
        if cur.is_sensitive() {
            break;
        }
        let next = match (op, cur.data()) {
            (TraversalOperator::GetAttr(name), Data::Object(attrs)) => attrs.get(name.as_str()),
            (TraversalOperator::GetAttr(name), Data::Map(_, items)) => items.get(name.as_str()),
            (TraversalOperator::LegacyIndex(n), Data::List(_, items) | Data::Tuple(items)) => {
                usize::try_from(*n.value()).ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => {
                cur = v;
                taken += 1;
            }
            None => break,
        }
    }
    (cur, taken)
}

pub(crate) fn get_attr(
    v: &Value,
    name: &str,
    span: Option<Range<usize>>,
    root: Option<&str>,
) -> EvalResult {
    let sensitive = v.is_sensitive();
    let out = match v.data() {
        Data::Null(_) => {
            return Err(EvalError::new(
                "Attempt to get attribute from null value",
                "This value is null, so it does not have any attributes.",
                span,
            ))
        }
        Data::Unknown(t) => match t {
            Type::Object { attrs, .. } => match attrs.get(name) {
                Some(at) => Value::unknown(at.clone()),
                None => return Err(unsupported_attribute(name, span, root)),
            },
            Type::Map(e) => Value::unknown((**e).clone()),
            Type::Dynamic => Value::unknown(Type::Dynamic),
            _ => return Err(unsupported_attribute(name, span, root)),
        },
        Data::Object(attrs) => match attrs.get(name) {
            Some(x) => x.clone(),
            None => return Err(unsupported_attribute(name, span, root)),
        },
        Data::Map(_, items) => match items.get(name) {
            Some(x) => x.clone(),
            None => {
                return Err(EvalError::new(
                    "Missing map element",
                    format!("This map does not have an element with the key \"{name}\"."),
                    span,
                ))
            }
        },
        _ => {
            return Err(EvalError::new(
                "Unsupported attribute",
                "Can't access attributes on a primitive-typed value.".to_owned(),
                span,
            ))
        }
    };
    Ok(out.mark_sensitive_if(sensitive))
}

fn unsupported_attribute(name: &str, span: Option<Range<usize>>, root: Option<&str>) -> EvalError {
    match root {
        Some("var") => EvalError::new(
            "Reference to undeclared input variable",
            format!("An input variable with the name \"{name}\" has not been declared."),
            span,
        ),
        Some("local") => EvalError::new(
            "Reference to undeclared local value",
            format!("A local value with the name \"{name}\" has not been declared."),
            span,
        ),
        _ => EvalError::new(
            "Unsupported attribute",
            format!("This object does not have an attribute named \"{name}\"."),
            span,
        ),
    }
}

/// `v[key]`.
pub(crate) fn index(v: &Value, key: &Value, span: Option<Range<usize>>) -> EvalResult {
    let sensitive = v.is_sensitive() || key.is_sensitive();
    let invalid = |detail: &str| EvalError::new("Invalid index", detail.to_owned(), span.clone());
    if v.is_null() {
        return Err(EvalError::new(
            "Attempt to index null value",
            "This value is null, so it does not have any indices.",
            span,
        ));
    }
    if key.is_null() {
        return Err(invalid("Can't use a null value as an indexing key."));
    }
    let out = match v.data() {
        Data::Unknown(t) => {
            let et = match t {
                Type::List(e) | Type::Map(e) => (**e).clone(),
                Type::Set(_) => return Err(invalid("Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.")),
                _ => Type::Dynamic,
            };
            Value::unknown(et)
        }
        Data::List(_, items) | Data::Tuple(items) => {
            if !key.is_known() {
                let et = match v.data() {
                    Data::List(e, _) => e.clone(),
                    _ => Type::Dynamic,
                };
                return Ok(Value::unknown(et).mark_sensitive_if(sensitive));
            }
            let k = convert(key, &Type::Number)
                .map_err(|_| invalid("The given key does not identify an element in this collection value: a number is required."))?;
            let n = k.as_number().ok_or_else(|| invalid("A number is required."))?;
            if !n.is_integer() {
                return Err(invalid("The given key does not identify an element in this collection value: indexing a sequence requires a whole number."));
            }
            let i = n
                .to_i64()
                .filter(|i| *i >= 0 && (*i as usize) < items.len())
                .ok_or_else(|| invalid("The given key does not identify an element in this collection value."))?;
            items[i as usize].clone()
        }
        Data::Map(_, items) | Data::Object(items) => {
            if !key.is_known() {
                let et = match v.data() {
                    Data::Map(e, _) => e.clone(),
                    _ => Type::Dynamic,
                };
                return Ok(Value::unknown(et).mark_sensitive_if(sensitive));
            }
            let k = convert(key, &Type::String)
                .map_err(|_| invalid("The given key does not identify an element in this collection value: string required."))?;
            let k = k.as_str().unwrap_or_default();
            match items.get(k) {
                Some(x) => x.clone(),
                None => {
                    return Err(invalid(
                        "The given key does not identify an element in this collection value.",
                    ))
                }
            }
        }
        Data::Set(..) => return Err(invalid("Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.")),
        _ => return Err(invalid("This value does not have any indices.")),
    };
    Ok(out.mark_sensitive_if(sensitive))
}

/// A binary operator applied to two evaluated operands.
pub(crate) fn binary(
    op: BinaryOperator,
    lhs: Value,
    rhs: Value,
    span: Option<Range<usize>>,
) -> EvalResult {
    use BinaryOperator as B;
    match op {
        B::Eq => return Ok(lhs.equals(&rhs)),
        B::NotEq => {
            let e = lhs.equals(&rhs);
            let s = e.is_sensitive();
            return Ok(match e.as_bool() {
                Some(b) => Value::bool(!b),
                None => Value::unknown(Type::Bool),
            }
            .mark_sensitive_if(s));
        }
        _ => {}
    }
    let sensitive = lhs.contains_sensitive() || rhs.contains_sensitive();
    let (want, what) = match op {
        B::And | B::Or => (Type::Bool, "a bool"),
        _ => (Type::Number, "a number"),
    };
    let operand = |v: &Value, side: &str| -> EvalResult {
        if v.is_null() {
            return Err(EvalError::new(
                if want == Type::Bool {
                    "Operation failed"
                } else {
                    "Invalid operand"
                },
                format!("Unsuitable value for {side} operand: {what} is required, but got null."),
                span.clone(),
            ));
        }
        convert(v, &want).map_err(|e| {
            EvalError::new(
                "Invalid operand",
                format!("Unsuitable value for {side} operand: {e}."),
                span.clone(),
            )
        })
    };
    let l = operand(&lhs, "left")?;
    let r = operand(&rhs, "right")?;
    let out = match (l.data(), r.data()) {
        (Data::Bool(a), Data::Bool(b)) => match op {
            B::And => Value::bool(*a && *b),
            _ => Value::bool(*a || *b),
        },
        (Data::Number(a), Data::Number(b)) => {
            let nan = || {
                EvalError::new(
                    "Operation failed",
                    "The result of this arithmetic operation is not a number.",
                    span.clone(),
                )
            };
            match op {
                B::Plus => Value::number(a.add(b).ok_or_else(nan)?),
                B::Minus => Value::number(a.sub(b).ok_or_else(nan)?),
                B::Mul => Value::number(a.mul(b).ok_or_else(nan)?),
                B::Div => {
                    if b.is_zero() && a.is_zero() {
                        return Err(EvalError::new("Operation failed", "Error during operation: can't divide zero by zero or infinity by infinity.", span));
                    }
                    Value::number(a.div(b).ok_or_else(nan)?)
                }
                B::Mod => Value::number(a.rem(b).ok_or_else(|| {
                    EvalError::new(
                        "Operation failed",
                        "Error during operation: can't use modulo with zero and infinity.",
                        span.clone(),
                    )
                })?),
                B::Less => Value::bool(a.cmp(b).is_lt()),
                B::LessEq => Value::bool(a.cmp(b).is_le()),
                B::Greater => Value::bool(a.cmp(b).is_gt()),
                B::GreaterEq => Value::bool(a.cmp(b).is_ge()),
                _ => Value::unknown(Type::Dynamic),
            }
        }
        _ => Value::unknown(match op {
            B::Less | B::LessEq | B::Greater | B::GreaterEq | B::And | B::Or => Type::Bool,
            _ => Type::Number,
        }),
    };
    Ok(out.mark_sensitive_if(sensitive))
}

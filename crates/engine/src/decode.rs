//! Decoding a block body against a provider schema, as Terraform's `hcldec`
//! does: the configuration of a resource, data source or provider becomes
//! one [`Value`] of the schema block's implied type.
//!
//! - Each attribute is evaluated through a [`Scope`] (the caller decides
//!   what `var`, `each`, `count.index`, `self`, resources and the like mean)
//!   and converted to the attribute's type: extra object keys are dropped,
//!   missing optional members of nested attribute objects become null.
//! - Missing attributes are null; nested blocks are collected by nesting
//!   mode (an absent list or set block is an empty collection, never null).
//! - `dynamic` blocks are expanded with their iterator in scope; an unknown
//!   `for_each` makes the whole block collection unknown, as in Terraform.
//! - Bodies written in JSON syntax (`*.tf.json`) give object-valued
//!   arguments where native syntax has blocks; both are accepted.
//! - An attribute of type list or set of objects may be written as nested
//!   blocks (Terraform's `blocktoattr`, which legacy SDK providers need).
//! - A non-null value for a computed-only attribute is an error.
//!
//! Problems are [`Diagnostic`]s worded as Terraform words them. The caller
//! adds the enclosing block (`in resource "x" "y"`) as diagnostic context.
//! [`validate_content`] runs the same checks without evaluating anything,
//! for `meshform validate`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use meshform_config::{Attr, Content, Expr, NestedBlock as ConfigBlock};
use meshform_lang::hcl_edit::expr::{Expression, Object, ObjectKey};
use meshform_lang::hcl_edit::Span;
use meshform_lang::schema::{Attribute, AttributeType, Block, NestedBlock, Nesting};
use meshform_lang::{
    convert, suggest, ConvertError, Data, Diagnostic, Diagnostics, EvalContext, PathStep,
    SourceFile, SourceRange, Type, Value,
};

/// The iterator values a `dynamic` block puts in scope, outermost first:
/// each is a root name (`rule`, or the block's `iterator`) bound to an
/// object with `key` and `value`.
pub type Iterators = [(String, Value)];

/// How the decoder evaluates expressions. The caller's scope knows every
/// root name (`var`, `local`, resources, `each`, `count`, `self`, ...);
/// the decoder adds only the iterators of the `dynamic` blocks around the
/// expression, which shadow root names of the same name.
pub trait Scope {
    /// Evaluates `expr`, with `iterators` visible as root names.
    fn eval(&self, expr: &Expr, iterators: &Iterators) -> Result<Value, Diagnostics>;
}

/// Any closure with the shape of [`Scope::eval`] is a scope.
impl<F> Scope for F
where
    F: Fn(&Expr, &Iterators) -> Result<Value, Diagnostics>,
{
    fn eval(&self, expr: &Expr, iterators: &Iterators) -> Result<Value, Diagnostics> {
        self(expr, iterators)
    }
}

/// An [`EvalContext`] is a scope: iterators are declared as extra root
/// names, and the expression's own file becomes the context's source so
/// that evaluation diagnostics point into it.
impl Scope for EvalContext {
    fn eval(&self, expr: &Expr, iterators: &Iterators) -> Result<Value, Diagnostics> {
        let same_source = self
            .source()
            .is_some_and(|s| s.name == expr.file.name && Arc::ptr_eq(&s.text, &expr.file.text));
        if iterators.is_empty() && same_source {
            return meshform_lang::eval(&expr.expr, self);
        }
        let mut ctx = self.clone();
        if !same_source {
            ctx = ctx.with_source((*expr.file).clone());
        }
        for (name, value) in iterators {
            ctx.set_name(name.clone(), value.clone());
        }
        meshform_lang::eval(&expr.expr, &ctx)
    }
}

/// Decodes `content` against `block`: a value of the block's implied type
/// (object; nested attribute types and blocks inside) and the problems
/// found. The value is always complete: a part that could not be decoded is
/// an unknown value of its type, so later steps can still run.
pub fn decode_content(content: &Content, block: &Block, scope: &dyn Scope) -> (Value, Diagnostics) {
    let mut decoder = Decoder {
        scope,
        diags: Diagnostics::default(),
    };
    let value = decoder.body(content, &[], block);
    (value, decoder.diags)
}

/// Checks `content` against `block` without evaluating any reference or
/// function: unsupported arguments and blocks, missing required arguments,
/// block labels and counts, and the types of literal values. `dynamic`
/// blocks with a literal `for_each` are expanded; others have their
/// content checked once.
pub fn validate_content(content: &Content, block: &Block) -> Diagnostics {
    let (_, diags) = decode_content(content, block, &LiteralScope);
    diags
}

/// Evaluates only literal expressions (no references, no function calls,
/// no interpolation); everything else is an unknown value of any type.
struct LiteralScope;

impl Scope for LiteralScope {
    fn eval(&self, expr: &Expr, _iterators: &Iterators) -> Result<Value, Diagnostics> {
        if !is_literal(&expr.expr) {
            return Ok(Value::unknown(Type::Dynamic));
        }
        let ctx = EvalContext::new().with_source((*expr.file).clone());
        meshform_lang::eval(&expr.expr, &ctx)
    }
}

/// Whether an expression is a literal value: constants, and tuples and
/// objects (with constant keys) of literals.
fn is_literal(expr: &Expression) -> bool {
    match expr {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => true,
        Expression::Array(items) => items.iter().all(is_literal),
        Expression::Object(obj) => obj.iter().all(|(k, v)| {
            let key_ok = match k {
                ObjectKey::Ident(_) => true,
                ObjectKey::Expression(e) => matches!(e, Expression::String(_)),
            };
            key_ok && is_literal(v.expr())
        }),
        Expression::Parenthesis(p) => is_literal(p.inner()),
        _ => false,
    }
}

/// One nested block to decode, after `dynamic` expansion.
struct Item<'c> {
    labels: Vec<String>,
    body: Cow<'c, Content>,
    /// The iterators its body sees.
    frames: Vec<(String, Value)>,
    def_range: SourceRange,
    /// Generated by a `dynamic` block whose `for_each` (or label) is not
    /// known yet: decoded for its diagnostics, but its value is unknown.
    unknown: bool,
}

/// A decoded nested block and where it was written.
struct Decoded {
    labels: Vec<String>,
    value: Value,
    def_range: SourceRange,
    body_range: SourceRange,
}

struct Decoder<'s> {
    scope: &'s dyn Scope,
    diags: Diagnostics,
}

impl Decoder<'_> {
    fn error(&mut self, summary: &str, detail: String, subject: &SourceRange) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(subject.clone()));
    }

    /// Decodes one block body to an object of `block`'s implied type.
    fn body(&mut self, content: &Content, frames: &Iterators, block: &Block) -> Value {
        let as_blocks = attributes_written_as_blocks(content, block);
        if as_blocks.is_empty() {
            return self.body_of(content, frames, block);
        }
        // Terraform's `blocktoattr`: an attribute of type list or set of
        // objects may be written as nested blocks (legacy SDK providers
        // rely on it); decode those blocks, then give the attribute its
        // type.
        let mut adjusted = block.clone();
        for name in &as_blocks {
            if let Some(a) = adjusted.attributes.remove(name) {
                adjusted
                    .block_types
                    .insert(name.clone(), attribute_as_block(&a));
            }
        }
        let value = self.body_of(content, frames, &adjusted);
        let mut entries = value.as_entries().cloned().unwrap_or_default();
        for name in as_blocks {
            let Some(a) = block.attributes.get(&name) else {
                continue;
            };
            let want = value_type(&a.implied_type());
            if let Some(v) = entries.get(&name) {
                let v = convert(v, &want)
                    .map(strip_optional_markers)
                    .unwrap_or_else(|_| Value::unknown(want));
                entries.insert(name, v);
            }
        }
        Value::object(entries)
    }

    fn body_of(&mut self, content: &Content, frames: &Iterators, block: &Block) -> Value {
        let mut items: BTreeMap<String, Vec<Item<'_>>> = BTreeMap::new();
        for (name, attr) in &content.attrs {
            if block.attributes.contains_key(name) {
                continue;
            }
            match block.block_types.get(name) {
                Some(nested) if is_json(&attr.expr) => {
                    let list = items.entry(name.clone()).or_default();
                    self.json_blocks(attr, nested, frames, list);
                }
                _ => self.unsupported_argument(attr, block),
            }
        }
        for cb in &content.blocks {
            if cb.ty == "dynamic" {
                self.dynamic(cb, frames, block, &mut items);
                continue;
            }
            let Some(nested) = block.block_types.get(&cb.ty) else {
                self.unsupported_block(&cb.ty, &cb.type_range, block);
                continue;
            };
            if !self.check_labels(cb, nested) {
                continue;
            }
            items.entry(cb.ty.clone()).or_default().push(Item {
                labels: cb.labels.clone(),
                body: Cow::Borrowed(&cb.body),
                frames: frames.to_vec(),
                def_range: cb.def_range.clone(),
                unknown: false,
            });
        }

        let mut out = BTreeMap::new();
        for (name, schema) in &block.attributes {
            let value = match content.attrs.get(name) {
                Some(attr) => self.attribute(attr, schema, frames),
                None => {
                    if schema.required {
                        self.error(
                            "Missing required argument",
                            format!(
                                "The argument \"{name}\" is required, but no definition was found."
                            ),
                            &missing_item_range(content),
                        );
                    }
                    Value::null(value_type(&schema.implied_type()))
                }
            };
            out.insert(name.clone(), value);
        }
        for (name, nested) in &block.block_types {
            let list = items.remove(name).unwrap_or_default();
            let value = self.blocks(name, nested, list, content);
            out.insert(name.clone(), value);
        }
        Value::object(out)
    }

    /// Evaluates and converts one attribute.
    fn attribute(&mut self, attr: &Attr, schema: &Attribute, frames: &Iterators) -> Value {
        let want = attribute_constraint(schema);
        let unknown = Value::unknown(value_type(&schema.implied_type()));
        let value = match self.scope.eval(&attr.expr, frames) {
            Ok(v) => v,
            Err(diags) => {
                self.diags.extend(diags);
                return unknown;
            }
        };
        match convert(&value, &want) {
            Ok(v) => {
                let v = strip_optional_markers(v);
                let mut names = Vec::new();
                unconfigurable_members(&attr.name, schema, &v, &mut names);
                for name in names {
                    self.error(
                        "Value for unconfigurable attribute",
                        format!(
                            "Can't configure a value for \"{name}\": its value will be decided automatically based on the result of applying this configuration."
                        ),
                        &attr.expr.range(),
                    );
                }
                v
            }
            Err(e) => {
                self.error(
                    "Incorrect attribute value type",
                    format!(
                        "Inappropriate value for attribute \"{}\": {}.",
                        attr.name,
                        conversion_message(&e, &want)
                    ),
                    &attr.expr.range(),
                );
                unknown
            }
        }
    }

    fn unsupported_argument(&mut self, attr: &Attr, block: &Block) {
        let name = &attr.name;
        if is_json(&attr.expr) {
            let hint = suggest(
                name,
                block.attributes.keys().chain(block.block_types.keys()),
            )
            .map(|s| format!(" Did you mean \"{s}\"?"))
            .unwrap_or_default();
            self.error(
                "Extraneous JSON object property",
                format!("No argument or block type is named \"{name}\".{hint}"),
                &attr.name_range,
            );
            return;
        }
        let detail = if block.block_types.contains_key(name) {
            format!(
                "An argument named \"{name}\" is not expected here. Did you mean to define a block of type \"{name}\"?"
            )
        } else {
            let hint = suggest(name, block.attributes.keys())
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            format!("An argument named \"{name}\" is not expected here.{hint}")
        };
        self.error("Unsupported argument", detail, &attr.name_range);
    }

    fn unsupported_block(&mut self, ty: &str, range: &SourceRange, block: &Block) {
        let detail = if block.attributes.contains_key(ty) {
            format!(
                "Blocks of type \"{ty}\" are not expected here. Did you mean to define argument \"{ty}\"? If so, use the equals sign to assign it a value."
            )
        } else {
            let hint = suggest(ty, block.block_types.keys())
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            format!("Blocks of type \"{ty}\" are not expected here.{hint}")
        };
        self.error("Unsupported block type", detail, range);
    }

    /// Map blocks take exactly one label (the key); all others take none.
    fn check_labels(&mut self, cb: &ConfigBlock, nested: &NestedBlock) -> bool {
        let want = usize::from(nested.nesting == Nesting::Map);
        let ty = &cb.ty;
        if cb.labels.len() > want {
            let detail = if want == 0 {
                format!("No labels are expected for {ty} blocks.")
            } else {
                format!("Only 1 labels (key) are expected for {ty} blocks.")
            };
            self.error(&format!("Extraneous label for {ty}"), detail, &cb.def_range);
            return false;
        }
        if cb.labels.len() < want {
            self.error(
                &format!("Missing key for {ty}"),
                format!("All {ty} blocks must have 1 labels (key)."),
                &cb.def_range,
            );
            return false;
        }
        true
    }

    /// An object-valued argument in a JSON body that stands for one or more
    /// blocks: an object is one block (for map nesting, an object of
    /// objects keyed by label), an array is several.
    fn json_blocks<'c>(
        &mut self,
        attr: &'c Attr,
        nested: &NestedBlock,
        frames: &Iterators,
        out: &mut Vec<Item<'c>>,
    ) {
        let file = &attr.expr.file;
        let bodies: Vec<(Vec<String>, &Expression)> = match (&attr.expr.expr, nested.nesting) {
            (Expression::Object(obj), Nesting::Map) => obj
                .iter()
                .filter_map(|(k, v)| object_key(k).map(|k| (vec![k], v.expr())))
                .collect(),
            (Expression::Object(_), _) => vec![(Vec::new(), &attr.expr.expr)],
            (Expression::Array(items), Nesting::Map) => items
                .iter()
                .flat_map(|item| match item {
                    Expression::Object(obj) => obj
                        .iter()
                        .filter_map(|(k, v)| object_key(k).map(|k| (vec![k], v.expr())))
                        .collect(),
                    other => vec![(Vec::new(), other)],
                })
                .collect(),
            (Expression::Array(items), _) => items.iter().map(|e| (Vec::new(), e)).collect(),
            _ => {
                self.error(
                    "Incorrect JSON value type",
                    format!(
                        "Either a JSON object or a JSON array is required, representing the contents of one or more \"{}\" blocks.",
                        attr.name
                    ),
                    &attr.expr.range(),
                );
                return;
            }
        };
        for (labels, expr) in bodies {
            let Expression::Object(obj) = expr else {
                self.error(
                    "Incorrect JSON value type",
                    format!(
                        "A JSON object is required here, to define arguments and child blocks of a \"{}\" block.",
                        attr.name
                    ),
                    &file.range(expr.span().unwrap_or(0..0)),
                );
                continue;
            };
            let range = file.range(expr.span().unwrap_or(0..0));
            let dynamic_is_block = !nested.block.attributes.contains_key("dynamic");
            let body = json_object_content(obj, file, range.clone(), dynamic_is_block);
            out.push(Item {
                labels,
                body: Cow::Owned(body),
                frames: frames.to_vec(),
                def_range: range,
                unknown: false,
            });
        }
    }

    /// Expands one `dynamic "type" { ... }` block into items.
    fn dynamic<'c>(
        &mut self,
        cb: &'c ConfigBlock,
        frames: &Iterators,
        block: &Block,
        items: &mut BTreeMap<String, Vec<Item<'c>>>,
    ) {
        let Some(ty) = cb.labels.first() else {
            self.error(
                "Missing name for dynamic",
                "All dynamic blocks must have 1 labels (type).".to_owned(),
                &cb.def_range,
            );
            return;
        };
        let Some(nested) = block.block_types.get(ty) else {
            // hcl's dynblock words this one without suggestions.
            self.error(
                "Unsupported block type",
                format!("Blocks of type \"{ty}\" are not expected here."),
                &cb.def_range,
            );
            return;
        };
        let wants_labels = nested.nesting == Nesting::Map;
        let body = &cb.body;
        let mut spec_ok = true;
        for (name, attr) in &body.attrs {
            let known = matches!(name.as_str(), "for_each" | "iterator")
                || (name == "labels" && wants_labels)
                || (name == "content" && is_json(&attr.expr));
            if !known {
                let hint = suggest(name, dynamic_arguments(wants_labels))
                    .map(|s| format!(" Did you mean \"{s}\"?"))
                    .unwrap_or_default();
                self.error(
                    "Unsupported argument",
                    format!("An argument named \"{name}\" is not expected here.{hint}"),
                    &attr.name_range,
                );
                spec_ok = false;
            }
        }
        for inner in &body.blocks {
            if inner.ty != "content" {
                let hint = suggest(&inner.ty, ["content"])
                    .map(|s| format!(" Did you mean \"{s}\"?"))
                    .unwrap_or_default();
                self.error(
                    "Unsupported block type",
                    format!(
                        "Blocks of type \"{}\" are not expected here.{hint}",
                        inner.ty
                    ),
                    &inner.type_range,
                );
                spec_ok = false;
            }
        }
        let Some(for_each) = body.attrs.get("for_each") else {
            self.error(
                "Missing required argument",
                "The argument \"for_each\" is required, but no definition was found.".to_owned(),
                &missing_item_range(body),
            );
            return;
        };
        if !spec_ok {
            return;
        }
        let content_body: Cow<'c, Content> = match body.attrs.get("content") {
            // JSON syntax gives the content block as an object property.
            Some(attr) => match &attr.expr.expr {
                Expression::Object(obj) => Cow::Owned(json_object_content(
                    obj,
                    &attr.expr.file,
                    attr.expr.range(),
                    !nested.block.attributes.contains_key("dynamic"),
                )),
                _ => {
                    self.error(
                        "Incorrect JSON value type",
                        "A JSON object is required here, to define arguments and child blocks of a \"content\" block.".to_owned(),
                        &attr.expr.range(),
                    );
                    return;
                }
            },
            None => {
                let mut contents = body.blocks_of("content");
                let Some(content) = contents.next() else {
                    self.error(
                        "Missing dynamic content block",
                        "A dynamic block must have a nested block of type \"content\" to describe the body of each generated block.".to_owned(),
                        &missing_item_range(body),
                    );
                    return;
                };
                if let Some(extra) = contents.next() {
                    self.error(
                        "Extraneous dynamic content block",
                        "Only one nested content block is allowed for each dynamic block."
                            .to_owned(),
                        &extra.def_range,
                    );
                    return;
                }
                Cow::Borrowed(&content.body)
            }
        };
        let iterator = match body.attrs.get("iterator") {
            None => ty.clone(),
            Some(attr) => match &attr.expr.expr {
                Expression::Variable(v) => v.as_str().to_owned(),
                // JSON syntax writes the name as a string.
                Expression::String(name) if is_json(&attr.expr) && is_identifier(name.value()) => {
                    name.value().clone()
                }
                _ => {
                    self.error(
                        "Invalid dynamic iterator name",
                        "Dynamic iterator must be a single variable name.".to_owned(),
                        &attr.expr.range(),
                    );
                    return;
                }
            },
        };
        let label_exprs: Vec<Expr> = match body.attrs.get("labels") {
            None => Vec::new(),
            Some(attr) => match &attr.expr.expr {
                Expression::Array(a) => a
                    .iter()
                    .map(|e| Expr {
                        expr: e.clone(),
                        file: attr.expr.file.clone(),
                    })
                    .collect(),
                _ => {
                    self.error(
                        "Invalid expression",
                        "A static list expression is required.".to_owned(),
                        &attr.expr.range(),
                    );
                    return;
                }
            },
        };
        if let Some(attr) = body.attrs.get("labels") {
            let want = usize::from(wants_labels);
            if label_exprs.len() != want {
                let summary = if label_exprs.len() < want {
                    "Insufficient dynamic block labels"
                } else {
                    "Extraneous dynamic block labels"
                };
                self.error(
                    summary,
                    format!("Blocks of type \"{ty}\" require {want} label(s)."),
                    &attr.expr.range(),
                );
                return;
            }
        } else if wants_labels {
            self.error(
                "Insufficient dynamic block labels",
                format!("Blocks of type \"{ty}\" require 1 label(s)."),
                &cb.def_range,
            );
            return;
        }

        let each = match self.scope.eval(&for_each.expr, frames) {
            Ok(v) => v,
            Err(diags) => {
                self.diags.extend(diags);
                return;
            }
        };
        let each_range = for_each.expr.range();
        if each.is_null() {
            self.error(
                "Invalid dynamic for_each value",
                "Cannot use a null value in for_each.".to_owned(),
                &each_range,
            );
            return;
        }
        let list = items.entry(ty.clone()).or_default();
        let elements: Vec<(Value, Value)> = match each.data() {
            Data::Unknown(t) if can_iterate(t) || *t == Type::Dynamic => {
                // One block with an unknown iterator: its content is checked,
                // and the whole collection of blocks becomes unknown.
                let mut frames = frames.to_vec();
                frames.push((iterator, unknown_iteration()));
                list.push(Item {
                    labels: vec![String::new(); usize::from(wants_labels)],
                    body: content_body,
                    frames,
                    def_range: cb.def_range.clone(),
                    unknown: true,
                });
                return;
            }
            Data::List(_, xs) | Data::Tuple(xs) => xs
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::int(i as i64), v.clone()))
                .collect(),
            Data::Set(_, xs) => xs.iter().map(|v| (v.clone(), v.clone())).collect(),
            Data::Map(_, xs) | Data::Object(xs) => xs
                .iter()
                .map(|(k, v)| (Value::string(k.clone()), v.clone()))
                .collect(),
            _ => {
                self.error(
                    "Invalid dynamic for_each value",
                    format!(
                        "Cannot use a {} value in for_each. An iterable collection is required.",
                        friendly_name(&each.ty())
                    ),
                    &each_range,
                );
                return;
            }
        };
        let sensitive = each.is_sensitive();
        for (key, value) in elements {
            let iteration = Value::object(BTreeMap::from([
                ("key".to_owned(), key.mark_sensitive_if(sensitive)),
                ("value".to_owned(), value.mark_sensitive_if(sensitive)),
            ]));
            let mut inner = frames.to_vec();
            inner.push((iterator.clone(), iteration));
            let mut labels = Vec::new();
            let mut unknown = false;
            for label in &label_exprs {
                match self.label(label, &inner) {
                    Some(Some(l)) => labels.push(l),
                    Some(None) => {
                        unknown = true;
                        labels.push(String::new());
                    }
                    None => return,
                }
            }
            list.push(Item {
                labels,
                body: content_body.clone(),
                frames: inner,
                def_range: cb.def_range.clone(),
                unknown,
            });
        }
    }

    /// Evaluates one dynamic block label: `None` after an error,
    /// `Some(None)` when it is not known yet.
    fn label(&mut self, expr: &Expr, frames: &Iterators) -> Option<Option<String>> {
        let value = match self.scope.eval(expr, frames) {
            Ok(v) => v,
            Err(diags) => {
                self.diags.extend(diags);
                return None;
            }
        };
        let range = expr.range();
        let value = match convert(&value, &Type::String) {
            Ok(v) => v,
            Err(e) => {
                self.error(
                    "Invalid dynamic block label",
                    format!(
                        "Cannot use this value as a dynamic block label: {}.",
                        conversion_message(&e, &Type::String)
                    ),
                    &range,
                );
                return None;
            }
        };
        if value.is_null() {
            self.error(
                "Invalid dynamic block label",
                "Cannot use a null value as a dynamic block label.".to_owned(),
                &range,
            );
            return None;
        }
        if value.contains_sensitive() {
            self.error(
                "Invalid dynamic block label",
                "Cannot use a marked value as a dynamic block label.".to_owned(),
                &range,
            );
            return None;
        }
        Some(value.as_str().map(str::to_owned))
    }

    /// The value of one block type from its items, by nesting mode.
    fn blocks(
        &mut self,
        name: &str,
        nested: &NestedBlock,
        items: Vec<Item<'_>>,
        parent: &Content,
    ) -> Value {
        let object_type = value_type(&nested.block.implied_type());
        let any_unknown = items.iter().any(|i| i.unknown);
        let mut decoded: Vec<Decoded> = Vec::new();
        for item in &items {
            let v = self.body(&item.body, &item.frames, &nested.block);
            if !item.unknown {
                decoded.push(Decoded {
                    labels: item.labels.clone(),
                    value: v,
                    def_range: item.def_range.clone(),
                    body_range: item.body.range.clone(),
                });
            }
        }
        match nested.nesting {
            Nesting::Single | Nesting::Group => {
                if let Some(second) = items.get(1) {
                    let first = &items[0].def_range;
                    self.error(
                        &format!("Duplicate {name} block"),
                        format!(
                            "Only one block of type \"{name}\" is allowed. Previous definition was at {}.",
                            hcl_range(first)
                        ),
                        &second.def_range,
                    );
                }
                if any_unknown {
                    return Value::unknown(object_type);
                }
                match decoded.into_iter().next() {
                    Some(d) => d.value,
                    None => {
                        if nested.min_items > 0 {
                            self.error(
                                &format!("Missing {name} block"),
                                format!("A block of type \"{name}\" is required here."),
                                &missing_item_range(parent),
                            );
                        }
                        if nested.nesting == Nesting::Group {
                            empty_value(&nested.block)
                        } else {
                            Value::null(object_type)
                        }
                    }
                }
            }
            Nesting::List | Nesting::Set => {
                let dynamic_inner = object_type.has_dynamic();
                let whole_type = match (nested.nesting, dynamic_inner) {
                    (Nesting::List, true) => Type::Dynamic,
                    (Nesting::List, false) => Type::list(object_type.clone()),
                    _ => Type::set(object_type.clone()),
                };
                if any_unknown {
                    return Value::unknown(whole_type);
                }
                self.check_count(name, nested, &decoded, parent);
                let values: Vec<Value> = decoded.into_iter().map(|d| d.value).collect();
                match (nested.nesting, dynamic_inner) {
                    (Nesting::List, true) => Value::tuple(values),
                    (Nesting::List, false) => Value::list(object_type, values),
                    _ => Value::set(object_type, values),
                }
            }
            Nesting::Map => {
                let dynamic_inner = object_type.has_dynamic();
                if any_unknown {
                    let t = if dynamic_inner {
                        Type::Dynamic
                    } else {
                        Type::map(object_type)
                    };
                    return Value::unknown(t);
                }
                let mut out: BTreeMap<String, Value> = BTreeMap::new();
                for d in decoded {
                    let key = d.labels.into_iter().next().unwrap_or_default();
                    if out.contains_key(&key) {
                        self.error(
                            &format!("Duplicate {name} block"),
                            format!(
                                "A block for {name} \"{key}\" was already defined. The {name} labels must be unique."
                            ),
                            &d.def_range,
                        );
                        continue;
                    }
                    out.insert(key, d.value);
                }
                if dynamic_inner {
                    Value::object(out)
                } else {
                    Value::map(object_type, out)
                }
            }
        }
    }

    fn check_count(
        &mut self,
        name: &str,
        nested: &NestedBlock,
        decoded: &[Decoded],
        parent: &Content,
    ) {
        let n = decoded.len() as u64;
        if n < nested.min_items {
            let range = missing_item_range(parent);
            self.error(
                &format!("Insufficient {name} blocks"),
                format!(
                    "At least {} \"{name}\" blocks are required.",
                    nested.min_items
                ),
                &range,
            );
        } else if nested.max_items > 0 && n > nested.max_items {
            let range = decoded[nested.max_items as usize].body_range.clone();
            self.error(
                &format!("Too many {name} blocks"),
                format!(
                    "No more than {} \"{name}\" blocks are allowed",
                    nested.max_items
                ),
                &range,
            );
        }
    }
}

/// The list- or set-of-object attributes that `content` writes as nested
/// blocks (or `dynamic` blocks) instead of as arguments.
fn attributes_written_as_blocks(content: &Content, block: &Block) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cb in &content.blocks {
        let name = if cb.ty == "dynamic" {
            match cb.labels.first() {
                Some(l) => l,
                None => continue,
            }
        } else {
            &cb.ty
        };
        let Some(a) = block.attributes.get(name) else {
            continue;
        };
        let of_objects = matches!(
            &a.ty,
            AttributeType::Type(Type::List(e) | Type::Set(e)) if matches!(**e, Type::Object { .. })
        );
        if of_objects
            && !block.block_types.contains_key(name)
            && !content.attrs.contains_key(name)
            && !out.contains(name)
        {
            out.push(name.clone());
        }
    }
    out
}

/// The nested block type standing for a list- or set-of-object attribute
/// written as blocks: every object attribute optional.
fn attribute_as_block(a: &Attribute) -> NestedBlock {
    let (nesting, element) = match &a.ty {
        AttributeType::Type(Type::Set(e)) => (Nesting::Set, (**e).clone()),
        AttributeType::Type(Type::List(e)) => (Nesting::List, (**e).clone()),
        _ => (Nesting::List, Type::Dynamic),
    };
    let mut inner = Block::default();
    if let Type::Object { attrs, .. } = element {
        for (name, t) in attrs.iter() {
            let mut member = Attribute::new(t.clone());
            member.optional = true;
            inner.attributes.insert(name.clone(), member);
        }
    }
    NestedBlock {
        nesting,
        block: inner,
        min_items: 0,
        max_items: 0,
    }
}

/// The body a JSON object stands for: one attribute per property, except
/// that a `dynamic` property (when `dynamic_is_block`) becomes the
/// `dynamic "type"` blocks it describes.
fn json_object_content(
    obj: &Object,
    file: &Arc<SourceFile>,
    range: SourceRange,
    dynamic_is_block: bool,
) -> Content {
    let mut body = Content::empty(range);
    for (k, v) in obj.iter() {
        let Some(name) = object_key(k) else { continue };
        let name_range = file.range(k.span().unwrap_or(0..0));
        if name == "dynamic" && dynamic_is_block {
            if let Expression::Object(types) = v.expr() {
                for (tk, tv) in types.iter() {
                    let Some(ty) = object_key(tk) else { continue };
                    let specs: Vec<&Expression> = match tv.expr() {
                        Expression::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for spec in specs {
                        let Expression::Object(spec_obj) = spec else {
                            continue;
                        };
                        let spec_range = file.range(spec.span().unwrap_or(0..0));
                        body.blocks.push(ConfigBlock {
                            ty: "dynamic".to_owned(),
                            labels: vec![ty.clone()],
                            body: json_object_content(spec_obj, file, spec_range, false),
                            def_range: file.range(tk.span().unwrap_or(0..0)),
                            type_range: name_range.clone(),
                        });
                    }
                }
                continue;
            }
        }
        let value_span = v.expr().span().unwrap_or(0..0);
        let whole = k
            .span()
            .map_or(value_span.clone(), |ks| ks.start..value_span.end);
        body.attrs.insert(
            name.clone(),
            Attr {
                name,
                expr: Expr {
                    expr: v.expr().clone(),
                    file: file.clone(),
                },
                range: file.range(whole),
                name_range,
            },
        );
    }
    body
}

/// The names of computed-only attributes that `value` sets (non-null),
/// `schema` itself or members of its nested attribute objects.
fn unconfigurable_members(name: &str, schema: &Attribute, value: &Value, out: &mut Vec<String>) {
    if value.is_null() {
        return;
    }
    if schema.computed && !schema.optional && !schema.required {
        out.push(name.to_owned());
        return;
    }
    let AttributeType::Nested(nt) = &schema.ty else {
        return;
    };
    let objects: Vec<&Value> = match (nt.nesting, value.data()) {
        (Nesting::Single | Nesting::Group, Data::Object(_)) => vec![value],
        (_, Data::List(_, xs) | Data::Set(_, xs) | Data::Tuple(xs)) => xs.iter().collect(),
        (Nesting::Map, Data::Map(_, xs)) => xs.values().collect(),
        _ => Vec::new(),
    };
    for object in objects {
        for (member, member_schema) in &nt.attributes {
            if let Some(v) = object.get_attr(member) {
                unconfigurable_members(member, member_schema, v, out);
            }
        }
    }
}

fn dynamic_arguments(with_labels: bool) -> &'static [&'static str] {
    if with_labels {
        &["for_each", "iterator", "labels"]
    } else {
        &["for_each", "iterator"]
    }
}

/// The iterator object of a dynamic block whose `for_each` is unknown.
fn unknown_iteration() -> Value {
    Value::object(BTreeMap::from([
        ("key".to_owned(), Value::unknown(Type::Dynamic)),
        ("value".to_owned(), Value::unknown(Type::Dynamic)),
    ]))
}

fn can_iterate(t: &Type) -> bool {
    matches!(
        t,
        Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Tuple(_) | Type::Object { .. }
    )
}

fn object_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_owned()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().clone()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_owned()),
        _ => None,
    }
}

/// HCL's identifier rule: a letter or `_`, then letters, digits, `_`, `-`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Whether an expression comes from a JSON-syntax file.
fn is_json(expr: &Expr) -> bool {
    expr.file.name.ends_with(".json")
}

/// Where a missing argument or block is reported: the start of the body.
fn missing_item_range(content: &Content) -> SourceRange {
    let mut r = content.range.clone();
    r.end = r.start;
    r
}

/// A range as HCL prints it inside a message: `main.tf:3,3-10`.
fn hcl_range(r: &SourceRange) -> String {
    if r.start.line == r.end.line {
        format!(
            "{}:{},{}-{}",
            r.file, r.start.line, r.start.column, r.end.column
        )
    } else {
        format!(
            "{}:{},{}-{},{}",
            r.file, r.start.line, r.start.column, r.end.line, r.end.column
        )
    }
}

/// The type configuration values of an attribute are converted to: its
/// type, with the optional and computed members of nested attribute
/// objects marked optional (so they may be left out).
pub fn attribute_constraint(attr: &Attribute) -> Type {
    match &attr.ty {
        AttributeType::Type(t) => t.clone(),
        AttributeType::Nested(n) => {
            let attrs: BTreeMap<String, Type> = n
                .attributes
                .iter()
                .map(|(k, a)| (k.clone(), attribute_constraint(a)))
                .collect();
            let optional = n
                .attributes
                .iter()
                .filter(|(_, a)| a.optional || a.computed)
                .map(|(k, _)| k.clone())
                .collect();
            let object = Type::object_with_optional(attrs, optional);
            match n.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => Type::list(object),
                Nesting::Set => Type::set(object),
                Nesting::Map => Type::map(object),
            }
        }
    }
}

/// A type as values have it: without `optional(...)` markers.
pub fn value_type(t: &Type) -> Type {
    without_markers(t).unwrap_or_else(|| t.clone())
}

/// `t` without `optional(...)` markers, or `None` when it has none (the
/// common case: then the shared type is reused rather than rebuilt).
fn without_markers(t: &Type) -> Option<Type> {
    match t {
        Type::List(e) => without_markers(e).map(Type::list),
        Type::Set(e) => without_markers(e).map(Type::set),
        Type::Map(e) => without_markers(e).map(Type::map),
        Type::Tuple(es) => {
            let changed: Vec<Option<Type>> = es.iter().map(without_markers).collect();
            if changed.iter().all(Option::is_none) {
                return None;
            }
            Some(Type::Tuple(
                changed
                    .into_iter()
                    .zip(es.iter())
                    .map(|(c, e)| c.unwrap_or_else(|| e.clone()))
                    .collect(),
            ))
        }
        Type::Object { attrs, optional } => {
            let changed: Vec<(&String, Option<Type>)> =
                attrs.iter().map(|(k, t)| (k, without_markers(t))).collect();
            if optional.is_empty() && changed.iter().all(|(_, c)| c.is_none()) {
                return None;
            }
            Some(Type::object(changed.into_iter().map(|(k, c)| {
                let t = c.unwrap_or_else(|| attrs[k].clone());
                (k.clone(), t)
            })))
        }
        _ => None,
    }
}

/// Rebuilds a converted value so that no type inside it (of nulls,
/// unknowns and empty collections) keeps `optional(...)` markers.
pub fn strip_optional_markers(v: Value) -> Value {
    let sensitive = v.is_sensitive();
    let out = match v.into_data() {
        Data::Null(t) => Value::null(value_type(&t)),
        Data::Unknown(t) => Value::unknown(value_type(&t)),
        Data::List(t, xs) => Value::list(
            value_type(&t),
            xs.into_iter().map(strip_optional_markers).collect(),
        ),
        Data::Set(t, xs) => Value::set(
            value_type(&t),
            xs.into_iter().map(strip_optional_markers).collect(),
        ),
        Data::Map(t, xs) => Value::map(
            value_type(&t),
            xs.into_iter()
                .map(|(k, v)| (k, strip_optional_markers(v)))
                .collect(),
        ),
        Data::Tuple(xs) => Value::tuple(xs.into_iter().map(strip_optional_markers).collect()),
        Data::Object(xs) => Value::object(
            xs.into_iter()
                .map(|(k, v)| (k, strip_optional_markers(v)))
                .collect(),
        ),
        other => Value::from_data(other),
    };
    out.mark_sensitive_if(sensitive)
}

/// The value of a block with nothing in it: attributes null, single
/// blocks null, group blocks empty, list/set/map blocks empty collections
/// (Terraform's `Block.EmptyValue`).
pub fn empty_value(block: &Block) -> Value {
    let mut out = BTreeMap::new();
    for (name, a) in &block.attributes {
        out.insert(name.clone(), Value::null(value_type(&a.implied_type())));
    }
    for (name, nb) in &block.block_types {
        let inner = value_type(&nb.block.implied_type());
        let v = match nb.nesting {
            Nesting::Single => Value::null(inner),
            Nesting::Group => empty_value(&nb.block),
            Nesting::List if inner.has_dynamic() => Value::tuple(Vec::new()),
            Nesting::List => Value::list(inner, Vec::new()),
            Nesting::Set => Value::set(inner, Vec::new()),
            Nesting::Map if inner.has_dynamic() => Value::empty_object(),
            Nesting::Map => Value::map(inner, BTreeMap::new()),
        };
        out.insert(name.clone(), v);
    }
    Value::object(out)
}

/// A conversion failure in cty's words: a type mismatch names where inside
/// the value it is (`element "x": string required`), a value that cannot
/// be parsed (`a number is required`) does not.
///
/// `want` is the type converted to: a collection required where something
/// else was given is named by its constraint (`list of string required`).
pub fn conversion_message(e: &ConvertError, want: &Type) -> String {
    let (path, reason) = match e {
        ConvertError::Mismatch { path, reason } => {
            if reason.starts_with("a ") {
                return reason.clone();
            }
            let reason = match type_at(want, path) {
                Some(t @ (Type::List(_) | Type::Set(_) | Type::Map(_)))
                    if reason.ends_with(" required") =>
                {
                    format!("{} required", constraint_name(t))
                }
                _ => reason.clone(),
            };
            (path.as_slice(), reason)
        }
        ConvertError::MissingAttribute { path, name } => {
            (path.as_slice(), format!("attribute \"{name}\" is required"))
        }
        other => (other.path(), other.to_string()),
    };
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Attr(a) => out.push_str(&format!("attribute \"{a}\": ")),
            PathStep::Key(k) => out.push_str(&format!("element \"{k}\": ")),
            PathStep::Index(i) => out.push_str(&format!("element {i}: ")),
        }
    }
    out.push_str(&reason);
    out
}

/// The part of type `t` at `path` inside a value of it.
fn type_at<'t>(t: &'t Type, path: &[PathStep]) -> Option<&'t Type> {
    let Some((step, rest)) = path.split_first() else {
        return Some(t);
    };
    let inner = match (step, t) {
        (PathStep::Attr(a), Type::Object { attrs, .. }) => attrs.get(a)?,
        (PathStep::Index(_), Type::List(e) | Type::Set(e)) | (PathStep::Key(_), Type::Map(e)) => e,
        (PathStep::Index(i), Type::Tuple(es)) => es.get(*i)?,
        _ => return None,
    };
    type_at(inner, rest)
}

/// cty's name of a type constraint: as [`friendly_name`], but `any single
/// type` for the dynamic pseudo-type inside a collection.
fn constraint_name(t: &Type) -> String {
    match t {
        Type::List(e) => format!("list of {}", element_constraint_name(e)),
        Type::Set(e) => format!("set of {}", element_constraint_name(e)),
        Type::Map(e) => format!("map of {}", element_constraint_name(e)),
        Type::Dynamic => "any type".to_owned(),
        other => friendly_name(other),
    }
}

fn element_constraint_name(e: &Type) -> String {
    match e {
        Type::Dynamic => "any single type".to_owned(),
        other => constraint_name(other),
    }
}

/// cty's friendly name of a type (`list of string`).
pub fn friendly_name(t: &Type) -> String {
    match t {
        Type::String => "string".to_owned(),
        Type::Number => "number".to_owned(),
        Type::Bool => "bool".to_owned(),
        Type::List(e) => format!("list of {}", friendly_name(e)),
        Type::Set(e) => format!("set of {}", friendly_name(e)),
        Type::Map(e) => format!("map of {}", friendly_name(e)),
        Type::Tuple(_) => "tuple".to_owned(),
        Type::Object { .. } => "object".to_owned(),
        Type::Dynamic => "dynamic".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A schema like the fake provider's `fake_thing`, with one block of
    /// each nesting mode and a nested attribute type.
    fn schema() -> Block {
        let doc = json!({
            "attributes": {
                "id": {"type": "string", "computed": true},
                "name": {"type": "string", "required": true},
                "size": {"type": "number", "optional": true},
                "labels": {"type": ["set", "string"], "optional": true},
                "tags": {"type": ["map", "string"], "optional": true},
                "mtls": {"type": ["object", {"backend": "string", "mode": "string"}, ["backend", "mode"]], "optional": true},
                "ingress": {"type": ["list", ["object", {"from": "number", "cidr": "string"}]], "optional": true},
                "spec": {"nested_type": {"nesting_mode": "single", "attributes": {
                    "kind": {"type": "string", "required": true},
                    "port": {"type": "number", "optional": true}
                }}, "optional": true}
            },
            "block_types": {
                "rule": {"nesting_mode": "set", "block": {"attributes": {
                    "port": {"type": "number", "required": true},
                    "proto": {"type": "string", "optional": true}
                }}},
                "step": {"nesting_mode": "list", "max_items": 2, "block": {"attributes": {
                    "n": {"type": "number", "optional": true}
                }, "block_types": {
                    "sub": {"nesting_mode": "list", "block": {"attributes": {
                        "v": {"type": "string", "optional": true}
                    }}}
                }}},
                "meta": {"nesting_mode": "single", "block": {"attributes": {
                    "owner": {"type": "string", "optional": true}
                }}},
                "opts": {"nesting_mode": "group", "block": {"attributes": {
                    "fast": {"type": "bool", "optional": true}
                }}},
                "port": {"nesting_mode": "map", "block": {"attributes": {
                    "to": {"type": "number", "optional": true}
                }}}
            }
        });
        Block::from_json_value(&doc, "$").expect("valid schema")
    }

    /// The body of the only resource in a one-file module.
    fn content(file: &str, src: &str) -> Content {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(file), src).expect("write");
        let (module, diags) = meshform_config::load_module(dir.path());
        assert!(!diags.has_errors(), "{diags:?}");
        let resource = module.resources.values().next().expect("one resource");
        resource.config.clone()
    }

    fn scope() -> EvalContext {
        let var = Value::object(BTreeMap::from([
            (
                "ports".to_owned(),
                Value::tuple(vec![Value::int(22), Value::int(80)]),
            ),
            ("later".to_owned(), Value::unknown(Type::list(Type::Number))),
        ]));
        EvalContext::new().with_name("var", var)
    }

    fn decode(body: &str) -> (Value, Diagnostics) {
        let src = format!("resource \"fake_thing\" \"a\" {{\n{body}\n}}\n");
        decode_content(&content("main.tf", &src), &schema(), &scope())
    }

    fn json_of(v: &Value, name: &str) -> serde_json::Value {
        v.get_attr(name)
            .expect("attribute")
            .to_json()
            .expect("known value")
    }

    fn messages(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                let at = d
                    .subject
                    .as_ref()
                    .map(|s| format!("{}: ", s.start.line))
                    .unwrap_or_default();
                format!("{at}{}: {}", d.summary, d.detail)
            })
            .collect()
    }

    #[test]
    fn attributes_convert_and_missing_ones_are_null() {
        let (v, diags) = decode("name = 5\nlabels = [\"b\", \"a\", \"b\"]\nmtls = { backend = \"ca\", enabledBackend = \"x\" }");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(json_of(&v, "name"), json!("5"));
        assert_eq!(json_of(&v, "labels"), json!(["a", "b"]));
        assert_eq!(json_of(&v, "mtls"), json!({"backend": "ca", "mode": null}));
        assert_eq!(json_of(&v, "size"), json!(null));
        assert_eq!(v.get_attr("id"), Some(&Value::null(Type::String)));
        assert_eq!(v.ty(), value_type(&schema().implied_type()));
    }

    #[test]
    fn nested_attribute_types_take_optional_members() {
        let (v, diags) = decode("name = \"n\"\nspec = { kind = \"Mesh\" }");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(json_of(&v, "spec"), json!({"kind": "Mesh", "port": null}));
        let (_, diags) = decode("name = \"n\"\nspec = { port = 1 }");
        assert_eq!(
            messages(&diags),
            ["3: Incorrect attribute value type: Inappropriate value for attribute \"spec\": attribute \"kind\" is required."]
        );
    }

    #[test]
    fn blocks_follow_their_nesting_mode() {
        let (v, diags) = decode("name = \"n\"");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(json_of(&v, "rule"), json!([]));
        assert_eq!(json_of(&v, "step"), json!([]));
        assert_eq!(json_of(&v, "meta"), json!(null));
        assert_eq!(json_of(&v, "opts"), json!({"fast": null}));
        assert_eq!(json_of(&v, "port"), json!({}));

        let (v, diags) = decode(
            "name = \"n\"\nrule {\n port = 80\n}\nrule {\n port = 22\n proto = \"tcp\"\n}\nstep {\n sub {\n v = \"x\"\n }\n}\nmeta {\n owner = \"me\"\n}\nport \"http\" {\n to = 8080\n}",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            json_of(&v, "rule"),
            json!([{"port": 22, "proto": "tcp"}, {"port": 80, "proto": null}])
        );
        assert_eq!(
            json_of(&v, "step"),
            json!([{"n": null, "sub": [{"v": "x"}]}])
        );
        assert_eq!(json_of(&v, "meta"), json!({"owner": "me"}));
        assert_eq!(json_of(&v, "port"), json!({"http": {"to": 8080}}));
    }

    #[test]
    fn unsupported_arguments_and_blocks_are_reported_with_suggestions() {
        let (_, diags) = decode("name = \"n\"\nsise = 1\nrule = {}\nrulez {\n}\nsize {\n}");
        assert_eq!(
            messages(&diags),
            [
                "4: Unsupported argument: An argument named \"rule\" is not expected here. Did you mean to define a block of type \"rule\"?",
                "3: Unsupported argument: An argument named \"sise\" is not expected here. Did you mean \"size\"?",
                "5: Unsupported block type: Blocks of type \"rulez\" are not expected here. Did you mean \"rule\"?",
                "7: Unsupported block type: Blocks of type \"size\" are not expected here. Did you mean to define argument \"size\"? If so, use the equals sign to assign it a value.",
            ]
        );
    }

    #[test]
    fn missing_required_arguments_point_at_the_block() {
        let (v, diags) = decode("size = 1\nrule {\n}");
        assert_eq!(
            messages(&diags),
            [
                "1: Missing required argument: The argument \"name\" is required, but no definition was found.",
                "3: Missing required argument: The argument \"port\" is required, but no definition was found.",
            ]
        );
        assert_eq!(v.get_attr("name"), Some(&Value::null(Type::String)));
    }

    #[test]
    fn computed_only_attributes_cannot_be_set() {
        let (_, diags) = decode("name = \"n\"\nid = \"x\"");
        assert_eq!(
            messages(&diags),
            ["3: Value for unconfigurable attribute: Can't configure a value for \"id\": its value will be decided automatically based on the result of applying this configuration."]
        );
        let (_, diags) = decode("name = \"n\"\nid = null");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn type_errors_name_the_element() {
        let (v, diags) = decode("name = \"n\"\ntags = { x = [1] }\nsize = \"big\"");
        assert_eq!(
            messages(&diags),
            [
                "4: Incorrect attribute value type: Inappropriate value for attribute \"size\": a number is required.",
                "3: Incorrect attribute value type: Inappropriate value for attribute \"tags\": element \"x\": string required.",
            ]
        );
        assert_eq!(
            v.get_attr("tags"),
            Some(&Value::unknown(Type::map(Type::String)))
        );
    }

    #[test]
    fn collection_mismatches_name_the_wanted_collection() {
        let (_, diags) = decode("name = \"n\"\nlabels = \"x\"\ntags = [1]");
        assert_eq!(
            messages(&diags),
            [
                "3: Incorrect attribute value type: Inappropriate value for attribute \"labels\": set of string required.",
                "4: Incorrect attribute value type: Inappropriate value for attribute \"tags\": map of string required.",
            ]
        );
    }

    #[test]
    fn block_counts_and_duplicates_are_checked() {
        let (_, diags) = decode("name = \"n\"\nstep {\n}\nstep {\n}\nstep {\n}\nmeta {\n}\nmeta {\n}\nport \"a\" {\n}\nport \"a\" {\n}");
        let m = messages(&diags);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[0], "11: Duplicate meta block: Only one block of type \"meta\" is allowed. Previous definition was at main.tf:9,1-5.");
        assert_eq!(m[1], "15: Duplicate port block: A block for port \"a\" was already defined. The port labels must be unique.");
        assert_eq!(
            m[2],
            "7: Too many step blocks: No more than 2 \"step\" blocks are allowed"
        );
    }

    #[test]
    fn dynamic_blocks_expand_with_their_iterator() {
        let (v, diags) = decode(
            "name = \"n\"\ndynamic \"rule\" {\n for_each = var.ports\n content {\n port = rule.value\n proto = \"p${rule.key}\"\n }\n}\ndynamic \"port\" {\n for_each = { http = 80 }\n iterator = p\n labels = [p.key]\n content {\n to = p.value\n }\n}\ndynamic \"step\" {\n for_each = [1]\n content {\n n = step.value\n dynamic \"sub\" {\n for_each = [\"a\", \"b\"]\n content {\n v = \"${step.value}${sub.value}\"\n }\n }\n }\n}",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            json_of(&v, "rule"),
            json!([{"port": 22, "proto": "p0"}, {"port": 80, "proto": "p1"}])
        );
        assert_eq!(json_of(&v, "port"), json!({"http": {"to": 80}}));
        assert_eq!(
            json_of(&v, "step"),
            json!([{"n": 1, "sub": [{"v": "1a"}, {"v": "1b"}]}])
        );
    }

    #[test]
    fn an_unknown_for_each_makes_the_blocks_unknown() {
        let (v, diags) = decode(
            "name = \"n\"\nrule {\n port = 1\n}\ndynamic \"rule\" {\n for_each = var.later\n content {\n port = rule.value\n bogus = 1\n }\n}",
        );
        assert_eq!(
            messages(&diags),
            ["10: Unsupported argument: An argument named \"bogus\" is not expected here."]
        );
        let rule_type = value_type(&schema().block_types["rule"].block.implied_type());
        assert_eq!(
            v.get_attr("rule"),
            Some(&Value::unknown(Type::set(rule_type)))
        );
    }

    #[test]
    fn dynamic_block_mistakes_are_reported() {
        let (_, diags) = decode(
            "name = \"n\"\ndynamic \"rule\" {\n for_each = \"x\"\n content {\n port = 1\n }\n}\ndynamic \"meta\" {\n for_each = [1]\n}\ndynamic \"rule\" {\n for_each = null\n content {\n port = 1\n }\n}",
        );
        assert_eq!(
            messages(&diags),
            [
                "4: Invalid dynamic for_each value: Cannot use a string value in for_each. An iterable collection is required.",
                "9: Missing dynamic content block: A dynamic block must have a nested block of type \"content\" to describe the body of each generated block.",
                "13: Invalid dynamic for_each value: Cannot use a null value in for_each.",
            ]
        );
    }

    #[test]
    fn json_bodies_give_blocks_as_objects() {
        let src = r#"{"resource": {"fake_thing": {"a": {
            "name": "n",
            "rule": [{"port": 1}, {"port": 2, "proto": "udp"}],
            "meta": {"owner": "me"},
            "port": {"http": {"to": 80}},
            "sise": 1
        }}}}"#;
        let body = content("main.tf.json", src);
        let (v, diags) = decode_content(&body, &schema(), &scope());
        assert_eq!(
            json_of(&v, "rule"),
            json!([{"port": 1, "proto": null}, {"port": 2, "proto": "udp"}])
        );
        assert_eq!(json_of(&v, "meta"), json!({"owner": "me"}));
        assert_eq!(json_of(&v, "port"), json!({"http": {"to": 80}}));
        let m: Vec<String> = diags
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        assert_eq!(m, ["Extraneous JSON object property: No argument or block type is named \"sise\". Did you mean \"size\"?"]);
    }

    #[test]
    fn json_bodies_expand_dynamic_blocks() {
        let src = r#"{"resource": {"fake_thing": {"a": {
            "name": "n",
            "dynamic": {"rule": {"for_each": "${var.ports}", "content": {"port": "${rule.value}"}}},
            "step": [{"n": 1, "dynamic": {"sub": [{"for_each": ["a"], "iterator": "s", "content": {"v": "${s.value}"}}]}}]
        }}}}"#;
        let body = content("main.tf.json", src);
        let (v, diags) = decode_content(&body, &schema(), &scope());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            json_of(&v, "rule"),
            json!([{"port": 22, "proto": null}, {"port": 80, "proto": null}])
        );
        assert_eq!(json_of(&v, "step"), json!([{"n": 1, "sub": [{"v": "a"}]}]));
    }

    #[test]
    fn list_of_object_attributes_may_be_written_as_blocks() {
        let (v, diags) = decode(
            "name = \"n\"\ningress {\n from = 80\n}\ndynamic \"ingress\" {\n for_each = [443]\n content {\n from = ingress.value\n cidr = \"0.0.0.0/0\"\n }\n}",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            json_of(&v, "ingress"),
            json!([{"from": 80, "cidr": null}, {"from": 443, "cidr": "0.0.0.0/0"}])
        );
        assert_eq!(v.ty(), value_type(&schema().implied_type()));
        let (v, diags) = decode("name = \"n\"\ningress = [{ from = 1, cidr = \"c\" }]");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(json_of(&v, "ingress"), json!([{"from": 1, "cidr": "c"}]));
    }

    #[test]
    fn closures_are_scopes() {
        let src = "resource \"fake_thing\" \"a\" {\n name = each.key\n}\n";
        let body = content("main.tf", src);
        let each = |expr: &Expr, its: &Iterators| {
            let ctx = EvalContext::new().with_name(
                "each",
                Value::object(BTreeMap::from([("key".to_owned(), Value::string("k"))])),
            );
            ctx.eval(expr, its)
        };
        let (v, diags) = decode_content(&body, &schema(), &each);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(json_of(&v, "name"), json!("k"));
    }

    #[test]
    fn validation_evaluates_only_literals() {
        let src = "resource \"fake_thing\" \"a\" {\n name = var.undeclared\n size = \"big\"\n tags = { a = {} }\n bogus = 1\n dynamic \"rule\" {\n for_each = var.x\n content {\n port = \"p\"\n }\n }\n}\n";
        let diags = validate_content(&content("main.tf", src), &schema());
        assert_eq!(
            messages(&diags),
            [
                "5: Unsupported argument: An argument named \"bogus\" is not expected here.",
                "3: Incorrect attribute value type: Inappropriate value for attribute \"size\": a number is required.",
                "4: Incorrect attribute value type: Inappropriate value for attribute \"tags\": element \"a\": string required.",
                "9: Incorrect attribute value type: Inappropriate value for attribute \"port\": a number is required.",
            ]
        );
    }
}

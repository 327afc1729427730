//! Static validation of a configuration, as `meshform validate` runs it:
//! everything that can be checked without variable values, state or a
//! provider's API.

use meshform_config::{Content, Expr, Module};
use meshform_lang::hcl_edit::expr::{Expression, ObjectKey};
use meshform_lang::hcl_edit::Span;
use meshform_lang::{
    convert, eval, parse_type_constraint, Diagnostic, Diagnostics, EvalContext, PathStep,
    SourceRange, Type, Value,
};
use meshform_providers::ProviderRegistry;

use crate::decode::{decode_content, validate_content, Iterators};
use crate::graph;

/// Checks references (undeclared objects, cycles), variable declarations
/// (type constraints, defaults that fit them) in `root` and every loaded
/// child module; with a registry, also every resource body against its
/// provider's schema and the provider's own offline checks (such as Kuma
/// policy specs).
pub fn validate(root: &Module, registry: Option<&ProviderRegistry>) -> Diagnostics {
    let (graph, mut diags) = graph::build(root);
    if !diags.has_errors() {
        if let Err(cycles) = graph.order() {
            diags.extend(cycles);
        }
    }
    check_variables(root, &mut diags);
    diags.extend(crate::imports::import_targets(root).1);
    if let Some(registry) = registry {
        check_resources(root, registry, &mut diags);
    }
    diags
}

fn check_variables(m: &Module, diags: &mut Diagnostics) {
    for v in m.variables.values() {
        let constraint = match &v.type_expr {
            Some(t) => match parse_type_constraint(&t.expr, Some(&t.file)) {
                Ok(c) => Some(c),
                Err(ds) => {
                    diags.extend(ds);
                    continue;
                }
            },
            None => None,
        };
        let Some(default) = &v.default else { continue };
        // Defaults are constants: evaluated with no names in scope.
        let ctx = EvalContext::new().with_source(default.file.as_ref().clone());
        let value = match eval(&default.expr, &ctx) {
            Ok(value) => value,
            Err(ds) => {
                diags.extend(ds.into_iter().map(|mut d| {
                    if d.summary.starts_with("Variables not allowed") || d.summary.contains("undeclared") {
                        d.summary = "Variables not allowed".to_owned();
                        d.detail = "Variables may not be used here: a variable's default must be a constant.".to_owned();
                    }
                    d
                }));
                continue;
            }
        };
        if let Some(c) = constraint {
            if value.is_null() {
                continue;
            }
            if let Err(e) = convert(&value, &c.ty) {
                diags.push(
                    Diagnostic::error(
                        "Invalid default value for variable",
                        format!(
                            "This default value is not compatible with the variable's type constraint: {e}."
                        ),
                    )
                    .with_subject(default.range())
                    .with_context(format!("variable {:?}", v.name)),
                );
            }
        }
    }
    for call in m.module_calls.values() {
        if let Some(child) = &call.module {
            check_variables(child, diags);
        }
    }
}

/// Evaluates what can be known without values: literals stay, every
/// reference and function result that needs one becomes unknown.
fn constant_or_unknown(expr: &Expr, iterators: &Iterators) -> Result<Value, Diagnostics> {
    let mut ctx = EvalContext::new().with_source((*expr.file).clone());
    for r in meshform_lang::references(&expr.expr) {
        ctx.set_name(r.root.clone(), Value::unknown(Type::Dynamic));
    }
    for (name, _) in iterators {
        ctx.set_name(name.clone(), Value::unknown(Type::Dynamic));
    }
    // Anything that fails without values (a function of unknowns that
    // rejects them) is simply not known yet.
    Ok(eval(&expr.expr, &ctx).unwrap_or_else(|_| Value::unknown(Type::Dynamic)))
}

fn check_resources(m: &Module, registry: &ProviderRegistry, diags: &mut Diagnostics) {
    // Each resource is checked on its own, so the checks are spread over
    // the cores; the diagnostics keep the order of the resources.
    let resources: Vec<&meshform_config::Resource> = m.resources.values().collect();
    for part in crate::parallel::map_ordered(&resources, |r| {
        let mut out = Diagnostics::default();
        check_resource(m, r, registry, &mut out);
        out
    }) {
        diags.extend(part);
    }
    for call in m.module_calls.values() {
        if let Some(child) = &call.module {
            check_resources(child, registry, diags);
        }
    }
}

fn check_resource(
    m: &Module,
    r: &meshform_config::Resource,
    registry: &ProviderRegistry,
    diags: &mut Diagnostics,
) {
    let source = m.provider_source(&r.provider_ref().name);
    let Some(factory) = registry.get(&source) else {
        return;
    };
    let schema = factory.schema();
    let found = match r.mode {
        meshform_lang::addr::ResourceMode::Managed => schema.resources.get(&r.ty),
        meshform_lang::addr::ResourceMode::Data => schema.data_sources.get(&r.ty),
    };
    let Some(s) = found else {
        let what = match r.mode {
            meshform_lang::addr::ResourceMode::Managed => "resource type",
            meshform_lang::addr::ResourceMode::Data => "data source",
        };
        let mut d = Diagnostic::error(
            format!("Invalid {what}"),
            format!("The provider {source} does not support {what} {:?}.", r.ty),
        )
        .with_subject(r.type_range.clone())
        .with_context(r.block_label());
        let candidates: Vec<&String> = match r.mode {
            meshform_lang::addr::ResourceMode::Managed => schema.resources.keys().collect(),
            meshform_lang::addr::ResourceMode::Data => schema.data_sources.keys().collect(),
        };
        if let Some(s) = meshform_lang::suggest(&r.ty, candidates) {
            d = d.with_suggestion(format!("Did you mean {s:?}?"));
        }
        diags.push(d);
        return;
    };
    let body_diags = validate_content(&r.config, &s.block);
    let had_errors = body_diags.has_errors();
    diags.extend(body_diags.into_iter().map(|mut d| {
        d.context.get_or_insert_with(|| r.block_label());
        d
    }));
    if had_errors {
        return;
    }
    let (config, _) = decode_content(&r.config, &s.block, &constant_or_unknown);
    for (path, mut d) in factory.validate_resource_config_at(&r.ty, &config) {
        if d.subject.is_none() {
            d.subject = Some(
                path.as_deref()
                    .and_then(|p| range_at(&r.config, p))
                    .unwrap_or_else(|| r.decl_range.clone()),
            );
        }
        d.context.get_or_insert_with(|| r.block_label());
        diags.push(d);
    }
}

/// Where the value at `path` was written in a block body: the attribute,
/// then object keys and list elements inside its expression, as far as the
/// source spells them out.
pub fn range_at(content: &Content, path: &[PathStep]) -> Option<SourceRange> {
    let (first, rest) = path.split_first()?;
    let PathStep::Attr(name) = first else {
        return None;
    };
    if let Some(attr) = content.attr(name) {
        let mut expr = &attr.expr.expr;
        for step in rest {
            let next = match (step, expr) {
                (PathStep::Attr(k) | PathStep::Key(k), Expression::Object(obj)) => obj
                    .iter()
                    .find(|(key, _)| object_key_name(key).as_deref() == Some(k.as_str()))
                    .map(|(_, v)| v.expr()),
                (PathStep::Index(i), Expression::Array(items)) => items.iter().nth(*i),
                _ => None,
            };
            match next {
                Some(e) => expr = e,
                None => break,
            }
        }
        return Some(attr.expr.file.range(expr.span().unwrap_or(0..0)));
    }
    // A nested block of that name: descend into the first one.
    let block = content.blocks.iter().find(|b| &b.ty == name)?;
    range_at(&block.body, rest).or_else(|| Some(block.def_range.clone()))
}

fn object_key_name(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_owned()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_owned()),
        _ => None,
    }
}

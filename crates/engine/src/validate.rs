//! Static validation of a configuration, as `meshform validate` runs it:
//! everything that can be checked without variable values, state or a
//! provider's API.

use meshform_config::Module;
use meshform_lang::{convert, eval, parse_type_constraint, Diagnostic, Diagnostics, EvalContext};

use crate::graph;

/// Checks references (undeclared objects, cycles), variable declarations
/// (type constraints, defaults that fit them) in `root` and every loaded
/// child module.
pub fn validate(root: &Module) -> Diagnostics {
    let (graph, mut diags) = graph::build(root);
    if !diags.has_errors() {
        if let Err(cycles) = graph.order() {
            diags.extend(cycles);
        }
    }
    check_variables(root, &mut diags);
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

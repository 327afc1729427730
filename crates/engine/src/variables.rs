//! Root variable values: the raw values `config` collected, evaluated and
//! converted to each variable's type constraint, with its validations run.

use std::collections::BTreeMap;

use meshform_config::variables::{RawValue, VariableValue};
use meshform_config::Module;
use meshform_lang::{
    eval, parse_type_constraint, Diagnostic, Diagnostics, EvalContext, Type, TypeConstraint, Value,
};

/// Evaluates and converts every value; `missing` names required variables
/// with no value, which become unknown (offline previews may leave
/// credentials unset).
pub fn resolve(
    module: &Module,
    raw: &BTreeMap<String, VariableValue>,
    unknown_when_missing: bool,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut out = BTreeMap::new();
    for (name, decl) in &module.variables {
        let constraint = match &decl.type_expr {
            Some(t) => match parse_type_constraint(&t.expr, Some(&t.file)) {
                Ok(c) => c,
                Err(d) => {
                    diags.extend(d);
                    TypeConstraint::of(Type::Dynamic)
                }
            },
            None => TypeConstraint::of(Type::Dynamic),
        };
        let Some(given) = raw.get(name) else {
            if unknown_when_missing {
                out.insert(
                    name.clone(),
                    Value::unknown(constraint.ty.clone()).mark_sensitive_if(decl.sensitive),
                );
            } else {
                diags.push(meshform_config::variables::no_value_error(decl));
            }
            continue;
        };
        let value = match &given.raw {
            RawValue::String(s) => Value::string(s.clone()),
            RawValue::Expr(e) => {
                let ctx = EvalContext::new().with_source((*e.file).clone());
                match eval(&e.expr, &ctx) {
                    Ok(v) => v,
                    Err(d) => {
                        diags.extend(d);
                        continue;
                    }
                }
            }
        };
        if value.is_null() && !decl.nullable {
            diags.push(
                Diagnostic::error(
                    "Required variable not set",
                    format!("The variable {name:?} is required, but the given value is null."),
                )
                .with_subject(decl.decl_range.clone()),
            );
            continue;
        }
        let converted = if value.is_null() {
            Value::null(constraint.ty.clone())
        } else {
            match constraint.convert(&value) {
                Ok(v) => v,
                Err(e) => {
                    let mut d = Diagnostic::error(
                        "Invalid value for input variable",
                        format!(
                            "The value for variable {name:?} from {} is not suitable: {e}.",
                            given.source
                        ),
                    );
                    d.subject = given
                        .range
                        .clone()
                        .or_else(|| Some(decl.decl_range.clone()));
                    diags.push(d);
                    continue;
                }
            }
        };
        out.insert(name.clone(), converted.mark_sensitive_if(decl.sensitive));
    }
    (out, diags)
}

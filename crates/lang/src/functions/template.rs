//! `templatestring`: renders a template kept in a string elsewhere (a
//! variable, a local, a data source attribute) with only its vars in scope.
//! The evaluator checks first that the template argument is such a
//! reference, not a template written in place.

use std::collections::BTreeMap;

use super::filesystem::check_template_vars;
use super::{p, Args, FnError, FnResult, Func, T};
use crate::eval::{render_template_text, TemplateError, TemplateFn};
use crate::value::{Data, Value};

pub(crate) static FUNCS: &[Func] = &[Func {
    name: "templatestring",
    params: &[p("template", T::Any).null(), p("vars", T::Any)],
    variadic: None,
    ret: T::String,
    imp: templatestring,
}];

fn templatestring(a: &Args<'_, '_>) -> FnResult {
    // Exactly a string: a number or bool could not hold a template, so it
    // is more likely a mistake than a template.
    let Data::String(text) = a.get(0).data() else {
        return Err(FnError::arg(
            0,
            "invalid template value: a string is required",
        ));
    };
    let vars: BTreeMap<String, Value> = match a.get(1).data() {
        Data::Map(_, items) | Data::Object(items) => items.clone(),
        _ => return Err(FnError::arg(1, "invalid vars value: must be a map")),
    };
    check_template_vars(&vars)?;
    let out = render_template_text(a.ev, text, vars, TemplateFn::String).map_err(|e| match e {
        TemplateError::Parse(msg) => FnError::arg(0, format!("invalid template: {msg}")),
        TemplateError::MissingVar(name) => {
            FnError::arg(1, format!("vars map does not contain key {name:?}"))
        }
        TemplateError::Render(msg) => FnError::call(msg),
    })?;
    if out.is_null() {
        return Err(FnError::call(
            "Template result is null: the result of the template is null, which is not a valid result for a templatestring call",
        ));
    }
    crate::convert::convert(&out, &crate::types::Type::String)
        .map_err(|e| FnError::call(format!("invalid template result: {e}")))
}

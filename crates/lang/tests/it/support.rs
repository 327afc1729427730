//! Helpers: evaluate an expression source in a context.

use meshform_lang::{eval, hcl_edit, EvalContext, SourceFile, Value};

/// Parses `src` as an attribute value (so heredocs work) and evaluates it.
pub fn eval_src(src: &str, ctx: EvalContext) -> Result<Value, String> {
    let file = format!("x = {src}\n");
    let body = hcl_edit::parser::parse_body(&file).map_err(|e| e.to_string())?;
    let expr = body
        .get_attribute("x")
        .map(|a| a.value.clone())
        .ok_or("no attribute")?;
    let ctx = ctx.with_source(SourceFile::new("test.tf", file.clone()));
    eval(&expr, &ctx).map_err(|d| format!("{d:?}"))
}

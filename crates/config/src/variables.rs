//! Where root-module variable values come from, with Terraform's precedence:
//! defaults < `TF_VAR_name` < `terraform.tfvars` < `terraform.tfvars.json` <
//! `*.auto.tfvars(.json)` in lexical order < `-var-file`/`-var` in
//! command-line order.
//!
//! Values stay unevaluated here (an expression or a raw string); the engine
//! converts them to the declared type with `lang`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshform_lang::hcl_edit::expr::Expression;
use meshform_lang::hcl_edit::parser::parse_expr;
use meshform_lang::hcl_edit::structure::Structure;
use meshform_lang::hcl_edit::Span;
use meshform_lang::{Diagnostic, Diagnostics, SourceFile, SourceRange};

use crate::module::{Expr, Module, Variable};

/// Where a value was set, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Default,
    Environment(String),
    /// A variables file, by its display name.
    File(String),
    CommandLine,
}

impl std::fmt::Display for ValueSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueSource::Default => f.write_str("the default value"),
            ValueSource::Environment(name) => write!(f, "environment variable {name}"),
            ValueSource::File(name) => write!(f, "file {name}"),
            ValueSource::CommandLine => f.write_str("a -var option"),
        }
    }
}

/// A value before evaluation.
#[derive(Debug, Clone)]
pub enum RawValue {
    /// An HCL expression (from a default, a `.tfvars` file, a JSON file
    /// translated to an expression, or a `-var`/`TF_VAR_` value of a
    /// variable whose type is not primitive).
    Expr(Expr),
    /// A literal string (a `-var`/`TF_VAR_` value of a variable without a
    /// type or with a primitive type), converted to the type later.
    String(String),
}

/// The value chosen for one variable.
#[derive(Debug, Clone)]
pub struct VariableValue {
    pub source: ValueSource,
    pub raw: RawValue,
    pub range: Option<SourceRange>,
}

/// One `-var` or `-var-file` argument, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliVariable {
    /// `-var 'name=value'`.
    Var(String),
    /// `-var-file=path`.
    VarFile(PathBuf),
}

/// Collects the value of every declared root variable that has one, by
/// precedence. `env` holds the process environment (injected for tests).
pub fn collect_values(
    module: &Module,
    env: &[(String, String)],
    cli: &[CliVariable],
) -> (BTreeMap<String, VariableValue>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut values = BTreeMap::new();

    for v in module.variables.values() {
        if let Some(d) = &v.default {
            values.insert(
                v.name.clone(),
                VariableValue {
                    source: ValueSource::Default,
                    raw: RawValue::Expr(d.clone()),
                    range: Some(d.range()),
                },
            );
        }
    }

    let mut env_sorted: Vec<&(String, String)> = env.iter().collect();
    env_sorted.sort();
    for (key, value) in env_sorted {
        let Some(name) = key.strip_prefix("TF_VAR_") else {
            continue;
        };
        // Undeclared TF_VAR_ variables are ignored, as in Terraform: the
        // environment may serve several configurations.
        let Some(decl) = module.variables.get(name) else {
            continue;
        };
        let source = ValueSource::Environment(key.clone());
        if let Some(raw) = unparsed_value(decl, value, &source, &mut diags) {
            values.insert(
                name.to_owned(),
                VariableValue {
                    source,
                    raw,
                    range: None,
                },
            );
        }
    }

    let dir = &module.dir;
    let mut auto_files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                })
                .collect()
        })
        .unwrap_or_default();
    auto_files.sort();
    let mut files = vec![
        dir.join("terraform.tfvars"),
        dir.join("terraform.tfvars.json"),
    ];
    files.retain(|p| p.is_file());
    files.extend(auto_files);
    for f in files {
        load_var_file(module, &f, false, &mut values, &mut diags);
    }

    for arg in cli {
        match arg {
            CliVariable::VarFile(path) => {
                if !path.is_file() {
                    diags.push(Diagnostic::error(
                        "Failed to read variables file",
                        format!("Given variables file {} does not exist.", path.display()),
                    ));
                    continue;
                }
                load_var_file(module, path, true, &mut values, &mut diags);
            }
            CliVariable::Var(text) => {
                let Some((name, value)) = text.split_once('=') else {
                    diags.push(Diagnostic::error(
                        "Invalid -var option",
                        format!(
                            "The given -var option {text:?} is not correctly specified. It must be a variable name and value separated an equals sign, like -var=\"key=value\"."
                        ),
                    ));
                    continue;
                };
                let name = name.trim();
                let Some(decl) = module.variables.get(name) else {
                    diags.push(undeclared(name, "-var option", module, true));
                    continue;
                };
                let source = ValueSource::CommandLine;
                if let Some(raw) = unparsed_value(decl, value, &source, &mut diags) {
                    values.insert(
                        name.to_owned(),
                        VariableValue {
                            source,
                            raw,
                            range: None,
                        },
                    );
                }
            }
        }
    }
    (values, diags)
}

/// Declared variables with no value from any source: the ones Terraform
/// asks for on a terminal, or reports as "No value for required variable".
pub fn missing_required<'a>(
    module: &'a Module,
    values: &BTreeMap<String, VariableValue>,
) -> Vec<&'a Variable> {
    module
        .variables
        .values()
        .filter(|v| !values.contains_key(&v.name))
        .collect()
}

/// The "No value for required variable" error for `v`.
pub fn no_value_error(v: &Variable) -> Diagnostic {
    Diagnostic::error(
        "No value for required variable",
        format!(
            "The root module input variable {:?} is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.",
            v.name
        ),
    )
    .with_subject(v.decl_range.clone())
}

fn undeclared(name: &str, place: &str, module: &Module, is_error: bool) -> Diagnostic {
    let mut detail = format!(
        "A variable named {name:?} was assigned on the command line or in a variables file, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."
    );
    if let Some(s) = meshform_lang::suggest(name, module.variables.keys()) {
        detail.push_str(&format!(" Did you mean {s:?}?"));
    }
    let summary = format!("Value for undeclared variable (from {place})");
    if is_error {
        Diagnostic::error(summary, detail)
    } else {
        Diagnostic::warning(summary, detail)
    }
}

/// A value given as text (environment or `-var`): a literal string for
/// variables whose type is primitive or unset, else an HCL expression.
fn unparsed_value(
    decl: &Variable,
    text: &str,
    source: &ValueSource,
    diags: &mut Diagnostics,
) -> Option<RawValue> {
    if parses_as_literal(decl) {
        return Some(RawValue::String(text.to_owned()));
    }
    let name = format!("<value for var.{}>", decl.name);
    let file = Arc::new(SourceFile::new(name, text));
    match parse_expr(text) {
        Ok(expr) => Some(RawValue::Expr(Expr { expr, file })),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid value for variable",
                format!(
                    "The value for variable {:?} from {source} is not a valid expression: {}.",
                    decl.name,
                    e.message()
                ),
            ));
            None
        }
    }
}

/// Terraform parses text values literally unless the type constraint is
/// given and is not a primitive type.
fn parses_as_literal(decl: &Variable) -> bool {
    match &decl.type_expr {
        None => true,
        Some(t) => {
            matches!(&t.expr, Expression::Variable(v) if matches!(v.as_str(), "string" | "number" | "bool"))
        }
    }
}

fn load_var_file(
    module: &Module,
    path: &Path,
    explicit: bool,
    values: &mut BTreeMap<String, VariableValue>,
    diags: &mut Diagnostics,
) {
    let display: PathBuf = path
        .strip_prefix(&module.dir)
        .unwrap_or(path)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let display = display.to_string_lossy().into_owned();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read variables file",
                format!("Error reading {display}: {e}."),
            ));
            return;
        }
    };
    let file = Arc::new(SourceFile::new(display.as_str(), text));
    let parsed = if display.ends_with(".json") {
        crate::json::parse_tfvars_json(&file, diags)
    } else {
        crate::syntax::parse_file(file, diags)
    };
    let Some((file, body)) = parsed else {
        return;
    };
    let place = if explicit {
        "-var-file"
    } else {
        "variables file"
    };
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let name = a.key.as_str();
                let expr = Expr {
                    expr: a.value.clone(),
                    file: file.clone(),
                };
                if !module.variables.contains_key(name) {
                    let mut d = undeclared(name, place, module, false);
                    d.subject = Some(file.range(a.key.span().unwrap_or(0..0)));
                    diags.push(d);
                    continue;
                }
                values.insert(
                    name.to_owned(),
                    VariableValue {
                        source: ValueSource::File(display.clone()),
                        range: Some(expr.range()),
                        raw: RawValue::Expr(expr),
                    },
                );
            }
            Structure::Block(b) => diags.push(
                Diagnostic::error(
                    "Unexpected block in variables file",
                    "A variables file may only assign values (name = value), not contain blocks.",
                )
                .with_subject(file.range(b.ident.span().unwrap_or(0..0))),
            ),
        }
    }
}

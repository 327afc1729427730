//! Terraform's built-in function library.
//!
//! Each function declares its parameters (type, whether null, unknown and
//! sensitive arguments reach it); [`call`] converts the arguments, returns
//! an unknown result when a parameter that needs a known value gets an
//! unknown one, and marks the result sensitive when an argument was. The
//! functions themselves only see known, unmarked arguments unless they ask
//! otherwise. Modules follow the conformance categories.

mod cidr;
mod collection;
mod conversion;
mod crypto;
mod encoding;
mod filesystem;
mod format;
mod numeric;
mod string;
mod template;
mod time;
mod yaml;

use std::ops::Range;

pub(crate) use format::go_quote;

use crate::convert::convert;
use crate::eval::{EvalError, EvalResult, Evaluator, TemplateFn};
use crate::types::Type;
use crate::value::Value;

/// A parameter or return type in a function signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum T {
    String,
    Number,
    Bool,
    Any,
    ListString,
    ListNumber,
    ListBool,
    ListAny,
    SetString,
    SetAny,
    MapAny,
}

impl T {
    fn ty(self) -> Type {
        match self {
            T::String => Type::String,
            T::Number => Type::Number,
            T::Bool => Type::Bool,
            T::Any => Type::Dynamic,
            T::ListString => Type::list(Type::String),
            T::ListNumber => Type::list(Type::Number),
            T::ListBool => Type::list(Type::Bool),
            T::ListAny => Type::list(Type::Dynamic),
            T::SetString => Type::set(Type::String),
            T::SetAny => Type::set(Type::Dynamic),
            T::MapAny => Type::map(Type::Dynamic),
        }
    }
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct P {
    pub name: &'static str,
    pub ty: T,
    /// The function accepts a null argument.
    pub null: bool,
    /// The function handles unknown values itself.
    pub unknown: bool,
    /// The function handles sensitive marks itself.
    pub marked: bool,
    /// An argument of no type yet (an untyped `null`, or an unknown value
    /// of any type) makes the result unknown of no type, instead of
    /// reaching the function: cty calls this a parameter without
    /// `AllowDynamicType`. Only for parameters of type `any`.
    pub typed: bool,
}

pub(crate) const fn p(name: &'static str, ty: T) -> P {
    P {
        name,
        ty,
        null: false,
        unknown: false,
        marked: false,
        typed: false,
    }
}

impl P {
    pub const fn null(mut self) -> P {
        self.null = true;
        self
    }
    pub const fn unknown(mut self) -> P {
        self.unknown = true;
        self
    }
    pub const fn marked(mut self) -> P {
        self.marked = true;
        self
    }
    pub const fn typed(mut self) -> P {
        self.typed = true;
        self
    }
}

/// A failure inside a function: about one argument, or about the call.
#[derive(Debug, Clone)]
pub(crate) struct FnError {
    pub arg: Option<usize>,
    pub message: String,
}

impl FnError {
    pub fn arg(i: usize, message: impl Into<String>) -> FnError {
        FnError {
            arg: Some(i),
            message: message.into(),
        }
    }
    pub fn call(message: impl Into<String>) -> FnError {
        FnError {
            arg: None,
            message: message.into(),
        }
    }
}

pub(crate) type FnResult = Result<Value, FnError>;

/// The arguments of a call, after conversion.
pub(crate) struct Args<'e, 'c> {
    pub values: Vec<Value>,
    pub ev: &'e Evaluator<'c>,
}

impl Args<'_, '_> {
    pub fn get(&self, i: usize) -> &Value {
        &self.values[i]
    }
    pub fn str(&self, i: usize) -> &str {
        self.values
            .get(i)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn num(&self, i: usize) -> Result<&crate::number::Number, FnError> {
        self.values
            .get(i)
            .and_then(Value::as_number)
            .ok_or_else(|| FnError::arg(i, "a number is required"))
    }
    pub fn int(&self, i: usize) -> Result<i64, FnError> {
        let n = self.num(i)?;
        if !n.is_integer() {
            return Err(FnError::arg(i, "value must be a whole number"));
        }
        n.to_i64()
            .ok_or_else(|| FnError::arg(i, "value is out of range"))
    }
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// A built-in function.
pub(crate) struct Func {
    pub name: &'static str,
    pub params: &'static [P],
    pub variadic: Option<P>,
    /// The result type, for the unknown result of an unknown argument.
    pub ret: T,
    pub imp: fn(&Args<'_, '_>) -> FnResult,
}

static TABLE: &[&[Func]] = &[
    numeric::FUNCS,
    string::FUNCS,
    format::FUNCS,
    collection::FUNCS,
    encoding::FUNCS,
    yaml::FUNCS,
    filesystem::FUNCS,
    time::FUNCS,
    crypto::FUNCS,
    cidr::FUNCS,
    conversion::FUNCS,
    template::FUNCS,
];

fn table() -> &'static [&'static [Func]] {
    TABLE
}

/// The function called `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Func> {
    table()
        .iter()
        .flat_map(|t| t.iter())
        .find(|f| f.name == name)
}

/// Every function name (for suggestions), plus the lazy `try` and `can`.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table()
        .iter()
        .flat_map(|t| t.iter())
        .map(|f| f.name)
        .collect();
    v.push("try");
    v.push("can");
    v.sort_unstable();
    v
}

/// Functions a template rendered by `templatefile` or `templatestring` may
/// not call: the template functions themselves (no recursion), and inside
/// `templatestring` anything that reads files.
fn refuse_inside_template(name: &str, rendering: TemplateFn) -> Result<(), String> {
    if matches!(name, "templatefile" | "templatestring") {
        return Err(format!(
            "cannot recursively call {name} from inside another template function"
        ));
    }
    if rendering == TemplateFn::String && filesystem::reads_files(name) {
        return Err(format!("cannot use filesystem access functions like {name} in templatestring templates; consider passing the function result as a template variable instead"));
    }
    Ok(())
}

/// Calls a function with evaluated arguments.
pub(crate) fn call(
    func: &Func,
    ev: &Evaluator<'_>,
    args: Vec<Value>,
    arg_spans: &[Option<Range<usize>>],
    span: Option<Range<usize>>,
) -> EvalResult {
    let name = func.name;
    if args.len() < func.params.len() {
        let missing = func.params[args.len()].name;
        return Err(EvalError::new(
            "Not enough function arguments",
            format!(
                "Function \"{name}\" expects {} argument(s). Missing value for \"{missing}\".",
                func.params.len()
            ),
            span,
        ));
    }
    if args.len() > func.params.len() && func.variadic.is_none() {
        return Err(EvalError::new(
            "Too many function arguments",
            format!(
                "Function \"{name}\" expects only {} argument(s).",
                func.params.len()
            ),
            arg_spans.get(func.params.len()).cloned().flatten().or(span),
        ));
    }
    if let Some(rendering) = ev.rendering {
        refuse_inside_template(name, rendering).map_err(|message| {
            EvalError::new(
                "Error in function call",
                format!("Call to function \"{name}\" failed: {message}."),
                span.clone(),
            )
        })?;
    }
    let mut sensitive = false;
    let mut unknown = false;
    let mut untyped = false;
    let mut values = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        let Some(spec) = func.params.get(i).copied().or(func.variadic) else {
            break;
        };
        let arg_span = arg_spans.get(i).cloned().flatten().or_else(|| span.clone());
        let invalid = |msg: String| {
            EvalError::new(
                "Invalid function argument",
                format!("Invalid value for \"{}\" parameter: {msg}.", spec.name),
                arg_span.clone(),
            )
        };
        if arg.is_null() && !spec.null {
            return Err(invalid("argument must not be null".to_owned()));
        }
        let arg = if spec.marked {
            arg
        } else {
            sensitive |= arg.contains_sensitive();
            arg.unmark_deep()
        };
        let arg = if spec.ty == T::Any {
            arg
        } else {
            convert(&arg, &spec.ty.ty()).map_err(|e| invalid(e.to_string()))?
        };
        if !spec.unknown && !arg.is_wholly_known() {
            unknown = true;
        }
        if spec.typed && arg.ty() == Type::Dynamic {
            untyped = true;
        }
        values.push(arg);
    }
    if untyped {
        return Ok(Value::unknown(Type::Dynamic).mark_sensitive_if(sensitive));
    }
    if unknown {
        return Ok(Value::unknown(func.ret.ty()).mark_sensitive_if(sensitive));
    }
    let a = Args { values, ev };
    match (func.imp)(&a) {
        Ok(v) => Ok(v.mark_sensitive_if(sensitive)),
        Err(FnError {
            arg: Some(i),
            message,
        }) => {
            let pname = func
                .params
                .get(i)
                .or(func.variadic.as_ref())
                .map(|p| p.name)
                .unwrap_or("argument");
            Err(EvalError::new(
                "Invalid function argument",
                format!("Invalid value for \"{pname}\" parameter: {message}."),
                arg_spans.get(i).cloned().flatten().or(span),
            ))
        }
        Err(FnError { arg: None, message }) => Err(EvalError::new(
            "Error in function call",
            format!("Call to function \"{name}\" failed: {message}."),
            span,
        )),
    }
}

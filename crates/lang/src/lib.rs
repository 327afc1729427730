//! Terraform's expression language: values, types and evaluation.
//!
//! `lang` is the shared vocabulary of meshform: [`Value`] (typed nulls,
//! unknown values and the sensitive mark), [`Type`], [`Number`] (512-bit
//! binary floats printed as Terraform prints them), conversion and
//! unification ([`convert()`], [`unify`]), JSON ([`Value::to_json`],
//! [`Value::from_json`], [`implied_type`]), type constraints
//! ([`parse_type_constraint`]), the evaluator ([`eval()`] over hcl-edit
//! expressions with an [`EvalContext`]) with Terraform's whole built-in
//! function library, reference extraction ([`references`]) and the console
//! printer ([`format_for_console`]).
//!
//! It never does I/O itself: files reach it only through an injected
//! [`FileLoader`] and time through an injected [`Clock`]. It knows nothing
//! of configuration blocks, providers, state, the graph or HTTP.

pub mod addr;
pub mod console;
pub mod convert;
pub mod diag;
pub mod eval;
mod functions;
pub mod json;
pub mod number;
pub mod refs;
pub mod schema;
pub mod typeexpr;
pub mod types;
pub mod value;

pub use console::format_for_console;
pub use convert::{convert, unify, ConvertError, PathStep};
pub use diag::{Diagnostic, Diagnostics, Pos, Severity, SourceRange};
pub use eval::{
    eval, Clock, EvalContext, FileError, FileLoader, FixedClock, MemoryFiles, NoFiles, Phase,
    SourceFile, SystemClock,
};
pub use functions::names as function_names;
/// The HCL syntax tree every meshform crate shares, re-exported so that all
/// of them agree on one version.
pub use hcl_edit;
pub use json::{implied_type, JsonError};
pub use number::Number;
pub use refs::{references, suggest, RefStep, Reference};
pub use typeexpr::{parse_type_constraint, Defaults, TypeConstraint};
pub use types::Type;
pub use value::{Data, Value};

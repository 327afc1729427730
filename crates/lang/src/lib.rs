//! Terraform's expression language: values, types and evaluation.
//!
//! `lang` is the shared vocabulary of meshform: [`Value`] (with unknown and
//! sensitive marks), `Type`, the attribute/block `Schema` and reference
//! addresses. It evaluates HCL expressions exactly as Terraform does.
//!
//! It never does I/O itself: files reach it only through an injected loader,
//! and it knows nothing of configuration blocks, providers, state or HTTP.

pub mod addr;
pub mod diag;
pub mod schema;
pub mod types;

pub use diag::{Diagnostic, Diagnostics, Pos, Severity, SourceFile, SourceRange};
pub use types::Type;
/// The HCL syntax tree every meshform crate shares, re-exported so that all
/// of them agree on one version.
pub use hcl_edit;

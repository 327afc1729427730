//! Loading a Terraform configuration: `.tf`/`.tf.json` files into typed
//! blocks, variable values from every source, and diagnostics with source
//! positions.
//!
//! Key types: [`Module`] (one directory's blocks, before evaluation),
//! [`Content`] (a block body: attributes and nested blocks, each expression
//! still tied to its file), [`VersionConstraint`]. Entry point: [`load_module`].
//! [`fmt`] rewrites source text into `terraform fmt`'s canonical style.
//!
//! `config` models the source before evaluation. It knows nothing of
//! providers, state, the engine or the network; files are read only here.

mod decode;
pub mod fmt;
mod json;
mod merge;
pub mod module;
mod syntax;
pub mod variables;
pub mod version;

pub use meshform_lang::{Diagnostic, Diagnostics, SourceFile, SourceRange};
pub use module::*;
pub use version::{Version, VersionConstraint};

use std::path::Path;
use std::sync::Arc;

/// Loads every `*.tf` and `*.tf.json` file of `dir` (override files last,
/// merged into the rest), and the local modules it calls, recursively.
///
/// Always returns a module, possibly partial, with the diagnostics found.
pub fn load_module(dir: &Path) -> (Module, Diagnostics) {
    let mut diags = Diagnostics::default();
    let module = load_module_inner(dir, dir, &mut diags, 0);
    (module, diags)
}

/// Local module calls nest at most this deep, so that a module calling
/// itself is reported instead of recursing forever.
const MAX_MODULE_DEPTH: usize = 32;

fn load_module_inner(root: &Path, dir: &Path, diags: &mut Diagnostics, depth: usize) -> Module {
    let files = match syntax::module_files(dir) {
        Ok(files) => files,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read module directory",
                format!("Module directory {} could not be read: {e}.", dir.display()),
            ));
            return Module::empty(dir);
        }
    };
    let mut primary = Module::empty(dir);
    let mut blocks = Vec::new();
    let mut overrides = Vec::new();
    for path in files {
        let display = display_name(root, &path);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Failed to read file",
                    format!("The configuration file {display} could not be read: {e}."),
                ));
                continue;
            }
        };
        let file = Arc::new(SourceFile::new(display.as_str(), text));
        let Some((file, body)) = syntax::parse_file(file.clone(), diags).or_else(|| {
            primary.sources.push(file);
            None
        }) else {
            continue;
        };
        primary.sources.push(file.clone());
        let raw = decode::raw_blocks(&file, body, diags);
        if syntax::is_override_file(&path) {
            overrides.extend(raw);
        } else {
            blocks.extend(raw);
        }
    }
    merge::apply_overrides(&mut blocks, overrides, diags);
    decode::decode_blocks(&mut primary, blocks, diags);
    for call in primary.module_calls.values_mut() {
        let Some(source) = &call.source else { continue };
        if !(source.starts_with("./") || source.starts_with("../")) {
            diags.push(
                Diagnostic::error(
                    "Unsupported module source",
                    format!(
                        "Module source {source:?} is not a local path. meshform loads local modules only \
                         (sources starting with \"./\" or \"../\")."
                    ),
                )
                .with_subject(call.source_range.clone()),
            );
            continue;
        }
        if depth >= MAX_MODULE_DEPTH {
            diags.push(
                Diagnostic::error(
                    "Module calls nest too deeply",
                    format!("Module calls are nested more than {MAX_MODULE_DEPTH} levels deep; does a module call itself?"),
                )
                .with_subject(call.source_range.clone()),
            );
            continue;
        }
        let child_dir = dir.join(source);
        if !child_dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "Unreadable module directory",
                    format!(
                        "The directory {} does not exist or cannot be read.",
                        child_dir.display()
                    ),
                )
                .with_subject(call.source_range.clone()),
            );
            continue;
        }
        call.module = Some(Box::new(load_module_inner(
            root,
            &child_dir,
            diags,
            depth + 1,
        )));
    }
    primary
}

/// The name a user reads for a file: relative to the root module's
/// directory, where commands run (`main.tf`, `modules/x/main.tf`).
fn display_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let clean: std::path::PathBuf = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    clean.to_string_lossy().into_owned()
}

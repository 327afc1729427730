//! The root module's `import` blocks (Terraform 1.5): which resource
//! instance each one adopts and where it is written, checked the same way
//! for `meshform validate` and for planning.
//!
//! Checks made here need no values: `to` must name an instance of a
//! managed resource the configuration declares, and no two blocks may
//! share a `to`. The `id` is evaluated by the planner, which alone knows
//! variables and locals.

use std::collections::BTreeMap;

use meshform_config::{Expr, Import, Module};
use meshform_lang::addr::{InstanceKey, ResourceInstance, ResourceMode};
use meshform_lang::{Diagnostic, Diagnostics, SourceRange};

/// One valid `import` block.
#[derive(Debug, Clone)]
pub struct ImportTarget {
    /// The instance the block adopts an object into.
    pub to: ResourceInstance,
    /// The expression of the remote object's ID.
    pub id: Expr,
    /// Where `to` is written, for diagnostics about the target.
    pub to_range: SourceRange,
    /// Where `id` is written, for diagnostics about the ID.
    pub id_range: SourceRange,
}

/// The text of an expression as written, for address parsing.
fn written(e: &Expr) -> String {
    let r = e.range();
    e.file
        .text
        .get(r.start.byte..r.end.byte)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The module a module instance address names, when the configuration
/// declares it (instance keys are not checked: expansion is the planner's).
fn declared_module<'m>(root: &'m Module, to: &ResourceInstance) -> Option<&'m Module> {
    let mut m = root;
    for step in &to.module.0 {
        m = m.module_calls.get(&step.name)?.module.as_deref()?;
    }
    Some(m)
}

/// The valid import targets of `root` by instance address, with a
/// diagnostic for each invalid or duplicate block.
pub fn import_targets(root: &Module) -> (BTreeMap<ResourceInstance, ImportTarget>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut targets: BTreeMap<ResourceInstance, ImportTarget> = BTreeMap::new();
    for block in &root.imports {
        if let Some(t) = check_block(root, block, &mut diags) {
            if let Some(first) = targets.get(&t.to) {
                diags.push(
                    Diagnostic::error(
                        format!("Duplicate import configuration for {:?}", t.to.to_string()),
                        format!(
                            "An import block for the resource {:?} was already declared at {}:{},{}. A resource can have only one import block.",
                            t.to.to_string(),
                            first.to_range.file,
                            first.to_range.start.line,
                            first.to_range.start.column
                        ),
                    )
                    .with_subject(t.to_range.clone()),
                );
                continue;
            }
            targets.insert(t.to.clone(), t);
        }
    }
    child_module_imports(root, &mut Vec::new(), &mut diags);
    (targets, diags)
}

/// Terraform reads `import` blocks in the root module only.
fn child_module_imports(m: &Module, path: &mut Vec<String>, diags: &mut Diagnostics) {
    for call in m.module_calls.values() {
        let Some(child) = call.module.as_deref() else {
            continue;
        };
        path.push(call.name.clone());
        for block in &child.imports {
            diags.push(
                Diagnostic::error(
                    "Invalid import configuration",
                    format!(
                        "An import block was detected in \"module.{}\". Import blocks are only allowed in the root module.",
                        path.join(".module.")
                    ),
                )
                .with_subject(block.decl_range.clone()),
            );
        }
        child_module_imports(child, path, diags);
        path.pop();
    }
}

fn check_block(root: &Module, block: &Import, diags: &mut Diagnostics) -> Option<ImportTarget> {
    let to_range = block.to.range();
    let to = match ResourceInstance::parse(&written(&block.to)) {
        Ok(to) => to,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Invalid import address",
                    format!("The import block's \"to\" argument must be the address of a resource instance, such as konnect_mesh.mesh1: {e}."),
                )
                .with_subject(to_range),
            );
            return None;
        }
    };
    if to.resource.mode == ResourceMode::Data {
        diags.push(
            Diagnostic::error(
                "Invalid import address",
                "Only managed resources can be imported; a data source is read, never imported.",
            )
            .with_subject(to_range),
        );
        return None;
    }
    let resource =
        declared_module(root, &to).and_then(|m| m.resources.get(&to.resource.to_string()));
    let Some(resource) = resource else {
        diags.push(
            Diagnostic::error(
                "Configuration for import target does not exist",
                format!(
                    "The configuration for the given import {to} does not exist. All target instances must have an associated configuration to be imported."
                ),
            )
            .with_subject(to_range),
        );
        return None;
    };
    if let Some(p) = &block.provider {
        if *p != resource.provider_ref() {
            diags.push(
                Diagnostic::error(
                    "Invalid import provider argument",
                    format!(
                        "The import block names the provider {p}, but {} uses {}. Set the provider in the resource block; the import uses the resource's provider.",
                        to.resource,
                        resource.provider_ref()
                    ),
                )
                .with_subject(block.decl_range.clone()),
            );
            return None;
        }
    }
    let repeated = resource.count.is_some() || resource.for_each.is_some();
    let keyed = to.key != InstanceKey::None;
    if repeated != keyed {
        let detail = if repeated {
            format!("The resource {} uses count or for_each, so the import block's \"to\" must name one of its instances, such as {}[0] or {}[\"key\"].", to.resource, to.resource, to.resource)
        } else {
            format!("The resource {} uses neither count nor for_each, so the import block's \"to\" must not have an instance key.", to.resource)
        };
        diags.push(Diagnostic::error("Invalid import address", detail).with_subject(to_range));
        return None;
    }
    let id_range = block.id.range();
    if meshform_lang::references(&block.id.expr).is_empty() {
        // A constant ID can be checked without any values.
        let ctx = meshform_lang::EvalContext::new().with_source((*block.id.file).clone());
        match meshform_lang::eval(&block.id.expr, &ctx) {
            Ok(v) => {
                if let Err(d) = import_id(&v, &id_range) {
                    diags.push(*d);
                    return None;
                }
            }
            Err(ds) => {
                diags.extend(ds);
                return None;
            }
        }
    }
    Some(ImportTarget {
        to,
        id: block.id.clone(),
        to_range,
        id_range,
    })
}

/// The import ID an evaluated `id` gives: a known, non-null value that
/// converts to a non-empty string (numbers and bools do, as in Terraform).
pub fn import_id(
    id: &meshform_lang::Value,
    range: &SourceRange,
) -> Result<String, Box<Diagnostic>> {
    let problem = |detail: &str| {
        Box::new(
            Diagnostic::error("Invalid import id argument", detail).with_subject(range.clone()),
        )
    };
    if !id.is_wholly_known() {
        return Err(problem(
            "The import block \"id\" argument depends on values that cannot be determined until apply.",
        ));
    }
    if id.is_null() {
        return Err(problem("The import ID cannot be null."));
    }
    let text = meshform_lang::convert(id, &meshform_lang::Type::String)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| problem("The import block \"id\" argument must be a string."))?;
    if text.is_empty() {
        return Err(problem(
            "The import block \"id\" argument must not be an empty string.",
        ));
    }
    Ok(text)
}

//! Override files (`override.tf`, `*_override.tf`): each block replaces
//! parts of the block of the same type and labels in the primary files, as
//! Terraform merges them.

use meshform_lang::{Diagnostic, Diagnostics};

use crate::decode::RawBlock;
use crate::module::{Content, NestedBlock};

/// Merges `overrides` into `primary`, in order.
pub fn apply_overrides(
    primary: &mut Vec<RawBlock>,
    overrides: Vec<RawBlock>,
    diags: &mut Diagnostics,
) {
    for o in overrides {
        match o.ty.as_str() {
            // Every entry of a locals block overrides the local of that name.
            "locals" => {
                for (name, attr) in o.content.attrs {
                    let target = primary
                        .iter_mut()
                        .find(|b| b.ty == "locals" && b.content.attrs.contains_key(&name));
                    match target {
                        Some(b) => {
                            b.content.attrs.insert(name, attr);
                        }
                        None => diags.push(
                            Diagnostic::error(
                                "Missing base local value definition to override",
                                format!(
                                    "There is no local value named {name:?}. An override file can only override a local value that was already defined in a primary configuration file."
                                ),
                            )
                            .with_subject(attr.name_range),
                        ),
                    }
                }
            }
            // terraform blocks merge into the first one (or become it).
            "terraform" => match primary.iter_mut().find(|b| b.ty == "terraform") {
                Some(b) => merge_terraform(&mut b.content, o.content),
                None => primary.push(o),
            },
            // moved and import blocks have no identity to override: they add.
            "moved" | "import" => primary.push(o),
            _ => {
                let key = o.key();
                match primary.iter_mut().find(|b| b.key() == key) {
                    Some(b) => merge_content(&mut b.content, o.content),
                    None => {
                        let what = match o.ty.as_str() {
                            "resource" | "data" => format!("{} {}", o.ty, o.labels.join(".")),
                            _ => format!("{} {:?}", o.ty, o.labels.join(".")),
                        };
                        diags.push(
                            Diagnostic::error(
                                format!("Missing base {} to override", o.ty),
                                format!(
                                    "There is no {what} in the primary configuration files. An override file can only override a block that was already defined in a primary configuration file."
                                ),
                            )
                            .with_subject(o.def_range),
                        )
                    }
                }
            }
        }
    }
}

/// Attributes replace attributes; nested blocks of a type present in the
/// override replace all blocks of that type, except `lifecycle`, whose
/// arguments merge one by one.
fn merge_content(base: &mut Content, over: Content) {
    base.attrs.extend(over.attrs);
    let mut by_type: Vec<(String, Vec<NestedBlock>)> = Vec::new();
    for nb in over.blocks {
        match by_type.iter_mut().find(|(t, _)| *t == nb.ty) {
            Some((_, v)) => v.push(nb),
            None => by_type.push((nb.ty.clone(), vec![nb])),
        }
    }
    for (ty, blocks) in by_type {
        if ty == "lifecycle" {
            if let Some(existing) = base.blocks.iter_mut().find(|b| b.ty == "lifecycle") {
                for nb in blocks {
                    merge_content(&mut existing.body, nb.body);
                }
                continue;
            }
        }
        base.blocks.retain(|b| b.ty != ty);
        base.blocks.extend(blocks);
    }
}

/// `required_providers` entries merge by name; everything else replaces.
fn merge_terraform(base: &mut Content, over: Content) {
    base.attrs.extend(over.attrs);
    for nb in over.blocks {
        if nb.ty == "required_providers" {
            if let Some(existing) = base
                .blocks
                .iter_mut()
                .find(|b| b.ty == "required_providers")
            {
                existing.body.attrs.extend(nb.body.attrs);
                continue;
            }
        }
        base.blocks
            .retain(|b| b.ty != nb.ty || nb.ty == "required_providers");
        base.blocks.push(nb);
    }
}

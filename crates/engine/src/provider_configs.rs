//! Which `provider` block serves a provider reference in a module, as
//! Terraform decides it: a block in the module itself; otherwise the
//! configuration the module call passes with `providers = { … }`; otherwise,
//! for a default (unaliased) configuration, the parent's default
//! configuration of the same provider, up to the root, where a reference
//! without a block is an implied empty configuration.

use meshform_config::{Module, ProviderRef};
use meshform_lang::hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};

/// A provider configuration: the module path it is declared in, its
/// local name there and its alias.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderConfig {
    pub module: Vec<String>,
    pub name: String,
    pub alias: Option<String>,
}

/// The configuration serving `reference` in the module at `path`, or
/// `None` when an aliased configuration is neither declared nor passed.
pub fn resolve(root: &Module, path: &[String], reference: &ProviderRef) -> Option<ProviderConfig> {
    let module = root.descendant(path)?;
    let here = ProviderConfig {
        module: path.to_vec(),
        name: reference.name.clone(),
        alias: reference.alias.clone(),
    };
    if module.providers.iter().any(|p| &p.reference() == reference) {
        return Some(here);
    }
    let Some((call_name, parent_path)) = path.split_last() else {
        // The root: a default configuration may be implied.
        return reference.alias.is_none().then_some(here);
    };
    let parent = root.descendant(parent_path)?;
    let call = parent.module_calls.get(call_name)?;
    if let Some(passed) = call
        .providers
        .as_ref()
        .and_then(|e| passed_to(&e.expr, reference))
    {
        return resolve(root, parent_path, &passed);
    }
    if reference.alias.is_some() {
        return None;
    }
    // Inherited: the parent's default configuration of the same provider,
    // under whatever local name the parent gives it.
    let source = module.provider_source(&reference.name);
    let parent_name = if parent.provider_source(&reference.name) == source {
        reference.name.clone()
    } else {
        parent
            .required_providers
            .iter()
            .find(|(_, r)| r.source == source)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| reference.name.clone())
    };
    resolve(
        root,
        parent_path,
        &ProviderRef {
            name: parent_name,
            alias: None,
        },
    )
}

/// The parent's configuration that `providers = { … }` passes for
/// `reference`, if it passes one.
fn passed_to(providers: &Expression, reference: &ProviderRef) -> Option<ProviderRef> {
    let Expression::Object(items) = providers else {
        return None;
    };
    items.iter().find_map(|(key, value)| {
        let key = match key {
            ObjectKey::Ident(id) => Some(ProviderRef {
                name: id.as_str().to_owned(),
                alias: None,
            }),
            ObjectKey::Expression(e) => reference_of(e),
        }?;
        (&key == reference)
            .then(|| reference_of(value.expr()))
            .flatten()
    })
}

/// `name` or `name.alias` written as an expression.
fn reference_of(e: &Expression) -> Option<ProviderRef> {
    match e {
        Expression::Variable(v) => Some(ProviderRef {
            name: v.as_str().to_owned(),
            alias: None,
        }),
        Expression::Traversal(t) => {
            let Expression::Variable(v) = &t.expr else {
                return None;
            };
            match t.operators.iter().map(|o| o.value()).collect::<Vec<_>>()[..] {
                [TraversalOperator::GetAttr(alias)] => Some(ProviderRef {
                    name: v.as_str().to_owned(),
                    alias: Some(alias.as_str().to_owned()),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

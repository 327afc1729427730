//! Building the world a run needs: the provider registry with the concrete
//! backends, the run's clock, variable values and the prior state. Only
//! the binary chooses these; the libraries receive them as values.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use meshform_config::variables::{collect_values, CliVariable};
use meshform_config::Module;
use meshform_engine::prior::{from_snapshot, PriorState};
use meshform_lang::schema::Schemas;
use meshform_lang::{Diagnostics, Value};
use meshform_providers::helm_release::HelmFactory;
use meshform_providers::konnect::provider::KonnectFactory;
use meshform_providers::konnect::tables::KonnectTables;
use meshform_providers::kubernetes::KubernetesFactory;
use meshform_providers::kuma::PolicyTables;
use meshform_providers::provider::normalize_source;
use meshform_providers::schema_only::SchemaOnlyFactory;
use meshform_providers::time::provider::TimeFactory;
use meshform_providers::ProviderRegistry;

/// The process environment as a map (injected into providers).
pub fn environment() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// The providers meshform implements, plus any known only by a schema in
/// `.meshform/schemas/` or `MESHFORM_PROVIDER_SCHEMAS`.
pub fn registry(dir: &Path) -> anyhow::Result<ProviderRegistry> {
    let mut registry = ProviderRegistry::new();
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join(".meshform/schemas"))
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    if let Some(list) = std::env::var_os("MESHFORM_PROVIDER_SCHEMAS") {
        files.extend(std::env::split_paths(&list));
    }
    for f in files {
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("reading provider schema {}", f.display()))?;
        let schemas = Schemas::from_json(&text)
            .with_context(|| format!("provider schema {}", f.display()))?;
        for (source, p) in schemas.providers {
            registry.register(Arc::new(SchemaOnlyFactory::new(&source, p)));
        }
    }
    // Native providers come last so they win over a schema of the same name.
    let tables = Arc::new(KonnectTables::load().context("loading the built-in Konnect tables")?);
    let policies =
        Arc::new(PolicyTables::load().context("loading the built-in Kuma policy tables")?);
    registry.register(Arc::new(KonnectFactory::beta(
        tables.clone(),
        policies.clone(),
    )));
    registry.register(Arc::new(KonnectFactory::ga(tables, policies)));
    registry.register(Arc::new(TimeFactory::new()));
    registry.register(Arc::new(KubernetesFactory::new()));
    registry.register(Arc::new(HelmFactory::new()));
    Ok(registry)
}

/// Every provider's schema, keyed by full source address, for rendering.
pub fn schemas(registry: &ProviderRegistry) -> Schemas {
    let mut s = Schemas {
        format_version: "1.0".into(),
        providers: BTreeMap::new(),
    };
    for (source, f) in registry.iter() {
        s.providers.insert(
            format!("registry.terraform.io/{}", normalize_source(source)),
            (*f.schema()).clone(),
        );
    }
    s
}

/// The run's clock: `-at` (RFC 3339, or `+DURATION` from now), else now.
pub fn clock(at: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    let now = Utc::now();
    let Some(at) = at else {
        return Ok(now);
    };
    if let Some(rest) = at.strip_prefix('+') {
        let d = humantime::parse_duration(rest).with_context(|| {
            format!("-at={at}: expected RFC 3339 time or +DURATION such as +90s or +30d")
        })?;
        return Ok(now + chrono::Duration::from_std(d)?);
    }
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| {
            format!(
                "-at={at}: expected RFC 3339 time (2026-11-26T10:00:00Z) or +DURATION such as +90s"
            )
        })
}

/// `-var` and `-var-file` in command-line order, read from argv (clap
/// keeps each kind in its own list, but precedence follows their order).
pub fn cli_variables() -> Vec<CliVariable> {
    let args = crate::argv::normalize(std::env::args_os());
    let mut out = Vec::new();
    let mut it = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        for (flag, is_file) in [("--var", false), ("--var-file", true)] {
            let value = if a == flag {
                it.next()
            } else {
                a.strip_prefix(&format!("{flag}=")).map(str::to_owned)
            };
            if let Some(v) = value {
                out.push(if is_file {
                    CliVariable::VarFile(v.into())
                } else {
                    CliVariable::Var(v)
                });
            }
        }
    }
    out
}

/// Root variable values. Missing required ones are asked for on a terminal
/// (when `input`), become unknown offline, or are errors.
pub fn variables(
    module: &Module,
    input: bool,
    offline: bool,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (mut raw, mut diags) = collect_values(module, &env, &cli_variables());
    let missing: Vec<String> = meshform_config::variables::missing_required(module, &raw)
        .iter()
        .map(|v| v.name.clone())
        .collect();
    use std::io::IsTerminal;
    if input && !offline && std::io::stdin().is_terminal() {
        for name in &missing {
            let decl = &module.variables[name];
            println!("var.{name}");
            if let Some(d) = &decl.description {
                println!("  {d}");
            }
            println!();
            print!("  Enter a value: ");
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_ok() {
                let value = line.trim_end_matches(['\n', '\r']).to_owned();
                raw.insert(
                    name.clone(),
                    meshform_config::variables::VariableValue {
                        source: meshform_config::variables::ValueSource::CommandLine,
                        raw: meshform_config::variables::RawValue::String(value),
                        range: None,
                    },
                );
            }
            println!();
        }
    }
    let (values, d) = meshform_engine::variables::resolve(module, &raw, offline);
    diags.extend(d);
    (values, diags)
}

/// The prior state from the store (empty when there is none yet).
pub fn prior_state(
    store: Option<&meshform_state::StateStore>,
    schemas: &Schemas,
) -> anyhow::Result<(PriorState, Diagnostics)> {
    let Some(store) = store else {
        return Ok((PriorState::default(), Diagnostics::default()));
    };
    let snapshot = store.snapshot().map_err(crate::commands::state::explain)?;
    Ok(from_snapshot(&snapshot, schemas))
}

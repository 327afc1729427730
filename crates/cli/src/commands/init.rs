//! `init`: checks that every provider the configuration needs is one
//! meshform implements (or has a schema for), and prepares `.meshform/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use meshform_config::{load_module, Diagnostic, Diagnostics, Module, Version, VersionConstraint};

use crate::output::print_diagnostics;
use crate::Globals;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Accepted for compatibility: built-in providers need no download.
    #[arg(long)]
    pub upgrade: bool,
    /// Ask for input (accepted; init asks nothing).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub input: bool,
    /// Accepted for compatibility: meshform's state lives in .meshform/.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub backend: bool,
}

/// The providers meshform implements natively: source address and version.
pub const NATIVE_PROVIDERS: &[(&str, &str)] = &[
    ("kong/konnect", "2.4.1"),
    ("kong/konnect-beta", "0.1.0"),
    ("hashicorp/time", "0.13.0"),
    ("hashicorp/kubernetes", "2.35.1"),
    ("hashicorp/helm", "2.17.0"),
];

/// The Terraform language version meshform follows, for `required_version`.
pub const TERRAFORM_COMPATIBLE_VERSION: &str = "1.5.7";

/// `registry.terraform.io/kong/konnect` and `kong/konnect` name the same provider.
pub fn short_source(source: &str) -> String {
    source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source)
        .to_ascii_lowercase()
}

/// How a needed provider is satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSupport {
    Native(&'static str),
    SchemaOnly,
}

/// Version constraints on one provider, each with where it was written.
type Constraints = Vec<(Option<String>, Option<meshform_lang::SourceRange>)>;

/// Every provider source the module (and its children) needs, with the
/// version constraints that apply and where they were written.
fn needed_providers(module: &Module, out: &mut BTreeMap<String, Constraints>) {
    for rp in module.required_providers.values() {
        out.entry(short_source(&rp.source))
            .or_default()
            .push((rp.version.clone(), Some(rp.range.clone())));
    }
    let mut implied = Vec::new();
    for p in &module.providers {
        implied.push(p.name.clone());
    }
    for r in module.resources.values() {
        implied.push(r.provider_ref().name);
    }
    for name in implied {
        out.entry(short_source(&module.provider_source(&name)))
            .or_default();
    }
    for call in module.module_calls.values() {
        if let Some(child) = &call.module {
            needed_providers(child, out);
        }
    }
}

/// Provider sources whose schemas were supplied for offline planning
/// (`.meshform/schemas/*.json` and the files in `MESHFORM_PROVIDER_SCHEMAS`).
pub fn schema_only_sources(dir: &Path) -> Vec<String> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join(".meshform/schemas"))
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    if let Some(list) = std::env::var_os("MESHFORM_PROVIDER_SCHEMAS") {
        files.extend(std::env::split_paths(&list));
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(m) = doc.get("provider_schemas").and_then(|v| v.as_object()) {
            out.extend(m.keys().map(|k| short_source(k)));
        }
    }
    out
}

/// Checks the needed providers and `required_version`; returns what each
/// provider resolves to.
pub fn check_providers(module: &Module) -> (BTreeMap<String, ProviderSupport>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let compatible = Version::parse(TERRAFORM_COMPATIBLE_VERSION).expect("a valid version");
    for (text, range) in &module.required_version {
        match VersionConstraint::parse(text) {
            Ok(c) if c.matches(&compatible) => {}
            Ok(_) => diags.push(
                Diagnostic::error(
                    "Unsupported Terraform Core version",
                    format!(
                        "This configuration requires Terraform {text}, but meshform follows the Terraform {TERRAFORM_COMPATIBLE_VERSION} language. Relax required_version if the configuration works with that version."
                    ),
                )
                .with_subject(range.clone()),
            ),
            Err(e) => diags.push(
                Diagnostic::error("Invalid required_version constraint", e.to_string())
                    .with_subject(range.clone()),
            ),
        }
    }
    let mut needed = BTreeMap::new();
    needed_providers(module, &mut needed);
    let schema_only = schema_only_sources(&module.dir);
    let mut resolved = BTreeMap::new();
    for (source, constraints) in needed {
        if let Some((_, version)) = NATIVE_PROVIDERS.iter().find(|(s, _)| *s == source) {
            let v = Version::parse(version).expect("a valid version");
            let mut ok = true;
            for (constraint, range) in &constraints {
                let Some(text) = constraint else { continue };
                let mut fail = |summary: &str, detail: String| {
                    let mut d = Diagnostic::error(summary, detail);
                    d.subject = range.clone();
                    diags.push(d);
                    ok = false;
                };
                match VersionConstraint::parse(text) {
                    Ok(c) if c.matches(&v) => {}
                    Ok(_) => fail(
                        "Unsupported provider version",
                        format!(
                            "meshform implements {source} {version}, which does not match the version constraint {text:?}. Change the constraint to accept {version}."
                        ),
                    ),
                    Err(e) => fail("Invalid provider version constraint", e.to_string()),
                }
            }
            if ok {
                resolved.insert(source, ProviderSupport::Native(version));
            }
        } else if schema_only.contains(&source) {
            resolved.insert(source, ProviderSupport::SchemaOnly);
        } else {
            let range = constraints.iter().find_map(|(_, r)| r.clone());
            let supported = NATIVE_PROVIDERS
                .iter()
                .map(|(s, v)| format!("{s} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(
                "Unsupported provider",
                format!(
                    "meshform does not implement the provider {source}. Supported providers: {supported}. To plan (not apply) with another provider offline, put its `terraform providers schema -json` output in .meshform/schemas/."
                ),
            );
            d.subject = range;
            diags.push(d);
        }
    }
    (resolved, diags)
}

pub fn run(_a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let dir = Path::new(".");
    let (module, mut diags) = load_module(dir);
    let sources = module.all_sources();
    if diags.has_errors() {
        print_diagnostics(&diags, &sources, g);
        return Ok(ExitCode::from(1));
    }
    let color = g.color();
    let bold = |s: &str| {
        if color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    if !module.module_calls.is_empty() {
        println!("{}", bold("Initializing modules..."));
        print_modules(&module, "");
        println!();
    }
    println!("{}", bold("Initializing provider plugins..."));
    let (resolved, provider_diags) = check_providers(&module);
    for (source, support) in &resolved {
        match support {
            ProviderSupport::Native(v) => println!("- Using {source} v{v} (built into meshform)"),
            ProviderSupport::SchemaOnly => {
                println!("- Using {source} from its schema (offline planning only)")
            }
        }
    }
    diags.extend(provider_diags);
    print_diagnostics(&diags, &sources, g);
    if diags.has_errors() {
        return Ok(ExitCode::from(1));
    }
    std::fs::create_dir_all(dir.join(".meshform"))?;
    println!();
    if color {
        println!(
            "\x1b[32m\x1b[1mmeshform has been successfully initialized!\x1b[0m\x1b[32m\x1b[0m"
        );
    } else {
        println!("meshform has been successfully initialized!");
    }
    println!();
    println!("You may now begin working with meshform. Try running \"meshform plan\" to see");
    println!("any changes that are required for your infrastructure. All meshform commands");
    println!("should now work.");
    Ok(ExitCode::SUCCESS)
}

fn print_modules(module: &Module, prefix: &str) {
    for (name, call) in &module.module_calls {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        println!("- {full} in {}", call.source.as_deref().unwrap_or("?"));
        if let Some(child) = &call.module {
            print_modules(child, &full);
        }
    }
}

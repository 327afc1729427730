//! `validate`: checks the configuration without variable values, state or
//! any remote API.

use std::path::Path;
use std::process::ExitCode;

use meshform_config::load_module;

use crate::output::print_diagnostics;
use crate::Globals;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the result as JSON, as `terraform validate -json` does.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let (module, mut diags) = load_module(Path::new("."));
    if !diags.has_errors() {
        let registry = crate::world::registry(Path::new("."))?;
        diags.extend(meshform_engine::validate::validate(
            &module,
            Some(&registry),
        ));
    }
    let valid = !diags.has_errors();
    if a.json {
        let items: Vec<serde_json::Value> = diags
            .iter()
            .map(|d| {
                let mut o = serde_json::json!({
                    "severity": if d.is_error() { "error" } else { "warning" },
                    "summary": d.summary,
                    "detail": d.detail,
                });
                if let Some(s) = &d.subject {
                    o["range"] = serde_json::json!({
                        "filename": &*s.file,
                        "start": {"line": s.start.line, "column": s.start.column, "byte": s.start.byte},
                        "end": {"line": s.end.line, "column": s.end.column, "byte": s.end.byte},
                    });
                }
                o
            })
            .collect();
        let doc = serde_json::json!({
            "format_version": "1.0",
            "valid": valid,
            "error_count": diags.iter().filter(|d| d.is_error()).count(),
            "warning_count": diags.iter().filter(|d| !d.is_error()).count(),
            "diagnostics": items,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_diagnostics(&diags, &module.all_sources(), g);
        if valid {
            if g.color() {
                println!("\x1b[32m\x1b[1mSuccess!\x1b[0m The configuration is valid.\x1b[0m");
            } else {
                println!("Success! The configuration is valid.");
            }
            println!();
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

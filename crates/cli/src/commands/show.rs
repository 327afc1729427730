//! `show [FILE]`: a saved plan (as `plan` printed it, or Terraform's plan
//! JSON with `-json`), or without a file the current state.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meshform_engine::render::{render_plan, Footer, Product, RenderOptions};

use crate::commands::state::StateOpts;
use crate::{planfile, world, Globals};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved with `meshform plan -out=FILE`.
    pub file: Option<PathBuf>,
    /// Print machine-readable JSON (Terraform's plan JSON for a plan file).
    #[arg(long)]
    pub json: bool,
    /// Show the state of `-sandbox` runs.
    #[arg(long)]
    pub sandbox: bool,
    #[command(flatten)]
    pub state: StateOpts,
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let Some(file) = &a.file else {
        return show_state(&a, g);
    };
    let saved = planfile::load(file)?;
    let registry = world::registry(Path::new("."))?;
    let schemas = world::schemas(&registry);
    if a.json {
        let doc = meshform_engine::plan_json::plan_to_json(
            &saved.plan,
            &schemas,
            env!("CARGO_PKG_VERSION"),
        );
        println!("{}", serde_json::to_string(&doc)?);
    } else {
        let opts = RenderOptions {
            color: g.color(),
            columns: 78,
            product: Product::meshform(),
            footer: Footer::None,
        };
        print!("{}", render_plan(&saved.plan, &schemas, &opts));
    }
    Ok(ExitCode::SUCCESS)
}

fn show_state(a: &Args, _g: &Globals) -> anyhow::Result<ExitCode> {
    let state_opts = crate::sandbox_mode::state_opts(&a.state, a.sandbox);
    let Some(store) = crate::commands::state::open(&state_opts, "show", true)? else {
        println!("No state.");
        return Ok(ExitCode::SUCCESS);
    };
    let snapshot = store.snapshot().map_err(crate::commands::state::explain)?;
    if a.json {
        println!("{}", meshform_state::tfstate::to_tfstate_json(&snapshot));
        return Ok(ExitCode::SUCCESS);
    }
    if snapshot.instances.is_empty() && snapshot.outputs.is_empty() {
        println!("No state.");
        return Ok(ExitCode::SUCCESS);
    }
    for inst in &snapshot.instances {
        println!("{}", meshform_state::render::render_instance(inst));
    }
    if !snapshot.outputs.is_empty() {
        println!("\nOutputs:\n");
        print!(
            "{}",
            meshform_state::render::render_outputs(&snapshot.outputs)
        );
    }
    Ok(ExitCode::SUCCESS)
}

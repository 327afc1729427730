//! `plan`: shows what an apply would change, as Terraform prints it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use meshform_config::load_module;
use meshform_engine::plan::{Plan, PlanMode};
use meshform_engine::planner::{plan, PlanOptions};
use meshform_engine::render::{render_plan, Footer, Product, RenderOptions};
use meshform_lang::addr::ResourceInstance;
use meshform_lang::FixedClock;

use crate::commands::state::{LockOpts, StateOpts};
use crate::output::print_diagnostics;
use crate::{world, Globals};

/// Options shared by `plan`, `apply` and `destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Set a root variable: -var 'name=value' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from a file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Plan without any network access: no credentials needed, values only
    /// a remote API could know stay (known after apply).
    #[arg(long)]
    pub offline: bool,
    /// Plan as if it were this moment: RFC 3339, or +DURATION from now (+90s, +30d).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Ask providers for the current state of each object first.
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub refresh: bool,
    /// Plan only this resource instance and what it depends on (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub target: Vec<String>,
    /// Plan this resource instance for replacement (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Plan to destroy every object.
    #[arg(long)]
    pub destroy: bool,
    /// Ask for missing variable values on a terminal.
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub input: bool,
    /// Run against the embedded sandbox (local Konnect and Kubernetes
    /// servers backed by .meshform/sandbox.db); any token is accepted.
    #[arg(long)]
    pub sandbox: bool,
    /// How many operations run at once during apply.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub state: StateOpts,
    #[command(flatten)]
    pub lock: LockOpts,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Save the plan to this file, for `meshform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, 0 when none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// After the plan, show what each Helm release change does to the
    /// rendered manifests, object by object (Secret data masked).
    #[arg(long)]
    pub helm_diff: bool,
    /// Print the plan as Terraform's plan JSON (as `show -json` does),
    /// with meshform's rotation report under `meshform_rotations`.
    #[arg(long)]
    pub json: bool,
}

/// A finished plan with everything needed to show or save it.
pub struct PlannedRun {
    pub plan: Plan,
    /// The options the plan ran with, for the apply that follows.
    pub opts: PlanOptions,
    /// The sandbox, held so that its servers run until the command ends.
    #[allow(dead_code)]
    pub sandbox: Option<crate::sandbox_mode::SandboxRun>,
    pub schemas: meshform_lang::schema::Schemas,
    pub lineage: String,
    pub serial: u64,
    pub now: chrono::DateTime<chrono::Utc>,
    pub module: meshform_config::Module,
}

fn parse_addrs(list: &[String], flag: &str) -> anyhow::Result<Vec<ResourceInstance>> {
    list.iter()
        .map(|a| {
            ResourceInstance::parse(a).map_err(|e| anyhow::anyhow!("Invalid {flag} address: {e}"))
        })
        .collect()
}

/// Loads, validates and plans. `None` after printed errors.
pub fn make_plan(a: &PlanArgs, mode: PlanMode, g: &Globals) -> anyhow::Result<Option<PlannedRun>> {
    make_plan_with(a, mode, g, true)
}

/// [`make_plan`] without the refresh progress lines (for `console`).
pub fn make_plan_quiet(
    a: &PlanArgs,
    mode: PlanMode,
    g: &Globals,
) -> anyhow::Result<Option<PlannedRun>> {
    make_plan_with(a, mode, g, false)
}

fn make_plan_with(
    a: &PlanArgs,
    mode: PlanMode,
    g: &Globals,
    progress: bool,
) -> anyhow::Result<Option<PlannedRun>> {
    let dir = Path::new(".");
    let (module, mut diags) = load_module(dir);
    let registry = world::registry(dir)?;
    if !diags.has_errors() {
        diags.extend(meshform_engine::validate::validate(
            &module,
            Some(&registry),
        ));
    }
    let sources = module.all_sources();
    if diags.has_errors() {
        print_diagnostics(&diags, &sources, g);
        return Ok(None);
    }
    let now = world::clock(a.at.as_deref())?;
    let schemas = world::schemas(&registry);
    // Offline previews and the sandbox need no credentials: unset
    // variables become unknown there.
    let (variables, var_diags) = world::variables(&module, a.input, a.offline || a.sandbox);
    diags.extend(var_diags);
    if diags.has_errors() {
        print_diagnostics(&diags, &sources, g);
        return Ok(None);
    }
    let sandbox = if a.sandbox {
        let clock = match a.at {
            Some(_) => meshform_sandbox::SandboxClock::starting_at(now),
            None => meshform_sandbox::SandboxClock::wall(),
        };
        Some(crate::sandbox_mode::SandboxRun::start(dir, clock)?)
    } else {
        None
    };
    let state_opts = state_opts_for(a);
    let store = crate::commands::state::open(&state_opts, "plan", true)?;
    let (prior, prior_diags) = world::prior_state(store.as_ref(), &schemas)?;
    diags.extend(prior_diags);
    for (addr, obj) in &prior.objects {
        if progress && a.refresh && addr.resource.mode == meshform_lang::addr::ResourceMode::Managed
        {
            match obj.value.get_attr("id").and_then(|v| v.as_str()) {
                Some(id) if !id.is_empty() => println!("{addr}: Refreshing state... [id={id}]"),
                _ => println!("{addr}: Refreshing state..."),
            }
        }
    }
    let opts = PlanOptions {
        mode,
        refresh: a.refresh,
        offline: a.offline,
        targets: parse_addrs(&a.target, "-target")?,
        replace: parse_addrs(&a.replace, "-replace")?,
        variables,
        clock: Arc::new(FixedClock(now)),
        files: Arc::new(crate::files::DirFiles::new(dir)),
        root_dir: dir.to_path_buf(),
        workspace: store
            .as_ref()
            .map(|s| s.workspace().to_owned())
            .unwrap_or_else(|| "default".into()),
        env: match &sandbox {
            Some(s) => s.environment(world::environment()),
            None => world::environment(),
        },
        provider_overrides: sandbox
            .as_ref()
            .map(|s| s.provider_overrides())
            .unwrap_or_default(),
        parallelism: a.parallelism,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (p, plan_diags) = rt.block_on(plan(&module, &prior, &registry, &opts));
    diags.extend(plan_diags);
    print_diagnostics(&diags, &sources, g);
    if diags.has_errors() {
        return Ok(None);
    }
    Ok(Some(PlannedRun {
        plan: p,
        opts,
        sandbox,
        schemas,
        lineage: prior.lineage.clone(),
        serial: prior.serial,
        now,
        module,
    }))
}

/// The state options of a run: sandbox runs keep their own database.
pub fn state_opts_for(a: &PlanArgs) -> StateOpts {
    crate::sandbox_mode::state_opts(&a.state, a.sandbox)
}

/// Renders a plan with meshform's wording and the run's colours.
pub fn render(run: &PlannedRun, footer: Footer, g: &Globals) -> String {
    let opts = RenderOptions {
        color: g.color(),
        columns: 78,
        product: Product::meshform(),
        footer,
    };
    render_plan(&run.plan, &run.schemas, &opts)
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let mode = if a.plan.destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let planned = if a.json {
        make_plan_quiet(&a.plan, mode, g)?
    } else {
        make_plan(&a.plan, mode, g)?
    };
    let Some(run) = planned else {
        return Ok(ExitCode::from(1));
    };
    let footer = match &a.out {
        Some(p) => Footer::SavedTo(p.display().to_string()),
        None => Footer::NotSaved,
    };
    if a.json {
        let mut doc = meshform_engine::plan_json::plan_to_json(
            &run.plan,
            &run.schemas,
            env!("CARGO_PKG_VERSION"),
        );
        doc["meshform_rotations"] =
            serde_json::Value::Array(crate::rotation::entries(&run.plan, &run.module, run.now));
        println!("{}", serde_json::to_string(&doc)?);
        if let Some(path) = &a.out {
            crate::planfile::save(path, &run)?;
        }
        return Ok(exit_code(&a, run));
    }
    let text = render(&run, footer, g);
    print!("{text}");
    let report = crate::rotation::report(&run.plan, &run.module, run.now);
    if !report.is_empty() {
        print!("\n{report}");
    }
    if a.helm_diff {
        let diff = crate::helm_diff::report(&run.plan, &run.opts.env);
        if !diff.is_empty() {
            print!("\nHelm release changes:\n{diff}");
        }
    }
    if let Some(path) = &a.out {
        crate::planfile::save(path, &run)?;
    }
    Ok(exit_code(&a, run))
}

/// The exit code of a finished plan (2 for changes with
/// `-detailed-exitcode`). The run is not freed: the process ends right
/// after, and taking apart a plan of thousands of objects value by value
/// costs as much as a tenth of planning it.
fn exit_code(a: &Args, run: PlannedRun) -> ExitCode {
    let code = if a.detailed_exitcode && run.plan.can_apply() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    std::mem::forget(run);
    code
}

//! `import ADDRESS ID`: adopts an existing remote object into the state,
//! as `terraform import` does: the provider reads it by ID, and the result
//! is committed at the address the configuration declares.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use meshform_config::load_module;
use meshform_engine::plan::PlanMode;
use meshform_lang::addr::ResourceInstance;
use meshform_providers::provider::{ImportResourceStateRequest, ReadResourceRequest};

use crate::commands::plan::PlanArgs;
use crate::output::print_diagnostics;
use crate::{world, Globals};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// The resource address to import to, e.g. konnect_mesh.mesh1.
    pub address: String,
    /// The provider's ID of the existing object.
    pub id: String,
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let addr = ResourceInstance::parse(&a.address).map_err(|e| anyhow!("Invalid address: {e}"))?;
    let dir = Path::new(".");
    let (module, diags) = load_module(dir);
    if diags.has_errors() {
        print_diagnostics(&diags, &module.all_sources(), g);
        return Ok(ExitCode::from(1));
    }
    let Some(resource) = module.resources.get(&addr.resource.to_string()) else {
        bail!(
            "Configuration for import target does not exist\n\nThe configuration does not declare {}. Before importing this resource, add a resource block for it, for example:\n\nresource {:?} {:?} {{\n  # (resource arguments)\n}}",
            addr.resource, addr.resource.ty, addr.resource.name
        );
    };
    // Plan once to configure providers exactly as plan and apply do.
    let mut plan_args = a.plan.clone();
    plan_args.input = false;
    let Some(run) = crate::commands::plan::make_plan_quiet(&plan_args, PlanMode::Normal, g)? else {
        return Ok(ExitCode::from(1));
    };
    let source = module.provider_source(&resource.provider_ref().name);
    let registry = world::registry(dir)?;
    let factory = registry
        .get(&source)
        .ok_or_else(|| anyhow!("meshform does not implement the provider {source}"))?;
    // The provider block, evaluated with the root variables (and the
    // sandbox's overrides), as plan and apply configure it.
    let pref = resource.provider_ref();
    let provider_block = &factory.schema().provider.block;
    let config = match module
        .providers
        .iter()
        .find(|p| p.name == pref.name && p.alias == pref.alias)
    {
        Some(p) => {
            let ctx = meshform_lang::EvalContext::new().with_name(
                "var",
                meshform_lang::Value::object(run.opts.variables.clone()),
            );
            meshform_engine::decode::decode_content(&p.config, provider_block, &ctx).0
        }
        None => meshform_engine::decode::empty_value(provider_block),
    };
    let config = meshform_engine::planner::with_provider_overrides(config, &run.opts, &source);
    let provider = factory
        .configure(meshform_providers::ConfigureRequest {
            config,
            offline: false,
            clock: run.opts.clock.clone(),
            env: run.opts.env.clone(),
            parallelism: run.opts.parallelism,
        })
        .map_err(|d| {
            anyhow!(
                "configuring {source}: {}",
                d.0.first().map(|d| d.summary.clone()).unwrap_or_default()
            )
        })?;
    let schema = factory
        .schema()
        .resources
        .get(&addr.resource.ty)
        .cloned()
        .ok_or_else(|| anyhow!("{source} has no resource type {}", addr.resource.ty))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    println!("{addr}: Importing from ID {:?}...", a.id);
    let imported = rt.block_on(provider.import_resource_state(ImportResourceStateRequest {
        type_name: addr.resource.ty.clone(),
        id: a.id.clone(),
    }));
    if imported.diagnostics.has_errors() {
        print_diagnostics(&imported.diagnostics, &[], g);
        return Ok(ExitCode::from(1));
    }
    let Some(obj) = imported.imported.into_iter().next() else {
        bail!("The provider found no object with ID {:?}.", a.id);
    };
    let read = rt.block_on(provider.read_resource(ReadResourceRequest {
        type_name: obj.type_name.clone(),
        current_state: obj.state.clone(),
        private: obj.private.clone(),
    }));
    if read.diagnostics.has_errors() {
        print_diagnostics(&read.diagnostics, &[], g);
        return Ok(ExitCode::from(1));
    }
    let Some(state) = read.new_state.filter(|v| !v.is_null()) else {
        bail!(
            "Cannot import non-existent remote object\n\nWhile attempting to import an existing object to {addr}, the provider detected that no object exists with the given id."
        );
    };
    println!(
        "{addr}: Import prepared!\n  Prepared {} for import",
        addr.resource.ty
    );
    let state_opts = crate::commands::plan::state_opts_for(&a.plan);
    let mut store = crate::commands::state::open_for_write(&state_opts, "import")?;
    if store
        .object(&meshform_state::ObjectKey {
            addr: meshform_engine::sink::state_addr(&addr),
            deposed: None,
        })
        .map_err(crate::commands::state::explain)?
        .is_some()
    {
        bail!(
            "Resource already managed by meshform\n\nmeshform is already managing a remote object for {addr}. To import to this address you must first remove the existing object from the state (`meshform state rm {addr}`)."
        );
    }
    let obj = meshform_engine::sink::StateObject {
        addr: &addr,
        deposed: None,
        provider: meshform_engine::planner::provider_address(
            &source,
            resource.provider_ref().alias.as_deref(),
        ),
        schema_version: 0,
        block: &schema.block,
        value: &state,
        private: None,
        dependencies: Vec::new(),
        create_before_destroy: false,
    };
    meshform_engine::sink::StateSink::put(&mut store, &obj)
        .map_err(|e| anyhow!("saving the state: {e}"))?;
    println!("{addr}: Refreshing state... [id={}]", a.id);
    println!("\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour meshform state and will henceforth be managed by meshform.");
    Ok(ExitCode::SUCCESS)
}

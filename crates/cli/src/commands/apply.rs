//! `apply [FILE]` and `destroy`: plan (or read a saved plan), ask for
//! approval, then apply object by object, committing each to the state.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use meshform_engine::plan::{Action, Plan, PlanMode};
use meshform_engine::planner::{apply, ApplyTarget};
use meshform_engine::render::Footer;
use meshform_engine::sink::ApplyEvent;

use crate::commands::plan::{make_plan, render, PlanArgs};
use crate::output::print_diagnostics;
use crate::{planfile, world, Globals};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Skip the interactive approval.
    #[arg(long)]
    pub auto_approve: bool,
    /// A plan saved with `meshform plan -out=FILE`.
    pub file: Option<PathBuf>,
}

/// `1m2s`, `53s`: how Terraform prints elapsed time.
fn elapsed(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn print_event(e: ApplyEvent) {
    let id = |id: &Option<String>| {
        id.as_ref()
            .map(|i| format!(" [id={i}]"))
            .unwrap_or_default()
    };
    let line = match &e {
        ApplyEvent::Creating { addr } => format!("{addr}: Creating..."),
        ApplyEvent::Created {
            addr,
            elapsed: t,
            id: i,
        } => {
            format!("{addr}: Creation complete after {}{}", elapsed(*t), id(i))
        }
        ApplyEvent::Modifying { addr, id: i } => format!("{addr}: Modifying...{}", id(i)),
        ApplyEvent::Modified {
            addr,
            elapsed: t,
            id: i,
        } => {
            format!(
                "{addr}: Modifications complete after {}{}",
                elapsed(*t),
                id(i)
            )
        }
        ApplyEvent::Destroying { addr, id: i } => format!("{addr}: Destroying...{}", id(i)),
        ApplyEvent::Destroyed { addr, elapsed: t } => {
            format!("{addr}: Destruction complete after {}", elapsed(*t))
        }
        ApplyEvent::Reading { addr } => format!("{addr}: Reading..."),
        ApplyEvent::Read { addr, elapsed: t } => {
            format!("{addr}: Read complete after {}", elapsed(*t))
        }
        ApplyEvent::Importing { addr, id } => format!("{addr}: Importing... [id={id}]"),
        ApplyEvent::Imported { addr, id } => format!("{addr}: Import complete [id={id}]"),
    };
    println!("{line}");
    let _ = std::io::stdout().flush();
}

fn counts(p: &Plan) -> (usize, usize, usize) {
    let (mut add, mut change, mut destroy) = (0, 0, 0);
    for c in &p.changes {
        match c.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                add += 1;
                destroy += 1
            }
            Action::NoOp | Action::Read => {}
        }
    }
    (add, change, destroy)
}

fn approve(destroy: bool, g: &Globals) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "No approval given: meshform asks before it changes anything, and there is no terminal to ask on. Run with -auto-approve to apply without asking."
        );
    }
    let bold = |s: &str| {
        if g.color() {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    if destroy {
        println!("{}", bold("Do you really want to destroy all resources?"));
        println!("  meshform will destroy all your managed infrastructure, as shown above.");
    } else {
        println!("{}", bold("Do you want to perform these actions?"));
        println!("  meshform will perform the actions described above.");
    }
    println!("  Only 'yes' will be accepted to approve.\n");
    print!("  {}", bold("Enter a value: "));
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    println!();
    Ok(line.trim() == "yes")
}

pub fn run(a: Args, g: &Globals, destroy_command: bool) -> anyhow::Result<ExitCode> {
    let mode = if destroy_command || a.plan.destroy {
        PlanMode::Destroy
    } else {
        PlanMode::Normal
    };
    let mut at = a.plan.at.clone();
    if let Some(file) = &a.file {
        let saved = planfile::load(file)?;
        check_not_stale(&saved, &a)?;
        at = Some(saved.now.to_rfc3339());
    }
    let mut plan_args = a.plan.clone();
    plan_args.at = at.clone();
    let Some(run) = make_plan(&plan_args, mode, g)? else {
        return Ok(ExitCode::from(1));
    };
    if let Some(file) = &a.file {
        let saved = planfile::load(file)?;
        if !same_actions(&saved.plan, &run.plan) {
            bail!(
                "Saved plan is stale\n\nThe given plan file can no longer be applied because the configuration or the objects it manages changed after it was created. Make a new plan with `meshform plan -out=FILE`."
            );
        }
    } else {
        let text = render(&run, Footer::None, g);
        print!("{text}");
        // Nothing to do, unless the refresh found objects gone: the state
        // must still forget them, as Terraform saves the refreshed state.
        let drifted = run.plan.drift.iter().any(|c| c.action == Action::Delete);
        if !run.plan.can_apply() && !drifted {
            return Ok(ExitCode::SUCCESS);
        }
        if !a.auto_approve && !approve(mode == PlanMode::Destroy, g)? {
            println!("Apply cancelled.");
            return Ok(ExitCode::from(1));
        }
    }
    let state_opts = crate::commands::plan::state_opts_for(&a.plan);
    let mut store = crate::commands::state::open_for_write(&state_opts, "apply")?;
    if a.plan.lock.lock {
        store
            .lock(&meshform_state::LockRequest {
                operation: "OperationTypeApply".into(),
                who: crate::commands::state::who(),
                timeout: a.plan.lock.lock_timeout,
            })
            .map_err(crate::commands::state::explain)?;
    }
    let registry = world::registry(Path::new("."))?;
    let (prior, _) = world::prior_state(Some(&store), &run.schemas)?;
    let opts = run.opts.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let events = |e: ApplyEvent| print_event(e);
    // Ctrl-C: finish what is in flight, save it, start nothing new.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nInterrupt received.\nPlease wait for meshform to exit or data loss may occur.\nGracefully shutting down...");
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
    }
    let (applied, diags) = rt.block_on(apply(
        &run.module,
        &prior,
        &registry,
        &opts,
        ApplyTarget {
            sink: &mut store,
            events: &events,
            interrupted: Some(&interrupted),
            destroy_first: run
                .plan
                .changes
                .iter()
                .filter(|c| c.action == Action::DeleteThenCreate && c.deposed.is_none())
                .map(|c| c.addr.clone())
                .collect(),
        },
    ));
    if a.plan.lock.lock {
        let _ = store.unlock();
    }
    print_diagnostics(&diags, &run.module.all_sources(), g);
    if diags.has_errors() {
        return Ok(ExitCode::from(1));
    }
    let (add, change, destroyed) = counts(&applied);
    let done = if mode == PlanMode::Destroy {
        format!("Destroy complete! Resources: {destroyed} destroyed.")
    } else {
        // Terraform 1.5 names imports only when there were some.
        let imported = applied
            .changes
            .iter()
            .filter(|c| c.importing.is_some())
            .count();
        let imported = if imported > 0 {
            format!("{imported} imported, ")
        } else {
            String::new()
        };
        format!("Apply complete! Resources: {imported}{add} added, {change} changed, {destroyed} destroyed.")
    };
    if g.color() {
        println!("\n\x1b[1m\x1b[32m{done}\x1b[0m");
    } else {
        println!("\n{done}");
    }
    print_outputs(&applied, mode);
    print!("{}", restart_hints(&applied));
    Ok(ExitCode::SUCCESS)
}

/// After a Secret changed: workloads that read it through environment
/// variables keep the old value until restarted (the guide's warning about
/// the zone token). The reader is found through the Helm releases in the
/// same namespace whose values name the Secret.
fn restart_hints(p: &Plan) -> String {
    let mut out = String::new();
    for c in &p.changes {
        if c.action != Action::Update || !c.addr.resource.ty.starts_with("kubernetes_secret") {
            continue;
        }
        let meta = |v: &meshform_lang::Value, k: &str| {
            v.get_attr("metadata")
                .and_then(|m| {
                    m.as_elements()
                        .and_then(|e| e.first().cloned())
                        .or_else(|| Some(m.clone()))
                })
                .and_then(|m| m.get_attr(k).and_then(|x| x.as_str().map(str::to_owned)))
        };
        let (Some(name), Some(namespace)) = (meta(&c.after, "name"), meta(&c.after, "namespace"))
        else {
            continue;
        };
        for r in &p.changes {
            if r.addr.resource.ty != "helm_release" {
                continue;
            }
            let v = &r.after;
            let same_ns =
                v.get_attr("namespace").and_then(|n| n.as_str()) == Some(namespace.as_str());
            let names_secret = v
                .get_attr("values")
                .and_then(|vals| vals.as_elements())
                .is_some_and(|docs| {
                    docs.iter().filter_map(|d| d.as_str()).any(|d| {
                        d.lines().any(|l| {
                            let l = l.trim().trim_start_matches("- ");
                            (l.starts_with("Secret:")
                                || l.starts_with("secret:")
                                || l.starts_with("name:"))
                                && l.split(':').nth(1).map(str::trim) == Some(name.as_str())
                        })
                    })
                });
            if same_ns && names_secret {
                let release = v
                    .get_attr("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("release");
                out.push_str(&format!(
                    "\nNote: {} changed the Secret {namespace}/{name}, which the Helm release {release:?} reads through environment variables. Running workloads keep the old value until they restart:\n  kubectl rollout restart -n {namespace} deployment {release}-control-plane\n",
                    c.addr
                ));
            }
        }
    }
    out
}

fn print_outputs(p: &Plan, mode: PlanMode) {
    if mode == PlanMode::Destroy {
        return;
    }
    let shown: Vec<_> = p
        .output_changes
        .values()
        .filter(|o| o.action != Action::Delete)
        .collect();
    if shown.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    let width = shown.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in shown {
        let value = if o.sensitive || o.after.contains_sensitive() {
            "<sensitive>".to_owned()
        } else {
            meshform_lang::format_for_console(&o.after)
        };
        println!("{:width$} = {value}", o.name);
    }
}

fn check_not_stale(saved: &planfile::SavedPlan, a: &Args) -> anyhow::Result<()> {
    let store = crate::commands::state::open(
        &crate::commands::plan::state_opts_for(&a.plan),
        "apply",
        true,
    )?;
    let (lineage, serial) = match &store {
        Some(s) => s
            .lineage_and_serial()
            .map_err(crate::commands::state::explain)?,
        None => (String::new(), 0),
    };
    let (module, _) = meshform_config::load_module(Path::new("."));
    if (saved.lineage != lineage && !saved.lineage.is_empty()) || saved.serial != serial {
        bail!(
            "Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created (plan serial {}, state serial {serial}). Make a new plan with `meshform plan -out=FILE`.",
            saved.serial
        );
    }
    if saved.config_digest != planfile::config_digest(&module) {
        bail!(
            "Saved plan is stale\n\nThe configuration changed after the plan was created. Make a new plan with `meshform plan -out=FILE`."
        );
    }
    Ok(())
}

/// Whether two plans make the same changes to the same objects.
fn same_actions(a: &Plan, b: &Plan) -> bool {
    let key = |p: &Plan| -> Vec<(String, Action)> {
        p.changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| (c.addr.to_string(), c.action))
            .collect()
    };
    key(a) == key(b)
}

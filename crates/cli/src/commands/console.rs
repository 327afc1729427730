//! `console`: evaluates expressions typed one per line (a heredoc may span
//! lines) against the configuration and state, printing results as
//! `terraform console` does, or as JSON with `-json`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use meshform_engine::plan::PlanMode;
use meshform_engine::planner::console_names;
use meshform_lang::hcl_edit::parser::parse_expr;
use meshform_lang::{Diagnostic, EvalContext, FixedClock, Phase, SourceFile};

use crate::commands::plan::PlanArgs;
use crate::output::print_diagnostics;
use crate::{world, Globals};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Print each result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The heredoc delimiter a line opens (`<<EOT`, `<<-EOT`), if any.
fn heredoc_opened(line: &str) -> Option<String> {
    let i = line.find("<<")?;
    let rest = line[i + 2..].trim_start_matches('-');
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let mut plan_args = a.plan.clone();
    plan_args.input = false;
    // Evaluate against the plan of the current configuration and state.
    let dir = std::path::Path::new(".");
    let (module, diags) = meshform_config::load_module(dir);
    if diags.has_errors() {
        print_diagnostics(&diags, &module.all_sources(), g);
        return Ok(ExitCode::from(1));
    }
    let Some(run) = crate::commands::plan::make_plan_quiet(&plan_args, PlanMode::Normal, g)? else {
        return Ok(ExitCode::from(1));
    };
    let registry = world::registry(dir)?;
    let store = crate::commands::state::open(
        &crate::commands::plan::state_opts_for(&a.plan),
        "console",
        true,
    )?;
    let (prior, _) = world::prior_state(store.as_ref(), &run.schemas)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (names, _) = rt.block_on(console_names(&run.module, &prior, &registry, &run.opts));
    let mut ctx = EvalContext::new()
        .with_files(std::sync::Arc::new(crate::files::DirFiles::new(dir)))
        .with_clock(std::sync::Arc::new(FixedClock(run.now)))
        .with_phase(Phase::Plan);
    for (k, v) in names {
        ctx.set_name(k, v);
    }
    let interactive = std::io::stdin().is_terminal();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut failed = false;
    loop {
        if interactive {
            print!("> ");
            std::io::stdout().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let mut text = line?;
        if let Some(delim) = heredoc_opened(&text) {
            for more in lines.by_ref() {
                let more = more?;
                text.push('\n');
                text.push_str(&more);
                if more.trim() == delim {
                    break;
                }
            }
        }
        if text.trim().is_empty() {
            continue;
        }
        if text.trim() == "exit" {
            break;
        }
        let file = SourceFile::new("<console-input>", text.clone());
        let expr = match parse_expr(&text) {
            Ok(e) => e,
            Err(e) => {
                let d = Diagnostic::error("Invalid expression", e.message().to_owned())
                    .with_subject(file.range(e.location().offset()..e.location().offset()));
                print_diagnostics(&d.into(), &[std::sync::Arc::new(file)], g);
                failed = true;
                continue;
            }
        };
        let local = ctx.clone().with_source(file.clone());
        match meshform_lang::eval(&expr, &local) {
            Ok(v) if a.json => match v.clone().unmark_deep().to_json() {
                Ok(j) => println!("{}", serde_json::to_string(&j)?),
                Err(_) => println!("null"),
            },
            Ok(v) => println!("{}", meshform_lang::format_for_console(&v)),
            Err(d) => {
                print_diagnostics(&d, &[std::sync::Arc::new(file)], g);
                failed = true;
            }
        }
    }
    Ok(if failed && !interactive {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

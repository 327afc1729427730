//! `state …`, `output`, `taint`, `untaint`, `force-unlock`, `workspace …`.

use std::process::ExitCode;

use crate::Globals;

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {}

#[derive(Debug, clap::Args)]
pub struct OutputArgs {}

#[derive(Debug, clap::Args)]
pub struct TaintArgs {}

#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {}

#[derive(Debug, clap::Subcommand)]
pub enum WorkspaceCommand {}

fn unavailable(what: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`meshform {what}` is not available in this build yet")
}

pub fn run_state(c: StateCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {}
}
pub fn run_output(_a: OutputArgs, _g: &Globals) -> anyhow::Result<ExitCode> {
    unavailable("output")
}
pub fn run_taint(_a: TaintArgs, _g: &Globals, _taint: bool) -> anyhow::Result<ExitCode> {
    unavailable("taint")
}
pub fn run_force_unlock(_a: ForceUnlockArgs, _g: &Globals) -> anyhow::Result<ExitCode> {
    unavailable("force-unlock")
}
pub fn run_workspace(c: WorkspaceCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {}
}

//! `sandbox serve|status|reset`: the local Konnect and Kubernetes servers.

use std::process::ExitCode;

use crate::Globals;

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {}

pub fn run(c: SandboxCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {}
}

//! `helm template`: render a chart as Helm would, with no cluster.

use std::process::ExitCode;

use crate::Globals;

#[derive(Debug, clap::Subcommand)]
pub enum HelmCommand {}

pub fn run(c: HelmCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {}
}

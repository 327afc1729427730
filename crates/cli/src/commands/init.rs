//! `init`.

use std::process::ExitCode;

use crate::Globals;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_a: Args, _g: &Globals) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`meshform init` is being built")
}

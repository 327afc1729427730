//! `meshform-bench`: writes the benchmark workloads and runs the parts of
//! them `scripts/bench.sh` cannot run through `meshform` itself (seeding
//! state, a sandbox with latency, timed state commits).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use meshform_bench::{commit_objects, generate, seed_matching_state, start_sandbox};

#[derive(Parser)]
#[command(
    name = "meshform-bench",
    about = "Workloads and probes for the meshform benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write N chained locals and OUTPUTS outputs to DIR/main.tf.
    GenLocals {
        n: usize,
        dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        outputs: usize,
    },
    /// Write a control plane, a mesh and N traffic permissions to DIR/main.tf.
    GenPolicies {
        n: usize,
        dir: PathBuf,
        /// Konnect server the provider block names.
        #[arg(long, default_value = "http://127.0.0.1:9")]
        server_url: String,
    },
    /// Write the N-policy workload to DIR and apply it once against a
    /// private sandbox, so DIR's state matches its configuration.
    SeedState { n: usize, dir: PathBuf },
    /// Serve a sandbox Konnect API on loopback until the process is ended;
    /// prints its URL on the first line.
    Sandbox {
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Commit N objects one at a time to a new state database at PATH and
    /// print the cost as JSON.
    StateCommits { n: usize, path: PathBuf },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::GenLocals { n, dir, outputs } => {
            generate::write_main_tf(&dir, &generate::chained_locals(n, outputs))
                .with_context(|| format!("writing {}", dir.display()))?;
        }
        Command::GenPolicies { n, dir, server_url } => {
            generate::write_main_tf(&dir, &generate::traffic_permissions(n, &server_url))
                .with_context(|| format!("writing {}", dir.display()))?;
        }
        Command::SeedState { n, dir } => {
            let created = seed_matching_state(&dir, n)?;
            println!("{created}");
        }
        Command::Sandbox { latency_ms } => {
            let sandbox = start_sandbox(Duration::from_millis(latency_ms))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", sandbox.konnect_url())?;
            out.flush()?;
            drop(out);
            // The servers run on their own threads; serve until the
            // process is ended (the script sends SIGTERM).
            loop {
                std::thread::park();
            }
        }
        Command::StateCommits { n, path } => {
            let cost = commit_objects(&path, n)?;
            let json = serde_json::json!({
                "commits": cost.commits,
                "total_s": cost.total.as_secs_f64(),
                "per_object_ms": cost.per_object().as_secs_f64() * 1e3,
                "worst_ms": cost.worst.as_secs_f64() * 1e3,
            });
            println!("{json}");
        }
    }
    Ok(())
}

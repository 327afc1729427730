//! `sandbox serve|status|reset`: the local Konnect and Kubernetes servers.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use meshform_sandbox::{
    database_status, reset_database, Database, FaultConfig, Sandbox, SandboxClock, SandboxConfig,
    SandboxStatus, ThrottleConfig,
};

use crate::sandbox_mode::{running_server, Paths, ServerRecord};
use crate::Globals;

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox Konnect and Kubernetes API servers in the foreground
    /// until interrupted (SIGINT or SIGTERM).
    Serve(ServeArgs),
    /// Show whether the sandbox runs, and what its world holds.
    Status(StatusArgs),
    /// Empty the sandbox world (.meshform/sandbox.db).
    Reset,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port of the Konnect API (0 lets the system choose).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub konnect_port: u16,
    /// Port of the Kubernetes API (0 lets the system choose).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub kubernetes_port: u16,
    /// A personal access token to accept; can be given several times.
    #[arg(long = "token", value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Accept only the --token values and the tokens the sandbox issued,
    /// instead of any kpat_/spat_ token.
    #[arg(long)]
    pub strict_tokens: bool,
    /// Delay every Konnect response by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction (0 to 1) of Konnect requests answered with a 5xx error.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fraction (0 to 1) of Konnect requests that start a burst of 429s.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Length of a 429 burst, in requests.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub throttle_burst: u32,
    /// Seconds sent in `Retry-After` with a 429.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub retry_after: u32,
    /// Fraction (0 to 1) of Konnect connections closed without a response.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Seed for the fault generator.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Run the world from this moment instead of now (RFC 3339, or
    /// +DURATION such as +30d); time then moves forward from it.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

fn paths() -> Paths {
    crate::sandbox_mode::paths(Path::new(""))
}

pub fn run(c: SandboxCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {
        SandboxCommand::Serve(args) => serve(args),
        SandboxCommand::Status(args) => status(args),
        SandboxCommand::Reset => reset(),
    }
}

fn check_rate(name: &str, rate: f64) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        anyhow::bail!("--{name} must be between 0 and 1, got {rate}");
    }
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    check_rate("error-rate", args.error_rate)?;
    check_rate("throttle-rate", args.throttle_rate)?;
    check_rate("drop-rate", args.drop_rate)?;
    let paths = paths();
    let clock = match args.at.as_deref() {
        Some(at) => SandboxClock::starting_at(crate::world::clock(Some(at))?),
        None => SandboxClock::wall(),
    };
    let faults = FaultConfig {
        latency_ms: args.latency_ms,
        error_rate: args.error_rate,
        throttle: (args.throttle_rate > 0.0).then_some(ThrottleConfig {
            rate: args.throttle_rate,
            burst: args.throttle_burst.max(1),
            retry_after_seconds: args.retry_after,
        }),
        drop_rate: args.drop_rate,
        seed: args.seed,
    };
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("could not install the SIGINT/SIGTERM handler")?;
    let sandbox = Sandbox::start(SandboxConfig {
        database: Database::File(paths.database.clone()),
        konnect_port: args.konnect_port,
        kubernetes_port: args.kubernetes_port,
        personal_access_tokens: args.tokens,
        accept_any_token: !args.strict_tokens,
        faults,
        clock,
        ..SandboxConfig::default()
    })
    .context("could not start the sandbox")?;
    sandbox
        .write_kubeconfig(&paths.kubeconfig)
        .context("could not write the sandbox kubeconfig")?;
    let record = ServerRecord {
        pid: std::process::id(),
        konnect_url: sandbox.konnect_url().to_string(),
        kubernetes_url: sandbox.kubernetes_url().to_string(),
        clock,
    };
    std::fs::write(
        &paths.server,
        serde_json::to_string_pretty(&record.to_json())?,
    )
    .with_context(|| format!("could not write {}", paths.server.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Konnect API: {}", sandbox.konnect_url())?;
    writeln!(out, "Kubernetes API: {}", sandbox.kubernetes_url())?;
    writeln!(out, "Kubeconfig: {}", paths.kubeconfig.display())?;
    writeln!(out, "Database: {}", paths.database.display())?;
    writeln!(out, "Clock: {}", describe_clock(clock))?;
    writeln!(out)?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    let _ = stop_rx.recv();
    let _ = std::fs::remove_file(&paths.server);
    sandbox.shutdown();
    // The terminal may be gone by now; a failed write must not turn a clean
    // stop into a panic.
    let _ = writeln!(std::io::stdout(), "Sandbox stopped.");
    Ok(ExitCode::SUCCESS)
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let paths = paths();
    let server = running_server(&paths.server);
    let world = if paths.database.exists() {
        database_status(&paths.database).context("could not read the sandbox database")?
    } else {
        SandboxStatus::default()
    };
    if args.json {
        let value = serde_json::json!({
            "running": server.is_some(),
            "konnect_url": server.as_ref().map(|s| s.konnect_url.clone()),
            "kubernetes_url": server.as_ref().map(|s| s.kubernetes_url.clone()),
            "clock": server.as_ref().map(|s| serde_json::json!({
                "now": s.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "simulated": !s.clock.is_wall(),
            })),
            "database": paths.database,
            "status": world,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    match &server {
        Some(s) => {
            println!("Sandbox: running (pid {})", s.pid);
            println!("Konnect API: {}", s.konnect_url);
            println!("Kubernetes API: {}", s.kubernetes_url);
            println!("Kubeconfig: {}", paths.kubeconfig.display());
            println!("Clock: {}", describe_clock(s.clock));
        }
        None => println!("Sandbox: not running (start it with `meshform sandbox serve`)"),
    }
    println!("Database: {}", paths.database.display());
    print_counts("Konnect objects", &world.konnect);
    print_counts("Kubernetes objects", &world.kubernetes);
    if !world.zones.is_empty() {
        println!("Zones:");
        for zone in &world.zones {
            let state = if zone.online { "online" } else { "offline" };
            match &zone.reason {
                Some(reason) if !zone.online => {
                    println!(
                        "  {} (control plane {}): {state}: {reason}",
                        zone.zone, zone.cp_id
                    )
                }
                _ => println!("  {} (control plane {}): {state}", zone.zone, zone.cp_id),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The clock a server runs on, as `serve` and `status` print it.
fn describe_clock(clock: SandboxClock) -> String {
    let now = clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if clock.is_wall() {
        format!("{now} (wall clock)")
    } else {
        format!("{now} (simulated: started with -at)")
    }
}

fn print_counts(title: &str, counts: &std::collections::BTreeMap<String, u64>) {
    if counts.is_empty() {
        println!("{title}: none");
        return;
    }
    println!("{title}:");
    let width = counts.keys().map(String::len).max().unwrap_or(0);
    for (kind, count) in counts {
        println!("  {kind:<width$}  {count}");
    }
}

fn reset() -> anyhow::Result<ExitCode> {
    let paths = paths();
    if !paths.database.exists() {
        println!("The sandbox is already empty.");
        return Ok(ExitCode::SUCCESS);
    }
    let before = database_status(&paths.database).context("could not read the sandbox database")?;
    let total: u64 = before
        .konnect
        .values()
        .chain(before.kubernetes.values())
        .sum();
    reset_database(&paths.database).context("could not reset the sandbox database")?;
    println!("Sandbox reset: removed {total} objects.");
    Ok(ExitCode::SUCCESS)
}

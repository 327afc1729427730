//! `meshform`: runs a Terraform configuration without Terraform.
//!
//! The binary only parses arguments, builds the world (clock, state store,
//! provider registry, HTTP clients) and renders results; the work happens in
//! the library crates.

mod argv;
mod commands;
mod files;
mod helm_diff;
mod output;
mod planfile;
mod rotation;
mod sandbox_mode;
mod world;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Plans allocate many small values (every null carries its type); mimalloc
// serves them markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Options that apply to every command.
#[derive(Debug, Clone, clap::Args)]
pub struct Globals {
    /// Switch to a different working directory before executing the command.
    #[arg(long, value_name = "DIR", global = true)]
    pub chdir: Option<std::path::PathBuf>,
    /// Disable colour in the output (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

impl Globals {
    /// Whether to print colours: not with -no-color, NO_COLOR or a non-terminal.
    pub fn color(&self) -> bool {
        use std::io::IsTerminal;
        !self.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal()
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "meshform",
    version,
    about = "Runs a Terraform configuration for Kong Mesh, Konnect, Kubernetes and Helm without Terraform",
    disable_help_subcommand = true
)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prepare the working directory: check providers and create .meshform/.
    Init(commands::init::Args),
    /// Check whether the configuration is valid.
    Validate(commands::validate::Args),
    /// Reformat configuration files in the canonical style.
    Fmt(commands::fmt::Args),
    /// Show changes required by the current configuration.
    Plan(commands::plan::Args),
    /// Create or update infrastructure.
    Apply(commands::apply::Args),
    /// Destroy previously-created infrastructure.
    Destroy(commands::apply::Args),
    /// Show a saved plan, or the current state.
    Show(commands::show::Args),
    /// Print the dependency graph in Graphviz DOT.
    Graph(commands::graph::Args),
    /// Evaluate expressions against the configuration and state.
    Console(commands::console::Args),
    /// Associate an existing remote object with a resource address.
    Import(commands::import::Args),
    /// Advanced state management.
    #[command(subcommand)]
    State(commands::state::StateCommand),
    /// Show output values from the state.
    Output(commands::state::OutputArgs),
    /// Mark a resource instance as not fully functional.
    Taint(commands::state::TaintArgs),
    /// Remove the 'tainted' state from a resource instance.
    Untaint(commands::state::TaintArgs),
    /// Release a stuck lock on the state.
    ForceUnlock(commands::state::ForceUnlockArgs),
    /// Workspace management.
    #[command(subcommand)]
    Workspace(commands::state::WorkspaceCommand),
    /// Helm charts without a cluster.
    #[command(subcommand)]
    Helm(commands::helm::HelmCommand),
    /// The local Konnect and Kubernetes API servers.
    #[command(subcommand)]
    Sandbox(commands::sandbox::SandboxCommand),
    /// Show the meshform version.
    Version,
}

/// `MESHFORM_LOG=debug` (or any tracing filter such as
/// `meshform_providers=trace`) writes logs to stderr.
fn init_logging() {
    let Ok(filter) = std::env::var("MESHFORM_LOG") else {
        return;
    };
    if filter.is_empty() {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    init_logging();
    let args = argv::normalize(std::env::args_os());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Some(dir) = &cli.globals.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!(
                "Error handling -chdir option: chdir {}: {}",
                dir.display(),
                e
            );
            return ExitCode::from(1);
        }
    }
    let g = &cli.globals;
    let result = match cli.command {
        Command::Init(a) => commands::init::run(a, g),
        Command::Validate(a) => commands::validate::run(a, g),
        Command::Fmt(a) => commands::fmt::run(a, g),
        Command::Plan(a) => commands::plan::run(a, g),
        Command::Show(a) => commands::show::run(a, g),
        Command::Graph(a) => commands::graph::run(a, g),
        Command::Console(a) => commands::console::run(a, g),
        Command::Import(a) => commands::import::run(a, g),
        Command::Apply(a) => commands::apply::run(a, g, false),
        Command::Destroy(a) => commands::apply::run(a, g, true),
        Command::State(c) => commands::state::run_state(c, g),
        Command::Output(a) => commands::state::run_output(a, g),
        Command::Taint(a) => commands::state::run_taint(a, g, true),
        Command::Untaint(a) => commands::state::run_taint(a, g, false),
        Command::ForceUnlock(a) => commands::state::run_force_unlock(a, g),
        Command::Workspace(c) => commands::state::run_workspace(c, g),
        Command::Helm(c) => commands::helm::run(c, g),
        Command::Sandbox(c) => commands::sandbox::run(c, g),
        Command::Version => {
            println!("meshform v{}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, g);
            ExitCode::from(1)
        }
    }
}

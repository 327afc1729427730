//! `state …`, `output`, `taint`, `untaint`, `force-unlock`, `workspace …`.
//!
//! Each command opens the state database (`-state=PATH`, default
//! `.meshform/state.db`) on the selected workspace (`MESHFORM_WORKSPACE`, else
//! `.meshform/environment`), with the key from `MESHFORM_STATE_KEY` when set.
//! Commands that write take the workspace lock unless `-lock=false`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use meshform_state::{
    ops, render, tfstate, InstanceAddr, LockInfo, LockRequest, OpenOptions, StateError, StateKey,
    StateStore, DEFAULT_STATE_PATH, DEFAULT_WORKSPACE,
};

use crate::Globals;

/// The environment variable holding the key for secrets at rest.
const KEY_ENV: &str = "MESHFORM_STATE_KEY";
/// The new key for `state rekey`.
const NEW_KEY_ENV: &str = "MESHFORM_STATE_NEW_KEY";
/// Overrides the selected workspace, as `TF_WORKSPACE` does.
const WORKSPACE_ENV: &str = "MESHFORM_WORKSPACE";
/// The directory holding the default state and the workspace selection.
const DATA_DIR: &str = ".meshform";

#[derive(Debug, Clone, clap::Args)]
pub struct StateOpts {
    /// Path to the state database (default .meshform/state.db).
    #[arg(long, value_name = "PATH")]
    pub(crate) state: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LockOpts {
    /// Take the state lock while writing (-lock=false to skip; not recommended).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub(crate) lock: bool,
    /// How long to wait for the state lock (e.g. 5s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub(crate) lock_timeout: Duration,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List resource instances in the state, optionally only those matching addresses.
    List {
        addresses: Vec<String>,
        /// Only instances whose `id` attribute equals this.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        #[command(flatten)]
        state: StateOpts,
    },
    /// Show the attributes of one resource instance (sensitive values hidden).
    Show {
        address: String,
        #[command(flatten)]
        state: StateOpts,
    },
    /// Remove instances from the state without destroying them.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        /// Show what would be removed without removing it.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        state: StateOpts,
        #[command(flatten)]
        lock: LockOpts,
    },
    /// Move an instance, resource or module to another address in the state.
    Mv {
        source: String,
        destination: String,
        /// Show what would be moved without moving it.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        state: StateOpts,
        #[command(flatten)]
        lock: LockOpts,
    },
    /// Print the state as Terraform state v4 JSON.
    Pull {
        #[command(flatten)]
        state: StateOpts,
    },
    /// Replace the state with a Terraform state v4 file ("-" reads stdin).
    Push {
        file: PathBuf,
        /// Accept a different lineage or an older serial.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        state: StateOpts,
        #[command(flatten)]
        lock: LockOpts,
    },
    /// Adopt an existing terraform.tfstate (its lineage, serial and objects).
    ImportTfstate {
        file: PathBuf,
        /// Replace a workspace that already holds a state.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        state: StateOpts,
        #[command(flatten)]
        lock: LockOpts,
    },
    /// Encrypt the state's secrets with the key in MESHFORM_STATE_NEW_KEY
    /// (MESHFORM_STATE_KEY must hold the current key, if any).
    Rekey {
        #[command(flatten)]
        state: StateOpts,
    },
    /// Show the committed changes, oldest first, optionally for one address.
    History {
        address: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        state: StateOpts,
    },
}

#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// The output to show; all outputs when omitted.
    name: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "raw")]
    json: bool,
    /// Print a string, number or bool value as it is, without quotes or newline.
    #[arg(long)]
    raw: bool,
    /// Read the state of `-sandbox` runs.
    #[arg(long)]
    sandbox: bool,
    #[command(flatten)]
    state: StateOpts,
}

#[derive(Debug, clap::Args)]
pub struct TaintArgs {
    address: String,
    /// Succeed even when the instance is not in the state.
    #[arg(long)]
    allow_missing: bool,
    #[command(flatten)]
    state: StateOpts,
    #[command(flatten)]
    lock: LockOpts,
}

#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {
    lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    state: StateOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorkspaceCommand {
    /// List workspaces; the selected one is marked with `*`.
    List {
        #[command(flatten)]
        state: StateOpts,
    },
    /// Create a workspace and select it.
    New {
        name: String,
        #[command(flatten)]
        state: StateOpts,
    },
    /// Select a workspace.
    Select {
        name: String,
        #[command(flatten)]
        state: StateOpts,
    },
    /// Delete a workspace.
    Delete {
        name: String,
        /// Delete even when the workspace still holds resources.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        state: StateOpts,
    },
    /// Print the selected workspace.
    Show,
}

// ---- the world: paths, workspace, key, user@host ---------------------------

pub(crate) fn state_path(opts: &StateOpts) -> PathBuf {
    opts.state
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_PATH))
}

pub(crate) fn current_workspace() -> anyhow::Result<String> {
    if let Some(name) = std::env::var_os(WORKSPACE_ENV).filter(|v| !v.is_empty()) {
        let name = name.to_string_lossy().into_owned();
        meshform_state::validate_workspace_name(&name)
            .with_context(|| format!("{WORKSPACE_ENV} names an invalid workspace"))?;
        return Ok(name);
    }
    Ok(meshform_state::selected_workspace(Path::new(DATA_DIR))?)
}

pub(crate) fn state_key() -> anyhow::Result<Option<StateKey>> {
    match std::env::var(KEY_ENV) {
        Ok(text) if !text.is_empty() => StateKey::parse(&text).map(Some).with_context(|| {
            format!("{KEY_ENV} is set but unusable; generate one with `openssl rand -base64 32`")
        }),
        _ => Ok(None),
    }
}

/// `user@host` for lock info.
pub(crate) fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{user}@{host}")
}

/// Opens the state for a command. Read-only commands get `None` when there
/// is no database yet, so that looking does not create one.
pub(crate) fn open(
    opts: &StateOpts,
    command: &str,
    read_only: bool,
) -> anyhow::Result<Option<StateStore>> {
    let path = state_path(opts);
    if read_only && !path.exists() {
        return Ok(None);
    }
    let workspace = current_workspace()?;
    let options = OpenOptions::new(command)
        .workspace(&workspace)
        .key(state_key()?);
    match StateStore::open(&path, options) {
        Ok(store) => Ok(Some(store)),
        Err(e) => Err(explain(e)),
    }
}

pub(crate) fn open_for_write(opts: &StateOpts, command: &str) -> anyhow::Result<StateStore> {
    open(opts, command, false)?.ok_or_else(|| anyhow!("the state database could not be opened"))
}

/// Adds the advice only the CLI can give to a state error.
pub(crate) fn explain(e: StateError) -> anyhow::Error {
    match &e {
        StateError::KeyRequired { .. } => {
            anyhow!("{e}\n\nSet {KEY_ENV} to the key this state was encrypted with.")
        }
        StateError::WrongKey { .. } => {
            anyhow!("{e}\n\nCheck {KEY_ENV}: it must be the key this state was encrypted with.")
        }
        StateError::Locked { holder } => lock_error(&e, holder),
        StateError::WorkspaceNotFound { name } => anyhow!(
            "Workspace {name:?} doesn't exist.\n\nYou can create this workspace with the \"new\" subcommand."
        ),
        StateError::NoMatch { pattern } => anyhow!(
            "Invalid target address\n\nNo matching objects found for {pattern}. To view the available instances, use \"meshform state list\"."
        ),
        _ => anyhow::Error::new(e),
    }
}

pub(crate) fn lock_error(e: &StateError, holder: &LockInfo) -> anyhow::Error {
    anyhow!(
        "Error acquiring the state lock\n\nError message: {e}\nLock Info:\n  ID:        {}\n  Operation: {}\n  Who:       {}\n  Version:   {}\n  Created:   {}\n\nmeshform takes a state lock to protect the state from being written\nby several processes at the same time. Resolve the issue above and try\nagain. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended. If the holder is gone, release the lock\nwith \"meshform force-unlock {}\".",
        holder.id,
        holder.operation,
        holder.who,
        holder.version,
        meshform_state::format_time(&holder.created),
        holder.id
    )
}

/// Runs `f` with the lock held (unless `-lock=false`), releasing it after.
pub(crate) fn with_lock<T>(
    store: &mut StateStore,
    lock: &LockOpts,
    operation: &str,
    f: impl FnOnce(&mut StateStore) -> Result<T, StateError>,
) -> anyhow::Result<T> {
    if lock.lock {
        let request = LockRequest {
            operation: operation.to_owned(),
            who: who(),
            timeout: lock.lock_timeout,
        };
        store.lock(&request).map_err(explain)?;
    }
    let result = f(store);
    if lock.lock {
        store.unlock().map_err(explain)?;
    }
    result.map_err(explain)
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn parse_addr(text: &str) -> anyhow::Result<InstanceAddr> {
    InstanceAddr::parse(text).map_err(|e| anyhow!("Invalid address\n\n{e}"))
}

// ---- state ------------------------------------------------------------------

pub fn run_state(c: StateCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {
        StateCommand::List {
            addresses,
            id,
            state,
        } => state_list(&state, &addresses, id.as_deref()),
        StateCommand::Show { address, state } => state_show(&state, &address),
        StateCommand::Rm {
            addresses,
            dry_run,
            state,
            lock,
        } => {
            let mut store = open_for_write(&state, "state rm")?;
            let removed = with_lock(&mut store, &lock, "state rm", |s| {
                ops::remove_matching(s, &addresses, dry_run)
            })?;
            let mut text = String::new();
            let verb = if dry_run { "Would remove" } else { "Removed" };
            for key in &removed {
                text.push_str(&format!("{verb} {key}\n"));
            }
            if !dry_run {
                text.push_str(&format!(
                    "Successfully removed {} resource instance(s).\n",
                    removed.len()
                ));
            }
            print(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        StateCommand::Mv {
            source,
            destination,
            dry_run,
            state,
            lock,
        } => {
            let mut store = open_for_write(&state, "state mv")?;
            let moves = with_lock(&mut store, &lock, "state mv", |s| {
                ops::move_matching(s, &source, &destination, dry_run)
            })?;
            let mut text = String::new();
            let verb = if dry_run { "Would move" } else { "Move" };
            for (from, to) in &moves {
                text.push_str(&format!("{verb} \"{from}\" to \"{to}\"\n"));
            }
            if !dry_run {
                text.push_str(&format!("Successfully moved {} object(s).\n", moves.len()));
            }
            print(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        StateCommand::Pull { state } => {
            if let Some(store) = open(&state, "state pull", true)? {
                let snapshot = store.snapshot().map_err(explain)?;
                print(&tfstate::to_tfstate_json(&snapshot))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        StateCommand::Push {
            file,
            force,
            state,
            lock,
        } => {
            let incoming = read_tfstate(&file)?;
            let mut store = open_for_write(&state, "state push")?;
            with_lock(&mut store, &lock, "state push", |s| {
                s.push(&incoming, force)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        StateCommand::ImportTfstate {
            file,
            force,
            state,
            lock,
        } => {
            let incoming = read_tfstate(&file)?;
            let mut store = open_for_write(&state, "state import-tfstate")?;
            let outcome = with_lock(&mut store, &lock, "state import-tfstate", |s| {
                s.adopt(&incoming, force)
            })?;
            print(&format!(
                "Imported {} resource instance(s) and {} output(s) from {} (lineage {}, serial {}).\n",
                incoming.instances.len(),
                incoming.outputs.len(),
                file.display(),
                incoming.lineage,
                outcome.serial()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        StateCommand::History {
            address,
            json,
            state,
        } => state_history(&state, address.as_deref(), json),
        StateCommand::Rekey { state } => {
            let new_key = match std::env::var(NEW_KEY_ENV) {
                Ok(text) if !text.is_empty() => StateKey::parse(&text).with_context(|| {
                    format!("{NEW_KEY_ENV} is unusable; generate one with `openssl rand -base64 32`")
                })?,
                _ => bail!("{NEW_KEY_ENV} is not set\n\nSet it to the new key (e.g. `openssl rand -base64 32`), and {KEY_ENV} to the current key if the state has one."),
            };
            let mut store = open_for_write(&state, "state rekey")?;
            let version = store.rekey(new_key).map_err(explain)?;
            print(&format!(
                "The state's secrets are now encrypted with key version {version}.\nSet {KEY_ENV} to the new key from now on.\n"
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_tfstate(file: &Path) -> anyhow::Result<meshform_state::Snapshot> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the state from stdin")?;
        text
    } else {
        std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the state file {}", file.display()))?
    };
    tfstate::parse_tfstate(&text)
        .with_context(|| format!("{} is not a usable state", file.display()))
}

fn state_list(opts: &StateOpts, patterns: &[String], id: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(store) = open(opts, "state list", true)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut addresses: Vec<InstanceAddr> = Vec::new();
    let selected =
        |addr: &InstanceAddr| patterns.is_empty() || patterns.iter().any(|p| addr.matches(p));
    match id {
        None => {
            for key in store.list_objects().map_err(explain)? {
                if selected(&key.addr) && !addresses.contains(&key.addr) {
                    addresses.push(key.addr);
                }
            }
        }
        Some(id) => {
            let snapshot = store.snapshot().map_err(explain)?;
            for inst in snapshot.instances {
                let matches_id = inst
                    .attributes
                    .object()
                    .and_then(|m| m.get("id").and_then(|v| v.as_string()))
                    .is_some_and(|v| v == id);
                if matches_id && selected(&inst.addr) && !addresses.contains(&inst.addr) {
                    addresses.push(inst.addr);
                }
            }
        }
    }
    for pattern in patterns {
        if !addresses.iter().any(|a| a.matches(pattern)) && id.is_none() {
            bail!("Invalid target address\n\nNo matching objects found for {pattern}. To view the available instances, use \"meshform state list\".");
        }
    }
    let text: String = addresses.iter().map(|a| format!("{a}\n")).collect();
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn state_show(opts: &StateOpts, address: &str) -> anyhow::Result<ExitCode> {
    let addr = parse_addr(address)?;
    let not_found = || {
        anyhow!("No instance found for the given address!\n\nThis command requires that the address references one specific instance.\nTo view the available instances, use \"meshform state list\". Please modify\nthe address to reference a specific instance.")
    };
    let store = open(opts, "state show", true)?.ok_or_else(not_found)?;
    let snapshot = store.snapshot().map_err(explain)?;
    let text: String = snapshot
        .instances
        .iter()
        .filter(|i| i.addr == addr)
        .map(render::render_instance)
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() {
        return Err(not_found());
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn state_history(opts: &StateOpts, address: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let Some(store) = open(opts, "state history", true)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut text = String::new();
    for entry in store.history(address).map_err(explain)? {
        let time = meshform_state::format_time(&entry.time);
        if json {
            let line = serde_json::json!({
                "serial": entry.serial,
                "time": time,
                "command": entry.command,
                "address": entry.address,
                "action": entry.action.as_str(),
            });
            text.push_str(&format!("{line}\n"));
        } else {
            text.push_str(&format!(
                "{:>6}  {time}  {:<13}  {}  ({})\n",
                entry.serial,
                entry.action.as_str(),
                entry.address,
                entry.command
            ));
        }
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

// ---- output -------------------------------------------------------------------

pub fn run_output(a: OutputArgs, _g: &Globals) -> anyhow::Result<ExitCode> {
    let state_opts = crate::sandbox_mode::state_opts(&a.state, a.sandbox);
    let outputs = match open(&state_opts, "output", true)? {
        Some(store) => store.snapshot().map_err(explain)?.outputs,
        None => Default::default(),
    };
    let Some(name) = &a.name else {
        if a.raw {
            bail!("Output name required\n\nThe -raw option requires a single output name.");
        }
        if a.json {
            let mut text = render::outputs_json(&outputs);
            text.push('\n');
            print(&text)?;
        } else if outputs.is_empty() {
            eprintln!(
                "\nWarning: No outputs found\n\nThe state file either has no outputs defined, or all the defined outputs\nare empty. Please define an output in your configuration with the `output`\nkeyword and run `meshform apply` for it to become available. If you are\nusing interpolation, please verify the interpolated value is not empty. You\ncan use the `meshform console` command to assist.\n"
            );
        } else {
            print(&render::render_outputs(&outputs))?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let output = outputs.get(name).ok_or_else(|| {
        anyhow!("Output {name:?} not found\n\nThe output variable requested could not be found in the state file. If you\nrecently added this to your configuration, be sure to run `meshform apply`,\nsince the state won't be updated with new output variables until that command\nis run.")
    })?;
    if a.raw {
        let raw = render::raw_value(&output.value).ok_or_else(|| {
            anyhow!("Unsupported value for raw output\n\nThe -raw option only supports strings, numbers, and boolean values, but output value {name:?} is of another type.\n\nUse the -json option for machine-readable representations of output values that have complex types.")
        })?;
        print(&raw)?;
    } else if a.json {
        print(&format!("{}\n", output.value.as_str()))?;
    } else {
        print(&format!(
            "{}\n",
            render::format_value(&output.value, &output.type_json, 0)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

// ---- taint / untaint ------------------------------------------------------------

pub fn run_taint(a: TaintArgs, _g: &Globals, taint: bool) -> anyhow::Result<ExitCode> {
    let addr = parse_addr(&a.address)?;
    let command = if taint { "taint" } else { "untaint" };
    let mut store = open_for_write(&a.state, command)?;
    let result = with_lock(&mut store, &a.lock, command, |s| {
        match s.set_tainted(&addr, taint) {
            Err(StateError::NoSuchObject { .. }) => Ok(None),
            other => other.map(Some),
        }
    })?;
    match result {
        Some(_) if taint => print(&format!(
            "Resource instance {addr} has been marked as tainted.\n"
        ))?,
        Some(_) => print(&format!(
            "Resource instance {addr} has been successfully untainted.\n"
        ))?,
        None if a.allow_missing => {
            eprintln!("\nWarning: No such resource instance\n\nResource instance {addr} was not found, but this is not an error\nbecause -allow-missing was set.\n");
        }
        None => bail!(
            "No such resource instance\n\nResource instance {addr} was not found. To view the available instances, use \"meshform state list\"."
        ),
    }
    Ok(ExitCode::SUCCESS)
}

// ---- force-unlock --------------------------------------------------------------------

pub fn run_force_unlock(a: ForceUnlockArgs, _g: &Globals) -> anyhow::Result<ExitCode> {
    let mut store = open_for_write(&a.state, "force-unlock")?;
    if !a.force {
        print(&format!(
            "Do you really want to force-unlock?\n  meshform will remove the lock on the state (ID {}).\n  This will allow local meshform commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
            a.lock_id
        ))?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            print("\nforce-unlock cancelled.\n")?;
            return Ok(ExitCode::from(1));
        }
    }
    store.force_unlock(&a.lock_id).map_err(|e| match e {
        StateError::LockNotFound { .. } => anyhow!(
            "Failed to unlock state: {e}\n\nCheck the lock ID; `meshform state`-writing commands print the holder's ID when they are refused."
        ),
        other => explain(other),
    })?;
    print("meshform state has been successfully unlocked!\n\nThe state has been unlocked, and meshform commands should now be able to\nobtain a new lock on the state.\n")?;
    Ok(ExitCode::SUCCESS)
}

// ---- workspace -------------------------------------------------------------------------

pub fn run_workspace(c: WorkspaceCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    let data_dir = Path::new(DATA_DIR);
    match c {
        WorkspaceCommand::Show => {
            print(&format!("{}\n", current_workspace()?))?;
        }
        WorkspaceCommand::List { state } => {
            let current = current_workspace()?;
            let mut names = match open(&state, "workspace list", true)? {
                Some(store) => store
                    .list_workspaces()
                    .map_err(explain)?
                    .into_iter()
                    .map(|w| w.name)
                    .collect(),
                None => vec![DEFAULT_WORKSPACE.to_owned()],
            };
            if !names.contains(&current) {
                names.push(current.clone());
                names.sort();
            }
            let mut text = String::new();
            for name in names {
                let mark = if name == current { "* " } else { "  " };
                text.push_str(&format!("{mark}{name}\n"));
            }
            text.push('\n');
            print(&text)?;
        }
        WorkspaceCommand::New { name, state } => {
            meshform_state::validate_workspace_name(&name).map_err(explain)?;
            let store = open_default(&state, "workspace new")?;
            store.create_workspace(&name).map_err(|e| match e {
                StateError::WorkspaceExists { .. } => anyhow!("Workspace {name:?} already exists"),
                other => explain(other),
            })?;
            meshform_state::select_workspace(data_dir, &name)?;
            print(&format!(
                "Created and switched to workspace {name:?}!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"meshform plan\" meshform will not see any existing state\nfor this configuration.\n"
            ))?;
        }
        WorkspaceCommand::Select { name, state } => {
            let store = open_default(&state, "workspace select")?;
            let exists = store
                .list_workspaces()
                .map_err(explain)?
                .iter()
                .any(|w| w.name == name);
            if !exists {
                return Err(explain(StateError::WorkspaceNotFound { name }));
            }
            meshform_state::select_workspace(data_dir, &name)?;
            print(&format!("Switched to workspace {name:?}.\n"))?;
        }
        WorkspaceCommand::Delete { name, force, state } => {
            if name == current_workspace()? {
                bail!("Workspace {name:?} is your active workspace.\n\nYou cannot delete the currently active workspace. Please switch\nto another workspace and try again.");
            }
            let store = open_default(&state, "workspace delete")?;
            store.delete_workspace(&name, force).map_err(|e| match e {
                StateError::WorkspaceNotEmpty { .. } => anyhow!(
                    "{e}\n\nDeleting it would leave those objects unmanaged. Destroy them first, or pass -force to delete the workspace anyway."
                ),
                other => explain(other),
            })?;
            print(&format!("Deleted workspace {name:?}!\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Workspace management works from the default workspace, so it does not
/// depend on the selected one existing.
fn open_default(opts: &StateOpts, command: &str) -> anyhow::Result<StateStore> {
    let options = OpenOptions::new(command).key(state_key()?);
    StateStore::open(&state_path(opts), options).map_err(explain)
}

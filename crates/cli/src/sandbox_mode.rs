//! `-sandbox`: runs a command against the local Konnect and Kubernetes
//! servers, started in-process on loopback and backed by
//! `.meshform/sandbox.db`, so successive commands see the same world. The
//! configuration is not edited: providers are pointed at the servers
//! through run-level overrides and environment, and the state lives in its
//! own database so it never mixes with a real-Konnect state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use meshform_lang::Value;
use meshform_sandbox::{Database, Sandbox, SandboxClock, SandboxConfig};

/// The state database of sandbox runs, beside the real one.
pub const SANDBOX_STATE_PATH: &str = ".meshform/sandbox-state.db";

/// The state options of a command: with `-sandbox` and no `-state`, the
/// sandbox's own database.
pub fn state_opts(
    opts: &crate::commands::state::StateOpts,
    sandbox: bool,
) -> crate::commands::state::StateOpts {
    let mut s = opts.clone();
    if sandbox && s.state.is_none() {
        s.state = Some(PathBuf::from(SANDBOX_STATE_PATH));
    }
    s
}

/// Where the sandbox keeps its files, relative to the working directory.
pub struct Paths {
    pub database: PathBuf,
    /// The kubeconfig of the long-running `sandbox serve`, which users
    /// point kubectl at; only that server writes it.
    pub kubeconfig: PathBuf,
    /// What a running `sandbox serve` records about itself.
    pub server: PathBuf,
}

pub fn paths(dir: &Path) -> Paths {
    let root = dir.join(".meshform");
    Paths {
        database: root.join("sandbox.db"),
        kubeconfig: root.join("sandbox").join("kubeconfig"),
        server: root.join("sandbox").join("server.json"),
    }
}

/// What a running `sandbox serve` records about itself.
#[derive(Debug)]
pub struct ServerRecord {
    pub pid: u32,
    pub konnect_url: String,
    pub kubernetes_url: String,
    pub clock: SandboxClock,
}

impl ServerRecord {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "pid": self.pid,
            "konnect_url": self.konnect_url,
            "kubernetes_url": self.kubernetes_url,
            "clock_offset_ms": self.clock.offset().num_milliseconds(),
        })
    }
}

/// The record of a running server, if one answers at its Konnect address.
pub fn running_server(path: &Path) -> Option<ServerRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let record = ServerRecord {
        pid: u32::try_from(json["pid"].as_u64()?).ok()?,
        konnect_url: json["konnect_url"].as_str()?.to_string(),
        kubernetes_url: json["kubernetes_url"].as_str()?.to_string(),
        clock: SandboxClock::with_offset(chrono::TimeDelta::milliseconds(
            json["clock_offset_ms"].as_i64().unwrap_or(0),
        )),
    };
    let addr = record.konnect_url.strip_prefix("http://")?.parse().ok()?;
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    Some(record)
}

/// The servers a run talks to.
enum Servers {
    /// Started by this run, for its duration.
    Own(Box<Sandbox>),
    /// A `sandbox serve` already running on the same world and clock.
    Shared { konnect_url: String },
}

/// A running sandbox and what providers need to reach it.
pub struct SandboxRun {
    servers: Servers,
    pub kubeconfig: PathBuf,
    /// A kubeconfig written for this run only, removed when it ends.
    private_kubeconfig: Option<PathBuf>,
}

impl Drop for SandboxRun {
    fn drop(&mut self) {
        if let Some(path) = &self.private_kubeconfig {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether a server on `served` lives at the same moment as a run on `run`
/// (both on the wall clock, or simulated clocks within a second).
fn same_clock(served: SandboxClock, run: SandboxClock) -> bool {
    (served.offset() - run.offset()).abs() < chrono::TimeDelta::seconds(1)
}

impl SandboxRun {
    /// The servers of a run on `clock`: a running `sandbox serve` of this
    /// directory when it lives on the same clock, so its watchers see the
    /// run's changes; otherwise servers of the run's own, started on
    /// `clock` (the run's `-at` moment moving forward, so the simulated
    /// world judges expiry when the plan does) with a kubeconfig of their
    /// own, so the served kubeconfig stays valid for the user's kubectl.
    pub fn start(dir: &Path, clock: SandboxClock) -> anyhow::Result<SandboxRun> {
        let paths = paths(dir);
        if let Some(served) = running_server(&paths.server).filter(|s| same_clock(s.clock, clock)) {
            if paths.kubeconfig.is_file() {
                return Ok(SandboxRun {
                    servers: Servers::Shared {
                        konnect_url: served.konnect_url,
                    },
                    kubeconfig: paths.kubeconfig,
                    private_kubeconfig: None,
                });
            }
        }
        let runs = dir.join(".meshform").join("sandbox").join("runs");
        std::fs::create_dir_all(&runs).context("creating .meshform/sandbox/runs")?;
        let sandbox = Sandbox::start(SandboxConfig {
            database: Database::File(paths.database),
            accept_any_token: true,
            clock,
            ..SandboxConfig::default()
        })
        .context("starting the sandbox")?;
        let kubeconfig = runs.join(format!("{}.kubeconfig", std::process::id()));
        sandbox
            .write_kubeconfig(&kubeconfig)
            .context("writing the sandbox kubeconfig")?;
        Ok(SandboxRun {
            servers: Servers::Own(Box::new(sandbox)),
            private_kubeconfig: Some(kubeconfig.clone()),
            kubeconfig,
        })
    }

    fn konnect_url(&self) -> &str {
        match &self.servers {
            Servers::Own(sandbox) => sandbox.konnect_url(),
            Servers::Shared { konnect_url, .. } => konnect_url,
        }
    }

    /// Provider arguments that point at the sandbox (any token works there).
    pub fn provider_overrides(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        let konnect = BTreeMap::from([
            ("server_url".to_owned(), Value::string(self.konnect_url())),
            (
                "personal_access_token".to_owned(),
                Value::string("kpat_meshformsandbox"),
            ),
            (
                "system_account_access_token".to_owned(),
                Value::null(meshform_lang::Type::String),
            ),
            (
                "konnect_access_token".to_owned(),
                Value::null(meshform_lang::Type::String),
            ),
        ]);
        let kubernetes = BTreeMap::from([(
            "config_path".to_owned(),
            Value::string(self.kubeconfig.to_string_lossy()),
        )]);
        BTreeMap::from([
            ("kong/konnect".to_owned(), konnect.clone()),
            ("kong/konnect-beta".to_owned(), konnect),
            ("hashicorp/kubernetes".to_owned(), kubernetes),
        ])
    }

    /// Environment for providers: the sandbox's identity host and
    /// kubeconfig, which providers without a block fall back to.
    pub fn environment(&self, mut env: BTreeMap<String, String>) -> BTreeMap<String, String> {
        let kubeconfig = self.kubeconfig.to_string_lossy().into_owned();
        env.insert(
            "MESHFORM_KONNECT_IDENTITY_URL".into(),
            self.konnect_url().to_owned(),
        );
        env.insert("KONNECT_SERVER_URL".into(), self.konnect_url().to_owned());
        env.insert("KUBE_CONFIG_PATH".into(), kubeconfig.clone());
        env.insert("KUBECONFIG".into(), kubeconfig);
        env
    }
}

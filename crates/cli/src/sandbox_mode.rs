//! `-sandbox`: runs a command against the local Konnect and Kubernetes
//! servers, started in-process on loopback and backed by
//! `.meshform/sandbox.db`, so successive commands see the same world. The
//! configuration is not edited: providers are pointed at the servers
//! through run-level overrides and environment, and the state lives in its
//! own database so it never mixes with a real-Konnect state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// A running sandbox and what providers need to reach it.
pub struct SandboxRun {
    pub sandbox: Sandbox,
    pub kubeconfig: PathBuf,
}

impl SandboxRun {
    /// Starts the servers on `clock`: the run's `-at` moment moving forward,
    /// so the simulated world judges expiry when the plan does.
    pub fn start(dir: &Path, clock: SandboxClock) -> anyhow::Result<SandboxRun> {
        let root = dir.join(".meshform");
        std::fs::create_dir_all(root.join("sandbox")).context("creating .meshform/sandbox")?;
        let sandbox = Sandbox::start(SandboxConfig {
            database: Database::File(root.join("sandbox.db")),
            accept_any_token: true,
            clock,
            ..SandboxConfig::default()
        })
        .context("starting the sandbox")?;
        let kubeconfig = root.join("sandbox").join("kubeconfig");
        sandbox
            .write_kubeconfig(&kubeconfig)
            .context("writing the sandbox kubeconfig")?;
        Ok(SandboxRun {
            sandbox,
            kubeconfig,
        })
    }

    /// Provider arguments that point at the sandbox (any token works there).
    pub fn provider_overrides(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        let konnect = BTreeMap::from([
            (
                "server_url".to_owned(),
                Value::string(self.sandbox.konnect_url()),
            ),
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
            self.sandbox.konnect_url().to_owned(),
        );
        env.insert(
            "KONNECT_SERVER_URL".into(),
            self.sandbox.konnect_url().to_owned(),
        );
        env.insert("KUBE_CONFIG_PATH".into(), kubeconfig.clone());
        env.insert("KUBECONFIG".into(), kubeconfig);
        env
    }
}

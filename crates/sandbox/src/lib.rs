//! Local stand-ins for the Konnect API and a Kubernetes API server, served on
//! loopback for tests, previews and `meshform sandbox`.
//!
//! [`Sandbox::start`] takes a [`SandboxConfig`] and returns a running handle
//! with the bound `konnect_url` and `kubernetes_url`; the world both servers
//! share lives in SQLite ([`Database`]: a file or memory). The Konnect side
//! follows the published Konnect contracts (mesh control planes, the Kuma
//! resource API, identity: system accounts, roles, access tokens, teams) with
//! Bearer authentication and fault injection ([`FaultConfig`]); the Kubernetes
//! side serves discovery and generic object storage for the kinds Helm charts
//! use, so the real `kubectl` works against it. Zone simulation joins the
//! two: a kong-mesh zone control plane Deployment in the cluster connects to
//! its Konnect control plane with the token it rolled out with
//! ([`Sandbox::sync_zones`]) and mirrors the mesh policies into the cluster.
//!
//! It implements the published contracts and depends on no other meshform
//! crate: it must not know how meshform's own client reads those contracts.

mod clock;
#[cfg(feature = "contract")]
pub mod contract;
mod faults;
mod konnect;
mod kube;
mod server;
mod store;
mod traffic;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use clock::SandboxClock;
pub use faults::{FaultConfig, ThrottleConfig};
pub use konnect::Exchange;
pub use store::StoreError;
pub use traffic::TrafficStats;

/// Where the sandbox keeps its world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// Nothing survives the process.
    Memory,
    /// A SQLite file, created if missing, so successive runs see the same world.
    File(PathBuf),
}

/// How to start a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where objects are stored.
    pub database: Database,
    /// Address both servers bind; loopback unless changed.
    pub host: IpAddr,
    /// Port of the Konnect server; 0 lets the OS choose.
    pub konnect_port: u16,
    /// Port of the Kubernetes API server; 0 lets the OS choose.
    pub kubernetes_port: u16,
    /// Personal access tokens accepted as Bearer credentials.
    pub personal_access_tokens: Vec<String>,
    /// Accept any Bearer token that looks like a Konnect token (`kpat_…`,
    /// `spat_…`), except tokens this sandbox issued that are expired or
    /// revoked. Meant for the sandbox mode of the CLI.
    pub accept_any_token: bool,
    /// Faults injected into Konnect responses from the start.
    pub faults: FaultConfig,
    /// Keep every Konnect request and response for later inspection.
    pub record_exchanges: bool,
    /// The time the world lives on: token expiry, timestamps, zone checks.
    pub clock: SandboxClock,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            database: Database::Memory,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            konnect_port: 0,
            kubernetes_port: 0,
            personal_access_tokens: Vec::new(),
            accept_any_token: false,
            faults: FaultConfig::default(),
            record_exchanges: false,
            clock: SandboxClock::wall(),
        }
    }
}

/// Errors while starting or managing a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The SQLite store could not be opened or used.
    #[error("the sandbox database failed: {0}")]
    Store(#[from] StoreError),
    /// A server could not bind its address.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The async runtime could not be built.
    #[error("could not start the sandbox runtime: {0}")]
    Runtime(std::io::Error),
    /// Zone simulation failed.
    #[error("zone simulation failed: {message}")]
    Zone { message: String },
    /// Writing a file (the kubeconfig) failed.
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Object counts of a sandbox world, for `meshform sandbox status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SandboxStatus {
    /// Number of Konnect objects per collection (control-planes, meshes, …).
    pub konnect: std::collections::BTreeMap<String, u64>,
    /// Number of Kubernetes objects per resource (`secrets`, `deployments.apps`, …).
    pub kubernetes: std::collections::BTreeMap<String, u64>,
    /// Zones by control plane id, with whether they are online and why not.
    pub zones: Vec<ZoneStatus>,
}

/// One simulated zone attached to a mesh control plane.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZoneStatus {
    /// Control plane id.
    pub cp_id: String,
    /// Zone name.
    pub zone: String,
    /// Whether the zone is connected.
    pub online: bool,
    /// Why the zone is offline, when it is.
    pub reason: Option<String>,
}

/// State shared by both servers.
pub(crate) struct World {
    pub store: store::Store,
    pub faults: faults::Faults,
    pub traffic: traffic::Traffic,
    pub auth: konnect::AuthConfig,
    pub exchanges: Option<std::sync::Mutex<Vec<Exchange>>>,
    pub kube_events: kube::Events,
}

/// A running sandbox: both servers, until [`Sandbox::shutdown`] or drop.
pub struct Sandbox {
    world: Arc<World>,
    konnect_url: String,
    kubernetes_url: String,
    servers: server::Servers,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("konnect_url", &self.konnect_url)
            .field("kubernetes_url", &self.kubernetes_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Opens the store and starts both servers on their own runtime threads.
    /// Works from synchronous code and from inside an async runtime alike.
    pub fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let store = match &config.database {
            Database::Memory => store::Store::memory()?,
            Database::File(path) => store::Store::open(path)?,
        }
        .with_clock(config.clock);
        let kube_events = kube::Events::new();
        let world = Arc::new(World {
            store,
            faults: faults::Faults::new(config.faults.clone()),
            traffic: traffic::Traffic::default(),
            auth: konnect::AuthConfig {
                personal_access_tokens: config.personal_access_tokens.clone(),
                accept_any_token: config.accept_any_token,
            },
            exchanges: config
                .record_exchanges
                .then(|| std::sync::Mutex::new(Vec::new())),
            kube_events,
        });
        kube::ensure_defaults(&world)?;
        let konnect_addr = SocketAddr::new(config.host, config.konnect_port);
        let kube_addr = SocketAddr::new(config.host, config.kubernetes_port);
        let servers = server::Servers::start(
            konnect_addr,
            konnect::router(world.clone()),
            kube_addr,
            kube::router(world.clone()),
            world.clone(),
        )?;
        let zones_world = world.clone();
        servers.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Err(e) = kube::reconcile_zones(&zones_world) {
                    tracing::warn!("zone simulation: {}", e.message());
                }
            }
        });
        let konnect_url = format!("http://{}", servers.konnect_addr);
        let kubernetes_url = format!("http://{}", servers.kubernetes_addr);
        Ok(Sandbox {
            world,
            konnect_url,
            kubernetes_url,
            servers,
        })
    }

    /// Base URL of the Konnect server (serves both the regional `/v1/mesh/…`
    /// and the global `/v3/…` paths).
    pub fn konnect_url(&self) -> &str {
        &self.konnect_url
    }

    /// Base URL of the Kubernetes API server.
    pub fn kubernetes_url(&self) -> &str {
        &self.kubernetes_url
    }

    /// A kubeconfig (YAML) whose current context points at the Kubernetes server.
    pub fn kubeconfig(&self) -> String {
        kube::kubeconfig(&self.kubernetes_url)
    }

    /// Writes [`Sandbox::kubeconfig`] to `path`, creating parent directories.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SandboxError> {
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, self.kubeconfig())
        };
        write().map_err(|source| SandboxError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The clock the world lives on.
    pub fn clock(&self) -> SandboxClock {
        self.world.store.clock()
    }

    /// Moves the world to `clock` (forward to rehearse an expiry, say);
    /// requests from now on see its time.
    pub fn set_clock(&self, clock: SandboxClock) {
        self.world.store.set_clock(clock);
    }

    /// The faults currently injected.
    pub fn faults(&self) -> FaultConfig {
        self.world.faults.config()
    }

    /// Replaces the injected faults; takes effect on the next request.
    pub fn set_faults(&self, config: FaultConfig) {
        self.world.faults.set(config);
    }

    /// Konnect API requests since the start or the last
    /// [`Sandbox::reset_traffic`], and the most in flight at once.
    pub fn traffic(&self) -> TrafficStats {
        self.world.traffic.stats()
    }

    /// Starts the request counts afresh.
    pub fn reset_traffic(&self) {
        self.world.traffic.reset();
    }

    /// Marks a zone of a control plane connected (online) or not; a control
    /// plane with an online zone refuses deletion, as Konnect does.
    pub fn set_zone(
        &self,
        cp_id: &str,
        zone: &str,
        online: bool,
        reason: Option<String>,
    ) -> Result<(), SandboxError> {
        konnect::set_zone(&self.world.store, cp_id, zone, online, reason)?;
        Ok(())
    }

    /// Runs zone simulation now (it also runs in the background twice a
    /// second): every kong-mesh zone control plane Deployment in the cluster
    /// connects with the token it read at its last rollout, and while online
    /// mirrors its control plane's policies into the cluster.
    pub fn sync_zones(&self) -> Result<(), SandboxError> {
        kube::reconcile_zones(&self.world).map_err(|e| SandboxError::Zone {
            message: e.message().to_string(),
        })
    }

    /// Removes a zone record entirely.
    pub fn remove_zone(&self, cp_id: &str, zone: &str) -> Result<(), SandboxError> {
        konnect::remove_zone(&self.world.store, cp_id, zone)?;
        Ok(())
    }

    /// The system account owning `token` when it is a live access token this
    /// sandbox issued (not expired, not deleted); `None` otherwise.
    pub fn issued_token_account(&self, token: &str) -> Result<Option<String>, SandboxError> {
        konnect::issued_token_account(&self.world, token)
            .map_err(|p| SandboxError::Store(StoreError::Rejected(p.detail)))
    }

    /// Object counts and zones.
    pub fn status(&self) -> Result<SandboxStatus, SandboxError> {
        Ok(status_of_store(&self.world.store)?)
    }

    /// Empties the world (both APIs) while the servers keep running; the
    /// default namespaces come back as on a fresh cluster.
    pub fn reset(&self) -> Result<(), SandboxError> {
        self.world.store.clear()?;
        kube::ensure_defaults(&self.world)?;
        Ok(())
    }

    /// Every Konnect request and response seen so far (empty unless
    /// [`SandboxConfig::record_exchanges`] is set).
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.world
            .exchanges
            .as_ref()
            .and_then(|m| m.lock().ok().map(|v| v.clone()))
            .unwrap_or_default()
    }

    /// Stops accepting connections, lets in-flight requests finish (bounded
    /// by a short grace period) and stops the runtime.
    pub fn shutdown(self) {
        // One last zone pass, so the stored world reflects what the cluster
        // held when the servers stopped.
        if let Err(e) = kube::reconcile_zones(&self.world) {
            tracing::warn!("zone simulation: {}", e.message());
        }
        self.servers.shutdown(Duration::from_secs(3));
    }
}

fn status_of_store(store: &store::Store) -> Result<SandboxStatus, StoreError> {
    let mut status = SandboxStatus::default();
    for (api, kind, count) in store.counts()? {
        match api.as_str() {
            "konnect"
                if kind == konnect::ZONES
                    || kind == konnect::TOKEN_INDEX
                    || kind == "zone-rollouts" => {}
            "konnect" => {
                status.konnect.insert(kind, count);
            }
            _ => {
                status.kubernetes.insert(kind, count);
            }
        }
    }
    status.zones = konnect::zones(store)?;
    Ok(status)
}

/// Object counts of a sandbox database file without starting servers.
pub fn database_status(path: &Path) -> Result<SandboxStatus, SandboxError> {
    let store = store::Store::open(path)?;
    Ok(status_of_store(&store)?)
}

/// Empties a sandbox database file without starting servers.
pub fn reset_database(path: &Path) -> Result<(), SandboxError> {
    let store = store::Store::open(path)?;
    store.clear()?;
    Ok(())
}

// A running sandbox is shared between test threads and provider clients.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Sandbox>();
};

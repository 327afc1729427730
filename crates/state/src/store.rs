//! [`StateStore`]: one workspace of a state database, its lock, and atomic
//! per-object commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::address::{parse_module_path, IndexKey, InstanceAddr, Mode};
use crate::crypto::{StateKey, KEY_CHECK};
use crate::error::{SqlContext, StateError};
use crate::json::{AttrPath, ExactJson};
use crate::model::{
    Action, CommitOutcome, HistoryEntry, InstanceStatus, LockInfo, ObjectKey, OutputState,
    ResourceInstance, Snapshot,
};
use crate::schema;
use crate::tfstate::{instance_record, output_record, sort_instances};

/// Where the state lives unless `-state=PATH` says otherwise.
pub const DEFAULT_STATE_PATH: &str = ".meshform/state.db";
/// The workspace every state has.
pub const DEFAULT_WORKSPACE: &str = "default";
/// The Terraform version written into new states and exports.
pub const TERRAFORM_VERSION: &str = "1.0.3";

/// The source of the current time, injected so tests can pin it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How to open a [`StateStore`].
#[derive(Clone)]
pub struct OpenOptions {
    /// The workspace to work on; it must exist unless it is `default`.
    pub workspace: String,
    /// Recorded in history rows and lock info (`apply`, `state rm`, …).
    pub command: String,
    /// Encrypts sensitive values at rest when set.
    pub key: Option<StateKey>,
    pub clock: Clock,
}

impl OpenOptions {
    /// The `default` workspace, no key, the system clock.
    pub fn new(command: &str) -> OpenOptions {
        OpenOptions {
            workspace: DEFAULT_WORKSPACE.to_owned(),
            command: command.to_owned(),
            key: None,
            clock: Arc::new(Utc::now),
        }
    }

    pub fn workspace(mut self, workspace: &str) -> OpenOptions {
        workspace.clone_into(&mut self.workspace);
        self
    }

    pub fn key(mut self, key: Option<StateKey>) -> OpenOptions {
        self.key = key;
        self
    }

    pub fn clock(mut self, clock: Clock) -> OpenOptions {
        self.clock = clock;
        self
    }
}

/// What asks for the lock.
#[derive(Debug, Clone)]
pub struct LockRequest {
    /// The operation, e.g. `apply`.
    pub operation: String,
    /// `user@host`.
    pub who: String,
    /// How long to wait for another holder to release it (`-lock-timeout`).
    pub timeout: Duration,
}

/// One change to commit. See [`StateStore::commit`].
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or replace one object (current or deposed).
    Put(ResourceInstance),
    /// Remove one object; removing an absent object changes nothing.
    Delete(ObjectKey),
    /// Taint or untaint the current object of an instance.
    SetStatus {
        addr: InstanceAddr,
        status: InstanceStatus,
    },
    /// Move every object of an instance (current and deposed) to a new
    /// address, which must be free.
    Move {
        from: InstanceAddr,
        to: InstanceAddr,
    },
    /// Turn the current object of an instance into a deposed object with
    /// this key (see [`new_deposed_key`]), as a create-before-destroy
    /// replacement does before creating the new object.
    Depose { addr: InstanceAddr, key: String },
    /// Set (`Some`) or remove (`None`) a root module output.
    SetOutput {
        name: String,
        output: Option<OutputState>,
    },
}

/// A workspace row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceInfo {
    pub name: String,
    pub lineage: String,
    pub serial: u64,
    pub resources: usize,
}

/// One workspace of a state database.
///
/// Every write goes through one SQLite transaction: the object rows, the
/// serial and the history row commit together or not at all, so a process
/// killed at any point leaves the last committed state intact.
pub struct StateStore {
    conn: Connection,
    path: PathBuf,
    workspace: String,
    command: String,
    /// The key and the version it is registered under.
    key: Option<(StateKey, i64)>,
    /// The newest key version registered in the database, if any.
    registered_key: Option<i64>,
    clock: Clock,
    held_lock: Option<LockInfo>,
    /// The ID of a lock held by another store of this process, shared
    /// through [`StateStore::join_lock`].
    joined_lock: Option<String>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("path", &self.path)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SecretEntry {
    path: AttrPath,
    value: ExactJson,
}

const CTX_INSTANCE: &str = "instance";
const CTX_OUTPUT: &str = "output";
const CTX_HISTORY: &str = "history";
const CTX_KEY_CHECK: &str = "key-check";

/// What a sealed value looks like in a row: the JSON without secrets, and
/// the secrets encrypted.
struct Sealed {
    json: ExactJson,
    secrets: Option<Vec<u8>>,
}

impl StateStore {
    /// Opens (creating if needed) the database at `path` and the workspace
    /// named in `options`, bringing the schema up to date.
    pub fn open(path: &Path, options: OpenOptions) -> Result<StateStore, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(|source| StateError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(30))
            .sql("set the busy timeout")?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .sql("switch to WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")
            .sql("set synchronous mode")?;
        conn.pragma_update(None, "foreign_keys", true)
            .sql("enable foreign keys")?;
        // Overwrite deleted content, so replaced secrets do not linger in
        // free pages.
        conn.pragma_update(None, "secure_delete", true)
            .sql("enable secure delete")?;
        schema::migrate(&mut conn)?;
        let mut store = StateStore {
            conn,
            path: path.to_path_buf(),
            workspace: options.workspace.clone(),
            command: options.command,
            key: None,
            registered_key: None,
            clock: options.clock,
            held_lock: None,
            joined_lock: None,
        };
        store.ensure_default_workspace()?;
        if store.workspace_info(&options.workspace)?.is_none() {
            return Err(StateError::WorkspaceNotFound {
                name: options.workspace,
            });
        }
        store.resolve_key(options.key)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The key version secrets are written with, when a key is set.
    pub fn key_version(&self) -> Option<i64> {
        self.key.as_ref().map(|(_, v)| *v)
    }

    fn now(&self) -> String {
        (self.clock)().to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    fn ensure_default_workspace(&mut self) -> Result<(), StateError> {
        let now = self.now();
        self.conn
            .execute(
                "INSERT OR IGNORE INTO workspaces (name, lineage, serial, terraform_version, created_at)
                 VALUES (?1, ?2, 0, ?3, ?4)",
                params![
                    DEFAULT_WORKSPACE,
                    uuid::Uuid::new_v4().to_string(),
                    TERRAFORM_VERSION,
                    now
                ],
            )
            .sql("create the default workspace")?;
        Ok(())
    }

    /// Finds the version the key is registered under, registering it when
    /// the database holds no secrets it cannot read.
    fn resolve_key(&mut self, key: Option<StateKey>) -> Result<(), StateError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .sql("start reading the key versions")?;
        let rows: Vec<(i64, Vec<u8>)> = {
            let mut stmt = tx
                .prepare("SELECT version, check_blob FROM state_keys ORDER BY version")
                .sql("read the key versions")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .sql("read the key versions")?;
            rows.collect::<Result<_, _>>()
                .sql("read the key versions")?
        };
        self.registered_key = rows.last().map(|(v, _)| *v);
        let Some(key) = key else {
            return Ok(());
        };
        let now = self.now();
        let matching = rows
            .iter()
            .find(|(_, check)| key.open(CTX_KEY_CHECK, check).as_deref() == Some(KEY_CHECK));
        let version = match matching {
            Some((v, _)) => *v,
            None => {
                let encrypted: i64 = tx
                    .query_row(
                        "SELECT (SELECT count(*) FROM resource_instances WHERE key_version IS NOT NULL)
                              + (SELECT count(*) FROM outputs WHERE key_version IS NOT NULL)",
                        [],
                        |r| r.get(0),
                    )
                    .sql("count encrypted values")?;
                if let (true, Some(latest)) = (encrypted > 0, self.registered_key) {
                    return Err(StateError::WrongKey {
                        key_version: latest,
                    });
                }
                let version = self.registered_key.unwrap_or(0) + 1;
                tx.execute(
                    "INSERT INTO state_keys (version, check_blob, created_at) VALUES (?1, ?2, ?3)",
                    params![version, key.seal(CTX_KEY_CHECK, KEY_CHECK), now],
                )
                .sql("register the state key")?;
                self.registered_key = Some(version);
                version
            }
        };
        tx.commit().sql("register the state key")?;
        self.key = Some((key, version));
        Ok(())
    }

    // ---- workspaces -------------------------------------------------------

    /// Every workspace, by name.
    pub fn list_workspaces(&self) -> Result<Vec<WorkspaceInfo>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT w.name, w.lineage, w.serial,
                        (SELECT count(*) FROM resource_instances r WHERE r.workspace = w.name)
                 FROM workspaces w ORDER BY w.name",
            )
            .sql("list workspaces")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(WorkspaceInfo {
                    name: r.get(0)?,
                    lineage: r.get(1)?,
                    serial: r.get::<_, i64>(2)? as u64,
                    resources: r.get::<_, i64>(3)? as usize,
                })
            })
            .sql("list workspaces")?;
        rows.collect::<Result<_, _>>().sql("list workspaces")
    }

    fn workspace_info(&self, name: &str) -> Result<Option<WorkspaceInfo>, StateError> {
        Ok(self.list_workspaces()?.into_iter().find(|w| w.name == name))
    }

    /// Creates an empty workspace with a fresh lineage.
    pub fn create_workspace(&self, name: &str) -> Result<(), StateError> {
        validate_workspace_name(name)?;
        let inserted = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO workspaces (name, lineage, serial, terraform_version, created_at)
                 VALUES (?1, ?2, 0, ?3, ?4)",
                params![
                    name,
                    uuid::Uuid::new_v4().to_string(),
                    TERRAFORM_VERSION,
                    self.now()
                ],
            )
            .sql("create a workspace")?;
        if inserted == 0 {
            return Err(StateError::WorkspaceExists {
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Deletes a workspace, its objects, outputs, history and lock. A
    /// workspace that still holds resources needs `force`.
    pub fn delete_workspace(&self, name: &str, force: bool) -> Result<(), StateError> {
        if name == DEFAULT_WORKSPACE {
            return Err(StateError::DeleteDefaultWorkspace);
        }
        let info = self
            .workspace_info(name)?
            .ok_or_else(|| StateError::WorkspaceNotFound {
                name: name.to_owned(),
            })?;
        if info.resources > 0 && !force {
            return Err(StateError::WorkspaceNotEmpty {
                name: name.to_owned(),
                resources: info.resources,
            });
        }
        let tx = self
            .conn
            .unchecked_transaction()
            .sql("start deleting a workspace")?;
        if let Some(holder) = read_lock(&tx, name)? {
            return Err(StateError::Locked {
                holder: Box::new(holder),
            });
        }
        tx.execute("DELETE FROM history WHERE workspace = ?1", [name])
            .sql("delete a workspace's history")?;
        tx.execute("DELETE FROM workspaces WHERE name = ?1", [name])
            .sql("delete a workspace")?;
        tx.commit().sql("delete a workspace")
    }

    // ---- locking ----------------------------------------------------------

    /// Takes the workspace lock, waiting up to `request.timeout` for another
    /// holder. A lock left by a process that no longer runs on this host is
    /// taken over.
    pub fn lock(&mut self, request: &LockRequest) -> Result<LockInfo, StateError> {
        if let Some(held) = &self.held_lock {
            return Ok(held.clone());
        }
        let started = Instant::now();
        let host = request.who.rsplit('@').next().unwrap_or("").to_owned();
        loop {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                .sql("start taking the lock")?;
            let holder = read_lock(&tx, &self.workspace)?;
            let holder = match holder {
                Some(h) if is_stale(&h, &host) => {
                    tracing::warn!(lock = %h.id, pid = h.pid, "taking over a lock left by a process that is gone");
                    None
                }
                other => other,
            };
            match holder {
                None => {
                    let info = LockInfo {
                        id: uuid::Uuid::new_v4().to_string(),
                        operation: request.operation.clone(),
                        who: request.who.clone(),
                        created: (self.clock)(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        pid: std::process::id(),
                    };
                    tx.execute(
                        "INSERT OR REPLACE INTO locks (workspace, id, operation, who, created_at, version, pid, host)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            self.workspace,
                            info.id,
                            info.operation,
                            info.who,
                            info.created.to_rfc3339_opts(SecondsFormat::Micros, true),
                            info.version,
                            info.pid,
                            host
                        ],
                    )
                    .sql("write the lock")?;
                    tx.commit().sql("commit the lock")?;
                    self.held_lock = Some(info.clone());
                    return Ok(info);
                }
                Some(holder) => {
                    drop(tx);
                    let waited = started.elapsed();
                    if waited >= request.timeout {
                        return Err(StateError::Locked {
                            holder: Box::new(holder),
                        });
                    }
                    std::thread::sleep((request.timeout - waited).min(Duration::from_millis(100)));
                }
            }
        }
    }

    /// Shares a lock taken by another store of this process (for example a
    /// second connection used by a parallel walk): commits through this
    /// store are then allowed. It does not release the lock when dropped.
    pub fn join_lock(&mut self, lock: &LockInfo) -> Result<(), StateError> {
        match self.lock_holder()? {
            Some(holder) if holder.id == lock.id => {
                self.joined_lock = Some(holder.id);
                Ok(())
            }
            _ => Err(StateError::LockNotFound {
                id: lock.id.clone(),
                workspace: self.workspace.clone(),
            }),
        }
    }

    /// Releases the lock this store holds.
    pub fn unlock(&mut self) -> Result<(), StateError> {
        let Some(held) = self.held_lock.take() else {
            return Err(StateError::NotLocked {
                workspace: self.workspace.clone(),
            });
        };
        self.conn
            .execute(
                "DELETE FROM locks WHERE workspace = ?1 AND id = ?2",
                params![self.workspace, held.id],
            )
            .sql("release the lock")?;
        Ok(())
    }

    /// The current holder of the workspace lock, if any.
    pub fn lock_holder(&self) -> Result<Option<LockInfo>, StateError> {
        let tx = self.conn.unchecked_transaction().sql("read the lock")?;
        read_lock(&tx, &self.workspace)
    }

    /// Removes the lock with this ID whoever holds it (`force-unlock`).
    pub fn force_unlock(&mut self, id: &str) -> Result<LockInfo, StateError> {
        let holder =
            self.lock_holder()?
                .filter(|h| h.id == id)
                .ok_or_else(|| StateError::LockNotFound {
                    id: id.to_owned(),
                    workspace: self.workspace.clone(),
                })?;
        self.conn
            .execute(
                "DELETE FROM locks WHERE workspace = ?1 AND id = ?2",
                params![self.workspace, id],
            )
            .sql("remove the lock")?;
        if self.held_lock.as_ref().is_some_and(|h| h.id == id) {
            self.held_lock = None;
        }
        Ok(holder)
    }

    /// Fails when another process holds the lock. Writes without the lock
    /// (`-lock=false`) are allowed while nobody holds it.
    fn check_lock(&self, tx: &Transaction<'_>) -> Result<(), StateError> {
        match read_lock(tx, &self.workspace)? {
            Some(holder)
                if self.held_lock.as_ref().map(|h| &h.id) != Some(&holder.id)
                    && self.joined_lock.as_ref() != Some(&holder.id) =>
            {
                Err(StateError::Locked {
                    holder: Box::new(holder),
                })
            }
            _ => Ok(()),
        }
    }

    // ---- reading ----------------------------------------------------------

    /// The whole workspace, secrets decrypted.
    pub fn snapshot(&self) -> Result<Snapshot, StateError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .sql("start reading the state")?;
        let (lineage, serial, terraform_version) = read_workspace(&tx, &self.workspace)?;
        let mut instances = Vec::new();
        {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {INSTANCE_COLUMNS} FROM resource_instances WHERE workspace = ?1"
                ))
                .sql("read resource instances")?;
            let rows = stmt
                .query_map([&self.workspace], InstanceRow::from_row)
                .sql("read resource instances")?;
            for row in rows {
                let row = row.sql("read resource instances")?;
                instances.push(self.decode_instance(row)?);
            }
        }
        sort_instances(&mut instances);
        let mut outputs = BTreeMap::new();
        {
            let mut stmt = tx
                .prepare(
                    "SELECT name, value, type, sensitive, secrets, key_version
                     FROM outputs WHERE workspace = ?1 ORDER BY name",
                )
                .sql("read outputs")?;
            let rows = stmt
                .query_map([&self.workspace], OutputRow::from_row)
                .sql("read outputs")?;
            for row in rows {
                let row = row.sql("read outputs")?;
                let (name, output) = self.decode_output(row)?;
                outputs.insert(name, output);
            }
        }
        Ok(Snapshot {
            workspace: self.workspace.clone(),
            lineage,
            serial,
            terraform_version,
            instances,
            outputs,
        })
    }

    /// One object, secrets decrypted; `None` when it is not in the state.
    pub fn object(&self, key: &ObjectKey) -> Result<Option<ResourceInstance>, StateError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .sql("start reading the state")?;
        self.load_object(&tx, key)
    }

    /// The lineage and serial, without reading objects.
    pub fn lineage_and_serial(&self) -> Result<(String, u64), StateError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .sql("start reading the state")?;
        let (lineage, serial, _) = read_workspace(&tx, &self.workspace)?;
        Ok((lineage, serial))
    }

    /// Every object's key, in state file order; needs no key even when secrets are
    /// encrypted.
    pub fn list_objects(&self) -> Result<Vec<ObjectKey>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT module, mode, type, name, index_key, deposed, address
                 FROM resource_instances WHERE workspace = ?1",
            )
            .sql("list resource instances")?;
        let rows = stmt
            .query_map([&self.workspace], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .sql("list resource instances")?;
        let mut out = Vec::new();
        for row in rows {
            let (module, mode, type_name, name, index_key, deposed, address) =
                row.sql("list resource instances")?;
            let addr = decode_addr(
                &module,
                &mode,
                type_name,
                name,
                index_key.as_deref(),
                &address,
            )?;
            out.push(ObjectKey {
                addr,
                deposed: (!deposed.is_empty()).then_some(deposed),
            });
        }
        out.sort_by(|a, b| {
            let key = |o: &ObjectKey| {
                (
                    o.addr.module_path(),
                    o.addr.mode.as_str(),
                    o.addr.type_name.clone(),
                    o.addr.name.clone(),
                    o.addr.key.clone(),
                    o.deposed.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    /// History rows, oldest first, optionally only those of one address: an
    /// instance (with its deposed objects), a resource (all its instances),
    /// or `output.NAME`. Values come back as stored:
    /// secrets that were encrypted stay `null`.
    pub fn history(&self, address: Option<&str>) -> Result<Vec<HistoryEntry>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, serial, time, command, address, action, before, after
                 FROM history WHERE workspace = ?1 AND (?2 IS NULL OR address = ?2
                     OR substr(address, 1, length(?2) + 1) = ?2 || '['
                     OR substr(address, 1, length(?2) + 2) = ?2 || ' (')
                 ORDER BY id",
            )
            .sql("read history")?;
        let rows = stmt
            .query_map(params![self.workspace, address], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .sql("read history")?;
        let mut out = Vec::new();
        for row in rows {
            let (id, serial, time, command, address, action, before, after) =
                row.sql("read history")?;
            let bad = |what| StateError::BadRow {
                what,
                address: address.clone(),
            };
            let parse_json = |text: Option<String>| -> Result<Option<ExactJson>, StateError> {
                text.map(|t| ExactJson::parse(&t).map_err(|_| bad("history value")))
                    .transpose()
            };
            out.push(HistoryEntry {
                id,
                serial: serial as u64,
                time: DateTime::parse_from_rfc3339(&time)
                    .map_err(|_| bad("history time"))?
                    .with_timezone(&Utc),
                command,
                action: Action::parse(&action).ok_or_else(|| bad("history action"))?,
                before: parse_json(before)?,
                after: parse_json(after)?,
                address,
            });
        }
        Ok(out)
    }

    // ---- writing ----------------------------------------------------------

    /// Commits changes in one transaction. The serial rises by one when at
    /// least one change really alters the state, and each altering change
    /// appends one history row; identical writes commit nothing.
    pub fn commit(&mut self, changes: Vec<Change>) -> Result<CommitOutcome, StateError> {
        self.commit_with(changes, None, None)
    }

    /// Creates or replaces one object.
    pub fn put_object(&mut self, instance: ResourceInstance) -> Result<CommitOutcome, StateError> {
        self.commit(vec![Change::Put(instance)])
    }

    /// Removes one object.
    pub fn delete_object(&mut self, key: ObjectKey) -> Result<CommitOutcome, StateError> {
        self.commit(vec![Change::Delete(key)])
    }

    /// Taints (`true`) or untaints the current object of an instance.
    pub fn set_tainted(
        &mut self,
        addr: &InstanceAddr,
        tainted: bool,
    ) -> Result<CommitOutcome, StateError> {
        let status = if tainted {
            InstanceStatus::Tainted
        } else {
            InstanceStatus::Ready
        };
        self.commit(vec![Change::SetStatus {
            addr: addr.clone(),
            status,
        }])
    }

    /// Sets or removes a root module output.
    pub fn set_output(
        &mut self,
        name: &str,
        output: Option<OutputState>,
    ) -> Result<CommitOutcome, StateError> {
        self.commit(vec![Change::SetOutput {
            name: name.to_owned(),
            output,
        }])
    }

    /// `state push`: replaces the workspace with `incoming`. Refuses another
    /// lineage or an older serial unless `force`; an empty workspace at
    /// serial 0 accepts any state.
    pub fn push(&mut self, incoming: &Snapshot, force: bool) -> Result<CommitOutcome, StateError> {
        let current = self.snapshot()?;
        let fresh = current.is_empty() && current.serial == 0;
        if !force && !fresh {
            if current.lineage != incoming.lineage {
                return Err(StateError::LineageMismatch {
                    current: current.lineage,
                    pushed: incoming.lineage.clone(),
                });
            }
            if incoming.serial < current.serial {
                return Err(StateError::OlderSerial {
                    current: current.serial,
                    pushed: incoming.serial,
                });
            }
        }
        self.replace_with(&current, incoming)
    }

    /// `state import-tfstate`: adopts an existing state (its lineage, serial
    /// and objects) into an empty workspace, or over a non-empty one with
    /// `force`.
    pub fn adopt(&mut self, incoming: &Snapshot, force: bool) -> Result<CommitOutcome, StateError> {
        let current = self.snapshot()?;
        if !force && !current.is_empty() {
            return Err(StateError::StateNotEmpty {
                workspace: self.workspace.clone(),
            });
        }
        self.replace_with(&current, incoming)
    }

    fn replace_with(
        &mut self,
        current: &Snapshot,
        incoming: &Snapshot,
    ) -> Result<CommitOutcome, StateError> {
        let mut changes = Vec::new();
        let incoming_keys: Vec<ObjectKey> =
            incoming.instances.iter().map(|i| i.object_key()).collect();
        for inst in &current.instances {
            if !incoming_keys.contains(&inst.object_key()) {
                changes.push(Change::Delete(inst.object_key()));
            }
        }
        changes.extend(incoming.instances.iter().cloned().map(Change::Put));
        for name in current.outputs.keys() {
            if !incoming.outputs.contains_key(name) {
                changes.push(Change::SetOutput {
                    name: name.clone(),
                    output: None,
                });
            }
        }
        for (name, output) in &incoming.outputs {
            changes.push(Change::SetOutput {
                name: name.clone(),
                output: Some(output.clone()),
            });
        }
        let header = StateHeader {
            lineage: incoming.lineage.clone(),
            serial: incoming.serial,
            terraform_version: incoming.terraform_version.clone(),
        };
        self.commit_with(changes, Some(Action::Import), Some(header))
    }

    fn commit_with(
        &mut self,
        changes: Vec<Change>,
        put_action: Option<Action>,
        header: Option<StateHeader>,
    ) -> Result<CommitOutcome, StateError> {
        // An immediate write lock, so concurrent writers queue here (up to
        // the busy timeout) instead of failing at their first write.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .sql("start a commit")?;
        self.check_lock(&tx)?;
        let (lineage, serial, terraform_version) = read_workspace(&tx, &self.workspace)?;
        let next = serial + 1;
        let mut history = Vec::new();
        for change in changes {
            history.extend(self.apply_change(&tx, change, put_action, next)?);
        }
        let header_changed = header
            .as_ref()
            .is_some_and(|h| h.lineage != lineage || h.terraform_version != terraform_version);
        if history.is_empty() && !header_changed {
            return Ok(CommitOutcome::Unchanged { serial });
        }
        let (new_lineage, new_serial, new_version) = match header {
            Some(h) => (h.lineage, h.serial.max(next), h.terraform_version),
            None => (lineage, next, terraform_version),
        };
        tx.execute(
            "UPDATE workspaces SET lineage = ?2, serial = ?3, terraform_version = ?4 WHERE name = ?1",
            params![self.workspace, new_lineage, new_serial as i64, new_version],
        )
        .sql("bump the serial")?;
        let now = self.now();
        for row in history {
            tx.execute(
                "INSERT INTO history (workspace, serial, time, command, address, action, before, after,
                                      before_secrets, after_secrets, key_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    self.workspace,
                    new_serial as i64,
                    now,
                    self.command,
                    row.address,
                    row.action.as_str(),
                    row.before.as_ref().map(|s| s.json.as_str()),
                    row.after.as_ref().map(|s| s.json.as_str()),
                    row.before.as_ref().and_then(|s| s.secrets.as_deref()),
                    row.after.as_ref().and_then(|s| s.secrets.as_deref()),
                    self.row_key_version(&row.before, &row.after),
                ],
            )
            .sql("append history")?;
        }
        // Rows updated in this commit carry the new serial.
        tx.execute(
            "UPDATE resource_instances SET updated_serial = ?2 WHERE workspace = ?1 AND updated_serial = -1",
            params![self.workspace, new_serial as i64],
        )
        .sql("stamp updated rows")?;
        tx.commit().sql("commit")?;
        Ok(CommitOutcome::Committed { serial: new_serial })
    }

    fn row_key_version(&self, before: &Option<Sealed>, after: &Option<Sealed>) -> Option<i64> {
        let has_secrets = [before, after]
            .iter()
            .any(|s| s.as_ref().is_some_and(|s| s.secrets.is_some()));
        if has_secrets {
            self.key_version()
        } else {
            None
        }
    }

    fn apply_change(
        &self,
        tx: &Transaction<'_>,
        change: Change,
        put_action: Option<Action>,
        _next_serial: u64,
    ) -> Result<Option<HistoryRow>, StateError> {
        match change {
            Change::Put(instance) => {
                let key = instance.object_key();
                let existing = self.load_object(tx, &key)?;
                if existing.as_ref() == Some(&instance) {
                    return Ok(None);
                }
                self.write_object(tx, &instance)?;
                let action = put_action.unwrap_or(if existing.is_some() {
                    Action::Update
                } else {
                    Action::Create
                });
                Ok(Some(HistoryRow {
                    address: key.to_string(),
                    action,
                    before: existing.map(|e| self.seal_record(&e)).transpose()?,
                    after: Some(self.seal_record(&instance)?),
                }))
            }
            Change::Delete(key) => {
                let Some(existing) = self.load_object(tx, &key)? else {
                    return Ok(None);
                };
                delete_object_row(tx, &self.workspace, &key)?;
                Ok(Some(HistoryRow {
                    address: key.to_string(),
                    action: Action::Delete,
                    before: Some(self.seal_record(&existing)?),
                    after: None,
                }))
            }
            Change::SetStatus { addr, status } => {
                let key = ObjectKey::current(addr);
                let existing =
                    self.load_object(tx, &key)?
                        .ok_or_else(|| StateError::NoSuchObject {
                            address: key.to_string(),
                        })?;
                if existing.status == status {
                    return Ok(None);
                }
                let mut updated = existing.clone();
                updated.status = status;
                self.write_object(tx, &updated)?;
                Ok(Some(HistoryRow {
                    address: key.to_string(),
                    action: if status == InstanceStatus::Tainted {
                        Action::Taint
                    } else {
                        Action::Untaint
                    },
                    before: Some(self.seal_record(&existing)?),
                    after: Some(self.seal_record(&updated)?),
                }))
            }
            Change::Depose { addr, key } => {
                let current = ObjectKey::current(addr);
                let existing =
                    self.load_object(tx, &current)?
                        .ok_or_else(|| StateError::NoSuchObject {
                            address: current.to_string(),
                        })?;
                let mut deposed = existing.clone();
                deposed.deposed = Some(key);
                if self.load_object(tx, &deposed.object_key())?.is_some() {
                    return Err(StateError::ObjectExists {
                        address: deposed.object_key().to_string(),
                    });
                }
                delete_object_row(tx, &self.workspace, &current)?;
                self.write_object(tx, &deposed)?;
                Ok(Some(HistoryRow {
                    address: deposed.object_key().to_string(),
                    action: Action::Depose,
                    before: Some(self.seal_record(&existing)?),
                    after: Some(self.seal_record(&deposed)?),
                }))
            }
            Change::Move { from, to } => {
                if from == to {
                    return Ok(None);
                }
                let objects = self.load_instance_objects(tx, &from)?;
                if objects.is_empty() {
                    return Err(StateError::NoSuchObject {
                        address: from.to_string(),
                    });
                }
                if !self.load_instance_objects(tx, &to)?.is_empty() {
                    return Err(StateError::ObjectExists {
                        address: to.to_string(),
                    });
                }
                let mut before = Vec::new();
                let mut after = Vec::new();
                for old in objects {
                    delete_object_row(tx, &self.workspace, &old.object_key())?;
                    let mut moved = old.clone();
                    moved.addr = to.clone();
                    self.write_object(tx, &moved)?;
                    before.push(old);
                    after.push(moved);
                }
                // One history row per instance: the current object (or the
                // first deposed one when there is no current object).
                Ok(Some(HistoryRow {
                    address: to.to_string(),
                    action: Action::Move,
                    before: Some(self.seal_record(&before[0])?),
                    after: Some(self.seal_record(&after[0])?),
                }))
            }
            Change::SetOutput { name, output } => {
                let existing = self.load_output(tx, &name)?;
                if existing == output {
                    return Ok(None);
                }
                let address = format!("output.{name}");
                match &output {
                    Some(o) => self.write_output(tx, &name, o)?,
                    None => {
                        tx.execute(
                            "DELETE FROM outputs WHERE workspace = ?1 AND name = ?2",
                            params![self.workspace, name],
                        )
                        .sql("remove an output")?;
                    }
                }
                Ok(Some(HistoryRow {
                    address,
                    action: if output.is_some() {
                        Action::Output
                    } else {
                        Action::RemoveOutput
                    },
                    before: existing.map(|o| self.seal_output_record(&o)).transpose()?,
                    after: output.map(|o| self.seal_output_record(&o)).transpose()?,
                }))
            }
        }
    }

    fn load_object(
        &self,
        tx: &Transaction<'_>,
        key: &ObjectKey,
    ) -> Result<Option<ResourceInstance>, StateError> {
        let row = tx
            .query_row(
                &format!(
                    "SELECT {INSTANCE_COLUMNS} FROM resource_instances
                     WHERE workspace = ?1 AND address = ?2 AND deposed = ?3"
                ),
                params![
                    self.workspace,
                    key.addr.to_string(),
                    key.deposed.as_deref().unwrap_or("")
                ],
                InstanceRow::from_row,
            )
            .optional()
            .sql("read a resource instance")?;
        row.map(|r| self.decode_instance(r)).transpose()
    }

    fn load_instance_objects(
        &self,
        tx: &Transaction<'_>,
        addr: &InstanceAddr,
    ) -> Result<Vec<ResourceInstance>, StateError> {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM resource_instances
                 WHERE workspace = ?1 AND address = ?2 ORDER BY deposed"
            ))
            .sql("read a resource instance")?;
        let rows = stmt
            .query_map(
                params![self.workspace, addr.to_string()],
                InstanceRow::from_row,
            )
            .sql("read a resource instance")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.decode_instance(row.sql("read a resource instance")?)?);
        }
        Ok(out)
    }

    fn write_object(
        &self,
        tx: &Transaction<'_>,
        inst: &ResourceInstance,
    ) -> Result<(), StateError> {
        let sealed =
            self.seal_attributes(&inst.attributes, &inst.all_sensitive_paths(), CTX_INSTANCE)?;
        let key_version = sealed.secrets.as_ref().and(self.key_version());
        let index_key = inst
            .addr
            .key
            .as_ref()
            .map(|k| serde_json::to_string(k).unwrap_or_default());
        tx.execute(
            "INSERT OR REPLACE INTO resource_instances
               (workspace, address, deposed, module, mode, type, name, index_key, provider,
                schema_version, attributes, sensitive_paths, schema_sensitive_paths, secrets,
                key_version, private, dependencies, create_before_destroy, status, updated_serial)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, -1)",
            params![
                self.workspace,
                inst.addr.to_string(),
                inst.deposed.as_deref().unwrap_or(""),
                inst.addr.module_path(),
                inst.addr.mode.as_str(),
                inst.addr.type_name,
                inst.addr.name,
                index_key,
                inst.provider,
                inst.schema_version as i64,
                sealed.json.as_str(),
                to_json(&inst.sensitive_paths),
                to_json(&inst.schema_sensitive_paths),
                sealed.secrets,
                key_version,
                inst.private,
                to_json(&inst.dependencies),
                inst.create_before_destroy,
                match inst.status {
                    InstanceStatus::Ready => "ready",
                    InstanceStatus::Tainted => "tainted",
                },
            ],
        )
        .sql("write a resource instance")?;
        Ok(())
    }

    fn load_output(
        &self,
        tx: &Transaction<'_>,
        name: &str,
    ) -> Result<Option<OutputState>, StateError> {
        let row = tx
            .query_row(
                "SELECT name, value, type, sensitive, secrets, key_version
                 FROM outputs WHERE workspace = ?1 AND name = ?2",
                params![self.workspace, name],
                OutputRow::from_row,
            )
            .optional()
            .sql("read an output")?;
        row.map(|r| self.decode_output(r).map(|(_, o)| o))
            .transpose()
    }

    fn write_output(
        &self,
        tx: &Transaction<'_>,
        name: &str,
        output: &OutputState,
    ) -> Result<(), StateError> {
        let sealed = self.seal_output_value(output, CTX_OUTPUT)?;
        let key_version = sealed.secrets.as_ref().and(self.key_version());
        tx.execute(
            "INSERT OR REPLACE INTO outputs (workspace, name, value, type, sensitive, secrets, key_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                self.workspace,
                name,
                sealed.json.as_str(),
                output.type_json.to_string(),
                output.sensitive,
                sealed.secrets,
                key_version
            ],
        )
        .sql("write an output")?;
        Ok(())
    }

    // ---- key rotation -----------------------------------------------------

    /// Re-encrypts every secret in the database (all workspaces) with
    /// `new_key`, registered as a new key version, and encrypts secrets that
    /// were stored plain. The current key (from [`OpenOptions::key`]) must
    /// open the existing secrets. Afterwards the database file is rewritten
    /// so no old plaintext or ciphertext pages remain. Returns the new key
    /// version.
    pub fn rekey(&mut self, new_key: StateKey) -> Result<i64, StateError> {
        let old_key = self.key.clone();
        let result = self.rekey_in_transaction(&new_key, old_key.as_ref());
        match result {
            Ok(version) => {
                self.key = Some((new_key, version));
                self.registered_key = Some(version);
                self.conn
                    .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
                    .sql("compact the database after re-encryption")?;
                Ok(version)
            }
            Err(e) => {
                self.key = old_key;
                Err(e)
            }
        }
    }

    fn rekey_in_transaction(
        &mut self,
        new_key: &StateKey,
        old_key: Option<&(StateKey, i64)>,
    ) -> Result<i64, StateError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .sql("start re-encrypting the state")?;
        let foreign_lock = tx
            .query_row(
                "SELECT workspace FROM locks WHERE id != ?1 LIMIT 1",
                [self.held_lock.as_ref().map(|h| h.id.as_str()).unwrap_or("")],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .sql("check the locks")?;
        if let Some(workspace) = foreign_lock {
            if let Some(holder) = read_lock(&tx, &workspace)? {
                return Err(StateError::Locked {
                    holder: Box::new(holder),
                });
            }
        }
        let version: i64 = tx
            .query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM state_keys",
                [],
                |r| r.get(0),
            )
            .sql("read the key versions")?;
        tx.execute(
            "INSERT INTO state_keys (version, check_blob, created_at) VALUES (?1, ?2, ?3)",
            params![version, new_key.seal(CTX_KEY_CHECK, KEY_CHECK), self.now()],
        )
        .sql("register the new state key")?;

        // 1. Blobs sealed with the old key: open and seal again.
        let reseal =
            |blob: &[u8], row_version: i64, context: &str| -> Result<Vec<u8>, StateError> {
                let Some((key, key_version)) = old_key else {
                    return Err(StateError::KeyRequired {
                        key_version: row_version,
                    });
                };
                if *key_version != row_version {
                    return Err(StateError::WrongKey {
                        key_version: row_version,
                    });
                }
                let plain = key.open(context, blob).ok_or(StateError::Corrupt {
                    key_version: row_version,
                })?;
                Ok(new_key.seal(context, &plain))
            };
        for (table, context) in [
            ("resource_instances", CTX_INSTANCE),
            ("outputs", CTX_OUTPUT),
        ] {
            let rows: Vec<(i64, Vec<u8>, i64)> = collect_rows(
                &tx,
                &format!(
                    "SELECT rowid, secrets, coalesce(key_version, 0) FROM {table} WHERE secrets IS NOT NULL"
                ),
            )?;
            for (rowid, blob, row_version) in rows {
                tx.execute(
                    &format!("UPDATE {table} SET secrets = ?2, key_version = ?3 WHERE rowid = ?1"),
                    params![rowid, reseal(&blob, row_version, context)?, version],
                )
                .sql("re-encrypt a secret")?;
            }
        }
        type HistorySecrets = (i64, Option<Vec<u8>>, Option<Vec<u8>>, i64);
        let history: Vec<HistorySecrets> = collect_rows(
            &tx,
            "SELECT id, before_secrets, after_secrets, coalesce(key_version, 0) FROM history
             WHERE before_secrets IS NOT NULL OR after_secrets IS NOT NULL",
        )?;
        for (id, before, after, row_version) in history {
            let before = before
                .map(|b| reseal(&b, row_version, CTX_HISTORY))
                .transpose()?;
            let after = after
                .map(|b| reseal(&b, row_version, CTX_HISTORY))
                .transpose()?;
            tx.execute(
                "UPDATE history SET before_secrets = ?2, after_secrets = ?3, key_version = ?4 WHERE id = ?1",
                params![id, before, after, version],
            )
            .sql("re-encrypt a history secret")?;
        }

        // 2. Secrets stored plain: seal them with the new key.
        self.key = Some((new_key.clone(), version));
        let plain: Vec<(i64, String, String, String)> = collect_rows(
            &tx,
            "SELECT rowid, attributes, sensitive_paths, schema_sensitive_paths
             FROM resource_instances WHERE secrets IS NULL",
        )?;
        for (rowid, attributes, marks, schema_marks) in plain {
            let bad = |what| StateError::BadRow {
                what,
                address: format!("row {rowid}"),
            };
            let attributes = ExactJson::parse(&attributes).map_err(|_| bad("attributes"))?;
            let mut paths: Vec<AttrPath> =
                serde_json::from_str(&marks).map_err(|_| bad("sensitive paths"))?;
            paths.extend(
                serde_json::from_str::<Vec<AttrPath>>(&schema_marks)
                    .map_err(|_| bad("schema sensitive paths"))?,
            );
            let sealed = self.seal_attributes(&attributes, &paths, CTX_INSTANCE)?;
            if sealed.secrets.is_some() {
                tx.execute(
                    "UPDATE resource_instances SET attributes = ?2, secrets = ?3, key_version = ?4 WHERE rowid = ?1",
                    params![rowid, sealed.json.as_str(), sealed.secrets, version],
                )
                .sql("encrypt a secret")?;
            }
        }
        let plain_outputs: Vec<(i64, String)> = collect_rows(
            &tx,
            "SELECT rowid, value FROM outputs WHERE secrets IS NULL AND sensitive = 1",
        )?;
        for (rowid, value) in plain_outputs {
            let value = ExactJson::parse(&value).map_err(|_| StateError::BadRow {
                what: "output value",
                address: format!("row {rowid}"),
            })?;
            let sealed = self.seal_attributes(&value, &[AttrPath(Vec::new())], CTX_OUTPUT)?;
            if sealed.secrets.is_some() {
                tx.execute(
                    "UPDATE outputs SET value = ?2, secrets = ?3, key_version = ?4 WHERE rowid = ?1",
                    params![rowid, sealed.json.as_str(), sealed.secrets, version],
                )
                .sql("encrypt an output")?;
            }
        }
        let plain_history: Vec<(i64, Option<String>, Option<String>)> = collect_rows(
            &tx,
            "SELECT id, before, after FROM history WHERE key_version IS NULL",
        )?;
        for (id, before, after) in plain_history {
            let before = before.map(|r| self.seal_stored_record(&r)).transpose()?;
            let after = after.map(|r| self.seal_stored_record(&r)).transpose()?;
            let has_secrets = [&before, &after]
                .iter()
                .any(|s| s.as_ref().is_some_and(|s| s.secrets.is_some()));
            if has_secrets {
                tx.execute(
                    "UPDATE history SET before = ?2, after = ?3, before_secrets = ?4, after_secrets = ?5,
                            key_version = ?6 WHERE id = ?1",
                    params![
                        id,
                        before.as_ref().map(|s| s.json.as_str()),
                        after.as_ref().map(|s| s.json.as_str()),
                        before.as_ref().and_then(|s| s.secrets.as_deref()),
                        after.as_ref().and_then(|s| s.secrets.as_deref()),
                        version
                    ],
                )
                .sql("encrypt a history secret")?;
            }
        }
        // Every secret now uses the new version: retire the old keys, so
        // they are no longer recognised.
        tx.execute("DELETE FROM state_keys WHERE version != ?1", [version])
            .sql("retire old key versions")?;
        tx.commit().sql("commit the re-encryption")?;
        Ok(version)
    }

    /// Seals the secrets of a history record written in the clear: an
    /// object record (`attributes` with its paths) or a sensitive output.
    fn seal_stored_record(&self, record: &str) -> Result<Sealed, StateError> {
        let parsed = ExactJson::parse(record).map_err(|_| StateError::BadRow {
            what: "history value",
            address: String::new(),
        })?;
        let Some(mut members) = parsed.object() else {
            return Ok(Sealed {
                json: parsed,
                secrets: None,
            });
        };
        let paths_of = |name: &str| -> Vec<AttrPath> {
            members
                .get(name)
                .and_then(|v| serde_json::from_str(v.as_str()).ok())
                .unwrap_or_default()
        };
        let (field, paths) = if members.contains_key("attributes") {
            let mut paths = paths_of("sensitive_attributes");
            paths.extend(paths_of("schema_sensitive_attributes"));
            ("attributes", paths)
        } else if members
            .get("sensitive")
            .is_some_and(|v| v.as_str() == "true")
        {
            ("value", vec![AttrPath(Vec::new())])
        } else {
            return Ok(Sealed {
                json: parsed,
                secrets: None,
            });
        };
        let Some(value) = members.get(field).cloned() else {
            return Ok(Sealed {
                json: parsed,
                secrets: None,
            });
        };
        let sealed = self.seal_attributes(&value, &paths, CTX_HISTORY)?;
        members.insert(field.to_owned(), sealed.json);
        Ok(Sealed {
            json: ExactJson::from_object(&members),
            secrets: sealed.secrets,
        })
    }

    // ---- sealing ----------------------------------------------------------

    /// Moves the values at `paths` out of `attributes` into an encrypted
    /// blob, when a key is set. Without a key the values stay in place,
    /// unless the database already holds encrypted secrets.
    fn seal_attributes(
        &self,
        attributes: &ExactJson,
        paths: &[AttrPath],
        context: &str,
    ) -> Result<Sealed, StateError> {
        let mut json = attributes.clone();
        let mut entries = Vec::new();
        for path in paths {
            let Some((replaced, old)) = json.replace(path, ExactJson::null()) else {
                continue;
            };
            if old.is_null() {
                continue;
            }
            json = replaced;
            entries.push(SecretEntry {
                path: path.clone(),
                value: old,
            });
        }
        if entries.is_empty() {
            return Ok(Sealed {
                json: attributes.clone(),
                secrets: None,
            });
        }
        let Some((key, _)) = &self.key else {
            if let Some(key_version) = self.registered_key {
                return Err(StateError::KeyRequired { key_version });
            }
            return Ok(Sealed {
                json: attributes.clone(),
                secrets: None,
            });
        };
        let plaintext = serde_json::to_vec(&entries).unwrap_or_default();
        Ok(Sealed {
            json,
            secrets: Some(key.seal(context, &plaintext)),
        })
    }

    fn unseal_attributes(
        &self,
        json: ExactJson,
        secrets: Option<&[u8]>,
        key_version: Option<i64>,
        context: &str,
    ) -> Result<ExactJson, StateError> {
        let Some(blob) = secrets else {
            return Ok(json);
        };
        let key_version = key_version.unwrap_or(0);
        let Some((key, version)) = &self.key else {
            return Err(StateError::KeyRequired { key_version });
        };
        if *version != key_version {
            return Err(StateError::WrongKey { key_version });
        }
        let plaintext = key
            .open(context, blob)
            .ok_or(StateError::Corrupt { key_version })?;
        let entries: Vec<SecretEntry> =
            serde_json::from_slice(&plaintext).map_err(|_| StateError::Corrupt { key_version })?;
        let mut out = json;
        for entry in entries.into_iter().rev() {
            out = out
                .replace(&entry.path, entry.value)
                .ok_or(StateError::Corrupt { key_version })?
                .0;
        }
        Ok(out)
    }

    fn seal_record(&self, inst: &ResourceInstance) -> Result<Sealed, StateError> {
        let sealed =
            self.seal_attributes(&inst.attributes, &inst.all_sensitive_paths(), CTX_HISTORY)?;
        let mut copy = inst.clone();
        copy.attributes = sealed.json;
        Ok(Sealed {
            json: instance_record(&copy),
            secrets: sealed.secrets,
        })
    }

    fn seal_output_value(&self, output: &OutputState, context: &str) -> Result<Sealed, StateError> {
        if !output.sensitive {
            return Ok(Sealed {
                json: output.value.clone(),
                secrets: None,
            });
        }
        self.seal_attributes(&output.value, &[AttrPath(Vec::new())], context)
    }

    fn seal_output_record(&self, output: &OutputState) -> Result<Sealed, StateError> {
        let sealed = self.seal_output_value(output, CTX_HISTORY)?;
        let mut copy = output.clone();
        copy.value = sealed.json;
        Ok(Sealed {
            json: output_record(&copy),
            secrets: sealed.secrets,
        })
    }

    fn decode_instance(&self, row: InstanceRow) -> Result<ResourceInstance, StateError> {
        let bad = |what| StateError::BadRow {
            what,
            address: row.address.clone(),
        };
        let addr = decode_addr(
            &row.module,
            &row.mode,
            row.type_name.clone(),
            row.name.clone(),
            row.index_key.as_deref(),
            &row.address,
        )?;
        let attributes = ExactJson::parse(&row.attributes).map_err(|_| bad("attributes"))?;
        let attributes = self.unseal_attributes(
            attributes,
            row.secrets.as_deref(),
            row.key_version,
            CTX_INSTANCE,
        )?;
        Ok(ResourceInstance {
            addr,
            deposed: (!row.deposed.is_empty()).then(|| row.deposed.clone()),
            provider: row.provider.clone(),
            schema_version: row.schema_version as u64,
            attributes,
            sensitive_paths: serde_json::from_str(&row.sensitive_paths)
                .map_err(|_| bad("sensitive paths"))?,
            schema_sensitive_paths: serde_json::from_str(&row.schema_sensitive_paths)
                .map_err(|_| bad("schema sensitive paths"))?,
            private: row.private.clone(),
            dependencies: serde_json::from_str(&row.dependencies)
                .map_err(|_| bad("dependencies"))?,
            create_before_destroy: row.create_before_destroy,
            status: match row.status.as_str() {
                "tainted" => InstanceStatus::Tainted,
                _ => InstanceStatus::Ready,
            },
        })
    }

    fn decode_output(&self, row: OutputRow) -> Result<(String, OutputState), StateError> {
        let bad = |what| StateError::BadRow {
            what,
            address: format!("output.{}", row.name),
        };
        let value = ExactJson::parse(&row.value).map_err(|_| bad("output value"))?;
        let value =
            self.unseal_attributes(value, row.secrets.as_deref(), row.key_version, CTX_OUTPUT)?;
        Ok((
            row.name.clone(),
            OutputState {
                value,
                type_json: serde_json::from_str(&row.type_json).map_err(|_| bad("output type"))?,
                sensitive: row.sensitive,
            },
        ))
    }
}

impl Drop for StateStore {
    fn drop(&mut self) {
        if self.held_lock.is_some() {
            if let Err(e) = self.unlock() {
                tracing::warn!(error = %e, "could not release the state lock");
            }
        }
    }
}

struct StateHeader {
    lineage: String,
    serial: u64,
    terraform_version: String,
}

struct HistoryRow {
    address: String,
    action: Action,
    before: Option<Sealed>,
    after: Option<Sealed>,
}

const INSTANCE_COLUMNS: &str = "address, deposed, module, mode, type, name, index_key, provider, \
     schema_version, attributes, sensitive_paths, schema_sensitive_paths, secrets, key_version, \
     private, dependencies, create_before_destroy, status";

struct InstanceRow {
    address: String,
    deposed: String,
    module: String,
    mode: String,
    type_name: String,
    name: String,
    index_key: Option<String>,
    provider: String,
    schema_version: i64,
    attributes: String,
    sensitive_paths: String,
    schema_sensitive_paths: String,
    secrets: Option<Vec<u8>>,
    key_version: Option<i64>,
    private: Option<String>,
    dependencies: String,
    create_before_destroy: bool,
    status: String,
}

impl InstanceRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InstanceRow> {
        Ok(InstanceRow {
            address: r.get(0)?,
            deposed: r.get(1)?,
            module: r.get(2)?,
            mode: r.get(3)?,
            type_name: r.get(4)?,
            name: r.get(5)?,
            index_key: r.get(6)?,
            provider: r.get(7)?,
            schema_version: r.get(8)?,
            attributes: r.get(9)?,
            sensitive_paths: r.get(10)?,
            schema_sensitive_paths: r.get(11)?,
            secrets: r.get(12)?,
            key_version: r.get(13)?,
            private: r.get(14)?,
            dependencies: r.get(15)?,
            create_before_destroy: r.get(16)?,
            status: r.get(17)?,
        })
    }
}

struct OutputRow {
    name: String,
    value: String,
    type_json: String,
    sensitive: bool,
    secrets: Option<Vec<u8>>,
    key_version: Option<i64>,
}

impl OutputRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutputRow> {
        Ok(OutputRow {
            name: r.get(0)?,
            value: r.get(1)?,
            type_json: r.get(2)?,
            sensitive: r.get(3)?,
            secrets: r.get(4)?,
            key_version: r.get(5)?,
        })
    }
}

fn decode_addr(
    module: &str,
    mode: &str,
    type_name: String,
    name: String,
    index_key: Option<&str>,
    address: &str,
) -> Result<InstanceAddr, StateError> {
    let bad = |what| StateError::BadRow {
        what,
        address: address.to_owned(),
    };
    let key = index_key
        .map(serde_json::from_str::<IndexKey>)
        .transpose()
        .map_err(|_| bad("index key"))?;
    Ok(InstanceAddr {
        module: parse_module_path(module).map_err(|_| bad("module path"))?,
        mode: Mode::parse(mode).ok_or_else(|| bad("mode"))?,
        type_name,
        name,
        key,
    })
}

fn delete_object_row(
    tx: &Transaction<'_>,
    workspace: &str,
    key: &ObjectKey,
) -> Result<(), StateError> {
    tx.execute(
        "DELETE FROM resource_instances WHERE workspace = ?1 AND address = ?2 AND deposed = ?3",
        params![
            workspace,
            key.addr.to_string(),
            key.deposed.as_deref().unwrap_or("")
        ],
    )
    .sql("delete a resource instance")?;
    Ok(())
}

fn read_workspace(tx: &Transaction<'_>, name: &str) -> Result<(String, u64, String), StateError> {
    tx.query_row(
        "SELECT lineage, serial, terraform_version FROM workspaces WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?)),
    )
    .optional()
    .sql("read the workspace")?
    .ok_or_else(|| StateError::WorkspaceNotFound {
        name: name.to_owned(),
    })
}

fn read_lock(tx: &Transaction<'_>, workspace: &str) -> Result<Option<LockInfo>, StateError> {
    let row = tx
        .query_row(
            "SELECT id, operation, who, created_at, version, pid FROM locks WHERE workspace = ?1",
            [workspace],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()
        .sql("read the lock")?;
    let Some((id, operation, who, created, version, pid)) = row else {
        return Ok(None);
    };
    let created = DateTime::parse_from_rfc3339(&created)
        .map_err(|_| StateError::BadRow {
            what: "lock time",
            address: workspace.to_owned(),
        })?
        .with_timezone(&Utc);
    Ok(Some(LockInfo {
        id,
        operation,
        who,
        created,
        version,
        pid: pid as u32,
    }))
}

/// A lock is stale when its holder ran on this host and its process is gone.
fn is_stale(holder: &LockInfo, host: &str) -> bool {
    let holder_host = holder.who.rsplit('@').next().unwrap_or("");
    let proc = Path::new("/proc");
    holder_host == host
        && holder.pid != std::process::id()
        && proc.join("self").exists()
        && !proc.join(holder.pid.to_string()).exists()
}

fn collect_rows<T: RowTuple>(tx: &Transaction<'_>, sql: &str) -> Result<Vec<T>, StateError> {
    let mut stmt = tx.prepare(sql).sql("read rows to re-encrypt")?;
    let rows = stmt
        .query_map([], T::from_row)
        .sql("read rows to re-encrypt")?;
    rows.collect::<Result<_, _>>()
        .sql("read rows to re-encrypt")
}

/// A row read as a tuple of its columns.
trait RowTuple: Sized {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

impl<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql> RowTuple for (A, B) {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?))
    }
}

impl<A, B, C> RowTuple for (A, B, C)
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: rusqlite::types::FromSql,
{
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    }
}

impl<A, B, C, D> RowTuple for (A, B, C, D)
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: rusqlite::types::FromSql,
    D: rusqlite::types::FromSql,
{
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// A fresh deposed key: eight hex digits, as Terraform makes them.
pub fn new_deposed_key() -> String {
    let id = uuid::Uuid::new_v4();
    id.simple().to_string()[..8].to_owned()
}

/// Workspace names: letters, digits, `-` and `_`, as Terraform allows in
/// practice for local states.
pub fn validate_workspace_name(name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StateError::InvalidWorkspaceName {
            name: name.to_owned(),
        })
    }
}

//! The state as plain data: what a snapshot holds and what a history row says.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::address::InstanceAddr;
use crate::json::{AttrPath, ExactJson};

/// A time as meshform prints it: RFC 3339 in UTC, whole seconds.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether an object is usable or must be replaced on the next apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceStatus {
    #[default]
    Ready,
    Tainted,
}

/// One object in the state: the current object of a resource instance, or a
/// deposed one (`deposed` set) left by a create-before-destroy replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInstance {
    pub addr: InstanceAddr,
    /// The deposed key (`"00000001"`), `None` for the current object.
    pub deposed: Option<String>,
    /// `provider["registry.terraform.io/kong/konnect"]`, as state v4 writes it.
    pub provider: String,
    pub schema_version: u64,
    /// The object in state v4's `attributes` shape (every attribute, nulls
    /// included).
    pub attributes: ExactJson,
    /// Paths marked sensitive by value (state v4 `sensitive_attributes`).
    pub sensitive_paths: Vec<AttrPath>,
    /// Paths sensitive by the provider schema. Not written to state v4
    /// (Terraform does not list them), but hidden and encrypted like marks.
    pub schema_sensitive_paths: Vec<AttrPath>,
    /// The provider's opaque `private` data (base64), if any.
    pub private: Option<String>,
    /// Resource addresses this object depended on when it was written.
    pub dependencies: Vec<String>,
    pub create_before_destroy: bool,
    pub status: InstanceStatus,
}

impl ResourceInstance {
    /// A ready, current object with no marks, dependencies or private data.
    pub fn new(addr: InstanceAddr, provider: &str, attributes: ExactJson) -> ResourceInstance {
        ResourceInstance {
            addr,
            deposed: None,
            provider: provider.to_owned(),
            schema_version: 0,
            attributes,
            sensitive_paths: Vec::new(),
            schema_sensitive_paths: Vec::new(),
            private: None,
            dependencies: Vec::new(),
            create_before_destroy: false,
            status: InstanceStatus::Ready,
        }
    }

    /// Every sensitive path, marks first, without duplicates.
    pub fn all_sensitive_paths(&self) -> Vec<AttrPath> {
        let mut out: Vec<AttrPath> = Vec::new();
        for p in self
            .sensitive_paths
            .iter()
            .chain(&self.schema_sensitive_paths)
        {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        out
    }

    /// The key identifying this object in the state.
    pub fn object_key(&self) -> ObjectKey {
        ObjectKey {
            addr: self.addr.clone(),
            deposed: self.deposed.clone(),
        }
    }
}

/// Identifies one object: an instance address plus its deposed key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub addr: InstanceAddr,
    pub deposed: Option<String>,
}

impl ObjectKey {
    /// The current object of an instance.
    pub fn current(addr: InstanceAddr) -> ObjectKey {
        ObjectKey {
            addr,
            deposed: None,
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.deposed {
            None => write!(f, "{}", self.addr),
            Some(d) => write!(f, "{} (deposed object {d})", self.addr),
        }
    }
}

/// A root module output value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputState {
    pub value: ExactJson,
    /// The cty type in JSON form (`"string"`, `["list","number"]`).
    pub type_json: serde_json::Value,
    pub sensitive: bool,
}

/// Everything the state holds for one workspace at one serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub workspace: String,
    /// Fixed for the life of the state (a UUID).
    pub lineage: String,
    /// Rises by one with every committed change.
    pub serial: u64,
    /// The Terraform version written to state v4 exports.
    pub terraform_version: String,
    /// Objects sorted by address, then deposed key (current first).
    pub instances: Vec<ResourceInstance>,
    pub outputs: BTreeMap<String, OutputState>,
}

impl Snapshot {
    /// The current object of an instance.
    pub fn instance(&self, addr: &InstanceAddr) -> Option<&ResourceInstance> {
        self.instances
            .iter()
            .find(|i| &i.addr == addr && i.deposed.is_none())
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty() && self.outputs.is_empty()
    }
}

/// What a committed change did to one object or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Taint,
    Untaint,
    /// `state mv`: recorded on the new address, `before` holding the old one.
    Move,
    /// The current object became a deposed object (create-before-destroy).
    Depose,
    /// Written by `state push` or `state import-tfstate`.
    Import,
    /// An output value set or changed.
    Output,
    /// An output value removed.
    RemoveOutput,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Taint => "taint",
            Action::Untaint => "untaint",
            Action::Move => "move",
            Action::Depose => "depose",
            Action::Import => "import",
            Action::Output => "output",
            Action::RemoveOutput => "remove-output",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "create" => Action::Create,
            "update" => Action::Update,
            "delete" => Action::Delete,
            "taint" => Action::Taint,
            "untaint" => Action::Untaint,
            "move" => Action::Move,
            "depose" => Action::Depose,
            "import" => Action::Import,
            "output" => Action::Output,
            "remove-output" => Action::RemoveOutput,
            _ => return None,
        })
    }
}

/// The result of one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The change was written; the state is now at this serial.
    Committed { serial: u64 },
    /// The state already held exactly this; nothing was written.
    Unchanged { serial: u64 },
}

impl CommitOutcome {
    pub fn serial(self) -> u64 {
        match self {
            CommitOutcome::Committed { serial } | CommitOutcome::Unchanged { serial } => serial,
        }
    }
}

/// One row of the history: a committed change to one object or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: i64,
    pub serial: u64,
    pub time: DateTime<Utc>,
    /// The command that made the change (`apply`, `state rm`, …).
    pub command: String,
    /// An instance address (with ` (deposed object KEY)`), or `output.NAME`.
    pub address: String,
    pub action: Action,
    /// The object (state v4 instance shape) or output before and after, with
    /// secrets decrypted when the key is at hand.
    pub before: Option<ExactJson>,
    pub after: Option<ExactJson>,
}

/// Who holds the state lock, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// A UUID; `force-unlock` takes it.
    pub id: String,
    /// The command that took the lock (`apply`, `state rm`, …).
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub created: DateTime<Utc>,
    /// The meshform version of the holder.
    pub version: String,
    /// The holder's process id, used to recognise a lock left by a process
    /// that died on this host.
    pub pid: u32,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ID: {}, operation: {}, who: {}, version: {}, created: {}",
            self.id,
            self.operation,
            self.who,
            self.version,
            self.created
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

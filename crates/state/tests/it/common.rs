//! Shared helpers: a store in a fresh temporary directory, and small objects.

use std::path::{Path, PathBuf};

use meshform_state::{
    ExactJson, InstanceAddr, OpenOptions, ResourceInstance, StateKey, StateStore,
};

pub const PROVIDER: &str = "provider[\"registry.terraform.io/hashicorp/fake\"]";

pub struct TempState {
    pub dir: tempfile::TempDir,
}

impl TempState {
    pub fn new() -> TempState {
        TempState {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join(".meshform/state.db")
    }

    pub fn open(&self, command: &str) -> StateStore {
        StateStore::open(&self.db(), OpenOptions::new(command)).expect("open the state")
    }

    pub fn open_with_key(&self, key: &StateKey) -> StateStore {
        StateStore::open(&self.db(), OpenOptions::new("apply").key(Some(key.clone())))
            .expect("open the state with a key")
    }
}

pub fn addr(text: &str) -> InstanceAddr {
    InstanceAddr::parse(text).expect("a valid address")
}

pub fn thing(address: &str, attributes: &str) -> ResourceInstance {
    ResourceInstance::new(
        addr(address),
        PROVIDER,
        ExactJson::parse(attributes).expect("valid JSON"),
    )
}

/// The raw bytes of the database and its WAL, for checking what is on disk.
pub fn raw_bytes(db: &Path) -> Vec<u8> {
    let mut out = std::fs::read(db).unwrap_or_default();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    out.extend(std::fs::read(PathBuf::from(wal)).unwrap_or_default());
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

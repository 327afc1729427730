//! The state crate's error type.

use std::path::PathBuf;

use crate::model::LockInfo;

/// Why a state operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("could not open the state database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("could not create the directory {path} for the state database")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state database failed while it tried to {step}")]
    Sql {
        step: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the state database has schema version {found}, newer than this meshform knows ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the state is locked by another process ({holder})")]
    Locked { holder: Box<LockInfo> },
    #[error("no lock with ID {id} is held on workspace {workspace:?}")]
    LockNotFound { id: String, workspace: String },
    #[error("this process does not hold the lock on workspace {workspace:?}")]
    NotLocked { workspace: String },
    #[error("workspace {name:?} does not exist")]
    WorkspaceNotFound { name: String },
    #[error("workspace {name:?} already exists")]
    WorkspaceExists { name: String },
    #[error("workspace name {name:?} is not valid: use letters, digits, '-' and '_'")]
    InvalidWorkspaceName { name: String },
    #[error("the default workspace cannot be deleted")]
    DeleteDefaultWorkspace,
    #[error("workspace {name:?} still holds {resources} resource instance(s); delete them first or force the deletion")]
    WorkspaceNotEmpty { name: String, resources: usize },
    #[error("no object at {address} in the state")]
    NoSuchObject { address: String },
    #[error("an object already exists at {address} in the state")]
    ObjectExists { address: String },
    #[error("no output named {name:?} in the state")]
    NoSuchOutput { name: String },
    #[error(
        "the state key must be 32 bytes written as base64 or 64 hex digits (got {len} characters)"
    )]
    InvalidKey { len: usize },
    #[error("the state holds secrets encrypted with key version {key_version}; set the state key to read or change them")]
    KeyRequired { key_version: i64 },
    #[error("the state key does not match key version {key_version} used to encrypt this state")]
    WrongKey { key_version: i64 },
    #[error("encrypted data in the state (key version {key_version}) could not be decrypted: it was changed or damaged")]
    Corrupt { key_version: i64 },
    #[error("the state database holds a damaged {what} for {address}")]
    BadRow { what: &'static str, address: String },
    #[error("cannot read the state file {path}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the file {path}")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the state file is not valid state v4 JSON at line {line}, column {column}: {message}"
    )]
    ParseTfstate {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("state file version {version} is not supported; only version 4 can be read")]
    UnsupportedVersion { version: u64 },
    #[error("invalid {what} {value:?} in the state file")]
    InvalidTfstate { what: &'static str, value: String },
    #[error("cannot push a state with lineage {pushed} onto lineage {current}; use -force to replace it")]
    LineageMismatch { current: String, pushed: String },
    #[error(
        "cannot push serial {pushed} over the newer serial {current}; use -force to replace it"
    )]
    OlderSerial { current: u64, pushed: u64 },
    #[error("workspace {workspace:?} already holds a state; use -force to replace it")]
    StateNotEmpty { workspace: String },
    #[error("no objects in the state match {pattern}")]
    NoMatch { pattern: String },
    #[error(
        "cannot move {from} to {to}: a managed resource and a data source cannot trade places"
    )]
    InvalidMove { from: String, to: String },
    #[error("invalid resource address: {0}")]
    Address(#[from] crate::address::AddressError),
}

pub(crate) trait SqlContext<T> {
    fn sql(self, step: &'static str) -> Result<T, StateError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn sql(self, step: &'static str) -> Result<T, StateError> {
        self.map_err(|source| StateError::Sql { step, source })
    }
}

//! State kept in SQLite: one commit per completed object change, history,
//! locking, workspaces, secrets at rest, and Terraform state v4 interop.
//!
//! [`StateStore`] opens one workspace of a database (by default
//! `.meshform/state.db`) and is the only way in: [`StateStore::snapshot`]
//! reads a [`Snapshot`] (lineage, serial, [`ResourceInstance`]s, outputs),
//! [`StateStore::commit`] writes [`Change`]s in one transaction, bumping the
//! serial only when something really changed and appending one history row
//! per changed object, and [`StateStore::lock`] takes the workspace lock.
//! Attribute values stay JSON in state v4's `attributes` shape
//! ([`ExactJson`], which keeps every digit of a number), with sensitive
//! paths in state v4's `sensitive_attributes` format ([`AttrPath`]);
//! [`tfstate`] reads and writes `terraform.tfstate` files.
//!
//! It knows nothing of the configuration, providers or the engine, reads no
//! environment variables (the key and `user@host` come from the caller) and
//! never prints.

mod address;
mod crypto;
mod error;
mod json;
mod model;
pub mod ops;
pub mod render;
mod schema;
mod store;
pub mod tfstate;
mod workspace;

pub use address::{
    module_path_string, parse_module_path, AddressError, IndexKey, InstanceAddr, Mode, ModuleStep,
};
pub use crypto::StateKey;
pub use error::StateError;
pub use json::{to_go_pretty_json, AttrPath, ExactJson, IndexStep, JsonError, PathStep};
pub use model::{
    format_time, Action, CommitOutcome, HistoryEntry, InstanceStatus, LockInfo, ObjectKey,
    OutputState, ResourceInstance, Snapshot,
};
pub use schema::SCHEMA_VERSION;
pub use store::{
    new_deposed_key, validate_workspace_name, Change, Clock, LockRequest, OpenOptions, StateStore,
    WorkspaceInfo, DEFAULT_STATE_PATH, DEFAULT_WORKSPACE, TERRAFORM_VERSION,
};
pub use workspace::{environment_file, select_workspace, selected_workspace};

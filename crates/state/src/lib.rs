//! State kept in SQLite: one commit per completed object change, history,
//! locking, workspaces, and Terraform state v4 interop.
//!
//! It knows nothing of the configuration, providers or the engine.

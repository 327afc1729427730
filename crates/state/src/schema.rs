//! The database schema and its migrations, numbered by `PRAGMA user_version`.
//!
//! Each migration runs in the same transaction as the `user_version` bump,
//! so a database is always at exactly one version. Append new migrations;
//! never edit one that has shipped. `docs/STATE.md` describes the tables.

use rusqlite::Connection;

use crate::error::{SqlContext, StateError};

/// Migration `n` (1-based) brings a database from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
CREATE TABLE workspaces (
    name              TEXT PRIMARY KEY,
    lineage           TEXT NOT NULL,
    serial            INTEGER NOT NULL DEFAULT 0,
    terraform_version TEXT NOT NULL,
    created_at        TEXT NOT NULL
) STRICT;

CREATE TABLE resource_instances (
    workspace              TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE,
    address                TEXT NOT NULL,
    deposed                TEXT NOT NULL DEFAULT '',
    module                 TEXT NOT NULL,
    mode                   TEXT NOT NULL CHECK (mode IN ('managed', 'data')),
    type                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    index_key              TEXT,
    provider               TEXT NOT NULL,
    schema_version         INTEGER NOT NULL,
    attributes             TEXT NOT NULL,
    sensitive_paths        TEXT NOT NULL,
    schema_sensitive_paths TEXT NOT NULL,
    secrets                BLOB,
    key_version            INTEGER,
    private                TEXT,
    dependencies           TEXT NOT NULL,
    create_before_destroy  INTEGER NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('ready', 'tainted')),
    updated_serial         INTEGER NOT NULL,
    PRIMARY KEY (workspace, address, deposed)
) STRICT;

CREATE TABLE outputs (
    workspace   TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    type        TEXT NOT NULL,
    sensitive   INTEGER NOT NULL,
    secrets     BLOB,
    key_version INTEGER,
    PRIMARY KEY (workspace, name)
) STRICT;

CREATE TABLE history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace      TEXT NOT NULL,
    serial         INTEGER NOT NULL,
    time           TEXT NOT NULL,
    command        TEXT NOT NULL,
    address        TEXT NOT NULL,
    action         TEXT NOT NULL,
    before         TEXT,
    after          TEXT,
    before_secrets BLOB,
    after_secrets  BLOB,
    key_version    INTEGER
) STRICT;
CREATE INDEX history_by_address ON history (workspace, address, id);

CREATE TABLE locks (
    workspace  TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    operation  TEXT NOT NULL,
    who        TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version    TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL
) STRICT;

CREATE TABLE state_keys (
    version    INTEGER PRIMARY KEY,
    check_blob BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
"#,
    // 2: each commit stamps the rows it wrote (updated_serial = -1) with
    // its serial; a partial index finds them without scanning the workspace.
    r#"
CREATE INDEX instances_unstamped ON resource_instances (workspace) WHERE updated_serial = -1;
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StateError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .sql("start the schema migration")?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .sql("read the schema version")?;
    if found > SCHEMA_VERSION {
        return Err(StateError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.execute_batch(sql).sql("apply a schema migration")?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .sql("record the schema version")?;
    }
    tx.commit().sql("commit the schema migration")
}

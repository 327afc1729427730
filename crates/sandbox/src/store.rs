//! Generic JSON object storage in SQLite, shared by both servers.
//!
//! Every object is a row keyed by (api, kind, scope, name) holding its JSON
//! body; `scope` is the parent path (a control plane id, `cp/mesh`, a
//! namespace), so cascading deletes are prefix deletes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::SandboxClock;

/// Failures of the SQLite store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or its directory created.
    #[error("could not open the sandbox database {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// A statement failed.
    #[error("the sandbox database failed during {step}: {source}")]
    Sql {
        step: &'static str,
        source: rusqlite::Error,
    },
    /// A stored body is not valid JSON.
    #[error("a stored object is not valid JSON: {0}")]
    Corrupt(serde_json::Error),
    /// A lookup was refused by the server logic.
    #[error("the sandbox refused the lookup: {0}")]
    Rejected(String),
    /// The store lock was poisoned by a panic elsewhere.
    #[error("the sandbox database lock is poisoned")]
    Poisoned,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS objects (
    api   TEXT NOT NULL,
    kind  TEXT NOT NULL,
    scope TEXT NOT NULL,
    name  TEXT NOT NULL,
    body  TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (api, kind, scope, name)
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
";

/// The SQLite connection behind a lock; all access goes through [`Store::tx`].
/// Each transaction happens at one moment of the world's clock.
pub struct Store {
    conn: Mutex<Connection>,
    clock: Mutex<SandboxClock>,
}

fn sql(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { step, source }
}

impl Store {
    pub fn memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: PathBuf::from(":memory:"),
            message: e.to_string(),
        })?;
        Store::init(conn)
    }

    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_error(e.to_string()))?;
        Store::init(conn)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        conn.execute_batch(SCHEMA).map_err(sql("create schema"))?;
        Ok(Store {
            conn: Mutex::new(conn),
            clock: Mutex::new(SandboxClock::wall()),
        })
    }

    /// The same store, living on `clock` instead of the wall clock.
    pub fn with_clock(self, clock: SandboxClock) -> Store {
        self.set_clock(clock);
        self
    }

    /// The world's clock.
    pub fn clock(&self) -> SandboxClock {
        self.clock.lock().map(|c| *c).unwrap_or_default()
    }

    /// Moves the world to another clock, from the next transaction on.
    pub fn set_clock(&self, clock: SandboxClock) {
        if let Ok(mut c) = self.clock.lock() {
            *c = clock;
        }
    }

    /// Runs `f` inside one SQLite transaction; commits when it returns Ok.
    pub fn tx<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let txn = conn.transaction().map_err(sql("begin"))?;
        let value = f(&Tx {
            conn: &txn,
            now: self.clock().now(),
        })?;
        txn.commit().map_err(sql("commit"))?;
        Ok(value)
    }

    pub fn clear(&self) -> Result<(), StoreError> {
        self.tx(|t| {
            t.conn
                .execute_batch("DELETE FROM objects; DELETE FROM counters;")
                .map_err(sql("clear"))
        })
    }

    /// (api, kind, count) for every non-empty collection, sorted.
    pub fn counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.tx(|t| {
            let mut stmt = t
                .conn
                .prepare(
                    "SELECT api, kind, COUNT(*) FROM objects GROUP BY api, kind ORDER BY api, kind",
                )
                .map_err(sql("count"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(sql("count"))?;
            let mut out = Vec::new();
            for row in rows {
                let (api, kind, n) = row.map_err(sql("count"))?;
                out.push((api, kind, u64::try_from(n).unwrap_or(0)));
            }
            Ok(out)
        })
    }
}

/// One stored object with its key.
#[derive(Debug, Clone)]
pub struct Row {
    pub scope: String,
    pub name: String,
    pub body: Value,
}

/// Operations available inside a transaction.
pub struct Tx<'a> {
    conn: &'a Connection,
    now: DateTime<Utc>,
}

fn parse(body: String) -> Result<Value, StoreError> {
    serde_json::from_str(&body).map_err(StoreError::Corrupt)
}

impl Tx<'_> {
    /// The moment of the world's clock this transaction happens at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn get(
        &self,
        api: &str,
        kind: &str,
        scope: &str,
        name: &str,
    ) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM objects WHERE api=?1 AND kind=?2 AND scope=?3 AND name=?4",
                params![api, kind, scope, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("get"))?;
        body.map(parse).transpose()
    }

    /// Inserts or replaces; a replaced object keeps its position in lists.
    pub fn put(
        &self,
        api: &str,
        kind: &str,
        scope: &str,
        name: &str,
        body: &Value,
    ) -> Result<(), StoreError> {
        let text = body.to_string();
        let updated = self
            .conn
            .execute(
                "UPDATE objects SET body=?5 WHERE api=?1 AND kind=?2 AND scope=?3 AND name=?4",
                params![api, kind, scope, name, text],
            )
            .map_err(sql("update"))?;
        if updated == 0 {
            let seq = self.next_counter("object-seq")?;
            self.conn
                .execute(
                    "INSERT INTO objects (api, kind, scope, name, body, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![api, kind, scope, name, text, seq],
                )
                .map_err(sql("insert"))?;
        }
        Ok(())
    }

    pub fn delete(
        &self,
        api: &str,
        kind: &str,
        scope: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM objects WHERE api=?1 AND kind=?2 AND scope=?3 AND name=?4",
                params![api, kind, scope, name],
            )
            .map_err(sql("delete"))?;
        Ok(n > 0)
    }

    /// Objects of one collection in one scope (or every scope when `scope`
    /// is None), in insertion order.
    pub fn list(&self, api: &str, kind: &str, scope: Option<&str>) -> Result<Vec<Row>, StoreError> {
        let mut out = Vec::new();
        let mut push = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            out.push((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ));
            Ok(())
        };
        match scope {
            Some(scope) => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT scope, name, body FROM objects WHERE api=?1 AND kind=?2 AND scope=?3 ORDER BY seq")
                    .map_err(sql("list"))?;
                let mut rows = stmt.query(params![api, kind, scope]).map_err(sql("list"))?;
                while let Some(r) = rows.next().map_err(sql("list"))? {
                    push(r).map_err(sql("list"))?;
                }
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT scope, name, body FROM objects WHERE api=?1 AND kind=?2 ORDER BY seq")
                    .map_err(sql("list"))?;
                let mut rows = stmt.query(params![api, kind]).map_err(sql("list"))?;
                while let Some(r) = rows.next().map_err(sql("list"))? {
                    push(r).map_err(sql("list"))?;
                }
            }
        }
        out.into_iter()
            .map(|(scope, name, body)| {
                Ok(Row {
                    scope,
                    name,
                    body: parse(body)?,
                })
            })
            .collect()
    }

    /// Every object of an api whose scope is exactly `scope`, with its kind.
    pub fn list_scope(&self, api: &str, scope: &str) -> Result<Vec<(String, Row)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, name, body FROM objects WHERE api=?1 AND scope=?2 ORDER BY seq")
            .map_err(sql("list scope"))?;
        let mut rows = stmt.query(params![api, scope]).map_err(sql("list scope"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql("list scope"))? {
            let kind: String = r.get(0).map_err(sql("list scope"))?;
            let name: String = r.get(1).map_err(sql("list scope"))?;
            let body: String = r.get(2).map_err(sql("list scope"))?;
            out.push((
                kind,
                Row {
                    scope: scope.to_string(),
                    name,
                    body: parse(body)?,
                },
            ));
        }
        Ok(out)
    }

    /// Deletes every object of an api whose scope is `scope` or below it.
    pub fn delete_under(&self, api: &str, scope: &str) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "DELETE FROM objects WHERE api=?1 AND (scope=?2 OR substr(scope, 1, length(?2) + 1) = ?2 || '/')",
                params![api, scope],
            )
            .map_err(sql("cascade delete"))
    }

    /// Increments and returns a named counter (starting at 1).
    pub fn next_counter(&self, name: &str) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO counters (name, value) VALUES (?1, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
                params![name],
            )
            .map_err(sql("counter"))?;
        self.conn
            .query_row(
                "SELECT value FROM counters WHERE name=?1",
                params![name],
                |r| r.get(0),
            )
            .map_err(sql("counter"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cascade_deletes_only_the_scope_and_below() {
        let store = Store::memory().unwrap();
        store
            .tx(|t| {
                t.put("k", "meshes", "cp1", "m", &json!({"a": 1}))?;
                t.put("k", "mtp", "cp1/m", "p", &json!({"b": 1}))?;
                t.put("k", "mtp", "cp10/m", "p", &json!({"c": 1}))?;
                assert_eq!(t.delete_under("k", "cp1")?, 2);
                assert!(t.get("k", "mtp", "cp10/m", "p")?.is_some());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    #[test]
    fn replace_keeps_list_order() {
        let store = Store::memory().unwrap();
        let names = store
            .tx(|t| {
                t.put("k", "x", "", "a", &json!(1))?;
                t.put("k", "x", "", "b", &json!(2))?;
                t.put("k", "x", "", "a", &json!(3))?;
                t.list("k", "x", Some(""))
            })
            .unwrap();
        let got: Vec<_> = names
            .iter()
            .map(|r| (r.name.as_str(), r.body.clone()))
            .collect();
        assert_eq!(got, vec![("a", json!(3)), ("b", json!(2))]);
    }
}

//! Server-side apply: field managers, conflicts and the fields an applier
//! stops applying.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::*;

impl Call<'_> {
    pub(super) fn field_manager(&self) -> String {
        self.query
            .get("fieldManager")
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    }

    pub(super) fn managed_entry(&self, applied: &Value) -> Value {
        let mut paths = patch::field_paths(applied);
        paths.retain(|p| !matches!(p.first(), Some(patch::Step::Field(f)) if f == "apiVersion" || f == "kind"));
        json!({
            "manager": self.field_manager(),
            "operation": "Apply",
            "apiVersion": self.ty.api_version(),
            "time": objects::timestamp(self.world.store.clock().now()),
            "fieldsType": "FieldsV1",
            "fieldsV1": patch::fields_v1(&paths),
        })
    }

    pub(super) fn apply_create(
        &self,
        t: &Tx<'_>,
        name: &str,
        applied: Value,
    ) -> Result<Value, Failure> {
        self.check_kind(&applied)?;
        let mut object = applied.clone();
        object["metadata"]["name"] = json!(name);
        self.check_namespace(t, &mut object)?;
        self.validate(&object, name)?;
        admission::check(t, self.ty, admission::Operation::Create, &object)?;
        object["metadata"]["managedFields"] = json!([self.managed_entry(&applied)]);
        stamp_new(t, self.ty, &mut object)?;
        if !self.dry_run() {
            self.store(t, &object, "ADDED")?;
        }
        Ok(object)
    }

    /// Server-side apply on an existing object. A field another applier
    /// owns with a different value is a conflict (409) unless `force=true`,
    /// which takes it over. Fields this manager applied before and no longer
    /// applies are removed unless another applier still owns them. Fields
    /// written by plain updates are not tracked.
    pub(super) fn apply_merge(&self, current: &Value, applied: Value) -> Result<Value, Failure> {
        self.check_kind(&applied)?;
        let manager = self.field_manager();
        let force = self.query.get("force").is_some_and(|f| f == "true");
        let mut managed: Vec<Value> = current["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let entry = self.managed_entry(&applied);
        let now = patch::paths_of_fields_v1(&entry["fieldsV1"]);
        let mut conflicts = Vec::new();
        for other in managed.iter_mut() {
            if other["manager"] == manager.as_str() || other["operation"] != "Apply" {
                continue;
            }
            let mut owned = patch::paths_of_fields_v1(&other["fieldsV1"]);
            let contested: Vec<_> = owned
                .intersection(&now)
                .filter(|p| patch::value_at(current, p) != patch::value_at(&applied, p))
                .cloned()
                .collect();
            if contested.is_empty() {
                continue;
            }
            if force {
                for p in &contested {
                    owned.remove(p);
                }
                other["fieldsV1"] = patch::fields_v1(&owned);
            } else {
                let who = other["manager"].as_str().unwrap_or("unknown").to_string();
                conflicts.extend(
                    contested
                        .iter()
                        .map(|p| format!("conflict with \"{who}\": {}", patch::display(p))),
                );
            }
        }
        if !conflicts.is_empty() {
            let name = current["metadata"]["name"].as_str().unwrap_or_default();
            return Err(Failure {
                details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                ..Failure::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "Apply failed with {} conflict(s): {}",
                        conflicts.len(),
                        conflicts.join(", ")
                    ),
                )
            });
        }
        let others: std::collections::BTreeSet<Vec<patch::Step>> = managed
            .iter()
            .filter(|m| m["manager"] != manager.as_str() && m["operation"] == "Apply")
            .flat_map(|m| patch::paths_of_fields_v1(&m["fieldsV1"]))
            .collect();
        let previous = managed
            .iter()
            .position(|m| m["manager"] == manager.as_str() && m["operation"] == "Apply");
        let mut next = current.clone();
        if let Some(i) = previous {
            let before = patch::paths_of_fields_v1(&managed[i]["fieldsV1"]);
            for gone in before.difference(&now).filter(|p| !others.contains(*p)) {
                patch::remove_path(&mut next, gone);
            }
            managed[i] = entry;
        } else {
            managed.push(entry);
        }
        let mut next = patch::strategic_merge(&next, &applied);
        next["metadata"]["managedFields"] = Value::Array(managed);
        Ok(next)
    }
}

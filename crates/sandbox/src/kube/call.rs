//! The verbs on one resource: list, get, create, update, patch, delete,
//! with the checks and cascades the API server applies.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::*;

impl Call<'_> {
    pub(super) fn scope(&self) -> String {
        self.namespace.clone().unwrap_or_default()
    }

    pub(super) fn collection(&self) -> String {
        self.ty.collection()
    }

    pub(super) fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    pub(super) fn selectors(&self) -> Result<(LabelSelector, FieldSelector), Failure> {
        let labels =
            LabelSelector::parse(self.query.get("labelSelector").map_or("", String::as_str))
                .map_err(Failure::bad_request)?;
        let fields =
            FieldSelector::parse(self.query.get("fieldSelector").map_or("", String::as_str))
                .map_err(Failure::bad_request)?;
        Ok((labels, fields))
    }

    pub(super) fn present(&self, mut object: Value) -> Value {
        object["apiVersion"] = json!(self.ty.api_version());
        object
    }

    pub(super) fn matching(&self, t: &Tx<'_>) -> Result<Vec<Value>, Failure> {
        let (labels, fields) = self.selectors()?;
        let rows = match &self.namespace {
            Some(ns) => t.list(API, &self.collection(), Some(ns))?,
            None => t.list(API, &self.collection(), None)?,
        };
        let mut items: Vec<Value> = rows
            .into_iter()
            .map(|r| self.present(r.body))
            .filter(|o| labels.matches(&o["metadata"]["labels"]) && fields.matches(o))
            .collect();
        items.sort_by(|a, b| {
            let key = |o: &Value| {
                (
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(items)
    }

    pub(super) fn list(&self) -> Result<Response, Failure> {
        let (items, rv) = self.world.store.tx(|t| {
            let items = self.matching(t)?;
            Ok::<_, Failure>((items, t.next_counter(RV_COUNTER)?.to_string()))
        })?;
        let offset: usize = self
            .query
            .get("continue")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let limit: usize = self
            .query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let mut metadata = json!({"resourceVersion": rv});
        if offset.saturating_add(limit) < total {
            metadata["continue"] = json!((offset + limit).to_string());
            metadata["remainingItemCount"] = json!(total - offset - limit);
        }
        if wants_table(self.headers) {
            let mut table = objects::table(self.ty, &page, &rv, self.world.store.clock().now());
            table["metadata"] = metadata;
            return Ok(ok(table));
        }
        Ok(ok(json!({
            "kind": format!("{}List", self.ty.kind),
            "apiVersion": self.ty.api_version(),
            "metadata": metadata,
            "items": page,
        })))
    }

    pub(super) fn load(&self, t: &Tx<'_>, name: &str) -> Result<Value, Failure> {
        t.get(API, &self.collection(), &self.scope(), name)?
            .map(|o| self.present(o))
            .ok_or_else(|| Failure::not_found(self.ty, name))
    }

    pub(super) fn get(&self, name: &str) -> Result<Response, Failure> {
        let object = self.world.store.tx(|t| self.load(t, name))?;
        if wants_table(self.headers) {
            let rv = object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            return Ok(ok(objects::table(
                self.ty,
                &[object],
                &rv,
                self.world.store.clock().now(),
            )));
        }
        Ok(ok(object))
    }

    pub(super) fn check_kind(&self, object: &Value) -> Result<(), Failure> {
        if !object.is_object() {
            return Err(Failure::bad_request("the body must be a JSON object"));
        }
        let kind = object["kind"].as_str();
        let api_version = object["apiVersion"].as_str();
        if kind.is_some_and(|k| k != self.ty.kind)
            || api_version.is_some_and(|v| v != self.ty.api_version())
        {
            return Err(Failure::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                api_version.unwrap_or_default(),
                self.ty.api_version()
            )));
        }
        Ok(())
    }

    pub(super) fn check_namespace(&self, t: &Tx<'_>, object: &mut Value) -> Result<(), Failure> {
        if !self.ty.namespaced {
            if let Some(m) = object["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            return Ok(());
        }
        let body_ns = object["metadata"]["namespace"].as_str().map(str::to_string);
        let ns = match (&self.namespace, body_ns) {
            (Some(path), Some(body)) if *path != body => {
                return Err(Failure::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            (Some(path), _) => path.clone(),
            (None, Some(body)) => body,
            (None, None) => "default".to_string(),
        };
        if t.get(API, "namespaces", "", &ns)?.is_none() {
            return Err(Failure::not_found(&namespace_type(), &ns));
        }
        object["metadata"]["namespace"] = json!(ns);
        Ok(())
    }

    pub(super) fn validate(&self, object: &Value, name: &str) -> Result<(), Failure> {
        if self.ty.kind == "Secret" {
            for (key, value) in object["data"].as_object().into_iter().flatten() {
                let valid = value.as_str().is_some_and(|v| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v).is_ok()
                });
                if !valid {
                    return Err(Failure::invalid(
                        self.ty,
                        name,
                        &format!("data[{key}]"),
                        "must be base64-encoded",
                    ));
                }
            }
        }
        let valid_name = !name.is_empty()
            && name.len() <= 253
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == ':'
            })
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(Failure::invalid(
                self.ty,
                name,
                "metadata.name",
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            ));
        }
        Ok(())
    }

    pub(super) fn create(&self, body: &Bytes) -> Result<Response, Failure> {
        let mut object = parse_body(body, false)?;
        self.check_kind(&object)?;
        let created = self.world.store.tx(|t| {
            self.check_namespace(t, &mut object)?;
            let name = match object["metadata"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
            {
                Some(name) => name.to_string(),
                None => match object["metadata"]["generateName"].as_str() {
                    Some(prefix) => {
                        let suffix: String = (0..5).map(|_| fastrand::lowercase()).collect();
                        format!("{prefix}{suffix}")
                    }
                    None => {
                        return Err(Failure::invalid(
                            self.ty,
                            "",
                            "metadata.name",
                            "Required value: name or generateName is required",
                        ))
                    }
                },
            };
            object["metadata"]["name"] = json!(name);
            self.validate(&object, &name)?;
            admission::check(t, self.ty, admission::Operation::Create, &object)?;
            if t.get(API, &self.collection(), &self.scope_of(&object), &name)?
                .is_some()
            {
                return Err(Failure {
                    details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                    ..Failure::new(
                        StatusCode::CONFLICT,
                        "AlreadyExists",
                        format!("{} \"{name}\" already exists", qualified(self.ty)),
                    )
                });
            }
            stamp_new(t, self.ty, &mut object)?;
            if !self.dry_run() {
                self.store(t, &object, "ADDED")?;
            }
            Ok(object)
        })?;
        Ok((StatusCode::CREATED, axum::Json(self.present(created))).into_response())
    }

    pub(super) fn scope_of(&self, object: &Value) -> String {
        if self.ty.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        }
    }

    /// Writes an object, notifies watchers, and runs the simulated
    /// controllers that react to it.
    pub(super) fn store(
        &self,
        t: &Tx<'_>,
        object: &Value,
        event: &'static str,
    ) -> Result<(), Failure> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let scope = self.scope_of(object);
        t.put(API, &self.collection(), &scope, name, object)?;
        notify(self.world, self.ty, &scope, event, object);
        if self.ty.group == "apps" && self.ty.kind == "Deployment" {
            self.sync_replica_sets(t, object)?;
        }
        if event == "ADDED" && self.ty.group.is_empty() && self.ty.kind == "Namespace" {
            defaults::publish_root_ca(self.world, t, name)?;
        }
        Ok(())
    }

    /// Stores `next` as the new version of `current`.
    pub(super) fn replace(
        &self,
        t: &Tx<'_>,
        current: &Value,
        mut next: Value,
        status_only: bool,
    ) -> Result<Value, Failure> {
        let name = current["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(rv) = next["metadata"]["resourceVersion"].as_str() {
            if rv
                != current["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
            {
                return Err(Failure {
                    details: json!({"name": name, "group": self.ty.group, "kind": self.ty.plural}),
                    ..Failure::new(StatusCode::CONFLICT, "Conflict", format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                        qualified(self.ty)))
                });
            }
        }
        if status_only {
            let mut updated = current.clone();
            updated["status"] = next["status"].clone();
            next = updated;
        } else if self.ty.has_status && current.get("status").is_some() {
            next["status"] = current["status"].clone();
        }
        if current["immutable"] == true
            && (next["data"] != current["data"] || next["binaryData"] != current["binaryData"])
        {
            return Err(Failure::invalid(
                self.ty,
                &name,
                "data",
                "field is immutable when `immutable` is set",
            ));
        }
        for key in ["uid", "creationTimestamp", "name", "namespace"] {
            next["metadata"][key] = current["metadata"][key].clone();
        }
        if let Some(m) = next["metadata"].as_object_mut() {
            m.retain(|_, v| !v.is_null());
        }
        next["apiVersion"] = json!(self.ty.api_version());
        next["kind"] = json!(self.ty.kind);
        objects::apply_defaults(self.ty, &mut next);
        if tracks_generation(self.ty) {
            let generation = int(&current["metadata"]["generation"]).max(1);
            let changed = spec_part(&next) != spec_part(current);
            next["metadata"]["generation"] =
                json!(if changed { generation + 1 } else { generation });
        }
        if !status_only {
            objects::simulate_status(self.ty, &mut next, t.now());
        }
        self.validate(&next, &name)?;
        admission::check(t, self.ty, admission::Operation::Update, &next)?;
        next["metadata"]["resourceVersion"] = json!(next_rv(t)?);
        if !self.dry_run() {
            self.store(t, &next, "MODIFIED")?;
            if self.ty.kind == "CustomResourceDefinition" {
                self.drop_orphaned_custom_resources(t, current, &next)?;
            }
        }
        Ok(next)
    }

    pub(super) fn update(
        &self,
        name: &str,
        sub: Option<&str>,
        body: &Bytes,
    ) -> Result<Response, Failure> {
        let object = parse_body(body, false)?;
        self.check_kind(&object)?;
        if object["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n != name)
        {
            return Err(Failure::bad_request(
                "the name of the object does not match the name on the URL",
            ));
        }
        let updated = self.world.store.tx(|t| {
            let current = self.load(t, name)?;
            self.replace(t, &current, object, sub == Some("status"))
        })?;
        Ok(ok(self.present(updated)))
    }

    pub(super) fn patch(
        &self,
        name: &str,
        sub: Option<&str>,
        body: &Bytes,
    ) -> Result<Response, Failure> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let apply = content_type == "application/apply-patch+yaml";
        let patch = parse_body(body, apply)?;
        let updated = self.world.store.tx(|t| {
            let current = match t.get(API, &self.collection(), &self.scope(), name)? {
                Some(c) => self.present(c),
                None if apply => return self.apply_create(t, name, patch),
                None => return Err(Failure::not_found(self.ty, name)),
            };
            let next = match content_type.as_str() {
                "application/json-patch+json" => {
                    let ops: json_patch::Patch = serde_json::from_value(patch)
                        .map_err(|e| Failure::bad_request(format!("invalid JSON patch: {e}")))?;
                    let mut next = current.clone();
                    json_patch::patch(&mut next, &ops)
                        .map_err(|e| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", format!("the JSON patch could not be applied: {e}")))?;
                    next
                }
                "application/merge-patch+json" => {
                    let mut next = current.clone();
                    json_patch::merge(&mut next, &patch);
                    next
                }
                "application/strategic-merge-patch+json" => {
                    if self.ty.group.contains('.') && !self.ty.group.ends_with("k8s.io") {
                        return Err(Failure::new(
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                        ));
                    }
                    patch::strategic_merge(&current, &patch)
                }
                "application/apply-patch+yaml" => self.apply_merge(&current, patch)?,
                other => {
                    return Err(Failure::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UnsupportedMediaType",
                        format!("the body of the request was in an unknown format ({other})"),
                    ))
                }
            };
            let mut next = next;
            if !apply && patch_lacks_rv(&next, &current) {
                next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            }
            if apply {
                next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            }
            self.replace(t, &current, next, sub == Some("status"))
        })?;
        Ok(ok(self.present(updated)))
    }

    pub(super) fn delete(&self, name: &str) -> Result<Response, Failure> {
        let deleted = self.world.store.tx(|t| {
            let mut object = self.load(t, name)?;
            admission::check(t, self.ty, admission::Operation::Delete, &object)?;
            if self.dry_run() {
                return Ok(object);
            }
            self.remove(t, &object)?;
            if self.ty.kind == "Namespace" && self.ty.group.is_empty() {
                object["status"]["phase"] = json!("Terminating");
                object["metadata"]["deletionTimestamp"] = json!(objects::timestamp(t.now()));
            }
            Ok::<_, Failure>(object)
        })?;
        // As the API server: an object that lingers (a namespace while it
        // terminates, a pod in its grace period) comes back; anything gone
        // at once is answered with a Status.
        let lingers =
            self.ty.group.is_empty() && matches!(self.ty.kind.as_str(), "Namespace" | "Pod");
        if lingers {
            return Ok(ok(deleted));
        }
        Ok(ok(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": self.ty.group, "kind": self.ty.plural,
                        "uid": deleted["metadata"]["uid"]},
        })))
    }

    /// Deletes an object and what depends on it: a namespace's objects, a
    /// CRD's custom resources, objects owned through ownerReferences.
    pub(super) fn remove(&self, t: &Tx<'_>, object: &Value) -> Result<(), Failure> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let scope = self.scope_of(object);
        t.delete(API, &self.collection(), &scope, name)?;
        notify_deleted(self.world, t, self.ty, &scope, object)?;
        if self.ty.kind == "Namespace" && self.ty.group.is_empty() {
            let types = registry::all_types(t)?;
            for (collection, row) in t.list_scope(API, name)? {
                t.delete(API, &collection, name, &row.name)?;
                if let Some(ty) = types.iter().find(|ty| ty.collection() == collection) {
                    notify_deleted(self.world, t, ty, name, &row.body)?;
                }
            }
        }
        if self.ty.kind == "CustomResourceDefinition" {
            self.drop_orphaned_custom_resources(t, object, &json!({}))?;
        }
        let uid = object["metadata"]["uid"].clone();
        if self.ty.namespaced && !uid.is_null() {
            let types = registry::all_types(t)?;
            for (collection, row) in t.list_scope(API, &scope)? {
                let owned = row.body["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| r["uid"] == uid));
                if owned {
                    if let Some(ty) = types.iter().find(|ty| ty.collection() == collection) {
                        let call = Call {
                            world: self.world,
                            ty,
                            namespace: Some(scope.clone()),
                            query: self.query,
                            headers: self.headers,
                        };
                        call.remove(t, &row.body)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes stored custom resources whose CRD no longer serves them.
    pub(super) fn drop_orphaned_custom_resources(
        &self,
        t: &Tx<'_>,
        before: &Value,
        after: &Value,
    ) -> Result<(), Failure> {
        let old: Vec<String> = registry::types_of_crd(before)
            .iter()
            .map(ResourceType::collection)
            .collect();
        let new: Vec<String> = registry::types_of_crd(after)
            .iter()
            .map(ResourceType::collection)
            .collect();
        for collection in old.iter().filter(|c| !new.contains(c)) {
            for row in t.list(API, collection, None)? {
                t.delete(API, collection, &row.scope, &row.name)?;
            }
        }
        Ok(())
    }

    pub(super) fn delete_collection(&self) -> Result<Response, Failure> {
        let deleted = self.world.store.tx(|t| {
            let items = self.matching(t)?;
            if !self.dry_run() {
                for item in &items {
                    self.remove(t, item)?;
                }
            }
            Ok::<_, Failure>(items)
        })?;
        Ok(ok(json!({
            "kind": format!("{}List", self.ty.kind),
            "apiVersion": self.ty.api_version(),
            "metadata": {},
            "items": deleted,
        })))
    }
}

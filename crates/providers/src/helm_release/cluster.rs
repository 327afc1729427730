//! The cluster side of a Helm release: applying rendered objects (server
//! side apply, field manager `helm`), running hooks with their delete
//! policies, waiting for workloads, and reading and writing Helm 3's
//! release records (Secrets `sh.helm.release.v1.<name>.v<revision>`).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::core::GroupVersionKind;
use kube::discovery::{pinned_kind, Scope};
use meshform_helm::release::{self, Release};
use meshform_helm::LookupRequest;
use meshform_lang::{Diagnostic, Diagnostics};
use serde_json::Value as Json;
use tokio::sync::Mutex;

use crate::kubernetes::{api_error, is_not_found, readiness};

const FIELD_MANAGER: &str = "helm";

fn invalid(what: &str, message: impl std::fmt::Display) -> Diagnostics {
    Diagnostic::error("Invalid release object", format!("{what}: {message}.")).into()
}

/// A connection to the cluster a release lives in, with a discovery cache.
pub(crate) struct ReleaseCluster {
    client: kube::Client,
    kinds: Mutex<BTreeMap<(String, String), (ApiResource, Scope)>>,
}

/// Identity of an object for messages.
fn describe(object: &Json) -> String {
    let kind = object
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or("object");
    let name = object
        .pointer("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("");
    format!("{kind} {name:?}")
}

impl ReleaseCluster {
    pub(crate) fn new(client: kube::Client) -> ReleaseCluster {
        ReleaseCluster {
            client,
            kinds: Mutex::new(BTreeMap::new()),
        }
    }

    /// The cluster's version as Helm's `.Capabilities.KubeVersion` shows it.
    pub(crate) async fn kube_version(&self) -> Option<String> {
        self.client
            .apiserver_version()
            .await
            .ok()
            .map(|v| v.git_version)
    }

    /// The API resource serving a kind; `None` when the cluster does not
    /// serve it.
    async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(ApiResource, Scope)>, Diagnostics> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self.kinds.lock().await.get(&key) {
            return Ok(Some(found.clone()));
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = match pinned_kind(&self.client, &gvk).await {
            Ok(found) => found,
            Err(kube::Error::Discovery(_)) => return Ok(None),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(api_error(
                    "Discovering",
                    &format!("{api_version} {kind}"),
                    &e,
                ))
            }
        };
        let found = (resource, caps.scope);
        self.kinds.lock().await.insert(key, found.clone());
        Ok(Some(found))
    }

    /// The API of an object and its name; namespaced objects without a
    /// namespace go to the release namespace.
    async fn api_for(
        &self,
        object: &Json,
        namespace: &str,
    ) -> Result<Option<(Api<DynamicObject>, String)>, Diagnostics> {
        let api_version = object
            .get("apiVersion")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid(&describe(object), "it has no apiVersion"))?;
        let kind = object
            .get("kind")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid(&describe(object), "it has no kind"))?;
        let name = object
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid(&describe(object), "it has no metadata.name"))?
            .to_string();
        let Some((resource, scope)) = self.resource(api_version, kind).await? else {
            return Ok(None);
        };
        let api = match scope {
            Scope::Namespaced => {
                let ns = object
                    .pointer("/metadata/namespace")
                    .and_then(Json::as_str)
                    .filter(|s| !s.is_empty())
                    .unwrap_or(namespace);
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            Scope::Cluster => Api::all_with(self.client.clone(), &resource),
        };
        Ok(Some((api, name)))
    }

    /// Creates or updates an object by server-side apply.
    pub(crate) async fn apply(&self, object: &Json, namespace: &str) -> Result<Json, Diagnostics> {
        let Some((api, name)) = self.api_for(object, namespace).await? else {
            return Err(Diagnostic::error(
                "Unknown kind",
                format!(
                    "The cluster does not serve {} {}, so {} cannot be applied.",
                    object
                        .get("apiVersion")
                        .and_then(Json::as_str)
                        .unwrap_or(""),
                    object.get("kind").and_then(Json::as_str).unwrap_or(""),
                    describe(object)
                ),
            )
            .into());
        };
        let applied = api
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(object),
            )
            .await
            .map_err(|e| api_error("Applying", &describe(object), &e))?;
        serde_json::to_value(&applied).map_err(|e| invalid(&describe(object), e))
    }

    /// Applies an object; with `recreate` (the release's `force_update`,
    /// Helm's `--force`), an object the API server refuses to change in
    /// place (422, e.g. an immutable field) is deleted and created again.
    pub(crate) async fn apply_or_recreate(
        &self,
        object: &Json,
        namespace: &str,
        recreate: bool,
    ) -> Result<Json, Diagnostics> {
        let Some((api, name)) = self.api_for(object, namespace).await? else {
            // Unknown kind: let `apply` report it.
            return self.apply(object, namespace).await;
        };
        let params = PatchParams::apply(FIELD_MANAGER).force();
        match api.patch(&name, &params, &Patch::Apply(object)).await {
            Ok(applied) => {
                serde_json::to_value(&applied).map_err(|e| invalid(&describe(object), e))
            }
            Err(kube::Error::Api(s)) if recreate && s.code == 422 => {
                self.delete(object, namespace).await?;
                self.apply(object, namespace).await
            }
            Err(e) => Err(api_error("Applying", &describe(object), &e)),
        }
    }

    /// Deletes an object; one already gone is fine.
    pub(crate) async fn delete(&self, object: &Json, namespace: &str) -> Result<(), Diagnostics> {
        let Some((api, name)) = self.api_for(object, namespace).await? else {
            return Ok(());
        };
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(api_error("Deleting", &describe(object), &e)),
        }
    }

    async fn get(&self, object: &Json, namespace: &str) -> Result<Option<Json>, Diagnostics> {
        let Some((api, name)) = self.api_for(object, namespace).await? else {
            return Ok(None);
        };
        match api.get_opt(&name).await {
            Ok(found) => found
                .map(|o| serde_json::to_value(&o).map_err(|e| invalid(&describe(object), e)))
                .transpose(),
            Err(e) => Err(api_error("Reading", &describe(object), &e)),
        }
    }

    /// Creates an object unless it exists (Helm installs the CRDs of a
    /// chart's `crds/` only when they are missing).
    pub(crate) async fn create_if_absent(
        &self,
        object: &Json,
        namespace: &str,
    ) -> Result<(), Diagnostics> {
        if self.get(object, namespace).await?.is_none() {
            self.apply(object, namespace).await?;
        }
        Ok(())
    }

    /// Waits until a Deployment, StatefulSet, DaemonSet or (with `jobs`)
    /// Job reports itself ready, up to `timeout`.
    pub(crate) async fn wait_for(
        &self,
        object: &Json,
        namespace: &str,
        timeout: Duration,
        jobs: bool,
    ) -> Result<(), Diagnostics> {
        let kind = object.get("kind").and_then(Json::as_str).unwrap_or("");
        if !readiness::is_waited_for(kind, jobs) {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(live) = self.get(object, namespace).await? {
                if readiness::is_ready(kind, &live) {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Diagnostic::error(
                    "Release not ready",
                    format!(
                        "{} did not become ready within {} seconds.",
                        describe(object),
                        timeout.as_secs()
                    ),
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Helm's `lookup`: one object, or a `List` of every object of the kind
    /// when `name` is empty (in every namespace when `namespace` is empty).
    pub(crate) async fn lookup(&self, req: &LookupRequest) -> Result<Option<Json>, String> {
        let Some((resource, scope)) = self
            .resource(&req.api_version, &req.kind)
            .await
            .map_err(|d| format!("{d:?}"))?
        else {
            return Err(format!(
                "the cluster does not serve {} {}",
                req.api_version, req.kind
            ));
        };
        let api: Api<DynamicObject> = match (&scope, req.namespace.as_str()) {
            (Scope::Namespaced, ns) if !ns.is_empty() => {
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        };
        let to_json = |o: &DynamicObject| serde_json::to_value(o).map_err(|e| e.to_string());
        if req.name.is_empty() {
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let items = list
                .items
                .iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Some(serde_json::json!({
                "apiVersion": req.api_version,
                "kind": format!("{}List", req.kind),
                "metadata": {},
                "items": items,
            })));
        }
        match api.get_opt(&req.name).await {
            Ok(found) => found.as_ref().map(to_json).transpose(),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Creates the namespace when it does not exist.
    pub(crate) async fn ensure_namespace(&self, name: &str) -> Result<(), Diagnostics> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        if api
            .get_opt(name)
            .await
            .map_err(|e| api_error("Reading", &format!("namespace {name:?}"), &e))?
            .is_some()
        {
            return Ok(());
        }
        let mut ns = Namespace::default();
        ns.metadata.name = Some(name.to_string());
        match api.create(&PostParams::default(), &ns).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(api_error("Creating", &format!("namespace {name:?}"), &e)),
        }
    }

    fn secrets(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Every stored revision of a release, oldest first.
    pub(crate) async fn records(
        &self,
        name: &str,
        namespace: &str,
    ) -> Result<Vec<Release>, Diagnostics> {
        let list = self
            .secrets(namespace)
            .list(&ListParams::default().labels(&release::release_selector(name)))
            .await
            .map_err(|e| api_error("Listing", &format!("release records of {name:?}"), &e))?;
        let mut out = Vec::new();
        for secret in list.items {
            let json = serde_json::to_value(&secret)
                .map_err(|e| invalid(&format!("release record of {name:?}"), e))?;
            let r = release::release_from_secret(&json)
                .map_err(|e| invalid(&format!("release record of {name:?}"), e))?;
            out.push(r);
        }
        out.sort_by_key(|r| r.version);
        Ok(out)
    }

    /// Writes a release record (`created` chooses create over replace).
    pub(crate) async fn write_record(
        &self,
        record: &Release,
        unix_now: i64,
        created: bool,
    ) -> Result<(), Diagnostics> {
        let what = format!(
            "release record {}",
            release::secret_name(&record.name, record.version)
        );
        let json =
            release::release_secret(record, unix_now, created).map_err(|e| invalid(&what, e))?;
        let secret: Secret = serde_json::from_value(json).map_err(|e| invalid(&what, e))?;
        let api = self.secrets(&record.namespace);
        let name = release::secret_name(&record.name, record.version);
        if created {
            api.create(&PostParams::default(), &secret)
                .await
                .map_err(|e| api_error("Creating", &what, &e))?;
        } else {
            let mut current = api
                .get(&name)
                .await
                .map_err(|e| api_error("Reading", &what, &e))?;
            current.metadata.labels = secret.metadata.labels;
            current.data = secret.data;
            api.replace(&name, &PostParams::default(), &current)
                .await
                .map_err(|e| api_error("Updating", &what, &e))?;
        }
        Ok(())
    }

    /// Deletes one release record.
    pub(crate) async fn delete_record(
        &self,
        name: &str,
        namespace: &str,
        revision: i64,
    ) -> Result<(), Diagnostics> {
        let secret = release::secret_name(name, revision);
        match self
            .secrets(namespace)
            .delete(&secret, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(api_error(
                "Deleting",
                &format!("release record {secret}"),
                &e,
            )),
        }
    }
}

/// Answers template `lookup` calls from the cluster. Rendering runs on a
/// blocking thread, which may wait for the async client.
pub(crate) struct ClusterLookup {
    pub(crate) cluster: std::sync::Arc<ReleaseCluster>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl meshform_helm::Lookup for ClusterLookup {
    fn lookup(&self, request: &LookupRequest) -> Result<Option<Json>, String> {
        self.runtime.block_on(self.cluster.lookup(request))
    }
}

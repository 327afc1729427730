//! `kubernetes_namespace` (and `_v1`): a cluster-scoped Namespace whose id
//! is its name. Deleting waits until the API server has finished removing
//! it (and its objects).

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use meshform_lang::{Diagnostics, Value};
use serde_json::{json, Value as Json};

use super::values::{attr_json, boolean, metadata, metadata_state, object_meta, string, timeout};
use super::{api_error, is_not_found};

fn name_of(state: &Value) -> String {
    string(&metadata(state), "name")
        .filter(|s| !s.is_empty())
        .or_else(|| string(state, "id"))
        .unwrap_or_default()
}

fn state_json(ns: &Namespace, settings: &Value) -> Json {
    json!({
        "id": ns.metadata.name.clone().unwrap_or_default(),
        "metadata": metadata_state(&ns.metadata, false, settings),
        "timeouts": attr_json(settings, "timeouts"),
        "wait_for_default_service_account": settings
            .get_attr("wait_for_default_service_account")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Creates or updates the namespace to match `planned`.
pub async fn apply(
    client: kube::Client,
    planned: &Value,
    create: bool,
) -> Result<Json, Diagnostics> {
    let api: Api<Namespace> = Api::all(client);
    let wanted = object_meta(planned, false);
    let name = name_of(planned);
    let ns = if create {
        let object = Namespace {
            metadata: wanted,
            ..Namespace::default()
        };
        api.create(&PostParams::default(), &object)
            .await
            .map_err(|e| api_error("Creating", &format!("namespace {name:?}"), &e))?
    } else {
        let mut current = api
            .get(&name)
            .await
            .map_err(|e| api_error("Reading", &format!("namespace {name:?}"), &e))?;
        current.metadata.labels = wanted.labels;
        current.metadata.annotations = wanted.annotations;
        api.replace(&name, &PostParams::default(), &current)
            .await
            .map_err(|e| api_error("Updating", &format!("namespace {name:?}"), &e))?
    };
    if create && boolean(planned, "wait_for_default_service_account") == Some(true) {
        wait_for_default_service_account(api.into_client(), &name).await?;
    }
    Ok(state_json(&ns, planned))
}

/// Waits (up to the provider's one-minute limit) until the service account
/// controller has made the namespace's `default` ServiceAccount.
async fn wait_for_default_service_account(
    client: kube::Client,
    name: &str,
) -> Result<(), Diagnostics> {
    let accounts: Api<ServiceAccount> = Api::namespaced(client, name);
    for _ in 0..600 {
        match accounts.get_opt("default").await {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                return Err(api_error(
                    "Reading",
                    &format!("the default service account of namespace {name:?}"),
                    &e,
                ))
            }
        }
    }
    Err(meshform_lang::Diagnostic::error(
        "Error while creating",
        format!("Namespace {name:?} got no default service account within a minute."),
    )
    .into())
}

/// Reads the namespace; `None` when it is gone.
pub async fn read(client: kube::Client, state: &Value) -> Result<Option<Json>, Diagnostics> {
    let api: Api<Namespace> = Api::all(client);
    let name = name_of(state);
    match api.get(&name).await {
        Ok(ns) => Ok(Some(state_json(&ns, state))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("Reading", &format!("namespace {name:?}"), &e)),
    }
}

/// Deletes the namespace and waits until it is gone.
pub async fn delete(client: kube::Client, state: &Value) -> Result<(), Diagnostics> {
    let api: Api<Namespace> = Api::all(client);
    let name = name_of(state);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(api_error("Deleting", &format!("namespace {name:?}"), &e)),
    }
    // Namespaces terminate asynchronously: poll until gone or the delete
    // timeout (five minutes unless the `timeouts` block says otherwise).
    let limit = timeout(state, "delete", Duration::from_secs(300));
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match api.get_opt(&name).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Ok(Some(_)) => {
                return Err(meshform_lang::Diagnostic::error(
                    "Error while deleting",
                    format!(
                        "Namespace {name:?} was still terminating after {}.",
                        humantime::format_duration(limit)
                    ),
                )
                .into())
            }
            Err(e) => return Err(api_error("Deleting", &format!("namespace {name:?}"), &e)),
        }
    }
}

/// The state an import starts from: the id is the namespace name.
pub fn import_seed(id: &str) -> Result<Json, Diagnostics> {
    Ok(json!({ "id": id, "metadata": [{ "name": id }] }))
}

//! `kubernetes_secret` (and `_v1`): `data` holds text values (stored
//! base64-encoded by the API server), `binary_data` base64 values given as
//! such; both are sensitive. Read keeps in `binary_data` only the keys the
//! configuration put there, so that a value changed in the cluster shows
//! up as a difference in `data` and plans an in-place update.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, PostParams};
use meshform_lang::{Diagnostic, Diagnostics, Value};
use serde_json::{json, Value as Json};

use super::values::{
    attr_json, boolean, metadata, metadata_state, object_meta, string, string_map, timeout,
};
use super::{api_error, is_not_found, split_namespaced_id, StringMap};

/// Namespace and name of the object a state or plan describes.
pub(crate) fn namespaced_name(state: &Value) -> (String, String) {
    let m = metadata(state);
    let from_id = string(state, "id").and_then(|id| split_namespaced_id(&id).ok());
    let ns = string(&m, "namespace")
        .filter(|s| !s.is_empty())
        .or_else(|| from_id.as_ref().map(|(ns, _)| ns.clone()))
        .unwrap_or_else(|| "default".into());
    let name = string(&m, "name")
        .filter(|s| !s.is_empty())
        .or_else(|| from_id.map(|(_, n)| n))
        .unwrap_or_default();
    (ns, name)
}

fn decode_binary(values: &StringMap) -> Result<Vec<(String, ByteString)>, Diagnostics> {
    values
        .iter()
        .map(|(k, v)| {
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|bytes| (k.clone(), ByteString(bytes)))
                .map_err(|_| {
                    Diagnostic::error(
                        "Invalid binary_data value",
                        format!("The binary_data value of key {k:?} is not valid base64."),
                    )
                    .into()
                })
        })
        .collect()
}

fn state_json(secret: &Secret, settings: &Value) -> Json {
    let binary_keys: BTreeSet<String> = string_map(settings, "binary_data")
        .map(|m| m.into_keys().collect())
        .unwrap_or_default();
    let mut data = serde_json::Map::new();
    let mut binary = serde_json::Map::new();
    for (k, v) in secret.data.iter().flatten() {
        if binary_keys.contains(k) {
            binary.insert(
                k.clone(),
                json!(base64::engine::general_purpose::STANDARD.encode(&v.0)),
            );
        } else {
            data.insert(k.clone(), json!(String::from_utf8_lossy(&v.0)));
        }
    }
    let binary_data = match settings.get_attr("binary_data") {
        Some(b) if !b.is_null() => Json::Object(binary),
        _ => Json::Null,
    };
    json!({
        "binary_data": binary_data,
        "data": data,
        "id": format!(
            "{}/{}",
            secret.metadata.namespace.clone().unwrap_or_default(),
            secret.metadata.name.clone().unwrap_or_default()
        ),
        "immutable": secret.immutable.unwrap_or(false),
        "metadata": metadata_state(&secret.metadata, true, settings),
        "timeouts": attr_json(settings, "timeouts"),
        "type": secret.type_.clone().unwrap_or_else(|| "Opaque".into()),
        "wait_for_service_account_token": boolean(settings, "wait_for_service_account_token").unwrap_or(true),
    })
}

fn desired(planned: &Value) -> Result<Secret, Diagnostics> {
    let mut data: std::collections::BTreeMap<String, ByteString> = string_map(planned, "data")
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, ByteString(v.into_bytes())))
        .collect();
    if let Some(binary) = string_map(planned, "binary_data") {
        data.extend(decode_binary(&binary)?);
    }
    Ok(Secret {
        metadata: object_meta(planned, true),
        data: Some(data),
        type_: string(planned, "type").filter(|t| !t.is_empty()),
        immutable: boolean(planned, "immutable").filter(|i| *i),
        ..Secret::default()
    })
}

/// Creates or updates the secret to match `planned`.
pub async fn apply(
    client: kube::Client,
    planned: &Value,
    create: bool,
) -> Result<Json, Diagnostics> {
    let (ns, name) = namespaced_name(planned);
    let api: Api<Secret> = Api::namespaced(client, &ns);
    let what = format!("secret {ns}/{name}");
    let wanted = desired(planned)?;
    let mut secret = if create {
        api.create(&PostParams::default(), &wanted)
            .await
            .map_err(|e| api_error("Creating", &what, &e))?
    } else {
        let mut current = api
            .get(&name)
            .await
            .map_err(|e| api_error("Reading", &what, &e))?;
        current.metadata.labels = wanted.metadata.labels;
        current.metadata.annotations = wanted.metadata.annotations;
        current.data = wanted.data;
        current.string_data = None;
        current.immutable = wanted.immutable;
        api.replace(&name, &PostParams::default(), &current)
            .await
            .map_err(|e| api_error("Updating", &what, &e))?
    };
    let wait = boolean(planned, "wait_for_service_account_token").unwrap_or(true);
    if create && wait && secret.type_.as_deref() == Some("kubernetes.io/service-account-token") {
        // The token controller fills `data.token`; the provider waits up
        // to its create timeout (one minute unless configured).
        let deadline =
            tokio::time::Instant::now() + timeout(planned, "create", Duration::from_secs(60));
        while tokio::time::Instant::now() < deadline {
            if secret
                .data
                .as_ref()
                .is_some_and(|d| d.contains_key("token"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            secret = api
                .get(&name)
                .await
                .map_err(|e| api_error("Reading", &what, &e))?;
        }
    }
    Ok(state_json(&secret, planned))
}

/// Reads the secret; `None` when it is gone.
pub async fn read(client: kube::Client, state: &Value) -> Result<Option<Json>, Diagnostics> {
    let (ns, name) = namespaced_name(state);
    let api: Api<Secret> = Api::namespaced(client, &ns);
    match api.get(&name).await {
        Ok(s) => Ok(Some(state_json(&s, state))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("Reading", &format!("secret {ns}/{name}"), &e)),
    }
}

/// Deletes the secret.
pub async fn delete(client: kube::Client, state: &Value) -> Result<(), Diagnostics> {
    let (ns, name) = namespaced_name(state);
    let api: Api<Secret> = Api::namespaced(client, &ns);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(api_error("Deleting", &format!("secret {ns}/{name}"), &e)),
    }
}

/// The state an import starts from (`namespace/name`); shared by the
/// namespaced kinds.
pub fn import_seed(id: &str) -> Result<Json, Diagnostics> {
    let (ns, name) = split_namespaced_id(id)?;
    Ok(json!({ "id": format!("{ns}/{name}"), "metadata": [{ "name": name, "namespace": ns }] }))
}

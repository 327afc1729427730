//! `kubernetes_config_map` (and `_v1`): text `data` and base64
//! `binary_data`, neither sensitive.

use base64::Engine as _;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, PostParams};
use meshform_lang::{Diagnostic, Diagnostics, Value};
use serde_json::{json, Value as Json};

use super::secret::namespaced_name;
use super::values::{boolean, metadata_state, object_meta, string_map};
use super::{api_error, is_not_found};

fn non_empty<T: serde::Serialize>(m: &Option<std::collections::BTreeMap<String, T>>) -> Json {
    match m {
        Some(m) if !m.is_empty() => json!(m),
        _ => Json::Null,
    }
}

fn state_json(cm: &ConfigMap, settings: &Value) -> Json {
    let binary = cm.binary_data.as_ref().map(|m| {
        m.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    base64::engine::general_purpose::STANDARD.encode(&v.0),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    json!({
        "binary_data": non_empty(&binary),
        "data": non_empty(&cm.data),
        "id": format!(
            "{}/{}",
            cm.metadata.namespace.clone().unwrap_or_default(),
            cm.metadata.name.clone().unwrap_or_default()
        ),
        "immutable": cm.immutable.unwrap_or(false),
        "metadata": metadata_state(&cm.metadata, true, settings),
    })
}

fn desired(planned: &Value) -> Result<ConfigMap, Diagnostics> {
    let binary = match string_map(planned, "binary_data") {
        Some(m) => Some(
            m.into_iter()
                .map(|(k, v)| {
                    base64::engine::general_purpose::STANDARD
                        .decode(&v)
                        .map(|b| (k.clone(), ByteString(b)))
                        .map_err(|_| -> Diagnostics {
                            Diagnostic::error(
                                "Invalid binary_data value",
                                format!("The binary_data value of key {k:?} is not valid base64."),
                            )
                            .into()
                        })
                })
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    Ok(ConfigMap {
        metadata: object_meta(planned, true),
        data: string_map(planned, "data"),
        binary_data: binary,
        immutable: boolean(planned, "immutable").filter(|i| *i),
    })
}

/// Creates or updates the config map to match `planned`.
pub async fn apply(
    client: kube::Client,
    planned: &Value,
    create: bool,
) -> Result<Json, Diagnostics> {
    let (ns, name) = namespaced_name(planned);
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let what = format!("config map {ns}/{name}");
    let wanted = desired(planned)?;
    let cm = if create {
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
        current.binary_data = wanted.binary_data;
        current.immutable = wanted.immutable;
        api.replace(&name, &PostParams::default(), &current)
            .await
            .map_err(|e| api_error("Updating", &what, &e))?
    };
    Ok(state_json(&cm, planned))
}

/// Reads the config map; `None` when it is gone.
pub async fn read(client: kube::Client, state: &Value) -> Result<Option<Json>, Diagnostics> {
    let (ns, name) = namespaced_name(state);
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    match api.get(&name).await {
        Ok(cm) => Ok(Some(state_json(&cm, state))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error("Reading", &format!("config map {ns}/{name}"), &e)),
    }
}

/// Deletes the config map.
pub async fn delete(client: kube::Client, state: &Value) -> Result<(), Diagnostics> {
    let (ns, name) = namespaced_name(state);
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(api_error(
            "Deleting",
            &format!("config map {ns}/{name}"),
            &e,
        )),
    }
}

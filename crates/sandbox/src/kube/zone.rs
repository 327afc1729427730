//! Zone simulation: a kong-mesh control plane Deployment in zone mode
//! connects to its Konnect control plane with the token it read from its
//! Secret when it was rolled out, and mirrors the mesh policies into the
//! cluster as `kuma.io` custom resources, as a real zone would: the Mesh
//! under its own name, policies under Kuma's hashed names
//! ([`super::kuma_names`]); policies made in the zone (`kuma.io/origin:
//! zone`) go the other way, into Konnect. A zone scaled to 0 replicas is
//! offline and syncs nothing.
//!
//! The token is never stored: a rollout records only its SHA-256, which is
//! also how the Konnect side indexes the tokens it issued.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::kuma_names;
use super::registry::{self, ResourceType};
use super::{notify, stamp_new, Failure, API};
use crate::konnect;
use crate::store::Tx;
use crate::World;

const TOKEN_ENV: &str = "KMESH_MULTIZONE_ZONE_KDS_AUTH_CP_TOKEN_INLINE";
const CP_ENV: &str = "KMESH_MULTIZONE_ZONE_KONNECT_CP_ID";
const ZONE_ENV: &str = "KUMA_MULTIZONE_ZONE_NAME";
const MODE_ENV: &str = "KUMA_MODE";
const SYSTEM_NAMESPACE_ENV: &str = "KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE";
/// Where the token hash a Deployment rolled out with is remembered.
const ROLLOUTS: &str = "zone-rollouts";
const SYNCED_LABEL: &str = "kuma.io/origin";

/// One zone control plane found in the cluster.
struct ZoneDeployment {
    uid: String,
    namespace: String,
    cp_id: String,
    zone: String,
    system_namespace: String,
    template_hash: String,
    token: TokenSource,
    /// Replicas the Deployment asks for; 0 means the zone is stopped.
    replicas: i64,
}

enum TokenSource {
    Inline(String),
    Secret { name: String, key: String },
    Missing,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn zone_of(deployment: &Value) -> Option<ZoneDeployment> {
    let containers = deployment["spec"]["template"]["spec"]["containers"].as_array()?;
    for container in containers {
        let env = container["env"].as_array().cloned().unwrap_or_default();
        let value = |name: &str| {
            env.iter()
                .find(|e| e["name"] == name)
                .and_then(|e| e["value"].as_str())
                .map(str::to_string)
        };
        if value(MODE_ENV).as_deref() != Some("zone") {
            continue;
        }
        let cp_id = value(CP_ENV)?;
        let namespace = deployment["metadata"]["namespace"].as_str()?.to_string();
        let token = match env.iter().find(|e| e["name"] == TOKEN_ENV) {
            Some(e) if e["value"].is_string() => {
                TokenSource::Inline(e["value"].as_str().unwrap_or_default().to_string())
            }
            Some(e) => {
                let r = &e["valueFrom"]["secretKeyRef"];
                match (r["name"].as_str(), r["key"].as_str()) {
                    (Some(name), Some(key)) => TokenSource::Secret {
                        name: name.to_string(),
                        key: key.to_string(),
                    },
                    _ => TokenSource::Missing,
                }
            }
            None => TokenSource::Missing,
        };
        return Some(ZoneDeployment {
            uid: deployment["metadata"]["uid"].as_str()?.to_string(),
            system_namespace: value(SYSTEM_NAMESPACE_ENV).unwrap_or_else(|| namespace.clone()),
            namespace,
            cp_id,
            zone: value(ZONE_ENV).unwrap_or_else(|| "default".to_string()),
            template_hash: sha256_hex(&deployment["spec"]["template"].to_string()),
            token,
            replicas: deployment["spec"]["replicas"].as_i64().unwrap_or(1),
        });
    }
    None
}

/// The token hash a rollout reads now, or why there is none.
fn read_token_hash(t: &Tx<'_>, zone: &ZoneDeployment) -> Result<Result<String, String>, Failure> {
    Ok(match &zone.token {
        TokenSource::Inline(token) => Ok(sha256_hex(token)),
        TokenSource::Missing => Err(format!("the zone control plane has no {TOKEN_ENV}")),
        TokenSource::Secret { name, key } => match t.get(API, "secrets", &zone.namespace, name)? {
            None => Err(format!("secret {}/{name} does not exist", zone.namespace)),
            Some(secret) => match secret["data"][key.as_str()]
                .as_str()
                .map(|d| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, d))
            {
                Some(Ok(bytes)) => Ok(sha256_hex(&String::from_utf8_lossy(&bytes))),
                _ => Err(format!("secret {}/{name} has no key {key}", zone.namespace)),
            },
        },
    })
}

/// Whether a token (by hash) lets a zone connect to `cp_id`: issued here,
/// unexpired, and its account holds a role on that mesh control plane.
fn authorize(t: &Tx<'_>, token_hash: &str, cp_id: &str) -> Result<Result<(), String>, Failure> {
    if t.get(konnect::API, konnect::control_planes::KIND, "", cp_id)?
        .is_none()
    {
        return Ok(Err(format!("control plane {cp_id} does not exist")));
    }
    let Some(index) = t.get(konnect::API, konnect::TOKEN_INDEX, "", token_hash)? else {
        return Ok(Err(
            "the zone token is not a token Konnect issued (or it was revoked)".into(),
        ));
    };
    let account = index["account_id"].as_str().unwrap_or_default();
    let token_id = index["token_id"].as_str().unwrap_or_default();
    let Some(token) = t.get(konnect::API, "access-tokens", account, token_id)? else {
        return Ok(Err("the zone token was revoked".into()));
    };
    let expired = token["expires_at"]
        .as_str()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|e| e <= t.now());
    if expired {
        return Ok(Err("the zone token expired".into()));
    }
    let allowed = t
        .list(konnect::API, "assigned-roles", Some(account))?
        .iter()
        .any(|r| {
            r.body["entity_type_name"] == "Mesh Control Planes"
                && (r.body["entity_id"] == cp_id || r.body["entity_id"] == "*")
        });
    if !allowed {
        return Ok(Err(format!(
            "the token's system account has no role on mesh control plane {cp_id}"
        )));
    }
    Ok(Ok(()))
}

/// Brings zones and mirrored policies in line with the world.
pub fn reconcile(world: &World) -> Result<(), Failure> {
    world.store.tx(|t| {
        let types = registry::all_types(t)?;
        let mut seen: Vec<(String, String)> = Vec::new();
        for row in t.list(API, "deployments.apps", None)? {
            let Some(zone) = zone_of(&row.body) else { continue };
            seen.push((zone.cp_id.clone(), zone.zone.clone()));
            let rollout = t.get(konnect::API, ROLLOUTS, "", &zone.uid)?;
            let token_hash = match rollout.filter(|r| r["template"] == zone.template_hash.as_str()) {
                Some(r) => match r["token"].as_str() {
                    Some(h) => Ok(h.to_string()),
                    None => Err(r["error"].as_str().unwrap_or("no token").to_string()),
                },
                None => {
                    let read = read_token_hash(t, &zone)?;
                    let record = match &read {
                        Ok(h) => json!({"template": zone.template_hash, "token": h}),
                        Err(e) => json!({"template": zone.template_hash, "error": e}),
                    };
                    t.put(konnect::API, ROLLOUTS, "", &zone.uid, &record)?;
                    read
                }
            };
            let mut verdict = match token_hash {
                Ok(_) if zone.replicas <= 0 => {
                    Err("the zone control plane is scaled to 0 replicas".to_string())
                }
                Ok(hash) => authorize(t, &hash, &zone.cp_id)?,
                Err(e) => Err(e),
            };
            if verdict.is_ok() {
                verdict = sync(world, t, &types, &zone)?;
            }
            let online = verdict.is_ok();
            let reason = verdict.err();
            t.put(
                konnect::API,
                konnect::ZONES,
                &zone.cp_id,
                &zone.zone,
                &json!({"online": online, "reason": reason, "source": "cluster"}),
            )?;
        }
        for z in t.list(konnect::API, konnect::ZONES, None)? {
            let from_cluster = z.body["source"] == "cluster";
            if from_cluster && !seen.contains(&(z.scope.clone(), z.name.clone())) && z.body["online"] == true {
                t.put(
                    konnect::API,
                    konnect::ZONES,
                    &z.scope,
                    &z.name,
                    &json!({"online": false, "reason": "the zone control plane is not running", "source": "cluster"}),
                )?;
            }
        }
        Ok(())
    })
}

/// One exchange of the zone with its global control plane: the Mesh and
/// the policies come down, the zone's own policies go up. `Err(reason)`
/// when the zone's store refuses a synced object, which breaks Kuma's sync
/// stream (the zone disconnects and nothing of that type is stored).
fn sync(
    world: &World,
    t: &Tx<'_>,
    types: &[ResourceType],
    zone: &ZoneDeployment,
) -> Result<Result<(), String>, Failure> {
    if let Some(ty) = types
        .iter()
        .find(|ty| ty.group == KUMA_GROUP && ty.kind == "Mesh" && !ty.namespaced)
    {
        let wanted: Vec<Synced> = t
            .list(konnect::API, "meshes", Some(&zone.cp_id))?
            .into_iter()
            .map(|mesh| mesh_object(mesh.name, mesh.body))
            .collect();
        mirror(world, t, ty, "", wanted)?;
    }
    for ty in types
        .iter()
        .filter(|ty| ty.group == KUMA_GROUP && ty.namespaced)
    {
        let wanted = policies_for_zone(t, ty, zone)?;
        if let Some(bad) = wanted
            .iter()
            .find_map(|w| kuma_names::invalid_object_name(&w.name).map(|why| (w, why)))
        {
            let (w, why) = bad;
            return Ok(Err(format!(
                "failed to store {kind} resources: {kind}.kuma.io \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": {why}",
                kind = ty.kind,
                name = w.name
            )));
        }
        mirror(world, t, ty, &zone.system_namespace, wanted)?;
        push_zone_policies(t, ty, zone)?;
    }
    Ok(Ok(()))
}

const KUMA_GROUP: &str = "kuma.io";
const DISPLAY_NAME_LABEL: &str = "kuma.io/display-name";
const MESH_LABEL: &str = "kuma.io/mesh";
const ZONE_LABEL: &str = "kuma.io/zone";
const NAMESPACE_LABEL: &str = "k8s.kuma.io/namespace";

/// An object global wants in the zone.
struct Synced {
    name: String,
    labels: Value,
    spec: Value,
}

fn string_labels(value: &Value) -> Map<String, Value> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A Konnect mesh as the zone stores it: a cluster-scoped `Mesh` under the
/// same name (Kuma does not hash mesh names), its fields under `spec`.
fn mesh_object(name: String, body: Value) -> Synced {
    let mut labels = string_labels(&body["labels"]);
    labels.insert(SYNCED_LABEL.into(), json!("global"));
    let mut spec = body;
    if let Some(m) = spec.as_object_mut() {
        for key in ["type", "name", "labels", "creationTime", "modificationTime"] {
            m.remove(key);
        }
    }
    Synced {
        name,
        labels: Value::Object(labels),
        spec,
    }
}

/// The policies of one kind the zone's control plane holds in Konnect,
/// named as Kuma names them in a zone. Policies that came from a zone stay
/// in Konnect.
fn policies_for_zone(
    t: &Tx<'_>,
    ty: &ResourceType,
    zone: &ZoneDeployment,
) -> Result<Vec<Synced>, Failure> {
    let prefix = format!("{}/", zone.cp_id);
    let mut wanted = Vec::new();
    for policy in t.list(konnect::API, &ty.plural, None)? {
        let Some(mesh) = policy.scope.strip_prefix(&prefix) else {
            continue;
        };
        let mut labels = string_labels(&policy.body["labels"]);
        if labels.get(SYNCED_LABEL).and_then(Value::as_str) == Some("zone") {
            continue;
        }
        let display = labels
            .get(DISPLAY_NAME_LABEL)
            .and_then(Value::as_str)
            .unwrap_or(&policy.name)
            .to_string();
        let extra: Vec<String> = [ZONE_LABEL, NAMESPACE_LABEL]
            .iter()
            .filter_map(|l| labels.get(*l).and_then(Value::as_str).map(str::to_string))
            .collect();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        labels.insert(MESH_LABEL.into(), json!(mesh));
        labels.insert(SYNCED_LABEL.into(), json!("global"));
        labels.insert(DISPLAY_NAME_LABEL.into(), json!(display));
        wanted.push(Synced {
            name: kuma_names::hashed_name(mesh, &display, &extra),
            labels: Value::Object(labels),
            spec: policy.body["spec"].clone(),
        });
    }
    Ok(wanted)
}

/// Makes the objects of `ty` synced from global in `namespace` exactly
/// `wanted`: creates, updates and removes them, notifying watchers.
fn mirror(
    world: &World,
    t: &Tx<'_>,
    ty: &ResourceType,
    namespace: &str,
    wanted: Vec<Synced>,
) -> Result<(), Failure> {
    let names: Vec<String> = wanted.iter().map(|w| w.name.clone()).collect();
    for item in wanted {
        let existing = t.get(API, &ty.collection(), namespace, &item.name)?;
        if existing
            .as_ref()
            .is_some_and(|e| e["spec"] == item.spec && e["metadata"]["labels"] == item.labels)
        {
            continue;
        }
        let mut metadata = json!({"name": item.name, "labels": item.labels});
        if ty.namespaced {
            metadata["namespace"] = json!(namespace);
        }
        let mut object = json!({
            "apiVersion": ty.api_version(), "kind": ty.kind,
            "metadata": metadata, "spec": item.spec,
        });
        let event = match existing {
            Some(e) => {
                for key in ["uid", "creationTimestamp"] {
                    object["metadata"][key] = e["metadata"][key].clone();
                }
                object["metadata"]["generation"] =
                    json!(e["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
                object["metadata"]["resourceVersion"] = json!(super::next_rv(t)?);
                "MODIFIED"
            }
            None => {
                stamp_new(t, ty, &mut object)?;
                "ADDED"
            }
        };
        t.put(API, &ty.collection(), namespace, &item.name, &object)?;
        notify(world, ty, namespace, event, &object);
    }
    for row in t.list(API, &ty.collection(), Some(namespace))? {
        let synced = row.body["metadata"]["labels"][SYNCED_LABEL] == "global";
        if synced && !names.contains(&row.name) {
            t.delete(API, &ty.collection(), namespace, &row.name)?;
            super::notify_deleted(world, t, ty, namespace, &row.body)?;
        }
    }
    Ok(())
}

/// Sends the zone's own policies of `ty` (any namespace, not synced from
/// global) to Konnect under Kuma's zone-to-global names, and removes from
/// Konnect those of this zone that are gone.
fn push_zone_policies(t: &Tx<'_>, ty: &ResourceType, zone: &ZoneDeployment) -> Result<(), Failure> {
    if !konnect::is_mesh_scoped_kind(&ty.plural) {
        return Ok(());
    }
    let now = konnect::rfc3339_nano(t.now());
    let mut pushed: Vec<(String, String)> = Vec::new();
    for row in t.list(API, &ty.collection(), None)? {
        let meta = &row.body["metadata"];
        let mut labels = string_labels(&meta["labels"]);
        if labels.get(SYNCED_LABEL).and_then(Value::as_str) == Some("global") {
            continue;
        }
        let mesh = labels
            .get(MESH_LABEL)
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        if t.get(konnect::API, "meshes", &zone.cp_id, &mesh)?.is_none() {
            continue;
        }
        let namespace = row.scope.clone();
        let name = kuma_names::hashed_name(&mesh, &row.name, &[&zone.zone, &namespace]);
        labels.insert(MESH_LABEL.into(), json!(mesh));
        labels.insert(SYNCED_LABEL.into(), json!("zone"));
        labels.insert(ZONE_LABEL.into(), json!(zone.zone));
        labels.insert(NAMESPACE_LABEL.into(), json!(namespace));
        labels.insert(DISPLAY_NAME_LABEL.into(), json!(row.name));
        let scope = format!("{}/{mesh}", zone.cp_id);
        let existing = t.get(konnect::API, &ty.plural, &scope, &name)?;
        let labels = Value::Object(labels);
        pushed.push((scope.clone(), name.clone()));
        if existing
            .as_ref()
            .is_some_and(|e| e["spec"] == row.body["spec"] && e["labels"] == labels)
        {
            continue;
        }
        let created = existing
            .as_ref()
            .map_or_else(|| json!(now), |e| e["creationTime"].clone());
        let body = json!({
            "type": ty.kind, "mesh": mesh, "name": name,
            "creationTime": created, "modificationTime": now,
            "labels": labels, "spec": row.body["spec"],
        });
        t.put(konnect::API, &ty.plural, &scope, &name, &body)?;
    }
    let prefix = format!("{}/", zone.cp_id);
    for row in t.list(konnect::API, &ty.plural, None)? {
        let ours = row.scope.starts_with(&prefix)
            && row.body["labels"][SYNCED_LABEL] == "zone"
            && row.body["labels"][ZONE_LABEL] == zone.zone.as_str();
        if ours && !pushed.contains(&(row.scope.clone(), row.name.clone())) {
            t.delete(konnect::API, &ty.plural, &row.scope, &row.name)?;
        }
    }
    Ok(())
}

/// System namespaces of the zone control planes running in the cluster.
pub fn zone_system_namespaces(t: &Tx<'_>) -> Result<Vec<(String, String)>, Failure> {
    Ok(t.list(API, "deployments.apps", None)?
        .iter()
        .filter_map(|row| zone_of(&row.body))
        .filter(|z| z.replicas > 0)
        .map(|z| (z.system_namespace, z.zone))
        .collect())
}

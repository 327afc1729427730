//! Zone simulation: a kong-mesh control plane Deployment in zone mode
//! connects to its Konnect control plane with the token it read from its
//! Secret when it was rolled out, and mirrors the mesh policies into the
//! cluster as `kuma.io` custom resources, as a real zone would.
//!
//! The token is never stored: a rollout records only its SHA-256, which is
//! also how the Konnect side indexes the tokens it issued.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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

/// The name Kuma gives a resource synced from the global control plane:
/// `<name>-<hash>` with a hash of mesh and name in Kuma's safe alphabet.
pub fn synced_name(mesh: &str, name: &str) -> String {
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{mesh}/{name}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let suffix: String = (0..16)
        .map(|i| {
            let digit = ((hash >> (i * 4)) & 0xf) as usize;
            char::from(SAFE[digit])
        })
        .collect();
    format!("{name}-{suffix}")
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
            let verdict = match token_hash {
                Ok(hash) => authorize(t, &hash, &zone.cp_id)?,
                Err(e) => Err(e),
            };
            let online = verdict.is_ok();
            let reason = verdict.err();
            t.put(
                konnect::API,
                konnect::ZONES,
                &zone.cp_id,
                &zone.zone,
                &json!({"online": online, "reason": reason, "source": "cluster"}),
            )?;
            if online {
                mirror(world, t, &types, &zone)?;
            }
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

/// Copies every policy of the zone's control plane into the cluster and
/// removes mirrored ones that no longer exist in Konnect.
fn mirror(
    world: &World,
    t: &Tx<'_>,
    types: &[ResourceType],
    zone: &ZoneDeployment,
) -> Result<(), Failure> {
    let prefix = format!("{}/", zone.cp_id);
    for ty in types
        .iter()
        .filter(|ty| ty.group == "kuma.io" && ty.namespaced)
    {
        let mut wanted = Vec::new();
        for policy in t.list(konnect::API, &ty.plural, None)? {
            if !policy.scope.starts_with(&prefix) {
                continue;
            }
            let mesh = policy.scope.trim_start_matches(&prefix).to_string();
            let name = synced_name(&mesh, &policy.name);
            let mut labels = policy.body["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            labels["kuma.io/mesh"] = json!(mesh);
            labels[SYNCED_LABEL] = json!("global");
            labels["kuma.io/display-name"] = json!(policy.name);
            let spec = policy.body["spec"].clone();
            wanted.push(name.clone());
            let existing = t.get(API, &ty.collection(), &zone.system_namespace, &name)?;
            if existing
                .as_ref()
                .is_some_and(|e| e["spec"] == spec && e["metadata"]["labels"] == labels)
            {
                continue;
            }
            let mut object = json!({
                "apiVersion": ty.api_version(), "kind": ty.kind,
                "metadata": {"name": name, "namespace": zone.system_namespace, "labels": labels},
                "spec": spec,
            });
            let event = match existing {
                Some(e) => {
                    object["metadata"]["uid"] = e["metadata"]["uid"].clone();
                    object["metadata"]["creationTimestamp"] =
                        e["metadata"]["creationTimestamp"].clone();
                    object["metadata"]["generation"] =
                        json!(e["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
                    object["metadata"]["resourceVersion"] =
                        json!(t.next_counter(super::RV_COUNTER)?.to_string());
                    "MODIFIED"
                }
                None => {
                    stamp_new(t, ty, &mut object)?;
                    "ADDED"
                }
            };
            t.put(
                API,
                &ty.collection(),
                &zone.system_namespace,
                &name,
                &object,
            )?;
            notify(world, ty, &zone.system_namespace, event, &object);
        }
        for row in t.list(API, &ty.collection(), Some(&zone.system_namespace))? {
            let synced = row.body["metadata"]["labels"][SYNCED_LABEL] == "global";
            if synced && !wanted.contains(&row.name) {
                t.delete(API, &ty.collection(), &zone.system_namespace, &row.name)?;
                notify(world, ty, &zone.system_namespace, "DELETED", &row.body);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_names_are_stable_and_distinct() {
        let a = synced_name("mesh1", "allow-all");
        assert!(
            a.starts_with("allow-all-") && a.len() == "allow-all-".len() + 16,
            "{a}"
        );
        assert_eq!(a, synced_name("mesh1", "allow-all"));
        assert_ne!(a, synced_name("mesh2", "allow-all"));
    }
}

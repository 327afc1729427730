//! Helm 3 release records and the pure parts of installing: the release
//! JSON, its storage Secret (`sh.helm.release.v1.<name>.v<revision>`, type
//! `helm.sh/release.v1`, `data.release` = base64 of gzip of the JSON), the
//! ownership metadata Helm puts on every object, and the order objects are
//! applied in. Talking to a cluster is the caller's job.

use std::io::{Read, Write};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::chart::{Chart, Metadata};
use crate::error::HelmError;
use crate::manifest::{self, Hook, HookEvent, Manifest};
use crate::values::Values;
use crate::Rendered;

/// Release status, as Helm spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }
}

/// `release.info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(default)]
    pub first_deployed: String,
    #[serde(default)]
    pub last_deployed: String,
    /// Always written, "" when the release is not deleted.
    #[serde(default)]
    pub deleted: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// A file of the stored chart (data base64 in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub name: String,
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

/// `release.chart`: only the top chart is stored (no subcharts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartRecord {
    pub metadata: Metadata,
    pub lock: Option<Value>,
    pub templates: Option<Vec<FileRecord>>,
    pub values: Option<Values>,
    #[serde(with = "b64_opt")]
    pub schema: Option<Vec<u8>>,
    pub files: Option<Vec<FileRecord>>,
}

/// When a hook last ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookRun {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub started_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub completed_at: String,
    #[serde(default)]
    pub phase: String,
}

/// A hook as stored in the release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookRun,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete_policies: Vec<String>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A Helm 3 release record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    pub info: Info,
    pub chart: ChartRecord,
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub config: Values,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    pub version: i64,
    pub namespace: String,
}

/// Builds the record Helm writes for `rendered` as revision `revision`.
/// `now` is RFC 3339 with nanoseconds (Go's `time.Time` JSON form).
pub fn build_release(
    name: &str,
    namespace: &str,
    revision: i64,
    rendered: &Rendered,
    status: Status,
    description: &str,
    now: &str,
) -> Release {
    Release {
        name: name.to_string(),
        info: Info {
            first_deployed: now.to_string(),
            last_deployed: now.to_string(),
            deleted: String::new(),
            description: description.to_string(),
            status,
            notes: rendered.notes.clone(),
        },
        chart: chart_record(&rendered.chart),
        config: rendered.config.clone(),
        manifest: rendered.manifest(),
        hooks: rendered.hooks.iter().map(hook_record).collect(),
        version: revision,
        namespace: namespace.to_string(),
    }
}

/// The record of an upgrade of `previous`: the next revision, the first
/// deployment time kept, everything else from `rendered`.
pub fn build_upgrade(
    previous: &Release,
    rendered: &Rendered,
    status: Status,
    description: &str,
    now: &str,
) -> Release {
    let mut next = build_release(
        &previous.name,
        &previous.namespace,
        previous.version + 1,
        rendered,
        status,
        description,
        now,
    );
    next.info.first_deployed = previous.info.first_deployed.clone();
    next
}

/// The record a rollback writes: revision `latest + 1` carrying the chart,
/// config, manifest and hooks of `target`, described as Helm does.
pub fn build_rollback(
    target: &Release,
    latest_revision: i64,
    status: Status,
    now: &str,
) -> Release {
    let mut r = target.clone();
    r.version = latest_revision + 1;
    r.info.status = status;
    r.info.last_deployed = now.to_string();
    r.info.deleted = String::new();
    r.info.description = format!("Rollback to {}", target.version);
    for h in &mut r.hooks {
        h.last_run = HookRun::default();
    }
    r
}

/// `previous` once a newer revision is deployed.
pub fn supersede(previous: &Release) -> Release {
    let mut r = previous.clone();
    r.info.status = Status::Superseded;
    r
}

/// The record as an uninstall leaves it (when history is kept).
pub fn mark_uninstalled(release: &Release, now: &str) -> Release {
    let mut r = release.clone();
    r.info.status = Status::Uninstalled;
    r.info.deleted = now.to_string();
    r.info.description = "Uninstallation complete".into();
    r
}

/// Which revisions to delete so that at most `max_history` remain (0 keeps
/// all), oldest first and never the last deployed one, as Helm's storage
/// does after an upgrade. `records` are (revision, status).
pub fn prune_history(records: &[(i64, Status)], max_history: usize) -> Vec<i64> {
    if max_history == 0 || records.len() <= max_history {
        return Vec::new();
    }
    let mut sorted: Vec<(i64, Status)> = records.to_vec();
    sorted.sort_by_key(|(v, _)| *v);
    let last_deployed = sorted
        .iter()
        .rev()
        .find(|(_, s)| *s == Status::Deployed)
        .map(|(v, _)| *v);
    let mut delete = Vec::new();
    for (v, _) in &sorted {
        if sorted.len() - delete.len() == max_history {
            break;
        }
        if Some(*v) != last_deployed {
            delete.push(*v);
        }
    }
    delete
}

/// The stored form of the top chart: metadata (with dependencies marked
/// enabled), templates, its values coalesced with its subcharts' defaults,
/// schema and files.
pub fn chart_record(chart: &Chart) -> ChartRecord {
    let files: Vec<FileRecord> = chart
        .files
        .iter()
        .map(|f| FileRecord {
            name: f.name.clone(),
            data: f.data.clone(),
        })
        .collect();
    ChartRecord {
        metadata: chart.metadata.clone(),
        lock: chart.lock.clone(),
        templates: Some(
            chart
                .templates
                .iter()
                .map(|f| FileRecord {
                    name: f.name.clone(),
                    data: f.data.clone(),
                })
                .collect(),
        ),
        values: Some(crate::values::merge_defaults(chart, &Values::new())),
        schema: chart.schema.clone(),
        files: if files.is_empty() { None } else { Some(files) },
    }
}

fn hook_record(h: &Hook) -> HookRecord {
    HookRecord {
        name: h.name.clone(),
        kind: h.kind.clone(),
        path: h.path.clone(),
        manifest: h.manifest.clone(),
        events: h.events.iter().map(|e| e.as_str().to_string()).collect(),
        last_run: HookRun::default(),
        weight: h.weight,
        delete_policies: h.delete_policies.clone(),
    }
}

/// Helm's storage encoding: base64 of gzip (best compression) of the JSON.
pub fn encode_release(release: &Release) -> Result<String, HelmError> {
    let json = serde_json::to_vec(release).map_err(|e| HelmError::ReleaseRecord {
        message: e.to_string(),
    })?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).map_err(|e| HelmError::ReleaseRecord {
        message: e.to_string(),
    })?;
    let bytes = gz.finish().map_err(|e| HelmError::ReleaseRecord {
        message: e.to_string(),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes Helm's storage encoding (gzipped or plain JSON inside base64).
pub fn decode_release(encoded: &str) -> Result<Release, HelmError> {
    let bad = |message: String| HelmError::ReleaseRecord { message };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| bad(format!("not base64: {e}")))?;
    let json = if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("not gzip: {e}")))?;
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|e| bad(format!("not a release: {e}")))
}

/// The name of the Secret holding `revision` of release `name`.
pub fn secret_name(name: &str, revision: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{revision}")
}

/// The storage Secret as a Kubernetes object (`data` base64-encoded as on
/// the wire). `created` chooses the `createdAt` label (Create) over
/// `modifiedAt` (Update); `unix_now` is the label's value.
pub fn release_secret(release: &Release, unix_now: i64, created: bool) -> Result<Value, HelmError> {
    let encoded = encode_release(release)?;
    let mut labels = serde_json::Map::new();
    labels.insert("name".into(), json!(release.name));
    labels.insert("owner".into(), json!("helm"));
    labels.insert("status".into(), json!(release.info.status.as_str()));
    labels.insert("version".into(), json!(release.version.to_string()));
    labels.insert(
        if created { "createdAt" } else { "modifiedAt" }.into(),
        json!(unix_now.to_string()),
    );
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(&release.name, release.version),
            "namespace": release.namespace,
            "labels": labels,
        },
        "type": "helm.sh/release.v1",
        "data": { "release": base64::engine::general_purpose::STANDARD.encode(encoded) },
    }))
}

/// Reads a storage Secret (as returned by the API server) back into a release.
pub fn release_from_secret(secret: &Value) -> Result<Release, HelmError> {
    let wire = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or_else(|| HelmError::ReleaseRecord {
            message: "the Secret has no data.release".into(),
        })?;
    let inner = base64::engine::general_purpose::STANDARD
        .decode(wire)
        .map_err(|e| HelmError::ReleaseRecord {
            message: format!("data.release is not base64: {e}"),
        })?;
    decode_release(&String::from_utf8_lossy(&inner))
}

/// The label selector finding a release's records.
pub fn release_selector(name: &str) -> String {
    format!("name={name},owner=helm")
}

/// Adds what Helm puts on every object it creates: label
/// `app.kubernetes.io/managed-by: Helm` and annotations
/// `meta.helm.sh/release-name` / `meta.helm.sh/release-namespace`.
pub fn add_ownership(object: &mut Value, release: &str, namespace: &str) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let metadata = obj.entry("metadata").or_insert_with(|| json!({}));
    let Some(md) = metadata.as_object_mut() else {
        return;
    };
    let labels = md.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    if let Some(l) = labels.as_object_mut() {
        l.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
    }
    let annotations = md.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    if let Some(a) = annotations.as_object_mut() {
        a.insert("meta.helm.sh/release-name".into(), json!(release));
        a.insert("meta.helm.sh/release-namespace".into(), json!(namespace));
    }
}

/// Whether Helm considers `object` owned by the release (so it may be
/// adopted/updated instead of refused).
pub fn owned_by(object: &Value, release: &str, namespace: &str) -> bool {
    object
        .pointer("/metadata/labels/app.kubernetes.io~1managed-by")
        .and_then(Value::as_str)
        == Some("Helm")
        && object
            .pointer("/metadata/annotations/meta.helm.sh~1release-name")
            .and_then(Value::as_str)
            == Some(release)
        && object
            .pointer("/metadata/annotations/meta.helm.sh~1release-namespace")
            .and_then(Value::as_str)
            == Some(namespace)
}

/// One object to apply, parsed, with the template it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedObject {
    pub source: String,
    pub object: Value,
}

/// The order an install applies things in: CRDs first, pre-install hooks
/// (by weight then name), objects in Helm's kind order (with ownership
/// metadata), post-install hooks.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallPlan {
    pub crds: Vec<PlannedObject>,
    pub pre_hooks: Vec<(Hook, Value)>,
    pub objects: Vec<PlannedObject>,
    pub post_hooks: Vec<(Hook, Value)>,
}

fn parse_doc(source: &str, doc: &str) -> Result<Value, HelmError> {
    crate::yaml::parse(doc).map_err(|message| HelmError::Manifest {
        template: source.to_string(),
        message,
    })
}

/// Objects of `manifests` parsed, defaulted to `namespace` when namespaced
/// and unqualified is left to the caller (it knows which kinds are
/// cluster-scoped), with Helm's ownership metadata.
pub fn manifest_objects(
    manifests: &[Manifest],
    release: &str,
    namespace: &str,
) -> Result<Vec<PlannedObject>, HelmError> {
    let mut out = Vec::new();
    for m in manifests {
        let mut object = parse_doc(&m.source, &m.content)?;
        if object.is_null() {
            continue;
        }
        add_ownership(&mut object, release, namespace);
        out.push(PlannedObject {
            source: m.source.clone(),
            object,
        });
    }
    Ok(out)
}

/// Builds the install plan of `rendered` for `event_pre`/`event_post`
/// (install or upgrade). CRDs are only applied on install.
pub fn install_plan(
    rendered: &Rendered,
    release: &str,
    namespace: &str,
    upgrade: bool,
) -> Result<InstallPlan, HelmError> {
    let (pre, post) = if upgrade {
        (HookEvent::PreUpgrade, HookEvent::PostUpgrade)
    } else {
        (HookEvent::PreInstall, HookEvent::PostInstall)
    };
    let mut crds = Vec::new();
    if !upgrade {
        for (path, content) in &rendered.crds {
            for doc in manifest::split_documents(content) {
                let object = parse_doc(path, &doc)?;
                if !object.is_null() {
                    crds.push(PlannedObject {
                        source: path.clone(),
                        object,
                    });
                }
            }
        }
    }
    let hooks = |event| -> Result<Vec<(Hook, Value)>, HelmError> {
        manifest::hooks_for(&rendered.hooks, event)
            .into_iter()
            .map(|h| Ok((h.clone(), parse_doc(&h.path, &h.manifest)?)))
            .collect()
    };
    Ok(InstallPlan {
        crds,
        pre_hooks: hooks(pre)?,
        objects: manifest_objects(&rendered.manifests, release, namespace)?,
        post_hooks: hooks(post)?,
    })
}

/// Objects of a release's manifest in uninstall order (reverse kind order).
pub fn uninstall_order(manifest_text: &str) -> Result<Vec<PlannedObject>, HelmError> {
    let mut out = Vec::new();
    for doc in manifest::split_documents(manifest_text) {
        let source = doc
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# Source: "))
            .unwrap_or("")
            .to_string();
        let object = parse_doc(&source, &doc)?;
        if !object.is_null() {
            out.push(PlannedObject { source, object });
        }
    }
    let kind = |p: &PlannedObject| {
        p.object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    out.sort_by(|a, b| manifest::kind_cmp(&kind(a), &kind(b), manifest::UNINSTALL_ORDER));
    Ok(out)
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

mod b64_opt {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match data {
            Some(d) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(t) => base64::engine::general_purpose::STANDARD
                .decode(t)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Release {
        Release {
            name: "r".into(),
            info: Info {
                first_deployed: "2025-01-01T00:00:00Z".into(),
                last_deployed: "2025-01-01T00:00:00Z".into(),
                deleted: String::new(),
                description: "Install complete".into(),
                status: Status::Deployed,
                notes: String::new(),
            },
            chart: ChartRecord {
                metadata: Metadata {
                    name: "c".into(),
                    version: "1.0.0".into(),
                    ..Default::default()
                },
                lock: None,
                templates: Some(vec![FileRecord {
                    name: "templates/a.yaml".into(),
                    data: b"a: 1".to_vec(),
                }]),
                values: Some(Values::new()),
                schema: None,
                files: None,
            },
            config: Values::new(),
            manifest: "---\n# Source: c/templates/a.yaml\na: 1\n".into(),
            hooks: vec![],
            version: 1,
            namespace: "ns".into(),
        }
    }

    #[test]
    fn records_round_trip_through_the_secret() {
        let rel = sample();
        let secret = release_secret(&rel, 1700000000, true).unwrap();
        assert_eq!(secret["metadata"]["name"], "sh.helm.release.v1.r.v1");
        assert_eq!(secret["type"], "helm.sh/release.v1");
        assert_eq!(secret["metadata"]["labels"]["status"], "deployed");
        assert_eq!(secret["metadata"]["labels"]["createdAt"], "1700000000");
        assert_eq!(release_from_secret(&secret).unwrap(), rel);
    }

    #[test]
    fn json_has_helm_field_names() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["info"]["deleted"], "");
        assert_eq!(v["chart"]["templates"][0]["data"], "YTogMQ==");
        assert!(v["chart"]["schema"].is_null());
        assert!(v.get("hooks").is_none());
    }

    #[test]
    fn plain_json_records_are_accepted() {
        let plain = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&sample()).unwrap());
        assert_eq!(decode_release(&plain).unwrap(), sample());
        assert!(decode_release("%%%").is_err());
    }

    #[test]
    fn upgrades_supersede_and_history_is_pruned() {
        let old = sample();
        assert_eq!(supersede(&old).info.status, Status::Superseded);
        let back = build_rollback(&old, 3, Status::Deployed, "2025-03-01T00:00:00Z");
        assert_eq!(
            (back.version, back.info.description.as_str()),
            (4, "Rollback to 1")
        );
        assert_eq!(back.manifest, old.manifest);
        assert_eq!(back.info.first_deployed, old.info.first_deployed);
        let gone = mark_uninstalled(&old, "2025-02-01T00:00:00Z");
        assert_eq!(
            (gone.info.status, gone.info.deleted.as_str()),
            (Status::Uninstalled, "2025-02-01T00:00:00Z")
        );
        let records = [
            (1, Status::Superseded),
            (2, Status::Superseded),
            (3, Status::Deployed),
            (4, Status::Failed),
        ];
        assert_eq!(prune_history(&records, 2), vec![1, 2]);
        assert_eq!(prune_history(&records, 0), Vec::<i64>::new());
        let records = [
            (1, Status::Deployed),
            (2, Status::Failed),
            (3, Status::Failed),
        ];
        assert_eq!(prune_history(&records, 1), vec![2, 3]);
    }

    #[test]
    fn ownership_metadata() {
        let mut o = json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "b"}}});
        assert!(!owned_by(&o, "r", "ns"));
        add_ownership(&mut o, "r", "ns");
        assert!(owned_by(&o, "r", "ns"));
        assert_eq!(o["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn uninstall_goes_in_reverse_kind_order() {
        let text = "---\n# Source: c/a.yaml\nkind: ServiceAccount\nmetadata:\n  name: s\n---\n# Source: c/b.yaml\nkind: Deployment\nmetadata:\n  name: d\n";
        let order = uninstall_order(text).unwrap();
        let kinds: Vec<&str> = order
            .iter()
            .map(|o| o.object["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, vec!["Deployment", "ServiceAccount"]);
        assert_eq!(order[0].source, "c/b.yaml");
    }
}

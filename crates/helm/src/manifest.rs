//! From rendered templates to what Helm installs: splitting files into
//! documents, separating hooks, sorting by Helm's kind order, and the
//! `helm template` text layout.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::HelmError;

/// Helm's install order of kinds; unknown kinds go last, alphabetically.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Helm's uninstall order of kinds (reverse dependencies first).
pub const UNINSTALL_ORDER: &[&str] = &[
    "APIService",
    "Ingress",
    "IngressClass",
    "Service",
    "CronJob",
    "Job",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "DaemonSet",
    "RoleBindingList",
    "RoleBinding",
    "RoleList",
    "Role",
    "ClusterRoleBindingList",
    "ClusterRoleBinding",
    "ClusterRoleList",
    "ClusterRole",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "ConfigMap",
    "SecretList",
    "Secret",
    "ServiceAccount",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "LimitRange",
    "ResourceQuota",
    "NetworkPolicy",
    "Namespace",
    "PriorityClass",
];

/// The identifying head of a rendered document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub annotations: BTreeMap<String, String>,
}

/// One rendered object that is not a hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template path it came from.
    pub source: String,
    /// The document text.
    pub content: String,
    pub head: Head,
}

/// A hook event (`helm.sh/hook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreDelete,
    PostDelete,
    PreUpgrade,
    PostUpgrade,
    PreRollback,
    PostRollback,
    Test,
}

impl HookEvent {
    pub fn parse(text: &str) -> Option<HookEvent> {
        Some(match text {
            "pre-install" => HookEvent::PreInstall,
            "post-install" => HookEvent::PostInstall,
            "pre-delete" => HookEvent::PreDelete,
            "post-delete" => HookEvent::PostDelete,
            "pre-upgrade" => HookEvent::PreUpgrade,
            "post-upgrade" => HookEvent::PostUpgrade,
            "pre-rollback" => HookEvent::PreRollback,
            "post-rollback" => HookEvent::PostRollback,
            "test" | "test-success" => HookEvent::Test,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreDelete => "pre-delete",
            HookEvent::PostDelete => "post-delete",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }
}

/// A hook document.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub manifest: String,
    pub events: Vec<HookEvent>,
    pub weight: i64,
    /// `before-hook-creation`, `hook-succeeded`, `hook-failed`.
    pub delete_policies: Vec<String>,
}

/// Splits a rendered file into documents the way Helm v4 does: a separator
/// is `---` at the start of a line followed by blanks or the line end;
/// leading whitespace of each document is trimmed, trailing whitespace kept,
/// blank documents dropped.
pub fn split_documents(text: &str) -> Vec<String> {
    static SEP: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let trimmed = text.trim_start();
    let Some(sep) = SEP.get_or_init(|| regex::Regex::new(r"(?m)^---(?:[ \t]+|\r?$)").ok()) else {
        return vec![trimmed.to_string()];
    };
    sep.split(trimmed)
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

/// Reads a document's head. A document that is not a YAML map is an error.
pub fn read_head(source: &str, doc: &str) -> Result<Head, HelmError> {
    let v = crate::yaml::parse(doc).map_err(|message| HelmError::Manifest {
        template: source.to_string(),
        message,
    })?;
    let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let md = v.get("metadata").cloned().unwrap_or(Value::Null);
    let annotations = md
        .get("annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Head {
        api_version: get(&v, "apiVersion"),
        kind: get(&v, "kind"),
        name: get(&md, "name"),
        namespace: get(&md, "namespace"),
        annotations,
    })
}

fn kind_rank(kind: &str, order: &[&str]) -> Option<usize> {
    order.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind`: known kinds by their rank, unknown kinds last and
/// alphabetically; stable within a kind.
pub fn kind_cmp(a: &str, b: &str, order: &[&str]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (kind_rank(a, order), kind_rank(b, order)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Splits rendered templates into manifests and hooks, both sorted by kind
/// in install order. Partials and `NOTES.txt` must already be removed.
pub fn sort_manifests(
    rendered: &BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), HelmError> {
    let mut hooks = Vec::new();
    let mut manifests = Vec::new();
    for (path, text) in rendered {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for doc in split_documents(text) {
            let head = read_head(path, &doc)?;
            match head.annotations.get("helm.sh/hook") {
                None => manifests.push(Manifest {
                    source: path.clone(),
                    content: doc,
                    head,
                }),
                Some(events) => {
                    let events = events
                        .split(',')
                        .filter_map(|e| HookEvent::parse(&e.trim().to_lowercase()))
                        .collect();
                    let weight = head
                        .annotations
                        .get("helm.sh/hook-weight")
                        .and_then(|w| w.trim().parse().ok())
                        .unwrap_or(0);
                    // Without a policy Helm applies `before-hook-creation`.
                    let delete_policies = head
                        .annotations
                        .get("helm.sh/hook-delete-policy")
                        .map(|p| {
                            p.split(',')
                                .map(|x| x.trim().to_string())
                                .filter(|x| !x.is_empty())
                                .collect()
                        })
                        .unwrap_or_else(|| vec!["before-hook-creation".to_string()]);
                    hooks.push(Hook {
                        name: head.name.clone(),
                        kind: head.kind.clone(),
                        path: path.clone(),
                        manifest: doc,
                        events,
                        weight,
                        delete_policies,
                    });
                }
            }
        }
    }
    manifests.sort_by(|a, b| kind_cmp(&a.head.kind, &b.head.kind, INSTALL_ORDER));
    hooks.sort_by(|a, b| kind_cmp(&a.kind, &b.kind, INSTALL_ORDER));
    Ok((hooks, manifests))
}

/// The release manifest text: `---\n# Source: <path>\n<doc>\n` per object.
pub fn manifest_text(manifests: &[Manifest]) -> String {
    manifests
        .iter()
        .map(|m| format!("---\n# Source: {}\n{}\n", m.source, m.content))
        .collect()
}

/// Hooks in the same layout, as `helm template` prints them after the manifest.
pub fn hooks_text(hooks: &[Hook]) -> String {
    hooks
        .iter()
        .map(|h| format!("---\n# Source: {}\n{}\n", h.path, h.manifest))
        .collect()
}

/// Hooks of one event in execution order: by weight, then name.
pub fn hooks_for(hooks: &[Hook], event: HookEvent) -> Vec<&Hook> {
    let mut out: Vec<&Hook> = hooks.iter().filter(|h| h.events.contains(&event)).collect();
    out.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Replaces material that differs on every render (certificates and keys
/// from `genCA`/`genSignedCert`, base64 or PEM, and the
/// `checksum/tls-secrets` over them) with fixed markers, so two renders can
/// be compared. The markers are the ones Helm fixtures use.
pub fn mask_generated_secrets(text: &str) -> String {
    use base64::Engine as _;
    use std::sync::OnceLock;
    static RES: OnceLock<Option<(regex::Regex, regex::Regex, regex::Regex)>> = OnceLock::new();
    let Some((b64_line, checksum, pem)) = RES
        .get_or_init(|| {
            Some((
                regex::Regex::new(r"(?m)^([\t\n\x0C\r ]+(?:tls\.crt|tls\.key|ca\.crt|caBundle):[\t\n\x0C\r ]+)([^\t\n\x0C\r ]{200,})$").ok()?,
                regex::Regex::new(r"(?m)^([\t\n\x0C\r ]+checksum/tls-secrets:[\t\n\x0C\r ]+)[^\t\n\x0C\r ]+$").ok()?,
                regex::Regex::new(r"-----BEGIN [A-Z ]+-----[A-Za-z0-9+/=\t\n\x0C\r \\n]+?-----END [A-Z ]+-----").ok()?,
            ))
        })
        .as_ref()
    else {
        return text.to_string();
    };
    let text = b64_line.replace_all(text, |c: &regex::Captures| {
        match base64::engine::general_purpose::STANDARD.decode(&c[2]) {
            Ok(d) if String::from_utf8_lossy(&d).contains("-----BEGIN") => {
                format!("{}<MASKED-PEM-BASE64>", &c[1])
            }
            _ => c[0].to_string(),
        }
    });
    let text = checksum.replace_all(&text, "${1}<MASKED-SHA256>");
    pem.replace_all(&text, "<MASKED-PEM>").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_are_masked() {
        use base64::Engine as _;
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".repeat(4);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&pem);
        let text = format!(
            "data:\n  tls.crt: {b64}\n  other: {b64}\n  checksum/tls-secrets: abc\nk: {pem:?}\n"
        );
        let masked = mask_generated_secrets(&text);
        assert!(
            masked.contains("tls.crt: <MASKED-PEM-BASE64>\n"),
            "{masked}"
        );
        assert!(masked.contains(&format!("other: {b64}")));
        assert!(masked.contains("checksum/tls-secrets: <MASKED-SHA256>"));
        assert!(!masked.contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn split_keeps_trailing_text_of_the_last_document() {
        assert_eq!(
            split_documents("\n---\na: 1\n  \n---\nb: 2\n\n"),
            vec!["a: 1\n  \n", "b: 2\n\n"]
        );
        assert_eq!(
            split_documents("a: 1\n---\n\n---x: 1"),
            vec!["a: 1\n", "---x: 1"]
        );
    }

    #[test]
    fn sorting_by_kind_is_stable_and_hooks_are_separated() {
        let mut r = BTreeMap::new();
        r.insert(
            "c/templates/a.yaml".to_string(),
            "kind: Deployment\nmetadata:\n  name: d\n---\nkind: Zeta\nmetadata:\n  name: z\n---\nkind: Alpha\nmetadata:\n  name: a\n".to_string(),
        );
        r.insert(
            "c/templates/b.yaml".to_string(),
            "kind: ServiceAccount\nmetadata:\n  name: s\n---\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install,post-upgrade\n    helm.sh/hook-weight: \"-1\"\n".to_string(),
        );
        let (hooks, manifests) = sort_manifests(&r).unwrap();
        let kinds: Vec<&str> = manifests.iter().map(|m| m.head.kind.as_str()).collect();
        assert_eq!(kinds, vec!["ServiceAccount", "Deployment", "Alpha", "Zeta"]);
        assert_eq!(hooks.len(), 1);
        assert_eq!(
            hooks[0].events,
            vec![HookEvent::PreInstall, HookEvent::PostUpgrade]
        );
        assert_eq!(hooks[0].weight, -1);
        assert_eq!(hooks_for(&hooks, HookEvent::PostUpgrade).len(), 1);
    }
}

//! `plan -helm-diff`: after Terraform's part, what each Helm release
//! change does to the rendered manifests, object by object, with Secret
//! data masked.

use std::collections::BTreeMap;

use meshform_engine::plan::{Action, Plan};
use meshform_helm::diff::{diff_manifests, ObjectChange};
use meshform_lang::Value;
use meshform_providers::helm_release::render_manifest;

fn show(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(serde_json::Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// The report, empty when no release changes.
pub fn report(plan: &Plan, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        if c.addr.resource.ty != "helm_release"
            || c.action == Action::NoOp
            || c.action == Action::Read
        {
            continue;
        }
        out.push_str(&format!("\n  # {} (rendered manifests)\n", c.addr));
        let render = |v: &Value| -> Result<String, String> {
            if v.is_null() {
                return Ok(String::new());
            }
            if !v.is_wholly_known() && v.get_attr("values").is_some_and(|x| !x.is_wholly_known()) {
                return Err("its values are known only after apply".to_owned());
            }
            render_manifest(&v.clone().unmark_deep(), env).map_err(|d| {
                d.0.first()
                    .map(|d| format!("{}: {}", d.summary, d.detail))
                    .unwrap_or_default()
            })
        };
        let (before, after) = match (render(&c.before), render(&c.after)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                out.push_str(&format!("    (not rendered: {e})\n"));
                continue;
            }
        };
        let namespace = c
            .after
            .get_attr("namespace")
            .or_else(|| c.before.get_attr("namespace"))
            .and_then(|n| n.as_str().map(str::to_owned))
            .unwrap_or_else(|| "default".to_owned());
        let changes = match diff_manifests(&before, &after, &namespace) {
            Ok(changes) => changes,
            Err(e) => {
                out.push_str(&format!("    (not compared: {e})\n"));
                continue;
            }
        };
        if changes.is_empty() {
            out.push_str("    (no object changes)\n");
        }
        for ch in changes {
            let k = ch.key();
            let id = format!("{} {} {}/{}", k.api_version, k.kind, k.namespace, k.name);
            match &ch {
                ObjectChange::Added { .. } => out.push_str(&format!("  + {id}\n")),
                ObjectChange::Removed { .. } => out.push_str(&format!("  - {id}\n")),
                ObjectChange::Changed { fields, .. } => {
                    out.push_str(&format!("  ~ {id}\n"));
                    for f in fields {
                        out.push_str(&format!(
                            "      ~ {}: {} -> {}\n",
                            f.path,
                            show(&f.before),
                            show(&f.after)
                        ));
                    }
                }
            }
        }
    }
    out
}

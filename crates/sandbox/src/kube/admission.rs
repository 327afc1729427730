//! Kuma's validating admission webhook in a zone: once the kong-mesh chart
//! has registered `validator.kuma-admission.kuma.io` and its zone control
//! plane runs, writes to `kuma.io` objects are checked as Kuma checks them.
//!
//! Facts from Kuma 2.x (`pkg/plugins/runtime/k8s/webhooks`): in a federated
//! zone the Mesh is read-only; in the system namespace a policy needs the
//! label `kuma.io/origin: zone` (so objects synced from global, labelled
//! `global`, cannot be edited or deleted by users); a `kuma.io/zone` label
//! must name this zone. Denials reach the client as the API server words
//! them: 403 Forbidden, `admission webhook "…" denied the request: …`.
//! The sandbox's own zone sync writes past the webhook, as Kuma's
//! privileged control plane user does.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::registry::ResourceType;
use super::{zone, Failure, API};
use crate::store::Tx;

const WEBHOOK: &str = "validator.kuma-admission.kuma.io";
const WEBHOOK_CONFIGS: &str = "validatingwebhookconfigurations.admissionregistration.k8s.io";
/// Kong Mesh's product name, as its messages print it.
const PRODUCT: &str = "Kong Mesh";

/// An admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// Whether a registered webhook named [`WEBHOOK`] covers `ty` and `op`.
fn registered(t: &Tx<'_>, ty: &ResourceType, op: Operation) -> Result<bool, Failure> {
    let listed = |list: &Value, item: &str| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|v| v == item || v == "*"))
    };
    for config in t.list(API, WEBHOOK_CONFIGS, Some(""))? {
        let hooks = config.body["webhooks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for hook in hooks.iter().filter(|h| h["name"] == WEBHOOK) {
            let rules = hook["rules"].as_array().cloned().unwrap_or_default();
            if rules.iter().any(|r| {
                listed(&r["apiGroups"], &ty.group)
                    && listed(&r["apiVersions"], &ty.version)
                    && listed(&r["resources"], &ty.plural)
                    && listed(&r["operations"], op.as_str())
            }) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn denied(message: String, causes: Value) -> Failure {
    let mut failure = Failure::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!("admission webhook \"{WEBHOOK}\" denied the request: {message}"),
    );
    if !causes.is_null() {
        failure.details = json!({"causes": causes});
    }
    failure
}

/// Checks a write of `object` (the new object, or the old one on delete).
pub fn check(t: &Tx<'_>, ty: &ResourceType, op: Operation, object: &Value) -> Result<(), Failure> {
    if ty.group != "kuma.io" || !registered(t, ty, op)? {
        return Ok(());
    }
    let zones = zone::zone_system_namespaces(t)?;
    if zones.is_empty() {
        return Ok(());
    }
    if ty.kind == "Mesh" && !ty.namespaced {
        return Err(denied(
            format!(
                "Operation not allowed. {PRODUCT} resources like {} can be updated or deleted only from the GLOBAL control plane and not from a ZONE control plane.",
                ty.kind
            ),
            Value::Null,
        ));
    }
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let labels = &object["metadata"]["labels"];
    let origin = labels["kuma.io/origin"].as_str();
    for (system_namespace, zone_name) in &zones {
        if namespace != system_namespace.as_str() {
            continue;
        }
        if origin != Some("zone") {
            return Err(denied(
                "Operation not allowed. Applying policies on Zone CP on a system namespace requires 'kuma.io/origin' label to be set to 'zone'.".into(),
                json!([{"reason": "FieldValueInvalid", "message": "cannot be empty", "field": "metadata.labels[kuma.io/origin]"}]),
            ));
        }
        if let Some(tag) = labels["kuma.io/zone"].as_str() {
            if tag != zone_name.as_str() {
                return Err(denied(
                    format!("Operation not allowed. 'kuma.io/zone' label should have '{zone_name}' value, got '{tag}'"),
                    Value::Null,
                ));
            }
        }
    }
    Ok(())
}

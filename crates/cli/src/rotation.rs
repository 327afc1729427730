//! Rotation awareness after the plan: when each `time_rotating` rotates
//! and when each access token whose expiry derives from a time resource
//! expires, measured from the run's clock, plus a warning for a token that
//! expires within a week with nothing rotating it. The wording comes from
//! the time provider's notes.

use chrono::{DateTime, Utc};
use meshform_config::Module;
use meshform_engine::plan::{Action, Plan};
use meshform_providers::time::notes;

/// The same data as [`report`], for `plan -json`: address, what happens
/// (`rotates`, `expires`, `expires_unrotated`), when, and how far from now.
pub fn entries(plan: &Plan, module: &Module, now: DateTime<Utc>) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for c in &plan.changes {
        if c.action == Action::Delete {
            continue;
        }
        let ty = c.addr.resource.ty.as_str();
        let (kind, at) = if ty == "time_rotating" {
            match notes::rotation_at(&c.after) {
                Some(at) => ("rotates", at),
                None => continue,
            }
        } else if ty.ends_with("_access_token") {
            let Some(at) = notes::timestamp_attr(&c.after, "expires_at")
                .or_else(|| notes::timestamp_attr(&c.before, "expires_at"))
            else {
                continue;
            };
            if expiry_derives_from_time(module, c) {
                ("expires", at)
            } else if notes::expires_soon(&c.after, now) || notes::expires_soon(&c.before, now) {
                ("expires_unrotated", at)
            } else {
                continue;
            }
        } else {
            continue;
        };
        out.push(serde_json::json!({
            "address": c.addr.to_string(),
            "kind": kind,
            "at": at.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "in_seconds": (at.with_timezone(&Utc) - now).num_seconds(),
        }));
    }
    out
}

/// Whether the configuration computes this token's `expires_at` from a
/// time resource (so a rotation replaces it in time).
fn expiry_derives_from_time(
    module: &Module,
    c: &meshform_engine::plan::ResourceInstanceChange,
) -> bool {
    module
        .resources
        .get(&c.addr.resource.to_string())
        .and_then(|r| r.config.attr("expires_at"))
        .is_some_and(|a| {
            meshform_lang::references(&a.expr.expr)
                .iter()
                .any(|r| r.root.starts_with("time_"))
        })
}

/// The lines for a plan, from values as they will be after it is applied.
pub fn report(plan: &Plan, module: &Module, now: DateTime<Utc>) -> String {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    for c in &plan.changes {
        if c.action == Action::Delete {
            continue;
        }
        let address = c.addr.to_string();
        let ty = c.addr.resource.ty.as_str();
        if ty == "time_rotating" {
            lines.extend(notes::rotation_line(&address, &c.after, now));
        } else if ty.ends_with("_access_token") {
            let value = if notes::timestamp_attr(&c.after, "expires_at").is_some() {
                &c.after
            } else {
                &c.before
            };
            if expiry_derives_from_time(module, c) {
                lines.extend(notes::expiry_line(&address, value, now));
            } else if notes::expires_soon(value, now) {
                if let Some(line) = notes::expiry_line(&address, value, now) {
                    warnings.push(format!(
                        "\nWarning: {line}, and nothing rotates it\n\nIts expires_at does not derive from a time_rotating or time_offset resource, so meshform will not replace it before it expires. Base expires_at on a time_rotating resource, as the guide's rotation section does.\n"
                    ));
                }
            }
        }
    }
    let mut out: String = lines.iter().map(|l| format!("{l}\n")).collect();
    out.extend(warnings);
    out
}

//! Rotation awareness after the plan: when each `time_rotating` rotates
//! and when each access token whose expiry derives from a time resource
//! expires, measured from the run's clock, plus a warning for a token that
//! expires within a week with nothing rotating it. The wording comes from
//! the time provider's notes.

use chrono::{DateTime, Utc};
use meshform_config::Module;
use meshform_engine::plan::{Action, Plan};
use meshform_providers::time::notes;

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
            let derived = module
                .resources
                .get(&c.addr.resource.to_string())
                .and_then(|r| r.config.attr("expires_at"))
                .is_some_and(|a| {
                    meshform_lang::references(&a.expr.expr)
                        .iter()
                        .any(|r| r.root.starts_with("time_"))
                });
            if derived {
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

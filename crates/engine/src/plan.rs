//! The plan: what meshform intends to do to each resource instance and
//! output, in Terraform's vocabulary (`plans.Plan`, `ResourceInstanceChange`,
//! `Action`, `ActionReason`).
//!
//! A plan is plain data. The planner fills it, [`crate::render`] prints it as
//! Terraform's human plan and [`crate::plan_json`] writes and reads
//! Terraform's `show -json` document. Values keep their marks: an unknown
//! part of `after` is "known after apply", a sensitive mark makes the part
//! print as `(sensitive)`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use meshform_lang::addr::{InstanceKey, ModuleInstance, ResourceInstance, ResourceMode};
use meshform_lang::{PathStep, Value};

/// What will happen to one object (Terraform's `plans.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    /// Replace, destroying the old object first (`-/+`).
    DeleteThenCreate,
    /// Replace, creating the new object first (`+/-`, `create_before_destroy`).
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Whether the action replaces the object.
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// The `actions` list of plan JSON.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    /// The action of a plan JSON `actions` list.
    pub fn from_json_actions<S: AsRef<str>>(actions: &[S]) -> Option<Action> {
        let names: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        Some(match names.as_slice() {
            ["no-op"] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete", "create"] => Action::DeleteThenCreate,
            ["create", "delete"] => Action::CreateThenDelete,
            ["delete"] => Action::Delete,
            _ => return None,
        })
    }
}

/// Why an action was chosen, beyond the obvious (Terraform's
/// `ResourceInstanceChangeActionReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ActionReason {
    #[default]
    None,
    ReplaceBecauseTainted,
    ReplaceByRequest,
    ReplaceBecauseCannotUpdate,
    ReplaceByTriggers,
    ReadBecauseConfigUnknown,
    ReadBecauseDependencyPending,
    DeleteBecauseNoResourceConfig,
    DeleteBecauseWrongRepetition,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    DeleteBecauseNoModule,
    DeleteBecauseNoMoveTarget,
}

impl ActionReason {
    const NAMES: [(ActionReason, &'static str); 12] = [
        (
            ActionReason::ReplaceBecauseTainted,
            "replace_because_tainted",
        ),
        (ActionReason::ReplaceByRequest, "replace_by_request"),
        (
            ActionReason::ReplaceBecauseCannotUpdate,
            "replace_because_cannot_update",
        ),
        (ActionReason::ReplaceByTriggers, "replace_by_triggers"),
        (
            ActionReason::ReadBecauseConfigUnknown,
            "read_because_config_unknown",
        ),
        (
            ActionReason::ReadBecauseDependencyPending,
            "read_because_dependency_pending",
        ),
        (
            ActionReason::DeleteBecauseNoResourceConfig,
            "delete_because_no_resource_config",
        ),
        (
            ActionReason::DeleteBecauseWrongRepetition,
            "delete_because_wrong_repetition",
        ),
        (
            ActionReason::DeleteBecauseCountIndex,
            "delete_because_count_index",
        ),
        (
            ActionReason::DeleteBecauseEachKey,
            "delete_because_each_key",
        ),
        (
            ActionReason::DeleteBecauseNoModule,
            "delete_because_no_module",
        ),
        (
            ActionReason::DeleteBecauseNoMoveTarget,
            "delete_because_no_move_target",
        ),
    ];

    /// The `action_reason` keyword of plan JSON (`None` has none).
    pub fn as_json(self) -> Option<&'static str> {
        Self::NAMES
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, name)| *name)
    }

    /// Reads an `action_reason` keyword; unknown keywords mean no reason, as
    /// Terraform's own readers treat them.
    pub fn from_json(name: &str) -> ActionReason {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(r, _)| *r)
            .unwrap_or_default()
    }
}

/// A path to a value inside a resource object (`["rule", 0, "port"]`).
pub type AttrPath = Vec<PathStep>;

/// The planned change of one resource instance object.
///
/// `before` is the prior object (a typed null for a create) and `after` the
/// planned one (a typed null for a delete); unknown parts of `after` are
/// known only after apply. Sensitive marks on either side come from
/// sensitive variables and references; attributes the schema declares
/// sensitive need no mark.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInstanceChange {
    pub addr: ResourceInstance,
    /// The address in the previous run, when a `moved` block changed it.
    pub prev_run_addr: Option<ResourceInstance>,
    /// The deposed key (`"00000001"`) when the change is to a deposed object.
    pub deposed: Option<String>,
    /// The provider's source address, `registry.terraform.io/hashicorp/time`.
    pub provider: String,
    pub action: Action,
    pub reason: ActionReason,
    pub before: Value,
    pub after: Value,
    /// The attribute paths whose change forced a replacement.
    pub required_replace: Vec<AttrPath>,
    /// The remote object's ID when an `import` block adopts the object
    /// while this change is applied (Terraform's `Importing`).
    pub importing: Option<String>,
}

impl ResourceInstanceChange {
    /// `managed` or `data`.
    pub fn mode(&self) -> ResourceMode {
        self.addr.resource.mode
    }

    /// Whether a `moved` block gave the object a new address.
    pub fn moved(&self) -> bool {
        self.prev_run_addr
            .as_ref()
            .is_some_and(|prev| *prev != self.addr)
    }

    /// Whether the change is worth showing on its own: anything but a
    /// no-op, or a no-op that moves or imports the object.
    pub fn is_shown(&self) -> bool {
        self.action != Action::NoOp || self.moved() || self.importing.is_some()
    }

    /// The resource type (`konnect_mesh`).
    pub fn resource_type(&self) -> &str {
        &self.addr.resource.ty
    }
}

/// The planned change of one root module output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Value,
    pub after: Value,
    /// The output is declared `sensitive = true`.
    pub sensitive: bool,
}

/// The planning mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    RefreshOnly,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub mode: PlanMode,
    /// Resource instance changes, in address order (see [`compare_changes`]).
    pub changes: Vec<ResourceInstanceChange>,
    /// Root module output changes by name.
    pub output_changes: BTreeMap<String, OutputChange>,
    /// Objects that changed outside of meshform, found by refresh: action
    /// `Update` (changed) or `Delete` (gone), `before` from the previous run.
    pub drift: Vec<ResourceInstanceChange>,
    /// Root module variable values the plan was made with.
    pub variables: BTreeMap<String, Value>,
    /// The plan is incomplete because planning failed.
    pub errored: bool,
    /// The planning time (RFC 3339), when recorded.
    pub timestamp: Option<String>,
}

impl Plan {
    /// Sorts changes and drift into Terraform's display order.
    pub fn sort(&mut self) {
        self.changes.sort_by(compare_changes);
        self.drift.sort_by(compare_changes);
    }

    /// Terraform's `CanApply`: whether applying the plan does anything. Any
    /// non-no-op resource or root output change counts (data source
    /// deletes and moves too), and in refresh-only mode so does drift. This decides
    /// the plan footer and `-detailed-exitcode`'s 2.
    pub fn can_apply(&self) -> bool {
        self.changes.iter().any(ResourceInstanceChange::is_shown)
            || self
                .output_changes
                .values()
                .any(|o| o.action != Action::NoOp)
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }

    /// Whether the plan shows any change: a move or a resource change
    /// other than a no-op (data source deletes, which are never shown,
    /// excluded) or a root output change.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| {
            c.is_shown() && !(c.action == Action::Delete && c.mode() == ResourceMode::Data)
        }) || self
            .output_changes
            .values()
            .any(|o| o.action != Action::NoOp)
    }
}

/// Terraform's instance address order (`AbsResourceInstance.Less`): fewer
/// module steps first, then module names and keys, data before managed,
/// type, name, instance key; equal addresses by deposed key.
pub fn compare_changes(a: &ResourceInstanceChange, b: &ResourceInstanceChange) -> Ordering {
    compare_instances(&a.addr, &b.addr).then_with(|| a.deposed.cmp(&b.deposed))
}

/// `AbsResourceInstance.Less` as an ordering.
pub fn compare_instances(a: &ResourceInstance, b: &ResourceInstance) -> Ordering {
    compare_modules(&a.module, &b.module)
        .then_with(|| mode_rank(a.resource.mode).cmp(&mode_rank(b.resource.mode)))
        .then_with(|| a.resource.ty.cmp(&b.resource.ty))
        .then_with(|| a.resource.name.cmp(&b.resource.name))
        .then_with(|| compare_keys(&a.key, &b.key))
}

fn mode_rank(mode: ResourceMode) -> u8 {
    match mode {
        ResourceMode::Data => 0,
        ResourceMode::Managed => 1,
    }
}

fn compare_modules(a: &ModuleInstance, b: &ModuleInstance) -> Ordering {
    a.0.len().cmp(&b.0.len()).then_with(|| {
        for (x, y) in a.0.iter().zip(&b.0) {
            let o = x
                .name
                .cmp(&y.name)
                .then_with(|| compare_keys(&x.key, &y.key));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    })
}

fn compare_keys(a: &InstanceKey, b: &InstanceKey) -> Ordering {
    let rank = |k: &InstanceKey| match k {
        InstanceKey::None => 0,
        InstanceKey::Int(_) => 1,
        InstanceKey::Str(_) => 2,
    };
    match (a, b) {
        (InstanceKey::Int(x), InstanceKey::Int(y)) => x.cmp(y),
        (InstanceKey::Str(x), InstanceKey::Str(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_order(addrs: &[&str]) {
        let parsed: Vec<ResourceInstance> = addrs
            .iter()
            .map(|a| ResourceInstance::parse(a).unwrap())
            .collect();
        let mut sorted = parsed.clone();
        sorted.reverse();
        sorted.sort_by(compare_instances);
        let shown: Vec<String> = sorted.iter().map(ToString::to_string).collect();
        assert_eq!(shown, addrs);
    }

    #[test]
    fn instances_sort_as_terraform_does() {
        check_order(&[
            "data.fake_echo.later",
            "fake_thing.a",
            "fake_thing.c",
            "fake_thing.c[0]",
            "fake_thing.c[2]",
            "fake_thing.c[10]",
            "fake_thing.c[\"a\"]",
            "module.child.fake_thing.t[0]",
            "module.child[\"x\"].fake_thing.t",
            "module.a.module.b.fake_thing.t",
        ]);
    }

    #[test]
    fn actions_round_trip_through_json() {
        for a in [
            Action::NoOp,
            Action::Create,
            Action::Read,
            Action::Update,
            Action::DeleteThenCreate,
            Action::CreateThenDelete,
            Action::Delete,
        ] {
            assert_eq!(Action::from_json_actions(a.json_actions()), Some(a));
        }
        assert_eq!(Action::from_json_actions(&["explode"]), None);
        assert_eq!(
            ActionReason::from_json("replace_because_tainted"),
            ActionReason::ReplaceBecauseTainted
        );
        assert_eq!(ActionReason::None.as_json(), None);
    }
}

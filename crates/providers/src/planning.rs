//! Planning from a schema: Terraform core's proposed new state, the
//! planning that terraform-plugin-framework and terraform-plugin-sdk/v2
//! providers do by default, the plan behaviours providers add per attribute
//! ([`PlanBehavior`]), and core's filter of replacement paths.
//!
//! Framework planning, in order: defaults fill null configuration; if the
//! object changed at all (or is new), every computed attribute that the
//! configuration leaves null becomes unknown; then per attribute:
//! null-equals-empty keeps an empty prior value, use-state-for-unknown
//! puts the prior value back, semantic JSON keeps JSON-equal prior text,
//! and requires-replace (always / if configured) names the attribute.
//! SDK planning keeps prior computed values on update and marks them
//! unknown only on create.

use std::collections::BTreeMap;

use meshform_lang::schema::{
    Attribute, AttributeType, Block, NestedBlock, NestedType, Nesting, PlanBehavior,
    RequiresReplace,
};
use meshform_lang::{Data, PathStep, Type, Value};

use crate::provider::AttrPath;

/// Which SDK's default planning a provider follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanStyle {
    /// terraform-plugin-framework: computed values are unknown after any
    /// change unless kept by use-state-for-unknown.
    #[default]
    Framework,
    /// terraform-plugin-sdk/v2: computed values keep their prior values on
    /// update.
    Sdk,
}

/// The result of planning one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePlan {
    pub planned: Value,
    /// Paths that force replacement, already filtered as Terraform core
    /// filters them (only paths whose value changes or is unknown).
    pub requires_replace: Vec<AttrPath>,
}

/// Terraform core's proposed new state: configuration values, with prior
/// values for computed attributes the configuration leaves null, nested
/// blocks and nested attributes correlated with their prior objects (lists
/// by index, maps by key, sets by their non-computed attributes).
pub fn proposed_new_state(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    let prior = if prior.is_null() || !prior.is_known() {
        all_null(block)
    } else {
        prior.clone()
    };
    proposed_object(block, &prior, config)
}

fn all_null(block: &Block) -> Value {
    let mut attrs = BTreeMap::new();
    for (name, a) in &block.attributes {
        attrs.insert(name.clone(), Value::null(a.implied_type()));
    }
    for (name, b) in &block.block_types {
        let v = match b.nesting {
            Nesting::Group => all_null(&b.block),
            _ => Value::null(block_value_type(b)),
        };
        attrs.insert(name.clone(), v);
    }
    Value::object(attrs)
}

/// The type of a nested block's value in its parent object.
fn block_value_type(b: &NestedBlock) -> Type {
    let mut wrapper = Block::default();
    wrapper.block_types.insert("b".into(), b.clone());
    match wrapper.implied_type() {
        Type::Object { attrs, .. } => attrs.get("b").cloned().unwrap_or(Type::Dynamic),
        other => other,
    }
}

fn get<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get_attr(name)
}

fn attr_or_null(v: &Value, name: &str, ty: impl FnOnce() -> Type) -> Value {
    get(v, name).cloned().unwrap_or_else(|| Value::null(ty()))
}

fn proposed_object(block: &Block, prior: &Value, config: &Value) -> Value {
    let mut attrs = proposed_attributes(&block.attributes, prior, config);
    for (name, b) in &block.block_types {
        let prior_v = attr_or_null(prior, name, || block_value_type(b));
        let config_v = attr_or_null(config, name, || block_value_type(b));
        attrs.insert(name.clone(), proposed_nested_block(b, &prior_v, &config_v));
    }
    Value::object(attrs).with_marks_of([config])
}

fn proposed_attributes(
    attrs: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, a) in attrs {
        let prior_v = if prior.is_null() || !prior.is_known() {
            Value::null(a.implied_type())
        } else {
            attr_or_null(prior, name, || a.implied_type())
        };
        let config_v = attr_or_null(config, name, || a.implied_type());
        let new_v = if a.computed && config_v.is_null() {
            // An optional nested attribute whose prior value holds values
            // only the configuration can set was removed from the
            // configuration: it is null now, not kept.
            if a.optional && holds_configured_values(a, &prior_v) {
                config_v
            } else {
                prior_v
            }
        } else if let AttributeType::Nested(nested) = &a.ty {
            proposed_nested_type(nested, &prior_v, &config_v)
        } else {
            config_v
        };
        out.insert(name.clone(), new_v);
    }
    out
}

/// Whether a nested attribute's value has a non-null member that is not
/// computed (so it can only have come from configuration).
fn holds_configured_values(a: &Attribute, v: &Value) -> bool {
    let AttributeType::Nested(n) = &a.ty else {
        return false;
    };
    if v.is_null() || !v.is_known() {
        return false;
    }
    let object_holds = |obj: &Value| {
        n.attributes.iter().any(|(name, member)| {
            get(obj, name).is_some_and(|m| {
                !m.is_null() && (!member.computed || holds_configured_values(member, m))
            })
        })
    };
    match n.nesting {
        Nesting::Single | Nesting::Group => object_holds(v),
        _ => match v.data() {
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                items.iter().any(object_holds)
            }
            Data::Map(_, items) | Data::Object(items) => items.values().any(object_holds),
            _ => false,
        },
    }
}

fn proposed_nested_type(n: &NestedType, prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    let object = |prior: &Value, config: &Value| -> Value {
        if config.is_null() || !config.is_known() {
            return config.clone();
        }
        Value::object(proposed_attributes(&n.attributes, prior, config)).with_marks_of([config])
    };
    correlate(
        n.nesting,
        prior,
        config,
        &object,
        &|el: &Value, cand: &Value| non_computed_equal(&n.attributes, &BTreeMap::new(), el, cand),
    )
}

fn proposed_nested_block(b: &NestedBlock, prior: &Value, config: &Value) -> Value {
    match b.nesting {
        Nesting::Single | Nesting::Group => {
            if config.is_null() || !config.is_known() {
                return config.clone();
            }
            let prior = if prior.is_null() || !prior.is_known() {
                all_null(&b.block)
            } else {
                prior.clone()
            };
            proposed_object(&b.block, &prior, config)
        }
        _ => {
            if config.is_null() || !config.is_known() {
                return config.clone();
            }
            let object = |prior: &Value, config: &Value| -> Value {
                let prior = if prior.is_null() || !prior.is_known() {
                    all_null(&b.block)
                } else {
                    prior.clone()
                };
                proposed_object(&b.block, &prior, config)
            };
            correlate(
                b.nesting,
                prior,
                config,
                &object,
                &|el: &Value, cand: &Value| {
                    non_computed_equal(&b.block.attributes, &b.block.block_types, el, cand)
                },
            )
        }
    }
}

/// Pairs configuration elements with prior ones (lists by index, maps by
/// key, sets by equal non-computed attributes) and proposes each.
fn correlate(
    nesting: Nesting,
    prior: &Value,
    config: &Value,
    object: &dyn Fn(&Value, &Value) -> Value,
    same_set_element: &dyn Fn(&Value, &Value) -> bool,
) -> Value {
    let prior_known = prior.is_known() && !prior.is_null();
    match (nesting, config.data()) {
        (Nesting::Single | Nesting::Group, _) => object(prior, config),
        (Nesting::List, Data::List(_, items) | Data::Tuple(items)) => {
            let prior_items = if prior_known {
                prior.as_elements().unwrap_or(&[])
            } else {
                &[]
            };
            let new: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, c)| match prior_items.get(i) {
                    Some(p) => object(p, c),
                    None => c.clone(),
                })
                .collect();
            let rebuilt = match config.data() {
                Data::List(elem, _) => Value::list(elem.clone(), new),
                _ => Value::tuple(new),
            };
            rebuilt.with_marks_of([config])
        }
        (Nesting::Map, Data::Map(_, items) | Data::Object(items)) => {
            let prior_items = if prior_known {
                prior.as_entries()
            } else {
                None
            };
            let new: BTreeMap<String, Value> = items
                .iter()
                .map(|(k, c)| {
                    let v = match prior_items.and_then(|p| p.get(k)) {
                        Some(p) => object(p, c),
                        None => c.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            let rebuilt = match config.data() {
                Data::Map(elem, _) => Value::map(elem.clone(), new),
                _ => Value::object(new),
            };
            rebuilt.with_marks_of([config])
        }
        (Nesting::Set, Data::Set(elem, items)) => {
            let prior_items = if prior_known {
                prior.as_elements().unwrap_or(&[])
            } else {
                &[]
            };
            let mut used = vec![false; prior_items.len()];
            let new: Vec<Value> = items
                .iter()
                .map(|c| {
                    let found = prior_items
                        .iter()
                        .enumerate()
                        .find(|(i, p)| !used[*i] && same_set_element(c, p));
                    match found {
                        Some((i, p)) => {
                            used[i] = true;
                            object(p, c)
                        }
                        None => c.clone(),
                    }
                })
                .collect();
            Value::set(elem.clone(), new).with_marks_of([config])
        }
        _ => config.clone(),
    }
}

/// Whether two objects agree on every attribute that is not computed.
fn non_computed_equal(
    attrs: &BTreeMap<String, Attribute>,
    blocks: &BTreeMap<String, NestedBlock>,
    a: &Value,
    b: &Value,
) -> bool {
    attrs.iter().all(|(name, attr)| {
        attr.computed
            || match (get(a, name), get(b, name)) {
                (Some(x), Some(y)) => same_value(x, y),
                (None, None) => true,
                _ => false,
            }
    }) && blocks
        .keys()
        .all(|name| match (get(a, name), get(b, name)) {
            (Some(x), Some(y)) => same_value(x, y),
            (None, None) => true,
            _ => false,
        })
}

/// Options of schema-driven planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanOptions {
    pub style: PlanStyle,
    /// Treat a computed top-level `id` as use-state-for-unknown, as almost
    /// every provider does (SDK v2 always; framework providers by a plan
    /// modifier). For schemas that state their plan behaviour, leave off.
    pub id_uses_state: bool,
    /// A change only inside nested blocks also makes computed attributes
    /// unknown (framework providers). Off, only top-level attribute changes
    /// do, which is what SDK-style providers and the conformance fake
    /// provider show.
    pub block_changes_mark_computed: bool,
}

/// Plans a resource known only by its schema: framework planning, with a
/// computed `id` kept on update (see [`PlanOptions::id_uses_state`]).
pub fn plan_resource(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> ResourcePlan {
    plan_from_schema(
        block,
        prior,
        proposed,
        config,
        PlanOptions {
            style: PlanStyle::Framework,
            id_uses_state: true,
            block_changes_mark_computed: false,
        },
    )
}

/// Plans a resource from its schema: `prior` is null on create and
/// `proposed` null on destroy.
pub fn plan_from_schema(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    options: PlanOptions,
) -> ResourcePlan {
    if proposed.is_null() {
        return ResourcePlan {
            planned: proposed.clone(),
            requires_replace: Vec::new(),
        };
    }
    let create = prior.is_null();
    let with_defaults = apply_defaults_block(block, proposed, config);
    let changed = create
        || if options.block_changes_mark_computed {
            !same_value(&with_defaults, prior)
        } else {
            block.attributes.keys().any(|name| {
                match (get(&with_defaults, name), get(prior, name)) {
                    (Some(after), Some(before)) => !same_value(after, before),
                    (None, None) => false,
                    _ => true,
                }
            })
        };
    let mark = match options.style {
        PlanStyle::Framework => changed,
        PlanStyle::Sdk => create,
    };
    let mut ctx = Planner {
        create,
        mark,
        options,
        requires_replace: Vec::new(),
    };
    let planned = ctx.block(block, prior, &with_defaults, config, &mut Vec::new(), true);
    let requires_replace = if create {
        Vec::new()
    } else {
        filter_requires_replace(prior, &planned, ctx.requires_replace)
    };
    ResourcePlan {
        planned,
        requires_replace,
    }
}

struct Planner {
    create: bool,
    mark: bool,
    options: PlanOptions,
    requires_replace: Vec<AttrPath>,
}

impl Planner {
    fn block(
        &mut self,
        block: &Block,
        prior: &Value,
        planned: &Value,
        config: &Value,
        path: &mut AttrPath,
        top: bool,
    ) -> Value {
        if planned.is_null() || !planned.is_known() {
            return planned.clone();
        }
        let mut attrs = planned.as_entries().cloned().unwrap_or_default();
        for (name, a) in &block.attributes {
            path.push(PathStep::Attr(name.clone()));
            let p = attr_or_null(planned, name, || a.implied_type());
            let s = attr_or_null(prior, name, || a.implied_type());
            let c = attr_or_null(config, name, || a.implied_type());
            let mut behavior = a.plan.clone();
            if top && name == "id" && a.computed && !a.optional && self.options.id_uses_state {
                behavior.use_state_for_unknown = true;
            }
            let v = self.attribute(a, &behavior, &s, &p, &c, path);
            attrs.insert(name.clone(), v);
            path.pop();
        }
        for (name, b) in &block.block_types {
            path.push(PathStep::Attr(name.clone()));
            let ty = || block_value_type(b);
            let p = attr_or_null(planned, name, ty);
            let s = attr_or_null(prior, name, ty);
            let c = attr_or_null(config, name, ty);
            let v = self.each_object(b.nesting, &s, &p, &c, path, &mut |me, s, p, c, path| {
                me.block(&b.block, s, p, c, path, false)
            });
            attrs.insert(name.clone(), v);
            path.pop();
        }
        Value::object(attrs).with_marks_of([planned])
    }

    /// Applies `f` to each nested object of a block or nested attribute
    /// value, pairing prior and configuration objects as the proposal did.
    fn each_object(
        &mut self,
        nesting: Nesting,
        prior: &Value,
        planned: &Value,
        config: &Value,
        path: &mut AttrPath,
        f: &mut dyn FnMut(&mut Planner, &Value, &Value, &Value, &mut AttrPath) -> Value,
    ) -> Value {
        if planned.is_null() || !planned.is_known() {
            return planned.clone();
        }
        match (nesting, planned.data()) {
            (Nesting::Single | Nesting::Group, _) => f(self, prior, planned, config, path),
            (Nesting::List | Nesting::Set, Data::List(_, items) | Data::Set(_, items))
            | (Nesting::List, Data::Tuple(items)) => {
                let priors = prior.as_elements().unwrap_or(&[]);
                let configs = config.as_elements().unwrap_or(&[]);
                let new: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        path.push(PathStep::Index(i));
                        let s = match nesting {
                            Nesting::List => priors.get(i).cloned(),
                            _ => None,
                        }
                        .unwrap_or_else(|| Value::null(p.ty()));
                        let c = configs
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| Value::null(p.ty()));
                        let v = f(self, &s, p, &c, path);
                        path.pop();
                        v
                    })
                    .collect();
                match planned.data() {
                    Data::List(t, _) => Value::list(t.clone(), new),
                    Data::Set(t, _) => Value::set(t.clone(), new),
                    _ => Value::tuple(new),
                }
                .with_marks_of([planned])
            }
            (Nesting::Map, Data::Map(_, items) | Data::Object(items)) => {
                let new: BTreeMap<String, Value> = items
                    .iter()
                    .map(|(k, p)| {
                        path.push(PathStep::Key(k.clone()));
                        let s = get(prior, k)
                            .cloned()
                            .unwrap_or_else(|| Value::null(p.ty()));
                        let c = get(config, k)
                            .cloned()
                            .unwrap_or_else(|| Value::null(p.ty()));
                        let v = f(self, &s, p, &c, path);
                        path.pop();
                        (k.clone(), v)
                    })
                    .collect();
                match planned.data() {
                    Data::Map(t, _) => Value::map(t.clone(), new),
                    _ => Value::object(new),
                }
                .with_marks_of([planned])
            }
            _ => planned.clone(),
        }
    }

    fn attribute(
        &mut self,
        a: &Attribute,
        behavior: &PlanBehavior,
        prior: &Value,
        planned: &Value,
        config: &Value,
        path: &mut AttrPath,
    ) -> Value {
        let mut value = planned.clone();
        // Computed values the configuration leaves null are decided by the
        // provider: unknown until apply.
        if self.mark
            && a.computed
            && config.is_null()
            && behavior.default.is_none()
            && value.is_known()
        {
            value = Value::unknown(a.implied_type());
        }
        // Nested members are planned one by one.
        if let AttributeType::Nested(n) = &a.ty {
            if value.is_known() && !value.is_null() {
                let elem_behavior = n.object_plan.clone();
                value = self.each_object(
                    n.nesting,
                    prior,
                    &value,
                    config,
                    path,
                    &mut |me, s, p, c, path| {
                        let mut obj = me.nested_object(n, s, p, c, path);
                        if elem_behavior.use_state_for_unknown && !obj.is_known() && !s.is_null() {
                            obj = s.clone();
                        }
                        obj
                    },
                );
            }
        }
        if behavior.null_equals_empty && config.is_null() && is_empty(prior) {
            value = prior.clone();
        }
        if behavior.use_state_for_unknown
            && !self.create
            && !value.is_known()
            && !prior.is_null()
            && config.is_known()
        {
            value = prior.clone();
        }
        if behavior.semantic_json {
            if let (Some(p), Some(s)) = (value.as_str(), prior.as_str()) {
                let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
                if p != s && parse(p).is_some() && parse(p) == parse(s) {
                    value = prior.clone();
                }
            }
        }
        if !self.create {
            match behavior.requires_replace {
                Some(RequiresReplace::Always) => self.requires_replace.push(path.clone()),
                Some(RequiresReplace::IfConfigured) if !config.is_null() => {
                    self.requires_replace.push(path.clone())
                }
                _ => {}
            }
        }
        value
    }

    fn nested_object(
        &mut self,
        n: &NestedType,
        prior: &Value,
        planned: &Value,
        config: &Value,
        path: &mut AttrPath,
    ) -> Value {
        if planned.is_null() || !planned.is_known() {
            return planned.clone();
        }
        let mut attrs = planned.as_entries().cloned().unwrap_or_default();
        for (name, a) in &n.attributes {
            path.push(PathStep::Attr(name.clone()));
            let p = attr_or_null(planned, name, || a.implied_type());
            let s = attr_or_null(prior, name, || a.implied_type());
            let c = attr_or_null(config, name, || a.implied_type());
            let v = self.attribute(a, &a.plan, &s, &p, &c, path);
            attrs.insert(name.clone(), v);
            path.pop();
        }
        Value::object(attrs).with_marks_of([planned])
    }
}

fn is_empty(v: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    match v.data() {
        Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => items.is_empty(),
        Data::Map(_, items) => items.is_empty(),
        Data::Object(items) => items.values().all(Value::is_null),
        _ => false,
    }
}

/// Fills attributes the configuration leaves null with their defaults.
fn apply_defaults_block(block: &Block, planned: &Value, config: &Value) -> Value {
    if planned.is_null() || !planned.is_known() {
        return planned.clone();
    }
    let Some(entries) = planned.as_entries() else {
        return planned.clone();
    };
    let mut attrs = entries.clone();
    apply_defaults_attrs(&block.attributes, &mut attrs, config);
    for (name, b) in &block.block_types {
        if let (Some(p), c) = (
            attrs.get(name).cloned(),
            attr_or_null(config, name, || Type::Dynamic),
        ) {
            let v = match b.nesting {
                Nesting::Single | Nesting::Group => apply_defaults_block(&b.block, &p, &c),
                _ => map_elements(&p, &c, &|p, c| apply_defaults_block(&b.block, p, c)),
            };
            attrs.insert(name.clone(), v);
        }
    }
    Value::object(attrs).with_marks_of([planned])
}

fn apply_defaults_attrs(
    defs: &BTreeMap<String, Attribute>,
    attrs: &mut BTreeMap<String, Value>,
    config: &Value,
) {
    for (name, a) in defs {
        let c = attr_or_null(config, name, || a.implied_type());
        let Some(current) = attrs.get(name).cloned() else {
            continue;
        };
        if c.is_null() {
            if let Some(default) = &a.plan.default {
                if let Ok(v) = Value::from_json(default, &a.implied_type()) {
                    attrs.insert(name.clone(), v);
                }
                continue;
            }
        }
        if let AttributeType::Nested(n) = &a.ty {
            let v = match n.nesting {
                Nesting::Single | Nesting::Group => nested_defaults(n, &current, &c),
                _ => map_elements(&current, &c, &|p, c| nested_defaults(n, p, c)),
            };
            attrs.insert(name.clone(), v);
        }
    }
}

fn nested_defaults(n: &NestedType, planned: &Value, config: &Value) -> Value {
    if planned.is_null() || !planned.is_known() {
        return planned.clone();
    }
    let Some(entries) = planned.as_entries() else {
        return planned.clone();
    };
    let mut attrs = entries.clone();
    apply_defaults_attrs(&n.attributes, &mut attrs, config);
    Value::object(attrs).with_marks_of([planned])
}

/// Maps `f` over the elements of a list, set or map value, pairing each
/// with the configuration element at the same index or key.
fn map_elements(planned: &Value, config: &Value, f: &dyn Fn(&Value, &Value) -> Value) -> Value {
    if planned.is_null() || !planned.is_known() {
        return planned.clone();
    }
    let null = || Value::null_dynamic();
    match planned.data() {
        Data::List(t, items) => {
            let cs = config.as_elements().unwrap_or(&[]);
            Value::list(
                t.clone(),
                items
                    .iter()
                    .enumerate()
                    .map(|(i, p)| f(p, cs.get(i).unwrap_or(&null())))
                    .collect(),
            )
        }
        Data::Set(t, items) => {
            let cs = config.as_elements().unwrap_or(&[]);
            Value::set(
                t.clone(),
                items
                    .iter()
                    .enumerate()
                    .map(|(i, p)| f(p, cs.get(i).unwrap_or(&null())))
                    .collect(),
            )
        }
        Data::Map(t, items) => Value::map(
            t.clone(),
            items
                .iter()
                .map(|(k, p)| (k.clone(), f(p, get(config, k).unwrap_or(&null()))))
                .collect(),
        ),
        _ => planned.clone(),
    }
    .with_marks_of([planned])
}

/// Terraform core's filter of a provider's replacement paths: a path
/// counts only when its planned value is unknown or differs from the prior
/// value.
pub fn filter_requires_replace(
    prior: &Value,
    planned: &Value,
    paths: Vec<AttrPath>,
) -> Vec<AttrPath> {
    if prior.is_null() {
        return Vec::new();
    }
    let mut out: Vec<AttrPath> = paths
        .into_iter()
        .filter(|path| {
            let before = value_at(prior, path);
            let after = value_at(planned, path);
            match (before, after) {
                (_, Some(a)) if !a.is_wholly_known() => true,
                (Some(b), Some(a)) => !same_value(b, a),
                (None, None) => false,
                _ => true,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The value at `path` inside `v`, when every step exists.
pub fn value_at<'a>(v: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    let mut current = v;
    for step in path {
        current = match step {
            PathStep::Attr(name) | PathStep::Key(name) => current.get_attr(name)?,
            PathStep::Index(i) => current.as_elements()?.get(*i)?,
        };
    }
    Some(current)
}

/// Whether two values hold the same data, marks and the element types
/// collections remember aside (a converted configuration value and the
/// same value read back from state are the same).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a.data(), b.data()) {
        (Data::Null(_), Data::Null(_)) => true,
        (Data::Unknown(_), Data::Unknown(_)) => true,
        (Data::String(x), Data::String(y)) => x == y,
        (Data::Number(x), Data::Number(y)) => x == y,
        (Data::Bool(x), Data::Bool(y)) => x == y,
        (Data::List(_, x), Data::List(_, y))
        | (Data::Set(_, x), Data::Set(_, y))
        | (Data::Tuple(x), Data::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Data::Map(_, x), Data::Map(_, y)) | (Data::Object(x), Data::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => false,
    }
}

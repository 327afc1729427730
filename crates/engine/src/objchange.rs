//! Object changes: how a planned value is derived from prior state and
//! configuration, and how a provider's plan is checked against them.
//!
//! - [`proposed_new`] is Terraform's `objchange.ProposedNew`: the value a
//!   provider starts planning from (configuration merged with the prior
//!   state: computed attributes the configuration leaves null keep their
//!   prior value, nested blocks are correlated by index, key or, for sets,
//!   by their non-computed attributes). Nested attribute types (protocol 6)
//!   follow Terraform 1.3 and later.
//! - [`assert_plan_valid`] is `objchange.AssertPlanValid`: a planned value
//!   may only differ from configuration where the schema allows it;
//!   [`assert_object_compatible`] is `AssertObjectCompatible`: an applied
//!   value must keep everything its plan knew.
//! - Helpers for the planner, in the order a provider framework applies
//!   them: [`apply_defaults`], [`mark_computed_nulls_unknown`] (what the
//!   plugin framework and SDKv2 do on create and update),
//!   [`apply_use_state_for_unknown`], [`apply_semantic_equality`], then
//!   [`requires_replace_paths`]; and [`paths_that_differ`].
//!
//! Everything here is pure: values in, values out.

use std::collections::BTreeMap;
use std::fmt;

use meshform_lang::schema::{
    Attribute, AttributeType, Block, NestedBlock, NestedType, Nesting, RequiresReplace,
};
use meshform_lang::{Data, PathStep, Type, Value};

use crate::decode::{empty_value, value_type};

/// A path to a value inside a resource object: attribute names, list
/// indexes and map keys.
pub type Path = Vec<PathStep>;

/// The value of a block with every attribute null (and nested blocks
/// empty): the synthetic prior of an object being created.
pub fn all_attributes_null(block: &Block) -> Value {
    empty_value(block)
}

/// Whether two values are the same, marks aside (cty's `RawEquals` of the
/// unmarked values: types must match too).
pub fn values_equal_ignoring_marks(a: &Value, b: &Value) -> bool {
    a.clone().unmark_deep() == b.clone().unmark_deep()
}

/// Terraform's `ProposedNew`: the planned value a provider is offered,
/// from the prior state (null when creating) and the decoded configuration.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() && prior.is_null() {
        return prior.clone();
    }
    let prior = if prior.is_null() {
        all_attributes_null(block)
    } else {
        prior.clone()
    };
    proposed_new_block(block, &prior, config)
}

/// The planned value of a data source read during planning: everything
/// not set in the configuration is unknown.
pub fn planned_data_resource_object(block: &Block, config: &Value) -> Value {
    let prior = Value::unknown(value_type(&block.implied_type()));
    proposed_new_block(block, &prior, config)
}

/// The schema of one nested object: a block or the attributes of a nested
/// attribute type.
#[derive(Clone, Copy)]
enum Nested<'a> {
    Block(&'a Block),
    Object(&'a BTreeMap<String, Attribute>),
}

impl Nested<'_> {
    fn attributes(&self) -> &BTreeMap<String, Attribute> {
        match self {
            Nested::Block(b) => &b.attributes,
            Nested::Object(a) => a,
        }
    }

    fn block_types(&self) -> Option<&BTreeMap<String, NestedBlock>> {
        match self {
            Nested::Block(b) => Some(&b.block_types),
            Nested::Object(_) => None,
        }
    }
}

/// The type of an attribute's value.
fn attr_type(a: &Attribute) -> Type {
    value_type(&a.implied_type())
}

/// The type of a nested block type's value in its parent.
fn block_type_of(nb: &NestedBlock) -> Type {
    let inner = value_type(&nb.block.implied_type());
    match nb.nesting {
        Nesting::Single | Nesting::Group => inner,
        Nesting::List if inner.has_dynamic() => Type::Dynamic,
        Nesting::List => Type::list(inner),
        Nesting::Set => Type::set(inner),
        Nesting::Map if inner.has_dynamic() => Type::Dynamic,
        Nesting::Map => Type::map(inner),
    }
}

/// `v.name` for an object value; a null or unknown object gives a null or
/// unknown value of type `ty`.
fn get(v: &Value, name: &str, ty: impl FnOnce() -> Type) -> Value {
    match v.data() {
        Data::Object(attrs) | Data::Map(_, attrs) => attrs
            .get(name)
            .cloned()
            .unwrap_or_else(|| Value::null(ty())),
        Data::Unknown(_) => Value::unknown(ty()),
        _ => Value::null(ty()),
    }
}

/// The element type of a list, set or map value (dynamic otherwise).
fn element_type(v: &Value) -> Type {
    match v.ty() {
        Type::List(e) | Type::Set(e) | Type::Map(e) => (*e).clone(),
        _ => Type::Dynamic,
    }
}

fn proposed_new_block(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return prior.clone();
    }
    let mut out = proposed_new_attributes(&block.attributes, prior, config);
    for (name, nb) in &block.block_types {
        let prior_v = get(prior, name, || block_type_of(nb));
        let config_v = get(config, name, || block_type_of(nb));
        out.insert(
            name.clone(),
            proposed_new_nested_block(nb, &prior_v, &config_v),
        );
    }
    Value::object(out)
}

fn proposed_new_nested_block(nb: &NestedBlock, prior: &Value, config: &Value) -> Value {
    if !config.is_known() {
        return config.clone();
    }
    let schema = Nested::Block(&nb.block);
    match nb.nesting {
        Nesting::Single => {
            if config.is_null() {
                Value::null(config.ty())
            } else {
                proposed_new(&nb.block, prior, config)
            }
        }
        Nesting::Group => proposed_new(&nb.block, prior, config),
        Nesting::List => proposed_new_list(schema, prior, config),
        Nesting::Map => proposed_new_map(schema, prior, config),
        Nesting::Set => proposed_new_set(schema, prior, config),
    }
}

fn proposed_new_nested_type(nt: &NestedType, prior: &Value, config: &Value) -> Value {
    if !config.is_known() {
        return config.clone();
    }
    let schema = Nested::Object(&nt.attributes);
    match nt.nesting {
        Nesting::Single | Nesting::Group => {
            if config.is_null() {
                config.clone()
            } else {
                proposed_new_object_attributes(&nt.attributes, prior, config)
            }
        }
        Nesting::List => proposed_new_list(schema, prior, config),
        Nesting::Map => proposed_new_map(schema, prior, config),
        Nesting::Set => proposed_new_set(schema, prior, config),
    }
}

fn proposed_new_block_or_object(schema: Nested<'_>, prior: &Value, config: &Value) -> Value {
    match schema {
        Nested::Block(b) => proposed_new(b, prior, config),
        Nested::Object(attrs) => proposed_new_object_attributes(attrs, prior, config),
    }
}

fn proposed_new_object_attributes(
    attrs: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
) -> Value {
    if config.is_null() {
        return config.clone();
    }
    Value::object(proposed_new_attributes(attrs, prior, config)).with_marks_of([config])
}

fn proposed_new_attributes(
    attrs: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, attr) in attrs {
        let prior_v = get(prior, name, || attr_type(attr));
        let config_v = get(config, name, || attr_type(attr));
        let new_v = if attr.computed && config_v.is_null() {
            // A computed attribute left out of the configuration keeps its
            // prior value, unless the prior value must have come from an
            // earlier configuration (it holds non-computed members).
            if optional_value_not_computable(attr, &prior_v) {
                config_v
            } else {
                prior_v
            }
        } else if let AttributeType::Nested(nt) = &attr.ty {
            proposed_new_nested_type(nt, &prior_v, &config_v)
        } else {
            config_v
        };
        out.insert(name.clone(), new_v);
    }
    out
}

/// Whether a prior value of an optional nested attribute holds a non-null
/// member that is not computed: then the configuration once set it, and a
/// null configuration now means "remove it".
fn optional_value_not_computable(attr: &Attribute, prior: &Value) -> bool {
    if !attr.optional {
        return false;
    }
    let AttributeType::Nested(nt) = &attr.ty else {
        return false;
    };
    nested_has_configured_member(nt, prior)
}

fn nested_has_configured_member(nt: &NestedType, v: &Value) -> bool {
    let objects: Vec<&Value> = match (nt.nesting, v.data()) {
        (_, Data::Null(_) | Data::Unknown(_)) => return false,
        (Nesting::Single | Nesting::Group, _) => vec![v],
        (_, Data::List(_, xs) | Data::Set(_, xs) | Data::Tuple(xs)) => xs.iter().collect(),
        (_, Data::Map(_, xs) | Data::Object(xs)) => xs.values().collect(),
        _ => return false,
    };
    objects.into_iter().any(|o| {
        nt.attributes.iter().any(|(name, a)| {
            let Some(m) = o.get_attr(name) else {
                return false;
            };
            if m.is_null() {
                return false;
            }
            if !a.computed {
                return true;
            }
            match &a.ty {
                AttributeType::Nested(inner) => nested_has_configured_member(inner, m),
                AttributeType::Type(_) => false,
            }
        })
    })
}

fn proposed_new_list(schema: Nested<'_>, prior: &Value, config: &Value) -> Value {
    let Some(items) = config.as_elements() else {
        return config.clone();
    };
    if items.is_empty() {
        return config.clone();
    }
    let prior_items = prior.as_elements();
    let mut out = Vec::with_capacity(items.len());
    for (i, config_ev) in items.iter().enumerate() {
        let prior_ev = match prior_items {
            Some(p) => match p.get(i) {
                Some(pe) => pe.clone(),
                None => {
                    out.push(config_ev.clone());
                    continue;
                }
            },
            None if prior.is_known() => {
                // A null prior: nothing to correlate with.
                out.push(config_ev.clone());
                continue;
            }
            None => Value::unknown(config_ev.ty()),
        };
        out.push(proposed_new_block_or_object(schema, &prior_ev, config_ev));
    }
    let v = match config.data() {
        Data::Tuple(_) => Value::tuple(out),
        _ => Value::list(element_type(config), out),
    };
    v.mark_sensitive_if(config.is_sensitive())
}

fn proposed_new_map(schema: Nested<'_>, prior: &Value, config: &Value) -> Value {
    let Some(items) = config.as_entries() else {
        return config.clone();
    };
    if items.is_empty() {
        return config.clone();
    }
    let prior_items = if prior.is_known() && !prior.is_null() {
        prior.as_entries()
    } else {
        None
    };
    let mut out = BTreeMap::new();
    for (k, config_ev) in items {
        let new_v = match prior_items.and_then(|p| p.get(k)) {
            Some(prior_ev) => proposed_new_block_or_object(schema, prior_ev, config_ev),
            None => config_ev.clone(),
        };
        out.insert(k.clone(), new_v);
    }
    let v = match config.data() {
        Data::Object(_) => Value::object(out),
        _ => Value::map(element_type(config), out),
    };
    v.mark_sensitive_if(config.is_sensitive())
}

fn proposed_new_set(schema: Nested<'_>, prior: &Value, config: &Value) -> Value {
    let Some(items) = config.as_elements() else {
        return config.clone();
    };
    if items.is_empty() {
        return config.clone();
    }
    let prior_items: &[Value] = if prior.is_known() && !prior.is_null() {
        prior.as_elements().unwrap_or(&[])
    } else {
        &[]
    };
    let elem_ty = element_type(config);
    let mut used = vec![false; prior_items.len()];
    let mut out = Vec::with_capacity(items.len());
    for config_ev in items {
        let mut prior_ev = None;
        for (i, candidate) in prior_items.iter().enumerate() {
            if used[i] {
                continue;
            }
            if valid_prior_from_config(schema, candidate, config_ev) {
                prior_ev = Some(candidate.clone());
                used[i] = true;
                break;
            }
        }
        let prior_ev = prior_ev.unwrap_or_else(|| Value::null(elem_ty.clone()));
        out.push(proposed_new_block_or_object(schema, &prior_ev, config_ev));
    }
    Value::set(elem_ty, out).mark_sensitive_if(config.is_sensitive())
}

/// Whether a prior set element could have been planned from a
/// configuration element: they differ only in computed attributes that the
/// configuration leaves null.
fn valid_prior_from_config(schema: Nested<'_>, prior: &Value, config: &Value) -> bool {
    valid_prior_object(schema.attributes(), schema.block_types(), prior, config)
}

fn valid_prior_object(
    attrs: &BTreeMap<String, Attribute>,
    block_types: Option<&BTreeMap<String, NestedBlock>>,
    prior: &Value,
    config: &Value,
) -> bool {
    if values_equal_ignoring_marks(prior, config) {
        return true;
    }
    let Some(prior_attrs) = prior.as_entries() else {
        // A null or unknown prior has nothing to compare.
        return true;
    };
    if prior_attrs.is_empty() {
        return true;
    }
    let Some(config_attrs) = config.as_entries() else {
        return false;
    };
    for (name, a) in attrs {
        let (Some(pv), Some(cv)) = (prior_attrs.get(name), config_attrs.get(name)) else {
            return false;
        };
        if !valid_prior_attribute(a, pv, cv) {
            return false;
        }
    }
    if let Some(block_types) = block_types {
        for (name, nb) in block_types {
            let (Some(pv), Some(cv)) = (prior_attrs.get(name), config_attrs.get(name)) else {
                return false;
            };
            if !valid_prior_collection(
                nb.nesting,
                &nb.block.attributes,
                Some(&nb.block.block_types),
                pv,
                cv,
            ) {
                return false;
            }
        }
    }
    true
}

fn valid_prior_attribute(a: &Attribute, prior: &Value, config: &Value) -> bool {
    if values_equal_ignoring_marks(prior, config) {
        return true;
    }
    if matches!(config.ty(), Type::Set(_)) {
        return false;
    }
    if let AttributeType::Nested(nt) = &a.ty {
        return valid_prior_collection(nt.nesting, &nt.attributes, None, prior, config);
    }
    a.computed && config.is_null()
}

/// One nested attribute or block type's value (an object or a collection
/// of objects), compared element by element.
fn valid_prior_collection(
    nesting: Nesting,
    attrs: &BTreeMap<String, Attribute>,
    block_types: Option<&BTreeMap<String, NestedBlock>>,
    prior: &Value,
    config: &Value,
) -> bool {
    if values_equal_ignoring_marks(prior, config) {
        return true;
    }
    if matches!(config.ty(), Type::Set(_)) {
        return false;
    }
    match nesting {
        Nesting::Single | Nesting::Group => valid_prior_object(attrs, block_types, prior, config),
        Nesting::List | Nesting::Set => {
            let Some(ps) = prior.as_elements() else {
                return true;
            };
            let Some(cs) = config.as_elements() else {
                return ps.is_empty();
            };
            ps.iter().enumerate().all(|(i, pe)| match cs.get(i) {
                Some(ce) => valid_prior_object(attrs, block_types, pe, ce),
                None => false,
            })
        }
        Nesting::Map => {
            let Some(ps) = prior.as_entries() else {
                return true;
            };
            let Some(cs) = config.as_entries() else {
                return ps.is_empty();
            };
            ps.iter().all(|(k, pe)| match cs.get(k) {
                Some(ce) => valid_prior_object(attrs, block_types, pe, ce),
                None => false,
            })
        }
    }
}

/// A planned value that is not consistent with the configuration, found by
/// [`assert_plan_valid`]: where, and what is wrong in Terraform's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanProblem {
    pub path: Path,
    pub message: String,
}

impl PlanProblem {
    fn new(path: &[PathStep], message: impl Into<String>) -> PlanProblem {
        PlanProblem {
            path: path.to_vec(),
            message: message.into(),
        }
    }

    /// Terraform's diagnostic detail for this problem in the plan of
    /// `address` by `provider`: `Provider "p" planned an invalid value for
    /// addr.path: message.` and the bug-report sentence.
    pub fn detail(&self, provider: &str, address: &str) -> String {
        let place = if self.path.is_empty() {
            format!("{address}: {}", self.message)
        } else {
            format!("{address}{}: {}", format_path(&self.path), self.message)
        };
        format!(
            "Provider \"{provider}\" planned an invalid value for {place}.\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker."
        )
    }
}

impl fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", format_path(&self.path), self.message)
        }
    }
}

/// A path as Terraform prints it after an address: `.spec.from[0]`,
/// `.tags["a"]`.
pub fn format_path(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Attr(a) => {
                out.push('.');
                out.push_str(a);
            }
            PathStep::Key(k) => out.push_str(&format!("[{k:?}]")),
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Terraform's `AssertPlanValid`: the problems in a provider's planned
/// value given the prior state and the configuration (empty when the plan
/// is consistent).
pub fn assert_plan_valid(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    assert_block_valid(block, prior, config, planned, &mut Vec::new(), &mut out);
    out
}

fn assert_block_valid(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    if planned.is_null() && !config.is_null() {
        out.push(PlanProblem::new(
            path,
            "planned for absence but config wants existence",
        ));
        return;
    }
    if config.is_null() && !planned.is_null() {
        out.push(PlanProblem::new(
            path,
            "planned for existence but config wants absence",
        ));
        return;
    }
    if planned.is_null() {
        return;
    }
    assert_attributes_valid(&block.attributes, prior, config, planned, path, out);
    for (name, nb) in &block.block_types {
        path.push(PathStep::Attr(name.clone()));
        let planned_v = get(planned, name, || block_type_of(nb));
        let config_v = get(config, name, || block_type_of(nb));
        let prior_v = get(prior, name, || block_type_of(nb));
        assert_blocks_valid(nb, &prior_v, &config_v, &planned_v, path, out);
        path.pop();
    }
}

fn assert_blocks_valid(
    nb: &NestedBlock,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    if values_equal_ignoring_marks(planned, config) {
        return;
    }
    if !config.is_known() {
        out.push(PlanProblem::new(
            path,
            format!(
                "planned value {} for unknown dynamic block",
                go_string(planned)
            ),
        ));
        return;
    }
    if !planned.is_known() {
        out.push(PlanProblem::new(
            path,
            "attribute representing nested block must not be unknown itself; set nested attribute values to unknown instead",
        ));
        return;
    }
    let elem_unknown =
        "element representing nested block must not be unknown itself; set nested attribute values to unknown instead";
    match nb.nesting {
        Nesting::Single | Nesting::Group => {
            assert_block_valid(&nb.block, prior, config, planned, path, out);
        }
        Nesting::List => {
            if planned.is_null() {
                out.push(PlanProblem::new(
                    path,
                    "attribute representing a list of nested blocks must be empty to indicate no blocks, not null",
                ));
                return;
            }
            let ps = planned.as_elements().unwrap_or(&[]);
            let cs = config.as_elements().unwrap_or(&[]);
            if ps.len() != cs.len() {
                out.push(PlanProblem::new(
                    path,
                    format!(
                        "block count in plan ({}) disagrees with count in config ({})",
                        ps.len(),
                        cs.len()
                    ),
                ));
                return;
            }
            let prior_items = prior.as_elements().unwrap_or(&[]);
            let null_elem = Value::null(value_type(&nb.block.implied_type()));
            for (i, (pe, ce)) in ps.iter().zip(cs).enumerate() {
                path.push(PathStep::Index(i));
                if pe.is_known() {
                    let prior_e = prior_items.get(i).unwrap_or(&null_elem);
                    assert_block_valid(&nb.block, prior_e, ce, pe, path, out);
                } else {
                    out.push(PlanProblem::new(path, elem_unknown));
                }
                path.pop();
            }
        }
        Nesting::Map => {
            if planned.is_null() {
                out.push(PlanProblem::new(
                    path,
                    "attribute representing a map of nested blocks must be empty to indicate no blocks, not null",
                ));
                return;
            }
            let empty = BTreeMap::new();
            let ps = planned.as_entries().unwrap_or(&empty);
            let cs = config.as_entries().unwrap_or(&empty);
            let prior_items = prior.as_entries().unwrap_or(&empty);
            let null_elem = Value::null(value_type(&nb.block.implied_type()));
            for (k, pe) in ps {
                let Some(ce) = cs.get(k) else {
                    out.push(PlanProblem::new(
                        path,
                        format!("block key {k:?} from plan is not present in config"),
                    ));
                    continue;
                };
                path.push(PathStep::Key(k.clone()));
                if pe.is_known() {
                    let prior_e = prior_items.get(k).unwrap_or(&null_elem);
                    assert_block_valid(&nb.block, prior_e, ce, pe, path, out);
                } else {
                    out.push(PlanProblem::new(path, elem_unknown));
                }
                path.pop();
            }
            for k in cs.keys() {
                if !ps.contains_key(k) {
                    out.push(PlanProblem::new(
                        path,
                        format!("block key {k:?} from config is not present in plan"),
                    ));
                }
            }
        }
        Nesting::Set => {
            if planned.is_null() {
                out.push(PlanProblem::new(
                    path,
                    "attribute representing a set of nested blocks must be empty to indicate no blocks, not null",
                ));
                return;
            }
            // Set elements have no identity to correlate them by, so only
            // their being known can be checked.
            for pe in planned.as_elements().unwrap_or(&[]) {
                if !pe.is_known() {
                    out.push(PlanProblem::new(path, elem_unknown));
                }
            }
        }
    }
}

fn assert_attributes_valid(
    attrs: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    for (name, a) in attrs {
        let planned_v = get(planned, name, || attr_type(a));
        let config_v = get(config, name, || attr_type(a));
        let prior_v = get(prior, name, || attr_type(a));
        path.push(PathStep::Attr(name.clone()));
        assert_value_valid(a, &prior_v, &config_v, &planned_v, path, out);
        path.pop();
    }
}

fn assert_value_valid(
    a: &Attribute,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    if values_equal_ignoring_marks(planned, config) {
        return;
    }
    if values_equal_ignoring_marks(planned, prior) && !prior.is_null() && !config.is_null() {
        return;
    }
    if a.computed && !a.optional {
        return;
    }
    if config.is_null() && a.computed {
        return;
    }
    let hide = a.sensitive || planned.contains_sensitive() || config.contains_sensitive();
    if config.is_null() && !planned.is_null() {
        let msg = if hide {
            "planned value for a non-computed attribute".to_owned()
        } else {
            format!(
                "planned value {} for a non-computed attribute",
                go_string(planned)
            )
        };
        out.push(PlanProblem::new(path, msg));
        return;
    }
    if let AttributeType::Nested(nt) = &a.ty {
        assert_nested_valid(nt, prior, config, planned, path, out);
        return;
    }
    let hide = hide || prior.contains_sensitive();
    let msg = match (prior.is_null(), hide) {
        (true, true) => "sensitive planned value does not match config value".to_owned(),
        (true, false) => format!(
            "planned value {} does not match config value {}",
            go_string(planned),
            go_string(config)
        ),
        (false, true) => {
            "sensitive planned value does not match config value nor prior value".to_owned()
        }
        (false, false) => format!(
            "planned value {} does not match config value {} nor prior value {}",
            go_string(planned),
            go_string(config),
            go_string(prior)
        ),
    };
    out.push(PlanProblem::new(path, msg));
}

fn assert_nested_valid(
    nt: &NestedType,
    prior: &Value,
    config: &Value,
    planned: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    if planned.is_null() && !config.is_null() {
        out.push(PlanProblem::new(
            path,
            "planned for absence but config wants existence",
        ));
        return;
    }
    if config.is_null() && !planned.is_null() {
        out.push(PlanProblem::new(
            path,
            "planned for existence but config wants absence",
        ));
        return;
    }
    if !config.is_known() || !planned.is_known() || planned.is_null() {
        return;
    }
    match nt.nesting {
        Nesting::Single | Nesting::Group => {
            assert_attributes_valid(&nt.attributes, prior, config, planned, path, out);
        }
        Nesting::List => {
            let ps = planned.as_elements().unwrap_or(&[]);
            let cs = config.as_elements().unwrap_or(&[]);
            if ps.len() != cs.len() {
                out.push(PlanProblem::new(
                    path,
                    format!(
                        "count in plan ({}) disagrees with count in config ({})",
                        ps.len(),
                        cs.len()
                    ),
                ));
                return;
            }
            let prior_items = prior.as_elements().unwrap_or(&[]);
            let null_elem = Value::null(element_type(config));
            for (i, (pe, ce)) in ps.iter().zip(cs).enumerate() {
                path.push(PathStep::Index(i));
                let prior_e = prior_items.get(i).unwrap_or(&null_elem);
                assert_attributes_valid(&nt.attributes, prior_e, ce, pe, path, out);
                path.pop();
            }
        }
        Nesting::Map => {
            let empty = BTreeMap::new();
            let ps = planned.as_entries().unwrap_or(&empty);
            let cs = config.as_entries().unwrap_or(&empty);
            let prior_items = prior.as_entries().unwrap_or(&empty);
            let null_elem = Value::null(element_type(config));
            for (k, pe) in ps {
                let Some(ce) = cs.get(k) else {
                    out.push(PlanProblem::new(
                        path,
                        format!("key {k:?} from plan is not present in config"),
                    ));
                    continue;
                };
                path.push(PathStep::Key(k.clone()));
                let prior_e = prior_items.get(k).unwrap_or(&null_elem);
                assert_attributes_valid(&nt.attributes, prior_e, ce, pe, path, out);
                path.pop();
            }
            for k in cs.keys() {
                if !ps.contains_key(k) {
                    out.push(PlanProblem::new(
                        path,
                        format!("key {k:?} from config is not present in plan"),
                    ));
                }
            }
        }
        Nesting::Set => {
            let ps = planned.as_elements().map_or(0, <[Value]>::len);
            let cs = config.as_elements().map_or(0, <[Value]>::len);
            if ps != cs {
                out.push(PlanProblem::new(
                    path,
                    format!("count in plan ({ps}) disagrees with count in config ({cs})"),
                ));
            }
        }
    }
}

/// A value as cty's `GoString` prints it in Terraform's messages:
/// `cty.StringVal("a")`, `cty.NullVal(cty.String)`.
pub fn go_string(v: &Value) -> String {
    if v.is_sensitive() {
        return "(sensitive value)".to_owned();
    }
    match v.data() {
        Data::Null(t) => format!("cty.NullVal({})", go_type(t)),
        Data::Unknown(t) => format!("cty.UnknownVal({})", go_type(t)),
        Data::String(s) => format!("cty.StringVal({s:?})"),
        Data::Number(n) => {
            if n.is_integer() && n.to_i64().is_some() {
                format!("cty.NumberIntVal({})", n.to_text())
            } else {
                format!("cty.NumberFloatVal({})", n.to_text())
            }
        }
        Data::Bool(true) => "cty.True".to_owned(),
        Data::Bool(false) => "cty.False".to_owned(),
        Data::List(t, xs) if xs.is_empty() => format!("cty.ListValEmpty({})", go_type(t)),
        Data::Set(t, xs) if xs.is_empty() => format!("cty.SetValEmpty({})", go_type(t)),
        Data::Map(t, xs) if xs.is_empty() => format!("cty.MapValEmpty({})", go_type(t)),
        Data::Tuple(xs) if xs.is_empty() => "cty.EmptyTupleVal".to_owned(),
        Data::Object(xs) if xs.is_empty() => "cty.EmptyObjectVal".to_owned(),
        Data::List(_, xs) => format!("cty.ListVal([]cty.Value{{{}}})", go_list(xs)),
        Data::Set(_, xs) => format!("cty.SetVal([]cty.Value{{{}}})", go_list(xs)),
        Data::Tuple(xs) => format!("cty.TupleVal([]cty.Value{{{}}})", go_list(xs)),
        Data::Map(_, xs) => format!("cty.MapVal(map[string]cty.Value{{{}}})", go_map(xs)),
        Data::Object(xs) => format!("cty.ObjectVal(map[string]cty.Value{{{}}})", go_map(xs)),
    }
}

fn go_list(xs: &[Value]) -> String {
    xs.iter().map(go_string).collect::<Vec<_>>().join(", ")
}

fn go_map(xs: &BTreeMap<String, Value>) -> String {
    xs.iter()
        .map(|(k, v)| format!("{k:?}:{}", go_string(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn go_type(t: &Type) -> String {
    match t {
        Type::String => "cty.String".to_owned(),
        Type::Number => "cty.Number".to_owned(),
        Type::Bool => "cty.Bool".to_owned(),
        Type::Dynamic => "cty.DynamicPseudoType".to_owned(),
        Type::List(e) => format!("cty.List({})", go_type(e)),
        Type::Set(e) => format!("cty.Set({})", go_type(e)),
        Type::Map(e) => format!("cty.Map({})", go_type(e)),
        Type::Tuple(es) => format!(
            "cty.Tuple([]cty.Type{{{}}})",
            es.iter().map(go_type).collect::<Vec<_>>().join(", ")
        ),
        Type::Object { attrs, .. } => format!(
            "cty.Object(map[string]cty.Type{{{}}})",
            attrs
                .iter()
                .map(|(k, t)| format!("{k:?}:{}", go_type(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Terraform's `AssertObjectCompatible`: the problems in the new value a
/// provider returned from apply, against the value it planned (unknown
/// planned values may become anything of their type; everything known
/// must stay as planned).
pub fn assert_object_compatible(
    block: &Block,
    planned: &Value,
    actual: &Value,
) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    object_compatible(block, planned, actual, &mut Vec::new(), &mut out);
    out
}

impl PlanProblem {
    /// Terraform's diagnostic detail for this problem in the result of
    /// applying `address` by `provider` ("Provider produced inconsistent
    /// result after apply").
    pub fn apply_detail(&self, provider: &str, address: &str) -> String {
        format!(
            "When applying changes to {address}, provider \"{provider}\" produced an unexpected new value: {self}.\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker."
        )
    }
}

fn object_compatible(
    block: &Block,
    planned: &Value,
    actual: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    let at_root = if path.is_empty() {
        "Root resource "
    } else {
        ""
    };
    if planned.is_null() && !actual.is_null() {
        out.push(PlanProblem::new(
            path,
            format!("{at_root}was absent, but now present"),
        ));
        return;
    }
    if actual.is_null() && !planned.is_null() {
        out.push(PlanProblem::new(
            path,
            format!("{at_root}was present, but now absent"),
        ));
        return;
    }
    if planned.is_null() {
        return;
    }
    for (name, a) in &block.attributes {
        let pv = get(planned, name, || attr_type(a));
        let av = get(actual, name, || attr_type(a));
        path.push(PathStep::Attr(name.clone()));
        let mut found = Vec::new();
        let (pu, au) = (pv.clone().unmark_deep(), av.clone().unmark_deep());
        value_compatible(&pu, &au, path, &mut found);
        if a.sensitive || pv.contains_sensitive() || av.contains_sensitive() {
            if !found.is_empty() {
                out.push(PlanProblem::new(
                    path,
                    "inconsistent values for sensitive attribute",
                ));
            }
        } else {
            out.extend(found);
        }
        path.pop();
    }
    for (name, nb) in &block.block_types {
        let pv = get(planned, name, || block_type_of(nb));
        let av = get(actual, name, || block_type_of(nb));
        path.push(PathStep::Attr(name.clone()));
        blocks_compatible(nb, &pv, &av, path, out);
        path.pop();
    }
}

fn blocks_compatible(
    nb: &NestedBlock,
    planned: &Value,
    actual: &Value,
    path: &mut Path,
    out: &mut Vec<PlanProblem>,
) {
    match nb.nesting {
        Nesting::Single | Nesting::Group => {
            // An unknown dynamic block may turn out to be no block at all.
            if !planned.is_known() && actual.is_null() {
                return;
            }
            if !planned.is_known() {
                return;
            }
            object_compatible(&nb.block, planned, actual, path, out);
        }
        Nesting::List => {
            let (Some(ps), Some(xs)) = (planned.as_elements(), actual.as_elements()) else {
                return;
            };
            if ps.len() != xs.len() {
                out.push(PlanProblem::new(
                    path,
                    format!("block count changed from {} to {}", ps.len(), xs.len()),
                ));
                return;
            }
            for (i, (p, x)) in ps.iter().zip(xs).enumerate() {
                path.push(PathStep::Index(i));
                object_compatible(&nb.block, p, x, path, out);
                path.pop();
            }
        }
        Nesting::Map => {
            let (Some(ps), Some(xs)) = (planned.as_entries(), actual.as_entries()) else {
                return;
            };
            for (k, p) in ps {
                let Some(x) = xs.get(k) else {
                    out.push(PlanProblem::new(
                        path,
                        format!("block key {k:?} has vanished"),
                    ));
                    continue;
                };
                path.push(PathStep::Key(k.clone()));
                object_compatible(&nb.block, p, x, path, out);
                path.pop();
            }
            for k in xs.keys() {
                if !ps.contains_key(k) {
                    out.push(PlanProblem::new(
                        path,
                        format!("new block key {k:?} has appeared"),
                    ));
                }
            }
        }
        Nesting::Set => {
            let (Some(ps), Some(xs)) = (planned.as_elements(), actual.as_elements()) else {
                return;
            };
            out.extend(set_compatible(ps, xs, path, |p, x| {
                let mut found = Vec::new();
                object_compatible(&nb.block, p, x, &mut Vec::new(), &mut found);
                found.is_empty()
            }));
            if ps.len() < xs.len() {
                out.push(PlanProblem::new(
                    path,
                    format!("block set length changed from {} to {}", ps.len(), xs.len()),
                ));
            }
        }
    }
}

/// Whether a value of type `have` may stand where `want` was planned
/// (`Dynamic` accepts anything).
fn type_conforms(have: &Type, want: &Type) -> bool {
    match (have, want) {
        (_, Type::Dynamic) => true,
        (Type::List(a), Type::List(b))
        | (Type::Set(a), Type::Set(b))
        | (Type::Map(a), Type::Map(b)) => type_conforms(a, b),
        (Type::Tuple(a), Type::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| type_conforms(x, y))
        }
        (Type::Object { attrs: a, .. }, Type::Object { attrs: b, .. }) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|((ka, ta), (kb, tb))| ka == kb && type_conforms(ta, tb))
        }
        _ => have == want,
    }
}

fn value_compatible(planned: &Value, actual: &Value, path: &mut Path, out: &mut Vec<PlanProblem>) {
    let want = planned.ty();
    if want == Type::Dynamic {
        return;
    }
    if !type_conforms(&actual.ty(), &want) {
        out.push(PlanProblem::new(
            path,
            format!(
                "wrong final value type: {} required",
                crate::decode::friendly_name(&want)
            ),
        ));
        return;
    }
    if !planned.is_known() {
        return;
    }
    if actual.is_null() {
        if !planned.is_null() {
            out.push(PlanProblem::new(
                path,
                format!("was {}, but now null", go_string(planned)),
            ));
        }
        return;
    }
    if planned.is_null() {
        out.push(PlanProblem::new(
            path,
            format!("was null, but now {}", go_string(actual)),
        ));
        return;
    }
    if !actual.is_known() {
        out.push(PlanProblem::new(path, "was known, but now unknown"));
        return;
    }
    match (planned.data(), actual.data()) {
        (Data::List(_, ps), Data::List(_, xs)) | (Data::Tuple(ps), Data::Tuple(xs)) => {
            for (i, p) in ps.iter().enumerate() {
                path.push(PathStep::Index(i));
                match xs.get(i) {
                    Some(x) => value_compatible(p, x, path, out),
                    None => out.push(PlanProblem::new(path, "element has vanished")),
                }
                path.pop();
            }
            for i in ps.len()..xs.len() {
                out.push(PlanProblem::new(
                    path,
                    format!("new element {i} has appeared"),
                ));
            }
        }
        (Data::Map(_, ps), Data::Map(_, xs)) => {
            for (k, p) in ps {
                path.push(PathStep::Key(k.clone()));
                match xs.get(k) {
                    Some(x) => value_compatible(p, x, path, out),
                    None => out.push(PlanProblem::new(path, "element has vanished")),
                }
                path.pop();
            }
            for k in xs.keys() {
                if !ps.contains_key(k) {
                    out.push(PlanProblem::new(
                        path,
                        format!("new element {k:?} has appeared"),
                    ));
                }
            }
        }
        (Data::Object(ps), Data::Object(xs)) => {
            for (k, p) in ps {
                if let Some(x) = xs.get(k) {
                    path.push(PathStep::Attr(k.clone()));
                    value_compatible(p, x, path, out);
                    path.pop();
                }
            }
        }
        (Data::Set(_, ps), Data::Set(_, xs)) => {
            out.extend(set_compatible(ps, xs, path, |p, x| {
                let mut found = Vec::new();
                value_compatible(p, x, &mut Vec::new(), &mut found);
                found.is_empty()
            }));
        }
        _ => {
            if planned.equals(actual).as_bool() != Some(true) {
                out.push(PlanProblem::new(
                    path,
                    format!("was {}, but now {}", go_string(planned), go_string(actual)),
                ));
            }
        }
    }
}

/// Set elements have no identity: every planned element must correspond
/// to some actual element and the other way round.
fn set_compatible(
    planned: &[Value],
    actual: &[Value],
    path: &[PathStep],
    compatible: impl Fn(&Value, &Value) -> bool,
) -> Vec<PlanProblem> {
    let mut planned_ok = vec![false; planned.len()];
    let mut actual_ok = vec![false; actual.len()];
    for (i, p) in planned.iter().enumerate() {
        for (j, x) in actual.iter().enumerate() {
            if compatible(p, x) {
                planned_ok[i] = true;
                actual_ok[j] = true;
            }
        }
    }
    let mut out: Vec<PlanProblem> = planned_ok
        .iter()
        .zip(planned)
        .filter(|(ok, _)| !**ok)
        .map(|(_, p)| {
            PlanProblem::new(
                path,
                format!(
                    "planned set element {} does not correlate with any element in actual",
                    go_string(p)
                ),
            )
        })
        .collect();
    if !out.is_empty() {
        return out;
    }
    out.extend(
        actual_ok
            .iter()
            .zip(actual)
            .filter(|(ok, _)| !**ok)
            .map(|(_, x)| {
                PlanProblem::new(
                    path,
                    format!("provider produced extraneous value: {}", go_string(x)),
                )
            }),
    );
    out
}

/// The paths at which `before` and `after` differ, marks aside: as deep
/// as both sides have the same shape (objects by attribute, maps by key,
/// lists and tuples of equal length by index); a set, a value that is
/// unknown or null on one side, or a primitive is one path. Sorted.
pub fn paths_that_differ(before: &Value, after: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    differ_at(before, after, &mut Vec::new(), &mut out);
    out.sort();
    out
}

fn differ_at(before: &Value, after: &Value, path: &mut Path, out: &mut Vec<Path>) {
    if values_equal_ignoring_marks(before, after) {
        return;
    }
    match (before.data(), after.data()) {
        (Data::Object(b), Data::Object(a)) | (Data::Map(_, b), Data::Map(_, a)) => {
            let is_object = matches!(before.data(), Data::Object(_));
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for k in keys {
                path.push(if is_object {
                    PathStep::Attr(k.clone())
                } else {
                    PathStep::Key(k.clone())
                });
                match (b.get(k), a.get(k)) {
                    (Some(x), Some(y)) => differ_at(x, y, path, out),
                    _ => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Data::List(_, b), Data::List(_, a)) | (Data::Tuple(b), Data::Tuple(a))
            if b.len() == a.len() =>
        {
            for (i, (x, y)) in b.iter().zip(a).enumerate() {
                path.push(PathStep::Index(i));
                differ_at(x, y, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

/// Unknown for every computed attribute that is null in both the planned
/// value and the configuration, at any depth (nested attributes and
/// blocks): what the plugin framework (`MarkComputedNilsAsUnknown`) and
/// SDKv2 do when a resource is created or updated. Callers apply it only
/// when the planned value differs from the prior state.
pub fn mark_computed_nulls_unknown(block: &Block, planned: &Value, config: &Value) -> Value {
    mark_object(Nested::Block(block), planned, config)
}

fn mark_object(schema: Nested<'_>, planned: &Value, config: &Value) -> Value {
    let Some(entries) = planned.as_entries() else {
        return planned.clone();
    };
    let mut out = entries.clone();
    for (name, a) in schema.attributes() {
        let Some(pv) = entries.get(name) else {
            continue;
        };
        let cv = get(config, name, || attr_type(a));
        let new_v = if pv.is_null() {
            if a.computed && cv.is_null() {
                Value::unknown(attr_type(a))
            } else {
                pv.clone()
            }
        } else if let AttributeType::Nested(nt) = &a.ty {
            mark_collection(nt.nesting, Nested::Object(&nt.attributes), pv, &cv)
        } else {
            pv.clone()
        };
        out.insert(name.clone(), new_v);
    }
    if let Some(block_types) = schema.block_types() {
        for (name, nb) in block_types {
            let Some(pv) = entries.get(name) else {
                continue;
            };
            let cv = get(config, name, || block_type_of(nb));
            let new_v = mark_collection(nb.nesting, Nested::Block(&nb.block), pv, &cv);
            out.insert(name.clone(), new_v);
        }
    }
    Value::object(out).mark_sensitive_if(planned.is_sensitive())
}

fn mark_collection(nesting: Nesting, schema: Nested<'_>, planned: &Value, config: &Value) -> Value {
    let sensitive = planned.is_sensitive();
    let v = match planned.data() {
        Data::Null(_) | Data::Unknown(_) => return planned.clone(),
        _ if matches!(nesting, Nesting::Single | Nesting::Group) => {
            return mark_object(schema, planned, config)
        }
        Data::List(t, xs) => {
            let cs = config.as_elements().unwrap_or(&[]);
            Value::list(
                t.clone(),
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| mark_object(schema, x, cs.get(i).unwrap_or(&null())))
                    .collect(),
            )
        }
        Data::Tuple(xs) => {
            let cs = config.as_elements().unwrap_or(&[]);
            Value::tuple(
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| mark_object(schema, x, cs.get(i).unwrap_or(&null())))
                    .collect(),
            )
        }
        Data::Set(t, xs) => {
            // A set element is identified by its value: the configuration
            // element that equals it, if any, is its configuration.
            let cs = config.as_elements().unwrap_or(&[]);
            Value::set(
                t.clone(),
                xs.iter()
                    .map(|x| {
                        let c = cs
                            .iter()
                            .find(|c| values_equal_ignoring_marks(c, x))
                            .cloned()
                            .unwrap_or_else(null);
                        mark_object(schema, x, &c)
                    })
                    .collect(),
            )
        }
        Data::Map(t, xs) => {
            let empty = BTreeMap::new();
            let cs = config.as_entries().unwrap_or(&empty);
            Value::map(
                t.clone(),
                xs.iter()
                    .map(|(k, x)| {
                        (
                            k.clone(),
                            mark_object(schema, x, cs.get(k).unwrap_or(&null())),
                        )
                    })
                    .collect(),
            )
        }
        Data::Object(xs) => {
            let empty = BTreeMap::new();
            let cs = config.as_entries().unwrap_or(&empty);
            Value::object(
                xs.iter()
                    .map(|(k, x)| {
                        (
                            k.clone(),
                            mark_object(schema, x, cs.get(k).unwrap_or(&null())),
                        )
                    })
                    .collect(),
            )
        }
        _ => return planned.clone(),
    };
    v.mark_sensitive_if(sensitive)
}

fn null() -> Value {
    Value::null(Type::Dynamic)
}

/// Replaces unknown planned values by their prior values where the schema
/// asks for it (`UseStateForUnknown`), on update only: nothing changes
/// when `prior` is null (create). As in the plugin framework, a value whose
/// configuration is unknown stays unknown.
pub fn apply_use_state_for_unknown(
    block: &Block,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> Value {
    if prior.is_null() || planned.is_null() {
        return planned.clone();
    }
    let rule = |keep: bool, sv: &Value, pv: &Value, cv: &Value| -> Option<Value> {
        (keep && !pv.is_known() && cv.is_known()).then(|| sv.clone())
    };
    rewrite_object(
        Nested::Block(block),
        prior,
        planned,
        config,
        &|a, sv, pv, cv| rule(a.plan.use_state_for_unknown, sv, pv, cv),
        &|nt, sv, pv, cv| rule(nt.object_plan.use_state_for_unknown, sv, pv, cv),
    )
}

/// Plans the schema's default for every attribute the configuration
/// leaves null (the plugin framework's `Default`, SDKv2's `Default:`),
/// at any depth. Run it on the proposed value, before
/// [`mark_computed_nulls_unknown`].
pub fn apply_defaults(block: &Block, planned: &Value, config: &Value) -> Value {
    let null_v = null();
    rewrite_object(
        Nested::Block(block),
        &null_v,
        planned,
        config,
        &|a, _, _, cv| {
            let default = a.plan.default.as_ref()?;
            if !cv.is_null() {
                return None;
            }
            Value::from_json(default, &attr_type(a)).ok()
        },
        &|_, _, _, _| None,
    )
}

/// Keeps the prior value where the planned one means the same thing: JSON
/// text that is JSON-equal (`semantic_json`), or a null configuration
/// against an empty or all-null prior value (`null_equals_empty`), as the
/// providers' custom types do with semantic equality.
pub fn apply_semantic_equality(
    block: &Block,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> Value {
    if prior.is_null() || planned.is_null() {
        return planned.clone();
    }
    rewrite_object(
        Nested::Block(block),
        prior,
        planned,
        config,
        &|a, sv, pv, cv| {
            if a.plan.semantic_json && json_text_equal(sv, pv) {
                return Some(sv.clone());
            }
            if a.plan.null_equals_empty && cv.is_null() && is_empty_or_all_null(sv) {
                return Some(sv.clone());
            }
            None
        },
        &|_, _, _, _| None,
    )
}

fn json_text_equal(a: &Value, b: &Value) -> bool {
    let (Some(x), Some(y)) = (a.as_str(), b.as_str()) else {
        return false;
    };
    if x == y {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(x),
        serde_json::from_str::<serde_json::Value>(y),
    ) {
        (Ok(p), Ok(q)) => p == q,
        _ => false,
    }
}

fn is_empty_or_all_null(v: &Value) -> bool {
    match v.data() {
        Data::Null(_) => true,
        Data::List(_, xs) | Data::Set(_, xs) | Data::Tuple(xs) => xs.is_empty(),
        Data::Map(_, xs) => xs.is_empty(),
        Data::Object(xs) => xs.values().all(is_empty_or_all_null),
        _ => false,
    }
}

/// A rewrite of one attribute: (schema, prior, planned, config) to a
/// replacement planned value, or `None` to keep it (and descend into it).
type AttributeRule<'r> = &'r dyn Fn(&Attribute, &Value, &Value, &Value) -> Option<Value>;
/// A rewrite of one whole object of a nested attribute type.
type ObjectRule<'r> = &'r dyn Fn(&NestedType, &Value, &Value, &Value) -> Option<Value>;

/// Applies `attr_rule` to every attribute of a planned object, descending
/// through nested attribute types and blocks (elements paired with prior
/// and configuration elements by index or key; set elements have no such
/// pairing and are left as they are).
fn rewrite_object(
    schema: Nested<'_>,
    prior: &Value,
    planned: &Value,
    config: &Value,
    attr_rule: AttributeRule<'_>,
    object_rule: ObjectRule<'_>,
) -> Value {
    let Some(entries) = planned.as_entries() else {
        return planned.clone();
    };
    let mut out = entries.clone();
    for (name, a) in schema.attributes() {
        let Some(pv) = entries.get(name) else {
            continue;
        };
        let cv = get(config, name, || attr_type(a));
        let sv = get(prior, name, || attr_type(a));
        let new_v = match attr_rule(a, &sv, pv, &cv) {
            Some(v) => v,
            None => match &a.ty {
                AttributeType::Nested(nt) => {
                    let inner = Nested::Object(&nt.attributes);
                    rewrite_elements(nt.nesting, &sv, pv, &cv, &|s, p, c| {
                        object_rule(nt, s, p, c).unwrap_or_else(|| {
                            rewrite_object(inner, s, p, c, attr_rule, object_rule)
                        })
                    })
                }
                AttributeType::Type(_) => pv.clone(),
            },
        };
        out.insert(name.clone(), new_v);
    }
    if let Some(block_types) = schema.block_types() {
        for (name, nb) in block_types {
            let Some(pv) = entries.get(name) else {
                continue;
            };
            let cv = get(config, name, || block_type_of(nb));
            let sv = get(prior, name, || block_type_of(nb));
            let inner = Nested::Block(&nb.block);
            let new_v = rewrite_elements(nb.nesting, &sv, pv, &cv, &|s, p, c| {
                rewrite_object(inner, s, p, c, attr_rule, object_rule)
            });
            out.insert(name.clone(), new_v);
        }
    }
    Value::object(out).mark_sensitive_if(planned.is_sensitive())
}

/// Applies `f` (prior, planned, config) to each object of a nested value.
fn rewrite_elements(
    nesting: Nesting,
    prior: &Value,
    planned: &Value,
    config: &Value,
    f: &dyn Fn(&Value, &Value, &Value) -> Value,
) -> Value {
    let null_v = null();
    let sensitive = planned.is_sensitive();
    let out = match (nesting, planned.data()) {
        (Nesting::Single | Nesting::Group, _) => return f(prior, planned, config),
        (_, Data::Null(_) | Data::Unknown(_)) => return planned.clone(),
        (Nesting::List, Data::List(t, xs)) => {
            let ps = prior.as_elements().unwrap_or(&[]);
            let cs = config.as_elements().unwrap_or(&[]);
            let items = xs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    f(
                        ps.get(i).unwrap_or(&null_v),
                        x,
                        cs.get(i).unwrap_or(&null_v),
                    )
                })
                .collect();
            Value::list(t.clone(), items)
        }
        (Nesting::List, Data::Tuple(xs)) => {
            let ps = prior.as_elements().unwrap_or(&[]);
            let cs = config.as_elements().unwrap_or(&[]);
            let items = xs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    f(
                        ps.get(i).unwrap_or(&null_v),
                        x,
                        cs.get(i).unwrap_or(&null_v),
                    )
                })
                .collect();
            Value::tuple(items)
        }
        (Nesting::Map, Data::Map(_, xs) | Data::Object(xs)) => {
            let empty = BTreeMap::new();
            let ps = prior.as_entries().unwrap_or(&empty);
            let cs = config.as_entries().unwrap_or(&empty);
            let items: BTreeMap<String, Value> = xs
                .iter()
                .map(|(k, x)| {
                    let v = f(
                        ps.get(k).unwrap_or(&null_v),
                        x,
                        cs.get(k).unwrap_or(&null_v),
                    );
                    (k.clone(), v)
                })
                .collect();
            match planned.data() {
                Data::Map(t, _) => Value::map(t.clone(), items),
                _ => Value::object(items),
            }
        }
        _ => return planned.clone(),
    };
    out.mark_sensitive_if(sensitive)
}

/// The attribute paths whose planned change forces replacement, from the
/// schema's plan behaviour: `Always` when the planned value differs from
/// the prior one (becoming unknown included), `IfConfigured` only when the
/// configuration also sets it. Empty on create and destroy. Sorted.
pub fn requires_replace_paths(
    block: &Block,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> Vec<Path> {
    if prior.is_null() || planned.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    replace_object(
        Nested::Block(block),
        prior,
        planned,
        config,
        &mut Vec::new(),
        &mut out,
    );
    out.sort();
    out.dedup();
    out
}

fn replace_check(
    rule: Option<RequiresReplace>,
    prior: &Value,
    planned: &Value,
    config: &Value,
    path: &[PathStep],
    out: &mut Vec<Path>,
) {
    let Some(rule) = rule else { return };
    if rule == RequiresReplace::IfConfigured && config.is_null() {
        return;
    }
    if !values_equal_ignoring_marks(prior, planned) {
        out.push(path.to_vec());
    }
}

fn replace_object(
    schema: Nested<'_>,
    prior: &Value,
    planned: &Value,
    config: &Value,
    path: &mut Path,
    out: &mut Vec<Path>,
) {
    for (name, a) in schema.attributes() {
        let pv = get(planned, name, || attr_type(a));
        let cv = get(config, name, || attr_type(a));
        let sv = get(prior, name, || attr_type(a));
        path.push(PathStep::Attr(name.clone()));
        replace_check(a.plan.requires_replace, &sv, &pv, &cv, path, out);
        if let AttributeType::Nested(nt) = &a.ty {
            let inner = Nested::Object(&nt.attributes);
            replace_elements(
                nt.nesting,
                inner,
                nt.object_plan.requires_replace,
                &sv,
                &pv,
                &cv,
                path,
                out,
            );
        }
        path.pop();
    }
    if let Some(block_types) = schema.block_types() {
        for (name, nb) in block_types {
            let pv = get(planned, name, || block_type_of(nb));
            let cv = get(config, name, || block_type_of(nb));
            let sv = get(prior, name, || block_type_of(nb));
            path.push(PathStep::Attr(name.clone()));
            replace_elements(
                nb.nesting,
                Nested::Block(&nb.block),
                None,
                &sv,
                &pv,
                &cv,
                path,
                out,
            );
            path.pop();
        }
    }
}

/// Descends into the objects of a nested attribute or block type, pairing
/// planned elements with prior and configuration elements by index or key
/// (sets have no such pairing and are checked only as a whole).
#[allow(clippy::too_many_arguments)]
fn replace_elements(
    nesting: Nesting,
    schema: Nested<'_>,
    object_rule: Option<RequiresReplace>,
    prior: &Value,
    planned: &Value,
    config: &Value,
    path: &mut Path,
    out: &mut Vec<Path>,
) {
    if !planned.is_known() || planned.is_null() {
        return;
    }
    match nesting {
        Nesting::Single | Nesting::Group => {
            replace_check(object_rule, prior, planned, config, path, out);
            replace_object(schema, prior, planned, config, path, out);
        }
        Nesting::List => {
            let ps = prior.as_elements().unwrap_or(&[]);
            let cs = config.as_elements().unwrap_or(&[]);
            let null_v = null();
            for (i, x) in planned.as_elements().unwrap_or(&[]).iter().enumerate() {
                let p = ps.get(i).unwrap_or(&null_v);
                let c = cs.get(i).unwrap_or(&null_v);
                path.push(PathStep::Index(i));
                replace_check(object_rule, p, x, c, path, out);
                if x.is_known() {
                    replace_object(schema, p, x, c, path, out);
                }
                path.pop();
            }
        }
        Nesting::Map => {
            let empty = BTreeMap::new();
            let ps = prior.as_entries().unwrap_or(&empty);
            let cs = config.as_entries().unwrap_or(&empty);
            let null_v = null();
            for (k, x) in planned.as_entries().unwrap_or(&empty) {
                let p = ps.get(k).unwrap_or(&null_v);
                let c = cs.get(k).unwrap_or(&null_v);
                path.push(PathStep::Key(k.clone()));
                replace_check(object_rule, p, x, c, path, out);
                if x.is_known() {
                    replace_object(schema, p, x, c, path, out);
                }
                path.pop();
            }
        }
        Nesting::Set => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Block {
        let doc = json!({
            "attributes": {
                "id": {"type": "string", "computed": true,
                       "meshform_plan": {"use_state_for_unknown": true}},
                "name": {"type": "string", "required": true,
                         "meshform_plan": {"requires_replace": "if_configured"}},
                "zone": {"type": "string", "optional": true, "computed": true,
                         "meshform_plan": {"requires_replace": "always"}},
                "note": {"type": "string", "optional": true},
                "secret": {"type": "string", "optional": true, "sensitive": true},
                "mtls": {"nested_type": {"nesting_mode": "single", "attributes": {
                    "mode": {"type": "string", "optional": true},
                    "issued": {"type": "string", "computed": true},
                    "backends": {"nested_type": {"nesting_mode": "list", "attributes": {
                        "name": {"type": "string", "required": true,
                                 "meshform_plan": {"requires_replace": "always"}},
                        "state": {"type": "string", "optional": true, "computed": true}
                    }}, "optional": true}
                }}, "optional": true}
            },
            "block_types": {
                "rule": {"nesting_mode": "set", "block": {"attributes": {
                    "port": {"type": "number", "required": true},
                    "rid": {"type": "string", "computed": true}
                }}},
                "step": {"nesting_mode": "list", "block": {"attributes": {
                    "n": {"type": "number", "optional": true},
                    "at": {"type": "string", "optional": true, "computed": true}
                }}}
            }
        });
        Block::from_json_value(&doc, "$").expect("valid schema")
    }

    fn ty() -> Type {
        value_type(&schema().implied_type())
    }

    /// A resource value from JSON; absent attributes are null and absent
    /// blocks empty.
    fn val(j: serde_json::Value) -> Value {
        let mut full = json!({
            "id": null, "name": null, "zone": null, "note": null, "secret": null,
            "mtls": null, "rule": [], "step": []
        });
        if let (Some(f), Some(o)) = (full.as_object_mut(), j.as_object()) {
            for (k, v) in o {
                f.insert(k.clone(), v.clone());
            }
        }
        Value::from_json(&full, &ty()).expect("value of the schema type")
    }

    /// `v` with attribute `name` replaced.
    fn with(v: &Value, name: &str, x: Value) -> Value {
        let mut attrs = v.as_entries().expect("object").clone();
        attrs.insert(name.to_owned(), x);
        Value::object(attrs)
    }

    fn js(v: &Value) -> serde_json::Value {
        v.to_json().expect("known")
    }

    #[test]
    fn create_proposes_the_configuration() {
        let config = val(json!({"name": "a", "step": [{"n": 1}]}));
        let p = proposed_new(&schema(), &Value::null(ty()), &config);
        assert_eq!(p, config);
        assert_eq!(
            proposed_new(&schema(), &Value::null(ty()), &Value::null(ty())),
            Value::null(ty())
        );
    }

    #[test]
    fn computed_attributes_keep_prior_values_when_not_configured() {
        let prior = val(json!({"id": "i-1", "name": "a", "zone": "z1", "note": "old"}));
        let config = val(json!({"name": "b"}));
        let p = proposed_new(&schema(), &prior, &config);
        assert_eq!(
            js(&p.get_attr("id").cloned().unwrap_or_else(null)),
            json!("i-1")
        );
        assert_eq!(js(p.get_attr("zone").unwrap()), json!("z1"));
        assert_eq!(js(p.get_attr("note").unwrap()), json!(null));
        assert_eq!(js(p.get_attr("name").unwrap()), json!("b"));
        let config = val(json!({"name": "b", "zone": "z2"}));
        let p = proposed_new(&schema(), &prior, &config);
        assert_eq!(js(p.get_attr("zone").unwrap()), json!("z2"));
    }

    #[test]
    fn list_blocks_correlate_by_index_and_set_blocks_by_value() {
        let prior = val(json!({
            "name": "a",
            "step": [{"n": 1, "at": "x"}, {"n": 2, "at": "y"}],
            "rule": [{"port": 80, "rid": "r80"}, {"port": 22, "rid": "r22"}]
        }));
        let config = val(json!({
            "name": "a",
            "step": [{"n": 5}],
            "rule": [{"port": 22}, {"port": 443}]
        }));
        let p = proposed_new(&schema(), &prior, &config);
        assert_eq!(
            js(p.get_attr("step").unwrap()),
            json!([{"n": 5, "at": "x"}])
        );
        assert_eq!(
            js(p.get_attr("rule").unwrap()),
            json!([{"port": 22, "rid": "r22"}, {"port": 443, "rid": null}])
        );
    }

    #[test]
    fn nested_attributes_merge_member_by_member() {
        let prior = val(json!({
            "name": "a",
            "mtls": {"mode": "strict", "issued": "t0",
                     "backends": [{"name": "ca", "state": "ready"}]}
        }));
        let config = val(json!({
            "name": "a",
            "mtls": {"mode": "permissive", "issued": null,
                     "backends": [{"name": "ca", "state": null}, {"name": "cb", "state": null}]}
        }));
        let p = proposed_new(&schema(), &prior, &config);
        assert_eq!(
            js(p.get_attr("mtls").unwrap()),
            json!({"mode": "permissive", "issued": "t0",
                   "backends": [{"name": "ca", "state": "ready"}, {"name": "cb", "state": null}]})
        );
        // Removing the nested attribute from the configuration removes it.
        let p = proposed_new(&schema(), &prior, &val(json!({"name": "a"})));
        assert_eq!(js(p.get_attr("mtls").unwrap()), json!(null));
    }

    #[test]
    fn unknown_dynamic_blocks_stay_unknown() {
        let rule_ty = match ty() {
            Type::Object { attrs, .. } => attrs["rule"].clone(),
            _ => Type::Dynamic,
        };
        let config = with(
            &val(json!({"name": "a"})),
            "rule",
            Value::unknown(rule_ty.clone()),
        );
        let prior = val(json!({"name": "a", "rule": [{"port": 1, "rid": "r"}]}));
        let p = proposed_new(&schema(), &prior, &config);
        assert_eq!(p.get_attr("rule"), Some(&Value::unknown(rule_ty)));
    }

    fn problems(prior: &Value, config: &Value, planned: &Value) -> Vec<String> {
        assert_plan_valid(&schema(), prior, config, planned)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn plans_may_only_change_computed_values() {
        let config = val(json!({"name": "a", "secret": "s"}));
        let mut planned = mark_computed_nulls_unknown(&schema(), &config, &config);
        assert!(problems(&Value::null(ty()), &config, &planned).is_empty());
        planned = with(&planned, "note", Value::string("x"));
        planned = with(&planned, "name", Value::string("b"));
        planned = with(&planned, "secret", Value::string("t"));
        assert_eq!(
            problems(&Value::null(ty()), &config, &planned),
            [
                ".name: planned value cty.StringVal(\"b\") does not match config value cty.StringVal(\"a\")",
                ".note: planned value cty.StringVal(\"x\") for a non-computed attribute",
                ".secret: sensitive planned value does not match config value",
            ]
        );
        let p = &assert_plan_valid(&schema(), &Value::null(ty()), &config, &planned)[0];
        assert_eq!(
            p.detail("registry.terraform.io/hashicorp/fake", "fake_thing.a"),
            "Provider \"registry.terraform.io/hashicorp/fake\" planned an invalid value for fake_thing.a.name: planned value cty.StringVal(\"b\") does not match config value cty.StringVal(\"a\").\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker."
        );
    }

    #[test]
    fn block_counts_must_match_the_configuration() {
        let config = val(json!({"name": "a", "step": [{"n": 1}]}));
        let planned = val(json!({"name": "a", "step": [{"n": 1}, {"n": 2}]}));
        assert_eq!(
            problems(&Value::null(ty()), &config, &planned),
            [".step: block count in plan (2) disagrees with count in config (1)"]
        );
    }

    #[test]
    fn computed_nulls_become_unknown() {
        let config = val(
            json!({"name": "a", "mtls": {"mode": "m", "issued": null, "backends": null},
                                "rule": [{"port": 1}]}),
        );
        let planned = mark_computed_nulls_unknown(&schema(), &config, &config);
        assert_eq!(planned.get_attr("id"), Some(&Value::unknown(Type::String)));
        assert_eq!(
            planned.get_attr("zone"),
            Some(&Value::unknown(Type::String))
        );
        assert_eq!(planned.get_attr("note"), Some(&Value::null(Type::String)));
        let mtls = planned.get_attr("mtls").unwrap();
        assert_eq!(mtls.get_attr("issued"), Some(&Value::unknown(Type::String)));
        assert_eq!(mtls.get_attr("mode"), Some(&Value::string("m")));
        let rule = &planned.get_attr("rule").unwrap().as_elements().unwrap()[0];
        assert_eq!(rule.get_attr("rid"), Some(&Value::unknown(Type::String)));
    }

    #[test]
    fn state_is_used_for_unknown_where_the_schema_says_so() {
        let prior = val(json!({"id": "i-1", "name": "a", "zone": "z"}));
        let config = val(json!({"name": "b"}));
        let planned = with(
            &with(&config, "id", Value::unknown(Type::String)),
            "zone",
            Value::unknown(Type::String),
        );
        let kept = apply_use_state_for_unknown(&schema(), &prior, &planned, &config);
        assert_eq!(kept.get_attr("id"), Some(&Value::string("i-1")));
        assert_eq!(kept.get_attr("zone"), Some(&Value::unknown(Type::String)));
        let created = apply_use_state_for_unknown(&schema(), &Value::null(ty()), &planned, &config);
        assert_eq!(created, planned);
    }

    #[test]
    fn defaults_fill_what_the_configuration_leaves_null() {
        let mut block = schema();
        if let Some(a) = block.attributes.get_mut("note") {
            a.plan.default = Some(json!("n/a"));
        }
        let config = val(json!({"name": "a"}));
        let planned = apply_defaults(&block, &config, &config);
        assert_eq!(planned.get_attr("note"), Some(&Value::string("n/a")));
        let config = val(json!({"name": "a", "note": "mine"}));
        let planned = apply_defaults(&block, &config, &config);
        assert_eq!(planned.get_attr("note"), Some(&Value::string("mine")));
    }

    #[test]
    fn semantically_equal_values_keep_the_prior_text() {
        let mut block = schema();
        if let Some(a) = block.attributes.get_mut("note") {
            a.plan.semantic_json = true;
        }
        if let Some(a) = block.attributes.get_mut("mtls") {
            a.plan.null_equals_empty = true;
        }
        let prior = val(json!({"name": "a", "note": "{\"a\": 1, \"b\": [2]}",
                               "mtls": {"mode": null, "issued": null, "backends": null}}));
        let config = val(json!({"name": "a", "note": "{\"b\":[2],\"a\":1}"}));
        let kept = apply_semantic_equality(&block, &prior, &config, &config);
        assert_eq!(kept.get_attr("note"), prior.get_attr("note"));
        assert_eq!(kept.get_attr("mtls"), prior.get_attr("mtls"));
        let config = val(json!({"name": "a", "note": "{\"a\": 2}"}));
        let changed = apply_semantic_equality(&block, &prior, &config, &config);
        assert_eq!(changed.get_attr("note"), config.get_attr("note"));
    }

    #[test]
    fn replacement_follows_the_plan_behaviour() {
        let prior = val(json!({"id": "i", "name": "a", "zone": "z1",
                               "mtls": {"mode": null, "issued": null, "backends": [{"name": "ca", "state": null}]}}));
        // `zone` changes without configuration: `always` still replaces;
        // `name` is configured and changes.
        let config = val(json!({"name": "b",
                                "mtls": {"mode": null, "issued": null, "backends": [{"name": "cb", "state": null}]}}));
        let planned = with(
            &with(&prior, "name", Value::string("b")),
            "zone",
            Value::unknown(Type::String),
        );
        let planned = with(&planned, "mtls", config.get_attr("mtls").unwrap().clone());
        let paths: Vec<String> = requires_replace_paths(&schema(), &prior, &planned, &config)
            .iter()
            .map(|p| format_path(p))
            .collect();
        assert_eq!(paths, [".mtls.backends[0].name", ".name", ".zone"]);
        // On create nothing forces replacement.
        assert!(
            requires_replace_paths(&schema(), &Value::null(ty()), &planned, &config).is_empty()
        );
        // `if_configured` ignores a change the configuration does not make.
        let unconfigured = with(&config, "name", Value::null(Type::String));
        let paths = requires_replace_paths(&schema(), &prior, &planned, &unconfigured);
        assert!(
            !paths.contains(&vec![PathStep::Attr("name".into())]),
            "{paths:?}"
        );
    }

    #[test]
    fn differing_paths_go_as_deep_as_the_shapes_agree() {
        let a = val(json!({"name": "a", "step": [{"n": 1}], "rule": [{"port": 1}]}));
        let b = val(json!({"name": "a", "step": [{"n": 2}], "rule": [{"port": 2}], "note": "x"}));
        let paths: Vec<String> = paths_that_differ(&a, &b)
            .iter()
            .map(|p| format_path(p))
            .collect();
        assert_eq!(paths, [".note", ".rule", ".step[0].n"]);
        assert!(paths_that_differ(&a, &a.clone().mark_sensitive()).is_empty());
        assert!(values_equal_ignoring_marks(&a, &a.clone().mark_sensitive()));
    }

    #[test]
    fn apply_results_must_keep_what_was_planned() {
        let planned = mark_computed_nulls_unknown(
            &schema(),
            &val(json!({"name": "a", "rule": [{"port": 1}]})),
            &val(json!({"name": "a", "rule": [{"port": 1}]})),
        );
        let actual = val(json!({"id": "i", "name": "a", "zone": "z",
                                "rule": [{"port": 1, "rid": "r"}]}));
        assert!(assert_object_compatible(&schema(), &planned, &actual).is_empty());
        let wrong = with(
            &with(&actual, "name", Value::string("b")),
            "secret",
            Value::string("s"),
        );
        let found: Vec<String> = assert_object_compatible(&schema(), &planned, &wrong)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                ".name: was cty.StringVal(\"a\"), but now cty.StringVal(\"b\")",
                ".secret: inconsistent values for sensitive attribute",
            ]
        );
        let gone = assert_object_compatible(&schema(), &planned, &Value::null(ty()));
        assert_eq!(
            gone[0].apply_detail("registry.terraform.io/hashicorp/fake", "fake_thing.a"),
            "When applying changes to fake_thing.a, provider \"registry.terraform.io/hashicorp/fake\" produced an unexpected new value: Root resource was present, but now absent.\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker."
        );
    }

    #[test]
    fn empty_prior_of_a_block() {
        let v = all_attributes_null(&schema());
        assert_eq!(js(&v), js(&val(json!({}))));
    }
}

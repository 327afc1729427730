//! Provider schemas: the attribute/block vocabulary providers describe their
//! resources with, as `terraform providers schema -json` prints it, plus the
//! plan behaviour that real providers keep in code (plan modifiers) and
//! meshform needs as data to plan a resource without its provider.
//!
//! [`Schemas`] reads and writes the JSON format (format version 0.2 and 1.0
//! alike). Plan behaviour travels in an extra `meshform_plan` object beside an
//! attribute; Terraform's own files never have one, so they load with the
//! framework's defaults (no replacement, no kept state).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value as Json};

use crate::types::Type;

/// Every provider's schema, keyed by provider source address
/// (`registry.terraform.io/kong/konnect-beta`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schemas {
    pub format_version: String,
    pub providers: BTreeMap<String, ProviderSchema>,
}

/// What one provider declares: its configuration block, resource types and
/// data source types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderSchema {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}

/// A versioned block schema (the version is the resource's state schema
/// version, used when upgrading state).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub version: u64,
    pub block: Block,
}

/// Whether a description is plain text or Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DescriptionKind {
    #[default]
    Plain,
    Markdown,
}

/// A configuration block: attributes and nested block types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub attributes: BTreeMap<String, Attribute>,
    pub block_types: BTreeMap<String, NestedBlock>,
    pub description: Option<String>,
    pub description_kind: DescriptionKind,
    pub deprecated: bool,
}

/// The value shape of an attribute: a plain type or, for protocol-6
/// providers, a nested object type with attribute flags of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeType {
    Type(Type),
    Nested(NestedType),
}

/// How nested objects are collected under their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Nesting {
    Single,
    /// Only for blocks: like `Single`, but the block is never null.
    Group,
    List,
    Set,
    Map,
}

impl Nesting {
    fn as_json(self) -> &'static str {
        match self {
            Nesting::Single => "single",
            Nesting::Group => "group",
            Nesting::List => "list",
            Nesting::Set => "set",
            Nesting::Map => "map",
        }
    }

    fn from_json(s: &str) -> Option<Nesting> {
        Some(match s {
            "single" => Nesting::Single,
            "group" => Nesting::Group,
            "list" => Nesting::List,
            "set" => Nesting::Set,
            "map" => Nesting::Map,
            _ => return None,
        })
    }
}

/// A nested attribute type (`nested_type` in the JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct NestedType {
    pub nesting: Nesting,
    pub attributes: BTreeMap<String, Attribute>,
    /// Plan behaviour of each nested object as a whole (for a list or set,
    /// of every element), e.g. a kept prior element.
    pub object_plan: PlanBehavior,
}

/// One attribute of a block or nested type.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub ty: AttributeType,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    pub description: Option<String>,
    pub description_kind: DescriptionKind,
    pub plan: PlanBehavior,
}

/// When a changed attribute forces the resource to be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequiresReplace {
    /// Any planned change, including a known value becoming unknown.
    Always,
    /// Only when the configuration sets the attribute (a null config value
    /// that the provider fills in never forces replacement).
    IfConfigured,
}

impl RequiresReplace {
    fn as_json(self) -> &'static str {
        match self {
            RequiresReplace::Always => "always",
            RequiresReplace::IfConfigured => "if_configured",
        }
    }
}

/// The plan behaviour that providers implement in code (plan modifiers,
/// SDK `ForceNew`/`Default`), kept as data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanBehavior {
    pub requires_replace: Option<RequiresReplace>,
    /// A computed value unknown in the plan keeps its prior state value on
    /// update (the framework's `UseStateForUnknown`).
    pub use_state_for_unknown: bool,
    /// The value planned when the configuration leaves the attribute null,
    /// as the JSON encoding of a value of the attribute's type.
    pub default: Option<Json>,
    /// A null configuration and an empty (or all-null) prior value compare
    /// equal, so the prior value is kept without a diff.
    pub null_equals_empty: bool,
    /// The attribute holds JSON text: a planned value that is JSON-equal to
    /// the prior one keeps the prior text.
    pub semantic_json: bool,
}

impl PlanBehavior {
    pub fn is_empty(&self) -> bool {
        *self == PlanBehavior::default()
    }
}

/// A nested block type (`block_types` in the JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: u64,
    pub max_items: u64,
}

/// A schema document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaJsonError {
    /// The text is not JSON (the parser's message).
    #[error("the provider schema document is not valid JSON: {0}")]
    Syntax(String),
    /// The JSON does not describe a schema; `path` is a JSONPath-like
    /// location such as `$.provider_schemas["p"].resource_schemas.t`.
    #[error("the provider schema document is invalid at {path}: {reason}")]
    Invalid { path: String, reason: String },
}

fn invalid(path: &str, reason: impl Into<String>) -> SchemaJsonError {
    SchemaJsonError::Invalid {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

impl Schemas {
    /// Reads the output of `terraform providers schema -json`.
    pub fn from_json(text: &str) -> Result<Schemas, SchemaJsonError> {
        let doc: Json =
            serde_json::from_str(text).map_err(|e| SchemaJsonError::Syntax(e.to_string()))?;
        Schemas::from_json_value(&doc)
    }

    /// Reads an already parsed `terraform providers schema -json` document.
    pub fn from_json_value(doc: &Json) -> Result<Schemas, SchemaJsonError> {
        let obj = as_object(doc, "$")?;
        let format_version = match obj.get("format_version") {
            Some(Json::String(s)) => s.clone(),
            Some(_) => return Err(invalid("$.format_version", "expected a string")),
            None => String::new(),
        };
        let mut providers = BTreeMap::new();
        if let Some(ps) = obj.get("provider_schemas") {
            for (addr, p) in as_object(ps, "$.provider_schemas")? {
                let path = format!("$.provider_schemas[{addr:?}]");
                providers.insert(addr.clone(), ProviderSchema::from_json_value(p, &path)?);
            }
        }
        Ok(Schemas {
            format_version,
            providers,
        })
    }

    /// The document in `terraform providers schema -json` format, with
    /// `meshform_plan` objects where attributes have plan behaviour.
    pub fn to_json(&self) -> Json {
        let providers: Map<String, Json> = self
            .providers
            .iter()
            .map(|(k, p)| (k.clone(), p.to_json()))
            .collect();
        let version = if self.format_version.is_empty() {
            "1.0"
        } else {
            &self.format_version
        };
        json!({ "format_version": version, "provider_schemas": providers })
    }

    /// Adds plan behaviour to attributes of a document that has none (the
    /// output of `terraform providers schema -json` never has any). The
    /// overlay maps provider address → resource type → dotted attribute
    /// path → a `meshform_plan` object, e.g.
    /// `{"hashicorp/fake": {"fake_thing": {"zone": {"requires_replace": "always"}}}}`.
    pub fn apply_plan_overlay(&mut self, overlay: &Json) -> Result<(), SchemaJsonError> {
        for (addr, resources) in as_object(overlay, "$")? {
            let ppath = format!("$[{addr:?}]");
            let key = if self.providers.contains_key(addr) {
                addr.clone()
            } else {
                format!("registry.terraform.io/{addr}")
            };
            let provider = self
                .providers
                .get_mut(&key)
                .ok_or_else(|| invalid(&ppath, "no such provider in the schemas"))?;
            for (rtype, attrs) in as_object(resources, &ppath)? {
                let rpath = format!("{ppath}.{rtype}");
                let schema = provider
                    .resources
                    .get_mut(rtype)
                    .ok_or_else(|| invalid(&rpath, "no such resource type"))?;
                for (attr_path, plan) in as_object(attrs, &rpath)? {
                    let apath = format!("{rpath}[{attr_path:?}]");
                    let mut wrapper = Map::new();
                    wrapper.insert("meshform_plan".into(), plan.clone());
                    let behavior = read_plan(&wrapper, &apath)?;
                    let steps: Vec<&str> = attr_path.split('.').collect();
                    let attr = schema
                        .block
                        .attribute_at_mut(&steps)
                        .ok_or_else(|| invalid(&apath, "no such attribute"))?;
                    attr.plan = behavior;
                }
            }
        }
        Ok(())
    }

    /// The provider whose source address is `addr`; a short address
    /// (`kong/konnect`) is looked up on the default registry.
    pub fn provider(&self, addr: &str) -> Option<&ProviderSchema> {
        self.providers
            .get(addr)
            .or_else(|| self.providers.get(&format!("registry.terraform.io/{addr}")))
    }
}

impl ProviderSchema {
    fn from_json_value(v: &Json, path: &str) -> Result<ProviderSchema, SchemaJsonError> {
        let obj = as_object(v, path)?;
        let provider = match obj.get("provider") {
            Some(p) => Schema::from_json_value(p, &format!("{path}.provider"))?,
            None => Schema::default(),
        };
        let read_map = |key: &str| -> Result<BTreeMap<String, Schema>, SchemaJsonError> {
            let mut out = BTreeMap::new();
            if let Some(m) = obj.get(key) {
                let mpath = format!("{path}.{key}");
                for (name, s) in as_object(m, &mpath)? {
                    out.insert(
                        name.clone(),
                        Schema::from_json_value(s, &format!("{mpath}.{name}"))?,
                    );
                }
            }
            Ok(out)
        };
        Ok(ProviderSchema {
            provider,
            resources: read_map("resource_schemas")?,
            data_sources: read_map("data_source_schemas")?,
        })
    }

    pub fn to_json(&self) -> Json {
        let mut obj = Map::new();
        obj.insert("provider".into(), self.provider.to_json());
        for (key, m) in [
            ("resource_schemas", &self.resources),
            ("data_source_schemas", &self.data_sources),
        ] {
            if !m.is_empty() {
                let schemas: Map<String, Json> =
                    m.iter().map(|(k, s)| (k.clone(), s.to_json())).collect();
                obj.insert(key.into(), Json::Object(schemas));
            }
        }
        Json::Object(obj)
    }
}

impl Schema {
    /// Reads one `{ "version": N, "block": {...} }` object.
    pub fn from_json_value(v: &Json, path: &str) -> Result<Schema, SchemaJsonError> {
        let obj = as_object(v, path)?;
        let version = match obj.get("version") {
            Some(n) => n
                .as_u64()
                .ok_or_else(|| invalid(&format!("{path}.version"), "expected a whole number"))?,
            None => 0,
        };
        let block = match obj.get("block") {
            Some(b) => Block::from_json_value(b, &format!("{path}.block"))?,
            None => Block::default(),
        };
        Ok(Schema { version, block })
    }

    pub fn to_json(&self) -> Json {
        json!({ "version": self.version, "block": self.block.to_json() })
    }
}

impl Block {
    pub fn from_json_value(v: &Json, path: &str) -> Result<Block, SchemaJsonError> {
        let obj = as_object(v, path)?;
        let mut block = Block {
            attributes: read_attributes(obj, path)?,
            description: opt_string(obj, "description", path)?,
            description_kind: description_kind(obj, path)?,
            deprecated: flag(obj, "deprecated", path)?,
            ..Block::default()
        };
        if let Some(bts) = obj.get("block_types") {
            let bpath = format!("{path}.block_types");
            for (name, bt) in as_object(bts, &bpath)? {
                let p = format!("{bpath}.{name}");
                block
                    .block_types
                    .insert(name.clone(), NestedBlock::from_json_value(bt, &p)?);
            }
        }
        Ok(block)
    }

    pub fn to_json(&self) -> Json {
        let mut obj = Map::new();
        if !self.attributes.is_empty() {
            obj.insert("attributes".into(), attributes_to_json(&self.attributes));
        }
        if !self.block_types.is_empty() {
            let bts: Map<String, Json> = self
                .block_types
                .iter()
                .map(|(k, b)| (k.clone(), b.to_json()))
                .collect();
            obj.insert("block_types".into(), Json::Object(bts));
        }
        describe(
            &mut obj,
            &self.description,
            self.description_kind,
            self.deprecated,
        );
        Json::Object(obj)
    }

    /// The type of this block's value, as Terraform derives it: an object
    /// with one attribute per attribute and nested block type.
    pub fn implied_type(&self) -> Type {
        self.spec_type(false)
    }

    /// Like [`Block::implied_type`], but nested attribute objects keep their
    /// optional and computed members marked `optional(...)`: the type
    /// constraint a configuration value is converted to.
    pub fn constraint_type(&self) -> Type {
        self.spec_type(true)
    }

    fn spec_type(&self, keep_optional: bool) -> Type {
        let mut attrs = BTreeMap::new();
        for (name, a) in &self.attributes {
            attrs.insert(name.clone(), a.spec_type(keep_optional));
        }
        for (name, b) in &self.block_types {
            attrs.insert(name.clone(), b.spec_type(keep_optional));
        }
        Type::object(attrs)
    }

    /// The attribute at `path` (attribute names through nested attributes
    /// and nested blocks; collection steps are implied).
    pub fn attribute_at(&self, path: &[&str]) -> Option<&Attribute> {
        let (first, rest) = path.split_first()?;
        if let Some(a) = self.attributes.get(*first) {
            if rest.is_empty() {
                return Some(a);
            }
            return match &a.ty {
                AttributeType::Nested(n) => nested_attribute_at(&n.attributes, rest),
                AttributeType::Type(_) => None,
            };
        }
        self.block_types.get(*first)?.block.attribute_at(rest)
    }
}

impl Block {
    /// Like [`Block::attribute_at`], for changing the attribute.
    pub fn attribute_at_mut(&mut self, path: &[&str]) -> Option<&mut Attribute> {
        let (first, rest) = path.split_first()?;
        if self.attributes.contains_key(*first) {
            let a = self.attributes.get_mut(*first)?;
            if rest.is_empty() {
                return Some(a);
            }
            let mut attrs = match &mut a.ty {
                AttributeType::Nested(n) => &mut n.attributes,
                AttributeType::Type(_) => return None,
            };
            for (i, step) in rest.iter().enumerate() {
                let a = attrs.get_mut(*step)?;
                if i + 1 == rest.len() {
                    return Some(a);
                }
                attrs = match &mut a.ty {
                    AttributeType::Nested(n) => &mut n.attributes,
                    AttributeType::Type(_) => return None,
                };
            }
            return None;
        }
        self.block_types
            .get_mut(*first)?
            .block
            .attribute_at_mut(rest)
    }
}

fn nested_attribute_at<'a>(
    attrs: &'a BTreeMap<String, Attribute>,
    path: &[&str],
) -> Option<&'a Attribute> {
    let (first, rest) = path.split_first()?;
    let a = attrs.get(*first)?;
    if rest.is_empty() {
        return Some(a);
    }
    match &a.ty {
        AttributeType::Nested(n) => nested_attribute_at(&n.attributes, rest),
        AttributeType::Type(_) => None,
    }
}

impl NestedBlock {
    fn from_json_value(v: &Json, path: &str) -> Result<NestedBlock, SchemaJsonError> {
        let obj = as_object(v, path)?;
        let nesting = nesting(obj, path)?;
        let block = match obj.get("block") {
            Some(b) => Block::from_json_value(b, &format!("{path}.block"))?,
            None => Block::default(),
        };
        let count = |key: &str| -> Result<u64, SchemaJsonError> {
            match obj.get(key) {
                Some(n) => n
                    .as_u64()
                    .ok_or_else(|| invalid(&format!("{path}.{key}"), "expected a whole number")),
                None => Ok(0),
            }
        };
        Ok(NestedBlock {
            nesting,
            block,
            min_items: count("min_items")?,
            max_items: count("max_items")?,
        })
    }

    fn to_json(&self) -> Json {
        let mut obj = Map::new();
        obj.insert("nesting_mode".into(), json!(self.nesting.as_json()));
        obj.insert("block".into(), self.block.to_json());
        if self.min_items > 0 {
            obj.insert("min_items".into(), json!(self.min_items));
        }
        if self.max_items > 0 {
            obj.insert("max_items".into(), json!(self.max_items));
        }
        Json::Object(obj)
    }

    /// The type of this block's value in its parent object, following
    /// HCL's decoder specs: a list of blocks whose type has dynamic parts is
    /// a tuple and such a map is an object, both only known from the value,
    /// so they are `Dynamic` here.
    fn spec_type(&self, keep_optional: bool) -> Type {
        let inner = self.block.spec_type(keep_optional);
        match self.nesting {
            Nesting::Single | Nesting::Group => inner,
            Nesting::List if inner.has_dynamic() => Type::Dynamic,
            Nesting::List => Type::list(inner),
            Nesting::Set => Type::set(inner),
            Nesting::Map if inner.has_dynamic() => Type::Dynamic,
            Nesting::Map => Type::map(inner),
        }
    }
}

impl NestedType {
    fn spec_type(&self, keep_optional: bool) -> Type {
        let attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.spec_type(keep_optional)))
            .collect();
        let optional = if keep_optional {
            self.attributes
                .iter()
                .filter(|(_, a)| a.optional || a.computed)
                .map(|(k, _)| k.clone())
                .collect()
        } else {
            Default::default()
        };
        let object = Type::object_with_optional(attrs, optional);
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => Type::list(object),
            Nesting::Set => Type::set(object),
            Nesting::Map => Type::map(object),
        }
    }
}

impl Attribute {
    /// A plain attribute of type `ty` with no flags set.
    pub fn new(ty: Type) -> Attribute {
        Attribute {
            ty: AttributeType::Type(ty),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: false,
            description: None,
            description_kind: DescriptionKind::Plain,
            plan: PlanBehavior::default(),
        }
    }

    /// The type of the attribute's value.
    pub fn implied_type(&self) -> Type {
        self.spec_type(false)
    }

    /// The type a configuration value is converted to: nested objects
    /// mark their optional and computed members `optional(...)`, so a
    /// value may leave them out (they become null).
    pub fn constraint_type(&self) -> Type {
        self.spec_type(true)
    }

    fn spec_type(&self, keep_optional: bool) -> Type {
        match &self.ty {
            AttributeType::Type(t) => t.clone(),
            AttributeType::Nested(n) => n.spec_type(keep_optional),
        }
    }

    /// Whether the attribute's value or any nested member is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        self.sensitive
            || match &self.ty {
                AttributeType::Nested(n) => {
                    n.attributes.values().any(Attribute::contains_sensitive)
                }
                AttributeType::Type(_) => false,
            }
    }

    fn from_json_value(v: &Json, path: &str) -> Result<Attribute, SchemaJsonError> {
        let obj = as_object(v, path)?;
        let ty = match (obj.get("type"), obj.get("nested_type")) {
            (Some(t), None) => AttributeType::Type(
                Type::from_cty_json(t).map_err(|e| invalid(&format!("{path}.type"), e.0))?,
            ),
            (None, Some(n)) => {
                let npath = format!("{path}.nested_type");
                let nobj = as_object(n, &npath)?;
                AttributeType::Nested(NestedType {
                    nesting: nesting(nobj, &npath)?,
                    attributes: read_attributes(nobj, &npath)?,
                    object_plan: read_plan(nobj, &npath)?,
                })
            }
            (Some(_), Some(_)) => {
                return Err(invalid(path, "an attribute has either type or nested_type"))
            }
            (None, None) => return Err(invalid(path, "an attribute needs type or nested_type")),
        };
        let attr = Attribute {
            ty,
            required: flag(obj, "required", path)?,
            optional: flag(obj, "optional", path)?,
            computed: flag(obj, "computed", path)?,
            sensitive: flag(obj, "sensitive", path)?,
            deprecated: flag(obj, "deprecated", path)?,
            description: opt_string(obj, "description", path)?,
            description_kind: description_kind(obj, path)?,
            plan: read_plan(obj, path)?,
        };
        if !(attr.required || attr.optional || attr.computed) {
            return Err(invalid(
                path,
                "an attribute must be required, optional or computed",
            ));
        }
        if attr.required && (attr.optional || attr.computed) {
            return Err(invalid(
                path,
                "a required attribute cannot also be optional or computed",
            ));
        }
        Ok(attr)
    }

    fn to_json(&self) -> Json {
        let mut obj = Map::new();
        match &self.ty {
            AttributeType::Type(t) => {
                obj.insert("type".into(), t.to_cty_json());
            }
            AttributeType::Nested(n) => {
                let mut nobj = Map::new();
                nobj.insert("attributes".into(), attributes_to_json(&n.attributes));
                nobj.insert("nesting_mode".into(), json!(n.nesting.as_json()));
                if !n.object_plan.is_empty() {
                    nobj.insert("meshform_plan".into(), plan_to_json(&n.object_plan));
                }
                obj.insert("nested_type".into(), Json::Object(nobj));
            }
        }
        describe(
            &mut obj,
            &self.description,
            self.description_kind,
            self.deprecated,
        );
        for (key, set) in [
            ("required", self.required),
            ("optional", self.optional),
            ("computed", self.computed),
            ("sensitive", self.sensitive),
        ] {
            if set {
                obj.insert(key.into(), Json::Bool(true));
            }
        }
        if !self.plan.is_empty() {
            obj.insert("meshform_plan".into(), plan_to_json(&self.plan));
        }
        Json::Object(obj)
    }
}

fn read_attributes(
    obj: &Map<String, Json>,
    path: &str,
) -> Result<BTreeMap<String, Attribute>, SchemaJsonError> {
    let mut out = BTreeMap::new();
    if let Some(attrs) = obj.get("attributes") {
        let apath = format!("{path}.attributes");
        for (name, a) in as_object(attrs, &apath)? {
            out.insert(
                name.clone(),
                Attribute::from_json_value(a, &format!("{apath}.{name}"))?,
            );
        }
    }
    Ok(out)
}

fn attributes_to_json(attrs: &BTreeMap<String, Attribute>) -> Json {
    Json::Object(
        attrs
            .iter()
            .map(|(k, a)| (k.clone(), a.to_json()))
            .collect(),
    )
}

fn read_plan(obj: &Map<String, Json>, path: &str) -> Result<PlanBehavior, SchemaJsonError> {
    let Some(p) = obj.get("meshform_plan") else {
        return Ok(PlanBehavior::default());
    };
    let ppath = format!("{path}.meshform_plan");
    let pobj = as_object(p, &ppath)?;
    let requires_replace = match pobj.get("requires_replace") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s == "always" => Some(RequiresReplace::Always),
        Some(Json::String(s)) if s == "if_configured" => Some(RequiresReplace::IfConfigured),
        Some(_) => {
            return Err(invalid(
                &format!("{ppath}.requires_replace"),
                "expected \"always\" or \"if_configured\"",
            ))
        }
    };
    Ok(PlanBehavior {
        requires_replace,
        use_state_for_unknown: flag(pobj, "use_state_for_unknown", &ppath)?,
        default: pobj.get("default").cloned(),
        null_equals_empty: flag(pobj, "null_equals_empty", &ppath)?,
        semantic_json: flag(pobj, "semantic_json", &ppath)?,
    })
}

fn plan_to_json(plan: &PlanBehavior) -> Json {
    let mut obj = Map::new();
    if let Some(r) = plan.requires_replace {
        obj.insert("requires_replace".into(), json!(r.as_json()));
    }
    if plan.use_state_for_unknown {
        obj.insert("use_state_for_unknown".into(), Json::Bool(true));
    }
    if let Some(d) = &plan.default {
        obj.insert("default".into(), d.clone());
    }
    if plan.null_equals_empty {
        obj.insert("null_equals_empty".into(), Json::Bool(true));
    }
    if plan.semantic_json {
        obj.insert("semantic_json".into(), Json::Bool(true));
    }
    Json::Object(obj)
}

fn describe(
    obj: &mut Map<String, Json>,
    description: &Option<String>,
    kind: DescriptionKind,
    deprecated: bool,
) {
    if let Some(d) = description {
        obj.insert("description".into(), json!(d));
    }
    let kind = match kind {
        DescriptionKind::Plain => "plain",
        DescriptionKind::Markdown => "markdown",
    };
    obj.insert("description_kind".into(), json!(kind));
    if deprecated {
        obj.insert("deprecated".into(), Json::Bool(true));
    }
}

fn as_object<'a>(v: &'a Json, path: &str) -> Result<&'a Map<String, Json>, SchemaJsonError> {
    v.as_object()
        .ok_or_else(|| invalid(path, "expected an object"))
}

fn flag(obj: &Map<String, Json>, key: &str, path: &str) -> Result<bool, SchemaJsonError> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "expected true or false")),
    }
}

fn opt_string(
    obj: &Map<String, Json>,
    key: &str,
    path: &str,
) -> Result<Option<String>, SchemaJsonError> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "expected a string")),
    }
}

fn description_kind(
    obj: &Map<String, Json>,
    path: &str,
) -> Result<DescriptionKind, SchemaJsonError> {
    match opt_string(obj, "description_kind", path)?.as_deref() {
        None | Some("plain") => Ok(DescriptionKind::Plain),
        Some("markdown") => Ok(DescriptionKind::Markdown),
        Some(other) => Err(invalid(
            &format!("{path}.description_kind"),
            format!("unknown description kind {other:?}"),
        )),
    }
}

fn nesting(obj: &Map<String, Json>, path: &str) -> Result<Nesting, SchemaJsonError> {
    let s = opt_string(obj, "nesting_mode", path)?
        .ok_or_else(|| invalid(path, "nesting_mode is missing"))?;
    Nesting::from_json(&s).ok_or_else(|| {
        invalid(
            &format!("{path}.nesting_mode"),
            format!("unknown nesting mode {s:?}"),
        )
    })
}

impl fmt::Display for Nesting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_behaviour_round_trips() {
        let mut attr = Attribute::new(Type::String);
        attr.required = true;
        attr.plan.requires_replace = Some(RequiresReplace::IfConfigured);
        attr.plan.use_state_for_unknown = true;
        attr.plan.default = Some(json!("x"));
        attr.plan.null_equals_empty = true;
        attr.plan.semantic_json = true;
        let mut block = Block::default();
        block.attributes.insert("a".into(), attr);
        let mut provider = ProviderSchema::default();
        provider
            .resources
            .insert("t".into(), Schema { version: 2, block });
        let mut schemas = Schemas::default();
        schemas.providers.insert("example.com/x/y".into(), provider);
        let text = schemas.to_json().to_string();
        assert_eq!(
            Schemas::from_json(&text).unwrap().providers,
            schemas.providers
        );
    }

    #[test]
    fn plan_overlays_add_behaviour() {
        let text = r#"{"provider_schemas":{"registry.terraform.io/x/y":{"resource_schemas":{"y_t":{"block":{
            "attributes":{"zone":{"type":"string","optional":true},
              "spec":{"nested_type":{"nesting_mode":"single","attributes":{"a":{"type":"string","optional":true}}},"optional":true}},
            "block_types":{"b":{"nesting_mode":"list","block":{"attributes":{"c":{"type":"string","computed":true}}}}}}}}}}}"#;
        let mut schemas = Schemas::from_json(text).unwrap();
        let overlay = json!({"x/y": {"y_t": {
            "zone": {"requires_replace": "always"},
            "spec.a": {"requires_replace": "if_configured"},
            "b.c": {"use_state_for_unknown": true}}}});
        schemas.apply_plan_overlay(&overlay).unwrap();
        let block = &schemas.provider("x/y").unwrap().resources["y_t"].block;
        assert_eq!(
            block.attribute_at(&["zone"]).unwrap().plan.requires_replace,
            Some(RequiresReplace::Always)
        );
        assert_eq!(
            block
                .attribute_at(&["spec", "a"])
                .unwrap()
                .plan
                .requires_replace,
            Some(RequiresReplace::IfConfigured)
        );
        assert!(
            block
                .attribute_at(&["b", "c"])
                .unwrap()
                .plan
                .use_state_for_unknown
        );
        let bad = json!({"x/y": {"y_t": {"nope": {}}}});
        let err = schemas.apply_plan_overlay(&bad).unwrap_err().to_string();
        assert!(err.contains("no such attribute"), "{err}");
    }

    #[test]
    fn invalid_documents_name_the_place() {
        let check = |text: &str, wanted: &str| {
            let err = Schemas::from_json(text).unwrap_err().to_string();
            assert!(err.contains(wanted), "{err} does not contain {wanted}");
        };
        check("{", "not valid JSON");
        check(
            r#"{"provider_schemas":{"p":{"resource_schemas":{"t":{"block":{"attributes":{"a":{"type":"strin","optional":true}}}}}}}}"#,
            r#"$.provider_schemas["p"].resource_schemas.t.block.attributes.a.type"#,
        );
        check(
            r#"{"provider_schemas":{"p":{"resource_schemas":{"t":{"block":{"attributes":{"a":{"type":"string"}}}}}}}}"#,
            "must be required, optional or computed",
        );
        check(
            r#"{"provider_schemas":{"p":{"resource_schemas":{"t":{"block":{"block_types":{"b":{"nesting_mode":"tree","block":{}}}}}}}}}"#,
            "unknown nesting mode",
        );
    }

    #[test]
    fn block_types_imply_collection_types() {
        let mut inner = Block::default();
        inner
            .attributes
            .insert("v".into(), Attribute::new(Type::Dynamic));
        let mut block = Block::default();
        for (name, nesting) in [
            ("l", Nesting::List),
            ("m", Nesting::Map),
            ("g", Nesting::Group),
        ] {
            block.block_types.insert(
                name.into(),
                NestedBlock {
                    nesting,
                    block: inner.clone(),
                    min_items: 0,
                    max_items: 0,
                },
            );
        }
        assert_eq!(
            block.implied_type().to_string(),
            "object({g=object({v=any}), l=any, m=any})"
        );
    }

    #[test]
    fn nested_attributes_imply_objects() {
        let text = r#"{"format_version":"1.0","provider_schemas":{"registry.terraform.io/x/y":{
            "provider":{"version":0,"block":{}},
            "resource_schemas":{"y_t":{"version":0,"block":{"attributes":{
              "id":{"type":"string","computed":true},
              "spec":{"nested_type":{"nesting_mode":"single","attributes":{
                 "rules":{"nested_type":{"nesting_mode":"list","attributes":{
                    "action":{"type":"string","optional":true}}},"optional":true,"computed":true},
                 "kind":{"type":"string","required":true}}},"required":true}}}}}}}}"#;
        let schemas = Schemas::from_json(text).unwrap();
        let block = &schemas.provider("x/y").unwrap().resources["y_t"].block;
        assert_eq!(
            block.implied_type().to_string(),
            "object({id=string, spec=object({kind=string, rules=list(object({action=string}))})})"
        );
        assert_eq!(
            block.constraint_type().to_string(),
            "object({id=string, spec=object({kind=string, \
             rules=optional(list(object({action=optional(string)})))})})"
        );
        let rules = block.attribute_at(&["spec", "rules"]).unwrap();
        assert!(rules.optional && rules.computed);
        assert!(block.attribute_at(&["spec", "nope"]).is_none());
        assert!(block.attribute_at(&["id", "x"]).is_none());
    }
}

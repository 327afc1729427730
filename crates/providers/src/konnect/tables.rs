//! The generated Konnect resource tables (`tables.json`, written by
//! `examples/gen_konnect_tables.rs`): schema, plan behaviour, validators,
//! JSON member names, HTTP operations and import formats of every
//! `konnect_mesh*` resource of kong/konnect-beta 0.1.0 and the system
//! account resources of kong/konnect 2.4.1.

use std::collections::BTreeMap;

use meshform_lang::schema::{
    Attribute, AttributeType, Block, NestedType, Nesting, PlanBehavior, ProviderSchema,
    RequiresReplace, Schema,
};
use meshform_lang::Type;
use serde_json::Value as Json;

const TABLES: &str = include_str!("tables.json");

/// Source address of kong/konnect-beta.
pub const KONNECT_BETA: &str = "registry.terraform.io/kong/konnect-beta";
/// Source address of kong/konnect.
pub const KONNECT: &str = "registry.terraform.io/kong/konnect";

/// The generated tables could not be read (a generator bug, reported
/// rather than panicking).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("the Konnect tables are not valid JSON: {0}")]
    Syntax(String),
    #[error("the Konnect table entry {entry} is malformed: {reason}")]
    Malformed { entry: String, reason: String },
}

fn malformed(entry: &str, reason: impl Into<String>) -> TableError {
    TableError::Malformed {
        entry: entry.to_owned(),
        reason: reason.into(),
    }
}

/// All Konnect resource tables.
#[derive(Debug, Clone, PartialEq)]
pub struct KonnectTables {
    /// The configuration block shared by both Konnect providers.
    pub provider_config: Block,
    pub resources: BTreeMap<String, ResourceTable>,
}

/// One resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTable {
    pub resource_type: String,
    /// Provider source address serving this type.
    pub provider: String,
    pub provider_version: String,
    pub schema: Schema,
    /// Extra facts per dotted attribute path (`spec.from.default.action`).
    pub attrs: BTreeMap<String, AttrInfo>,
    pub import: ImportFormat,
    pub api: Api,
}

/// Validation and wire facts of one attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttrInfo {
    /// Where the value goes in the request body.
    pub wire: WireName,
    /// The attribute is an object of alternatives (`str`/`integer`, or one
    /// object per oneOf member); the set one's value sits at this
    /// attribute's JSON member.
    pub union: bool,
    /// Allowed values.
    pub one_of: Vec<String>,
    /// Must be set when the enclosing object is set.
    pub not_null: bool,
    /// Elements of a list of objects must not be null.
    pub elements_not_null: bool,
    pub checks: Vec<Check>,
}

/// The JSON counterpart of an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WireName {
    /// A member of the body object with this name.
    Member(String),
    /// A URL path parameter (`cpId`).
    PathParam(String),
    /// No counterpart (computed only, or a union member).
    #[default]
    None,
}

/// A value check beyond the type.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Length in characters, inclusive bounds.
    Length(u64, Option<u64>),
    /// Number of elements, inclusive bounds.
    Size(u64, Option<u64>),
    /// Numeric range, inclusive bounds.
    Range(i64, Option<i64>),
    /// A Go RE2 regular expression the whole value must match.
    Regex(String),
    Rfc3339,
    Json,
}

/// How `terraform import` IDs are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportFormat {
    Unsupported,
    /// The ID is the raw value of one attribute.
    Id {
        attribute: String,
    },
    /// The ID is a JSON object with exactly these string fields.
    JsonObject {
        fields: Vec<String>,
    },
}

/// Which host serves a resource's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The regional host from `server_url` (`https://us.api.konghq.com`).
    Mesh,
    /// The global identity host (`https://global.api.konghq.com`).
    Identity,
}

/// One HTTP operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: String,
    /// Path template with `{param}` placeholders.
    pub path: String,
    /// Statuses that mean success.
    pub ok: Vec<u16>,
}

/// The HTTP operations of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    pub host: Host,
    /// The Kuma resource type for Kuma resources (`MeshTrafficPermission`).
    pub kuma_type: Option<String>,
    pub create: Operation,
    /// None where the provider has no read (state comes from create).
    pub read: Option<Operation>,
    /// None where every change forces replacement.
    pub update: Option<Operation>,
    pub delete: Operation,
    /// Path parameter → the attribute that fills it.
    pub path_params: BTreeMap<String, String>,
}

impl KonnectTables {
    /// Parses the tables compiled into this crate.
    pub fn load() -> Result<KonnectTables, TableError> {
        KonnectTables::parse(TABLES)
    }

    fn parse(text: &str) -> Result<KonnectTables, TableError> {
        let doc: Json =
            serde_json::from_str(text).map_err(|e| TableError::Syntax(e.to_string()))?;
        let (provider_config, _) = block_from_rows("provider_config", &doc["provider_config"])?;
        let mut resources = BTreeMap::new();
        for r in doc["resources"]
            .as_array()
            .ok_or_else(|| malformed("resources", "expected a list"))?
        {
            let table = ResourceTable::parse(r)?;
            resources.insert(table.resource_type.clone(), table);
        }
        Ok(KonnectTables {
            provider_config,
            resources,
        })
    }

    /// The provider schema of `provider` (a source address) as Terraform
    /// would report it.
    pub fn provider_schema(&self, provider: &str) -> ProviderSchema {
        ProviderSchema {
            provider: Schema {
                version: 0,
                block: self.provider_config.clone(),
            },
            resources: self
                .resources
                .values()
                .filter(|r| r.provider == provider)
                .map(|r| (r.resource_type.clone(), r.schema.clone()))
                .collect(),
            data_sources: BTreeMap::new(),
        }
    }

    pub fn resource(&self, resource_type: &str) -> Option<&ResourceTable> {
        self.resources.get(resource_type)
    }
}

impl ResourceTable {
    fn parse(r: &Json) -> Result<ResourceTable, TableError> {
        let rtype = r["type"]
            .as_str()
            .ok_or_else(|| malformed("resource", "type is missing"))?
            .to_owned();
        let (block, attrs) = block_from_rows(&rtype, &r["attrs"])?;
        let text = |v: &Json, what: &str| -> Result<String, TableError> {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| malformed(&rtype, format!("{what} is missing")))
        };
        let import = match (&r["import"]["supported"], r["import"]["format"].as_str()) {
            (Json::Bool(true), Some("json")) => ImportFormat::JsonObject {
                fields: string_list(&r["import"]["fields"]),
            },
            (Json::Bool(true), _) => ImportFormat::Id {
                attribute: text(&r["import"]["sets"], "import.sets")?,
            },
            _ => ImportFormat::Unsupported,
        };
        let api = &r["api"];
        let op = |key: &str| -> Result<Option<Operation>, TableError> {
            let o = &api[key];
            if o.is_null() {
                return Ok(None);
            }
            Ok(Some(Operation {
                method: text(&o["method"], "api method")?,
                path: text(&o["path"], "api path")?,
                ok: o["ok"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.as_u64().and_then(|n| u16::try_from(n).ok()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }))
        };
        let required_op = |key: &str| -> Result<Operation, TableError> {
            op(key)?.ok_or_else(|| malformed(&rtype, format!("api.{key} is missing")))
        };
        let api = Api {
            host: match api["host"].as_str() {
                Some("identity") => Host::Identity,
                _ => Host::Mesh,
            },
            kuma_type: api["kuma_type"].as_str().map(str::to_owned),
            create: required_op("create")?,
            read: op("read")?,
            update: op("update")?,
            delete: required_op("delete")?,
            path_params: api["id"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        };
        Ok(ResourceTable {
            provider: text(&r["provider"], "provider")?,
            provider_version: text(&r["version"], "version")?,
            resource_type: rtype,
            schema: Schema { version: 0, block },
            attrs,
            import,
            api,
        })
    }

    /// The facts of the attribute at a dotted path.
    pub fn attr(&self, path: &str) -> Option<&AttrInfo> {
        self.attrs.get(path)
    }
}

fn string_list(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// One parsed table row before it is placed in the tree.
struct Row {
    path: String,
    attribute: Attribute,
    info: AttrInfo,
}

fn block_from_rows(
    entry: &str,
    rows: &Json,
) -> Result<(Block, BTreeMap<String, AttrInfo>), TableError> {
    let rows = rows
        .as_array()
        .ok_or_else(|| malformed(entry, "attribute rows are missing"))?;
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        parsed.push(parse_row(entry, row)?);
    }
    let mut infos = BTreeMap::new();
    let mut block = Block::default();
    // Rows come parent first, so inserting in order always finds the parent.
    for row in parsed {
        let segments: Vec<&str> = row.path.split('.').collect();
        let (last, parents) = segments
            .split_last()
            .ok_or_else(|| malformed(entry, "empty attribute path"))?;
        let mut attrs = &mut block.attributes;
        for p in parents {
            let parent = attrs
                .get_mut(*p)
                .ok_or_else(|| malformed(entry, format!("{} has no parent row", row.path)))?;
            match &mut parent.ty {
                AttributeType::Nested(n) => attrs = &mut n.attributes,
                AttributeType::Type(_) => {
                    return Err(malformed(
                        entry,
                        format!("{}'s parent is not nested", row.path),
                    ))
                }
            }
        }
        attrs.insert((*last).to_owned(), row.attribute);
        infos.insert(row.path, row.info);
    }
    Ok((block, infos))
}

fn parse_row(entry: &str, row: &Json) -> Result<Row, TableError> {
    let bad = |reason: &str| malformed(entry, format!("{row}: {reason}"));
    let path = row[0].as_str().ok_or_else(|| bad("no path"))?.to_owned();
    let flags = row[2].as_str().ok_or_else(|| bad("no flags"))?;
    let extras = &row[3];
    let elem = &extras["elem"];
    let ty = match row[1].as_str().ok_or_else(|| bad("no type"))? {
        "object" | "list(object)" => AttributeType::Nested(NestedType {
            nesting: if row[1] == "object" {
                Nesting::Single
            } else {
                Nesting::List
            },
            attributes: BTreeMap::new(),
            object_plan: PlanBehavior {
                requires_replace: replace(&elem["replace"]),
                use_state_for_unknown: elem["usfu"] == Json::Bool(true),
                ..PlanBehavior::default()
            },
        }),
        "string" => AttributeType::Type(Type::String),
        "number" => AttributeType::Type(Type::Number),
        "bool" => AttributeType::Type(Type::Bool),
        "list(string)" => AttributeType::Type(Type::list(Type::String)),
        "list(number)" => AttributeType::Type(Type::list(Type::Number)),
        "map(string)" => AttributeType::Type(Type::map(Type::String)),
        other => return Err(bad(&format!("unknown type {other}"))),
    };
    let mut attribute = Attribute::new(Type::String);
    attribute.ty = ty;
    attribute.required = flags.contains('R');
    attribute.optional = flags.contains('O');
    attribute.computed = flags.contains('C');
    attribute.sensitive = flags.contains('S');
    attribute.plan = PlanBehavior {
        requires_replace: replace(&extras["replace"]),
        use_state_for_unknown: extras["usfu"] == Json::Bool(true),
        default: extras.get("default").cloned(),
        null_equals_empty: extras["nee"] == Json::Bool(true),
        semantic_json: extras["json_string"] == Json::Bool(true),
    };
    let wire = match &extras["json"] {
        Json::String(s) => match s.strip_prefix('@') {
            Some(param) => WireName::PathParam(param.to_owned()),
            None => WireName::Member(s.clone()),
        },
        _ => WireName::None,
    };
    let mut checks = Vec::new();
    for c in extras["checks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let bounds = |key: &str| -> Option<(i64, Option<i64>)> {
            let pair = c[key].as_array()?;
            Some((pair.first()?.as_i64()?, pair.get(1).and_then(Json::as_i64)))
        };
        let unsigned = |(lo, hi): (i64, Option<i64>)| {
            (
                u64::try_from(lo).unwrap_or(0),
                hi.and_then(|h| u64::try_from(h).ok()),
            )
        };
        if let Some(b) = bounds("length") {
            let (lo, hi) = unsigned(b);
            checks.push(Check::Length(lo, hi));
        } else if let Some(b) = bounds("size") {
            let (lo, hi) = unsigned(b);
            checks.push(Check::Size(lo, hi));
        } else if let Some((lo, hi)) = bounds("range") {
            checks.push(Check::Range(lo, hi));
        } else if let Some(re) = c["regex"].as_str() {
            checks.push(Check::Regex(re.to_owned()));
        } else if c["rfc3339"] == Json::Bool(true) {
            checks.push(Check::Rfc3339);
        } else if c["json"] == Json::Bool(true) {
            checks.push(Check::Json);
        } else {
            return Err(bad("unknown check"));
        }
    }
    Ok(Row {
        path,
        attribute,
        info: AttrInfo {
            wire,
            union: extras["union"] == Json::Bool(true),
            one_of: string_list(&extras["one_of"]),
            not_null: extras["not_null"] == Json::Bool(true),
            elements_not_null: elem["not_null"] == Json::Bool(true),
            checks,
        },
    })
}

fn replace(v: &Json) -> Option<RequiresReplace> {
    match v.as_str()? {
        "always" => Some(RequiresReplace::Always),
        "if_configured" => Some(RequiresReplace::IfConfigured),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_cover_every_konnect_resource() {
        let tables = KonnectTables::load().unwrap();
        let beta = tables.provider_schema(KONNECT_BETA);
        assert_eq!(beta.resources.len(), 25);
        assert!(beta.resources.keys().all(|k| k.starts_with("konnect_mesh")));
        let ga = tables.provider_schema(KONNECT);
        assert_eq!(
            ga.resources.keys().collect::<Vec<_>>(),
            [
                "konnect_system_account",
                "konnect_system_account_access_token",
                "konnect_system_account_role",
                "konnect_system_account_team"
            ]
        );
    }

    #[test]
    fn traffic_permission_facts() {
        let tables = KonnectTables::load().unwrap();
        let mtp = tables.resource("konnect_mesh_traffic_permission").unwrap();
        let block = &mtp.schema.block;
        let cp_id = block.attribute_at(&["cp_id"]).unwrap();
        assert_eq!(cp_id.plan.requires_replace, Some(RequiresReplace::Always));
        assert_eq!(
            mtp.attr("cp_id").unwrap().wire,
            WireName::PathParam("cpId".into())
        );
        let action = mtp.attr("spec.from.default.action").unwrap();
        assert_eq!(action.one_of, ["Allow", "Deny", "AllowWithShadowDeny"]);
        assert_eq!(
            mtp.attr("spec.from.target_ref").unwrap().wire,
            WireName::Member("targetRef".into())
        );
        let from = block.attribute_at(&["spec", "from"]).unwrap();
        assert!(from.plan.null_equals_empty && from.optional && from.computed);
        assert!(mtp.attr("spec.from").unwrap().elements_not_null);
        let created = block.attribute_at(&["creation_time"]).unwrap();
        assert!(created.plan.use_state_for_unknown);
        assert_eq!(mtp.attr("creation_time").unwrap().checks, [Check::Rfc3339]);
        assert_eq!(
            mtp.import,
            ImportFormat::JsonObject {
                fields: vec!["cp_id".into(), "mesh".into(), "name".into()]
            }
        );
        assert_eq!(mtp.api.kuma_type.as_deref(), Some("MeshTrafficPermission"));
        assert_eq!(mtp.api.create.ok, [201]);
        assert_eq!(mtp.api.update.as_ref().unwrap().ok, [200]);
        assert_eq!(
            mtp.api.read.as_ref().unwrap().path,
            "/v1/mesh/control-planes/{cpId}/api/meshes/{mesh}/meshtrafficpermissions/{name}"
        );
    }

    #[test]
    fn system_account_facts() {
        let tables = KonnectTables::load().unwrap();
        let token = tables
            .resource("konnect_system_account_access_token")
            .unwrap();
        let block = &token.schema.block;
        assert!(block.attribute_at(&["token"]).unwrap().sensitive);
        let expires = block.attribute_at(&["expires_at"]).unwrap();
        assert_eq!(
            expires.plan.requires_replace,
            Some(RequiresReplace::IfConfigured)
        );
        assert!(expires.plan.use_state_for_unknown);
        assert_eq!(token.api.host, Host::Identity);
        assert_eq!(
            token.import,
            ImportFormat::JsonObject {
                fields: vec!["account_id".into(), "id".into()]
            }
        );
        let role = tables.resource("konnect_system_account_role").unwrap();
        assert!(role.api.read.is_none() && role.api.update.is_none());
        assert_eq!(role.import, ImportFormat::Unsupported);
        let account = tables.resource("konnect_system_account").unwrap();
        assert_eq!(
            account.import,
            ImportFormat::Id {
                attribute: "id".into()
            }
        );
        let cp = tables.resource("konnect_mesh_control_plane").unwrap();
        assert_eq!(cp.api.create.ok, [201]);
        assert_eq!(cp.api.delete.ok, [204]);
        let features = cp.schema.block.attribute_at(&["features"]).unwrap();
        assert_eq!(
            features.plan.requires_replace,
            Some(RequiresReplace::IfConfigured)
        );
        let name = cp.attr("name").unwrap();
        assert_eq!(name.checks[0], Check::Length(1, Some(100)));
    }

    #[test]
    fn unions_and_defaults() {
        let tables = KonnectTables::load().unwrap();
        let mesh = tables.resource("konnect_mesh").unwrap();
        assert!(mesh.attr("mesh_services.mode").unwrap().union);
        assert_eq!(
            mesh.attr("mesh_services.mode.str").unwrap().wire,
            WireName::None
        );
        assert_eq!(
            mesh.attr("mtls.backends.dp_cert").unwrap().wire,
            WireName::Member("dpCert".into())
        );
        let es = tables.resource("konnect_mesh_external_service").unwrap();
        let protocol = es
            .schema
            .block
            .attribute_at(&["spec", "match", "protocol"])
            .unwrap();
        assert_eq!(protocol.plan.default, Some(serde_json::json!("tcp")));
    }

    #[test]
    fn malformed_tables_are_errors() {
        assert!(matches!(
            KonnectTables::parse("{"),
            Err(TableError::Syntax(_))
        ));
        let orphan = r#"{"provider_config":[],"resources":[{"type":"t","provider":"p","version":"1",
            "import":{"supported":false},
            "api":{"create":{"method":"POST","path":"/x","ok":[201]},"delete":{"method":"DELETE","path":"/x","ok":[204]}},
            "attrs":[["a.b","string","O",{}]]}]}"#;
        let err = KonnectTables::parse(orphan).unwrap_err().to_string();
        assert!(err.contains("no parent row"), "{err}");
    }
}

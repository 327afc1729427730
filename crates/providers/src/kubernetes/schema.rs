//! The schemas of hashicorp/kubernetes 2.35.1 as Terraform sees them
//! (terraform-plugin-sdk/v2: a computed `id`, a `metadata` list block of
//! exactly one element, a `timeouts` single block), with the SDK's
//! defaults and `ForceNew` flags kept as plan behaviour.

use std::collections::BTreeMap;

use meshform_lang::schema::{
    Attribute, Block, NestedBlock, Nesting, PlanBehavior, ProviderSchema, RequiresReplace, Schema,
};
use meshform_lang::Type;

/// Flags of an attribute: `R` required, `O` optional, `C` computed, `S`
/// sensitive, `F` forces replacement (SDK `ForceNew`).
pub(crate) fn attr(ty: Type, flags: &str) -> Attribute {
    let mut a = Attribute::new(ty);
    a.required = flags.contains('R');
    a.optional = flags.contains('O');
    a.computed = flags.contains('C');
    a.sensitive = flags.contains('S');
    if flags.contains('F') {
        a.plan.requires_replace = Some(RequiresReplace::Always);
    }
    a
}

/// An attribute with an SDK `Default` (planned when the configuration
/// leaves it null).
pub(crate) fn with_default(mut a: Attribute, default: serde_json::Value) -> Attribute {
    a.plan = PlanBehavior {
        default: Some(default),
        ..a.plan
    };
    a
}

pub(crate) fn block(
    attributes: impl IntoIterator<Item = (&'static str, Attribute)>,
    blocks: impl IntoIterator<Item = (&'static str, NestedBlock)>,
) -> Block {
    Block {
        attributes: attributes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        block_types: blocks
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..Block::default()
    }
}

pub(crate) fn nested(nesting: Nesting, block: Block, min: u64, max: u64) -> NestedBlock {
    NestedBlock {
        nesting,
        block,
        min_items: min,
        max_items: max,
    }
}

fn strings() -> Type {
    Type::list(Type::String)
}

fn string_map() -> Type {
    Type::map(Type::String)
}

/// The connection attributes shared by the kubernetes provider block and
/// the helm provider's `kubernetes` block.
pub(crate) fn connection_attributes() -> Vec<(&'static str, Attribute)> {
    vec![
        ("client_certificate", attr(Type::String, "O")),
        ("client_key", attr(Type::String, "O")),
        ("cluster_ca_certificate", attr(Type::String, "O")),
        ("config_context", attr(Type::String, "O")),
        ("config_context_auth_info", attr(Type::String, "O")),
        ("config_context_cluster", attr(Type::String, "O")),
        ("config_path", attr(Type::String, "O")),
        ("config_paths", attr(strings(), "O")),
        ("host", attr(Type::String, "O")),
        ("insecure", attr(Type::Bool, "O")),
        ("password", attr(Type::String, "O")),
        ("proxy_url", attr(Type::String, "O")),
        ("tls_server_name", attr(Type::String, "O")),
        ("token", attr(Type::String, "O")),
        ("username", attr(Type::String, "O")),
    ]
}

/// The `exec` credential plugin block.
pub(crate) fn exec_block() -> NestedBlock {
    nested(
        Nesting::List,
        block(
            [
                ("api_version", attr(Type::String, "R")),
                ("args", attr(strings(), "O")),
                ("command", attr(Type::String, "R")),
                ("env", attr(string_map(), "O")),
            ],
            [],
        ),
        0,
        1,
    )
}

fn provider_block() -> Block {
    let mut attributes = connection_attributes();
    attributes.push(("ignore_annotations", attr(strings(), "O")));
    attributes.push(("ignore_labels", attr(strings(), "O")));
    let mut manifest_resource = attr(Type::Bool, "O");
    manifest_resource.deprecated = true;
    block(
        attributes,
        [
            ("exec", exec_block()),
            (
                "experiments",
                nested(
                    Nesting::List,
                    block([("manifest_resource", manifest_resource)], []),
                    0,
                    1,
                ),
            ),
        ],
    )
}

/// The `metadata` block; `namespaced` adds `namespace`.
pub(crate) fn metadata_block(namespaced: bool) -> NestedBlock {
    let mut attributes = vec![
        ("annotations", attr(string_map(), "O")),
        ("generate_name", attr(Type::String, "OF")),
        ("generation", attr(Type::Number, "C")),
        ("labels", attr(string_map(), "O")),
        ("name", attr(Type::String, "OCF")),
        ("resource_version", attr(Type::String, "C")),
        ("uid", attr(Type::String, "C")),
    ];
    if namespaced {
        attributes.push((
            "namespace",
            with_default(attr(Type::String, "OF"), serde_json::json!("default")),
        ));
    }
    nested(Nesting::List, block(attributes, []), 1, 1)
}

fn timeouts_block(names: &[&'static str]) -> NestedBlock {
    nested(
        Nesting::Single,
        block(names.iter().map(|n| (*n, attr(Type::String, "O"))), []),
        0,
        0,
    )
}

fn namespace_schema() -> Schema {
    Schema {
        version: 0,
        block: block(
            [
                ("id", attr(Type::String, "OC")),
                (
                    "wait_for_default_service_account",
                    with_default(attr(Type::Bool, "O"), serde_json::json!(false)),
                ),
            ],
            [
                ("metadata", metadata_block(false)),
                ("timeouts", timeouts_block(&["delete"])),
            ],
        ),
    }
}

fn secret_schema() -> Schema {
    Schema {
        version: 0,
        block: block(
            [
                ("binary_data", attr(string_map(), "OS")),
                ("data", attr(string_map(), "OCS")),
                ("id", attr(Type::String, "OC")),
                ("immutable", attr(Type::Bool, "O")),
                (
                    "type",
                    with_default(attr(Type::String, "OF"), serde_json::json!("Opaque")),
                ),
                (
                    "wait_for_service_account_token",
                    with_default(attr(Type::Bool, "O"), serde_json::json!(true)),
                ),
            ],
            [
                ("metadata", metadata_block(true)),
                ("timeouts", timeouts_block(&["create"])),
            ],
        ),
    }
}

fn config_map_schema() -> Schema {
    Schema {
        version: 0,
        block: block(
            [
                ("binary_data", attr(string_map(), "O")),
                ("data", attr(string_map(), "O")),
                ("id", attr(Type::String, "OC")),
                ("immutable", attr(Type::Bool, "O")),
            ],
            [("metadata", metadata_block(true))],
        ),
    }
}

fn manifest_schema() -> Schema {
    Schema {
        version: 1,
        block: block(
            [
                ("computed_fields", attr(strings(), "O")),
                ("manifest", attr(Type::Dynamic, "R")),
                ("object", attr(Type::Dynamic, "OC")),
                ("wait_for", {
                    let mut a = attr(Type::object([("fields".to_string(), string_map())]), "O");
                    a.deprecated = true;
                    a
                }),
            ],
            [
                (
                    "field_manager",
                    nested(
                        Nesting::List,
                        block(
                            [
                                (
                                    "force_conflicts",
                                    with_default(attr(Type::Bool, "O"), serde_json::json!(false)),
                                ),
                                (
                                    "name",
                                    with_default(
                                        attr(Type::String, "O"),
                                        serde_json::json!("Terraform"),
                                    ),
                                ),
                            ],
                            [],
                        ),
                        0,
                        1,
                    ),
                ),
                (
                    "timeouts",
                    nested(
                        Nesting::List,
                        block(
                            ["create", "delete", "update"].map(|n| (n, attr(Type::String, "O"))),
                            [],
                        ),
                        0,
                        1,
                    ),
                ),
                (
                    "wait",
                    nested(
                        Nesting::List,
                        block(
                            [
                                ("fields", attr(string_map(), "O")),
                                ("rollout", attr(Type::Bool, "O")),
                            ],
                            [(
                                "condition",
                                nested(
                                    Nesting::List,
                                    block(
                                        [
                                            ("status", attr(Type::String, "O")),
                                            ("type", attr(Type::String, "O")),
                                        ],
                                        [],
                                    ),
                                    0,
                                    0,
                                ),
                            )],
                        ),
                        0,
                        1,
                    ),
                ),
            ],
        ),
    }
}

/// The provider schema: the provider block and every resource this
/// backend implements.
pub fn kubernetes_schema() -> ProviderSchema {
    let mut resources = BTreeMap::new();
    for (name, schema) in [
        ("kubernetes_namespace", namespace_schema()),
        ("kubernetes_secret", secret_schema()),
        ("kubernetes_config_map", config_map_schema()),
    ] {
        resources.insert(format!("{name}_v1"), schema.clone());
        resources.insert(name.to_string(), schema);
    }
    resources.insert("kubernetes_manifest".to_string(), manifest_schema());
    ProviderSchema {
        provider: Schema {
            version: 0,
            block: provider_block(),
        },
        resources,
        data_sources: BTreeMap::new(),
    }
}

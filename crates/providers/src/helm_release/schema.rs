//! The schema of hashicorp/helm 2.17.0 as Terraform sees it
//! (terraform-plugin-sdk/v2, `helm_release` at schema version 1), with the
//! SDK defaults and `ForceNew` flags (only `name` and `namespace`) kept as
//! plan behaviour.

use std::collections::BTreeMap;

use meshform_lang::schema::{Attribute, Nesting, ProviderSchema, Schema};
use meshform_lang::Type;
use serde_json::json;

use crate::kubernetes::schema::{
    attr, block, connection_attributes, exec_block, nested, with_default,
};

fn flag(default: bool) -> Attribute {
    with_default(attr(Type::Bool, "O"), json!(default))
}

fn metadata_type() -> Type {
    Type::list(Type::object(
        [
            ("app_version", Type::String),
            ("chart", Type::String),
            ("first_deployed", Type::Number),
            ("last_deployed", Type::Number),
            ("name", Type::String),
            ("namespace", Type::String),
            ("notes", Type::String),
            ("revision", Type::Number),
            ("values", Type::String),
            ("version", Type::String),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), t)),
    ))
}

fn release_schema() -> Schema {
    let strings = Type::list(Type::String);
    Schema {
        version: 1,
        block: block(
            [
                ("atomic", flag(false)),
                ("chart", attr(Type::String, "R")),
                ("cleanup_on_fail", flag(false)),
                ("create_namespace", flag(false)),
                ("dependency_update", flag(false)),
                ("description", attr(Type::String, "O")),
                ("devel", attr(Type::Bool, "O")),
                ("disable_crd_hooks", flag(false)),
                ("disable_openapi_validation", flag(false)),
                ("disable_webhooks", flag(false)),
                ("force_update", flag(false)),
                ("id", attr(Type::String, "OC")),
                ("keyring", attr(Type::String, "O")),
                ("lint", flag(false)),
                ("manifest", attr(Type::String, "C")),
                (
                    "max_history",
                    with_default(attr(Type::Number, "O"), json!(0)),
                ),
                ("metadata", attr(metadata_type(), "C")),
                ("name", attr(Type::String, "RF")),
                (
                    "namespace",
                    with_default(attr(Type::String, "OF"), json!("default")),
                ),
                ("pass_credentials", flag(false)),
                ("recreate_pods", flag(false)),
                ("render_subchart_notes", flag(true)),
                ("replace", flag(false)),
                ("repository", attr(Type::String, "O")),
                ("repository_ca_file", attr(Type::String, "O")),
                ("repository_cert_file", attr(Type::String, "O")),
                ("repository_key_file", attr(Type::String, "O")),
                ("repository_password", attr(Type::String, "OS")),
                ("repository_username", attr(Type::String, "O")),
                ("reset_values", flag(false)),
                ("reuse_values", flag(false)),
                ("skip_crds", flag(false)),
                ("status", attr(Type::String, "C")),
                ("timeout", with_default(attr(Type::Number, "O"), json!(300))),
                ("upgrade_install", flag(false)),
                ("values", attr(strings.clone(), "O")),
                ("verify", flag(false)),
                ("version", attr(Type::String, "OC")),
                ("wait", flag(true)),
                ("wait_for_jobs", flag(false)),
            ],
            [
                (
                    "postrender",
                    nested(
                        Nesting::List,
                        block(
                            [
                                ("args", attr(strings.clone(), "O")),
                                ("binary_path", attr(Type::String, "R")),
                            ],
                            [],
                        ),
                        0,
                        1,
                    ),
                ),
                (
                    "set",
                    nested(
                        Nesting::Set,
                        block(
                            [
                                ("name", attr(Type::String, "R")),
                                ("type", attr(Type::String, "O")),
                                ("value", attr(Type::String, "R")),
                            ],
                            [],
                        ),
                        0,
                        0,
                    ),
                ),
                (
                    "set_list",
                    nested(
                        Nesting::List,
                        block(
                            [
                                ("name", attr(Type::String, "R")),
                                ("value", attr(strings, "R")),
                            ],
                            [],
                        ),
                        0,
                        0,
                    ),
                ),
                (
                    "set_sensitive",
                    nested(
                        Nesting::Set,
                        block(
                            [
                                ("name", attr(Type::String, "R")),
                                ("type", attr(Type::String, "O")),
                                ("value", attr(Type::String, "RS")),
                            ],
                            [],
                        ),
                        0,
                        0,
                    ),
                ),
            ],
        ),
    }
}

fn provider_schema() -> Schema {
    Schema {
        version: 0,
        block: block(
            [
                ("burst_limit", attr(Type::Number, "O")),
                ("debug", attr(Type::Bool, "O")),
                ("helm_driver", attr(Type::String, "O")),
                ("plugins_path", attr(Type::String, "O")),
                ("registry_config_path", attr(Type::String, "O")),
                ("repository_cache", attr(Type::String, "O")),
                ("repository_config_path", attr(Type::String, "O")),
            ],
            [
                (
                    "experiments",
                    nested(
                        Nesting::List,
                        block([("manifest", attr(Type::Bool, "O"))], []),
                        0,
                        1,
                    ),
                ),
                (
                    "kubernetes",
                    nested(
                        Nesting::List,
                        block(connection_attributes(), [("exec", exec_block())]),
                        0,
                        1,
                    ),
                ),
                (
                    "registry",
                    nested(
                        Nesting::List,
                        block(
                            [
                                ("password", attr(Type::String, "R")),
                                ("url", attr(Type::String, "R")),
                                ("username", attr(Type::String, "R")),
                            ],
                            [],
                        ),
                        0,
                        0,
                    ),
                ),
            ],
        ),
    }
}

/// The helm provider's schema: the provider block and `helm_release`.
pub fn helm_schema() -> ProviderSchema {
    ProviderSchema {
        provider: provider_schema(),
        resources: BTreeMap::from([("helm_release".to_string(), release_schema())]),
        data_sources: BTreeMap::new(),
    }
}

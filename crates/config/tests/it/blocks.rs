//! Each block kind and meta-argument is loaded into the model.

use meshform_config::{ProviderRef, ResourceMode};

use crate::support::{load, Dir};

#[test]
fn the_guide_loads_without_diagnostics() {
    let Some(dir) = meshform_testkit::testdata("guide").canonicalize().ok() else {
        panic!("testdata/guide is part of the repository");
    };
    let (m, diags) = meshform_config::load_module(&dir);
    assert!(diags.is_empty(), "{:#?}", diags.0);
    assert_eq!(m.required_providers.len(), 5);
    assert_eq!(
        m.required_providers["konnect-beta"].source,
        "kong/konnect-beta"
    );
    assert_eq!(m.required_providers["konnect"].version, None);
    assert_eq!(m.variables.len(), 4);
    assert_eq!(m.providers.len(), 2);
    let mesh = &m.resources["konnect_mesh.mesh1"];
    assert_eq!(
        mesh.provider_ref(),
        ProviderRef {
            name: "konnect-beta".into(),
            alias: None
        }
    );
    assert_eq!(mesh.depends_on.len(), 1);
    assert!(mesh.config.attr("mtls").is_some());
    assert!(
        mesh.config.attr("provider").is_none(),
        "meta-arguments are taken out"
    );
    let secret = &m.resources["kubernetes_secret.mesh_cp_token"];
    assert_eq!(secret.provider_ref().name, "kubernetes");
    assert_eq!(secret.config.blocks_of("metadata").count(), 1);
    assert!(m.resources.contains_key("time_rotating.rotate"));
}

#[test]
fn every_block_kind_and_meta_argument() {
    let dir = Dir::new(&[
        (
            "main.tf",
            r#"
terraform {
  required_version = ">= 1.0"
  required_providers {
    konnect = { source = "kong/konnect", version = "2.4.1" }
  }
}
provider "konnect" {
  alias     = "eu"
  server_url = "https://eu.api.konghq.com"
}
variable "v" {
  type      = object({ a = optional(string, "x") })
  nullable  = false
  sensitive = true
  validation {
    condition     = var.v.a != ""
    error_message = "a must not be empty"
  }
}
locals {
  l = 1
}
resource "konnect_mesh" "m" {
  provider = konnect.eu
  count    = 2
  name     = "m${count.index}"
  lifecycle {
    create_before_destroy = true
    prevent_destroy       = false
    ignore_changes        = [name]
    replace_triggered_by  = [terraform_data.x]
    precondition {
      condition     = true
      error_message = "never"
    }
    postcondition {
      condition     = true
      error_message = "never"
    }
  }
}
data "konnect_thing" "d" {
  for_each = toset(["a"])
  name     = each.key
}
output "o" {
  value       = local.l
  sensitive   = true
  description = "an output"
  depends_on  = [konnect_mesh.m]
}
module "child" {
  source = "./child"
  x      = 1
}
moved {
  from = konnect_mesh.old
  to   = konnect_mesh.m
}
import {
  to = konnect_mesh.m[0]
  id = "abc"
}
"#,
        ),
        (
            "child/main.tf",
            "variable \"x\" {}\noutput \"y\" {\n  value = var.x\n}\n",
        ),
    ]);
    let (m, diags) = dir.load();
    assert!(diags.is_empty(), "{:#?}", diags.0);
    assert_eq!(m.required_version.len(), 1);
    assert_eq!(m.providers[0].alias.as_deref(), Some("eu"));
    let v = &m.variables["v"];
    assert!(v.sensitive && !v.nullable && v.type_expr.is_some());
    assert_eq!(v.validations.len(), 1);
    assert!(m.locals.contains_key("l"));
    let r = &m.resources["konnect_mesh.m"];
    assert_eq!(r.provider.as_ref().unwrap().to_string(), "konnect.eu");
    assert!(r.count.is_some());
    let lc = &r.lifecycle;
    assert!(lc.create_before_destroy.is_some() && lc.prevent_destroy.is_some());
    assert!(lc.ignore_changes.is_some() && lc.replace_triggered_by.is_some());
    assert_eq!((lc.preconditions.len(), lc.postconditions.len()), (1, 1));
    assert!(
        r.config.blocks.is_empty(),
        "lifecycle is not provider configuration"
    );
    let d = &m.resources["data.konnect_thing.d"];
    assert_eq!(d.mode, ResourceMode::Data);
    assert!(d.for_each.is_some());
    let o = &m.outputs["o"];
    assert!(o.sensitive && o.depends_on.len() == 1);
    let child = m.module_calls["child"]
        .module
        .as_ref()
        .expect("child loaded");
    assert!(child.outputs.contains_key("y"));
    assert!(m.module_calls["child"].config.attr("x").is_some());
    assert_eq!(m.moved.len(), 1);
    assert_eq!(m.imports.len(), 1);
}

#[test]
fn override_files_merge_arguments_and_replace_blocks() {
    let dir = Dir::new(&[
        (
            "main.tf",
            "resource \"a_b\" \"c\" {\n  x = 1\n  y = 2\n  nested {\n    z = 1\n  }\n  lifecycle {\n    prevent_destroy = true\n  }\n}\nlocals {\n  l = 1\n}\n",
        ),
        (
            "override.tf",
            "resource \"a_b\" \"c\" {\n  y = 3\n  nested {\n    z = 2\n  }\n  lifecycle {\n    create_before_destroy = true\n  }\n}\nlocals {\n  l = 2\n}\n",
        ),
    ]);
    let (m, diags) = dir.load();
    assert!(diags.is_empty(), "{:#?}", diags.0);
    let r = &m.resources["a_b.c"];
    let text = |name: &str| {
        let a = r.config.attr(name).unwrap();
        (a.range.file.to_string(), a.expr.range().start.line)
    };
    assert_eq!(text("x"), ("main.tf".into(), 2));
    assert_eq!(text("y"), ("override.tf".into(), 2));
    let nested: Vec<_> = r.config.blocks_of("nested").collect();
    assert_eq!(nested.len(), 1);
    assert_eq!(&*nested[0].def_range.file, "override.tf");
    assert!(r.lifecycle.prevent_destroy.is_some() && r.lifecycle.create_before_destroy.is_some());
    assert_eq!(&*m.locals["l"].range.file, "override.tf");
}

#[test]
fn json_configuration_loads_like_native_syntax() {
    let dir = Dir::new(&[(
        "main.tf.json",
        r#"{
  "variable": {"region": {"default": "us"}},
  "resource": {"konnect_mesh": {"m": {"name": "mesh-${var.region}", "depends_on": ["konnect_x.y"], "lifecycle": {"prevent_destroy": true}}}},
  "output": {"o": {"value": "${var.region}"}}
}"#,
    )]);
    let (m, diags) = dir.load();
    assert!(diags.is_empty(), "{:#?}", diags.0);
    let r = &m.resources["konnect_mesh.m"];
    assert!(r.config.attr("name").is_some());
    assert_eq!(
        r.depends_on.len(),
        1,
        "JSON depends_on strings are references"
    );
    assert!(r.lifecycle.prevent_destroy.is_some());
    assert!(m.outputs.contains_key("o"));
}

#[test]
fn provider_defaults_to_the_type_prefix() {
    let (m, _) = load("resource \"time_offset\" \"x\" {}\n");
    assert_eq!(m.resources["time_offset.x"].provider_ref().name, "time");
    assert_eq!(m.provider_source("time"), "hashicorp/time");
}

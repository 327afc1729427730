//! Terraform state v4 JSON (`terraform.tfstate`): reading one into a
//! [`Snapshot`] and writing a snapshot back, byte for byte as Terraform
//! writes it (resources sorted by module, mode, type and name; Go's JSON
//! indentation; numbers exactly as stored).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::address::{module_path_string, parse_module_path, IndexKey, InstanceAddr, Mode};
use crate::error::StateError;
use crate::json::{to_go_pretty_json, AttrPath, ExactJson};
use crate::model::{InstanceStatus, OutputState, ResourceInstance, Snapshot};

#[derive(Serialize, Deserialize)]
struct StateV4 {
    version: u64,
    terraform_version: String,
    serial: u64,
    lineage: String,
    #[serde(default)]
    outputs: IndexMap<String, OutputV4>,
    #[serde(default)]
    resources: Vec<ResourceV4>,
}

#[derive(Serialize, Deserialize)]
struct OutputV4 {
    value: ExactJson,
    #[serde(rename = "type")]
    type_json: serde_json::Value,
    #[serde(default, skip_serializing_if = "is_false")]
    sensitive: bool,
}

#[derive(Serialize, Deserialize)]
struct ResourceV4 {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    module: String,
    mode: String,
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    each: Option<String>,
    provider: String,
    instances: Vec<InstanceV4>,
}

#[derive(Serialize, Deserialize)]
struct InstanceV4 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index_key: Option<IndexKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deposed: Option<String>,
    schema_version: u64,
    attributes: ExactJson,
    #[serde(default)]
    sensitive_attributes: Vec<AttrPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    create_before_destroy: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Reads a state v4 file. The snapshot's `workspace` is left empty.
///
/// Schema-sensitive paths are unknown without the provider schema, so
/// `schema_sensitive_paths` is empty for every instance read here.
pub fn parse_tfstate(text: &str) -> Result<Snapshot, StateError> {
    let version: serde_json::Value = serde_json::from_str::<VersionOnly>(text)
        .map(|v| v.version)
        .map_err(parse_error)?;
    if version.as_u64() != Some(4) {
        return Err(StateError::UnsupportedVersion {
            version: version.as_u64().unwrap_or(0),
        });
    }
    let file: StateV4 = serde_json::from_str(text).map_err(parse_error)?;
    let mut instances = Vec::new();
    for resource in file.resources {
        let mode = Mode::parse(&resource.mode).ok_or_else(|| StateError::InvalidTfstate {
            what: "resource mode",
            value: resource.mode.clone(),
        })?;
        let module = parse_module_path(&resource.module)?;
        for inst in resource.instances {
            let status = match inst.status.as_deref() {
                None | Some("") => InstanceStatus::Ready,
                Some("tainted") => InstanceStatus::Tainted,
                Some(other) => {
                    return Err(StateError::InvalidTfstate {
                        what: "instance status",
                        value: other.to_owned(),
                    })
                }
            };
            instances.push(ResourceInstance {
                addr: InstanceAddr {
                    module: module.clone(),
                    mode,
                    type_name: resource.type_name.clone(),
                    name: resource.name.clone(),
                    key: inst.index_key,
                },
                deposed: inst.deposed.filter(|d| !d.is_empty()),
                provider: resource.provider.clone(),
                schema_version: inst.schema_version,
                attributes: inst.attributes,
                sensitive_paths: inst.sensitive_attributes,
                schema_sensitive_paths: Vec::new(),
                private: inst.private,
                dependencies: inst.dependencies,
                create_before_destroy: inst.create_before_destroy,
                status,
            });
        }
    }
    sort_instances(&mut instances);
    let outputs = file
        .outputs
        .into_iter()
        .map(|(name, o)| {
            (
                name,
                OutputState {
                    value: o.value,
                    type_json: o.type_json,
                    sensitive: o.sensitive,
                },
            )
        })
        .collect();
    Ok(Snapshot {
        workspace: String::new(),
        lineage: file.lineage,
        serial: file.serial,
        terraform_version: file.terraform_version,
        instances,
        outputs,
    })
}

#[derive(Deserialize)]
struct VersionOnly {
    version: serde_json::Value,
}

fn parse_error(e: serde_json::Error) -> StateError {
    StateError::ParseTfstate {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Sorts objects as Terraform writes them: by module path, mode ("data"
/// before "managed"), type and name, then instance key, then deposed key.
pub fn sort_instances(instances: &mut [ResourceInstance]) {
    instances.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
}

type OrderKey<'a> = (
    String,
    &'static str,
    &'a str,
    &'a str,
    Option<&'a IndexKey>,
    Option<&'a str>,
);

fn order_key(i: &ResourceInstance) -> OrderKey<'_> {
    (
        module_path_string(&i.addr.module),
        i.addr.mode.as_str(),
        &i.addr.type_name,
        &i.addr.name,
        i.addr.key.as_ref(),
        i.deposed.as_deref(),
    )
}

/// Writes a snapshot as a Terraform state v4 file, ending with a newline.
pub fn to_tfstate_json(snapshot: &Snapshot) -> String {
    let mut sorted = snapshot.instances.clone();
    sort_instances(&mut sorted);
    let mut resources: Vec<ResourceV4> = Vec::new();
    for inst in sorted {
        let same_resource = resources.last().is_some_and(|r| {
            r.module == inst.addr.module_path()
                && r.mode == inst.addr.mode.as_str()
                && r.type_name == inst.addr.type_name
                && r.name == inst.addr.name
        });
        if !same_resource {
            resources.push(ResourceV4 {
                module: inst.addr.module_path(),
                mode: inst.addr.mode.as_str().to_owned(),
                type_name: inst.addr.type_name.clone(),
                name: inst.addr.name.clone(),
                each: None,
                provider: inst.provider.clone(),
                instances: Vec::new(),
            });
        }
        if let Some(r) = resources.last_mut() {
            r.instances.push(instance_v4(&inst));
        }
    }
    let outputs: BTreeMap<&String, OutputV4> = snapshot
        .outputs
        .iter()
        .map(|(name, o)| {
            (
                name,
                OutputV4 {
                    value: o.value.clone(),
                    type_json: o.type_json.clone(),
                    sensitive: o.sensitive,
                },
            )
        })
        .collect();
    let file = StateV4 {
        version: 4,
        terraform_version: snapshot.terraform_version.clone(),
        serial: snapshot.serial,
        lineage: snapshot.lineage.clone(),
        outputs: outputs.into_iter().map(|(k, v)| (k.clone(), v)).collect(),
        resources,
    };
    let compact = serde_json::to_string(&file).unwrap_or_default();
    let exact = ExactJson::parse(&compact).unwrap_or_else(|_| ExactJson::null());
    let mut out = to_go_pretty_json(&exact);
    out.push('\n');
    out
}

fn instance_v4(inst: &ResourceInstance) -> InstanceV4 {
    InstanceV4 {
        index_key: inst.addr.key.clone(),
        status: (inst.status == InstanceStatus::Tainted).then(|| "tainted".to_owned()),
        deposed: inst.deposed.clone(),
        schema_version: inst.schema_version,
        attributes: inst.attributes.clone(),
        sensitive_attributes: inst.sensitive_paths.clone(),
        private: inst.private.clone(),
        dependencies: inst.dependencies.clone(),
        create_before_destroy: inst.create_before_destroy,
    }
}

/// One object as a JSON record for the history table: its address plus the
/// state v4 instance fields, and the schema-sensitive paths.
pub(crate) fn instance_record(inst: &ResourceInstance) -> ExactJson {
    #[derive(Serialize)]
    struct Record<'a> {
        address: String,
        provider: &'a str,
        #[serde(flatten)]
        instance: InstanceV4,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        schema_sensitive_attributes: &'a [AttrPath],
    }
    let record = Record {
        address: inst.addr.to_string(),
        provider: &inst.provider,
        instance: instance_v4(inst),
        schema_sensitive_attributes: &inst.schema_sensitive_paths,
    };
    let text = serde_json::to_string(&record).unwrap_or_default();
    ExactJson::parse(&text).unwrap_or_else(|_| ExactJson::null())
}

/// An output as a JSON record for the history table.
pub(crate) fn output_record(output: &OutputState) -> ExactJson {
    let record = OutputV4 {
        value: output.value.clone(),
        type_json: output.type_json.clone(),
        sensitive: output.sensitive,
    };
    let text = serde_json::to_string(&record).unwrap_or_default();
    ExactJson::parse(&text).unwrap_or_else(|_| ExactJson::null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_round_trips_byte_for_byte() {
        let text = r#"{
  "version": 4,
  "terraform_version": "1.0.3",
  "serial": 2,
  "lineage": "l",
  "outputs": {
    "o": {
      "value": "<a & b>",
      "type": "string",
      "sensitive": true
    }
  },
  "resources": [
    {
      "mode": "data",
      "type": "fake_echo",
      "name": "e",
      "provider": "provider[\"registry.terraform.io/hashicorp/fake\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "input": "x",
            "n": 1e400,
            "m": {}
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "mode": "managed",
      "type": "fake_thing",
      "name": "a",
      "provider": "provider[\"registry.terraform.io/hashicorp/fake\"]",
      "instances": [
        {
          "index_key": "k",
          "status": "tainted",
          "schema_version": 1,
          "attributes": {
            "list": [
              1,
              2
            ]
          },
          "sensitive_attributes": [],
          "private": "bnVsbA==",
          "dependencies": [
            "data.fake_echo.e"
          ],
          "create_before_destroy": true
        }
      ]
    }
  ]
}
"#;
        let text = text.replace("<a & b>", "\\u003ca \\u0026 b\\u003e");
        let snapshot = parse_tfstate(&text).unwrap();
        assert_eq!(snapshot.instances.len(), 2);
        assert_eq!(snapshot.outputs["o"].value.as_str(), r#""<a & b>""#);
        assert_eq!(to_tfstate_json(&snapshot), text);
    }

    #[test]
    fn other_versions_are_refused() {
        let err = parse_tfstate(r#"{"version": 3}"#).unwrap_err();
        assert!(matches!(err, StateError::UnsupportedVersion { version: 3 }));
        assert!(parse_tfstate("{").is_err());
    }
}

//! Contract checks of Konnect exchanges against the official OpenAPI
//! documents (`shared/reference/konnect/official`), for the sandbox's own
//! tests and for any client test that records exchanges through
//! [`crate::Sandbox::exchanges`]. Behind the `contract` feature.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use crate::Exchange;

/// Failures loading the specs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// A spec file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A spec file is not valid YAML.
    #[error("{path} is not valid YAML: {message}")]
    Parse { path: PathBuf, message: String },
}

struct Spec {
    name: &'static str,
    prefix: &'static str,
    doc: Arc<Value>,
}

/// The official OpenAPI documents, ready to check exchanges against.
pub struct Contract {
    specs: Vec<Spec>,
    validators: Mutex<HashMap<(usize, String), Arc<Validator>>>,
}

const SPECS: &[(&str, &str)] = &[
    ("/v1", "mesh-control-planes-v0.2025-03-05.openapi.yaml"),
    ("/v1", "mesh-control-planes-v0.2026-08-13.openapi.yaml"),
    ("/v3", "identity-v3.2025-03-07.openapi.yaml"),
    ("/v3", "identity-v3.2026-08-11.openapi.yaml"),
];

/// OpenAPI 3.0 `nullable` becomes JSON Schema's `null` type.
fn openapi_to_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                openapi_to_json_schema(child);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::Array(options)) = map.get_mut("enum") {
                    options.push(Value::Null);
                }
                match map.get("type").and_then(Value::as_str).map(str::to_string) {
                    Some(t) => {
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    None => {
                        let inner = Value::Object(std::mem::take(map));
                        *value = json!({"anyOf": [inner, {"type": "null"}]});
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows an OpenAPI-level `$ref` (responses, request bodies, parameters).
fn resolve<'a>(doc: &'a Value, value: &'a Value, pointer: String) -> (&'a Value, String) {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = r.trim_start_matches('#');
            (
                doc.pointer(target).unwrap_or(&Value::Null),
                target.to_string(),
            )
        }
        None => (value, pointer),
    }
}

impl Contract {
    /// Reads the four official documents from `dir`
    /// (`shared/reference/konnect/official`).
    pub fn load(dir: &Path) -> Result<Contract, ContractError> {
        let mut specs = Vec::new();
        for (prefix, name) in SPECS {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|source| ContractError::Read {
                path: path.clone(),
                source,
            })?;
            let mut doc: Value =
                serde_yaml_ng::from_str(&text).map_err(|e| ContractError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            openapi_to_json_schema(&mut doc);
            specs.push(Spec {
                name,
                prefix,
                doc: Arc::new(doc),
            });
        }
        Ok(Contract {
            specs,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Every exchange that breaks the contract, described in one line each.
    pub fn violations(&self, exchanges: &[Exchange]) -> Vec<String> {
        exchanges
            .iter()
            .filter_map(|e| {
                self.check(e).err().map(|why| {
                    let query = e
                        .query
                        .as_deref()
                        .map(|q| format!("?{q}"))
                        .unwrap_or_default();
                    format!("{} {}{query} -> {}: {why}", e.method, e.path, e.status)
                })
            })
            .collect()
    }

    fn validator(&self, spec: usize, pointer: &str) -> Result<Arc<Validator>, String> {
        let key = (spec, pointer.to_string());
        if let Some(v) = self
            .validators
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(v);
        }
        let mut root = (*self.specs[spec].doc).clone();
        let fragment: String = pointer
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '/' | '~' | '-' | '.' | '_' => c.to_string(),
                other => {
                    let mut buf = [0u8; 4];
                    other
                        .encode_utf8(&mut buf)
                        .bytes()
                        .map(|b| format!("%{b:02X}"))
                        .collect()
                }
            })
            .collect();
        root["$ref"] = json!(format!("#{fragment}"));
        let validator = Arc::new(
            jsonschema::options()
                .with_draft(Draft::Draft4)
                .build(&root)
                .map_err(|e| {
                    format!(
                        "schema {pointer} of {} does not compile: {e}",
                        self.specs[spec].name
                    )
                })?,
        );
        if let Ok(mut cache) = self.validators.lock() {
            cache.insert(key, validator.clone());
        }
        Ok(validator)
    }

    fn errors(&self, spec: usize, pointer: &str, instance: &Value) -> Result<Vec<String>, String> {
        Ok(self
            .validator(spec, pointer)?
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .take(5)
            .collect())
    }

    /// The spec index, path template and operation for a request.
    fn operation(&self, method: &str, path: &str) -> Option<(usize, String, &Value)> {
        for (i, spec) in self.specs.iter().enumerate() {
            let Some(rest) = path.strip_prefix(spec.prefix) else {
                continue;
            };
            let segments: Vec<&str> = rest.split('/').collect();
            let paths = spec.doc["paths"].as_object()?;
            let best = paths
                .iter()
                .filter_map(|(template, item)| {
                    let parts: Vec<&str> = template.split('/').collect();
                    if parts.len() != segments.len() {
                        return None;
                    }
                    let mut literal = 0;
                    for (p, s) in parts.iter().zip(&segments) {
                        if p.starts_with('{') {
                            continue;
                        }
                        if p != s {
                            return None;
                        }
                        literal += 1;
                    }
                    Some((literal, template, item))
                })
                .filter(|(_, _, item)| item.get(method).is_some())
                .max_by_key(|(literal, _, _)| *literal);
            if let Some((_, template, item)) = best {
                return Some((i, template.clone(), &item[method]));
            }
        }
        None
    }

    /// Checks one exchange: the operation exists, its query parameters are
    /// declared, an invalid request body was refused, the status is declared
    /// (an undeclared error status must still carry a problem document) and
    /// the response body matches its schema.
    pub fn check(&self, e: &Exchange) -> Result<(), String> {
        let method = e.method.to_lowercase();
        let Some((spec, template, op)) = self.operation(&method, &e.path) else {
            return if e.status == 404 {
                Ok(())
            } else {
                Err(format!(
                    "no operation in the specs and status {} (not 404)",
                    e.status
                ))
            };
        };
        let doc = &self.specs[spec].doc;
        let op_pointer = format!("/paths/{}/{method}", escape(&template));

        // Query parameters must be declared (deepObject names by their base).
        let declared: Vec<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                doc["paths"][&template]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .map(|p| resolve(doc, p, String::new()).0)
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        if let Some(query) = &e.query {
            for (key, _) in url::form_urlencoded::parse(query.as_bytes()) {
                let base = key.split('[').next().unwrap_or_default();
                if !declared.iter().any(|d| d == key.as_ref() || d == base) {
                    return Err(format!(
                        "query parameter {key} is not declared by {template}"
                    ));
                }
            }
        }

        // Request body against its schema; an invalid request must be refused.
        if let (Some(body), Some(request)) = (&e.request_body, op.get("requestBody")) {
            let (request, pointer) = resolve(doc, request, format!("{op_pointer}/requestBody"));
            if request["content"]["application/json"]["schema"].is_object() {
                let schema = format!("{pointer}/content/application~1json/schema");
                let errors = self.errors(spec, &schema, body)?;
                if !errors.is_empty() && e.status < 400 {
                    return Err(format!(
                        "accepted an invalid request body ({})",
                        errors.join("; ")
                    ));
                }
            }
        }

        // Response status and body.
        let status = e.status.to_string();
        let declared_response = op["responses"]
            .get(&status)
            .or_else(|| op["responses"].get("default"));
        let Some(response) = declared_response else {
            if e.status >= 400 && e.content_type.as_deref() == Some("application/problem+json") {
                let body = e.response_body.clone().unwrap_or(Value::Null);
                let problem_ok = ["status", "title", "detail", "instance"]
                    .iter()
                    .all(|k| body.get(*k).is_some())
                    && body["status"] == e.status;
                return if problem_ok {
                    Ok(())
                } else {
                    Err(format!(
                        "undeclared status {status} without a problem document"
                    ))
                };
            }
            return Err(format!(
                "status {status} is not declared by {} {template}",
                e.method
            ));
        };
        let (response, pointer) =
            resolve(doc, response, format!("{op_pointer}/responses/{status}"));
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return match &e.response_body {
                None => Ok(()),
                Some(body) => Err(format!("status {status} declares no body but got {body}")),
            };
        };
        let media = e
            .content_type
            .as_deref()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let Some(media_object) = content.get(&media) else {
            return Err(format!(
                "content type {media} is not declared for status {status} (declared: {:?})",
                content.keys().collect::<Vec<_>>()
            ));
        };
        if media_object["schema"].is_object() {
            let body = e.response_body.clone().unwrap_or(Value::Null);
            let schema = format!("{pointer}/content/{}/schema", escape(&media));
            let errors = self.errors(spec, &schema, &body)?;
            if !errors.is_empty() {
                return Err(format!(
                    "response body does not match {} {schema}: {}",
                    self.specs[spec].name,
                    errors.join("; ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> Option<Contract> {
        let dir = meshform_testkit::shared_path("reference/konnect/official")?;
        Some(Contract::load(&dir).expect("specs load"))
    }

    #[test]
    fn the_checker_rejects_an_undeclared_status_and_a_wrong_body() {
        let Some(contract) = contract() else { return };
        let ok = Exchange {
            method: "DELETE".into(),
            path: "/v1/mesh/control-planes/5f5d6b6e-0000-4000-8000-000000000000".into(),
            query: None,
            request_body: None,
            status: 204,
            content_type: None,
            response_body: None,
        };
        assert_eq!(contract.check(&ok), Ok(()));
        let wrong_status = Exchange {
            status: 201,
            ..ok.clone()
        };
        assert!(contract.check(&wrong_status).is_err());
        let wrong_body = Exchange {
            method: "GET".into(),
            status: 200,
            content_type: Some("application/json".into()),
            response_body: Some(json!({"id": 5, "name": []})),
            ..ok.clone()
        };
        assert!(contract.check(&wrong_body).is_err());
        let unknown_query = Exchange {
            query: Some("bogus=1".into()),
            ..ok
        };
        assert!(contract.check(&unknown_query).is_err());
    }
}

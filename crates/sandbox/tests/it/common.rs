//! Starting a sandbox and talking to it.

use meshform_sandbox::{Sandbox, SandboxConfig};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;
use serde_json::Value;

pub const PAT: &str = "kpat_testtokentesttokentesttoken";

pub struct Konnect {
    pub sandbox: Sandbox,
    pub client: Client,
    pub token: String,
}

pub fn start_with(config: SandboxConfig) -> Konnect {
    let sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![PAT.to_string()],
        record_exchanges: true,
        ..config
    })
    .expect("sandbox starts");
    Konnect {
        sandbox,
        client: Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client"),
        token: PAT.to_string(),
    }
}

pub fn start() -> Konnect {
    start_with(SandboxConfig::default())
}

impl Konnect {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.sandbox.konnect_url(), path))
            .bearer_auth(&self.token)
    }

    /// Sends and returns (status, JSON body or Null).
    pub fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.request(method, path);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().expect("request is answered"))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None)
    }
    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body))
    }
    pub fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body))
    }
    pub fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body))
    }
    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None)
    }

    /// Creates a control plane with features off and returns its id.
    pub fn control_plane(&self, name: &str) -> String {
        let (status, cp) = self.post(
            "/v1/mesh/control-planes",
            serde_json::json!({"name": name, "features": [
                {"type": "MeshCreation", "meshCreation": {"enabled": false}},
                {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": false}}
            ]}),
        );
        assert_eq!(status, 201, "{cp}");
        cp["id"].as_str().expect("id").to_string()
    }
}

pub fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

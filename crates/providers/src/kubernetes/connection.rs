//! Where the Kubernetes connection comes from: the provider block's
//! attributes, then the environment (`KUBE_CONFIG_PATH(S)`, `KUBECONFIG`,
//! `~/.kube/config`), resolved into one kubeconfig document that kube-rs
//! loads. Shared by the kubernetes provider and the helm provider's
//! `kubernetes` block.
//!
//! Resolution is pure (files are read, nothing is contacted) so that the
//! precedence can be checked without a cluster; [`connect`] is the only
//! step that builds a client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use meshform_lang::Value;
use serde_json::{json, Map, Value as Json};

/// Where the kubeconfig (or the explicit host) came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionSource {
    /// `config_path` / `config_paths` of the provider block.
    ProviderPaths(Vec<PathBuf>),
    /// `KUBE_CONFIG_PATH` or `KUBE_CONFIG_PATHS`.
    KubeConfigPathEnv(Vec<PathBuf>),
    /// `KUBECONFIG`.
    KubeconfigEnv(Vec<PathBuf>),
    /// `~/.kube/config`.
    HomeConfig(PathBuf),
    /// Only `host` (and credentials) from the provider block or `KUBE_HOST`.
    Host(String),
}

/// Why no usable connection could be made from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    #[error("no Kubernetes configuration was found (tried {})", .tried.join(", "))]
    NotConfigured { tried: Vec<String> },
    #[error("the kubeconfig file {path} could not be read: {message}")]
    Read { path: PathBuf, message: String },
    #[error("the kubeconfig file {path} is not valid YAML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the kubeconfig has no context named {context:?}")]
    UnknownContext { context: String },
    #[error("the kubeconfig names no current context and none was configured")]
    NoContext,
    #[error("the Kubernetes client configuration is invalid: {message}")]
    Client { message: String },
}

/// A resolved connection: one kubeconfig document and the context to use.
/// Its `Debug` form leaves the kubeconfig out (it may hold credentials).
#[derive(Clone, PartialEq)]
pub struct Connection {
    pub source: ConnectionSource,
    /// The merged kubeconfig with the provider's overrides applied.
    pub kubeconfig: Json,
    pub context: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("source", &self.source)
            .field("context", &self.context)
            .field("server", &self.server())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The API server URL of the selected context.
    pub fn server(&self) -> Option<&str> {
        let cluster = self
            .selected("contexts", &self.context)?
            .get("cluster")?
            .as_str()?;
        self.named("clusters", cluster)?
            .get("cluster")?
            .get("server")?
            .as_str()
    }

    fn selected(&self, list: &str, name: &str) -> Option<&Json> {
        self.named(list, name)?.get("context")
    }

    fn named(&self, list: &str, name: &str) -> Option<&Json> {
        self.kubeconfig
            .get(list)?
            .as_array()?
            .iter()
            .find(|e| e.get("name").and_then(Json::as_str) == Some(name))
    }
}

/// The provider block's connection settings (attributes of the kubernetes
/// provider, or of the helm provider's `kubernetes` block). Its `Debug`
/// form hides credentials.
#[derive(Clone, Default, PartialEq)]
pub struct ConnectionSettings {
    pub config_path: Option<String>,
    pub config_paths: Vec<String>,
    pub config_context: Option<String>,
    pub config_context_auth_info: Option<String>,
    pub config_context_cluster: Option<String>,
    pub host: Option<String>,
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub cluster_ca_certificate: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub insecure: Option<bool>,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
    pub exec: Option<ExecSettings>,
}

/// An `exec` credential plugin.
#[derive(Clone, Default, PartialEq)]
pub struct ExecSettings {
    pub api_version: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

fn hidden(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "(sensitive value)")
}

impl std::fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("config_path", &self.config_path)
            .field("config_paths", &self.config_paths)
            .field("config_context", &self.config_context)
            .field("config_context_auth_info", &self.config_context_auth_info)
            .field("config_context_cluster", &self.config_context_cluster)
            .field("host", &self.host)
            .field("token", &hidden(&self.token))
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("cluster_ca_certificate", &self.cluster_ca_certificate)
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &hidden(&self.client_key))
            .field("insecure", &self.insecure)
            .field("tls_server_name", &self.tls_server_name)
            .field("proxy_url", &self.proxy_url)
            .field("exec", &self.exec)
            .finish()
    }
}

impl std::fmt::Debug for ExecSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecSettings")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn string_attr(v: &Value, name: &str) -> Option<String> {
    v.get_attr(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn strings_attr(v: &Value, name: &str) -> Vec<String> {
    v.get_attr(name)
        .and_then(Value::as_elements)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl ConnectionSettings {
    /// Reads the settings from a decoded provider block (or `kubernetes`
    /// block) value; unknown or null attributes are unset.
    pub fn from_value(v: &Value) -> ConnectionSettings {
        let v = v.clone().unmark_deep();
        if v.is_null() || !v.is_known() {
            return ConnectionSettings::default();
        }
        let exec = v
            .get_attr("exec")
            .and_then(Value::as_elements)
            .and_then(|items| items.first())
            .map(|e| ExecSettings {
                api_version: string_attr(e, "api_version").unwrap_or_default(),
                command: string_attr(e, "command").unwrap_or_default(),
                args: strings_attr(e, "args"),
                env: e
                    .get_attr("env")
                    .and_then(Value::as_entries)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        ConnectionSettings {
            config_path: string_attr(&v, "config_path"),
            config_paths: strings_attr(&v, "config_paths"),
            config_context: string_attr(&v, "config_context"),
            config_context_auth_info: string_attr(&v, "config_context_auth_info"),
            config_context_cluster: string_attr(&v, "config_context_cluster"),
            host: string_attr(&v, "host"),
            token: string_attr(&v, "token"),
            username: string_attr(&v, "username"),
            password: string_attr(&v, "password"),
            cluster_ca_certificate: string_attr(&v, "cluster_ca_certificate"),
            client_certificate: string_attr(&v, "client_certificate"),
            client_key: string_attr(&v, "client_key"),
            insecure: v.get_attr("insecure").and_then(Value::as_bool),
            tls_server_name: string_attr(&v, "tls_server_name"),
            proxy_url: string_attr(&v, "proxy_url"),
            exec,
        }
    }

    /// Fills unset settings from the provider's environment variables
    /// (`KUBE_HOST`, `KUBE_TOKEN`, `KUBE_CTX`, ...), as the provider does.
    fn with_env(mut self, env: &BTreeMap<String, String>) -> ConnectionSettings {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let fill = |slot: &mut Option<String>, k: &str| {
            if slot.is_none() {
                *slot = get(k);
            }
        };
        fill(&mut self.host, "KUBE_HOST");
        fill(&mut self.token, "KUBE_TOKEN");
        fill(&mut self.username, "KUBE_USER");
        fill(&mut self.password, "KUBE_PASSWORD");
        fill(&mut self.config_context, "KUBE_CTX");
        fill(&mut self.config_context_auth_info, "KUBE_CTX_AUTH_INFO");
        fill(&mut self.config_context_cluster, "KUBE_CTX_CLUSTER");
        fill(
            &mut self.cluster_ca_certificate,
            "KUBE_CLUSTER_CA_CERT_DATA",
        );
        fill(&mut self.client_certificate, "KUBE_CLIENT_CERT_DATA");
        fill(&mut self.client_key, "KUBE_CLIENT_KEY_DATA");
        fill(&mut self.tls_server_name, "KUBE_TLS_SERVER_NAME");
        fill(&mut self.proxy_url, "KUBE_PROXY_URL");
        if self.insecure.is_none() {
            self.insecure = get("KUBE_INSECURE").map(|v| v == "true" || v == "1");
        }
        self
    }
}

fn split_paths(list: &str) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// Picks the kubeconfig files and settings in the provider's order and
/// builds the kubeconfig to connect with.
pub fn resolve(
    settings: &ConnectionSettings,
    env: &BTreeMap<String, String>,
) -> Result<Connection, ConnectionError> {
    let settings = settings.clone().with_env(env);
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty());
    let mut tried = Vec::new();
    let mut explicit: Vec<PathBuf> = settings.config_paths.iter().map(PathBuf::from).collect();
    if let Some(p) = &settings.config_path {
        explicit.insert(0, PathBuf::from(p));
    }
    let files: Option<(ConnectionSource, Vec<PathBuf>)> = if !explicit.is_empty() {
        Some((ConnectionSource::ProviderPaths(explicit.clone()), explicit))
    } else if let Some(p) = get("KUBE_CONFIG_PATH") {
        let paths = vec![PathBuf::from(p)];
        Some((ConnectionSource::KubeConfigPathEnv(paths.clone()), paths))
    } else if let Some(p) = get("KUBE_CONFIG_PATHS") {
        let paths = split_paths(p);
        Some((ConnectionSource::KubeConfigPathEnv(paths.clone()), paths))
    } else {
        tried.push("config_path, config_paths".to_string());
        tried.push("KUBE_CONFIG_PATH, KUBE_CONFIG_PATHS".to_string());
        if settings.host.is_some() {
            None
        } else if let Some(list) = get("KUBECONFIG") {
            let all = split_paths(list);
            let existing: Vec<PathBuf> = all.iter().filter(|p| p.is_file()).cloned().collect();
            if existing.is_empty() {
                tried.push(format!(
                    "KUBECONFIG ({}: no such file)",
                    all.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                None
            } else {
                Some((ConnectionSource::KubeconfigEnv(existing.clone()), existing))
            }
        } else {
            tried.push("KUBECONFIG (not set)".to_string());
            match get("HOME").map(|h| Path::new(h).join(".kube").join("config")) {
                Some(path) if path.is_file() => {
                    Some((ConnectionSource::HomeConfig(path.clone()), vec![path]))
                }
                Some(path) => {
                    tried.push(format!("{} (no such file)", path.display()));
                    None
                }
                None => {
                    tried.push("~/.kube/config (HOME not set)".to_string());
                    None
                }
            }
        }
    };
    let (source, mut kubeconfig) = match files {
        Some((source, paths)) => (source, load_files(&paths)?),
        None => match &settings.host {
            Some(host) => (
                ConnectionSource::Host(host.clone()),
                json!({
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "default", "cluster": {"server": host}}],
                    "users": [{"name": "default", "user": {}}],
                    "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
                    "current-context": "default",
                }),
            ),
            None => {
                tried.push("host, KUBE_HOST".to_string());
                return Err(ConnectionError::NotConfigured { tried });
            }
        },
    };
    let context = match &settings.config_context {
        Some(c) => c.clone(),
        None => kubeconfig
            .get("current-context")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or(ConnectionError::NoContext)?,
    };
    apply_overrides(&mut kubeconfig, &context, &settings)?;
    Ok(Connection {
        source,
        kubeconfig,
        context,
    })
}

fn load_files(paths: &[PathBuf]) -> Result<Json, ConnectionError> {
    let mut merged = json!({"apiVersion": "v1", "kind": "Config"});
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| ConnectionError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut doc: Json = serde_yaml_ng::from_str(&text).map_err(|e| ConnectionError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if doc.is_null() {
            continue;
        }
        if let Some(dir) = path.parent() {
            absolutize(&mut doc, dir);
        }
        merge_kubeconfig(&mut merged, doc);
    }
    Ok(merged)
}

/// Makes file references of a kubeconfig relative to its own directory,
/// as kubectl reads them.
fn absolutize(doc: &mut Json, dir: &Path) {
    for (list, inner, keys) in [
        ("clusters", "cluster", &["certificate-authority"][..]),
        (
            "users",
            "user",
            &["client-certificate", "client-key", "tokenFile"][..],
        ),
    ] {
        let Some(items) = doc.get_mut(list).and_then(Json::as_array_mut) else {
            continue;
        };
        for item in items {
            let Some(obj) = item.get_mut(inner).and_then(Json::as_object_mut) else {
                continue;
            };
            for key in keys {
                if let Some(Json::String(p)) = obj.get_mut(*key) {
                    if Path::new(p.as_str()).is_relative() {
                        *p = dir.join(p.as_str()).display().to_string();
                    }
                }
            }
        }
    }
}

/// kubectl's merge: the first file that defines a named entry (or the
/// current context) wins.
fn merge_kubeconfig(into: &mut Json, next: Json) {
    let Json::Object(next) = next else {
        return;
    };
    let Some(into) = into.as_object_mut() else {
        return;
    };
    for (key, value) in next {
        match (key.as_str(), value) {
            ("clusters" | "users" | "contexts", Json::Array(items)) => {
                let list = into.entry(key).or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    for item in items {
                        let name = item.get("name").cloned();
                        if !list.iter().any(|e| e.get("name") == name.as_ref()) {
                            list.push(item);
                        }
                    }
                }
            }
            ("current-context", Json::String(c)) if !c.is_empty() => {
                if into
                    .get("current-context")
                    .and_then(Json::as_str)
                    .is_none_or(str::is_empty)
                {
                    into.insert(key, Json::String(c));
                }
            }
            (_, value) => {
                into.entry(key).or_insert(value);
            }
        }
    }
}

fn entry_mut<'a>(doc: &'a mut Json, list: &str, name: &str) -> Option<&'a mut Map<String, Json>> {
    doc.get_mut(list)?
        .as_array_mut()?
        .iter_mut()
        .find(|e| e.get("name").and_then(Json::as_str) == Some(name))?
        .as_object_mut()
}

fn ensure_entry(doc: &mut Json, list: &str, name: &str, inner: &str) -> Map<String, Json> {
    if entry_mut(doc, list, name).is_none() {
        if let Some(obj) = doc.as_object_mut() {
            let items = obj.entry(list).or_insert_with(|| json!([]));
            if let Some(items) = items.as_array_mut() {
                items.push(json!({"name": name, inner: {}}));
            }
        }
    }
    entry_mut(doc, list, name)
        .and_then(|e| e.get(inner))
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

fn set_entry(doc: &mut Json, list: &str, name: &str, inner: &str, value: Map<String, Json>) {
    if let Some(e) = entry_mut(doc, list, name) {
        e.insert(inner.to_string(), Json::Object(value));
    }
}

fn b64(text: &str) -> Json {
    Json::String(base64::engine::general_purpose::STANDARD.encode(text))
}

/// Points the selected context at the configured cluster and user, then
/// lays the explicit settings over them (settings win over files).
fn apply_overrides(
    doc: &mut Json,
    context_name: &str,
    s: &ConnectionSettings,
) -> Result<(), ConnectionError> {
    let Some(context) = entry_mut(doc, "contexts", context_name) else {
        return Err(ConnectionError::UnknownContext {
            context: context_name.to_string(),
        });
    };
    let ctx = context
        .entry("context")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| ConnectionError::UnknownContext {
            context: context_name.to_string(),
        })?;
    if let Some(c) = &s.config_context_cluster {
        ctx.insert("cluster".into(), json!(c));
    }
    if let Some(u) = &s.config_context_auth_info {
        ctx.insert("user".into(), json!(u));
    }
    let cluster_name = ctx
        .get("cluster")
        .and_then(Json::as_str)
        .unwrap_or("default")
        .to_string();
    let user_name = ctx
        .get("user")
        .and_then(Json::as_str)
        .unwrap_or("default")
        .to_string();
    ctx.insert("cluster".into(), json!(cluster_name));
    ctx.insert("user".into(), json!(user_name));

    let mut cluster = ensure_entry(doc, "clusters", &cluster_name, "cluster");
    if let Some(h) = &s.host {
        cluster.insert("server".into(), json!(h));
    }
    if let Some(ca) = &s.cluster_ca_certificate {
        cluster.remove("certificate-authority");
        cluster.insert("certificate-authority-data".into(), b64(ca));
    }
    if let Some(i) = s.insecure {
        cluster.insert("insecure-skip-tls-verify".into(), json!(i));
    }
    if let Some(t) = &s.tls_server_name {
        cluster.insert("tls-server-name".into(), json!(t));
    }
    if let Some(p) = &s.proxy_url {
        cluster.insert("proxy-url".into(), json!(p));
    }
    set_entry(doc, "clusters", &cluster_name, "cluster", cluster);

    let mut user = ensure_entry(doc, "users", &user_name, "user");
    if let Some(t) = &s.token {
        user.insert("token".into(), json!(t));
    }
    if let Some(u) = &s.username {
        user.insert("username".into(), json!(u));
    }
    if let Some(p) = &s.password {
        user.insert("password".into(), json!(p));
    }
    if let Some(c) = &s.client_certificate {
        user.remove("client-certificate");
        user.insert("client-certificate-data".into(), b64(c));
    }
    if let Some(k) = &s.client_key {
        user.remove("client-key");
        user.insert("client-key-data".into(), b64(k));
    }
    if let Some(e) = &s.exec {
        user.insert(
            "exec".into(),
            json!({
                "apiVersion": e.api_version,
                "command": e.command,
                "args": e.args,
                "env": e.env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
            }),
        );
    }
    set_entry(doc, "users", &user_name, "user", user);
    Ok(())
}

/// Builds a kube client for a resolved connection. Must run inside a Tokio
/// runtime.
pub async fn connect(connection: &Connection) -> Result<kube::Client, ConnectionError> {
    let client_error = |message: String| ConnectionError::Client { message };
    let kubeconfig: kube::config::Kubeconfig =
        serde_json::from_value(connection.kubeconfig.clone())
            .map_err(|e| client_error(e.to_string()))?;
    let options = kube::config::KubeConfigOptions {
        context: Some(connection.context.clone()),
        cluster: None,
        user: None,
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| client_error(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| client_error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_credentials() {
        let settings = ConnectionSettings {
            host: Some("https://127.0.0.1:6443".into()),
            token: Some("secret-token".into()),
            password: Some("secret-password".into()),
            client_key: Some("secret-key".into()),
            exec: Some(ExecSettings {
                command: "cred".into(),
                env: BTreeMap::from([("API_KEY".into(), "secret-env".into())]),
                ..ExecSettings::default()
            }),
            ..ConnectionSettings::default()
        };
        let connection = resolve(&settings, &BTreeMap::new()).unwrap();
        for text in [format!("{settings:?}"), format!("{connection:?}")] {
            for secret in [
                "secret-token",
                "secret-password",
                "secret-key",
                "secret-env",
            ] {
                assert!(!text.contains(secret), "{text}");
            }
        }
        assert!(format!("{connection:?}").contains("https://127.0.0.1:6443"));
    }
}

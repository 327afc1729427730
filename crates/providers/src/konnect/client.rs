//! One HTTP client for Konnect: Bearer authentication, the regional host
//! for mesh endpoints and the global host for identity endpoints, retries
//! with exponential backoff and jitter on 408/429/5xx and dropped
//! connections (honouring `Retry-After`), a per-host request budget, and
//! Konnect's problem+json errors kept typed.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use meshform_lang::{Diagnostic, Diagnostics, Value};
use serde_json::Value as Json;
use tokio::sync::Semaphore;

use super::tables::Host;

/// The default host of both providers.
pub const DEFAULT_SERVER_URL: &str = "https://global.api.konghq.com";

/// How the provider reaches Konnect.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// Base URL of the mesh endpoints (`https://us.api.konghq.com`).
    pub server_url: String,
    /// Base URL of the identity endpoints (always the global host in the
    /// real providers; overridable for the sandbox).
    pub identity_url: String,
    /// The Bearer token, when one is configured.
    pub token: Option<String>,
    pub retry: RetryPolicy,
    /// Concurrent requests per host.
    pub requests_per_host: usize,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("server_url", &self.server_url)
            .field("identity_url", &self.identity_url)
            .field("token", &self.token.as_ref().map(|_| "(sensitive value)"))
            .field("retry", &self.retry)
            .finish()
    }
}

/// When and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Give up after this long in total.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(15),
            timeout: Duration::from_secs(300),
        }
    }
}

fn config_text(config: &Value, name: &str) -> Option<String> {
    config
        .get_attr(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Settings {
    /// Reads the provider block, with the providers' environment
    /// fallbacks: `KONNECT_SERVER_URL`, `KONNECT_TOKEN` (personal token),
    /// `KONNECT_SPAT` (system account token). When several tokens are set
    /// the last of personal, system account, Konnect access token wins, as
    /// in the providers. `MESHFORM_KONNECT_IDENTITY_URL` moves the identity
    /// host (the sandbox serves both on one address).
    pub fn from_config(
        config: &Value,
        env: &BTreeMap<String, String>,
    ) -> Result<Settings, Diagnostics> {
        let env_text = |name: &str| env.get(name).filter(|s| !s.is_empty()).cloned();
        let server_url = config_text(config, "server_url")
            .or_else(|| env_text("KONNECT_SERVER_URL"))
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
        let identity_url = env_text("MESHFORM_KONNECT_IDENTITY_URL").unwrap_or_else(|| {
            match env_text("KONG_CUSTOM_DOMAIN") {
                Some(domain) => DEFAULT_SERVER_URL.replace(".konghq.com", &format!(".{domain}")),
                None => DEFAULT_SERVER_URL.to_owned(),
            }
        });
        for (what, url) in [("server_url", &server_url), ("identity URL", &identity_url)] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Diagnostic::error(
                    "Invalid Konnect server URL",
                    format!("The {what} {url:?} must start with http:// or https://."),
                )
                .into());
            }
        }
        let token = [
            config_text(config, "personal_access_token").or_else(|| env_text("KONNECT_TOKEN")),
            config_text(config, "system_account_access_token").or_else(|| env_text("KONNECT_SPAT")),
            config_text(config, "konnect_access_token"),
        ]
        .into_iter()
        .flatten()
        .last();
        Ok(Settings {
            server_url: server_url.trim_end_matches('/').to_owned(),
            identity_url: identity_url.trim_end_matches('/').to_owned(),
            token,
            retry: RetryPolicy::default(),
            requests_per_host: 8,
        })
    }
}

/// A Konnect error response (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    pub title: String,
    pub detail: String,
    /// `field: reason` of each invalid parameter.
    pub invalid_parameters: Vec<String>,
}

impl Problem {
    fn from_body(body: &Json) -> Problem {
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
        Problem {
            title: text("title"),
            detail: text("detail"),
            invalid_parameters: body["invalid_parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let field = p["field"].as_str().unwrap_or("?");
                    let reason = p["reason"]
                        .as_str()
                        .or(p["rule"].as_str())
                        .unwrap_or("invalid");
                    format!("{field}: {reason}")
                })
                .collect(),
        }
    }
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KonnectError {
    #[error("Konnect answered {method} {path} with status {status}{}", problem_text(.problem))]
    Api {
        method: String,
        path: String,
        status: u16,
        problem: Problem,
    },
    #[error("the request {method} {path} failed: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("the object's identity is not known: {detail}")]
    MissingIdentity { detail: String },
    #[error("Konnect sent a body that is not JSON for {method} {path}")]
    BadBody { method: String, path: String },
}

fn problem_text(p: &Problem) -> String {
    let mut out = String::new();
    if !p.title.is_empty() {
        out.push_str(&format!(": {}", p.title));
    }
    if !p.detail.is_empty() {
        out.push_str(&format!(" ({})", p.detail));
    }
    if !p.invalid_parameters.is_empty() {
        out.push_str(&format!(
            "; invalid parameters: {}",
            p.invalid_parameters.join(", ")
        ));
    }
    out
}

impl KonnectError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            KonnectError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error as a diagnostic.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let summary = match self {
            KonnectError::Api { status: 401, .. } => "Konnect rejected the credentials".to_owned(),
            KonnectError::Api { problem, .. } if !problem.title.is_empty() => {
                format!("Konnect error: {}", problem.title)
            }
            _ => "Konnect request failed".to_owned(),
        };
        Diagnostic::error(summary, format!("{}.", self))
    }
}

/// A successful response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// The JSON body (`null` when empty).
    pub body: Json,
    /// An earlier attempt lost its connection: the server may have done
    /// the work already (a create may then find its object existing).
    pub after_lost_response: bool,
}

/// The connections every Konnect client of a run shares: one connection
/// pool, and one request budget per host, so that both Konnect providers
/// together stay within it.
pub struct HttpPool {
    http: reqwest::Client,
    requests_per_host: usize,
    budgets: std::sync::Mutex<BTreeMap<String, Arc<Semaphore>>>,
}

impl fmt::Debug for HttpPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPool")
            .field("requests_per_host", &self.requests_per_host)
            .finish_non_exhaustive()
    }
}

impl HttpPool {
    /// A pool allowing `requests_per_host` requests at once to each host.
    pub fn new(requests_per_host: usize) -> Result<HttpPool, KonnectError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("meshform/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| KonnectError::Client(e.to_string()))?;
        Ok(HttpPool {
            http,
            requests_per_host: requests_per_host.max(1),
            budgets: std::sync::Mutex::new(BTreeMap::new()),
        })
    }

    fn budget(&self, base_url: &str) -> Arc<Semaphore> {
        let mut budgets = match self.budgets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        budgets
            .entry(base_url.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.requests_per_host)))
            .clone()
    }
}

/// The Konnect HTTP client of one configured provider (cheap to clone).
#[derive(Clone)]
pub struct KonnectClient {
    http: reqwest::Client,
    settings: Arc<Settings>,
    mesh_budget: Arc<Semaphore>,
    identity_budget: Arc<Semaphore>,
}

impl KonnectClient {
    /// A client with a pool of its own.
    pub fn new(settings: Settings) -> Result<KonnectClient, KonnectError> {
        let pool = HttpPool::new(settings.requests_per_host)?;
        Ok(KonnectClient::with_pool(settings, &pool))
    }

    /// A client sharing `pool`'s connections and per-host budgets.
    pub fn with_pool(settings: Settings, pool: &HttpPool) -> KonnectClient {
        KonnectClient {
            http: pool.http.clone(),
            mesh_budget: pool.budget(&settings.server_url),
            identity_budget: pool.budget(&settings.identity_url),
            settings: Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends one request, retrying what is worth retrying. `extra_retry`
    /// decides about other failures (a 404 right after a create, a 400
    /// "zone is still online").
    pub async fn send(
        &self,
        host: Host,
        method: &str,
        path: &str,
        body: Option<&Json>,
        extra_retry: &(dyn Fn(&KonnectError) -> bool + Sync),
    ) -> Result<Response, KonnectError> {
        let (base, budget) = match host {
            Host::Mesh => (&self.settings.server_url, &self.mesh_budget),
            Host::Identity => (&self.settings.identity_url, &self.identity_budget),
        };
        let url = format!("{base}{path}");
        let policy = self.settings.retry;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        let mut lost_response = false;
        loop {
            let result = {
                let _permit = budget.acquire().await;
                self.send_once(method, &url, path, body).await
            };
            let (error, retry_after) = match result {
                Ok(mut response) => {
                    response.after_lost_response = lost_response;
                    return Ok(response);
                }
                Err(e) => e,
            };
            lost_response |= matches!(error, KonnectError::Transport { .. });
            let retryable = match &error {
                KonnectError::Api { status, .. } => {
                    matches!(status, 408 | 429 | 500..=599) || extra_retry(&error)
                }
                KonnectError::Transport { .. } => true,
                _ => false,
            };
            let wait = retry_after.unwrap_or_else(|| backoff(policy, attempt));
            if !retryable || started.elapsed() + wait > policy.timeout {
                return Err(error);
            }
            tracing::debug!(%method, %path, attempt, ?wait, "retrying Konnect request");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Response, (KonnectError, Option<Duration>)> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| {
            (
                KonnectError::Client(format!("bad method {method}: {e}")),
                None,
            )
        })?;
        let accept = if method == "DELETE" {
            "application/problem+json"
        } else {
            "application/json;q=1, application/problem+json;q=0"
        };
        let mut request = self.http.request(m, url).header("Accept", accept);
        if let Some(token) = &self.settings.token {
            let value = if token.starts_with("Bearer ") {
                token.clone()
            } else {
                format!("Bearer {token}")
            };
            request = request.header("Authorization", value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let transport = |e: reqwest::Error| {
            (
                KonnectError::Transport {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    reason: e.to_string(),
                },
                None,
            )
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(transport)?;
        let body = if bytes.is_empty() {
            Json::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(b) => b,
                Err(_) if !(200..300).contains(&status) => Json::Null,
                Err(_) => {
                    return Err((
                        KonnectError::BadBody {
                            method: method.to_owned(),
                            path: path.to_owned(),
                        },
                        None,
                    ))
                }
            }
        };
        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                body,
                after_lost_response: false,
            });
        }
        Err((
            KonnectError::Api {
                method: method.to_owned(),
                path: path.to_owned(),
                status,
                problem: Problem::from_body(&body),
            },
            retry_after,
        ))
    }
}

/// Exponential backoff with full jitter: a random wait up to
/// `initial * 2^attempt`, capped.
fn backoff(policy: RetryPolicy, attempt: u32) -> Duration {
    let ceiling = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(policy.max_backoff);
    let nanos = ceiling.as_nanos().max(1) as u64;
    // The standard library's hasher keys are random per process: enough
    // for jitter without a random-number crate.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    Duration::from_nanos(nanos / 2 + hasher.finish() % (nanos / 2 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshform_lang::Type;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut attrs = BTreeMap::new();
        for name in [
            "server_url",
            "personal_access_token",
            "system_account_access_token",
            "konnect_access_token",
        ] {
            attrs.insert(name.to_owned(), Value::null(Type::String));
        }
        for (k, v) in pairs {
            attrs.insert((*k).to_owned(), Value::string(*v));
        }
        Value::object(attrs)
    }

    #[test]
    fn settings_and_fallbacks() {
        let env = BTreeMap::from([
            ("KONNECT_TOKEN".to_owned(), "kpat_env".to_owned()),
            (
                "KONNECT_SERVER_URL".to_owned(),
                "https://eu.api.konghq.com/".to_owned(),
            ),
        ]);
        let s = Settings::from_config(&config(&[]), &env).unwrap();
        assert_eq!(s.server_url, "https://eu.api.konghq.com");
        assert_eq!(s.identity_url, DEFAULT_SERVER_URL);
        assert_eq!(s.token.as_deref(), Some("kpat_env"));
        assert!(!format!("{s:?}").contains("kpat_env"));
        let s = Settings::from_config(
            &config(&[
                ("server_url", "https://us.api.konghq.com"),
                ("personal_access_token", "kpat_x"),
                ("system_account_access_token", "spat_y"),
            ]),
            &env,
        )
        .unwrap();
        assert_eq!(s.server_url, "https://us.api.konghq.com");
        assert_eq!(s.token.as_deref(), Some("spat_y"));
        assert!(Settings::from_config(&config(&[("server_url", "us.api")]), &env).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        for attempt in 0..20 {
            let wait = backoff(policy, attempt);
            assert!(wait <= policy.max_backoff, "{attempt}: {wait:?}");
            assert!(wait >= policy.initial_backoff.min(policy.max_backoff) / 2);
        }
    }

    #[test]
    fn problems_read_konnect_error_bodies() {
        let body = serde_json::json!({"status": 400, "title": "Invalid Request",
            "detail": "name is required", "invalid_parameters": [{"field": "name", "reason": "is required"}]});
        let e = KonnectError::Api {
            method: "POST".into(),
            path: "/v3/system-accounts".into(),
            status: 400,
            problem: Problem::from_body(&body),
        };
        assert_eq!(
            e.to_string(),
            "Konnect answered POST /v3/system-accounts with status 400: Invalid Request \
             (name is required); invalid parameters: name: is required"
        );
        assert_eq!(e.to_diagnostic().summary, "Konnect error: Invalid Request");
    }
}

//! The Konnect server: mesh control planes and the Kuma resource API under
//! `/v1/mesh/…` (the regional host), identity under `/v3/…` (the global
//! host), both on one port, behind Bearer authentication.

pub(crate) mod control_planes;
mod identity;
mod kuma;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::store::{Store, StoreError};
use crate::{World, ZoneStatus};

pub use identity::{issued_token_account, TOKEN_INDEX};
pub use kuma::is_mesh_scoped_kind;

pub(crate) const API: &str = "konnect";
pub(crate) const ZONES: &str = "zones";

/// Who may call the Konnect API.
pub struct AuthConfig {
    pub personal_access_tokens: Vec<String>,
    pub accept_any_token: bool,
}

/// One Konnect request and its response, as recorded for contract checks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exchange {
    /// HTTP method, upper case.
    pub method: String,
    /// Request path (no query).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Request body, when it was JSON.
    pub request_body: Option<Value>,
    /// Response status code.
    pub status: u16,
    /// Response `Content-Type`.
    pub content_type: Option<String>,
    /// Response body, when it was JSON.
    pub response_body: Option<Value>,
}

pub fn router(world: Arc<World>) -> Router {
    let api = Router::new()
        .merge(control_planes::routes())
        .merge(kuma::routes())
        .merge(identity::routes())
        .layer(middleware::from_fn_with_state(world.clone(), authenticate));
    Router::new()
        .merge(api)
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/traffic", get(get_traffic).delete(reset_traffic))
        .route("/_sandbox/clock", get(get_clock).put(put_clock))
        .fallback(not_found_route)
        .layer(axum::extract::DefaultBodyLimit::max(RECORD_LIMIT))
        .layer(middleware::from_fn_with_state(world.clone(), record))
        .with_state(world)
}

async fn not_found_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "Not Found",
        "No route matches this path",
    )
}

async fn get_faults(State(world): State<Arc<World>>) -> Response {
    axum::Json(world.faults.config()).into_response()
}

async fn get_traffic(State(world): State<Arc<World>>) -> Response {
    axum::Json(world.traffic.stats()).into_response()
}

/// The time the world lives on, and whether it is simulated (`-at`).
async fn get_clock(State(world): State<Arc<World>>) -> Response {
    let clock = world.store.clock();
    axum::Json(serde_json::json!({
        "now": rfc3339_nano(clock.now()),
        "simulated": !clock.is_wall(),
    }))
    .into_response()
}

/// Moves the world's clock: `{"now": "<RFC 3339>"}` starts it at that
/// moment, `{"now": null}` goes back to the wall clock.
async fn put_clock(State(world): State<Arc<World>>, body: Bytes) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let clock = match body.get("now") {
        None | Some(Value::Null) => crate::SandboxClock::wall(),
        Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|at| crate::SandboxClock::starting_at(at.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                Problem::invalid("now", "is_date_time", "must be an RFC 3339 date-time")
            })?,
        Some(_) => {
            return Err(Problem::invalid(
                "now",
                "is_date_time",
                "must be an RFC 3339 date-time or null",
            ))
        }
    };
    world.store.set_clock(clock);
    Ok(get_clock(State(world)).await)
}

async fn reset_traffic(State(world): State<Arc<World>>) -> Response {
    world.traffic.reset();
    axum::Json(world.traffic.stats()).into_response()
}

async fn put_faults(State(world): State<Arc<World>>, body: Bytes) -> Result<Response, Problem> {
    let config: crate::FaultConfig = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("invalid fault configuration: {e}"), vec![]))?;
    world.faults.set(config.clone());
    Ok(axum::Json(config).into_response())
}

/// A problem+json error response (RFC 7807 as Konnect writes it).
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub title: String,
    pub detail: String,
    pub invalid_parameters: Vec<Value>,
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            title: title.to_string(),
            detail: detail.into(),
            invalid_parameters: Vec::new(),
            retry_after: None,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "Conflict", detail)
    }

    pub fn bad_request(detail: impl Into<String>, invalid_parameters: Vec<Value>) -> Problem {
        Problem {
            invalid_parameters,
            ..Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
        }
    }

    /// A 400 naming one invalid field with a rule from the spec's `InvalidRules`.
    pub fn invalid(field: &str, rule: &str, reason: impl Into<String>) -> Problem {
        let reason = reason.into();
        Problem::bad_request(
            format!("Bad Request: {field} [{rule}]: {reason}"),
            vec![json!({"field": field, "rule": rule, "reason": reason, "source": "body"})],
        )
    }

    /// A 400 for a value outside an enumeration.
    pub fn choice(field: &str, choices: &[&str]) -> Problem {
        let reason = format!("must be one of {}", choices.join(", "));
        Problem::bad_request(
            format!("Bad Request: {field} [enum]: {reason}"),
            vec![
                json!({"field": field, "rule": "enum", "reason": reason, "choices": choices, "source": "body"}),
            ],
        )
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        tracing::error!("sandbox store: {e}");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "The sandbox database failed",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "status": self.status.as_u16(),
            "title": self.title,
            "type": format!("https://httpstatuses.com/{}", self.status.as_u16()),
            "instance": format!("kong:trace:{}", fastrand::u64(1_000_000_000..u64::MAX / 2)),
            "detail": self.detail,
        });
        if !self.invalid_parameters.is_empty() {
            body["invalid_parameters"] = Value::Array(self.invalid_parameters);
        }
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The response for an injected fault.
pub fn fault_response(status: u16, retry_after: Option<u32>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = status.canonical_reason().unwrap_or("Error");
    Problem {
        retry_after,
        ..Problem::new(status, title, "Injected by the sandbox fault configuration")
    }
    .into_response()
}

/// A JSON response with a status.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Parses a JSON object body, or answers 400.
pub fn parse_object(body: &Bytes) -> Result<Map<String, Value>, Problem> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::invalid(
            "body",
            "is_object",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(Problem::bad_request(
            format!("the request body is not valid JSON: {e}"),
            vec![],
        )),
    }
}

/// The world's current time as Konnect writes timestamps.
pub fn now(world: &World) -> String {
    rfc3339_nano(world.store.clock().now())
}

/// RFC 3339 in UTC with trailing zeros of the fraction trimmed, as Go's
/// `time.RFC3339Nano` (and so Konnect) writes timestamps.
pub fn rfc3339_nano(at: chrono::DateTime<chrono::Utc>) -> String {
    let text = at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    match text.split_once('.') {
        Some((seconds, fraction)) => {
            let digits = fraction.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{seconds}Z")
            } else {
                format!("{seconds}.{digits}Z")
            }
        }
        None => text,
    }
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authenticate(State(world): State<Arc<World>>, req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()).map(str::to_string) else {
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "No credentials found",
        )
        .into_response();
    };
    match identity::token_is_valid(&world, &token) {
        Ok(true) => next.run(req).await,
        Ok(false) => Problem::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Invalid credentials",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

const RECORD_LIMIT: usize = 64 * 1024 * 1024;

async fn record(State(world): State<Arc<World>>, req: Request, next: Next) -> Response {
    let Some(exchanges) = world.exchanges.as_ref() else {
        return next.run(req).await;
    };
    if req.uri().path().starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, RECORD_LIMIT).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            "The body is too large",
        )
        .into_response();
    };
    let request_body = serde_json::from_slice(&bytes).ok();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, RECORD_LIMIT).await else {
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "The response could not be recorded",
        )
        .into_response();
    };
    let exchange = Exchange {
        method,
        path,
        query,
        request_body,
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        response_body: serde_json::from_slice(&bytes).ok(),
    };
    if let Ok(mut list) = exchanges.lock() {
        list.push(exchange);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Konnect-style pagination (`page[number]`, `page[size]`).
pub struct Page {
    pub number: usize,
    pub size: usize,
}

pub fn konnect_page(query: &BTreeMap<String, String>) -> Result<Page, Problem> {
    let read = |key: &str, default: usize| -> Result<usize, Problem> {
        match query.get(key).map(String::as_str) {
            None | Some("") => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(Problem::bad_request(
                    format!("{key} must be a positive integer"),
                    vec![
                        json!({"field": key, "rule": "is_integer", "reason": "must be a positive integer", "source": "query"}),
                    ],
                )),
            },
        }
    };
    Ok(Page {
        number: read("page[number]", 1)?,
        size: read("page[size]", 100)?.min(1000),
    })
}

/// `{data, meta: {page}}` for one page of `items`.
pub fn konnect_list(items: Vec<Value>, page: &Page) -> Value {
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip((page.number - 1).saturating_mul(page.size))
        .take(page.size)
        .collect();
    json!({"data": data, "meta": {"page": {"number": page.number, "size": page.size, "total": total}}})
}

/// Marks a zone of a control plane online or offline.
pub fn set_zone(
    store: &Store,
    cp_id: &str,
    zone: &str,
    online: bool,
    reason: Option<String>,
) -> Result<(), StoreError> {
    store.tx(|t| {
        t.put(
            API,
            ZONES,
            cp_id,
            zone,
            &json!({"online": online, "reason": reason}),
        )
    })
}

pub fn remove_zone(store: &Store, cp_id: &str, zone: &str) -> Result<(), StoreError> {
    store.tx(|t| t.delete(API, ZONES, cp_id, zone).map(|_| ()))
}

pub fn zones(store: &Store) -> Result<Vec<ZoneStatus>, StoreError> {
    store.tx(|t| {
        let mut out: Vec<ZoneStatus> = t
            .list(API, ZONES, None)?
            .into_iter()
            .map(|row| ZoneStatus {
                cp_id: row.scope,
                zone: row.name,
                online: row.body["online"].as_bool().unwrap_or(false),
                reason: row.body["reason"].as_str().map(str::to_string),
            })
            .collect();
        out.sort_by(|a, b| (&a.cp_id, &a.zone).cmp(&(&b.cp_id, &b.zone)));
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let at = chrono::DateTime::parse_from_rfc3339(input)
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(rfc3339_nano(at), expected);
    }

    #[test]
    fn timestamps_trim_trailing_zeros_like_go() {
        check(
            "2025-03-13T09:53:00.606442000Z",
            "2025-03-13T09:53:00.606442Z",
        );
        check("2025-03-13T10:53:00+01:00", "2025-03-13T09:53:00Z");
    }
}

//! Identity v3 (the global host): system accounts, their assigned roles and
//! access tokens, teams and team membership, and token validation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    json_response, konnect_list, konnect_page, new_id, now, parse_object, rfc3339_nano, Problem,
    API,
};
use crate::store::Tx;
use crate::World;

const ACCOUNTS: &str = "system-accounts";
const TOKENS: &str = "access-tokens";
pub const TOKEN_INDEX: &str = "token-index";
const ROLES: &str = "assigned-roles";
const TEAMS: &str = "teams";
const MEMBERS: &str = "team-members";

const ROLE_NAMES: &[&str] = &[
    "Admin",
    "Appearance Maintainer",
    "Application Registration",
    "Certificate Admin",
    "Cloud Gateway Cluster Admin",
    "Cloud Gateway Cluster Viewer",
    "Consumer Admin",
    "Connector",
    "Creator",
    "Deployer",
    "Discovery Admin",
    "Discovery Viewer",
    "Gateway Service Admin",
    "Integration Admin",
    "Integration Viewer",
    "Key Admin",
    "Maintainer",
    "Network Admin",
    "Network Creator",
    "Network Viewer",
    "Plugin Admin",
    "Plugins Admin",
    "Product Publisher",
    "Publisher",
    "Route Admin",
    "SNI Admin",
    "Service Admin",
    "Service Creator",
    "Service Viewer",
    "Upstream Admin",
    "Vault Admin",
    "Viewer",
];

const ENTITY_TYPES: &[&str] = &[
    "APIs",
    "API Products",
    "Application Auth Strategies",
    "Audit Logs",
    "Control Planes",
    "DCR Providers",
    "Identity",
    "Mesh Control Planes",
    "Networks",
    "Portals",
    "Service Hub",
];

const REGIONS: &[&str] = &["us", "eu", "au", "me", "in", "*"];

pub fn routes() -> Router<Arc<World>> {
    Router::new()
        .route(
            "/v3/system-accounts",
            get(list_accounts).post(create_account),
        )
        .route(
            "/v3/system-accounts/{account_id}",
            get(read_account)
                .patch(patch_account)
                .delete(delete_account),
        )
        .route(
            "/v3/system-accounts/{account_id}/access-tokens",
            get(list_tokens).post(create_token),
        )
        .route(
            "/v3/system-accounts/{account_id}/access-tokens/{token_id}",
            get(read_token).patch(patch_token).delete(delete_token),
        )
        .route(
            "/v3/system-accounts/{account_id}/assigned-roles",
            get(list_roles).post(create_role),
        )
        .route(
            "/v3/system-accounts/{account_id}/assigned-roles/{role_id}",
            get(read_role).delete(delete_role),
        )
        .route(
            "/v3/system-accounts/{account_id}/teams",
            get(list_account_teams),
        )
        .route("/v3/teams", get(list_teams).post(create_team))
        .route(
            "/v3/teams/{team_id}",
            get(read_team).patch(patch_team).delete(delete_team),
        )
        .route(
            "/v3/teams/{team_id}/system-accounts",
            get(list_members).post(add_member),
        )
        .route(
            "/v3/teams/{team_id}/system-accounts/{account_id}",
            delete(remove_member),
        )
        .route("/v3/users/me", get(users_me))
        .route("/v3/organizations/me", get(organizations_me))
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn expired(expires_at: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> bool {
    expires_at
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|e| e <= now)
}

/// Whether a Bearer token may call the API: a configured personal token, a
/// live token this sandbox issued, or (in accept-any mode) anything that
/// looks like a Konnect token and was not issued here.
pub fn token_is_valid(world: &World, token: &str) -> Result<bool, Problem> {
    if world.auth.personal_access_tokens.iter().any(|t| t == token) {
        return Ok(true);
    }
    let digest = hash(token);
    let issued = world.store.tx(|t| {
        let Some(index) = t.get(API, TOKEN_INDEX, "", &digest)? else {
            return Ok::<_, Problem>(None);
        };
        let account = index["account_id"].as_str().unwrap_or_default();
        let token_id = index["token_id"].as_str().unwrap_or_default();
        let Some(mut record) = t.get(API, TOKENS, account, token_id)? else {
            return Ok(Some(false));
        };
        if expired(record["expires_at"].as_str(), t.now()) {
            return Ok(Some(false));
        }
        record["last_used_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, TOKENS, account, token_id, &record)?;
        Ok(Some(true))
    })?;
    Ok(match issued {
        Some(valid) => valid,
        None => {
            world.auth.accept_any_token
                && ["kpat_", "spat_"].iter().any(|p| {
                    token.strip_prefix(p).is_some_and(|rest| {
                        rest.len() >= 8 && rest.chars().all(|c| c.is_ascii_alphanumeric())
                    })
                })
        }
    })
}

/// Whether `token` is a live access token issued by this sandbox for an
/// account (used by zone simulation); never logs the token.
pub fn issued_token_account(world: &World, token: &str) -> Result<Option<String>, Problem> {
    let digest = hash(token);
    world.store.tx(|t| {
        let Some(index) = t.get(API, TOKEN_INDEX, "", &digest)? else {
            return Ok(None);
        };
        let account = index["account_id"].as_str().unwrap_or_default().to_string();
        let token_id = index["token_id"].as_str().unwrap_or_default();
        Ok(match t.get(API, TOKENS, &account, token_id)? {
            Some(r) if !expired(r["expires_at"].as_str(), t.now()) => Some(account),
            _ => None,
        })
    })
}

fn string_field(
    body: &Map<String, Value>,
    key: &str,
    required: bool,
) -> Result<Option<String>, Problem> {
    match body.get(key) {
        None | Some(Value::Null) if required => {
            Err(Problem::invalid(key, "required", "is a required field"))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if required && s.is_empty() => {
            Err(Problem::invalid(key, "required", "must not be empty"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Problem::invalid(key, "is_string", "must be a string")),
    }
}

/// `filter[field][eq]`, `filter[field][contains]` or `filter[field]` (eq).
fn matches_filter(query: &BTreeMap<String, String>, field: &str, item: &Value) -> bool {
    let value = item[field].as_str().unwrap_or_default();
    let eq = query
        .get(&format!("filter[{field}][eq]"))
        .or_else(|| query.get(&format!("filter[{field}]")));
    let contains = query.get(&format!("filter[{field}][contains]"));
    eq.is_none_or(|e| e == value) && contains.is_none_or(|c| value.contains(c.as_str()))
}

fn require_account(t: &Tx<'_>, account_id: &str) -> Result<Value, Problem> {
    t.get(API, ACCOUNTS, "", account_id)?
        .ok_or_else(|| Problem::not_found(format!("System account [{account_id}] not found")))
}

fn require_team(t: &Tx<'_>, team_id: &str) -> Result<Value, Problem> {
    t.get(API, TEAMS, "", team_id)?
        .ok_or_else(|| Problem::not_found(format!("Team [{team_id}] not found")))
}

fn name_taken(t: &Tx<'_>, name: &str, except: &str) -> Result<bool, Problem> {
    Ok(t.list(API, ACCOUNTS, Some(""))?
        .iter()
        .any(|r| r.name != except && r.body["name"] == name))
}

// --- system accounts ----------------------------------------------------------

async fn create_account(State(world): State<Arc<World>>, body: Bytes) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", true)?.unwrap_or_default();
    let description = string_field(&body, "description", true)?.unwrap_or_default();
    let managed = match body.get("konnect_managed") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Problem::invalid(
                "konnect_managed",
                "is_boolean",
                "must be a boolean",
            ))
        }
    };
    let id = new_id();
    let at = now(&world);
    let account = json!({
        "id": id, "name": name, "description": description,
        "created_at": at, "updated_at": at, "konnect_managed": managed,
    });
    world.store.tx(|t| {
        if name_taken(t, &name, "")? {
            return Err(Problem::conflict(format!(
                "A system account named [{name}] already exists"
            )));
        }
        t.put(API, ACCOUNTS, "", &id, &account)?;
        Ok(())
    })?;
    Ok(json_response(StatusCode::CREATED, account))
}

async fn read_account(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
) -> Result<Response, Problem> {
    let account = world.store.tx(|t| require_account(t, &account_id))?;
    Ok(json_response(StatusCode::OK, account))
}

async fn list_accounts(
    State(world): State<Arc<World>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let managed = query.get("filter[konnect_managed]").map(|v| v == "true");
    let rows = world.store.tx(|t| t.list(API, ACCOUNTS, Some("")))?;
    let items = rows
        .into_iter()
        .map(|r| r.body)
        .filter(|a| matches_filter(&query, "name", a) && matches_filter(&query, "description", a))
        .filter(|a| managed.is_none_or(|m| a["konnect_managed"] == m))
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn patch_account(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", false)?;
    let description = string_field(&body, "description", false)?;
    let account = world.store.tx(|t| {
        let mut account = require_account(t, &account_id)?;
        if let Some(name) = name {
            if name_taken(t, &name, &account_id)? {
                return Err(Problem::conflict(format!(
                    "A system account named [{name}] already exists"
                )));
            }
            account["name"] = json!(name);
        }
        if let Some(description) = description {
            account["description"] = json!(description);
        }
        account["updated_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, ACCOUNTS, "", &account_id, &account)?;
        Ok(account)
    })?;
    Ok(json_response(StatusCode::OK, account))
}

async fn delete_account(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require_account(t, &account_id)?;
        for row in t.list(API, TOKEN_INDEX, Some(""))? {
            if row.body["account_id"] == account_id.as_str() {
                t.delete(API, TOKEN_INDEX, "", &row.name)?;
            }
        }
        for team in t.list(API, TEAMS, Some(""))? {
            t.delete(API, MEMBERS, &team.name, &account_id)?;
        }
        t.delete(API, ACCOUNTS, "", &account_id)?;
        t.delete_under(API, &account_id)?;
        Ok::<_, Problem>(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- access tokens ------------------------------------------------------------

async fn create_token(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", false)?.unwrap_or_default();
    let expires_at = match string_field(&body, "expires_at", false)? {
        None => None,
        Some(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(&text).map_err(|_| {
                Problem::invalid(
                    "expires_at",
                    "is_date_time",
                    "must be an RFC 3339 date-time",
                )
            })?;
            if at <= world.store.clock().now() {
                return Err(Problem::invalid(
                    "expires_at",
                    "invalid",
                    "must be in the future",
                ));
            }
            Some(rfc3339_nano(at.with_timezone(&chrono::Utc)))
        }
    };
    let id = new_id();
    let at = now(&world);
    let token = format!(
        "spat_{}",
        (0..49)
            .map(|_| fastrand::alphanumeric())
            .collect::<String>()
    );
    let mut record = json!({"id": id, "name": name, "created_at": at, "updated_at": at});
    if let Some(expires_at) = expires_at {
        record["expires_at"] = json!(expires_at);
    }
    world.store.tx(|t| {
        require_account(t, &account_id)?;
        t.put(API, TOKENS, &account_id, &id, &record)?;
        t.put(
            API,
            TOKEN_INDEX,
            "",
            &hash(&token),
            &json!({"account_id": account_id, "token_id": id}),
        )?;
        Ok::<_, Problem>(())
    })?;
    let mut response = record;
    response["token"] = json!(token);
    Ok(json_response(StatusCode::CREATED, response))
}

fn require_token(t: &Tx<'_>, account_id: &str, token_id: &str) -> Result<Value, Problem> {
    require_account(t, account_id)?;
    t.get(API, TOKENS, account_id, token_id)?
        .ok_or_else(|| Problem::not_found(format!("Access token [{token_id}] not found")))
}

async fn read_token(
    State(world): State<Arc<World>>,
    Path((account_id, token_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let token = world
        .store
        .tx(|t| require_token(t, &account_id, &token_id))?;
    Ok(json_response(StatusCode::OK, token))
}

async fn list_tokens(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let rows = world.store.tx(|t| {
        require_account(t, &account_id)?;
        Ok::<_, Problem>(t.list(API, TOKENS, Some(&account_id))?)
    })?;
    let items = rows
        .into_iter()
        .map(|r| r.body)
        .filter(|tok| matches_filter(&query, "name", tok))
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn patch_token(
    State(world): State<Arc<World>>,
    Path((account_id, token_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", false)?;
    let token = world.store.tx(|t| {
        let mut token = require_token(t, &account_id, &token_id)?;
        if let Some(name) = name {
            token["name"] = json!(name);
        }
        token["updated_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, TOKENS, &account_id, &token_id, &token)?;
        Ok::<_, Problem>(token)
    })?;
    Ok(json_response(StatusCode::OK, token))
}

async fn delete_token(
    State(world): State<Arc<World>>,
    Path((account_id, token_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require_token(t, &account_id, &token_id)?;
        t.delete(API, TOKENS, &account_id, &token_id)?;
        for row in t.list(API, TOKEN_INDEX, Some(""))? {
            if row.body["token_id"] == token_id.as_str() {
                t.delete(API, TOKEN_INDEX, "", &row.name)?;
            }
        }
        Ok::<_, Problem>(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- assigned roles -----------------------------------------------------------

async fn create_role(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let enumerated = |key: &str, allowed: &[&str]| -> Result<String, Problem> {
        match string_field(&body, key, true)? {
            Some(v) if allowed.contains(&v.as_str()) => Ok(v),
            _ => Err(Problem::choice(key, allowed)),
        }
    };
    let role_name = enumerated("role_name", ROLE_NAMES)?;
    let entity_type_name = enumerated("entity_type_name", ENTITY_TYPES)?;
    let entity_region = enumerated("entity_region", REGIONS)?;
    let entity_id = string_field(&body, "entity_id", true)?.unwrap_or_default();
    if entity_id != "*" && uuid::Uuid::parse_str(&entity_id).is_err() {
        return Err(Problem::invalid(
            "entity_id",
            "is_uuid",
            "must be a UUID or *",
        ));
    }
    let id = new_id();
    let role = json!({
        "id": id, "role_name": role_name, "entity_id": entity_id,
        "entity_type_name": entity_type_name, "entity_region": entity_region,
    });
    world.store.tx(|t| {
        require_account(t, &account_id)?;
        let duplicate = t.list(API, ROLES, Some(&account_id))?.into_iter().any(|r| {
            [
                "role_name",
                "entity_id",
                "entity_type_name",
                "entity_region",
            ]
            .iter()
            .all(|k| r.body[*k] == role[*k])
        });
        if duplicate {
            return Err(Problem::conflict(
                "This role is already assigned to the system account",
            ));
        }
        t.put(API, ROLES, &account_id, &id, &role)?;
        Ok(())
    })?;
    Ok(json_response(StatusCode::CREATED, role))
}

async fn list_roles(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let rows = world.store.tx(|t| {
        require_account(t, &account_id)?;
        Ok::<_, Problem>(t.list(API, ROLES, Some(&account_id))?)
    })?;
    let items = rows
        .into_iter()
        .map(|r| r.body)
        .filter(|r| {
            matches_filter(&query, "role_name", r) && matches_filter(&query, "entity_type_name", r)
        })
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn read_role(
    State(world): State<Arc<World>>,
    Path((account_id, role_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let role = world.store.tx(|t| {
        require_account(t, &account_id)?;
        t.get(API, ROLES, &account_id, &role_id)?
            .ok_or_else(|| Problem::not_found(format!("Assigned role [{role_id}] not found")))
    })?;
    Ok(json_response(StatusCode::OK, role))
}

async fn delete_role(
    State(world): State<Arc<World>>,
    Path((account_id, role_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require_account(t, &account_id)?;
        if !t.delete(API, ROLES, &account_id, &role_id)? {
            return Err(Problem::not_found(format!(
                "Assigned role [{role_id}] not found"
            )));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- teams ----------------------------------------------------------------------

async fn create_team(State(world): State<Arc<World>>, body: Bytes) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", true)?.unwrap_or_default();
    let description = string_field(&body, "description", false)?.unwrap_or_default();
    let labels = body.get("labels").cloned().unwrap_or_else(|| json!({}));
    if !labels.is_object() {
        return Err(Problem::invalid("labels", "is_object", "must be an object"));
    }
    let id = new_id();
    let at = now(&world);
    let team = json!({
        "id": id, "name": name, "description": description, "system_team": false,
        "labels": labels, "created_at": at, "updated_at": at,
    });
    world.store.tx(|t| t.put(API, TEAMS, "", &id, &team))?;
    Ok(json_response(StatusCode::CREATED, team))
}

async fn read_team(
    State(world): State<Arc<World>>,
    Path(team_id): Path<String>,
) -> Result<Response, Problem> {
    let team = world.store.tx(|t| require_team(t, &team_id))?;
    Ok(json_response(StatusCode::OK, team))
}

async fn list_teams(
    State(world): State<Arc<World>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let rows = world.store.tx(|t| t.list(API, TEAMS, Some("")))?;
    let items = rows
        .into_iter()
        .map(|r| r.body)
        .filter(|team| matches_filter(&query, "name", team))
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn patch_team(
    State(world): State<Arc<World>>,
    Path(team_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let name = string_field(&body, "name", false)?;
    let description = string_field(&body, "description", false)?;
    let team = world.store.tx(|t| {
        let mut team = require_team(t, &team_id)?;
        if let Some(name) = name {
            team["name"] = json!(name);
        }
        if let Some(description) = description {
            team["description"] = json!(description);
        }
        if let Some(labels) = body.get("labels").filter(|l| l.is_object()) {
            team["labels"] = labels.clone();
        }
        team["updated_at"] = json!(rfc3339_nano(t.now()));
        t.put(API, TEAMS, "", &team_id, &team)?;
        Ok::<_, Problem>(team)
    })?;
    Ok(json_response(StatusCode::OK, team))
}

async fn delete_team(
    State(world): State<Arc<World>>,
    Path(team_id): Path<String>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require_team(t, &team_id)?;
        t.delete(API, TEAMS, "", &team_id)?;
        t.delete_under(API, &team_id)?;
        Ok::<_, Problem>(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn add_member(
    State(world): State<Arc<World>>,
    Path(team_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let body = parse_object(&body)?;
    let account_id = string_field(&body, "id", true)?.unwrap_or_default();
    world.store.tx(|t| {
        require_team(t, &team_id)?;
        require_account(t, &account_id)?;
        if t.get(API, MEMBERS, &team_id, &account_id)?.is_some() {
            return Err(Problem::conflict(
                "The system account is already a member of this team",
            ));
        }
        t.put(API, MEMBERS, &team_id, &account_id, &json!({}))?;
        Ok(())
    })?;
    Ok(StatusCode::CREATED.into_response())
}

async fn list_members(
    State(world): State<Arc<World>>,
    Path(team_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let items = world.store.tx(|t| {
        require_team(t, &team_id)?;
        let mut out = Vec::new();
        for member in t.list(API, MEMBERS, Some(&team_id))? {
            if let Some(account) = t.get(API, ACCOUNTS, "", &member.name)? {
                out.push(account);
            }
        }
        Ok::<_, Problem>(out)
    })?;
    let items = items
        .into_iter()
        .filter(|a| matches_filter(&query, "name", a))
        .collect();
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

async fn remove_member(
    State(world): State<Arc<World>>,
    Path((team_id, account_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    world.store.tx(|t| {
        require_team(t, &team_id)?;
        if !t.delete(API, MEMBERS, &team_id, &account_id)? {
            return Err(Problem::not_found(format!(
                "System account [{account_id}] is not a member of team [{team_id}]"
            )));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_account_teams(
    State(world): State<Arc<World>>,
    Path(account_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let page = konnect_page(&query)?;
    let items = world.store.tx(|t| {
        require_account(t, &account_id)?;
        let mut out = Vec::new();
        for team in t.list(API, TEAMS, Some(""))? {
            if t.get(API, MEMBERS, &team.name, &account_id)?.is_some() {
                out.push(team.body);
            }
        }
        Ok::<_, Problem>(out)
    })?;
    Ok(json_response(StatusCode::OK, konnect_list(items, &page)))
}

// --- me -------------------------------------------------------------------------

const SANDBOX_ORG: &str = "00000000-0000-4000-8000-000000000001";
const SANDBOX_USER: &str = "00000000-0000-4000-8000-000000000002";

async fn users_me() -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "id": SANDBOX_USER, "email": "sandbox@meshform.invalid", "full_name": "Sandbox User",
            "preferred_name": "Sandbox", "active": true, "inferred_region": "us",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
        }),
    )
}

async fn organizations_me() -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "id": SANDBOX_ORG, "name": "meshform sandbox", "owner_id": SANDBOX_USER,
            "login_path": "meshform-sandbox", "state": "active",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
        }),
    )
}

//! The Konnect server: every resource type, auth, pagination, cascades,
//! zones, faults; every exchange is checked against the official specs.

use meshform_sandbox::{Database, FaultConfig, SandboxClock, SandboxConfig, ThrottleConfig};
use serde_json::{json, Value};

use crate::common::{start, start_with, Konnect, PAT};
use crate::contract;

/// Every mesh-scoped kind with a minimal valid body.
const MESH_KINDS: &[(&str, &str)] = &[
    ("MeshAccessLog", "meshaccesslogs"),
    ("MeshCircuitBreaker", "meshcircuitbreakers"),
    ("MeshExternalService", "meshexternalservices"),
    ("MeshFaultInjection", "meshfaultinjections"),
    ("MeshGateway", "meshgateways"),
    ("MeshGlobalRateLimit", "meshglobalratelimits"),
    ("MeshHealthCheck", "meshhealthchecks"),
    ("MeshHTTPRoute", "meshhttproutes"),
    ("MeshLoadBalancingStrategy", "meshloadbalancingstrategies"),
    ("MeshMetric", "meshmetrics"),
    ("MeshMultiZoneService", "meshmultizoneservices"),
    ("MeshOPA", "meshopas"),
    ("MeshPassthrough", "meshpassthroughs"),
    ("MeshProxyPatch", "meshproxypatches"),
    ("MeshRateLimit", "meshratelimits"),
    ("MeshRetry", "meshretries"),
    ("MeshService", "meshservices"),
    ("MeshTCPRoute", "meshtcproutes"),
    ("MeshTimeout", "meshtimeouts"),
    ("MeshTLS", "meshtlses"),
    ("MeshTrace", "meshtraces"),
    ("MeshTrafficPermission", "meshtrafficpermissions"),
];

fn body_for(type_name: &str, mesh: &str, name: &str, marker: &str) -> Value {
    let spec = match type_name {
        "MeshExternalService" => {
            json!({"match": {"type": "HostnameGenerator", "port": 443, "protocol": "tcp"}, "endpoints": [{"address": format!("{marker}.example.com"), "port": 443}]})
        }
        "MeshMultiZoneService" => {
            json!({"selector": {"meshService": {"matchLabels": {"app": marker}}}, "ports": [{"port": 80, "appProtocol": "http"}]})
        }
        "MeshService" => {
            json!({"selector": {"dataplaneTags": {"app": marker}}, "ports": [{"port": 80, "targetPort": 8080, "appProtocol": "http"}]})
        }
        "MeshProxyPatch" => {
            json!({"targetRef": {"kind": "Mesh"}, "default": {"appendModifications": [{"cluster": {"operation": "Add", "value": format!("name: {marker}")}}]}})
        }
        "MeshTrafficPermission" => {
            json!({"targetRef": {"kind": "Mesh"}, "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]})
        }
        _ => json!({"targetRef": {"kind": "Mesh"}}),
    };
    if type_name == "MeshGateway" {
        return json!({"type": type_name, "mesh": mesh, "name": name,
            "selectors": [{"match": {"kuma.io/service": marker}}],
            "conf": {"listeners": [{"port": 8080, "protocol": "HTTP"}]}});
    }
    json!({"type": type_name, "mesh": mesh, "name": name, "labels": {"team": marker}, "spec": spec})
}

fn finish(k: &Konnect) {
    contract::check_exchanges(&k.sandbox.exchanges());
}

fn create_mesh(k: &Konnect, cp: &str, mesh: &str) {
    let (status, body) = k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/{mesh}"),
        json!({"type": "Mesh", "name": mesh, "skipCreatingInitialPolicies": ["*"]}),
    );
    assert_eq!(status, 201, "{body}");
}

#[test]
fn control_plane_create_read_update_delete() {
    let k = start();
    let (status, cp) = k.post(
        "/v1/mesh/control-planes",
        json!({"name": "cp-1", "description": "first", "labels": {"env": "test", "team": "mesh"},
               "features": [{"type": "MeshCreation", "meshCreation": {"enabled": false}},
                            {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": false}}]}),
    );
    assert_eq!(status, 201, "{cp}");
    let id = cp["id"].as_str().unwrap().to_string();
    assert_eq!(cp["labels"], json!({"env": "test", "team": "mesh"}));
    assert_eq!(cp["features"][0]["meshCreation"]["enabled"], false);

    let (status, read) = k.get(&format!("/v1/mesh/control-planes/{id}"));
    assert_eq!((status, &read), (200, &cp));

    let (status, patched) = k.patch(
        &format!("/v1/mesh/control-planes/{id}"),
        json!({"description": "second", "labels": {"team": null, "tier": "gold"}}),
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["description"], "second");
    assert_eq!(patched["labels"], json!({"env": "test", "tier": "gold"}));

    let (status, put) = k.put(
        &format!("/v1/mesh/control-planes/{id}"),
        json!({"name": "cp-renamed"}),
    );
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["name"], "cp-renamed");
    assert_eq!(put["labels"], json!({}));

    let (status, listed) = k.get("/v1/mesh/control-planes");
    assert_eq!(status, 200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    let (status, _) = k.delete(&format!("/v1/mesh/control-planes/{id}"));
    assert_eq!(status, 204);
    let (status, gone) = k.get(&format!("/v1/mesh/control-planes/{id}"));
    assert_eq!(status, 404);
    assert_eq!(gone["status"], 404);
    assert_eq!(k.delete(&format!("/v1/mesh/control-planes/{id}")).0, 404);
    finish(&k);
}

#[test]
fn control_plane_rejects_invalid_input_with_problem_details() {
    let k = start();
    let (status, problem) = k.post("/v1/mesh/control-planes", json!({"description": "no name"}));
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_parameters"][0]["field"], "name");
    let (status, problem) = k.post("/v1/mesh/control-planes", json!({"name": "x", "extra": 1}));
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_parameters"][0]["rule"], "unknown_property");
    let (status, problem) = k.post(
        "/v1/mesh/control-planes",
        json!({"name": "x", "labels": {"k": "-bad"}}),
    );
    assert_eq!(status, 400, "{problem}");
    finish(&k);
}

#[test]
fn default_features_create_the_default_mesh_and_generators() {
    let k = start();
    let (status, cp) = k.post("/v1/mesh/control-planes", json!({"name": "with-defaults"}));
    assert_eq!(status, 201);
    let id = cp["id"].as_str().unwrap();
    let (_, meshes) = k.get(&format!("/v1/mesh/control-planes/{id}/api/meshes"));
    assert_eq!(meshes["items"][0]["name"], "default");
    let (_, retries) = k.get(&format!(
        "/v1/mesh/control-planes/{id}/api/meshes/default/meshretries"
    ));
    assert_eq!(retries["items"][0]["name"], "mesh-retry-all-default");
    let (_, generators) = k.get(&format!(
        "/v1/mesh/control-planes/{id}/api/hostnamegenerators"
    ));
    assert!(generators["total"].as_u64().unwrap() >= 1);
    finish(&k);
}

#[test]
fn mesh_without_skip_list_gets_default_policies() {
    let k = start();
    let cp = k.control_plane("cp");
    let (status, _) = k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/m1"),
        json!({"type": "Mesh", "name": "m1", "skipCreatingInitialPolicies": ["MeshRetry"]}),
    );
    assert_eq!(status, 201);
    let (_, retries) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/m1/meshretries"
    ));
    assert_eq!(retries["total"], 0);
    let (_, timeouts) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/m1/meshtimeouts"
    ));
    assert_eq!(timeouts["total"], 2);
    finish(&k);
}

#[test]
fn mesh_create_read_update_delete() {
    let k = start();
    let cp = k.control_plane("cp");
    let path = format!("/v1/mesh/control-planes/{cp}/api/meshes/mesh1");
    let mtls = json!({"backends": [{"name": "ca-1", "type": "builtin"}], "enabledBackend": "ca-1"});
    let (status, created) = k.put(
        &path,
        json!({"type": "Mesh", "name": "mesh1", "skipCreatingInitialPolicies": ["*"]}),
    );
    assert_eq!((status, created), (201, json!({"warnings": []})));
    let (status, read) = k.get(&path);
    assert_eq!(status, 200);
    assert_eq!(read["skipCreatingInitialPolicies"], json!(["*"]));
    let created_at = read["creationTime"].clone();
    let (status, _) = k.put(&path, json!({"type": "Mesh", "name": "mesh1", "skipCreatingInitialPolicies": ["*"], "mtls": mtls}));
    assert_eq!(status, 200);
    let (_, read) = k.get(&path);
    assert_eq!(read["mtls"], mtls);
    assert_eq!(read["creationTime"], created_at);
    let (status, body) = k.delete(&path);
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(k.get(&path).0, 404);
    assert_eq!(k.delete(&path).0, 404);
    finish(&k);
}

#[test]
fn every_mesh_kind_create_read_update_list_delete() {
    let k = start();
    let cp = k.control_plane("cp");
    create_mesh(&k, &cp, "m");
    for (type_name, plural) in MESH_KINDS {
        let path = format!("/v1/mesh/control-planes/{cp}/api/meshes/m/{plural}/one");
        let (status, body) = k.put(&path, body_for(type_name, "m", "one", "a"));
        assert_eq!(status, 201, "{type_name}: {body}");
        let (status, item) = k.get(&path);
        assert_eq!(status, 200, "{type_name}");
        assert_eq!(item["type"], *type_name);
        assert_eq!(item["labels"]["kuma.io/mesh"], "m", "{type_name}");
        let (status, _) = k.put(&path, body_for(type_name, "m", "one", "b"));
        assert_eq!(status, 200, "{type_name}");
        let (_, item) = k.get(&path);
        assert_ne!(item, body_for(type_name, "m", "one", "a"), "{type_name}");
        let (_, list) = k.get(&format!(
            "/v1/mesh/control-planes/{cp}/api/meshes/m/{plural}"
        ));
        assert_eq!(list["total"], 1, "{type_name}");
        let (status, _) = k.delete(&path);
        assert_eq!(status, 200, "{type_name}");
        assert_eq!(k.get(&path).0, 404, "{type_name}");
    }
    let path = format!("/v1/mesh/control-planes/{cp}/api/hostnamegenerators/gen");
    let generator = json!({"type": "HostnameGenerator", "name": "gen", "spec": {"template": "{{ .DisplayName }}.mesh", "selector": {"meshService": {"matchLabels": {"a": "b"}}}}});
    assert_eq!(k.put(&path, generator.clone()).0, 201);
    assert_eq!(k.put(&path, generator).0, 200);
    let (_, item) = k.get(&path);
    assert!(item.get("labels").is_none(), "{item}");
    assert_eq!(k.delete(&path).0, 200);
    assert_eq!(k.get(&path).0, 404);
    finish(&k);
}

#[test]
fn user_labels_are_kept_and_the_mesh_label_is_added() {
    let k = start();
    let cp = k.control_plane("cp");
    create_mesh(&k, &cp, "m");
    let path =
        format!("/v1/mesh/control-planes/{cp}/api/meshes/m/meshtrafficpermissions/allow-all");
    let mut body = body_for("MeshTrafficPermission", "m", "allow-all", "x");
    k.put(&path, body.clone());
    let (_, item) = k.get(&path);
    assert_eq!(item["labels"], json!({"team": "x", "kuma.io/mesh": "m"}));
    body["labels"] = json!({"kuma.io/mesh": "m"});
    k.put(&path, body);
    let (_, item) = k.get(&path);
    assert_eq!(item["labels"], json!({"kuma.io/mesh": "m"}));
    finish(&k);
}

#[test]
fn kuma_validation_errors_name_the_field() {
    let k = start();
    let cp = k.control_plane("cp");
    create_mesh(&k, &cp, "m");
    let base = format!("/v1/mesh/control-planes/{cp}/api/meshes/m/meshtrafficpermissions");
    let mut body = body_for("MeshTrafficPermission", "m", "p", "x");
    body["spec"]["from"][0]["default"]["action"] = json!("Alow");
    let (status, problem) = k.put(&format!("{base}/p"), body);
    assert_eq!(status, 400);
    assert_eq!(
        problem["invalid_parameters"][0]["field"],
        "spec.from[0].default.action"
    );
    assert_eq!(
        problem["invalid_parameters"][0]["choices"],
        json!(["Allow", "Deny", "AllowWithShadowDeny"])
    );
    let mut body = body_for("MeshTrafficPermission", "m", "p", "x");
    body["spec"]["targetRef"]["kind"] = json!("Meshh");
    assert_eq!(k.put(&format!("{base}/p"), body).0, 400);
    let (status, _) = k.put(&format!("{base}/p"), body_for("MeshRetry", "m", "p", "x"));
    assert_eq!(status, 400);
    let (status, _) = k.put(
        &format!("{base}/other"),
        body_for("MeshTrafficPermission", "m", "p", "x"),
    );
    assert_eq!(status, 400);
    let (status, problem) = k.put(
        &format!("/v1/mesh/control-planes/{cp}/api/meshes/nope/meshtrafficpermissions/p"),
        body_for("MeshTrafficPermission", "nope", "p", "x"),
    );
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_parameters"][0]["field"], "mesh");
    let (status, _) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/m/notakind"
    ));
    assert_eq!(status, 404);
    finish(&k);
}

#[test]
fn mesh_deletion_cascades_to_its_policies() {
    let k = start();
    let cp = k.control_plane("cp");
    create_mesh(&k, &cp, "m");
    create_mesh(&k, &cp, "keep");
    for mesh in ["m", "keep"] {
        let path =
            format!("/v1/mesh/control-planes/{cp}/api/meshes/{mesh}/meshtrafficpermissions/p");
        assert_eq!(
            k.put(&path, body_for("MeshTrafficPermission", mesh, "p", "x"))
                .0,
            201
        );
    }
    assert_eq!(
        k.delete(&format!("/v1/mesh/control-planes/{cp}/api/meshes/m"))
            .0,
        200
    );
    create_mesh(&k, &cp, "m");
    let (_, list) = k.get(&format!(
        "/v1/mesh/control-planes/{cp}/api/meshes/m/meshtrafficpermissions"
    ));
    assert_eq!(list["total"], 0);
    assert_eq!(
        k.sandbox
            .status()
            .unwrap()
            .konnect
            .get("meshtrafficpermissions"),
        Some(&1)
    );
    assert_eq!(k.delete(&format!("/v1/mesh/control-planes/{cp}")).0, 204);
    assert_eq!(k.sandbox.status().unwrap().konnect, Default::default());
    finish(&k);
}

#[test]
fn control_plane_delete_is_refused_while_a_zone_is_online() {
    let k = start();
    let cp = k.control_plane("cp");
    k.sandbox.set_zone(&cp, "zone-1", true, None).unwrap();
    let (status, problem) = k.delete(&format!("/v1/mesh/control-planes/{cp}"));
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("zone \"zone-1\" is still online. Disconnect the zone first"),
        "{problem}"
    );
    k.sandbox
        .set_zone(&cp, "zone-1", false, Some("token expired".into()))
        .unwrap();
    let status = k.sandbox.status().unwrap();
    assert_eq!(status.zones[0].reason.as_deref(), Some("token expired"));
    assert_eq!(k.delete(&format!("/v1/mesh/control-planes/{cp}")).0, 204);
    finish(&k);
}

#[test]
fn lists_paginate_as_the_specs_define() {
    let k = start();
    for i in 0..5 {
        k.control_plane(&format!("cp{i}"));
    }
    let (_, page) = k.get("/v1/mesh/control-planes?page[size]=2&page[number]=3");
    assert_eq!(
        page["meta"]["page"],
        json!({"number": 3, "size": 2, "total": 5})
    );
    assert_eq!(page["data"][0]["name"], "cp4");
    assert_eq!(k.get("/v1/mesh/control-planes?page[size]=zero").0, 400);

    let cp = k.control_plane("kuma");
    create_mesh(&k, &cp, "m");
    for i in 0..5 {
        let path = format!("/v1/mesh/control-planes/{cp}/api/meshes/m/meshtimeouts/t{i}");
        k.put(
            &path,
            body_for(
                "MeshTimeout",
                "m",
                &format!("t{i}"),
                if i % 2 == 0 { "even" } else { "odd" },
            ),
        );
    }
    let base = format!("/v1/mesh/control-planes/{cp}/api/meshes/m/meshtimeouts");
    let (_, first) = k.get(&format!("{base}?size=2"));
    assert_eq!(first["total"], 5);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    assert!(next.ends_with(&format!("{base}?offset=2&size=2")), "{next}");
    let (_, last) = k.get(&format!("{base}?offset=4&size=2"));
    assert_eq!(last["items"][0]["name"], "t4");
    assert!(last.get("next").is_none());
    let (_, even) = k.get(&format!("{base}?filter[label.team]=even"));
    assert_eq!(even["total"], 3);
    assert_eq!(k.get(&format!("{base}?size=1001")).0, 400);
    finish(&k);
}

#[test]
fn requests_without_valid_credentials_are_unauthorized() {
    let k = start();
    let url = format!("{}/v1/mesh/control-planes", k.sandbox.konnect_url());
    let (status, problem) = crate::common::read(k.client.get(&url).send().unwrap());
    assert_eq!(status, 401);
    assert_eq!(problem["title"], "Unauthorized");
    let response = k
        .client
        .get(&url)
        .bearer_auth("kpat_wrongwrongwrongwrong")
        .send()
        .unwrap();
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert_eq!(response.status().as_u16(), 401);
    let (status, _) = crate::common::read(k.client.get(&url).bearer_auth(PAT).send().unwrap());
    assert_eq!(status, 200);
    finish(&k);
}

#[test]
fn accept_any_token_mode_takes_konnect_looking_tokens_only() {
    let k = start_with(SandboxConfig {
        accept_any_token: true,
        ..SandboxConfig::default()
    });
    let url = format!("{}/v3/system-accounts", k.sandbox.konnect_url());
    let send = |token: &str| {
        k.client
            .get(&url)
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(send("kpat_anythinggoeshere123"), 200);
    assert_eq!(send("spat_anythinggoeshere123"), 200);
    assert_eq!(send("password"), 401);
    finish(&k);
}

#[test]
fn system_account_create_read_update_delete() {
    let k = start();
    let (status, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "zone-sa", "description": "zone"}),
    );
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["konnect_managed"], false);
    let id = account["id"].as_str().unwrap().to_string();
    assert_eq!(
        k.post(
            "/v3/system-accounts",
            json!({"name": "zone-sa", "description": "again"})
        )
        .0,
        409
    );
    assert_eq!(
        k.post("/v3/system-accounts", json!({"name": "no-description"}))
            .0,
        400
    );
    let (status, read) = k.get(&format!("/v3/system-accounts/{id}"));
    assert_eq!((status, &read), (200, &account));
    let (status, patched) = k.patch(
        &format!("/v3/system-accounts/{id}"),
        json!({"description": "changed"}),
    );
    assert_eq!(status, 200);
    assert_eq!(patched["description"], "changed");
    let (_, list) = k.get("/v3/system-accounts?filter[name][eq]=zone-sa");
    assert_eq!(list["meta"]["page"]["total"], 1);
    let (_, list) = k.get("/v3/system-accounts?filter[name][eq]=other");
    assert_eq!(list["data"], json!([]));
    assert_eq!(k.delete(&format!("/v3/system-accounts/{id}")).0, 204);
    assert_eq!(k.get(&format!("/v3/system-accounts/{id}")).0, 404);
    assert_eq!(k.delete(&format!("/v3/system-accounts/{id}")).0, 404);
    finish(&k);
}

#[test]
fn access_token_value_is_returned_only_on_create_and_authenticates() {
    let k = start();
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "sa", "description": "d"}),
    );
    let id = account["id"].as_str().unwrap();
    let expires = from_now(365 * 86_400);
    let (status, created) = k.post(
        &format!("/v3/system-accounts/{id}/access-tokens"),
        json!({"name": "t1", "expires_at": expires}),
    );
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("spat_"));
    let token_id = created["id"].as_str().unwrap();
    let path = format!("/v3/system-accounts/{id}/access-tokens/{token_id}");
    let (status, read) = k.get(&path);
    assert_eq!(status, 200);
    assert!(read.get("token").is_none());
    assert_eq!(read["expires_at"], created["expires_at"]);
    let (status, patched) = k.patch(&path, json!({"name": "t2"}));
    assert_eq!(status, 200);
    assert!(patched.get("token").is_none());
    let (_, list) = k.get(&format!("/v3/system-accounts/{id}/access-tokens"));
    assert!(list["data"][0].get("token").is_none());
    assert_eq!(
        k.sandbox.issued_token_account(&token).unwrap().as_deref(),
        Some(id)
    );

    let url = format!("{}/v1/mesh/control-planes", k.sandbox.konnect_url());
    let status = k
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 200);
    assert_eq!(k.delete(&path).0, 204);
    let status = k
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 401);
    assert_eq!(
        k.post(
            &format!("/v3/system-accounts/{id}/access-tokens"),
            json!({"expires_at": "yesterday"})
        )
        .0,
        400
    );
    finish(&k);
}

/// An RFC 3339 instant `seconds` from now.
fn from_now(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Issue 15: expiry is judged on the world's clock, never today's date.
#[test]
fn expired_access_tokens_are_rejected() {
    let k = start_with(SandboxConfig {
        clock: SandboxClock::starting_at(at("2030-01-31T12:00:00Z")),
        ..SandboxConfig::default()
    });
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "sa", "description": "d"}),
    );
    let id = account["id"].as_str().unwrap();
    let tokens = format!("/v3/system-accounts/{id}/access-tokens");
    let (status, refused) = k.post(
        &tokens,
        json!({"name": "past", "expires_at": "2030-01-31T11:59:00Z"}),
    );
    assert_eq!(status, 400, "{refused}");
    let (status, created) = k.post(
        &tokens,
        json!({"name": "short", "expires_at": "2030-01-31T12:16:00Z"}),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["expires_at"], "2030-01-31T12:16:00Z");
    assert!(
        created["created_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("2030-01-31T12:0")),
        "{created}"
    );
    let url = format!("{}/v1/mesh/control-planes", k.sandbox.konnect_url());
    let token = created["token"].as_str().unwrap();
    let status = |token: &str| {
        k.client
            .get(&url)
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(token), 200);
    assert_eq!(
        k.sandbox.issued_token_account(token).unwrap().as_deref(),
        Some(id)
    );

    // Past the expiry on the world's clock the token no longer works.
    k.sandbox
        .set_clock(SandboxClock::starting_at(at("2030-01-31T12:16:01Z")));
    assert_eq!(status(token), 401);
    assert_eq!(k.sandbox.issued_token_account(token).unwrap(), None);

    // The clock can be moved over HTTP too, as `sandbox serve` users do.
    let (code, clock) = k.put("/_sandbox/clock", json!({"now": "2030-01-31T12:00:00Z"}));
    assert_eq!(code, 200, "{clock}");
    assert_eq!(clock["simulated"], true);
    assert_eq!(status(token), 200);
    let (code, _) = k.put("/_sandbox/clock", json!({"now": "tomorrow"}));
    assert_eq!(code, 400);
    finish(&k);
}

#[test]
fn assigned_roles_create_list_read_delete() {
    let k = start();
    let cp = k.control_plane("cp");
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "sa", "description": "d"}),
    );
    let id = account["id"].as_str().unwrap();
    let role = json!({"role_name": "Connector", "entity_id": cp, "entity_type_name": "Mesh Control Planes", "entity_region": "us"});
    let (status, created) = k.post(
        &format!("/v3/system-accounts/{id}/assigned-roles"),
        role.clone(),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["role_name"], "Connector");
    assert_eq!(
        k.post(
            &format!("/v3/system-accounts/{id}/assigned-roles"),
            role.clone()
        )
        .0,
        409
    );
    let mut bad = role.clone();
    bad["role_name"] = json!("Conector");
    let (status, problem) = k.post(&format!("/v3/system-accounts/{id}/assigned-roles"), bad);
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_parameters"][0]["field"], "role_name");
    let (_, list) = k.get(&format!(
        "/v3/system-accounts/{id}/assigned-roles?filter[role_name][eq]=Connector"
    ));
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let role_id = created["id"].as_str().unwrap();
    let path = format!("/v3/system-accounts/{id}/assigned-roles/{role_id}");
    assert_eq!(k.get(&path).0, 200);
    assert_eq!(k.delete(&path).0, 204);
    assert_eq!(k.delete(&path).0, 404);
    assert_eq!(
        k.post(
            "/v3/system-accounts/00000000-0000-4000-8000-00000000ffff/assigned-roles",
            role
        )
        .0,
        404
    );
    finish(&k);
}

#[test]
fn team_membership_add_list_remove() {
    let k = start();
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "sa", "description": "d"}),
    );
    let id = account["id"].as_str().unwrap();
    let (status, team) = k.post(
        "/v3/teams",
        json!({"name": "mesh-admins", "description": "d"}),
    );
    assert_eq!(status, 201);
    let team_id = team["id"].as_str().unwrap();
    let (status, _) = k.post(
        &format!("/v3/teams/{team_id}/system-accounts"),
        json!({"id": id}),
    );
    assert_eq!(status, 201);
    assert_eq!(
        k.post(
            &format!("/v3/teams/{team_id}/system-accounts"),
            json!({"id": id})
        )
        .0,
        409
    );
    let (_, members) = k.get(&format!("/v3/teams/{team_id}/system-accounts"));
    assert_eq!(members["data"][0]["id"], id);
    let (_, teams) = k.get(&format!("/v3/system-accounts/{id}/teams"));
    assert_eq!(teams["data"][0]["id"], team_id);
    assert_eq!(
        k.delete(&format!("/v3/teams/{team_id}/system-accounts/{id}"))
            .0,
        204
    );
    assert_eq!(
        k.delete(&format!("/v3/teams/{team_id}/system-accounts/{id}"))
            .0,
        404
    );
    assert_eq!(k.delete(&format!("/v3/teams/{team_id}")).0, 204);
    finish(&k);
}

#[test]
fn deleting_an_account_revokes_its_tokens() {
    let k = start();
    let (_, account) = k.post(
        "/v3/system-accounts",
        json!({"name": "sa", "description": "d"}),
    );
    let id = account["id"].as_str().unwrap();
    let (_, created) = k.post(
        &format!("/v3/system-accounts/{id}/access-tokens"),
        json!({"name": "t"}),
    );
    let token = created["token"].as_str().unwrap();
    assert_eq!(k.delete(&format!("/v3/system-accounts/{id}")).0, 204);
    assert_eq!(k.sandbox.issued_token_account(token).unwrap(), None);
    assert_eq!(k.sandbox.status().unwrap().konnect, Default::default());
    finish(&k);
}

#[test]
fn injected_faults_answer_429_5xx_or_drop_the_connection() {
    let k = start_with(SandboxConfig {
        faults: FaultConfig {
            throttle: Some(ThrottleConfig {
                rate: 1.0,
                burst: 2,
                retry_after_seconds: 7,
            }),
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    });
    let response = k
        .request(reqwest::Method::GET, "/v1/mesh/control-planes")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");

    k.sandbox.set_faults(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    });
    let status = k.get("/v1/mesh/control-planes").0;
    assert!((500..600).contains(&status), "{status}");

    k.sandbox.set_faults(FaultConfig {
        drop_rate: 1.0,
        ..FaultConfig::default()
    });
    let sent = k
        .request(reqwest::Method::GET, "/v1/mesh/control-planes")
        .send();
    assert!(
        sent.is_err(),
        "the connection should close without a response"
    );

    let faults_url = format!("{}/_sandbox/faults", k.sandbox.konnect_url());
    let (status, now) = crate::common::read(
        k.client
            .put(&faults_url)
            .json(&json!({"latency_ms": 1}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(now["latency_ms"], 1);
    assert_eq!(k.sandbox.faults().latency_ms, 1);
    assert_eq!(k.get("/v1/mesh/control-planes").0, 200);
}

#[test]
fn a_database_file_keeps_the_world_across_restarts_until_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.db");
    let config = || SandboxConfig {
        database: Database::File(path.clone()),
        ..SandboxConfig::default()
    };
    let k = start_with(config());
    let cp = k.control_plane("persisted");
    k.sandbox.shutdown();
    let k = start_with(config());
    assert_eq!(k.get(&format!("/v1/mesh/control-planes/{cp}")).0, 200);
    k.sandbox.shutdown();
    let status = meshform_sandbox::database_status(&path).unwrap();
    assert_eq!(status.konnect.get("control-planes"), Some(&1));
    meshform_sandbox::reset_database(&path).unwrap();
    assert_eq!(
        meshform_sandbox::database_status(&path).unwrap().konnect,
        Default::default()
    );
}

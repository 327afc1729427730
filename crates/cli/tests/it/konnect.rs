//! The `meshform` binary against the sandbox Konnect server: the guide's
//! Konnect part step by step, the lifecycle of a representative set of
//! resource types, convergence under injected faults, and a rejected token.
//! Every apply is followed by a plan that must find nothing to do, and the
//! sandbox's own API must show what the state says.

use std::path::Path;
use std::process::Command;

use meshform_sandbox::{FaultConfig, Sandbox, SandboxConfig, ThrottleConfig};
use serde_json::Value as Json;

use crate::support::{self, Run};

/// The personal access token the sandbox accepts.
pub const TOKEN: &str = "kpat_meshformclitest00000000000000000000000000000000000";

/// The guide's provider setup pointed at a sandbox (`testdata/e2e/guide`).
pub fn providers_tf() -> String {
    std::fs::read_to_string(meshform_testkit::testdata("e2e/guide/providers.tf"))
        .expect("providers.tf fixture")
}

/// A running sandbox and a plain HTTP client to look at it directly.
pub struct Konnect {
    pub sandbox: Sandbox,
    http: reqwest::blocking::Client,
}

impl Konnect {
    pub fn start() -> Konnect {
        let sandbox = Sandbox::start(SandboxConfig {
            personal_access_tokens: vec![TOKEN.to_owned()],
            ..SandboxConfig::default()
        })
        .expect("the sandbox starts");
        Konnect {
            sandbox,
            http: reqwest::blocking::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn url(&self) -> &str {
        self.sandbox.konnect_url()
    }

    /// A command running `meshform -chdir=dir` against this sandbox.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = support::command_in(dir);
        cmd.args(args)
            .env("TF_VAR_konnect_server_url", self.url())
            .env("TF_VAR_konnect_personal_access_token", TOKEN)
            .env("MESHFORM_KONNECT_IDENTITY_URL", self.url());
        cmd
    }

    pub fn meshform(&self, dir: &Path, args: &[&str]) -> Run {
        support::run(&mut self.command(dir, args))
    }

    /// `apply -auto-approve` that must succeed.
    pub fn apply(&self, dir: &Path) -> Run {
        let r = self.meshform(dir, &["apply", "-auto-approve", "-input=false"]);
        assert_eq!(r.code, 0, "apply failed:\n{}", r.text());
        r
    }

    /// A plan right after an apply finds nothing to do.
    pub fn assert_no_changes(&self, dir: &Path) {
        let r = self.meshform(dir, &["plan", "-detailed-exitcode", "-input=false"]);
        assert_eq!(r.code, 0, "plan after apply:\n{}", r.text());
        assert!(
            r.stdout
                .contains("No changes. Your infrastructure matches the configuration."),
            "{}",
            r.text()
        );
    }

    /// GET on the sandbox's own API, with no faults in the way.
    pub fn get(&self, path: &str) -> (u16, Json) {
        let response = self
            .http
            .get(format!("{}{}", self.url(), path))
            .bearer_auth(TOKEN)
            .send()
            .expect("the sandbox answers");
        let status = response.status().as_u16();
        let body = response.text().unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Json::Null))
    }

    /// DELETE on the sandbox's own API (a change made outside meshform).
    pub fn delete(&self, path: &str) -> u16 {
        self.http
            .delete(format!("{}{}", self.url(), path))
            .bearer_auth(TOKEN)
            .send()
            .expect("the sandbox answers")
            .status()
            .as_u16()
    }

    /// Every control plane, all pages.
    pub fn control_planes(&self) -> Vec<Json> {
        let mut out = Vec::new();
        for page in 1.. {
            let (status, body) = self.get(&format!(
                "/v1/mesh/control-planes?page[size]=100&page[number]={page}"
            ));
            assert_eq!(status, 200, "{body}");
            let data = body["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                break;
            }
            out.extend(data);
        }
        out
    }

    /// Every object of a Kuma collection (`meshes`, or `meshes/NAME/PLURAL`)
    /// of a control plane, all pages.
    pub fn kuma_list(&self, cp_id: &str, collection: &str) -> Vec<Json> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let (status, body) = self.get(&format!(
                "/v1/mesh/control-planes/{cp_id}/api/{collection}?offset={offset}&size=50"
            ));
            assert_eq!(status, 200, "{collection}: {body}");
            let items = body["items"].as_array().cloned().unwrap_or_default();
            offset += items.len();
            out.extend(items);
            if body["next"].is_null() {
                break;
            }
        }
        out
    }

    pub fn names(items: &[Json]) -> Vec<String> {
        let mut names: Vec<String> = items
            .iter()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    }
}

/// A working directory holding `main.tf` = the provider setup + `body`.
pub fn workdir(body: &str) -> tempfile::TempDir {
    support::workdir_with_main(&format!("{}\n{body}", providers_tf()))
}

pub fn write_config(dir: &Path, body: &str) {
    std::fs::write(dir.join("main.tf"), format!("{}\n{body}", providers_tf()))
        .expect("main.tf written");
}

fn guide_step(name: &str) -> String {
    std::fs::read_to_string(meshform_testkit::testdata(&format!("e2e/guide/{name}.tf")))
        .expect("guide step fixture")
}

/// The state as Terraform's v4 JSON (`state pull`).
pub fn pulled_state(konnect: &Konnect, dir: &Path) -> Json {
    let r = konnect.meshform(dir, &["state", "pull"]);
    assert_eq!(r.code, 0, "{}", r.text());
    serde_json::from_str(&r.stdout).expect("state pull prints JSON")
}

/// The attributes of the one instance at `type.name` in the state.
pub fn state_attributes(konnect: &Konnect, dir: &Path, ty: &str, name: &str) -> Json {
    let state = pulled_state(konnect, dir);
    let resources = state["resources"].as_array().cloned().unwrap_or_default();
    let resource = resources
        .iter()
        .find(|r| r["type"] == ty && r["name"] == name && r["mode"] == "managed")
        .unwrap_or_else(|| panic!("{ty}.{name} is in the state: {state}"));
    resource["instances"][0]["attributes"].clone()
}

/// `state list`, one address a line, sorted.
pub fn state_list(konnect: &Konnect, dir: &Path) -> Vec<String> {
    let r = konnect.meshform(dir, &["state", "list"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let mut lines: Vec<String> = r.stdout.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn the_guide_konnect_part_step_by_step() {
    let konnect = Konnect::start();
    let dir = workdir(&guide_step("1-control-plane"));
    let d = dir.path();

    let r = konnect.meshform(d, &["init"]);
    assert_eq!(r.code, 0, "{}", r.text());

    // Control plane.
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("# konnect_mesh_control_plane.my_meshcontrolplane will be created"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let cps = konnect.control_planes();
    assert_eq!(cps.len(), 1, "{cps:?}");
    let cp = &cps[0];
    assert_eq!(cp["name"], "tf-cp");
    assert_eq!(cp["description"], "A control plane created using terraform");
    assert_eq!(cp["labels"]["terraform"], "true");
    let cp_id = cp["id"].as_str().expect("cp id").to_owned();
    let attrs = state_attributes(
        &konnect,
        d,
        "konnect_mesh_control_plane",
        "my_meshcontrolplane",
    );
    assert_eq!(attrs["id"], cp_id.as_str());
    assert_eq!(attrs["name"], "tf-cp");

    // Mesh, with no initial policies.
    write_config(d, &guide_step("2-mesh"));
    let r = konnect.apply(d);
    assert!(
        r.stdout.contains("# konnect_mesh.mesh1 will be created"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let meshes = konnect.kuma_list(&cp_id, "meshes");
    assert_eq!(Konnect::names(&meshes), ["my-mesh"]);
    assert!(meshes[0]["mtls"].is_null(), "{}", meshes[0]);
    let permissions = konnect.kuma_list(&cp_id, "meshes/my-mesh/meshtrafficpermissions");
    assert!(
        permissions.is_empty(),
        "no initial policies: {permissions:?}"
    );

    // mTLS: the mesh is updated in place, keeping the same control plane.
    write_config(d, &guide_step("3-mtls"));
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("# konnect_mesh.mesh1 will be updated in-place"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let (status, mesh) = konnect.get(&format!(
        "/v1/mesh/control-planes/{cp_id}/api/meshes/my-mesh"
    ));
    assert_eq!(status, 200, "{mesh}");
    // The guide spells `"enabledBackend"` and `"mode"`, which are not
    // attributes of the schema's `mtls` object: Terraform's conversion drops
    // them, and so only the backends reach Konnect (as the guide's plan shows).
    assert_eq!(mesh["mtls"].get("enabledBackend"), None, "{mesh}");
    assert_eq!(mesh["mtls"]["backends"][0]["name"], "ca-1", "{mesh}");
    assert_eq!(mesh["mtls"]["backends"][0]["type"], "builtin", "{mesh}");
    assert_eq!(konnect.control_planes().len(), 1);

    // The traffic permission.
    write_config(d, &guide_step("4-traffic-permission"));
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("# konnect_mesh_traffic_permission.allow_all will be created"),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let (status, policy) = konnect.get(&format!(
        "/v1/mesh/control-planes/{cp_id}/api/meshes/my-mesh/meshtrafficpermissions/allow-all"
    ));
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["type"], "MeshTrafficPermission");
    assert_eq!(policy["labels"]["kuma.io/mesh"], "my-mesh");
    assert_eq!(
        policy["spec"]["from"][0]["targetRef"]["kind"], "Mesh",
        "{policy}"
    );
    assert_eq!(
        policy["spec"]["from"][0]["default"]["action"], "Allow",
        "{policy}"
    );

    // Renaming the mesh replaces the mesh and the policy in it.
    write_config(d, &guide_step("5-rename"));
    let r = konnect.apply(d);
    assert!(
        r.stdout.contains("# konnect_mesh.mesh1 must be replaced"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("# konnect_mesh_traffic_permission.allow_all must be replaced"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let meshes = konnect.kuma_list(&cp_id, "meshes");
    assert_eq!(Konnect::names(&meshes), ["another-name"]);
    let (status, _) = konnect.get(&format!(
        "/v1/mesh/control-planes/{cp_id}/api/meshes/my-mesh/meshtrafficpermissions/allow-all"
    ));
    assert_eq!(status, 404, "the old policy is gone with its mesh");
    let permissions = konnect.kuma_list(&cp_id, "meshes/another-name/meshtrafficpermissions");
    assert_eq!(Konnect::names(&permissions), ["allow-all"]);
    assert_eq!(permissions[0]["labels"]["kuma.io/mesh"], "another-name");
    assert_eq!(
        state_list(&konnect, d),
        [
            "konnect_mesh.mesh1",
            "konnect_mesh_control_plane.my_meshcontrolplane",
            "konnect_mesh_traffic_permission.allow_all",
        ]
    );
    let attrs = state_attributes(&konnect, d, "konnect_mesh_traffic_permission", "allow_all");
    assert_eq!(attrs["mesh"], "another-name");

    // Destroy.
    let r = konnect.meshform(d, &["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 3 destroyed."),
        "{}",
        r.text()
    );
    assert!(konnect.control_planes().is_empty());
    let (status, _) = konnect.get(&format!("/v1/mesh/control-planes/{cp_id}"));
    assert_eq!(status, 404);
    assert!(state_list(&konnect, d).is_empty());
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(meshform_testkit::testdata(&format!("e2e/{name}")))
        .expect("e2e fixture")
}

/// The one system account the sandbox holds under `name`.
fn system_account(konnect: &Konnect, name: &str) -> Option<Json> {
    let (status, body) = konnect.get("/v3/system-accounts?page[size]=100");
    assert_eq!(status, 200, "{body}");
    let matching: Vec<Json> = body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["name"] == name)
        .collect();
    assert!(
        matching.len() <= 1,
        "one account named {name}: {matching:?}"
    );
    matching.into_iter().next()
}

#[test]
fn resources_of_both_providers_are_created_updated_and_deleted() {
    let konnect = Konnect::start();
    let dir = workdir(&fixture("lifecycle/1-create.tf"));
    let d = dir.path();

    // Create.
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let cp_id = state_attributes(&konnect, d, "konnect_mesh_control_plane", "cp")["id"]
        .as_str()
        .expect("cp id")
        .to_owned();
    let (status, cp) = konnect.get(&format!("/v1/mesh/control-planes/{cp_id}"));
    assert_eq!(status, 200, "{cp}");
    assert_eq!(cp["description"], "first");
    assert_eq!(cp["labels"]["team"], "mesh");
    let timeout_path =
        format!("/v1/mesh/control-planes/{cp_id}/api/meshes/lifecycle/meshtimeouts/timeouts");
    let (status, timeout) = konnect.get(&timeout_path);
    assert_eq!(status, 200, "{timeout}");
    assert_eq!(
        timeout["spec"]["to"][0]["default"]["idleTimeout"], "10s",
        "{timeout}"
    );
    assert_eq!(
        timeout["spec"]["to"][0]["default"]["connectionTimeout"],
        "2s"
    );
    let account = system_account(&konnect, "lifecycle-account").expect("account created");
    assert_eq!(account["description"], "Used by the lifecycle test");
    let account_id = account["id"].as_str().expect("account id").to_owned();
    assert_eq!(
        state_attributes(&konnect, d, "konnect_system_account", "account")["id"],
        account_id.as_str()
    );
    let token = state_attributes(&konnect, d, "konnect_system_account_access_token", "token");
    let token_id = token["id"].as_str().expect("token id").to_owned();
    let token_value = token["token"]
        .as_str()
        .expect("token value kept from the create");
    assert!(token_value.starts_with("spat_"), "{token_value}");
    assert_eq!(
        konnect
            .sandbox
            .issued_token_account(token_value)
            .expect("lookup"),
        Some(account_id.clone()),
        "the state's token is one the sandbox issued to the account"
    );
    let (status, _) = konnect.get(&format!(
        "/v3/system-accounts/{account_id}/access-tokens/{token_id}"
    ));
    assert_eq!(status, 200);

    // Update in place: same objects, new values.
    let vars = [
        "-var=timeout=30s",
        "-var=cp_description=second",
        "-var=account_description=Changed",
    ];
    let mut args = vec!["apply", "-auto-approve", "-input=false"];
    args.extend(vars);
    let r = konnect.meshform(d, &args);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 0 added, 3 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    let mut args = vec!["plan", "-detailed-exitcode", "-input=false"];
    args.extend(vars);
    let r = konnect.meshform(d, &args);
    assert_eq!(r.code, 0, "{}", r.text());
    let (_, cp) = konnect.get(&format!("/v1/mesh/control-planes/{cp_id}"));
    assert_eq!(cp["description"], "second");
    let (_, timeout) = konnect.get(&timeout_path);
    assert_eq!(
        timeout["spec"]["to"][0]["default"]["idleTimeout"], "30s",
        "{timeout}"
    );
    let account = system_account(&konnect, "lifecycle-account").expect("account kept");
    assert_eq!(account["id"], account_id.as_str(), "updated, not replaced");
    assert_eq!(account["description"], "Changed");
    assert_eq!(konnect.control_planes().len(), 1);

    // Delete what the configuration no longer has.
    write_config(d, &fixture("lifecycle/3-delete.tf"));
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 2 destroyed."),
        "{}",
        r.text()
    );
    konnect.assert_no_changes(d);
    let (status, _) = konnect.get(&timeout_path);
    assert_eq!(status, 404);
    let (status, _) = konnect.get(&format!(
        "/v3/system-accounts/{account_id}/access-tokens/{token_id}"
    ));
    assert_eq!(status, 404);
    assert_eq!(
        konnect
            .sandbox
            .issued_token_account(token_value)
            .expect("lookup"),
        None,
        "a deleted token no longer authenticates"
    );
    assert_eq!(
        state_list(&konnect, d),
        [
            "konnect_mesh.mesh",
            "konnect_mesh_control_plane.cp",
            "konnect_system_account.account",
        ]
    );

    let r = konnect.meshform(d, &["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(konnect.control_planes().is_empty());
    assert!(system_account(&konnect, "lifecycle-account").is_none());
    assert!(state_list(&konnect, d).is_empty());
}

#[test]
fn a_hundred_policies_converge_through_injected_errors_and_throttling() {
    let konnect = Konnect::start();
    let dir = workdir(&fixture("faults/main.tf"));
    let d = dir.path();
    // 12.5% of requests start a 429 (Retry-After: 1) and a fifth of the
    // rest get a 5xx: 30% of all requests fail.
    konnect.sandbox.set_faults(FaultConfig {
        error_rate: 0.2,
        throttle: Some(ThrottleConfig {
            rate: 0.125,
            burst: 1,
            retry_after_seconds: 1,
        }),
        seed: 30,
        ..FaultConfig::default()
    });
    let r = konnect.apply(d);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 102 added, 0 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    let r = konnect.meshform(d, &["plan", "-detailed-exitcode", "-input=false"]);
    assert_eq!(r.code, 0, "still converged under faults:\n{}", r.text());

    konnect.sandbox.set_faults(FaultConfig::default());
    let cps = konnect.control_planes();
    assert_eq!(cps.len(), 1, "nothing duplicated: {cps:?}");
    let cp_id = cps[0]["id"].as_str().expect("cp id");
    let policies = konnect.kuma_list(cp_id, "meshes/faults/meshtrafficpermissions");
    let mut expected: Vec<String> = (0..100).map(|i| format!("permission-{i}")).collect();
    expected.sort();
    assert_eq!(Konnect::names(&policies), expected, "nothing lost");
    let in_state = state_list(&konnect, d);
    assert_eq!(in_state.len(), 102, "{in_state:?}");
    assert_eq!(
        state_attributes(&konnect, d, "konnect_mesh_control_plane", "cp")["id"],
        cp_id
    );
    konnect.assert_no_changes(d);
}

#[test]
fn parallelism_bounds_the_requests_of_an_apply_and_of_a_refresh() {
    let konnect = Konnect::start();
    let dir = workdir(&fixture("faults/main.tf"));
    let d = dir.path();
    // Enough latency that requests started together overlap.
    konnect.sandbox.set_faults(FaultConfig {
        latency_ms: 10,
        ..FaultConfig::default()
    });
    let r = konnect.meshform(d, &["apply", "-auto-approve", "-parallelism=4"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let applied = konnect.sandbox.traffic();
    assert!(
        (2..=4).contains(&applied.peak_in_flight),
        "the 100 independent policies are created 4 at a time: {applied:?}"
    );

    for (parallelism, expected) in [(6, 2..=6), (1, 1..=1)] {
        konnect.sandbox.reset_traffic();
        let flag = format!("-parallelism={parallelism}");
        let r = konnect.meshform(d, &["plan", "-detailed-exitcode", &flag]);
        assert_eq!(r.code, 0, "{}", r.text());
        let refreshed = konnect.sandbox.traffic();
        assert!(
            refreshed.requests >= 102,
            "every object is read: {refreshed:?}"
        );
        assert!(
            expected.contains(&refreshed.peak_in_flight),
            "refresh reads at {flag} run {expected:?} at once: {refreshed:?}"
        );
    }
}

#[test]
fn deletions_run_in_parallel_each_after_what_depends_on_it() {
    let mut konnect = Konnect::start();
    konnect.sandbox = Sandbox::start(SandboxConfig {
        personal_access_tokens: vec![TOKEN.to_owned()],
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .expect("the sandbox starts");
    let config = fixture("faults/main.tf");
    let dir = workdir(&config);
    let d = dir.path();
    konnect.apply(d);
    konnect.sandbox.set_faults(FaultConfig {
        latency_ms: 10,
        ..FaultConfig::default()
    });

    // Sixty orphans: deleted together, within -parallelism.
    write_config(d, &config.replace("count    = 100", "count    = 40"));
    konnect.sandbox.reset_traffic();
    let r = konnect.meshform(d, &["apply", "-auto-approve", "-parallelism=4"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("0 added, 0 changed, 60 destroyed."),
        "{}",
        r.text()
    );
    let orphans = konnect.sandbox.traffic();
    assert!((2..=4).contains(&orphans.peak_in_flight), "{orphans:?}");
    assert_eq!(state_list(&konnect, d).len(), 42);

    konnect.sandbox.reset_traffic();
    let before = konnect.sandbox.exchanges().len();
    let r = konnect.meshform(d, &["destroy", "-auto-approve", "-parallelism=4"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("Resources: 42 destroyed."),
        "{}",
        r.text()
    );
    let destroyed = konnect.sandbox.traffic();
    assert!((2..=4).contains(&destroyed.peak_in_flight), "{destroyed:?}");
    assert!(state_list(&konnect, d).is_empty());
    // Exchanges are recorded as they finish: every policy is gone before
    // the mesh is deleted, and the mesh before its control plane.
    let deletes: Vec<String> = konnect.sandbox.exchanges()[before..]
        .iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(deletes.len(), 42, "{deletes:#?}");
    assert!(
        deletes[..40]
            .iter()
            .all(|p| p.contains("/meshtrafficpermissions/")),
        "{deletes:#?}"
    );
    assert!(deletes[40].ends_with("/api/meshes/faults"), "{deletes:#?}");
    assert!(!deletes[41].contains("/api/"), "{deletes:#?}");
}

#[test]
fn an_invalid_token_is_one_clear_401_and_writes_nothing() {
    let konnect = Konnect::start();
    let dir = workdir(&guide_step("1-control-plane"));
    let d = dir.path();
    let out = konnect
        .command(d, &["apply", "-auto-approve", "-input=false"])
        .env(
            "TF_VAR_konnect_personal_access_token",
            "kpat_notatokenthesandboxknows000000000000000000000000000",
        )
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr.matches("Error:").count(),
        1,
        "exactly one error:\n{stderr}"
    );
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        !stderr.contains("kpat_notatoken"),
        "the token is never printed:\n{stderr}"
    );
    assert!(konnect.control_planes().is_empty());
    assert!(state_list(&konnect, d).is_empty());
    let state = pulled_state(&konnect, d);
    assert_eq!(
        state["resources"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{state}"
    );
}

#[test]
fn objects_made_elsewhere_are_imported_and_then_managed() {
    let konnect = Konnect::start();
    // Another working directory makes the objects; this one imports them.
    let maker = workdir(&fixture("lifecycle/1-create.tf"));
    konnect.apply(maker.path());
    let attr = |ty: &str, name: &str, key: &str| -> String {
        state_attributes(&konnect, maker.path(), ty, name)[key]
            .as_str()
            .unwrap_or_else(|| panic!("{ty}.{name}.{key}"))
            .to_owned()
    };
    let cp_id = attr("konnect_mesh_control_plane", "cp", "id");
    let account_id = attr("konnect_system_account", "account", "id");
    let token_id = attr("konnect_system_account_access_token", "token", "id");

    // The configuration sets the label Konnect also adds by itself
    // (`kuma.io/mesh`); the import keeps it, so nothing changes after it.
    let config = fixture("lifecycle/1-create.tf");
    assert!(config.contains("\"kuma.io/mesh\" = konnect_mesh.mesh.name"));
    let dir = workdir(&config);
    let d = dir.path();
    let imports = [
        ("konnect_mesh_control_plane.cp", cp_id.clone()),
        (
            "konnect_mesh.mesh",
            serde_json::json!({"cp_id": cp_id, "name": "lifecycle"}).to_string(),
        ),
        (
            "konnect_mesh_timeout.timeout",
            serde_json::json!({"cp_id": cp_id, "mesh": "lifecycle", "name": "timeouts"})
                .to_string(),
        ),
        ("konnect_system_account.account", account_id.clone()),
        (
            "konnect_system_account_access_token.token",
            serde_json::json!({"account_id": account_id, "id": token_id}).to_string(),
        ),
    ];
    for (addr, id) in &imports {
        let r = konnect.meshform(d, &["import", "-input=false", addr, id]);
        assert_eq!(r.code, 0, "import {addr}:\n{}", r.text());
        assert!(r.stdout.contains("Import successful!"), "{}", r.text());
    }
    let mut expected: Vec<String> = imports.iter().map(|(a, _)| (*a).to_owned()).collect();
    expected.sort();
    assert_eq!(state_list(&konnect, d), expected);
    assert_eq!(
        state_attributes(&konnect, d, "konnect_mesh_timeout", "timeout")["spec"]["to"][0]
            ["default"]["idle_timeout"],
        "10s"
    );
    assert_eq!(
        state_attributes(&konnect, d, "konnect_mesh_timeout", "timeout")["labels"]["kuma.io/mesh"],
        "lifecycle"
    );
    konnect.assert_no_changes(d);

    // A configuration that leaves the server's label out plans its removal
    // once; after that apply, the label Konnect keeps adding is no drift.
    let server_label = "  labels = {\n    \"kuma.io/mesh\" = konnect_mesh.mesh.name\n  }\n";
    assert!(config.contains(server_label));
    write_config(d, &config.replace(server_label, ""));
    let r = konnect.meshform(d, &["plan", "-detailed-exitcode", "-input=false"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout
            .contains("konnect_mesh_timeout.timeout will be updated in-place"),
        "{}",
        r.text()
    );
    konnect.apply(d);
    konnect.assert_no_changes(d);

    // An import of an object that does not exist is an error and saves nothing.
    let r = konnect.meshform(
        d,
        &[
            "import",
            "-input=false",
            "konnect_mesh_control_plane.cp",
            "00000000-0000-0000-0000-000000000000",
        ],
    );
    assert_ne!(r.code, 0, "{}", r.text());
    assert_eq!(state_list(&konnect, d), expected);

    // Managed from here: a destroy in this directory removes them all.
    let r = konnect.meshform(d, &["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(konnect.control_planes().is_empty());
    assert!(system_account(&konnect, "lifecycle-account").is_none());
}

#[test]
fn destroy_drops_from_the_state_an_object_deleted_outside_meshform() {
    let konnect = Konnect::start();
    let dir = workdir(&guide_step("4-traffic-permission"));
    let d = dir.path();
    konnect.apply(d);
    let cp_id = state_attributes(
        &konnect,
        d,
        "konnect_mesh_control_plane",
        "my_meshcontrolplane",
    )["id"]
        .as_str()
        .expect("cp id")
        .to_owned();
    let status = konnect.delete(&format!(
        "/v1/mesh/control-planes/{cp_id}/api/meshes/my-mesh/meshtrafficpermissions/allow-all"
    ));
    assert_eq!(status, 200);

    let r = konnect.meshform(d, &["destroy", "-auto-approve", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 2 destroyed."),
        "{}",
        r.text()
    );
    assert!(konnect.control_planes().is_empty());
    assert!(
        state_list(&konnect, d).is_empty(),
        "the policy found gone is not kept in the state"
    );
}

#[test]
fn modules_inherit_the_default_provider_and_take_passed_aliases() {
    let konnect = Konnect::start();
    // The default konnect-beta configuration has a token the sandbox
    // accepts; the aliased one a token it refuses. One module inherits the
    // default, the other is passed a configuration explicitly.
    let dir = workdir(
        r#"
provider "konnect-beta" {
  alias                 = "refused"
  personal_access_token = "kpat_notatokenthesandboxknows000000000000000000000000000"
  server_url            = var.konnect_server_url
}

module "inherits" {
  source = "./cp"
  name   = "inherited-cp"
}

module "passed" {
  source = "./cp"
  name   = "passed-cp"
  providers = {
    konnect-beta = konnect-beta
  }
}
"#,
    );
    let d = dir.path();
    std::fs::create_dir(d.join("cp")).unwrap();
    std::fs::write(
        d.join("cp/main.tf"),
        r#"
terraform {
  required_providers {
    konnect-beta = {
      source = "kong/konnect-beta"
    }
  }
}

variable "name" {
  type = string
}

resource "konnect_mesh_control_plane" "cp" {
  provider = konnect-beta
  name     = var.name
}
"#,
    )
    .unwrap();
    let r = konnect.apply(d);
    assert!(r.stdout.contains("2 added"), "{}", r.text());
    let mut names: Vec<String> = konnect
        .control_planes()
        .iter()
        .filter_map(|cp| cp["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["inherited-cp", "passed-cp"]);
    konnect.assert_no_changes(d);

    // Passing the alias with the refused token makes that module's refresh
    // fail, and only that module's.
    let main = std::fs::read_to_string(d.join("main.tf")).unwrap();
    std::fs::write(
        d.join("main.tf"),
        main.replace(
            "konnect-beta = konnect-beta\n",
            "konnect-beta = konnect-beta.refused\n",
        ),
    )
    .unwrap();
    let r = konnect.meshform(d, &["plan", "-input=false"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert_eq!(r.stderr.matches("Error:").count(), 1, "{}", r.text());
    assert!(r.stderr.contains("401"), "{}", r.text());
    assert!(r.stderr.contains("module.passed"), "{}", r.text());
}

//! The release record for the guide's install matches the one real Helm
//! wrote, in the fields that do not depend on time or on Helm's version.

use meshform_helm::release::{build_release, release_from_secret, release_secret, Status};
use meshform_helm::{render_release, Chart, ReleaseContext, RenderOptions};
use serde_json::Value;

use crate::golden::mask_random;

#[test]
fn kong_mesh_release_record_matches_helm() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let chart = Chart::load_path(&dir.join("repo/kong-mesh-2.9.3.tgz")).unwrap();
    let values = std::fs::read_to_string(dir.join("kong-mesh-zone.values.yaml")).unwrap();
    let config = meshform_helm::values::parse_values(&values, "values").unwrap();
    let options = RenderOptions {
        release: Some(ReleaseContext::install("kong-mesh", "kong-mesh-system")),
        ..Default::default()
    };
    let rendered = render_release(chart, &config, &options, false).unwrap();
    let release = build_release(
        "kong-mesh",
        "kong-mesh-system",
        1,
        &rendered,
        Status::Deployed,
        "Install complete",
        "2026-11-26T04:04:23.160412584Z",
    );
    // Through the Secret and back, as the cluster would hold it.
    let secret = release_secret(&release, 1795665868, false).unwrap();
    let ours = serde_json::to_value(release_from_secret(&secret).unwrap()).unwrap();
    let helm: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("kong-mesh-zone.release.json")).unwrap(),
    )
    .unwrap();

    for field in ["name", "namespace", "version", "config"] {
        assert_eq!(ours[field], helm[field], "release field {field}");
    }
    assert_eq!(ours["info"]["status"], helm["info"]["status"]);
    assert_eq!(ours["info"]["description"], helm["info"]["description"]);
    assert_eq!(ours["chart"]["metadata"], helm["chart"]["metadata"]);
    assert_eq!(ours["chart"]["values"], helm["chart"]["values"]);
    // Helm v4 adds `modtime` to each file; v3 (what we write) has name and data.
    let files = |v: &Value| -> Vec<(Value, Value)> {
        v["chart"]["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].clone(), f["data"].clone()))
            .collect()
    };
    assert_eq!(files(&ours), files(&helm));
    let manifest = |v: &Value| mask_random(v["manifest"].as_str().unwrap());
    assert_eq!(manifest(&ours), manifest(&helm));
    let hook_names = |v: &Value| -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = v["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["kind"].as_str().unwrap().to_string(),
                    h["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(hook_names(&ours), hook_names(&helm));

    let helm_secret =
        std::fs::read_to_string(dir.join("kong-mesh-zone.release-secret.yaml")).unwrap();
    let helm_secret = meshform_helm::yaml::parse(&helm_secret).unwrap();
    assert_eq!(
        secret["metadata"]["labels"],
        helm_secret["metadata"]["labels"]
    );
    assert_eq!(secret["type"], helm_secret["type"]);
    assert_eq!(secret["metadata"]["name"], helm_secret["metadata"]["name"]);
    // Helm's own stored record decodes with our reader.
    let decoded = release_from_secret(&helm_secret).unwrap();
    assert_eq!(decoded.name, "kong-mesh");
    assert_eq!(decoded.info.status, Status::Deployed);
}

/// Our own chart's release record against the one real Helm wrote for it:
/// hooks (events, weights, default delete policy), notes, files, schema,
/// stored values with nulls, metadata without disabled dependencies, and
/// the upgrade that follows.
#[test]
fn functions_chart_release_record_matches_helm() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/helm");
    let chart = Chart::load_path(&root.join("functions")).unwrap();
    let options = RenderOptions {
        release: Some(ReleaseContext::install("fx", "fx-ns")),
        ..Default::default()
    };
    let rendered = render_release(chart, &meshform_helm::Values::new(), &options, false).unwrap();
    let release = build_release(
        "fx",
        "fx-ns",
        1,
        &rendered,
        Status::Deployed,
        "Install complete",
        "2026-11-26T06:15:19Z",
    );
    let ours = serde_json::to_value(&release).unwrap();
    let helm: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("functions.release.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ours["info"]["notes"], helm["info"]["notes"]);
    assert_eq!(ours["chart"]["metadata"], helm["chart"]["metadata"]);
    assert_eq!(ours["chart"]["values"], helm["chart"]["values"]);
    assert_eq!(ours["chart"]["schema"], helm["chart"]["schema"]);
    let files = |v: &Value, key: &str| -> Vec<(Value, Value)> {
        v["chart"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].clone(), f["data"].clone()))
            .collect()
    };
    assert_eq!(files(&ours, "files"), files(&helm, "files"));
    assert_eq!(files(&ours, "templates"), files(&helm, "templates"));
    let hooks = |v: &Value| -> Vec<Value> {
        v["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                serde_json::json!([
                    h["name"],
                    h["kind"],
                    h["path"],
                    h["events"],
                    h["weight"],
                    h["delete_policies"],
                    mask_random(h["manifest"].as_str().unwrap())
                ])
            })
            .collect()
    };
    assert_eq!(hooks(&ours), hooks(&helm));
    assert_eq!(
        mask_random(ours["manifest"].as_str().unwrap()),
        mask_random(helm["manifest"].as_str().unwrap())
    );

    let upgraded = meshform_helm::release::build_upgrade(
        &release,
        &rendered,
        Status::Deployed,
        "Upgrade complete",
        "2026-11-27T00:00:00Z",
    );
    assert_eq!(upgraded.version, 2);
    assert_eq!(upgraded.info.first_deployed, "2026-11-26T06:15:19Z");
    assert_eq!(upgraded.info.last_deployed, "2026-11-27T00:00:00Z");
    let plan = meshform_helm::release::install_plan(&rendered, "fx", "fx-ns", true).unwrap();
    assert!(plan.crds.is_empty(), "CRDs are not applied on upgrade");
    assert_eq!(plan.post_hooks.len(), 1);
    assert!(plan.pre_hooks.is_empty());
    let plan = meshform_helm::release::install_plan(&rendered, "fx", "fx-ns", false).unwrap();
    assert_eq!(plan.crds.len(), 1);
    assert_eq!(plan.pre_hooks[0].0.name, "fx-pre");
    let kinds: Vec<&str> = plan
        .objects
        .iter()
        .map(|o| o.object["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"Secret"));
    assert_eq!(kinds.last(), Some(&"Deployment"));
    assert!(plan
        .objects
        .iter()
        .all(|o| meshform_helm::release::owned_by(&o.object, "fx", "fx-ns")));
}

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

//! Rendering the fixture charts equals real Helm's output, byte for byte,
//! once generated certificates are masked the way the goldens are.

use std::path::Path;

use meshform_helm::{render_release, Chart, ReleaseContext, RenderOptions, Values};

/// Blanks generated certificates, as the fixtures' oracle does.
pub fn mask_random(text: &str) -> String {
    meshform_helm::manifest::mask_generated_secrets(text)
}

fn render(chart: &Path, values: Option<&Path>, name: &str, namespace: &str) -> String {
    let chart = Chart::load_path(chart).unwrap();
    let config: Values = match values {
        Some(p) => {
            meshform_helm::values::parse_values(&std::fs::read_to_string(p).unwrap(), "values")
                .unwrap()
        }
        None => Values::new(),
    };
    let options = RenderOptions {
        release: Some(ReleaseContext::install(name, namespace)),
        ..Default::default()
    };
    let rendered = render_release(chart, &config, &options, false).unwrap();
    mask_random(&rendered.template_output(false))
}

fn compare(golden: &Path, actual: &str) {
    let expected = std::fs::read_to_string(golden).unwrap();
    if expected != actual {
        let out = std::env::temp_dir().join(format!(
            "meshform-{}",
            golden.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&out, actual).unwrap();
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from our output (written to {}), first at line {}:\nexpected: {:?}\nactual:   {:?}",
            golden.display(),
            out.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[test]
fn kong_mesh_zone_matches_helm() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let actual = render(
        &dir.join("repo/kong-mesh-2.9.3.tgz"),
        Some(&dir.join("kong-mesh-zone.values.yaml")),
        "kong-mesh",
        "kong-mesh-system",
    );
    compare(&dir.join("kong-mesh-zone.rendered.yaml"), &actual);
}

#[test]
fn kuma_defaults_match_helm() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let actual = render(
        &dir.join("repo/kuma-2.9.3.tgz"),
        None,
        "kuma",
        "kuma-system",
    );
    compare(&dir.join("kuma-2.9.3-defaults.rendered.yaml"), &actual);
}

//! Our own chart in `testdata/helm/functions` uses every supported template
//! function; its expected output was made by real Helm (v4.3.0, through the
//! fixtures' oracle, generated certificates masked). Needs nothing from
//! `../shared`.

use meshform_helm::manifest::mask_generated_secrets;
use meshform_helm::{render_release, Chart, ReleaseContext, RenderOptions, Values};

/// `testdata/` of this workspace (found from this crate, which sits two
/// levels below the workspace root).
fn testdata(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

fn render_functions_chart() -> meshform_helm::Rendered {
    let chart = Chart::load_path(&testdata("helm/functions")).unwrap();
    let options = RenderOptions {
        release: Some(ReleaseContext::install("fx", "fx-ns")),
        ..Default::default()
    };
    render_release(chart, &Values::new(), &options, false).unwrap()
}

#[test]
fn functions_chart_matches_helm() {
    let rendered = render_functions_chart();
    let actual = mask_generated_secrets(&rendered.template_output(true));
    let golden = testdata("helm/functions.rendered.yaml");
    let expected = std::fs::read_to_string(&golden).unwrap();
    if actual != expected {
        let out = std::env::temp_dir().join("meshform-functions.rendered.yaml");
        std::fs::write(&out, &actual).unwrap();
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} differs (ours in {}), first at line {}:\nexpected: {:?}\nactual:   {:?}",
            golden.display(),
            out.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

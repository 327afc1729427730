//! Every state file Terraform wrote in `shared/conformance` survives
//! `import-tfstate` followed by `pull` byte for byte: resources, instances,
//! attributes (numbers with every digit), sensitive paths, dependencies,
//! private data and outputs.

use std::path::{Path, PathBuf};

use meshform_state::tfstate;

use crate::common::TempState;

fn state_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in ["plans", "guide-plans"] {
        let Ok(scenarios) = std::fs::read_dir(dir.join(group)) else {
            continue;
        };
        for scenario in scenarios.flatten() {
            let Ok(files) = std::fs::read_dir(scenario.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if name.ends_with(".tfstate.json") {
                    out.push(file.path());
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn import_then_pull_gives_back_every_conformance_state() {
    let Some(dir) = meshform_testkit::shared_path("conformance") else {
        return;
    };
    let files = state_files(&dir);
    assert!(
        files.len() >= 50,
        "expected the conformance state files, found {}",
        files.len()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let t = TempState::new();
        let mut store = t.open("state import-tfstate");
        let parsed =
            tfstate::parse_tfstate(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        store.adopt(&parsed, false).unwrap();
        drop(store);
        let store = t.open("state pull");
        let pulled = tfstate::to_tfstate_json(&store.snapshot().unwrap());
        if pulled != text {
            let first_diff = pulled
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{}: pull differs from the imported file at line {}:\n```\n{}\n```\nexpected\n```\n{}\n```",
                file.display(),
                first_diff + 1,
                pulled.lines().skip(first_diff).take(5).collect::<Vec<_>>().join("\n"),
                text.lines().skip(first_diff).take(5).collect::<Vec<_>>().join("\n"),
            );
        }
    }
}

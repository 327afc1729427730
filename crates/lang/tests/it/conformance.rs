//! The expression vectors made by real Terraform 1.11.4: the reference set
//! in `shared/conformance/tf1.11/expressions.jsonl`, and our held-out set
//! in `testdata/lang/expressions-tf1.11/` (made by the same binary, see its
//! README). Every vector passes except the ones listed with their reason.

use std::collections::BTreeMap;

#[path = "../../examples/conformance/runner.rs"]
mod runner;

/// Vectors of the reference set known to fail, with why.
const KNOWN_FAILURES: &[(&str, &str)] = &[(
    "access-016",
    "`{ a = 1, a = 2 }`: hcl-edit rejects a duplicated object key at parse time",
)];

fn run(path: &std::path::Path) -> Vec<runner::Outcome> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    runner::run_all(&text)
}

/// Fails listing every vector that fails and is not a known failure.
fn assert_only_known_failures(outcomes: &[runner::Outcome], what: &str) {
    let known: BTreeMap<&str, &str> = KNOWN_FAILURES.iter().copied().collect();
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed && !known.contains_key(o.id.as_str()))
        .map(|o| {
            format!(
                "{}: {}\n  expected: {}\n  got:      {}",
                o.id, o.expr, o.expected, o.got
            )
        })
        .collect();
    let passed = outcomes.iter().filter(|o| o.passed).count();
    println!("{what}: {passed} of {} vectors pass", outcomes.len());
    assert!(
        unexpected.is_empty(),
        "{what}: {passed} of {} vectors pass; unexpected failures:\n{}",
        outcomes.len(),
        unexpected.join("\n")
    );
}

#[test]
fn tf1_11_vectors_pass() {
    let Some(path) = meshform_testkit::shared_path("conformance/tf1.11/expressions.jsonl") else {
        return;
    };
    let outcomes = run(&path);
    assert!(
        outcomes.len() >= 1169,
        "the reference set has 1,169 vectors"
    );
    assert_only_known_failures(&outcomes, "tf1.11/expressions.jsonl");
    // The acceptance level of the reference set.
    let passed = outcomes.iter().filter(|o| o.passed).count();
    assert!(passed * 1000 >= outcomes.len() * 995, "below 99.5%");
}

#[test]
fn held_out_tf1_11_vectors_pass() {
    let path =
        meshform_testkit::workspace_root().join("testdata/lang/expressions-tf1.11/held-out.jsonl");
    let outcomes = run(&path);
    assert!(!outcomes.is_empty(), "the held-out set is not empty");
    assert_only_known_failures(&outcomes, "held-out.jsonl");
}

/// The cases of the Terraform 1.0.3 set whose outcome 1.11.4 kept: they
/// still pass as 1.0.3 recorded them (those whose recorded outcome changed
/// are checked only against 1.11.4).
#[test]
fn tf1_0_vectors_whose_outcome_1_11_kept_pass() {
    let (Some(old), Some(new)) = (
        meshform_testkit::shared_path("conformance/expressions.jsonl"),
        meshform_testkit::shared_path("conformance/tf1.11/expressions.jsonl"),
    ) else {
        return;
    };
    let outcome_of = |line: &str| -> Option<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let key = ["result", "type", "error", "sensitive", "unknown"]
            .map(|k| v[k].to_string())
            .join("|");
        Some((v["id"].as_str()?.to_owned(), key))
    };
    let new_text = std::fs::read_to_string(new).expect("readable");
    let new_outcomes: BTreeMap<String, String> = new_text.lines().filter_map(outcome_of).collect();
    let old_text = std::fs::read_to_string(old).expect("readable");
    let same: Vec<&str> = old_text
        .lines()
        .filter(|l| outcome_of(l).is_some_and(|(id, key)| new_outcomes.get(&id) == Some(&key)))
        .collect();
    assert!(
        same.len() >= 740,
        "most 1.0.3 outcomes are unchanged in 1.11.4"
    );
    let outcomes = runner::run_all(&same.join("\n"));
    assert_only_known_failures(&outcomes, "1.0.3 vectors with unchanged outcomes");
}

#[test]
fn the_guide_values_template_renders_byte_for_byte() {
    let Some(path) = meshform_testkit::shared_path("conformance/tf1.11/expressions.jsonl") else {
        return;
    };
    let outcomes = run(&path);
    let o = outcomes
        .iter()
        .find(|o| o.id == "templatefile-values-tftpl")
        .expect("the vector templatefile-values-tftpl exists");
    assert!(o.passed, "expected {}\ngot {}", o.expected, o.got);
}

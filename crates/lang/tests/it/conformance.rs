//! The conformance vectors made by real Terraform: the pass rate must not
//! fall below the level reached.

#[path = "../../examples/conformance/runner.rs"]
mod runner;

/// The lowest number of passing vectors of `expressions.jsonl` accepted.
const MIN_PASSED: usize = 751;

#[test]
fn conformance_pass_rate_does_not_regress() {
    let Some(path) = meshform_testkit::shared_path("conformance/expressions.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("the conformance file is readable");
    let outcomes = runner::run_all(&text);
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| {
            format!(
                "{}: {}\n  expected: {}\n  got:      {}",
                o.id, o.expr, o.expected, o.got
            )
        })
        .collect();
    let passed = outcomes.len() - failures.len();
    assert!(
        passed >= MIN_PASSED,
        "only {passed} of {} vectors pass (at least {MIN_PASSED} expected); failures:\n{}",
        outcomes.len(),
        failures.join("\n")
    );
}

//! The conformance vectors made by real Terraform: the pass rate must not
//! fall below the level reached.

#[path = "../../examples/conformance/runner.rs"]
mod runner;

/// The lowest number of passing vectors of `expressions.jsonl` accepted.
const MIN_PASSED: usize = 751;

fn outcomes() -> Option<Vec<runner::Outcome>> {
    let path = meshform_testkit::shared_path("conformance/expressions.jsonl")?;
    let text = std::fs::read_to_string(&path).expect("the conformance file is readable");
    Some(runner::run_all(&text))
}

#[test]
fn conformance_pass_rate_does_not_regress() {
    let Some(outcomes) = outcomes() else {
        return;
    };
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

#[test]
fn the_guide_values_template_renders_byte_for_byte() {
    let Some(outcomes) = outcomes() else {
        return;
    };
    let o = outcomes
        .iter()
        .find(|o| o.id == "templatefile-values-tftpl")
        .expect("the vector templatefile-values-tftpl exists");
    assert!(o.passed, "expected {}\ngot {}", o.expected, o.got);
}

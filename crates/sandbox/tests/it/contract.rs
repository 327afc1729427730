//! Contract checks: every recorded Konnect exchange must match the official
//! OpenAPI documents in `../shared` (see `meshform_sandbox::contract`).

use std::sync::OnceLock;

use meshform_sandbox::contract::Contract;
use meshform_sandbox::Exchange;

fn contract() -> Option<&'static Contract> {
    static CONTRACT: OnceLock<Option<Contract>> = OnceLock::new();
    CONTRACT
        .get_or_init(|| {
            let dir = meshform_testkit::shared_path("reference/konnect/official")?;
            Some(Contract::load(&dir).expect("the official specs load"))
        })
        .as_ref()
}

/// Fails with every exchange that breaks the contract; skips (already
/// printed by testkit) when `../shared` is absent.
pub fn check_exchanges(exchanges: &[Exchange]) {
    let Some(contract) = contract() else { return };
    let failures = contract.violations(exchanges);
    assert!(
        failures.is_empty(),
        "contract violations:\n{}",
        failures.join("\n")
    );
}

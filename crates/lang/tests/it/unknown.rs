//! Unknown values ("known after apply") propagate through every operation.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::TimeZone;
use meshform_lang::{EvalContext, FixedClock, Phase, Type, Value};

use crate::support::eval_src;

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A context where `konnect_mesh_control_plane.x.id` is not known yet.
fn planning() -> EvalContext {
    let cp = obj(vec![(
        "x",
        obj(vec![
            ("id", Value::unknown(Type::String)),
            ("name", Value::string("cp")),
        ]),
    )]);
    EvalContext::new()
        .with_name("konnect_mesh_control_plane", cp)
        .with_name(
            "var",
            obj(vec![("items", Value::unknown(Type::list(Type::String)))]),
        )
        .with_phase(Phase::Plan)
}

fn check(src: &str, want: Value) {
    let got = eval_src(src, planning()).unwrap_or_else(|e| panic!("{src}: {e}"));
    assert_eq!(got, want, "{src}");
}

#[test]
fn a_template_with_an_unknown_part_is_an_unknown_string() {
    check(
        r#""${konnect_mesh_control_plane.x.id}-a""#,
        Value::unknown(Type::String),
    );
    check(
        r#""${konnect_mesh_control_plane.x.name}-a""#,
        Value::string("cp-a"),
    );
}

#[test]
fn unknowns_flow_through_operators_and_functions() {
    check(
        "upper(konnect_mesh_control_plane.x.id)",
        Value::unknown(Type::String),
    );
    check(
        "konnect_mesh_control_plane.x.id == \"a\"",
        Value::unknown(Type::Bool),
    );
    check("length(var.items) + 1", Value::unknown(Type::Number));
    check(
        "konnect_mesh_control_plane.x.id != \"\" ? 1 : 2",
        Value::unknown(Type::Number),
    );
    check(
        "[for s in var.items : upper(s)]",
        Value::unknown(Type::Dynamic),
    );
    check(
        "jsonencode({ id = konnect_mesh_control_plane.x.id })",
        Value::unknown(Type::String),
    );
}

#[test]
fn known_parts_of_a_collection_stay_known() {
    let got = eval_src(
        "[konnect_mesh_control_plane.x.id, konnect_mesh_control_plane.x.name]",
        planning(),
    )
    .unwrap();
    assert!(got.is_known());
    assert!(!got.is_wholly_known());
    assert_eq!(got.as_elements().unwrap()[1], Value::string("cp"));
}

#[test]
fn timestamp_is_unknown_during_plan_and_read_from_the_clock_at_apply() {
    check("timestamp()", Value::unknown(Type::String));
    let at = chrono::Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    let ctx = EvalContext::new().with_clock(Arc::new(FixedClock(at)));
    assert_eq!(
        eval_src("timestamp()", ctx).unwrap(),
        Value::string("2024-05-06T07:08:09Z")
    );
}

#[test]
fn can_of_an_unknown_value_is_unknown() {
    check(
        "can(konnect_mesh_control_plane.x.id)",
        Value::unknown(Type::Bool),
    );
}

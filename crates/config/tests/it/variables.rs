//! Variable values: each source, and Terraform's precedence between them.

use meshform_config::variables::{
    collect_values, missing_required, CliVariable, RawValue, ValueSource,
};
use meshform_config::Module;

use crate::support::Dir;

const DECLS: &str = r#"
variable "a" {
  type    = string
  default = "from-default"
}
variable "b" {
  type = list(string)
}
variable "c" {}
variable "required" {}
"#;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The source and a printable form of the value chosen for `name`.
fn chosen(
    module: &Module,
    env_vars: &[(String, String)],
    cli: &[CliVariable],
    name: &str,
) -> (ValueSource, String) {
    let (values, diags) = collect_values(module, env_vars, cli);
    assert!(!diags.has_errors(), "{:#?}", diags.0);
    let v = values
        .get(name)
        .unwrap_or_else(|| panic!("no value for {name}"));
    let text = match &v.raw {
        RawValue::String(s) => s.clone(),
        RawValue::Expr(e) => {
            let r = e.range();
            e.file.text[r.start.byte..r.end.byte].trim().to_owned()
        }
    };
    (v.source.clone(), text)
}

#[test]
fn default_is_the_lowest_precedence() {
    let dir = Dir::new(&[("main.tf", DECLS)]);
    let (m, _) = dir.load();
    assert_eq!(
        chosen(&m, &[], &[], "a"),
        (ValueSource::Default, "\"from-default\"".into())
    );
}

#[test]
fn environment_overrides_default_and_primitive_types_stay_literal() {
    let dir = Dir::new(&[("main.tf", DECLS)]);
    let (m, _) = dir.load();
    let e = env(&[("TF_VAR_a", "from-env"), ("TF_VAR_undeclared", "ignored")]);
    assert_eq!(
        chosen(&m, &e, &[], "a"),
        (
            ValueSource::Environment("TF_VAR_a".into()),
            "from-env".into()
        )
    );
}

#[test]
fn environment_values_of_complex_types_parse_as_hcl() {
    let dir = Dir::new(&[("main.tf", DECLS)]);
    let (m, _) = dir.load();
    let (values, _) = collect_values(&m, &env(&[("TF_VAR_b", "[\"x\", \"y\"]")]), &[]);
    assert!(matches!(values["b"].raw, RawValue::Expr(_)));
    // No type constraint: literal, as Terraform does.
    let (values, _) = collect_values(&m, &env(&[("TF_VAR_c", "[1]")]), &[]);
    assert!(matches!(&values["c"].raw, RawValue::String(s) if s == "[1]"));
}

#[test]
fn tfvars_files_in_order() {
    let dir = Dir::new(&[
        ("main.tf", DECLS),
        ("terraform.tfvars", "a = \"tfvars\"\nc = \"tfvars\"\n"),
        ("terraform.tfvars.json", "{\"a\": \"tfvars-json\"}"),
        ("b.auto.tfvars", "a = \"auto-b\"\n"),
        (
            "a.auto.tfvars.json",
            "{\"a\": \"auto-a\", \"c\": \"auto-a\"}",
        ),
    ]);
    let (m, _) = dir.load();
    let e = env(&[("TF_VAR_a", "from-env")]);
    // b.auto.tfvars sorts after a.auto.tfvars.json, so it wins for a.
    assert_eq!(
        chosen(&m, &e, &[], "a"),
        (
            ValueSource::File("b.auto.tfvars".into()),
            "\"auto-b\"".into()
        )
    );
    assert_eq!(
        chosen(&m, &e, &[], "c"),
        (
            ValueSource::File("a.auto.tfvars.json".into()),
            "\"auto-a\"".into()
        )
    );
}

#[test]
fn terraform_tfvars_json_beats_terraform_tfvars() {
    let dir = Dir::new(&[
        ("main.tf", DECLS),
        ("terraform.tfvars", "a = \"tfvars\"\n"),
        ("terraform.tfvars.json", "{\"a\": \"tfvars-json\"}"),
    ]);
    let (m, _) = dir.load();
    assert_eq!(
        chosen(&m, &[], &[], "a"),
        (
            ValueSource::File("terraform.tfvars.json".into()),
            "\"tfvars-json\"".into()
        )
    );
}

#[test]
fn command_line_in_order_beats_everything() {
    let dir = Dir::new(&[
        ("main.tf", DECLS),
        ("terraform.tfvars", "a = \"tfvars\"\n"),
        ("extra.tfvars", "a = \"var-file\"\n"),
    ]);
    let (m, _) = dir.load();
    let var_file = CliVariable::VarFile(dir.path().join("extra.tfvars"));
    let var = CliVariable::Var("a=cli".into());
    assert_eq!(
        chosen(&m, &[], &[var.clone(), var_file.clone()], "a"),
        (
            ValueSource::File("extra.tfvars".into()),
            "\"var-file\"".into()
        )
    );
    assert_eq!(
        chosen(&m, &[], &[var_file, var], "a"),
        (ValueSource::CommandLine, "cli".into())
    );
}

#[test]
fn undeclared_command_line_variable_is_an_error_and_file_ones_warn() {
    let dir = Dir::new(&[("main.tf", DECLS), ("terraform.tfvars", "nope = 1\n")]);
    let (m, _) = dir.load();
    let (_, diags) = collect_values(&m, &[], &[CliVariable::Var("zz=1".into())]);
    assert!(diags
        .iter()
        .any(|d| d.is_error() && d.summary.contains("undeclared variable")));
    let warning = diags
        .iter()
        .find(|d| !d.is_error())
        .expect("a warning for the file");
    let s = warning.subject.as_ref().unwrap();
    assert_eq!((&*s.file, s.start.line), ("terraform.tfvars", 1));
}

#[test]
fn malformed_var_option() {
    let dir = Dir::new(&[("main.tf", DECLS)]);
    let (m, _) = dir.load();
    let (_, diags) = collect_values(&m, &[], &[CliVariable::Var("novalue".into())]);
    assert!(diags.iter().any(|d| d.summary == "Invalid -var option"));
}

#[test]
fn required_variables_without_values_are_reported() {
    let dir = Dir::new(&[("main.tf", DECLS)]);
    let (m, _) = dir.load();
    let (values, _) = collect_values(&m, &env(&[("TF_VAR_b", "[]")]), &[]);
    let missing: Vec<&str> = missing_required(&m, &values)
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(missing, ["c", "required"]);
    let d = meshform_config::variables::no_value_error(m.variables.get("required").unwrap());
    assert_eq!(d.summary, "No value for required variable");
    assert_eq!(d.subject.unwrap().start.line, 10);
}

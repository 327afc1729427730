//! The dependency graph: references, undeclared objects and cycles.

use meshform_config::load_module;
use meshform_engine::{graph, validate::validate};

fn module(main_tf: &str) -> (tempfile::TempDir, meshform_config::Module) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), main_tf).unwrap();
    let (m, diags) = load_module(dir.path());
    assert!(!diags.has_errors(), "{:#?}", diags.0);
    (dir, m)
}

fn summaries(main_tf: &str) -> Vec<(String, usize)> {
    let (_dir, m) = module(main_tf);
    validate(&m, None)
        .iter()
        .map(|d| {
            (
                d.summary.clone(),
                d.subject.as_ref().map_or(0, |s| s.start.line),
            )
        })
        .collect()
}

#[test]
fn dependencies_come_first() {
    let (_dir, m) = module(
        r#"
variable "v" {}
locals {
  a = var.v
  b = "${local.a}-${konnect_mesh.m.id}"
}
resource "konnect_mesh" "m" {
  name = local.a
}
output "o" {
  value = local.b
}
"#,
    );
    let (g, diags) = graph::build(&m);
    assert!(diags.is_empty(), "{:#?}", diags.0);
    let order: Vec<String> = g
        .order()
        .unwrap()
        .iter()
        .map(|i| g.graph[*i].to_string())
        .collect();
    let pos = |n: &str| {
        order
            .iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("{n} in {order:?}"))
    };
    assert!(pos("var.v") < pos("local.a"));
    assert!(pos("local.a") < pos("konnect_mesh.m"));
    assert!(pos("konnect_mesh.m") < pos("local.b"));
    assert!(pos("local.b") < pos("output.o"));
}

#[test]
fn a_cycle_names_every_member() {
    let got = summaries("locals {\n  a = local.b\n  b = local.c\n  c = local.a\n}\n");
    assert_eq!(got, [("Cycle: local.a, local.b, local.c".to_owned(), 0)]);
    let got = summaries("resource \"x_y\" \"z\" {\n  n = x_y.z.id\n}\n");
    assert_eq!(got[0].0, "Cycle: x_y.z");
}

#[test]
fn undeclared_references_are_positioned() {
    let got = summaries(
        "variable \"region\" {}\nlocals {\n  a = var.regoin\n  b = local.nope\n  c = data.x_y.z\n  d = module.m.out\n  e = x_y.z.id\n}\n",
    );
    assert_eq!(
        got,
        [
            ("Reference to undeclared input variable".to_owned(), 3),
            ("Reference to undeclared local value".to_owned(), 4),
            ("Reference to undeclared resource".to_owned(), 5),
            ("Reference to undeclared module".to_owned(), 6),
            ("Reference to undeclared resource".to_owned(), 7),
        ]
    );
    let (_dir, m) = module("variable \"region\" {}\noutput \"o\" {\n  value = var.regoin\n}\n");
    let d = validate(&m, None).0.remove(0);
    assert_eq!(d.suggestion.as_deref(), Some("Did you mean var.region?"));
    assert_eq!(d.context.as_deref(), Some("output \"o\""));
}

#[test]
fn module_outputs_and_inputs_link_across_modules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("child")).unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "locals {\n  x = 1\n}\nmodule \"c\" {\n  source = \"./child\"\n  n = local.x\n}\noutput \"o\" {\n  value = module.c.y\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("child/main.tf"),
        "variable \"n\" {}\noutput \"y\" {\n  value = var.n\n}\n",
    )
    .unwrap();
    let (m, diags) = load_module(dir.path());
    assert!(diags.is_empty(), "{:#?}", diags.0);
    let (g, diags) = graph::build(&m);
    assert!(diags.is_empty(), "{:#?}", diags.0);
    let order: Vec<String> = g
        .order()
        .unwrap()
        .iter()
        .map(|i| g.graph[*i].to_string())
        .collect();
    let pos = |n: &str| order.iter().position(|x| x == n).unwrap();
    assert!(pos("local.x") < pos("module.c.var.n"));
    assert!(pos("module.c.var.n") < pos("module.c.output.y"));
    assert!(pos("module.c.output.y") < pos("output.o"));
}

#[test]
fn variable_defaults_must_fit_their_type() {
    let got = summaries("variable \"v\" {\n  type    = number\n  default = \"abc\"\n}\n");
    assert_eq!(got, [("Invalid default value for variable".to_owned(), 3)]);
    let got = summaries("variable \"v\" {\n  type = lisst(string)\n}\n");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, 2);
}

#[test]
fn the_guide_validates_and_the_broken_guide_does_not() {
    let (m, diags) = load_module(&meshform_testkit::testdata("guide"));
    assert!(diags.is_empty());
    assert!(validate(&m, None).is_empty(), "{:#?}", validate(&m, None).0);
    let (m, _) = load_module(&meshform_testkit::testdata("guide-broken"));
    let diags = validate(&m, None);
    assert_eq!(diags.0.len(), 1, "{:#?}", diags.0);
    let d = &diags.0[0];
    assert_eq!(d.summary, "Reference to undeclared resource");
    assert_eq!(
        d.detail,
        "A managed resource \"time_rotating\" \"rotate\" has not been declared in the root module."
    );
    assert_eq!(d.subject.as_ref().unwrap().start.line, 124);
    assert_eq!(
        d.context.as_deref(),
        Some("resource \"konnect_system_account_access_token\" \"zone_system_account_token\"")
    );
}

//! Malformed input: every case gives a positioned error and none panics.

use crate::support::{load, Dir};

/// Loads `src` as `main.tf` and checks for an error whose summary contains
/// `summary`, positioned in main.tf at `line`.
fn check(src: &str, summary: &str, line: usize) {
    let (_, diags) = load(src);
    let found = diags
        .iter()
        .find(|d| d.is_error() && d.summary.contains(summary));
    let Some(d) = found else {
        panic!(
            "no error containing {summary:?} for:\n{src}\ngot: {:#?}",
            diags.0
        );
    };
    let subject = d
        .subject
        .as_ref()
        .unwrap_or_else(|| panic!("{summary}: no position"));
    assert!(
        subject.file.ends_with("main.tf"),
        "{summary}: file {}",
        subject.file
    );
    assert_eq!(subject.start.line, line, "{summary}: line of {d:#?}");
    assert!(subject.start.column >= 1);
}

#[test]
fn unclosed_brace() {
    check(
        "resource \"a_b\" \"c\" {\n  x = 1\n",
        "Unclosed configuration block",
        1,
    );
}

#[test]
fn unterminated_string() {
    check("variable \"x\" {\n  default = \"abc\n}\n", "string", 2);
}

#[test]
fn invalid_character_in_expression() {
    check("locals {\n  a = @\n}\n", "Invalid configuration syntax", 2);
}

#[test]
fn duplicate_resource() {
    check(
        "resource \"a_b\" \"c\" {}\n\nresource \"a_b\" \"c\" {}\n",
        "Duplicate resource \"a_b\" configuration",
        3,
    );
}

#[test]
fn duplicate_data_source() {
    check(
        "data \"a_b\" \"c\" {}\ndata \"a_b\" \"c\" {}\n",
        "Duplicate data \"a_b\" configuration",
        2,
    );
}

#[test]
fn unknown_block_type_suggests_the_right_one() {
    let (_, diags) = load("resourc \"a_b\" \"c\" {}\n");
    let d = diags
        .iter()
        .find(|d| d.summary == "Unsupported block type")
        .expect("an error");
    assert_eq!(d.subject.as_ref().unwrap().start.line, 1);
    assert!(
        d.detail.contains("Did you mean \"resource\"?"),
        "{}",
        d.detail
    );
}

#[test]
fn invalid_resource_name() {
    check("resource \"a_b\" \"1c\" {}\n", "Invalid resource name", 1);
}

#[test]
fn missing_resource_name() {
    check("\nresource \"a_b\" {}\n", "Missing name for resource", 2);
}

#[test]
fn extraneous_variable_label() {
    check(
        "variable \"x\" \"y\" {}\n",
        "Extraneous label for variable",
        1,
    );
}

#[test]
fn duplicate_variable() {
    check(
        "variable \"x\" {}\nvariable \"x\" {}\n",
        "Duplicate variable declaration",
        2,
    );
}

#[test]
fn duplicate_output() {
    check(
        "output \"o\" {\n  value = 1\n}\noutput \"o\" {\n  value = 2\n}\n",
        "Duplicate output definition",
        4,
    );
}

#[test]
fn duplicate_local_across_blocks() {
    check(
        "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n",
        "Duplicate local value definition",
        5,
    );
}

#[test]
fn duplicate_provider_configuration() {
    check(
        "provider \"time\" {}\n\nprovider \"time\" {}\n",
        "Duplicate provider configuration",
        3,
    );
}

#[test]
fn top_level_argument() {
    check("x = 1\n", "Unsupported argument", 1);
}

#[test]
fn argument_set_twice() {
    check(
        "resource \"a_b\" \"c\" {\n  x = 1\n  x = 2\n}\n",
        "Attribute redefined",
        3,
    );
}

#[test]
fn count_and_for_each_together() {
    check(
        "resource \"a_b\" \"c\" {\n  count = 1\n  for_each = {}\n}\n",
        "Invalid combination of \"count\" and \"for_each\"",
        3,
    );
}

#[test]
fn depends_on_not_a_list() {
    check(
        "resource \"a_b\" \"c\" {\n  depends_on = a_b.d\n}\n",
        "Invalid depends_on",
        2,
    );
}

#[test]
fn depends_on_with_a_function_call() {
    check(
        "resource \"a_b\" \"c\" {\n  depends_on = [\n    upper(\"x\"),\n  ]\n}\n",
        "Invalid expression",
        3,
    );
}

#[test]
fn output_without_value() {
    check(
        "output \"o\" {\n  description = \"d\"\n}\n",
        "Missing required argument",
        1,
    );
}

#[test]
fn module_without_source() {
    check("module \"m\" {\n}\n", "Missing required argument", 1);
}

#[test]
fn module_with_registry_source() {
    check(
        "module \"m\" {\n  source = \"hashicorp/consul/aws\"\n}\n",
        "Unsupported module source",
        2,
    );
}

#[test]
fn module_directory_missing() {
    check(
        "module \"m\" {\n  source = \"./nowhere\"\n}\n",
        "Unreadable module directory",
        2,
    );
}

#[test]
fn misspelt_variable_argument_suggests() {
    let (_, diags) = load("variable \"x\" {\n  defualt = 1\n}\n");
    let d = diags
        .iter()
        .find(|d| d.summary == "Unsupported argument")
        .expect("an error");
    assert_eq!(d.subject.as_ref().unwrap().start.line, 2);
    assert!(
        d.detail.contains("Did you mean \"default\"?"),
        "{}",
        d.detail
    );
    assert_eq!(d.context.as_deref(), Some("variable \"x\""));
}

#[test]
fn unknown_block_in_variable() {
    check(
        "variable \"x\" {\n  check {\n  }\n}\n",
        "Unsupported block type",
        2,
    );
}

#[test]
fn reserved_variable_name() {
    check("variable \"count\" {}\n", "Invalid variable name", 1);
}

#[test]
fn quoted_provider_reference() {
    check(
        "resource \"a_b\" \"c\" {\n  provider = \"a\"\n}\n",
        "Invalid provider reference",
        2,
    );
}

#[test]
fn non_literal_bool() {
    check(
        "variable \"x\" {\n  sensitive = \"yes\"\n}\n",
        "Unsuitable value type",
        2,
    );
}

#[test]
fn invalid_required_providers_entry() {
    check(
        "terraform {\n  required_providers {\n    time = {\n      sourc = \"hashicorp/time\"\n    }\n  }\n}\n",
        "Invalid required_providers object",
        4,
    );
}

#[test]
fn moved_without_to() {
    check(
        "moved {\n  from = a_b.c\n}\n",
        "Missing required argument",
        1,
    );
}

#[test]
fn unknown_lifecycle_argument() {
    check(
        "resource \"a_b\" \"c\" {\n  lifecycle {\n    prevent_destroi = true\n  }\n}\n",
        "Unsupported argument",
        3,
    );
}

#[test]
fn validation_without_error_message() {
    check(
        "variable \"x\" {\n  validation {\n    condition = true\n  }\n}\n",
        "Missing required argument",
        2,
    );
}

#[test]
fn override_of_missing_resource() {
    let dir = Dir::new(&[
        ("main.tf", "resource \"a_b\" \"c\" {}\n"),
        ("x_override.tf", "resource \"a_b\" \"d\" {}\n"),
    ]);
    let (_, diags) = dir.load();
    let d = diags
        .iter()
        .find(|d| d.summary == "Missing base resource to override")
        .expect("an error");
    let s = d.subject.as_ref().unwrap();
    assert_eq!((&*s.file, s.start.line), ("x_override.tf", 1));
}

#[test]
fn invalid_json_configuration() {
    let dir = Dir::new(&[("main.tf.json", "{\n  \"resource\": {\n}\n")]);
    let (_, diags) = dir.load();
    let d = diags
        .iter()
        .find(|d| d.summary == "Invalid JSON syntax")
        .expect("an error");
    assert_eq!(d.subject.as_ref().unwrap().start.line, 4);
}

#[test]
fn garbage_never_panics() {
    // Fragments of valid syntax cut at every position: all must load
    // without panicking, and the broken ones must say where.
    let src = "resource \"a_b\" \"c\" {\n  x = [1, {a = \"${var.v}\"}]\n  lifecycle {\n    ignore_changes = [x]\n  }\n}\n";
    for cut in 0..src.len() {
        if !src.is_char_boundary(cut) {
            continue;
        }
        let (_, diags) = load(&src[..cut]);
        for d in diags.iter().filter(|d| d.is_error()) {
            assert!(d.subject.is_some(), "cut at {cut}: {d:?}");
        }
    }
}

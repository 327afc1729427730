//! The human plan against Terraform 1.0.3's own output: every step of every
//! scenario in `conformance/plans` and `conformance/guide-plans` is read
//! from its `stepN.plan.json`, rendered, and compared with `stepN.plan.txt`
//! (and, with colour, `stepN.plan.ansi.txt`) from the first line of the plan
//! up to the last rule. Then the plan is written back as JSON and its
//! `resource_changes` / `output_changes` compared with the golden JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use meshform_engine::plan::Plan;
use meshform_engine::plan_json::{plan_from_json, plan_to_json};
use meshform_engine::render::{render_plan, Footer, Product, RenderOptions};
use meshform_lang::schema::Schemas;
use meshform_lang::{Data, Number, Type, Value};

/// One golden step.
struct Step {
    scenario: String,
    n: u32,
    dir: PathBuf,
}

impl Step {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("step{}.{suffix}", self.n))
    }

    fn name(&self) -> String {
        format!("{}/step{}", self.scenario, self.n)
    }
}

fn steps(root: &Path) -> Vec<Step> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("scenario root is readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let scenario = dir.file_name().unwrap().to_string_lossy().into_owned();
        for n in 1..20 {
            let step = Step {
                scenario: scenario.clone(),
                n,
                dir: dir.clone(),
            };
            if step.file("plan.json").exists() && step.file("plan.txt").exists() {
                out.push(step);
            }
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schemas(path: &Path) -> Schemas {
    Schemas::from_json(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The compared range of a plan: from the first line that starts the plan
/// proper up to and including the last line holding the rule.
fn compared_range(text: &str) -> String {
    const STARTS: [&str; 6] = [
        "Terraform used the selected providers",
        "meshform used the selected providers",
        "No changes.",
        "Changes to Outputs:",
        "Note: Objects have changed outside of Terraform",
        "Note: Objects have changed outside of meshform",
    ];
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| {
            let plain = strip_ansi(l);
            STARTS.iter().any(|s| plain.starts_with(s))
        })
        .unwrap_or(0);
    let end = lines
        .iter()
        .rposition(|l| l.contains('─'))
        .map_or(lines.len(), |i| i + 1);
    if end <= start {
        return String::new();
    }
    lines[start..end].concat()
}

/// Joins wrapped prose lines (consecutive non-empty lines that start
/// without a space) so that texts differing only in wrapping compare equal.
fn unwrap_prose(text: &str) -> String {
    let mut out = String::new();
    let mut prose = false;
    for line in text.lines() {
        let is_prose = !line.is_empty() && !line.starts_with(' ') && !line.contains('─');
        if is_prose && prose {
            out.pop();
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
        prose = is_prose;
    }
    out
}

/// A readable line diff of the first differences.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    let mut shown = 0;
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            let _ = writeln!(
                out,
                "line {}:\n  expected: {:?}\n  actual:   {:?}",
                i + 1,
                x,
                y
            );
            shown += 1;
            if shown >= 8 {
                break;
            }
        }
    }
    out
}

/// What the golden JSON cannot carry, restored from the step's other
/// golden files. Returns a note when something was restored.
fn restore_lossy_parts(step: &Step, plan: &mut Plan) -> Option<&'static str> {
    match step.name().as_str() {
        // The plan held 1/3 with 512-bit precision; plan JSON went through
        // float64. The state written by the apply keeps every digit.
        "value_formatting/step2" => {
            let text = read(&step.file("tfstate.json"));
            let digits = exact_number_after(&text, "\"size\": 0.3333")?;
            let n = Number::parse(&digits).ok()?;
            for rc in &mut plan.changes {
                if rc.addr.to_string() == "fake_thing.f" {
                    rc.after = replace_attr(&rc.after, "size", Value::number(n.clone()));
                }
            }
            Some("size restored with full precision from the state after apply")
        }
        // Plan JSON reduces a partly unknown output to "unknown"; it was a
        // tuple of one unknown id per instance (two, as the apply shows).
        "module_resources/step1" => {
            let oc = plan.output_changes.get_mut("ids")?;
            oc.after = Value::tuple(vec![Value::unknown(Type::String); 2]);
            Some("partly unknown output restored")
        }
        // Plan JSON has only the output's sensitive flag, not the mark the
        // new value carries from the sensitive variable.
        "sensitive_variable/step2" => {
            let oc = plan.output_changes.get_mut("name")?;
            oc.after = oc.after.clone().mark_sensitive();
            Some("output value mark restored")
        }
        _ => None,
    }
}

/// The full digits of the number that follows `prefix` in `text`.
fn exact_number_after(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)? + "\"size\": ".len();
    Some(
        text[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
            .collect(),
    )
}

fn replace_attr(obj: &Value, name: &str, v: Value) -> Value {
    match obj.data() {
        Data::Object(attrs) => {
            let mut attrs = attrs.clone();
            attrs.insert(name.to_owned(), v);
            Value::object(attrs)
        }
        _ => obj.clone(),
    }
}

fn options(color: bool) -> RenderOptions {
    RenderOptions {
        color,
        columns: 78,
        product: Product::terraform(),
        footer: Footer::SavedTo("tfplan".into()),
    }
}

/// The guide goldens' normalisation (issue 4, sanctioned differences):
/// no `name = null` lines, a printed `spat_` token reads `(sensitive
/// value)`, and runs of spaces before ` = ` collapse.
fn normalise_guide(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start();
        let trimmed = trimmed
            .strip_prefix("+ ")
            .or_else(|| trimmed.strip_prefix("~ "))
            .or_else(|| trimmed.strip_prefix("- "))
            .unwrap_or(trimmed);
        if let Some((name, rest)) = trimmed.split_once(" = ") {
            let name = name.trim_end();
            if rest == "null" && !name.is_empty() && !name.contains(' ') {
                continue;
            }
        }
        let mut l = body.to_owned();
        if let Some(at) = l.find("\"spat_") {
            let end = l[at + 1..].find('"').map_or(l.len(), |e| at + e + 2);
            let mut rest = l[end..].to_owned();
            if let Some(r) = rest.strip_prefix(" -> (known after apply)") {
                rest = r.to_owned();
            }
            l = format!("{}(sensitive value){rest}", &l[..at]);
        }
        let mut collapsed = String::new();
        let chars: Vec<char> = l.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == ' ' && i > 0 && chars[i - 1] != ' ' {
                let mut j = i;
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                if j - i > 1 && chars.get(j) == Some(&'=') && chars.get(j + 1) == Some(&' ') {
                    collapsed.push(' ');
                    i = j;
                    continue;
                }
            }
            collapsed.push(chars[i]);
            i += 1;
        }
        out.push_str(&collapsed);
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

struct Outcome {
    failures: Vec<String>,
    passed: Vec<String>,
}

impl Outcome {
    fn check(&mut self, what: String, expected: &str, actual: &str) {
        if expected == actual {
            self.passed.push(what);
        } else {
            self.failures
                .push(format!("{what}: differs\n{}", diff(expected, actual)));
        }
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} passed, {} failed:\n\n{}",
            self.passed.len(),
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(!self.passed.is_empty(), "no golden step was compared");
    }
}

fn load_plan(step: &Step, schemas: &Schemas, outcome: &mut Outcome) -> Option<Plan> {
    match plan_from_json(&read(&step.file("plan.json")), schemas) {
        Ok(mut plan) => {
            restore_lossy_parts(step, &mut plan);
            Some(plan)
        }
        Err(e) => {
            outcome
                .failures
                .push(format!("{}: plan JSON not read: {e}", step.name()));
            None
        }
    }
}

fn check_rendering(step: &Step, schemas: &Schemas, outcome: &mut Outcome, normalise: bool) {
    let Some(plan) = load_plan(step, schemas, outcome) else {
        return;
    };
    for color in [false, true] {
        if color && normalise {
            continue;
        }
        let golden_file = step.file(if color { "plan.ansi.txt" } else { "plan.txt" });
        if !golden_file.exists() {
            continue;
        }
        let mut expected = compared_range(&read(&golden_file));
        let mut actual = compared_range(&render_plan(&plan, schemas, &options(color)));
        if normalise {
            expected = normalise_guide(&expected);
            actual = normalise_guide(&actual);
        }
        let what = format!(
            "{} ({}{})",
            step.name(),
            if color { "colour" } else { "no colour" },
            if normalise { ", nested attributes" } else { "" }
        );
        outcome.check(what, &expected, &actual);
    }
    if !normalise {
        // The same page in meshform's words: only the fixed sentences
        // change (and their wrapping, were it to differ).
        let opts = RenderOptions {
            product: Product::meshform(),
            ..options(false)
        };
        let golden = compared_range(&read(&step.file("plan.txt")));
        let expected: String = golden
            .split_inclusive('\n')
            .map(|line| {
                if line.starts_with(' ') {
                    line.to_owned()
                } else {
                    line.replace("terraform apply", "meshform apply")
                        .replace("Terraform", "meshform")
                }
            })
            .collect();
        let actual = compared_range(&render_plan(&plan, schemas, &opts));
        outcome.check(
            format!("{} (meshform)", step.name()),
            &unwrap_prose(&expected),
            &unwrap_prose(&actual),
        );
    }
}

fn run_rendering(root: &str, schema_file: &str, normalise: bool) {
    let Some(root) = meshform_testkit::shared_path(root) else {
        return;
    };
    let schemas = schemas(&root.join(schema_file));
    let mut outcome = Outcome {
        failures: Vec::new(),
        passed: Vec::new(),
    };
    for step in steps(&root) {
        check_rendering(&step, &schemas, &mut outcome, normalise);
    }
    outcome.finish();
}

#[test]
fn fake_provider_plans_render_as_terraform_does() {
    run_rendering("conformance/plans", "schema.json", false);
}

#[test]
fn guide_plans_render_as_terraform_does() {
    run_rendering("conformance/guide-plans", "schema.json", false);
}

#[test]
fn guide_plans_with_nested_attributes_render_as_terraform_1_3() {
    run_rendering(
        "conformance/guide-plans",
        "schema.nested-attributes.json",
        true,
    );
}

/// The parts of a change that `show -json` must reproduce.
fn comparable_changes(doc: &serde_json::Value) -> serde_json::Value {
    let mut rcs = Vec::new();
    for rc in doc["resource_changes"].as_array().into_iter().flatten() {
        let c = &rc["change"];
        rcs.push(serde_json::json!({
            "address": rc["address"],
            "mode": rc["mode"],
            "type": rc["type"],
            "name": rc["name"],
            "index": rc.get("index"),
            "provider_name": rc["provider_name"],
            "deposed": rc.get("deposed"),
            "action_reason": rc.get("action_reason"),
            "actions": c["actions"],
            "before": c.get("before"),
            "after": c.get("after"),
            "after_unknown": c.get("after_unknown"),
            "before_sensitive": c.get("before_sensitive"),
            "after_sensitive": c.get("after_sensitive"),
            "replace_paths": c.get("replace_paths"),
        }));
    }
    serde_json::json!({
        "resource_changes": rcs,
        "output_changes": doc.get("output_changes"),
        "resource_drift": doc.get("resource_drift"),
        "planned_values": doc.get("planned_values"),
    })
}

fn run_json_round_trip(root: &str, schema_file: &str) {
    let Some(root) = meshform_testkit::shared_path(root) else {
        return;
    };
    let schemas = schemas(&root.join(schema_file));
    let mut outcome = Outcome {
        failures: Vec::new(),
        passed: Vec::new(),
    };
    for step in steps(&root) {
        let text = read(&step.file("plan.json"));
        let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
        let plan = match plan_from_json(&text, &schemas) {
            Ok(p) => p,
            Err(e) => {
                outcome
                    .failures
                    .push(format!("{}: plan JSON not read: {e}", step.name()));
                continue;
            }
        };
        let written = plan_to_json(&plan, &schemas, "1.0.3");
        let expected = serde_json::to_string_pretty(&comparable_changes(&golden)).unwrap();
        let actual = serde_json::to_string_pretty(&comparable_changes(&written)).unwrap();
        outcome.check(format!("{} (show -json)", step.name()), &expected, &actual);
    }
    outcome.finish();
}

#[test]
fn fake_provider_plans_round_trip_through_plan_json() {
    run_json_round_trip("conformance/plans", "schema.json");
}

#[test]
fn guide_plans_round_trip_through_plan_json() {
    run_json_round_trip("conformance/guide-plans", "schema.json");
}

// ---------------------------------------------------------------------------
// Single changes, with expectations from Terraform 1.0's own renderer tests
// (`internal/command/format/diff_test.go`).

use meshform_engine::render::{render_resource_change, Colorizer, Language};

const TEST_PROVIDER: &str = "registry.terraform.io/hashicorp/test";

fn test_schemas(block: serde_json::Value) -> Schemas {
    let doc = serde_json::json!({
        "format_version": "0.2",
        "provider_schemas": { TEST_PROVIDER: {
            "provider": {"version": 0, "block": {}},
            "resource_schemas": { "test_instance": {"version": 0, "block": block} }
        }}
    });
    Schemas::from_json_value(&doc).expect("test schema")
}

fn test_plan(schemas: &Schemas, change: serde_json::Value, extra: serde_json::Value) -> Plan {
    let mut rc = serde_json::json!({
        "address": "test_instance.example",
        "mode": "managed",
        "type": "test_instance",
        "name": "example",
        "provider_name": TEST_PROVIDER,
        "change": change,
    });
    if let (Some(rc), Some(extra)) = (rc.as_object_mut(), extra.as_object()) {
        rc.extend(extra.clone());
    }
    let doc = serde_json::json!({"format_version": "0.2", "resource_changes": [rc]});
    meshform_engine::plan_json::plan_from_json_value(&doc, schemas).expect("test plan")
}

/// Renders the one change of a small plan and compares it with `expected`.
fn check(
    block: serde_json::Value,
    change: serde_json::Value,
    extra: serde_json::Value,
    expected: &str,
) {
    let schemas = test_schemas(block);
    let plan = test_plan(&schemas, change, extra);
    let rc = &plan.changes[0];
    let schema = meshform_engine::render::lookup_schema(&schemas, rc).unwrap();
    let actual =
        render_resource_change(rc, schema, Colorizer { enabled: false }, Language::Proposed);
    assert_eq!(actual, expected, "\n{}", diff(expected, &actual));
}

fn string_attrs(names: &[&str]) -> serde_json::Value {
    let attrs: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                serde_json::json!({"type": "string", "optional": true}),
            )
        })
        .collect();
    serde_json::json!({ "attributes": attrs })
}

#[test]
fn json_strings_that_differ_in_whitespace_only_say_so() {
    let change = serde_json::json!({
        "actions": ["update"],
        "before": {"id": "i-02ae66f368e8518a9", "json_field": "{\"aaa\": \"value\", \"bbb\": \"another\"}"},
        "after": {"json_field": "{\"aaa\":\"value\",\n\"bbb\":\"another\"}"},
        "after_unknown": {"id": true},
    });
    check(
        string_attrs(&["id", "json_field"]),
        change.clone(),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ id         = "i-02ae66f368e8518a9" -> (known after apply)
      ~ json_field = jsonencode( # whitespace changes
            {
                aaa = "value"
                bbb = "another"
            }
        )
    }
"#,
    );
    let mut replace = change;
    replace["actions"] = serde_json::json!(["delete", "create"]);
    replace["replace_paths"] = serde_json::json!([["json_field"]]);
    check(
        string_attrs(&["id", "json_field"]),
        replace,
        serde_json::json!({"action_reason": "replace_because_cannot_update"}),
        r#"  # test_instance.example must be replaced
-/+ resource "test_instance" "example" {
      ~ id         = "i-02ae66f368e8518a9" -> (known after apply)
      ~ json_field = jsonencode( # whitespace changes force replacement
            {
                aaa = "value"
                bbb = "another"
            }
        )
    }
"#,
    );
}

#[test]
fn unknown_list_and_set_elements_show_in_place() {
    let block = serde_json::json!({"attributes": {
        "id": {"type": "string", "optional": true, "computed": true},
        "ami": {"type": "string", "optional": true},
        "list_field": {"type": ["list", "string"], "optional": true},
        "set_field": {"type": ["set", "string"], "optional": true},
    }});
    check(
        block.clone(),
        serde_json::json!({
            "actions": ["update"],
            "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-STATIC",
                       "list_field": ["aaaa", "bbbb", "cccc", "dddd", "eeee"]},
            "after": {"ami": "ami-STATIC", "list_field": ["aaaa", null, null, "cccc", "dddd", "eeee"]},
            "after_unknown": {"id": true, "list_field": [false, true, true, false, false, false]},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ id         = "i-02ae66f368e8518a9" -> (known after apply)
      ~ list_field = [
            "aaaa",
          - "bbbb",
          + (known after apply),
          + (known after apply),
            "cccc",
            # (2 unchanged elements hidden)
        ]
        # (1 unchanged attribute hidden)
    }
"#,
    );
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-STATIC", "set_field": ["aaaa", "bbbb"]},
            "after": {"ami": "ami-STATIC", "set_field": ["aaaa"]},
            "after_unknown": {"id": true, "set_field": [false, true]},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ id        = "i-02ae66f368e8518a9" -> (known after apply)
      ~ set_field = [
          - "bbbb",
          ~ (known after apply),
            # (1 unchanged element hidden)
        ]
        # (1 unchanged attribute hidden)
    }
"#,
    );
}

#[test]
fn replace_paths_inside_blocks_mark_the_attribute() {
    let block = serde_json::json!({
        "attributes": {
            "id": {"type": "string", "optional": true, "computed": true},
            "ami": {"type": "string", "optional": true},
        },
        "block_types": {"root_block_device": {"nesting_mode": "list", "block": {
            "attributes": {"volume_type": {"type": "string", "optional": true, "computed": true}}
        }}}
    });
    check(
        block,
        serde_json::json!({
            "actions": ["delete", "create"],
            "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-BEFORE",
                       "root_block_device": [{"volume_type": "gp2"}]},
            "after": {"id": "i-02ae66f368e8518a9", "ami": "ami-AFTER",
                      "root_block_device": [{"volume_type": "different"}]},
            "after_unknown": {},
            "replace_paths": [["root_block_device", 0, "volume_type"]],
        }),
        serde_json::json!({"action_reason": "replace_because_cannot_update"}),
        r#"  # test_instance.example must be replaced
-/+ resource "test_instance" "example" {
      ~ ami = "ami-BEFORE" -> "ami-AFTER"
        id  = "i-02ae66f368e8518a9"

      ~ root_block_device {
          ~ volume_type = "gp2" -> "different" # forces replacement
        }
    }
"#,
    );
}

#[test]
fn headers_name_the_reason_and_deposed_objects() {
    let block = string_attrs(&["id"]);
    check(
        block.clone(),
        serde_json::json!({
            "actions": ["delete", "create"],
            "before": {"id": "i-1"},
            "after": {},
            "after_unknown": {"id": true},
        }),
        serde_json::json!({"action_reason": "replace_because_tainted"}),
        r#"  # test_instance.example is tainted, so must be replaced
-/+ resource "test_instance" "example" {
      ~ id = "i-1" -> (known after apply)
    }
"#,
    );
    check(
        block.clone(),
        serde_json::json!({
            "actions": ["create", "delete"],
            "before": {"id": "i-1"},
            "after": {},
            "after_unknown": {"id": true},
        }),
        serde_json::json!({"action_reason": "replace_by_request"}),
        r#"  # test_instance.example will be replaced, as requested
+/- resource "test_instance" "example" {
      ~ id = "i-1" -> (known after apply)
    }
"#,
    );
    check(
        block,
        serde_json::json!({"actions": ["delete"], "before": {"id": "i-1"}, "after": null}),
        serde_json::json!({"deposed": "00000001"}),
        r#"  # test_instance.example (deposed object 00000001) will be destroyed
  # (left over from a partially-failed replacement of this instance)
  - resource "test_instance" "example" {
      - id = "i-1" -> null
    }
"#,
    );
}

#[test]
fn multi_line_strings_diff_by_line_and_ignore_carriage_returns() {
    check(
        string_attrs(&["more_lines"]),
        serde_json::json!({
            "actions": ["update"],
            "before": {"more_lines": "original\r\nlong\r\nmulti-line\r\nstring\r\nfield\r\n"},
            "after": {"more_lines": "original\nextremely long\nmulti-line\nstring\nfield\n"},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ more_lines = <<-EOT
            original
          - long
          + extremely long
            multi-line
            string
            field
        EOT
    }
"#,
    );
}

#[test]
fn marked_values_print_sensitive_and_warn_when_marking_changes() {
    let block = serde_json::json!({"attributes": {
        "id": {"type": "string", "optional": true},
        "ami": {"type": "string", "optional": true},
        "tags": {"type": ["map", "string"], "optional": true},
    }});
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {"id": "i-1", "ami": "ami-BEFORE", "tags": {"a": "1", "b": "2"}},
            "after": {"id": "i-1", "ami": "ami-BEFORE", "tags": {"a": "1", "b": "3"}},
            "after_unknown": {},
            "before_sensitive": {"tags": {}},
            "after_sensitive": {"ami": true, "tags": {"b": true}},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      # Warning: this attribute value will be marked as sensitive and will not
      # display in UI output after applying this change. The value is unchanged.
      ~ ami  = (sensitive)
        id   = "i-1"
      ~ tags = {
          # Warning: this attribute value will be marked as sensitive and will not
          # display in UI output after applying this change.
          ~ "b" = (sensitive)
            # (1 unchanged element hidden)
        }
    }
"#,
    );
}

#[test]
fn nested_attributes_hide_null_members_and_align_over_the_rest() {
    let block = serde_json::json!({"attributes": {
        "name": {"type": "string", "required": true},
        "mtls": {"optional": true, "nested_type": {"nesting_mode": "single", "attributes": {
            "enabled_backend": {"type": "string", "optional": true},
            "skip_validation": {"type": "bool", "optional": true},
            "backends": {"optional": true, "nested_type": {"nesting_mode": "list", "attributes": {
                "name": {"type": "string", "optional": true},
                "type": {"type": "string", "optional": true},
                "dp_cert": {"type": "string", "optional": true},
            }}},
        }}},
    }});
    check(
        block.clone(),
        serde_json::json!({
            "actions": ["update"],
            "before": {"name": "my-mesh", "mtls": null},
            "after": {"name": "my-mesh", "mtls": {"enabled_backend": null, "skip_validation": null,
                "backends": [{"name": "ca-1", "type": "builtin", "dp_cert": null}]}},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      + mtls = {
          + backends = [
              + {
                  + name = "ca-1"
                  + type = "builtin"
                },
            ]
        }
        name = "my-mesh"
    }
"#,
    );
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {"name": "my-mesh", "mtls": {"enabled_backend": "ca-1", "skip_validation": null,
                "backends": [{"name": "ca-1", "type": "builtin", "dp_cert": null}]}},
            "after": {"name": "my-mesh", "mtls": {"enabled_backend": "ca-2", "skip_validation": null,
                "backends": [{"name": "ca-1", "type": "builtin", "dp_cert": null}]}},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ mtls = {
          ~ enabled_backend = "ca-1" -> "ca-2"
            # (1 unchanged attribute hidden)
        }
        name = "my-mesh"
    }
"#,
    );
}

fn one_resource_plan(change: serde_json::Value) -> (Schemas, Plan) {
    let schemas = test_schemas(string_attrs(&["id", "name"]));
    let plan = test_plan(&schemas, change, serde_json::json!({}));
    (schemas, plan)
}

#[test]
fn drift_comes_first_and_the_footer_names_the_product() {
    let (schemas, mut plan) = one_resource_plan(serde_json::json!({
        "actions": ["update"],
        "before": {"id": "i-1", "name": "a"},
        "after": {"id": "i-1", "name": "b"},
        "after_unknown": {},
    }));
    let mut drift = plan.changes[0].clone();
    drift.before = replace_attr(&drift.before, "name", Value::string("z"));
    drift.after = replace_attr(&drift.after, "name", Value::string("a"));
    plan.drift.push(drift);
    let opts = RenderOptions {
        product: Product::meshform(),
        footer: Footer::NotSaved,
        ..RenderOptions::default()
    };
    let expected = r#"
Note: Objects have changed outside of meshform

meshform detected the following changes made outside of meshform since the
last "meshform apply":

  # test_instance.example has been changed
  ~ resource "test_instance" "example" {
        id   = "i-1"
      ~ name = "z" -> "a"
    }

Unless you have made equivalent changes to your configuration, or ignored the
relevant attributes using ignore_changes, the following plan may include
actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────

meshform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  ~ update in-place

meshform will perform the following actions:

  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
        id   = "i-1"
      ~ name = "a" -> "b"
    }

Plan: 0 to add, 1 to change, 0 to destroy.

─────────────────────────────────────────────────────────────────────────────

Note: You didn't use the -out option to save this plan, so meshform can't
guarantee to take exactly these actions if you run "meshform apply" now.
"#;
    let actual = render_plan(&plan, &schemas, &opts);
    assert_eq!(actual, expected, "\n{}", diff(expected, &actual));
}

#[test]
fn a_destroy_plan_with_nothing_to_destroy_says_so_without_a_footer() {
    let (schemas, mut plan) = one_resource_plan(serde_json::json!({
        "actions": ["no-op"],
        "before": {"id": "i-1", "name": "a"},
        "after": {"id": "i-1", "name": "a"},
        "after_unknown": {},
    }));
    plan.mode = meshform_engine::plan::PlanMode::Destroy;
    let expected = "\nNo changes. No objects need to be destroyed.\n\nEither you have not created any objects yet or the existing objects were\nalready deleted outside of Terraform.\n";
    let actual = render_plan(&plan, &schemas, &RenderOptions::default());
    assert_eq!(actual, expected, "\n{}", diff(expected, &actual));
    assert!(!plan.has_changes());
}

#[test]
fn plans_survive_a_round_trip_through_our_own_json() {
    let Some(root) = meshform_testkit::shared_path("conformance/plans") else {
        return;
    };
    let schemas = schemas(&root.join("schema.json"));
    let mut compared = 0;
    for step in steps(&root) {
        let plan = plan_from_json(&read(&step.file("plan.json")), &schemas).unwrap();
        let written = plan_to_json(&plan, &schemas, "1.0.3").to_string();
        let again = plan_from_json(&written, &schemas).unwrap();
        let opts = options(false);
        assert_eq!(
            render_plan(&again, &schemas, &opts),
            render_plan(&plan, &schemas, &opts),
            "{}",
            step.name()
        );
        compared += 1;
    }
    assert!(compared > 0);
}

#[test]
fn nested_attribute_members_declared_sensitive_never_print() {
    let block = serde_json::json!({"attributes": {
        "conf": {"optional": true, "nested_type": {"nesting_mode": "single", "attributes": {
            "user": {"type": "string", "optional": true},
            "password": {"type": "string", "optional": true, "sensitive": true},
        }}},
    }});
    check(
        block,
        serde_json::json!({
            "actions": ["create"],
            "before": null,
            "after": {"conf": {"user": "admin", "password": "hunter2"}},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be created
  + resource "test_instance" "example" {
      + conf = {
          + password = (sensitive)
          + user     = "admin"
        }
    }
"#,
    );
}

#[test]
fn guide_plans_with_nested_attributes_round_trip_through_plan_json() {
    run_json_round_trip("conformance/guide-plans", "schema.nested-attributes.json");
}

#[test]
fn saved_plans_read_back_equal_with_marks_unknowns_and_every_digit() {
    use meshform_engine::plan_json::{plan_from_saved_json, plan_to_saved_json};
    let mut compared = 0;
    for (root, schema_file) in [
        ("conformance/plans", "schema.json"),
        ("conformance/guide-plans", "schema.nested-attributes.json"),
    ] {
        let Some(root) = meshform_testkit::shared_path(root) else {
            return;
        };
        let schemas = schemas(&root.join(schema_file));
        for step in steps(&root) {
            let mut plan = plan_from_json(&read(&step.file("plan.json")), &schemas).unwrap();
            restore_lossy_parts(&step, &mut plan);
            let text = plan_to_saved_json(&plan).to_string();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let back = plan_from_saved_json(&doc).unwrap();
            assert_eq!(back, plan, "{}", step.name());
            compared += 1;
        }
    }
    assert!(compared > 0);
}

#[test]
fn unknown_blocks_print_as_one_block_of_unknown_attributes() {
    let block = serde_json::json!({
        "attributes": {"id": {"type": "string", "computed": true}},
        "block_types": {"filter": {"nesting_mode": "list", "block": {
            "attributes": {"name": {"type": "string", "optional": true}}
        }}}
    });
    check(
        block,
        serde_json::json!({
            "actions": ["create"],
            "before": null,
            "after": {},
            "after_unknown": {"id": true, "filter": true},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be created
  + resource "test_instance" "example" {
      + id = (known after apply)

      + filter {
          + name = (known after apply)
        }
    }
"#,
    );
}

#[test]
fn a_move_alone_is_shown_as_terraform_1_1_shows_it() {
    let (schemas, mut plan) = one_resource_plan(serde_json::json!({
        "actions": ["no-op"],
        "before": {"id": "i-1", "name": "a"},
        "after": {"id": "i-1", "name": "a"},
        "after_unknown": {},
    }));
    plan.changes[0].prev_run_addr =
        Some(meshform_lang::addr::ResourceInstance::parse("test_instance.old").unwrap());
    let expected = r#"
Terraform will perform the following actions:

  # test_instance.old has moved to test_instance.example
    resource "test_instance" "example" {
        id   = "i-1"
        name = "a"
    }

Plan: 0 to add, 0 to change, 0 to destroy.

─────────────────────────────────────────────────────────────────────────────

Note: You didn't use the -out option to save this plan, so Terraform can't
guarantee to take exactly these actions if you run "terraform apply" now.
"#;
    let actual = render_plan(&plan, &schemas, &RenderOptions::default());
    assert_eq!(actual, expected, "\n{}", diff(expected, &actual));
    assert!(plan.can_apply() && plan.has_changes());
}

#[test]
fn output_changes_render_as_attributes_of_the_root_module() {
    use meshform_engine::plan::{Action, OutputChange};
    let strings =
        |xs: &[&str]| Value::list(Type::String, xs.iter().map(|s| Value::string(*s)).collect());
    let mut plan = Plan::default();
    let mut add = |name: &str, action, before, after, sensitive| {
        plan.output_changes.insert(
            name.to_owned(),
            OutputChange {
                name: name.to_owned(),
                action,
                before,
                after,
                sensitive,
            },
        );
    };
    add(
        "foo",
        Action::Update,
        strings(&["alpha", "beta", "delta", "epsilon"]),
        strings(&["alpha", "beta", "gamma", "delta", "epsilon"]),
        false,
    );
    add("a", Action::Update, Value::int(1), Value::int(2), false);
    add(
        "b",
        Action::Update,
        Value::string("hunter2"),
        Value::string("correct-horse-battery-staple"),
        true,
    );
    add(
        "gone",
        Action::Delete,
        Value::string("bar"),
        Value::null_dynamic(),
        false,
    );
    add(
        "same",
        Action::NoOp,
        Value::string("x"),
        Value::string("x"),
        false,
    );
    let expected = r#"
Changes to Outputs:
  ~ a    = 1 -> 2
  ~ b    = (sensitive value)
  ~ foo  = [
        # (1 unchanged element hidden)
        "beta",
      + "gamma",
        "delta",
        # (1 unchanged element hidden)
    ]
  - gone = "bar" -> null

You can apply this plan to save these new output values to the Terraform
state, without changing any real infrastructure.
"#;
    let opts = RenderOptions {
        footer: Footer::None,
        ..RenderOptions::default()
    };
    let actual = render_plan(&plan, &Schemas::default(), &opts);
    assert_eq!(actual, expected, "\n{}", diff(expected, &actual));
}

#[test]
fn map_nested_blocks_print_their_keys_as_labels() {
    let block = serde_json::json!({
        "attributes": {
            "id": {"type": "string", "optional": true, "computed": true},
            "ami": {"type": "string", "optional": true},
        },
        "block_types": {"root_block_device": {"nesting_mode": "map", "block": {"attributes": {
            "volume_type": {"type": "string", "optional": true, "computed": true},
            "new_field": {"type": "string", "optional": true},
        }}}}
    });
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-BEFORE",
                "root_block_device": {"a": {"volume_type": "gp2", "new_field": null}}},
            "after": {"id": "i-02ae66f368e8518a9", "ami": "ami-AFTER",
                "root_block_device": {"a": {"volume_type": "gp2", "new_field": null},
                                      "b": {"volume_type": "gp2", "new_field": "new_value"}}},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ ami = "ami-BEFORE" -> "ami-AFTER"
        id  = "i-02ae66f368e8518a9"

      + root_block_device "b" {
          + new_field   = "new_value"
          + volume_type = "gp2"
        }
        # (1 unchanged block hidden)
    }
"#,
    );
}

#[test]
fn values_that_stop_being_sensitive_warn_and_stay_hidden() {
    let block = serde_json::json!({
        "attributes": {
            "id": {"type": "string", "optional": true, "computed": true},
            "ami": {"type": "string", "optional": true},
            "list_field": {"type": ["list", "string"], "optional": true},
            "special": {"type": "bool", "optional": true},
            "some_number": {"type": "number", "optional": true},
            "map_key": {"type": ["map", "number"], "optional": true},
            "map_whole": {"type": ["map", "string"], "optional": true},
        },
        "block_types": {
            "nested_block": {"nesting_mode": "list", "block": {"attributes": {
                "an_attr": {"type": "string", "optional": true}}}},
            "nested_block_set": {"nesting_mode": "set", "block": {"attributes": {
                "an_attr": {"type": "string", "optional": true}}}},
        }
    });
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {
                "id": "i-02ae66f368e8518a9", "ami": "ami-BEFORE", "special": true,
                "some_number": 1, "list_field": ["hello", "friends", "!"],
                "map_key": {"breakfast": 800, "dinner": 2000},
                "map_whole": {"breakfast": "pizza", "dinner": "pizza"},
                "nested_block": [{"an_attr": "secretval"}],
                "nested_block_set": [{"an_attr": "secretval"}],
            },
            "after": {
                "id": "i-02ae66f368e8518a9", "ami": "ami-AFTER", "special": false,
                "some_number": 2, "list_field": ["hello", "friends", "."],
                "map_key": {"breakfast": 800, "dinner": 1900},
                "map_whole": {"breakfast": "cereal", "dinner": "pizza"},
                "nested_block": [{"an_attr": "changed"}],
                "nested_block_set": [{"an_attr": "changed"}],
            },
            "after_unknown": {},
            "before_sensitive": {
                "ami": true, "special": true, "some_number": true,
                "list_field": [false, false, true], "map_key": {"dinner": true},
                "map_whole": true, "nested_block": true, "nested_block_set": true,
            },
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      # Warning: this attribute value will no longer be marked as sensitive
      # after applying this change.
      ~ ami         = (sensitive)
        id          = "i-02ae66f368e8518a9"
      ~ list_field  = [
            # (1 unchanged element hidden)
            "friends",
          - (sensitive),
          + ".",
        ]
      ~ map_key     = {
          # Warning: this attribute value will no longer be marked as sensitive
          # after applying this change.
          ~ "dinner"    = (sensitive)
            # (1 unchanged element hidden)
        }
      # Warning: this attribute value will no longer be marked as sensitive
      # after applying this change.
      ~ map_whole   = (sensitive)
      # Warning: this attribute value will no longer be marked as sensitive
      # after applying this change.
      ~ some_number = (sensitive)
      # Warning: this attribute value will no longer be marked as sensitive
      # after applying this change.
      ~ special     = (sensitive)

      # Warning: this block will no longer be marked as sensitive
      # after applying this change.
      ~ nested_block {
          # At least one attribute in this block is (or was) sensitive,
          # so its contents will not be displayed.
        }

      # Warning: this block will no longer be marked as sensitive
      # after applying this change.
      ~ nested_block_set {
          # At least one attribute in this block is (or was) sensitive,
          # so its contents will not be displayed.
        }
    }
"#,
    );
}

#[test]
fn whole_blocks_that_force_replacement_say_so_on_their_header() {
    let block = |nesting: &str| {
        serde_json::json!({
            "attributes": {
                "id": {"type": "string", "optional": true, "computed": true},
                "ami": {"type": "string", "optional": true},
            },
            "block_types": {"root_block_device": {"nesting_mode": nesting, "block": {
                "attributes": {"volume_type": {"type": "string", "optional": true, "computed": true}}
            }}}
        })
    };
    let change = serde_json::json!({
        "actions": ["delete", "create"],
        "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-BEFORE",
                   "root_block_device": [{"volume_type": "gp2"}]},
        "after": {"id": "i-02ae66f368e8518a9", "ami": "ami-AFTER",
                  "root_block_device": [{"volume_type": "different"}]},
        "after_unknown": {},
        "replace_paths": [["root_block_device"]],
    });
    let reason = serde_json::json!({"action_reason": "replace_because_cannot_update"});
    check(
        block("list"),
        change.clone(),
        reason.clone(),
        r#"  # test_instance.example must be replaced
-/+ resource "test_instance" "example" {
      ~ ami = "ami-BEFORE" -> "ami-AFTER"
        id  = "i-02ae66f368e8518a9"

      ~ root_block_device { # forces replacement
          ~ volume_type = "gp2" -> "different"
        }
    }
"#,
    );
    check(
        block("set"),
        change,
        reason,
        r#"  # test_instance.example must be replaced
-/+ resource "test_instance" "example" {
      ~ ami = "ami-BEFORE" -> "ami-AFTER"
        id  = "i-02ae66f368e8518a9"

      + root_block_device { # forces replacement
          + volume_type = "different"
        }
      - root_block_device { # forces replacement
          - volume_type = "gp2" -> null
        }
    }
"#,
    );
}

#[test]
fn heredocs_carry_the_replacement_marker_on_their_first_line() {
    check(
        string_attrs(&["id", "more_lines"]),
        serde_json::json!({
            "actions": ["delete", "create"],
            "before": {"id": "i-02ae66f368e8518a9", "more_lines": "original\n"},
            "after": {"more_lines": "original\nnew line\n"},
            "after_unknown": {"id": true},
            "replace_paths": [["more_lines"]],
        }),
        serde_json::json!({}),
        r#"  # test_instance.example must be replaced
-/+ resource "test_instance" "example" {
      ~ id         = "i-02ae66f368e8518a9" -> (known after apply)
      ~ more_lines = <<-EOT # forces replacement
            original
          + new line
        EOT
    }
"#,
    );
}

#[test]
fn identifying_attributes_show_even_when_unchanged() {
    let mut block = string_attrs(&["id", "ami", "bar", "foo", "name"]);
    block["attributes"]["tags"] = serde_json::json!({"type": ["map", "string"], "optional": true});
    check(
        block,
        serde_json::json!({
            "actions": ["update"],
            "before": {"id": "i-02ae66f368e8518a9", "ami": "ami-BEFORE", "bar": "bar",
                       "foo": "foo", "name": "alice", "tags": {"name": "bob"}},
            "after": {"id": "i-02ae66f368e8518a9", "ami": "ami-AFTER", "bar": "bar",
                      "foo": "foo", "name": "alice", "tags": {"name": "bob"}},
            "after_unknown": {},
        }),
        serde_json::json!({}),
        r#"  # test_instance.example will be updated in-place
  ~ resource "test_instance" "example" {
      ~ ami  = "ami-BEFORE" -> "ami-AFTER"
        id   = "i-02ae66f368e8518a9"
        name = "alice"
        tags = {
            "name" = "bob"
        }
        # (2 unchanged attributes hidden)
    }
"#,
    );
}

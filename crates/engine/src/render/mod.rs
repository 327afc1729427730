//! The human plan, byte for byte as Terraform 1.0 prints it (`terraform
//! plan`, `terraform show PLANFILE`), with or without colour.
//!
//! [`render_plan`] prints the page: the "Objects have changed outside of
//! Terraform" note, the action legend, one block per resource change, the
//! `Plan:` summary, `Changes to Outputs:`, the "No changes." variants, the
//! rule and the footer. [`render_resource_change`] prints one change. The
//! fixed sentences name the product through [`Product`], so the same text
//! can say `meshform` and `meshform apply`.

mod diff;
mod text;
mod values;

use meshform_lang::addr::ResourceMode;
use meshform_lang::schema::{Block, Schemas};
use meshform_lang::{Type, Value};

use crate::plan::{compare_changes, Action, OutputChange, Plan, PlanMode, ResourceInstanceChange};
use diff::{AttrInfo, BodyPrinter, BodyResult};
use values::Step;

pub use text::{go_quote, word_wrap, Colorizer};

/// The names the fixed sentences use: `Terraform` / `terraform` in
/// Terraform's own output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product name in prose (`Terraform`, `meshform`).
    pub name: String,
    /// The command users type (`terraform`, `meshform`).
    pub command: String,
}

impl Product {
    pub fn terraform() -> Product {
        Product {
            name: "Terraform".into(),
            command: "terraform".into(),
        }
    }

    pub fn meshform() -> Product {
        Product {
            name: "meshform".into(),
            command: "meshform".into(),
        }
    }
}

/// What follows the rule at the end of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Footer {
    /// No rule and nothing after it (automation, or `show`).
    None,
    /// The plan was not saved: the "You didn't use the -out option" note.
    NotSaved,
    /// The plan was saved to this path.
    SavedTo(String),
}

/// How to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    pub color: bool,
    /// Terminal width; prose wraps at one less. Terraform uses 78 when not
    /// on a terminal.
    pub columns: usize,
    pub product: Product,
    pub footer: Footer,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            columns: 78,
            product: Product::terraform(),
            footer: Footer::NotSaved,
        }
    }
}

struct Page<'a> {
    out: String,
    color: Colorizer,
    opts: &'a RenderOptions,
}

impl Page<'_> {
    fn c(&self, markup: &str) -> String {
        self.color.color(markup)
    }

    /// A fixed sentence with the product's names filled in.
    fn say(&self, sentence: &str) -> String {
        sentence
            .replace("{Product}", &self.opts.product.name)
            .replace("{command}", &self.opts.product.command)
    }

    fn wrap(&self, sentence: &str) -> String {
        word_wrap(&self.say(sentence), self.opts.columns)
    }

    fn rule(&self) -> String {
        if self.opts.columns <= 1 {
            return "\n".to_owned();
        }
        let rule = "─".repeat(self.opts.columns - 1);
        self.c(&format!("[dark_gray]\n{rule}"))
    }
}

/// Renders the whole plan page.
pub fn render_plan(plan: &Plan, schemas: &Schemas, opts: &RenderOptions) -> String {
    let mut page = Page {
        out: String::new(),
        color: Colorizer {
            enabled: opts.color,
        },
        opts,
    };
    let have_drift = render_drift(&mut page, plan, schemas);
    if have_drift {
        let para = match plan.mode {
            PlanMode::RefreshOnly => "\nThis is a refresh-only plan, so {Product} will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the {Product} state without changing any remote objects.",
            _ => "\nUnless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.",
        };
        let text = page.wrap(para);
        page.out.push_str(&text);
        page.out.push('\n');
    }

    let mut shown: Vec<&ResourceInstanceChange> = plan
        .changes
        .iter()
        .filter(|c| c.is_shown())
        .filter(|c| !(c.action == Action::Delete && c.mode() == ResourceMode::Data))
        .collect();
    shown.sort_by(|a, b| compare_changes(a, b));
    let outputs: Vec<&OutputChange> = plan
        .output_changes
        .values()
        .filter(|o| o.action != Action::NoOp)
        .collect();

    if shown.is_empty() && outputs.is_empty() {
        render_no_changes(&mut page, plan, have_drift);
    } else {
        if have_drift {
            let rule = page.rule();
            page.out.push_str(&rule);
            page.out.push('\n');
        }
        if !shown.is_empty() {
            render_resource_changes(&mut page, &shown, schemas);
        }
        if !outputs.is_empty() {
            let head = page.c("[reset]\n[bold]Changes to Outputs:[reset]");
            page.out.push_str(&head);
            page.out
                .push_str(&render_output_changes(&outputs, page.color));
            page.out.push('\n');
            if shown.is_empty() {
                let text = page.wrap("\nYou can apply this plan to save these new output values to the {Product} state, without changing any real infrastructure.");
                page.out.push_str(&text);
                page.out.push('\n');
            }
        }
    }
    // The rule and footer follow only a plan that can be applied.
    if plan.can_apply() {
        render_footer(&mut page);
    }
    page.out
}

fn render_no_changes(page: &mut Page, plan: &Plan, have_drift: bool) {
    match plan.mode {
        PlanMode::RefreshOnly => {
            if have_drift {
                return;
            }
            let head = page.c("\n[reset][bold][green]No changes.[reset][bold] Your infrastructure still matches the configuration.[reset]\n\n");
            page.out.push_str(&head);
            let text = page.wrap("{Product} has checked that the real remote objects still match the result of your most recent changes, and found no differences.");
            page.out.push_str(&text);
            page.out.push('\n');
        }
        PlanMode::Destroy => {
            if have_drift {
                let rule = page.rule();
                page.out.push_str(&rule);
                page.out.push('\n');
            }
            let head = page.c("\n[reset][bold][green]No changes.[reset][bold] No objects need to be destroyed.[reset]\n\n");
            page.out.push_str(&head);
            let text = page.wrap("Either you have not created any objects yet or the existing objects were already deleted outside of {Product}.");
            page.out.push_str(&text);
            page.out.push('\n');
        }
        PlanMode::Normal => {
            if have_drift {
                let rule = page.rule();
                page.out.push_str(&rule);
                page.out.push('\n');
            }
            let head = page.c("\n[reset][bold][green]No changes.[reset][bold] Your infrastructure matches the configuration.[reset]\n\n");
            page.out.push_str(&head);
            let text = if have_drift {
                page.wrap("Your configuration already matches the changes detected above. If you'd like to update the {Product} state to match, create and apply a refresh-only plan:\n  {command} apply -refresh-only")
            } else {
                page.wrap("{Product} has compared your real infrastructure against your configuration and found no differences, so no changes are needed.")
            };
            page.out.push_str(&text);
            page.out.push('\n');
        }
    }
}

fn render_resource_changes(page: &mut Page, shown: &[&ResourceInstanceChange], schemas: &Schemas) {
    let mut header = format!(
        "\n{}\n",
        page.wrap("\n{Product} used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:\n")
            .trim()
    );
    let legend = [
        (Action::Create, "create"),
        (Action::Update, "update in-place"),
        (Action::Delete, "destroy"),
        (
            Action::DeleteThenCreate,
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "create replacement and then destroy",
        ),
        (Action::Read, "read (data resources)"),
    ];
    for (action, words) in legend {
        if shown.iter().any(|c| c.action == action) {
            header.push_str(&format!("{} {words}\n", action_symbol(action)));
        }
    }
    // A plan of moves only has no legend (Terraform 1.1+; 1.0 has no moves).
    if shown.iter().any(|c| c.action != Action::NoOp) {
        let header = page.c(&header);
        page.out.push_str(&header);
    }
    let intro = page.say("\n{Product} will perform the following actions:\n\n");
    page.out.push_str(&intro);

    let color = page.color;
    let texts = crate::parallel::map_ordered(shown, |rc| match lookup_schema(schemas, rc) {
        Some(block) => render_resource_change(rc, block, color, Language::Proposed) + "\n",
        None => format!("(schema missing for {})\n\n", rc.addr),
    });
    for text in texts {
        page.out.push_str(&text);
    }
    let (mut add, mut change, mut destroy, mut import) = (0, 0, 0, 0);
    for rc in shown {
        if rc.importing.is_some() {
            import += 1;
        }
        match rc.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                add += 1;
                destroy += 1;
            }
            _ => {}
        }
    }
    // Terraform 1.5 names imports only when there are some.
    let import = if import > 0 {
        format!("{import} to import, ")
    } else {
        String::new()
    };
    let summary = page.c(&format!(
        "[reset][bold]Plan:[reset] {import}{add} to add, {change} to change, {destroy} to destroy.\n"
    ));
    page.out.push_str(&summary);
}

/// The rule and what follows it.
fn render_footer(page: &mut Page) {
    if page.opts.footer == Footer::None {
        return;
    }
    let rule = page.rule();
    page.out.push_str(&rule);
    page.out.push('\n');
    match &page.opts.footer {
        Footer::None => {}
        Footer::NotSaved => {
            let text = page.wrap("\nNote: You didn't use the -out option to save this plan, so {Product} can't guarantee to take exactly these actions if you run \"{command} apply\" now.\n");
            page.out.push('\n');
            page.out.push_str(text.trim());
            page.out.push('\n');
        }
        Footer::SavedTo(path) => {
            // Terraform wraps the template before it fills in the path.
            let template = page.wrap("\nSaved the plan to: %s\n\nTo perform exactly these actions, run the following command to apply:\n    {command} apply %q\n");
            let template = template.trim();
            let (head, tail) = template.split_once("%q").unwrap_or((template, ""));
            let text = format!("{}{}{tail}", head.replacen("%s", path, 1), go_quote(path));
            page.out.push('\n');
            page.out.push_str(&text);
            page.out.push('\n');
        }
    }
}

fn render_drift(page: &mut Page, plan: &Plan, schemas: &Schemas) -> bool {
    let mut drift: Vec<&ResourceInstanceChange> = plan
        .drift
        .iter()
        // Only current objects of managed resources drift; deposed ones are
        // about to go anyway.
        .filter(|c| c.mode() == ResourceMode::Managed && c.action != Action::NoOp)
        .filter(|c| c.deposed.is_none())
        .filter(|c| !c.before.raw_equal(&c.after))
        .collect();
    if drift.is_empty() {
        return false;
    }
    drift.sort_by(|a, b| compare_changes(a, b));
    let head = page.c("[reset]\n[bold][cyan]Note:[reset][bold] Objects have changed outside of {Product}[reset]\n\n");
    let head = page.say(&head);
    page.out.push_str(&head);
    let text = page.wrap("{Product} detected the following changes made outside of {Product} since the last \"{command} apply\":\n\n");
    page.out.push_str(&text);
    for rc in drift {
        match lookup_schema(schemas, rc) {
            Some(block) => page.out.push_str(&render_resource_change(
                rc,
                block,
                page.color,
                Language::Drift,
            )),
            None => page
                .out
                .push_str(&format!("(schema missing for {})\n", rc.addr)),
        }
    }
    true
}

/// The schema block of a change's resource type, from its provider.
pub fn lookup_schema<'s>(schemas: &'s Schemas, rc: &ResourceInstanceChange) -> Option<&'s Block> {
    let provider = schemas.provider(&rc.provider)?;
    let map = match rc.mode() {
        ResourceMode::Managed => &provider.resources,
        ResourceMode::Data => &provider.data_sources,
    };
    map.get(rc.resource_type()).map(|s| &s.block)
}

/// Whether a change is a proposal or drift found by refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Proposed,
    Drift,
}

/// The three-character action symbol of a resource header, as markup.
fn action_symbol(action: Action) -> &'static str {
    match action {
        Action::DeleteThenCreate => "[red]-[reset]/[green]+[reset]",
        Action::CreateThenDelete => "[green]+[reset]/[red]-[reset]",
        Action::Create => "  [green]+[reset]",
        Action::Delete => "  [red]-[reset]",
        Action::Read => " [cyan]<=[reset]",
        Action::Update => "  [yellow]~[reset]",
        Action::NoOp => "   ",
    }
}

/// One resource change: the `# ADDR will be ...` comment, the header line
/// and the body, ending with `}` and a newline.
pub fn render_resource_change(
    rc: &ResourceInstanceChange,
    schema: &Block,
    color: Colorizer,
    language: Language,
) -> String {
    let mut out = String::new();
    let mut addr = rc.addr.to_string();
    if let Some(key) = &rc.deposed {
        addr = format!("{addr} (deposed object {key})");
    }
    use crate::plan::ActionReason as R;
    let comment = match (rc.action, language) {
        (Action::Create, _) => format!("[bold]  # {addr}[reset] will be created"),
        (Action::Read, _) => format!(
            "[bold]  # {addr}[reset] will be read during apply\n  # (config refers to values not yet known)"
        ),
        (Action::Update, Language::Proposed) => {
            format!("[bold]  # {addr}[reset] will be updated in-place")
        }
        (Action::Update, Language::Drift) => format!("[bold]  # {addr}[reset] has been changed"),
        (Action::DeleteThenCreate | Action::CreateThenDelete, _) => match rc.reason {
            R::ReplaceBecauseTainted => {
                format!("[bold]  # {addr}[reset] is tainted, so must be [bold][red]replaced")
            }
            R::ReplaceByRequest => {
                format!("[bold]  # {addr}[reset] will be [bold][red]replaced[reset], as requested")
            }
            R::ReplaceByTriggers => format!(
                "[bold]  # {addr}[reset] will be [bold][red]replaced[reset] due to changes in replace_triggered_by"
            ),
            _ => format!("[bold]  # {addr}[reset] must be [bold][red]replaced"),
        },
        (Action::Delete, Language::Proposed) => {
            format!("[bold]  # {addr}[reset] will be [bold][red]destroyed")
        }
        (Action::Delete, Language::Drift) => format!("[bold]  # {addr}[reset] has been deleted"),
        (Action::NoOp, _) => match &rc.prev_run_addr {
            Some(prev) if rc.moved() => {
                format!("[bold]  # {prev}[reset] has moved to [bold]{addr}[reset]")
            }
            _ if rc.importing.is_some() => format!("[bold]  # {addr}[reset] will be imported"),
            _ => format!("{addr} has no changes"),
        },
    };
    // Terraform colours the comment after formatting the address into it.
    out.push_str(&color.color(&comment));
    if rc.action == Action::Delete && rc.deposed.is_some() {
        out.push_str(
            &color.color("\n  # (left over from a partially-failed replacement of this instance)"),
        );
    }
    out.push_str(&color.color("[reset]\n"));
    if let Some(prev) = &rc.prev_run_addr {
        if rc.moved() && rc.action != Action::NoOp {
            out.push_str(&color.color(&format!("  # [reset](moved from {prev})\n")));
        }
    }
    // A no-op import says so in its comment already; any other action
    // notes the import under the comment, and warns when the imported
    // object is about to be destroyed by a replacement.
    if let Some(id) = &rc.importing {
        if rc.action != Action::NoOp {
            out.push_str(&color.color(&format!("  # [reset](imported from \"{id}\")\n")));
        }
        if rc.action.is_replace() {
            out.push_str(&color.color(
                "  # [reset][yellow]Warning: this will destroy the imported resource[reset]\n",
            ));
        }
    }
    if (rc.moved() || rc.importing.is_some()) && rc.action == Action::NoOp {
        out.push_str("    ");
    } else {
        out.push_str(&color.color(action_symbol(rc.action)));
        out.push(' ');
    }
    match rc.mode() {
        ResourceMode::Managed => out.push_str(&format!(
            "resource {} {}",
            go_quote(rc.resource_type()),
            go_quote(&rc.addr.resource.name)
        )),
        ResourceMode::Data => out.push_str(&format!(
            "data {} {} ",
            go_quote(rc.resource_type()),
            go_quote(&rc.addr.resource.name)
        )),
    }
    out.push_str(" {");
    let mut printer = BodyPrinter::new(color, rc.action, &rc.required_replace);
    // Terraform 1.5 prints every attribute of an object being imported.
    printer.show_unchanged = rc.importing.is_some();
    let ty = schema.implied_type();
    let before = values::normalize_blocks(&typed_or_null(&rc.before, &ty), schema);
    let after = values::normalize_blocks(&typed_or_null(&rc.after, &ty), schema);
    let result = printer.write_block_body(schema, &before, &after, 6, &mut Vec::new());
    out.push_str(&printer.out);
    if result.body_written {
        out.push('\n');
        out.push_str("    ");
    }
    out.push_str("}\n");
    out
}

/// A missing side of a change is a null of the resource's type.
fn typed_or_null(v: &Value, ty: &Type) -> Value {
    if v.is_null() {
        Value::null(ty.clone())
    } else {
        v.clone()
    }
}

/// The body of `Changes to Outputs:`: each output is an attribute of a
/// synthetic block, at indent 2.
fn render_output_changes(outputs: &[&OutputChange], color: Colorizer) -> String {
    let attrs: Vec<(String, AttrInfo)> = outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                AttrInfo {
                    ty: Type::Dynamic,
                    sensitive: o.sensitive,
                    nested: false,
                    nested_type: None,
                },
            )
        })
        .collect();
    let old = Value::object(
        outputs
            .iter()
            .map(|o| (o.name.clone(), o.before.clone()))
            .collect(),
    );
    let new = Value::object(
        outputs
            .iter()
            .map(|o| (o.name.clone(), o.after.clone()))
            .collect(),
    );
    let mut printer = BodyPrinter::new(color, Action::Update, &[]);
    let mut result = BodyResult::default();
    let mut path: Vec<Step> = Vec::new();
    printer.write_attrs(&attrs, &old, &new, 2, &mut path, &mut result);
    printer.out
}

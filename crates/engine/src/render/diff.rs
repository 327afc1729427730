//! The body of one change: attributes, nested blocks and values with their
//! diff markers, as Terraform 1.0's `format/diff.go` prints them.
//!
//! Nested attributes (protocol 6 `nested_type`) render as Terraform 1.3+
//! renders them: like object values, but members that are null on both
//! sides are not printed and `=` aligns over the members shown.

use meshform_lang::schema::{Attribute, AttributeType, Block, NestedType, Nesting};
use meshform_lang::{Data, Type, Value};

use super::text::{go_quote, Colorizer};
use super::values::{
    attr_maybe_null, attribute_type, block_type, collection_values, element_type, entries,
    equal_value_and_marks, equal_with_unknown, json_any, json_structure, mark_count, scan_lines,
    set_has, set_union, types_equal, Step,
};
use crate::plan::{Action, AttrPath};
use meshform_lang::PathStep;

const FORCES_REPLACEMENT: &str = " [red]# forces replacement[reset]";

/// Prints attribute and block diffs into a buffer.
pub(crate) struct BodyPrinter<'a> {
    pub out: String,
    color: Colorizer,
    /// The action of the whole resource: replace paths only matter for a
    /// replacement.
    action: Action,
    required_replace: &'a [AttrPath],
    /// Inside a nested attribute: null object members are not printed.
    omit_null_members: bool,
    /// Print unchanged attributes and blocks instead of counting them as
    /// hidden (an object being imported is shown whole).
    pub show_unchanged: bool,
}

#[derive(Default)]
pub(crate) struct BodyResult {
    pub body_written: bool,
    skipped_attributes: usize,
    skipped_blocks: usize,
}

/// An attribute as the printer sees it: its type, whether the schema makes
/// it sensitive, and whether it is a nested attribute.
pub(crate) struct AttrInfo {
    pub ty: Type,
    pub sensitive: bool,
    pub nested: bool,
    /// For a nested attribute: its members' schema, so that members the
    /// schema declares sensitive never print.
    pub nested_type: Option<NestedType>,
}

fn indent(n: usize) -> String {
    " ".repeat(n)
}

fn noun(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        one.to_owned()
    } else {
        many.to_owned()
    }
}

fn step_matches(step: &Step, want: &PathStep) -> bool {
    match (step, want) {
        (Step::Attr(a) | Step::Key(a), PathStep::Attr(b) | PathStep::Key(b)) => a == b,
        (Step::Index(i), PathStep::Index(j)) => i == j,
        _ => false,
    }
}

impl<'a> BodyPrinter<'a> {
    pub fn new(color: Colorizer, action: Action, required_replace: &'a [AttrPath]) -> Self {
        BodyPrinter {
            out: String::new(),
            color,
            action,
            required_replace,
            omit_null_members: false,
            show_unchanged: false,
        }
    }

    fn c(&self, markup: &str) -> String {
        self.color.color(markup)
    }

    fn push_color(&mut self, markup: &str) {
        let s = self.c(markup);
        self.out.push_str(&s);
    }

    fn forces(&self, path: &[Step]) -> bool {
        if !self.action.is_replace() || self.required_replace.is_empty() {
            return false;
        }
        self.required_replace.iter().any(|p| {
            p.len() == path.len() && p.iter().zip(path).all(|(want, s)| step_matches(s, want))
        })
    }

    fn forces_here_or_parent(&self, path: &[Step]) -> bool {
        self.forces(path) || (!path.is_empty() && self.forces(&path[..path.len() - 1]))
    }

    fn write_forces_if(&mut self, path: &[Step]) {
        if self.forces(path) {
            self.push_color(FORCES_REPLACEMENT);
        }
    }

    fn write_symbol(&mut self, action: Action) {
        match action {
            Action::Create => self.push_color("[green]+[reset] "),
            Action::Delete => self.push_color("[red]-[reset] "),
            Action::Update => self.push_color("[yellow]~[reset] "),
            Action::NoOp => self.out.push_str("  "),
            _ => self.push_color("? "),
        }
    }

    fn write_hidden(&mut self, count: usize, what_one: &str, what_many: &str) {
        let text = format!(
            "[dark_gray]# ({count} unchanged {} hidden)[reset]",
            noun(count, what_one, what_many)
        );
        self.push_color(&text);
    }

    /// The attributes and nested blocks of a block.
    pub fn write_block_body(
        &mut self,
        schema: &Block,
        old: &Value,
        new: &Value,
        ind: usize,
        path: &mut Vec<Step>,
    ) -> BodyResult {
        let mut result = BodyResult::default();
        let attrs: Vec<(String, AttrInfo)> = schema
            .attributes
            .iter()
            .map(|(name, a)| {
                (
                    name.clone(),
                    AttrInfo {
                        ty: attribute_type(a),
                        sensitive: a.sensitive,
                        nested: matches!(a.ty, AttributeType::Nested(_)),
                        nested_type: match &a.ty {
                            AttributeType::Nested(n) => Some(n.clone()),
                            AttributeType::Type(_) => None,
                        },
                    },
                )
            })
            .collect();
        let mut blank_before_blocks = self.write_attrs(&attrs, old, new, ind, path, &mut result);
        self.write_skipped_attrs(result.skipped_attributes, ind + 2);

        for (name, nested) in &schema.block_types {
            let ty = block_type(nested);
            let old_v = attr_maybe_null(old, name, &ty);
            let new_v = attr_maybe_null(new, name, &ty);
            result.body_written = true;
            path.push(Step::Attr(name.clone()));
            result.skipped_blocks += self.write_nested_blocks(
                name,
                nested.nesting,
                &nested.block,
                &old_v,
                &new_v,
                blank_before_blocks,
                ind,
                path,
            );
            path.pop();
            blank_before_blocks = true;
        }
        if result.skipped_blocks > 0 {
            self.out.push('\n');
            self.out.push_str(&indent(ind + 2));
            self.write_hidden(result.skipped_blocks, "block", "blocks");
        }
        result
    }

    /// The attribute lines of a block; returns whether any were written
    /// (a blank line then separates the nested blocks).
    pub fn write_attrs(
        &mut self,
        attrs: &[(String, AttrInfo)],
        old: &Value,
        new: &Value,
        ind: usize,
        path: &mut Vec<Step>,
        result: &mut BodyResult,
    ) -> bool {
        let mut shown: Vec<(&String, &AttrInfo, Value, Value)> = Vec::new();
        let mut name_len = 0;
        for (name, info) in attrs {
            let o = attr_maybe_null(old, name, &info.ty);
            let n = attr_maybe_null(new, name, &info.ty);
            if o.is_null() && n.is_null() {
                continue;
            }
            name_len = name_len.max(name.len());
            shown.push((name, info, o, n));
        }
        shown.sort_by(|a, b| a.0.cmp(b.0));
        if shown.is_empty() {
            return false;
        }
        for (name, info, o, n) in shown {
            result.body_written = true;
            path.push(Step::Attr(name.clone()));
            let skipped = self.write_attr(name, info, &o, &n, name_len, ind, path);
            path.pop();
            if skipped {
                result.skipped_attributes += 1;
            }
        }
        true
    }

    fn write_skipped_attrs(&mut self, skipped: usize, ind: usize) {
        if skipped > 0 {
            self.out.push('\n');
            self.out.push_str(&indent(ind));
            self.write_hidden(skipped, "attribute", "attributes");
        }
    }

    /// One attribute line; returns true when it is hidden as unchanged.
    #[allow(clippy::too_many_arguments)]
    fn write_attr(
        &mut self,
        name: &str,
        info: &AttrInfo,
        old: &Value,
        new: &Value,
        name_len: usize,
        ind: usize,
        path: &mut Vec<Step>,
    ) -> bool {
        let (action, show_just_new) = if old.is_null() {
            (Action::Create, true)
        } else if new.is_null() {
            (Action::Delete, false)
        } else if equal_with_unknown(old, new) {
            (Action::NoOp, true)
        } else {
            (Action::Update, false)
        };
        if action == Action::NoOp && !identifying_attribute(name) && !self.show_unchanged {
            return true;
        }
        self.out.push('\n');
        self.write_sensitivity_warning(old, new, ind, action, false);
        self.out.push_str(&indent(ind));
        self.write_symbol(action);
        self.push_color("[bold]");
        self.out.push_str(name);
        self.push_color("[reset]");
        self.out.push_str(&indent(name_len - name.len()));
        self.out.push_str(" = ");

        if info.sensitive || (info.nested && (old.is_sensitive() || new.is_sensitive())) {
            self.out.push_str("(sensitive value)");
            self.write_forces_if(path);
            return false;
        }
        let saved = self.omit_null_members;
        if info.nested {
            self.omit_null_members = true;
        }
        let (old, new) = match &info.nested_type {
            Some(n) => (mark_nested_sensitive(old, n), mark_nested_sensitive(new, n)),
            None => (old.clone(), new.clone()),
        };
        if show_just_new {
            self.write_value(&new, action, ind + 2);
            self.write_forces_if(path);
        } else {
            self.write_value_diff(&old, &new, ind + 2, path);
        }
        self.omit_null_members = saved;
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn write_nested_blocks(
        &mut self,
        name: &str,
        nesting: Nesting,
        schema: &Block,
        old: &Value,
        new: &Value,
        blank_before: bool,
        ind: usize,
        path: &mut Vec<Step>,
    ) -> usize {
        let mut skipped = 0;
        if old.is_null() && new.is_null() {
            return 0;
        }
        if old.is_sensitive() || new.is_sensitive() {
            self.write_sensitive_nested_block(name, old, new, ind, blank_before, path);
            return 0;
        }
        match nesting {
            Nesting::Single | Nesting::Group => {
                let action = if old.is_null() {
                    Action::Create
                } else if new.is_null() {
                    Action::Delete
                } else if !new.is_wholly_known()
                    || !old.is_wholly_known()
                    || new.equals(old).as_bool() != Some(true)
                {
                    Action::Update
                } else {
                    Action::NoOp
                };
                if blank_before {
                    self.out.push('\n');
                }
                if self.write_nested_block(name, None, schema, action, old, new, ind, path) {
                    return 1;
                }
            }
            Nesting::List => {
                let old_items = collection_values(old);
                let new_items = collection_values(new);
                let common = old_items.len().min(new_items.len());
                if blank_before && (!old_items.is_empty() || !new_items.is_empty()) {
                    self.out.push('\n');
                }
                for i in 0..common {
                    let action = if old_items[i].raw_equal(&new_items[i]) {
                        Action::NoOp
                    } else {
                        Action::Update
                    };
                    path.push(Step::Index(i));
                    if self.write_nested_block(
                        name,
                        None,
                        schema,
                        action,
                        &old_items[i],
                        &new_items[i],
                        ind,
                        path,
                    ) {
                        skipped += 1;
                    }
                    path.pop();
                }
                for (i, o) in old_items.iter().enumerate().skip(common) {
                    let n = Value::null(o.ty());
                    path.push(Step::Index(i));
                    if self.write_nested_block(name, None, schema, Action::Delete, o, &n, ind, path)
                    {
                        skipped += 1;
                    }
                    path.pop();
                }
                for (i, n) in new_items.iter().enumerate().skip(common) {
                    let o = Value::null(n.ty());
                    path.push(Step::Index(i));
                    if self.write_nested_block(name, None, schema, Action::Create, &o, n, ind, path)
                    {
                        skipped += 1;
                    }
                    path.pop();
                }
            }
            Nesting::Set => {
                let old_items = collection_values(old);
                let new_items = collection_values(new);
                if old_items.is_empty() && new_items.is_empty() {
                    return 0;
                }
                let elem = if old.is_null() {
                    element_type(new)
                } else {
                    element_type(old)
                };
                let all = set_union(&elem, old_items.into_iter().chain(new_items).collect());
                if blank_before {
                    self.out.push('\n');
                }
                for val in all {
                    let (action, o, n) = if !val.is_known() {
                        (Action::Update, Value::null(val.ty()), val.clone())
                    } else if !set_has(old, &val) {
                        (Action::Create, Value::null(val.ty()), val.clone())
                    } else if !set_has(new, &val) {
                        (Action::Delete, val.clone(), Value::null(val.ty()))
                    } else {
                        (Action::NoOp, val.clone(), val.clone())
                    };
                    path.push(Step::Element);
                    if self.write_nested_block(name, None, schema, action, &o, &n, ind, path) {
                        skipped += 1;
                    }
                    path.pop();
                }
            }
            Nesting::Map => {
                let old_items = entries(old);
                let new_items = entries(new);
                if old_items.is_empty() && new_items.is_empty() {
                    return 0;
                }
                let mut keys: Vec<&String> = old_items.keys().chain(new_items.keys()).collect();
                keys.sort();
                keys.dedup();
                if blank_before {
                    self.out.push('\n');
                }
                for k in keys {
                    let (action, o, n) = match (old_items.get(k), new_items.get(k)) {
                        (None, Some(n)) => (Action::Create, Value::null(n.ty()), n.clone()),
                        (Some(o), None) => (Action::Delete, o.clone(), Value::null(o.ty())),
                        (Some(o), Some(n)) if !n.raw_equal(o) => {
                            (Action::Update, o.clone(), n.clone())
                        }
                        (Some(o), Some(n)) => (Action::NoOp, o.clone(), n.clone()),
                        (None, None) => continue,
                    };
                    path.push(Step::Key(k.clone()));
                    if self.write_nested_block(name, Some(k), schema, action, &o, &n, ind, path) {
                        skipped += 1;
                    }
                    path.pop();
                }
            }
        }
        skipped
    }

    fn write_sensitive_nested_block(
        &mut self,
        name: &str,
        old: &Value,
        new: &Value,
        ind: usize,
        blank_before: bool,
        path: &[Step],
    ) {
        let action = if old.is_null() {
            Action::Create
        } else if new.is_null() {
            Action::Delete
        } else if !new.is_wholly_known()
            || !old.is_wholly_known()
            || !equal_value_and_marks(old, new)
        {
            Action::Update
        } else {
            Action::NoOp
        };
        if blank_before {
            self.out.push('\n');
        }
        self.out.push('\n');
        self.write_sensitivity_warning(old, new, ind, action, true);
        self.out.push_str(&indent(ind));
        self.write_symbol(action);
        self.out.push_str(name);
        self.out.push_str(" {");
        if action != Action::NoOp && self.forces(path) {
            self.push_color(FORCES_REPLACEMENT);
        }
        self.out.push('\n');
        self.out.push_str(&indent(ind + 4));
        self.out
            .push_str("# At least one attribute in this block is (or was) sensitive,\n");
        self.out.push_str(&indent(ind + 4));
        self.out
            .push_str("# so its contents will not be displayed.");
        self.out.push('\n');
        self.out.push_str(&indent(ind + 2));
        self.out.push('}');
    }

    /// One nested block; returns true when it is hidden as unchanged.
    #[allow(clippy::too_many_arguments)]
    fn write_nested_block(
        &mut self,
        name: &str,
        label: Option<&str>,
        schema: &Block,
        action: Action,
        old: &Value,
        new: &Value,
        ind: usize,
        path: &mut Vec<Step>,
    ) -> bool {
        if action == Action::NoOp && !self.show_unchanged {
            return true;
        }
        self.out.push('\n');
        self.out.push_str(&indent(ind));
        self.write_symbol(action);
        self.out.push_str(name);
        if let Some(label) = label {
            self.out.push(' ');
            self.out.push_str(&go_quote(label));
        }
        self.out.push_str(" {");
        if self.forces_here_or_parent(path) {
            self.push_color(FORCES_REPLACEMENT);
        }
        let result = self.write_block_body(schema, old, new, ind + 4, path);
        if result.body_written {
            self.out.push('\n');
            self.out.push_str(&indent(ind + 2));
        }
        self.out.push('}');
        false
    }

    /// A whole value (creates, deletes and context lines).
    pub fn write_value(&mut self, val: &Value, action: Action, ind: usize) {
        if val.is_sensitive() {
            self.out.push_str("(sensitive)");
            return;
        }
        match val.data() {
            Data::Unknown(_) => self.out.push_str("(known after apply)"),
            Data::Null(_) => self.push_color("[dark_gray]null[reset]"),
            Data::String(s) => {
                if s.trim() != "null" {
                    if let Some(jv) = json_structure(s) {
                        self.out.push_str("jsonencode(");
                        if jv.length() == Some(0) {
                            self.write_value(&jv, action, 0);
                        } else {
                            self.out.push('\n');
                            self.out.push_str(&indent(ind + 4));
                            self.write_value(&jv, action, ind + 4);
                            self.out.push('\n');
                            self.out.push_str(&indent(ind));
                        }
                        self.out.push(')');
                        return;
                    }
                }
                if s.contains('\n') {
                    self.write_value_diff(val, val, ind, &mut Vec::new());
                    return;
                }
                self.out.push_str(&go_quote(s));
            }
            Data::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Data::Number(n) => self.out.push_str(&n.to_text()),
            Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                self.out.push('[');
                for item in items {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind + 2));
                    self.write_symbol(action);
                    self.write_value(item, action, ind + 4);
                    self.out.push(',');
                }
                if !items.is_empty() {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind));
                }
                self.out.push(']');
            }
            Data::Map(_, items) => {
                self.out.push('{');
                let key_len = items.keys().map(String::len).max().unwrap_or(0);
                for (k, item) in items {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind + 2));
                    self.write_symbol(action);
                    // Terraform prints keys as string values, JSON and
                    // multi-line forms included.
                    self.write_value(&Value::string(k.as_str()), action, ind + 4);
                    self.out.push_str(&indent(key_len - k.len()));
                    self.out.push_str(" = ");
                    self.write_value(item, action, ind + 4);
                }
                if !items.is_empty() {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind));
                }
                self.out.push('}');
            }
            Data::Object(attrs) => {
                self.out.push('{');
                let shown: Vec<(&String, &Value)> = attrs
                    .iter()
                    .filter(|(_, v)| !(self.omit_null_members && v.is_null()))
                    .collect();
                let name_len = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                for (k, item) in &shown {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind + 2));
                    self.write_symbol(action);
                    self.out.push_str(k);
                    self.out.push_str(&indent(name_len - k.len()));
                    self.out.push_str(" = ");
                    self.write_value(item, action, ind + 4);
                }
                if !shown.is_empty() || (self.omit_null_members && !attrs.is_empty()) {
                    self.out.push('\n');
                    self.out.push_str(&indent(ind));
                }
                self.out.push('}');
            }
        }
    }

    /// The change from `old` to `new`, element by element where that helps.
    pub fn write_value_diff(&mut self, old: &Value, new: &Value, ind: usize, path: &mut Vec<Step>) {
        let ty = old.ty();
        let same_type = types_equal(&ty, &new.ty());
        if old.is_known() && new.is_known() && !old.is_null() && !new.is_null() && same_type {
            if old.is_sensitive() || new.is_sensitive() {
                self.out.push_str("(sensitive)");
                self.write_forces_if(path);
                return;
            }
            match (old.data(), new.data()) {
                (Data::String(o), Data::String(n)) if self.write_string_diff(o, n, ind, path) => {
                    return;
                }
                (Data::Set(..), Data::Set(..)) => {
                    self.write_set_diff(old, new, ind, path);
                    return;
                }
                (Data::List(_, o), Data::List(_, n)) | (Data::Tuple(o), Data::Tuple(n)) => {
                    self.write_sequence_diff(o, n, ind, path);
                    return;
                }
                (Data::Map(_, o), Data::Map(_, n)) => {
                    self.write_map_diff(o, n, ind, path);
                    return;
                }
                (Data::Object(o), Data::Object(n)) => {
                    self.write_object_diff(o, n, ind, path);
                    return;
                }
                _ => {}
            }
        }
        self.write_value(old, Action::Delete, ind);
        if new.is_null() {
            self.push_color(" [dark_gray]->[reset] ");
        } else {
            self.push_color(" [yellow]->[reset] ");
        }
        self.write_value(new, Action::Create, ind);
        self.write_forces_if(path);
    }

    /// JSON and multi-line string diffs; false when the plain `old -> new`
    /// form applies.
    fn write_string_diff(&mut self, o: &str, n: &str, ind: usize, path: &mut Vec<Step>) -> bool {
        if let (Some(oj), Some(nj)) = (json_any(o), json_any(n)) {
            let both_primitive = oj.ty().is_primitive() && nj.ty().is_primitive();
            if !both_primitive {
                if !oj.raw_equal(&nj) {
                    self.out.push_str("jsonencode(");
                    self.out.push('\n');
                    self.out.push_str(&indent(ind + 2));
                    self.write_symbol(Action::Update);
                    self.write_value_diff(&oj, &nj, ind + 4, path);
                    self.out.push('\n');
                    self.out.push_str(&indent(ind));
                    self.out.push(')');
                } else {
                    if self.forces(path) {
                        self.push_color(
                            "jsonencode( [red]# whitespace changes force replacement[reset]",
                        );
                    } else {
                        self.push_color("jsonencode( [dim]# whitespace changes[reset]");
                    }
                    self.out.push('\n');
                    self.out.push_str(&indent(ind + 4));
                    self.write_value(&oj, Action::NoOp, ind + 4);
                    self.out.push('\n');
                    self.out.push_str(&indent(ind));
                    self.out.push(')');
                }
                return true;
            }
        }
        if !o.contains('\n') && !n.contains('\n') {
            return false;
        }
        self.out.push_str("<<-EOT");
        self.write_forces_if(path);
        self.out.push('\n');
        let old_lines = scan_lines(o);
        let new_lines = scan_lines(n);
        if o == n {
            for line in new_lines {
                self.out.push_str(&indent(ind + 4));
                self.out.push_str(line);
                self.out.push('\n');
            }
        } else {
            let ov: Vec<Value> = old_lines.iter().map(|l| Value::string(*l)).collect();
            let nv: Vec<Value> = new_lines.iter().map(|l| Value::string(*l)).collect();
            for d in sequence_diff(&ov, &nv) {
                self.out.push_str(&indent(ind + 2));
                self.write_symbol(d.action);
                let line = match d.action {
                    Action::NoOp | Action::Delete => &d.before,
                    _ => &d.after,
                };
                self.out.push_str(line.as_str().unwrap_or_default());
                self.out.push('\n');
            }
        }
        self.out.push_str(&indent(ind));
        self.out.push_str("EOT");
        true
    }

    fn write_set_diff(&mut self, old: &Value, new: &Value, ind: usize, path: &[Step]) {
        self.out.push('[');
        self.write_forces_if(path);
        self.out.push('\n');
        let old_items = collection_values(old);
        let new_items = collection_values(new);
        let removed: Vec<Value> = old_items
            .iter()
            .filter(|v| !set_has(new, v) && v.is_known())
            .cloned()
            .collect();
        let added: Vec<Value> = new_items
            .iter()
            .filter(|v| v.is_known() && !set_has(old, v))
            .cloned()
            .collect();
        let all = set_union(
            &element_type(old),
            old_items.into_iter().chain(new_items).collect(),
        );
        let mut suppressed = 0;
        for val in all {
            let action = if !val.is_known() {
                Action::Update
            } else if added.iter().any(|a| a.raw_equal(&val)) {
                Action::Create
            } else if removed.iter().any(|r| r.raw_equal(&val)) {
                Action::Delete
            } else {
                Action::NoOp
            };
            if action == Action::NoOp && !self.show_unchanged {
                suppressed += 1;
                continue;
            }
            self.out.push_str(&indent(ind + 2));
            self.write_symbol(action);
            self.write_value(&val, action, ind + 4);
            self.out.push_str(",\n");
        }
        self.write_suppressed_elements(suppressed, ind);
        self.out.push_str(&indent(ind));
        self.out.push(']');
    }

    fn write_suppressed_elements(&mut self, count: usize, ind: usize) {
        if count > 0 {
            self.write_symbol(Action::NoOp);
            self.out.push_str(&indent(ind + 2));
            self.write_hidden(count, "element", "elements");
            self.out.push('\n');
        }
    }

    fn write_sequence_diff(
        &mut self,
        old: &[Value],
        new: &[Value],
        ind: usize,
        path: &mut Vec<Step>,
    ) {
        self.out.push('[');
        self.write_forces_if(path);
        self.out.push('\n');
        let diffs = sequence_diff(old, new);
        let mut suppressed: Vec<&ElementChange> = Vec::new();
        let mut change_shown = false;
        let mut i = 0;
        loop {
            while !self.show_unchanged && i < diffs.len() && diffs[i].action == Action::NoOp {
                suppressed.push(&diffs[i]);
                i += 1;
            }
            if !suppressed.is_empty() {
                if change_shown {
                    let first = suppressed.remove(0);
                    self.out.push_str(&indent(ind + 4));
                    self.write_value(&first.after, first.action, ind + 4);
                    self.out.push_str(",\n");
                }
                let mut hidden = suppressed.len();
                let mut next_context = None;
                if hidden > 0 && i < diffs.len() {
                    hidden -= 1;
                    next_context = Some(suppressed[hidden]);
                }
                if hidden > 0 {
                    self.write_suppressed_elements(hidden, ind);
                }
                if let Some(ctx) = next_context {
                    self.out.push_str(&indent(ind + 4));
                    self.write_value(&ctx.after, ctx.action, ind + 4);
                    self.out.push_str(",\n");
                }
                suppressed.clear();
            }
            if i >= diffs.len() {
                break;
            }
            let d = &diffs[i];
            self.out.push_str(&indent(ind + 2));
            self.write_symbol(d.action);
            match d.action {
                Action::NoOp | Action::Delete => self.write_value(&d.before, d.action, ind + 4),
                Action::Update => self.write_value_diff(&d.before, &d.after, ind + 4, path),
                _ => self.write_value(&d.after, d.action, ind + 4),
            }
            self.out.push_str(",\n");
            change_shown = true;
            i += 1;
        }
        self.out.push_str(&indent(ind));
        self.out.push(']');
    }

    fn write_map_diff(
        &mut self,
        old: &std::collections::BTreeMap<String, Value>,
        new: &std::collections::BTreeMap<String, Value>,
        ind: usize,
        path: &mut Vec<Step>,
    ) {
        self.out.push('{');
        self.write_forces_if(path);
        self.out.push('\n');
        let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        let key_len = keys.iter().map(|k| k.len()).max().unwrap_or(0);
        let mut suppressed = 0;
        for k in keys {
            let (o, n) = (old.get(k), new.get(k));
            let action = match (o, n) {
                (None, _) => Action::Create,
                (_, None) => Action::Delete,
                (Some(o), Some(n)) if equal_value_and_marks(o, n) => Action::NoOp,
                _ => Action::Update,
            };
            if action == Action::NoOp && !self.show_unchanged {
                suppressed += 1;
                continue;
            }
            let null_of = |v: Option<&Value>, other: Option<&Value>| {
                v.cloned()
                    .unwrap_or_else(|| Value::null(other.map(Value::ty).unwrap_or(Type::Dynamic)))
            };
            let ov = null_of(o, n);
            let nv = null_of(n, o);
            path.push(Step::Key(k.clone()));
            self.write_sensitivity_warning(&ov, &nv, ind + 2, action, false);
            self.out.push_str(&indent(ind + 2));
            self.write_symbol(action);
            self.write_value(&Value::string(k.as_str()), action, ind + 4);
            self.out.push_str(&indent(key_len - k.len()));
            self.out.push_str(" = ");
            match action {
                Action::Create | Action::NoOp => {
                    if nv.is_sensitive() {
                        self.out.push_str("(sensitive)");
                    } else {
                        self.write_value(&nv, action, ind + 4);
                    }
                }
                Action::Delete => {
                    let null = Value::null(ov.ty());
                    self.write_value_diff(&ov, &null, ind + 4, path);
                }
                _ => {
                    if ov.is_sensitive() || nv.is_sensitive() {
                        self.out.push_str("(sensitive)");
                    } else {
                        self.write_value_diff(&ov, &nv, ind + 4, path);
                    }
                }
            }
            path.pop();
            self.out.push('\n');
        }
        self.write_suppressed_elements(suppressed, ind);
        self.out.push_str(&indent(ind));
        self.out.push('}');
    }

    fn write_object_diff(
        &mut self,
        old: &std::collections::BTreeMap<String, Value>,
        new: &std::collections::BTreeMap<String, Value>,
        ind: usize,
        path: &mut Vec<Step>,
    ) {
        self.out.push_str("{\n");
        let forces = self.forces(path);
        let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        if self.omit_null_members {
            keys.retain(|k| {
                !(old.get(*k).is_none_or(Value::is_null) && new.get(*k).is_none_or(Value::is_null))
            });
        }
        let key_len = keys.iter().map(|k| k.len()).max().unwrap_or(0);
        let mut suppressed = 0;
        for k in keys {
            let (o, n) = (old.get(k), new.get(k));
            let action = match (o, n) {
                (None, _) => Action::Create,
                (_, None) => Action::Delete,
                (Some(o), Some(n)) if equal_value_and_marks(o, n) => Action::NoOp,
                _ => Action::Update,
            };
            if action == Action::NoOp && !self.show_unchanged {
                suppressed += 1;
                continue;
            }
            path.push(Step::Attr(k.clone()));
            self.out.push_str(&indent(ind + 2));
            self.write_symbol(action);
            self.out.push_str(k);
            self.out.push_str(&indent(key_len - k.len()));
            self.out.push_str(" = ");
            match (action, o, n) {
                (Action::Create | Action::NoOp, _, Some(n)) => self.write_value(n, action, ind + 4),
                (Action::Delete, Some(o), _) => {
                    let null = Value::null(o.ty());
                    self.write_value_diff(o, &null, ind + 4, path);
                }
                (_, Some(o), Some(n)) => self.write_value_diff(o, n, ind + 4, path),
                _ => {}
            }
            path.pop();
            self.out.push('\n');
        }
        if self.omit_null_members {
            // Nested attribute members count as attributes, as Terraform
            // 1.3+ words it.
            if suppressed > 0 {
                self.write_symbol(Action::NoOp);
                self.out.push_str(&indent(ind + 2));
                self.write_hidden(suppressed, "attribute", "attributes");
                self.out.push('\n');
            }
        } else {
            self.write_suppressed_elements(suppressed, ind);
        }
        self.out.push_str(&indent(ind));
        self.out.push('}');
        if forces {
            self.push_color(FORCES_REPLACEMENT);
        }
    }

    /// The two warning lines printed when a value's sensitivity changes.
    fn write_sensitivity_warning(
        &mut self,
        old: &Value,
        new: &Value,
        ind: usize,
        action: Action,
        is_block: bool,
    ) {
        if matches!(action, Action::Create | Action::Delete) {
            return;
        }
        let what = if is_block { "block" } else { "attribute value" };
        let unchanged = if !is_block
            && old
                .clone()
                .unmark_deep()
                .raw_equal(&new.clone().unmark_deep())
        {
            " The value is unchanged."
        } else {
            ""
        };
        if new.is_sensitive() && !old.is_sensitive() {
            self.out.push_str(&indent(ind));
            let line = self.c(&format!(
                "# [yellow]Warning:[reset] this {what} will be marked as sensitive and will not\n"
            ));
            self.out.push_str(&line);
            self.out.push_str(&indent(ind));
            self.out.push_str(&format!(
                "# display in UI output after applying this change.{unchanged}\n"
            ));
        }
        if old.is_sensitive() && !new.is_sensitive() {
            self.out.push_str(&indent(ind));
            let line = self.c(&format!(
                "# [yellow]Warning:[reset] this {what} will no longer be marked as sensitive\n"
            ));
            self.out.push_str(&line);
            self.out.push_str(&indent(ind));
            self.out
                .push_str(&format!("# after applying this change.{unchanged}\n"));
        }
    }
}

/// Marks the members of a nested attribute value that its schema declares
/// sensitive, so that they print as `(sensitive)`.
fn mark_nested_sensitive(v: &Value, nested: &NestedType) -> Value {
    let object = |o: &Value| -> Value {
        let Some(members) = o.as_entries() else {
            return o.clone();
        };
        let marked = members
            .iter()
            .map(|(k, m)| {
                let m = match nested.attributes.get(k) {
                    Some(a) if a.sensitive => m.clone().mark_sensitive(),
                    Some(Attribute {
                        ty: AttributeType::Nested(inner),
                        ..
                    }) => mark_nested_sensitive(m, inner),
                    _ => m.clone(),
                };
                (k.clone(), m)
            })
            .collect();
        Value::object(marked).mark_sensitive_if(o.is_sensitive())
    };
    if !nested
        .attributes
        .values()
        .any(Attribute::contains_sensitive)
    {
        return v.clone();
    }
    match v.data() {
        Data::Object(_) => object(v),
        Data::List(t, items) => Value::list(t.clone(), items.iter().map(object).collect())
            .mark_sensitive_if(v.is_sensitive()),
        Data::Set(t, items) => Value::set(t.clone(), items.iter().map(object).collect())
            .mark_sensitive_if(v.is_sensitive()),
        Data::Map(t, items) => Value::map(
            t.clone(),
            items.iter().map(|(k, o)| (k.clone(), object(o))).collect(),
        )
        .mark_sensitive_if(v.is_sensitive()),
        _ => v.clone(),
    }
}

/// `identifyingAttribute`: unchanged attributes with these names still show.
fn identifying_attribute(name: &str) -> bool {
    matches!(name, "id" | "name" | "tags")
}

/// One element of a sequence diff.
pub(crate) struct ElementChange {
    pub action: Action,
    pub before: Value,
    pub after: Value,
}

/// Elements equal for the longest common subsequence: equal values with
/// as many marks.
fn lcs_equal(a: &Value, b: &Value) -> bool {
    if !a.contains_sensitive() && !b.contains_sensitive() {
        // Lines of long heredocs land here: compare bytes first, since
        // Terraform's string equality only differs for non-ASCII text.
        if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
            if x == y {
                return true;
            }
            if x.is_ascii() && y.is_ascii() {
                return false;
            }
        }
        return a.equals(b).as_bool() == Some(true);
    }
    let same = a.clone().unmark_deep().equals(&b.clone().unmark_deep());
    same.as_bool() == Some(true) && mark_count(a) == mark_count(b)
}

/// The longest common subsequence of two sequences, walking back from the
/// end as Terraform's `objchange.LongestCommonSubsequence` does (ties go
/// towards the earlier element of `new`).
fn longest_common_subsequence(xs: &[Value], ys: &[Value]) -> Vec<Value> {
    if xs.is_empty() || ys.is_empty() {
        return Vec::new();
    }
    let w = xs.len();
    let mut c = vec![0usize; xs.len() * ys.len()];
    let mut eqs = vec![false; xs.len() * ys.len()];
    for y in 0..ys.len() {
        for x in 0..xs.len() {
            let eq = lcs_equal(&xs[x], &ys[y]);
            let at = w * y + x;
            if eq {
                eqs[at] = true;
                c[at] = if x == 0 || y == 0 {
                    1
                } else {
                    c[w * (y - 1) + (x - 1)] + 1
                };
            } else {
                let l = if x > 0 { c[at - 1] } else { 0 };
                let u = if y > 0 { c[w * (y - 1) + x] } else { 0 };
                c[at] = l.max(u);
            }
        }
    }
    let mut seq = Vec::with_capacity(c[c.len() - 1]);
    let (mut x, mut y) = (xs.len() as isize - 1, ys.len() as isize - 1);
    while x >= 0 && y >= 0 {
        let at = w * y as usize + x as usize;
        if eqs[at] {
            seq.push(xs[x as usize].clone());
            x -= 1;
            y -= 1;
        } else {
            let l = if x > 0 { c[at - 1] } else { 0 };
            let u = if y > 0 {
                c[w * (y as usize - 1) + x as usize]
            } else {
                0
            };
            if l > u {
                x -= 1;
            } else {
                y -= 1;
            }
        }
    }
    seq.reverse();
    seq
}

/// `ctySequenceDiff`: deletions, additions and kept elements; an object
/// replaced by an object at the same spot is one in-place update.
pub(crate) fn sequence_diff(old: &[Value], new: &[Value]) -> Vec<ElementChange> {
    let lcs = longest_common_subsequence(old, new);
    let mut out = Vec::new();
    let (mut oi, mut ni, mut li) = (0, 0, 0);
    let is_object = |v: &Value| matches!(v.ty(), Type::Object { .. });
    while oi < old.len() || ni < new.len() || li < lcs.len() {
        while oi < old.len() && (li >= lcs.len() || !old[oi].raw_equal(&lcs[li])) {
            let object_update = is_object(&old[oi])
                && ni < new.len()
                && is_object(&new[ni])
                && (li >= lcs.len() || !new[ni].raw_equal(&lcs[li]));
            if object_update {
                out.push(ElementChange {
                    action: Action::Update,
                    before: old[oi].clone(),
                    after: new[ni].clone(),
                });
                oi += 1;
                ni += 1;
                continue;
            }
            out.push(ElementChange {
                action: Action::Delete,
                before: old[oi].clone(),
                after: Value::null(old[oi].ty()),
            });
            oi += 1;
        }
        while ni < new.len() && (li >= lcs.len() || !new[ni].raw_equal(&lcs[li])) {
            out.push(ElementChange {
                action: Action::Create,
                before: Value::null(new[ni].ty()),
                after: new[ni].clone(),
            });
            ni += 1;
        }
        if li < lcs.len() {
            out.push(ElementChange {
                action: Action::NoOp,
                before: lcs[li].clone(),
                after: lcs[li].clone(),
            });
            li += 1;
            oi += 1;
            ni += 1;
        }
    }
    out
}

//! Decoding one file's HCL body into the configuration model.

use std::sync::Arc;

use meshform_lang::hcl_edit::expr::{Expression, TraversalOperator};
use meshform_lang::hcl_edit::structure::{Block, Body, Structure};
use meshform_lang::hcl_edit::template::Element;
use meshform_lang::hcl_edit::Span;
use meshform_lang::{suggest, Diagnostic, Diagnostics, SourceFile, SourceRange};

use crate::module::*;

/// Top-level block types Terraform knows, for "Did you mean" hints.
const TOP_LEVEL_BLOCKS: &[&str] = &[
    "terraform",
    "provider",
    "variable",
    "locals",
    "resource",
    "data",
    "output",
    "module",
    "moved",
    "import",
];

/// Names a variable may not have: they are meta-arguments of module calls.
const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
];

/// A top-level block before decoding: its header and its content. Override
/// files are merged at this level, as Terraform merges them.
#[derive(Debug, Clone)]
pub struct RawBlock {
    pub ty: String,
    pub labels: Vec<String>,
    pub label_ranges: Vec<SourceRange>,
    pub content: Content,
    pub def_range: SourceRange,
    pub type_range: SourceRange,
}

impl RawBlock {
    /// The identity a block of an override file replaces: its type and labels.
    pub fn key(&self) -> (String, Vec<String>) {
        (self.ty.clone(), self.labels.clone())
    }
}

/// Splits a file into its top-level blocks, reporting top-level arguments.
pub fn raw_blocks(file: &Arc<SourceFile>, body: Body, diags: &mut Diagnostics) -> Vec<RawBlock> {
    let range = |span: Option<std::ops::Range<usize>>| file.range(span.unwrap_or(0..0));
    let mut out = Vec::new();
    // The body is taken apart rather than copied: expressions move into
    // the module, which matters for configurations of thousands of blocks.
    for structure in body {
        match structure {
            Structure::Attribute(a) => {
                let name = a.key.as_str();
                diags.push(
                    Diagnostic::error(
                        "Unsupported argument",
                        format!("An argument named {name:?} is not expected here."),
                    )
                    .with_subject(range(a.key.span())),
                );
            }
            Structure::Block(b) => {
                let def_range = def_range(file, &b);
                let whole = range(b.span());
                out.push(RawBlock {
                    ty: b.ident.as_str().to_owned(),
                    labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                    label_ranges: b.labels.iter().map(|l| range(l.span())).collect(),
                    def_range,
                    type_range: range(b.ident.span()),
                    content: content_of(file, b.body, whole, diags),
                })
            }
        }
    }
    out
}

/// The header of a block: from its type keyword to the last label.
fn def_range(file: &SourceFile, b: &Block) -> SourceRange {
    let start = b.ident.span().map_or(0, |s| s.start);
    let end = b
        .labels
        .last()
        .and_then(|l| l.span())
        .or_else(|| b.ident.span())
        .map_or(start, |s| s.end);
    file.range(start..end)
}

/// Converts a block body into attributes and nested blocks, reporting
/// attributes set twice.
fn content_of(
    file: &Arc<SourceFile>,
    body: Body,
    range: SourceRange,
    diags: &mut Diagnostics,
) -> Content {
    let span_range = |span: Option<std::ops::Range<usize>>| file.range(span.unwrap_or(0..0));
    let mut content = Content::empty(range);
    for s in body {
        match s {
            Structure::Attribute(a) => {
                let name = a.key.as_str().to_owned();
                let range = span_range(a.span());
                let name_range = span_range(a.key.span());
                let attr = Attr {
                    name: name.clone(),
                    expr: Expr {
                        expr: a.value,
                        file: file.clone(),
                    },
                    range,
                    name_range,
                };
                if let Some(prev) = content.attrs.get(&name) {
                    let prev_at = format!(
                        "{}:{},{}",
                        prev.name_range.file,
                        prev.name_range.start.line,
                        prev.name_range.start.column
                    );
                    diags.push(
                        Diagnostic::error(
                            "Attribute redefined",
                            format!(
                                "The argument {name:?} was already set at {prev_at}. Each argument may be set only once."
                            ),
                        )
                        .with_subject(attr.name_range.clone()),
                    );
                    continue;
                }
                content.attrs.insert(name, attr);
            }
            Structure::Block(nb) => {
                let def_range = def_range(file, &nb);
                let type_range = span_range(nb.ident.span());
                let labels = nb.labels.iter().map(|l| l.as_str().to_owned()).collect();
                let ty = nb.ident.as_str().to_owned();
                let whole = span_range(nb.span());
                content.blocks.push(NestedBlock {
                    ty,
                    labels,
                    body: content_of(file, nb.body, whole, diags),
                    def_range,
                    type_range,
                });
            }
        }
    }
    content
}

struct Decoder<'a> {
    diags: &'a mut Diagnostics,
}

/// Decodes top-level blocks (already merged with their overrides) into `module`.
pub fn decode_blocks(module: &mut Module, blocks: Vec<RawBlock>, diags: &mut Diagnostics) {
    let mut d = Decoder { diags };
    for b in blocks {
        d.top_level_block(module, b);
    }
}

impl Decoder<'_> {
    fn error(&mut self, summary: &str, detail: String, range: SourceRange) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(range));
    }

    fn top_level_block(&mut self, module: &mut Module, b: RawBlock) {
        let b = &b;
        let kind = b.ty.as_str();
        match kind {
            "terraform" => self.terraform_block(module, b),
            "provider" => self.provider_block(module, b),
            "variable" => self.variable_block(module, b),
            "locals" => self.locals_block(module, b),
            "resource" => self.resource_block(module, b, ResourceMode::Managed),
            "data" => self.resource_block(module, b, ResourceMode::Data),
            "output" => self.output_block(module, b),
            "module" => self.module_block(module, b),
            "moved" => self.moved_block(module, b),
            "import" => self.import_block(module, b),
            _ => {
                let mut diag = Diagnostic::error(
                    "Unsupported block type",
                    format!("Blocks of type {kind:?} are not expected here."),
                )
                .with_subject(b.type_range.clone());
                if let Some(s) = suggest(kind, TOP_LEVEL_BLOCKS.iter().copied()) {
                    diag.detail = format!(
                        "Blocks of type {kind:?} are not expected here. Did you mean {s:?}?"
                    );
                    diag = diag.with_suggestion(format!("Did you mean {s:?}?"));
                }
                self.diags.push(diag);
            }
        }
    }

    /// Checks the label count and names; reports Terraform's "Missing name"
    /// or "Extraneous label" diagnostics. Returns the labels when right.
    fn labels(&mut self, b: &RawBlock, names: &[&str]) -> Option<Vec<String>> {
        let kind = b.ty.as_str();
        if b.labels.len() == names.len() {
            for (label, range) in b.labels.iter().zip(&b.label_ranges) {
                if !is_valid_name(label) {
                    self.error(
                        &format!("Invalid {kind} name"),
                        format!(
                            "{label:?} is not a valid name. A name must start with a letter or \
                             underscore and may contain only letters, digits, underscores, and dashes."
                        ),
                        range.clone(),
                    );
                    return None;
                }
            }
            return Some(b.labels.clone());
        }
        let what = if names.len() == 1 {
            format!("1 label ({})", names[0])
        } else if names.is_empty() {
            "no labels".to_owned()
        } else {
            format!("{} labels ({})", names.len(), names.join(", "))
        };
        if b.labels.len() < names.len() {
            let missing = names[b.labels.len()];
            self.error(
                &format!("Missing {missing} for {kind}"),
                format!("All {kind} blocks must have {what}."),
                b.def_range.clone(),
            );
        } else {
            self.error(
                &format!("Extraneous label for {kind}"),
                format!("Only {what} are expected for {kind} blocks."),
                b.label_ranges[names.len()].clone(),
            );
        }
        None
    }

    /// Reports every nested block of `content` whose type is not in `allowed`.
    fn reject_blocks(&mut self, content: &Content, allowed: &[&str], context: &str) {
        for nb in &content.blocks {
            if allowed.contains(&nb.ty.as_str()) {
                continue;
            }
            let mut detail = format!("Blocks of type {:?} are not expected here.", nb.ty);
            if let Some(s) = suggest(&nb.ty, allowed.iter().copied()) {
                detail.push_str(&format!(" Did you mean {s:?}?"));
            }
            self.diags.push(
                Diagnostic::error("Unsupported block type", detail)
                    .with_subject(nb.type_range.clone())
                    .with_context(context.to_owned()),
            );
        }
    }

    /// Reports every attribute of `content` not in `allowed`.
    fn reject_attrs(&mut self, content: &Content, allowed: &[&str], context: &str) {
        for a in content.attrs.values() {
            if allowed.contains(&a.name.as_str()) {
                continue;
            }
            let mut detail = format!("An argument named {:?} is not expected here.", a.name);
            let mut diag_suggestion = None;
            if let Some(s) = suggest(&a.name, allowed.iter().copied()) {
                detail.push_str(&format!(" Did you mean {s:?}?"));
                diag_suggestion = Some(format!("Did you mean {s:?}?"));
            }
            let mut diag = Diagnostic::error("Unsupported argument", detail)
                .with_subject(a.name_range.clone())
                .with_context(context.to_owned());
            diag.suggestion = diag_suggestion;
            self.diags.push(diag);
        }
    }

    fn string_attr(&mut self, content: &Content, name: &str) -> Option<String> {
        let a = content.attr(name)?;
        match literal_string(&a.expr.expr) {
            Some(s) => Some(s),
            None => {
                self.error(
                    "Invalid value",
                    format!("The {name:?} argument requires a literal string."),
                    a.expr.range(),
                );
                None
            }
        }
    }

    fn bool_attr(&mut self, content: &Content, name: &str) -> Option<bool> {
        let a = content.attr(name)?;
        match literal_bool(&a.expr.expr) {
            Some(b) => Some(b),
            None => {
                self.error(
                    "Unsuitable value type",
                    format!("Unsuitable value: the {name:?} argument requires a literal bool (true or false)."),
                    a.expr.range(),
                );
                None
            }
        }
    }

    /// `depends_on = [a.b, c.d]`: a list of bare references.
    fn depends_on(&mut self, content: &Content) -> Vec<Expr> {
        let Some(a) = content.attr("depends_on") else {
            return Vec::new();
        };
        let Expression::Array(items) = &a.expr.expr else {
            self.error(
                "Invalid depends_on",
                "The depends_on argument must be a list of references to resources, data sources or modules."
                    .into(),
                a.expr.range(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            if is_bare_reference(item) {
                out.push(Expr {
                    expr: item.clone(),
                    file: a.expr.file.clone(),
                });
            } else {
                self.error(
                    "Invalid expression",
                    "A single static variable reference is required: only attribute access and indexing with constant keys. No calculations, function calls, template expressions, etc are allowed here."
                        .into(),
                    a.expr.file.range(item.span().unwrap_or(0..0)),
                );
            }
        }
        out
    }

    fn check_rules(&mut self, content: &Content, kind: &str, context: &str) -> Vec<CheckRule> {
        let mut rules = Vec::new();
        for nb in content.blocks_of(kind) {
            self.reject_attrs(&nb.body, &["condition", "error_message"], context);
            self.reject_blocks(&nb.body, &[], context);
            let (Some(c), Some(m)) = (nb.body.attr("condition"), nb.body.attr("error_message"))
            else {
                let missing = if nb.body.attr("condition").is_none() {
                    "condition"
                } else {
                    "error_message"
                };
                self.diags.push(
                    Diagnostic::error(
                        "Missing required argument",
                        format!(
                            "The argument {missing:?} is required, but no definition was found."
                        ),
                    )
                    .with_subject(nb.def_range.clone())
                    .with_context(context.to_owned()),
                );
                continue;
            };
            rules.push(CheckRule {
                condition: c.expr.clone(),
                error_message: m.expr.clone(),
                range: nb.def_range.clone(),
            });
        }
        rules
    }

    fn terraform_block(&mut self, module: &mut Module, b: &RawBlock) {
        if !b.labels.is_empty() {
            self.labels(b, &[]);
        }
        let content = b.content.clone();
        self.reject_attrs(&content, &["required_version", "experiments"], "terraform");
        self.reject_blocks(
            &content,
            &["required_providers", "backend", "cloud", "provider_meta"],
            "terraform",
        );
        if let Some(v) = self.string_attr(&content, "required_version") {
            let range = content.attrs["required_version"].expr.range();
            module.required_version.push((v, range));
        }
        for nb in &content.blocks {
            match nb.ty.as_str() {
                "required_providers" => self.required_providers(module, nb),
                "backend" | "cloud" => self.diags.push(
                    Diagnostic::warning(
                        "Backend configuration ignored",
                        "meshform keeps state in its own SQLite database (.meshform/state.db, or -state=PATH); \
                         the backend settings here are not used. Use `meshform state import-tfstate` to adopt \
                         an existing terraform.tfstate.",
                    )
                    .with_subject(nb.def_range.clone()),
                ),
                _ => {}
            }
        }
    }

    fn required_providers(&mut self, module: &mut Module, nb: &NestedBlock) {
        for a in nb.body.attrs.values() {
            let name = a.name.clone();
            let mut source = None;
            let mut version = None;
            match &a.expr.expr {
                Expression::Object(obj) => {
                    for (k, v) in obj.iter() {
                        let key = object_key_name(k);
                        let value = literal_string(v.expr());
                        match (key.as_deref(), value) {
                            (Some("source"), Some(s)) => source = Some(s),
                            (Some("version"), Some(s)) => version = Some(s),
                            (Some("configuration_aliases"), _) => {}
                            (Some(k @ ("source" | "version")), None) => self.error(
                                "Invalid required_providers object",
                                format!("The {k:?} attribute of provider {name:?} must be a literal string."),
                                a.expr.file.range(v.expr().span().unwrap_or(0..0)),
                            ),
                            (k, _) => self.error(
                                "Invalid required_providers object",
                                format!(
                                    "required_providers objects can only contain \"version\", \"source\" and \
                                     \"configuration_aliases\" attributes; found {:?}.",
                                    k.unwrap_or("?")
                                ),
                                a.expr.file.range(k_span_of(obj, v).unwrap_or(0..0)),
                            ),
                        }
                    }
                }
                e => match literal_string(e) {
                    // The legacy form `name = "~> 1.0"` is a version constraint.
                    Some(v) => version = Some(v),
                    None => {
                        self.error(
                            "Invalid required_providers object",
                            "required_providers entries must be objects such as { source = \"kong/konnect\", version = \"2.4.1\" }."
                                .into(),
                            a.expr.range(),
                        );
                        continue;
                    }
                },
            }
            let source = source.unwrap_or_else(|| format!("hashicorp/{name}"));
            if let Some(prev) = module.required_providers.get(&name) {
                self.error(
                    "Duplicate required provider",
                    format!(
                        "Provider {name:?} was already required at {}. Each provider may be required only once.",
                        prev.range
                    ),
                    a.name_range.clone(),
                );
                continue;
            }
            module.required_providers.insert(
                name.clone(),
                RequiredProvider {
                    name,
                    source,
                    version,
                    range: a.range.clone(),
                },
            );
        }
    }

    fn provider_block(&mut self, module: &mut Module, b: &RawBlock) {
        let Some(labels) = self.labels(b, &["name"]) else {
            return;
        };
        let mut config = b.content.clone();
        let alias = self.string_attr(&config, "alias");
        if let Some(a) = &alias {
            if !is_valid_name(a) {
                let range = config.attrs["alias"].expr.range();
                self.error(
                    "Invalid provider configuration alias",
                    format!("An alias must be a valid name. {a:?} is not: a name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes."),
                    range,
                );
            }
        }
        config.attrs.remove("alias");
        config.attrs.remove("version");
        if let Some(prev) = module
            .providers
            .iter()
            .find(|p| p.name == labels[0] && p.alias == alias)
        {
            let what = match &alias {
                Some(a) => format!("{}.{a}", labels[0]),
                None => labels[0].clone(),
            };
            self.error(
                "Duplicate provider configuration",
                format!(
                    "A provider configuration for {what:?} was already given at {}. Each configuration for the same provider must have a distinct alias.",
                    prev.decl_range
                ),
                b.def_range.clone(),
            );
            return;
        }
        module.providers.push(ProviderConfig {
            name: labels[0].clone(),
            alias,
            config,
            decl_range: b.def_range.clone(),
        });
    }

    fn variable_block(&mut self, module: &mut Module, b: &RawBlock) {
        let Some(labels) = self.labels(b, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let context = format!("variable {name:?}");
        if RESERVED_VARIABLE_NAMES.contains(&name.as_str()) {
            self.error(
                "Invalid variable name",
                format!("The variable name {name:?} is reserved due to its special meaning inside module blocks."),
                b.label_ranges[0].clone(),
            );
        }
        let content = b.content.clone();
        self.reject_attrs(
            &content,
            &["type", "default", "description", "sensitive", "nullable"],
            &context,
        );
        self.reject_blocks(&content, &["validation"], &context);
        let variable = Variable {
            name: name.clone(),
            type_expr: content.attr("type").map(|a| a.expr.clone()),
            default: content.attr("default").map(|a| a.expr.clone()),
            description: self.string_attr(&content, "description"),
            sensitive: self.bool_attr(&content, "sensitive").unwrap_or(false),
            nullable: self.bool_attr(&content, "nullable").unwrap_or(true),
            validations: self.check_rules(&content, "validation", &context),
            decl_range: b.def_range.clone(),
        };
        if let Some(prev) = module.variables.get(&name) {
            self.error(
                "Duplicate variable declaration",
                format!(
                    "A variable named {name:?} was already declared at {}. Variable names must be unique within a module.",
                    prev.decl_range
                ),
                variable.decl_range.clone(),
            );
            return;
        }
        module.variables.insert(name, variable);
    }

    fn locals_block(&mut self, module: &mut Module, b: &RawBlock) {
        if !b.labels.is_empty() {
            self.labels(b, &[]);
        }
        let content = b.content.clone();
        self.reject_blocks(&content, &[], "locals");
        for a in content.attrs.into_values() {
            if !is_valid_name(&a.name) {
                self.error(
                    "Invalid local value name",
                    "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.".into(),
                    a.name_range.clone(),
                );
                continue;
            }
            if let Some(prev) = module.locals.get(&a.name) {
                self.error(
                    "Duplicate local value definition",
                    format!(
                        "A local value named {:?} was already defined at {}. Local value names must be unique within a module.",
                        a.name, prev.range
                    ),
                    a.name_range.clone(),
                );
                continue;
            }
            module.locals.insert(
                a.name.clone(),
                Local {
                    name: a.name,
                    expr: a.expr,
                    range: a.range,
                },
            );
        }
    }

    fn provider_ref(&mut self, content: &Content) -> (Option<ProviderRef>, Option<SourceRange>) {
        let Some(a) = content.attr("provider") else {
            return (None, None);
        };
        let range = a.expr.range();
        match provider_ref_of(&a.expr.expr) {
            Some(r) => (Some(r), Some(range)),
            None => {
                self.error(
                    "Invalid provider reference",
                    "The provider argument requires a provider name followed by an optional alias, like \"konnect-beta\" or \"konnect.eu\" (without quotes).".into(),
                    range,
                );
                (None, None)
            }
        }
    }

    fn resource_block(&mut self, module: &mut Module, b: &RawBlock, mode: ResourceMode) {
        let Some(labels) = self.labels(b, &["type", "name"]) else {
            return;
        };
        let (ty, name) = (labels[0].clone(), labels[1].clone());
        let kw = if mode == ResourceMode::Managed {
            "resource"
        } else {
            "data"
        };
        let context = format!("{kw} {ty:?} {name:?}");
        let mut config = b.content.clone();
        let (provider, provider_range) = self.provider_ref(&config);
        let count = config.attr("count").map(|a| a.expr.clone());
        let for_each = config.attr("for_each").map(|a| a.expr.clone());
        if let (Some(_), Some(fe)) = (&count, &for_each) {
            self.diags.push(
                Diagnostic::error(
                    "Invalid combination of \"count\" and \"for_each\"",
                    "The \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.",
                )
                .with_subject(fe.range())
                .with_context(context.clone()),
            );
        }
        let depends_on = self.depends_on(&config);
        let mut lifecycle = Lifecycle::default();
        let lifecycle_blocks: Vec<NestedBlock> = config.blocks_of("lifecycle").cloned().collect();
        if lifecycle_blocks.len() > 1 {
            self.error(
                "Duplicate lifecycle block",
                "This resource already has a lifecycle block.".into(),
                lifecycle_blocks[1].def_range.clone(),
            );
        }
        if let Some(lb) = lifecycle_blocks.first() {
            let allowed: &[&str] = if mode == ResourceMode::Managed {
                &[
                    "create_before_destroy",
                    "prevent_destroy",
                    "ignore_changes",
                    "replace_triggered_by",
                ]
            } else {
                &[]
            };
            self.reject_attrs(&lb.body, allowed, &context);
            self.reject_blocks(&lb.body, &["precondition", "postcondition"], &context);
            let get = |n: &str| lb.body.attr(n).map(|a| a.expr.clone());
            lifecycle = Lifecycle {
                create_before_destroy: get("create_before_destroy"),
                prevent_destroy: get("prevent_destroy"),
                ignore_changes: get("ignore_changes"),
                replace_triggered_by: get("replace_triggered_by"),
                preconditions: self.check_rules(&lb.body, "precondition", &context),
                postconditions: self.check_rules(&lb.body, "postcondition", &context),
            };
        }
        for meta in ["count", "for_each", "depends_on", "provider"] {
            config.attrs.remove(meta);
        }
        config.blocks.retain(|nb| nb.ty != "lifecycle");
        for nb in &config.blocks {
            if matches!(nb.ty.as_str(), "connection" | "provisioner") {
                self.diags.push(
                    Diagnostic::error(
                        "Provisioners are not supported",
                        format!(
                            "meshform does not run {} blocks: every object it manages is configured through its API.",
                            nb.ty
                        ),
                    )
                    .with_subject(nb.type_range.clone())
                    .with_context(context.clone()),
                );
            }
        }
        let resource = Resource {
            mode,
            ty: ty.clone(),
            name: name.clone(),
            provider,
            provider_range,
            count,
            for_each,
            depends_on,
            lifecycle,
            config,
            decl_range: b.def_range.clone(),
            type_range: b.label_ranges[0].clone(),
        };
        let addr = resource.address();
        if let Some(prev) = module.resources.get(&addr) {
            let (summary, what) = match mode {
                ResourceMode::Managed => (
                    format!("Duplicate resource {ty:?} configuration"),
                    "resource",
                ),
                ResourceMode::Data => (
                    format!("Duplicate data {ty:?} configuration"),
                    "data resource",
                ),
            };
            self.error(
                &summary,
                format!(
                    "A {ty} {what} named {name:?} was already declared at {}. Resource names must be unique per type in each module.",
                    prev.decl_range
                ),
                resource.decl_range.clone(),
            );
            return;
        }
        module.resources.insert(addr, resource);
    }

    fn output_block(&mut self, module: &mut Module, b: &RawBlock) {
        let Some(labels) = self.labels(b, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let context = format!("output {name:?}");
        let content = b.content.clone();
        self.reject_attrs(
            &content,
            &["value", "description", "sensitive", "depends_on"],
            &context,
        );
        self.reject_blocks(&content, &["precondition"], &context);
        if content.attr("value").is_none() {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "The argument \"value\" is required, but no definition was found.",
                )
                .with_subject(b.def_range.clone())
                .with_context(context.clone()),
            );
        }
        let output = Output {
            name: name.clone(),
            value: content.attr("value").map(|a| a.expr.clone()),
            description: self.string_attr(&content, "description"),
            sensitive: self.bool_attr(&content, "sensitive").unwrap_or(false),
            depends_on: self.depends_on(&content),
            preconditions: self.check_rules(&content, "precondition", &context),
            decl_range: b.def_range.clone(),
        };
        if let Some(prev) = module.outputs.get(&name) {
            self.error(
                "Duplicate output definition",
                format!(
                    "An output named {name:?} was already defined at {}. Output names must be unique within a module.",
                    prev.decl_range
                ),
                output.decl_range.clone(),
            );
            return;
        }
        module.outputs.insert(name, output);
    }

    fn module_block(&mut self, module: &mut Module, b: &RawBlock) {
        let Some(labels) = self.labels(b, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let context = format!("module {name:?}");
        let mut config = b.content.clone();
        let source = self.string_attr(&config, "source");
        let source_range = config
            .attr("source")
            .map(|a| a.expr.range())
            .unwrap_or_else(|| b.def_range.clone());
        if config.attr("source").is_none() {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "The argument \"source\" is required, but no definition was found.",
                )
                .with_subject(b.def_range.clone())
                .with_context(context.clone()),
            );
        }
        self.reject_blocks(&config, &[], &context);
        let call = ModuleCall {
            name: name.clone(),
            source,
            source_range,
            version: self.string_attr(&config, "version"),
            count: config.attr("count").map(|a| a.expr.clone()),
            for_each: config.attr("for_each").map(|a| a.expr.clone()),
            depends_on: self.depends_on(&config),
            providers: config.attr("providers").map(|a| a.expr.clone()),
            config: {
                for meta in [
                    "source",
                    "version",
                    "count",
                    "for_each",
                    "depends_on",
                    "providers",
                ] {
                    config.attrs.remove(meta);
                }
                config
            },
            decl_range: b.def_range.clone(),
            module: None,
        };
        if let Some(prev) = module.module_calls.get(&name) {
            self.error(
                "Duplicate module call",
                format!(
                    "A module call named {name:?} was already defined at {}. Module calls must have unique names within a module.",
                    prev.decl_range
                ),
                call.decl_range.clone(),
            );
            return;
        }
        module.module_calls.insert(name, call);
    }

    fn moved_block(&mut self, module: &mut Module, b: &RawBlock) {
        if !b.labels.is_empty() {
            self.labels(b, &[]);
        }
        let content = b.content.clone();
        self.reject_attrs(&content, &["from", "to"], "moved");
        self.reject_blocks(&content, &[], "moved");
        let (Some(from), Some(to)) = (content.attr("from"), content.attr("to")) else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "A moved block requires both \"from\" and \"to\" arguments.",
                )
                .with_subject(b.def_range.clone()),
            );
            return;
        };
        for a in [from, to] {
            if !is_bare_reference(&a.expr.expr) {
                self.error(
                    "Invalid address",
                    "The \"from\" and \"to\" arguments of a moved block must be resource or module addresses, like konnect_mesh.old or module.x.".into(),
                    a.expr.range(),
                );
                return;
            }
        }
        module.moved.push(Moved {
            from: from.expr.clone(),
            to: to.expr.clone(),
            decl_range: b.def_range.clone(),
        });
    }

    fn import_block(&mut self, module: &mut Module, b: &RawBlock) {
        if !b.labels.is_empty() {
            self.labels(b, &[]);
        }
        let content = b.content.clone();
        self.reject_attrs(&content, &["to", "id", "provider"], "import");
        self.reject_blocks(&content, &[], "import");
        let (provider, _) = self.provider_ref(&content);
        let (Some(to), Some(id)) = (content.attr("to"), content.attr("id")) else {
            self.diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "An import block requires both \"to\" and \"id\" arguments.",
                )
                .with_subject(b.def_range.clone()),
            );
            return;
        };
        if !is_bare_reference(&to.expr.expr) {
            self.error(
                "Invalid address",
                "The \"to\" argument of an import block must be a resource address, like konnect_mesh.mesh1.".into(),
                to.expr.range(),
            );
            return;
        }
        module.imports.push(Import {
            to: to.expr.clone(),
            id: id.expr.clone(),
            provider,
            decl_range: b.def_range.clone(),
        });
    }
}

fn k_span_of(
    obj: &meshform_lang::hcl_edit::expr::Object,
    v: &meshform_lang::hcl_edit::expr::ObjectValue,
) -> Option<std::ops::Range<usize>> {
    obj.iter()
        .find(|(_, ov)| std::ptr::eq(*ov, v))
        .and_then(|(k, _)| k.span())
}

/// The key of an object constructor item when it is a plain name or string.
fn object_key_name(k: &meshform_lang::hcl_edit::expr::ObjectKey) -> Option<String> {
    use meshform_lang::hcl_edit::expr::ObjectKey;
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_owned()),
        ObjectKey::Expression(e) => literal_string(e).or_else(|| match e {
            Expression::Variable(v) => Some(v.as_str().to_owned()),
            _ => None,
        }),
    }
}

/// The value of a string literal, or of a template with no interpolation.
pub fn literal_string(e: &Expression) -> Option<String> {
    match e {
        Expression::String(s) => Some(s.value().to_string()),
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            for el in t.iter() {
                match el {
                    Element::Literal(l) => out.push_str(l.value()),
                    _ => return None,
                }
            }
            Some(out)
        }
        Expression::Parenthesis(p) => literal_string(p.inner()),
        _ => None,
    }
}

fn literal_bool(e: &Expression) -> Option<bool> {
    match e {
        Expression::Bool(b) => Some(*b.value()),
        Expression::Parenthesis(p) => literal_bool(p.inner()),
        _ => None,
    }
}

/// `konnect-beta` or `konnect.alias`.
fn provider_ref_of(e: &Expression) -> Option<ProviderRef> {
    match e {
        Expression::Variable(v) => Some(ProviderRef {
            name: v.as_str().to_owned(),
            alias: None,
        }),
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return None;
            };
            match t.operators.as_slice() {
                [op] => match op.value() {
                    TraversalOperator::GetAttr(alias) => Some(ProviderRef {
                        name: root.as_str().to_owned(),
                        alias: Some(alias.as_str().to_owned()),
                    }),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// A static reference: a name followed by attribute accesses and constant
/// indexes (`konnect_mesh.m`, `module.x`, `a.b[0]`).
pub fn is_bare_reference(e: &Expression) -> bool {
    match e {
        Expression::Variable(_) => true,
        Expression::Traversal(t) => {
            matches!(t.expr, Expression::Variable(_))
                && t.operators.iter().all(|op| match op.value() {
                    TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_) => true,
                    TraversalOperator::Index(i) => {
                        matches!(i, Expression::Number(_) | Expression::String(_))
                    }
                    _ => false,
                })
        }
        _ => false,
    }
}

/// Terraform's identifier rule for names of blocks.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

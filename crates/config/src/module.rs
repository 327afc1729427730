//! The configuration model: one module's blocks as written, before
//! evaluation. Expressions stay unevaluated and remember their file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshform_lang::hcl_edit::expr::Expression;
use meshform_lang::hcl_edit::Span;
use meshform_lang::{SourceFile, SourceRange};

/// An expression together with the file it was written in.
#[derive(Debug, Clone)]
pub struct Expr {
    pub expr: Expression,
    pub file: Arc<SourceFile>,
}

impl Expr {
    /// Where the expression is written (the start of its file when the
    /// parser recorded no span, as for expressions built from JSON).
    pub fn range(&self) -> SourceRange {
        self.file.range(self.expr.span().unwrap_or(0..0))
    }
}

/// An attribute assignment `name = expr`.
#[derive(Debug, Clone)]
pub struct Attr {
    pub name: String,
    pub expr: Expr,
    /// The whole `name = expr` range.
    pub range: SourceRange,
    pub name_range: SourceRange,
}

/// A nested block inside a block body, such as `metadata { … }`,
/// `lifecycle { … }` or `dynamic "rule" { … }`.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub ty: String,
    pub labels: Vec<String>,
    pub body: Content,
    /// The block header: type and labels.
    pub def_range: SourceRange,
    pub type_range: SourceRange,
}

/// The contents of a block: attributes (at most one per name) and nested
/// blocks in source order.
#[derive(Debug, Clone)]
pub struct Content {
    pub attrs: BTreeMap<String, Attr>,
    pub blocks: Vec<NestedBlock>,
    /// The whole body, braces included.
    pub range: SourceRange,
}

impl Content {
    pub fn empty(range: SourceRange) -> Self {
        Content {
            attrs: BTreeMap::new(),
            blocks: Vec::new(),
            range,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    pub fn blocks_of<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a NestedBlock> + 'a {
        self.blocks.iter().filter(move |b| b.ty == ty)
    }
}

pub use meshform_lang::addr::ResourceMode;

/// A reference to a provider configuration: `konnect-beta` or `konnect.eu`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderRef {
    /// The local name, as in `required_providers` (`konnect-beta`).
    pub name: String,
    pub alias: Option<String>,
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}.{}", self.name, a),
            None => f.write_str(&self.name),
        }
    }
}

/// A `resource` or `data` block.
#[derive(Debug, Clone)]
pub struct Resource {
    pub mode: ResourceMode,
    pub ty: String,
    pub name: String,
    /// The provider configuration chosen by `provider = …`, if any; else the
    /// default configuration of the provider named by the type's prefix.
    pub provider: Option<ProviderRef>,
    pub provider_range: Option<SourceRange>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// The arguments and blocks for the provider, meta-arguments removed.
    pub config: Content,
    pub decl_range: SourceRange,
    pub type_range: SourceRange,
}

impl Resource {
    /// `konnect_mesh.mesh1` or `data.fake_echo.x`.
    pub fn address(&self) -> String {
        match self.mode {
            ResourceMode::Managed => format!("{}.{}", self.ty, self.name),
            ResourceMode::Data => format!("data.{}.{}", self.ty, self.name),
        }
    }

    /// The provider local name this resource uses: the explicit
    /// `provider` argument, else the type's prefix before the first `_`.
    pub fn provider_ref(&self) -> ProviderRef {
        self.provider.clone().unwrap_or_else(|| ProviderRef {
            name: implied_provider(&self.ty).to_owned(),
            alias: None,
        })
    }

    /// How Terraform names the block in diagnostics: `resource "x" "y"`.
    pub fn block_label(&self) -> String {
        let kw = match self.mode {
            ResourceMode::Managed => "resource",
            ResourceMode::Data => "data",
        };
        format!("{kw} {:?} {:?}", self.ty, self.name)
    }
}

/// The provider a resource type belongs to by default: the part before the
/// first underscore (`konnect_mesh` → `konnect`).
pub fn implied_provider(resource_type: &str) -> &str {
    resource_type.split('_').next().unwrap_or(resource_type)
}

/// A `lifecycle` block.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub create_before_destroy: Option<Expr>,
    pub prevent_destroy: Option<Expr>,
    pub ignore_changes: Option<Expr>,
    pub replace_triggered_by: Option<Expr>,
    pub preconditions: Vec<CheckRule>,
    pub postconditions: Vec<CheckRule>,
}

/// A `precondition`, `postcondition` or variable `validation` rule.
#[derive(Debug, Clone)]
pub struct CheckRule {
    pub condition: Expr,
    pub error_message: Expr,
    pub range: SourceRange,
}

/// A `variable` block.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// The `type` constraint expression, unparsed (`lang` owns types).
    pub type_expr: Option<Expr>,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    /// `nullable` (default true).
    pub nullable: bool,
    pub validations: Vec<CheckRule>,
    pub decl_range: SourceRange,
}

/// One `locals` entry.
#[derive(Debug, Clone)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub range: SourceRange,
}

/// An `output` block.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub value: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Expr>,
    pub preconditions: Vec<CheckRule>,
    pub decl_range: SourceRange,
}

/// A `provider` block.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub config: Content,
    pub decl_range: SourceRange,
}

impl ProviderConfig {
    pub fn reference(&self) -> ProviderRef {
        ProviderRef {
            name: self.name.clone(),
            alias: self.alias.clone(),
        }
    }
}

/// A `required_providers` entry.
#[derive(Debug, Clone)]
pub struct RequiredProvider {
    pub name: String,
    /// The full source address as written (`kong/konnect`), or the implied
    /// `hashicorp/<name>` when absent.
    pub source: String,
    pub version: Option<String>,
    pub range: SourceRange,
}

/// A `module` call.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub source: Option<String>,
    pub source_range: SourceRange,
    pub version: Option<String>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { … }` as written.
    pub providers: Option<Expr>,
    /// The input variables.
    pub config: Content,
    pub decl_range: SourceRange,
    /// The loaded child module (local sources only).
    pub module: Option<Box<Module>>,
}

/// A `moved` block.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: Expr,
    pub to: Expr,
    pub decl_range: SourceRange,
}

/// An `import` block.
#[derive(Debug, Clone)]
pub struct Import {
    pub to: Expr,
    pub id: Expr,
    pub provider: Option<ProviderRef>,
    pub decl_range: SourceRange,
}

/// One module directory's configuration.
#[derive(Debug, Clone)]
pub struct Module {
    pub dir: PathBuf,
    /// Every file loaded, for rendering diagnostics.
    pub sources: Vec<Arc<SourceFile>>,
    pub required_version: Vec<(String, SourceRange)>,
    pub required_providers: BTreeMap<String, RequiredProvider>,
    pub providers: Vec<ProviderConfig>,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    /// Keyed by address (`konnect_mesh.mesh1`, `data.x.y`).
    pub resources: BTreeMap<String, Resource>,
    pub outputs: BTreeMap<String, Output>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    pub moved: Vec<Moved>,
    pub imports: Vec<Import>,
}

impl Module {
    pub fn empty(dir: &Path) -> Self {
        Module {
            dir: dir.to_path_buf(),
            sources: Vec::new(),
            required_version: Vec::new(),
            required_providers: BTreeMap::new(),
            providers: Vec::new(),
            variables: BTreeMap::new(),
            locals: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            module_calls: BTreeMap::new(),
            moved: Vec::new(),
            imports: Vec::new(),
        }
    }

    /// The loaded module reached from this one through the module calls
    /// named in `path` (this module for an empty path).
    pub fn descendant(&self, path: &[String]) -> Option<&Module> {
        let mut m = self;
        for name in path {
            m = m.module_calls.get(name)?.module.as_deref()?;
        }
        Some(m)
    }

    /// The source file with this display name, if loaded.
    pub fn source(&self, name: &str) -> Option<&Arc<SourceFile>> {
        self.sources.iter().find(|f| &*f.name == name)
    }

    /// The provider source address for a local provider name: from
    /// `required_providers`, else Terraform's implied `hashicorp/<name>`.
    pub fn provider_source(&self, local_name: &str) -> String {
        self.required_providers
            .get(local_name)
            .map(|r| r.source.clone())
            .unwrap_or_else(|| format!("hashicorp/{local_name}"))
    }

    /// Every source file of this module and its loaded children.
    pub fn all_sources(&self) -> Vec<Arc<SourceFile>> {
        let mut out = self.sources.clone();
        for call in self.module_calls.values() {
            if let Some(m) = &call.module {
                out.extend(m.all_sources());
            }
        }
        out
    }
}

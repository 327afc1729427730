//! The crate's error type.

/// Where in a chart's templates something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateLocation {
    /// Template name, e.g. `kong-mesh/charts/kuma/templates/cp-deployment.yaml`.
    pub template: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
}

impl std::fmt::Display for TemplateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.template)
        } else {
            write!(f, "{}:{}:{}", self.template, self.line, self.column)
        }
    }
}

/// Everything that can go wrong loading, fetching, rendering or recording a chart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HelmError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("chart {origin} is invalid: {message}")]
    Chart { origin: String, message: String },
    #[error("chart {chart} lists dependency {dependency} in Chart.yaml, but it is missing from its charts/ directory")]
    MissingDependency { chart: String, dependency: String },
    #[error("values from {origin} are invalid: {message}")]
    Values { origin: String, message: String },
    #[error("cannot apply set expression {expr:?}: {message}")]
    Set { expr: String, message: String },
    #[error("template {location} does not parse: {message}")]
    Parse {
        location: TemplateLocation,
        message: String,
    },
    #[error("template {location} calls function {function:?}, which is not defined")]
    UndefinedFunction {
        location: TemplateLocation,
        function: String,
    },
    #[error("template {location} failed: {message}")]
    Render {
        location: TemplateLocation,
        message: String,
    },
    #[error("rendered manifest {template} is not valid YAML: {message}")]
    Manifest { template: String, message: String },
    #[error("repository {repository} has no chart {chart} matching version {constraint:?}")]
    ChartNotFound {
        repository: String,
        chart: String,
        constraint: String,
    },
    #[error("version constraint {constraint:?} is invalid: {message}")]
    Constraint { constraint: String, message: String },
    #[error("request to {url} failed: {message}")]
    Http { url: String, message: String },
    #[error("request to {url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("repository index {url} is invalid: {message}")]
    Index { url: String, message: String },
    #[error(
        "chart {url} has digest sha256:{actual}, but the repository index says sha256:{expected}"
    )]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("OCI reference {reference} is invalid: {message}")]
    OciReference { reference: String, message: String },
    #[error("chart {chart} requires kubeVersion {constraint}, which is incompatible with Kubernetes {actual}")]
    KubeVersion {
        chart: String,
        constraint: String,
        actual: String,
    },
    #[error("release record is invalid: {message}")]
    ReleaseRecord { message: String },
}

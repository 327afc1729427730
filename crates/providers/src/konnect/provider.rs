//! The two Konnect providers (kong/konnect-beta 0.1.0 and kong/konnect
//! 2.4.1) behind the provider interface: schema and plan behaviour from
//! the generated tables, offline validation (the providers' own value
//! checks, and Kuma's policy schemas for every policy `spec`), planning,
//! and the resource lifecycle over Konnect's HTTP API.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use meshform_lang::schema::{AttributeType, ProviderSchema};
use meshform_lang::{Data, Diagnostic, Diagnostics, PathStep, Value};

use super::client::{HttpPool, KonnectClient, RetryPolicy, Settings};
use super::tables::{Check, KonnectTables, ResourceTable, KONNECT, KONNECT_BETA};
use super::wire;
use crate::kuma::{Naming, PolicyTables};
use crate::planning::{plan_from_schema, PlanOptions, PlanStyle};
use crate::provider::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, AttrPath, ConfigureRequest,
    ImportResourceStateRequest, ImportResourceStateResponse, ImportedResource,
    PlanResourceChangeRequest, PlanResourceChangeResponse, Provider, ProviderFactory,
    ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest, ReadResourceResponse,
};

/// The options every Konnect resource is planned with: framework rules,
/// the plan behaviour spelled out in the tables.
pub const PLAN_OPTIONS: PlanOptions = PlanOptions {
    style: PlanStyle::Framework,
    id_uses_state: false,
    block_changes_mark_computed: true,
};

/// One of the two Konnect providers.
pub struct KonnectFactory {
    source: &'static str,
    version: &'static str,
    tables: Arc<KonnectTables>,
    policies: Arc<PolicyTables>,
    schema: Arc<ProviderSchema>,
    retry: Option<RetryPolicy>,
    pool: Option<Arc<HttpPool>>,
}

impl KonnectFactory {
    /// kong/konnect-beta 0.1.0 (the mesh resources).
    pub fn beta(tables: Arc<KonnectTables>, policies: Arc<PolicyTables>) -> KonnectFactory {
        KonnectFactory::new(KONNECT_BETA, "0.1.0", tables, policies)
    }

    /// kong/konnect 2.4.1 (the system-account resources).
    pub fn ga(tables: Arc<KonnectTables>, policies: Arc<PolicyTables>) -> KonnectFactory {
        KonnectFactory::new(KONNECT, "2.4.1", tables, policies)
    }

    fn new(
        address: &'static str,
        version: &'static str,
        tables: Arc<KonnectTables>,
        policies: Arc<PolicyTables>,
    ) -> KonnectFactory {
        let schema = Arc::new(tables.provider_schema(address));
        KonnectFactory {
            source: address.trim_start_matches("registry.terraform.io/"),
            version,
            tables,
            policies,
            schema,
            retry: None,
            pool: None,
        }
    }

    /// The same provider sending through a shared pool (one per run, for
    /// both Konnect providers).
    pub fn with_pool(mut self, pool: Arc<HttpPool>) -> KonnectFactory {
        self.pool = Some(pool);
        self
    }

    /// The same provider retrying on another schedule (tests, impatient
    /// users).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> KonnectFactory {
        self.retry = Some(retry);
        self
    }

    fn table(&self, type_name: &str) -> Option<&ResourceTable> {
        self.tables
            .resource(type_name)
            .filter(|t| t.provider.ends_with(self.source))
    }
}

fn unsupported(source: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid resource type",
        format!("The provider {source} does not support resource type {type_name:?}."),
    )
    .into()
}

impl ProviderFactory for KonnectFactory {
    fn source(&self) -> &str {
        self.source
    }

    fn version(&self) -> &str {
        self.version
    }

    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut out = Diagnostics::default();
        if let Some(url) = config.get_attr("server_url").and_then(Value::as_str) {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                out.push(Diagnostic::error(
                    "Invalid Konnect server URL",
                    format!("server_url {url:?} must start with https:// (for example https://us.api.konghq.com)."),
                ));
            }
        }
        out
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let Some(table) = self.table(type_name) else {
            return unsupported(self.source, type_name);
        };
        Diagnostics(
            validate_resource(table, &self.policies, config)
                .into_iter()
                .map(|(_, d)| d)
                .collect(),
        )
    }

    fn validate_resource_config_at(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Vec<(Option<AttrPath>, Diagnostic)> {
        let Some(table) = self.table(type_name) else {
            return unsupported(self.source, type_name)
                .into_iter()
                .map(|d| (None, d))
                .collect();
        };
        validate_resource(table, &self.policies, config)
            .into_iter()
            .map(|(path, d)| (Some(path), d))
            .collect()
    }

    fn configure(&self, req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics> {
        let mut settings = Settings::from_config(&req.config, &req.env)?;
        // As many requests in flight as the run has operations: a smaller
        // budget would cap `-parallelism`.
        settings.requests_per_host = req.parallelism.max(1);
        if let Some(retry) = self.retry {
            settings.retry = retry;
        }
        let client = match (&self.pool, req.offline) {
            (_, true) => None,
            (Some(pool), false) => Some(KonnectClient::with_pool(settings, pool)),
            (None, false) => Some(KonnectClient::new(settings).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Cannot configure the Konnect provider",
                    e.to_string(),
                ))
            })?),
        };
        Ok(Arc::new(KonnectProvider {
            source: self.source,
            tables: self.tables.clone(),
            client,
        }))
    }
}

/// Checks one resource's configuration offline. Every problem comes with
/// the path of the value that caused it.
pub fn validate_resource(
    table: &ResourceTable,
    policies: &PolicyTables,
    config: &Value,
) -> Vec<(AttrPath, Diagnostic)> {
    let kind = table
        .api
        .kuma_type
        .as_deref()
        .filter(|k| policies.kinds().any(|p| p == *k));
    let mut out = Vec::new();
    let mut path = Vec::new();
    check_object(
        table,
        &table.schema.block.attributes,
        config,
        "",
        &mut path,
        kind.is_some(),
        &mut out,
    );
    if let (Some(kind), Some(spec)) = (kind, config.get_attr("spec")) {
        for problem in policies.validate_policy_spec(kind, spec, Naming::Terraform) {
            out.push((problem.path.0.clone(), problem.diagnostic));
        }
    }
    out
}

fn path_text(path: &[PathStep]) -> String {
    crate::kuma::ValuePath(path.to_vec()).to_string()
}

#[allow(clippy::too_many_arguments)]
fn check_object(
    table: &ResourceTable,
    attrs: &BTreeMap<String, meshform_lang::schema::Attribute>,
    value: &Value,
    prefix: &str,
    path: &mut AttrPath,
    kuma_checks_spec: bool,
    out: &mut Vec<(AttrPath, Diagnostic)>,
) {
    for (name, attr) in attrs {
        let dotted = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        // Kuma's own schema checks the policy spec (its enums are the
        // server's truth); the provider's checks cover the rest.
        let skip_values = kuma_checks_spec && (dotted == "spec" || dotted.starts_with("spec."));
        let v = value
            .get_attr(name)
            .cloned()
            .unwrap_or_else(|| Value::null(attr.implied_type()));
        path.push(PathStep::Attr(name.clone()));
        let info = table.attr(&dotted);
        if let Some(info) = info {
            if info.not_null && v.is_null() && !value.is_null() {
                out.push((
                    path.clone(),
                    Diagnostic::error(
                        "Missing Configuration for Required Attribute",
                        format!(
                            "Must set a configuration value for the {} attribute as the provider has marked it as required.",
                            path_text(path)
                        ),
                    ),
                ));
            }
            if !skip_values && v.is_known() && !v.is_null() {
                check_value(info, &v, path, out);
            }
        }
        if let AttributeType::Nested(n) = &attr.ty {
            if v.is_known() && !v.is_null() {
                match v.data() {
                    Data::List(_, items) | Data::Set(_, items) | Data::Tuple(items) => {
                        for (i, item) in items.iter().enumerate() {
                            path.push(PathStep::Index(i));
                            if item.is_null() && info.is_some_and(|i| i.elements_not_null) {
                                out.push((
                                    path.clone(),
                                    Diagnostic::error(
                                        "Invalid Attribute Value",
                                        format!("Element {} must not be null.", path_text(path)),
                                    ),
                                ));
                            } else if item.is_known() {
                                check_object(
                                    table,
                                    &n.attributes,
                                    item,
                                    &dotted,
                                    path,
                                    kuma_checks_spec,
                                    out,
                                );
                            }
                            path.pop();
                        }
                    }
                    Data::Object(_) => check_object(
                        table,
                        &n.attributes,
                        &v,
                        &dotted,
                        path,
                        kuma_checks_spec,
                        out,
                    ),
                    _ => {}
                }
            }
        }
        path.pop();
    }
}

fn check_value(
    info: &super::tables::AttrInfo,
    v: &Value,
    path: &AttrPath,
    out: &mut Vec<(AttrPath, Diagnostic)>,
) {
    let at = path_text(path);
    if let Some(s) = v.as_str() {
        if !info.one_of.is_empty() && !info.one_of.iter().any(|o| o == s) {
            let allowed: Vec<String> = info.one_of.iter().map(|o| format!("{o:?}")).collect();
            out.push((
                path.clone(),
                Diagnostic::error(
                    "Invalid Attribute Value Match",
                    format!(
                        "Attribute {at} value must be one of: [{}], got: {s:?}",
                        allowed.join(" ")
                    ),
                ),
            ));
        }
    }
    for check in &info.checks {
        let problem = match check {
            Check::Length(lo, hi) => v.as_str().and_then(|s| {
                let n = s.chars().count() as u64;
                (n < *lo || hi.is_some_and(|h| n > h)).then(|| {
                    format!(
                        "Attribute {at} string length must be {}, got: {n}",
                        bounds(*lo, *hi)
                    )
                })
            }),
            Check::Size(lo, hi) => v.length().and_then(|n| {
                let n = n as u64;
                (n < *lo || hi.is_some_and(|h| n > h))
                    .then(|| format!("Attribute {at} size must be {}, got: {n}", bounds(*lo, *hi)))
            }),
            Check::Range(lo, hi) => v.as_number().and_then(|n| {
                let x = n.to_f64();
                (x < *lo as f64 || hi.is_some_and(|h| x > h as f64)).then(|| {
                    let range = match hi {
                        Some(h) => format!("between {lo} and {h}"),
                        None => format!("at least {lo}"),
                    };
                    format!("Attribute {at} value must be {range}, got: {}", n.to_text())
                })
            }),
            Check::Regex(re) => v.as_str().and_then(|s| match regex::Regex::new(re) {
                Ok(r) if !r.is_match(s) => Some(format!(
                    "Attribute {at} value must match the pattern {re}, got: {s:?}"
                )),
                _ => None,
            }),
            Check::Rfc3339 => v.as_str().and_then(|s| {
                chrono::DateTime::parse_from_rfc3339(s).is_err().then(|| {
                    format!("Attribute {at} value must be an RFC 3339 timestamp, got: {s:?}")
                })
            }),
            Check::Json => v.as_str().and_then(|s| {
                serde_json::from_str::<serde_json::Value>(s)
                    .is_err()
                    .then(|| format!("Attribute {at} value must be valid JSON"))
            }),
        };
        if let Some(detail) = problem {
            out.push((
                path.clone(),
                Diagnostic::error("Invalid Attribute Value", detail),
            ));
        }
    }
}

fn bounds(lo: u64, hi: Option<u64>) -> String {
    match hi {
        Some(h) if lo == 0 => format!("at most {h}"),
        Some(h) => format!("between {lo} and {h}"),
        None => format!("at least {lo}"),
    }
}

/// A configured Konnect provider. Without a client (offline) it plans but
/// does not read, apply or import.
pub struct KonnectProvider {
    source: &'static str,
    tables: Arc<KonnectTables>,
    client: Option<KonnectClient>,
}

impl KonnectProvider {
    fn table(&self, type_name: &str) -> Result<&ResourceTable, Diagnostics> {
        self.tables
            .resource(type_name)
            .filter(|t| t.provider.ends_with(self.source))
            .ok_or_else(|| unsupported(self.source, type_name))
    }

    fn client(&self, what: &str) -> Result<&KonnectClient, Diagnostics> {
        self.client.as_ref().ok_or_else(|| {
            Diagnostic::error(
                "Konnect is not reachable offline",
                format!(
                    "The provider {} cannot {what} without network access.",
                    self.source
                ),
            )
            .into()
        })
    }
}

#[async_trait]
impl Provider for KonnectProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        let table = match self.table(&req.type_name) {
            Ok(t) => t,
            Err(diagnostics) => {
                return PlanResourceChangeResponse {
                    diagnostics,
                    ..Default::default()
                }
            }
        };
        let plan = plan_from_schema(
            &table.schema.block,
            &req.prior_state,
            &req.proposed_new_state,
            &req.config,
            PLAN_OPTIONS,
        );
        PlanResourceChangeResponse {
            planned_state: Some(plan.planned),
            requires_replace: plan.requires_replace,
            planned_private: req.prior_private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        let result = async {
            let table = self.table(&req.type_name)?;
            let client = self.client("apply changes")?;
            wire::apply(
                client,
                table,
                &req.prior_state,
                &req.planned_state,
                &req.config,
            )
            .await
        }
        .await;
        match result {
            Ok(new_state) => ApplyResourceChangeResponse {
                new_state: Some(new_state),
                private: req.planned_private,
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => ApplyResourceChangeResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        // Offline, the state is taken as it is.
        let Some(client) = self.client.as_ref() else {
            return ReadResourceResponse {
                new_state: Some(req.current_state),
                private: req.private,
                diagnostics: Diagnostics::default(),
            };
        };
        let result = async {
            let table = self.table(&req.type_name)?;
            wire::read(client, table, &req.current_state).await
        }
        .await;
        match result {
            Ok(new_state) => ReadResourceResponse {
                new_state,
                private: req.private,
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => ReadResourceResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let result = async {
            let table = self.table(&req.type_name)?;
            let identity = wire::import_identity(table, &req.id)?;
            let client = self.client("import objects")?;
            wire::import(client, table, &identity)
                .await?
                .ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error(
                        "Cannot import non-existent remote object",
                        format!(
                            "No {} with the import ID {:?} exists in Konnect.",
                            req.type_name, req.id
                        ),
                    ))
                })
        }
        .await;
        match result {
            Ok(state) => ImportResourceStateResponse {
                imported: vec![ImportedResource {
                    type_name: req.type_name,
                    state,
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => ImportResourceStateResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        ReadDataSourceResponse {
            diagnostics: Diagnostic::error(
                "Invalid data source type",
                format!(
                    "The provider {} has no data source type {:?}.",
                    self.source, req.type_name
                ),
            )
            .into(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshform_lang::Type;

    #[test]
    fn provider_config_urls_are_checked_offline() {
        let factory = KonnectFactory::beta(
            Arc::new(KonnectTables::load().unwrap()),
            Arc::new(PolicyTables::load().unwrap()),
        );
        let config = |url: Value| {
            Value::object(
                [
                    ("server_url", url),
                    ("personal_access_token", Value::null(Type::String)),
                    ("system_account_access_token", Value::null(Type::String)),
                    ("konnect_access_token", Value::null(Type::String)),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            )
        };
        assert!(factory
            .validate_provider_config(&config(Value::string("us.api.konghq.com")))
            .has_errors());
        assert!(!factory
            .validate_provider_config(&config(Value::string("https://us.api.konghq.com")))
            .has_errors());
        assert!(!factory
            .validate_provider_config(&config(Value::unknown(Type::String)))
            .has_errors());
        assert_eq!(factory.source(), "kong/konnect-beta");
        assert_eq!(factory.version(), "0.1.0");
    }
}

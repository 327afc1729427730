//! The interface between the engine and every provider, shaped after
//! Terraform's plugin protocol: each call takes a request struct and returns
//! a response struct that carries its own diagnostics.
//!
//! A [`ProviderFactory`] describes one provider (source address, version,
//! schema) and makes a configured [`Provider`] per `provider` block. The
//! engine holds factories in a [`ProviderRegistry`] that the binary builds:
//! no global registration.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use meshform_lang::schema::ProviderSchema;
use meshform_lang::{Clock, Diagnostic, Diagnostics, PathStep, Value};

/// A path to an attribute inside a resource object (`["spec", "from", 0]`).
pub type AttrPath = Vec<PathStep>;

/// What a provider is configured with.
#[derive(Clone)]
pub struct ConfigureRequest {
    /// The `provider` block decoded against the provider schema (a null
    /// object's attributes when there is no block).
    pub config: Value,
    /// No network: plan from configuration and state only. Reads that need
    /// a remote API return the prior state unchanged.
    pub offline: bool,
    /// The run's clock ("now"), shared by every provider and `timestamp()`.
    pub clock: Arc<dyn Clock>,
    /// Environment variables the provider may fall back to (injected, so
    /// tests control them).
    pub env: BTreeMap<String, String>,
    /// How many operations the run keeps in flight at once (`-parallelism`):
    /// providers size their connection budgets from it.
    pub parallelism: usize,
}

/// Describes one provider and configures instances of it.
pub trait ProviderFactory: Send + Sync {
    /// The source address without the registry host (`kong/konnect-beta`).
    fn source(&self) -> &str;
    /// The provider version meshform implements (`0.1.0`).
    fn version(&self) -> &str;
    /// The provider's schema.
    fn schema(&self) -> Arc<ProviderSchema>;
    /// Whether resources of this provider can be applied (a provider known
    /// only by its schema can be planned, not applied).
    fn can_apply(&self) -> bool {
        true
    }
    /// Validates a provider block without network access.
    fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Validates a resource's decoded configuration without network access
    /// (for example Kuma policy specs).
    fn validate_resource_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
        Diagnostics::default()
    }
    /// Like [`ProviderFactory::validate_resource_config`], with the path of
    /// the attribute each problem is about (when it is about one), so the
    /// caller can point at the configuration that wrote the value.
    fn validate_resource_config_at(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Vec<(Option<AttrPath>, Diagnostic)> {
        self.validate_resource_config(type_name, config)
            .into_iter()
            .map(|d| (None, d))
            .collect()
    }
    /// Makes a configured provider for one `provider` block.
    fn configure(&self, req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics>;
}

#[derive(Debug, Clone)]
pub struct PlanResourceChangeRequest {
    pub type_name: String,
    /// Null when the object does not exist yet.
    pub prior_state: Value,
    /// Terraform's proposed new state: the configuration merged with the
    /// prior state (null when the object is to be destroyed).
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanResourceChangeResponse {
    pub planned_state: Option<Value>,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ApplyResourceChangeRequest {
    pub type_name: String,
    pub prior_state: Value,
    /// Null to destroy.
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyResourceChangeResponse {
    /// Null after a destroy.
    pub new_state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ReadResourceRequest {
    pub type_name: String,
    pub current_state: Value,
    pub private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ReadResourceResponse {
    /// `None` or a null value: the object is gone.
    pub new_state: Option<Value>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ImportResourceStateRequest {
    pub type_name: String,
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportResourceStateResponse {
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct ReadDataSourceRequest {
    pub type_name: String,
    pub config: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ReadDataSourceResponse {
    pub state: Option<Value>,
    pub diagnostics: Diagnostics,
}

/// A configured provider: one per `provider` block (or implied default).
#[async_trait]
pub trait Provider: Send + Sync {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse;
    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse;
    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse;
    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse;
    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse;
}

/// The providers available to a run, by source address.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    factories: BTreeMap<String, Arc<dyn ProviderFactory>>,
}

impl ProviderRegistry {
    pub fn new() -> Self {
        ProviderRegistry::default()
    }

    /// Adds a provider; a later one with the same source replaces it.
    pub fn register(&mut self, factory: Arc<dyn ProviderFactory>) {
        self.factories
            .insert(normalize_source(factory.source()), factory);
    }

    /// The provider for a source address (`kong/konnect` or
    /// `registry.terraform.io/kong/konnect`).
    pub fn get(&self, source: &str) -> Option<&Arc<dyn ProviderFactory>> {
        self.factories.get(&normalize_source(source))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Arc<dyn ProviderFactory>)> {
        self.factories.iter()
    }
}

/// `registry.terraform.io/Kong/Konnect` → `kong/konnect`.
pub fn normalize_source(source: &str) -> String {
    source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source)
        .to_ascii_lowercase()
}

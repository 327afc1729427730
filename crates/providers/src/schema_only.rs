//! A provider known only by its schema (`terraform providers schema -json`
//! output): it plans with the framework's default rules and its schema's
//! plan behaviour, and refuses to apply. This is how configurations that use
//! providers meshform does not implement can still be previewed offline.

use std::sync::Arc;

use async_trait::async_trait;
use meshform_lang::schema::ProviderSchema;
use meshform_lang::{Diagnostic, Diagnostics, Value};

use crate::planning::plan_resource;
use crate::provider::*;

pub struct SchemaOnlyFactory {
    source: String,
    schema: Arc<ProviderSchema>,
}

impl SchemaOnlyFactory {
    pub fn new(source: &str, schema: ProviderSchema) -> Self {
        SchemaOnlyFactory {
            source: normalize_source(source),
            schema: Arc::new(schema),
        }
    }
}

impl ProviderFactory for SchemaOnlyFactory {
    fn source(&self) -> &str {
        &self.source
    }
    fn version(&self) -> &str {
        "0.0.0"
    }
    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }
    fn can_apply(&self) -> bool {
        false
    }
    fn configure(&self, _req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics> {
        Ok(Arc::new(SchemaOnlyProvider {
            source: self.source.clone(),
            schema: self.schema.clone(),
        }))
    }
}

struct SchemaOnlyProvider {
    source: String,
    schema: Arc<ProviderSchema>,
}

impl SchemaOnlyProvider {
    fn cannot(&self, what: &str) -> Diagnostics {
        Diagnostic::error(
            format!("Provider {} cannot {what}", self.source),
            format!(
                "meshform knows the provider {} only by its schema: it can plan changes offline, but it cannot {what}.",
                self.source
            ),
        )
        .into()
    }
}

#[async_trait]
impl Provider for SchemaOnlyProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        let Some(schema) = self.schema.resources.get(&req.type_name) else {
            return PlanResourceChangeResponse {
                diagnostics: Diagnostic::error(
                    "Invalid resource type",
                    format!(
                        "The provider {} does not support resource type {:?}.",
                        self.source, req.type_name
                    ),
                )
                .into(),
                ..Default::default()
            };
        };
        let change = plan_resource(
            &schema.block,
            &req.prior_state,
            &req.proposed_new_state,
            &req.config,
        );
        PlanResourceChangeResponse {
            planned_state: Some(change.planned),
            requires_replace: change.requires_replace,
            planned_private: req.prior_private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn apply_resource_change(
        &self,
        _req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        ApplyResourceChangeResponse {
            diagnostics: self.cannot("apply changes"),
            ..Default::default()
        }
    }

    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        // Nothing to ask: the object is as the state says.
        ReadResourceResponse {
            new_state: Some(req.current_state),
            private: req.private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn import_resource_state(
        &self,
        _req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        ImportResourceStateResponse {
            diagnostics: self.cannot("import objects"),
            ..Default::default()
        }
    }

    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        // A data source cannot be read offline: its computed attributes are
        // unknown until a real read.
        let Some(schema) = self.schema.data_sources.get(&req.type_name) else {
            return ReadDataSourceResponse {
                diagnostics: self.cannot(&format!("read data source {:?}", req.type_name)),
                ..Default::default()
            };
        };
        let change = plan_resource(
            &schema.block,
            &Value::null(schema.block.implied_type()),
            &req.config,
            &req.config,
        );
        ReadDataSourceResponse {
            state: Some(change.planned),
            diagnostics: Diagnostics::default(),
        }
    }
}

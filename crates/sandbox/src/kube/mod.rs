//! The Kubernetes API server.
use crate::World;
use axum::Router;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct WatchEvent;

pub fn router(world: Arc<World>) -> Router {
    let _events = world.kube_events.clone();
    Router::new().with_state(world)
}

pub fn kubeconfig(url: &str) -> String {
    url.to_string()
}

//! Watches: the initial events, bookmarks, replay from a resourceVersion,
//! and the live stream of changes filtered by collection, namespace and
//! selectors. A version older than the retained history answers 410 Gone
//! (an `ERROR` event with an `Expired` Status), as after etcd compaction.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::*;

/// Changes kept for replay; older versions answer 410 Gone.
const HISTORY_LIMIT: usize = 10_000;

/// The change feed of the Kubernetes server: live fan-out to watchers and
/// the recent history a watch can resume from.
pub struct Events {
    live: broadcast::Sender<WatchEvent>,
    history: Mutex<History>,
}

#[derive(Default)]
struct History {
    /// Versions below this are no longer known.
    floor: u64,
    events: VecDeque<WatchEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    pub fn new() -> Events {
        Events {
            live: broadcast::channel(4096).0,
            history: Mutex::new(History::default()),
        }
    }

    /// Records a change and sends it to every watcher.
    pub(super) fn publish(&self, event: WatchEvent) {
        if let Ok(mut history) = self.history.lock() {
            history.events.push_back(event.clone());
            while history.events.len() > HISTORY_LIMIT {
                if let Some(old) = history.events.pop_front() {
                    history.floor = old.rv;
                }
            }
        }
        let _ = self.live.send(event);
    }

    /// Forgets the history: versions up to `rv` are too old from now on
    /// (a server starting on a stored world knows none of its past changes).
    pub(super) fn forget_before(&self, rv: u64) {
        if let Ok(mut history) = self.history.lock() {
            history.events.clear();
            history.floor = rv;
        }
    }

    /// Changes after `rv`, or the oldest version still known when `rv` is
    /// older than that.
    fn since(&self, rv: u64) -> Result<Vec<WatchEvent>, u64> {
        let history = self.history.lock().map_err(|_| u64::MAX)?;
        if rv < history.floor {
            return Err(history.floor);
        }
        Ok(history
            .events
            .iter()
            .filter(|e| e.rv > rv)
            .cloned()
            .collect())
    }
}

pub(super) struct WatchRequest {
    ty: ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    /// Subscribed before the initial state was read, so nothing is missed.
    live: broadcast::Receiver<WatchEvent>,
    start: Start,
    bookmark_rv: Option<String>,
    timeout: Duration,
    table: bool,
}

/// Where a watch begins.
enum Start {
    /// Every matching object as ADDED, then changes after `after`.
    Objects { objects: Vec<Value>, after: u64 },
    /// The recorded changes after the requested version.
    Replay { events: Vec<WatchEvent>, after: u64 },
    /// The requested version is too old.
    Expired { requested: String, oldest: u64 },
}

impl Call<'_> {
    pub(super) fn watch_request(&self) -> Result<WatchRequest, Failure> {
        let (labels, fields) = self.selectors()?;
        let live = self.world.kube_events.live.subscribe();
        let rv = self
            .query
            .get("resourceVersion")
            .cloned()
            .unwrap_or_default();
        let send_initial = self
            .query
            .get("sendInitialEvents")
            .is_some_and(|v| v == "true");
        let start = if send_initial || rv.is_empty() || rv == "0" {
            let (objects, after) = self.world.store.tx(|t| {
                let objects = self.matching(t)?;
                Ok::<_, Failure>((
                    objects,
                    u64::try_from(t.next_counter(RV_COUNTER)?).unwrap_or(0),
                ))
            })?;
            Start::Objects { objects, after }
        } else {
            let after: u64 = rv
                .parse()
                .map_err(|_| Failure::bad_request(format!("invalid resource version \"{rv}\"")))?;
            match self.world.kube_events.since(after) {
                Ok(events) => Start::Replay { events, after },
                Err(oldest) => Start::Expired {
                    requested: rv,
                    oldest,
                },
            }
        };
        let bookmark_rv = match (&start, send_initial) {
            (Start::Objects { after, .. }, true) => Some(after.to_string()),
            _ => None,
        };
        let timeout = self
            .query
            .get("timeoutSeconds")
            .and_then(|s| s.parse().ok())
            .map_or(Duration::from_secs(1800), Duration::from_secs);
        Ok(WatchRequest {
            ty: self.ty.clone(),
            namespace: self.namespace.clone(),
            labels,
            fields,
            live,
            start,
            bookmark_rv,
            timeout,
            table: wants_table(self.headers),
        })
    }
}

impl WatchRequest {
    fn wants(&self, event: &WatchEvent) -> bool {
        event.collection == self.ty.collection()
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == event.namespace)
            && self.labels.matches(&event.object["metadata"]["labels"])
            && self.fields.matches(&event.object)
    }
}

/// Streams watch events as newline-delimited JSON until the timeout or the
/// client goes away.
pub(super) fn watch(world: Arc<World>, request: WatchRequest) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(64);
    let clock = world.store.clock();
    let mut request = request;
    tokio::spawn(async move {
        let ty = request.ty.clone();
        let table = request.table;
        let line = |kind: &str, object: &Value| {
            let object = if table && kind != "BOOKMARK" && kind != "ERROR" {
                let rv = object["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default();
                objects::table(&ty, std::slice::from_ref(object), rv, clock.now())
            } else {
                object.clone()
            };
            let mut text = json!({"type": kind, "object": object}).to_string();
            text.push('\n');
            Ok(Bytes::from(text))
        };
        let present = |event: &WatchEvent| {
            let mut object = event.object.clone();
            object["apiVersion"] = json!(ty.api_version());
            object
        };
        let start = std::mem::replace(
            &mut request.start,
            Start::Objects {
                objects: Vec::new(),
                after: 0,
            },
        );
        let mut seen = match start {
            Start::Objects { objects, after } => {
                for object in &objects {
                    if tx.send(line("ADDED", object)).await.is_err() {
                        return;
                    }
                }
                after
            }
            Start::Replay { events, after } => {
                let mut seen = after;
                for event in events.iter().filter(|e| request.wants(e)) {
                    if tx.send(line(event.kind, &present(event))).await.is_err() {
                        return;
                    }
                    seen = seen.max(event.rv);
                }
                seen
            }
            Start::Expired { requested, oldest } => {
                let status = json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": format!("too old resource version: {requested} ({oldest})"),
                    "reason": "Expired", "code": 410,
                });
                let _ = tx.send(line("ERROR", &status)).await;
                return;
            }
        };
        if let Some(rv) = &request.bookmark_rv {
            let bookmark = json!({
                "kind": ty.kind, "apiVersion": ty.api_version(),
                "metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}},
            });
            if tx.send(line("BOOKMARK", &bookmark)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + request.timeout;
        loop {
            let event = tokio::select! {
                e = request.live.recv() => e,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            };
            let event = match event {
                Ok(e) => e,
                // Too slow a reader: end the watch; the client resumes
                // from the last version it saw, replayed from history.
                Err(_) => return,
            };
            if event.rv != 0 && event.rv <= seen {
                continue;
            }
            if request.wants(&event) {
                seen = seen.max(event.rv);
                if tx.send(line(event.kind, &present(&event))).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

//! The HTTP/1 accept loops of both servers on a runtime the sandbox owns.
//!
//! A hand-rolled loop (instead of `axum::serve`) is what lets a fault close a
//! connection without any response, and gives graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::faults::Decision;
use crate::{SandboxError, World};

pub struct Servers {
    pub konnect_addr: SocketAddr,
    pub kubernetes_addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
    stop: watch::Sender<bool>,
    done: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DroppedConnection;

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, SandboxError> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| SandboxError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| SandboxError::Bind { addr, source })?;
    Ok(listener)
}

impl Servers {
    pub fn start(
        konnect_addr: SocketAddr,
        konnect: Router,
        kube_addr: SocketAddr,
        kube: Router,
        world: Arc<World>,
    ) -> Result<Servers, SandboxError> {
        let konnect_listener = bind(konnect_addr)?;
        let kube_listener = bind(kube_addr)?;
        let local = |l: &std::net::TcpListener, addr| {
            l.local_addr()
                .map_err(|source| SandboxError::Bind { addr, source })
        };
        let konnect_addr = local(&konnect_listener, konnect_addr)?;
        let kubernetes_addr = local(&kube_listener, kube_addr)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("meshform-sandbox")
            .enable_all()
            .build()
            .map_err(SandboxError::Runtime)?;
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done) = std::sync::mpsc::channel();
        {
            let _guard = runtime.enter();
            let konnect_listener =
                tokio::net::TcpListener::from_std(konnect_listener).map_err(|source| {
                    SandboxError::Bind {
                        addr: konnect_addr,
                        source,
                    }
                })?;
            let kube_listener =
                tokio::net::TcpListener::from_std(kube_listener).map_err(|source| {
                    SandboxError::Bind {
                        addr: kubernetes_addr,
                        source,
                    }
                })?;
            let (tx1, tx2) = (done_tx.clone(), done_tx);
            let rx1 = stop_rx.clone();
            runtime.spawn(async move {
                accept_loop(konnect_listener, konnect, Some(world), rx1).await;
                let _ = tx1.send(());
            });
            runtime.spawn(async move {
                accept_loop(kube_listener, kube, None, stop_rx).await;
                let _ = tx2.send(());
            });
        }
        Ok(Servers {
            konnect_addr,
            kubernetes_addr,
            runtime: Some(runtime),
            stop,
            done: std::sync::Mutex::new(done),
        })
    }

    /// Runs a background task on the sandbox runtime until shutdown.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.runtime {
            let mut stop = self.stop.subscribe();
            rt.spawn(async move {
                tokio::select! {
                    _ = task => {}
                    _ = stop.changed() => {}
                }
            });
        }
    }

    pub fn shutdown(mut self, grace: Duration) {
        self.stop_and_wait(grace);
    }

    fn stop_and_wait(&mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = std::time::Instant::now() + grace + Duration::from_millis(500);
        if let Ok(done) = self.done.lock() {
            for _ in 0..2 {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if done.recv_timeout(left).is_err() {
                    break;
                }
            }
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        if self.runtime.is_some() {
            self.stop_and_wait(Duration::from_millis(200));
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: Router,
    faults: Option<Arc<World>>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let router = router.clone();
                let faults = faults.clone();
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let router = router.clone();
                    let faults = faults.clone();
                    async move {
                        let req = req.map(Body::new);
                        let world = faults.filter(|_| !req.uri().path().starts_with("/_sandbox"));
                        let _in_flight = world.as_ref().map(|w| w.traffic.enter());
                        if let Some(world) = &world {
                            let (latency, decision) = world.faults.decide();
                            if !latency.is_zero() {
                                tokio::time::sleep(latency).await;
                            }
                            match decision {
                                Decision::Handle => {}
                                Decision::Drop => return Err(DroppedConnection),
                                Decision::ServerError(status) => {
                                    return Ok(crate::konnect::fault_response(status, None));
                                }
                                Decision::Throttle { retry_after_seconds } => {
                                    return Ok(crate::konnect::fault_response(429, Some(retry_after_seconds)));
                                }
                            }
                        }
                        match router.oneshot(req).await {
                            Ok(response) => Ok(response),
                            Err(never) => match never {},
                        }
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(3), graceful.shutdown()).await;
}

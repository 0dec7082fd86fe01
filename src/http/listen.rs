//! The accept loop: HTTP/1.1 connections served by the routes, with a header read timeout
//! (a client that never finishes its headers, or leaves a kept-alive connection idle, is
//! disconnected) and a cap on concurrent connections (beyond it, new ones wait in the
//! listen queue until one closes). Graceful: on shutdown the listener closes and
//! connections finish the request they are serving. HTTP upgrades are served, as warp's
//! own server did (a WebSocket, once upgraded, is no longer the connection's).

use super::Reply;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use warp::Filter;

/// The largest request head (request line and headers) read before refusing with 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How connections are accepted and read.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest wait for a request's headers (from the connection's first byte or the end of
    /// its previous request); None: no limit.
    pub header_timeout: Option<Duration>,
    /// Most connections served at once; None: no cap.
    pub max_connections: Option<usize>,
}

pub async fn run<F>(
    routes: F,
    limits: ConnectionLimits,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    F: Filter<Extract = (Reply,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
{
    let slots = limits.max_connections.map(|n| Arc::new(Semaphore::new(n)));
    // Tells every connection to finish its request and close.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // A slot first: at the cap, nothing is accepted and new clients wait in the queue.
        let permit = match &slots {
            Some(slots) => tokio::select! {
                permit = slots.clone().acquire_owned() => Some(permit.expect("the semaphore is never closed")),
                () = &mut shutdown => break,
            },
            None => None,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Whether the connection has served a request: a header timeout after that is an
        // idle kept-alive connection closing, not a refusal.
        let served = Arc::new(AtomicBool::new(false));
        let routes_service = TowerToHyperService::new(warp::service(routes.clone()));
        let service = {
            let served = served.clone();
            hyper::service::service_fn(move |request| {
                served.store(true, Ordering::Relaxed);
                routes_service.call(request)
            })
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        // A request head (request line and headers) over 64 KiB is refused with 431. With hyper's
        // default bound (~400 KiB) a 500 KB head was once read whole and served.
        http.timer(TokioTimer::new())
            .max_buf_size(MAX_HEAD_BYTES)
            .header_read_timeout(limits.header_timeout);
        let mut stop = stop.clone();
        connections.spawn(async move {
            let connection = http
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                refused(&e, served.load(Ordering::Relaxed));
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    while connections.join_next().await.is_some() {}
}

/// A connection hyper ended with an error. Refusals get a line of their own (no request
/// reached the routes, so there is no request line); a client that went away, or a
/// kept-alive connection left idle past the header timeout, only a debug one.
fn refused(e: &hyper::Error, served: bool) {
    let code = if e.is_timeout() && !served {
        "HEADER_TIMEOUT"
    } else if e.is_parse_too_large() {
        "REQUEST_HEADER_FIELDS_TOO_LARGE"
    } else if e.is_parse() {
        "MALFORMED_REQUEST"
    } else {
        tracing::debug!(error = %e, "connection closed");
        return;
    };
    tracing::info!(code, error = %e, "connection refused");
}

/// A failed accept: the client gave up already (ignored), or the process is out of file
/// descriptors or the like (logged, and a pause before the next try, not a busy loop).
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(500)).await;
}

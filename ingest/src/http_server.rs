//! The HTTP server of every axum router skyline serves (HTTP ingest, the
//! console), with bounded connections and timeouts ([`HttpLimits`]):
//! `axum::serve` has neither a connection limit nor a header-read timeout.
//!
//! Each request carries its client's address as axum's
//! `ConnectInfo<SocketAddr>`, as `into_make_service_with_connect_info`
//! would give it.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

use crate::connections::{ConnectionPool, HttpLimits};

/// Serves `router` on `listener` (the listener called `name` in logs)
/// within `limits`, until `shutdown` resolves; then stops accepting, lets
/// requests in progress finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    name: &'static str,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let pool = ConnectionPool::new(name, limits.max);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_secs.max(1)));
    let request_timeout = Duration::from_secs(limits.request_timeout_secs.max(1));
    // Every connection task holds a receiver: the sender learns when the
    // last has ended, and its value going to `true` asks them to finish.
    let (stopping, stop) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files, most likely: wait for connections to end.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let connection = tokio::select! {
            () = &mut shutdown => break,
            connection = pool.admit() => connection,
        };
        let router = router.clone();
        let mut stop = stop.clone();
        let http = http.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|mut request: Request<Incoming>| {
                let _busy = connection.busy();
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                async move {
                    let _busy = _busy;
                    // A router is always ready: `call` needs no `poll_ready`.
                    let answer = router.call(request.map(axum::body::Body::new));
                    match tokio::time::timeout(request_timeout, answer).await {
                        Ok(response) => response,
                        Err(_) => Ok::<_, Infallible>(too_slow(request_timeout)),
                    }
                }
            });
            let served = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(served);
            let mut finishing = false;
            loop {
                tokio::select! {
                    outcome = served.as_mut() => {
                        if let Err(e) = outcome {
                            tracing::debug!(listener = name, %peer, error = %e, "connection ended");
                        }
                        break;
                    }
                    () = connection.evicted(), if !finishing => {
                        if !connection.is_busy() {
                            break;
                        }
                        // A request started meanwhile: let it finish.
                        served.as_mut().graceful_shutdown();
                        finishing = true;
                    }
                    _ = stop.wait_for(|stop| *stop), if !finishing => {
                        served.as_mut().graceful_shutdown();
                        finishing = true;
                    }
                }
            }
            drop(stop);
        });
    }
    drop(stop);
    let _ = stopping.send(true);
    stopping.closed().await;
    Ok(())
}

/// The answer to a request that took longer than `limit`.
fn too_slow(limit: Duration) -> Response<axum::body::Body> {
    let mut response = Response::new(axum::body::Body::from(format!(
        "request not completed within {} s\n",
        limit.as_secs()
    )));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

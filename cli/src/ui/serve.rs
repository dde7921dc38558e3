//! The page's own HTTP/1 server loop: every connection is admitted against the caps of
//! [`ConnectionLimiter`], read with a header and idle timeout, and tagged with its
//! addresses ([`Conn`]) for the gate.
//!
//! axum's `serve` has no read or idle timeout and no cap per client: a LAN host holding a
//! thousand idle connections used to exhaust the descriptors and freeze the resident's own
//! page. Here a connection over a cap is closed at once, a connection that sends no
//! complete request head within the timeout (idle keep-alive included) is closed, and this
//! computer's connections have a pool of their own.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::Instrument;

use super::security::{Conn, ConnectionLimiter};

/// How long a connection may take to send a whole request head, and how long an idle
/// keep-alive connection stays open. `ENTRAIDE_PAGE_IDLE_SECS` changes it (tests use a
/// short one).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connections get to finish their request after the node is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Pause after a failed accept (out of descriptors, say) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The header/idle timeout in force: [`HEADER_TIMEOUT`] unless `ENTRAIDE_PAGE_IDLE_SECS`
/// says otherwise.
pub(crate) fn header_timeout() -> Duration {
    std::env::var("ENTRAIDE_PAGE_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(HEADER_TIMEOUT)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limiter: Arc<ConnectionLimiter>,
    shutdown: impl Future<Output = ()>,
) {
    let timeout = header_timeout();
    let mut connections = JoinSet::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Reap finished connection tasks so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("the page cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Some(permit) = limiter.admit(remote.ip()) else {
            refused += 1;
            // Logged sparsely: a flood would otherwise flood the log too.
            if refused.is_power_of_two() {
                let (local, lan) = limiter.open();
                tracing::warn!(
                    "page: refused a connection from {remote}: too many open ({local} from this computer, {lan} from the LAN); {refused} refused so far"
                );
            }
            drop(stream);
            continue;
        };
        let local = match stream.local_addr() {
            Ok(a) => a,
            Err(_) => continue,
        };
        let conn = Conn { remote, local };
        let router = router.clone();
        let mut stop = stop_rx.clone();
        let span = tracing::debug_span!("page", %remote);
        connections.spawn(
            async move {
                let _permit = permit;
                let service =
                    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                        request.extensions_mut().insert(conn);
                        router.clone().oneshot(request.map(axum::body::Body::new))
                    });
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(timeout)
                    .keep_alive(true);
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("connection ended: {e}");
                        }
                    }
                    _ = stop.changed() => {
                        connection.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
                    }
                }
            }
            .instrument(span),
        );
    }
    let _ = stop_tx.send(true);
    // Live streams (`/events`) never finish on their own: give every connection the grace
    // period, then drop what is left.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.shutdown().await;
}

//! The accept loop: HTTP/1.1 connections with the timeouts and caps of `[server]`
//!, served by hyper, with graceful shutdown.
//!
//! `axum::serve` has no header-read, idle or connection limits, so a few hundred silent or
//! byte-by-byte connections could hold every file descriptor. Here:
//! - at most `max_connections` are open; one more gets a canned `503` with `Retry-After`
//!   and is closed, without reading its request;
//! - a connection with no request in flight must send a whole request head within
//!   `header_read_timeout` once its first byte arrives, and may sit idle between requests
//!   for `idle_timeout` (`Guarded` below); a stalled write counts as idle too;
//! - request bodies and whole requests have their own deadlines in the router;
//! - `accept` errors (e.g. `EMFILE`) back off instead of spinning.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::observe::{Observer, observe};
use crate::telemetry::metrics::{Metrics, Rejection};

/// Connection-level limits, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The whole answer to a connection over the cap.
fn busy_response() -> Vec<u8> {
    let body =
        r#"{"errors":[{"message":"too many open connections; retry later","extensions":{"code":"OVERLOADED"}}]}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `router` on `listener` until `shutdown` completes, then waits up to `grace` for
/// open requests.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    metrics: Metrics,
    observer: Option<Observer>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Every connection task holds a sender: `recv` returns `None` once all have ended.
    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(None);
    tokio::pin!(shutdown);
    let mut backoff = Duration::from_millis(5);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = Duration::from_millis(5);
                    pair
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?backoff, "accept failed; backing off");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.rejected(Rejection::Connections);
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let busy = Arc::new(AtomicUsize::new(0));
        let io = TokioIo::new(Guarded::new(stream, busy.clone(), limits));
        let (router, observer) = (router.clone(), observer.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let guard = InFlight::enter(&busy);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectionHold(busy.clone()));
            let router = router.clone();
            let call = move |request| async move {
                let Ok(response) = router.oneshot(request).await;
                response
            };
            let observer = observer.clone();
            async move {
                let response = match observer {
                    Some(observer) => observe(observer, request, call).await,
                    None => call(request).await,
                };
                drop(guard);
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        // With upgrades: `/graphql` takes WebSockets (graphql-transport-ws). hyper-util's
        // `GracefulShutdown` cannot watch an upgradeable connection, so each connection
        // watches the stop signal itself and holds a sender the shutdown waits on.
        let connection = builder.serve_connection(io, service).with_upgrades();
        let (mut stop, open) = (stop_rx.clone(), open_tx.clone());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop((slot, open));
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    stop_tx.send_replace(true);
    drop(open_tx);
    if tokio::time::timeout(grace, open_rx.recv()).await.is_err() {
        tracing::warn!(?grace, "grace period over; dropping remaining requests");
    }
    Ok(())
}

/// Answers a connection over the cap with a canned 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&busy_response()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A request's handle on its connection's count of requests being handled: a response
/// that outlives its handler (an event stream, an upgraded WebSocket) holds the connection
/// busy with it, so the idle and header deadlines do not cut it.
#[derive(Clone)]
pub struct ConnectionHold(Arc<AtomicUsize>);

impl ConnectionHold {
    /// Keeps the connection busy until the returned guard is dropped.
    pub fn hold(&self) -> impl Drop + Send + Sync + 'static {
        InFlight::enter(&self.0)
    }
}

/// Counts a connection's requests being handled (a guard, so cancellation counts too).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a connection is waiting for, which decides its read deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: `idle_timeout` since the last activity.
    Idle,
    /// Part of a request head arrived: `header_read_timeout` since its first byte.
    Head,
    /// A request is being handled: the router's deadlines apply, not these.
    Busy,
}

/// A TCP stream that fails reads with `TimedOut` when the connection idles or dribbles
/// its request head past the limits.
///
/// Phase changes (several per request) only move `due`; the timer itself is re-armed
/// lazily, when it fires, never further ahead than `header_read_timeout` (the shortest
/// deadline), so it never fires late and a busy connection costs no timer-wheel work.
struct Guarded {
    io: TcpStream,
    busy: Arc<AtomicUsize>,
    limits: ConnectionLimits,
    phase: Phase,
    /// When the current phase's deadline passes.
    due: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Guarded {
    fn new(io: TcpStream, busy: Arc<AtomicUsize>, limits: ConnectionLimits) -> Self {
        // A fresh connection owes its first request head within the header timeout.
        let due = Instant::now() + limits.header_read_timeout.min(limits.idle_timeout);
        Guarded {
            io,
            busy,
            limits,
            phase: Phase::Idle,
            due,
            timer: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    /// Moves to the phase the connection is in now, setting the deadline on a change.
    fn settle(&mut self, read_something: bool) {
        if self.busy.load(Ordering::Acquire) > 0 {
            self.phase = Phase::Busy;
            return;
        }
        if self.phase == Phase::Busy {
            self.phase = Phase::Idle;
            self.due = Instant::now() + self.limits.idle_timeout;
        }
        if self.phase == Phase::Idle && read_something {
            self.phase = Phase::Head;
            self.due = Instant::now() + self.limits.header_read_timeout;
        }
    }

    /// Whether the phase's deadline has passed; otherwise makes sure the timer wakes the
    /// task by then.
    /// The outcome of a read or write that is not ready: keep waiting, or fail once the
    /// phase's deadline has passed.
    fn waiting<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.settle(false);
        match self.expired(cx) {
            true => Poll::Ready(Err(timed_out())),
            false => Poll::Pending,
        }
    }

    /// A write's outcome: progress on a response between requests pushes the idle
    /// deadline (the client is reading); a stalled write waits like a read.
    fn written(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match outcome {
            Poll::Ready(Ok(n)) if n > 0 && self.phase == Phase::Idle => {
                self.due = Instant::now() + self.limits.idle_timeout;
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.waiting(cx),
            ready => ready,
        }
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.phase == Phase::Busy {
            return false;
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= self.due {
                return true;
            }
            let next = self.due.min(Instant::now() + self.limits.header_read_timeout);
            self.timer.as_mut().reset(next);
        }
        false
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle or too slow")
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() > before;
                self.settle(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.waiting(cx),
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, data);
        self.written(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.written(cx, written)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

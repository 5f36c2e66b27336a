//! The axum router: `/graphql` (POST JSON, GET queries or GraphiQL), `/healthz`,
//! `/readyz`, `/metrics`; the guards of every GraphQL request (a cap on requests in
//! flight, a whole-request deadline, a panic becomes a coded 500); what every request
//! leaves for operators (`observe`: request id, metrics, access line, span); and the
//! accept loop with its connection limits (`server`).

mod caching;
pub mod config;
mod cors;
pub mod demand;
mod documents;
mod encoding;
mod export;
pub mod fds;
mod graphiql;
mod graphql;
mod hygiene;
pub mod limits;
mod live;
mod media;
pub mod observe;
mod persisted;
mod responses;
mod server;
mod sse;
pub mod transport_ws;
mod trusted;
pub mod variables;
mod webhooks;
mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::FutureExt;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use tokio::sync::Semaphore;

pub use documents::Documents;
pub use live::LiveConnections;
pub use persisted::PersistedQueries;
pub use responses::Responses;
pub use server::{ConnectionHold, ConnectionLimits, serve};
pub use trusted::Manifest;

use crate::auth::{Authenticator, bearer};
use crate::cache::Cache;
use crate::graphql::Schemas;
use crate::graphql::error::{ErrorCode, GatewayError};
use crate::telemetry::metrics::{Metrics, Rejection};

/// Limits one request is held to, from `[graphql]` and `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub document: limits::DocumentLimits,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub max_upstream_calls: u32,
    /// How long a request may take (`server.request_timeout`): its deadline.
    pub request_timeout: Duration,
    pub body_read_timeout: Duration,
    /// Longest `Cache-Control: max-age` of a GET answer.
    pub http_max_age: Duration,
    /// Freshly rendered answers up to this size are not compressed
    /// (`server.compress_min_bytes`).
    pub compress_min_bytes: usize,
    /// Bounds of a request's `variables`.
    pub variables: variables::VariableLimits,
}

/// Whether the gateway should receive traffic (`/readyz`): not while it drains before
/// shutting down, and (when `server.ready_requires_closed_circuits`) not while a
/// provider's circuit is open.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
    require_closed_circuits: bool,
}

impl Readiness {
    pub fn new(require_closed_circuits: bool) -> Self {
        Readiness {
            draining: Arc::default(),
            require_closed_circuits,
        }
    }

    /// From now on `/readyz` answers 503.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

/// Who may read `/metrics` on the main listener.
#[derive(Debug, Clone, Copy)]
pub enum MetricsAccess {
    /// Anyone (demo mode only).
    Open,
    /// Callers that send `Authorization: Bearer <key>` with this SHA-256.
    Key([u8; 32]),
    /// Nobody: operators read it on the admin listener.
    AdminOnly,
}

/// Everything a request handler needs, shared: one pointer, so handing it to a request
/// costs one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl From<Shared> for AppState {
    fn from(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What `AppState` points to.
pub struct Shared {
    pub schemas: Schemas,
    /// The schema's types, for response completion.
    pub types: Arc<crate::graphql::completion::TypeIndex>,
    pub guards: Guards,
    pub auth: Arc<Authenticator>,
    /// `[authorization]`, when configured.
    pub authz: Option<Arc<crate::authz::Authorization>>,
    pub cache: Cache,
    pub limits: RequestLimits,
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub documents: documents::Documents,
    /// Rendered answers reused while their data is fresh.
    pub responses: Responses,
    pub persisted: PersistedQueries,
    pub metrics_access: MetricsAccess,
    /// Live updates (`[live]`), unless turned off.
    pub live: Option<Arc<crate::graphql::LiveFeed>>,
    /// WebSockets open now (shutdown waits for them).
    pub live_connections: live::LiveConnections,
    /// Cost budgets (`[limits]`), when any is set.
    pub demand: Option<demand::Demand>,
}

/// The public router (with response compression, and CORS when `[server.cors]` allows
/// any origin).
pub fn router(state: AppState, cors: &crate::http::config::CorsConfig) -> Router {
    // Compression (gzip, br, zstd as the client's Accept-Encoding asks) for bodies over
    // 1 KiB: small answers such as a by-id lookup are not worth the CPU. At the fastest
    // level: brotli's default (4) cost 84 us of CPU per 4 KB page of 20 logs, more than
    // executing the query; the fastest level still shrinks such JSON about 3x.
    // `/graphql` compresses its own answers (`encoding::compress`), outside this layer.
    let others = Router::new()
        .route("/graphiql/{version}/{file}", get(graphiql::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(guarded_metrics))
        .route("/export/call-logs", get(export::call_logs))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(tower_http::compression::predicate::SizeAbove::new(encoding::MIN_BYTES)),
        );
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/webhooks/{tenant}/{provider}", axum::routing::post(webhooks::receive))
        .merge(others)
        .with_state(state);
    match cors::Cors::from_config(cors) {
        Some(policy) => router.layer(axum::middleware::from_fn_with_state(policy, cors::layer)),
        None => router,
    }
}

/// The operators' router (`server.admin_listen`): metrics and health, no key.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(state)
}

/// The guards of every GraphQL request: a cap on requests in flight (beyond it a cheap
/// 503), the whole-request deadline, and the last line of defence against panics. Health
/// and metrics routes stay outside them: a probe must not fail because the gateway is busy.
#[derive(Clone)]
pub struct Guards {
    metrics: Metrics,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    deadline: Duration,
}

impl Guards {
    pub fn new(metrics: Metrics, max_in_flight: usize, deadline: Duration) -> Self {
        Guards {
            metrics,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            deadline,
        }
    }

    /// Requests running under the guards now.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight.saturating_sub(self.in_flight.available_permits())
    }

    /// Runs `work` (a request's body read and execution) under the guards. The work is
    /// boxed first: a request's future is large, and each wrapper would otherwise copy it.
    pub async fn run(&self, work: impl Future<Output = Response> + Send) -> Response {
        self.run_boxed(Box::pin(work)).await
    }

    async fn run_boxed(&self, work: Pin<Box<dyn Future<Output = Response> + Send + '_>>) -> Response {
        let Ok(_permit) = self.in_flight.try_acquire() else {
            self.metrics.rejected(Rejection::Overloaded);
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Overloaded,
                "too many requests in flight; retry later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        };
        match tokio::time::timeout(self.deadline, AssertUnwindSafe(work).catch_unwind()).await {
            Ok(Ok(response)) => response,
            Ok(Err(panic)) => self.panicked(panic.as_ref()),
            Err(_) => {
                self.metrics.rejected(Rejection::Timeout);
                refuse(
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorCode::UpstreamTimeout,
                    &format!(
                        "the request did not complete within {} s (server.request_timeout)",
                        self.deadline.as_secs_f32()
                    ),
                )
            }
        }
    }

    /// A panic while handling a request: logged with a correlation id, counted, and
    /// answered with a coded 500 carrying that id (the connection stays usable).
    fn panicked(&self, panic: &(dyn std::any::Any + Send)) -> Response {
        self.metrics.panicked();
        let detail = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("panic with a non-string payload");
        error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::internal(&format!("panic while handling a request: {detail}")),
        )
    }
}

/// What `caller` may see under `[authorization]`, for one request (or subscription, or
/// export).
fn access(state: &AppState, caller: &crate::auth::Caller) -> std::sync::Arc<crate::authz::Access> {
    crate::authz::Access::new(
        state.authz.as_ref(),
        &caller.granted,
        caller.subject.clone(),
        caller.party.clone(),
    )
}

/// A request refused outside GraphQL execution, as a GraphQL error body.
pub(crate) fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    error_body(status, GatewayError::new(code, message))
}

fn error_body(status: StatusCode, error: GatewayError) -> Response {
    let mut error = error.server_error();
    if status.is_server_error()
        && let Some(id) = crate::telemetry::request_id::current()
        && let Some(extensions) = error.extensions.as_mut()
    {
        extensions.set("requestId", id.as_ref());
    }
    let body = serde_json::json!({ "errors": [error] });
    // An error is never replayed from a cache.
    let mut response = (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response();
    response
        .extensions_mut()
        .insert(observe::Facts::refused(error_code(&error)));
    response.extensions_mut().insert(media::NoData);
    response
}

/// The code an error body says (every gateway error has one).
fn error_code(error: &async_graphql::ServerError) -> &str {
    match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => ErrorCode::InternalServerError.as_str(),
    }
}

/// `/readyz`: 200 while the gateway should receive traffic, else 503 saying why.
async fn ready(State(state): State<AppState>) -> Response {
    let why = if state.readiness.is_draining() {
        Some("draining: shutting down")
    } else if state.readiness.require_closed_circuits
        && state.auth.tenants().all().iter().any(|t| {
            t.services()
                .iter()
                .any(|s| s.upstream().breaker().state() == crate::upstream::breaker::BreakerState::Open)
        })
    {
        Some("a provider's circuit is open")
    } else {
        None
    };
    match why {
        None => (StatusCode::OK, "ready").into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            format!("not ready: {why}"),
        )
            .into_response(),
    }
}

async fn guarded_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.metrics_access {
        MetricsAccess::Open => metrics(State(state)).await.into_response(),
        MetricsAccess::Key(hash) if bearer(&headers).is_some_and(|k| Sha256::digest(k.as_bytes())[..] == hash) => {
            metrics(State(state)).await.into_response()
        }
        MetricsAccess::Key(_) => {
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "`/metrics` needs `Authorization: Bearer <metrics key>`",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            response
        }
        MetricsAccess::AdminOnly => refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "metrics are served on the admin listener (server.admin_listen) or with server.metrics_key_sha256",
        ),
    }
}

/// Prometheus text format: every series of `telemetry::metrics`, with the sizes of the
/// document and response caches and the record cache's pending evictions brought up to
/// date first.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state.cache.settle().await;
    state.metrics.cache_entries("documents", state.documents.entry_count());
    state.metrics.cache_entries("responses", state.responses.entry_count());
    state.metrics.in_flight(state.guards.in_flight());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        for value in ["Bearer k1", "bearer k1", "BEARER   k1 "] {
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&h), Some("k1"), "{value}");
        }
        for value in ["Basic k1", "Bearer", "Bearer ", "Bearerk1"] {
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&h), None, "{value}");
        }
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let body = axum::body::to_bytes(response.into_body(), 10_000).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    #[tokio::test]
    async fn requests_in_flight_are_those_holding_a_guard_permit() {
        let guards = Guards::new(Metrics::default(), 4, Duration::from_secs(5));
        assert_eq!(guards.in_flight(), 0);
        let inside = guards
            .run(async { guards.in_flight().to_string().into_response() })
            .await;
        assert_eq!(body_text(inside).await, "1");
        assert_eq!(guards.in_flight(), 0);
    }

    async fn body_text(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), 10_000).await.unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_panic_in_a_request_is_a_coded_500_with_a_correlation_id_and_is_counted() {
        let metrics = Metrics::default();
        let guards = Guards::new(metrics.clone(), 4, Duration::from_secs(5));
        let boom = std::hint::black_box(true);
        let response = guards
            .run(async {
                if boom {
                    panic!("boom");
                }
                "unreachable".into_response()
            })
            .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(response).await;
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["code"], "INTERNAL_SERVER_ERROR");
        assert!(
            extensions["correlationId"].as_str().is_some_and(|id| id.len() == 36),
            "{body}"
        );
        assert!(
            !body.to_string().contains("boom"),
            "the panic message stays in the logs"
        );
        assert!(metrics.render().contains("\nswitchboard_request_panics_total 1\n"));
        let after = guards.run(async { "ok".into_response() }).await;
        assert_eq!(after.status(), StatusCode::OK, "the permit was given back");
    }
}

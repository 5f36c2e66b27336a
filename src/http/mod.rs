//! The axum router: `/graphql` (POST JSON, GET queries or GraphiQL), `/healthz`,
//! `/readyz`, `/metrics`; the guards of every GraphQL request (a cap on requests in
//! flight, a whole-request deadline, a panic becomes a coded 500); and the accept loop
//! with its connection limits (`server`).

mod caching;
mod cors;
mod documents;
mod encoding;
mod graphiql;
mod graphql;
mod hygiene;
pub mod limits;
mod persisted;
mod responses;
mod server;
mod trusted;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
pub use persisted::PersistedQueries;
pub use responses::Responses;
pub use server::{ConnectionLimits, serve};
pub use trusted::Manifest;

use crate::auth::{Authenticator, bearer};
use crate::cache::Cache;
use crate::graphql::Schemas;
use crate::graphql::error::{ErrorCode, GatewayError};

/// Limits one request is held to, from `[graphql]` and `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub document: limits::DocumentLimits,
    pub max_body_bytes: usize,
    pub max_response_bytes: usize,
    pub max_upstream_calls: u32,
    pub body_read_timeout: Duration,
    /// Longest `Cache-Control: max-age` of a GET answer.
    pub http_max_age: Duration,
}

/// Counters the HTTP layer keeps (served on `/metrics`).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub panics: AtomicU64,
    pub overloaded: AtomicU64,
    pub timed_out: AtomicU64,
    pub refused_by_limits: AtomicU64,
    /// Requests answered with a kept rendered response (`responses`).
    pub reused_responses: AtomicU64,
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
    pub cache: Cache,
    pub limits: RequestLimits,
    pub stats: Arc<Stats>,
    pub documents: documents::Documents,
    /// Rendered answers reused while their data is fresh.
    pub responses: Responses,
    pub persisted: PersistedQueries,
    pub metrics_access: MetricsAccess,
}

/// The public router (with response compression, and CORS when `[server.cors]` allows
/// any origin).
pub fn router(state: AppState, cors: &crate::config::CorsConfig) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql/{version}/{file}", get(graphiql::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/metrics", get(guarded_metrics))
        .with_state(state);
    // Compression (gzip, br, zstd as the client's Accept-Encoding asks) for bodies over
    // 1 KiB: small answers such as a by-id lookup are not worth the CPU. At the fastest
    // level: brotli's default (4) cost 84 us of CPU per 4 KB page of 20 logs, more than
    // executing the query; the fastest level still shrinks such JSON about 3x.
    let router = router.layer(
        tower_http::compression::CompressionLayer::new()
            .quality(tower_http::CompressionLevel::Fastest)
            .compress_when(tower_http::compression::predicate::SizeAbove::new(encoding::MIN_BYTES)),
    );
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
        .with_state(state)
}

/// The guards of every GraphQL request: a cap on requests in flight (beyond it a cheap
/// 503), the whole-request deadline, and the last line of defence against panics. Health
/// and metrics routes stay outside them: a probe must not fail because the gateway is busy.
#[derive(Clone)]
pub struct Guards {
    stats: Arc<Stats>,
    in_flight: Arc<Semaphore>,
    deadline: Duration,
}

impl Guards {
    pub fn new(stats: Arc<Stats>, max_in_flight: usize, deadline: Duration) -> Self {
        Guards {
            stats,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            deadline,
        }
    }

    /// Runs `work` (a request's body read and execution) under the guards. The work is
    /// boxed first: a request's future is large, and each wrapper would otherwise copy it.
    pub async fn run(&self, work: impl Future<Output = Response> + Send) -> Response {
        self.run_boxed(Box::pin(work)).await
    }

    async fn run_boxed(&self, work: Pin<Box<dyn Future<Output = Response> + Send + '_>>) -> Response {
        let Ok(_permit) = self.in_flight.try_acquire() else {
            self.stats.overloaded.fetch_add(1, Ordering::Relaxed);
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
                self.stats.timed_out.fetch_add(1, Ordering::Relaxed);
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
        self.stats.panics.fetch_add(1, Ordering::Relaxed);
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

/// A request refused outside GraphQL execution, as a GraphQL error body.
pub(crate) fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    error_body(status, GatewayError::new(code, message))
}

fn error_body(status: StatusCode, error: GatewayError) -> Response {
    let error = async_graphql::ServerError {
        message: error.message.clone(),
        source: None,
        locations: Vec::new(),
        path: Vec::new(),
        extensions: Some(error.extensions()),
    };
    let body = serde_json::json!({ "errors": [error] });
    // An error is never replayed from a cache.
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
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

/// The token of an `Authorization: Bearer <token>` header; the scheme is
/// case-insensitive (RFC 7235).
/// Prometheus text format: requests served, upstream calls per tenant, cache entries.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    let stats = &state.stats;
    let counters = [
        ("switchboard_graphql_requests_total", &stats.requests),
        ("switchboard_request_panics_total", &stats.panics),
        ("switchboard_requests_overloaded_total", &stats.overloaded),
        ("switchboard_requests_timed_out_total", &stats.timed_out),
        ("switchboard_requests_refused_by_limits_total", &stats.refused_by_limits),
        ("switchboard_responses_reused_total", &stats.reused_responses),
    ];
    for (name, value) in counters {
        out.push_str(&format!(
            "# TYPE {name} counter\n{name} {}\n",
            value.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# TYPE switchboard_upstream_requests_total counter\n");
    for tenant in state.auth.tenants().all() {
        for service in tenant.services() {
            out.push_str(&format!(
                "switchboard_upstream_requests_total{{provider=\"{}\",tenant=\"{}\"}} {}\n",
                service.provider().as_str(),
                tenant.id.as_str(),
                service.upstream_requests()
            ));
        }
    }
    out.push_str("# TYPE switchboard_cache_entries gauge\n");
    out.push_str(&format!("switchboard_cache_entries {}\n", state.cache.entry_count()));
    out.push_str("# TYPE switchboard_cache_weighted_bytes gauge\n");
    out.push_str(&format!(
        "switchboard_cache_weighted_bytes {}\n",
        state.cache.weighted_bytes()
    ));
    out.push_str("# TYPE switchboard_kept_responses gauge\n");
    out.push_str(&format!(
        "switchboard_kept_responses {}\n",
        state.responses.entry_count()
    ));
    out.push_str("# TYPE switchboard_parsed_documents gauge\n");
    out.push_str(&format!(
        "switchboard_parsed_documents {}\n",
        state.documents.entry_count()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
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
    async fn a_panic_in_a_request_is_a_coded_500_with_a_correlation_id_and_is_counted() {
        let stats = Arc::new(Stats::default());
        let guards = Guards::new(stats.clone(), 4, Duration::from_secs(5));
        let response = guards
            .run(async {
                if stats.requests.load(Ordering::Relaxed) == 0 {
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
        assert_eq!(stats.panics.load(Ordering::Relaxed), 1);
        let after = guards.run(async { "ok".into_response() }).await;
        assert_eq!(after.status(), StatusCode::OK, "the permit was given back");
    }
}

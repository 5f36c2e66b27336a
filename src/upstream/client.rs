//! `UpstreamClient`: one provider's view of the shared HTTP client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Semaphore;
use tracing::Instrument;

use super::breaker::{Admission, Breaker};
use super::pace::Pace;
use super::retry::{RetryBudget, backoff};
use super::window::{Window, whole_seconds};
use super::{UpstreamError, UpstreamErrorKind};
use crate::domain::Provider;
use crate::domain::TenantId;
use crate::telemetry::logs::cause_chain;
use crate::telemetry::metrics::{ErrorClass, Metrics, UpstreamMetrics};
use crate::telemetry::otel;
use crate::upstream::config::UpstreamConfig;

/// Builds the process-wide pooled client (one connection pool for every provider). TLS is
/// rustls (reqwest's default aws-lc-rs provider), verifying against the system's trust
/// store.
pub fn build_http_client(config: &UpstreamConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .pool_max_idle_per_host(64)
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is static and valid")
}

/// The process-wide pooled client and the metrics every provider call is counted in.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    metrics: Metrics,
}

impl Http {
    pub fn new(config: &UpstreamConfig, metrics: &Metrics) -> Http {
        Http {
            client: build_http_client(config),
            metrics: metrics.clone(),
        }
    }

    /// The pooled client itself (for calls that are not a provider's, e.g. JWKS).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `provider`'s client for `tenant`, with its own limits, breaker and series: at most
    /// `concurrency` requests at once and `per_second` a second.
    pub fn client_for(
        &self,
        tenant: &TenantId,
        provider: Provider,
        (concurrency, per_second): (usize, Option<f64>),
        policy: &UpstreamConfig,
    ) -> UpstreamClient {
        let mut client = UpstreamClient::new(
            self.client.clone(),
            tenant,
            provider,
            concurrency,
            policy.clone(),
            self.metrics.upstream(provider, tenant),
        );
        client.pace = per_second.map(|rate| Arc::new(Pace::new(rate)));
        client
    }
}

/// A response the provider module still has to interpret (2xx or a non-retryable 4xx).
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Whether a call may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Reads nothing changes by repeating: retried within the retry budget.
    Read,
    /// Creates something upstream (e.g. a report job): sent once, never retried, since
    /// the provider documents no idempotency key and a retry after a lost answer would
    /// create a duplicate.
    Create,
}

/// The shared client plus one provider's limits, retry policy, retry budget and circuit
/// breaker, for one tenant.
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    provider: Provider,
    permits: Arc<Semaphore>,
    policy: UpstreamConfig,
    requests: Arc<AtomicU64>,
    retries: Arc<RetryBudget>,
    breaker: Arc<Breaker>,
    /// The provider's Retry-After window for this tenant.
    window: Arc<Window>,
    /// The provider's request rate for this tenant (`max_requests_per_second`).
    pace: Option<Arc<Pace>>,
    max_body: usize,
    metrics: UpstreamMetrics,
}

impl UpstreamClient {
    pub fn new(
        http: reqwest::Client,
        tenant: &TenantId,
        provider: Provider,
        concurrency: usize,
        policy: UpstreamConfig,
        metrics: UpstreamMetrics,
    ) -> Self {
        metrics.circuit(super::breaker::BreakerState::Closed.gauge());
        UpstreamClient {
            metrics,
            http,
            provider,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            retries: Arc::new(RetryBudget::new(policy.retry_budget_ratio, policy.retry_budget_reserve)),
            breaker: Arc::new(
                Breaker::new(policy.breaker_failures, policy.breaker_cool_down).named(provider, tenant.clone()),
            ),
            max_body: policy
                .max_body_bytes_per_provider
                .get(provider.as_str())
                .copied()
                .unwrap_or(policy.max_body_bytes),
            policy,
            requests: Arc::new(AtomicU64::new(0)),
            window: Arc::default(),
            pace: None,
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Requests sent upstream so far (retries included).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The provider's circuit breaker for this tenant (metrics, readiness).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Sends a request built by `build`. A `Call::Read` that fails with 429, 5xx or a
    /// transport error is retried (jittered backoff, or a short `Retry-After`) while the
    /// retry budget allows; a `Call::Create` is sent once. While the provider's breaker is
    /// open nothing is sent. A request holds one of the provider's concurrency permits
    /// only while an attempt is in flight, never while it waits to retry.
    ///
    /// 2xx and 4xx other than 401/403/429 come back as `RawResponse` for the provider to
    /// decode; everything else becomes a classified `UpstreamError`.
    pub async fn send(
        &self,
        call: Call,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<RawResponse, UpstreamError> {
        self.retries.deposit();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (outcome, sent) = self.admitted_attempt(&build, attempt).await;
            let retry_in = match &outcome {
                Err(e) if sent && call == Call::Read && attempt <= self.policy.max_retries => {
                    self.retry_delay(e, attempt)
                }
                _ => None,
            };
            let Some(delay) = retry_in.filter(|_| self.retries.withdraw()) else {
                return outcome;
            };
            self.metrics.retried();
            tracing::debug!(
                provider = self.provider.as_str(),
                attempt,
                ?delay,
                "retrying upstream call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt, if the breaker lets it out, under a concurrency permit; its outcome
    /// feeds the breaker. Also says whether anything was sent (a refused attempt is not
    /// retried).
    async fn admitted_attempt(
        &self,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
        attempt: u32,
    ) -> (Result<RawResponse, UpstreamError>, bool) {
        if let Some(wait) = self.window.remaining() {
            if wait > self.policy.max_retry_wait || !crate::request::can_wait(wait) {
                return self.shed(wait, "inside the provider's Retry-After window");
            }
            tokio::time::sleep(wait).await;
        }
        if let Some(pace) = &self.pace {
            match pace.reserve(self.policy.max_retry_wait, crate::request::can_wait) {
                Ok(wait) if wait.is_zero() => {}
                Ok(wait) => tokio::time::sleep(wait).await,
                Err(wait) => return self.shed(wait, "over the provider's max_requests_per_second"),
            }
        }
        let generation = self.breaker.generation();
        let admission = self.breaker.admit();
        if admission == Admission::Refuse {
            self.metrics.failed(ErrorClass::CircuitOpen);
            let refused = self.error(UpstreamErrorKind::Unavailable, "circuit open: failing fast");
            return (Err(refused), false);
        }
        // A probe dropped before it answers must not keep the breaker half-open forever.
        let probe = ProbeGuard((admission == Admission::Probe).then_some(&*self.breaker));
        let Ok(_permit) = self.permits.acquire().await else {
            return (
                Err(self.error(UpstreamErrorKind::Unavailable, "client is shutting down")),
                false,
            );
        };
        let outcome = self.attempt(build, attempt).await;
        match &outcome {
            Err(e) if matches!(e.kind, UpstreamErrorKind::Unavailable | UpstreamErrorKind::Timeout) => {
                self.breaker.failed(generation)
            }
            // Nothing went out: the breaker learnt nothing (a probe is released by `probe`).
            Err(e) if matches!(e.kind, UpstreamErrorKind::BudgetExhausted { .. }) => {
                self.metrics.failed(ErrorClass::Budget);
                return (outcome, false);
            }
            _ => self.breaker.succeeded(),
        }
        self.metrics.circuit(self.breaker.state().gauge());
        if let Err(e) = &outcome {
            self.metrics.failed(error_class(&e.kind));
        }
        std::mem::forget(probe);
        (outcome, true)
    }

    /// An attempt not sent because the provider would refuse it for `wait` more:
    /// `UPSTREAM_RATE_LIMITED` with the whole seconds to wait (at least 1).
    fn shed(&self, wait: Duration, why: &str) -> (Result<RawResponse, UpstreamError>, bool) {
        self.metrics.failed(ErrorClass::RateLimited);
        let kind = UpstreamErrorKind::RateLimited {
            retry_after_seconds: Some(whole_seconds(wait).max(1)),
        };
        (Err(self.error(kind, why)), false)
    }

    /// One request sent and its answer read, timed, counted, and (with traces exported)
    /// inside an `upstream.request` span whose context goes upstream as `traceparent`.
    async fn attempt(
        &self,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
        attempt: u32,
    ) -> Result<RawResponse, UpstreamError> {
        crate::request::charge().map_err(|e| {
            self.error(
                UpstreamErrorKind::BudgetExhausted { limit: e.limit },
                "request upstream-call budget exhausted",
            )
        })?;
        let mut request = build(&self.http).build().map_err(|e| {
            self.error(
                UpstreamErrorKind::Internal,
                format!("request not built: {}", cause_chain(&e)),
            )
        })?;
        let span = self.span(&request, attempt);
        otel::inject(&span, request.headers_mut());
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let answer = self.exchange(request).instrument(span.clone()).await;
        self.metrics.sent(started.elapsed().as_secs_f64());
        let (status, headers, body) = answer?;
        span.record("http.response.status_code", i64::from(status.as_u16()));
        match status {
            s if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => {
                Err(self.error(UpstreamErrorKind::Unauthorized, format!("HTTP {s}")))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after = retry_after_seconds(&headers);
                let quiet = retry_after.map_or_else(|| backoff(self.policy.retry_base_delay, 1), Duration::from_secs);
                self.window.open_for(quiet);
                Err(self.error(
                    UpstreamErrorKind::RateLimited {
                        retry_after_seconds: retry_after,
                    },
                    "HTTP 429",
                ))
            }
            s if s.is_server_error() => {
                tracing::debug!(
                    provider = self.provider.as_str(),
                    status = s.as_u16(),
                    body = %String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]),
                    "upstream error body (excerpt)"
                );
                Err(self.error(UpstreamErrorKind::Unavailable, format!("HTTP {s}")))
            }
            _ => Ok(RawResponse { status, headers, body }),
        }
    }

    /// Sends `request` and reads the status, headers and body.
    async fn exchange(&self, request: reqwest::Request) -> Result<(StatusCode, HeaderMap, Bytes), UpstreamError> {
        let response = self.http.execute(request).await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(response).await?;
        Ok((status, headers, body))
    }

    /// The `upstream.request` span of one attempt (none unless traces are exported).
    fn span(&self, request: &reqwest::Request, attempt: u32) -> tracing::Span {
        if !otel::enabled() {
            return tracing::Span::none();
        }
        let route = route_template(request.url().path());
        let method = request.method().as_str();
        tracing::info_span!(
            "upstream.request",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "client",
            provider = self.provider.as_str(),
            http.request.method = method,
            http.route = %route,
            server.address = request.url().host_str().unwrap_or_default(),
            http.request.resend_count = i64::from(attempt) - 1,
            http.response.status_code = tracing::field::Empty,
        )
    }

    /// The body, read chunk by chunk up to the provider's cap: a larger one (announced or
    /// streamed) is refused without holding more than the cap in memory.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Bytes, UpstreamError> {
        let too_large = || {
            self.error(
                UpstreamErrorKind::BadResponse,
                format!("response body larger than {} bytes", self.max_body),
            )
        };
        if response.content_length().is_some_and(|n| n > self.max_body as u64) {
            return Err(too_large());
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn retry_delay(&self, error: &UpstreamError, attempt: u32) -> Option<Duration> {
        let backoff = backoff(self.policy.retry_base_delay, attempt);
        match &error.kind {
            UpstreamErrorKind::RateLimited { retry_after_seconds } => {
                let wait = retry_after_seconds.map(Duration::from_secs).unwrap_or(backoff);
                (wait <= self.policy.max_retry_wait && crate::request::can_wait(wait)).then_some(wait)
            }
            UpstreamErrorKind::Unavailable => Some(backoff),
            _ => None,
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> UpstreamError {
        let kind = if e.is_timeout() {
            UpstreamErrorKind::Timeout
        } else if e.is_decode() {
            UpstreamErrorKind::BadResponse
        } else {
            UpstreamErrorKind::Unavailable
        };
        self.error(kind, cause_chain(e))
    }

    fn error(&self, kind: UpstreamErrorKind, detail: impl Into<String>) -> UpstreamError {
        UpstreamError::new(self.provider, kind, detail)
    }
}

/// Most bytes of an upstream error body written to the debug log.
const BODY_EXCERPT: usize = 512;

/// How a failure is counted.
fn error_class(kind: &UpstreamErrorKind) -> ErrorClass {
    match kind {
        UpstreamErrorKind::Timeout => ErrorClass::Timeout,
        UpstreamErrorKind::RateLimited { .. } => ErrorClass::RateLimited,
        UpstreamErrorKind::Unauthorized => ErrorClass::Unauthorized,
        UpstreamErrorKind::BudgetExhausted { .. } => ErrorClass::Budget,
        UpstreamErrorKind::Unavailable => ErrorClass::Unavailable,
        _ => ErrorClass::BadResponse,
    }
}

/// A URL path with its ids replaced by `{id}` (a span's `http.route`): a segment is an
/// id when it holds a digit and is not a version (`v1`, `2010-04-01`).
pub(super) fn route_template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let digits = segment.bytes().filter(u8::is_ascii_digit).count();
            let version = segment.len() <= 3 && segment.starts_with('v');
            let date = segment.len() == 10 && segment.bytes().filter(|b| *b == b'-').count() == 2 && digits == 8;
            if digits > 0 && !version && !date {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Re-opens probing when a probe's future is dropped before its attempt ended.
struct ProbeGuard<'a>(Option<&'a Breaker>);

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if let Some(breaker) = self.0 {
            breaker.probe_abandoned();
        }
    }
}

/// `Retry-After` as RFC 9110 §10.2.3 allows it: delta-seconds, or an HTTP-date (as
/// seconds from now, 0 when already past).
fn retry_after_seconds(headers: &HeaderMap) -> Option<u64> {
    retry_after_at(headers.get(RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())
}

fn retry_after_at(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse() {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    // Round up: retrying a fraction of a second early would meet the limit again.
    let wait = at.duration_since(now).unwrap_or_default();
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_both_of_its_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Dec 2026 20:00:00 GMT").unwrap();
        assert_eq!(retry_after_at("120", now), Some(120));
        assert_eq!(retry_after_at("Sun, 06 Dec 2026 20:00:30 GMT", now), Some(30));
        // The obsolete forms RFC 9110 still asks recipients to accept.
        assert_eq!(retry_after_at("Sunday, 06-Dec-26 20:01:00 GMT", now), Some(60));
        assert_eq!(retry_after_at("Sun Dec  6 20:00:05 2026", now), Some(5));
        assert_eq!(
            retry_after_at("Sun, 06 Dec 2026 19:00:00 GMT", now),
            Some(0),
            "a past date"
        );
        assert_eq!(retry_after_at("soon", now), None);
    }

    #[test]
    fn route_templates_replace_ids_but_keep_versions_and_dates() {
        assert_eq!(
            route_template("/api/voice/logs/9d5b2c1e-8a1c-4c8e-b8d5-0c6f0a4b2f11/events"),
            "/api/voice/logs/{id}/events"
        );
        assert_eq!(route_template("/api/v1/items/12345"), "/api/v1/items/{id}");
        assert_eq!(route_template("/2010-04-01/Accounts"), "/2010-04-01/Accounts");
        assert_eq!(
            route_template("/platform_api/GetCallHistory"),
            "/platform_api/GetCallHistory"
        );
    }

    #[tokio::test]
    async fn the_client_starts_a_tls_handshake_and_reports_a_non_tls_upstream_as_an_error() {
        let client = build_http_client(&UpstreamConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        // Reads the ClientHello (so the client really built one) and answers plain HTTP.
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut hello = [0u8; 5];
            socket.read_exact(&mut hello).await.expect("a TLS record header");
            assert_eq!(hello[0], 0x16, "a TLS handshake record");
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let result = client.get(format!("https://127.0.0.1:{port}/")).send().await;
        assert!(result.is_err(), "{result:?}");
    }
}

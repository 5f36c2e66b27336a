//! `UpstreamClient`: one provider's view of the shared HTTP client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Semaphore;

use super::{UpstreamError, UpstreamErrorKind};
use crate::config::UpstreamConfig;
use crate::domain::Provider;

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

/// A response the provider module still has to interpret (2xx or a non-retryable 4xx).
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The shared client plus one provider's limits and retry policy.
#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    provider: Provider,
    permits: Arc<Semaphore>,
    policy: UpstreamConfig,
    requests: Arc<AtomicU64>,
}

impl UpstreamClient {
    pub fn new(http: reqwest::Client, provider: Provider, concurrency: usize, policy: UpstreamConfig) -> Self {
        UpstreamClient {
            http,
            provider,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            policy,
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Requests sent upstream so far (retries included).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends an idempotent request built by `build`, retrying 429/5xx/connect failures.
    ///
    /// 2xx and 4xx other than 401/403/429 come back as `RawResponse` for the provider to
    /// decode; everything else becomes a classified `UpstreamError`.
    pub async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<RawResponse, UpstreamError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| self.error(UpstreamErrorKind::Unavailable, "client is shutting down"))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(&build).await;
            let retry_in = match &outcome {
                Err(e) if attempt <= self.policy.max_retries => self.retry_delay(e, attempt),
                _ => None,
            };
            match retry_in {
                Some(delay) => {
                    tracing::debug!(
                        provider = self.provider.as_str(),
                        attempt,
                        ?delay,
                        "retrying upstream call"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => return outcome,
            }
        }
    }

    async fn attempt(&self, build: &impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<RawResponse, UpstreamError> {
        super::budget::charge().map_err(|e| {
            self.error(
                UpstreamErrorKind::BudgetExhausted { limit: e.limit },
                "request upstream-call budget exhausted",
            )
        })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = build(&self.http).send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        match status {
            s if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => {
                Err(self.error(UpstreamErrorKind::Unauthorized, format!("HTTP {s}")))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(self.error(
                UpstreamErrorKind::RateLimited {
                    retry_after_seconds: retry_after_seconds(&headers),
                },
                "HTTP 429",
            )),
            s if s.is_server_error() => Err(self.error(
                UpstreamErrorKind::Unavailable,
                format!("HTTP {s}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])),
            )),
            _ => Ok(RawResponse { status, headers, body }),
        }
    }

    fn retry_delay(&self, error: &UpstreamError, attempt: u32) -> Option<Duration> {
        let backoff = self.policy.retry_base_delay * 2u32.saturating_pow(attempt - 1);
        match &error.kind {
            UpstreamErrorKind::RateLimited { retry_after_seconds } => {
                let wait = retry_after_seconds.map(Duration::from_secs).unwrap_or(backoff);
                (wait <= self.policy.max_retry_wait).then_some(wait)
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
        self.error(kind, e.to_string())
    }

    fn error(&self, kind: UpstreamErrorKind, detail: impl Into<String>) -> UpstreamError {
        UpstreamError::new(self.provider, kind, detail)
    }
}

/// `Retry-After` in delta-seconds (the HTTP-date form is rare for APIs and ignored).
fn retry_after_seconds(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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

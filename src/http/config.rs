//! `[server]`: the listener, its timeouts and caps, `/metrics` access, CORS.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::{ConfigError, is_sha256_hex};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// How long in-flight requests may run after SIGINT/SIGTERM.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// After SIGINT/SIGTERM, how long the gateway keeps accepting requests while
    /// `/readyz` answers 503, so a load balancer stops sending before the listener closes
    /// (e.g. 5s behind Kubernetes).
    #[serde(with = "humantime_serde")]
    pub drain_delay: Duration,
    /// `/readyz` also answers 503 while any provider's circuit breaker is open (off: one
    /// failing provider should not take the whole gateway out of rotation).
    pub ready_requires_closed_circuits: bool,
    /// A connection must deliver a request's headers within this (also bounds how long an
    /// idle connection may wait before its first request).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A request's body must arrive within this.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Deadline of a whole request, body read to response (then 504 `UPSTREAM_TIMEOUT`).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Most open client connections; beyond it a connection gets 503 and is closed.
    /// Keep it below the process's open-file limit (`ulimit -n`).
    pub max_connections: usize,
    /// Most requests executing at once; beyond it a request gets 503 with Retry-After.
    pub max_in_flight: usize,
    /// Bearer key that `/metrics` requires (its SHA-256, 64 hex digits). Unset: `/metrics`
    /// answers only on `admin_listen`, or in demo mode.
    pub metrics_key_sha256: Option<String>,
    /// A separate listener for `/metrics` (operators only); unset: none.
    pub admin_listen: Option<SocketAddr>,
    /// Freshly rendered `/graphql` answers at or below this many bytes are sent
    /// uncompressed. Such an answer fits in TCP's initial congestion window (10 segments,
    /// RFC 6928): compressing it saves no round trip, and cost more CPU than executing it
    /// (a 4 KB page: about 25 us with zstd, 45 with brotli, against 60 to execute).
    /// Answers kept for reuse are compressed once and served compressed from 1 KiB.
    pub compress_min_bytes: usize,
    /// Browser apps on other origins that may call the gateway.
    pub cors: CorsConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            shutdown_grace: Duration::from_secs(10),
            drain_delay: Duration::ZERO,
            ready_requires_closed_circuits: false,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_in_flight: 512,
            metrics_key_sha256: None,
            admin_listen: None,
            compress_min_bytes: 14 * 1024,
            cors: CorsConfig::default(),
        }
    }
}

/// `[server.cors]`: nothing is allowed unless listed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the gateway: exact (`https://app.example.com`), a pattern
    /// with one `*` for DNS labels (`https://*.preview.example.com`), or `*` (any origin,
    /// never with credentials).
    pub allow_origins: Vec<String>,
    /// Request headers a browser may send (answered to preflights).
    pub allow_headers: Vec<String>,
    /// How long browsers may cache a preflight answer.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// Whether browsers may send cookies and HTTP auth (`Access-Control-Allow-Credentials`).
    pub allow_credentials: bool,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            allow_origins: Vec::new(),
            allow_headers: vec!["content-type".into(), "authorization".into()],
            max_age: Duration::from_secs(600),
            allow_credentials: false,
        }
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self;
        let positive = [
            ("server.max_connections", s.max_connections),
            ("server.max_in_flight", s.max_in_flight),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::invalid(*key, "must be at least 1"));
        }
        let timeouts = [
            ("server.header_read_timeout", s.header_read_timeout),
            ("server.body_read_timeout", s.body_read_timeout),
            ("server.idle_timeout", s.idle_timeout),
            ("server.request_timeout", s.request_timeout),
        ];
        if let Some((key, _)) = timeouts.iter().find(|(_, v)| v.is_zero()) {
            return Err(ConfigError::invalid(*key, "must be longer than zero"));
        }
        if let Some(hash) = &s.metrics_key_sha256
            && !is_sha256_hex(hash)
        {
            return Err(ConfigError::invalid(
                "server.metrics_key_sha256",
                "must be 64 hex digits (SHA-256 of the metrics key)",
            ));
        }
        for origin in &s.cors.allow_origins {
            let scheme_ok = origin == "*" || origin.starts_with("https://") || origin.starts_with("http://");
            if !scheme_ok || origin.matches('*').count() > 1 {
                return Err(ConfigError::invalid(
                    "server.cors.allow_origins",
                    "holds `*`, or http(s) origins with at most one `*` (e.g. https://*.example.com)",
                ));
            }
        }
        if s.cors.allow_credentials && s.cors.allow_origins.iter().any(|o| o == "*") {
            return Err(ConfigError::invalid(
                "server.cors.allow_credentials",
                "cannot be true while `allow_origins` holds `*`: list the origins",
            ));
        }
        Ok(())
    }
}

//! The typed configuration tree: defaults, a TOML file, `SWITCHBOARD__...` environment
//! overrides (`__` separates levels), validation, and secrets that never print.
//!
//! Unknown keys are errors (a typo must not silently fall back to a default), and every
//! error names the key it is about.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

/// A secret string: `Debug` and `Display` print `***`, only `expose` reveals it.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub graphql: GraphqlConfig,
    pub cache: CacheConfig,
    pub upstream: UpstreamConfig,
    /// Credentials of the implicit single tenant (used when `tenants` is empty).
    pub providers: ProvidersConfig,
    /// Multi-tenant mode: gateway API keys (or JWT tenant claims) mapped to credential sets.
    pub tenants: Vec<TenantConfig>,
    /// End-user sign-in (OIDC JWTs) besides gateway API keys.
    pub auth: AuthConfig,
    /// `[log]`: log format and the per-request access line.
    pub log: LogConfig,
    /// `[telemetry]`: metrics labels and OpenTelemetry traces.
    pub telemetry: TelemetryConfig,
}

/// `[log]`: how log lines are written (to stderr; the level comes from `RUST_LOG`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// One `switchboard::access` line per GraphQL request at `info`; off, the same line
    /// is written at `debug` (off by default, as in Apollo Router, Tailcall and Hive: it
    /// costs about a fifth of a cached request's CPU).
    pub access: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            access: false,
        }
    }
}

/// `log.format`: human-readable text (colour only on a terminal) or one JSON object per
/// line for a log pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[telemetry]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub metrics: MetricsConfig,
    /// OpenTelemetry traces over OTLP/HTTP; off unless `endpoint` is set.
    pub otlp: Option<OtlpConfig>,
}

/// `[telemetry.metrics]`: label cardinality.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Label upstream series with the tenant (off for deployments with many tenants).
    pub tenant_label: bool,
    /// Distinct operation names that get their own label value; later ones count as
    /// `other`.
    pub max_operation_names: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            tenant_label: true,
            max_operation_names: 100,
        }
    }
}

/// `[telemetry.otlp]`: where spans are exported (OTLP over HTTP, protobuf).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// The collector's traces URL, e.g. `http://otel-collector:4318/v1/traces`.
    pub endpoint: Option<Url>,
    /// Share of traces started here that are kept (0 to 1); a caller's sampled
    /// `traceparent` is always followed.
    pub sampling_ratio: f64,
    /// `service.name` of the spans.
    pub service_name: String,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            sampling_ratio: 1.0,
            service_name: "switchboard".into(),
        }
    }
}

/// `[auth]`: how end users (browsers) sign in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accept JWTs from the team's identity provider; unset: gateway API keys only.
    pub jwt: Option<JwtConfig>,
}

/// `[auth.jwt]`: tokens of an OIDC identity provider, verified against its JWKS or a
/// static public key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// Tokens must name one of these in `aud`.
    pub audiences: Vec<String>,
    /// Where the provider publishes its keys (`jwks_uri` of its OIDC discovery document).
    pub jwks_url: Option<Url>,
    /// A static public key (PEM, RSA or EC P-256) instead of a JWKS.
    pub public_key_pem: Option<String>,
    /// Signature algorithms accepted (`RS256`, `RS384`, `RS512`, `ES256`, `ES384`, `PS256`...).
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    /// The claim whose string value names the tenant (`[[tenants]] name`); required when
    /// tenants are listed.
    pub tenant_claim: Option<String>,
    /// Also read the token from this cookie; requests that use it must send `csrf_header`.
    pub cookie: Option<String>,
    /// The header a cookie-authenticated request must carry (any non-empty value): a
    /// cross-site form or link cannot set it, and a script on another origin needs CORS.
    pub csrf_header: String,
    /// How long fetched keys are used before the JWKS is fetched again.
    #[serde(with = "humantime_serde")]
    pub jwks_ttl: Duration,
    /// Least time between two fetches caused by tokens with an unknown `kid`.
    #[serde(with = "humantime_serde")]
    pub jwks_min_refresh: Duration,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            issuer: String::new(),
            audiences: Vec::new(),
            jwks_url: None,
            public_key_pem: None,
            algorithms: vec!["RS256".into(), "ES256".into()],
            leeway: Duration::from_secs(30),
            tenant_claim: None,
            cookie: None,
            csrf_header: "x-switchboard-csrf".into(),
            jwks_ttl: Duration::from_secs(600),
            jwks_min_refresh: Duration::from_secs(10),
        }
    }
}

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
    /// Browser apps on other origins that may call the gateway.
    pub cors: CorsConfig,
}

/// `[graphql.trusted_documents]`: operations known ahead, from the manifest that
/// relay-compiler's `persistConfig` or Apollo's `generate-persisted-query-manifest` writes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustedDocumentsConfig {
    pub mode: TrustedDocumentsMode,
    /// The manifest file (JSON); required unless `mode = "off"`.
    pub manifest: Option<std::path::PathBuf>,
}

/// Whether operations must come from the manifest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustedDocumentsMode {
    /// No manifest.
    #[default]
    Off,
    /// Manifest operations may be sent by id; any other query runs too.
    Allowed,
    /// Only manifest operations run (by id, or by their exact text); APQ registers nothing.
    Required,
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

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    pub default_page_size: usize,
    pub max_page_size: usize,
    /// Deepest selection nesting (introspection included; 16 fits the standard
    /// introspection query of graphql-js and GraphiQL).
    pub max_depth: usize,
    /// Whether the schema answers introspection (`__schema`, `__type`); turn off in
    /// production if clients should not explore it.
    pub introspection: bool,
    /// Apollo's automatic persisted queries (hash-only requests after a first full one).
    pub apq: bool,
    /// Longest `Cache-Control: max-age` a GET answer gets (it is otherwise the shortest
    /// cache TTL of the data in it: `cache.final_ttl` for finished calls, `live_ttl`,
    /// `page_ttl`).
    #[serde(with = "humantime_serde")]
    pub http_max_age: Duration,
    /// Operations from a manifest built with the frontend (production BFFs).
    pub trusted_documents: TrustedDocumentsConfig,
    /// Complexity budget: each field costs 1, a connection multiplies its children by
    /// `first` (default 20), `nodes` by its number of ids.
    pub max_complexity: usize,
    /// Most fields the operation executes, fragments expanded, aliases and `__typename`
    /// included.
    #[serde(alias = "max_aliases")]
    pub max_fields: usize,
    /// Deepest nesting of `[`, `{`, `(` in the query text (checked before parsing), and of
    /// selection sets through fragment spreads.
    pub max_nesting: usize,
    /// Most lexical tokens in the query text.
    pub max_tokens: usize,
    /// Most directives in one document (a directive may appear once per location).
    pub max_directives: usize,
    pub max_body_bytes: usize,
    /// Largest response body; a bigger one is replaced by a `BAD_USER_INPUT` error.
    pub max_response_bytes: usize,
    /// Most upstream HTTP calls one request may cause (retries included); fields past it
    /// fail with `BAD_USER_INPUT`, the rest of the response is kept.
    pub max_upstream_calls: u32,
    /// Most ids one `nodes` call may take.
    pub max_node_ids: usize,
    /// Key that signs cursors; random per process when unset (cursors then die on restart).
    pub cursor_secret: Option<Secret>,
    /// Items one `callLogs` stream may scan per page for filters applied in the gateway.
    pub timeline_scan_bound: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Upper bound of the cache's estimated size in bytes (records and pages together).
    pub max_bytes: u64,
    /// TTL of records whose call has ended (immutable upstream).
    #[serde(with = "humantime_serde")]
    pub final_ttl: Duration,
    /// TTL of records of calls still in progress.
    #[serde(with = "humantime_serde")]
    pub live_ttl: Duration,
    /// TTL of "no such id" answers.
    #[serde(with = "humantime_serde")]
    pub not_found_ttl: Duration,
    /// TTL of upstream list pages.
    #[serde(with = "humantime_serde")]
    pub page_ttl: Duration,
    /// Bytes of rendered responses kept per tenant, query and variables for as long as all
    /// the data in them stays fresh (`http::responses`); 0 turns that off, and so does a
    /// `max_bytes` of 0.
    pub max_response_bytes: u64,
    /// `[cache.redis]`: a Redis that replicas share as a second cache level (off when absent).
    pub redis: Option<RedisConfig>,
}

/// The shared second cache level (`cache::l2`). Redis only saves upstream calls: when it
/// is slow or down the gateway answers from its own cache and the providers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (TLS, `rediss://`, is not built in).
    pub url: Secret,
    /// First part of every key, so deployments can share one Redis.
    #[serde(default = "RedisConfig::default_key_prefix")]
    pub key_prefix: String,
    /// How long one Redis command may take before it counts as failed.
    #[serde(default = "RedisConfig::default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long connecting may take.
    #[serde(default = "RedisConfig::default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// After a failure, Redis is left alone this long (the breaker is open) before it is
    /// tried again.
    #[serde(default = "RedisConfig::default_retry_after", with = "humantime_serde")]
    pub retry_after: Duration,
    /// Values larger than this (serialized) stay in the local cache only.
    #[serde(default = "RedisConfig::default_max_value_bytes")]
    pub max_value_bytes: usize,
    /// How long a replica that misses a key waits for another replica already fetching it
    /// before fetching it itself; 0 turns the cross-replica lock off.
    #[serde(default = "RedisConfig::default_lock_wait", with = "humantime_serde")]
    pub lock_wait: Duration,
    /// How long a fetch lock lives when its holder never releases it (a crash).
    #[serde(default = "RedisConfig::default_lock_ttl", with = "humantime_serde")]
    pub lock_ttl: Duration,
}

impl RedisConfig {
    fn default_key_prefix() -> String {
        "switchboard".into()
    }
    fn default_timeout() -> Duration {
        Duration::from_millis(100)
    }
    fn default_connect_timeout() -> Duration {
        Duration::from_millis(250)
    }
    fn default_retry_after() -> Duration {
        Duration::from_secs(5)
    }
    fn default_max_value_bytes() -> usize {
        1024 * 1024
    }
    fn default_lock_wait() -> Duration {
        Duration::from_secs(2)
    }
    fn default_lock_ttl() -> Duration {
        Duration::from_secs(15)
    }

    /// Settings for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: Secret::new(url),
            key_prefix: Self::default_key_prefix(),
            timeout: Self::default_timeout(),
            connect_timeout: Self::default_connect_timeout(),
            retry_after: Self::default_retry_after(),
            max_value_bytes: Self::default_max_value_bytes(),
            lock_wait: Self::default_lock_wait(),
            lock_ttl: Self::default_lock_ttl(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Whole-request timeout of one upstream call.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Retries of a GET after 429, 5xx or a refused connection.
    pub max_retries: u32,
    #[serde(with = "humantime_serde")]
    pub retry_base_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes to the client.
    #[serde(with = "humantime_serde")]
    pub max_retry_wait: Duration,
    /// Retries per provider and tenant as a fraction of requests (0.2: at most one retry
    /// per five requests once the reserve is spent).
    pub retry_budget_ratio: f64,
    /// Retries allowed beyond the ratio, e.g. for a quiet provider's rare failure.
    pub retry_budget_reserve: u32,
    /// Consecutive failed attempts (unreachable, 5xx, timeout) that open a provider's
    /// circuit breaker for a tenant; 0 disables it.
    pub breaker_failures: u32,
    /// How long an open breaker fails fast before it lets one probe through.
    #[serde(with = "humantime_serde")]
    pub breaker_cool_down: Duration,
    /// Most bytes of one upstream response body (after transfer decompression); a larger
    /// body is `UPSTREAM_BAD_RESPONSE` and is not read further.
    pub max_body_bytes: usize,
    /// `max_body_bytes` for one provider, by its config name (e.g. `voximplant`).
    pub max_body_bytes_per_provider: std::collections::BTreeMap<String, usize>,
}

pub use crate::providers::ProvidersConfig;
pub use crate::providers::oneuptime::OneUptimeConfig;
pub use crate::providers::signalwire::SignalWireConfig;
pub use crate::providers::voximplant::VoximplantConfig;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// Hex SHA-256 of the gateway API key callers send as `Authorization: Bearer <key>`;
    /// unset, the tenant is reached only through a JWT's tenant claim.
    #[serde(default)]
    pub api_key_sha256: Option<String>,
    pub providers: ProvidersConfig,
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
            cors: CorsConfig::default(),
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        GraphqlConfig {
            default_page_size: 20,
            max_page_size: 100,
            max_depth: 16,
            introspection: true,
            apq: true,
            http_max_age: Duration::from_secs(3600),
            trusted_documents: TrustedDocumentsConfig::default(),
            max_complexity: 20_000,
            max_fields: 200,
            max_nesting: 64,
            max_tokens: 10_000,
            max_directives: 50,
            max_body_bytes: 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            max_upstream_calls: 150,
            max_node_ids: 100,
            cursor_secret: None,
            timeline_scan_bound: 1_000,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_bytes: 64 * 1024 * 1024,
            final_ttl: Duration::from_secs(6 * 3600),
            live_ttl: Duration::from_secs(5),
            not_found_ttl: Duration::from_secs(30),
            page_ttl: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            redis: None,
        }
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(200),
            max_retry_wait: Duration::from_secs(5),
            retry_budget_ratio: 0.2,
            retry_budget_reserve: 10,
            breaker_failures: 5,
            breaker_cool_down: Duration::from_secs(10),
            max_body_bytes: 16 * 1024 * 1024,
            max_body_bytes_per_provider: std::collections::BTreeMap::new(),
        }
    }
}

/// A configuration that cannot be used; the message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration error: `{key}` {problem}")]
    Invalid { key: String, problem: String },
    #[error("configuration file {0} does not exist")]
    MissingFile(String),
}

impl Config {
    /// Loads defaults, then the TOML file (if any), then `SWITCHBOARD__` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.display().to_string()));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("SWITCHBOARD__").split("__"));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// True when no provider credentials are configured at all: demo mode.
    pub fn has_no_providers(&self) -> bool {
        self.providers.is_empty() && self.tenants.is_empty()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: &str| ConfigError::Invalid {
            key: key.to_string(),
            problem: problem.to_string(),
        };
        let g = &self.graphql;
        if g.max_page_size == 0 || g.default_page_size == 0 || g.default_page_size > g.max_page_size {
            return Err(invalid(
                "graphql.default_page_size",
                "must be between 1 and graphql.max_page_size",
            ));
        }
        let positive = [
            ("graphql.max_fields", g.max_fields),
            ("graphql.max_nesting", g.max_nesting),
            ("graphql.max_tokens", g.max_tokens),
            ("graphql.max_body_bytes", g.max_body_bytes),
            ("graphql.max_response_bytes", g.max_response_bytes),
            ("graphql.max_node_ids", g.max_node_ids),
            ("server.max_connections", self.server.max_connections),
            ("server.max_in_flight", self.server.max_in_flight),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(key, "must be at least 1"));
        }
        if let Some(otlp) = &self.telemetry.otlp
            && !(0.0..=1.0).contains(&otlp.sampling_ratio)
        {
            return Err(invalid("telemetry.otlp.sampling_ratio", "must be between 0 and 1"));
        }
        if let Some(redis) = &self.cache.redis {
            validate_redis(redis)?;
        }
        let u = &self.upstream;
        if !(0.0..=1.0).contains(&u.retry_budget_ratio) {
            return Err(invalid("upstream.retry_budget_ratio", "must be between 0 and 1"));
        }
        if u.max_body_bytes == 0 || u.max_body_bytes_per_provider.values().any(|&n| n == 0) {
            return Err(invalid("upstream.max_body_bytes", "must be at least 1"));
        }
        if let Some(name) = u.max_body_bytes_per_provider.keys().find(|name| {
            !crate::providers::REGISTERED
                .iter()
                .any(|r| r.provider().as_str() == name.as_str())
        }) {
            return Err(invalid(
                &format!("upstream.max_body_bytes_per_provider.{name}"),
                "names no provider",
            ));
        }
        if u.breaker_failures > 0 && u.breaker_cool_down.is_zero() {
            return Err(invalid(
                "upstream.breaker_cool_down",
                "must be longer than zero while upstream.breaker_failures is set",
            ));
        }
        let s = &self.server;
        let timeouts = [
            ("server.header_read_timeout", s.header_read_timeout),
            ("server.body_read_timeout", s.body_read_timeout),
            ("server.idle_timeout", s.idle_timeout),
            ("server.request_timeout", s.request_timeout),
        ];
        if let Some((key, _)) = timeouts.iter().find(|(_, v)| v.is_zero()) {
            return Err(invalid(key, "must be longer than zero"));
        }
        if let Some(hash) = &s.metrics_key_sha256
            && !is_sha256_hex(hash)
        {
            return Err(invalid(
                "server.metrics_key_sha256",
                "must be 64 hex digits (SHA-256 of the metrics key)",
            ));
        }
        for origin in &s.cors.allow_origins {
            let scheme_ok = origin == "*" || origin.starts_with("https://") || origin.starts_with("http://");
            if !scheme_ok || origin.matches('*').count() > 1 {
                return Err(invalid(
                    "server.cors.allow_origins",
                    "holds `*`, or http(s) origins with at most one `*` (e.g. https://*.example.com)",
                ));
            }
        }
        if s.cors.allow_credentials && s.cors.allow_origins.iter().any(|o| o == "*") {
            return Err(invalid(
                "server.cors.allow_credentials",
                "cannot be true while `allow_origins` holds `*`: list the origins",
            ));
        }
        if !self.tenants.is_empty() && !self.providers.is_empty() {
            return Err(invalid(
                "providers",
                "cannot be combined with `tenants`: give each tenant its own providers",
            ));
        }
        self.providers.validate("providers")?;
        let mut names = BTreeSet::new();
        let mut hashes = BTreeSet::new();
        for (i, tenant) in self.tenants.iter().enumerate() {
            let prefix = format!("tenants[{i}]");
            if !names.insert(tenant.name.as_str()) {
                return Err(invalid(&format!("{prefix}.name"), "is used by two tenants"));
            }
            let Some(hash) = &tenant.api_key_sha256 else {
                if self.auth.jwt.is_none() {
                    return Err(invalid(
                        &format!("{prefix}.api_key_sha256"),
                        "is required unless [auth.jwt] names tenants by a claim",
                    ));
                }
                tenant.providers.validate(&format!("{prefix}.providers"))?;
                continue;
            };
            if !is_sha256_hex(hash) {
                return Err(invalid(
                    &format!("{prefix}.api_key_sha256"),
                    "must be 64 hex digits (SHA-256 of the API key)",
                ));
            }
            if !hashes.insert(hash.to_ascii_lowercase()) {
                return Err(invalid(
                    &format!("{prefix}.api_key_sha256"),
                    "is the key hash of another tenant too: one key must name one tenant",
                ));
            }
            tenant.providers.validate(&format!("{prefix}.providers"))?;
        }
        if let Some(jwt) = &self.auth.jwt {
            validate_jwt(jwt, !self.tenants.is_empty())?;
        }
        let trusted = &self.graphql.trusted_documents;
        if trusted.mode != TrustedDocumentsMode::Off && trusted.manifest.is_none() {
            return Err(invalid(
                "graphql.trusted_documents.manifest",
                "is required unless mode = \"off\"",
            ));
        }
        Ok(())
    }
}

/// The algorithms `[auth.jwt] algorithms` may name.
pub const JWT_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

fn validate_redis(redis: &RedisConfig) -> Result<(), ConfigError> {
    let invalid = |k: &str, problem: &str| ConfigError::Invalid {
        key: format!("cache.redis.{k}"),
        problem: problem.to_string(),
    };
    match Url::parse(redis.url.expose()) {
        Ok(url) if url.scheme() == "redis" && url.host().is_some() => {}
        // The URL may hold a password: never echo it.
        _ => return Err(invalid("url", "must be a redis://host:port URL")),
    }
    if redis.key_prefix.is_empty() || redis.key_prefix.contains(char::is_whitespace) {
        return Err(invalid("key_prefix", "must be a non-empty word"));
    }
    if redis.timeout.is_zero() || redis.connect_timeout.is_zero() {
        return Err(invalid("timeout", "timeout and connect_timeout must be above 0"));
    }
    if redis.max_value_bytes == 0 {
        return Err(invalid("max_value_bytes", "must be at least 1"));
    }
    if redis.lock_ttl < redis.lock_wait {
        return Err(invalid("lock_ttl", "must be at least lock_wait"));
    }
    Ok(())
}

fn validate_jwt(jwt: &JwtConfig, has_tenants: bool) -> Result<(), ConfigError> {
    let invalid = |k: &str, problem: &str| ConfigError::Invalid {
        key: format!("auth.jwt.{k}"),
        problem: problem.to_string(),
    };
    if jwt.issuer.trim().is_empty() {
        return Err(invalid("issuer", "is required (the `iss` of your identity provider)"));
    }
    if jwt.audiences.iter().all(|a| a.trim().is_empty()) {
        return Err(invalid("audiences", "must name at least one audience"));
    }
    if jwt.jwks_url.is_some() == jwt.public_key_pem.is_some() {
        return Err(invalid(
            "jwks_url",
            "exactly one of `jwks_url` and `public_key_pem` must be set",
        ));
    }
    if let Some(url) = &jwt.jwks_url
        && (!matches!(url.scheme(), "http" | "https") || url.host().is_none())
    {
        return Err(invalid("jwks_url", "must be an http(s) URL with a host"));
    }
    if jwt.algorithms.is_empty() || jwt.algorithms.iter().any(|a| !JWT_ALGORITHMS.contains(&a.as_str())) {
        return Err(invalid(
            "algorithms",
            "must list algorithms among RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA",
        ));
    }
    if jwt.leeway > Duration::from_secs(300) {
        return Err(invalid("leeway", "must be at most 5m"));
    }
    match (&jwt.tenant_claim, has_tenants) {
        (None, true) => {
            return Err(invalid(
                "tenant_claim",
                "is required when tenants are listed (the claim that names a tenant)",
            ));
        }
        (Some(_), false) => {
            return Err(invalid(
                "tenant_claim",
                "names a tenant, but no [[tenants]] are listed (every valid token reaches the single tenant)",
            ));
        }
        _ => {}
    }
    if jwt.cookie.is_some() && axum::http::HeaderName::try_from(jwt.csrf_header.as_str()).is_err() {
        return Err(invalid("csrf_header", "is not a valid header name"));
    }
    Ok(())
}

fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        let sw = SignalWireConfig {
            space_url: Url::parse("https://x.signalwire.com").unwrap(),
            project_id: "p".into(),
            api_token: s,
            page_size: 100,
            concurrency: 1,
        };
        assert!(!format!("{sw:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let err = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n"))
            .extract::<Config>()
            .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn missing_credentials_name_the_key() {
        let err = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(
                "[providers.signalwire]\nspace_url = \"https://x.signalwire.com\"\nproject_id = \"p\"\n",
            ))
            .extract::<Config>()
            .unwrap_err();
        assert!(err.to_string().contains("api_token"), "{err}");
    }

    #[test]
    fn two_tenants_with_one_key_hash_are_a_startup_error() {
        let mut config = Config::default();
        let hash = "ab".repeat(32);
        for name in ["a", "b"] {
            config.tenants.push(TenantConfig {
                name: name.into(),
                api_key_sha256: Some(hash.clone()),
                providers: ProvidersConfig::default(),
            });
        }
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("tenants[1].api_key_sha256"), "{err}");
    }

    #[test]
    fn a_jwt_section_names_what_is_missing_or_contradictory() {
        let check = |tweak: &dyn Fn(&mut Config), key: &str| {
            let mut config = Config::default();
            let mut jwt = JwtConfig {
                issuer: "https://id.example/".into(),
                audiences: vec!["app".into()],
                jwks_url: Some(Url::parse("https://id.example/jwks").unwrap()),
                ..JwtConfig::default()
            };
            jwt.cookie = Some("session".into());
            config.auth.jwt = Some(jwt);
            config.validate().expect("the base JWT config is valid");
            tweak(&mut config);
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        };
        fn jwt(c: &mut Config) -> &mut JwtConfig {
            c.auth.jwt.as_mut().unwrap()
        }
        check(&|c| jwt(c).issuer.clear(), "auth.jwt.issuer");
        check(&|c| jwt(c).audiences.clear(), "auth.jwt.audiences");
        check(&|c| jwt(c).public_key_pem = Some("pem".into()), "auth.jwt.jwks_url");
        check(&|c| jwt(c).algorithms = vec!["HS256".into()], "auth.jwt.algorithms");
        check(&|c| jwt(c).csrf_header = "bad header".into(), "auth.jwt.csrf_header");
        check(&|c| jwt(c).tenant_claim = Some("t".into()), "auth.jwt.tenant_claim");
        check(
            &|c| {
                c.tenants.push(TenantConfig {
                    name: "a".into(),
                    api_key_sha256: None,
                    providers: ProvidersConfig::default(),
                })
            },
            "auth.jwt.tenant_claim",
        );
        let mut keyless = Config::default();
        keyless.tenants.push(TenantConfig {
            name: "a".into(),
            api_key_sha256: None,
            providers: ProvidersConfig::default(),
        });
        let err = keyless.validate().unwrap_err().to_string();
        assert!(err.contains("tenants[0].api_key_sha256"), "{err}");
    }

    #[test]
    fn out_of_range_page_size_is_rejected() {
        let mut config = Config::default();
        config.providers.signalwire = Some(SignalWireConfig {
            space_url: Url::parse("https://x.signalwire.com").unwrap(),
            project_id: "p".into(),
            api_token: Secret::new("t"),
            page_size: 5000,
            concurrency: 1,
        });
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("providers.signalwire.page_size"), "{err}");
    }
}

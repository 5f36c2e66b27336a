//! `[upstream]`: timeouts, retries and their budget, the circuit breaker, body caps.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;

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
    /// A `Retry-After` longer than this is not waited for: the error goes to the client at
    /// once, as it does for every request while the provider's window lasts longer than
    /// this (or than the request has left before its deadline).
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
    /// How long an open breaker fails fast before it lets one probe through (and again
    /// after each failed probe): a recovered provider is back within this.
    #[serde(with = "humantime_serde")]
    pub breaker_cool_down: Duration,
    /// Most bytes of one upstream response body (after transfer decompression); a larger
    /// body is `UPSTREAM_BAD_RESPONSE` and is not read further.
    pub max_body_bytes: usize,
    /// `max_body_bytes` for one provider, by its config name (e.g. `voximplant`).
    pub max_body_bytes_per_provider: std::collections::BTreeMap<String, usize>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(200),
            max_retry_wait: Duration::from_secs(1),
            retry_budget_ratio: 0.2,
            retry_budget_reserve: 10,
            breaker_failures: 5,
            breaker_cool_down: Duration::from_secs(1),
            max_body_bytes: 16 * 1024 * 1024,
            max_body_bytes_per_provider: std::collections::BTreeMap::new(),
        }
    }
}

impl UpstreamConfig {
    /// Checks `[upstream]`; `providers` are the names `max_body_bytes_per_provider` may use.
    pub fn validate(&self, providers: &[&str]) -> Result<(), ConfigError> {
        let u = self;
        if !(0.0..=1.0).contains(&u.retry_budget_ratio) {
            return Err(ConfigError::invalid(
                "upstream.retry_budget_ratio",
                "must be between 0 and 1",
            ));
        }
        if u.max_body_bytes == 0 || u.max_body_bytes_per_provider.values().any(|&n| n == 0) {
            return Err(ConfigError::invalid("upstream.max_body_bytes", "must be at least 1"));
        }
        if let Some(name) = u
            .max_body_bytes_per_provider
            .keys()
            .find(|name| !providers.contains(&name.as_str()))
        {
            return Err(ConfigError::invalid(
                format!("upstream.max_body_bytes_per_provider.{name}"),
                "names no provider",
            ));
        }
        if u.breaker_failures > 0 && u.breaker_cool_down.is_zero() {
            return Err(ConfigError::invalid(
                "upstream.breaker_cool_down",
                "must be longer than zero while upstream.breaker_failures is set",
            ));
        }
        Ok(())
    }
}

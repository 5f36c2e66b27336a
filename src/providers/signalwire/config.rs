//! `[providers.signalwire]` (or a tenant's): a SignalWire space and its project credentials, with
//! defaults and validation. Every error names its key.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::ConfigError;
use crate::settings::Secret;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignalWireConfig {
    /// `https://{space}.signalwire.com`.
    pub space_url: Url,
    pub project_id: String,
    pub api_token: Secret,
    /// Upstream `page_size` of list calls (1..=1000).
    #[serde(default = "SignalWireConfig::default_page_size")]
    pub page_size: u32,
    /// Most concurrent upstream requests per tenant.
    #[serde(default = "SignalWireConfig::default_concurrency")]
    pub concurrency: usize,
    /// Most upstream requests per second per tenant, spaced evenly; a request that would
    /// queue longer than `upstream.max_retry_wait` is `UPSTREAM_RATE_LIMITED` (unset: SignalWire documents GETs as effectively unlimited).
    #[serde(default = "SignalWireConfig::default_max_requests_per_second")]
    pub max_requests_per_second: Option<f64>,
    /// The project's signing key (SignalWire's dashboard, "API" page): status callbacks
    /// posted to `/webhooks/{tenant}/signalwire` are verified with it. Unset: that
    /// webhook is off for this tenant.
    #[serde(default)]
    pub signing_key: Option<Secret>,
}

impl SignalWireConfig {
    fn default_page_size() -> u32 {
        100
    }
    fn default_max_requests_per_second() -> Option<f64> {
        None
    }
    fn default_concurrency() -> usize {
        16
    }
}

impl crate::providers::Section for SignalWireConfig {
    /// Checks the values; `prefix` is the section's key (`providers.x`, `tenants[0].providers.x`).
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let key = |k: &str| format!("{prefix}.{k}");
        let invalid = |k: &str, problem: &str| ConfigError::Invalid {
            key: key(k),
            problem: problem.to_string(),
        };
        if !(1..=1000).contains(&self.page_size) {
            return Err(invalid("page_size", "must be between 1 and 1000 (SignalWire's limit)"));
        }
        if self.concurrency == 0 {
            return Err(invalid("concurrency", "must be at least 1"));
        }
        if self
            .max_requests_per_second
            .is_some_and(|rate| !rate.is_finite() || rate <= 0.0)
        {
            return Err(invalid("max_requests_per_second", "must be a positive number"));
        }
        if self.project_id.trim().is_empty() {
            return Err(invalid("project_id", "is empty"));
        }
        if self.api_token.expose().trim().is_empty() {
            return Err(invalid("api_token", "is empty"));
        }
        if !matches!(self.space_url.scheme(), "http" | "https") || self.space_url.host().is_none() {
            return Err(invalid("space_url", "must be an http(s) URL with a host"));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("space_url={} project_id={}", self.space_url, self.project_id)
    }
}

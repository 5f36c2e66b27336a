//! `[providers.oneuptime]` (or a tenant's): a OneUptime instance and its API key, with
//! defaults and validation. Every error names its key.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::ConfigError;
use crate::settings::Secret;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OneUptimeConfig {
    /// `https://oneuptime.com` (cloud) or a self-hosted instance; `/api/...` is appended.
    pub base_url: Url,
    pub api_key: Secret,
    /// Upstream `limit` of list calls (1..=100: OneUptime's documented maximum).
    #[serde(default = "OneUptimeConfig::default_page_size")]
    pub page_size: u32,
    /// Most concurrent upstream requests per tenant.
    #[serde(default = "OneUptimeConfig::default_concurrency")]
    pub concurrency: usize,
    /// Most upstream requests per second per tenant, spaced evenly; a request that would
    /// queue longer than `upstream.max_retry_wait` is `UPSTREAM_RATE_LIMITED` (100: OneUptime documents 100 operations per second per project).
    #[serde(default = "OneUptimeConfig::default_max_requests_per_second")]
    pub max_requests_per_second: Option<f64>,
    /// The shared secret a OneUptime workflow sends in `X-Webhook-Secret` when it posts
    /// `{"callLogId": ...}` to `/webhooks/{tenant}/oneuptime`. Unset: that webhook is off.
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
}

impl OneUptimeConfig {
    fn default_page_size() -> u32 {
        100
    }
    fn default_max_requests_per_second() -> Option<f64> {
        Some(100.0)
    }
    fn default_concurrency() -> usize {
        8
    }
}

impl crate::providers::Section for OneUptimeConfig {
    /// Checks the values; `prefix` is the section's key (`providers.x`, `tenants[0].providers.x`).
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let invalid = |k: &str, problem: &str| ConfigError::Invalid {
            key: format!("{prefix}.{k}"),
            problem: problem.to_string(),
        };
        if !(1..=100).contains(&self.page_size) {
            return Err(invalid(
                "page_size",
                "must be between 1 and 100 (OneUptime's documented limit)",
            ));
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
        if self.api_key.expose().trim().is_empty() {
            return Err(invalid("api_key", "is empty"));
        }
        if reqwest::header::HeaderValue::from_str(self.api_key.expose().trim()).is_err() {
            return Err(invalid(
                "api_key",
                "holds characters an HTTP header cannot carry (e.g. a line break)",
            ));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") || self.base_url.host().is_none() {
            return Err(invalid("base_url", "must be an http(s) URL with a host"));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("base_url={}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::Section;

    #[test]
    fn an_api_key_that_is_no_header_value_is_a_startup_error_naming_the_key() {
        let config = super::OneUptimeConfig {
            base_url: url::Url::parse("https://oneuptime.com").expect("a URL"),
            api_key: crate::settings::Secret::new("abc\ndef"),
            page_size: 10,
            concurrency: 1,
            max_requests_per_second: None,
            webhook_secret: None,
        };
        let error = config.validate("providers.oneuptime").expect_err("refused").to_string();
        assert!(error.contains("providers.oneuptime.api_key"), "{error}");
    }
}

//! `[providers.voximplant]` (or a tenant's): a Voximplant account's service-account key, with
//! defaults and validation. Every error names its key.

use std::time::Duration;

use figment::value::magic::RelativePathBuf;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::ConfigError;
use crate::settings::Secret;

/// Longest look-back window (keeps window arithmetic inside the dates the gateway handles).
const MAX_LOOKBACK: Duration = Duration::from_secs(20 * 366 * 24 * 3600);

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VoximplantConfig {
    /// Management API host; `/platform_api/<Method>` is appended.
    #[serde(default = "VoximplantConfig::default_base_url")]
    pub base_url: Url,
    /// Path of the service account's `credentials.json` (flat or `{"result": {...}}`); a
    /// relative path is relative to the config file that names it (else to the working
    /// directory).
    #[serde(default, serialize_with = "serialize_relative")]
    pub credentials_file: Option<RelativePathBuf>,
    /// The same JSON inline (e.g. from `SWITCHBOARD__PROVIDERS__VOXIMPLANT__CREDENTIALS_JSON`).
    pub credentials_json: Option<Secret>,
    /// Account currency of `cost` values.
    #[serde(default = "VoximplantConfig::default_currency")]
    pub currency: String,
    /// Date window of a session listing without `createdAfter` (from_date is required upstream).
    #[serde(default = "VoximplantConfig::default_lookback", with = "humantime_serde")]
    pub lookback: Duration,
    /// Upstream `count` of list calls (1..=1000).
    #[serde(default = "VoximplantConfig::default_page_size")]
    pub page_size: u32,
    /// JWT lifetime (at most 1 hour); tokens are reused until a quarter of it remains.
    #[serde(default = "VoximplantConfig::default_token_lifetime", with = "humantime_serde")]
    pub token_lifetime: Duration,
    /// Most concurrent upstream requests per tenant.
    #[serde(default = "VoximplantConfig::default_concurrency")]
    pub concurrency: usize,
    /// Most upstream requests per second per tenant, spaced evenly; a request that would
    /// queue longer than `upstream.max_retry_wait` is `UPSTREAM_RATE_LIMITED` (unset: Voximplant documents no request rate).
    #[serde(default = "VoximplantConfig::default_max_requests_per_second")]
    pub max_requests_per_second: Option<f64>,
    /// Most bytes of a history report once decompressed (a gzip bomb stops here).
    #[serde(default = "VoximplantConfig::default_max_report_bytes")]
    pub max_report_bytes: usize,
}

impl VoximplantConfig {
    fn default_base_url() -> Url {
        Url::parse("https://api.voximplant.com").expect("constant URL")
    }
    fn default_currency() -> String {
        "USD".into()
    }
    fn default_lookback() -> Duration {
        Duration::from_secs(30 * 24 * 3600)
    }
    fn default_page_size() -> u32 {
        100
    }
    fn default_token_lifetime() -> Duration {
        Duration::from_secs(300)
    }
    fn default_max_requests_per_second() -> Option<f64> {
        None
    }
    fn default_concurrency() -> usize {
        8
    }
    pub(crate) fn default_max_report_bytes() -> usize {
        64 * 1024 * 1024
    }

    /// The credentials JSON, from the file or inline.
    pub fn credentials(&self) -> Result<Secret, ConfigError> {
        match (&self.credentials_file, &self.credentials_json) {
            (Some(path), None) => {
                std::fs::read_to_string(path.relative())
                    .map(Secret::new)
                    .map_err(|e| ConfigError::Invalid {
                        key: "voximplant.credentials_file".into(),
                        problem: format!("cannot be read ({}): {e}", path.relative().display()),
                    })
            }
            (None, Some(json)) => Ok(json.clone()),
            _ => Err(ConfigError::Invalid {
                key: "voximplant.credentials_file".into(),
                problem: "exactly one of `credentials_file` and `credentials_json` must be set".into(),
            }),
        }
    }
}

impl crate::providers::Section for VoximplantConfig {
    /// Checks the values; `prefix` is the section's key (`providers.x`, `tenants[0].providers.x`).
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let invalid = |k: &str, problem: &str| ConfigError::Invalid {
            key: format!("{prefix}.{k}"),
            problem: problem.to_string(),
        };
        if !(1..=1000).contains(&self.page_size) {
            return Err(invalid(
                "page_size",
                "must be between 1 and 1000 (Voximplant's `count` limit)",
            ));
        }
        if self.token_lifetime.as_secs() < 20 || self.token_lifetime.as_secs() > 3600 {
            return Err(invalid(
                "token_lifetime",
                "must be between 20s and 1h (Voximplant caps exp at iat + 3600)",
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
        if crate::domain::currency(&self.currency).is_none() {
            return Err(invalid(
                "currency",
                "must be a currency code such as USD (letters and digits)",
            ));
        }
        if self.max_report_bytes == 0 {
            return Err(invalid("max_report_bytes", "must be at least 1"));
        }
        if self.lookback.is_zero() || self.lookback > MAX_LOOKBACK {
            return Err(invalid("lookback", "must be between 1s and 20 years"));
        }
        if self.credentials_file.is_some() == self.credentials_json.is_some() {
            return Err(invalid(
                "credentials_file",
                "exactly one of `credentials_file` and `credentials_json` must be set",
            ));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("base_url={}", self.base_url)
    }
}

/// Serializes the path as resolved against its config file.
fn serialize_relative<S: serde::Serializer>(path: &Option<RelativePathBuf>, serializer: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => path.serialize_relative(serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lookback_out_of_range_is_a_startup_error_naming_the_key() {
        use crate::providers::Section;
        use figment::providers::Format;
        for lookback in ["0s", "30years"] {
            let toml = format!("credentials_json = \"{{}}\"\nlookback = \"{lookback}\"\n");
            let config: super::VoximplantConfig = figment::Figment::from(figment::providers::Toml::string(&toml))
                .extract()
                .expect("parses");
            let error = config
                .validate("providers.voximplant")
                .expect_err("refused")
                .to_string();
            assert!(error.contains("providers.voximplant.lookback"), "{lookback}: {error}");
        }
    }
}

//! `[log]` and `[telemetry]`: log format and access line, metric label cardinality,
//! OpenTelemetry export.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::ConfigError;

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

impl TelemetryConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(otlp) = &self.otlp
            && !(0.0..=1.0).contains(&otlp.sampling_ratio)
        {
            return Err(ConfigError::invalid(
                "telemetry.otlp.sampling_ratio",
                "must be between 0 and 1",
            ));
        }
        Ok(())
    }
}

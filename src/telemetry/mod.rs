//! What operators see: log lines (`logs`), Prometheus metrics (`metrics`) and
//! OpenTelemetry traces (`otel`). `init` installs the process's one `tracing` subscriber
//! from `[log]` and `[telemetry]`; metrics belong to each `Application` instead, so
//! several gateways in one process keep separate counts.

pub mod config;
pub mod logs;
pub mod metrics;
pub mod otel;
pub mod request_id;
pub mod writer;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::telemetry::config::LogConfig;
use crate::telemetry::config::TelemetryConfig;

/// Keeps the log writer and the span exporter running; dropping it flushes both.
pub struct Telemetry {
    _log_writer: writer::Guard,
    traces: Option<otel::Traces>,
}

impl Telemetry {
    /// Exports every finished span now (blocks until the exporter answered).
    pub fn flush(&self) {
        if let Some(traces) = &self.traces {
            traces.flush();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(traces) = self.traces.take() {
            traces.shutdown();
        }
    }
}

fn filter() -> EnvFilter {
    // Audit records are written whatever `RUST_LOG` says (`authz::audit`).
    let audit = "switchboard::audit=info".parse().expect("a valid directive");
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(audit)
}

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), log lines to
/// stderr in `log.format` through a background writer, and the OTLP span exporter when
/// `[telemetry.otlp] endpoint` is set.
pub fn init_from(log: &LogConfig, telemetry: &TelemetryConfig) -> Result<Telemetry, String> {
    // Lines gather in one buffer that a thread writes out every few milliseconds
    // (`writer`): a busy gateway's access and audit lines cost a copy each, not a
    // wake-up and a write.
    let (writer, guard) = writer::spawn(std::io::stderr()).map_err(|e| format!("cannot start the log writer: {e}"))?;
    let traces = match telemetry.otlp.as_ref() {
        Some(otlp) if otlp.endpoint.is_some() => Some(otel::Traces::start(otlp)?),
        _ => None,
    };
    let registry = tracing_subscriber::registry()
        .with(filter())
        .with(logs::layer(log.format, writer, logs::stderr_is_terminal()))
        .with(traces.as_ref().map(otel::Traces::layer));
    registry
        .try_init()
        .map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(Telemetry {
        _log_writer: guard,
        traces,
    })
}

/// Text logs to stderr, no traces: for the emulator command and tests. Later calls (and
/// calls after `init_from`) are no-ops.
pub fn init() {
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(logs::layer(
            crate::telemetry::config::LogFormat::Text,
            std::io::stderr,
            logs::stderr_is_terminal(),
        ))
        .try_init();
}

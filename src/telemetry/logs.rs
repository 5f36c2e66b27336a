//! Log lines: human-readable text (ANSI colour only on a terminal) or one JSON object per
//! line, and the per-request access line (`access`) with its fields named once here, so a
//! log pipeline can rely on them.

use std::io::IsTerminal;

use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::registry::LookupSpan;

use crate::telemetry::config::LogFormat;

/// Whether stderr is a terminal (colour codes only then, never into a file or pipe).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// The formatting layer for `format`, writing to `writer`.
pub fn layer<S, W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Text => fmt.with_ansi(ansi).boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .boxed(),
    }
}

/// What the access line of one GraphQL request says.
pub struct Access<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub operation: &'a str,
    pub status: u16,
    pub duration_ms: f64,
    pub upstream_calls: u32,
    pub cache_hits: u32,
    pub tenant: &'a str,
    pub request_id: &'a str,
    pub outcome: &'a str,
}

/// Writes the access line (target `switchboard::access`) at `level` (`info` or `debug`).
pub fn access(level: tracing::Level, line: &Access<'_>) {
    macro_rules! access_line {
        ($level:expr) => {
            tracing::event!(
                target: "switchboard::access",
                $level,
                method = line.method,
                path = line.path,
                operation = line.operation,
                status = line.status,
                duration_ms = line.duration_ms,
                upstream_calls = line.upstream_calls,
                cache_hits = line.cache_hits,
                tenant = line.tenant,
                request_id = line.request_id,
                outcome = line.outcome,
                "request"
            )
        };
    }
    if level == tracing::Level::INFO {
        access_line!(tracing::Level::INFO);
    } else {
        access_line!(tracing::Level::DEBUG);
    }
}

/// `error`'s message and every cause under it, joined by `: ` (reqwest's "error sending
/// request" alone does not say "connection refused").
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

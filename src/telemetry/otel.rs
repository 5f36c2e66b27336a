//! OpenTelemetry traces over OTLP/HTTP (protobuf), off unless `[telemetry.otlp] endpoint`
//! is set; and W3C trace context (`traceparent`) taken from callers and passed to
//! providers.
//!
//! Spans are made only while an exporter is installed (`enabled`): without one, the
//! request path pays nothing for them. There are three: the request (`graphql.request`,
//! server), each upstream attempt (`upstream.request`, client) and each cache miss that
//! loads (`cache.load`).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::telemetry::config::OtlpConfig;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (so worth making).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The installed exporter.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Starts the batch exporter to `config.endpoint`.
    pub fn start(config: &OtlpConfig) -> Result<Traces, String> {
        let endpoint = config.endpoint.as_ref().ok_or("telemetry.otlp.endpoint is not set")?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.as_str())
            .build()
            .map_err(|e| format!("telemetry.otlp: {e}"))?;
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sampling_ratio,
            ))))
            .with_resource(resource)
            .build();
        ENABLED.store(true, Ordering::Relaxed);
        tracing::info!(endpoint = %endpoint, ratio = config.sampling_ratio, "exporting traces over OTLP/HTTP");
        Ok(Traces { provider })
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("switchboard"))
    }

    pub fn flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!(error = %e, "flushing spans failed");
        }
    }

    pub fn shutdown(self) {
        ENABLED.store(false, Ordering::Relaxed);
        let _ = self.provider.shutdown();
    }
}

/// Makes `span` a child of the caller's `traceparent`, when the request carries one.
pub fn adopt_parent(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    if span.is_none() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

/// Adds `span`'s `traceparent` to an upstream request's headers.
pub fn inject(span: &tracing::Span, headers: &mut axum::http::HeaderMap) {
    if span.is_none() {
        return;
    }
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeadersMut(headers));
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut axum::http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(key.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

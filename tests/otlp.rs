//! Traces: a small OTLP/HTTP receiver takes what the gateway exports for one
//! query that misses the cache, and the spans, their parent links and attributes are
//! checked, as is the `traceparent` the provider received. In a test binary of its own:
//! the span exporter is installed in the process-global subscriber.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use common::{TestApp, json_of};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::{Value, json};
use switchboard::config::{LogConfig, OtlpConfig, TelemetryConfig};

type Received = Arc<Mutex<Vec<Span>>>;

/// Serves `POST /v1/traces` (OTLP/HTTP, protobuf) on a free loopback port.
async fn receiver() -> (url::Url, Received) {
    let received = Received::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let keep = keep.clone();
            async move {
                let export = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
                let spans = export
                    .resource_spans
                    .into_iter()
                    .flat_map(|r| r.scope_spans)
                    .flat_map(|s| s.spans);
                keep.lock().unwrap().extend(spans);
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url.parse().unwrap(), received)
}

fn attribute(span: &Span, key: &str) -> Option<Value> {
    let value = span
        .attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        Any::StringValue(s) => json!(s),
        Any::IntValue(i) => json!(i),
        Any::BoolValue(b) => json!(b),
        Any::DoubleValue(d) => json!(d),
        other => json!(format!("{other:?}")),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_that_misses_the_cache_exports_linked_spans_and_passes_its_trace_upstream() {
    let (endpoint, received) = receiver().await;
    let telemetry = switchboard::telemetry::init_from(
        &LogConfig::default(),
        &TelemetryConfig {
            otlp: Some(OtlpConfig {
                endpoint: Some(endpoint),
                ..OtlpConfig::default()
            }),
            ..TelemetryConfig::default()
        },
    )
    .expect("telemetry starts");
    let app = TestApp::spawn().await;
    let native = app.emulator.signalwire_voice_log_ids()[0].clone();
    let id = common::voice_id(&native);
    let (trace_id, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let body: Value = json_of(
        app.http()
            .post(&app.url)
            .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
            .json(&json!({"query": "query Detail($id: ID!) { node(id: $id) { id } }", "variables": {"id": id}})),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry.flush();
        telemetry
    })
    .await
    .unwrap();

    let spans = received.lock().unwrap().clone();
    let in_trace: Vec<&Span> = spans.iter().filter(|s| hex::encode(&s.trace_id) == trace_id).collect();
    let named = |name: &str| {
        in_trace
            .iter()
            .copied()
            .find(|s| s.name.starts_with(name))
            .unwrap_or_else(|| {
                panic!(
                    "no {name} span in {:#?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
    };
    let request = named("graphql.request");
    assert_eq!(
        hex::encode(&request.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(request.kind, SpanKind::Server as i32);
    for (key, value) in [
        ("graphql.operation.name", json!("Detail")),
        ("graphql.operation.type", json!("query")),
        ("tenant", json!("default")),
        ("outcome", json!("ok")),
        ("http.response.status_code", json!(200)),
    ] {
        assert_eq!(attribute(request, key), Some(value), "request span {key}");
    }

    let by_id: HashMap<Vec<u8>, &Span> = in_trace.iter().map(|s| (s.span_id.clone(), *s)).collect();
    let descends_from_request = |span: &Span| {
        let mut parent = span.parent_span_id.clone();
        while let Some(p) = by_id.get(&parent) {
            if p.span_id == request.span_id {
                return true;
            }
            parent = p.parent_span_id.clone();
        }
        false
    };
    let load = named("cache.load");
    assert!(descends_from_request(load), "cache.load is inside the request");
    assert_eq!(attribute(load, "cache.kind"), Some(json!("voice")));
    assert_eq!(attribute(load, "provider"), Some(json!("signalwire")));

    let upstream = named("GET /api/voice/logs/{id}");
    assert_eq!(upstream.kind, SpanKind::Client as i32);
    assert_eq!(
        upstream.parent_span_id, load.span_id,
        "the call is made by the cache load"
    );
    assert!(descends_from_request(upstream));
    for (key, value) in [
        ("provider", json!("signalwire")),
        ("http.route", json!("/api/voice/logs/{id}")),
        ("http.request.method", json!("GET")),
        ("http.response.status_code", json!(200)),
        ("http.request.resend_count", json!(0)),
    ] {
        assert_eq!(attribute(upstream, key), Some(value), "upstream span {key}");
    }

    // The tree as the receiver saw it (shown with `--nocapture`).
    fn print(span: &Span, all: &[&Span], depth: usize) {
        println!("{}{} [{}]", "  ".repeat(depth), span.name, hex::encode(&span.span_id));
        for child in all.iter().filter(|s| s.parent_span_id == span.span_id) {
            print(child, all, depth + 1);
        }
    }
    println!("caller span {caller_span} in trace {trace_id}");
    print(request, &in_trace, 1);

    let sent = format!("00-{trace_id}-{}-01", hex::encode(&upstream.span_id));
    assert!(
        app.emulator.traceparents().contains(&sent),
        "the provider got {sent}: {:?}",
        app.emulator.traceparents()
    );
    drop(telemetry);
}

//! Every upstream error class maps to its `extensions.code`, names the provider, and
//! never leaks upstream text to the client.

use std::time::Duration;

use crate::common::*;
use serde_json::{Value, json};
use switchboard::config::Secret;
use switchboard::emulator::{Fault, FaultKind};

/// Strings that only appear in upstream bodies, URLs or internal details.
const LEAKS: [&str; 8] = [
    "Unauthorized",
    "Forbidden",
    "Injected",
    "Internal Server Error",
    "127.0.0.1",
    "HTTP ",
    "page_size",
    "Not Found",
];

fn assert_single_error(response: &Value, code: &str) {
    assert_eq!(error_codes(response), [code], "{response}");
    let error = &response["errors"][0];
    assert_eq!(error["extensions"]["provider"], "SIGNALWIRE", "{response}");
    let text = response.to_string();
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak:?} leaked to the client: {text}");
    }
}

async fn list_with_fault(kind: FaultKind, tweak: impl FnOnce(&mut switchboard::Config)) -> (TestApp, Value) {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| tweak(c)).await;
    app.emulator.inject(Fault::always(kind));
    let r = app.query(VOICE_PAGE, json!({"first": 5})).await;
    (app, r)
}

fn status(status: u16) -> FaultKind {
    FaultKind::Status {
        status,
        retry_after_seconds: None,
    }
}

#[tokio::test]
async fn rejected_credentials_are_upstream_unauthorized() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        c.providers.signalwire.as_mut().unwrap().api_token = Secret::new("wrong-token");
    })
    .await;
    let r = app.query(VOICE_PAGE, json!({"first": 5})).await;
    assert_single_error(&r, "UPSTREAM_UNAUTHORIZED");
    assert!(r["data"].is_null() || r["data"]["signalWireVoiceLogs"].is_null());
    assert_eq!(app.upstream(VOICE_LIST), 1, "401 is not retried");
}

#[tokio::test]
async fn forbidden_scope_is_upstream_unauthorized() {
    let (_, r) = list_with_fault(status(403), |_| {}).await;
    assert_single_error(&r, "UPSTREAM_UNAUTHORIZED");
}

#[tokio::test]
async fn not_found_on_a_list_is_a_bad_response_but_on_an_id_is_null() {
    let (app, r) = list_with_fault(status(404), |_| {}).await;
    assert_single_error(&r, "UPSTREAM_BAD_RESPONSE");
    let id = app.emulator.signalwire_voice_log_ids()[0].clone();
    let global = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!("SignalWireVoiceLog:{id}"),
    );
    let r = app
        .query("query($id: ID!) { node(id: $id) { id } }", json!({"id": global}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert!(r["data"]["node"].is_null());
}

#[tokio::test]
async fn unprocessable_requests_are_upstream_bad_response() {
    let (_, r) = list_with_fault(status(422), |_| {}).await;
    assert_single_error(&r, "UPSTREAM_BAD_RESPONSE");
}

#[tokio::test]
async fn rate_limits_are_reported_with_retry_after_when_too_long_to_wait() {
    let kind = FaultKind::Status {
        status: 429,
        retry_after_seconds: Some(30),
    };
    let (app, r) = list_with_fault(kind, |_| {}).await;
    assert_single_error(&r, "UPSTREAM_RATE_LIMITED");
    assert_eq!(r["errors"][0]["extensions"]["retryAfterSeconds"], 30);
    assert_eq!(
        app.upstream(VOICE_LIST),
        1,
        "a Retry-After beyond max_retry_wait is not waited for"
    );
}

#[tokio::test]
async fn a_short_rate_limit_is_retried_transparently() {
    let app = TestApp::in_memory().await;
    app.emulator.inject(Fault {
        kind: FaultKind::Status {
            status: 429,
            retry_after_seconds: Some(0),
        },
        path_prefix: "/api/voice/logs".into(),
        times: Some(1),
    });
    let r = app.query(VOICE_PAGE, json!({"first": 5})).await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(app.upstream(VOICE_LIST), 2, "one 429, one retry");
}

#[tokio::test]
async fn server_errors_are_retried_then_upstream_unavailable() {
    let (app, r) = list_with_fault(status(500), |c| c.upstream.max_retries = 2).await;
    assert_single_error(&r, "UPSTREAM_UNAVAILABLE");
    assert_eq!(app.upstream(VOICE_LIST), 3, "the first try and two retries");
}

#[tokio::test]
async fn slow_upstreams_are_upstream_timeout() {
    let (_, r) = list_with_fault(FaultKind::Latency { millis: 3_000 }, |c| {
        c.upstream.timeout = Duration::from_millis(200);
    })
    .await;
    assert_single_error(&r, "UPSTREAM_TIMEOUT");
}

#[tokio::test]
async fn malformed_bodies_are_upstream_bad_response() {
    let (_, r) = list_with_fault(FaultKind::Malformed, |_| {}).await;
    assert_single_error(&r, "UPSTREAM_BAD_RESPONSE");
}

#[tokio::test]
async fn dropped_connections_are_upstream_unavailable() {
    let (_, r) = list_with_fault(FaultKind::DropConnection, |c| c.upstream.max_retries = 0).await;
    assert_single_error(&r, "UPSTREAM_UNAVAILABLE");
}

#[tokio::test]
async fn refused_connections_are_upstream_unavailable() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        c.providers.signalwire.as_mut().unwrap().space_url = "http://127.0.0.1:9".parse().unwrap();
        c.upstream.max_retries = 0;
    })
    .await;
    let r = app.query(VOICE_PAGE, json!({"first": 5})).await;
    assert_single_error(&r, "UPSTREAM_UNAVAILABLE");
}

#[tokio::test]
async fn failing_ids_in_nodes_are_null_with_an_error_each_not_a_failed_query() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| c.upstream.max_retries = 0).await;
    let list = app.query(VOICE_PAGE, json!({"first": 2})).await;
    let listed = list["data"]["signalWireVoiceLogs"]["edges"][0]["node"]["id"].clone();
    let natives = app.emulator.signalwire_voice_log_ids();
    let unlisted = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!("SignalWireVoiceLog:{}", natives[natives.len() - 1]),
    );
    app.emulator.inject(Fault::always(status(503)));
    let r = app
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": [listed, unlisted]}),
        )
        .await;
    assert_eq!(
        r["data"]["nodes"][0]["id"], listed,
        "the cached log still resolves: {r}"
    );
    assert!(r["data"]["nodes"][1].is_null());
    assert_eq!(error_codes(&r), ["UPSTREAM_UNAVAILABLE"]);
}

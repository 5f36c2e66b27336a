//! Responses as the GraphQL spec completes them: a failed field is null at its
//! position, a failed non-null field nulls its nearest nullable parent, keys follow the
//! selection set, and every error has a path.

use crate::common::*;
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn voice_id(native: &str) -> String {
    switchboard::domain::encode_id(switchboard::providers::signalwire::VOICE_LOG, native)
}

#[tokio::test]
async fn a_field_that_errors_is_null_at_its_position_with_its_path() {
    let app = TestApp::in_memory().await;
    let r = app
        .query(r#"{ a: node(id: "bm9wZQ==") { id } b: __typename }"#, json!({}))
        .await;
    assert_eq!(r["data"], json!({"a": null, "b": "Query"}), "{r}");
    assert_eq!(keys(&r["data"]), ["a", "b"]);
    assert_eq!(r["errors"][0]["path"], json!(["a"]), "{r}");
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"]);
}

/// Every nullable root field, asked alone, that errors: `data` holds it as null, as the
/// spec completes a nullable field; only a failed non-null root field nulls `data`.
#[tokio::test]
async fn a_nullable_root_field_that_errors_alone_is_null_in_data_not_null_data() {
    let app = TestApp::in_memory().await;
    let roots = app
        .query(
            "{ __schema { queryType { fields { name type { kind } } } mutationType { fields { name type { kind } } } } }",
            json!({}),
        )
        .await;
    let nullable_roots: Vec<String> = ["queryType", "mutationType"]
        .iter()
        .flat_map(|root| {
            roots["data"]["__schema"][root]["fields"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|f| f["type"]["kind"] != "NON_NULL")
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        nullable_roots,
        ["node", "callLog", "rateLimit"],
        "every nullable root field is tested below"
    );
    // Null without `[limits]`, and no error (fair_use.rs tests it with a budget).
    let r = app.query("{ rateLimit { remaining } }", json!({})).await;
    assert_eq!(r, json!({ "data": { "rateLimit": null } }));
    for root in nullable_roots.into_iter().filter(|root| root != "rateLimit") {
        let r = app
            .query(&format!(r#"{{ {root}(id: "bm9wZQ==") {{ id }} }}"#), json!({}))
            .await;
        assert_eq!(r["data"], json!({ root.as_str(): null }), "{r}");
        assert_eq!(r["errors"][0]["path"], json!([root]), "{r}");
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"]);
    }
    let r = app
        .query("{ oneUptimeCallLogs(first: 0) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(r["data"], Value::Null, "a failed non-null root field nulls data: {r}");
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn fields_are_serialized_in_selection_order_not_completion_order() {
    let app = TestApp::in_memory().await;
    // The first field answers last, the last first.
    app.emulator
        .inject(Fault::always(FaultKind::Latency { millis: 400 }).on("/api/call-log"));
    app.emulator
        .inject(Fault::always(FaultKind::Latency { millis: 200 }).on("/platform_api"));
    let r = app
        .query(
            "{ a: oneUptimeCallLogs(first: 1) { totalCount edges { cursor } }
               b: voximplantCallSessions(first: 1) { totalCount edges { cursor } }
               c: signalWireVoiceLogs(first: 1) { edges { cursor } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(keys(&r["data"]), ["a", "b", "c"]);
    assert_eq!(
        keys(&r["data"]["a"]),
        ["totalCount", "edges"],
        "totalCount asked first comes first"
    );
    assert_eq!(keys(&r["data"]["c"]), ["edges", "pageInfo"]);
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| c.upstream.max_retries = 0).await;
    let native = app.emulator.signalwire_voice_log_ids()[0].clone();
    app.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 500,
            retry_after_seconds: None,
        })
        .on(&format!("/api/voice/logs/{native}/events")),
    );
    let r = app
        .query(
            "query($id: ID!) { callLog(id: $id) { id ... on SignalWireVoiceLog { events { name } } } ok: __typename }",
            json!({"id": voice_id(&native)}),
        )
        .await;
    // `events` is `[SignalWireVoiceLogEvent!]!`: its failure nulls `callLog`, not `data`.
    assert_eq!(r["data"], json!({"callLog": null, "ok": "Query"}), "{r}");
    assert_eq!(error_codes(&r), ["UPSTREAM_UNAVAILABLE"]);
    assert_eq!(r["errors"][0]["path"], json!(["callLog", "events"]), "{r}");
}

#[tokio::test]
async fn nodes_and_call_logs_errors_carry_paths() {
    let app = TestApp::in_memory().await;
    let native = app.emulator.signalwire_voice_log_ids()[0].clone();
    let r = app
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": [voice_id(&native), "bm9wZQ=="]}),
        )
        .await;
    assert!(r["data"]["nodes"][0]["id"].is_string(), "{r}");
    assert!(r["data"]["nodes"][1].is_null(), "{r}");
    assert_eq!(r["errors"][0]["path"], json!(["nodes", 1]), "{r}");

    app.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/call-log"),
    );
    let r = app
        .query("{ callLogs(first: 3) { edges { node { id provider } } } }", json!({}))
        .await;
    assert_eq!(r["data"]["callLogs"]["edges"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(error_codes(&r), ["UPSTREAM_UNAVAILABLE"]);
    assert_eq!(r["errors"][0]["path"], json!(["callLogs"]), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["provider"], "ONEUPTIME");
}

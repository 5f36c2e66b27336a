//! Property tests: arbitrary strings and dates in every id, cursor and filter
//! argument never crash the gateway; every answer is data or errors that all carry a
//! code from the README's list.

use crate::common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const CODES: [&str; 11] = [
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "PROVIDER_NOT_CONFIGURED",
    "UPSTREAM_UNAUTHORIZED",
    "UPSTREAM_RATE_LIMITED",
    "UPSTREAM_TIMEOUT",
    "UPSTREAM_UNAVAILABLE",
    "UPSTREAM_BAD_RESPONSE",
    "OVERLOADED",
    "INTERNAL_SERVER_ERROR",
];

/// Operations taking one `String`/`ID` variable `$s`.
const STRING_ARGS: &[&str] = &[
    "query($s: ID!) { node(id: $s) { id } }",
    "query($s: ID!) { callLog(id: $s) { id createdAt } }",
    "query($s: ID!) { nodes(ids: [$s, $s]) { id } }",
    "query($s: String) { signalWireVoiceLogs(first: 2, after: $s) { edges { cursor } } }",
    "query($s: String) { oneUptimeCallLogs(first: 2, after: $s) { edges { cursor } } }",
    "query($s: String) { voximplantCallSessions(first: 2, after: $s) { edges { cursor } } }",
    "query($s: String) { voximplantAuditLog(first: 2, after: $s) { edges { cursor } } }",
    "query($s: String) { callLogs(first: 2, after: $s) { edges { cursor } } }",
    "query($s: String) { oneUptimeCallLogs(first: 2, filter: {fromNumber: $s, toNumber: $s}) { edges { cursor } } }",
    "query($s: ID) { oneUptimeCallLogs(first: 2, filter: {incidentId: $s, monitorId: $s}) { edges { cursor } } }",
    "query($s: String!) { voximplantCallSessions(first: 2, filter: {remoteNumbers: [$s], applicationName: $s}) { edges { cursor } } }",
    "query($s: String) { voximplantAuditLog(first: 2, filter: {adminUserId: $s, relatedId: $s}) { edges { cursor } } }",
    "query($s: String) { callLogs(first: 2, filter: {number: $s}) { edges { cursor } } }",
];

/// Operations taking one `DateTime` variable `$d` (sent as an arbitrary string).
const DATE_ARGS: &[&str] = &[
    "query($d: DateTime) { signalWireVoiceLogs(first: 2, filter: {createdAfter: $d}) { edges { cursor } } }",
    "query($d: DateTime) { signalWireVideoLogs(first: 2, filter: {createdBefore: $d}) { edges { cursor } } }",
    "query($d: DateTime) { oneUptimeCallLogs(first: 2, filter: {createdAfter: $d, createdBefore: $d}) { edges { cursor } } }",
    "query($d: DateTime) { voximplantCallSessions(first: 2, filter: {createdAfter: $d}) { edges { cursor } } }",
    "query($d: DateTime) { voximplantCallSessions(first: 2, filter: {createdBefore: $d}) { edges { cursor } } }",
    "query($d: DateTime) { voximplantAuditLog(first: 2, filter: {createdAfter: $d}) { edges { cursor } } }",
    "query($d: DateTime) { callLogs(first: 2, filter: {createdAfter: $d}) { edges { cursor } } }",
    "query($d: NaiveDate) { signalWireVoiceLogs(first: 2, filter: {createdOn: $d}) { edges { cursor } } }",
];

/// RFC 3339-shaped strings over chrono's whole year range and beyond, with odd offsets.
fn date_like() -> impl Strategy<Value = String> {
    (
        -300_000i64..300_000,
        0u32..14,
        0u32..33,
        0u32..26,
        0u32..62,
        prop_oneof![Just(String::new()), "\\.[0-9]{1,12}"],
        prop_oneof![Just("Z".to_string()), "[+-][0-9]{2}:[0-9]{2}"],
    )
        .prop_map(|(year, month, day, hour, minute, fraction, offset)| {
            let year = if (0..10_000).contains(&year) {
                format!("{year:04}")
            } else {
                format!("{year:+07}")
            };
            format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:00{fraction}{offset}")
        })
}

fn check(query: &str, variables: &Value, body: &Value) {
    let errors = body["errors"].as_array();
    assert!(
        body.get("data").is_some() || errors.is_some_and(|e| !e.is_empty()),
        "{query} {variables}: neither data nor errors: {body}"
    );
    for error in errors.into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("");
        assert!(CODES.contains(&code), "{query} {variables}: uncoded error {error}");
        assert_ne!(code, "INTERNAL_SERVER_ERROR", "{query} {variables}: {error}");
    }
}

fn run(cases: u32, strategy: impl Strategy<Value = String>, queries: &'static [&'static str], var: &'static str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::in_memory());
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(value in strategy)| {
        runtime.block_on(async {
            for query in queries {
                let variables = json!({ var: value });
                let body = app.query(query, variables.clone()).await;
                check(query, &variables, &body);
            }
        });
    });
    let alive = runtime.block_on(app.query("{ __typename }", json!({})));
    assert_eq!(alive["data"]["__typename"], "Query");
}

#[test]
fn arbitrary_strings_in_ids_cursors_and_filters_get_data_or_coded_errors() {
    run(48, any::<String>(), STRING_ARGS, "s");
}

#[test]
fn arbitrary_id_payloads_get_data_or_coded_errors() {
    use base64::Engine;
    // Well-formed global ids (kind tag + arbitrary native part), which reach the loaders.
    let ids = (
        prop_oneof![
            Just("SignalWireVoiceLog"),
            Just("SignalWireVideoLog"),
            Just("OneUptimeCallLog"),
            Just("VoximplantCallSession"),
            Just("VoximplantAuditLogEntry"),
            Just("VoximplantHistoryReport"),
        ],
        prop_oneof![
            any::<String>(),
            (any::<u64>(), any::<i64>()).prop_map(|(id, at)| format!("{id}@{at}")),
        ],
    )
        .prop_map(|(kind, native)| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{native}")));
    run(64, ids, &STRING_ARGS[..3], "s");
}

#[test]
fn arbitrary_dates_in_every_date_filter_get_data_or_coded_errors() {
    run(48, prop_oneof![date_like(), any::<String>()], DATE_ARGS, "d");
}

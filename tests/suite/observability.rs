//! What operators see on `/metrics`: exact values after a known sequence, in
//! output a Prometheus text parser accepts.

use crate::common::{TestApp, small_emulator, voice_id};
use serde_json::json;
use switchboard::emulator::{Fault, FaultKind};

const KEY: &str = "metrics-key";
const NODE: &str = "query Detail($id: ID!) { node(id: $id) { id } }";
const NODE_AGAIN: &str = "query DetailAgain($id: ID!) { node(id: $id) { id __typename } }";

/// The value of the sample `series` (name and labels exactly as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Checks the Prometheus text format line by line: comments are `# HELP name text` or
/// `# TYPE name kind`; every sample is `name{label="value",...} number` with a valid name,
/// valid label names and properly escaped label values, and its family has a TYPE.
fn parse_prometheus(text: &str) -> Result<usize, String> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    let mut typed = std::collections::HashSet::new();
    let mut samples = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, what) = (parts.next(), parts.next(), parts.next());
            match (kind, name, what) {
                (Some("HELP"), Some(n), _) if valid_name(n) => {}
                (Some("TYPE"), Some(n), Some("counter" | "gauge" | "histogram" | "summary" | "untyped"))
                    if valid_name(n) =>
                {
                    typed.insert(n.to_string());
                }
                _ => return Err(format!("bad comment: {line}")),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
        if value.parse::<f64>().is_err() && !matches!(value, "+Inf" | "-Inf" | "NaN") {
            return Err(format!("bad value: {line}"));
        }
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, Some(labels.strip_suffix('}').ok_or(format!("unclosed: {line}"))?)),
            None => (series, None),
        };
        if !valid_name(name) {
            return Err(format!("bad name: {line}"));
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        if !typed.contains(family) {
            return Err(format!("sample without TYPE: {line}"));
        }
        let mut rest = labels.unwrap_or("");
        while !rest.is_empty() {
            let (label, after) = rest.split_once("=\"").ok_or(format!("bad label: {line}"))?;
            if !valid_name(label) {
                return Err(format!("bad label name: {line}"));
            }
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\' | '"' | 'n')) => {}
                        _ => return Err(format!("bad escape: {line}")),
                    },
                    Some((i, '"')) => break i,
                    Some((_, '\n')) | None => return Err(format!("unterminated value: {line}")),
                    _ => {}
                }
            };
            rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
        }
        samples += 1;
    }
    Ok(samples)
}

#[tokio::test]
async fn metrics_after_a_miss_a_hit_a_retried_503_and_a_bad_input_have_exact_values() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(KEY));
    })
    .await;
    let ids = app.emulator.signalwire_voice_log_ids();
    let (first, second) = (voice_id(&ids[0]), voice_id(&ids[1]));

    // A miss that loads, then a hit (another document, so no kept answer is replayed).
    let r = app.query(NODE, json!({"id": first})).await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app.query(NODE_AGAIN, json!({"id": first})).await;
    assert!(r["errors"].is_null(), "{r}");
    // The same again: answered with the kept response, still counted by its name.
    let again = app.query(NODE_AGAIN, json!({"id": first})).await;
    assert_eq!(again, r);
    // Two 503s, each retried, then the answer.
    app.emulator.inject(Fault {
        times: Some(2),
        ..Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/voice/logs/")
    });
    let r = app.query(NODE, json!({"id": second})).await;
    assert!(r["errors"].is_null(), "{r}");
    // A query that does not validate.
    let r = app.query("query Broken { nope }", json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");

    let text = app.metrics(KEY).await;
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(samples > 30, "{samples} samples");
    let upstream = r#"{provider="signalwire",tenant="default"}"#;
    let expect = [
        (
            r#"switchboard_graphql_requests_total{operation_type="query",operation_name="Detail",outcome="ok"}"#,
            2.0,
        ),
        (
            r#"switchboard_graphql_requests_total{operation_type="query",operation_name="DetailAgain",outcome="ok"}"#,
            2.0,
        ),
        ("switchboard_responses_reused_total", 1.0),
        (
            r#"switchboard_graphql_requests_total{operation_type="query",operation_name="Broken",outcome="error"}"#,
            1.0,
        ),
        (r#"switchboard_graphql_errors_total{code="BAD_USER_INPUT"}"#, 1.0),
        (&format!("switchboard_upstream_requests_total{upstream}"), 4.0),
        (
            &format!("switchboard_upstream_request_duration_seconds_count{upstream}"),
            4.0,
        ),
        (&format!("switchboard_upstream_retries_total{upstream}"), 2.0),
        (
            r#"switchboard_upstream_errors_total{provider="signalwire",tenant="default",class="unavailable"}"#,
            2.0,
        ),
        (
            r#"switchboard_upstream_errors_total{provider="signalwire",tenant="default",class="timeout"}"#,
            0.0,
        ),
        (&format!("switchboard_upstream_circuit_state{upstream}"), 0.0),
        (r#"switchboard_cache_requests_total{cache="voice",result="miss"}"#, 2.0),
        (r#"switchboard_cache_requests_total{cache="voice",result="hit"}"#, 1.0),
        (r#"switchboard_cache_entries{cache="voice"}"#, 2.0),
        ("switchboard_graphql_requests_in_flight", 0.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series}\n{text}");
    }
    for present in [
        "# TYPE switchboard_graphql_request_duration_seconds histogram",
        r#"switchboard_graphql_request_duration_seconds_bucket{operation_type="query",operation_name="Detail",outcome="ok",le="+Inf"} 2"#,
        "# TYPE switchboard_upstream_request_duration_seconds histogram",
        "# TYPE switchboard_dataloader_batch_size histogram",
        "# HELP switchboard_graphql_errors_total ",
        "switchboard_build_info{version=",
        "process_resident_memory_bytes ",
    ] {
        assert!(text.contains(present), "{present}\n{text}");
    }
    assert!(
        sample(&text, r#"switchboard_cache_weighted_bytes{cache="voice"}"#).is_some_and(|b| b > 0.0),
        "{text}"
    );
}

#[tokio::test]
async fn a_5xx_error_carries_the_request_id_the_response_header_has() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.request_timeout = std::time::Duration::from_millis(100);
    })
    .await;
    app.emulator
        .inject(Fault::always(FaultKind::Latency { millis: 3_000 }).on("/api/voice/logs/"));
    let ids = app.emulator.signalwire_voice_log_ids();
    let response = app
        .http()
        .post(&app.url)
        .json(&json!({"query": NODE, "variables": {"id": voice_id(&ids[0])}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UPSTREAM_TIMEOUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], id.as_str(), "{body}");
}

/// Opens SignalWire's circuit (one failure is enough here) and returns `/readyz`'s status.
async fn readyz_with_an_open_circuit(require_closed: bool) -> u16 {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.ready_requires_closed_circuits = require_closed;
        c.upstream.breaker_failures = 1;
        c.upstream.max_retries = 0;
    })
    .await;
    let ready = app.url.replace("/graphql", "/readyz");
    assert_eq!(app.http().get(&ready).send().await.unwrap().status(), 200);
    app.emulator.inject(Fault::always(FaultKind::Status {
        status: 503,
        retry_after_seconds: None,
    }));
    let ids = app.emulator.signalwire_voice_log_ids();
    let r = app.query(NODE, json!({"id": voice_id(&ids[0])})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "UPSTREAM_UNAVAILABLE", "{r}");
    app.http().get(&ready).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn readyz_turns_503_on_an_open_circuit_only_when_configured_to() {
    assert_eq!(readyz_with_an_open_circuit(true).await, 503);
    assert_eq!(readyz_with_an_open_circuit(false).await, 200);
}

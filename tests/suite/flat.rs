//! The flat path (`graphql/flat.rs`) renders plain shared fields of call logs without
//! async-graphql's per-field resolvers, for `node`, `nodes`, `callLog`, `callLogs` and
//! every provider connection, through inline and named fragments. It must answer exactly
//! what the resolvers answer: each query of a corpus runs as written and with its call
//! log selections under `@include(if: true)` (which the flat path leaves to the
//! resolvers), and the two bodies must be equal byte for byte.

use crate::common::*;
use serde_json::{Value, json};

/// Each query has `SEL(...)` around the selection of a call log; `plain` keeps the
/// selection, `resolved` puts it under a directive so async-graphql resolves it.
fn variants(query: &str) -> (String, String) {
    let mut plain = String::new();
    let mut resolved = String::new();
    let mut rest = query;
    while let Some(start) = rest.find("SEL(") {
        let (before, after) = rest.split_at(start);
        let after = &after[4..];
        let end = after.find(")END").expect("SEL(...)END");
        let selection = &after[..end];
        plain.push_str(before);
        plain.push_str(selection);
        resolved.push_str(before);
        resolved.push_str(&format!("... @include(if: true) {{ {selection} }}"));
        rest = &after[end + 4..];
    }
    plain.push_str(rest);
    resolved.push_str(rest);
    (plain, resolved)
}

/// Some ids of every provider's call logs, read through `callLogs`.
async fn some_ids(app: &TestApp) -> Vec<String> {
    let r = app
        .query("{ callLogs(first: 100) { edges { node { id } } } }", json!({}))
        .await;
    r["data"]["callLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_flat_path_answers_byte_for_byte_what_the_resolvers_answer() {
    let app = TestApp::in_memory().await;
    let ids = some_ids(&app).await;
    let providers: std::collections::HashSet<&str> = ids
        .iter()
        .map(|id| {
            let raw = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, id).unwrap();
            let text = String::from_utf8(raw).unwrap();
            if text.starts_with("SignalWire") {
                "signalwire"
            } else if text.starts_with("OneUptime") {
                "oneuptime"
            } else {
                "voximplant"
            }
        })
        .collect();
    assert_eq!(providers.len(), 3, "ids of every provider: {ids:?}");
    let shared = "__typename id provider nativeId from to direction status providerStatus createdAt startedAt endedAt durationSeconds";
    let corpus = [
        "{ node(id: $id) { SEL(... on SignalWireVoiceLog { id from to status createdAt })END } }".to_string(),
        format!("{{ node(id: $id) {{ SEL(... on CallLog {{ {shared} }})END }} }}"),
        format!("{{ node(id: $id) {{ SEL(id ... on CallLog {{ {shared} }} ... on Node {{ id }})END }} }}"),
        "{ node(id: $id) { SEL(id ... on OneUptimeCallLog { status } ... on SignalWireVoiceLog { from })END } }".to_string(),
        "query($id: ID!) { node(id: $id) { SEL(...F id)END } } fragment F on CallLog { status createdAt s: status }".into(),
        "{ node(id: $id) { SEL(id ... on VoximplantCallSession { status })END } }".into(),
        "{ node(id: $id) { SEL(id ... on CallLog { status } ... on SignalWireVoiceLog { durationMs })END } }".into(),
        format!("{{ callLog(id: $id) {{ SEL({shared})END }} }}"),
        format!("{{ nodes(ids: [$id, $id, \"bm9wZQ==\"]) {{ SEL(... on CallLog {{ {shared} }})END }} }}"),
        format!("{{ callLogs(first: 30) {{ pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ SEL({shared})END }} }} }} }}"),
        "{ callLogs(first: 30) { edges { node { SEL(...F)END } } } } fragment F on CallLog { id status }".into(),
        "{ signalWireVoiceLogs(first: 20) { pageInfo { hasNextPage endCursor } edges { cursor node { SEL(... on SignalWireVoiceLog { id from to status createdAt })END } } } }".into(),
        format!("{{ signalWireVideoLogs(first: 20) {{ edges {{ node {{ SEL({shared})END }} }} }} }}"),
        format!("{{ oneUptimeCallLogs(first: 20) {{ totalCount edges {{ cursor node {{ SEL({shared})END }} }} }} }}"),
        "{ oneUptimeCallLogs(first: 5) { edges { node { SEL(id callCostInUSDCents)END } } } }".into(),
        "{ signalWireVoiceLogs(first: 5) { nodes { SEL(id status)END } edges { node { SEL(id)END } } edges { cursor node { SEL(status)END } } } }".into(),
        "{ oneUptimeCallLogs(first: 5) { totalCount e: edges { node { SEL(... on OneUptimeCallLog { id createdAt })END } __typename } } }".into(),
        format!("{{ voximplantCallSessions(first: 20) {{ edges {{ node {{ SEL({shared} ... on VoximplantCallSession {{ id }})END }} }} }} }}"),
    ];
    for query in &corpus {
        let (plain, resolved) = variants(query);
        for id in ids.iter().step_by(7) {
            let with_vars = |q: &str| {
                if q.contains("$id") && !q.starts_with("query") {
                    format!("query($id: ID!) {q}")
                } else {
                    q.to_string()
                }
            };
            let a = app.query(&with_vars(&plain), json!({"id": id})).await;
            let b = app.query(&with_vars(&resolved), json!({"id": id})).await;
            assert!(a["data"] != Value::Null, "{plain}: {a}");
            assert_eq!(a.to_string(), b.to_string(), "{plain} with {id}");
            if !query.contains("$id") {
                break;
            }
        }
    }
}

//! Per-request DataLoaders and the tenant-scoped cache, proven by counting upstream
//! requests at the emulator (ARCHITECTURE.md, "Caching and batching").

use crate::common::voice_id;

use crate::common::*;
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

const NODES: &str = r#"query($ids: [ID!]!) { nodes(ids: $ids) { id ... on CallLog { nativeId status } } }"#;
const NODE: &str = r#"query($id: ID!) { node(id: $id) { id ... on CallLog { nativeId } } }"#;

#[tokio::test]
async fn nodes_with_50_ids_some_repeated_make_one_get_per_distinct_id_and_none_when_repeated() {
    let app = TestApp::in_memory().await;
    let natives: Vec<String> = app.emulator.signalwire_voice_log_ids().into_iter().take(40).collect();
    // 50 ids: 40 distinct, 10 repeats, in a scrambled order.
    let mut ids: Vec<String> = natives.iter().map(|n| voice_id(n)).collect();
    ids.extend(natives.iter().take(10).map(|n| voice_id(n)));
    ids.reverse();

    let r = app.query(NODES, json!({"ids": ids})).await;
    assert!(r["errors"].is_null(), "{r}");
    let got = node_ids(&r);
    assert_eq!(got, ids, "results come back in the requested order");
    assert_eq!(app.upstream(VOICE_GET), 40, "one GET per distinct id");

    let again = app.query(NODES, json!({"ids": ids})).await;
    assert_eq!(again["data"], r["data"]);
    assert_eq!(
        app.upstream(VOICE_GET),
        40,
        "the repeat is served from the cache: 0 upstream calls"
    );
}

#[tokio::test]
async fn opening_a_log_that_came_in_a_list_makes_no_upstream_call() {
    let app = TestApp::in_memory().await;
    let list = app.query(VOICE_PAGE, json!({"first": 10})).await;
    let edges = list["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().clone();
    let before = app.upstream_total();
    for edge in &edges {
        let id = edge["node"]["id"].clone();
        let r = app.query(NODE, json!({"id": id})).await;
        assert_eq!(r["data"]["node"]["id"], id);
    }
    let ids: Vec<Value> = edges.iter().map(|e| e["node"]["id"].clone()).collect();
    app.query(NODES, json!({"ids": ids})).await;
    assert_eq!(
        app.upstream_total(),
        before,
        "detail views of listed logs cost nothing upstream"
    );
}

#[tokio::test]
async fn unknown_and_non_uuid_ids_are_null_and_not_found_is_cached() {
    let app = TestApp::in_memory().await;
    let unknown = voice_id("00000000-0000-4000-8000-000000000000");
    let not_uuid = voice_id("not-a-uuid");
    let r = app.query(NODES, json!({"ids": [unknown, not_uuid]})).await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["nodes"], json!([null, null]));
    assert_eq!(app.upstream(VOICE_GET), 1, "the non-UUID id never goes upstream");
    app.query(NODE, json!({"id": unknown})).await;
    assert_eq!(app.upstream(VOICE_GET), 1, "not-found is cached");
}

#[tokio::test]
async fn malformed_global_ids_are_bad_user_input() {
    let app = TestApp::in_memory().await;
    for id in ["%%%", "U29tZXRoaW5nRWxzZToxMjM"] {
        let r = app.query(NODE, json!({"id": id})).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{id}: {r}");
    }
}

#[tokio::test]
async fn parent_logs_load_through_the_loader_and_cache() {
    let app = TestApp::in_memory().await;
    let query = r#"query($after: String) { signalWireVoiceLogs(first: 100, after: $after) {
        pageInfo { endCursor }
        edges { node { ... on SignalWireVoiceLog { nativeId parentId parent { nativeId } } } } } }"#;
    let r = app.query(query, json!({})).await;
    let edges = r["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap();
    let children: Vec<&Value> = edges.iter().filter(|e| !e["node"]["parentId"].is_null()).collect();
    assert!(!children.is_empty(), "the seeded data has child legs");
    for child in &children {
        assert_eq!(child["node"]["parent"]["nativeId"], child["node"]["parentId"]);
    }
    let gets = app.upstream(VOICE_GET);
    assert!(
        gets as usize <= children.len(),
        "at most one GET per parent not already cached"
    );
    app.query(query, json!({})).await;
    assert_eq!(app.upstream(VOICE_GET), gets, "parents are cached");
}

#[tokio::test]
async fn voice_log_events_are_fetched_once_and_cached() {
    let app = TestApp::in_memory().await;
    let query = r#"{ signalWireVoiceLogs(first: 3) { edges { node { ... on SignalWireVoiceLog {
        events { eventAt level providerLevel name details projectId logId } } } } } }"#;
    let r = app.query(query, json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
    let events = &r["data"]["signalWireVoiceLogs"]["edges"][0]["node"]["events"];
    assert!(events.as_array().unwrap().len() >= 2);
    assert_eq!(app.upstream(VOICE_EVENTS), 3);
    app.query(query, json!({})).await;
    assert_eq!(app.upstream(VOICE_EVENTS), 3);
}

#[tokio::test]
async fn two_tenants_do_not_share_cache_entries() {
    let app = TestApp::spawn_two_tenants().await;
    let id = voice_id(&app.emulator.signalwire_voice_log_ids()[0]);

    let a = app.query_with_key(NODE, json!({"id": id}), Some("alice-key")).await;
    let b = app.query_with_key(NODE, json!({"id": id}), Some("bob-key")).await;
    assert_eq!(a["data"], b["data"]);
    let stats = app.emulator.stats();
    assert_eq!(stats.credential("alice-project"), 1);
    assert_eq!(
        stats.credential("bob-project"),
        1,
        "bob's lookup did not reuse alice's cache entry"
    );

    app.query_with_key(NODE, json!({"id": id}), Some("alice-key")).await;
    app.query_with_key(NODE, json!({"id": id}), Some("bob-key")).await;
    assert_eq!(app.upstream_total(), 2, "each tenant's own entry serves its repeat");

    let anonymous = app.query(NODE, json!({"id": id})).await;
    assert_eq!(error_codes(&anonymous), ["UNAUTHENTICATED"]);
    let wrong = app.query_with_key(NODE, json!({"id": id}), Some("mallory-key")).await;
    assert_eq!(error_codes(&wrong), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn concurrent_misses_of_one_id_from_separate_requests_make_one_upstream_call() {
    let app = TestApp::in_memory().await;
    app.emulator.inject(Fault::always(FaultKind::Latency { millis: 100 }));
    let id = voice_id(&app.emulator.signalwire_voice_log_ids()[3]);
    let requests = (0..8).map(|_| app.query(NODE, json!({"id": id})));
    let responses = futures::future::join_all(requests).await;
    assert!(responses.iter().all(|r| r["data"]["node"]["id"] == id.as_str()));
    assert_eq!(
        app.upstream(VOICE_GET),
        1,
        "eight concurrent requests, one upstream GET"
    );
}

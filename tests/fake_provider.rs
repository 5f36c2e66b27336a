//! A fourth provider added by following README's "Adding a provider" and nothing else:
//! the `fake-provider` feature compiles `providers/fake`, `graphql/providers/fake.rs` and
//! `emulator/fake.rs` plus one line per list in the registries. Here it answers `node`,
//! `nodes` (through its DataLoader), its own connection `fakeCallLogs` (a filter,
//! `totalCount`) and `callLogs` beside OneUptime, through the shared cache and the
//! timeline: the whole contract a real provider uses.
//!
//! Run with `cargo test --features fake-provider --test fake_provider` (`.ci/run` does).
#![cfg(feature = "fake-provider")]

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard::emulator::EmulatorConfig;

const FAKE_LIST: &str = "GET /fake/v1/calls";
const FAKE_GET: &str = "GET /fake/v1/calls/{id}";
const FAKE_BATCH: &str = "GET /fake/v1/calls/batch";
const FAKE_COUNT: &str = "GET /fake/v1/calls/count";

const TIMELINE: &str = r#"query($first: Int, $after: String, $filter: CallLogFilter) {
  callLogs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { __typename id provider nativeId createdAt status } } } }"#;

const NODES: &str = r#"query($id: ID!, $ids: [ID!]!) {
  node(id: $id) { __typename id ... on CallLog { provider nativeId status durationSeconds from } }
  nodes(ids: $ids) { __typename ... on CallLog { provider nativeId } } }"#;

/// OneUptime (20 logs) and the fake (5 logs) for one tenant.
async fn spawn() -> TestApp {
    let emulator = EmulatorConfig {
        oneuptime_call_logs: 20,
        ..small_emulator()
    };
    TestApp::spawn_with(emulator, |config, emulator| {
        config.providers.signalwire = None;
        config.providers.voximplant = None;
        config.providers.fake = switchboard::emulator::demo_providers(&emulator.base_url()).fake;
    })
    .await
}

/// Every `callLogs` node, paging with `first`.
async fn all_call_logs(app: &TestApp, first: usize, filter: Value) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .query(TIMELINE, json!({ "first": first, "after": after, "filter": filter }))
            .await;
        assert!(page["errors"].is_null(), "{page}");
        let connection = &page["data"]["callLogs"];
        for edge in connection["edges"].as_array().expect("edges") {
            nodes.push(edge["node"].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return nodes;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

fn fake_ids(nodes: &[Value]) -> Vec<&str> {
    nodes
        .iter()
        .filter(|n| n["provider"] == "FAKE")
        .map(|n| n["nativeId"].as_str().expect("nativeId"))
        .collect()
}

#[tokio::test]
async fn the_fourth_provider_is_merged_into_call_logs_newest_first() {
    let app = spawn().await;
    let nodes = all_call_logs(&app, 100, json!({})).await;
    assert_eq!(nodes.len(), 25, "20 OneUptime logs and 5 fake ones");
    assert_eq!(fake_ids(&nodes), ["fk-5", "fk-4", "fk-3", "fk-2", "fk-1"]);
    assert!(
        nodes
            .iter()
            .filter(|n| n["provider"] == "FAKE")
            .all(|n| n["__typename"] == "FakeCallLog")
    );
    let times: Vec<&str> = nodes
        .iter()
        .map(|n| n["createdAt"].as_str().expect("createdAt"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert_eq!(app.upstream(FAKE_LIST), 1, "one page of the fake holds all five");
}

#[tokio::test]
async fn paging_with_the_fourth_provider_gives_one_sequence_for_any_page_size() {
    let app = spawn().await;
    let ids = |nodes: Vec<Value>| nodes.into_iter().map(|n| n["id"].clone()).collect::<Vec<_>>();
    let whole = ids(all_call_logs(&app, 100, json!({})).await);
    assert_eq!(whole.len(), 25);
    for first in [1, 7] {
        assert_eq!(
            ids(all_call_logs(&app, first, json!({})).await),
            whole,
            "first: {first}"
        );
    }
}

#[tokio::test]
async fn node_and_nodes_resolve_the_fourth_providers_ids_from_the_primed_cache() {
    let app = spawn().await;
    let listed = all_call_logs(&app, 100, json!({ "providers": ["FAKE"] })).await;
    assert_eq!(fake_ids(&listed), ["fk-5", "fk-4", "fk-3", "fk-2", "fk-1"]);
    assert_eq!(app.upstream(FAKE_LIST), 1);
    assert_eq!(
        app.upstream("POST /api/call-log/get-list"),
        0,
        "a filter on FAKE reads only the fake"
    );
    let id = |native: &str| listed.iter().find(|n| n["nativeId"] == native).expect("listed")["id"].clone();

    let response = app
        .query(NODES, json!({ "id": id("fk-4"), "ids": [id("fk-2"), id("fk-5")] }))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let node = &response["data"]["node"];
    assert_eq!(node["__typename"], "FakeCallLog");
    assert_eq!(
        (
            &node["provider"],
            &node["nativeId"],
            &node["status"],
            &node["durationSeconds"]
        ),
        (&json!("FAKE"), &json!("fk-4"), &json!("COMPLETED"), &json!(61))
    );
    assert_eq!(
        response["data"]["nodes"],
        json!([
            { "__typename": "FakeCallLog", "provider": "FAKE", "nativeId": "fk-2" },
            { "__typename": "FakeCallLog", "provider": "FAKE", "nativeId": "fk-5" },
        ])
    );
    assert_eq!(app.upstream(FAKE_GET), 0, "the listed page primed the by-id cache");
}

#[tokio::test]
async fn an_unknown_id_of_the_fourth_provider_is_null_after_one_upstream_read() {
    let app = spawn().await;
    let forged = switchboard::domain::encode_id(switchboard::providers::fake::CALL_LOG, "fk-9");
    for _ in 0..2 {
        let response = app.query(NODES, json!({ "id": forged, "ids": [forged] })).await;
        assert!(response["errors"].is_null(), "{response}");
        assert_eq!(response["data"]["node"], Value::Null);
        assert_eq!(response["data"]["nodes"], json!([null]));
    }
    assert_eq!(
        app.upstream(FAKE_BATCH),
        1,
        "one batch read, and a not-found answer is cached too"
    );
}

#[tokio::test]
async fn the_fourth_provider_applies_the_timelines_dates_upstream() {
    let app = spawn().await;
    let filter = json!({
        "providers": ["FAKE"],
        "createdAfter": "2026-06-01T00:00:00Z",
        "createdBefore": "2026-10-31T00:00:00Z",
    });
    let nodes = all_call_logs(&app, 2, filter).await;
    assert_eq!(fake_ids(&nodes), ["fk-4", "fk-3", "fk-2"]);
}

#[tokio::test]
async fn the_fourth_providers_own_connection_pages_its_filter_and_counts_once() {
    let app = spawn().await;
    let q = r#"query($first: Int, $after: String, $filter: FakeCallLogFilter) {
      fakeCallLogs(first: $first, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { nativeId } } } }"#;
    let filter = json!({ "createdAfter": "2026-06-01T00:00:00Z", "createdBefore": "2026-10-31T00:00:00Z" });
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app
            .query(q, json!({ "first": 2, "after": after, "filter": filter }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["fakeCallLogs"];
        assert_eq!(c["totalCount"], 3, "{r}");
        ids.extend(
            c["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["nativeId"].clone()),
        );
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(ids, [json!("fk-4"), json!("fk-3"), json!("fk-2")]);
    assert_eq!(app.upstream(FAKE_COUNT), 1, "the count is cached like a page");
}

#[tokio::test]
async fn ids_of_the_fourth_provider_not_yet_listed_load_in_one_batch() {
    let app = spawn().await;
    let id = |native: &str| switchboard::domain::encode_id(switchboard::providers::fake::CALL_LOG, native);
    let response = app
        .query(
            NODES,
            json!({ "id": id("fk-1"), "ids": [id("fk-3"), id("fk-5"), id("fk-1")] }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    assert_eq!(response["data"]["node"]["nativeId"], "fk-1");
    let natives: Vec<&Value> = response["data"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["nativeId"])
        .collect();
    assert_eq!(natives, [&json!("fk-3"), &json!("fk-5"), &json!("fk-1")]);
    assert_eq!(app.upstream(FAKE_BATCH), 1, "three ids, one batch read");
    assert_eq!(app.upstream(FAKE_GET) + app.upstream(FAKE_LIST), 0);
}

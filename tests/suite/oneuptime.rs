//! OneUptime end to end: keyset paging, filters pushed into OneUptime's `query`, batch
//! reads by id, `totalCount` via `/count`, and error classes.

use crate::common::voice_id;

use std::time::Duration;

use crate::common::*;
use base64::Engine;
use serde_json::{Value, json};
use switchboard::config::Secret;
use switchboard::emulator::{Fault, FaultKind, OneUptimeKey};

fn oneuptime_id(native: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("OneUptimeCallLog:{native}"))
}

/// The `get-list` bodies the emulator received since `from`.
fn list_bodies(app: &TestApp, from: usize) -> Vec<Value> {
    app.emulator.oneuptime_requests()[from..]
        .iter()
        .filter(|r| r["route"] == "get-list")
        .map(|r| r["body"].clone())
        .collect()
}

#[tokio::test]
async fn paging_with_first_1_7_and_100_yields_every_log_once_newest_first() {
    let app = TestApp::in_memory().await;
    let expected = app.emulator.oneuptime_call_log_ids();
    assert_eq!(expected.len(), 700);
    for first in [1, 7, 100] {
        let ids = page_all(&app, ONEUPTIME_PAGE, "oneUptimeCallLogs", first, json!({})).await;
        assert_eq!(ids, expected, "first = {first}");
    }
}

#[tokio::test]
async fn resuming_mid_page_reads_the_cached_upstream_page() {
    let app = TestApp::in_memory().await;
    // Upstream pages hold 50 logs: 9 GraphQL pages of 5 (plus the look-ahead item for
    // hasNextPage) stay inside the first one; the next page's look-ahead needs the second.
    let (ids, calls) = resume_pages_of_five(&app, ONEUPTIME_PAGE, "oneUptimeCallLogs", ONEUPTIME_LIST, 9).await;
    assert_eq!(calls, [1, 2], "one upstream page serves 9 GraphQL pages");
    let all = page_all(&app, ONEUPTIME_PAGE, "oneUptimeCallLogs", 100, json!({})).await;
    assert_eq!(ids, all[..50], "the resumed pages are the first 50 logs, in order");
}

#[tokio::test]
async fn logs_inserted_at_the_top_while_paging_shift_nothing_and_repeat_nothing() {
    // Pages expire at once, so every window asks OneUptime again and sees the inserts.
    let app = TestApp::in_memory_with(small_emulator(), |c, _| c.cache.page_ttl = Duration::ZERO).await;
    let expected = app.emulator.oneuptime_call_log_ids();
    let mut ids = Vec::new();
    let mut after = Value::Null;
    for page in 0.. {
        let r = app.query(ONEUPTIME_PAGE, json!({"first": 7, "after": after})).await;
        let conn = &r["data"]["oneUptimeCallLogs"];
        ids.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["nativeId"].as_str().unwrap().to_string()),
        );
        if page % 10 == 3 {
            app.emulator.insert_oneuptime_call_logs(13);
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(ids, expected, "the sequence that existed when paging began, once each");
    assert!(
        app.emulator.oneuptime_call_log_ids().len() > expected.len(),
        "inserts happened"
    );
}

#[tokio::test]
async fn every_filter_field_reaches_the_upstream_query_and_only_matching_rows_return() {
    let app = TestApp::in_memory().await;
    let q = r#"query($filter: OneUptimeCallLogFilter) { oneUptimeCallLogs(first: 100, filter: $filter) {
        totalCount edges { node { createdAt status from to ... on OneUptimeCallLog {
          providerStatus incidentId monitorId userId teamId } } } } }"#;
    // Values that exist in the data set, taken from an unfiltered page.
    let sample = app.query(q, json!({})).await;
    let nodes = sample["data"]["oneUptimeCallLogs"]["edges"].as_array().unwrap().clone();
    let pick = |field: &str| {
        nodes
            .iter()
            .find_map(|e| e["node"][field].as_str().map(str::to_string))
            .expect("a sample value")
    };
    let created = nodes[20]["node"]["createdAt"].as_str().unwrap().to_string();
    let older = nodes[60]["node"]["createdAt"].as_str().unwrap().to_string();
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({"statuses": ["LOW_BALANCE", "ERROR"]}),
            "status",
            json!({"_type": "Includes", "value": ["Error", "Low Balance"]}),
        ),
        (json!({"fromNumber": pick("from")}), "fromNumber", json!(pick("from"))),
        (json!({"toNumber": pick("to")}), "toNumber", json!(pick("to"))),
        (
            json!({"incidentId": pick("incidentId")}),
            "incidentId",
            json!(pick("incidentId")),
        ),
        (
            json!({"monitorId": pick("monitorId")}),
            "monitorId",
            json!(pick("monitorId")),
        ),
        (json!({"userId": pick("userId")}), "userId", json!(pick("userId"))),
        (json!({"teamId": pick("teamId")}), "teamId", json!(pick("teamId"))),
        (
            json!({"createdBefore": created}),
            "createdAt",
            // Exclusive on the printed millisecond: OneUptime stores microseconds.
            json!({"_type": "LessThan"}),
        ),
        (
            json!({"createdAfter": older}),
            "createdAt",
            json!({"_type": "GreaterThanOrEqual"}),
        ),
        (
            json!({"createdAfter": older, "createdBefore": created}),
            "createdAt",
            json!({"_type": "InBetween"}),
        ),
    ];
    for (filter, column, upstream) in cases {
        let before = app.emulator.oneuptime_requests().len();
        let r = app.query(q, json!({"filter": filter})).await;
        assert!(r["errors"].is_null(), "{filter}: {r}");
        let sent = &list_bodies(&app, before)[0]["query"][column];
        if let Some(op) = upstream.get("_type").filter(|_| upstream.get("value").is_none()) {
            assert_eq!(&sent["_type"], op, "{filter}: sent {sent}");
        } else {
            assert_eq!(sent, &upstream, "{filter}");
        }
        let conn = &r["data"]["oneUptimeCallLogs"];
        let edges = conn["edges"].as_array().unwrap();
        assert!(!edges.is_empty(), "{filter} matches something");
        assert!(conn["totalCount"].as_u64().unwrap() as usize >= edges.len());
        for e in edges {
            let n = &e["node"];
            let ok = match column {
                "status" => n["status"] == "FAILED",
                "fromNumber" => n["from"] == filter["fromNumber"],
                "toNumber" => n["to"] == filter["toNumber"],
                "createdAt" => {
                    let t = n["createdAt"].as_str().unwrap();
                    filter["createdAfter"].as_str().is_none_or(|a| t > a)
                        && filter["createdBefore"].as_str().is_none_or(|b| t < b)
                }
                field => n[field] == filter[field],
            };
            assert!(ok, "{filter}: row {n} does not match");
        }
    }
}

#[tokio::test]
async fn the_whole_filtered_set_matches_the_filtered_full_list() {
    let app = TestApp::in_memory().await;
    let q = r#"query($after: String, $filter: OneUptimeCallLogFilter) { oneUptimeCallLogs(first: 100, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { nativeId status } } } }"#;
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app.query(q, json!({"after": after})).await;
        let c = &r["data"]["oneUptimeCallLogs"];
        all.extend(c["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = all
        .iter()
        .filter(|n| n["status"] == "FAILED")
        .map(|n| n["nativeId"].as_str().unwrap().to_string())
        .collect();
    let got = page_all(
        &app,
        ONEUPTIME_PAGE,
        "oneUptimeCallLogs",
        7,
        json!({"statuses": ["ERROR", "LOW_BALANCE"]}),
    )
    .await;
    assert_eq!(got, expected);
    let r = app
        .query(q, json!({"filter": {"statuses": ["ERROR", "LOW_BALANCE"]}}))
        .await;
    assert_eq!(
        r["data"]["oneUptimeCallLogs"]["totalCount"].as_u64().unwrap() as usize,
        expected.len()
    );
}

#[tokio::test]
async fn total_count_asks_count_only_when_selected() {
    let app = TestApp::in_memory().await;
    app.query(ONEUPTIME_PAGE, json!({"first": 5})).await;
    assert_eq!(app.upstream(ONEUPTIME_COUNT), 0);
    let r = app
        .query("{ oneUptimeCallLogs(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(r["data"]["oneUptimeCallLogs"]["totalCount"], 700);
    assert_eq!(app.upstream(ONEUPTIME_COUNT), 1);
}

#[tokio::test]
async fn nodes_with_50_oneuptime_ids_make_exactly_one_upstream_call_and_none_when_repeated() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        c.providers.oneuptime.as_mut().unwrap().page_size = 100
    })
    .await;
    let ids: Vec<String> = app
        .emulator
        .oneuptime_call_log_ids()
        .iter()
        .rev()
        .take(50)
        .map(|n| oneuptime_id(n))
        .collect();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let r = app.query(q, json!({"ids": ids})).await;
    assert!(r["errors"].is_null(), "{r}");
    let got = node_ids(&r);
    assert_eq!(got, ids);
    assert_eq!(app.upstream(ONEUPTIME_LIST), 1, "one get-list with _id Includes");
    assert_eq!(app.upstream(ONEUPTIME_ITEM), 0);
    let body = &list_bodies(&app, 0)[0];
    assert_eq!(body["query"]["_id"]["_type"], "Includes");
    assert_eq!(body["query"]["_id"]["value"].as_array().unwrap().len(), 50);
    assert_eq!(body["select"]["callCostInUSDCents"], true, "every column is selected");
    app.query(q, json!({"ids": ids})).await;
    assert_eq!(app.upstream_total(), 1, "the repeat costs nothing upstream");
}

#[tokio::test]
async fn a_single_id_uses_get_item_and_unknown_ids_are_null() {
    let app = TestApp::in_memory().await;
    let known = oneuptime_id(&app.emulator.oneuptime_call_log_ids()[5]);
    let unknown = oneuptime_id("00000000-0000-4000-8000-000000000000");
    let q = "query($id: ID!) { node(id: $id) { id ... on OneUptimeCallLog { projectId callData } } }";
    let r = app.query(q, json!({"id": known})).await;
    assert_eq!(r["data"]["node"]["id"], known.as_str());
    assert!(r["data"]["node"]["callData"]["message"].is_string());
    let r = app.query(q, json!({"id": unknown})).await;
    assert!(r["errors"].is_null() && r["data"]["node"].is_null(), "{r}");
    assert_eq!(app.upstream(ONEUPTIME_ITEM), 2);
    app.query(q, json!({"id": unknown})).await;
    assert_eq!(app.upstream(ONEUPTIME_ITEM), 2, "not-found is cached");
}

#[tokio::test]
async fn mixed_provider_ids_come_back_in_order_with_one_batch_per_provider() {
    let app = TestApp::in_memory().await;
    let ou: Vec<String> = app
        .emulator
        .oneuptime_call_log_ids()
        .iter()
        .skip(100)
        .take(5)
        .map(|n| oneuptime_id(n))
        .collect();
    let sw: Vec<String> = app
        .emulator
        .signalwire_voice_log_ids()
        .iter()
        .skip(100)
        .take(5)
        .map(|n| voice_id(n))
        .collect();
    let ids: Vec<String> = ou.iter().zip(&sw).flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
    let r = app
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }",
            json!({"ids": ids}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let nodes = r["data"]["nodes"].as_array().unwrap();
    let got: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids);
    assert_eq!(nodes[0]["__typename"], "OneUptimeCallLog");
    assert_eq!(app.upstream(ONEUPTIME_LIST), 1, "OneUptime: one batch read");
    assert_eq!(
        app.upstream(VOICE_GET),
        5,
        "SignalWire has no batch read: one GET per id"
    );
}

#[tokio::test]
async fn list_pages_prime_the_by_id_cache() {
    let app = TestApp::in_memory().await;
    let r = app.query(ONEUPTIME_PAGE, json!({"first": 10})).await;
    let ids: Vec<Value> = r["data"]["oneUptimeCallLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    let before = app.upstream_total();
    app.query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({"ids": ids}))
        .await;
    assert_eq!(app.upstream_total(), before);
}

#[tokio::test]
async fn invalid_filter_ids_are_bad_user_input() {
    let app = TestApp::in_memory().await;
    let r = app
        .query(ONEUPTIME_PAGE, json!({"filter": {"incidentId": "not-a-uuid"}}))
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"]);
    assert_eq!(app.upstream_total(), 0);
}

async fn oneuptime_error(tweak: impl FnOnce(&mut switchboard::Config), fault: Option<FaultKind>) -> Value {
    let mut emulator = small_emulator();
    emulator.oneuptime_api_keys.push(OneUptimeKey {
        key: "9b2f7d4e-1111-4222-8333-444455556666".into(),
        can_read: false,
    });
    let app = TestApp::in_memory_with(emulator, |c, _| {
        c.upstream.max_retries = 0;
        tweak(c);
    })
    .await;
    if let Some(kind) = fault {
        app.emulator.inject(Fault::always(kind));
    }
    let r = app.query(ONEUPTIME_PAGE, json!({"first": 5})).await;
    assert_eq!(r["errors"][0]["extensions"]["provider"], "ONEUPTIME", "{r}");
    let text = r.to_string();
    for leak in ["Invalid API Key", "permissions", "Limit", "Server Error", "127.0.0.1"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    r
}

#[tokio::test]
async fn error_classes_map_to_codes_without_leaking_upstream_text() {
    let unknown_key = oneuptime_error(
        |c| c.providers.oneuptime.as_mut().unwrap().api_key = Secret::new("1b2f7d4e-1111-4222-8333-444455556666"),
        None,
    )
    .await;
    assert_eq!(
        error_codes(&unknown_key),
        ["UPSTREAM_UNAUTHORIZED"],
        "400 Invalid API Key"
    );
    let malformed_key = oneuptime_error(
        |c| c.providers.oneuptime.as_mut().unwrap().api_key = Secret::new("not-a-key"),
        None,
    )
    .await;
    assert_eq!(error_codes(&malformed_key), ["UPSTREAM_UNAUTHORIZED"]);
    let no_permission = oneuptime_error(
        |c| c.providers.oneuptime.as_mut().unwrap().api_key = Secret::new("9b2f7d4e-1111-4222-8333-444455556666"),
        None,
    )
    .await;
    assert_eq!(
        error_codes(&no_permission),
        ["UPSTREAM_UNAUTHORIZED"],
        "422 missing permission"
    );
    let missing = oneuptime_error(
        |_| {},
        Some(FaultKind::Status {
            status: 401,
            retry_after_seconds: None,
        }),
    )
    .await;
    assert_eq!(error_codes(&missing), ["UPSTREAM_UNAUTHORIZED"]);
    let bad_request = oneuptime_error(
        |_| {},
        Some(FaultKind::Status {
            status: 400,
            retry_after_seconds: None,
        }),
    )
    .await;
    assert_eq!(error_codes(&bad_request), ["UPSTREAM_BAD_RESPONSE"]);
    let limited = oneuptime_error(
        |_| {},
        Some(FaultKind::Status {
            status: 429,
            retry_after_seconds: Some(60),
        }),
    )
    .await;
    assert_eq!(error_codes(&limited), ["UPSTREAM_RATE_LIMITED"]);
    let down = oneuptime_error(
        |_| {},
        Some(FaultKind::Status {
            status: 500,
            retry_after_seconds: None,
        }),
    )
    .await;
    assert_eq!(error_codes(&down), ["UPSTREAM_UNAVAILABLE"]);
    let garbage = oneuptime_error(|_| {}, Some(FaultKind::Malformed)).await;
    assert_eq!(error_codes(&garbage), ["UPSTREAM_BAD_RESPONSE"]);
}

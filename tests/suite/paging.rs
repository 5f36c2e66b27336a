//! Cursor paging of the SignalWire connections, end to end against the emulator.

use crate::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn paging_voice_logs_with_first_1_7_and_100_yields_every_log_once_newest_first() {
    let app = TestApp::in_memory().await;
    let expected = app.emulator.signalwire_voice_log_ids();
    let filter = json!({"includeDeleted": true});
    for first in [1, 7, 100] {
        let ids = page_all(&app, VOICE_PAGE, "signalWireVoiceLogs", first, filter.clone()).await;
        assert_eq!(ids.len(), expected.len(), "first = {first}");
        assert_eq!(
            ids, expected,
            "first = {first}: same logs in the same (newest first) order"
        );
    }
}

#[tokio::test]
async fn created_at_never_increases_and_deleted_logs_only_come_when_asked() {
    let app = TestApp::in_memory().await;
    let query = r#"query($after: String, $filter: SignalWireLogFilter) {
      signalWireVoiceLogs(first: 100, after: $after, filter: $filter) {
        pageInfo { hasNextPage endCursor } edges { node { createdAt status __typename } } } }"#;
    let mut after = Value::Null;
    let mut previous: Option<String> = None;
    let mut deleted = 0;
    loop {
        let r = app.query(query, json!({"after": after})).await;
        let conn = &r["data"]["signalWireVoiceLogs"];
        for edge in conn["edges"].as_array().unwrap() {
            let created = edge["node"]["createdAt"].as_str().unwrap().to_string();
            if let Some(p) = &previous {
                assert!(created <= *p, "{created} after {p}");
            }
            previous = Some(created);
            if edge["node"]["status"] == "DELETED" {
                deleted += 1;
            }
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(deleted, 0, "no DiscardedCallLog without includeDeleted");
    let with_deleted = page_all(
        &app,
        VOICE_PAGE,
        "signalWireVoiceLogs",
        100,
        json!({"includeDeleted": true}),
    )
    .await;
    let without = page_all(&app, VOICE_PAGE, "signalWireVoiceLogs", 100, json!({})).await;
    assert!(with_deleted.len() > without.len(), "the seeded data has deleted logs");
}

#[tokio::test]
async fn video_logs_page_through_relative_next_links() {
    let app = TestApp::in_memory().await;
    let seven = page_all(
        &app,
        VIDEO_PAGE,
        "signalWireVideoLogs",
        7,
        json!({"includeDeleted": true}),
    )
    .await;
    let hundred = page_all(
        &app,
        VIDEO_PAGE,
        "signalWireVideoLogs",
        100,
        json!({"includeDeleted": true}),
    )
    .await;
    assert_eq!(seven.len(), 120);
    assert_eq!(seven, hundred);
}

#[tokio::test]
async fn resuming_mid_page_reads_the_cached_upstream_page() {
    let app = TestApp::in_memory().await;
    // Upstream pages hold 50 logs. Nine GraphQL pages of 5 (plus the one-item look-ahead
    // for hasNextPage) stay inside the first upstream page; the tenth's look-ahead needs
    // the next one.
    let (ids, calls) = resume_pages_of_five(&app, VOICE_PAGE, "signalWireVoiceLogs", VOICE_LIST, 9).await;
    assert_eq!(calls, [1, 2], "one upstream page serves nine GraphQL pages");
    let all = page_all(&app, VOICE_PAGE, "signalWireVoiceLogs", 100, json!({})).await;
    assert_eq!(ids, all[..50], "the resumed pages are the first 50 logs, in order");
}

#[tokio::test]
async fn created_filters_are_pushed_upstream_and_respected() {
    let app = TestApp::in_memory().await;
    let all = app.query(VOICE_PAGE, json!({"first": 100})).await;
    let edges = all["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap();
    let newest = edges[0]["node"]["createdAt"].as_str().unwrap().to_string();
    let tenth = edges[9]["node"]["createdAt"].as_str().unwrap().to_string();
    let filter = json!({"createdAfter": tenth, "createdBefore": newest});
    let r = app.query(VOICE_PAGE, json!({"first": 100, "filter": filter})).await;
    let got: Vec<&str> = r["data"]["signalWireVoiceLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["createdAt"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 8, "strictly between the 10th and the newest: {got:?}");
    assert!(got.iter().all(|t| *t > tenth.as_str() && *t < newest.as_str()));
}

#[tokio::test]
async fn created_on_returns_exactly_the_logs_of_that_utc_day() {
    let app = TestApp::in_memory().await;
    let query = r#"query($after: String, $filter: SignalWireLogFilter) {
      signalWireVoiceLogs(first: 100, after: $after, filter: $filter) {
        pageInfo { hasNextPage endCursor } edges { node { nativeId createdAt } } } }"#;
    let mut all: Vec<(String, String)> = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app.query(query, json!({"after": after})).await;
        let connection = &r["data"]["signalWireVoiceLogs"];
        for e in connection["edges"].as_array().unwrap() {
            let node = &e["node"];
            all.push((
                node["nativeId"].as_str().unwrap().into(),
                node["createdAt"].as_str().unwrap().into(),
            ));
        }
        if !connection["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let day = all[all.len() / 2].1[..10].to_string();
    let expected: Vec<String> = all
        .iter()
        .filter(|(_, t)| t.starts_with(&day))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        expected.len() > 1 && expected.len() < all.len(),
        "a day with some but not all logs"
    );

    let before = app.upstream("GET /api/voice/logs");
    let got = page_all(&app, VOICE_PAGE, "signalWireVoiceLogs", 7, json!({"createdOn": day})).await;
    assert_eq!(got, expected, "every log of {day}, newest first, and no other");
    let calls = app.upstream("GET /api/voice/logs") - before;
    assert!(
        calls <= expected.len().div_ceil(50) as u64 + 1,
        "the day is filtered upstream, not by scanning every log: {calls} calls"
    );
}

#[tokio::test]
async fn first_outside_1_to_100_is_bad_user_input() {
    let app = TestApp::in_memory().await;
    for first in [0, -1, 101] {
        let r = app.query(VOICE_PAGE, json!({"first": first})).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "first = {first}: {r}");
    }
    assert_eq!(app.upstream_total(), 0, "rejected before any upstream call");
    let r = app.query(VOICE_PAGE, json!({})).await;
    assert_eq!(
        r["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().len(),
        20,
        "default page size"
    );
}

#[tokio::test]
async fn tampered_cursors_and_cursors_reused_with_another_filter_are_bad_user_input() {
    let app = TestApp::in_memory().await;
    let r = app.query(VOICE_PAGE, json!({"first": 3})).await;
    let cursor = r["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_string();

    let mut tampered = cursor.clone().into_bytes();
    let i = tampered.len() - 4;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "garbage", ""] {
        let r = app.query(VOICE_PAGE, json!({"first": 3, "after": bad})).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "cursor {bad:?}: {r}");
    }
    let other_filter = json!({"includeDeleted": true});
    let r = app
        .query(VOICE_PAGE, json!({"first": 3, "after": cursor, "filter": other_filter}))
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    let r = app.query(VIDEO_PAGE, json!({"first": 3, "after": cursor})).await;
    assert_eq!(
        error_codes(&r),
        ["BAD_USER_INPUT"],
        "a voice cursor on the video connection: {r}"
    );
    let ok = app.query(VOICE_PAGE, json!({"first": 3, "after": cursor})).await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(ok["data"]["signalWireVoiceLogs"]["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn with_the_cache_on_a_list_reads_whole_configured_pages_and_serves_the_next_window_from_them() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        c.providers
            .signalwire
            .as_mut()
            .expect("signalwire configured")
            .page_size = 100;
    })
    .await;
    let head = app.query(VOICE_PAGE, json!({"first": 20})).await;
    let after = head["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    let next = app.query(VOICE_PAGE, json!({"first": 20, "after": after})).await;
    assert_eq!(
        next["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().len(),
        20
    );
    assert_eq!(
        app.emulator.signalwire_page_sizes(),
        vec![100],
        "the second window came from the cached page of 100"
    );
}

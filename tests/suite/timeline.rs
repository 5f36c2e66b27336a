//! `callLogs`, the merged timeline, end to end against every emulated provider.

use std::collections::HashSet;

use crate::common::*;
use serde_json::{Value, json};
use switchboard::emulator::{EmulatorConfig, Fault, FaultKind};

const TIMELINE: &str = r#"query($first: Int, $after: String, $filter: CallLogFilter) {
  callLogs(first: $first, after: $after, filter: $filter) {
    scanCut catchingUp pageInfo { hasNextPage endCursor }
    edges { node { id provider createdAt direction status from to } } } }"#;

fn sized() -> EmulatorConfig {
    EmulatorConfig {
        signalwire_voice_logs: 150,
        signalwire_video_logs: 40,
        oneuptime_call_logs: 150,
        voximplant_sessions: 150,
        voximplant_audit_entries: 10,
        ..small_emulator()
    }
}

/// Pages `callLogs` to the end; returns every node. Errors are returned, not asserted.
async fn page_timeline(app: &TestApp, first: i64, filter: Value) -> (Vec<Value>, Vec<Value>) {
    let (mut nodes, mut errors, mut after) = (Vec::new(), Vec::new(), Value::Null);
    loop {
        let r = app
            .query(TIMELINE, json!({"first": first, "after": after, "filter": filter}))
            .await;
        if let Some(e) = r["errors"].as_array() {
            errors.extend(e.iter().cloned());
        }
        let c = &r["data"]["callLogs"];
        let edges = c["edges"].as_array().unwrap_or_else(|| panic!("no edges: {r}"));
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (nodes, errors);
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

/// Every per-provider connection paged, as global ids.
async fn union_of_providers(app: &TestApp) -> HashSet<String> {
    let mut ids = HashSet::new();
    for (query, field) in [
        ("signalWireVoiceLogs", "signalWireVoiceLogs"),
        ("signalWireVideoLogs", "signalWireVideoLogs"),
        ("oneUptimeCallLogs", "oneUptimeCallLogs"),
        ("voximplantCallSessions", "voximplantCallSessions"),
    ] {
        let q = format!(
            "query($after: String) {{ {query}(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id }} }} }} }}"
        );
        let mut after = Value::Null;
        loop {
            let r = app.query(&q, json!({"after": after})).await;
            let c = &r["data"][field];
            ids.extend(edge_ids(c));
            if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
        }
    }
    ids
}

/// The global ids of a connection's edges, in order.
fn edge_ids(connection: &Value) -> Vec<String> {
    let edges = connection["edges"].as_array().expect("edges");
    edges
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes.iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn paging_the_whole_timeline_with_first_1_7_and_100_yields_every_log_once_newest_first() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let union = union_of_providers(&app).await;
    assert_eq!(union.len(), 150 + 40 + 150 + 150 - deleted(&app).await);
    let mut sequences = Vec::new();
    for first in [1, 7, 100] {
        let (nodes, errors) = page_timeline(&app, first, json!({})).await;
        assert!(errors.is_empty(), "{errors:?}");
        let got = ids(&nodes);
        assert_eq!(got.len(), union.len(), "first = {first}: every log once");
        assert_eq!(got.iter().cloned().collect::<HashSet<_>>(), union, "first = {first}");
        let times: Vec<&str> = nodes.iter().map(|n| n["createdAt"].as_str().unwrap()).collect();
        let parsed: Vec<chrono::DateTime<chrono::FixedOffset>> = times
            .iter()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
            .collect();
        assert!(
            parsed.windows(2).all(|w| w[0] >= w[1]),
            "first = {first}: createdAt never increases"
        );
        sequences.push(got);
    }
    assert_eq!(sequences[0], sequences[1]);
    assert_eq!(sequences[1], sequences[2]);
}

/// Deleted SignalWire logs are not in the timeline (nor in the default connections).
async fn deleted(app: &TestApp) -> usize {
    let q = r#"query($after: String) { signalWireVoiceLogs(first: 100, after: $after, filter: {includeDeleted: true}) {
        pageInfo { hasNextPage endCursor } edges { node { status } } } }"#;
    let q2 = q.replace("signalWireVoiceLogs", "signalWireVideoLogs");
    let mut n = 0;
    for (q, field) in [(q.to_string(), "signalWireVoiceLogs"), (q2, "signalWireVideoLogs")] {
        let mut after = Value::Null;
        loop {
            let r = app.query(&q, json!({"after": after})).await;
            let c = &r["data"][field];
            n += c["edges"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["node"]["status"] == "DELETED")
                .count();
            if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
        }
    }
    n
}

#[tokio::test]
async fn each_filter_returns_exactly_the_matching_logs_of_the_whole_data_set() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let (all, _) = page_timeline(&app, 100, json!({})).await;
    let number = all.iter().find(|n| n["provider"] == "ONEUPTIME").unwrap()["from"]
        .as_str()
        .unwrap()
        .to_string();
    let after = all[200]["createdAt"].as_str().unwrap().to_string();
    let before = all[40]["createdAt"].as_str().unwrap().to_string();
    let t = |n: &Value| chrono::DateTime::parse_from_rfc3339(n["createdAt"].as_str().unwrap()).unwrap();
    let (lo, hi) = (
        chrono::DateTime::parse_from_rfc3339(&after).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&before).unwrap(),
    );
    type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(Value, Keep)> = vec![
        (
            json!({"providers": ["ONEUPTIME", "VOXIMPLANT"]}),
            Box::new(|n| n["provider"] == "ONEUPTIME" || n["provider"] == "VOXIMPLANT"),
        ),
        (
            json!({"directions": ["INBOUND"]}),
            Box::new(|n| n["direction"] == "INBOUND"),
        ),
        (
            json!({"statuses": ["COMPLETED", "FAILED"]}),
            Box::new(|n| n["status"] == "COMPLETED" || n["status"] == "FAILED"),
        ),
        (
            json!({"statuses": ["NO_ANSWER"]}),
            Box::new(|n| n["status"] == "NO_ANSWER"),
        ),
        (
            json!({"number": number}),
            Box::new(|n| n["from"] == number.as_str() || n["to"] == number.as_str()),
        ),
        (
            json!({"createdAfter": after, "createdBefore": before}),
            Box::new(move |n| t(n) > lo && t(n) < hi),
        ),
    ];
    for (filter, keep) in cases {
        let expected: Vec<String> = ids(&all.iter().filter(|n| keep(n)).cloned().collect::<Vec<_>>());
        assert!(!expected.is_empty(), "{filter} matches something");
        for first in [7, 100] {
            let (got, errors) = page_timeline(&app, first, filter.clone()).await;
            assert!(errors.is_empty(), "{filter}: {errors:?}");
            assert_eq!(ids(&got), expected, "{filter}, first = {first}");
        }
    }
}

#[tokio::test]
async fn a_failing_provider_gives_partial_data_then_paging_resumes_without_gap_or_duplicate() {
    let app = TestApp::in_memory_with(sized(), |c, _| c.upstream.max_retries = 0).await;
    let (all, _) = page_timeline(&app, 100, json!({})).await;
    let app_fresh = TestApp::in_memory_with(sized(), |c, _| c.upstream.max_retries = 0).await;
    app_fresh.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/call-log"),
    );
    let first = app_fresh.query(TIMELINE, json!({"first": 20})).await;
    let codes = error_codes(&first);
    assert_eq!(codes, ["UPSTREAM_UNAVAILABLE"], "{first}");
    assert_eq!(first["errors"][0]["extensions"]["provider"], "ONEUPTIME");
    let page = first["data"]["callLogs"]["edges"].as_array().unwrap();
    assert_eq!(page.len(), 20, "the other providers still fill the page");
    assert!(page.iter().all(|e| e["node"]["provider"] != "ONEUPTIME"));
    app_fresh.emulator.clear_faults();
    let mut seen: Vec<String> = page
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(first["data"]["callLogs"]["catchingUp"], json!([]));
    let mut after = first["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let at = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["node"]["createdAt"].as_str().unwrap()).unwrap();
    let mut last_at = at(page.last().unwrap());
    let mut flagged_pages = 0;
    loop {
        let r = app_fresh.query(TIMELINE, json!({"first": 20, "after": after})).await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["callLogs"];
        let edges = c["edges"].as_array().unwrap();
        let late: Vec<&Value> = edges.iter().filter(|e| at(e) > last_at).collect();
        if late.is_empty() {
            assert_eq!(c["catchingUp"], json!([]), "a page in order says nothing");
        } else {
            flagged_pages += 1;
            assert!(
                late.iter().all(|e| e["node"]["provider"] == "ONEUPTIME"),
                "only the recovered provider is late"
            );
            assert_eq!(
                c["catchingUp"],
                json!(["ONEUPTIME"]),
                "a page with late items names their provider"
            );
        }
        if let Some(e) = edges.last() {
            last_at = at(e);
        }
        seen.extend(edge_ids(c));
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert!(flagged_pages > 0, "the recovered provider's late items were flagged");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicate");
    assert_eq!(unique, ids(&all).iter().collect::<HashSet<_>>(), "no gap");
}

#[tokio::test]
async fn upstream_calls_per_100_items_are_bounded() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let (nodes, _) = page_timeline(&app, 100, json!({})).await;
    let listed = nodes.len();
    let calls = app.upstream_total();
    let per_100 = calls as f64 * 100.0 / nodes.len() as f64;
    println!(
        "callLogs: {} items, {calls} upstream calls, {per_100:.1} per 100 items",
        nodes.len()
    );
    // Each upstream page is read once: SignalWire voice 150 / 50 = 3 pages, video 40 / 50 =
    // 1, OneUptime 150 / 50 = 3 plus the empty one that ends it, Voximplant 150 / 100 = 2.
    assert_eq!(calls, 10, "each upstream page once");
    assert!(per_100 <= 2.5, "{per_100:.1} upstream calls per 100 items");
    let before = app.upstream_total();
    page_timeline(&app, 100, json!({})).await;
    assert_eq!(app.upstream_total(), before, "paging again within the page TTL is free");
    // Small pages resume inside the cached upstream pages: the same upstream calls.
    let small = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let (nodes, _) = page_timeline(&small, 7, json!({})).await;
    assert_eq!(nodes.len(), listed, "pages of 7 list what pages of 100 list");
    assert_eq!(
        small.upstream_total(),
        calls,
        "pages of 7 read each upstream page once too"
    );
}

#[tokio::test]
async fn pages_cut_by_the_scan_bound_say_so_and_paging_on_still_finds_exactly_the_matches() {
    // A tiny bound forces cuts: the number only appears in some OneUptime logs.
    let app = TestApp::in_memory_with(sized(), |c, _| c.graphql.timeline_scan_bound = 15).await;
    let full = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let (all, _) = page_timeline(&full, 100, json!({})).await;
    let number = all.iter().find(|n| n["provider"] == "ONEUPTIME").unwrap()["from"]
        .as_str()
        .unwrap()
        .to_string();
    let expected: Vec<String> = ids(&all
        .iter()
        .filter(|n| n["from"] == number.as_str() || n["to"] == number.as_str())
        .cloned()
        .collect::<Vec<_>>());
    let filter = json!({"number": number});
    let (mut got, mut after, mut cut_pages, mut empty_cut_pages) = (Vec::new(), Value::Null, 0, 0);
    loop {
        let r = app
            .query(TIMELINE, json!({"first": 10, "after": after, "filter": filter}))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["callLogs"];
        if c["scanCut"] == true {
            cut_pages += 1;
            assert_eq!(
                r["extensions"]["timelineScanCut"], true,
                "the response says the scan was cut: {r}"
            );
            assert_eq!(c["pageInfo"]["hasNextPage"], true, "a cut page always has a next page");
            assert!(
                c["pageInfo"]["endCursor"].is_string(),
                "a cut page can be paged on, even empty: {r}"
            );
            empty_cut_pages += usize::from(c["edges"].as_array().unwrap().is_empty());
        } else {
            assert!(r["extensions"]["timelineScanCut"].is_null());
        }
        got.extend(edge_ids(c));
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert!(
        cut_pages > 0 && empty_cut_pages > 0,
        "the bound was hit, also on pages with no match"
    );
    assert_eq!(got, expected, "every match once, in order, despite the cuts");
}

const COUNTED: &str = r#"query($filter: CallLogFilter) {
  callLogs(first: 5, filter: $filter) { totalCount edges { node { id } } } }"#;

#[tokio::test]
async fn total_count_is_the_sum_of_cheap_provider_counts_and_null_when_one_cannot_count() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let (everything, _) = page_timeline(&app, 100, json!({})).await;
    let middle = everything[everything.len() / 2]["createdAt"].clone();
    let number = everything.iter().find(|n| n["provider"] == "ONEUPTIME").unwrap()["from"].clone();
    for filter in [
        json!({"providers": ["ONEUPTIME", "VOXIMPLANT"]}),
        json!({"providers": ["ONEUPTIME", "VOXIMPLANT"], "createdAfter": middle}),
        json!({"providers": ["ONEUPTIME"], "statuses": ["COMPLETED", "FAILED"]}),
    ] {
        let (matching, _) = page_timeline(&app, 100, filter.clone()).await;
        let before = (app.upstream("POST /api/call-log/count"), app.upstream_total());
        let r = app.query(COUNTED, json!({"filter": filter})).await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(r["data"]["callLogs"]["totalCount"], matching.len(), "{filter}");
        assert_eq!(
            app.upstream("POST /api/call-log/count"),
            before.0 + 1,
            "one OneUptime count: {filter}"
        );
        let voximplant = usize::from(filter["providers"].as_array().unwrap().len() == 2);
        assert_eq!(
            app.upstream_total(),
            before.1 + 1 + voximplant as u64,
            "one count per provider: {filter}"
        );
    }
    for filter in [
        json!({}),
        json!({"providers": ["SIGNALWIRE", "ONEUPTIME"]}),
        json!({"providers": ["ONEUPTIME"], "number": number}),
        json!({"providers": ["ONEUPTIME"], "directions": ["INBOUND"]}),
        json!({"providers": ["VOXIMPLANT"], "statuses": ["COMPLETED"]}),
        json!({"providers": ["ONEUPTIME"], "statuses": ["COMPLETED", "UNKNOWN"]}),
    ] {
        let counts = app.upstream("POST /api/call-log/count");
        let r = app.query(COUNTED, json!({"filter": filter})).await;
        assert!(r["errors"].is_null(), "{r}");
        assert!(r["data"]["callLogs"]["totalCount"].is_null(), "{filter}: {r}");
        assert_eq!(
            app.upstream("POST /api/call-log/count"),
            counts,
            "nothing counted for {filter}"
        );
    }
}

#[tokio::test]
async fn a_small_page_reads_each_stream_once_and_the_next_page_resumes_from_the_cached_pages() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let first = app.query(TIMELINE, json!({"first": 5})).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(
        app.upstream_total(),
        4,
        "one upstream page per stream: SignalWire voice and video, OneUptime, Voximplant"
    );
    let after = first["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let second = app.query(TIMELINE, json!({"first": 5, "after": after})).await;
    assert_eq!(second["data"]["callLogs"]["edges"].as_array().unwrap().len(), 5);
    assert_eq!(
        app.upstream_total(),
        4,
        "the next items are already cached: no upstream call"
    );
}

/// Pages `callLogs` selecting `selection` on each edge; returns the edges.
async fn edges_selecting(app: &TestApp, selection: &str) -> Vec<Value> {
    let query = format!(
        "query($after: String) {{ callLogs(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ {selection} }} }} }}"
    );
    let (mut edges, mut after) = (Vec::new(), Value::Null);
    loop {
        let r = app.query(&query, json!({"after": after})).await;
        assert!(r.get("errors").is_none(), "{r}");
        let c = &r["data"]["callLogs"];
        edges.extend(c["edges"].as_array().unwrap().iter().cloned());
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return edges;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn shared_fields_render_the_same_through_the_flat_path_as_through_their_resolvers() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    // Plain shared fields take the flat path; the same fields under a directive take
    // async-graphql's resolvers (for the node, and for the whole edge). All must give the
    // same JSON, byte for byte.
    let fields = "__typename id provider nativeId from to direction status providerStatus \
                  createdAt startedAt endedAt durationSeconds state: status again: id";
    let flat = edges_selecting(&app, &format!("__typename cursor node {{ {fields} }}")).await;
    let node_resolved = edges_selecting(
        &app,
        &format!("__typename cursor node {{ ... on CallLog @include(if: true) {{ {fields} }} }}"),
    )
    .await;
    let edge_resolved = edges_selecting(
        &app,
        &format!("... on CallLogEdge @include(if: true) {{ __typename cursor node {{ {fields} }} }}"),
    )
    .await;
    // Every log but the deleted ones (the timeline leaves those out).
    assert_eq!(flat.len(), 150 + 40 + 150 + 150 - deleted(&app).await);
    let json = |v: &Vec<Value>| serde_json::to_string(v).unwrap();
    assert_eq!(json(&flat), json(&node_resolved));
    assert_eq!(json(&flat), json(&edge_resolved));
    let types: HashSet<&str> = flat.iter().filter_map(|e| e["node"]["__typename"].as_str()).collect();
    assert_eq!(types.len(), 4, "every provider type is compared: {types:?}");
    for field in ["from", "providerStatus", "startedAt", "endedAt", "durationSeconds"] {
        assert!(flat.iter().any(|e| !e["node"][field].is_null()), "some {field} is set");
    }
    // A repeated node selection merges, as GraphQL says.
    let merged = edges_selecting(&app, "node { id } node { status }").await;
    assert!(
        merged
            .iter()
            .all(|e| e["node"]["id"].is_string() && e["node"]["status"].is_string())
    );
}

/// A filter's lists are sets: the same filter written in another order (or with a
/// repeat) pages on with the same cursors; another filter refuses them.
#[tokio::test]
async fn a_cursor_follows_its_filter_whatever_the_order_of_its_lists() {
    let app = TestApp::in_memory().await;
    let q = r#"query($after: String, $filter: CallLogFilter) { callLogs(first: 5, after: $after, filter: $filter) {
        pageInfo { endCursor } edges { node { id } } } }"#;
    let first = app
        .query(q, json!({"filter": {"providers": ["SIGNALWIRE", "ONEUPTIME"]}}))
        .await;
    assert!(first["errors"].is_null(), "{first}");
    let after = first["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let reordered = json!({"providers": ["ONEUPTIME", "SIGNALWIRE", "ONEUPTIME"]});
    let next = app.query(q, json!({"after": after, "filter": reordered})).await;
    assert!(next["errors"].is_null(), "{next}");
    assert_eq!(next["data"]["callLogs"]["edges"].as_array().unwrap().len(), 5);
    let other = app
        .query(q, json!({"after": after, "filter": {"providers": ["ONEUPTIME"]}}))
        .await;
    assert_eq!(error_codes(&other), ["BAD_USER_INPUT"], "{other}");
}

//! Compiled plans (`graphql/plan`) answer a request whose document, operation and
//! variables passed validation before, without async-graphql's executor. They must answer
//! exactly what async-graphql answers: each query of a corpus is sent twice (the first
//! run validates it on async-graphql, the second runs its plan), then once with a
//! directive on its root fields (which plans leave to async-graphql), and the three
//! bodies must be equal byte for byte, errors included; the plan's run must make no
//! upstream call that async-graphql's run did not. (That the corpus compiles to plans is
//! proved in `graphql::plan`'s unit tests.)

use crate::common::*;
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

const SHARED: &str = "__typename id provider nativeId from to direction status providerStatus createdAt startedAt endedAt durationSeconds";
/// The own fields SignalWire's types list for plans (`providers::signalwire::OWN_FIELDS`).
const VOICE_OWN: &str = "voiceSource providerSource voiceType providerType lamlUrl providerDirection durationMs billingMs parentId events { __typename eventAt level providerLevel name details projectId logId }";
const VIDEO_OWN: &str = "providerSource videoType providerType url roomName locked";
const VOXIMPLANT_OWN: &str = "sessionId accountId applicationId applicationName userId ruleName audioQuality initiatorAddress mediaServerAddress logFileUrl finishReason customData";
const ONEUPTIME_OWN: &str = "projectId statusMessage callData callCostInUSDCents updatedAt incidentId userId alertId monitorId scheduledMaintenanceId statusPageId statusPageAnnouncementId onCallDutyPolicyId onCallDutyPolicyEscalationRuleId onCallDutyPolicyScheduleId teamId";

/// The query with `@include(if: true)` at each `ROOT`, and with as many spaces there
/// instead (so errors locate the same columns).
fn variants(query: &str) -> (String, String) {
    const DIRECTIVE: &str = "@include(if: true)";
    (
        query.replace("ROOT", &" ".repeat(DIRECTIVE.len())),
        query.replace("ROOT", DIRECTIVE),
    )
}

/// Sends `query` twice as written and once with root directives; asserts the three
/// bodies equal and returns the body.
async fn same_answer(app: &TestApp, query: &str, variables: Value) -> Value {
    let (plain, resolved) = variants(query);
    let first = app.query_bytes(&plain, variables.clone()).await;
    let before = app.upstream_total();
    let planned = app.query_bytes(&plain, variables.clone()).await;
    let planned_calls = app.upstream_total() - before;
    let executed = app.query_bytes(&resolved, variables.clone()).await;
    let text = |b: &bytes::Bytes| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        text(&first),
        text(&planned),
        "{plain} with {variables}: first run, then planned"
    );
    assert_eq!(
        text(&planned),
        text(&executed),
        "{plain} with {variables}: planned, then with directives"
    );
    assert_eq!(planned_calls, 0, "{plain}: the plan's run was served from the cache");
    serde_json::from_slice(&planned).unwrap()
}

const METRICS_KEY: &str = "metrics-key";

/// A gateway that never reuses rendered answers, so every request executes.
async fn app() -> TestApp {
    TestApp::in_memory_with(small_emulator(), |c, _| {
        c.cache.max_response_bytes = 0;
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    })
    .await
}

/// From now on the emulator answers every request under `route` with a 400 (which the
/// gateway does not retry).
fn refuse_always(app: &TestApp, route: &str) {
    app.emulator.inject(Fault {
        times: None,
        ..Fault::always(FaultKind::Status {
            status: 400,
            retry_after_seconds: None,
        })
        .on(route)
    });
}

/// Requests a plan answered so far.
async fn planned(app: &TestApp) -> u64 {
    app.counter(METRICS_KEY, "switchboard_requests_planned_total").await
}

/// Ids of the first `n` call logs of the timeline.
async fn timeline_ids(app: &TestApp, n: usize) -> Vec<String> {
    let page = app
        .query(
            &format!("{{ callLogs(first: {n}) {{ edges {{ node {{ id }} }} }} }}"),
            json!({}),
        )
        .await;
    page["data"]["callLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn plans_answer_byte_for_byte_what_async_graphql_answers() {
    let app = app().await;
    same_answer(&app, "{ callLogs(first: 60) { edges { node { id } } } }", json!({})).await;
    let ids = timeline_ids(&app, 60).await;
    let by_id = [
        "query($id: ID!) { node(id: $id) ROOT { ... on SignalWireVoiceLog { id from to status createdAt } } }".to_string(),
        format!("query($id: ID!) {{ node(id: $id) ROOT {{ ... on CallLog {{ {SHARED} }} }} }}"),
        format!("query($id: ID!) {{ callLog(id: $id) ROOT {{ {SHARED} }} }}"),
        "query Two($id: ID!) { a: node(id: $id) ROOT { id ... on Node { id } } __typename b: callLog(id: $id) ROOT { ...F } } fragment F on CallLog { status s: status createdAt ... on VoximplantCallSession { nativeId } }".into(),
        "query($id: ID!) { node(id: $id) ROOT { ... on SignalWireVoiceLog { id status durationMs events { eventAt level name } } } }".into(),
        format!("query($id: ID!) {{ callLog(id: $id) ROOT {{ {SHARED} ... on SignalWireVoiceLog {{ {VOICE_OWN} }} ... on SignalWireVideoLog {{ {VIDEO_OWN} }} ... on OneUptimeCallLog {{ {ONEUPTIME_OWN} }} ... on VoximplantCallSession {{ {VOXIMPLANT_OWN} }} }} }}"),
    ];
    for query in &by_id {
        for id in ids.iter().step_by(5) {
            let answer = same_answer(&app, query, json!({"id": id})).await;
            assert!(answer["errors"].is_null(), "{query}: {answer}");
        }
    }
    let many = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) ROOT {{ ... on CallLog {{ {SHARED} }} }} }}");
    for chunk in ids.chunks(17) {
        let answer = same_answer(&app, &many, json!({"ids": chunk})).await;
        assert!(answer["errors"].is_null(), "{many}: {answer}");
        assert_eq!(answer["data"]["nodes"].as_array().unwrap().len(), chunk.len());
    }
    // An id of a node that is no call log (an audit log entry): the plan leaves the
    // request to async-graphql before reading anything, and the answer is the same.
    let (entry, at) = app.emulator.voximplant_audit_entries()[0];
    let key = switchboard::providers::voximplant::session_key(entry, at);
    let entry_id = switchboard::domain::encode_id(switchboard::providers::voximplant::AUDIT_LOG_ENTRY, &key);
    let mixed = "query($ids: [ID!]!) { nodes(ids: $ids) ROOT { id ... on CallLog { status } } }";
    let answer = same_answer(&app, mixed, json!({"ids": [ids[0], entry_id]})).await;
    assert_eq!(answer["data"]["nodes"][1]["id"], json!(entry_id), "{answer}");
    let first = same_answer(
        &app,
        "{ signalWireVoiceLogs(first: 20) ROOT { pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename } edges { cursor __typename node { ... on SignalWireVoiceLog { id from to status createdAt } } } } }",
        json!({}),
    )
    .await;
    let after = first["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    assert!(after.is_string(), "{first}");
    let pages = [
        format!("query($first: Int = 7, $after: String) {{ signalWireVoiceLogs(first: $first, after: $after) ROOT {{ nodes {{ {SHARED} }} pageInfo {{ endCursor hasNextPage }} }} }}"),
        format!("{{ signalWireVideoLogs(first: 20, filter: {{includeDeleted: true}}) ROOT {{ __typename edges {{ node {{ {SHARED} }} }} }} }}"),
        format!("{{ oneUptimeCallLogs(first: 20) ROOT {{ edges {{ cursor node {{ {SHARED} ... on OneUptimeCallLog {{ {ONEUPTIME_OWN} }} }} }} }} }}"),
        format!("{{ voximplantCallSessions(first: 20) ROOT {{ e: edges {{ node {{ ... on VoximplantCallSession {{ id status {VOXIMPLANT_OWN} }} ... on CallLog {{ i: id }} }} }} }} }}"),
        "query { x: signalWireVoiceLogs(first: 3) ROOT { edges { cursor } } y: oneUptimeCallLogs(first: 2) ROOT { pageInfo { startCursor } } }".into(),
    ];
    for query in &pages {
        for variables in [json!({}), json!({"after": after, "first": 3})] {
            let answer = same_answer(&app, query, variables).await;
            assert!(answer["errors"].is_null(), "{query}: {answer}");
        }
    }
}

#[tokio::test]
async fn plans_report_errors_where_async_graphql_does() {
    let app = app().await;
    let missing = switchboard::domain::encode_id(
        switchboard::providers::oneuptime::CALL_LOG,
        "00000000-0000-4000-8000-000000000000",
    );
    for (query, variables, codes) in [
        (
            "query($id: ID!) { node(id: $id) ROOT { id } }",
            json!({"id": "bm9wZQ"}),
            vec!["BAD_USER_INPUT"],
        ),
        (
            "query($id: ID!) { callLog(id: $id) ROOT { id } }",
            json!({"id": missing}),
            vec![],
        ),
        (
            "{ signalWireVoiceLogs(first: 1000) ROOT { edges { cursor } } }",
            json!({}),
            vec!["BAD_USER_INPUT"],
        ),
        (
            "query($after: String) { signalWireVoiceLogs(first: 2, after: $after) ROOT { edges { cursor } } }",
            json!({"after": "garbage"}),
            vec!["BAD_USER_INPUT"],
        ),
        (
            "query($id: ID!) { a: node(id: $id) ROOT { id } b: node(id: \"bm9wZQ\") ROOT { id } }",
            json!({"id": missing}),
            vec!["BAD_USER_INPUT"],
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) ROOT { id } }",
            json!({"ids": [missing, "bm9wZQ", missing, "eA"]}),
            vec!["BAD_USER_INPUT", "BAD_USER_INPUT"],
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) ROOT { id } }",
            json!({"ids": vec![missing.clone(); 101]}),
            vec!["BAD_USER_INPUT"],
        ),
    ] {
        let answer = same_answer(&app, query, variables).await;
        assert_eq!(error_codes(&answer), codes, "{query}: {answer}");
    }
}

#[tokio::test]
async fn a_failing_provider_fails_a_planned_field_as_it_fails_a_resolved_one() {
    let app = app().await;
    let query = "{ oneUptimeCallLogs(first: 4) ROOT { edges { node { id } } } }";
    let (plain, resolved) = variants(query);
    // Validated and its pages cached: the fault below meets only a page not read yet.
    app.query_bytes(&plain, json!({})).await;
    refuse_always(&app, "/api/call-log/get-list");
    let other = |q: &str| q.replace("first: 4", "first: 4, filter: {createdAfter: \"2020-01-01T00:00:00Z\"}");
    app.query_bytes(&other(&plain), json!({})).await;
    let planned = app.query_bytes(&other(&plain), json!({})).await;
    let executed = app.query_bytes(&other(&resolved), json!({})).await;
    assert_eq!(String::from_utf8_lossy(&planned), String::from_utf8_lossy(&executed));
    let answer: Value = serde_json::from_slice(&planned).unwrap();
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(answer["errors"][0]["path"], json!(["oneUptimeCallLogs"]), "{answer}");
    assert!(answer["errors"][0]["extensions"]["provider"].is_string(), "{answer}");
}

/// Real traffic is a few operations with ever new values. Once an operation passed
/// validation, its plan answers other ids, sizes, cursors and filters too, byte for byte
/// as async-graphql does; values that validation refuses (or that it passes and execution
/// refuses) are left to async-graphql, whose answer they get.
#[tokio::test]
async fn plans_answer_variable_values_never_validated_before() {
    let app = app().await;
    let ids = timeline_ids(&app, 40).await;
    let check = |query: &'static str, variables: Value, plan_answers: bool| {
        let app = &app;
        async move {
            let (plain, resolved) = variants(&query.replace("SHARED", SHARED));
            let before = planned(app).await;
            let answer = app.query_bytes(&plain, variables.clone()).await;
            let by_plan = planned(app).await - before;
            let executed = app.query_bytes(&resolved, variables.clone()).await;
            let text = |b: &bytes::Bytes| String::from_utf8_lossy(b).into_owned();
            assert_eq!(text(&answer), text(&executed), "{plain} with {variables}");
            assert_eq!(
                by_plan,
                u64::from(plan_answers),
                "{plain} with {variables}: answered by a plan?"
            );
            serde_json::from_slice::<Value>(&answer).unwrap()
        }
    };
    let by_id = "query($id: ID!) { node(id: $id) ROOT { ... on CallLog { SHARED } } }";
    check(by_id, json!({"id": ids[0]}), false).await;
    for id in &ids[1..] {
        let answer = check(by_id, json!({"id": id}), true).await;
        assert_eq!(answer["data"]["node"]["id"], json!(id), "{answer}");
    }
    let many = "query($ids: [ID!]!) { nodes(ids: $ids) ROOT { ... on CallLog { SHARED } } }";
    check(many, json!({"ids": ids[..3]}), false).await;
    check(many, json!({"ids": ids[5..25]}), true).await;
    check(many, json!({"ids": ids[7]}), true).await;
    let page = "query($first: Int, $after: String, $filter: SignalWireLogFilter) { signalWireVoiceLogs(first: $first, after: $after, filter: $filter) ROOT { edges { cursor node { ... on CallLog { SHARED } } } pageInfo { endCursor hasNextPage } } }";
    let first = check(page, json!({"first": 2}), false).await;
    let after = first["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    for variables in [
        json!({"first": 5}),
        json!({"first": 3, "after": after}),
        json!({}),
        json!({"filter": {"includeDeleted": true}}),
        json!({"first": 4, "filter": {"createdAfter": "2020-01-01T00:00:00Z"}}),
    ] {
        let answer = check(page, variables.clone(), true).await;
        assert!(answer["errors"].is_null(), "{variables}: {answer}");
    }
    // Values validation refuses, and one it passes but the scalar refuses at execution.
    for (query, variables) in [
        (by_id, json!({"id": 5.5})),
        (by_id, json!({"id": null})),
        (by_id, json!({})),
        (many, json!({"ids": [ids[0], null]})),
        (page, json!({"first": "3"})),
        (page, json!({"first": 2_147_483_648_i64})),
        (page, json!({"first": 100_000})),
        (page, json!({"filter": {"bogus": true}})),
        (page, json!({"filter": {"createdOn": "not a date"}})),
    ] {
        let answer = check(query, variables.clone(), false).await;
        assert!(
            !answer["errors"].as_array().unwrap().is_empty(),
            "{variables}: {answer}"
        );
    }
    // A first that validation passes and the field refuses: the plan refuses it alike.
    let answer = check(page, json!({"first": 1000}), true).await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer}");
}

/// A planned answer past `graphql.max_response_bytes` is refused as async-graphql's is.
#[tokio::test]
async fn a_planned_answer_past_the_size_cap_is_refused_alike() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        c.cache.max_response_bytes = 0;
        c.graphql.max_response_bytes = 4096;
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    })
    .await;
    let query = format!("query($first: Int) {{ signalWireVoiceLogs(first: $first) ROOT {{ nodes {{ {SHARED} }} }} }}");
    let (plain, resolved) = variants(&query);
    app.query_bytes(&plain, json!({"first": 1})).await;
    for first in [100, 2] {
        let before = planned(&app).await;
        let answer = app.query_bytes(&plain, json!({"first": first})).await;
        assert_eq!(planned(&app).await, before + 1, "first: {first} was planned");
        let executed = app.query_bytes(&resolved, json!({"first": first})).await;
        assert_eq!(String::from_utf8_lossy(&answer), String::from_utf8_lossy(&executed));
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        let refused = answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_response_bytes"));
        assert_eq!(refused, first == 100, "{answer}");
    }
}

/// A voice log's events that fail upstream: the plan nulls the log (its `events` may not
/// be null) with the error at `[node, events]`, as async-graphql does, and asks upstream
/// as often.
#[tokio::test]
async fn a_failing_list_of_events_nulls_its_log_as_async_graphql_does() {
    let app = app().await;
    let page = app
        .query("{ signalWireVoiceLogs(first: 3) { nodes { id nativeId } } }", json!({}))
        .await;
    let logs = &page["data"]["signalWireVoiceLogs"]["nodes"];
    let query = "query($id: ID!) { node(id: $id) ROOT { ... on SignalWireVoiceLog { id evs: events { name } } } }";
    let (plain, resolved) = variants(query);
    // Validated on one log; the next one's events fail.
    app.query_bytes(&plain, json!({"id": logs[0]["id"]})).await;
    let native = logs[1]["nativeId"].as_str().unwrap();
    refuse_always(&app, &format!("/api/voice/logs/{native}/events"));
    let id = json!({"id": logs[1]["id"]});
    let before = (planned(&app).await, app.upstream_total());
    let by_plan = app.query_bytes(&plain, id.clone()).await;
    let after = (planned(&app).await, app.upstream_total());
    let executed = app.query_bytes(&resolved, id.clone()).await;
    let executed_calls = app.upstream_total() - after.1;
    assert_eq!(after.0, before.0 + 1, "the plan answered");
    assert_eq!(after.1 - before.1, executed_calls, "as many upstream calls");
    assert_eq!(String::from_utf8_lossy(&by_plan), String::from_utf8_lossy(&executed));
    let by_plan: Value = serde_json::from_slice(&by_plan).unwrap();
    assert_eq!(by_plan["data"], json!({"node": null}), "{by_plan}");
    assert_eq!(by_plan["errors"][0]["path"], json!(["node", "evs"]), "{by_plan}");
    assert_eq!(error_codes(&by_plan).len(), 1, "{by_plan}");
}

/// The merged timeline is planned too: pages, cursors, filters, a provider that fails
/// (partial data beside its error) and a page cut by the scan bound (the
/// `timelineScanCut` extension and the resume cursor) answer as async-graphql answers.
#[tokio::test]
async fn timeline_pages_are_planned_byte_for_byte() {
    let app = TestApp::in_memory_with(small_emulator(), |c, _| {
        c.cache.max_response_bytes = 0;
        c.graphql.timeline_scan_bound = 15;
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    })
    .await;
    let query = format!(
        "query($first: Int, $after: String, $filter: CallLogFilter) {{ callLogs(first: $first, after: $after, filter: $filter) ROOT {{ pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor node {{ {SHARED} ... on SignalWireVoiceLog {{ durationMs voiceType }} }} }} }} }}"
    );
    let first = same_answer(&app, &query, json!({"first": 10})).await;
    let after = first["data"]["callLogs"]["pageInfo"]["endCursor"].clone();
    let number = first["data"]["callLogs"]["edges"][3]["node"]["from"].clone();
    let (plain, resolved) = variants(&query);
    let before = planned(&app).await;
    for variables in [
        json!({"first": 10, "after": after}),
        json!({"first": 5, "filter": {"providers": ["ONEUPTIME", "VOXIMPLANT"]}}),
        json!({"first": 10, "filter": {"number": number}}),
        json!({"first": 10, "filter": {"statuses": ["COMPLETED"], "directions": ["INBOUND"]}}),
    ] {
        // Warm (the first run may go upstream), then the plan, then async-graphql.
        app.query_bytes(&plain, variables.clone()).await;
        let calls = app.upstream_total();
        let by_plan = app.query_bytes(&plain, variables.clone()).await;
        assert_eq!(
            app.upstream_total(),
            calls,
            "{variables}: the plan's run was served from the cache"
        );
        let executed = app.query_bytes(&resolved, variables.clone()).await;
        assert_eq!(
            String::from_utf8_lossy(&by_plan),
            String::from_utf8_lossy(&executed),
            "{variables}"
        );
    }
    assert_eq!(
        planned(&app).await,
        before + 8,
        "the first and second run of each were planned"
    );
    // A page the scan bound cuts: said in the extension, resumable.
    let cut = app
        .query_bytes(&plain, json!({"first": 3, "filter": {"number": "+19999999999"}}))
        .await;
    let executed = app
        .query_bytes(&resolved, json!({"first": 3, "filter": {"number": "+19999999999"}}))
        .await;
    assert_eq!(String::from_utf8_lossy(&cut), String::from_utf8_lossy(&executed));
    let cut: Value = serde_json::from_slice(&cut).unwrap();
    assert_eq!(cut["extensions"]["timelineScanCut"], true, "{cut}");
    assert!(cut["data"]["callLogs"]["pageInfo"]["endCursor"].is_string(), "{cut}");
    // A failing provider: partial data beside its error, the same both ways.
    refuse_always(&app, "/api/call-log/get-list");
    let variables = json!({"first": 4, "filter": {"createdBefore": "2026-12-01T00:00:00Z"}});
    let by_plan = app.query_bytes(&plain, variables.clone()).await;
    let executed = app.query_bytes(&resolved, variables.clone()).await;
    assert_eq!(String::from_utf8_lossy(&by_plan), String::from_utf8_lossy(&executed));
    let by_plan: Value = serde_json::from_slice(&by_plan).unwrap();
    assert_eq!(error_codes(&by_plan).len(), 1, "{by_plan}");
    assert!(by_plan["data"]["callLogs"]["edges"].is_array(), "{by_plan}");
    assert_eq!(
        planned(&app).await,
        before + 10,
        "the cut page and the partial one were planned"
    );
}

/// `totalCount` is drawn by plans too, from the same count as the resolver's: a provider's
/// (which may not be null: when it fails, so does its connection, as async-graphql says)
/// and the timeline's (null where it cannot count).
#[tokio::test]
async fn total_counts_are_planned_and_fail_as_async_graphql_fails_them() {
    let app = app().await;
    // (query, variables, runs the plan answers: the second, and the first too when the
    // operation passed validation before with other values)
    for (query, variables, plans) in [
        (
            "query($first: Int) { oneUptimeCallLogs(first: $first) ROOT { totalCount edges { node { id } } } }",
            json!({"first": 5}),
            1,
        ),
        (
            "query($first: Int) { voximplantCallSessions(first: $first) ROOT { n: totalCount totalCount nodes { id } } }",
            json!({"first": 3}),
            1,
        ),
        (
            "query($f: CallLogFilter) { callLogs(first: 3, filter: $f) ROOT { totalCount pageInfo { endCursor } } }",
            json!({"f": {"providers": ["ONEUPTIME", "VOXIMPLANT"]}}),
            1,
        ),
        (
            "query($f: CallLogFilter) { callLogs(first: 3, filter: $f) ROOT { totalCount pageInfo { endCursor } } }",
            json!({"f": null}),
            2,
        ),
    ] {
        let before = planned(&app).await;
        let answer = same_answer(&app, query, variables.clone()).await;
        assert!(answer["errors"].is_null(), "{query}: {answer}");
        assert_eq!(planned(&app).await, before + plans, "{query} with {variables}");
    }
    let answer = same_answer(
        &app,
        "query($f: CallLogFilter) { callLogs(first: 3, filter: $f) ROOT { totalCount } }",
        json!({"f": {"providers": ["ONEUPTIME"]}}),
    )
    .await;
    assert!(
        answer["data"]["callLogs"]["totalCount"].as_i64().unwrap() > 0,
        "{answer}"
    );
    // A count that fails upstream: the connection (non-null) and so `data` are null, the
    // error at the count's path.
    let query = "query($first: Int, $f: OneUptimeCallLogFilter) { oneUptimeCallLogs(first: $first, filter: $f) ROOT { c: totalCount edges { node { id } } } }";
    let (plain, resolved) = variants(query);
    app.query_bytes(&plain, json!({"first": 2})).await;
    refuse_always(&app, "/api/call-log/count");
    // A filter counted for the first time.
    let variables = json!({"first": 7, "f": {"createdAfter": "2020-01-01T00:00:00Z"}});
    let before = planned(&app).await;
    let by_plan = app.query_bytes(&plain, variables.clone()).await;
    assert_eq!(planned(&app).await, before + 1);
    let executed = app.query_bytes(&resolved, variables).await;
    assert_eq!(String::from_utf8_lossy(&by_plan), String::from_utf8_lossy(&executed));
    let by_plan: Value = serde_json::from_slice(&by_plan).unwrap();
    assert_eq!(by_plan["data"], Value::Null, "{by_plan}");
    assert_eq!(
        by_plan["errors"][0]["path"],
        json!(["oneUptimeCallLogs", "c"]),
        "{by_plan}"
    );
}

//! Upstreams that misbehave: only reads are retried, within a budget; a
//! circuit breaker fails fast while a provider is down and probes it back; identical
//! concurrent misses make one upstream call; an answer naming another record, or none at
//! all, is `UPSTREAM_BAD_RESPONSE` and nothing of it is cached.

use std::time::Duration;

use crate::common::*;
use futures::future::join_all;
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

const ONEUPTIME_GET: &str = "POST /api/call-log/{id}/get-item";
const ONEUPTIME_LIST: &str = "POST /api/call-log/get-list";

const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on CallLog { nativeId } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";

const AUDIT_REPORT: &str = r#"mutation { requestVoximplantAuditLogReport { id } }"#;
const CALL_REPORT: &str = r#"mutation { requestVoximplantCallHistoryReport { id } }"#;
const AUDIT_LOG: &str = r#"{ voximplantAuditLog(first: 3) { edges { node { id } } } }"#;

fn fault(kind: FaultKind, path: &str, times: Option<u32>) -> Fault {
    Fault {
        times,
        ..Fault::always(kind).on(path)
    }
}

fn unavailable() -> FaultKind {
    FaultKind::Status {
        status: 503,
        retry_after_seconds: None,
    }
}

/// The global id of OneUptime call log `uuid` (which need not exist).
fn oneuptime_id(uuid: &str) -> String {
    switchboard::domain::encode_id(switchboard::providers::oneuptime::CALL_LOG, uuid)
}

fn uuid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// The gateway with `upstream` settings changed by `tweak`.
async fn spawn(tweak: impl FnOnce(&mut switchboard::config::UpstreamConfig)) -> TestApp {
    TestApp::spawn_with(small_emulator(), |config, _| tweak(&mut config.upstream)).await
}

#[tokio::test]
async fn report_creation_is_sent_once_after_a_503_or_a_dropped_connection() {
    // Four failures in a row here must not open Voximplant's breaker before the last read.
    let app = spawn(|u| u.breaker_failures = 10).await;
    for (mutation, method) in [(AUDIT_REPORT, "GetAuditLogAsync"), (CALL_REPORT, "GetCallHistoryAsync")] {
        for kind in [unavailable(), FaultKind::DropConnection] {
            app.emulator.reset();
            app.emulator
                .inject(fault(kind.clone(), &format!("/platform_api/{method}"), Some(1)));
            let response = app.query(mutation, json!({})).await;
            assert_eq!(response["data"], Value::Null, "{response}");
            assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"], "{kind:?}: {response}");
            assert_eq!(
                app.upstream(&format!("POST /platform_api/{method}")),
                1,
                "{method} after {kind:?} is not sent again"
            );
        }
    }
    // A read on the same provider is still retried.
    app.emulator.reset();
    app.emulator
        .inject(fault(unavailable(), "/platform_api/GetAuditLog", Some(1)));
    let response = app.query(AUDIT_LOG, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    assert_eq!(app.upstream("POST /platform_api/GetAuditLog"), 2);
}

#[tokio::test]
async fn a_down_provider_trips_the_breaker_fails_fast_then_one_probe_closes_it() {
    let app = spawn(|u| {
        u.max_retries = 0;
        u.breaker_failures = 3;
        u.breaker_cool_down = Duration::from_millis(300);
    })
    .await;
    app.emulator.inject(Fault::always(unavailable()).on("/api/call-log"));
    for n in 0..3 {
        let response = app.query(NODE, json!({ "id": oneuptime_id(&uuid(n)) })).await;
        assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"], "{response}");
    }
    assert_eq!(app.upstream(ONEUPTIME_GET), 3);

    // Open: failing fast, nothing reaches OneUptime, and the timeline answers with the
    // other providers plus OneUptime's error.
    for n in 3..6 {
        let response = app.query(NODE, json!({ "id": oneuptime_id(&uuid(n)) })).await;
        assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"], "{response}");
    }
    let timeline = app
        .query("{ callLogs(first: 5) { edges { node { provider } } } }", json!({}))
        .await;
    assert_eq!(
        timeline["data"]["callLogs"]["edges"].as_array().map(Vec::len),
        Some(5),
        "{timeline}"
    );
    assert_eq!(error_codes(&timeline), ["UPSTREAM_UNAVAILABLE"]);
    assert_eq!(timeline["errors"][0]["extensions"]["provider"], "ONEUPTIME");
    assert_eq!(
        app.upstream(ONEUPTIME_GET) + app.upstream(ONEUPTIME_LIST),
        3,
        "open: no call"
    );

    // After the cool-down one probe goes through; OneUptime is back, so it closes.
    app.emulator.clear_faults();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let probe = app.query(NODE, json!({ "id": oneuptime_id(&uuid(7)) })).await;
    assert!(probe["errors"].is_null(), "{probe}");
    assert_eq!(probe["data"]["node"], Value::Null, "an unknown id, answered");
    assert_eq!(app.upstream(ONEUPTIME_GET), 4);
    let after = app.query(NODE, json!({ "id": oneuptime_id(&uuid(8)) })).await;
    assert!(after["errors"].is_null(), "{after}");
    assert_eq!(app.upstream(ONEUPTIME_GET), 5);
}

#[tokio::test]
async fn a_fault_storm_gets_retries_only_within_the_retry_budget() {
    let app = spawn(|u| {
        u.max_retries = 2;
        u.retry_budget_ratio = 0.2;
        u.retry_budget_reserve = 2;
        u.breaker_failures = 0;
    })
    .await;
    app.emulator.inject(Fault::always(unavailable()).on("/api/call-log"));
    for n in 0..20 {
        let response = app.query(NODE, json!({ "id": oneuptime_id(&uuid(n)) })).await;
        assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"], "{response}");
    }
    let calls = app.upstream(ONEUPTIME_GET);
    // Unbudgeted, 2 retries each would be 60 calls; the budget allows the reserve (2)
    // plus one retry per five requests (4).
    assert!((22..=26).contains(&calls), "{calls} calls for 20 requests");
}

#[tokio::test]
async fn waiting_to_retry_does_not_hold_the_providers_concurrency_slot() {
    let app = TestApp::spawn_with(small_emulator(), |config, emulator| {
        config.providers.oneuptime = Some(switchboard::config::OneUptimeConfig {
            concurrency: 1,
            webhook_secret: None,
            ..oneuptime_config(emulator)
        });
        // A 503 is retried after 1.5 to 3 s (jittered backoff).
        config.upstream.retry_base_delay = Duration::from_secs(3);
    })
    .await;
    let slow_id = uuid(1);
    app.emulator
        .inject(fault(unavailable(), &format!("/api/call-log/{slow_id}"), Some(1)));
    let slow = tokio::spawn({
        let (url, id) = (app.url.clone(), oneuptime_id(&slow_id));
        async move {
            let body = json!({ "query": NODE, "variables": { "id": id } });
            reqwest::Client::new().post(url).json(&body).send().await.map(|_| ())
        }
    });
    // Wait until the slow request got its 503 and sleeps before retrying.
    while app.upstream(ONEUPTIME_GET) == 0 {
        tokio::task::yield_now().await;
    }
    let other = app.query(NODE, json!({ "id": oneuptime_id(&uuid(2)) })).await;
    assert!(other["errors"].is_null(), "{other}");
    assert!(
        !slow.is_finished(),
        "the other miss was served while the first waited to retry"
    );
    slow.await.expect("joins").expect("answers");
    assert_eq!(app.upstream(ONEUPTIME_GET), 3);
}

#[tokio::test]
async fn inside_a_providers_retry_after_window_its_requests_are_answered_at_once_without_a_call() {
    let app = TestApp::spawn_with(small_emulator(), |config, emulator| {
        config.providers.oneuptime = Some(oneuptime_config(emulator));
    })
    .await;
    app.emulator.inject(fault(
        FaultKind::Status {
            status: 429,
            retry_after_seconds: Some(3),
        },
        &format!("/api/call-log/{}", uuid(1)),
        Some(1),
    ));
    // The 429 itself: 3 s is more than upstream.max_retry_wait (1 s), so no wait.
    let first = app.query(NODE, json!({ "id": oneuptime_id(&uuid(1)) })).await;
    assert_eq!(error_codes(&first), ["UPSTREAM_RATE_LIMITED"], "{first}");
    assert_eq!(first["errors"][0]["extensions"]["retryAfterSeconds"], 3);
    assert_eq!(app.upstream(ONEUPTIME_GET), 1);
    // Other OneUptime reads meet the same account-wide limit: answered at once, with
    // what is left of the window, and nothing is sent.
    for n in 2..12 {
        let other = app.query(NODE, json!({ "id": oneuptime_id(&uuid(n)) })).await;
        assert_eq!(error_codes(&other), ["UPSTREAM_RATE_LIMITED"], "{other}");
        let left = other["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap();
        assert!((1..=3).contains(&left), "{other}");
    }
    assert_eq!(app.upstream(ONEUPTIME_GET), 1, "no call inside the window");
    // The other providers are not in it: a merged page is a partial result at once.
    let page = app
        .query("{ callLogs(first: 3) { edges { node { provider } } } }", json!({}))
        .await;
    let providers: Vec<&str> = page["data"]["callLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["provider"].as_str())
        .collect();
    assert!(providers.len() == 3 && !providers.contains(&"ONEUPTIME"), "{page}");
    assert_eq!(error_codes(&page), ["UPSTREAM_RATE_LIMITED"], "{page}");
    assert_eq!(page["errors"][0]["extensions"]["provider"], "ONEUPTIME");
}

/// Sends `query` 50 times at once; every answer is the same and error-free. Returns them.
async fn fifty_alike(app: &TestApp, query: &str, variables: Value) -> Vec<Value> {
    let answers = join_all((0..50).map(|_| app.query(query, variables.clone()))).await;
    assert!(
        answers.iter().all(|a| a == &answers[0] && a["errors"].is_null()),
        "{}",
        answers[0]
    );
    answers
}

#[tokio::test]
async fn fifty_concurrent_identical_misses_make_one_upstream_call() {
    let app = spawn(|_| {}).await;
    // Latency keeps the first fetch in flight while the others arrive.
    app.emulator
        .inject(Fault::always(FaultKind::Latency { millis: 200 }).on("/api/call-log"));
    let ids = app.emulator.oneuptime_call_log_ids();
    let id = oneuptime_id(&ids[0]);
    fifty_alike(&app, NODE, json!({ "id": id })).await;
    assert_eq!(app.upstream(ONEUPTIME_GET), 1, "by id");

    // A batch (get-list with _id Includes) coalesces too, id by id.
    let batch: Vec<String> = ids[1..4].iter().map(|u| oneuptime_id(u)).collect();
    fifty_alike(&app, NODES, json!({ "ids": batch })).await;
    assert_eq!(app.upstream(ONEUPTIME_LIST), 1, "by ids");

    // Voximplant audit entries by id (GetAuditLog with `audit_log_id`) too.
    app.emulator
        .inject(Fault::always(FaultKind::Latency { millis: 200 }).on("/platform_api/GetAuditLog"));
    let (entry, at) = app.emulator.voximplant_audit_entries()[0];
    let key = switchboard::providers::voximplant::session_key(entry, at);
    let entry_id = switchboard::domain::encode_id(switchboard::providers::voximplant::AUDIT_LOG_ENTRY, &key);
    let answers = fifty_alike(&app, NODES, json!({ "ids": [entry_id] })).await;
    assert_eq!(answers[0]["data"]["nodes"][0]["id"], json!(entry_id));
    assert_eq!(
        app.upstream("POST /platform_api/GetAuditLog"),
        1,
        "an audit entry by id"
    );

    let page = "{ oneUptimeCallLogs(first: 5, filter: { toNumber: \"+15550000000\" }) { edges { node { id } } } }";
    fifty_alike(&app, page, json!({})).await;
    assert_eq!(app.upstream(ONEUPTIME_LIST), 2, "a page");
}

#[tokio::test]
async fn call_logs_fails_when_every_provider_it_reads_fails_instead_of_an_endless_empty_page() {
    let app = spawn(|u| u.max_retries = 0).await;
    app.emulator.inject(Fault::always(unavailable()).on("/api/call-log"));
    app.emulator.inject(Fault::always(unavailable()).on("/platform_api"));
    let query = r#"query($filter: CallLogFilter) { callLogs(first: 5, filter: $filter) {
        pageInfo { hasNextPage endCursor } edges { node { id } } } }"#;
    let filter = json!({ "providers": ["ONEUPTIME", "VOXIMPLANT"] });
    let response = app.query(query, json!({ "filter": filter })).await;
    assert_eq!(response["data"], Value::Null, "{response}");
    let mut providers: Vec<&str> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["extensions"]["provider"].as_str().expect("a provider"))
        .collect();
    providers.sort_unstable();
    assert_eq!(providers, ["ONEUPTIME", "VOXIMPLANT"], "{response}");
    assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE", "UPSTREAM_UNAVAILABLE"]);

    // One provider still answering keeps the page (with the other's error).
    let filter = json!({ "providers": ["ONEUPTIME", "SIGNALWIRE"] });
    let response = app.query(query, json!({ "filter": filter })).await;
    assert_eq!(
        response["data"]["callLogs"]["edges"].as_array().map(Vec::len),
        Some(5),
        "{response}"
    );
    assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"]);
}

/// Three voice log records as the emulator serves them (newest first).
async fn voice_records(app: &TestApp) -> Vec<Value> {
    let url = format!("{}api/voice/logs?page_size=3", app.emulator.base_url());
    let page: Value = app
        .http()
        .get(url)
        .basic_auth("demo-project", Some("demo-token"))
        .send()
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("JSON");
    page["data"].as_array().expect("data").clone()
}

fn voice_page(records: &[Value], next: Option<&str>) -> FaultKind {
    FaultKind::Body {
        status: 200,
        body: json!({ "links": { "self": "/api/voice/logs", "next": next }, "data": records }),
    }
}

const VOICE_LOGS: &str = r#"query($first: Int, $after: String) { signalWireVoiceLogs(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { nativeId } } } }"#;

fn native_ids(response: &Value) -> Vec<&str> {
    response["data"]["signalWireVoiceLogs"]["edges"]
        .as_array()
        .map(|edges| edges.iter().filter_map(|e| e["node"]["nativeId"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn links_next_cycling_back_is_a_bad_response_after_the_logs_before_it() {
    let app = spawn(|_| {}).await;
    let records = voice_records(&app).await;
    app.emulator.reset();
    let ids: Vec<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    let pages = [
        (
            "/api/voice/logs?page_size",
            &records[0..1],
            "/api/voice/logs?page_token=B",
        ),
        (
            "/api/voice/logs?page_token=B",
            &records[1..2],
            "/api/voice/logs?page_token=C",
        ),
        (
            "/api/voice/logs?page_token=C",
            &records[2..3],
            "/api/voice/logs?page_token=B",
        ),
    ];
    for (prefix, page, next) in pages {
        app.emulator
            .inject(Fault::always(voice_page(page, Some(next))).on(prefix));
    }
    let response = app.query(VOICE_LOGS, json!({ "first": 20 })).await;
    assert_eq!(native_ids(&response), ids, "each log once: {response}");
    assert_eq!(
        response["data"]["signalWireVoiceLogs"]["pageInfo"]["hasNextPage"],
        false
    );
    assert_eq!(error_codes(&response), ["UPSTREAM_BAD_RESPONSE"]);
    assert_eq!(app.upstream(VOICE_LIST), 3, "each page read once");

    // Paged one by one, the cycle is found when the links lead back to newer logs.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut codes = Vec::new();
    for _ in 0..10 {
        let response = app.query(VOICE_LOGS, json!({ "first": 1, "after": after })).await;
        seen.extend(native_ids(&response).into_iter().map(str::to_string));
        codes.extend(error_codes(&response));
        let info = &response["data"]["signalWireVoiceLogs"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, ids, "no log twice");
    assert_eq!(codes, ["UPSTREAM_BAD_RESPONSE"]);
}

#[tokio::test]
async fn a_failing_look_ahead_keeps_the_page_in_hand_with_the_error() {
    let app = spawn(|u| u.max_retries = 0).await;
    // The first upstream page (50 logs) answers; every later one fails.
    app.emulator
        .inject(Fault::always(unavailable()).on("/api/voice/logs?page_number"));
    let response = app.query(VOICE_LOGS, json!({ "first": 60 })).await;
    assert_eq!(native_ids(&response).len(), 50, "{}", response["errors"]);
    assert_eq!(response["data"]["signalWireVoiceLogs"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(error_codes(&response), ["UPSTREAM_UNAVAILABLE"]);

    // Once the provider is back, paging on continues right after them.
    app.emulator.clear_faults();
    let after = response["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    let next = app.query(VOICE_LOGS, json!({ "first": 10, "after": after })).await;
    assert!(next["errors"].is_null(), "{next}");
    let whole = app.query(VOICE_LOGS, json!({ "first": 60 })).await;
    let expected: Vec<&str> = native_ids(&whole)[50..60].to_vec();
    assert_eq!(native_ids(&next), expected);
}

#[tokio::test]
async fn an_answer_naming_another_record_is_a_bad_response_and_nothing_is_cached() {
    let app = spawn(|_| {}).await;
    let records = voice_records(&app).await;
    let asked = records[0]["id"].as_str().expect("id");
    let id = switchboard::domain::encode_id(switchboard::providers::signalwire::VOICE_LOG, asked);
    app.emulator.reset();
    app.emulator.inject(fault(
        FaultKind::Body {
            status: 200,
            body: records[1].clone(),
        },
        &format!("/api/voice/logs/{asked}"),
        Some(1),
    ));
    let wrong = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(wrong["data"]["node"], Value::Null, "{wrong}");
    assert_eq!(error_codes(&wrong), ["UPSTREAM_BAD_RESPONSE"]);
    let right = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(right["data"]["node"]["nativeId"], asked, "{right}");
    assert_eq!(app.upstream(VOICE_GET), 2, "the wrong answer was not cached");
}

#[tokio::test]
async fn a_voximplant_answer_without_result_is_a_bad_response_not_a_cached_absence() {
    let app = spawn(|_| {}).await;
    let (session, start) = app.emulator.voximplant_sessions()[0];
    let key = switchboard::providers::voximplant::session_key(session, start);
    let id = switchboard::domain::encode_id(switchboard::providers::voximplant::CALL_SESSION, &key);
    app.emulator.inject(fault(
        FaultKind::Body {
            status: 200,
            body: json!({ "total_count": 0 }),
        },
        "/platform_api/GetCallHistory",
        Some(1),
    ));
    let missing = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(missing["data"]["node"], Value::Null, "{missing}");
    assert_eq!(error_codes(&missing), ["UPSTREAM_BAD_RESPONSE"]);
    let found = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(found["data"]["node"]["nativeId"], session.to_string(), "{found}");
    assert_eq!(app.upstream("POST /platform_api/GetCallHistory"), 2);
}

#[tokio::test]
async fn an_upstream_body_over_the_providers_cap_is_a_bad_response() {
    let app = spawn(|u| {
        u.max_retries = 0;
        u.max_body_bytes_per_provider.insert("oneuptime".into(), 1 << 20);
    })
    .await;
    app.emulator
        .inject(Fault::always(FaultKind::Huge { bytes: 8 << 20 }).on("/api/call-log/get-list"));
    let response = app.query(ONEUPTIME_PAGE, json!({ "first": 5 })).await;
    assert_eq!(
        error_codes(&response),
        ["UPSTREAM_BAD_RESPONSE"],
        "{}",
        response["errors"]
    );
    // The others keep the default cap (16 MiB) and answer.
    let voice = app.query(VOICE_LOGS, json!({ "first": 5 })).await;
    assert!(voice["errors"].is_null(), "{voice}");
}

#[tokio::test]
async fn a_gzip_bomb_report_stops_at_the_decompressed_cap() {
    let app = TestApp::spawn_with(small_emulator(), |config, _| {
        // The pending status must not be served from the cache once the report completes.
        config.cache.live_ttl = Duration::ZERO;
        if let Some(vx) = config.providers.voximplant.as_mut() {
            vx.max_report_bytes = 1 << 20;
        }
    })
    .await;
    let report = app.query(AUDIT_REPORT, json!({})).await;
    let id = report["data"]["requestVoximplantAuditLogReport"]["id"].clone();
    assert!(id.is_string(), "{report}");
    app.emulator.complete_voximplant_reports();
    app.emulator
        .inject(Fault::always(FaultKind::GzipBomb { bytes: 16 << 20 }).on("/platform_api/DownloadHistoryReport"));
    let entries = r#"query($id: ID!) { node(id: $id) { ... on VoximplantHistoryReport {
        reportStatus entries(first: 5) { totalCount } } } }"#;
    let response = app.query(entries, json!({ "id": id })).await;
    assert_eq!(response["data"]["node"]["reportStatus"], "COMPLETED", "{response}");
    assert_eq!(response["data"]["node"]["entries"], Value::Null);
    assert_eq!(error_codes(&response), ["UPSTREAM_BAD_RESPONSE"]);
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on CallLog { status providerStatus } } }";
    let response = app.query(query, json!({ "id": id })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["node"].clone()
}

/// moka keeps time by its own clock, not tokio's, so this test waits out a short live TTL
/// for real (a timer, not a server).
#[tokio::test]
async fn a_live_call_is_refreshed_after_live_ttl_and_then_cached_as_final() {
    let app = TestApp::spawn_with(small_emulator(), |config, _| {
        config.cache.live_ttl = Duration::from_millis(300);
        config.cache.final_ttl = Duration::from_secs(3600);
    })
    .await;
    let native = app.emulator.oneuptime_call_log_ids()[0].clone();
    assert!(app.emulator.set_oneuptime_status(&native, "In Progress"));
    let id = oneuptime_id(&native);
    let live = status_of(&app, &id).await;
    assert_eq!(
        (&live["status"], &live["providerStatus"]),
        (&json!("UNKNOWN"), &json!("In Progress"))
    );
    assert_eq!(app.upstream(ONEUPTIME_GET), 1);

    // The call ends upstream; within live_ttl the cached live record is still served.
    assert!(app.emulator.set_oneuptime_status(&native, "Success"));
    assert_eq!(status_of(&app, &id).await["status"], "UNKNOWN");
    assert_eq!(app.upstream(ONEUPTIME_GET), 1);

    // After live_ttl it is read again, now final...
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status_of(&app, &id).await["status"], "PLACED");
    assert_eq!(app.upstream(ONEUPTIME_GET), 2);

    // ...and cached for final_ttl: later changes upstream cost no call.
    assert!(app.emulator.set_oneuptime_status(&native, "Error"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status_of(&app, &id).await["status"], "PLACED");
    assert_eq!(app.upstream(ONEUPTIME_GET), 2);
}

#[tokio::test]
async fn an_unreadable_log_is_reported_by_id_and_the_rest_of_its_page_is_kept() {
    let app = spawn(|_| {}).await;
    let mut records = voice_records(&app).await;
    app.emulator.reset();
    let broken = records[1]["id"].as_str().expect("id").to_string();
    records[1]["created_at"] = json!("not a date");
    app.emulator
        .inject(Fault::always(voice_page(&records, None)).on("/api/voice/logs?page_size"));
    let response = app.query(VOICE_LOGS, json!({ "first": 5 })).await;
    let readable: Vec<&str> = [&records[0], &records[2]]
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(native_ids(&response), readable, "{response}");
    assert_eq!(error_codes(&response), ["UPSTREAM_BAD_RESPONSE"]);
    let message = response["errors"][0]["message"].as_str().expect("a message");
    assert!(message.contains(&broken), "the error names the record: {message}");

    // Paged one by one, every readable log comes once and the broken one is reported once.
    let mut seen = Vec::new();
    let mut reported = 0;
    let mut after = Value::Null;
    loop {
        let response = app.query(VOICE_LOGS, json!({ "first": 1, "after": after })).await;
        seen.extend(native_ids(&response).into_iter().map(str::to_string));
        reported += error_codes(&response).len();
        let info = &response["data"]["signalWireVoiceLogs"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, readable);
    assert_eq!(reported, 1);
}

#[tokio::test]
async fn an_unreadable_oneuptime_log_is_reported_by_id_and_the_rest_of_its_page_is_kept() {
    let app = spawn(|_| {}).await;
    let record = |n: usize, created_at: &str| {
        json!({
            "_id": uuid(n), "createdAt": created_at, "updatedAt": created_at,
            "projectId": uuid(99), "fromNumber": "+14155550100", "toNumber": "+14155550101",
            "status": "Success", "callCostInUSDCents": 12, "callData": {},
        })
    };
    let data = [
        record(1, "2026-10-03T10:00:00.000Z"),
        record(2, "not a date"),
        record(3, "2026-10-01T10:00:00.000Z"),
    ];
    app.emulator.inject(
        Fault::always(FaultKind::Body {
            status: 200,
            body: json!({ "data": data, "count": 3, "skip": 0, "limit": 50 }),
        })
        .on("/api/call-log/get-list"),
    );
    let response = app.query(ONEUPTIME_PAGE, json!({ "first": 5 })).await;
    let ids: Vec<&str> = response["data"]["oneUptimeCallLogs"]["edges"]
        .as_array()
        .map(|edges| edges.iter().filter_map(|e| e["node"]["nativeId"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [uuid(1), uuid(3)], "{response}");
    assert_eq!(error_codes(&response), ["UPSTREAM_BAD_RESPONSE"]);
    let message = response["errors"][0]["message"].as_str().expect("a message");
    assert!(message.contains(&uuid(2)), "the error names the record: {message}");
}

#[tokio::test]
async fn an_unreadable_voximplant_session_is_reported_by_id_and_the_rest_of_its_page_is_kept() {
    let app = spawn(|_| {}).await;
    let rows = json!([
        { "call_session_history_id": 9001, "start_date": "2026-10-03 10:00:00", "duration": 30 },
        { "call_session_history_id": 9002, "start_date": "the third of October" },
        { "call_session_history_id": 9003, "start_date": "2026-10-01 10:00:00", "duration": 12 },
    ]);
    app.emulator.inject(
        Fault::always(FaultKind::Body {
            status: 200,
            body: json!({ "result": rows, "total_count": 3, "count": 3 }),
        })
        .on("/platform_api/GetCallHistory"),
    );
    let query = r#"{ voximplantCallSessions(first: 5, filter: { createdAfter: "2026-09-01T00:00:00Z" }) {
        edges { node { nativeId } } } }"#;
    let response = app.query(query, json!({})).await;
    let ids: Vec<&str> = response["data"]["voximplantCallSessions"]["edges"]
        .as_array()
        .map(|edges| edges.iter().filter_map(|e| e["node"]["nativeId"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["9001", "9003"], "{response}");
    assert_eq!(error_codes(&response), ["UPSTREAM_BAD_RESPONSE"]);
    let message = response["errors"][0]["message"].as_str().expect("a message");
    assert!(message.contains("9002"), "the error names the session: {message}");
}

#[tokio::test]
async fn a_batch_answer_naming_another_record_is_a_bad_response_and_nothing_is_cached() {
    let app = spawn(|_| {}).await;
    let ids = app.emulator.oneuptime_call_log_ids();
    let other = json!({
        "_id": ids[1], "createdAt": "2026-10-03T10:00:00.000Z", "projectId": uuid(99),
        "fromNumber": "+14155550100", "toNumber": "+14155550101", "status": "Success",
        "callCostInUSDCents": 12, "callData": {},
    });
    app.emulator.inject(fault(
        FaultKind::Body {
            status: 200,
            body: other,
        },
        &format!("/api/call-log/{}", ids[0]),
        Some(1),
    ));
    let id = oneuptime_id(&ids[0]);
    let wrong = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(error_codes(&wrong), ["UPSTREAM_BAD_RESPONSE"], "{wrong}");
    let right = app.query(NODE, json!({ "id": id })).await;
    assert_eq!(right["data"]["node"]["nativeId"], json!(ids[0]), "{right}");
    assert_eq!(app.upstream(ONEUPTIME_GET), 2, "the wrong answer was not cached");
}

#[tokio::test]
async fn over_a_providers_max_requests_per_second_requests_queue_briefly_then_are_refused_without_a_call() {
    let app = TestApp::spawn_with(small_emulator(), |config, emulator| {
        config.providers.oneuptime = Some(switchboard::config::OneUptimeConfig {
            max_requests_per_second: Some(2.0),
            ..oneuptime_config(emulator)
        });
    })
    .await;
    // Ten lookups at once: slots at 0, 0.5 and 1 s fit upstream.max_retry_wait (1 s).
    let answers = join_all((1..=10).map(|n| app.query(NODE, json!({ "id": oneuptime_id(&uuid(n)) })))).await;
    let served = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert!((3..=4).contains(&served), "{served} served: {answers:?}");
    for refused in answers.iter().filter(|a| !a["errors"].is_null()) {
        assert_eq!(error_codes(refused), ["UPSTREAM_RATE_LIMITED"], "{refused}");
        assert!(refused["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() >= Some(1));
    }
    assert_eq!(
        app.upstream(ONEUPTIME_GET),
        served as u64,
        "a refused request sends nothing"
    );
}

//! Voximplant end to end: JWT auth failures, windowed paging (also past offset 10,000),
//! filters, batch reads by id, and `totalCount`.

use crate::common::*;
use base64::Engine;
use serde_json::{Value, json};
use switchboard::config::Secret;
use switchboard::emulator::{DEMO_ACCOUNT_ID, DEMO_KEY_ID, DEMO_PRIVATE_KEY, OTHER_PRIVATE_KEY};

fn credentials(key_id: &str, private_key: &str) -> String {
    json!({"account_id": DEMO_ACCOUNT_ID, "key_id": key_id, "private_key": private_key}).to_string()
}

fn session_ids(app: &TestApp) -> Vec<String> {
    app.emulator
        .voximplant_sessions()
        .iter()
        .map(|(id, _)| id.to_string())
        .collect()
}

fn session_global_id(id: u64, start: chrono::DateTime<chrono::Utc>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("VoximplantCallSession:{id}@{}", start.timestamp()))
}

async fn auth_failure(tweak: impl FnOnce(&mut switchboard::Config), skew: i64) -> Value {
    let mut emulator = small_emulator();
    emulator.voximplant_clock_skew_seconds = skew;
    let app = TestApp::spawn_with(emulator, |c, _| tweak(c)).await;
    let r = app.query(SESSION_PAGE, json!({"first": 3})).await;
    assert_eq!(r["errors"][0]["extensions"]["provider"], "VOXIMPLANT", "{r}");
    assert!(!r.to_string().contains("Authorization failed"), "no upstream text: {r}");
    r
}

#[tokio::test]
async fn expired_tokens_wrong_kids_and_bad_signatures_are_upstream_unauthorized() {
    let expired = auth_failure(|_| {}, 7_200).await;
    assert_eq!(
        error_codes(&expired),
        ["UPSTREAM_UNAUTHORIZED"],
        "the emulator's clock is 2 h ahead"
    );
    let wrong_kid = auth_failure(
        |c| {
            c.providers.voximplant.as_mut().unwrap().credentials_json =
                Some(Secret::new(credentials("some-other-key", DEMO_PRIVATE_KEY)))
        },
        0,
    )
    .await;
    assert_eq!(error_codes(&wrong_kid), ["UPSTREAM_UNAUTHORIZED"]);
    let bad_signature = auth_failure(
        |c| {
            c.providers.voximplant.as_mut().unwrap().credentials_json =
                Some(Secret::new(credentials(DEMO_KEY_ID, OTHER_PRIVATE_KEY)))
        },
        0,
    )
    .await;
    assert_eq!(error_codes(&bad_signature), ["UPSTREAM_UNAUTHORIZED"]);
}

#[tokio::test]
async fn credentials_files_in_the_wrapped_layout_work() {
    let path = std::env::temp_dir().join(format!("vox-credentials-{}.json", std::process::id()));
    std::fs::write(
        &path,
        format!("{{\"result\": {}}}", credentials(DEMO_KEY_ID, DEMO_PRIVATE_KEY)),
    )
    .unwrap();
    let file = path.clone();
    let app = TestApp::spawn_with(small_emulator(), move |c, _| {
        let vx = c.providers.voximplant.as_mut().unwrap();
        vx.credentials_json = None;
        vx.credentials_file = Some(file.into());
    })
    .await;
    let r = app.query(SESSION_PAGE, json!({"first": 3})).await;
    assert!(r["errors"].is_null(), "{r}");
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn paging_sessions_with_first_1_7_and_100_yields_the_same_sequence() {
    let app = TestApp::spawn().await;
    let expected = session_ids(&app);
    for first in [1, 7, 100] {
        let ids = page_all(&app, SESSION_PAGE, "voximplantCallSessions", first, json!({})).await;
        assert_eq!(ids, expected, "first = {first}");
    }
}

#[tokio::test]
async fn resuming_mid_page_reads_the_cached_upstream_page() {
    let app = TestApp::spawn().await;
    // Upstream pages hold 100 sessions: 19 GraphQL pages of 5 (plus the look-ahead item for
    // hasNextPage) stay inside the first one; the next page's look-ahead needs the second.
    let (ids, calls) = resume_pages_of_five(&app, SESSION_PAGE, "voximplantCallSessions", VOXIMPLANT_HISTORY, 19).await;
    assert_eq!(calls, [1, 2], "one upstream page serves 19 GraphQL pages");
    let all = page_all(&app, SESSION_PAGE, "voximplantCallSessions", 100, json!({})).await;
    assert_eq!(
        ids,
        all[..100],
        "the resumed pages are the first 100 sessions, in order"
    );
}

#[tokio::test]
async fn paging_past_offset_10000_repeats_and_skips_nothing() {
    // 12,000 sessions within one hour: offsets run past 10,000 and many share a second.
    let mut emulator = small_emulator();
    emulator.voximplant_sessions = 12_000;
    emulator.voximplant_span_seconds = 3_600;
    let app = TestApp::spawn_with(emulator, |c, _| {
        c.providers.voximplant.as_mut().unwrap().page_size = 1000
    })
    .await;
    let expected = session_ids(&app);
    let ids = page_all(&app, SESSION_PAGE, "voximplantCallSessions", 100, json!({})).await;
    assert_eq!(ids.len(), expected.len());
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn nodes_with_50_session_ids_make_exactly_one_upstream_call_and_none_when_repeated() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = app
        .emulator
        .voximplant_sessions()
        .iter()
        .step_by(13)
        .take(50)
        .map(|(id, t)| session_global_id(*id, *t))
        .collect();
    let q =
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on VoximplantCallSession { sessionId calls { callId } } } }";
    let r = app.query(q, json!({"ids": ids})).await;
    assert!(r["errors"].is_null(), "{r}");
    let got = node_ids(&r);
    assert_eq!(got, ids);
    assert!(!r["data"]["nodes"][0]["calls"].as_array().unwrap().is_empty());
    assert_eq!(
        app.upstream(VOXIMPLANT_HISTORY),
        1,
        "one GetCallHistory with call_session_history_id=a;b;c"
    );
    app.query(q, json!({"ids": ids})).await;
    assert_eq!(app.upstream(VOXIMPLANT_HISTORY), 1, "the repeat is cached");
}

#[tokio::test]
async fn a_listed_session_opens_by_id_without_an_upstream_call() {
    let app = TestApp::spawn().await;
    let r = app.query(SESSION_PAGE, json!({"first": 5})).await;
    let id = r["data"]["voximplantCallSessions"]["edges"][2]["node"]["id"].clone();
    let before = app.upstream_total();
    let one = app
        .query("query($id: ID!) { node(id: $id) { id } }", json!({"id": id}))
        .await;
    assert_eq!(one["data"]["node"]["id"], id);
    assert_eq!(app.upstream_total(), before);
}

#[tokio::test]
async fn filters_return_exactly_the_matching_sessions() {
    let app = TestApp::spawn().await;
    let q = r#"query($after: String, $filter: VoximplantCallSessionFilter) { voximplantCallSessions(first: 100, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { nativeId createdAt ... on VoximplantCallSession { applicationId applicationName userId
          calls { localNumber remoteNumber } } } } } }"#;
    let all_of = |filter: Value| {
        let app = &app;
        async move {
            let mut nodes = Vec::new();
            let mut after = Value::Null;
            let mut total = None;
            loop {
                let r = app.query(q, json!({"after": after, "filter": filter})).await;
                assert!(r["errors"].is_null(), "{filter}: {r}");
                let c = &r["data"]["voximplantCallSessions"];
                total = total.or(c["totalCount"].as_u64());
                nodes.extend(c["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
                if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return (nodes, total.unwrap());
                }
                after = c["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let (everything, total) = all_of(json!({})).await;
    assert_eq!(everything.len(), 800);
    assert_eq!(total, 800);
    let sample = &everything[10];
    let remote = sample["calls"][0]["remoteNumber"].as_str().unwrap().to_string();
    let local = sample["calls"][0]["localNumber"].as_str().unwrap().to_string();
    let created = |n: &Value| n["createdAt"].as_str().unwrap().to_string();
    let has = |n: &Value, field: &str, v: &str| n["calls"].as_array().unwrap().iter().any(|c| c[field] == v);
    type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(Value, Keep)> = vec![
        (
            json!({"remoteNumbers": [remote]}),
            Box::new(|n| has(n, "remoteNumber", &remote)),
        ),
        (
            json!({"localNumbers": [local]}),
            Box::new(|n| has(n, "localNumber", &local)),
        ),
        (
            json!({"applicationId": 10002}),
            Box::new(|n| n["applicationId"] == "10002"),
        ),
        (
            json!({"applicationName": "ivr.acme.voximplant.com"}),
            Box::new(|n| n["applicationName"] == "ivr.acme.voximplant.com"),
        ),
        (
            json!({"userIds": [503, 504]}),
            Box::new(|n| n["userId"] == "503" || n["userId"] == "504"),
        ),
        (
            json!({"createdAfter": created(&everything[300]), "createdBefore": created(&everything[100])}),
            Box::new(|n| created(n) > created(&everything[300]) && created(n) < created(&everything[100])),
        ),
    ];
    for (filter, keep) in cases {
        let expected: Vec<&Value> = everything.iter().filter(|n| keep(n)).map(|n| &n["nativeId"]).collect();
        let (got, total) = all_of(filter.clone()).await;
        let got: Vec<&Value> = got.iter().map(|n| &n["nativeId"]).collect();
        assert!(!expected.is_empty(), "{filter} matches something");
        assert_eq!(got, expected, "{filter}");
        assert_eq!(total as usize, expected.len(), "{filter}: totalCount");
    }
    let both = app
        .query(
            SESSION_PAGE,
            json!({"filter": {"applicationId": 1, "applicationName": "x"}}),
        )
        .await;
    assert_eq!(error_codes(&both), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn paging_the_audit_log_with_first_1_7_and_100_yields_every_entry_once_newest_first() {
    let app = TestApp::spawn().await;
    let expected: Vec<String> = app
        .emulator
        .voximplant_audit_entries()
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(expected.len(), 500);
    for first in [1, 7, 100] {
        let ids = page_all_numbers(&app, first, json!({})).await;
        assert_eq!(ids, expected, "first = {first}");
    }
}

/// `page_all` for the audit log, whose `nativeId` alias is a number.
async fn page_all_numbers(app: &TestApp, first: i64, filter: Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app
            .query(AUDIT_PAGE, json!({"first": first, "after": after, "filter": filter}))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["voximplantAuditLog"];
        ids.extend(
            c["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["nativeId"].as_str().expect("auditLogId is an ID").to_string()),
        );
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return ids;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn audit_filters_return_exactly_the_matching_entries_and_entries_open_by_id() {
    let app = TestApp::spawn().await;
    let q = r#"query($after: String, $filter: VoximplantAuditLogFilter) { voximplantAuditLog(first: 100, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id auditLogId cmdName ip subuserName cmdArgs cmdResult requestedAt } } } }"#;
    let all_of = |filter: Value| {
        let app = &app;
        async move {
            let (mut nodes, mut after) = (Vec::new(), Value::Null);
            loop {
                let r = app.query(q, json!({"after": after, "filter": filter})).await;
                assert!(r["errors"].is_null(), "{filter}: {r}");
                let c = &r["data"]["voximplantAuditLog"];
                let total = c["totalCount"].as_u64().unwrap();
                nodes.extend(c["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
                if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    return (nodes, total);
                }
                after = c["pageInfo"]["endCursor"].clone();
            }
        }
    };
    let (everything, _) = all_of(json!({})).await;
    let user = everything[0]["cmdArgs"]["user_id"].clone();
    let admin = everything
        .iter()
        .find_map(|n| n["subuserName"].as_str())
        .unwrap()
        .to_string();
    type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(Value, Keep)> = vec![
        (
            json!({"commands": ["AddSkill", "DelUser"]}),
            Box::new(|n| n["cmdName"] == "AddSkill" || n["cmdName"] == "DelUser"),
        ),
        (json!({"ips": ["203.0.113.5"]}), Box::new(|n| n["ip"] == "203.0.113.5")),
        (
            json!({"adminUserId": admin}),
            Box::new(|n| n["subuserName"] == admin.as_str()),
        ),
        (
            json!({"relatedId": user.to_string()}),
            Box::new(|n| n["cmdArgs"]["user_id"] == user || n["cmdArgs"]["application_id"] == user),
        ),
    ];
    for (filter, keep) in cases {
        let expected: Vec<&Value> = everything
            .iter()
            .filter(|n| keep(n))
            .map(|n| &n["auditLogId"])
            .collect();
        let (got, total) = all_of(filter.clone()).await;
        let got: Vec<&Value> = got.iter().map(|n| &n["auditLogId"]).collect();
        assert!(!expected.is_empty(), "{filter}");
        assert_eq!(got, expected, "{filter}");
        assert_eq!(total as usize, expected.len(), "{filter}");
    }
    let id = everything[42]["id"].clone();
    let r = app
        .query(
            "query($id: ID!) { node(id: $id) { id ... on VoximplantAuditLogEntry { cmdName } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r["data"]["node"]["cmdName"], everything[42]["cmdName"], "{r}");
    let r = app
        .query("query($id: ID!) { callLog(id: $id) { id } }", json!({"id": id}))
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "an audit entry is not a call log");
}

const REQUEST_REPORT: &str = r#"mutation($filter: VoximplantAuditLogFilter) {
  requestVoximplantAuditLogReport(filter: $filter) { id reportId type status: reportStatus createdAt: reportCreatedAt completedAt } }"#;
const REPORT_STATUS: &str = r#"query($id: ID!) { node(id: $id) { ... on VoximplantHistoryReport {
  status: reportStatus completedAt fileName downloadCount storeUntil } } }"#;
const REPORT_ENTRIES: &str = r#"query($id: ID!, $after: String) { node(id: $id) { ... on VoximplantHistoryReport {
  entries(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { auditLogId cmdName cmdArgs } } } } } }"#;

async fn report_entries(app: &TestApp, id: &Value) -> Vec<Value> {
    let mut ids = Vec::new();
    let mut totals = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app.query(REPORT_ENTRIES, json!({"id": id, "after": after})).await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["node"]["entries"];
        totals.push(c["totalCount"].as_u64().expect("totalCount"));
        ids.extend(
            c["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["auditLogId"].clone()),
        );
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert!(
                totals.iter().all(|&t| t == ids.len() as u64),
                "every page's totalCount is the report's row count"
            );
            return ids;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn the_audit_report_flow_requests_polls_downloads_once_and_pages() {
    let mut emulator = small_emulator();
    emulator.voximplant_report_delay_seconds = 3_600;
    // Pending statuses must not be served from the cache in this test.
    let app = TestApp::spawn_with(emulator, |c, _| c.cache.live_ttl = std::time::Duration::ZERO).await;
    let filter = json!({"commands": ["AddSkill", "DelUser"], "ips": ["203.0.113.5"]});
    let listed: Vec<Value> = {
        let q = r#"query($filter: VoximplantAuditLogFilter) { voximplantAuditLog(first: 100, filter: $filter) { edges { node { auditLogId } } } }"#;
        let r = app.query(q, json!({"filter": filter})).await;
        r["data"]["voximplantAuditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["auditLogId"].clone())
            .collect()
    };
    assert!(
        listed.len() > 10 && listed.len() < 100,
        "the filter selects {} entries",
        listed.len()
    );

    let mut reports = Vec::new();
    for _ in 0..2 {
        let r = app.query(REQUEST_REPORT, json!({"filter": filter})).await;
        assert!(r["errors"].is_null(), "{r}");
        let report = r["data"]["requestVoximplantAuditLogReport"].clone();
        assert_eq!(report["status"], "PENDING");
        assert_eq!(report["type"], "audit");
        assert!(report["completedAt"].is_null());
        reports.push(report["id"].clone());
    }
    let pending = app.query(REPORT_STATUS, json!({"id": reports[0]})).await;
    assert_eq!(pending["data"]["node"]["status"], "PENDING");
    // Polling as the README shows (status and entries in one query) is not an error:
    // entries stay null until the report is COMPLETED.
    let early = app.query(REPORT_ENTRIES, json!({"id": reports[0]})).await;
    assert!(early["errors"].is_null(), "{early}");
    assert!(early["data"]["node"].is_object(), "{early}");
    assert!(
        early["data"]["node"]["entries"].is_null(),
        "entries before completion: {early}"
    );
    assert_eq!(app.upstream("POST /platform_api/DownloadHistoryReport"), 0);

    app.emulator.complete_voximplant_reports();
    for (n, id) in reports.iter().enumerate() {
        let done = app.query(REPORT_STATUS, json!({"id": id})).await;
        assert_eq!(done["data"]["node"]["status"], "COMPLETED", "{done}");
        assert!(done["data"]["node"]["storeUntil"].is_string());
        let entries = report_entries(&app, id).await;
        assert_eq!(entries, listed, "report {n}: the same entries as the listing, in order");
        assert_eq!(
            app.upstream("POST /platform_api/DownloadHistoryReport"),
            n as u64 + 1,
            "one download per report"
        );
        assert_eq!(report_entries(&app, id).await, listed);
        assert_eq!(
            app.upstream("POST /platform_api/DownloadHistoryReport"),
            n as u64 + 1,
            "a second read downloads nothing"
        );
    }
    assert_eq!(app.upstream("POST /platform_api/GetAuditLogAsync"), 2);
}

const REQUEST_CALL_REPORT: &str = r#"mutation($filter: VoximplantCallSessionFilter) {
  requestVoximplantCallHistoryReport(filter: $filter) { id type status: reportStatus completedAt } }"#;
const REPORT_SESSIONS: &str = r#"query($id: ID!, $after: String) { node(id: $id) { ... on VoximplantHistoryReport {
  callSessions(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { nativeId createdAt from to calls { remoteNumber incoming } } } } } } }"#;

/// Pages a call report's sessions: (native ids, totalCount of every page, calls per session).
async fn report_sessions(app: &TestApp, id: &Value) -> (Vec<String>, Vec<u64>, Vec<usize>) {
    let (mut ids, mut totals, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let r = app.query(REPORT_SESSIONS, json!({"id": id, "after": after})).await;
        assert!(r["errors"].is_null(), "{r}");
        let c = &r["data"]["node"]["callSessions"];
        totals.push(c["totalCount"].as_u64().expect("totalCount"));
        for e in c["edges"].as_array().unwrap() {
            ids.push(e["node"]["nativeId"].as_str().unwrap().to_string());
            calls.push(e["node"]["calls"].as_array().unwrap().len());
        }
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, totals, calls);
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn the_call_history_report_flow_downloads_once_and_pages_typed_sessions() {
    let mut emulator = small_emulator();
    emulator.voximplant_report_delay_seconds = 3_600;
    let app = TestApp::spawn_with(emulator, |c, _| c.cache.live_ttl = std::time::Duration::ZERO).await;
    let sessions = app.emulator.voximplant_sessions();
    let (after, before) = (sessions[60].1, sessions[10].1);
    let expected: Vec<String> = sessions
        .iter()
        .filter(|(_, start)| *start > after && *start < before)
        .map(|(id, _)| id.to_string())
        .collect();
    assert!(expected.len() > 40, "{} sessions in the window", expected.len());
    let filter = json!({"createdAfter": after.to_rfc3339(), "createdBefore": before.to_rfc3339()});

    let r = app.query(REQUEST_CALL_REPORT, json!({"filter": filter})).await;
    assert!(r["errors"].is_null(), "{r}");
    let report = &r["data"]["requestVoximplantCallHistoryReport"];
    assert_eq!(
        (report["status"].as_str(), report["type"].as_str()),
        (Some("PENDING"), Some("calls"))
    );
    let id = report["id"].clone();
    assert_eq!(app.upstream("POST /platform_api/GetCallHistoryAsync"), 1);
    let early = app.query(REPORT_SESSIONS, json!({"id": id})).await;
    assert!(early["errors"].is_null(), "{early}");
    assert!(
        early["data"]["node"]["callSessions"].is_null(),
        "sessions before completion: {early}"
    );

    app.emulator.complete_voximplant_reports();
    let done = app.query(REPORT_STATUS, json!({"id": id})).await;
    assert_eq!(done["data"]["node"]["status"], "COMPLETED", "{done}");
    let as_entries = app.query(REPORT_ENTRIES, json!({"id": id})).await;
    assert_eq!(
        error_codes(&as_entries),
        ["BAD_USER_INPUT"],
        "a calls report has no audit entries"
    );

    let history_before = app.upstream("POST /platform_api/GetCallHistory");
    let (ids, totals, calls) = report_sessions(&app, &id).await;
    assert_eq!(ids, expected, "the window's sessions, newest first");
    assert!(totals.iter().all(|&t| t == expected.len() as u64));
    assert!(calls.iter().all(|&n| n >= 1), "sessions come typed, with their calls");
    let pages = expected.len().div_ceil(7) as u64;
    assert_eq!(app.upstream("POST /platform_api/DownloadHistoryReport"), 1);
    assert_eq!(
        app.upstream("POST /platform_api/GetCallHistory") - history_before,
        pages,
        "one GetCallHistory by id per page of sessions"
    );

    assert_eq!(report_sessions(&app, &id).await.0, expected);
    assert_eq!(
        app.upstream("POST /platform_api/DownloadHistoryReport"),
        1,
        "a second read downloads nothing"
    );
    assert_eq!(
        app.upstream("POST /platform_api/GetCallHistory") - history_before,
        pages,
        "and loads no session again"
    );
}

#[tokio::test]
async fn mutations_are_refused_over_get() {
    let app = TestApp::spawn().await;
    let r = app
        .http()
        .get(&app.url)
        .query(&[("query", "mutation { requestVoximplantAuditLogReport { id } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(app.upstream_total(), 0);
}

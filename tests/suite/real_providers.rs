//! What the providers' own public sources say they do, where our first reading of them
//! was wrong: each test names its source, and the emulator imitates the real
//! service, so these fail against a client that keeps the old reading.

use crate::common::*;
use serde_json::{Value, json};
use switchboard::emulator::{EmulatorConfig, Fault, FaultKind, Quirks};

/// `POST /api/call-log/get-list?{paging}` straight to the emulated OneUptime, with the
/// demo key.
async fn oneuptime_get_list(app: &TestApp, paging: &str, body: Value) -> reqwest::Response {
    let url = format!("{}api/call-log/get-list?{paging}", app.emulator.base_url());
    app.http()
        .post(url)
        .header("ApiKey", switchboard::emulator::DEMO_ONEUPTIME_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn single_error(r: &Value) -> &Value {
    let errors = r["errors"].as_array().unwrap_or_else(|| panic!("an error: {r}"));
    assert_eq!(errors.len(), 1, "{r}");
    &errors[0]
}

// --- 1. OneUptime prints milliseconds of microsecond times ---------------------------

/// OneUptime stores `createdAt` as a Postgres `timestamptz` (microseconds) and prints it
/// with `toISOString()` (milliseconds; OneUptime/oneuptime `Common/Utils/JSONFunctions.ts`).
/// The emulator's data keeps several logs in one printed millisecond at upstream page
/// boundaries (50 rows a page here), which is what made the old `createdAt <= t` anchor
/// skip rows (`tests/oneuptime.rs` pages them with every page size).
#[tokio::test]
async fn oneuptime_logs_share_printed_milliseconds_across_upstream_page_boundaries() {
    let app = TestApp::spawn().await;
    let query = json!({"select": {"createdAt": true}, "sort": {"createdAt": "DESC", "_id": "DESC"}});
    let body: Value = oneuptime_get_list(&app, "skip=0&limit=700", query)
        .await
        .json()
        .await
        .unwrap();
    let printed: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["createdAt"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(printed.len(), 700);
    assert!(
        printed.iter().all(|t| t.len() == "2026-10-28T04:55:00.599Z".len()),
        "milliseconds: {:?}",
        &printed[..3]
    );
    let straddling = (1..printed.len() / 50)
        .filter(|page| printed[page * 50 - 1] == printed[page * 50])
        .count();
    assert!(
        straddling >= 2,
        "{straddling} page boundaries fall inside a millisecond"
    );
}

// --- 2. Voximplant's error code table --------------------------------------------------

async fn sessions_with_error(code: i64, msg: &str) -> Value {
    let app = TestApp::spawn().await;
    app.emulator.inject(
        Fault::always(FaultKind::Body {
            status: 200,
            body: json!({"error": {"code": code, "msg": msg}}),
        })
        .on("/platform_api/GetCallHistory"),
    );
    app.query(SESSION_PAGE, json!({"first": 5})).await
}

/// voximplant.com/docs/references/httpapi/errors: 100 authorization failed, 101 invalid
/// arguments, 102 missing `cmd`, 103 unknown command, 104 forbidden command.
#[tokio::test]
async fn voximplant_error_codes_are_read_as_its_error_table_defines_them() {
    let cases = [
        (100, "Authorization failed", "UPSTREAM_UNAUTHORIZED"),
        (101, "Invalid argument: remote_number", "BAD_USER_INPUT"),
        (103, "Unknown command", "UPSTREAM_BAD_RESPONSE"),
        (104, "Forbidden command", "UPSTREAM_UNAUTHORIZED"),
    ];
    for (code, msg, expected) in cases {
        let r = sessions_with_error(code, msg).await;
        let error = single_error(&r);
        assert_eq!(error["extensions"]["code"], expected, "code {code}: {r}");
        assert_eq!(error["extensions"]["provider"], "VOXIMPLANT");
        assert!(
            !error["message"].as_str().unwrap().contains(msg),
            "no upstream text leaks"
        );
    }
}

/// The emulator answers bad parameters as Voximplant does: HTTP 200, `{"error": {"code":
/// 101, "msg"}}`, and 103 for a method it does not have.
#[tokio::test]
async fn the_emulated_voximplant_answers_with_codes_of_the_real_table() {
    let app = TestApp::spawn().await;
    let token = voximplant_token();
    let call = |method: &str, params: Vec<(&str, &str)>| {
        let url = format!("{}platform_api/{method}", app.emulator.base_url());
        let request = app.http().post(url).bearer_auth(&token).form(&params);
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let window = [("from_date", "2020-01-01 00:00:00"), ("to_date", "2030-01-01 00:00:00")];
    let bad_zone = call(
        "GetCallHistory",
        [&window[..], &[("timezone", "Mars/Olympus")]].concat(),
    )
    .await;
    assert_eq!(bad_zone["error"]["code"], 101, "{bad_zone}");
    let unknown = call("GetCallHistoryEverything", window.to_vec()).await;
    assert_eq!(unknown["error"]["code"], 103, "{unknown}");
}

fn voximplant_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(switchboard::emulator::DEMO_KEY_ID.into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(switchboard::emulator::DEMO_PRIVATE_KEY.as_bytes()).unwrap();
    let claims = json!({"iss": switchboard::emulator::DEMO_ACCOUNT_ID, "iat": now, "exp": now + 60});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

// --- 3. OneUptime's Phone type -----------------------------------------------------------

/// OneUptime's `Phone` (OneUptime/oneuptime `Common/Types/Phone.ts`) refuses a value not
/// matching `^[+]?[(]?[0-9]{3}[)]?[-\s.]?[0-9]{3}[-\s.]?[0-9]{4,7}$` with 400 "Phone is
/// not in valid format"; the gateway refuses it first and normalizes what it can.
#[tokio::test]
async fn oneuptime_phone_filters_are_checked_before_sending_and_normalized() {
    let app = TestApp::spawn().await;
    let r = app
        .query(ONEUPTIME_PAGE, json!({"first": 5, "filter": {"fromNumber": "+1555"}}))
        .await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    assert!(error["message"].as_str().unwrap().contains("fromNumber"), "{r}");
    assert_eq!(app.upstream(ONEUPTIME_LIST), 0, "nothing was sent");

    let q = r#"query($filter: OneUptimeCallLogFilter) { oneUptimeCallLogs(first: 100, filter: $filter) { edges { node { from } } } }"#;
    let r = app
        .query(q, json!({"filter": {"fromNumber": "+1 (415) 555-0007"}}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let froms: Vec<&str> = r["data"]["oneUptimeCallLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["from"].as_str().unwrap())
        .collect();
    assert!(!froms.is_empty());
    assert!(froms.iter().all(|f| *f == "+14155550007"), "{froms:?}");

    // The emulator refuses such a value as OneUptime does.
    let query = json!({"query": {"fromNumber": "+1555"}, "select": {"_id": true}});
    let raw = oneuptime_get_list(&app, "limit=1", query).await;
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"], "Phone is not in valid format: +1555");
}

// --- 4. SignalWire history retention -----------------------------------------------------

fn with_quirks(quirks: Quirks) -> EmulatorConfig {
    EmulatorConfig {
        quirks,
        ..small_emulator()
    }
}

/// A gateway over an emulator with `quirks`.
async fn spawn_with_quirks(quirks: Quirks) -> TestApp {
    TestApp::spawn_with(with_quirks(quirks), |_, _| {}).await
}

/// The voice logs as the emulator lists them: (id, created_at).
async fn voice_logs_upstream(app: &TestApp) -> Vec<(String, String)> {
    let url = format!("{}api/voice/logs?page_size=1000", app.emulator.base_url());
    let body: Value = json_of(app.http().get(url).basic_auth("demo-project", Some("demo-token"))).await;
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["created_at"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// SignalWire answers 422 `exceeds_history_logs_limit` (`type: account_error`) past its
/// history retention, naming `created_at` on a by-id read and `created_before` on a list
/// (signalwire/docs `error-codes.mdx`): an expired log is not found, and a list that
/// reaches past retention says so.
#[tokio::test]
async fn signalwire_logs_past_retention_are_not_found_and_lists_past_it_say_so() {
    let app = TestApp::spawn().await;
    let all = voice_logs_upstream(&app).await;
    // The data set ends on 2026-11-01; keep 30 days.
    let old = all
        .iter()
        .find(|(_, at)| at.as_str() < "2026-09-01")
        .expect("an old log")
        .0
        .clone();
    app.emulator.set_quirks(Quirks {
        signalwire_retention_days: Some(30),
        ..Quirks::default()
    });
    let raw = app
        .http()
        .get(format!("{}api/voice/logs/{old}", app.emulator.base_url()))
        .basic_auth("demo-project", Some("demo-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "exceeds_history_logs_limit");
    assert_eq!(body["errors"][0]["type"], "account_error");
    assert_eq!(body["errors"][0]["attribute"], "created_at");

    let r = app
        .query(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": voice_id(&old)}),
        )
        .await;
    assert!(r["errors"].is_null(), "an expired log is not an error: {r}");
    assert!(r["data"]["node"].is_null(), "{r}");

    let r = app
        .query(
            VOICE_PAGE,
            json!({"first": 5, "filter": {"createdBefore": "2026-08-01T00:00:00Z"}}),
        )
        .await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    assert_eq!(error["extensions"]["provider"], "SIGNALWIRE");
    assert!(error["message"].as_str().unwrap().contains("retention"), "{r}");
}

// --- 5. SignalWire links on another origin -------------------------------------------------

/// The official SDKs keep their configured origin and take only path and query from
/// `links.next` (signalwire-python `rest/_pagination.py`, signalwire-rust
/// `src/rest/http_client.rs`). Links naming a host where nothing listens must still page
/// through everything, with every request at the configured space.
#[tokio::test]
async fn signalwire_links_naming_another_origin_are_followed_on_the_configured_one() {
    let plain = TestApp::spawn().await;
    let expected = page_all(&plain, VOICE_PAGE, "signalWireVoiceLogs", 100, json!({})).await;
    let app = spawn_with_quirks(Quirks {
        signalwire_link_origin: Some("http://127.0.0.1:9".into()),
        ..Quirks::default()
    })
    .await;
    let ids = page_all(&app, VOICE_PAGE, "signalWireVoiceLogs", 100, json!({})).await;
    assert_eq!(ids, expected);
    assert!(
        app.upstream(VOICE_LIST) > 5,
        "every page came from the configured space"
    );
}

// --- 6. Voximplant time zones --------------------------------------------------------------

/// Voximplant's dates are "in the selected timezone" (GetCallHistory's `timezone`,
/// echoed in the answer; voximplant/apiclient-go `GetCallHistoryParams`): the gateway
/// asks for UTC, so an account set to another zone changes nothing.
#[tokio::test]
async fn voximplant_answers_are_asked_in_utc_whatever_the_account_zone() {
    let app = spawn_with_quirks(Quirks {
        voximplant_default_timezone: Some("Europe/Moscow".into()),
        ..Quirks::default()
    })
    .await;
    let r = app.query(SESSION_PAGE, json!({"first": 5})).await;
    assert!(r["errors"].is_null(), "{r}");
    let got: Vec<(u64, String)> = r["data"]["voximplantCallSessions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["nativeId"].as_str().unwrap().parse().unwrap(),
                e["node"]["createdAt"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = app
        .emulator
        .voximplant_sessions()
        .into_iter()
        .take(5)
        .map(|(id, at)| (id, at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .collect();
    assert_eq!(got, expected, "UTC instants, not Moscow wall-clock times read as UTC");
}

/// An answer whose echoed `timezone` is not UTC would shift every date: it is refused.
#[tokio::test]
async fn a_voximplant_answer_in_another_time_zone_is_refused() {
    let app = spawn_with_quirks(Quirks {
        voximplant_forced_timezone: Some("Europe/Moscow".into()),
        ..Quirks::default()
    })
    .await;
    let r = app.query(SESSION_PAGE, json!({"first": 5})).await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "UPSTREAM_BAD_RESPONSE", "{r}");
    assert_eq!(error["extensions"]["provider"], "VOXIMPLANT");
}

// --- 7. OneUptime `Success` means placed ---------------------------------------------------

/// OneUptime's worker writes `Success` right after its telephony provider accepted the
/// call (OneUptime/oneuptime `App/FeatureSet/Notification/Services/CallService.ts`) and
/// never records whether it was answered: such calls are PLACED, not COMPLETED.
#[tokio::test]
async fn oneuptime_success_is_placed_and_not_counted_as_completed() {
    let app = TestApp::spawn().await;
    let q = r#"query($filter: CallLogFilter) { callLogs(first: 100, filter: $filter) {
        edges { node { provider status providerStatus } } } }"#;
    let nodes = |r: &Value| r["data"]["callLogs"]["edges"].as_array().unwrap().clone();
    let placed = app.query(q, json!({"filter": {"statuses": ["PLACED"]}})).await;
    assert!(placed["errors"].is_null(), "{placed}");
    let placed = nodes(&placed);
    assert!(!placed.is_empty());
    assert!(
        placed
            .iter()
            .all(|n| n["node"]["provider"] == "ONEUPTIME" && n["node"]["providerStatus"] == "Success"),
        "{placed:?}"
    );
    let completed = app.query(q, json!({"filter": {"statuses": ["COMPLETED"]}})).await;
    assert!(completed["errors"].is_null(), "{completed}");
    assert!(
        nodes(&completed).iter().all(|n| n["node"]["provider"] != "ONEUPTIME"),
        "no OneUptime call counts as answered"
    );
}

// --- 8. Expired page tokens and Retry-After dates --------------------------------------------

/// SignalWire's voice list takes a `page_token` (signalwire/docs voice logs TypeSpec,
/// `page_token`), which it refuses with 422 naming it: the client is told to restart.
#[tokio::test]
async fn an_expired_signalwire_page_token_asks_the_client_to_restart_paging() {
    let app = TestApp::spawn().await;
    app.emulator.inject(
        Fault::always(FaultKind::Body {
            status: 422,
            body: json!({"errors": [{"type": "validation_error", "code": "invalid_parameter",
                "message": "page_token has expired", "attribute": "page_token",
                "url": "https://signalwire.com/docs/apis/error-codes"}]}),
        })
        .on("/api/voice/logs?page_number=1"),
    );
    let first = app.query(VOICE_PAGE, json!({"first": 40})).await;
    assert!(first["errors"].is_null(), "{first}");
    let after = first["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    let r = app.query(VOICE_PAGE, json!({"first": 40, "after": after})).await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{r}");
    assert!(error["message"].as_str().unwrap().contains("restart paging"), "{r}");
}

/// RFC 9110 §10.2.3: `Retry-After` is delta-seconds or an HTTP-date; the official
/// SignalWire Rust SDK honours it "when present" (`src/rest/request_options.rs`).
#[tokio::test]
async fn a_retry_after_http_date_is_honoured_like_delta_seconds() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.upstream.max_retries = 0).await;
    app.emulator.inject(
        Fault::always(FaultKind::RetryAfterDate {
            status: 429,
            seconds: 30,
        })
        .on("/api/voice/logs"),
    );
    let r = app.query(VOICE_PAGE, json!({"first": 5})).await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "UPSTREAM_RATE_LIMITED", "{r}");
    let wait = error["extensions"]["retryAfterSeconds"]
        .as_u64()
        .expect("retryAfterSeconds");
    assert!((29..=30).contains(&wait), "{wait}");
}

// --- What no source settles is checked at run time --------------------------------------------

/// OneUptime's sort is what keyset paging relies on; a page that is not newest first is
/// refused, never merged out of order.
#[tokio::test]
async fn a_oneuptime_page_out_of_order_is_refused_not_merged() {
    let app = TestApp::spawn().await;
    let select: serde_json::Map<String, Value> = switchboard::emulator::ONEUPTIME_COLUMNS
        .iter()
        .map(|c| (c.to_string(), Value::Bool(true)))
        .collect();
    let mut page: Value = oneuptime_get_list(&app, "skip=0&limit=3", json!({"select": select}))
        .await
        .json()
        .await
        .unwrap();
    page["data"].as_array_mut().unwrap().reverse();
    app.emulator.inject(
        Fault::always(FaultKind::Body {
            status: 200,
            body: page,
        })
        .on("/api/call-log/get-list"),
    );
    let r = app.query(ONEUPTIME_PAGE, json!({"first": 2})).await;
    let error = single_error(&r);
    assert_eq!(error["extensions"]["code"], "UPSTREAM_BAD_RESPONSE", "{r}");
    assert_eq!(error["extensions"]["provider"], "ONEUPTIME");
}

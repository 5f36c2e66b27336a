//! `callLogStats` against every emulated provider: what it counts equals paging `callLogs`
//! to its end with the same filter (counts, durations and cost sums to the last digit),
//! repeats cost no upstream call, providers' own counts replace reads where they can,
//! windows over `stats.max_items` are refused, and a failing provider is reported.

use std::collections::BTreeMap;

use crate::common::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use switchboard::emulator::{EmulatorConfig, Fault, FaultKind};

const NODES: &str = "provider createdAt direction status durationSeconds cost { amount currency }";

const STATS: &str = r#"query($filter: CallLogFilter, $groupBy: [CallLogDimension!]!, $interval: StatsInterval, $timeZone: String) {
  callLogStats(filter: $filter, groupBy: $groupBy, interval: $interval, timeZone: $timeZone) {
    complete
    buckets { key { provider status direction periodStart } count durationSeconds cost { amount currency } }
    totals { count durationSeconds cost { amount currency } } } }"#;

fn sized() -> EmulatorConfig {
    EmulatorConfig {
        signalwire_voice_logs: 120,
        signalwire_video_logs: 30,
        oneuptime_call_logs: 130,
        voximplant_sessions: 110,
        ..small_emulator()
    }
}

/// Every node `callLogs` lists for `filter`, in order.
async fn page_through(app: &TestApp, filter: &Value) -> Vec<Value> {
    call_logs_through(app, NODES, filter).await
}

/// A bucket's sums: count, seconds, cost per currency.
type Sums = (u64, i64, BTreeMap<String, Decimal>);

fn add(sums: &mut Sums, node: &Value) {
    sums.0 += 1;
    sums.1 += node["durationSeconds"].as_i64().unwrap_or(0);
    if let Some(cost) = node["cost"].as_object() {
        let amount: Decimal = cost["amount"].as_str().unwrap().parse().unwrap();
        *sums.2.entry(cost["currency"].as_str().unwrap().into()).or_default() += amount;
    }
}

/// A stats answer's sums as `Sums` (costs parsed, so "0.30" and "0.3" compare equal).
fn sums_of(tally: &Value) -> Sums {
    let cost = tally["cost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["currency"].as_str().unwrap().to_string(),
                m["amount"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    (
        tally["count"].as_u64().unwrap(),
        tally["durationSeconds"].as_f64().unwrap() as i64,
        cost,
    )
}

/// The day (UTC) of an RFC 3339 instant, as `periodStart` renders it.
fn day(created_at: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(created_at).unwrap().to_utc();
    format!("{}T00:00:00Z", t.format("%Y-%m-%d"))
}

#[tokio::test]
async fn stats_equal_a_page_through_of_call_logs_for_several_filters() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let filters = [
        json!({}),
        json!({"providers": ["ONEUPTIME", "VOXIMPLANT"]}),
        json!({"statuses": ["COMPLETED"]}),
        json!({"directions": ["INBOUND"], "providers": ["SIGNALWIRE", "VOXIMPLANT"]}),
    ];
    for filter in filters {
        let nodes = page_through(&app, &filter).await;
        assert!(!nodes.is_empty(), "{filter}");
        let mut expected: BTreeMap<(String, String, String, String), Sums> = BTreeMap::new();
        let mut totals: Sums = Default::default();
        for n in &nodes {
            let key = (
                day(n["createdAt"].as_str().unwrap()),
                n["provider"].as_str().unwrap().to_string(),
                n["status"].as_str().unwrap().to_string(),
                n["direction"].as_str().unwrap().to_string(),
            );
            add(expected.entry(key).or_default(), n);
            add(&mut totals, n);
        }
        let r = app
            .query(
                STATS,
                json!({"filter": filter, "groupBy": ["PROVIDER", "STATUS", "DIRECTION", "PERIOD"], "interval": "DAY"}),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let stats = &r["data"]["callLogStats"];
        assert_eq!(stats["complete"], true);
        let got: BTreeMap<(String, String, String, String), Sums> = stats["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let k = &b["key"];
                let key = (
                    k["periodStart"].as_str().unwrap().to_string(),
                    k["provider"].as_str().unwrap().to_string(),
                    k["status"].as_str().unwrap().to_string(),
                    k["direction"].as_str().unwrap().to_string(),
                );
                (key, sums_of(b))
            })
            .collect();
        assert_eq!(got, expected, "{filter}");
        assert_eq!(sums_of(&stats["totals"]), totals, "{filter}");
        assert_eq!(totals.0, nodes.len() as u64);
    }
}

#[tokio::test]
async fn ungrouped_dimensions_are_null_and_buckets_come_in_key_order() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let r = app.query(STATS, json!({"groupBy": ["STATUS"]})).await;
    assert!(r["errors"].is_null(), "{r}");
    let buckets = r["data"]["callLogStats"]["buckets"].as_array().unwrap();
    assert!(buckets.len() > 1, "{r}");
    for b in buckets {
        assert!(b["key"]["status"].is_string());
        assert!(b["key"]["provider"].is_null() && b["key"]["direction"].is_null() && b["key"]["periodStart"].is_null());
    }
    let nothing = app.query(STATS, json!({"groupBy": []})).await;
    let one = nothing["data"]["callLogStats"]["buckets"].as_array().unwrap();
    assert_eq!(one.len(), 1, "no dimension: one bucket of everything");
    assert_eq!(one[0]["count"], nothing["data"]["callLogStats"]["totals"]["count"]);
    let listed = page_through(&app, &json!({})).await.len();
    assert_eq!(
        one[0]["count"], listed,
        "what callLogs lists (deleted SignalWire logs are not)"
    );
}

#[tokio::test]
async fn repeating_stats_costs_no_upstream_call() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let vars = json!({"groupBy": ["PROVIDER", "PERIOD"], "interval": "MONTH", "timeZone": "Europe/Berlin"});
    let first = app.query(STATS, vars.clone()).await;
    assert!(first["errors"].is_null(), "{first}");
    let calls = app.upstream_total();
    assert!(calls > 0);
    let again = app.query(STATS, vars).await;
    assert_eq!(again, first);
    assert_eq!(app.upstream_total(), calls, "the repeat read nothing upstream");
}

#[tokio::test]
async fn counts_by_provider_come_from_the_providers_counts_where_they_can_count() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    let q = "query($f: CallLogFilter) { callLogStats(filter: $f, groupBy: [PROVIDER]) { buckets { key { provider } count } totals { count } } }";
    let r = app.query(q, json!({"f": {"providers": ["ONEUPTIME"]}})).await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(r["data"]["callLogStats"]["totals"]["count"], 130);
    assert_eq!(app.upstream("POST /api/call-log/get-list"), 0, "no record was read");
    assert!(app.upstream("POST /api/call-log/count") >= 1);
    // Asking for sums reads the records.
    let with_sums = "query($f: CallLogFilter) { callLogStats(filter: $f, groupBy: [PROVIDER]) { totals { count durationSeconds } } }";
    let r = app.query(with_sums, json!({"f": {"providers": ["ONEUPTIME"]}})).await;
    assert_eq!(r["data"]["callLogStats"]["totals"]["count"], 130, "{r}");
    assert!(
        app.upstream("POST /api/call-log/get-list") >= 2,
        "130 records at 100 a page"
    );
}

#[tokio::test]
async fn a_window_over_max_items_is_refused_up_front_when_providers_count_it() {
    let app = TestApp::in_memory_with(sized(), |c, _| c.stats.max_items = 100).await;
    let r = app
        .query(
            STATS,
            json!({"filter": {"providers": ["ONEUPTIME"]}, "groupBy": ["STATUS"]}),
        )
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("would read 130") && message.contains("stats.max_items (100)"),
        "{message}"
    );
    assert_eq!(app.upstream("POST /api/call-log/get-list"), 0, "refused before reading");
    // SignalWire cannot count: its read stops once past the limit.
    let r = app
        .query(STATS, json!({"filter": {"providers": ["SIGNALWIRE"]}, "groupBy": []}))
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(
        r["errors"][0]["message"].as_str().unwrap().contains("read more than"),
        "{r}"
    );
}

#[tokio::test]
async fn a_failing_provider_is_reported_and_the_others_still_count() {
    let app = TestApp::in_memory_with(sized(), |c, _| c.upstream.max_retries = 0).await;
    let others = page_through(&app, &json!({"providers": ["SIGNALWIRE", "VOXIMPLANT"]}))
        .await
        .len();
    app.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/call-log"),
    );
    let r = app.query(STATS, json!({"groupBy": ["PROVIDER"]})).await;
    assert_eq!(error_codes(&r), ["UPSTREAM_UNAVAILABLE"], "{r}");
    assert_eq!(r["errors"][0]["extensions"]["provider"], "ONEUPTIME");
    assert_eq!(r["errors"][0]["path"], json!(["callLogStats"]));
    let stats = &r["data"]["callLogStats"];
    assert_eq!(stats["complete"], false);
    assert_eq!(stats["totals"]["count"], others, "SignalWire's and Voximplant's calls");
    let providers: Vec<&str> = stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"]["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["SIGNALWIRE", "VOXIMPLANT"]);
}

#[tokio::test]
async fn bad_groupings_are_bad_user_input() {
    let app = TestApp::in_memory_with(sized(), |_, _| {}).await;
    for (vars, needle) in [
        (json!({"groupBy": ["PERIOD"]}), "needs an `interval`"),
        (
            json!({"groupBy": ["STATUS"], "interval": "DAY"}),
            "only used when grouping by PERIOD",
        ),
        (
            json!({"groupBy": ["PERIOD"], "interval": "DAY", "timeZone": "Mars/Olympus"}),
            "not an IANA time zone",
        ),
    ] {
        let r = app.query(STATS, vars.clone()).await;
        assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{vars}: {r}");
        assert!(r["errors"][0]["message"].as_str().unwrap().contains(needle), "{r}");
    }
    assert_eq!(app.upstream_total(), 0);
}

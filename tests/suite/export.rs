//! `GET /export/call-logs` over a socket: the same items in the same order as paging
//! `callLogs`, both formats, the file's headers, resuming with `after`, a provider that
//! fails mid-export, a client that disconnects, budgets and bad requests.

use crate::common::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use switchboard::emulator::{EmulatorConfig, Fault, FaultKind};

const NODES: &str = "__typename id provider nativeId from to direction status providerStatus createdAt startedAt endedAt durationSeconds cost { amount currency }";

fn sized() -> EmulatorConfig {
    EmulatorConfig {
        signalwire_voice_logs: 160,
        signalwire_video_logs: 30,
        oneuptime_call_logs: 140,
        voximplant_sessions: 120,
        ..small_emulator()
    }
}

/// Every node `callLogs` lists for `filter`, in order.
async fn page_through(app: &TestApp, filter: &Value) -> Vec<Value> {
    call_logs_through(app, NODES, filter).await
}

fn export_url(app: &TestApp, format: &str, filter: &Value, after: Option<&str>) -> String {
    let base = app.url.trim_end_matches("/graphql");
    let mut url = reqwest::Url::parse(&format!("{base}/export/call-logs")).unwrap();
    url.query_pairs_mut().append_pair("format", format);
    if !filter.is_null() {
        url.query_pairs_mut().append_pair("filter", &filter.to_string());
    }
    if let Some(after) = after {
        url.query_pairs_mut().append_pair("after", after);
    }
    url.into()
}

/// The lines of an NDJSON export, parsed.
async fn ndjson(app: &TestApp, filter: &Value, after: Option<&str>) -> Vec<Value> {
    let response = app
        .http()
        .get(export_url(app, "ndjson", filter, after))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn an_ndjson_export_lists_what_paging_call_logs_lists_in_the_same_order() {
    let app = TestApp::spawn_with(sized(), |_, _| {}).await;
    for filter in [
        json!({}),
        json!({"providers": ["ONEUPTIME", "SIGNALWIRE"]}),
        json!({"statuses": ["COMPLETED", "FAILED"]}),
        json!({"directions": ["INBOUND"]}),
    ] {
        let paged = page_through(&app, &filter).await;
        let lines = ndjson(&app, &filter, None).await;
        assert!(!paged.is_empty());
        assert_eq!(lines.len(), paged.len(), "{filter}");
        let mut sums = [Decimal::ZERO, Decimal::ZERO];
        for (line, node) in lines.iter().zip(&paged) {
            let mut row = line.as_object().unwrap().clone();
            assert!(row.remove("cursor").is_some_and(|c| c.is_string()));
            assert_eq!(
                &Value::Object(row),
                node,
                "same fields, rendered as GraphQL renders them"
            );
            for (sum, value) in sums.iter_mut().zip([&line["cost"], &node["cost"]]) {
                if let Some(amount) = value["amount"].as_str() {
                    *sum += amount.parse::<Decimal>().unwrap();
                }
            }
        }
        assert_eq!(sums[0], sums[1], "cost sums to the last digit");
    }
}

#[tokio::test]
async fn a_csv_export_has_a_header_and_the_same_rows_and_a_file_name_from_the_filter() {
    let app = TestApp::spawn_with(sized(), |_, _| {}).await;
    let filter = json!({"providers": ["VOXIMPLANT"], "createdAfter": "2020-01-01T00:00:00Z"});
    let paged = page_through(&app, &filter).await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = raw
        .get(export_url(&app, "csv", &filter, None))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8; header=present");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"call-logs-voximplant-from-2020-01-01.csv\""
    );
    assert_eq!(headers["content-encoding"], "gzip", "gzip when asked");
    let gz = response.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["__typename", "id", "provider"]);
    assert_eq!(header[header.len() - 3..], ["costAmount", "costCurrency", "cursor"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), paged.len());
    for (row, node) in rows.iter().zip(&paged) {
        assert_eq!(&row[1], node["id"].as_str().unwrap());
        assert_eq!(&row[9], node["createdAt"].as_str().unwrap());
        let duration = node["durationSeconds"]
            .as_i64()
            .map(|n| n.to_string())
            .unwrap_or_default();
        assert_eq!(&row[12], duration.as_str());
        assert_eq!(&row[13], node["cost"]["amount"].as_str().unwrap_or(""));
    }
}

#[tokio::test]
async fn a_provider_failing_mid_export_ends_it_with_an_error_line_and_after_resumes_it() {
    let pages = EmulatorConfig {
        signalwire_voice_logs: 500,
        oneuptime_call_logs: 500,
        voximplant_sessions: 300,
        ..sized()
    };
    let app = TestApp::spawn_with(pages, |c, _| {
        c.upstream.max_retries = 0;
        c.cache.max_bytes = 0;
    })
    .await;
    let all = page_through(&app, &json!({})).await;
    let mut response = app
        .http()
        .get(export_url(&app, "ndjson", &json!({}), None))
        .send()
        .await
        .unwrap();
    // The first page is in the first chunk; OneUptime fails from then on.
    let mut text = String::from_utf8(response.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    app.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/call-log"),
    );
    while let Some(chunk) = response.chunk().await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let mut lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let last = lines.pop().unwrap();
    assert_eq!(last["__typename"], "ExportError", "{last}");
    assert_eq!(last["errors"][0]["extensions"]["code"], "UPSTREAM_UNAVAILABLE");
    assert_eq!(last["errors"][0]["extensions"]["provider"], "ONEUPTIME");
    assert!(!lines.is_empty() && lines.len() < all.len(), "{}", lines.len());
    let resume = last["resumeAfter"].as_str().unwrap();
    assert_eq!(resume, lines.last().unwrap()["cursor"].as_str().unwrap());
    app.emulator.clear_faults();
    lines.extend(ndjson(&app, &json!({}), Some(resume)).await);
    let ids: Vec<&Value> = lines.iter().map(|l| &l["id"]).collect();
    let expected: Vec<&Value> = all.iter().map(|n| &n["id"]).collect();
    assert_eq!(ids, expected, "nothing lost, nothing twice");
}

#[tokio::test]
async fn a_csv_export_that_cannot_finish_ends_with_an_incomplete_record() {
    let app = TestApp::spawn_with(sized(), |c, _| c.upstream.max_retries = 0).await;
    app.emulator.inject(
        Fault::always(FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        })
        .on("/api/call-log"),
    );
    let response = app
        .http()
        .get(export_url(&app, "csv", &json!({}), None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the failure is in the file");
    let text = response.text().await.unwrap();
    let last = text.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("# INCOMPLETE: ONEUPTIME UPSTREAM_UNAVAILABLE") && last.contains("resume by exporting again"),
        "{last}"
    );
}

#[tokio::test]
async fn a_client_that_disconnects_stops_the_upstream_reads() {
    let big = EmulatorConfig {
        signalwire_voice_logs: 4000,
        signalwire_video_logs: 0,
        oneuptime_call_logs: 4000,
        voximplant_sessions: 0,
        ..small_emulator()
    };
    let app = TestApp::spawn_with(big, |c, _| c.cache.max_bytes = 0).await;
    let url = export_url(&app, "ndjson", &json!({}), None);
    let whole = app.http().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(
        whole.lines().count() > 7_500,
        "8,000 calls, less SignalWire's deleted logs"
    );
    let full = app.upstream_total();
    app.emulator.reset();
    let mut response = app.http().get(&url).send().await.unwrap();
    response.chunk().await.unwrap().expect("a first page");
    drop(response);
    let at_drop = app.upstream_total();
    // After the drop at most the page being read may still finish (a page of 500 reads
    // about a tenth of the whole here).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = app.upstream_total();
    println!(
        "  upstream calls: whole export {full}; disconnected after its first chunk: {at_drop} at the drop, {after} 500 ms later"
    );
    assert!(
        after <= at_drop + full / 8,
        "reads went on: {at_drop} at the drop, {after} later (whole: {full})"
    );
    assert!(
        after < full / 2,
        "{after} of the whole export's {full} upstream calls: it did not stop"
    );
}

#[tokio::test]
async fn exports_check_their_parameters_and_callers_like_graphql() {
    let app = TestApp::spawn_two_tenants().await;
    let url = |query: &str| format!("{}/export/call-logs?{query}", app.url.trim_end_matches("/graphql"));
    let no_key = app.http().get(url("format=csv")).send().await.unwrap();
    assert_eq!(no_key.status(), 401);
    for (query, needle) in [
        ("format=xml", "`format` must be"),
        ("format=csv&filter=%7Bnot", "not JSON"),
        (
            "format=csv&filter=%7B%22statuses%22%3A%5B%22NOPE%22%5D%7D",
            "not a CallLogFilter",
        ),
        ("format=csv&after=garbage", "invalid cursor"),
        ("format=csv&limit=5", "unknown parameter `limit`"),
        (
            "format=csv&filter=%7B%22providers%22%3A%5B%22ONEUPTIME%22%5D%7D",
            "no oneuptime credentials",
        ),
    ] {
        let r = app
            .http()
            .get(url(query))
            .bearer_auth("alice-key")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let body: Value = r.json().await.unwrap();
        let code = body["errors"][0]["extensions"]["code"].as_str().unwrap();
        assert!(["BAD_USER_INPUT", "PROVIDER_NOT_CONFIGURED"].contains(&code), "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap().contains(needle),
            "{query}: {body}"
        );
    }
    // Each tenant's export reads with its own credentials.
    let calls = |project: &str| app.emulator.stats().credential(project);
    let before = (calls("alice-project"), calls("bob-project"));
    let alice = app
        .http()
        .get(url("format=ndjson"))
        .bearer_auth("alice-key")
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 200);
    assert!(alice.text().await.unwrap().lines().count() > 1);
    assert!(calls("alice-project") > before.0, "alice's export read alice's project");
    assert_eq!(calls("bob-project"), before.1, "and nothing of bob's");
}

#[tokio::test]
async fn exports_are_charged_to_the_callers_budget_page_by_page_and_stop_when_it_is_spent() {
    // A OneUptime page of 500 is reserved at 200 (its 2 possible streams, 10 upstream
    // pages of 50 each at the smallest page size) and charged 10 per call it made (about
    // 6): a budget of 220 admits the first page, and what it cost leaves less than 200.
    let many = EmulatorConfig {
        oneuptime_call_logs: 700,
        ..sized()
    };
    let app = TestApp::spawn_with(many, |c, _| c.limits.tenant_cost_per_minute = 220).await;
    let filter = json!({"providers": ["ONEUPTIME"]});
    let first = app
        .http()
        .get(export_url(&app, "ndjson", &filter, None))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit-limit"], "220");
    let text = first.text().await.unwrap();
    let mut lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let last = lines.pop().unwrap();
    assert_eq!(lines.len(), 500, "one page");
    assert_eq!(last["__typename"], "ExportError", "{last}");
    assert_eq!(last["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(last["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    assert_eq!(last["resumeAfter"], lines[499]["cursor"]);
    let upstream = app.upstream_total();
    let again = app
        .http()
        .get(export_url(&app, "csv", &filter, None))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 429, "refused before its first page");
    assert!(again.headers().contains_key("retry-after"));
    assert_eq!(again.headers()["ratelimit-limit"], "220", "the 429 of /graphql");
    let refusal: Value = again.json().await.unwrap();
    assert_eq!(refusal["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        refusal["extensions"]["cost"]["requested"].as_u64().unwrap() > 0,
        "{refusal}"
    );
    assert_eq!(app.upstream_total(), upstream, "nothing read for a refused export");
}

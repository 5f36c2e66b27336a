//! GET answers tell browsers how long they stay fresh: `max-age` follows the
//! data (a finished call long, a live call and a page short), errors are never stored,
//! and `If-None-Match` with the `ETag` answers 304.

use crate::common::*;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, VARY};
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

struct Answer {
    status: StatusCode,
    cache_control: String,
    etag: Option<String>,
    vary: String,
    body: Option<Value>,
}

async fn get(app: &TestApp, query: &str, if_none_match: Option<&str>) -> Answer {
    let mut request = app.http().get(&app.url).query(&[("query", query)]);
    if let Some(tag) = if_none_match {
        request = request.header(IF_NONE_MATCH, tag);
    }
    let r = request.send().await.unwrap();
    let header = |name| {
        r.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    Answer {
        status: r.status(),
        cache_control: header(CACHE_CONTROL).unwrap_or_default(),
        etag: header(ETAG),
        vary: header(VARY).unwrap_or_default(),
        body: r.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()),
    }
}

/// The id of a SignalWire call with one of `statuses`, from a list (which primes the cache).
async fn call_with(app: &TestApp, statuses: &[&str]) -> String {
    let r = app
        .query(
            "{ signalWireVoiceLogs(first: 100) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    r["data"]["signalWireVoiceLogs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| statuses.contains(&n["status"].as_str().unwrap()))
        .map(|n| n["id"].as_str().unwrap().to_string())
        .expect("the emulator has such a call")
}

fn by_id(id: &str) -> String {
    format!("{{ node(id: \"{id}\") {{ id ... on CallLog {{ status }} }} }}")
}

#[tokio::test]
async fn a_finished_call_is_fresh_for_long_a_live_call_and_a_page_briefly() {
    let app = TestApp::spawn().await;
    let finished = call_with(&app, &["COMPLETED", "FAILED", "BUSY", "NO_ANSWER", "CANCELED"]).await;
    let live = call_with(&app, &["IN_PROGRESS", "RINGING", "QUEUED"]).await;

    let a = get(&app, &by_id(&finished), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.cache_control, "private, max-age=3600",
        "final_ttl 6h, capped by http_max_age 1h"
    );
    assert!(
        a.vary.contains("Authorization") && a.vary.contains("Accept-Encoding"),
        "{}",
        a.vary
    );

    let a = get(&app, &by_id(&live), None).await;
    assert_eq!(a.cache_control, "private, max-age=5", "live_ttl");

    let page = "{ oneUptimeCallLogs(first: 5) { edges { node { id } } } }";
    let a = get(&app, page, None).await;
    assert_eq!(a.cache_control, "private, max-age=30", "page_ttl");

    let both = format!("{{ a: node(id: \"{finished}\") {{ id }} b: node(id: \"{live}\") {{ id }} }}");
    let a = get(&app, &both, None).await;
    assert_eq!(a.cache_control, "private, max-age=5", "the shortest wins");
}

#[tokio::test]
async fn the_etag_revalidates_to_a_304_without_a_body() {
    let app = TestApp::spawn().await;
    let finished = call_with(&app, &["COMPLETED"]).await;
    let first = get(&app, &by_id(&finished), None).await;
    let etag = first.etag.expect("an ETag");
    let again = get(&app, &by_id(&finished), Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(again.cache_control, "private, max-age=3600");
    assert!(again.body.is_none());

    let other = get(
        &app,
        "{ oneUptimeCallLogs(first: 2) { edges { node { id } } } }",
        Some(&etag),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "another answer has another ETag");
    assert!(other.body.is_some());
}

#[tokio::test]
async fn an_answer_with_errors_is_never_stored() {
    let app = TestApp::spawn().await;
    app.emulator.inject(Fault::always(FaultKind::Status {
        status: 503,
        retry_after_seconds: None,
    }));
    let a = get(
        &app,
        "{ signalWireVoiceLogs(first: 2) { edges { node { id } } } }",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body.as_ref().map(error_codes),
        Some(vec!["UPSTREAM_UNAVAILABLE".to_string()])
    );
    assert_eq!(a.cache_control, "no-store");
    assert!(a.etag.is_none());

    let bad = get(&app, "{ node(id: \"not-an-id\") { id } }", None).await;
    assert_eq!(bad.cache_control, "no-store");
    let refused = get(&app, "{ nope }", None).await;
    assert_eq!(refused.cache_control, "no-store");
}

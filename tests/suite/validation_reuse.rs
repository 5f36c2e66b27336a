//! Requests that repeat a document reuse its validation verdict, but only for
//! the same operation and variables: anything that could make a request invalid is still
//! checked on every request.

use crate::common::*;
use serde_json::json;

const PAGE: &str = "query Page($first: Int) { signalWireVoiceLogs(first: $first) { edges { node { id nativeId createdAt status from to } } } }";

#[tokio::test]
async fn a_valid_document_is_still_refused_with_bad_variables_or_past_the_limits() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_complexity = 500).await;
    for _ in 0..2 {
        let r = app.query(PAGE, json!({"first": 5})).await;
        assert!(r["errors"].is_null(), "valid each time: {r}");
        assert_eq!(r["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().len(), 5);
    }
    let r = app.query(PAGE, json!({"first": "five"})).await;
    assert!(!error_codes(&r).is_empty(), "{r}");
    assert!(
        error_codes(&r).iter().all(|c| c == "BAD_USER_INPUT"),
        "a variable of the wrong type: {r}"
    );
    assert!(r["data"].is_null(), "a request error, not a field error: {r}");
    let r = app.query(PAGE, json!({"first": 100})).await;
    assert_eq!(
        error_codes(&r),
        ["BAD_USER_INPUT"],
        "complexity is checked per request: {r}"
    );
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("complex"), "{r}");
    let r = app.query(PAGE, json!({"first": 5})).await;
    assert!(r["errors"].is_null(), "the earlier verdict still holds: {r}");
}

#[tokio::test]
async fn an_invalid_document_is_refused_every_time_and_another_operation_is_checked_on_its_own() {
    let app = TestApp::spawn_with(small_emulator(), |_, _| {}).await;
    let post = |doc: &'static str, name: &'static str| {
        app.http()
            .post(&app.url)
            .json(&json!({"query": doc, "operationName": name}))
            .send()
    };
    let valid = "query Good { __typename } query Other { typename: __typename }";
    let invalid = "query Good { __typename } query Bad { signalWireVoiceLogs(first: 1) { nope } }";
    for _ in 0..2 {
        let good: serde_json::Value = post(valid, "Good").await.unwrap().json().await.unwrap();
        assert_eq!(good["data"]["__typename"], "Query", "{good}");
        let missing: serde_json::Value = post(valid, "Missing").await.unwrap().json().await.unwrap();
        assert_eq!(error_codes(&missing), ["BAD_USER_INPUT"], "{missing}");
        let bad: serde_json::Value = post(invalid, "Good").await.unwrap().json().await.unwrap();
        assert_eq!(error_codes(&bad), ["BAD_USER_INPUT"], "{bad}");
        assert!(bad["data"].is_null(), "{bad}");
    }
    assert_eq!(app.upstream_total(), 0);
}

//! Apollo's automatic persisted queries (issue 13), as Apollo Client's persisted-query
//! link speaks them: hash only -> PersistedQueryNotFound, hash with query -> registered
//! and run, then hash only (POST or GET) -> run.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const QUERY: &str = "query Page($first: Int) { signalWireVoiceLogs(first: $first) { edges { node { id } } } }";

fn extensions(query: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hex::encode(Sha256::digest(query.as_bytes()))}})
}

async fn post(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let r = app.http().post(&app.url).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn a_miss_then_a_registration_then_hash_only_hits_by_post_and_get() {
    let app = TestApp::spawn().await;
    let hash_only = json!({"extensions": extensions(QUERY), "variables": {"first": 2}});
    let (status, r) = post(&app, hash_only.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_codes(&r), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(r["errors"][0]["message"], "PersistedQueryNotFound");

    let (_, r) = post(
        &app,
        json!({"query": QUERY, "extensions": extensions(QUERY), "variables": {"first": 2}}),
    )
    .await;
    assert_eq!(
        r["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );

    let (_, r) = post(&app, hash_only).await;
    assert_eq!(
        r["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );

    let r: Value = app
        .http()
        .get(&app.url)
        .query(&[
            ("extensions", extensions(QUERY).to_string()),
            ("variables", json!({"first": 3}).to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len),
        Some(3),
        "{r}"
    );
}

#[tokio::test]
async fn a_query_with_another_hash_is_refused_and_apq_can_be_turned_off() {
    let app = TestApp::spawn().await;
    let (status, r) = post(
        &app,
        json!({"query": "{ __typename }", "extensions": extensions(QUERY)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"]);

    let off = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.apq = false).await;
    let (_, r) = post(&off, json!({"extensions": extensions(QUERY)})).await;
    assert_eq!(error_codes(&r), ["PERSISTED_QUERY_NOT_SUPPORTED"]);
    let (_, r) = post(&off, json!({"query": "{ __typename }"})).await;
    assert_eq!(r["data"]["__typename"], "Query");
}

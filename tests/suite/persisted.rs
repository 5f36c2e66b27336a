//! Apollo's automatic persisted queries, as Apollo Client's persisted-query
//! link speaks them: hash only -> PersistedQueryNotFound, hash with query -> registered
//! and run, then hash only (POST or GET) -> run.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const QUERY: &str = "query Page($first: Int) { signalWireVoiceLogs(first: $first) { edges { node { id } } } }";

fn extensions(query: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hex::encode(Sha256::digest(query.as_bytes()))}})
}

async fn get(app: &TestApp, params: &[(&str, &str)]) -> Value {
    let r = app.http().get(&app.url).query(params).send().await.unwrap();
    r.json().await.unwrap()
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

    let r = get(
        &app,
        &[
            ("extensions", &extensions(QUERY).to_string()),
            ("variables", r#"{"first":3}"#),
        ],
    )
    .await;
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

/// A manifest file holding `operations` (Apollo's format when `apollo`, else Relay's map).
fn manifest_file(name: &str, apollo: bool, operations: &[(&str, &str)]) -> std::path::PathBuf {
    let json = if apollo {
        let ops: Vec<Value> = operations
            .iter()
            .map(|(id, body)| json!({"id": id, "name": "Op", "type": "query", "body": body}))
            .collect();
        json!({"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops})
    } else {
        Value::Object(
            operations
                .iter()
                .map(|(id, body)| (id.to_string(), json!(body)))
                .collect(),
        )
    };
    let path = std::env::temp_dir().join(format!("switchboard-{}-{name}.json", std::process::id()));
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[tokio::test]
async fn required_trusted_documents_run_manifest_operations_and_refuse_any_other() {
    let id = hex::encode(Sha256::digest(QUERY.as_bytes()));
    let path = manifest_file("apollo", true, &[(&id, QUERY)]);
    let app = TestApp::spawn_with(small_emulator(), move |c, _| {
        c.graphql.trusted_documents.mode = switchboard::config::TrustedDocumentsMode::Required;
        c.graphql.trusted_documents.manifest = Some(path);
    })
    .await;
    let edges = |r: &Value| r["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len);

    // As Apollo Client's persisted-query-list link sends it: the hash only, never a miss.
    let (_, r) = post(
        &app,
        json!({"extensions": extensions(QUERY), "variables": {"first": 2}}),
    )
    .await;
    assert_eq!(edges(&r), Some(2), "{r}");
    let (_, r) = post(&app, json!({"documentId": id, "variables": {"first": 1}})).await;
    assert_eq!(edges(&r), Some(1), "{r}");
    let r = get(&app, &[("documentId", id.as_str()), ("variables", r#"{"first":3}"#)]).await;
    assert_eq!(edges(&r), Some(3), "{r}");

    let calls = app.upstream_total();
    let (status, r) = post(
        &app,
        json!({"query": "{ oneUptimeCallLogs(first: 1) { edges { node { id } } } }"}),
    )
    .await;
    assert_eq!(
        (status, error_codes(&r)),
        (StatusCode::BAD_REQUEST, vec!["QUERY_NOT_IN_SAFELIST".to_string()])
    );
    let (status, r) = post(&app, json!({"documentId": "0".repeat(64)})).await;
    assert_eq!(
        (status, error_codes(&r)),
        (StatusCode::BAD_REQUEST, vec!["PERSISTED_QUERY_NOT_IN_LIST".to_string()])
    );
    let other = "{ __typename }";
    let (_, r) = post(&app, json!({"query": other, "extensions": extensions(other)})).await;
    assert_eq!(
        error_codes(&r),
        ["QUERY_NOT_IN_SAFELIST"],
        "APQ cannot register around the list"
    );
    assert_eq!(app.upstream_total(), calls, "refused operations reach no provider");
}

#[tokio::test]
async fn allowed_trusted_documents_take_relay_ids_and_still_run_other_queries() {
    let path = manifest_file("relay", false, &[("a1b2c3", QUERY)]);
    let app = TestApp::spawn_with(small_emulator(), move |c, _| {
        c.graphql.trusted_documents.mode = switchboard::config::TrustedDocumentsMode::Allowed;
        c.graphql.trusted_documents.manifest = Some(path);
    })
    .await;
    let (_, r) = post(&app, json!({"doc_id": "a1b2c3", "variables": {"first": 2}})).await;
    assert_eq!(
        r["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    let (_, r) = post(&app, json!({"query": "{ __typename }"})).await;
    assert_eq!(r["data"]["__typename"], "Query");
    let (_, r) = post(&app, json!({"documentId": "zzz"})).await;
    assert_eq!(error_codes(&r), ["PERSISTED_QUERY_NOT_IN_LIST"]);
}

//! Rendered answers are reused per tenant while all their data is fresh, and
//! never when that could show a client something execution would not.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

const KEY: &str = "metrics-key";
const UNKNOWN: &str = "query($id: ID!) { node(id: $id) { id } }";

async fn reused(app: &TestApp) -> u64 {
    app.metrics(KEY)
        .await
        .lines()
        .find_map(|l| l.strip_prefix("switchboard_responses_reused_total "))
        .and_then(|n| n.parse().ok())
        .expect("the counter is exported")
}

fn unknown_voice_log() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("SignalWireVoiceLog:00000000-0000-4000-8000-000000000000")
}

#[tokio::test]
async fn an_answer_made_from_the_cache_is_reused_until_the_first_of_its_data_expires() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(KEY));
        c.cache.not_found_ttl = Duration::from_millis(400);
    })
    .await;
    let id = json!({"id": unknown_voice_log()});
    let first = app.query(UNKNOWN, id.clone()).await;
    assert!(first["errors"].is_null() && first["data"]["node"].is_null(), "{first}");
    assert_eq!(app.upstream_total(), 1, "the first ask fetches");
    assert_eq!(
        app.query(UNKNOWN, id.clone()).await,
        first,
        "the second is made from the cache"
    );
    assert_eq!(reused(&app).await, 0, "an answer that fetched is not kept");
    for n in 1..=3 {
        assert_eq!(app.query(UNKNOWN, id.clone()).await, first);
        assert_eq!(reused(&app).await, n, "the kept answer is served");
    }
    assert_eq!(app.upstream_total(), 1);
    // Real time must pass for the cached "no such id" to expire (moka reads its own clock).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.query(UNKNOWN, id).await, first);
    assert_eq!(
        app.upstream_total(),
        2,
        "expired with its data: executed and fetched again"
    );
    assert_eq!(reused(&app).await, 3);
}

#[tokio::test]
async fn other_variables_and_other_operations_are_answered_on_their_own() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(KEY));
    })
    .await;
    let page = "query($first: Int) { signalWireVoiceLogs(first: $first) { edges { node { id } } } }";
    for _ in 0..3 {
        app.query(page, json!({"first": 2})).await;
    }
    assert_eq!(reused(&app).await, 1);
    let three = app.query(page, json!({"first": 3})).await;
    assert_eq!(
        three["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().len(),
        3,
        "{three}"
    );
    let two = app.query(page, json!({"first": 2})).await;
    assert_eq!(
        two["data"]["signalWireVoiceLogs"]["edges"].as_array().unwrap().len(),
        2,
        "{two}"
    );
    assert_eq!(
        reused(&app).await,
        2,
        "only the repeat of the same variables was reused"
    );
}

#[tokio::test]
async fn one_tenant_never_gets_another_tenants_kept_answer() {
    let app = TestApp::spawn_two_tenants().await;
    let page = "{ signalWireVoiceLogs(first: 2) { edges { node { id } } } }";
    for _ in 0..3 {
        let r = app.query_with_key(page, json!({}), Some("alice-key")).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let before = app.upstream_total();
    let bob = app.query_with_key(page, json!({}), Some("bob-key")).await;
    assert!(bob["errors"].is_null(), "{bob}");
    assert_eq!(
        app.upstream_total(),
        before + 1,
        "bob's answer is made from bob's project"
    );
}

#[tokio::test]
async fn an_answer_with_an_error_is_never_replayed() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(KEY));
        c.providers.oneuptime = None;
    })
    .await;
    let partial = "{ signalWireVoiceLogs(first: 1) { edges { node { id } } } oneUptimeCallLogs(first: 1) { edges { node { id } } } }";
    for _ in 0..3 {
        let r = app.query(partial, json!({})).await;
        assert_eq!(error_codes(&r), ["PROVIDER_NOT_CONFIGURED"], "{r}");
    }
    assert_eq!(reused(&app).await, 0);
}

#[tokio::test]
async fn a_kept_answer_is_sent_compressed_as_the_client_asks_and_decodes_to_the_same_json() {
    use std::io::Read;
    let app = TestApp::spawn().await;
    let page = "{ signalWireVoiceLogs(first: 20) { edges { cursor node { id nativeId createdAt status from to } } } }";
    // A client that leaves bodies as they came (the shared one decodes gzip itself).
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let post = |encoding: &'static str| {
        client
            .post(&app.url)
            .header("accept-encoding", encoding)
            .json(&json!({ "query": page }))
            .send()
    };
    let plain = post("identity").await.unwrap().bytes().await.unwrap();
    assert!(plain.len() > 1024, "big enough to compress");
    post("identity").await.unwrap();
    for (encoding, header) in [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("zstd;q=1, br;q=0.1", "zstd"),
    ] {
        let kept = post(encoding).await.unwrap();
        assert_eq!(
            kept.headers().get("content-encoding").map(|v| v.to_str().unwrap()),
            Some(header),
            "{:?}",
            kept.headers()
        );
        let body = kept.bytes().await.unwrap();
        let mut decoded = Vec::new();
        match header {
            "br" => brotli::Decompressor::new(&body[..], 4096)
                .read_to_end(&mut decoded)
                .map(drop),
            "gzip" => flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut decoded)
                .map(drop),
            _ => zstd::stream::copy_decode(&body[..], &mut decoded),
        }
        .unwrap();
        assert_eq!(decoded, plain, "{header}");
    }
}

#[tokio::test]
async fn nothing_is_kept_when_the_record_cache_is_off() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(KEY));
        c.cache.max_bytes = 0;
    })
    .await;
    let id = json!({"id": unknown_voice_log()});
    // Concurrent asks share one fetch; the ones that joined it made no call of their own.
    let together = futures::future::join_all((0..8).map(|_| app.query(UNKNOWN, id.clone()))).await;
    assert!(together.iter().all(|r| r["errors"].is_null()), "{together:?}");
    for _ in 0..3 {
        app.query(UNKNOWN, id.clone()).await;
    }
    assert_eq!(reused(&app).await, 0, "no record is fresh, so no answer is");
}

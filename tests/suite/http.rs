//! HTTP hygiene of `/graphql`, the side routes, and graceful shutdown.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::emulator::{Fault, FaultKind};

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("a GraphQL error body");
    (
        status,
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

#[tokio::test]
async fn get_without_a_query_serves_graphiql() {
    let app = TestApp::spawn().await;
    let r = app.http().get(&app.url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let app = TestApp::spawn().await;
    let r = app
        .http()
        .get(&app.url)
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["__typename"], "Query");
    let r = app
        .http()
        .get(&app.url)
        .query(&[("query", "mutation { x }")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(r).await,
        (StatusCode::METHOD_NOT_ALLOWED, "BAD_USER_INPUT".into())
    );
}

#[tokio::test]
async fn posts_that_are_not_json_are_refused() {
    let app = TestApp::spawn().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = app
            .http()
            .post(&app.url)
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(r).await,
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_USER_INPUT".into()),
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn invalid_json_is_a_400_with_a_graphql_error() {
    let app = TestApp::spawn().await;
    for body in ["{not json", "[]", r#"{"variables": {}}"#] {
        let r = app
            .http()
            .post(&app.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(r).await,
            (StatusCode::BAD_REQUEST, "BAD_USER_INPUT".into()),
            "{body}"
        );
    }
}

#[tokio::test]
async fn introspection_runs_by_default_and_the_switch_turns_it_off() {
    let query = "{ __schema { queryType { name } } }";
    let app = TestApp::spawn().await;
    let r = app.query(query, json!({})).await;
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "Query", "{r}");
    let closed = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.introspection = false).await;
    let r = closed.query(query, json!({})).await;
    assert!(r["data"].is_null() || r["data"]["__schema"].is_null(), "{r}");
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    let r = closed.query("{ __typename }", json!({})).await;
    assert_eq!(r["data"]["__typename"], "Query", "ordinary queries still run");
}

#[tokio::test]
async fn large_responses_are_compressed_as_accept_encoding_asks_and_small_ones_are_not() {
    let app = TestApp::spawn().await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let page = json!({"query": VOICE_PAGE, "variables": {"first": 50}});
    for encoding in ["gzip", "br", "zstd"] {
        let r = raw
            .post(&app.url)
            .header("accept-encoding", encoding)
            .json(&page)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-encoding"], encoding);
        assert!(
            r.headers()
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("accept-encoding"))
        );
    }
    let small = raw
        .post(&app.url)
        .header("accept-encoding", "gzip")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert!(small.headers().get("content-encoding").is_none());
    // A fresh answer that fits in TCP's initial window is sent as it is; the same answer
    // kept for reuse is compressed once and sent compressed.
    let mid = json!({"query": VOICE_PAGE, "variables": {"first": 8}});
    let post_mid = || raw.post(&app.url).header("accept-encoding", "gzip").json(&mid).send();
    let fresh = post_mid().await.unwrap();
    assert!(fresh.headers().get("content-encoding").is_none());
    let fresh_len = fresh.bytes().await.unwrap().len();
    assert!((1024..14 * 1024).contains(&fresh_len), "{fresh_len} bytes");
    let kept = post_mid().await.unwrap();
    assert_eq!(kept.headers()["content-encoding"], "gzip");
    let plain = raw.post(&app.url).json(&page).send().await.unwrap();
    assert!(
        plain.headers().get("content-encoding").is_none(),
        "no Accept-Encoding, no compression"
    );
    let by_get = raw
        .get(&app.url)
        .query(&[
            ("query", page["query"].as_str().unwrap()),
            ("variables", r#"{"first":50}"#),
        ])
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(by_get.status(), StatusCode::OK);
    assert_eq!(by_get.headers()["content-encoding"], "gzip", "a GET answer too");
    let body: Value = plain.json().await.unwrap();
    assert_eq!(
        body["data"]["signalWireVoiceLogs"]["edges"].as_array().map(Vec::len),
        Some(50)
    );
}

#[tokio::test]
async fn batched_requests_are_refused_with_a_message_that_names_the_limit() {
    let app = TestApp::spawn().await;
    let r = app
        .http()
        .post(&app.url)
        .json(&json!([{"query": "{ __typename }"}, {"query": "{ __typename }"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1 operation per request"),
        "{body}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_body_bytes = 1024).await;
    let query = format!("{{ __typename }} # {}", "x".repeat(2048));
    let r = app
        .http()
        .post(&app.url)
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT".into())
    );
}

#[tokio::test]
async fn typename_alias_floods_are_refused() {
    let app = TestApp::spawn().await;
    let aliases: String = (0..500).map(|i| format!("a{i}: __typename ")).collect();
    let r = app
        .http()
        .post(&app.url)
        .json(&json!({"query": format!("{{ {aliases} }}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (StatusCode::BAD_REQUEST, "BAD_USER_INPUT".into()));
}

#[tokio::test]
async fn too_deep_queries_are_refused_by_validation() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_depth = 3).await;
    let q = "{ signalWireVoiceLogs { edges { node { ... on SignalWireVoiceLog { parent { id } } } } } }";
    let r = app.query(q, json!({})).await;
    assert!(r["data"].is_null(), "{r}");
    assert_eq!(app.upstream_total(), 0);
}

#[tokio::test]
async fn syntax_validation_and_variable_errors_carry_bad_user_input() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_depth = 3).await;
    let cases = [
        ("{ signalWireVoiceLogs(first: 5) { edges { node { id } }", json!({})),
        ("{ nope }", json!({})),
        (
            "{ signalWireVoiceLogs(first: \"five\") { edges { node { id } } } }",
            json!({}),
        ),
        (
            "query($f: Int) { signalWireVoiceLogs(first: $f) { edges { node { id } } } }",
            json!({"f": "x"}),
        ),
        (
            "{ signalWireVoiceLogs { edges { node { ... on SignalWireVoiceLog { parent { id } } } } } }",
            json!({}),
        ),
    ];
    for (query, variables) in cases {
        let r = app.query(query, variables).await;
        assert!(r["data"].is_null(), "{query}: {r}");
        let codes = error_codes(&r);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"),
            "{query}: {r}"
        );
    }
    assert_eq!(app.upstream_total(), 0);
}

#[tokio::test]
async fn health_ready_and_metrics_answer_metrics_only_with_the_metrics_key() {
    let key = "metrics-secret";
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(key));
    })
    .await;
    let base = app.url.trim_end_matches("/graphql").to_string();
    for path in ["/healthz", "/readyz"] {
        let r = app.http().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    app.query(VOICE_PAGE, json!({"first": 1})).await;
    let r = app.http().get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let r = app
        .http()
        .get(format!("{base}/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let metrics = app.metrics(key).await;
    assert!(
        metrics.contains(
            r#"switchboard_graphql_requests_total{operation_type="query",operation_name="anonymous",outcome="ok"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"switchboard_upstream_requests_total{provider="signalwire",tenant="default"} 1"#));
}

#[tokio::test]
async fn without_a_metrics_key_metrics_are_only_on_the_admin_listener() {
    let emulator = switchboard::emulator::Emulator::start(small_emulator()).await.unwrap();
    let credential = small_emulator().signalwire_credentials[0].clone();
    let mut config = base_config();
    config.providers.signalwire = Some(signalwire_config(&emulator, &credential));
    config.server.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let app = switchboard::Application::build(config).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let admin = format!("http://{}", app.admin_addr().expect("admin listener bound"));
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(code_of(r).await, (StatusCode::FORBIDDEN, "FORBIDDEN".into()));
    let r = http.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("switchboard_build_info{version="), "{text}");
    assert!(
        !text.contains("switchboard_graphql_requests_total"),
        "no request yet: {text}"
    );
    let r = http.get(format!("{admin}/graphql")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "the admin listener serves no GraphQL"
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let emulator = switchboard::emulator::Emulator::start(small_emulator()).await.unwrap();
    let credential = small_emulator().signalwire_credentials[0].clone();
    let mut config = base_config();
    config.providers.signalwire = Some(signalwire_config(&emulator, &credential));
    emulator.inject(Fault::always(FaultKind::Latency { millis: 300 }));
    let app = switchboard::Application::build(config).await.unwrap();
    let url = format!("http://{}/graphql", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let request = tokio::spawn(async move {
        let pending = reqwest::Client::new()
            .post(&url)
            .json(&json!({"query": "{ signalWireVoiceLogs(first: 1) { edges { cursor } } }"}))
            .send();
        let _ = started_tx.send(());
        pending.await
    });
    started_rx.await.unwrap();
    // Wait until the gateway is actually waiting on the (slow) upstream.
    while emulator.stats().total() == 0 {
        tokio::task::yield_now().await;
    }
    stop.send(()).unwrap();
    let response = request.await.unwrap().expect("the in-flight request completes");
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    server.await.unwrap().unwrap();
}

/// Tests and embedders can build the gateway and call its router with no socket.
#[tokio::test]
async fn a_prepared_gateway_answers_through_its_router_without_a_socket() {
    use tower::ServiceExt;
    let mut config = base_config();
    let emulator_free = url::Url::parse("http://127.0.0.1:9").unwrap();
    config.providers.oneuptime = Some(switchboard::providers::oneuptime::OneUptimeConfig {
        base_url: emulator_free,
        api_key: switchboard::config::Secret::new(switchboard::emulator::DEMO_ONEUPTIME_KEY),
        page_size: 50,
        concurrency: 1,
        max_requests_per_second: None,
        webhook_secret: None,
    });
    let gateway = switchboard::Gateway::prepare(config)
        .await
        .expect("builds without binding");
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"query":"{ __typename }"}"#))
        .unwrap();
    let response = gateway.router().oneshot(request).await.expect("answers");
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json, json!({"data": {"__typename": "Query"}}));
}

/// POSTs `query` with `accept` (none when empty); status, Content-Type and body.
async fn post_accepting(app: &TestApp, accept: &str, body: Value) -> (StatusCode, String, Value) {
    let mut request = app.http().post(&app.url).json(&body);
    if !accept.is_empty() {
        request = request.header("accept", accept);
    }
    let r = request.send().await.unwrap();
    let (status, kind) = (r.status(), r.headers()["content-type"].to_str().unwrap().to_string());
    (status, kind, r.json().await.unwrap())
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

#[tokio::test]
async fn the_graphql_response_media_type_is_served_when_accept_prefers_it_with_its_status_codes() {
    let app = TestApp::spawn().await;
    let ok = json!({"query": "{ __typename }"});
    for (accept, expected) in [
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        (
            "application/graphql-response+json, application/json;q=0.9",
            GRAPHQL_RESPONSE,
        ),
        (
            "application/json;q=0.5, application/graphql-response+json",
            GRAPHQL_RESPONSE,
        ),
        ("application/json", "application/json"),
        (
            "application/json, application/graphql-response+json",
            "application/json",
        ),
        ("*/*", "application/json"),
        ("", "application/json"),
    ] {
        let (status, kind, body) = post_accepting(&app, accept, ok.clone()).await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, expected), "Accept: {accept}");
        assert_eq!(body["data"]["__typename"], "Query");
    }
    // Request errors: 400 without `data` under the new type, 200 with `data: null` under
    // application/json (as before).
    for body in [
        json!({"query": "{"}),
        json!({"query": "{ noSuchField }"}),
        json!({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": null}}),
        json!({"query": "query A { __typename } query B { __typename }"}),
    ] {
        let (status, kind, answer) = post_accepting(&app, "application/graphql-response+json", body.clone()).await;
        assert_eq!(
            (status, kind.as_str()),
            (StatusCode::BAD_REQUEST, GRAPHQL_RESPONSE),
            "{body}"
        );
        assert!(answer.get("data").is_none(), "no data entry: {answer}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{answer}");
        let (status, _, legacy) = post_accepting(&app, "application/json", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(legacy.get("data").is_some_and(Value::is_null), "{legacy}");
    }
    // A field error is a partial result: 200 under either type.
    let (status, _, answer) = post_accepting(
        &app,
        "application/graphql-response+json",
        json!({"query": "{ node(id: \"bm90IGFuIGlk\") { id } }"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.get("data").is_some());
    // An Accept allowing neither type is 406.
    let (status, _, answer) = post_accepting(&app, "text/html", ok.clone()).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // GET answers (kept and revalidated ones too) follow Accept, and say they vary by it.
    let url = format!("{}?query=%7B__typename%7D", app.url);
    for _ in 0..2 {
        let r = app
            .http()
            .get(&url)
            .header("accept", "application/graphql-response+json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], GRAPHQL_RESPONSE);
        assert!(
            r.headers()
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("accept"))
        );
    }
}

#[tokio::test]
async fn variables_and_extensions_that_are_not_objects_are_400() {
    let app = TestApp::spawn().await;
    for (name, value) in [
        ("variables", json!("x")),
        ("variables", json!(0)),
        ("variables", json!(false)),
        ("variables", json!(["a"])),
        ("extensions", json!("x")),
        ("extensions", json!(0)),
        ("extensions", json!(false)),
        ("extensions", json!(["a"])),
    ] {
        let (status, _, body) = post_accepting(&app, "", json!({"query": "{ __typename }", name: value})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {value}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    for name in ["variables", "extensions"] {
        let (status, _, body) = post_accepting(&app, "", json!({"query": "{ __typename }", name: null})).await;
        assert_eq!(
            (status, &body["data"]["__typename"]),
            (StatusCode::OK, &json!("Query")),
            "{name}: null"
        );
    }
}

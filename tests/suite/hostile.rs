//! Hostile requests: each case once crashed, starved or amplified the gateway.
//! Every test checks the client got a coded error and that the gateway still serves
//! afterwards.

use std::time::Duration;

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::config::{ProvidersConfig, TenantConfig};
use switchboard::emulator::{Emulator, Fault, FaultKind};
use switchboard::tenancy::hash_api_key;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on how long a test waits for the gateway to close a connection (not a sleep: the
/// test ends as soon as the gateway acts).
const PATIENCE: Duration = Duration::from_secs(10);

impl TestApp {
    /// The gateway still answers a trivial query.
    async fn assert_alive(&self) {
        let r = self.query("{ __typename }", json!({})).await;
        assert_eq!(r["data"]["__typename"], "Query", "the gateway still serves: {r}");
    }

    fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/graphql")
            .to_string()
    }
}

async fn post_raw(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let r = app
        .http()
        .post(&app.url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the gateway answers");
    let status = r.status();
    (status, r.json().await.expect("a JSON body"))
}

fn codes(body: &Value) -> Vec<String> {
    error_codes(body)
}

#[tokio::test]
async fn deeply_nested_lists_and_objects_are_refused_over_post_and_get_without_a_crash() {
    let app = TestApp::spawn().await;
    let list = format!(
        "{{ nodes(ids: {}\"x\"{}) {{ id }} }}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let object = format!(
        "{{ callLogs(filter: {}{}) {{ edges {{ cursor }} }} }}",
        "{a:".repeat(3000),
        "}".repeat(3000)
    );
    let selections = format!("{{ {}__typename{} }}", "a { ".repeat(3000), " }".repeat(3000));
    for query in [&list, &object, &selections] {
        let (status, body) = post_raw(&app, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{body}");
        let r = app
            .http()
            .get(&app.url)
            .query(&[("query", query)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(codes(&r.json().await.unwrap()), ["BAD_USER_INPUT"]);
    }
    // Deep nesting in JSON variables is bounded by the JSON parser (128 levels).
    let deep_json: Value = serde_json::from_str(&format!("{}1{}", "[".repeat(127), "]".repeat(127))).unwrap();
    let r = app
        .query("query($v: [ID!]!) { nodes(ids: $v) { id } }", json!({"v": deep_json}))
        .await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert_eq!(app.upstream_total(), 0);
    app.assert_alive().await;
}

#[tokio::test]
async fn a_long_fragment_chain_is_refused_before_validation_recurses() {
    let app = TestApp::spawn().await;
    let mut q = String::from("{ ...F0 }");
    for i in 0..200 {
        q.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
    }
    q.push_str(" fragment F200 on Query { __typename }");
    let (status, body) = post_raw(&app, &q).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["BAD_USER_INPUT"]);
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("nests"),
        "{body}"
    );
    // A chain of 200,000 is cut by the token limit first.
    let huge: String = (0..100_000)
        .map(|i| format!("fragment F{i} on Query {{ ...F{} }}", i + 1))
        .collect();
    let (status, body) = post_raw(&app, &format!("{{ ...F0 }} {}", &huge[..huge.len().min(1_000_000)])).await;
    assert_eq!(
        (status, codes(&body)),
        (StatusCode::BAD_REQUEST, vec!["BAD_USER_INPUT".to_string()])
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn dates_outside_1970_to_9999_are_bad_user_input_on_every_connection() {
    let app = TestApp::spawn().await;
    let queries = [
        "query($d: DateTime) { voximplantCallSessions(filter: {createdAfter: $d}) { edges { cursor } } }",
        "query($d: DateTime) { voximplantCallSessions(filter: {createdBefore: $d}) { edges { cursor } } }",
        "query($d: DateTime) { oneUptimeCallLogs(filter: {createdAfter: $d}) { edges { cursor } } }",
        "query($d: DateTime) { oneUptimeCallLogs(filter: {createdBefore: $d}) { edges { cursor } } }",
        "query($d: DateTime) { voximplantAuditLog(filter: {createdAfter: $d}) { edges { cursor } } }",
        "query($d: DateTime) { signalWireVoiceLogs(filter: {createdAfter: $d}) { edges { cursor } } }",
        "query($d: DateTime) { callLogs(filter: {createdBefore: $d}) { edges { cursor } } }",
        "mutation($d: DateTime) { requestVoximplantCallHistoryReport(filter: {createdAfter: $d}) { id } }",
    ];
    for date in [
        "+262142-12-31T23:59:59.5Z",
        "-262143-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ] {
        for query in queries {
            let r = app.query(query, json!({"d": date})).await;
            assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{date} {query}: {r}");
        }
    }
    let r = app
        .query(
            "{ signalWireVoiceLogs(filter: {createdOn: \"+262142-12-31\"}) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert_eq!(app.upstream_total(), 0);
    // The ends of the range themselves work.
    let r = app.query(queries[0], json!({"d": "9999-12-31T23:59:59Z"})).await;
    assert!(r["errors"].is_null(), "{r}");
    app.assert_alive().await;
}

#[tokio::test]
async fn ids_with_extreme_timestamps_are_null_not_a_panic() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = [
        "VoximplantCallSession:1@8210266876799",
        "VoximplantCallSession:1@-8210266876799",
        "VoximplantCallSession:1@9223372036854775807",
        "VoximplantAuditLogEntry:1@8210266876799",
        "VoximplantCallSession:18446744073709551615@253402300799",
    ]
    .iter()
    .map(|raw| URL_SAFE_NO_PAD.encode(raw))
    .collect();
    for id in &ids {
        let r = app
            .query("query($id: ID!) { node(id: $id) { id } }", json!({"id": id}))
            .await;
        assert!(
            r["data"]["node"].is_null() && codes(&r).iter().all(|c| !c.is_empty()),
            "{id}: {r}"
        );
    }
    // The same through one DataLoader batch, twice (a panic there used to poison it).
    for _ in 0..2 {
        let r = app
            .query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({"ids": ids}))
            .await;
        assert!(r["data"]["nodes"].is_array(), "{r}");
    }
    app.assert_alive().await;
}

#[tokio::test]
async fn fragments_spread_many_times_count_every_executed_field() {
    let app = TestApp::spawn().await;
    // 199 fields by the old count (each fragment once), about 16,000 executed.
    let fields: String = (0..19).map(|i| format!("f{i}: __typename ")).collect();
    let spreads: String = (0..40).map(|_| "...A ").collect();
    let q = format!(
        "{{ a1: signalWireVoiceLogs(first: 100) {{ edges {{ node {{ ...B }} }} }} }} \
         fragment B on CallLog {{ {spreads} }} fragment A on CallLog {{ {fields} }}"
    );
    let (status, body) = post_raw(&app, &q).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(codes(&body), ["BAD_USER_INPUT"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("fragments expanded")
    );
    // A fragment bomb: 2^30 fields in a few hundred bytes.
    let mut bomb = String::from("{ ...F0 } fragment F30 on Query { __typename }");
    for i in 0..30 {
        bomb.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
    }
    let (status, body) = post_raw(&app, &bomb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(app.upstream_total(), 0);
    app.assert_alive().await;
}

#[tokio::test]
async fn complexity_scales_with_first_and_with_the_number_of_ids() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_complexity = 500).await;
    let page = |first: i32| {
        format!(
            "{{ signalWireVoiceLogs(first: {first}) {{ edges {{ node {{ id nativeId createdAt status from to }} }} }} }}"
        )
    };
    let r = app.query(&page(100), json!({})).await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert_eq!(app.upstream_total(), 0, "refused before any upstream call");
    let r = app.query(&page(5), json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
    let ids: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
    let r = app
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on CallLog { nativeId createdAt status from to } } }",
            json!({"ids": ids}),
        )
        .await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
}

#[tokio::test]
async fn a_response_past_its_size_cap_is_a_clear_error() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_response_bytes = 4096).await;
    let r = app.query(VOICE_PAGE, json!({"first": 100})).await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"], "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("max_response_bytes")
    );
    let r = app.query(VOICE_PAGE, json!({"first": 2})).await;
    assert!(r["errors"].is_null(), "{r}");
}

#[tokio::test]
async fn one_request_cannot_make_more_upstream_calls_than_its_budget() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.graphql.max_upstream_calls = 150).await;
    // 20 aliases of nodes(ids: 100 distinct SignalWire ids): 2,000 GETs without a budget.
    let aliases: String = (0..20)
        .map(|a| {
            let ids: Vec<String> = (0..100)
                .map(|i| {
                    let native = format!("00000000-0000-4000-8000-{:012}", a * 100 + i);
                    format!(
                        "\"{}\"",
                        switchboard::domain::encode_id(switchboard::providers::signalwire::VOICE_LOG, &native)
                    )
                })
                .collect();
            format!("a{a}: nodes(ids: [{}]) {{ id }} ", ids.join(","))
        })
        .collect();
    let (status, body) = post_raw(&app, &format!("{{ {aliases} }}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.upstream(VOICE_GET), 150, "exactly the budget was spent");
    let codes = codes(&body);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"),
        "{codes:?}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("max_upstream_calls"),
        "{body}"
    );
    // The rest of the response is kept: every alias is there, as a list.
    for a in 0..20 {
        assert_eq!(
            body["data"][format!("a{a}")].as_array().map(Vec::len),
            Some(100),
            "a{a}"
        );
    }
    // The budget is per request: the next request has its own.
    app.emulator.reset();
    let r = app.query(VOICE_PAGE, json!({"first": 1})).await;
    assert!(r["errors"].is_null(), "{r}");
    app.assert_alive().await;
}

#[tokio::test]
async fn repeated_and_excessive_directives_are_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = post_raw(&app, &format!("{{ __typename {} }}", "@include(if: true) ".repeat(500))).await;
    assert_eq!(
        (status, codes(&body)),
        (StatusCode::BAD_REQUEST, vec!["BAD_USER_INPUT".to_string()])
    );
    let (status, body) = post_raw(&app, "{ __typename @include(if: true) @include(if: true) }").await;
    assert_eq!(
        (status, codes(&body)),
        (StatusCode::BAD_REQUEST, vec!["BAD_USER_INPUT".to_string()])
    );
    let many: String = (0..60).map(|i| format!("a{i}: __typename @skip(if: false) ")).collect();
    let (status, body) = post_raw(&app, &format!("{{ {many} }}")).await;
    assert_eq!(
        (status, codes(&body)),
        (StatusCode::BAD_REQUEST, vec!["BAD_USER_INPUT".to_string()])
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn error_messages_do_not_echo_huge_queries() {
    let app = TestApp::spawn().await;
    let name = "a".repeat(20_000);
    for query in [
        format!("{{ {name} }}"),
        format!("{{ node(id: \"{name}\") {{ id }} }}"),
        format!("{{ {name}"),
    ] {
        let (_, body) = post_raw(&app, &query).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("errors: {}", &body.to_string()[..300]));
        assert!(!errors.is_empty());
        for e in errors {
            assert!(e["message"].as_str().unwrap().len() <= 1100, "{}", e["message"]);
            assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
        }
        assert!(body.to_string().len() < 8 * 1024, "the response stays small");
    }
    app.assert_alive().await;
}

#[tokio::test]
async fn a_cursor_of_one_tenant_is_refused_for_another() {
    let app = TestApp::spawn_two_tenants().await;
    let page = app
        .query_with_key(VOICE_PAGE, json!({"first": 2}), Some("alice-key"))
        .await;
    let cursor = page["data"]["signalWireVoiceLogs"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{page}");
    let own = app
        .query_with_key(VOICE_PAGE, json!({"first": 2, "after": cursor}), Some("alice-key"))
        .await;
    assert!(own["errors"].is_null(), "{own}");
    let stolen = app
        .query_with_key(VOICE_PAGE, json!({"first": 2, "after": cursor}), Some("bob-key"))
        .await;
    assert_eq!(codes(&stolen), ["BAD_USER_INPUT"], "{stolen}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_401_names_the_scheme() {
    let emulator = Emulator::start(small_emulator()).await.unwrap();
    let credential = small_emulator().signalwire_credentials[0].clone();
    let mut config = base_config();
    config.tenants.push(TenantConfig {
        scopes: None,
        name: "t".into(),
        api_key_sha256: Some(hash_api_key("the-key")),
        providers: ProvidersConfig {
            signalwire: Some(signalwire_config(&emulator, &credential)),
            ..Default::default()
        },
    });
    let app = TestApp::start(config, emulator).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = app
            .http()
            .post(&app.url)
            .header("authorization", format!("{scheme} the-key"))
            .json(&json!({"query": "{ __typename }"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
    for auth in [None, Some("Bearer wrong"), Some("Basic dGhlLWtleQ==")] {
        let mut request = app.http().post(&app.url).json(&json!({"query": "{ __typename }"}));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert_eq!(codes(&r.json().await.unwrap()), ["UNAUTHENTICATED"]);
    }
}

/// A gateway with short connection timeouts.
async fn impatient_app(tweak: impl FnOnce(&mut switchboard::Config)) -> TestApp {
    TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.header_read_timeout = Duration::from_millis(300);
        c.server.idle_timeout = Duration::from_millis(600);
        c.server.body_read_timeout = Duration::from_millis(300);
        tweak(c);
    })
    .await
}

/// Reads until the gateway closes the connection; what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the gateway closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn silent_dribbling_and_idle_connections_are_closed() {
    let app = impatient_app(|_| {}).await;
    // Sends nothing at all.
    let mut silent = TcpStream::connect(app.addr()).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, "");
    // Dribbles its headers one byte every 50 ms, forever.
    let mut dribbling = TcpStream::connect(app.addr()).await.unwrap();
    let (mut reader, mut writer) = dribbling.split();
    let dribble = async {
        for b in b"POST /graphql HTTP/1.1\r\nhost: x\r\nx-padding: ".iter().cycle() {
            if writer.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let closed = async {
        let mut buf = [0u8; 64];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let finished = tokio::time::timeout(PATIENCE, async {
        tokio::select! { () = dribble => {}, () = closed => {} }
    })
    .await;
    assert!(finished.is_ok(), "a dribbling client is cut off");
    // A keep-alive connection that goes idle after one request.
    let mut idle = TcpStream::connect(app.addr()).await.unwrap();
    let body = r#"{"query":"{ __typename }"}"#;
    idle.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let answer = read_until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.assert_alive().await;
}

#[tokio::test]
async fn a_body_that_stalls_is_a_408_with_a_coded_error() {
    let app = impatient_app(|_| {}).await;
    let mut stream = TcpStream::connect(app.addr()).await.unwrap();
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"query\":")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
    app.assert_alive().await;
}

#[tokio::test]
async fn connections_past_the_cap_get_503_with_retry_after() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.max_connections = 2;
        c.server.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(app.addr()).await.unwrap();
        // Start a request head so the gateway has certainly accepted this connection.
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    let mut third = TcpStream::connect(app.addr()).await.unwrap();
    let answer = read_until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("OVERLOADED"), "{answer}");
    drop(held);
    // Once the held connections go, new ones are served again (the gateway notices the
    // close asynchronously, so retry until it has).
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(r) = app.http().get(format!("http://{}/healthz", app.addr())).send().await
                && r.status() == StatusCode::OK
            {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(served.is_ok());
}

#[tokio::test]
async fn requests_past_the_in_flight_cap_get_503_and_slow_ones_meet_their_deadline() {
    let app = TestApp::spawn_with(small_emulator(), |c, _| {
        c.server.max_in_flight = 1;
        c.server.request_timeout = Duration::from_millis(1500);
    })
    .await;
    app.emulator.inject(Fault::always(FaultKind::Latency { millis: 5_000 }));
    let slow = {
        let http = app.http().clone();
        let url = app.url.clone();
        tokio::spawn(async move {
            http.post(&url)
                .json(&json!({"query": "{ signalWireVoiceLogs(first: 1) { edges { cursor } } }"}))
                .send()
                .await
                .unwrap()
        })
    };
    while app.upstream_total() == 0 {
        tokio::task::yield_now().await;
    }
    let r = app
        .http()
        .post(&app.url)
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(codes(&r.json().await.unwrap()), ["OVERLOADED"]);
    let health = app
        .http()
        .get(format!("http://{}/healthz", app.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK, "probes are not shed");
    let slow = slow.await.unwrap();
    assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(codes(&slow.json().await.unwrap()), ["UPSTREAM_TIMEOUT"]);
    app.emulator.clear_faults();
    app.assert_alive().await;
}

#[tokio::test]
async fn huge_or_deep_or_non_object_variables_are_refused_by_name_while_the_body_is_read() {
    let app = TestApp::spawn().await;
    let query = "query($id: ID!) { node(id: $id) { id } }";
    let post = |body: String| {
        app.http()
            .post(&app.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // 60,000 keys (what fits graphql.max_body_bytes, 1 MiB): refused at the 1,001st value.
    let keys: Vec<String> = (0..60_000).map(|i| format!("\"k{i}\":{i}")).collect();
    let huge = format!("{{\"query\":{},\"variables\":{{{}}}}}", json!(query), keys.join(","));
    let response = post(huge).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("graphql.max_variable_values"),
        "{body}"
    );
    let deep = format!(
        "{{\"query\":{},\"variables\":{{\"id\":{}1{}}}}}",
        json!(query),
        "[".repeat(40),
        "]".repeat(40)
    );
    let body: Value = post(deep).await.unwrap().json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("graphql.max_variable_depth"),
        "{body}"
    );
    for variables in ["\"{}\"", "[1]", "3"] {
        let response = post(format!("{{\"query\":{},\"variables\":{variables}}}", json!(query)))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{variables}");
    }
    // Over GET too; and ordinary variables still work both ways.
    let id = voice_id(&app.emulator.signalwire_voice_log_ids()[0]);
    let ok = app.query(query, json!({"id": id})).await;
    assert_eq!(ok["data"]["node"]["id"], id.as_str());
    let response = app
        .http()
        .get(&app.url)
        .query(&[
            ("query", query),
            ("variables", &format!("{{\"id\":{}}}", "[".repeat(40))),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

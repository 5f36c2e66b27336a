//! Live updates end to end: `callLogEvents` over graphql-transport-ws and graphql-sse,
//! fed by the emulator's signed callbacks (as SignalWire and a OneUptime workflow send
//! them) and by the poller; refused, tampered and replayed callbacks; the protocol's close
//! codes; resuming with `after`; tenants kept apart.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::ws::Socket;
use crate::common::{TestApp, VOICE_GET, VOICE_LIST, small_emulator};
use switchboard::emulator::{Callbacks, DEMO_ONEUPTIME_WEBHOOK_SECRET, DEMO_SIGNALWIRE_SIGNING_KEY};
use switchboard::settings::Secret;

const METRICS_KEY: &str = "live-metrics-key";
const EVENTS: &str = "subscription Events($filter: CallLogFilter, $after: String) {
  callLogEvents(filter: $filter, after: $after) { cursor kind node { __typename id nativeId status provider } }
}";

/// A gateway with both webhooks configured (the emulator calls them back) and polling
/// every `poll` (zero: off).
async fn live_app(poll: Duration, tweak: impl FnOnce(&mut switchboard::Config)) -> TestApp {
    let app = TestApp::spawn_with(small_emulator(), |config, _| {
        config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
        config.live.poll_interval = poll;
        if let Some(sw) = config.providers.signalwire.as_mut() {
            sw.signing_key = Some(Secret::new(DEMO_SIGNALWIRE_SIGNING_KEY));
        }
        if let Some(ou) = config.providers.oneuptime.as_mut() {
            ou.webhook_secret = Some(Secret::new(DEMO_ONEUPTIME_WEBHOOK_SECRET));
        }
        tweak(config);
    })
    .await;
    app.emulator.set_callbacks(callbacks(&app, "default"));
    app
}

fn callbacks(app: &TestApp, tenant: &str) -> Callbacks {
    Callbacks::to_gateway(app.url.trim_end_matches("/graphql"), tenant)
}

/// Waits until the gateway holds `n` subscriptions (they start asynchronously after
/// `subscribe`), reading `/metrics`.
async fn subscriptions_reach(app: &TestApp, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = app.metrics(METRICS_KEY).await;
        let open = text
            .lines()
            .find_map(|l| l.strip_prefix("switchboard_live_subscriptions ")?.parse::<f64>().ok())
            .unwrap_or(0.0);
        if open as u64 == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} subscriptions never started ({open})"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn event(message: &Value) -> &Value {
    assert_eq!(message["type"], "next", "{message}");
    &message["payload"]["data"]["callLogEvents"]
}

async fn counter_with(app: &TestApp, series: &str) -> u64 {
    let text = app.metrics(METRICS_KEY).await;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn signed_callbacks_reach_a_websocket_subscriber_as_created_then_updated_events() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("1", EVENTS, json!({"filter": {"providers": ["SIGNALWIRE"]}}))
        .await;
    subscriptions_reach(&app, 1).await;
    app.emulator.reset();

    let id = app.emulator.start_signalwire_call().await;
    let created = socket.next().await;
    let created = event(&created);
    assert_eq!(created["kind"], "CREATED");
    assert_eq!(created["node"]["nativeId"], id.as_str());
    assert_eq!(created["node"]["status"], "RINGING");
    assert_eq!(created["node"]["__typename"], "SignalWireVoiceLog");
    for status in ["IN_PROGRESS", "COMPLETED"] {
        app.emulator.advance_signalwire_call(&id).await.unwrap();
        let updated = socket.next().await;
        let updated = event(&updated);
        assert_eq!(updated["kind"], "UPDATED");
        assert_eq!(updated["node"]["status"], status);
        assert_eq!(updated["node"]["id"], created["node"]["id"]);
        assert_ne!(updated["cursor"], created["cursor"]);
    }
    // One fresh read per callback, and no polling (it is off).
    assert_eq!(app.upstream(VOICE_GET), 3);
    assert_eq!(app.upstream(VOICE_LIST), 0);
    assert_eq!(
        counter_with(
            &app,
            "switchboard_live_events_ingested_total{source=\"webhook_signalwire\"}"
        )
        .await,
        3
    );

    // The client completes the subscription; the server stops it.
    socket.send(json!({"id": "1", "type": "complete"})).await;
    subscriptions_reach(&app, 0).await;
}

/// A form callback signed with `key` for `url`, as SignalWire signs it.
fn signed_form(key: &str, url: &str, params: &[(&str, &str)]) -> (String, String) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (k, v) in &sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    (signature, body)
}

#[tokio::test]
async fn tampered_or_unsigned_callbacks_get_403_and_change_nothing_and_a_replay_is_delivered_once() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.subscribe("s", EVENTS, json!({})).await;
    subscriptions_reach(&app, 1).await;
    let url = format!("{}/webhooks/default/signalwire", app.url.trim_end_matches("/graphql"));
    let call = app.emulator.signalwire_voice_log_ids()[3].clone();
    let params = [
        ("CallSid", call.as_str()),
        ("CallStatus", "completed"),
        ("AccountSid", "p"),
    ];
    let (signature, body) = signed_form(DEMO_SIGNALWIRE_SIGNING_KEY, &url, &params);
    app.emulator.reset();
    let post = |signature: Option<&str>, body: String| {
        let mut request = app
            .http()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-signalwire-signature", signature);
        }
        request.send()
    };
    let tampered = body.replace("completed", "failed");
    assert_eq!(post(Some(&signature), tampered).await.unwrap().status(), 403);
    assert_eq!(post(None, body.clone()).await.unwrap().status(), 403);
    let (wrong_key, _) = signed_form("another-key", &url, &params);
    assert_eq!(post(Some(&wrong_key), body.clone()).await.unwrap().status(), 403);
    assert_eq!(app.upstream_total(), 0, "a refused callback reads nothing");
    assert_eq!(
        counter_with(&app, "switchboard_live_webhook_rejected_total{provider=\"signalwire\"}").await,
        3
    );

    // Signed as SignalWire signs it (the `X-Twilio-Signature` name works too): taken,
    // twice, delivered once.
    assert_eq!(post(Some(&signature), body.clone()).await.unwrap().status(), 204);
    let response = app
        .http()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", &signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let first = socket.next().await;
    assert_eq!(event(&first)["node"]["nativeId"], call.as_str());
    // The next event is a new call's, not the replay.
    let id = app.emulator.start_signalwire_call().await;
    let next = socket.next().await;
    assert_eq!(event(&next)["node"]["nativeId"], id.as_str());
}

#[tokio::test]
async fn the_oneuptime_webhook_takes_its_shared_secret_only() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("o", EVENTS, json!({"filter": {"providers": ["ONEUPTIME"]}}))
        .await;
    subscriptions_reach(&app, 1).await;
    let url = format!("{}/webhooks/default/oneuptime", app.url.trim_end_matches("/graphql"));
    let existing = app.emulator.oneuptime_call_log_ids()[0].clone();
    for secret in [None, Some("wrong")] {
        let mut request = app.http().post(&url).json(&json!({"callLogId": existing}));
        if let Some(secret) = secret {
            request = request.header("x-webhook-secret", secret);
        }
        assert_eq!(request.send().await.unwrap().status(), 403);
    }
    let id = app.emulator.start_oneuptime_call().await;
    let created = socket.next().await;
    let created = event(&created);
    assert_eq!(created["kind"], "CREATED");
    assert_eq!(created["node"]["nativeId"], id.as_str());
    assert_eq!(created["node"]["__typename"], "OneUptimeCallLog");
    let unknown_tenant = url.replace("/default/", "/nobody/");
    let response = app
        .http()
        .post(&unknown_tenant)
        .header("x-webhook-secret", DEMO_ONEUPTIME_WEBHOOK_SECRET)
        .json(&json!({"callLogId": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn without_webhooks_the_poller_finds_new_calls_and_status_changes() {
    let app = live_app(Duration::from_millis(100), |_| {}).await;
    app.emulator.set_callbacks(Callbacks::default());
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("p", EVENTS, json!({"filter": {"providers": ["SIGNALWIRE"]}}))
        .await;
    subscriptions_reach(&app, 1).await;
    let id = app.emulator.start_signalwire_call().await;
    let created = socket.next().await;
    assert_eq!(event(&created)["kind"], "CREATED");
    assert_eq!(event(&created)["node"]["nativeId"], id.as_str());
    app.emulator.advance_signalwire_call(&id).await.unwrap();
    let updated = socket.next().await;
    assert_eq!(event(&updated)["kind"], "UPDATED");
    assert_eq!(event(&updated)["node"]["status"], "IN_PROGRESS");
    assert!(
        app.upstream(VOICE_LIST) >= 2,
        "the poller read the head of the voice logs"
    );
}

#[tokio::test]
async fn a_tenant_nobody_subscribes_to_is_not_polled() {
    let app = live_app(Duration::from_millis(100), |_| {}).await;
    // A subscription comes and goes: the poller runs while it is open, then stops.
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.subscribe("x", EVENTS, json!({})).await;
    subscriptions_reach(&app, 1).await;
    socket.send(json!({"id": "x", "type": "complete"})).await;
    subscriptions_reach(&app, 0).await;
    // Two poll intervals after the last poll could have started, nothing more is read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.emulator.reset();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.upstream_total(), 0);
}

#[tokio::test]
async fn server_sent_events_deliver_the_same_events() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let response = app
        .http()
        .post(&app.url)
        .header("accept", "text/event-stream")
        .json(&json!({"query": EVENTS, "variables": {"filter": {"providers": ["SIGNALWIRE"]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    subscriptions_reach(&app, 1).await;
    let id = app.emulator.start_signalwire_call().await;
    let mut response = response;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream is open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let (head, _) = text.split_once("\n\n").unwrap();
    let data = head.strip_prefix("event: next\ndata: ").expect("a next event");
    let payload: Value = serde_json::from_str(data).unwrap();
    assert_eq!(payload["data"]["callLogEvents"]["kind"], "CREATED");
    assert_eq!(payload["data"]["callLogEvents"]["node"]["nativeId"], id.as_str());
}

#[tokio::test]
async fn a_validation_error_over_server_sent_events_is_a_next_event_then_complete() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let response = app
        .http()
        .post(&app.url)
        .header("accept", "text/event-stream")
        .json(&json!({"query": "subscription { callLogEvents { nope } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let mut events = text.split("\n\n").filter(|e| !e.is_empty() && !e.starts_with(':'));
    let next = events.next().unwrap().strip_prefix("event: next\ndata: ").unwrap();
    let payload: Value = serde_json::from_str(next).unwrap();
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload}"
    );
    assert_eq!(events.next(), Some("event: complete\ndata:"));
}

#[tokio::test]
async fn after_a_call_logs_cursor_a_subscriber_first_gets_what_it_missed_once() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let filter = json!({"providers": ["SIGNALWIRE"]});
    let top = app
        .query(
            "query($f: CallLogFilter) { callLogs(first: 1, filter: $f) { edges { cursor } } }",
            json!({"f": filter}),
        )
        .await;
    let cursor = top["data"]["callLogs"]["edges"][0]["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    // Two calls start, one moves on, while nobody listens.
    let first = app.emulator.start_signalwire_call().await;
    let second = app.emulator.start_signalwire_call().await;
    app.emulator.advance_signalwire_call(&first).await.unwrap();
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("r", EVENTS, json!({"filter": filter, "after": cursor}))
        .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let message = socket.next().await;
        let e = event(&message);
        seen.push((
            e["kind"].as_str().unwrap().to_string(),
            e["node"]["nativeId"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("CREATED".to_string(), first.clone()),
            ("CREATED".to_string(), second.clone()),
            ("UPDATED".to_string(), first.clone())
        ]
    );
    // Then live, with nothing repeated.
    app.emulator.advance_signalwire_call(&second).await.unwrap();
    let live = socket.next().await;
    assert_eq!(event(&live)["kind"], "UPDATED");
    assert_eq!(event(&live)["node"]["nativeId"], second.as_str());
}

#[tokio::test]
async fn every_close_code_of_the_protocol_is_sent_when_its_rule_is_broken() {
    let app = live_app(Duration::ZERO, |config| {
        config.live.connection_init_timeout = Duration::from_millis(200);
        config.live.max_subscriptions_per_connection = 1;
    })
    .await;
    // 4406: the client did not ask for graphql-transport-ws.
    let mut socket = Socket::open(&app, None).await;
    assert_eq!(socket.closed().await.0, 4406);
    // 4408: no connection_init in time.
    let mut socket = Socket::open(&app, Some("graphql-transport-ws")).await;
    assert_eq!(
        socket.closed().await,
        (4408, "Connection initialisation timeout".into())
    );
    // 4401: subscribe before the ack.
    let mut socket = Socket::open(&app, Some("graphql-transport-ws")).await;
    socket.subscribe("1", EVENTS, json!({})).await;
    assert_eq!(socket.closed().await.0, 4401);
    // 4400: not a protocol message.
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.send(json!({"type": "gossip"})).await;
    assert_eq!(socket.closed().await.0, 4400);
    // 4429: a second connection_init.
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.send(json!({"type": "connection_init"})).await;
    assert_eq!(socket.closed().await.0, 4429);
    // 4409: an id still running.
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.subscribe("same", EVENTS, json!({})).await;
    socket.subscribe("same", EVENTS, json!({})).await;
    assert_eq!(socket.closed().await.0, 4409);
    // 4429: more subscriptions than live.max_subscriptions_per_connection.
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.subscribe("a", EVENTS, json!({})).await;
    socket.subscribe("b", EVENTS, json!({})).await;
    assert_eq!(socket.closed().await.0, 4429);
}

#[tokio::test]
async fn a_refused_key_closes_with_4403_and_a_tenant_without_a_signing_key_has_no_webhook() {
    let app = TestApp::spawn_two_tenants().await;
    let mut refused = Socket::open(&app, Some("graphql-transport-ws")).await;
    refused
        .send(json!({"type": "connection_init", "payload": {"Authorization": "Bearer nobody-key"}}))
        .await;
    assert_eq!(refused.closed().await, (4403, "Forbidden".into()));
    let mut alice = Socket::ready(&app, json!({"Authorization": "Bearer alice-key"})).await;
    let mut bob = Socket::ready(&app, json!({"authorization": "Bearer bob-key"})).await;
    alice.subscribe("a", EVENTS, json!({})).await;
    bob.subscribe("b", EVENTS, json!({})).await;
    // Both subscriptions run before the callbacks (answered queries prove the sockets work).
    for socket in [&mut alice, &mut bob] {
        socket
            .send(json!({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
            .await;
        let answer = socket.next().await;
        assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
        assert_eq!(socket.next().await["type"], "complete");
    }
    // Alice's provider calls back to alice's webhook (no signing key: refused as unconfigured).
    app.emulator.set_callbacks(callbacks(&app, "alice"));
    let url = format!("{}/webhooks/alice/signalwire", app.url.trim_end_matches("/graphql"));
    let response = app.http().post(&url).body("CallSid=x").send().await.unwrap();
    assert_eq!(response.status(), 404, "alice configured no signing key");
}

#[tokio::test]
async fn a_subscription_posted_for_a_json_answer_is_told_which_transports_run_it() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let response = app
        .http()
        .post(&app.url)
        .json(&json!({"query": EVENTS}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("text/event-stream"),
        "{body}"
    );
}

#[tokio::test]
async fn shutdown_completes_every_subscription_then_closes_websockets_with_1001() {
    use crate::common::{base_config, serve, signalwire_config};
    let emulator = switchboard::emulator::Emulator::start(small_emulator()).await.unwrap();
    let mut config = base_config();
    let credential = small_emulator().signalwire_credentials[0].clone();
    config.providers.signalwire = Some(signalwire_config(&emulator, &credential));
    config.server.drain_delay = Duration::ZERO;
    config.live.poll_interval = Duration::ZERO;
    let (base, stop) = serve(config).await;
    let url = format!("{base}/graphql");
    let mut socket = Socket::ready_url(&url, json!({})).await;
    socket.subscribe("w", EVENTS, json!({})).await;
    let mut sse = reqwest::Client::new()
        .post(&url)
        .header("accept", "text/event-stream")
        .json(&json!({"query": EVENTS}))
        .send()
        .await
        .unwrap();
    // Both subscriptions run (the WebSocket's answers a query after it, in order).
    socket
        .send(json!({"id": "q", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        .await;
    assert_eq!(socket.next().await["type"], "next");
    assert_eq!(socket.next().await["type"], "complete");
    drop(stop);
    assert_eq!(socket.next().await, json!({"id": "w", "type": "complete"}));
    assert_eq!(socket.closed().await.0, 1001);
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
        .await
        .expect("the event stream ends within 10 s")
        .unwrap()
    {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.ends_with("event: complete\ndata:\n\n"), "{text:?}");
}

mod signed_in {
    use super::*;
    use crate::common::issuer::{TestIssuer, jwt_config, now, valid_claims};
    use switchboard::config::{AuthorizationConfig, FieldRuleConfig, Otherwise, Requires};

    async fn app(issuer: &TestIssuer) -> TestApp {
        issuer.add_rsa_key("k1", true);
        let jwt = jwt_config(issuer);
        live_app(Duration::ZERO, move |config| {
            config.auth.jwt = Some(jwt);
            let rule = |scope: &str, otherwise| FieldRuleConfig {
                requires: Requires::One(scope.into()),
                otherwise,
            };
            config.authorization = Some(AuthorizationConfig {
                scopes_claim: "scope".into(),
                fields: std::collections::BTreeMap::from([
                    ("CallLog.from".to_string(), rule("calls:numbers", Otherwise::Mask)),
                    ("CallLog.cost".to_string(), rule("billing:read", Otherwise::Forbid)),
                ]),
            });
        })
        .await
    }

    fn token(issuer: &TestIssuer, scope: &str, lifetime: i64) -> String {
        let mut claims = valid_claims();
        claims["scope"] = json!(scope);
        claims["exp"] = json!(now() + lifetime);
        issuer.sign("k1", &claims)
    }

    #[tokio::test]
    async fn events_are_masked_and_forbidden_fields_refused_as_in_queries() {
        let issuer = TestIssuer::start().await;
        let app = app(&issuer).await;
        let query = "subscription { callLogEvents { kind node { from cost { amount } } } }";
        let mut full = Socket::ready(
            &app,
            json!({"Authorization": format!("Bearer {}", token(&issuer, "calls:numbers billing:read", 300))}),
        )
        .await;
        let mut narrow = Socket::ready(
            &app,
            json!({"Authorization": format!("Bearer {}", token(&issuer, "calls:read", 300))}),
        )
        .await;
        full.subscribe("f", query, json!({})).await;
        narrow.subscribe("n", query, json!({})).await;
        subscriptions_reach(&app, 2).await;
        app.emulator.start_signalwire_call().await;
        let shown = full.next().await;
        let from = shown["payload"]["data"]["callLogEvents"]["node"]["from"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(from.starts_with('+') && !from.contains('•'), "{shown}");
        assert!(shown["payload"]["errors"].is_null(), "{shown}");
        // The event that showed a number whole is audited, as an answer would be.
        assert_eq!(
            counter_with(&app, "switchboard_audit_unmasked_records_total{rule=\"CallLog.from\"}").await,
            1
        );
        let masked = narrow.next().await;
        let node = &masked["payload"]["data"]["callLogEvents"]["node"];
        assert!(node["from"].as_str().unwrap().contains('•'), "{masked}");
        assert_eq!(node["cost"], Value::Null);
        assert_eq!(
            masked["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{masked}"
        );
        assert_eq!(
            masked["payload"]["errors"][0]["path"],
            json!(["callLogEvents", "node", "cost"])
        );
        // Selecting by a number needs the scope that shows numbers.
        narrow
            .subscribe(
                "by-number",
                "subscription { callLogEvents(filter: {number: \"+15550000000\"}) { kind } }",
                json!({}),
            )
            .await;
        let refused = narrow.next().await;
        assert_eq!(
            refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_socket_closes_with_4403_when_its_token_expires() {
        let issuer = TestIssuer::start().await;
        let app = app(&issuer).await;
        let mut socket = Socket::ready(
            &app,
            json!({"Authorization": format!("Bearer {}", token(&issuer, "calls:read", 2))}),
        )
        .await;
        socket.subscribe("e", EVENTS, json!({})).await;
        let started = std::time::Instant::now();
        assert_eq!(socket.closed().await, (4403, "Forbidden: the token has expired".into()));
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "closed {:?} after the token's exp",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn with_required_trusted_documents_a_socket_runs_only_manifest_operations() {
    let path = std::env::temp_dir().join(format!("switchboard-{}-live-manifest.json", std::process::id()));
    std::fs::write(&path, json!({"events-v1": EVENTS}).to_string()).unwrap();
    let manifest = path.clone();
    let app = live_app(Duration::ZERO, move |config| {
        config.graphql.trusted_documents.mode = switchboard::config::TrustedDocumentsMode::Required;
        config.graphql.trusted_documents.manifest = Some(manifest);
    })
    .await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("free", "subscription { callLogEvents { kind } }", json!({}))
        .await;
    let refused = socket.next().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "QUERY_NOT_IN_SAFELIST");
    socket
        .send(json!({"id": "known", "type": "subscribe", "payload": {"documentId": "events-v1"}}))
        .await;
    subscriptions_reach(&app, 1).await;
    let id = app.emulator.start_signalwire_call().await;
    let created = socket.next().await;
    assert_eq!(event(&created)["node"]["nativeId"], id.as_str());
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_poller_finds_a_new_voximplant_session_which_has_no_push() {
    let app = live_app(Duration::from_millis(100), |_| {}).await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket
        .subscribe("v", EVENTS, json!({"filter": {"providers": ["VOXIMPLANT"]}}))
        .await;
    subscriptions_reach(&app, 1).await;
    let id = app.emulator.start_voximplant_session();
    let created = socket.next().await;
    assert_eq!(event(&created)["kind"], "CREATED");
    assert_eq!(event(&created)["node"]["nativeId"], id.to_string());
    assert_eq!(event(&created)["node"]["__typename"], "VoximplantCallSession");
}

#[tokio::test]
async fn a_quiet_event_stream_outlives_the_idle_timeout_on_its_keep_alive_comments() {
    let app = live_app(Duration::ZERO, |config| {
        config.server.idle_timeout = Duration::from_millis(600);
    })
    .await;
    let mut response = app
        .http()
        .post(&app.url)
        .header("accept", "text/event-stream")
        .json(&json!({"query": EVENTS}))
        .send()
        .await
        .unwrap();
    subscriptions_reach(&app, 1).await;
    // Three idle timeouts pass with nothing to say but keep-alive comments.
    let quiet_until = tokio::time::Instant::now() + Duration::from_millis(1800);
    let mut comments = 0;
    while tokio::time::Instant::now() < quiet_until {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("a keep-alive within 5 s")
            .unwrap()
            .expect("the stream is still open");
        assert_eq!(&chunk[..], b":\n\n");
        comments += 1;
    }
    assert!(comments >= 3, "{comments} keep-alive comments");
    let id = app.emulator.start_signalwire_call().await;
    let mut text = String::new();
    while !text.contains("event: next") {
        let chunk = response.chunk().await.unwrap().expect("the stream is open");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.contains(&id), "{text}");
}

#[tokio::test]
async fn a_deleted_log_is_an_event_only_for_a_filter_that_asks_for_deleted_calls() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    // A seeded voice log SignalWire deleted (a `discarded_at` record).
    let ids = app.emulator.signalwire_voice_log_ids();
    let mut deleted = None;
    for id in &ids {
        let found = app
            .query(
                "query($id: ID!) { node(id: $id) { ... on CallLog { status } } }",
                json!({"id": crate::common::voice_id(id)}),
            )
            .await;
        if found["data"]["node"]["status"] == "DELETED" {
            deleted = Some(id.clone());
            break;
        }
    }
    let deleted = deleted.expect("the seeded data has deleted voice logs");
    let mut any = Socket::ready(&app, json!({})).await;
    let mut asked = Socket::ready(&app, json!({})).await;
    any.subscribe("any", EVENTS, json!({})).await;
    asked
        .subscribe("asked", EVENTS, json!({"filter": {"statuses": ["DELETED"]}}))
        .await;
    subscriptions_reach(&app, 2).await;
    let url = format!("{}/webhooks/default/signalwire", app.url.trim_end_matches("/graphql"));
    let params = [("CallSid", deleted.as_str()), ("CallStatus", "completed")];
    let (signature, body) = signed_form(DEMO_SIGNALWIRE_SIGNING_KEY, &url, &params);
    let response = app
        .http()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-signalwire-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let seen = asked.next().await;
    assert_eq!(event(&seen)["node"]["status"], "DELETED");
    // The unfiltered subscriber gets the next call, not the deleted log.
    let id = app.emulator.start_signalwire_call().await;
    let next = any.next().await;
    assert_eq!(event(&next)["node"]["nativeId"], id.as_str());
}

/// A JSON callback (RELAY, SWML) signed for `url`: hex HMAC-SHA1 over the URL and the body.
fn signed_json(key: &str, url: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_signed_json_callback_is_taken_and_a_tampered_one_refused() {
    let app = live_app(Duration::ZERO, |_| {}).await;
    let mut socket = Socket::ready(&app, json!({})).await;
    socket.subscribe("j", EVENTS, json!({})).await;
    subscriptions_reach(&app, 1).await;
    let url = format!("{}/webhooks/default/signalwire", app.url.trim_end_matches("/graphql"));
    let call = app.emulator.start_signalwire_call().await;
    let created = socket.next().await;
    assert_eq!(event(&created)["kind"], "CREATED");
    app.emulator.set_callbacks(Callbacks::default());
    app.emulator.advance_signalwire_call(&call).await.unwrap();
    let body =
        json!({"event_type": "calling.call.state", "params": {"call_id": call, "call_state": "answered"}}).to_string();
    let signature = signed_json(DEMO_SIGNALWIRE_SIGNING_KEY, &url, &body);
    let post = |signature: String, body: String| {
        app.http()
            .post(&url)
            .header("content-type", "application/json")
            .header("x-signalwire-signature", signature)
            .body(body)
            .send()
    };
    let tampered = body.replace("answered", "ended");
    assert_eq!(post(signature.clone(), tampered).await.unwrap().status(), 403);
    assert_eq!(post(signature, body).await.unwrap().status(), 204);
    let updated = socket.next().await;
    assert_eq!(event(&updated)["kind"], "UPDATED");
    assert_eq!(event(&updated)["node"]["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn a_tenant_past_its_subscription_limit_is_refused_with_a_code() {
    let app = live_app(Duration::ZERO, |config| config.live.max_subscriptions_per_tenant = 1).await;
    let mut first = Socket::ready(&app, json!({})).await;
    first.subscribe("1", EVENTS, json!({})).await;
    subscriptions_reach(&app, 1).await;
    let mut second = Socket::ready(&app, json!({})).await;
    second.subscribe("2", EVENTS, json!({})).await;
    let refused = second.next().await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    assert_eq!(second.next().await, json!({"id": "2", "type": "complete"}));
}

#[tokio::test]
async fn each_tenant_receives_only_the_events_of_its_own_calls() {
    use crate::common::{base_config, signalwire_config};
    let credentials: Vec<(&str, switchboard::emulator::BasicCredential)> = ["alice", "bob"]
        .into_iter()
        .map(|name| {
            (
                name,
                switchboard::emulator::BasicCredential {
                    project_id: format!("{name}-project"),
                    api_token: format!("{name}-token"),
                },
            )
        })
        .collect();
    let mut emulator_config = small_emulator();
    emulator_config.signalwire_credentials = credentials.iter().map(|(_, c)| c.clone()).collect();
    let emulator = switchboard::emulator::Emulator::start(emulator_config).await.unwrap();
    let mut config = base_config();
    config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    config.live.poll_interval = Duration::ZERO;
    for (name, credential) in &credentials {
        let mut signalwire = signalwire_config(&emulator, credential);
        signalwire.signing_key = Some(Secret::new(DEMO_SIGNALWIRE_SIGNING_KEY));
        config.tenants.push(switchboard::config::TenantConfig {
            scopes: None,
            name: name.to_string(),
            api_key_sha256: Some(switchboard::tenancy::hash_api_key(&format!("{name}-key"))),
            providers: switchboard::config::ProvidersConfig {
                signalwire: Some(signalwire),
                ..Default::default()
            },
        });
    }
    let app = TestApp::start(config, emulator).await;
    let mut alice = Socket::ready(&app, json!({"Authorization": "Bearer alice-key"})).await;
    let mut bob = Socket::ready(&app, json!({"Authorization": "Bearer bob-key"})).await;
    alice.subscribe("a", EVENTS, json!({})).await;
    bob.subscribe("b", EVENTS, json!({})).await;
    subscriptions_reach(&app, 2).await;
    // Alice's project calls back to alice's webhook; only alice hears of it.
    app.emulator.set_callbacks(callbacks(&app, "alice"));
    let for_alice = app.emulator.start_signalwire_call().await;
    app.emulator.set_callbacks(callbacks(&app, "bob"));
    let for_bob = app.emulator.start_signalwire_call().await;
    assert_eq!(event(&alice.next().await)["node"]["nativeId"], for_alice.as_str());
    assert_eq!(event(&bob.next().await)["node"]["nativeId"], for_bob.as_str());
    // Neither saw the other's: the next event each gets is its own again.
    app.emulator.set_callbacks(callbacks(&app, "alice"));
    app.emulator.advance_signalwire_call(&for_alice).await.unwrap();
    let again = alice.next().await;
    assert_eq!(event(&again)["node"]["nativeId"], for_alice.as_str());
    app.emulator.set_callbacks(callbacks(&app, "bob"));
    app.emulator.advance_signalwire_call(&for_bob).await.unwrap();
    let again = bob.next().await;
    assert_eq!(event(&again)["node"]["nativeId"], for_bob.as_str());
}

#[tokio::test]
async fn a_caller_out_of_budget_starts_no_subscription() {
    let app = live_app(Duration::ZERO, |c| c.limits.tenant_cost_per_minute = 1).await;
    let subscribe = || {
        app.http()
            .post(&app.url)
            .header("accept", "text/event-stream")
            .json(&json!({"query": "subscription { callLogEvents { kind } }"}))
            .send()
    };
    // The first costs the floor (1): the whole budget. It stays open; the second is refused.
    let first = subscribe().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = subscribe().await.unwrap();
    let text = second.text().await.unwrap();
    let next = text
        .split("\n\n")
        .find_map(|e| e.strip_prefix("event: next\ndata: "))
        .unwrap_or_else(|| panic!("{text}"));
    let payload: Value = serde_json::from_str(next).unwrap();
    assert_eq!(payload["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{payload}");
    assert!(payload["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() >= Some(1));
    drop(first);
}

//! The JSON log format and request ids. In a test binary of its own: the
//! subscriber is process-global here, since `tracing`'s per-callsite interest cache races
//! with thread-local subscribers when other tests run on other threads.

mod common;

use std::sync::{Arc, Mutex};

use common::{TestApp, json_of, small_emulator, voice_id};
use serde_json::{Value, json};

const NODE: &str = "query Detail($id: ID!) { node(id: $id) { id } }";

/// Collects what a `tracing` layer writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn the_json_access_line_names_the_request_and_no_line_holds_a_secret() {
    use tracing_subscriber::layer::SubscriberExt;
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info,switchboard::access=debug"))
        .with(switchboard::telemetry::logs::layer(
            switchboard::config::LogFormat::Json,
            captured.clone(),
            false,
        ));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this binary");
    let app = TestApp::spawn_with(small_emulator(), |c, _| c.log.access = true).await;
    let token = small_emulator().signalwire_credentials[0].api_token.clone();
    let ids = app.emulator.signalwire_voice_log_ids();
    let response = app
        .http()
        .post(&app.url)
        .header("x-request-id", "req-42")
        .json(&json!({"query": NODE, "variables": {"id": voice_id(&ids[0])}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-42");
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    let odd = app
        .http()
        .post(&app.url)
        .header("x-request-id", "no spaces allowed")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    let generated = odd.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 32, "{generated}");

    // A provider failing for a DataLoader batch (a task of its own): its warning still
    // names the request.
    app.emulator.inject(switchboard::emulator::Fault::always(
        switchboard::emulator::FaultKind::Status {
            status: 503,
            retry_after_seconds: None,
        },
    ));
    let failed: Value = json_of(
        app.http()
            .post(&app.url)
            .header("x-request-id", "req-43")
            .json(&json!({"query": NODE, "variables": {"id": voice_id(&ids[1])}})),
    )
    .await;
    assert_eq!(
        failed["errors"][0]["extensions"]["code"], "UPSTREAM_UNAVAILABLE",
        "{failed}"
    );

    // `[authorization]`: an unmasked answer writes an audit record, a masked one none; a
    // gateway with sign-in and no rules says once that everyone sees everything.
    let issuer = common::issuer::TestIssuer::start().await;
    issuer.add_rsa_key("k1", true);
    let jwt = common::issuer::jwt_config(&issuer);
    let (with_rules, without_rules) = (jwt.clone(), jwt);
    let guarded = TestApp::spawn_with(small_emulator(), move |c, _| {
        c.auth.jwt = Some(with_rules);
        c.authorization = Some(
            serde_json::from_value(json!({
                "scopes_claim": "scope",
                "fields": {"CallLog.from": {"requires": "calls:numbers", "otherwise": "mask"}}
            }))
            .unwrap(),
        );
    })
    .await;
    let signed = |scope: &str| {
        let mut claims = common::issuer::valid_claims();
        claims["scope"] = json!(scope);
        claims["sub"] = json!("agent-7");
        claims["azp"] = json!("dashboard");
        issuer.sign("k1", &claims)
    };
    let page = "query Recent { signalWireVoiceLogs(first: 4) { edges { node { id from } } } }";
    for (id, scope) in [("req-audit", "calls:numbers"), ("req-masked", "calls:read")] {
        let answer: Value = json_of(
            guarded
                .http()
                .post(&guarded.url)
                .header("x-request-id", id)
                .bearer_auth(signed(scope))
                .json(&json!({ "query": page })),
        )
        .await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    let _open = TestApp::spawn_with(small_emulator(), move |c, _| c.auth.jwt = Some(without_rules)).await;

    // With `log.access` off (the default) the same line is written at debug.
    let quiet = TestApp::spawn().await;
    quiet
        .http()
        .post(&quiet.url)
        .header("x-request-id", "req-debug")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!text.contains(&token), "a secret was logged:\n{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes in JSON");
    let access = lines
        .iter()
        .find(|l| l["target"] == "switchboard::access" && l["request_id"] == "req-42")
        .unwrap_or_else(|| panic!("no access line:\n{text}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "POST");
    assert_eq!(access["path"], "/graphql");
    assert_eq!(access["operation"], "Detail");
    assert_eq!(access["status"], 200);
    assert_eq!(access["outcome"], "ok");
    assert_eq!(access["tenant"], "default");
    assert_eq!(access["upstream_calls"], 1);
    assert_eq!(access["cache_hits"], 0);
    assert!(access["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{access}");
    assert!(access["timestamp"].is_string());
    let debug = lines
        .iter()
        .find(|l| l["target"] == "switchboard::access" && l["request_id"] == "req-debug")
        .unwrap_or_else(|| panic!("no debug access line:\n{text}"));
    assert_eq!(debug["level"], "DEBUG");
    let warning = lines
        .iter()
        .find(|l| l["message"] == "upstream error" && l["request_id"] == "req-43")
        .unwrap_or_else(|| panic!("no upstream error line for req-43:\n{text}"));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["provider"], "signalwire");
    assert!(
        warning["detail"].as_str().is_some_and(|d| d.contains("503")),
        "{warning}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["target"] == "switchboard::access" && l["request_id"] == generated.as_str()),
        "the generated id is logged too:\n{text}"
    );
    let audit: Vec<&Value> = lines.iter().filter(|l| l["target"] == "switchboard::audit").collect();
    assert_eq!(audit.len(), 1, "one record, for the unmasked answer only:\n{text}");
    let record = audit[0];
    assert_eq!(record["level"], "INFO");
    assert_eq!(record["request_id"], "req-audit");
    assert_eq!(record["tenant"], "default");
    assert_eq!(record["sub"], "agent-7");
    assert_eq!(record["azp"], "dashboard");
    assert_eq!(record["operation"], "Recent");
    assert_eq!(record["rules"], "CallLog.from=4");
    assert_eq!(record["records"], 4);
    let numbers: Vec<&str> = text.matches("+1").collect();
    assert!(
        !record.to_string().contains("+1"),
        "no value in the record: {record} ({} other +1 in the log)",
        numbers.len()
    );
    let warned: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("every signed-in user sees every field"))
        })
        .collect();
    assert_eq!(warned.len(), 1, "said once, by the gateway without rules:\n{text}");
}

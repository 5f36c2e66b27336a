//! `/readyz` and shutdown: the real binary, sent a real SIGTERM while a
//! request is in flight, answers 503 on `/readyz` before that request finishes, still
//! finishes it, and exits cleanly. Also `switchboard health`, the container health check.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::small_emulator;
use serde_json::{Value, json};
use switchboard::emulator::{Emulator, Fault, FaultKind};

/// Kills the gateway if the test fails before it exits.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `config` and returns it with its address (read from its
/// "GraphiQL: http://.../graphql" log line).
fn start(config: &str) -> (Gateway, String) {
    let dir = std::env::temp_dir().join(format!("switchboard-readiness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the switchboard binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the gateway logs its address").unwrap();
        if let Some(at) = line.split("GraphiQL: http://").nth(1) {
            break at.trim_end_matches("/graphql").trim().to_string();
        }
    };
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Gateway(child), addr)
}

/// Waits (bounded) until `condition` holds, checking every few milliseconds.
async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_on_sigterm_before_in_flight_requests_finish() {
    let emulator_config = small_emulator();
    let credential = emulator_config.signalwire_credentials[0].clone();
    let emulator = Emulator::start(emulator_config).await.unwrap();
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
drain_delay = "3s"
shutdown_grace = "10s"

[graphql]
cursor_secret = "test-cursor-key"

[providers.signalwire]
space_url = "{}"
project_id = "{}"
api_token = "{}"
"#,
        emulator.base_url(),
        credential.project_id,
        credential.api_token
    );
    let (mut gateway, addr) = start(&config);
    // Fresh connections each time: a draining server closes idle kept-alive ones.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let ready = format!("http://{addr}/readyz");
    assert_eq!(http.get(&ready).send().await.unwrap().status(), 200);

    emulator.inject(Fault::always(FaultKind::Latency { millis: 1_500 }).on("/api/voice/logs/"));
    let id = crate::common::voice_id(&emulator.signalwire_voice_log_ids()[0]);
    let slow = tokio::spawn({
        let (http, url) = (http.clone(), format!("http://{addr}/graphql"));
        async move {
            let r = http
                .post(url)
                .json(&json!({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": id}}))
                .send()
                .await
                .expect("the in-flight request is answered");
            (r.status(), r.json::<Value>().await.unwrap())
        }
    });
    eventually("the slow request reached the provider", async || {
        emulator.stats().total() > 0
    })
    .await;

    let pid = gateway.0.id().to_string();
    // The shell's builtin `kill`: no procps package needed.
    let sigterm = Command::new("sh").arg("-c").arg(format!("kill -TERM {pid}")).status();
    assert!(sigterm.unwrap().success());
    eventually("/readyz answers 503", async || {
        http.get(&ready).send().await.is_ok_and(|r| r.status() == 503)
    })
    .await;
    assert!(!slow.is_finished(), "503 came while the request was still in flight");

    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["node"]["id"].is_string(), "{body}");
    let exit = tokio::task::spawn_blocking(move || gateway.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "exits cleanly after draining: {exit:?}");
}

/// Runs `switchboard health` with `args` and `env`; true when it exits 0.
async fn health(args: &[&str], env: &[(&str, String)]) -> bool {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.arg("health").args(args).stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.status().await.expect("the binary runs").success()
}

#[tokio::test]
async fn the_health_command_exits_0_for_a_live_gateway_and_1_for_none() {
    let app = crate::common::TestApp::spawn().await;
    let base = app.url.trim_end_matches("/graphql").to_string();
    assert!(health(&["--url", &format!("{base}/healthz")], &[]).await);
    assert!(health(&["--ready", "--url", &format!("{base}/readyz")], &[]).await);
    // Without --url it asks the configured listen address, a wildcard one on loopback.
    let port = base.rsplit(':').next().unwrap().to_string();
    let listen = ("SWITCHBOARD__SERVER__LISTEN", format!("0.0.0.0:{port}"));
    assert!(health(&["--ready"], std::slice::from_ref(&listen)).await);
    // Nothing listens there any more once the listener is closed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    assert!(!health(&["--url", &format!("http://127.0.0.1:{closed}/healthz")], &[]).await);
    assert!(!health(&["--url", &format!("{base}/no-such-route")], &[]).await);
}

//! Benchmark of live updates (README "Live updates", issue 33), with gateways as processes
//! of their own so their memory is measured alone:
//!
//! 1. Many subscriptions on one replica: opens `subscriptions` WebSockets (graphql-transport-ws),
//!    one `callLogEvents` subscription each, and reports the gateway's RSS before and after
//!    (and per subscription), then one signed callback and how long until every subscriber
//!    had its event.
//! 2. Events between replicas: two gateways share a `redis-server` started here; signed
//!    SignalWire callbacks go to replica A at `rate` per second for `seconds`, each about a
//!    call no one has seen; subscribers on replica B time each event from the callback's
//!    send to its arrival: p50, p99, max, and how many arrived.
//!
//! `cargo run --release --example live_bench [subscriptions] [rate] [seconds]`
//! (defaults 10000, 1000, 10). Needs `redis-server` for part 2 (Debian `redis-server`);
//! raise `ulimit -n` above twice `subscriptions`.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard::emulator::{DEMO_SIGNALWIRE_SIGNING_KEY, Emulator, EmulatorConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Every status, deleted logs included (some seeded voice logs are: without the filter
/// their events would be left out, as `callLogs` leaves them out).
const EVENTS: &str = "subscription { callLogEvents(filter: {statuses: [QUEUED, RINGING, IN_PROGRESS, PLACED, COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED, DELETED, UNKNOWN]}) { kind node { nativeId status } } }";
const METRICS_KEY: &str = "live-bench";

/// The gateway half: every provider at the emulator at `base`, the SignalWire signing key,
/// no polling, limits raised for the run, Redis at `redis` unless `-`.
async fn serve(base: &str, redis: &str) {
    let base: url::Url = base.parse().expect("emulator URL");
    let mut config = switchboard::Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("static address");
    config.server.max_connections = 30_000;
    config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    switchboard::use_emulator(&mut config, &base);
    if let Some(sw) = config.providers.signalwire.as_mut() {
        sw.signing_key = Some(switchboard::settings::Secret::new(DEMO_SIGNALWIRE_SIGNING_KEY));
    }
    config.live.poll_interval = Duration::ZERO;
    config.live.max_subscriptions_per_tenant = 100_000;
    config.live.buffer = 4096;
    if redis != "-" {
        config.cache.redis = Some(switchboard::config::RedisConfig::new(redis));
    }
    let app = switchboard::Application::build(config).await.expect("gateway builds");
    println!("gateway http://{}", app.local_addr());
    app.run_until_stopped().await.expect("gateway runs");
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    support::rss_kib(pid) as f64 / 1024.0
}

async fn metric(http: &reqwest::Client, base: &str, series: &str) -> f64 {
    support::metric(http, base, METRICS_KEY, series).await
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket with one `callLogEvents` subscription running (acknowledged, subscribed).
async fn subscriber(base: &str) -> Socket {
    let mut request = format!("{}/graphql", base.replacen("http://", "ws://", 1))
        .into_client_request()
        .expect("ws URL");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket opens");
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(json!({"type": "connection_init"})))
        .await
        .expect("init");
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) if t.contains("connection_ack") => break,
            Some(Ok(_)) => continue,
            other => panic!("no ack: {other:?}"),
        }
    }
    socket
        .send(send(
            json!({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}),
        ))
        .await
        .expect("subscribe");
    socket
}

/// The native id of the next event on `socket` (pings answered).
async fn next_event(socket: &mut Socket) -> Option<String> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(text)) => {
                let v: Value = serde_json::from_str(text.as_str()).ok()?;
                match v["type"].as_str() {
                    Some("next") => {
                        return v["payload"]["data"]["callLogEvents"]["node"]["nativeId"]
                            .as_str()
                            .map(str::to_string);
                    }
                    Some("ping") => {
                        let _ = socket.send(Message::Text(r#"{"type":"pong"}"#.into())).await;
                    }
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// A SignalWire status callback for `call`, signed for `url` as SignalWire signs it.
fn callback(url: &str, call: &str) -> (String, String) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let params = [("AccountSid", "bench"), ("CallSid", call), ("CallStatus", "completed")];
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(DEMO_SIGNALWIRE_SIGNING_KEY.as_bytes()).expect("key");
    mac.update(url.as_bytes());
    for (k, v) in params {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    (signature, body)
}

async fn post_callback(http: &reqwest::Client, url: &str, call: &str) -> u16 {
    let (signature, body) = callback(url, call);
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-signalwire-signature", signature)
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn many_subscriptions(emulator: &Emulator, n: usize) {
    let (mut child, base) = support::spawn_gateway(&["--serve", emulator.base_url().as_str(), "-"]);
    let http = reqwest::Client::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_mib(child.id());
    let started = Instant::now();
    let sockets: Vec<Socket> = futures::stream::iter(0..n)
        .map(|_| subscriber(&base))
        .buffer_unordered(64)
        .collect()
        .await;
    while metric(&http, &base, "switchboard_live_subscriptions").await < n as f64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = rss_mib(child.id());
    // One callback, delivered to every subscriber.
    let call = emulator.signalwire_voice_log_ids()[0].clone();
    let url = format!("{base}/webhooks/default/signalwire");
    let sent = Instant::now();
    let status = post_callback(&http, &url, &call).await;
    let arrivals: Vec<Duration> = futures::stream::iter(sockets)
        .map(|mut socket| async move {
            let got = next_event(&mut socket).await;
            (got, sent.elapsed(), socket)
        })
        .buffer_unordered(n)
        .map(|(got, at, _socket)| {
            assert!(got.is_some(), "a subscriber missed the event");
            at
        })
        .collect()
        .await;
    let mut arrivals = arrivals;
    arrivals.sort();
    println!("## {n} subscriptions on one replica\n");
    println!("| measure | figure |\n|---|---|");
    println!("| gateway RSS idle | {idle:.1} MiB |");
    println!("| gateway RSS with {n} subscriptions | {loaded:.1} MiB |");
    println!(
        "| RSS added | {:.1} MiB ({:.1} KiB per subscription) |",
        loaded - idle,
        (loaded - idle) * 1024.0 / n as f64
    );
    println!("| time to open them (64 at a time) | {:.1} s |", opened.as_secs_f64());
    println!(
        "| one callback ({status}) to all {n} subscribers: p50 / p99 / last | {:.0} / {:.0} / {:.0} ms |",
        percentile(&arrivals, 0.5).as_secs_f64() * 1000.0,
        percentile(&arrivals, 0.99).as_secs_f64() * 1000.0,
        arrivals.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A `redis-server` on a free port, without persistence.
fn redis() -> Option<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut lines = BufReader::new(child.stdout.take()?).lines();
    for line in lines.by_ref() {
        if line.ok()?.contains("Ready to accept connections") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Some((child, format!("redis://127.0.0.1:{port}")))
}

async fn across_replicas(emulator: &Emulator, rate: usize, seconds: usize) {
    let Some((mut redis, url)) = redis() else {
        println!("## events between replicas: skipped (redis-server not found)");
        return;
    };
    let (mut a, base_a) = support::spawn_gateway(&["--serve", emulator.base_url().as_str(), &url]);
    let (mut b, base_b) = support::spawn_gateway(&["--serve", emulator.base_url().as_str(), &url]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let subscribers = 10;
    let sockets: Vec<Socket> = futures::future::join_all((0..subscribers).map(|_| subscriber(&base_b))).await;
    while metric(&http, &base_b, "switchboard_live_subscriptions").await < subscribers as f64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let calls = emulator.signalwire_voice_log_ids();
    let total = (rate * seconds).min(calls.len());
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let received: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            let sent_at = sent_at.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(total);
                while latencies.len() < total {
                    let wait = tokio::time::timeout(Duration::from_secs(10), next_event(&mut socket)).await;
                    let Ok(Some(call)) = wait else { break };
                    if let Some(at) = sent_at.lock().expect("lock").get(&call) {
                        latencies.push(at.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let url_a = format!("{base_a}/webhooks/default/signalwire");
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    let mut posts = Vec::with_capacity(total);
    for call in calls.iter().take(total) {
        tick.tick().await;
        sent_at.lock().expect("lock").insert(call.clone(), Instant::now());
        let (http, url, call) = (http.clone(), url_a.clone(), call.clone());
        posts.push(tokio::spawn(async move { post_callback(&http, &url, &call).await }));
    }
    let sending = started.elapsed();
    let statuses = futures::future::join_all(posts).await;
    let taken = statuses.iter().filter(|s| matches!(s, Ok(204))).count();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut per_subscriber = Vec::new();
    for r in received {
        let l = r.await.expect("subscriber task");
        per_subscriber.push(l.len());
        latencies.extend(l);
    }
    latencies.sort();
    let peer = metric(
        &http,
        &base_b,
        "switchboard_live_events_ingested_total{source=\"peer\"}",
    )
    .await;
    println!("\n## {rate} events/s from a webhook on replica A to {subscribers} subscribers on replica B\n");
    println!("| measure | figure |\n|---|---|");
    println!(
        "| callbacks sent | {total} in {:.1} s ({:.0}/s), {taken} answered 204 |",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64()
    );
    println!("| events B took from Redis | {peer} |");
    println!(
        "| events each subscriber received | min {} max {} |",
        per_subscriber.iter().min().unwrap_or(&0),
        per_subscriber.iter().max().unwrap_or(&0)
    );
    if !latencies.is_empty() {
        println!(
            "| callback sent to event received on B: p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        );
    }
    println!(
        "| RSS of A / B after | {:.1} / {:.1} MiB |",
        rss_mib(a.id()),
        rss_mib(b.id())
    );
    for child in [&mut a, &mut b, &mut redis] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2], &args[3]).await;
    }
    let subscriptions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rate: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seconds: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let emulator = Emulator::start(EmulatorConfig {
        signalwire_voice_logs: (rate * seconds).max(5_000),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    many_subscriptions(&emulator, subscriptions).await;
    across_replicas(&emulator, rate, seconds).await;
}

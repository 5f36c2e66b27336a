//! The shared cache against a real `redis-server`, started here on a free
//! loopback port: two gateways (replicas) in front of one emulator share it, so what one
//! fetched costs the other no upstream call; tenants never read each other's entries; a
//! killed or stalled Redis costs no error and little time, and the cache works again once
//! Redis is back; L2 keeps the status-aware TTLs; concurrent misses on two replicas are
//! fetched once; values over the size limit stay local.
//!
//! It needs Debian's `redis-server` (`bash .ci/run` installs it). This binary has its own
//! harness (`harness = false`) so that without it every check reports itself `skipped`, by
//! name, never `ok`.

mod common;

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::pin::Pin;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::ws;
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard::config::{Config, RedisConfig};
use switchboard::emulator::{Emulator, Fault, FaultKind};
use tokio::sync::oneshot;

const METRICS_KEY: &str = "shared-cache-metrics";
const NODE: &str = "query Node($id: ID!) { node(id: $id) { id ... on CallLog { status } } }";
/// A well-formed SignalWire id that the emulator does not have.
const MISSING: &str = "00000000-0000-4000-8000-000000000000";
const LIST: &str = "query List { callLogs(first: 5, filter: {providers: [SIGNALWIRE]}) { edges { node { id } } } }";

/// A `redis-server` of this test, on a loopback port, without persistence.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// A server on a free port (asked of the OS, then handed to Redis; tried again if
    /// another process took it in between).
    fn start() -> Result<Redis, String> {
        let mut last = String::new();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            match Redis::start_on(port) {
                Ok(redis) => return Ok(redis),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A server on `port`, returned once it logs that it accepts connections.
    fn start_on(port: u16) -> Result<Redis, String> {
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
            .args(["--logfile", ""])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => continue,
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("redis-server did not start on port {port}"));
                }
            }
        }
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Redis { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open, nothing
    /// answers.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url()).expect("a redis URL");
        client.get_multiplexed_async_connection().await.expect("redis answers")
    }

    /// Every key matching `pattern`.
    async fn keys(&self, pattern: &str) -> Vec<String> {
        let mut conn = self.connection().await;
        redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await
            .expect("KEYS")
    }

    /// Milliseconds `key` has left.
    async fn pttl(&self, key: &str) -> i64 {
        let mut conn = self.connection().await;
        redis::cmd("PTTL").arg(key).query_async(&mut conn).await.expect("PTTL")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One gateway (a replica) in front of a shared emulator.
struct Gateway {
    url: String,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

impl Gateway {
    async fn start(config: Config) -> Gateway {
        let (url, stop) = serve(config).await;
        Gateway {
            url,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    async fn query(&self, query: &str, variables: Value, key: Option<&str>) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.url))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("JSON")
    }

    /// A query that must succeed without errors; its data.
    async fn ok(&self, query: &str, variables: Value, key: Option<&str>) -> Value {
        let response = self.query(query, variables, key).await;
        assert!(response["errors"].is_null(), "errors: {response}");
        response["data"].clone()
    }

    /// The value of the series `series` (name and labels as exposed), 0 when absent.
    async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.url))
            .bearer_auth(METRICS_KEY)
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }
}

/// A gateway config for `emulator` with Redis at `url`, short timeouts and breaker.
fn config(emulator: &Emulator, url: &str) -> Config {
    let credential = small_emulator().signalwire_credentials[0].clone();
    let mut config = base_config();
    config.providers.signalwire = Some(signalwire_config(emulator, &credential));
    config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    let mut redis = RedisConfig::new(url);
    redis.retry_after = Duration::from_millis(200);
    redis.timeout = Duration::from_millis(200);
    config.cache.redis = Some(redis);
    config
}

async fn emulator() -> Emulator {
    Emulator::start(small_emulator()).await.expect("emulator starts")
}

fn l2(kind: &str, result: &str) -> String {
    format!("switchboard_cache_l2_requests_total{{cache=\"{kind}\",result=\"{result}\"}}")
}

type Check = fn() -> Pin<Box<dyn Future<Output = ()>>>;

async fn a_record_fetched_through_one_replica_costs_no_upstream_call_on_another() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let a = Gateway::start(config(&emulator, &redis.url())).await;
    let b = Gateway::start(config(&emulator, &redis.url())).await;
    let ids = emulator.signalwire_voice_log_ids();
    let id = voice_id(&ids[0]);

    let first = a.ok(NODE, json!({"id": id}), None).await;
    assert_eq!(emulator.stats().route(VOICE_GET), 1);
    let second = b.ok(NODE, json!({"id": id}), None).await;
    assert_eq!(second, first);
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        1,
        "replica B read replica A's record from Redis"
    );
    assert_eq!(b.metric(&l2("voice", "hit")).await, 1.0);
    assert_eq!(a.metric(&l2("voice", "miss")).await, 1.0);

    // A list page through A: the page and its records reach B through Redis.
    let listed = a.ok(LIST, json!({}), None).await;
    let lists = emulator.stats().route(VOICE_LIST);
    assert_eq!(b.ok(LIST, json!({}), None).await, listed);
    assert_eq!(emulator.stats().route(VOICE_LIST), lists, "B's page came from Redis");
    let fifth = listed["callLogs"]["edges"][4]["node"]["id"].clone();
    b.ok(NODE, json!({"id": fifth}), None).await;
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        1,
        "a record A listed costs B no call"
    );
    println!("  upstream calls: 1 by-id + {lists} list through A, 0 through B");
}

/// The README's first query: every provider, the merged timeline, events and totals.
fn readme_query() -> String {
    let readme = include_str!("../README.md");
    let start = readme.find("```graphql\n").expect("a graphql block") + "```graphql\n".len();
    readme[start..start + readme[start..].find("```").expect("its end")].to_string()
}

async fn every_providers_records_come_back_from_redis_as_they_were_fetched() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let all = |emulator: &Emulator| {
        let mut config = config(emulator, &redis.url());
        config.providers.oneuptime = Some(oneuptime_config(emulator));
        config.providers.voximplant = Some(voximplant_config(emulator));
        config
    };
    let a = Gateway::start(all(&emulator)).await;
    let b = Gateway::start(all(&emulator)).await;
    let query = readme_query();
    let through_a = a.ok(&query, json!({}), None).await;
    let calls = emulator.stats().total();
    let through_b = b.ok(&query, json!({}), None).await;
    assert_eq!(
        through_b, through_a,
        "records, pages, counts and events read back equal"
    );
    assert_eq!(emulator.stats().total(), calls, "B made no upstream call");
    println!("  README query: {calls} upstream calls through A, 0 through B");
}

async fn tenants_never_read_each_others_entries() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    // Two tenants with the very same provider settings: only their names differ.
    let credential = small_emulator().signalwire_credentials[0].clone();
    let tenants = |emulator: &Emulator| {
        let mut config = config(emulator, &redis.url());
        config.providers.signalwire = None;
        for name in ["alice", "bob"] {
            config.tenants.push(switchboard::config::TenantConfig {
                scopes: None,
                name: name.into(),
                api_key_sha256: Some(switchboard::tenancy::hash_api_key(&format!("{name}-key"))),
                providers: switchboard::config::ProvidersConfig {
                    signalwire: Some(signalwire_config(emulator, &credential)),
                    ..Default::default()
                },
            });
        }
        config
    };
    let a = Gateway::start(tenants(&emulator)).await;
    let b = Gateway::start(tenants(&emulator)).await;
    let id = voice_id(&emulator.signalwire_voice_log_ids()[3]);

    a.ok(NODE, json!({"id": id}), Some("alice-key")).await;
    b.ok(NODE, json!({"id": id}), Some("bob-key")).await;
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        2,
        "bob's lookup did not use alice's entry"
    );
    b.ok(NODE, json!({"id": id}), Some("alice-key")).await;
    assert_eq!(emulator.stats().route(VOICE_GET), 2, "alice's entry serves alice on B");
    let keys = redis.keys("*:signalwire:voice:*").await;
    let scopes: std::collections::HashSet<&str> = keys.iter().filter_map(|k| k.split(':').nth(2)).collect();
    assert_eq!((keys.len(), scopes.len()), (2, 2), "one key per tenant: {keys:?}");
}

async fn a_killed_redis_costs_no_errors_and_the_cache_recovers_when_it_is_back() {
    let mut redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let a = Gateway::start(config(&emulator, &redis.url())).await;
    let b = Gateway::start(config(&emulator, &redis.url())).await;
    let ids = emulator.signalwire_voice_log_ids();
    a.ok(NODE, json!({"id": voice_id(&ids[0])}), None).await;

    redis.stop();
    let started = Instant::now();
    for native in &ids[1..21] {
        let data = a.ok(NODE, json!({"id": voice_id(native)}), None).await;
        assert!(data["node"]["id"].is_string(), "{data}");
    }
    println!("  20 lookups with Redis killed: {:?}", started.elapsed());
    assert_eq!(emulator.stats().route(VOICE_GET), 21, "each fetched from the provider");
    // From L1 on A, as before.
    a.ok(NODE, json!({"id": voice_id(&ids[1])}), None).await;
    assert_eq!(emulator.stats().route(VOICE_GET), 21);
    assert_eq!(a.metric("switchboard_cache_l2_up").await, 0.0);
    let failed = a.metric(&l2("voice", "error")).await;
    let skipped = a.metric(&l2("voice", "skipped")).await;
    assert!(
        failed >= 1.0 && failed + skipped == 20.0,
        "failed {failed}, skipped {skipped}"
    );

    // Back on the same port (empty: no persistence). Once the breaker lets requests
    // through again, what A fetches reaches B through Redis.
    redis = Redis::start_on(redis.port).expect("redis restarts");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut next = 21;
    loop {
        let id = voice_id(&ids[next]);
        a.ok(NODE, json!({"id": id}), None).await;
        let before = emulator.stats().route(VOICE_GET);
        b.ok(NODE, json!({"id": id}), None).await;
        if emulator.stats().route(VOICE_GET) == before {
            break;
        }
        assert!(Instant::now() < deadline, "the shared cache did not recover");
        next += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.metric("switchboard_cache_l2_up").await, 1.0);
    println!("  recovered after {} lookups", next - 20);
    drop(redis);
}

async fn a_stalled_redis_is_waited_for_once_then_skipped() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let mut config = config(&emulator, &redis.url());
    config.cache.redis.as_mut().unwrap().retry_after = Duration::from_secs(60);
    let a = Gateway::start(config).await;
    let ids = emulator.signalwire_voice_log_ids();
    a.ok(NODE, json!({"id": voice_id(&ids[0])}), None).await;

    redis.signal("-STOP");
    let started = Instant::now();
    for native in &ids[1..11] {
        a.ok(NODE, json!({"id": voice_id(native)}), None).await;
    }
    let took = started.elapsed();
    redis.signal("-CONT");
    println!("  10 lookups with Redis frozen: {took:?} (one 200 ms timeout, then skipped)");
    assert_eq!(a.metric(&l2("voice", "error")).await, 1.0, "one command timed out");
    assert_eq!(
        a.metric(&l2("voice", "skipped")).await,
        9.0,
        "the breaker skipped the rest"
    );
}

async fn redis_keeps_the_status_aware_ttls() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let mut config = config(&emulator, &redis.url());
    config.cache.final_ttl = Duration::from_secs(3000);
    config.cache.live_ttl = Duration::from_secs(20);
    config.cache.not_found_ttl = Duration::from_secs(200);
    let a = Gateway::start(config).await;

    let mut seen = (false, false);
    for native in emulator.signalwire_voice_log_ids().iter().take(60) {
        let data = a.ok(NODE, json!({"id": voice_id(native)}), None).await;
        // What `CallStatus::is_final` calls final; anything else may still change.
        let final_states = ["COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED", "DELETED"];
        let live = !final_states.contains(&data["node"]["status"].as_str().unwrap_or_default());
        let key = redis.keys(&format!("*:signalwire:voice:{native}")).await;
        assert_eq!(key.len(), 1, "{key:?}");
        let left = redis.pttl(&key[0]).await;
        let (low, high) = if live { (15_000, 20_000) } else { (2_990_000, 3_000_000) };
        assert!((low..=high).contains(&left), "{native} live={live}: {left} ms left");
        if live { seen.1 = true } else { seen.0 = true }
    }
    assert!(seen.0 && seen.1, "both final and live records were checked: {seen:?}");
    let data = a.ok(NODE, json!({"id": voice_id(MISSING)}), None).await;
    assert!(data["node"].is_null());
    let key = redis.keys(&format!("*:signalwire:voice:{MISSING}")).await;
    let left = redis.pttl(&key[0]).await;
    assert!((195_000..=200_000).contains(&left), "not found: {left} ms left");
}

async fn concurrent_misses_on_two_replicas_make_one_upstream_call() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let a = Gateway::start(config(&emulator, &redis.url())).await;
    let b = Gateway::start(config(&emulator, &redis.url())).await;
    let mut unlocked = config(&emulator, &redis.url());
    unlocked.cache.redis.as_mut().unwrap().lock_wait = Duration::ZERO;
    unlocked.cache.redis.as_mut().unwrap().key_prefix = "unlocked".into();
    let (c, d) = (Gateway::start(unlocked.clone()).await, Gateway::start(unlocked).await);
    // Every by-id answer takes 300 ms, so the two requests overlap.
    emulator.inject(Fault::always(FaultKind::Latency { millis: 300 }).on("/api/voice/logs/"));
    let ids = emulator.signalwire_voice_log_ids();

    let (id, variables) = (voice_id(&ids[0]), json!({"id": voice_id(&ids[0])}));
    let (x, y) = tokio::join!(a.ok(NODE, variables.clone(), None), b.ok(NODE, variables, None));
    assert_eq!(x, y);
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        1,
        "the second replica waited for the first"
    );
    let filled = a.metric("switchboard_cache_l2_locks_total{result=\"filled\"}").await
        + b.metric("switchboard_cache_l2_locks_total{result=\"filled\"}").await;
    assert_eq!(filled, 1.0);

    let variables = json!({"id": id});
    tokio::join!(c.ok(NODE, variables.clone(), None), d.ok(NODE, variables, None));
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        3,
        "without the lock both replicas fetch"
    );
    println!("  two replicas missing one key together: 1 upstream call with the lock, 2 without");
}

async fn values_over_the_size_limit_stay_local() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let mut config = config(&emulator, &redis.url());
    config.cache.redis.as_mut().unwrap().max_value_bytes = 64;
    let a = Gateway::start(config).await;
    let data = a.ok(LIST, json!({}), None).await;
    assert_eq!(data["callLogs"]["edges"].as_array().map(Vec::len), Some(5));
    assert!(
        redis.keys("*:voice-page:*").await.is_empty(),
        "the page is over 64 bytes"
    );
    assert!(
        a.metric("switchboard_cache_l2_writes_total{result=\"too_large\"}")
            .await
            >= 1.0
    );
}

async fn a_gateway_starts_and_serves_while_redis_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let emulator = emulator().await;
    let a = Gateway::start(config(&emulator, &format!("redis://127.0.0.1:{port}"))).await;
    let id = voice_id(&emulator.signalwire_voice_log_ids()[0]);
    a.ok(NODE, json!({"id": id}), None).await;
    a.ok(NODE, json!({"id": id}), None).await;
    assert_eq!(emulator.stats().route(VOICE_GET), 1, "the local cache still works");
}

/// Sends `n` requests for a cached lookup to each of `replicas` at once, 8 at a time per
/// replica; how many each admitted (the rest were 429 `RATE_LIMITED`).
async fn admitted_by(replicas: &[&Gateway], id: &str, n: usize) -> Vec<usize> {
    let per = replicas.iter().map(|g| async move {
        let body = json!({"query": NODE, "variables": {"id": id}});
        let statuses: Vec<reqwest::StatusCode> = futures::stream::iter(0..n)
            .map(|_| {
                let request = g.http.post(format!("{}/graphql", g.url)).json(&body);
                async move { request.send().await.expect("gateway answers").status() }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        assert!(
            statuses
                .iter()
                .all(|s| *s == reqwest::StatusCode::OK || *s == reqwest::StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        statuses.iter().filter(|s| **s == reqwest::StatusCode::OK).count()
    });
    futures::future::join_all(per).await
}

/// One round of `admitted_by` with 250 requests per replica for `id`: what each admitted,
/// their total, and how much the budget (300 a minute: 5 a second) refilled meanwhile.
async fn admission_round(label: &str, replicas: &[&Gateway], id: &str) -> (Vec<usize>, usize, usize) {
    let started = Instant::now();
    let admitted = admitted_by(replicas, id, 250).await;
    let total: usize = admitted.iter().sum();
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    println!("  {label}: admitted {admitted:?}: {total} of 500 (budget 300, +{refilled} refilled)");
    (admitted, total, refilled)
}

/// Two replicas with one budget (`limits.tenant_cost_per_minute = 300`; a cached lookup
/// costs 1): together they admit what one would, within 10%; with Redis killed each keeps
/// half (the replicas it last saw: 2), so together they still do.
async fn two_replicas_together_admit_one_budget_with_redis_and_without() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let budget = |url: &str| {
        let mut c = config(&emulator, url);
        c.limits.tenant_cost_per_minute = 300;
        c
    };
    let a = Gateway::start(budget(&redis.url())).await;
    let b = Gateway::start(budget(&redis.url())).await;
    let ids = emulator.signalwire_voice_log_ids();
    // One read first (cost 10), so the round measures budgets alone: two replicas missing
    // one key at once may both read it when the fill lock's wait runs out on a loaded machine.
    a.ok(NODE, json!({"id": voice_id(&ids[0])}), None).await;
    let (admitted, total, refilled) = admission_round("with Redis", &[&a, &b], &voice_id(&ids[0])).await;
    assert!(admitted.iter().all(|n| *n > 0), "both replicas served: {admitted:?}");
    assert!((260..=320 + refilled).contains(&total), "{total}");
    assert_eq!(
        emulator.stats().route(VOICE_GET),
        1,
        "one upstream read; the rest from the caches"
    );

    // Both replicas have said they are alive (every 5 s) before Redis goes.
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    drop(redis);
    let (admitted, _, refilled) = admission_round("Redis killed", &[&a, &b], &voice_id(&ids[1])).await;
    for n in &admitted {
        assert!((135..=165 + refilled).contains(n), "each keeps half: {admitted:?}");
    }
}

/// Waits until gateway `g` holds `n` subscriptions (they start after `subscribe`).
async fn subscriptions_reach(g: &Gateway, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while g.metric("switchboard_live_subscriptions").await != n {
        assert!(Instant::now() < deadline, "{n} subscriptions never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

const EVENTS: &str = "subscription { callLogEvents { kind node { nativeId status } } }";

/// A gateway with the SignalWire webhook's signing key, polling every `poll`.
fn live_config(emulator: &Emulator, url: &str, poll: Duration) -> Config {
    let mut config = config(emulator, url);
    config.live.poll_interval = poll;
    if let Some(sw) = config.providers.signalwire.as_mut() {
        sw.signing_key = Some(switchboard::settings::Secret::new(
            switchboard::emulator::DEMO_SIGNALWIRE_SIGNING_KEY,
        ));
    }
    config
}

fn callbacks_to(g: &Gateway) -> switchboard::emulator::Callbacks {
    switchboard::emulator::Callbacks::to_gateway(&g.url, "default")
}

/// Two replicas sharing `redis`, polling every `poll`, each with one subscriber of every
/// event running.
async fn subscribed_replicas(emulator: &Emulator, redis: &Redis, poll: Duration) -> [(Gateway, ws::Socket); 2] {
    let mut replicas = Vec::new();
    for id in ["a", "b"] {
        let gateway = Gateway::start(live_config(emulator, &redis.url(), poll)).await;
        let mut socket = ws::Socket::ready_url(&format!("{}/graphql", gateway.url), json!({})).await;
        socket.subscribe(id, EVENTS, json!({})).await;
        subscriptions_reach(&gateway, 1.0).await;
        replicas.push((gateway, socket));
    }
    let [a, b]: [(Gateway, ws::Socket); 2] = replicas.try_into().unwrap_or_else(|_| unreachable!());
    [a, b]
}

async fn a_callback_taken_in_by_one_replica_reaches_a_subscriber_on_the_other_once() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let [(a, mut on_a), (b, mut on_b)] = subscribed_replicas(&emulator, &redis, Duration::ZERO).await;
    // The provider calls replica A back; the subscriber on B sees the call too.
    emulator.set_callbacks(callbacks_to(&a));
    emulator.reset();
    let id = emulator.start_signalwire_call().await;
    for socket in [&mut on_a, &mut on_b] {
        let message = socket.next().await;
        let event = &message["payload"]["data"]["callLogEvents"];
        assert_eq!(event["kind"], "CREATED", "{message}");
        assert_eq!(event["node"]["nativeId"], id.as_str());
    }
    // Then a status change, reported to B this time: A's subscriber sees it, once each.
    emulator.set_callbacks(callbacks_to(&b));
    emulator.advance_signalwire_call(&id).await.unwrap();
    for socket in [&mut on_a, &mut on_b] {
        let message = socket.next().await;
        assert_eq!(
            message["payload"]["data"]["callLogEvents"]["kind"], "UPDATED",
            "{message}"
        );
    }
    // One fresh read per callback: the other replica took the record from Redis's message.
    assert_eq!(emulator.stats().route(VOICE_GET), 2);
    assert_eq!(
        b.metric("switchboard_live_events_ingested_total{source=\"peer\"}")
            .await,
        1.0
    );
    assert_eq!(
        a.metric("switchboard_live_events_ingested_total{source=\"peer\"}")
            .await,
        1.0
    );
}

async fn one_replica_polls_a_tenant_and_both_deliver_what_it_finds() {
    let redis = Redis::start().expect("redis starts");
    let emulator = emulator().await;
    let poll = Duration::from_millis(100);
    let [(a, mut on_a), (b, mut on_b)] = subscribed_replicas(&emulator, &redis, poll).await;
    // No callbacks: only polling finds the call.
    let id = emulator.start_signalwire_call().await;
    for socket in [&mut on_a, &mut on_b] {
        let message = socket.next().await;
        assert_eq!(
            message["payload"]["data"]["callLogEvents"]["node"]["nativeId"],
            id.as_str(),
            "{message}"
        );
    }
    // Over ten poll intervals, only the replica holding the tenant's lease read SignalWire.
    let series = "switchboard_upstream_requests_total{provider=\"signalwire\",tenant=\"default\"}";
    let before = (a.metric(series).await, b.metric(series).await);
    tokio::time::sleep(poll * 10).await;
    let polled = (a.metric(series).await - before.0, b.metric(series).await - before.1);
    assert!(
        (polled.0 == 0.0) != (polled.1 == 0.0),
        "exactly one replica polls: {polled:?} upstream requests"
    );
    // Redis gone: each replica polls by itself and still delivers.
    drop(redis);
    let id = emulator.start_signalwire_call().await;
    for socket in [&mut on_a, &mut on_b] {
        let message = socket.next().await;
        assert_eq!(
            message["payload"]["data"]["callLogEvents"]["node"]["nativeId"],
            id.as_str(),
            "{message}"
        );
    }
}

const CHECKS: &[(&str, Check)] = &[
    (
        "a_callback_taken_in_by_one_replica_reaches_a_subscriber_on_the_other_once",
        || Box::pin(a_callback_taken_in_by_one_replica_reaches_a_subscriber_on_the_other_once()),
    ),
    ("one_replica_polls_a_tenant_and_both_deliver_what_it_finds", || {
        Box::pin(one_replica_polls_a_tenant_and_both_deliver_what_it_finds())
    }),
    (
        "a_record_fetched_through_one_replica_costs_no_upstream_call_on_another",
        || Box::pin(a_record_fetched_through_one_replica_costs_no_upstream_call_on_another()),
    ),
    (
        "every_providers_records_come_back_from_redis_as_they_were_fetched",
        || Box::pin(every_providers_records_come_back_from_redis_as_they_were_fetched()),
    ),
    ("tenants_never_read_each_others_entries", || {
        Box::pin(tenants_never_read_each_others_entries())
    }),
    (
        "a_killed_redis_costs_no_errors_and_the_cache_recovers_when_it_is_back",
        || Box::pin(a_killed_redis_costs_no_errors_and_the_cache_recovers_when_it_is_back()),
    ),
    ("a_stalled_redis_is_waited_for_once_then_skipped", || {
        Box::pin(a_stalled_redis_is_waited_for_once_then_skipped())
    }),
    ("redis_keeps_the_status_aware_ttls", || {
        Box::pin(redis_keeps_the_status_aware_ttls())
    }),
    ("concurrent_misses_on_two_replicas_make_one_upstream_call", || {
        Box::pin(concurrent_misses_on_two_replicas_make_one_upstream_call())
    }),
    ("values_over_the_size_limit_stay_local", || {
        Box::pin(values_over_the_size_limit_stay_local())
    }),
    ("a_gateway_starts_and_serves_while_redis_is_down", || {
        Box::pin(a_gateway_starts_and_serves_while_redis_is_down())
    }),
    ("two_replicas_together_admit_one_budget_with_redis_and_without", || {
        Box::pin(two_replicas_together_admit_one_budget_with_redis_and_without())
    }),
];

fn main() -> ExitCode {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let checks: Vec<_> = CHECKS
        .iter()
        .filter(|(name, _)| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let missing = Command::new("redis-server").arg("--version").output().is_err();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    println!("\nrunning {} tests", checks.len());
    for (name, check) in checks {
        if missing {
            println!("test {name} ... skipped: redis-server is not installed (Debian package redis-server)");
            skipped += 1;
            continue;
        }
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(check())));
        drop(runtime);
        match outcome {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; {skipped} skipped\n");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! Benchmark: a cached by-id query (ARCHITECTURE.md, README "Performance"), measured on a gateway process of its
//! own so its CPU time is not mixed with the load generator's.
//!
//! `cargo run --release --example byid_bench [requests] [concurrency]`
//!
//! The emulator runs in this process; the example starts itself again as the gateway,
//! pointed at it, then reports:
//! - gateway CPU per request (user + system time of the gateway process / requests) and
//!   the requests per second one core of it would serve at that cost;
//! - wall-clock throughput with `concurrency` keep-alive connections;
//! - p50/p99 latency of the query one request at a time, against a direct GET of the same
//!   record at the emulator, and the p50 overhead;
//! - upstream calls during the load (expected 0) and the gateway's RSS idle and after.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::emulator::{Emulator, EmulatorConfig};

const QUERY: &str = "query($id: ID!) { node(id: $id) { id ... on CallLog { provider nativeId status direction
    from to createdAt durationSeconds cost { amount currency } } } }";

/// The gateway half: every provider points at the emulator at `base`; prints the
/// gateway's address, then serves.
async fn serve(base: &str) {
    let base: url::Url = base.parse().expect("emulator URL");
    let mut config = switchboard::Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("static address");
    switchboard::use_emulator(&mut config, &base);
    let app = switchboard::Application::build(config).await.expect("gateway builds");
    println!("gateway http://{}/graphql", app.local_addr());
    app.run_until_stopped().await.expect("gateway runs");
}

/// user + system CPU time of a process, from /proc (Linux).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat (Linux only)");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_SECOND)
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux this runs on (read without a libc binding).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn query(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    http.post(url)
        .json(body)
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON body")
}

async fn timed_sequential<F, Fut>(n: usize, mut call: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        call().await;
        times.push(start.elapsed());
    }
    times.sort();
    times
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2]).await;
    }
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let upstream = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let emulator = upstream.base_url().to_string();
    let (mut child, url) = support::spawn_gateway(&["--serve", &emulator]);
    let pid = child.id();
    let http = reqwest::Client::new();
    let idle_rss = support::rss_kib(pid);

    // One finished call's voice log (cached for long: final records are), read straight
    // from the emulator so the gateway's cache starts cold.
    let direct_url = format!("{emulator}api/voice/logs");
    let list: Value = http
        .get(format!("{direct_url}?page_size=50"))
        .basic_auth("demo-project", Some("demo-token"))
        .send()
        .await
        .expect("emulator answers")
        .json()
        .await
        .expect("JSON list");
    let native = list["data"]
        .as_array()
        .and_then(|logs| logs.iter().find(|l| l["status"] == "completed"))
        .and_then(|l| l["id"].as_str())
        .expect("a completed voice log")
        .to_string();
    let id = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("SignalWireVoiceLog:{native}"))
    };
    let body = Arc::new(json!({"query": QUERY, "variables": {"id": id}}));
    let before_cold = upstream.stats().total();
    let first = query(&http, &url, &body).await;
    assert_eq!(first["data"]["node"]["nativeId"], native.as_str(), "{first}");
    let cold_calls = upstream.stats().total() - before_cold;

    // Warm up both paths, then latency one request at a time.
    for _ in 0..1_000 {
        query(&http, &url, &body).await;
    }
    let direct_record = format!("{direct_url}/{native}");
    let direct = timed_sequential(2_000, || async {
        let response = http
            .get(&direct_record)
            .basic_auth("demo-project", Some("demo-token"))
            .send()
            .await
            .expect("emulator answers");
        response.bytes().await.expect("body");
    })
    .await;
    let through = timed_sequential(2_000, || async {
        query(&http, &url, &body).await;
    })
    .await;

    // Throughput and CPU under concurrent load.
    let before_calls = upstream.stats().total();
    let cpu_before = cpu_time(pid);
    let start = Instant::now();
    let per_worker = requests / concurrency;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, body) = (http.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                for _ in 0..per_worker {
                    let r = query(&http, &url, &body).await;
                    assert!(r["errors"].is_null(), "{r}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let wall = start.elapsed();
    let cpu = cpu_time(pid) - cpu_before;
    let done = per_worker * concurrency;
    let load_calls = upstream.stats().total() - before_calls;
    let loaded_rss = support::rss_kib(pid);
    child.kill().ok();
    child.wait().ok();

    let cpu_per_request = cpu.as_secs_f64() * 1e6 / done as f64;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("cached by-id query (SignalWire voice log), {done} requests, {concurrency} connections");
    println!("  first (cold) query: {cold_calls} upstream call(s); during the load: {load_calls}");
    println!(
        "  gateway CPU: {:.1} us per request -> {:.0} requests/s per core",
        cpu_per_request,
        1e6 / cpu_per_request
    );
    println!(
        "  wall-clock throughput: {:.0} requests/s",
        done as f64 / wall.as_secs_f64()
    );
    println!(
        "  latency one at a time: gateway p50 {:.3} ms p99 {:.3} ms; emulator direct p50 {:.3} ms p99 {:.3} ms",
        ms(percentile(&through, 0.5)),
        ms(percentile(&through, 0.99)),
        ms(percentile(&direct, 0.5)),
        ms(percentile(&direct, 0.99))
    );
    println!(
        "  p50 overhead over the direct call: {:.3} ms",
        ms(percentile(&through, 0.5)) - ms(percentile(&direct, 0.5))
    );
    println!(
        "  gateway RSS: {:.1} MiB idle, {:.1} MiB after the load",
        idle_rss as f64 / 1024.0,
        loaded_rss as f64 / 1024.0
    );
}

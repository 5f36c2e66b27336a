//! Memory check: a cache filled to `cache.max_bytes` must not grow the gateway's RSS by
//! more than 1.5x that setting (issue 11).
//!
//! `cargo run --release --example cache_rss [max_mib ...]` (default: 8 64)
//!
//! For each setting the example starts the gateway as a process of its own (the emulator
//! runs in this one, so its data is not counted), then fills the cache the way clients
//! do: it pages every connection to its end (list pages and the records they prime), then
//! looks up random SignalWire ids, 100 per `nodes` call (each a cached not-found), until
//! the cache has been full for as many lookups again (so it also evicts).
//!
//! The same work raises RSS without any cache too (buffers and futures of 1,600 upstream
//! calls in flight leave the allocator's high-water mark up), so each setting is compared
//! with a baseline gateway whose cache holds nothing (`max_bytes = 0`), driven through
//! exactly the same requests. What the cache costs is the difference; the target is at
//! most 1.5x `max_bytes`.

#[path = "support/mod.rs"]
mod support;

use serde_json::json;
use switchboard::domain::encode_id;
use switchboard::emulator::{Emulator, EmulatorConfig};
use switchboard::providers::signalwire::VOICE_LOG;

const METRICS_KEY: &str = "cache-rss";

async fn serve(base: &str, max_bytes: u64) {
    let base: url::Url = base.parse().expect("emulator URL");
    let mut config = switchboard::Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("static address");
    config.server.metrics_key_sha256 = Some(switchboard::tenancy::hash_api_key(METRICS_KEY));
    config.cache.max_bytes = max_bytes;
    switchboard::use_emulator(&mut config, &base);
    let app = switchboard::Application::build(config).await.expect("gateway builds");
    println!("gateway http://{}", app.local_addr());
    app.run_until_stopped().await.expect("gateway runs");
}

/// A gauge from the gateway's `/metrics`.
async fn gauge(http: &reqwest::Client, base: &str, name: &str) -> u64 {
    support::metric(http, base, METRICS_KEY, name).await as u64
}

async fn lookup_random_ids(http: &reqwest::Client, url: &str, requests: usize) {
    let calls = (0..requests).map(|_| {
        let ids: Vec<String> = (0..100)
            .map(|_| encode_id(VOICE_LOG, &uuid::Uuid::new_v4().to_string()))
            .collect();
        http.post(url)
            .json(&json!({"query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "variables": {"ids": ids}}))
            .send()
    });
    for r in futures::future::join_all(calls).await {
        r.expect("gateway answers");
    }
}

/// What one run saw.
struct Run {
    rounds: usize,
    rss_kib: [u64; 3],
    entries: u64,
    weighted: u64,
}

/// Fills a gateway's cache of `max_bytes`: lists everything, then random lookups until
/// the cache has been full for as long again, or for exactly `rounds` rounds.
async fn fill(emulator: &str, max_bytes: u64, rounds: Option<usize>) -> Run {
    let (mut child, base) = support::spawn_gateway(&["--serve", emulator, &max_bytes.to_string()]);
    let pid = child.id();
    let http = reqwest::Client::new();
    let url = format!("{base}/graphql");
    let idle = support::rss_kib(pid);
    for field in [
        "signalWireVoiceLogs",
        "signalWireVideoLogs",
        "oneUptimeCallLogs",
        "voximplantCallSessions",
        "voximplantAuditLog",
    ] {
        let query = format!(
            "query($first: Int, $after: String) {{ {field}(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id }} }} }} }}"
        );
        support::page_to_end(&http, &url, &query, field, 100).await;
    }
    let listed = support::rss_kib(pid);
    let (mut done, mut full_at) = (0usize, None);
    loop {
        match rounds {
            Some(n) if done >= n => break,
            None if full_at.is_some_and(|at| done >= 2 * at) || done >= 5_000 => break,
            _ => {}
        }
        lookup_random_ids(&http, &url, 16).await;
        done += 1;
        if full_at.is_none() && gauge(&http, &base, "switchboard_cache_weighted_bytes").await * 10 >= max_bytes * 9 {
            full_at = Some(done);
        }
    }
    let run = Run {
        rounds: done,
        rss_kib: [idle, listed, support::rss_kib(pid)],
        entries: gauge(&http, &base, "switchboard_cache_entries").await,
        weighted: gauge(&http, &base, "switchboard_cache_weighted_bytes").await,
    };
    let _ = child.kill();
    let _ = child.wait();
    run
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn measure(emulator: &str, max_mib: u64) {
    let max_bytes = max_mib * 1024 * 1024;
    let cached = fill(emulator, max_bytes, None).await;
    let baseline = fill(emulator, 0, Some(cached.rounds)).await;
    let cost_kib = cached.rss_kib[2].saturating_sub(baseline.rss_kib[2]);
    println!(
        "max_bytes {max_mib:>4} MiB | {} not-found lookups after listing | cache {} entries, {:.1} MiB weighed \
         | RSS idle {:.1}, listed {:.1}, filled {:.1} MiB | without cache {:.1} MiB | cache costs {:.1} MiB = {:.2}x max_bytes",
        cached.rounds * 1600,
        cached.entries,
        cached.weighted as f64 / 1048576.0,
        mib(cached.rss_kib[0]),
        mib(cached.rss_kib[1]),
        mib(cached.rss_kib[2]),
        mib(baseline.rss_kib[2]),
        mib(cost_kib),
        (cost_kib * 1024) as f64 / max_bytes as f64,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2], args[3].parse().expect("bytes")).await;
    }
    let sizes: Vec<u64> = match args[1..].iter().map(|a| a.parse()).collect::<Result<Vec<_>, _>>() {
        Ok(sizes) if !sizes.is_empty() => sizes,
        _ => vec![8, 64],
    };
    let upstream = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let emulator = upstream.base_url().to_string();
    for max_mib in sizes {
        measure(&emulator, max_mib).await;
    }
}

//! Benchmark: page the whole merged timeline (`callLogs`) against the built-in emulator.
//!
//! `cargo run --release --example timeline_bench [page_size] [rounds]`
//!
//! Reports items per second through the gateway, upstream calls per 100 items, and the
//! gateway's overhead against paging every provider's API directly (same emulator, same
//! upstream page sizes and fields, no gateway), in wall time and in CPU time: per round,
//! for the best round of each, and as the median of the rounds' overheads (steadier on a
//! shared machine). Every run starts with cold caches (a fresh gateway, a reset emulator).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::Application;
use switchboard::config::{Config, Secret};
use switchboard::emulator::{DEMO_ONEUPTIME_KEY, Emulator, EmulatorConfig, ONEUPTIME_COLUMNS, demo_credentials};
use switchboard::providers::voximplant::auth::{ServiceAccount, TokenSource, system_clock};

/// The upstream page size `use_emulator` configures; the direct runs use the same.
const UPSTREAM_PAGE: u32 = 100;

fn config(emulator: &Emulator) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("static address");
    config.graphql.cursor_secret = Some(Secret::new("bench"));
    switchboard::use_emulator(&mut config, &emulator.base_url());
    config
}

/// Pages `callLogs` through the gateway; returns the number of items.
async fn through_gateway(url: &str, first: u32) -> usize {
    let query = "query($first: Int, $after: String) { callLogs(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id provider createdAt status from to } } } }";
    support::page_to_end(&reqwest::Client::new(), url, query, "callLogs", first).await
}

/// Pages every provider collection directly at the emulator, asking for what the gateway
/// asks for (every OneUptime column, as the gateway selects them all; Voximplant sessions
/// with calls, records and other resources), so the emulator's work is the same on both
/// sides and the difference is the gateway's own; returns the number of items.
async fn direct(base: &url::Url) -> usize {
    let http = reqwest::Client::new();
    let mut items = 0;
    for path in ["/api/voice/logs", "/api/video/logs"] {
        let mut next = Some(base.join(&format!("{path}?page_size={UPSTREAM_PAGE}")).expect("URL"));
        while let Some(url) = next {
            let r: Value = http
                .get(url)
                .basic_auth("demo-project", Some("demo-token"))
                .send()
                .await
                .expect("up")
                .json()
                .await
                .expect("JSON");
            items += r["data"].as_array().map_or(0, Vec::len);
            next = r["links"]["next"].as_str().map(|n| base.join(n).expect("link"));
        }
    }
    let select: serde_json::Map<String, Value> = ONEUPTIME_COLUMNS
        .iter()
        .map(|c| (c.to_string(), Value::Bool(true)))
        .collect();
    let body = json!({"select": select, "sort": {"createdAt": "DESC"}});
    let mut skip = 0;
    loop {
        let url = base
            .join(&format!("/api/call-log/get-list?skip={skip}&limit={UPSTREAM_PAGE}"))
            .expect("URL");
        let r: Value = http
            .post(url)
            .header("ApiKey", DEMO_ONEUPTIME_KEY)
            .json(&body)
            .send()
            .await
            .expect("up")
            .json()
            .await
            .expect("JSON");
        let n = r["data"].as_array().map_or(0, Vec::len);
        items += n;
        skip += n;
        if n < UPSTREAM_PAGE as usize {
            break;
        }
    }
    let account = ServiceAccount::from_json(&demo_credentials()).expect("demo credentials");
    let tokens = TokenSource::new(account, 300, system_clock());
    let mut offset = 0;
    loop {
        let url = base.join("/platform_api/GetCallHistory").expect("URL");
        let form = [
            ("from_date", "2016-01-01 00:00:00".to_string()),
            ("to_date", "2030-01-01 00:00:00".to_string()),
            ("count", UPSTREAM_PAGE.to_string()),
            ("offset", offset.to_string()),
            ("desc_order", "true".to_string()),
            ("with_calls", "true".to_string()),
            ("with_records", "true".to_string()),
            ("with_other_resources", "true".to_string()),
        ];
        let token = tokens.token().expect("token");
        let r: Value = http
            .post(url)
            .bearer_auth(token)
            .form(&form)
            .send()
            .await
            .expect("up")
            .json()
            .await
            .expect("JSON");
        let n = r["result"].as_array().map_or(0, Vec::len);
        items += n;
        offset += n;
        if n < UPSTREAM_PAGE as usize {
            break;
        }
    }
    items
}

/// One measured run: items, wall time, and this process's CPU time (gateway, emulator and
/// client together, since all three share the process).
struct Run {
    items: usize,
    wall: Duration,
    cpu: Duration,
}

async fn measure<F: std::future::Future<Output = usize>>(run: F) -> Run {
    let (wall, cpu) = (Instant::now(), support::cpu_time());
    let items = run.await;
    Run {
        items,
        wall: wall.elapsed(),
        cpu: support::cpu_time().saturating_sub(cpu),
    }
}

fn per_item(d: Duration, items: usize) -> f64 {
    d.as_secs_f64() * 1e6 / items as f64
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse().ok());
    let first: u32 = args.next().flatten().unwrap_or(100);
    let rounds: u32 = args.next().flatten().unwrap_or(3).max(1);
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let base = emulator.base_url();

    println!(
        "timeline benchmark (page size {first}, upstream pages of {UPSTREAM_PAGE}, {rounds} rounds, cold caches each)"
    );
    let (mut best_direct, mut best_gateway): (Option<Run>, Option<Run>) = (None, None);
    let (mut wall_overheads, mut cpu_overheads) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        emulator.reset();
        let direct = measure(direct(&base)).await;
        emulator.reset();
        let app = Application::build(config(&emulator)).await.expect("gateway builds");
        let url = format!("http://{}/graphql", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let gateway = measure(through_gateway(&url, first)).await;
        let calls = emulator.stats().total();
        let _ = stop.send(());
        let _ = server.await;
        println!(
            "  round {round}: gateway {} items in {:.3} s ({:.1} us/item wall, {:.1} us/item CPU), {calls} upstream calls = {:.1} per 100 items; direct {} items in {:.3} s ({:.1} us/item wall, {:.1} us/item CPU)",
            gateway.items,
            gateway.wall.as_secs_f64(),
            per_item(gateway.wall, gateway.items),
            per_item(gateway.cpu, gateway.items),
            calls as f64 * 100.0 / gateway.items as f64,
            direct.items,
            direct.wall.as_secs_f64(),
            per_item(direct.wall, direct.items),
            per_item(direct.cpu, direct.items),
        );
        assert_eq!(gateway.items, direct.items, "the gateway returns every item once");
        wall_overheads.push(per_item(gateway.wall, gateway.items) - per_item(direct.wall, direct.items));
        cpu_overheads.push(per_item(gateway.cpu, gateway.items) - per_item(direct.cpu, direct.items));
        if best_direct.as_ref().is_none_or(|b| direct.wall < b.wall) {
            best_direct = Some(direct);
        }
        if best_gateway.as_ref().is_none_or(|b| gateway.wall < b.wall) {
            best_gateway = Some(gateway);
        }
    }
    let (direct, gateway) = (best_direct.expect("a round ran"), best_gateway.expect("a round ran"));
    let items = gateway.items;
    println!("best of {rounds}:");
    println!(
        "  through the gateway: {:.0} items/s; direct to the emulator: {:.0} items/s",
        items as f64 / gateway.wall.as_secs_f64(),
        items as f64 / direct.wall.as_secs_f64()
    );
    println!(
        "  gateway overhead: {:.2}x the direct time, {:.1} us per item wall, {:.1} us per item CPU",
        gateway.wall.as_secs_f64() / direct.wall.as_secs_f64(),
        per_item(gateway.wall.saturating_sub(direct.wall), items),
        per_item(gateway.cpu.saturating_sub(direct.cpu), items),
    );
    println!(
        "median of the {rounds} rounds' overheads: {:.1} us per item wall, {:.1} us per item CPU",
        median(&mut wall_overheads),
        median(&mut cpu_overheads),
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

//! Benchmark: page the whole merged timeline (`callLogs`) against the built-in emulator.
//!
//! `cargo run --release --example timeline_bench [page_size]`
//!
//! Reports items per second through the gateway, upstream calls per 100 items, and the
//! gateway's overhead against paging every provider's API directly (same emulator, same
//! upstream page sizes, no gateway). Both runs start with cold caches.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use serde_json::{Value, json};
use switchboard::Application;
use switchboard::config::{Config, Secret};
use switchboard::emulator::{DEMO_ONEUPTIME_KEY, Emulator, EmulatorConfig, demo_credentials};
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

/// Pages every provider collection directly at the emulator; returns the number of items.
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
    let mut skip = 0;
    loop {
        let url = base
            .join(&format!("/api/call-log/get-list?skip={skip}&limit={UPSTREAM_PAGE}"))
            .expect("URL");
        let body = json!({"select": {"_id": true, "createdAt": true, "status": true, "fromNumber": true, "toNumber": true}, "sort": {"createdAt": "DESC"}});
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

#[tokio::main]
async fn main() {
    let first: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let base = emulator.base_url();

    let started = Instant::now();
    let direct_items = direct(&base).await;
    let direct_time = started.elapsed();
    emulator.reset();

    let app = Application::build(config(&emulator)).await.expect("gateway builds");
    let url = format!("http://{}/graphql", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let started = Instant::now();
    let items = through_gateway(&url, first).await;
    let gateway_time = started.elapsed();
    let calls = emulator.stats().total();

    println!("timeline benchmark (page size {first}, upstream pages of {UPSTREAM_PAGE})");
    println!(
        "  items through the gateway: {items} in {:.2} s = {:.0} items/s",
        gateway_time.as_secs_f64(),
        items as f64 / gateway_time.as_secs_f64()
    );
    println!(
        "  upstream calls: {calls} = {:.1} per 100 items",
        calls as f64 * 100.0 / items as f64
    );
    println!(
        "  direct to the emulator:    {direct_items} in {:.2} s = {:.0} items/s",
        direct_time.as_secs_f64(),
        direct_items as f64 / direct_time.as_secs_f64()
    );
    println!(
        "  gateway overhead: {:.2}x the direct time, {:.1} us per item",
        gateway_time.as_secs_f64() / direct_time.as_secs_f64(),
        (gateway_time.as_secs_f64() - direct_time.as_secs_f64()).max(0.0) * 1e6 / items as f64
    );
}

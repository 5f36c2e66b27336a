//! Helpers the benchmark examples share: a process's RSS, a series of the gateway's
//! `/metrics`, and paging a connection of the gateway to its end. (Included by the examples with `#[path]`; not an example itself.)
#![allow(dead_code, unreachable_pub)]

use serde_json::{Value, json};

/// Resident set size of a process in KiB, from /proc (Linux); 0 when unreadable.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Series `series` (name and labels as exposed) of the gateway at `base`, read with the
/// metrics key `key`; 0 when absent.
pub async fn metric(http: &reqwest::Client, base: &str, key: &str, series: &str) -> f64 {
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(key)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// CPU time this process has used so far (user + system), from /proc (Linux); zero
/// when unreadable. Clock-tick resolution (10 ms), fine for runs of a second or more.
pub fn cpu_time() -> std::time::Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    std::time::Duration::from_millis(ticks * 10)
}

/// Pages the connection `field` to its end with `query` (which takes `$first` and
/// `$after` and selects `pageInfo { hasNextPage endCursor }` and `edges`); returns the
/// number of items.
pub async fn page_to_end(http: &reqwest::Client, url: &str, query: &str, field: &str, first: u32) -> usize {
    let (mut items, mut after) = (0, Value::Null);
    loop {
        let body = json!({"query": query, "variables": {"first": first, "after": after}});
        let r: Value = http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("JSON");
        let c = &r["data"][field];
        items += c["edges"].as_array().map_or(0, Vec::len);
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false) {
            return items;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
}

/// Runs this example's own binary with `args` (its gateway mode) and waits for the line
/// `gateway <base URL>` it prints once listening: the child and that base URL.
pub fn spawn_gateway(args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gateway process starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let line = lines.next().expect("gateway prints its address").expect("utf-8");
    (child, line.strip_prefix("gateway ").expect("address line").to_string())
}

//! Helpers the benchmark examples share: a process's RSS, and paging a connection of the
//! gateway to its end. (Included by the examples with `#[path]`; not an example itself.)
#![allow(dead_code)]

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

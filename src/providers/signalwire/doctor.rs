//! `switchboard doctor`'s checks of SignalWire (read-only GETs): credentials, list order
//! over two pages, where `links.next` points, and how `created_after` reads a date-time.
//! No public source settles the last three (providers.md §1.2, §1.1).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::SignalWire;
use super::paging::PageRequest;
use crate::domain::Provider;
use crate::providers::doctor::{Check, Verdict};

const SW: Provider = Provider::SignalWire;
/// Enough logs per page to see an order, few enough to be cheap.
const PAGE: &str = "5";

/// One list page as the checks read it: `(id, created_at)` of each log, and `links.next`.
struct Listed {
    logs: Vec<(String, DateTime<Utc>)>,
    next: Option<String>,
}

fn listed(body: &Value) -> Listed {
    let logs = body["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let at = DateTime::parse_from_rfc3339(item["created_at"].as_str()?).ok()?;
                    Some((item["id"].as_str()?.to_string(), at.with_timezone(&Utc)))
                })
                .collect()
        })
        .unwrap_or_default();
    let next = body["links"]["next"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Listed { logs, next }
}

fn stamps(logs: &[(String, DateTime<Utc>)]) -> String {
    let times: Vec<String> = logs
        .iter()
        .map(|(_, t)| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .collect();
    times.join(", ")
}

impl SignalWire {
    /// Every check, in order; a failed credentials check ends the list.
    pub(super) async fn doctor_checks(&self) -> Vec<Check> {
        let first = PageRequest::new("/api/voice/logs", [("page_size", PAGE.to_string())]);
        let checked = format!("GET {} with the configured project and token", first.as_str());
        let page = match self.client.get::<Value>(&first).await {
            Ok(Some(body)) => listed(&body),
            Ok(None) => {
                return vec![Check::new(
                    SW,
                    "credentials",
                    checked,
                    Verdict::Fail,
                    "HTTP 404: no voice logs API at this space URL",
                )];
            }
            Err(e) => return vec![Check::credentials_refused(SW, checked, &e)],
        };
        let mut checks = vec![Check::new(
            SW,
            "credentials",
            checked,
            Verdict::Pass,
            format!("HTTP 200, {} voice logs", page.logs.len()),
        )];
        checks.push(self.next_origin(&page));
        checks.push(self.list_order("voice-list-order", "/api/voice/logs").await);
        checks.push(self.list_order("video-list-order", "/api/video/logs").await);
        checks.push(self.created_after(&page).await);
        checks
    }

    /// `links.next` names the configured origin (or none): the client follows any link's
    /// path on the configured origin, so another origin means the account is served
    /// from elsewhere and the links are being rewritten.
    fn next_origin(&self, page: &Listed) -> Check {
        let checked = "links.next of the first voice log page names the configured space";
        let Some(next) = &page.next else {
            return Check::new(
                SW,
                "next-link-origin",
                checked,
                Verdict::Unknown,
                "no links.next (one page of logs)",
            );
        };
        let origin = self.client.origin();
        match origin.join(next) {
            Ok(url) if url.origin() == origin.origin() => Check::new(
                SW,
                "next-link-origin",
                checked,
                Verdict::Pass,
                format!("links.next = {next}"),
            ),
            Ok(url) => Check::new(
                SW,
                "next-link-origin",
                checked,
                Verdict::Fail,
                format!(
                    "links.next names {} (configured: {}); the gateway follows its path on the configured origin",
                    url.origin().ascii_serialization(),
                    origin.origin().ascii_serialization()
                ),
            ),
            Err(e) => Check::new(
                SW,
                "next-link-origin",
                checked,
                Verdict::Fail,
                format!("links.next {next:?}: {e}"),
            ),
        }
    }

    /// Two pages through `links.next`, newest first throughout.
    async fn list_order(&self, check: &'static str, path: &str) -> Check {
        let checked = format!("GET {path}?page_size={PAGE}, then its links.next: created_at never increases");
        let first = PageRequest::new(path, [("page_size", PAGE.to_string())]);
        let one = match self.client.get::<Value>(&first).await {
            Ok(Some(body)) => listed(&body),
            Ok(None) => return Check::new(SW, check, checked, Verdict::Unknown, "HTTP 404"),
            Err(e) => return Check::failed_request(SW, check, checked, &e),
        };
        let mut logs = one.logs;
        if let Some(next) = &one.next {
            let request = match PageRequest::from_link(self.client.origin(), next) {
                Ok(r) => r,
                Err(e) => return Check::failed_request(SW, check, checked, &e),
            };
            match self.client.get::<Value>(&request).await {
                Ok(Some(body)) => logs.extend(listed(&body).logs),
                Ok(None) => return Check::new(SW, check, checked, Verdict::Unknown, "the next page answered 404"),
                Err(e) => return Check::failed_request(SW, check, checked, &e),
            }
        }
        if logs.len() < 2 {
            return Check::new(
                SW,
                check,
                checked,
                Verdict::Unknown,
                format!("{} logs: nothing to order", logs.len()),
            );
        }
        let newest_first = logs.windows(2).all(|w| w[0].1 >= w[1].1);
        let verdict = if newest_first { Verdict::Pass } else { Verdict::Fail };
        Check::new(SW, check, checked, verdict, format!("created_at: {}", stamps(&logs)))
    }

    /// `created_after` with a known log's own date-time leaves that log out and keeps no
    /// older one (the client sends date-times and reads the bound as exclusive).
    async fn created_after(&self, page: &Listed) -> Check {
        let check = "created-after-datetime";
        let Some((id, at)) = page.logs.get(2).or(page.logs.last()).cloned() else {
            return Check::new(
                SW,
                check,
                "created_after=<a known log's created_at>",
                Verdict::Unknown,
                "no voice log to test with",
            );
        };
        let bound = at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let request = PageRequest::new(
            "/api/voice/logs",
            [("created_after", bound.clone()), ("page_size", "50".to_string())],
        );
        let checked = format!(
            "GET {} excludes log {id} (created_at {bound}) and every older log",
            request.as_str()
        );
        let answer = match self.client.get::<Value>(&request).await {
            Ok(Some(body)) => listed(&body),
            Ok(None) => return Check::new(SW, check, checked, Verdict::Unknown, "HTTP 404"),
            Err(e) => return Check::failed_request(SW, check, checked, &e),
        };
        let itself = answer.logs.iter().any(|(i, _)| *i == id);
        let older = answer.logs.iter().filter(|(_, t)| *t < at).count();
        let (verdict, answered) = match (itself, older) {
            (false, 0) => (
                Verdict::Pass,
                format!("{} logs, all newer than {bound}", answer.logs.len()),
            ),
            (true, 0) => (
                Verdict::Fail,
                format!("log {id} itself came back: the bound is inclusive"),
            ),
            (_, n) => (
                Verdict::Fail,
                format!("{n} logs older than {bound} came back: the date-time was read as a date"),
            ),
        };
        Check::new(SW, check, checked, verdict, answered)
    }
}

//! `switchboard doctor`'s checks of OneUptime (read-only `get-list` POSTs): the API key
//! reads call logs, and the explicit sort keyset paging relies on pages newest first.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{OneUptime, query};
use crate::domain::Provider;
use crate::providers::doctor::{Check, Verdict};

const OU: Provider = Provider::OneUptime;

/// A row's `createdAt`, in either wire form (typed wrapper or bare string).
fn created_at(row: &Value) -> Option<DateTime<Utc>> {
    let raw = row["createdAt"]["value"].as_str().or(row["createdAt"].as_str())?;
    DateTime::parse_from_rfc3339(raw).ok().map(|t| t.with_timezone(&Utc))
}

impl OneUptime {
    pub(super) async fn doctor_checks(&self) -> Vec<Check> {
        let checked = "POST /api/call-log/get-list?skip=0&limit=5 (sorted createdAt DESC, _id DESC) with the ApiKey";
        let first = match self.client.get_list::<Vec<Value>>(json!({}), query::sort(), 0, 5).await {
            Ok(list) => list,
            Err(e) => return vec![Check::credentials_refused(OU, checked, &e)],
        };
        let mut checks = vec![Check::new(
            OU,
            "credentials",
            checked,
            Verdict::Pass,
            format!("HTTP 200, {} call logs", first.data.len()),
        )];
        checks.push(self.list_order(&first.data).await);
        checks
    }

    /// Two pages (`skip` 0 and 5) newest first throughout.
    async fn list_order(&self, first: &[Value]) -> Check {
        let checked = "get-list skip=0 and skip=5, limit=5: createdAt never increases";
        let second = match self.client.get_list::<Vec<Value>>(json!({}), query::sort(), 5, 5).await {
            Ok(list) => list.data,
            Err(e) => return Check::failed_request(OU, "list-order", checked, &e),
        };
        let times: Vec<Option<DateTime<Utc>>> = first.iter().chain(&second).map(created_at).collect();
        if times.iter().any(Option::is_none) {
            return Check::new(
                OU,
                "list-order",
                checked,
                Verdict::Fail,
                "a row without a readable createdAt",
            );
        }
        let times: Vec<DateTime<Utc>> = times.into_iter().flatten().collect();
        if times.len() < 2 {
            return Check::new(
                OU,
                "list-order",
                checked,
                Verdict::Unknown,
                format!("{} call logs: nothing to order", times.len()),
            );
        }
        let newest_first = times.windows(2).all(|w| w[0] >= w[1]);
        let shown: Vec<String> = times.iter().map(|t| query::stamp(*t)).collect();
        let verdict = if newest_first { Verdict::Pass } else { Verdict::Fail };
        Check::new(
            OU,
            "list-order",
            checked,
            verdict,
            format!("createdAt: {}", shown.join(", ")),
        )
    }
}

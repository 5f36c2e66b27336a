//! The account's audit log (GetAuditLog): windowed paging like sessions, filters pushed
//! upstream, and reads by id for `node(id)`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::mapping::{audit_entry, format_timestamp};
use super::model::AuditLogEntry;
use super::paging::{self, Page, Position, Window};
use super::wire::AuditLogWire;
use super::{Voximplant, parse_key};
use crate::cache::{Key, Kind};
use crate::domain::Provider;
use crate::providers::{Lookup, cached_lookup, fetch_coalesced};
use crate::upstream::UpstreamError;

const ENTRY: Kind<Option<Arc<AuditLogEntry>>> = Kind::new("audit-entry");
const PAGE: Kind<Page<AuditLogEntry>> = Kind::new("audit-page");
const COUNT: Kind<u64> = Kind::new("audit-count");

/// Filter of the audit log; every field is applied by Voximplant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AuditFilter {
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Method names (`filtered_cmd`).
    pub commands: Vec<String>,
    /// Caller IPs (`filtered_ip`).
    pub ips: Vec<String>,
    /// `filtered_admin_user_id`.
    pub admin_user_id: Option<String>,
    /// A relation id such as a phone number, user id or application id (`advanced_filters`).
    pub related_id: Option<String>,
}

impl AuditFilter {
    /// Parameters shared by GetAuditLog and GetAuditLogAsync.
    pub(super) fn params(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("from_date", format_timestamp(from)),
            ("to_date", format_timestamp(to)),
            ("desc_order", "true".into()),
        ];
        if !self.commands.is_empty() {
            params.push(("filtered_cmd", self.commands.join(";")));
        }
        if !self.ips.is_empty() {
            params.push(("filtered_ip", self.ips.join(";")));
        }
        if let Some(admin) = &self.admin_user_id {
            params.push(("filtered_admin_user_id", admin.clone()));
        }
        if let Some(related) = &self.related_id {
            params.push(("advanced_filters", related.clone()));
        }
        params
    }
}

impl Voximplant {
    /// The inclusive date window an audit listing covers: the cursor's, else the filter's.
    pub async fn audit_window_of(
        &self,
        filter: &AuditFilter,
        cursor: Option<&Position>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        self.window(cursor, filter.created_after, filter.created_before).await
    }

    /// A window of audit log entries, newest first.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<AuditLogEntry>, UpstreamError> {
        let (from, to) = self.audit_window_of(filter, after.as_ref()).await;
        if from > to {
            return Ok(Window::empty());
        }
        paging::window(from, to, after, first, |from, to, offset| {
            self.audit_page(filter, from, to, offset)
        })
        .await
    }

    /// Entries matching `filter` in the window of a listing at `cursor`
    /// (`with_total_count`, one row fetched).
    pub async fn audit_count(&self, filter: &AuditFilter, cursor: Option<&Position>) -> Result<u64, UpstreamError> {
        let window = self.audit_window_of(filter, cursor).await;
        let mut params = filter.params(window.0, window.1);
        params.extend([
            ("count", "1".to_string()),
            ("offset", "0".to_string()),
            ("with_total_count", "true".to_string()),
        ]);
        self.count_of(&COUNT, "GetAuditLog", params).await
    }

    /// An entry answered without an upstream call: cached, or a malformed key.
    pub async fn cached_audit_entry(&self, key: &str) -> Option<Lookup<AuditLogEntry>> {
        let Some((id, _)) = parse_key(key) else {
            return Some(Ok(None));
        };
        cached_lookup(&self.cache, &self.audit_key(id)).await
    }

    /// Entries by `id@unix-seconds` keys: cache first, then one GetAuditLog per batch.
    pub async fn audit_entries_by_key(&self, keys: &[String]) -> HashMap<String, Lookup<AuditLogEntry>> {
        let mut answers = HashMap::with_capacity(keys.len());
        let mut misses = Vec::new();
        for key in keys {
            let Some((id, at)) = parse_key(key) else {
                answers.insert(key.clone(), Ok(None));
                continue;
            };
            match cached_lookup(&self.cache, &self.audit_key(id)).await {
                Some(answer) => {
                    answers.insert(key.clone(), answer);
                }
                None => misses.push((key.clone(), id, at)),
            }
        }
        if misses.is_empty() {
            return answers;
        }
        // Concurrent misses of one entry, in this request or another, make one call.
        let window = super::padded_window(misses.iter().map(|m| m.2));
        let fills = misses.iter().map(|(_, id, _)| (*id, self.audit_key(*id))).collect();
        let fetch = |ids| self.fetch_audit_ids(ids, window);
        // An audit entry never changes: cached as final.
        let fetched = fetch_coalesced(&self.cache, Provider::Voximplant, fills, fetch, |_| true).await;
        for ((key, _, _), answer) in misses.into_iter().zip(fetched) {
            answers.insert(key, answer);
        }
        answers
    }

    /// The entries of `ids`, requested within `(from, to)`, by one GetAuditLog with
    /// `;`-joined ids.
    async fn fetch_audit_ids(
        &self,
        ids: Vec<u64>,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<HashMap<u64, Arc<AuditLogEntry>>, UpstreamError> {
        let joined: Vec<String> = ids.iter().map(u64::to_string).collect();
        let mut params = AuditFilter::default().params(from, to);
        params.extend([
            ("audit_log_id", joined.join(";")),
            ("count", ids.len().to_string()),
            ("offset", "0".to_string()),
        ]);
        let env = self.client.call::<Vec<AuditLogWire>>("GetAuditLog", &params).await?;
        let mut found = HashMap::new();
        for wire in env.result.unwrap_or_default() {
            let entry = Arc::new(map_entry(wire)?);
            found.insert(entry.id, entry);
        }
        Ok(found)
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: u32,
    ) -> Result<Arc<Page<AuditLogEntry>>, UpstreamError> {
        let mut params = filter.params(from, to);
        params.extend([("count", self.page_size.to_string()), ("offset", offset.to_string())]);
        // Audit entries never change: cached as final records.
        let key = |e: &AuditLogEntry| self.audit_key(e.id);
        self.listing(&PAGE, "GetAuditLog", params, map_entry, (key, |_: &AuditLogEntry| true))
            .await
    }

    fn audit_key(&self, id: u64) -> Key<Option<Arc<AuditLogEntry>>> {
        ENTRY.key(&self.tenant, Provider::Voximplant, id.to_string())
    }
}

fn map_entry(wire: AuditLogWire) -> Result<AuditLogEntry, UpstreamError> {
    audit_entry(wire).map_err(|e| UpstreamError::bad_response(Provider::Voximplant, e.to_string()))
}

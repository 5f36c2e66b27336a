//! OneUptime call logs (providers.md §2): list with filters pushed into OneUptime's
//! `query`, keyset paging, `/count`, and batch reads by id.
//!
//! `OneUptime` is one tenant's service. It reads through the shared cache (pages, counts,
//! records by id); list pages prime the by-id cache.

mod client;
mod config;
mod doctor;
mod loader;
mod mapping;
pub mod model;
pub mod paging;
mod query;
pub mod webhook;
mod wire;

pub use config::OneUptimeConfig;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use uuid::Uuid;

use crate::cache::{Cache, Key, Kind};
use crate::domain::Provider;
use crate::domain::TenantId;
use crate::providers::{Lookup, SentRows, cached_lookup, fetch_coalesced, read_rows};
use crate::upstream::config::UpstreamConfig;
use crate::upstream::{Http, UpstreamError};
use client::Client;
pub use loader::CallLogLoader;
pub use mapping::raw_statuses;
use model::CallLog;
use paging::{Page, Position, Window};
pub use query::{InvalidPhone, ListFilter, phone_filter};

const RECORD: Kind<Option<Arc<CallLog>>> = Kind::new("call-log");
const PAGE: Kind<Page> = Kind::new("call-log-page");
const COUNT: Kind<u64> = Kind::new("call-log-count");

/// One tenant's OneUptime service.
pub struct OneUptime {
    tenant: TenantId,
    client: Client,
    cache: Cache,
    page_size: u32,
}

/// Global ids of call logs (`OneUptimeCallLog:<uuid>`).
pub const CALL_LOG: crate::domain::NodeKind =
    crate::domain::NodeKind::call_log("OneUptimeCallLog", Provider::OneUptime);

/// OneUptime's registration (`providers::REGISTERED`).
pub struct Registration;
pub const REGISTRATION: Registration = Registration;

impl super::Registration for Registration {
    fn provider(&self) -> Provider {
        Provider::OneUptime
    }
    fn build(
        &self,
        providers: &crate::providers::ProvidersConfig,
        ctx: &super::BuildContext<'_>,
    ) -> Option<Result<Arc<dyn super::Service>, String>> {
        let config = providers.oneuptime.as_ref()?;
        let service = OneUptime::new(ctx.tenant.clone(), config, ctx.http, ctx.upstream, ctx.cache.clone());
        Some(Ok(Arc::new(service)))
    }
    fn section<'a>(&self, providers: &'a crate::providers::ProvidersConfig) -> Option<&'a dyn super::Section> {
        providers.oneuptime.as_ref().map(|c| c as &dyn super::Section)
    }
}

impl super::Service for OneUptime {
    fn provider(&self) -> Provider {
        Provider::OneUptime
    }
    fn upstream(&self) -> &crate::upstream::UpstreamClient {
        self.client.upstream()
    }
    fn doctor<'a>(&'a self, _options: &'a super::doctor::Options) -> super::doctor::Checks<'a> {
        Box::pin(self.doctor_checks())
    }
}

impl OneUptime {
    pub fn new(tenant: TenantId, config: &OneUptimeConfig, http: &Http, policy: &UpstreamConfig, cache: Cache) -> Self {
        let upstream = http.client_for(
            &tenant,
            Provider::OneUptime,
            (config.concurrency, config.max_requests_per_second),
            policy,
        );
        OneUptime {
            tenant,
            client: Client::new(config, upstream),
            cache,
            page_size: config.page_size,
        }
    }

    /// A window of call logs, newest first, after `after`.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "oneuptime", tenant = self.tenant.as_str()))]
    pub async fn call_logs(
        &self,
        filter: &ListFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window, UpstreamError> {
        paging::window(after, first, |anchor, skip| self.page(filter, anchor, skip)).await
    }

    /// How many call logs match `filter` (`POST /count`, cached like a page).
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "oneuptime", tenant = self.tenant.as_str()))]
    pub async fn count(&self, filter: &ListFilter) -> Result<u64, UpstreamError> {
        let Some(query) = query::list_query(filter, None) else {
            return Ok(0);
        };
        let key = COUNT.key(&self.tenant, Provider::OneUptime, query.to_string());
        let ttl = self.cache.ttls().page;
        let count = self
            .cache
            .get_or_fetch(key, async {
                Ok::<_, UpstreamError>((self.client.count(query).await?, ttl))
            })
            .await?;
        Ok(*count)
    }

    /// Call logs by native id: cached ones first, then one `get-item` for a single miss
    /// or one `get-list` with `_id Includes [...]` per page-size chunk of misses.
    #[tracing::instrument(level = "debug", skip(self, ids), fields(provider = "oneuptime", tenant = self.tenant.as_str(), ids = ids.len()))]
    pub async fn call_logs_by_id(&self, ids: &[String]) -> HashMap<String, Lookup<CallLog>> {
        let mut answers = HashMap::with_capacity(ids.len());
        let mut misses: Vec<(String, String)> = Vec::new();
        for id in ids {
            let Ok(uuid) = Uuid::parse_str(id) else {
                answers.insert(id.clone(), Ok(None));
                continue;
            };
            let canonical = uuid.to_string();
            match cached_lookup(&self.cache, &self.record_key(&canonical)).await {
                Some(answer) => {
                    answers.insert(id.clone(), answer);
                }
                None => misses.push((id.clone(), canonical)),
            }
        }
        let chunks: Vec<&[(String, String)]> = misses.chunks(self.page_size as usize).collect();
        let fetched = join_all(chunks.iter().map(|chunk| {
            let misses = chunk.iter().map(|(_, c)| (c.clone(), self.record_key(c))).collect();
            let fetch = |ids| self.fetch_ids(ids);
            fetch_coalesced(&self.cache, Provider::OneUptime, misses, fetch, |r| r.core.is_final())
        }))
        .await;
        for (chunk, answers_of_chunk) in chunks.into_iter().zip(fetched) {
            for ((requested, _), answer) in chunk.iter().zip(answers_of_chunk) {
                answers.insert(requested.clone(), answer);
            }
        }
        answers
    }

    /// The logs of `ids` (canonical UUIDs): one `get-item` for one id, else one
    /// `get-list` with `_id Includes`.
    async fn fetch_ids(&self, ids: Vec<String>) -> Result<HashMap<String, Arc<CallLog>>, UpstreamError> {
        let logs: Vec<CallLog> = if let [only] = ids.as_slice() {
            self.client
                .get_item(only)
                .await?
                .map(map_record)
                .transpose()?
                .into_iter()
                .collect()
        } else {
            let list = self
                .client
                .get_list::<Vec<wire::CallLogWire>>(query::by_ids(&ids), query::sort(), 0, ids.len() as u32)
                .await?;
            list.data.into_iter().map(map_record).collect::<Result<_, _>>()?
        };
        Ok(logs
            .into_iter()
            .map(|l| (l.core.native_id.to_ascii_lowercase(), Arc::new(l)))
            .collect())
    }

    /// One upstream page (`createdAt <= anchor`, skipping `skip`) through the cache.
    async fn page(
        &self,
        filter: &ListFilter,
        anchor: Option<DateTime<Utc>>,
        skip: u64,
    ) -> Result<Arc<Page>, UpstreamError> {
        let Some(query) = query::list_query(filter, anchor) else {
            return Ok(Arc::new(Page {
                items: Vec::new(),
                full: false,
                raw_len: 0,
                unreadable: Vec::new(),
            }));
        };
        let limit = self.page_size;
        let key = PAGE.key(&self.tenant, Provider::OneUptime, format!("{query}|{skip}|{limit}"));
        self.cache
            .get_or_fetch(key, async {
                let list = self
                    .client
                    .get_list::<SentRows<wire::CallLogWire>>(query.clone(), query::sort(), skip, limit)
                    .await?;
                let raw_len = list.data.len();
                let rows = read_rows(Provider::OneUptime, list.data, &["_id"], |w: wire::CallLogWire| {
                    CallLog::try_from(w)
                });
                let (items, unreadable) = rows.into_places();
                newest_first(&items, anchor)?;
                let key = |r: &CallLog| self.record_key(&r.core.native_id);
                self.cache.prime(&items, key, |r| r.core.is_final()).await;
                let page = Page {
                    items,
                    full: raw_len >= limit as usize,
                    raw_len,
                    unreadable,
                };
                Ok::<_, UpstreamError>((page, self.cache.ttls().page))
            })
            .await
    }

    /// A call log answered without an upstream call: cached, or an id that is no UUID.
    pub async fn cached_call_log(&self, id: &str) -> Option<Lookup<CallLog>> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Some(Ok(None));
        };
        cached_lookup(&self.cache, &self.record_key(&uuid.to_string())).await
    }

    fn record_key(&self, id: &str) -> Key<Option<Arc<CallLog>>> {
        RECORD.key(&self.tenant, Provider::OneUptime, id.to_ascii_lowercase())
    }
}

/// Keyset paging relies on the `sort` it sends (`createdAt DESC`) and on the anchor's
/// bound: a page that breaks either is refused (and the broken assumption logged once),
/// never merged out of order.
fn newest_first(items: &[Arc<CallLog>], anchor: Option<DateTime<Utc>>) -> Result<(), UpstreamError> {
    let ordered = items.windows(2).all(|w| w[0].core.created_at >= w[1].core.created_at);
    let bounded = anchor.is_none_or(|a| items.first().is_none_or(|i| i.core.created_at <= a));
    if ordered && bounded {
        return Ok(());
    }
    let times: Vec<String> = items.iter().take(10).map(|i| query::stamp(i.core.created_at)).collect();
    let evidence = format!(
        "a get-list page sorted createdAt DESC, anchored at {:?}, began {}",
        anchor.map(query::stamp),
        times.join(", ")
    );
    crate::providers::assumptions::broken(Provider::OneUptime, "lists newest first", &evidence);
    Err(UpstreamError::bad_response(Provider::OneUptime, evidence))
}

fn map_record(wire: wire::CallLogWire) -> Result<CallLog, UpstreamError> {
    CallLog::try_from(wire).map_err(|e| UpstreamError::bad_response(Provider::OneUptime, e.to_string()))
}

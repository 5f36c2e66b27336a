//! Voximplant Management API (providers.md §3): JS call sessions from GetCallHistory,
//! with service-account JWT auth, windowed `count`/`offset` paging and batch reads by id.
//!
//! `Voximplant` is one tenant's service, reading through the shared cache.

mod audit;
pub mod auth;
mod client;
mod config;
mod doctor;
mod loader;
mod mapping;
pub mod model;
pub mod paging;
pub mod reports;
mod wire;

pub use config::VoximplantConfig;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;

use crate::cache::{Cache, Key, Kind};
use crate::domain::TenantId;
use crate::domain::{Provider, time};
use crate::providers::{Lookup, SentRows, cached_lookup, fetch_coalesced, read_rows};
use crate::upstream::config::UpstreamConfig;
use crate::upstream::{Http, UpstreamError};
pub use audit::AuditFilter;
use auth::{Clock, ServiceAccount, TokenSource};
use client::Client;
pub use loader::{AuditEntryLoader, CallSessionLoader};
use mapping::format_timestamp;
use model::CallSession;
use paging::{Page, Position, Window};
use wire::CallSessionWire;

const SESSION: Kind<Option<Arc<CallSession>>> = Kind::new("session");
const PAGE: Kind<Page<CallSession>> = Kind::new("session-page");
const COUNT: Kind<u64> = Kind::new("session-count");
/// Where windows without `createdBefore` end (unix seconds), pinned for the page TTL.
const OPEN_END: Kind<i64> = Kind::new("open-end");
/// GetCallHistory's limit on `call_session_history_id`.
const MAX_IDS: usize = 1000;

/// Filter of the session listing; everything is applied by Voximplant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SessionFilter {
    /// Exclusive; defaults to `createdBefore` (or now) minus the configured look-back.
    pub created_after: Option<DateTime<Utc>>,
    /// Exclusive; defaults to now.
    pub created_before: Option<DateTime<Utc>>,
    pub remote_numbers: Vec<String>,
    pub local_numbers: Vec<String>,
    pub application_id: Option<u64>,
    pub application_name: Option<String>,
    pub user_ids: Vec<u64>,
}

impl SessionFilter {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if !self.remote_numbers.is_empty() {
            params.push(("remote_number", self.remote_numbers.join(";")));
        }
        if !self.local_numbers.is_empty() {
            params.push(("local_number", self.local_numbers.join(";")));
        }
        if let Some(id) = self.application_id {
            params.push(("application_id", id.to_string()));
        }
        if let Some(name) = &self.application_name {
            params.push(("application_name", name.clone()));
        }
        if !self.user_ids.is_empty() {
            let ids: Vec<String> = self.user_ids.iter().map(u64::to_string).collect();
            params.push(("user_id", ids.join(";")));
        }
        params
    }
}

/// `id@unix-seconds`: a session id with its start, which GetCallHistory needs for its
/// mandatory date window.
pub fn session_key(id: u64, start: DateTime<Utc>) -> String {
    format!("{id}@{}", start.timestamp())
}

fn parse_key(key: &str) -> Option<(u64, DateTime<Utc>)> {
    let (id, ts) = key.split_once('@')?;
    Some((id.parse().ok()?, time::from_unix(ts.parse().ok()?)?))
}

/// Why a Voximplant service cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("voximplant credentials: {0}")]
pub struct SetupError(String);

/// One tenant's Voximplant service.
pub struct Voximplant {
    tenant: TenantId,
    client: Client,
    cache: Cache,
    page_size: u32,
    currency: &'static str,
    lookback: Duration,
    clock: Clock,
    max_report_bytes: usize,
}

/// Global ids of call sessions (`VoximplantCallSession:<id>@<unix start>`: GetCallHistory
/// needs a date window).
pub const CALL_SESSION: crate::domain::NodeKind =
    crate::domain::NodeKind::call_log("VoximplantCallSession", Provider::Voximplant);
/// Global ids of audit log entries (`VoximplantAuditLogEntry:<id>@<unix requested>`).
pub const AUDIT_LOG_ENTRY: crate::domain::NodeKind =
    crate::domain::NodeKind::other("VoximplantAuditLogEntry", Provider::Voximplant);
/// Global ids of history reports (`VoximplantHistoryReport:<id>`).
pub const HISTORY_REPORT: crate::domain::NodeKind =
    crate::domain::NodeKind::other("VoximplantHistoryReport", Provider::Voximplant);

/// Voximplant's registration (`providers::REGISTERED`).
pub struct Registration;
pub const REGISTRATION: Registration = Registration;

impl super::Registration for Registration {
    fn provider(&self) -> Provider {
        Provider::Voximplant
    }
    fn build(
        &self,
        providers: &crate::providers::ProvidersConfig,
        ctx: &super::BuildContext<'_>,
    ) -> Option<Result<Arc<dyn super::Service>, String>> {
        let config = providers.voximplant.as_ref()?;
        let built = Voximplant::new(
            ctx.tenant.clone(),
            config,
            ctx.http,
            ctx.upstream,
            ctx.cache.clone(),
            auth::system_clock(),
        );
        Some(
            built
                .map(|s| Arc::new(s) as Arc<dyn super::Service>)
                .map_err(|e| e.to_string()),
        )
    }
    fn section<'a>(&self, providers: &'a crate::providers::ProvidersConfig) -> Option<&'a dyn super::Section> {
        providers.voximplant.as_ref().map(|c| c as &dyn super::Section)
    }
}

impl super::Service for Voximplant {
    fn provider(&self) -> Provider {
        Provider::Voximplant
    }
    fn upstream(&self) -> &crate::upstream::UpstreamClient {
        self.client.upstream()
    }
    fn doctor<'a>(&'a self, options: &'a super::doctor::Options) -> super::doctor::Checks<'a> {
        Box::pin(self.doctor_checks(options))
    }
}

impl Voximplant {
    pub fn new(
        tenant: TenantId,
        config: &VoximplantConfig,
        http: &Http,
        policy: &UpstreamConfig,
        cache: Cache,
        clock: Clock,
    ) -> Result<Self, SetupError> {
        let json = config.credentials().map_err(|e| SetupError(e.to_string()))?;
        let account = ServiceAccount::from_json(json.expose()).map_err(|e| SetupError(e.to_string()))?;
        let tokens = TokenSource::new(account, config.token_lifetime.as_secs() as i64, clock.clone());
        let upstream = http.client_for(
            &tenant,
            Provider::Voximplant,
            (config.concurrency, config.max_requests_per_second),
            policy,
        );
        Ok(Voximplant {
            tenant,
            client: Client::new(upstream, &config.base_url, tokens),
            cache,
            page_size: config.page_size,
            // Checked by the config's validation; one interned string per code.
            currency: crate::domain::currency(&config.currency)
                .ok_or_else(|| SetupError(format!("not a currency code: {:?}", config.currency)))?,
            lookback: Duration::from_std(config.lookback).unwrap_or(Duration::days(30)),
            max_report_bytes: config.max_report_bytes,
            clock,
        })
    }

    /// The inclusive date window a session listing covers, at second precision: the one a
    /// cursor carries, else the one `filter` means now.
    pub async fn window_of(&self, filter: &SessionFilter, cursor: Option<&Position>) -> (DateTime<Utc>, DateTime<Utc>) {
        self.window(cursor, filter.created_after, filter.created_before).await
    }

    /// The cursor's window; else the inclusive window for exclusive bounds: the look-back
    /// before `before` (or the open end) when `after` is absent.
    async fn window(
        &self,
        cursor: Option<&Position>,
        after: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        if let Some(p) = cursor {
            return (p.from, p.to);
        }
        let to = match before {
            Some(t) => time::shift(ceil_second(t), -Duration::seconds(1)),
            None => self.open_end().await,
        };
        let from = after
            .map(|t| time::shift(floor_second(t), Duration::seconds(1)))
            .unwrap_or(time::shift(to, -self.lookback));
        (from, to)
    }

    /// Where a window without `createdBefore` ends: now, pinned per tenant for the page
    /// TTL, so first pages asked within it share one cache key (and one upstream page)
    /// and are exactly as fresh as cached pages are.
    async fn open_end(&self) -> DateTime<Utc> {
        let now = (self.clock)();
        let key = OPEN_END.key(&self.tenant, Provider::Voximplant, "");
        let ttl = self.cache.ttls().page;
        let pinned = self
            .cache
            .get_or_fetch(key, async { Ok::<_, UpstreamError>((now, ttl)) })
            .await
            .map_or(now, |p| *p);
        DateTime::from_timestamp(pinned, 0).unwrap_or_else(Utc::now)
    }

    /// A window of sessions, newest first.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn sessions(
        &self,
        filter: &SessionFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<CallSession>, UpstreamError> {
        let (from, to) = self.window_of(filter, after.as_ref()).await;
        if from > to {
            return Ok(Window::empty());
        }
        paging::window(from, to, after, first, |from, to, offset| {
            self.page(filter, from, to, offset)
        })
        .await
    }

    /// Sessions matching `filter` in the window of a listing at `cursor`
    /// (`with_total_count`, one row fetched).
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "voximplant", tenant = self.tenant.as_str()))]
    pub async fn count(&self, filter: &SessionFilter, cursor: Option<&Position>) -> Result<u64, UpstreamError> {
        let window = self.window_of(filter, cursor).await;
        let mut params = self.history_params(filter, window.0, window.1, 0, 1);
        params.push(("with_total_count", "true".into()));
        self.count_of(&COUNT, "GetCallHistory", params).await
    }

    /// `total_count` of a listing call, cached like a page.
    async fn count_of(
        &self,
        kind: &Kind<u64>,
        method: &'static str,
        params: Vec<(&'static str, String)>,
    ) -> Result<u64, UpstreamError> {
        let key = kind.key(&self.tenant, Provider::Voximplant, encode(&params));
        let ttl = self.cache.ttls().page;
        let count = self
            .cache
            .get_or_fetch(key, async {
                let env = self.client.call::<Vec<serde::de::IgnoredAny>>(method, &params).await?;
                Ok::<_, UpstreamError>((env.total_count.unwrap_or(0), ttl))
            })
            .await?;
        Ok(*count)
    }

    /// A session answered without an upstream call: cached, or a malformed key.
    pub async fn cached_session(&self, key: &str) -> Option<Lookup<CallSession>> {
        let Some((id, _)) = parse_key(key) else {
            return Some(Ok(None));
        };
        cached_lookup(&self.cache, &self.record_key(id)).await
    }

    /// Sessions by `id@unix-seconds` keys: cache first, then one GetCallHistory per
    /// 1000 misses with `call_session_history_id=a;b;c`.
    #[tracing::instrument(level = "debug", skip(self, keys), fields(provider = "voximplant", tenant = self.tenant.as_str(), ids = keys.len()))]
    pub async fn sessions_by_key(&self, keys: &[String]) -> HashMap<String, Lookup<CallSession>> {
        let mut answers = HashMap::with_capacity(keys.len());
        let mut misses = Vec::new();
        for key in keys {
            let Some((id, start)) = parse_key(key) else {
                answers.insert(key.clone(), Ok(None));
                continue;
            };
            match cached_lookup(&self.cache, &self.record_key(id)).await {
                Some(answer) => {
                    answers.insert(key.clone(), answer);
                }
                None => misses.push((key.clone(), id, start)),
            }
        }
        let chunks: Vec<_> = misses.chunks(MAX_IDS).collect();
        let fetched = join_all(chunks.iter().map(|chunk| {
            let window = padded_window(chunk.iter().map(|c| c.2));
            let misses = chunk.iter().map(|(_, id, _)| (*id, self.record_key(*id))).collect();
            let fetch = move |ids| self.fetch_ids(ids, window);
            fetch_coalesced(&self.cache, Provider::Voximplant, misses, fetch, |r| r.core.is_final())
        }))
        .await;
        for (chunk, answers_of_chunk) in chunks.into_iter().zip(fetched) {
            for ((key, _, _), answer) in chunk.iter().zip(answers_of_chunk) {
                answers.insert(key.clone(), answer);
            }
        }
        answers
    }

    /// The sessions of `ids`, which started within `(from, to)`, by one GetCallHistory
    /// with `;`-joined ids.
    async fn fetch_ids(
        &self,
        ids: Vec<u64>,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<HashMap<u64, Arc<CallSession>>, UpstreamError> {
        let joined: Vec<String> = ids.iter().map(u64::to_string).collect();
        let mut params = self.history_params(&SessionFilter::default(), from, to, 0, ids.len() as u32);
        params.push(("call_session_history_id", joined.join(";")));
        let env = self
            .client
            .call::<Vec<CallSessionWire>>("GetCallHistory", &params)
            .await?;
        let mut found = HashMap::new();
        for wire in env.result.unwrap_or_default() {
            let session = Arc::new(self.map(wire)?);
            found.insert(session.id, session);
        }
        Ok(found)
    }

    fn history_params(
        &self,
        filter: &SessionFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: u32,
        count: u32,
    ) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("from_date", format_timestamp(from)),
            ("to_date", format_timestamp(to)),
            ("desc_order", "true".into()),
            ("with_calls", "true".into()),
            ("with_records", "true".into()),
            ("with_other_resources", "true".into()),
            ("count", count.to_string()),
            ("offset", offset.to_string()),
        ];
        params.extend(filter.params());
        params
    }

    async fn page(
        &self,
        filter: &SessionFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset: u32,
    ) -> Result<Arc<Page<CallSession>>, UpstreamError> {
        let params = self.history_params(filter, from, to, offset, self.page_size);
        let key = |s: &CallSession| self.record_key(s.id);
        let is_final = |s: &CallSession| s.core.is_final();
        self.listing(
            &PAGE,
            "GetCallHistory",
            params,
            |w: CallSessionWire| self.map(w),
            (key, is_final),
        )
        .await
    }

    /// One upstream page of `method` through the cache; its items prime their by-id
    /// entries (`prime`: an item's key, and whether it is final).
    async fn listing<W, T>(
        &self,
        kind: &Kind<Page<T>>,
        method: &'static str,
        params: Vec<(&'static str, String)>,
        map: impl Fn(W) -> Result<T, UpstreamError>,
        prime: (impl Fn(&T) -> Key<Option<Arc<T>>>, impl Fn(&T) -> bool),
    ) -> Result<Arc<Page<T>>, UpstreamError>
    where
        W: serde::de::DeserializeOwned,
        T: crate::cache::Cacheable,
    {
        let key = kind.key(&self.tenant, Provider::Voximplant, encode(&params));
        self.cache
            .get_or_fetch(key, async {
                let env = self.client.call::<SentRows<W>>(method, &params).await?;
                let rows = env.result.unwrap_or_default();
                let raw_len = u32::try_from(rows.len()).unwrap_or(u32::MAX);
                let id_fields = ["call_session_history_id", "audit_log_id"];
                let rows = read_rows(Provider::Voximplant, rows, &id_fields, |w| map(w).map_err(|e| e.detail));
                let (items, unreadable) = (rows.read, rows.unreadable);
                let records: Vec<Arc<T>> = items.iter().map(|(_, r)| r.clone()).collect();
                self.cache.prime(&records, prime.0, prime.1).await;
                let page = Page {
                    items,
                    full: raw_len >= self.page_size,
                    raw_len,
                    unreadable,
                };
                Ok::<_, UpstreamError>((page, self.cache.ttls().page))
            })
            .await
    }

    fn map(&self, wire: CallSessionWire) -> Result<CallSession, UpstreamError> {
        mapping::session(wire, self.currency)
            .map_err(|e| UpstreamError::bad_response(Provider::Voximplant, e.to_string()))
    }

    fn record_key(&self, id: u64) -> Key<Option<Arc<CallSession>>> {
        SESSION.key(&self.tenant, Provider::Voximplant, id.to_string())
    }
}

fn encode(params: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The window a by-id read asks for: from a minute before the earliest of `times` to a
/// minute after the latest (now when empty), inside the dates the gateway handles.
pub(crate) fn padded_window(times: impl Iterator<Item = DateTime<Utc>> + Clone) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = times.clone().min().unwrap_or_else(Utc::now);
    let to = times.max().unwrap_or_else(Utc::now);
    (
        time::shift(from, -Duration::minutes(1)),
        time::shift(to, Duration::minutes(1)),
    )
}

fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let down = floor_second(t);
    if down == t {
        down
    } else {
        time::shift(down, Duration::seconds(1))
    }
}

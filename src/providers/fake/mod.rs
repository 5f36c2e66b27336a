//! A fake fourth provider, compiled only with the `fake-provider` feature: the smallest
//! provider that follows README's "Adding a provider", kept to prove that list
//! (`tests/fake_provider.rs`). Its upstream is the emulator's `/fake/v1/calls`: a bearer
//! token, newest-first keyset pages (`before=<id>&limit=<n>`, with `created_after` and
//! `created_before` applied upstream), a count, reads by id and batch reads
//! (`/batch?ids=a,b`, what its DataLoader sends).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::cache::{Cache, Kind, Weigh};
use crate::domain::TenantId;
use crate::domain::{CallDirection, CallLogCore, CallStatus, NodeKind, Provider};
use crate::settings::ConfigError;
use crate::settings::Secret;
use crate::upstream::{UpstreamClient, UpstreamError, UpstreamErrorKind};

/// `[providers.fake]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FakeConfig {
    pub base_url: Url,
    pub token: Secret,
}

impl super::Section for FakeConfig {
    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        match self.token.expose().trim().is_empty() {
            true => Err(ConfigError::Invalid {
                key: format!("{prefix}.token"),
                problem: "is empty".into(),
            }),
            false => Ok(()),
        }
    }
    fn describe(&self) -> String {
        format!("base_url={}", self.base_url)
    }
}

/// Global ids of its call logs (`FakeCallLog:<id>`).
pub const CALL_LOG: NodeKind = NodeKind::call_log("FakeCallLog", Provider::Fake);

/// The largest `limit` the fake's list accepts.
const MAX_LIMIT: usize = 50;

const RECORD: Kind<Option<Arc<CallLogCore>>> = Kind::new("call-log");
const PAGE: Kind<Page> = Kind::new("call-log-page");
const COUNT: Kind<u64> = Kind::new("call-log-count");

/// The fake's registration (`providers::REGISTERED`).
pub struct Registration;
pub const REGISTRATION: Registration = Registration;

impl super::Registration for Registration {
    fn provider(&self) -> Provider {
        Provider::Fake
    }
    fn section<'a>(&self, providers: &'a super::ProvidersConfig) -> Option<&'a dyn super::Section> {
        providers.fake.as_ref().map(|c| c as &dyn super::Section)
    }
    fn build(
        &self,
        providers: &super::ProvidersConfig,
        ctx: &super::BuildContext<'_>,
    ) -> Option<Result<Arc<dyn super::Service>, String>> {
        let config = providers.fake.as_ref()?;
        Some(Ok(Arc::new(Fake {
            tenant: ctx.tenant.clone(),
            upstream: ctx.http.client_for(ctx.tenant, Provider::Fake, (4, None), ctx.upstream),
            calls: format!("{}/fake/v1/calls", config.base_url.as_str().trim_end_matches('/')),
            token: config.token.clone(),
            cache: ctx.cache.clone(),
        })))
    }
}

/// One tenant's fake service.
pub struct Fake {
    tenant: TenantId,
    upstream: UpstreamClient,
    calls: String,
    token: Secret,
    cache: Cache,
}

impl super::Service for Fake {
    fn provider(&self) -> Provider {
        Provider::Fake
    }
    fn upstream(&self) -> &crate::upstream::UpstreamClient {
        &self.upstream
    }
}

/// Created after, created before (exclusive bounds).
pub type Dates = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One upstream page: its logs, newest first, and whether more follow.
#[derive(Serialize, Deserialize)]
pub struct Page {
    pub logs: Vec<Arc<CallLogCore>>,
    pub has_more: bool,
}

impl Weigh for Page {
    fn weight(&self) -> usize {
        self.logs.weight() + 1
    }
}

impl Fake {
    /// Up to `limit` call logs created within `dates` (exclusive bounds) and older than
    /// the one with id `before`, newest first, through the cache; a page primes the by-id
    /// entries of its logs.
    pub async fn page(&self, dates: Dates, before: Option<&str>, limit: usize) -> Result<Arc<Page>, UpstreamError> {
        let limit = ("limit", Some(limit.clamp(1, MAX_LIMIT).to_string()));
        let before = ("before", before.map(str::to_string));
        let query = with_query("", std::iter::once(limit).chain(date_params(dates)).chain([before]));
        let key = PAGE.key(&self.tenant, Provider::Fake, query.as_str());
        self.cache
            .get_or_fetch(key, async {
                let wire = self
                    .get::<WirePage>(&query)
                    .await?
                    .ok_or_else(|| self.error(UpstreamErrorKind::BadResponse, "the call list answered 404"))?;
                let logs = wire.calls.into_iter().map(|c| map(c).map(Arc::new));
                let logs = logs.collect::<Result<Vec<_>, _>>()?;
                let key = |l: &CallLogCore| RECORD.key(&self.tenant, Provider::Fake, l.native_id.as_str());
                self.cache.prime(&logs, key, CallLogCore::is_final).await;
                let page = Page {
                    logs,
                    has_more: wire.has_more,
                };
                Ok::<_, UpstreamError>((page, self.cache.ttls().page))
            })
            .await
    }

    /// The connection page of `first` logs after the one with id `after`.
    pub async fn window(
        &self,
        dates: Dates,
        after: Option<String>,
        first: usize,
    ) -> Result<crate::providers::Window<String, CallLogCore>, UpstreamError> {
        let page = self.page(dates, after.as_deref(), first).await?;
        Ok(crate::providers::Window {
            edges: page.logs.iter().map(|l| (l.native_id.clone(), l.clone())).collect(),
            has_next: page.has_more,
            error: None,
        })
    }

    /// How many call logs `dates` hold (`/count`, cached like a page).
    pub async fn count(&self, dates: Dates) -> Result<u64, UpstreamError> {
        let query = with_query("/count", date_params(dates));
        let key = COUNT.key(&self.tenant, Provider::Fake, query.as_str());
        let counted = self
            .cache
            .get_or_fetch(key, async {
                let wire = self
                    .get::<WireCount>(&query)
                    .await?
                    .ok_or_else(|| self.error(UpstreamErrorKind::BadResponse, "the count answered 404"))?;
                Ok::<_, UpstreamError>((wire.count, self.cache.ttls().page))
            })
            .await?;
        Ok(*counted)
    }

    /// Call logs by id: cached ones first, then one `/batch?ids=...` for the misses.
    pub async fn call_logs_by_id(&self, ids: &[String]) -> HashMap<String, super::Lookup<CallLogCore>> {
        let mut answers = HashMap::with_capacity(ids.len());
        let mut misses = Vec::new();
        for id in ids {
            match super::cached_lookup(&self.cache, &self.record_key(id)).await {
                Some(answer) => {
                    answers.insert(id.clone(), answer);
                }
                None => misses.push((id.clone(), self.record_key(id))),
            }
        }
        let asked: Vec<String> = misses.iter().map(|(id, _)| id.clone()).collect();
        let fetched = super::fetch_coalesced(
            &self.cache,
            Provider::Fake,
            misses,
            |ids| self.fetch_ids(ids),
            CallLogCore::is_final,
        )
        .await;
        answers.extend(asked.into_iter().zip(fetched));
        answers
    }

    /// A cached by-id answer, without an upstream call.
    pub async fn cached_call_log(&self, id: &str) -> Option<super::Lookup<CallLogCore>> {
        super::cached_lookup(&self.cache, &self.record_key(id)).await
    }

    async fn fetch_ids(&self, ids: Vec<String>) -> Result<HashMap<String, Arc<CallLogCore>>, UpstreamError> {
        let query = format!("/batch?ids={}", urlencoding(&ids.join(",")));
        let wire = self
            .get::<WirePage>(&query)
            .await?
            .ok_or_else(|| self.error(UpstreamErrorKind::BadResponse, "the batch read answered 404"))?;
        wire.calls
            .into_iter()
            .map(|c| map(c).map(|l| (l.native_id.clone(), Arc::new(l))))
            .collect()
    }

    fn record_key(&self, id: &str) -> crate::cache::Key<Option<Arc<CallLogCore>>> {
        RECORD.key(&self.tenant, Provider::Fake, id)
    }

    /// GETs `{calls}{path}`: 200 decodes, 404 is `None`, anything else an error.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, UpstreamError> {
        let url = format!("{}{path}", self.calls);
        let response = self
            .upstream
            .send(crate::upstream::Call::Read, |http| {
                http.get(&url).bearer_auth(self.token.expose())
            })
            .await?;
        match response.status {
            StatusCode::OK => serde_json::from_slice(&response.body)
                .map(Some)
                .map_err(|e| self.error(UpstreamErrorKind::BadResponse, format!("GET {path}: {e}"))),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(self.error(UpstreamErrorKind::BadResponse, format!("GET {path}: HTTP {status}"))),
        }
    }

    fn error(&self, kind: UpstreamErrorKind, detail: impl Into<String>) -> UpstreamError {
        UpstreamError::new(Provider::Fake, kind, detail)
    }
}

/// `path?name=value&...` of the parameters that have a value.
fn with_query<'a>(path: &str, params: impl IntoIterator<Item = (&'a str, Option<String>)>) -> String {
    let pairs: Vec<String> = params
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", urlencoding(&v?))))
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// The `created_after`/`created_before` parameters of `dates`.
fn date_params(dates: Dates) -> [(&'static str, Option<String>); 2] {
    [
        ("created_after", dates.0.map(stamp)),
        ("created_before", dates.1.map(stamp)),
    ]
}

/// Loads the fake's call logs by id, one batch read per request's misses.
pub struct CallLogLoader(pub Arc<Fake>);

impl Loader<String> for CallLogLoader {
    type Value = super::Lookup<CallLogCore>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        Ok(self.0.call_logs_by_id(keys).await)
    }
}

impl super::CachedLoader for CallLogLoader {
    type Record = CallLogCore;

    async fn cached(&self, key: &str) -> Option<super::Lookup<CallLogCore>> {
        self.0.cached_call_log(key).await
    }
}

/// A value as a URL component (form-encoded).
fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[derive(Deserialize)]
struct WirePage {
    calls: Vec<WireCall>,
    has_more: bool,
}

#[derive(Deserialize)]
struct WireCount {
    count: u64,
}

#[derive(Deserialize)]
struct WireCall {
    id: String,
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    created_at: DateTime<Utc>,
    duration: Option<i64>,
}

fn map(wire: WireCall) -> Result<CallLogCore, UpstreamError> {
    let status = match wire.status.as_deref() {
        Some("completed") => CallStatus::Completed,
        Some("failed") => CallStatus::Failed,
        Some("in-progress") => CallStatus::InProgress,
        _ => CallStatus::Unknown,
    };
    Ok(CallLogCore {
        provider: Provider::Fake,
        native_id: wire.id,
        from: wire.from,
        to: wire.to,
        direction: CallDirection::Unknown,
        status,
        provider_status: wire.status,
        created_at: wire.created_at,
        started_at: Some(wire.created_at),
        ended_at: None,
        duration_seconds: wire.duration,
        cost: None,
    })
}

//! A fake fourth provider, compiled only with the `fake-provider` feature: the smallest
//! provider that follows README's "Adding a provider", kept to prove that list
//! (`tests/fake_provider.rs`). Its upstream is the emulator's `/fake/v1/calls`: a bearer
//! token, newest-first keyset pages (`before=<id>&limit=<n>`, with `created_after` and
//! `created_before` applied upstream) and reads by id.

use std::sync::Arc;

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
            upstream: ctx.http.client_for(ctx.tenant, Provider::Fake, 4, ctx.upstream),
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
    /// The call log `id` through the cache; `None` when it does not exist.
    pub async fn call_log(&self, id: &str) -> Result<Option<Arc<CallLogCore>>, UpstreamError> {
        let key = RECORD.key(&self.tenant, Provider::Fake, id);
        let found = self
            .cache
            .get_or_fetch(key, async {
                let path = format!("/{}", urlencoding(id));
                let log = self.get::<WireCall>(&path).await?.map(map).transpose()?.map(Arc::new);
                let ttl = self.cache.ttls().for_record(log.as_deref().map(CallLogCore::is_final));
                Ok::<_, UpstreamError>((log, ttl))
            })
            .await?;
        Ok((*found).clone())
    }

    /// Up to `limit` call logs created within `dates` (exclusive bounds) and older than
    /// the one with id `before`, newest first, through the cache; a page primes the by-id
    /// entries of its logs.
    pub async fn page(&self, dates: Dates, before: Option<&str>, limit: usize) -> Result<Arc<Page>, UpstreamError> {
        let mut query = format!("?limit={}", limit.clamp(1, MAX_LIMIT));
        let params = [
            ("created_after", dates.0.map(stamp)),
            ("created_before", dates.1.map(stamp)),
        ];
        let params = params.into_iter().filter_map(|(k, v)| Some((k, v?)));
        for (name, value) in params.chain(before.map(|id| ("before", id.to_string()))) {
            query.push_str(&format!("&{name}={}", urlencoding(&value)));
        }
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

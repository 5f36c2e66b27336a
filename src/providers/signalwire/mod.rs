//! SignalWire voice logs, voice log events and video logs (providers.md §1).
//!
//! `SignalWire` is the service the GraphQL layer calls: one per tenant, reading through
//! the shared cache (records by id, upstream pages, events) before the HTTP client.
//! List pages prime the by-id cache, so a detail view opened from a list is free.

mod client;
mod config;
mod doctor;
mod loader;
mod mapping;
pub mod model;
pub mod paging;
pub mod webhook;
mod wire;

pub use config::SignalWireConfig;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::cache::{Cache, Key, Kind};
use crate::domain::TenantId;
use crate::domain::{CallLogCore, Provider};
use crate::providers::{Lookup, SentRows, cached_lookup, read_rows};
use crate::upstream::config::UpstreamConfig;
use crate::upstream::{Http, UpstreamError};
use client::Client;
pub use loader::{VideoLogLoader, VoiceLogLoader};
use model::{VideoLog, VoiceLog, VoiceLogEvent};
use paging::{Page, PageRequest, Position, Window};
use wire::{EventsEnvelope, ListEnvelope, LogEventWire, VideoLogWire, VoiceLogWire};

/// Filter of the list endpoints, pushed upstream as `created_*` and `include_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListFilter {
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// One UTC day (`created_on=YYYY-MM-DD`).
    pub created_on: Option<NaiveDate>,
    pub include_deleted: bool,
}

/// The events of a voice log.
const EVENTS: Kind<Vec<VoiceLogEvent>> = Kind::new("voice-events");

/// A SignalWire log collection, with what differs between them.
trait Collection {
    type Wire: DeserializeOwned + Send;
    type Record: crate::cache::Cacheable
        + paging::Keyed
        + TryFrom<Self::Wire, Error = mapping::MappingError>
        + Send
        + Sync;
    const PATH: &'static str;
    const RECORD: Kind<Option<Arc<Self::Record>>>;
    const PAGE: Kind<Page<Self::Record>>;
    fn core(record: &Self::Record) -> &CallLogCore;
}

struct Voice;
struct Video;

impl Collection for Voice {
    type Wire = VoiceLogWire;
    type Record = VoiceLog;
    const PATH: &'static str = "/api/voice/logs";
    const RECORD: Kind<Option<Arc<VoiceLog>>> = Kind::new("voice");
    const PAGE: Kind<Page<VoiceLog>> = Kind::new("voice-page");
    fn core(record: &VoiceLog) -> &CallLogCore {
        record.core()
    }
}

impl Collection for Video {
    type Wire = VideoLogWire;
    type Record = VideoLog;
    const PATH: &'static str = "/api/video/logs";
    const RECORD: Kind<Option<Arc<VideoLog>>> = Kind::new("video");
    const PAGE: Kind<Page<VideoLog>> = Kind::new("video-page");
    fn core(record: &VideoLog) -> &CallLogCore {
        record.core()
    }
}

/// One tenant's SignalWire service.
pub struct SignalWire {
    tenant: TenantId,
    client: Client,
    cache: Cache,
    page_size: u32,
}

/// Global ids of voice logs (`SignalWireVoiceLog:<uuid>`).
pub const VOICE_LOG: crate::domain::NodeKind =
    crate::domain::NodeKind::call_log("SignalWireVoiceLog", Provider::SignalWire);
/// Global ids of video logs (`SignalWireVideoLog:<uuid>`).
pub const VIDEO_LOG: crate::domain::NodeKind =
    crate::domain::NodeKind::call_log("SignalWireVideoLog", Provider::SignalWire);

/// SignalWire's registration (`providers::REGISTERED`).
pub struct Registration;
pub const REGISTRATION: Registration = Registration;

impl super::Registration for Registration {
    fn provider(&self) -> Provider {
        Provider::SignalWire
    }
    fn build(
        &self,
        providers: &crate::providers::ProvidersConfig,
        ctx: &super::BuildContext<'_>,
    ) -> Option<Result<Arc<dyn super::Service>, String>> {
        let config = providers.signalwire.as_ref()?;
        let service = SignalWire::new(ctx.tenant.clone(), config, ctx.http, ctx.upstream, ctx.cache.clone());
        Some(Ok(Arc::new(service)))
    }
    fn section<'a>(&self, providers: &'a crate::providers::ProvidersConfig) -> Option<&'a dyn super::Section> {
        providers.signalwire.as_ref().map(|c| c as &dyn super::Section)
    }
}

impl super::Service for SignalWire {
    fn provider(&self) -> Provider {
        Provider::SignalWire
    }
    fn upstream(&self) -> &crate::upstream::UpstreamClient {
        self.client.upstream()
    }
    fn doctor<'a>(&'a self, _options: &'a super::doctor::Options) -> super::doctor::Checks<'a> {
        Box::pin(self.doctor_checks())
    }
}

impl SignalWire {
    pub fn new(
        tenant: TenantId,
        config: &SignalWireConfig,
        http: &Http,
        policy: &UpstreamConfig,
        cache: Cache,
    ) -> Self {
        let upstream = http.client_for(
            &tenant,
            Provider::SignalWire,
            (config.concurrency, config.max_requests_per_second),
            policy,
        );
        SignalWire {
            tenant,
            client: Client::new(config, upstream),
            cache,
            page_size: config.page_size,
        }
    }

    /// A voice log by id; `None` when it does not exist or `id` is not a UUID (no call).
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "signalwire", tenant = self.tenant.as_str()))]
    pub async fn voice_log(&self, id: &str) -> Result<Option<Arc<VoiceLog>>, UpstreamError> {
        self.record::<Voice>(id).await
    }

    /// A video log by id; `None` when it does not exist or `id` is not a UUID (no call).
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "signalwire", tenant = self.tenant.as_str()))]
    pub async fn video_log(&self, id: &str) -> Result<Option<Arc<VideoLog>>, UpstreamError> {
        self.record::<Video>(id).await
    }

    /// The events of a voice log (unpaged upstream); empty for an unknown log.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "signalwire", tenant = self.tenant.as_str()))]
    pub async fn voice_log_events(&self, id: &str) -> Result<Arc<Vec<VoiceLogEvent>>, UpstreamError> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Ok(Arc::new(Vec::new()));
        };
        let key = EVENTS.key(&self.tenant, Provider::SignalWire, uuid.to_string());
        let ttl = self.cache.ttls().final_record;
        let request = PageRequest::new(&format!("{}/{uuid}/events", Voice::PATH), []);
        self.cache
            .get_or_fetch(key, async {
                let body: Option<EventsEnvelope> = self.client.get(&request).await?;
                let events: Vec<VoiceLogEvent> = body
                    .map(|b| b.data)
                    .unwrap_or_default()
                    .into_iter()
                    .map(LogEventWire::into)
                    .collect();
                Ok::<_, UpstreamError>((events, ttl))
            })
            .await
    }

    /// A window of voice logs, newest first, after `after`.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "signalwire", tenant = self.tenant.as_str()))]
    pub async fn voice_logs(
        &self,
        filter: &ListFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<VoiceLog>, UpstreamError> {
        self.window::<Voice>(filter, after, first).await
    }

    /// A window of video logs, newest first, after `after`.
    #[tracing::instrument(level = "debug", skip(self), fields(provider = "signalwire", tenant = self.tenant.as_str()))]
    pub async fn video_logs(
        &self,
        filter: &ListFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<VideoLog>, UpstreamError> {
        self.window::<Video>(filter, after, first).await
    }

    /// A voice log answered without an upstream call: cached, or an id that is no UUID.
    pub async fn cached_voice_log(&self, id: &str) -> Option<Lookup<VoiceLog>> {
        self.cached_record::<Voice>(id).await
    }

    /// A video log answered without an upstream call: cached, or an id that is no UUID.
    pub async fn cached_video_log(&self, id: &str) -> Option<Lookup<VideoLog>> {
        self.cached_record::<Video>(id).await
    }

    async fn cached_record<C: Collection>(&self, id: &str) -> Option<Lookup<C::Record>> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Some(Ok(None));
        };
        cached_lookup(&self.cache, &self.record_key::<C>(&uuid)).await
    }

    fn record_key<C: Collection>(&self, uuid: &Uuid) -> Key<Option<Arc<C::Record>>> {
        C::RECORD.key(&self.tenant, Provider::SignalWire, uuid.to_string())
    }

    async fn record<C: Collection>(&self, id: &str) -> Result<Option<Arc<C::Record>>, UpstreamError> {
        let Ok(uuid) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let key = self.record_key::<C>(&uuid);
        let request = PageRequest::new(&format!("{}/{uuid}", C::PATH), []);
        let cached = self
            .cache
            .get_or_fetch(key, async {
                let wire: Option<C::Wire> = self.client.get(&request).await?;
                let record = wire.map(map_record::<C>).transpose()?.map(Arc::new);
                // Another record than the one asked for is a bad answer, and is not cached.
                if let Some(other) = record.as_deref().map(|r| &C::core(r).native_id)
                    && Uuid::parse_str(other).ok() != Some(uuid)
                {
                    let detail = format!("asked for {uuid}, got the record {other:?}");
                    return Err(UpstreamError::bad_response(Provider::SignalWire, detail));
                }
                let ttl = self.record_ttl::<C>(record.as_deref());
                Ok::<_, UpstreamError>((record, ttl))
            })
            .await?;
        Ok((*cached).clone())
    }

    fn record_ttl<C: Collection>(&self, record: Option<&C::Record>) -> Duration {
        self.cache.ttls().for_record(record.map(|r| C::core(r).is_final()))
    }

    fn first_page<C: Collection>(&self, filter: &ListFilter) -> PageRequest {
        let mut query = vec![("page_size", self.page_size.to_string())];
        let stamp = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        if let Some(t) = &filter.created_after {
            query.push(("created_after", stamp(t)));
        }
        if let Some(t) = &filter.created_before {
            query.push(("created_before", stamp(t)));
        }
        if let Some(day) = &filter.created_on {
            query.push(("created_on", day.format("%Y-%m-%d").to_string()));
        }
        if filter.include_deleted {
            query.push(("include_deleted", "true".to_string()));
        }
        PageRequest::new(C::PATH, query)
    }

    async fn window<C: Collection>(
        &self,
        filter: &ListFilter,
        after: Option<Position>,
        first: usize,
    ) -> Result<Window<C::Record>, UpstreamError> {
        paging::window(self.first_page::<C>(filter), after, first, |request| {
            self.page::<C>(request)
        })
        .await
    }

    /// One upstream page through the cache; a fetched page primes the by-id cache.
    async fn page<C: Collection>(&self, request: PageRequest) -> Result<Arc<Page<C::Record>>, UpstreamError> {
        let key = C::PAGE.key(&self.tenant, Provider::SignalWire, request.as_str());
        self.cache
            .get_or_fetch(key, async {
                let envelope: ListEnvelope<SentRows<C::Wire>> = self.client.get(&request).await?.ok_or_else(|| {
                    UpstreamError::bad_response(
                        Provider::SignalWire,
                        format!("GET {}: 404 on a list", request.as_str()),
                    )
                })?;
                let rows = read_rows(Provider::SignalWire, envelope.data, &["id"], C::Record::try_from);
                let (items, unreadable) = rows.into_places();
                let next = match envelope.links.next.as_deref() {
                    Some(link) if !link.is_empty() => Some(PageRequest::from_link(self.client.origin(), link)?),
                    _ => None,
                };
                let key =
                    |r: &C::Record| C::RECORD.key(&self.tenant, Provider::SignalWire, C::core(r).native_id.as_str());
                self.cache.prime(&items, key, |r| C::core(r).is_final()).await;
                let page = Page {
                    items,
                    next,
                    unreadable,
                };
                Ok::<_, UpstreamError>((page, self.cache.ttls().page))
            })
            .await
    }
}

fn map_record<C: Collection>(wire: C::Wire) -> Result<C::Record, UpstreamError> {
    C::Record::try_from(wire).map_err(|e| UpstreamError::bad_response(Provider::SignalWire, e.to_string()))
}
